/*
 * Unit tests of the catalog comparison (metasync/compare.h): equal catalogs
 * match with every entity counted, each kind of difference is a mismatch
 * with a message naming it, the selection and the message cap work, a
 * mapping (prefixes, a location rewrite) is applied and each mismatch names
 * its entity, field and both values; and
 * ms_export_is_current on a real embedded catalog and file store: current
 * after an export, not after a change, not for another selection or another
 * catalog, not for an empty store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fake_catalog.h"
#include "metasync/compare.h"
#include "metasync/replicate.h"

/* A small lake: two databases, a partitioned table, a view. */
static void fill(fake_catalog *f)
{
	fake_add(f, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"sales\"}");
	fake_add(f, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"finance\"}");
	fake_add(f, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"orders\",\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"string\"}]}");
	fake_add(f, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"v_orders\",\"TableType\":\"VIRTUAL_VIEW\","
		 "\"ViewOriginalText\":\"select * from sales.orders\"}");
	fake_add(f, MS_KIND_TABLE, "finance", NULL, "{\"Name\":\"ledger\"}");
	fake_add(f, MS_KIND_PARTITION, "sales", "orders", "{\"Values\":[\"2026-01-01\"]}");
	fake_add(f, MS_KIND_PARTITION, "sales", "orders", "{\"Values\":[\"2026-01-02\"]}");
}

static void compare(fake_catalog *a, fake_catalog *b, const ms_compare_options *o,
		    ms_compare_result *r)
{
	ms_error err;

	ms_error_clear(&err);
	if (ms_catalog_compare(&a->base, &b->base, o, r, &err) != 0)
		fail_msg("compare failed: %s", err.message);
}

static int has_message(const ms_compare_result *r, const char *part)
{
	for (size_t i = 0; i < r->nmessages; i++)
		if (strstr(r->messages[i], part))
			return 1;
	return 0;
}

static void test_equal(void **state)
{
	fake_catalog *a = fake_catalog_new("111111111111", 0, 1);
	fake_catalog *b = fake_catalog_new("222222222222", 0, 1);
	ms_compare_options o = { 0 };
	ms_compare_result r;

	(void)state;
	fill(a);
	fill(b);
	for (int fast = 0; fast < 2; fast++) {
		o.fast = fast;
		compare(a, b, &o, &r);
		assert_int_equal(r.mismatches, 0);
		assert_int_equal(r.nmessages, 0);
		assert_int_equal(r.databases, 2);
		assert_int_equal(r.tables, 2);
		assert_int_equal(r.views, 1);
		assert_int_equal(r.partitions, 2);
		ms_compare_result_free(&r);
	}
	ms_catalog_close(&a->base);
	ms_catalog_close(&b->base);
}

static void test_differences(void **state)
{
	fake_catalog *a = fake_catalog_new("111111111111", 0, 1);
	fake_catalog *b = fake_catalog_new("222222222222", 0, 1);
	ms_compare_options o = { 0 };
	ms_compare_result r;
	const char *dbs[] = { "sales" };

	(void)state;
	fill(a);
	fill(b);
	fake_add(b, MS_KIND_PARTITION, "sales", "orders", "{\"Values\":[\"2026-01-03\"]}");
	fake_add(b, MS_KIND_TABLE, "finance", NULL,
		 "{\"Name\":\"ledger\",\"Description\":\"edited\"}");
	fake_add(b, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"extra\"}");
	o.b_name = "the copy";
	compare(a, b, &o, &r);
	assert_int_equal(r.mismatches, 3);
	assert_true(has_message(&r, "partition 'sales.orders[\"2026-01-03\"]' in the copy is not "
				    "in the source"));
	assert_true(has_message(&r,
				"table 'finance.ledger' in the copy differs from the source's "
				"'finance.ledger' in 'Description': \"edited\" instead of absent"));
	assert_true(has_message(&r, "database 'extra' in the copy is not in the source"));
	ms_compare_result_free(&r);

	/* at most max_messages described, all counted */
	o.max_messages = 1;
	compare(a, b, &o, &r);
	assert_int_equal(r.mismatches, 3);
	assert_int_equal(r.nmessages, 1);
	ms_compare_result_free(&r);

	/* only sales compared: finance in b is then beyond the selection */
	o.max_messages = 0;
	o.databases = dbs;
	o.ndatabases = 1;
	compare(a, b, &o, &r);
	assert_true(has_message(&r, "database 'finance' in the copy is not in the source"));
	assert_false(has_message(&r, "ledger"));
	ms_compare_result_free(&r);
	ms_catalog_close(&a->base);
	ms_catalog_close(&b->base);
}

