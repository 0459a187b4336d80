#!/usr/bin/env bash
# metasync agent end to end: export -> event -> import in every target, on
# the embedded bus always and on NATS JetStream when $MS_TEST_NATS_URL is set
# (scripts/test-servers.sh), each case on a bus of its own (a file, or a
# namespace of this run).  Cases:
#   fanout    one export --notify reaches three target agents (processes),
#             each imports it once;
#   again     the same snapshot published twice changes nothing the second
#             time; an older snapshot's event is skipped (the target does not
#             go back in time, though it mirrors deletes); /metrics and
#             /healthz say so; SIGTERM exits 0;
#   poison    an event that is not CloudEvents JSON and one naming a snapshot
#             that does not exist end in the dead-letter stream after
#             max_attempts tries, each with an io.metasync.error, and the good
#             event behind them is applied; /metrics says so; a second target
#             does the same with --once and the default max_attempts;
#   killed    a target agent killed with SIGKILL mid-import is restarted,
#             stopped with SIGTERM mid-import (exits 0, reports no failure),
#             started again, and converges; one more delivery changes nothing.
# Everything is checked on real state: the target catalogs, the bus's
# results, errors and dead streams (metasync bus read), /metrics.
# MS_TEST_AGENT_CASES="poison killed" runs only those.
# usage: agent.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: agent.sh PATH-TO-METASYNC}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-agent-e2e.XXXXXX")
BIG=${MS_TEST_AGENT_BIG_PARTITIONS:-30000}
SMALL=2000
AGENTS=()
cleanup() {
	local p
	for p in "${AGENTS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	rm -rf "$T"
}
trap cleanup EXIT

WHERE=embedded
CASE=setup
for tool in jq sqlite3; do
	command -v "$tool" >/dev/null || { echo "FAIL: agent: needs '$tool' (scripts/deps.sh test)" >&2; exit 1; }
done
fail() {
	local f
	echo "FAIL: agent ($WHERE, $CASE): $*" >&2
	for f in "$T"/"$WHERE"/*.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
	done
	exit 1
}

# ---- helpers -------------------------------------------------------------
# Up to a minute for something the agents do (a ceiling against hangs, not a
# measurement): wait_for WHAT PID CMD... (PID: the agent that must stay up, or -)
# POLL (seconds between tries, default 0.1) is shorter where a kill must
# land in the middle of an import.
wait_for() {
	local what=$1 pid=$2 i poll=${POLL:-0.1}
	shift 2
	for i in $(seq 1 "$(awk -v p="$poll" 'BEGIN { print int(60 / p) }')"); do
		"$@" && return 0
		if [ "$pid" != - ] && ! kill -0 "$pid" 2>/dev/null; then
			fail "agent $pid exited while waiting for $what"
		fi
		sleep "$poll"
	done
	fail "timed out waiting for $what"
}
has_line() { grep -qE -- "$2" "$1" 2>/dev/null; }
nlines() { grep -cE -- "$2" "$1" 2>/dev/null || true; }

# Partitions a catalog holds, by exporting it (the export report counts them).
partitions() { # URL
	local out
	rm -rf "$T/count"
	out=$("$M" export --source "$1" --output-path "$T/count" --json) || fail "export of '$1' to count it exited with $?"
	jq '.counts.partitions.created' <<<"$out"
}
databases() { "$M" catalog ls "$1" --json | jq -r '.[]'; }
# Changes a plan from the source to the target would make (0: converged).
drift() { # SOURCE TARGET
	"$M" plan --source "$1" --target "$2" --json |
		jq '[.counts[] | .created + .updated + .deleted + .failed] | add'
}
# Committed partitions, read straight from an embedded catalog file while an
# import runs (only to time a kill).
committed() { sqlite3 -cmd '.timeout 2000' "$1" 'SELECT COUNT(*) FROM partitions' 2>/dev/null || echo 0; }

# The events of a stream, one JSON event per line (data parsed).
events() { # BUS STREAM
	"$M" bus read --bus "$1" --stream "$2" >"$T/read.out" || fail "bus read --stream $2 exited with $?"
	jq -c '.data | fromjson? // {"raw": .}' <"$T/read.out"
}

# An agent config: cfg FILE BUS TARGET-NAME TARGET-URL [EXTRA-YAML-LINES]
cfg() {
	cat >"$1" <<EOF
bus: $2
listen: 127.0.0.1:0
targets:
  - name: $3
    catalog: $4
${5:-}
EOF
}
# Start an agent in the background (no --once): AGENT=pid, log in LOG.
start_agent() { # CONFIG LOG
	"$M" agent --config "$1" 2>"$2" &
	AGENT=$!
	AGENTS+=("$AGENT")
}
port_of() { # LOG
	wait_for "the agent to listen" - has_line "$1" 'on port [0-9]+'
	sed -nE 's/.*on port ([0-9]+).*/\1/p' "$1" | head -n1
}
http_get() { # PORT PATH
	if command -v curl >/dev/null; then
		curl -sf "http://127.0.0.1:$1$2"
	else
		exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
		sed '1,/^\r$/d' <&3
		exec 3<&-
	fi
}
# One sample of a metric: metric TEXT 'NAME{LABELS}'
metric() {
	local v
	v=$(grep -F -- "$2 " <<<"$1" | awk '{print $2}')
	[ -n "$v" ] || fail "no metric '$2' in /metrics"
	echo "$v"
}
expect_metric() { # TEXT 'NAME{LABELS}' VALUE
	local got
	got=$(metric "$1" "$2")
	[ "$got" = "$3" ] || fail "/metrics: $2 is $got, want $3"
}
# SIGTERM: the agent exits 0 (a ceiling of 30 s against a hang).
term_agent() { # PID
	local i st=0
	kill -TERM "$1"
	for i in $(seq 1 300); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "agent $1 still running 30 s after SIGTERM"
	wait "$1" || st=$?
	[ "$st" -eq 0 ] || fail "agent $1 exited with $st after SIGTERM, want 0"
}
snapshot_id() { cat "$1/LATEST"; }
export_snap() { # SOURCE STORE [--notify BUS]: prints the new snapshot's id
	"$M" export --source "$1" --output-path "$2" -q "${@:3}" || fail "export exited with $?"
	snapshot_id "$2"
}

