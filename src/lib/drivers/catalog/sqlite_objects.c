/*
 * Databases and tables of the embedded SQLite catalog: list, get, put
 * (keeping the stored creation time) and delete with their cascades.
 */
#include <time.h>

#include "drivers/catalog/sqlite_internal.h"

/* Run statements that take one id and return no rows: the steps of a delete. */
static int delete_by_id(sqlite_catalog *self, const enum stmt_id *steps, size_t n, sqlite3_int64 id,
			const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if ((rc = sqlite_short_stmt(self, steps[i], &st, err)) < 0)
			return rc;
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			rc = sqlite_fail(self, rc, err, "cannot delete %s in '%s'",
					 sqlite_subject_text(subj, what, sizeof(what)),
					 self->base.url);
		else
			rc = 0;
		sqlite3_reset(st);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Iterate a one-column name statement already bound, calling cb per row. */
static int list_names(sqlite_catalog *self, sqlite3_stmt *st, ms_name_cb cb, void *ctx,
		      const char *what, ms_error *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int cbrc = cb((const char *)sqlite3_column_text(st, 0), ctx, err);

		if (cbrc != 0)
			return cbrc;
	}
	if (rc != SQLITE_DONE)
		return sqlite_fail(self, rc, err, "cannot list %s in '%s'", what, self->base.url);
	return 0;
}

int sqlite_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	sqlite3_stmt *st = NULL;
	int owned, rc;

	if ((rc = sqlite_get_stmt(self, ST_DB_LIST, &st, &owned, err)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	rc = list_names(self, st, cb, ctx, "databases", err);
	sqlite_put_stmt(st, owned);
	return rc;
}

int sqlite_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char n[NAME_BUF];
	subject subj = { MS_KIND_DATABASE, n, NULL, NULL };
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_fold_name(n, name, "database", err)) < 0 ||
	    (rc = sqlite_short_stmt(self, ST_DB_GET, &st, err)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	rc = sqlite_get_row(self, st, out, &subj, err);
	sqlite3_reset(st);
	return rc;
}

