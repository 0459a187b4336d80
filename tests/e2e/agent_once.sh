#!/usr/bin/env bash
# metasync agent --once exits with the worst outcome of its run, so that cron
# jobs and CI see failures (on the embedded bus):
#   clean      a target that imports the snapshot: exit 0;
#   broken     a second target whose catalog cannot be opened (its folder
#              does not exist) beside a good one: the good one imports, the
#              broken one dead-letters the event after max_attempts: exit 1;
#   partial    a target whose catalog refuses one table (an SQLite trigger
#              aborts its insert): the rest is imported, exit 3;
#   refused    a target with deletes: mirror and max_deletes: 0 that would
#              have to delete a replica: nothing changes, exit 4;
#   again      the clean target once more (nothing waiting): exit 0.
# usage: agent_once.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: agent_once.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-agent-once.XXXXXX")
trap 'rm -rf "$T"' EXIT
TEST=agent_once
. "$(dirname "$0")/../support/e2e.sh"
command -v sqlite3 >/dev/null || fail "needs 'sqlite3' (scripts/deps.sh test)"

BUS="embedded:$T/bus.db"
S="sqlite:$T/src.db?catalog-id=111111111111"
for f in "$FIX"/rich/*.json; do "$M" catalog put "$S" <"$f" || fail "catalog put exited with $?"; done
"$M" export --source "$S" --output-path "$T/store" --notify "$BUS" -q || fail "export exited with $?"

# cfg NAME: an agent file with the targets given as YAML on stdin.
cfg() {
	{
		echo "bus: $BUS"
		echo "targets:"
		cat
	} >"$T/$1.yaml"
}
# once NAME WANT: run the agent with --once, check its exit status.
once() {
	local st=0
	"$M" agent --config "$T/$1.yaml" --once 2>"$T/$1.log" || st=$?
	[ "$st" -eq "$2" ] || fail "agent --once exited with $st, want $2"
}
tables() { "$M" catalog ls "$1" "$2" --json | jq -r '.[]' | sort | tr '\n' ' '; }

CASE=clean
cfg clean <<EOF
  - name: clean
    catalog: sqlite:$T/clean.db?catalog-id=222222222222
EOF
once clean 0
[ "$(tables "sqlite:$T/clean.db?catalog-id=222222222222" finance)" = "ledger " ] ||
	fail "the clean target did not import finance.ledger"

CASE=broken
cfg broken <<EOF
  - name: good
    catalog: sqlite:$T/good.db?catalog-id=333333333333
  - name: broken
    catalog: sqlite:$T/no-such-folder/broken.db?catalog-id=444444444444
    max_attempts: 2
EOF
once broken 1
grep -qE "target=broken event [0-9]+ dead-lettered after 2 attempts" "$T/broken.log" ||
	fail "the broken target did not dead-letter the event"
[ "$(tables "sqlite:$T/good.db?catalog-id=333333333333" finance)" = "ledger " ] ||
	fail "the good target beside the broken one did not import"

CASE=partial
# an empty catalog (a database put and removed) for the trigger to go into
{ "$M" catalog put "sqlite:$T/partial.db?catalog-id=555555555555" <<<'{"Database":{"Name":"tmp"}}' &&
	"$M" catalog rm "sqlite:$T/partial.db?catalog-id=555555555555" tmp; } >/dev/null ||
	fail "cannot create the partial target"
sqlite3 "$T/partial.db" "CREATE TRIGGER refuse_ledger BEFORE INSERT ON tables WHEN NEW.name = 'ledger'
	BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;" || fail "cannot add the trigger"
cfg partial <<EOF
  - name: partial
    catalog: sqlite:$T/partial.db?catalog-id=555555555555
EOF
once partial 3
grep -q "target=partial snapshot=.* status=partial" "$T/partial.log" || fail "the import was not partial"
[ "$(tables "sqlite:$T/partial.db?catalog-id=555555555555" sales_raw)" = "orders v_orders_eu " ] ||
	fail "the partial target did not import the tables it could"

CASE=refused
# The clean target holds replicas of finance.ledger; a snapshot without it
# would delete one, more than max_deletes 0.
"$M" catalog rm "$S" finance ledger || fail "catalog rm exited with $?"
"$M" export --source "$S" --output-path "$T/store" --notify "$BUS" -q || fail "export exited with $?"
cfg refused <<EOF
  - name: clean
    catalog: sqlite:$T/clean.db?catalog-id=222222222222
    deletes: mirror
    max_deletes: 0
EOF
once refused 4
[ "$(tables "sqlite:$T/clean.db?catalog-id=222222222222" finance)" = "ledger " ] ||
	fail "the refused import changed the target"

CASE=again
once clean 0
echo "agent_once: ok"
