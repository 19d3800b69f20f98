#!/usr/bin/env bash
# Bad input from the backing directory.  Each attack is made offline, as an
# attacker with the disk would; then a fresh mount must refuse the damaged
# data with EIO and one log line naming the file (and extent), and go on
# serving every other file.
. "$(dirname "$0")/lib.sh"

E=4096
D=$((E + 28))
C=$WORK/c M=$WORK/m

# copy_extent SRC IDX DST IDX
copy_extent() {
	dd if="$1" of="$3" bs=$D skip="$2" seek="$4" count=1 conv=notrunc status=none
}

new_volume "$C"
mount_vol "$C" "$M"
for f in flip swap cross cut junk short nohdr badhdr zero hdrswap good other; do
	head -c $((3 * E + 100)) /dev/urandom >"$M/$f"
done
ln -s /some/target "$M/link"
setfattr -n user.note -v "a value" "$M/good" || fail setfattr
cp "$M/good" "$WORK/good.expected"
cp "$M/flip" "$WORK/flip.orig"
unmount_vol "$M"

flip_byte "$C/flip" $((D + 500))			# ciphertext of extent 1
copy_extent "$C/swap" 0 "$WORK/tmp" 0
copy_extent "$C/swap" 1 "$C/swap" 0
copy_extent "$WORK/tmp" 0 "$C/swap" 1			# extents 0 and 1 swapped
copy_extent "$C/other" 2 "$C/cross" 2			# extent from another file
truncate -s $((3 * D)) "$C/cut"				# last extent removed
printf 'junk' >>"$C/junk"				# extra bytes
truncate -s $((3 * D + 10)) "$C/short"			# impossible size
setfattr -x user.atrestfs.hdr "$C/nohdr"
hdr=$(xattr_hex "$C/badhdr" user.atrestfs.hdr)
# Flip a bit of header byte 50 (the wrap nonce): setting a fixed value
# would change nothing when the byte already had it.
setfattr -n user.atrestfs.hdr \
	-v "0x${hdr:0:100}$(printf %02x $((0x${hdr:100:2} ^ 1)))${hdr:102}" "$C/badhdr"
dd if=/dev/zero of="$C/zero" bs=$D seek=1 count=1 conv=notrunc status=none
setfattr -n user.atrestfs.hdr -v "0x$(xattr_hex "$C/other" user.atrestfs.hdr)" "$C/hdrswap"
link=$(readlink "$C/link")
ln -sfn "${link%?}A" "$C/link"
[ "$(readlink "$C/link")" != "$link" ] || ln -sfn "${link%?}B" "$C/link"
# An xattr value with a bit flipped.  (Moved unchanged to another file it
# would still open: values are bound to their name, not their file.)
val=$(xattr_hex "$C/good" user.note)
setfattr -n user.note -v "0x${val:0:20}$(printf %02x $((0x${val:20:2} ^ 1)))${val:22}" "$C/other"

mount_vol "$C" "$M"
log=$M.log
# other is read first: hdrswap, which carries its header, is then the
# second inode with that file ID, refused as such.
[ "$(wc -c <"$M/other")" = $((3 * E + 100)) ] || fail "other file"
# Each damaged file: EIO, and a log line naming it and what is wrong.
while read -r f what; do
	expect_eio cat "$M/$f"
	grep -q "$C/$f: $what" "$log" || fail "no log line for $f"
done <<'CASES'
flip extent 1 fails authentication
swap extent 0 fails authentication
cross extent 2 fails authentication
cut extent 2 fails authentication
junk extent 3 fails authentication
short backing size
nohdr no header
badhdr header
zero extent 1 is zeroed
hdrswap its file ID is also the file ID of
CASES
expect_eio readlink -v "$M/link"
grep -q "$C/link: symlink target does not authenticate" "$log" || fail "no log line for link"
expect_eio getfattr -n user.note "$M/other"
grep -q "$C/other: xattr user.note does not authenticate" "$log" || fail "no log line for xattr"
# A read may return the authentic extents before the bad one, never a byte
# of the bad one, and then fails.
dd if="$M/flip" of="$WORK/flip.got" bs=64k status=none 2>/dev/null &&
	fail "reading flip to the end succeeded"
got=$(wc -c <"$WORK/flip.got")
[ "$got" -le $E ] || fail "$got bytes read from flip, past its bad extent 1"
cmp -n "$got" "$WORK/flip.got" "$WORK/flip.orig" || fail "flip prefix differs"
# Everything else is still served, intact.
cmp "$M/good" "$WORK/good.expected" || fail "good file damaged"
[ "$(getfattr --absolute-names --only-values -n user.note "$M/good")" = "a value" ] || fail "good xattr"
[ "$(wc -c <"$M/other")" = $((3 * E + 100)) ] || fail "other file"
# One line per damaged file, whatever the kernel's retries.
n=$(grep -c "$C/" "$log")
[ "$n" = 12 ] || fail "want 12 log lines, got $n: $(cat "$log")"
unmount_vol "$M"
ok "12 attacks refused with EIO, one log line each; other files intact"

# A tampered config: the volume refuses to mount, naming the reason.
cp "$C/atrestfs.conf" "$WORK/conf.orig"
sed -i 's/extent_size = 4096;/extent_size = 8192;/' "$C/atrestfs.conf"
out=$("$ATR" mount --keyfile "$C.key" "$C" "$M" 2>&1) && fail "mounted a tampered config"
rc=$?
[ $rc = 4 ] || fail "tampered config: exit $rc, want 4"
case "$out" in *"fails its MAC check"*) ;; *) fail "tampered config message: $out" ;; esac
cp "$WORK/conf.orig" "$C/atrestfs.conf"
sed -i 's/keyslots = (/bogus = 1;\nkeyslots = (/' "$C/atrestfs.conf"
out=$("$ATR" mount --keyfile "$C.key" "$C" "$M" 2>&1) && fail "mounted a config with an unknown setting"
case "$out" in *"unknown setting 'bogus'"*) ;; *) fail "unknown setting message: $out" ;; esac
ok "tampered config refused"
