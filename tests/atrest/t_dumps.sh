#!/usr/bin/env bash
# Crash dumps: kernel.core_pattern pointed into the mount; a process holding
# a marker aborts; its core appears through the mount, gdb reads the marker
# from it, the backing store never holds it; unmount revokes, remount
# restores.  And the atrestfs daemon itself: non-dumpable (no core even on
# SIGABRT), core limit 0, key pages locked and excluded from dumps.
# Needs root (core_pattern); restores core_pattern on any exit.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || skip "core_pattern needs root"
command -v gdb >/dev/null || fail "gdb missing (make deps)"
C=$WORK/c M=$WORK/m C2=$WORK/c2 M2=$WORK/m2
mark=$(new_mark)
OLD_PATTERN=$(cat /proc/sys/kernel/core_pattern)
OLD_PIPE_LIMIT=$(cat /proc/sys/kernel/core_pipe_limit)

dumps_cleanup() {
	printf '%s\n' "$OLD_PATTERN" >/proc/sys/kernel/core_pattern
	printf '%s\n' "$OLD_PIPE_LIMIT" >/proc/sys/kernel/core_pipe_limit
	cleanup
}
trap dumps_cleanup EXIT

new_volume "$C"
mount_vol "$C" "$M"
mkdir "$M/cores"
echo "$M/cores/core.%e.%p" >/proc/sys/kernel/core_pattern
(ulimit -c unlimited; exec "$TB/atrest_crash" "$mark") 2>/dev/null
rc=$?
[ $rc = 134 ] || fail "crasher exit $rc, expected SIGABRT (134)"
core=$(ls "$M"/cores/core.atrest_crash.* 2>/dev/null | head -1)
[ -n "$core" ] || fail "no core file through the mount"
grep -a -q -F "$mark" "$core" || fail "core does not contain the marker"
out=$(gdb -batch -nx -ex 'print crash_marker' "$TB/atrest_crash" "$core" 2>&1)
case "$out" in
*"$mark"*) ;;
*) fail "gdb cannot read the marker from the core: $out" ;;
esac
ok "core written through the mount, gdb prints the marker from it"
csum=$(md5sum <"$core")
sync
scan_backing "$C" "$mark"
ok "marker not in the backing store"

# The daemon: non-dumpable, no core limit, key pages locked and not dumped.
pid=${MPID[$M]}
grep -q "^Max core file size *0 *0 " /proc/$pid/limits ||
	fail "daemon core limit not 0: $(grep core /proc/$pid/limits)"
lck=$(awk '/^VmLck:/ { print $2 }' /proc/$pid/status)
[ "${lck:-0}" -gt 0 ] || fail "daemon has no locked memory (VmLck $lck)"
# secmem's key pages: a writable mapping flagged lo (locked) and dd
# (MADV_DONTDUMP); adjacent ones merge, so the size says nothing
arena=0
while read -r a rest; do
	[ "$a" = VmFlags: ] || continue
	[[ " $rest " = *" wr "* && " $rest " = *" lo "* && " $rest " = *" dd "* ]] &&
		arena=1
done </proc/$pid/smaps
[ $arena = 1 ] ||
	fail "no locked, non-dumpable key arena in the daemon"
ok "daemon: VmLck $lck kB, key arena locked and MADV_DONTDUMP, core limit 0"

# A throwaway daemon gets SIGABRT with cores going to a plain directory
# (never into its own mount): it must leave no core.
mkdir "$WORK/cores"
echo "$WORK/cores/core.%e.%p" >/proc/sys/kernel/core_pattern
(ulimit -c unlimited; exec "$TB/atrest_crash" "$mark") 2>/dev/null
ls "$WORK"/cores/core.atrest_crash.* >/dev/null 2>&1 ||
	fail "control: no core in $WORK/cores"
rm -f "$WORK"/cores/*
new_volume "$C2"
mount_vol "$C2" "$M2"
pid2=${MPID[$M2]}
kill -ABRT "$pid2"
wait "$pid2" 2>/dev/null
unset "MPID[$M2]"
umount -l "$M2" 2>/dev/null || fusermount3 -uz "$M2" 2>/dev/null
[ -z "$(ls -A "$WORK/cores")" ] && ok "daemon killed by SIGABRT left no core" ||
	fail "the daemon dumped core: $(ls "$WORK/cores")"
printf '%s\n' "$OLD_PATTERN" >/proc/sys/kernel/core_pattern

unmount_vol "$M"
scan_backing "$C" "$mark"
revoked "$M" "$mark"
mount_vol "$C" "$M"
[ "$(md5sum <"$core")" = "$csum" ] || fail "core differs after remount"
gdb -batch -nx -ex 'print crash_marker' "$TB/atrest_crash" "$core" 2>&1 |
	grep -q -F "$mark" || fail "gdb cannot read the core after remount"
unmount_vol "$M"
ok "unmount revokes the core; remount with the key restores it"
