/*
 * Phase 4 for one table: inside its transaction, the table re-checked and
 * written, its partitions diffed against the target's by hash and written
 * in batches, the missing ones deleted with mirror deletes, and the sync
 * stamp set only when table and partitions match the source.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync_internal.h"
#include "util/strmap.h"

typedef struct pdiff {
	run *r;
	table_plan *tp;
	ms_strmap target; /* vkey -> hash; mark = seen in source */
	ms_entity **batch;
	size_t nbatch;
	ms_counts local; /* partition counts, merged when the table commits */
	size_t matched;  /* target partitions the source also has */
	size_t kept;     /* target partitions left different from the source */
	int failed;
	ms_error ferr;
} pdiff;

/* What collect_target learnt about a target partition's owner (strmap tag). */
enum { OWNER_UNKNOWN = 0, OWNER_OURS, OWNER_NONE, OWNER_OTHER };

static int collect_target(ms_entity *e, void *ctx, ms_error *err)
{
	pdiff *d = ctx;
	ms_strmap_entry *ent;
	int rc;

	rc = ms_strmap_put(&d->target, e->vkey, &ent);
	if (rc >= 0) {
		memcpy(ent->value, e->hash, MS_HASH_LEN);
		/* A driver that scans whole documents tells ownership now, not per partition later. */
		if (e->doc) {
			const char *reason;
			ent->tag = sync_owned(d->r, e, &reason)           ? OWNER_OURS
				   : strcmp(reason, "not a replica") == 0 ? OWNER_NONE
									  : OWNER_OTHER;
		}
	}
	ms_entity_free(e);
	return rc < 0 ? ms_error_set(err, rc, "out of memory") : 0;
}

static void pevent(pdiff *d, ms_action a, const char *vkey, const char *reason)
{
	run *r = d->r;

	sync_count_action(&d->local, a, 1);
	if (a == MS_ACTION_UNCHANGED || (a != MS_ACTION_DELETE && !r->o->on_change))
		return;
	sync_lock(r);
	if (a == MS_ACTION_DELETE)
		r->top->deletes++;
	if (r->o->on_change) {
		ms_change_event ev = { a,
				       MS_KIND_PARTITION,
				       d->tp->mapped->database,
				       d->tp->mapped->table,
				       vkey,
				       reason };
		r->o->on_change(&ev, r->o->ctx);
	}
	sync_unlock(r);
}

/*
 * A transactional target refused a batch with MS_EEXISTS: one of its
 * partitions cannot stand beside another the target holds (a Hive
 * Metastore names values '' and '__HIVE_DEFAULT_PARTITION__' alike), and
 * the call wrote nothing.  Put the batch again one partition at a time: the
 * refused ones fail alone, each reported with its values, and the table
 * keeps the rest, without its sync stamp (d->kept), so that every run tells.
 */
static int put_one_by_one(pdiff *d, ms_error *err)
{
	run *r = d->r;
	size_t i;
	int rc;

	for (i = 0; i < d->nbatch; i++) {
		ms_entity *e = d->batch[i];

		rc = ms_catalog_put_partitions(r->dst, d->tp->mapped->database,
					       d->tp->mapped->table, &e, 1, err);
		if (rc == 0)
			continue;
		if (rc != MS_EEXISTS)
			return rc;
		if (ms_strmap_get(&d->target, e->vkey))
			d->local.updated--;
		else
			d->local.created--;
		d->kept++;
		sync_add_error(r, d->tp->mapped->database, d->tp->mapped->table, e->vkey,
			       err->message);
		pevent(d, MS_ACTION_FAIL, e->vkey, err->message);
	}
	return 0;
}

static int flush(pdiff *d, ms_error *err)
{
	run *r = d->r;
	size_t i;
	int rc = 0;

	if (d->nbatch && r->apply && !d->failed) {
		rc = ms_catalog_put_partitions(r->dst, d->tp->mapped->database,
					       d->tp->mapped->table, d->batch, d->nbatch, err);
		if (rc == MS_EEXISTS && r->transactional)
			rc = put_one_by_one(d, err);
		if (rc < 0) {
			d->failed = 1;
			d->ferr = *err;
		}
	}
	for (i = 0; i < d->nbatch; i++)
		ms_entity_free(d->batch[i]);
	d->nbatch = 0;
	return r->transactional ? rc : 0;
}

