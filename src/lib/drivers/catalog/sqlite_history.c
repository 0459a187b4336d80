/*
 * The history of an embedded SQLite catalog: the change log every write
 * appends to (read back by changes_since) and the archived versions of
 * tables (Glue's table versions).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "drivers/catalog/sqlite_internal.h"

/* A query that answers one integer (or none: *v untouched). */
static int one_int(sqlite_catalog *self, enum stmt_id id, long long arg, int bind, long long *v,
		   ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_short_stmt(self, id, &st, err)) < 0)
		return rc;
	if (bind)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE
		     ? 0
		     : sqlite_fail(self, rc, err, "cannot read the change log of '%s'",
				   self->base.url);
	sqlite3_reset(st);
	return rc;
}

/*
 * The change log keeps a row for keep-changes (7 days unless the URL says):
 * at every PRUNE_EVERY-th row logged (by seq, whoever writes it), the rows
 * older than that go,
 * and the file remembers the last seq removed, so that a cursor from before
 * it is told to read everything again (MS_ECONFLICT), never given a feed
 * with a hole.  Rows are in seq order and their times grow with it, so the
 * first row young enough bounds what goes.
 */
#define PRUNE_EVERY 4096

static int prune_changes(sqlite_catalog *self, long long now, ms_error *err)
{
	long long first = -1, last = 0;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = one_int(self, ST_CHANGES_FIRST_KEPT, now - self->keep_changes_ms, 1, &first,
			  err)) < 0 ||
	    (first < 0 && (rc = one_int(self, ST_CHANGES_LAST, 0, 0, &last, err)) < 0))
		return rc;
	if (first < 0)
		first = last + 1;
	if ((rc = sqlite_short_stmt(self, ST_CHANGES_PRUNE, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, first);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(self, rc, err, "cannot prune the change log of '%s'",
				   self->base.url);
	if (sqlite3_changes(self->db) == 0)
		return 0;
	if ((rc = sqlite_short_stmt(self, ST_CHANGES_MARK_PRUNED, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, first - 1);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0
				 : sqlite_fail(self, rc, err, "cannot prune the change log of '%s'",
					       self->base.url);
}

/*
 * Append one row to the change log, bound without copies, stamped with the
 * time in Unix milliseconds (older rows may hold seconds:
 * sqlite_changes_since tells them apart).
 */
int sqlite_log_change(sqlite_catalog *self, const char *kind, const char *db, const char *table,
		      const char *vkey, const char *op, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	struct timeval tv;
	long long now;
	int rc;

	gettimeofday(&tv, NULL);
	now = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;

	if ((rc = sqlite_short_stmt(self, ST_LOG, &st, err)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, db, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, vkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, op, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rc = sqlite_fail(self, rc, err, "cannot log a change to %s '%s' in '%s'", kind, db,
				 self->base.url);
	else
		rc = 0;
	sqlite3_reset(st);
	if (rc == 0 && self->keep_changes_ms > 0 &&
	    sqlite3_last_insert_rowid(self->db) % PRUNE_EVERY == 0)
		rc = prune_changes(self, now, err);
	return rc;
}

/*
 * Fold db and table into dbn and tbn and borrow statement id (give it back
 * with sqlite_put_stmt) bound to (catalog, database, table) and, unless version_id
 * is NULL, the version's number.
 */
static int version_stmt(sqlite_catalog *self, enum stmt_id id, const char *db, const char *table,
			const char *version_id, char *dbn, char *tbn, sqlite3_stmt **out,
			int *owned, ms_error *err)
{
	long long v = 0;
	int rc;

	if ((rc = sqlite_fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = sqlite_fold_name(tbn, table, "table", err)) < 0)
		return rc;
	if (version_id && ms_catalog_version_number(version_id, &v) < 0)
		return ms_error_set(err, MS_EINVAL,
				    "version '%.64s' of table '%s.%s' is not a "
				    "VersionId",
				    version_id, dbn, tbn);
	if ((rc = sqlite_get_stmt(self, id, out, owned, err)) < 0)
		return rc;
	sqlite3_bind_text(*out, 1, self->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(*out, 2, dbn, -1, SQLITE_STATIC);
	sqlite3_bind_text(*out, 3, tbn, -1, SQLITE_STATIC);
	if (version_id)
		sqlite3_bind_int64(*out, 4, v);
	return 0;
}

/*
 * Archive a table document under its VersionId, stored as put_table stores
 * documents (canonical, with this catalog's names and CatalogId) but with
 * the CreateTime, UpdateTime and VersionId it was archived with.
 */
int sqlite_put_table_version(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	const cJSON *vid = cJSON_GetObjectItemCaseSensitive(e->doc, "VersionId");
	unsigned char hash[MS_HASH_LEN];
	char dbn[NAME_BUF], n[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, n, cJSON_IsString(vid) ? vid->valuestring : "" };
	sqlite3_int64 db_id;
	sqlite3_stmt *st = NULL;
	put_texts t;
	int rc, owned = 0, began = 0;

	sqlite_texts_init(&t);
	if ((rc = version_stmt(self, ST_VER_PUT, e->database, e->table, subj.vkey, dbn, n, &st,
			       &owned, err)) < 0 ||
	    (rc = sqlite_entity_hash(e, hash, err)) < 0 ||
	    (rc = sqlite_texts_prepare(self, &t, dbn, n, err)) < 0)
		goto done;
	if ((rc = sqlite_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = sqlite_find_database(self, dbn, &db_id, err)) < 0)
		goto done;
	{
		const doc_override ov[] = {
			{ "Name", &t.table, 0 },
			{ "DatabaseName", &t.database, 0 },
			{ "CatalogId", self->catalog_id ? &t.catalog : NULL, 0 },
		};

		if ((rc = sqlite_compose_doc(self, e->doc, ov, 3, &subj, err)) < 0)
			goto done;
	}
	rc = sqlite_write_doc(self, st, 5, hash, &subj, err);
done:
	sqlite_put_stmt(st, owned);
	if (began)
		rc = sqlite_call_end(self, rc, err);
	sqlite_texts_free(&t);
	return rc;
}

int sqlite_scan_table_versions(ms_catalog *cat, const char *db, const char *table, ms_entity_cb cb,
			       void *ctx, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, tbn, NULL };
	sqlite3_stmt *st = NULL;
	int owned = 0, rc;

	if ((rc = version_stmt(self, ST_VER_SCAN, db, table, NULL, dbn, tbn, &st, &owned, err)) < 0)
		return rc;
	rc = sqlite_stream_rows(self, st, &subj, 0, cb, ctx, err);
	sqlite_put_stmt(st, owned);
	return rc;
}

int sqlite_get_table_version(ms_catalog *cat, const char *db, const char *table,
			     const char *version_id, ms_entity **out, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, tbn, version_id };
	sqlite3_stmt *st = NULL;
	int owned = 0, rc;

	if ((rc = version_stmt(self, ST_VER_GET, db, table, version_id, dbn, tbn, &st, &owned,
			       err)) < 0)
		return rc;
	rc = sqlite_get_row(self, st, out, &subj, err);
	sqlite_put_stmt(st, owned);
	return rc;
}

int sqlite_delete_table_version(ms_catalog *cat, const char *db, const char *table,
				const char *version_id, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF], what[MS_ERROR_MESSAGE_MAX];
	subject subj = { MS_KIND_TABLE, dbn, tbn, version_id };
	sqlite3_stmt *st = NULL;
	int owned = 0, rc;

	if ((rc = sqlite_call_begin(self, err)) < 0)
		return rc;
	if ((rc = version_stmt(self, ST_VER_DELETE, db, table, version_id, dbn, tbn, &st, &owned,
			       err)) < 0)
		goto done;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rc = sqlite_fail(self, rc, err, "cannot delete %s in '%s'",
				 sqlite_subject_text(&subj, what, sizeof(what)), self->base.url);
	else if (sqlite3_changes(self->db) == 0)
		rc = ms_error_set(err, MS_ENOTFOUND, "%s not found in '%s'",
				  sqlite_subject_text(&subj, what, sizeof(what)), self->base.url);
	else
		rc = 0;
done:
	sqlite_put_stmt(st, owned);
	return sqlite_call_end(self, rc, err);
}

static int parse_cursor(const char *cursor, sqlite3_int64 *seq)
{
	sqlite3_int64 v = 0;
	const char *p;

	if (!cursor || !*cursor) {
		*seq = 0;
		return 0;
	}
	for (p = cursor; *p; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
			return MS_EINVAL;
		v = v * 10 + (*p - '0');
	}
	*seq = v;
	return 0;
}

static int change_kind(const char *s, ms_kind *kind)
{
	if (strcmp(s, "partition") == 0)
		*kind = MS_KIND_PARTITION;
	else if (strcmp(s, "table") == 0)
		*kind = MS_KIND_TABLE;
	else if (strcmp(s, "database") == 0)
		*kind = MS_KIND_DATABASE;
	else
		return MS_EIO;
	return 0;
}

/*
 * A cursor from before the rows the log dropped, or past its last row (the
 * file was replaced by an older copy): MS_ECONFLICT, read everything again.
 */
static int check_cursor(sqlite_catalog *self, long long seq, ms_error *err)
{
	long long pruned = 0, last = 0;
	int rc;

	if ((rc = one_int(self, ST_CHANGES_PRUNED, 0, 0, &pruned, err)) < 0 ||
	    (rc = one_int(self, ST_CHANGES_LAST, 0, 0, &last, err)) < 0)
		return rc;
	if (seq < pruned)
		return ms_error_set(err, MS_ECONFLICT,
				    "change cursor '%lld' is older than the change log of '%s' "
				    "keeps (up to %lld pruned): read everything again",
				    seq, self->base.url, pruned);
	if (seq > last)
		return ms_error_set(err, MS_ECONFLICT,
				    "change cursor '%lld' is past the last change of '%s' (%lld): "
				    "the file was replaced; read everything again",
				    seq, self->base.url, last);
	return 0;
}

int sqlite_changes_since(ms_catalog *cat, const char *cursor, ms_change_cb cb, void *ctx,
			 char **next_cursor, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	sqlite3_int64 seq;
	sqlite3_stmt *st = NULL;
	char buf[32], *next;
	int owned = 0, rc;

	if (parse_cursor(cursor, &seq) < 0)
		return ms_error_set(err, MS_EINVAL, "invalid change cursor '%.64s' for '%s'",
				    cursor, self->base.url);
	if (seq > 0 && (rc = check_cursor(self, seq, err)) < 0)
		return rc;
	if ((rc = sqlite_get_stmt(self, ST_CHANGES, &st, &owned, err)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(st, 5);
		ms_change c;

		c.seq = sqlite3_column_int64(st, 0);
		c.database = (const char *)sqlite3_column_text(st, 2);
		c.table = (const char *)sqlite3_column_text(st, 3);
		c.vkey = (const char *)sqlite3_column_text(st, 4);
		c.op = op && strcmp(op, "delete") == 0 ? MS_CHANGE_DELETE : MS_CHANGE_PUT;
		c.all_partitions = 0;
		c.time = sqlite3_column_int64(st, 6);
		if (c.time < 100000000000LL) /* seconds, from an older version */
			c.time *= 1000;
		if (!c.database || !op ||
		    change_kind((const char *)sqlite3_column_text(st, 1), &c.kind) < 0) {
			rc = ms_error_set(err, MS_EIO, "change %lld in '%s' is corrupt", c.seq,
					  self->base.url);
			goto done;
		}
		if ((rc = cb(&c, ctx, err)) != 0)
			goto done;
		seq = c.seq;
	}
	if (rc != SQLITE_DONE) {
		rc = sqlite_fail(self, rc, err, "cannot read the change log of '%s'",
				 self->base.url);
		goto done;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)seq);
	if (!(next = strdup(buf))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	*next_cursor = next;
	rc = 0;
done:
	sqlite_put_stmt(st, owned);
	return rc;
}

int sqlite_change_head(ms_catalog *cat, char **cursor, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	long long last = 0;
	char buf[32];
	int rc;

	if ((rc = one_int(self, ST_CHANGES_LAST, 0, 0, &last, err)) < 0)
		return rc;
	snprintf(buf, sizeof(buf), "%lld", last);
	if (!(*cursor = strdup(buf)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}
