#!/usr/bin/env bash
# bench/run_serve.sh [PARTITIONS]   (default 1000000)
#
# `metasync serve`, the Glue Data Catalog API server, next to the commands
# that do the same work on the embedded catalog it serves, side by side in
# one run.  bench/glue_load.c makes the load as Glue clients do: signed JSON
# 1.1 requests through libcurl, one kept-alive connection per client.
#
#   a. PARTITIONS partitions into a fresh catalog through the server:
#        glue_load ingest (BatchCreatePartition, 100 a request,
#        BENCH_CLIENTS clients)
#        vs. metasync import of a snapshot of the same partitions
#                                                         target: ratio <= 2
#   b. all of them read back through the server:
#        glue_load scan --segments 10 (GetPartitions, MaxResults 1000,
#        following NextToken; the count and no repeats checked)
#        vs. metasync export of the same catalog file     target: ratio <= 2
#   c. the mix on the PARTITIONS-partition table: BENCH_MIX_CLIENTS (16)
#      clients for BENCH_MIX_SECONDS (60) s, 60% GetPartitions with an
#      Expression (4 days: 96 partitions, MaxResults 100), 20% GetTable, 20%
#      BatchCreatePartition of 100 new partitions; requests/s, p50 and p99 per
#      operation                       target: no 5xx, no lost write
#   and the server's peak RSS (VmHWM) and CPU time in each.
#
# The data is bench/run.sh's: gen_export's synthetic export converted to a
# snapshot, with one database and one table here (db_000.events_000), so that
# the table holds all PARTITIONS partitions.  glue_load sends the very same
# partitions (bench/synth.h): the stored documents are the same either way
# but for CreationTime and the import's replica marker.
#
# The machine may be shared and noisy: one warm-up pass first, then every
# measurement BENCH_REPS times, interleaved (import, ingest, export, scan),
# median taken; the ratios are what to compare.  Each ingest and each scan
# has a server of its own, started before the timer.
#
# Environment:
#   BENCH_DIR          scratch directory (default bench/data, git-ignored); needs
#                      about 7 KB of disk per partition (7 GB for 1,000,000)
#   BENCH_REPS         repetitions of a and b (default 3)
#   BENCH_WARM         0: no warm-up pass (default 1)
#   BENCH_REUSE        1: reuse the generated export and snapshot of an earlier
#                      run with the same PARTITIONS
#   BENCH_KEEP         1: keep the catalogs and the export afterwards
#   BENCH_CLIENTS      ingest clients (default 4)
#   BENCH_SEGMENTS     scan segments (default 10)
#   BENCH_MIX_CLIENTS  default 16;  BENCH_MIX_SECONDS  default 60 (0: no mix)
#   METASYNC           a metasync binary to use instead of building one
#
# Exit status: 0 every target met, 3 some target missed or check failed,
# 1 error.
set -euo pipefail

PARTS=${1:-1000000}
case $PARTS in '' | *[!0-9]*) echo "usage: bench/run_serve.sh [PARTITIONS]" >&2; exit 2 ;; esac
REPS=${BENCH_REPS:-3}
CLIENTS=${BENCH_CLIENTS:-4}
SEGMENTS=${BENCH_SEGMENTS:-10}
MIX_CLIENTS=${BENCH_MIX_CLIENTS:-16}
MIX_SECONDS=${BENCH_MIX_SECONDS:-60}
for v in REPS CLIENTS SEGMENTS MIX_CLIENTS MIX_SECONDS; do
	case ${!v} in '' | *[!0-9]*) echo "bench: BENCH_$v must be a whole number" >&2; exit 2 ;; esac
done
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${BENCH_DIR:-$REPO/bench/data}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
GEN=$WORK/gen_export
GL=$WORK/glue_load
TIME=/usr/bin/time

