#!/usr/bin/env bash
# bench/agent.sh [PARTITIONS]   (default: the demo's 100000)
#
# The agent's own overhead: the time from a snapshot's completion to both
# targets having applied it, beyond the imports' own duration.
#
# Builds metasync (Release, build-bench-agent), makes the demo's source
# catalog (`metasync demo`), then, on the embedded bus and on NATS JetStream
# (a nats-server -js started here on a loopback port, in the scratch
# directory), BENCH_REPS times (default 3):
#   - two target agents (separate processes, as deployed) start on a fresh
#     bus (a new file, a new namespace) with empty target catalogs;
#   - `metasync export --source DEMO --output-path STORE --notify BUS`;
#   - when both io.metasync.import.succeeded events are on the results
#     stream, per target:
#       latency  = the import.succeeded event's time - the
#                  io.metasync.snapshot.created event's time
#       overhead = latency - the import's own `seconds` (its report: the
#                  sync)                                  target: <= 1 s
#       agent's  = latency - the import's `wall_seconds` (the agent's clock
#                  around the whole import: opening and checking the
#                  snapshot, the sync, closing the target catalog, whose
#                  WAL SQLite checkpoints then): delivery, reading the
#                  results stream, publishing the result
#     and the run's figures are the larger of the two targets'.
# Median of the runs per bus.  Event times are the events' `time` attributes
# (milliseconds, one clock: everything runs on this machine).
#
# Environment:
#   BENCH_DIR    scratch directory (default bench/data/agent, git-ignored)
#   BENCH_REPS   runs per bus (default 3)
#   METASYNC     a metasync binary to use instead of building one
#
# Exit status: 0 target met on every bus, 3 missed somewhere, 1 error.
set -euo pipefail

PARTS=${1:-100000}
case $PARTS in '' | *[!0-9]*) echo "usage: bench/agent.sh [PARTITIONS]" >&2; exit 2 ;; esac
REPS=${BENCH_REPS:-3}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${BENCH_DIR:-$REPO/bench/data/agent}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SRC_ID=111111111111
PIDS=()
NATS_PID=

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
cleanup() {
	local p
	for p in "${PIDS[@]}" $NATS_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}" $NATS_PID; do
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

if [ -n "${METASYNC:-}" ]; then
	MS=$METASYNC
else
	say "build (Release)"
	cmake -S "$REPO" -B "$REPO/build-bench-agent" -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 ||
		{ tail -n 20 "$WORK/cmake.log" >&2; die "cmake failed"; }
	cmake --build "$REPO/build-bench-agent" -j"$(nproc)" --target metasync >"$WORK/build.log" 2>&1 ||
		{ tail -n 20 "$WORK/build.log" >&2; die "build failed"; }
	MS=$REPO/build-bench-agent/metasync
fi
"$MS" --version

say "source: metasync demo --partitions $PARTS"
DEMO=$WORK/demo-$PARTS
if [ ! -s "$DEMO/accounts.db" ]; then
	"$MS" demo --dir "$DEMO" --partitions "$PARTS" >"$WORK/demo.log" 2>&1 ||
		{ tail -n 20 "$WORK/demo.log" >&2; die "demo failed"; }
fi
SRC="sqlite:$DEMO/accounts.db?catalog-id=$SRC_ID"
"$MS" catalog ls "$SRC" --json >/dev/null || die "no source catalog in '$DEMO'"

start_nats() {
	local dir=$WORK/nats ports i
	rm -rf "$dir"
	mkdir -p "$dir"
	nats-server -js -a 127.0.0.1 -p -1 --ports_file_dir "$dir" -sd "$dir/store" \
		-l "$dir/server.log" </dev/null >/dev/null 2>&1 &
	NATS_PID=$!
	for i in $(seq 1 100); do
		ports=$(cat "$dir"/nats-server_*.ports 2>/dev/null) && [ -n "$ports" ] && break
		sleep 0.05
	done
	NATS_URL=$(printf '%s' "$ports" | grep -o 'nats://127\.0\.0\.1:[0-9]*' | head -n1)
	[ -n "$NATS_URL" ] || { cat "$dir/server.log" >&2; die "nats-server did not start"; }
}

# Seconds since the epoch of an RFC 3339 UTC time with milliseconds.
epoch() { date -u -d "$1" +%s.%N; }

