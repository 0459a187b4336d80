/*
 * Unit tests of the data model: the snapshot line codec (round trips of a
 * rich table, timestamps, unknown keys, nulls), the Glue codec, canonical
 * JSON and the content hash, the partition-set digest, validation with its
 * messages, UTF-8 and values keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixtures.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "metasync/model.h"
#include "util/buf.h"

/* ---- helpers ---------------------------------------------------------- */

static ms_entity *parse_ok(const char *line, ms_kind expected)
{
	ms_entity *e = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_entity_from_line(&e, line, strlen(line), expected, &err);
	if (rc != 0)
		fail_msg("from_line failed (%d): %s\nline: %.300s", rc, err.message, line);
	assert_non_null(e);
	assert_true(e->hashed);
	return e;
}

static void parse_err(const char *line, ms_kind expected, const char *message)
{
	ms_entity *e = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_entity_from_line(&e, line, strlen(line), expected, &err);
	if (rc != MS_EINVAL)
		fail_msg("expected EINVAL '%s', got %d '%s' for %.200s", message, rc, err.message,
			 line);
	assert_null(e);
	if (strcmp(err.message, message))
		fail_msg("message\n  got:      '%s'\n  expected: '%s'", err.message, message);
}

static char *to_line(const ms_entity *e)
{
	ms_buf b = MS_BUF_INIT(1 << 26);
	ms_error err;

	assert_int_equal(ms_entity_to_line(e, &b, &err), 0);
	return ms_buf_detach(&b);
}

static char *to_canonical(const cJSON *doc, int writable)
{
	ms_buf b = MS_BUF_INIT(1 << 26);

	assert_int_equal(ms_canonical_json(doc, writable, &b), 0);
	return ms_buf_detach(&b);
}

static void assert_json_same(const char *a, const char *b)
{
	cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);

	assert_non_null(ja);
	assert_non_null(jb);
	if (!cJSON_Compare(ja, jb, 1))
		fail_msg("JSON differs\n  a: %s\n  b: %s", a, b);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
}

/* A JSON path walk: get(doc, "StorageDescriptor", "Columns", "#1", "Name", NULL). */
static const cJSON *get(const cJSON *v, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, v);
	while (v && (k = va_arg(ap, const char *)) != NULL) {
		if (k[0] == '#')
			v = cJSON_GetArrayItem(v, atoi(k + 1));
		else
			v = cJSON_GetObjectItemCaseSensitive(v, k);
	}
	va_end(ap);
	return v;
}

