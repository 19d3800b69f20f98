#!/usr/bin/env bash
# tests/stress/stress.sh - "make stress": long runs, not part of "make check"
# (tests/run.sh runs tests/*/t_*.sh; nothing here is named so).  Three parts,
# each a real mount of the build's atrestfs, results in docs/reliability.md:
#   ops     STRESS_PROCS (8) processes doing mixed metadata and data
#           operations on one mount for STRESS_MINUTES (30), each checked
#           against a plain reference tree (stress_ops.c); then the whole
#           tree compared, an unmount, a remount, every file read and
#           compared again, the daemon's log free of errors, and
#           "atrestfs fsck" clean.
#   fsx     the differential test (tests/integration/fsx_diff.c) for FSX_OPS
#           (1,000,000) operations; FSX_SEED reruns one, the seed is printed.
#   cycles  CYCLES (20) times untar a tree of CYCLE_FILES (5,000) files into
#           the mount and rm -rf it; the daemon's RSS may grow by at most
#           RSS_BOUND_KIB (1024) from cycle 5 to the last, its descriptor
#           count not at all.  The daemon runs with CYCLES_ARENAS (1)
#           malloc arenas (MALLOC_ARENA_MAX) so that RSS follows the heap
#           in use, not a thread's first arena (docs/reliability.md).
# STRESS_PARTS picks parts ("ops fsx cycles" by default); STRESS_SEED seeds
# the ops part; STRESS_SECONDS overrides STRESS_MINUTES for a trial run.
# Each failure is one line starting "FAIL:"; the exit status is then 1.
. "$(dirname "$0")/../integration/lib.sh"

minutes=${STRESS_MINUTES:-30}
seconds=${STRESS_SECONDS:-$((minutes * 60))}	# for a short trial run
procs=${STRESS_PROCS:-8}
parts=${STRESS_PARTS:-ops fsx cycles}
[ "$(id -u)" = 0 ] || { echo "stress: needs root (FUSE mounts)"; exit 77; }
echo "stress: $(date -u '+%F %T UTC'), $(nproc) CPUs, $(uname -r), parts: $parts"

# log_clean MNT WHAT: the daemon logged no error
log_clean() {
	grep -qi "error\|tampered\|Sanitizer\|runtime error" "$1.log" &&
		fail "$2: the daemon logged an error: $(grep -i "error\|tampered" "$1.log" | head -5)"
	return 0
}

# fsck_clean CIPHER WHAT: fsck exits 0 and reports nothing on stdout
fsck_clean() {
	local out
	out=$("$ATR" fsck -k "$1.key" "$1" 2>"$WORK/fsck.err" </dev/null) ||
		fail "$2: fsck exited $?: $out $(tail -3 "$WORK/fsck.err")"
	[ -z "$out" ] || fail "$2: fsck reported: $out"
	echo "$2: $(tail -1 "$WORK/fsck.err")"
}

