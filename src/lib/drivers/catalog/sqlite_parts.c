/*
 * Partitions of the embedded SQLite catalog: ordered and segmented scans of
 * the (table_id, vkey) index, batched puts and deletes, and the per-table
 * digest read from the stored hashes.
 */
#include <time.h>

#include "drivers/catalog/sqlite_internal.h"

/*
 * One seek into the (table_id, vkey) index, then the rows after it in vkey
 * order: a page after a cursor costs the page, not the table.  Segments are
 * those of ms_catalog_scan_segment (the ms_segment SQL function), tested on
 * the index's vkey before the row is read.
 */
int sqlite_scan_partitions_range(ms_catalog *cat, const char *db, const char *table,
				 const ms_scan_range *range, unsigned int flags, ms_entity_cb cb,
				 void *ctx, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_PARTITION, dbn, tbn, NULL };
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	int owned = 0, rc;

	if ((rc = sqlite_resolve_table(self, db, table, dbn, tbn, &id, err)) < 0 ||
	    (rc = sqlite_get_stmt(self,
				  (flags & MS_SCAN_KEYS_ONLY) ? ST_PART_SCAN_KEYS : ST_PART_SCAN,
				  &st, &owned, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, range->after ? range->after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)range->segments);
	sqlite3_bind_int(st, 4, (int)range->segment);
	rc = sqlite_stream_rows(self, st, &subj, flags, cb, ctx, err);
	sqlite_put_stmt(st, owned);
	return rc;
}

int sqlite_scan_partitions(ms_catalog *cat, const char *db, const char *table, unsigned int flags,
			   ms_entity_cb cb, void *ctx, ms_error *err)
{
	static const ms_scan_range all = { NULL, 0, 1 };

	return sqlite_scan_partitions_range(cat, db, table, &all, flags, cb, ctx, err);
}

/* The partition subj->vkey of table id into *out (MS_ENOTFOUND when absent). */
static int get_row(sqlite_catalog *self, sqlite3_int64 id, const subject *subj, ms_entity **out,
		   ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_short_stmt(self, ST_PART_GET, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, subj->vkey, -1, SQLITE_STATIC);
	rc = sqlite_get_row(self, st, out, subj, err);
	sqlite3_reset(st);
	return rc;
}

int sqlite_get_partition(ms_catalog *cat, const char *db, const char *table, const char *vkey,
			 ms_entity **out, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_PARTITION, dbn, tbn, vkey };
	sqlite3_int64 id;
	int rc;

	if (!vkey)
		return ms_error_set(err, MS_EINVAL, "missing partition values key");
	if ((rc = sqlite_resolve_table(self, db, table, dbn, tbn, &id, err)) < 0)
		return rc;
	return get_row(self, id, &subj, out, err);
}

/* Point reads in a batch: the table found once, then a lookup per vkey. */
int sqlite_get_partitions(ms_catalog *cat, const char *db, const char *table,
			  const char *const *vkeys, size_t n, ms_entity **out, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_PARTITION, dbn, tbn, NULL };
	sqlite3_int64 id;
	size_t i;
	int rc;

	if ((rc = sqlite_resolve_table(self, db, table, dbn, tbn, &id, err)) < 0)
		return rc == MS_ENOTFOUND ? 0 : rc;
	for (i = 0; i < n && rc == 0; i++) {
		subj.vkey = vkeys[i];
		if ((rc = get_row(self, id, &subj, &out[i], err)) == MS_ENOTFOUND)
			rc = 0;
	}
	return rc;
}

/*
 * Write one partition (self->doc composed by the caller unless a stored
 * creation time must be read first).  The common cases are one statement:
 * an upsert when the document carries its CreationTime, an insert when the
 * partition is new; replacing a partition whose document has none keeps the
 * stored one.
 */
