# bench/lib.sh: what the benchmark scripts share (sourced, not run).
#
# The caller sets LOG (a directory for each command's stderr and GNU time's
# output), RES (the results file: one tab-separated row per timed run: name,
# rep, wall seconds, peak RSS KiB, user s, sys s) and TIME (GNU time).

die() { echo "bench: $*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }

# run NAME REP OUTFILE CMD...: wall clock around the process, GNU time for
# peak RSS and CPU; stdout to OUTFILE; a row in $RES unless REP is "warm".
run() {
	local name=$1 rep=$2 out=$3
	shift 3
	local tf=$LOG/time.$$ t0 t1 rc=0 rss usr sys wall
	t0=$(now)
	"$TIME" -o "$tf" -f '%M %U %S' "$@" >"$out" 2>"$LOG/$name.err" || rc=$?
	t1=$(now)
	if [ $rc -ne 0 ]; then
		cat "$LOG/$name.err" >&2
		[ "$out" = /dev/null ] || cat "$out" >&2
		die "$name failed (exit $rc): $*"
	fi
	read -r rss usr sys < <(tail -1 "$tf")
	wall=$(echo "$t1 - $t0" | bc)
	printf '  %-16s %-5s %8.3f s  %7d KiB  user %6.2f  sys %6.2f\n' "$name" "$rep" "$wall" "$rss" "$usr" "$sys"
	[ "$rep" = warm ] || printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$wall" "$rss" "$usr" "$sys" >>"$RES"
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