static const char *get_str(const cJSON *v)
{
	assert_non_null(v);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static char *repeat(const char *unit, size_t n)
{
	size_t u = strlen(unit), i;
	char *s = malloc(u * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

static void table_err(const char *item_json, const char *message)
{
	char *line = ms_test_fmt("{\"database\":\"db\",\"type\":\"table\",\"item\":%s}", item_json);

	parse_err(line, MS_KIND_TABLE, message);
	free(line);
}

/* ---- round trips ------------------------------------------------------ */

static void test_rich_table_round_trip(void **state)
{
	char *line = ms_test_read_fixture("model/rich_table.jsonl"), *out, *out2;
	ms_entity *e = parse_ok(line, MS_KIND_TABLE), *e2;
	const cJSON *d = e->doc;

	(void)state;
	assert_int_equal(e->kind, MS_KIND_TABLE);
	assert_string_equal(e->database, "sales");
	assert_string_equal(e->table, "orders");
	assert_null(e->vkey);

	/* The document is the Glue shape. */
	assert_string_equal(get_str(get(d, "Name", NULL)), "orders");
	assert_string_equal(get_str(get(d, "DatabaseName", NULL)), "sales");
	assert_true(cJSON_IsNumber(get(d, "CreateTime", NULL)));
	assert_true(get(d, "CreateTime", NULL)->valuedouble == 1651241372.0);
	assert_true(get(d, "LastAccessTime", NULL)->valuedouble == 1651241373.123);
	assert_string_equal(get_str(get(d, "Parameters", "quote", NULL)), "say \"hi\"");
	assert_string_equal(get_str(get(d, "Parameters", "backslash", NULL)), "C:\\temp\\new\\");
	assert_string_equal(get_str(get(d, "Parameters", "newline", NULL)),
			    "line1\nline2\r\n\ttab");
	assert_string_equal(get_str(get(d, "Parameters", "json", NULL)),
			    "{\"k\":[1,2,{\"n\":null}],\"s\":\"q\\\"x\"}");
	assert_string_equal(get_str(get(d, "Parameters", "escaped", NULL)),
			    "a\\|b\\\"c\\{d\\:e\\}");
	assert_string_equal(get_str(get(d, "Parameters", "unicode", NULL)),
			    "Gr\xc3\xbc\xc3\x9f"
			    "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80 \xe2\x80\xa8");
	assert_string_equal(get_str(get(d, "StorageDescriptor", "Columns", "#1", "Name", NULL)),
			    "payload");
	assert_true(
		cJSON_IsTrue(get(d, "StorageDescriptor", "Columns", "#1", "SOME_COL_FLAG", NULL)));
	assert_string_equal(get_str(get(d, "StorageDescriptor", "Columns", "#2", "Name", NULL)),
			    "Note");
	assert_string_equal(get_str(get(d, "StorageDescriptor", "Columns", "#0", "Parameters",
					"iceberg.field.id", NULL)),
			    "1");
	assert_string_equal(get_str(get(d, "StorageDescriptor", "SerdeInfo", "Parameters",
					"field.delim", NULL)),
			    "\x01");
	assert_non_null(get(d, "StorageDescriptor", "SerdeInfo", "serdeFutureField", "x", NULL));
	assert_string_equal(get_str(get(d, "StorageDescriptor", "SortColumns", "#1", "Column",
					NULL)),
			    "payload");
	assert_int_equal(
		get(d, "StorageDescriptor", "SortColumns", "#0", "SortOrder", NULL)->valueint, 1);
	assert_string_equal(get_str(get(d, "StorageDescriptor", "SortColumns", "#1", "nullOrder",
					NULL)),
			    "FIRST");
	assert_string_equal(get_str(get(d, "StorageDescriptor", "SkewedInfo",
					"SkewedColumnValueLocationMaps", "1$12$ab", NULL)),
			    "s3://bucket/orders/skew1");
	assert_string_equal(get_str(get(d, "StorageDescriptor", "SkewedInfo", "SKEW_EXTRA", NULL)),
			    "y");
	assert_int_equal(get(d, "StorageDescriptor", "NumberOfBuckets", NULL)->valueint, 8);
	assert_true(cJSON_IsTrue(get(d, "StorageDescriptor", "StoredAsSubDirectories", NULL)));
	assert_string_equal(get_str(get(d, "StorageDescriptor", "SchemaReference", "SchemaId",
					"RegistryName", NULL)),
			    "r");
	assert_string_equal(get_str(get(d, "StorageDescriptor", "CTLG_NAME", NULL)), "hive");
	assert_string_equal(get_str(get(d, "TargetTable", "CatalogId", NULL)), "123456789012");
	assert_string_equal(get_str(get(d, "PartitionKeys", "#1", "Name", NULL)), "Hour");
	assert_true(cJSON_IsFalse(get(d, "IS_REWRITE_ENABLED", NULL)));
	assert_string_equal(get_str(get(d, "OWNER_TYPE", NULL)), "USER");
	assert_non_null(get(d, "someFutureField", "nested", "Deep", NULL));
	assert_null(get(d, "name", NULL));
	assert_null(get(d, "storageDescriptor", NULL));

	/*
	 * line -> entity -> line keeps every field; the utility's skewed
	 * value-location key ("1%12%ab") comes out in Glue's form.
	 */
	{
		char *at = strstr(line, "\"1%12%ab\"");

		assert_non_null(at);
		memcpy(at, "\"1$12$ab\"", 9);
	}
	out = to_line(e);
	assert_json_same(line, out);

	/* line -> entity -> Glue JSON -> entity -> line as well, same hash. */
	{
		ms_buf b = MS_BUF_INIT(1 << 26);
		ms_error err;
		cJSON *doc;

		assert_int_equal(ms_entity_to_glue(e, &b, 1, &err), 0);
		doc = cJSON_Parse(ms_buf_cstr(&b));
		assert_non_null(doc);
		assert_int_equal(ms_entity_from_glue(&e2, MS_KIND_TABLE, doc, NULL, NULL, &err), 0);
		assert_memory_equal(e->hash, e2->hash, MS_HASH_LEN);
		out2 = to_line(e2);
		assert_json_same(line, out2);
		ms_buf_free(&b);
		ms_entity_free(e2);
		free(out2);
	}

	/* Reading our own output again gives the same hash. */
	e2 = parse_ok(out, MS_KIND_TABLE);
	assert_memory_equal(e->hash, e2->hash, MS_HASH_LEN);
	ms_entity_free(e2);

	free(out);
	free(line);
	ms_entity_free(e);
}

static void test_partition_line_shape(void **state)
{
	ms_entity *e;
	char *out;

	(void)state;
	e = parse_ok("{\"database\":\"DB\",\"table\":\"T\",\"type\":\"partition\",\"item\":"
		     "{\"values\":[\"2024\",\"01\"],\"creationTime\":\"Apr 04, 2017 08:58:43 AM\","
		     "\"lastAccessTime\":null,\"parameters\":{}}}",
		     MS_KIND_PARTITION);
	assert_string_equal(e->database, "db");
	assert_string_equal(e->table, "t");
	assert_string_equal(e->vkey, "[\"2024\",\"01\"]");
	assert_string_equal(get_str(get(e->doc, "DatabaseName", NULL)), "db");
	assert_string_equal(get_str(get(e->doc, "TableName", NULL)), "t");
	assert_true(get(e->doc, "CreationTime", NULL)->valuedouble == 1491296323.0);
	assert_null(get(e->doc, "LastAccessTime", NULL));
	out = to_line(e);
	assert_string_equal(out,
			    "{\"database\":\"db\",\"table\":\"t\",\"type\":\"partition\",\"item\":"
			    "{\"namespaceName\":\"db\",\"tableName\":\"t\",\"values\":[\"2024\","
			    "\"01\"],\"creationTime\":\"1491296323000\",\"parameters\":{}}}");
	free(out);
	ms_entity_free(e);

	/* Identity from the item alone, as some producers write it. */
	e = parse_ok("{\"type\":\"partition\",\"item\":{\"namespaceName\":\"Sales\","
		     "\"tableName\":\"Orders\",\"values\":[\"A\"]}}",
		     0);
	assert_string_equal(e->database, "sales");
	assert_string_equal(e->table, "orders");
	assert_string_equal(e->vkey, "[\"A\"]");
	ms_entity_free(e);
}

static void test_database_line(void **state)
{
	ms_entity *e;
	char *out;

	(void)state;
	e = parse_ok("{\"type\":\"database\",\"item\":{\"name\":\"Sales\",\"description\":\"d\","
		     "\"locationUri\":\"s3://b/"
		     "\",\"parameters\":{\"k\":\"v\"},\"createTime\":1651241372000,"
		     "\"targetDatabase\":{\"catalogId\":\"1\",\"databaseName\":\"x\"},"
		     "\"createTableDefaultPermissions\":[{\"principal\":{"
		     "\"dataLakePrincipalIdentifier\":"
		     "\"IAM_ALLOWED_PRINCIPALS\"},\"permissions\":[\"ALL\"]}]}}",
		     MS_KIND_DATABASE);
	assert_string_equal(e->database, "sales");
	assert_null(e->table);
	assert_string_equal(get_str(get(e->doc, "Name", NULL)), "sales");
	assert_string_equal(get_str(get(e->doc, "TargetDatabase", "DatabaseName", NULL)), "x");
	assert_string_equal(get_str(get(e->doc, "CreateTableDefaultPermissions", "#0", "Principal",
					"DataLakePrincipalIdentifier", NULL)),
			    "IAM_ALLOWED_PRINCIPALS");
	out = to_line(e);
	assert_json_same(out,
			 "{\"type\":\"database\",\"item\":{\"name\":\"sales\",\"description\":"
			 "\"d\","
			 "\"locationUri\":\"s3://b/\",\"parameters\":{\"k\":\"v\"},"
			 "\"createTime\":\"1651241372000\",\"targetDatabase\":{\"catalogId\":\"1\","
			 "\"databaseName\":\"x\"},\"createTableDefaultPermissions\":[{"
			 "\"principal\":"
			 "{\"dataLakePrincipalIdentifier\":\"IAM_ALLOWED_PRINCIPALS\"},"
			 "\"permissions\":[\"ALL\"]}]}}");
	free(out);
	ms_entity_free(e);
}

static void test_names_fold_and_nulls(void **state)
{
	ms_entity *e;
	char *out;

	(void)state;
	e = parse_ok("{\"database\":\"Sales\",\"type\":\"table\",\"item\":{\"name\":\"Orders\","
		     "\"description\":null,\"owner\":null,\"storageDescriptor\":{\"location\":null,"
		     "\"columns\":[{\"name\":\"MixedCase\",\"type\":\"int\",\"comment\":null}]}}}",
		     0);
	assert_string_equal(e->database, "sales");
	assert_string_equal(e->table, "orders");
	assert_string_equal(get_str(get(e->doc, "Name", NULL)), "orders");
	assert_string_equal(get_str(get(e->doc, "DatabaseName", NULL)), "sales");
	assert_null(get(e->doc, "Description", NULL));
	assert_null(get(e->doc, "StorageDescriptor", "Location", NULL));
	/* Column names and partition values keep their case. */
	assert_string_equal(get_str(get(e->doc, "StorageDescriptor", "Columns", "#0", "Name",
					NULL)),
			    "MixedCase");
	out = to_line(e);
	assert_string_equal(out, "{\"database\":\"sales\",\"type\":\"table\",\"item\":{\"name\":"
				 "\"orders\",\"storageDescriptor\":{\"columns\":[{\"name\":"
				 "\"MixedCase\",\"type\":\"int\"}]}}}");
	free(out);
	ms_entity_free(e);
}

/* ---- timestamps ------------------------------------------------------- */

static double parse_time_json(const char *json)
{
	cJSON *v = cJSON_Parse(json);
	double t = -1;

	assert_non_null(v);
	if (ms_time_parse(v, &t) != 0)
		fail_msg("'%s' is no timestamp", json);
	cJSON_Delete(v);
	return t;
}

static void no_time_json(const char *json)
{
	cJSON *v = cJSON_Parse(json);
	double t = -7;

	assert_non_null(v);
	if (ms_time_parse(v, &t) != MS_EINVAL)
		fail_msg("'%s' parsed as %f", json, t);
	assert_true(t == -7);
	cJSON_Delete(v);
}

static void test_time_forms(void **state)
{
	(void)state;
	assert_true(parse_time_json("\"1651241372000\"") == 1651241372.0);
	assert_true(parse_time_json("\"1651241372123\"") == 1651241372.123);
	assert_true(parse_time_json("1651241372000") == 1651241372.0);
	assert_true(parse_time_json("1651241372123") == 1651241372.123);
	assert_true(parse_time_json("\"0\"") == 0.0);
	assert_true(parse_time_json("\"-1000\"") == -1.0);
	assert_true(parse_time_json("\"Apr 04, 2017 08:58:43 AM\"") == 1491296323.0);
	assert_true(parse_time_json("\"Apr 04, 2017 12:00:00 AM\"") == 1491264000.0);
	assert_true(parse_time_json("\"Apr 04, 2017 12:30:00 PM\"") == 1491309000.0);
	assert_true(parse_time_json("\"apr 4, 2017 8:58:43 am\"") == 1491296323.0);
	assert_true(parse_time_json("\"Jan 01, 1970 12:00:00 AM\"") == 0.0);
	assert_true(parse_time_json("\"Apr 04, 2017 08:58:43\xe2\x80\xaf"
				    "AM\"") == 1491296323.0);
	assert_true(parse_time_json("\"Feb 29, 2016 11:59:59 PM\"") == 1456790399.0);
	assert_true(parse_time_json("{\"$date\":\"1651241372000\"}") == 1651241372.0);
	assert_true(parse_time_json("{\"$date\":1651241372000}") == 1651241372.0);
	assert_true(parse_time_json("{\"$date\":\"Apr 04, 2017 08:58:43 AM\"}") == 1491296323.0);
	assert_true(parse_time_json("{\"value\":{\"$numberLong\":\"1651241372000\"}}") ==
		    1651241372.0);
	assert_true(parse_time_json("\"2017-04-04T08:58:43Z\"") == 1491296323.0);
	assert_true(parse_time_json("\"2017-04-04T10:58:43.5+02:00\"") == 1491296323.5);
	assert_true(parse_time_json("\"2017-04-04 08:58:43.123\"") == 1491296323.123);

	no_time_json("\"yesterday\"");
	no_time_json("\"\"");
	no_time_json("\"Apr 31, 2017 08:58:43 AM\"");
	no_time_json("\"Feb 29, 2017 08:58:43 AM\"");
	no_time_json("\"Apr 04, 2017 13:58:43 PM\"");
	no_time_json("\"Apr 04, 2017 08:58:43\"");
	no_time_json("\"Foo 04, 2017 08:58:43 AM\"");
	no_time_json("\"1651241372000x\"");
	no_time_json("\"2017-13-04T08:58:43Z\"");
	no_time_json("true");
	no_time_json("null");
	no_time_json("[1651241372000]");
	no_time_json("{\"a\":1,\"b\":2}");
	no_time_json("1e300");
	no_time_json("\"{\\\"a\\\":1,\\\"b\\\":2}\"");
	no_time_json("\"{not json\"");
	no_time_json("\"[1651241372000]\"");
}

/* The utility's skewed value-location keys ("1%a") become Glue's ("1$a"); others stay. */
static void test_skew_keys_from_utility(void **state)
{
	static const char *const cases[][2] = {
		{ "1%a2%bc", "1$a2$bc" },
		{ "3%\xc3\xa9t\xc3\xa9", "3$\xc3\xa9t\xc3\xa9" }, /* code points: 3 */
		{ "1%\xf0\x9f\x98\x80",
		  "2$\xf0\x9f\x98\x80" }, /* one code point, two UTF-16 units */
		{ "0%1%x", "0$1$x" },     /* an empty value */
		{ "1$a2$bc", "1$a2$bc" }, /* Glue's form: kept */
		{ "3$a%b", "3$a%b" },     /* Glue's, holding a '%' */
		{ "1%ab", "1%ab" },       /* neither: kept */
		{ "abc", "abc" },
		{ "9%a", "9%a" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *line = ms_test_fmt(
			"{\"database\":\"d\",\"type\":\"table\",\"item\":{\"name\":\"t\","
			"\"storageDescriptor\":{\"skewedInfo\":{\"skewedColumnNames\":[\"c\"],"
			"\"skewedColumnValueLocationMaps\":{\"%s\":\"s3://b/t/c=x\"}}}}}",
			cases[i][0]);
		ms_entity *e = parse_ok(line, MS_KIND_TABLE);
		const cJSON *maps = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(e->doc, "StorageDescriptor"),
				"SkewedInfo"),
			"SkewedColumnValueLocationMaps");

		assert_non_null(maps);
		assert_non_null(maps->child);
		if (strcmp(maps->child->string, cases[i][1]) != 0)
			fail_msg("'%s' became '%s', want '%s'", cases[i][0], maps->child->string,
				 cases[i][1]);
		ms_entity_free(e);
		free(line);
	}
}

/* The utility's strings that hold an object's text, and its "{}" for no time. */
static void test_time_in_text(void **state)
{
	const char *const empty[] = { "{}", "\"{}\"", "\" {}\"", "{\"$date\":{}}",
				      "\"{\\\"$date\\\":{}}\"" };
	double t = -7;
	size_t i;

	(void)state;
	assert_true(parse_time_json("\"{\\\"$date\\\":\\\"1651241372000\\\"}\"") == 1651241372.0);
	assert_true(parse_time_json("\"{\\\"$date\\\":1651241372123}\"") == 1651241372.123);
	assert_true(parse_time_json("\"{\\\"$date\\\":\\\"Apr 04, 2017 08:58:43 AM\\\"}\"") ==
		    1491296323.0);
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		cJSON *v = cJSON_Parse(empty[i]);

		assert_non_null(v);
		if (ms_time_parse(v, &t) != 1)
			fail_msg("'%s' is not 'no time'", empty[i]);
		assert_true(t == -7);
		cJSON_Delete(v);
	}
}

/* A line whose times are "{}" imports without them; a wrapped one in a string reads. */
static void test_time_empty_through_lines(void **state)
{
	ms_entity *e;
	const cJSON *v;

	(void)state;
	e = parse_ok("{\"database\":\"d\",\"type\":\"table\",\"item\":{\"name\":\"t\","
		     "\"createTime\":\"{}\",\"lastAccessTime\":"
		     "\"{\\\"$date\\\":\\\"1491296323000\\\"}\"}}",
		     MS_KIND_TABLE);
	assert_null(cJSON_GetObjectItemCaseSensitive(e->doc, "CreateTime"));
	v = cJSON_GetObjectItemCaseSensitive(e->doc, "LastAccessTime");
	assert_true(cJSON_IsNumber(v) && v->valuedouble == 1491296323.0);
	ms_entity_free(e);
}

static void test_time_through_lines(void **state)
{
	static const char *const forms[] = {
		"\"1491296323000\"",
		"1491296323000",
		"\"Apr 04, 2017 08:58:43 AM\"",
		"{\"$date\":\"1491296323000\"}",
		"{\"$date\":\"Apr 04, 2017 08:58:43 AM\"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *line = ms_test_fmt("{\"database\":\"d\",\"type\":\"table\",\"item\":"
					 "{\"name\":\"t\",\"createTime\":%s,"
					 "\"lastAccessTime\":%s}}",
					 forms[i], forms[i]);
		ms_entity *e = parse_ok(line, MS_KIND_TABLE);
		char *out = to_line(e);

		assert_true(get(e->doc, "CreateTime", NULL)->valuedouble == 1491296323.0);
		assert_string_equal(out, "{\"database\":\"d\",\"type\":\"table\",\"item\":{"
					 "\"name\":\"t\","
					 "\"createTime\":\"1491296323000\",\"lastAccessTime\":"
					 "\"1491296323000\"}}");
		free(out);
		free(line);
		ms_entity_free(e);
	}
	table_err("{\"name\":\"t\",\"createTime\":\"soon\"}",
		  "field 'createTime' is not a timestamp");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{},\"lastAccessTime\":true}",
		  "field 'lastAccessTime' is not a timestamp");
}

