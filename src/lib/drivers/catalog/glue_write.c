/*
 * Writes of the glue:// driver.
 *
 * Databases: CreateDatabase, or UpdateDatabase when it exists.  Tables:
 * UpdateTable naming the VersionId the table had when it was read
 * (SkipArchive as skip-archive= says), CreateTable when it was not there; a
 * table this instance wrote itself is read again for its new VersionId and
 * updated only while it still holds what was written.  Anything else is
 * another writer's change: MS_ECONFLICT, never overwritten.
 *
 * Partitions: BatchCreatePartition and BatchUpdatePartition of 100,
 * BatchDeletePartition of 25, queued and sent many at a time (the client's
 * parallel=); put_partitions returns once its batches are queued and the
 * queue is short again.  The partitions the last scan of the table found
 * are updated, the others created; an AlreadyExistsException for a create
 * (a lost answer, a re-run) becomes an update, an EntityNotFoundException
 * for an update a create, so that runs converge.  Every other per-item
 * error, and every item of a request that failed whole, is kept and
 * reported at settle, one partition at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"
#include "model/model_internal.h"

#define CREATE_BATCH 100
#define UPDATE_BATCH CREATE_BATCH /* a batch holds either */
#define DELETE_BATCH 25
#define INPUT_TEXT_MAX ((size_t)64 << 20) /* longer fails; Glue takes far less */

enum { W_CREATE, W_UPDATE, W_DELETE };

static const char *const write_op[] = { "BatchCreatePartition", "BatchUpdatePartition",
					"BatchDeletePartition" };

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/* ---- databases and tables -------------------------------------------------- */

/* e as a request's *Input, with what Glue has no member for in the stash. */
static cJSON *input_of(const ms_entity *e, ms_error *err)
{
	cJSON *in = ms_entity_glue_input_tree(e, err);

	if (in && e->doc && gc_stash_put(e, in, err) < 0) {
		cJSON_Delete(in);
		return NULL;
	}
	return in;
}

/*
 * An entity's *Input as compact JSON (new; NULL with err set): printed
 * straight from its document, or, when the document holds members the
 * input has no place for, from input_of's tree with the stash.
 */
static char *input_text(const ms_entity *e, ms_error *err)
{
	ms_buf b;
	cJSON *in;
	char *text;
	int rc;

	ms_buf_init(&b, INPUT_TEXT_MAX);
	if ((rc = ms_entity_glue_input_print(e, &b, err)) == 0)
		return ms_buf_detach(&b);
	ms_buf_free(&b);
	if (rc < 0 || !(in = input_of(e, err)))
		return NULL;
	if (!(text = cJSON_PrintUnformatted(in)))
		oom(err);
	cJSON_Delete(in);
	return text;
}

