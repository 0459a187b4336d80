/*
 * The polling feed of glue:// (feed=poll), for AWS Glue, whose API keeps no
 * change log: each read compares what the catalog holds now with the state
 * the cursor names.
 *
 *   databases and tables  GetDatabases and GetTables (every page), every
 *                         read: each item's text (less LastAccessTime and
 *                         LastAnalyzedTime, which reads move) is its
 *                         signature; created, altered, dropped are named;
 *   partitions            GetPartitions of every table (every page), every
 *                         feed-scan= (default 5m): per table the count and
 *                         the sum of the partitions' signatures; a table
 *                         whose sum moved is named with "every partition"
 *                         (the engine compares it whole).
 *
 * Glue has no partition UpdateTime and no filter on change, so a partition
 * change is seen only at the next scan, and a scan reads every partition:
 * its cost is a full export's reads (docs/live.md).  The states are kept in
 * the process that read them (the last eight); the cursor is "gpoll:" and
 * a digest of its state.  A process with a cursor it did not make reads
 * the catalog afresh: the same digest, nothing changed; else MS_ECONFLICT.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "glue_internal.h"
#include "util/clock.h"

#define PREFIX "gpoll:"
#define CACHE 8
#define TABLE_PAGE 100
#define PART_PAGE 1000

typedef struct gpoll_state {
	char instance[700]; /* the catalog it was read from */
	char id[33];        /* hex of the digest's first 16 bytes */
	ms_strmap dbs;      /* name -> signature */
	ms_strmap tables;   /* "db\ttable" -> signature */
	ms_strmap parts;    /* "db\ttable" -> count and sum (16 bytes) */
	double scanned;     /* when the partitions were read (monotonic s) */
} gpoll_state;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static gpoll_state *cache[CACHE];
static unsigned cache_next;

static void state_free(gpoll_state *s)
{
	if (!s)
		return;
	ms_strmap_free(&s->dbs);
	ms_strmap_free(&s->tables);
	ms_strmap_free(&s->parts);
	free(s);
}

static gpoll_state *state_new(const glue_catalog *g)
{
	gpoll_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->instance, sizeof(s->instance), "%s", g->subject);
	ms_strmap_init(&s->dbs);
	ms_strmap_init(&s->tables);
	ms_strmap_init(&s->parts);
	return s;
}

/* The state named id, read from this catalog, or NULL (the cache keeps it: borrowed). */
static gpoll_state *cache_find(const glue_catalog *g, const char *id)
{
	for (unsigned i = 0; i < CACHE; i++)
		if (cache[i] && strcmp(cache[i]->id, id) == 0 &&
		    strcmp(cache[i]->instance, g->subject) == 0)
			return cache[i];
	return NULL;
}

/* Keep s (stolen); the oldest kept goes. */
static void cache_keep(gpoll_state *s)
{
	unsigned i = cache_next++ % CACHE;

	state_free(cache[i]);
	cache[i] = s;
}

