#!/usr/bin/env bash
# Hive Metastore round trip: embedded -> HMS on PostgreSQL (sync) -> snapshot
# (export) -> HMS on MariaDB (import) -> embedded (sync) loses nothing the
# Hive schema can hold: skew, bucketing, sort columns, partition values with
# '/', '=', '%', spaces and non-ASCII (Latin-1) text, __HIVE_DEFAULT_PARTITION__,
# parameters holding JSON, views.  Every field of every source entity must
# come back equal (a driver may add what Hive itself adds, such as
# transient_lastDdlTime).  Then: text that MariaDB's latin1 schema cannot hold
# is refused for that entity (exit 3), never stored mangled.
#
# Needs $MS_TEST_HMS_PG_URL and $MS_TEST_HMS_MYSQL_URL (scripts/test-servers.sh);
# skipped, with a note, when either is unset or the hms drivers are not built in.
# usage: hms_roundtrip.sh PATH-TO-METASYNC
set -euo pipefail
M=${1:?usage: hms_roundtrip.sh PATH-TO-METASYNC}
PG=${MS_TEST_HMS_PG_URL:-}
MY=${MS_TEST_HMS_MYSQL_URL:-}
if [ -z "$PG" ] || [ -z "$MY" ]; then
	echo "hms_roundtrip: skipped: \$MS_TEST_HMS_PG_URL or \$MS_TEST_HMS_MYSQL_URL is not set"
	exit 0
fi
for url in "$PG" "$MY"; do
	if ! out=$("$M" catalog ls "$url" 2>&1); then
		if grep -q "unknown catalog url scheme" <<<"$out"; then
			echo "hms_roundtrip: skipped: no driver for '${url%%:*}' yet"
			exit 0
		fi
		echo "FAIL: catalog ls on the test server: $out" >&2
		exit 1
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-hms-rt.XXXXXX")
# Databases of this run only: the servers are shared with other tests.
P="hmsrt_$$_"
cleanup() {
	local url db
	for url in "$PG" "$MY"; do
		for db in "${P}sales" "${P}ops" "${P}wide" "${P}glue" "${P}put"; do
			"$M" catalog rm "$url" "$db" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: hms_roundtrip: $*" >&2
	exit 1
}

A="sqlite:$T/a.db?catalog-id=111111111111"
C="sqlite:$T/c.db?catalog-id=333333333333"
put() { "$M" catalog put "$1" || fail "catalog put into '$1' refused: $2"; }

