#!/usr/bin/env bash
# bench/live.sh [PARTITIONS [REPS [SECONDS]]]: live replication, embedded
# catalog to embedded catalog over the embedded bus, with PARTITIONS
# (default 1,000,000, 2 databases x 10 tables) already replicated:
#
#   latency   a writer (bench/live_bench.c) changes one table of the source at
#             10 and at 100 changes a second for SECONDS (default 60; 80% new
#             partitions, 10% the table altered, 10% partitions dropped), each
#             its own commit, while a live source agent and a target agent
#             run; the watcher notes when each change is in the target: p50,
#             p99, max of target - source commit (REPS runs each; median);
#   idle      CPU of both agents with the source quiet (% of a core): the
#             median of 3 samples of 30 s;
#   increment 1% of the partitions put again with a new parameter: the bytes
#             of export --incremental against the full snapshot's, and the
#             time of its import against the full import's.
#
# BENCH_SOURCE=hms-postgresql: the source is a Hive Metastore on PostgreSQL
# (read through its polling feed, ?feed=poll) and the bus NATS JetStream:
# run it under the test servers,
#     scripts/test-servers.sh bash bench/live.sh
# (a metastore database of its own on the PostgreSQL they start, filled
# from the embedded source by metasync sync).
#
# BENCH_SOURCE=glue: the source is an account's catalog in a metasync serve
# (its catalog file filled by an import of the same export), read through
# glue:// and the server's change log (MetasyncGetChanges); the bus is the
# embedded one.  The idle figure then adds the server's CPU to the source's.
#
# Needs a quiet machine (nothing else running) for figures that count.
# BENCH_REUSE=1 keeps the generated utility export in bench/data/live.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PARTS=${1:-1000000}
REPS=${2:-3}
SECS=${3:-60}
KIND=${BENCH_SOURCE:-embedded}
WORK=$REPO/bench/data/live
LOG=$WORK/log
RES=$WORK/results.tsv
BUILD=${BUILD:-$REPO/build-bench-live}
mkdir -p "$WORK" "$LOG"
. "$REPO/bench/lib.sh"

say "build"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMS_TESTS=OFF >"$LOG/cmake.log" 2>&1 ||
	die "cmake failed (log: $LOG/cmake.log)"
cmake --build "$BUILD" -j2 --target metasync live_bench >"$LOG/make.log" 2>&1 ||
	die "build failed (log: $LOG/make.log)"
tree_id
MS=$BUILD/metasync
LB=$BUILD/live_bench
GEN=$WORK/gen_export
gcc -O2 -std=c11 -Wall -Wextra -o "$GEN" "$REPO/bench/gen_export.c" || die "cannot build gen_export"

UTIL=$WORK/util-$PARTS
if [ "${BENCH_REUSE:-}" != 1 ] || [ ! -e "$UTIL/.complete" ]; then
	say "generate $PARTS partitions (2 databases, 10 tables)"
	rm -rf "$UTIL"
	"$GEN" "$UTIL" "$PARTS" 2 10
	touch "$UTIL/.complete"
