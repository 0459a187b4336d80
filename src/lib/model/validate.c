/*
 * Validation and in-place conversion of parsed documents.  A snapshot
 * import reads millions of lines, so the tree cJSON parsed is turned into
 * the model's Glue shape where it lies: known keys are re-pointed at static
 * Glue names, timestamp strings become numbers, nulls are unlinked; nothing
 * is copied.  The same walk checks every value against Glue's types and
 * limits and every string for UTF-8, and names the offending field in the
 * spelling the input used, so that a user can find it in the file.
 */
#include "model_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PATH_MAX_TEXT 200

/* Keep a message on one line: control bytes of s (from the input) become '?'. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void ms_path_render(const ms_path *p, char *out, size_t n)
{
	const ms_path *seg[64] = { NULL };
	size_t depth = 0, len = 0, i;

	for (; p && depth < sizeof(seg) / sizeof(seg[0]); p = p->up)
		seg[depth++] = p;
	out[0] = '\0';
	for (i = depth; i-- > 0;) {
		int w;

		if (seg[i]->key)
			w = snprintf(out + len, n - len, "%s%.80s", len ? "." : "", seg[i]->key);
		else
			w = snprintf(out + len, n - len, "[%d]", seg[i]->index);
		if (w < 0 || (size_t)w >= n - len)
			break;
		len += (size_t)w;
	}
	/* Keys come from the input. */
	one_line(out);
}

/*
 * The first 32 characters of s, cut at a character boundary, "..." if cut;
 * out holds n >= 12 bytes.
 */
static void excerpt(const char *s, char *out, size_t n)
{
	size_t i = 0, chars = 0;

	while (s[i] && chars < 32 && i + 8 < n) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	memcpy(out, s, i);
	out[i] = '\0';
	if (s[i])
		strcpy(out + i, "...");
	one_line(out);
}

static int fail(ms_conv *c, const ms_path *p, const char *what)
{
	char path[PATH_MAX_TEXT];

	ms_path_render(p, path, sizeof(path));
	return ms_error_set(c->err, MS_EINVAL, "field '%s' %s", path, what);
}

static int fail_parent(ms_conv *c, const ms_path *p, const char *what)
{
	char path[PATH_MAX_TEXT];

	if (!p)
		return ms_error_set(c->err, MS_EINVAL, "%s %s", c->from_line ? "item" : "document",
				    what);
	ms_path_render(p, path, sizeof(path));
	return ms_error_set(c->err, MS_EINVAL, "field '%s' %s", path, what);
}

static int text_error(ms_conv *c, const char *subject, const ms_path *p, const char *what)
{
	char path[PATH_MAX_TEXT];

	if (subject)
		return ms_error_set(c->err, MS_EINVAL, "%s %s", subject, what);
	ms_path_render(p, path, sizeof(path));
	return ms_error_set(c->err, MS_EINVAL, "field '%s' %s", path, what);
}

/* What a string outside the model may hold: anything but invalid UTF-8. */
static const ms_field any_text = { NULL, NULL, NULL, 0, MS_F_STR, MS_TX_ANY, 0, 0 };
/* Glue's NameString, for names given beside a document. */
static const ms_field name_text = { NULL, NULL, NULL, 0, MS_F_STR, MS_TX_LINE, 1, MS_NAME_MAX };
/* Glue's KeyString and ParametersMapValue. */
static const ms_field param_key = { NULL, NULL, NULL, 0, MS_F_STR, MS_TX_LINE, 1, MS_PARAM_KEY_MAX };
static const ms_field param_value = { NULL,     NULL,      NULL, 0,
				      MS_F_STR, MS_TX_ANY, 0,    MS_PARAM_VALUE_MAX };

/* What of the MS_U8_* bits a string may hold under Glue's pattern `text`. */
static unsigned refused_bits(unsigned text)
{
	switch (text) {
	case MS_TX_LINE:
		return MS_U8_CTRL | MS_U8_NEWLINE | MS_U8_NONCHAR;
	case MS_TX_TEXT:
		return MS_U8_CTRL | MS_U8_NONCHAR;
	default:
		return 0;
	}
}

/*
 * NULL when s meets rule's constraints (UTF-8 always; characters, least
 * and most length), else what is wrong ("is empty", ...), in buf (n bytes)
 * or static.  *too_long is set when that is the length.
 */
