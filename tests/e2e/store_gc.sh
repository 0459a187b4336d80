#!/usr/bin/env bash
# What exports killed outright leave behind, and who removes it:
#   killed    an export killed with SIGKILL leaves its snapshot folder
#             without _SUCCESS, its lock file and temporary files; `store gc
#             --dry-run` lists them (with the dead writer's pid) and removes
#             nothing;
#   live      with an export stopped (SIGSTOP) in the middle of its folder,
#             the cleanup of another export and `store gc --grace 0s` remove
#             what killed exports left and keep the live one's folder ("in
#             progress", its pid), which then finishes and imports;
#   export    a later export removes what a killed one left, and says so;
#   retention --keep-days and --keep remove old complete snapshots, never
#             LATEST's, a newer one, or one a kept snapshot builds on
#             (manifest parent), nor an export of the AWS utility or a
#             folder not named like a snapshot; --json counts; a link in the
#             store makes gc refuse (exit 4) and remove nothing;
#   s3        (with s3rver, scripts/test-servers.sh; ListMultipartUploads and
#             AbortMultipartUpload answered by tests/support/s3_proxy.js,
#             as s3rver lacks them) an export killed in the middle of a
#             multipart upload leaves the upload; gc aborts it (pages of
#             one upload each), leaves other prefixes' alone, removes an
#             incomplete folder only past the grace; a later export aborts
#             uploads older than the grace; s3rver itself answers
#             NotImplemented, which gc reports as a note.
# usage: store_gc.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: store_gc.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
REPO=${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-store-gc.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
CASE=setup
fail() {
	local f
	echo "FAIL: store_gc ($CASE): $*" >&2
	for f in "$T"/*.err "$T"/*.json "$T"/proxy*.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}
# Up to a minute (a ceiling against hangs): wait_for WHAT CMD...
wait_for() {
	local what=$1 i
	shift
	for i in $(seq 1 3000); do
		"$@" && return 0
		sleep 0.02
	done
	fail "timed out waiting for $what"
}
# committed DIR: a partition part file is in place (not only a temporary)
committed() { compgen -G "$1/*/partitions/part-*.json" >/dev/null; }
# Start an export of the big catalog to STORE in the background: EXPORT=pid.
start_export() { # STORE ERRFILE [FLAGS...]
	local store=$1 errf=$2
	shift 2
	"$M" export --source "$BIG" --output-path "$store" -q "$@" 2>"$errf" &
	EXPORT=$!
	PIDS+=("$EXPORT")
}
# The snapshot folder an export process is writing: the one without _SUCCESS.
incomplete() { # STORE
	local d
	for d in "$1"/*/; do
		[ -f "$d/_SUCCESS" ] || basename "$d"
	done
}

"$M" demo --dir "$T/demo" --partitions 30000 >"$T/demo.out" 2>&1 || fail "demo exited with $?"
BIG="sqlite:$T/demo/accounts.db?catalog-id=111111111111"

CASE=killed
S="$T/store"
start_export "$S" "$T/export1.err" --part-bytes 200000
wait_for "a committed partition file" committed "$S"
kill -KILL "$EXPORT"
wait "$EXPORT" 2>/dev/null || true
[ ! -f "$S/LATEST" ] || fail "the export finished before the kill"
DEAD=$(incomplete "$S")
[ -n "$DEAD" ] || fail "no incomplete folder after the kill"
[ -f "$S/$DEAD/.ms-tmp-lock" ] || fail "the killed export left no lock file"
grep -q "^pid $EXPORT on " "$S/$DEAD/.ms-tmp-lock" || fail "the lock file does not name pid $EXPORT"
compgen -G "$S/$DEAD/*/.ms-tmp-[0-9]*" >/dev/null || fail "the killed export left no temporary file"
find "$S" | sort >"$T/before"
"$M" store gc "$S" --dry-run --json >"$T/dry.json" 2>"$T/dry.err" || fail "gc --dry-run exited with $?"
find "$S" | sort | cmp -s - "$T/before" || fail "gc --dry-run changed the store"
jq -e --arg d "$DEAD/" --arg pid "$EXPORT" '.dry_run and
	([.items[] | select(.kind == "incomplete" and .key == $d and .action == "remove" and
		(.reason | test("its writer \\(pid " + $pid + " on ")))] | length) == 1 and
	([.items[] | select(.kind == "temporary" and .action == "remove" and
		(.key | startswith($d)))] | length) >= 1 and
	.removed.count == ([.items[] | select(.action == "remove")] | length)' "$T/dry.json" >/dev/null ||
	fail "gc --dry-run does not list the dead export's folder and temporaries: $(cat "$T/dry.json")"

CASE=live
# A live export, stopped (SIGSTOP) in the middle of its folder; then one
# more export killed: its cleanup keeps the live one's folder, and so does
# gc, which removes what the killed ones left.
# folder_of STORE PID: the folder whose lock names PID and which holds a
# committed partition file (prints it; fails when there is none yet)
folder_of() {
	local d
	for d in "$1"/*/; do
		grep -qs "^pid $2 on " "$d/.ms-tmp-lock" && compgen -G "$d/partitions/part-*.json" >/dev/null &&
			{ basename "$d"; return 0; }
	done
	return 1
}
start_export "$S" "$T/export2.err" --part-bytes 200000
LIVEPID=$EXPORT
wait_for "a live export to commit a partition file" folder_of "$S" "$LIVEPID" >/dev/null
kill -STOP "$LIVEPID"
LIVE=$(folder_of "$S" "$LIVEPID")
[ -z "$(incomplete "$S" | grep -vx "$LIVE")" ] ||
	fail "the live export's cleanup did not remove the killed one's folder"
start_export "$S" "$T/export3.err" --part-bytes 200000
wait_for "another export to commit a partition file" folder_of "$S" "$EXPORT" >/dev/null
kill -KILL "$EXPORT"
wait "$EXPORT" 2>/dev/null || true
DEAD=$(folder_of "$S" "$EXPORT")
[ -n "$DEAD" ] || fail "no folder of the killed export"
n_live=$(find "$S/$LIVE" -type f | wc -l)
"$M" store gc "$S" --grace 0s --json >"$T/live.json" 2>"$T/live.err" || fail "gc exited with $?"
[ ! -e "$S/$DEAD" ] || fail "the dead export's folder is still there: $(find "$S/$DEAD")"
[ "$(find "$S/$LIVE" -type f | wc -l)" = "$n_live" ] || fail "an export or gc touched the live export's folder"
jq -e --arg d "$LIVE/" --arg pid "$LIVEPID" '[.items[] | select(.key == $d and .action == "keep" and
	(.reason | test("in progress: .*being written by pid " + $pid + " on ")))] | length == 1' \
	"$T/live.json" >/dev/null || fail "gc does not say the live folder is in progress: $(cat "$T/live.json")"
jq -e --arg d "$LIVE/" '[.items[] | select((.key | startswith($d)) and .action == "remove")] | length == 0' \
	"$T/live.json" >/dev/null || fail "gc removed something of the live export"
kill -CONT "$LIVEPID"
st=0
wait "$LIVEPID" || st=$?
[ "$st" = 0 ] || fail "the live export exited with $st after gc"
[ "$(cat "$S/LATEST")" = "$LIVE" ] || fail "LATEST is not the live export's snapshot"
"$M" import --input-path "$S" --target "sqlite:$T/live.db?catalog-id=222222222222" --json >"$T/import.json" 2>"$T/import.err" ||
	fail "import of the live export's snapshot exited with $?"
[ "$(jq '.counts.partitions.created' "$T/import.json")" = 30000 ] || fail "the live export's snapshot lacks partitions"
[ -z "$(find "$S" -name '.ms-tmp-*')" ] || fail "temporaries left: $(find "$S" -name '.ms-tmp-*')"

CASE=export
start_export "$S" "$T/export4.err" --part-bytes 200000
wait_for "a fourth export to commit a partition file" folder_of "$S" "$EXPORT" >/dev/null
kill -KILL "$EXPORT"
wait "$EXPORT" 2>/dev/null || true
DEAD=$(folder_of "$S" "$EXPORT")
[ -n "$DEAD" ] || fail "no incomplete folder after the kill"
"$M" export --source "$BIG" --output-path "$S" 2>"$T/export5.err" >/dev/null || fail "the next export exited with $?"
grep -q "^metasync export: removed abandoned '$DEAD/' (.*) from '$S': incomplete and its writer (pid $EXPORT on " "$T/export5.err" ||
	fail "the next export did not say it removed '$DEAD/'"
# (the export may reuse the freed name, within the same second)
[ ! -e "$S/$DEAD" ] || [ "$(cat "$S/LATEST")" = "$DEAD" ] || fail "the next export left the killed one's folder"
[ -z "$(incomplete "$S")" ] || fail "incomplete folders left: $(incomplete "$S")"
[ -z "$(find "$S" -name '.ms-tmp-*')" ] || fail "temporaries left: $(find "$S" -name '.ms-tmp-*')"

CASE=retention
L1=$LIVE
L2=$(cat "$S/LATEST")
for id in 2020-01-01-00-00-00 2020-02-01-00-00-00 2020-03-01-00-00-00 2099-01-01-00-00-00; do
	cp -r "$S/$L1" "$S/$id"
done
set_parent() { # ID PARENT
	jq -c --arg p "$2" '.parent = $p' "$S/$1/manifest.json" >"$T/m" && mv "$T/m" "$S/$1/manifest.json"
}
set_parent "$L2" 2020-03-01-00-00-00
set_parent 2020-03-01-00-00-00 2020-01-01-00-00-00
cp -r "$FIX/utility-export/2017-04-04-09-00-00" "$S/"
mkdir -p "$S/notes"
echo "not a snapshot" >"$S/notes/readme.txt"
"$M" store gc "$S" --keep-days 30 --dry-run --json >"$T/days.json" 2>"$T/days.err" || fail "gc --keep-days exited with $?"
jq -e '[.items[] | select(.action == "remove") | .key] == ["2020-02-01-00-00-00/"] and
	(.items[0].reason | test("created more than 30d ago")) and .kept_snapshots == 5' "$T/days.json" >/dev/null ||
	fail "--keep-days 30 would not remove exactly 2020-02-01: $(cat "$T/days.json")"
[ -d "$S/2020-02-01-00-00-00" ] || fail "--dry-run removed a snapshot"
"$M" store gc "$S" --keep 1 --json >"$T/keep.json" 2>"$T/keep.err" || fail "gc --keep 1 exited with $?"
jq -e --arg l1 "$L1/" --arg l2 "$L2" '([.items[] | select(.action == "remove") | .key] | sort) ==
	([$l1, "2020-02-01-00-00-00/"] | sort) and .latest == $l2 and .kept_snapshots == 4 and
	.removed.count == 2 and .failed == 0' "$T/keep.json" >/dev/null ||
	fail "--keep 1 did not remove exactly '$L1' and 2020-02-01: $(cat "$T/keep.json")"
for d in "$L2" 2099-01-01-00-00-00 2020-03-01-00-00-00 2020-01-01-00-00-00 2017-04-04-09-00-00 notes; do
	[ -d "$S/$d" ] || fail "gc --keep 1 removed '$d'"
done
for d in "$L1" 2020-02-01-00-00-00; do
	[ ! -e "$S/$d" ] || fail "gc --keep 1 left '$d'"
done
"$M" import --input-path "$S" --target "sqlite:$T/after.db?catalog-id=333333333333" -q 2>"$T/after.err" ||
	fail "import after gc exited with $?"
ln -s /tmp "$S/a-link"
st=0
"$M" store gc "$S" --keep 1 >"$T/link.out" 2>"$T/link.err" || st=$?
[ "$st" = 4 ] || fail "gc on a store holding a link exited with $st, want 4"
grep -q "store path '$S/a-link' is a symbolic link" "$T/link.err" || fail "gc did not name the link"
[ -d "$S/2099-01-01-00-00-00" ] || fail "gc removed something after meeting a link"
rm "$S/a-link"

CASE=s3
if [ -z "${MS_TEST_S3_ENDPOINT:-}" ]; then
	echo "store_gc: s3 part skipped: MS_TEST_S3_ENDPOINT is not set (scripts/test-servers.sh)"
	echo "store_gc: ok"
	exit 0
fi
B=metasync-test
P="e2e-gc-$$-$RANDOM"
aws_() { /usr/bin/aws --endpoint-url "$1" "${@:2}"; }
start_proxy() { # NAME ARGS...: PROXY=endpoint
	local name=$1 i
	shift
	node "$REPO/tests/support/s3_proxy.js" --target "$MS_TEST_S3_ENDPOINT" --log "$T/$name.log" \
		--uploads 1 "$@" >"$T/$name.out" 2>&1 &
	PIDS+=($!)
	# node starts slowly on a loaded machine: up to a minute, as wait_for
	for i in $(seq 1 1200); do
		grep -q listening "$T/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	PROXY=http://127.0.0.1:$(sed -n 's/listening on //p' "$T/$name.out")
	[ "$PROXY" != "http://127.0.0.1:" ] || fail "the proxy did not start"
}
start_proxy proxy --uploads-page 1
E=$PROXY
U="s3://$B/$P/store?endpoint=$E&part-size=5M"
# An export killed while its partition file goes up as a multipart upload.
MS_S3_TRACE=1 "$M" export --source "$BIG" --output-path "$U" -q 2>"$T/s3export.err" &
EXPORT=$!
PIDS+=("$EXPORT")
wait_for "a part of a multipart upload" grep -q "PUT $P/store/.*/partitions/part-00000.json ?partNumber=1&uploadId=.* -> 200" "$T/s3export.err"
kill -KILL "$EXPORT"
wait "$EXPORT" 2>/dev/null || true
# One more upload in the store, one under another prefix, and an incomplete
# folder written by hand.
for k in "$P/store/2026-01-01-00-00-02/partitions/part-00000.json" "$P-other/x/part-00000.json"; do
	aws_ "$E" s3api create-multipart-upload --bucket "$B" --key "$k" >/dev/null ||
		fail "create-multipart-upload of '$k' failed"
done
echo '{}' >"$T/part.json"
aws_ "$E" s3 cp --quiet "$T/part.json" "s3://$B/$P/store/2026-01-01-00-00-00/databases/part-00000.json" ||
	fail "aws s3 cp failed"
"$M" store gc "$U" --json >"$T/s3dry.json" 2>"$T/s3dry.err" || fail "gc on s3 exited with $?"
jq -e '.removed.count == 0 and ([.items[] | select(.key == "2026-01-01-00-00-00/" and .action == "keep" and
	(.reason | test("no writer recorded, last written .* ago: kept until nothing is written for 24h")))] | length) == 1' \
	"$T/s3dry.json" >/dev/null || fail "gc with the default grace removed or did not keep a young folder: $(cat "$T/s3dry.json")"
"$M" store gc "$U" --grace 0s --json >"$T/s3gc.json" 2>"$T/s3gc.err" || fail "gc --grace 0s on s3 exited with $?"
jq -e '([.items[] | select(.kind == "upload" and .action == "remove" and
		(.key | test("^[0-9-]+/partitions/part-00000.json$")))] | length) == 2 and
	([.items[] | select(.kind == "incomplete" and .action == "remove" and .key == "2026-01-01-00-00-00/")] | length) == 1 and
	.failed == 0' "$T/s3gc.json" >/dev/null || fail "gc --grace 0s did not abort the upload and remove the folder: $(cat "$T/s3gc.json")"
