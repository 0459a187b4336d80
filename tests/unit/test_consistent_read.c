/*
 * Exports taken while a writer changes the source: every table in the
 * snapshot must come with the partitions it had at one moment.  A writer
 * thread, on a connection of its own, changes one table after another, each
 * change one transaction that raises the table's "version" parameter to v
 * and adds its partition v; so at any moment a table at version v has
 * exactly partitions 1..v.  Exports run meanwhile, and every table of every
 * snapshot is checked against that rule.  On the embedded catalog, and on
 * the Hive Metastore on PostgreSQL ($MS_TEST_HMS_PG_URL, whose read-ahead
 * connection shares the exporter's point in time) and MariaDB
 * ($MS_TEST_HMS_MYSQL_URL) when they are set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "metasync/catalog.h"
#include "metasync/replicate.h"

#define NTABLES 12

static char g_url[4096];
static const char *g_label; /* printed instead of the URL, which may hold a password */
static int g_exports;
static char g_db[128];

typedef struct writer {
	pthread_t th;
	volatile int stop;
	long long writes;
	int failed;
	char message[512];
} writer;

static ms_entity *table_at(int t, long long version)
{
	char json[1024];
	ms_entity *e = NULL;
	ms_error err;
	cJSON *doc;

	snprintf(json, sizeof(json),
		 "{\"Name\":\"t%d\",\"TableType\":\"EXTERNAL_TABLE\",\"StorageDescriptor\":"
		 "{\"Columns\":[{\"Name\":\"id\",\"Type\":\"bigint\"}],\"Location\":\"s3://b/t%d/"
		 "\"},"
		 "\"PartitionKeys\":[{\"Name\":\"v\",\"Type\":\"string\"}],"
		 "\"Parameters\":{\"version\":\"%lld\"}}",
		 t, t, version);
	doc = cJSON_Parse(json);
	if (ms_entity_from_glue(&e, MS_KIND_TABLE, doc, g_db, NULL, &err) < 0) /* steals doc */
		fail_msg("table: %s", err.message);
	return e;
}

static ms_entity *partition_at(int t, long long v)
{
	char json[512], name[16];
	ms_entity *e = NULL;
	ms_error err;
	cJSON *doc;

	snprintf(name, sizeof(name), "t%d", t);
	snprintf(json, sizeof(json),
		 "{\"Values\":[\"%lld\"],\"StorageDescriptor\":{\"Location\":\"s3://b/t%d/v=%lld/"
		 "\"}}",
		 v, t, v);
	doc = cJSON_Parse(json);
	if (ms_entity_from_glue(&e, MS_KIND_PARTITION, doc, g_db, name, &err) < 0)
		fail_msg("partition: %s", err.message);
	return e;
}

static ms_catalog *open_write(void)
{
	ms_catalog *cat = NULL;
	ms_open_options oo = { 0 };
	ms_error err;

	oo.mode = MS_OPEN_WRITE;
	if (ms_catalog_open(&cat, g_url, &oo, &err) < 0)
		fail_msg("open the %s: %s (%s)", g_label, err.message, err.detail);
	return cat;
}

/* One table change: version v and its partition v, in one transaction. */
static int change(ms_catalog *cat, int t, long long v, ms_error *err)
{
	ms_entity *e = table_at(t, v), *p = partition_at(t, v);
	int rc;

	if ((rc = ms_catalog_begin(cat, err)) == 0) {
		if ((rc = ms_catalog_put_table(cat, e, err)) == 0 &&
		    (rc = ms_catalog_put_partitions(cat, g_db, e->table, &p, 1, err)) == 0)
			rc = ms_catalog_commit(cat, err);
		else
			ms_catalog_rollback(cat, NULL);
	}
	ms_entity_free(e);
	ms_entity_free(p);
	return rc;
}

static void *write_loop(void *arg)
{
	writer *w = arg;
	ms_catalog *cat = open_write();
	long long version[NTABLES] = { 0 };
	ms_error err;

	for (int i = 0; !w->stop; i++) {
		int t = i % NTABLES;

		if (change(cat, t, ++version[t], &err) < 0) {
			/* a deadlock or busy timeout: the change did not happen */
			version[t]--;
			if (err.code != MS_ECONFLICT && err.code != MS_EBACKEND) {
				w->failed = 1;
				snprintf(w->message, sizeof(w->message), "%s (%s)", err.message,
					 err.detail);
				break;
			}
			continue;
		}
		w->writes++;
	}
	ms_catalog_close(cat);
	return NULL;
}

typedef struct count_ctx {
	long long n, max;
} count_ctx;

static int count_part(ms_entity *e, void *ctx, ms_error *err)
{
	count_ctx *c = ctx;
	const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(e->doc, "Values"), 0);
	long long x = cJSON_IsString(v) ? atoll(v->valuestring) : -1;

	(void)err;
	c->n++;
	if (x > c->max)
		c->max = x;
	ms_entity_free(e);
	return 0;
}

