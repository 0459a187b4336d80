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
# usage: live_model.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: live_model.sh PATH-TO-METASYNC}
TEST=live_model
OPS=${MS_LIVE_OPS:-250}
for SEED in ${MS_LIVE_SEEDS:-11 12}; do
	T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-live-model.XXXXXX")
	. "$(dirname "$0")/../support/agent_e2e.sh"
	. "$(dirname "$0")/../support/live_e2e.sh"
	trap 'cleanup_agents; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
	command -v jq >/dev/null || fail "needs 'jq' (scripts/deps.sh test)"
	CASE="seed $SEED (rerun: MS_LIVE_SEEDS=$SEED bash $0 $M)"
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
	echo "live_model: seed $SEED: $OPS operations, $kills agents killed, $(ls "$T/store" | grep -c -- -) snapshots"
	cleanup_agents
	AGENTS=()
	[ -n "${KEEP:-}" ] || rm -rf "$T"
done
echo "PASS: $TEST"
