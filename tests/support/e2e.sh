# Helpers of the shell end-to-end tests that source them (agent_e2e.sh,
# serve_e2e.sh), after setting M (the binary), T (a fresh temp dir) and TEST
# (the test's name); CASE names the case under way.
CASE=setup

# fail MESSAGE: say what failed with the end of every log, exit 1
fail() {
	local f
	echo "FAIL: $TEST ($CASE): $*" >&2
	for f in "$T"/*.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

# kill_all PID...: SIGKILL the processes a test started (those still running) and reap them
kill_all() {
	local p
	for p in "$@"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# wait_for WHAT CMD...: up to 90 s for CMD to succeed (a ceiling, not a measure)
wait_for() {
	local what=$1 _
	shift
	for _ in $(seq 1 900); do
		"$@" && return 0
		sleep 0.1
	done
	fail "timed out waiting for $what"
}

has_line() { grep -qE -- "$2" "$1" 2>/dev/null; }
