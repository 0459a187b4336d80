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
 * An instance owns one connection and is used by one thread at a time.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <sqlite3.h>

#include "drivers/sqlite_error.h"
#include "metasync/sys/catalog.h"
#include "model/model_internal.h"
#include "util/buf.h"
#include "util/url.h"

#define SQLITE_CATALOG_SCHEMA_VERSION 1
#define SQLITE_CATALOG_STR_(x) #x
#define SQLITE_CATALOG_STR(x) SQLITE_CATALOG_STR_(x)
#define SQLITE_CATALOG_DOC_MAX ((size_t)64 << 20) /* largest document written or read */
#define SQLITE_CATALOG_BUSY_MS 30000
/*
 * 32 MiB of page cache; checkpoints every 16384 WAL pages (64 MiB) instead of
 * SQLite's 1000, so a large import syncs and copies hot pages far less often.
 */
#define SQLITE_CATALOG_CACHE_PRAGMA "PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=16384"
#define NAME_BUF (4 * MS_NAME_MAX + 1) /* a folded name: up to 255 UTF-8 characters */

/* Every statement the driver runs, prepared once per connection on first use. */
enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_DB_ID,
	ST_DB_CTIME,
	ST_DB_GET,
	ST_DB_LIST,
	ST_DB_INSERT,
	ST_DB_UPDATE,
	ST_DB_DELETE_VERSIONS,
	ST_DB_DELETE_PARTS,
	ST_DB_DELETE_TABLES,
	ST_DB_DELETE,
	ST_TBL_ID,
	ST_TBL_CTIME,
	ST_TBL_GET,
	ST_TBL_LIST,
	ST_TBL_INSERT,
	ST_TBL_UPDATE,
	ST_TBL_DELETE_VERSIONS,
	ST_TBL_DELETE_PARTS,
	ST_TBL_DELETE,
	ST_PART_UPSERT,
	ST_PART_INSERT_NEW,
	ST_PART_CTIME,
	ST_PART_UPDATE,
	ST_PART_GET,
	ST_PART_SCAN,
	ST_PART_SCAN_KEYS,
	ST_PART_HASHES,
	ST_PART_DELETE,
	ST_LOG,
	ST_CHANGES,
	ST_TBL_NKEYS,
	ST_VER_PUT,
	ST_VER_SCAN,
	ST_VER_GET,
	ST_VER_DELETE,
	ST__COUNT
};

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
	[ST_TBL_DELETE_VERSIONS] = "DELETE FROM table_versions WHERE (catalog, \"database\", tbl) = "
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
	[ST_CHANGES] = "SELECT seq, kind, \"database\", tbl, vkey, op FROM changes "
		       "WHERE seq > ?2 AND catalog = ?1 ORDER BY seq",
	[ST_TBL_NKEYS] = "SELECT json_array_length(doc, '$.PartitionKeys') FROM tables WHERE id = ?1",
	[ST_VER_PUT] = "INSERT INTO table_versions(catalog, \"database\", tbl, version, doc, hash) "
		       "VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
		       "ON CONFLICT(catalog, \"database\", tbl, version) "
		       "DO UPDATE SET doc = excluded.doc, hash = excluded.hash",
	/* the scan's rows are those of ST_PART_SCAN with no vkey */
	[ST_VER_SCAN] = "SELECT NULL, hash, doc FROM table_versions "
			"WHERE catalog = ?1 AND \"database\" = ?2 AND tbl = ?3 ORDER BY version DESC",
	[ST_VER_GET] = "SELECT doc, hash FROM table_versions "
		       "WHERE catalog = ?1 AND \"database\" = ?2 AND tbl = ?3 AND version = ?4",
	[ST_VER_DELETE] = "DELETE FROM table_versions "
			  "WHERE catalog = ?1 AND \"database\" = ?2 AND tbl = ?3 AND version = ?4",
};

/*
 * The schema.  Cascades are explicit deletes (no foreign keys: a check per
 * partition insert would cost a lookup).  The change log has no index on
 * catalog: a feed reader asks for the rows after its cursor, a range of the
 * primary key, and every partition put stays one B-tree append.  The hash
 * column comes before the document so that key-only scans and digests read
 * a row's first page and never follow the document's overflow pages.
 * Archived table versions (Glue's GetTableVersions) are keyed by names, not
 * ids, as Glue keys them; a rowid table, as their documents are large.
 * Files from before them get the table when first opened for writing.
 */