static const char *text_problem(const char *s, const ms_field *rule, char *buf, size_t n,
				int *too_long)
{
	size_t len = strlen(s), chars;
	unsigned bits;

	*too_long = 0;
	if (ms_model_utf8_scan(s, len, &chars, &bits) < 0)
		return "is not valid utf-8";
	if (rule->min > 0 && !len)
		return "is empty";
	if ((int64_t)chars < rule->min) {
		snprintf(buf, n, "is shorter than %lld characters", (long long)rule->min);
		return buf;
	}
	if (rule->max && (int64_t)chars > rule->max) {
		*too_long = 1;
		snprintf(buf, n, "is longer than %lld characters", (long long)rule->max);
		return buf;
	}
	bits &= refused_bits(rule->text);
	if (bits & (MS_U8_CTRL | MS_U8_NEWLINE))
		return "holds a control character";
	if (bits)
		return "holds the character U+FFFE or U+FFFF";
	return NULL;
}

/*
 * Check a string against rule.  `subject` names the entity's own name in
 * messages ("table name"); otherwise p does.
 */
static int check_text(ms_conv *c, const char *s, const ms_field *rule, const char *subject,
		      const ms_path *p)
{
	char buf[64], ex[160];
	const char *what;
	int too_long;

	if (!(what = text_problem(s, rule, buf, sizeof(buf), &too_long)))
		return 0;
	if (subject && too_long) {
		excerpt(s, ex, sizeof(ex));
		return ms_error_set(c->err, MS_EINVAL, "%s '%s' %s", subject, ex, what);
	}
	return text_error(c, subject, p, what);
}

int ms_model_check_name(ms_conv *c, const char *name, const char *subject)
{
	return check_text(c, name, &name_text, subject, NULL);
}

void ms_model_fold(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + ('a' - 'A'));
}

cJSON *ms_model_get(const cJSON *obj, const char *key)
{
	cJSON *c;

	for (c = obj ? obj->child : NULL; c; c = c->next)
		if (c->string && !strcmp(c->string, key))
			return c;
	return NULL;
}

void ms_model_set_static_key(cJSON *item, const char *key)
{
	if (item->string == key)
		return;
	if (!(item->type & cJSON_StringIsConst))
		cJSON_free(item->string);
	item->string = (char *)key;
	item->type |= cJSON_StringIsConst;
}

/* Make item's string writable (a reference is copied first). */
static int own_string(cJSON *item)
{
	char *copy;
	size_t n;

	if (!(item->type & cJSON_IsReference))
		return 0;
	n = strlen(item->valuestring) + 1;
	if (!(copy = cJSON_malloc(n)))
		return MS_ENOMEM;
	memcpy(copy, item->valuestring, n);
	item->valuestring = copy;
	item->type &= ~cJSON_IsReference;
	return 0;
}

/* Turn item, whatever it holds, into the number x in place. */
static void set_number(cJSON *item, double x)
{
	if (!(item->type & cJSON_IsReference)) {
		if (ms_j_str(item) || cJSON_IsRaw(item))
			cJSON_free(item->valuestring);
		if (item->child)
			cJSON_Delete(item->child);
	}
	item->child = NULL;
	item->valuestring = NULL;
	item->type = cJSON_Number | (item->type & cJSON_StringIsConst);
	item->valuedouble = x;
	if (x >= INT_MAX)
		item->valueint = INT_MAX;
	else if (x <= (double)INT_MIN)
		item->valueint = INT_MIN;
	else
		item->valueint = (int)x;
}

static int check_string_item(ms_conv *c, cJSON *it, const ms_field *rule, const ms_path *p)
{
	if (!ms_j_str(it) || !it->valuestring)
		return fail(c, p, "is not a string");
	return check_text(c, it->valuestring, rule, NULL, p);
}

/* Any JSON value outside the model: only UTF-8 is checked. */
static int check_any(ms_conv *c, const cJSON *v, const ms_path *p)
{
	const cJSON *m;
	int rc, i = 0;

	if (ms_j_str(v) && v->valuestring)
		return check_text(c, v->valuestring, &any_text, NULL, p);
	if (ms_j_num(v) && !isfinite(v->valuedouble))
		return fail(c, p, "is a number out of range");
	if (ms_j_arr(v)) {
		for (m = v->child; m; m = m->next, i++) {
			ms_path sub = { p, NULL, i };

			if ((rc = check_any(c, m, &sub)) < 0)
				return rc;
		}
	} else if (ms_j_obj(v)) {
		for (m = v->child; m; m = m->next) {
			ms_path sub = { p, m->string, 0 };

			if (!m->string || !ms_utf8_valid(m->string, strlen(m->string)))
				return fail_parent(c, p, "has a key that is not valid utf-8");
			if ((rc = check_any(c, m, &sub)) < 0)
				return rc;
		}
	}
	return 0;
}