static void test_glue_timestamps(void **state)
{
	ms_entity *e = NULL;
	ms_error err;
	cJSON *doc;
	char *out;

	(void)state;
	doc = cJSON_Parse("{\"Name\":\"T\",\"DatabaseName\":\"D\",\"CreateTime\":1651241372.1234,"
			  "\"UpdateTime\":\"2017-04-04T08:58:43+00:00\"}");
	assert_int_equal(ms_entity_from_glue(&e, MS_KIND_TABLE, doc, NULL, NULL, &err), 0);
	assert_true(get(e->doc, "CreateTime", NULL)->valuedouble == 1651241372.123);
	assert_true(get(e->doc, "UpdateTime", NULL)->valuedouble == 1491296323.0);
	out = to_line(e);
	assert_string_equal(out,
			    "{\"database\":\"d\",\"type\":\"table\",\"item\":{\"name\":\"t\","
			    "\"createTime\":\"1651241372123\",\"updateTime\":\"1491296323000\"}}");
	free(out);
	out = to_canonical(e->doc, 0);
	assert_string_equal(out,
			    "{\"CreateTime\":1651241372.123,\"DatabaseName\":\"d\",\"Name\":\"t\","
			    "\"UpdateTime\":1491296323}");
	free(out);
	ms_entity_free(e);
}

/* ---- canonical JSON and hashes ----------------------------------------- */

static void test_canonical_json(void **state)
{
	cJSON *doc;
	char *out;
	ms_buf b = MS_BUF_INIT(16);

	(void)state;
	doc = cJSON_Parse(
		"{\"b\":1,\"a\":[true,false,null,1.5,-0.0,1e20,0.1,9007199254740991,"
		"-42,1651241372.123],\"c\":{\"z\":\"x\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f"
		"\\u007f\xc3\xa9\\u00e9/\",\"A\":2,\"\":3},\"CreateTime\":5,\"VersionId\":\"1\","
		"\"Parameters\":{\"metasync.x\":\"1\",\"k\":\"v\",\"metasyncx\":\"2\"},"
		"\"StorageDescriptor\":{\"Parameters\":{\"metasync.y\":\"1\"},\"CreateTime\":1}}");
	assert_non_null(doc);
	out = to_canonical(doc, 0);
	assert_string_equal(out, "{\"CreateTime\":5,\"Parameters\":{\"k\":\"v\",\"metasync.x\":"
				 "\"1\",\"metasyncx\":\"2\"},"
				 "\"StorageDescriptor\":{\"CreateTime\":1,\"Parameters\":{"
				 "\"metasync.y\":\"1\"}},"
				 "\"VersionId\":\"1\",\"a\":[true,false,null,1.5,0,1e+20,0.1,"
				 "9007199254740991,-42,"
				 "1651241372.123],\"b\":1,\"c\":{\"\":3,\"A\":2,\"z\":"
				 "\"x\\\"\\\\\\b\\f\\n\\r\\t\\u0001"
				 "\\u001f\x7f\xc3\xa9\xc3\xa9/\"}}");
	free(out);
	out = to_canonical(doc, 1);
	assert_string_equal(out, "{\"Parameters\":{\"k\":\"v\",\"metasyncx\":\"2\"},"
				 "\"StorageDescriptor\":{\"CreateTime\":1,\"Parameters\":{"
				 "\"metasync.y\":\"1\"}},"
				 "\"a\":[true,false,null,1.5,0,1e+20,0.1,9007199254740991,-42,"
				 "1651241372.123],\"b\":1,\"c\":{\"\":3,\"A\":2,\"z\":"
				 "\"x\\\"\\\\\\b\\f\\n\\r\\t\\u0001"
				 "\\u001f\x7f\xc3\xa9\xc3\xa9/\"}}");
	free(out);
	/* A bounded buffer that is too small fails and stays as it was. */
	assert_int_equal(ms_buf_adds(&b, "keep"), 0);
	assert_int_equal(ms_canonical_json(doc, 0, &b), MS_ETOOBIG);
	assert_string_equal(ms_buf_cstr(&b), "keep");
	ms_buf_free(&b);
	cJSON_Delete(doc);

	/* Duplicate keys have no canonical form. */
	doc = cJSON_Parse("{\"a\":1,\"a\":2}");
	b = (ms_buf)MS_BUF_INIT(1024);
	assert_int_equal(ms_canonical_json(doc, 0, &b), MS_EINVAL);
	ms_buf_free(&b);
	cJSON_Delete(doc);
}

