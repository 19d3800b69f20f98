#!/usr/bin/env bash
# Holes and the sparse record.  A file written through the page cache
# reaches the daemon as several WRITEs at once, and now and then one lands
# before the one below it.  The gap that leaves must not give the file a
# sparse record: in a file with one, any extent can be zeroed on disk and
# reads back as zeros without an error.  Holes a file really has are
# recorded by fsync or close, and read as zeros after a remount.
. "$(dirname "$0")/lib.sh"

E=4096
D=$((E + 28))
C=$WORK/c M=$WORK/m

has_record() {
	getfattr --absolute-names -n user.atrestfs.sparse "$1" >/dev/null 2>&1
}

# gapper FILE MODE: write 4 KiB of 'B' at 1 MiB and push it to the daemon
# alone (sync_file_range), so it sees a write past a 1 MiB gap; check that
# the gap reads as zeros and SEEK_HOLE finds it; then MODE:
#   fill   write the 1 MiB of 'A' below and push it too, then close
#   close  close with the gap
#   fsync  fsync with the gap, and check the record is on disk (BACKING)
gapper() {
	python3 - "$@" <<'EOF'
import ctypes, os, sys

path, mode = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64,
                                 ctypes.c_int64, ctypes.c_uint]
MIB = 1 << 20

def push(fd, off, n):
    # SYNC_FILE_RANGE_WAIT_BEFORE | WRITE | WAIT_AFTER: a WRITE, no FSYNC
    if libc.sync_file_range(fd, off, n, 7) != 0:
        raise OSError(ctypes.get_errno(), "sync_file_range " + path)

fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(fd, b"B" * 4096, MIB)
push(fd, MIB, 4096)
if os.pread(fd, 8192, 4096) != bytes(8192):
    sys.exit("%s: the gap does not read as zeros" % path)
if os.lseek(fd, 0, os.SEEK_HOLE) != 0:
    sys.exit("%s: SEEK_HOLE does not find the gap" % path)
if mode == "fill":
    os.pwrite(fd, b"A" * MIB, 0)
    push(fd, 0, MIB)
elif mode == "fsync":
    os.fsync(fd)
    try:
        os.getxattr(sys.argv[3], "user.atrestfs.sparse")
    except OSError as e:
        sys.exit("%s: no sparse record after fsync (%s)" % (path, e))
os.close(fd)
EOF
}

new_volume "$C"
mount_vol "$C" "$M"

# 1. Files written in order, in 1 MiB requests, many at once: no record.
head -c $((32 << 20)) /dev/urandom >"$WORK/src" || fail "random source"
for i in 1 2 3 4; do
	dd if="$WORK/src" of="$M/big$i" bs=1M conv=fsync status=none || fail "dd big$i"
done
for i in 1 2 3 4; do
	has_record "$C/big$i" && fail "big$i, written in order, has a sparse record"
	cmp "$WORK/src" "$M/big$i" || fail "big$i reads back wrong"
done
ok "4 x 32 MiB written back out of order now and then: no sparse record"

# 2. A gap the daemon saw, filled before close: no record.
gapper "$M/filled" fill || fail "gap filled before close"
has_record "$C/filled" && fail "a gap filled before close left a sparse record"
{ head -c $((1 << 20)) /dev/zero | tr '\0' A; head -c 4096 /dev/zero | tr '\0' B; } >"$WORK/filled"
cmp "$WORK/filled" "$M/filled" || fail "filled reads back wrong"
ok "a gap read as zeros while open, filled before close: no sparse record"

# 3. and 4. A gap kept: recorded at close, or at fsync.
gapper "$M/kept" close || fail "gap kept at close"
has_record "$C/kept" || fail "a gap kept at close has no sparse record"
gapper "$M/synced" fsync "$C/synced" || fail "gap kept at fsync"
{ head -c $((1 << 20)) /dev/zero; head -c 4096 /dev/zero | tr '\0' B; } >"$WORK/kept"
ok "a gap kept is recorded by close and by fsync"
unmount_vol "$M"

# 5. After a remount: the holes read as zeros; an extent zeroed on disk in
# a file without a record is refused.
dd if=/dev/zero of="$C/big2" bs=$D seek=3000 count=1 conv=notrunc status=none
mount_vol "$C" "$M"
cmp "$WORK/kept" "$M/kept" || fail "kept reads back wrong after a remount"
cmp "$WORK/kept" "$M/synced" || fail "synced reads back wrong after a remount"
[ "$(python3 -c 'import os,sys; print(os.lseek(os.open(sys.argv[1], os.O_RDONLY), 0, os.SEEK_HOLE))' "$M/kept")" = 0 ] ||
	fail "SEEK_HOLE misses the hole of kept after a remount"
expect_eio cat "$M/big2"
grep -q "$C/big2: extent 3000 is zeroed" "$M.log" || fail "no log line for big2: $(cat "$M.log")"
cmp "$WORK/src" "$M/big3" || fail "big3 damaged"
unmount_vol "$M"
ok "holes read as zeros after a remount; a zeroed extent of big2 is refused with EIO"
