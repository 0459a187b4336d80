/*
 * Unit tests of the model against Glue's service model: every constraint of
 * the field tables (lengths, the single-line and text patterns, integer
 * ranges) on both input paths (Glue JSON and snapshot lines), the partition
 * value check shared by every writer, the check of Glue's *Input shapes a
 * server runs on requests, and the Glue output shape that answers carry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "text.h"
#include "metasync/model.h"
#include "util/buf.h"

/* ---- helpers ---------------------------------------------------------- */

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ms_entity_from_glue of json (a Glue-shape document of kind in database d, table t). */
static int from_glue(ms_kind kind, const char *json, ms_entity **out, ms_error *err)
{
	cJSON *doc = cJSON_Parse(json);

	if (!doc)
		fail_msg("test json does not parse: %.300s", json);
	*out = NULL;
	ms_error_clear(err);
	return ms_entity_from_glue(out, kind, doc, "d", "t", err);
}

static void glue_ok(ms_kind kind, const char *json)
{
	ms_entity *e;
	ms_error err;

	if (from_glue(kind, json, &e, &err) != 0)
		fail_msg("refused: %s\n  %.300s", err.message, json);
	ms_entity_free(e);
}

static void glue_err(ms_kind kind, const char *json, const char *message)
{
	ms_entity *e;
	ms_error err;
	int rc = from_glue(kind, json, &e, &err);

	if (rc != MS_EINVAL)
		fail_msg("expected EINVAL '%s', got %d for %.300s", message, rc, json);
	assert_null(e);
	if (strcmp(err.message, message))
		fail_msg("message\n  got:      '%s'\n  expected: '%s'", err.message, message);
}

/* The same document as a snapshot line item, whose messages use its spelling. */
static void line_err(ms_kind kind, const char *item, const char *message)
{
	static const char *const envelopes[] = {
		NULL,
		"{\"type\":\"database\",\"item\":%s}",
		"{\"database\":\"d\",\"type\":\"table\",\"item\":%s}",
		"{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":%s}",
	};
	char *line = ms_test_fmt(envelopes[kind], item);
	ms_entity *e = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_entity_from_line(&e, line, strlen(line), 0, &err);
	if (rc != MS_EINVAL)
		fail_msg("expected EINVAL '%s', got %d for %.300s", message, rc, line);
	assert_null(e);
	if (strcmp(err.message, message))
		fail_msg("message\n  got:      '%s'\n  expected: '%s'", err.message, message);
	free(line);
}

/* A copy of e that carries its document as text only (as raw scans give entities). */
static ms_entity *raw_copy(const ms_entity *e)
{
	ms_buf b = MS_BUF_INIT(1 << 26);
	ms_entity *raw;
	ms_error err;

	assert_int_equal(ms_entity_dup(&raw, e, &err), 0);
	assert_int_equal(ms_entity_to_glue(e, &b, 0, &err), 0);
	cJSON_Delete(raw->doc);
	raw->doc = NULL;
	raw->raw_len = b.len;
	raw->raw = ms_buf_detach(&b);
	return raw;
}

/* ms_glue_input_check of json: 0, or its message equals message. */
static void input_is(ms_kind kind, const char *json, const char *message)
{
	cJSON *in = cJSON_Parse(json), *copy;
	ms_error err;
	int rc;

	if (!in)
		fail_msg("test json does not parse: %.300s", json);
	copy = cJSON_Duplicate(in, 1);
	ms_error_clear(&err);
	rc = ms_glue_input_check(kind, in, &err);
	if (!message && rc != 0)
		fail_msg("input refused: %s\n  %.300s", err.message, json);
	if (message && (rc != MS_EINVAL || strcmp(err.message, message)))
		fail_msg("input check of %.300s\n  got:      %d '%s'\n  expected: '%s'", json, rc,
			 rc ? err.message : "", message);
	/* the input is borrowed: unchanged */
	assert_true(cJSON_Compare(in, copy, 1));
	cJSON_Delete(in);
	cJSON_Delete(copy);
}

/* ---- the gaps found by testing --------------------------------------- */

