#!/usr/bin/env bash
# bench/glue.sh [PARTITIONS [REPS]]   (default 100000 and 3)
#
# Import and export through the glue:// driver into and out of `metasync
# serve` (the Glue API server) made to behave like a remote Glue, measured
# against what the same work costs without the network or against the floor
# the server's latency or quota sets.  The data is the demo's snapshot
# (`metasync demo --dir D --partitions PARTITIONS`: 25 databases, 150
# tables, 10 views; source catalog 111111111111), imported into catalog
# 222222222222.  Every scenario runs a fresh server on a fresh embedded file
# (127.0.0.1, port 0, --max-connections BENCH_MAX_CONN) and counts the
# requests from its /metrics (metasync_glue_requests_total{operation,error})
# before stopping it.
#
#   a. --latency BENCH_LATENCY (50ms):
#        metasync import of the snapshot through glue://
#        vs. the same import straight into an embedded catalog
#                                                        target: ratio <= 1.5
#        and beside them the scripts metasync replaces: bench/glue_boto3.py
#        (/usr/bin/python3, Debian's boto3), one call at a time,
#        create_database, create_table, batch_create_partition of 100
#   b. --throttle BENCH_THROTTLE/s (50):
#        metasync import through glue://
#        vs. the floor the quota sets: the requests that were not
#        throttled / BENCH_THROTTLE per second     target: ratio <= 1.2
#        throttled requests / all requests         target: < 5%
#   c. --latency BENCH_LATENCY --throttle BENCH_THROTTLE/s, a server holding
#      the imported catalog (a remote Glue has both a round trip and a quota):
#        metasync export through glue://
#        vs. the floor the latency and the quota set: the larger of
#          R / BENCH_THROTTLE per second, and
#          latency x max(3, ceil(R / P)),
#        R the reads the protocol needs for this catalog (GetDatabases and
#        GetTables pages of 100, GetPartitions pages of 1,000 for each table
#        with partition keys), P the driver's parallel= (requests in flight,
#        default 16), 3 the chain GetDatabases, GetTables, GetPartitions
#                                                  target: ratio <= 1.5
#        and, for reference, the same export with --latency only (against
#        the latency's term alone) and straight from the embedded file
#
# Each repetition runs a, b, c in turn; within a the three commands and
# within c the two alternate (reversed order every other repetition).  The
# snapshot is read once before the first (page cache).  Per run: seconds,
# partitions per second, requests, throttled requests, ratio; at the end the
# medians (a ratio is the median of the repetitions' own ratios).
#
# Environment:
#   BENCH_DIR          scratch (default bench/data, git-ignored); about 3 KB of
#                      disk per partition
#   BENCH_REPS         repetitions when REPS is not given (default 3)
#   BENCH_REUSE        1: reuse the demo snapshot of an earlier run with the
#                      same PARTITIONS
#   BENCH_ONLY         the scenarios to run (default abc)
#   BENCH_LATENCY      default 50ms;  BENCH_THROTTLE   default 50 (per second)
#   BENCH_MAX_CONN     the servers' --max-connections (default 512)
#   BENCH_GLUE_PARAMS  more glue:// URL parameters for every run, e.g.
#                      '&parallel=16&tables=24' (default none: the driver's)
#   BENCH_B_PARAMS     more glue:// URL parameters in b only, e.g. '&rate=50'
#   BENCH_KEEP         1: keep the catalogs and exports afterwards
#   METASYNC           a metasync binary to use instead of building one
#
# Credentials are environment variables only (a generated key of the
# scratch accounts file); AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE
# point at an empty file.
#
# Exit status: 0 every target met, 3 some target missed, 1 error.
set -euo pipefail

