/*
 * Change sets: the keys a change feed named, each once, with what happened
 * to each (see changeset.h).  A partition's key is its vkey; what it holds
 * is read from the source when the change set is applied.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "changeset.h"
#include "metasync/model.h"
#include "util/buf.h"

ms_changeset *ms_changeset_new(void)
{
	ms_changeset *cs = calloc(1, sizeof(*cs));

	if (cs) {
		ms_strmap_init(&cs->dbs);
		ms_strmap_init(&cs->tidx);
	}
	return cs;
}

void ms_changeset_free(ms_changeset *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->nt; i++) {
		free(cs->t[i].db);
		free(cs->t[i].table);
		ms_strmap_free(&cs->t[i].vkeys);
	}
	free(cs->t);
	ms_strmap_free(&cs->dbs);
	ms_strmap_free(&cs->tidx);
	free(cs);
}

/* name folded to lowercase into out (MS_NAME_MAX + 1 bytes); -1 when too long. */
static int fold(char *out, const char *name)
{
	size_t i, n = strlen(name);

	if (n > MS_NAME_MAX)
		return -1;
	for (i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	return 0;
}

static int table_key(ms_buf *b, const char *db, const char *table)
{
	return ms_buf_printf(b, "%s\t%s", db, table) < 0 ? -1 : 0;
}

const cs_table *ms_changeset_table(const ms_changeset *cs, const char *db, const char *table)
{
	char d[MS_NAME_MAX + 1], t[MS_NAME_MAX + 1];
	ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);
	ms_strmap_entry *e = NULL;

	if (fold(d, db) == 0 && fold(t, table) == 0 && table_key(&b, d, t) == 0)
		e = ms_strmap_get(&cs->tidx, ms_buf_cstr(&b));
	ms_buf_free(&b);
	return e ? &cs->t[e->tag - 1] : NULL;
}

unsigned ms_changeset_db(const ms_changeset *cs, const char *db)
{
	char d[MS_NAME_MAX + 1];
	ms_strmap_entry *e;

	if (fold(d, db) < 0 || !(e = ms_strmap_get(&cs->dbs, d)))
		return 0;
	return (unsigned)e->tag;
}

int ms_changeset_whole(const ms_changeset *cs, const cs_table *t)
{
	return (t->flags & (CS_ALL_PARTITIONS | CS_DROPPED)) ||
	       (ms_changeset_db(cs, t->db) & CS_DB_DROPPED);
}

int ms_changeset_names_change(const ms_changeset *cs)
{
	size_t i;

	for (i = 0; i < cs->dbs.nslots; i++)
		if (cs->dbs.slots[i].key && (cs->dbs.slots[i].tag & CS_DB_CHANGED))
			return 1;
	for (i = 0; i < cs->nt; i++)
		if (cs->t[i].flags & (CS_TABLE | CS_DROPPED))
			return 1;
	return 0;
}

/* The table's entry, made when new. */
static cs_table *table_entry(ms_changeset *cs, const char *db, const char *table, ms_error *err)
{
	ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);
	ms_strmap_entry *e;
	cs_table *t;
	int rc;

	if (table_key(&b, db, table) < 0 ||
	    (rc = ms_strmap_put(&cs->tidx, ms_buf_cstr(&b), &e)) < 0) {
		ms_buf_free(&b);
		ms_error_set(err, MS_ENOMEM, "out of memory");
		return NULL;
	}
	ms_buf_free(&b);
	if (rc == 0)
		return &cs->t[e->tag - 1];
	if (cs->nt == cs->alloc) {
		size_t na = cs->alloc ? cs->alloc * 2 : 8;
		cs_table *nv = realloc(cs->t, na * sizeof(*nv));

		if (!nv) {
			ms_error_set(err, MS_ENOMEM, "out of memory");
			return NULL;
		}
		cs->t = nv;
		cs->alloc = na;
	}
	t = &cs->t[cs->nt];
	memset(t, 0, sizeof(*t));
	ms_strmap_init(&t->vkeys);
	if (!(t->db = strdup(db)) || !(t->table = strdup(table))) {
		free(t->db);
		ms_error_set(err, MS_ENOMEM, "out of memory");
		return NULL;
	}
	e->tag = (int)++cs->nt;
	return t;
}

