#!/usr/bin/env bash
# Live replication over a three-node NATS JetStream cluster on loopback
# (streams with three replicas): random operations on the source while a
# live source agent and a target agent (two targets, one prefixed) run; the
# node the clients connect to first is killed with SIGKILL a third of the
# way in (they move to the others; agents started meanwhile connect through
# ?servers=) and started again two thirds in, and the agents are killed and
# started again now and then.  Once
# the source is quiet, both targets equal the source and no change set was
# applied twice with an effect.  Seed: $MS_LIVE_SEEDS (default 21).
# usage: live_nats_cluster.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: live_nats_cluster.sh PATH-TO-METASYNC}
TEST=live_nats_cluster
OPS=${MS_LIVE_OPS:-150}
SEED=${MS_LIVE_SEEDS:-21}
SEED=${SEED%% *}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-live-nats.XXXXXX")
. "$(dirname "$0")/../support/agent_e2e.sh"
. "$(dirname "$0")/../support/live_e2e.sh"
NODES=()
stop_nodes() {
	local p
	for p in "${NODES[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap 'cleanup_agents; stop_nodes; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
command -v jq >/dev/null || fail "needs 'jq' (scripts/deps.sh test)"
command -v nats-server >/dev/null || fail "needs 'nats-server' (scripts/deps.sh test)"
command -v python3 >/dev/null || fail "needs 'python3' (scripts/deps.sh test)"
CASE="seed $SEED (rerun: MS_LIVE_SEEDS=$SEED bash $0 $M)"
RANDOM=$SEED

# six free loopback ports: three for clients, three for the cluster's routes
read -r -a P <<<"$(python3 -c '
import socket
ss = [socket.socket() for _ in range(6)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')"
routes="nats-route://127.0.0.1:${P[3]},nats-route://127.0.0.1:${P[4]},nats-route://127.0.0.1:${P[5]}"
for i in 0 1 2; do
	mkdir -p "$T/n$i"
	cat >"$T/n$i.conf" <<EOF
server_name: n$i
listen: 127.0.0.1:${P[$i]}
jetstream { store_dir: "$T/n$i" }
cluster {
  name: metasync-test
  listen: 127.0.0.1:${P[$((i + 3))]}
  routes: [ ${routes} ]
}
EOF
done
# node I: start it (again), its pid in NODES[I]
node() {
	nats-server -c "$T/n$1.conf" -l "$T/n$1.log" </dev/null >/dev/null 2>&1 &
	NODES[$1]=$!
}
for i in 0 1 2; do node $i; done
BUS="nats://127.0.0.1:${P[0]}?replicas=3&servers=127.0.0.1:${P[1]},127.0.0.1:${P[2]}"
# the cluster takes streams of three replicas once its meta leader is elected
bus_up() { "$M" bus read --bus "$BUS" --stream results --limit 1 >/dev/null 2>&1; }
wait_for "the JetStream cluster" bus_up

live_configs "$BUS"
echo '{"Database":{"Name":"d0"}}' | "$M" catalog put "$S" >/dev/null
start_agent source
SRC=$AGENT
start_agent targets
TGT=$AGENT
down=""
kills=0
for ((n = 0; n < OPS; n++)); do
	live_op
	if [ $n -eq $((OPS / 3)) ]; then
		# the node every client connects to first: they must move to the others
		down=0
		kill -KILL "${NODES[$down]}"
		wait "${NODES[$down]}" 2>/dev/null || true
	elif [ $n -eq $((2 * OPS / 3)) ]; then
		node "$down"
	fi
	live_kill_agents 50
done
wait_for "both targets to match the source" live_match
live_no_double "$BUS"
echo "live_nats_cluster: seed $SEED: $OPS operations, node n$down killed and restarted, $kills agents killed"
echo "PASS: $TEST"
