#!/usr/bin/env bash
# The mistakes a new user makes, each driven for real: the message must say
# what is wrong, naming the file, key or option, and the exit code must be
# the documented one (atrestfs(8) EXIT STATUS).
. "$(dirname "$0")/lib.sh"

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

# Colour only for a terminal (script(1) gives one), never with NO_COLOR.
out=$("$ATR" frobnicate 2>&1)
case "$out" in *$'\033'*) fail "colour on a pipe: $out" ;; esac
TERM=xterm script -qec "$ATR frobnicate" /dev/null | grep -q $'\033\\[1;31m' ||
	fail "no colour on a terminal"
TERM=xterm NO_COLOR=1 script -qec "$ATR frobnicate" /dev/null | grep -q $'\033' &&
	fail "colour despite NO_COLOR"
ok "colour only on a terminal"

new_volume "$C"
expect 4 "$C is already an atrestfs volume" "$ATR" init --keyfile "$WORK/k2" "$C"
# libfuse undoes backslash escapes: allow_other must not slip past as one.
expect 2 "no backslashes in mount options" "$ATR" mount -o 'allow_oth\er' --keyfile "$C.key" "$C" "$M"
# ... while the fsname made from a path with a comma, escaped so, mounts.
new_volume "$WORK/a,b"
mount_vol "$WORK/a,b" "$M"
echo x >"$M/f" && [ "$(cat "$M/f")" = x ] || fail "a volume at a path with a comma"
unmount_vol "$M"
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
"$ATR" keyslot list --json "$C" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["authenticated"] is False and len(d["keyslots"]) == 1, d
k = d["keyslots"][0]
assert k["provider"] == "keyfile" and k["key_id"].startswith("kf-"), k
assert k["key_version"] == 1 and k["algorithm"] == "AES-256-GCM", k' ||
	fail "keyslot list --json"
ok "keyslot list --json"

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

# A mount point whose name mountinfo escapes (space, tab): found by the
# busy check and by the daemon, which raises the mount's read-ahead.
MS="$WORK/m s	t"
mount_vol "$C" "$MS"
expect 5 "is busy" "$ATR" mount --keyfile "$C.key" "$C" "$MS"
[ "$(cat "/sys/class/bdi/$(mountpoint -d "$MS")/read_ahead_kb")" = 1024 ] ||
	fail "read-ahead not raised on a mount point with a space and a tab"
"$ATR" unmount "$MS" || fail "atrestfs unmount of a mount point with a space and a tab"
is_mounted "$MS" && fail "$MS still mounted"
ok "mount point with a space and a tab: busy check, read-ahead, unmount"

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
ok "default key file location (ATRESTFS_KEY_DIR)"

# Without ATRESTFS_KEY_DIR, root's keys go to /etc/atrestfs/keys.
mkdir -p "$WORK/d2"
env -u ATRESTFS_KEY_DIR "$ATR" init -q "$WORK/d2" || fail "init with root's default key dir"
uuid2=$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$WORK/d2/atrestfs.conf")
ETCKEY=/etc/atrestfs/keys/$uuid2.key
trap 'cleanup; rm -f "$ETCKEY"' EXIT
[ "$(stat -c %a "$ETCKEY")" = 600 ] || fail "root's default key: $(ls -l "$ETCKEY" 2>&1)"
[ "$(stat -c %a /etc/atrestfs/keys)" = 700 ] || fail "key directory mode"
env -u ATRESTFS_KEY_DIR "$ATR" mount "$WORK/d2" "$M" || fail "mount with root's default key"
MOUNTS+=("$M")
"$ATR" unmount "$M" || fail "unmount"
rm -f "$ETCKEY"
ok "root's default key file: /etc/atrestfs/keys/UUID.key, 0600"

# As an ordinary user: mounts go through fusermount3, which also polices
# allow_other.  A throwaway user, removed on exit.
U=atrt$$
useradd -M -N -s /bin/sh "$U" || fail "useradd $U"
fusemode=$(stat -c %a /dev/fuse)
trap 'cleanup; userdel "$U" 2>/dev/null; chmod "$fusemode" /dev/fuse; rm -f "$ETCKEY"' EXIT
chmod 755 "$WORK"
mkdir -p "$WORK/u/c" "$WORK/u/m"
chown -R "$U" "$WORK/u"
# The checkout may be private to root (a 0700 directory): the user runs a copy.
install -m 755 "$ATR" "$WORK/atrestfs-user"
UATR=$WORK/atrestfs-user
runuser -u "$U" -- "$UATR" init -q --keyfile "$WORK/u/key" "$WORK/u/c" || fail "user init"
# A /dev/fuse only root may open (containers): libfuse then cannot mount.
chmod 600 /dev/fuse
expect 5 "cannot open /dev/fuse: only root may" \
	runuser -u "$U" -- "$UATR" mount --keyfile "$WORK/u/key" "$WORK/u/c" "$WORK/u/m"
# As udev sets it on a normal system, for the rest of this test.
chmod 666 /dev/fuse
runuser -u "$U" -- "$UATR" mount --keyfile "$WORK/u/key" "$WORK/u/c" "$WORK/u/m" ||
	fail "user mount"
MOUNTS+=("$WORK/u/m")
runuser -u "$U" -- sh -c "echo mine >'$WORK/u/m/f'" || fail "user write"
[ "$(runuser -u "$U" -- cat "$WORK/u/m/f")" = mine ] || fail "user read"
# Without allow_other there is no default_permissions: the backing file
# system checks the daemon, which runs as the user, and access(2) asks it.
grep " $WORK/u/m " /proc/mounts | grep -q default_permissions &&
	fail "default_permissions on a mount only its user can enter"
