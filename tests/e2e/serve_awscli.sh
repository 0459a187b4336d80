#!/usr/bin/env bash
# `metasync serve` through the AWS CLI (Debian's aws v2, a real client): every
# Glue operation the server answers, with the exit codes and error types the
# CLI reports as Glue's own (254 and "(EntityNotFoundException)" etc.).
#   databases      create/get/get-databases/update/delete-database
#   tables         create/get/get-tables --expression/update (--skip-archive,
#                  --version-id: a stale one is ConcurrentModificationException)/
#                  delete/batch-delete-table with per-item Errors
#   versions       get-table-versions/get-table-version/delete-table-version/
#                  batch-delete-table-version after archiving updates
#   partitions     create/batch-create (per-item Errors)/get/batch-get/update/
#                  batch-update/delete/batch-delete-partition
#   filters        get-partitions --expression on string, int and date keys,
#                  checked against the same filter computed by jq
#   segments       get-partitions --segment: disjoint, union is the table
#   exclude        get-partitions --exclude-column-schema
#   pagination     3,000 partitions read 50 a page, databases and tables a few a
#                  page: each exactly once (the CLI fails on a repeated NextToken)
#   auth           a wrong secret, an unknown key, a missing or wrong session token
#   limits         --max-results 0 is refused by the CLI itself
#   cross_account  grants: reads with --catalog-id, denials, isolated listings
#   search         search-tables by text and by DatabaseName
#   metrics        /healthz, /metrics counting requests by operation and error
#   drain          a request in flight at SIGTERM is answered, then exit 0
# and at the end, whatever cases ran: SIGTERM stops the server with exit 0.
# usage: serve_awscli.sh PATH-TO-METASYNC [CASE...]
set -u -o pipefail
M=${1:?usage: serve_awscli.sh PATH-TO-METASYNC [CASE...]}
shift
TEST=serve_awscli
. "${MS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/serve_e2e.sh"
need_clients
T=$(mktemp -d "${TMPDIR:-/tmp}/metasync-serve-awscli.XXXXXX")
trap 'cleanup_servers; rm -rf "$T"' EXIT
write_accounts
start_server main
MAIN=$SERVER

# keys_table NAME [DESCRIPTION]: a TableInput partitioned by region (string), n (int), dt (date)
keys_table() {
	jq -cn --arg n "$1" --arg d "${2:-}" '{Name: $n, Description: $d,
		StorageDescriptor: {Columns: [{Name: "id", Type: "bigint"}], Location: "s3://lake/\($n)"},
		PartitionKeys: [{Name: "region", Type: "string"}, {Name: "n", Type: "int"},
			{Name: "dt", Type: "date"}]}'
}
# part REGION N DT [LOCATION]: a PartitionInput of a keys_table
part() {
	jq -cn --arg r "$1" --arg n "$2" --arg d "$3" --arg l "${4:-s3://lake/$1/$2}" \
		'{Values: [$r, $n, $d], StorageDescriptor: {Columns: [{Name: "id", Type: "bigint"}],
		Location: $l}}'
}
# new_db NAME: create database NAME in A's catalog
new_db() { glue_ok A create-database --database-input "{\"Name\":\"$1\"}"; }

case_databases() {
	glue_ok A create-database --database-input '{"Name":"Dbs_Sales","Description":"first"}'
	glue_ok A get-database --name dbs_sales
	want "the name, folded" "$(jout .Database.Name)" dbs_sales
	want "the description" "$(jout .Database.Description)" first
	want "the catalog" "$(jout .Database.CatalogId)" "$ACCT_A"
	expect_error AlreadyExistsException awsg A create-database --database-input '{"Name":"dbs_sales"}'
	glue_ok A update-database --name dbs_sales \
		--database-input '{"Name":"dbs_sales","Description":"second"}'
	glue_ok A get-database --name DBS_SALES
	want "the description after update-database" "$(jout .Database.Description)" second
	glue_ok A get-databases
	want "dbs_sales in get-databases" "$(jout '[.DatabaseList[] | select(.Name == "dbs_sales")] | length')" 1
	glue_ok A delete-database --name dbs_sales
	expect_error EntityNotFoundException awsg A get-database --name dbs_sales
	grep -q "dbs_sales" "$T/err.txt" || fail "EntityNotFoundException does not name the database"
	expect_error EntityNotFoundException awsg A delete-database --name dbs_sales
	expect_error EntityNotFoundException awsg A update-database --name dbs_sales \
		--database-input '{"Name":"dbs_sales"}'
}

