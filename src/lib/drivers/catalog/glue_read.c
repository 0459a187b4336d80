/*
 * Reads of the glue:// driver.  Listings page through GetDatabases and
 * GetTables (a listing's tables are kept, each served once to the get_table
 * that follows, with the VersionId an update will name).  A table's
 * partitions come from GetPartitions: one page first; a table with more
 * than a page is read again as `segments` segments in parallel (Glue's
 * Segment), skipping the partitions the first page gave; while a rate
 * holds requests back (throttling seen, or rate=), by fewer segments, as
 * each costs a partial page of its own.  Partitions are
 * read whole (not ExcludeColumnSchema: a partition's own columns can differ
 * from its table's).
 */
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"

#define PAGE 100
#define PARTITION_PAGE 1000
/* While a page is delivered, the transfers in flight move on after this many partitions. */
#define PROGRESS_EVERY 64

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/* A request body with CatalogId and the given names (NULL ends; pairs). */
static cJSON *body_with(glue_catalog *g, const char *k1, const char *v1, const char *k2,
			const char *v2)
{
	cJSON *b = cJSON_CreateObject();

	if (!b || gc_add_catalog_id(g, b) < 0 || (k1 && !cJSON_AddStringToObject(b, k1, v1)) ||
	    (k2 && !cJSON_AddStringToObject(b, k2, v2))) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* An entity from one item of an answer (detached from it here). */
static int make_entity(glue_catalog *g, ms_kind kind, cJSON *parent, cJSON *item, const char *db,
		       const char *table, ms_entity **out, ms_error *err)
{
	int rc;

	if (parent)
		cJSON_DetachItemViaPointer(parent, item);
	gc_stash_take(item);
	rc = ms_entity_from_glue(out, kind, item, db, table, err);
	if (rc < 0)
		ms_error_prefix(err, "%s: ", g->subject);
	return rc;
}

static int list_page(glue_catalog *g, const char *db, cJSON *ans, ms_name_cb cb, void *ctx,
		     ms_error *err);

/*
 * Every page of the databases (db NULL: GetDatabases) or of db's tables
 * (GetTables) through list_page; the listing is then known in full.
 */
static int list_all(glue_catalog *g, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	char what[MS_NAME_MAX + 32], *token = NULL;
	int rc = 0;

	if (db)
		snprintf(what, sizeof(what), "the tables of database '%s'", db);
	else
		snprintf(what, sizeof(what), "the databases");
	do {
		cJSON *b = body_with(g, db ? "DatabaseName" : NULL, db, token ? "NextToken" : NULL,
				     token),
		      *ans;
		const cJSON *next;

		free(token);
		token = NULL;
		if (!b || !cJSON_AddNumberToObject(b, "MaxResults", PAGE)) {
			cJSON_Delete(b);
			return oom(err);
		}
		if ((rc = gc_call(&g->http, db ? "GetTables" : "GetDatabases", b, &ans, what,
				  err)) < 0)
			return rc;
		rc = list_page(g, db, ans, cb, ctx, err);
		next = cJSON_GetObjectItemCaseSensitive(ans, "NextToken");
		if (rc == 0 && cJSON_IsString(next) && next->valuestring[0] &&
		    !(token = strdup(next->valuestring)))
			rc = oom(err);
		cJSON_Delete(ans);
	} while (rc == 0 && token);
	free(token);
	if (rc == 0 && gc_listed_mark(g, db) < 0)
		rc = oom(err);
	return rc;
}

int gc_list_databases(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err)
{
	return list_all((glue_catalog *)self, NULL, cb, ctx, err);
}

int gc_get_database(ms_catalog *self, const char *name, ms_entity **out, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	cJSON *b, *ans, *doc;
	char what[MS_NAME_MAX + 16];
	int rc;

	snprintf(what, sizeof(what), "database '%s'", name);
	rc = gc_listed_take(g, name, NULL, out);
	/*
	 * A clone's listing may be older than a database another instance of
	 * the run wrote since: that it has none is asked of Glue again.
	 */
	if (rc == 0 && g->is_clone)
		rc = -1;
	if (rc < 0 && !gc_listed_known(g, NULL) && !g->dbs_listed) {
		/* the first read: one listing answers for every database */
		g->dbs_listed = 1;
		if ((rc = gc_list_databases(self, NULL, NULL, err)) < 0)
			return rc;
		rc = gc_listed_take(g, name, NULL, out);
	}
	if (rc >= 0)
		return rc ? 0
			  : ms_error_set(err, MS_ENOTFOUND, "%s: %s does not exist", g->subject,
					 what);
	if (!(b = body_with(g, "Name", name, NULL, NULL)))
		return oom(err);
	if ((rc = gc_call(&g->http, "GetDatabase", b, &ans, what, err)) < 0) {
		if (rc == MS_ENOTFOUND)
			gc_listed_seen(g, name, 0);
		return rc;
	}
	gc_listed_seen(g, name, 1);
	doc = cJSON_GetObjectItemCaseSensitive(ans, "Database");
	if (!cJSON_IsObject(doc))
		rc = ms_error_set(err, MS_EBACKEND, "%s: GetDatabase of %s answered no Database",
				  g->subject, what);
	else
		rc = make_entity(g, MS_KIND_DATABASE, ans, doc, name, NULL, out, err);
	cJSON_Delete(ans);
	return rc;
}

/* Keep a listed table (stolen) for the get_table that follows, and its VersionId. */
static int keep_listed(glue_catalog *g, ms_entity *t)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->doc, "VersionId");
	int rc;

	if ((rc = gc_version_set(g, t->database, t->table,
				 cJSON_IsString(v) ? v->valuestring : NULL)) < 0)
		return rc;
	return gc_listed_keep(g, t);
}

