/*
 * The engine: plan and apply.  One function makes a target catalog match a
 * source catalog; export, import and sync differ only in which catalogs they
 * hand it.  The run goes in phases so that nothing changes before every
 * guard has said yes:
 *
 *   1. plan tables: read source and target tables, map them, decide per table
 *      whether its partitions must be read (sync stamps make unchanged tables
 *      free);
 *   2. verify: ask the source to check the integrity of everything phase 4
 *      will read (a snapshot hashes its files against the manifest);
 *   3. guard: with --deletes mirror, count the deletes in a dry pass and
 *      refuse if there are more than --max-deletes, or if they would leave
 *      no replica of the source (an empty or mistaken source) unless
 *      --allow-empty-source;
 *   4. apply: databases, then each table with its partitions in one
 *      transaction, then views in dependency order, then mirror deletes.
 *
 * Ownership: every entity the engine writes carries metasync.replica-of; a
 * target entity without it (or with another source's) is never updated or
 * deleted unless the caller adopts it.  Phase 1 decides on plain reads;
 * phase 4 locks and reads each target database and table again inside the
 * transaction that writes it, so the decision holds at the write.
 *
 * Consistency: every read of the source, from phase 1 to the last scan, is
 * one read from one point in time (ms_catalog_read_begin), so a catalog
 * written meanwhile never gives a table of one moment with partitions of
 * another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "model/model_internal.h" /* ms_model_hive_type */
#include "report_internal.h"
#include "sync_internal.h"
#include "util/buf.h"
#include "util/clock.h"

#define DEFAULT_BATCH 1000

