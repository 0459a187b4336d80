/*
 * The embedded catalog: one SQLite file holding databases, tables and
 * partitions as canonical JSON documents beside their content hashes, plus a
 * change log and the archived versions of tables (Glue's table versions).
 * It is metasync's default target and the catalog that `demo`, the tests
 * and single-machine deployments use, so it must need no server,
 * survive crashes (WAL), let several accounts share one file (the storage key
 * is the URL's catalog-id), diff cheaply (hashes and per-table digests are
 * read without parsing documents) and import a million partitions at
 * close to SQLite's own insert speed: a partition put is two prepared
 * inserts whose text and blob arguments are bound without copies.
 *
 * This file holds the statements, the per-call transactions, the lookups of
 * ids, the driver table and open; sqlite_internal.h lists the others.
 *
 * An instance owns one connection and is used by one thread at a time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/catalog/sqlite_internal.h"
#include "drivers/sqlite_error.h"

/* The SQL of each statement of enum stmt_id (sqlite_internal.h). */
static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT ms_call",
	[ST_RELEASE] = "RELEASE ms_call",
	[ST_ROLLBACK_TO] = "ROLLBACK TO ms_call",
	[ST_DB_ID] = "SELECT id FROM databases WHERE catalog = ?1 AND name = ?2",
	[ST_DB_CTIME] = "SELECT json_extract(doc, '$.CreateTime') FROM databases WHERE id = ?1",
	[ST_DB_GET] = "SELECT doc, hash FROM databases WHERE catalog = ?1 AND name = ?2",
	[ST_DB_LIST] = "SELECT name FROM databases WHERE catalog = ?1 ORDER BY name",
	[ST_DB_INSERT] = "INSERT INTO databases(catalog, name, doc, hash) VALUES(?1, ?2, ?3, ?4)",
	[ST_DB_UPDATE] = "UPDATE databases SET doc = ?2, hash = ?3 WHERE id = ?1",
	[ST_DB_DELETE_VERSIONS] = "DELETE FROM table_versions WHERE (catalog, \"database\") = "
				  "(SELECT catalog, name FROM databases WHERE id = ?1)",
	[ST_DB_DELETE_PARTS] = "DELETE FROM partitions WHERE table_id IN "
			       "(SELECT id FROM tables WHERE db_id = ?1)",
	[ST_DB_DELETE_TABLES] = "DELETE FROM tables WHERE db_id = ?1",
	[ST_DB_DELETE] = "DELETE FROM databases WHERE id = ?1",
	[ST_TBL_ID] = "SELECT id FROM tables WHERE db_id = ?1 AND name = ?2",
	[ST_TBL_CTIME] = "SELECT json_extract(doc, '$.CreateTime') FROM tables WHERE id = ?1",
	[ST_TBL_GET] = "SELECT doc, hash FROM tables WHERE db_id = ?1 AND name = ?2",
	[ST_TBL_LIST] = "SELECT name FROM tables WHERE db_id = ?1 ORDER BY name",
	[ST_TBL_INSERT] = "INSERT INTO tables(db_id, name, doc, hash) VALUES(?1, ?2, ?3, ?4)",
	[ST_TBL_UPDATE] = "UPDATE tables SET doc = ?2, hash = ?3 WHERE id = ?1",
	[ST_TBL_DELETE_VERSIONS] = "DELETE FROM table_versions WHERE (catalog, \"database\", tbl) "
				   "= "
				   "(SELECT d.catalog, d.name, t.name FROM tables t "
				   "JOIN databases d ON d.id = t.db_id WHERE t.id = ?1)",
	[ST_TBL_DELETE_PARTS] = "DELETE FROM partitions WHERE table_id = ?1",
	[ST_TBL_DELETE] = "DELETE FROM tables WHERE id = ?1",
	[ST_PART_UPSERT] = "INSERT INTO partitions(table_id, vkey, doc, hash) "
			   "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(table_id, vkey) "
			   "DO UPDATE SET doc = excluded.doc, hash = excluded.hash",
	[ST_PART_INSERT_NEW] = "INSERT INTO partitions(table_id, vkey, doc, hash) "
			       "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(table_id, vkey) DO NOTHING",
	[ST_PART_CTIME] = "SELECT json_extract(doc, '$.CreationTime') FROM partitions "
			  "WHERE table_id = ?1 AND vkey = ?2",
	[ST_PART_UPDATE] = "UPDATE partitions SET doc = ?3, hash = ?4 "
			   "WHERE table_id = ?1 AND vkey = ?2",
	[ST_PART_GET] = "SELECT doc, hash FROM partitions WHERE table_id = ?1 AND vkey = ?2",
	/* a range of the (table_id, vkey) index; the segment is tested on the index's vkey */
	[ST_PART_SCAN] = "SELECT vkey, hash, doc FROM partitions WHERE table_id = ?1 AND vkey > ?2 "
			 "AND (?3 < 2 OR ms_segment(vkey, ?3) = ?4) ORDER BY vkey",
	[ST_PART_SCAN_KEYS] = "SELECT vkey, hash FROM partitions WHERE table_id = ?1 AND vkey > ?2 "
			      "AND (?3 < 2 OR ms_segment(vkey, ?3) = ?4) ORDER BY vkey",
	[ST_PART_HASHES] = "SELECT hash FROM partitions WHERE table_id = ?1",
	[ST_PART_DELETE] = "DELETE FROM partitions WHERE table_id = ?1 AND vkey = ?2",
	[ST_LOG] = "INSERT INTO changes(catalog, kind, \"database\", tbl, vkey, op, time) "
		   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_CHANGES_FIRST_KEPT] = "SELECT seq FROM changes WHERE time >= ?1 ORDER BY seq LIMIT 1",
	[ST_CHANGES_PRUNE] = "DELETE FROM changes WHERE seq < ?1",
	[ST_CHANGES_PRUNED] = "SELECT CAST(value AS INTEGER) FROM meta WHERE \"key\" = "
			      "'changes_pruned_through'",
	[ST_CHANGES_MARK_PRUNED] = "INSERT OR REPLACE INTO meta(\"key\", value) "
				   "VALUES('changes_pruned_through', ?1)",
	[ST_CHANGES_LAST] = "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
	[ST_CHANGES] = "SELECT seq, kind, \"database\", tbl, vkey, op, time FROM changes "
		       "WHERE seq > ?2 AND catalog = ?1 ORDER BY seq",
	[ST_TBL_NKEYS] = "SELECT json_array_length(doc, '$.PartitionKeys') FROM tables WHERE id = "
			 "?1",
	[ST_VER_PUT] = "INSERT INTO table_versions(catalog, \"database\", tbl, version, doc, hash) "
		       "VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
		       "ON CONFLICT(catalog, \"database\", tbl, version) "
		       "DO UPDATE SET doc = excluded.doc, hash = excluded.hash",
	/* the scan's rows are those of ST_PART_SCAN with no vkey */
	[ST_VER_SCAN] = "SELECT NULL, hash, doc FROM table_versions "
			"WHERE catalog = ?1 AND \"database\" = ?2 AND tbl = ?3 ORDER BY version "
			"DESC",
	[ST_VER_GET] = "SELECT doc, hash FROM table_versions "
		       "WHERE catalog = ?1 AND \"database\" = ?2 AND tbl = ?3 AND version = ?4",
	[ST_VER_DELETE] = "DELETE FROM table_versions "
			  "WHERE catalog = ?1 AND \"database\" = ?2 AND tbl = ?3 AND version = ?4",
};

