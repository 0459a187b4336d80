# Helpers of the live-replication end-to-end tests (live_model.sh,
# live_nats_cluster.sh), sourced after agent_e2e.sh with M, T, TEST set:
# a source catalog changed at random by the command line, a live source
# agent and a target agent with two targets (one prefixed), and the checks
# that every target equals the source and no change set was applied twice.
S="sqlite:$T/src.db?catalog-id=111111111111"
D1="sqlite:$T/one.db?catalog-id=222222222222"
D2="sqlite:$T/two.db?catalog-id=333333333333"

# live_configs BUS: $T/source.yaml (live) and $T/targets.yaml on BUS
live_configs() {
	cat >"$T/source.yaml" <<YAML
bus: $1
listen: 127.0.0.1:0
source:
  name: lake
  catalog: $S
  store: $T/store
  mode: live
  poll: 50ms
YAML
	cat >"$T/targets.yaml" <<YAML
bus: $1
listen: 127.0.0.1:0
targets:
  - name: one
    catalog: $D1
    deletes: mirror
    ack_wait: 5s
  - name: two
    catalog: $D2
    database_prefix: rep_
    table_prefix: x_
    deletes: mirror
    ack_wait: 5s
YAML
}

# One random operation on the source (RANDOM seeded by the caller).
live_op() {
	local d=$((RANDOM % 2)) t=$((RANDOM % 3)) v=$((RANDOM % 12 + 1)) op=$((RANDOM % 100))
	local db="d$d" tb="t$t" day
	day=$(printf '2024-01-%02d' "$v")
	if [ $op -lt 4 ]; then
		echo "{\"Database\":{\"Name\":\"$db\",\"Description\":\"rev $RANDOM\"}}" |
			"$M" catalog put "$S" --replace >/dev/null 2>&1 || true
	elif [ $op -lt 6 ]; then
		"$M" catalog rm "$S" "$db" >/dev/null 2>&1 || true
	elif [ $op -lt 16 ]; then
		echo "{\"Database\":{\"Name\":\"$db\"}}" | "$M" catalog put "$S" >/dev/null 2>&1 || true
		echo "{\"Table\":{\"Name\":\"$tb\",\"DatabaseName\":\"$db\",\"TableType\":\"EXTERNAL_TABLE\",\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"string\"}],\"StorageDescriptor\":{\"Location\":\"s3://lake/$db/$tb/\",\"Columns\":[{\"Name\":\"c\",\"Type\":\"bigint\"}]},\"Parameters\":{\"rev\":\"$RANDOM\"}}}" |
			"$M" catalog put "$S" --replace >/dev/null 2>&1 || true
	elif [ $op -lt 20 ]; then
		"$M" catalog rm "$S" "$db" "$tb" >/dev/null 2>&1 || true
	elif [ $op -lt 23 ]; then
		echo "{\"Table\":{\"Name\":\"v$t\",\"DatabaseName\":\"$db\",\"TableType\":\"VIRTUAL_VIEW\",\"ViewOriginalText\":\"SELECT * FROM $db.$tb -- $RANDOM\",\"ViewExpandedText\":\"SELECT * FROM \`$db\`.\`$tb\`\",\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"c\",\"Type\":\"bigint\"}]}}}" |
			"$M" catalog put "$S" --replace >/dev/null 2>&1 || true
	elif [ $op -lt 80 ]; then
		echo "{\"Partition\":{\"Values\":[\"$day\"],\"DatabaseName\":\"$db\",\"TableName\":\"$tb\",\"StorageDescriptor\":{\"Location\":\"s3://lake/$db/$tb/dt=$day/\"},\"Parameters\":{\"rev\":\"$RANDOM\"}}}" |
			"$M" catalog put "$S" --replace >/dev/null 2>&1 || true
	else
		"$M" catalog rm "$S" "$db" "$tb" "$day" >/dev/null 2>&1 || true
	fi
}

live_match() {
	"$M" verify --source "$S" --target "$D1" >"$T/v1.out" 2>&1 &&
		"$M" verify --source "$S" --target "$D2" --database-prefix rep_ --table-prefix x_ \
			>"$T/v2.out" 2>&1
}

# Every import that changed something is of a snapshot that target had not
# applied before: redelivered events (after a SIGKILL) change nothing.
live_no_double() {
	local twice
	twice=$("$M" bus read --bus "$1" --stream results | jq -r '.data | fromjson
		| select(.type == "io.metasync.import.succeeded") | .data
		| select(([.counts[] | .created + .updated + .deleted] | add) > 0)
		| "\(.target) \(.snapshot_id)"' | sort | uniq -d)
	[ -z "$twice" ] || fail "applied twice with changes: $twice"
}

# live_kill_agents N: each of the source agent ($SRC) and the target agent
# ($TGT), with a chance of 1 in N (RANDOM), killed with SIGKILL and started
# again; counted in kills.
live_kill_agents() {
	if [ $((RANDOM % $1)) -eq 0 ]; then
		kill -KILL "$SRC"
		wait "$SRC" 2>/dev/null || true
		start_agent source
		SRC=$AGENT
		kills=$((kills + 1))
	fi
	if [ $((RANDOM % $1)) -eq 0 ]; then
		kill -KILL "$TGT"
		wait "$TGT" 2>/dev/null || true
		start_agent targets
		TGT=$AGENT
		kills=$((kills + 1))
	fi
}
