/* TEMPORARY */
#include <string.h>
#include "server/glue_shim.h"
int ms_glue_input_check(ms_kind kind, const cJSON *input, ms_error *err) { (void)kind; (void)input; (void)err; return 0; }
int ms_partition_check_values(const ms_entity *table, const ms_entity *p, ms_error *err)
{
	int nk = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(table->doc, "PartitionKeys"));
	int nv = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p->doc, "Values"));
	if (nk != nv) return ms_error_set(err, MS_EINVAL, "partition has %d values, table has %d keys", nv, nk);
	return 0;
}
int ms_entity_to_glue_output(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err) { return ms_entity_to_glue(e, out, pretty, err); }
int ms_catalog_put_table_version(ms_catalog *cat, const ms_entity *table, ms_error *err) { (void)cat; (void)table; (void)err; return 0; }
int ms_catalog_scan_table_versions(ms_catalog *cat, const char *db, const char *table, ms_entity_cb cb, void *ctx, ms_error *err) { (void)cat;(void)db;(void)table;(void)cb;(void)ctx;(void)err; return 0; }
int ms_catalog_get_table_version(ms_catalog *cat, const char *db, const char *table, const char *v, ms_entity **out, ms_error *err) { (void)cat;(void)db;(void)table;(void)v;(void)out; return ms_error_set(err, MS_ENOTFOUND, "no"); }
int ms_catalog_delete_table_version(ms_catalog *cat, const char *db, const char *table, const char *v, ms_error *err) { (void)cat;(void)db;(void)table;(void)v; return ms_error_set(err, MS_ENOTFOUND, "no"); }
typedef struct rctx { const ms_scan_range *r; ms_entity_cb cb; void *ctx; } rctx;
static int rcb(ms_entity *e, void *ctx, ms_error *err) { rctx *x = ctx; if (x->r->after && strcmp(e->vkey, x->r->after) <= 0) { ms_entity_free(e); return 0; } return x->cb(e, x->ctx, err); }
int ms_catalog_scan_partitions_range(ms_catalog *cat, const char *db, const char *table, const ms_scan_range *range, unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err)
{ rctx x = { range, cb, ctx }; return ms_catalog_scan_partitions(cat, db, table, flags, rcb, &x, err); }
