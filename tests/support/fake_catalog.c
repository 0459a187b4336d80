/*
 * The fake catalog: entities in one flat array, every slot counting its
 * calls.  Linear scans are fine at test sizes.
 */
#include "fake_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same(const ms_entity *e, ms_kind kind, const char *db, const char *table,
		const char *vkey)
{
	return e->kind == kind && strcmp(e->database, db) == 0 &&
	       (kind == MS_KIND_DATABASE || strcmp(e->table, table) == 0) &&
	       (kind != MS_KIND_PARTITION || strcmp(e->vkey, vkey) == 0);
}

ms_entity *fake_find(const fake_catalog *f, ms_kind kind, const char *db, const char *table,
		     const char *vkey)
{
	for (size_t i = 0; i < f->n; i++)
		if (same(f->items[i], kind, db, table, vkey))
			return f->items[i];
	return NULL;
}

size_t fake_count(const fake_catalog *f, ms_kind kind)
{
	size_t c = 0;

	for (size_t i = 0; i < f->n; i++)
		c += f->items[i]->kind == kind;
	return c;
}

int fake_writes(const fake_catalog *f)
{
	return f->calls.put_database + f->calls.delete_database + f->calls.put_table +
	       f->calls.delete_table + f->calls.put_partitions + f->calls.delete_partitions;
}

static void remove_at(fake_catalog *f, size_t i)
{
	ms_entity_free(f->items[i]);
	f->items[i] = f->items[--f->n];
}

