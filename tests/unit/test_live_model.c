/*
 * Live replication against a model: a generator applies thousands of random
 * operations to a source catalog (databases, tables, views and partitions
 * created, altered and dropped; bursts; one entity changed again and again;
 * drops and re-creates under one name) while two followers replicate its
 * change feed, one into a target as is and one under a database and table
 * prefix.  Followers run at random moments, and are thrown away and made
 * again from their state files (a restart).  After each round (nothing
 * writes meanwhile), and once the source is quiet and the followers have
 * caught up, the target must equal the source entity by entity
 * (ms_catalog_compare).
 *
 * Usage: test_live_model [SEED...]; without seeds, a fixed few, and
 * $MS_LIVE_SEEDS (seeds separated by spaces) when set.  A failing seed
 * prints the command that runs it alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "metasync/catalog.h"
#include "metasync/compare.h"
#include "metasync/replicate.h"

#define NDB 3
#define NTABLE 5
#define NVALUE 40

typedef struct model_run {
	unsigned long long rng;
	char dir[64];
	ms_catalog *src, *dst[2];
	ms_follower *f[2];
	ms_sync_options o[2];
	ms_follow_options fo[2];
	char state[2][128];
	long long rounds, changes, restarts;
} model_run;

static unsigned long long seed_of_run;

static unsigned rnd(model_run *m, unsigned n)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (unsigned)(m->rng % n);
}

static void check(int rc, const ms_error *err, const char *what)
{
	if (rc < 0)
		fail_msg("seed %llu: %s: %s", seed_of_run, what, err->message);
}

static ms_entity *entity(ms_kind kind, const char *db, const char *table, const char *json)
{
	ms_entity *e = NULL;
	ms_error err;
	cJSON *doc = cJSON_Parse(json);

	if (!doc)
		fail_msg("bad test json: %s", json);
	check(ms_entity_from_glue(&e, kind, doc, db, table, &err), &err, json);
	return e;
}

static int exists_db(model_run *m, const char *db)
{
	ms_entity *e = NULL;
	ms_error err;
	int rc = ms_catalog_get_database(m->src, db, &e, &err);

	ms_entity_free(e);
	return rc == 0;
}

static int exists_table(model_run *m, const char *db, const char *t)
{
	ms_entity *e = NULL;
	ms_error err;
	int rc = ms_catalog_get_table(m->src, db, t, &e, &err);

	ms_entity_free(e);
	return rc == 0;
}

static void put_db(model_run *m, int d)
{
	char json[256], db[16];
	ms_entity *e;
	ms_error err;

	snprintf(db, sizeof(db), "d%d", d);
	snprintf(json, sizeof(json), "{\"Name\":\"%s\",\"Description\":\"rev %u\"}", db,
		 rnd(m, 1000));
	e = entity(MS_KIND_DATABASE, NULL, NULL, json);
	check(ms_catalog_put_database(m->src, e, &err), &err, "put database");
	ms_entity_free(e);
}

static void put_table(model_run *m, int d, int t)
{
	char json[1024], db[16];
	ms_entity *e;
	ms_error err;

	snprintf(db, sizeof(db), "d%d", d);
	if (!exists_db(m, db))
		put_db(m, d);
	if (t == NTABLE - 1) /* a view over table 0 of its database and of database 0 */
		snprintf(json, sizeof(json),
			 "{\"Name\":\"t%d\",\"TableType\":\"VIRTUAL_VIEW\","
			 "\"ViewOriginalText\":\"SELECT * FROM %s.t0 JOIN d0.t1 USING (c) -- %u\","
			 "\"ViewExpandedText\":\"SELECT * FROM `%s`.`t0` JOIN `d0`.`t1` USING "
			 "(c)\","
			 "\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"c\",\"Type\":\"bigint\"}]"
			 "}}",
			 t, db, rnd(m, 1000), db);
	else
		snprintf(json, sizeof(json),
			 "{\"Name\":\"t%d\",\"TableType\":\"EXTERNAL_TABLE\","
			 "\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"string\"}],"
			 "\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"c\",\"Type\":\"%s\"}],"
			 "\"Location\":\"s3://lake/%s/t%d/\"},\"Parameters\":{\"rev\":\"%u\"}}",
			 t, rnd(m, 2) ? "bigint" : "string", db, t, rnd(m, 1000));
	e = entity(MS_KIND_TABLE, db, NULL, json);
	check(ms_catalog_put_table(m->src, e, &err), &err, "put table");
	ms_entity_free(e);
}