static const char base_table[] =
	"{\"database\":\"db\",\"type\":\"table\",\"item\":{\"name\":\"t\",\"createTime\":"
	"\"1651241372000\",\"owner\":\"o\",\"parameters\":{\"a\":\"1\",\"b\":\"2\"},"
	"\"storageDescriptor\":{\"columns\":[{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"y\","
	"\"type\":\"string\"}],\"location\":\"s3://b/t\",\"serdeInfo\":{\"serializationLibrary\":"
	"\"lib\",\"parameters\":{\"p\":\"q\"}}}}}";

static void hash_of(const char *line, unsigned char out[MS_HASH_LEN])
{
	ms_entity *e = parse_ok(line, 0);

	memcpy(out, e->hash, MS_HASH_LEN);
	ms_entity_free(e);
}

static void test_hash_stability(void **state)
{
	static const char *const same[] = {
		/* keys reordered at every level */
		"{\"item\":{\"storageDescriptor\":{\"serdeInfo\":{\"parameters\":{\"p\":\"q\"},"
		"\"serializationLibrary\":\"lib\"},\"location\":\"s3://b/"
		"t\",\"columns\":[{\"type\":"
		"\"int\",\"name\":\"x\"},{\"type\":\"string\",\"name\":\"y\"}]},\"parameters\":{"
		"\"b\":"
		"\"2\",\"a\":\"1\"},\"owner\":\"o\",\"createTime\":\"1651241372000\",\"name\":"
		"\"t\"},"
		"\"type\":\"table\",\"database\":\"db\"}",
		/* target-assigned fields and markers changed */
		"{\"database\":\"db\",\"type\":\"table\",\"item\":{\"name\":\"T\",\"createTime\":"
		"\"Apr 04, 2017 08:58:43 "
		"AM\",\"updateTime\":\"1\",\"versionId\":\"9\",\"catalogId\":"
		"\"111\",\"createdBy\":\"me\",\"isRegisteredWithLakeFormation\":true,\"owner\":"
		"\"o\","
		"\"parameters\":{\"a\":\"1\",\"b\":\"2\",\"metasync.synced\":\"x\",\"metasync."
		"replica-of\":"
		"\"y\"},\"storageDescriptor\":{\"columns\":[{\"name\":\"x\",\"type\":\"int\"},{"
		"\"name\":"
		"\"y\",\"type\":\"string\"}],\"location\":\"s3://b/t\",\"serdeInfo\":{"
		"\"serializationLibrary\":\"lib\",\"parameters\":{\"p\":\"q\"}}}}}",
		/* another database: DatabaseName is not content */
		"{\"database\":\"other\",\"type\":\"table\",\"item\":{\"name\":\"t\",\"owner\":"
		"\"o\","
		"\"parameters\":{\"a\":\"1\",\"b\":\"2\"},\"storageDescriptor\":{\"columns\":[{"
		"\"name\":"
		"\"x\",\"type\":\"int\"},{\"name\":\"y\",\"type\":\"string\"}],\"location\":\"s3://"
		"b/t\","
		"\"serdeInfo\":{\"serializationLibrary\":\"lib\",\"parameters\":{\"p\":\"q\"}}}}}",
		/* members that hold nothing (a Hive Metastore gives them back absent) */
		"{\"database\":\"db\",\"type\":\"table\",\"item\":{\"name\":\"t\",\"owner\":\"o\","
		"\"partitionKeys\":[],\"parameters\":{\"a\":\"1\",\"b\":\"2\"},"
		"\"storageDescriptor\":{"
		"\"columns\":[{\"name\":\"x\",\"type\":\"int\",\"parameters\":{}},{\"name\":\"y\","
		"\"type\":\"string\"}],\"location\":\"s3://b/"
		"t\",\"sortColumns\":[],\"skewedInfo\":{"
		"\"skewedColumnNames\":[],\"skewedColumnValues\":[],"
		"\"skewedColumnValueLocationMaps\":{}},"
		"\"serdeInfo\":{\"serializationLibrary\":\"lib\",\"parameters\":{\"p\":\"q\"}}}}}",
	};
	static const char *const differ[][2] = {
		{ "\"type\":\"int\"},{", "\"type\":\"bigint\"},{" },        /* column type */
		{ "\"a\":\"1\"", "\"a\":\"1 \"" },                          /* parameter value */
		{ "\"owner\":\"o\",", "\"owner\":\"o\",\"retention\":1," }, /* a new field */
		{ "\"owner\":\"o\",", "\"owner\":\"o\",\"SOME_KEY\":1," },  /* an unknown field */
		{ "{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"y\",\"type\":\"string\"}",
		  "{\"name\":\"y\",\"type\":\"string\"},{\"name\":\"x\",\"type\":\"int\"}" }, /* order */
		{ "\"name\":\"t\"", "\"name\":\"t2\"" },   /* the name */
		{ "\"p\":\"q\"", "\"metasync.p\":\"q\"" }, /* nested, not a marker */
		{ "\"location\":", "\"skewedInfo\":{\"skewedColumnNames\":[\"x\"]},\"location\":" },
		{ "\"p\":\"q\"", "\"p\":\"\"" }, /* empty text is not absent */
	};
	unsigned char h0[MS_HASH_LEN], h[MS_HASH_LEN];
	size_t i;

	(void)state;
	hash_of(base_table, h0);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		hash_of(same[i], h);
		if (memcmp(h, h0, MS_HASH_LEN))
			fail_msg("hash changed for variant %zu", i);
	}
	for (i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		const char *at = strstr(base_table, differ[i][0]);
		char *line;

		assert_non_null(at);
		line = ms_test_fmt("%.*s%s%s", (int)(at - base_table), base_table, differ[i][1],
				   at + strlen(differ[i][0]));
		hash_of(line, h);
		if (!memcmp(h, h0, MS_HASH_LEN))
			fail_msg("hash unchanged for change %zu: %s", i, line);
		free(line);
	}
}

static void test_hash_is_sha256_of_writable_json(void **state)
{
	ms_entity *e = parse_ok(base_table, 0);
	char *canon = to_canonical(e->doc, 1), hex[2 * MS_HASH_LEN + 1];
	unsigned char back[MS_HASH_LEN];

	(void)state;
	assert_string_equal(canon,
			    "{\"Name\":\"t\",\"Owner\":\"o\",\"Parameters\":{\"a\":\"1\",\"b\":"
			    "\"2\"},\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"x\",\"Type\":"
			    "\"int\"},{\"Name\":\"y\",\"Type\":\"string\"}],\"Location\":"
			    "\"s3://b/t\",\"SerdeInfo\":{\"Parameters\":{\"p\":\"q\"},"
			    "\"SerializationLibrary\":\"lib\"}}}");
	/* echo -n "$canon" | sha256sum */
	ms_hex(e->hash, MS_HASH_LEN, hex);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(ms_unhex(hex, back, MS_HASH_LEN), 0);
	assert_memory_equal(back, e->hash, MS_HASH_LEN);
	{
		unsigned char h2[MS_HASH_LEN];

		EVP_Digest(canon, strlen(canon), h2, NULL, EVP_sha256(), NULL);
		assert_memory_equal(h2, e->hash, MS_HASH_LEN);
	}
	free(canon);
	ms_entity_free(e);
}

/* ---- digest ----------------------------------------------------------- */