#define VERSIONS_SCHEMA_SQL                                                                 \
	"CREATE TABLE IF NOT EXISTS table_versions("                                        \
	" catalog TEXT NOT NULL, \"database\" TEXT NOT NULL, tbl TEXT NOT NULL,"            \
	" version INTEGER NOT NULL, hash BLOB NOT NULL, doc TEXT NOT NULL,"                \
	" UNIQUE(catalog, \"database\", tbl, version));"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(\"key\" TEXT PRIMARY KEY, value TEXT NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS databases("
	" id INTEGER PRIMARY KEY, catalog TEXT NOT NULL, name TEXT NOT NULL,"
	" hash BLOB NOT NULL, doc TEXT NOT NULL, UNIQUE(catalog, name));"
	"CREATE TABLE IF NOT EXISTS tables("
	" id INTEGER PRIMARY KEY, db_id INTEGER NOT NULL, name TEXT NOT NULL,"
	" hash BLOB NOT NULL, doc TEXT NOT NULL, UNIQUE(db_id, name));"
	"CREATE TABLE IF NOT EXISTS partitions("
	" table_id INTEGER NOT NULL, vkey TEXT NOT NULL, hash BLOB NOT NULL,"
	" doc TEXT NOT NULL, UNIQUE(table_id, vkey));"
	"CREATE TABLE IF NOT EXISTS changes("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, catalog TEXT NOT NULL, kind TEXT NOT NULL,"
	" \"database\" TEXT NOT NULL, tbl TEXT, vkey TEXT, op TEXT NOT NULL,"
	" time INTEGER NOT NULL);"
	VERSIONS_SCHEMA_SQL
	"INSERT OR IGNORE INTO meta(\"key\", value) VALUES('schema_version', '"
	SQLITE_CATALOG_STR(SQLITE_CATALOG_SCHEMA_VERSION) "');";

typedef struct doc_field {
	const char *key;
	const cJSON *item; /* the document's own value, or NULL */
	const ms_buf *text; /* else a canonical value text */
} doc_field;

/*
 * A top-level field put() sets in a document.  `text` NULL removes the key;
 * with `keep_doc` set the document's own value wins when it has one.
 */
typedef struct doc_override {
	const char *key;
	const ms_buf *text;
	int keep_doc;
} doc_override;

/* Canonical value texts shared by the documents of one put call. */
typedef struct put_texts {
	ms_buf database;
	ms_buf table;
	ms_buf catalog;
	ms_buf now;
	ms_buf stored; /* the stored CreateTime/CreationTime of the entity being replaced */
	long long now_seconds;
} put_texts;

/* The entity a call concerns, rendered only when a message needs it. */
typedef struct subject {
	ms_kind kind;
	const char *db;
	const char *table;
	const char *vkey; /* a partition's; for a table, the archived version's id or NULL */
} subject;

typedef struct sqlite_catalog {
	ms_catalog base;
	sqlite3 *db;
	char *path;        /* the file, as given */
	char *key;         /* storage key: the catalog-id parameter or "default" */
	char *catalog_id;  /* CatalogId written into documents, or NULL */
	int in_txn;        /* an explicit begin() is open */
	int reading;       /* a read transaction (read_begin) is open */
	sqlite3_stmt *stmts[ST__COUNT];
	ms_buf doc;        /* the document being written */
	doc_field *fields; /* scratch for compose_doc */
	size_t fields_alloc;
} sqlite_catalog;

/*
 * "database 'd'", "table 'd.t'", "version '3' of table 'd.t'",
 * "partition '["1"]' of 'd.t'" into buf.
 */
static const char *subject_text(const subject *s, char *buf, size_t n)
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
static int sq_fail(sqlite_catalog *self, int rc, ms_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int sq_fail(sqlite_catalog *self, int rc, ms_error *err, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = ms_sqlite_vfail(self->db, rc, err, fmt, ap);
	va_end(ap);
	return code;
}

static int fold_name(char *dst, const char *src, const char *what, ms_error *err)
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
 * prepared and *owned is set: give it back with put_stmt.
 */
static int get_stmt(sqlite_catalog *self, enum stmt_id id, sqlite3_stmt **out, int *owned,
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
		return sq_fail(self, rc, err, "cannot prepare a statement on '%s'", self->base.url);
	if (*slot)
		*owned = 1;
	else
		*slot = st;
	*out = st;
	return 0;
}

static void put_stmt(sqlite3_stmt *st, int owned)
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
static int short_stmt(sqlite_catalog *self, enum stmt_id id, sqlite3_stmt **out, ms_error *err)
{
	int owned;

	if (self->stmts[id] && sqlite3_stmt_busy(self->stmts[id]))
		return ms_error_set(err, MS_ERROR, "statement %d of '%s' is still running", (int)id,
				    self->base.url);
	return get_stmt(self, id, out, &owned, err);
}

/* Run statements that take one id and return no rows: the steps of a delete. */
static int delete_by_id(sqlite_catalog *self, const enum stmt_id *steps, size_t n,
			sqlite3_int64 id, const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if ((rc = short_stmt(self, steps[i], &st, err)) < 0)
			return rc;
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			rc = sq_fail(self, rc, err, "cannot delete %s in '%s'",
				     subject_text(subj, what, sizeof(what)), self->base.url);
		else
			rc = 0;
		sqlite3_reset(st);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Run a statement that returns no rows. */
static int exec_stmt(sqlite_catalog *self, enum stmt_id id, const char *what, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = short_stmt(self, id, &st, err)) < 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		rc = sq_fail(self, rc, err, "cannot %s in '%s'", what, self->base.url);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

/*
 * Every put/delete runs between call_begin and call_end: its own
 * transaction, or a savepoint inside the caller's, so that each call is
 * atomic.  call_end commits when rc is 0 and undoes otherwise; it returns rc
 * or the commit's error.
 */
static int call_begin(sqlite_catalog *self, ms_error *err)
{
	if (!self->in_txn)
		return exec_stmt(self, ST_BEGIN, "begin a transaction", err);
	if (sqlite3_get_autocommit(self->db))
		return ms_error_set(err, MS_EIO,
				    "transaction on '%s' was rolled back by an earlier error",
				    self->base.url);
	return exec_stmt(self, ST_SAVEPOINT, "begin a savepoint", err);
}

static int call_end(sqlite_catalog *self, int rc, ms_error *err)
{
	ms_error ignored;

	if (rc == 0) {
		rc = exec_stmt(self, self->in_txn ? ST_RELEASE : ST_COMMIT,
			       "commit a transaction", err);
		if (rc == 0)
			return 0;
	}
	if (sqlite3_get_autocommit(self->db))
		return rc;
	if (self->in_txn) {
		exec_stmt(self, ST_ROLLBACK_TO, "roll back a savepoint", &ignored);
		exec_stmt(self, ST_RELEASE, "release a savepoint", &ignored);
	} else {
		exec_stmt(self, ST_ROLLBACK, "roll back a transaction", &ignored);
	}
	return rc;
}

/* Look up a database's id; *found is 0 when absent.  name is folded. */
static int database_id(sqlite_catalog *self, const char *name, sqlite3_int64 *id, int *found,
		       ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = short_stmt(self, ST_DB_ID, &st, err)) < 0)
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
		rc = sq_fail(self, rc, err, "cannot read database '%s' in '%s'", name,
			     self->base.url);
	sqlite3_reset(st);
	return rc;
}

/* Look up a database's id; MS_ENOTFOUND names it. */
static int find_database(sqlite_catalog *self, const char *name, sqlite3_int64 *id,
			 ms_error *err)
{
	int rc, found;

	if ((rc = database_id(self, name, id, &found, err)) < 0)
		return rc;
	if (!found)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name,
				    self->base.url);
	return 0;
}

/* Look up a table's id in a database; *found is 0 when absent.  name is folded. */
static int table_id(sqlite_catalog *self, sqlite3_int64 db_id, const char *db, const char *name,
		    sqlite3_int64 *id, int *found, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = short_stmt(self, ST_TBL_ID, &st, err)) < 0)
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
		rc = sq_fail(self, rc, err, "cannot read table '%s.%s' in '%s'", db, name,
			     self->base.url);
	sqlite3_reset(st);
	return rc;
}

/* Look up a table's id; MS_ENOTFOUND names the database or the table. */
static int find_table(sqlite_catalog *self, const char *db, const char *name, sqlite3_int64 *id,
		      ms_error *err)
{
	sqlite3_int64 db_id = 0;
	int rc, found;

	if ((rc = find_database(self, db, &db_id, err)) < 0 ||
	    (rc = table_id(self, db_id, db, name, id, &found, err)) < 0)
		return rc;
	if (!found)
		return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, name,
				    self->base.url);
	return 0;
}

/* Fold both names and find the table. */
static int resolve_table(sqlite_catalog *self, const char *db, const char *table, char *dbn,
			 char *tbn, sqlite3_int64 *id, ms_error *err)
{
	int rc;

	if ((rc = fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = fold_name(tbn, table, "table", err)) < 0)
		return rc;
	return find_table(self, dbn, tbn, id, err);
}

/* Append the canonical JSON of v to out, mapping the model's failure to an error. */
static int canon(sqlite_catalog *self, const cJSON *v, ms_buf *out, const char *what,
		 ms_error *err)
{
	int rc = ms_canonical_json(v, 0, out);

	if (rc == MS_ETOOBIG)
		return ms_error_set(err, MS_ETOOBIG, "document of %s is larger than %zu bytes",
				    what, out->cap);
	if (rc < 0)
		return ms_error_set(err, rc, "cannot encode the document of %s for '%s'", what,
				    self->base.url);
	return 0;
}

