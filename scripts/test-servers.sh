#!/usr/bin/env bash
# The database servers the tests need: a PostgreSQL 15 and a MariaDB 10.11,
# each in a fresh temporary directory, listening only on a Unix socket there,
# each holding a database `hms` loaded with the Hive Metastore 3.1 schema
# (tests/fixtures/hive-metastore-3.1: Apache Hive's own scripts, byte for byte;
# MS_HMS_SCHEMA_DIR names another copy).  Exports
#
#   MS_TEST_HMS_PG_URL      hms+postgresql://metasync@/hms?host=SOCKDIR
#   MS_TEST_HMS_MYSQL_URL   hms+mysql://metasync:PASS@localhost/hms?socket=SOCK
#   MS_TEST_NATS_URL        nats://127.0.0.1:PORT (nats-server -js on loopback)
#
# and stops both servers and removes the directory on exit, also on failure
# or interruption.  Directories left by a run that was killed outright are
# cleaned up (their servers stopped) by the next run.
#
#   . scripts/test-servers.sh          start; stop when the sourcing shell exits
#   scripts/test-servers.sh CMD ...    start, run CMD with the variables set, stop
#   scripts/test-servers.sh            start, print the variables, wait for ^C
#
# Root cannot run postgres: as root the servers run as the `postgres` and
# `mysql` users the Debian packages create; otherwise as the calling user.

ms_ts_fail() {
	echo "test-servers: $*" >&2
	return 1
}

# "PID STARTTIME" of a process, or nothing when it is gone.  (Fields of
# /proc/PID/stat after the command name: state is the 1st, start time the 20th.)
ms_ts_ident() {
	local pid=$1 stat
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo "$pid ${20}"
}

# Kill the process whose pid is in file $1, if its command line mentions $2
# (so that a recycled pid is never someone else's process); wait for it.
ms_ts_kill_pidfile() {
	local pidfile=$1 mark=$2 pid i
	[ -r "$pidfile" ] || return 0
	pid=$(head -n1 "$pidfile" 2>/dev/null | tr -dc 0-9)
	[ -n "$pid" ] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$mark" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# Stop the servers of one directory and remove it.
ms_ts_teardown_dir() {
	local dir=$1
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	ms_ts_kill_pidfile "$dir/pg/data/postmaster.pid" "$dir/pg/data"
	ms_ts_kill_pidfile "$dir/my/mariadbd.pid" "$dir/my/data"
	ms_s3rver_stop "$dir/s3"
	ms_ts_kill_pidfile "$dir/nats/nats.pid" "$dir/nats"
	rm -rf -- "$dir"
}

# Directories of earlier runs whose owning shell is gone (killed with -9).
ms_ts_reap_stale() {
	local d owner
	for d in "$MS_TS_BASE"/metasync-servers.*; do
		[ -d "$d" ] && [ -f "$d/owner" ] || continue
		owner=$(cat "$d/owner" 2>/dev/null)
		if [ -z "$owner" ] || [ "$(ms_ts_ident "${owner%% *}")" != "$owner" ]; then
			echo "test-servers: cleaning up '$d' left by a killed run" >&2
			ms_ts_teardown_dir "$d"
		fi
	done
}

ms_test_servers_stop() {
	if [ -n "${MS_TS_DIR:-}" ]; then
		ms_ts_teardown_dir "$MS_TS_DIR"
		MS_TS_DIR=
	fi
}

ms_ts_start_pg() {
	local pg=$MS_TS_DIR/pg bin i
	bin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null) || ms_ts_fail "postgresql-15 is not installed" || return 1
	mkdir -p "$pg"
	if [ -n "$MS_TS_PGUSER" ]; then
		chown "$MS_TS_PGUSER" "$pg"
	fi
	ms_ts_as "$MS_TS_PGUSER" "$bin/initdb" -D "$pg/data" -U metasync --auth=trust -E UTF8 \
		--locale=C --no-sync >"$pg/initdb.log" 2>&1 ||
		{ cat "$pg/initdb.log" >&2; ms_ts_fail "initdb failed"; return 1; }
	ms_ts_as "$MS_TS_PGUSER" "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$pg' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >/dev/null ||
		{ cat "$pg/server.log" >&2; ms_ts_fail "postgresql did not start"; return 1; }
	for i in $(seq 1 100); do
		"$bin/pg_isready" -q -h "$pg" && break
		sleep 0.1
	done
	"$bin/createdb" -h "$pg" -U metasync hms || ms_ts_fail "createdb failed" || return 1
	"$bin/psql" -X -q -h "$pg" -U metasync -d hms -v ON_ERROR_STOP=1 -f "$MS_TS_SCHEMA_DIR/hive-schema-3.1.0.postgres.sql" \
		>"$pg/schema.log" 2>&1 ||
		{ tail -n 20 "$pg/schema.log" >&2; ms_ts_fail "loading the hive schema into postgresql failed"; return 1; }
	MS_TEST_HMS_PG_URL="hms+postgresql://metasync@/hms?host=$pg"
	export MS_TEST_HMS_PG_URL
}