runuser -u "$U" -- sh -c "
	chmod 400 '$WORK/u/m/f' && ! echo x >>'$WORK/u/m/f' 2>/dev/null &&
	! test -w '$WORK/u/m/f' && test -r '$WORK/u/m/f' &&
	mkdir '$WORK/u/m/d' && chmod 500 '$WORK/u/m/d' &&
	! touch '$WORK/u/m/d/x' 2>/dev/null && ! test -w '$WORK/u/m/d' &&
	chmod 000 '$WORK/u/m/d' && ! ls '$WORK/u/m/d' >/dev/null 2>&1 &&
	! (cd '$WORK/u/m/d') 2>/dev/null && chmod 700 '$WORK/u/m/d'" ||
	fail "modes not enforced for the mounting user"
runuser -u "$U" -- "$UATR" unmount "$WORK/u/m" || fail "user unmount"
ok "a user mounts, writes and unmounts through fusermount3"

# A user's default key files: $XDG_CONFIG_HOME/atrestfs/keys, else
# ~/.config/atrestfs/keys; the directories are made 0700.
mkdir -p "$WORK/u/x" "$WORK/u/y" "$WORK/u/home"
chown "$U" "$WORK/u/x" "$WORK/u/y" "$WORK/u/home"
runuser -u "$U" -- env -u ATRESTFS_KEY_DIR HOME="$WORK/u/home" \
	XDG_CONFIG_HOME="$WORK/u/xdg" "$UATR" init -q "$WORK/u/x" || fail "user init, XDG"
runuser -u "$U" -- env -u ATRESTFS_KEY_DIR -u XDG_CONFIG_HOME HOME="$WORK/u/home" \
	"$UATR" init -q "$WORK/u/y" || fail "user init, HOME"
for v in x:"$WORK/u/xdg/atrestfs/keys" y:"$WORK/u/home/.config/atrestfs/keys"; do
	dir=${v#*:}
	uuid=$(sed -n 's/^volume_uuid = "\(.*\)";/\1/p' "$WORK/u/${v%%:*}/atrestfs.conf")
	[ "$(stat -c '%a %U' "$dir/$uuid.key")" = "600 $U" ] ||
		fail "user default key: $(ls -l "$dir/$uuid.key" 2>&1)"
	[ "$(stat -c %a "$dir")" = 700 ] || fail "user key dir mode $(stat -c %a "$dir")"
done
ok "a user's default key files: \$XDG_CONFIG_HOME/atrestfs/keys, else ~/.config/atrestfs/keys"

# No HOME at all (env -i, a service): the message names the key file HOME
# would give and what to set; a directory that cannot be made is named.
mkdir -p "$WORK/u/z" && chown "$U" "$WORK/u/z"
uhome=$(getent passwd "$U" | cut -d: -f6)
out=$(runuser -u "$U" -- env -i PATH="$PATH" "$UATR" init -q "$WORK/u/z" 2>&1 </dev/null)
rc=$?
[ $rc = 3 ] || fail "user without HOME: exit $rc ($out)"
case "$out" in
"atrestfs: no --keyfile given, and no default key directory: HOME, XDG_CONFIG_HOME and ATRESTFS_KEY_DIR are all unset (with HOME=$uhome the key file would be $uhome/.config/atrestfs/keys/"*".key); give --keyfile PATH or set one of them") ;;
*) fail "user without HOME: $out" ;;
esac
out=$(runuser -u "$U" -- env -i PATH="$PATH" HOME=/nonexistent "$UATR" init -q "$WORK/u/z" 2>&1 </dev/null)
rc=$?
[ $rc = 3 ] && [ "$out" = "atrestfs: cannot make the default key directory /nonexistent/.config/atrestfs/keys: Permission denied; give --keyfile PATH or set ATRESTFS_KEY_DIR" ] ||
	fail "user with an unusable HOME: exit $rc ($out)"
[ -z "$(ls -A "$WORK/u/z")" ] || fail "init without a key directory wrote: $(ls -A "$WORK/u/z")"
ok "a user without HOME is told which key file HOME would give and what to set"

# as_user_in_ns SETUP CMD...: run CMD as $U in a private mount namespace
# after the root shell command SETUP (bind mounts that nothing else sees).
as_user_in_ns() {
	local setup=$1
	shift
	unshare -m sh -c "$setup"' && exec runuser -u "$0" -- "$@"' "$U" "$@"
}
printf '# mount_max = 1000\n#user_allow_other\n' >"$WORK/fuse.conf"
out=$(as_user_in_ns "mount --bind '$WORK/fuse.conf' /etc/fuse.conf" \
	"$UATR" mount -o allow_other --keyfile "$WORK/u/key" "$WORK/u/c" "$WORK/u/m" 2>&1)
rc=$?
[ $rc = 5 ] || fail "allow_other without user_allow_other: exit $rc ($out)"
case "$out" in *"needs 'user_allow_other' in /etc/fuse.conf"*) ;;
*) fail "allow_other message: $out" ;; esac
out=$(as_user_in_ns "mount --bind /dev/null /usr/bin/fusermount3" \
	"$UATR" mount --keyfile "$WORK/u/key" "$WORK/u/c" "$WORK/u/m" 2>&1)
rc=$?
[ $rc = 5 ] || fail "no fusermount3: exit $rc ($out)"
case "$out" in *"fusermount3 not found"*) ;; *) fail "no fusermount3 message: $out" ;; esac
is_mounted "$WORK/u/m" && fail "mounted despite the refusals"
ok "allow_other without user_allow_other, and missing fusermount3, refused clearly"