/* The diff of each mismatch: which entity, how, which field, both values. */
static const ms_compare_diff *diff_of(const ms_compare_result *r, const char *entity)
{
	for (size_t i = 0; i < r->nmessages; i++)
		if (strcmp(r->diffs[i].entity, entity) == 0)
			return &r->diffs[i];
	fail_msg("no mismatch of '%s'", entity);
	return NULL;
}

/* b holds a under a mapping: database prefix, table prefix, a location rewrite. */
static void test_mapping(void **state)
{
	fake_catalog *a = fake_catalog_new("111111111111", 0, 1);
	fake_catalog *b = fake_catalog_new("222222222222", 0, 1);
	const char *rewrites[] = { "s3://old=s3://new" };
	ms_sync_options m = { 0 };
	ms_compare_options o = { 0 };
	ms_compare_result r;
	const ms_compare_diff *d;

	(void)state;
	fake_add(a, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"sales\"}");
	fake_add(a, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"orders\",\"Owner\":\"ann\",\"PartitionKeys\":[{\"Name\":\"dt\","
		 "\"Type\":\"string\"}]}");
	fake_add(a, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"v_orders\",\"TableType\":\"VIRTUAL_VIEW\","
		 "\"ViewOriginalText\":\"select * from sales.orders\"}");
	fake_add(a, MS_KIND_PARTITION, "sales", "orders",
		 "{\"Values\":[\"1\"],\"StorageDescriptor\":{\"Location\":\"s3://old/1\"}}");
	fake_add(a, MS_KIND_PARTITION, "sales", "orders",
		 "{\"Values\":[\"2\"],\"StorageDescriptor\":{\"Location\":\"s3://old/2\"}}");
	fake_add(b, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"src_sales\"}");
	fake_add(b, MS_KIND_TABLE, "src_sales", NULL,
		 "{\"Name\":\"t_orders\",\"Owner\":\"ann\",\"PartitionKeys\":[{\"Name\":\"dt\","
		 "\"Type\":\"string\"}]}");
	fake_add(b, MS_KIND_TABLE, "src_sales", NULL,
		 "{\"Name\":\"t_v_orders\",\"TableType\":\"VIRTUAL_VIEW\","
		 "\"ViewOriginalText\":\"select * from src_sales.t_orders\"}");
	fake_add(b, MS_KIND_PARTITION, "src_sales", "t_orders",
		 "{\"Values\":[\"1\"],\"StorageDescriptor\":{\"Location\":\"s3://new/1\"}}");
	fake_add(b, MS_KIND_PARTITION, "src_sales", "t_orders",
		 "{\"Values\":[\"2\"],\"StorageDescriptor\":{\"Location\":\"s3://new/2\"}}");
	m.database_prefix = "src_";
	m.table_prefix = "t_";
	m.location_rewrites = rewrites;
	m.nrewrites = 1;
	m.max_deletes = -1;
	o.mapping = &m;
	o.b_name = "the target";
	compare(a, b, &o, &r);
	for (size_t i = 0; i < r.nmessages; i++)
		print_message("%s\n", r.messages[i]);
	assert_int_equal(r.mismatches, 0);
	assert_int_equal(r.databases, 1);
	assert_int_equal(r.tables, 1);
	assert_int_equal(r.views, 1);
	assert_int_equal(r.partitions, 2);
	ms_compare_result_free(&r);

	/* without the mapping nothing is where it should be */
	o.mapping = NULL;
	compare(a, b, &o, &r);
	assert_true(has_message(&r, "database 'sales' is missing in the target"));
	assert_true(has_message(&r, "database 'src_sales' in the target is not in the source"));
	ms_compare_result_free(&r);

	/* one line per entity, naming the field and both values */
	o.mapping = &m;
	fake_add(b, MS_KIND_TABLE, "src_sales", NULL,
		 "{\"Name\":\"t_orders\",\"Owner\":\"bob\",\"PartitionKeys\":[{\"Name\":\"dt\","
		 "\"Type\":\"string\"}]}");
	fake_add(b, MS_KIND_PARTITION, "src_sales", "t_orders",
		 "{\"Values\":[\"2\"],\"StorageDescriptor\":{\"Location\":\"s3://old/2\"}}");
	fake_add(b, MS_KIND_PARTITION, "src_sales", "t_orders", "{\"Values\":[\"3\"]}");
	compare(a, b, &o, &r);
	assert_int_equal(r.mismatches, 3);
	d = diff_of(&r, "src_sales.t_orders");
	assert_int_equal(d->what, MS_COMPARE_DIFFERS);
	assert_int_equal(d->kind, MS_KIND_TABLE);
	assert_string_equal(d->field, "Owner");
	assert_string_equal(d->a_value, "\"ann\"");
	assert_string_equal(d->b_value, "\"bob\"");
	d = diff_of(&r, "src_sales.t_orders[\"2\"]");
	assert_int_equal(d->what, MS_COMPARE_DIFFERS);
	assert_int_equal(d->kind, MS_KIND_PARTITION);
	assert_string_equal(d->field, "StorageDescriptor.Location");
	assert_string_equal(d->a_value, "\"s3://new/2\"");
	assert_string_equal(d->b_value, "\"s3://old/2\"");
	d = diff_of(&r, "src_sales.t_orders[\"3\"]");
	assert_int_equal(d->what, MS_COMPARE_EXTRA);
	assert_true(has_message(&r,
				"table 'src_sales.t_orders' in the target differs from the "
				"source's 'sales.orders' in 'Owner': \"bob\" instead of \"ann\""));
	ms_compare_result_free(&r);
	ms_catalog_close(&a->base);
	ms_catalog_close(&b->base);
}