static void test_database_location_uri(void **state)
{
	char *uri = repeat('u', 1107), *json, *item;

	(void)state;
	memcpy(uri, "s3://", 5);
	json = ms_test_fmt("{\"Name\":\"d\",\"LocationUri\":\"%s\"}", uri);
	glue_err(MS_KIND_DATABASE, json, "field 'LocationUri' is longer than 1024 characters");
	item = ms_test_fmt("{\"name\":\"d\",\"locationUri\":\"%s\"}", uri);
	line_err(MS_KIND_DATABASE, item, "field 'locationUri' is longer than 1024 characters");
	free(json);
	free(item);
	uri[1024] = '\0';
	json = ms_test_fmt("{\"Name\":\"d\",\"LocationUri\":\"%s\"}", uri);
	glue_ok(MS_KIND_DATABASE, json);
	free(json);
	glue_err(MS_KIND_DATABASE, "{\"Name\":\"d\",\"LocationUri\":\"\"}",
		 "field 'LocationUri' is empty");
	/* Glue's URI takes line breaks, not other control characters */
	glue_ok(MS_KIND_DATABASE, "{\"Name\":\"d\",\"LocationUri\":\"s3://b/\\r\\nx\\t\"}");
	glue_err(MS_KIND_DATABASE, "{\"Name\":\"d\",\"LocationUri\":\"s3://b/\\u0007\"}",
		 "field 'LocationUri' holds a control character");
	free(uri);
}

static void test_table_owner(void **state)
{
	char *owner = repeat('o', 256), *json;

	(void)state;
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"Owner\":\"\"}", "field 'Owner' is empty");
	line_err(MS_KIND_TABLE, "{\"name\":\"t\",\"owner\":\"\"}", "field 'owner' is empty");
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"Owner\":\"a\\nb\"}",
		 "field 'Owner' holds a control character");
	json = ms_test_fmt("{\"Name\":\"t\",\"Owner\":\"%s\"}", owner);
	glue_err(MS_KIND_TABLE, json, "field 'Owner' is longer than 255 characters");
	free(json);
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"Owner\":\"hadoop\\tadmin\"}");
	free(owner);
}

static void test_sort_order(void **state)
{
	(void)state;
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"SortColumns\":[{\"Column\":\"a\","
		 "\"SortOrder\":1},{\"Column\":\"b\",\"SortOrder\":2}]}}",
		 "field 'StorageDescriptor.SortColumns[1].SortOrder' must be 0 or 1");
	line_err(MS_KIND_TABLE,
		 "{\"name\":\"t\",\"storageDescriptor\":{\"sortColumns\":[{\"column\":\"a\","
		 "\"order\":-1}]}}",
		 "field 'storageDescriptor.sortColumns[0].order' must be 0 or 1");
	glue_ok(MS_KIND_TABLE,
		"{\"Name\":\"t\",\"StorageDescriptor\":{\"SortColumns\":["
		"{\"Column\":\"a\",\"SortOrder\":0},{\"Column\":\"b\",\"SortOrder\":1}]}}");
}

static void test_retention(void **state)
{
	(void)state;
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"Retention\":-1}",
		 "field 'Retention' must not be negative");
	line_err(MS_KIND_TABLE, "{\"name\":\"t\",\"retention\":-7}",
		 "field 'retention' must not be negative");
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"Retention\":0}");
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"Retention\":2147483647}");
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"Retention\":2147483648}",
		 "field 'Retention' is not an integer");
	/* NumberOfBuckets is Glue's plain Integer: Hive writes -1 for none */
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"StorageDescriptor\":{\"NumberOfBuckets\":-1}}");
}

