/*
 * The engine against a fake driver that counts calls: idempotence, sync
 * stamps, ownership, mirror deletes and their guard, dry runs, integrity,
 * transactions, mapping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_catalog.h"
#include "metasync/replicate.h"

static void populate(fake_catalog *src, int nparts)
{
	char json[512];

	fake_add(src, MS_KIND_DATABASE, NULL, NULL,
		 "{\"Name\":\"sales\",\"LocationUri\":\"s3://src-bucket/sales/\"}");
	fake_add(src, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"finance\"}");
	fake_add(src, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"orders\",\"DatabaseName\":\"sales\",\"TableType\":\"EXTERNAL_TABLE\","
		 "\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"string\"}],"
		 "\"StorageDescriptor\":{\"Location\":\"s3://src-bucket/sales/orders/\","
		 "\"Columns\":[{\"Name\":\"id\",\"Type\":\"bigint\"}]}}");
	fake_add(src, MS_KIND_TABLE, "finance", NULL,
		 "{\"Name\":\"ledger\",\"DatabaseName\":\"finance\",\"StorageDescriptor\":"
		 "{\"Location\":\"s3://src-bucket/finance/ledger/\"}}");
	fake_add(src, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"v_orders\",\"DatabaseName\":\"sales\",\"TableType\":\"VIRTUAL_VIEW\","
		 "\"ViewOriginalText\":\"SELECT * FROM sales.orders o JOIN finance.ledger l ON "
		 "o.id = l.id\","
		 "\"ViewExpandedText\":\"SELECT * FROM `sales`.`orders` o JOIN `finance`.`ledger` "
		 "l ON o.id = l.id\","
		 "\"Parameters\":{\"view.catalogAndNamespace.numParts\":\"2\","
		 "\"view.catalogAndNamespace.part.0\":\"spark_catalog\","
		 "\"view.catalogAndNamespace.part.1\":\"sales\"}}");
	for (int i = 0; i < nparts; i++) {
		snprintf(json, sizeof(json),
			 "{\"Values\":[\"2024-01-%02d\"],\"StorageDescriptor\":{\"Location\":"
			 "\"s3://src-bucket/sales/orders/dt=2024-01-%02d/"
			 "\"},\"Parameters\":{\"n\":\"%d\"}}",
			 i + 1, i + 1, i);
		fake_add(src, MS_KIND_PARTITION, "sales", "orders", json);
	}
}

static ms_report *run(fake_catalog *src, fake_catalog *dst, const ms_sync_options *o, int want_rc)
{
	ms_report *rep = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_sync(&src->base, &dst->base, o, &rep, &err);
	if (rc != want_rc)
		fprintf(stderr, "ms_sync: %d %s\n", rc, err.message);
	assert_int_equal(rc, want_rc);
	assert_non_null(rep);
	return rep;
}

static ms_sync_options defaults(void)
{
	ms_sync_options o;

	memset(&o, 0, sizeof(o));
	o.max_deletes = -1;
	return o;
}

static void test_full_then_idempotent(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_report *rep;

	populate(src, 20);
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	assert_int_equal(rep->databases.created, 2);
	assert_int_equal(rep->tables.created, 3);
	assert_int_equal(rep->partitions.created, 20);
	assert_int_equal(fake_count(dst, MS_KIND_PARTITION), 20);
	assert_non_null(ms_entity_param(fake_find(dst, MS_KIND_TABLE, "sales", "orders", NULL),
					MS_MARKER_REPLICA_OF));
	assert_non_null(ms_entity_param(fake_find(dst, MS_KIND_PARTITION, "sales", "orders",
						  "[\"2024-01-01\"]"),
					MS_MARKER_REPLICA_OF));
	ms_report_free(rep);

	/* Again: nothing written, partitions not even read from the source. */
	memset(&dst->calls, 0, sizeof(dst->calls));
	memset(&src->calls, 0, sizeof(src->calls));
	rep = run(src, dst, &o, 0);
	assert_int_equal(fake_writes(dst), 0);
	assert_int_equal(src->calls.scan, 0);
	assert_int_equal(rep->partitions.unchanged, 20);
	assert_int_equal(rep->tables.unchanged, 3);
	assert_int_equal(rep->databases.unchanged, 2);
	ms_report_free(rep);

	/* --full reads every partition but still writes nothing. */
	o.full = 1;
	rep = run(src, dst, &o, 0);
	assert_int_equal(fake_writes(dst) - dst->calls.put_table, 0);
	assert_true(src->calls.scan > 0);
	assert_int_equal(rep->partitions.unchanged, 20);
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void test_change_one_partition(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_report *rep;

	populate(src, 10);
	ms_report_free(run(src, dst, &o, 0));
	fake_add(src, MS_KIND_PARTITION, "sales", "orders",
		 "{\"Values\":[\"2024-01-03\"],\"Parameters\":{\"n\":\"changed\"}}");
	memset(&dst->calls, 0, sizeof(dst->calls));
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->partitions.updated, 1);
	assert_int_equal(rep->partitions.unchanged, 9);
	assert_int_equal(dst->calls.put_partition_rows, 1);
	assert_string_equal(ms_entity_param(fake_find(dst, MS_KIND_PARTITION, "sales", "orders",
						      "[\"2024-01-03\"]"),
					    "n"),
			    "changed");
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void test_ownership(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_report *rep;

	populate(src, 3);
	/* The target owns a table of the same name. */
	fake_add(dst, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"sales\"}");
	fake_add(dst, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"orders\",\"DatabaseName\":\"sales\",\"Owner\":\"local-team\"}");
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	assert_int_equal(rep->tables.skipped, 1);
	assert_int_equal(rep->databases.skipped, 1);
	assert_int_equal(rep->tables.created, 2);
	assert_int_equal(rep->partitions.created, 0);
	assert_string_equal(
		cJSON_GetObjectItem(fake_find(dst, MS_KIND_TABLE, "sales", "orders", NULL)->doc,
				    "Owner")
			->valuestring,
		"local-team");
	assert_null(ms_entity_param(fake_find(dst, MS_KIND_DATABASE, "sales", NULL, NULL),
				    MS_MARKER_REPLICA_OF));
	ms_report_free(rep);

	/* A replica of another source is not ours either. */
	o.adopt = 1;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->tables.skipped, 0);
	assert_int_equal(rep->tables.updated, 1);
	assert_int_equal(rep->partitions.created, 3);
	assert_non_null(ms_entity_param(fake_find(dst, MS_KIND_TABLE, "sales", "orders", NULL),
					MS_MARKER_REPLICA_OF));
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void test_mirror_deletes_and_guard(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_report *rep;
	ms_error err;
	int rc;

	populate(src, 5);
	ms_report_free(run(src, dst, &o, 0));
	/* A table the target owns, beside the replicas, and a partition it added to one. */
	fake_add(dst, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"local\",\"DatabaseName\":\"sales\"}");
	fake_add(dst, MS_KIND_PARTITION, "sales", "orders", "{\"Values\":[\"local-only\"]}");
	/* Gone from the source: a table with its partitions, and two partitions. */
	for (size_t i = src->n; i-- > 0;) {
		ms_entity *e = src->items[i];
		if ((e->kind == MS_KIND_TABLE && strcmp(e->table, "ledger") == 0) ||
		    (e->kind == MS_KIND_PARTITION && (strcmp(e->vkey, "[\"2024-01-01\"]") == 0 ||
						      strcmp(e->vkey, "[\"2024-01-02\"]") == 0))) {
			ms_entity_free(e);
			src->items[i] = src->items[--src->n];
		}
	}
	/* deletes none: nothing goes. */
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->partitions.deleted + rep->tables.deleted, 0);
	assert_int_equal(fake_count(dst, MS_KIND_PARTITION), 6);
	ms_report_free(rep);

	/* mirror with a guard of 2: refused, nothing changes. */
	o.deletes = MS_DELETES_MIRROR;
	o.max_deletes = 2;
	memset(&dst->calls, 0, sizeof(dst->calls));
	rep = NULL;
	rc = ms_sync(&src->base, &dst->base, &o, &rep, &err);
	assert_int_equal(rc, MS_EREFUSED);
	assert_int_equal(rep->status, MS_STATUS_REFUSED);
	assert_int_equal(rep->status, MS_STATUS_REFUSED);
	assert_int_equal(fake_writes(dst), 0);
	assert_non_null(strstr(err.message, "max-deletes"));
	ms_report_free(rep);

	/* mirror, enough room: replicas go, the local table stays. */
	o.max_deletes = 10;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->partitions.deleted, 2);
	assert_int_equal(rep->tables.deleted, 1);
	assert_null(fake_find(dst, MS_KIND_TABLE, "finance", "ledger", NULL));
	assert_non_null(fake_find(dst, MS_KIND_TABLE, "sales", "local", NULL));
	assert_int_equal(rep->partitions.skipped, 1);
	assert_non_null(fake_find(dst, MS_KIND_PARTITION, "sales", "orders", "[\"local-only\"]"));
	assert_int_equal(fake_count(dst, MS_KIND_PARTITION), 4);
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void test_dry_run_and_integrity(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_report *rep = NULL;
	ms_error err;

	populate(src, 4);
	o.dry_run = 1;
	rep = run(src, dst, &o, 0);
	assert_int_equal(fake_writes(dst), 0);
	assert_int_equal(rep->partitions.created, 4);
	assert_int_equal(rep->tables.created, 3);
	assert_true(rep->dry_run);
	ms_report_free(rep);

	o.dry_run = 0;
	src->fail_verify = 1;
	rep = NULL;
	assert_int_equal(ms_sync(&src->base, &dst->base, &o, &rep, &err), MS_EINTEGRITY);
	assert_int_equal(rep->status, MS_STATUS_REFUSED);
	assert_int_equal(fake_writes(dst), 0);
	assert_int_equal(dst->n, 0);
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void test_transaction_rolls_back_table(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_report *rep;

	populate(src, 2500); /* three batches */
	dst->fail_put_partitions_at = 2;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_PARTIAL);
	assert_int_equal(rep->status, MS_STATUS_PARTIAL);
	assert_int_equal(rep->tables.failed, 1);
	assert_true(rep->nerrors >= 1);
	assert_non_null(strstr(rep->errors[0].message, "injected"));
	assert_int_equal(dst->calls.rollback, 1);
	/* The table is either all there or not there. */
	assert_null(fake_find(dst, MS_KIND_TABLE, "sales", "orders", NULL));
	assert_int_equal(fake_count(dst, MS_KIND_PARTITION), 0);
	ms_report_free(rep);

	/* A re-run converges. */
	dst->fail_put_partitions_at = 0;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	assert_int_equal(fake_count(dst, MS_KIND_PARTITION), 2500);
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

/*
 * A partition the target refuses because it cannot hold it beside another
 * (MS_EEXISTS) fails alone: the rest of its batch and table are written,
 * the report names it and says partial, and the table gets no sync stamp,
 * so that the next run tries (and reports) it again.
 */
static void test_refused_partition_fails_alone(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_report *rep;
	ms_entity *t;

	(void)state;
	populate(src, 2500);
	dst->refuse_vkey = "[\"2024-01-1500\"]";
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_PARTIAL);
	assert_int_equal(rep->status, MS_STATUS_PARTIAL);
	assert_int_equal(rep->tables.failed, 0);
	assert_int_equal(rep->partitions.created, 2499);
	assert_int_equal(rep->partitions.failed, 1);
	assert_int_equal(rep->nerrors, 1);
	assert_string_equal(rep->errors[0].entity, "sales.orders[\"2024-01-1500\"]");
	assert_non_null(strstr(rep->errors[0].message, "collides"));
	assert_int_equal(dst->calls.rollback, 0);
	assert_int_equal(fake_count(dst, MS_KIND_PARTITION), 2499);
	assert_null(fake_find(dst, MS_KIND_PARTITION, "sales", "orders", "[\"2024-01-1500\"]"));
	t = fake_find(dst, MS_KIND_TABLE, "sales", "orders", NULL);
	assert_non_null(t);
	assert_null(ms_entity_param(t, MS_MARKER_SYNCED));
	ms_report_free(rep);

	/* Every run says so again; what was written stays. */
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_PARTIAL);
	assert_int_equal(rep->partitions.unchanged, 2499);
	assert_int_equal(rep->partitions.failed, 1);
	assert_int_equal(rep->partitions.created, 0);
	ms_report_free(rep);

	/* Once the target takes it, the run converges. */
	dst->refuse_vkey = NULL;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	assert_int_equal(fake_count(dst, MS_KIND_PARTITION), 2500);
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void test_mapping(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 0),
		     *dst = fake_catalog_new("acct-2", 0, 0);
	ms_sync_options o = defaults();
	const char *rewrites[] = { "s3://src-bucket/=s3://access-point/" };
	const char *renames[] = { "finance=money" };
	ms_entity *v, *p;
	ms_report *rep;

	populate(src, 2);
	o.database_prefix = "src_";
	o.table_prefix = "x_";
	o.location_rewrites = rewrites;
	o.nrewrites = 1;
	o.renames = renames;
	o.nrenames = 1;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	assert_non_null(fake_find(dst, MS_KIND_DATABASE, "src_sales", NULL, NULL));
	assert_non_null(fake_find(dst, MS_KIND_DATABASE, "money", NULL, NULL));
	assert_non_null(fake_find(dst, MS_KIND_TABLE, "money", "x_ledger", NULL));
	p = fake_find(dst, MS_KIND_PARTITION, "src_sales", "x_orders", "[\"2024-01-02\"]");
	assert_non_null(p);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p->doc, "StorageDescriptor"),
						"Location")
				    ->valuestring,
			    "s3://access-point/sales/orders/dt=2024-01-02/");
	v = fake_find(dst, MS_KIND_TABLE, "src_sales", "x_v_orders", NULL);
	assert_non_null(v);
	assert_string_equal(cJSON_GetObjectItem(v->doc, "ViewOriginalText")->valuestring,
			    "SELECT * FROM src_sales.x_orders o JOIN money.x_ledger l ON o.id = "
			    "l.id");
	assert_string_equal(cJSON_GetObjectItem(v->doc, "ViewExpandedText")->valuestring,
			    "SELECT * FROM `src_sales`.`x_orders` o JOIN `money`.`x_ledger` l ON "
			    "o.id = l.id");
	/* A Spark view's namespace moves with its database. */
	assert_string_equal(ms_entity_param(v, "view.catalogAndNamespace.part.1"), "src_sales");
	ms_report_free(rep);

	/* Without digests (no stamps) a second run still writes nothing. */
	memset(&dst->calls, 0, sizeof(dst->calls));
	rep = run(src, dst, &o, 0);
	assert_int_equal(fake_writes(dst) - dst->calls.put_table, 0);
	assert_int_equal(rep->partitions.unchanged, 2);
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

