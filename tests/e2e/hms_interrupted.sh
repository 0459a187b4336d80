#!/usr/bin/env bash
# Hive Metastore: an import interrupted mid-table, then re-run, leaves the
# table complete and consistent.  A table of $N partitions is synced from an
# embedded catalog into HMS on PostgreSQL (and on MariaDB), and while the sync
# is writing that table's partitions
#   1. its server connection is killed (first import: the target must hold
#      nothing of the table), then
#   2. the source changes the table and a quarter of its partitions and the
#      metasync process is killed with SIGKILL mid-update (the target must
#      hold the whole previous version, never a mix);
# each time a re-run exits 0 with the table complete, a third run changes
# nothing, and no SDS, CDS, SERDES or parameter row is left without its owner.
#
# Needs $MS_TEST_HMS_PG_URL and/or $MS_TEST_HMS_MYSQL_URL
# (scripts/test-servers.sh) and the psql / mariadb clients; skipped, with a
# note, when neither URL is set or the hms drivers are not built in.
# usage: hms_interrupted.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: hms_interrupted.sh PATH-TO-METASYNC}
PG=${MS_TEST_HMS_PG_URL:-}
MY=${MS_TEST_HMS_MYSQL_URL:-}
if [ -z "$PG" ] && [ -z "$MY" ]; then
	echo "hms_interrupted: skipped: neither \$MS_TEST_HMS_PG_URL nor \$MS_TEST_HMS_MYSQL_URL is set"
	exit 0
fi
for url in $PG $MY; do
	if ! out=$("$M" catalog ls "$url" 2>&1); then
		if grep -q "unknown catalog url scheme" <<<"$out"; then
			echo "hms_interrupted: skipped: no driver for '${url%%:*}' yet"
			exit 0
		fi
		echo "FAIL: hms_interrupted: catalog ls on the test server: $out" >&2
		exit 1
	fi
done

# Enough partitions that writing them takes a few seconds.
N=${MS_TEST_HMS_INTERRUPTED_PARTITIONS:-20000}
N2=$(((N + 3) / 4))
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-hms-int.XXXXXX")
# Names of this run only: the servers are shared with other tests.
P="hmsint_$$_"
DB="${P}db"
APP="metasync_${P}"
BG=
cleanup() {
	local url
	if [ -n "$BG" ] && kill -0 "$BG" 2>/dev/null; then
		kill -KILL "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
	for url in $PG $MY; do
		"$M" catalog rm "$url" "$DB" >/dev/null 2>&1 || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

WHERE=postgresql
fail() {
	echo "FAIL: hms_interrupted ($WHERE): $*" >&2
	exit 1
}

# ---- SQL on the metastore, with the client the URL names ---------------------
# sql QUERY: one value per line, columns tab-separated.  Identifiers are
# written in double quotes (MariaDB sessions run with ANSI_QUOTES).
PSQL=$(command -v psql || ls /usr/lib/postgresql/15/bin/psql 2>/dev/null || true)
if [ -n "$PG" ]; then
	[ -n "$PSQL" ] || { echo "FAIL: hms_interrupted: no psql client" >&2; exit 1; }
	# hms+postgresql://... is a libpq URI after the prefix; drop metasync's own parameters.
	PG_CONNINFO=$(sed -E 's/^hms\+//; s/([?&])(catalog|schema|catalog-id)=[^&]*&?/\1/g; s/[?&]$//' <<<"$PG")
fi
if [ -n "$MY" ]; then
	command -v mariadb >/dev/null || { echo "FAIL: hms_interrupted: no mariadb client" >&2; exit 1; }
	re='^hms\+mysql://([^:@/]*)(:([^@]*))?@([^/:]*)(:([0-9]+))?/([^?]*)(\?(.*))?$'
	[[ $MY =~ $re ]] || { echo "FAIL: hms_interrupted: cannot read '$MY'" >&2; exit 1; }
	MY_ARGS=(--no-defaults -u "${BASH_REMATCH[1]}" -D "${BASH_REMATCH[7]}")
	[ -n "${BASH_REMATCH[3]}" ] && MY_ARGS+=(-p"${BASH_REMATCH[3]}")
	[ -n "${BASH_REMATCH[6]}" ] && MY_ARGS+=(-P "${BASH_REMATCH[6]}")
	sock=$(tr '&' '\n' <<<"${BASH_REMATCH[9]}" | sed -n 's/^socket=//p')
	if [ -n "$sock" ]; then MY_ARGS+=(-S "$sock"); else MY_ARGS+=(-h "${BASH_REMATCH[4]}"); fi
fi
sql() {
	case $WHERE in
	postgresql) "$PSQL" -X -q -A -t -F $'\t' -v ON_ERROR_STOP=1 -d "$PG_CONNINFO" -c "$1" ;;
	mariadb) mariadb "${MY_ARGS[@]}" -N -B -e "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES'); $1" ;;
	esac
}