static void test_column_type_controls(void **state)
{
	char *big = repeat('t', 131073), *json;

	(void)state;
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"a\","
		 "\"Type\":\"int\\u0001\"}]}}",
		 "field 'StorageDescriptor.Columns[0].Type' holds a control character");
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"PartitionKeys\":[{\"Name\":\"a\",\"Type\":\"struct<\\na:int>\"}"
		 "]}",
		 "field 'PartitionKeys[0].Type' holds a control character");
	line_err(MS_KIND_TABLE,
		 "{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[{\"name\":\"a\","
		 "\"type\":\"map<string,\\nint>\"}]}}",
		 "field 'storageDescriptor.columns[0].type' holds a control character");
	glue_ok(MS_KIND_TABLE,
		"{\"Name\":\"t\",\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"a\","
		"\"Type\":\"struct<a:int,\\tb:string>\",\"Comment\":\"\"}]}}");
	json = ms_test_fmt("{\"Name\":\"t\",\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"a\","
			   "\"Type\":\"%s\"}]}}",
			   big);
	glue_err(MS_KIND_TABLE, json,
		 "field 'StorageDescriptor.Columns[0].Type' is longer than 131072 characters");
	free(json);
	free(big);
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"a\","
		 "\"Comment\":\"one\\rtwo\"}]}}",
		 "field 'StorageDescriptor.Columns[0].Comment' holds a control character");
}

static void test_partition_values(void **state)
{
	char *big = repeat('v', 1025), *json;

	(void)state;
	glue_err(MS_KIND_PARTITION, "{\"Values\":[\"\"]}", "field 'Values[0]' is empty");
	line_err(MS_KIND_PARTITION, "{\"values\":[\"2024\",\"\"]}", "field 'values[1]' is empty");
	json = ms_test_fmt("{\"Values\":[\"%s\"]}", big);
	glue_err(MS_KIND_PARTITION, json, "field 'Values[0]' is longer than 1024 characters");
	free(json);
	free(big);
	/* ValueString has no pattern: any character but none at all */
	glue_ok(MS_KIND_PARTITION,
		"{\"Values\":[\" \",\"a\\nb\",\"\\u0001\",\"__HIVE_DEFAULT_PARTITION__\"]}");
}

static ms_entity *entity(ms_kind kind, const char *json)
{
	ms_entity *e;
	ms_error err;

	if (from_glue(kind, json, &e, &err) != 0)
		fail_msg("refused: %s\n  %.300s", err.message, json);
	return e;
}

static void test_partition_value_count(void **state)
{
	ms_entity *t = entity(MS_KIND_TABLE,
			      "{\"Name\":\"t\",\"PartitionKeys\":[{\"Name\":\"dt\"}]}");
	ms_entity *flat = entity(MS_KIND_TABLE, "{\"Name\":\"t\"}");
	ms_entity *two = entity(MS_KIND_PARTITION, "{\"Values\":[\"2024\",\"eu\"]}");
	ms_entity *one = entity(MS_KIND_PARTITION, "{\"Values\":[\"2024\"]}");
	ms_entity *none = entity(MS_KIND_PARTITION, "{\"Values\":[]}");
	ms_error err;

	(void)state;
	assert_int_equal(ms_table_key_count(t), 1);
	assert_int_equal(ms_table_key_count(flat), 0);
	assert_int_equal(ms_table_key_count(one), -1);
	assert_int_equal(ms_partition_check_values(t, one, &err), 0);
	assert_int_equal(ms_partition_check_values(t, two, &err), MS_EINVAL);
	assert_string_equal(err.message,
			    "partition [\"2024\",\"eu\"] of 'd.t' has 2 values, the table has 1 "
			    "partition key");
	assert_int_equal(ms_partition_check_values(flat, one, &err), MS_EINVAL);
	assert_string_equal(err.message, "partition [\"2024\"] of 'd.t' has 1 value, the table "
					 "has no partition keys");
	assert_int_equal(ms_partition_check_values(t, none, &err), MS_EINVAL);
	assert_string_equal(err.message, "partition of 'd.t' has no values");
	assert_int_equal(ms_partition_check_count("a", "b", "[\"x\",\"y\"]", 2, 3, &err),
			 MS_EINVAL);
	assert_string_equal(err.message, "partition [\"x\",\"y\"] of 'a.b' has 2 values, the table "
					 "has 3 partition keys");
	assert_int_equal(ms_partition_check_count("a", "b", "[\"x\",\"y\"]", 2, 2, &err), 0);

	/* Entities that carry their documents as text are read too. */
	{
		ms_entity *raw = raw_copy(t), *raw_two = raw_copy(two);

		assert_int_equal(ms_table_key_count(raw), 1);
		assert_int_equal(ms_partition_check_values(raw, raw_two, &err), MS_EINVAL);
		assert_string_equal(err.message,
				    "partition [\"2024\",\"eu\"] of 'd.t' has 2 values, "
				    "the table has 1 partition key");
		ms_entity_free(raw);
		ms_entity_free(raw_two);
	}
	ms_entity_free(t);
	ms_entity_free(flat);
	ms_entity_free(two);
	ms_entity_free(one);
	ms_entity_free(none);
}