/* A body of CatalogId and DatabaseInput in (a copy), with Name when update is set. */
static cJSON *database_body(glue_catalog *g, const ms_entity *db, const cJSON *in, int update)
{
	cJSON *b = cJSON_CreateObject();

	if (!b || gc_add_catalog_id(g, b) < 0 ||
	    (update && !cJSON_AddStringToObject(b, "Name", db->database)) ||
	    !cJSON_AddItemToObject(b, "DatabaseInput", cJSON_Duplicate(in, 1))) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* UpdateDatabase with DatabaseInput in (copied). */
static int update_database(glue_catalog *g, const ms_entity *db, const cJSON *in, const char *what,
			   ms_error *err)
{
	cJSON *b = database_body(g, db, in, 1);

	if (!b)
		return oom(err);
	gc_forget_listed(g, db->database, NULL);
	return gc_call(&g->http, "UpdateDatabase", b, NULL, what, err);
}

/*
 * CreateDatabase, or UpdateDatabase when it exists: a database the last
 * answer said exists is updated first (one round trip where a re-run's
 * writes would cost two), and created when it has gone since.
 */
int gc_put_database(ms_catalog *self, const ms_entity *db, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	char what[MS_NAME_MAX + 16];
	cJSON *in = input_of(db, err), *b;
	int rc, belief;

	g->wrote = 1;

	if (!in)
		return err->code ? err->code : MS_ENOMEM;
	snprintf(what, sizeof(what), "database '%s'", db->database);
	belief = gc_listed_belief(g, db->database);
	if (belief == 1 && (rc = update_database(g, db, in, what, err)) != MS_ENOTFOUND)
		goto done;
	if (!(b = database_body(g, db, in, 0))) {
		rc = oom(err);
		goto done;
	}
	rc = gc_call(&g->http, "CreateDatabase", b, NULL, what, err);
	if (rc == 0)
		gc_listed_database(g, db->database, 1, 1);
	if (rc == MS_EEXISTS && belief == 0) {
		/* read as absent, created by another writer since: look again */
		gc_forget_listed(g, db->database, NULL);
		rc = ms_error_set(err, MS_ECONFLICT,
				  "%s: %s was created by another writer meanwhile", g->subject,
				  what);
	} else if (rc == MS_EEXISTS) {
		rc = update_database(g, db, in, what, err);
	}
done:
	if (rc == 0)
		gc_listed_seen(g, db->database, 1);
	cJSON_Delete(in);
	return rc;
}

int gc_delete_database(ms_catalog *self, const char *name, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	char what[MS_NAME_MAX + 16];
	cJSON *b = cJSON_CreateObject();

	g->wrote = 1;

	snprintf(what, sizeof(what), "database '%s'", name);
	if (!b || gc_add_catalog_id(g, b) < 0 || !cJSON_AddStringToObject(b, "Name", name)) {
		cJSON_Delete(b);
		return oom(err);
	}
	gc_listed_database(g, name, 0, 0);
	return gc_call(&g->http, "DeleteDatabase", b, NULL, what, err);
}

/* The hash of what this instance last wrote to db.table (g->tables' sibling map). */
static ms_strmap_entry *written(glue_catalog *g, const char *db, const char *table, int add)
{
	char key[2 * MS_NAME_MAX + 3];
	ms_strmap_entry *e = NULL;

	/* Kept in g->versions under a key no table can have ("\t" starts it). */
	snprintf(key, sizeof(key), "\t%s\t%s", db, table);
	if (add) {
		if (ms_strmap_put(&g->versions, key, &e) < 0)
			return NULL;
		return e;
	}
	e = ms_strmap_get(&g->versions, key);
	return e && e->tag ? e : NULL;
}

static cJSON *table_body(glue_catalog *g, const ms_entity *t, cJSON *in, const char *version)
{
	cJSON *b = cJSON_CreateObject();

	if (!b || gc_add_catalog_id(g, b) < 0 ||
	    !cJSON_AddStringToObject(b, "DatabaseName", t->database) ||
	    !cJSON_AddItemToObject(b, "TableInput", cJSON_Duplicate(in, 1)) ||
	    (version && (!cJSON_AddStringToObject(b, "VersionId", version) ||
			 !cJSON_AddBoolToObject(b, "SkipArchive", g->skip_archive)))) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* Drop the read asked after this instance created a table, if any. */
static void drop_own(glue_catalog *g)
{
	gc_req_drop(&g->http, g->own_read);
	g->own_read = NULL;
}

/*
 * The read of db.table asked after this instance created it (taken: the
 * caller waits for it), or NULL; a read of another table is dropped.
 */
static gc_req *own_read_of(glue_catalog *g, const char *db, const char *table)
{
	char key[2 * MS_NAME_MAX + 3];
	gc_req *r = g->own_read;

	gc_table_key(db, table, key, sizeof(key));
	if (r && r->tag && strcmp(r->tag, key) == 0) {
		g->own_read = NULL;
		return r;
	}
	drop_own(g);
	return NULL;
}

/*
 * A table with partition keys that this instance created is stamped once
 * its partitions are in (without transactions, the engine's last write of
 * a table): its VersionId is asked for now, so that the answer is in
 * before the stamp needs it, instead of one more round trip then.  Nothing
 * when out of memory: the stamp asks.
 */
static void ask_own(glue_catalog *g, const ms_entity *t)
{
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(t->doc, "PartitionKeys");
	char key[2 * MS_NAME_MAX + 3];
	gc_req *r;

	if (!cJSON_GetArraySize(keys))
		return;
	drop_own(g);
	gc_table_key(t->database, t->table, key, sizeof(key));
	if ((r = gc_ask_table(g, t->database, t->table)) && !(r->tag = strdup(key))) {
		gc_req_drop(&g->http, r);
		r = NULL;
	}
	g->own_read = r;
}

/*
 * No VersionId is known for a table this instance wrote: read it again;
 * while it holds what was written, *version (new) is its VersionId.
 */
static int version_of_own(glue_catalog *g, const ms_entity *t, const char *what, char **version,
			  ms_error *err)
{
	ms_strmap_entry *w = written(g, t->database, t->table, 0);
	unsigned char hash[MS_HASH_LEN];
	ms_entity *cur = NULL;
	gc_req *r;
	const cJSON *v;
	int rc;

	*version = NULL;
	if (!w)
		return 0;
	/* (a copy: the read below may grow the map w is in) */
	memcpy(hash, w->value, MS_HASH_LEN);
	rc = (r = own_read_of(g, t->database, t->table))
		     ? gc_asked_table(g, r, t->database, t->table, &cur, err)
		     : gc_get_table(&g->base, t->database, t->table, &cur, err);
	if (rc < 0)
		return rc == MS_ENOTFOUND ? 0 : rc;
	v = cJSON_GetObjectItemCaseSensitive(cur->doc, "VersionId");
	if (memcmp(cur->hash, hash, MS_HASH_LEN) != 0)
		rc = ms_error_set(err, MS_ECONFLICT,
				  "%s: %s was changed by another writer since metasync wrote it: "
				  "not overwritten",
				  g->subject, what);
	else if (cJSON_IsString(v) && !(*version = strdup(v->valuestring)))
		rc = oom(err);
	ms_entity_free(cur);
	return rc;
}

int gc_put_table(ms_catalog *self, const ms_entity *t, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	char what[2 * MS_NAME_MAX + 16], *own = NULL;
	const char *version = gc_version_get(g, t->database, t->table);
	cJSON *in = input_of(t, err), *b;
	ms_strmap_entry *w;
	int rc;

	g->wrote = 1;

	if (!in)
		return err->code ? err->code : MS_ENOMEM;
	snprintf(what, sizeof(what), "table '%s.%s'", t->database, t->table);
	if (!version && (rc = version_of_own(g, t, what, &own, err)) < 0)
		goto done;
	if (own)
		version = own;
	if (!(b = table_body(g, t, in, version))) {
		rc = oom(err);
		goto done;
	}
	rc = gc_call(&g->http, version ? "UpdateTable" : "CreateTable", b, NULL, what, err);
	if (rc == MS_ECONFLICT || (version && rc == MS_ENOTFOUND))
		rc = ms_error_set(err, MS_ECONFLICT,
				  "%s: %s was changed by another writer since it was read "
				  "(VersionId %s): not overwritten",
				  g->subject, what, version);
	else if (!version && rc == MS_EEXISTS)
		rc = ms_error_set(err, MS_ECONFLICT,
				  "%s: %s was created by another writer meanwhile", g->subject,
				  what);
	if (rc < 0)
		goto done;
	/* Its new VersionId is not in the answer: look again before the next update. */
	gc_version_set(g, t->database, t->table, NULL);
	gc_forget_listed(g, t->database, t->table);
	if (t->hashed && (w = written(g, t->database, t->table, 1))) {
		memcpy(w->value, t->hash, MS_HASH_LEN);
		w->tag = 1;
		if (!version)
			ask_own(g, t);
	}
done:
	free(own);
	cJSON_Delete(in);
	return rc;
}

int gc_delete_table(ms_catalog *self, const char *db, const char *name, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	char what[2 * MS_NAME_MAX + 16];
	cJSON *b = cJSON_CreateObject();
	ms_strmap_entry *w;

	g->wrote = 1;

	snprintf(what, sizeof(what), "table '%s.%s'", db, name);
	if (!b || gc_add_catalog_id(g, b) < 0 || !cJSON_AddStringToObject(b, "DatabaseName", db) ||
	    !cJSON_AddStringToObject(b, "Name", name)) {
		cJSON_Delete(b);
		return oom(err);
	}
	gc_version_set(g, db, name, NULL);
	gc_forget_listed(g, db, name);
	drop_own(g);
	if ((w = written(g, db, name, 0)))
		w->tag = 0;
	return gc_call(&g->http, "DeleteTable", b, NULL, what, err);
}

/* ---- partition batches --------------------------------------------------- */

typedef struct wbatch {
	glue_catalog *g;
	int kind;    /* W_* */
	int flipped; /* already moved between create and update once */
	char *db, *table;
	size_t n;
	char *vkey[CREATE_BATCH];
	char *input[CREATE_BATCH]; /* PartitionInput text; NULL for deletes */
} wbatch;

static void wbatch_free(wbatch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->vkey[i]);
		free(b->input[i]);
	}
	free(b->db);
	free(b->table);
	free(b);
}