/* check(renames, rewrites, ...): the message of ms_sync_options_check, or "" */
static const char *check_options(const ms_sync_options *o)
{
	static ms_error err;

	ms_error_clear(&err);
	if (ms_sync_options_check(o, &err) == 0)
		return "";
	assert_int_equal(err.code, MS_EUSAGE);
	return err.message;
}

static void test_options_check(void **state)
{
	ms_sync_options o = defaults();
	const char *two[2];

	(void)state;
	assert_string_equal(check_options(&o), "");
	o.databases = "";
	assert_non_null(strstr(check_options(&o), "selects nothing"));
	o.databases = "sales,finance";
	assert_non_null(strstr(check_options(&o), "separated by ';'"));
	o = defaults();
	o.max_deletes = 3;
	assert_non_null(strstr(check_options(&o), "needs deletes mirror"));
	o.deletes = MS_DELETES_MIRROR;
	assert_string_equal(check_options(&o), "");
	o = defaults();
	o.prune_unmapped = 1;
	assert_non_null(strstr(check_options(&o), "needs deletes mirror"));
	o = defaults();
	o.database_prefix = "my db";
	assert_non_null(strstr(check_options(&o), "database prefix 'my db'"));
	o = defaults();
	two[0] = "a=merged";
	two[1] = "b=merged";
	o.renames = two;
	o.nrenames = 2;
	assert_non_null(strstr(check_options(&o), "map two databases to 'merged'"));
	two[1] = "a=other";
	assert_non_null(strstr(check_options(&o), "rename one database twice"));
	two[1] = "b=x=y";
	assert_non_null(strstr(check_options(&o), "more than one '='"));
	o = defaults();
	o.location_rewrites = two;
	o.nrewrites = 1;
	two[0] = "s3://lake/t/dt=2024-01-01/=s3://archive/o1/";
	assert_string_equal(check_options(&o), "");
	two[0] = "s3://lake/t=";
	assert_non_null(strstr(check_options(&o), "empty TO"));
	two[0] = "s3://a/k=s3://x/=s3://b/";
	assert_non_null(strstr(check_options(&o), "ambiguous"));
	two[0] = "lake=s3://b";
	assert_non_null(strstr(check_options(&o), "does not start with a location"));
}