static void test_digest(void **state)
{
	unsigned char h[4][MS_HASH_LEN], f1[MS_HASH_LEN], f2[MS_HASH_LEN], f3[MS_HASH_LEN];
	unsigned char ones[MS_HASH_LEN], one[MS_HASH_LEN] = { 0 };
	char hex[2 * MS_HASH_LEN + 1];
	ms_digest d;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		char v[8];

		snprintf(v, sizeof(v), "p%d", i);
		EVP_Digest(v, strlen(v), h[i], NULL, EVP_sha256(), NULL);
	}
	ms_digest_init(&d);
	ms_digest_final(&d, f1);
	ms_hex(f1, MS_HASH_LEN, hex);
	/* sha256("ms-pset-v1" || 8 zero bytes || 32 zero bytes) */
	assert_string_equal(hex,
			    "cb7e3554ab48cd1227b41502bdede31ac5575f963a8065a19b013fdd235c958d");

	ms_digest_init(&d);
	ms_digest_add(&d, h[0]);
	ms_digest_add(&d, h[1]);
	ms_digest_add(&d, h[2]);
	ms_digest_final(&d, f1);
	assert_int_equal(d.count, 3);
	ms_digest_init(&d);
	ms_digest_add(&d, h[2]);
	ms_digest_add(&d, h[0]);
	ms_digest_add(&d, h[1]);
	ms_digest_final(&d, f2);
	assert_memory_equal(f1, f2, MS_HASH_LEN);
	ms_digest_init(&d);
	ms_digest_add(&d, h[2]);
	ms_digest_add(&d, h[0]);
	ms_digest_add(&d, h[3]);
	ms_digest_final(&d, f3);
	assert_memory_not_equal(f1, f3, MS_HASH_LEN);

	/* The sum carries across all 32 bytes and wraps modulo 2^256. */
	memset(ones, 0xff, sizeof(ones));
	one[MS_HASH_LEN - 1] = 1;
	ms_digest_init(&d);
	ms_digest_add(&d, ones);
	ms_digest_add(&d, one);
	for (i = 0; i < MS_HASH_LEN; i++)
		assert_int_equal(d.sum[i], 0);
	assert_int_equal(d.count, 2);
	ms_digest_final(&d, f1);
	/* Same sum, different count: different digest. */
	ms_digest_init(&d);
	ms_digest_final(&d, f2);
	assert_memory_not_equal(f1, f2, MS_HASH_LEN);
	ms_digest_init(&d);
	ms_digest_add(&d, one);
	ms_digest_add(&d, one);
	assert_int_equal(d.sum[MS_HASH_LEN - 1], 2);
	ms_digest_add(&d, ones);
	assert_int_equal(d.sum[MS_HASH_LEN - 1], 1);
	assert_int_equal(d.sum[0], 0);
}

static void test_hex(void **state)
{
	unsigned char b[3] = { 0x00, 0xab, 0xff }, back[3] = { 1, 2, 3 };
	char hex[7];

	(void)state;
	ms_hex(b, 3, hex);
	assert_string_equal(hex, "00abff");
	assert_int_equal(ms_unhex("00ABff", back, 3), 0);
	assert_memory_equal(back, b, 3);
	memset(back, 7, 3);
	assert_int_equal(ms_unhex("00abf", back, 3), MS_EINVAL);
	assert_int_equal(ms_unhex("00abfg", back, 3), MS_EINVAL);
	assert_int_equal(ms_unhex("00abff00", back, 3), MS_EINVAL);
	assert_int_equal(back[0], 7);
}

/* ---- validation ------------------------------------------------------- */

static void test_invalid_lines(void **state)
{
	(void)state;
	parse_err("{\"type\":\"table\",}", 0, "line is not valid JSON at byte 17");
	parse_err("{\"type\":\"table\"} x", 0, "line is not valid JSON at byte 18");
	parse_err("not json", 0, "line is not valid JSON at byte 1");
	parse_err("   ", 0, "line is empty");
	parse_err("{}", (ms_kind)9, "unknown entity kind 9");
	parse_err("[1,2]", 0, "line is not a JSON object");
	parse_err("{\"database\":\"d\",\"type\":\"table\",\"item\":{\"name\":\"t\"}}",
		  MS_KIND_PARTITION, "'type' is 'table' but this file holds partitions");
	parse_err("{\"type\":\"database\",\"item\":{\"name\":\"t\"}}", MS_KIND_TABLE,
		  "'type' is 'database' but this file holds tables");
	parse_err("{\"type\":\"view\",\"item\":{\"name\":\"t\"}}", 0,
		  "'type' is 'view' but must be database, table or partition");
	parse_err("{\"type\":7,\"item\":{\"name\":\"t\"}}", 0, "'type' is not a string");
	parse_err("{\"database\":\"d\",\"item\":{\"name\":\"t\"}}", 0, "line has no 'type'");
	parse_err("{\"database\":\"d\",\"type\":\"table\"}", 0, "line has no 'item'");
	parse_err("{\"database\":\"d\",\"type\":\"table\",\"item\":[]}", 0,
		  "'item' is not an object");
	parse_err("{\"type\":\"table\",\"item\":{\"name\":\"t\"}}", 0, "line has no 'database'");
	parse_err("{\"database\":\"d\",\"type\":\"partition\",\"item\":{\"values\":[]}}", 0,
		  "line has no 'table'");
	parse_err("{\"database\":5,\"type\":\"table\",\"item\":{\"name\":\"t\"}}", 0,
		  "'database' is not a string");
	parse_err("{\"database\":\"a\",\"type\":\"table\",\"item\":{\"name\":\"t\","
		  "\"databaseName\":"
		  "\"B\"}}",
		  0, "'database' is 'a' but field 'databaseName' is 'b'");
	parse_err("{\"database\":\"a\",\"table\":\"t\",\"type\":\"partition\",\"item\":{\"values\":"
		  "[],"
		  "\"namespaceName\":\"a\",\"tableName\":\"u\"}}",
		  0, "'table' is 't' but field 'tableName' is 'u'");
	/* An envelope key twice: no silent choice of one of them. */
	parse_err("{\"database\":\"a\",\"table\":\"t\",\"type\":\"partition\",\"item\":{\"values\":"
		  "[]},"
		  "\"database\":\"b\"}",
		  0, "'database' appears twice");
	parse_err("{\"database\":\"a\",\"table\":\"t\",\"table\":\"u\",\"type\":\"partition\","
		  "\"item\":"
		  "{\"values\":[]}}",
		  0, "'table' appears twice");
	parse_err("{\"type\":\"database\",\"item\":{\"name\":\"a\"},\"item\":{\"name\":\"b\"}}", 0,
		  "'item' appears twice");
	parse_err("{\"type\":\"database\",\"type\":\"table\",\"item\":{\"name\":\"a\"}}", 0,
		  "'type' appears twice");
	/* NUL would cut strings short inside cJSON. */
	parse_err("{\"database\":\"d\",\"type\":\"table\",\"item\":{\"name\":\"t\\u0000x\"}}", 0,
		  "line holds an escaped NUL character at byte 49");
	{
		static const char with_nul[] = "{\"type\":\"table\",\"item\":{\"name\":\"t\0\"}}";
		ms_entity *e = NULL;
		ms_error err;

		assert_int_equal(ms_entity_from_line(&e, with_nul, sizeof(with_nul) - 1, 0, &err),
				 MS_EINVAL);
		assert_string_equal(err.message, "line holds a NUL byte at byte 34");
	}
	/* An escaped backslash before u0000 is text, not a NUL. */
	{
		ms_entity *e = parse_ok("{\"database\":\"d\",\"type\":\"table\",\"item\":{\"name\":"
					"\"t\","
					"\"owner\":\"a\\\\u0000\"}}",
					0);

		assert_string_equal(get_str(get(e->doc, "Owner", NULL)), "a\\u0000");
		ms_entity_free(e);
	}
}

