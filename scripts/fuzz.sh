#!/usr/bin/env bash
# Fuzzing metasync's parsers with libFuzzer, beyond the corpus replays that
# ctest runs on every build.  The targets are tests/fuzz/fuzz_<name>.c, each
# with its corpus in tests/fuzz/corpus/<name>/ and a dictionary of its
# format's tokens in tests/fuzz/<name>.dict; they are built with clang,
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/.
#
#   scripts/fuzz.sh check [NAME...]   each target for a fixed time, on a copy
#                                     of its corpus (what scripts/test.sh runs);
#                                     any crash, leak, timeout or out-of-memory
#                                     fails, and the input that caused it is
#                                     kept and named.  New inputs are not kept.
#   scripts/fuzz.sh grow [NAME...]    each target for longer, then merge the
#                                     inputs that add coverage into its corpus
#                                     (libFuzzer -merge=1 -use_counters=0:
#                                     only those that reach a branch the
#                                     corpus does not, which keeps it small);
#                                     commit what it adds.
#   scripts/fuzz.sh build             only build the targets.
#
# Environment:
#   MS_FUZZ_SECONDS   check: the wall-clock budget for all targets together
#                     (default 90; 0 skips fuzzing); grow: seconds per target
#                     (default 300)
#   MS_FUZZ_JOBS      targets fuzzed at a time (default 2)
#   MS_FUZZ_DIR       the build directory (default build-fuzz)
# A run's findings go to $MS_FUZZ_DIR/findings/<name>/ (crash-*, leak-*,
# timeout-*, oom-*); `$MS_FUZZ_DIR/tests/fuzz_<name> FILE` runs one again.  A finding
# fixed in the library goes into the corpus as the regression test, which
# ctest then replays on every build.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-check}
[ $# -gt 0 ] && shift
JOBS=${MS_FUZZ_JOBS:-2}
B=$(realpath -m "${MS_FUZZ_DIR:-build-fuzz}")

case $MODE in
check) SECONDS_ALL=${MS_FUZZ_SECONDS:-90} ;;
grow) SECONDS_ALL=${MS_FUZZ_SECONDS:-300} ;;
build) SECONDS_ALL=1 ;;
*)
	echo "usage: scripts/fuzz.sh check|grow|build [NAME...]" >&2
	exit 2
	;;
esac
if [ "$SECONDS_ALL" = 0 ]; then
	echo "fuzz: skipped (MS_FUZZ_SECONDS=0)"
	exit 0
fi

