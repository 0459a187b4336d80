/*
 * Shared between the files of the Hive Metastore catalog driver (hms.c and
 * hms_*.c): the open catalog, the row sets and statements its SQL runs on,
 * the `metasync.hms` stash, and the storage descriptor and partition steps
 * that more than one entity's code takes.  Nothing here is public API; the
 * SQL backends (hms_pg.c, hms_mysql.c) see only hms_sql.h.
 */
#ifndef MS_DRIVERS_HMS_INTERNAL_H
#define MS_DRIVERS_HMS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/catalog/hms_sql.h"
#include "metasync/sys/catalog.h"
#include "model/model_internal.h"
#include "util/buf.h"

struct ms_url;

#define HMS_STASH "metasync.hms"
#define HMS_BATCH 1000 /* partitions per write batch, ids per IN list */
/* partitions per scan batch; after a full first one the rest is read ahead */
#define HMS_SCAN_BATCH 1000
#define HMS_SCAN_BATCH_TEXT "1000"
#define HMS_MAX_PARAMS 30000 /* parameters per statement */
#define HMS_ROWSET_MAX ((size_t)512 << 20)
#define HMS_ID_BLOCK 100
#define MODEL "org.apache.hadoop.hive.metastore.model."
/* a database or table name folded to lower case (hms_fold) */
#define HMS_NAME_BUF (MS_NAME_MAX * 4 + 1)

typedef struct scan_ahead scan_ahead;

typedef struct hms_catalog {
	ms_catalog base;
	hms_conn *conn;
	hms_conn *idconn;         /* id allocation only */
	hms_conn *scanconn;       /* reading ahead in scans; opened on first use */
	struct scan_ahead *ahead; /* the thread reading ahead on scanconn, or NULL */
	struct ms_url *url;       /* to open scanconn */
	int (*connect)(hms_conn **out, const struct ms_url *url, ms_error *err);
	char *ctlg; /* Hive catalog name */
	hms_dialect dialect;
	int in_txn;
	int reading;            /* a read from one point in time is open (read_begin) */
	char *read_share;       /* its name for scanconn; NULL: scans read on conn */
	int scan_reading;       /* scanconn is inside that point in time */
	int feed;               /* HMS_FEED_*: the change feed the URL asks for (?feed=) */
	long long feed_scan_ms; /* the polling feed's aggregate scans (?feed-scan=) */
	void (*warn)(void *ctx, const char *message);
	void *warn_ctx;
	struct idblock {
		const char *cls;
		long long next, end;
	} ids[8];
} hms_catalog;

enum { HMS_FEED_AUTO = 0, HMS_FEED_NOTIFICATIONS = 1, HMS_FEED_POLL = 2 };

/* ---- the polling change feed (hms_poll.c) --------------------------------- */

/* Where the polling feed stands now: *cursor (new) "poll:DIGEST". */
int hms_poll_head(hms_catalog *self, long long scan_ms, char **cursor, ms_error *err);
/*
 * The changes since a polling cursor (none: every database and table, put);
 * MS_EINVAL when the cursor is not one; MS_ECONFLICT when this process does
 * not hold its state and the metastore changed since (read everything again).
 */
int hms_poll_changes(hms_catalog *self, const char *cursor, long long scan_ms, ms_change_cb cb,
		     void *ctx, char **next_cursor, ms_error *err);

/* ---- the notification log's change feed (hms_events.c) ----------------- */

/* The changes of NOTIFICATION_LOG's events after id from; *next_cursor (new) the last id. */
int hms_log_changes(hms_catalog *self, long long from, ms_change_cb cb, void *ctx,
		    char **next_cursor, ms_error *err);

/* ---- its aggregate scan, in a thread of its own (hms_poll_scan.c) ---------- */

/* A table's partitions: count, sums of PART_ID, SD_ID, transient_lastDdlTime. */
typedef struct hms_agg {
	long long tbl;
	long long v[4];
} hms_agg;

typedef void (*hms_scan_moved)(void *ctx, long long tbl, const long long d[4]);