static int canon_string(sqlite_catalog *self, ms_buf *out, const char *s, ms_error *err)
{
	cJSON *v = cJSON_CreateString(s);
	int rc;

	if (!v)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_buf_reset(out);
	rc = canon(self, v, out, "a name", err);
	cJSON_Delete(v);
	return rc;
}

static int canon_number(sqlite_catalog *self, ms_buf *out, double d, ms_error *err)
{
	cJSON *v = cJSON_CreateNumber(d);
	int rc;

	if (!v)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_buf_reset(out);
	rc = canon(self, v, out, "a timestamp", err);
	cJSON_Delete(v);
	return rc;
}

static void texts_init(put_texts *t)
{
	ms_buf_init(&t->database, SQLITE_CATALOG_DOC_MAX);
	ms_buf_init(&t->table, SQLITE_CATALOG_DOC_MAX);
	ms_buf_init(&t->catalog, SQLITE_CATALOG_DOC_MAX);
	ms_buf_init(&t->now, 64);
	ms_buf_init(&t->stored, 4096);
	t->now_seconds = (long long)time(NULL);
}

static void texts_free(put_texts *t)
{
	ms_buf_free(&t->database);
	ms_buf_free(&t->table);
	ms_buf_free(&t->catalog);
	ms_buf_free(&t->now);
	ms_buf_free(&t->stored);
}

/* Fill the texts a put writes into every document: names, CatalogId, now. */
static int texts_prepare(sqlite_catalog *self, put_texts *t, const char *db, const char *table,
			 ms_error *err)
{
	int rc;

	if ((rc = canon_string(self, &t->database, db, err)) < 0)
		return rc;
	if (table && (rc = canon_string(self, &t->table, table, err)) < 0)
		return rc;
	if (self->catalog_id && (rc = canon_string(self, &t->catalog, self->catalog_id, err)) < 0)
		return rc;
	return canon_number(self, &t->now, (double)t->now_seconds, err);
}

/*
 * Read the stored creation time (column 0 of a ctime statement already
 * bound) into t->stored as canonical text; *found is 0 when the stored
 * document has none.
 */
static int read_stored_time(sqlite_catalog *self, sqlite3_stmt *st, put_texts *t, int *found,
			    const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	int rc = sqlite3_step(st);

	*found = 0;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return sq_fail(self, rc, err, "cannot read %s in '%s'",
			       subject_text(subj, what, sizeof(what)), self->base.url);
	switch (sqlite3_column_type(st, 0)) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		*found = 1;
		return canon_number(self, &t->stored, sqlite3_column_double(st, 0), err);
	case SQLITE_TEXT:
		*found = 1;
		return canon_string(self, &t->stored, (const char *)sqlite3_column_text(st, 0),
				    err);
	default:
		return 0;
	}
}

/* Keys written without escapes in canonical JSON; others go through the model. */
static int plain_key(const char *k)
{
	for (; *k; k++)
		if ((unsigned char)*k < 0x20 || (unsigned char)*k > 0x7e || *k == '"' ||
		    *k == '\\' || *k == '/')
			return 0;
	return 1;
}

static int field_cmp(const void *a, const void *b)
{
	return strcmp(((const doc_field *)a)->key, ((const doc_field *)b)->key);
}

/*
 * Write into self->doc the canonical JSON of doc with the top-level fields in
 * ov set or removed, without copying or changing doc: the text equals
 * ms_canonical_json of the changed document.  Only the top level is
 * re-sorted here; every value is encoded by the model.
 */
static int compose_doc(sqlite_catalog *self, const cJSON *doc, const doc_override *ov,
		       size_t nov, const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	ms_buf *b = &self->doc;
	int kept[8] = { 0 };
	const cJSON *c;
	size_t n = 0, i, j;
	int rc = 0;

	if (!cJSON_IsObject(doc))
		return ms_error_set(err, MS_EINVAL, "document of %s is not a json object",
				    subject_text(subj, what, sizeof(what)));
	for (c = doc->child;; c = c->next) {
		if (n + nov + 1 > self->fields_alloc) {
			size_t na = self->fields_alloc ? self->fields_alloc * 2 : 32;
			doc_field *nf = realloc(self->fields, na * sizeof(*nf));

			if (!nf)
				return ms_error_set(err, MS_ENOMEM, "out of memory");
			self->fields = nf;
			self->fields_alloc = na;
		}
		if (!c)
			break;
		if (!c->string)
			return ms_error_set(err, MS_EINVAL, "document of %s has a nameless field",
					    subject_text(subj, what, sizeof(what)));
		for (j = 0; j < nov; j++)
			if (strcmp(ov[j].key, c->string) == 0)
				break;
		if (j < nov) {
			if (!ov[j].keep_doc)
				continue;
			kept[j] = 1;
		}
		self->fields[n].key = c->string;
		self->fields[n].item = c;
		self->fields[n].text = NULL;
		n++;
	}
	for (j = 0; j < nov; j++) {
		if (kept[j] || !ov[j].text)
			continue;
		self->fields[n].key = ov[j].key;
		self->fields[n].item = NULL;
		self->fields[n].text = ov[j].text;
		n++;
	}
	qsort(self->fields, n, sizeof(*self->fields), field_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(self->fields[i - 1].key, self->fields[i].key) == 0) {
			rc = MS_EINVAL;
			goto done;
		}

	ms_buf_reset(b);
	if ((rc = ms_buf_addc(b, '{')) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		const doc_field *f = &self->fields[i];

		if (i && (rc = ms_buf_addc(b, ',')) < 0)
			goto done;
		if (plain_key(f->key)) {
			if ((rc = ms_buf_addc(b, '"')) < 0 || (rc = ms_buf_adds(b, f->key)) < 0 ||
			    (rc = ms_buf_add(b, "\":", 2)) < 0)
				goto done;
		} else {
			cJSON *k = cJSON_CreateString(f->key);

			if (!k) {
				rc = MS_ENOMEM;
				goto done;
			}
			rc = ms_canonical_json(k, 0, b);
			cJSON_Delete(k);
			if (rc < 0 || (rc = ms_buf_addc(b, ':')) < 0)
				goto done;
		}
		if (f->item)
			rc = ms_canonical_json(f->item, 0, b);
		else
			rc = ms_buf_add(b, f->text->ptr, f->text->len);
		if (rc < 0)
			goto done;
	}
	rc = ms_buf_addc(b, '}');
done:
	if (rc < 0)
		subject_text(subj, what, sizeof(what));
	if (rc == MS_ETOOBIG)
		return ms_error_set(err, MS_ETOOBIG, "document of %s is larger than %zu bytes",
				    what, b->cap);
	if (rc == MS_EINVAL)
		return ms_error_set(err, MS_EINVAL, "document of %s has a field twice", what);
	if (rc < 0)
		return ms_error_set(err, rc, "cannot encode the document of %s for '%s'", what,
				    self->base.url);
	return 0;
}