case_tables() {
	new_db tbl
	glue_ok A create-table --database-name tbl --table-input "$(keys_table Orders v0)"
	glue_ok A get-table --database-name tbl --name orders
	want "a new table's VersionId" "$(jout .Table.VersionId)" 0
	want "its DatabaseName" "$(jout .Table.DatabaseName)" tbl
	want "its partition keys" "$(jout '[.Table.PartitionKeys[].Name] | join(",")')" region,n,dt
	expect_error AlreadyExistsException awsg A create-table --database-name tbl \
		--table-input "$(keys_table orders)"
	expect_error EntityNotFoundException awsg A get-table --database-name tbl --name nosuch
	expect_error EntityNotFoundException awsg A get-table --database-name nosuchdb --name orders
	expect_error EntityNotFoundException awsg A create-table --database-name nosuchdb \
		--table-input "$(keys_table orders)"

	glue_ok A create-table --database-name tbl --table-input "$(keys_table orders_2024)"
	glue_ok A create-table --database-name tbl --table-input "$(keys_table customers)"
	glue_ok A get-tables --database-name tbl --expression 'orders.*'
	want "get-tables --expression 'orders.*'" "$(jout '[.TableList[].Name] | sort | join(" ")')" \
		"orders orders_2024"
	glue_ok A get-tables --database-name tbl --expression 'CUST.*'
	want "get-tables --expression 'CUST.*'" "$(jout '[.TableList[].Name] | join(" ")')" customers
	glue_ok A get-tables --database-name tbl
	want "get-tables" "$(jout '.TableList | length')" 3

	glue_ok A update-table --database-name tbl --table-input "$(keys_table orders v1)"
	glue_ok A get-table --database-name tbl --name orders
	want "VersionId after update-table" "$(jout .Table.VersionId)" 1
	expect_error ConcurrentModificationException awsg A update-table --database-name tbl \
		--version-id 0 --table-input "$(keys_table orders stale)"
	glue_ok A get-table --database-name tbl --name orders
	want "the description after a refused update" "$(jout .Table.Description)" v1
	glue_ok A update-table --database-name tbl --version-id 1 --table-input "$(keys_table orders v2)"
	glue_ok A update-table --database-name tbl --skip-archive --table-input "$(keys_table orders v3)"
	glue_ok A get-table --database-name tbl --name orders
	want "VersionId after three updates" "$(jout .Table.VersionId)" 3
	want "the description after three updates" "$(jout .Table.Description)" v3

	glue_ok A delete-table --database-name tbl --name customers
	expect_error EntityNotFoundException awsg A get-table --database-name tbl --name customers
	expect_error EntityNotFoundException awsg A delete-table --database-name tbl --name customers
	glue_ok A batch-delete-table --database-name tbl --tables-to-delete orders_2024 nosuch
	want "batch-delete-table's Errors" \
		"$(jout '[.Errors[] | "\(.TableName) \(.ErrorDetail.ErrorCode)"] | join(",")')" \
		"nosuch EntityNotFoundException"
	expect_error EntityNotFoundException awsg A get-table --database-name tbl --name orders_2024
}