/* Is the target partition with this key ours to change? */
static int partition_owned(pdiff *d, const ms_strmap_entry *ent, const char *vkey,
			   const char **reason, ms_error *err)
{
	run *r = d->r;
	ms_entity *t = NULL;
	int rc, ok;

	*reason = NULL;
	if (r->o->adopt || (ent && ent->tag == OWNER_OURS))
		return 1;
	if (ent && ent->tag != OWNER_UNKNOWN) {
		*reason = ent->tag == OWNER_NONE ? "not a replica" : "replica of another source";
		return 0;
	}
	rc = ms_catalog_get_partition(r->dst, d->tp->mapped->database, d->tp->mapped->table, vkey,
				      &t, err);
	if (rc == MS_ENOTSUPPORTED) {
		*reason = NULL;
		return 1;
	}
	if (rc < 0)
		return rc;
	ok = sync_owned(r, t, reason);
	ms_entity_free(t);
	return ok;
}

static int diff_source(ms_entity *e, void *ctx, ms_error *err)
{
	pdiff *d = ctx;
	run *r = d->r;
	ms_strmap_entry *t;
	const char *reason;
	int rc;

	if ((rc = sync_map_entity(r, e, err)) < 0 ||
	    (rc = sync_mark(r, e, d->tp->sdb, d->tp->st, err)) < 0) {
		ms_entity_free(e);
		return rc;
	}
	sync_progress(r, 1);
	t = ms_strmap_get(&d->target, e->vkey);
	if (t) {
		t->mark = 1;
		d->matched++;
		if (memcmp(t->value, e->hash, MS_HASH_LEN) == 0) {
			pevent(d, MS_ACTION_UNCHANGED, e->vkey, NULL);
			ms_entity_free(e);
			return 0;
		}
		rc = partition_owned(d, t, e->vkey, &reason, err);
		if (rc <= 0) {
			if (rc == 0) {
				pevent(d, MS_ACTION_SKIP, e->vkey, reason);
				d->kept++;
			}
			ms_entity_free(e);
			return rc < 0 ? rc : 0;
		}
		pevent(d, MS_ACTION_UPDATE, e->vkey, NULL);
	} else {
		pevent(d, MS_ACTION_CREATE, e->vkey, NULL);
	}
	d->batch[d->nbatch++] = e;
	if (d->nbatch == r->batch)
		return flush(d, err);
	return 0;
}

static int delete_missing(pdiff *d, ms_error *err)
{
	run *r = d->r;
	const char **keys;
	size_t i, n = 0;
	const char *reason;
	int rc = 0;

	keys = malloc(r->batch * sizeof(char *));
	if (!keys)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < d->target.nslots; i++) {
		ms_strmap_entry *t = &d->target.slots[i];

		if (!t->key || t->mark)
			continue;
		rc = partition_owned(d, t, t->key, &reason, err);
		if (rc < 0)
			break;
		if (rc == 0) {
			pevent(d, MS_ACTION_SKIP, t->key, reason);
			rc = 0;
			continue;
		}
		pevent(d, MS_ACTION_DELETE, t->key, NULL);
		keys[n++] = t->key;
		if (n == r->batch || i + 1 == d->target.nslots) {
			if (r->apply &&
			    (rc = ms_catalog_delete_partitions(r->dst, d->tp->mapped->database,
							       d->tp->mapped->table, keys, n,
							       err)) < 0)
				break;
			n = 0;
		}
	}
	if (rc >= 0 && n && r->apply)
		rc = ms_catalog_delete_partitions(r->dst, d->tp->mapped->database,
						  d->tp->mapped->table, keys, n, err);
	free(keys);
	return rc;
}