# ---- the source: Glue-shape entities, only fields Hive has a column for ----
put "$A" database <<EOF
{"Database":{"Name":"${P}sales","Description":"raw sales, team \"sales\" café","LocationUri":"s3a://lake/sales/","Parameters":{"classification":"parquet","json.value":"{\"a\":[1,2,{\"b\":\"c\\\\\"d\"}],\"e\":null}","owner team":"Zürich"}}}
EOF
put "$A" database <<EOF
{"Database":{"Name":"${P}ops","LocationUri":"hdfs://nn:8020/warehouse/ops.db","Parameters":{}}}
EOF
sd() { # LOCATION
	cat <<EOF
{"Columns":[{"Name":"id","Type":"bigint","Comment":"order id"},{"Name":"amount","Type":"decimal(12,2)"},{"Name":"tags","Type":"map<string,array<struct<k:string,v:string>>>","Comment":"Grüße"}],
 "Location":"$1","InputFormat":"org.apache.hadoop.hive.ql.io.orc.OrcInputFormat","OutputFormat":"org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
 "Compressed":true,"NumberOfBuckets":16,"BucketColumns":["id"],"SortColumns":[{"Column":"id","SortOrder":1},{"Column":"amount","SortOrder":0}],
 "SerdeInfo":{"Name":"orc","SerializationLibrary":"org.apache.hadoop.hive.ql.io.orc.OrcSerde","Parameters":{"serialization.format":"1","path":"$1"}},
 "Parameters":{"orc.compress":"ZSTD","json":"{\"k\":[\"v\",{\"x\":1}]}"},
 "SkewedInfo":{"SkewedColumnNames":["region","id"],"SkewedColumnValues":["2\$eu1\$7","2\$us2\$42"],"SkewedColumnValueLocationMaps":{"2\$eu1\$7":"s3://lake/skew/eu7/","2\$us2\$42":"s3://lake/skew/us42/"}},
 "StoredAsSubDirectories":true}
EOF
}
put "$A" table <<EOF
{"Table":{"Name":"orders","DatabaseName":"${P}sales","Owner":"hadoop","CreateTime":1651241372,"LastAccessTime":1651241999,"Retention":7,"TableType":"EXTERNAL_TABLE",
 "Parameters":{"EXTERNAL":"TRUE","comment":"orders, one row per item é","transient_lastDdlTime":"1651241372","spark.sql.sources.schema":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{\"comment\":\"the \\\\\"id\\\\\"\"}}]}"},
 "PartitionKeys":[{"Name":"dt","Type":"string","Comment":"day"},{"Name":"region","Type":"string"}],
 "StorageDescriptor":$(sd "s3://lake/sales/orders/")}}
EOF
put "$A" view <<EOF
{"Table":{"Name":"v_orders","DatabaseName":"${P}sales","Owner":"hadoop","CreateTime":1651241400,"TableType":"VIRTUAL_VIEW",
 "Parameters":{"transient_lastDdlTime":"1651241400"},"PartitionKeys":[],
 "ViewOriginalText":"SELECT id FROM orders WHERE region = 'eu' -- é","ViewExpandedText":"SELECT \`orders\`.\`id\` FROM \`${P}sales\`.\`orders\` WHERE \`orders\`.\`region\` = 'eu'",
 "StorageDescriptor":{"Columns":[{"Name":"id","Type":"bigint"}],"Compressed":false,"NumberOfBuckets":-1,"StoredAsSubDirectories":false,"SerdeInfo":{"Parameters":{}},"Parameters":{},"BucketColumns":[],"SortColumns":[]}}}
EOF
put "$A" table <<EOF
{"Table":{"Name":"events","DatabaseName":"${P}ops","Owner":"etl","CreateTime":1700000000,"TableType":"MANAGED_TABLE",
 "Parameters":{"transient_lastDdlTime":"1700000000"},"PartitionKeys":[],
 "StorageDescriptor":{"Columns":[{"Name":"e","Type":"string"}],"Location":"hdfs://nn:8020/warehouse/ops.db/events","InputFormat":"org.apache.hadoop.mapred.TextInputFormat","OutputFormat":"org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat","Compressed":false,"NumberOfBuckets":-1,"StoredAsSubDirectories":false,"BucketColumns":[],"SortColumns":[],"SkewedInfo":{"SkewedColumnNames":[],"SkewedColumnValues":[],"SkewedColumnValueLocationMaps":{}},"SerdeInfo":{"SerializationLibrary":"org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe","Parameters":{"field.delim":"\u0001"}},"Parameters":{}}}}
EOF
# Partition values Hive must escape in PART_NAME, keep as they are in
# PARTITION_KEY_VALS, and one that is Hive's own null marker.
i=0
while IFS= read -r values; do
	i=$((i + 1))
	put "$A" "partition $values" <<EOF
{"Partition":{"Values":$values,"DatabaseName":"${P}sales","TableName":"orders","CreationTime":$((1651241400 + i)),"LastAccessTime":$((1651241500 + i)),
 "Parameters":{"numRows":"$i","json":"{\"k\": \"v\\\\n\", \"n\": [$i]}"},
 "StorageDescriptor":$(sd "s3://lake/sales/orders/p$i/")}}
EOF
done <<'EOF'
["2024-01-01","eu"]
["2024-01-02","a/b=c %d e"]
["2024-01-03","Zürich café ñ"]
["2024-01-04","__HIVE_DEFAULT_PARTITION__"]
["2024-01-05","q\"#'*:?\\{[]^%2F=/"]
["2024-01-06"," lead and trail "]
EOF
NPART=$i

# ---- the round trip -------------------------------------------------------
sel=(--database-names "${P}sales;${P}ops")
"$M" sync --source "$A" --target "$PG" "${sel[@]}" -q || fail "sync embedded -> postgresql exited with $?"
"$M" export --source "$PG" "${sel[@]}" --output-path "$T/snap" -q || fail "export from postgresql exited with $?"
"$M" import --input-path "$T/snap" --target "$MY" -q || fail "import into mariadb exited with $?"
"$M" sync --source "$MY" --target "$C" "${sel[@]}" -q || fail "sync mariadb -> embedded exited with $?"
"$M" export --source "$A" "${sel[@]}" --output-path "$T/a" -q
"$M" export --source "$C" "${sel[@]}" --output-path "$T/c" -q

# Snapshot lines keyed by entity; left out: metasync's own markers, what a
# target assigns itself (a database's createTime too: Hive 3.1's DBS has no
# column for it, and the embedded catalog stamps one), and empty maps and
# lists (the same as none).
lines() {
	local snap="$1/$(cat "$1/LATEST")"
	cat "$snap"/databases/part-* "$snap"/tables/part-* "$snap"/partitions/part-* |
		jq -S -c 'del(.item.parameters["metasync.replica-of"], .item.parameters["metasync.synced"], .item.parameters["metasync.replica-instance"], .item.parameters["metasync.snapshot"],
				.item.catalogId, .item.updateTime)
			| if .type == "database" then del(.item.createTime) else . end
			| walk(if type == "object" then with_entries(select(.value != {} and .value != [])) else . end)
			| {key: ([.type, .database // "", .table // "", .item.name // "", .item.values // []] | tojson),
			   value: .}' |
		jq -s -S 'from_entries'
}
lines "$T/a" >"$T/a.json"
lines "$T/snap" >"$T/snap.json"
lines "$T/c" >"$T/c.json"

# Every field of want is in got, equal (objects may have more keys).
compare() { # WANT GOT WHAT
	jq -n -r --slurpfile want "$1" --slurpfile got "$2" '
		def sub($a; $b):
			if ($a | type) == "object" then
				($b | type) == "object" and all($a | to_entries[]; . as $e | ($b | has($e.key)) and sub($e.value; $b[$e.key]))
			elif ($a | type) == "array" then
				($b | type) == "array" and ($a | length) == ($b | length)
				and all(range(0; $a | length); sub($a[.]; $b[.]))
			else $a == $b end;
		$want[0] | to_entries[] | . as $e
		| if ($got[0] | has($e.key) | not) then "missing: \($e.key)"
		  elif sub($e.value; $got[0][$e.key]) then empty
		  else "changed: \($e.key)\n  want \($e.value | tojson)\n  got  \($got[0][$e.key] | tojson)" end' >"$T/diff"
	if [ -s "$T/diff" ]; then
		cat "$T/diff" >&2
		fail "$3 lost or changed the entities above"
	fi
}
[ "$(jq length "$T/a.json")" -eq $((2 + 3 + NPART)) ] || fail "source export has $(jq length "$T/a.json") entities"
compare "$T/a.json" "$T/snap.json" "embedded -> postgresql -> snapshot"
compare "$T/a.json" "$T/c.json" "embedded -> postgresql -> snapshot -> mariadb -> embedded"

# Partition values exactly, as the drivers list them.
for url in "$PG" "$MY" "$C"; do
	got=$("$M" catalog ls "$url" "${P}sales" orders --json | jq -c 'sort')
	want='[["2024-01-01","eu"],["2024-01-02","a/b=c %d e"],["2024-01-03","Zürich café ñ"],["2024-01-04","__HIVE_DEFAULT_PARTITION__"],["2024-01-05","q\"#'"'"'*:?\\{[]^%2F=/"],["2024-01-06"," lead and trail "]]'
	want=$(jq -c 'sort' <<<"$want")
	[ "$got" = "$want" ] || fail "partition values in '${url%%\?*}': got $got, want $want"
done

# Idempotent: the same snapshot again changes nothing in MariaDB.
out=$("$M" import --input-path "$T/snap" --target "$MY" --json) || fail "re-import exited with $?"
[ "$(jq -c '[.counts.tables.created + .counts.tables.updated, .counts.partitions.created + .counts.partitions.updated]' <<<"$out")" = "[0,0]" ] ||
	fail "re-import into mariadb changed something: $out"
# And the source again into PostgreSQL, every partition compared (--full):
# what Hive gives back without a column for it (an empty SkewedInfo, empty
# lists and maps) is the same content, so nothing is rewritten.
out=$("$M" sync --source "$A" --target "$PG" "${sel[@]}" --full --json) || fail "re-sync exited with $?"
[ "$(jq -c '[.counts.tables.created + .counts.tables.updated, .counts.partitions.created + .counts.partitions.updated, .counts.partitions.unchanged]' <<<"$out")" = "[0,0,$NPART]" ] ||
	fail "re-sync into postgresql changed something: $out"

# ---- what MariaDB's latin1 schema cannot hold -----------------------------
put "$PG" "wide database" <<EOF
{"Database":{"Name":"${P}wide","LocationUri":"s3://lake/wide/","Parameters":{}}}
EOF
put "$PG" "wide table" <<EOF
{"Table":{"Name":"fits","DatabaseName":"${P}wide","Owner":"o","CreateTime":1,"TableType":"EXTERNAL_TABLE","Parameters":{"EXTERNAL":"TRUE","comment":"plain"},"PartitionKeys":[],
 "StorageDescriptor":{"Columns":[{"Name":"a","Type":"string"}],"Location":"s3://lake/wide/fits/","Compressed":false,"NumberOfBuckets":-1,"StoredAsSubDirectories":false,"SerdeInfo":{"Parameters":{}},"Parameters":{},"BucketColumns":[],"SortColumns":[]}}}
EOF
put "$PG" "wide table" <<EOF
{"Table":{"Name":"cjk","DatabaseName":"${P}wide","Owner":"o","CreateTime":1,"TableType":"EXTERNAL_TABLE","Parameters":{"EXTERNAL":"TRUE","comment":"東京 😀"},"PartitionKeys":[],
 "StorageDescriptor":{"Columns":[{"Name":"a","Type":"string"}],"Location":"s3://lake/wide/cjk/","Compressed":false,"NumberOfBuckets":-1,"StoredAsSubDirectories":false,"SerdeInfo":{"Parameters":{}},"Parameters":{},"BucketColumns":[],"SortColumns":[]}}}
EOF
st=0
"$M" sync --source "$PG" --target "$MY" --database-names "${P}wide" --json >"$T/wide.json" 2>"$T/wide.err" || st=$?
[ "$st" -eq 3 ] || { cat "$T/wide.err" "$T/wide.json" >&2; fail "sync of text latin1 cannot hold exited with $st, want 3"; }
"$M" catalog show "$MY" "${P}wide" fits --json >/dev/null || fail "the table that fits was not written"
if got=$("$M" catalog show "$MY" "${P}wide" cjk --json 2>/dev/null); then
	[ "$(jq -r '.Table.Parameters.comment' <<<"$got")" = "東京 😀" ] ||
		fail "mariadb stored mangled text: $(jq -c '.Table.Parameters.comment' <<<"$got")"
fi
# ---- what no Hive column holds is reported per entity, not dropped ----------
put "$A" "glue-only database" <<EOF
{"Database":{"Name":"${P}glue","LocationUri":"s3://lake/glue/","Parameters":{}}}
EOF
put "$A" "glue-only table" <<EOF
{"Table":{"Name":"described","DatabaseName":"${P}glue","Description":"only glue has a column for this","TableType":"EXTERNAL_TABLE","PartitionKeys":[],
 "StorageDescriptor":{"Columns":[{"Name":"a","Type":"string","Parameters":{"iceberg.field.id":"1"}}],"Location":"s3://lake/glue/described/","SerdeInfo":{"Parameters":{}}}}}
EOF
"$M" sync --source "$A" --target "$PG" --database-names "${P}glue" --json >"$T/glue.json" || fail "sync of glue-only fields exited with $?"
[ "$(jq -r '[.warnings[] | select(.entity | contains("described"))] | length' "$T/glue.json")" -ge 1 ] ||
	fail "no warning for the fields hive cannot hold: $(cat "$T/glue.json")"
got=$("$M" catalog show "$PG" "${P}glue" described --json) || fail "the glue-only table was not written"
[ "$(jq -c '[.Table.Description, .Table.StorageDescriptor.Columns[0].Parameters["iceberg.field.id"]]' <<<"$got")" = '["only glue has a column for this","1"]' ] ||
	fail "glue-only fields did not come back: $got"
# ---- catalog put creates only; --replace replaces; partitions must fit -------
for url in "$PG" "$MY"; do
	put "$url" "database to replace" <<<"{\"DatabaseInput\":{\"Name\":\"${P}put\",\"LocationUri\":\"s3://lake/put/\"}}"
	st=0; "$M" catalog put "$url" <<<"{\"Database\":{\"Name\":\"${P}put\"}}" 2>"$T/put.err" || st=$?
	[ "$st" -eq 1 ] && grep -q "already exists" "$T/put.err" ||
		fail "a put over an existing database exited with $st: $(cat "$T/put.err")"
	out=$("$M" catalog put "$url" --replace <<<"{\"Database\":{\"Name\":\"${P}put\",\"Description\":\"d\"}}") ||
		fail "put --replace exited with $?"
	[[ $out == *"replaced database '${P}put'"* ]] || fail "put --replace said: $out"
	put "$url" "table with partitions" <<<"{\"DatabaseName\":\"${P}put\",\"TableInput\":{\"Name\":\"t\",\"TableType\":\"EXTERNAL_TABLE\",\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"string\"}],\"StorageDescriptor\":{\"Location\":\"s3://lake/put/t/\",\"Columns\":[{\"Name\":\"a\",\"Type\":\"string\"}]}}}"
	"$M" catalog put "$url" --database "${P}put" --table t <<<'{"PartitionInput":{"Values":["1"],"StorageDescriptor":{"Location":"s3://lake/put/t/dt=1/","Columns":[{"Name":"a","Type":"string"}]}}}' ||
		fail "put of a PartitionInput exited with $?"
	st=0; "$M" catalog put "$url" --replace --database "${P}put" <<<'{"TableInput":{"Name":"t","TableType":"EXTERNAL_TABLE","StorageDescriptor":{"Location":"s3://lake/put/t/","Columns":[{"Name":"a","Type":"string"}]}}}' 2>"$T/put.err" || st=$?
	[ "$st" -eq 1 ] && grep -q "has 1 partition keyed by (dt)" "$T/put.err" ||
		fail "a replacement without the partition keys exited with $st: $(cat "$T/put.err")"
	st=0; "$M" catalog rm "$url" "${P}put" t 2 2>"$T/rm.err" || st=$?
	[ "$st" -eq 1 ] || fail "rm of a missing partition exited with $st"
	[ "$("$M" catalog ls "$url" "${P}put" t --json)" = '[["1"]]' ] || fail "the partition did not stay"
	"$M" catalog rm "$url" "${P}put" || fail "catalog rm exited with $?"
done
echo "hms_roundtrip: ok"