# ---- the sources ---------------------------------------------------------
"$M" demo --dir "$T/small" --partitions "$SMALL" >"$T/small.out" 2>&1 || { cat "$T/small.out" >&2; fail "demo --partitions $SMALL exited with $?"; }
"$M" demo --dir "$T/big" --partitions "$BIG" >"$T/big.out" 2>&1 || { cat "$T/big.out" >&2; fail "demo --partitions $BIG exited with $?"; }
SRC_ID=111111111111

# ---- the cases, on one bus kind ------------------------------------------
# bus_for CASE: a fresh bus of this kind for one case.
bus_for() {
	case $WHERE in
	embedded) echo "embedded:$R/$1-bus.db" ;;
	nats) echo "$NATS${NATS_SEP}namespace=e2e_$$_$1" ;;
	esac
}

case_fanout() {
	CASE=fanout
	local bus id i n st pids=() S="sqlite:$R/fanout-src.db?catalog-id=$SRC_ID"
	bus=$(bus_for fanout)
	cp "$T/small/accounts.db" "$R/fanout-src.db"
	id=$(export_snap "$S" "$R/fanout-store" --notify "$bus")
	for i in 1 2 3; do
		cfg "$R/fan$i.yaml" "$bus" "fan$i" "sqlite:$R/fan$i.db?catalog-id=20000000000$i"
		"$M" agent --config "$R/fan$i.yaml" --once 2>"$R/fan$i.log" &
		pids+=($!)
		AGENTS+=($!)
	done
	for i in 0 1 2; do
		st=0
		wait "${pids[$i]}" || st=$?
		[ "$st" -eq 0 ] || fail "agent fan$((i + 1)) --once exited with $st"
	done
	events "$bus" results >"$R/fanout-results"
	for i in 1 2 3; do
		n=$(partitions "sqlite:$R/fan$i.db?catalog-id=20000000000$i")
		[ "$n" = "$SMALL" ] || fail "target fan$i holds $n partitions, want $SMALL"
		[ "$(drift "$S" "sqlite:$R/fan$i.db?catalog-id=20000000000$i")" = 0 ] ||
			fail "target fan$i differs from the source"
		n=$(jq -c "select(.type == \"io.metasync.import.succeeded\" and .data.target == \"fan$i\" and .data.snapshot_id == \"$id\")" <"$R/fanout-results" | wc -l)
		[ "$n" = 1 ] || fail "$n import.succeeded events of fan$i for $id, want 1"
		n=$(nlines "$R/fan$i.log" "target=fan$i .*status=ok")
		[ "$n" = 1 ] || fail "fan$i logged $n imports, want 1"
	done
	n=$(jq -c 'select(.type != "io.metasync.import.succeeded")' <"$R/fanout-results" | wc -l)
	[ "$n" = 0 ] || fail "$n results other than import.succeeded"
	[ "$(events "$bus" errors | wc -l)" = 0 ] || fail "errors published: $(events "$bus" errors)"
	echo "agent ($WHERE): fanout ok"
}

