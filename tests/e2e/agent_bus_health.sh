#!/usr/bin/env bash
# metasync agent /healthz follows its bus: an agent (a source and a target)
# on a private NATS JetStream server answers 200 "ok"; with the server
# stopped mid-run it answers 503 naming the bus and the roles that cannot
# reach it (and no password of the bus URL); with the server back it
# answers "ok" again.  Exits 77 without nats-server.
# usage: agent_bus_health.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: agent_bus_health.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
command -v nats-server >/dev/null || { echo "agent_bus_health: no nats-server, skipped"; exit 77; }
command -v curl >/dev/null || { echo "FAIL: agent_bus_health: needs 'curl'" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-agent-bus-health.XXXXXX")
AGENT=
cleanup() {
	[ -n "$AGENT" ] && { kill -KILL "$AGENT" 2>/dev/null || true; wait "$AGENT" 2>/dev/null || true; }
	[ -s "$T/nats.pid" ] && { kill -KILL "$(cat "$T/nats.pid")" 2>/dev/null || true; }
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: agent_bus_health: $*" >&2
	[ -s "$T/agent.log" ] && { echo "--- agent.log" >&2; tail -n 30 "$T/agent.log" >&2; }
	exit 1
}
wait_for() { # WHAT CMD...
	local what=$1 i
	shift
	for i in $(seq 1 900); do
		"$@" && return 0
		sleep 0.1
	done
	fail "timed out waiting for $what"
}
has_line() { grep -qE -- "$2" "$1" 2>/dev/null; }
# start_nats [PORT]: a JetStream server on loopback (a random port without PORT)
start_nats() {
	rm -f "$T"/nats-server_*.ports "$T/nats.pid"
	nats-server -js -a 127.0.0.1 -p "${1:--1}" --ports_file_dir "$T" -sd "$T/js" \
		--user metasync --pass "n4ts-s3cret" -P "$T/nats.pid" -l "$T/nats.log" </dev/null >/dev/null 2>&1 &
	wait_for "nats-server to listen" eval 'ls "$T"/nats-server_*.ports >/dev/null 2>&1'
	PORT_NATS=$(grep -o 'nats://127\.0\.0\.1:[0-9]*' "$T"/nats-server_*.ports | head -n1 | sed 's/.*://')
}
stop_nats() {
	local pid
	pid=$(cat "$T/nats.pid")
	kill -TERM "$pid"
	wait_for "nats-server to stop" eval "! kill -0 $pid 2>/dev/null"
}
health_code() { curl -s -o "$T/healthz.body" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz"; }
healthy() { [ "$(health_code)" = 200 ] && [ "$(cat "$T/healthz.body")" = ok ]; }
unhealthy() { [ "$(health_code)" = 503 ] && grep -q "^bus: target 't1'" "$T/healthz.body" &&
	grep -q "^bus: source 's1'" "$T/healthz.body"; }

start_nats
BUS="nats://metasync:n4ts-s3cret@127.0.0.1:$PORT_NATS"
S="sqlite:$T/src.db?catalog-id=111111111111"
for f in "$FIX"/rich/*.json; do "$M" catalog put "$S" <"$f" >/dev/null || fail "catalog put exited with $?"; done
cat >"$T/agent.yaml" <<EOF
bus: $BUS
listen: 127.0.0.1:0
source:
  name: s1
  catalog: $S
  store: $T/store
  schedule: { interval: 1s }
targets:
  - name: t1
    catalog: sqlite:$T/t1.db?catalog-id=222222222222
EOF
"$M" agent --config "$T/agent.yaml" 2>"$T/agent.log" &
AGENT=$!
wait_for "the agent to listen" has_line "$T/agent.log" 'on port [0-9]+'
PORT=$(sed -nE 's/.*on port ([0-9]+).*/\1/p' "$T/agent.log" | head -n1)
wait_for "the import" has_line "$T/agent.log" "target=t1 snapshot=.* status=ok"
wait_for "/healthz to say ok" healthy

stop_nats
wait_for "/healthz to report the bus" unhealthy
grep -q "n4ts-s3cret" "$T/healthz.body" && fail "/healthz shows the bus password: $(cat "$T/healthz.body")"
grep -q "n4ts-s3cret" "$T/agent.log" && fail "the log shows the bus password"
kill -0 "$AGENT" || fail "the agent exited when the bus went away"

start_nats "$PORT_NATS"
wait_for "/healthz to say ok again" healthy
kill -TERM "$AGENT"
wait "$AGENT" || fail "agent exited with $? after SIGTERM"
AGENT=
echo "agent_bus_health: ok"
