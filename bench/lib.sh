# bench/lib.sh: what the benchmark scripts share (sourced, not run).
#
# The caller sets LOG (a directory for each command's stderr and GNU time's
# output), RES (the results file: one tab-separated row per timed run: name,
# rep, wall seconds, peak RSS KiB, user s, sys s) and TIME (GNU time).

die() { echo "bench: $*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
# rm_db FILE: a sqlite catalog with its WAL, shared memory and journal.
rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }
# tree_id: sets TREE to the checkout's commit, and whether src/ had changes
# not committed (what a build of REPO was made from).
tree_id() {
	# shellcheck disable=SC2034 # read by the callers
	TREE="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo ' + uncommitted changes in src/')"
}

# build_metasync BUILD: a Release build of the command in BUILD (its logs in
# $LOG), and tree_id.
build_metasync() {
	local build=$1
	say "build"
	cmake -S "$REPO" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMS_TESTS=OFF >"$LOG/cmake.log" 2>&1 ||
		{ tail -20 "$LOG/cmake.log"; die "cmake failed (log: $LOG/cmake.log)"; }
	cmake --build "$build" -j2 --target metasync >"$LOG/make.log" 2>&1 ||
		{ tail -20 "$LOG/make.log"; die "build failed (log: $LOG/make.log)"; }
	tree_id
}

# The benchmarks of `metasync serve` keep the server's pid in SERVE_PID;
# serve_kill (trap serve_kill EXIT) stops one left running, serve_term NAME
# stops it on purpose: SIGTERM, and it must exit 0.
SERVE_PID=

# serve_start NAME CATALOG [SERVE_OPTION...]: a fresh metasync serve ($MS)
# of the embedded file CATALOG for the accounts in $ACCOUNTS on a free
# loopback port, its log in $LOG/serve-NAME.log; sets SERVE_PID, ENDPOINT.
serve_start() {
	local name=$1 cat=$2 log=$LOG/serve-$1.log port='' i
	shift 2
	"$MS" serve --catalog "sqlite:$cat" --accounts "$ACCOUNTS" --listen 127.0.0.1:0 "$@" 2>"$log" &
	SERVE_PID=$!
	for i in $(seq 1 200); do
		port=$(grep -o '(port [0-9]*)' "$log" | grep -o '[0-9][0-9]*' || true)
		[ -n "$port" ] && break
		kill -0 "$SERVE_PID" 2>/dev/null || { cat "$log" >&2; die "metasync serve ($name) did not start"; }
		sleep 0.05
	done
	[ -n "$port" ] || die "metasync serve ($name) printed no port in 10 s (log: $log)"
	ENDPOINT=http://127.0.0.1:$port
}

# serve_account NAME CATALOG KEY_ID DIR: a metasync serve of the embedded file
# CATALOG with one account, 111111111111, whose key KEY_ID gets a secret made
# now ($DIR/accounts.yaml, mode 600); that key and nothing else of the AWS
# configuration in the environment; sets SERVE_PID, ENDPOINT, and GLUE (the
# account's glue:// URL at the server).
serve_account() {
	local name=$1 cat=$2 key=$3 dir=$4 secret
	secret=$(od -An -N24 -tx1 /dev/urandom | tr -dc 0-9a-f)
	ACCOUNTS=$dir/accounts.yaml
	(
		umask 077
		printf 'accounts:\n  - id: "111111111111"\n    keys:\n      - id: %s\n        secret: "%s"\n' \
			"$key" "$secret" >"$ACCOUNTS"
	)
	serve_start "$name" "$cat"
	: >"$dir/aws-empty"
	unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_GLUE
	export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
		AWS_CONFIG_FILE=$dir/aws-empty AWS_SHARED_CREDENTIALS_FILE=$dir/aws-empty \
		AWS_EC2_METADATA_DISABLED=true
	GLUE="glue://us-east-1?endpoint=$ENDPOINT&catalog-id=111111111111"
}

serve_kill() {
	if [ -n "$SERVE_PID" ]; then
		kill -TERM "$SERVE_PID" 2>/dev/null || true
		wait "$SERVE_PID" 2>/dev/null || true
	fi
}
serve_term() {
	local st=0
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" || st=$?
	SERVE_PID=
	[ "$st" -eq 0 ] || die "metasync serve ($1) exited with $st (log: $LOG/serve-$1.log)"
}

# machine MORE...: the line that describes the machine, MORE at its end.
machine() {
	echo "machine: nproc $(nproc), memory $(free -g | awk '/^Mem:/ { print $2 " GiB" }'), kernel $(uname -r), $*"
}

