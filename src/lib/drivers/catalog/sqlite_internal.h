/*
 * Shared by the files of the embedded SQLite catalog: sqlite.c (statements,
 * transactions, the driver table and open), sqlite_open.c (schema and
 * connection setup), sqlite_doc.c (stored documents and rows),
 * sqlite_objects.c (databases and tables), sqlite_parts.c (partitions and
 * scans) and sqlite_history.c (change log and table versions).  Nothing here
 * is public API.
 */
#ifndef MS_CATALOG_SQLITE_INTERNAL_H
#define MS_CATALOG_SQLITE_INTERNAL_H

#include <stddef.h>

#include <sqlite3.h>

#include "metasync/sys/catalog.h"
#include "model/model_internal.h"
#include "util/buf.h"
#include "util/url.h"

#define SQLITE_CATALOG_DOC_MAX ((size_t)64 << 20) /* largest document written or read */
#define NAME_BUF (4 * MS_NAME_MAX + 1)            /* a folded name: up to 255 UTF-8 characters */

/*
 * Every statement the driver runs, prepared once per connection on first
 * use; their SQL is stmt_sql in sqlite.c.
 */
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
	ST_CHANGES_FIRST_KEPT,
	ST_CHANGES_PRUNE,
	ST_CHANGES_PRUNED,
	ST_CHANGES_MARK_PRUNED,
	ST_CHANGES_LAST,
	ST_TBL_NKEYS,
	ST_VER_PUT,
	ST_VER_SCAN,
	ST_VER_GET,
	ST_VER_DELETE,
	ST__COUNT
};

typedef struct doc_field {
	const char *key;
	const cJSON *item;  /* the document's own value, or NULL */
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
	char *path;                /* the file, as given */
	char *key;                 /* storage key: the catalog-id parameter or "default" */
	char *catalog_id;          /* CatalogId written into documents, or NULL */
	int in_txn;                /* an explicit begin() is open */
	int reading;               /* a read transaction (read_begin) is open */
	long long keep_changes_ms; /* how long the change log keeps a row; 0 for ever */
	sqlite3_stmt *stmts[ST__COUNT];
	ms_buf doc;        /* the document being written */
	doc_field *fields; /* scratch for sqlite_compose_doc */
	size_t fields_alloc;
} sqlite_catalog;

/* The driver's open function (registry.c's scheme table names it; sqlite.c). */
int ms_sqlite_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			   ms_error *err);

/* Statements and lookups (sqlite.c). */

/*
 * "database 'd'", "table 'd.t'", "version '3' of table 'd.t'",
 * "partition '["1"]' of 'd.t'" into buf; returns buf.
 */
const char *sqlite_subject_text(const subject *s, char *buf, size_t n);
/*
 * Fill err after SQLite returned rc: the message says what failed (printf
 * style, subject quoted by the caller), the detail is SQLite's own message
 * and backend_code its extended result code.  Returns the MS_E* code.
 */
