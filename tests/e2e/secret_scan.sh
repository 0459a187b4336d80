#!/usr/bin/env bash
# Secrets never leak.  Marker secrets are given in every place metasync takes
# one: the password of a URL's user info, URL parameters (password=,
# sslpassword=, on PostgreSQL and MySQL metastores), the environment
# (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the AWS credentials file, and
# an agent's configuration (catalog and bus URLs).  Every command that takes
# them runs, successfully and failing (unreachable servers, refused URLs),
# and then every output, log, report, event (snapshots, results, errors,
# dead letters), /metrics and /healthz answer, manifest, snapshot file,
# catalog file, bus file, object on the S3 server and row of both Hive
# Metastores is searched for every marker.  The MySQL test server's real
# password is searched for too.
#
# Needs $MS_TEST_HMS_PG_URL (scripts/test-servers.sh; exit 77 without it);
# uses $MS_TEST_HMS_MYSQL_URL, $MS_TEST_S3_ENDPOINT and $MS_TEST_NATS_URL when
# they are set.
# usage: secret_scan.sh PATH-TO-METASYNC
set -uo pipefail
M=${1:?usage: secret_scan.sh PATH-TO-METASYNC}
PG=${MS_TEST_HMS_PG_URL:-}
MY=${MS_TEST_HMS_MYSQL_URL:-}
if [ -z "$PG" ]; then
	echo "secret_scan: \$MS_TEST_HMS_PG_URL is not set (scripts/test-servers.sh): skipped"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-secrets.XXXXXX")
AGENT=
P="secrets_$$_"
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	for url in "$PG" ${MY:+"$MY"}; do
		for db in $("$M" catalog ls "$url" --json 2>/dev/null | jq -r '.[]' | grep "^$P"); do
			"$M" catalog rm "$url" "$db" >/dev/null 2>&1
		done
	done
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: secret_scan: $*" >&2
	exit 1
}

# ---- the markers ---------------------------------------------------------
R=$RANDOM$RANDOM
declare -A SECRET=(
	[userinfo]="UsrInf0Pw$R"
	[param_password]="ParamPw$R"
	[param_sslpassword]="SslPw$R"
	[mysql_param]="MyPw$R"
	[env_secret_key]="EnvSecretKey$R"
	[env_session_token]="EnvSessionTok$R"
	[file_secret_key]="FileSecretKey$R"
	[file_session_token]="FileSessionTok$R"
	[bus_password]="BusPw$R"
	[s3_userinfo]="S3UrlPw$R"
)
# the MySQL test server's own password is a secret too
if [ -n "$MY" ]; then
	mypw=$(sed -nE 's#^hms\+mysql://[^:/@]*:([^@]*)@.*#\1#p' <<<"$MY")
	[ -n "$mypw" ] && SECRET[mysql_server]=$mypw
fi

# ---- URLs that carry them ------------------------------------------------
# PostgreSQL on its socket trusts the test user: the passwords go unused but
# through every path a real one takes.
PGHOST=$(sed -nE 's#.*[?&]host=([^&]*).*#\1#p' <<<"$PG")
PGUSER=$(sed -nE 's#^hms\+postgresql://([^:@/]*)@.*#\1#p' <<<"$PG")
PG_INFO=$(sed -E "s#^(hms\+postgresql://[^:@/]*)@#\1:${SECRET[userinfo]}@#" <<<"$PG")
PG_PARAM="$PG&password=${SECRET[param_password]}&sslpassword=${SECRET[param_sslpassword]}"
[ "$PG_INFO" != "$PG" ] || fail "cannot put a password into '$PG'"
if [ -n "$MY" ]; then
	# the real password moved from the user info to ?password=
	MY_PARAM=$(sed -E 's#^(hms\+mysql://[^:/@]*):[^@]*@#\1@#' <<<"$MY")"&password=${SECRET[mysql_server]}"
fi
NATS=${MS_TEST_NATS_URL:-}
if [ -n "$NATS" ]; then
	BUS=$(sed -E "s#^nats://#nats://scan:${SECRET[bus_password]}@#" <<<"$NATS")"?namespace=scan$R"
else
	BUS="embedded:$T/bus.db"
fi
S3=
if [ -n "${MS_TEST_S3_ENDPOINT:-}" ]; then
	S3="s3://metasync-test/secrets-$R"
	EP="?endpoint=$MS_TEST_S3_ENDPOINT"
fi
cat >"$T/credentials" <<EOF
[scan]
aws_access_key_id = S3RVER
aws_secret_access_key = ${SECRET[file_secret_key]}
aws_session_token = ${SECRET[file_session_token]}
EOF

mkdir -p "$T/out"
n=0
# run NAME EXPECT CMD...: EXPECT ok (exit 0) or fail (exit non-zero)
run() {
	local name=$1 expect=$2 rc
	shift 2
	n=$((n + 1))
	"$@" >"$T/out/$n-$name.out" 2>"$T/out/$n-$name.err"
	rc=$?
	if [ "$expect" = ok ] && [ $rc -ne 0 ]; then
		cat "$T/out/$n-$name.err" >&2
		fail "$name exited with $rc"
	fi
	if [ "$expect" = fail ] && [ $rc -eq 0 ]; then
		fail "$name succeeded where it should fail"
	fi
	return 0
}
envkeys() { env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY="${SECRET[env_secret_key]}" \
	AWS_SESSION_TOKEN="${SECRET[env_session_token]}" "$@"; }
