/*
 * The snapshot line codec: one JSON object per line in the shape the AWS
 * Glue "Hive metastore migration" utility reads and writes, so that its
 * users can mix its files with metasync's.  Reading parses the line with
 * cJSON, checks the envelope ("type", "database", "table") and converts
 * the "item" in place into the Glue-shape document; writing walks the
 * document with the field tables and prints the utility's camelCase
 * directly, timestamps as epoch-millisecond strings.  Keys the model does
 * not know travel verbatim both ways.  An entity that carries its document
 * as stored text (raw) is written by the transcoder in codec_raw.c, which
 * gives the same line without building the tree.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kind_from_text(const char *s, ms_kind *kind)
{
	if (!strcmp(s, "database"))
		*kind = MS_KIND_DATABASE;
	else if (!strcmp(s, "table"))
		*kind = MS_KIND_TABLE;
	else if (!strcmp(s, "partition"))
		*kind = MS_KIND_PARTITION;
	else
		return MS_EINVAL;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* An envelope name ("database", "table"): validated and folded in place. */
static int envelope_name(ms_conv *c, cJSON *it, const char *key, const char **out)
{
	char subject[32];
	int rc;

	*out = NULL;
	if (!it || ms_j_null(it))
		return 0;
	if (!ms_j_str(it) || !it->valuestring)
		return ms_error_set(c->err, MS_EINVAL, "'%s' is not a string", key);
	snprintf(subject, sizeof(subject), "%s name", key);
	if ((rc = ms_model_check_name(c, it->valuestring, subject)) < 0)
		return rc;
	ms_model_fold(it->valuestring);
	*out = it->valuestring;
	return 0;
}

/* The envelope and the item must agree on a name both carry. */
static int same_name(ms_conv *c, const cJSON *item, const char *glue, const char *line_key,
		     const char *envelope_key, const char *envelope)
{
	const cJSON *it = ms_model_get(item, glue);

	if (it && envelope && strcmp(it->valuestring, envelope))
		return ms_error_set(c->err, MS_EINVAL,
				    "'%s' is '%.100s' but field '%s' is '%.100s'", envelope_key,
				    envelope, line_key, it->valuestring);
	return 0;
}

