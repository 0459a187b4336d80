#!/usr/bin/env bash
# bench/run.sh [PARTITIONS]   (default 1000000)
#
# Builds metasync (Release) and bench/gen_export.c, generates a synthetic
# export in the AWS utility's layout, turns it into a metasync snapshot with a
# manifest (import --allow-no-manifest into a sqlite catalog, export that),
# then measures metasync against the floor of what it has to do, side by side
# in one run:
#
#   a. full import of the snapshot into an empty sqlite catalog
#        vs. the sqlite3 shell storing the same partition lines as rows of a
#        one-column table in one transaction            target: ratio <= 3
#   b. unchanged re-import vs. full import               target: <= 10%
#   c. full export of the filled catalog
#        vs. `sqlite3 CATALOG .dump > /dev/null`         target: ratio <= 2
#   d. peak resident memory (GNU time %M) of import and of export
#                                                        target: <= 256 MiB
#
# The machine may be shared and noisy: one warm-up pass first (so both sides
# read from the page cache), then every measurement BENCH_REPS times (default
# 3), interleaved, median taken; ratios are what to compare.
#
# Environment:
#   BENCH_DIR    scratch directory (default bench/data, git-ignored); needs
#                about 9 KB of disk per partition (9 GB for 1,000,000)
#   BENCH_REPS   repetitions per measurement (default 3)
#   BENCH_REUSE  1: reuse the generated export and snapshot of an earlier run
#                with the same PARTITIONS (skips generation and conversion)
#   BENCH_KEEP   1: keep the catalogs and outputs afterwards (default: delete
#                all but the generated export and snapshot)
#
# Exit status: 0 every target met, 3 some target missed, 1 error.
set -euo pipefail

PARTS=${1:-1000000}
case $PARTS in '' | *[!0-9]*) echo "usage: bench/run.sh [PARTITIONS]" >&2; exit 2 ;; esac
REPS=${BENCH_REPS:-3}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build-bench
WORK=${BENCH_DIR:-$REPO/bench/data}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
MS=$BUILD/metasync
GEN=$WORK/gen_export
TIME=/usr/bin/time

UTIL=$WORK/utility-$PARTS          # the AWS-utility-layout export
CONV=$WORK/convert-$PARTS.db       # catalog the utility export is imported into
SNAP=$WORK/snapshot-$PARTS         # metasync store: LATEST + one snapshot
CAT=$WORK/catalog.db               # the measured target catalog
BASE=$WORK/baseline.db             # the sqlite3 shell's one-column table
OUT=$WORK/export-out               # export destination (emptied every run)
LOG=$WORK/log
RES=$WORK/results.tsv              # name  rep  wall  rss_kib  user  sys
SRC_ID=111111111111
DST_ID=222222222222
CAT_URL="sqlite:$CAT?catalog-id=$DST_ID"

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[ -x "$TIME" ] || die "GNU time is missing ($TIME): apt-get install time"
command -v sqlite3 >/dev/null || die "the sqlite3 shell is missing: apt-get install sqlite3"
command -v gcc >/dev/null || die "gcc is missing"
mkdir -p "$LOG"

# ---------------------------------------------------------------- build
build_metasync "$BUILD"
gcc -O2 -std=c11 -Wall -Wextra -o "$GEN" "$REPO/bench/gen_export.c" || die "cannot build gen_export"
echo "metasync: $MS (built from $TREE)"
echo "gen_export: $GEN"

# ---------------------------------------------------------------- data
make_snapshot "$PARTS" 25 150 "$UTIL" "$CONV" "$SNAP" "${BENCH_REUSE:-0}"
PLINES=$(cat "${PFILES[@]}" | wc -l)
PBYTES=$(cat "${PFILES[@]}" | wc -c)
echo "snapshot: $SNAPDIR"
echo "  partition lines: $PLINES in ${#PFILES[@]} part files, $PBYTES bytes ($((PBYTES / PLINES)) bytes a line)"

# The baseline script: the same partition lines, one row each, one
# transaction, with the durability settings the sqlite catalog uses
# (WAL, synchronous=NORMAL).
BASE_SQL=$WORK/baseline.sql
{
	echo "PRAGMA journal_mode=WAL;"
	echo "PRAGMA synchronous=NORMAL;"
	echo "CREATE TABLE t(line TEXT);"
	echo ".mode ascii"
	echo '.separator "\037" "\n"'
	echo "BEGIN;"
	for f in "${PFILES[@]}"; do echo ".import $f t"; done
	echo "COMMIT;"
} >"$BASE_SQL"

# ---------------------------------------------------------------- runners

CMD_FULL="metasync import --input-path $SNAP --target '$CAT_URL' --json   # into an empty catalog"
CMD_REIMP="metasync import --input-path $SNAP --target '$CAT_URL' --json   # again, into the filled catalog"
CMD_BASE="sqlite3 -batch -bail $BASE '.read $BASE_SQL'   # CREATE TABLE t(line TEXT); .mode ascii; BEGIN; .import PART t ...; COMMIT"
CMD_EXP="metasync export --source '$CAT_URL' --output-path $OUT --json"
CMD_DUMP="sqlite3 $CAT .dump > /dev/null"

