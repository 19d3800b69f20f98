#!/usr/bin/env bash
# FUSE over io_uring (fs/uring.c).  Where the kernel offers it (the fuse
# module's enable_uring), requests are served from the ring threads, one
# pair pinned to each CPU, and replies go back through the ring; FORGETs
# still come through /dev/fuse.  With -o nouring, or where the kernel does
# not offer it, everything stays on /dev/fuse.  The module parameter is
# set for this test and put back as it was.
. "$(dirname "$0")/lib.sh"

P=/sys/module/fuse/parameters/enable_uring
if [ ! -w "$P" ]; then
	echo "skip: no $P (kernel without FUSE over io_uring, before Linux 6.14)"
	exit 77
fi
old=$(cat "$P")
D=/proc/sys/kernel/io_uring_disabled	# Linux 6.6+
old_d=$(cat "$D" 2>/dev/null)
trap 'cleanup; echo "$old" >"$P"; [ -z "$old_d" ] || echo "$old_d" >"$D"' EXIT

# ring_fds PID: how many io_urings the daemon has open
ring_fds() {
	local f n=0
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[io_uring]" ] && n=$((n + 1))
	done
	echo "$n"
}

# ring_cqes PID: completions reaped so far over all the daemon's io_urings
ring_cqes() {
	local f n=0 v
	for f in /proc/"$1"/fdinfo/*; do
		v=$(awk '$1 == "CqHead:" { print $2 }' "$f" 2>/dev/null)
		[ -n "$v" ] && n=$((n + v))
	done
	echo "$n"
}

ncpu=$(nproc --all)

# 1. Offered: the daemon serves the ring, and the ring carries the requests.
echo Y >"$P"
new_volume "$WORK/c"
mount_vol "$WORK/c" "$WORK/m"
pid=${MPID[$WORK/m]}
# The rings start once INIT is answered, just after the mount appears.
for i in $(seq 100); do
	grep -q "requests over io_uring" "$WORK/m.log" && break
	sleep 0.1
done
grep -q "requests over io_uring" "$WORK/m.log" ||
	fail "no io_uring line in the log: $(cat "$WORK/m.log")"
n=$(ring_fds "$pid")
[ "$n" -ge $((2 * ncpu)) ] || fail "$n io_urings for $ncpu CPUs, want at least $((2 * ncpu))"
before=$(ring_cqes "$pid")
for i in $(seq 200); do echo "file $i" >"$WORK/m/f$i"; done
for i in $(seq 200); do [ "$(cat "$WORK/m/f$i")" = "file $i" ] || fail "f$i reads back wrong"; done
after=$(ring_cqes "$pid")
# 200 creates alone are 200 LOOKUPs and 200 CREATEs: each one completion.
[ $((after - before)) -ge 400 ] ||
	fail "only $((after - before)) ring completions for 400+ requests: the ring is not serving"
ok "io_uring serves requests ($n rings, $((after - before)) completions for 200 files)"

# The whole POSIX suite, concurrent writers and a random differential run.
ATR_MNT=$WORK/m ATR_IS_ATRESTFS=1 "$TB/posix_ops" || fail "posix_ops over io_uring"
"$TB/concurrent" "$WORK/m" || fail "concurrent over io_uring"
seed=${FSX_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
mkdir -p "$WORK/ref"
"$TB/fsx_diff" --seed "$seed" --ops 5000 "$WORK/m" "$WORK/ref" ||
	fail "fsx_diff over io_uring seed $seed (rerun: FSX_SEED=$seed $0)"

# SEEK_DATA and SEEK_HOLE write dirty pages back from inside the handler,
# and the kernel queues those WRITEs on the same CPU as the handler's ring
# thread.  Four processes on one CPU seeking at once over dirty pages (two
# to a file, so one can wait on the writeback the other started) must
# not leave that CPU without a ring thread to serve them (a hang fails
# this under its timeout).  Each file gets a 64 KiB write every 128 KiB:
# data at 0, a hole at 64 KiB.
pids=()
for k in 1 2 3 4; do
	timeout 120 taskset -c 0 /usr/bin/python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
for i in range(int(sys.argv[2])):
    os.pwrite(fd, b"x" * 65536, (i % 64) * 131072)
    assert os.lseek(fd, 0, os.SEEK_DATA) == 0
    hole = os.lseek(fd, 0, os.SEEK_HOLE)
    assert hole == 65536, hole
os.close(fd)
' "$WORK/m/seek$((k % 2))" 300 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "concurrent SEEK_DATA/SEEK_HOLE on one CPU failed or hung"
done
ok "concurrent SEEK_DATA/SEEK_HOLE over dirty pages from one CPU"

# Large requests: 1 MiB writes and reads fill the payload buffers whole.
head -c $((24 << 20)) /dev/urandom >"$WORK/big"
dd if="$WORK/big" of="$WORK/m/big" bs=1M conv=fsync status=none || fail "dd to the mount"
sync
echo 3 >/proc/sys/vm/drop_caches
cmp "$WORK/big" "$WORK/m/big" || fail "24 MiB file reads back wrong over io_uring"
ok "posix_ops, concurrent, fsx_diff (seed $seed) and 24 MiB round trip over io_uring"

# Unmount ends the ring threads and the daemon exits 0.
unmount_vol "$WORK/m"
grep -q "extent\|answered EIO\|io_uring queue\|io_uring_enter" "$WORK/m.log" && fail "errors logged: $(cat "$WORK/m.log")"

# 2. SIGTERM while mounted: the daemon stops its ring threads and unmounts.
mount_vol "$WORK/c" "$WORK/m"
pid=${MPID[$WORK/m]}
cat "$WORK/m/f1" >/dev/null
kill -TERM "$pid"
timeout 20 tail --pid="$pid" -f /dev/null || fail "daemon still running 20 s after SIGTERM"
wait "$pid" 2>/dev/null
unset "MPID[$WORK/m]"
is_mounted "$WORK/m" && fail "still mounted after SIGTERM"
ok "SIGTERM stops the ring threads and unmounts"

# 3. -o nouring: no ring, same files.
mount_with "$WORK/c" "$WORK/m" -o nouring --keyfile "$WORK/c.key"
pid=${MPID[$WORK/m]}
# Requests answered first, so INIT is long done when the rings are counted.
[ "$(cat "$WORK/m/f7")" = "file 7" ] || fail "-o nouring: f7 reads back wrong"
cmp "$WORK/big" "$WORK/m/big" || fail "-o nouring: big reads back wrong"
[ "$(ring_fds "$pid")" = 0 ] || fail "-o nouring: the daemon has io_urings open"
unmount_vol "$WORK/m"
grep -q "requests over io_uring" "$WORK/m.log" && fail "-o nouring: ring started"
ok "-o nouring keeps requests on /dev/fuse"

# 4. Offered, but this process may not make an io_uring (sysctl or
# seccomp): the offer is declined, so the kernel does not hold requests
# for rings that never come (it did: the first stat hung).
if [ -n "$old_d" ]; then
	echo 2 >"$D"
	mount_vol "$WORK/c" "$WORK/m"
	pid=${MPID[$WORK/m]}
	[ "$(timeout 20 cat "$WORK/m/f5")" = "file 5" ] ||
		fail "io_uring disabled: f5 does not read back (hung?): $(cat "$WORK/m.log")"
	[ "$(ring_fds "$pid")" = 0 ] || fail "io_uring disabled: the daemon has io_urings open"
	unmount_vol "$WORK/m"
	echo "$old_d" >"$D"
	grep -q "cannot use it (Operation not permitted); requests stay on /dev/fuse" "$WORK/m.log" ||
		fail "io_uring disabled: the log does not say why: $(cat "$WORK/m.log")"
	ok "io_uring offered but not allowed to the daemon: declined, requests on /dev/fuse"
else
	echo "no $D (before Linux 6.6): the declined offer is not checked"
fi

# 5. Not offered: /dev/fuse, and the log says how to turn it on.
echo N >"$P"
mount_vol "$WORK/c" "$WORK/m"
pid=${MPID[$WORK/m]}
[ "$(cat "$WORK/m/f9")" = "file 9" ] || fail "enable_uring=N: f9 reads back wrong"
[ "$(ring_fds "$pid")" = 0 ] || fail "enable_uring=N: the daemon has io_urings open"
unmount_vol "$WORK/m"
grep -q "enable_uring" "$WORK/m.log" ||
	fail "enable_uring=N: the log does not say how to enable io_uring: $(cat "$WORK/m.log")"
ok "without enable_uring requests stay on /dev/fuse, and the log says so"