static void merge_counts(run *r, ms_counts *into, const ms_counts *c)
{
	sync_lock(r);
	into->created += c->created;
	into->updated += c->updated;
	into->unchanged += c->unchanged;
	into->deleted += c->deleted;
	into->skipped += c->skipped;
	into->failed += c->failed;
	sync_unlock(r);
}

/*
 * Scan flags for a table's source partitions.  An export (copy) whose mapping
 * changes no content and no name leaves every partition document as the
 * source stores it: map_entity does not touch it and mark adds nothing.  A
 * target with MS_CAP_RAW_INPUT (the snapshot writer) prints such documents
 * from their stored text, so they need not be parsed.
 */
static unsigned int source_scan_flags(const run *r)
{
	if (r->o->copy && ms_mapping_is_identity_content(&r->map) &&
	    (!r->map.db_prefix || !*r->map.db_prefix) &&
	    (!r->map.table_prefix || !*r->map.table_prefix) && r->map.nrenames == 0 &&
	    (ms_catalog_caps(r->dst) & MS_CAP_RAW_INPUT))
		return MS_SCAN_RAW;
	return 0;
}

/*
 * Begin a table's transaction; while another writer holds the target (its
 * busy timeout passed: MS_ECONFLICT), wait with exponential backoff and
 * jitter and try again, up to about a minute in all.
 */