/*
 * Start scanning instance's partitions with ids up to bound, per table
 * (sql: table id, count and the three sums of those with ids in (?, ?],
 * by table id), on a connection of its own, chunk by chunk: its id, or 0
 * when one of instance is running or it could not start.  base (taken,
 * freed on failure too): what the caller expects the scan to find, by
 * table id.
 */
uint64_t hms_scan_start(hms_catalog *self, const char *instance, long long bound, hms_agg *base,
			size_t nbase, const char *sql);
/*
 * Scan id of instance: -1 it is not the last started (wait no more), 0
 * running, 1 done: moved (when not NULL) is called with each table whose
 * aggregates differ from the base, and the difference; 2 failed: message
 * (when not NULL) says why.
 */
int hms_scan_take(const char *instance, uint64_t id, hms_scan_moved moved, void *ctx, char *message,
		  size_t size);

/* ---- result sets and statements (hms_rows.c) ----------------------------- */

/* A query's rows as text; cell text lives in blocks, not one allocation per cell. */
typedef struct rowset {
	size_t ncols, nrows, alloc, bytes;
	char **cells; /* NULL for SQL NULL */
	struct rs_block *blocks;
} rowset;

#define CELL(rs, r, c) ((rs)->cells[(r) * (rs)->ncols + (c)])

typedef struct idlist {
	long long *v;
	size_t n, alloc;
} idlist;

/* Strings that parameters point at during one statement. */
typedef struct plist {
	const char **v;
	char **owned;
	size_t n, alloc, nowned, owned_alloc;
} plist;

/* Multi-row insert into one table: values are added row by row and flushed in chunks. */
typedef struct inserter {
	hms_catalog *self;
	const char *table;
	const char *const *cols;
	const char *const *marks; /* per column: "?" or an expression such as "(? = 1)" */
	size_t ncols, rows;
	plist p;
	ms_buf sql;
} inserter;

/* Free rs's rows and zero it (it can be filled again). */
void hms_rowset_free(rowset *rs);
/* An hms_row_cb that appends the row to the rowset ctx; MS_ETOOBIG past HMS_ROWSET_MAX. */
int hms_collect_row(void *ctx, size_t ncols, const char *const *v, const size_t *len,
		    ms_error *err);
/* Run sql on the main connection; rows (when rs) are appended to rs. */
int hms_q(hms_catalog *self, const char *sql, const char *const *p, size_t n, rowset *rs,
	  unsigned long long *affected, ms_error *err);
/* Run sql with one parameter and no result. */
int hms_q1(hms_catalog *self, const char *sql, const char *a, ms_error *err);
/*
 * Run `prefix (?,..) suffix` over ids in chunks (on PostgreSQL, a prefix
 * ending in "IN " takes one array parameter), the list bound after `lead`
 * leading parameters; rows (when rs) are appended to rs.  0 for no ids.
 */
int hms_q_in(hms_catalog *self, const char *prefix, const char *suffix, const char *const *lead,
	     size_t nlead, const idlist *ids, rowset *rs, ms_error *err);

/* Append id; MS_ENOMEM. */
int hms_idlist_add(idlist *l, long long id);
/* Sort and drop duplicates. */
void hms_idlist_unique(idlist *l);
/* The index of id in a sorted list, or -1. */
long long hms_find_id(const idlist *sorted, long long id);
/*
 * Add the ids of column ca of rs's rows to a, and of column cb to b when b
 * is not NULL; NULL cells are passed over.  MS_ENOMEM.
 */
int hms_ids_from_rows(const rowset *rs, size_t ca, idlist *a, size_t cb, idlist *b);

/* Forget p's strings, keeping its arrays. */
void hms_params_reset(plist *p);
void hms_params_free(plist *p);
/* Add a borrowed string (NULL for SQL NULL); MS_ENOMEM. */
int hms_params_add(plist *p, const char *s);
/* Add s, which p owns from here (freed on failure too); MS_ENOMEM. */
int hms_params_take(plist *p, char *s);
/* Add an owned copy of a number; MS_ENOMEM. */
int hms_params_addll(plist *p, long long v);
/* Append "(?,?,...)" for n placeholders. */
int hms_add_marks(ms_buf *b, size_t n);

