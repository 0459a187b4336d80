/*
 * Incremental exports: the change set since the snapshot the store's
 * LATEST names, read from the source's change feed, written as an
 * incremental snapshot (the entities that exist, tombstones for those that
 * went).  Whether one can follow LATEST is decided here; ms_export writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incremental.h"
#include "sync_internal.h"

#define DEFAULT_FULL_EVERY 24

void incr_plan_free(incr_plan *p)
{
	free(p->parent);
	free(p->base);
	free(p->head);
	ms_changeset_free(p->cs);
	sync_names_free(&p->dbs);
	sync_names_free(&p->tables);
	memset(p, 0, sizeof(*p));
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Stops a listing at its first name. */
static int first_name(const char *name, void *ctx, ms_error *err)
{
	(void)name;
	(void)err;
	*(int *)ctx = 1;
	return 1;
}

/* Does the snapshot list a database?  1, 0, or an error. */
static int holds_database(ms_catalog *snap, ms_error *err)
{
	int any = 0, rc = ms_catalog_list_databases(snap, first_name, &any, err);

	return rc < 0 ? rc : any;
}

/*
 * Can this export follow the store's LATEST?  0 with p->parent set when it
 * can, 0 with p->why set when a full snapshot is to be written, or an
 * error reading the source's feed.
 */
static int follow_latest(ms_catalog *src, const char *store_url, const ms_export_options *opts,
			 incr_plan *p, ms_error *err)
{
	ms_catalog *latest = NULL;
	ms_snapshot_info info;
	unsigned every = opts->full_every ? opts->full_every : DEFAULT_FULL_EVERY;
	char *next = NULL;
	ms_error e2;
	int rc = 0;

	memset(&info, 0, sizeof(info));
	ms_error_clear(&e2);
	if (ms_catalog_open(&latest, store_url, NULL, &e2) < 0 ||
	    ms_catalog_snapshot_info(latest, &info, &e2) < 0 || !info.id) {
		if (e2.code == MS_ENOTFOUND || (!e2.code && !info.id))
			snprintf(p->why, sizeof(p->why), "the store has no snapshot to follow");
		else
			snprintf(p->why, sizeof(p->why),
				 "the snapshot LATEST names cannot be read: %s", e2.message);
		goto done;
	}
	if (!same(info.source_catalog_id, ms_catalog_id(src)) ||
	    !same(ms_catalog_instance(latest), ms_catalog_instance(src)))
		snprintf(p->why, sizeof(p->why), "snapshot '%s' is of another source", info.id);
	else if (!same(info.selection, opts->databases))
		snprintf(p->why, sizeof(p->why), "snapshot '%s' selects other databases", info.id);
	else if (!info.source_cursor)
		snprintf(p->why, sizeof(p->why), "snapshot '%s' records no change feed cursor",
			 info.id);
	else if (info.parent && info.chain >= every)
		snprintf(p->why, sizeof(p->why),
			 "%u incrementals follow the full snapshot '%s' (a full one every %u)",
			 info.chain, info.base, every);
	else if ((rc = holds_database(latest, &e2)) <= 0) {
		if (rc < 0)
			snprintf(p->why, sizeof(p->why), "snapshot '%s' cannot be listed: %s",
				 info.id, e2.message);
		else
			/* a chain needs a replica recording its parent: a new one starts */
			snprintf(p->why, sizeof(p->why), "snapshot '%s' holds no database",
				 info.id);
		rc = 0;
	}
	if (p->why[0])
		goto done;
	if (!(p->cs = ms_changeset_new())) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	rc = ms_catalog_changes_since(src, info.source_cursor, ms_changeset_add, p->cs, &next, &e2);
	if (rc == MS_ECONFLICT) {
		snprintf(p->why, sizeof(p->why),
			 "the source's change feed no longer holds the changes since snapshot '%s'",
			 info.id);
		rc = 0;
		goto done;
	}
	if (rc < 0) {
		*err = e2;
		goto done;
	}
	p->head = next;
	next = NULL;
	p->chain = info.parent ? info.chain + 1 : 1;
	if (!(p->parent = strdup(info.id)) ||
	    !(p->base = strdup(info.parent && info.base ? info.base : info.id)))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	free(next);
	if (p->why[0]) {
		ms_changeset_free(p->cs);
		p->cs = NULL;
	}
	ms_snapshot_info_free(&info);
	ms_catalog_close(latest);
	return rc;
}

