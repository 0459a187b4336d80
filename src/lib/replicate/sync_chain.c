/*
 * Snapshot chains: an incremental snapshot holds only what changed since
 * its parent, so it may be applied only onto a target that holds the
 * parent.  Each import of a snapshot records the snapshot's id on the
 * target databases it replicates (metasync.snapshot, a marker parameter,
 * outside the content hash); an incremental's run first reads them back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changeset.h"
#include "sync_internal.h"

/*
 * What target database tdb records, when it is this source's replica: *out
 * (new) the id, or NULL when it records none (or is not there, or not ours).
 */
static int recorded_in(run *r, const char *tdb, char **out, ms_error *err)
{
	ms_entity *t = NULL;
	const char *why, *v;
	ms_error e2;
	int rc;

	*out = NULL;
	rc = ms_catalog_get_database(r->dst, tdb, &t, &e2);
	if (rc == MS_ENOTFOUND)
		return 0;
	if (rc < 0) {
		*err = e2;
		return rc;
	}
	if (sync_ours(r, t, NULL, NULL, &why) && (v = ms_entity_param(t, MS_MARKER_SNAPSHOT)) &&
	    !(*out = strdup(v)))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_entity_free(t);
	return rc;
}

/* recorded_in for the target database of source database sdb (*tdb_out, new). */
static int recorded(run *r, const char *sdb, char **tdb_out, char **out, ms_error *err)
{
	char *tdb = ms_mapping_database(&r->map, sdb);

	*out = NULL;
	*tdb_out = tdb;
	if (!tdb)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return recorded_in(r, tdb, out, err);
}