fi
S="sqlite:$WORK/src.db?catalog-id=111111111111"
D="sqlite:$WORK/dst.db?catalog-id=222222222222"
rm_db "$WORK/src.db"
rm_db "$WORK/dst.db"
rm -rf "$WORK/store" "$WORK/bus.db"
say "source catalog"
"$MS" import --input-path "$(ls -d "$UTIL"/????-??-??-??-??-??)" --target "$S" --allow-no-manifest -q
BUS="embedded:$WORK/bus.db"
if [ "$KIND" = hms-postgresql ]; then
	[ -n "${MS_TEST_HMS_PG_URL:-}" ] && [ -n "${MS_TEST_NATS_URL:-}" ] ||
		die "BENCH_SOURCE=hms-postgresql runs under scripts/test-servers.sh"
	PGHOST=$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$MS_TEST_HMS_PG_URL")
	PSQL=/usr/lib/postgresql/15/bin/psql
	"$PSQL" -X -q -h "$PGHOST" -U metasync -d hms -c "DROP DATABASE IF EXISTS hmsbench" >/dev/null 2>&1
	"$PSQL" -X -q -h "$PGHOST" -U metasync -d hms -c "CREATE DATABASE hmsbench" >/dev/null
	"$PSQL" -X -q -h "$PGHOST" -U metasync -d hmsbench -v ON_ERROR_STOP=1 \
		-f "$REPO/tests/fixtures/hive-metastore-3.1/hive-schema-3.1.0.postgres.sql" >"$LOG/schema.log" 2>&1 ||
		die "cannot load the Hive schema (log: $LOG/schema.log)"
	H="hms+postgresql://metasync@/hmsbench?host=$PGHOST&catalog-id=444444444444"
	say "the metastore from the embedded source (sync)"
	t0=$(now)
	"$MS" sync --source "$S" --target "$H" -q
	printf 'sync of %s partitions into the metastore: %.1f s\n' "$PARTS" "$(echo "$(now) - $t0" | bc)"
	S="$H&feed=poll"
	BUS=$MS_TEST_NATS_URL
elif [ "$KIND" = glue ]; then
	rm_db "$WORK/glue.db"
	say "the server's catalog (import of the same export)"
	"$MS" import --input-path "$(ls -d "$UTIL"/????-??-??-??-??-??)" \
		--target "sqlite:$WORK/glue.db?catalog-id=111111111111" --allow-no-manifest -q
	trap serve_kill EXIT
	serve_account live "$WORK/glue.db" AKIABENCHLIVE0000001 "$WORK"
	S=$GLUE
fi
DB=$("$MS" catalog ls "$S" --json | jq -r '.[0]')
TB=$("$MS" catalog ls "$S" "$DB" --json | jq -r '.[0]')
TABLE_PARTS=$("$MS" catalog ls "$S" "$DB" "$TB" --json | jq length)
echo "writer's table: $DB.$TB ($TABLE_PARTS partitions)"

say "full snapshot and its import"
t0=$(now)
"$MS" export --source "$S" --output-path "$WORK/store" -q
FULL_EXPORT=$(echo "$(now) - $t0" | bc)
FULL_ID=$(cat "$WORK/store/LATEST")
FULL_BYTES=$(du -sb "$WORK/store/$FULL_ID" | cut -f1)
t0=$(now)
"$MS" import --input-path "$WORK/store" --target "$D" -q
FULL_IMPORT=$(echo "$(now) - $t0" | bc)
printf 'full export %.2f s, %s bytes; full import %.2f s\n' "$FULL_EXPORT" "$FULL_BYTES" "$FULL_IMPORT"

cat >"$WORK/source.yaml" <<EOF
bus: $BUS
source:
  name: lake
  catalog: $S
  store: $WORK/store
  mode: live
  poll: 50ms
EOF
cat >"$WORK/targets.yaml" <<EOF
bus: $BUS
targets:
  - name: replica
    catalog: $D
    deletes: mirror
EOF
"$MS" agent --config "$WORK/source.yaml" 2>"$LOG/source.log" &
SRC_PID=$!
"$MS" agent --config "$WORK/targets.yaml" 2>"$LOG/targets.log" &
TGT_PID=$!
trap 'kill $SRC_PID $TGT_PID 2>/dev/null || true; serve_kill' EXIT
sleep 2

{
	printf '# bench/live.sh %s %s %s (source %s) at %s on %s\n' "$PARTS" "$REPS" "$SECS" "$KIND" "$TREE" "$(date -u +%FT%TZ)"
	printf 'rate\trep\tchanges\tseen\tp50\tp99\tmax\n'
} >"$RES"
for rate in 10 100; do
	for ((rep = 1; rep <= REPS; rep++)); do
		say "latency at $rate changes/s, run $rep"
		line=$("$LB" write "$S" "$D" "$DB" "$TB" "$rate" "$SECS") || die "not every change arrived: $line"
		echo "$line"
		eval "$(echo "$line" | tr ' ' '\n' | sed 's/^/L_/')"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "$rep" "$L_changes" "$L_seen" "$L_p50" "$L_p99" "$L_max" >>"$RES"
	done