/* Start an inserter of ncols columns (marks NULL: all "?"); table, cols and marks are borrowed. */
void hms_ins_init(inserter *in, hms_catalog *self, const char *table, const char *const *cols,
		  const char *const *marks, size_t ncols);
/* Insert the rows added so far (none: nothing runs). */
int hms_ins_flush(inserter *in, ms_error *err);
/* End a row: flush when the statement is full. */
int hms_ins_row(inserter *in, ms_error *err);
void hms_ins_free(inserter *in);

/* ---- the stash, checks and warnings (hms_stash.c) ------------------------ */

/* What a message names: a database, a table, or a partition by its values key. */
typedef struct subject {
	ms_kind kind;
	const char *db, *table, *vkey;
} subject;

/* The stash of one entity being written: what Hive has no column for. */
typedef struct stash {
	cJSON *o;
	ms_buf fields; /* names for the warning */
} stash;

/*
 * Refuse a value longer than its Hive column ("TABLE.COLUMN") with
 * MS_EINVAL naming s; on MySQL, whose 3.1 schema is latin1, refuse
 * characters outside latin1 too.  NULL is fine.
 */
int hms_check(hms_catalog *self, const subject *s, const char *column, const char *v,
	      ms_error *err);
/* 0 when s cannot be stored in (so cannot be found in) this schema's text columns. */
int hms_storable(const hms_catalog *self, const char *s);
/* Report fields kept in the stash of s through the open options' warn callback. */
void hms_warn(hms_catalog *self, const subject *s, const char *fields);

/* Member k of o as a string (borrowed), or NULL. */
const char *hms_jstr(const cJSON *o, const char *k);
const cJSON *hms_jget(const cJSON *o, const char *k);
/* Add a copy of v (a decimal number with jadd_num) under k; nothing for NULL; MS_ENOMEM. */
int hms_jadd_str(cJSON *o, const char *k, const char *v);
int hms_jadd_num(cJSON *o, const char *k, const char *v);
/*
 * The same with a key that is a string literal, not copied (cJSON's
 * constant keys).  hms_jlit steals item and returns it, or NULL (item freed).
 */
cJSON *hms_jlit(cJSON *o, const char *lit, cJSON *item);
int hms_jlit_str(cJSON *o, const char *lit, const char *v);
int hms_jlit_num(cJSON *o, const char *lit, const char *v);
/* A number's value, or dflt when v is not a number. */
long long hms_num(const cJSON *v, long long dflt);
/* Whether k is one of names (NULL-terminated). */
int hms_in_list(const char *const *names, const char *k);
/* Whether v is an empty array or object. */
int hms_empty_container(const cJSON *v);

/* stash[key] (borrowed), added when missing; MS_ENOMEM. */
int hms_stash_obj(stash *s, const char *key, cJSON **out);
/* Keep field f (a copy) under stash[key][name]; note label (when not NULL) for the warning. */
int hms_stash_keep(stash *s, const char *key, const char *name, const cJSON *f, const char *label);
/* Keep field f (a copy) under stash[key][idx] of the idx-th element of an array; note label. */
int hms_stash_keep_at(stash *s, const char *key, int idx, const cJSON *f, const char *label);
/* Keep the members of o that are not in known under stash[key], each noted by its name. */
int hms_stash_unknown(stash *s, const cJSON *o, const char *const *known, const char *key);
/* Record that a field was present with the value Hive stores when it is absent. */
int hms_stash_default(stash *s, const char *path);
/* Whether the stash st (as read) records path as present with Hive's default. */
int hms_has_default(const cJSON *st, const char *path);
/* The stash as text (new), or NULL when there is nothing to keep; MS_ENOMEM. */
int hms_stash_text(stash *st, char **out);
void hms_stash_free(stash *s);
/* Parse and remove the stash parameter of a document being read (new or NULL). */
cJSON *hms_take_stash(cJSON *doc);
/* Add copies of the members of from (a stash's object; NULL: none) to obj. */
void hms_restore(cJSON *obj, const cJSON *from);
/* The same for the elements of arr, from by_index ({"0": {...}, ...}; NULL: none). */
void hms_restore_indexed(const cJSON *arr, const cJSON *by_index);
/*
 * Shape a table's, partition's or database's top level with its stash st
 * (taken out of Parameters) and build the entity; steals doc and st.
 * MS_EINVAL naming the entity for what Glue's model refuses.
 */
