#!/usr/bin/env bash
# Bound symlinks (t_links_bound.sh) under a local user's ordinary use
# right after a rename re-sealed a link: the kernel may still hold the
# old backing link under the new name, and what is done to it must reach
# the link that stays.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
mkdir "$M/d" "$M/e" || fail "mkdir"
ln -s /t1 "$M/d/a" && ln -s /t2 "$M/d/b" || fail "make links"
stat "$M/d/a" "$M/d/b" >/dev/null || fail "look the links up"
mv "$M/d/a" "$M/e/a" && mv "$M/d/b" "$M/d/c" || fail "rename"
# At once, inside the kernel's entry timeout.
chown -h 1234:567 "$M/e/a" || fail "chown -h"
touch -h -d '2001-02-03 04:05:06' "$M/d/c" || fail "touch -h"
check() {
	[ "$(stat -c %u:%g "$M/e/a")" = 1234:567 ] &&
	[ "$(stat -c %u:%g "$C/e/a")" = 1234:567 ] &&
	[ "$(stat -c %Y "$M/d/c")" = "$(date -d '2001-02-03 04:05:06' +%s)" ] &&
	[ "$(stat -c %Y "$C/d/c")" = "$(date -d '2001-02-03 04:05:06' +%s)" ] &&
	[ "$(readlink "$M/e/a")" = /t1 ] && [ "$(readlink "$M/d/c")" = /t2 ] ||
		fail "$1: e/a $(stat -c %u:%g "$C/e/a"), d/c $(stat -c %Y "$C/d/c")"
}
check "through the mount"
unmount_vol "$M"
mount_vol "$C" "$M"
check "after a remount"
unmount_vol "$M"
ok "chown -h and touch -h just after a link's rename reach the re-sealed link"

# A renamed link's old backing inode lives while the daemon holds its fd;
# once the fd cache lets it go, a new link may get its inode number while
# the kernel still holds the old inode (here: an O_PATH fd).  The new
# link is found at its own place with one name: it must read, not be
# taken for a second name of the old one.  A fresh small ext4 reuses the
# lowest free inode number; a daemon with 64 fds caches 16.
truncate -s 32M "$WORK/img" && mkfs.ext4 -q -F "$WORK/img" ||
	fail "make an ext4 image"
mkdir "$WORK/fs" || fail "mkdir"
MOUNTS+=("$WORK/fs")
mount -o loop "$WORK/img" "$WORK/fs" || fail "mount the ext4 image"
C=$WORK/fs/c M=$WORK/m2
new_volume "$C"
# The daemon raises its soft limit to the hard one: set both.
printf '#!/bin/sh\nulimit -n 64 && exec "%s" "$@"\n' "$ATR" >"$WORK/atr64" &&
	chmod +x "$WORK/atr64" || fail "wrapper"
ATR=$WORK/atr64 mount_vol "$C" "$M"
mkdir "$M/d" "$M/f" || fail "mkdir"
for i in $(seq 40); do echo x >"$M/f/$i" || fail "make f/$i"; done
ln -s /t1 "$M/d/a" || fail "make d/a"
coproc HOLD { python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_PATH | os.O_NOFOLLOW)
print("held", flush=True)
sys.stdin.read()' "$M/d/a"; }
read -r -u "${HOLD[0]}" line && [ "$line" = held ] || fail "hold d/a"
ino=$(stat -c %i "$C/d/a")
mv "$M/d/a" "$M/d/b" || fail "rename"
for i in $(seq 40); do stat "$M/f/$i" >/dev/null || fail "stat f/$i"; done
reused=
for i in $(seq 20); do
	ln -s /t2 "$M/d/c$i" || fail "make d/c$i"
	[ "$(stat -c %i "$C/d/c$i")" = "$ino" ] && reused=c$i && break
done
[ -n "$reused" ] || echo "note: no inode number reused, nothing checked" >&2
if [ -n "$reused" ]; then
	[ "$(readlink "$M/d/$reused")" = /t2 ] ||
		fail "a new link with a reused inode number: $(tail -2 "$M.log")"
fi
exec {HOLD[1]}>&-
wait "$HOLD_PID"
unmount_vol "$M"
ok "a new link that reuses a renamed link's inode number reads"

# A rename's leftover re-sealed link on encrypted names: fsck lists it
# once, as that, not also as a name that does not decrypt.
C=$WORK/c3 M=$WORK/m3
new_volume "$C" --names encrypted
mount_vol "$C" "$M"
mkdir "$M/d" && ln -s /q "$M/d/x" || fail "make d/x"
unmount_vol "$M"
dd=$(ls "$C" | grep -v '^atrestfs' | head -1)
bx=$(ls "$C/$dd" | head -1)
ln -s "$(readlink "$C/$dd/$bx")" "$C/$dd/.atrestfs-link.0011223344556677" ||
	fail "plant a leftover"
"$ATR" fsck -k "$C.key" "$C" >"$WORK/fsck.out" 2>&1 </dev/null
[ $? = 6 ] || fail "fsck of a leftover: $(cat "$WORK/fsck.out")"
[ "$(grep -c 'atrestfs-link.0011223344556677:' "$WORK/fsck.out")" = 1 ] &&
	grep -q "a re-sealed symbolic link left by a rename" "$WORK/fsck.out" ||
	fail "fsck of a leftover, encrypted names: $(cat "$WORK/fsck.out")"
ok "encrypted names: fsck lists a rename's leftover link once"

# A volume made before "bound" (the committed v1 fixture): its renames
# make no re-sealed links, so a name starting ".atrestfs-link." is a
# user's, as it was before: made, listed, read, and clean for fsck.
C=$WORK/v1 M=$WORK/m4
mkdir -p "$C"
tar --xattrs --xattrs-include='user.*' -C "$C" \
	-xf "$TOP/tests/fixtures/v1-volume.tar" || fail "untar fixture"
install -m 600 "$TOP/tests/fixtures/v1-volume.key" "$C.key"
mount_vol "$C" "$M"
ln -s /mine "$M/.atrestfs-link.mine" || fail "a user's name on an older volume"
ls -a "$M" | grep -qx '.atrestfs-link.mine' || fail "not listed"
[ "$(readlink "$M/.atrestfs-link.mine")" = /mine ] || fail "not read"
unmount_vol "$M"
fsck_out=$("$ATR" fsck -k "$C.key" "$C" 2>&1 </dev/null) ||
	fail "fsck of the older volume: $fsck_out"
ok "an older volume keeps names starting .atrestfs-link. for its users"