/*
 * The databases (db NULL) or db's tables of one listing page: each to cb
 * (may be NULL) by name, then kept for the reads that follow.
 */
static int list_page(glue_catalog *g, const char *db, cJSON *ans, ms_name_cb cb, void *ctx,
		     ms_error *err)
{
	ms_kind kind = db ? MS_KIND_TABLE : MS_KIND_DATABASE;
	cJSON *list = cJSON_GetObjectItemCaseSensitive(ans, db ? "TableList" : "DatabaseList"), *it;
	int rc = 0;

	while (rc == 0 && list && (it = list->child)) {
		ms_entity *e = NULL;

		if ((rc = make_entity(g, kind, list, it, db, NULL, &e, err)) < 0)
			break;
		if (cb && (rc = cb(db ? e->table : e->database, ctx, err)) != 0) {
			ms_entity_free(e);
			break;
		}
		if ((rc = db ? keep_listed(g, e) : gc_listed_keep(g, e)) < 0) {
			ms_entity_free(e);
			rc = oom(err);
		}
	}
	return rc;
}

static void prefetch_tables(glue_catalog *g, int all);

int gc_list_tables(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	int rc;

	/*
	 * A source listed database after database: all of them at once, in
	 * parallel.  Not a clone: the run hands it one database at a time.
	 */
	if (cb && !g->wrote && !g->cloned && !g->is_clone) {
		if (!gc_listed_known(g, db))
			prefetch_tables(g, 0);
		if ((rc = gc_listed_names(g, db, cb, ctx, err)) != 1)
			return rc;
	}
	return list_all(g, db, cb, ctx, err);
}

/* One database's first page of tables came back: keep it; listed in full when it was all. */
static void prefetched(gc_client *c, gc_req *r)
{
	glue_catalog *g = r->ctx;
	cJSON *ans;
	const cJSON *next;
	char db[MS_NAME_MAX + 1];
	ms_error err;

	(void)c;
	ms_error_clear(&err);
	if (gc_answer(&g->http, r, "the tables", &ans, &err) < 0)
		return; /* asked again one by one */
	next = cJSON_GetObjectItemCaseSensitive(ans, "NextToken");
	snprintf(db, sizeof(db), "%s", r->tag ? r->tag : "");
	ms_error_clear(&err);
	if (list_page(g, db, ans, NULL, NULL, &err) == 0 &&
	    !(cJSON_IsString(next) && next->valuestring[0]))
		gc_listed_mark(g, db);
	cJSON_Delete(ans);
}

/*
 * With the databases listed: the first page of tables of every listed
 * database not yet listed, all in flight at once, so that planning a run
 * over many databases costs one round trip, not one per database.
 */
