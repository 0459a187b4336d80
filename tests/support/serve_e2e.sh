# Helpers for the end-to-end tests of `metasync serve`, sourced after setting
# M (the binary), T (a fresh temp dir) and TEST (the test's name), beside
# those of e2e.sh.  Servers started here are killed by cleanup_servers.
#
# Three accounts (exported, for the Python tests too):
#   A  111111111111  the catalog others are granted
#   B  222222222222  may read A's databases 'shared' and 'pub_*'
#   C  333333333333  may write A's 'shared'; its key needs a session token
# The AWS CLI is Debian's, by its full path: another `aws` may be first on PATH.
AWS=/usr/bin/aws
export ACCT_A=111111111111 KEY_A=AKIAEXAMPLESOURCE01 SECRET_A=source-secret-a
export ACCT_B=222222222222 KEY_B=AKIAEXAMPLETARGET02 SECRET_B=target-secret-b
export ACCT_C=333333333333 KEY_C=ASIAEXAMPLESESSION3 SECRET_C=session-secret-c
export TOKEN_C=FwoGZXIvYXdzEXAMPLESESSIONTOKEN
SERVERS=()
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
cleanup_servers() { kill_all "${SERVERS[@]}"; }

# need_clients: skip (77) when the AWS CLI, boto3, curl or jq is missing
need_clients() {
	local tool
	for tool in "$AWS" /usr/bin/python3 curl jq; do
		command -v "$tool" >/dev/null || {
			echo "$TEST: needs '$tool' (scripts/deps.sh test): skipped"
			exit 77
		}
	done
	/usr/bin/python3 -c 'import boto3' 2>/dev/null || {
		echo "$TEST: needs python3-boto3 (scripts/deps.sh test): skipped"
		exit 77
	}
}

# write_accounts: $T/accounts.yaml with accounts A, B, C and their grants (mode 600)
write_accounts() {
	cat >"$T/accounts.yaml" <<EOF
accounts:
  - id: "$ACCT_A"
    keys:
      - id: $KEY_A
        secret: "$SECRET_A"
  - id: "$ACCT_B"
    keys:
      - id: $KEY_B
        secret: "$SECRET_B"
  - id: "$ACCT_C"
    keys:
      - id: $KEY_C
        secret: "$SECRET_C"
        session_token: "$TOKEN_C"
grants:
  - to: "$ACCT_B"
    catalog: "$ACCT_A"
    databases: ["shared", "pub_*"]
    access: read
  - to: "$ACCT_C"
    catalog: "$ACCT_A"
    databases: ["shared"]
    access: write
EOF
	chmod 600 "$T/accounts.yaml"
}

# as_exec A|B|C CMD...: CMD in place of the shell, with that account's keys
# and nothing else of the AWS configuration (for one started with &: $! is
# CMD itself); as A|B|C CMD...: the same in a subshell
as_exec() {
	local who=$1 key secret token=
	shift
	case $who in
	A) key=$KEY_A secret=$SECRET_A ;;
	B) key=$KEY_B secret=$SECRET_B ;;
	C) key=$KEY_C secret=$SECRET_C token=$TOKEN_C ;;
	*) fail "as: no account '$who'" ;;
	esac
	: >"$T/empty.cfg"
	exec env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_GLUE \
		AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" \
		${token:+AWS_SESSION_TOKEN="$token"} AWS_EC2_METADATA_DISABLED=true \
		AWS_CONFIG_FILE="$T/empty.cfg" AWS_SHARED_CREDENTIALS_FILE="$T/empty.cfg" "$@"
}
as() { (as_exec "$@"); }

# stop_term PID WHAT: SIGTERM, then PID must exit 0
stop_term() {
	local st=0
	kill -TERM "$1" || fail "$2 ($1) is not running"
	wait "$1" || st=$?
	[ "$st" -eq 0 ] || fail "$2 exited with $st after SIGTERM, want 0"
}

# serving NAME: SERVER has printed its port (fails when it has exited instead)
serving() {
	kill -0 "$SERVER" 2>/dev/null || fail "serve $1 exited at start"
	has_line "$T/$1.log" '\(port [0-9]+\)'
}