# run NAME REP OUTFILE CMD...: wall clock around the process, GNU time for
# peak RSS and CPU; stdout to OUTFILE; a row in $RES unless REP is "warm".
# Dies when CMD fails, unless its exit status is RUN_TOLERATE (when set):
# that run counts, and RUN_RC holds its status.
run() {
	local name=$1 rep=$2 out=$3
	shift 3
	local tf=$LOG/time.$$ t0 t1 rc=0 rss usr sys wall
	t0=$(now)
	"$TIME" -o "$tf" -f '%M %U %S' "$@" >"$out" 2>"$LOG/$name.err" || rc=$?
	t1=$(now)
	# shellcheck disable=SC2034 # read by the callers
	RUN_RC=$rc
	if [ $rc -ne 0 ] && [ "$rc" != "${RUN_TOLERATE:-}" ]; then
		cat "$LOG/$name.err" >&2
		[ "$out" = /dev/null ] || cat "$out" >&2
		die "$name failed (exit $rc): $*"
	fi
	read -r rss usr sys < <(tail -1 "$tf")
	wall=$(echo "$t1 - $t0" | bc)
	printf '  %-16s %-5s %8.3f s  %7d KiB  user %6.2f  sys %6.2f\n' "$name" "$rep" "$wall" "$rss" "$usr" "$sys"
	[ "$rep" = warm ] || printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$wall" "$rss" "$usr" "$sys" >>"$RES"
}

# make_snapshot PARTS DATABASES TABLES UTIL CONV SNAP REUSE: the benchmarks'
# data.  gen_export writes PARTS partitions over DATABASES databases and
# TABLES tables in the AWS utility's layout into UTIL; metasync turns them
# into a snapshot with a manifest in the store SNAP (import
# --allow-no-manifest into the sqlite catalog CONV, export, CONV deleted).
# With REUSE 1, an earlier run's UTIL and SNAP are kept when both are
# complete.  Needs GEN, MS, LOG and SRC_ID; sets SNAPDIR (the snapshot) and
# PFILES (its partition part files), and checks they hold PARTS lines.
make_snapshot() {
	local parts=$1 dbs=$2 tables=$3 util=$4 conv=$5 snap=$6 reuse=$7 t0 udir lines
	if [ "$reuse" = 1 ] && [ -e "$util/.complete" ] && [ -e "$snap/.complete" ]; then
		say "reusing $util and $snap"
	else
		say "generate $parts partitions in the AWS utility's layout ($dbs databases, $tables tables)"
		rm -rf "$util" "$snap" "$conv" "$conv-wal" "$conv-shm"
		t0=$(now)
		"$GEN" "$util" "$parts" "$dbs" "$tables"
		touch "$util/.complete"
		printf 'generated in %.1f s\n' "$(echo "$(now) - $t0" | bc)"

		say "convert to a metasync snapshot (import --allow-no-manifest, export)"
		udir=$(ls -d "$util"/????-??-??-??-??-??)
		t0=$(now)
		"$MS" import --input-path "$udir" --target "sqlite:$conv?catalog-id=$SRC_ID" \
			--allow-no-manifest --json >"$LOG/convert-import.json" ||
			die "import of the utility export failed: $(cat "$LOG/convert-import.json")"
		"$MS" export --source "sqlite:$conv?catalog-id=$SRC_ID" --output-path "$snap" \
			--json >"$LOG/convert-export.json" ||
			die "export of the conversion catalog failed: $(cat "$LOG/convert-export.json")"
		rm -f "$conv" "$conv-wal" "$conv-shm"
		touch "$snap/.complete"
		printf 'converted in %.1f s\n' "$(echo "$(now) - $t0" | bc)"
	fi
	SNAPDIR=$snap/$(cat "$snap/LATEST")
	[ -f "$SNAPDIR/manifest.json" ] || die "no manifest in $SNAPDIR"
	PFILES=("$SNAPDIR"/partitions/part-*.json)
	[ -f "${PFILES[0]}" ] || die "no partition part files in $SNAPDIR/partitions"
	lines=$(cat "${PFILES[@]}" | wc -l)
	[ "$lines" -eq "$parts" ] || die "snapshot has $lines partition lines, expected $parts"
}

# json_check FILE KIND FIELD COUNT: the --json report is ok and says COUNT KIND were FIELD.
json_check() {
	local f=$1 kind=$2 field=$3 n=$4
	grep -q '"status":"ok"' "$f" || die "$(basename "$f"): status is not ok: $(head -c 2000 "$f")"
	grep -q "\"$kind\":{[^}]*\"$field\":$n[,}]" "$f" ||
		die "$(basename "$f"): expected $n $kind $field: $(head -c 2000 "$f")"
}

# median NAME COLUMN (3 wall, 4 rss, 5 user, 6 sys) over $RES; fails when NAME has no row.
median() {
	awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$RES" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
maxof() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n && $c > m { m = $c } END { print m + 0 }' "$RES"; }

fmt() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