/* The content hash of e; an entity without one is hashed by the model. */
static int entity_hash(const ms_entity *e, unsigned char out[MS_HASH_LEN], ms_error *err)
{
	ms_entity *copy = NULL;
	int rc;

	if (e->hashed) {
		memcpy(out, e->hash, MS_HASH_LEN);
		return 0;
	}
	if ((rc = ms_entity_dup(&copy, e, err)) < 0)
		return rc;
	if ((rc = ms_entity_rehash(copy, err)) == 0)
		memcpy(out, copy->hash, MS_HASH_LEN);
	ms_entity_free(copy);
	return rc;
}

/* Append one row to the change log, bound without copies. */
static int log_change(sqlite_catalog *self, const char *kind, const char *db, const char *table,
		      const char *vkey, const char *op, long long now, ms_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = short_stmt(self, ST_LOG, &st, err)) < 0)
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
		rc = sq_fail(self, rc, err, "cannot log a change to %s '%s' in '%s'", kind, db,
			     self->base.url);
	else
		rc = 0;
	sqlite3_reset(st);
	return rc;
}

/*
 * Write self->doc and hash through a statement whose parameters are
 * (id, doc, hash) or (id, name, doc, hash): `first` is the number of the
 * doc parameter.
 */
static int write_doc(sqlite_catalog *self, sqlite3_stmt *st, int first,
		     const unsigned char *hash, const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	int rc;

	sqlite3_bind_text(st, first, self->doc.ptr, (int)self->doc.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, first + 1, hash, MS_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rc = sq_fail(self, rc, err, "cannot write %s to '%s'",
			     subject_text(subj, what, sizeof(what)), self->base.url);
	else
		rc = 0;
	sqlite3_reset(st);
	return rc;
}

/*
 * Build an entity from a stored row (new).  doc may be NULL for key-only
 * reads; with raw set the stored text is copied into e->raw, not parsed.
 * The stored hash is trusted, not recomputed.
 */
static int row_entity(sqlite_catalog *self, ms_entity **out, ms_kind kind, const char *db,
		      const char *table, const char *vkey, const char *doc, int doclen,
		      int raw, const void *hash, int hashlen, ms_error *err)
{
	ms_entity *e;
	const char *name = vkey ? vkey : table ? table : db;

	if (hashlen != MS_HASH_LEN)
		return ms_error_set(err, MS_EIO, "stored hash of %s '%s' in '%s' is corrupt",
				    ms_kind_name(kind), name, self->base.url);
	if (doc && (size_t)doclen > SQLITE_CATALOG_DOC_MAX)
		return ms_error_set(err, MS_ETOOBIG,
				    "stored document of %s '%s' in '%s' is larger than %zu bytes",
				    ms_kind_name(kind), name, self->base.url,
				    SQLITE_CATALOG_DOC_MAX);
	if (!(e = calloc(1, sizeof(*e))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	e->kind = kind;
	memcpy(e->hash, hash, MS_HASH_LEN);
	e->hashed = 1;
	if (!(e->database = strdup(db)) || (table && !(e->table = strdup(table))) ||
	    (vkey && !(e->vkey = strdup(vkey)))) {
		ms_entity_free(e);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if (doc && raw) {
		if (!(e->raw = malloc((size_t)doclen + 1))) {
			ms_entity_free(e);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		memcpy(e->raw, doc, (size_t)doclen);
		e->raw[doclen] = '\0';
		e->raw_len = (size_t)doclen;
	} else if (doc && !(e->doc = cJSON_ParseWithLength(doc, (size_t)doclen))) {
		ms_entity_free(e);
		return ms_error_set(err, MS_EIO, "stored document of %s '%s' in '%s' is not json",
				    ms_kind_name(kind), name, self->base.url);
	}
	*out = e;
	return 0;
}

/* Step a (doc, hash) statement already bound and build the entity of subj. */
static int get_row(sqlite_catalog *self, sqlite3_stmt *st, ms_entity **out, const subject *subj,
		   ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	const char *doc;
	const void *hash;
	int doclen, hashlen, rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return ms_error_set(err, MS_ENOTFOUND, "%s not found in '%s'",
				    subject_text(subj, what, sizeof(what)), self->base.url);
	if (rc != SQLITE_ROW)
		return sq_fail(self, rc, err, "cannot read %s in '%s'",
			       subject_text(subj, what, sizeof(what)), self->base.url);
	doc = (const char *)sqlite3_column_text(st, 0);
	doclen = sqlite3_column_bytes(st, 0);
	hash = sqlite3_column_blob(st, 1);
	hashlen = sqlite3_column_bytes(st, 1);
	return row_entity(self, out, subj->kind, subj->db, subj->table,
			  subj->kind == MS_KIND_PARTITION ? subj->vkey : NULL, doc, doclen, 0, hash,
			  hashlen, err);
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
		return sq_fail(self, rc, err, "cannot list %s in '%s'", what, self->base.url);
	return 0;
}

static int sqlite_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	sqlite3_stmt *st = NULL;
	int owned, rc;

	if ((rc = get_stmt(self, ST_DB_LIST, &st, &owned, err)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	rc = list_names(self, st, cb, ctx, "databases", err);
	put_stmt(st, owned);
	return rc;
}

static int sqlite_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char n[NAME_BUF];
	subject subj = { MS_KIND_DATABASE, n, NULL, NULL };
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = fold_name(n, name, "database", err)) < 0 ||
	    (rc = short_stmt(self, ST_DB_GET, &st, err)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	rc = get_row(self, st, out, &subj, err);
	sqlite3_reset(st);
	return rc;
}

static int sqlite_put_database(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	unsigned char hash[MS_HASH_LEN];
	char n[NAME_BUF];
	subject subj = { MS_KIND_DATABASE, n, NULL, NULL };
	sqlite3_int64 id = 0;
	sqlite3_stmt *st = NULL;
	put_texts t;
	int rc, began = 0, exists, has_time = 0;

	texts_init(&t);
	if (!e || e->kind != MS_KIND_DATABASE || !e->doc) {
		rc = ms_error_set(err, MS_EINVAL, "entity given to put_database is not a database");
		goto done;
	}
	if ((rc = fold_name(n, e->database, "database", err)) < 0 ||
	    (rc = entity_hash(e, hash, err)) < 0 ||
	    (rc = texts_prepare(self, &t, n, NULL, err)) < 0)
		goto done;
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;

	if ((rc = database_id(self, n, &id, &exists, err)) < 0)
		goto done;
	if (exists) {
		if ((rc = short_stmt(self, ST_DB_CTIME, &st, err)) < 0)
			goto done;
		sqlite3_bind_int64(st, 1, id);
		rc = read_stored_time(self, st, &t, &has_time, &subj, err);
		sqlite3_reset(st);
		if (rc < 0)
			goto done;
	}
	{
		const doc_override ov[] = {
			{ "Name", &t.database, 0 },
			{ "CatalogId", self->catalog_id ? &t.catalog : NULL, 0 },
			{ "CreateTime", has_time ? &t.stored : &t.now, 1 },
		};

		if ((rc = compose_doc(self, e->doc, ov, 3, &subj, err)) < 0)
			goto done;
	}
	if ((rc = short_stmt(self, exists ? ST_DB_UPDATE : ST_DB_INSERT, &st, err)) < 0)
		goto done;
	if (exists) {
		sqlite3_bind_int64(st, 1, id);
	} else {
		sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	}
	if ((rc = write_doc(self, st, exists ? 2 : 3, hash, &subj, err)) < 0)
		goto done;
	rc = log_change(self, "database", n, NULL, NULL, "put", t.now_seconds, err);
done:
	if (began)
		rc = call_end(self, rc, err);
	texts_free(&t);
	return rc;
}

static int sqlite_delete_database(ms_catalog *cat, const char *name, ms_error *err)
{
	static const enum stmt_id steps[] = { ST_DB_DELETE_VERSIONS, ST_DB_DELETE_PARTS,
					      ST_DB_DELETE_TABLES, ST_DB_DELETE };
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char n[NAME_BUF];
	subject subj = { MS_KIND_DATABASE, n, NULL, NULL };
	sqlite3_int64 id;
	int rc, began = 0;

	if ((rc = fold_name(n, name, "database", err)) < 0)
		return rc;
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = find_database(self, n, &id, err)) < 0 ||
	    (rc = delete_by_id(self, steps, sizeof(steps) / sizeof(steps[0]), id, &subj, err)) < 0)
		goto done;
	rc = log_change(self, "database", n, NULL, NULL, "delete", (long long)time(NULL), err);
done:
	if (began)
		rc = call_end(self, rc, err);
	return rc;
}

static int sqlite_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx,
			      ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char n[NAME_BUF];
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	int owned, rc;

	if ((rc = fold_name(n, db, "database", err)) < 0 ||
	    (rc = find_database(self, n, &id, err)) < 0 ||
	    (rc = get_stmt(self, ST_TBL_LIST, &st, &owned, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = list_names(self, st, cb, ctx, "tables", err);
	put_stmt(st, owned);
	return rc;
}

static int sqlite_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out,
			    ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], n[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, n, NULL };
	sqlite3_int64 db_id = 0;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = fold_name(n, name, "table", err)) < 0 ||
	    (rc = find_database(self, dbn, &db_id, err)) < 0 ||
	    (rc = short_stmt(self, ST_TBL_GET, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, db_id);
	sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	rc = get_row(self, st, out, &subj, err);
	sqlite3_reset(st);
	return rc;
}

static int sqlite_put_table(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	unsigned char hash[MS_HASH_LEN];
	char dbn[NAME_BUF], n[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, n, NULL };
	sqlite3_int64 db_id, id = 0;
	sqlite3_stmt *st = NULL;
	put_texts t;
	int rc, began = 0, exists, has_time = 0;

	texts_init(&t);
	if (!e || e->kind != MS_KIND_TABLE || !e->doc) {
		rc = ms_error_set(err, MS_EINVAL, "entity given to put_table is not a table");
		goto done;
	}
	if ((rc = fold_name(dbn, e->database, "database", err)) < 0 ||
	    (rc = fold_name(n, e->table, "table", err)) < 0 ||
	    (rc = entity_hash(e, hash, err)) < 0 ||
	    (rc = texts_prepare(self, &t, dbn, n, err)) < 0)
		goto done;
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;

	if ((rc = find_database(self, dbn, &db_id, err)) < 0 ||
	    (rc = table_id(self, db_id, dbn, n, &id, &exists, err)) < 0)
		goto done;
	if (exists) {
		if ((rc = short_stmt(self, ST_TBL_CTIME, &st, err)) < 0)
			goto done;
		sqlite3_bind_int64(st, 1, id);
		rc = read_stored_time(self, st, &t, &has_time, &subj, err);
		sqlite3_reset(st);
		if (rc < 0)
			goto done;
	}
	{
		const doc_override ov[] = {
			{ "Name", &t.table, 0 },
			{ "DatabaseName", &t.database, 0 },
			{ "CatalogId", self->catalog_id ? &t.catalog : NULL, 0 },
			{ "CreateTime", has_time ? &t.stored : &t.now, 1 },
			{ "UpdateTime", &t.now, 0 },
		};

		if ((rc = compose_doc(self, e->doc, ov, 5, &subj, err)) < 0)
			goto done;
	}
	if ((rc = short_stmt(self, exists ? ST_TBL_UPDATE : ST_TBL_INSERT, &st, err)) < 0)
		goto done;
	if (exists) {
		sqlite3_bind_int64(st, 1, id);
	} else {
		sqlite3_bind_int64(st, 1, db_id);
		sqlite3_bind_text(st, 2, n, -1, SQLITE_STATIC);
	}
	if ((rc = write_doc(self, st, exists ? 2 : 3, hash, &subj, err)) < 0)
		goto done;
	rc = log_change(self, "table", dbn, n, NULL, "put", t.now_seconds, err);
done:
	if (began)
		rc = call_end(self, rc, err);
	texts_free(&t);
	return rc;
}

static int sqlite_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err)
{
	static const enum stmt_id steps[] = { ST_TBL_DELETE_VERSIONS, ST_TBL_DELETE_PARTS,
					      ST_TBL_DELETE };
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], n[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, n, NULL };
	sqlite3_int64 id;
	int rc, began = 0;

	if ((rc = fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = fold_name(n, name, "table", err)) < 0)
		return rc;
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = find_table(self, dbn, n, &id, err)) < 0 ||
	    (rc = delete_by_id(self, steps, sizeof(steps) / sizeof(steps[0]), id, &subj, err)) < 0)
		goto done;
	rc = log_change(self, "table", dbn, n, NULL, "delete", (long long)time(NULL), err);
