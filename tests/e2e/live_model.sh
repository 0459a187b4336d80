#!/usr/bin/env bash
# Live replication against a model, end to end with agents: random
# operations on the source catalog (databases, tables, views, partitions
# created, altered, dropped; drops and re-creates under one name) while a
# live source agent and a target agent (two targets, one prefixed) run on the
# embedded bus, both killed with SIGKILL and started again at random
# moments.  Once the source is quiet, both targets must equal the source
# (metasync verify), and no change set may have been applied twice with an
# effect.  Seeds: $MS_LIVE_SEEDS (default two fixed ones); a failing seed
# says how to run it alone.
#
# MS_LIVE_SOURCE=hms-postgresql: the source is a Hive Metastore on
# PostgreSQL (a database of its own, with the Hive schema, on the server of
# $MS_TEST_HMS_PG_URL; exit 77 without it) read through its polling feed
# (nobody fills NOTIFICATION_LOG), its aggregate scan every second.
# MS_LIVE_SOURCE=glue: the source is an account's catalog in a `metasync
# serve` of this build, read through glue:// and the server's change log.
# usage: live_model.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: live_model.sh PATH-TO-METASYNC}
TEST=live_model
OPS=${MS_LIVE_OPS:-250}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
PSQL=/usr/lib/postgresql/15/bin/psql
cleanup_servers() { :; } # serve_e2e.sh's kills the glue source's server
if [ "${MS_LIVE_SOURCE:-}" = hms-postgresql ]; then
	TEST=live_model_hms
	if [ -z "${MS_TEST_HMS_PG_URL:-}" ] || [ ! -x "$PSQL" ]; then
		echo "live_model: skipped: \$MS_TEST_HMS_PG_URL is not set (scripts/test-servers.sh)"
		exit 77
	fi
	PGHOST=$(sed -n 's/.*[?&]host=\([^&]*\).*/\1/p' <<<"$MS_TEST_HMS_PG_URL")
elif [ "${MS_LIVE_SOURCE:-}" = glue ]; then
	TEST=live_model_glue
	. "$(dirname "$0")/../support/serve_e2e.sh"
fi

# hms_source NAME: a new metastore database NAME on the test server; S names it
hms_source() {
	"$PSQL" -X -q -h "$PGHOST" -U metasync -d hms -c "CREATE DATABASE $1" >/dev/null ||
		fail "cannot create database $1"
	"$PSQL" -X -q -h "$PGHOST" -U metasync -d "$1" -v ON_ERROR_STOP=1 \
		-f "$FIX/hive-metastore-3.1/hive-schema-3.1.0.postgres.sql" >"$T/schema.log" 2>&1 ||
		fail "cannot load the Hive schema: $(tail -n 5 "$T/schema.log")"
	S="hms+postgresql://metasync@/$1?host=$PGHOST&feed=poll&feed-scan=1s&catalog-id=111111111111"
}
# glue_source: a metasync serve over $T/glue.db; S is account A's catalog in it
glue_source() {
	write_accounts
	start_server glue
	: >"$T/empty.cfg"
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_GLUE
	export AWS_ACCESS_KEY_ID=$KEY_A AWS_SECRET_ACCESS_KEY=$SECRET_A AWS_EC2_METADATA_DISABLED=true \
		AWS_CONFIG_FILE="$T/empty.cfg" AWS_SHARED_CREDENTIALS_FILE="$T/empty.cfg"
	S="glue://us-east-1?endpoint=$ENDPOINT&catalog-id=$ACCT_A"
}
hms_drop() {
	[ -z "${HMSDB:-}" ] ||
		"$PSQL" -X -q -h "$PGHOST" -U metasync -d hms -c "DROP DATABASE IF EXISTS $HMSDB" \
			>/dev/null 2>&1 || true
}

for SEED in ${MS_LIVE_SEEDS:-11 12}; do
	T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-live-model.XXXXXX")
	. "$(dirname "$0")/../support/agent_e2e.sh"
	. "$(dirname "$0")/../support/live_e2e.sh"
	HMSDB=
	trap 'cleanup_agents; cleanup_servers; hms_drop; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
	command -v jq >/dev/null || fail "needs 'jq' (scripts/deps.sh test)"
	CASE="seed $SEED (rerun: ${MS_LIVE_SOURCE:+MS_LIVE_SOURCE=$MS_LIVE_SOURCE }MS_LIVE_SEEDS=$SEED bash $0 $M)"
	if [ "${MS_LIVE_SOURCE:-}" = hms-postgresql ]; then
		HMSDB="hmslive_$$_$SEED"
		hms_source "$HMSDB"
	elif [ "${MS_LIVE_SOURCE:-}" = glue ]; then
		glue_source
	fi
	RANDOM=$SEED
	BUS="embedded:$T/bus.db"
	live_configs "$BUS"
	echo '{"Database":{"Name":"d0"}}' | "$M" catalog put "$S" >/dev/null
	start_agent source
	SRC=$AGENT
	start_agent targets
	TGT=$AGENT
	kills=0
	for ((n = 0; n < OPS; n++)); do
		live_op
		live_kill_agents 40
	done
	wait_for "both targets to match the source" live_match
	live_no_double "$BUS"
	echo "$TEST: seed $SEED: $OPS operations, $kills agents killed, $(ls "$T/store" | grep -c -- -) snapshots"
	cleanup_agents
	AGENTS=()
	cleanup_servers
	SERVERS=()
	hms_drop
	[ -n "${KEEP:-}" ] || rm -rf "$T"
done
echo "PASS: $TEST"
