#!/usr/bin/env bash
# What the daemon does per file that rm -rf removes (docs/performance.md,
# "rm -rf on /dev/fuse"): with the writeback cache the kernel follows
# every unlink of a regular file with a SETATTR of the mtime it already
# has (fuse_flush_times()); for a file with no name left that is answered
# without a utimensat(2).  Times set on a file that keeps its name still
# reach the backing file, and an unlinked file still open keeps working.
# A file whose fd the daemon's cache had closed is held open by its unlink
# (a handle no longer opens it after): rm -rf of more listed files than
# the cache holds logs no file as gone, nor do renames over them.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C"
mount_with "$C" "$M" --keyfile "$C.key" -o nouring

# calls SYSCALLS COMMAND...: the daemon's calls of SYSCALLS (strace -e
# trace=) while COMMAND runs, one per line of the trace
calls() {
	local pid=${MPID[$M]} tr=$WORK/trace args=() t what=$1
	shift
	for t in /proc/"$pid"/task/*; do
		args+=(-p "${t##*/}")
	done
	: >"$tr"
	strace -f -qq -e trace="$what" -o "$tr" "${args[@]}" 2>/dev/null &
	local st=$!
	for t in $(seq 100); do
		[ "$(awk '/^TracerPid/ { print $2 }' /proc/"$pid"/status)" = "$st" ] && break
		sleep 0.1
	done
	"$@" || fail "$*"
	sleep 0.3
	kill "$st"
	wait "$st" 2>/dev/null
	grep -cE "^[0-9]+ +$what\\(" "$tr"
}

mkdir "$M/t" || fail "mkdir"
for i in $(seq 40); do echo "file $i" >"$M/t/f$i" || fail "create"; done
sync -f "$M"
ls -l "$M/t" >/dev/null || fail "ls -l"
n=$(calls unlinkat rm -rf "$M/t")
[ "$n" -ge 41 ] || fail "strace saw $n unlinkat calls for 41 names"
[ -e "$M/t" ] && fail "rm -rf left $M/t"
mkdir "$M/t" || fail "mkdir"
for i in $(seq 40); do echo "file $i" >"$M/t/f$i" || fail "create"; done
sync -f "$M"
ls -l "$M/t" >/dev/null || fail "ls -l"
u=$(calls utimensat rm -rf "$M/t")
[ "$u" -le 2 ] || fail "$u utimensat calls for 40 files removed: times set on files with no name left"
ok "rm -rf of 40 files: $n unlinkat, $u utimensat"

# A file that keeps its name gets the times asked for, also after a remount.
echo keep >"$M/keep" || fail "create keep"
touch -m -d '2001-02-03 04:05:06' "$M/keep" || fail "touch -m"
sync -f "$M"
unmount_vol "$M"
mount_with "$C" "$M" --keyfile "$C.key" -o nouring
[ "$(date -r "$M/keep" +%F)" = 2001-02-03 ] ||
	fail "mtime of keep lost: $(date -r "$M/keep")"
ok "mtime set on a named file kept across a remount"

# A file unlinked while open: written, its times flushed, read back.
exec 7<>"$M/open" || fail "open"
rm "$M/open" || fail "rm open"
echo "still here" >&7 || fail "write to the unlinked file"
exec 7<&-
ok "unlinked file written while open"
# More files listed than the daemon keeps fds open for (1,024): the ones
# whose fd was closed are opened again by their lookup, so each has an
# fd when rm -rf unlinks it and the kernel then sets its times (a handle
# no longer opens a file with no name left).
mkdir "$M/big" || fail "mkdir big"
(cd "$M/big" && seq -f 'n%04g' 1300 | xargs touch) || fail "1300 files"
ls -lR "$M/big" >/dev/null || fail "ls -lR"
rm -rf "$M/big" || fail "rm -rf big"
[ -e "$M/big" ] && fail "rm -rf left $M/big"
grep -q 'is gone from the backing directory' "$M.log" &&
	fail "files removed through the mount logged as gone: $(grep -m1 gone "$M.log")"
ok "rm -rf of 1300 listed files: no file lost its way"

# The same for a file renamed over: it loses its last name as well.
mkdir "$M/mv" || fail "mkdir mv"
(cd "$M/mv" && seq -f 'o%04g' 1300 | xargs touch && seq -f 'n%04g' 1300 | xargs touch) ||
	fail "2600 files"
ls -lR "$M/mv" >/dev/null || fail "ls -lR mv"
python3 -c 'import os, sys
for i in range(1, 1301):
    os.rename("%s/n%04d" % (sys.argv[1], i), "%s/o%04d" % (sys.argv[1], i))' "$M/mv" ||
	fail "renames over"
[ "$(ls "$M/mv" | wc -l)" = 1300 ] || fail "after the renames: $(ls "$M/mv" | wc -l) names"
grep -q 'is gone from the backing directory' "$M.log" &&
	fail "files renamed over logged as gone: $(grep -m1 gone "$M.log")"
ok "1300 listed files renamed over: no file lost its way"
unmount_vol "$M"