PARTS=${1:-100000}
REPS=${2:-${BENCH_REPS:-3}}
case $PARTS$REPS in '' | *[!0-9]*) echo "usage: bench/glue.sh [PARTITIONS [REPS]]" >&2; exit 2 ;; esac
[ "$REPS" -ge 1 ] || { echo "bench: REPS must be at least 1" >&2; exit 2; }
ONLY=${BENCH_ONLY:-abc}
LATENCY=${BENCH_LATENCY:-50ms}
THROTTLE=${BENCH_THROTTLE:-50}
MAX_CONN=${BENCH_MAX_CONN:-512}
GLUE_PARAMS=${BENCH_GLUE_PARAMS:-}
B_PARAMS=${BENCH_B_PARAMS:-}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${BENCH_DIR:-$REPO/bench/data}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
TIME=/usr/bin/time
PY=/usr/bin/python3

DEMO=$WORK/demo-$PARTS             # metasync demo's directory; the snapshot in DEMO/store
STORE=$DEMO/store
GW=$WORK/glue-$PARTS               # this benchmark's own scratch
LOG=$GW/log
RES=$GW/results.tsv                # name  rep  wall  rss_kib  user  sys  (lib.sh's run)
REQ=$GW/requests.tsv               # name  rep  requests  throttled  floor_s
ACCOUNTS=$GW/accounts.yaml
ACCOUNT=222222222222
REGION=us-east-1

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

LAT_S=$(awk -v d="$LATENCY" 'BEGIN {
	if (d ~ /^[0-9.]+ms$/) print substr(d, 1, length(d) - 2) / 1000;
	else if (d ~ /^[0-9.]+s$/) print substr(d, 1, length(d) - 1) + 0; else exit 1 }') ||
	die "BENCH_LATENCY '$LATENCY': expected e.g. 50ms or 1s"
case $THROTTLE$MAX_CONN in *[!0-9]*) die "BENCH_THROTTLE and BENCH_MAX_CONN are whole numbers" ;; esac
PARALLEL=$(printf '%s' "$GLUE_PARAMS" | sed -n 's/.*[?&]parallel=\([0-9][0-9]*\).*/\1/p')
PARALLEL=${PARALLEL:-16}
[ -x "$TIME" ] || die "GNU time is missing ($TIME): apt-get install time"
for t in curl jq; do command -v $t >/dev/null || die "$t is missing"; done
"$PY" -c 'import boto3' 2>/dev/null || die "$PY has no boto3: apt-get install python3-boto3"
rm -rf "$GW"
mkdir -p "$LOG"
: >"$REQ"
: >"$RES"

trap serve_kill EXIT

# ---------------------------------------------------------------- build
if [ -n "${METASYNC:-}" ]; then
	MS=$METASYNC
	tree_id
else
	BUILD=$REPO/build-bench-glue
	build_metasync "$BUILD"
	MS=$BUILD/metasync
fi
echo "metasync: $MS (built from $TREE)"
echo "python: $PY, boto3 $("$PY" -c 'import boto3; print(boto3.__version__)')"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- data
if [ "${BENCH_REUSE:-0}" = 1 ] && [ -e "$DEMO/.complete" ]; then
	say "reusing $STORE"
else
	say "metasync demo --dir $DEMO --partitions $PARTS"
	rm -rf "$DEMO"
	t0=$(now)
	"$MS" demo --dir "$DEMO" --partitions "$PARTS" >"$LOG/demo.out" 2>&1 ||
		{ tail -20 "$LOG/demo.out"; die "metasync demo failed (log: $LOG/demo.out)"; }
	touch "$DEMO/.complete"
	printf 'made in %.1f s\n' "$(echo "$(now) - $t0" | bc)"
fi
SNAPDIR=$STORE/$(cat "$STORE/LATEST")
read -r NDB NTABLES NPARTS < <(jq -r '.counts | "\(.databases) \(.tables) \(.partitions)"' "$SNAPDIR/manifest.json")
[ "$NPARTS" -eq "$PARTS" ] || die "the snapshot holds $NPARTS partitions, expected $PARTS"
cat "$SNAPDIR"/*/part-*.json >/dev/null
echo "snapshot: $SNAPDIR ($NDB databases, $NTABLES tables and views, $NPARTS partitions," \
	"$(cat "$SNAPDIR"/*/part-*.json | wc -c) bytes)"

