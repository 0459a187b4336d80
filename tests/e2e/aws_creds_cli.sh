#!/usr/bin/env bash
# The AWS credential chain (src/lib/aws) against the AWS CLI v2 itself: for
# each setup of ~/.aws/credentials, ~/.aws/config and the environment in a
# temporary HOME, what metasync resolves (tests/support/aws/aws_creds_dump)
# must be what Debian's `/usr/bin/aws configure export-credentials --format
# process [--profile NAME]` prints: the same access key, secret, session
# token and expiration, or both must fail.  Only sources that need no
# network are compared here; STS, the container endpoint and instance
# metadata are exercised against local stubs in aws_creds_stubs.sh.  No
# metasync message may hold a secret.
# Usage: aws_creds_cli.sh METASYNC (MS_AWS_CREDS_DUMP names the helper)
set -uo pipefail
TEST=aws_creds_cli
AWS=/usr/bin/aws
DUMP=${MS_AWS_CREDS_DUMP:?set by tests/CMakeLists.txt}
for tool in "$AWS" jq; do
	command -v "$tool" >/dev/null || {
		echo "$TEST: needs '$tool' (scripts/deps.sh test): skipped"
		exit 77
	}
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../support/e2e.sh"
H=$T/home
PROC=$T/bin/cred-proc
mkdir -p "$T/bin"
# cred-proc FILE [STATUS]: print FILE, exit STATUS (a stand-in credential_process)
printf '#!/bin/sh\ncat "$1"\nexit "${2:-0}"\n' >"$PROC"
chmod +x "$PROC"
PASSED=0
OK_CASES=0

# setup CREDENTIALS CONFIG: a fresh HOME with these two files ("-": no file)
setup() {
	rm -rf "$H"
	mkdir -p "$H/.aws"
	[ "$1" = - ] || printf '%s\n' "$1" >"$H/.aws/credentials"
	[ "$2" = - ] || printf '%s\n' "$2" >"$H/.aws/config"
}

# proc_out NAME JSON: the file a credential_process prints ($T/out NAME.json, a space in the path)
proc_out() {
	printf '%s\n' "$2" >"$T/out $1.json"
}
proc_cmd() { echo "$PROC \"$T/out $1.json\" ${2:-0}"; }

# expiry SECONDS: an ISO 8601 UTC time that far from now
expiry() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

# The fields compared, the expiration as epoch seconds.
norm() {
	jq -c '{a: .AccessKeyId, s: .SecretAccessKey, t: (.SessionToken // ""),
		e: (if .Expiration then (.Expiration | sub("\\+00:00$"; "Z") | fromdateiso8601) else 0 end)}'
}

# check NAME ok|fail [--profile P] [VAR=VALUE...]: run both on the current
# files with exactly these variables; the CLI must meet the expectation
# (else the setup, not metasync, is wrong) and metasync must match the CLI
check() {
	local name=$1 want=$2 args=() vars=() cli ms cli_rc ms_rc
	shift 2
	CASE=$name
	if [ "${1:-}" = --profile ]; then
		args=(--profile "$2")
		shift 2
	fi
	vars=("$@")
	cli=$(env -i PATH=/usr/bin:/bin HOME="$H" AWS_EC2_METADATA_DISABLED=true "${vars[@]}" \
		"$AWS" configure export-credentials --format process "${args[@]}" 2>"$T/cli.err")
	cli_rc=$?
	ms=$(env -i PATH=/usr/bin:/bin HOME="$H" AWS_EC2_METADATA_DISABLED=true "${vars[@]}" \
		"$DUMP" "${args[@]}" 2>"$T/ms.err")
	ms_rc=$?
	if [ "$want" = ok ] && [ $cli_rc -ne 0 ]; then
		fail "the AWS CLI failed where it should not: $(cat "$T/cli.err")"
	fi
	if [ "$want" = fail ] && [ $cli_rc -eq 0 ]; then
		fail "the AWS CLI succeeded where it should fail"
	fi
	if [ $cli_rc -eq 0 ]; then
		[ $ms_rc -eq 0 ] || fail "the AWS CLI resolves keys, metasync fails: $(cat "$T/ms.err")"
		[ "$(norm <<<"$cli")" = "$(norm <<<"$ms")" ] ||
			fail "keys differ: cli $(norm <<<"$cli") metasync $(norm <<<"$ms")"
		OK_CASES=$((OK_CASES + 1))
	else
		[ $ms_rc -ne 0 ] || fail "the AWS CLI fails ($(tr '\n' ' ' <"$T/cli.err")), metasync resolves $ms"
		grep -q '^error: ' "$T/ms.err" || fail "metasync failed without a message"
		# Every secret of these setups starts with sk- or tok-.
		if grep -qE 'sk-|tok-' "$T/ms.err"; then
			fail "a secret in metasync's message: $(cat "$T/ms.err")"
		fi
	fi
	PASSED=$((PASSED + 1))
}