/* The signature of an item: SHA-256 of its text without the times reads move. */
static int signature(cJSON *item, unsigned char out[SHA256_DIGEST_LENGTH], ms_error *err)
{
	char *text;

	cJSON_DeleteItemFromObjectCaseSensitive(item, "LastAccessTime");
	cJSON_DeleteItemFromObjectCaseSensitive(item, "LastAnalyzedTime");
	if (!(text = cJSON_PrintUnformatted(item)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	SHA256((const unsigned char *)text, strlen(text), out);
	free(text);
	return 0;
}

typedef int (*page_fn)(glue_catalog *g, cJSON *item, void *ctx, ms_error *err);

/* Every item of op's listing (list: its member) for database db, table table. */
static int each_item(glue_catalog *g, const char *op, const char *list, const char *db,
		     const char *table, page_fn fn, void *ctx, ms_error *err)
{
	char *token = NULL;
	int rc = 0;

	do {
		cJSON *b = cJSON_CreateObject(), *ans = NULL, *item;
		const cJSON *next;

		if (!b || gc_add_catalog_id(g, b) < 0 ||
		    (db && !cJSON_AddStringToObject(b, "DatabaseName", db)) ||
		    (table && !cJSON_AddStringToObject(b, "TableName", table)) ||
		    (token && !cJSON_AddStringToObject(b, "NextToken", token)) ||
		    !cJSON_AddNumberToObject(b, "MaxResults", table ? PART_PAGE : TABLE_PAGE)) {
			cJSON_Delete(b);
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			break;
		}
		free(token);
		token = NULL;
		if ((rc = gc_call(&g->http, op, b, &ans, "the catalog's state", err)) < 0)
			break;
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(ans, list))
		{
			if ((rc = fn(g, item, ctx, err)) < 0)
				break;
		}
		next = cJSON_GetObjectItemCaseSensitive(ans, "NextToken");
		if (rc == 0 && cJSON_IsString(next) && next->valuestring[0] &&
		    !(token = strdup(next->valuestring)))
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		cJSON_Delete(ans);
	} while (rc == 0 && token);
	free(token);
	return rc;
}

static int put_sig(ms_strmap *m, const char *key, cJSON *item, ms_error *err)
{
	ms_strmap_entry *e;

	if (ms_strmap_put(m, key, &e) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return signature(item, e->value, err);
}

static int one_db(glue_catalog *g, cJSON *item, void *ctx, ms_error *err)
{
	const char *n = gc_jstr(item, "Name");
	char key[MS_NAME_MAX + 1];

	(void)g;
	if (!n)
		return 0;
	gc_table_key(n, NULL, key, sizeof(key));
	return put_sig(&((gpoll_state *)ctx)->dbs, key, item, err);
}

typedef struct table_ctx {
	gpoll_state *s;
	const char *db;
} table_ctx;

static int one_table(glue_catalog *g, cJSON *item, void *ctx, ms_error *err)
{
	table_ctx *t = ctx;
	const char *n = gc_jstr(item, "Name");
	char key[2 * MS_NAME_MAX + 2];

	(void)g;
	if (!n)
		return 0;
	gc_table_key(t->db, n, key, sizeof(key));
	return put_sig(&t->s->tables, key, item, err);
}

/* A partition into its table's count and sum. */
static int one_partition(glue_catalog *g, cJSON *item, void *ctx, ms_error *err)
{
	unsigned char sig[SHA256_DIGEST_LENGTH];
	unsigned long long agg[2], add;
	ms_strmap_entry *e = ctx;
	int rc;

	(void)g;
	if ((rc = signature(item, sig, err)) < 0)
		return rc;
	memcpy(agg, e->value, sizeof(agg));
	memcpy(&add, sig, sizeof(add));
	agg[0]++;
	agg[1] += add;
	memcpy(e->value, agg, sizeof(agg));
	return 0;
}

/* Split "db\ttable" (in buf) into its names. */
static const char *split_key(char *buf, size_t n, const char *key, const char **table)
{
	char *tab;

	snprintf(buf, n, "%s", key);
	tab = strchr(buf, '\t');
	*tab = '\0';
	*table = tab + 1;
	return buf;
}

/* Every table's partitions into s->parts. */
static int scan_partitions(glue_catalog *g, gpoll_state *s, ms_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < s->tables.nslots && rc == 0; i++) {
		const char *key = s->tables.slots[i].key, *db, *table;
		char buf[2 * MS_NAME_MAX + 2];
		ms_strmap_entry *e;

		if (!key)
			continue;
		db = split_key(buf, sizeof(buf), key, &table);
		if (ms_strmap_put(&s->parts, key, &e) < 0)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		memset(e->value, 0, sizeof(e->value));
		rc = each_item(g, "GetPartitions", "Partitions", db, table, one_partition, e, err);
		/* a table dropped meanwhile: the next read sees it go */
		if (rc == MS_ENOTFOUND)
			rc = 0;
	}
	s->scanned = ms_mono_s();
	return rc;
}

/* The digest of a map into sums (order does not matter). */
static void digest_map(const ms_strmap *m, char kind, unsigned long long sum[2])
{
	for (size_t i = 0; i < m->nslots; i++) {
		const ms_strmap_entry *e = &m->slots[i];
		unsigned char h[SHA256_DIGEST_LENGTH], buf[2 * MS_NAME_MAX + 40];
		unsigned long long v[2];
		size_t kl;

		if (!e->key)
			continue;
		kl = strnlen(e->key, 2 * MS_NAME_MAX + 2);
		buf[0] = (unsigned char)kind;
		memcpy(buf + 1, e->key, kl);
		memcpy(buf + 1 + kl, e->value, sizeof(e->value));
		SHA256(buf, 1 + kl + sizeof(e->value), h);
		memcpy(v, h, sizeof(v));
		sum[0] += v[0];
		sum[1] += v[1];
	}
}

static void name_state(gpoll_state *s)
{
	unsigned long long sum[2] = { 0, 0 };

	digest_map(&s->dbs, 'd', sum);
	digest_map(&s->tables, 't', sum);
	digest_map(&s->parts, 'p', sum);
	snprintf(s->id, sizeof(s->id), "%016llx%016llx", sum[0], sum[1]);
}

/*
 * The catalog now: databases and tables, and the partitions when from (the
 * state before) is NULL or its scan is older than feed-scan (else its
 * aggregates are carried over).
 */
static int read_state(glue_catalog *g, const gpoll_state *from, gpoll_state **out, ms_error *err)
{
	gpoll_state *s = state_new(g);
	size_t i;
	int rc;

	*out = NULL;
	if (!s)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	rc = each_item(g, "GetDatabases", "DatabaseList", NULL, NULL, one_db, s, err);
	for (i = 0; i < s->dbs.nslots && rc == 0; i++) {
		table_ctx t = { s, s->dbs.slots[i].key };

		if (t.db)
			rc = each_item(g, "GetTables", "TableList", t.db, NULL, one_table, &t, err);
		if (rc == MS_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0 && (!from || ms_mono_s() - from->scanned >= g->feed_scan)) {
		rc = scan_partitions(g, s, err);
	} else if (rc == 0) {
		for (i = 0; i < s->tables.nslots && rc == 0; i++) {
			const char *key = s->tables.slots[i].key;
			ms_strmap_entry *old = key ? ms_strmap_get(&from->parts, key) : NULL, *e;

			if (!old)
				continue;
			if (ms_strmap_put(&s->parts, key, &e) < 0)
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			else
				memcpy(e->value, old->value, sizeof(e->value));
		}
		s->scanned = from->scanned;
	}
	if (rc < 0) {
		state_free(s);
		return rc;
	}
	name_state(s);
	*out = s;
	return 0;
}

/* Emit the differences of one map: kind, and for tables, whole means "every partition". */
static int diff_map(const ms_strmap *old, const ms_strmap *now, ms_kind kind, int whole,
		    ms_change_cb cb, void *ctx, ms_error *err)
{
	int rc = 0;

	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		const ms_strmap *a = pass ? old : now, *b = pass ? now : old;

		for (size_t i = 0; i < a->nslots && rc == 0; i++) {
			const ms_strmap_entry *e = &a->slots[i], *o;
			char buf[2 * MS_NAME_MAX + 2];
			ms_change c;

			if (!e->key)
				continue;
			o = ms_strmap_get(b, e->key);
			/* pass 0: new or changed; pass 1: gone (parts: the table's drop says it) */
			if (pass == 0 ? (o && memcmp(o->value, e->value, sizeof(e->value)) == 0)
				      : (o || whole))
				continue;
			memset(&c, 0, sizeof(c));
			c.kind = kind;
			c.op = pass ? MS_CHANGE_DELETE : MS_CHANGE_PUT;
			c.all_partitions = whole;
			if (kind == MS_KIND_DATABASE)
				c.database = e->key;
			else
				c.database = split_key(buf, sizeof(buf), e->key, &c.table);
			rc = cb(&c, ctx, err);
		}
	}
	return rc;
}

static int diff(const gpoll_state *old, const gpoll_state *now, ms_change_cb cb, void *ctx,
		ms_error *err)
{
	static const ms_strmap none = { NULL, 0, 0 };
	int rc;

	if ((rc = diff_map(old ? &old->dbs : &none, &now->dbs, MS_KIND_DATABASE, 0, cb, ctx,
			   err)) != 0 ||
	    (rc = diff_map(old ? &old->tables : &none, &now->tables, MS_KIND_TABLE, 0, cb, ctx,
			   err)) != 0)
		return rc;
	return diff_map(old ? &old->parts : &none, &now->parts, MS_KIND_TABLE, 1, cb, ctx, err);
}

static int cursor_of(const gpoll_state *s, char **out, ms_error *err)
{
	if (asprintf(out, PREFIX "%s", s->id) < 0) {
		*out = NULL;
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	return 0;
}

int gc_poll_changes_since(ms_catalog *self, const char *cursor, ms_change_cb cb, void *ctx,
			  char **next_cursor, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	gpoll_state *old = NULL, *now = NULL;
	const char *id = NULL;
	int rc;

	if (cursor && (strncmp(cursor, PREFIX, strlen(PREFIX)) != 0 ||
		       strlen(id = cursor + strlen(PREFIX)) != 32))
		return ms_error_set(err, MS_EINVAL, "invalid change cursor '%.64s' for %s", cursor,
				    g->subject);
	/* the states are shared by the process's instances: one read at a time */
	pthread_mutex_lock(&cache_lock);
	if (id)
		old = cache_find(g, id);
	if ((rc = read_state(g, old, &now, err)) < 0)
		goto done;
	if (id && !old) {
		/* a cursor of another process: only "nothing changed" can be told */
		if (strcmp(now->id, id) != 0)
			rc = ms_error_set(err, MS_ECONFLICT,
					  "%s: the polling feed no longer holds the state of "
					  "cursor '%s' (another process read it): read everything "
					  "again",
					  g->subject, cursor);
		else
			rc = cursor_of(now, next_cursor, err);
		if (rc == 0) {
			cache_keep(now);
			now = NULL;
		}
		goto done;
	}
	if ((rc = diff(old, now, cb, ctx, err)) != 0)
		goto done;
	if (old && strcmp(old->id, now->id) == 0) {
		old->scanned = now->scanned; /* the same state, read again */
		rc = cursor_of(old, next_cursor, err);
		goto done;
	}
	if ((rc = cursor_of(now, next_cursor, err)) == 0) {
		cache_keep(now);
		now = NULL;
	}
done:
	pthread_mutex_unlock(&cache_lock);
	state_free(now);
	return rc;
}

int gc_poll_change_head(ms_catalog *self, char **cursor, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	gpoll_state *now = NULL;
	int rc;

	pthread_mutex_lock(&cache_lock);
	if ((rc = read_state(g, NULL, &now, err)) == 0 && (rc = cursor_of(now, cursor, err)) == 0)
		cache_keep(now);
	else
		state_free(now);
	pthread_mutex_unlock(&cache_lock);
	return rc;
}
