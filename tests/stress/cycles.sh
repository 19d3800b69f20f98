# tests/stress/cycles.sh - untar/rm cycles with the daemon's RSS and
# descriptors measured after each; sourced after tests/integration/lib.sh
# by tests/stress/stress.sh (20 cycles) and tests/integration/t_cycles.sh
# (a short version for "make check").

# make_tarball TAR NFILES: a tree of NFILES files (0 to 16 KiB, 100 to a
# directory, a symlink every 50th) packed into TAR, the same for a given
# NFILES so that cycles and runs compare.
make_tarball() {
	python3 - "$WORK/tree" "$2" <<'EOF' || fail "making a tree of $2 files"
import os, random, sys
top, n = sys.argv[1], int(sys.argv[2])
r = random.Random(n)
for i in range(n):
    d = os.path.join(top, "d%03d" % (i // 100), "s%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(r.randbytes(r.choice([0, 100, 4096, 5000, 16384])))
    if i % 50 == 0:
        os.symlink("f%05d" % i, os.path.join(d, "l%05d" % i))
EOF
	tar -cf "$1" -C "$WORK/tree" . || fail "tar of the tree"
	rm -rf "$WORK/tree"
}

# daemon_rss PID: VmRSS in KiB; daemon_fds PID: open descriptors;
# daemon_threads PID: threads (each has its buffers: part of the RSS)
daemon_threads() {
	ls "/proc/$1/task" | wc -l
}
daemon_rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}
daemon_fds() {
	ls "/proc/$1/fd" | wc -l
}

# settled_fds PID: the descriptor count once it stops changing (up to 5 s).
# The kernel sends its FORGETs for a removed tree after rm -rf returns,
# and the daemon closes an inode's descriptor only then.
settled_fds() {
	local prev now i
	prev=$(daemon_fds "$1")
	for i in $(seq 25); do
		sleep 0.2
		now=$(daemon_fds "$1")
		[ "$now" = "$prev" ] && break
		prev=$now
	done
	echo "$prev"
}

# run_cycles MNT TAR N: N times untar TAR into MNT and rm -rf it; prints a
# table and fills CYC_RSS[1..N] (KiB) and CYC_FDS[1..N].  rm -rf leaves
# the kernel no inode of the tree to keep, so the daemon should hold what
# it held before the untar.
run_cycles() {
	local m=$1 tar=$2 n=$3 pid i t0 ms
	pid=${MPID[$m]}
	CYC_RSS=() CYC_FDS=()
	printf '%6s %10s %6s %8s %8s\n' cycle "RSS KiB" fds threads seconds
	for ((i = 1; i <= n; i++)); do
		t0=$(date +%s%N)
		mkdir "$m/x" && tar -xf "$tar" -C "$m/x" || fail "cycle $i: untar into $m"
		rm -rf "$m/x" || fail "cycle $i: rm -rf $m/x"
		[ -e "$m/x" ] && fail "cycle $i: $m/x still there after rm -rf"
		CYC_RSS[i]=$(daemon_rss "$pid")
		CYC_FDS[i]=$(settled_fds "$pid")
		[ -n "${CYC_RSS[i]}" ] || fail "cycle $i: no daemon $pid"
		ms=$((($(date +%s%N) - t0) / 1000000))
		printf '%6d %10d %6d %8d %6d.%d\n' "$i" "${CYC_RSS[i]}" \
			"${CYC_FDS[i]}" "$(daemon_threads "$pid")" \
			$((ms / 1000)) $((ms % 1000 / 100))
	done
}
