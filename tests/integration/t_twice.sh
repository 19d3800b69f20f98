#!/usr/bin/env bash
# One volume, one daemon on this machine: a second mount of the same
# backing directory, however its path is spelt (symlink, bind mount,
# mount(8)), is refused naming the existing mount point; a mount not
# listed here (another mount namespace) is still refused through the lock
# its daemon holds; and a daemon killed with SIGKILL blocks nothing.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M1=$WORK/m1 M2=$WORK/m2 M3=$WORK/m3
new_volume "$C"
mkdir -p "$M2" "$M3"
# Unmounted on exit should a refusal below fail and mount after all.
MOUNTS+=("$M2" "$M3")
LOCK=/run/atrestfs/backing-$(stat -c %d "$C")-$(stat -c %i "$C").lock

mount_vol "$C" "$M1"
echo one >"$M1/f" || fail "write"
expect 5 "volume $C is already mounted at $M1: two daemons on one volume would overwrite each other's files (unmount it first: atrestfs unmount $M1)" \
	"$ATR" mount --keyfile "$C.key" "$C" "$M2"
ln -s "$C" "$WORK/link"
expect 5 "is already mounted at $M1" "$ATR" mount --keyfile "$C.key" "$WORK/link" "$M2"
mkdir -p "$WORK/bind"
mount --bind "$C" "$WORK/bind" || fail "bind mount"
MOUNTS+=("$WORK/bind")
expect 5 "is already mounted at $M1" "$ATR" mount --keyfile "$C.key" "$WORK/bind" "$M2"
umount "$WORK/bind" || fail "umount bind"
expect 5 "is already mounted at $M1" "$TOP/build/mount.atrestfs" "$C" "$M2" -o "keyfile=$C.key"
is_mounted "$M2" && fail "mounted twice"
[ "$(cat "$M1/f")" = one ] || fail "first mount disturbed"
ok "a second mount of a mounted volume is refused, naming the mount point, however the path is spelt"

# A mount in another mount namespace is not in our mountinfo: the lock
# its daemon holds refuses the second mount all the same.
unmount_vol "$M1"
unshare -m --propagation private setsid "$ATR" mount -f --keyfile "$C.key" "$C" "$M3" \
	</dev/null 2>"$WORK/ns.log" &
ns=$!
PIDS+=($ns)
# Its log says when it is up (a probe of the lock meanwhile could be the
# one holding it when the daemon tries).
for i in $(seq 300); do
	grep -q "^atrestfs: mounted " "$WORK/ns.log" && break
	kill -0 $ns 2>/dev/null || fail "mount in a namespace: $(cat "$WORK/ns.log")"
	sleep 0.1
done
flock -n "$LOCK" true 2>/dev/null && fail "the daemon holds no lock on $LOCK"
is_mounted "$M3" && fail "the namespace's mount is visible here"
expect 5 "is already mounted, or being mounted, by another atrestfs process on this machine" \
	"$ATR" mount --keyfile "$C.key" "$C" "$M2"
# Nor may a command that changes the files behind the daemon's back run.
expect 5 "is mounted, or being mounted, by another atrestfs process on this machine" \
	"$ATR" rekey --keyfile "$C.key" "$C" --all
expect 5 "is mounted, or being mounted, by another atrestfs process on this machine" \
	"$ATR" destroy --yes-destroy --keyfile "$C.key" "$C"
[ -e "$C/atrestfs.conf" ] || fail "destroyed under a daemon in another namespace"
kill -TERM $ns
wait $ns
ok "a mount in another namespace is refused through the lock its daemon holds"

# kill -9 of the daemon: its dead mount and its lock file stay, neither
# blocks a new mount elsewhere.
mount_vol "$C" "$M1"
kill -9 "${MPID[$M1]}"
wait "${MPID[$M1]}" 2>/dev/null
unset "MPID[$M1]"
[ -e "$LOCK" ] || fail "no lock file left to test with"
mount_vol "$C" "$M2"
[ "$(cat "$M2/f")" = one ] || fail "read after remount"
unmount_vol "$M2"
ok "a daemon killed with SIGKILL blocks no remount"

# umount(8) returns before the daemon has exited: a mount right after it
# waits for the daemon's lock instead of calling it a second mount.
M4=$WORK/m4 M5=$WORK/m5
mkdir -p "$M4" "$M5"
for i in 1 2 3; do
	"$ATR" mount -q --keyfile "$C.key" "$C" "$M4" || fail "mount $i"
	MOUNTS+=("$M4")
	umount "$M4" || fail "umount $i"
	"$ATR" mount -q --keyfile "$C.key" "$C" "$M5" || fail "mount right after umount ($i)"
	MOUNTS+=("$M5")
	umount "$M5" || fail "umount $i of $M5"
done
ok "mount right after umount(8) waits for the old daemon"