# versions: 0 created, 1 and 2 archived updates, 3 with --skip-archive (2 is not kept)
case_versions() {
	local v
	new_db ver
	glue_ok A create-table --database-name ver --table-input "$(keys_table t v0)"
	for v in 1 2; do
		glue_ok A update-table --database-name ver --table-input "$(keys_table t "v$v")"
	done
	glue_ok A update-table --database-name ver --skip-archive --table-input "$(keys_table t v3)"
	glue_ok A get-table-versions --database-name ver --table-name t
	want "get-table-versions' VersionIds" "$(jout '[.TableVersions[].VersionId] | sort | join(" ")')" \
		"0 1 3"
	want "each version's own document" \
		"$(jout '[.TableVersions[] | select(.Table.Description != "v\(.VersionId)")] | length')" 0
	glue_ok A get-table-version --database-name ver --table-name t --version-id 1
	want "version 1's description" "$(jout .TableVersion.Table.Description)" v1
	want "version 1's VersionId" "$(jout .TableVersion.VersionId)" 1
	expect_error EntityNotFoundException awsg A get-table-version --database-name ver \
		--table-name t --version-id 2

	glue_ok A delete-table-version --database-name ver --table-name t --version-id 0
	expect_error EntityNotFoundException awsg A get-table-version --database-name ver \
		--table-name t --version-id 0
	glue_ok A batch-delete-table-version --database-name ver --table-name t --version-ids 1 7
	want "batch-delete-table-version's Errors" \
		"$(jout '[.Errors[] | "\(.VersionId) \(.ErrorDetail.ErrorCode)"] | join(",")')" \
		"7 EntityNotFoundException"
	glue_ok A get-table-versions --database-name ver --table-name t
	want "the versions left" "$(jout '[.TableVersions[].VersionId] | join(" ")')" 3
	expect_error InvalidInputException awsg A delete-table-version --database-name ver \
		--table-name t --version-id 3
}

case_partitions() {
	local p1 p2
	new_db prt
	glue_ok A create-table --database-name prt --table-input "$(keys_table ev)"
	p1=(--database-name prt --table-name ev)
	glue_ok A create-partition "${p1[@]}" --partition-input "$(part eu 1 2024-01-01)"
	glue_ok A get-partition "${p1[@]}" --partition-values eu 1 2024-01-01
	want "the partition's location" "$(jout .Partition.StorageDescriptor.Location)" s3://lake/eu/1
	want "the partition's values" "$(jout '.Partition.Values | join(",")')" eu,1,2024-01-01
	expect_error AlreadyExistsException awsg A create-partition "${p1[@]}" \
		--partition-input "$(part eu 1 2024-01-01)"
	expect_error InvalidInputException awsg A create-partition "${p1[@]}" \
		--partition-input '{"Values":["eu","1"]}'
	expect_error EntityNotFoundException awsg A get-partition "${p1[@]}" \
		--partition-values eu 9 2024-01-01
	expect_error EntityNotFoundException awsg A get-partition --database-name prt \
		--table-name nosuch --partition-values eu 1 2024-01-01

	glue_ok A batch-create-partition "${p1[@]}" --partition-input-list \
		"[$(part eu 2 2024-01-02),$(part eu 1 2024-01-01),{\"Values\":[\"us\",\"3\"]}]"
	want "batch-create-partition's Errors" \
		"$(jout '[.Errors[] | "\(.PartitionValues | join("/")) \(.ErrorDetail.ErrorCode)"] | join(",")')" \
		"eu/1/2024-01-01 AlreadyExistsException,us/3 InvalidInputException"
	glue_ok A batch-get-partition "${p1[@]}" --partitions-to-get \
		'[{"Values":["eu","1","2024-01-01"]},{"Values":["eu","2","2024-01-02"]},{"Values":["xx","9","2024-01-01"]}]'
	want "batch-get-partition (a missing one left out)" \
		"$(jout '[.Partitions[].Values[1]] | sort | join(",")')" 1,2

	glue_ok A update-partition "${p1[@]}" --partition-value-list eu 1 2024-01-01 \
		--partition-input "$(part eu 1 2024-01-01 s3://moved/1)"
	glue_ok A get-partition "${p1[@]}" --partition-values eu 1 2024-01-01
	want "the location after update-partition" "$(jout .Partition.StorageDescriptor.Location)" \
		s3://moved/1
	p2=$(part eu 2 2024-01-02 s3://moved/2)
	glue_ok A batch-update-partition "${p1[@]}" --entries \
		"[{\"PartitionValueList\":[\"eu\",\"2\",\"2024-01-02\"],\"PartitionInput\":$p2},
		  {\"PartitionValueList\":[\"zz\",\"0\",\"2024-01-01\"],\"PartitionInput\":$(part zz 0 2024-01-01)}]"
	want "batch-update-partition's Errors" \
		"$(jout '[.Errors[] | "\(.PartitionValueList | join("/")) \(.ErrorDetail.ErrorCode)"] | join(",")')" \
		"zz/0/2024-01-01 EntityNotFoundException"
	glue_ok A get-partition "${p1[@]}" --partition-values eu 2 2024-01-02
	want "the location after batch-update-partition" \
		"$(jout .Partition.StorageDescriptor.Location)" s3://moved/2

	glue_ok A delete-partition "${p1[@]}" --partition-values eu 1 2024-01-01
	expect_error EntityNotFoundException awsg A get-partition "${p1[@]}" \
		--partition-values eu 1 2024-01-01
	expect_error EntityNotFoundException awsg A delete-partition "${p1[@]}" \
		--partition-values eu 1 2024-01-01
	glue_ok A batch-delete-partition "${p1[@]}" --partitions-to-delete \
		'[{"Values":["eu","2","2024-01-02"]},{"Values":["no","0","2024-01-01"]}]'
	want "batch-delete-partition's Errors" \
		"$(jout '[.Errors[] | "\(.PartitionValues | join("/")) \(.ErrorDetail.ErrorCode)"] | join(",")')" \
		"no/0/2024-01-01 EntityNotFoundException"
	glue_ok A get-partitions "${p1[@]}"
	want "partitions left" "$(jout '.Partitions | length')" 0
}

# The 60 partitions of flt.f: regions eu, us, ap times n 0..19, dt 2024-01-(n+1);
# $T/flt.json holds them as [{region, n, dt}] for jq to filter.
FILTER_ROWS='[("eu", "us", "ap") as $r | range(20) as $n
	| {region: $r, n: $n, dt: "2024-01-\(if $n < 9 then "0" else "" end)\($n + 1)"}]'
# filters, segments and exclude share it: the first one creates it.
filter_table() {
	jq -n "$FILTER_ROWS" >"$T/flt.json"
	awsg A get-table --database-name flt --name f >/dev/null 2>&1 && return 0
	new_db flt
	glue_ok A create-table --database-name flt --table-input "$(keys_table f)"
	glue_ok A batch-create-partition --database-name flt --table-name f --partition-input-list \
		"$(jq -c '[.[] | {Values: [.region, "\(.n)", .dt],
			StorageDescriptor: {Columns: [{Name: "id", Type: "bigint"}]}}]' "$T/flt.json")"
	want "batch-create-partition's Errors" "$(jout '.Errors | length')" 0
}