/*
 * "database 'd'", "table 'd.t'", "version '3' of table 'd.t'",
 * "partition '["1"]' of 'd.t'" into buf.
 */
const char *sqlite_subject_text(const subject *s, char *buf, size_t n)
{
	if (s->kind == MS_KIND_DATABASE)
		snprintf(buf, n, "database '%s'", s->db);
	else if (s->kind == MS_KIND_TABLE && s->vkey)
		snprintf(buf, n, "version '%s' of table '%s.%s'", s->vkey, s->db, s->table);
	else if (s->kind == MS_KIND_TABLE)
		snprintf(buf, n, "table '%s.%s'", s->db, s->table);
	else
		snprintf(buf, n, "partition '%s' of '%s.%s'", s->vkey, s->db, s->table);
	return buf;
}

/*
 * Fill err after SQLite returned rc: the message says what failed (printf
 * style, subject quoted by the caller), the detail is SQLite's own message
 * and backend_code its extended result code.
 */
int sqlite_fail(sqlite_catalog *self, int rc, ms_error *err, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = ms_sqlite_vfail(self->db, rc, err, fmt, ap);
	va_end(ap);
	return code;
}

int sqlite_fold_name(char *dst, const char *src, const char *what, ms_error *err)
{
	size_t i, n = src ? strlen(src) : 0;

	if (n == 0)
		return ms_error_set(err, MS_EINVAL, "empty %s name", what);
	if (n >= NAME_BUF)
		return ms_error_set(err, MS_EINVAL, "%s name '%.64s...' is too long", what, src);
	for (i = 0; i <= n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
	return 0;
}

/*
 * Borrow statement id, prepared on first use.  When the cached one is
 * running (a callback of a scan re-entered the driver), a fresh statement is
 * prepared and *owned is set: give it back with sqlite_put_stmt.
 */
int sqlite_get_stmt(sqlite_catalog *self, enum stmt_id id, sqlite3_stmt **out, int *owned,
		    ms_error *err)
{
	sqlite3_stmt **slot = &self->stmts[id];
	sqlite3_stmt *st = NULL;
	int rc;

	*owned = 0;
	if (*slot && !sqlite3_stmt_busy(*slot)) {
		*out = *slot;
		return 0;
	}
	rc = sqlite3_prepare_v3(self->db, stmt_sql[id], -1, *slot ? 0 : SQLITE_PREPARE_PERSISTENT,
				&st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(self, rc, err, "cannot prepare a statement on '%s'",
				   self->base.url);
	if (*slot)
		*owned = 1;
	else
		*slot = st;
	*out = st;
	return 0;
}

void sqlite_put_stmt(sqlite3_stmt *st, int owned)
{
	if (!st)
		return;
	if (owned)
		sqlite3_finalize(st);
	else
		sqlite3_reset(st);
}

/*
 * Borrow a statement that runs to completion inside one driver call (and so
 * is always reset when a callback could re-enter).
 */
int sqlite_short_stmt(sqlite_catalog *self, enum stmt_id id, sqlite3_stmt **out, ms_error *err)
{
	int owned;

	if (self->stmts[id] && sqlite3_stmt_busy(self->stmts[id]))
		return ms_error_set(err, MS_ERROR, "statement %d of '%s' is still running", (int)id,
				    self->base.url);
	return sqlite_get_stmt(self, id, out, &owned, err);
}

/* Run a statement that returns no rows. */
int sqlite_exec_stmt(sqlite_catalog *self, enum stmt_id id, const char *what, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_short_stmt(self, id, &st, err)) < 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		rc = sqlite_fail(self, rc, err, "cannot %s in '%s'", what, self->base.url);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

/*
 * Every put/delete runs between sqlite_call_begin and sqlite_call_end: its own
 * transaction, or a savepoint inside the caller's, so that each call is
 * atomic.  sqlite_call_end commits when rc is 0 and undoes otherwise; it returns rc
 * or the commit's error.
 */
int sqlite_call_begin(sqlite_catalog *self, ms_error *err)
{
	if (!self->in_txn)
		return sqlite_exec_stmt(self, ST_BEGIN, "begin a transaction", err);
	if (sqlite3_get_autocommit(self->db))
		return ms_error_set(err, MS_EIO,
				    "transaction on '%s' was rolled back by an earlier error",
				    self->base.url);
	return sqlite_exec_stmt(self, ST_SAVEPOINT, "begin a savepoint", err);
}

int sqlite_call_end(sqlite_catalog *self, int rc, ms_error *err)
{
	ms_error ignored;

	if (rc == 0) {
		rc = sqlite_exec_stmt(self, self->in_txn ? ST_RELEASE : ST_COMMIT,
				      "commit a transaction", err);
		if (rc == 0)
			return 0;
	}
	if (sqlite3_get_autocommit(self->db))
		return rc;
	if (self->in_txn) {
		sqlite_exec_stmt(self, ST_ROLLBACK_TO, "roll back a savepoint", &ignored);
		sqlite_exec_stmt(self, ST_RELEASE, "release a savepoint", &ignored);
	} else {
		sqlite_exec_stmt(self, ST_ROLLBACK, "roll back a transaction", &ignored);
	}
	return rc;
}

/* Look up a database's id; *found is 0 when absent.  name is folded. */
int sqlite_database_id(sqlite_catalog *self, const char *name, sqlite3_int64 *id, int *found,
		       ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_short_stmt(self, ST_DB_ID, &st, err)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = 0;
	else
		rc = sqlite_fail(self, rc, err, "cannot read database '%s' in '%s'", name,
				 self->base.url);
	sqlite3_reset(st);
	return rc;
}

/* Look up a database's id; MS_ENOTFOUND names it. */
int sqlite_find_database(sqlite_catalog *self, const char *name, sqlite3_int64 *id, ms_error *err)
{
	int rc, found;

	if ((rc = sqlite_database_id(self, name, id, &found, err)) < 0)
		return rc;
	if (!found)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name,
				    self->base.url);
	return 0;
}

/* Look up a table's id in a database; *found is 0 when absent.  name is folded. */
int sqlite_table_id(sqlite_catalog *self, sqlite3_int64 db_id, const char *db, const char *name,
		    sqlite3_int64 *id, int *found, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite_short_stmt(self, ST_TBL_ID, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, db_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = 0;
	else
		rc = sqlite_fail(self, rc, err, "cannot read table '%s.%s' in '%s'", db, name,
				 self->base.url);
	sqlite3_reset(st);
	return rc;
}

/* Look up a table's id; MS_ENOTFOUND names the database or the table. */
int sqlite_find_table(sqlite_catalog *self, const char *db, const char *name, sqlite3_int64 *id,
		      ms_error *err)
{
	sqlite3_int64 db_id = 0;
	int rc, found;

	if ((rc = sqlite_find_database(self, db, &db_id, err)) < 0 ||
	    (rc = sqlite_table_id(self, db_id, db, name, id, &found, err)) < 0)
		return rc;
	if (!found)
		return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, name,
				    self->base.url);
	return 0;
}

/* Fold both names and find the table. */
int sqlite_resolve_table(sqlite_catalog *self, const char *db, const char *table, char *dbn,
			 char *tbn, sqlite3_int64 *id, ms_error *err)
{
	int rc;

	if ((rc = sqlite_fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = sqlite_fold_name(tbn, table, "table", err)) < 0)
		return rc;
	return sqlite_find_table(self, dbn, tbn, id, err);
}

static int sqlite_begin(ms_catalog *cat, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	int rc;

	if (self->in_txn || self->reading)
		return ms_error_set(err, MS_EINVAL, "a transaction is already open on '%s'",
				    self->base.url);
	if ((rc = sqlite_exec_stmt(self, ST_BEGIN, "begin a transaction", err)) < 0)
		return rc;
	self->in_txn = 1;
	return 0;
}

/*
 * A deferred transaction that has read once: in WAL mode every later read
 * sees the file as of that first read, while writers on other connections
 * go on (they append to the log; a checkpoint stops short of what this
 * reader still sees).
 */
static int sqlite_read_begin(ms_catalog *cat, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	int rc;

	if (self->in_txn || self->reading)
		return ms_error_set(err, MS_EINVAL, "a transaction is already open on '%s'",
				    self->base.url);
	rc = sqlite3_exec(self->db, "BEGIN DEFERRED; SELECT count(*) FROM meta", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = sqlite_fail(self, rc, err, "cannot begin a read of '%s'", self->path);
		if (!sqlite3_get_autocommit(self->db))
			sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	self->reading = 1;
	return 0;
}

static void sqlite_read_end(ms_catalog *cat)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;

	if (!self->reading)
		return;
	self->reading = 0;
	if (!sqlite3_get_autocommit(self->db))
		sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL);
}