filekeys() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_CONFIG_FILE=/dev/null AWS_PROFILE=scan "$@"; }

# ---- a source in the PostgreSQL metastore ----------------------------------
A="sqlite:$T/a.db?catalog-id=111111111111"
"$M" catalog put "$A" >/dev/null <<EOF || fail "catalog put"
{"Database":{"Name":"${P}sales","LocationUri":"s3://lake/sales/"}}
EOF
"$M" catalog put "$A" >/dev/null <<EOF || fail "catalog put"
{"Table":{"Name":"orders","DatabaseName":"${P}sales","TableType":"EXTERNAL_TABLE","PartitionKeys":[{"Name":"dt","Type":"string"}],"StorageDescriptor":{"Location":"s3://lake/sales/orders/","Columns":[{"Name":"id","Type":"bigint"}]}}}
EOF
for d in 01 02 03; do
	"$M" catalog put "$A" >/dev/null <<EOF || fail "catalog put"
{"Partition":{"DatabaseName":"${P}sales","TableName":"orders","Values":["2024-01-$d"],"StorageDescriptor":{"Location":"s3://lake/sales/orders/dt=2024-01-$d/"}}}
EOF
done
run sync-to-pg-userinfo ok "$M" sync --source "$A" --target "$PG_INFO" -v
run sync-to-pg-params ok "$M" sync --source "$A" --target "$PG_PARAM" --json --full
run plan-from-pg ok "$M" plan --source "$PG_PARAM" --target "sqlite:$T/b.db" --database-names "${P}*" -v
run catalog-ls-pg ok "$M" catalog ls "$PG_INFO" "${P}sales" orders --json
run catalog-show-pg ok "$M" catalog show "$PG_PARAM" "${P}sales" orders
# export: manifest, parts, the event
run export-pg ok "$M" export --source "$PG_PARAM" --database-names "${P}*" \
	--output-path "$T/store" --notify "$BUS" --json
run import-to-pg ok "$M" import --input-path "$T/store" --target "$PG_INFO" \
	--database-prefix "copy_${P}" --json
run sync-pg-to-sqlite ok "$M" sync --source "$PG_INFO" --target "sqlite:$T/c.db" \
	--database-names "${P}sales" --deletes mirror --json
if [ -n "$MY" ]; then
	run sync-to-mysql ok "$M" sync --source "$PG_PARAM" --target "$MY_PARAM" \
		--database-names "${P}*" -v
	run export-mysql ok "$M" export --source "$MY_PARAM" --database-names "${P}*" \
		--output-path "$T/store-my" --json
	run mysql-bad-db fail "$M" catalog ls "$(sed -E 's#/hms\?#/no_such_db?#' <<<"$MY_PARAM")"
fi
if [ -n "$S3" ]; then
	run export-s3-env ok envkeys "$M" export --source "$PG_PARAM" --database-names "${P}*" \
		--output-path "$S3/env$EP" --json
	run import-s3-env ok envkeys "$M" import --input-path "$S3/env$EP" --target "sqlite:$T/d.db" --json
	run export-s3-file ok filekeys "$M" export --source "$PG_INFO" --database-names "${P}*" \
		--output-path "$S3/file$EP" --json
	run s3-unreachable fail envkeys "$M" export --source "$A" \
		--output-path "s3://metasync-test/x?endpoint=http://127.0.0.1:9&attempts=1" --json
	run s3-url-credentials fail "$M" import \
		--input-path "s3://AKIA:${SECRET[s3_userinfo]}@metasync-test/x" --target "sqlite:$T/e.db"
fi
# failures that print the URL
run pg-unreachable fail "$M" catalog ls "hms+postgresql://$PGUSER:${SECRET[userinfo]}@127.0.0.1:9/hms?password=${SECRET[param_password]}&connect_timeout=2"
run pg-bad-param fail "$M" catalog ls "$PG_PARAM&sslmod=require"
run pg-twice fail "$M" catalog ls "$PG_INFO&password=${SECRET[param_password]}"
run pg-bad-db fail "$M" export --source "$(sed -E 's#/hms\?#/no_such_db?#' <<<"$PG_PARAM")" \
	--output-path "$T/none"
run bus-unreachable fail "$M" publish --bus "nats://scan:${SECRET[bus_password]}@127.0.0.1:9" \
	--snapshot "$T/store"
run import-bad-target fail "$M" import --input-path "$T/store" \
	--target "hms+postgresql://$PGUSER:${SECRET[userinfo]}@127.0.0.1:9/hms?sslpassword=${SECRET[param_sslpassword]}&connect_timeout=2"

# ---- an agent whose configuration holds them --------------------------------
cat >"$T/agent.yaml" <<EOF
bus: $BUS
listen: 127.0.0.1:0
source:
  name: scansrc
  catalog: $PG_PARAM
  databases: "${P}sales"
  store: $T/agent-store
