#!/usr/bin/env bash
# Run a command against a fresh `metasync serve` of the binary under test:
#   with_glue_serve.sh PATH-TO-METASYNC CMD ARG...
# starts the server on a free loopback port over a new embedded catalog in a
# temporary directory (accounts of tests/support/serve_e2e.sh), runs CMD with
#   MS_TEST_GLUE_URL   glue://us-east-1?endpoint=http://127.0.0.1:PORT&catalog-id=<A>
# (and $MS_GLUE_URL_SUFFIX after it: "&feed=poll" for the polling feed)
# and account A's keys in the environment (nothing else of the caller's AWS
# configuration), then stops the server (it must exit 0 on SIGTERM) and
# removes the directory.  The server is the binary under test (plain or
# sanitized), so it is started here rather than by scripts/test-servers.sh.
set -u -o pipefail
M=${1:?usage: with_glue_serve.sh PATH-TO-METASYNC CMD ARG...}
shift
TEST=${TEST:-with_glue_serve}
SRC=${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/support/serve_e2e.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-glue-serve.XXXXXX")
trap 'cleanup_servers; rm -rf "$T"' EXIT
write_accounts
start_server conformance
: >"$T/empty.cfg"
st=0
env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_GLUE \
	AWS_ACCESS_KEY_ID="$KEY_A" AWS_SECRET_ACCESS_KEY="$SECRET_A" AWS_EC2_METADATA_DISABLED=true \
	AWS_CONFIG_FILE="$T/empty.cfg" AWS_SHARED_CREDENTIALS_FILE="$T/empty.cfg" \
	MS_TEST_GLUE_URL="glue://us-east-1?endpoint=$ENDPOINT&catalog-id=$ACCT_A${MS_GLUE_URL_SUFFIX:-}" "$@" || st=$?
stop_server "$SERVER"
exit "$st"
