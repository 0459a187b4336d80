/*
 * The polling change feed of a metastore whose NOTIFICATION_LOG nobody fills
 * (no DbNotificationListener, or a metastore written only by metasync).
 *
 * Each read compares what the metastore holds now with what it held at the
 * cursor:
 *   - every database (DBS and DATABASE_PARAMS) and every table (TBLS, its
 *     SDS row, transient_lastDdlTime, its view text), one signature each:
 *     creates, alters, renames and drops, at every read;
 *   - the partitions whose PART_ID is among the newest POLL_WINDOW ids
 *     (with their SD_ID and transient_lastDdlTime), one by one: new
 *     partitions, and drops and alters of recent ones, at every read (one
 *     aggregate over that range of ids first; the rows only when it moved);
 *   - per table, the count and the sums of PART_ID, SD_ID and
 *     transient_lastDdlTime of all its partitions (one aggregate query over
 *     PARTITIONS): at the first read; then every feed-scan (default 30s),
 *     of the partitions below the window, in a thread and on a connection
 *     of its own (hms_poll_scan.c), whose result the next read takes (with
 *     feed-scan=0, at every read, in line).  An older partition dropped or
 *     altered in place is named then, as "every partition of the table"
 *     (the engine compares that table whole).
 * What it cannot see: an alter that changes none of those (a partition's
 * parameter other than transient_lastDdlTime written in place, a column
 * comment changed in place without a new column descriptor); a periodic
 * reconcile (sync --reconcile, the agent's full_every) covers it.
 *
 * On PostgreSQL, a read first takes a snapshot (read_mark): when it is the
 * one the cursor's state was read at (and no aggregate scan is due),
 * nothing was committed since, and nothing more is read; when it is the
 * one of the state last read after the cursor's (the source's check for
 * changes, then its export, ask the same), that state's answer is given
 * again.
 *
 * The cursor is "poll:" and a digest of that state.  The states themselves
 * are kept in this process (the last POLL_CACHE of each metastore), so a
 * handle opened later in the same process goes on from a cursor another
 * handle returned.  A process that does not hold the cursor's state reads
 * the metastore's state again: when its digest is the cursor's, nothing
 * changed; when not, MS_ECONFLICT (read everything again).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/catalog/hms_internal.h"
#include "metasync/model.h"
#include "util/clock.h"

#define POLL_WINDOW 4096 /* partition ids below the highest remembered one by one */
#define POLL_CACHE 8     /* states kept per process */
#define POLL_PREFIX "poll:"
#define DDL_TIME "transient_lastDdlTime"
#define MARK_MAX 128

typedef struct poll_db {
	long long id;
	char *name;
	uint64_t sig;
} poll_db;

typedef struct poll_tbl {
	long long id, db;
	char *name;
	uint64_t sig;
	/* of all its partitions: count, sums of PART_ID, SD_ID, transient_lastDdlTime */
	long long agg[4];
	long long exp[4]; /* what agg would be if only the window changed */
} poll_tbl;

typedef struct poll_part {
	long long id, tbl, sd, ddl;
	char *vkey;
} poll_part;

/* The newest partitions, one by one: shared by the states that hold the same. */
typedef struct poll_window {
	int refs;
	poll_part *v; /* by id (other Hive catalogs' too: no vkey) */
	size_t n;
	long long sum[4]; /* count, sums of PART_ID, SD_ID, transient_lastDdlTime */
	uint64_t digest;
} poll_window;

typedef struct poll_state {
	char *instance; /* whose state: the metastore's identity and Hive catalog */
	uint64_t digest;
	long long max_part;
	poll_db *dbs; /* by id */
	size_t ndbs;
	poll_tbl *tbls; /* by id */
	size_t ntbls;
	poll_window *win;    /* ids above max_part - POLL_WINDOW */
	double scanned;      /* when the aggregates were read (monotonic seconds) */
	uint64_t pending;    /* the aggregate scan it waits for (hms_poll_scan.c), or 0 */
	char mark[MARK_MAX]; /* PostgreSQL's snapshot it was read at (read_mark); "" unknown */
	uint64_t parent;     /* the digest of the state it was compared with, or 0 */
	int refs;
} poll_state;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static poll_state *cache[POLL_CACHE]; /* newest first */

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- states ---------------------------------------------------------------- */

static void window_release(poll_window *w)
{
	size_t i;

	if (!w || __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < w->n; i++)
		free(w->v[i].vkey);
	free(w->v);
	free(w);
}

static void state_free(poll_state *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ndbs; i++)
		free(s->dbs[i].name);
	for (i = 0; i < s->ntbls; i++)
		free(s->tbls[i].name);
	free(s->dbs);
	free(s->tbls);
	window_release(s->win);
	free(s->instance);
	free(s);
}

static void state_release(poll_state *s)
{
	int last;

	if (!s)
		return;
	pthread_mutex_lock(&cache_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&cache_lock);
	if (last)
		state_free(s);
}