/*
 * A Glue-only structure: keys take Glue's case (first letter upper) all
 * the way down; values are checked for UTF-8 only.
 */
static int convert_generic(ms_conv *c, cJSON *v, const ms_path *p)
{
	cJSON *m;
	int rc, i = 0;

	if (ms_j_str(v) && v->valuestring)
		return check_text(c, v->valuestring, &any_text, NULL, p);
	if (ms_j_num(v) && !isfinite(v->valuedouble))
		return fail(c, p, "is a number out of range");
	if (ms_j_arr(v)) {
		for (m = v->child; m; m = m->next, i++) {
			ms_path sub = { p, NULL, i };

			if ((rc = convert_generic(c, m, &sub)) < 0)
				return rc;
		}
	} else if (ms_j_obj(v)) {
		for (m = v->child; m; m = m->next) {
			ms_path sub = { p, m->string, 0 };

			if (!m->string || !ms_utf8_valid(m->string, strlen(m->string)))
				return fail_parent(c, p, "has a key that is not valid utf-8");
			if (m->string[0] >= 'a' && m->string[0] <= 'z') {
				if (m->type & cJSON_StringIsConst) {
					size_t n = strlen(m->string) + 1;
					char *k = cJSON_malloc(n);

					if (!k)
						return ms_error_set(c->err, MS_ENOMEM,
								    "out of memory");
					memcpy(k, m->string, n);
					m->string = k;
					m->type &= ~cJSON_StringIsConst;
				}
				m->string[0] = (char)(m->string[0] - ('a' - 'A'));
			}
			if ((rc = convert_generic(c, m, &sub)) < 0)
				return rc;
		}
	}
	return 0;
}

/* A string -> string map; `params` applies Glue's parameter limits. */
static int check_map(ms_conv *c, cJSON *v, int params, const ms_path *p)
{
	char path[PATH_MAX_TEXT], ex[160], buf[64];
	const char *what;
	cJSON *m;
	int rc, too_long;

	if (!ms_j_obj(v))
		return fail(c, p, "is not an object");
	for (m = v->child; m; m = m->next) {
		ms_path sub = { p, m->string, 0 };

		if (!m->string)
			return fail(c, p, "has a member without a key");
		what = text_problem(m->string, params ? &param_key : &any_text, buf, sizeof(buf),
				    &too_long);
		if (what && !ms_utf8_valid(m->string, strlen(m->string)))
			return fail(c, p, "has a key that is not valid utf-8");
		if (what && !*m->string)
			return fail(c, p, "has an empty key");
		if (what) {
			ms_path_render(p, path, sizeof(path));
			excerpt(m->string, ex, sizeof(ex));
			return ms_error_set(c->err, MS_EINVAL, "key '%s' in field '%s' %s", ex,
					    path, what);
		}
		if ((rc = check_string_item(c, m, params ? &param_value : &any_text, &sub)) < 0)
			return rc;
	}
	return 0;
}

/* A timestamp into epoch seconds; 1 when a line's says there is none (the caller drops it). */
static int convert_time(ms_conv *c, cJSON *it, const ms_path *p)
{
	double t;
	int rc;

	if (c->from_line) {
		if ((rc = ms_time_parse(it, &t)) < 0)
			return fail(c, p, "is not a timestamp");
		if (rc == 1)
			return 1; /* no time: the member goes */
		set_number(it, t);
		return 0;
	}
	if (ms_j_num(it) && isfinite(it->valuedouble) && fabs(it->valuedouble) < 9.0e12) {
		t = ms_model_time_round(it->valuedouble);
		if (t != it->valuedouble)
			set_number(it, t);
		return 0;
	}
	if (ms_j_str(it) && it->valuestring && ms_model_time_iso(it->valuestring, &t) == 0) {
		set_number(it, t);
		return 0;
	}
	return fail(c, p, "is not a timestamp");
}

