/*
 * For driver authors: the catalog-driver contract.
 *
 * A driver is one `static const ms_catalog_driver` (designated
 * initializers) and an open function (ms_catalog_open_fn) that returns an
 * instance whose first member is `ms_catalog`, the base, filled with
 * ms_catalog_base_init.  Adding a driver in the tree = its files under
 * src/lib/drivers/catalog/ + one row in that folder's registry.c.
 *
 * The core (registry.c) stands between the public ms_catalog_* calls of
 * metasync/catalog.h and the slots: it checks the driver when an instance
 * is opened (ms_catalog_check_driver: the version, the slots its caps
 * promise), checks arguments where the contract says so, and turns an
 * empty (NULL) slot into one of three behaviours, given slot by slot below:
 *
 *   required      never NULL; an instance whose driver leaves it NULL is
 *                 refused at open
 *   unsupported   NULL: the call fails with MS_ENOTSUPPORTED naming the
 *                 catalog and what it cannot do
 *   no-op         NULL: the call returns 0 and does nothing (the slot only
 *                 matters to drivers that have something to do there)
 *
 * Common to every slot:
 *   - self is the instance open returned; the core never calls two slots of
 *     one instance at once (an instance is used by one thread at a time),
 *     but a driver's own threads (a read-ahead) may run between calls.
 *   - Arguments are borrowed for the call unless a slot says otherwise;
 *     names (db, table) are non-NULL, at most MS_NAME_MAX bytes, as the
 *     caller gave them (a driver folds case where its catalog does).
 *   - `*out` entities are new (the caller frees them with ms_entity_free);
 *     entities given to an ms_entity_cb are stolen by the callback; entities
 *     given to put slots are borrowed.
 *   - A callback's non-zero return stops the iteration and is returned as is.
 *   - Return 0 or a negative MS_E* code with err set (ms_error_set) to one
 *     line naming the entity; a backend's own message goes in err->detail
 *     and its code in err->backend_code.  Errors every slot may return:
 *     MS_ENOMEM; MS_EIO (the file, socket or connection failed);
 *     MS_EBACKEND (the backend answered with an error).  Errors particular
 *     to a slot are listed with it.
 *   - Nothing a slot writes, logs or puts in err may hold a secret (a URL's
 *     password, a key): print the base's url, which is redacted.
 */
#ifndef METASYNC_SYS_CATALOG_H
#define METASYNC_SYS_CATALOG_H

#include <stddef.h>

#include "metasync/catalog.h"
#include "metasync/error.h"
#include "metasync/model.h"
#include "metasync/sys/url.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The layout of ms_catalog_driver a driver is built against; open refuses
 * any other.  1: up to read_begin/read_end.  2: scan_partitions_range and
 * the four table-version slots.  3: settle (writes that complete later) and
 * clone (instances for other threads), later also snapshot_changes and
 * change_head at its end.  4: get_partitions (point reads in a batch).
 */
#define MS_CATALOG_DRIVER_VERSION 4

