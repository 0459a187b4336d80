/*
 * The read-ahead thread of the Hive Metastore driver's scans: on a second
 * connection it fetches the next batches of partitions of the planned
 * tables while the caller builds and consumes the current one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"

/*
 * Reading ahead.  A thread with a connection of its own (scanconn) fetches
 * batches of partitions, table after table of a plan, while the caller builds
 * and consumes the batches before them: the server's work and the caller's
 * overlap, across tables too.  At most AHEAD batches wait.  The plan comes
 * from ms_catalog_plan_scans, or is the rest of one big table.  Reading on
 * another connection, it is used outside write transactions only, and inside
 * a read from one point in time only where that connection can share it
 * (PostgreSQL).
 */
#define AHEAD 4

typedef struct ahead_item {
	size_t k; /* the table's index in the plan */
	partrows rows;
	int last; /* the table's last batch */
	int rc;   /* < 0: the table could not be read (last is set) */
	ms_error err;
} ahead_item;

struct scan_ahead {
	hms_catalog shadow; /* the catalog, on scanconn */
	char **names;       /* database, table, ... (folded) */
	size_t nplan;
	char after0[32]; /* the first table starts after this PART_ID */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ahead_item q[AHEAD];
	size_t head, n;
	size_t skip_to; /* the thread drops tables before this one */
	size_t next;    /* the caller's next table */
	int busy;       /* a scan is consuming */
	int finished, cancel;
	int broken; /* the thread's connection was lost: it stopped */
};

/* Queue *it (taken); 1 when nobody wants it any more (it is freed). */
static int ahead_put(scan_ahead *sa, ahead_item *it)
{
	int dropped;

	pthread_mutex_lock(&sa->mu);
	while (sa->n == AHEAD && !sa->cancel && sa->skip_to <= it->k)
		pthread_cond_wait(&sa->cv, &sa->mu);
	dropped = sa->cancel || sa->skip_to > it->k;
	if (!dropped) {
		sa->q[(sa->head + sa->n) % AHEAD] = *it;
		sa->n++;
		pthread_cond_broadcast(&sa->cv);
	}
	pthread_mutex_unlock(&sa->mu);
	if (dropped)
		hms_partrows_free(&it->rows);
	return dropped;
}

/* Whether table k is still wanted. */
static int ahead_wanted(scan_ahead *sa, size_t k)
{
	int wanted;

	pthread_mutex_lock(&sa->mu);
	wanted = !sa->cancel && sa->skip_to <= k;
	pthread_mutex_unlock(&sa->mu);
	return wanted;
}

/* After a failed item: a lost connection ends the thread's work (scans read directly). */
static int ahead_lost(scan_ahead *sa, int rc)
{
	if (rc != MS_EIO)
		return 0;
	pthread_mutex_lock(&sa->mu);
	sa->broken = 1;
	pthread_mutex_unlock(&sa->mu);
	return 1;
}

static void *ahead_main(void *arg)
{
	scan_ahead *sa = arg;
	size_t k;

	for (k = 0; k < sa->nplan; k++) {
		char idb[32], after[32];
		ahead_item it;
		tblinfo t;
		int last = 0, lost = 0;

		if (!ahead_wanted(sa, k))
			continue;
		memset(&it, 0, sizeof(it));
		it.k = k;
		ms_error_clear(&it.err);
		memset(&t, 0, sizeof(t));
		if ((it.rc = hms_tbl_find(&sa->shadow, sa->names[2 * k], sa->names[2 * k + 1], 1, 0,
					  &t, &it.err)) < 0) {
			it.last = 1;
			lost = ahead_lost(sa, it.rc);
			ahead_put(sa, &it);
			if (lost)
				break;
			continue;
		}
		snprintf(idb, sizeof(idb), "%lld", t.id);
		hms_tblinfo_free(&t);
		snprintf(after, sizeof(after), "%s", k == 0 && sa->after0[0] ? sa->after0 : "-1");
		while (!last) {
			memset(&it, 0, sizeof(it));
			it.k = k;
			ms_error_clear(&it.err);
			it.rc = hms_fetch_batch(&sa->shadow, idb, after, sizeof(after), &it.rows,
						&it.err);
			last = it.last = it.rc < 0 || it.rows.parts.nrows < HMS_SCAN_BATCH;
			lost = it.rc < 0 && ahead_lost(sa, it.rc);
			if (ahead_put(sa, &it))
				break;
		}
		if (lost)
			break;
	}
	pthread_mutex_lock(&sa->mu);
	sa->finished = 1;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	return NULL;
}

/* Free sa and its plan; with ready, its lock and condition too. */
static void ahead_free(scan_ahead *sa, int ready)
{
	size_t i;

	for (i = 0; i < 2 * sa->nplan; i++)
		free(sa->names[i]);
	free(sa->names);
	if (ready) {
		pthread_cond_destroy(&sa->cv);
		pthread_mutex_destroy(&sa->mu);
	}
	free(sa);
}

void hms_ahead_stop(hms_catalog *self)
{
	scan_ahead *sa = self->ahead;

	if (!sa)
		return;
	pthread_mutex_lock(&sa->mu);
	sa->cancel = 1;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	pthread_join(sa->th, NULL);
	for (; sa->n; sa->n--, sa->head = (sa->head + 1) % AHEAD)
		hms_partrows_free(&sa->q[sa->head].rows);
	if (sa->broken) {
		/* the next read-ahead connects again */
		self->scanconn->ops->close(self->scanconn);
		self->scanconn = NULL;
		self->scan_reading = 0;
	}
	ahead_free(sa, 1);
	self->ahead = NULL;
}