grep -q "uploads abort $P/store/.*/partitions/part-00000.json" "$T/proxy.log" || fail "no AbortMultipartUpload reached the server"
grep -q "uploads list $P/store/: 1 of 2" "$T/proxy.log" || fail "the uploads were not listed a page at a time"
[ -z "$(aws_ "$E" s3 ls --recursive "s3://$B/$P/store/2026-01-01-00-00-00/")" ] || fail "the incomplete folder is still there"
n=$(aws_ "$E" s3api list-multipart-uploads --bucket "$B" --prefix "$P" --query 'length(Uploads)' --output text)
[ "$n" = 1 ] || fail "$n uploads left under '$P', want 1 (the other prefix's)"
# A later export aborts uploads older than the grace (this proxy makes them look a day old).
start_proxy proxy2 --uploads-age 90000
aws_ "$PROXY" s3api create-multipart-upload --bucket "$B" --key "$P/store2/2026-01-01-00-00-00/partitions/part-00000.json" >/dev/null ||
	fail "create-multipart-upload failed"
"$M" export --source "sqlite:$T/demo/accounts.db?catalog-id=111111111111" --database-names hr_people \
	--output-path "s3://$B/$P/store2?endpoint=$PROXY" 2>"$T/s3export2.err" >/dev/null || fail "the next export exited with $?"
grep -q "^metasync export: removed abandoned '2026-01-01-00-00-00/partitions/part-00000.json' (0 B) from 's3://$B/$P/store2?endpoint=.*': an unfinished multipart upload started at " "$T/s3export2.err" ||
	fail "the next export did not abort the old upload"
# s3rver itself: NotImplemented is a note, not an error.
"$M" store gc "s3://$B/$P/store?endpoint=$MS_TEST_S3_ENDPOINT" --json >"$T/s3rver.json" 2>"$T/s3rver.err" ||
	fail "gc against s3rver exited with $?"
jq -e '.note | test("does not list multipart uploads \\(NotImplemented\\)")' "$T/s3rver.json" >/dev/null ||
	fail "gc against s3rver does not note NotImplemented: $(cat "$T/s3rver.json")"
echo "store_gc: ok"