static void test_type_errors(void **state)
{
	(void)state;
	table_err("{}", "field 'name' is missing");
	table_err("{\"name\":5}", "field 'name' is not a string");
	table_err("{\"name\":\"t\",\"description\":[]}", "field 'description' is not a string");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[{\"name\":\"a\"},{\"name\":"
		  "\"b\"},"
		  "{\"name\":3}]}}",
		  "field 'storageDescriptor.columns[2].name' is not a string");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[{\"type\":\"int\"}]}}",
		  "field 'storageDescriptor.columns[0].name' is missing");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[\"a\"]}}",
		  "field 'storageDescriptor.columns[0]' is not an object");
	table_err("{\"name\":\"t\",\"retention\":\"0\"}", "field 'retention' is not an integer");
	table_err("{\"name\":\"t\",\"retention\":1.5}", "field 'retention' is not an integer");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"compressed\":\"yes\"}}",
		  "field 'storageDescriptor.compressed' is not a boolean");
	table_err("{\"name\":\"t\",\"partitionKeys\":{}}", "field 'partitionKeys' is not an array");
	table_err("{\"name\":\"t\",\"storageDescriptor\":[]}",
		  "field 'storageDescriptor' is not an object");
	table_err("{\"name\":\"t\",\"parameters\":{\"k\":5}}",
		  "field 'parameters.k' is not a string");
	table_err("{\"name\":\"t\",\"parameters\":{\"k\":null}}",
		  "field 'parameters.k' is not a string");
	table_err("{\"name\":\"t\",\"parameters\":[]}", "field 'parameters' is not an object");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"bucketColumns\":[\"a\",1]}}",
		  "field 'storageDescriptor.bucketColumns[1]' is not a string");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"sortColumns\":[{\"column\":\"a\"}]}}",
		  "field 'storageDescriptor.sortColumns[0].order' is missing");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"skewedInfo\":{"
		  "\"skewedColumnValueLocationMaps\":{\"1%a\":1}}}}",
		  "field 'storageDescriptor.skewedInfo.skewedColumnValueLocationMaps.1%a' is not a "
		  "string");
	table_err("{\"name\":\"t\",\"targetTable\":\"x\"}", "field 'targetTable' is not an object");
	table_err("{\"name\":\"t\",\"WRITE_ID\":[1e999]}",
		  "field 'WRITE_ID[0]' is a number out of range");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"numberOfBuckets\":1e999}}",
		  "field 'storageDescriptor.numberOfBuckets' is not an integer");
	table_err("{\"name\":\"a\",\"Name\":\"b\"}", "field 'Name' appears twice");
	table_err("{\"name\":\"t\",\"parameters\":{\"a\":\"1\",\"a\":\"2\"}}",
		  "key 'a' appears twice in one object");
	/*
	 * Parameter keys are one line (Glue's KeyString; Hive allows more, which an
	 * import reports): a tab is fine, a line break is not.  Values may span lines.
	 */
	{
		ms_entity *e = parse_ok("{\"type\":\"database\",\"item\":{\"name\":\"d\","
					"\"parameters\":{\"multi\\tkey\":\"v\\nw\"}}}",
					0);

		assert_string_equal(ms_entity_param(e, "multi\tkey"), "v\nw");
		ms_entity_free(e);
	}
	parse_err("{\"type\":\"database\",\"item\":{\"name\":\"d\","
		  "\"parameters\":{\"multi\\nline\":\"v\"}}}",
		  0, "key 'multi?line' in field 'parameters' holds a control character");
	table_err("{\"name\":\"t\",\"x\\ny\":{\"z\":\"\xff\"}}",
		  "field 'x?y.z' is not valid utf-8");
	table_err("{\"name\":\"\"}", "table name is empty");
	table_err("{\"name\":\"a\\nb\"}", "table name holds a control character");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[{\"name\":\"a\\tb\"},"
		  "{\"name\":\"a\\rb\"}]}}",
		  "field 'storageDescriptor.columns[1].name' holds a control character");
	parse_err("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":{}}", 0,
		  "field 'values' is missing");
	parse_err("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":"
		  "{\"values\":\"2024\"}}",
		  0, "field 'values' is not an array");
	parse_err("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":"
		  "{\"values\":[\"a\",null]}}",
		  0, "field 'values[1]' is not a string");
	parse_err("{\"type\":\"database\",\"item\":{\"description\":\"x\"}}", 0,
		  "field 'name' is missing");
}

static void test_limits(void **state)
{
	char *a255 = repeat("a", 255), *a256 = repeat("a", 256), *e255 = repeat("\xc3\xa9", 255),
	     *e256 = repeat("\xc3\xa9", 256), *item, *line, *big;
	ms_entity *e;

	(void)state;
	/* Names: 255 characters fit, counted in characters, not bytes. */
	item = ms_test_fmt("{\"name\":\"%s\"}", a255);
	line = ms_test_fmt("{\"database\":\"%s\",\"type\":\"table\",\"item\":%s}", a255, item);
	e = parse_ok(line, 0);
	ms_entity_free(e);
	free(line);
	free(item);
	item = ms_test_fmt("{\"name\":\"%s\"}", e255);
	line = ms_test_fmt("{\"database\":\"d\",\"type\":\"table\",\"item\":%s}", item);
	e = parse_ok(line, 0);
	ms_entity_free(e);
	free(line);
	free(item);

	item = ms_test_fmt("{\"name\":\"%s\"}", a256);
	table_err(item,
		  "table name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 255 characters");
	free(item);
	item = ms_test_fmt("{\"name\":\"%s\"}", e256);
	table_err(item,
		  "table name '\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...' is longer than 255 characters");
	free(item);
	line = ms_test_fmt("{\"type\":\"database\",\"item\":{\"name\":\"%s\"}}", a256);
	parse_err(line, 0,
		  "database name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 255 "
		  "characters");
	free(line);
	line = ms_test_fmt("{\"database\":\"%s\",\"type\":\"table\",\"item\":{\"name\":\"t\"}}",
			   a256);
	parse_err(line, 0,
		  "database name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 255 "
		  "characters");
	free(line);
	item = ms_test_fmt("{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[{\"name\":"
			   "\"%s\"}]}}",
			   a256);
	table_err(item, "field 'storageDescriptor.columns[0].name' is longer than 255 characters");
	free(item);

	big = repeat("d", 2049);
	item = ms_test_fmt("{\"name\":\"t\",\"description\":\"%s\"}", big);
	table_err(item, "field 'description' is longer than 2048 characters");
	free(item);
	big[2048] = '\0';
	item = ms_test_fmt("{\"name\":\"t\",\"description\":\"%s\"}", big);
	line = ms_test_fmt("{\"database\":\"d\",\"type\":\"table\",\"item\":%s}", item);
	ms_entity_free(parse_ok(line, 0));
	free(line);
	free(item);
	free(big);

	big = repeat("v", 1025);
	line = ms_test_fmt("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":"
			   "{\"values\":[\"ok\",\"%s\"]}}",
			   big);
	parse_err(line, 0, "field 'values[1]' is longer than 1024 characters");
	free(line);
	free(big);

	table_err("{\"name\":\"t\",\"parameters\":{\"\":\"v\"}}",
		  "field 'parameters' has an empty key");
	item = ms_test_fmt("{\"name\":\"t\",\"parameters\":{\"%s\":\"v\"}}", a256);
	table_err(item, "key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' in field 'parameters' is longer "
			"than 255 characters");
	free(item);
	big = repeat("p", 512001);
	item = ms_test_fmt("{\"name\":\"t\",\"storageDescriptor\":{\"serdeInfo\":{\"parameters\":"
			   "{\"k\":\"%s\"}}}}",
			   big);
	table_err(item, "field 'storageDescriptor.serdeInfo.parameters.k' is longer than 512000 "
			"characters");
	free(item);
	big[512000] = '\0';
	item = ms_test_fmt("{\"name\":\"t\",\"parameters\":{\"k\":\"%s\"}}", big);
	line = ms_test_fmt("{\"database\":\"d\",\"type\":\"table\",\"item\":%s}", item);
	ms_entity_free(parse_ok(line, 0));
	free(line);
	free(item);
	free(big);

	item = ms_test_fmt("{\"name\":\"t\",\"partitionKeys\":[{\"name\":\"c\",\"comment\":"
			   "\"%s\"}]}",
			   a256);
	table_err(item, "field 'partitionKeys[0].comment' is longer than 255 characters");
	free(item);
	big = repeat("t", 131073);
	item = ms_test_fmt("{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[{\"name\":\"c\","
			   "\"type\":\"%s\"}]}}",
			   big);
	table_err(item,
		  "field 'storageDescriptor.columns[0].type' is longer than 131072 characters");
	free(item);
	free(big);
	big = repeat("s", 409601);
	item = ms_test_fmt("{\"name\":\"t\",\"viewOriginalText\":\"%s\"}", big);
	table_err(item, "field 'viewOriginalText' is longer than 409600 characters");
	free(item);
	free(big);
	big = repeat("l", 2057);
	item = ms_test_fmt("{\"name\":\"t\",\"storageDescriptor\":{\"location\":\"%s\"}}", big);
	table_err(item, "field 'storageDescriptor.location' is longer than 2056 characters");
	free(item);
	free(big);

	free(a255);
	free(a256);
	free(e255);
	free(e256);
}

