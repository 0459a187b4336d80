#!/usr/bin/env bash
# Crash test: import and export killed with SIGKILL at random points, many
# times, and after every kill the target is checked entity by entity.
#
# Sources: two versions of one catalog (databases, partitioned tables, an
# unpartitioned table, a view), written by awk in the AWS utility's format
# and imported into embedded catalogs.  Version 2 alters tables, adds,
# changes and removes partitions, drops a table and a database and adds
# others.  Scenarios, on the embedded catalog and on each Hive Metastore:
#   initial  import of version 1 into an empty target;
#   update   import of the other version with --deletes mirror (on the Hive
#            Metastore the direction alternates, 1 -> 2 then 2 -> 1);
#   export   export of a catalog to a store that already holds a snapshot.
# Each round kills the command either after a random delay of 0..T ms (T:
# the command's measured run time) or at a random position: once its -v
# output reaches a random line (import), or once a random one of the
# snapshot's files appears in the store (export; half of the time one of
# the last: the _SUCCESS files and manifest.json).  Then it checks:
#   - every database and every table (with its partitions) in the target is
#     either its old or its new version, never a mix (absent counts as a
#     version where the table is absent in it);
#   - export: LATEST names a complete snapshot (every file matches
#     manifest.json) holding one of the versions; every folder with a root
#     _SUCCESS is complete; a folder without one (the killed export's) is
#     refused when given to import directly and is never named by LATEST;
# then runs the same command again, which must exit 0, and checks that the
# target matches the source exactly: `metasync plan --full` finds nothing to
# do, and an independent comparison agrees (the embedded catalog: its stored
# documents, normalised in SQL, hashed per table with its partitions; the
# Hive Metastore: its export's lines, normalised by jq; a snapshot: its
# lines, sorted, against the source's).
#
# MS_CRASH_SEED repeats a run's kill schedule (delays and positions; where a
# kill lands still depends on the machine); it is printed at the start and
# on failure.  MS_CRASH_ROUNDS (default 20) rounds per scenario on the
# embedded catalog; MS_CRASH_HMS_ROUNDS (default 8) rounds on each Hive
# Metastore: half of them updates (which create, change and drop tables and
# databases), a quarter initial imports, a quarter exports (the snapshot
# writer is the one the embedded catalog's rounds test);
# MS_CRASH_BACKENDS (default "sqlite postgresql mysql") picks the catalogs,
# MS_CRASH_SCENARIOS (default "initial update export") the scenarios.
# The Hive Metastore parts need $MS_TEST_HMS_PG_URL / $MS_TEST_HMS_MYSQL_URL
# (scripts/test-servers.sh) and are skipped when unset; exit 77 when nothing
# can run.
# usage: crash.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: crash.sh PATH-TO-METASYNC}
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
ROUNDS=${MS_CRASH_ROUNDS:-20}
HMS_ROUNDS=${MS_CRASH_HMS_ROUNDS:-8}
HMS_UPDATES=$(((HMS_ROUNDS + 1) / 2))
HMS_INITIALS=$(((HMS_ROUNDS - HMS_UPDATES + 1) / 2))
HMS_EXPORTS=$((HMS_ROUNDS - HMS_UPDATES - HMS_INITIALS))
BACKENDS=${MS_CRASH_BACKENDS:-sqlite postgresql mysql}
SCENARIOS=${MS_CRASH_SCENARIOS:-initial update export}
SEED=${MS_CRASH_SEED:-$(( $(date +%s) % 1000000 * 32768 + $$ % 32768 ))}
# Partitions per large table: about 6.5 of them per table in all (2 databases).
N_SQLITE=${MS_CRASH_PARTITIONS:-500}
N_HMS=${MS_CRASH_HMS_PARTITIONS:-100}

for tool in jq sqlite3 md5sum; do
	command -v "$tool" >/dev/null || { echo "FAIL: crash: needs '$tool' (scripts/deps.sh test)" >&2; exit 1; }
done
run_sqlite=0 run=()
for b in $BACKENDS; do
	case $b in
	sqlite) run_sqlite=1 ;;
	postgresql) if [ -n "${MS_TEST_HMS_PG_URL:-}" ]; then run+=("postgresql $MS_TEST_HMS_PG_URL"); else
		echo "crash: postgresql skipped: \$MS_TEST_HMS_PG_URL is not set"; fi ;;
	mysql) if [ -n "${MS_TEST_HMS_MYSQL_URL:-}" ]; then run+=("mysql $MS_TEST_HMS_MYSQL_URL"); else
		echo "crash: mysql skipped: \$MS_TEST_HMS_MYSQL_URL is not set"; fi ;;
	*) echo "FAIL: crash: unknown backend '$b' in MS_CRASH_BACKENDS" >&2; exit 2 ;;
	esac