/* The stored creation time of the row id (stmt: ST_DB_CTIME, ST_TBL_CTIME) into t->stored. */
static int stored_ctime(sqlite_catalog *self, enum stmt_id stmt, sqlite3_int64 id, put_texts *t,
			int *has_time, const subject *subj, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_short_stmt(self, stmt, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite_read_stored_time(self, st, t, has_time, subj, err);
	sqlite3_reset(st);
	return rc;
}

int sqlite_put_database(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	unsigned char hash[MS_HASH_LEN];
	char n[NAME_BUF];
	subject subj = { MS_KIND_DATABASE, n, NULL, NULL };
	sqlite3_int64 id = 0;
	sqlite3_stmt *st = NULL;
	put_texts t;
	int rc, began = 0, exists, has_time = 0;

	sqlite_texts_init(&t);
	if (!e || e->kind != MS_KIND_DATABASE || !e->doc) {
		rc = ms_error_set(err, MS_EINVAL, "entity given to put_database is not a database");
		goto done;
	}
	if ((rc = sqlite_fold_name(n, e->database, "database", err)) < 0 ||
	    (rc = sqlite_entity_hash(e, hash, err)) < 0 ||
	    (rc = sqlite_texts_prepare(self, &t, n, NULL, err)) < 0)
		goto done;
	if ((rc = sqlite_call_begin(self, err)) < 0)
		goto done;
	began = 1;

	if ((rc = sqlite_database_id(self, n, &id, &exists, err)) < 0)
		goto done;
	if (exists && (rc = stored_ctime(self, ST_DB_CTIME, id, &t, &has_time, &subj, err)) < 0)
		goto done;
	{
		const doc_override ov[] = {
			{ "Name", &t.database, 0 },
			{ "CatalogId", self->catalog_id ? &t.catalog : NULL, 0 },
			{ "CreateTime", has_time ? &t.stored : &t.now, 1 },
		};

		if ((rc = sqlite_compose_doc(self, e->doc, ov, 3, &subj, err)) < 0)
			goto done;
	}
	if ((rc = sqlite_short_stmt(self, exists ? ST_DB_UPDATE : ST_DB_INSERT, &st, err)) < 0)
		goto done;
	if (exists) {
		sqlite3_bind_int64(st, 1, id);
	} else {
		sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	}
	if ((rc = sqlite_write_doc(self, st, exists ? 2 : 3, hash, &subj, err)) < 0)
		goto done;
	rc = sqlite_log_change(self, "database", n, NULL, NULL, "put", err);
done:
	if (began)
		rc = sqlite_call_end(self, rc, err);
	sqlite_texts_free(&t);
	return rc;
}

int sqlite_delete_database(ms_catalog *cat, const char *name, ms_error *err)
{
	static const enum stmt_id steps[] = { ST_DB_DELETE_VERSIONS, ST_DB_DELETE_PARTS,
					      ST_DB_DELETE_TABLES, ST_DB_DELETE };
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char n[NAME_BUF];
	subject subj = { MS_KIND_DATABASE, n, NULL, NULL };
	sqlite3_int64 id;
	int rc, began = 0;

	if ((rc = sqlite_fold_name(n, name, "database", err)) < 0)
		return rc;
	if ((rc = sqlite_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = sqlite_find_database(self, n, &id, err)) < 0 ||
	    (rc = delete_by_id(self, steps, sizeof(steps) / sizeof(steps[0]), id, &subj, err)) < 0)
		goto done;
	rc = sqlite_log_change(self, "database", n, NULL, NULL, "delete", err);
done:
	if (began)
		rc = sqlite_call_end(self, rc, err);
	return rc;
}

int sqlite_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char n[NAME_BUF];
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	int owned, rc;

	if ((rc = sqlite_fold_name(n, db, "database", err)) < 0 ||
	    (rc = sqlite_find_database(self, n, &id, err)) < 0 ||
	    (rc = sqlite_get_stmt(self, ST_TBL_LIST, &st, &owned, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = list_names(self, st, cb, ctx, "tables", err);
	sqlite_put_stmt(st, owned);
	return rc;
}

int sqlite_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out,
		     ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], n[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, n, NULL };
	sqlite3_int64 db_id = 0;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = sqlite_fold_name(n, name, "table", err)) < 0 ||
	    (rc = sqlite_find_database(self, dbn, &db_id, err)) < 0 ||
	    (rc = sqlite_short_stmt(self, ST_TBL_GET, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, db_id);
	sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	rc = sqlite_get_row(self, st, out, &subj, err);
	sqlite3_reset(st);
	return rc;
}

int sqlite_put_table(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	unsigned char hash[MS_HASH_LEN];
	char dbn[NAME_BUF], n[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, n, NULL };
	sqlite3_int64 db_id, id = 0;
	sqlite3_stmt *st = NULL;
	put_texts t;
	int rc, began = 0, exists, has_time = 0;

	sqlite_texts_init(&t);
	if (!e || e->kind != MS_KIND_TABLE || !e->doc) {
		rc = ms_error_set(err, MS_EINVAL, "entity given to put_table is not a table");
		goto done;
	}
	if ((rc = sqlite_fold_name(dbn, e->database, "database", err)) < 0 ||
	    (rc = sqlite_fold_name(n, e->table, "table", err)) < 0 ||
	    (rc = sqlite_entity_hash(e, hash, err)) < 0 ||
	    (rc = sqlite_texts_prepare(self, &t, dbn, n, err)) < 0)
		goto done;
	if ((rc = sqlite_call_begin(self, err)) < 0)
		goto done;
	began = 1;

	if ((rc = sqlite_find_database(self, dbn, &db_id, err)) < 0 ||
	    (rc = sqlite_table_id(self, db_id, dbn, n, &id, &exists, err)) < 0)
		goto done;
	if (exists && (rc = stored_ctime(self, ST_TBL_CTIME, id, &t, &has_time, &subj, err)) < 0)
		goto done;
	{
		const doc_override ov[] = {
			{ "Name", &t.table, 0 },
			{ "DatabaseName", &t.database, 0 },
			{ "CatalogId", self->catalog_id ? &t.catalog : NULL, 0 },
			{ "CreateTime", has_time ? &t.stored : &t.now, 1 },
			{ "UpdateTime", &t.now, 0 },
		};

		if ((rc = sqlite_compose_doc(self, e->doc, ov, 5, &subj, err)) < 0)
			goto done;
	}
	if ((rc = sqlite_short_stmt(self, exists ? ST_TBL_UPDATE : ST_TBL_INSERT, &st, err)) < 0)
		goto done;
	if (exists) {
		sqlite3_bind_int64(st, 1, id);
	} else {
		sqlite3_bind_int64(st, 1, db_id);
		sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	}
	if ((rc = sqlite_write_doc(self, st, exists ? 2 : 3, hash, &subj, err)) < 0)
		goto done;
	rc = sqlite_log_change(self, "table", dbn, n, NULL, "put", err);
done:
	if (began)
		rc = sqlite_call_end(self, rc, err);
	sqlite_texts_free(&t);
	return rc;
}

int sqlite_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err)
{
	static const enum stmt_id steps[] = { ST_TBL_DELETE_VERSIONS, ST_TBL_DELETE_PARTS,
					      ST_TBL_DELETE };
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], n[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, n, NULL };
	sqlite3_int64 id;
	int rc, began = 0;

	if ((rc = sqlite_fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = sqlite_fold_name(n, name, "table", err)) < 0)
		return rc;
	if ((rc = sqlite_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = sqlite_find_table(self, dbn, n, &id, err)) < 0 ||
	    (rc = delete_by_id(self, steps, sizeof(steps) / sizeof(steps[0]), id, &subj, err)) < 0)
		goto done;
	rc = sqlite_log_change(self, "table", dbn, n, NULL, "delete", err);
done:
	if (began)
		rc = sqlite_call_end(self, rc, err);
	return rc;
}