/* Locations: path boundaries, the longest rule first, whatever the order given. */
static void test_location_rules(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 0),
		     *dst = fake_catalog_new("acct-2", 0, 0);
	ms_sync_options o = defaults();
	const char *rewrites[] = { "s3://src=s3://wrong/", "s3://src-bucket=s3://general",
				   "s3://src-bucket/sales/orders/dt=2024-01-02/=s3://archive/o2" };
	ms_entity *p;
	ms_report *rep;

	(void)state;
	populate(src, 2);
	o.location_rewrites = rewrites;
	o.nrewrites = 3;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	p = fake_find(dst, MS_KIND_PARTITION, "sales", "orders", "[\"2024-01-02\"]");
	assert_non_null(p);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p->doc, "StorageDescriptor"),
						"Location")
				    ->valuestring,
			    "s3://archive/o2/");
	p = fake_find(dst, MS_KIND_PARTITION, "sales", "orders", "[\"2024-01-01\"]");
	assert_non_null(p);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p->doc, "StorageDescriptor"),
						"Location")
				    ->valuestring,
			    "s3://general/sales/orders/dt=2024-01-01/");
	/* "s3://src" is not a prefix of "s3://src-bucket" at a path boundary */
	assert_int_equal(rep->nwarnings, 1);
	assert_non_null(strstr(rep->warnings[0].entity, "s3://src=s3://wrong/"));
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