static void test_invalid_utf8_rejected(void **state)
{
	(void)state;
	table_err("{\"name\":\"t\xc3\"}", "table name is not valid utf-8");
	table_err("{\"name\":\"t\",\"parameters\":{\"k\":\"\xc0\xaf\"}}",
		  "field 'parameters.k' is not valid utf-8");
	table_err("{\"name\":\"t\",\"parameters\":{\"k\xed\xa0\x80\":\"v\"}}",
		  "field 'parameters' has a key that is not valid utf-8");
	table_err("{\"name\":\"t\",\"owner\":\"\xed\xbf\xbf\"}",
		  "field 'owner' is not valid utf-8");
	table_err("{\"name\":\"t\",\"someFuture\":{\"x\":[\"ok\",\"\xf4\x90\x80\x80\"]}}",
		  "field 'someFuture.x[1]' is not valid utf-8");
	table_err("{\"name\":\"t\",\"FUTURE\xff\":1}", "item has a key that is not valid utf-8");
	table_err("{\"name\":\"t\",\"storageDescriptor\":{\"columns\":[{\"name\":\"c\",\"comment\":"
		  "\"\xe0\x80\xaf\"}]}}",
		  "field 'storageDescriptor.columns[0].comment' is not valid utf-8");
	table_err("{\"name\":\"t\",\"targetTable\":{\"name\":\"\x80\"}}",
		  "field 'targetTable.Name' is not valid utf-8");
}

static void test_utf8_valid(void **state)
{
	static const char *const good[] = {
		"",
		"plain ascii text that is longer than eight bytes",
		"\xc3\xa9",
		"\xe2\x82\xac",
		"\xf0\x9f\x9a\x80",
		"\xef\xbf\xbf",
		"\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf",
		"\xee\x80\x80",
		"tab\tand\nnewline",
		"mixed \xc3\xa9t\xc3\xa9 and ascii runs........\xe6\x97\xa5",
	};
	static const char *const bad[] = {
		"\x80",
		"\xbf",
		"\xc0\x80",
		"\xc1\xbf",
		"\xc3",
		"\xc3\x28",
		"\xe0\x80\x80",
		"\xe0\x9f\xbf",
		"\xed\xa0\x80",
		"\xed\xbf\xbf",
		"\xe2\x82",
		"\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80",
		"\xff",
		"\xfe",
		"ascii run of more than eight bytes then \xc3",
		"\xf0\x9f\x9a",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ms_utf8_valid(good[i], strlen(good[i])))
			fail_msg("good[%zu] rejected", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ms_utf8_valid(bad[i], strlen(bad[i])))
			fail_msg("bad[%zu] accepted", i);
	/* Lengths are honoured: a valid prefix of an invalid string. */
	assert_true(ms_utf8_valid("ab\xc3", 2));
	assert_false(ms_utf8_valid("\xe2\x82\xac", 2));
}

static void test_glue_validation(void **state)
{
	ms_entity *e = NULL;
	ms_error err;
	cJSON *doc;

	(void)state;
	doc = cJSON_Parse(
		"{\"Name\":\"t\",\"StorageDescriptor\":{\"Columns\":[{\"Type\":\"int\"}]}}");
	assert_int_equal(ms_entity_from_glue(&e, MS_KIND_TABLE, doc, "d", NULL, &err), MS_EINVAL);
	assert_string_equal(err.message, "field 'StorageDescriptor.Columns[0].Name' is missing");
	assert_null(e);

	doc = cJSON_Parse("{\"Name\":\"t\"}");
	assert_int_equal(ms_entity_from_glue(&e, MS_KIND_TABLE, doc, NULL, NULL, &err), MS_EINVAL);
	assert_string_equal(err.message, "field 'DatabaseName' is missing");

	doc = cJSON_Parse("[1]");
	assert_int_equal(ms_entity_from_glue(&e, MS_KIND_TABLE, doc, "d", NULL, &err), MS_EINVAL);
	assert_string_equal(err.message, "table document is not a JSON object");

	doc = cJSON_Parse("{\"Values\":[\"1\"],\"CreationTime\":\"1651241372000\"}");
	assert_int_equal(ms_entity_from_glue(&e, MS_KIND_PARTITION, doc, "d", "t", &err),
			 MS_EINVAL);
	assert_string_equal(err.message, "field 'CreationTime' is not a timestamp");

	/* Fallbacks fill the identity and the document; names fold. */
	doc = cJSON_Parse("{\"Values\":[\"X\",\"y\"],\"CreationTime\":1651241372,"
			  "\"storageDescriptor\":{\"location\":\"s3://b\"}}");
	assert_int_equal(ms_entity_from_glue(&e, MS_KIND_PARTITION, doc, "DB", "Tb", &err), 0);
	assert_string_equal(e->database, "db");
	assert_string_equal(e->table, "tb");
	assert_string_equal(e->vkey, "[\"X\",\"y\"]");
	assert_string_equal(get_str(get(e->doc, "DatabaseName", NULL)), "db");
	assert_string_equal(get_str(get(e->doc, "TableName", NULL)), "tb");
	assert_string_equal(get_str(get(e->doc, "StorageDescriptor", "Location", NULL)), "s3://b");
	ms_entity_free(e);

	/* The document's DatabaseName wins over the argument. */
	doc = cJSON_Parse("{\"Name\":\"T\",\"DatabaseName\":\"Real\"}");
	assert_int_equal(ms_entity_from_glue(&e, MS_KIND_TABLE, doc, "other", NULL, &err), 0);
	assert_string_equal(e->database, "real");
	assert_string_equal(e->table, "t");
	ms_entity_free(e);
}

/* ---- values keys ------------------------------------------------------ */