typedef struct ms_catalog_driver {
	/* required: MS_CATALOG_DRIVER_VERSION as this header defines it */
	unsigned int version;
	/* required: short, lowercase ("sqlite", "snapshot", "hms"); ms_catalog_driver_name */
	const char *name;
	/* MS_CAP_* (metasync/catalog.h): what the instance promises; checked at open */
	unsigned int caps;
	/* the largest n put_partitions and delete_partitions take; 0 = any (the engine batches) */
	size_t max_batch;

	/* required.  Free the instance and everything it holds (not finished: discard). */
	void (*close)(ms_catalog *self);

	/*
	 * unsupported.  Every database name, once, in any order; names are
	 * borrowed for the callback.  0 with no call for an empty catalog.
	 */
	int (*list_databases)(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err);
	/* unsupported.  *out new (MS_KIND_DATABASE, doc filled).  MS_ENOTFOUND when absent. */
	int (*get_database)(ms_catalog *self, const char *name, ms_entity **out, ms_error *err);
	/*
	 * unsupported (required with MS_CAP_WRITE).  Create or replace db
	 * (borrowed, validated by the caller).  MS_EINVAL a value the catalog
	 * cannot hold (too long, outside its character set), naming it;
	 * MS_EEXISTS where the catalog cannot replace (a snapshot being written).
	 */
	int (*put_database)(ms_catalog *self, const ms_entity *db, ms_error *err);
	/* unsupported.  With its tables, partitions and table versions.  MS_ENOTFOUND when absent. */
	int (*delete_database)(ms_catalog *self, const char *name, ms_error *err);

	/* unsupported.  Table and view names of db, once each.  MS_ENOTFOUND when db is absent. */
	int (*list_tables)(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx,
			   ms_error *err);
	/* unsupported.  *out new (MS_KIND_TABLE or MS_KIND_VIEW).  MS_ENOTFOUND when absent. */
	int (*get_table)(ms_catalog *self, const char *db, const char *name, ms_entity **out,
			 ms_error *err);
	/*
	 * unsupported (required with MS_CAP_WRITE).  Create or replace (borrowed).
	 * MS_ENOTFOUND when the database is absent; MS_EINVAL as put_database.
	 */
	int (*put_table)(ms_catalog *self, const ms_entity *table, ms_error *err);
	/* unsupported.  With its partitions and table versions.  MS_ENOTFOUND when absent. */
	int (*delete_table)(ms_catalog *self, const char *db, const char *name, ms_error *err);

	/*
	 * unsupported.  Every partition of db.table to cb, each once; in vkey
	 * order (bytewise) with MS_CAP_ORDERED_SCAN, else in any order.  flags:
	 * MS_SCAN_KEYS_ONLY (doc may stay NULL; vkey and hash filled),
	 * MS_SCAN_RAW (doc may stay NULL with raw filled).  MS_ENOTFOUND when
	 * the table is absent; 0 with no call when it has no partitions.
	 */
	int (*scan_partitions)(ms_catalog *self, const char *db, const char *table,
			       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err);
	/* unsupported.  *out new, by vkey (a JSON array of the values).  MS_ENOTFOUND. */
	int (*get_partition)(ms_catalog *self, const char *db, const char *table, const char *vkey,
			     ms_entity **out, ms_error *err);
	/*
	 * unsupported (required with MS_CAP_WRITE).  Create or replace n >= 1
	 * partitions of db.table (borrowed; n <= max_batch when that is set),
	 * all or none: on failure nothing of the batch is written.  With
	 * MS_CAP_ASYNC_WRITES the slot may return 0 once the batch is queued
	 * (copied: the entities are the caller's again) and apply it part by
	 * part; a partition that then fails is reported by settle, the rest
	 * stay written, and a failure of the whole catalog (it cannot be
	 * reached) is still returned here or by settle.  With
	 * MS_CAP_RAW_INPUT an entity may carry only raw text (doc NULL).
	 * MS_ENOTFOUND when the table is absent; MS_EINVAL a partition whose
	 * values do not fit the table's keys; MS_EEXISTS where the catalog
	 * cannot replace.
	 */
	int (*put_partitions)(ms_catalog *self, const char *db, const char *table,
			      ms_entity *const *parts, size_t n, ms_error *err);
	/*
	 * unsupported.  Delete the partitions of these vkeys, all or none; a vkey
	 * that names no partition is not an error.  MS_ENOTFOUND when the table
	 * is absent.  With MS_CAP_ASYNC_WRITES: queued and reported as
	 * put_partitions.
	 */
	int (*delete_partitions)(ms_catalog *self, const char *db, const char *table,
				 const char *const *vkeys, size_t n, ms_error *err);

	/*
	 * unsupported.  The count and sum of the partitions' hashes when the
	 * driver knows them without a scan (the engine scans otherwise).
	 * MS_ENOTFOUND when the table is absent.
	 */
	int (*table_digest)(ms_catalog *self, const char *db, const char *table, ms_digest *out,
			    ms_error *err);
	/*
	 * no-op.  Check the integrity of everything a later scan of this table
	 * will read, before the caller changes anything from it.  MS_EINTEGRITY.
	 */
	int (*verify_table)(ms_catalog *self, const char *db, const char *table, ms_error *err);

	/*
	 * no-op without MS_CAP_TRANSACTIONS, required with it.  One transaction
	 * per instance at a time: begin inside one, or commit/rollback outside
	 * one, is MS_EINVAL.  Without transactions every call applies on its own.
	 */
	int (*begin)(ms_catalog *self, ms_error *err);
	int (*commit)(ms_catalog *self, ms_error *err);
	int (*rollback)(ms_catalog *self, ms_error *err);

	/*
	 * unsupported; required with MS_CAP_CHANGE_FEED and NULL without it.
	 * The changes committed after cursor (NULL or "": from the oldest kept),
	 * oldest first, each to cb (borrowed for the call); *next_cursor (new,
	 * also when there was no change) is where the next call resumes.  A
	 * cursor is opaque text the driver made.  MS_EINVAL a cursor this driver
	 * did not make; MS_ECONFLICT a cursor older than what the feed keeps
	 * (the caller must read everything again).
	 */
	int (*changes_since)(ms_catalog *self, const char *cursor, ms_change_cb cb, void *ctx,
			     char **next_cursor, ms_error *err);

	/*
	 * no-op.  Make everything written visible as one complete whole (a
	 * snapshot's manifest and LATEST).  Writes after finish: MS_EINVAL.
	 */
	int (*finish)(ms_catalog *self, ms_error *err);

	/* unsupported ("not a snapshot"): snapshots only, see ms_catalog_snapshot_info. */
	int (*snapshot_info)(ms_catalog *self, ms_snapshot_info *out, ms_error *err);

	/* no-op: a hint, see ms_catalog_plan_scans (tables are copied by the driver). */
	int (*plan_scans)(ms_catalog *self, const ms_table_ref *tables, size_t n, ms_error *err);

	/*
	 * no-op (where transactions exclude other writers, or there are none):
	 * see ms_catalog_lock.  MS_EINVAL outside a transaction.
	 */
	int (*lock)(ms_catalog *self, const char *db, const char *table, ms_error *err);

	/*
	 * no-op (both NULL where the catalog does not change under a reader):
	 * see ms_catalog_read_begin.  Set both or neither.  MS_EINVAL inside a
	 * transaction or another read.
	 */
	int (*read_begin)(ms_catalog *self, ms_error *err);
	void (*read_end)(ms_catalog *self);

	/*
	 * NULL: the core applies the range to scan_partitions (ordered only with
	 * MS_CAP_ORDERED_SCAN; segments by ms_catalog_scan_segment).  The core
	 * has checked range (never NULL here; segments >= 1, segment below it,
	 * after NULL or non-empty).  Yields in vkey order (bytewise).
	 */
	int (*scan_partitions_range)(ms_catalog *self, const char *db, const char *table,
				     const ms_scan_range *range, unsigned int flags,
				     ms_entity_cb cb, void *ctx, ms_error *err);

	/*
	 * Table versions: all four with MS_CAP_TABLE_VERSIONS (required), all
	 * four NULL without it (unsupported).  The core has checked the table's
	 * or the argument's VersionId.  See ms_catalog_put_table_version.
	 */
	int (*put_table_version)(ms_catalog *self, const ms_entity *table, ms_error *err);
	int (*scan_table_versions)(ms_catalog *self, const char *db, const char *table,
				   ms_entity_cb cb, void *ctx, ms_error *err);
	int (*get_table_version)(ms_catalog *self, const char *db, const char *table,
				 const char *version_id, ms_entity **out, ms_error *err);
	int (*delete_table_version)(ms_catalog *self, const char *db, const char *table,
				    const char *version_id, ms_error *err);

	/*
	 * Required with MS_CAP_ASYNC_WRITES, NULL without it (no-op: writes are
	 * done when put/delete return).  Wait for every queued partition write
	 * of db.table (a driver may wait for all of its writes), then call cb
	 * once per partition that failed, with an error naming it and the
	 * backend's code in backend_code; forget them once reported.  Returns
	 * 0 when every write has an outcome, a negative code when the catalog
	 * itself failed (the caller treats the table's unreported writes as
	 * failed), or cb's non-zero return.
	 */
	int (*settle)(ms_catalog *self, const char *db, const char *table, ms_write_failure_cb cb,
		      void *ctx, ms_error *err);

	/*
	 * unsupported.  *out: a new instance of the same catalog, opened as
	 * self was, with connections of its own, for another thread (see
	 * ms_catalog_clone).  MS_ETOOBIG when self allows no more clones.
	 */
	int (*clone)(ms_catalog *self, ms_catalog **out, ms_error *err);

	/*
	 * unsupported: see ms_catalog_snapshot_changes (incremental snapshots:
	 * a reader answers MS_ENOTSUPPORTED for a full one).
	 */
	int (*snapshot_changes)(ms_catalog *self, ms_change_cb cb, void *ctx, ms_error *err);

	/*
	 * NULL: the core reads the whole feed from the start to find its end.
	 * Else see ms_catalog_change_head (only with MS_CAP_CHANGE_FEED).
	 */
	int (*change_head)(ms_catalog *self, char **cursor, ms_error *err);

	/*
	 * NULL: the core calls get_partition for each.  Read n >= 1
	 * partitions of db.table by vkey, as few round trips as the catalog
	 * allows: out[i] (new) for vkeys[i], left NULL when it is absent (the
	 * core has set every out[i] to NULL; a vkey may repeat).  0 also when
	 * the table is absent.  On failure the core frees what was filled in.
	 */
	int (*get_partitions)(ms_catalog *self, const char *db, const char *table,
			      const char *const *vkeys, size_t n, ms_entity **out, ms_error *err);
} ms_catalog_driver;