done:
	if (began)
		rc = call_end(self, rc, err);
	return rc;
}

/*
 * Stream the rows (vkey or NULL, hash, doc) of a statement already bound to
 * cb as entities of subj's kind and names; without the doc column with
 * MS_SCAN_KEYS_ONLY, copied into raw with MS_SCAN_RAW.
 */
static int stream_rows(sqlite_catalog *self, sqlite3_stmt *st, const subject *subj,
		       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err)
{
	int keys_only = (flags & MS_SCAN_KEYS_ONLY) != 0, raw = (flags & MS_SCAN_RAW) != 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* fetch each column's pointer before its length, as SQLite asks */
		const char *vkey = (const char *)sqlite3_column_text(st, 0);
		const void *hash = sqlite3_column_blob(st, 1);
		int hashlen = sqlite3_column_bytes(st, 1);
		const char *doc = keys_only ? NULL : (const char *)sqlite3_column_text(st, 2);
		int doclen = keys_only ? 0 : sqlite3_column_bytes(st, 2);
		ms_entity *e = NULL;

		rc = row_entity(self, &e, subj->kind, subj->db, subj->table, vkey, doc, doclen, raw,
				hash, hashlen, err);
		if (rc < 0 || (rc = cb(e, ctx, err)) != 0)
			return rc;
	}
	if (rc != SQLITE_DONE)
		return sq_fail(self, rc, err, "cannot read %s of '%s.%s' in '%s'",
			       subj->kind == MS_KIND_PARTITION ? "partitions" : "versions",
			       subj->db, subj->table, self->base.url);
	return 0;
}

