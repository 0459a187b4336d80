#!/usr/bin/env bash
# The agent's live mode on the embedded bus: a source agent (mode: live)
# and a target agent with two targets (one as is, one prefixed), each its
# own process:
#   follow     changes reach both targets as they commit, each change set an
#              incremental snapshot whose event carries it (applied without
#              reading the store); verify agrees; /metrics count changes,
#              inline snapshots and a lag;
#   restart    the source agent killed with SIGKILL and started again goes on
#              from its store's LATEST: incrementals, no full snapshot;
#   gap        the first target's catalog put back to an older copy: the next
#              change set's parent is not there, and the chain is read from
#              the store; verify agrees and gaps_healed counts it;
#   deletes    a change set over max_deletes (a table of several partitions
#              dropped) is refused on the target that sets it, nothing of it
#              applied, and stays refused when the next change set comes (its
#              chain holds the refused one); the other target applies both.
# usage: agent_live.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: agent_live.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-agent-live.XXXXXX")
TEST=agent_live
. "$(dirname "$0")/../support/agent_e2e.sh"
trap 'cleanup_agents; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
command -v jq >/dev/null || fail "needs 'jq' (scripts/deps.sh test)"
command -v curl >/dev/null || fail "needs 'curl' (scripts/deps.sh test)"

S="sqlite:$T/src.db?catalog-id=111111111111"
D1="sqlite:$T/one.db?catalog-id=222222222222"
D2="sqlite:$T/two.db?catalog-id=333333333333"
for f in "$FIX"/rich/*.json; do "$M" catalog put "$S" <"$f" >/dev/null || fail "catalog put exited with $?"; done
cat >"$T/source.yaml" <<EOF
bus: embedded:$T/bus.db
listen: 127.0.0.1:0
source:
  name: lake
  catalog: $S
  store: $T/store
  mode: live
  poll: 50ms
EOF
cat >"$T/targets.yaml" <<EOF
bus: embedded:$T/bus.db
listen: 127.0.0.1:0
targets:
  - name: one
    catalog: $D1
    deletes: mirror
  - name: two
    catalog: $D2
    database_prefix: rep_
    deletes: mirror
    max_deletes: 3
EOF
partition() {
	jq -c --arg dt "$1" '.Partition.Values[0] = $dt' "$FIX/rich/06-partition.json" |
		"$M" catalog put "$S" >/dev/null || fail "catalog put exited with $?"
}
both_match() {
	"$M" verify --source "$S" --target "$D1" >"$T/v1.out" 2>&1 &&
		"$M" verify --source "$S" --target "$D2" --database-prefix rep_ >"$T/v2.out" 2>&1
}
metric() { curl -s "http://127.0.0.1:$TPORT/metrics" | sed -nE "s/^$1\\{target=\"$2\"\\} ([0-9.]+)$/\\1/p"; }

CASE=follow
start_agent source
SRC_AGENT=$AGENT
start_agent targets
TGT_AGENT=$AGENT
TPORT=$PORT
wait_for "the first (full) snapshot applied" both_match
for d in 2024-09-01 2024-09-02 2024-09-03; do partition $d; done
"$M" catalog rm "$S" sales_raw orders 2024-09-02 eu || fail "catalog rm exited with $?"
echo '{"Table":{"Name":"events","DatabaseName":"finance","StorageDescriptor":{"Location":"s3://l/e/"}}}' |
	"$M" catalog put "$S" >/dev/null
wait_for "the changes on both targets" both_match
grep -q "incremental changes=" "$T/source.log" || fail "no incremental export was logged"
[ "$(metric metasync_inline_applied_total one)" -ge 1 ] || fail "no snapshot was applied from its event"
[ "$(metric metasync_changes_applied_total one)" -ge 5 ] || fail "changes applied: $(metric metasync_changes_applied_total one)"
lag=$(metric metasync_target_lag_seconds one)
awk -v l="$lag" 'BEGIN { exit !(l > 0 && l < 60) }' || fail "lag '$lag'"

CASE=restart
kill -KILL "$SRC_AGENT"
wait "$SRC_AGENT" 2>/dev/null || true
partition 2024-10-01
"$M" catalog rm "$S" finance events || fail "catalog rm exited with $?"
fulls=$(grep -c " full changes=" "$T/source.log")
mv "$T/source.log" "$T/source-1.log"
start_agent source
SRC_AGENT=$AGENT
wait_for "the changes made while the source was down" both_match
[ "$(grep -c " full changes=" "$T/source.log" || true)" -eq 0 ] ||
	fail "the restarted source wrote a full snapshot: $(grep ' full ' "$T/source.log")"
[ "$fulls" -eq 1 ] || fail "the first source run wrote $fulls full snapshots"

CASE=gap
cp "$T/one.db" "$T/one.old"
partition 2024-11-01
wait_for "one more change set" both_match
kill -TERM "$TGT_AGENT"
wait "$TGT_AGENT" || fail "target agent exited with $?"
cp "$T/one.old" "$T/one.db"
rm -f "$T/one.db-wal" "$T/one.db-shm"
mv "$T/targets.log" "$T/targets-1.log"
start_agent targets
TGT_AGENT=$AGENT
TPORT=$PORT
partition 2024-11-02
wait_for "the gap healed" both_match
wait_for "gaps_healed counted" bash -c "[ \"\$(curl -s http://127.0.0.1:$TPORT/metrics | sed -nE 's/^metasync_gaps_healed_total\\{target=\"one\"\\} ([0-9]+)$/\\1/p')\" -ge 1 ]"
grep -q "target=one gap:" "$T/targets.log" || fail "the gap was not logged"

CASE=deletes
"$M" catalog rm "$S" sales_raw orders || fail "catalog rm exited with $?"
wait_for "the deletes on the first target" "$M" verify --source "$S" --target "$D1"
wait_for "the refusal logged" has_line "$T/targets.log" "target=two .*more than --max-deletes 3"
"$M" catalog ls "$D2" rep_sales_raw orders --json | grep -q 2024-09-01 ||
	fail "the refused change set deleted from the prefixed target"
# and it stays refused: the next change set's chain holds it
echo '{"Table":{"Name":"later","DatabaseName":"finance","StorageDescriptor":{"Location":"s3://l/l/"}}}' |
	"$M" catalog put "$S" >/dev/null
wait_for "the next change set on the first target" "$M" verify --source "$S" --target "$D1"
sleep 0.5
"$M" catalog ls "$D2" rep_sales_raw orders --json | grep -q 2024-09-01 ||
	fail "a later change set applied the refused deletes"
stop_agent
AGENT=$SRC_AGENT
stop_agent
echo "PASS: $TEST"