static void prefetch_tables(glue_catalog *g, int all)
{
	char *dbs[256];
	gc_req *reqs[256];
	size_t n, i;
	ms_error err;

	if (!gc_listed_known(g, NULL))
		return;
	n = gc_listed_dbs(g, all, dbs, 256);
	for (i = 0; i < n; i++) {
		cJSON *b = body_with(g, "DatabaseName", dbs[i], NULL, NULL);
		char *text = b && cJSON_AddNumberToObject(b, "MaxResults", PAGE)
				     ? cJSON_PrintUnformatted(b)
				     : NULL;

		cJSON_Delete(b);
		reqs[i] = text ? gc_req_new("GetTables", text) : NULL;
		if (reqs[i] && !(reqs[i]->tag = strdup(dbs[i]))) {
			gc_req_free(reqs[i]);
			reqs[i] = NULL;
		}
		if (reqs[i])
			gc_submit(&g->http, reqs[i]);
	}
	ms_error_clear(&err);
	for (i = 0; i < n; i++) {
		if (!reqs[i])
			continue;
		if (!reqs[i]->done)
			gc_pump(&g->http, gc_req_pending, reqs[i], &err);
		if (reqs[i]->done) {
			reqs[i]->ctx = g;
			prefetched(&g->http, reqs[i]);
			gc_req_free(reqs[i]);
		}
	}
}

int gc_get_table(ms_catalog *self, const char *db, const char *name, ms_entity **out, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	char what[2 * MS_NAME_MAX + 16];
	int rc;

	snprintf(what, sizeof(what), "table '%s.%s'", db, name);
	rc = gc_listed_take(g, db, name, out);
	if (rc < 0 && !gc_listed_known(g, NULL) && !g->dbs_listed) {
		/* the first read: one listing of the databases says which exist */
		g->dbs_listed = 1;
		if ((rc = gc_list_databases(self, NULL, NULL, err)) < 0)
			return rc;
		rc = gc_listed_take(g, db, name, out);
	}
	if (rc < 0 && !gc_listed_known(g, db)) {
		/*
		 * The first read in db: listings answer for all its tables, and
		 * other databases' (the run's planning reads them all); a clone
		 * writes a table at a time, wherever the run sends it, and lists
		 * only the database it reads.
		 */
		if (!g->is_clone)
			prefetch_tables(g, 0);
		if (!gc_listed_known(g, db) &&
		    (rc = gc_list_tables(self, db, NULL, NULL, err)) < 0) {
			if (rc != MS_ENOTFOUND)
				return rc;
			/* no database: no table in it either, until it is written */
			gc_listed_database(g, db, 0, 0);
		}
		rc = gc_listed_take(g, db, name, out);
	}
	if (rc >= 0)
		return rc ? 0
			  : ms_error_set(err, MS_ENOTFOUND, "%s: %s does not exist", g->subject,
					 what);
	return gc_asked_table(g, gc_ask_table(g, db, name), db, name, out, err);
}

gc_req *gc_ask_table(glue_catalog *g, const char *db, const char *name)
{
	cJSON *b = body_with(g, "DatabaseName", db, "Name", name);

	return b ? gc_ask(&g->http, "GetTable", b) : NULL;
}

int gc_asked_table(glue_catalog *g, gc_req *r, const char *db, const char *name, ms_entity **out,
		   ms_error *err)
{
	char what[2 * MS_NAME_MAX + 16];
	cJSON *ans, *doc;
	const cJSON *v;
	int rc;

	snprintf(what, sizeof(what), "table '%s.%s'", db, name);
	if (!r)
		return oom(err);
	if ((rc = gc_asked(&g->http, r, &ans, what, err)) < 0) {
		if (rc == MS_ENOTFOUND)
			gc_version_set(g, db, name, NULL);
		return rc;
	}
	doc = cJSON_GetObjectItemCaseSensitive(ans, "Table");
	v = cJSON_GetObjectItemCaseSensitive(doc, "VersionId");
	if (!cJSON_IsObject(doc))
		rc = ms_error_set(err, MS_EBACKEND, "%s: GetTable of %s answered no Table",
				  g->subject, what);
	else if ((rc = gc_version_set(g, db, name, cJSON_IsString(v) ? v->valuestring : NULL)) < 0)
		rc = oom(err);
	else
		rc = make_entity(g, MS_KIND_TABLE, ans, doc, db, NULL, out, err);
	cJSON_Delete(ans);
	return rc;
}

/* ---- partitions ----------------------------------------------------------- */

