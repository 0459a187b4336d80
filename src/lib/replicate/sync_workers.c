/*
 * Phase 4 with table workers.  A target whose round trips are long (a
 * remote API such as Glue) spends most of a table's time waiting: reading
 * the table again, writing it, waiting for its partition batches, stamping
 * it.  When the target can clone itself (ms_catalog_clone) and has no
 * transactions to keep, several threads each take the next table and run
 * it through sync_table on a clone of their own, so that those waits
 * overlap.
 *
 * What the workers share goes under one recursive lock (run.lock): the
 * source, which a worker reads for one table at a time (its scan, with the
 * mapping and the diff of each partition, while it holds the lock), and the
 * report, events, progress and counters.  The tables' plans are each
 * touched by the one worker that took it.  Views and mirror deletes stay
 * sequential, after the workers (views in dependency order).
 */
#include <stdlib.h>
#include <string.h>

#include "sync_internal.h"

#define MAX_WORKERS 64

typedef struct pool {
	run *top;
	pthread_mutex_t lock;
	size_t next; /* the next table to take */
	int failed;  /* a worker's fatal error ends the others' work */
	int rc;
	ms_error fatal;
} pool;

typedef struct worker {
	pool *p;
	ms_catalog *dst; /* owned: the clone this worker writes through */
	pthread_t tid;
	int started;
} worker;

/* The next table a worker should take, or -1 when none is left. */
static long take(pool *p)
{
	run *r = p->top;
	long i = -1;

	pthread_mutex_lock(&p->lock);
	while (!p->failed && p->next < r->ntables) {
		size_t k = p->next++;

		if (!r->tables[k].is_view) {
			i = (long)k;
			break;
		}
	}
	if (r->apply && r->o->stop && *r->o->stop && !p->failed) {
		p->failed = 1;
		p->rc = ms_error_set(&p->fatal, MS_ERROR, "stopped between tables: a re-run finishes");
		i = -1;
	}
	pthread_mutex_unlock(&p->lock);
	return i;
}

static void *work(void *arg)
{
	worker *w = arg;
	pool *p = w->p;
	run wr = *p->top; /* the run, with this worker's target */
	long i;

	wr.dst = w->dst;
	while ((i = take(p)) >= 0) {
		ms_error fatal;
		int rc;

		ms_error_clear(&fatal);
		rc = sync_table(&wr, &p->top->tables[i], &fatal);
		if (rc < 0) {
			pthread_mutex_lock(&p->lock);
			if (!p->failed) {
				p->failed = 1;
				p->rc = rc;
				p->fatal = fatal;
			}
			pthread_mutex_unlock(&p->lock);
			break;
		}
	}
	return NULL;
}

/* How many tables phase 4 writes (not views): the workers worth starting. */
static size_t tables_to_write(const run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->ntables; i++)
		n += !r->tables[i].is_view;
	return n;
}

int sync_tables_parallel(run *r, ms_error *fatal)
{
	pthread_mutexattr_t attr;
	worker w[MAX_WORKERS];
	size_t want = tables_to_write(r), n = 0, i;
	pool p;
	int rc = 0;

	if (!r->apply || r->transactional || want < 2 ||
	    !(ms_catalog_caps(r->dst) & MS_CAP_ASYNC_WRITES))
		return 1;
	memset(w, 0, sizeof(w));
	/* Clones until the target allows no more (or there are enough). */
	while (n < MAX_WORKERS && n < want) {
		ms_error e2;

		ms_error_clear(&e2);
		if (ms_catalog_clone(r->dst, &w[n].dst, &e2) < 0) {
			if (e2.code != MS_ETOOBIG && e2.code != MS_ENOTSUPPORTED) {
				*fatal = e2;
				rc = e2.code;
				goto done;
			}
			break;
		}
		n++;
	}
	if (n == 0)
		return 1;
	memset(&p, 0, sizeof(p));
	p.top = r;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	if (pthread_mutex_init(&p.lock, &attr) != 0) {
		pthread_mutexattr_destroy(&attr);
		rc = ms_error_set(fatal, MS_ENOMEM, "cannot create a mutex");
		goto done;
	}
	pthread_mutexattr_destroy(&attr);
	r->lock = &p.lock;
	for (i = 0; i < n; i++) {
		w[i].p = &p;
		w[i].started = pthread_create(&w[i].tid, NULL, work, &w[i]) == 0;
	}
	for (i = 0; i < n; i++)
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
	r->lock = NULL;
	pthread_mutex_destroy(&p.lock);
	if (p.failed) {
		*fatal = p.fatal;
		rc = p.rc;
	} else if (p.next < r->ntables) {
		/* no worker could start: the rest one at a time */
		rc = 1;
	}
done:
	for (i = 0; i < n; i++)
		ms_catalog_close(w[i].dst);
	return rc;
}