static int add_key(ms_changeset *cs, ms_kind kind, const char *database, const char *tbl,
		   const char *vkey, unsigned flags, ms_error *err)
{
	char db[MS_NAME_MAX + 1], table[MS_NAME_MAX + 1];
	ms_strmap_entry *e;
	cs_table *t;

	if (fold(db, database) < 0 || (kind != MS_KIND_DATABASE && (!tbl || fold(table, tbl) < 0)))
		return ms_error_set(err, MS_EINVAL, "a change names '%.64s...': too long a name",
				    database);
	if (ms_strmap_put(&cs->dbs, db, &e) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	e->tag |= CS_DB_NAMED;
	if (kind == MS_KIND_DATABASE) {
		e->tag |= (int)flags;
		return 0;
	}
	if (!(t = table_entry(cs, db, table, err)))
		return err->code;
	if (kind == MS_KIND_TABLE) {
		t->flags |= flags;
		return 0;
	}
	if (!vkey)
		return ms_error_set(err, MS_EINVAL,
				    "a change of a partition of '%s.%s' has no values", db, table);
	return ms_strmap_put(&t->vkeys, vkey, &e) < 0
		       ? ms_error_set(err, MS_ENOMEM, "out of memory")
		       : 0;
}

int ms_changeset_add(const ms_change *c, void *ctx, ms_error *err)
{
	ms_changeset *cs = ctx;
	unsigned flags = 0;
	int rc;

	if (!c->database)
		return ms_error_set(err, MS_EINVAL, "a change names no database");
	if (c->kind == MS_KIND_DATABASE)
		flags = CS_DB_CHANGED | (c->op == MS_CHANGE_DELETE ? CS_DB_DROPPED : 0);
	else if (c->kind == MS_KIND_TABLE)
		flags = (c->all_partitions ? CS_ALL_PARTITIONS : CS_TABLE) |
			(c->op == MS_CHANGE_DELETE ? CS_DROPPED : 0);
	if ((rc = add_key(cs, c->kind, c->database, c->table, c->vkey, flags, err)) < 0)
		return rc;
	cs->changes++;
	if (c->time > 0 && (cs->oldest == 0 || c->time < cs->oldest))
		cs->oldest = c->time;
	return 0;
}

int ms_changeset_merge(ms_changeset *cs, const ms_changeset *from, ms_error *err)
{
	size_t i, j;
	int rc;

	for (i = 0; i < from->dbs.nslots; i++) {
		const ms_strmap_entry *e = &from->dbs.slots[i];

		if (e->key && (e->tag & CS_DB_CHANGED) &&
		    (rc = add_key(cs, MS_KIND_DATABASE, e->key, NULL, NULL,
				  (unsigned)e->tag & ~(unsigned)CS_DB_NAMED, err)) < 0)
			return rc;
	}
	for (i = 0; i < from->nt; i++) {
		const cs_table *t = &from->t[i];

		if ((rc = add_key(cs, MS_KIND_TABLE, t->db, t->table, NULL, t->flags, err)) < 0)
			return rc;
		for (j = 0; j < t->vkeys.nslots; j++)
			if (t->vkeys.slots[j].key &&
			    (rc = add_key(cs, MS_KIND_PARTITION, t->db, t->table,
					  t->vkeys.slots[j].key, 0, err)) < 0)
				return rc;
	}
	cs->changes += from->changes;
	if (from->oldest > 0 && (cs->oldest == 0 || from->oldest < cs->oldest))
		cs->oldest = from->oldest;
	return 0;
}

size_t ms_changeset_changes(const ms_changeset *cs)
{
	return cs->changes;
}

size_t ms_changeset_keys(const ms_changeset *cs)
{
	size_t i, n = 0;

	for (i = 0; i < cs->dbs.nslots; i++)
		n += cs->dbs.slots[i].key && (cs->dbs.slots[i].tag & CS_DB_CHANGED);
	for (i = 0; i < cs->nt; i++)
		n += (cs->t[i].flags != 0) + cs->t[i].vkeys.count;
	return n;
}

long long ms_changeset_oldest(const ms_changeset *cs)
{
	return cs->oldest;
}
