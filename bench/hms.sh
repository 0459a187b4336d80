#!/usr/bin/env bash
# bench/hms.sh [PARTITIONS]   (default 1000000)
#
# The Hive Metastore on PostgreSQL benchmark (issue 3).  Builds metasync
# (Release, build-bench/), reuses bench/gen_export.c and the snapshot
# conversion of bench/run.sh (150 tables, 25 databases), starts a PostgreSQL 15
# in a temporary directory on a Unix socket with the Hive 3.1 schema
# (tests/fixtures/hive-metastore-3.1/hive-schema-3.1.0.postgres.sql,
# unchanged; server settings as scripts/test-servers.sh: fsync=off,
# synchronous_commit=off, full_page_writes=off), then measures side by side in
# one run:
#
#   a. metasync import of the snapshot into an empty metastore
#        vs. psql \copy FROM of the same rows into the same tables (the rows
#        metasync wrote, dumped with \copy TO from the filled metastore; one
#        transaction, foreign keys deferred, into an empty metastore)
#                                                        target: ratio <= 3
#   b. unchanged re-import vs. full import               target: <= 10%
#   c. metasync export of the filled metastore (after VACUUM ANALYZE, untimed)
#        vs. psql \copy (SELECT partition rows: PARTITIONS JOIN TBLS JOIN DBS
#        JOIN SDS LEFT JOIN SERDES, key values and parameters aggregated per
#        partition from PARTITION_KEY_VALS and PARTITION_PARAMS) TO a file
#                                                        target: ratio <= 2
#   d. peak resident memory (GNU time %M) of metasync import and export
#        (for reference; the bench/run.sh target is 256 MiB)
#
# Every metastore is a fresh `CREATE DATABASE ... TEMPLATE hms_empty` (a copy
# of the freshly loaded schema), made before the timed command.  One warm-up
# pass first (unless BENCH_WARM=0), then BENCH_REPS passes, interleaved,
# median taken.
#
# Environment:
#   BENCH_DIR    scratch directory (default bench/data, git-ignored); the
#                export and snapshot are shared with bench/run.sh
#   BENCH_REPS   repetitions per measurement (default 3)
#   BENCH_WARM   0: no warm-up pass (for big PARTITIONS)
#   BENCH_NO_REIMPORT  1: skip b (for big PARTITIONS while the re-import
#                reads the target partition by partition)
#   BENCH_ONLY   export: measure c (and d) only (the metastore is filled once)
#   BENCH_KEEP   1: keep the server running at the end, waiting for ^C
#   BENCH_PGOPTS extra server options (e.g. "-c shared_preload_libraries=pg_stat_statements")
#
# Exit status: 0 every target met, 3 some target missed, 1 error.
set -euo pipefail

PARTS=${1:-1000000}
case $PARTS in '' | *[!0-9]*) echo "usage: bench/hms.sh [PARTITIONS]" >&2; exit 2 ;; esac
REPS=${BENCH_REPS:-3}
WARM=${BENCH_WARM:-1}
NO_REIMPORT=${BENCH_NO_REIMPORT:-0}
ONLY=${BENCH_ONLY:-}
case $ONLY in '' | export) ;; *) echo "bench: BENCH_ONLY must be empty or export" >&2; exit 2 ;; esac
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
WORK=${BENCH_DIR:-$REPO/bench/data}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
MS=$BUILD/metasync
GEN=$WORK/gen_export
TIME=/usr/bin/time
PGBIN=/usr/lib/postgresql/15/bin
SCHEMA=${MS_HMS_SCHEMA_DIR:-$REPO/tests/fixtures/hive-metastore-3.1}/hive-schema-3.1.0.postgres.sql

UTIL=$WORK/utility-$PARTS          # the AWS-utility-layout export
CONV=$WORK/convert-$PARTS.db       # catalog the utility export is imported into
SNAP=$WORK/snapshot-$PARTS         # metasync store: LATEST + one snapshot
HW=$WORK/hms-$PARTS                # this benchmark's own scratch
DUMP=$HW/dump                      # \copy TO files of the rows metasync wrote
OUT=$HW/export-out                 # metasync export destination
COPYOUT=$HW/copy-export.tsv        # psql export destination
LOG=$HW/log
RES=$HW/results.tsv                # name  rep  wall  rss_kib  user  sys
SRC_ID=111111111111

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[ -x "$TIME" ] || die "GNU time is missing ($TIME): apt-get install time"
[ -x "$PGBIN/initdb" ] || die "postgresql-15 is missing: scripts/deps.sh test"
[ -f "$SCHEMA" ] || die "no Hive schema at $SCHEMA"
command -v gcc >/dev/null || die "gcc is missing"
rm -rf "$HW"
mkdir -p "$LOG" "$DUMP"