# The targets: all of tests/fuzz/fuzz_*.c, or the names given.
names=()
if [ $# -gt 0 ]; then
	names=("$@")
else
	for f in tests/fuzz/fuzz_*.c; do
		f=${f##*/fuzz_}
		names+=("${f%.c}")
	done
fi
for n in "${names[@]}"; do
	[ -f "tests/fuzz/fuzz_$n.c" ] || { echo "fuzz: no target tests/fuzz/fuzz_$n.c" >&2; exit 2; }
done

# ---- build ------------------------------------------------------------------
scripts/deps.sh test
if [ ! -f "$B/CMakeCache.txt" ] || ! grep -q '^MS_FUZZ:BOOL=ON' "$B/CMakeCache.txt"; then
	rm -rf "$B"
	mkdir -p "$B"
	CC=clang cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_FUZZ=ON -DMS_SANITIZE=ON \
		>"$B/cmake.log" 2>&1 || { cat "$B/cmake.log" >&2; exit 1; }
fi
# (Run again every time: new targets and sources are picked up.)
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
start=$(date +%s)
# (clang's warnings about gcc-only options are noise here; the gcc build
# with -Werror is the one that judges warnings.)
cmake -S . -B "$B" >"$B/cmake.log" 2>&1 || { cat "$B/cmake.log" >&2; exit 1; }
cmake --build "$B" -j"$JOBS" --target "${targets[@]}" >"$B/build.log" 2>&1 ||
	{ tail -n 40 "$B/build.log" >&2; echo "FAIL: fuzz: build failed (see $B/build.log)" >&2; exit 1; }
echo "fuzz: built ${#targets[@]} targets in $(($(date +%s) - start)) s ($B)"
[ "$MODE" != build ] || exit 0

# ASan reports name source lines when a symbolizer is at hand.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
	for s in /usr/lib/llvm-*/bin/llvm-symbolizer; do
		[ -x "$s" ] && export ASAN_SYMBOLIZER_PATH=$s
	done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# ---- run --------------------------------------------------------------------
if [ "$MODE" = check ]; then
	# Everything within the budget, JOBS at a time (about 2 s of each
	# wave goes to loading the corpus and writing the final statistics).
	waves=$(((${#names[@]} + JOBS - 1) / JOBS))
	per=$((SECONDS_ALL / waves - 2))
	[ "$per" -ge 5 ] || per=5
else
	per=$SECONDS_ALL
fi
W=$B/work
rm -rf "$W"
mkdir -p "$W" "$B/findings"

# fuzz NAME: run one target for $per seconds on $W/NAME (a copy of its
# corpus); its log in $W/NAME.log, its exit status in $W/NAME.status.
fuzz() {
	local n=$1 st=0 dict=()
	rm -rf "$B/findings/$n"
	mkdir -p "$W/$n" "$B/findings/$n"
	cp -R "tests/fuzz/corpus/$n/." "$W/$n/"
	[ ! -f "tests/fuzz/$n.dict" ] || dict=(-dict="tests/fuzz/$n.dict")
	"$B/tests/fuzz_$n" -max_total_time="$per" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		"${dict[@]}" -artifact_prefix="$B/findings/$n/" "$W/$n" >"$W/$n.log" 2>&1 || st=$?
	echo "$st" >"$W/$n.status"
}

echo "fuzz: ${#names[@]} targets, $per s each, $JOBS at a time"
start=$(date +%s)
running=0
for n in "${names[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	fuzz "$n" &
	running=$((running + 1))
done
wait || true

failed=0
for n in "${names[@]}"; do
	st=$(cat "$W/$n.status" 2>/dev/null || echo missing)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/$n.log" | tail -n1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$W/$n.log" | tail -n1 || true)
	if [ "$st" = 0 ]; then
		echo "fuzz: $n: ok, ${runs:-?} runs, ${cov:-no coverage line}, $(find "$W/$n" -type f | wc -l) inputs"
		continue
	fi
	failed=1
	echo "FAIL: fuzz: $n exited with $st" >&2
	# The report (without libFuzzer's progress and dictionary lines).
	grep -vE '^#[0-9]+|# Uses: [0-9]+$' "$W/$n.log" | tail -n 50 >&2 || true
	found=$(find "$B/findings/$n" -type f | head -n 5)
	for f in $found; do
		echo "fuzz: $n: reproducer $f" >&2
		echo "fuzz:   run it again: $B/tests/fuzz_$n $f" >&2
	done
	[ -n "$found" ] || echo "fuzz: $n: no reproducer written; the log: $W/$n.log" >&2
done
echo "fuzz: done in $(($(date +%s) - start)) s"
[ "$failed" = 0 ] || exit 1

# ---- grow: merge what adds coverage into the corpora ------------------------
# (Edges only: the hit counts the fuzzer also steers by come back within
# seconds of a run, and keeping an input for each would grow the corpora
# five times over.)
if [ "$MODE" = grow ]; then
	for n in "${names[@]}"; do
		before=$(find "tests/fuzz/corpus/$n" -type f | wc -l)
		"$B/tests/fuzz_$n" -merge=1 -use_counters=0 -timeout=25 -rss_limit_mb=2048 \
			"tests/fuzz/corpus/$n" "$W/$n" \
			>"$W/$n.merge.log" 2>&1 ||
			{ tail -n 20 "$W/$n.merge.log" >&2; echo "FAIL: fuzz: merging into tests/fuzz/corpus/$n failed" >&2; exit 1; }
		after=$(find "tests/fuzz/corpus/$n" -type f | wc -l)
		echo "fuzz: $n: corpus $before -> $after inputs ($(du -sh "tests/fuzz/corpus/$n" | cut -f1))"
	done
	echo "fuzz: review and commit tests/fuzz/corpus/"
fi
