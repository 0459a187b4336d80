/*
 * Mirror deletes: the replicas of this source that the target holds and
 * this run does not produce, deleted when their source is gone (within the
 * selection), reported or pruned when the mapping moved them elsewhere.
 */
#include <stdlib.h>
#include <string.h>

#include "sync_internal.h"
#include "util/buf.h"

static int delete_table_replica(run *r, const char *db, const char *table, ms_error *fatal)
{
	ms_error err;
	ms_digest dg;
	int rc;

	ms_error_clear(&err);
	if (ms_catalog_table_digest(r->dst, db, table, &dg, &err) == 0) {
		sync_lock(r);
		r->rep->partitions.deleted += (long long)dg.count;
		r->top->deletes += (long long)dg.count;
		sync_unlock(r);
	}
	if (r->apply && (rc = ms_catalog_delete_table(r->dst, db, table, &err)) < 0) {
		if (rc == MS_ENOMEM) {
			*fatal = err;
			return rc;
		}
		sync_fail(r, MS_KIND_TABLE, db, table, NULL, &err);
		return 0;
	}
	sync_event(r, MS_ACTION_DELETE, MS_KIND_TABLE, db, table, NULL, NULL);
	return 0;
}

/*
 * What became of the source of a replica of this source at tdb.tn (tn NULL:
 * the database) whose marker names sdb.st (st NULL: a database).
 */
typedef enum fate {
	FATE_CURRENT = 0, /* this run produces it */
	FATE_GONE,        /* its source is gone, within the selection */
	FATE_UNMAPPED,    /* its source is there, but the mapping now puts it elsewhere */
	FATE_OUT_OF_SCOPE /* its source database is not selected: not this run's business */
} fate;

static fate fate_of(run *r, const char *tdb, const char *tn, const char *sdb, const char *st)
{
	char *mdb, *mt = NULL;
	fate f;

	if (!sync_names_has(&r->dbs, sdb))
		return ms_selection_match(r->o->databases, sdb) &&
				       ms_selection_match(ms_catalog_selection(r->src), sdb)
			       ? FATE_GONE
			       : FATE_OUT_OF_SCOPE;
	if (st && !ms_mapping_has_table(&r->map, sdb, st))
		return FATE_GONE;
	mdb = ms_mapping_database(&r->map, sdb);
	if (st)
		mt = ms_mapping_table(&r->map, st);
	f = !mdb || (st && !mt)                                          ? FATE_CURRENT
	    : strcmp(mdb, tdb) != 0 || (st && tn && strcmp(mt, tn) != 0) ? FATE_UNMAPPED
									 : FATE_CURRENT;
	free(mdb);
	free(mt);
	return f;
}

/* Report a replica the mapping no longer produces and that is kept. */
static void note_unmapped(run *r, const char *tdb, const char *tn, const char *sdb, const char *st)
{
	if (r->final)
		sync_warnf(r,
			   "%s%s%s: replica of '%s%s%s' that the mapping no longer produces, "
			   "kept (--deletes mirror --prune-unmapped removes it)",
			   tdb, tn ? "." : "", tn ? tn : "", sdb, st ? "." : "", st ? st : "");
}

/* May a replica with this fate be deleted in this run? */
static int deletable(const run *r, fate f)
{
	if (r->o->deletes != MS_DELETES_MIRROR || r->o->copy)
		return 0;
	return f == FATE_GONE || (f == FATE_UNMAPPED && r->o->prune_unmapped);
}

/* "db\ttable" of the target tables this run writes (not skipped), sorted. */
static int planned_set(const run *r, names *out, ms_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < r->ntables; i++) {
		ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);

		if (r->tables[i].skip)
			continue;
		ms_buf_printf(&b, "%s\t%s", r->tables[i].mapped->database,
			      r->tables[i].mapped->table);
		rc = sync_names_add(ms_buf_cstr(&b), out, err);
		ms_buf_free(&b);
		if (rc < 0)
			return rc;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(char *), sync_cmp_str);
	return 0;
}

static int planned(const names *set, const char *tdb, const char *tn)
{
	ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);
	int found;

	ms_buf_printf(&b, "%s\t%s", tdb, tn);
	found = sync_names_has(set, ms_buf_cstr(&b));
	ms_buf_free(&b);
	return found;
}