int sync_names_add(const char *name, void *ctx, ms_error *err)
{
	names *ns = ctx;

	if (ns->n == ns->alloc) {
		size_t na = ns->alloc ? ns->alloc * 2 : 16;
		char **nv = realloc(ns->v, na * sizeof(char *));
		if (!nv)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		ns->v = nv;
		ns->alloc = na;
	}
	if (!(ns->v[ns->n] = strdup(name)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ns->n++;
	return 0;
}

void sync_names_free(names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

int sync_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sync_names_has(const names *ns, const char *name)
{
	if (!ns->n)
		return 0;
	return bsearch(&name, ns->v, ns->n, sizeof(char *), sync_cmp_str) != NULL;
}

/* ---- markers ---------------------------------------------------------- */

static char *marker_value(const char *catalog, const char *db, const char *table)
{
	cJSON *a = cJSON_CreateArray();
	char *s;

	if (!a)
		return NULL;
	cJSON_AddItemToArray(a, cJSON_CreateString(catalog));
	cJSON_AddItemToArray(a, cJSON_CreateString(db));
	if (table)
		cJSON_AddItemToArray(a, cJSON_CreateString(table));
	s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return s;
}

/*
 * Parse a replica-of marker: fills catalog/db/table (new strings, table may
 * be NULL).  Returns 0, or -1 when the value is not a marker.
 */
static int marker_parse(const char *value, char **catalog, char **db, char **table)
{
	cJSON *a = value ? cJSON_Parse(value) : NULL;
	int n = a ? cJSON_GetArraySize(a) : 0, i;

	*catalog = *db = *table = NULL;
	if (!cJSON_IsArray(a) || n < 2 || n > 3) {
		cJSON_Delete(a);
		return -1;
	}
	for (i = 0; i < n; i++) {
		cJSON *s = cJSON_GetArrayItem(a, i);
		if (!cJSON_IsString(s)) {
			cJSON_Delete(a);
			return -1;
		}
	}
	*catalog = strdup(cJSON_GetArrayItem(a, 0)->valuestring);
	*db = strdup(cJSON_GetArrayItem(a, 1)->valuestring);
	if (n == 3)
		*table = strdup(cJSON_GetArrayItem(a, 2)->valuestring);
	cJSON_Delete(a);
	return 0;
}

/*
 * Is t a replica of this source?  Its marker names this source's catalog id
 * and, where both sides know one, its instance (two catalogs given one
 * catalog-id are two sources).  Fills *db and *table (new, may be NULL) from
 * the marker when db is not NULL; *why says why not (static).
 */
int sync_ours(const run *r, const ms_entity *t, char **db, char **table, const char **why)
{
	const char *inst = ms_entity_param(t, MS_MARKER_REPLICA_INSTANCE);
	const char *mine = ms_catalog_instance(r->src);
	char *cat = NULL, *d = NULL, *tb = NULL;
	int ok;

	if (db)
		*db = *table = NULL;
	if (marker_parse(ms_entity_param(t, MS_MARKER_REPLICA_OF), &cat, &d, &tb) < 0) {
		*why = "not a replica";
		return 0;
	}
	ok = strcmp(cat, ms_catalog_id(r->src)) == 0;
	*why = "replica of another source";
	if (ok && inst && mine && strcmp(inst, mine) != 0) {
		ok = 0;
		*why = "replica of another catalog with the same catalog id";
	}
	if (ok && db) {
		*db = d;
		*table = tb;
		d = tb = NULL;
	}
	free(cat);
	free(d);
	free(tb);
	return ok;
}

/*
 * May the engine write over this target entity?  Returns 1 and leaves
 * *reason NULL when it is a replica of this source; 1 with *reason saying
 * what it was when it is not but opts->adopt takes it over ("adopted: ...");
 * 0 with a static reason when not.
 */
int sync_owned(const run *r, const ms_entity *t, const char **reason)
{
	const char *why;

	*reason = NULL;
	if (sync_ours(r, t, NULL, NULL, &why))
		return 1;
	*reason = !r->o->adopt ? why
		  : strcmp(why, "not a replica") == 0
			  ? "adopted: it was not a replica"
			  : "adopted: it was a replica of another source";
	return r->o->adopt;
}

int sync_mark(run *r, ms_entity *e, const char *sdb, const char *st, ms_error *err)
{
	char *v;
	int rc;

	if (r->o->copy)
		return 0;
	if (!(v = marker_value(ms_catalog_id(r->src), sdb, st)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	rc = ms_entity_set_param(e, MS_MARKER_REPLICA_OF, v, err);
	free(v);
	/* which snapshot a target holds is the target's to say (sync_chain.c) */
	if (rc == 0)
		rc = ms_entity_set_param(e, MS_MARKER_SNAPSHOT, NULL, err);
	if (rc == 0 && ms_catalog_instance(r->src))
		rc = ms_entity_set_param(e, MS_MARKER_REPLICA_INSTANCE, ms_catalog_instance(r->src),
					 err);
	return rc;
}

/* Map a source entity in place to its target shape and rehash if needed. */
int sync_map_entity(run *r, ms_entity *e, ms_error *err)
{
	int changed = 0, rc;

	if ((rc = ms_mapping_apply(&r->map, e, &changed, err)) < 0)
		return rc;
	if (changed || !e->hashed)
		return ms_entity_rehash(e, err);
	return 0;
}

static void compute_stamp(run *r, table_plan *tp)
{
	unsigned char buf[12 + 2 * MS_HASH_LEN], out[SHA256_DIGEST_LENGTH];
	ms_buf b = MS_BUF_INIT((size_t)1 << 24);

	memcpy(buf, "ms-stamp-v1", 12);
	memcpy(buf + 12, tp->mapped->hash, MS_HASH_LEN);
	ms_digest_final(&tp->digest, buf + 12 + MS_HASH_LEN);
	ms_buf_add(&b, buf, sizeof(buf));
	ms_buf_adds(&b, r->map.fingerprint);
	SHA256((const unsigned char *)ms_buf_cstr(&b), b.len, out);
	ms_hex(out, MS_HASH_LEN, tp->stamp);
	ms_buf_free(&b);
}

/* ---- phase 1: plan tables --------------------------------------------- */

int sync_is_view(const ms_entity *e)
{
	const cJSON *t = e->doc ? cJSON_GetObjectItemCaseSensitive(e->doc, "TableType") : NULL;

	return cJSON_IsString(t) && strcmp(t->valuestring, "VIRTUAL_VIEW") == 0;
}

/*
 * A source table whose partition keys have types Hive does not know: told
 * once per table, with the AWS utility's habit (since 2025) of writing a
 * key's name as its type, whose true type no export holds.
 */
static void warn_key_types(run *r, const ms_entity *s)
{
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(s->doc, "PartitionKeys"), *k;
	const char *name = NULL, *type = NULL;
	int odd = 0;

	cJSON_ArrayForEach(k, keys)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(k, "Name"),
			    *t = cJSON_GetObjectItemCaseSensitive(k, "Type");

		if (!cJSON_IsString(t) || ms_model_hive_type(t->valuestring))
			continue;
		if (!odd++) {
			name = cJSON_IsString(n) ? n->valuestring : "?";
			type = t->valuestring;
		}
	}
	if (!odd)
		return;
	sync_warnf(r,
		   "%s.%s: partition key '%s' has type '%s'%s, which is no Hive type%s; it is "
		   "written as it is",
		   s->database, s->table, name, type, odd > 1 ? " (and more keys like it)" : "",
		   strcasecmp(name, type) == 0
			   ? " (the AWS utility's export writes a key's name as its type: the "
			     "true type is not in the export; set it in the source and export "
			     "again)"
			   : "");
}

static int plan_table(run *r, const char *sdb, const char *st, ms_error *err)
{
	table_plan *tp, *nt;
	ms_entity *s = NULL, *t = NULL;
	ms_error e2;
	const char *reason;
	int rc;

	nt = realloc(r->tables, (r->ntables + 1) * sizeof(*nt));
	if (!nt)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	r->tables = nt;
	tp = &r->tables[r->ntables];
	memset(tp, 0, sizeof(*tp));
	if (!(tp->sdb = strdup(sdb)) || !(tp->st = strdup(st))) {
		free(tp->sdb);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	r->ntables++;

	if ((rc = ms_catalog_get_table(r->src, sdb, st, &s, err)) < 0)
		return rc;
	tp->is_view = sync_is_view(s);
	warn_key_types(r, s);
	if ((rc = sync_map_entity(r, s, err)) < 0) {
		ms_entity_free(s);
		return rc;
	}
	tp->mapped = s;
	if ((rc = sync_mark(r, s, sdb, st, err)) < 0)
		return rc;
	ms_error_clear(&e2);
	rc = ms_catalog_get_table(r->dst, s->database, s->table, &t, &e2);
	if (rc < 0 && rc != MS_ENOTFOUND) {
		*err = e2;
		return rc;
	}
	if (rc == 0) {
		tp->target_exists = 1;
		tp->target_stamped = ms_entity_param(t, MS_MARKER_SYNCED) != NULL;
		memcpy(tp->target_hash, t->hash, MS_HASH_LEN);
		if (!sync_owned(r, t, &reason)) {
			tp->skip = 1;
			tp->skip_reason = strdup(reason);
		} else {
			tp->adopted = reason;
		}
	}
	/*
	 * A copy reads every partition anyway, and a change set's run reads
	 * only some: no stamps, so no digest.
	 */
	ms_error_clear(&e2);
	rc = r->o->copy || r->o->changes
		     ? MS_ENOTSUPPORTED
		     : ms_catalog_table_digest(r->src, sdb, st, &tp->digest, &e2);
	if (rc == 0)
		tp->have_digest = 1;
	else if (rc != MS_ENOTSUPPORTED) {
		*err = e2;
		ms_entity_free(t);
		return rc;
	}
	if (tp->have_digest && !r->o->copy) {
		compute_stamp(r, tp);
		if (t && !tp->skip && !tp->adopted && !r->o->full &&
		    memcmp(t->hash, s->hash, MS_HASH_LEN) == 0) {
			const char *old = ms_entity_param(t, MS_MARKER_SYNCED);
			tp->up_to_date = old && strcmp(old, tp->stamp) == 0;
		}
	}
	ms_entity_free(t);
	return 0;
}

static void plans_free(run *r)
{
	size_t i;

	for (i = 0; i < r->ntables; i++) {
		free(r->tables[i].sdb);
		free(r->tables[i].st);
		free(r->tables[i].skip_reason);
		ms_entity_free(r->tables[i].mapped);
	}
	free(r->tables);
	r->tables = NULL;
	r->ntables = 0;
}

/* ---- databases -------------------------------------------------------- */

static void mark_db_failed(run *r, const char *sdb)
{
	size_t i;

	for (i = 0; i < r->ntables; i++)
		if (strcmp(r->tables[i].sdb, sdb) == 0)
			r->tables[i].db_failed = 1;
}

/*
 * A database this run created holds nothing the run did not write (but
 * what others write meanwhile, never this source's stale replicas): the
 * look at stale replicas passes it by.  Forgetting one only costs a look.
 */
static void note_created(run *r, const char *tdb)
{
	ms_error e2;

	sync_lock(r);
	ms_error_clear(&e2);
	(void)sync_names_add(tdb, &r->top->created, &e2);
	sync_unlock(r);
}

/*
 * Write database s unless the target's is not ours or already equal.  When
 * applying, in a transaction with the target database locked and read again,
 * so that whose it is cannot change between the check and the write.  0, or
 * MS_ECONFLICT when another writer created it after the lock found nothing
 * (the caller looks again), or another code with err filled.
 */
static int write_database(run *r, ms_entity *s, ms_error *err)
{
	ms_entity *t = NULL;
	const char *reason = NULL;
	int rc, in_tx = r->apply && !r->o->copy;

	if (in_tx && ((rc = sync_begin_retrying(r, err)) < 0 ||
		      (rc = ms_catalog_lock(r->dst, s->database, NULL, err)) < 0))
		goto done;
	rc = ms_catalog_get_database(r->dst, s->database, &t, err);
	if (rc < 0 && rc != MS_ENOTFOUND)
		goto done;
	/* a write keeps the snapshot the target records, until the run records its own */
	if (t && !r->o->copy &&
	    (rc = ms_entity_set_param(s, MS_MARKER_SNAPSHOT, ms_entity_param(t, MS_MARKER_SNAPSHOT),
				      err)) < 0)
		goto done;
	rc = 0;
	if (t && !sync_owned(r, t, &reason)) {
		/* Tables may still be replicated into a database the target owns. */
		sync_event(r, MS_ACTION_SKIP, MS_KIND_DATABASE, s->database, NULL, NULL, reason);
	} else if (t && !reason && memcmp(t->hash, s->hash, MS_HASH_LEN) == 0 &&
		   (r->o->copy || ms_entity_param(t, MS_MARKER_REPLICA_OF))) {
		sync_event(r, MS_ACTION_UNCHANGED, MS_KIND_DATABASE, s->database, NULL, NULL, NULL);
	} else if (!r->apply || (rc = ms_catalog_put_database(r->dst, s, err)) == 0) {
		if (in_tx && (rc = ms_catalog_commit(r->dst, err)) < 0)
			goto done;
		in_tx = 0;
		if (!t && r->apply)
			note_created(r, s->database);
		sync_event(r, t ? MS_ACTION_UPDATE : MS_ACTION_CREATE, MS_KIND_DATABASE,
			   s->database, NULL, NULL, t ? reason : NULL);
		if (t && reason)
			sync_note_adopted(r, s->database, NULL, reason);
	}
done:
	if (in_tx)
		ms_catalog_rollback(r->dst, NULL);
	ms_entity_free(t);
	return rc;
}

static int sync_database(run *r, const char *sdb, ms_error *fatal)
{
	ms_entity *s = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	sync_lock(r); /* workers read the one source in turn */
	if ((rc = ms_catalog_get_database(r->src, sdb, &s, &err)) >= 0 &&
	    (rc = sync_map_entity(r, s, &err)) >= 0)
		rc = sync_mark(r, s, sdb, NULL, &err);
	sync_unlock(r);
	/*
	 * Named by a change set only for what is in it, and not there: an
	 * incremental snapshot holds the databases that changed, and a source
	 * read while a drop went through may list one it no longer holds (the
	 * next change set names the drop).  Its tables are still looked at.
	 */
	if (rc == MS_ENOTFOUND && r->o->changes &&
	    !(ms_changeset_db(r->o->changes, sdb) & CS_DB_CHANGED))
		return 0;
	if (rc < 0 ||
	    ((rc = write_database(r, s, &err)) == MS_ECONFLICT &&
	     (rc = write_database(r, s, &err)) < 0) ||
	    rc < 0) {
		if (rc == MS_ENOMEM)
			*fatal = err;
		sync_fail(r, MS_KIND_DATABASE, s ? s->database : sdb, NULL, NULL, &err);
		mark_db_failed(r, sdb);
	}
	ms_entity_free(s);
	return fatal->code == MS_ENOMEM ? MS_ENOMEM : 0;
}

/* ---- views in dependency order ---------------------------------------- */

static int mentions(const char *text, const char *word)
{
	size_t wl = strlen(word);
	const char *p = text;

	if (!text || !wl)
		return 0;
	while ((p = strcasestr(p, word)) != NULL) {
		int before = p == text || !(p[-1] == '_' || (p[-1] >= '0' && p[-1] <= '9') ||
					    ((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z'));
		char c = p[wl];
		int after = !(c == '_' || (c >= '0' && c <= '9') ||
			      ((c | 32) >= 'a' && (c | 32) <= 'z'));
		if (before && after)
			return 1;
		p += wl;
	}
	return 0;
}

static const char *view_text(const table_plan *tp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(tp->mapped->doc, "ViewExpandedText");

	if (!cJSON_IsString(v) || !*v->valuestring || strstr(v->valuestring, "Presto View"))
		v = cJSON_GetObjectItemCaseSensitive(tp->mapped->doc, "ViewOriginalText");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * The views in an order where each comes after the views it mentions, and
 * in levels: *level_end (new, *nlevels entries) holds where each level ends
 * in the order; the views of one level do not mention each other.
 */
static size_t *view_order(run *r, size_t *nout, size_t **level_end, size_t *nlevels)
{
	size_t *views, n = 0, i, j, k, *order, no = 0, *ends;
	char *placed;

	views = malloc((r->ntables + 1) * sizeof(size_t));
	order = malloc((r->ntables + 1) * sizeof(size_t));
	ends = malloc((r->ntables + 1) * sizeof(size_t));
	placed = calloc(r->ntables + 1, 1);
	*nlevels = 0;
	if (!views || !order || !placed || !ends) {
		free(views);
		free(order);
		free(ends);
		free(placed);
		return NULL;
	}
	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].is_view)
			views[n++] = i;
	while (no < n) {
		int progressed = 0;

		for (i = 0; i < n; i++) {
			table_plan *v = &r->tables[views[i]];
			const char *text = view_text(v);
			int ready = 1;

			if (placed[i])
				continue;
			for (j = 0; j < n && ready; j++) {
				table_plan *w = &r->tables[views[j]];
				/* placed in an earlier level (1), not in this one (2) */
				if (j == i || placed[j] == 1)
					continue;
				if (mentions(text, w->mapped->table) &&
				    (strcmp(w->mapped->database, v->mapped->database) == 0 ||
				     mentions(text, w->mapped->database)))
					ready = 0;
			}
			if (ready) {
				placed[i] = 2;
				order[no++] = views[i];
				progressed = 1;
			}
		}
		for (k = 0; k < n; k++)
			if (placed[k] == 2)
				placed[k] = 1;
		if (progressed)
			ends[(*nlevels)++] = no;
		if (!progressed) {
			/* A cycle: keep source order for the rest, one at a time. */
			for (k = 0; k < n; k++)
				if (!placed[k]) {
					placed[k] = 1;
					order[no++] = views[k];
					ends[(*nlevels)++] = no;
				}
		}
	}
	free(views);
	free(placed);
	*nout = n;
	*level_end = ends;
	return order;
}

/* ---- the run ---------------------------------------------------------- */

static void reset_counts(ms_report *rep)
{
	memset(&rep->databases, 0, sizeof(rep->databases));
	memset(&rep->tables, 0, sizeof(rep->tables));
	memset(&rep->partitions, 0, sizeof(rep->partitions));
}

/* Between tables (each its own transaction): was the run asked to stop? */
static int stopped(run *r, ms_error *err)
{
	if (r->apply && r->o->stop && *r->o->stop)
		return ms_error_set(err, MS_ERROR, "stopped between tables: a re-run finishes");
	return 0;
}

static int plan_ref(const run *r, const table_plan *tp, ms_table_ref *ref)
{
	if (tp->db_failed || tp->skip || tp->up_to_date || sync_points_only(r, tp))
		return 0;
	ref->database = tp->sdb;
	ref->table = tp->st;
	return 1;
}

/*
 * Tell the source which tables' partitions this pass will scan, in order, so
 * that it can read ahead: the tables, then the views level by level (a view
 * is scanned like a table; what it holds is most often nothing, which a
 * remote source answers no faster).
 */
static int plan_scans(run *r, const size_t *views, size_t nviews, ms_error *err)
{
	ms_table_ref *refs = calloc(r->ntables + 1, sizeof(*refs));
	size_t i, n = 0;
	int rc;

	if (!refs)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < r->ntables; i++)
		if (!r->tables[i].is_view)
			n += (size_t)plan_ref(r, &r->tables[i], &refs[n]);
	for (i = 0; i < nviews; i++)
		n += (size_t)plan_ref(r, &r->tables[views[i]], &refs[n]);
	rc = ms_catalog_plan_scans(r->src, refs, n, err);
	free(refs);
	return rc;
}

/* Report a --database-names pattern that selects nothing. */
static void unmatched_pattern(const char *pattern, void *ctx)
{
	run *r = ctx;

	sync_warnf(r, "--database-names '%s': matches no database in '%s'", pattern,
		   ms_catalog_url(r->src));
}

/* A source identified by where it is, not by a name it was given: say so. */
static void implicit_identity(run *r)
{
	if (ms_catalog_id_is_implicit(r->src))
		sync_warnf(r,
			   "source '%s': has no catalog-id, so its replicas are tied to '%s' (add "
			   "?catalog-id=ID to the URL to give it a name that moving the file "
			   "keeps)",
			   ms_catalog_url(r->src), ms_catalog_id(r->src));
}

/* The source tables whose replicas the target keeps (or gets) in this run. */
static size_t kept_replicas(const run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->ntables; i++)
		n += !r->tables[i].skip && !r->tables[i].db_failed;
	return n;
}

/*
 * Before any table is read: record the target names of the selected
 * databases (r->tdbs); two selected source databases mapped to one
 * target name is a usage error naming both; a rename of a database that is
 * not selected is a warning; a target that is the source itself is refused
 * when a mapped name would be read back as a source database.
 */
static int check_mapped_databases(run *r, const names *all, ms_error *err)
{
	names mapped = { 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < r->dbs.n && rc == 0; i++) {
		char *m = ms_mapping_database(&r->map, r->dbs.v[i]);
		ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);

		if (!m)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		ms_buf_printf(&b, "%s\t%s", m, r->dbs.v[i]);
		rc = sync_names_add(ms_buf_cstr(&b), &mapped, err);
		ms_buf_free(&b);
		free(m);
	}
	if (rc == 0 && mapped.n)
		qsort(mapped.v, mapped.n, sizeof(char *), sync_cmp_str);
	/* "tdb\tsdb" sorts as tdb does ('\t' is below every character of a name) */
	for (i = 0; i < mapped.n && rc == 0; i++) {
		char *tdb = strndup(mapped.v[i], strcspn(mapped.v[i], "\t"));

		rc = tdb ? sync_names_add(tdb, &r->tdbs, err)
			 : ms_error_set(err, MS_ENOMEM, "out of memory");
		free(tdb);
	}
	for (i = 1; i < mapped.n && rc == 0; i++) {
		size_t l = strcspn(mapped.v[i], "\t");

		if (strncmp(mapped.v[i - 1], mapped.v[i], l + 1) == 0)
			rc = ms_error_set(err, MS_EUSAGE,
					  "source databases '%s' and '%s' both map to target "
					  "database "
					  "'%.*s': change a rename or the selection",
					  mapped.v[i - 1] + l + 1, mapped.v[i] + l + 1, (int)l,
					  mapped.v[i]);
	}
	for (i = 0; i < r->map.nrenames && rc == 0; i++) {
		size_t j;

		if (sync_names_has(&r->dbs, r->map.rename_from[i]))
			continue;
		for (j = 0; j < all->n && strcmp(all->v[j], r->map.rename_from[i]) != 0; j++)
			;
		sync_warnf(r, "rename '%s': %s '%s'", r->map.rename_text[i],
			   j < all->n ? "the selection leaves out" : "no source database",
			   r->map.rename_from[i]);
	}
	if (rc == 0 && !r->o->copy && strcmp(ms_catalog_id(r->src), ms_catalog_id(r->dst)) == 0) {
		for (i = 0; i < mapped.n && rc == 0; i++) {
			size_t l = strcspn(mapped.v[i], "\t");
			char *tdb = strndup(mapped.v[i], l);

			if (tdb && ms_selection_match(r->o->databases, tdb) &&
			    ms_selection_match(ms_catalog_selection(r->src), tdb))
				rc = ms_error_set(
					err, MS_EREFUSED,
					"source and target are one catalog ('%s'): target "
					"database '%s' (from '%s') would be read back as a "
					"source; select the source databases with "
					"--database-names so that none of the target's matches",
					ms_catalog_id(r->src), tdb, mapped.v[i] + l + 1);
			free(tdb);
		}
		if (rc == MS_EREFUSED)
			r->rep->status = MS_STATUS_REFUSED;
	}
	sync_names_free(&mapped);
	return rc;
}

/*
 * The tables of the selected databases, sorted by database then name, as
 * two parallel lists; the mapping learns them (views' unqualified names).
 */
static int list_source_tables(run *r, names *dbs, names *tables, ms_error *err)
{
	size_t i, j;
	int rc;

	for (i = 0; i < r->dbs.n; i++) {
		names tn = { 0 };

		if ((rc = ms_catalog_list_tables(r->src, r->dbs.v[i], sync_names_add, &tn, err)) <
		    0) {
			sync_names_free(&tn);
			return rc;
		}
		if (tn.n)
			qsort(tn.v, tn.n, sizeof(char *), sync_cmp_str);
		for (j = 0; j < tn.n; j++)
			if ((rc = sync_names_add(r->dbs.v[i], dbs, err)) < 0 ||
			    (rc = sync_names_add(tn.v[j], tables, err)) < 0) {
				sync_names_free(&tn);
				return rc;
			}
		sync_names_free(&tn);
	}
	return ms_mapping_set_tables(&r->map, (const char *const *)dbs->v,
				     (const char *const *)tables->v, tables->n, err);
}

/*
 * A location rewrite that rewrote nothing is a warning, when this run read
 * every location (no table skipped its partitions as up to date; changing
 * the rules makes every stamp stale, so a new rule is always checked).
 */
static void unmatched_rewrites(run *r)
{
	size_t i;

	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].up_to_date)
			return;
	for (i = 0; i < r->map.nrewrites; i++)
		if (!r->map.rw[i].hits)
			sync_warnf(r,
				   "location rewrite '%s': matches no location in the selected "
				   "databases",
				   r->map.rw[i].text);
}

/* Phase 4 (or its dry-run twin when r->apply is 0). */
static int database_item(run *r, size_t i, ms_error *fatal)
{
	return sync_database(r, r->dbs.v[i], fatal);
}

static int table_item(run *r, size_t i, ms_error *fatal)
{
	return sync_table(r, &r->tables[i], fatal);
}

/*
 * fn for the n items, several at a time where the target allows it
 * (sync_parallel), else one at a time in order.
 */
static int each_item(run *r, const size_t *items, size_t n, sync_item_fn fn, ms_error *err)
{
	size_t i;
	int rc;

	if ((rc = sync_parallel(r, items, n, fn, err)) != 1)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = stopped(r, err)) < 0 || (rc = fn(r, items[i], err)) < 0)
			return rc;
	return 0;
}

