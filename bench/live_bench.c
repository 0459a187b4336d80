/*
 * live_bench: the latency of live replication, change by change.
 *
 *   live_bench write SOURCE TARGET DB TABLE RATE SECONDS
 *       A writer thread changes table DB.TABLE of SOURCE at RATE changes a
 *       second for SECONDS (80% new partitions, 10% the table altered, 10%
 *       a partition it added dropped), each its own commit, and notes when
 *       each committed.  Meanwhile the main thread looks at TARGET every
 *       2 ms and notes when each change is there.  Prints one line:
 *       changes, seen, p50, p99 and max of seen - committed, in seconds.
 *   live_bench touch SOURCE DB TABLE N
 *       Puts N of the table's existing partitions again with a new
 *       parameter (in batches of 1000): "1% of partitions changed".
 *
 * Links libmetasync's catalog API only; the bench script runs the agents.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "metasync/catalog.h"

enum { NEW = 0, ALTER = 1, DROP = 2 };

typedef struct change {
	int kind;
	char vkey[64];
	char rev[32];
	double committed, seen; /* seen 0: not yet */
	size_t dropped_by;      /* a new partition's drop: its index, plus one (0: none) */
} change;

static change *changes;
static volatile size_t nwritten;
static size_t total;
static const char *g_db, *g_table;
static double g_rate;
static long g_run; /* the values of one run's partitions: no other run's */

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void die(const char *what, const ms_error *err)
{
	fprintf(stderr, "live_bench: %s: %s\n", what, err ? err->message : "");
	exit(1);
}

/* A partition write of the source that failed (its catalog writes asynchronously). */
static int write_failed(const ms_write_failure *f, void *ctx, ms_error *err)
{
	(void)ctx;
	*err = *f->error;
	return -1;
}

static ms_entity *partition(const char *values_json, const char *rev)
{
	char json[512];
	ms_entity *e = NULL;
	ms_error err;

	snprintf(json, sizeof(json),
		 "{\"Values\":%s,\"StorageDescriptor\":{\"Location\":\"s3://bench/live/%s/\"},"
		 "\"Parameters\":{\"bench.rev\":\"%s\"}}",
		 values_json, rev, rev);
	if (ms_entity_from_glue(&e, MS_KIND_PARTITION, cJSON_Parse(json), g_db, g_table, &err) < 0)
		die("partition", &err);
	return e;
}