int sync_begin_retrying(run *r, ms_error *err)
{
	unsigned attempt;
	int rc = 0;

	for (attempt = 0; attempt < 6; attempt++) {
		if ((rc = ms_catalog_begin(r->dst, err)) != MS_ECONFLICT)
			return rc;
		if (r->o->stop && *r->o->stop)
			return rc;
		{
			long ms = (250L << attempt) + (long)(random() % 250);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	return rc;
}

/*
 * Inside the table's transaction: lock the target table and read it again,
 * so that what phase 1 decided on a plain read (create it, update it, or
 * leave it alone: not ours) still holds when the write happens, whatever
 * another writer did in between.  Updates tp.
 */
static int recheck_target(run *r, table_plan *tp, ms_error *err)
{
	ms_entity *t = NULL;
	ms_error e2;
	const char *reason;
	int rc;

	if ((rc = ms_catalog_lock(r->dst, tp->mapped->database, tp->mapped->table, err)) < 0)
		return rc;
	ms_error_clear(&e2);
	rc = ms_catalog_get_table(r->dst, tp->mapped->database, tp->mapped->table, &t, &e2);
	tp->target_exists = rc == 0;
	if (rc == MS_ENOTFOUND)
		return 0;
	if (rc < 0) {
		*err = e2;
		return rc;
	}
	memcpy(tp->target_hash, t->hash, MS_HASH_LEN);
	tp->target_stamped = ms_entity_param(t, MS_MARKER_SYNCED) != NULL;
	if (!sync_owned(r, t, &reason)) {
		tp->skip = 1;
		free(tp->skip_reason);
		tp->skip_reason = strdup(reason);
	} else {
		tp->adopted = reason;
	}
	ms_entity_free(t);
	return 0;
}

/* A table left alone: not ours, or it became someone else's meanwhile. */
static void skip_table(run *r, table_plan *tp)
{
	sync_event(r, MS_ACTION_SKIP, MS_KIND_TABLE, tp->mapped->database, tp->mapped->table, NULL,
		   tp->skip_reason);
	if (tp->have_digest) {
		sync_lock(r);
		r->rep->partitions.skipped += (long long)tp->digest.count;
		sync_unlock(r);
	}
}

/*
 * A table phase 4 need not write: its database failed, it is not ours, or
 * the stamp says it is current.  Reports it and returns 1; else 0.
 */
static int table_settled(run *r, table_plan *tp)
{
	ms_entity *m = tp->mapped;
	ms_error err;

	if (tp->db_failed) {
		ms_error_set(&err, MS_ERROR, "database '%s' could not be written", m->database);
		sync_fail(r, MS_KIND_TABLE, m->database, m->table, NULL, &err);
		return 1;
	}
	if (tp->skip) {
		skip_table(r, tp);
		return 1;
	}
	if (tp->up_to_date) {
		sync_event(r, MS_ACTION_UNCHANGED, MS_KIND_TABLE, m->database, m->table, NULL,
			   NULL);
		sync_lock(r);
		r->rep->partitions.unchanged += (long long)tp->digest.count;
		sync_unlock(r);
		sync_progress(r, tp->digest.count);
		return 1;
	}
	return 0;
}

/*
 * Set or clear the table's sync stamp before it is first written.  Without
 * transactions the stamp goes on last, once every partition is in:
 * *stamp_later says so.  A new view has no partitions to wait for (in the
 * source or the target): its stamp goes on with it, in one write.
 */
static int stamp_first(run *r, table_plan *tp, int *stamp_later, ms_error *err)
{
	int alone = tp->is_view && tp->digest.count == 0 && !tp->target_exists;

	*stamp_later = !r->transactional && !r->o->copy && tp->have_digest && !alone;
	if (!r->o->copy && tp->have_digest && !*stamp_later)
		return ms_entity_set_param(tp->mapped, MS_MARKER_SYNCED, tp->stamp, err);
	return ms_entity_set_param(tp->mapped, MS_MARKER_SYNCED, NULL, err);
}

/* Does the run read only the partitions a change set names of the table (no scan of them)? */
int sync_points_only(const run *r, const table_plan *tp)
{
	const cs_table *ct = r->o->changes ? ms_changeset_table(r->o->changes, tp->sdb, tp->st)
					   : NULL;

	return ct && (tp->target_exists || r->o->copy) && !ms_changeset_whole(r->o->changes, ct);
}

/* Does a change set's run change (or may it change) the table's partitions? */
static int touches_partitions(const run *r, const table_plan *tp)
{
	const cs_table *ct = ms_changeset_table(r->o->changes, tp->sdb, tp->st);

	return ct && (ct->vkeys.count || ms_changeset_whole(r->o->changes, ct));
}

/*
 * When applying: begin the table's transaction (*in_tx), lock and read the
 * target table again and put the table; *ta becomes what the put does.
 * Returns 0, 1 when the target table turned out not ours (rolled back and
 * reported), or an error.
 */
static int write_table(run *r, table_plan *tp, ms_action *ta, int *in_tx, ms_error *err)
{
	ms_entity *m = tp->mapped;
	int rc, retried = 0;

	while (r->apply) {
		if ((rc = sync_begin_retrying(r, err)) < 0)
			return rc;
		*in_tx = 1;
		if (!r->o->copy && (rc = recheck_target(r, tp, err)) < 0)
			return rc;
		if (tp->skip) {
			ms_catalog_rollback(r->dst, NULL);
			skip_table(r, tp);
			return 1;
		}
		*ta = !tp->target_exists ? MS_ACTION_CREATE
		      : memcmp(tp->target_hash, m->hash, MS_HASH_LEN) || tp->adopted
			      ? MS_ACTION_UPDATE
			      : MS_ACTION_UNCHANGED;
		/*
		 * A change set's run leaves an equal table alone unless it must
		 * clear the stamp (its partitions are about to change).
		 */
		if (*ta == MS_ACTION_UNCHANGED && r->o->changes &&
		    (!tp->target_stamped || !touches_partitions(r, tp)))
			return 0;
		rc = ms_catalog_put_table(r->dst, m, err);
		/*
		 * Created by another writer after the lock found nothing: look
		 * again, once.  (A conflict on a table that existed is another
		 * writer's change since it was read: reported, never overwritten.)
		 */
		if (rc == MS_ECONFLICT && !retried && !tp->target_exists) {
			ms_catalog_rollback(r->dst, NULL);
			*in_tx = 0;
			retried = 1;
			continue;
		}
		return rc < 0 ? rc : 0;
	}
	return 0;
}

/*
 * A partition write of an asynchronous target that failed on its own: it
 * counts as failed instead of created, updated or deleted, is reported with
 * its values, and keeps the table's sync stamp off so that the next run
 * writes it again.
 */
static int write_failed(const ms_write_failure *f, void *ctx, ms_error *err)
{
	pdiff *d = ctx;
	long long *was = f->deleting                          ? &d->local.deleted
			 : ms_strmap_get(&d->target, f->vkey) ? &d->local.updated
							      : &d->local.created;

	(void)err;
	if (*was > 0)
		(*was)--;
	d->kept++;
	sync_add_error(d->r, f->database, f->table, f->vkey, f->error->message);
	pevent(d, MS_ACTION_FAIL, f->vkey, f->error->message);
	return 0;
}

/*
 * Wait for the table's partition writes to complete (a target with
 * MS_CAP_ASYNC_WRITES; others are done already) and account for those that
 * failed.  A target that failed as a whole fails the table's writes.
 */
static int settle_writes(pdiff *d, ms_error *err)
{
	run *r = d->r;
	int rc;

	if (!r->apply || !(ms_catalog_caps(r->dst) & MS_CAP_ASYNC_WRITES))
		return 0;
	rc = ms_catalog_settle(r->dst, d->tp->mapped->database, d->tp->mapped->table, write_failed,
			       d, err);
	if (rc < 0 && !d->failed) {
		d->failed = 1;
		d->ferr = *err;
	}
	return 0;
}

/*
 * Read the target's partition keys and the source's partitions, write (or
 * count) the differences in batches and, with mirror deletes, delete the
 * target's partitions the source lacks.
 */
static int diff_partitions(run *r, table_plan *tp, pdiff *d, ms_error *err)
{
	ms_entity *m = tp->mapped;
	int parallel = (ms_catalog_caps(r->src) & MS_CAP_PARALLEL_READS) != 0;
	int rc;

	if (tp->target_exists) {
		rc = ms_catalog_scan_partitions(r->dst, m->database, m->table, MS_SCAN_KEYS_ONLY,
						collect_target, d, err);
		if (rc < 0 && rc != MS_ENOTFOUND)
			return rc;
	}
	/*
	 * Table workers read the one source in turn (and map and diff under its
	 * lock), or side by side when it allows parallel reads.
	 */
	if (!parallel)
		sync_lock(r);
	rc = ms_catalog_scan_partitions(r->src, tp->sdb, tp->st, source_scan_flags(r), diff_source,
					d, err);
	if (!parallel)
		sync_unlock(r);
	if (rc < 0 && rc != MS_ENOTFOUND)
		return rc;
	if ((rc = flush(d, err)) < 0)
		return rc;
	if (r->o->deletes == MS_DELETES_MIRROR && !r->o->copy && (rc = delete_missing(d, err)) < 0)
		return rc;
	return settle_writes(d, err);
}

/* The partitions a change set names are read from the source and the target this many at a time. */
#define POINTS 1000

/*
 * One partition a change set names, s what the source holds of it now
 * (mapped and marked; owned, NULL when none) and t what the target holds
 * (owned, NULL when none): written (or counted), or the target's deleted
 * with mirror deletes.  keys collects the deletes (as many as r->batch;
 * vkey must outlive them).
 */
static int diff_point_with(pdiff *d, const char *vkey, ms_entity *s, ms_entity *t,
			   const char **keys, size_t *nkeys)
{
	run *r = d->r;
	const char *reason = NULL;

	sync_progress(r, 1);
	if (t && s && memcmp(t->hash, s->hash, MS_HASH_LEN) == 0) {
		pevent(d, MS_ACTION_UNCHANGED, vkey, NULL);
	} else if (t && (s || r->o->deletes == MS_DELETES_MIRROR) && !r->o->adopt &&
		   !sync_owned(r, t, &reason)) {
		pevent(d, MS_ACTION_SKIP, vkey, reason);
	} else if (s) {
		pevent(d, t ? MS_ACTION_UPDATE : MS_ACTION_CREATE, vkey, NULL);
		d->batch[d->nbatch++] = s;
		s = NULL;
	} else if (t && r->o->deletes == MS_DELETES_MIRROR) {
		pevent(d, MS_ACTION_DELETE, vkey, NULL);
		keys[(*nkeys)++] = vkey;
	}
	ms_entity_free(s);
	ms_entity_free(t);
	return 0;
}

/* Write or delete what piled up: at the batch size, or all of it (final). */
static int points_flush(pdiff *d, const char **keys, size_t *n, int final, ms_error *err)
{
	run *r = d->r;
	ms_entity *m = d->tp->mapped;
	int rc = 0;

	if ((final || d->nbatch == r->batch) && (rc = flush(d, err)) < 0)
		return rc;
	if ((final || *n == r->batch) && *n) {
		if (r->apply)
			rc = ms_catalog_delete_partitions(r->dst, m->database, m->table, keys, *n,
							  err);
		*n = 0;
	}
	return rc;
}

/* The partitions of a change set's table on their way through diff_points. */
typedef struct points {
	pdiff *d;
	const char **keys; /* the deletes piled up (r->batch) */
	size_t nkeys;
	const char *vkeys[POINTS]; /* those read next (each outlives the table's run) */
	ms_entity *src[POINTS];    /* what the source holds of each (mapped and marked) */
	ms_entity *dst[POINTS];    /* what the target holds of each */
	size_t n;
	int from_source; /* src is still to be read (a live source) */
	ms_strmap seen;  /* the vkeys an incremental snapshot's table holds */
} points;

/* Read pt's partitions from the source: mapped and marked, NULL where it has none. */
static int points_source(points *pt, ms_error *err)
{
	run *r = pt->d->r;
	table_plan *tp = pt->d->tp;
	int rc, parallel = (ms_catalog_caps(r->src) & MS_CAP_PARALLEL_READS) != 0;

	if (!parallel)
		sync_lock(r);
	rc = ms_catalog_get_partitions(r->src, tp->sdb, tp->st, pt->vkeys, pt->n, pt->src, err);
	for (size_t i = 0; i < pt->n && rc == 0; i++)
		if (pt->src[i] && ((rc = sync_map_entity(r, pt->src[i], err)) < 0 ||
				   (rc = sync_mark(r, pt->src[i], tp->sdb, tp->st, err)) < 0))
			break;
	if (!parallel)
		sync_unlock(r);
	return rc;
}

/*
 * The partitions piled up in pt: read from the source (a live one) and from
 * the target, a batch each (ms_catalog_get_partitions: one round trip for
 * a remote catalog that has a batched read, where each partition cost two),
 * then written and deleted.
 */
static int points_apply(points *pt, ms_error *err)
{
	pdiff *d = pt->d;
	ms_entity *m = d->tp->mapped;
	size_t i;
	int rc = 0;

	if (pt->from_source)
		rc = points_source(pt, err);
	if (rc == 0 && d->tp->target_exists)
		rc = ms_catalog_get_partitions(d->r->dst, m->database, m->table, pt->vkeys, pt->n,
					       pt->dst, err);
	for (i = 0; i < pt->n; i++) {
		if (rc == 0 && (rc = diff_point_with(d, pt->vkeys[i], pt->src[i], pt->dst[i],
						     pt->keys, &pt->nkeys)) == 0)
			rc = points_flush(d, pt->keys, &pt->nkeys, 0, err);
		else if (rc < 0) {
			ms_entity_free(pt->src[i]);
			ms_entity_free(pt->dst[i]);
		}
		pt->src[i] = pt->dst[i] = NULL;
	}
	pt->n = 0;
	return rc;
}

/* Pile up vkey (s: what the source holds, owned; NULL: none, or still to read). */
static int points_add(points *pt, const char *vkey, ms_entity *s, ms_error *err)
{
	pt->vkeys[pt->n] = vkey;
	pt->src[pt->n++] = s;
	return pt->n == POINTS ? points_apply(pt, err) : 0;
}

/* diff_points' scan of an incremental snapshot's table: every partition it holds. */
static int scan_point(ms_entity *e, void *ctx, ms_error *err)
{
	points *pt = ctx;
	pdiff *d = pt->d;
	ms_strmap_entry *ent;
	int rc;

	if (ms_strmap_put(&pt->seen, e->vkey, &ent) < 0) {
		ms_entity_free(e);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if ((rc = sync_map_entity(d->r, e, err)) < 0 ||
	    (rc = sync_mark(d->r, e, d->tp->sdb, d->tp->st, err)) < 0) {
		ms_entity_free(e);
		return rc;
	}
	/* the batch owns e, and with it the vkey; a delete never comes from here */
	return points_add(pt, ent->key, e, err);
}

/*
 * The partitions a change set names for this table (their table is not
 * scanned), written and deleted in batches.  From a live source they are
 * read POINTS at a time; an incremental snapshot holds only what changed,
 * so its table is read whole, and what it names but does not hold is
 * deleted.
 */
static int diff_points(run *r, table_plan *tp, pdiff *d, const cs_table *ct, ms_error *err)
{
	points *pt = calloc(1, sizeof(*pt));
	size_t i;
	int rc = 0;

	if (!pt || !(pt->keys = malloc(r->batch * sizeof(char *)))) {
		free(pt);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	pt->d = d;
	pt->from_source = !r->o->snapshot_parent;
	ms_strmap_init(&pt->seen);
	if (r->o->snapshot_parent) {
		if (!(ms_catalog_caps(r->src) & MS_CAP_PARALLEL_READS))
			sync_lock(r);
		rc = ms_catalog_scan_partitions(r->src, tp->sdb, tp->st, 0, scan_point, pt, err);
		if (!(ms_catalog_caps(r->src) & MS_CAP_PARALLEL_READS))
			sync_unlock(r);
		if (rc == MS_ENOTFOUND)
			rc = 0;
	}
	for (i = 0; i < ct->vkeys.nslots && rc == 0; i++) {
		const char *vkey = ct->vkeys.slots[i].key;

		if (vkey && !(r->o->snapshot_parent && ms_strmap_get(&pt->seen, vkey)))
			rc = points_add(pt, vkey, NULL, err);
	}
	if (rc == 0 && (rc = points_apply(pt, err)) == 0)
		rc = points_flush(d, pt->keys, &pt->nkeys, 1, err);
	for (i = 0; i < pt->n; i++)
		ms_entity_free(pt->src[i]);
	ms_strmap_free(&pt->seen);
	free(pt->keys);
	free(pt);
	return rc < 0 ? rc : settle_writes(d, err);
}

/*
 * Partitions the target keeps against the source (deletes none, or not
 * ours) mean the table is not in sync: no stamp, so the next run looks at
 * its partitions again.  Clears a stamp already written, and *stamp_later.
 */
static int unstamp_kept(run *r, table_plan *tp, pdiff *d, int *stamp_later, ms_error *err)
{
	ms_entity *m = tp->mapped;
	int rc;

	d->kept += d->target.count - d->matched - (size_t)d->local.deleted;
	if (d->kept && !r->o->copy && tp->have_digest) {
		if (!*stamp_later && r->apply &&
		    ((rc = ms_entity_set_param(m, MS_MARKER_SYNCED, NULL, err)) < 0 ||
		     (rc = ms_catalog_put_table(r->dst, m, err)) < 0))
			return rc;
		*stamp_later = 0;
	}
	return 0;
}

/*
 * A table that could not be written: rolled back and reported, everything
 * it would have written counted as failed.  Returns rc with *fatal filled
 * when the run must end (out of memory, a source failing its integrity,
 * any failure of a copy), else 0.
 */
static int table_failed(run *r, table_plan *tp, pdiff *d, int rc, int in_tx, ms_error *err,
			ms_error *fatal)
{
	ms_entity *m = tp->mapped;

	if (in_tx)
		ms_catalog_rollback(r->dst, NULL);
	if (rc == MS_ENOMEM || rc == MS_EINTEGRITY) {
		*fatal = *err;
		return rc;
	}
	sync_fail(r, MS_KIND_TABLE, m->database, m->table, NULL, err);
	d->local.failed += d->local.created + d->local.updated + d->local.deleted;
	d->local.created = d->local.updated = d->local.deleted = 0;
	merge_counts(r, &r->rep->partitions, &d->local);
	if (r->o->copy) {
		*fatal = *err;
		return rc;
	}
	return 0;
}

int sync_table(run *r, table_plan *tp, ms_error *fatal)
{
	ms_entity *m = tp->mapped;
	const cs_table *ct;
	ms_action ta;
	pdiff d;
	ms_error err;
	int rc = 0, in_tx = 0, stamp_later;

	if (table_settled(r, tp))
		return 0;
	ta = !tp->target_exists                              ? MS_ACTION_CREATE
	     : memcmp(tp->target_hash, m->hash, MS_HASH_LEN) ? MS_ACTION_UPDATE
							     : MS_ACTION_UNCHANGED;

	memset(&d, 0, sizeof(d));
	d.r = r;
	d.tp = tp;
	ms_strmap_init(&d.target);
	ms_error_clear(&err);
	if (!(d.batch = calloc(r->batch, sizeof(ms_entity *)))) {
		rc = ms_error_set(fatal, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = stamp_first(r, tp, &stamp_later, &err)) < 0)
		goto failed;

	/* An adoption writes the marker: an update, shown with what the table was. */
	if (ta == MS_ACTION_UNCHANGED && tp->adopted)
		ta = MS_ACTION_UPDATE;
	/* A plan lists the table before its partitions. */
	if (!r->apply)
		sync_event(r, ta, MS_KIND_TABLE, m->database, m->table, NULL, tp->adopted);
	if ((rc = write_table(r, tp, &ta, &in_tx, &err)) < 0)
		goto failed;
	if (rc == 1) {
		rc = 0;
		goto done;
	}
	/*
	 * a change set's table that was there already (or an incremental
	 * snapshot's): only the partitions it names
	 */
	if (sync_points_only(r, tp)) {
		ct = ms_changeset_table(r->o->changes, tp->sdb, tp->st);
		if ((rc = diff_points(r, tp, &d, ct, &err)) < 0)
			goto failed;
	} else if ((rc = diff_partitions(r, tp, &d, &err)) < 0 ||
		   (rc = unstamp_kept(r, tp, &d, &stamp_later, &err)) < 0) {
		goto failed;
	}
	if (d.failed) {
		err = d.ferr;
		if (r->transactional) {
			rc = err.code;
			goto failed;
		}
		/* Without transactions: what went in stays; the stamp stays off. */
		sync_add_error(r, m->database, m->table, NULL, err.message);
		d.local.failed += d.local.created + d.local.updated;
		d.local.created = d.local.updated = 0;
		stamp_later = 0;
	}
	if (r->apply && stamp_later) {
		if ((rc = ms_entity_set_param(m, MS_MARKER_SYNCED, tp->stamp, &err)) < 0 ||
		    (rc = ms_catalog_put_table(r->dst, m, &err)) < 0)
			goto failed;
	}
	if (r->apply && (rc = ms_catalog_commit(r->dst, &err)) < 0)
		goto failed;
	in_tx = 0;
	if (r->apply)
		sync_event(r, d.failed ? MS_ACTION_FAIL : ta, MS_KIND_TABLE, m->database, m->table,
			   NULL, d.failed ? NULL : tp->adopted);
	if (!d.failed && tp->adopted)
		sync_note_adopted(r, m->database, m->table, tp->adopted);
	merge_counts(r, &r->rep->partitions, &d.local);
	rc = 0;
	goto done;

failed:
	rc = table_failed(r, tp, &d, rc, in_tx, &err, fatal);
done:
	if (d.batch) {
		for (size_t i = 0; i < d.nbatch; i++)
			ms_entity_free(d.batch[i]);
		free(d.batch);
	}
	ms_strmap_free(&d.target);
	return rc;
}