/* A partition key whose type is its name (the AWS utility's export since 2025): one warning per table. */
static void test_key_type_warning(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 0),
		     *dst = fake_catalog_new("acct-2", 0, 0);
	ms_sync_options o = defaults();
	ms_report *rep;

	(void)state;
	fake_add(src, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"sales\"}");
	fake_add(src, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"orders\",\"DatabaseName\":\"sales\","
		 "\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"dt\"},"
		 "{\"Name\":\"region\",\"Type\":\"region\"}]}");
	fake_add(src, MS_KIND_TABLE, "sales", NULL,
		 "{\"Name\":\"fine\",\"DatabaseName\":\"sales\","
		 "\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"DATE\"},"
		 "{\"Name\":\"n\",\"Type\":\"decimal(10, 2)\"},"
		 "{\"Name\":\"s\",\"Type\":\"varchar(20)\"}]}");
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	assert_int_equal(rep->nwarnings, 1);
	assert_string_equal(rep->warnings[0].entity, "sales.orders");
	assert_non_null(strstr(rep->warnings[0].message,
			       "partition key 'dt' has type 'dt' (and more keys like it), which is "
			       "no Hive type"));
	assert_non_null(strstr(rep->warnings[0].message, "the true type is not in the export"));
	/* written as it is */
	assert_non_null(fake_find(dst, MS_KIND_TABLE, "sales", "orders", NULL));
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void test_selection(void **state)
{
	assert_true(ms_selection_match(NULL, "x"));
	assert_true(ms_selection_match("a;iot_*", "iot_raw"));
	assert_true(ms_selection_match("a; b ", "b"));
	assert_false(ms_selection_match("a;iot_*", "sales"));
	assert_true(ms_selection_match("Sales", "sales"));
}

