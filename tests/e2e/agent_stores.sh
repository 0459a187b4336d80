#!/usr/bin/env bash
# Which stores a target reads snapshots from (stores: in its config), on the
# embedded bus:
#   refused   a target whose stores: do not hold the announced snapshot
#             dead-letters the event at once (one attempt), publishes an
#             error event naming the snapshot and why, imports nothing and
#             exits 1 with --once; one that lists the store imports it;
#   link      a snapshot folder that is a symbolic link inside an accepted
#             store is refused the same way;
#   s3        (with s3rver, scripts/test-servers.sh) a snapshot on an
#             S3-compatible server, announced as s3://BUCKET/KEY (no
#             endpoint, as every event), is imported by a target whose
#             stores: entry gives the endpoint, region and profile, with no
#             AWS_ENDPOINT_URL and no keys in the environment; and by a
#             target in the same file as the source that exports there (the
#             default: the source's own store and settings).
# usage: agent_stores.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: agent_stores.sh PATH-TO-METASYNC}
FIX=${MS_FIXTURES:-$(cd "$(dirname "$0")/../fixtures" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-agent-stores.XXXXXX")
trap 'rm -rf "$T"' EXIT
TEST=agent_stores
. "$(dirname "$0")/../support/e2e.sh"
events() { # BUS STREAM: one JSON event per line
	"$M" bus read --bus "$1" --stream "$2" | jq -c '.data | fromjson'
}
tables() { "$M" catalog ls "$1" "$2" --json | jq -r '.[]' | sort | tr '\n' ' '; }
once() { # CONFIG LOG WANT [ENV...]
	local st=0 cfg=$1 log=$2 want=$3
	shift 3
	env "$@" "$M" agent --config "$cfg" --once 2>"$log" || st=$?
	[ "$st" -eq "$want" ] || fail "agent --once exited with $st, want $want"
}

SRC_ID=111111111111
S="sqlite:$T/src.db?catalog-id=$SRC_ID"
for f in "$FIX"/rich/*.json; do "$M" catalog put "$S" <"$f" || fail "catalog put exited with $?"; done

CASE=refused
BUS="embedded:$T/bus.db"
"$M" export --source "$S" --output-path "$T/store" --notify "$BUS" -q || fail "export exited with $?"
ID=$(cat "$T/store/LATEST")
mkdir -p "$T/other"
cat >"$T/refused.yaml" <<EOF
bus: $BUS
targets:
  - name: refused
    catalog: sqlite:$T/refused.db?catalog-id=222222222222
    stores: ["$T/other"]
EOF
once "$T/refused.yaml" "$T/refused.log" 1
grep -qE "target=refused event [0-9]+ dead-lettered after 1 attempts: snapshot '$T/store/$ID' is refused: it is in none of the stores target 'refused' accepts \($T/other\)" "$T/refused.log" ||
	fail "no dead letter after one attempt naming the snapshot and why"
n=$(events "$BUS" errors | jq -c "select(.data.stage == \"event\" and .data.snapshot == \"$T/store/$ID\" and (.data.message | test(\"in none of the stores\")))" | wc -l)
[ "$n" = 1 ] || fail "$n error events naming the refused snapshot, want 1"
[ "$(events "$BUS" results | wc -l)" = 0 ] || fail "a refused snapshot has import results"
{ [ ! -e "$T/refused.db" ] ||
	[ "$("$M" catalog ls "sqlite:$T/refused.db?catalog-id=222222222222" --json)" = "[]" ]; } ||
	fail "the refused snapshot was imported"
# The same store listed: imported.
cat >"$T/listed.yaml" <<EOF
bus: $BUS
targets:
  - name: listed
    catalog: sqlite:$T/listed.db?catalog-id=333333333333
    stores: ["$T/other", "file://$T/store/"]
EOF
once "$T/listed.yaml" "$T/listed.log" 0
[ "$(tables "sqlite:$T/listed.db?catalog-id=333333333333" finance)" = "ledger " ] ||
	fail "the listed store's snapshot was not imported"

CASE=link
BUS2="embedded:$T/bus2.db"
mkdir -p "$T/store2" "$T/elsewhere"
cp -r "$T/store/$ID" "$T/elsewhere/"
ln -s "$T/elsewhere/$ID" "$T/store2/$ID"
"$M" publish --bus "$BUS2" --snapshot "$T/store2/$ID" -q || fail "publish exited with $?"
sed -e "s#$BUS#$BUS2#" -e "s#file://$T/store/#$T/store2#" "$T/listed.yaml" >"$T/link.yaml"
once "$T/link.yaml" "$T/link.log" 1
grep -q "dead-lettered after 1 attempts: snapshot '$T/store2/$ID' is refused: '$T/store2/$ID' is a symbolic link" "$T/link.log" ||
	fail "a linked snapshot folder was not refused"

CASE=s3
if [ -z "${MS_TEST_S3_ENDPOINT:-}" ]; then
	echo "agent_stores: s3 part skipped: MS_TEST_S3_ENDPOINT is not set (scripts/test-servers.sh)"
	echo "agent_stores: ok"
	exit 0
fi
E=$MS_TEST_S3_ENDPOINT
PFX="e2e-agent-stores-$$-$RANDOM"
URL="s3://metasync-test/$PFX/store"
BUS3="embedded:$T/bus3.db"
# The keys live only in a profile of a credentials file of the test's own.
mkdir -p "$T/aws"
printf '[test]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}" >"$T/aws/credentials"
: >"$T/aws/config"
CLEAN_ENV=(-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE
	-u AWS_DEFAULT_PROFILE -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_REGION
	-u AWS_DEFAULT_REGION "AWS_SHARED_CREDENTIALS_FILE=$T/aws/credentials"
	"AWS_CONFIG_FILE=$T/aws/config" "HOME=$T")
"$M" export --source "$S" --output-path "$URL?endpoint=$E" --notify "$BUS3" -q || fail "export to s3 exited with $?"
SNAP=$(events "$BUS3" snapshots | jq -r '.data.snapshot')
[[ $SNAP == "$URL/"* ]] || fail "the event names '$SNAP', not a snapshot in '$URL'"
cat >"$T/s3.yaml" <<EOF
bus: $BUS3
targets:
  - name: s3target
    catalog: sqlite:$T/s3.db?catalog-id=444444444444
    follow: ["$SRC_ID"]
    stores:
      - { url: "s3://metasync-test/$PFX", endpoint: "$E", region: us-east-1, profile: test }
EOF
once "$T/s3.yaml" "$T/s3.log" 0 "${CLEAN_ENV[@]}"
grep -q "target=s3target snapshot=$SNAP status=ok" "$T/s3.log" || fail "the s3 snapshot was not imported"
[ "$(tables "sqlite:$T/s3.db?catalog-id=444444444444" sales_raw)" = "orders v_orders_eu " ] ||
	fail "the s3 target does not hold the source's tables"
n=$(events "$BUS3" results | jq -c "select(.type == \"io.metasync.import.succeeded\" and .data.snapshot == \"$SNAP\")" | wc -l)
[ "$n" = 1 ] || fail "$n import.succeeded naming '$SNAP', want 1"

# The default: a source and its target in one file; the target reads the
# source's store with the source's settings.
cat >"$T/pair.yaml" <<EOF
bus: embedded:$T/bus4.db
source:
  name: lake
  catalog: $S
  store: "$URL-pair?endpoint=$E&region=us-east-1&profile=test"
targets:
  - name: pair
    catalog: sqlite:$T/pair.db?catalog-id=555555555555
    follow: [lake]
EOF
once "$T/pair.yaml" "$T/pair.log" 0 "${CLEAN_ENV[@]}"
grep -q "target=pair snapshot=$URL-pair/.* status=ok" "$T/pair.log" || fail "the pair target did not import"
[ "$(tables "sqlite:$T/pair.db?catalog-id=555555555555" finance)" = "ledger " ] ||
	fail "the pair target does not hold the source's tables"
echo "agent_stores: ok"