/* The views (view_order), level by level (those of a level mention none of each other). */
static int sync_views(run *r, const size_t *views, const size_t *ends, size_t nlevels,
		      ms_error *err)
{
	size_t l, from = 0;
	int rc = 0;

	for (l = 0; l < nlevels && rc == 0; l++) {
		rc = each_item(r, views + from, ends[l] - from, table_item, err);
		from = ends[l];
	}
	return rc;
}

/* Does the plan hold a table of source database sdb? */
static int plans_in(const run *r, const char *sdb)
{
	size_t i;

	for (i = 0; i < r->ntables; i++)
		if (strcmp(r->tables[i].sdb, sdb) == 0)
			return 1;
	return 0;
}

static int pass(run *r, ms_error *err)
{
	size_t i, n = 0, *items, *views = NULL, *ends = NULL, nviews = 0, nlevels = 0;
	int rc;

	r->deletes = 0;
	r->done = 0;
	/* the views' order serves the plan of scans and their writing */
	if (!(items = calloc(r->dbs.n + r->ntables + 1, sizeof(size_t))) ||
	    !(views = view_order(r, &nviews, &ends, &nlevels))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	/* a change set's run writes the databases it names, and those of the tables it plans */
	for (i = 0; i < r->dbs.n; i++)
		if (!r->o->changes || ms_changeset_db(r->o->changes, r->dbs.v[i]) ||
		    plans_in(r, r->dbs.v[i]))
			items[n++] = i;
	if ((rc = each_item(r, items, n, database_item, err)) < 0 ||
	    (rc = plan_scans(r, views, nviews, err)) < 0)
		goto done;
	for (n = i = 0; i < r->ntables; i++)
		if (!r->tables[i].is_view)
			items[n++] = i;
	if ((rc = each_item(r, items, n, table_item, err)) >= 0)
		rc = sync_views(r, views, ends, nlevels, err);
	/* the plan is spent (or abandoned): the source stops reading ahead */
	ms_catalog_plan_scans(r->src, NULL, 0, NULL);
	if (rc < 0)
		goto done;
	if (!r->o->copy)
		rc = r->o->changes ? sync_stale_changed(r, err) : sync_stale_replicas(r, err);
done:
	free(items);
	free(views);
	free(ends);
	return rc;
}

/*
 * Before phase 1: the selected source databases (r->dbs, sorted) out of
 * *all, the warnings about the selection and the identity, and the mapped
 * names checked (check_mapped_databases).
 */
static int select_databases(run *r, names *all, ms_error *err)
{
	const ms_sync_options *opts = r->o;
	size_t i;
	int rc;

	if ((rc = ms_catalog_list_databases(r->src, sync_names_add, all, err)) < 0)
		return rc;
	for (i = 0; i < all->n; i++)
		if (ms_selection_match(opts->databases, all->v[i]) &&
		    (rc = sync_names_add(all->v[i], &r->dbs, err)) < 0)
			return rc;
	if (r->dbs.n)
		qsort(r->dbs.v, r->dbs.n, sizeof(char *), sync_cmp_str);
	/* a change set's run is one of many: the whole run that came first warned */
	if (!opts->changes) {
		implicit_identity(r);
		ms_selection_unmatched(opts->databases, (const char *const *)all->v, all->n,
				       unmatched_pattern, r);
	}
	if ((rc = ms_mapping_set_databases(&r->map, (const char *const *)r->dbs.v, r->dbs.n, err)) <
	    0)
		return rc;
	return check_mapped_databases(r, all, err);
}

/* Is source table sdb.st a view?  0 also when it cannot be read (phase 1 tells). */
static int source_view(run *r, const char *sdb, const char *st)
{
	ms_entity *t = NULL;
	ms_error e2;
	int view = ms_catalog_get_table(r->src, sdb, st, &t, &e2) == 0 && sync_is_view(t);

	ms_entity_free(t);
	return view;
}

/*
 * Phase 1: plan every table of the selected databases (sdbs and stables:
 * their names), or those a change set names, with every view when it puts
 * or deletes a database or table (a view's text maps to the names that
 * exist).
 */
static int plan_tables(run *r, names *sdbs, names *stables, ms_error *err)
{
	const ms_changeset *cs = r->o->changes;
	int views = cs && ms_changeset_names_change(cs);
	size_t i;
	int rc;

	if ((rc = list_source_tables(r, sdbs, stables, err)) < 0)
		return rc;
	for (i = 0; i < stables->n; i++) {
		if (cs && !ms_changeset_table(cs, sdbs->v[i], stables->v[i]) &&
		    !(views && source_view(r, sdbs->v[i], stables->v[i])))
			continue;
		rc = plan_table(r, sdbs->v[i], stables->v[i], err);
		/*
		 * A change set's table the source no longer holds (an incremental
		 * snapshot whose table went between its list of names and its
		 * copy): left to the change set that deletes it.
		 */
		if (rc == MS_ENOTFOUND && cs && !r->tables[r->ntables - 1].mapped) {
			r->ntables--;
			free(r->tables[r->ntables].sdb);
			free(r->tables[r->ntables].st);
			ms_error_clear(err);
			continue;
		}
		if (rc < 0) {
			ms_error_prefix(err, "table '%s.%s': ", sdbs->v[i], stables->v[i]);
			return rc;
		}
	}
	return 0;
}

/* Phase 2: the source's integrity, before anything changes; counts the work to do. */
static int verify_source(run *r, ms_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < r->ntables; i++) {
		table_plan *tp = &r->tables[i];
		if (tp->skip || tp->up_to_date)
			continue;
		if (tp->have_digest)
			r->total += tp->digest.count;
		if ((rc = ms_catalog_verify_table(r->src, tp->sdb, tp->st, err)) < 0) {
			if (rc == MS_EINTEGRITY)
				r->rep->status = MS_STATUS_REFUSED;
			return rc;
		}
	}
	return 0;
}

