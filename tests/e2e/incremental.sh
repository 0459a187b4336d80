#!/usr/bin/env bash
# Incremental snapshots from the command line:
#   first     export --incremental into an empty store writes a full snapshot
#             and says why;
#   changes   a partition added, one removed, a table dropped: the next
#             --incremental holds only those (its manifest names its parent,
#             the tombstones hold the deletes) and is far smaller than a full one;
#   chain     import of the store into a new target follows the chain (full,
#             then each incremental) and verify agrees; again: nothing changes;
#   prefixed  the same into a target with a database prefix;
#   refused   an incremental folder imported onto a target that does not hold
#             its parent: exit 4, naming the full snapshot to import first;
#   tampered  a tombstone file changed after the export: exit 4, nothing changed;
#   malformed a delete without values (its checksum right) is refused naming
#             the file and line;
#   emptied   a source whose only database is dropped: the incremental that
#             drops it imports (its replica holds the parent), and the next
#             export, with nothing left to record a chain on, is full;
#   halfread  an incremental that names a database (a table in it dropped)
#             without holding it, as one read while the source dropped the
#             database table by table: imports, the table goes;
#   fallback  another selection, and --full-every, write full snapshots and say why;
#   usage     --full-every without --incremental is refused.
# usage: incremental.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: incremental.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-incremental.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
TEST=incremental
. "$(dirname "$0")/../support/e2e.sh"
command -v jq >/dev/null || fail "needs 'jq' (scripts/deps.sh test)"