# start_server NAME [OPTION...]: serve $T/NAME.db on a free port, log in
# $T/NAME.log; sets SERVER (its pid), PORT and ENDPOINT
start_server() {
	local name=$1
	shift
	"$M" serve --catalog "sqlite:$T/$name.db" --accounts "$T/accounts.yaml" \
		--listen 127.0.0.1:0 "$@" 2>"$T/$name.log" &
	SERVER=$!
	SERVERS+=("$SERVER")
	wait_for "serve $name to listen" serving "$name"
	PORT=$(sed -nE 's/.*\(port ([0-9]+)\).*/\1/p' "$T/$name.log" | head -n1)
	ENDPOINT=http://127.0.0.1:$PORT
}

# stop_server PID: SIGTERM, then the server must exit 0
stop_server() { stop_term "$1" serve; }

# awsg_key KEY SECRET TOKEN ARG...: `aws glue ARG...` at $ENDPOINT signed
# with that key (TOKEN may be empty), no other configuration, no retries
awsg_key() {
	local key=$1 secret=$2 token=$3
	shift 3
	: >"$T/aws-empty.cfg"
	env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_CA_BUNDLE \
		AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" \
		${token:+AWS_SESSION_TOKEN="$token"} \
		AWS_CONFIG_FILE="$T/aws-empty.cfg" AWS_SHARED_CREDENTIALS_FILE="$T/aws-empty.cfg" \
		AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER= \
		AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_DEFAULT_OUTPUT=json \
		AWS_CLI_AUTO_PROMPT=off \
		"$AWS" --endpoint-url "$ENDPOINT" glue "$@"
}

# awsg A|B|C ARG...: `aws glue ARG...` as that account
awsg() {
	local who=$1
	shift
	case $who in
	A) awsg_key "$KEY_A" "$SECRET_A" "" "$@" ;;
	B) awsg_key "$KEY_B" "$SECRET_B" "" "$@" ;;
	C) awsg_key "$KEY_C" "$SECRET_C" "$TOKEN_C" "$@" ;;
	*) fail "awsg: no account '$who'" ;;
	esac
}

# op_of CMD ARG...: the glue operation of an awsg or awsg_key command (for
# messages: never its key or secret)
op_of() {
	case $1 in
	awsg) echo "${3:-?}" ;;
	awsg_key) echo "${5:-?}" ;;
	*) echo "$1" ;;
	esac
}

# glue_ok A|B|C ARG...: awsg that must succeed; its output in $T/out.json
# (read it with jout: a failure inside $(...) would not stop the test)
glue_ok() {
	local st=0
	awsg "$@" >"$T/out.json" 2>"$T/err.txt" || st=$?
	[ "$st" -eq 0 ] ||
		fail "aws glue $(op_of awsg "$@") as $1 exited with $st: $(tr '\n' ' ' <"$T/err.txt")"
}

# jout FILTER: jq -r FILTER on the last output
jout() { jq -r "$1" "$T/out.json"; }

# expect_error TYPE CMD...: CMD (awsg or awsg_key) must exit 254 with a TYPE error
expect_error() {
	local type=$1 st=0
	shift
	"$@" >"$T/out.json" 2>"$T/err.txt" || st=$?
	[ "$st" -eq 254 ] ||
		fail "$(op_of "$@") exited with $st, want 254 ($type): $(tr '\n' ' ' <"$T/err.txt")"
	grep -q "($type)" "$T/err.txt" ||
		fail "$(op_of "$@") failed, but not with $type: $(tr '\n' ' ' <"$T/err.txt")"
}

# want WHAT GOT EXPECTED: fail unless GOT is EXPECTED
want() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# metric OPERATION ERROR: metasync_glue_requests_total of the server at $ENDPOINT (0 when absent)
metric() {
	curl -s "$ENDPOINT/metrics" |
		awk -v k="metasync_glue_requests_total{operation=\"$1\",error=\"$2\"}" \
			'$1 == k { n = $2 } END { print n + 0 }'
}

# run_cases NAME...: each case_NAME in a subshell, so that one failing case
# does not hide the others; FAILED lists those that failed.  Stops when a
# server has exited: every case after would fail for that alone.
FAILED=()
run_cases() {
	local c p
	for c in "$@"; do
		declare -F "case_$c" >/dev/null || fail "no case '$c'"
		for p in "${SERVERS[@]}"; do
			kill -0 "$p" 2>/dev/null || fail "serve (pid $p) has exited before case $c (its log below)"
		done
		echo "$TEST: $c"
		(CASE=$c; "case_$c") || FAILED+=("$c")
	done
}