ms_ts_start_mariadb() {
	local my=$MS_TS_DIR/my sock pw i userarg=()
	mkdir -p "$my/tmp"
	sock=$my/mysqld.sock
	if [ -n "$MS_TS_MYUSER" ]; then
		chown -R "$MS_TS_MYUSER" "$my"
		userarg=(--user="$MS_TS_MYUSER")
	fi
	mariadb-install-db --no-defaults --datadir="$my/data" "${userarg[@]}" \
		--auth-root-authentication-method=normal --skip-test-db \
		>"$my/install.log" 2>&1 ||
		{ cat "$my/install.log" >&2; ms_ts_fail "mariadb-install-db failed"; return 1; }
	mariadbd --no-defaults --datadir="$my/data" "${userarg[@]}" --socket="$sock" \
		--skip-networking --pid-file="$my/mariadbd.pid" --log-error="$my/server.log" \
		--tmpdir="$my/tmp" --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 \
		--innodb-use-native-aio=0 --max-connections=200 </dev/null >/dev/null 2>&1 &
	for i in $(seq 1 600); do
		mariadb-admin --no-defaults -S "$sock" -u root ping >/dev/null 2>&1 && break
		if [ "$i" -eq 600 ]; then
			cat "$my/server.log" >&2
			ms_ts_fail "mariadb did not start"
			return 1
		fi
		sleep 0.1
	done
	pw=$(od -An -tx1 -N12 /dev/urandom | tr -dc 0-9a-f)
	mariadb --no-defaults -S "$sock" -u root -e "
		CREATE DATABASE hms;
		CREATE USER 'metasync'@'localhost' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON *.* TO 'metasync'@'localhost';" ||
		{ ms_ts_fail "creating the mariadb database failed"; return 1; }
	mariadb --no-defaults -S "$sock" -u metasync -p"$pw" hms \
		<"$MS_TS_SCHEMA_DIR/hive-schema-3.1.0.mysql.sql" >"$my/schema.log" 2>&1 ||
		{ tail -n 20 "$my/schema.log" "$my/server.log" >&2; ms_ts_fail "loading the hive schema into mariadb failed"; return 1; }
	MS_TEST_HMS_MYSQL_URL="hms+mysql://metasync:$pw@localhost/hms?socket=$sock"
	export MS_TEST_HMS_MYSQL_URL
}

# nats-server with JetStream on a random loopback port, read back from its
# ports file: MS_TEST_NATS_URL.
ms_ts_start_nats() {
	local dir=$MS_TS_DIR/nats ports i
	mkdir -p "$dir"
	nats-server -js -a 127.0.0.1 -p -1 --ports_file_dir "$dir" -sd "$dir/store" \
		-P "$dir/nats.pid" -l "$dir/server.log" </dev/null >/dev/null 2>&1 &
	for i in $(seq 1 100); do
		ports=$(cat "$dir"/nats-server_*.ports 2>/dev/null) && [ -n "$ports" ] && break
		sleep 0.05
	done
	MS_TEST_NATS_URL=$(printf '%s' "$ports" | grep -o 'nats://127\.0\.0\.1:[0-9]*' | head -n1)
	if [ -z "$MS_TEST_NATS_URL" ]; then
		cat "$dir/server.log" >&2
		ms_ts_fail "nats-server did not start"
		return 1
	fi
	export MS_TEST_NATS_URL
}

# Run a command as user $1 (empty: as ourselves).
ms_ts_as() {
	local user=$1
	shift
	if [ -n "$user" ]; then
		runuser -u "$user" -- "$@"
	else
		"$@"
	fi
}

ms_test_servers_start() {
	local repo
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	MS_TS_SCHEMA_DIR=${MS_HMS_SCHEMA_DIR:-$repo/tests/fixtures/hive-metastore-3.1}
	[ -f "$MS_TS_SCHEMA_DIR/hive-schema-3.1.0.postgres.sql" ] ||
		ms_ts_fail "no hive schema in '$MS_TS_SCHEMA_DIR'" || return 1
	if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || ! command -v mariadbd >/dev/null 2>&1 ||
		! command -v nats-server >/dev/null 2>&1; then
		"$repo/scripts/deps.sh" test || return 1
	fi
	MS_TS_PGUSER=
	MS_TS_MYUSER=
	if [ "$(id -u)" -eq 0 ]; then
		MS_TS_PGUSER=postgres
		MS_TS_MYUSER=mysql
	fi
	# Unix socket paths must stay under 108 bytes.
	MS_TS_BASE=${TMPDIR:-/tmp}
	if [ ${#MS_TS_BASE} -gt 40 ]; then
		MS_TS_BASE=/tmp
	fi
	ms_ts_reap_stale
	MS_TS_DIR=$(mktemp -d "$MS_TS_BASE/metasync-servers.XXXXXX") || return 1
	ms_ts_ident $$ >"$MS_TS_DIR/owner"
	chmod 755 "$MS_TS_DIR"
	ms_ts_start_pg || return 1
	ms_ts_start_mariadb || return 1
	ms_s3rver_start "$MS_TS_DIR/s3" || return 1
	ms_ts_start_nats || return 1
	echo "test-servers: postgresql, mariadb, s3rver and nats-server up in '$MS_TS_DIR'" >&2
}

# s3rver (S3 for the s3:// store): MS_TEST_S3_URL, MS_TEST_S3_ENDPOINT, AWS_* keys.
# shellcheck source=scripts/s3rver.sh
. "$(dirname "${BASH_SOURCE[0]}")/s3rver.sh"

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	# Sourced: stop with the sourcing shell, however it ends.
	trap ms_test_servers_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ms_test_servers_start || { ms_test_servers_stop; return 1; }
else
	set -euo pipefail
	trap ms_test_servers_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ms_test_servers_start
	if [ $# -gt 0 ]; then
		"$@"
	else
		echo "export MS_TEST_HMS_PG_URL='$MS_TEST_HMS_PG_URL'"
		echo "export MS_TEST_HMS_MYSQL_URL='$MS_TEST_HMS_MYSQL_URL'"
		echo "export MS_TEST_S3_URL='$MS_TEST_S3_URL' MS_TEST_S3_ENDPOINT='$MS_TEST_S3_ENDPOINT'"
		echo "export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1"
		echo "export MS_TEST_NATS_URL='$MS_TEST_NATS_URL'"
		echo "test-servers: running until interrupted" >&2
		while :; do sleep 3600; done
	fi
fi
