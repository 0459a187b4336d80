/* TEMPORARY: declarations that helpers add to the public headers. */
#ifndef GLUE_SHIM_H
#define GLUE_SHIM_H
#include "metasync/catalog.h"
#include "util/buf.h"
int ms_glue_input_check(ms_kind kind, const cJSON *input, ms_error *err);
int ms_partition_check_values(const ms_entity *table, const ms_entity *partition, ms_error *err);
int ms_entity_to_glue_output(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err);
#endif