static void test_vkey(void **state)
{
	static const char *const values[] = { "a\"b", "c\\d", "e\nf", "\x01", "\xc3\xa9", "A", "" };
	static const char expected[] = "[\"a\\\"b\",\"c\\\\d\",\"e\\nf\",\"\\u0001\",\"\xc3\xa9\","
				       "\"A\",\"\"]";
	ms_entity *e;
	ms_error err;
	char *key = NULL;

	(void)state;
	assert_int_equal(ms_values_key(&key, values, 7, &err), 0);
	assert_string_equal(key, expected);
	free(key);
	assert_int_equal(ms_values_key(&key, NULL, 0, &err), 0);
	assert_string_equal(key, "[]");
	free(key);

	/* Partition values may hold any character; an empty one is refused (Glue's ValueString). */
	e = parse_ok("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":{"
		     "\"values\":"
		     "[\"a\\\"b\",\"c\\\\d\",\"e\\nf\",\"\\u0001\",\"\\u00e9\",\"A\"]}}",
		     0);
	assert_string_equal(e->vkey,
			    "[\"a\\\"b\",\"c\\\\d\",\"e\\nf\",\"\\u0001\",\"\xc3\xa9\",\"A\"]");
	ms_entity_free(e);
	parse_err("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":{\"values\":"
		  "[\"a\",\"\"]}}",
		  0, "field 'values[1]' is empty");

	/* Values are case-sensitive. */
	e = parse_ok("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":{"
		     "\"values\":"
		     "[\"a\"]}}",
		     0);
	assert_string_equal(e->vkey, "[\"a\"]");
	ms_entity_free(e);
}

/* ms_line_values_peek on line gives want (values joined by '|'), or gives up (want NULL). */
static void peek_is(const char *line, const char *want)
{
	ms_line_values lv;
	ms_buf b = MS_BUF_INIT(1 << 20);
	size_t i;
	int rc = ms_line_values_peek(line, strlen(line), &lv);

	if (!want) {
		if (rc != 0)
			fail_msg("peek did not give up on %s", line);
		return;
	}
	if (rc != 1)
		fail_msg("peek gave up on %s", line);
	for (i = 0; i < lv.n; i++) {
		if (i)
			ms_buf_addc(&b, '|');
		ms_buf_add(&b, lv.v[i], lv.len[i]);
	}
	assert_string_equal(b.ptr ? b.ptr : "", want);
	ms_buf_free(&b);
}

static void test_line_values_peek(void **state)
{
	ms_buf many = MS_BUF_INIT(1 << 20);
	int i;

	(void)state;
	peek_is("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":"
		"{\"values\":[\"2024\",\"eu\"],\"parameters\":{\"values\":\"x\"}}}",
		"2024|eu");
	peek_is(" {\"values\":[\"no\"], \"item\" : { "
		"\"a\":[1,-2.5e3,true,false,null,{\"b\":\"\\\"\"}],"
		"\"Values\" : [ \"x y\" , \"\" ] } , \"z\":{}}\r\n",
		"x y|");
	peek_is("{\"item\":{\"values\":[]}}", "");
	peek_is("{\"item\":{\"values\":[\"caf\xc3\xa9\"]}}", "caf\xc3\xa9");
	/* What the parser must decide. */
	peek_is("{\"item\":{\"values\":[\"a\\\"b\"]}}", NULL);
	peek_is("{\"item\":{\"values\":[\"\\u0041\"]}}", NULL);
	peek_is("{\"item\":{\"values\":[\"a\"],\"Values\":[\"b\"]}}", NULL);
	peek_is("{\"item\":{\"values\":[\"a\"]},\"item\":{\"values\":[\"b\"]}}", NULL);
	peek_is("{\"item\":{\"v\\u0061lues\":[\"a\"],\"values\":[\"b\"]}}", NULL);
	peek_is("{\"it\\u0065m\":{\"values\":[\"a\"]}}", NULL);
	peek_is("{\"item\":{\"values\":null}}", NULL);
	peek_is("{\"item\":{\"values\":[\"a\",1]}}", NULL);
	peek_is("{\"item\":{\"values\":[\"a\"]}} x", NULL);
	peek_is("{\"item\":{\"values\":[\"a\"]}", NULL);
	peek_is("{\"item\":{\"values\":[\"a\",]}}", NULL);
	peek_is("{\"item\":{\"parameters\":{}}}", NULL);
	peek_is("{\"values\":[\"a\"]}", NULL);
	peek_is("[\"item\"]", NULL);
	peek_is("", NULL);
	ms_buf_adds(&many, "{\"item\":{\"values\":[");
	for (i = 0; i <= MS_LINE_VALUES_MAX; i++)
		ms_buf_printf(&many, "%s\"%d\"", i ? "," : "", i);
	ms_buf_adds(&many, "]}}");
	peek_is(many.ptr, NULL);
	ms_buf_free(&many);
}

/* ---- entity operations ------------------------------------------------ */

static void test_params_rename_dup(void **state)
{
	ms_entity *e = parse_ok(base_table, 0), *d = NULL;
	unsigned char h0[MS_HASH_LEN];
	ms_error err;
	char *out;

	(void)state;
	memcpy(h0, e->hash, MS_HASH_LEN);
	assert_string_equal(ms_entity_param(e, "a"), "1");
	assert_null(ms_entity_param(e, "zz"));

	/* Markers leave the hash valid; other parameters invalidate it. */
	assert_int_equal(ms_entity_set_param(e, MS_MARKER_SYNCED, "2024", &err), 0);
	assert_true(e->hashed);
	assert_string_equal(ms_entity_param(e, MS_MARKER_SYNCED), "2024");
	assert_int_equal(ms_entity_rehash(e, &err), 0);
	assert_memory_equal(e->hash, h0, MS_HASH_LEN);
	assert_int_equal(ms_entity_set_param(e, "a", "changed", &err), 0);
	assert_false(e->hashed);
	assert_string_equal(ms_entity_param(e, "a"), "changed");
	assert_int_equal(ms_entity_set_param(e, "a", NULL, &err), 0);
	assert_null(ms_entity_param(e, "a"));
	assert_int_equal(ms_entity_set_param(e, "", "v", &err), MS_EINVAL);
	assert_int_equal(ms_entity_rehash(e, &err), 0);
	assert_memory_not_equal(e->hash, h0, MS_HASH_LEN);

	/* dup is deep. */
	assert_int_equal(ms_entity_dup(&d, e, &err), 0);
	assert_memory_equal(d->hash, e->hash, MS_HASH_LEN);
	assert_int_equal(ms_entity_set_param(d, "b", "only in the copy", &err), 0);
	assert_string_equal(ms_entity_param(e, "b"), "2");

	/* Rename moves identity and document; the database is not content. */
	memcpy(h0, d->hash, MS_HASH_LEN);
	assert_int_equal(ms_entity_rehash(d, &err), 0);
	memcpy(h0, d->hash, MS_HASH_LEN);
	assert_int_equal(ms_entity_rename(d, "Staging", NULL, &err), 0);
	assert_string_equal(d->database, "staging");
	assert_string_equal(d->table, "t");
	assert_string_equal(get_str(get(d->doc, "DatabaseName", NULL)), "staging");
	assert_memory_equal(d->hash, h0, MS_HASH_LEN);
	assert_int_equal(ms_entity_rename(d, NULL, "T2", &err), 0);
	assert_string_equal(get_str(get(d->doc, "Name", NULL)), "t2");
	assert_string_equal(d->table, "t2");
	assert_memory_not_equal(d->hash, h0, MS_HASH_LEN);
	out = to_line(d);
	assert_non_null(strstr(out, "{\"database\":\"staging\",\"type\":\"table\",\"item\":"
				    "{\"name\":\"t2\""));
	free(out);
	assert_int_equal(ms_entity_rename(d, "", NULL, &err), MS_EINVAL);
	assert_string_equal(err.message, "database name is empty");
	ms_entity_free(d);
	ms_entity_free(e);

	/* Partitions and databases. */
	e = parse_ok("{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":{"
		     "\"values\":"
		     "[\"1\"]}}",
		     0);
	assert_int_equal(ms_entity_set_param(e, "k", "v", &err), 0);
	assert_string_equal(get_str(get(e->doc, "Parameters", "k", NULL)), "v");
	assert_int_equal(ms_entity_rename(e, "D2", "T2", &err), 0);
	assert_string_equal(get_str(get(e->doc, "DatabaseName", NULL)), "d2");
	assert_string_equal(get_str(get(e->doc, "TableName", NULL)), "t2");
	out = to_line(e);
	assert_string_equal(out,
			    "{\"database\":\"d2\",\"table\":\"t2\",\"type\":\"partition\",\"item\":"
			    "{\"namespaceName\":\"d2\",\"tableName\":\"t2\",\"values\":[\"1\"],"
			    "\"parameters\":{\"k\":\"v\"}}}");
	free(out);
	ms_entity_free(e);

	e = parse_ok("{\"type\":\"database\",\"item\":{\"name\":\"a\"}}", 0);
	assert_int_equal(ms_entity_rename(e, "B", NULL, &err), 0);
	assert_string_equal(e->database, "b");
	assert_string_equal(get_str(get(e->doc, "Name", NULL)), "b");
	assert_int_equal(ms_entity_rename(e, "c", "x", &err), MS_EINVAL);
	ms_entity_free(e);
	ms_entity_free(NULL);
	assert_string_equal(ms_kind_name(MS_KIND_PARTITION), "partition");
	assert_string_equal(ms_kind_name(MS_KIND_DATABASE), "database");
}

static void test_glue_output(void **state)
{
	ms_entity *e = parse_ok("{\"database\":\"d\",\"type\":\"table\",\"item\":{\"name\":\"t\","
				"\"parameters\":{},\"partitionKeys\":[],\"storageDescriptor\":{"
				"\"columns\":"
				"[{\"name\":\"a\",\"type\":\"int\"}]}}}",
				0);
	ms_buf b = MS_BUF_INIT(1 << 20);
	ms_error err;

	(void)state;
	assert_int_equal(ms_entity_to_glue(e, &b, 0, &err), 0);
	assert_string_equal(ms_buf_cstr(&b),
			    "{\"DatabaseName\":\"d\",\"Name\":\"t\",\"Parameters\":{},"
			    "\"PartitionKeys\":[],\"StorageDescriptor\":{\"Columns\":"
			    "[{\"Name\":\"a\",\"Type\":\"int\"}]}}");
	ms_buf_reset(&b);
	assert_int_equal(ms_entity_to_glue(e, &b, 1, &err), 0);
	assert_string_equal(ms_buf_cstr(&b),
			    "{\n  \"DatabaseName\": \"d\",\n  \"Name\": \"t\",\n"
			    "  \"Parameters\": {},\n  \"PartitionKeys\": [],\n"
			    "  \"StorageDescriptor\": {\n    \"Columns\": [\n      {\n"
			    "        \"Name\": \"a\",\n        \"Type\": \"int\"\n"
			    "      }\n    ]\n  }\n}");
	ms_buf_free(&b);
	ms_entity_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rich_table_round_trip),
		cmocka_unit_test(test_partition_line_shape),
		cmocka_unit_test(test_database_line),
		cmocka_unit_test(test_names_fold_and_nulls),
		cmocka_unit_test(test_time_forms),
		cmocka_unit_test(test_time_in_text),
		cmocka_unit_test(test_skew_keys_from_utility),
		cmocka_unit_test(test_time_empty_through_lines),
		cmocka_unit_test(test_time_through_lines),
		cmocka_unit_test(test_glue_timestamps),
		cmocka_unit_test(test_canonical_json),
		cmocka_unit_test(test_hash_stability),
		cmocka_unit_test(test_hash_is_sha256_of_writable_json),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_invalid_lines),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_invalid_utf8_rejected),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_glue_validation),
		cmocka_unit_test(test_vkey),
		cmocka_unit_test(test_line_values_peek),
		cmocka_unit_test(test_params_rename_dup),
		cmocka_unit_test(test_glue_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