static wbatch *wbatch_new(glue_catalog *g, int kind, const char *db, const char *table)
{
	wbatch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->g = g;
	b->kind = kind;
	b->db = strdup(db);
	b->table = strdup(table);
	if (!b->db || !b->table) {
		wbatch_free(b);
		return NULL;
	}
	return b;
}

/* Keep a failure of one partition for settle. */
static void keep_fail(glue_catalog *g, const wbatch *b, const char *vkey, const ms_error *e)
{
	gc_failure *f = calloc(1, sizeof(*f));

	if (!f || !(f->database = strdup(b->db)) || !(f->table = strdup(b->table)) ||
	    !(f->vkey = strdup(vkey))) {
		if (f) {
			free(f->database);
			free(f->table);
			free(f);
		}
		g->has_fatal = 1;
		ms_error_set(&g->fatal, MS_ENOMEM, "out of memory");
		return;
	}
	f->deleting = b->kind == W_DELETE;
	f->error = *e;
	*g->fails_tail = f;
	g->fails_tail = &f->next;
}

static void batch_done(gc_client *c, gc_req *r);

/* The request body of b; NULL when out of memory. */
static char *batch_text(const wbatch *b)
{
	ms_buf t = MS_BUF_INIT(GC_ANSWER_MAX);
	cJSON *head = cJSON_CreateObject();
	char *h = NULL;
	size_t i;
	int rc = 0;

	if (!head || gc_add_catalog_id(b->g, head) < 0 ||
	    !cJSON_AddStringToObject(head, "DatabaseName", b->db) ||
	    !cJSON_AddStringToObject(head, "TableName", b->table) ||
	    !(h = cJSON_PrintUnformatted(head)))
		goto fail;
	/* {"CatalogId":..,"TableName":..,  + the list + } */
	rc |= ms_buf_add(&t, h, strlen(h) - 1);
	rc |= ms_buf_adds(&t, b->kind == W_CREATE   ? ",\"PartitionInputList\":["
			      : b->kind == W_UPDATE ? ",\"Entries\":["
						    : ",\"PartitionsToDelete\":[");
	for (i = 0; i < b->n && rc == 0; i++) {
		if (i)
			rc |= ms_buf_addc(&t, ',');
		if (b->kind == W_CREATE)
			rc |= ms_buf_adds(&t, b->input[i]);
		else if (b->kind == W_UPDATE)
			rc |= ms_buf_printf(&t, "{\"PartitionValueList\":%s,\"PartitionInput\":%s}",
					    b->vkey[i], b->input[i]);
		else
			rc |= ms_buf_printf(&t, "{\"Values\":%s}", b->vkey[i]);
	}
	rc |= ms_buf_adds(&t, "]}");
	if (rc)
		goto fail;
	free(h);
	cJSON_Delete(head);
	return ms_buf_detach(&t);
fail:
	free(h);
	cJSON_Delete(head);
	ms_buf_free(&t);
	return NULL;
}

