#!/usr/bin/env bash
# bench/glue_poll.sh [PARTITIONS [REPS]]: what glue://'s polling feed
# (feed=poll, the feed for AWS Glue, which keeps no change log) costs, against
# a metasync serve holding PARTITIONS partitions (default 1,000,000, 2
# databases x 10 tables; the data of bench/live.sh, generated when missing):
#
#   scan   one read of the feed that reads every partition (GetPartitions
#          of every table): a full state, as the feed's first read and every
#          feed-scan= take it.  (A read between two scans is GetDatabases and
#          GetTables of every database only: 3 requests here.)
#
# It is timed as an `export --incremental` into an empty store (a full
# export that also reads the feed's head) against the same export with
# feed=none, REPS times each (default 3), side by side; the difference is
# the feed's.  Requests come from the server's /metrics.  Needs a quiet
# machine for figures that count.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PARTS=${1:-1000000}
REPS=${2:-3}
WORK=$REPO/bench/data/glue_poll
LOG=$WORK/log
BUILD=${BUILD:-$REPO/build-bench-live}
mkdir -p "$WORK" "$LOG"
. "$REPO/bench/lib.sh"
build_metasync "$BUILD"
MS=$BUILD/metasync

UTIL=$REPO/bench/data/live/util-$PARTS
if [ ! -e "$UTIL/.complete" ]; then
	say "generate $PARTS partitions (2 databases, 10 tables)"
	gcc -O2 -std=c11 -o "$WORK/gen_export" "$REPO/bench/gen_export.c"
	rm -rf "$UTIL"
	"$WORK/gen_export" "$UTIL" "$PARTS" 2 10
	touch "$UTIL/.complete"
fi
if [ ! -e "$WORK/glue-$PARTS.db" ]; then
	say "the server's catalog"
	"$MS" import --input-path "$(ls -d "$UTIL"/????-??-??-??-??-??)" \
		--target "sqlite:$WORK/glue-$PARTS.db?catalog-id=111111111111" --allow-no-manifest -q
fi
trap serve_kill EXIT
serve_account poll "$WORK/glue-$PARTS.db" AKIABENCHPOLL0000001 "$WORK"
G=$GLUE

requests() { # requests OP: how many the server has answered
	curl -sf "$ENDPOINT/metrics" | awk -v op="$1" -F'[ ]' \
		'$1 ~ "^metasync_glue_requests_total\\{operation=\"" op "\"" { n += $NF } END { print n + 0 }'
}
# timed NAME FEED: one export --incremental into an empty store; prints seconds and requests
timed() {
	local ops="GetDatabases GetTables GetPartitions" before=() after=() i=0 t0 t1 op
	for op in $ops; do before+=("$(requests "$op")"); done
	rm -rf "$WORK/store"
	t0=$(now)
	"$MS" export --source "$G&feed=$2" --output-path "$WORK/store" --incremental -q 2>"$LOG/$1.err"
	t1=$(now)
	for op in $ops; do after+=("$(requests "$op")"); done
	printf '%s %.2f' "$1" "$(echo "$t1 - $t0" | bc)"
	for op in $ops; do
		printf ' %s=%s' "$op" $((after[i] - before[i]))
		i=$((i + 1))
	done
	echo
}
{
	printf '# bench/glue_poll.sh %s %s at %s on %s\n' "$PARTS" "$REPS" "$TREE" "$(date -u +%FT%TZ)"
	for ((rep = 1; rep <= REPS; rep++)); do
		timed "none-$rep" none
		timed "poll-$rep" poll
	done
} | tee "$WORK/results.txt"
say "summary"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
none=$(awk '/^none-/ { print $2 }' "$WORK/results.txt" | median)
poll=$(awk '/^poll-/ { print $2 }' "$WORK/results.txt" | median)
printf 'export with feed=none %s s, with feed=poll %s s: the scan of %s partitions %.2f s (medians of %s)\n' \
	"$none" "$poll" "$PARTS" "$(echo "$poll - $none" | bc)" "$REPS"
grep -m1 '^poll-' "$WORK/results.txt" | sed 's/^/requests of one export with feed=poll (GetPartitions: twice the listing, the export'"'"'s and the scan'"'"'s): /'
