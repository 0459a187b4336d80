#!/usr/bin/env bash
# The newcomer's walk-through (docs/two-accounts.md) runs as written: every
# ```sh block, in order, in one shell in a fresh folder, with the binary under
# test first on PATH; any command that fails fails the test, and the replica
# must then hold what the text says.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DOC=$SRC/docs/two-accounts.md
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: docs_walkthrough: $*" >&2; exit 1; }

mkdir -p "$T/build" "$T/run"
ln -s "$BIN" "$T/build/metasync"
# the blocks, joined into one script
awk '/^```sh$/ { on = 1; next } /^```$/ { on = 0 } on' "$DOC" >"$T/walkthrough.sh"
[ "$(grep -c 'metasync ' "$T/walkthrough.sh")" -ge 10 ] || fail "found too few commands in $DOC"
(cd "$T/run" && PATH="$T/build:$PATH" bash -euo pipefail "$T/walkthrough.sh") >"$T/out" 2>"$T/err" ||
	fail "a command of $DOC failed: $(tail -3 "$T/err")"

B='sqlite:acct-b.db?catalog-id=222222222222'
cd "$T/run"
loc=$("$BIN" catalog show "$B" a_sales orders --json | jq -r .Table.StorageDescriptor.Location)
[ "$loc" = "s3://lake-a-replica/sales/orders/" ] || fail "a_sales.orders is at '$loc'"
parts=$("$BIN" catalog ls "$B" a_sales orders --json | jq -c .)
[ "$parts" = '[["2024-01-02"]]' ] || fail "a_sales.orders holds partitions $parts"
grep -q "that the mapping no longer produces" "$T/out" || fail "the old replicas were not reported"
grep -q "nothing changed: the target already matches" "$T/out" || fail "a re-run did not say nothing changed"
echo "docs_walkthrough: ok"
