/*
 * Fuzz target: an entity in the Glue API shape, as `catalog put` reads it,
 * and the same document as a request's *Input shape, as a server checks it;
 * every error must stay one line.  What the input check accepts the model
 * accepts; an entity's Glue output shape is a document the model accepts
 * and that answers the same again.
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

/*
 * Abort unless e's Glue output shape prints whenever its whole document does
 * (a key twice in one object, which only printing finds, fails both), and
 * reads back as an entity with the same output.
 */
static void check_output(const ms_entity *e)
{
	ms_buf a = MS_BUF_INIT(1u << 26), b = MS_BUF_INIT(1u << 26);
	ms_entity *again = NULL;
	ms_error err;
	cJSON *tree = ms_entity_glue_output_tree(e, &err);
	int whole = ms_entity_to_glue(e, &b, 0, &err) == 0;

	if (!tree)
		abort();
	ms_buf_reset(&b);
	if (ms_entity_to_glue_output(e, &a, 0, &err) < 0) {
		if (whole)
			abort();
		one_line(&err);
		cJSON_Delete(tree);
	} else {
		if (ms_entity_from_glue(&again, e->kind, tree, e->database, e->table, &err) < 0)
			abort();
		if (ms_entity_to_glue_output(again, &b, 0, &err) < 0 || a.len != b.len ||
		    memcmp(a.ptr, b.ptr, a.len) != 0)
			abort();
		ms_entity_free(again);
	}
	ms_buf_free(&a);
	ms_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_entity *e = NULL;
	ms_error err;
	ms_buf b = MS_BUF_INIT(1u << 26);
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	ms_kind kind;
	int input_ok;

	if (!doc)
		return 0;
	kind = cJSON_HasObjectItem(doc, "Values")         ? MS_KIND_PARTITION
	       : cJSON_HasObjectItem(doc, "DatabaseName") ? MS_KIND_TABLE
							  : MS_KIND_DATABASE;
	ms_error_clear(&err);
	input_ok = ms_glue_input_check(kind, doc, &err) == 0;
	if (!input_ok)
		one_line(&err);
	if (ms_entity_from_glue(&e, kind, doc, "db", "t", &err) == 0) {
		if (ms_entity_to_line(e, &b, &err) < 0)
			one_line(&err);
		check_output(e);
		ms_entity_free(e);
	} else {
		if (input_ok)
			abort();
		one_line(&err);
	}
	ms_buf_free(&b);
	return 0;
}
