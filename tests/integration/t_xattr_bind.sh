#!/usr/bin/env bash
# User xattr values are bound to their inode (its value ID, made at its
# first setxattr): a sealed value copied in the backing directory onto
# another file or directory, under the same backing name, is EIO with a
# log line naming the xattr, on volumes with plain and with encrypted
# names (there listxattr leaves it out); fsck finds it.  The genuine
# values read after a remount, an offline rekey and a rotate-kek, and
# an inode's value ID is not visible through the mount.
. "$(dirname "$0")/lib.sh"

# bpath CIPHER PATH: the backing path of PATH in the mount
bpath() {
	local p
	p=$("$ATR" path -k "$1.key" "$1" "$2") || fail "atrestfs path $2"
	echo "$1/${p%%$'\n'*}"
}

# copy_value CIPHER FROM TO NAME: NAME's backing value of FROM onto TO
copy_value() {
	local v
	v=$(xattr_hex "$(bpath "$1" "$2")" "$4")
	[ -n "$v" ] || fail "no backing value $4 on $2"
	setfattr -n "$4" -v "0x$v" "$(bpath "$1" "$3")" || fail "copy $4 onto $3"
}

# bname CIPHER: the backing name of the only user xattr of f1
bname() {
	getfattr --absolute-names -d -m '^user\.' "$(bpath "$1" f1)" |
		sed -n 's/^\(user\.[^=]*\)=.*/\1/p' |
		grep -v -e '^user\.atrestfs\.hdr$' -e '^user\.atrestfs\.vid$' \
			-e '^user\.atrestfs\.ver$' -e '^user\.atrestfs\.sparse$'
}

for names in plain encrypted; do
	C=$WORK/c-$names M=$WORK/m-$names
	new_volume "$C" --names "$names"
	mount_vol "$C" "$M"
	echo one >"$M/f1" && echo two >"$M/f2" && echo three >"$M/f3" &&
		mkdir "$M/d1" "$M/d2" || fail "$names: files"
	setfattr -n user.colour -v blue "$M/f1" &&
		setfattr -n user.colour -v green "$M/f2" &&
		setfattr -n user.size -v big "$M/f3" &&
		setfattr -n user.colour -v red "$M/d1" &&
		setfattr -n user.other -v x "$M/d2" || fail "$names: setfattr"
	getfattr --absolute-names -d -m - "$M/f1" | grep -q "^user\.atrestfs" &&
		fail "$names: the value ID shows through the mount"
	unmount_vol "$M"
	[ "$names" = plain ] && B=user.colour || B=$(bname "$C")
	[ -n "$B" ] || fail "$names: no backing name for user.colour"
	# Onto a file with its own value (replaced), onto one with another
	# name only, and from a directory onto a directory.
	copy_value "$C" f1 f2 "$B"
	copy_value "$C" f1 f3 "$B"
	copy_value "$C" d1 d2 "$B"
	mount_vol "$C" "$M"
	[ "$(getfattr --absolute-names --only-values -n user.colour "$M/f1")" = blue ] ||
		fail "$names: the genuine value"
	for f in f2 f3; do
		expect_eio getfattr --absolute-names --only-values -n user.colour "$M/$f"
	done
	expect_eio getfattr --absolute-names --only-values -n user.colour "$M/d2"
	grep -q "xattr $B does not authenticate" "$M.log" ||
		fail "$names: no log line naming the xattr: $(cat "$M.log")"
	if [ "$names" = encrypted ]; then
		getfattr --absolute-names -d "$M/f3" | grep -q colour &&
			fail "$names: listxattr shows the copied value"
		[ "$(getfattr --absolute-names --only-values -n user.size "$M/f3")" = big ] ||
			fail "$names: f3's own value"
	fi
	unmount_vol "$M"
	"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
	[ $? = 6 ] || fail "$names: fsck: $(cat "$WORK/fsck.out")"
	grep -q "f2.*xattr .*does not authenticate\|xattr .*does not authenticate" \
		"$WORK/fsck.out" || fail "$names: fsck: $(cat "$WORK/fsck.out")"
	ok "$names names: a value copied onto another file or directory is EIO, logged, and found by fsck"
done

# The genuine values survive a rekey and a rotate-kek (plain names).
C=$WORK/c-plain M=$WORK/m-plain
setfattr -x user.colour "$C/f2" "$C/f3" || fail "remove the copies"
[ -d "$C/d2" ] && setfattr -x user.colour "$C/d2"
"$ATR" rekey -q --keyfile "$C.key" "$C" f1 </dev/null 2>"$WORK/rk.err" ||
	fail "rekey: $(cat "$WORK/rk.err")"
"$ATR" rotate-kek -q --keyfile "$C.key" "$C" </dev/null 2>"$WORK/rot.err" ||
	fail "rotate-kek: $(cat "$WORK/rot.err")"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null ||
	fail "fsck after rekey and rotate-kek: $(cat "$WORK/fsck.out")"
mount_vol "$C" "$M"
[ "$(getfattr --absolute-names --only-values -n user.colour "$M/f1")" = blue ] &&
	[ "$(getfattr --absolute-names --only-values -n user.size "$M/f3")" = big ] &&
	[ "$(getfattr --absolute-names --only-values -n user.colour "$M/d1")" = red ] &&
	[ "$(getfattr --absolute-names --only-values -n user.other "$M/d2")" = x ] ||
	fail "values after rekey and rotate-kek"
unmount_vol "$M"
ok "bound values read after a rekey and a rotate-kek"