/* ---- every other field against its Glue shape ------------------------- */

static void test_other_limits(void **state)
{
	char *s129 = repeat('f', 129), *s256 = repeat('x', 256), *s513 = repeat('i', 513), *json;

	(void)state;
	json = ms_test_fmt("{\"Name\":\"t\",\"StorageDescriptor\":{\"InputFormat\":\"%s\"}}", s129);
	glue_err(MS_KIND_TABLE, json,
		 "field 'StorageDescriptor.InputFormat' is longer than 128 "
		 "characters");
	free(json);
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"OutputFormat\":\"a\\tb\\n\"}}",
		 "field 'StorageDescriptor.OutputFormat' holds a control character");
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"Location\":\"s3://\\u0002\"}}",
		 "field 'StorageDescriptor.Location' holds a control character");
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"StorageDescriptor\":{\"Location\":\"s3://a\\nb\","
			       "\"AdditionalLocations\":[\"s3://c\\r\\n\"]}}");
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"AdditionalLocations\":"
		 "[\"s3://c\",\"\\u001f\"]}}",
		 "field 'StorageDescriptor.AdditionalLocations[1]' holds a control character");
	/* Descriptions may span lines; nothing else */
	glue_ok(MS_KIND_DATABASE, "{\"Name\":\"d\",\"Description\":\"one\\r\\ntwo\\tthree\"}");
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"Description\":\"bell\\u0007\"}",
		 "field 'Description' holds a control character");
	json = ms_test_fmt("{\"Name\":\"t\",\"TableType\":\"%s\"}", s256);
	glue_err(MS_KIND_TABLE, json, "field 'TableType' is longer than 255 characters");
	free(json);
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"CatalogId\":\"\"}",
		 "field 'CatalogId' is empty");
	glue_err(MS_KIND_DATABASE, "{\"Name\":\"d\",\"CatalogId\":\"1\\n2\"}",
		 "field 'CatalogId' holds a control character");
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"VersionId\":\"\"}",
		 "field 'VersionId' is empty");
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"CreatedBy\":\"\"}",
		 "field 'CreatedBy' is empty");
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"SerdeInfo\":{\"Name\":\"\"}}}",
		 "field 'StorageDescriptor.SerdeInfo.Name' is empty");
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"SerdeInfo\":"
		 "{\"SerializationLibrary\":\"a\\u000bb\"}}}",
		 "field 'StorageDescriptor.SerdeInfo.SerializationLibrary' holds a control "
		 "character");
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"BucketColumns\":[\"a\",\"\"]}}",
		 "field 'StorageDescriptor.BucketColumns[1]' is empty");
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"SkewedInfo\":"
		 "{\"SkewedColumnNames\":[\"a\\nb\"]}}}",
		 "field 'StorageDescriptor.SkewedInfo.SkewedColumnNames[0]' holds a control "
		 "character");
	/* skewed values and their location map have no constraints in Glue's model */
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"StorageDescriptor\":{\"SkewedInfo\":"
			       "{\"SkewedColumnValues\":[\"\",\"\\n\"],"
			       "\"SkewedColumnValueLocationMaps\":{\"\":\"\\u0001\"}}}}");
	/* parameter keys are one line of 1..255; values anything up to 512000 */
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"Parameters\":{\"a\\nb\":\"v\"}}",
		 "key 'a?b' in field 'Parameters' holds a control character");
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"Parameters\":{\"a\\tb\":\"\\u0001\\n\"}}");
	/* U+FFFE and U+FFFF are outside every Glue pattern */
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\\uffff\"}",
		 "table name holds the character U+FFFE or U+FFFF");
	glue_err(MS_KIND_TABLE, "{\"Name\":\"t\",\"Description\":\"\\ufffe\"}",
		 "field 'Description' holds the character U+FFFE or U+FFFF");
	glue_ok(MS_KIND_TABLE, "{\"Name\":\"t\",\"Description\":\"\\ufffd \\ud83d\\ude80\"}");
	/* Glue's own structures: the members the model knows are checked */
	glue_err(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"TargetTable\":{\"DatabaseName\":\"d\",\"Name\":\"\"}}",
		 "field 'TargetTable.Name' is empty");
	line_err(MS_KIND_TABLE, "{\"name\":\"t\",\"targetTable\":{\"catalogId\":\"\"}}",
		 "field 'targetTable.CatalogId' is empty");
	glue_err(MS_KIND_DATABASE, "{\"Name\":\"d\",\"TargetDatabase\":{\"Region\":\"a\\nb\"}}",
		 "field 'TargetDatabase.Region' holds a control character");
	json = ms_test_fmt("{\"Name\":\"d\",\"FederatedDatabase\":{\"Identifier\":\"%s\"}}", s513);
	glue_err(MS_KIND_DATABASE, json,
		 "field 'FederatedDatabase.Identifier' is longer than 512 characters");
	free(json);
	glue_ok(MS_KIND_TABLE,
		"{\"Name\":\"t\",\"TargetTable\":{\"Name\":\"u\",\"FutureMember\":[1]}}");
	free(s129);
	free(s256);
	free(s513);
}

