#!/usr/bin/env bash
# fsck lists a long symlink target's record that no link names, and says
# it can be removed only when its walk reached the whole volume: with a
# subtree skipped (here another file system mounted over a directory of
# the backing tree), the link naming the record may be in it.
. "$(dirname "$0")/lib.sh"

LONG=$(printf 'w%.0s' $(seq 3400))
C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
mkdir "$M/sub" && ln -s "$LONG" "$M/sub/long" || fail "long link"
unmount_vol "$M"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null ||
	fail "fsck of a sound volume: $(cat "$WORK/fsck.out")"

# The subtree hidden from the walk: its link's record looks orphaned.
MOUNTS+=("$C/sub")
mount -t tmpfs none "$C/sub" || fail "mount tmpfs"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
grep -q "another file system is mounted here" "$WORK/fsck.out" ||
	fail "fsck did not say it skipped sub: $(cat "$WORK/fsck.out")"
grep -q "can be removed" "$WORK/fsck.out" &&
	fail "fsck advises removing a live link's record: $(cat "$WORK/fsck.out")"
grep -q "atrestfs.conf.links/.*keep the record" "$WORK/fsck.out" ||
	fail "fsck: $(cat "$WORK/fsck.out")"
umount "$C/sub" || fail "umount tmpfs"
ok "with a subtree skipped, fsck keeps a record no link it reached names"

# A real orphan, with the whole volume walked: it can be removed.
rm "$C/sub/long"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
grep -q "atrestfs.conf.links/.*can be removed" "$WORK/fsck.out" ||
	fail "fsck: $(cat "$WORK/fsck.out")"
ok "with the whole volume walked, fsck says an orphan record can be removed"
