#!/usr/bin/env bash
# metasync sync --watch keeps a target in step with an embedded catalog's
# change feed:
#   usage     its options are refused where they make no sense;
#   nofeed    a source without a change feed (a snapshot) is refused, naming it;
#   follow    a first whole run, then each change as it commits: a partition
#             added and removed, a table added, a table dropped, a database
#             made; `metasync verify` agrees after each;
#   restart   killed with SIGKILL while changes go on; started again with its
#             state file, it resumes from its cursor (no whole run) and catches up;
#   refused   --max-deletes 0 with a change set that deletes: exit 4, nothing
#             changed; with a higher limit it applies;
#   stop      SIGTERM ends it with exit 0.
# usage: sync_watch.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: sync_watch.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-sync-watch.XXXXXX")
PIDS=()
trap 'kill_all "${PIDS[@]}"; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
TEST=sync_watch
. "$(dirname "$0")/../support/e2e.sh"
command -v jq >/dev/null || fail "needs 'jq' (scripts/deps.sh test)"

S="sqlite:$T/src.db?catalog-id=111111111111"
D="sqlite:$T/dst.db?catalog-id=222222222222"
for f in "$FIX"/rich/*.json; do "$M" catalog put "$S" <"$f" >/dev/null || fail "catalog put exited with $?"; done

# usage_fails WANT ARGS...: the command exits 2 and says WANT
usage_fails() {
	local want=$1 st=0
	shift
	"$M" sync "$@" >"$T/usage.out" 2>"$T/usage.err" || st=$?
	[ "$st" -eq 2 ] || fail "sync $* exited with $st, want 2"
	grep -q -- "$want" "$T/usage.err" || fail "sync $*: '$(cat "$T/usage.err")' does not say '$want'"
}
# watch NAME ARGS...: start sync --watch in the background (its pid in WATCH)
watch() {
	local name=$1
	shift
	"$M" sync --watch --source "$S" --target "$D" --json --interval 50ms "$@" \
		>"$T/$name.out" 2>"$T/$name.log" &
	WATCH=$!
	PIDS+=("$WATCH")
}
matches() { "$M" verify --source "$S" --target "$D" >"$T/verify.out" 2>&1; }
values() { "$M" catalog ls "$D" sales_raw orders --json | jq -c '.[]' | sort | tr '\n' ' '; }
has_value() { values | grep -qF -- "$1"; } # read again at every call (wait_for)
partition() { # partition DT: put a partition of sales_raw.orders into the source
	jq -c --arg dt "$1" '.Partition.Values[0] = $dt' "$FIX/rich/06-partition.json" |
		"$M" catalog put "$S" >/dev/null || fail "catalog put exited with $?"
}

CASE=usage
usage_fails "--state goes with --watch" --source "$S" --target "$D" --state "$T/x"
usage_fails "--dry-run does not go" --watch --source "$S" --target "$D" --dry-run
usage_fails "not a duration" --watch --source "$S" --target "$D" --interval 0ms
usage_fails "not a duration" --watch --source "$S" --target "$D" --reconcile soon

CASE=nofeed
"$M" export --source "$S" --output-path "$T/store" -q || fail "export exited with $?"
st=0
"$M" sync --watch --source "$T/store" --target "$D" 2>"$T/nofeed.err" || st=$?
[ "$st" -eq 1 ] || fail "sync --watch of a snapshot exited with $st, want 1"
grep -q "keeps no change feed" "$T/nofeed.err" || fail "nofeed: $(cat "$T/nofeed.err")"

CASE=follow
watch follow --state "$T/state.json" --deletes mirror
wait_for "the first whole run" matches
[ "$(head -n1 "$T/follow.out" | jq -r '.counts.tables.created')" -ge 3 ] ||
	fail "the first round was not the whole run: $(head -n1 "$T/follow.out")"
partition 2024-02-01
wait_for "a new partition" has_value '"2024-02-01"'
"$M" catalog rm "$S" sales_raw orders 2024-02-01 eu || fail "catalog rm exited with $?"
wait_for "a partition removed" bash -c "! \"$M\" catalog ls '$D' sales_raw orders --json | grep -q 2024-02-01"
echo '{"Table":{"Name":"events","DatabaseName":"sales_raw","StorageDescriptor":{"Location":"s3://l/e/"}}}' |
	"$M" catalog put "$S" >/dev/null
echo '{"Database":{"Name":"live_new"}}' | "$M" catalog put "$S" >/dev/null
wait_for "a new table and database" matches
"$M" catalog rm "$S" sales_raw events || fail "catalog rm exited with $?"
wait_for "a dropped table" matches
grep -q '"changes":' "$T/follow.out" || fail "no change round was printed"
has_line "$T/follow.out" '"lag_seconds":' || fail "change rounds do not say their lag"

CASE=restart
kill -KILL "$WATCH"
wait "$WATCH" 2>/dev/null || true
for d in 2024-03-01 2024-03-02 2024-03-03; do partition $d; done
"$M" catalog rm "$S" live_new || fail "catalog rm exited with $?"
watch restart --state "$T/state.json" --deletes mirror
wait_for "catching up after a restart" matches
sleep 0.3
head -n1 "$T/restart.out" | jq -e 'has("changes")' >/dev/null ||
	fail "the restart ran whole instead of resuming: $(head -n1 "$T/restart.out")"
[ "$(head -n1 "$T/restart.out" | jq '.counts.partitions.created')" -eq 3 ] ||
	fail "the restart did not apply the 3 partitions: $(head -n1 "$T/restart.out")"

CASE=stop
kill -TERM "$WATCH"
st=0
wait "$WATCH" || st=$?
[ "$st" -eq 0 ] || fail "SIGTERM: exit $st, want 0"

CASE=refused
watch refused --state "$T/state.json" --deletes mirror --max-deletes 0
"$M" catalog rm "$S" sales_raw orders 2024-03-01 eu || fail "catalog rm exited with $?"
st=0
wait "$WATCH" || st=$?
[ "$st" -eq 4 ] || fail "a change set over --max-deletes: exit $st, want 4"
grep -q "more than --max-deletes 0" "$T/refused.log" || fail "refused: $(cat "$T/refused.log")"
has_value '"2024-03-01"' || fail "the refused change set deleted the partition"
watch refused2 --state "$T/state.json" --deletes mirror --max-deletes 5
wait_for "the delete under a higher limit" matches
kill -TERM "$WATCH"
wait "$WATCH" || fail "sync --watch exited with $?"
echo "PASS: $TEST"