/* ---- Glue's *Input shapes ---------------------------------------------- */

static void test_input_members(void **state)
{
	(void)state;
	input_is(MS_KIND_DATABASE,
		 "{\"Name\":\"d\",\"Description\":\"x\",\"LocationUri\":\"s3://b/\",\"Parameters\":"
		 "{\"CreateTime\":\"1\"},\"CreateTableDefaultPermissions\":[{\"Principal\":"
		 "{\"DataLakePrincipalIdentifier\":\"IAM_ALLOWED_PRINCIPALS\"},\"Permissions\":"
		 "[\"ALL\"]}],\"TargetDatabase\":{\"CatalogId\":\"1\",\"DatabaseName\":\"o\"}}",
		 NULL);
	input_is(MS_KIND_DATABASE, "{\"Name\":\"d\",\"CreateTime\":1700000000}",
		 "field 'CreateTime' is not a member of DatabaseInput");
	input_is(MS_KIND_DATABASE, "{\"Name\":\"d\",\"CatalogId\":\"1\"}",
		 "field 'CatalogId' is not a member of DatabaseInput");
	input_is(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"Owner\":\"o\",\"Retention\":0,\"TableType\":\"EXTERNAL_TABLE\","
		 "\"LastAccessTime\":1700000000,\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":"
		 "\"string\"}],\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"a\",\"Type\":"
		 "\"int\","
		 "\"Comment\":\"c\",\"Parameters\":{\"k\":\"v\"}}],\"Location\":\"s3://b/t/\","
		 "\"SerdeInfo\":{\"SerializationLibrary\":\"x\",\"Parameters\":{}},\"SortColumns\":"
		 "[{\"Column\":\"a\",\"SortOrder\":1}],\"SkewedInfo\":{\"SkewedColumnNames\":["
		 "\"a\"]},"
		 "\"SchemaReference\":{\"SchemaVersionNumber\":1,\"Anything\":true}},"
		 "\"ViewDefinition\":{\"Representations\":[]},\"TargetTable\":{\"Name\":\"u\"}}",
		 NULL);
	input_is(MS_KIND_TABLE, "{\"name\":\"t\"}", "field 'name' is not a member of TableInput");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"DatabaseName\":\"d\"}",
		 "field 'DatabaseName' is not a member of TableInput");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"UpdateTime\":1}",
		 "field 'UpdateTime' is not a member of TableInput");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"IsRegisteredWithLakeFormation\":false}",
		 "field 'IsRegisteredWithLakeFormation' is not a member of TableInput");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"FederatedTable\":{}}",
		 "field 'FederatedTable' is not a member of TableInput");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"OWNER_TYPE\":\"USER\"}",
		 "field 'OWNER_TYPE' is not a member of TableInput");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"StorageDescriptor\":{\"CTLG_NAME\":\"hive\"}}",
		 "field 'StorageDescriptor.CTLG_NAME' is not a member of StorageDescriptor");
	input_is(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"a\"},"
		 "{\"Name\":\"b\",\"Flag\":1}]}}",
		 "field 'StorageDescriptor.Columns[1].Flag' is not a member of Column");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"StorageDescriptor\":{\"SerdeInfo\":{\"x\":1}}}",
		 "field 'StorageDescriptor.SerdeInfo.x' is not a member of SerDeInfo");
	input_is(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"SortColumns\":[{\"Column\":"
		 "\"a\",\"SortOrder\":0,\"NullOrder\":\"FIRST\"}]}}",
		 "field 'StorageDescriptor.SortColumns[0].NullOrder' is not a member of Order");
	input_is(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"SkewedInfo\":{\"E\":\"y\"}}}",
		 "field 'StorageDescriptor.SkewedInfo.E' is not a member of SkewedInfo");
	input_is(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"PartitionKeys\":[{\"Name\":\"a\",\"name\":\"b\"}]}",
		 "field 'PartitionKeys[0].name' is not a member of Column");
	input_is(MS_KIND_PARTITION,
		 "{\"Values\":[\"1\"],\"LastAccessTime\":1,\"LastAnalyzedTime\":2,\"Parameters\":{}"
		 ","
		 "\"StorageDescriptor\":{\"Location\":\"s3://b/t/1/\"}}",
		 NULL);
	input_is(MS_KIND_PARTITION, "{\"Values\":[\"1\"],\"TableName\":\"t\"}",
		 "field 'TableName' is not a member of PartitionInput");
	input_is(MS_KIND_PARTITION, "{\"Values\":[\"1\"],\"CreationTime\":1}",
		 "field 'CreationTime' is not a member of PartitionInput");
}