/* An integral number in f's range; the message says the range. */
static int check_int(ms_conv *c, const cJSON *it, const ms_field *f, const ms_path *p)
{
	char what[96];
	double x;

	if (!ms_j_num(it))
		return fail(c, p, "is not an integer");
	x = it->valuedouble;
	if (x != trunc(x) || x < INT_MIN || x > INT_MAX)
		return fail(c, p, "is not an integer");
	if (x >= (double)f->min && x <= (double)f->max)
		return 0;
	if (f->min == 0 && f->max == 1)
		return fail(c, p, "must be 0 or 1");
	if (f->min == 0 && f->max == INT32_MAX)
		return fail(c, p, "must not be negative");
	snprintf(what, sizeof(what), "must be between %lld and %lld", (long long)f->min,
		 (long long)f->max);
	return fail(c, p, what);
}

/* An array whose elements are all objects of schema sub, each converted. */
static int convert_objlist(ms_conv *c, cJSON *it, const ms_schema *sub, const ms_path *p)
{
	cJSON *m;
	int rc, i = 0;

	if (!ms_j_arr(it))
		return fail(c, p, "is not an array");
	for (m = it->child; m; m = m->next, i++) {
		ms_path at = { p, NULL, i };

		if (!ms_j_obj(m))
			return fail(c, &at, "is not an object");
		if ((rc = ms_model_convert(c, m, sub, &at)) < 0)
			return rc;
	}
	return 0;
}

static int convert_field(ms_conv *c, cJSON *it, const ms_schema *s, const ms_field *f,
			 const ms_path *p)
{
	cJSON *m;
	int rc, i = 0;

	switch (f->type) {
	case MS_F_STR:
		if (!ms_j_str(it) || !it->valuestring)
			return fail(c, p, "is not a string");
		if ((rc = check_text(c, it->valuestring, f,
				     f->flags & MS_FF_ENTNAME ? s->name_subject : NULL, p)) < 0)
			return rc;
		if (f->flags & MS_FF_FOLD) {
			if ((rc = own_string(it)) < 0)
				return ms_error_set(c->err, rc, "out of memory");
			ms_model_fold(it->valuestring);
		}
		return 0;
	case MS_F_INT:
		return check_int(c, it, f, p);
	case MS_F_BOOL:
		if (!ms_j_bool(it))
			return fail(c, p, "is not a boolean");
		return 0;
	case MS_F_TIME:
		return convert_time(c, it, p);
	case MS_F_PARAMS:
	case MS_F_MAP:
		if ((rc = check_map(c, it, f->type == MS_F_PARAMS, p)) < 0)
			return rc;
		/* the utility's skewed value-location keys, in Glue's form */
		if (c->from_line && !strcmp(f->glue, "SkewedColumnValueLocationMaps") &&
		    ms_model_skew_keys(it) < 0)
			return ms_error_set(c->err, MS_ENOMEM, "out of memory");
		return 0;
	case MS_F_STRLIST:
		if (!ms_j_arr(it))
			return fail(c, p, "is not an array");
		for (m = it->child; m; m = m->next, i++) {
			ms_path sub = { p, NULL, i };

			if ((rc = check_string_item(c, m, f, &sub)) < 0)
				return rc;
		}
		return 0;
	case MS_F_OBJ:
		if (!ms_j_obj(it))
			return fail(c, p, "is not an object");
		return ms_model_convert(c, it, f->sub, p);
	case MS_F_OBJLIST:
		return convert_objlist(c, it, f->sub, p);
	case MS_F_GOBJ:
		if (!ms_j_obj(it))
			return fail(c, p, "is not an object");
		if ((rc = convert_generic(c, it, p)) < 0)
			return rc;
		return f->sub ? ms_model_convert(c, it, f->sub, p) : 0;
	case MS_F_GARR:
		if (!ms_j_arr(it))
			return fail(c, p, "is not an array");
		return convert_generic(c, it, p);
	default:
		return check_any(c, it, p);
	}
}