static int refuse(run *r, ms_error *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(run *r, ms_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;
	char msg[MS_ERROR_MESSAGE_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->rep->status = MS_STATUS_REFUSED;
	ms_error_set(err, MS_EREFUSED, "%s", msg);
	snprintf(err->backend_code, sizeof(err->backend_code), "%s", code);
	return MS_EREFUSED;
}

/* A database that records another snapshot of the chain than the parent: refused. */
static int off_chain(run *r, const char *tdb, const char *v, ms_error *err)
{
	const ms_sync_options *o = r->o;

	return refuse(r, err, MS_REFUSED_CHAIN,
		      "incremental snapshot '%s' follows '%s', but target database '%s' holds "
		      "snapshot '%s' of this source: import the snapshots after '%s' in order, or "
		      "the full snapshot '%s' and those after it",
		      o->snapshot_id ? o->snapshot_id : "?", o->snapshot_parent, tdb, v, v,
		      o->snapshot_base ? o->snapshot_base : o->snapshot_parent);
}

/* What the chain check has seen so far. */
typedef struct chain_seen {
	size_t known, newer;
	char *newest;
} chain_seen;

/*
 * Count the id *v a target database records into s: newer than the run's
 * snapshot (the first such becomes s->newest, taken from *v), or on its
 * chain (the parent, or the snapshot itself).  1 when it is neither (off
 * the chain), else 0.
 */
static int seen(run *r, char **v, chain_seen *s)
{
	const ms_sync_options *o = r->o;

	if (o->snapshot_id && ms_snapshot_id_cmp(*v, o->snapshot_id) > 0) {
		s->known++;
		s->newer++;
		if (!s->newest) {
			s->newest = *v;
			*v = NULL;
		}
		return 0;
	}
	if (strcmp(*v, o->snapshot_parent) == 0 ||
	    (o->snapshot_id && strcmp(*v, o->snapshot_id) == 0)) {
		s->known++;
		return 0;
	}
	return 1;
}

/* Check the replica of source database sdb against the chain: off it is refused. */
static int check_one(run *r, const char *sdb, chain_seen *s, ms_error *err)
{
	char *tdb = NULL, *v = NULL;
	int rc;

	if ((rc = recorded(r, sdb, &tdb, &v, err)) == 0 && v && seen(r, &v, s))
		rc = off_chain(r, tdb, v, err);
	free(tdb);
	free(v);
	return rc;
}

/*
 * The databases the change set drops that the source no longer holds:
 * their replicas hold the parent until this run deletes them (a snapshot
 * that drops every database names none of its own).
 */
static int check_dropped(run *r, chain_seen *s, ms_error *err)
{
	const ms_changeset *cs = r->o->changes;
	size_t i;
	int rc = 0;

	for (i = 0; cs && i < cs->dbs.nslots && rc == 0; i++) {
		const ms_strmap_entry *e = &cs->dbs.slots[i];

		if (e->key && (e->tag & CS_DB_DROPPED) &&
		    ms_selection_match(r->o->databases, e->key) && !sync_names_has(&r->dbs, e->key))
			rc = check_one(r, e->key, s, err);
	}
	return rc;
}

/*
 * No database the snapshot names records a snapshot of this source (they
 * are all new to the target, say): the target's other replicas of this
 * source say where it is on the chain, as they move on with it
 * (record_unnamed).  Only those on the chain count here.
 */
static int check_others(run *r, chain_seen *s, ms_error *err)
{
	names all = { 0 };
	size_t i;
	int rc;

	if ((rc = ms_catalog_list_databases(r->dst, sync_names_add, &all, err)) < 0)
		return rc;
	for (i = 0; i < all.n && rc == 0; i++) {
		char *v = NULL;

		/* one off the chain is not this run's to refuse */
		if ((rc = recorded_in(r, all.v[i], &v, err)) == 0 && v)
			seen(r, &v, s);
		free(v);
	}
	sync_names_free(&all);
	return rc;
}

int sync_chain_check(run *r, ms_error *err)
{
	const ms_sync_options *o = r->o;
	chain_seen s = { 0 };
	size_t i;
	int rc = 0;

	if (!o->snapshot_parent)
		return 0;
	for (i = 0; i < r->dbs.n && rc == 0; i++)
		rc = check_one(r, r->dbs.v[i], &s, err);
	if (rc == 0)
		rc = check_dropped(r, &s, err);
	if (rc == 0 && !s.known)
		rc = check_others(r, &s, err);
	/* already past it (the chain was read from the store meanwhile): nothing to do */
	if (rc == 0 && s.known && s.newer == s.known)
		rc = refuse(r, err, MS_REFUSED_NEWER,
			    "incremental snapshot '%s' is older than snapshot '%s', which the "
			    "target holds",
			    o->snapshot_id, s.newest);
	free(s.newest);
	if (rc == 0 && !s.known)
		rc = refuse(r, err, MS_REFUSED_CHAIN,
			    "incremental snapshot '%s' follows '%s', and the target holds no "
			    "snapshot of this source: import the full snapshot '%s' and those "
			    "after it first (an import of the store does)",
			    o->snapshot_id ? o->snapshot_id : "?", o->snapshot_parent,
			    o->snapshot_base ? o->snapshot_base : o->snapshot_parent);
	return rc;
}

/*
 * Record id on target database tdb, in a transaction with it locked, when it
 * is ours (and, with only_from set, records only_from).
 */
static int record_one(run *r, const char *tdb, const char *id, const char *only_from, ms_error *err)
{
	ms_entity *t = NULL;
	const char *why, *v;
	int rc, in_tx = 0;

	if ((rc = sync_begin_retrying(r, err)) < 0)
		return rc;
	in_tx = 1;
	if ((rc = ms_catalog_lock(r->dst, tdb, NULL, err)) < 0)
		goto done;
	rc = ms_catalog_get_database(r->dst, tdb, &t, err);
	if (rc == MS_ENOTFOUND) {
		rc = 0;
		goto done;
	}
	v = rc < 0 ? NULL : ms_entity_param(t, MS_MARKER_SNAPSHOT);
	if (rc < 0 || !sync_ours(r, t, NULL, NULL, &why) || (v && strcmp(v, id) == 0) ||
	    (only_from && (!v || strcmp(v, only_from) != 0)))
		goto done;
	if ((rc = ms_entity_set_param(t, MS_MARKER_SNAPSHOT, id, err)) < 0 ||
	    (rc = ms_catalog_put_database(r->dst, t, err)) < 0)
		goto done;
	if ((rc = ms_catalog_commit(r->dst, err)) == 0)
		in_tx = 0;
done:
	if (in_tx)
		ms_catalog_rollback(r->dst, NULL);
	ms_entity_free(t);
	return rc;
}

/*
 * The target databases that hold the parent and that the snapshot does not
 * name (named: the target names of its databases, sorted) move on to it as
 * well: a database the source dropped after the change set's end is still
 * listed by no later snapshot, and the one whose change set deletes it must
 * find it on the chain.
 */
static int record_unnamed(run *r, const names *named, ms_error *err)
{
	names all = { 0 };
	size_t i;
	int rc;

	if ((rc = ms_catalog_list_databases(r->dst, sync_names_add, &all, err)) < 0)
		return rc;
	for (i = 0; i < all.n && rc == 0; i++)
		if (!sync_names_has(named, all.v[i]))
			rc = record_one(r, all.v[i], r->o->snapshot_id, r->o->snapshot_parent, err);
	sync_names_free(&all);
	return rc;
}

/* sync_item_fn: record the run's snapshot on the target of source database r->dbs.v[i]. */
static int chain_item(run *r, size_t i, ms_error *fatal)
{
	char *tdb = ms_mapping_database(&r->map, r->dbs.v[i]);
	int rc;

	rc = tdb ? record_one(r, tdb, r->o->snapshot_id, NULL, fatal)
		 : ms_error_set(fatal, MS_ENOMEM, "out of memory");
	free(tdb);
	return rc;
}

/*
 * The run's databases record its snapshot, several at a time where the
 * target allows it (sync_parallel): through a remote API each record is a
 * read and a write, one round trip each.
 */
int sync_chain_record(run *r, ms_error *err)
{
	names named = { 0 };
	size_t i, *items;
	int rc = 0;

	if (!r->o->snapshot_id || !r->apply || r->o->copy)
		return 0;
	if (!(items = calloc(r->dbs.n + 1, sizeof(*items))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < r->dbs.n; i++)
		items[i] = i;
	if ((rc = sync_parallel(r, items, r->dbs.n, chain_item, err)) == 1)
		for (rc = 0, i = 0; i < r->dbs.n && rc == 0; i++)
			rc = chain_item(r, i, err);
	free(items);
	if (rc < 0 || !r->o->snapshot_parent)
		return rc;
	for (i = 0; i < r->dbs.n && rc == 0; i++) {
		char *tdb = ms_mapping_database(&r->map, r->dbs.v[i]);

		rc = tdb ? sync_names_add(tdb, &named, err)
			 : ms_error_set(err, MS_ENOMEM, "out of memory");
		free(tdb);
	}
	if (rc == 0) {
		if (named.n)
			qsort(named.v, named.n, sizeof(char *), sync_cmp_str);
		rc = record_unnamed(r, &named, err);
	}
	sync_names_free(&named);
	return rc;
}

int sync_chain_held(ms_catalog *source, ms_catalog *target, const ms_sync_options *opts,
		    char **held, ms_error *err)
{
	run r;
	names all = { 0 };
	size_t i;
	int rc;

	*held = NULL;
	memset(&r, 0, sizeof(r));
	r.top = &r;
	r.src = source;
	r.dst = target;
	r.o = opts;
	if ((rc = ms_mapping_init(&r.map, opts, err)) < 0)
		return rc;
	if ((rc = ms_catalog_list_databases(source, sync_names_add, &all, err)) < 0)
		goto done;
	for (i = 0; i < all.n && rc == 0; i++)
		if (ms_selection_match(opts->databases, all.v[i]))
			rc = sync_names_add(all.v[i], &r.dbs, err);
	if (rc < 0 ||
	    (rc = ms_mapping_set_databases(&r.map, (const char *const *)r.dbs.v, r.dbs.n, err)) < 0)
		goto done;
	/* the oldest a database records: the chain is applied on from there */
	for (i = 0; i < r.dbs.n && rc == 0; i++) {
		char *tdb = NULL, *v = NULL;

		if ((rc = recorded(&r, r.dbs.v[i], &tdb, &v, err)) == 0 && v &&
		    (!*held || ms_snapshot_id_cmp(v, *held) < 0)) {
			free(*held);
			*held = v;
			v = NULL;
		}
		free(tdb);
		free(v);
	}
done:
	if (rc < 0) {
		free(*held);
		*held = NULL;
	}
	sync_names_free(&all);
	sync_names_free(&r.dbs);
	ms_mapping_free(&r.map);
	return rc;
}