/*
 * Start reading ahead the tables refs (database, table pairs, n of them), the
 * first after PART_ID after0 (NULL: from its start).  1 when it cannot start
 * (no second connection: not an error, scans read as they go).
 */
int hms_ahead_start(hms_catalog *self, const ms_table_ref *refs, size_t n, const char *after0,
		    ms_error *err)
{
	scan_ahead *sa;
	ms_error ignored;
	size_t i;

	if (self->ahead || !self->url || self->in_txn || n == 0 ||
	    (self->reading && !self->read_share))
		return 1;
	if (!self->scanconn && self->connect(&self->scanconn, self->url, &ignored) < 0)
		return 1;
	/* inside a read from one point in time, the second connection reads it too */
	if (self->reading && !self->scan_reading) {
		if (self->scanconn->ops->begin_read(self->scanconn, self->read_share, NULL,
						    &ignored) < 0)
			return 1;
		self->scan_reading = 1;
	}
	if (!(sa = calloc(1, sizeof(*sa))) || !(sa->names = calloc(2 * n, sizeof(char *)))) {
		free(sa);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	sa->nplan = n;
	for (i = 0; i < n; i++) {
		char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF];

		/* a name fold refuses is kept as given: the table's scan reports it */
		if (hms_fold(dn, sizeof(dn), refs[i].database, "database", &ignored) < 0)
			snprintf(dn, sizeof(dn), "%s", refs[i].database);
		if (hms_fold(tn, sizeof(tn), refs[i].table, "table", &ignored) < 0)
			snprintf(tn, sizeof(tn), "%s", refs[i].table);
		if (!(sa->names[2 * i] = strdup(dn)) || !(sa->names[2 * i + 1] = strdup(tn))) {
			ahead_free(sa, 0);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
	}
	snprintf(sa->after0, sizeof(sa->after0), "%s", after0 ? after0 : "");
	sa->shadow = *self;
	sa->shadow.conn = self->scanconn;
	sa->shadow.ahead = NULL;
	pthread_mutex_init(&sa->mu, NULL);
	pthread_cond_init(&sa->cv, NULL);
	if (pthread_create(&sa->th, NULL, ahead_main, sa) != 0) {
		ahead_free(sa, 1);
		return 1;
	}
	self->ahead = sa;
	return 0;
}

/* The plan index of table dn.tn at or after the caller's next one, or -1. */
long long hms_ahead_find(scan_ahead *sa, const char *dn, const char *tn)
{
	size_t k;
	int broken;

	if (!sa || sa->busy)
		return -1;
	pthread_mutex_lock(&sa->mu);
	broken = sa->broken;
	pthread_mutex_unlock(&sa->mu);
	if (broken)
		return -1;
	for (k = sa->next; k < sa->nplan; k++)
		if (strcmp(sa->names[2 * k], dn) == 0 && strcmp(sa->names[2 * k + 1], tn) == 0)
			return (long long)k;
	return -1;
}

/* Next item of table k (earlier tables' are dropped): 0, or 1 when none will come. */
static int ahead_take(scan_ahead *sa, size_t k, ahead_item *it)
{
	int rc = 1;

	pthread_mutex_lock(&sa->mu);
	for (;;) {
		while (sa->n && sa->q[sa->head].k < k) {
			hms_partrows_free(&sa->q[sa->head].rows);
			sa->head = (sa->head + 1) % AHEAD;
			sa->n--;
			pthread_cond_broadcast(&sa->cv);
		}
		if (sa->n) {
			if (sa->q[sa->head].k == k) {
				*it = sa->q[sa->head];
				sa->head = (sa->head + 1) % AHEAD;
				sa->n--;
				pthread_cond_broadcast(&sa->cv);
				rc = 0;
			}
			break;
		}
		if (sa->finished)
			break;
		pthread_cond_wait(&sa->cv, &sa->mu);
	}
	pthread_mutex_unlock(&sa->mu);
	return rc;
}

/*
 * Scan table k of the plan (dn.tn) from what the thread reads; AHEAD_LOST
 * when the thread lost its connection before any of this table was given.
 */
int hms_scan_planned(hms_catalog *self, size_t k, const char *dn, const char *tn, ms_entity_cb cb,
		     void *ctx, ms_error *err)
{
	scan_ahead *sa = self->ahead;
	int rc = 0, last = 0, given = 0;

	pthread_mutex_lock(&sa->mu);
	sa->skip_to = k;
	sa->busy = 1;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	while (!last && rc == 0) {
		ahead_item it;

		if (ahead_take(sa, k, &it) != 0) {
			pthread_mutex_lock(&sa->mu);
			rc = sa->broken && !given ? AHEAD_LOST
						  : ms_error_set(err, MS_ERROR,
								 "'%s': reading ahead "
								 "stopped before the partitions of "
								 "'%s.%s' were read",
								 self->base.url, dn, tn);
			pthread_mutex_unlock(&sa->mu);
			break;
		}
		last = it.last;
		if (it.rc == MS_EIO && !given) {
			rc = AHEAD_LOST;
		} else if (it.rc < 0) {
			rc = it.rc;
			if (err)
				*err = it.err;
		} else {
			given = 1;
			rc = hms_build_parts(self, dn, tn, &it.rows, cb, ctx, err);
		}
		hms_partrows_free(&it.rows);
	}
	/* what is left of this table is not wanted */
	pthread_mutex_lock(&sa->mu);
	sa->skip_to = sa->next = k + 1;
	sa->busy = 0;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	return rc;
}

int hms_plan_scans(ms_catalog *cat, const ms_table_ref *tables, size_t n, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	int rc;

	hms_ahead_stop(self);
	rc = hms_ahead_start(self, tables, n, NULL, err);
	return rc < 0 ? rc : 0;
}