static int sqlite_commit(ms_catalog *cat, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	int rc;

	if (!self->in_txn)
		return ms_error_set(err, MS_EINVAL, "no transaction is open on '%s'",
				    self->base.url);
	if (sqlite3_get_autocommit(self->db)) {
		self->in_txn = 0;
		return ms_error_set(err, MS_EIO,
				    "transaction on '%s' was rolled back by an earlier error",
				    self->base.url);
	}
	/* a failed COMMIT (SQLITE_BUSY) leaves the transaction open for a retry or rollback */
	if ((rc = sqlite_exec_stmt(self, ST_COMMIT, "commit a transaction", err)) < 0)
		return rc;
	self->in_txn = 0;
	return 0;
}

static int sqlite_rollback(ms_catalog *cat, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;

	if (!self->in_txn)
		return ms_error_set(err, MS_EINVAL, "no transaction is open on '%s'",
				    self->base.url);
	self->in_txn = 0;
	if (sqlite3_get_autocommit(self->db))
		return 0;
	return sqlite_exec_stmt(self, ST_ROLLBACK, "roll back a transaction", err);
}

static void sqlite_close(ms_catalog *cat)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	size_t i;

	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(self->stmts[i]);
	/* an open transaction is rolled back by sqlite3_close */
	sqlite3_close(self->db);
	ms_buf_free(&self->doc);
	free(self->fields);
	free(self->path);
	free(self->key);
	free(self->catalog_id);
	ms_catalog_base_free(&self->base);
	free(self);
}