/* Another writer creates finance.ledger as its own just before the engine's first write of it. */
static int create_ledger_first(fake_catalog *f, const ms_entity *t, ms_error *err)
{
	if (strcmp(t->table, "ledger") != 0 ||
	    fake_find(f, MS_KIND_TABLE, "finance", "ledger", NULL))
		return 0;
	fake_add(f, MS_KIND_TABLE, "finance", NULL,
		 "{\"Name\":\"ledger\",\"StorageDescriptor\":{\"Location\":\"s3://mine/\"}}");
	return ms_error_set(err, MS_ECONFLICT, "table 'finance.ledger' exists");
}

/*
 * A put that meets a table created after the engine looked (the driver's
 * MS_ECONFLICT) makes the engine look again, once: the table is then left
 * alone as not a replica, and the rest goes in.
 */
static void test_created_meanwhile(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 0, 1);
	ms_sync_options o = defaults();
	ms_report *rep;

	(void)state;
	populate(src, 3);
	dst->on_put_table = create_ledger_first;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	assert_int_equal(rep->tables.created, 2);
	assert_int_equal(rep->tables.skipped, 1);
	assert_int_equal(rep->tables.failed, 0);
	assert_null(ms_entity_param(fake_find(dst, MS_KIND_TABLE, "finance", "ledger", NULL),
				    MS_MARKER_REPLICA_OF));
	ms_report_free(rep);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static void add_change(ms_changeset *cs, ms_kind kind, const char *db, const char *table,
		       const char *vkey, ms_change_op op)
{
	ms_change c;
	ms_error err;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.database = db;
	c.table = table;
	c.vkey = vkey;
	c.op = op;
	assert_int_equal(ms_changeset_add(&c, cs, &err), 0);
}