/*
 * The newest kept state of instance (a reference) whose digest is key, or
 * with child set, that was read after the state whose digest is key; NULL
 * when none.
 */
static poll_state *cache_get(const char *instance, uint64_t key, int child)
{
	poll_state *s = NULL;
	size_t i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < POLL_CACHE && !s; i++)
		if (cache[i] && (child ? cache[i]->parent : cache[i]->digest) == key &&
		    strcmp(cache[i]->instance, instance) == 0) {
			s = cache[i];
			s->refs++;
		}
	pthread_mutex_unlock(&cache_lock);
	return s;
}

/*
 * Keep s first (the cache takes a reference of its own) in place of a state
 * of the same metastore and digest, or of the oldest state.
 */
static void cache_put(poll_state *s)
{
	poll_state *out;
	size_t i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < POLL_CACHE - 1; i++)
		if (cache[i] && cache[i]->digest == s->digest &&
		    strcmp(cache[i]->instance, s->instance) == 0)
			break;
	out = cache[i];
	memmove(cache + 1, cache, i * sizeof(*cache));
	cache[0] = s;
	s->refs++;
	if (out && --out->refs > 0)
		out = NULL;
	pthread_mutex_unlock(&cache_lock);
	state_free(out);
}

/* ---- digests --------------------------------------------------------------- */

#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= FNV_PRIME;
	}
	return h;
}

/* A cell's text, told apart from NULL and from its neighbours. */
static uint64_t fnv_cell(uint64_t h, const char *s)
{
	static const unsigned char null_mark = 0xff, sep = 0;

	if (!s)
		return fnv_bytes(h, &null_mark, 1);
	return fnv_bytes(fnv_bytes(h, s, strlen(s)), &sep, 1);
}

static uint64_t fnv_ll(uint64_t h, long long v)
{
	return fnv_bytes(h, &v, sizeof(v));
}

static uint64_t state_digest(const poll_state *s)
{
	uint64_t h = fnv_ll(FNV_BASIS, s->max_part);
	size_t i;

	for (i = 0; i < s->ndbs; i++)
		h = fnv_ll(fnv_ll(h, s->dbs[i].id), (long long)s->dbs[i].sig);
	for (i = 0; i < s->ntbls; i++) {
		const poll_tbl *t = &s->tbls[i];

		h = fnv_ll(fnv_ll(h, t->id), (long long)t->sig);
		h = fnv_bytes(h, t->agg, sizeof(t->agg));
	}
	return fnv_ll(h, (long long)s->win->digest);
}

static uint64_t window_digest(const poll_window *w)
{
	uint64_t h = FNV_BASIS;
	size_t i;

	for (i = 0; i < w->n; i++) {
		const poll_part *p = &w->v[i];

		h = fnv_ll(fnv_ll(fnv_ll(fnv_ll(h, p->id), p->tbl), p->sd), p->ddl);
	}
	return h;
}

/* ---- lookups ----------------------------------------------------------------- */

static int cmp_db(const void *k, const void *e)
{
	long long a = *(const long long *)k, b = ((const poll_db *)e)->id;

	return a < b ? -1 : a > b;
}

static int cmp_tbl(const void *k, const void *e)
{
	long long a = *(const long long *)k, b = ((const poll_tbl *)e)->id;

	return a < b ? -1 : a > b;
}

static int cmp_part(const void *k, const void *e)
{
	long long a = *(const long long *)k, b = ((const poll_part *)e)->id;

	return a < b ? -1 : a > b;
}

static poll_db *find_db(const poll_state *s, long long id)
{
	return s->ndbs ? bsearch(&id, s->dbs, s->ndbs, sizeof(*s->dbs), cmp_db) : NULL;
}

static poll_tbl *find_tbl(const poll_state *s, long long id)
{
	return s->ntbls ? bsearch(&id, s->tbls, s->ntbls, sizeof(*s->tbls), cmp_tbl) : NULL;
}

static poll_part *find_part(const poll_state *s, long long id)
{
	const poll_window *w = s->win;

	return w && w->n ? bsearch(&id, w->v, w->n, sizeof(*w->v), cmp_part) : NULL;
}

static long long cell_ll(const rowset *rs, size_t r, size_t c)
{
	return CELL(rs, r, c) ? strtoll(CELL(rs, r, c), NULL, 10) : 0;
}

/* Where the window below the highest partition id max starts (its ids are above it). */
static long long window_from(long long max)
{
	return max > POLL_WINDOW ? max - POLL_WINDOW : 0;
}

/* transient_lastDdlTime as a number (what the aggregate query sums): 0 unless 1-15 digits. */
static long long ddl_value(const char *v)
{
	size_t n = v ? strspn(v, "0123456789") : 0;

	return v && n >= 1 && n <= 15 && !v[n] ? strtoll(v, NULL, 10) : 0;
}

/* ---- reading a state ----------------------------------------------------------- */

