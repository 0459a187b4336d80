/*
 * Fuzz target: one snapshot line, parsed and written back out; every error
 * must stay one line; on a partition line the parser accepts, the values
 * peek either gives up or finds exactly the parsed Values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/model.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless the peek at the line agrees with the parsed partition e. */
static void check_peek(const uint8_t *data, size_t size, const ms_entity *e)
{
	static ms_line_values lv;
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(e->doc, "Values"), *v;
	size_t i = 0;

	if (ms_line_values_peek((const char *)data, size, &lv) != 1)
		return;
	cJSON_ArrayForEach(v, values)
	{
		if (i >= lv.n || strlen(v->valuestring) != lv.len[i] ||
		    memcmp(v->valuestring, lv.v[i], lv.len[i]) != 0)
			abort();
		i++;
	}
	if (i != lv.n)
		abort();
}

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
		if (e->kind == MS_KIND_PARTITION)
			check_peek(data, size, e);
		if (ms_entity_to_line(e, &b, &err) < 0)
			one_line(&err);
		ms_buf_reset(&b);
		if (ms_entity_to_glue(e, &b, 0, &err) < 0)
			one_line(&err);
		ms_buf_reset(&b);
		if (ms_entity_to_glue_output(e, &b, 0, &err) < 0)
			one_line(&err);
		ms_entity_free(e);
	} else {
		one_line(&err);
	}
	ms_buf_free(&b);
	return 0;
}