# The reads an export needs (c's floor): GetDatabases pages of 100, GetTables
# pages of 100 for each database, GetPartitions pages of 1,000 (at least one)
# for each table with partition keys.
READS_NEEDED=$(jq -rs --slurpfile m "$SNAPDIR/manifest.json" '
	def pages(n; size): if n == 0 then 1 else ((n + size - 1) / size | floor) end;
	($m[0].tables | map({key: "\(.database).\(.table)", value: .partitions.count}) | from_entries) as $count
	| map(select(.type == "table")) as $t
	| pages($m[0].databases | length; 100)
	  + ($t | group_by(.database) | map(pages(length; 100)) | add)
	  + ($t | map(select((.item.partitionKeys // []) | length > 0)
	              | pages($count["\(.database).\(.item.name)"] // 0; 1000)) | add)
' "$SNAPDIR"/tables/part-*.json)
echo "reads an export needs: $READS_NEEDED (GetDatabases, GetTables and GetPartitions pages)"
# The writes an import into an empty catalog needs (b's second floor, for
# reference; what the boto3 loop sends): CreateDatabase and CreateTable for
# each, BatchCreatePartition for each 100 of a table's partitions.
WRITES_NEEDED=$(jq -r '(.databases | length) + (.tables | length)
	+ (.tables | map((.partitions.count + 99) / 100 | floor) | add)' "$SNAPDIR/manifest.json")
echo "writes an import into an empty catalog needs: $WRITES_NEEDED (CreateDatabase, CreateTable, BatchCreatePartition of 100)"

# One account, its key generated for this run; the environment is the only
# source of credentials.
KEY_ID=AKIABENCHGLUE$(od -An -N4 -tu4 /dev/urandom | tr -dc 0-9 | head -c 7)
KEY_ID=$(printf '%-20s' "$KEY_ID" | tr ' ' 0)
KEY_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -dc 0-9a-f)
(
	umask 077
	cat >"$ACCOUNTS" <<EOF
accounts:
  - id: "$ACCOUNT"
    keys:
      - id: $KEY_ID
        secret: "$KEY_SECRET"
EOF
)
: >"$GW/aws-empty"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ROLE_ARN \
	AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_ENDPOINT_URL AWS_ENDPOINT_URL_GLUE
export AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$KEY_SECRET AWS_DEFAULT_REGION=$REGION \
	AWS_REGION=$REGION AWS_CONFIG_FILE=$GW/aws-empty AWS_SHARED_CREDENTIALS_FILE=$GW/aws-empty \
	AWS_EC2_METADATA_DISABLED=true

# ---------------------------------------------------------------- server
# serve_stop NAME REP: the server's /metrics into $LOG/metrics-NAME-REP, then
# SIGTERM (it must exit 0); sets REQS (requests answered) and THROTTLED
# (those answered ThrottlingException).
serve_stop() {
	local name=$1 rep=$2 m=$LOG/metrics-$1-$2
	curl -sf "$ENDPOINT/metrics" >"$m" || die "no /metrics from the $name server"
	read -r REQS THROTTLED < <(awk '/^metasync_glue_requests_total\{/ {
		t += $NF; if ($0 ~ /error="ThrottlingException"/) th += $NF }
		END { print t + 0, th + 0 }' "$m")
	serve_term "$name"
}

# by_operation NAME REP: "Op n, Op n (Error), ..." from the saved metrics.
by_operation() {
	sed -n 's/^metasync_glue_requests_total{operation="\([^"]*\)",error="\([^"]*\)"} \([0-9]*\)$/\1 \2 \3/p' \
		"$LOG/metrics-$1-$2" | awk '{ printf "%s%s %s%s", (NR > 1 ? ", " : ""), $1, $NF,
		(NF == 3 ? " (" $2 ")" : "") }'
}

# record NAME REP FLOOR: the run's row of $REQ: REQS, THROTTLED and FLOOR
# (seconds, "-" when the run has none).
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$REQS" "$THROTTLED" "$3" >>"$REQ"; }

# field FILE NAME REP COLUMN: a column of NAME's row of repetition REP.
field() { awk -F'\t' -v n="$2" -v r="$3" -v c="$4" '$1 == n && $2 == r { print $c }' "$1"; }

# show NAME REP [REF]: the run's line: seconds, partitions per second,
# requests, throttled and the ratio to its floor, or to the run REF of the
# same repetition.
show() {
	local name=$1 rep=$2 ref=${3:-} wall floor ratio='' base='' reqs
	wall=$(field "$RES" "$name" "$rep" 3)
	floor=$(field "$REQ" "$name" "$rep" 5)
	reqs=$(field "$REQ" "$name" "$rep" 3)
	if [ "$floor" != - ]; then
		ratio=$(div "$wall" "$floor")
		base="the floor, $(fmt "$floor") s"
	elif [ -n "$ref" ]; then
		base=$(field "$RES" "$ref" "$rep" 3)
		ratio=$(div "$wall" "$base")
		base="$ref, $(fmt "$base") s"
	fi
	printf '    %-12s %9.3f s %9.0f partitions/s %7s requests %6s throttled%s\n' "$name" "$wall" \
		"$(div "$PARTS" "$wall")" "$reqs" "$(field "$REQ" "$name" "$rep" 4)" "${ratio:+   ratio $ratio to $base}"
}

# ---------------------------------------------------------------- runners
GLUE="glue://$REGION?catalog-id=$ACCOUNT$GLUE_PARAMS"   # &endpoint= added per server
EMB=$GW/embedded.db
EMB_URL="sqlite:$EMB?catalog-id=$ACCOUNT"

a_embedded() { # REP
	rm_db "$EMB"
	run a-embedded "$1" "$LOG/a-embedded.json" "$MS" import --input-path "$STORE" --target "$EMB_URL" --json
	json_check "$LOG/a-embedded.json" partitions created "$PARTS"
	REQS=- THROTTLED=-
	record a-embedded "$1" -
}

a_glue() { # REP
	rm_db "$GW/a-glue.db"
	serve_start "a-glue-$1" "$GW/a-glue.db" --max-connections "$MAX_CONN" --latency "$LATENCY"
	run a-glue "$1" "$LOG/a-glue.json" "$MS" import --input-path "$STORE" \
		--target "$GLUE&endpoint=$ENDPOINT" --json
	json_check "$LOG/a-glue.json" partitions created "$PARTS"
	serve_stop a-glue "$1"
	record a-glue "$1" -
}

a_boto3() { # REP
	rm_db "$GW/a-boto3.db"
	serve_start "a-boto3-$1" "$GW/a-boto3.db" --max-connections "$MAX_CONN" --latency "$LATENCY"
	run a-boto3 "$1" "$LOG/a-boto3.json" "$PY" "$REPO/bench/glue_boto3.py" --endpoint "$ENDPOINT" \
		--store "$STORE" --region "$REGION"
	[ "$(jq -r .partitions "$LOG/a-boto3.json")" -eq "$PARTS" ] || die "boto3: $(cat "$LOG/a-boto3.json")"
	serve_stop a-boto3 "$1"
	record a-boto3 "$1" -
}

scenario_a() { # REP
	local rep=$1 order=(a_embedded a_glue a_boto3) f
	[ $((rep % 2)) -eq 1 ] || order=(a_boto3 a_glue a_embedded)
	echo "  a. --latency $LATENCY (order: ${order[*]})"
	for f in "${order[@]}"; do $f "$rep"; done
	show a-embedded "$rep"
	show a-glue "$rep" a-embedded
	show a-boto3 "$rep" a-glue
	echo "      a-glue: $(by_operation a-glue "$rep")"
}

scenario_b() { # REP
	local rep=$1
	echo "  b. --throttle $THROTTLE/s"
	rm_db "$GW/b-glue.db"
	serve_start "b-glue-$rep" "$GW/b-glue.db" --max-connections "$MAX_CONN" --throttle "$THROTTLE/s"
	run b-glue "$rep" "$LOG/b-glue.json" "$MS" import --input-path "$STORE" \
		--target "$GLUE$B_PARAMS&endpoint=$ENDPOINT" --json
	json_check "$LOG/b-glue.json" partitions created "$PARTS"
	serve_stop b-glue "$rep"
	record b-glue "$rep" "$(awk -v r="$REQS" -v t="$THROTTLED" -v q="$THROTTLE" 'BEGIN { print (r - t) / q }')"
	show b-glue "$rep"
	echo "      throttled: $(awk -v r="$REQS" -v t="$THROTTLED" 'BEGIN { printf "%.2f%%", r ? 100 * t / r : 0 }')" \
		"of all requests; $(by_operation b-glue "$rep")"
}

# latency_floor: c's latency term, seconds.
latency_floor() {
	awk -v l="$LAT_S" -v r="$READS_NEEDED" -v p="$PARALLEL" \
		'BEGIN { n = int((r + p - 1) / p); if (n < 3) n = 3; print l * n }'
}

# c's floor: the larger of the quota's term and the latency's.
c_floor() {
	awk -v q="$(div "$READS_NEEDED" "$THROTTLE")" -v l="$(latency_floor)" 'BEGIN { print (q > l ? q : l) }'
}

# c_export NAME REP SERVE_OPTION...: the export through glue:// from a server
# holding c's catalog.
c_export() {
	local name=$1 rep=$2
	shift 2
	rm -rf "$GW/c-out-$name"
	serve_start "$name-$rep" "$GW/c.db" --max-connections "$MAX_CONN" "$@"
	run "$name" "$rep" "$LOG/$name.json" "$MS" export --source "$GLUE&endpoint=$ENDPOINT" \
		--output-path "$GW/c-out-$name" --json
	json_check "$LOG/$name.json" partitions created "$PARTS"
	serve_stop "$name" "$rep"
}

c_glue() { # REP
	c_export c-glue "$1" --latency "$LATENCY" --throttle "$THROTTLE/s"
	record c-glue "$1" "$(c_floor)"
}

c_latency() { # REP
	c_export c-latency "$1" --latency "$LATENCY"
	record c-latency "$1" "$(latency_floor)"
}

c_embedded() { # REP
	rm -rf "$GW/c-out-embedded"
	run c-embedded "$1" "$LOG/c-embedded.json" "$MS" export --source "sqlite:$GW/c.db?catalog-id=$ACCOUNT" \
		--output-path "$GW/c-out-embedded" --json
	json_check "$LOG/c-embedded.json" partitions created "$PARTS"
	REQS=- THROTTLED=-
	record c-embedded "$1" -
}

scenario_c() { # REP
	local rep=$1 order=(c_glue c_latency c_embedded) f
	[ $((rep % 2)) -eq 1 ] || order=(c_embedded c_latency c_glue)
	echo "  c. --latency $LATENCY --throttle $THROTTLE/s, export (order: ${order[*]})"
	rm_db "$GW/c.db"
	"$MS" import --input-path "$STORE" --target "sqlite:$GW/c.db?catalog-id=$ACCOUNT" -q ||
		die "cannot fill the catalog c exports"
	for f in "${order[@]}"; do $f "$rep"; done
	show c-glue "$rep"
	show c-latency "$rep"
	show c-embedded "$rep" c-latency
	echo "      c-glue: $(by_operation c-glue "$rep")"
	echo "      c-latency: $(by_operation c-latency "$rep")"
}

# ---------------------------------------------------------------- measure
for i in $(seq 1 "$REPS"); do
	say "repetition $i of $REPS"
	case $ONLY in *a*) scenario_a "$i" ;; esac
	case $ONLY in *b*) scenario_b "$i" ;; esac
	case $ONLY in *c*) scenario_c "$i" ;; esac
done

# ---------------------------------------------------------------- report
# rmedian NAME [REF]: the median over the repetitions of NAME's wall time
# over its floor, or over REF's wall time in the same repetition.
rmedian() {
	local name=$1 ref=${2:-}
	awk -F'\t' -v n="$name" -v ref="$ref" '
		FNR == 1 { f++ }
		f == 1 { wall[$1 SUBSEP $2] = $3 }
		f == 2 && $1 == n { fl[$2] = $5 }
		END {
			for (r in fl) {
				b = ref != "" ? wall[ref SUBSEP r] : fl[r]
				if (b > 0) print wall[n SUBSEP r] / b
			}
		}' "$RES" "$REQ" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
			printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# qmedian NAME COLUMN: the median of a column of $REQ (3 requests, 4 throttled, 5 floor).
qmedian() {
	awk -F'\t' -v n="$1" -v c="$2" '$1 == n && $c != "-" { print $c }' "$REQ" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
			print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# tshare NAME: the median over the repetitions of throttled / all requests.
tshare() {
	awk -F'\t' -v n="$1" '$1 == n && $3 > 0 { print $4 / $3 }' "$REQ" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
			printf "%.4f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

FAILED=0
hdr() { printf '| %-50s | %10s | %14s | %8s | %-8s | %-6s |\n' "$@"; }
row() { # LABEL VALUE BASE RATIO TARGET_TEXT TARGET (ratio <= TARGET; "<" in TARGET_TEXT: strictly below)
	local verdict
	case $5 in
	-) verdict=- ;;
	*)
		if [ "$4" != - ] && awk -v r="$4" -v t="$6" -v s="$5" \
			'BEGIN { exit !(index(s, "<=") ? r <= t : r < t) }'; then verdict=met; else
			verdict=MISSED
			FAILED=1
		fi
		;;
	esac
	hdr "$1" "$2" "$3" "$4" "$5" "$verdict"
}
has() { awk -F'\t' -v n="$1" '$1 == n { f = 1 } END { exit !f }' "$REQ"; }
med() { fmt "$(median "$1" 3)"; }

say "results: $PARTS partitions, median of $REPS repetitions (ratios: median of each repetition's own)"
hdr measurement seconds "baseline/floor" ratio target result
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..52})" "$(printf -- '-%.0s' {1..12})" \
	"$(printf -- '-%.0s' {1..16})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..10})" "--------"