typedef struct scan {
	glue_catalog *g;
	const char *db, *table;
	ms_entity_cb cb;
	void *ctx;
	ms_strmap first; /* vkeys the first page gave (segmented reads skip them) */
	int segmented;
	int total; /* the segments it is read by */
	int stop;  /* the callback's non-zero return, or an error */
	ms_error *err;
	char what[2 * MS_NAME_MAX + 32];
	size_t delivered; /* partitions given to cb */
} scan;

/* Remember vkey as existing in the target (for put_partitions to update it). */
static void note_scanned(glue_catalog *g, const char *db, const char *table, const char *vkey)
{
	ms_strmap_entry *e;

	if (!g->scanned_db || strcmp(g->scanned_db, db) != 0 ||
	    strcmp(g->scanned_table, table) != 0)
		return;
	if (ms_strmap_put(&g->scanned, vkey, &e) >= 0)
		e->mark = 0;
}

/*
 * The target's keys, for put_partitions (updates of these, creates of
 * others), are of db.table from now on: forgotten when they were another's.
 */
static int scanned_begin(glue_catalog *g, const char *db, const char *table, ms_error *err)
{
	free(g->scanned_db);
	free(g->scanned_table);
	ms_strmap_free(&g->scanned);
	ms_strmap_init(&g->scanned);
	g->scanned_db = strdup(db);
	g->scanned_table = strdup(table);
	if (!g->scanned_db || !g->scanned_table)
		return oom(err);
	return 0;
}

static int page_to_cb(scan *s, cJSON *ans, int first_page)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(ans, "Partitions"), *it;
	int rc = 0;

	while (rc == 0 && list && (it = list->child)) {
		ms_entity *p = NULL;
		ms_strmap_entry *e;

		if ((rc = make_entity(s->g, MS_KIND_PARTITION, list, it, s->db, s->table, &p,
				      s->err)) < 0)
			break;
		if (first_page && ms_strmap_put(&s->first, p->vkey, &e) < 0) {
			ms_entity_free(p);
			return oom(s->err);
		}
		if (!first_page && s->segmented && ms_strmap_get(&s->first, p->vkey)) {
			ms_entity_free(p);
			continue;
		}
		note_scanned(s->g, s->db, s->table, p->vkey);
		rc = s->cb(p, s->ctx, s->err);
		/* the answers in flight come in meanwhile, not only when this page is done */
		if (rc == 0 && ++s->delivered % PROGRESS_EVERY == 0)
			rc = gc_progress(&s->g->http, s->err);
	}
	return rc;
}

static cJSON *partitions_body(scan *s, int segment, const char *token)
{
	cJSON *b = body_with(s->g, "DatabaseName", s->db, "TableName", s->table), *seg;

	if (!b || !cJSON_AddNumberToObject(b, "MaxResults", PARTITION_PAGE) ||
	    (token && !cJSON_AddStringToObject(b, "NextToken", token)))
		goto fail;
	if (segment >= 0) {
		if (!(seg = cJSON_AddObjectToObject(b, "Segment")) ||
		    !cJSON_AddNumberToObject(seg, "SegmentNumber", segment) ||
		    !cJSON_AddNumberToObject(seg, "TotalSegments", s->total))
			goto fail;
	}
	return b;
fail:
	cJSON_Delete(b);
	return NULL;
}

gc_req *gc_partitions_req(glue_catalog *g, const char *db, const char *table, int segment,
			  int total, const char *token)
{
	scan s = { g, db, table, NULL, NULL, { 0 }, 0, total, 0, NULL, "", 0 };
	cJSON *b = partitions_body(&s, segment, token);
	char *text = b ? cJSON_PrintUnformatted(b) : NULL;

	cJSON_Delete(b);
	return text ? gc_req_new("GetPartitions", text) : NULL;
}

/* Submit a request for the scan's next page (of segment, or -1) and let it go. */
static int send_page(scan *s, int segment, const char *token, gc_req **out)
{
	if (!(*out = gc_partitions_req(s->g, s->db, s->table, segment, s->total, token)))
		return oom(s->err);
	gc_submit(&s->g->http, *out);
	return gc_kick(&s->g->http, s->err);
}

static int any_done(gc_client *c, void *ctx)
{
	gc_req **reqs = ctx;

	(void)c;
	for (int i = 0; i < GC_SEGMENTS_MAX; i++)
		if (reqs[i] && reqs[i]->done)
			return 0;
	return 1;
}

/*
 * One segment's request came back: ask for its next page (before this one
 * is delivered, so that the two overlap), then deliver it.
 */
