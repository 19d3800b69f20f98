#!/usr/bin/env bash
# Every inode the kernel knows holds one O_PATH fd in the daemon: a daemon
# started under a small soft RLIMIT_NOFILE must raise it, or a directory of
# a few thousand files fails with EMFILE.
. "$(dirname "$0")/lib.sh"

ulimit -Sn 256
C=$WORK/c M=$WORK/m
new_volume "$C"
mount_vol "$C" "$M"
mkdir "$M/d"
for i in $(seq 3000); do printf '%d\n' "$i" >"$M/d/f$i" || fail "create f$i"; done
[ "$(ls -l "$M/d" | grep -c '^-')" = 3000 ] || fail "ls -l lists $(ls "$M/d" | wc -l) of 3000"
[ "$(cat "$M"/d/f* | wc -l)" = 3000 ] || fail "reading 3000 files"
unmount_vol "$M"
ok "3000 files under a soft fd limit of 256"