done
if [ "$run_sqlite" = 0 ] && [ ${#run[@]} -eq 0 ]; then
	echo "crash: nothing to run: skipped"
	exit 77
fi

RANDOM=$SEED
echo "crash: seed $SEED (repeat: MS_CRASH_SEED=$SEED bash $SELF $M)"

T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-crash.XXXXXX")
# Names of this run only: the metastores are shared with other tests.
P="crash$$_"
HMS_URLS=()
BG=
cleanup() {
	local url db
	if [ -n "$BG" ] && kill -0 "$BG" 2>/dev/null; then
		kill -KILL "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
	for url in "${HMS_URLS[@]}"; do
		for db in a b old new; do
			"$M" catalog rm "$url" "$P$db" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$T"
}
trap cleanup EXIT

WHERE=setup
fail() {
	local f
	echo "FAIL: crash ($WHERE): $*" >&2
	for f in "$T"/run.err "$T"/rerun.err; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 10 "$f" >&2; }
	done
	echo "crash: seed $SEED; repeat: MS_CRASH_SEED=$SEED MS_CRASH_BACKENDS='$BACKENDS' bash $SELF $M" >&2
	exit 1
}

want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
ms_to_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
# RND = a random integer in [0, $1).  (Never in a subshell: a subshell's
# RANDOM is seeded afresh, and the seed would no longer repeat a run.)
rnd() { RND=$(((RANDOM * 32768 + RANDOM) % $1)); }

# ---- the source ------------------------------------------------------------
# gen VERSION N DIR: a snapshot in the AWS utility's format (no manifest).
SD_REST='"inputFormat":"org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat","outputFormat":"org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat","compressed":false,"numberOfBuckets":-1,"storedAsSubDirectories":false,"parameters":{},"serdeInfo":{"serializationLibrary":"org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe","parameters":{"serialization.format":"1"}},"bucketColumns":[],"sortColumns":[]'
gen() {
	rm -rf "$3"
	mkdir -p "$3/databases" "$3/tables" "$3/partitions"
	awk -v v="$1" -v n="$2" -v dir="$3" -v p="$P" -v rest="$SD_REST" '
	function sd(loc, extra) {
		return "{\"columns\":[{\"name\":\"id\",\"type\":\"bigint\"},{\"name\":\"amount\",\"type\":\"decimal(12,2)\"}" extra "],\"location\":\"" loc "\"," rest "}"
	}
	function db(name, dv) {
		printf "{\"type\":\"database\",\"item\":{\"name\":\"%s\",\"description\":\"crash test\",\"locationUri\":\"s3://lake/%s/\",\"parameters\":{\"v\":\"%s\"}}}\n", name, name, dv > (dir "/databases/part-00000.json")
	}
	function table(d, t, tv, partitioned, extra) {
		printf "{\"type\":\"table\",\"database\":\"%s\",\"item\":{\"name\":\"%s\",\"owner\":\"etl\",\"createTime\":\"1700000000000\",\"retention\":0,\"tableType\":\"EXTERNAL_TABLE\",\"parameters\":{\"EXTERNAL\":\"TRUE\",\"v\":\"%s\"},\"partitionKeys\":[%s],\"storageDescriptor\":%s}}\n", d, t, tv, partitioned ? "{\"name\":\"dt\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"string\"}" : "", sd("s3://lake/" d "/" t, extra) > (dir "/tables/part-00000.json")
	}
	function view(d, t, text) {
		printf "{\"type\":\"table\",\"database\":\"%s\",\"item\":{\"name\":\"%s\",\"owner\":\"etl\",\"createTime\":\"1700000000000\",\"retention\":0,\"tableType\":\"VIRTUAL_VIEW\",\"viewOriginalText\":\"%s\",\"viewExpandedText\":\"%s\",\"parameters\":{},\"partitionKeys\":[],\"storageDescriptor\":{\"columns\":[{\"name\":\"id\",\"type\":\"bigint\"}],\"location\":\"\",\"compressed\":false,\"numberOfBuckets\":-1,\"storedAsSubDirectories\":false,\"parameters\":{},\"serdeInfo\":{\"parameters\":{}},\"bucketColumns\":[],\"sortColumns\":[]}}}\n", d, t, text, text > (dir "/tables/part-00000.json")
	}
	function part(d, t, i, pv,   dt) {
		dt = sprintf("2024-%02d-%02d", i % 12 + 1, int(i / 12) % 28 + 1)
		printf "{\"type\":\"partition\",\"database\":\"%s\",\"table\":\"%s\",\"item\":{\"values\":[\"%s\",\"%d\"],\"creationTime\":\"1700000000000\",\"parameters\":{\"v\":\"%s\",\"numRows\":\"%d\"},\"storageDescriptor\":%s}}\n", d, t, dt, i, pv, i, sd("s3://lake/" d "/" t "/v" pv "/dt=" dt "/n=" i, "") > (dir "/partitions/part-00000.json")
	}
	BEGIN {
		for (k = 0; k < 2; k++) {
			d = p (k ? "b" : "a")
			db(d, k ? 1 : v)
			# big1: altered (a column, a parameter); every 7th partition
			# removed, every 5th changed, a tenth more added.
			table(d, "big1", v, 1, v == 2 ? ",{\"name\":\"note\",\"type\":\"string\"}" : "")
			for (i = 0; i < n; i++)
				if (v == 1 || i % 7 != 3)
					part(d, "big1", i, v == 2 && i % 5 == 0 ? 2 : 1)
			if (v == 2)
				for (i = n; i < n + int(n / 10); i++)
					part(d, "big1", i, 2)
			# big2: the same in both versions.
			table(d, "big2", 1, 1, "")
			for (i = 0; i < n; i++)
				part(d, "big2", i, 1)
			# big3: the table stays; a third of its partitions change, the
			# last tenth is removed.
			table(d, "big3", 1, 1, "")
			for (i = 0; i < (v == 2 ? n - int(n / 10) : n); i++)
				part(d, "big3", i, v == 2 && i % 3 == 1 ? 2 : 1)
			# small: unpartitioned, altered.
			table(d, "small", v, 0, "")
			# gone (version 1 only) and fresh (version 2 only).
			t = v == 1 ? "gone" : "fresh"
			table(d, t, 1, 1, "")
			for (i = 0; i < int(n / 4); i++)
				part(d, t, i, 1)
		}
		view(p "a", "v_big1", "SELECT id FROM " p "a.big1" (v == 2 ? " WHERE id > 0" : ""))
		# A database only in version 1, one only in version 2.
		d = p (v == 1 ? "old" : "new")
		db(d, 1)
		table(d, "only", 1, 0, "")
	}'
}

# The source catalogs (one catalog id: version 2 is version 1 changed, so
# the two files are one catalog instance too) and a snapshot of each (st1,
# st2) for imports: src N VERSION
SRC_ID=111111111111
src() {
	local n=$1 v=$2 dir=$T/n$1 out
	gen "$v" "$n" "$dir/gen$v"
	rm -f "$dir/src$v.db"
	out=$("$M" import --input-path "$dir/gen$v" --allow-no-manifest --target "sqlite:$dir/src$v.db?catalog-id=$SRC_ID" --json) ||
		fail "import of generated version $v exited with $?"
	[ "$(jq '.counts.partitions.created' <<<"$out")" -eq "$(wc -l <"$dir/gen$v/partitions/part-00000.json")" ] ||
		fail "import of generated version $v: $(jq -c .counts <<<"$out")"
	if [ "$v" = 2 ]; then
		local inst
		inst=$(sqlite3 "$dir/src1.db" "SELECT value FROM meta WHERE key = 'catalog:$SRC_ID'") &&
			[ -n "$inst" ] || fail "source version 1 has no instance"
		sqlite3 "$dir/src2.db" "UPDATE meta SET value = '$inst' WHERE key = 'catalog:$SRC_ID'" ||
			fail "could not give version 2 the instance of version 1"
	fi
	"$M" export --source "sqlite:$dir/src$v.db?catalog-id=$SRC_ID" --output-path "$dir/st$v" -q ||
		fail "export of source version $v exited with $?"
}

# ---- fingerprints: "KEY VALUE" per database (D:db) and table (T:db.table) --
# Target-assigned fields and metasync's markers are left out.
SQL_DROP="'\$.CatalogId', '\$.CreateTime', '\$.UpdateTime', '\$.VersionId', '\$.IsRegisteredWithLakeFormation', '\$.Parameters.\"metasync.replica-of\"', '\$.Parameters.\"metasync.synced\"', '\$.Parameters.\"metasync.replica-instance\"', '\$.Parameters.\"metasync.hms\"', '\$.Parameters.\"metasync.snapshot\"'"
# An embedded catalog's stored documents, read with sqlite3: a table's value
# hashes its document and its partitions' (by values).  fp_sqlite FILE CATALOG-ID
fp_sqlite() {
	local schema
	[ -f "$1" ] || return 0
	# A process killed before it created the schema leaves an empty catalog.
	schema=$(sqlite3 -cmd '.timeout 10000' "$1" "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('databases', 'tables', 'partitions')") ||
		fail "sqlite3 could not read '$1'"
	[ "$schema" != 0 ] || return 0
	sqlite3 -cmd '.timeout 10000' "$1" "
	SELECT 'D:' || d.name || ' ' || lower(hex(sha3(json_remove(d.doc, $SQL_DROP))))
	  FROM databases d WHERE d.catalog = '$2'
	UNION ALL
	SELECT 'T:' || d.name || '.' || t.name || ' ' || lower(hex(sha3(json_remove(t.doc, $SQL_DROP) || char(10) ||
	       coalesce((SELECT group_concat(x, char(10)) FROM
	                 (SELECT json_remove(p.doc, $SQL_DROP) AS x FROM partitions p WHERE p.table_id = t.id ORDER BY p.vkey)), ''))))
	  FROM tables t JOIN databases d ON d.id = t.db_id WHERE d.catalog = '$2'
	ORDER BY 1" || fail "sqlite3 could not read '$1'"
}
# jq program: a snapshot line as "KEY<TAB>normalised item" (keys sorted at
# every depth: drivers write members in different orders).
JQ_NORM='def clean: del(.catalogId, .createTime, .updateTime, .versionId, .isRegisteredWithLakeFormation)
	| if .parameters then .parameters |= with_entries(select(.key | startswith("metasync.") or . == "transient_lastDdlTime" | not)) else . end
	| walk(if type == "object" then to_entries | sort_by(.key) | from_entries else . end);
	if .type == "database" then "D:\(.item.name)\t\(.item | clean | tojson)"
	elif .type == "table" then "T:\(.database).\(.item.name)\t0\(.item | clean | tojson)"
	else "T:\(.database).\(.table)\t1\(.item | clean | tojson)" end'
# A snapshot's lines, normalised by jq, hashed per entity (a table with its
# partitions).  fp_lines SNAPSHOT-DIR
fp_lines() {
	local w=$T/fp.d
	rm -rf "$w"
	mkdir -p "$w"
	cat "$1"/databases/part-* "$1"/tables/part-* "$1"/partitions/part-* | jq -r "$JQ_NORM" |
		LC_ALL=C sort | awk -F '\t' -v w="$w" '$1 != k { if (k != "") close(f); k = $1; f = w "/" k } { print $2 > f }' ||
		fail "cannot read the lines of '$1'"
	(cd "$w" && md5sum -- *) | awk '{ print $2, $1 }' | LC_ALL=C sort
}
# A snapshot's manifest: a table's value is its content hash and its
# partition set's hash and count (the engine's hashes); a database's, its
# normalised line.  fp_manifest SNAPSHOT-DIR
fp_manifest() {
	{
		jq -r '.tables[] | "T:\(.database).\(.table) \(.hash)/\(.partitions.hash // "-")/\(.partitions.count // 0)"' "$1/manifest.json"
		cat "$1"/databases/part-* | jq -r "$JQ_NORM" | while IFS=$'\t' read -r k v; do
			echo "$k $(md5sum <<<"$v" | cut -c1-32)"
		done
	} | LC_ALL=C sort
}
# A catalog exported to a fresh store: prints the snapshot folder.  snap_of URL STORE
snap_of() {
	rm -rf "$2"
	"$M" export --source "$1" --database-names "$P*" --output-path "$2" -q 2>"$T/export.err" ||
		{ cat "$T/export.err" >&2; fail "export of '$1' to check it exited with $?"; }
	echo "$2/$(cat "$2/LATEST")"
}

# Every entity of NOW is as in OLD or as in NEW (a missing line: absent).
# Prints "DONE PENDING": entities already new, still old (where they differ).
# check_states OLD NEW NOW WHEN
check_states() {
	local out
	out=$(awk -v when="$4" '
		FILENAME == ARGV[1] { o[$1] = $2; k[$1]; next }
		FILENAME == ARGV[2] { n[$1] = $2; k[$1]; next }
		{ t[$1] = $2; k[$1] }
		END {
			for (x in k) {
				ov = x in o ? o[x] : "absent"; nv = x in n ? n[x] : "absent"; tv = x in t ? t[x] : "absent"
				if (tv != ov && tv != nv) { printf "%s: %s is neither its old version nor its new one (%s, old %s, new %s)\n", when, x, tv, ov, nv; bad = 1 }
				else if (ov != nv) { if (tv == nv) done++; else pending++ }
			}
			if (!bad) print done + 0, pending + 0
			exit bad
		}' "$1" "$2" "$3") || fail "$out"
	echo "$out"
}
# The target is exactly NEW.  same FILE-EXPECTED FILE-GOT WHAT
same() {
	diff "$1" "$2" >"$T/diff.out" || fail "$3: the target does not match the source: $(tr '\n' ';' <"$T/diff.out")"
}
# `metasync plan --full` finds nothing to do.  no_drift WHAT ARGS...
no_drift() {
	local what=$1 out
	shift
	out=$("$M" plan "$@" --deletes mirror --full --json 2>"$T/plan.err") || { cat "$T/plan.err" >&2; fail "$what: plan exited with $?"; }
	[ "$(jq '[.counts[] | .created + .updated + .deleted + .failed] | add' <<<"$out")" -eq 0 ] ||
		fail "$what: plan --full still finds work: $(jq -c .counts <<<"$out")"
}

# ---- killing -------------------------------------------------------------
# nap SECONDS: sleep without a fork (read times out on a FIFO nobody writes).
mkfifo "$T/nap"
exec {NAP_FD}<>"$T/nap"
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

# Run CMD in the background and SIGKILL it.  kill_run HOW AT PROBE CMD...
#   HOW=time      after AT ms;
#   HOW=position  once PROBE (a function that sets PROBED, and may read AT)
#                 sets PROBED to at least AT (or the command has exited).
# Sets KILLED=1 when the kill found the command running (else it had exited
# 0 already; any other exit fails the test).
kill_run() {
	local how=$1 probe=$3 st=0
	AT=$2
	shift 3
	"$@" >"$T/run.out" 2>"$T/run.err" &
	BG=$!
	if [ "$how" = time ]; then
		nap "$(ms_to_s "$AT")"
	else
		while kill -0 "$BG" 2>/dev/null; do
			$probe
			[ "$PROBED" -lt "$AT" ] || break
			nap 0.001
		done
	fi
	kill -KILL "$BG" 2>/dev/null || true
	{ wait "$BG"; } 2>/dev/null || st=$?
	BG=
	case $st in
	0) KILLED=0 ;;
	137) KILLED=1 ;;
	*) fail "the command to be killed ($how $AT) exited with $st by itself: $*" ;;
	esac
	KILL_AT="$how $AT"
}
# The probe of an import: lines of its -v output (block-buffered: coarse).
lines_out() { PROBED=$(wc -l <"$T/run.out"); }