static int segment_answer(scan *s, gc_req **slot, int segment)
{
	gc_req *r = *slot;
	cJSON *ans = NULL;
	const cJSON *next;
	int rc;

	*slot = NULL;
	rc = gc_answer(&s->g->http, r, s->what, &ans, s->err);
	gc_req_free(r);
	if (rc < 0)
		return rc;
	next = cJSON_GetObjectItemCaseSensitive(ans, "NextToken");
	if (cJSON_IsString(next) && next->valuestring[0])
		rc = send_page(s, segment, next->valuestring, slot);
	if (rc == 0)
		rc = page_to_cb(s, ans, 0);
	cJSON_Delete(ans);
	return rc;
}

/*
 * Send the segments' first pages: the ones read ahead (pre, taken) are
 * kept, the others asked for now.
 */
static int start_segments(scan *s, gc_req *reqs[GC_SEGMENTS_MAX], gc_req *pre[GC_SEGMENTS_MAX])
{
	int i, rc;

	for (i = 0; i < GC_SEGMENTS_MAX; i++) {
		reqs[i] = pre[i];
		pre[i] = NULL;
		if (!reqs[i] && i < s->total && (rc = send_page(s, i, NULL, &reqs[i])) < 0)
			return rc;
	}
	return 0;
}

/* The segments' requests, in flight together, until each has no next page. */
static int drain_segments(scan *s, gc_req *reqs[GC_SEGMENTS_MAX])
{
	int i, live, rc = 0;

	for (;;) {
		for (live = 0, i = 0; i < GC_SEGMENTS_MAX; i++)
			live += reqs[i] != NULL;
		if (!live)
			break;
		if ((rc = gc_pump(&s->g->http, any_done, reqs, s->err)) < 0)
			break;
		for (i = 0; i < GC_SEGMENTS_MAX && rc == 0; i++)
			if (reqs[i] && reqs[i]->done)
				rc = segment_answer(s, &reqs[i], i);
		if (rc != 0)
			break;
	}
	return rc;
}

/* Let requests still out finish (their answers are dropped), and free them. */
static void drop_segments(glue_catalog *g, gc_req *reqs[GC_SEGMENTS_MAX])
{
	for (int i = 0; i < GC_SEGMENTS_MAX; i++) {
		gc_req_drop(&g->http, reqs[i]);
		reqs[i] = NULL;
	}
}

/*
 * The first page of the table's partitions: read ahead by the plan (with
 * the segments' first pages it sent ahead, into pre), or asked for now.
 */
static int first_page(scan *s, cJSON **ans, gc_req *pre[GC_SEGMENTS_MAX], int *total)
{
	glue_catalog *g = s->g;
	gc_req *r = gc_ahead_take(g, s->db, s->table, pre, total, s->err);
	cJSON *b;
	int rc = 0;

	if (!r) {
		if (!(b = partitions_body(s, -1, NULL)))
			return oom(s->err);
		return gc_call(&g->http, "GetPartitions", b, ans, s->what, s->err);
	}
	rc = gc_answer(&g->http, r, s->what, ans, s->err);
	gc_req_free(r);
	return rc;
}

/*
 * Without segments: page after page from the first page's token, the next
 * one asked for before this one is delivered.
 */
static int read_pages(scan *s, const char *first_token)
{
	gc_req *r = NULL;
	cJSON *ans = NULL;
	const char *token = first_token;
	int rc = 0;

	for (;;) {
		const cJSON *next;

		if (token && (rc = send_page(s, -1, token, &r)) < 0)
			break;
		if (ans) { /* the page before, while the next one is out */
			rc = page_to_cb(s, ans, 0);
			cJSON_Delete(ans);
			ans = NULL;
			if (rc != 0)
				break;
		}
		if (!r)
			break;
		if ((rc = gc_pump(&s->g->http, gc_req_pending, r, s->err)) < 0 ||
		    (rc = gc_answer(&s->g->http, r, s->what, &ans, s->err)) < 0)
			break;
		gc_req_free(r);
		r = NULL;
		next = cJSON_GetObjectItemCaseSensitive(ans, "NextToken");
		token = cJSON_IsString(next) && next->valuestring[0] ? next->valuestring : NULL;
	}
	gc_req_drop(&s->g->http, r);
	cJSON_Delete(ans);
	return rc;
}