static void test_input_constraints(void **state)
{
	(void)state;
	input_is(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"StorageDescriptor\":{\"SortColumns\":[{\"Column\":"
		 "\"a\",\"SortOrder\":2}]}}",
		 "field 'StorageDescriptor.SortColumns[0].SortOrder' must be 0 or 1");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"Retention\":-1}",
		 "field 'Retention' must not be negative");
	input_is(MS_KIND_TABLE, "{\"Name\":\"t\",\"Owner\":\"\"}", "field 'Owner' is empty");
	input_is(MS_KIND_TABLE, "{\"Name\":7}", "field 'Name' is not a string");
	input_is(MS_KIND_TABLE, "{\"Owner\":\"o\"}", "field 'Name' is missing");
	input_is(MS_KIND_PARTITION, "{\"Values\":[\"\"]}", "field 'Values[0]' is empty");
	input_is(MS_KIND_DATABASE, "{\"Name\":\"D\"}", NULL);
	input_is(MS_KIND_DATABASE, "[]", "DatabaseInput is not a JSON object");
}

/* ---- Glue's output shape ----------------------------------------------- */

static char *output_of(const ms_entity *e, int pretty)
{
	ms_buf b = MS_BUF_INIT(1 << 26);
	ms_error err;

	if (ms_entity_to_glue_output(e, &b, pretty, &err) < 0)
		fail_msg("to_glue_output: %s", err.message);
	return ms_buf_detach(&b);
}

/* doc without the members at the given paths ("a.b", "a.#0.b"). */
static void drop(cJSON *doc, const char *path)
{
	char buf[256], *seg, *save = NULL;
	cJSON *parent = NULL, *v = doc;
	const char *last = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
		parent = v;
		last = seg;
		v = seg[0] == '#' ? cJSON_GetArrayItem(v, atoi(seg + 1))
				  : cJSON_GetObjectItemCaseSensitive(v, seg);
		if (!v)
			fail_msg("no member %s", path);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
}