# ---- the source: one database, one table of $N partitions --------------------
# A snapshot in the AWS utility's format, written by awk, imported into an
# embedded catalog; VERSION goes into the table's and every partition's
# parameters (and a partition's location); version 2 changes the table and
# every 4th partition ($N2 of them: updating costs more than creating, see
# below).
A="sqlite:$T/a.db?catalog-id=111111111111"
SD_REST='"inputFormat":"org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat","outputFormat":"org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat","compressed":false,"numberOfBuckets":-1,"storedAsSubDirectories":false,"parameters":{},"serdeInfo":{"serializationLibrary":"org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe","parameters":{"serialization.format":"1"}},"bucketColumns":[],"sortColumns":[]'
gen_source() { # VERSION [PARTITIONS-IT-CHANGES]; sets VERSION
	VERSION=$1
	# One path for both versions: an import marks its entities replicas of
	# the snapshot path it was given, and skips entities of another source.
	local s="$T/snap/2026-01-01-00-00-00"
	rm -rf "$T/snap"
	mkdir -p "$s/databases" "$s/tables" "$s/partitions"
	echo "{\"type\":\"database\",\"item\":{\"name\":\"$DB\",\"locationUri\":\"s3://lake/$DB/\",\"parameters\":{}}}" \
		>"$s/databases/part-00000.json"
	echo "{\"type\":\"table\",\"database\":\"$DB\",\"item\":{\"name\":\"big\",\"owner\":\"etl\",\"createTime\":\"1700000000000\",\"retention\":0,\"tableType\":\"EXTERNAL_TABLE\",\"parameters\":{\"EXTERNAL\":\"TRUE\",\"version\":\"$1\"},\"partitionKeys\":[{\"name\":\"dt\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"string\"}],\"storageDescriptor\":{\"columns\":[{\"name\":\"id\",\"type\":\"bigint\"}],\"location\":\"s3://lake/$DB/big\",$SD_REST}}}" \
		>"$s/tables/part-00000.json"
	awk -v n="$N" -v db="$DB" -v tv="$1" -v rest="$SD_REST" 'BEGIN {
		for (i = 0; i < n; i++) {
			v = tv == 2 && i % 4 == 0 ? 2 : 1
			d = sprintf("2024-%02d-%02d", i % 12 + 1, int(i / 12) % 28 + 1)
			printf "{\"type\":\"partition\",\"database\":\"%s\",\"table\":\"big\",\"item\":{\"values\":[\"%s\",\"%d\"],\"creationTime\":\"1700000000000\",\"parameters\":{\"version\":\"%s\",\"numRows\":\"%d\"},\"storageDescriptor\":{\"columns\":[{\"name\":\"id\",\"type\":\"bigint\"}],\"location\":\"s3://lake/%s/big/v%s/dt=%s/n=%d\",%s}}}\n", db, d, i, v, i, db, v, d, i, rest
		}
	}' >"$s/partitions/part-00000.json"
	local out
	out=$("$M" import --input-path "$s" --allow-no-manifest --target "$A" --json) ||
		fail "import of source version $1 into the embedded catalog exited with $?"
	[ "$(jq '.counts.partitions | .created + .updated' <<<"$out")" -eq "${2:-$([ "$1" = 1 ] && echo "$N" || echo "$N2")}" ] ||
		fail "import of source version $1 into the embedded catalog: $(jq -c .counts <<<"$out")"
}

