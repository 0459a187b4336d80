#!/usr/bin/env bash
# metasync agent /healthz follows its bus: an agent (a source and a target)
# on a private NATS JetStream server answers 200 "ok"; with the server
# stopped mid-run it answers 503 naming the bus and the roles that cannot
# reach it (and no password of the bus URL); with the server back it
# answers "ok" again.  An agent started while its bus is down waits for it
# (503 meanwhile) and works once it is up.  Exits 77 without nats-server.
# usage: agent_bus_health.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: agent_bus_health.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
command -v nats-server >/dev/null || { echo "agent_bus_health: no nats-server, skipped"; exit 77; }
command -v curl >/dev/null || { echo "FAIL: agent_bus_health: needs 'curl'" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-agent-bus-health.XXXXXX")
TEST=agent_bus_health
. "$(dirname "$0")/../support/agent_e2e.sh"
stop_server() { [ -s "$T/nats.pid" ] && { kill -KILL "$(cat "$T/nats.pid")" 2>/dev/null || true; }; }
trap 'cleanup_agents; stop_server; rm -rf "$T"' EXIT
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
start_agent agent
wait_for "the import" has_line "$T/agent.log" "target=t1 snapshot=.* status=ok"
wait_for "/healthz to say ok" healthy

stop_nats
wait_for "/healthz to report the bus" unhealthy
grep -q "n4ts-s3cret" "$T/healthz.body" && fail "/healthz shows the bus password: $(cat "$T/healthz.body")"
grep -q "n4ts-s3cret" "$T/agent.log" && fail "the log shows the bus password"
kill -0 "$AGENT" || fail "the agent exited when the bus went away"

start_nats "$PORT_NATS"
wait_for "/healthz to say ok again" healthy
stop_agent

# started with the bus down: the roles wait for it instead of ending
stop_nats
"$M" catalog put "$S" <<<'{"Database":{"Name":"later"}}' >/dev/null || fail "catalog put exited with $?"
cp "$T/agent.yaml" "$T/agent2.yaml"
start_agent agent2
wait_for "/healthz to report the bus at start" unhealthy
has_line "$T/agent2.log" "source=s1 cannot open the bus \(attempt" ||
	fail "the source did not say it waits for the bus: $(cat "$T/agent2.log")"
kill -0 "$AGENT" || fail "the agent exited when its bus was down at start"
start_nats "$PORT_NATS"
wait_for "the import once the bus is up" has_line "$T/agent2.log" "target=t1 snapshot=.* status=ok"
wait_for "/healthz to say ok once the bus is up" healthy
"$M" catalog ls "sqlite:$T/t1.db?catalog-id=222222222222" | grep -qx later ||
	fail "the database made while the bus was down did not reach the target"
stop_agent
echo "agent_bus_health: ok"