static void test_output_shape(void **state)
{
	static const char *const foreign[] = {
		"IS_REWRITE_ENABLED",
		"OWNER_TYPE",
		"WRITE_ID",
		"someFutureField",
		"StorageDescriptor.CTLG_NAME",
		"StorageDescriptor.Columns.#1.SOME_COL_FLAG",
		"StorageDescriptor.SerdeInfo.serdeFutureField",
		"StorageDescriptor.SortColumns.#1.nullOrder",
		"StorageDescriptor.SkewedInfo.SKEW_EXTRA",
	};
	char *line = ms_test_read_fixture("model/rich_table.jsonl"), *text, *want_text;
	ms_entity *e = NULL, *raw = NULL;
	cJSON *tree, *want;
	ms_buf b = MS_BUF_INIT(1 << 26);
	ms_error err;
	size_t i;

	(void)state;
	assert_int_equal(ms_entity_from_line(&e, line, strlen(line), MS_KIND_TABLE, &err), 0);
	want = cJSON_Duplicate(e->doc, 1);
	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		drop(want, foreign[i]);
	tree = ms_entity_glue_output_tree(e, &err);
	assert_non_null(tree);
	if (!cJSON_Compare(tree, want, 1)) {
		char *got = cJSON_PrintUnformatted(tree), *exp = cJSON_PrintUnformatted(want);

		fail_msg("output shape\n  got:  %s\n  want: %s", got, exp);
	}
	/* what stays whole: Parameters, Glue's own structures */
	assert_non_null(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tree,
										  "TargetTable"),
						 "Region"));
	assert_non_null(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tree,
										  "Parameters"),
						 "metasync.replica-of"));
	/* the entity keeps everything */
	assert_non_null(cJSON_GetObjectItemCaseSensitive(e->doc, "OWNER_TYPE"));

	/* printed: the tree, keys sorted, as ms_entity_to_glue prints */
	for (int pretty = 0; pretty < 2; pretty++) {
		ms_entity *shown;

		text = output_of(e, pretty);
		assert_int_equal(ms_entity_dup(&shown, e, &err), 0);
		cJSON_Delete(shown->doc);
		shown->doc = cJSON_Duplicate(want, 1);
		ms_buf_reset(&b);
		assert_int_equal(ms_entity_to_glue(shown, &b, pretty, &err), 0);
		want_text = ms_buf_detach(&b);
		assert_string_equal(text, want_text);
		free(want_text);
		ms_entity_free(shown);
		free(text);
	}

	/* an entity holding its document as text gives the same answer */
	raw = raw_copy(e);
	text = output_of(e, 0);
	want_text = output_of(raw, 0);
	assert_string_equal(text, want_text);
	free(text);
	free(want_text);

	ms_buf_free(&b);
	cJSON_Delete(tree);
	cJSON_Delete(want);
	ms_entity_free(raw);
	ms_entity_free(e);
	free(line);
}

static void test_output_database_partition(void **state)
{
	ms_entity *d = entity(MS_KIND_DATABASE,
			      "{\"Name\":\"d\",\"CTLG_NAME\":\"hive\",\"Parameters\":{\"CTLG_"
			      "NAME\":\"p\"},"
			      "\"CreateTableDefaultPermissions\":[{\"Principal\":{\"X_Y\":1}}],"
			      "\"FederatedDatabase\":{\"Identifier\":\"i\",\"Future\":2}}");
	ms_entity *p = entity(MS_KIND_PARTITION,
			      "{\"Values\":[\"1\"],\"PART_EXTRA\":1,\"StorageDescriptor\":"
			      "{\"Location\":\"s3://b/\",\"CD_ID\":7,\"Columns\":[{\"Name\":\"a\","
			      "\"C_X\":true}]},\"CreationTime\":1700000000}");
	ms_error err;
	char *text;

	(void)state;
	text = output_of(d, 0);
	assert_string_equal(text,
			    "{\"CreateTableDefaultPermissions\":[{\"Principal\":{\"X_Y\":1}}],"
			    "\"FederatedDatabase\":{\"Future\":2,\"Identifier\":\"i\"},"
			    "\"Name\":\"d\",\"Parameters\":{\"CTLG_NAME\":\"p\"}}");
	free(text);
	text = output_of(p, 0);
	assert_string_equal(text,
			    "{\"CreationTime\":1700000000,\"DatabaseName\":\"d\","
			    "\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"a\"}],"
			    "\"Location\":\"s3://b/\"},\"TableName\":\"t\",\"Values\":[\"1\"]}");
	free(text);
	assert_null(ms_entity_glue_output_tree(NULL, &err));
	ms_entity_free(d);
	ms_entity_free(p);
}

