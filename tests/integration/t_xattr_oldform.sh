#!/usr/bin/env bash
# xattr values of the form before value IDs (bound to the name only, as
# in the committed v1 fixture) open only on an inode without an ID: an
# inode's first setxattr binds its older values to its new ID, rotate-kek
# (offline and through the mount) gives an ID to every inode with values,
# and an older value copied onto an inode with an ID is then EIO, logged
# with the file and the xattr, and damage for fsck.
. "$(dirname "$0")/lib.sh"

F=$TOP/tests/fixtures
# fixture DIR: the v1 fixture, whose dir/nested.txt has user.comment
# ("fixture") in the older form and no value ID
fixture() {
	mkdir -p "$1"
	tar --xattrs --xattrs-include='user.*' -C "$1" -xf "$F/v1-volume.tar" ||
		fail "untar fixture"
	install -m 600 "$F/v1-volume.key" "$1.key"
	getfattr --absolute-names -n user.atrestfs.vid "$1/dir/nested.txt" \
		>/dev/null 2>&1 && fail "the fixture's file has a value ID"
	return 0
}

# Every copy of the fixture has its UUID: each gets its own state
# directory, so that a rotation here leaves the machine's record of the
# fixture (t_fixture.sh) alone.
mnt() {
	mount_with "$1" "$2" --keyfile "$1.key" --state-dir "$1.st"
}

fsck_vol() {
	"$ATR" fsck -k "$1.key" --state-dir "$1.st" "$1" </dev/null
}

has_vid() {
	getfattr --absolute-names -n user.atrestfs.vid "$1" >/dev/null 2>&1
}

value() {
	getfattr --absolute-names --only-values -n "$2" "$1" 2>&1
}

C=$WORK/c M=$WORK/m
fixture "$C"
OLD=$(xattr_hex "$C/dir/nested.txt" user.comment)
mnt "$C" "$M"
echo b >"$M/B" && setfattr -n user.colour -v good "$M/B" || fail "set B"
unmount_vol "$M"
has_vid "$C/B" || fail "B has no value ID"
# The older value copied onto B, which has an ID: refused.
setfattr -n user.comment -v "0x$OLD" "$C/B" || fail "copy onto B"
mnt "$C" "$M"
[ "$(value "$M/dir/nested.txt" user.comment)" = fixture ] ||
	fail "the older value on its own inode (no ID)"
expect_eio getfattr --absolute-names --only-values -n user.comment "$M/B"
grep -q "B.*xattr user.comment does not authenticate" "$M.log" ||
	fail "no log line naming B and the xattr: $(cat "$M.log")"
[ "$(value "$M/B" user.colour)" = good ] || fail "B's own value"
unmount_vol "$M"
fsck_vol "$C" >"$WORK/fsck.out" 2>&1
[ $? = 6 ] || fail "fsck: $(cat "$WORK/fsck.out")"
grep -q "B.*xattr user.comment: a value of the form before value IDs" \
	"$WORK/fsck.out" || fail "fsck: $(cat "$WORK/fsck.out")"
ok "an older value copied onto an inode with a value ID is EIO, logged, and damage for fsck"

# The first setxattr binds the inode's older values: they read on, and
# their backing form is the bound one (no longer the old bytes).
setfattr -x user.comment "$C/B"
mnt "$C" "$M"
setfattr -n user.other -v x "$M/dir/nested.txt" || fail "setxattr nested"
[ "$(value "$M/dir/nested.txt" user.comment)" = fixture ] ||
	fail "older value after the first setxattr"
unmount_vol "$M"
has_vid "$C/dir/nested.txt" || fail "nested.txt got no value ID"
[ "$(xattr_hex "$C/dir/nested.txt" user.comment)" != "$OLD" ] ||
	fail "the older value was not re-sealed bound"
fsck_vol "$C" >"$WORK/fsck.out" 2>&1 ||
	fail "fsck after binding: $(cat "$WORK/fsck.out")"
ok "an inode's first setxattr re-seals its older values bound to its new ID"

# A making interrupted (a crash after the pending ID, before the values
# were bound): the values still read, and the next setxattr finishes.
C=$WORK/p M=$WORK/mp
fixture "$C"
setfattr -n user.atrestfs.vidnew -v 0x000102030405060708090a0b0c0d0e0f \
	"$C/dir/nested.txt" || fail "pending ID"
mnt "$C" "$M"
[ "$(value "$M/dir/nested.txt" user.comment)" = fixture ] ||
	fail "older value with a pending ID"
setfattr -n user.other -v y "$M/dir/nested.txt" || fail "setxattr pending"
[ "$(value "$M/dir/nested.txt" user.comment)" = fixture ] ||
	fail "older value after the pending ID was finished"
unmount_vol "$M"
[ "$(xattr_hex "$C/dir/nested.txt" user.atrestfs.vid)" = 000102030405060708090a0b0c0d0e0f ] ||
	fail "the pending ID did not become the inode's"
getfattr --absolute-names -n user.atrestfs.vidnew "$C/dir/nested.txt" \
	>/dev/null 2>&1 && fail "the pending ID was left"
ok "an interrupted binding reads on and is finished by the next setxattr"

# rotate-kek, offline then through the mount, gives an ID to every inode
# with values, so none reads the older form after it.
for how in offline online; do
	C=$WORK/r-$how M=$WORK/mr-$how
	fixture "$C"
	if [ $how = offline ]; then
		"$ATR" rotate-kek -q --keyfile "$C.key" --state-dir "$C.st" "$C" </dev/null \
			2>"$WORK/rot.err" || fail "rotate-kek: $(cat "$WORK/rot.err")"
		mnt "$C" "$M"
	else
		mnt "$C" "$M"
		"$ATR" rotate-kek -q --keyfile "$C.key" --state-dir "$C.st" "$M" </dev/null \
			2>"$WORK/rot.err" || fail "rotate-kek $M: $(cat "$WORK/rot.err")"
	fi
	[ "$(value "$M/dir/nested.txt" user.comment)" = fixture ] ||
		fail "$how: the value after rotate-kek"
	unmount_vol "$M"
	has_vid "$C/dir/nested.txt" || fail "$how: rotate-kek made no value ID"
	fsck_vol "$C" >"$WORK/fsck.out" 2>&1 ||
		fail "$how: fsck after rotate-kek: $(cat "$WORK/fsck.out")"
	ok "$how rotate-kek gives a value ID to an inode with older values and binds them"
done
