/* Fuzz target: catalog and store URLs, and redaction. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	ms_url *u = NULL;
	ms_error err;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ms_url_parse(&u, s, &err) == 0)
		ms_url_free(u);
	free(ms_url_redact(s));
	free(s);
	return 0;
}
