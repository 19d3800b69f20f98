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