/*
 * One seek into the (table_id, vkey) index, then the rows after it in vkey
 * order: a page after a cursor costs the page, not the table.  Segments are
 * those of ms_catalog_scan_segment (the ms_segment SQL function), tested on
 * the index's vkey before the row is read.
 */
static int sqlite_scan_partitions_range(ms_catalog *cat, const char *db, const char *table,
					const ms_scan_range *range, unsigned int flags,
					ms_entity_cb cb, void *ctx, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_PARTITION, dbn, tbn, NULL };
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	int owned = 0, rc;

	if ((rc = resolve_table(self, db, table, dbn, tbn, &id, err)) < 0 ||
	    (rc = get_stmt(self, (flags & MS_SCAN_KEYS_ONLY) ? ST_PART_SCAN_KEYS : ST_PART_SCAN,
			   &st, &owned, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, range->after ? range->after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)range->segments);
	sqlite3_bind_int(st, 4, (int)range->segment);
	rc = stream_rows(self, st, &subj, flags, cb, ctx, err);
	put_stmt(st, owned);
	return rc;
}

static int sqlite_scan_partitions(ms_catalog *cat, const char *db, const char *table,
				  unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err)
{
	static const ms_scan_range all = { NULL, 0, 1 };

	return sqlite_scan_partitions_range(cat, db, table, &all, flags, cb, ctx, err);
}

/*
 * Fold db and table into dbn and tbn and borrow statement id (give it back
 * with put_stmt) bound to (catalog, database, table) and, unless version_id
 * is NULL, the version's number.
 */
static int version_stmt(sqlite_catalog *self, enum stmt_id id, const char *db,
			const char *table, const char *version_id, char *dbn, char *tbn,
			sqlite3_stmt **out, int *owned, ms_error *err)
{
	long long v = 0;
	int rc;

	if ((rc = fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = fold_name(tbn, table, "table", err)) < 0)
		return rc;
	if (version_id && ms_catalog_version_number(version_id, &v) < 0)
		return ms_error_set(err, MS_EINVAL, "version '%.64s' of table '%s.%s' is not a "
				    "VersionId", version_id, dbn, tbn);
	if ((rc = get_stmt(self, id, out, owned, err)) < 0)
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
static int sqlite_put_table_version(ms_catalog *cat, const ms_entity *e, ms_error *err)
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

	texts_init(&t);
	if ((rc = version_stmt(self, ST_VER_PUT, e->database, e->table, subj.vkey, dbn, n, &st,
			       &owned, err)) < 0 ||
	    (rc = entity_hash(e, hash, err)) < 0 || (rc = texts_prepare(self, &t, dbn, n, err)) < 0)
		goto done;
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = find_database(self, dbn, &db_id, err)) < 0)
		goto done;
	{
		const doc_override ov[] = {
			{ "Name", &t.table, 0 },
			{ "DatabaseName", &t.database, 0 },
			{ "CatalogId", self->catalog_id ? &t.catalog : NULL, 0 },
		};

		if ((rc = compose_doc(self, e->doc, ov, 3, &subj, err)) < 0)
			goto done;
	}
	rc = write_doc(self, st, 5, hash, &subj, err);
done:
	put_stmt(st, owned);
	if (began)
		rc = call_end(self, rc, err);
	texts_free(&t);
	return rc;
}

static int sqlite_scan_table_versions(ms_catalog *cat, const char *db, const char *table,
				      ms_entity_cb cb, void *ctx, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_TABLE, dbn, tbn, NULL };
	sqlite3_stmt *st = NULL;
	int owned = 0, rc;

	if ((rc = version_stmt(self, ST_VER_SCAN, db, table, NULL, dbn, tbn, &st, &owned, err)) < 0)
		return rc;
	rc = stream_rows(self, st, &subj, 0, cb, ctx, err);
	put_stmt(st, owned);
	return rc;
}

static int sqlite_get_table_version(ms_catalog *cat, const char *db, const char *table,
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
	rc = get_row(self, st, out, &subj, err);
	put_stmt(st, owned);
	return rc;
}

static int sqlite_delete_table_version(ms_catalog *cat, const char *db, const char *table,
				       const char *version_id, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF], what[MS_ERROR_MESSAGE_MAX];
	subject subj = { MS_KIND_TABLE, dbn, tbn, version_id };
	sqlite3_stmt *st = NULL;
	int owned = 0, rc;

	if ((rc = call_begin(self, err)) < 0)
		return rc;
	if ((rc = version_stmt(self, ST_VER_DELETE, db, table, version_id, dbn, tbn, &st, &owned,
			       err)) < 0)
		goto done;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rc = sq_fail(self, rc, err, "cannot delete %s in '%s'",
			     subject_text(&subj, what, sizeof(what)), self->base.url);
	else if (sqlite3_changes(self->db) == 0)
		rc = ms_error_set(err, MS_ENOTFOUND, "%s not found in '%s'",
				  subject_text(&subj, what, sizeof(what)), self->base.url);
	else
		rc = 0;
done:
	put_stmt(st, owned);
	return call_end(self, rc, err);
}

