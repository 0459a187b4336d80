/* TEMPORARY: declarations that helpers add to the public headers. */
#ifndef GLUE_SHIM_H
#define GLUE_SHIM_H
#include "metasync/catalog.h"
#include "util/buf.h"
int ms_glue_input_check(ms_kind kind, const cJSON *input, ms_error *err);
int ms_partition_check_values(const ms_entity *table, const ms_entity *partition, ms_error *err);
int ms_entity_to_glue_output(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err);
int ms_catalog_put_table_version(ms_catalog *cat, const ms_entity *table, ms_error *err);
int ms_catalog_scan_table_versions(ms_catalog *cat, const char *db, const char *table,
				   ms_entity_cb cb, void *ctx, ms_error *err);
int ms_catalog_get_table_version(ms_catalog *cat, const char *db, const char *table,
				 const char *version_id, ms_entity **out, ms_error *err);
int ms_catalog_delete_table_version(ms_catalog *cat, const char *db, const char *table,
				    const char *version_id, ms_error *err);
typedef struct ms_scan_range {
	const char *after;
	unsigned segment, segments;
} ms_scan_range;
int ms_catalog_scan_partitions_range(ms_catalog *cat, const char *db, const char *table,
				     const ms_scan_range *range, unsigned int flags,
				     ms_entity_cb cb, void *ctx, ms_error *err);
#endif