static int store(fake_catalog *f, const ms_entity *e, ms_error *err)
{
	ms_entity *copy = NULL, *old;
	ms_entity **ni;
	int rc;

	if ((rc = ms_entity_dup(&copy, e, err)) < 0)
		return rc;
	old = fake_find(f, e->kind, e->database, e->table, e->vkey);
	if (old) {
		for (size_t i = 0; i < f->n; i++)
			if (f->items[i] == old)
				f->items[i] = copy;
		ms_entity_free(old);
		return 0;
	}
	ni = realloc(f->items, (f->n + 1) * sizeof(*ni));
	if (!ni) {
		ms_entity_free(copy);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	f->items = ni;
	f->items[f->n++] = copy;
	return 0;
}

static void fake_close(ms_catalog *self)
{
	fake_catalog *f = (fake_catalog *)self;

	for (size_t i = 0; i < f->n; i++)
		ms_entity_free(f->items[i]);
	for (size_t i = 0; i < f->nsaved; i++)
		ms_entity_free(f->saved[i]);
	free(f->items);
	free(f->saved);
	ms_catalog_base_free(&f->base);
	free(f);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_kind(fake_catalog *f, ms_kind kind, const char *db, ms_name_cb cb, void *ctx,
		     ms_error *err)
{
	const char **names = calloc(f->n + 1, sizeof(char *));
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->items[i]->kind == kind && (!db || strcmp(f->items[i]->database, db) == 0))
			names[n++] = kind == MS_KIND_DATABASE ? f->items[i]->database
							      : f->items[i]->table;
	qsort(names, n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cb(names[i], ctx, err);
	free(names);
	return rc;
}

static int get(fake_catalog *f, ms_kind kind, const char *db, const char *table, const char *vkey,
	       ms_entity **out, ms_error *err)
{
	ms_entity *e = fake_find(f, kind, db, table, vkey);

	if (!e)
		return ms_error_set(err, MS_ENOTFOUND, "%s '%s' not found", ms_kind_name(kind), db);
	return ms_entity_dup(out, e, err);
}

static int list_databases(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err)
{
	return list_kind((fake_catalog *)self, MS_KIND_DATABASE, NULL, cb, ctx, err);
}

static int get_database(ms_catalog *self, const char *name, ms_entity **out, ms_error *err)
{
	return get((fake_catalog *)self, MS_KIND_DATABASE, name, NULL, NULL, out, err);
}

static int put_database(ms_catalog *self, const ms_entity *db, ms_error *err)
{
	((fake_catalog *)self)->calls.put_database++;
	return store((fake_catalog *)self, db, err);
}

static int delete_database(ms_catalog *self, const char *name, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.delete_database++;
	for (size_t i = f->n; i-- > 0;)
		if (strcmp(f->items[i]->database, name) == 0)
			remove_at(f, i);
	return 0;
}

static int list_tables(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	return list_kind((fake_catalog *)self, MS_KIND_TABLE, db, cb, ctx, err);
}

static int get_table(ms_catalog *self, const char *db, const char *name, ms_entity **out,
		     ms_error *err)
{
	return get((fake_catalog *)self, MS_KIND_TABLE, db, name, NULL, out, err);
}

static int put_table(ms_catalog *self, const ms_entity *t, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.put_table++;
	if (f->on_put_table) {
		int rc = f->on_put_table(f, t, err);

		if (rc < 0)
			return rc;
	}
	if (!fake_find(f, MS_KIND_DATABASE, t->database, NULL, NULL))
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found", t->database);
	return store(f, t, err);
}

static int delete_table(ms_catalog *self, const char *db, const char *name, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.delete_table++;
	for (size_t i = f->n; i-- > 0;)
		if (f->items[i]->kind != MS_KIND_DATABASE &&
		    strcmp(f->items[i]->database, db) == 0 && strcmp(f->items[i]->table, name) == 0)
			remove_at(f, i);
	return 0;
}

static int scan_partitions(ms_catalog *self, const char *db, const char *table, unsigned int flags,
			   ms_entity_cb cb, void *ctx, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;
	int rc = 0;

	f->calls.scan++;
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		ms_entity *e = f->items[i], *copy = NULL;
		if (e->kind != MS_KIND_PARTITION || strcmp(e->database, db) ||
		    strcmp(e->table, table))
			continue;
		if ((rc = ms_entity_dup(&copy, e, err)) < 0)
			break;
		rc = cb(copy, ctx, err);
	}
	return rc;
}

static int get_partition(ms_catalog *self, const char *db, const char *table, const char *vkey,
			 ms_entity **out, ms_error *err)
{
	return get((fake_catalog *)self, MS_KIND_PARTITION, db, table, vkey, out, err);
}

static int put_partitions(ms_catalog *self, const char *db, const char *table,
			  ms_entity *const *parts, size_t n, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;
	int rc;

	f->calls.put_partitions++;
	if (f->fail_put_partitions_at && f->calls.put_partitions == f->fail_put_partitions_at)
		return ms_error_set(err, MS_EIO, "injected failure writing '%s.%s'", db, table);
	for (size_t i = 0; f->refuse_vkey && i < n; i++)
		if (strcmp(parts[i]->vkey, f->refuse_vkey) == 0)
			return ms_error_set(err, MS_EEXISTS,
					    "injected: partition %s of '%s.%s' collides with "
					    "another",
					    parts[i]->vkey, db, table);
	for (size_t i = 0; i < n; i++) {
		f->calls.put_partition_rows++;
		if ((rc = store(f, parts[i], err)) < 0)
			return rc;
	}
	return 0;
}

static int delete_partitions(ms_catalog *self, const char *db, const char *table,
			     const char *const *vkeys, size_t n, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.delete_partitions++;
	for (size_t k = 0; k < n; k++)
		for (size_t i = f->n; i-- > 0;)
			if (same(f->items[i], MS_KIND_PARTITION, db, table, vkeys[k]))
				remove_at(f, i);
	return 0;
}

static int table_digest(ms_catalog *self, const char *db, const char *table, ms_digest *out,
			ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	if (!f->support_digest)
		return ms_error_set(err, MS_ENOTSUPPORTED, "no digest");
	f->calls.digest++;
	ms_digest_init(out);
	for (size_t i = 0; i < f->n; i++)
		if (same(f->items[i], MS_KIND_PARTITION, db, table, f->items[i]->vkey))
			ms_digest_add(out, f->items[i]->hash);
	return 0;
}

static int verify_table(ms_catalog *self, const char *db, const char *table, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.verify++;
	if (f->on_verify)
		f->on_verify(f->on_verify_ctx);
	if (f->fail_verify)
		return ms_error_set(err, MS_EINTEGRITY, "file for '%s.%s' does not match", db,
				    table);
	return 0;
}

static void drop_saved(fake_catalog *f)
{
	for (size_t i = 0; i < f->nsaved; i++)
		ms_entity_free(f->saved[i]);
	free(f->saved);
	f->saved = NULL;
	f->nsaved = 0;
}

static int begin(ms_catalog *self, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.begin++;
	drop_saved(f);
	f->saved = calloc(f->n + 1, sizeof(ms_entity *));
	for (size_t i = 0; i < f->n; i++)
		ms_entity_dup(&f->saved[i], f->items[i], err);
	f->nsaved = f->n;
	return 0;
}

static int commit(ms_catalog *self, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.commit++;
	drop_saved(f);
	return 0;
}

static int rollback(ms_catalog *self, ms_error *err)
{
	fake_catalog *f = (fake_catalog *)self;

	f->calls.rollback++;
	for (size_t i = 0; i < f->n; i++)
		ms_entity_free(f->items[i]);
	free(f->items);
	f->items = f->saved;
	f->n = f->nsaved;
	f->saved = NULL;
	f->nsaved = 0;
	return 0;
}

static const ms_catalog_driver fake_tx_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "fake",
	.caps = MS_CAP_WRITE | MS_CAP_TRANSACTIONS,
	.close = fake_close,
	.list_databases = list_databases,
	.get_database = get_database,
	.put_database = put_database,
	.delete_database = delete_database,
	.list_tables = list_tables,
	.get_table = get_table,
	.put_table = put_table,
	.delete_table = delete_table,
	.scan_partitions = scan_partitions,
	.get_partition = get_partition,
	.put_partitions = put_partitions,
	.delete_partitions = delete_partitions,
	.table_digest = table_digest,
	.verify_table = verify_table,
	.begin = begin,
	.commit = commit,
	.rollback = rollback,
};

static const ms_catalog_driver fake_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "fake",
	.caps = MS_CAP_WRITE,
	.close = fake_close,
	.list_databases = list_databases,
	.get_database = get_database,
	.put_database = put_database,
	.delete_database = delete_database,
	.list_tables = list_tables,
	.get_table = get_table,
	.put_table = put_table,
	.delete_table = delete_table,
	.scan_partitions = scan_partitions,
	.get_partition = get_partition,
	.put_partitions = put_partitions,
	.delete_partitions = delete_partitions,
	.table_digest = table_digest,
	.verify_table = verify_table,
};

fake_catalog *fake_catalog_new(const char *id, int transactional, int support_digest)
{
	fake_catalog *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	ms_catalog_base_init(&f->base, transactional ? &fake_tx_driver : &fake_driver, id, id,
			     NULL);
	f->transactional = transactional;
	f->support_digest = support_digest;
	return f;
}

void fake_add(fake_catalog *f, ms_kind kind, const char *db, const char *table, const char *json)
{
	ms_entity *e = NULL;
	ms_error err;
	cJSON *doc = cJSON_Parse(json);

	if (!doc || ms_entity_from_glue(&e, kind, doc, db, table, &err) < 0) {
		fprintf(stderr, "fake_add: bad entity %s: %s\n", json, doc ? err.message : "json");
		abort();
	}
	if (store(f, e, &err) < 0)
		abort();
	ms_entity_free(e);
}