int sqlite_fail(sqlite_catalog *self, int rc, ms_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Fold src to ASCII lowercase into dst[NAME_BUF]; EINVAL for an empty or too long name. */
int sqlite_fold_name(char *dst, const char *src, const char *what, ms_error *err);
/*
 * Borrow statement id, prepared on first use.  When the cached one is
 * running (a callback of a scan re-entered the driver), a fresh statement is
 * prepared and *owned is set: give it back with sqlite_put_stmt.
 */
int sqlite_get_stmt(sqlite_catalog *self, enum stmt_id id, sqlite3_stmt **out, int *owned,
		    ms_error *err);
/* Give back a statement of sqlite_get_stmt (NULL is a no-op). */
void sqlite_put_stmt(sqlite3_stmt *st, int owned);
/* Borrow a statement run to completion inside one driver call; reset it after use. */
int sqlite_short_stmt(sqlite_catalog *self, enum stmt_id id, sqlite3_stmt **out, ms_error *err);
/* Run a statement that returns no rows; what names it in the message. */
int sqlite_exec_stmt(sqlite_catalog *self, enum stmt_id id, const char *what, ms_error *err);
/*
 * Every put/delete runs between sqlite_call_begin and sqlite_call_end: its
 * own transaction, or a savepoint inside the caller's, so that each call is
 * atomic.  sqlite_call_end commits when rc is 0 and undoes otherwise; it
 * returns rc or the commit's error.
 */
int sqlite_call_begin(sqlite_catalog *self, ms_error *err);
int sqlite_call_end(sqlite_catalog *self, int rc, ms_error *err);
/* Look up a database's id; *found is 0 when absent.  name is folded. */
int sqlite_database_id(sqlite_catalog *self, const char *name, sqlite3_int64 *id, int *found,
		       ms_error *err);
/* Look up a database's id; MS_ENOTFOUND names it. */
int sqlite_find_database(sqlite_catalog *self, const char *name, sqlite3_int64 *id, ms_error *err);
/* Look up a table's id in a database; *found is 0 when absent.  name is folded. */
int sqlite_table_id(sqlite_catalog *self, sqlite3_int64 db_id, const char *db, const char *name,
		    sqlite3_int64 *id, int *found, ms_error *err);
/* Look up a table's id; MS_ENOTFOUND names the database or the table. */
int sqlite_find_table(sqlite_catalog *self, const char *db, const char *name, sqlite3_int64 *id,
		      ms_error *err);
/* Fold both names into dbn and tbn and find the table. */
int sqlite_resolve_table(sqlite_catalog *self, const char *db, const char *table, char *dbn,
			 char *tbn, sqlite3_int64 *id, ms_error *err);

/* Opening (sqlite_open.c). */

/*
 * Open self->path (create: for writing, creating file, schema and catalog
 * when missing) and set up the connection: busy timeout, ms_segment, schema
 * check, ?cache-mib, table versions, the catalog's row and instance, and
 * the path identity when the URL has no catalog-id.
 */
int sqlite_open_file(sqlite_catalog *self, const ms_url *url, int create, ms_error *err);

/* Documents and rows (sqlite_doc.c). */

void sqlite_texts_init(put_texts *t);
void sqlite_texts_free(put_texts *t);
/* Fill the texts a put writes into every document: names, CatalogId, now. */
int sqlite_texts_prepare(sqlite_catalog *self, put_texts *t, const char *db, const char *table,
			 ms_error *err);
/*
 * Read the stored creation time (column 0 of a ctime statement already
 * bound) into t->stored as canonical text; *found is 0 when none.
 */
int sqlite_read_stored_time(sqlite_catalog *self, sqlite3_stmt *st, put_texts *t, int *found,
			    const subject *subj, ms_error *err);
/* Write into self->doc the canonical JSON of doc with the fields of ov set or removed. */
int sqlite_compose_doc(sqlite_catalog *self, const cJSON *doc, const doc_override *ov, size_t nov,
		       const subject *subj, ms_error *err);
/* The content hash of e; an entity without one is hashed by the model. */
int sqlite_entity_hash(const ms_entity *e, unsigned char out[MS_HASH_LEN], ms_error *err);
/* Write self->doc and hash through st; `first` is the number of the doc parameter. */
int sqlite_write_doc(sqlite_catalog *self, sqlite3_stmt *st, int first, const unsigned char *hash,
		     const subject *subj, ms_error *err);
/* Step a (doc, hash) statement already bound and build the entity of subj (*out new). */
int sqlite_get_row(sqlite_catalog *self, sqlite3_stmt *st, ms_entity **out, const subject *subj,
		   ms_error *err);
/* Stream the (vkey, hash, doc) rows of a statement already bound to cb as entities of subj. */
int sqlite_stream_rows(sqlite_catalog *self, sqlite3_stmt *st, const subject *subj,
		       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err);

/* The change log (sqlite_history.c). */

/* Append one row to the change log, bound without copies. */
int sqlite_log_change(sqlite_catalog *self, const char *kind, const char *db, const char *table,
		      const char *vkey, const char *op, ms_error *err);

/*
 * Slots of sqlite_driver; sqlite.c documents each beside the driver table.
 * Databases and tables (sqlite_objects.c):
 */
int sqlite_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err);
int sqlite_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err);
int sqlite_put_database(ms_catalog *cat, const ms_entity *e, ms_error *err);
int sqlite_delete_database(ms_catalog *cat, const char *name, ms_error *err);
int sqlite_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx, ms_error *err);
int sqlite_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out,
		     ms_error *err);
int sqlite_put_table(ms_catalog *cat, const ms_entity *e, ms_error *err);
int sqlite_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err);
/* Partitions (sqlite_parts.c): */
int sqlite_scan_partitions_range(ms_catalog *cat, const char *db, const char *table,
				 const ms_scan_range *range, unsigned int flags, ms_entity_cb cb,
				 void *ctx, ms_error *err);
int sqlite_scan_partitions(ms_catalog *cat, const char *db, const char *table, unsigned int flags,
			   ms_entity_cb cb, void *ctx, ms_error *err);
int sqlite_get_partitions(ms_catalog *cat, const char *db, const char *table,
			  const char *const *vkeys, size_t n, ms_entity **out, ms_error *err);
int sqlite_get_partition(ms_catalog *cat, const char *db, const char *table, const char *vkey,
			 ms_entity **out, ms_error *err);
int sqlite_put_partitions(ms_catalog *cat, const char *db, const char *table,
			  ms_entity *const *parts, size_t n, ms_error *err);
int sqlite_delete_partitions(ms_catalog *cat, const char *db, const char *table,
			     const char *const *vkeys, size_t n, ms_error *err);
int sqlite_table_digest(ms_catalog *cat, const char *db, const char *table, ms_digest *out,
			ms_error *err);
/* Table versions and the change feed (sqlite_history.c): */
int sqlite_put_table_version(ms_catalog *cat, const ms_entity *e, ms_error *err);
int sqlite_scan_table_versions(ms_catalog *cat, const char *db, const char *table, ms_entity_cb cb,
			       void *ctx, ms_error *err);
int sqlite_get_table_version(ms_catalog *cat, const char *db, const char *table,
			     const char *version_id, ms_entity **out, ms_error *err);
int sqlite_delete_table_version(ms_catalog *cat, const char *db, const char *table,
				const char *version_id, ms_error *err);
int sqlite_change_head(ms_catalog *cat, char **cursor, ms_error *err);
int sqlite_changes_since(ms_catalog *cat, const char *cursor, ms_change_cb cb, void *ctx,
			 char **next_cursor, ms_error *err);

#endif