UTIL=$WORK/utility-$PARTS-1x1      # the AWS-utility-layout export, one table
CONV=$WORK/convert-$PARTS-1x1.db   # catalog the utility export is imported into
SNAP=$WORK/snapshot-$PARTS-1x1     # metasync store: LATEST + one snapshot
SW=$WORK/serve-$PARTS              # this benchmark's own scratch
CAT_I=$SW/import.db                # the catalog metasync import fills
CAT_S=$SW/served.db                # the catalog the server fills (and serves)
OUT=$SW/export-out                 # export destination (emptied every run)
ACCOUNTS=$SW/accounts.yaml
LOG=$SW/log
RES=$SW/results.tsv                # name  rep  wall  rss_kib  user  sys
SRV=$SW/server.tsv                 # name  rep  peak_rss_kib  user  sys  (the server)
SRC_ID=111111111111
ACCOUNT=222222222222               # the served account (the snapshot is of 111111111111)
DB=db_000
TABLE=events_000

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[ -x "$TIME" ] || die "GNU time is missing ($TIME): apt-get install time"
command -v gcc >/dev/null || die "gcc is missing"
command -v jq >/dev/null || die "jq is missing: apt-get install jq"
pkg-config --exists libcurl || die "libcurl's headers are missing: apt-get install libcurl4-openssl-dev"
rm -rf "$SW"
mkdir -p "$LOG"

trap serve_kill EXIT

# ---------------------------------------------------------------- build
if [ -n "${METASYNC:-}" ]; then
	MS=$METASYNC
	tree_id
else
	BUILD=$REPO/build-bench-serve
	build_metasync "$BUILD"
	MS=$BUILD/metasync
fi
gcc -O2 -std=c11 -Wall -Wextra -o "$GEN" "$REPO/bench/gen_export.c" || die "cannot build gen_export"
# shellcheck disable=SC2046
gcc -O2 -std=c11 -pthread -Wall -Wextra -o "$GL" "$REPO/bench/glue_load.c" \
	$(pkg-config --cflags --libs libcurl) || die "cannot build glue_load"
echo "metasync: $MS (built from $TREE)"
echo "gen_export: $GEN"
echo "glue_load: $GL"

# ---------------------------------------------------------------- data
make_snapshot "$PARTS" 1 1 "$UTIL" "$CONV" "$SNAP" "${BENCH_REUSE:-0}"
echo "snapshot: $SNAPDIR ($PARTS partitions of $DB.$TABLE in ${#PFILES[@]} part files," \
	"$(cat "${PFILES[@]}" | wc -c) bytes)"

# One account; glue_load signs with its key.
cat >"$ACCOUNTS" <<EOF
accounts:
  - id: "$ACCOUNT"
    keys:
      - id: AKIABENCHSERVE000001
        secret: "bench-serve-secret"
EOF
chmod 600 "$ACCOUNTS"
export AWS_ACCESS_KEY_ID=AKIABENCHSERVE000001 AWS_SECRET_ACCESS_KEY=bench-serve-secret

# ---------------------------------------------------------------- server
# serve_stop NAME REP: the server's peak RSS and CPU seconds into $SRV
# (unless REP is warm), then SIGTERM; it must exit 0.
serve_stop() {
	local name=$1 rep=$2 hwm ticks usr sys
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVE_PID/status")
	ticks=$(getconf CLK_TCK)
	read -r usr sys < <(awk -v t="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f %.2f\n", $12 / t, $13 / t }' \
		"/proc/$SERVE_PID/stat")
	serve_term "$name"
	printf '  %-16s %-5s server: peak RSS %7d KiB  user %6.2f  sys %6.2f\n' "$name" "$rep" "$hwm" "$usr" "$sys"
	[ "$rep" = warm ] || printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$hwm" "$usr" "$sys" >>"$SRV"
}

# ---------------------------------------------------------------- runners
CAT_I_URL="sqlite:$CAT_I?catalog-id=$ACCOUNT"
CAT_S_URL="sqlite:$CAT_S?catalog-id=$ACCOUNT"
CHECKS=$SW/checks                   # one line per failed check
: >"$CHECKS"

