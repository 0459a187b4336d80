#!/usr/bin/env bash
# Live replication from a glue:// catalog held by `metasync serve`, through
# the server's change log (MetasyncGetChanges):
#   nofeed       AWS's own endpoint (no endpoint=) and feed=none keep no change
#                feed: sync --watch is refused naming it, before any request;
#   follow       sync --watch from account A's catalog into an embedded one: a
#                whole first run, then a partition added and removed, a table
#                dropped, each seen through the feed (change rounds), verify
#                agreeing after each;
#   incremental  export --incremental of the glue:// source writes an
#                incremental snapshot holding only the change, which imports
#                onto the target;
#   poll         the polling feed (feed=poll, as for AWS Glue, which keeps no
#                change log) against the same server: sync --watch sees a
#                partition added (at the next scan of every partition), a
#                table altered and one dropped; a one-off export --incremental,
#                in a process of its own, follows LATEST while nothing changed
#                and writes a full snapshot, saying why, once something did;
#   imported     a table written into the server's file by another path (no
#                VersionId) reads as version 0 and takes an update through
#                glue:// (which asks for it by that version);
#   grants       account B, granted A's 'shared' only, reads through A's feed
#                the changes of 'shared' and nothing of A's other databases.
# usage: glue_live.sh PATH-TO-METASYNC
set -u -o pipefail
M=${1:?usage: glue_live.sh PATH-TO-METASYNC}
TEST=glue_live
SRC=${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=${MS_FIXTURES:-$SRC/tests/fixtures}
. "$SRC/tests/support/serve_e2e.sh"
command -v jq >/dev/null || { echo "$TEST: needs jq: skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-glue-live.XXXXXX")
PIDS=()
trap 'kill_all "${PIDS[@]}"; cleanup_servers; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
write_accounts

start_server main
GA="glue://us-east-1?endpoint=$ENDPOINT&catalog-id=$ACCT_A"
D="sqlite:$T/dst.db?catalog-id=444444444444"
for f in "$FIX"/rich/*.json; do
	as A "$M" catalog put "$GA" <"$f" >/dev/null || fail "catalog put into glue exited with $?"
done
matches() { as A "$M" verify --source "$GA" --target "$D" >"$T/verify.out" 2>&1; }
values() { "$M" catalog ls "$D" sales_raw orders --json | jq -c '.[]' | sort | tr '\n' ' '; }
has_value() { values | grep -qF -- "$1"; }
lacks_value() { ! values | grep -qF -- "$1"; }
partition() { # partition DT: put a partition of sales_raw.orders into A's catalog
	jq -c --arg dt "$1" '.Partition.Values[0] = $dt' "$FIX/rich/06-partition.json" |
		as A "$M" catalog put "$GA" >/dev/null || fail "catalog put exited with $?"
}

CASE=nofeed
for url in "glue://us-east-1?catalog-id=$ACCT_A" "$GA&feed=none"; do
	st=0
	as A "$M" sync --watch --source "$url" --target "$D" 2>"$T/nofeed.err" || st=$?
	[ "$st" -eq 1 ] || fail "sync --watch of $url exited with $st, want 1"
	grep -q "keeps no change feed" "$T/nofeed.err" || fail "nofeed: $(cat "$T/nofeed.err")"
done
st=0
as A "$M" sync --source "$GA&feed=sometimes" --target "$D" 2>"$T/nofeed.err" || st=$?
grep -q "glue feed 'sometimes'" "$T/nofeed.err" || fail "a bad feed= (exit $st): $(cat "$T/nofeed.err")"

CASE=follow
point_before=$(metric GetPartition "")
batch_before=$(metric BatchGetPartition "")
as_exec A "$M" sync --watch --source "$GA" --target "$D" --json --interval 50ms --deletes mirror \
	>"$T/follow.out" 2>"$T/follow.log" &
PIDS+=($!)
wait_for "the first whole run" matches
partition 2024-02-01
wait_for "a new partition" has_value '"2024-02-01"'
as A "$M" catalog rm "$GA" sales_raw orders 2024-02-01 eu || fail "catalog rm exited with $?"
wait_for "a partition removed" lacks_value '"2024-02-01"'
table=$(as A "$M" catalog ls "$GA" finance --json | jq -r '.[0]')
as A "$M" catalog rm "$GA" finance "$table" || fail "catalog rm exited with $?"
wait_for "a dropped table" matches
[ "$(grep -c '"changes":' "$T/follow.out")" -ge 3 ] ||
	fail "the changes were not read from the feed: $(cat "$T/follow.out" "$T/follow.log")"
stop_term "${PIDS[0]}" "the follower"
# the partitions a change names are read in a batch (BatchGetPartition), not one by
# one: the one GetPartition answered is catalog rm's, which reads what it removes
# (catalog put's read of a new partition is answered EntityNotFoundException)
want "GetPartition requests while following" "$(($(metric GetPartition "") - point_before))" 1
[ "$(($(metric BatchGetPartition "") - batch_before))" -ge 2 ] ||
	fail "BatchGetPartition requests while following: $(($(metric BatchGetPartition "") - batch_before)), want 2 or more"

CASE=incremental
as A "$M" export --source "$GA" --output-path "$T/store" --incremental -q 2>"$T/incr.log" ||
	fail "export exited with $?: $(cat "$T/incr.log")"
partition 2024-05-01
as A "$M" export --source "$GA" --output-path "$T/store" --incremental >"$T/incr.out" 2>>"$T/incr.log" ||
	fail "export exited with $?: $(cat "$T/incr.log")"
grep -q "incremental, after" "$T/incr.out" || fail "not incremental: $(cat "$T/incr.out" "$T/incr.log")"
MF="$T/store/$(cat "$T/store/LATEST")/manifest.json"
[ "$(jq -c '.counts' "$MF")" = '{"databases":1,"tables":1,"partitions":1}' ] ||
	fail "the incremental holds $(jq -c .counts "$MF")"
"$M" import --input-path "$T/store" --target "sqlite:$T/inc.db?catalog-id=555555555555" \
	--deletes mirror -q 2>>"$T/incr.log" || fail "import exited with $?: $(cat "$T/incr.log")"
as A "$M" verify --source "$GA" --target "sqlite:$T/inc.db?catalog-id=555555555555" \
	>"$T/verify.out" 2>&1 || fail "verify: $(cat "$T/verify.out")"

CASE=poll
GP="$GA&feed=poll&feed-scan=300ms"
DP="sqlite:$T/poll.db?catalog-id=777777777777"
pmatches() { as A "$M" verify --source "$GA" --target "$DP" >"$T/verify.out" 2>&1; }
pvalues() { "$M" catalog ls "$DP" sales_raw orders --json | jq -c '.[]' | sort | tr '\n' ' '; }
phas() { pvalues | grep -qF -- "$1"; }
as_exec A "$M" sync --watch --source "$GP" --target "$DP" --json --interval 100ms --deletes mirror \
	>"$T/poll.out" 2>"$T/poll.log" &
PIDS+=($!)
wait_for "the polling follower's first run" pmatches
partition 2024-07-01
wait_for "a new partition through the polling feed" phas '"2024-07-01"'
echo '{"Table":{"Name":"polled","DatabaseName":"sales_raw","StorageDescriptor":{"Location":"s3://l/p/"}}}' |
	as A "$M" catalog put "$GA" >/dev/null || fail "catalog put exited with $?"
echo '{"Table":{"Name":"polled","DatabaseName":"sales_raw","Parameters":{"p":"1"},"StorageDescriptor":{"Location":"s3://l/p/"}}}' |
	as A "$M" catalog put "$GA" --replace >/dev/null || fail "catalog put exited with $?"
wait_for "an altered table through the polling feed" pmatches
as A "$M" catalog rm "$GA" sales_raw polled || fail "catalog rm exited with $?"
wait_for "a dropped table through the polling feed" pmatches
[ "$(grep -c '"changes":' "$T/poll.out")" -ge 2 ] ||
	fail "the polling feed's changes were not followed: $(cat "$T/poll.out" "$T/poll.log")"
stop_term "${PIDS[-1]}" "the polling follower"
as A "$M" export --source "$GP" --output-path "$T/pstore" --incremental -q 2>"$T/pexp.log" ||
	fail "export exited with $?: $(cat "$T/pexp.log")"
as A "$M" export --source "$GP" --output-path "$T/pstore" --incremental >"$T/pexp.out" 2>>"$T/pexp.log" ||
	fail "export exited with $?: $(cat "$T/pexp.log")"
grep -q "incremental, after" "$T/pexp.out" || fail "nothing changed, yet not incremental: $(cat "$T/pexp.out" "$T/pexp.log")"
partition 2024-07-02
as A "$M" export --source "$GP" --output-path "$T/pstore" --incremental >"$T/pexp.out" 2>"$T/pexp.log" ||
	fail "export exited with $?: $(cat "$T/pexp.log")"
grep -q "no longer holds the changes" "$T/pexp.log" || fail "a one-off export after a change: $(cat "$T/pexp.out" "$T/pexp.log")"

CASE=imported
echo '{"Table":{"Name":"direct","DatabaseName":"sales_raw","StorageDescriptor":{"Location":"s3://l/d/"}}}' |
	"$M" catalog put "sqlite:$T/main.db?catalog-id=$ACCT_A" >/dev/null || fail "catalog put into the file exited with $?"
as A "$M" catalog show "$GA" sales_raw direct --json | jq -e '.Table.VersionId == "0"' >/dev/null ||
	fail "no VersionId 0: $(as A "$M" catalog show "$GA" sales_raw direct --json)"
echo '{"Table":{"Name":"direct","DatabaseName":"sales_raw","Parameters":{"k":"v"},"StorageDescriptor":{"Location":"s3://l/d/"}}}' |
	as A "$M" catalog put "$GA" --replace >"$T/imported.out" 2>&1 || fail "the update through glue:// failed: $(cat "$T/imported.out")"
as A "$M" catalog show "$GA" sales_raw direct --json | jq -e '.Table.Parameters.k == "v" and .Table.VersionId == "1"' >/dev/null ||
	fail "not updated: $(as A "$M" catalog show "$GA" sales_raw direct --json)"

CASE=grants
echo '{"Database":{"Name":"shared"}}' | as A "$M" catalog put "$GA" >/dev/null ||
	fail "catalog put exited with $?"
B_SEES="sqlite:$T/b.db?catalog-id=666666666666"
as_exec B "$M" sync --watch --source "$GA" --target "$B_SEES" --json --interval 50ms \
	>"$T/grants.out" 2>"$T/grants.log" &
PIDS+=($!)
b_has() { "$M" catalog ls "$B_SEES" --json | jq -e --arg d "$1" 'index($d)' >/dev/null; }
wait_for "B's first run" b_has shared
partition 2024-06-01
echo '{"Table":{"Name":"t1","DatabaseName":"shared","StorageDescriptor":{"Location":"s3://l/s/"}}}' |
	as A "$M" catalog put "$GA" >/dev/null || fail "catalog put exited with $?"
wait_for "B to see shared.t1" bash -c "\"$M\" catalog ls '$B_SEES' shared --json | grep -q t1"
"$M" catalog ls "$B_SEES" --json | jq -e '. == ["shared"]' >/dev/null ||
	fail "B replicated more than it may read: $("$M" catalog ls "$B_SEES" --json)"
[ "$(jq -s '[.[].changes // 0] | add' "$T/grants.out")" -eq 1 ] ||
	fail "B's feed held more than shared.t1: $(cat "$T/grants.out")"
grep -q 'sales_raw' "$T/grants.out" "$T/grants.log" &&
	fail "B was told of A's sales_raw: $(grep sales_raw "$T/grants.out" "$T/grants.log" | head -3)"
echo "PASS: $TEST"
