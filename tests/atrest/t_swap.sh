#!/usr/bin/env bash
# Swap: "atrestfs swap on" a file on the mount; a process in a memory
# cgroup smaller than its working set fills memory with markers, is paged
# out (VmSwap > 0) and back in, and finds every page intact; the marker is
# never in the raw bytes of the backing file; the system and the mount stay
# responsive meanwhile; "swap off" succeeds.  Then unmount revokes, and a
# remount shows the swapped pages (plaintext only through the mount).
# Needs root, loop devices and the cgroup v1 memory controller: SKIP (77)
# when one is missing.  Undoes swap, loop and cgroup on any exit.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || skip "swap needs root"
[ -e /dev/loop-control ] || skip "no loop devices (/dev/loop-control missing; modprobe loop)"
CG_ROOT=/sys/fs/cgroup/memory
[ -w "$CG_ROOT/cgroup.procs" ] ||
	skip "no cgroup v1 memory controller at $CG_ROOT"

C=$WORK/c M=$WORK/m
CG=$CG_ROOT/atrestfs-swaptest.$$
SWAPFILE=$M/swapfile
mark=$(new_mark)
MIB=160 LIMIT_MIB=64

swap_cleanup() {
	local dev
	# Whatever state we died in: swapoff and detach our loop device.
	for dev in $(losetup -n -O NAME -j "$SWAPFILE" 2>/dev/null) \
		   $(losetup -n -O NAME -j "$M/bar" 2>/dev/null) \
		   $(losetup -n -O NAME -j "$M/image" 2>/dev/null); do
		swapoff "$dev" 2>/dev/null
		losetup -d "$dev" 2>/dev/null
	done
	if [ -d "$CG" ]; then
		for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		sleep 0.2
		rmdir "$CG" 2>/dev/null
	fi
	cleanup
}
trap swap_cleanup EXIT

new_volume "$C"
mount_vol "$C" "$M"
# Refusals first: not on atrestfs, bad size, existing file.
"$ATR" swap on "$WORK/plain-swap" --size 64M 2>/dev/null; rc=$?
[ $rc = 5 ] || fail "swap on a non-atrestfs path: exit $rc, expected 5"
[ -e "$WORK/plain-swap" ] && fail "swap on created a file off the mount"
"$ATR" swap on "$SWAPFILE" --size 12Q 2>/dev/null; rc=$?
[ $rc = 2 ] || fail "swap on with a bad size: exit $rc, expected 2"
touch "$SWAPFILE"
"$ATR" swap on "$SWAPFILE" --size 64M 2>/dev/null && fail "swap on over an existing file"
rm "$SWAPFILE"
ok "swap on refuses a path off atrestfs, a bad size, an existing file"

"$ATR" swap on "$SWAPFILE" --size 256M --priority 32000 || fail "swap on"
"$ATR" swap status | grep -q "^$SWAPFILE /dev/loop" || fail "swap status does not list it"
dev=$(losetup -n -O NAME -j "$SWAPFILE")
[ "$(losetup -n -O DIO "$dev" | tr -d ' ')" = 1 ] || fail "loop device without direct I/O"
grep -q "^$dev " /proc/swaps || fail "$dev not in /proc/swaps"
ok "swap on: $dev over $SWAPFILE, direct I/O, active"
# unmount while swapping names swap off (it blamed open files and
# suggested --lazy, which would hide the swap file and keep the daemon).
for lazy in "" --lazy; do
	"$ATR" unmount $lazy "$M" 2>"$WORK/um.err"; rc=$?
	[ $rc = 5 ] || fail "unmount $lazy with swap on: exit $rc, want 5"
	grep -q "swap is active on $SWAPFILE ($dev); turn it off first: atrestfs swap off $SWAPFILE" "$WORK/um.err" ||
		fail "unmount $lazy with swap on: $(cat "$WORK/um.err")"
	grep -q -- --lazy "$WORK/um.err" && fail "unmount $lazy suggests --lazy: $(cat "$WORK/um.err")"
	is_mounted "$M" || fail "unmount $lazy with swap on took the mount away"
done
ok "unmount with swap on refused, naming atrestfs swap off"
"$ATR" swap status --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert any(s["file"] == sys.argv[1] and s["device"] == sys.argv[2] for s in d), d
' "$SWAPFILE" "$dev" || fail "swap status --json does not list it"
[ "$("$ATR" swap -j status)" = "$("$ATR" swap status --json)" ] ||
	fail "swap -j status differs from swap status --json"