static void *writer(void *arg)
{
	ms_catalog *src = arg;
	double start = now();
	size_t i, added = 0, dropped = 0;
	unsigned long long rng = 88172645463325252ULL;

	for (i = 0; i < total; i++) {
		change *c = &changes[i];
		double due = start + (double)i / g_rate, wait = due - now();
		ms_error err;
		int r;

		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		r = (int)(rng % 10);
		c->kind = r < 8 || added <= dropped + 5 ? NEW : r == 8 ? ALTER : DROP;
		snprintf(c->rev, sizeof(c->rev), "r%zu", i);
		if (c->kind == NEW) {
			char v[64];
			ms_entity *e;

			/* the bench tables have two partition keys (dt, hour) */
			snprintf(v, sizeof(v), "[\"live-%ld-%08zu\",\"0\"]", g_run, i);
			snprintf(c->vkey, sizeof(c->vkey), "%s", v);
			e = partition(v, c->rev);
			if (ms_catalog_put_partitions(src, g_db, g_table, &e, 1, &err) < 0 ||
			    ms_catalog_settle(src, g_db, g_table, write_failed, NULL, &err) != 0)
				die("put partition", &err);
			ms_entity_free(e);
			added++;
		} else if (c->kind == DROP) {
			const char *k;
			size_t j;

			/* the oldest partition this writer added and has not dropped yet */
			for (j = 0; j < i; j++)
				if (changes[j].kind == NEW && changes[j].rev[0] != '-')
					break;
			memcpy(c->vkey, changes[j].vkey, sizeof(c->vkey));
			changes[j].rev[0] = '-'; /* taken */
			changes[j].dropped_by = i + 1;
			k = c->vkey;
			if (ms_catalog_delete_partitions(src, g_db, g_table, &k, 1, &err) < 0 ||
			    ms_catalog_settle(src, g_db, g_table, write_failed, NULL, &err) != 0)
				die("drop partition", &err);
			dropped++;
		} else {
			ms_entity *t = NULL;

			if (ms_catalog_get_table(src, g_db, g_table, &t, &err) < 0 ||
			    ms_entity_set_param(t, "bench.rev", c->rev, &err) < 0 ||
			    ms_entity_rehash(t, &err) < 0 || ms_catalog_put_table(src, t, &err) < 0)
				die("alter table", &err);
			ms_entity_free(t);
		}
		c->committed = now();
		__atomic_store_n(&nwritten, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Is change c in the target (n changes written so far)? */
static int arrived(ms_catalog *dst, const change *c, size_t n)
{
	ms_entity *e = NULL;
	ms_error err;
	int rc, there;

	if (c->kind == ALTER) {
		const char *v;

		if (ms_catalog_get_table(dst, g_db, g_table, &e, &err) < 0)
			return 0;
		v = ms_entity_param(e, "bench.rev");
		/* a later alter counts for this one too */
		there = v && v[0] == 'r' &&
			strtoull(v + 1, NULL, 10) >= strtoull(c->rev + 1, NULL, 10);
		ms_entity_free(e);
		return there;
	}
	rc = ms_catalog_get_partition(dst, g_db, g_table, c->vkey, &e, &err);
	ms_entity_free(e);
	/* a new partition dropped again before it arrived counts when the drop does */
	if (c->kind == NEW)
		return rc == 0 || (c->dropped_by && c->dropped_by <= n && rc == MS_ENOTFOUND);
	return rc == MS_ENOTFOUND;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int run_write(const char *src_url, const char *dst_url, double seconds)
{
	ms_catalog *src = NULL, *dst = NULL;
	ms_open_options wo = { 0 };
	pthread_t th;
	ms_error err;
	size_t i, seen = 0, first = 0;
	double *lat, end_wait = 0;

	total = (size_t)(g_rate * seconds);
	if (!(changes = calloc(total, sizeof(*changes))) || !(lat = calloc(total, sizeof(double))))
		die("out of memory", NULL);
	wo.mode = MS_OPEN_WRITE;
	if (ms_catalog_open(&src, src_url, &wo, &err) < 0)
		die("source", &err);
	if (ms_catalog_open(&dst, dst_url, NULL, &err) < 0)
		die("target", &err);
	pthread_create(&th, NULL, writer, src);
	while (seen < total) {
		size_t n = __atomic_load_n(&nwritten, __ATOMIC_ACQUIRE);

		for (i = first; i < n; i++) {
			change *c = &changes[i];

			if (c->seen == 0 && arrived(dst, c, n)) {
				c->seen = now();
				seen++;
			}
		}
		while (first < n && changes[first].seen != 0)
			first++;
		if (n == total && end_wait == 0)
			end_wait = now() + 30;
		if (end_wait && now() > end_wait)
			break;
		usleep(2000);
	}
	pthread_join(th, NULL);
	for (i = 0, seen = 0; i < total; i++)
		if (changes[i].seen)
			lat[seen++] = changes[i].seen - changes[i].committed;
	qsort(lat, seen, sizeof(double), cmp_double);
	printf("changes=%zu seen=%zu p50=%.3f p99=%.3f max=%.3f\n", total, seen,
	       seen ? lat[seen / 2] : -1, seen ? lat[(size_t)((double)seen * 0.99)] : -1,
	       seen ? lat[seen - 1] : -1);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	return seen == total ? 0 : 1;
}

typedef struct touch_ctx {
	ms_entity **batch;
	size_t n, done, want;
	ms_catalog *src;
} touch_ctx;

static int collect(ms_entity *e, void *ctx, ms_error *err)
{
	touch_ctx *t = ctx;

	if (t->done + t->n >= t->want) {
		ms_entity_free(e);
		return 1;
	}
	if (ms_entity_set_param(e, "bench.touched", "1", err) < 0 || ms_entity_rehash(e, err) < 0)
		return err->code;
	t->batch[t->n++] = e;
	return 0;
}

static int run_touch(const char *src_url, size_t want)
{
	ms_open_options wo = { 0 };
	ms_error err;
	touch_ctx t = { 0 };
	size_t i;
	int rc;

	wo.mode = MS_OPEN_WRITE;
	t.want = want;
	if (!(t.batch = calloc(want, sizeof(ms_entity *))))
		die("out of memory", NULL);
	if (ms_catalog_open(&t.src, src_url, &wo, &err) < 0)
		die("source", &err);
	rc = ms_catalog_scan_partitions(t.src, g_db, g_table, 0, collect, &t, &err);
	if (rc < 0)
		die("scan", &err);
	for (i = 0; i < t.n; i += 1000) {
		size_t n = t.n - i < 1000 ? t.n - i : 1000;

		if (ms_catalog_put_partitions(t.src, g_db, g_table, t.batch + i, n, &err) < 0)
			die("put", &err);
	}
	if (ms_catalog_settle(t.src, g_db, g_table, write_failed, NULL, &err) != 0)
		die("put", &err);
	for (i = 0; i < t.n; i++)
		ms_entity_free(t.batch[i]);
	printf("touched=%zu\n", t.n);
	ms_catalog_close(t.src);
	free(t.batch);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 8 && strcmp(argv[1], "write") == 0) {
		g_db = argv[4];
		g_table = argv[5];
		g_rate = atof(argv[6]);
		g_run = (long)time(NULL);
		if (g_rate <= 0 || atof(argv[7]) <= 0)
			die("RATE and SECONDS must be positive", NULL);
		return run_write(argv[2], argv[3], atof(argv[7]));
	}
	if (argc == 6 && strcmp(argv[1], "touch") == 0) {
		g_db = argv[3];
		g_table = argv[4];
		return run_touch(argv[2], (size_t)strtoull(argv[5], NULL, 10));
	}
	fprintf(stderr, "usage: live_bench write SOURCE TARGET DB TABLE RATE SECONDS\n"
			"       live_bench touch SOURCE DB TABLE N\n");
	return 2;
}
