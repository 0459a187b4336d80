/*
 * Catalogs: open one by URL and read or write its entities.  Every call
 * dispatches to the driver the URL's scheme selects (see sys/catalog.h).
 *
 *   sqlite:PATH[?catalog-id=ID]             the embedded catalog
 *   file://DIR, DIR                         a snapshot on a local store
 *   s3://BUCKET/PREFIX                      a snapshot on an S3 store
 *   hms+postgresql://..., hms+mysql://...   a Hive Metastore 3.x database
 *
 * Every scheme and its parameters: README.md, "Catalog URLs"; an unknown
 * scheme is MS_EINVAL.
 */
#ifndef METASYNC_CATALOG_H
#define METASYNC_CATALOG_H

#include <stddef.h>

#include "metasync/error.h"
#include "metasync/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_catalog ms_catalog;

/* Called once per name; a non-zero return stops the listing and is returned. */
typedef int (*ms_name_cb)(const char *name, void *ctx, ms_error *err);
/* Called once per entity, which it steals; non-zero stops and is returned. */
typedef int (*ms_entity_cb)(ms_entity *e, void *ctx, ms_error *err);

typedef enum ms_change_op { MS_CHANGE_PUT = 1, MS_CHANGE_DELETE = 2 } ms_change_op;

typedef struct ms_change {
	long long seq;
	ms_kind kind;
	const char *database; /* borrowed for the callback's duration */
	const char *table;    /* NULL for databases */
	const char *vkey;     /* NULL unless a partition */
	ms_change_op op;
	/*
	 * A table's change that stands for changes of its partitions the feed
	 * does not name one by one (kind table, op put): read them all again.
	 */
	int all_partitions;
	long long time; /* when it was committed: Unix milliseconds; 0 unknown */
} ms_change;

typedef int (*ms_change_cb)(const ms_change *c, void *ctx, ms_error *err);

/* Capability flags. */
#define MS_CAP_TRANSACTIONS 0x01   /* begin/commit/rollback are real */
#define MS_CAP_CHANGE_FEED 0x02    /* changes_since works */
#define MS_CAP_WRITE 0x04          /* put/delete slots work */
#define MS_CAP_ORDERED_SCAN 0x08   /* scan_partitions yields by vkey order */
#define MS_CAP_RAW_INPUT 0x10      /* put_partitions takes entities with only raw text */
#define MS_CAP_TABLE_VERSIONS 0x20 /* the table-version calls work */
/*
 * put_partitions and delete_partitions may return before the write is done
 * (requests in flight); what became of each partition is known at
 * ms_catalog_settle, which the caller must call before it relies on them.
 */
#define MS_CAP_ASYNC_WRITES 0x40
/*
 * The reading slots (list_databases, list_tables, get_database, get_table,
 * scan_partitions, table_digest) may run on several threads at once, on the
 * same instance, as long as no other slot runs meanwhile (verify_table and
 * get_partition included).  The engine's table workers then read such a
 * source side by side instead of in turn.
 */
#define MS_CAP_PARALLEL_READS 0x80

/* scan_partitions flags */
#define MS_SCAN_KEYS_ONLY 0x01 /* doc may be left NULL; vkey and hash are filled */
/*
 * doc may be left NULL with raw filled (the stored canonical Glue JSON text,
 * not parsed); drivers that ignore the flag fill doc as usual.
 */
#define MS_SCAN_RAW 0x02

/* How to open a catalog. Zero-initialise and set what applies. */
typedef enum ms_open_mode {
	MS_OPEN_READ = 0, /* an existing catalog, read (and write where the driver can) */
	MS_OPEN_WRITE = 1 /* create if missing; a snapshot URL starts a new snapshot */
} ms_open_mode;

