#!/usr/bin/env bash
# Holes and the sparse record.  A file written through the page cache
# reaches the daemon as several WRITEs at once, and now and then one lands
# before the one below it.  The gap that leaves must not give the file a
# sparse record: in a file with one, any extent can be zeroed on disk and
# reads back as zeros without an error.  Holes a file really has are
# recorded by fsync, close, or the daemon's stop, and read as zeros after
# a remount.
. "$(dirname "$0")/lib.sh"

E=4096
D=$((E + 28))
C=$WORK/c M=$WORK/m

has_record() {
	getfattr --absolute-names -n user.atrestfs.sparse "$1" >/dev/null 2>&1
}

# gapper FILE BACKING MODE: write 4 KiB of 'B' at 1 MiB and push it to
# the daemon alone (sync_file_range), so that it sees a write past a 1 MiB
# gap; check that the gap reads as zeros and SEEK_DATA/SEEK_HOLE find it;
# then MODE:
#   fill      write the 1 MiB of 'A' below, push it too, close
#   close     close with the gap
#   fsync     fsync (fdatasync) with the gap: the record is there at once
#   fdatasync
#   truncate  cut the file to 512 KiB, inside the gap, then close
#   punch     punch 8 KiB at 8 KiB, in the gap: the record is there at once
#   many      NGAPS more gaps, one past the other, more than the daemon
#             lists apart (it merges the nearest): still no record until
#             close
#   manyfill  the same, then fill them all, the first from its middle out
#             (a range that cannot split stays listed whole): close finds
#             no hole on disk
#   chmod     fchmod 0444: the record is there at once (a daemon not
#             running as root could not set it on a read-only file)
#   hold      write WORK/held and keep the file open until WORK/release
#             exists (or WORK is gone: the test failed)
gapper() {
	python3 - "$@" <<'EOF'
import ctypes, os, sys, time

path, backing, mode = sys.argv[1:4]
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64,
                                 ctypes.c_int64, ctypes.c_uint]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                           ctypes.c_int64]
MIB = 1 << 20

def push(fd, off, n):
    # SYNC_FILE_RANGE_WAIT_BEFORE | WRITE | WAIT_AFTER: a WRITE, no FSYNC
    if libc.sync_file_range(fd, off, n, 7) != 0:
        raise OSError(ctypes.get_errno(), "sync_file_range " + path)

def recorded():
    try:
        os.getxattr(backing, "user.atrestfs.sparse")
        return True
    except OSError:
        return False

def want_record(why):
    if not recorded():
        sys.exit("%s: no sparse record after %s" % (path, why))

fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(fd, b"B" * 4096, MIB)
push(fd, MIB, 4096)
if os.stat(backing).st_size <= MIB:
    sys.exit("%s: the write past the gap did not reach the daemon" % path)
if recorded():
    sys.exit("%s: recorded before fsync or close" % path)
if os.pread(fd, 8192, 4096) != bytes(8192):
    sys.exit("%s: the gap does not read as zeros" % path)
if os.lseek(fd, 0, os.SEEK_HOLE) != 0 or os.lseek(fd, 0, os.SEEK_DATA) != MIB:
    sys.exit("%s: SEEK_HOLE/SEEK_DATA do not find the gap" % path)
if mode == "fill":
    os.pwrite(fd, b"A" * MIB, 0)
    push(fd, 0, MIB)
elif mode in ("fsync", "fdatasync"):
    os.fsync(fd) if mode == "fsync" else os.fdatasync(fd)
    want_record(mode)