int hms_finish_entity(hms_catalog *self, ms_entity **out, ms_kind kind, cJSON *doc, cJSON *st,
		      const char *db, const char *table, ms_error *err);

/* Write a field check that jumps to `done` on failure (needs self, s, rc, err). */
#define CHECK(col, v) \
	do { \
		if ((rc = hms_check(self, s, (col), (v), err)) < 0) \
			goto done; \
	} while (0)
/* Add a parameter to inserter in, jumping to `oom` on failure (needs rc). */
#define P(in, v) \
	do { \
		if ((rc = hms_params_add(&(in)->p, (v))) < 0) \
			goto oom; \
	} while (0)
#define PL(in, v) \
	do { \
		if ((rc = hms_params_addll(&(in)->p, (v))) < 0) \
			goto oom; \
	} while (0)

/* ---- ids (hms_ids.c) ------------------------------------------------------ */

/*
 * Reserve n consecutive ids of model class cls (whose rows are table.idcol)
 * the DataNucleus way, on the id connection in a transaction of its own;
 * *first is the first.  Errors from the id connection.
 */
int hms_reserve_ids(hms_catalog *self, const char *cls, const char *table, const char *idcol,
		    size_t n, long long *first, ms_error *err);

/* ---- storage descriptors, read side (hms_sd_read.c) ---------------------- */

/* The rows of a set of storage descriptors. */
typedef struct sdrows {
	idlist ids;      /* SD_IDs, sorted, unique */
	idlist serdes;   /* their SERDE_IDs, sorted, unique */
	idlist cds;      /* their CD_IDs, sorted, unique */
	rowset sds;      /* SD_ID, INPUT_FORMAT, IS_COMPRESSED 0/1, LOCATION, NUM_BUCKETS,
			      OUTPUT_FORMAT, SERDE_ID, CD_ID, IS_STOREDASSUBDIRECTORIES 0/1 */
	rowset serde;    /* SERDE_ID, NAME, SLIB */
	rowset sdp, sep; /* SD_ID / SERDE_ID, PARAM_KEY, PARAM_VALUE */
	rowset cols;     /* CD_ID, COLUMN_NAME, TYPE_NAME, COMMENT, in order */
	rowset bucket;   /* SD_ID, BUCKET_COL_NAME, in order */
	rowset sort;     /* SD_ID, COLUMN_NAME, ORDER, in order */
	rowset skn;      /* SD_ID, SKEWED_COL_NAME, in order */
	rowset skv;      /* SD_ID, list index, value, in order */
	rowset skm;      /* SD_ID, list id, LOCATION, value, in order */
} sdrows;

/* Set-based documents of storage descriptors: sd[i] is the document of ids.v[i]. */
typedef struct sdread {
	idlist ids; /* sorted, unique; borrowed from the sdrows */
	cJSON **sd;
	cJSON **skew_values; /* per sd: array of encoded strings */
	cJSON **skew_maps;
} sdread;

void hms_sdrows_free(sdrows *f);
void hms_sdread_free(sdread *r);
/* Fetch the rows of the storage descriptors f->ids (filled by the caller). */
int hms_fetch_sds(hms_catalog *self, sdrows *f, ms_error *err);
/* Build the documents of the storage descriptors fetched in f into r (no SQL). */
int hms_build_sds(const sdrows *f, sdread *r, ms_error *err);
/*
 * Shape sd (stolen, with its skew lists skv and skm, stolen) with the
 * entity's stash st and add it to doc as its StorageDescriptor.
 */
int hms_finish_sd(cJSON *doc, cJSON *sd, cJSON *skv, cJSON *skm, const cJSON *st);
/* Row r's id column 0 as an index into ids, or -1. */
long long hms_row_idx(const rowset *rs, size_t r, const idlist *ids);
/* Add parameter rows (id, key, value) of rs to "Parameters" of objs[index of id]; MS_ENOMEM. */
int hms_build_params(const rowset *rs, const idlist *ids, cJSON *const *objs);

/* ---- storage descriptors, write side (hms_sd_write.c) -------------------- */

