#!/usr/bin/env bash
# The first mount without -o shared after shared mode (issue 21): the
# version records shared mode left dirty are settled, with no false alarm,
# and rollback detection resumes from there: a copy of a file taken while
# the volume was shared, put back after the unshared mount changed it, is
# refused with EIO.  One machine, a local backing directory: OFD locks
# work on any local file system.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m ST=$WORK/state
K=(--keyfile "$C.key" --state-dir "$ST")

new_volume "$C" --state-dir "$ST"

# Two shared mounts in turn, as two hosts would write: a file made, then
# appended to; a second file made and left alone.
mount_with "$C" "$M" "${K[@]}" -o shared
printf 'one\n' >"$M/a"
printf 'kept\n' >"$M/b"
unmount_vol "$M"
cp -a "$C/a" "$WORK/a.shared1"
mount_with "$C" "$M" "${K[@]}" -o shared
printf 'two\n' >>"$M/a"
unmount_vol "$M"
cp -a "$C/a" "$WORK/a.shared2"
getfattr -n user.atrestfs.ver "$WORK/a.shared2" >/dev/null 2>&1 ||
	fail "shared mode made no version record"

# The first mount without -o shared reads both files, logs no alarm.
mount_with "$C" "$M" "${K[@]}"
[ "$(cat "$M/a")" = "$(printf 'one\ntwo')" ] || fail "a after shared mode: $(cat "$M/a")"
[ "$(cat "$M/b")" = kept ] || fail "b after shared mode"
grep -E "rolled back|version record|fails authentication" "$M.log" &&
	fail "a false alarm on the first unshared mount"
printf 'three\n' >>"$M/a"
unmount_vol "$M"
ok "the first mount without -o shared reads shared mode's files, no alarm"

# Both copies from shared mode are older than what this machine has now.
for v in 1 2; do
	cp -a "$WORK/a.shared$v" "$C/a"
	mount_with "$C" "$M" "${K[@]}"
	expect_eio cat "$M/a"
	grep -q "rolled back" "$M.log" || fail "no log line for copy $v: $(cat "$M.log")"
	[ "$(cat "$M/b")" = kept ] || fail "b after the rollback of a"
	unmount_vol "$M"
done
ok "copies of a file from shared mode, put back later: EIO and a log line"