pass() { # REP
	local rep=$1
	rm_db "$CAT_I"
	run import "$rep" "$LOG/import.json" "$MS" import --input-path "$SNAP" --target "$CAT_I_URL" --json
	json_check "$LOG/import.json" partitions created "$PARTS"

	rm_db "$CAT_S"
	serve_start ingest "$CAT_S"
	run ingest "$rep" "$LOG/ingest.json" "$GL" ingest --endpoint "$ENDPOINT" --db "$DB" --table "$TABLE" \
		--partitions "$PARTS" --clients "$CLIENTS" --json
	[ "$(jq -r .created "$LOG/ingest.json")" -eq "$PARTS" ] || die "ingest: $(cat "$LOG/ingest.json")"
	serve_stop ingest "$rep"

	rm -rf "$OUT"
	run export "$rep" "$LOG/export.json" "$MS" export --source "$CAT_S_URL" --output-path "$OUT" --json
	json_check "$LOG/export.json" partitions created "$PARTS"

	serve_start scan "$CAT_S"
	RUN_TOLERATE=3 run scan "$rep" "$LOG/scan.json" "$GL" scan --endpoint "$ENDPOINT" --db "$DB" \
		--table "$TABLE" --segments "$SEGMENTS" --expect "$PARTS" --json
	if [ "$RUN_RC" -ne 0 ]; then
		echo "  scan: check failed: $(cat "$LOG/scan.json")"
		echo "scan $rep: $(cat "$LOG/scan.json")" >>"$CHECKS"
	fi
	serve_stop scan "$rep"
}

# ---------------------------------------------------------------- measure
: >"$RES"
: >"$SRV"
if [ "${BENCH_WARM:-1}" = 1 ]; then
	say "warm-up pass (not counted)"
	pass warm
fi
for i in $(seq 1 "$REPS"); do
	say "pass $i of $REPS"
	pass "$i"
done

MIX=$LOG/mix.json
if [ "$MIX_SECONDS" -gt 0 ]; then
	say "mix: $MIX_CLIENTS clients, $MIX_SECONDS s on $PARTS partitions"
	serve_start mix "$CAT_S"
	RUN_TOLERATE=3 run mix 1 "$MIX" "$GL" mix --endpoint "$ENDPOINT" --db "$DB" --table "$TABLE" \
		--clients "$MIX_CLIENTS" --seconds "$MIX_SECONDS" --json
	MIX_RC=$RUN_RC
	serve_stop mix 1
fi

# ---------------------------------------------------------------- report
FAILED=0
# verdict RATIO TARGET CHECK_OK: VERDICT becomes pass or FAIL; FAILED set on a miss.
verdict() {
	VERDICT=pass
	if [ "$3" != 1 ]; then
		VERDICT="FAIL (check)"
	elif ! awk -v r="$1" -v t="$2" 'BEGIN { exit !(r <= t) }'; then
		VERDICT=FAIL
	fi
	[ "$VERDICT" = pass ] || FAILED=1
}
srv() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$SRV" | sort -g |
	awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
srvmax() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n && $c > m { m = $c } END { print m + 0 }' "$SRV"; }

IMP=$(median import 3)
ING=$(median ingest 3)
EXP=$(median export 3)
SCAN=$(median scan 3)
SCAN_OK=1
[ ! -s "$CHECKS" ] || SCAN_OK=0

say "results: $PARTS partitions in $DB.$TABLE, median of $REPS runs (wall seconds)"
printf '| %-46s | %10s | %10s | %7s | %-22s | %-12s |\n' measurement direct "via serve" ratio target result
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..12})" \
	"$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..9})" "$(printf -- '-%.0s' {1..24})" "$(printf -- '-%.0s' {1..14})"
R=$(div "$ING" "$IMP")
verdict "$R" 2 1
printf '| %-46s | %10s | %10s | %7s | %-22s | %-12s |\n' "a. import vs glue_load ingest ($CLIENTS clients) (s)" \
	"$(fmt "$IMP")" "$(fmt "$ING")" "$R" "<= 2" "$VERDICT"
R=$(div "$SCAN" "$EXP")
verdict "$R" 2 "$SCAN_OK"
printf '| %-46s | %10s | %10s | %7s | %-22s | %-12s |\n' "b. export vs glue_load scan ($SEGMENTS segments) (s)" \
	"$(fmt "$EXP")" "$(fmt "$SCAN")" "$R" "<= 2" "$VERDICT"
