#!/usr/bin/env bash
# t_records.sh - issue 21's interleaved records: writers on two hosts (two
# Gluster clients, one atrestfs daemon over each) write disjoint 100-byte
# records of one file, so records of both share extents, fsync after each.
# With -o shared no record may be lost.  MH_OPTS overrides the mount options
# (MH_OPTS= shows what the default mode loses).
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
OPTS=${MH_OPTS--oshared}
ROUNDS=${MH_ROUNDS:-3}
PER_HOST=${MH_WRITERS:-3}
COUNT=200

mh_gluster
mh_volume
mh_mount a $OPTS
mh_mount b $OPTS

total=0
for r in $(seq "$ROUNDS"); do
	f=rec$r
	# zeros first, through host A: the writers rewrite shared extents
	head -c $((COUNT * 100)) /dev/zero >"$WORK/a/$f" || fail "create $f"
	n=$((2 * PER_HOST))
	pids=()
	for ((k = 0; k < n; k++)); do
		if ((k % 2)); then h=b; else h=a; fi
		python3 "$HERE/records.py" write "$WORK/$h/$f" $k $n $COUNT r$r &
		pids+=($!)
	done
	werr=0
	for p in "${pids[@]}"; do
		wait "$p" || werr=$((werr + 1))
	done
	la=$(python3 "$HERE/records.py" check "$WORK/a/$f" $COUNT r$r) || fail "check on a"
	lb=$(python3 "$HERE/records.py" check "$WORK/b/$f" $COUNT r$r) || fail "check on b"
	echo "round $r: $la of $COUNT records lost as host A reads the file, $lb as host B does; $werr writers saw errors"
	total=$((total + la + lb + werr))
done
# Under ASan the daemons' clean exit is part of the test.
unmount_vol "$WORK/a"
unmount_vol "$WORK/b"
[ "$total" = 0 ] || fail "$total records lost or writers failed in $ROUNDS rounds (mount options: ${OPTS:-none})"
ok "no record lost in $ROUNDS rounds, $PER_HOST writers per host"
