/*
 * For driver authors: the catalog-driver vtable.
 *
 * A driver declares one `static const ms_catalog_driver` with designated
 * initializers and an open function that returns an instance whose first
 * member is `ms_catalog` (the base).  A NULL slot means "not supported"; the
 * core turns a call to it into MS_ENOTSUPPORTED with a message.  Adding a
 * driver = one file + one row in src/lib/drivers/catalog/registry.c.
 */
#ifndef METASYNC_SYS_CATALOG_H
#define METASYNC_SYS_CATALOG_H

#include "metasync/catalog.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_CATALOG_DRIVER_VERSION 1

typedef struct ms_catalog_driver {
	unsigned int version;       /* MS_CATALOG_DRIVER_VERSION */
	const char *name;           /* "sqlite", "snapshot", ... */
	unsigned int caps;          /* MS_CAP_* */
	size_t max_batch;           /* largest put/delete_partitions batch; 0 = any */

	void (*close)(ms_catalog *self);

	int (*list_databases)(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err);
	int (*get_database)(ms_catalog *self, const char *name, ms_entity **out, ms_error *err);
	int (*put_database)(ms_catalog *self, const ms_entity *db, ms_error *err);
	int (*delete_database)(ms_catalog *self, const char *name, ms_error *err);

	int (*list_tables)(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx,
			   ms_error *err);
	int (*get_table)(ms_catalog *self, const char *db, const char *name, ms_entity **out,
			 ms_error *err);
	int (*put_table)(ms_catalog *self, const ms_entity *table, ms_error *err);
	int (*delete_table)(ms_catalog *self, const char *db, const char *name, ms_error *err);

	int (*scan_partitions)(ms_catalog *self, const char *db, const char *table,
			       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err);
	int (*get_partition)(ms_catalog *self, const char *db, const char *table,
			     const char *vkey, ms_entity **out, ms_error *err);
	int (*put_partitions)(ms_catalog *self, const char *db, const char *table,
			      ms_entity *const *parts, size_t n, ms_error *err);
	int (*delete_partitions)(ms_catalog *self, const char *db, const char *table,
				 const char *const *vkeys, size_t n, ms_error *err);

	int (*table_digest)(ms_catalog *self, const char *db, const char *table,
			    ms_digest *out, ms_error *err);
	/* Check the integrity of everything a later scan of this table will read. */
	int (*verify_table)(ms_catalog *self, const char *db, const char *table, ms_error *err);

	int (*begin)(ms_catalog *self, ms_error *err);
	int (*commit)(ms_catalog *self, ms_error *err);
	int (*rollback)(ms_catalog *self, ms_error *err);

	int (*changes_since)(ms_catalog *self, const char *cursor, ms_change_cb cb, void *ctx,
			     char **next_cursor, ms_error *err);

	int (*finish)(ms_catalog *self, ms_error *err);

	/* Snapshots only (NULL elsewhere): see ms_catalog_snapshot_info. */
	int (*snapshot_info)(ms_catalog *self, ms_snapshot_info *out, ms_error *err);

	/* A hint, may be NULL: see ms_catalog_plan_scans. */
	int (*plan_scans)(ms_catalog *self, const ms_table_ref *tables, size_t n,
			  ms_error *err);

	/* May be NULL where transactions exclude other writers: see ms_catalog_lock. */
	int (*lock)(ms_catalog *self, const char *db, const char *table, ms_error *err);

	/* May be NULL (both) where the catalog does not change: see ms_catalog_read_begin. */
	int (*read_begin)(ms_catalog *self, ms_error *err);
	void (*read_end)(ms_catalog *self);

	/*
	 * May be NULL: the core applies the range to scan_partitions.  The core
	 * has checked range (never NULL here; segments 0 or 1: no segments).
	 */
	int (*scan_partitions_range)(ms_catalog *self, const char *db, const char *table,
				     const ms_scan_range *range, unsigned int flags,
				     ms_entity_cb cb, void *ctx, ms_error *err);

	/* With MS_CAP_TABLE_VERSIONS (all four), else NULL: see ms_catalog_put_table_version. */
	int (*put_table_version)(ms_catalog *self, const ms_entity *table, ms_error *err);
	int (*scan_table_versions)(ms_catalog *self, const char *db, const char *table,
				   ms_entity_cb cb, void *ctx, ms_error *err);
	int (*get_table_version)(ms_catalog *self, const char *db, const char *table,
				 const char *version_id, ms_entity **out, ms_error *err);
	int (*delete_table_version)(ms_catalog *self, const char *db, const char *table,
				    const char *version_id, ms_error *err);
} ms_catalog_driver;

/*
 * The base of every catalog instance.  Drivers fill it in open (use
 * ms_catalog_base_init) and free its fields with ms_catalog_base_free.
 */
struct ms_catalog {
	const ms_catalog_driver *driver;
	char *url;          /* owned; redacted, printable */
	char *catalog_id;   /* owned; identity of the catalog in replica markers */
	char *selection;    /* owned or NULL; ';'-separated patterns this catalog was cut to */
	char *instance;     /* owned or NULL; see ms_catalog_instance */
	int implicit_id;    /* see ms_catalog_id_is_implicit */
};

/* The open function every driver exports; one row per scheme in the registry. */
typedef int (*ms_catalog_open_fn)(ms_catalog **out, const struct ms_url *url,
				  const ms_open_options *opts, ms_error *err);

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
