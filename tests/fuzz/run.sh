#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [NAME...] - run the libFuzzer targets of
# build-fuzz/ ("make FUZZ=1 fuzz-targets"), each for SECONDS, from the
# committed seeds (tests/fuzz/corpus/NAME/) and the inputs earlier runs
# found (build-fuzz/corpus/NAME/, kept between runs and never committed).
# No NAME: every target.  Exits non-zero if a target crashed, leaked or
# hung; the input that did it is in build-fuzz/crash/, and is a bug: fix
# it and commit the input to tests/fuzz/corpus/NAME/ as a regression seed.
# Each run appends "date target seconds-taken runs result" to
# build-fuzz/fuzz.log, the raw figures of docs/reliability.md.
set -u
cd "$(dirname "$0")/../.."
secs=${1:?usage: tests/fuzz/run.sh SECONDS [NAME...]}
shift
names=("$@")
if [ ${#names[@]} = 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		f=$(basename "$f" .c)
		names+=("${f#fuzz_}")
	done
fi
mkdir -p build-fuzz/crash
failed=()
for n in "${names[@]}"; do
	bin=build-fuzz/fuzz_$n
	[ -x "$bin" ] || { echo "fuzz: $bin is missing: make FUZZ=1 fuzz-targets"; exit 2; }
	mkdir -p "build-fuzz/corpus/$n"
	# libconfig leaks on some syntax errors: suppressed by name for the
	# config target only, leak detection stays on everywhere.
	lsan=
	[ -f "tests/fuzz/lsan-$n.supp" ] && lsan="suppressions=$PWD/tests/fuzz/lsan-$n.supp"
	echo "=== fuzz $n for ${secs}s"
	start=$SECONDS
	# -error_exitcode: libFuzzer's default, 77, means "skipped" to
	# tests/run.sh; a finding must never read as that.
	LSAN_OPTIONS=$lsan "$bin" -max_total_time="$secs" -timeout=30 \
		-error_exitcode=99 -timeout_exitcode=98 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/crash/$n-" \
		"build-fuzz/corpus/$n" "tests/fuzz/corpus/$n" \
		>"build-fuzz/fuzz_$n.out" 2>&1
	rc=$?
	took=$((SECONDS - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/fuzz_$n.out" | tail -1)
	if [ $rc = 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc)"
		failed+=("$n")
		# The sanitizer's report and the input that caused it.
		grep -E -A30 '^==[0-9]+==ERROR|runtime error|^SUMMARY|Test unit written' \
			"build-fuzz/fuzz_$n.out" | head -60
	fi
	echo "fuzz $n: ${runs:-?} runs in ${took}s: $result"
	echo "$(date -u +%FT%TZ) $n $took ${runs:-0} ${result%% *}" >>build-fuzz/fuzz.log
done
[ ${#failed[@]} = 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
