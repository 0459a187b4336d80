#!/usr/bin/env bash
# s3:// under faults: exports through tests/support/s3_proxy.js, which answers
# 503 SlowDown or drops the connection (before or after s3rver has acted) at
# random.  Every export must end either complete (its snapshot imports and
# matches the source) or with a clean error (non-zero exit, one line on
# stderr naming the bucket); and after every run, whatever LATEST names and
# every snapshot with a root _SUCCESS must be complete: no reader may ever
# take a half-written snapshot for a whole one.  Some runs allow metasync its
# retries, some allow one attempt per request, so that both endings happen.
# Skipped (77) without s3rver (scripts/test-servers.sh exports MS_TEST_S3_ENDPOINT).
# usage: s3_faults.sh PATH-TO-METASYNC
set -u
M=${1:?usage: s3_faults.sh PATH-TO-METASYNC}
REPO=${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNS=${MS_S3_FAULT_RUNS:-8}
if [ -z "${MS_TEST_S3_ENDPOINT:-}" ]; then
	echo "s3_faults: MS_TEST_S3_ENDPOINT is not set (scripts/test-servers.sh): skipped"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-s3-faults.XXXXXX")
PROXY_PID=
cleanup() {
	[ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: s3_faults: $*" >&2
	for f in "$T"/*.err; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 5 "$f" >&2; }
	done
	exit 1
}

SEED=${MS_S3_FAULT_SEED:-$(( $$ * 7919 + RANDOM ))}
echo "s3_faults: seed $SEED (MS_S3_FAULT_SEED to repeat)"
node "$REPO/tests/support/s3_proxy.js" --target "$MS_TEST_S3_ENDPOINT" --fail 0.08 --drop 0.08 \
	--seed "$SEED" --log "$T/proxy.log" >"$T/proxy.out" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 1200); do # node starts slowly on a loaded machine: up to a minute
	grep -q listening "$T/proxy.out" 2>/dev/null && break
	sleep 0.05
done
E=http://127.0.0.1:$(sed -n 's/listening on //p' "$T/proxy.out")
[ "$E" != "http://127.0.0.1:" ] || fail "the proxy did not start"
B=metasync-test
P=faults-$$-$RANDOM
DIRECT="s3://$B/$P?endpoint=$MS_TEST_S3_ENDPOINT"

# 6000 partitions: the partition file (8.7 MB) goes up in two 5 MiB parts.
"$M" demo --dir "$T/demo" --partitions 6000 >"$T/demo.out" 2>"$T/demo.err" || fail "demo failed"
SRC="sqlite:$T/demo/accounts.db?catalog-id=111111111111"

# Import SNAPSHOT-URL (read without faults) and check it holds the whole source.
check_complete() {
	local what=$1 url=$2 db=$T/check-$RANDOM.db
	"$M" import --input-path "$url" --target "sqlite:$db?catalog-id=222222222222" --json \
		>"$T/check.json" 2>"$T/check.err" || fail "$what does not import"
	[ "$(jq '.counts.partitions.created' "$T/check.json")" -eq 6000 ] &&
		[ "$(jq '.counts.tables.created' "$T/check.json")" -eq 160 ] ||
		fail "$what is incomplete: $(jq -c .counts "$T/check.json")"
	rm -f "$db"
}

ok=0 failed=0
for run in $(seq 1 "$RUNS"); do
	if [ $((run % 2)) -eq 1 ]; then attempts=6; else attempts=1; fi
	url="s3://$B/$P?endpoint=$E&part-size=5M&attempts=$attempts"
	if "$M" export --source "$SRC" --output-path "$url" -q >"$T/run.out" 2>"$T/run.err"; then
		ok=$((ok + 1))
	else
		failed=$((failed + 1))
		[ "$(wc -l <"$T/run.err")" -eq 1 ] ||
			fail "run $run: a failed export printed $(wc -l <"$T/run.err") lines, not one"
		grep -q "^metasync" "$T/run.err" || fail "run $run: the error does not start with 'metasync'"
		grep -q "bucket '$B'" "$T/run.err" || fail "run $run: the error does not name the bucket"
		cp "$T/run.err" "$T/last-failure.txt"
	fi
	# Whatever looks complete is complete (read directly, without faults); a
	# snapshot with _SUCCESS never changes, so each is checked once.
	if aws_out=$(/usr/bin/aws --endpoint-url "$MS_TEST_S3_ENDPOINT" s3 ls --recursive "s3://$B/$P/" 2>/dev/null); then
		for snap in $(printf '%s\n' "$aws_out" | awk '{print $4}' | sed -n "s|^$P/\([^/]*\)/_SUCCESS\$|\1|p"); do
			grep -qxF "$snap" "$T/checked" 2>/dev/null && continue
			check_complete "run $run: snapshot '$snap' (has _SUCCESS)" "s3://$B/$P/$snap?endpoint=$MS_TEST_S3_ENDPOINT"
			echo "$snap" >>"$T/checked"
		done
		if printf '%s\n' "$aws_out" | grep -q " $P/LATEST\$"; then
			latest=$(/usr/bin/aws --endpoint-url "$MS_TEST_S3_ENDPOINT" s3 cp "s3://$B/$P/LATEST" - 2>/dev/null)
			grep -qxF "$latest" "$T/checked" ||
				fail "run $run: LATEST names '$latest', which has no _SUCCESS"
		fi
	fi
done
faults=$(grep -c "^fault" "$T/proxy.log" 2>/dev/null || echo 0)
echo "s3_faults: $RUNS exports: $ok complete, $failed failed cleanly; $faults faults injected"
[ "$faults" -gt 0 ] || fail "no fault was injected"
grep -q "^refused" "$T/proxy.log" && fail "the proxy refused a request metasync signed"
[ "$ok" -gt 0 ] || fail "no export completed despite retries"
[ -f "$T/last-failure.txt" ] && echo "s3_faults: a clean failure: $(cat "$T/last-failure.txt")"
echo "s3_faults: ok"