/* ---- ms_export_is_current on an embedded catalog and a file store ------- */

static void put_database(const char *url, const char *name)
{
	ms_open_options o = { 0 };
	ms_catalog *cat = NULL;
	ms_entity *e = NULL;
	ms_error err;
	char json[128];
	cJSON *doc;

	snprintf(json, sizeof(json), "{\"Name\":\"%s\"}", name);
	doc = cJSON_Parse(json);
	o.mode = MS_OPEN_WRITE;
	ms_error_clear(&err);
	if (ms_catalog_open(&cat, url, &o, &err) < 0 ||
	    ms_entity_from_glue(&e, MS_KIND_DATABASE, doc, NULL, NULL, &err) < 0 ||
	    ms_catalog_put_database(cat, e, &err) < 0 || ms_catalog_finish(cat, &err) < 0)
		fail_msg("cannot put database %s: %s", name, err.message);
	ms_entity_free(e);
	ms_catalog_close(cat);
}

static void export_to(const char *src, const char *store, const char *databases)
{
	ms_export_options eo = { 0 };
	ms_snapshot_info info;
	ms_report *rep = NULL;
	ms_error err;

	eo.databases = databases;
	ms_error_clear(&err);
	if (ms_export(src, store, &eo, &info, &rep, &err) != 0)
		fail_msg("export failed: %s", err.message);
	ms_snapshot_info_free(&info);
	ms_report_free(rep);
}

static int current(const char *src, const char *store, const char *databases)
{
	ms_snapshot_info latest;
	ms_error err;
	int yes = -1;

	ms_error_clear(&err);
	memset(&latest, 0, sizeof(latest));
	if (ms_export_is_current(src, store, databases, &yes, &latest, &err) != 0)
		fail_msg("ms_export_is_current failed: %s", err.message);
	if (yes)
		assert_non_null(latest.id);
	else
		assert_null(latest.id);
	ms_snapshot_info_free(&latest);
	return yes;
}

static void test_export_is_current(void **state)
{
	char dir[] = "/tmp/ms-test-compare-XXXXXX", src[256], other[256], store[256], cmd[300];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "sqlite:%s/src.db?catalog-id=111111111111", dir);
	snprintf(other, sizeof(other), "sqlite:%s/other.db?catalog-id=999999999999", dir);
	snprintf(store, sizeof(store), "%s/store", dir);
	put_database(src, "sales");
	put_database(src, "finance");
	put_database(other, "sales");
	put_database(other, "finance");

	assert_int_equal(current(src, store, NULL), 0); /* no snapshot yet */
	export_to(src, store, NULL);
	assert_int_equal(current(src, store, NULL), 1);
	assert_int_equal(current(src, store, "sales"), 0); /* the snapshot holds finance too */
	assert_int_equal(current(other, store, NULL), 0);  /* same content, another catalog */
	put_database(src, "hr");
	assert_int_equal(current(src, store, NULL), 0);
	assert_int_equal(current(src, store, "sales;finance"), 1);
	export_to(src, store, "sales");
	assert_int_equal(current(src, store, "sales"), 1);
	assert_int_equal(current(src, store, "s*"), 1);
	assert_int_equal(current(src, store, NULL), 0);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_differences),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_export_is_current),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