/*
 * Phase 3: with mirror deletes, a quiet dry pass counts the deletes; more
 * than --max-deletes, or every replica of the source gone without
 * --allow-empty-source, is refused (MS_EREFUSED), or for a plan written
 * into refusal[n] to be shown.  The pass's counts and errors are dropped.
 */
static int guard_deletes(run *r, char *refusal, size_t n, ms_error *err)
{
	const ms_sync_options *opts = r->o;
	ms_sync_options quiet;
	ms_error e2;
	int rc, empty_guard = !opts->allow_empty_source && !opts->changes && kept_replicas(r) == 0;

	if (opts->deletes != MS_DELETES_MIRROR || opts->copy ||
	    (opts->max_deletes < 0 && !empty_guard))
		return 0;
	quiet = *opts;
	quiet.on_change = NULL;
	r->o = &quiet;
	r->apply = 0;
	ms_error_clear(&e2);
	rc = pass(r, &e2);
	r->o = opts;
	if (rc < 0) {
		*err = e2;
		return rc;
	}
	if (opts->max_deletes >= 0 && r->deletes > opts->max_deletes)
		snprintf(refusal, n,
			 "plan would delete %lld entities, more than --max-deletes %lld",
			 r->deletes, opts->max_deletes);
	else if (empty_guard && r->deletes > 0)
		snprintf(refusal, n,
			 "plan would delete every replica of '%s' (%lld entities): "
			 "the source has no table to replicate%s; give "
			 "--allow-empty-source if that is meant",
			 ms_catalog_url(r->src), r->deletes,
			 opts->databases && *opts->databases ? " in the selected databases" : "");
	/* A plan shows what it would refuse; a run refuses with the counts it would do. */
	if (*refusal && !opts->dry_run) {
		r->rep->status = MS_STATUS_REFUSED;
		return ms_error_set(err, MS_EREFUSED, "%s", refusal);
	}
	reset_counts(r->rep);
	ms_report_clear_errors(r->rep);
	return 0;
}