# ---------------------------------------------------------------- build
build_metasync "$BUILD"
gcc -O2 -std=c11 -Wall -Wextra -o "$GEN" "$REPO/bench/gen_export.c" || die "cannot build gen_export"
echo "metasync: $MS (built from $TREE)"

# ---------------------------------------------------------------- data
make_snapshot "$PARTS" 25 150 "$UTIL" "$CONV" "$SNAP" 1
echo "snapshot: $SNAPDIR ($PARTS partition lines)"

# ---------------------------------------------------------------- server
# As in scripts/test-servers.sh: root cannot run postgres, so as root the
# server runs as the `postgres` user.  Socket paths must stay short: /tmp.
PGUSER_OS=
[ "$(id -u)" -ne 0 ] || PGUSER_OS=postgres
as_pg() { if [ -n "$PGUSER_OS" ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi; }
PGD=$(mktemp -d /tmp/metasync-hmsbench.XXXXXX)
chmod 755 "$PGD"
[ -z "$PGUSER_OS" ] || chown "$PGUSER_OS" "$PGD"
stop_server() {
	if [ -f "$PGD/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf -- "$PGD"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "start PostgreSQL 15 in $PGD"
PGOPTS="-c listen_addresses='' -c unix_socket_directories='$PGD' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
PGOPTS="$PGOPTS ${BENCH_PGOPTS:-}"
as_pg "$PGBIN/initdb" -D "$PGD/data" -U metasync --auth=trust -E UTF8 --locale=C --no-sync >"$LOG/initdb.log" 2>&1 ||
	{ cat "$LOG/initdb.log" >&2; die "initdb failed"; }
as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 60 -o "$PGOPTS" start >/dev/null ||
	{ cat "$PGD/server.log" >&2; die "postgresql did not start"; }
PSQL=("$PGBIN/psql" -X -q -h "$PGD" -U metasync -v ON_ERROR_STOP=1)
"$PGBIN/createdb" -h "$PGD" -U metasync hms_empty || die "createdb failed"
"${PSQL[@]}" -d hms_empty -f "$SCHEMA" >"$LOG/schema.log" 2>&1 ||
	{ tail -20 "$LOG/schema.log" >&2; die "loading the Hive schema failed"; }
url() { echo "hms+postgresql://metasync@/$1?host=$PGD"; }
fresh() { # DBNAME: a new empty metastore
	"$PGBIN/dropdb" -h "$PGD" -U metasync --if-exists "$1"
	"$PGBIN/createdb" -h "$PGD" -U metasync -T hms_empty "$1"
}
# row counts of every table: "TABLE COUNT" lines
counts() {
	"${PSQL[@]}" -d "$1" -At -F ' ' <<-'EOF'
		SELECT string_agg(format('SELECT %L, count(*) FROM %I', table_name, table_name), ' UNION ALL ' ORDER BY table_name)
		FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		\gexec
	EOF
}

# ---------------------------------------------------------------- runners
# The export baseline: every partition with its table, database, storage
# descriptor, serde, key values (in key order) and parameters, one line each.
EXPORT_SQL='SELECT d."NAME", t."TBL_NAME", p."PART_NAME", p."CREATE_TIME", p."LAST_ACCESS_TIME",
  s."LOCATION", s."INPUT_FORMAT", s."OUTPUT_FORMAT", s."IS_COMPRESSED", s."NUM_BUCKETS", s."CD_ID",
  se."SLIB", kv.vals, pp.params
FROM "PARTITIONS" p
JOIN "TBLS" t ON t."TBL_ID" = p."TBL_ID"
JOIN "DBS" d ON d."DB_ID" = t."DB_ID"
JOIN "SDS" s ON s."SD_ID" = p."SD_ID"
LEFT JOIN "SERDES" se ON se."SERDE_ID" = s."SERDE_ID"
LEFT JOIN (SELECT "PART_ID", array_agg("PART_KEY_VAL" ORDER BY "INTEGER_IDX") AS vals
           FROM "PARTITION_KEY_VALS" GROUP BY "PART_ID") kv ON kv."PART_ID" = p."PART_ID"
LEFT JOIN (SELECT "PART_ID", json_object_agg("PARAM_KEY", "PARAM_VALUE") AS params
           FROM "PARTITION_PARAMS" GROUP BY "PART_ID") pp ON pp."PART_ID" = p."PART_ID"'
EXPORT_SQL1=$(echo "$EXPORT_SQL" | tr '\n' ' ' | tr -s ' ')

HMS_URL=$(url hms)
REIMPORT_NOTE=
COPY_SQL=$HW/copy-import.sql
import_pass() { # REP
	fresh hms
	run import-full "$1" "$LOG/import-full.json" "$MS" import --input-path "$SNAP" --target "$HMS_URL" --json
	json_check "$LOG/import-full.json" partitions created "$PARTS"
	if [ "$NO_REIMPORT" != 1 ]; then
		run import-again "$1" "$LOG/import-again.json" "$MS" import --input-path "$SNAP" --target "$HMS_URL" --json
		# An unchanged re-import should find every partition unchanged; say so
		# when it does not (it is still timed: that is what a user pays).
		grep -q '"status":"ok"' "$LOG/import-again.json" || die "re-import: $(head -c 2000 "$LOG/import-again.json")"
		if ! grep -q "\"partitions\":{[^}]*\"unchanged\":$PARTS[,}]" "$LOG/import-again.json"; then
			REIMPORT_NOTE=$(grep -o '"\(tables\|partitions\)":{[^}]*}' "$LOG/import-again.json" | tr '\n' ' ')
			echo "  NOTE: the re-import did not find everything unchanged: $REIMPORT_NOTE"
		fi
	fi
	fresh hms_copy
	run copy-import "$1" /dev/null "${PSQL[@]}" -d hms_copy -f "$COPY_SQL"
}
export_pass() { # REP
	rm -rf "$OUT" "$COPYOUT"
	# A metastore at rest: the import just wrote a million rows, and without
	# this autovacuum works during the timed runs and the first reader sets
	# every row's hint bits (metasync's export runs first).
	"${PSQL[@]}" -d hms -c 'VACUUM ANALYZE' >/dev/null
	run export "$1" "$LOG/export.json" "$MS" export --source "$HMS_URL" --output-path "$OUT" --json
	json_check "$LOG/export.json" partitions created "$PARTS"
	run copy-export "$1" /dev/null "${PSQL[@]}" -d hms -c "\\copy ($EXPORT_SQL1) TO '$COPYOUT'"
}

# ---------------------------------------------------------------- baseline data
# One import fills `hms`; the tables it wrote rows into (empty in hms_empty)
# are dumped with \copy TO; the baseline loads those files back.
say "fill a metastore once to learn which rows metasync writes"
: >"$RES"
fresh hms
run import-full warm "$LOG/import-full.json" "$MS" import --input-path "$SNAP" --target "$HMS_URL" --json
json_check "$LOG/import-full.json" partitions created "$PARTS"
counts hms_empty | sort >"$LOG/counts-empty.txt"
counts hms | sort >"$LOG/counts-filled.txt"
TABLES=()
ROWS=0
while read -r t n; do
	e=$(awk -v t="$t" '$1 == t { print $2 }' "$LOG/counts-empty.txt")
	if [ "$n" -gt 0 ] && [ "${e:-0}" -eq 0 ]; then
		TABLES+=("$t")
		ROWS=$((ROWS + n))
		printf '  %-28s %10d rows\n' "$t" "$n"
	elif [ "$n" != "${e:-0}" ]; then
		printf '  %-28s %10d rows (%d before; not in the baseline)\n' "$t" "$n" "${e:-0}"
	fi
done <"$LOG/counts-filled.txt"
[ ${#TABLES[@]} -gt 0 ] || die "the import wrote no rows"
{
	echo "BEGIN;"
	echo "SET CONSTRAINTS ALL DEFERRED;"
	for t in "${TABLES[@]}"; do
		"${PSQL[@]}" -d hms -c "\\copy \"$t\" TO '$DUMP/$t.copy'"
		echo "\\copy \"$t\" FROM '$DUMP/$t.copy'"
	done
	echo "COMMIT;"
} >"$COPY_SQL"
echo "  $ROWS rows in ${#TABLES[@]} tables, $(du -sh "$DUMP" | cut -f1) of \\copy files"

# ---------------------------------------------------------------- measure
if [ "$WARM" != 0 ]; then
	say "warm-up pass (not counted)"
	[ "$ONLY" = export ] || import_pass warm
	export_pass warm
fi
for i in $(seq 1 "$REPS"); do
	say "pass $i of $REPS"
	[ "$ONLY" = export ] || import_pass "$i"
	export_pass "$i"
done
[ "$(wc -l <"$COPYOUT")" -eq "$PARTS" ] || die "the copy export holds $(wc -l <"$COPYOUT") lines, expected $PARTS"

# ---------------------------------------------------------------- report
FAILED=0
row() { # LABEL MS_VALUE BASE_VALUE RATIO TARGET_TEXT TARGET
	local verdict=pass
	awk -v r="$4" -v t="$6" 'BEGIN { exit !(r <= t) }' || { verdict=FAIL; FAILED=1; }
	printf '| %-42s | %10s | %10s | %7s | %-10s | %-6s |\n' "$1" "$2" "$3" "$4" "$5" "$verdict"
}

FULL=$(median import-full 3 || echo 0)
AGAIN=$(median import-again 3 || echo 0)
CIMP=$(median copy-import 3 || echo 0)
EXP=$(median export 3)
CEXP=$(median copy-export 3)

say "results: $PARTS partitions, median of $REPS runs (wall seconds; memory: max over runs)"
printf '| %-42s | %10s | %10s | %7s | %-10s | %-6s |\n' measurement metasync baseline ratio target result
echo "|--------------------------------------------|------------|------------|---------|------------|--------|"
skipped() { printf '| %-42s | %10s | %10s | %7s | %-10s | %-6s |\n' "$1" "-" "-" "" "$2" "skipped"; }
if [ "$ONLY" = export ]; then
	skipped "a. import vs psql \\copy FROM (s)" "<= 3"
	skipped "b. unchanged re-import vs full import (s)" "<= 0.10"
else
	row "a. import vs psql \\copy FROM (s)" "$(fmt "$FULL")" "$(fmt "$CIMP")" "$(div "$FULL" "$CIMP")" "<= 3" 3
fi
if [ "$ONLY" = export ]; then
	:
elif [ "$NO_REIMPORT" = 1 ]; then
	printf '| %-42s | %10s | %10s | %7s | %-10s | %-6s |\n' "b. unchanged re-import vs full import (s)" "-" "$(fmt "$FULL")" "" "<= 0.10" "skipped"
else
	row "b. unchanged re-import vs full import (s)" "$(fmt "$AGAIN")" "$(fmt "$FULL")" "$(div "$AGAIN" "$FULL")" "<= 0.10" 0.10
fi
row "c. export vs psql \\copy (SELECT) TO (s)" "$(fmt "$EXP")" "$(fmt "$CEXP")" "$(div "$EXP" "$CEXP")" "<= 2" 2
printf '| %-42s | %10s | %10s | %7s | %-10s | %-6s |\n' "d. peak RSS, import (MiB)" "$(mib "$(maxof import-full 4)")" "$(mib "$(maxof copy-import 4)")" "" "ref." ""
[ "$NO_REIMPORT" = 1 ] ||
	printf '| %-42s | %10s | %10s | %7s | %-10s | %-6s |\n' "d. peak RSS, re-import (MiB)" "$(mib "$(maxof import-again 4)")" "" "" "ref." ""
printf '| %-42s | %10s | %10s | %7s | %-10s | %-6s |\n' "d. peak RSS, export (MiB)" "$(mib "$(maxof export 4)")" "$(mib "$(maxof copy-export 4)")" "" "ref." ""
echo "(d: baseline column = psql's own peak; the server's memory is not counted on either side)"
echo
echo "CPU seconds of the client process (user + sys, median; the server's are not counted):"
for n in import-full import-again copy-import export copy-export; do
	median "$n" 3 >/dev/null || continue
	printf '  %-14s %8.2f user %8.2f sys   (wall %s)\n' "$n" "$(median "$n" 5)" "$(median "$n" 6)" "$(fmt "$(median "$n" 3)")"
done
echo
[ -z "$REIMPORT_NOTE" ] || echo "b: the unchanged re-import did not find everything unchanged; its report: $REIMPORT_NOTE"
echo "baseline tables (a): ${TABLES[*]} ($ROWS rows)"
echo "every run: $RES"
echo
echo "commands (server: PostgreSQL 15 on a Unix socket in $PGD; URL $(url 'DB'))"
echo "  a. metasync import --input-path $SNAP --target '$HMS_URL' --json   # into a fresh CREATE DATABASE hms TEMPLATE hms_empty"
echo "     psql -d hms_copy -f $COPY_SQL   # BEGIN; SET CONSTRAINTS ALL DEFERRED; \\copy \"T\" FROM 'dump/T.copy' ...; COMMIT"
echo "  b. metasync import --input-path $SNAP --target '$HMS_URL' --json   # again, into the filled metastore"
echo "  c. metasync export --source '$HMS_URL' --output-path $OUT --json"
echo "     psql -d hms -c \"\\copy ($EXPORT_SQL1) TO '$COPYOUT'\""
echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $(nproc)," \
	"memory $(free -g | awk '/^Mem:/ { print $2 " GiB" }'), kernel $(uname -r), $("$PGBIN/postgres" --version)"
echo "metasync built from: $TREE"

if [ "${BENCH_KEEP:-0}" = 1 ]; then
	echo "server kept: $(url hms)  (^C to stop)"
	while :; do sleep 3600; done
fi
[ $FAILED -eq 0 ] || exit 3
