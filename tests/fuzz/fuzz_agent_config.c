/*
 * Fuzz target: the agent's YAML config.  Besides not crashing, every error
 * must stay one line and name the file first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_agent_config *cfg = NULL;
	ms_error err;

	ms_error_clear(&err);
	if (ms_agent_config_parse("fuzz.yaml", (const char *)data, size, &cfg, &err) == 0) {
		ms_agent_config_free(cfg);
		return 0;
	}
	if (strchr(err.message, '\n') ||
	    (err.code == MS_EINVAL && strncmp(err.message, "fuzz.yaml:", 10) != 0))
		abort();
	return 0;
}