int ms_entity_from_line(ms_entity **out, const char *line, size_t len, ms_kind expected,
			ms_error *err)
{
	ms_conv c = { 1, err };
	cJSON *root = NULL, *doc = NULL, *item = NULL, *jtype = NULL, *jdb = NULL, *jtable = NULL,
	      *it;
	const char *end = NULL, *db = NULL, *table = NULL;
	ms_kind kind = expected;
	size_t i;
	int rc = 0;

	if (!out || (!line && len))
		return ms_error_set(err, MS_EINVAL, "no line to parse");
	if (expected && !ms_schema_for(expected))
		return ms_error_set(err, MS_EINVAL, "unknown entity kind %d", (int)expected);
	ms_model_init();
	for (i = 0; i < len && is_space(line[i]); i++)
		;
	if (i == len)
		return ms_error_set(err, MS_EINVAL, "line is empty");
	if ((rc = ms_json_check_nul(line, len, "line", err)) < 0)
		return rc;
	if (!(root = cJSON_ParseWithLengthOpts(line, len, &end, 0))) {
		size_t at = end && end >= line && end <= line + len ? (size_t)(end - line) : 0;

		rc = ms_error_set(err, MS_EINVAL, "line is not valid JSON at byte %zu", at + 1);
		goto done;
	}
	for (; end < line + len && is_space(*end); end++)
		;
	if (end < line + len) {
		rc = ms_error_set(err, MS_EINVAL, "line is not valid JSON at byte %zu",
				  (size_t)(end - line) + 1);
		goto done;
	}
	if (!ms_j_obj(root)) {
		rc = ms_error_set(err, MS_EINVAL, "line is not a JSON object");
		goto done;
	}
	for (it = root->child; it; it = it->next) {
		cJSON **slot = NULL;

		if (!it->string)
			continue;
		if (!strcmp(it->string, "type"))
			slot = &jtype;
		else if (!strcmp(it->string, "item"))
			slot = &item;
		else if (!strcmp(it->string, "database"))
			slot = &jdb;
		else if (!strcmp(it->string, "table"))
			slot = &jtable;
		if (!slot)
			continue;
		/* As in the item: a key twice would leave which one counts to the parser. */
		if (*slot) {
			rc = ms_error_set(err, MS_EINVAL, "'%s' appears twice", it->string);
			goto done;
		}
		*slot = it;
	}
	if (jtype && !ms_j_null(jtype)) {
		if (!ms_j_str(jtype) || !jtype->valuestring) {
			rc = ms_error_set(err, MS_EINVAL, "'type' is not a string");
			goto done;
		}
		if (kind_from_text(jtype->valuestring, &kind) < 0) {
			rc = ms_error_set(err, MS_EINVAL,
					  "'type' is '%.40s' but must be database, table or "
					  "partition",
					  jtype->valuestring);
			goto done;
		}
		if (expected && kind != expected) {
			rc = ms_error_set(err, MS_EINVAL, "'type' is '%s' but this file holds %ss",
					  ms_kind_name(kind), ms_kind_name(expected));
			goto done;
		}
	} else if (!expected) {
		rc = ms_error_set(err, MS_EINVAL, "line has no 'type'");
		goto done;
	}
	if (!item || ms_j_null(item)) {
		rc = ms_error_set(err, MS_EINVAL, "line has no 'item'");
		goto done;
	}
	if (!ms_j_obj(item)) {
		rc = ms_error_set(err, MS_EINVAL, "'item' is not an object");
		goto done;
	}
	if (kind != MS_KIND_DATABASE && (rc = envelope_name(&c, jdb, "database", &db)) < 0)
		goto done;
	if (kind == MS_KIND_PARTITION && (rc = envelope_name(&c, jtable, "table", &table)) < 0)
		goto done;

	/* The item becomes the document: unlinked, without its key. */
	doc = cJSON_DetachItemViaPointer(root, item);
	if (!(doc->type & cJSON_StringIsConst))
		cJSON_free(doc->string);
	doc->string = NULL;
	doc->type &= ~cJSON_StringIsConst;

	if ((rc = ms_model_convert(&c, doc, ms_schema_for(kind), NULL)) < 0)
		goto done;
	if (kind == MS_KIND_TABLE &&
	    (rc = same_name(&c, doc, "DatabaseName", "databaseName", "database", db)) < 0)
		goto done;
	if (kind == MS_KIND_PARTITION &&
	    ((rc = same_name(&c, doc, "DatabaseName", "namespaceName", "database", db)) < 0 ||
	     (rc = same_name(&c, doc, "TableName", "tableName", "table", table)) < 0))
		goto done;
	rc = ms_model_entity_make(out, kind, doc, db, table, &c);
	doc = NULL;
done:
	cJSON_Delete(doc);
	cJSON_Delete(root);
	return rc;
}

/* ---- the values of a partition line, without a tree ----------------- */

#define PEEK_DEPTH_MAX 1000 /* cJSON's nesting limit */

typedef struct peek {
	const char *p, *end;
} peek;

/* cJSON takes every byte up to the space as white space; so does the peek. */
static void pk_ws(peek *k)
{
	while (k->p < k->end && (unsigned char)*k->p <= ' ')
		k->p++;
}

static int pk_at(const peek *k, char c)
{
	return k->p < k->end && *k->p == c;
}

/*
 * The string at k->p (its opening quote): *s and *n its text between the
 * quotes as written, *esc set when it holds a backslash.  0, or -1 when the
 * line ends inside it.
 */