static void put_partitions(model_run *m, int d, int t, unsigned n, int same)
{
	char json[512], db[16], tb[16];
	ms_entity *batch[32];
	ms_error err;
	unsigned i, v = rnd(m, NVALUE);

	snprintf(db, sizeof(db), "d%d", d);
	snprintf(tb, sizeof(tb), "t%d", t);
	if (t == NTABLE - 1 || !exists_table(m, db, tb))
		put_table(m, d, t % (NTABLE - 1));
	snprintf(tb, sizeof(tb), "t%d", t % (NTABLE - 1));
	for (i = 0; i < n; i++) {
		unsigned k = same ? v : rnd(m, NVALUE);

		snprintf(json, sizeof(json),
			 "{\"Values\":[\"2024-01-%02u\"],\"StorageDescriptor\":{\"Location\":"
			 "\"s3://lake/%s/%s/dt=2024-01-%02u/\"},\"Parameters\":{\"rev\":\"%u\"}}",
			 k + 1, db, tb, k + 1, rnd(m, 100000));
		batch[i] = entity(MS_KIND_PARTITION, db, tb, json);
	}
	/* a batch holds each key once */
	for (i = 1; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			if (batch[j] && batch[i] && strcmp(batch[j]->vkey, batch[i]->vkey) == 0) {
				ms_entity_free(batch[j]);
				batch[j] = NULL;
			}
	for (i = 0; i < n; i++)
		if (batch[i]) {
			check(ms_catalog_put_partitions(m->src, db, tb, &batch[i], 1, &err), &err,
			      "put partition");
			ms_entity_free(batch[i]);
		}
}

static void drop_partitions(model_run *m, int d, int t, unsigned n)
{
	char db[16], tb[16], keys[32][32];
	const char *k[32];
	ms_error err;
	unsigned i;

	snprintf(db, sizeof(db), "d%d", d);
	snprintf(tb, sizeof(tb), "t%d", t);
	if (!exists_table(m, db, tb) || t == NTABLE - 1)
		return;
	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "[\"2024-01-%02u\"]", rnd(m, NVALUE) + 1);
		k[i] = keys[i];
	}
	check(ms_catalog_delete_partitions(m->src, db, tb, k, n, &err), &err, "drop partitions");
}

static void drop_table(model_run *m, int d, int t)
{
	char db[16], tb[16];
	ms_error err;
	int rc;

	snprintf(db, sizeof(db), "d%d", d);
	snprintf(tb, sizeof(tb), "t%d", t);
	rc = ms_catalog_delete_table(m->src, db, tb, &err);
	if (rc != MS_ENOTFOUND)
		check(rc, &err, "drop table");
}

static void drop_db(model_run *m, int d)
{
	char db[16];
	ms_error err;
	int rc;

	snprintf(db, sizeof(db), "d%d", d);
	rc = ms_catalog_delete_database(m->src, db, &err);
	if (rc != MS_ENOTFOUND)
		check(rc, &err, "drop database");
}

/* One random operation on the source. */
static void operate(model_run *m)
{
	unsigned op = rnd(m, 100);
	int d = (int)rnd(m, NDB), t = (int)rnd(m, NTABLE);

	if (op < 4)
		put_db(m, d);
	else if (op < 6)
		drop_db(m, d);
	else if (op < 18)
		put_table(m, d, t);
	else if (op < 23)
		drop_table(m, d, t);
	else if (op < 26) { /* dropped and made again under its name */
		drop_table(m, d, t);
		put_table(m, d, t);
		put_partitions(m, d, t, 1 + rnd(m, 5), 0);
	} else if (op < 70)
		put_partitions(m, d, t, 1 + rnd(m, 20), 0);
	else if (op < 80) /* one partition changed again and again */
		for (unsigned i = 0, n = 2 + rnd(m, 8); i < n; i++)
			put_partitions(m, d, t, 1, 1);
	else
		drop_partitions(m, d, t, 1 + rnd(m, 10));
}

static void open_follower(model_run *m, int i)
{
	ms_error err;

	check(ms_follower_new(&m->f[i], m->src, m->dst[i], &m->o[i], &m->fo[i], &err), &err,
	      "follower");
}

static size_t step(model_run *m, int i)
{
	size_t applied = 0;
	ms_error err;

	check(ms_follower_step(m->f[i], &applied, &err), &err, "follower round");
	m->rounds++;
	m->changes += (long long)applied;
	return applied;
}

static int g_full_rounds;