/*
 * The replica tables of this source in target database tdb that this run
 * does not produce: deleted when their fate allows (whole_db: every replica
 * of this source in it, the database itself being gone or unmapped), else
 * reported when unmapped.  *foreign counts the tables left in tdb that are
 * not ours.
 */
static int stale_tables(run *r, const char *tdb, fate whole_db, const names *written,
			size_t *foreign, ms_error *fatal)
{
	names tn = { 0 };
	ms_error err;
	size_t i;
	int rc = 0;

	ms_error_clear(&err);
	if (ms_catalog_list_tables(r->dst, tdb, sync_names_add, &tn, &err) < 0)
		goto done;
	/* Views first: they may read the tables. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (i = 0; i < tn.n && rc == 0; i++) {
			ms_entity *t = NULL;
			char *db = NULL, *table = NULL;
			const char *why;
			fate f;

			if (whole_db == FATE_CURRENT && planned(written, tdb, tn.v[i]))
				continue;
			if (ms_catalog_get_table(r->dst, tdb, tn.v[i], &t, &err) < 0)
				continue;
			if (sync_is_view(t) != (pass == 0)) {
				ms_entity_free(t);
				continue;
			}
			if (!sync_ours(r, t, &db, &table, &why) || !table) {
				(*foreign)++;
			} else {
				f = whole_db != FATE_CURRENT ? whole_db
							     : fate_of(r, tdb, tn.v[i], db, table);
				if (deletable(r, f))
					rc = delete_table_replica(r, tdb, tn.v[i], fatal);
				else if (f == FATE_UNMAPPED && whole_db == FATE_CURRENT)
					note_unmapped(r, tdb, tn.v[i], db, table);
				else if (f != FATE_CURRENT)
					(*foreign)++;
			}
			free(db);
			free(table);
			ms_entity_free(t);
		}
	}
done:
	sync_names_free(&tn);
	return rc;
}

/*
 * Replicas of this source in the target that this run does not produce.
 * Those whose source is gone (within the selection) are deleted with
 * mirror deletes; those the mapping no longer produces (a prefix or rename
 * changed) are reported, and deleted too with prune_unmapped.  Databases
 * holding tables that are not ours are kept.
 */
/* What the per-database look at stale replicas shares (through run.item_ctx). */
typedef struct stale {
	names tdbs;    /* the target's databases */
	names written; /* what this run produces */
} stale;

/* One target database: its replicas this run does not produce. */
static int stale_database(run *r, size_t i, ms_error *fatal)
{
	stale *st = r->item_ctx;
	const char *tdb = st->tdbs.v[i];
	ms_entity *t = NULL;
	char *db = NULL, *table = NULL;
	const char *why;
	size_t foreign = 0;
	fate f = FATE_CURRENT;
	int rc = 0, mapped_here = sync_names_has(&r->tdbs, tdb);
	ms_error err;

	if (sync_names_has(&r->top->created, tdb))
		return 0;
	ms_error_clear(&err);
	if (ms_catalog_get_database(r->dst, tdb, &t, &err) < 0)
		return 0;
	if (sync_ours(r, t, &db, &table, &why) && !mapped_here)
		f = fate_of(r, tdb, NULL, db, NULL);
	if (f == FATE_OUT_OF_SCOPE || (f == FATE_CURRENT && !mapped_here)) {
		/* not ours, or not this run's */
	} else if (f == FATE_CURRENT || deletable(r, f)) {
		rc = stale_tables(r, tdb, f, &st->written, &foreign, fatal);
		if (rc == 0 && f != FATE_CURRENT && foreign) {
			sync_event(r, MS_ACTION_SKIP, MS_KIND_DATABASE, tdb, NULL, NULL,
				   "holds tables that are not replicas");
		} else if (rc == 0 && f != FATE_CURRENT) {
			if (r->apply && ms_catalog_delete_database(r->dst, tdb, &err) < 0)
				sync_fail(r, MS_KIND_DATABASE, tdb, NULL, NULL, &err);
			else
				sync_event(r, MS_ACTION_DELETE, MS_KIND_DATABASE, tdb, NULL, NULL,
					   NULL);
		}
	} else if (f == FATE_UNMAPPED) {
		note_unmapped(r, tdb, NULL, db, NULL);
	}
	free(db);
	free(table);
	ms_entity_free(t);
	return rc;
}

/* stale_database for each database of st->tdbs, several at a time where the target allows. */
static int sweep(run *r, stale *st, ms_error *fatal)
{
	size_t i, *items;
	int rc;

	if (!(items = malloc((st->tdbs.n + 1) * sizeof(size_t))))
		return ms_error_set(fatal, MS_ENOMEM, "out of memory");
	if (r->created.n)
		qsort(r->created.v, r->created.n, sizeof(char *), sync_cmp_str);
	for (i = 0; i < st->tdbs.n; i++)
		items[i] = i;
	r->item_ctx = st;
	if ((rc = sync_parallel(r, items, st->tdbs.n, stale_database, fatal)) == 1) {
		rc = 0;
		for (i = 0; i < st->tdbs.n && rc == 0; i++)
			rc = stale_database(r, i, fatal);
	}
	r->item_ctx = NULL;
	free(items);
	return rc;
}

/*
 * Replicas of this source in the target that this run does not produce.
 * Those whose source is gone (within the selection) are deleted with
 * mirror deletes; those the mapping no longer produces (a prefix or rename
 * changed) are reported, and deleted too with prune_unmapped.  Databases
 * holding tables that are not ours are kept.  The target's databases are
 * looked at several at a time where the target allows it (sync_parallel).
 */
int sync_stale_replicas(run *r, ms_error *fatal)
{
	stale st = { { 0 }, { 0 } };
	ms_error err;
	int rc = 0;

	ms_error_clear(&err);
	if ((rc = planned_set(r, &st.written, fatal)) == 0 &&
	    ms_catalog_list_databases(r->dst, sync_names_add, &st.tdbs, &err) == 0)
		rc = sweep(r, &st, fatal);
	sync_names_free(&st.tdbs);
	sync_names_free(&st.written);
	return rc;
}

/*
 * A table a change set names whose source is gone, in a database the
 * source still has: its replica, when this source's, deleted with mirror
 * deletes.
 */
static int stale_changed_table(run *r, const cs_table *ct, ms_error *fatal)
{
	char *tdb = NULL, *tn = NULL, *db = NULL, *table = NULL;
	ms_entity *t = NULL;
	const char *why;
	ms_error err;
	int rc = 0;

	if (!sync_names_has(&r->dbs, ct->db) || ms_mapping_has_table(&r->map, ct->db, ct->table))
		return 0;
	if (!(tdb = ms_mapping_database(&r->map, ct->db)) ||
	    !(tn = ms_mapping_table(&r->map, ct->table))) {
		rc = ms_error_set(fatal, MS_ENOMEM, "out of memory");
		goto done;
	}
	ms_error_clear(&err);
	if (ms_catalog_get_table(r->dst, tdb, tn, &t, &err) < 0 ||
	    !sync_ours(r, t, &db, &table, &why) || !table || strcmp(db, ct->db) != 0 ||
	    strcmp(table, ct->table) != 0)
		goto done;
	if (deletable(r, FATE_GONE))
		rc = delete_table_replica(r, tdb, tn, fatal);
done:
	free(tdb);
	free(tn);
	free(db);
	free(table);
	ms_entity_free(t);
	return rc;
}

int sync_stale_changed(run *r, ms_error *fatal)
{
	const ms_changeset *cs = r->o->changes;
	stale st = { { 0 }, { 0 } };
	size_t i;
	int rc = 0;

	for (i = 0; i < cs->nt && rc == 0; i++)
		rc = stale_changed_table(r, &cs->t[i], fatal);
	/* databases deleted (perhaps made again): every replica in them looked at */
	for (i = 0; i < cs->dbs.nslots && rc == 0; i++) {
		const ms_strmap_entry *e = &cs->dbs.slots[i];
		char *tdb;

		if (!e->key || !(e->tag & CS_DB_CHANGED) ||
		    (!(e->tag & CS_DB_DROPPED) && sync_names_has(&r->dbs, e->key)))
			continue;
		if (!(tdb = ms_mapping_database(&r->map, e->key)))
			rc = ms_error_set(fatal, MS_ENOMEM, "out of memory");
		else
			rc = sync_names_add(tdb, &st.tdbs, fatal);
		free(tdb);
	}
	if (rc == 0 && st.tdbs.n) {
		qsort(st.tdbs.v, st.tdbs.n, sizeof(char *), sync_cmp_str);
		if ((rc = planned_set(r, &st.written, fatal)) == 0)
			rc = sweep(r, &st, fatal);
	}
	sync_names_free(&st.tdbs);
	sync_names_free(&st.written);
	return rc;
}
