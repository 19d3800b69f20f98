#!/usr/bin/env bash
# A directory listing's entry (READDIRPLUS) carries a file's size as it
# was when the daemon looked the entry up.  If the kernel forgets the
# file's inode before that reply arrives (its last known name unlinked),
# the reply sets the inode up again, and with the writeback cache the
# kernel keeps that size for good: appends made meanwhile vanish from the
# file (make stress, ops: "size of d1/w6f6: test 1014161, ref 1016512").
# stale_size.c races the two; the size must be right every round.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
mkdir "$M/d1" "$M/d2" || fail "mkdir"
# A few entries, so that d1/b is in the first reply (READDIRPLUS).
for i in $(seq ${STALE_PAD:-20}); do : >"$M/d1/pad$i"; done
echo start >"$M/d2/a" || fail "create d2/a"
"$TB/stale_size" "$M" "$C" "${STALE_SECONDS:-10}" ||
	fail "a listing's stale entry cut a file's size (see above)"
unmount_vol "$M"
grep -qi "error\|Sanitizer" "$M.log" && fail "the daemon logged: $(cat "$M.log")"
ok "a listing racing appends and unlinks never gives a stale size"