S="sqlite:$T/src.db?catalog-id=111111111111"
for f in "$FIX"/rich/*.json; do "$M" catalog put "$S" <"$f" >/dev/null || fail "catalog put exited with $?"; done
latest() { echo "$T/store/$(cat "$T/store/LATEST")"; }
export_incr() { # export_incr LOG [ARGS]: export --incremental into $T/store
	local log=$1
	shift
	"$M" export --source "$S" --output-path "$T/store" --incremental "$@" >"$T/$log.out" 2>"$T/$log.log" ||
		fail "export --incremental exited with $?"
}
partition() {
	jq -c --arg dt "$1" '.Partition.Values[0] = $dt' "$FIX/rich/06-partition.json" |
		"$M" catalog put "$S" >/dev/null || fail "catalog put exited with $?"
}

CASE=first
export_incr first
grep -q "a full snapshot, not an incremental one: the store has no snapshot to follow" "$T/first.log" ||
	fail "no warning: $(cat "$T/first.log")"
FULL=$(cat "$T/store/LATEST")
[ "$(jq -r .incremental "$(latest)/manifest.json")" = null ] || fail "the first snapshot is not full"
jq -e '.source_cursor | type == "string"' "$(latest)/manifest.json" >/dev/null ||
	fail "a full snapshot records no change feed cursor"

CASE=changes
for d in 2024-06-01 2024-06-02; do partition $d; done
"$M" catalog rm "$S" sales_raw orders 2024-01-01 eu || fail "catalog rm exited with $?"
export_incr changes
grep -q "incremental, after '$FULL'" "$T/changes.out" || fail "$(cat "$T/changes.out")"
MF="$(latest)/manifest.json"
[ "$(jq -r '.incremental, .parent, .base, .chain, .tombstones' "$MF" | tr '\n' ' ')" = "true $FULL $FULL 1 1 " ] ||
	fail "manifest: $(jq -c '{incremental, parent, base, chain, tombstones}' "$MF")"
[ "$(jq -r '.counts.partitions' "$MF")" -eq 2 ] || fail "the incremental holds $(jq .counts "$MF")"
jq -e '.type == "partition" and .values == ["2024-01-01","eu"]' "$(latest)/tombstones/part-00000.json" >/dev/null ||
	fail "tombstone: $(cat "$(latest)/tombstones/part-00000.json")"
"$M" catalog rm "$S" finance ledger || fail "catalog rm exited with $?"
export_incr drop
jq -e '.type == "table" and .table == "ledger"' "$(latest)/tombstones/part-00000.json" >/dev/null ||
	fail "table tombstone: $(cat "$(latest)/tombstones/part-00000.json")"
INCR=$(cat "$T/store/LATEST")

CASE=chain
D="sqlite:$T/dst.db?catalog-id=222222222222"
"$M" import --input-path "$T/store" --target "$D" --deletes mirror --json >"$T/chain.json" 2>"$T/chain.log" ||
	fail "import of the store exited with $?"
"$M" verify --source "$S" --target "$D" >"$T/verify.out" 2>&1 || fail "verify: $(cat "$T/verify.out")"
[ "$("$M" catalog show "$D" sales_raw --json | jq -r '.Database.Parameters["metasync.snapshot"]')" = "$INCR" ] ||
	fail "the target does not record the snapshot it holds"
"$M" import --input-path "$T/store" --target "$D" --deletes mirror --json >"$T/again.json" 2>>"$T/chain.log" ||
	fail "the import again exited with $?"
jq -e '[.counts[] | .created + .updated + .deleted] | add == 0' "$T/again.json" >/dev/null ||
	fail "the import again changed: $(cat "$T/again.json")"

CASE=prefixed
P="sqlite:$T/pre.db?catalog-id=333333333333"
"$M" import --input-path "$T/store" --target "$P" --database-prefix rep_ --deletes mirror -q 2>"$T/pre.log" ||
	fail "prefixed import exited with $?"
"$M" verify --source "$S" --target "$P" --database-prefix rep_ >"$T/verify.out" 2>&1 ||
	fail "verify: $(cat "$T/verify.out")"

CASE=refused
N="sqlite:$T/new.db?catalog-id=444444444444"
st=0
"$M" import --input-path "$T/store/$INCR" --target "$N" 2>"$T/refused.log" || st=$?
[ "$st" -eq 4 ] || fail "an incremental onto an empty target: exit $st, want 4"
grep -q "import the full snapshot '$FULL'" "$T/refused.log" || fail "$(cat "$T/refused.log")"
[ "$("$M" catalog ls "$N" --json)" = "[]" ] || fail "the refused import changed the target"

CASE=tampered
partition 2024-07-01
"$M" catalog rm "$S" sales_raw orders 2024-06-01 eu || fail "catalog rm exited with $?"
export_incr tamper
sed -i 's/2024-06-01/2024-06-09/' "$(latest)/tombstones/part-00000.json"
st=0
"$M" import --input-path "$T/store" --target "$D" --deletes mirror 2>"$T/tampered.log" || st=$?
[ "$st" -eq 4 ] || fail "a changed tombstone file: exit $st, want 4"
grep -q "does not match its sha256" "$T/tampered.log" || fail "$(cat "$T/tampered.log")"
"$M" catalog ls "$D" sales_raw orders --json | grep -q 2024-06-01 || fail "the tampered snapshot changed the target"
sed -i 's/2024-06-09/2024-06-01/' "$(latest)/tombstones/part-00000.json"
"$M" import --input-path "$T/store" --target "$D" --deletes mirror -q 2>>"$T/tampered.log" ||
	fail "the import of the mended snapshot exited with $?"
"$M" verify --source "$S" --target "$D" >"$T/verify.out" 2>&1 || fail "verify: $(cat "$T/verify.out")"

CASE=malformed
# a partition delete without values, its checksum right: refused by line, no crash
B="$T/bad/$(cat "$T/store/LATEST")"
mkdir -p "$T/bad"
cp -r "$(latest)" "$B"
echo '{"type":"partition","database":"sales_raw","table":"orders","values":[]}' >"$B/tombstones/part-00000.json"
sum=$(sha256sum "$B/tombstones/part-00000.json" | cut -d' ' -f1)
size=$(stat -c %s "$B/tombstones/part-00000.json")
jq --arg s "$sum" --argjson n "$size" '(.files[] | select(.path == "tombstones/part-00000.json"))
	|= (.sha256 = $s | .bytes = $n | .lines = 1) | .tombstones = 1' "$B/manifest.json" >"$B/m.json"
mv "$B/m.json" "$B/manifest.json"
st=0
"$M" catalog ls "$B" >/dev/null 2>"$T/malformed.log" || st=$?
[ "$st" -ge 1 ] && [ "$st" -le 4 ] || fail "a delete without values: exit $st: $(cat "$T/malformed.log")"
grep -q "tombstones/part-00000.json' line 1: not a delete" "$T/malformed.log" || fail "$(cat "$T/malformed.log")"

CASE=emptied
E="sqlite:$T/e.db?catalog-id=555555555555"
ED="sqlite:$T/ed.db?catalog-id=666666666666"
export_e() { # export_e LOG: export --incremental of $E into $T/estore, then import it into $ED
	"$M" export --source "$E" --output-path "$T/estore" --incremental >"$T/$1.out" 2>"$T/$1.log" ||
		fail "export --incremental exited with $?"
	"$M" import --input-path "$T/estore" --target "$ED" --deletes mirror -q 2>>"$T/$1.log" ||
		fail "import after $1: exit $?: $(cat "$T/$1.log")"
	"$M" verify --source "$E" --target "$ED" >"$T/verify.out" 2>&1 || fail "verify after $1: $(cat "$T/verify.out")"
}
"$M" catalog put "$E" <"$FIX/rich/01-database.json" >/dev/null || fail "catalog put exited with $?"
export_e e-full
"$M" catalog rm "$E" sales_raw || fail "catalog rm exited with $?"
export_e e-drop
grep -q "incremental, after" "$T/e-drop.out" || fail "the drop is not incremental: $(cat "$T/e-drop.out")"
[ "$("$M" catalog ls "$ED" --json)" = "[]" ] || fail "the dropped database is still replicated"
"$M" catalog put "$E" <"$FIX/rich/02-database.json" >/dev/null || fail "catalog put exited with $?"
export_e e-new
grep -q "holds no database" "$T/e-new.log" || fail "no full snapshot after an empty one: $(cat "$T/e-new.log")"

CASE=halfread
H="sqlite:$T/h.db?catalog-id=777777777777"
HD="sqlite:$T/hd.db?catalog-id=888888888888"
for f in "$FIX"/rich/0[1-5]-*.json; do "$M" catalog put "$H" <"$f" >/dev/null || fail "catalog put exited with $?"; done
"$M" export --source "$H" --output-path "$T/hstore" --incremental >/dev/null 2>"$T/h.log" || fail "export exited with $?"
"$M" import --input-path "$T/hstore" --target "$HD" --deletes mirror -q 2>>"$T/h.log" || fail "import exited with $?"
drop_db=$("$M" catalog ls "$H" --json | jq -r '.[0]')
drop_table=$("$M" catalog ls "$H" "$drop_db" --json | jq -r '.[0]')
"$M" catalog rm "$H" "$drop_db" "$drop_table" || fail "catalog rm exited with $?"
"$M" export --source "$H" --output-path "$T/hstore" --incremental >"$T/h.out" 2>>"$T/h.log" || fail "export exited with $?"
grep -q "incremental, after" "$T/h.out" || fail "not incremental: $(cat "$T/h.out")"
HS="$T/hstore/$(cat "$T/hstore/LATEST")"
jq -e --arg d "$drop_db" '.databases | index($d)' "$HS/manifest.json" >/dev/null ||
	fail "the incremental does not hold '$drop_db': $(jq -c .databases "$HS/manifest.json")"
# as read half-way through a drop: the database named, not held
jq -c --arg d "$drop_db" 'select(.type != "database" or .item.name != $d)' "$HS/databases/part-00000.json" >"$T/dbs.json"
mv "$T/dbs.json" "$HS/databases/part-00000.json"
sum=$(sha256sum "$HS/databases/part-00000.json" | cut -d' ' -f1)
size=$(stat -c %s "$HS/databases/part-00000.json")
lines=$(wc -l <"$HS/databases/part-00000.json")
jq --arg s "$sum" --argjson n "$size" --argjson l "$lines" --arg d "$drop_db" '(.files[] | select(.path == "databases/part-00000.json"))
	|= (.sha256 = $s | .bytes = $n | .lines = $l) | .databases -= [$d] | .counts.databases -= 1' \
	"$HS/manifest.json" >"$T/m.json"
mv "$T/m.json" "$HS/manifest.json"
"$M" import --input-path "$HS" --target "$HD" --deletes mirror >"$T/halfread.out" 2>&1 ||
	fail "an incremental naming a database it does not hold: exit $?: $(cat "$T/halfread.out")"
"$M" verify --source "$H" --target "$HD" >"$T/verify.out" 2>&1 || fail "verify: $(cat "$T/verify.out")"

CASE=fallback
"$M" export --source "$S" --output-path "$T/store" --incremental --database-names sales_raw >"$T/sel.out" 2>"$T/sel.log" ||
	fail "export exited with $?"
grep -q "selects other databases" "$T/sel.log" || fail "$(cat "$T/sel.log")"
export_incr every1 --database-names sales_raw --full-every 1
grep -q "incremental, after" "$T/every1.out" || fail "no incremental after a full one: $(cat "$T/every1.out")"
export_incr every2 --database-names sales_raw --full-every 1
grep -q "a full one every 1" "$T/every2.log" || fail "--full-every 1: $(cat "$T/every2.log")"

CASE=usage
st=0
"$M" export --source "$S" --output-path "$T/store" --full-every 3 2>"$T/usage.log" || st=$?
[ "$st" -eq 2 ] || fail "--full-every alone: exit $st, want 2"
echo "PASS: $TEST"