KEYS_D=$'aws_access_key_id = AKIADEFAULT\naws_secret_access_key = sk-default'
KEYS_P=$'aws_access_key_id = AKIAPROFILEP\naws_secret_access_key = sk-p'
ENV_KEYS=(AWS_ACCESS_KEY_ID=AKIAENV AWS_SECRET_ACCESS_KEY=sk-env)

# --- The environment
setup - -
check env_only ok "${ENV_KEYS[@]}"
check env_token ok "${ENV_KEYS[@]}" AWS_SESSION_TOKEN=tok-env
check env_security_token_first ok "${ENV_KEYS[@]}" AWS_SESSION_TOKEN=tok-s AWS_SECURITY_TOKEN=tok-sec
check env_no_secret fail AWS_ACCESS_KEY_ID=AKIAENV
check env_empty_key fail AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY=sk-env
check env_expiring ok "${ENV_KEYS[@]}" AWS_CREDENTIAL_EXPIRATION="$(expiry 7200)"
check nothing fail

setup "[default]
$KEYS_D
[p]
$KEYS_P" -
check env_beats_default ok "${ENV_KEYS[@]}"
check explicit_profile_beats_env ok --profile p "${ENV_KEYS[@]}"
check aws_profile_does_not_beat_env ok "${ENV_KEYS[@]}" AWS_PROFILE=p
check aws_profile ok AWS_PROFILE=p
check aws_default_profile ok AWS_DEFAULT_PROFILE=p
check aws_profile_over_default_profile ok AWS_PROFILE=default AWS_DEFAULT_PROFILE=p
check missing_profile fail --profile nope
check missing_aws_profile_even_with_env fail "${ENV_KEYS[@]}" AWS_PROFILE=nope
check default_file ok

# --- Which file wins, and the section names of each
setup "[p]
$KEYS_P" "[profile p]
aws_access_key_id = AKIACONFIG
aws_secret_access_key = sk-config"
check credentials_file_beats_config ok --profile p
setup - "[profile p]
aws_access_key_id = AKIACONFIG
aws_secret_access_key = sk-config
aws_session_token = tok-config"
check config_file_keys ok --profile p
setup - "[p]
$KEYS_P"
check config_section_without_profile_prefix fail --profile p
setup "[profile p]
$KEYS_P" -
check credentials_section_with_profile_prefix fail --profile p
check credentials_section_literal_name ok --profile "profile p"
setup - "[default]
aws_access_key_id = AKIAPLAINDEFAULT
aws_secret_access_key = sk-plain
[profile default]
aws_access_key_id = AKIAPROFILEDEFAULT
aws_secret_access_key = sk-prefixed"
check default_then_profile_default ok
setup - "[profile default]
aws_access_key_id = AKIAPROFILEDEFAULT
aws_secret_access_key = sk-prefixed
[default]
aws_access_key_id = AKIAPLAINDEFAULT
aws_secret_access_key = sk-plain"
check profile_default_then_default ok
setup - '[profile   "q r"]
aws_access_key_id = AKIAQUOTED
aws_secret_access_key = sk-quoted'
check quoted_profile_name ok --profile "q r"
setup "[default]
aws_access_key_id = AKIADEFAULT" -
check key_without_secret fail
setup "[default]
$KEYS_D
aws_session_token = tok-session
aws_security_token = tok-security" -
check security_token_first ok
setup "[elsewhere]
$KEYS_P" -
mv "$H/.aws/credentials" "$T/creds-elsewhere"
check credentials_file_variable ok --profile elsewhere AWS_SHARED_CREDENTIALS_FILE="$T/creds-elsewhere"
setup - "[profile elsewhere]
$KEYS_P"
mv "$H/.aws/config" "$T/config-elsewhere"
check config_file_variable ok --profile elsewhere AWS_CONFIG_FILE="$T/config-elsewhere"

# --- configparser's syntax
setup "# a comment
; another
[default]
AWS_Access_Key_ID: AKIACOLON
aws_secret_access_key   =   sk-spaces=and:more   
" -
check colon_case_spaces ok
setup "[default]
aws_access_key_id = AKIAINDENT
   aws_secret_access_key = sk-indented" -
check indented_line_continues_value fail
setup "[default]
aws_access_key_id = AKIACONT
aws_secret_access_key = sk-first
  sk-continued" -