# Filling a swap file shows a progress bar on a terminal, not with -q.
TERM=xterm script -qec "$ATR swap on $M/bar --size 8M" /dev/null |
	grep -q 'filling swap file \[#' || fail "no progress bar on a terminal"
"$ATR" swap off "$M/bar" || fail "swap off $M/bar"
TERM=xterm script -qec "$ATR swap on -q $M/bar --size 8M" /dev/null |
	grep -q filling && fail "progress bar despite -q"
"$ATR" swap off "$M/bar" || fail "swap off $M/bar (quiet)"
ok "swap status --json; a progress bar only on a terminal"

mkdir "$CG" || fail "mkdir $CG"
echo $((LIMIT_MIB << 20)) >"$CG/memory.limit_in_bytes" || fail "cgroup limit"
[ -e "$CG/memory.swappiness" ] && echo 100 >"$CG/memory.swappiness"
# The filler joins the cgroup before it allocates.
(echo $BASHPID >"$CG/cgroup.procs" && exec "$TB/atrest_memfill" $MIB "$mark" 90) \
	>"$WORK/fill.out" 2>&1 &
fill=$!
# Meanwhile the system and the mount must answer promptly.
slow=0
while kill -0 $fill 2>/dev/null; do
	start=$(date +%s%N)
	timeout 10 stat "$M" >/dev/null && timeout 10 ls / >/dev/null || slow=1
	end=$(date +%s%N)
	[ $(((end - start) / 1000000)) -lt 5000 ] || slow=1
	sleep 0.5
done
wait $fill
rc=$?
cat "$WORK/fill.out"
[ $rc = 0 ] || fail "memory filler exit $rc (3: never swapped)"
[ $slow = 0 ] || fail "system or mount unresponsive (> 5 s) while swapping"
grep -q "VmSwap [1-9]" "$WORK/fill.out" || fail "no VmSwap seen"
ok "paged out through atrestfs and back in, every page intact, system responsive"

# The raw bytes of the backing file, while the swap is still active.
grep -a -q -F "$mark" "$C/swapfile" && fail "marker in the raw backing swap file"
scan_backing "$C" "$mark"
ok "marker never in the backing file"

"$ATR" swap off --keep "$SWAPFILE" || fail "swap off"
grep -q "^$dev " /proc/swaps && fail "$dev still swapping"
losetup -n -O NAME -j "$SWAPFILE" | grep -q . && fail "loop device still attached"
ok "swap off: swapoff done, loop device detached"

# swap off leaves alone a loop device that is not our swap space: a disk
# image from the mount, attached by someone else, was detached and removed.
head -c $((4 << 20)) /dev/zero >"$M/image" || fail "image on the mount"
img=$(losetup -f --show "$M/image") || fail "losetup image"
"$ATR" swap off "$M/image" 2>"$WORK/img.err" && fail "swap off took a plain loop-attached file"
grep -q "is not atrestfs swap space; leaving it" "$WORK/img.err" || fail "swap off image: $(cat "$WORK/img.err")"
[ -e "$M/image" ] || fail "swap off removed a file that was not swap"
losetup -n -O NAME -j "$M/image" | grep -q . || fail "swap off detached a loop device that was not swap"
"$ATR" unmount "$M" 2>"$WORK/um.err" && fail "unmount with a loop device on the mount"
grep -q "loop device $img uses $M/image on it; detach it first: losetup -d $img" "$WORK/um.err" ||
	fail "unmount with a loop device: $(cat "$WORK/um.err")"
losetup -d "$img"
rm -f "$M/image"
ok "swap off refuses a loop-attached file that is not atrestfs swap"

# What the swap pages hold is readable only through the mount.
grep -a -q -F "$mark" "$SWAPFILE" || fail "swapped pages not in the swap file through the mount"
unmount_vol "$M"
scan_backing "$C" "$mark"
revoked "$M" "$mark"
mount_vol "$C" "$M"
grep -a -q -F "$mark" "$SWAPFILE" || fail "swapped pages gone after remount"
rm "$SWAPFILE"
unmount_vol "$M"
ok "unmount revokes the swapped pages; remount with the key shows them"