/*
 * The base of every catalog instance.  Drivers fill it in open (use
 * ms_catalog_base_init) and free its fields with ms_catalog_base_free.
 */
struct ms_catalog {
	const ms_catalog_driver *driver;
	char *url;        /* owned; redacted, printable */
	char *catalog_id; /* owned; identity of the catalog in replica markers */
	char *selection;  /* owned or NULL; ';'-separated patterns this catalog was cut to */
	char *instance;   /* owned or NULL; see ms_catalog_instance */
	int implicit_id;  /* see ms_catalog_id_is_implicit */
	/*
	 * Capabilities this instance does not have although its driver's caps
	 * claim them (a feature of the server behind it, found missing):
	 * ms_catalog_caps leaves them out.  0 unless the driver sets it.
	 */
	unsigned int caps_off;
};

/*
 * The open function every driver exports; one row per scheme in the
 * registry.  url is borrowed (see metasync/sys/url.h; its query parameters
 * have been checked against the scheme's rules), opts never NULL.  On
 * success *out is the new instance; on failure *out is left alone and
 * nothing stays open.  MS_EINVAL a URL or option the driver refuses, naming
 * it; MS_ENOTFOUND a catalog to read that does not exist.
 */
typedef int (*ms_catalog_open_fn)(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
				  ms_error *err);