/* Phase 4 and the report's status; refusal is phase 3's for a plan, or NULL. */
static int apply(run *r, const char *refusal, ms_error *err)
{
	const ms_sync_options *opts = r->o;
	unsigned long long all;
	int rc;

	r->apply = !opts->dry_run;
	r->final = 1;
	if ((rc = pass(r, err)) < 0)
		return rc;
	if (!opts->changes)
		unmatched_rewrites(r);
	all = r->total > r->done ? r->total : r->done;
	if (r->apply && opts->progress)
		opts->progress(all, all, opts->ctx);
	r->rep->status = (r->rep->databases.failed || r->rep->tables.failed ||
			  r->rep->partitions.failed)
				 ? MS_STATUS_PARTIAL
				 : MS_STATUS_OK;
	if (r->rep->status == MS_STATUS_OK && r->apply &&
	    ((rc = sync_chain_record(r, err)) < 0 || (rc = ms_catalog_finish(r->dst, err)) < 0))
		return rc;
	if (refusal) {
		sync_add_error(r, ms_catalog_url(r->dst), NULL, NULL, refusal);
		r->rep->status = MS_STATUS_REFUSED;
	}
	if (opts->copy && r->rep->status != MS_STATUS_OK)
		return ms_error_set(err, MS_ERROR, "%zu entities could not be copied",
				    r->rep->nerrors ? r->rep->nerrors : 1);
	return 0;
}

