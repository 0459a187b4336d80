#!/usr/bin/env bash
# bench/s3.sh [PARTITIONS]   (default 1000000)
#
# The snapshot on S3 (s3rver on loopback, its data on the local disk) against
# the snapshot on the local disk, side by side in one run, and metasync's
# upload against the AWS CLI's:
#
#   a. export of the catalog to s3://  vs. to a local directory
#   b. import of the snapshot from s3:// vs. from the local directory
#      (into an empty sqlite catalog)
#   c. export to s3:// (reads the catalog, writes the snapshot, uploads it)
#        vs. `/usr/bin/aws s3 cp --recursive` of the same files from a local
#        export (only the upload)                        target: ratio <= 1
#
# The catalog is bench/gen_export.c's synthetic one (as in bench/run.sh),
# imported once into sqlite.  One warm-up pass, then BENCH_REPS (default 3)
# interleaved passes; medians and ratios are what to compare.
#
# Environment: BENCH_DIR (default bench/data; about 6 KB of disk per
# partition), BENCH_REPS, BENCH_REUSE=1 (reuse the catalog of an earlier run
# with the same PARTITIONS).  Exit status: 0 target met, 3 missed, 1 error.
set -euo pipefail

PARTS=${1:-1000000}
case $PARTS in '' | *[!0-9]*) echo "usage: bench/s3.sh [PARTITIONS]" >&2; exit 2 ;; esac
REPS=${BENCH_REPS:-3}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-s3-bench
WORK=${BENCH_DIR:-$REPO/bench/data}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)/s3-$PARTS
mkdir -p "$WORK"
MS=$BUILD/metasync
AWS=/usr/bin/aws
GEN=$WORK/gen_export
UTIL=$WORK/utility
CAT=$WORK/catalog.db
CAT_URL="sqlite:$CAT?catalog-id=111111111111"
LOCAL=$WORK/local-out
LOG=$WORK/log
RES=$WORK/results.tsv
S3DIR=$WORK/s3rver

TIME=/usr/bin/time
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
[ -x "$TIME" ] || die "GNU time is missing ($TIME): apt-get install time"
[ -x "$AWS" ] || die "$AWS is missing (scripts/deps.sh test)"
mkdir -p "$LOG"

# shellcheck source=scripts/s3rver.sh
. "$REPO/scripts/s3rver.sh"
trap 'ms_s3rver_stop "$S3DIR"' EXIT

build_metasync "$BUILD"
echo "metasync: $MS ($(git -C "$REPO" rev-parse --short HEAD))"

if [ "${BENCH_REUSE:-0}" = 1 ] && [ -e "$CAT.complete" ]; then
	say "reusing $CAT"
else
	say "generate $PARTS partitions, import them into $CAT"
	rm -rf "$UTIL"
	rm_db "$CAT"
	gcc -O2 -std=c11 -o "$GEN" "$REPO/bench/gen_export.c" || die "cannot build gen_export"
	"$GEN" "$UTIL" "$PARTS"
	"$MS" import --input-path "$(ls -d "$UTIL"/????-??-??-??-??-??)" --target "$CAT_URL" \
		--allow-no-manifest -q || die "import of the generated export failed"
	rm -rf "$UTIL"
	touch "$CAT.complete"
fi

say "start s3rver (data in $S3DIR)"
ms_s3rver_stop "$S3DIR"
rm -rf "$S3DIR"
mkdir -p "$S3DIR"
ms_s3rver_start "$S3DIR" || die "s3rver did not start"
E=$MS_TEST_S3_ENDPOINT
echo "endpoint: $E"

pass() { # REP
	local rep=$1 k=$RANDOM$RANDOM
	rm -rf "$LOCAL"
	run export-local "$rep" "$LOG/export-local.out" "$MS" export --source "$CAT_URL" --output-path "$LOCAL" -q
	run export-s3 "$rep" "$LOG/export-s3.out" "$MS" export --source "$CAT_URL" --output-path "s3://metasync-test/ex-$k?endpoint=$E" -q
	run aws-cp-up "$rep" "$LOG/aws-cp-up.out" "$AWS" --endpoint-url "$E" s3 cp --recursive --quiet "$LOCAL/" "s3://metasync-test/cli-$k/"
	rm_db "$WORK/t.db"
	run import-local "$rep" "$LOG/import-local.out" "$MS" import --input-path "$LOCAL" --target "sqlite:$WORK/t.db?catalog-id=222222222222" -q
	rm_db "$WORK/t.db"
	run import-s3 "$rep" "$LOG/import-s3.out" "$MS" import --input-path "s3://metasync-test/ex-$k?endpoint=$E" \
		--target "sqlite:$WORK/t.db?catalog-id=222222222222" -q
	rm_db "$WORK/t.db"
	# Keep s3rver's disk from filling: this pass's objects go.
	"$AWS" --endpoint-url "$E" s3 rm --recursive --quiet "s3://metasync-test/ex-$k/" >/dev/null
	"$AWS" --endpoint-url "$E" s3 rm --recursive --quiet "s3://metasync-test/cli-$k/" >/dev/null
}

: >"$RES"
say "warm-up pass (not counted)"
pass warm
SNAPBYTES=$(du -sb "$LOCAL" | cut -f1)
NFILES=$(find "$LOCAL" -type f | wc -l)
for i in $(seq 1 "$REPS"); do
	say "pass $i of $REPS"
	pass "$i"
done

say "results: $PARTS partitions, snapshot of $NFILES files, $SNAPBYTES bytes; medians of $REPS"
el=$(median export-local 3); es=$(median export-s3 3); cp=$(median aws-cp-up 3)
il=$(median import-local 3); is=$(median import-s3 3)
printf '  export  local %8.2f s   s3 %8.2f s   s3/local %5.2f\n' "$el" "$es" "$(echo "$es / $el" | bc -l)"
printf '  import  local %8.2f s   s3 %8.2f s   s3/local %5.2f\n' "$il" "$is" "$(echo "$is / $il" | bc -l)"
ratio=$(echo "$es / $cp" | bc -l)
printf '  upload  metasync export to s3 %8.2f s   aws s3 cp --recursive %8.2f s   ratio %5.2f (target <= 1)\n' \
	"$es" "$cp" "$ratio"
echo
echo "commands (ex-K / cli-K: a fresh prefix per pass):"
echo "  metasync export --source '$CAT_URL' --output-path $LOCAL -q"
echo "  metasync export --source '$CAT_URL' --output-path 's3://metasync-test/ex-K?endpoint=$E' -q"
echo "  $AWS --endpoint-url $E s3 cp --recursive --quiet $LOCAL/ s3://metasync-test/cli-K/"
echo "  metasync import --input-path $LOCAL --target sqlite:T.db?catalog-id=222222222222 -q"
echo "  metasync import --input-path 's3://metasync-test/ex-K?endpoint=$E' --target sqlite:T.db?catalog-id=222222222222 -q"
if [ "$(echo "$ratio <= 1" | bc)" -eq 1 ]; then exit 0; else exit 3; fi
