#!/usr/bin/env bash
# metasync demo --glue end to end: the three accounts behind an in-process
# `metasync serve`, the agents and the verification on glue:// with keys made
# for the run.  The first run replicates and verifies both targets and says
# it ran over the Glue API; `metasync verify` agrees on the server's catalog
# file; the keys files are mode 600 and no secret of them appears in any
# output or other file of the demo; the user's own AWS settings play no part;
# a second run changes nothing and says so (with new keys); a deleted replica
# is recreated; the embedded demo in the same directory is unaffected.
# usage: demo_glue.sh PATH-TO-METASYNC
set -u

BIN=${1:?usage: demo_glue.sh PATH-TO-METASYNC}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/metasync-demo-glue-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
DIR="$TMP/demo dir" # a space, to keep paths honest
G="$DIR/glue"
N=3000

fail() {
	echo "FAIL: demo_glue.sh: $*" >&2
	for f in "$TMP"/*.out "$TMP"/*.err "$G/serve.log"; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 60 "$f" >&2; }
	done
	exit 1
}

expect_line() { # FILE TEXT
	grep -qF -- "$2" "$1" || fail "expected '$2' in $(basename "$1")"
}

mode_of() { stat -c %a "$1"; }

# no_secrets RUN: no secret of the keys files of the run that just ended in
# anything the demo printed or wrote besides those two files
no_secrets() {
	local s n=0
	[ "$(mode_of "$G/accounts.yaml")" = 600 ] || fail "$1: accounts.yaml has mode $(mode_of "$G/accounts.yaml")"
	[ "$(mode_of "$G/aws/credentials")" = 600 ] || fail "$1: aws/credentials has mode $(mode_of "$G/aws/credentials")"
	for s in $(sed -nE 's/^ *secret: "(.*)"$/\1/p' "$G/accounts.yaml"); do
		n=$((n + 1))
		grep -qF -- "aws_secret_access_key = $s" "$G/aws/credentials" ||
			fail "$1: a secret of accounts.yaml is not in aws/credentials"
		grep -rlaF -- "$s" "$TMP" | grep -vxF -e "$G/accounts.yaml" -e "$G/aws/credentials" >"$TMP/leaks" &&
			fail "$1: a secret appears in $(tr '\n' ' ' <"$TMP/leaks")"
	done
	[ "$n" = 3 ] || fail "$1: expected 3 secrets in accounts.yaml, found $n"
}

# The user's own AWS settings must play no part: keys in the environment, a
# profile that does not exist and a broken ~/.aws.
mkdir -p "$TMP/home/.aws"
echo "this is not an ini file" >"$TMP/home/.aws/config"
cp "$TMP/home/.aws/config" "$TMP/home/.aws/credentials"
demo() {
	env HOME="$TMP/home" AWS_ACCESS_KEY_ID=AKIAUSERSOWNKEY00000 AWS_SECRET_ACCESS_KEY=users-own-secret \
		AWS_PROFILE=no-such-profile AWS_ENDPOINT_URL=http://127.0.0.1:9 \
		"$BIN" demo --glue --dir "$DIR" --partitions $N "$@"
}

# 1. First run: generates, exports through glue://, imports through glue://, verifies.
demo >"$TMP/run1.out" 2>"$TMP/run1.err" || fail "first run exited with $?"
expect_line "$TMP/run1.out" "metasync demo: $DIR, $N partitions, over the Glue API"
grep -qE "^Glue API: metasync serve in this process at http://127\.0\.0\.1:[0-9]+, catalog $G/accounts.db" "$TMP/run1.out" ||
	fail "no line naming the server in run1.out"
expect_line "$TMP/run1.out" "verified: target 222222222222 matches source (25 databases, 160 tables, $N partitions)"
expect_line "$TMP/run1.out" "verified: target 333333333333 matches source (25 databases, 160 tables, $N partitions; databases as src_*)"
grep -qE "^over the Glue API: metasync serve at http://127\.0\.0\.1:[0-9]+ answered [1-9][0-9]* requests$" "$TMP/run1.out" ||
	fail "no summary of the server's requests in run1.out"
grep -qE "^  by operation: .*BatchCreatePartition [1-9]" "$TMP/run1.out" || fail "no partitions were written through the Glue API"
grep -q "nothing changed" "$TMP/run1.out" && fail "first run claims nothing changed"
for u in 111111111111 222222222222 333333333333; do
	grep -qE "catalog: \"glue://us-east-1\?endpoint=http://127\.0\.0\.1:[0-9]+&catalog-id=$u&profile=demo-$u&tables=8\"" "$TMP/run1.out" ||
		fail "the printed agent config has no glue:// URL for account $u"
done
[ -s "$G/store/LATEST" ] || fail "no snapshot store with LATEST in '$G/store'"
[ -s "$G/accounts.db" ] || fail "no catalog file '$G/accounts.db'"
[ -e "$DIR/accounts.db" ] && fail "--glue wrote the embedded demo's '$DIR/accounts.db'"
[ -s "$G/aws/config" ] && fail "aws/config is not empty"
no_secrets run1
key1=$(sed -nE 's/^ *- id: (AKIA[A-Z0-9]+)$/\1/p' "$G/accounts.yaml" | head -n1)

# 2. The server's catalog file agrees, read directly: every target account
#    holds replicas of the source account.
F="sqlite:$G/accounts.db"
"$BIN" verify --source "$F?catalog-id=111111111111" --target "$F?catalog-id=222222222222" >"$TMP/verify-a.out" 2>"$TMP/verify-a.err" ||
	fail "metasync verify of target 222222222222 exited with $?"
"$BIN" verify --source "$F?catalog-id=111111111111" --target "$F?catalog-id=333333333333" \
	--database-prefix src_ --json >"$TMP/verify-b.out" 2>"$TMP/verify-b.err" ||
	fail "metasync verify of target 333333333333 exited with $?"
expect_line "$TMP/verify-b.out" "\"partitions\":$N"

# 3. Second run: nothing to do, with new keys.
demo >"$TMP/run2.out" 2>"$TMP/run2.err" || fail "second run exited with $?"
expect_line "$TMP/run2.out" "source catalog already generated"
expect_line "$TMP/run2.out" "latest snapshot already matches the source"
expect_line "$TMP/run2.out" "nothing changed: both targets already match"
expect_line "$TMP/run2.out" "verified: target 222222222222 matches source"
expect_line "$TMP/run2.out" "verified: target 333333333333 matches source"
grep -q "BatchCreatePartition\|BatchUpdatePartition\|CreateTable\|UpdateTable" "$TMP/run2.out" &&
	fail "the second run wrote through the Glue API"
[ "$(ls "$G/store" | grep -vc LATEST)" = 1 ] || fail "second run wrote another snapshot"
key2=$(sed -nE 's/^ *- id: (AKIA[A-Z0-9]+)$/\1/p' "$G/accounts.yaml" | head -n1)
[ -n "$key1" ] && [ "$key1" != "$key2" ] || fail "the second run did not make new keys ('$key1', '$key2')"
no_secrets run2

# 3b. The config the demo prints runs its pipeline as an agent, with the
#     server and the profiles brought back as its comment says: the source
#     is unchanged, so it exports nothing.  (Skipped when the port has been
#     taken meanwhile.)
sed -n '/^# the agents of this run as one config/,/^nothing changed/p' "$TMP/run2.out" | sed '$d' >"$TMP/agent.yaml"
port=$(sed -nE 's/^#   metasync serve .* --listen 127\.0\.0\.1:([0-9]+) &$/\1/p' "$TMP/agent.yaml")
[ -n "$port" ] || fail "the printed config does not say how to start the server"
grep -qF "#   export AWS_SHARED_CREDENTIALS_FILE='$G/aws/credentials' AWS_CONFIG_FILE='$G/aws/config'" "$TMP/agent.yaml" ||
	fail "the printed config does not say where the profiles are"
"$BIN" serve --catalog "sqlite:$G/accounts.db" --accounts "$G/accounts.yaml" --listen "127.0.0.1:$port" 2>"$TMP/serve.err" &
spid=$!
for _ in $(seq 1 100); do
	grep -q "(port $port)" "$TMP/serve.err" 2>/dev/null && break
	kill -0 $spid 2>/dev/null || break
	sleep 0.1
done
if grep -q "(port $port)" "$TMP/serve.err"; then
	env HOME="$TMP/home" AWS_SHARED_CREDENTIALS_FILE="$G/aws/credentials" AWS_CONFIG_FILE="$G/aws/config" \
		"$BIN" agent --config "$TMP/agent.yaml" --once 2>"$TMP/agent.err"
	rc=$?
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	[ $rc = 0 ] || fail "the printed agent config: agent --once exited with $rc"
	expect_line "$TMP/agent.err" "source=analytics export=unchanged"
	grep -q "status=" "$TMP/agent.err" && fail "the printed config's targets imported again"
else
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	echo "demo_glue.sh: port $port taken since the demo ran: the printed config's run skipped"
fi
no_secrets "the printed config's run"

# 4. --json: one object that says verified, unchanged, and what the server answered.
demo --json >"$TMP/run3.out" 2>"$TMP/run3.err" || fail "--json run exited with $?"
[ "$(wc -l <"$TMP/run3.out")" = 1 ] || fail "--json printed more than one line"
expect_line "$TMP/run3.out" '"verified":true'
expect_line "$TMP/run3.out" '"changed":false'
grep -qE '"glue":\{"endpoint":"http://127\.0\.0\.1:[0-9]+","accounts":"[^"]*","requests":[1-9]' "$TMP/run3.out" ||
	fail "--json has no glue object with requests"
no_secrets run3

# 5. A replica deleted in a target (in the server's file) is recreated through the API.
"$BIN" catalog rm "$F?catalog-id=222222222222" sales_curated store_dim >"$TMP/rm.out" 2>"$TMP/rm.err" ||
	fail "catalog rm exited with $?"
demo >"$TMP/run4.out" 2>"$TMP/run4.err" ||
	fail "run after a deleted replica exited with $? (the import should recreate it)"
expect_line "$TMP/run4.out" "verified: target 222222222222 matches source"
grep -qE "^  by operation: .*CreateTable [1-9]" "$TMP/run4.out" || fail "the deleted table was not created through the Glue API"
no_secrets run4

# 6. The embedded demo in the same directory is its own: it runs, leaves the
#    --glue files alone, and the --glue run after it still changes nothing.
sum_before=$(md5sum "$G/accounts.yaml" | cut -d' ' -f1)
"$BIN" demo --dir "$DIR" --partitions $N >"$TMP/run5.out" 2>"$TMP/run5.err" || fail "the embedded demo exited with $?"
expect_line "$TMP/run5.out" "metasync demo: $DIR, $N partitions"
grep -q "Glue API" "$TMP/run5.out" && fail "the embedded demo mentions the Glue API"
expect_line "$TMP/run5.out" "verified: target 222222222222 matches source (25 databases, 160 tables, $N partitions)"
[ "$(md5sum "$G/accounts.yaml" | cut -d' ' -f1)" = "$sum_before" ] || fail "the embedded demo touched glue/accounts.yaml"
demo >"$TMP/run6.out" 2>"$TMP/run6.err" || fail "--glue after the embedded demo exited with $?"
expect_line "$TMP/run6.out" "nothing changed: both targets already match"
no_secrets run6

echo "ok: demo_glue.sh"
exit 0