# One run: prints "L1 L2 S1 S2 W1 W2 OS OW": per target the latency (event
# to event), the import's seconds (the sync, from its report) and its
# wall_seconds (the whole ms_import, open to close, measured by the agent);
# OS = max(L - S), OW = max(L - W).
one_run() { # BUS DIR
	local bus=$1 d=$2 i t0 n st p tm s w
	rm -rf "$d"
	mkdir -p "$d"
	PIDS=()
	for i in 1 2; do
		cat >"$d/t$i.yaml" <<EOF
bus: $bus
targets:
  - name: bench$i
    catalog: sqlite:$d/t$i.db?catalog-id=90000000000$i
EOF
		"$MS" agent --config "$d/t$i.yaml" 2>"$d/t$i.log" &
		PIDS+=($!)
	done
	# Let both subscribe and wait on the bus (a new subscription would
	# also get the event later, but its start-up would be counted).
	sleep 1
	"$MS" export --source "$SRC" --output-path "$d/store" --notify "$bus" -q ||
		die "export --notify failed"
	n=0
	for i in $(seq 1 6000); do
		"$MS" bus read --bus "$bus" --stream results >"$d/results.raw"
		grep -q 'import\.failed' "$d/results.raw" && die "an import failed: $(cat "$d"/t*.log)"
		n=$(grep -c 'import\.succeeded' "$d/results.raw" || true)
		[ "$n" -ge 2 ] && break
		sleep 0.1
	done
	[ "$n" -ge 2 ] || die "the targets did not both apply the snapshot in 10 minutes"
	for p in "${PIDS[@]}"; do
		kill -TERM "$p"
		st=0
		wait "$p" || st=$?
		[ "$st" -eq 0 ] || die "agent exited with $st"
	done
	PIDS=()
	t0=$(epoch "$("$MS" bus read --bus "$bus" --stream snapshots | jq -r '.data | fromjson | .time')")
	jq -r '.data | fromjson | select(.type == "io.metasync.import.succeeded") |
		"\(.time) \(.data.seconds) \(.data.wall_seconds)"' <"$d/results.raw" |
		while read -r tm s w; do echo "$(epoch "$tm") $s $w"; done >"$d/results"
	awk -v t0="$t0" '{
		l[NR] = $1 - t0; s[NR] = $2; w[NR] = $3
		if (NR == 1 || l[NR] - s[NR] > os) os = l[NR] - s[NR]
		if (NR == 1 || l[NR] - w[NR] > ow) ow = l[NR] - w[NR]
	} END {
		printf "%.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", l[1], l[2], s[1], s[2], w[1], w[2], os, ow
	}' "$d/results"
}

mid() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

RES=$WORK/results.txt
: >"$RES"
missed=0
for kind in embedded nats; do
	if [ "$kind" = nats ]; then
		command -v nats-server >/dev/null || { echo "bench: no nats-server: NATS skipped"; continue; }
		start_nats
	fi
	say "$kind: $REPS runs"
	echo "latency1 latency2 seconds1 seconds2 wall1 wall2 | beyond seconds, beyond wall"
	for r in $(seq 1 "$REPS"); do
		case $kind in
		embedded) bus="embedded:$WORK/run-$kind-$r/bus.db" ;;
		nats) bus="$NATS_URL?namespace=bench_$$_$r" ;;
		esac
		line=$(one_run "$bus" "$WORK/run-$kind-$r")
		echo "$kind run $r: $line"
		echo "$kind $r $line" >>"$RES"
	done
	os=$(awk -v k="$kind" '$1 == k { print $9 }' "$RES" | mid)
	ow=$(awk -v k="$kind" '$1 == k { print $10 }' "$RES" | mid)
	lat=$(awk -v k="$kind" '$1 == k { print ($3 > $4 ? $3 : $4) }' "$RES" | mid)
	echo "$kind: median time to both applied ${lat} s; beyond the imports' seconds ${os} s;" 		"beyond their wall time ${ow} s  (target <= 1 s)"
	awk -v m="$os" 'BEGIN { exit !(m <= 1) }' || missed=1
	if [ "$kind" = nats ]; then
		kill -TERM "$NATS_PID" 2>/dev/null || true
		wait "$NATS_PID" 2>/dev/null || true
		NATS_PID=
	fi
done
[ "$missed" = 0 ] || { echo "bench: target missed"; exit 3; }
echo "bench: target met"
