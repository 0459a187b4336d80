#!/usr/bin/env bash
# s3:// end to end, against s3rver behind tests/support/s3_proxy.js, which
# checks every request's SigV4 signature and payload hash (s3rver checks
# neither):
#   1. metasync exports a catalog to s3://; Debian's AWS CLI lists it and
#      downloads it intact (every file matches the manifest's sha256, and the
#      download imports); the partition file went up as a multipart upload
#      (its ETag ends in -N);
#   2. a local export uploaded with `aws s3 cp --recursive` imports from s3://
#      and the target matches the source;
#   3. wrong credentials, a missing bucket and an unreachable endpoint each
#      fail with one line naming the bucket, never the secret.
# Skipped (77) without s3rver (scripts/test-servers.sh exports MS_TEST_S3_ENDPOINT).
# usage: s3_roundtrip.sh PATH-TO-METASYNC
set -u
M=${1:?usage: s3_roundtrip.sh PATH-TO-METASYNC}
AWS=/usr/bin/aws
REPO=${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${MS_TEST_S3_ENDPOINT:-}" ]; then
	echo "s3_roundtrip: MS_TEST_S3_ENDPOINT is not set (scripts/test-servers.sh): skipped"
	exit 77
fi
[ -x "$AWS" ] || { echo "s3_roundtrip: $AWS missing (scripts/deps.sh test): skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-s3-e2e.XXXXXX")
PROXY_PID=
cleanup() {
	[ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: s3_roundtrip: $*" >&2
	for f in "$T"/*.err "$T"/proxy.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

node "$REPO/tests/support/s3_proxy.js" --target "$MS_TEST_S3_ENDPOINT" --log "$T/proxy.log" \
	>"$T/proxy.out" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 1200); do # node starts slowly on a loaded machine: up to a minute
	grep -q listening "$T/proxy.out" 2>/dev/null && break
	sleep 0.05
done
E=http://127.0.0.1:$(sed -n 's/listening on //p' "$T/proxy.out")
[ "$E" != "http://127.0.0.1:" ] || fail "the proxy did not start"
B=metasync-test
P=e2e-$$-$RANDOM
S3="s3://$B/$P"
aws_() { "$AWS" --endpoint-url "$MS_TEST_S3_ENDPOINT" "$@"; }

# A source catalog: the demo's, 6000 partitions (an 8.7 MB partition file).
"$M" demo --dir "$T/demo" --partitions 6000 >"$T/demo.out" 2>"$T/demo.err" || fail "demo failed"
SRC="sqlite:$T/demo/accounts.db?catalog-id=111111111111"

# 1. Export to s3://, 5 MiB parts.
MS_S3_TRACE=1 "$M" export --source "$SRC" --output-path "$S3/out?endpoint=$E&part-size=5M" -q \
	>"$T/export.out" 2>"$T/export.trace" || { cp "$T/export.trace" "$T/export.err"; fail "export to s3 failed"; }
aws_ s3 ls --recursive "$S3/out/" >"$T/ls.out" 2>"$T/ls.err" || fail "aws s3 ls failed"
for f in LATEST _SUCCESS manifest.json databases/part-00000.json tables/part-00000.json \
	partitions/part-00000.json partitions/_SUCCESS; do
	grep -q "/out/.*$f\$" "$T/ls.out" || fail "aws s3 ls does not list '$f'"
done
grep -q "\.ms-tmp-" "$T/ls.out" && fail "a temporary is visible"
aws_ s3 cp --recursive --quiet "$S3/out/" "$T/dl/" 2>"$T/cp.err" || fail "aws s3 cp down failed"
ID=$(cat "$T/dl/LATEST")
[ -f "$T/dl/$ID/_SUCCESS" ] || fail "LATEST names '$ID', which has no _SUCCESS"
jq -r '.files[] | "\(.sha256)  \(.path)"' "$T/dl/$ID/manifest.json" >"$T/sums"
[ "$(wc -l <"$T/sums")" -ge 3 ] || fail "the manifest lists too few files"
(cd "$T/dl/$ID" && sha256sum -c --quiet "$T/sums") >"$T/sha.err" 2>&1 ||
	fail "downloaded files do not match the manifest"
"$M" import --input-path "$T/dl" --target "sqlite:$T/a.db?catalog-id=222222222222" --json \
	>"$T/import-dl.json" 2>"$T/import-dl.err" || fail "the downloaded snapshot does not import"
[ "$(jq '.counts.partitions.created' "$T/import-dl.json")" -eq 6000 ] ||
	fail "the downloaded snapshot holds $(jq '.counts.partitions.created' "$T/import-dl.json") partitions, not 6000"
# Multipart: the 8.7 MB partition file went up in two 5 MiB parts (metasync's
# request trace; s3rver gives multipart objects a plain MD5 ETag, not "...-2").
PF="$P/out/$ID/partitions/part-00000.json"
grep -q "^metasync: s3 POST $PF ?uploads= -> 200" "$T/export.trace" || fail "no multipart upload started"
grep -q "^metasync: s3 PUT $PF ?partNumber=2&uploadId=.* -> 200" "$T/export.trace" || fail "no part 2 sent"
grep -q "^metasync: s3 POST $PF ?uploadId=.* -> 200" "$T/export.trace" || fail "multipart upload not completed"
grep -q "^metasync: s3 PUT $PF -> " "$T/export.trace" && fail "the partition file also went up in one PUT"
[ "$(aws_ s3api head-object --bucket "$B" --key "$PF" --query ContentLength --output text)" -eq \
	"$(stat -c %s "$T/dl/$ID/partitions/part-00000.json")" ] || fail "multipart object has the wrong size"
# Reading back through metasync (ranged GETs) gives the same catalog.
"$M" import --input-path "$S3/out?endpoint=$E" --target "sqlite:$T/b.db?catalog-id=222222222222" \
	--json >"$T/import-s3.json" 2>"$T/import-s3.err" || fail "import from s3 failed"
[ "$(jq '.counts.partitions.created' "$T/import-s3.json")" -eq 6000 ] || fail "import from s3: wrong count"

# 2. A local export uploaded by the AWS CLI imports from s3://.
"$M" export --source "$SRC" --output-path "$T/local" -q 2>"$T/export-local.err" ||
	fail "local export failed"
aws_ s3 cp --recursive --quiet "$T/local/" "$S3/up/" 2>"$T/cp-up.err" || fail "aws s3 cp up failed"
"$M" import --input-path "$S3/up?endpoint=$E" --target "sqlite:$T/c.db?catalog-id=333333333333" \
	--json >"$T/import-up.json" 2>"$T/import-up.err" || fail "import of the aws-uploaded snapshot failed"
[ "$(jq -r '.status' "$T/import-up.json")" = ok ] || fail "import of the aws-uploaded snapshot: not ok"
# The target matches: the local snapshot imported on top of it changes nothing.
"$M" import --input-path "$T/local" --target "sqlite:$T/c.db?catalog-id=333333333333" --json \
	>"$T/reimport.json" 2>"$T/reimport.err" || fail "re-import of the local snapshot failed"
[ "$(jq '[.counts[] | .created + .updated + .deleted] | add' "$T/reimport.json")" -eq 0 ] ||
	fail "the catalog imported from s3 differs from the local snapshot"
[ "$(jq '.counts.partitions.unchanged' "$T/reimport.json")" -eq 6000 ] || fail "partition count differs"
# Same content both ways: the snapshot metasync uploaded and the CLI's hold the same lines.
cmp <(cat "$T/dl/$ID"/partitions/part-*.json | sort) \
	<(cat "$T/local/$(cat "$T/local/LATEST")"/partitions/part-*.json | sort) >/dev/null ||
	fail "the s3 export and the local export differ"
# Temporary credentials: the session token goes along, signed (the proxy refuses an
# unsigned x-amz-* header).
AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLEtoken "$M" export --source "$SRC" --output-path "$S3/token?endpoint=$E" -q \
	>"$T/token.out" 2>"$T/token.err" || fail "export with a session token failed"
grep -q "^refused" "$T/proxy.log" 2>/dev/null && fail "the proxy refused a request metasync signed"

# 3. Clear errors.
one_line_error() { # NAME FILE: non-empty, one line, names the bucket
	[ "$(wc -l <"$2")" -eq 1 ] || fail "$1: expected one line on stderr, got $(wc -l <"$2")"
	grep -q "^metasync" "$2" || fail "$1: the error does not start with 'metasync'"
}
SECRET=wrong-secret-Zq8x1PpK3m
AWS_SECRET_ACCESS_KEY=$SECRET "$M" export --source "$SRC" --output-path "$S3/bad?endpoint=$E" -q \
	>"$T/badsecret.out" 2>"$T/badsecret.err" && fail "export with a wrong secret succeeded"
one_line_error "wrong secret" "$T/badsecret.err"
grep -q "bucket '$B'" "$T/badsecret.err" || fail "wrong secret: bucket not named"
grep -q "SignatureDoesNotMatch" "$T/badsecret.err" || fail "wrong secret: no S3 error code"
grep -qF "$SECRET" "$T"/badsecret.* && fail "the secret appears in the output"
AWS_ACCESS_KEY_ID=AKIAMETASYNCWRONGKEY AWS_SECRET_ACCESS_KEY=$SECRET \
	"$M" export --source "$SRC" --output-path "$S3/bad?endpoint=$MS_TEST_S3_ENDPOINT" -q \
	>"$T/badkey.out" 2>"$T/badkey.err" && fail "export with a wrong key id succeeded"
one_line_error "wrong key id" "$T/badkey.err"
grep -q "bucket '$B'" "$T/badkey.err" || fail "wrong key id: bucket not named"
grep -q "InvalidAccessKeyId" "$T/badkey.err" || fail "wrong key id: no S3 error code"
grep -qF "$SECRET" "$T"/badkey.* && fail "the secret appears in the output"
"$M" export --source "$SRC" --output-path "s3://metasync-no-such-bucket/x?endpoint=$E" -q \
	>"$T/nobucket.out" 2>"$T/nobucket.err" && fail "export to a missing bucket succeeded"
one_line_error "missing bucket" "$T/nobucket.err"
grep -q "'metasync-no-such-bucket'" "$T/nobucket.err" || fail "missing bucket: not named"
grep -q "NoSuchBucket" "$T/nobucket.err" || fail "missing bucket: no S3 error code"
"$M" import --input-path "s3://metasync-no-such-bucket/x?endpoint=$E" \
	--target "sqlite:$T/d.db?catalog-id=444444444444" >"$T/nobucket-in.out" 2>"$T/nobucket-in.err" &&
	fail "import from a missing bucket succeeded"
one_line_error "missing bucket (import)" "$T/nobucket-in.err"
grep -q "'metasync-no-such-bucket'" "$T/nobucket-in.err" || fail "missing bucket (import): not named"
"$M" export --source "$SRC" --output-path "$S3/x?endpoint=http://127.0.0.1:9&attempts=2" -q \
	>"$T/unreach.out" 2>"$T/unreach.err" && fail "export to an unreachable endpoint succeeded"
one_line_error "unreachable endpoint" "$T/unreach.err"
grep -q "bucket '$B'" "$T/unreach.err" || fail "unreachable: bucket not named"
grep -q "unreachable" "$T/unreach.err" || fail "unreachable: not said"

echo "s3_roundtrip: ok"