/*
 * Export of bench/glue.sh's 100,000 partitions from a server with a 50 ms
 * round trip and a quota of 50 requests a second: 5.3 s with 2 segments,
 * 5.65 s with 4, 7.7 s with 8, 6.7 s page after page.
 */
#define RATE_SEGMENTS 2

int gc_segments(glue_catalog *g)
{
	if (g->segments > RATE_SEGMENTS && gc_client_rate_limited(&g->http))
		return RATE_SEGMENTS;
	return g->segments;
}

int gc_scan_partitions(ms_catalog *self, const char *db, const char *table, unsigned int flags,
		       ms_entity_cb cb, void *ctx, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	scan s = { g, db, table, cb, ctx, { 0 }, 0, 0, 0, err, "", 0 };
	gc_req *pre[GC_SEGMENTS_MAX] = { 0 }, *reqs[GC_SEGMENTS_MAX] = { 0 };
	cJSON *ans = NULL;
	const cJSON *next;
	int rc, more, total = 0;

	(void)flags;
	snprintf(s.what, sizeof(s.what), "the partitions of table '%s.%s'", db, table);
	ms_strmap_init(&s.first);
	if ((rc = scanned_begin(g, db, table, err)) < 0)
		return rc;
	if ((rc = first_page(&s, &ans, pre, &total)) < 0)
		goto done;
	next = cJSON_GetObjectItemCaseSensitive(ans, "NextToken");
	more = cJSON_IsString(next) && next->valuestring[0];
	/* the segments go out before the first page is delivered: they overlap */
	s.total = total ? total : gc_segments(g);
	s.segmented = more && s.total > 1;
	if (s.segmented && (rc = start_segments(&s, reqs, pre)) < 0)
		goto done;
	rc = page_to_cb(&s, ans, 1);
	if (rc == 0 && s.segmented)
		rc = drain_segments(&s, reqs);
	else if (rc == 0 && more)
		rc = read_pages(&s, next->valuestring);
done:
	/* stopped early, or segments read ahead in vain: let them finish */
	drop_segments(g, reqs);
	drop_segments(g, pre);
	cJSON_Delete(ans);
	ms_strmap_free(&s.first);
	return rc;
}

/* BatchGetPartition takes up to this many partitions a request. */
#define BATCH_GET 1000

/* A BatchGetPartition body for vkeys[from..to) (PartitionsToGet: their Values). */
static cJSON *batch_get_body(glue_catalog *g, const char *db, const char *table,
			     const char *const *vkeys, size_t from, size_t to, ms_error *err)
{
	cJSON *b = body_with(g, "DatabaseName", db, "TableName", table), *list, *one, *values;

	if (!b || !(list = cJSON_AddArrayToObject(b, "PartitionsToGet")))
		goto oom;
	for (size_t i = from; i < to; i++) {
		if (!(values = cJSON_Parse(vkeys[i])))
			goto oom;
		if (!cJSON_IsArray(values)) {
			ms_error_set(err, MS_EINVAL,
				     "%s: partition %.200s of '%s.%s': not a list of values",
				     g->subject, vkeys[i], db, table);
			cJSON_Delete(values);
			cJSON_Delete(b);
			return NULL;
		}
		if (!(one = cJSON_CreateObject()) || !cJSON_AddItemToArray(list, one) ||
		    !cJSON_AddItemToObject(one, "Values", values)) {
			cJSON_Delete(one);
			cJSON_Delete(values);
			goto oom;
		}
	}
	return b;
oom:
	cJSON_Delete(b);
	oom(err);
	return NULL;
}

/*
 * The partitions of one answer into out, at the indexes of their vkeys
 * (index: vkey -> first index + 1); the others of the same vkey get copies.
 */
static int batch_get_answer(glue_catalog *g, cJSON *ans, const char *db, const char *table,
			    const ms_strmap *index, const char *const *vkeys, size_t n,
			    ms_entity **out, ms_error *err)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(ans, "Partitions"), *it;
	int rc = 0;

	while (rc == 0 && list && (it = list->child)) {
		ms_entity *p = NULL;
		const ms_strmap_entry *e;
		size_t i;

		if ((rc = make_entity(g, MS_KIND_PARTITION, list, it, db, table, &p, err)) < 0)
			break;
		if (!(e = ms_strmap_get(index, p->vkey)) || out[e->mark - 1]) {
			ms_entity_free(p); /* not asked for, or answered twice */
			continue;
		}
		note_scanned(g, db, table, p->vkey);
		out[e->mark - 1] = p;
		for (i = e->mark; i < n && rc == 0; i++)
			if (strcmp(vkeys[i], p->vkey) == 0)
				rc = ms_entity_dup(&out[i], p, err);
	}
	return rc;
}

