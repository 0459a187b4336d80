/*
 * The Glue API codec.  Documents arrive from the Glue driver (GetTable,
 * GetPartitions answers), from the embedded catalog and from users' files
 * written by the AWS CLI; they are already in the model's shape, so
 * reading one is validation plus small repairs (names folded, timestamps
 * rounded to the millisecond, ISO 8601 strings as the CLI prints them
 * turned into epoch seconds, camelCase keys of known fields renamed).
 * Writing one is the canonical printer, optionally indented: the whole
 * document (ms_entity_to_glue, for snapshots and the embedded catalog), or
 * only what Glue's Database, Table and Partition shapes have, as the Glue
 * API answers (ms_entity_to_glue_output: members that came from a Hive
 * Metastore or a newer source stay in the catalog but not in the answer).
 */
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ms_entity_from_glue(ms_entity **out, ms_kind kind, cJSON *doc, const char *database,
			const char *table, ms_error *err)
{
	ms_conv c = { 0, err };
	const ms_schema *schema = ms_schema_for(kind);
	int rc = 0;

	if (!out || !schema) {
		rc = ms_error_set(err, MS_EINVAL, "unknown entity kind %d", (int)kind);
		goto done;
	}
	if (!ms_j_obj(doc)) {
		rc = ms_error_set(err, MS_EINVAL, "%s document is not a JSON object",
				  ms_kind_name(kind));
		goto done;
	}
	ms_model_init();
	if ((rc = ms_model_convert(&c, doc, schema, NULL)) < 0)
		goto done;
	rc = ms_model_entity_make(out, kind, doc, database, table, &c);
	doc = NULL;
done:
	cJSON_Delete(doc);
	return rc;
}

/* "database 'd'", "table 'd.t'", "partition [...] of 'd.t'" for messages, into out. */
static void entity_label(const ms_entity *e, char *out, size_t n)
{
	if (e->kind == MS_KIND_PARTITION)
		snprintf(out, n, "partition %.200s of '%s.%s'", e->vkey ? e->vkey : "?",
			 e->database ? e->database : "?", e->table ? e->table : "?");
	else if (e->kind == MS_KIND_TABLE)
		snprintf(out, n, "table '%s.%s'", e->database ? e->database : "?",
			 e->table ? e->table : "?");
	else
		snprintf(out, n, "database '%s'", e->database ? e->database : "?");
}

/*
 * e's document, borrowed, or parsed from its raw text into *parsed (new):
 * NULL with err set when it has none or the text is not JSON.
 */
static const cJSON *entity_doc(const ms_entity *e, cJSON **parsed, ms_error *err)
{
	char label[MS_NAME_MAX * 8 + 300];

	*parsed = NULL;
	if (!e) {
		ms_error_set(err, MS_EINVAL, "no entity to write");
		return NULL;
	}
	if (e->doc)
		return e->doc;
	entity_label(e, label, sizeof(label));
	if (!e->raw) {
		ms_error_set(err, MS_EINVAL, "%s has no document to write", label);
		return NULL;
	}
	/* Raw text is printed from a parse of it: it need not be canonical. */
	if (!(*parsed = cJSON_ParseWithLength(e->raw, e->raw_len)))
		ms_error_set(err, MS_EINVAL, "document of %s is not json", label);
	return *parsed;
}

/*
 * Flush a sink printing into out from start: 0, or its error with err set
 * (naming kind) and out cut back to start.
 */
static int sink_end(ms_sink *s, struct ms_buf *out, size_t start, ms_kind kind, ms_error *err)
{
	int rc;

	if ((rc = ms_sink_flush(s)) < 0) {
		if (out->ptr) {
			out->len = start;
			out->ptr[start] = '\0';
		}
		/* s->dupkey points into the document: report before it goes */
		if (rc == MS_EINVAL && s->dupkey)
			ms_error_set(err, rc, "key '%.100s' appears twice in one object",
				     s->dupkey);
		else if (rc == MS_ETOOBIG)
			ms_error_set(err, rc, "%s document is too long", ms_kind_name(kind));
		else
			ms_error_set(err, rc, "out of memory");
	}
	return rc;
}

/* Append doc to out, keys sorted; the error names kind. */
static int print_doc(const cJSON *doc, ms_kind kind, struct ms_buf *out, int pretty, ms_error *err)
{
	size_t start = out->len;
	ms_sink s;

	ms_sink_init_buf(&s, out);
	ms_sink_sorted(&s, doc, 0, pretty);
	return sink_end(&s, out, start, kind, err);
}

