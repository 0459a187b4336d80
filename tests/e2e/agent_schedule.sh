#!/usr/bin/env bash
# metasync agent's source role and /healthz, on the embedded bus:
#   interval   `interval: 1s` and `interval: 2s` keep their period: in E
#              seconds at most floor(E / interval) + 1 slots (never a burst,
#              never a shorter period); an unchanged source writes one
#              snapshot and publishes one event, later slots are counted as
#              unchanged; a change is exported at the next slot;
#   retention  `retention: { keep: 1 }` prunes older snapshots, but never
#              LATEST nor a snapshot newer than the one a target last applied
#              (read from the results stream); a new target replaying the
#              stream skips the pruned snapshots and applies LATEST;
#   follow     a target whose follow: names no known source is a warning in
#              the log naming the entry, and /healthz answers 503 saying so;
#              events of another source repeat the warning, naming it;
#   catalog    targets whose catalog cannot be opened (a missing folder, a
#              metastore nobody listens for): /healthz 503 naming each
#              target and why, without the password; a good agent answers
#              200 "ok".
# Counts have generous bounds; nothing asserts a speed.
# usage: agent_schedule.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: agent_schedule.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-agent-schedule.XXXXXX")
TEST=agent_schedule
. "$(dirname "$0")/../support/agent_e2e.sh"
trap 'cleanup_agents; rm -rf "$T"' EXIT
command -v curl >/dev/null || fail "needs 'curl'"

metric() { # NAME{LABELS}: its value in /metrics of $PORT
	curl -sf "http://127.0.0.1:$PORT/metrics" | grep -F -- "$1 " | awk '{print $2}'
}
snapshots() { find "$1" -mindepth 1 -maxdepth 1 -type d -name '20*' | wc -l; }
events() { "$M" bus read --bus "$1" --stream "$2" | wc -l; }