import_pass() { # REP
	rm_db "$CAT"
	run import-full "$1" "$LOG/import-full.json" "$MS" import --input-path "$SNAP" --target "$CAT_URL" --json
	json_check "$LOG/import-full.json" partitions created "$PARTS"
	run import-again "$1" "$LOG/import-again.json" "$MS" import --input-path "$SNAP" --target "$CAT_URL" --json
	json_check "$LOG/import-again.json" partitions unchanged "$PARTS"
	rm_db "$BASE"
	run sqlite3-import "$1" "$LOG/sqlite3-import.out" sqlite3 -init /dev/null -batch -bail "$BASE" ".read $BASE_SQL"
}

export_pass() { # REP
	rm -rf "$OUT"
	run export "$1" "$LOG/export.json" "$MS" export --source "$CAT_URL" --output-path "$OUT" --json
	json_check "$LOG/export.json" partitions created "$PARTS"
	run sqlite3-dump "$1" /dev/null sqlite3 "$CAT" .dump
}

# ---------------------------------------------------------------- measure
: >"$RES"
say "warm-up pass (not counted)"
import_pass warm
[ "$(sqlite3 "$BASE" 'SELECT count(*) FROM t')" -eq "$PARTS" ] || die "baseline table does not hold $PARTS rows"
export_pass warm
for i in $(seq 1 "$REPS"); do
	say "pass $i of $REPS"
	import_pass "$i"
	export_pass "$i"
done

# ---------------------------------------------------------------- report
FAILED=0
row() { # LABEL MS_VALUE BASE_VALUE RATIO TARGET_OP TARGET UNIT
	local label=$1 a=$2 b=$3 ratio=$4 op=$5 target=$6 verdict
	if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then verdict=pass; else
		verdict=FAIL
		FAILED=1
	fi
	printf '| %-44s | %12s | %12s | %8s | %-10s | %-6s |\n' "$label" "$a" "$b" "$ratio" "$op" "$verdict"
}

FULL=$(median import-full 3)
AGAIN=$(median import-again 3)
BIMP=$(median sqlite3-import 3)
EXP=$(median export 3)
DUMP=$(median sqlite3-dump 3)
RSS_IMP=$(maxof import-full 4)
RSS_AGAIN=$(maxof import-again 4)
RSS_EXP=$(maxof export 4)
RSS_BIMP=$(maxof sqlite3-import 4)
RSS_DUMP=$(maxof sqlite3-dump 4)

say "results: $PARTS partitions, median of $REPS runs (wall seconds; memory: max over runs)"
printf '| %-44s | %12s | %12s | %8s | %-10s | %-6s |\n' measurement "metasync" "baseline" ratio target result
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..14})" \
	"$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..12})" "--------"
row "a. full import vs sqlite3 .import (s)" "$(fmt "$FULL")" "$(fmt "$BIMP")" "$(div "$FULL" "$BIMP")" "<= 3" 3
row "b. unchanged re-import vs full import (s)" "$(fmt "$AGAIN")" "$(fmt "$FULL")" "$(div "$AGAIN" "$FULL")" "<= 0.10" 0.10
row "c. full export vs sqlite3 .dump (s)" "$(fmt "$EXP")" "$(fmt "$DUMP")" "$(div "$EXP" "$DUMP")" "<= 2" 2
row "d. peak RSS, import (MiB)" "$(mib "$RSS_IMP")" "$(mib "$RSS_BIMP")" "$(div "$(mib "$RSS_IMP")" 256)" "<= 256 MiB" 1
row "d. peak RSS, re-import (MiB)" "$(mib "$RSS_AGAIN")" "-" "$(div "$(mib "$RSS_AGAIN")" 256)" "<= 256 MiB" 1
row "d. peak RSS, export (MiB)" "$(mib "$RSS_EXP")" "$(mib "$RSS_DUMP")" "$(div "$(mib "$RSS_EXP")" 256)" "<= 256 MiB" 1
echo "(d: ratio = metasync / 256 MiB; baseline column = the sqlite3 shell's own peak, for reference)"

echo
echo "CPU seconds (user + sys, median):"
for n in import-full import-again sqlite3-import export sqlite3-dump; do
	printf '  %-16s %8.2f user %8.2f sys   (wall %s)\n' "$n" "$(median "$n" 5)" "$(median "$n" 6)" "$(fmt "$(median "$n" 3)")"
done

echo
echo "every run: $RES"
echo
echo "commands (scratch: $WORK):"
echo "  a. $CMD_FULL"
echo "     $CMD_BASE"
echo "  b. $CMD_REIMP"
echo "  c. $CMD_EXP"
echo "     $CMD_DUMP"
echo "  d. /usr/bin/time -f %M around each of the above"
echo "  data: gen_export $UTIL $PARTS"
echo "        metasync import --input-path $UTIL/<stamp> --target 'sqlite:$CONV?catalog-id=$SRC_ID' --allow-no-manifest"
echo "        metasync export --source 'sqlite:$CONV?catalog-id=$SRC_ID' --output-path $SNAP"
echo
machine "sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
echo "metasync built from: $TREE"

if [ "${BENCH_KEEP:-0}" != 1 ]; then
	rm_db "$CAT"
	rm_db "$BASE"
	rm -rf "$OUT"
fi
[ $FAILED -eq 0 ] || exit 3
