#!/usr/bin/env bash
# Data written through one mount is intact through the next, for sizes at
# and around extent boundaries, hard links, and a tree copied in and out.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
mkdir -p "$WORK/ref"
for n in 0 1 4095 4096 4097 8192 12289 65536 1000000; do
	head -c "$n" /dev/urandom >"$WORK/ref/f$n"
	cp "$WORK/ref/f$n" "$M/f$n"
done
ln "$M/f4097" "$M/hardlink"
mkdir -p "$M/tree/a/b"
cp -a "$TOP/crypto" "$TOP/fs" "$M/tree/a/b/"
(cd "$M" && find . -type f -print0 | sort -z | xargs -0 md5sum) >"$WORK/sums"
unmount_vol "$M"
mount_vol "$C" "$M"
(cd "$M" && md5sum --quiet -c "$WORK/sums") || fail "checksums differ after remount"
for n in 0 1 4095 4096 4097 8192 12289 65536 1000000; do
	cmp "$WORK/ref/f$n" "$M/f$n" || fail "f$n differs"
	[ "$(stat -c %s "$M/f$n")" = "$n" ] || fail "f$n size"
done
[ "$(stat -c %h "$M/hardlink")" = 2 ] || fail "hard link count"
[ "$(stat -c %i "$M/hardlink")" = "$(stat -c %i "$M/f4097")" ] || fail "hard link inode"
diff -r "$TOP/crypto" "$M/tree/a/b/crypto" || fail "tree differs"
unmount_vol "$M"
ok "data intact across unmount and remount"

# Detached (daemon) mode, as a user runs it: exit status means mounted.
"$ATR" mount --keyfile "$C.key" "$C" "$M" || fail "daemon mount"
MOUNTS+=("$M")
is_mounted "$M" || fail "daemon mode returned before the mount was up"
cmp "$WORK/ref/f65536" "$M/f65536" || fail "daemon mode read"
"$ATR" unmount "$M" || fail "atrestfs unmount"
is_mounted "$M" && fail "still mounted after atrestfs unmount"
ok "daemon mode mount and atrestfs unmount"

# Unmounted before the kernel's first request (INIT) reaches the daemon:
# the user's unmount, not a failure.  strace holds the daemon's first read
# of /dev/fuse (that request) until the mount is gone.
if command -v strace >/dev/null; then
	mkdir -p "$M"
	setsid -w strace -f -o /dev/null -P /dev/fuse \
		-e inject=read:delay_enter=2000000:when=1 \
		"$ATR" mount -f --keyfile "$C.key" "$C" "$M" 2>"$M.log" </dev/null &
	early=$!
	PIDS+=($early)
	MOUNTS+=("$M")
	for i in $(seq 100); do
		is_mounted "$M" && break
		sleep 0.1
	done
	is_mounted "$M" || fail "mount under strace: $(cat "$M.log")"
	fusermount3 -u "$M" || fail "unmount before the first request"
	wait $early || fail "daemon unmounted before its first request exited $?: $(cat "$M.log")"
	grep -q "unmounted before its first request" "$M.log" || fail "not said: $(cat "$M.log")"
	ok "unmounted before the kernel's first request: the daemon exits 0"
fi
