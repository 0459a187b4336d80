#!/usr/bin/env bash
# The AWS credential sources that need a network (STS AssumeRole and
# AssumeRoleWithWebIdentity, the container endpoint, EC2 instance metadata)
# and the refresh of the temporary keys they hand out, against
# tests/support/aws/aws_stub.py: a LOCAL STUB of those three services, not
# AWS (which a test machine cannot reach).  The stub checks the SigV4
# credential scope and source key of AssumeRole, the container
# Authorization header and the IMDSv2 token, and logs every request, which
# the cases below read.  The keys metasync resolves
# (tests/support/aws/aws_creds_dump) must be the ones the stub issued; no
# metasync message may hold a secret.
# Usage: aws_creds_stubs.sh METASYNC (MS_AWS_CREDS_DUMP names the helper)
set -uo pipefail
TEST=aws_creds_stubs
DUMP=${MS_AWS_CREDS_DUMP:?set by tests/CMakeLists.txt}
STUB_PY=$(dirname "$0")/../support/aws/aws_stub.py
for tool in /usr/bin/python3 jq; do
	command -v "$tool" >/dev/null || {
		echo "$TEST: needs '$tool' (scripts/deps.sh test): skipped"
		exit 77
	}
done
T=$(mktemp -d)
STUB=
cleanup() {
	[ -z "$STUB" ] || kill_all "$STUB"
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/../support/e2e.sh"
H=$T/home
S=$T/stub
ROLE=arn:aws:iam::123456789012:role
SECRETS='sk-|tok-|web-identity-jwt|container-secret'

# start_stub: a fresh stub (state in $S) on a fresh HOME; sets PORT and URL
start_stub() {
	[ -z "$STUB" ] || kill_all "$STUB"
	rm -rf "$S" "$H"
	mkdir -p "$S" "$H/.aws"
	/usr/bin/python3 "$STUB_PY" "$S" >"$T/stub.log" 2>&1 &
	STUB=$!
	wait_for "the stub to listen" has_line "$T/stub.log" '^port [0-9]+'
	PORT=$(sed -nE 's/^port ([0-9]+)/\1/p' "$T/stub.log")
	URL=http://127.0.0.1:$PORT
}

# ms [--profile P] [--gets N] ... -- VAR=VALUE...: the helper with exactly these
# variables (instance metadata disabled unless a case points it at the stub);
# OUT, ERR, RC
ms() {
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	env -i PATH=/usr/bin:/bin HOME="$H" AWS_EC2_METADATA_DISABLED=true "$@" \
		"$DUMP" "${args[@]}" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	if grep -qE "$SECRETS" "$T/err"; then
		fail "a secret in metasync's message: $ERR"
	fi
}
ok() { [ "$RC" -eq 0 ] || fail "metasync failed: $ERR"; }
failed() {
	[ "$RC" -ne 0 ] || fail "metasync succeeded: $OUT"
	grep -qE -- "$1" <<<"$ERR" || fail "message '$ERR' does not say '$1'"
}
# field N NAME: NAME of output line N (1-based)
field() { sed -n "${1}p" <<<"$OUT" | jq -r ".$2"; }
# requests JQ-FILTER: the log's entries through the filter (-c)
requests() { jq -c "$1" "$S/requests.jsonl" 2>/dev/null; }
count() { requests "$1" | wc -l; }
# issued N: the Nth key the stub issued
issued() { requests 'select(.issued) | .issued' | sed -n "${1}p" | tr -d '"'; }

# role_files: profile r assumes role first with the keys of profile base
role_files() {
	echo AKIABASE >"$S/source-keys"
	printf '[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = sk-base\n' >"$H/.aws/credentials"
	printf '[profile r]\nrole_arn = %s/first\nsource_profile = base\n' "$ROLE" >"$H/.aws/config"
}
STS_ENV=()
sts_env() { STS_ENV=(AWS_ENDPOINT_URL_STS="$URL" AWS_REGION=eu-west-1); }

# --- AssumeRole with source_profile, and its parameters
CASE=assume_role_source_profile
start_stub
sts_env
echo AKIABASE >"$S/source-keys"
printf '[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = sk-base\n' >"$H/.aws/credentials"
cat >"$H/.aws/config" <<EOF
[profile r]
role_arn = $ROLE/first
source_profile = base
role_session_name = sess-1
external_id = ext-1
duration_seconds = 1800
[profile r2]
role_arn = $ROLE/second
source_profile = r
[profile bad]
role_arn = $ROLE/bad
source_profile = unknown
[unknown]
[profile unknown]
aws_access_key_id = AKIAUNKNOWN
aws_secret_access_key = sk-unknown
EOF
ms --profile r -- "${STS_ENV[@]}"
ok
[ "$(field 1 Source)" = assume-role ] || fail "source $(field 1 Source)"
[ "$(field 1 AccessKeyId)" = "$(issued 1)" ] || fail "not the issued key: $OUT"
[ "$(field 1 SessionToken)" = "tok-stub-0001" ] || fail "not the issued token"
[ "$(count 'select(.kind == "sts")')" -eq 1 ] || fail "not one STS call"
requests 'select(.action == "AssumeRole" and .key_id == "AKIABASE" and .region == "eu-west-1"
	and .params.RoleArn == "'"$ROLE"'/first" and .params.RoleSessionName == "sess-1"
	and .params.ExternalId == "ext-1" and .params.DurationSeconds == "1800")' | grep -q . ||
	fail "AssumeRole request: $(cat "$S/requests.jsonl")"