part_ops() {
	local c=$WORK/ops m=$WORK/ops.m ref=$WORK/ops.ref seed pid t0
	seed=${STRESS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	new_volume "$c" --names encrypted
	mount_vol "$c" "$m"
	mkdir -p "$ref"
	pid=${MPID[$m]}
	echo "ops: $procs processes, $seconds s, seed $seed; daemon RSS $(daemon_rss "$pid") KiB, $(daemon_fds "$pid") fds"
	t0=$SECONDS
	"$TB/stress_ops" run --seed "$seed" --procs "$procs" \
		--seconds "$seconds" "$m" "$ref" ||
		fail "ops: stress_ops seed $seed (rerun: STRESS_SEED=$seed STRESS_PARTS=ops $0)"
	echo "ops: done in $((SECONDS - t0)) s; daemon RSS $(daemon_rss "$pid") KiB, $(daemon_fds "$pid") fds"
	log_clean "$m" "ops"
	unmount_vol "$m"
	mount_vol "$c" "$m"
	"$TB/stress_ops" verify "$m" "$ref" || fail "ops: after a remount, the tree differs from the reference"
	log_clean "$m" "ops, after the remount"
	unmount_vol "$m"
	echo "ops: backing directory: $(find "$c" | wc -l) entries, $(du -sh "$c" | cut -f1)"
	fsck_clean "$c" ops
	rm -rf "$c" "$ref"
}

part_fsx() {
	local c=$WORK/fsx m=$WORK/fsx.m ref=$WORK/fsx.ref seed ops=${FSX_OPS:-1000000} t0
	seed=${FSX_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	new_volume "$c" --names encrypted
	mount_vol "$c" "$m"
	mkdir -p "$ref"
	echo "fsx: $ops operations, seed $seed"
	t0=$SECONDS
	"$TB/fsx_diff" --seed "$seed" --ops "$ops" "$m" "$ref" ||
		fail "fsx: fsx_diff seed $seed (rerun: FSX_SEED=$seed FSX_OPS=$ops STRESS_PARTS=fsx $0)"
	log_clean "$m" "fsx"
	unmount_vol "$m"
	fsck_clean "$c" fsx
	echo "fsx: $ops operations equal to the reference in $((SECONDS - t0)) s, seed $seed"
	rm -rf "$c" "$ref"
}

part_cycles() {
	local c=$WORK/cyc m=$WORK/cyc.m n=${CYCLES:-20} files=${CYCLE_FILES:-5000}
	local bound=${RSS_BOUND_KIB:-1024} from=5 grow
	[ "$n" -ge 6 ] || fail "cycles: CYCLES must be 6 or more (growth is measured from cycle 5)"
	make_tarball "$WORK/tree.tar" "$files"
	new_volume "$c" --names encrypted
	# One arena: with glibc's default (8 per CPU), a worker first busy in
	# a later cycle, or one libfuse started afresh, makes or grows an
	# arena of its own and the RSS steps by 1 to 2 MiB once with no byte
	# leaked.  A leak still grows the one arena, so RSS still shows it.
	MALLOC_ARENA_MAX=${CYCLES_ARENAS:-1} mount_vol "$c" "$m"
	echo "cycles: $n x (untar $files files, $(du -h "$WORK/tree.tar" | cut -f1), rm -rf);" \
		"daemon at start: RSS $(daemon_rss "${MPID[$m]}") KiB, $(daemon_fds "${MPID[$m]}") fds"
	run_cycles "$m" "$WORK/tree.tar" "$n"
	grow=$((CYC_RSS[n] - CYC_RSS[from]))
	echo "cycles: RSS from cycle $from to $n: ${grow} KiB (bound $bound KiB);" \
		"fds ${CYC_FDS[1]} at cycle 1, ${CYC_FDS[n]} at cycle $n"
	[ "$grow" -le "$bound" ] ||
		fail "cycles: the daemon's RSS grew by $grow KiB from cycle $from to $n (bound $bound KiB)"
	for ((i = 2; i <= n; i++)); do
		[ "${CYC_FDS[i]}" -le "${CYC_FDS[1]}" ] ||
			fail "cycles: the daemon held ${CYC_FDS[i]} descriptors after cycle $i, ${CYC_FDS[1]} after cycle 1"
	done
	log_clean "$m" "cycles"
	unmount_vol "$m"
}

. "$(dirname "$0")/cycles.sh"
# Each part in a subshell with a scratch directory and clean-up of its own,
# so that one failing still lets the others run and report.
failed=()
for p in $parts; do
	case $p in
	ops | fsx | cycles) ;;
	*) fail "STRESS_PARTS: no part '$p' (ops, fsx, cycles)" ;;
	esac
	t0=$SECONDS
	(
		WORK=$(mktemp -d /tmp/atrestfs-stress.XXXXXX) MOUNTS=() PIDS=()
		trap cleanup EXIT
		"part_$p"
	) || failed+=("$p")
	echo "stress: part $p took $((SECONDS - t0)) s"
done
[ ${#failed[@]} = 0 ] || fail "stress: part(s) failed: ${failed[*]}"
ok "stress: $parts"