typedef struct ms_open_options {
	ms_open_mode mode;
	/* snapshot writer */
	const char *compress;          /* NULL or "gzip" */
	size_t part_bytes;             /* split part files at this size; 0 = default */
	const char *source_url;        /* the exported catalog, recorded (redacted) */
	const char *source_catalog_id; /* recorded as the snapshot's source */
	const char *source_instance;   /* recorded too: ms_catalog_instance of the source */
	const char *selection;         /* the --database-names patterns, recorded */
	/*
	 * Where the source's change feed stood before the export read anything
	 * (NULL: it has none), recorded so that an incremental export can
	 * follow on from this snapshot.
	 */
	const char *source_cursor;
	/*
	 * An incremental snapshot: the snapshot it follows (NULL: a full one),
	 * the full snapshot its chain starts from and how many incrementals
	 * that chain holds with this one.  An incremental snapshot records
	 * deletes (delete_database, delete_table, delete_partitions write
	 * tombstones) and the names of every database and "db\ttable" of the
	 * source's selection, which its reader lists (a mapping needs them).
	 */
	const char *parent, *base;
	unsigned chain;
	const char *const *all_databases;
	size_t nall_databases;
	const char *const *all_tables;
	size_t nall_tables;
	/* snapshot reader */
	int allow_no_manifest;           /* accept a utility export without manifest.json */
	const char *database_input_path; /* the utility's separate folders */
	const char *table_input_path;
	const char *partition_input_path;
	const char *expect_manifest_sha256; /* refuse unless manifest.json hashes to this */
	/*
	 * Warnings about one entity that do not fail the call (e.g. fields a
	 * Hive Metastore has no column for): message is one line naming the
	 * entity, borrowed for the call.  NULL: not reported.
	 */
	void (*warn)(void *ctx, const char *message);
	void *warn_ctx;
} ms_open_options;

/* Open url (new; close with ms_catalog_close). Unknown scheme: MS_EINVAL naming it. */
int ms_catalog_open(ms_catalog **out, const char *url, const ms_open_options *opts, ms_error *err);
void ms_catalog_close(ms_catalog *cat);

/* Borrowed: the printable URL, the catalog's identity, the driver name. */
const char *ms_catalog_url(const ms_catalog *cat);
const char *ms_catalog_id(const ms_catalog *cat);
const char *ms_catalog_selection(const ms_catalog *cat);
/*
 * Borrowed, may be NULL: what tells apart two catalogs that were given one
 * catalog-id (an embedded catalog file's own GUID, a Hive Metastore's GUID,
 * the exported catalog's for a snapshot).  Replicas record it next to their
 * replica-of marker.
 */
const char *ms_catalog_instance(const ms_catalog *cat);
/*
 * 1 when the catalog's identity comes from where it is (an embedded
 * catalog's path, without ?catalog-id=), so that moving or copying it
 * changes whose replicas are whose.
 */
int ms_catalog_id_is_implicit(const ms_catalog *cat);
const char *ms_catalog_driver_name(const ms_catalog *cat);
unsigned int ms_catalog_caps(const ms_catalog *cat);
size_t ms_catalog_max_batch(const ms_catalog *cat);

int ms_catalog_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err);
/* *out is new; MS_ENOTFOUND when absent. */
int ms_catalog_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err);
/* Create or replace. */
int ms_catalog_put_database(ms_catalog *cat, const ms_entity *db, ms_error *err);
/* Deletes the database with its tables and partitions; MS_ENOTFOUND when absent. */
int ms_catalog_delete_database(ms_catalog *cat, const char *name, ms_error *err);

int ms_catalog_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx,
			   ms_error *err);
int ms_catalog_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out,
			 ms_error *err);
/* Create or replace; the database must exist (MS_ENOTFOUND). */
int ms_catalog_put_table(ms_catalog *cat, const ms_entity *table, ms_error *err);
/* Deletes the table with its partitions. */
int ms_catalog_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err);

/* Stream every partition of a table to cb (MS_ENOTFOUND if the table is absent). */
int ms_catalog_scan_partitions(ms_catalog *cat, const char *db, const char *table,
			       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err);
int ms_catalog_get_partition(ms_catalog *cat, const char *db, const char *table, const char *vkey,
			     ms_entity **out, ms_error *err);
/*
 * Point reads of n partitions of one table at once: out[i] (new) the
 * partition whose vkey is vkeys[i], NULL when there is none (a table that
 * does not exist holds none).  On failure every out[i] is NULL.  A driver
 * with a batched read (glue://: BatchGetPartition) asks for them together;
 * the others are asked one by one.
 */
int ms_catalog_get_partitions(ms_catalog *cat, const char *db, const char *table,
			      const char *const *vkeys, size_t n, ms_entity **out, ms_error *err);

/*
 * Which partitions a ranged scan yields: those whose vkey sorts (bytewise,
 * as strcmp) after `after` (NULL or "": from the first) and, when segments
 * > 1, only those of segment `segment` (0 <= segment < segments <= 10):
 * the segments of one table split its partitions into disjoint sets whose
 * union is all of them (membership is the driver's choice but fixed for a
 * partition as long as it exists).  segments 0 is taken as 1.
 */
typedef struct ms_scan_range {
	const char *after;
	unsigned segment, segments;
} ms_scan_range;

#define MS_SCAN_SEGMENTS_MAX 10