static int read_dbs(hms_catalog *self, poll_state *s, ms_error *err)
{
	const char *p[1] = { self->ctlg };
	rowset rs = { 0 }, pr = { 0 };
	size_t i;
	int rc;

	if ((rc = hms_q(self,
			"SELECT \"DB_ID\", \"NAME\", \"DESC\", \"DB_LOCATION_URI\", "
			"\"OWNER_NAME\", \"OWNER_TYPE\" FROM \"DBS\" WHERE \"CTLG_NAME\" = ? "
			"ORDER BY \"DB_ID\"",
			p, 1, &rs, NULL, err)) < 0 ||
	    (rc = hms_q(self,
			"SELECT \"DB_ID\", \"PARAM_KEY\", \"PARAM_VALUE\" FROM "
			"\"DATABASE_PARAMS\" ORDER BY \"DB_ID\", \"PARAM_KEY\"",
			NULL, 0, &pr, NULL, err)) < 0)
		goto done;
	if (rs.nrows && !(s->dbs = calloc(rs.nrows, sizeof(*s->dbs)))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < rs.nrows; i++) {
		poll_db *d = &s->dbs[s->ndbs];
		uint64_t h = FNV_BASIS;
		size_t c;

		d->id = cell_ll(&rs, i, 0);
		if (!(d->name = strdup(CELL(&rs, i, 1) ? CELL(&rs, i, 1) : ""))) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		for (c = 1; c < rs.ncols; c++)
			h = fnv_cell(h, CELL(&rs, i, c));
		d->sig = h;
		s->ndbs++;
	}
	for (i = 0; i < pr.nrows; i++) {
		poll_db *d = find_db(s, cell_ll(&pr, i, 0));

		if (d)
			d->sig = fnv_cell(fnv_cell(d->sig, CELL(&pr, i, 1)), CELL(&pr, i, 2));
	}
done:
	hms_rowset_free(&rs);
	hms_rowset_free(&pr);
	return rc;
}

static int read_tbls(hms_catalog *self, poll_state *s, ms_error *err)
{
	const char *p[1] = { self->ctlg };
	rowset rs = { 0 };
	size_t i, c;
	int rc;

	if ((rc = hms_q(self,
			"SELECT t.\"TBL_ID\", t.\"DB_ID\", t.\"TBL_NAME\", t.\"TBL_TYPE\", "
			"t.\"OWNER\", t.\"SD_ID\", t.\"VIEW_ORIGINAL_TEXT\", "
			"t.\"VIEW_EXPANDED_TEXT\", s.\"LOCATION\", s.\"CD_ID\", "
			"s.\"INPUT_FORMAT\", s.\"OUTPUT_FORMAT\", s.\"SERDE_ID\", "
			"p.\"PARAM_VALUE\" FROM \"TBLS\" t "
			"JOIN \"DBS\" d ON d.\"DB_ID\" = t.\"DB_ID\" "
			"LEFT JOIN \"SDS\" s ON s.\"SD_ID\" = t.\"SD_ID\" "
			"LEFT JOIN \"TABLE_PARAMS\" p ON p.\"TBL_ID\" = t.\"TBL_ID\" AND "
			"p.\"PARAM_KEY\" = '" DDL_TIME "' WHERE d.\"CTLG_NAME\" = ? "
			"ORDER BY t.\"TBL_ID\"",
			p, 1, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows && !(s->tbls = calloc(rs.nrows, sizeof(*s->tbls))))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < rs.nrows && rc == 0; i++) {
		poll_tbl *t = &s->tbls[s->ntbls];
		uint64_t h = FNV_BASIS;

		t->id = cell_ll(&rs, i, 0);
		t->db = cell_ll(&rs, i, 1);
		if (!(t->name = strdup(CELL(&rs, i, 2) ? CELL(&rs, i, 2) : ""))) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			break;
		}
		for (c = 1; c < rs.ncols; c++)
			h = fnv_cell(h, CELL(&rs, i, c));
		t->sig = h;
		s->ntbls++;
	}
	hms_rowset_free(&rs);
	return rc;
}

/* transient_lastDdlTime (pp."PARAM_VALUE") in SQL, as ddl_value reads it. */
static const char *ddl_num(const hms_catalog *self)
{
	return self->dialect == HMS_MYSQL ? "CASE WHEN pp.\"PARAM_VALUE\" REGEXP '^[0-9]{1,15}$' "
					    "THEN CAST(pp.\"PARAM_VALUE\" AS UNSIGNED) ELSE 0 END"
					  : "CASE WHEN pp.\"PARAM_VALUE\" ~ '^[0-9]{1,15}$' THEN "
					    "CAST(pp.\"PARAM_VALUE\" AS BIGINT) ELSE 0 END";
}