/* Every table of the snapshot at store: version v with partitions 1..v. */
static void check_snapshot(const char *store, int round)
{
	ms_catalog *snap = NULL;
	ms_open_options oo = { 0 };
	ms_error err;

	if (ms_catalog_open(&snap, store, &oo, &err) < 0)
		fail_msg("open snapshot: %s", err.message);
	for (int t = 0; t < NTABLES; t++) {
		char name[16];
		ms_entity *e = NULL;
		count_ctx c = { 0, 0 };
		const char *v;

		snprintf(name, sizeof(name), "t%d", t);
		if (ms_catalog_get_table(snap, g_db, name, &e, &err) < 0)
			fail_msg("snapshot table %s: %s", name, err.message);
		v = ms_entity_param(e, "version");
		if (ms_catalog_verify_table(snap, g_db, name, &err) < 0 ||
		    ms_catalog_scan_partitions(snap, g_db, name, 0, count_part, &c, &err) < 0)
			fail_msg("snapshot partitions of %s: %s", name, err.message);
		if (!v || atoll(v) != c.n || c.max != c.n)
			fail_msg("export %d of the %s: table %s at version %s with %lld partitions "
				 "(highest %lld): a table and its partitions from two moments",
				 round, g_label, name, v ? v : "(none)", c.n, c.max);
		ms_entity_free(e);
	}
	ms_catalog_close(snap);
}

static void test_exports_during_writes(void **state)
{
	char dir[] = "/tmp/ms-consistent-XXXXXX", store[64], cmd[128];
	ms_export_options eo = { 0 };
	ms_catalog *cat;
	writer w;
	ms_error err;
	long long before;

	(void)state;
	assert_non_null(mkdtemp(dir));
	cat = open_write();
	{
		char json[256];
		ms_entity *d = NULL;
		cJSON *doc;

		snprintf(json, sizeof(json), "{\"Name\":\"%s\"}", g_db);
		doc = cJSON_Parse(json);
		if (ms_entity_from_glue(&d, MS_KIND_DATABASE, doc, NULL, NULL, &err) < 0 ||
		    ms_catalog_put_database(cat, d, &err) < 0)
			fail_msg("database: %s (%s)", err.message, err.detail);
		ms_entity_free(d);
	}
	for (int t = 0; t < NTABLES; t++) {
		ms_entity *e = table_at(t, 0);

		assert_int_equal(ms_catalog_put_table(cat, e, &err), 0);
		ms_entity_free(e);
	}
	memset(&w, 0, sizeof(w));
	assert_int_equal(pthread_create(&w.th, NULL, write_loop, &w), 0);
	eo.databases = g_db;
	for (int round = 0; round < g_exports; round++) {
		ms_snapshot_info info;
		ms_report *rep = NULL;

		/* each export waits for changes to be under way */
		before = w.writes;
		while (w.writes < before + NTABLES && !w.failed)
			usleep(1000);
		snprintf(store, sizeof(store), "%s/s%d", dir, round);
		if (ms_export(g_url, store, &eo, &info, &rep, &err) < 0)
			fail_msg("export: %s (%s)", err.message, err.detail);
		ms_snapshot_info_free(&info);
		ms_report_free(rep);
		check_snapshot(store, round);
	}
	w.stop = 1;
	pthread_join(w.th, NULL);
	if (w.failed)
		fail_msg("writer: %s", w.message);
	print_message("%lld changes during %d exports of the %s\n", w.writes, g_exports, g_label);
	assert_int_equal(ms_catalog_delete_database(cat, g_db, &err), 0);
	ms_catalog_close(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int run_on(const char *url, const char *label, int exports)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exports_during_writes),
	};

	snprintf(g_url, sizeof(g_url), "%s", url);
	g_label = label;
	g_exports = exports;
	return _cmocka_run_group_tests(label, tests, 1, NULL, NULL);
}

int main(void)
{
	char dir[] = "/tmp/ms-consistent-db-XXXXXX", url[256], cmd[128];
	const char *pg = getenv("MS_TEST_HMS_PG_URL"), *my = getenv("MS_TEST_HMS_MYSQL_URL");
	int failed = 0;

	snprintf(g_db, sizeof(g_db), "mscons_%ld", (long)getpid());
	if (!mkdtemp(dir))
		return 1;
	snprintf(url, sizeof(url), "sqlite:%s/src.db?catalog-id=src", dir);
	failed += run_on(url, "embedded catalog", 25);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failed++;
	if (pg && *pg)
		failed += run_on(pg, "hive metastore on postgresql", 10);
	else
		printf("test_consistent_read: $MS_TEST_HMS_PG_URL is not set, no postgresql\n");
	if (my && *my)
		failed += run_on(my, "hive metastore on mysql", 10);
	else
		printf("test_consistent_read: $MS_TEST_HMS_MYSQL_URL is not set, no mysql\n");
	return failed ? 1 : 0;
}