/*
 * Each slot: required or optional, what it owns or borrows, the errors it
 * returns (besides MS_ENOMEM; a callback's own non-zero return is passed
 * through).  Names are folded to ASCII lowercase on the way in; every write
 * is atomic on its own (a transaction, or a savepoint inside begin/commit)
 * and logs its change in the same transaction.
 */
static const ms_catalog_driver sqlite_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "sqlite",
	.caps = MS_CAP_TRANSACTIONS | MS_CAP_CHANGE_FEED | MS_CAP_WRITE | MS_CAP_ORDERED_SCAN |
		MS_CAP_TABLE_VERSIONS,
	.max_batch = 0,
	/* required; frees the instance, its statements and the connection (an open
	 * transaction is rolled back); cannot fail */
	.close = sqlite_close,
	/* optional; names in bytewise order, each borrowed for its callback; EIO, EBACKEND */
	.list_databases = sqlite_list_databases,
	/* optional; *out new (stored hash, parsed doc); ENOTFOUND, EIO (corrupt row) */
	.get_database = sqlite_get_database,
	/* optional; create or replace keeping the row (so its tables stay); borrows the
	 * entity; EINVAL (not a database), ETOOBIG, EIO, ECONFLICT (busy past the timeout) */
	.put_database = sqlite_put_database,
	/* optional; with its tables, their partitions and archived versions, one change row;
	 * ENOTFOUND, EIO, ECONFLICT */
	.delete_database = sqlite_delete_database,
	/* optional; names in bytewise order, borrowed; ENOTFOUND (database), EIO */
	.list_tables = sqlite_list_tables,
	/* optional; *out new; ENOTFOUND (database or table), EIO */
	.get_table = sqlite_get_table,
	/* optional; create or replace, UpdateTime now, a VersionId in the document kept as
	 * given; borrows the entity; ENOTFOUND (database), EINVAL, ETOOBIG, EIO, ECONFLICT */
	.put_table = sqlite_put_table,
	/* optional; with its partitions and archived versions, one change row; ENOTFOUND, EIO,
	 * ECONFLICT */
	.delete_table = sqlite_delete_table,
	/* optional; by vkey, bytewise; each entity new and stolen by cb; MS_SCAN_KEYS_ONLY
	 * leaves doc NULL and reads no document, MS_SCAN_RAW leaves doc NULL and copies
	 * the stored text into raw; ENOTFOUND (database or table), EIO */
	.scan_partitions = sqlite_scan_partitions,
	/* optional; *out new; ENOTFOUND (database, table or partition), EIO */
	.get_partition = sqlite_get_partition,
	.get_partitions = sqlite_get_partitions,
	/* optional; the batch in one transaction or savepoint, one change row each; borrows
	 * the entities; keyed by the exact values (so '' and __HIVE_DEFAULT_PARTITION__ are
	 * two); ENOTFOUND (table), EINVAL (no values, a count other than the table's
	 * partition keys), ETOOBIG, EIO, ECONFLICT */
	.put_partitions = sqlite_put_partitions,
	/* optional; absent vkeys are skipped, one change row per partition deleted; borrows
	 * the keys; ENOTFOUND (table), EIO, ECONFLICT */
	.delete_partitions = sqlite_delete_partitions,
	/* optional; over the stored hashes, no document read; ENOTFOUND, EIO (corrupt hash) */
	.table_digest = sqlite_table_digest,
	/* optional, left empty: SQLite checks its own pages */
	.verify_table = NULL,
	/* optional; BEGIN IMMEDIATE, waiting up to the busy timeout; EINVAL (already open),
	 * ECONFLICT, EIO */
	.begin = sqlite_begin,
	/* optional; EINVAL (none open), ECONFLICT (still open: retry or roll back), EIO */
	.commit = sqlite_commit,
	/* optional; EINVAL (none open), EIO */
	.rollback = sqlite_rollback,
	/* optional; this catalog-id's changes after the decimal seq cursor (NULL: all);
	 * *next_cursor new, set on success; EINVAL (cursor), EIO */
	.changes_since = sqlite_changes_since,
	/* optional, left empty: each call is committed when it returns (WAL with
	 * synchronous=NORMAL: an OS crash may lose the last commits, never corrupt) */
	.finish = NULL,
	/* optional, left empty: BEGIN IMMEDIATE excludes every other writer */
	.lock = NULL,
	/* optional; a deferred transaction pinned by a first read (WAL); EINVAL, EIO */
	.read_begin = sqlite_read_begin,
	/* optional; commits it */
	.read_end = sqlite_read_end,
	/* optional; one seek into the (table_id, vkey) index, then the rows after range->after
	 * in vkey order; segments by ms_catalog_scan_segment, tested on the index's vkey before
	 * the row is read; flags and entities as .scan_partitions; ENOTFOUND, EIO */
	.scan_partitions_range = sqlite_scan_partitions_range,
	/* optional; archives the entity (borrowed) under its doc's VersionId, replacing that
	 * version; the doc keeps its CreateTime, UpdateTime and VersionId; no change row
	 * (versions are not replicated); ENOTFOUND (database), EINVAL, ETOOBIG, EIO,
	 * ECONFLICT */
	.put_table_version = sqlite_put_table_version,
	/* optional; highest VersionId first, each entity new (no vkey) and stolen by cb; none
	 * for a table that has none or does not exist; EIO */
	.scan_table_versions = sqlite_scan_table_versions,
	/* optional; *out new; ENOTFOUND (the version), EIO */
	.get_table_version = sqlite_get_table_version,
	/* optional; no change row; ENOTFOUND (the version), EIO, ECONFLICT */
	.delete_table_version = sqlite_delete_table_version,
	/* optional; the last seq of the change log (of every catalog in the file) */
	.change_head = sqlite_change_head,
};