static int send_batch(glue_catalog *g, wbatch *b, ms_error *err)
{
	char *text = batch_text(b);
	gc_req *r;

	if (!text || !(r = gc_req_new(write_op[b->kind], text))) {
		wbatch_free(b);
		return oom(err);
	}
	r->on_done = batch_done;
	r->ctx = b;
	g->pending++;
	gc_submit(&g->http, r);
	return 0;
}

/* The index of vkey in b, or -1. */
static long find_vkey(const wbatch *b, const char *vkey)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->vkey[i] && strcmp(b->vkey[i], vkey) == 0)
			return (long)i;
	return -1;
}

/* Move item i of b into *to (a new batch of kind, made on first use). */
static int move_item(wbatch *b, size_t i, wbatch **to, int kind)
{
	if (!*to && !(*to = wbatch_new(b->g, kind, b->db, b->table)))
		return MS_ENOMEM;
	(*to)->flipped = 1;
	(*to)->vkey[(*to)->n] = b->vkey[i];
	(*to)->input[(*to)->n++] = b->input[i];
	b->vkey[i] = b->input[i] = NULL;
	return 0;
}

/* One per-item error of a batch answer. */
static void item_error(wbatch *b, const cJSON *item, wbatch **again)
{
	glue_catalog *g = b->g;
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(item, "PartitionValues");
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(item, "ErrorDetail");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(detail, "ErrorCode");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(detail, "ErrorMessage");
	const char *c = cJSON_IsString(code) ? code->valuestring : "error";
	char *vkey;
	long i;
	ms_error e;

	if (!values)
		values = cJSON_GetObjectItemCaseSensitive(item, "PartitionValueList");
	if (!cJSON_IsArray(values) || !(vkey = ms_model_vkey(values)))
		return;
	i = find_vkey(b, vkey);
	if (b->kind == W_DELETE && strcmp(c, "EntityNotFoundException") == 0) {
		free(vkey);
		return;
	}
	if (i >= 0 && !b->flipped &&
	    ((b->kind == W_CREATE && strcmp(c, "AlreadyExistsException") == 0) ||
	     (b->kind == W_UPDATE && strcmp(c, "EntityNotFoundException") == 0))) {
		if (move_item(b, (size_t)i, again, b->kind == W_CREATE ? W_UPDATE : W_CREATE) ==
		    0) {
			free(vkey);
			return;
		}
	}
	ms_error_set(&e, strcmp(c, "InvalidInputException") == 0 ? MS_EINVAL : MS_EBACKEND,
		     "%s: %s of partition %.200s of '%s.%s': %s%s%s", g->subject, write_op[b->kind],
		     vkey, b->db, b->table, c, cJSON_IsString(msg) ? ": " : "",
		     cJSON_IsString(msg) ? msg->valuestring : "");
	snprintf(e.backend_code, sizeof(e.backend_code), "%.15s", c);
	keep_fail(g, b, vkey, &e);
	free(vkey);
}

