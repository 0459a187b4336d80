/* Fuzz target: one snapshot line, parsed and written back out. */
#include <stdint.h>
#include <stdlib.h>

#include "metasync/model.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_entity *e = NULL;
	ms_error err;
	ms_buf b = MS_BUF_INIT(1u << 26);

	if (ms_entity_from_line(&e, (const char *)data, size, 0, &err) == 0) {
		ms_entity_to_line(e, &b, &err);
		ms_buf_reset(&b);
		ms_entity_to_glue(e, &b, 0, &err);
		ms_entity_free(e);
	}
	ms_buf_free(&b);
	return 0;
}
