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
 * mapping and the diff of each partition, while it holds the lock) unless
 * the source allows parallel reads (MS_CAP_PARALLEL_READS), and the report,
 * events, progress and counters.  The tables' plans are each
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
	const size_t *items;
	size_t n;
	sync_item_fn fn;
	size_t next; /* the next item to take */
	int failed;  /* a worker's fatal error ends the others' work */
	int rc;
	ms_error fatal;
} pool;

typedef struct worker {
	pool *p;
	ms_catalog *dst; /* borrowed: the clone this worker writes through */
	pthread_t tid;
	int started;
} worker;

/* The next item a worker should take, or -1 when none is left. */
static long take(pool *p)
{
	run *r = p->top;
	long i = -1;

	pthread_mutex_lock(&p->lock);
	if (r->apply && r->o->stop && *r->o->stop && !p->failed) {
		p->failed = 1;
		p->rc = ms_error_set(&p->fatal, MS_ERROR,
				     "stopped between tables: a re-run finishes");
	}
	if (!p->failed && p->next < p->n)
		i = (long)p->items[p->next++];
	pthread_mutex_unlock(&p->lock);
	return i;
}

static void *work(void *arg)
{
	worker *w = arg;
	pool *p = w->p;
	run wr;
	long i;

	/* the run, with this worker's target; copied under the lock other workers count under */
	pthread_mutex_lock(&p->lock);
	wr = *p->top;
	pthread_mutex_unlock(&p->lock);
	wr.dst = w->dst;
	while ((i = take(p)) >= 0) {
		ms_error fatal;
		int rc;

		ms_error_clear(&fatal);
		if ((rc = p->fn(&wr, (size_t)i, &fatal)) < 0) {
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

/* The target's clones, made once per run: as many as it allows, up to MAX_WORKERS. */
static int make_clones(run *r, ms_error *fatal)
{
	if (r->clones_made)
		return 0;
	r->clones_made = 1;
	if (!(r->clones = calloc(MAX_WORKERS, sizeof(*r->clones))))
		return ms_error_set(fatal, MS_ENOMEM, "out of memory");
	while (r->nclones < MAX_WORKERS) {
		ms_error e2;

		ms_error_clear(&e2);
		if (ms_catalog_clone(r->dst, &r->clones[r->nclones], &e2) < 0) {
			if (e2.code != MS_ETOOBIG && e2.code != MS_ENOTSUPPORTED) {
				*fatal = e2;
				return e2.code;
			}
			break;
		}
		r->nclones++;
	}
	return 0;
}

void sync_workers_free(run *r)
{
	for (size_t i = 0; i < r->nclones; i++)
		ms_catalog_close(r->clones[i]);
	free(r->clones);
	r->clones = NULL;
	r->nclones = 0;
}

int sync_parallel(run *r, const size_t *items, size_t n, sync_item_fn fn, ms_error *fatal)
{
	pthread_mutexattr_t attr;
	worker w[MAX_WORKERS];
	size_t nw, i;
	pool p;
	int rc;

	if (!r->apply || r->transactional || n < 2 ||
	    !(ms_catalog_caps(r->dst) & MS_CAP_ASYNC_WRITES))
		return 1;
	if ((rc = make_clones(r, fatal)) < 0)
		return rc;
	if (r->nclones == 0)
		return 1;
	nw = r->nclones < n ? r->nclones : n;
	memset(w, 0, sizeof(w));
	memset(&p, 0, sizeof(p));
	p.top = r;
	p.items = items;
	p.n = n;
	p.fn = fn;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	rc = pthread_mutex_init(&p.lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0)
		return ms_error_set(fatal, MS_ENOMEM, "cannot create a mutex");
	r->lock = &p.lock;
	for (i = 0; i < nw; i++) {
		w[i].p = &p;
		w[i].dst = r->clones[i];
		w[i].started = pthread_create(&w[i].tid, NULL, work, &w[i]) == 0;
	}
	for (i = 0; i < nw; i++)
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
	r->lock = NULL;
	pthread_mutex_destroy(&p.lock);
	if (p.failed) {
		*fatal = p.fatal;
		return p.rc;
	}
	/* no worker could start: the items one at a time */
	return p.next == 0 ? 1 : 0;
}