/* One inserter per table a storage descriptor has rows in. */
typedef struct sdwriter {
	inserter serdes, serde_params, cds, cols, sds, sd_params, bucket, sort, skcols, sklist,
		sklistv, skvals, skmap;
} sdwriter;

/* One storage descriptor to write, with the ids reserved for it. */
typedef struct sdjob {
	const subject *s; /* for messages */
	const cJSON *sd;  /* the StorageDescriptor document (borrowed until the flush) */
	long long sd_id;
	long long serde_id;     /* used when sd has a SerdeInfo */
	long long cd_id;        /* an existing CD to use, or -1 */
	long long new_cd;       /* a CD to create with the columns, or -1 */
	const long long *lists; /* hms_sd_lists(sd) string list ids */
	stash *st;              /* the entity's stash: fields with no column */
} sdjob;

void hms_sdw_init(sdwriter *w, hms_catalog *self);
/* Flush every inserter, in foreign-key order. */
int hms_sdw_flush(sdwriter *w, ms_error *err);
void hms_sdw_free(sdwriter *w);
/* Add the rows of one storage descriptor to w (flushed as it fills); MS_EINVAL from checks. */
int hms_write_sd(hms_catalog *self, sdwriter *w, const sdjob *j, ms_error *err);
/* How many skew string lists an SD needs. */
size_t hms_sd_lists(const cJSON *sd);
/*
 * Delete storage descriptors (sorted and made unique in place) with their
 * parameters, SerDes, skew lists, and the column descriptors no other SDS
 * row uses.
 */
int hms_delete_sds(hms_catalog *self, idlist *sds, ms_error *err);

/* ---- transactions (hms.c) ------------------------------------------------- */

/* Begin a call's transaction, or a savepoint inside the caller's. */
int hms_call_begin(hms_catalog *self, ms_error *err);
/* End it: commit (release) when rc is 0, else roll back; the call's result. */
int hms_call_end(hms_catalog *self, int rc, ms_error *err);

/* ---- databases (hms_db.c) -------------------------------------------------- */

/* Call cb with column 0 of each row of sql (NULL cells passed over). */
int hms_list_col(hms_catalog *self, const char *sql, const char *const *p, size_t n, ms_name_cb cb,
		 void *ctx, ms_error *err);
/* Read a params table's (key, value) rows for one id into obj. */
int hms_read_params(hms_catalog *self, const char *sql, const char *id, cJSON *obj, ms_error *err);
/*
 * Add the rows of a Parameters object (and the stash text, when not NULL)
 * for id to in, an inserter of a (id, key, value) params table, checking
 * each against its TABLE.PARAM_KEY and TABLE.PARAM_VALUE columns.
 */
int hms_param_rows(hms_catalog *self, const subject *s, inserter *in, long long id,
		   const cJSON *params, const char *stash_value, ms_error *err);
/* Insert a Parameters object (and the stash) into a (id, key, value) params table. */
int hms_write_params(hms_catalog *self, const subject *s, const char *table, long long id,
		     const cJSON *params, const char *stash_value, ms_error *err);

int hms_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err);
int hms_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err);
int hms_put_database(ms_catalog *cat, const ms_entity *e, ms_error *err);
int hms_delete_database(ms_catalog *cat, const char *name, ms_error *err);

/* ---- tables (hms_table.c) -------------------------------------------------- */

typedef struct tblinfo {
	long long id, sd, cd, create;
	size_t nkeys;
	char **keys;  /* partition key names */
	char *colsig; /* the table's columns as Hive holds them */
} tblinfo;

/* src lower-cased into dst (n bytes); MS_EINVAL naming `what` when empty or too long. */
int hms_fold(char *dst, size_t n, const char *src, const char *what, ms_error *err);
/* Fold a database and a table name into dn and tn (HMS_NAME_BUF bytes each). */
int hms_fold2(char *dn, char *tn, const char *db, const char *table, ms_error *err);
/* *id of database name, or -1; with must, MS_ENOTFOUND when absent. */
int hms_db_id(hms_catalog *self, const char *name, long long *id, int must, ms_error *err);
/* Find a table; with must, MS_ENOTFOUND names the database or table. keys: load its keys. */
int hms_tbl_find(hms_catalog *self, const char *db, const char *name, int must, int keys,
		 tblinfo *t, ms_error *err);
