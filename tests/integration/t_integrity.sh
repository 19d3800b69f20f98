#!/usr/bin/env bash
# Changes an attacker with write access to the backing directory could once
# make undetected (issue 16): a sparse record signed over data, extents
# moved between files through a copied header, a file cut to zero bytes,
# and one file's header on two files.  Each must now end in EIO and one log
# line naming the file; what users do through the mount (truncate to zero,
# O_TRUNC, hard links) must still work.
. "$(dirname "$0")/lib.sh"
declare -A xhdr xver

E=4096
D=$((E + 28))
C=$WORK/c M=$WORK/m

xattr_hex() {
	getfattr --absolute-names -e hex -n "$2" "$1" 2>/dev/null | sed -n "s/^$2=0x//p"
}

has_record() {
	getfattr --absolute-names -n user.atrestfs.sparse "$1" >/dev/null 2>&1
}

# log_count MNT TEXT: lines of the daemon's log that contain TEXT
log_count() {
	grep -cF -- "$2" "$1.log"
}

new_volume "$C"
mount_vol "$C" "$M"

# 1. Gaps are tracked exactly.  O_DIRECT writes reach the daemon in order:
# extent 0, then 2, 4, ..., 66 (33 one-extent gaps, more than a short
# list holds apart), then 1, 3, ..., 65.  While the file is still open the
# attacker zeroes backing extent 64; at close the daemon must not find a
# "hole" there and sign a sparse record over data.
python3 - "$M/gaps" "$C/gaps" <<'EOF' || fail "O_DIRECT writer"
import mmap, os, sys
path, backing = sys.argv[1:3]
E, D = 4096, 4096 + 28
buf = mmap.mmap(-1, E)
buf.write(b'A' * E)
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644)
def put(i):
    assert os.pwritev(fd, [buf], i * E) == E
put(0)
for i in range(2, 67, 2):
    put(i)
for i in range(1, 66, 2):
    put(i)
b = os.open(backing, os.O_WRONLY)
os.pwrite(b, bytes(D), 64 * D)
os.close(b)
os.close(fd)
EOF
has_record "$C/gaps" && fail "a file without holes got a sparse record"
ok "33 gaps filled, extent zeroed while open: no sparse record at close"

# 2. A copied header.  The attacker keeps the header and version record of
# the empty files W and W2, and later gives them to the empty files Y and
# Y2.  Data then written to them must not be sealed under W's or W2's file
# ID, or their extents would read as W's.  (X's header once it holds data
# is refused on an empty file.  A second copy of W's, or a copy of X's
# from while X was empty, is refused too: once written through, their ID
# is one a file left, recorded on this machine.)
: >"$M/X"
: >"$M/W"
: >"$M/W2"
unmount_vol "$M"
for w in W W2; do
	xhdr[$w]=$(xattr_hex "$C/$w" user.atrestfs.hdr)
	xver[$w]=$(xattr_hex "$C/$w" user.atrestfs.ver)
	[ -n "${xhdr[$w]}" ] && [ -n "${xver[$w]}" ] ||
		fail "no header or version record on $w"
done
mount_vol "$C" "$M"
head -c $((3 * E)) /dev/urandom >"$M/X"
: >"$M/Y"
: >"$M/Y2"
: >"$M/Z"
# 3. Cut to zero: data, and a file emptied through the mount.
head -c $((2 * E + 7)) /dev/urandom >"$M/cut"
head -c $((E + 1)) /dev/urandom >"$M/emptied"
truncate -s 0 "$M/emptied"
head -c 100 /dev/urandom >"$M/otrunc"
: >"$M/otrunc"
: >"$M/empty"
head -c 100 /dev/urandom >"$M/refill"
truncate -s 0 "$M/refill"
echo "second life" >>"$M/refill"
# 4. A whole copy of a file in the backing directory, and a hard link.
head -c $((E + 3)) /dev/urandom >"$M/orig"
cp "$M/orig" "$WORK/orig.expected"
ln "$M/orig" "$M/hardlink" || fail "hard link"
head -c $((E + 5)) /dev/urandom >"$M/repl"
cp "$M/repl" "$WORK/repl.expected"
# 5. A bad header, read many times.
head -c 10 /dev/urandom >"$M/badhdr"
# 6. Emptied and its header removed; a regular file made by mknod(2).
head -c 100 /dev/urandom >"$M/nohdr"
python3 -c 'import os, stat, sys; os.mknod(sys.argv[1], 0o640 | stat.S_IFREG)' "$M/node" ||
	fail "mknod of a regular file"