/* The sums of the partitions with ids above from, as a window's sum counts them, in out. */
static int window_sums(hms_catalog *self, long long from, long long out[4], ms_error *err)
{
	char sql[1024], fb[32];
	const char *p[1] = { fb };
	rowset rs = { 0 };
	size_t k;
	int rc;

	snprintf(fb, sizeof(fb), "%lld", from);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*), SUM(p.\"PART_ID\"), SUM(p.\"SD_ID\"), SUM(%s) FROM "
		 "\"PARTITIONS\" p LEFT JOIN \"PARTITION_PARAMS\" pp ON pp.\"PART_ID\" = "
		 "p.\"PART_ID\" AND pp.\"PARAM_KEY\" = '" DDL_TIME "' WHERE p.\"PART_ID\" > ?",
		 ddl_num(self));
	if ((rc = hms_q(self, sql, p, 1, &rs, NULL, err)) < 0)
		return rc;
	for (k = 0; k < 4; k++)
		out[k] = rs.nrows ? cell_ll(&rs, 0, k) : 0;
	hms_rowset_free(&rs);
	return 0;
}

/*
 * The query of the aggregates per table, of every partition or (bounded)
 * of those with ids above a parameter and up to another, by table id.
 */
static void aggregates_sql(const hms_catalog *self, int bounded, char *sql, size_t size)
{
	snprintf(sql, size,
		 "SELECT p.\"TBL_ID\", COUNT(*), SUM(p.\"PART_ID\"), SUM(p.\"SD_ID\"), SUM(%s) "
		 "FROM \"PARTITIONS\" p LEFT JOIN \"PARTITION_PARAMS\" pp ON "
		 "pp.\"PART_ID\" = p.\"PART_ID\" AND pp.\"PARAM_KEY\" = '" DDL_TIME "' %s"
		 "GROUP BY p.\"TBL_ID\" ORDER BY p.\"TBL_ID\"",
		 ddl_num(self), bounded ? "WHERE p.\"PART_ID\" > ? AND p.\"PART_ID\" <= ? " : "");
}

/* The aggregates of every table's partitions, as they are now. */
static int read_aggregates(hms_catalog *self, poll_state *s, ms_error *err)
{
	char sql[1024];
	rowset rs = { 0 };
	size_t i;
	int rc;

	aggregates_sql(self, 0, sql, sizeof(sql));
	if ((rc = hms_q(self, sql, NULL, 0, &rs, NULL, err)) < 0)
		return rc;
	for (i = 0; i < s->ntbls; i++)
		memset(s->tbls[i].agg, 0, sizeof(s->tbls[i].agg));
	for (i = 0; i < rs.nrows; i++) {
		poll_tbl *t = find_tbl(s, cell_ll(&rs, i, 0));
		size_t k;

		if (!t)
			continue; /* another Hive catalog's table */
		for (k = 0; k < 4; k++)
			t->agg[k] = cell_ll(&rs, i, k + 1);
	}
	s->scanned = ms_mono_s();
	hms_rowset_free(&rs);
	return 0;
}

/*
 * The partitions with ids above from into a new window of s, with their values key
 * when s holds their table (from old when it has it).
 */