/*
 * Like ms_catalog_scan_partitions, restricted to range (NULL: the whole
 * table), in vkey order (bytewise); the callback may stop the scan early by
 * returning a non-zero value, which is returned.  MS_EINVAL when segments
 * is above MS_SCAN_SEGMENTS_MAX or segment is not below segments.  Drivers
 * without the slot fall back to scan_partitions with the range applied by
 * the core (vkey order then holds only with MS_CAP_ORDERED_SCAN; segment
 * membership from ms_catalog_scan_segment, see sys/catalog.h).
 */
int ms_catalog_scan_partitions_range(ms_catalog *cat, const char *db, const char *table,
				     const ms_scan_range *range, unsigned int flags,
				     ms_entity_cb cb, void *ctx, ms_error *err);

/* Create or replace n partitions of one table (borrowed). */
int ms_catalog_put_partitions(ms_catalog *cat, const char *db, const char *table,
			      ms_entity *const *parts, size_t n, ms_error *err);
int ms_catalog_delete_partitions(ms_catalog *cat, const char *db, const char *table,
				 const char *const *vkeys, size_t n, ms_error *err);

/* One partition write that failed on its own, reported by ms_catalog_settle. */
typedef struct ms_write_failure {
	const char *database; /* borrowed for the callback */
	const char *table;
	const char *vkey;
	int deleting;          /* 1: a delete failed; 0: a put */
	const ms_error *error; /* names the partition and the backend's answer */
} ms_write_failure;

typedef int (*ms_write_failure_cb)(const ms_write_failure *f, void *ctx, ms_error *err);

/*
 * Wait until every partition write of db.table given to this catalog has
 * completed, and call cb once for each partition whose write failed alone
 * (the rest of its batch applied); a non-zero return of cb stops and is
 * returned.  0 when all is done, including when some partitions failed
 * (they were reported through cb).  A catalog without MS_CAP_ASYNC_WRITES
 * has finished every write when put/delete return: 0 without a call.
 */
int ms_catalog_settle(ms_catalog *cat, const char *db, const char *table, ms_write_failure_cb cb,
		      void *ctx, ms_error *err);

/*
 * A second instance of cat's catalog (new; ms_catalog_close), independent of
 * cat: another thread may use it while cat is in use.  The engine writes
 * several tables at a time through clones of a target whose round trips are
 * long (a remote API).  MS_ENOTSUPPORTED when the driver cannot;
 * MS_ETOOBIG when cat allows no more clones (the catalog's own limit).
 */
int ms_catalog_clone(ms_catalog *cat, ms_catalog **out, ms_error *err);

/*
 * Table versions (MS_CAP_TABLE_VERSIONS): archived documents of a table,
 * each under the VersionId it had (a string of decimal digits, "0" to
 * "999999999999999999").  The caller archives: the Glue server puts the
 * current document here before replacing it.  A version_id that is not
 * such a string is MS_EINVAL everywhere.
 */
/* Archive table (its doc's VersionId names the version; MS_EINVAL without one
   or when it is not decimal digits); replaces an archived version of that id;
   MS_ENOTFOUND when the database does not exist. */
int ms_catalog_put_table_version(ms_catalog *cat, const ms_entity *table, ms_error *err);
/* The archived versions of db.table, newest (highest VersionId, compared as
   numbers) first; cb steals each entity (kind MS_KIND_TABLE, doc with its
   VersionId); a non-zero return stops and is returned. 0 with no call when there are none. */
int ms_catalog_scan_table_versions(ms_catalog *cat, const char *db, const char *table,
				   ms_entity_cb cb, void *ctx, ms_error *err);
/* One archived version (*out new); MS_ENOTFOUND when absent. */
int ms_catalog_get_table_version(ms_catalog *cat, const char *db, const char *table,
				 const char *version_id, ms_entity **out, ms_error *err);
/* Delete one archived version; MS_ENOTFOUND when absent. */
int ms_catalog_delete_table_version(ms_catalog *cat, const char *db, const char *table,
				    const char *version_id, ms_error *err);

/* The digest of a table's partitions when the driver knows it cheaply; else MS_ENOTSUPPORTED. */
int ms_catalog_table_digest(ms_catalog *cat, const char *db, const char *table, ms_digest *out,
			    ms_error *err);

/*
 * Check, before any change is made from it, that everything a later scan of
 * this table's partitions will read is intact (a snapshot verifies the files'
 * SHA-256 against its manifest: MS_EINTEGRITY).  0 on drivers with nothing
 * to verify.
 */
int ms_catalog_verify_table(ms_catalog *cat, const char *db, const char *table, ms_error *err);

/* A table named by its database and name (borrowed strings). */
typedef struct ms_table_ref {
	const char *database;
	const char *table;
} ms_table_ref;

