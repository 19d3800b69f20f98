# tests/atrest/common.sh - shared by the atrest suite; source it after
# ../integration/lib.sh.  Markers and the plaintext scan of a backing
# directory: file data, xattrs, symlink targets and atrestfs.conf.

# new_mark: a unique marker, letters and hex only (safe in any file, shell
# and SQL literal)
new_mark() {
	echo "ATRMARK$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
}

# found MARK DIR: 0 if MARK is anywhere under DIR, as bytes or as hex in an
# xattr value, or in a symlink target
found() {
	local mark=$1 dir=$2 hex
	hex=$(printf %s "$mark" | od -An -tx1 | tr -d ' \n')
	grep -r -a -q -F "$mark" "$dir" && return 0
	getfattr -R -h -d -m - -e hex --absolute-names "$dir" 2>/dev/null |
		grep -q -i -F "$hex" && return 0
	find "$dir" -type l -exec readlink {} + | grep -q -F "$mark" && return 0
	return 1
}

# scan_backing CIPHER MARK...: none of the markers may be in the backing
# store.  One pass over every byte of data (scanmarks.py skips the holes of
# sparse files, which are large): a control copy of the first marker is
# planted, and must be the only hit, or the scanner's silence would prove
# nothing.
scan_backing() {
	local c=$1 m hits
	shift
	printf '%s\n' "$@" >"$WORK/.marks"
	for m in "$@"; do
		printf %s "$m" | od -An -tx1 | tr -d ' \n'
		echo
	done >"$WORK/.hexmarks"
	printf 'x%sx' "$1" >"$c/.control"
	hits=$(python3 "$(dirname "${BASH_SOURCE[0]}")/scanmarks.py" "$c" "$WORK/.marks")
	rm -f "$c/.control"
	[ -n "$hits" ] || fail "scanner cannot see a planted marker"
	[ "$hits" = "$c/.control:$1" ] ||
		fail "marker in the backing store of $c: ${hits//$c\/.control:$1/}"
	getfattr -R -h -d -m - -e hex --absolute-names "$c" 2>/dev/null |
		grep -q -i -F -f "$WORK/.hexmarks" && fail "marker in an xattr under $c"
	find "$c" -type l -exec readlink {} + | grep -q -F -f "$WORK/.marks" &&
		fail "marker in a symlink target under $c"
	return 0
}

# revoked MNT MARK...: nothing of the mount is left to read
revoked() {
	local mnt=$1 m
	shift
	is_mounted "$mnt" && fail "$mnt still mounted"
	[ -z "$(ls -A "$mnt")" ] || fail "$mnt not empty after unmount"
	for m in "$@"; do
		grep -r -q -F "$m" "$mnt" && fail "marker reachable after unmount"
	done
	return 0
}

# skip REASON: a prerequisite is missing; the runner counts 77 as skipped
skip() {
	echo "SKIP: $*"
	exit 77
}

# kill_daemon MNT [PID...]: kill -9 the daemon serving MNT (checked to be
# ours, so that a reused pid is never shot), wait for the PIDs (the
# processes using the mount, whose calls now fail), reap the daemon and
# detach the dead mount, as a crash leaves it; mount it again to go on.
# The PIDs end before the detach: one that had not yet opened its files
# would otherwise open them in the bare mount point and write there
# forever.
kill_daemon() {
	local m=$1 pid=${MPID[$1]}
	shift
	[ "$(readlink /proc/"$pid"/exe)" = "$(readlink -f "$ATR")" ] ||
		fail "pid $pid is not the daemon"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null		# (quiet: bash's "Killed" report)
	[ $# = 0 ] || wait "$@"
	unset "MPID[$m]"
	fusermount3 -uz "$m" 2>/dev/null || umount -l "$m"
}

# alarms LOG: the lines of a daemon's log that refuse or doubt a file.
# An end put back from its copy or a re-sealed extent after a kill is a
# notice (fs/rollback.c), no alarm.
alarms() {
	grep -E "fails authentication|rolled back|version record|cut short|cannot" "$1" |
		grep -v ": a write the daemon's stop cut short"
}
