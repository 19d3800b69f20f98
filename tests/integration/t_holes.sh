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

# 5. FALLOC_FL_ZERO_RANGE (issue 20), with and without KEEP_SIZE: the same
# operations on the mount and on a file of the file system $WORK is on
# (the oracle; one that refuses ZERO_RANGE, as tmpfs does, is modelled
# by a punch and a truncate up).  Within one extent, across extents,
# beyond EOF with and without KEEP_SIZE, on a sparse file, over data still
# in the page cache and in a shared mmap, under an O_APPEND writer; then
# COLLAPSE_RANGE and INSERT_RANGE are refused with EOPNOTSUPP.  Zeroing
# whole extents makes them holes and gives the file a sparse record; zeros
# inside one extent are sealed, so a file without whole extents zeroed
# keeps refusing zeroed extents.
zeroer() {
	python3 - "$@" <<'EOF'
import ctypes, errno, mmap, os, sys

mnt, ref = sys.argv[1:3]
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                           ctypes.c_int64]
KEEP, PUNCH, COLLAPSE, ZERO, INSERT = 1, 2, 8, 0x10, 0x20
E = 4096
rnd = open("/dev/urandom", "rb")

def falloc(fd, mode, off, n, what):
    if libc.fallocate(fd, mode, off, n):
        raise OSError(ctypes.get_errno(), "fallocate %s" % what)

def zero(fd, off, n, keep, what, oracle):
    mode = ZERO | (KEEP if keep else 0)
    if libc.fallocate(fd, mode, off, n) == 0:
        return
    e = ctypes.get_errno()
    if not oracle or e != errno.EOPNOTSUPP:
        raise OSError(e, "zero range %s off %d len %d" % (what, off, n))
    size = os.fstat(fd).st_size
    if off < size:
        falloc(fd, PUNCH | KEEP, off, min(n, size - off), what)
    if not keep and off + n > size:
        os.ftruncate(fd, off + n)

def data(n):
    return rnd.read(n)