static int read_parts(hms_catalog *self, poll_state *s, const poll_state *old, long long from,
		      ms_error *err)
{
	char fb[32];
	const char *p[1] = { fb };
	rowset rs = { 0 }, kv = { 0 };
	idlist fresh = { 0 };
	const char **vals = NULL;
	size_t i, k = 0;
	int rc;

	snprintf(fb, sizeof(fb), "%lld", from);
	if ((rc = hms_q(self,
			"SELECT p.\"PART_ID\", p.\"TBL_ID\", p.\"SD_ID\", pp.\"PARAM_VALUE\" "
			"FROM \"PARTITIONS\" p LEFT JOIN \"PARTITION_PARAMS\" pp ON "
			"pp.\"PART_ID\" = p.\"PART_ID\" AND pp.\"PARAM_KEY\" = '" DDL_TIME "' "
			"WHERE p.\"PART_ID\" > ? ORDER BY p.\"PART_ID\"",
			p, 1, &rs, NULL, err)) < 0)
		return rc;
	if ((s->win = calloc(1, sizeof(*s->win))))
		s->win->refs = 1;
	if (!s->win || (rs.nrows && !(s->win->v = calloc(rs.nrows, sizeof(*s->win->v))))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < rs.nrows; i++) {
		poll_part *pt = &s->win->v[s->win->n];
		const poll_part *was;

		pt->id = cell_ll(&rs, i, 0);
		pt->tbl = cell_ll(&rs, i, 1);
		pt->sd = cell_ll(&rs, i, 2);
		pt->ddl = ddl_value(CELL(&rs, i, 3));
		if (pt->id > s->max_part)
			s->max_part = pt->id;
		s->win->n++;
		if (!find_tbl(s, pt->tbl))
			continue;
		if (old && (was = find_part(old, pt->id)) && was->tbl == pt->tbl && was->vkey) {
			if (!(pt->vkey = strdup(was->vkey))) {
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
				goto done;
			}
		} else if (hms_idlist_add(&fresh, pt->id) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	}
	/* the values of the partitions not seen before, in ids order as the window */
	if (fresh.n && (rc = hms_q_in(self,
				      "SELECT \"PART_ID\", \"PART_KEY_VAL\" FROM "
				      "\"PARTITION_KEY_VALS\" WHERE \"PART_ID\" IN ",
				      " ORDER BY \"PART_ID\", \"INTEGER_IDX\"", NULL, 0, &fresh,
				      &kv, err)) < 0)
		goto done;
	if (kv.nrows && !(vals = calloc(kv.nrows, sizeof(*vals)))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < s->win->n && rc == 0; i++) {
		poll_part *pt = &s->win->v[i];
		size_t nv = 0;

		if (pt->vkey || !find_tbl(s, pt->tbl))
			continue;
		while (k < kv.nrows && cell_ll(&kv, k, 0) < pt->id)
			k++;
		while (k < kv.nrows && cell_ll(&kv, k, 0) == pt->id) {
			vals[nv++] = CELL(&kv, k, 1) ? CELL(&kv, k, 1) : "";
			k++;
		}
		if (nv) {
			rc = ms_values_key(&pt->vkey, vals, nv, err);
			continue;
		}
		/* no values: dropped between the two reads (the next read says no more) */
		memmove(pt, pt + 1, (s->win->n - i - 1) * sizeof(*pt));
		s->win->n--;
		i--;
	}
done:
	free(vals);
	free(fresh.v);
	hms_rowset_free(&rs);
	hms_rowset_free(&kv);
	return rc;
}

/* Add (sign 1) or take away (-1) p to a count and the sums of PART_ID, SD_ID, DDL time. */
static void count_part(long long a[4], const poll_part *p, int sign)
{
	a[0] += sign;
	a[1] += sign * p->id;
	a[2] += sign * p->sd;
	a[3] += sign * p->ddl;
}

/* Keep only the window below the highest id (the rest is in the aggregates); its sums. */
static void trim_window(poll_state *s)
{
	size_t i, n = 0;

	memset(s->win->sum, 0, sizeof(s->win->sum));
	for (i = 0; i < s->win->n; i++) {
		poll_part *p = &s->win->v[i];

		if (p->id <= s->max_part - POLL_WINDOW) {
			free(p->vkey);
			continue;
		}
		count_part(s->win->sum, p, 1);
		s->win->v[n++] = *p;
	}
	s->win->n = n;
	s->win->digest = window_digest(s->win);
}

/*
 * s's window is old's (nothing among the newest partitions changed): 0, the
 * window shared.  1 when a partition of a table s holds and old did not is
 * among them (its values are to be read: read_parts).
 */
static int same_window(poll_state *s, const poll_state *old)
{
	size_t i;

	for (i = 0; i < old->win->n; i++)
		if (!old->win->v[i].vkey && find_tbl(s, old->win->v[i].tbl))
			return 1;
	s->max_part = old->max_part;
	s->win = old->win;
	__atomic_add_fetch(&s->win->refs, 1, __ATOMIC_ACQ_REL);
	return 0;
}

/* What the aggregates are expected to be: what they are. */
static void expect(poll_state *s)
{
	size_t i;

	for (i = 0; i < s->ntbls; i++)
		memcpy(s->tbls[i].exp, s->tbls[i].agg, sizeof(s->tbls[i].agg));
}

/*
 * The aggregates of s from old's, moved by the difference between old's and
 * s's partitions above from (which both hold whole).
 */
static void carry_aggregates(poll_state *s, const poll_state *old, long long from)
{
	size_t i;

	for (i = 0; i < s->ntbls; i++) {
		const poll_tbl *o = find_tbl(old, s->tbls[i].id);

		if (o)
			memcpy(s->tbls[i].agg, o->agg, sizeof(o->agg));
	}
	/* one window shared: what leaves it comes back */
	for (i = 0; s->win != old->win && i < old->win->n; i++) {
		const poll_part *p = &old->win->v[i];
		poll_tbl *t = p->id > from ? find_tbl(s, p->tbl) : NULL;

		if (t)
			count_part(t->agg, p, -1);
	}
	for (i = 0; s->win != old->win && i < s->win->n; i++) {
		const poll_part *p = &s->win->v[i];
		poll_tbl *t = find_tbl(s, p->tbl);

		if (t)
			count_part(t->agg, p, 1);
	}
	s->scanned = old->scanned;
	s->pending = old->pending;
	expect(s);
}

/* A table's aggregates moved by what the background scan found (hms_scan_moved). */
static void scan_moved(void *ctx, long long tbl, const long long d[4])
{
	poll_tbl *t = find_tbl(ctx, tbl);
	size_t k;

	for (k = 0; t && k < 4; k++)
		t->agg[k] += d[k];
}

/*
 * The aggregate scan of the partitions below s's window, in the
 * background (hms_poll_scan.c): the result of the one s waits for, when
 * it is there, moves s's aggregates (not what they are expected to be:
 * the tables it moved are then compared whole); a new one starts when
 * scan_ms passed since the last started.  A scan that failed is started
 * again at the next.
 */
static void scan_behind(hms_catalog *self, poll_state *s, long long scan_ms)
{
	char sql[1024], why[256];
	hms_agg *base;
	uint64_t id;
	size_t i;
	int r;

	if (s->pending) {
		if ((r = hms_scan_take(s->instance, s->pending, scan_moved, s, why, sizeof(why))) ==
		    0)
			return;
		s->pending = 0;
		if (r == 2 && self->warn) {
			char msg[400];

			snprintf(msg, sizeof(msg),
				 "%s: the polling feed's scan of older partitions failed (tried "
				 "again in feed-scan): %s",
				 self->base.url, why);
			self->warn(self->warn_ctx, msg);
		}
	}
	if ((ms_mono_s() - s->scanned) * 1000 < (double)scan_ms)
		return;
	/* what it should find: the aggregates less the window's partitions */
	base = s->ntbls ? calloc(s->ntbls, sizeof(*base)) : NULL;
	if (s->ntbls && !base)
		return;
	for (i = 0; i < s->ntbls; i++) {
		base[i].tbl = s->tbls[i].id;
		memcpy(base[i].v, s->tbls[i].agg, sizeof(base[i].v));
	}
	for (i = 0; i < s->win->n; i++) {
		const poll_part *p = &s->win->v[i];
		poll_tbl *t = find_tbl(s, p->tbl);

		if (t)
			count_part(base[t - s->tbls].v, p, -1);
	}
	aggregates_sql(self, 1, sql, sizeof(sql));
	if ((id = hms_scan_start(self, s->instance, window_from(s->max_part), base, s->ntbls,
				 sql))) {
		s->pending = id;
		s->scanned = ms_mono_s();
	}
}

/* Whether the background scan s waits for has ended (a read is then due). */
static int scan_ended(const poll_state *s)
{
	return s->pending && hms_scan_take(s->instance, s->pending, NULL, NULL, NULL, 0) != 0;
}

/*
 * PostgreSQL's snapshot as text (xmin:xmax:ids in progress; "" on MySQL,
 * or when it cannot say): inside a read from one point in time (REPEATABLE
 * READ), the one it reads at; outside, a new one.  Two equal snapshots see
 * the same rows: a transaction that ends moves xmax past its id or leaves
 * the list of those in progress, and it ends (is seen) at that moment.  So
 * a read that finds the snapshot a state was read at knows nothing changed
 * since.
 */
static void read_mark(hms_catalog *self, char out[MARK_MAX])
{
	rowset rs = { 0 };
	ms_error ignored;

	out[0] = 0;
	if (self->dialect != HMS_POSTGRESQL ||
	    hms_q(self, "SELECT pg_catalog.txid_current_snapshot()::text", NULL, 0, &rs, NULL,
		  &ignored) < 0)
		return;
	if (rs.nrows && CELL(&rs, 0, 0) && strlen(CELL(&rs, 0, 0)) < MARK_MAX)
		snprintf(out, MARK_MAX, "%s", CELL(&rs, 0, 0));
	hms_rowset_free(&rs);
}

/*
 * The metastore's state now.  With old: partitions one by one above old's
 * window, aggregates carried over from old (what they are expected to be:
 * exp), moved by a background scan's result (scan_behind); without, or
 * with scan_ms 0, every table's aggregates read.
 */
static int read_state(hms_catalog *self, const poll_state *old, long long scan_ms, poll_state **out,
		      ms_error *err)
{
	poll_state *s = calloc(1, sizeof(*s));
	long long from = 0, sums[4];
	rowset rs = { 0 };
	int rc, shared = 0, began = 0;

	*out = NULL;
	if (!s)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	/*
	 * Every query of the state at one point in time: a partition committed
	 * or dropped between the window's read and the aggregates' would make
	 * them disagree, and the table be reported whole.
	 */
	if (!self->in_txn && !self->reading) {
		if ((rc = ms_catalog_read_begin(&self->base, err)) < 0)
			goto done;
		began = 1;
	}
	s->instance = strdup(self->base.instance ? self->base.instance : self->base.url);
	if (!s->instance) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if (began || self->reading)
		read_mark(self, s->mark);
	if (old) {
		from = window_from(old->max_part);
	} else {
		if ((rc = hms_q(self, "SELECT MAX(\"PART_ID\") FROM \"PARTITIONS\"", NULL, 0, &rs,
				NULL, err)) < 0)
			goto done;
		from = window_from(rs.nrows ? cell_ll(&rs, 0, 0) : 0);
	}
	s->max_part = old ? old->max_part : 0;
	if ((rc = read_dbs(self, s, err)) < 0 || (rc = read_tbls(self, s, err)) < 0)
		goto done;
	/* the newest partitions: read one by one only when their sums moved */
	if (old && (rc = window_sums(self, from, sums, err)) < 0)
		goto done;
	shared = old && memcmp(sums, old->win->sum, sizeof(sums)) == 0 && same_window(s, old) == 0;
	if (!shared && (rc = read_parts(self, s, old, from, err)) < 0)
		goto done;
	if (old)
		carry_aggregates(s, old, from);
	/* the first state, or a scan at every read: in line; else behind (scan_behind) */
	if ((!old || scan_ms == 0) && (rc = read_aggregates(self, s, err)) < 0)
		goto done;
	if (!old)
		expect(s);
	if (!shared)
		trim_window(s);
	if (old && scan_ms > 0)
		scan_behind(self, s, scan_ms);
	s->digest = state_digest(s);
	s->refs = 1;
	*out = s;
	s = NULL;
done:
	if (began)
		ms_catalog_read_end(&self->base);
	hms_rowset_free(&rs);
	state_free(s);
	return rc;
}

/* ---- the difference, as changes -------------------------------------------------- */

typedef struct emit {
	ms_change_cb cb;
	void *ctx;
	long long seq, time;
} emit;

static int say(emit *e, ms_kind kind, ms_change_op op, const char *db, const char *table,
	       const char *vkey, int all, ms_error *err)
{
	ms_change c;

	memset(&c, 0, sizeof(c));
	c.seq = ++e->seq;
	c.kind = kind;
	c.op = op;
	c.database = db;
	c.table = table;
	c.vkey = vkey;
	c.all_partitions = all;
	c.time = e->time;
	return e->cb(&c, e->ctx, err);
}

static const char *db_name(const poll_state *s, long long id)
{
	const poll_db *d = find_db(s, id);

	return d ? d->name : NULL;
}

static int diff_dbs(const poll_state *old, const poll_state *s, emit *e, ms_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < old->ndbs && rc == 0; i++) {
		const poll_db *n = find_db(s, old->dbs[i].id);

		if (!n || strcmp(n->name, old->dbs[i].name) != 0)
			rc = say(e, MS_KIND_DATABASE, MS_CHANGE_DELETE, old->dbs[i].name, NULL,
				 NULL, 0, err);
	}
	for (i = 0; i < s->ndbs && rc == 0; i++) {
		const poll_db *o = find_db(old, s->dbs[i].id);

		if (!o || o->sig != s->dbs[i].sig)
			rc = say(e, MS_KIND_DATABASE, MS_CHANGE_PUT, s->dbs[i].name, NULL, NULL, 0,
				 err);
	}
	return rc;
}