/*
 * ms_entity_glue_input_print of e: 1 (nothing printed) when e has members
 * the input has no place for, else text that parses to the input tree.
 */
static void input_print_is(const ms_entity *e, int expect)
{
	ms_buf b = MS_BUF_INIT(1 << 26);
	ms_error err;
	cJSON *got, *want;
	int rc;

	assert_int_equal(ms_buf_adds(&b, "x"), 0);
	rc = ms_entity_glue_input_print(e, &b, &err);
	assert_int_equal(rc, expect);
	if (rc == 1) {
		assert_string_equal(ms_buf_cstr(&b), "x");
		ms_buf_free(&b);
		return;
	}
	got = cJSON_Parse(ms_buf_cstr(&b) + 1);
	want = ms_entity_glue_input_tree(e, &err);
	assert_non_null(got);
	assert_non_null(want);
	if (!cJSON_Compare(got, want, 1))
		fail_msg("input printed\n  got:  %s\n  want: %s", ms_buf_cstr(&b) + 1,
			 cJSON_PrintUnformatted(want));
	cJSON_Delete(got);
	cJSON_Delete(want);
	ms_buf_free(&b);
}

static void test_input_print(void **state)
{
	char *line = ms_test_read_fixture("model/rich_table.jsonl");
	ms_entity *t = NULL, *glue_only = NULL;
	ms_entity *p = entity(MS_KIND_PARTITION,
			      "{\"Values\":[\"1\",\"a\\\"b\\u00e9\"],\"CreationTime\":1700000000,"
			      "\"DatabaseName\":\"d\",\"TableName\":\"t\",\"Parameters\":{\"k\":"
			      "\"v\","
			      "\"ANY_KEY\":\"x\"},\"StorageDescriptor\":{\"Location\":\"s3://b/\","
			      "\"Columns\":[{\"Name\":\"a\",\"Type\":\"int\",\"Parameters\":{\"p\":"
			      "\"q\"}}],\"SerdeInfo\":{\"Parameters\":{\"field.delim\":\"|\"}},"
			      "\"NumberOfBuckets\":-1,\"Compressed\":false,\"SortColumns\":[]}}");
	ms_entity *nested = entity(MS_KIND_PARTITION,
				   "{\"Values\":[\"1\"],\"StorageDescriptor\":{\"Location\":"
				   "\"s3://b/\",\"CD_ID\":7}}");
	ms_entity *in_list = entity(MS_KIND_PARTITION,
				    "{\"Values\":[\"1\"],\"StorageDescriptor\":{\"Columns\":"
				    "[{\"Name\":\"a\",\"C_X\":true}]}}");
	ms_entity *top = entity(MS_KIND_PARTITION, "{\"Values\":[\"1\"],\"PART_EXTRA\":1}");
	ms_error err;
	cJSON *doc;

	(void)state;
	/* only Glue's members (and the ones it assigns): printed, equal to the tree */
	input_print_is(p, 0);
	/* a member with no place, at any depth: the caller builds the tree */
	input_print_is(nested, 1);
	input_print_is(in_list, 1);
	input_print_is(top, 1);
	assert_int_equal(ms_entity_from_line(&t, line, strlen(line), MS_KIND_TABLE, &err), 0);
	input_print_is(t, 1);
	/* the rich table without its foreign members */
	doc = ms_entity_glue_output_tree(t, &err);
	assert_non_null(doc);
	assert_int_equal(ms_entity_from_glue(&glue_only, MS_KIND_TABLE, doc, "d", NULL, &err), 0);
	input_print_is(glue_only, 0);
	ms_entity_free(glue_only);
	ms_entity_free(t);
	ms_entity_free(p);
	ms_entity_free(nested);
	ms_entity_free(in_list);
	ms_entity_free(top);
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_database_location_uri),
		cmocka_unit_test(test_table_owner),
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_column_type_controls),
		cmocka_unit_test(test_partition_values),
		cmocka_unit_test(test_partition_value_count),
		cmocka_unit_test(test_other_limits),
		cmocka_unit_test(test_input_members),
		cmocka_unit_test(test_input_constraints),
		cmocka_unit_test(test_output_shape),
		cmocka_unit_test(test_output_database_partition),
		cmocka_unit_test(test_input_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
