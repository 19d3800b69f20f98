#!/usr/bin/env bash
# A plain-names volume made before the link store may hold a user's
# directory named atrestfs.conf.links at its root (older versions let it
# be made).  It stays the user's: listed, readable, walked by rotate-kek
# and fsck, never written into; a long symlink target then fails with
# ENAMETOOLONG and a log line naming it, and fsck never calls its files
# records that can be removed.  The store the daemon makes is marked
# (user.atrestfs.links on the root) and stays hidden.
. "$(dirname "$0")/lib.sh"

S=atrestfs.conf.links
LONG=$(printf 'y%.0s' $(seq 3200))
C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
mkdir "$M/userdir" && echo precious >"$M/userdir/notes" || fail setup
unmount_vol "$M"
# As an older version left it: the user's directory under that name.
mv "$C/userdir" "$C/$S"
getfattr --absolute-names -n user.atrestfs.links "$C" >/dev/null 2>&1 &&
	fail "the root is marked before any store"

mount_vol "$C" "$M"
ls -A "$M" | grep -qx "$S" || fail "the user's $S is not listed: $(ls -A "$M")"
[ "$(cat "$M/$S/notes")" = precious ] || fail "the user's file in $S"
out=$(ln -s "$LONG" "$M/long" 2>&1) && fail "a long link was made into the user's $S"
case "$out" in
*"File name too long"*) ;;
*) fail "long link: $out" ;;
esac
grep -q "$S, which is a directory of the user's" "$M.log" ||
	fail "no log line naming $S: $(cat "$M.log")"
ln -s short "$M/short" && [ "$(readlink "$M/short")" = short ] ||
	fail "a short link"
unmount_vol "$M"
[ "$(ls "$C/$S")" = notes ] || fail "written into the user's $S: $(ls "$C/$S")"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null ||
	fail "fsck: $(cat "$WORK/fsck.out")"
grep -q "can be removed" "$WORK/fsck.out" && fail "fsck: $(cat "$WORK/fsck.out")"
"$ATR" rotate-kek -q --keyfile "$C.key" "$C" </dev/null 2>"$WORK/rot.err" ||
	fail "rotate-kek: $(cat "$WORK/rot.err")"
mount_vol "$C" "$M"
[ "$(cat "$M/$S/notes")" = precious ] ||
	fail "the user's file in $S after rotate-kek"
unmount_vol "$M"
ok "a user's $S at the root stays the user's: listed, read, rotated, never written into"

# Without it, the store is made with the root's mark, and stays hidden.
rm -rf "${C:?}/$S"
mount_vol "$C" "$M"
ln -s "$LONG" "$M/long" || fail "long link"
ls -A "$M" | grep -qx "$S" && fail "the store is listed"
unmount_vol "$M"
[ "$(getfattr --absolute-names --only-values -n user.atrestfs.links "$C")" = store ] ||
	fail "the root is not marked"
mount_vol "$C" "$M"
[ "$(readlink "$M/long")" = "$LONG" ] || fail "long link read back"
unmount_vol "$M"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null ||
	fail "fsck with the store: $(cat "$WORK/fsck.out")"
ok "the store the daemon makes marks the root and stays hidden"