static void on_round(const ms_follow_round *r, void *ctx)
{
	(void)ctx;
	g_full_rounds += r->full;
	if (r->report->status != MS_STATUS_OK) {
		for (size_t i = 0; i < r->report->nerrors; i++)
			fprintf(stderr, "  %s: %s\n", r->report->errors[i].entity,
				r->report->errors[i].message);
		fail_msg("seed %llu: a round ended %s", seed_of_run,
			 ms_status_name(r->report->status));
	}
}

static void compare(model_run *m, int i)
{
	ms_compare_options co;
	ms_compare_result res;
	ms_error err;

	memset(&co, 0, sizeof(co));
	co.mapping = &m->o[i];
	co.replica = 1;
	co.b_name = i ? "the prefixed target" : "the target";
	check(ms_catalog_compare(m->src, m->dst[i], &co, &res, &err), &err, "compare");
	if (res.mismatches) {
		for (size_t k = 0; k < res.nmessages; k++)
			fprintf(stderr, "  %s\n", res.messages[k]);
		fail_msg("seed %llu: %s differs from the source in %lld entities (rerun: "
			 "test_live_model %llu)",
			 seed_of_run, co.b_name, res.mismatches, seed_of_run);
	}
	ms_compare_result_free(&res);
}

static void run_seed(unsigned long long seed, int ops)
{
	model_run m;
	ms_open_options wo;
	ms_error err;
	char url[256];
	int i, done;

	memset(&m, 0, sizeof(m));
	seed_of_run = seed;
	m.rng = seed * 2654435761ULL + 88172645463325252ULL;
	snprintf(m.dir, sizeof(m.dir), "/tmp/ms-live-model-XXXXXX");
	assert_non_null(mkdtemp(m.dir));
	memset(&wo, 0, sizeof(wo));
	wo.mode = MS_OPEN_WRITE;
	snprintf(url, sizeof(url), "sqlite:%s/src.db?catalog-id=src", m.dir);
	check(ms_catalog_open(&m.src, url, &wo, &err), &err, "source");
	for (i = 0; i < 2; i++) {
		snprintf(url, sizeof(url), "sqlite:%s/t%d.db?catalog-id=t%d", m.dir, i, i);
		check(ms_catalog_open(&m.dst[i], url, &wo, &err), &err, "target");
		m.o[i].deletes = MS_DELETES_MIRROR;
		m.o[i].max_deletes = -1;
		m.o[i].allow_empty_source = 1;
		if (i == 1) {
			m.o[i].database_prefix = "p_";
			m.o[i].table_prefix = "x_";
		}
		snprintf(m.state[i], sizeof(m.state[i]), "%s/f%d.state", m.dir, i);
		m.fo[i].state_path = m.state[i];
		m.fo[i].on_round = on_round;
		open_follower(&m, i);
	}
	for (int n = 0; n < ops; n++) {
		operate(&m);
		if (rnd(&m, 20) == 0) { /* a follower catches up now and then: bursts between */
			i = (int)rnd(&m, 2);
			step(&m, i);
			/* nothing writes meanwhile: the round leaves the target equal */
			compare(&m, i);
		}
		if (rnd(&m, 200) == 0) { /* a restart: only the state file survives */
			i = (int)rnd(&m, 2);
			ms_follower_free(m.f[i]);
			open_follower(&m, i);
			m.restarts++;
		}
	}
	/* quiet: both catch up, and a round more applies nothing */
	do {
		done = 1;
		for (i = 0; i < 2; i++)
			if (step(&m, i))
				done = 0;
	} while (!done);
	for (i = 0; i < 2; i++)
		compare(&m, i);
	printf("seed %llu: %d operations, %lld rounds, %lld changes applied, %lld restarts\n", seed,
	       ops, m.rounds, m.changes, m.restarts);
	for (i = 0; i < 2; i++) {
		ms_follower_free(m.f[i]);
		ms_catalog_close(m.dst[i]);
	}
	ms_catalog_close(m.src);
	snprintf(url, sizeof(url), "rm -rf '%s'", m.dir);
	assert_int_equal(system(url), 0);
}