CASE=assume_role_two_hops
ms --profile r2 -- "${STS_ENV[@]}"
ok
[ "$(count 'select(.kind == "sts")')" -eq 3 ] || fail "not two more STS calls"
[ "$(field 1 AccessKeyId)" = "$(issued 3)" ] || fail "not the second hop's key"
requests 'select(.params.RoleArn == "'"$ROLE"'/second" and .key_id == "'"$(issued 2)"'"
	and .session_token_ok)' | grep -q . || fail "the second hop was not signed with the first's keys"
requests 'select(.params.RoleArn == "'"$ROLE"'/second") | .params.RoleSessionName' |
	grep -qE '"metasync-[0-9]+"' || fail "no default session name"

CASE=assume_role_unknown_source_key
ms --profile bad -- "${STS_ENV[@]}"
failed "AssumeRole of role '$ROLE/bad'.*HTTP 403 InvalidClientTokenId"

CASE=assume_role_credential_source_environment
start_stub
sts_env
echo AKIAENVSRC >"$S/source-keys"
printf '[profile e]\nrole_arn = %s/env\ncredential_source = Environment\n' "$ROLE" >"$H/.aws/config"
ms --profile e -- "${STS_ENV[@]}" AWS_ACCESS_KEY_ID=AKIAENVSRC AWS_SECRET_ACCESS_KEY=sk-envsrc
ok
[ "$(field 1 AccessKeyId)" = "$(issued 1)" ] || fail "not the issued key"
requests 'select(.key_id == "AKIAENVSRC")' | grep -q . || fail "not signed with the environment's key"

CASE=assume_role_credential_source_container_and_imds
printf '[profile c]\nrole_arn = %s/c\ncredential_source = EcsContainer\n' "$ROLE" >>"$H/.aws/config"
printf '[profile i]\nrole_arn = %s/i\ncredential_source = Ec2InstanceMetadata\n' "$ROLE" >>"$H/.aws/config"
ms --profile c -- "${STS_ENV[@]}" AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/task"
ok
requests 'select(.params.RoleArn == "'"$ROLE"'/c" and .key_id == "'"$(issued 2)"'")' | grep -q . ||
	fail "not signed with the container's keys"
ms --profile i -- "${STS_ENV[@]}" AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL"
ok
requests 'select(.params.RoleArn == "'"$ROLE"'/i" and .key_id == "'"$(issued 4)"'")' | grep -q . ||
	fail "not signed with the instance's keys"

# --- Web identity
CASE=web_identity_environment
start_stub
sts_env
printf 'web-identity-jwt' >"$S/web-token"
cp "$S/web-token" "$T/token"
printf '[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = sk-file\n' >"$H/.aws/credentials"
ms -- "${STS_ENV[@]}" AWS_ROLE_ARN="$ROLE/wi" AWS_WEB_IDENTITY_TOKEN_FILE="$T/token" AWS_ROLE_SESSION_NAME=wi-sess
ok
# As in the AWS CLI, web identity comes before the credentials file.
[ "$(field 1 Source)" = web-identity ] || fail "source $(field 1 Source)"
[ "$(field 1 AccessKeyId)" = "$(issued 1)" ] || fail "not the issued key"
requests 'select(.action == "AssumeRoleWithWebIdentity" and (.signed | not)
	and .params.RoleSessionName == "wi-sess")' | grep -q . || fail "web identity request"

CASE=web_identity_profile
printf '[profile w]\nrole_arn = %s/wp\nweb_identity_token_file = %s\n' "$ROLE" "$T/token" >"$H/.aws/config"
ms --profile w -- "${STS_ENV[@]}"
ok
[ "$(field 1 AccessKeyId)" = "$(issued 2)" ] || fail "not the issued key"

CASE=web_identity_bad_token
printf 'another-jwt' >"$T/token"
ms --profile w -- "${STS_ENV[@]}"
failed "AssumeRoleWithWebIdentity of role '$ROLE/wp'.*InvalidIdentityToken"