# check_filter EXPRESSION JQ-CONDITION: get-partitions --expression returns exactly
# the rows the condition selects
check_filter() {
	local got expected
	glue_ok A get-partitions --database-name flt --table-name f --expression "$1"
	got=$(jout '[.Partitions[].Values | join("/")] | sort | join(" ")')
	expected=$(jq -r "[.[] | select($2) | \"\\(.region)/\\(.n)/\\(.dt)\"] | sort | join(\" \")" \
		"$T/flt.json")
	[ -n "$expected" ] || fail "the filter '$1' selects nothing: a weak check"
	want "get-partitions --expression \"$1\"" "$got" "$expected"
}

case_filters() {
	filter_table
	check_filter "region = 'eu'" '.region == "eu"'
	check_filter "n < 3" '.n < 3'
	check_filter "n >= 18 AND region <> 'us'" '.n >= 18 and .region != "us"'
	check_filter "region = 'ap' OR n = 7" '.region == "ap" or .n == 7'
	check_filter "NOT (region = 'eu') AND n <= 1" '.region != "eu" and .n <= 1'
	check_filter "region IN ('eu', 'ap') AND n IN (2, 12)" \
		'(.region == "eu" or .region == "ap") and (.n == 2 or .n == 12)'
	check_filter "n BETWEEN 9 AND 11" '.n >= 9 and .n <= 11'
	check_filter "dt BETWEEN '2024-01-05' AND '2024-01-07'" '.dt >= "2024-01-05" and .dt <= "2024-01-07"'
	check_filter "dt > '2024-01-18' AND region = 'us'" '.dt > "2024-01-18" and .region == "us"'
	check_filter "region LIKE 'e%'" '.region | startswith("e")'
	check_filter "region LIKE '_s' AND (n = 0 OR n = 19)" '.region == "us" and (.n == 0 or .n == 19)'
	expect_error InvalidInputException awsg A get-partitions --database-name flt --table-name f \
		--expression "nosuchkey = 'x'"
}