/* A model run with one follower (no prefix) on a source opened with url_params. */
static void setup_one(model_run *m, const char *url_params)
{
	ms_open_options wo;
	ms_error err;
	char url[256];

	memset(m, 0, sizeof(*m));
	m->rng = 7;
	snprintf(m->dir, sizeof(m->dir), "/tmp/ms-live-feed-XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	memset(&wo, 0, sizeof(wo));
	wo.mode = MS_OPEN_WRITE;
	snprintf(url, sizeof(url), "sqlite:%s/src.db?catalog-id=src%s", m->dir, url_params);
	check(ms_catalog_open(&m->src, url, &wo, &err), &err, "source");
	snprintf(url, sizeof(url), "sqlite:%s/t0.db?catalog-id=t0", m->dir);
	check(ms_catalog_open(&m->dst[0], url, &wo, &err), &err, "target");
	m->o[0].deletes = MS_DELETES_MIRROR;
	m->o[0].max_deletes = -1;
	m->o[0].allow_empty_source = 1;
	snprintf(m->state[0], sizeof(m->state[0]), "%s/f0.state", m->dir);
	m->fo[0].state_path = m->state[0];
	m->fo[0].on_round = on_round;
	open_follower(m, 0);
}

static void teardown_one(model_run *m)
{
	char cmd[128];

	ms_follower_free(m->f[0]);
	ms_catalog_close(m->dst[0]);
	ms_catalog_close(m->src);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", m->dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * A feed that dropped what the cursor still needed (keep-changes passed) is
 * not read with a hole: the follower runs whole, and the target matches.
 */
static void test_feed_pruned(void **state)
{
	model_run m;
	int full;

	(void)state;
	seed_of_run = 0;
	setup_one(&m, "&keep-changes=1s");
	put_partitions(&m, 0, 0, 5, 0);
	step(&m, 0); /* whole: the first round */
	put_partitions(&m, 0, 1, 5, 0);
	step(&m, 0);
	drop_table(&m, 0, 1);
	sleep(2);
	full = g_full_rounds;
	/* past the next multiple of the pruning period, all younger than the cursor's rows */
	for (int i = 0; i < 400; i++)
		put_partitions(&m, 1, 0, 20, 0);
	step(&m, 0);
	assert_int_equal(g_full_rounds, full + 1);
	compare(&m, 0);
	teardown_one(&m);
}

/*
 * A source file replaced by an older copy: the cursor is past the feed's
 * end, which the follower must not wait out; it runs whole, deletes what
 * the older copy lacks, and goes on from there.
 */
static void test_feed_replaced(void **state)
{
	model_run m;
	char cmd[512], url[256];
	ms_open_options wo;
	ms_error err;
	int full;

	(void)state;
	seed_of_run = 0;
	setup_one(&m, "");
	put_partitions(&m, 0, 0, 5, 0);
	step(&m, 0);
	ms_catalog_close(m.src);
	snprintf(cmd, sizeof(cmd), "cp '%s/src.db' '%s/old.db'", m.dir, m.dir);
	assert_int_equal(system(cmd), 0);
	memset(&wo, 0, sizeof(wo));
	wo.mode = MS_OPEN_WRITE;
	snprintf(url, sizeof(url), "sqlite:%s/src.db?catalog-id=src", m.dir);
	check(ms_catalog_open(&m.src, url, &wo, &err), &err, "source");
	ms_follower_free(m.f[0]);
	open_follower(&m, 0);
	put_partitions(&m, 2, 0, 5, 0);
	step(&m, 0);
	ms_follower_free(m.f[0]);
	ms_catalog_close(m.src);
	snprintf(cmd, sizeof(cmd), "mv '%s/old.db' '%s/src.db'", m.dir, m.dir);
	assert_int_equal(system(cmd), 0);
	check(ms_catalog_open(&m.src, url, &wo, &err), &err, "source");
	open_follower(&m, 0);
	full = g_full_rounds;
	step(&m, 0);
	assert_int_equal(g_full_rounds, full + 1);
	compare(&m, 0);
	/* and from there on, changes again */
	put_partitions(&m, 1, 0, 3, 0);
	step(&m, 0);
	assert_int_equal(g_full_rounds, full + 1);
	compare(&m, 0);
	teardown_one(&m);
}

/* An export (incremental when it can be), then an import of the store into target i. */
static void ship(model_run *m, int i, const char *store, unsigned full_every, int *incrementals)
{
	ms_export_options eo;
	ms_snapshot_info info;
	ms_report *rep = NULL;
	ms_error err;
	char src[256], dst[256];

	memset(&eo, 0, sizeof(eo));
	eo.incremental = 1;
	eo.full_every = full_every;
	snprintf(src, sizeof(src), "sqlite:%s/src.db?catalog-id=src", m->dir);
	check(ms_export(src, store, &eo, &info, &rep, &err), &err, "export");
	if (rep->status != MS_STATUS_OK)
		fail_msg("seed %llu: export %s", seed_of_run, ms_status_name(rep->status));
	*incrementals += info.parent != NULL;
	ms_snapshot_info_free(&info);
	ms_report_free(rep);
	snprintf(dst, sizeof(dst), "sqlite:%s/t%d.db?catalog-id=t%d", m->dir, i, i);
	check(ms_import(store, NULL, dst, &m->o[i], &rep, &err), &err, "import");
	on_round(&(ms_follow_round){ .report = rep }, NULL);
	ms_report_free(rep);
}

/*
 * The model with incremental snapshots as the way between: after random
 * operations, an incremental export and an import of the store (which
 * follows the chain) into each target, one as is and one prefixed; the
 * targets import at different moments, so chains of several snapshots are
 * followed, and a full snapshot comes every few.
 */
static void run_incremental(unsigned long long seed, int ops)
{
	model_run m;
	ms_open_options wo;
	ms_error err;
	char url[256], store[128];
	int i, incrementals = 0;

	memset(&m, 0, sizeof(m));
	seed_of_run = seed;
	m.rng = seed * 40503ULL + 12345ULL;
	snprintf(m.dir, sizeof(m.dir), "/tmp/ms-live-incr-XXXXXX");
	assert_non_null(mkdtemp(m.dir));
	memset(&wo, 0, sizeof(wo));
	wo.mode = MS_OPEN_WRITE;
	snprintf(url, sizeof(url), "sqlite:%s/src.db?catalog-id=src", m.dir);
	check(ms_catalog_open(&m.src, url, &wo, &err), &err, "source");
	snprintf(store, sizeof(store), "%s/store", m.dir);
	for (i = 0; i < 2; i++) {
		m.o[i].deletes = MS_DELETES_MIRROR;
		m.o[i].max_deletes = -1;
		m.o[i].allow_empty_source = 1;
		if (i == 1) {
			m.o[i].database_prefix = "p_";
			m.o[i].table_prefix = "x_";
		}
	}
	for (int n = 0; n < ops; n++) {
		operate(&m);
		if (rnd(&m, 40) == 0) {
			i = (int)rnd(&m, 2);
			ship(&m, i, store, 6, &incrementals);
			snprintf(url, sizeof(url), "sqlite:%s/t%d.db?catalog-id=t%d", m.dir, i, i);
			check(ms_catalog_open(&m.dst[i], url, NULL, &err), &err, "target");
			compare(&m, i);
			ms_catalog_close(m.dst[i]);
			m.dst[i] = NULL;
		}
	}
	for (i = 0; i < 2; i++) {
		ship(&m, i, store, 6, &incrementals);
		snprintf(url, sizeof(url), "sqlite:%s/t%d.db?catalog-id=t%d", m.dir, i, i);
		check(ms_catalog_open(&m.dst[i], url, NULL, &err), &err, "target");
		compare(&m, i);
		ms_catalog_close(m.dst[i]);
	}
	printf("seed %llu: %d operations, %d incremental snapshots\n", seed, ops, incrementals);
	assert_true(incrementals > 0);
	ms_catalog_close(m.src);
	snprintf(url, sizeof(url), "rm -rf '%s'", m.dir);
	assert_int_equal(system(url), 0);
}

static unsigned long long *g_seeds;
static size_t g_nseeds;

static void test_model(void **state)
{
	(void)state;
	for (size_t i = 0; i < g_nseeds; i++)
		run_seed(g_seeds[i], 3000);
}

static void test_incremental_model(void **state)
{
	(void)state;
	for (size_t i = 0; i < g_nseeds; i++)
		run_incremental(g_seeds[i], 2000);
}

int main(int argc, char **argv)
{
	static unsigned long long fixed[] = { 1, 2, 3, 20261206 };
	unsigned long long *v = calloc((size_t)argc + 64, sizeof(*v));
	const char *env = getenv("MS_LIVE_SEEDS");
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_model),
					    cmocka_unit_test(test_incremental_model),
					    cmocka_unit_test(test_feed_pruned),
					    cmocka_unit_test(test_feed_replaced) };
	int i;

	if (!v)
		return 1;
	for (i = 1; i < argc; i++)
		v[g_nseeds++] = strtoull(argv[i], NULL, 10);
	if (!g_nseeds) {
		for (i = 0; i < 4; i++)
			v[g_nseeds++] = fixed[i];
		for (char *p = (char *)env; p && *p && g_nseeds < (size_t)argc + 60;) {
			char *end;
			unsigned long long s = strtoull(p, &end, 10);

			if (end == p)
				break;
			v[g_nseeds++] = s;
			p = end;
		}
	}
	g_seeds = v;
	i = cmocka_run_group_tests(tests, NULL, NULL);
	free(v);
	return i;
}