void hms_tblinfo_free(tblinfo *t);
/* A Glue column list's signature, as tblinfo.colsig holds the table's. */
int hms_colsig(const cJSON *cols, ms_buf *sig);
/* Delete a table with its partitions and every row hanging off them. */
int hms_delete_table_by_id(hms_catalog *self, const tblinfo *t, ms_error *err);

int hms_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx, ms_error *err);
int hms_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out,
		  ms_error *err);
int hms_put_table(ms_catalog *cat, const ms_entity *e, ms_error *err);
int hms_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err);

/* ---- partitions, read side (hms_part_read.c) ------------------------------ */

/* The rows of a batch of partitions, fetched and not yet built. */
typedef struct partrows {
	rowset parts; /* PART_ID, CREATE_TIME, LAST_ACCESS_TIME, SD_ID */
	idlist ids;   /* PART_IDs, sorted */
	rowset kv;    /* PART_ID, PART_KEY_VAL, in order */
	rowset pp;    /* PART_ID, PARAM_KEY, PARAM_VALUE */
	sdrows sd;
} partrows;

void hms_partrows_free(partrows *f);
/* The next batch of a table's partitions after PART_ID `after` (updated), fetched. */
int hms_fetch_batch(hms_catalog *self, const char *idb, char *after, size_t after_len, partrows *f,
		    ms_error *err);
/* Build the partitions of f and hand them to cb in row order. */
int hms_build_parts(hms_catalog *self, const char *db, const char *table, const partrows *f,
		    ms_entity_cb cb, void *ctx, ms_error *err);
/* Values of a vkey (a JSON array of strings); *arr is new; MS_EINVAL. */
int hms_parse_vkey(const char *vkey, cJSON **arr, ms_error *err);
/* PART_NAME of a values array for a table's keys (new string); MS_EINVAL on a count mismatch. */
int hms_partition_name(const tblinfo *t, const cJSON *values, const char *what, char **out,
		       ms_error *err);

int hms_scan_partitions(ms_catalog *cat, const char *db, const char *table, unsigned int flags,
			ms_entity_cb cb, void *ctx, ms_error *err);
int hms_get_partition(ms_catalog *cat, const char *db, const char *table, const char *vkey,
		      ms_entity **out, ms_error *err);

/* ---- partitions, write side (hms_part_write.c) ---------------------------- */

/* Delete every partition of a table, in batches. */
int hms_delete_all_parts(hms_catalog *self, long long tbl, ms_error *err);

int hms_put_partitions(ms_catalog *cat, const char *db, const char *table, ms_entity *const *parts,
		       size_t n, ms_error *err);
int hms_delete_partitions(ms_catalog *cat, const char *db, const char *table,
			  const char *const *vkeys, size_t n, ms_error *err);

/* ---- reading ahead (hms_ahead.c) ------------------------------------------ */

/* hms_scan_planned: the thread lost its connection before this table; read it directly */
#define AHEAD_LOST 2

/* Stop the read-ahead thread, if any, and drop what it read. */
void hms_ahead_stop(hms_catalog *self);
/*
 * Start reading ahead the tables refs (n of them), the first after PART_ID
 * after0 (NULL: from its start).  1 when it cannot start (no second
 * connection: not an error, scans read as they go).
 */
int hms_ahead_start(hms_catalog *self, const ms_table_ref *refs, size_t n, const char *after0,
		    ms_error *err);
/* The plan index of table dn.tn at or after the caller's next one, or -1. */
long long hms_ahead_find(scan_ahead *sa, const char *dn, const char *tn);
/*
 * Scan table k of the plan (dn.tn) from what the thread reads; AHEAD_LOST
 * when the thread lost its connection before any of this table was given.
 */
int hms_scan_planned(hms_catalog *self, size_t k, const char *dn, const char *tn, ms_entity_cb cb,
		     void *ctx, ms_error *err);

int hms_plan_scans(ms_catalog *cat, const ms_table_ref *tables, size_t n, ms_error *err);

#endif