int ms_sync(ms_catalog *source, ms_catalog *target, const ms_sync_options *opts, ms_report **report,
	    ms_error *err)
{
	run r;
	names all = { 0 }, sdbs = { 0 }, stables = { 0 };
	char refusal[512] = "";
	double t0 = ms_mono_s();
	int rc, reading = 0;

	memset(&r, 0, sizeof(r));
	r.top = &r;
	r.src = source;
	r.dst = target;
	r.o = opts;
	r.transactional = (ms_catalog_caps(target) & MS_CAP_TRANSACTIONS) != 0;
	r.batch = ms_catalog_max_batch(target) ? ms_catalog_max_batch(target) : DEFAULT_BATCH;
	if (r.batch > DEFAULT_BATCH)
		r.batch = DEFAULT_BATCH;
	if (!(r.rep = calloc(1, sizeof(*r.rep))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	r.rep->dry_run = opts->dry_run;
	if ((rc = ms_mapping_init(&r.map, opts, err)) < 0)
		goto done;

	/* Every read of the source from one point in time (released at done). */
	if ((rc = ms_catalog_read_begin(source, err)) < 0)
		goto done;
	reading = 1;
	if ((rc = select_databases(&r, &all, err)) < 0 || (rc = sync_chain_check(&r, err)) < 0 ||
	    (rc = plan_tables(&r, &sdbs, &stables, err)) < 0 || (rc = verify_source(&r, err)) < 0 ||
	    (rc = guard_deletes(&r, refusal, sizeof(refusal), err)) < 0)
		goto done;
	rc = apply(&r, *refusal ? refusal : NULL, err);
done:
	sync_workers_free(&r);
	if (reading)
		ms_catalog_read_end(source);
	if (rc < 0 && r.rep->status != MS_STATUS_REFUSED)
		r.rep->status = MS_STATUS_ERROR;
	r.rep->seconds = ms_mono_s() - t0;
	plans_free(&r);
	sync_names_free(&all);
	sync_names_free(&sdbs);
	sync_names_free(&stables);
	sync_names_free(&r.tdbs);
	sync_names_free(&r.created);
	sync_names_free(&r.dbs);
	ms_mapping_free(&r.map);
	*report = r.rep;
	return rc;
}
