/* Fuzz target: S3's XML answers (list pages, errors, upload ids) as the s3:// store reads them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/store/s3_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const char *parent, const char *name, const char *text, void *ctx)
{
	size_t *n = ctx;

	*n += strlen(parent) + strlen(name) + strlen(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_error err;
	size_t n = 0;

	(void)s3_xml_parse((const char *)data, size, touch, &n, &err);
	return 0;
}
