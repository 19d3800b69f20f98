#!/usr/bin/env bash
# The mistakes a new user makes, each driven for real: the message must say
# what is wrong, naming the file, key or option, and the exit code must be
# the documented one (atrestfs(8) EXIT STATUS).
. "$(dirname "$0")/lib.sh"

# expect CODE TEXT CMD...: CMD exits CODE and its stderr contains TEXT
expect() {
	local code=$1 text=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = "$code" ] || fail "$* exited $rc, want $code ($out)"
	case "$out" in
	*"$text"*) ;;
	*) fail "$*: message lacks '$text': $out" ;;
	esac
}

C=$WORK/c M=$WORK/m
mkdir -p "$M"
for cmd in init mount unmount; do
	"$ATR" $cmd --help | grep -q "^Usage: atrestfs $cmd" || fail "$cmd --help"
done
"$ATR" --help | grep -q "^Usage: atrestfs COMMAND" || fail "--help"
"$ATR" --version | grep -q "^atrestfs " || fail "--version"
expect 2 "unknown command 'frobnicate'" "$ATR" frobnicate
expect 2 "Usage: atrestfs mount" "$ATR" mount only-one-arg
expect 2 "extent-size 1000" "$ATR" init --extent-size 1000 "$WORK"
ok "help, version, usage errors"

new_volume "$C"
expect 4 "$C is already an atrestfs volume" "$ATR" init --keyfile "$WORK/k2" "$C"
mkdir -p "$WORK/full" && touch "$WORK/full/x"
expect 4 "$WORK/full is not empty" "$ATR" init --keyfile "$WORK/k3" "$WORK/full"
expect 4 "$WORK/full is not an atrestfs volume" "$ATR" mount --keyfile "$C.key" "$WORK/full" "$M"
mkdir -p "$WORK/other"
"$ATR" init -q --keyfile "$WORK/other.key" "$WORK/other" || fail "init other"
uuid=$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$C/atrestfs.conf")
expect 3 "does not open volume $uuid" "$ATR" mount --keyfile "$WORK/other.key" "$C" "$M"
chmod 644 "$C.key"
expect 3 "key file $C.key is accessible to group or others (mode 0644); run: chmod 600" \
	"$ATR" mount --keyfile "$C.key" "$C" "$M"
chmod 600 "$C.key"
expect 3 "cannot open key file $WORK/nokey" "$ATR" mount --keyfile "$WORK/nokey" "$C" "$M"
head -c 31 /dev/urandom >"$WORK/short.key" && chmod 600 "$WORK/short.key"
expect 3 "holds 31 bytes" "$ATR" mount --keyfile "$WORK/short.key" "$C" "$M"
ok "already initialised, not empty, not a volume, wrong key, unsafe key mode, bad key file"

touch "$M/file"
expect 5 "mountpoint $M is not empty" "$ATR" mount --keyfile "$C.key" "$C" "$M"
rm "$M/file"
expect 5 "is inside the volume" "$ATR" mount --keyfile "$C.key" "$C" "$C"
mount_vol "$C" "$M"
expect 5 "mountpoint $M is busy" "$ATR" mount --keyfile "$C.key" "$C" "$M"
expect 5 "is not an atrestfs mount" "$ATR" unmount /proc
unmount_vol "$M"
expect 5 "$M is not mounted" "$ATR" unmount "$M"
ok "mountpoint not empty, inside the volume, busy; unmount of the wrong thing"

# No /dev/fuse: a private mount namespace with a /dev that lacks it.
unshare -m bash -c 'mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
	exec "$0" mount --keyfile "$1.key" "$1" "$2"' "$ATR" "$C" "$M" \
	>"$WORK/nofuse.out" 2>&1
rc=$?
[ $rc = 5 ] || fail "no /dev/fuse: exit $rc"
grep -q "/dev/fuse is missing" "$WORK/nofuse.out" || fail "no /dev/fuse: $(cat "$WORK/nofuse.out")"
ok "missing /dev/fuse"

# A backing filesystem without user xattrs (ramfs has none).
mkdir -p "$WORK/ramfs"
mount -t ramfs ramfs "$WORK/ramfs" || fail "mount ramfs"
MOUNTS+=("$WORK/ramfs")
expect 1 "does not support user extended attributes" "$ATR" init --keyfile "$WORK/rk" "$WORK/ramfs"
umount "$WORK/ramfs"
ok "backing filesystem without xattrs refused"

# No --keyfile: the default key directory, a 0600 key named after the volume.
mkdir -p "$WORK/d"
ATRESTFS_KEY_DIR=$WORK/keys "$ATR" init "$WORK/d" >"$WORK/init.out" || fail "default init"
uuid=$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$WORK/d/atrestfs.conf")
[ "$(stat -c %a "$WORK/keys/$uuid.key")" = 600 ] || fail "default key mode"
[ "$(stat -c %s "$WORK/keys/$uuid.key")" = 32 ] || fail "default key size"
grep -q "Next: atrestfs mount $WORK/d MOUNTPOINT" "$WORK/init.out" || fail "init next step: $(cat "$WORK/init.out")"
ATRESTFS_KEY_DIR=$WORK/keys "$ATR" mount "$WORK/d" "$M" || fail "mount with default key"
MOUNTS+=("$M")
echo hi >"$M/x" && [ "$(cat "$M/x")" = hi ] || fail "default-key volume"
"$ATR" unmount "$M" || fail "unmount"
ok "default key file location"