/* Is table t of s (a database and a name) where old's table o was? */
static int same_place(const poll_state *old, const poll_tbl *o, const poll_state *s,
		      const poll_tbl *t)
{
	const char *a = db_name(old, o->db), *b = db_name(s, t->db);

	return a && b && strcmp(a, b) == 0 && strcmp(o->name, t->name) == 0;
}

static int diff_tbls(const poll_state *old, const poll_state *s, emit *e, ms_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < old->ntbls && rc == 0; i++) {
		const poll_tbl *o = &old->tbls[i], *t = find_tbl(s, o->id);

		if ((!t || !same_place(old, o, s, t)) && db_name(old, o->db))
			rc = say(e, MS_KIND_TABLE, MS_CHANGE_DELETE, db_name(old, o->db), o->name,
				 NULL, 0, err);
	}
	for (i = 0; i < s->ntbls && rc == 0; i++) {
		const poll_tbl *t = &s->tbls[i], *o = find_tbl(old, t->id);
		int moved = !o || !same_place(old, o, s, t);
		/* a partition outside the window changed: which one the sums cannot say */
		int parts = o && !moved && memcmp(t->exp, t->agg, sizeof(t->agg)) != 0;

		if (!db_name(s, t->db))
			continue;
		if (moved || o->sig != t->sig || parts)
			rc = say(e, MS_KIND_TABLE, MS_CHANGE_PUT, db_name(s, t->db), t->name, NULL,
				 moved || parts, err);
	}
	return rc;
}

