#!/usr/bin/env bash
# tests/run.sh - every test atrestfs has, as "make check" runs it:
#   1. unit tests (cmocka), normal build
#   2. the same under ASan+UBSan (build-san/)
#   3. the same under valgrind: no error, no leak
#   4. mount tests (tests/*/t_*.sh): real FUSE mounts of the normal build
#   5. the POSIX, entries, tamper, holes, writers, scan, full-disk,
#      io_uring, fsck and backup mount tests again on the ASan+UBSan
#      daemon and command (error paths included)
#   6. the full-disk, log, mmap, swap, killpriv, request-count, tamper,
#      holes, writers and fsx mount tests again with FUSE over io_uring enabled in
#      the kernel (the fuse module's enable_uring, put back as it was
#      afterwards)
#   7. every libFuzzer target (build-fuzz/fuzz_*, tests/fuzz/) for
#      FUZZ_CHECK_SECONDS (default 3) from its committed seeds, so that a
#      parser that crashes, leaks or trips a sanitizer on them or near
#      them fails the run; "make fuzz" runs them for longer
# Each runs under a timeout, so a hung FUSE request fails one test instead
# of stalling the run; each mount test unmounts what it mounted.  A test
# whose prerequisite is missing exits 77 and is counted as skipped, never as
# passed.  The last line counts them: "check: N passed, N failed, N skipped".
#
# tests/run.sh --unit ("make unit") runs steps 1 to 3 only, and needs no
# root.  As root, step 1 also runs once as an unprivileged user (nobody),
# so that what "make unit" promises stays true.
set -u
cd "$(dirname "$0")/.."
unit_only=0
[ "${1:-}" = --unit ] && unit_only=1
if [ $unit_only = 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "tests/run.sh: mount tests need root (FUSE, ramfs, loop); 'make unit' runs the unit tests as any user"; exit 2; }
	[ -e /dev/fuse ] || { echo "tests/run.sh: /dev/fuse is missing"; exit 2; }
fi

pass=0
failed=()
skipped=()
VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible"

# Seconds each test took, slowest listed at the end: CI has 20 minutes.
durations=()

run() {
	local name=$1 limit=$2 rc t0=$SECONDS
	shift 2
	echo "=== $name"
	timeout -k 10 "$limit" "$@"
	rc=$?
	durations+=("$((SECONDS - t0)) $name")
	if [ $rc = 0 ]; then
		pass=$((pass + 1))
		echo "--- PASS $name ($((SECONDS - t0)) s)"
	elif [ $rc = 77 ]; then
		# A prerequisite is missing; the test said which.  Not a pass.
		skipped+=("$name")
		echo "--- SKIP $name"
	else
		[ $rc = 124 ] && echo "timed out after ${limit}s"
		failed+=("$name")
		echo "--- FAIL $name (exit $rc, $((SECONDS - t0)) s)"
	fi
}

slowest() {
	echo "slowest: $SECONDS s in all"
	printf '%s\n' "${durations[@]}" | sort -rn | head -15 | sed 's/^/  /'
}

for t in build/tests/test_*; do
	run "unit $(basename "$t")" 300 "$t"
done
for t in build-san/tests/test_*; do
	run "asan+ubsan $(basename "$t")" 300 "$t"
done
for t in build/tests/test_*; do
	run "valgrind $(basename "$t")" 900 $VALGRIND "$t"
done
if [ "$(id -u)" = 0 ]; then
	# nobody may not enter the checkout (CI clones into a 0700 directory),
	# so it runs copies from a directory of its own; from there the tests
	# also show they need not write where they were built.
	ucopy=$(mktemp -d /tmp/atr-unit.XXXXXX)
	cp -a build/tests/test_* "$ucopy"/ && cp -a build/tests/plugins "$ucopy"/ \
		&& chmod 0755 "$ucopy" || { echo "tests/run.sh: cannot copy the unit tests to $ucopy"; exit 2; }
	for t in "$ucopy"/test_*; do
		run "unprivileged $(basename "$t")" 300 \
			setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env -C /tmp HOME=/tmp "$t"
	done
	rm -rf "$ucopy"
fi
if [ $unit_only = 1 ]; then
	slowest
	[ ${#skipped[@]} -gt 0 ] && printf 'skipped: %s\n' "${skipped[@]}"
	[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
	echo "unit: $pass passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
	[ ${#failed[@]} = 0 ]
	exit
fi
# Every suite directory's t_*.sh: integration/, atrest/, keyprov/, ...
for t in tests/*/t_*.sh; do
	run "mount $(basename "$(dirname "$t")")/$(basename "$t" .sh)" 900 bash "$t"
done
export ATR=$PWD/build-san/atrestfs
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in integration/t_posix integration/t_entries integration/t_tamper integration/t_holes integration/t_writers integration/t_scan integration/t_names atrest/t_full integration/t_uring integration/t_fsck integration/t_backup integration/t_rekey_online integration/t_rekey_online_fixes integration/t_lock_rotate integration/t_links_bound_attack integration/t_convert_bound; do
	run "asan+ubsan daemon $(basename "$t")" 900 bash "tests/$t.sh"
done
unset ATR ASAN_OPTIONS UBSAN_OPTIONS
URING=/sys/module/fuse/parameters/enable_uring
uring_tests="atrest/t_full atrest/t_logs atrest/t_mmap atrest/t_swap integration/t_killpriv integration/t_requests integration/t_tamper integration/t_holes integration/t_writers integration/t_fsx"
if [ -w "$URING" ]; then
	uring_was=$(cat "$URING")
	trap 'echo "$uring_was" >"$URING"' EXIT
	echo Y >"$URING"
	for t in $uring_tests; do
		run "io_uring $(basename "$t")" 900 bash "tests/$t.sh"
	done
	echo "$uring_was" >"$URING"
else
	for t in $uring_tests; do
		echo "=== io_uring $(basename "$t")"
		echo "no $URING: kernel without FUSE over io_uring (before Linux 6.14)"
		skipped+=("io_uring $(basename "$t")")
		echo "--- SKIP io_uring $(basename "$t")"
	done
fi

for t in tests/fuzz/fuzz_*.c; do
	t=$(basename "$t" .c)
	run "fuzz ${t#fuzz_}" 300 tests/fuzz/run.sh "${FUZZ_CHECK_SECONDS:-3}" "${t#fuzz_}"
done

echo
slowest
if [ ${#skipped[@]} -gt 0 ]; then
	printf 'skipped: %s\n' "${skipped[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${failed[@]}"
fi
echo "check: $pass passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
[ ${#failed[@]} = 0 ]