int ms_model_convert(ms_conv *c, cJSON *obj, const ms_schema *s, const ms_path *p)
{
	uint64_t seen = 0;
	cJSON *it, *next;
	unsigned i;
	int rc;

	for (it = obj->child; it; it = next) {
		const ms_field *f;
		ms_path sub = { p, it->string, 0 };
		int line_spelling, idx;

		next = it->next;
		if (!it->string)
			return fail_parent(c, p, "has a member without a key");
		if (ms_j_null(it)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
			continue;
		}
		if (!(f = ms_schema_find(s, it->string, &line_spelling))) {
			if (!ms_utf8_valid(it->string, strlen(it->string)))
				return fail_parent(c, p, "has a key that is not valid utf-8");
			if ((rc = check_any(c, it, &sub)) < 0)
				return rc;
			continue;
		}
		idx = ms_schema_index(s, f);
		if (seen & ((uint64_t)1 << idx))
			return fail(c, &sub, "appears twice");
		seen |= (uint64_t)1 << idx;
		if ((rc = convert_field(c, it, s, f, &sub)) < 0)
			return rc;
		if (rc == 1 && f->type == MS_F_TIME) {
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
			continue;
		}
		if (line_spelling && strcmp(f->line, f->glue))
			ms_model_set_static_key(it, f->glue);
	}
	if ((seen & s->required) != s->required) {
		for (i = 0; i < s->nfields; i++) {
			if ((s->required >> i) & 1 && !((seen >> i) & 1)) {
				ms_path sub = {
					p, c->from_line ? s->fields[i].line : s->fields[i].glue, 0
				};

				return fail(c, &sub, "is missing");
			}
		}
	}
	return 0;
}

/*
 * Glue's *Input shapes: every member of obj must be a member of s's shape
 * (spelled as Glue spells it) that the input has; objects described by the
 * field tables are walked in turn, Glue-only structures and maps pass
 * whole.  `shape` names obj's shape in messages.
 */
static int input_members(ms_conv *c, const cJSON *obj, const ms_schema *s, const char *shape,
			 const ms_path *p)
{
	const cJSON *it, *m;
	char what[96];
	int rc, i;

	for (it = obj->child; it; it = it->next) {
		ms_path sub = { p, it->string, 0 };
		const ms_field *f;
		int line_spelling = 0;

		if (!it->string)
			return fail_parent(c, p, "has a member without a key");
		f = ms_schema_find(s, it->string, &line_spelling);
		if (!f || line_spelling || (f->flags & MS_FF_OUTPUT)) {
			snprintf(what, sizeof(what), "is not a member of %s", shape);
			return fail(c, &sub, what);
		}
		if (f->type == MS_F_OBJ && ms_j_obj(it) &&
		    (rc = input_members(c, it, f->sub, f->sub->shape, &sub)) < 0)
			return rc;
		if (f->type != MS_F_OBJLIST || !ms_j_arr(it))
			continue;
		for (m = it->child, i = 0; m; m = m->next, i++) {
			ms_path at = { &sub, NULL, i };

			if (ms_j_obj(m) &&
			    (rc = input_members(c, m, f->sub, f->sub->shape, &at)) < 0)
				return rc;
		}
	}
	return 0;
}

int ms_entity_from_glue_input(ms_entity **out, ms_kind kind, cJSON *input, const char *database,
			      const char *table, ms_error *err)
{
	static const char *const shapes[] = { NULL, "DatabaseInput", "TableInput",
					      "PartitionInput" };
	const ms_schema *schema = ms_schema_for(kind);
	ms_conv c = { 0, err };
	int rc;

	*out = NULL;
	if (!schema)
		rc = ms_error_set(err, MS_EINVAL, "unknown entity kind %d", (int)kind);
	else if (!ms_j_obj(input))
		rc = ms_error_set(err, MS_EINVAL, "%s is not a JSON object", shapes[kind]);
	else
		rc = 0;
	if (rc == 0) {
		ms_model_init();
		rc = input_members(&c, input, schema, shapes[kind], NULL);
	}
	if (rc < 0) {
		cJSON_Delete(input);
		return rc;
	}
	/* then all the model checks, to the content hash (a key twice in one object) */
	return ms_entity_from_glue(out, kind, input, database, table, err);
}

int ms_glue_input_check(ms_kind kind, const cJSON *input, ms_error *err)
{
	ms_entity *e = NULL;
	cJSON *copy = cJSON_Duplicate(input, 1);
	int rc;

	if (!copy && input)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	/* the input's names are not its own: a TableInput names no database */
	rc = ms_entity_from_glue_input(&e, kind, copy, "input", "input", err);
	ms_entity_free(e);
	return rc;
}