check continuation_line ok
setup "[DEFAULT]
aws_secret_access_key = sk-from-DEFAULT
[default]
aws_access_key_id = AKIADEFSECTION" -
check DEFAULT_section_values ok
setup "[default]
$KEYS_D
this line has no delimiter" -
check broken_credentials_file fail "${ENV_KEYS[@]}"
setup "$KEYS_D" -
check line_before_any_section fail
setup "[default]
$KEYS_D
[default]
region = x" -
check duplicate_section fail
setup "[default]
$KEYS_D
aws_access_key_id = AKIAAGAIN" -
check duplicate_key fail
setup "[default]
$KEYS_D" "[default]
region us-east-1"
check broken_config_file fail

# --- credential_process
proc_out static '{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "sk-proc"}'
proc_out temp "{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": \"sk-proc-t\",
 \"SessionToken\": \"tok-proc\", \"Expiration\": \"$(expiry 3600)\"}"
proc_out expired "{\"Version\": 1, \"AccessKeyId\": \"ASIAOLD\", \"SecretAccessKey\": \"sk-old\",
 \"SessionToken\": \"tok-old\", \"Expiration\": \"$(expiry -60)\"}"
proc_out badjson '{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "sk-broken'
proc_out version2 '{"Version": 2, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "sk-v2"}'
proc_out nosecret '{"Version": 1, "AccessKeyId": "AKIAPROC"}'
setup - "[profile p]
credential_process = $(proc_cmd static)"
check process_static ok --profile p
setup - "[profile p]
credential_process = $(proc_cmd temp)"
check process_expiration ok --profile p
setup - "[profile p]
credential_process = $(proc_cmd temp 3)"
check process_exit_status fail --profile p
setup - "[profile p]
credential_process = $(proc_cmd badjson)"
check process_bad_json fail --profile p
setup - "[profile p]
credential_process = $(proc_cmd version2)"
check process_version_2 fail --profile p
setup - "[profile p]
credential_process = $(proc_cmd nosecret)"
check process_no_secret fail --profile p
setup - "[profile p]
credential_process = $(proc_cmd expired)"
check process_expired fail --profile p
setup - "[profile p]
credential_process = $T/bin/no-such-program"
check process_not_found fail --profile p
setup "[p]
credential_process = $(proc_cmd static)" -
check process_in_credentials_file ok --profile p
setup "[p]
$KEYS_P" "[profile p]
credential_process = $(proc_cmd static)"
check credentials_file_beats_process ok --profile p
setup - "[profile p]
credential_process = $(proc_cmd static)
aws_access_key_id = AKIACONFIG
aws_secret_access_key = sk-config"
check process_beats_config_file_keys ok --profile p

# --- role_arn setups that fail before any STS call
setup "[base]
$KEYS_D" "[profile a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = b
[profile b]
role_arn = arn:aws:iam::123456789012:role/b
source_profile = a"
check source_profile_cycle fail --profile a
setup - "[profile a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = a"
check source_profile_self_without_keys fail --profile a
setup - "[profile a]
role_arn = arn:aws:iam::123456789012:role/a"
check role_without_source fail --profile a
setup "[base]
$KEYS_D" "[profile a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = base
credential_source = Environment"
check role_with_two_sources fail --profile a
setup - "[profile a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = nope"
check source_profile_missing fail --profile a
setup - "[profile a]
role_arn = arn:aws:iam::123456789012:role/a
credential_source = environment"
check credential_source_unknown fail --profile a "${ENV_KEYS[@]}"
setup - "[profile a]
role_arn = arn:aws:iam::123456789012:role/a
credential_source = Environment"
check credential_source_environment_empty fail --profile a
setup - "[profile w]
web_identity_token_file = $T/token"
check web_identity_without_role fail --profile w
setup - "[profile s]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = r"
check sso_profile fail --profile s

# A credential_process that hangs is killed after its time (metasync's own
# bound; the AWS CLI waits for ever, so this case is metasync's alone).
CASE=process_hangs
printf '#!/bin/sh\nsleep 30\n' >"$T/bin/hang"
chmod +x "$T/bin/hang"
setup - "[profile p]
credential_process = $T/bin/hang"
t0=$(date +%s)
if env -i PATH=/usr/bin:/bin HOME="$H" AWS_EC2_METADATA_DISABLED=true MS_CREDENTIAL_PROCESS_TIMEOUT=1 \
	"$DUMP" --profile p >/dev/null 2>"$T/ms.err"; then
	fail "a hung credential_process gave keys"
fi
[ $(($(date +%s) - t0)) -lt 15 ] || fail "a hung credential_process held metasync $(($(date +%s) - t0)) s"
grep -q "credential_process of aws profile 'p' did not finish within 1 s" "$T/ms.err" ||
	fail "no timeout message: $(cat "$T/ms.err")"
PASSED=$((PASSED + 1))

[ "$OK_CASES" -ge 20 ] || fail "only $OK_CASES cases resolved keys"
echo "$TEST: $PASSED cases agree with the AWS CLI ($OK_CASES resolve keys)"