static int put_partition(sqlite_catalog *self, sqlite3_int64 table_id, const char *dbn,
			 const char *tbn, const ms_entity *e, put_texts *t, ms_error *err)
{
	unsigned char hash[MS_HASH_LEN];
	int has_ctime = cJSON_GetObjectItemCaseSensitive(e->doc, "CreationTime") != NULL;
	doc_override ov[] = {
		{ "DatabaseName", &t->database, 0 },
		{ "TableName", &t->table, 0 },
		{ "CatalogId", self->catalog_id ? &t->catalog : NULL, 0 },
		{ "CreationTime", &t->now, 1 },
	};
	subject subj = { MS_KIND_PARTITION, dbn, tbn, e->vkey };
	sqlite3_stmt *st = NULL;
	int rc, found;

	if ((rc = sqlite_entity_hash(e, hash, err)) < 0 ||
	    (rc = sqlite_compose_doc(self, e->doc, ov, 4, &subj, err)) < 0 ||
	    (rc = sqlite_short_stmt(self, has_ctime ? ST_PART_UPSERT : ST_PART_INSERT_NEW, &st,
				    err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, table_id);
	sqlite3_bind_text(st, 2, e->vkey, -1, SQLITE_STATIC);
	if ((rc = sqlite_write_doc(self, st, 3, hash, &subj, err)) < 0)
		return rc;
	if (!has_ctime && sqlite3_changes(self->db) == 0) {
		if ((rc = sqlite_short_stmt(self, ST_PART_CTIME, &st, err)) < 0)
			return rc;
		sqlite3_bind_int64(st, 1, table_id);
		sqlite3_bind_text(st, 2, e->vkey, -1, SQLITE_STATIC);
		rc = sqlite_read_stored_time(self, st, t, &found, &subj, err);
		sqlite3_reset(st);
		if (rc < 0)
			return rc;
		ov[3].text = found ? &t->stored : &t->now;
		if ((rc = sqlite_compose_doc(self, e->doc, ov, 4, &subj, err)) < 0 ||
		    (rc = sqlite_short_stmt(self, ST_PART_UPDATE, &st, err)) < 0)
			return rc;
		sqlite3_bind_int64(st, 1, table_id);
		sqlite3_bind_text(st, 2, e->vkey, -1, SQLITE_STATIC);
		if ((rc = sqlite_write_doc(self, st, 3, hash, &subj, err)) < 0)
			return rc;
	}
	return sqlite_log_change(self, "partition", dbn, tbn, e->vkey, "put", err);
}

/*
 * Refuse partitions whose values cannot be table_id's
 * (ms_partition_check_count).  A catalog keyed by values would otherwise
 * hold a partition no engine can query.
 */
static int check_value_counts(sqlite_catalog *self, sqlite3_int64 table_id, const char *dbn,
			      const char *tbn, ms_entity *const *parts, size_t n, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	long long nkeys = 0;
	size_t i;
	int rc;

	if ((rc = sqlite_short_stmt(self, ST_TBL_NKEYS, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, table_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		nkeys = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE
		     ? 0
		     : sqlite_fail(self, rc, err, "cannot read table '%s.%s' in '%s'", dbn, tbn,
				   self->base.url);
	sqlite3_reset(st);
	for (i = 0; i < n && rc == 0; i++) {
		const cJSON *values = cJSON_GetObjectItemCaseSensitive(parts[i]->doc, "Values");

		rc = ms_partition_check_count(dbn, tbn, parts[i]->vkey,
					      (size_t)cJSON_GetArraySize(values),
					      nkeys > 0 ? (size_t)nkeys : 0, err);
	}
	return rc;
}

int sqlite_put_partitions(ms_catalog *cat, const char *db, const char *table,
			  ms_entity *const *parts, size_t n, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	sqlite3_int64 id;
	put_texts t;
	size_t i;
	int rc, began = 0;

	sqlite_texts_init(&t);
	for (i = 0; i < n; i++) {
		if (!parts[i] || parts[i]->kind != MS_KIND_PARTITION || !parts[i]->vkey ||
		    !parts[i]->doc) {
			rc = ms_error_set(err, MS_EINVAL,
					  "entity %zu of the batch for '%s.%s' is not a partition",
					  i, db, table);
			goto done;
		}
	}
	if ((rc = sqlite_fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = sqlite_fold_name(tbn, table, "table", err)) < 0 ||
	    (rc = sqlite_texts_prepare(self, &t, dbn, tbn, err)) < 0)
		goto done;
	if ((rc = sqlite_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = sqlite_find_table(self, dbn, tbn, &id, err)) < 0 ||
	    (rc = check_value_counts(self, id, dbn, tbn, parts, n, err)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if ((rc = put_partition(self, id, dbn, tbn, parts[i], &t, err)) < 0)
			goto done;
done:
	if (began)
		rc = sqlite_call_end(self, rc, err);
	sqlite_texts_free(&t);
	return rc;
}

int sqlite_delete_partitions(ms_catalog *cat, const char *db, const char *table,
			     const char *const *vkeys, size_t n, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc, began = 0;

	if ((rc = sqlite_fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = sqlite_fold_name(tbn, table, "table", err)) < 0)
		return rc;
	if ((rc = sqlite_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = sqlite_find_table(self, dbn, tbn, &id, err)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (!vkeys[i]) {
			rc = ms_error_set(err, MS_EINVAL, "missing partition values key");
			goto done;
		}
		if ((rc = sqlite_short_stmt(self, ST_PART_DELETE, &st, err)) < 0)
			goto done;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, vkeys[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			rc = sqlite_fail(self, rc, err,
					 "cannot delete partition '%s' of '%s.%s' in '%s'",
					 vkeys[i], dbn, tbn, self->base.url);
			goto done;
		}
		rc = 0;
		if (sqlite3_changes(self->db) > 0 &&
		    (rc = sqlite_log_change(self, "partition", dbn, tbn, vkeys[i], "delete", err)) <
			    0)
			goto done;
	}
done:
	if (began)
		rc = sqlite_call_end(self, rc, err);
	return rc;
}

int sqlite_table_digest(ms_catalog *cat, const char *db, const char *table, ms_digest *out,
			ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	ms_digest d;
	int owned = 0, rc;

	if ((rc = sqlite_resolve_table(self, db, table, dbn, tbn, &id, err)) < 0 ||
	    (rc = sqlite_get_stmt(self, ST_PART_HASHES, &st, &owned, err)) < 0)
		return rc;
	ms_digest_init(&d);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != MS_HASH_LEN) {
			rc = ms_error_set(err, MS_EIO,
					  "stored hash of a partition of '%s.%s' in '%s' is "
					  "corrupt",
					  dbn, tbn, self->base.url);
			goto done;
		}
		ms_digest_add(&d, sqlite3_column_blob(st, 0));
	}
	if (rc != SQLITE_DONE) {
		rc = sqlite_fail(self, rc, err, "cannot read partitions of '%s.%s' in '%s'", dbn,
				 tbn, self->base.url);
		goto done;
	}
	rc = 0;
	*out = d;
done:
	sqlite_put_stmt(st, owned);
	return rc;
}