case_again() {
	CASE=again
	local bus id1 id2 port m n before after S="sqlite:$R/again-src.db?catalog-id=$SRC_ID"
	local TU="sqlite:$R/again.db?catalog-id=300000000000"
	bus=$(bus_for again)
	cp "$T/small/accounts.db" "$R/again-src.db"
	id1=$(export_snap "$S" "$R/again-store" --notify "$bus")
	# The second snapshot has one database more.
	echo '{"Name":"only_in_second","LocationUri":"s3://lake/only_in_second/"}' | "$M" catalog put "$S" ||
		fail "catalog put exited with $?"
	id2=$(export_snap "$S" "$R/again-store")
	[ "$id1" != "$id2" ] || fail "two exports made one snapshot id '$id1'"
	"$M" publish --bus "$bus" --snapshot "$R/again-store/$id2" -q || fail "publish exited with $?"
	"$M" publish --bus "$bus" --snapshot "$R/again-store/$id2" -q || fail "publish exited with $?"
	"$M" publish --bus "$bus" --snapshot "$R/again-store/$id1" -q || fail "publish of the older snapshot exited with $?"
	cfg "$R/again.yaml" "$bus" again "$TU" "    deletes: mirror"
	start_agent "$R/again.yaml" "$R/again.log"
	port=$(port_of "$R/again.log")
	wait_for "the older snapshot to be skipped" "$AGENT" has_line "$R/again.log" "target=again snapshot=.*$id1 skipped"

	# The same snapshot twice: the second import changed nothing.
	events "$bus" results >"$R/again-results"
	jq -c "select(.type == \"io.metasync.import.succeeded\" and .data.snapshot_id == \"$id2\")" <"$R/again-results" >"$R/again-s2"
	[ "$(wc -l <"$R/again-s2")" = 2 ] || fail "$(wc -l <"$R/again-s2") import.succeeded for $id2, want 2"
	n=$(sed -n 1p "$R/again-s2" | jq '.data.counts.databases.created')
	[ "$n" = 1 ] || fail "first import of $id2 created $n databases, want 1"
	n=$(sed -n 2p "$R/again-s2" | jq '[.data.counts[] | .created + .updated + .deleted + .failed] | add')
	[ "$n" = 0 ] || fail "second delivery of $id2 changed $n entities: $(sed -n 2p "$R/again-s2" | jq -c .data.counts)"
	n=$(jq -c "select(.data.snapshot_id == \"$id1\")" <"$R/again-results" | wc -l)
	[ "$n" = 1 ] || fail "$n results for $id1, want 1 (its first import; the older event is skipped without one)"
	[ "$(nlines "$R/again.log" "skipped")" = 1 ] || fail "expected one 'skipped' line"
	# Not back in time: the database only the newer snapshot holds is still there.
	databases "$TU" | grep -qx only_in_second || fail "the target went back in time: 'only_in_second' is gone"
	[ "$(partitions "$TU")" = "$SMALL" ] || fail "target holds $(partitions "$TU") partitions, want $SMALL"
	[ "$(drift "$S" "$TU")" = 0 ] || fail "target differs from the source"

	m=$(http_get "$port" /metrics) || fail "GET /metrics failed"
	expect_metric "$m" 'metasync_imports_total{target="again",result="succeeded"}' 3
	expect_metric "$m" 'metasync_imports_total{target="again",result="failed"}' 0
	expect_metric "$m" 'metasync_imports_total{target="again",result="skipped"}' 1
	expect_metric "$m" 'metasync_entities_total{target="again",kind="partition",action="created"}' "$SMALL"
	expect_metric "$m" 'metasync_entities_total{target="again",kind="database",action="created"}' 26
	expect_metric "$m" 'metasync_entities_total{target="again",kind="database",action="deleted"}' 0
	expect_metric "$m" 'metasync_dead_letters_total{target="again"}' 0
	expect_metric "$m" 'metasync_errors_total{target="again"}' 0
	n=$(metric "$m" 'metasync_target_last_success_timestamp_seconds{target="again"}')
	awk -v v="$n" 'BEGIN { exit !(v > 0) }' || fail "last success timestamp is $n"
	[ "$(http_get "$port" /healthz)" = ok ] || fail "/healthz does not say ok"
	term_agent "$AGENT"
	echo "agent ($WHERE): again ok"
}

