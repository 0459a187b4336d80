/*
 * The polling feed's aggregate scan (hms_poll.c), in a thread of its own.
 *
 * Per table, the count and the sums of PART_ID, SD_ID and
 * transient_lastDdlTime of its partitions with ids up to a bound: those
 * below the window the feed follows one by one, which only this scan sees
 * change.  Reading every partition takes about a second at a million; the
 * feed's reads do not wait for it.  The read that starts a scan says what
 * it expects those aggregates to be (its own, less its window); the scan
 * runs on a connection of its own, 100,000 partitions a statement, resting
 * between statements (scan_chunks); a later read that waits for it takes
 * the difference between what the scan found and what was expected, table
 * by table, and moves its own aggregates by it (those tables are then
 * compared whole).
 *
 * The regions do not overlap: the window holds ids above the bound, and
 * the bound only rises along a chain of states, so what the feed carries
 * for ids up to the bound stays what it was when the scan started.  Each
 * partition is read once, by the statement of its chunk; a change after
 * that statement is seen by the next scan.
 *
 * One scan per metastore (instance) runs at a time.  Its result stays
 * until the next one of that metastore starts, for every state that waits
 * for it; a state whose scan was replaced waits no more.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/catalog/hms_internal.h"
#include "util/url.h"
#include "util/clock.h"

#define SCAN_SLOTS 8 /* metastores followed by one process */
/* partitions a chunk (one query) of a scan reads */
#define SCAN_CHUNK_TEXT "100000"

typedef struct scan_slot {
	char *instance;
	uint64_t id;
	int running;
	int rc; /* when done: 0, or the scan failed (message) */
	char message[256];
	hms_agg *base, *found; /* by table id */
	size_t nbase, nfound, found_alloc;
	/* the thread's, freed by it */
	struct ms_url *url;
	int (*connect)(hms_conn **out, const struct ms_url *url, ms_error *err);
	char *sql;
	char bound[32];
} scan_slot;

static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static scan_slot *slots[SCAN_SLOTS];
static uint64_t last_id;

static void slot_free(scan_slot *sl)
{
	if (!sl)
		return;
	free(sl->instance);
	free(sl->base);
	free(sl->found);
	free(sl->sql);
	ms_url_free(sl->url);
	free(sl);
}

static long long num(const char *v)
{
	return v ? strtoll(v, NULL, 10) : 0;
}

/* A row of the scan (table id, count, three sums) appended to the slot's result. */
static int found_row(void *ctx, size_t ncols, const char *const *v, const size_t *len,
		     ms_error *err)
{
	scan_slot *sl = ctx;
	hms_agg *a;
	size_t k;

	(void)len;
	if (ncols != 5)
		return ms_error_set(err, MS_EBACKEND, "aggregate scan: %zu columns, want 5", ncols);
	if (sl->nfound == sl->found_alloc) {
		size_t na = sl->found_alloc ? sl->found_alloc * 2 : 256;
		hms_agg *nv = realloc(sl->found, na * sizeof(*nv));

		if (!nv)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		sl->found = nv;
		sl->found_alloc = na;
	}
	a = &sl->found[sl->nfound++];
	a->tbl = num(v[0]);
	for (k = 0; k < 4; k++)
		a->v[k] = num(v[k + 1]);
	return 0;
}

static int cmp_agg(const void *a, const void *b)
{
	long long x = ((const hms_agg *)a)->tbl, y = ((const hms_agg *)b)->tbl;

	return x < y ? -1 : x > y;
}

/* One table's rows of the chunks added up (found sorted by table id). */
static void add_up(scan_slot *sl)
{
	size_t i, n = 0, k;

	for (i = 0; i < sl->nfound; i++) {
		if (n && sl->found[n - 1].tbl == sl->found[i].tbl) {
			for (k = 0; k < 4; k++)
				sl->found[n - 1].v[k] += sl->found[i].v[k];
			continue;
		}
		sl->found[n++] = sl->found[i];
	}
	sl->nfound = n;
}

