/*
 * Opening an embedded SQLite catalog: the schema and its version, the
 * pragmas, the table of archived versions added to older files, the
 * catalog's row and instance GUID in meta, and the catalog's identity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/sqlite_internal.h"
#include "util/duration.h"

#define SQLITE_CATALOG_SCHEMA_VERSION 1
#define SQLITE_CATALOG_STR_(x) #x
#define SQLITE_CATALOG_STR(x) SQLITE_CATALOG_STR_(x)
#define SQLITE_CATALOG_BUSY_MS 30000
/*
 * 32 MiB of page cache; checkpoints every 16384 WAL pages (64 MiB) instead of
 * SQLite's 1000, so a large import syncs and copies hot pages far less often.
 */
#define SQLITE_CATALOG_CACHE_PRAGMA "PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=16384"

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
#define VERSIONS_SCHEMA_SQL \
	"CREATE TABLE IF NOT EXISTS table_versions(" \
	" catalog TEXT NOT NULL, \"database\" TEXT NOT NULL, tbl TEXT NOT NULL," \
	" version INTEGER NOT NULL, hash BLOB NOT NULL, doc TEXT NOT NULL," \
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
	" time INTEGER NOT NULL);" VERSIONS_SCHEMA_SQL
	"INSERT OR IGNORE INTO meta(\"key\", value) VALUES('schema_version', '" SQLITE_CATALOG_STR(
		SQLITE_CATALOG_SCHEMA_VERSION) "');";

/* ms_segment(vkey, n): ms_catalog_scan_segment in SQL (NULL for a NULL vkey). */
static void sql_segment(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *vkey = (const char *)sqlite3_value_text(argv[0]);
	int n = sqlite3_value_int(argv[1]);

	(void)argc;
	if (vkey)
		sqlite3_result_int(ctx,
				   (int)ms_catalog_scan_segment(vkey, n > 0 ? (unsigned)n : 0));
}

/*
 * Files from before table versions get their table when opened where they
 * can be written; a read-only one without it reads as having none (an empty
 * temporary view stands in).
 */
static int open_versions(sqlite_catalog *self, ms_error *err)
{
	static const char empty_sql[] = "CREATE TEMP VIEW table_versions(catalog, \"database\", "
					"tbl, version, hash, doc) "
					"AS SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE 0";
	int rc = sqlite3_exec(self->db, VERSIONS_SCHEMA_SQL, NULL, NULL, NULL);

	if ((rc & 0xff) == SQLITE_READONLY)
		rc = sqlite3_exec(self->db, empty_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(self, rc, err, "cannot open the table versions of '%s'",
				   self->path);
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
		return sqlite_fail(self, rc, err, "cannot open catalog file '%s'", self->path);
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
			rc = sqlite_fail(self, rc, err, "cannot create the catalog schema in '%s'",
					 self->path);
			if (!sqlite3_get_autocommit(self->db))
				sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		rc = sqlite3_prepare_v2(self->db, version_sql, -1, &st, NULL);
		if (rc != SQLITE_OK)
			return sqlite_fail(self, rc, err, "cannot read the catalog schema in '%s'",
					   self->path);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = sqlite_fail(self, rc, err, "cannot read the catalog schema in '%s'",
				 self->path);
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
	static const char set_sql[] = "INSERT INTO meta(\"key\", value) VALUES('catalog:' || ?1, "
				      "?2) "
				      "ON CONFLICT(\"key\") DO UPDATE SET value = ?2 WHERE value = "
				      "''";
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
				       "UNION ALL SELECT 1 FROM databases WHERE catalog = ?1 LIMIT "
				       "1";
	static const char reg_sql[] = "INSERT OR IGNORE INTO meta(\"key\", value) "
				      "VALUES('catalog:' || ?1, '')";
	const char *name = self->catalog_id ? self->catalog_id : self->key;
	int rc = step_with_key(self, find_sql);

	if (rc == SQLITE_DONE && create && !sqlite3_db_readonly(self->db, "main"))
		rc = step_with_key(self, reg_sql);
	if (rc == SQLITE_DONE && !create)
		return ms_error_set(err, MS_ENOTFOUND,
				    "catalog '%s' not found in catalog file '%s'", name,
				    self->path);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlite_fail(self, rc, err, "cannot open catalog '%s' in '%s'", name,
				   self->path);
	return open_instance(self, err);
}

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
		return sqlite_fail(self, sqlite3_errcode(self->db), err,
				   "cannot set the cache of '%s'", self->path);
	return 0;
}

/*
 * ?keep-changes=D (a duration, "7d", or "forever"): how long the change log
 * keeps a row (default 7 days); a follower whose cursor is older reads
 * everything again.
 */
static int set_keep_changes(sqlite_catalog *self, const char *text, ms_error *err)
{
	long long s = 7 * 86400;

	if (text && strcmp(text, "forever") == 0)
		s = 0;
	else if (text && (ms_parse_duration(text, &s) < 0 || s < 1 || s > 3650LL * 86400))
		return ms_error_set(err, MS_EINVAL,
				    "keep-changes in catalog url '%s' must be a duration from 1s "
				    "to 3650d ('7d') or 'forever', got '%s'",
				    self->base.url, text);
	self->keep_changes_ms = s * 1000;
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
		return 0; /* keep the URL: the file is open, so this hardly happens */
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

/* The connection and everything a catalog needs before its first call. */
int sqlite_open_file(sqlite_catalog *self, const ms_url *url, int create, ms_error *err)
{
	int rc;

	rc = sqlite3_open_v2(self->path, &self->db,
			     SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
				     SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(self, rc, err, "cannot open catalog file '%s'", self->path);
	sqlite3_busy_timeout(self->db, SQLITE_CATALOG_BUSY_MS);
	rc = sqlite3_create_function_v2(self->db, "ms_segment", 2,
					SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_segment, NULL,
					NULL, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(self, rc, err, "cannot open catalog file '%s'", self->path);
	if ((rc = open_schema(self, create, err)) < 0 ||
	    (rc = set_cache(self, ms_url_param_get(url, "cache-mib"), err)) < 0 ||
	    (rc = set_keep_changes(self, ms_url_param_get(url, "keep-changes"), err)) < 0 ||
	    (rc = open_versions(self, err)) < 0 || (rc = open_catalog(self, create, err)) < 0 ||
	    (!self->catalog_id && (rc = path_identity(self, err)) < 0))
		return rc;
	return 0;
}