case_poison() {
	CASE=poison
	local bus id port m n st S="sqlite:$R/poison-src.db?catalog-id=$SRC_ID"
	local TU="sqlite:$R/poison.db?catalog-id=400000000000"
	bus=$(bus_for poison)
	cp "$T/small/accounts.db" "$R/poison-src.db"
	printf 'not an event {\001' >"$R/garbage"
	# Valid CloudEvents, newer than anything, naming a snapshot that is not there.
	cat >"$R/missing.json" <<EOF
{"specversion":"1.0","id":"e2e-missing-$$","source":"/metasync/$SRC_ID","type":"io.metasync.snapshot.created","time":"2026-01-01T00:00:00Z","data":{"snapshot":"$R/poison-store/2999-01-01-00-00-00","snapshot_id":"2999-01-01-00-00-00","source_catalog_id":"$SRC_ID","manifest_sha256":"$(printf '%064d' 0)"}}
EOF
	"$M" publish --bus "$bus" --raw "$R/garbage" -q || fail "publish --raw exited with $?"
	"$M" publish --bus "$bus" --raw "$R/missing.json" -q || fail "publish --raw exited with $?"
	id=$(export_snap "$S" "$R/poison-store" --notify "$bus")
	cfg "$R/poison.yaml" "$bus" poison "$TU" "    max_attempts: 2"
	start_agent "$R/poison.yaml" "$R/poison.log"
	port=$(port_of "$R/poison.log")
	wait_for "two dead letters" "$AGENT" bash -c "[ \$(grep -c 'dead-lettered' '$R/poison.log') = 2 ]"
	wait_for "the good snapshot" "$AGENT" has_line "$R/poison.log" "target=poison snapshot=.*$id status=ok"

	# The dead-letter stream holds both, unchanged, and nothing else.
	"$M" bus read --bus "$bus" --stream dead >"$R/dead" || fail "bus read --stream dead exited with $?"
	[ "$(wc -l <"$R/dead")" = 2 ] || fail "dead stream holds $(wc -l <"$R/dead") messages, want 2: $(cat "$R/dead")"
	jq -j 'select(.data | startswith("not an event")) | .data' <"$R/dead" >"$R/dead-garbage"
	cmp -s "$R/dead-garbage" "$R/garbage" || fail "the garbage is not in the dead stream unchanged: $(cat "$R/dead")"
	n=$(jq -r '.data | fromjson? | .id' <"$R/dead" 2>/dev/null | grep -cx "e2e-missing-$$" || true)
	[ "$n" = 1 ] || fail "the event naming a missing snapshot is not in the dead stream: $(cat "$R/dead")"
	# An error event per dead letter, per refused delivery and per failed import.
	events "$bus" errors >"$R/poison-errors"
	n=$(jq -c 'select(.type == "io.metasync.error" and .data.stage == "deliver" and .data.target == "poison")' <"$R/poison-errors" | wc -l)
	[ "$n" = 2 ] || fail "$n dead-letter error events, want 2"
	# Each names its own message's failure, whatever came between their tries.
	jq -e -s 'map(select(.data.stage == "deliver") | .data.message) |
		(map(select(test("not valid cloudevents"))) | length) == 1 and
		(map(select(test("no snapshot at .*2999-01-01"))) | length) == 1' <"$R/poison-errors" >/dev/null ||
		fail "the dead-letter error events do not name their own failures: $(jq -c 'select(.data.stage == "deliver") | .data.message' <"$R/poison-errors")"
	n=$(jq -c 'select(.data.stage == "event" and (.data.message | test("not valid cloudevents")))' <"$R/poison-errors" | wc -l)
	[ "$n" = 2 ] || fail "$n error events for the garbage, want 2 (max_attempts)"
	n=$(jq -c 'select(.data.stage == "import" and (.data.snapshot // "" | test("2999-01-01")))' <"$R/poison-errors" | wc -l)
	[ "$n" -ge 2 ] || fail "$n error events for the missing snapshot, want at least 2"
	events "$bus" results >"$R/poison-results"
	n=$(jq -c 'select(.type == "io.metasync.import.failed" and .data.snapshot_id == "2999-01-01-00-00-00")' <"$R/poison-results" | wc -l)
	[ "$n" = 2 ] || fail "$n import.failed for the missing snapshot, want 2"
	n=$(jq -c "select(.type == \"io.metasync.import.succeeded\" and .data.snapshot_id == \"$id\")" <"$R/poison-results" | wc -l)
	[ "$n" = 1 ] || fail "$n import.succeeded for the good snapshot, want 1"
	[ "$(partitions "$TU")" = "$SMALL" ] || fail "target holds $(partitions "$TU") partitions, want $SMALL"

	m=$(http_get "$port" /metrics) || fail "GET /metrics failed"
	expect_metric "$m" 'metasync_dead_letters_total{target="poison"}' 2
	expect_metric "$m" 'metasync_imports_total{target="poison",result="succeeded"}' 1
	expect_metric "$m" 'metasync_imports_total{target="poison",result="failed"}' 2
	expect_metric "$m" 'metasync_imports_total{target="poison",result="skipped"}' 0
	expect_metric "$m" 'metasync_entities_total{target="poison",kind="partition",action="created"}' "$SMALL"
	n=$(metric "$m" 'metasync_errors_total{target="poison"}')
	[ "$n" -ge 6 ] || fail "metasync_errors_total is $n, want at least 6"
	[ "$(http_get "$port" /healthz)" = ok ] || fail "/healthz does not say ok"
	term_agent "$AGENT"

	# Another target, default max_attempts (5), --once: it waits for its
	# retries, dead-letters both on its own, applies the good event and exits
	# 1 (dead letters are failures of the run).
	cfg "$R/poison2.yaml" "$bus" poison2 "sqlite:$R/poison2.db?catalog-id=400000000002"
	st=0
	"$M" agent --config "$R/poison2.yaml" --once 2>"$R/poison2.log" || st=$?
	[ "$st" -eq 1 ] || fail "agent poison2 --once exited with $st, want 1"
	[ "$(nlines "$R/poison2.log" 'target=poison2 event [0-9]+ dead-lettered after 5 attempts')" = 2 ] ||
		fail "poison2 --once did not dead-letter both after 5 attempts"
	"$M" bus read --bus "$bus" --stream dead >"$R/dead" || fail "bus read --stream dead exited with $?"
	[ "$(wc -l <"$R/dead")" = 4 ] || fail "dead stream holds $(wc -l <"$R/dead") messages, want 4"
	[ "$(partitions "sqlite:$R/poison2.db?catalog-id=400000000002")" = "$SMALL" ] ||
		fail "target poison2 did not apply the good event"
	echo "agent ($WHERE): poison ok"
}