S="sqlite:$T/src.db?catalog-id=111111111111"
for f in "$FIX"/rich/*.json; do "$M" catalog put "$S" <"$f" >/dev/null || fail "catalog put exited with $?"; done

# ---- interval --------------------------------------------------------------
# run_interval SECONDS: an agent exporting every SECONDS for a while; checks
# the number of slots against the time it ran, from outside the agent.
run_interval() {
	local iv=$1 name=iv$1 t0 t1 ok unch failed slots max
	CASE="interval ${iv}s"
	cat >"$T/$name.yaml" <<EOF
bus: embedded:$T/$name-bus.db
listen: 127.0.0.1:0
source:
  name: src$iv
  catalog: $S
  store: $T/$name-store
  schedule: { interval: ${iv}s }
EOF
	t0=$(date +%s.%N)
	start_agent "$name"
	wait_for "the first export" has_line "$T/$name.log" "export=ok"
	sleep $((3 * iv))
	ok=$(metric "metasync_exports_total{source=\"src$iv\",result=\"succeeded\"}")
	unch=$(metric "metasync_exports_total{source=\"src$iv\",result=\"unchanged\"}")
	failed=$(metric "metasync_exports_total{source=\"src$iv\",result=\"failed\"}")
	t1=$(date +%s.%N)
	slots=$((ok + unch + failed))
	max=$(awk -v a="$t0" -v b="$t1" -v i="$iv" 'BEGIN { print int((b - a) / i) + 1 }')
	[ "$slots" -le "$max" ] || fail "$slots exports in $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')s, at most $max with an interval of ${iv}s"
	[ "$ok" = 1 ] || fail "$ok snapshots written of an unchanged source, want 1"
	[ "$failed" = 0 ] || fail "$failed exports failed"
	[ "$unch" -ge 1 ] || fail "no slot was counted as unchanged"
	[ "$(snapshots "$T/$name-store")" = 1 ] || fail "the store holds $(snapshots "$T/$name-store") snapshots, want 1"
	[ "$(events "embedded:$T/$name-bus.db" snapshots)" = 1 ] || fail "more than one snapshot event"
	has_line "$T/$name.log" "export=unchanged" || fail "an unchanged slot is not logged"
	# a change is exported at a later slot
	"$M" catalog put "$S" <<<'{"Database":{"Name":"added_'"$iv"'"}}' >/dev/null || fail "catalog put exited with $?"
	exported() { [ "$(metric "metasync_exports_total{source=\"src$1\",result=\"succeeded\"}")" = 2 ]; }
	wait_for "the change to be exported" exported "$iv"
	[ "$(events "embedded:$T/$name-bus.db" snapshots)" = 2 ] || fail "the change was not announced once"
	healthz >/dev/null || fail "/healthz is not ok: $(cat "$T/healthz.body")"
	stop_agent
	echo "agent_schedule: interval ${iv}s ok ($slots slots, at most $max)"
}
run_interval 1
run_interval 2

# ---- retention -------------------------------------------------------------
CASE=retention
BUS="embedded:$T/ret-bus.db"
cat >"$T/ret-src.yaml" <<EOF
bus: $BUS
source:
  name: ret
  catalog: $S
  store: $T/ret-store
  retention: { keep: 1 }
EOF
cat >"$T/ret-tgt.yaml" <<EOF
bus: $BUS
targets:
  - name: slow
    catalog: sqlite:$T/slow.db?catalog-id=222222222222
EOF
change=0
export_changed() { # one --once export after a change to the source
	change=$((change + 1))
	"$M" catalog put "$S" <<<'{"Database":{"Name":"ret_'"$change"'"}}' >/dev/null || fail "catalog put exited with $?"
	sleep 1.1   # snapshot ids name the second: one per second
	"$M" agent --config "$T/ret-src.yaml" --once 2>>"$T/ret-src.log" || fail "source --once exited with $?"
}
latest() { cat "$T/ret-store/LATEST"; }
export_changed
"$M" agent --config "$T/ret-tgt.yaml" --once 2>>"$T/ret-tgt.log" || fail "target --once exited with $?"
applied=$(latest)
export_changed
export_changed
# the target applied $applied: it and what is newer stay, LATEST among them
[ -d "$T/ret-store/$applied" ] || fail "the snapshot target 'slow' applied last ($applied) was pruned"
[ "$(snapshots "$T/ret-store")" = 3 ] || fail "the store holds $(snapshots "$T/ret-store") snapshots, want 3"
has_line "$T/ret-src.log" "prune=done kept-from=$applied \(target 'slow'" || fail "the hold is not logged"
"$M" agent --config "$T/ret-tgt.yaml" --once 2>>"$T/ret-tgt.log" || fail "target --once exited with $?"
caught_up=$(latest)
export_changed
# kept: what the target applied last, and LATEST; the older ones are gone
[ "$(snapshots "$T/ret-store")" = 2 ] || fail "the store holds $(snapshots "$T/ret-store") snapshots after the target caught up, want 2"
[ -d "$T/ret-store/$(latest)" ] || fail "LATEST was pruned"
[ -d "$T/ret-store/$caught_up" ] || fail "the snapshot the target applied last ($caught_up) was pruned"
[ ! -d "$T/ret-store/$applied" ] || fail "$applied was kept"
has_line "$T/ret-src.log" "prune=removed snapshot=$applied" || fail "the removal of $applied is not logged"
# nothing changed: no export, no event, nothing pruned
n=$(events "$BUS" snapshots)
"$M" agent --config "$T/ret-src.yaml" --once 2>>"$T/ret-src.log" || fail "source --once exited with $?"
[ "$(events "$BUS" snapshots)" = "$n" ] || fail "an unchanged export published an event"
[ "$(snapshots "$T/ret-store")" = 2 ] || fail "an unchanged export changed the store"
# a new target replays the stream: the pruned snapshots are skipped, not dead-lettered
cat >"$T/ret-late.yaml" <<EOF
bus: $BUS
targets:
  - name: late
    catalog: sqlite:$T/late.db?catalog-id=666666666666
EOF
"$M" agent --config "$T/ret-late.yaml" --once 2>"$T/ret-late.log" ||
	fail "a new target replaying pruned snapshots exited with $?"
[ "$(grep -c "skipped: it cannot be read and the newer" "$T/ret-late.log")" -ge 2 ] ||
	fail "the pruned snapshots were not skipped"
[ "$(events "$BUS" dead)" = 0 ] || fail "a replayed event was dead-lettered"
has_line "$T/ret-late.log" "target=late snapshot=$T/ret-store/$(latest) status=ok" ||
	fail "the new target did not apply LATEST"
echo "agent_schedule: retention ok"

# ---- follow ----------------------------------------------------------------
CASE=follow
cat >"$T/follow.yaml" <<EOF
bus: $BUS
listen: 127.0.0.1:0
targets:
  - name: typo
    catalog: sqlite:$T/typo.db?catalog-id=333333333333
    follow: [acct]
EOF
start_agent follow
wait_for "the follow warning" has_line "$T/follow.log" "target=typo warning: follow: 'acct' matches no source \(known: ret\)"
body=$(healthz) && fail "/healthz answered 200 with a follow: that matches nothing"
grep -qF "target 'typo': follow: 'acct' matches no source (known: ret)" <<<"$body" ||
	fail "/healthz does not name the follow entry: $body"
# events of another source arrive: said again, naming it
"$M" publish --bus "$BUS" --snapshot "$T/ret-store" --source-name acct1 -q || fail "publish exited with $?"
wait_for "the warning about acct1" has_line "$T/follow.log" \
	"follow: 'acct' matches no source \(known: ret, acct1\); events of 'acct1' arrive, which it does not follow"
stop_agent
echo "agent_schedule: follow ok"

# ---- catalog ---------------------------------------------------------------
CASE=catalog
cat >"$T/catalog.yaml" <<EOF
bus: $BUS
listen: 127.0.0.1:0
targets:
  - name: good
    catalog: sqlite:$T/good.db?catalog-id=444444444444
  - name: broken
    catalog: sqlite:$T/no-such-folder/broken.db?catalog-id=555555555555
  - name: pg
    catalog: hms+postgresql://hive:pg-s3cret@127.0.0.1:1/metastore
EOF
start_agent catalog
wait_for "the catalog problem" has_line "$T/catalog.log" "target=broken cannot open its catalog"
wait_for "the metastore problem" has_line "$T/catalog.log" "target=pg cannot open its catalog"
body=$(healthz) && fail "/healthz answered 200 with a target whose catalog cannot be opened"
grep -q "^target 'broken': cannot open its catalog: " <<<"$body" || fail "/healthz does not name the target: $body"
grep -q "good" <<<"$body" && fail "/healthz names the good target: $body"
grep -q "^target 'pg': cannot open its catalog: .*hive:\*\*\*@127.0.0.1:1" <<<"$body" ||
	fail "/healthz does not name the unreachable metastore: $body"
grep -q "pg-s3cret" <<<"$body" && fail "/healthz shows a password: $body"
grep -q "pg-s3cret" "$T/catalog.log" && fail "the log shows a password"
stop_agent
sed -i '/name: broken/,$d' "$T/catalog.yaml"
start_agent catalog
wait_for "the good target to apply" test -s "$T/good.db"
body=$(healthz) || fail "/healthz is not ok with good targets only: $body"
[ "$body" = ok ] || fail "/healthz body is '$body', want ok"
stop_agent
echo "agent_schedule: ok"
