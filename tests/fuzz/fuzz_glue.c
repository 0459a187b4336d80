/*
 * Fuzz target: an entity in the Glue API shape, as `catalog put` reads it;
 * every error must stay one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/model.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every message is one line. */
static void one_line(const ms_error *err)
{
	if (strchr(err->message, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_entity *e = NULL;
	ms_error err;
	ms_buf b = MS_BUF_INIT(1u << 26);
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	ms_kind kind;

	if (!doc)
		return 0;
	kind = cJSON_HasObjectItem(doc, "Values") ? MS_KIND_PARTITION :
	       cJSON_HasObjectItem(doc, "DatabaseName") ? MS_KIND_TABLE : MS_KIND_DATABASE;
	ms_error_clear(&err);
	if (ms_entity_from_glue(&e, kind, doc, "db", "t", &err) == 0) {
		if (ms_entity_to_line(e, &b, &err) < 0)
			one_line(&err);
		ms_entity_free(e);
	} else {
		one_line(&err);
	}
	ms_buf_free(&b);
	return 0;
}
