#!/usr/bin/env bash
# metasync demo end to end: the first run builds the source, exports it and
# imports it into both targets, and verifies them, and prints its agents as a
# config that `metasync agent` runs; the second run changes
# nothing and says so; the prefixed target holds src_ databases; a tampered
# target fails verification and is named.
# usage: demo.sh PATH-TO-METASYNC
set -u

BIN=${1:?usage: demo.sh PATH-TO-METASYNC}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/metasync-demo-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
DIR="$TMP/demo dir"   # a space, to keep paths honest
N=2000

fail() {
	echo "FAIL: demo.sh: $*" >&2
	for f in "$TMP"/*.out "$TMP"/*.err; do
		[ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}

expect_line() { # FILE TEXT
	grep -qF -- "$2" "$1" || fail "expected '$2' in $(basename "$1")"
}

# 1. First run: generates, exports, imports, verifies.
"$BIN" demo --dir "$DIR" --partitions $N >"$TMP/run1.out" 2>"$TMP/run1.err" ||
	fail "first run exited with $?"
expect_line "$TMP/run1.out" "verified: target 222222222222 matches source (25 databases, 160 tables, $N partitions)"
expect_line "$TMP/run1.out" "verified: target 333333333333 matches source (25 databases, 160 tables, $N partitions"
grep -q "nothing changed" "$TMP/run1.out" && fail "first run claims nothing changed"
[ -s "$DIR/store/LATEST" ] || fail "no snapshot store with LATEST in '$DIR/store'"
[ -s "$DIR/accounts.db" ] || fail "no catalog file '$DIR/accounts.db'"

# 1b. The config the demo prints runs its pipeline as an agent: nothing is
#     waiting and the source is unchanged, so it exports nothing.
sed -n '/^# the agents of this run as one config/,/^done in/p' "$TMP/run1.out" | sed '$d' >"$TMP/agent.yaml"
grep -q '^targets:' "$TMP/agent.yaml" || fail "the demo printed no agent config"
"$BIN" agent --config "$TMP/agent.yaml" --once 2>"$TMP/agent.err" ||
	fail "the printed agent config: agent --once exited with $?"
expect_line "$TMP/agent.err" "source=analytics export=unchanged"
grep -q "status=" "$TMP/agent.err" && fail "the printed config's targets imported again"

# 2. Second run: nothing to do.
"$BIN" demo --dir "$DIR" --partitions $N >"$TMP/run2.out" 2>"$TMP/run2.err" ||
	fail "second run exited with $?"
expect_line "$TMP/run2.out" "source catalog already generated"
expect_line "$TMP/run2.out" "nothing changed: both targets already match"
expect_line "$TMP/run2.out" "verified: target 222222222222 matches source"
expect_line "$TMP/run2.out" "verified: target 333333333333 matches source"
[ "$(ls "$DIR/store" | grep -vc LATEST)" = 1 ] || fail "second run wrote another snapshot"

# 3. --json: one object that says verified and unchanged.
"$BIN" demo --dir "$DIR" --partitions $N --json >"$TMP/run3.out" 2>"$TMP/run3.err" ||
	fail "--json run exited with $?"
[ "$(wc -l <"$TMP/run3.out")" = 1 ] || fail "--json printed more than one line"
expect_line "$TMP/run3.out" '"verified":true'
expect_line "$TMP/run3.out" '"changed":false'
expect_line "$TMP/run3.out" "\"partitions\":$N"

# 4. The prefixed target holds src_ databases, and only those.
B="sqlite:$DIR/accounts.db?catalog-id=333333333333"
"$BIN" catalog ls "$B" --json >"$TMP/ls.out" 2>"$TMP/ls.err" || fail "catalog ls exited with $?"
for db in src_sales_raw src_finance_ledger src_iot_telemetry src_customer_360 src_platform_ops; do
	expect_line "$TMP/ls.out" "\"$db\""
done
count=$(grep -o '"src_[a-z0-9_]*"' "$TMP/ls.out" | wc -l)
[ "$count" = 25 ] || fail "expected 25 src_ databases in target 333333333333, found $count"
grep -o '"[a-z0-9_]*"' "$TMP/ls.out" | grep -qv '"src_' && fail "target 333333333333 holds databases without the src_ prefix"

# 5. A replica deleted in a target is recreated by the next run.
A="sqlite:$DIR/accounts.db?catalog-id=222222222222"
"$BIN" catalog rm "$A" sales_curated store_dim >"$TMP/rm.out" 2>"$TMP/rm.err" || fail "catalog rm exited with $?"
"$BIN" demo --dir "$DIR" --partitions $N >"$TMP/run4.out" 2>"$TMP/run4.err" ||
	fail "run after a deleted replica exited with $? (the import should recreate it)"
expect_line "$TMP/run4.out" "verified: target 222222222222 matches source"

# 6. A table edited by hand and stripped of its replica marker: the engine
#    must leave it alone, so verification has to name it and exit 1.
"$BIN" catalog show "$A" hr_people departments --json >"$TMP/show.out" 2>"$TMP/show.err" ||
	fail "catalog show exited with $?"
sed -E 's/"metasync\.replica-of":"(\\.|[^"\\])*",//; s/,"metasync\.replica-of":"(\\.|[^"\\])*"//;
	s/"Description":"[^"]*"/"Description":"edited by hand"/' "$TMP/show.out" >"$TMP/edited.json"
grep -q replica-of "$TMP/edited.json" && fail "could not strip the marker from $(cat "$TMP/edited.json")"
"$BIN" catalog put "$A" --replace <"$TMP/edited.json" >"$TMP/put.out" 2>"$TMP/put.err" || fail "catalog put exited with $?"
"$BIN" demo --dir "$DIR" --partitions $N >"$TMP/run5.out" 2>"$TMP/run5.err"
rc=$?
[ $rc = 1 ] || fail "a tampered target did not fail verification (exit $rc, expected 1)"
expect_line "$TMP/run5.err" "target 222222222222 does not match the source"
expect_line "$TMP/run5.err" "table 'hr_people.departments' in target 222222222222 does not carry parameter 'metasync.replica-of'"
expect_line "$TMP/run5.err" "table 'hr_people.departments' in target 222222222222 differs from the source's 'hr_people.departments' in 'Description'"
grep -qF "verified: target 222222222222" "$TMP/run5.out" && fail "a tampered target was reported verified"
expect_line "$TMP/run5.out" "verified: target 333333333333 matches source"

# 7. Usage errors exit 2.
"$BIN" demo --partitions -5 >/dev/null 2>&1
[ $? = 2 ] || fail "--partitions -5 did not exit 2"
"$BIN" demo --bogus >/dev/null 2>&1
[ $? = 2 ] || fail "an unknown option did not exit 2"

echo "ok: demo.sh"
exit 0
