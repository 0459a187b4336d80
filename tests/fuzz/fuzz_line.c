/*
 * Fuzz target: one snapshot line, parsed and written back out; every error
 * must stay one line.
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

	ms_error_clear(&err);
	if (ms_entity_from_line(&e, (const char *)data, size, 0, &err) == 0) {
		if (ms_entity_to_line(e, &b, &err) < 0)
			one_line(&err);
		ms_buf_reset(&b);
		if (ms_entity_to_glue(e, &b, 0, &err) < 0)
			one_line(&err);
		ms_entity_free(e);
	} else {
		one_line(&err);
	}
	ms_buf_free(&b);
	return 0;
}
