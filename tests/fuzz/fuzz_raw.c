/*
 * Fuzz target: a stored document as raw text, written as a snapshot line by
 * the one-pass transcoder; on canonical input its output must equal the
 * parsed path's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/model.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ms_entity *bare(const uint8_t *data, size_t size, int raw)
{
	ms_entity *e = calloc(1, sizeof(*e));

	if (!e)
		abort();
	e->kind = MS_KIND_PARTITION;
	e->database = strdup("db");
	e->table = strdup("t");
	e->vkey = strdup("[\"1\"]");
	if (raw) {
		e->raw = malloc(size + 1);
		memcpy(e->raw, data, size);
		e->raw[size] = '\0';
		e->raw_len = size;
	} else {
		e->doc = cJSON_ParseWithLength((const char *)data, size);
	}
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_entity *tree = bare(data, size, 0), *raw = bare(data, size, 1);
	ms_buf a = MS_BUF_INIT(1u << 26), b = MS_BUF_INIT(1u << 26);
	ms_error err;
	int ra = -1, rb;

	ms_buf canon = MS_BUF_INIT(1u << 26);
	int canonical;

	/* Drivers store canonical text only: compare the paths on such input. */
	canonical = tree->doc && ms_canonical_json(tree->doc, 0, &canon) == 0 &&
		    canon.len == size && memcmp(canon.ptr, data, size) == 0;
	ms_buf_free(&canon);
	if (tree->doc)
		ra = ms_entity_to_line(tree, &a, &err);
	rb = ms_entity_to_line(raw, &b, &err);
	if (canonical && ra == 0 && rb == 0 && (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0))
		abort();
	ms_buf_free(&a);
	ms_buf_free(&b);
	ms_entity_free(tree);
	ms_entity_free(raw);
	return 0;
}