# name: (initial contents as (offset, bytes) writes, [(off, len, keep)])
cases = {
    "within":   ([(0, data(4 * E + 100))], [(E + 700, 1000, False)]),
    "edges":    ([(0, data(4 * E + 100))], [(E - 10, 20, False), (3 * E + 1, E - 1, True)]),
    "across":   ([(0, data(10 * E + 100))], [(3000, 7 * E + 500 - 3000, False)]),
    "whole":    ([(0, data(6 * E))], [(E, 3 * E, True)]),
    "tail":     ([(0, data(5 * E + 300))], [(4 * E + 10, 5000, True)]),
    "beyond":   ([(0, data(5000))], [(3000, 20000, False)]),
    "beyondk":  ([(0, data(5000))], [(3000, 20000, True)]),
    "past":     ([(0, data(5000))], [(9 * E + 5, 3 * E, False)]),
    "pastk":    ([(0, data(5000))], [(9 * E + 5, 3 * E, True)]),
    "sparse":   ([(0, data(E + 9)), (20 * E + 3, data(2 * E))],
                 [(E // 2, 10 * E, False), (19 * E, 2 * E + 7, False)]),
    "empty":    ([], [(100, 3 * E, False)]),
}
# Copies for section 6 to tamper with, each its own file.
cases["moved"] = cases["cutend"] = cases["across"]
cases["within0"] = cases["within"]

def make(root, name, writes, ops, oracle):
    fd = os.open(os.path.join(root, name), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    for off, b in writes:
        os.pwrite(fd, b, off)
    for off, n, keep in ops:
        zero(fd, off, n, keep, name, oracle)
    os.close(fd)

for name, (writes, ops) in cases.items():
    make(mnt, name, writes, ops, False)
    make(ref, name, writes, ops, True)

# Data still dirty in the page cache, and in a shared mapping, when its
# range is zeroed: the kernel must not write it back over the zeros.
first = data(8 * E)
for root, oracle in ((mnt, False), (ref, True)):
    fd = os.open(os.path.join(root, "cached"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(fd, b"C" * (8 * E), 0)
    os.fsync(fd)
    os.pwrite(fd, b"D" * (6 * E), E)          # dirty, not written back
    zero(fd, 2 * E + 1, 3 * E, True, "cached", oracle)
    if os.pread(fd, 3 * E, 2 * E + 1) != bytes(3 * E):
        sys.exit("%s/cached: reads data, not zeros, after the zero range" % root)
    os.close(fd)
    fd = os.open(os.path.join(root, "mapped"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(fd, first, 0)
    mm = mmap.mmap(fd, 8 * E)
    mm[E:7 * E] = b"M" * (6 * E)                # dirty pages of the map
    zero(fd, E + 100, 4 * E, False, "mapped", oracle)
    if mm[E + 100:5 * E + 100] != bytes(4 * E):
        sys.exit("%s/mapped: the mapping shows data after the zero range" % root)
    mm[7 * E:7 * E + 5] = b"after"
    mm.flush()
    mm.close()
    os.close(fd)

# An O_APPEND writer: a zero range past the end moves where it writes.
for root, oracle in ((mnt, False), (ref, True)):
    a = os.open(os.path.join(root, "append"), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(a, b"first ")
    b = os.open(os.path.join(root, "append"), os.O_RDWR)
    zero(b, 3, 2 * E, False, "append", oracle)
    os.write(a, b"second")
    zero(b, 100, 5 * E, True, "append", oracle)   # KEEP_SIZE: no move
    os.write(a, b"third")
    os.close(b)
    os.close(a)

# Extents are bound to their index: no range moves.
for mode, what in ((COLLAPSE, "COLLAPSE_RANGE"), (INSERT, "INSERT_RANGE")):
    fd = os.open(os.path.join(mnt, "whole"), os.O_RDWR)
    r = libc.fallocate(fd, mode, E, E)
    e = ctypes.get_errno()
    os.close(fd)
    if r == 0 or e != errno.EOPNOTSUPP:
        sys.exit("%s: %s, not EOPNOTSUPP" % (what, os.strerror(e) if r else "done"))
EOF
}

mount_vol "$C" "$M"
mkdir -p "$WORK/zref"
zeroer "$M" "$WORK/zref" || fail "zero range"
ZNAMES="within edges across whole tail beyond beyondk past pastk sparse empty cached mapped append"
for f in $ZNAMES; do
	cmp "$WORK/zref/$f" "$M/$f" || fail "zero range: $f differs from the oracle"
	[ "$(stat -c %s "$WORK/zref/$f")" = "$(stat -c %s "$M/$f")" ] ||
		fail "zero range: $f has another size than the oracle"
done
unmount_vol "$M"
mount_vol "$C" "$M"
for f in $ZNAMES; do
	cmp "$WORK/zref/$f" "$M/$f" || fail "zero range: $f differs from the oracle after a remount"
done
unmount_vol "$M"
for f in across whole sparse beyond past empty cached mapped append; do
	has_record "$C/$f" || fail "zero range over whole extents of $f left no sparse record"
done
for f in within edges tail beyondk pastk; do
	has_record "$C/$f" && fail "zero range of $f, no whole extent inside the file, gave it a sparse record"
done
ok "zero range (within an extent, across, beyond EOF with and without KEEP_SIZE, sparse, page cache, mmap, O_APPEND) matches the oracle, also after a remount; COLLAPSE_RANGE and INSERT_RANGE are refused"

# 6. Tampering after a zero range.  across: extent 3 is a hole, and zeros
# there on disk are still one; its last extent zeroed, or a data extent
# copied over the hole, is refused.  within: its zeros are sealed (no
# record), so that extent zeroed on disk is refused, as is a data extent.
zext() {	# zext FILE IDX: extent IDX zeroed on disk
	dd if=/dev/zero of="$1" bs=$D seek="$2" count=1 conv=notrunc status=none
}
cmp <(head -c $D /dev/zero) <(dd if="$C/across" bs=$D skip=3 count=1 status=none) ||
	fail "across: the zeroed extent 3 is no hole on disk"
zext "$C/across" 3
dd if="$C/moved" of="$C/moved" bs=$D skip=0 seek=3 count=1 conv=notrunc status=none
zext "$C/cutend" 10
zext "$C/within" 1
zext "$C/within0" 0
mount_vol "$C" "$M"
cmp "$WORK/zref/across" "$M/across" || fail "across: a hole zeroed again on disk reads back wrong"
expect_eio cat "$M/moved"
expect_eio cat "$M/cutend"
expect_eio cat "$M/within"
expect_eio cat "$M/within0"
grep -q "$C/within: extent 1 is zeroed" "$M.log" || fail "no log line for within: $(cat "$M.log")"
grep -q "$C/within0: extent 0 is zeroed" "$M.log" || fail "no log line for within0: $(cat "$M.log")"
unmount_vol "$M"
ok "a zero-ranged hole zeroed on disk reads as zeros; a moved extent, a zeroed last extent and zeroed sealed zeros are refused with EIO"

# 7. A zero range is a new version of the file: the copy from before it,
# put back, is refused, though the range (whole extents: no write) left
# the file's size and last extent as they were: only the version record
# tells.
CR=$WORK/cr MR=$WORK/mr ST=$WORK/state
new_volume "$CR" --state-dir "$ST"
mount_with "$CR" "$MR" --keyfile "$CR.key" --state-dir "$ST"
head -c $((10 * E + 100)) /dev/urandom >"$MR/zr"
unmount_vol "$MR"
cp -a "$CR/zr" "$WORK/zr.v1"
mount_with "$CR" "$MR" --keyfile "$CR.key" --state-dir "$ST"
fallocate -z -n -o $E -l $((3 * E)) "$MR/zr" || fail "zero range of zr"
unmount_vol "$MR"
cp -a "$WORK/zr.v1" "$CR/zr"
mount_with "$CR" "$MR" --keyfile "$CR.key" --state-dir "$ST"
expect_eio cat "$MR/zr"
grep -q "$CR/zr: it is version 2, older than version 3 recorded on this machine" "$MR.log" ||
	fail "zr: no log line for the older copy: $(cat "$MR.log")"
unmount_vol "$MR"
ok "the copy of a file from before a zero range, put back, is refused as an older version"