static int sqlite_get_partition(ms_catalog *cat, const char *db, const char *table,
				const char *vkey, ms_entity **out, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	subject subj = { MS_KIND_PARTITION, dbn, tbn, vkey };
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	int rc;

	if (!vkey)
		return ms_error_set(err, MS_EINVAL, "missing partition values key");
	if ((rc = resolve_table(self, db, table, dbn, tbn, &id, err)) < 0 ||
	    (rc = short_stmt(self, ST_PART_GET, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, vkey, -1, SQLITE_STATIC);
	rc = get_row(self, st, out, &subj, err);
	sqlite3_reset(st);
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

	if ((rc = entity_hash(e, hash, err)) < 0 ||
	    (rc = compose_doc(self, e->doc, ov, 4, &subj, err)) < 0 ||
	    (rc = short_stmt(self, has_ctime ? ST_PART_UPSERT : ST_PART_INSERT_NEW, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, table_id);
	sqlite3_bind_text(st, 2, e->vkey, -1, SQLITE_STATIC);
	if ((rc = write_doc(self, st, 3, hash, &subj, err)) < 0)
		return rc;
	if (!has_ctime && sqlite3_changes(self->db) == 0) {
		if ((rc = short_stmt(self, ST_PART_CTIME, &st, err)) < 0)
			return rc;
		sqlite3_bind_int64(st, 1, table_id);
		sqlite3_bind_text(st, 2, e->vkey, -1, SQLITE_STATIC);
		rc = read_stored_time(self, st, t, &found, &subj, err);
		sqlite3_reset(st);
		if (rc < 0)
			return rc;
		ov[3].text = found ? &t->stored : &t->now;
		if ((rc = compose_doc(self, e->doc, ov, 4, &subj, err)) < 0 ||
		    (rc = short_stmt(self, ST_PART_UPDATE, &st, err)) < 0)
			return rc;
		sqlite3_bind_int64(st, 1, table_id);
		sqlite3_bind_text(st, 2, e->vkey, -1, SQLITE_STATIC);
		if ((rc = write_doc(self, st, 3, hash, &subj, err)) < 0)
			return rc;
	}
	return log_change(self, "partition", dbn, tbn, e->vkey, "put", t->now_seconds, err);
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

	if ((rc = short_stmt(self, ST_TBL_NKEYS, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, table_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		nkeys = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE
		     ? 0
		     : sq_fail(self, rc, err, "cannot read table '%s.%s' in '%s'", dbn, tbn,
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

static int sqlite_put_partitions(ms_catalog *cat, const char *db, const char *table,
				 ms_entity *const *parts, size_t n, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	sqlite3_int64 id;
	put_texts t;
	size_t i;
	int rc, began = 0;

	texts_init(&t);
	for (i = 0; i < n; i++) {
		if (!parts[i] || parts[i]->kind != MS_KIND_PARTITION || !parts[i]->vkey ||
		    !parts[i]->doc) {
			rc = ms_error_set(err, MS_EINVAL,
					  "entity %zu of the batch for '%s.%s' is not a partition",
					  i, db, table);
			goto done;
		}
	}
	if ((rc = fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = fold_name(tbn, table, "table", err)) < 0 ||
	    (rc = texts_prepare(self, &t, dbn, tbn, err)) < 0)
		goto done;
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = find_table(self, dbn, tbn, &id, err)) < 0 ||
	    (rc = check_value_counts(self, id, dbn, tbn, parts, n, err)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if ((rc = put_partition(self, id, dbn, tbn, parts[i], &t, err)) < 0)
			goto done;
done:
	if (began)
		rc = call_end(self, rc, err);
	texts_free(&t);
	return rc;
}

static int sqlite_delete_partitions(ms_catalog *cat, const char *db, const char *table,
				    const char *const *vkeys, size_t n, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	long long now = (long long)time(NULL);
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc, began = 0;

	if ((rc = fold_name(dbn, db, "database", err)) < 0 ||
	    (rc = fold_name(tbn, table, "table", err)) < 0)
		return rc;
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = find_table(self, dbn, tbn, &id, err)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (!vkeys[i]) {
			rc = ms_error_set(err, MS_EINVAL, "missing partition values key");
			goto done;
		}
		if ((rc = short_stmt(self, ST_PART_DELETE, &st, err)) < 0)
			goto done;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, vkeys[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			rc = sq_fail(self, rc, err,
				     "cannot delete partition '%s' of '%s.%s' in '%s'", vkeys[i],
				     dbn, tbn, self->base.url);
			goto done;
		}
		rc = 0;
		if (sqlite3_changes(self->db) > 0 &&
		    (rc = log_change(self, "partition", dbn, tbn, vkeys[i], "delete", now,
				     err)) < 0)
			goto done;
	}
done:
	if (began)
		rc = call_end(self, rc, err);
	return rc;
}

static int sqlite_table_digest(ms_catalog *cat, const char *db, const char *table,
			       ms_digest *out, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	char dbn[NAME_BUF], tbn[NAME_BUF];
	sqlite3_int64 id;
	sqlite3_stmt *st = NULL;
	ms_digest d;
	int owned = 0, rc;

	if ((rc = resolve_table(self, db, table, dbn, tbn, &id, err)) < 0 ||
	    (rc = get_stmt(self, ST_PART_HASHES, &st, &owned, err)) < 0)
		return rc;
	ms_digest_init(&d);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != MS_HASH_LEN) {
			rc = ms_error_set(err, MS_EIO,
					  "stored hash of a partition of '%s.%s' in '%s' is "
					  "corrupt", dbn, tbn, self->base.url);
			goto done;
		}
		ms_digest_add(&d, sqlite3_column_blob(st, 0));
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(self, rc, err, "cannot read partitions of '%s.%s' in '%s'", dbn, tbn,
			     self->base.url);
		goto done;
	}
	rc = 0;
	*out = d;
done:
	put_stmt(st, owned);
	return rc;
}

static int sqlite_begin(ms_catalog *cat, ms_error *err)
{
	sqlite_catalog *self = (sqlite_catalog *)cat;
	int rc;

	if (self->in_txn || self->reading)
		return ms_error_set(err, MS_EINVAL, "a transaction is already open on '%s'",
				    self->base.url);
	if ((rc = exec_stmt(self, ST_BEGIN, "begin a transaction", err)) < 0)
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
		rc = sq_fail(self, rc, err, "cannot begin a read of '%s'", self->path);
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
	if ((rc = exec_stmt(self, ST_COMMIT, "commit a transaction", err)) < 0)
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
	return exec_stmt(self, ST_ROLLBACK, "roll back a transaction", err);
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

static int sqlite_changes_since(ms_catalog *cat, const char *cursor, ms_change_cb cb, void *ctx,
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
	if ((rc = get_stmt(self, ST_CHANGES, &st, &owned, err)) < 0)
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
		if (!c.database || !op || change_kind((const char *)sqlite3_column_text(st, 1),
						      &c.kind) < 0) {
			rc = ms_error_set(err, MS_EIO, "change %lld in '%s' is corrupt", c.seq,
					  self->base.url);
			goto done;
		}
		if ((rc = cb(&c, ctx, err)) != 0)
			goto done;
		seq = c.seq;
	}
	if (rc != SQLITE_DONE) {
		rc = sq_fail(self, rc, err, "cannot read the change log of '%s'", self->base.url);
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
	put_stmt(st, owned);
	return rc;
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
};

/* ms_segment(vkey, n): ms_catalog_scan_segment in SQL (NULL for a NULL vkey). */
static void sql_segment(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *vkey = (const char *)sqlite3_value_text(argv[0]);
	int n = sqlite3_value_int(argv[1]);

	(void)argc;
	if (vkey)
		sqlite3_result_int(ctx, (int)ms_catalog_scan_segment(vkey, n > 0 ? (unsigned)n : 0));
}

/*
 * Files from before table versions get their table when opened where they
 * can be written; a read-only one without it reads as having none (an empty
 * temporary view stands in).
 */
static int open_versions(sqlite_catalog *self, ms_error *err)
{
	static const char empty_sql[] =
		"CREATE TEMP VIEW table_versions(catalog, \"database\", tbl, version, hash, doc) "
		"AS SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE 0";
	int rc = sqlite3_exec(self->db, VERSIONS_SCHEMA_SQL, NULL, NULL, NULL);

	if ((rc & 0xff) == SQLITE_READONLY)
		rc = sqlite3_exec(self->db, empty_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(self, rc, err, "cannot open the table versions of '%s'", self->path);
	return 0;
}

/* Create the schema unless present; refuse a newer schema version. */
static int open_schema(sqlite_catalog *self, int create, ms_error *err)
{
	static const char version_sql[] = "SELECT value FROM meta WHERE \"key\" = 'schema_version'";
	sqlite3_stmt *st = NULL;
	int rc, version = 0;

	rc = sqlite3_exec(self->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (rc == SQLITE_OK && !sqlite3_db_readonly(self->db, "main"))
		rc = sqlite3_exec(self->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(self->db, SQLITE_CATALOG_CACHE_PRAGMA, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(self, rc, err, "cannot open catalog file '%s'", self->path);
	rc = sqlite3_prepare_v2(self->db, version_sql, -1, &st, NULL);
	if (rc != SQLITE_OK && !create)
		return ms_error_set(err, MS_EINVAL, "'%s' is not a metasync catalog file",
				    self->path);
	if (rc != SQLITE_OK) {
		/* no meta table: a new (or foreign) file; create the schema atomically */
		rc = sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(self->db, schema_sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			rc = sq_fail(self, rc, err, "cannot create the catalog schema in '%s'",
				     self->path);
			if (!sqlite3_get_autocommit(self->db))
				sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		rc = sqlite3_prepare_v2(self->db, version_sql, -1, &st, NULL);
		if (rc != SQLITE_OK)
			return sq_fail(self, rc, err, "cannot read the catalog schema in '%s'",
				       self->path);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = sq_fail(self, rc, err, "cannot read the catalog schema in '%s'", self->path);
	} else if (version != SQLITE_CATALOG_SCHEMA_VERSION) {
		rc = ms_error_set(err, MS_ENOTSUPPORTED,
				  "catalog file '%s' has schema version %d, this metasync knows %d",
				  self->path, version, SQLITE_CATALOG_SCHEMA_VERSION);
	} else {
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Run sql with ?1 bound to the catalog's key: SQLITE_ROW, SQLITE_DONE or an error code. */
static int step_with_key(sqlite_catalog *self, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(self->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

/*
 * The catalog's instance GUID, the value of its `catalog:KEY` row in meta:
 * drawn the first time the catalog is opened where the file can be written
 * (a file copied keeps it; a file given the same catalog-id does not).  A
 * catalog that has none and cannot be given one has no instance.
 */
static int open_instance(sqlite_catalog *self, ms_error *err)
{
	static const char get_sql[] = "SELECT value FROM meta WHERE \"key\" = 'catalog:' || ?1";
	static const char set_sql[] = "INSERT INTO meta(\"key\", value) VALUES('catalog:' || ?1, ?2) "
				      "ON CONFLICT(\"key\") DO UPDATE SET value = ?2 WHERE value = ''";
	char uuid[37];

	for (int attempt = 0; attempt < 2; attempt++) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(self->db, attempt ? set_sql : get_sql, -1, &st, NULL);

		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 1, self->key, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK && attempt) {
			if (ms_model_uuid4(uuid) < 0) {
				sqlite3_finalize(st);
				return 0;
			}
			rc = sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (!attempt && rc == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(st, 0);

			if (v && *v && !(self->base.instance = strdup(v))) {
				sqlite3_finalize(st);
				return ms_error_set(err, MS_ENOMEM, "out of memory");
			}
		}
		sqlite3_finalize(st);
		if (self->base.instance || sqlite3_db_readonly(self->db, "main"))
			return 0;
		if (attempt && rc == SQLITE_DONE && !(self->base.instance = strdup(uuid)))
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * The catalogs of a file are those opened for writing (a `catalog:KEY` row
 * in meta) and, in files from before that row was kept, those holding a
 * database.  Opened for writing, register this one; for reading, refuse it
 * when the file does not hold it.
 */
static int open_catalog(sqlite_catalog *self, int create, ms_error *err)
{
	static const char find_sql[] = "SELECT 1 FROM meta WHERE \"key\" = 'catalog:' || ?1 "
				       "UNION ALL SELECT 1 FROM databases WHERE catalog = ?1 LIMIT 1";
	static const char reg_sql[] = "INSERT OR IGNORE INTO meta(\"key\", value) "
				      "VALUES('catalog:' || ?1, '')";
	const char *name = self->catalog_id ? self->catalog_id : self->key;
	int rc = step_with_key(self, find_sql);

	if (rc == SQLITE_DONE && create && !sqlite3_db_readonly(self->db, "main"))
		rc = step_with_key(self, reg_sql);
	if (rc == SQLITE_DONE && !create)
		return ms_error_set(err, MS_ENOTFOUND, "catalog '%s' not found in catalog file '%s'",
				    name, self->path);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_fail(self, rc, err, "cannot open catalog '%s' in '%s'", name, self->path);
	return open_instance(self, err);
}

int ms_sqlite_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			   ms_error *err);

/*
 * ?cache-mib=N (1 to 1024): this connection's page cache instead of the
 * default 32 MiB; a server holding many connections to one file keeps each
 * small and leaves caching to the operating system.
 */
static int set_cache(sqlite_catalog *self, const char *mib, ms_error *err)
{
	char sql[64], *end;
	long n;

	if (!mib)
		return 0;
	n = strtol(mib, &end, 10);
	if (*end || end == mib || n < 1 || n > 1024)
		return ms_error_set(err, MS_EINVAL,
				    "cache-mib in catalog url '%s' must be 1 to 1024, got '%s'",
				    self->base.url, mib);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%ld", n * 1024);
	if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(self, sqlite3_errcode(self->db), err, "cannot set the cache of '%s'",
			       self->path);
	return 0;
}

/*
 * Without ?catalog-id=, a catalog is identified by its file: "sqlite:" and
 * the file's absolute path with symbolic links resolved, so that
 * sqlite:x.db and sqlite:/abs/x.db are one source.
 */
static int path_identity(sqlite_catalog *self, ms_error *err)
{
	char *real = realpath(self->path, NULL), *id = NULL;

	if (!real)
		return 0;   /* keep the URL: the file is open, so this hardly happens */
	if (asprintf(&id, "sqlite:%s", real) < 0)
		id = NULL;
	free(real);
	if (!id)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	free(self->base.catalog_id);
	self->base.catalog_id = id;
	self->base.implicit_id = 1;
	return 0;
}

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
		rc = ms_error_set(err, MS_ENOTFOUND, "catalog file '%s' does not exist", self->path);
		goto done;
	}
	rc = sqlite3_open_v2(self->path, &self->db,
			     SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
				     SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		rc = sq_fail(self, rc, err, "cannot open catalog file '%s'", self->path);
		goto done;
	}
	sqlite3_busy_timeout(self->db, SQLITE_CATALOG_BUSY_MS);
	rc = sqlite3_create_function_v2(self->db, "ms_segment", 2,
					SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_segment, NULL,
					NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = sq_fail(self, rc, err, "cannot open catalog file '%s'", self->path);
		goto done;
	}
	if ((rc = open_schema(self, create, err)) < 0 ||
	    (rc = set_cache(self, ms_url_param_get(url, "cache-mib"), err)) < 0 ||
	    (rc = open_versions(self, err)) < 0 || (rc = open_catalog(self, create, err)) < 0 ||
	    (!cid && (rc = path_identity(self, err)) < 0))
		goto done;
	*out = &self->base;
done:
	if (rc < 0)
		sqlite_close(&self->base);
	return rc;
}