/*
 * A change set's run reads and writes only what it names: no partition
 * scan on either side, the changed partitions written, a delete under the
 * delete policy and max_deletes, and the same change set again writes
 * nothing.
 */
static void test_changeset(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_changeset *cs = ms_changeset_new();
	const char *gone[] = { "[\"2024-01-05\"]" };
	ms_error err;
	ms_report *rep;

	populate(src, 10);
	ms_report_free(run(src, dst, &o, 0));
	fake_add(src, MS_KIND_PARTITION, "sales", "orders",
		 "{\"Values\":[\"2024-01-03\"],\"Parameters\":{\"n\":\"changed\"}}");
	fake_add(src, MS_KIND_PARTITION, "sales", "orders",
		 "{\"Values\":[\"2024-02-01\"],\"Parameters\":{\"n\":\"new\"}}");
	assert_int_equal(ms_catalog_delete_partitions(&src->base, "sales", "orders", gone, 1, &err),
			 0);
	add_change(cs, MS_KIND_PARTITION, "sales", "orders", "[\"2024-01-03\"]", MS_CHANGE_PUT);
	add_change(cs, MS_KIND_PARTITION, "sales", "orders", "[\"2024-02-01\"]", MS_CHANGE_PUT);
	add_change(cs, MS_KIND_PARTITION, "sales", "orders", "[\"2024-01-03\"]", MS_CHANGE_PUT);
	add_change(cs, MS_KIND_PARTITION, "sales", "orders", gone[0], MS_CHANGE_DELETE);
	assert_int_equal(ms_changeset_changes(cs), 4);
	assert_int_equal(ms_changeset_keys(cs), 3);
	o.changes = cs;

	/* deletes none: the gone partition stays */
	memset(&src->calls, 0, sizeof(src->calls));
	memset(&dst->calls, 0, sizeof(dst->calls));
	rep = run(src, dst, &o, 0);
	assert_int_equal(src->calls.scan + dst->calls.scan + src->calls.digest, 0);
	assert_int_equal(rep->partitions.updated, 1);
	assert_int_equal(rep->partitions.created, 1);
	assert_int_equal(rep->partitions.deleted, 0);
	assert_int_equal(rep->tables.failed + rep->partitions.failed, 0);
	assert_non_null(fake_find(dst, MS_KIND_PARTITION, "sales", "orders", gone[0]));
	/* the stamp went: a whole run reads the table's partitions again */
	assert_null(ms_entity_param(fake_find(dst, MS_KIND_TABLE, "sales", "orders", NULL),
				    MS_MARKER_SYNCED));
	assert_string_equal(ms_entity_param(fake_find(dst, MS_KIND_PARTITION, "sales", "orders",
						      "[\"2024-01-03\"]"),
					    "n"),
			    "changed");
	ms_report_free(rep);

	/* mirror deletes, limited per change set */
	o.deletes = MS_DELETES_MIRROR;
	o.max_deletes = 0;
	rep = run(src, dst, &o, MS_EREFUSED);
	assert_int_equal(rep->status, MS_STATUS_REFUSED);
	assert_non_null(fake_find(dst, MS_KIND_PARTITION, "sales", "orders", gone[0]));
	ms_report_free(rep);
	o.max_deletes = 1;
	memset(&dst->calls, 0, sizeof(dst->calls));
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->partitions.deleted, 1);
	assert_int_equal(dst->calls.put_partitions + dst->calls.put_table, 0);
	assert_null(fake_find(dst, MS_KIND_PARTITION, "sales", "orders", gone[0]));
	ms_report_free(rep);

	/* again: nothing to write */
	memset(&dst->calls, 0, sizeof(dst->calls));
	rep = run(src, dst, &o, 0);
	assert_int_equal(fake_writes(dst), 0);
	assert_int_equal(rep->partitions.unchanged, 2);
	ms_report_free(rep);

	/* the whole run that follows finds the target equal */
	o.changes = NULL;
	rep = run(src, dst, &o, 0);
	assert_int_equal(rep->partitions.created + rep->partitions.updated +
				 rep->partitions.deleted,
			 0);
	ms_report_free(rep);
	ms_changeset_free(cs);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