if has a-glue; then
	row "a. import via glue:// ($LATENCY) vs embedded" "$(med a-glue)" "$(med a-embedded)" \
		"$(rmedian a-glue a-embedded)" "<= 1.5" 1.5
	row "a. boto3 loop ($LATENCY) vs import via glue://" "$(med a-boto3)" "$(med a-glue)" \
		"$(rmedian a-boto3 a-glue)" - -
fi
if has b-glue; then
	row "b. import via glue:// ($THROTTLE/s) vs quota floor" "$(med b-glue)" "$(fmt "$(qmedian b-glue 5)")" \
		"$(rmedian b-glue)" "<= 1.2" 1.2
	row "b. (reference) vs the floor of the writes needed" "$(med b-glue)" "$(div "$WRITES_NEEDED" "$THROTTLE")" \
		"$(div "$(median b-glue 3)" "$(div "$WRITES_NEEDED" "$THROTTLE")")" - -
	row "b. throttled share of all requests" "-" "-" "$(tshare b-glue)" "< 0.05" 0.05
fi
if has c-glue; then
	row "c. export via glue:// ($LATENCY, $THROTTLE/s) vs floor" "$(med c-glue)" "$(fmt "$(qmedian c-glue 5)")" \
		"$(rmedian c-glue)" "<= 1.5" 1.5
	row "c. (reference) $LATENCY only vs the latency term" "$(med c-latency)" \
		"$(fmt "$(qmedian c-latency 5)")" "$(rmedian c-latency)" - -
	row "c. (reference) export from the embedded file" "$(med c-embedded)" "$(med c-latency)" \
		"$(rmedian c-embedded c-latency)" - -