static int pk_string(peek *k, const char **s, size_t *n, int *esc)
{
	const char *p = k->p + 1;

	*esc = 0;
	for (;;) {
		const char *q = memchr(p, '"', (size_t)(k->end - p));
		const char *b;

		if (!q)
			return -1;
		b = memchr(p, '\\', (size_t)(q - p));
		if (!b) {
			p = q;
			break;
		}
		/* an escape: the character after the backslash is never the end */
		*esc = 1;
		if (k->end - b < 2)
			return -1;
		p = b + 2;
	}
	*s = k->p + 1;
	*n = (size_t)(p - (k->p + 1));
	k->p = p + 1;
	return 0;
}

static int pk_literal(peek *k, const char *lit, size_t n)
{
	if ((size_t)(k->end - k->p) < n || memcmp(k->p, lit, n) != 0)
		return -1;
	k->p += n;
	return 0;
}

/* Step over one value of any kind; 0, or -1 when the peek gives up. */
static int pk_skip(peek *k, int depth)
{
	const char *s;
	size_t n;
	int esc;

	pk_ws(k);
	if (k->p >= k->end || depth > PEEK_DEPTH_MAX)
		return -1;
	switch (*k->p) {
	case '"':
		return pk_string(k, &s, &n, &esc);
	case '{':
	case '[': {
		char close = *k->p == '{' ? '}' : ']';
		int obj = close == '}';

		k->p++;
		pk_ws(k);
		if (pk_at(k, close)) {
			k->p++;
			return 0;
		}
		for (;;) {
			if (obj) {
				pk_ws(k);
				if (!pk_at(k, '"') || pk_string(k, &s, &n, &esc) < 0)
					return -1;
				pk_ws(k);
				if (!pk_at(k, ':'))
					return -1;
				k->p++;
			}
			if (pk_skip(k, depth + 1) < 0)
				return -1;
			pk_ws(k);
			if (pk_at(k, ',')) {
				k->p++;
				continue;
			}
			if (!pk_at(k, close))
				return -1;
			k->p++;
			return 0;
		}
	}
	case 't':
		return pk_literal(k, "true", 4);
	case 'f':
		return pk_literal(k, "false", 5);
	case 'n':
		return pk_literal(k, "null", 4);
	default:
		s = k->p;
		while (k->p < k->end && strchr("0123456789+-.eE", *k->p) && *k->p)
			k->p++;
		return k->p > s ? 0 : -1;
	}
}

/* The "values" array at k->p into out. */
static int pk_values(peek *k, ms_line_values *out)
{
	const char *s;
	size_t n;
	int esc;

	if (!pk_at(k, '['))
		return -1;
	k->p++;
	pk_ws(k);
	if (pk_at(k, ']')) {
		k->p++;
		return 0;
	}
	for (;;) {
		pk_ws(k);
		if (!pk_at(k, '"') || pk_string(k, &s, &n, &esc) < 0 || esc ||
		    out->n == MS_LINE_VALUES_MAX)
			return -1;
		out->v[out->n] = s;
		out->len[out->n] = n;
		out->n++;
		pk_ws(k);
		if (pk_at(k, ',')) {
			k->p++;
			continue;
		}
		if (!pk_at(k, ']'))
			return -1;
		k->p++;
		return 0;
	}
}

/*
 * Walk the members of the object at k->p.  At the top (item == 0) the member
 * "item" is walked in turn (item == 1), where "values" or "Values" is read
 * into out; every other member is stepped over.  A key that matters given
 * twice, or any escaped key, makes the peek give up: the parser decides.
 */