/* The id after which the next chunk ends (SCAN_CHUNK partitions on), in to; "" past the last. */
static int chunk_end(hms_conn *c, const char *from, char *to, size_t size, ms_error *err)
{
	const char *p[1] = { from };
	rowset rs = { 0 };
	int rc;

	to[0] = 0;
	if ((rc = c->ops->query(c,
				"SELECT \"PART_ID\" FROM \"PARTITIONS\" WHERE \"PART_ID\" > ? "
				"ORDER BY \"PART_ID\" LIMIT 1 OFFSET " SCAN_CHUNK_TEXT,
				p, 1, hms_collect_row, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows && CELL(&rs, 0, 0))
		snprintf(to, size, "%s", CELL(&rs, 0, 0));
	hms_rowset_free(&rs);
	return 0;
}

/*
 * The scan, chunk by chunk of ids, each chunk followed by a rest of twice
 * its time (at most a second): the metastore's server does not spend a
 * second of a core on it at once, which the writes and reads of live
 * replication would wait for.  Every partition is read once, at the time of
 * its chunk; what changes after that the next scan sees.
 */
static int scan_chunks(scan_slot *sl, hms_conn *c, ms_error *err)
{
	char from[32] = "-1", to[32];
	const char *p[2] = { from, to };
	int rc = 0;

	while (rc == 0 && strtoll(from, NULL, 10) < strtoll(sl->bound, NULL, 10)) {
		double t0 = ms_mono_s(), rest;
		struct timespec ts;

		if ((rc = chunk_end(c, from, to, sizeof(to), err)) < 0)
			break;
		if (!to[0] || strtoll(to, NULL, 10) > strtoll(sl->bound, NULL, 10))
			snprintf(to, sizeof(to), "%s", sl->bound);
		if ((rc = c->ops->query(c, sl->sql, p, 2, found_row, sl, NULL, err)) < 0)
			break;
		snprintf(from, sizeof(from), "%s", to);
		rest = 2 * (ms_mono_s() - t0);
		rest = rest > 1 ? 1 : rest;
		ts.tv_sec = (time_t)rest;
		ts.tv_nsec = (long)((rest - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	if (rc == 0 && sl->nfound) {
		qsort(sl->found, sl->nfound, sizeof(*sl->found), cmp_agg);
		add_up(sl);
	}
	return rc;
}

static void *scan_main(void *arg)
{
	scan_slot *sl = arg;
	hms_conn *c = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	if ((rc = sl->connect(&c, sl->url, &err)) == 0) {
		rc = scan_chunks(sl, c, &err);
		c->ops->close(c);
	}
	pthread_mutex_lock(&scan_lock);
	sl->rc = rc;
	if (rc < 0)
		snprintf(sl->message, sizeof(sl->message), "%s", err.message);
	ms_url_free(sl->url);
	sl->url = NULL;
	sl->running = 0;
	pthread_mutex_unlock(&scan_lock);
	return NULL;
}

/* The slot of instance, or where a new one goes (NULL: every slot's scan is running). */
static scan_slot **slot_of(const char *instance)
{
	scan_slot **free_at = NULL;
	size_t i;

	for (i = 0; i < SCAN_SLOTS; i++) {
		if (slots[i] && strcmp(slots[i]->instance, instance) == 0)
			return &slots[i];
		if (!free_at && (!slots[i] || !slots[i]->running))
			free_at = &slots[i];
	}
	return free_at;
}

uint64_t hms_scan_start(hms_catalog *self, const char *instance, long long bound, hms_agg *base,
			size_t nbase, const char *sql)
{
	scan_slot *sl = calloc(1, sizeof(*sl)), **at;
	pthread_attr_t attr;
	pthread_t th;
	uint64_t id = 0;

	if (!sl || !(sl->instance = strdup(instance)) || !(sl->sql = strdup(sql)) ||
	    ms_url_copy(&sl->url, self->url) < 0) {
		free(base);
		slot_free(sl);
		return 0;
	}
	sl->base = base;
	sl->nbase = nbase;
	sl->connect = self->connect;
	snprintf(sl->bound, sizeof(sl->bound), "%lld", bound);
	sl->running = 1;
	pthread_mutex_lock(&scan_lock);
	at = slot_of(instance);
	if (at && !(*at && (*at)->running) && pthread_attr_init(&attr) == 0) {
		sl->id = ++last_id;
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &attr, scan_main, sl) == 0) {
			slot_free(*at);
			*at = sl;
			id = sl->id;
			sl = NULL;
		}
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&scan_lock);
	slot_free(sl);
	return id;
}

/* d = a - b, with either missing (all zero). */
static void delta(const hms_agg *a, const hms_agg *b, long long d[4])
{
	size_t k;

	for (k = 0; k < 4; k++)
		d[k] = (a ? a->v[k] : 0) - (b ? b->v[k] : 0);
}

int hms_scan_take(const char *instance, uint64_t id, hms_scan_moved moved, void *ctx, char *message,
		  size_t size)
{
	scan_slot **at, *sl;
	size_t i = 0, j = 0;
	int rc;

	pthread_mutex_lock(&scan_lock);
	at = slot_of(instance);
	sl = at ? *at : NULL;
	if (!sl || sl->id != id || strcmp(sl->instance, instance) != 0)
		rc = -1;
	else if (sl->running)
		rc = 0;
	else
		rc = sl->rc < 0 ? 2 : 1;
	if (rc == 2 && message)
		snprintf(message, size, "%s", sl->message);
	/* both lists by table id: a table in one only has nothing in the other */
	while (rc == 1 && moved && (i < sl->nfound || j < sl->nbase)) {
		const hms_agg *f = i < sl->nfound ? &sl->found[i] : NULL;
		const hms_agg *b = j < sl->nbase ? &sl->base[j] : NULL;
		long long d[4];

		if (f && b && f->tbl == b->tbl)
			i++, j++;
		else if (f && (!b || f->tbl < b->tbl))
			i++, b = NULL;
		else
			j++, f = NULL;
		delta(f, b, d);
		if (d[0] || d[1] || d[2] || d[3])
			moved(ctx, f ? f->tbl : b->tbl, d);
	}
	pthread_mutex_unlock(&scan_lock);
	return rc;
}