targets:
  - name: good
    catalog: sqlite:$T/agent-target.db?catalog-id=222222222222
    follow: [scansrc]
    deletes: mirror
  - name: broken
    catalog: hms+postgresql://$PGUSER:${SECRET[userinfo]}@127.0.0.1:9/hms?password=${SECRET[param_password]}&connect_timeout=1
    follow: [scansrc]
    max_attempts: 1
EOF
# --once: exports, imports, dead-letters the broken target's event (exit 1)
run agent-once fail "$M" agent --config "$T/agent.yaml" --once
# a running agent: /metrics and /healthz after a second export
"$M" agent --config "$T/agent.yaml" 2>"$T/out/agent.log" &
AGENT=$!
port=
for _ in $(seq 1 600); do
	port=$(sed -nE 's/.*on port ([0-9]+).*/\1/p' "$T/out/agent.log" | head -n1)
	[ -n "$port" ] && grep -q "target=good" "$T/out/agent.log" && break
	kill -0 "$AGENT" 2>/dev/null || fail "the agent exited: $(tail -n 5 "$T/out/agent.log")"
	sleep 0.1
done
[ -n "$port" ] || fail "the agent does not listen"
for _ in $(seq 1 300); do
	curl -sf "http://127.0.0.1:$port/metrics" >"$T/out/metrics" 2>/dev/null &&
		grep -q 'metasync_imports_total{target="good"' "$T/out/metrics" && break
	sleep 0.2
done
# the broken target makes the agent unhealthy (503), named without its secrets
code=$(curl -s -o "$T/out/healthz" -w '%{http_code}' "http://127.0.0.1:$port/healthz") ||
	fail "no /healthz"
[ "$code" = 503 ] || fail "/healthz answered $code with a broken target"
grep -q broken "$T/out/healthz" || fail "/healthz does not name the broken target: $(cat "$T/out/healthz")"
grep -q 'metasync_imports_total' "$T/out/metrics" || fail "no imports in /metrics"
kill -TERM "$AGENT"
wait "$AGENT"
AGENT=
for s in snapshots results errors dead; do
	"$M" bus read --bus "$BUS" --stream "$s" >"$T/out/bus-$s.json" 2>"$T/out/bus-$s.err" ||
		fail "bus read $s"
done
[ -s "$T/out/bus-snapshots.json" ] || fail "no snapshot event"
[ -s "$T/out/bus-errors.json" ] || fail "no error event (the broken target)"

# ---- the metastores' rows and the S3 server's objects ----------------------
PGDB=$(sed -nE 's#^hms\+postgresql://[^/]*/([^?]*).*#\1#p' <<<"$PG")
pg_dump -h "$PGHOST" -U "$PGUSER" --data-only "$PGDB" >"$T/out/pg.sql" 2>"$T/out/pg_dump.err" ||
	fail "pg_dump: $(cat "$T/out/pg_dump.err")"
if [ -n "$MY" ]; then
	sock=$(sed -nE 's#.*[?&]socket=([^&]*).*#\1#p' <<<"$MY")
	myuser=$(sed -nE 's#^hms\+mysql://([^:@/]*).*#\1#p' <<<"$MY")
	mydb=$(sed -nE 's#^hms\+mysql://[^/]*/([^?]*).*#\1#p' <<<"$MY")
	MYSQL_PWD=${SECRET[mysql_server]} mysqldump --socket="$sock" -u "$myuser" --no-create-info \
		--skip-comments "$mydb" >"$T/out/my.sql" 2>"$T/out/mysqldump.err" ||
		fail "mysqldump: $(cat "$T/out/mysqldump.err")"
fi
if [ -n "$S3" ]; then
	/usr/bin/aws --endpoint-url "$MS_TEST_S3_ENDPOINT" s3 cp --recursive --quiet \
		"s3://metasync-test/secrets-$R/" "$T/s3-copy/" >/dev/null 2>&1 || fail "aws s3 cp"
	[ -n "$(find "$T/s3-copy" -name manifest.json)" ] || fail "nothing exported to s3"
fi

# ---- the scan ------------------------------------------------------------------
# Everything under $T but the inputs that hold the markers on purpose.
leaks=0
for k in "${!SECRET[@]}"; do
	found=$(grep -r -l -a -F -- "${SECRET[$k]}" "$T" | grep -v -e "^$T/credentials\$" \
		-e "^$T/agent.yaml\$")
	if [ -n "$found" ]; then
		echo "secret '$k' found in:" >&2
		sed 's/^/  /' <<<"$found" >&2
		leaks=1
	fi
done
[ $leaks -eq 0 ] || fail "secrets leaked"
# The scan saw URLs where they are printed: masked, not missing.
grep -r -l -F -- '***' "$T/out" "$T/store" >/dev/null || fail "no masked url anywhere: nothing was scanned"
grep -q -F -- 'password=***' "$T/store"/*/manifest.json || fail "the manifest does not show the masked source url"
echo "secret_scan: ${#SECRET[@]} secrets, $n commands, an agent: nothing leaked"