case_segments() {
	local s
	filter_table
	: >"$T/segments.txt"
	for s in 0 1 2; do
		glue_ok A get-partitions --database-name flt --table-name f \
			--segment SegmentNumber=$s,TotalSegments=3
		jout '.Partitions[].Values | join("/")' >>"$T/segments.txt"
	done
	want "partitions in more than one segment" "$(sort "$T/segments.txt" | uniq -d | wc -l)" 0
	want "partitions of the 3 segments" "$(sort -u "$T/segments.txt" | wc -l)" 60
}

case_exclude() {
	filter_table
	glue_ok A get-partitions --database-name flt --table-name f --exclude-column-schema
	want "partitions returned" "$(jout '.Partitions | length')" 60
	want "partitions with Columns under --exclude-column-schema" \
		"$(jout '[.Partitions[] | select(.StorageDescriptor.Columns)] | length')" 0
	glue_ok A get-partitions --database-name flt --table-name f
	want "partitions with Columns without it" \
		"$(jout '[.Partitions[] | select(.StorageDescriptor.Columns)] | length')" 60
}

# 3,000 partitions (30 batch-create-partition calls of 100) read 50 a page
case_pagination() {
	local b before i
	new_db pag
	glue_ok A create-table --database-name pag --table-input \
		'{"Name":"big","PartitionKeys":[{"Name":"day","Type":"string"},{"Name":"n","Type":"int"}]}'
	for b in $(seq -w 0 29); do
		jq -n --arg b "$b" '{DatabaseName: "pag", TableName: "big",
			PartitionInputList: [range(100) as $i | {Values: ["d\($b)", "\($i)"]}]}' >"$T/batch.json"
		glue_ok A batch-create-partition --cli-input-json "file://$T/batch.json"
		want "batch $b's Errors" "$(jout '.Errors | length')" 0
	done
	before=$(metric GetPartitions "")
	glue_ok A get-partitions --database-name pag --table-name big --page-size 50
	want "partitions read" "$(jout '.Partitions | length')" 3000
	want "distinct partitions read" "$(jout '[.Partitions[].Values | join("/")] | unique | length')" 3000
	want "GetPartitions requests for 3,000 at 50 a page" "$(($(metric GetPartitions "") - before))" 60
	# stopped after 70 (mid-page) and resumed from the CLI's token
	glue_ok A get-partitions --database-name pag --table-name big --page-size 50 --max-items 70
	jout '.Partitions[].Values | join("/")' >"$T/resumed.txt"
	glue_ok A get-partitions --database-name pag --table-name big --page-size 50 \
		--starting-token "$(jout .NextToken)"
	jout '.Partitions[].Values | join("/")' >>"$T/resumed.txt"
	want "partitions read in two runs" "$(wc -l <"$T/resumed.txt")" 3000
	want "distinct partitions read in two runs" "$(sort -u "$T/resumed.txt" | wc -l)" 3000

	for i in $(seq -w 0 12); do
		new_db "pg_db_$i"
		glue_ok A create-table --database-name pag --table-input "{\"Name\":\"pg_t_$i\"}"
	done
	glue_ok A get-databases --page-size 5
	want "pg_db_ databases read 5 a page" \
		"$(jout '[.DatabaseList[].Name | select(startswith("pg_db_"))] | unique | length')" 13
	want "databases read twice" "$(jout '[.DatabaseList[].Name] | (length - (unique | length))')" 0
	glue_ok A get-tables --database-name pag --page-size 4
	want "pg_t_ tables read 4 a page" \
		"$(jout '[.TableList[].Name | select(startswith("pg_t_"))] | unique | length')" 13
	want "tables read twice" "$(jout '[.TableList[].Name] | (length - (unique | length))')" 0
}

case_auth() {
	expect_error InvalidSignatureException awsg_key "$KEY_A" wrong-secret "" get-databases
	expect_error UnrecognizedClientException awsg_key AKIAEXAMPLEUNKNOWN99 "$SECRET_A" "" \
		get-databases
	expect_error UnrecognizedClientException awsg_key "$KEY_C" "$SECRET_C" "" get-databases
	expect_error UnrecognizedClientException awsg_key "$KEY_C" "$SECRET_C" wrong-token \
		get-databases
	glue_ok C get-databases
	grep -q "$SECRET_A" "$T/main.log" && fail "the server's log holds a secret"
	return 0
}