/*
 * Open the catalog file url->path: MS_OPEN_WRITE creates the file, its
 * schema and the catalog when missing; MS_OPEN_READ refuses a file that does
 * not exist (MS_ENOTFOUND), is not a metasync catalog (MS_EINVAL) or does
 * not hold the catalog (MS_ENOTFOUND), so that a mistyped path is never
 * read as an empty catalog.  `?catalog-id=ID` selects the catalog inside the
 * file and becomes CatalogId and the catalog's identity; without it the
 * storage key is "default" and the identity the URL.
 */
int ms_sqlite_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			   ms_error *err)
{
	const char *cid = ms_url_param_get(url, "catalog-id");
	sqlite_catalog *self = NULL;
	int rc, create;

	if (!url->path || !*url->path)
		return ms_error_set(err, MS_EINVAL, "missing file path in catalog url '%s'",
				    url->redacted);
	if (!(self = calloc(1, sizeof(*self))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_buf_init(&self->doc, SQLITE_CATALOG_DOC_MAX);
	if ((rc = ms_catalog_base_init(&self->base, &sqlite_driver, url->redacted, cid, err)) < 0) {
		free(self);
		return rc;
	}
	/* a path starting "file:" would be taken for an SQLite URI */
	if (strncmp(url->path, "file:", 5) == 0) {
		size_t len = strlen(url->path) + 3;

		if ((self->path = malloc(len)))
			snprintf(self->path, len, "./%s", url->path);
	} else {
		self->path = strdup(url->path);
	}
	self->key = strdup(cid ? cid : "default");
	if (cid)
		self->catalog_id = strdup(cid);
	if (!self->path || !self->key || (cid && !self->catalog_id)) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	create = opts && opts->mode == MS_OPEN_WRITE;
	if (!create && access(self->path, F_OK) != 0) {
		rc = ms_error_set(err, MS_ENOTFOUND, "catalog file '%s' does not exist",
				  self->path);
		goto done;
	}
	if ((rc = sqlite_open_file(self, url, create, err)) < 0)
		goto done;
	*out = &self->base;
done:
	if (rc < 0)
		sqlite_close(&self->base);
	return rc;
}