/* Every database and "db\ttable" of the selection, as the incremental snapshot names them. */
static int all_names(ms_catalog *src, const char *selection, incr_plan *p, ms_error *err)
{
	names all = { 0 };
	size_t i, j;
	int rc;

	if ((rc = ms_catalog_list_databases(src, sync_names_add, &all, err)) < 0)
		goto done;
	for (i = 0; i < all.n && rc == 0; i++) {
		names tn = { 0 };

		if (!ms_selection_match(selection, all.v[i]))
			continue;
		if ((rc = sync_names_add(all.v[i], &p->dbs, err)) < 0 ||
		    (rc = ms_catalog_list_tables(src, all.v[i], sync_names_add, &tn, err)) < 0) {
			sync_names_free(&tn);
			break;
		}
		for (j = 0; j < tn.n && rc == 0; j++) {
			char *k = NULL;

			if (asprintf(&k, "%s\t%s", all.v[i], tn.v[j]) < 0)
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			else
				rc = sync_names_add(k, &p->tables, err);
			free(k);
		}
		sync_names_free(&tn);
	}
done:
	sync_names_free(&all);
	return rc;
}

int incr_plan_make(ms_catalog *src, const char *store_url, const ms_export_options *opts,
		   incr_plan *p, ms_error *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if (!(ms_catalog_caps(src) & MS_CAP_CHANGE_FEED)) {
		if (opts->incremental)
			snprintf(p->why, sizeof(p->why), "source '%s' keeps no change feed",
				 ms_catalog_url(src));
		return 0;
	}
	/* where the feed stands before anything is read: the next incremental starts there */
	if (!opts->incremental)
		return ms_catalog_change_head(src, &p->head, err);
	if ((rc = follow_latest(src, store_url, opts, p, err)) < 0)
		return rc;
	if (!p->parent)
		return ms_catalog_change_head(src, &p->head, err);
	return all_names(src, opts->databases, p, err);
}

/* Does the source hold database db (table, partition vkey)?  1, 0, or an error. */
static int holds(ms_catalog *src, ms_kind kind, const char *db, const char *table, const char *vkey,
		 ms_error *err)
{
	ms_entity *e = NULL;
	ms_error e2;
	int rc = kind == MS_KIND_DATABASE ? ms_catalog_get_database(src, db, &e, &e2)
		 : kind == MS_KIND_TABLE  ? ms_catalog_get_table(src, db, table, &e, &e2)
					  : ms_catalog_get_partition(src, db, table, vkey, &e, &e2);

	ms_entity_free(e);
	if (rc == MS_ENOTFOUND)
		return 0;
	if (rc < 0) {
		*err = e2;
		return rc;
	}
	return 1;
}

/*
 * The deletes of the change set, as tombstones in the writer: what the
 * source no longer holds, and the tables whose partitions all changed (a
 * table tombstoned and written: its partitions here are all it has).
 */
int incr_write_tombstones(ms_catalog *src, ms_catalog *dst, const incr_plan *p,
			  const char *selection, ms_error *err)
{
	const ms_changeset *cs = p->cs;
	size_t i, j;
	int rc = 0, has;

	for (i = 0; i < cs->dbs.nslots && rc == 0; i++) {
		const ms_strmap_entry *e = &cs->dbs.slots[i];

		if (!e->key || !(e->tag & CS_DB_CHANGED) || !ms_selection_match(selection, e->key))
			continue;
		if ((has = holds(src, MS_KIND_DATABASE, e->key, NULL, NULL, err)) < 0)
			return has;
		if (!has || (e->tag & CS_DB_DROPPED))
			rc = ms_catalog_delete_database(dst, e->key, err);
	}
	for (i = 0; i < cs->nt && rc == 0; i++) {
		const cs_table *t = &cs->t[i];

		if (!ms_selection_match(selection, t->db))
			continue;
		if ((has = holds(src, MS_KIND_TABLE, t->db, t->table, NULL, err)) < 0)
			return has;
		if (!has || ms_changeset_whole(cs, t)) {
			rc = ms_catalog_delete_table(dst, t->db, t->table, err);
			continue;
		}
		for (j = 0; j < t->vkeys.nslots && rc == 0; j++) {
			const char *vkey = t->vkeys.slots[j].key;

			if (!vkey)
				continue;
			if ((has = holds(src, MS_KIND_PARTITION, t->db, t->table, vkey, err)) < 0)
				return has;
			if (!has)
				rc = ms_catalog_delete_partitions(dst, t->db, t->table, &vkey, 1,
								  err);
		}
	}
	return rc;
}