case_limits() {
	local st=0
	awsg A get-databases --max-results 0 >"$T/out.json" 2>"$T/err.txt" || st=$?
	want "the CLI's exit status for --max-results 0" "$st" 252
	grep -q "valid min value: 1" "$T/err.txt" || fail "the CLI did not say why: $(cat "$T/err.txt")"
}

case_cross_account() {
	local db
	for db in shared pub_web private; do new_db "$db"; done
	glue_ok A create-table --database-name shared --table-input "$(keys_table t1)"
	glue_ok A create-table --database-name private --table-input "$(keys_table secret_t)"
	glue_ok A create-partition --database-name shared --table-name t1 \
		--partition-input "$(part eu 1 2024-01-01)"

	glue_ok B get-database --catalog-id "$ACCT_A" --name shared
	want "B's read of A's shared: CatalogId" "$(jout .Database.CatalogId)" "$ACCT_A"
	glue_ok B get-tables --catalog-id "$ACCT_A" --database-name shared
	want "B's get-tables of A's shared" "$(jout '[.TableList[].Name] | join(" ")')" t1
	glue_ok B get-partitions --catalog-id "$ACCT_A" --database-name shared --table-name t1
	want "B's get-partitions of A's shared.t1" "$(jout '.Partitions | length')" 1
	glue_ok B get-databases --catalog-id "$ACCT_A"
	want "A's databases as B sees them" "$(jout '[.DatabaseList[].Name] | sort | join(" ")')" \
		"pub_web shared"

	expect_error AccessDeniedException awsg B get-database --catalog-id "$ACCT_A" --name private
	expect_error AccessDeniedException awsg B get-tables --catalog-id "$ACCT_A" \
		--database-name private
	expect_error AccessDeniedException awsg B create-table --catalog-id "$ACCT_A" \
		--database-name shared --table-input "$(keys_table by_b)"
	expect_error AccessDeniedException awsg B delete-database --catalog-id "$ACCT_A" --name shared
	expect_error AccessDeniedException awsg B create-partition --catalog-id "$ACCT_A" \
		--database-name shared --table-name t1 --partition-input "$(part eu 2 2024-01-02)"

	glue_ok B get-databases
	want "A's databases in B's own catalog" \
		"$(jout '[.DatabaseList[].Name | select(. == "shared" or . == "pub_web" or . == "private")] | length')" 0
	glue_ok B create-database --database-input '{"Name":"b_only"}'
	glue_ok A get-databases
	want "B's database in A's catalog" "$(jout '[.DatabaseList[].Name | select(. == "b_only")] | length')" 0
	expect_error AccessDeniedException awsg A get-database --catalog-id "$ACCT_B" --name b_only
	expect_error AccessDeniedException awsg A get-databases --catalog-id "$ACCT_B"

	glue_ok C create-table --catalog-id "$ACCT_A" --database-name shared \
		--table-input "$(keys_table by_c)"
	glue_ok A get-table --database-name shared --name by_c
	want "C's table in A's shared: DatabaseName" "$(jout .Table.DatabaseName)" shared
	expect_error AccessDeniedException awsg C create-table --catalog-id "$ACCT_A" \
		--database-name pub_web --table-input "$(keys_table by_c)"

	glue_ok B search-tables --catalog-id "$ACCT_A" --search-text t
	want "tables of ungranted databases in B's search of A" \
		"$(jout '[.TableList[] | select(.DatabaseName != "shared" and (.DatabaseName | startswith("pub_")|not))] | length')" 0
	want "A's shared.t1 in B's search" \
		"$(jout '[.TableList[] | select(.DatabaseName == "shared" and .Name == "t1")] | length')" 1
}

case_search() {
	new_db srch
	glue_ok A create-table --database-name srch --table-input \
		'{"Name":"clicks","Description":"web clicks by page"}'
	glue_ok A create-table --database-name srch --table-input '{"Name":"orders_eu"}'
	glue_ok A create-table --database-name srch --table-input '{"Name":"orders_us"}'
	glue_ok A search-tables --search-text orders --filters Key=DatabaseName,Value=srch
	want "search-tables 'orders' in srch" "$(jout '[.TableList[].Name] | sort | join(" ")')" \
		"orders_eu orders_us"
	glue_ok A search-tables --search-text "by page"
	want "search-tables by description" \
		"$(jout '[.TableList[] | select(.DatabaseName == "srch") | .Name] | join(" ")')" clicks
	glue_ok A search-tables --filters Key=DatabaseName,Value=srch --sort-criteria \
		FieldName=Name,Sort=DESC
	want "search-tables sorted by name, descending" "$(jout '[.TableList[].Name] | join(" ")')" \
		"orders_us orders_eu clicks"
}

