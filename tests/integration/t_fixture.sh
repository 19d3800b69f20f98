#!/usr/bin/env bash
# The committed format-v1 volume (scripts/make-fixture.sh) must mount and
# read back exactly, forever: a change that breaks this breaks every
# existing user's data.  Never regenerate the fixture to make this pass.
. "$(dirname "$0")/lib.sh"

F=$TOP/tests/fixtures
C=$WORK/v1 M=$WORK/m
mkdir -p "$C"
tar --xattrs --xattrs-include='user.*' -C "$C" -xf "$F/v1-volume.tar" || fail "untar fixture"
getfattr --absolute-names -n user.atrestfs.hdr "$C/small.txt" >/dev/null ||
	fail "fixture lost its header xattrs in extraction"
install -m 600 "$F/v1-volume.key" "$C.key"
mount_vol "$C" "$M"
(cd "$M" && sha256sum --quiet -c "$F/v1-volume.sha256") || fail "fixture contents differ"
[ "$(readlink "$M/link")" = small.txt ] || fail "fixture symlink"
[ "$(getfattr --absolute-names --only-values -n user.comment "$M/dir/nested.txt")" = fixture ] ||
	fail "fixture xattr"
[ "$(stat -c %s "$M/sparse")" = $(((200 << 10) + 5)) ] || fail "fixture sparse size"
[ "$(stat -c %h "$M/boundary")" = 2 ] || fail "fixture hard link"
[ -z "$(cat "$M/empty")" ] || fail "fixture empty file"
# Still writable in place by this version.
printf 'more\n' >>"$M/small.txt"
[ "$(tail -n1 "$M/small.txt")" = more ] || fail "append to fixture file"
unmount_vol "$M"
ok "format v1 fixture mounts and reads back exactly"

# The committed volume with encrypted names (scripts/make-fixture-names.sh):
# every name, short, long (with its record) and of every byte value, must
# list and read back exactly, forever.
N=$WORK/names M=$WORK/mn
mkdir -p "$N"
tar --xattrs --xattrs-include='user.*' -C "$N" -xf "$F/names-volume.tar" ||
	fail "untar names fixture"
getfattr --absolute-names -n user.atrestfs.dirid "$N" >/dev/null ||
	fail "names fixture lost its directory IDs in extraction"
install -m 600 "$F/names-volume.key" "$N.key"
mount_vol "$N" "$M"
(cd "$M" && find . -mindepth 1 -printf '%y %P\0' | sort -z) >"$WORK/names.list"
cmp -s "$WORK/names.list" "$F/names-volume.list" ||
	fail "names fixture lists other names: $(tr '\0' '\n' <"$WORK/names.list")"
(cd "$M" && sha256sum --quiet -c "$F/names-volume.sha256") ||
	fail "names fixture contents differ"
[ "$(readlink "$M/link")" = small.txt ] || fail "names fixture symlink"
[ "$(stat -c %h "$M/small.txt")" = 2 ] || fail "names fixture hard link"
printf 'more\n' >"$M/dir/new file"
unmount_vol "$M"
grep -q 'not a name' "$M.log" && fail "names fixture: $(cat "$M.log")"
ok "fixture with encrypted names mounts, lists and reads back exactly"