# Scenario tallies: rounds killed mid-run, and kills that left the target
# between versions (some entities new, others still old).
tally_reset() { N_KILLED=0 N_MID=0 N_ROUNDS=0 START_MS=$(now_ms); }
tally() { # DONE PENDING
	N_ROUNDS=$((N_ROUNDS + 1))
	N_KILLED=$((N_KILLED + KILLED))
	if [ "$1" -gt 0 ] && [ "$2" -gt 0 ]; then N_MID=$((N_MID + 1)); fi
}
# check_states, then tally: the same arguments.
check_states_tally() {
	check_states "$@" >"$T/states"
	# shellcheck disable=SC2046
	tally $(cat "$T/states")
}
ALL_ROUNDS=0 ALL_KILLED=0
tally_report() {
	ALL_ROUNDS=$((ALL_ROUNDS + N_ROUNDS))
	ALL_KILLED=$((ALL_KILLED + N_KILLED))
	echo "crash: $WHERE: $N_ROUNDS rounds, $N_KILLED killed mid-run${1-, $N_MID of them between versions}, $(ms_to_s $(($(now_ms) - START_MS))) s"
}
# One kill schedule per round: time and position alternate.
how_of() { if [ $(($1 % 2)) -eq 1 ]; then echo time; else echo position; fi; }
# Where to kill: at HOW TIME-MS POSITIONS sets AT_PICK to a delay in
# [0, TIME-MS) or a position in [1, POSITIONS], as a random fraction of the
# whole (so that a seed repeats a kill at the same point of a run that is
# slower or faster this time).
at() {
	rnd 1000
	if [ "$1" = time ]; then AT_PICK=$(($2 * RND / 1000)); else AT_PICK=$(($3 * RND / 1000 + 1)); fi
}