/*
 * A hint: the tables whose partitions the caller is about to scan, in that
 * order (copied).  A driver may read ahead across them while the caller
 * consumes; a scan out of order or of a table not in the plan still works,
 * only without the head start.  A new plan replaces the last; n == 0 drops
 * it.  0 on drivers that take no hints.
 */
int ms_catalog_plan_scans(ms_catalog *cat, const ms_table_ref *tables, size_t n, ms_error *err);

/*
 * Inside a transaction (ms_catalog_begin): keep other writers from changing
 * database db (table NULL) or table db.table until the transaction ends, so
 * that what the caller reads of it next (whose replica it is) stays true
 * while it writes.  An entity that does not exist is not an error and not
 * locked: a concurrent create then makes the caller's put fail with
 * MS_ECONFLICT.  0 on drivers whose transactions exclude every other writer
 * already (the embedded catalog) and on drivers without transactions.
 */
int ms_catalog_lock(ms_catalog *cat, const char *db, const char *table, ms_error *err);

/*
 * Read from one point in time: until ms_catalog_read_end, every read through
 * cat (and what a driver reads ahead for it) sees the catalog as it was when
 * this returned, whatever other writers commit meanwhile, so that a table
 * and its partitions, and one table and the next, never mix versions.  0
 * also on drivers that need nothing for it (a snapshot does not change).
 * MS_EINVAL inside a transaction or another read.
 */
int ms_catalog_read_begin(ms_catalog *cat, ms_error *err);
/* End the read begun by ms_catalog_read_begin (nothing when none is open). */
void ms_catalog_read_end(ms_catalog *cat);

/* Transactions: no-ops (returning 0) on drivers without MS_CAP_TRANSACTIONS. */
int ms_catalog_begin(ms_catalog *cat, ms_error *err);
int ms_catalog_commit(ms_catalog *cat, ms_error *err);
int ms_catalog_rollback(ms_catalog *cat, ms_error *err);

/* Changes after cursor (NULL = from the start); *next_cursor is new. */
int ms_catalog_changes_since(ms_catalog *cat, const char *cursor, ms_change_cb cb, void *ctx,
			     char **next_cursor, ms_error *err);

/* Make everything written visible as complete (a snapshot's manifest, _SUCCESS, LATEST). */
int ms_catalog_finish(ms_catalog *cat, ms_error *err);

/* What names one snapshot: for events, and for an importer to check it. */
typedef struct ms_snapshot_info {
	char *id;                 /* "2026-11-25-10-00-00" (or "...-N"); NULL without a manifest */
	char *url;                /* the snapshot itself: store URL + "/" + id (printable) */
	char *source_catalog_id;  /* NULL when unknown */
	char *created;            /* "2026-11-25T10:00:00Z"; NULL when unknown */
	char *selection;          /* the exported --database-names; NULL = all */
	char manifest_sha256[65]; /* hex; "" without a manifest */
	unsigned long long databases, tables, partitions;
	char *source_cursor; /* the source's change feed before the export; NULL: none */
	/* incremental snapshots: the snapshot followed, the chain's full one, its length */
	char *parent, *base;
	unsigned chain;
	unsigned long long tombstones;
	int latest; /* a reader opened at the store (LATEST named it), not at its folder */
	/* ms_export of an incremental: the commit time of its oldest change (Unix ms; 0 unknown) */
	long long oldest_change_ms;
	unsigned long long changes; /* and how many changes of the feed it holds */
} ms_snapshot_info;

/*
 * Describe a snapshot catalog: a writer once ms_catalog_finish has returned
 * 0, or a reader.  Fills *out (free with ms_snapshot_info_free).
 * MS_ENOTSUPPORTED for other catalogs and unfinished writers.
 */
int ms_catalog_snapshot_info(ms_catalog *cat, ms_snapshot_info *out, ms_error *err);
/*
 * The changes an incremental snapshot holds, to cb: a put for every
 * database, table and partition in it, a delete for every tombstone.
 * MS_ENOTSUPPORTED for other catalogs and full snapshots.
 */
int ms_catalog_snapshot_changes(ms_catalog *cat, ms_change_cb cb, void *ctx, ms_error *err);
/*
 * Where the catalog's change feed ends now (new; the cursor a reader of
 * every change so far would get).  MS_ENOTSUPPORTED without a feed.
 */
int ms_catalog_change_head(ms_catalog *cat, char **cursor, ms_error *err);
void ms_snapshot_info_free(ms_snapshot_info *info);
/* Order of snapshot ids ("2026-11-25-10-00-00", "...-N"): <0, 0, >0 as strcmp. */
int ms_snapshot_id_cmp(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