case_metrics() {
	local ok0 nf0 sig0
	want "/healthz's status" "$(curl -s -o "$T/healthz" -w '%{http_code}' "$ENDPOINT/healthz")" 200
	want "/healthz's body" "$(cat "$T/healthz")" ok
	new_db met
	glue_ok A create-table --database-name met --table-input '{"Name":"m"}'
	ok0=$(metric GetTable "")
	nf0=$(metric GetTable EntityNotFoundException)
	sig0=$(metric GetDatabases InvalidSignatureException)
	glue_ok A get-table --database-name met --name m
	glue_ok A get-table --database-name met --name m
	expect_error EntityNotFoundException awsg A get-table --database-name met --name nosuch
	want "GetTable successes counted" "$(($(metric GetTable "") - ok0))" 2
	want "GetTable EntityNotFoundException counted" "$(($(metric GetTable EntityNotFoundException) - nf0))" 1
	expect_error InvalidSignatureException awsg_key "$KEY_A" wrong-secret "" get-databases
	want "GetDatabases InvalidSignatureException counted" \
		"$(($(metric GetDatabases InvalidSignatureException) - sig0))" 1
	curl -s "$ENDPOINT/metrics" | grep -qE '^metasync_glue_request_seconds_count [1-9]' ||
		fail "/metrics has no request_seconds_count"
}

# in_flight N: the server at $ENDPOINT answers N requests now (metasync_glue_in_flight)
in_flight() {
	[ "$(curl -s "$ENDPOINT/metrics" | awk '$1 == "metasync_glue_in_flight" { print $2 }')" = "$1" ]
}

# A request in flight when SIGTERM comes is answered before the server exits 0.
case_drain() {
	local client
	start_server drain --latency 2s
	trap 'kill -KILL "$SERVER" 2>/dev/null' EXIT
	(st=0; awsg A get-databases >"$T/drain.json" 2>"$T/drain.err" || st=$?; echo "$st" >"$T/drain.rc") &
	client=$!
	wait_for "the request to be in flight" in_flight 1
	stop_server "$SERVER"
	wait "$client"
	want "the CLI's exit status for the request SIGTERM drained" "$(cat "$T/drain.rc")" 0
	want "its answer" "$(jq -c .DatabaseList "$T/drain.json")" "[]"
}

# HTTPS with --tls-cert/--tls-key: the CLI trusts the certificate through
# --ca-bundle and works; without it, the CLI refuses the server.
case_tls() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.crt" \
		>/dev/null 2>&1 || fail "openssl could not make a certificate"
	start_server tls --tls-cert "$T/tls.crt" --tls-key "$T/tls.key"
	trap 'kill -KILL "$SERVER" 2>/dev/null' EXIT
	has_line "$T/tls.log" 'https://' || fail "the server does not say it serves https"
	ENDPOINT=https://127.0.0.1:$PORT
	glue_ok A create-database --database-input '{"Name":"over_tls"}' --ca-bundle "$T/tls.crt"
	want "a database read over TLS" \
		"$(awsg A get-database --name over_tls --ca-bundle "$T/tls.crt" | jq -r .Database.Name)" \
		over_tls
	awsg A get-databases >/dev/null 2>&1 && fail "the CLI trusted an unknown certificate"
	stop_server "$SERVER"
}

# In the test's own shell (not a case's subshell): the server is its child.
stop_main() {
	CASE=sigterm
	stop_server "$MAIN"
	grep -q "SIGTERM: finishing" "$T/main.log" || fail "the server did not say it was stopping"
	curl -s -o /dev/null "$ENDPOINT/healthz" && fail "the server still answers after SIGTERM"
	return 0
}

ALL=(databases tables versions partitions filters segments exclude pagination auth limits
	cross_account search metrics drain tls)
[ $# -gt 0 ] || set -- "${ALL[@]}"
run_cases "$@"
stop_main
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "FAIL: $TEST: ${#FAILED[@]} case(s) failed: ${FAILED[*]}" >&2
	exit 1
fi
echo "$TEST: ok"