# ---- export: what a store holds after a kill -------------------------------
# The sorted lines of a snapshot (an independent check of its content).
lines_md5() { cat "$1"/databases/part-* "$1"/tables/part-* "$1"/partitions/part-* | LC_ALL=C sort | md5sum | cut -c1-32; }
# check_store STORE REF-MD5S WHEN: LATEST names a complete snapshot; every
# folder with a root _SUCCESS is complete (every file as manifest.json
# says) and holds one of the versions (its sorted lines' md5 is one of
# REF-MD5S); a folder without one is refused by import and changes nothing.
# A complete folder is checked once ("ID MD5" in $T/checked); an incomplete
# one again when its files change ("ID -" and "ID FILES-MD5" in
# $T/incomplete): an export that finds no file but temporaries in the
# folder it would take (killed before its first commit) writes there.
check_store() {
	local store=$1 refs=$2 when=$3 latest id dir md5 st files
	[ -f "$store/LATEST" ] || fail "$when: no LATEST in '$store'"
	latest=$(cat "$store/LATEST")
	[ -f "$store/$latest/_SUCCESS" ] || fail "$when: LATEST names '$latest', which has no _SUCCESS"
	touch "$T/checked" "$T/incomplete"
	for dir in "$store"/*/; do
		dir=${dir%/}
		id=${dir##*/}
		grep -q "^$id " "$T/checked" && continue
		if [ -f "$dir/_SUCCESS" ]; then
			[ -f "$dir/manifest.json" ] || fail "$when: '$id' has _SUCCESS but no manifest.json"
			jq -r '.files[] | "\(.sha256)  \(.path)"' "$dir/manifest.json" >"$T/sums"
			(cd "$dir" && sha256sum -c --quiet "$T/sums") >"$T/sha.err" 2>&1 ||
				fail "$when: '$id' has _SUCCESS but its files do not match its manifest: $(head -n 3 "$T/sha.err" | tr '\n' ';')"
			md5=$(lines_md5 "$dir")
			grep -qxF "$md5" <<<"$refs" || fail "$when: complete snapshot '$id' holds neither version of the source"
			echo "$id $md5" >>"$T/checked"
		else
			[ "$id" != "$latest" ] || fail "$when: LATEST names '$id', which is incomplete"
			files=$(find "$dir" | LC_ALL=C sort | md5sum | cut -c1-32)
			grep -qxF "$id $files" "$T/incomplete" && continue
			rm -f "$T/refused.db"
			st=0
			"$M" import --input-path "$dir" --target "sqlite:$T/refused.db?catalog-id=999999999999" -q \
				>/dev/null 2>"$T/refused.err" || st=$?
			[ "$st" -ne 0 ] || fail "$when: import took the killed export's folder '$id' (no _SUCCESS) as complete"
			fp_sqlite "$T/refused.db" 999999999999 >"$T/refused.fp"
			[ ! -s "$T/refused.fp" ] || fail "$when: import of the incomplete folder '$id' changed its target"
			echo "$id $files" >>"$T/incomplete"
		fi
	done
}
# The probe of an export: has the AT-th of the files a complete export
# writes ($FILES, in no particular order) appeared in a new folder?  Reads
# the store with globs only, so that it can poll every millisecond: a
# snapshot's last steps (per-folder _SUCCESS, manifest.json, _SUCCESS,
# LATEST) take about as long, and the interesting kills land between them.
export_probe() {
	local m
	shopt -s nullglob
	m=("$STORE"/*/"${FILES[AT - 1]}")
	shopt -u nullglob
	PROBED=0
	if [ ${#m[@]} -gt "${SEEN[AT - 1]}" ]; then PROBED=$AT; fi
}

# export_rounds ROUNDS SOURCE-URL STORE REF-MD5 OLD-MD5: the store holds a
# complete snapshot (OLD-MD5) and SOURCE-URL holds REF-MD5.
export_rounds() {
	local rounds=$1 url=$2 refs="$4"$'\n'"$5" r t0 t_ms latest f how in
	[ "$rounds" -gt 0 ] || return 0
	STORE=$3
	rm -f "$T/checked" "$T/incomplete"
	check_store "$STORE" "$refs" "before the rounds"
	# One complete export, measured; the files it writes.
	t0=$(now_ms)
	"$M" export --source "$url" --database-names "$P*" --output-path "$STORE" --part-bytes "$PART_BYTES" -q ||
		fail "export exited with $?"
	t_ms=$(($(now_ms) - t0 + 1))
	latest=$(cat "$STORE/LATEST")
	mapfile -t FILES < <(cd "$STORE/$latest" && find . -type f ! -name '.*' -printf '%P\n' | LC_ALL=C sort)
	LAST=()
	for f in "${!FILES[@]}"; do
		case ${FILES[f]} in
		*_SUCCESS | manifest.json) LAST+=($((f + 1))) ;;
		esac
	done
	[ "$(lines_md5 "$STORE/$latest")" = "$4" ] || fail "a complete export does not hold the source"
	tally_reset
	for r in $(seq 1 "$rounds"); do
		how=$(how_of "$r")
		# How many folders hold each file before this export.
		SEEN=()
		shopt -s nullglob
		for f in "${FILES[@]}"; do
			in=("$STORE"/*/"$f")
			SEEN+=(${#in[@]})
		done
		shopt -u nullglob
		# Half the positions are among the last steps.
		rnd 2
		if [ "$how" = position ] && [ "$RND" = 0 ]; then
			rnd ${#LAST[@]}
			AT_PICK=${LAST[RND]}
		else
			at "$how" "$t_ms" ${#FILES[@]}
		fi
		kill_run "$how" "$AT_PICK" export_probe \
			"$M" export --source "$url" --database-names "$P*" --output-path "$STORE" --part-bytes "$PART_BYTES" -q
		[ "$how" = time ] || KILL_AT="once '${FILES[AT - 1]}' was in"
		check_store "$STORE" "$refs" "round $r, after the kill ($KILL_AT)"
		tally 0 0
		"$M" export --source "$url" --database-names "$P*" --output-path "$STORE" --part-bytes "$PART_BYTES" -q \
			2>"$T/rerun.err" || fail "round $r: the export after the kill exited with $?"
		latest=$(cat "$STORE/LATEST")
		check_store "$STORE" "$refs" "round $r, after the re-run"
		grep -qxF "$latest $4" "$T/checked" ||
			fail "round $r: LATEST after the re-run ('$latest') does not hold the source: $(tr '\n' ';' <"$T/checked") want $4"
		[ "$latest" = "$(find "$STORE" -mindepth 1 -maxdepth 1 -type d -printf "%f\n" | sort_ids | tail -n1)" ] ||
			fail "round $r: LATEST ('$latest') is not the newest snapshot"
		# Checked: keep only LATEST's folder, so that the store stays small.
		find "$STORE" -mindepth 1 -maxdepth 1 -type d ! -name "$latest" -exec rm -rf {} +
		grep "^$latest " "$T/checked" >"$T/checked.new"
		mv "$T/checked.new" "$T/checked"
		: >"$T/incomplete"
	done
	# The store reads, through LATEST, as metasync reads it.
	"$M" plan --input-path "$STORE" --target "sqlite:$T/empty.db?catalog-id=999999999999" --json \
		>"$T/plan-store.json" 2>"$T/plan-store.err" ||
		{ cat "$T/plan-store.err" >&2; fail "the store's LATEST snapshot does not read: plan exited $?"; }
	rm -f "$T/empty.db"*
	tally_report ""
}
# Snapshot ids in order: the timestamp, then the -N suffix.
sort_ids() { awk -F- '{ printf "%s %d %s\n", substr($0, 1, 19), (NF > 6 ? $7 + 1 : 0), $0 }' | sort -k1,1 -k2,2n | awk '{ print $3 }'; }

# ---- the embedded catalog ------------------------------------------------
run_sqlite() {
	local dir=$T/n$N_SQLITE r how t0 t_init t_upd l_init l_upd
	local TGT_FILE=$T/target.db
	local TGT="sqlite:$TGT_FILE?catalog-id=222222222222"
	WHERE=sqlite
	fp_sqlite "$dir/src1.db" "$SRC_ID" >"$T/fp1"
	fp_sqlite "$dir/src2.db" "$SRC_ID" >"$T/fp2"
	: >"$T/fp0"
	# Measured complete runs: the initial import, the update.
	rm -f "$TGT_FILE"*
	t0=$(now_ms)
	"$M" import --input-path "$dir/st1" --target "$TGT" -v >"$T/v.out" || fail "import exited with $?"
	t_init=$(($(now_ms) - t0 + 1))
	l_init=$(wc -l <"$T/v.out")
	fp_sqlite "$TGT_FILE" 222222222222 >"$T/fpt"
	same "$T/fp1" "$T/fpt" "a complete import"
	cp "$TGT_FILE" "$T/pristine1.db"
	t0=$(now_ms)
	"$M" import --input-path "$dir/st2" --target "$TGT" --deletes mirror -v >"$T/v.out" || fail "update exited with $?"
	t_upd=$(($(now_ms) - t0 + 1))
	l_upd=$(wc -l <"$T/v.out")
	fp_sqlite "$TGT_FILE" 222222222222 >"$T/fpt"
	same "$T/fp2" "$T/fpt" "a complete update"
	echo "crash: sqlite: $(grep -c . "$T/fp1") entities, $(wc -l <"$dir/gen1/partitions/part-00000.json") partitions; import ${t_init} ms, update ${t_upd} ms"

	if want initial; then
		WHERE="sqlite, initial import"
		tally_reset
		for r in $(seq 1 "$ROUNDS"); do
			how=$(how_of "$r")
			rm -f "$TGT_FILE"*
			at "$how" "$t_init" "$l_init"
			kill_run "$how" "$AT_PICK" lines_out \
				"$M" import --input-path "$dir/st1" --target "$TGT" "$([ "$how" = time ] && echo -q || echo -v)"
			fp_sqlite "$TGT_FILE" 222222222222 >"$T/fpt"
			check_states_tally "$T/fp0" "$T/fp1" "$T/fpt" "round $r, after the kill ($KILL_AT)"
			"$M" import --input-path "$dir/st1" --target "$TGT" -q 2>"$T/rerun.err" ||
				fail "round $r: the import after the kill exited with $?"
			fp_sqlite "$TGT_FILE" 222222222222 >"$T/fpt"
			same "$T/fp1" "$T/fpt" "round $r, after the re-run"
			no_drift "round $r" --input-path "$dir/st1" --target "$TGT"
		done
		tally_report
	fi

	if want update; then
		WHERE="sqlite, update import"
		tally_reset
		for r in $(seq 1 "$ROUNDS"); do
			how=$(how_of "$r")
			rm -f "$TGT_FILE"*
			cp "$T/pristine1.db" "$TGT_FILE"
			at "$how" "$t_upd" "$l_upd"
			kill_run "$how" "$AT_PICK" lines_out \
				"$M" import --input-path "$dir/st2" --target "$TGT" --deletes mirror "$([ "$how" = time ] && echo -q || echo -v)"
			fp_sqlite "$TGT_FILE" 222222222222 >"$T/fpt"
			check_states_tally "$T/fp1" "$T/fp2" "$T/fpt" "round $r, after the kill ($KILL_AT)"
			"$M" import --input-path "$dir/st2" --target "$TGT" --deletes mirror -q 2>"$T/rerun.err" ||
				fail "round $r: the import after the kill exited with $?"
			fp_sqlite "$TGT_FILE" 222222222222 >"$T/fpt"
			same "$T/fp2" "$T/fpt" "round $r, after the re-run"
			no_drift "round $r" --input-path "$dir/st2" --target "$TGT"
		done
		tally_report
	fi

	if want export; then
		WHERE="sqlite, export"
		rm -rf "$T/store"
		cp -r "$dir/st1" "$T/store"
		export_rounds "$ROUNDS" "sqlite:$dir/src2.db?catalog-id=$SRC_ID" "$T/store" \
			"$(lines_md5 "$dir/st2/$(cat "$dir/st2/LATEST")")" "$(lines_md5 "$dir/st1/$(cat "$dir/st1/LATEST")")"
		# What the store now gives an importer is the source.
		rm -f "$TGT_FILE"*
		"$M" import --input-path "$T/store" --target "$TGT" -q || fail "import of the store exited with $?"
		fp_sqlite "$TGT_FILE" 222222222222 >"$T/fpt"
		same "$T/fp2" "$T/fpt" "import of the store after the export rounds"
		rm -rf "$T/store" "$TGT_FILE"*
	fi
}

# ---- a Hive Metastore ------------------------------------------------------
# run_hms NAME URL
run_hms() {
	local name=$1 url=$2 dir=$T/n$N_HMS r how t0 v db key snap out
	local -A t_ms l_n
	WHERE=$name
	if ! out=$("$M" catalog ls "$url" 2>&1); then
		grep -q "unknown catalog url scheme" <<<"$out" && { echo "crash: $name skipped: no driver"; return 0; }
		fail "catalog ls on the test server: $out"
	fi
	HMS_URLS+=("$url")
	rmdbs() {
		for db in a b old new; do
			"$M" catalog rm "$url" "$P$db" >/dev/null 2>"$T/rm.err" ||
				grep -q "not found" "$T/rm.err" || fail "catalog rm '$P$db' failed: $(cat "$T/rm.err")"
		done
	}
	# References: each version's snapshot, by the engine's hashes and by lines.
	for v in 1 2; do
		fp_manifest "$dir/st$v/$(cat "$dir/st$v/LATEST")" >"$T/m$v"
		fp_lines "$dir/st$v/$(cat "$dir/st$v/LATEST")" >"$T/l$v"
	done
	: >"$T/m0"
	# check_hms V WHEN [plan]: the metastore holds exactly version V, by the
	# hashes and by the lines of its export (and plan --full agrees: that
	# costs as much as the rest, so only where asked).
	check_hms() {
		local snap
		snap=$(snap_of "$url" "$T/hcheck")
		fp_manifest "$snap" >"$T/mt"
		same "$T/m$1" "$T/mt" "$2 (hashes)"
		fp_lines "$snap" >"$T/lt"
		same "$T/l$1" "$T/lt" "$2 (lines)"
		if [ "${3:-}" = plan ]; then
			no_drift "$2" --input-path "$dir/st$1" --target "$url"
		fi
	}
	# Measured complete runs: 1 (initial), 2 (1 -> 2), 1 (2 -> 1).
	rmdbs
	for key in 1 2 1x; do
		v=${key%x}
		t0=$(now_ms)
		"$M" import --input-path "$dir/st$v" --target "$url" --deletes mirror -v >"$T/v.out" ||
			fail "import of version $v exited with $?"
		t_ms[$key]=$(($(now_ms) - t0 + 1))
		l_n[$key]=$(wc -l <"$T/v.out")
		check_hms "$v" "a complete import of version $v" plan
	done
	echo "crash: $name: $(grep -c . "$T/m1") entities, $(wc -l <"$dir/gen1/partitions/part-00000.json") partitions; import ${t_ms[1]} ms, update ${t_ms[2]} / ${t_ms[1x]} ms"

	if want update; then
		WHERE="$name, update import"
		tally_reset
		v=1
		for r in $(seq 1 "$HMS_UPDATES"); do
			local from=$v to=$((3 - v))
			key=2
			[ "$to" = 2 ] || key=1x
			how=$(how_of "$r")
			at "$how" "${t_ms[$key]}" "${l_n[$key]}"
			kill_run "$how" "$AT_PICK" lines_out \
				"$M" import --input-path "$dir/st$to" --target "$url" --deletes mirror "$([ "$how" = time ] && echo -q || echo -v)"
			snap=$(snap_of "$url" "$T/hcheck")
			fp_manifest "$snap" >"$T/mt"
			check_states_tally "$T/m$from" "$T/m$to" "$T/mt" "round $r ($from -> $to), after the kill ($KILL_AT)"
			"$M" import --input-path "$dir/st$to" --target "$url" --deletes mirror -q 2>"$T/rerun.err" ||
				fail "round $r: the import after the kill exited with $?"
			check_hms "$to" "round $r ($from -> $to), after the re-run" "$([ "$r" = "$HMS_UPDATES" ] && echo plan)"
			v=$to
		done
		tally_report
	fi

	if want export; then
		WHERE="$name, export"
		rm -rf "$T/hstore"
		"$M" export --source "$url" --database-names "$P*" --output-path "$T/hstore" -q || fail "export exited with $?"
		local ref
		ref=$(lines_md5 "$T/hstore/$(cat "$T/hstore/LATEST")")
		# The metastore is unchanged by exports: every snapshot must hold what the
		# first one holds (itself checked against the source by check_hms).
		export_rounds "$HMS_EXPORTS" "$url" "$T/hstore" "$ref" "$ref"
		rm -rf "$T/hstore"
	fi

	if want initial; then
		WHERE="$name, initial import"
		tally_reset
		for r in $(seq 1 "$HMS_INITIALS"); do
			how=$(how_of "$r")
			rmdbs
			at "$how" "${t_ms[1]}" "${l_n[1]}"
			kill_run "$how" "$AT_PICK" lines_out \
				"$M" import --input-path "$dir/st1" --target "$url" "$([ "$how" = time ] && echo -q || echo -v)"
			snap=$(snap_of "$url" "$T/hcheck")
			fp_manifest "$snap" >"$T/mt"
			check_states_tally "$T/m0" "$T/m1" "$T/mt" "round $r, after the kill ($KILL_AT)"
			"$M" import --input-path "$dir/st1" --target "$url" -q 2>"$T/rerun.err" ||
				fail "round $r: the import after the kill exited with $?"
			check_hms 1 "round $r, after the re-run" "$([ "$r" = "$HMS_INITIALS" ] && echo plan)"
		done
		tally_report
	fi
	rmdbs
}

PART_BYTES=262144
T_START=$(now_ms)
if [ "$run_sqlite" = 1 ]; then
	src "$N_SQLITE" 1
	src "$N_SQLITE" 2
	run_sqlite
fi
if [ ${#run[@]} -gt 0 ]; then
	src "$N_HMS" 1
	src "$N_HMS" 2
	for b in "${run[@]}"; do
		run_hms "${b%% *}" "${b#* }"
	done
fi
# Most kills must land mid-run (a kill after the end tests nothing).
[ $((ALL_KILLED * 3)) -ge "$ALL_ROUNDS" ] ||
	fail "only $ALL_KILLED of $ALL_ROUNDS runs were killed before they finished: the sources are too small for this machine"
echo "crash: ok in $(ms_to_s $(($(now_ms) - T_START))) s, $ALL_KILLED of $ALL_ROUNDS runs killed mid-run (seed $SEED)"