static void batch_done(gc_client *c, gc_req *r)
{
	wbatch *b = r->ctx, *again = NULL;
	glue_catalog *g = b->g;
	cJSON *ans = NULL;
	const cJSON *it;
	ms_error e;

	(void)c;
	g->pending--;
	if (gc_answer(&g->http, r, "a batch", NULL, &e) < 0) {
		for (size_t i = 0; i < b->n; i++) {
			char what[600];

			snprintf(what, sizeof(what), "partition %.200s of '%s.%s'", b->vkey[i],
				 b->db, b->table);
			gc_fail(&g->http, r, what, &e);
			keep_fail(g, b, b->vkey[i], &e);
		}
		goto done;
	}
	gc_answer(&g->http, r, "a batch", &ans, &e); /* not JSON: no per-item errors */
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ans, "Errors"))
		item_error(b, it, &again);
	if (again && send_batch(g, again, &e) < 0) {
		g->has_fatal = 1;
		g->fatal = e;
	}
done:
	cJSON_Delete(ans);
	wbatch_free(b);
	gc_req_free(r);
}

/* Keep the queue short: pump while more than two rounds of requests wait. */
static int queue_long(gc_client *c, void *ctx)
{
	glue_catalog *g = ctx;

	return g->pending > 2 * c->parallel;
}