static int pk_object(peek *k, int item, ms_line_values *out, int *found)
{
	const char *s;
	size_t n;
	int esc, rc, seen = 0;

	if (!pk_at(k, '{'))
		return -1;
	k->p++;
	pk_ws(k);
	if (pk_at(k, '}')) {
		k->p++;
		return 0;
	}
	for (;;) {
		pk_ws(k);
		if (!pk_at(k, '"') || pk_string(k, &s, &n, &esc) < 0 || esc)
			return -1;
		pk_ws(k);
		if (!pk_at(k, ':'))
			return -1;
		k->p++;
		pk_ws(k);
		if (!item && n == 4 && memcmp(s, "item", 4) == 0) {
			if (seen++)
				return -1;
			rc = pk_object(k, 1, out, found);
		} else if (item && n == 6 &&
			   (memcmp(s, "values", 6) == 0 || memcmp(s, "Values", 6) == 0)) {
			if (seen++)
				return -1;
			rc = pk_values(k, out);
			*found = 1;
		} else {
			rc = pk_skip(k, 2);
		}
		if (rc < 0)
			return -1;
		pk_ws(k);
		if (pk_at(k, ',')) {
			k->p++;
			continue;
		}
		if (!pk_at(k, '}'))
			return -1;
		k->p++;
		return 0;
	}
}

int ms_line_values_peek(const char *line, size_t len, ms_line_values *out)
{
	peek k;
	int found = 0;

	if (!line || !out)
		return 0;
	/* line + len only once line is known not to be NULL */
	k.p = line;
	k.end = line + len;
	out->n = 0;
	pk_ws(&k);
	if (pk_object(&k, 0, out, &found) < 0 || !found)
		return 0;
	pk_ws(&k);
	return k.p == k.end;
}

/* A key with its first letter lowered: "CatalogId" -> "catalogId". */
static void key_lower_first(ms_sink *s, const char *k)
{
	char tmp[256];
	size_t n;

	if (!k || !(k[0] >= 'A' && k[0] <= 'Z') || (n = strlen(k)) >= sizeof(tmp)) {
		ms_sink_str(s, k);
		return;
	}
	memcpy(tmp, k, n + 1);
	tmp[0] = (char)(tmp[0] + ('a' - 'A'));
	ms_sink_str(s, tmp);
}

static void line_generic(ms_sink *s, const cJSON *v)
{
	ms_sink_value_keyed(s, v, key_lower_first);
}

