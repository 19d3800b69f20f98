#!/usr/bin/env bash
# t_walk.sh where file handles cannot be opened: the daemon runs without
# CAP_DAC_READ_SEARCH, so open_by_handle_at fails and inodes are reopened
# by parent and name (fs/inofd.c).  20,000 generated entries are walked
# (find, stat, ls -lR, tar c) and 2,000 files written through the mount are read
# back, under RLIMIT_NOFILE 4,096, with no error and the daemon's fds
# under the cache's bound.  (Before, such a daemon kept one fd per inode
# the kernel knows and ran out of them.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
command -v setpriv >/dev/null || { echo "skip: no setpriv"; exit 77; }
wrap=$(mktemp -d /tmp/atrestfs-wrap.XXXXXX)
trap 'rm -rf "$wrap"' EXIT
# The capability gone from the bounding set: root keeps the others.
cat >"$wrap/atrestfs" <<EOS
#!/bin/sh
exec setpriv --bounding-set -dac_read_search \
	"${ATR:-$here/../../build/atrestfs}" "\$@"
EOS
chmod +x "$wrap/atrestfs"
ATR=$wrap/atrestfs WALK_FILES=${WALK_FILES:-20000} WALK_READ=2000 \
WALK_LOG="file handles cannot be opened" bash "$here/t_walk.sh"