int ms_entity_to_glue(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err)
{
	cJSON *parsed;
	const cJSON *doc;
	int rc;

	if (!out)
		return ms_error_set(err, MS_EINVAL, "no buffer to write to");
	if (!(doc = entity_doc(e, &parsed, err)))
		return MS_EINVAL;
	rc = print_doc(doc, e->kind, out, pretty, err);
	cJSON_Delete(parsed);
	return rc;
}

/*
 * A new object holding the members of obj that s's shape has, spelled as
 * Glue spells them, at every depth the field tables describe; NULL when
 * out of memory.
 */
static cJSON *output_object(const cJSON *obj, const ms_schema *s, int input)
{
	cJSON *out = cJSON_CreateObject(), *v, *list;
	const cJSON *it, *m;

	for (it = obj->child; it && out; it = it->next) {
		const ms_field *f;
		int line_spelling = 0;

		if (!it->string || !(f = ms_schema_find(s, it->string, &line_spelling)) ||
		    line_spelling || (input && (f->flags & MS_FF_OUTPUT)))
			continue;
		if (f->type == MS_F_OBJ && ms_j_obj(it)) {
			v = output_object(it, f->sub, input);
		} else if (f->type == MS_F_OBJLIST && ms_j_arr(it)) {
			v = list = cJSON_CreateArray();
			for (m = it->child; m && list; m = m->next) {
				cJSON *e = ms_j_obj(m) ? output_object(m, f->sub, input)
						       : cJSON_Duplicate(m, 1);

				if (!e || !cJSON_AddItemToArray(list, e)) {
					cJSON_Delete(e);
					cJSON_Delete(list);
					v = list = NULL;
				}
			}
		} else {
			v = cJSON_Duplicate(it, 1);
		}
		if (!v || !cJSON_AddItemToObjectCS(out, f->glue, v)) {
			cJSON_Delete(v);
			cJSON_Delete(out);
			out = NULL;
		}
	}
	return out;
}

/*
 * obj's members that s's *Input shape has, printed as output_object would
 * copy them; 1 as soon as a member has no place in it (other than the ones
 * Glue assigns, at the top), 0 when all were printed.
 */
static int input_object(ms_sink *k, const cJSON *obj, const ms_schema *s, int top)
{
	const cJSON *it, *m;
	int first = 1;

	ms_sink_putc(k, '{');
	for (it = obj->child; it; it = it->next) {
		const ms_field *f;
		int line_spelling = 0;

		if (!it->string || !(f = ms_schema_find(s, it->string, &line_spelling)) ||
		    line_spelling)
			return 1;
		if (f->flags & MS_FF_OUTPUT) {
			if (!top)
				return 1;
			continue;
		}
		if (!first)
			ms_sink_putc(k, ',');
		first = 0;
		ms_sink_str(k, f->glue);
		ms_sink_putc(k, ':');
		if (f->type == MS_F_OBJ && ms_j_obj(it)) {
			if (input_object(k, it, f->sub, 0))
				return 1;
		} else if (f->type == MS_F_OBJLIST && ms_j_arr(it)) {
			ms_sink_putc(k, '[');
			for (m = it->child; m; m = m->next) {
				if (m != it->child)
					ms_sink_putc(k, ',');
				if (!ms_j_obj(m))
					ms_sink_value(k, m);
				else if (input_object(k, m, f->sub, 0))
					return 1;
			}
			ms_sink_putc(k, ']');
		} else {
			ms_sink_value(k, it);
		}
	}
	ms_sink_putc(k, '}');
	return 0;
}

int ms_entity_glue_input_print(const ms_entity *e, struct ms_buf *out, ms_error *err)
{
	size_t start = out->len;
	ms_sink k;
	int rc;

	ms_model_init();
	if (!e || !e->doc || !ms_j_obj(e->doc) || !ms_schema_for(e->kind))
		return 1;
	ms_sink_init_buf(&k, out);
	rc = input_object(&k, e->doc, ms_schema_for(e->kind), 1);
	if (sink_end(&k, out, start, e->kind, err) < 0)
		return k.error;
	if (rc != 0 && out->ptr) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return rc;
}