/*
 * The check every instance's driver passes when it is opened (the core calls
 * it; a driver author may call it in tests; url is the printable URL the
 * message names): MS_EINVAL naming the driver and the first fault, when version is not MS_CATALOG_DRIVER_VERSION, name
 * or close is NULL, a slot its caps promise is NULL (the put slots with
 * MS_CAP_WRITE, begin/commit/rollback with MS_CAP_TRANSACTIONS), changes_since
 * or settle is set without MS_CAP_CHANGE_FEED or MS_CAP_ASYNC_WRITES or the
 * other way round, the table-version
 * slots are not all four set with MS_CAP_TABLE_VERSIONS and all four NULL
 * without it, or one of read_begin/read_end is set without the other.
 */
int ms_catalog_check_driver(const ms_catalog_driver *driver, const char *url, ms_error *err);

/*
 * The segment (0 to segments - 1) of the partition with this vkey among
 * segments (0 or 1: always 0): FNV-1a of the vkey's bytes, modulo
 * segments.  The core's fallback for ranged scans uses it; a driver may too,
 * so that its segments are the fallback's.
 */
unsigned ms_catalog_scan_segment(const char *vkey, unsigned segments);

/* Parse a table VersionId ("0" to "999999999999999999"): 0, or MS_EINVAL. */
int ms_catalog_version_number(const char *version_id, long long *out);

int ms_catalog_base_init(ms_catalog *base, const ms_catalog_driver *driver,
			 const char *redacted_url, const char *catalog_id, ms_error *err);
void ms_catalog_base_free(ms_catalog *base);

#ifdef __cplusplus
}
#endif
#endif
