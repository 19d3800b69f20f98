#!/usr/bin/env bash
# Plaintext scan: unique markers written through the mount, by every path a
# user has, must appear nowhere in the backing directory: not in file data,
# not in xattrs, not in symlink targets, not in the config, not in names
# and xattr names (the volume has encrypted names).  Unmounting makes
# them unreachable; mounting again with the key brings them back intact.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
mark=ATRMARK$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
hexmark=$(printf %s "$mark" | od -An -tx1 | tr -d ' \n')

# scan DIR: 0 if the marker is found anywhere in it, as text or hex
scan() {
	grep -r -a -q -F "$mark" "$1" && return 0
	getfattr -R -h -d -m - -e hex --absolute-names "$1" 2>/dev/null >"$WORK/xattrs"
	grep -q -i -F "$hexmark" "$WORK/xattrs" && return 0
	grep -q -F "$mark" "$WORK/xattrs" && return 0	# in a name
	find "$1" -type l -exec readlink {} + | grep -q -F "$mark" && return 0
	find "$1" | grep -q -F "$mark" && return 0
	return 1
}

new_volume "$C" --names encrypted
mount_vol "$C" "$M"
# The scanner must be able to see a marker, or its silence means nothing.
printf 'x%sx' "$mark" >"$C/control"
setfattr -n user.control -v "$mark" "$C/control"
scan "$C" || fail "scanner does not find a plaintext marker"
rm "$C/control"
touch "$C/control-$mark"
scan "$C" || fail "scanner does not find a plaintext marker in a name"
rm "$C/control-$mark"
setfattr -n "user.$mark" -v x "$C"
scan "$C" || fail "scanner does not find a plaintext marker in an xattr name"
setfattr -x "user.$mark" "$C"
scan "$C" && fail "marker left in backing before the test"

printf '%s\n' "$mark" >"$M/small"
for i in $(seq 2000); do printf 'line %d %s\n' "$i" "$mark"; done >>"$M/log"
# Markers straddling extent boundaries in a larger file.
head -c $((5 << 20)) /dev/urandom >"$M/big"
for off in 0 4090 8190 12285 1048570 5242000; do
	printf %s "$mark" | dd of="$M/big" bs=1 seek=$off conv=notrunc status=none
done
# A sparse file with a marker far out.
printf %s "$mark" | dd of="$M/sparse" bs=1 seek=$((100 << 20)) status=none
setfattr -n user.secret -v "$mark" "$M/small"
setfattr -n "user.$mark" -v named "$M/small"
mkdir "$M/dir"
setfattr -n user.secret -v "$mark" "$M/dir"
ln -s "/$mark/target" "$M/link"
# Names of every kind, short and long (a long one's record is scanned too).
mkdir "$M/dir/$mark.d"
echo x >"$M/dir/$mark.d/$mark"
mkfifo "$M/$mark.fifo"
ln -s x "$M/$mark$(printf 'l%.0s' $(seq 200))"
# Data truncated away must not linger in plaintext either.
printf '%s%s' "$mark" "$mark" >"$M/cut" && truncate -s 5 "$M/cut"
md5=$(cat "$M/small" "$M/log" "$M/big" "$M/sparse" | md5sum)
sync
scan "$C" && fail "marker found in the backing directory while mounted"
grep -q -F "$mark" "$M/small" || fail "marker not readable through the mount"
unmount_vol "$M"
scan "$C" && fail "marker found in the backing directory after unmount"
[ -z "$(ls -A "$M")" ] || fail "mountpoint not empty after unmount"
grep -r -q -F "$mark" "$M" && fail "marker reachable after unmount"
ok "no marker in backing data, xattrs, link targets, names or config"

mount_vol "$C" "$M"
[ "$(cat "$M/small" "$M/log" "$M/big" "$M/sparse" | md5sum)" = "$md5" ] ||
	fail "data differs after remount"
[ "$(getfattr --absolute-names --only-values -n user.secret "$M/dir")" = "$mark" ] || fail "dir xattr"
[ "$(readlink "$M/link")" = "/$mark/target" ] || fail "symlink target"
[ "$(cat "$M/cut")" = "${mark:0:5}" ] || fail "truncated file"
[ "$(wc -l <"$M/log")" = 2000 ] || fail "log lines"
[ "$(cat "$M/dir/$mark.d/$mark")" = x ] || fail "a file with a marker name"
[ -p "$M/$mark.fifo" ] || fail "a fifo with a marker name"
[ "$(getfattr --absolute-names --only-values -n "user.$mark" "$M/small")" = named ] ||
	fail "an xattr with a marker name"
unmount_vol "$M"
ok "remount brings every marker back intact"