/* The partitions of a table that stays where it was: old's and s's windows compared. */
static int diff_parts(const poll_state *old, const poll_state *s, long long from, emit *e,
		      ms_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < old->win->n && rc == 0; i++) {
		const poll_part *p = &old->win->v[i], *n = find_part(s, p->id);
		const poll_tbl *o = find_tbl(old, p->tbl), *t = find_tbl(s, p->tbl);

		if (p->id <= from || !o || !t || !same_place(old, o, s, t))
			continue;
		/* gone from the window only because newer ids pushed it out: still there */
		if (!n && p->id <= s->max_part - POLL_WINDOW)
			continue;
		if (!n || n->tbl != p->tbl || strcmp(n->vkey, p->vkey) != 0)
			rc = say(e, MS_KIND_PARTITION, MS_CHANGE_DELETE, db_name(old, o->db),
				 o->name, p->vkey, 0, err);
	}
	for (i = 0; i < s->win->n && rc == 0; i++) {
		const poll_part *p = &s->win->v[i], *w = find_part(old, p->id);
		const poll_tbl *t = find_tbl(s, p->tbl), *o = find_tbl(old, p->tbl);

		if (!t || !o || !same_place(old, o, s, t))
			continue;
		if (!w || w->tbl != p->tbl || w->sd != p->sd || w->ddl != p->ddl ||
		    strcmp(w->vkey, p->vkey) != 0)
			rc = say(e, MS_KIND_PARTITION, MS_CHANGE_PUT, db_name(s, t->db), t->name,
				 p->vkey, 0, err);
	}
	return rc;
}