fi

echo
printf '%-12s %10s %14s %10s %10s\n' run "seconds" "partitions/s" requests throttled
for n in a-embedded a-glue a-boto3 b-glue c-glue c-latency c-embedded; do
	has "$n" || continue
	printf '%-12s %10s %14.0f %10s %10s\n' "$n" "$(med "$n")" "$(div "$PARTS" "$(median "$n" 3)")" \
		"$(qmedian "$n" 3)" "$(qmedian "$n" 4)"
done
echo "(medians; requests and throttled from the server's /metrics)"

echo
echo "floors:"
echo "  b. requests not throttled / $THROTTLE per second (the server's bucket starts full: a burst of $THROTTLE);"
echo "     for reference: the $WRITES_NEEDED writes an empty catalog needs / $THROTTLE per second = $(div "$WRITES_NEEDED" "$THROTTLE") s"
echo "  c. the larger of $READS_NEEDED reads / $THROTTLE per second = $(div "$READS_NEEDED" "$THROTTLE") s" \
	"and $LATENCY x max(3, ceil($READS_NEEDED reads / parallel $PARALLEL)) = $(fmt "$(latency_floor)") s" \
	"(reads: GetDatabases and GetTables pages of 100, GetPartitions pages of 1,000 per table with keys)"
echo
echo "commands (scratch $GW; PORT: each scenario's own server, printed on its stderr):"
echo "  data:   metasync demo --dir $DEMO --partitions $PARTS"
echo "  server: metasync serve --catalog sqlite:FRESH.db --accounts $ACCOUNTS --listen 127.0.0.1:0 --max-connections $MAX_CONN \\"
echo "            --latency $LATENCY   (a, c-latency)   |   --throttle $THROTTLE/s   (b)   |   both   (c)"
echo "  a. metasync import --input-path $STORE --target '$EMB_URL' --json"
echo "     metasync import --input-path $STORE --target '$GLUE&endpoint=http://127.0.0.1:PORT' --json"
echo "     $PY bench/glue_boto3.py --endpoint http://127.0.0.1:PORT --store $STORE --region $REGION"
echo "  b. metasync import --input-path $STORE --target '$GLUE$B_PARAMS&endpoint=http://127.0.0.1:PORT' --json"
echo "  c. metasync import --input-path $STORE --target 'sqlite:$GW/c.db?catalog-id=$ACCOUNT' -q   # untimed: the served catalog"
echo "     metasync export --source '$GLUE&endpoint=http://127.0.0.1:PORT' --output-path $GW/c-out-c-glue --json   # c-latency: the same into c-out-c-latency"
echo "     metasync export --source 'sqlite:$GW/c.db?catalog-id=$ACCOUNT' --output-path $GW/c-out-embedded --json"
echo "  credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the scratch accounts file;" \
	"AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE empty"
echo
echo "every run: $RES (wall, RSS, CPU) and $REQ (requests, throttled, floor)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
machine "curl $(curl --version | head -1 | cut -d' ' -f2), botocore $("$PY" -c 'import botocore; print(botocore.__version__)')"
echo "metasync built from: $TREE"

if [ "${BENCH_KEEP:-0}" != 1 ]; then
	rm -f "$GW"/*.db "$GW"/*.db-wal "$GW"/*.db-shm
	rm -rf "$GW/c-out-c-glue" "$GW/c-out-c-latency" "$GW/c-out-embedded"
fi
[ $FAILED -eq 0 ] || exit 3
