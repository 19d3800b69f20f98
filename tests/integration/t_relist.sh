#!/usr/bin/env bash
# A name looked up again, whose inode the daemon still has (readdirplus of
# a directory listed before: rm -rf reads each directory twice), costs one
# fstatat(2) and no openat(2) (entry_known() in ops_entry.c), where it
# cost an openat, a stat and a close.  The attributes are still fresh: a
# size changed in between shows.
. "$(dirname "$0")/lib.sh"

C=$WORK/c M=$WORK/m
new_volume "$C"
mount_with "$C" "$M" --keyfile "$C.key" -o nouring

# opens COMMAND...: the daemon's O_PATH openat(2) calls while COMMAND runs
opens() {
	local pid=${MPID[$M]} tr=$WORK/trace args=() t
	for t in /proc/"$pid"/task/*; do
		args+=(-p "${t##*/}")
	done
	: >"$tr"
	strace -f -qq -e trace=openat -o "$tr" "${args[@]}" 2>/dev/null &
	local st=$!
	for t in $(seq 100); do
		[ "$(awk '/^TracerPid/ { print $2 }' /proc/"$pid"/status)" = "$st" ] && break
		sleep 0.1
	done
	"$@" >/dev/null || fail "$*"
	sleep 0.3
	kill "$st"
	wait "$st" 2>/dev/null
	grep -c 'O_PATH' "$tr"
}

mkdir "$M/d" || fail "mkdir"
for i in $(seq 40); do echo "file $i" >"$M/d/f$i" || fail "create"; done
sync -f "$M"
echo 3 >/proc/sys/vm/drop_caches
first=$(opens ls -l "$M/d")
[ "$first" -ge 40 ] || fail "strace saw $first opens for a cold listing of 40 files"
# Two listings back to back: 80 opens if each opens every name.  If a
# known inode is found without opening it, 15 at most (the lookups before
# a directory's first try), plus 41 if the first listing is a cold one
# (another process's drop_caches made the kernel forget the inodes).
twice() {
	ls -l "$M/d" >/dev/null && ls -l "$M/d" >/dev/null
}
for try in 1 2 3; do
	again=$(opens twice)
	[ "$again" -le 60 ] && break
done
[ "$again" -le 60 ] || fail "$again opens for two listings of 40 files"
ok "ls -l of 40 files: $first opens cold, $again for two listings after"

echo "grown by a line" >>"$M/d/f7" || fail "append"
ls -l "$M/d" >/dev/null || fail "ls -l"
[ "$(stat -c %s "$M/d/f7")" = 23 ] || fail "size after append: $(stat -c %s "$M/d/f7")"
[ "$(cat "$M/d/f7")" = "file 7
grown by a line" ] || fail "content of f7"
rm -rf "$M/d" || fail "rm -rf"
[ -e "$M/d" ] && fail "rm -rf left $M/d"
ok "a relisted file's size and content are current; rm -rf removes all"

unmount_vol "$M"