done

say "idle CPU (3 samples of 30 s, median)"
sleep 5
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# (a glue source: the server answers the source agent's reads of the feed; its CPU apart)
cpu_serve() { if [ -n "$SERVE_PID" ]; then cpu "$SERVE_PID"; else echo 0; fi; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
hz=$(getconf CLK_TCK)
SAMPLES_SRC="" SAMPLES_TGT="" SAMPLES_SERVE=""
for sample in 1 2 3; do
	s0=$(cpu $SRC_PID)
	t0=$(cpu $TGT_PID)
	v0=$(cpu_serve)
	w0=$(now)
	sleep 30
	s1=$(cpu $SRC_PID)
	t1=$(cpu $TGT_PID)
	v1=$(cpu_serve)
	wall=$(echo "$(now) - $w0" | bc)
	SAMPLES_SRC+="$(echo "scale=3; 100 * ($s1 - $s0) / $hz / $wall" | bc) "
	SAMPLES_TGT+="$(echo "scale=3; 100 * ($t1 - $t0) / $hz / $wall" | bc) "
	SAMPLES_SERVE+="$(echo "scale=3; 100 * ($v1 - $v0) / $hz / $wall" | bc) "
done
IDLE_SRC=$(tr ' ' '\n' <<<"$SAMPLES_SRC" | grep . | median)
IDLE_TGT=$(tr ' ' '\n' <<<"$SAMPLES_TGT" | grep . | median)
IDLE_SERVE=$(tr ' ' '\n' <<<"$SAMPLES_SERVE" | grep . | median)
printf 'idle samples (%% of a core): source agent %s; target agent %s; server %s\n' \
	"$SAMPLES_SRC" "$SAMPLES_TGT" "$SAMPLES_SERVE"
printf 'idle: source agent %s%% of a core, target agent %s%%, server %s%% (medians)\n' "$IDLE_SRC" "$IDLE_TGT" "$IDLE_SERVE"
kill -TERM $SRC_PID $TGT_PID
wait $SRC_PID $TGT_PID || true

say "an incremental snapshot after 1% of the partitions changed"
"$LB" touch "$S" "$DB" "$TB" $((PARTS / 100))
t0=$(now)
"$MS" export --source "$S" --output-path "$WORK/store" --incremental --full-every 100000 -q
INCR_EXPORT=$(echo "$(now) - $t0" | bc)
INCR_ID=$(cat "$WORK/store/LATEST")
INCR_BYTES=$(du -sb "$WORK/store/$INCR_ID" | cut -f1)
t0=$(now)
"$MS" import --input-path "$WORK/store" --target "$D" --deletes mirror -q
INCR_IMPORT=$(echo "$(now) - $t0" | bc)
"$MS" verify --source "$S" --target "$D" >"$LOG/verify.out" || die "the target does not match: $(head "$LOG/verify.out")"

say "summary"
for rate in 10 100; do
	p50=$(awk -F'\t' -v r=$rate '$1 == r { print $5 }' "$RES" | median)
	p99=$(awk -F'\t' -v r=$rate '$1 == r { print $6 }' "$RES" | median)
	printf '%4s changes/s: p50 %s s, p99 %s s (median of %s runs of %s s)\n' "$rate" "$p50" "$p99" "$REPS" "$SECS"
done
printf 'idle CPU: source agent %s%%, target agent %s%% of a core (server: %s%%)\n' "$IDLE_SRC" "$IDLE_TGT" "$IDLE_SERVE"
printf 'incremental after 1%%: %s bytes = %.2f%% of the full %s; import %.2f s = %.2f%% of the full import %.2f s (export %.2f s)\n' \
	"$INCR_BYTES" "$(echo "100 * $INCR_BYTES / $FULL_BYTES" | bc -l)" "$FULL_BYTES" \
	"$INCR_IMPORT" "$(echo "100 * $INCR_IMPORT / $FULL_IMPORT" | bc -l)" "$FULL_IMPORT" "$INCR_EXPORT"
