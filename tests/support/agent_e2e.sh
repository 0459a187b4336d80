# Helpers for the agent's end-to-end tests, sourced after setting M (the
# binary), T (a fresh temp dir) and TEST (the test's name); CASE names the
# case under way.  Agents started here are killed on exit.
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
AGENTS=()
cleanup_agents() { kill_all "${AGENTS[@]}"; }
# start_agent NAME: the agent of $T/NAME.yaml in the background, log in
# $T/NAME.log; sets AGENT (its pid) and PORT (its /healthz and /metrics)
start_agent() {
	"$M" agent --config "$T/$1.yaml" 2>"$T/$1.log" &
	AGENT=$!
	AGENTS+=("$AGENT")
	wait_for "the agent to listen" has_line "$T/$1.log" 'on port [0-9]+'
	PORT=$(sed -nE 's/.*on port ([0-9]+).*/\1/p' "$T/$1.log" | head -n1)
}
stop_agent() {
	kill -TERM "$AGENT"
	wait "$AGENT" || fail "agent exited with $? after SIGTERM"
}
# health_code: /healthz's status code; its body in $T/healthz.body
health_code() { curl -s -o "$T/healthz.body" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz"; }
# healthz: prints /healthz's body, succeeds for 200
healthz() {
	local code
	code=$(health_code)
	cat "$T/healthz.body"
	[ "$code" = 200 ]
}
