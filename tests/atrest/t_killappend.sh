#!/usr/bin/env bash
# kill -9 of the daemon during fsync'd appends (issue 16, design.md §8):
# after a remount every record acknowledged by fsync reads back, and each
# log reads whole, without EIO.  Each round, four writers append numbered
# records of varying length to their own log through the page cache, with
# an fsync after every k-th (k from 1 to 3), while the daemon is killed -9
# at a random moment; then the volume is mounted again and checked.  A
# kill while the daemon rewrites a log's last extent in place can tear it
# between pages or leave it half done; only the copy kept in the state
# directory (fs/endcopy.c) puts it back.  Without it, this fails in most
# runs (EIO: "extent N fails authentication").
# SEED=N repeats a run; ROUNDS=N (default 60) sets its length.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"

SEED=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
ROUNDS=${ROUNDS:-60}
echo "SEED=$SEED ROUNDS=$ROUNDS"
RANDOM=$SEED
NLOG=4
# On a tmpfs (which tears a pwrite between pages as ext4 does): an fsync
# there costs no disk flush, so each round has thousands of appends.
T=$WORK/t C=$WORK/t/c M=$WORK/m ST=$WORK/t/state
mkdir -p "$T"
mount -t tmpfs -o size=512m tmpfs "$T" || fail "cannot mount a tmpfs"
MOUNTS+=("$T")
new_volume "$C" --state-dir "$ST"

mount_st() {
	mount_with "$C" "$M" --keyfile "$C.key" --state-dir "$ST"
}

mount_st
start=$SECONDS
for round in $(seq "$ROUNDS"); do
	"$TB/atrest_killlog" write "$M" "$WORK/log" $NLOG "$round" $((SEED * 1000 + round)) &
	writer=$!
	# Every writer under way (its first fsync returned), then 0 to 300 ms.
	for i in $(seq 250); do
		n=0
		for l in $(seq $NLOG); do
			[ -s "$WORK/log$l.ack" ] && n=$((n + 1))
		done
		[ $n = $NLOG ] && break
		sleep 0.02
	done
	sleep "$(printf '0.%03d' $((RANDOM % 301)))"
	kill_daemon "$M" "$writer"
	for l in $(seq $NLOG); do
		[ -f "$WORK/log$l.ack" ] && cat "$WORK/log$l.ack" >>"$WORK/log$l.acks"
		rm -f "$WORK/log$l.ack"
	done
	mount_st
	for l in $(seq $NLOG); do
		[ -f "$WORK/log$l.acks" ] || continue
		err=$("$TB/atrest_killlog" check "$M/log$l" "$WORK/log$l.acks" 2>&1) ||
			fail "SEED=$SEED round $round: $err; daemon log: $(cat "$M.log")"
	done
	cat "$M.log" >>"$WORK/daemon.log"
	# Nothing refused: a put-back end is a notice, never an error.
	alarms "$M.log" && fail "SEED=$SEED round $round: an alarm in the daemon's log"
done
unmount_vol "$M"
[ -z "$(ls -A "$ST"/*/ends)" ] || fail "copies left in the state directory after a clean unmount"
acks=$(cat "$WORK"/log*.acks | wc -l)
[ "$acks" -ge $((ROUNDS * NLOG)) ] || fail "only $acks rounds of the logs acknowledged anything"
put=$(grep -c "put back from the copy" "$WORK/daemon.log")
ok "kill -9 during fsync'd appends to $NLOG logs, $ROUNDS rounds in $((SECONDS - start)) s (SEED=$SEED): every fsync'd record reads back, nothing refused ($put ends put back)"