static void line_time(ms_sink *s, const cJSON *v)
{
	double ms;

	if (!ms_j_num(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 9.0e12) {
		ms_sink_value(s, v);
		return;
	}
	ms = round(v->valuedouble * 1000.0);
	ms_sink_putc(s, '"');
	ms_sink_int(s, (long long)ms);
	ms_sink_putc(s, '"');
}

static void line_object(ms_sink *s, const cJSON *obj, const ms_schema *sch, int skip_identity,
			int first);

static void line_field(ms_sink *s, const cJSON *v, const ms_field *f)
{
	const cJSON *c;

	switch (f->type) {
	case MS_F_TIME:
		line_time(s, v);
		return;
	case MS_F_OBJ:
		if (ms_j_obj(v)) {
			ms_sink_putc(s, '{');
			line_object(s, v, f->sub, 0, 1);
			ms_sink_putc(s, '}');
			return;
		}
		break;
	case MS_F_OBJLIST:
		if (ms_j_arr(v)) {
			ms_sink_putc(s, '[');
			for (c = v->child; c; c = c->next) {
				if (c != v->child)
					ms_sink_putc(s, ',');
				if (ms_j_obj(c)) {
					ms_sink_putc(s, '{');
					line_object(s, c, f->sub, 0, 1);
					ms_sink_putc(s, '}');
				} else {
					ms_sink_value(s, c);
				}
			}
			ms_sink_putc(s, ']');
			return;
		}
		break;
	case MS_F_GOBJ:
	case MS_F_GARR:
		line_generic(s, v);
		return;
	default:
		break;
	}
	ms_sink_value(s, v);
}

/*
 * The members of obj, known ones in the snapshot spelling.  skip_identity
 * leaves out DatabaseName and TableName (the caller writes them).
 */
static void line_object(ms_sink *s, const cJSON *obj, const ms_schema *sch, int skip_identity,
			int first)
{
	const cJSON *c;

	for (c = obj->child; c; c = c->next) {
		const ms_field *f;
		int ls;

		if (!c->string || ms_j_null(c))
			continue;
		f = ms_schema_find(sch, c->string, &ls);
		if (f && skip_identity &&
		    (!strcmp(f->glue, "DatabaseName") || !strcmp(f->glue, "TableName")))
			continue;
		if (!first)
			ms_sink_putc(s, ',');
		first = 0;
		ms_sink_str(s, f ? f->line : c->string);
		ms_sink_putc(s, ':');
		if (f)
			line_field(s, c, f);
		else
			ms_sink_value(s, c);
	}
}

/* The envelope up to the item's first member; the caller closes it with "}}". */
static void line_envelope(ms_sink *s, const ms_entity *e)
{
	ms_sink_putc(s, '{');
	if (e->kind != MS_KIND_DATABASE) {
		ms_sink_lit(s, "\"database\":");
		ms_sink_str(s, e->database);
		ms_sink_putc(s, ',');
	}
	if (e->kind == MS_KIND_PARTITION) {
		ms_sink_lit(s, "\"table\":");
		ms_sink_str(s, e->table);
		ms_sink_putc(s, ',');
	}
	ms_sink_lit(s, "\"type\":");
	ms_sink_str(s, ms_kind_name(e->kind));
	ms_sink_lit(s, ",\"item\":{");
	if (e->kind == MS_KIND_PARTITION) {
		ms_sink_lit(s, "\"namespaceName\":");
		ms_sink_str(s, e->database);
		ms_sink_lit(s, ",\"tableName\":");
		ms_sink_str(s, e->table);
	}
}

int ms_entity_to_line(const ms_entity *e, struct ms_buf *out, ms_error *err)
{
	const ms_schema *sch;
	cJSON *parsed = NULL;
	const cJSON *doc;
	ms_sink s;
	size_t start;
	int rc, skip_identity, first;

	if (!e || !out)
		return ms_error_set(err, MS_EINVAL, "no entity to write");
	if (e->kind != MS_KIND_DATABASE && e->kind != MS_KIND_TABLE && e->kind != MS_KIND_PARTITION)
		return ms_error_set(err, MS_EINVAL, "unknown entity kind %d", (int)e->kind);
	if (e->doc ? !ms_j_obj(e->doc) : !e->raw)
		return ms_error_set(err, MS_EINVAL, "%s has no document to write",
				    ms_kind_name(e->kind));
	ms_model_init();
	sch = ms_schema_for(e->kind);
	skip_identity = e->kind != MS_KIND_DATABASE;
	first = e->kind != MS_KIND_PARTITION;
	start = out->len;
	doc = e->doc;
	ms_sink_init_buf(&s, out);
	line_envelope(&s, e);
	if (!doc && ms_model_line_raw(&s, e->raw, e->raw_len, sch, skip_identity, first) != 0) {
		/* Text the transcoder does not handle: parse it and print the tree. */
		s.len = 0;
		if (out->ptr) {
			out->len = start;
			out->ptr[start] = '\0';
		}
		if (!(parsed = cJSON_ParseWithLength(e->raw, e->raw_len)) || !ms_j_obj(parsed)) {
			cJSON_Delete(parsed);
			return ms_error_set(err, MS_EINVAL,
					    "document of %s '%s' is not a json object",
					    ms_kind_name(e->kind),
					    e->vkey    ? e->vkey
					    : e->table ? e->table
						       : e->database);
		}
		doc = parsed;
		ms_sink_init_buf(&s, out);
		line_envelope(&s, e);
	}
	if (doc)
		line_object(&s, doc, sch, skip_identity, first);
	ms_sink_lit(&s, "}}");
	rc = ms_sink_flush(&s);
	cJSON_Delete(parsed);
	if (rc < 0) {
		if (out->ptr) {
			out->len = start;
			out->ptr[start] = '\0';
		}
		if (rc == MS_ETOOBIG)
			return ms_error_set(err, rc, "snapshot line for %s '%s' is too long",
					    ms_kind_name(e->kind),
					    e->table ? e->table : e->database);
		return ms_error_set(err, rc, "out of memory");
	}
	return 0;
}