if [ "$MIX_SECONDS" -gt 0 ]; then
	MOK=0
	[ "$MIX_RC" -eq 0 ] && [ "$(jq -r .errors_5xx "$MIX")" -eq 0 ] && [ "$(jq -r .check "$MIX")" = ok ] && MOK=1
	verdict 0 0 "$MOK"
	printf '| %-46s | %10s | %10s | %7s | %-22s | %-12s |\n' \
		"c. mix, $MIX_CLIENTS clients, $(jq -r .seconds "$MIX") s (requests/s)" - \
		"$(jq -r .requests_per_second "$MIX")" - "no 5xx, no lost write" "$VERDICT"
fi
if [ "$SCAN_OK" = 0 ]; then
	echo
	echo "scan checks failed (count or repeated partitions):"
	sed 's/^/  /' "$CHECKS"
fi

if [ "$MIX_SECONDS" -gt 0 ]; then
	echo
	echo "c. mix: $(jq -r '"\(.requests) requests, \(.errors_5xx) 5xx, \(.errors_other) other errors, \(.wrong_answers) wrong answers"' "$MIX");" \
		"count: $(jq -r '"\(.before) before + \(.created) created, \(.after) read back: \(.check)"' "$MIX")"
	printf '  %-22s %10s %10s %10s %10s %10s %8s\n' operation requests "per s" "p50 ms" "p99 ms" "max ms" errors
	jq -r '.operations | to_entries[] | [.key, .value.requests, .value.per_second, .value.p50_ms,
		.value.p99_ms, .value.max_ms, .value.errors] | @tsv' "$MIX" |
		while IFS=$'\t' read -r op n ps p50 p99 mx er; do
			printf '  %-22s %10s %10s %10s %10s %10s %8s\n' "$op" "$n" "$ps" "$p50" "$p99" "$mx" "$er"
		done
fi

echo
echo "the server (metasync serve): peak RSS (max over runs) and CPU seconds (median, user + sys):"
for n in ingest scan mix; do
	grep -q "^$n	" "$SRV" || continue
	printf '  %-8s %8s MiB   %8.2f user %8.2f sys\n' "$n" "$(mib "$(srvmax "$n" 3)")" "$(srv "$n" 4)" "$(srv "$n" 5)"
done
echo "the commands (median): peak RSS (max over runs) and CPU seconds, user + sys:"
for n in import ingest export scan; do
	printf '  %-8s %8s MiB   %8.2f user %8.2f sys   (wall %s)\n' "$n" "$(mib "$(maxof "$n" 4)")" \
		"$(median "$n" 5)" "$(median "$n" 6)" "$(fmt "$(median "$n" 3)")"
done

echo
echo "every run: $RES (commands), $SRV (server)"
echo
echo "commands (scratch: $SW; AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: the key of $ACCOUNTS):"
echo "  server: metasync serve --catalog sqlite:$CAT_S --accounts $ACCOUNTS --listen 127.0.0.1:0"
echo "  a. metasync import --input-path $SNAP --target '$CAT_I_URL' --json   # empty catalog"
echo "     glue_load ingest --endpoint http://127.0.0.1:PORT --db $DB --table $TABLE --partitions $PARTS --clients $CLIENTS --json   # empty catalog"
echo "  b. metasync export --source '$CAT_S_URL' --output-path $OUT --json"
echo "     glue_load scan --endpoint http://127.0.0.1:PORT --db $DB --table $TABLE --segments $SEGMENTS --expect $PARTS --json"
echo "  c. glue_load mix --endpoint http://127.0.0.1:PORT --db $DB --table $TABLE --clients $MIX_CLIENTS --seconds $MIX_SECONDS --json"
echo "  data: gen_export $UTIL $PARTS 1 1, converted as bench/run.sh does"
echo
machine "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end, curl $(curl-config --version 2>/dev/null | cut -d' ' -f2 || echo '?')"
echo "metasync built from: $TREE"

if [ "${BENCH_KEEP:-0}" != 1 ]; then
	rm_db "$CAT_I"
	rm_db "$CAT_S"
	rm -rf "$OUT"
fi
[ $FAILED -eq 0 ] || exit 3