static const char *marker(fake_catalog *f, const char *db)
{
	ms_entity *e = fake_find(f, MS_KIND_DATABASE, db, NULL, NULL);

	assert_non_null(e);
	return ms_entity_param(e, MS_MARKER_SNAPSHOT);
}

/*
 * A chain whose snapshot no longer names a database the source dropped
 * after the change set's end (its drop comes in the next one): the
 * target's replica moves on with the rest, and the next snapshot, which
 * deletes it, finds it on the chain.
 */
/*
 * The start of a chain: src populated and applied onto dst as a full
 * snapshot, mirroring deletes; every database of dst records it.
 */
#define CHAIN_FULL "2026-01-01-00-00-00"
static void chain_start(fake_catalog *src, fake_catalog *dst, ms_sync_options *o)
{
	populate(src, 3);
	o->deletes = MS_DELETES_MIRROR;
	o->snapshot_id = CHAIN_FULL;
	ms_report_free(run(src, dst, o, 0));
	assert_string_equal(marker(dst, "sales"), CHAIN_FULL);
	assert_string_equal(marker(dst, "finance"), CHAIN_FULL);
}

/* Change set cs as snapshot id on top of parent: the run's report, which says OK. */
static ms_report *chain_next(fake_catalog *src, fake_catalog *dst, ms_sync_options *o,
			     ms_changeset *cs, const char *parent, const char *id)
{
	ms_report *rep;

	o->changes = cs;
	o->snapshot_parent = parent;
	o->snapshot_id = id;
	rep = run(src, dst, o, 0);
	assert_int_equal(rep->status, MS_STATUS_OK);
	return rep;
}