elif mode == "truncate":
    os.ftruncate(fd, MIB // 2)
elif mode == "punch":
    # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    if libc.fallocate(fd, 3, 8192, 8192) != 0:
        raise OSError(ctypes.get_errno(), "punch " + path)
    want_record("a punch")
elif mode in ("many", "manyfill"):
    ngaps = int(os.environ["NGAPS"])
    for i in range(1, ngaps + 1):
        os.pwrite(fd, b"B" * 4096, (2 * i + 1) * MIB)
        push(fd, (2 * i + 1) * MIB, 4096)
    if recorded():
        sys.exit("%s: recorded with %d gaps open" % (path, ngaps + 1))
    if mode == "manyfill":
        for off, n in ((MIB // 4, MIB // 4), (0, MIB // 4),
                       (MIB // 2, MIB // 2)):
            os.pwrite(fd, b"A" * n, off)
            push(fd, off, n)
        for i in range(1, ngaps + 1):
            lo, hi = (2 * i - 1) * MIB + 4096, (2 * i + 1) * MIB
            os.pwrite(fd, b"A" * (hi - lo), lo)
            push(fd, lo, hi - lo)
elif mode == "chmod":
    os.fchmod(fd, 0o444)
    want_record("a chmod")
elif mode == "hold":
    work = os.environ["WORK"]
    open(work + "/held", "w").close()
    for _ in range(600):
        if os.path.exists(work + "/release") or not os.path.isdir(work):
            sys.exit(0)
        time.sleep(0.1)
    sys.exit("%s: never released" % path)
os.close(fd)
EOF
}

new_volume "$C"
mount_vol "$C" "$M"

# 1. Files written in order, in 1 MiB requests, many at once.
head -c $((32 << 20)) /dev/urandom >"$WORK/src" || fail "random source"
for i in 1 2 3 4; do
	dd if="$WORK/src" of="$M/big$i" bs=1M conv=fsync status=none || fail "dd big$i"
done
for i in 1 2 3 4; do
	cmp "$WORK/src" "$M/big$i" || fail "big$i reads back wrong"
done

# 2. Gaps the daemon saw: filled, kept, synced, cut into, punched, many.
# fileio.c lists 32 ranges apart (FIO_GAPS); 40 are more.
for mode in fill close fsync fdatasync truncate punch many manyfill chmod; do
	NGAPS=40 gapper "$M/$mode" "$C/$mode" $mode || fail "gap: $mode"
done
ok "gaps read as zeros and are found by SEEK_DATA/SEEK_HOLE while unrecorded"
unmount_vol "$M"

# RELEASE is sent after close(2) returns: look once the daemon has exited.
for i in 1 2 3 4; do
	has_record "$C/big$i" && fail "big$i, written in order, has a sparse record"
done
ok "4 x 32 MiB written back in 1 MiB requests: no sparse record"
has_record "$C/fill" && fail "a gap filled before close left a sparse record"
has_record "$C/manyfill" && fail "gaps filled from the middle out left a sparse record"
for mode in close fsync fdatasync truncate punch many chmod; do
	has_record "$C/$mode" || fail "$mode: a gap kept has no sparse record"
done
ok "gaps filled before close are not recorded, 41 of them too; one kept is (close, fsync, fdatasync, truncate, punch, 41 gaps, chmod)"

# 3. The daemon stops (SIGTERM) while a file with a gap is open.
mount_vol "$C" "$M"
WORK=$WORK gapper "$M/held" "$C/held" hold 2>"$WORK/holder.err" &
holder=$!
for i in $(seq 100); do [ -e "$WORK/held" ] && break; sleep 0.1; done
[ -e "$WORK/held" ] || fail "the holder did not start: $(cat "$WORK/holder.err")"
kill -TERM "${MPID[$M]}"
timeout 30 tail --pid="${MPID[$M]}" -f /dev/null || fail "daemon did not stop on SIGTERM"
wait "${MPID[$M]}"
rc=$?
unset "MPID[$M]"
[ $rc = 0 ] || fail "daemon exited $rc on SIGTERM: $(cat "$M.log")"
grep -q "Sanitizer\|runtime error" "$M.log" && fail "daemon on SIGTERM: $(cat "$M.log")"
touch "$WORK/release"
wait "$holder"
fusermount3 -u "$M" 2>/dev/null
is_mounted "$M" && fail "$M still mounted after SIGTERM"
has_record "$C/held" || fail "holes of a file open at SIGTERM were not recorded: $(cat "$M.log")"
ok "holes of a file open when the daemon stops are recorded"

# 4. After a remount the holes read as zeros; an extent zeroed on disk in
# a file without a record is refused.
dd if=/dev/zero of="$C/big2" bs=$D seek=3000 count=1 conv=notrunc status=none
mount_vol "$C" "$M"
{ head -c $((1 << 20)) /dev/zero | tr '\0' A; head -c 4096 /dev/zero | tr '\0' B; } >"$WORK/filled"
{ head -c $((1 << 20)) /dev/zero; head -c 4096 /dev/zero | tr '\0' B; } >"$WORK/kept"
cmp "$WORK/filled" "$M/fill" || fail "fill reads back wrong"
for mode in close fsync fdatasync held; do
	cmp "$WORK/kept" "$M/$mode" || fail "$mode reads back wrong after a remount"
done
cmp <(head -c $((1 << 19)) /dev/zero) "$M/truncate" || fail "truncate reads back wrong"
[ "$(python3 -c 'import os,sys; print(os.lseek(os.open(sys.argv[1], os.O_RDONLY), 0, os.SEEK_HOLE))' "$M/close")" = 0 ] ||
	fail "SEEK_HOLE misses the hole of close after a remount"
expect_eio cat "$M/big2"
grep -q "$C/big2: extent 3000 is zeroed" "$M.log" || fail "no log line for big2: $(cat "$M.log")"
cmp "$WORK/src" "$M/big3" || fail "big3 damaged"
unmount_vol "$M"
ok "holes read as zeros after a remount; a zeroed extent of big2 is refused with EIO"