case_killed() {
	CASE=killed
	local bus id n st at S="sqlite:$T/big/accounts.db?catalog-id=$SRC_ID"
	local TU="sqlite:$R/killed.db?catalog-id=500000000000"
	bus=$(bus_for killed)
	id=$(export_snap "$S" "$R/killed-store" --notify "$bus")
	cfg "$R/killed.yaml" "$bus" killed "$TU" "    ack_wait: 2s"
	start_agent "$R/killed.yaml" "$R/killed-1.log"
	POLL=0.02 wait_for "the import to commit partitions" "$AGENT" bash -c "[ \$(sqlite3 -cmd '.timeout 2000' '$R/killed.db' 'SELECT COUNT(*) FROM partitions' 2>/dev/null || echo 0) -gt 0 ]"
	kill -KILL "$AGENT"
	st=0
	{ wait "$AGENT"; } 2>/dev/null || st=$?
	[ "$st" -eq 137 ] || fail "killed agent exited with $st"
	has_line "$R/killed-1.log" "status=" && fail "the import finished before the kill (raise MS_TEST_AGENT_BIG_PARTITIONS)"
	at=$(committed "$R/killed.db")
	[ "$at" -lt "$BIG" ] || fail "the import finished before the kill (raise MS_TEST_AGENT_BIG_PARTITIONS)"
	[ "$(events "$bus" results | wc -l)" = 0 ] || fail "a result was published by the killed agent"

	# Restarted: the event comes back after ack_wait.  SIGTERM while it
	# imports: the agent ends the table it is in and exits 0, publishing no
	# failure (stopping is not one).
	start_agent "$R/killed.yaml" "$R/killed-2.log"
	POLL=0.02 wait_for "the restarted agent to import more" "$AGENT" bash -c "[ \$(sqlite3 -cmd '.timeout 2000' '$R/killed.db' 'SELECT COUNT(*) FROM partitions' 2>/dev/null || echo 0) -gt $at ]"
	term_agent "$AGENT"
	has_line "$R/killed-2.log" "status=ok" && fail "the import finished before SIGTERM (raise MS_TEST_AGENT_BIG_PARTITIONS)"
	has_line "$R/killed-2.log" "target=killed snapshot=.*$id stopped" || fail "the agent did not log that it stopped"
	[ "$(events "$bus" results | wc -l)" = 0 ] || fail "a result was published by the stopped agent: $(events "$bus" results)"
	[ "$(events "$bus" errors | wc -l)" = 0 ] || fail "errors were published by the stopped agent: $(events "$bus" errors)"

	# Started again: the import finishes.
	start_agent "$R/killed.yaml" "$R/killed-3.log"
	wait_for "the restarted agent to import" "$AGENT" has_line "$R/killed-3.log" "target=killed snapshot=.*$id status="
	term_agent "$AGENT"
	has_line "$R/killed-3.log" "target=killed snapshot=.*$id status=ok" || fail "the restarted import did not succeed"
	[ "$(partitions "$TU")" = "$BIG" ] || fail "target holds $(partitions "$TU") partitions after the restart, want $BIG"
	[ "$(drift "$S" "$TU")" = 0 ] || fail "target differs from the source after the restart"
	n=$(events "$bus" results | jq -c "select(.type == \"io.metasync.import.succeeded\" and .data.snapshot_id == \"$id\")" | wc -l)
	[ "$n" = 1 ] || fail "$n import.succeeded for $id, want 1"

	# A re-run (the snapshot delivered once more) changes nothing.
	"$M" publish --bus "$bus" --snapshot "$R/killed-store/$id" -q || fail "publish exited with $?"
	st=0
	"$M" agent --config "$R/killed.yaml" --once 2>"$R/killed-4.log" || st=$?
	[ "$st" -eq 0 ] || fail "agent --once exited with $st"
	n=$(events "$bus" results | jq -s "[.[] | select(.type == \"io.metasync.import.succeeded\" and .data.snapshot_id == \"$id\")] | .[1].data.counts | [.[] | .created + .updated + .deleted + .failed] | add")
	[ "$n" = 0 ] || fail "the re-run changed $n entities"
	echo "agent ($WHERE): killed ok (killed with $at of $BIG partitions committed)"
}

run() { # embedded|nats
	WHERE=$1
	R="$T/$WHERE"
	mkdir -p "$R"
	for c in ${MS_TEST_AGENT_CASES:-fanout again poison killed}; do
		"case_$c"
	done
}

run embedded
if [ -n "${MS_TEST_NATS_URL:-}" ]; then
	NATS=$MS_TEST_NATS_URL
	NATS_SEP='?'
	[[ $NATS == *\?* ]] && NATS_SEP='&'
	if "$M" bus read --bus "$NATS${NATS_SEP}namespace=e2e_$$_probe" --stream dead >/dev/null 2>"$T/probe.err"; then
		run nats
	else
		echo "agent: nats part skipped: the server in \$MS_TEST_NATS_URL does not answer: $(cat "$T/probe.err")"
	fi
else
	echo "agent: nats part skipped: \$MS_TEST_NATS_URL is not set"
fi
echo "agent: ok"