/* *out: e's document in Glue's output (or *Input) shape (new); 0 or an MS_E* code. */
static int output_tree(const ms_entity *e, int input, cJSON **out, ms_error *err)
{
	cJSON *parsed;
	const cJSON *doc;
	int rc = 0;

	*out = NULL;
	if (!(doc = entity_doc(e, &parsed, err)))
		return MS_EINVAL;
	ms_model_init();
	if (!ms_schema_for(e->kind))
		rc = ms_error_set(err, MS_EINVAL, "unknown entity kind %d", (int)e->kind);
	else if (!ms_j_obj(doc))
		rc = ms_error_set(err, MS_EINVAL, "%s document is not a json object",
				  ms_kind_name(e->kind));
	else if (!(*out = output_object(doc, ms_schema_for(e->kind), input)))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	cJSON_Delete(parsed);
	return rc;
}

cJSON *ms_entity_glue_output_tree(const ms_entity *e, ms_error *err)
{
	cJSON *tree;

	return output_tree(e, 0, &tree, err) < 0 ? NULL : tree;
}

cJSON *ms_entity_glue_input_tree(const ms_entity *e, ms_error *err)
{
	cJSON *tree;

	return output_tree(e, 1, &tree, err) < 0 ? NULL : tree;
}

/*
 * What output_object would copy of obj, printed compact with keys sorted as
 * print_doc prints the copy, without making it.
 */
static void output_sorted(ms_sink *k, const cJSON *obj, const ms_schema *s)
{
	const cJSON *stack[48], **m = stack, *it, *e;
	const ms_field *f;
	size_t n = 0, cap = 0, i;

	for (it = obj->child; it; it = it->next)
		cap++;
	if (cap > sizeof(stack) / sizeof(stack[0]) && !(m = malloc(cap * sizeof(*m)))) {
		k->error = k->error ? k->error : MS_ENOMEM;
		return;
	}
	for (it = obj->child; it; it = it->next) {
		int line_spelling = 0;

		if (it->string && (f = ms_schema_find(s, it->string, &line_spelling)) &&
		    !line_spelling)
			m[n++] = it;
	}
	ms_sink_sort_members(m, n);
	ms_sink_putc(k, '{');
	for (i = 0; i < n; i++) {
		int line_spelling;

		it = m[i];
		f = ms_schema_find(s, it->string, &line_spelling);
		if (i) {
			ms_sink_putc(k, ',');
			if (strcmp(m[i - 1]->string, it->string) == 0 && !k->error) {
				k->error = MS_EINVAL;
				k->dupkey = it->string;
			}
		}
		ms_sink_str(k, it->string);
		ms_sink_putc(k, ':');
		if (f->type == MS_F_OBJ && ms_j_obj(it)) {
			output_sorted(k, it, f->sub);
		} else if (f->type == MS_F_OBJLIST && ms_j_arr(it)) {
			ms_sink_putc(k, '[');
			for (e = it->child; e; e = e->next) {
				if (e != it->child)
					ms_sink_putc(k, ',');
				if (ms_j_obj(e))
					output_sorted(k, e, f->sub);
				else
					ms_sink_sorted(k, e, 0, 0);
			}
			ms_sink_putc(k, ']');
		} else {
			ms_sink_sorted(k, it, 0, 0);
		}
	}
	ms_sink_putc(k, '}');
	if (m != stack)
		free(m);
}

/* ms_entity_to_glue_output without pretty: the document printed through output_sorted. */
static int output_compact(const ms_entity *e, struct ms_buf *out, ms_error *err)
{
	size_t start = out->len;
	cJSON *parsed;
	const cJSON *doc;
	ms_sink k;
	int rc;

	if (!(doc = entity_doc(e, &parsed, err)))
		return MS_EINVAL;
	if (!ms_schema_for(e->kind) || !ms_j_obj(doc)) {
		cJSON_Delete(parsed);
		return ms_error_set(err, MS_EINVAL, "%s document is not a json object",
				    ms_kind_name(e->kind));
	}
	ms_sink_init_buf(&k, out);
	output_sorted(&k, doc, ms_schema_for(e->kind));
	rc = sink_end(&k, out, start, e->kind, err);
	cJSON_Delete(parsed);
	return rc;
}

int ms_entity_to_glue_output(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err)
{
	cJSON *tree;
	int rc;

	if (!out)
		return ms_error_set(err, MS_EINVAL, "no buffer to write to");
	ms_model_init();
	if (!pretty)
		return output_compact(e, out, err);
	if ((rc = output_tree(e, 0, &tree, err)) < 0)
		return rc;
	rc = print_doc(tree, e->kind, out, pretty, err);
	cJSON_Delete(tree);
	return rc;
}