static void test_chain_unnamed_database(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_changeset *cs1 = ms_changeset_new(), *cs2 = ms_changeset_new();
	ms_error err;
	ms_report *rep;

	(void)state;
	chain_start(src, dst, &o);

	/* finance is gone from the source; the change set holds only a partition */
	assert_int_equal(ms_catalog_delete_database(&src->base, "finance", &err), 0);
	fake_add(src, MS_KIND_PARTITION, "sales", "orders",
		 "{\"Values\":[\"2024-02-01\"],\"Parameters\":{\"n\":\"new\"}}");
	add_change(cs1, MS_KIND_PARTITION, "sales", "orders", "[\"2024-02-01\"]", MS_CHANGE_PUT);
	ms_report_free(chain_next(src, dst, &o, cs1, CHAIN_FULL, "2026-01-01-00-00-01"));
	assert_string_equal(marker(dst, "sales"), "2026-01-01-00-00-01");
	assert_string_equal(marker(dst, "finance"), "2026-01-01-00-00-01");

	/* the next one deletes it */
	add_change(cs2, MS_KIND_DATABASE, "finance", NULL, NULL, MS_CHANGE_DELETE);
	rep = chain_next(src, dst, &o, cs2, "2026-01-01-00-00-01", "2026-01-01-00-00-02");
	assert_int_equal(rep->databases.deleted, 1);
	assert_null(fake_find(dst, MS_KIND_DATABASE, "finance", NULL, NULL));
	ms_report_free(rep);
	ms_changeset_free(cs1);
	ms_changeset_free(cs2);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

/*
 * An incremental snapshot that names only a database new to the target (the
 * source dropped the others after the change set ended, before it listed
 * them): the target's other replicas hold its parent, so it applies, and
 * they move on with it, rather than every later snapshot being refused.
 */
static void test_chain_only_new_database(void **state)
{
	fake_catalog *src = fake_catalog_new("acct-1", 0, 1),
		     *dst = fake_catalog_new("acct-2", 1, 1);
	ms_sync_options o = defaults();
	ms_changeset *cs = ms_changeset_new();
	ms_error err;

	(void)state;
	chain_start(src, dst, &o);

	assert_int_equal(ms_catalog_delete_database(&src->base, "sales", &err), 0);
	assert_int_equal(ms_catalog_delete_database(&src->base, "finance", &err), 0);
	fake_add(src, MS_KIND_DATABASE, NULL, NULL, "{\"Name\":\"fresh\"}");
	fake_add(src, MS_KIND_TABLE, "fresh", NULL,
		 "{\"Name\":\"t\",\"DatabaseName\":\"fresh\",\"StorageDescriptor\":"
		 "{\"Location\":\"s3://src-bucket/fresh/t/\"}}");
	add_change(cs, MS_KIND_DATABASE, "fresh", NULL, NULL, MS_CHANGE_PUT);
	add_change(cs, MS_KIND_TABLE, "fresh", "t", NULL, MS_CHANGE_PUT);
	ms_report_free(chain_next(src, dst, &o, cs, CHAIN_FULL, "2026-01-01-00-00-01"));
	assert_string_equal(marker(dst, "fresh"), "2026-01-01-00-00-01");
	assert_string_equal(marker(dst, "sales"), "2026-01-01-00-00-01");
	assert_string_equal(marker(dst, "finance"), "2026-01-01-00-00-01");
	ms_changeset_free(cs);
	ms_catalog_close(&src->base);
	ms_catalog_close(&dst->base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_then_idempotent),
		cmocka_unit_test(test_change_one_partition),
		cmocka_unit_test(test_ownership),
		cmocka_unit_test(test_options_check),
		cmocka_unit_test(test_location_rules),
		cmocka_unit_test(test_mirror_deletes_and_guard),
		cmocka_unit_test(test_dry_run_and_integrity),
		cmocka_unit_test(test_transaction_rolls_back_table),
		cmocka_unit_test(test_refused_partition_fails_alone),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_key_type_warning),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_created_meanwhile),
		cmocka_unit_test(test_changeset),
		cmocka_unit_test(test_chain_unnamed_database),
		cmocka_unit_test(test_chain_only_new_database),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
