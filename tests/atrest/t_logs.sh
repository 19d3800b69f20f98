#!/usr/bin/env bash
# Logs: many O_APPEND writers (processes and threads) with every line whole;
# journald-style fsync per record that has reached the backing file when
# fsync returns (and survives the daemon being killed); logrotate both ways
# (rename+create, copytruncate) with tail -F through the mount following;
# no marker in the backing store; unmount revokes, remount restores.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"

command -v logrotate >/dev/null || fail "logrotate missing (make deps)"
C=$WORK/c M=$WORK/m
mark=$(new_mark) jmark=$(new_mark) rmark=$(new_mark)
new_volume "$C"
mount_vol "$C" "$M"

# 1. Concurrent appenders: 4 processes x 4 threads x 400 lines of 60..1100 bytes.
"$TB/atrest_append" write "$M/app.log" 4 4 400 "$mark" || fail "appenders"
"$TB/atrest_append" verify "$M/app.log" 4 4 400 "$mark" || fail "append check"
ok "O_APPEND from 4 processes x 4 threads: every line whole, none lost"

# 2. fsync after every record; the sealed record is in the backing file
# when fsync returns.  Then kill the daemon outright: what fsync returned
# for must be there after a remount.
"$TB/atrest_append" fsync "$M/journal" "$C/journal" 300 "$jmark" ||
	fail "fsync per record"
jsum=$(md5sum <"$M/journal")
kill -9 "${MPID[$M]}"
wait "${MPID[$M]}" 2>/dev/null
unset "MPID[$M]"
umount -l "$M" 2>/dev/null || fusermount3 -uz "$M"
mount_vol "$C" "$M"
[ "$(md5sum <"$M/journal")" = "$jsum" ] || fail "fsynced records lost with the daemon"
ok "fsync per record: on the backing file at return, survives kill -9 of the daemon"

# 3. logrotate, rename + create, then copytruncate; tail -F follows.
# Lines are numbered; a writer appends while logrotate runs.
cat >"$WORK/lr-create.conf" <<CONF
$M/rot.log {
	rotate 5
	create 0640 root root
	missingok
}
CONF
cat >"$WORK/lr-copy.conf" <<CONF
$M/cp.log {
	rotate 5
	copytruncate
	missingok
}
CONF
chmod 0644 "$WORK"/lr-*.conf

# rotate CONF LOG FD_STYLE: write 3 rounds of 200 lines with a rotation in
# between while tail -F runs; print nothing, fail on error
rotate_run() {
	local conf=$1 log=$2 style=$3 r i tailpid
	: >"$log"
	tail -n +1 -s 0.2 -F "$log" >"$WORK/tail.$style" 2>"$WORK/tail.$style.err" &
	tailpid=$!
	PIDS+=($tailpid)
	for r in 1 2 3; do
		if [ "$style" = create ]; then
			# A writer that reopens for each line, as after a HUP.
			for i in $(seq 200); do
				echo "$rmark $style round=$r line=$i" >>"$log"
			done
		else
			# copytruncate: the writer keeps its descriptor.
			exec 7>>"$log"
			for i in $(seq 200); do
				echo "$rmark $style round=$r line=$i" >&7
			done
			exec 7>&-
		fi
		sleep 0.6	# let tail read the round before rotating
		logrotate -f -s "$WORK/lr.state" "$conf" || fail "logrotate $conf"
		[ -s "$log.1" ] || fail "$style: no $log.1 after rotation"
		sleep 0.6
	done
	echo "$rmark $style sentinel" >>"$log"
	for i in $(seq 50); do
		grep -q "$style sentinel" "$WORK/tail.$style" && break
		sleep 0.2
	done
	kill "$tailpid"
	grep -q "$style sentinel" "$WORK/tail.$style" ||
		fail "$style: tail -F did not follow after rotation"
	for r in 1 2 3; do
		[ "$(grep -c "^$rmark $style round=$r line=" "$WORK/tail.$style")" = 200 ] ||
			fail "$style: tail -F missed lines of round $r"
	done
	# Every line in the rotated files too, whole: rounds 1..3 in .3 .. .1
	for r in 1 2 3; do
		[ "$(grep -c -x "$rmark $style round=$r line=[0-9]*" "$log.$((4 - r))")" = 200 ] ||
			fail "$style: rotated file $log.$((4 - r)) incomplete"
	done
}
rotate_run "$WORK/lr-create.conf" "$M/rot.log" create
grep -q "has been replaced" "$WORK/tail.create.err" ||
	fail "tail -F did not see the rename: $(cat "$WORK/tail.create.err")"
ok "logrotate rename+create: every line rotated, tail -F follows the new file"
rotate_run "$WORK/lr-copy.conf" "$M/cp.log" copy
grep -q "truncated" "$WORK/tail.copy.err" ||
	fail "tail -F did not see the truncation: $(cat "$WORK/tail.copy.err")"
ok "logrotate copytruncate: every line copied, tail -F follows the truncation"

sums=$(cd "$M" && md5sum app.log journal rot.log* cp.log*)
sync
scan_backing "$C" "$mark" "$jmark" "$rmark"
unmount_vol "$M"
scan_backing "$C" "$mark" "$jmark" "$rmark"
revoked "$M" "$mark" "$jmark" "$rmark"
ok "no log marker in the backing store; unmounted, nothing readable"

mount_vol "$C" "$M"
[ "$(cd "$M" && md5sum app.log journal rot.log* cp.log*)" = "$sums" ] ||
	fail "logs differ after remount"
"$TB/atrest_append" verify "$M/app.log" 4 4 400 "$mark" >/dev/null ||
	fail "append check after remount"
unmount_vol "$M"
ok "remount with the key: every log intact"