# --- The container endpoint
CASE=container_relative_uri
start_stub
printf 'container-secret-1' >"$S/container-token"
# The relative URI goes to http://169.254.170.2, here through the stub as a proxy.
ms -- AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc http_proxy="$URL" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN=container-secret-1
ok
[ "$(field 1 Source)" = container ] || fail "source $(field 1 Source)"
[ "$(field 1 AccessKeyId)" = "$(issued 1)" ] || fail "not the issued key"
requests 'select(.kind == "container" and .host == "169.254.170.2" and .path == "/v2/credentials/abc")' |
	grep -q . || fail "not the container endpoint's address"

CASE=container_full_uri_token_file
printf 'container-secret-1\n' >"$T/ctoken"
ms -- AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/ctoken" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN=container-secret-wrong
ok
[ "$(field 1 AccessKeyId)" = "$(issued 2)" ] || fail "not the issued key"

CASE=container_wrong_token
ms -- AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/creds" AWS_CONTAINER_AUTHORIZATION_TOKEN=container-secret-2
failed "container credentials at '$URL/creds': HTTP 401"

CASE=container_host_not_allowed
ms -- AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1:$PORT/creds"
failed "neither https nor http to a loopback"

# --- Instance metadata (IMDSv2)
CASE=imds_v2
start_stub
ms -- AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL/"
ok
[ "$(field 1 Source)" = instance-metadata ] || fail "source $(field 1 Source)"
[ "$(field 1 AccessKeyId)" = "$(issued 1)" ] || fail "not the issued key"
[ "$(requests '.kind' | head -n1)" = '"imds-token"' ] || fail "no token first"
[ "$(count 'select(.kind == "imds" and .status == 200)')" -eq 2 ] || fail "not two GETs with the token"
[ "$(count 'select(.status == 401)')" -eq 0 ] || fail "a GET without the token"

CASE=imds_unreachable
kill_all "$STUB"
STUB=
start=$(date +%s)
ms -- AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL"
failed "no aws credentials for the test: looked at the environment.*instance metadata \(no answer\)"
[ $(($(date +%s) - start)) -lt 10 ] || fail "took more than 10 s to give up"
ms --
failed "instance metadata \(disabled by AWS_EC2_METADATA_DISABLED\)"

# --- Caching and refresh
CASE=cached_not_refreshed
start_stub
sts_env
role_files
ms --profile r --gets 3 -- "${STS_ENV[@]}"
ok
[ "$(count 'select(.kind == "sts")')" -eq 1 ] || fail "keys valid for an hour were fetched again"
[ "$(sort -u <<<"$OUT" | wc -l)" -eq 1 ] || fail "different keys from the cache"

CASE=advisory_refresh
start_stub
sts_env
role_files
echo 660 >"$S/expire-in" # 11 minutes: inside the 15-minute advisory window
ms --profile r --gets 3 -- "${STS_ENV[@]}"
ok
# One call at open, then one refresh at each get.
[ "$(count 'select(.kind == "sts")')" -eq 4 ] || fail "not refreshed at each get"
for n in 1 2 3; do
	[ "$(field $n AccessKeyId)" = "$(issued $((n + 1)))" ] || fail "get $n has not the refreshed key"
done

CASE=mandatory_refresh_fails_keys_still_valid
start_stub
sts_env
role_files
echo 300 >"$S/expire-in" # 5 minutes: inside the 10-minute mandatory window
echo 1 >"$S/fail-after"
ms --profile r --gets 3 -- "${STS_ENV[@]}"
ok
[ "$(count 'select(.kind == "sts")')" -eq 2 ] || fail "not one failed refresh (then a pause)"
[ "$(count 'select(.kind == "sts" and .status == 403)')" -eq 1 ] || fail "the refresh did not fail"
[ "$(sort -u <<<"$OUT" | wc -l)" -eq 1 ] || fail "the still-valid keys were not kept"

CASE=expired_and_refresh_fails
start_stub
sts_env
role_files
echo 2 >"$S/expire-in"
echo 1 >"$S/fail-after"
ms --profile r --gets 2 --sleep-ms 3000 -- "${STS_ENV[@]}"
failed "AssumeRole of role '$ROLE/first'.*AccessDenied"
[ "$(wc -l <<<"$OUT")" -eq 1 ] || fail "not one get before the failure"

CASE=refresh_threads
start_stub
sts_env
role_files
echo 660 >"$S/expire-in"
ms --profile r --gets 5 --threads 8 -- "${STS_ENV[@]}"
ok
[ "$(wc -l <<<"$OUT")" -eq 8 ] || fail "not one line per thread"
n=$(count 'select(.kind == "sts")')
# One at open, then at most one refresh at a time: never more than 1 + 8 * 5.
[ "$n" -ge 2 ] && [ "$n" -le 41 ] || fail "$n STS calls"

echo "$TEST: all cases passed (STS, container and instance metadata are local stubs)"
