/*
 * The Glue API codec.  Documents arrive from the Glue driver (GetTable,
 * GetPartitions answers), from the embedded catalog and from users' files
 * written by the AWS CLI; they are already in the model's shape, so
 * reading one is validation plus small repairs (names folded, timestamps
 * rounded to the millisecond, ISO 8601 strings as the CLI prints them
 * turned into epoch seconds, camelCase keys of known fields renamed).
 * Writing one is the canonical printer, optionally indented.
 */
#include "model_internal.h"

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

int ms_entity_to_glue(const ms_entity *e, struct ms_buf *out, int pretty, ms_error *err)
{
	cJSON *parsed = NULL;
	ms_sink s;
	size_t start;
	int rc;

	if (!e || !out)
		return ms_error_set(err, MS_EINVAL, "no entity to write");
	if (!e->doc && !e->raw)
		return ms_error_set(err, MS_EINVAL, "%s has no document to write",
				    ms_kind_name(e->kind));
	/* Raw text is printed from a parse of it: it need not be canonical. */
	if (!e->doc && !(parsed = cJSON_ParseWithLength(e->raw, e->raw_len)))
		return ms_error_set(err, MS_EINVAL, "document of %s '%s' is not json",
				    ms_kind_name(e->kind),
				    e->vkey ? e->vkey : e->table ? e->table : e->database);
	start = out->len;
	ms_sink_init_buf(&s, out);
	ms_sink_sorted(&s, e->doc ? e->doc : parsed, 0, pretty);
	if ((rc = ms_sink_flush(&s)) < 0) {
		if (out->ptr) {
			out->len = start;
			out->ptr[start] = '\0';
		}
		/* s.dupkey points into the document: report before it goes */
		if (rc == MS_EINVAL && s.dupkey)
			ms_error_set(err, rc, "key '%.100s' appears twice in one object", s.dupkey);
		else if (rc == MS_ETOOBIG)
			ms_error_set(err, rc, "%s document is too long", ms_kind_name(e->kind));
		else
			ms_error_set(err, rc, "out of memory");
	}
	cJSON_Delete(parsed);
	return rc;
}
