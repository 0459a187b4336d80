#!/usr/bin/env bash
# Golden test runner for the command line (one directory per case, as curl
# keeps its tests as data).  A case directory holds:
#   cmd              bash run with METASYNC (the binary), T (a fresh temp dir),
#                    FIX (tests/fixtures) and GOLDEN (tests/golden) set
#   stdout, stderr   expected output (optional; compared after normalizing)
#   status           expected exit status (default 0)
# MS_GOLDEN_RECORD=1 writes the current output as the expectation (review it!).
# Normalizing: the temp dir becomes $T, durations become N, snapshot ids
# (YYYY-MM-DD-HH-MM-SS) become SNAPSHOT.
set -uo pipefail
bin=$1
case_dir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

normalize() {
	sed -E -e "s#$T#\$T#g" -e "s#$FIX#\$FIX#g" \
		-e 's/in [0-9]+\.[0-9]+ s/in N s/g' \
		-e 's/"seconds":[0-9.e+-]+/"seconds":N/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}(-[0-9]+)?/SNAPSHOT/g'
}

export METASYNC=$bin T FIX="$here/../fixtures" GOLDEN="$here"
(cd "$T" && bash -e "$case_dir/cmd") >"$T.out" 2>"$T.err"
status=$?
want_status=0
[ -f "$case_dir/status" ] && want_status=$(cat "$case_dir/status")
if [ -n "${MS_GOLDEN_RECORD:-}" ]; then
	# Record mode: write what the command printed as the expectation.
	normalize <"$T.out" >"$case_dir/stdout"
	normalize <"$T.err" >"$case_dir/stderr"
	[ "$status" = 0 ] && rm -f "$case_dir/status" || echo "$status" >"$case_dir/status"
	rm -f "$T.out" "$T.err"
	exit 0
fi
fail=0
if [ "$status" != "$want_status" ]; then
	echo "exit status $status, expected $want_status"
	fail=1
fi
for stream in stdout stderr; do
	got="$T.out"
	[ $stream = stderr ] && got="$T.err"
	if [ -f "$case_dir/$stream" ]; then
		if ! diff -u "$case_dir/$stream" <(normalize <"$got") >"$T.diff"; then
			echo "$stream differs:"
			cat "$T.diff"
			fail=1
		fi
	fi
done
if [ $fail -ne 0 ]; then
	echo "--- stdout"; cat "$T.out"; echo "--- stderr"; cat "$T.err"
fi
rm -f "$T.out" "$T.err" "$T.diff"
exit $fail