/* ---- the feed ------------------------------------------------------------------- */

static int cursor_of(const poll_state *s, char **out, ms_error *err)
{
	if (asprintf(out, POLL_PREFIX "%016llx", (unsigned long long)s->digest) < 0) {
		*out = NULL;
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	return 0;
}

/* After a read that ended with rc: keep s and name it in *cursor when rc is 0; s let go. */
static int keep(poll_state *s, int rc, char **cursor, ms_error *err)
{
	/* a read the caller stopped (rc > 0) read the state whole: the next read may take it */
	if (rc >= 0)
		cache_put(s);
	if (rc == 0)
		rc = cursor_of(s, cursor, err);
	state_release(s);
	return rc;
}

int hms_poll_head(hms_catalog *self, long long scan_ms, char **cursor, ms_error *err)
{
	poll_state *s = NULL;
	int rc;

	*cursor = NULL;
	if ((rc = read_state(self, NULL, scan_ms, &s, err)) < 0)
		return rc;
	return keep(s, 0, cursor, err);
}

/* From the start: every database and table the metastore holds now, put. */
static int everything(hms_catalog *self, long long scan_ms, emit *e, char **next_cursor,
		      ms_error *err)
{
	poll_state *s = NULL;
	size_t i;
	int rc;

	if ((rc = read_state(self, NULL, scan_ms, &s, err)) < 0)
		return rc;
	for (i = 0; i < s->ndbs && rc == 0; i++)
		rc = say(e, MS_KIND_DATABASE, MS_CHANGE_PUT, s->dbs[i].name, NULL, NULL, 0, err);
	for (i = 0; i < s->ntbls && rc == 0; i++)
		if (db_name(s, s->tbls[i].db))
			rc = say(e, MS_KIND_TABLE, MS_CHANGE_PUT, db_name(s, s->tbls[i].db),
				 s->tbls[i].name, NULL, 1, err);
	return keep(s, rc, next_cursor, err);
}

int hms_poll_changes(hms_catalog *self, const char *cursor, long long scan_ms, ms_change_cb cb,
		     void *ctx, char **next_cursor, ms_error *err)
{
	const char *inst = self->base.instance ? self->base.instance : self->base.url;
	unsigned long long want;
	poll_state *old, *s = NULL;
	emit e = { cb, ctx, 0, wall_ms() };
	char *end = NULL;
	int rc;

	*next_cursor = NULL;
	if (!cursor || !*cursor)
		return everything(self, scan_ms, &e, next_cursor, err);
	if (strncmp(cursor, POLL_PREFIX, strlen(POLL_PREFIX)) != 0)
		return ms_error_set(err, MS_EINVAL, "change cursor '%s' is not a polling cursor",
				    cursor);
	want = strtoull(cursor + strlen(POLL_PREFIX), &end, 16);
	if (!end || *end || end == cursor + strlen(POLL_PREFIX))
		return ms_error_set(err, MS_EINVAL, "change cursor '%s' is not a polling cursor",
				    cursor);
	if (!(old = cache_get(inst, (uint64_t)want, 0))) {
		/* not this process's: unchanged, or read everything again */
		if ((rc = read_state(self, NULL, scan_ms, &s, err)) < 0)
			return rc;
		if (s->digest != (uint64_t)want) {
			state_release(s);
			return ms_error_set(err, MS_ECONFLICT,
					    "'%s' changed since polling cursor '%s', which this "
					    "process did not read: read everything again",
					    self->base.url, cursor);
		}
		return keep(s, 0, next_cursor, err);
	}
	if (old->mark[0] && !scan_ended(old)) {
		char mark[MARK_MAX];

		read_mark(self, mark);
		/* nothing committed since old was read, and no aggregate scan due: the same cursor */
		if (strcmp(mark, old->mark) == 0 &&
		    (ms_mono_s() - old->scanned) * 1000 < (double)scan_ms) {
			rc = cursor_of(old, next_cursor, err);
			state_release(old);
			return rc;
		}
		/* nothing committed since the last state read after old: the same answer again */
		if (mark[0] && (s = cache_get(inst, old->digest, 1)) &&
		    strcmp(mark, s->mark) != 0) {
			state_release(s);
			s = NULL;
		}
	}
	if (!s && (rc = read_state(self, old, scan_ms, &s, err)) == 0)
		s->parent = old->digest;
	if (s && (rc = diff_dbs(old, s, &e, err)) == 0 && (rc = diff_tbls(old, s, &e, err)) == 0)
		rc = diff_parts(old, s, window_from(old->max_part), &e, err);
	rc = s ? keep(s, rc, next_cursor, err) : rc;
	state_release(old);
	return rc;
}
