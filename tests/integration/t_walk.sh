#!/usr/bin/env bash
# A daemon whose RLIMIT_NOFILE is 4,096 walks a tree of far more inodes
# than that (issue 20): inodes are kept by file handle and only a bounded
# cache of them holds an open fd (fs/inofd.c).  Each of find, stat,
# ls -lR and tar c (which opens and reads every file) must see every
# entry, with no error, and the daemon's fd count must stay under the
# cache's bound.  WALK_FILES (default 50,000) sets the size; `make
# walk1m` runs it with 1,000,000.  WALK_READ files are also written
# through the mount and read back after the walk, each holding its
# name; WALK_LOG is a line the daemon's log must have
# (t_nohandles_walk.sh).
. "$(dirname "$0")/lib.sh"

N=${WALK_FILES:-50000} R=${WALK_READ:-0}
T=$WORK/t C=$WORK/t/c M=$WORK/m
mkdir -p "$T"
# tmpfs backing: the generator and the walk measure the daemon, not a disk.
mount -t tmpfs -o size=4g,nr_inodes=0 walk "$T" || fail "tmpfs on $T"
MOUNTS+=("$T")
new_volume "$C"
# Real files, made in the backing directory: a header, one extent each.
ndirs=$("$TB/tool_walkgen" "$C" "$C.key" "$N") || fail "generating $N files"
mount_vol "$C" "$M"
pid=${MPID[$M]}
prlimit --pid "$pid" --nofile=4096:4096 || fail "prlimit on the daemon"

fds() { ls /proc/"$pid"/fd | wc -l; }

if [ "$R" -gt 0 ]; then
	mkdir "$M/r" || fail "mkdir $M/r"
	for ((i = 0; i < R; i++)); do
		echo "r$i" >"$M/r/r$i" || fail "writing $M/r/r$i"
	done
	N=$((N + R)) ndirs=$((ndirs + 1))
fi

t0=$SECONDS
n=$(find "$M" -type f | wc -l)
[ "$n" = "$N" ] || fail "find -type f counts $n of $N files"
t1=$SECONDS
n=$(find "$M" -mindepth 1 -print0 | xargs -0 stat -c %i 2>"$WORK/stat.err" |
    wc -l)
[ -s "$WORK/stat.err" ] && fail "stat: $(head -3 "$WORK/stat.err")"
[ "$n" = $((N + ndirs)) ] || fail "stat saw $n of $((N + ndirs)) entries"
t2=$SECONDS
n=$(ls -lR "$M" 2>"$WORK/ls.err" | grep -c '^-')
[ -s "$WORK/ls.err" ] && fail "ls -lR: $(head -3 "$WORK/ls.err")"
[ "$n" = "$N" ] || fail "ls -lR lists $n of $N files"
t3=$SECONDS
# To a pipe (GNU tar does not read the files when it writes to
# /dev/null), and read back: each generated file holds its own path and
# a newline, each of the WALK_READ files its name.
n=$(tar c -C "$M" . 2>"$WORK/tar.err" | tar x -O |
    grep -c '^d[0-9]*/f[0-9]*$\|^r[0-9]*$')
[ -s "$WORK/tar.err" ] && fail "tar c: $(head -3 "$WORK/tar.err")"
[ "$n" = "$N" ] || fail "tar c read $n of $N files"
# Their fds long gone from the cache: each reopened, none another's.
for ((i = 0; i < R; i++)); do
	[ "$(cat "$M/r/r$i")" = "r$i" ] || fail "$M/r/r$i does not read r$i"
done
t4=$SECONDS
nfd=$(fds)
# The cache's 1,024 plus the daemon's own (FUSE device, log, state dir).
[ "$nfd" -le 1100 ] || fail "the daemon holds $nfd fds"
grep -q "EMFILE\|Too many open" "$M.log" && fail "log: $(grep -m1 EMFILE "$M.log")"
[ -z "${WALK_LOG:-}" ] || grep -qF "$WALK_LOG" "$M.log" ||
	fail "log lacks '$WALK_LOG': $(cat "$M.log")"
rss=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)
unmount_vol "$M"
ok "$N files in $ndirs dirs under RLIMIT_NOFILE 4096: find $((t1 - t0))s," \
   "stat $((t2 - t1))s, ls -lR $((t3 - t2))s, tar c and $R read $((t4 - t3))s;" \
   "$nfd fds, RSS ${rss} KiB"