unmount_vol "$M"
getfattr -n user.atrestfs.hdr "$C/node" >/dev/null 2>&1 ||
	fail "a regular file made by mknod has no header"
truncate -s 0 "$C/nohdr"
setfattr -x user.atrestfs.hdr "$C/nohdr"

[ $((0x$(xattr_hex "$C/X" user.atrestfs.hdr | cut -c13-14) & 1)) = 1 ] ||
	fail "a file with data lacks the data flag in its header"
[ $((0x$(xattr_hex "$C/empty" user.atrestfs.hdr | cut -c13-14) & 1)) = 0 ] ||
	fail "an empty file has the data flag"
for y in Y Y2; do
	w=W${y#Y}
	setfattr -n user.atrestfs.hdr -v "0x${xhdr[$w]}" "$C/$y"
	setfattr -n user.atrestfs.ver -v "0x${xver[$w]}" "$C/$y"
done
setfattr -n user.atrestfs.hdr -v "0x$(xattr_hex "$C/X" user.atrestfs.hdr)" "$C/Z"
truncate -s 0 "$C/cut"
cp -a "$C/orig" "$C/copy"
getfattr -n user.atrestfs.hdr "$C/copy" >/dev/null 2>&1 || fail "cp -a kept no header"
hdr=$(xattr_hex "$C/badhdr" user.atrestfs.hdr)
setfattr -n user.atrestfs.hdr -v "0x${hdr:0:100}$(printf %02x $((0x${hdr:100:2} ^ 1)))${hdr:102}" "$C/badhdr"

mount_vol "$C" "$M"
# Y: first write with no O_TRUNC; Y2: through O_TRUNC.
printf 'evil%.0s' $(seq 1024) | dd of="$M/Y" conv=notrunc status=none || fail "write Y"
printf 'evil%.0s' $(seq 1024) >"$M/Y2" || fail "write Y2"
expect_eio cat "$M/cut"
[ "$(grep -F "$C/cut" "$M.log" | grep -cE "cut to zero bytes|shorter than its version record")" = 1 ] ||
	fail "no log line for the cut file: $(cat "$M.log")"
ok "a file cut to zero bytes in the backing directory: EIO and one log line"
expect_eio cat "$M/Z"
ok "the header of a file with data on an empty file: EIO"
expect_eio cat "$M/nohdr"
[ "$(grep -F "$C/nohdr" "$M.log" | grep -cF "no header")" = 1 ] ||
	fail "no log line for the emptied headerless file"
[ -z "$(cat "$M/node")" ] || fail "the mknod file does not read as empty"
ok "emptied with its header removed: EIO on a format 2 volume; mknod files have a header"
[ ! -s "$M/emptied" ] && [ ! -s "$M/otrunc" ] && [ ! -s "$M/empty" ] ||
	fail "files emptied through the mount are not empty"
cat "$M/emptied" "$M/otrunc" "$M/empty" >/dev/null || fail "empty files do not read"
[ "$(cat "$M/refill")" = "second life" ] || fail "refilled file reads wrong"
ok "truncate to zero, O_TRUNC and a refill through the mount read back"
cmp "$M/orig" "$WORK/orig.expected" || fail "orig reads wrong"
cmp "$M/hardlink" "$WORK/orig.expected" || fail "hard link reads wrong"
expect_eio cat "$M/copy"
n=$(grep -F "$C/copy" "$M.log" | grep -cF "also the file ID of $C/orig")
[ "$n" = 1 ] || fail "log line does not name both files: $(cat "$M.log")"
ok "one file's header on a second file: EIO, one log line naming both; hard links fine"
# A backing file replaced by a copy renamed over it (rsync, sync clients)
# while the old one is still open: the copy takes the file ID over.
exec 7<"$M/repl"
cp -a "$C/repl" "$C/.repl.tmp" && mv "$C/.repl.tmp" "$C/repl" || fail "replace repl"
sleep 1.2	# past the entry timeout: the next open looks the name up again
cmp "$M/repl" "$WORK/repl.expected" || fail "a replaced file while the old one is open"
exec 7<&-
ok "a file replaced in the backing directory while open elsewhere reads back"
for i in $(seq 50); do cat "$M/badhdr" 2>/dev/null; done
[ "$(log_count "$M" "badhdr")" = 1 ] || fail "a bad header was logged $(log_count "$M" badhdr) times"
ok "a bad header read 50 times: one log line"
unmount_vol "$M"

# The attacker now moves Y's extents into X.
for y in Y Y2; do
	w=W${y#Y}
	[ "$(xattr_hex "$C/$y" user.atrestfs.hdr | cut -c33-64)" != "$(echo "${xhdr[$w]}" | cut -c33-64)" ] ||
		fail "$y's data was sealed under the file ID of $w's copied header"
done
dd if="$C/Y" of="$C/X" bs=$D count=1 conv=notrunc status=none
dd if="$C/Y2" of="$C/X" bs=$D skip=0 seek=1 count=1 conv=notrunc status=none
mount_vol "$C" "$M"
expect_eio cat "$M/X"
printf 'evil%.0s' $(seq 1024) | cmp - "$M/Y" || fail "Y reads wrong"
printf 'evil%.0s' $(seq 1024) | cmp - "$M/Y2" || fail "Y2 reads wrong"
ok "a header copied onto an empty file: its data gets a file ID of its own"
# The extent zeroed in case 1 is an error, not zeros.
dd if="$M/gaps" of=/dev/null bs=$E skip=64 count=1 iflag=direct status=none 2>/dev/null &&
	fail "a zeroed extent of a file without holes read back"
ok "the zeroed extent of case 1 reads as EIO"
unmount_vol "$M"

# A format 1 volume (the committed fixture) still takes a headerless empty
# file for an empty file: its files could get their header lazily.
C1=$WORK/v1
mkdir -p "$C1"
tar --xattrs --xattrs-include='user.*' -C "$C1" -xf "$TOP/tests/fixtures/v1-volume.tar" ||
	fail "untar fixture"
install -m 600 "$TOP/tests/fixtures/v1-volume.key" "$C1.key"
: >"$C1/made-outside"
mount_vol "$C1" "$M"
[ -z "$(cat "$M/made-outside")" ] || fail "a headerless empty file on format 1"
unmount_vol "$M"
grep -q '^format_version = 1;' "$C1/atrestfs.conf" || fail "the fixture's format changed"
ok "format 1: a headerless empty file is still an empty file"

# The root key may not live inside the volume: it would travel with every
# backup and copy of it.  Refused at init, keyslot add and mount, whatever
# the path (a symlink into the volume too), for key files, PIN and
# passphrase files alike.
CK=$WORK/ck
mkdir -p "$CK"
expect 3 "is inside the volume" "$ATR" init -q --keyfile "$CK/vol.key" "$CK"
[ ! -e "$CK/vol.key" ] || fail "init wrote a key file inside the volume"
[ ! -e "$CK/atrestfs.conf" ] || fail "init made a volume with its key inside"
ln -s "$CK" "$WORK/ck-link"
expect 3 "is inside the volume" "$ATR" init -q --keyfile "$WORK/ck-link/k" "$CK"
# Relative, from inside the volume, and through a bind mount of it.
(cd "$CK" && expect 3 "is inside the volume" "$ATR" init -q --keyfile v.key .) || fail "relative key file"
[ ! -e "$CK/v.key" ] || fail "init wrote a relative key file inside the volume"
mkdir -p "$WORK/ck-bind"
mount --bind "$CK" "$WORK/ck-bind" || fail "bind mount"
MOUNTS+=("$WORK/ck-bind")
expect 3 "is inside the volume" "$ATR" init -q --keyfile "$WORK/ck-bind/b.key" "$CK"
umount "$WORK/ck-bind"
new_volume "$CK"
install -m 600 "$CK.key" "$CK/copy.key"
expect 3 "is inside the volume" "$ATR" mount --keyfile "$CK/copy.key" "$CK" "$M"
(cd "$CK" && expect 3 "is inside the volume" "$ATR" mount --keyfile copy.key . "$M") || fail "relative key file at mount"
is_mounted "$M" && fail "mounted with a key file inside the volume"
printf 'a passphrase\n' >"$CK/pass"
chmod 600 "$CK/pass"
expect 3 "is inside the volume" "$ATR" keyslot add --keyfile "$CK.key" \
	--new-provider passphrase --passfile "$CK/pass" "$CK"
expect 3 "is inside the volume" "$ATR" keyslot add --keyfile "$CK.key" \
	--new-provider keyfile --new-keyfile "$CK/second.key" "$CK"
[ "$("$ATR" keyslot list "$CK" | grep -c keyfile)" = 1 ] || fail "a keyslot was added"
ok "a key, passphrase file or PIN file inside the volume: refused at init, mount, keyslot add"

# suid and dev: modes are plaintext in the backing directory.
CS=$WORK/cs MS=$WORK/ms
new_volume "$CS"
mount_with "$CS" "$MS" --keyfile "$CS.key" -o suid,dev
grep -q "warning: -o suid: set-ID bits are plaintext" "$MS.log" || fail "no warning for -o suid: $(cat "$MS.log")"
grep -q "warning: -o dev: device nodes are plaintext" "$MS.log" || fail "no warning for -o dev"
grep -F " $MS fuse.atrestfs " /proc/mounts | grep -q nosuid && fail "-o suid was not honoured"
unmount_vol "$MS"
mount_vol "$CS" "$MS"
grep -q "warning: -o" "$MS.log" && fail "a warning without -o suid or dev: $(cat "$MS.log")"
grep -F " $MS fuse.atrestfs " /proc/mounts | grep -q nosuid || fail "nosuid is not the default"
unmount_vol "$MS"
ok "-o suid and -o dev mount with a warning on why; nosuid,nodev by default"

# Changes made in the backing directory while a file is open for writing
# (review): the daemon is the only writer, so a backing size or a last
# extent it did not leave is refused at once, and the file's version
# record says so for good (a dirty record left by the write in progress
# would otherwise pass the damage as a crash's after a remount).  No
# sparse record is signed over the cut.  Then: no old extent, nor old
# sparse record, is accepted after a refill; format 1 headers keep flags 0.
CO=$WORK/co MO=$WORK/mo
new_volume "$CO"
mount_vol "$CO" "$MO"
python3 - "$MO/live" "$CO/live" "$MO/log" "$CO/log" <<'PY' || fail "writers"
import errno, mmap, os, sys
E, D = 4096, 4096 + 28
path, backing, logp, logb = sys.argv[1:5]
buf = mmap.mmap(-1, E)
buf.write(b'A' * E)
# A cut to zero under a writer.
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644)
for i in range(3):
    assert os.pwritev(fd, [buf], i * E) == E
os.truncate(backing, 0)
try:
    os.pwritev(fd, [buf], 3 * E)
    sys.exit("a write after the cut succeeded")
except OSError as e:
    assert e.errno == errno.EIO, e
os.close(fd)
# A log's tail put back under its writer: records 1..3 fsync'd, a copy of
# the backing file taken, records 4..6 fsync'd, the copy put back.
fd = os.open(logp, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(1, 4):
    os.write(fd, b'record %d\n' % i)
    os.fsync(fd)
with open(logb, 'rb') as f:
    old = f.read()
for i in range(4, 7):
    os.write(fd, b'record %d\n' % i)
    os.fsync(fd)
with open(logb, 'r+b') as f:
    f.truncate(0)
    f.write(old)
try:
    os.write(fd, b'record 7\n')
    os.fsync(fd)
    sys.exit("an append after the rollback succeeded")
except OSError as e:
    assert e.errno == errno.EIO, e
os.close(fd)
PY
getfattr -n user.atrestfs.sparse "$CO/live" >/dev/null 2>&1 && fail "a sparse record was signed over a cut"
# Empty and refill within one mount: extents from before the cut must not
# come back (a new file ID), nor a sparse record the old content had.
head -c 12000 /dev/zero | tr '\0' O >"$MO/refill"
head -c 40000 /dev/urandom >"$MO/refill2"
fallocate -p -o 4096 -l 4096 "$MO/refill2" || fail "punch"
sync
cp "$CO/refill" "$WORK/refill.old"
head -c 12000 /dev/zero | tr '\0' N >"$MO/refill"
head -c 40000 /dev/urandom >"$MO/refill2"
cp "$MO/refill2" "$WORK/refill2.expected"
# The last extent put back at the same size while a writer has the file.
python3 - "$MO/tail" "$CO/tail" <<'PY' || fail "tail writer"
import errno, os, sys
path, backing = sys.argv[1:3]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b'a' * 6000, 0)
os.fsync(fd)
with open(backing, 'rb') as f:
    old = f.read()
os.pwrite(fd, b'new-' * 400, 4096)
os.fsync(fd)
with open(backing, 'r+b') as f:
    f.write(old)
import mmap
rd = os.open(path, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
try:
    os.preadv(rd, [buf], 4096)
    sys.exit("a put-back last extent read back")
except OSError as e:
    assert e.errno == errno.EIO, e
os.close(rd)
os.close(fd)
PY
# truncate(2) by name settles the file like a close.
: >"$MO/bypath"
python3 -c 'import os, sys; os.truncate(sys.argv[1], 100000)' "$MO/bypath" || fail "truncate by path"
unmount_vol "$MO"
[ "$(grep -cF "changed in the backing directory while it was open" "$MO.log")" -ge 1 ] ||
	grep -qF "size changed in the backing directory while it was open" "$MO.log" ||
	fail "no log line for the cut under a writer: $(cat "$MO.log")"
truncate -s 0 "$CO/bypath"
mount_vol "$CO" "$MO"
expect_eio cat "$MO/live"
expect_eio cat "$MO/log"
expect_eio cat "$MO/bypath"
expect_eio cat "$MO/tail"
cmp "$MO/refill2" "$WORK/refill2.expected" || fail "refill2 reads wrong"
grep -qF "$CO/live: it was changed in the backing directory while it was open" "$MO.log" ||
	fail "the cut file is not refused for what it is after a remount: $(cat "$MO.log")"
unmount_vol "$MO"
dd if="$WORK/refill.old" of="$CO/refill" bs=4124 count=1 conv=notrunc status=none
dd if=/dev/zero of="$CO/refill2" bs=4124 seek=3 count=1 conv=notrunc status=none
mount_vol "$CO" "$MO"
expect_eio head -c 8 "$MO/refill"
expect_eio cat "$MO/refill2"
unmount_vol "$MO"
ok "cut or rolled back under a writer: EIO at once and after a remount; after a refill no old extent nor old sparse record is accepted"

# A format 1 volume's headers keep flags 0: older atrestfs read them.
C1B=$WORK/v1b
mkdir -p "$C1B"
tar --xattrs --xattrs-include='user.*' -C "$C1B" -xf "$TOP/tests/fixtures/v1-volume.tar" ||
	fail "untar fixture"
install -m 600 "$TOP/tests/fixtures/v1-volume.key" "$C1B.key"
mount_vol "$C1B" "$M"
head -c 5000 /dev/urandom >"$M/new-in-v1"
printf 'more\n' >>"$M/small.txt"
unmount_vol "$M"
for f in new-in-v1 small.txt; do
	[ "$(xattr_hex "$C1B/$f" user.atrestfs.hdr | cut -c13-16)" = 0000 ] ||
		fail "format 1 file $f got header flags"
	getfattr -n user.atrestfs.ver "$C1B/$f" >/dev/null 2>&1 &&
		fail "format 1 file $f got a version record"
done
ok "format 1: headers keep flags 0, no version records"
