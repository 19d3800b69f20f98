#!/usr/bin/env bash
# mount(8) integration: "mount -t fuse.atrestfs", "mount -t atrestfs" and an
# fstab line, through the installed helper names.  mount(8) only looks in
# /sbin, so the helper links are put there for the test and removed after,
# unless a real installation already provides them.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
ADDED=()
cleanup_links() {
	local l
	for l in "${ADDED[@]}"; do rm -f "$l"; done
	cleanup
}
trap cleanup_links EXIT

# make install honours DESTDIR and PREFIX.
make -s -C "$TOP" install DESTDIR="$WORK/root" PREFIX=/opt/atr >/dev/null ||
	fail "make install"
for f in /opt/atr/bin/atrestfs /sbin/mount.atrestfs /sbin/mount.fuse.atrestfs \
	 /opt/atr/share/man/man8/atrestfs.8; do
	[ -e "$WORK/root$f" ] || [ -L "$WORK/root$f" ] || fail "make install: no $f"
done
[ "$(readlink "$WORK/root/sbin/mount.atrestfs")" = /opt/atr/bin/atrestfs ] ||
	fail "mount helper link"
make -s -C "$TOP" uninstall DESTDIR="$WORK/root" PREFIX=/opt/atr >/dev/null ||
	fail "make uninstall"
[ -e "$WORK/root/opt/atr/bin/atrestfs" ] && fail "make uninstall left the binary"
ok "make install / uninstall with DESTDIR and PREFIX"

for h in /sbin/mount.atrestfs /sbin/mount.fuse.atrestfs; do
	if [ ! -e "$h" ]; then
		ln -s "$ATR" "$h" || fail "cannot add $h"
		ADDED+=("$h")
	fi
done
new_volume "$C"
mkdir -p "$M"
MOUNTS+=("$M")
for type in fuse.atrestfs atrestfs; do
	mount -t $type -o "keyfile=$C.key,nosuid,nodev" "$C" "$M" || fail "mount -t $type"
	is_mounted "$M" || fail "mount -t $type: not mounted"
	grep " $M fuse.atrestfs " /proc/mounts | grep -q nosuid || fail "nosuid not applied"
	echo "via $type" >"$M/f" && [ "$(cat "$M/f")" = "via $type" ] || fail "io via $type"
	umount "$M" || fail "umount after -t $type"
done
ok "mount -t fuse.atrestfs and -t atrestfs"

printf '%s %s fuse.atrestfs noauto,nofail,x-systemd.automount,_netdev,keyfile=%s 0 0\n' \
	"$C" "$M" "$C.key" >"$WORK/fstab"
mount -T "$WORK/fstab" "$M" || fail "mount from fstab line"
is_mounted "$M" || fail "fstab: not mounted"
[ "$(cat "$M/f")" = "via atrestfs" ] || fail "fstab mount reads"
umount "$M" || fail "umount fstab mount"
ok "fstab line with noauto,nofail,x-systemd.automount,keyfile="

# The systemd unit template: valid for systemd, and its ExecStart/ExecStop
# lines, run as written with an instance's env file, mount and unmount.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$WORK/units"
	sed "s|@BINDIR@|$(dirname "$ATR")|g" "$TOP/mount-helper/atrestfs@.service.in" \
		>"$WORK/units/atrestfs@.service"
	systemd-analyze verify --man=no "$WORK/units/atrestfs@plain.service" ||
		fail "systemd-analyze verify atrestfs@.service"
fi
printf 'CIPHERDIR=%s\nMOUNTPOINT=%s\nKEYFILE=%s\nOPTIONS=nosuid\n' "$C" "$M" "$C.key" \
	>"$WORK/plain.conf"
unit_cmd() {
	sed -n "s/^$1=//p" "$TOP/mount-helper/atrestfs@.service.in" |
		sed "s|@BINDIR@|$(dirname "$ATR")|g"
}
# As systemd runs them: the unit's Environment= defaults, then the file.
unit_run() {
	(set -a && eval "$(unit_cmd Environment)" && . "$1" && eval "$(unit_cmd "$2")")
}
unit_run "$WORK/plain.conf" ExecStart || fail "unit ExecStart"
is_mounted "$M" || fail "unit ExecStart did not mount"
[ "$(cat "$M/f")" = "via atrestfs" ] || fail "unit mount reads"
unit_run "$WORK/plain.conf" ExecStop || fail "unit ExecStop"
is_mounted "$M" && fail "unit ExecStop did not unmount"
# KEYFILE may be left out (it was required): the default key file.
uuid=$(sed -n 's/^volume_uuid = "\(.*\)";$/\1/p' "$C/atrestfs.conf")
[ -n "$uuid" ] || fail "no uuid in $C/atrestfs.conf"
mkdir -p "$WORK/keys"
cp "$C.key" "$WORK/keys/$uuid.key"
printf 'CIPHERDIR=%s\nMOUNTPOINT=%s\n' "$C" "$M" >"$WORK/nokey.conf"
ATRESTFS_KEY_DIR=$WORK/keys unit_run "$WORK/nokey.conf" ExecStart || fail "unit ExecStart without KEYFILE"
is_mounted "$M" || fail "unit without KEYFILE did not mount"
unit_run "$WORK/nokey.conf" ExecStop || fail "unit ExecStop without KEYFILE"
# A KMS or network HSM is reached over the network: ordered after it.
grep -qx 'After=.*network-online\.target.*' "$TOP/mount-helper/atrestfs@.service.in" &&
	grep -qx 'Wants=network-online\.target' "$TOP/mount-helper/atrestfs@.service.in" ||
	fail "atrestfs@.service is not ordered after network-online.target"
ok "atrestfs@.service verifies, its commands mount and unmount, KEYFILE optional, after the network"
