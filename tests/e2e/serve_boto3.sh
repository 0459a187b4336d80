#!/usr/bin/env bash
# `metasync serve` through boto3: tests/e2e/serve_boto3.py (batch operations
# with per-item errors, paginators over 2,000 partitions with filters and
# segments, VersionId races between threads, grants, concurrent writers,
# malformed and interrupted requests, injected faults and throttling) against
# three servers on one accounts file: a plain one, one with --faults 0.5
# and one with --throttle 2/s.  Each must then stop on SIGTERM with exit 0.
# usage: serve_boto3.sh PATH-TO-METASYNC [TestClass[.test_method] ...]
set -u -o pipefail
M=${1:?usage: serve_boto3.sh PATH-TO-METASYNC [TEST...]}
shift
TEST=serve_boto3
SRC=${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/support/serve_e2e.sh"
need_clients
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-serve-boto3.XXXXXX")
trap 'cleanup_servers; rm -rf "$T"' EXIT
write_accounts

start_server main
MAIN=$SERVER
export MS_GLUE_ENDPOINT=$ENDPOINT
start_server faults --faults 0.5
FAULTS=$SERVER
export MS_GLUE_FAULTS_ENDPOINT=$ENDPOINT
start_server throttle --throttle 2/s
THROTTLE=$SERVER
export MS_GLUE_THROTTLE_ENDPOINT=$ENDPOINT

st=0
/usr/bin/python3 -W ignore::ResourceWarning "$SRC/tests/e2e/serve_boto3.py" -v "$@" || st=$?

CASE=sigterm
for pid in "$MAIN" "$FAULTS" "$THROTTLE"; do
	stop_server "$pid"
done
CASE=boto3
[ "$st" -eq 0 ] || fail "serve_boto3.py exited with $st (its failures above)"
echo "$TEST: ok"