# ---- what the target holds ---------------------------------------------------
TBL_WHERE="\"DBS\".\"NAME\" = '$DB' AND \"TBLS\".\"TBL_NAME\" = 'big'"
TBL_JOIN="\"TBLS\" JOIN \"DBS\" ON \"DBS\".\"DB_ID\" = \"TBLS\".\"DB_ID\""
# "TABLES PARTITIONS KEY_VALS TABLE_VERSION PARTITIONS_AT_VERSION..." of the table.
state() {
	sql "SELECT
	  (SELECT COUNT(*) FROM $TBL_JOIN WHERE $TBL_WHERE),
	  (SELECT COUNT(*) FROM \"PARTITIONS\" JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"PARTITIONS\".\"TBL_ID\" WHERE $TBL_WHERE),
	  (SELECT COUNT(*) FROM \"PARTITION_KEY_VALS\" JOIN \"PARTITIONS\" ON \"PARTITIONS\".\"PART_ID\" = \"PARTITION_KEY_VALS\".\"PART_ID\"
	     JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"PARTITIONS\".\"TBL_ID\" WHERE $TBL_WHERE),
	  (SELECT COALESCE(MAX(\"PARAM_VALUE\"), '-') FROM \"TABLE_PARAMS\" JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"TABLE_PARAMS\".\"TBL_ID\"
	     WHERE $TBL_WHERE AND \"PARAM_KEY\" = 'version'),
	  (SELECT COUNT(*) FROM \"PARTITION_PARAMS\" JOIN \"PARTITIONS\" ON \"PARTITIONS\".\"PART_ID\" = \"PARTITION_PARAMS\".\"PART_ID\"
	     JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"PARTITIONS\".\"TBL_ID\" WHERE $TBL_WHERE AND \"PARAM_KEY\" = 'version' AND \"PARAM_VALUE\" = '1'),
	  (SELECT COUNT(*) FROM \"PARTITION_PARAMS\" JOIN \"PARTITIONS\" ON \"PARTITIONS\".\"PART_ID\" = \"PARTITION_PARAMS\".\"PART_ID\"
	     JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"PARTITIONS\".\"TBL_ID\" WHERE $TBL_WHERE AND \"PARAM_KEY\" = 'version' AND \"PARAM_VALUE\" = '2'),
	  (SELECT COUNT(*) FROM \"PARTITIONS\" JOIN \"SDS\" ON \"SDS\".\"SD_ID\" = \"PARTITIONS\".\"SD_ID\" JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"PARTITIONS\".\"TBL_ID\"
	     WHERE $TBL_WHERE AND \"SDS\".\"LOCATION\" LIKE 's3://lake/$DB/big/v1/%'),
	  (SELECT COUNT(*) FROM \"PARTITIONS\" JOIN \"SDS\" ON \"SDS\".\"SD_ID\" = \"PARTITIONS\".\"SD_ID\" JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"PARTITIONS\".\"TBL_ID\"
	     WHERE $TBL_WHERE AND \"SDS\".\"LOCATION\" LIKE 's3://lake/$DB/big/v2/%')" | tr '\t' ' '
}
# The state of a complete table at VERSION.
complete() { # VERSION
	if [ "$1" = 1 ]; then
		echo "1 $N $((2 * N)) 1 $N 0 $N 0"
	else
		echo "1 $N $((2 * N)) 2 $((N - N2)) $N2 $((N - N2)) $N2"
	fi
}
STATE_FIELDS="(tables, partitions, key values, table version, partitions at version 1 and 2 by parameter, by location)"

# Rows without their owner, per kind ("KIND COUNT" for each nonzero count).
orphans() {
	sql "SELECT 'SDS', COUNT(*) FROM \"SDS\" s WHERE NOT EXISTS (SELECT 1 FROM \"TBLS\" t WHERE t.\"SD_ID\" = s.\"SD_ID\")
	                                    AND NOT EXISTS (SELECT 1 FROM \"PARTITIONS\" p WHERE p.\"SD_ID\" = s.\"SD_ID\")
	UNION ALL SELECT 'CDS', COUNT(*) FROM \"CDS\" c WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE s.\"CD_ID\" = c.\"CD_ID\")
	UNION ALL SELECT 'COLUMNS_V2', COUNT(*) FROM \"COLUMNS_V2\" x WHERE NOT EXISTS (SELECT 1 FROM \"CDS\" c WHERE c.\"CD_ID\" = x.\"CD_ID\")
	UNION ALL SELECT 'SERDES', COUNT(*) FROM \"SERDES\" r WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE s.\"SERDE_ID\" = r.\"SERDE_ID\")
	UNION ALL SELECT 'SERDE_PARAMS', COUNT(*) FROM \"SERDE_PARAMS\" x WHERE NOT EXISTS (SELECT 1 FROM \"SERDES\" r WHERE r.\"SERDE_ID\" = x.\"SERDE_ID\")
	UNION ALL SELECT 'SD_PARAMS', COUNT(*) FROM \"SD_PARAMS\" x WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE s.\"SD_ID\" = x.\"SD_ID\")
	UNION ALL SELECT 'PARTITION_PARAMS', COUNT(*) FROM \"PARTITION_PARAMS\" x WHERE NOT EXISTS (SELECT 1 FROM \"PARTITIONS\" p WHERE p.\"PART_ID\" = x.\"PART_ID\")
	UNION ALL SELECT 'PARTITION_KEY_VALS', COUNT(*) FROM \"PARTITION_KEY_VALS\" x WHERE NOT EXISTS (SELECT 1 FROM \"PARTITIONS\" p WHERE p.\"PART_ID\" = x.\"PART_ID\")
	UNION ALL SELECT 'PARTITIONS', COUNT(*) FROM \"PARTITIONS\" x WHERE NOT EXISTS (SELECT 1 FROM \"TBLS\" t WHERE t.\"TBL_ID\" = x.\"TBL_ID\")
	UNION ALL SELECT 'PARTITION_KEYS', COUNT(*) FROM \"PARTITION_KEYS\" x WHERE NOT EXISTS (SELECT 1 FROM \"TBLS\" t WHERE t.\"TBL_ID\" = x.\"TBL_ID\")
	UNION ALL SELECT 'TABLE_PARAMS', COUNT(*) FROM \"TABLE_PARAMS\" x WHERE NOT EXISTS (SELECT 1 FROM \"TBLS\" t WHERE t.\"TBL_ID\" = x.\"TBL_ID\")
	UNION ALL SELECT 'TBLS', COUNT(*) FROM \"TBLS\" x WHERE NOT EXISTS (SELECT 1 FROM \"DBS\" d WHERE d.\"DB_ID\" = x.\"DB_ID\")
	UNION ALL SELECT 'BUCKETING_COLS', COUNT(*) FROM \"BUCKETING_COLS\" x WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE s.\"SD_ID\" = x.\"SD_ID\")
	UNION ALL SELECT 'SORT_COLS', COUNT(*) FROM \"SORT_COLS\" x WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE s.\"SD_ID\" = x.\"SD_ID\")
	UNION ALL SELECT 'SKEWED_COL_NAMES', COUNT(*) FROM \"SKEWED_COL_NAMES\" x WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE s.\"SD_ID\" = x.\"SD_ID\")" |
		awk -F '\t' '$2 != 0 { print $1 " " $2 }'
}
check_orphans() { # WHEN
	local now
	now=$(orphans)
	# Rows other tests may have left before this one started are theirs.
	[ "$now" = "$ORPHANS_BEFORE" ] || fail "$1: rows without their owner: $(tr '\n' ';' <<<"$now") (before this test: $(tr '\n' ';' <<<"$ORPHANS_BEFORE"))"
}

# ---- the interruption -----------------------------------------------------
# Backends of our sync that hold a write lock on a partition table: the sync
# is inside the table's transaction, writing partitions.
writers() {
	case $WHERE in
	postgresql) sql "SELECT DISTINCT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE a.application_name = '$APP' AND l.mode = 'RowExclusiveLock' AND l.granted
		  AND l.relation IN ('\"PARTITIONS\"'::regclass, '\"PARTITION_PARAMS\"'::regclass, '\"PARTITION_KEY_VALS\"'::regclass)" ;;
	# INNODB_TRX's counts come from a cache that can stay stale for
	# seconds: how far the sync is comes from a dirty read of what it wrote
	# (its partitions' parameters of the version it writes), its thread
	# from the transactions open on the metastore.
	mariadb) sql "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;
		SELECT x.trx_mysql_thread_id FROM information_schema.INNODB_TRX x
		JOIN information_schema.PROCESSLIST p ON p.ID = x.trx_mysql_thread_id
		WHERE p.DB = '$MY_DB' AND p.ID <> CONNECTION_ID() AND
		  (SELECT COUNT(*) FROM \"PARTITION_PARAMS\" pp
		     JOIN \"PARTITIONS\" ON \"PARTITIONS\".\"PART_ID\" = pp.\"PART_ID\"
		     JOIN $TBL_JOIN ON \"TBLS\".\"TBL_ID\" = \"PARTITIONS\".\"TBL_ID\"
		   WHERE $TBL_WHERE AND pp.\"PARAM_KEY\" = 'version' AND pp.\"PARAM_VALUE\" = '$VERSION') > 1000" ;;
	esac
}
# Any connection of our sync still open on the server.
connections() {
	case $WHERE in
	postgresql) sql "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '$APP'" ;;
	mariadb) sql "SELECT COUNT(*) FROM information_schema.INNODB_TRX x
		JOIN information_schema.PROCESSLIST p ON p.ID = x.trx_mysql_thread_id
		WHERE p.DB = '$MY_DB' AND p.ID <> CONNECTION_ID()" ;;
	esac
}
kill_connections() { # IDS...
	local id
	for id in "$@"; do
		case $WHERE in
		postgresql) sql "SELECT pg_terminate_backend($id)" >/dev/null ;;
		mariadb) sql "KILL CONNECTION $id" >/dev/null 2>&1 || true ;;
		esac
	done
}

# Start the sync in the background, wait until it writes partitions, then
# interrupt it with HOW (connection or process).  Sets ST to its exit status.
# Returns 2 when the interruption missed: the poll never saw the sync inside
# its partitions, or the sync was done before the kill landed (on a fast
# machine the partitions of a MariaDB table go in within a poll or two);
# the caller puts the target back and tries again.
interrupted_sync() { # HOW
	local ids
	"$M" sync --source "$A" --target "$U" --json >"$T/int.json" 2>"$T/int.err" &
	BG=$!
	ids=
	for _ in $(seq 1 1200); do
		ids=$(writers)
		[ -n "$ids" ] && break
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$ids" ]; then
		wait "$BG" || true
		BG=
		echo "hms_interrupted ($WHERE): the poll never saw the sync writing partitions; again" >&2
		return 2
	fi
	# Into the partitions, far from the end.
	sleep 0.2
	case $1 in
	connection) read -r -a ids <<<"${ids//$'\n'/ }"; kill_connections "${ids[@]}" ;;
	process) kill -KILL "$BG" 2>/dev/null || true ;;
	esac
	ST=0
	# (No "Killed" notice from the shell on stderr.)
	{ wait "$BG"; } 2>/dev/null || ST=$?
	BG=
	# The server ends the dead client's transaction: wait until it has.
	for _ in $(seq 1 200); do
		if [ "$(connections)" = 0 ]; then
			[ "$ST" -ne 0 ] && return 0
			echo "hms_interrupted ($WHERE): the sync was done before the $1 kill; again" >&2
			return 2
		fi
		sleep 0.05
	done
	fail "the killed sync's connections are still open on the server"
}

# interrupt HOW RESET: interrupted_sync HOW until it lands (RESET puts the
# target back between tries), at most 5 tries.
interrupt() { # HOW RESET
	local try rc
	for try in 1 2 3 4 5; do
		rc=0
		interrupted_sync "$1" || rc=$?
		[ "$rc" -eq 2 ] || return 0
		"$2"
	done
	fail "the $1 kill never landed mid-table in 5 tries (N=$N too small?)"
}
drop_target() {
	"$M" catalog rm "$U" "$DB" >/dev/null
}
back_to_version_1() {
	gen_source 1 "$N2"
	synced "back to version 1" >/dev/null
	gen_source 2
}

synced() { # WHAT: a run that must succeed; prints its --json report
	local out st=0
	out=$("$M" sync --source "$A" --target "$U" --json 2>"$T/sync.err") || st=$?
	[ "$st" -eq 0 ] || { cat "$T/sync.err" >&2; fail "$1 exited with $st: $out"; }
	echo "$out"
}

run() { # postgresql|mariadb URL
	local out want got
	WHERE=$1
	case $WHERE in
	postgresql) U="$2$( [[ $2 == *\?* ]] && echo '&' || echo '?')application_name=$APP" ;;
	mariadb) U=$2 ;;
	esac
	ORPHANS_BEFORE=$(orphans)
	rm -rf "$T/a.db"
	gen_source 1

	# 1. First import, connection killed: nothing of the table, or all of it
	# (the database itself is written in a transaction of its own).
	interrupt connection drop_target
	[ "$ST" -eq 1 ] || [ "$ST" -eq 3 ] ||
		{ cat "$T/int.err" >&2; fail "sync whose connection was killed exited with $ST, want 1 or 3: $(cat "$T/int.json")"; }
	got=$(state)
	[ "$got" = "0 0 0 - 0 0 0 0" ] ||
		fail "after the killed first import the target holds part of the table: $got $STATE_FIELDS"
	check_orphans "after the killed first import"

	out=$(synced "re-run after the killed first import")
	got=$(state)
	want=$(complete 1)
	[ "$got" = "$want" ] || fail "after the re-run: $got, want $want $STATE_FIELDS"
	[ "$(jq -c '[.counts.tables.created, .counts.partitions.created]' <<<"$out")" = "[1,$N]" ] ||
		fail "re-run after the killed first import: $(jq -c .counts <<<"$out")"
	out=$(synced "third run")
	[ "$(jq -c '[.counts | .databases, .tables, .partitions | .created + .updated + .deleted + .failed]' <<<"$out")" = "[0,0,0]" ] ||
		fail "third run changed something: $(jq -c .counts <<<"$out")"
	check_orphans "after the re-run"
	[ "$("$M" catalog ls "$2" "$DB" big --json | jq length)" -eq "$N" ] ||
		fail "catalog ls lists $("$M" catalog ls "$2" "$DB" big --json | jq length) partitions, want $N"

	# 2. Every partition changes; the process is killed mid-update: the
	# whole previous version stays.
	gen_source 2
	interrupt process back_to_version_1
	got=$(state)
	want=$(complete 1)
	[ "$got" = "$want" ] ||
		fail "after the killed update the target holds a mix: $got, want version 1: $want $STATE_FIELDS"
	check_orphans "after the killed update"

	out=$(synced "re-run after the killed update")
	got=$(state)
	want=$(complete 2)
	[ "$got" = "$want" ] || fail "after the re-run of the update: $got, want $want $STATE_FIELDS"
	[ "$(jq -c '[.counts.tables.updated, .counts.partitions.updated]' <<<"$out")" = "[1,$N2]" ] ||
		fail "re-run after the killed update: $(jq -c .counts <<<"$out")"
	out=$(synced "third run of the update")
	[ "$(jq -c '[.counts | .databases, .tables, .partitions | .created + .updated + .deleted + .failed]' <<<"$out")" = "[0,0,0]" ] ||
		fail "third run of the update changed something: $(jq -c .counts <<<"$out")"
	check_orphans "after the re-run of the update"

	# Deleting the database leaves nothing behind either.
	"$M" catalog rm "$2" "$DB" >/dev/null || fail "catalog rm of the database exited with $?"
	[ "$(state)" = "0 0 0 - 0 0 0 0" ] || fail "catalog rm left part of the table: $(state)"
	check_orphans "after catalog rm"
	echo "hms_interrupted: $WHERE ok ($N partitions)"
}

[ -z "$PG" ] || run postgresql "$PG"
if [ -n "$MY" ]; then
	MY_DB=${MY_ARGS[4]}
	run mariadb "$MY"
fi
echo "hms_interrupted: ok"
