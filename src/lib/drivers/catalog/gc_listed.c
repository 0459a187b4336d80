/*
 * What the glue:// driver's listings told, so that the engine's first read
 * of each database and table costs no round trip: GetDatabases and
 * GetTables answer for every database and table at once.  Each answer is
 * given once; the next read of the same entity (the engine's check at
 * write time) goes to Glue again.  Writes forget what was listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"

#define KEY_MAX (2 * MS_NAME_MAX + 3)

/* Names fold to lowercase, as Glue folds them. */
static void key_of(const char *db, const char *table, char *out)
{
	gc_table_key(db, table, out, KEY_MAX);
}

static ms_entity *entity_at(const ms_strmap_entry *e)
{
	ms_entity *t;

	memcpy(&t, e->value, sizeof(t));
	return t;
}

static void spend(ms_strmap_entry *e)
{
	ms_entity_free(entity_at(e));
	memset(e->value, 0, sizeof(e->value));
	e->tag = 1;
}

int gc_listed_keep(glue_catalog *g, ms_entity *ent)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;
	int rc;

	key_of(ent->database, ent->kind == MS_KIND_DATABASE ? NULL : ent->table, key);
	if ((rc = ms_strmap_put(&g->tables, key, &e)) < 0)
		return rc;
	ms_entity_free(entity_at(e));
	memcpy(e->value, &ent, sizeof(ent));
	e->tag = 0;
	e->mark = 1; /* it exists */
	return 0;
}

int gc_listed_mark(glue_catalog *g, const char *db)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;
	int rc;

	key[0] = db ? '\001' : '\002';
	gc_table_key(db ? db : "", NULL, key + 1, sizeof(key) - 1);
	if ((rc = ms_strmap_put(&g->tables, key, &e)) < 0)
		return rc;
	e->tag = 0;
	return 0;
}

int gc_listed_known(glue_catalog *g, const char *db)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;

	key[0] = db ? '\001' : '\002';
	gc_table_key(db ? db : "", NULL, key + 1, sizeof(key) - 1);
	e = ms_strmap_get(&g->tables, key);
	return e && e->tag == 0;
}

/* The databases were listed in full, and db was not among them (or is gone). */
static int db_absent(glue_catalog *g, const char *db)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;

	if (!gc_listed_known(g, NULL))
		return 0;
	key_of(db, NULL, key);
	e = ms_strmap_get(&g->tables, key);
	return !e || !e->mark;
}

int gc_listed_take(glue_catalog *g, const char *db, const char *table, ms_entity **out)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;

	*out = NULL;
	key_of(db, table, key);
	if ((e = ms_strmap_get(&g->tables, key))) {
		if (e->tag)
			return -1;
		*out = entity_at(e);
		memset(e->value, 0, sizeof(e->value));
		e->tag = 1;
		return *out ? 1 : 0;
	}
	if (!gc_listed_known(g, table ? db : NULL) && !(table && db_absent(g, db)))
		return -1;
	/* listed in full without it (or without its database): absent, once */
	if (ms_strmap_put(&g->tables, key, &e) < 0)
		return -1;
	e->tag = 1;
	return 0;
}

void gc_forget_listed(glue_catalog *g, const char *db, const char *table)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;

	/* spent: the next read asks Glue (an entry for one no listing had) */
	key_of(db, table, key);
	if ((e = ms_strmap_get(&g->tables, key)) || ms_strmap_put(&g->tables, key, &e) >= 0)
		spend(e);
}

void gc_forget_database(glue_catalog *g, const char *db)
{
	char key[KEY_MAX], low[KEY_MAX];
	size_t n;
	ms_strmap_entry *e;

	gc_forget_listed(g, db, NULL);
	gc_table_key(db, NULL, low, sizeof(low));
	n = strlen(low);
	/* its tables' answers and its listing too */
	for (size_t i = 0; i < g->tables.nslots; i++) {
		e = &g->tables.slots[i];
		if (e->key && strncmp(e->key, low, n) == 0 && e->key[n] == '\t')
			spend(e);
	}
	snprintf(key, sizeof(key), "\001%s", low);
	if ((e = ms_strmap_get(&g->tables, key)))
		e->tag = 1;
}

void gc_listed_database(glue_catalog *g, const char *db, int exists, int empty)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;

	gc_forget_database(g, db);
	key_of(db, NULL, key);
	if (ms_strmap_put(&g->tables, key, &e) >= 0) {
		e->tag = 1;
		e->mark = exists;
	}
	if (exists && empty)
		gc_listed_mark(g, db);
}

/* Databases the listing of databases holds (all, or those whose tables are not listed yet). */
size_t gc_listed_dbs(glue_catalog *g, int all, char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < g->tables.nslots && n < max; i++) {
		ms_strmap_entry *e = &g->tables.slots[i];

		if (!e->key || !e->mark || strchr(e->key, '\t') || e->key[0] == '\001' ||
		    e->key[0] == '\002' || (!all && gc_listed_known(g, e->key)))
			continue;
		out[n++] = e->key;
	}
	return n;
}

void gc_listed_free(glue_catalog *g)
{
	for (size_t i = 0; i < g->tables.nslots; i++)
		if (g->tables.slots[i].key)
			ms_entity_free(entity_at(&g->tables.slots[i]));
	ms_strmap_free(&g->tables);
}

int gc_listed_belief(glue_catalog *g, const char *db)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;

	key_of(db, NULL, key);
	e = ms_strmap_get(&g->tables, key);
	return e && e->tag ? e->mark != 0 : -1;
}

void gc_listed_seen(glue_catalog *g, const char *db, int exists)
{
	char key[KEY_MAX];
	ms_strmap_entry *e;

	key_of(db, NULL, key);
	if ((e = ms_strmap_get(&g->tables, key))) {
		if (e->tag)
			e->mark = exists;
	} else if (ms_strmap_put(&g->tables, key, &e) >= 0) {
		e->tag = 1; /* spent: the next read asks Glue */
		e->mark = exists;
	}
}

int gc_listed_names(glue_catalog *g, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	char key[KEY_MAX], low[KEY_MAX];
	ms_strmap_entry *known;
	size_t n, i, count = 0;
	char **names;
	int rc = 0;

	/* only while the listings are all this instance knows (it wrote nothing) */
	if (g->wrote || g->cloned || !gc_listed_known(g, db))
		return 1;
	gc_table_key(db, NULL, low, sizeof(low));
	snprintf(key, sizeof(key), "\001%s", low);
	if (!(known = ms_strmap_get(&g->tables, key)) || known->mark)
		return 1;
	known->mark = 1; /* answered once */
	n = strlen(low);
	if (!(names = malloc((g->tables.count + 1) * sizeof(*names))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < g->tables.nslots; i++) {
		ms_strmap_entry *e = &g->tables.slots[i];

		if (e->key && e->mark && strncmp(e->key, low, n) == 0 && e->key[n] == '\t')
			names[count++] = e->key + n + 1;
	}
	for (i = 0; i < count && rc == 0; i++)
		rc = cb(names[i], ctx, err);
	free(names);
	return rc;
}
