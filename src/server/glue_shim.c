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