static int scanned_has(glue_catalog *g, const char *db, const char *table, const char *vkey)
{
	ms_strmap_entry *e;

	if (!g->scanned_db || strcmp(g->scanned_db, db) != 0 ||
	    strcmp(g->scanned_table, table) != 0)
		return 0;
	e = ms_strmap_get(&g->scanned, vkey);
	return e && !e->mark;
}

int gc_put_partitions(ms_catalog *self, const char *db, const char *table, ms_entity *const *parts,
		      size_t n, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	wbatch *open[2] = { NULL, NULL };
	size_t i;
	int rc = 0;

	g->wrote = 1;

	for (i = 0; i < n && rc == 0; i++) {
		int kind = scanned_has(g, db, table, parts[i]->vkey) ? W_UPDATE : W_CREATE;
		char *text = input_text(parts[i], err);
		wbatch *b;

		if (!text) {
			rc = err->code ? err->code : MS_ENOMEM;
			break;
		}
		if (!open[kind] && !(open[kind] = wbatch_new(g, kind, db, table))) {
			free(text);
			rc = oom(err);
			break;
		}
		b = open[kind];
		b->input[b->n] = text;
		if (!(b->vkey[b->n] = strdup(parts[i]->vkey))) {
			free(text);
			rc = oom(err);
			break;
		}
		b->n++;
		if (b->n == CREATE_BATCH) { /* = UPDATE_BATCH */
			open[kind] = NULL;
			rc = send_batch(g, b, err);
		}
	}
	for (i = 0; i < 2; i++) {
		if (open[i] && rc == 0 && open[i]->n)
			rc = send_batch(g, open[i], err);
		else
			wbatch_free(open[i]);
	}
	if (rc == 0)
		rc = gc_pump(&g->http, queue_long, g, err);
	return rc;
}

int gc_delete_partitions(ms_catalog *self, const char *db, const char *table,
			 const char *const *vkeys, size_t n, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	wbatch *b = NULL;
	size_t i;
	int rc = 0;

	g->wrote = 1;

	for (i = 0; i < n && rc == 0; i++) {
		ms_strmap_entry *e;

		if (!b && !(b = wbatch_new(g, W_DELETE, db, table)))
			return oom(err);
		if (!(b->vkey[b->n] = strdup(vkeys[i]))) {
			wbatch_free(b);
			return oom(err);
		}
		b->n++;
		if (scanned_has(g, db, table, vkeys[i]) &&
		    (e = ms_strmap_get(&g->scanned, vkeys[i])))
			e->mark = 1;
		if (b->n == DELETE_BATCH) {
			rc = send_batch(g, b, err);
			b = NULL;
		}
	}
	if (b && rc == 0)
		rc = send_batch(g, b, err);
	else
		wbatch_free(b);
	if (rc == 0)
		rc = gc_pump(&g->http, queue_long, g, err);
	return rc;
}

static int writes_pending(gc_client *c, void *ctx)
{
	(void)c;
	return ((glue_catalog *)ctx)->pending > 0;
}

int gc_settle(ms_catalog *self, const char *db, const char *table, ms_write_failure_cb cb,
	      void *ctx, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	gc_failure *f;
	int rc;

	(void)db;
	(void)table;
	if ((rc = gc_pump(&g->http, writes_pending, g, err)) < 0)
		return rc;
	while ((f = g->fails)) {
		ms_write_failure wf = { f->database, f->table, f->vkey, f->deleting, &f->error };

		g->fails = f->next;
		if (!g->fails)
			g->fails_tail = &g->fails;
		rc = cb ? cb(&wf, ctx, err) : 0;
		free(f->database);
		free(f->table);
		free(f->vkey);
		free(f);
		if (rc != 0)
			return rc;
	}
	if (g->has_fatal) {
		g->has_fatal = 0;
		*err = g->fatal;
		return err->code ? err->code : MS_ERROR;
	}
	return 0;
}

void gc_fails_free(glue_catalog *g)
{
	gc_failure *f;

	while ((f = g->fails)) {
		g->fails = f->next;
		free(f->database);
		free(f->table);
		free(f->vkey);
		free(f);
	}
	g->fails_tail = &g->fails;
}