/*
 * Point reads by BatchGetPartition, up to BATCH_GET partitions a request;
 * the keys Glue leaves unprocessed (throttled inside the batch) are asked
 * for again, as often as a request is tried.  What is found is noted as the
 * target's, so that a write of it updates rather than creates.
 */
int gc_get_partitions(ms_catalog *self, const char *db, const char *table, const char *const *vkeys,
		      size_t n, ms_entity **out, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	char what[3 * MS_NAME_MAX];
	ms_strmap index;
	size_t from, i;
	int rc = 0;

	snprintf(what, sizeof(what), "the partitions of table '%s.%s'", db, table);
	ms_strmap_init(&index);
	if (!g->scanned_db || strcmp(g->scanned_db, db) != 0 ||
	    strcmp(g->scanned_table, table) != 0)
		rc = scanned_begin(g, db, table, err);
	for (i = 0; i < n && rc == 0; i++) {
		ms_strmap_entry *e;

		if (ms_strmap_put(&index, vkeys[i], &e) < 0)
			rc = oom(err);
		else if (!e->mark)
			e->mark = (int)i + 1;
	}
	for (from = 0; from < n && rc == 0; from += BATCH_GET) {
		size_t to = n - from > BATCH_GET ? from + BATCH_GET : n;
		cJSON *b = batch_get_body(g, db, table, vkeys, from, to, err), *ans, *left;
		int tries = 0;

		if (!b)
			rc = err->code;
		while (b && rc == 0) {
			/* the body is the call's */
			rc = gc_call(&g->http, "BatchGetPartition", b, &ans, what, err);
			b = NULL;
			if (rc < 0)
				break;
			rc = batch_get_answer(g, ans, db, table, &index, vkeys, n, out, err);
			left = cJSON_GetObjectItemCaseSensitive(ans, "UnprocessedKeys");
			if (rc == 0 && cJSON_GetArraySize(left) > 0) {
				if (++tries >= g->http.max_attempts)
					rc = ms_error_set(err, MS_EBACKEND,
							  "%s: BatchGetPartition of %s left %d "
							  "unprocessed after %d tries",
							  g->subject, what,
							  cJSON_GetArraySize(left), tries);
				else if (!(b = body_with(g, "DatabaseName", db, "TableName",
							 table)) ||
					 !cJSON_AddItemToObject(b, "PartitionsToGet",
								cJSON_DetachItemViaPointer(ans,
											   left)))
					rc = oom(err);
			}
			cJSON_Delete(ans);
		}
		cJSON_Delete(b);
	}
	ms_strmap_free(&index);
	return rc == MS_ENOTFOUND ? 0 : rc;
}

int gc_get_partition(ms_catalog *self, const char *db, const char *table, const char *vkey,
		     ms_entity **out, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	cJSON *b = body_with(g, "DatabaseName", db, "TableName", table), *values, *ans, *doc;
	char what[3 * MS_NAME_MAX];
	int rc;

	snprintf(what, sizeof(what), "partition %.200s of '%s.%s'", vkey, db, table);
	values = cJSON_Parse(vkey);
	if (!b || !values || !cJSON_IsArray(values) ||
	    !cJSON_AddItemToObject(b, "PartitionValues", values)) {
		rc = values && !cJSON_IsArray(values)
			     ? ms_error_set(err, MS_EINVAL, "%s: %s: not a list of values",
					    g->subject, what)
			     : oom(err);
		cJSON_Delete(values);
		cJSON_Delete(b);
		return rc;
	}
	if ((rc = gc_call(&g->http, "GetPartition", b, &ans, what, err)) < 0)
		return rc;
	doc = cJSON_GetObjectItemCaseSensitive(ans, "Partition");
	if (!cJSON_IsObject(doc))
		rc = ms_error_set(err, MS_EBACKEND, "%s: GetPartition of %s answered no Partition",
				  g->subject, what);
	else
		rc = make_entity(g, MS_KIND_PARTITION, ans, doc, db, table, out, err);
	cJSON_Delete(ans);
	return rc;
}
