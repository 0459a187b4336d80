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

void ms_path_render(const ms_path *p, char *out, size_t n)
{
	const ms_path *seg[64];
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
	/* Keys come from the input: keep the message on one line. */
	for (; *out; out++)
		if ((unsigned char)*out < 0x20 || *out == 0x7f)
			*out = '?';
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

/*
 * Check a string: UTF-8, a limit of max characters (0: none) and, for
 * names, one line and at least one character.  `subject` names the
 * entity's own name in messages ("table name"); otherwise p does.
 */
static int check_text(ms_conv *c, const char *s, size_t max, int name, const char *subject,
		      const ms_path *p)
{
	char what[64], ex[160];
	size_t len = strlen(s), chars;
	int ctrl;

	if (ms_model_utf8_scan(s, len, &chars, &ctrl) < 0)
		return text_error(c, subject, p, "is not valid utf-8");
	if (name && !len)
		return text_error(c, subject, p, "is empty");
	if (max && chars > max) {
		if (subject) {
			excerpt(s, ex, sizeof(ex));
			return ms_error_set(c->err, MS_EINVAL, "%s '%s' is longer than %zu characters",
					    subject, ex, max);
		}
		snprintf(what, sizeof(what), "is longer than %zu characters", max);
		return text_error(c, NULL, p, what);
	}
	if (name && ctrl)
		return text_error(c, subject, p, "holds a control character");
	return 0;
}

int ms_model_check_name(ms_conv *c, const char *name, const char *subject)
{
	return check_text(c, name, MS_NAME_MAX, 1, subject, NULL);
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

static int check_string_item(ms_conv *c, cJSON *it, size_t max, int name, const ms_path *p)
{
	if (!ms_j_str(it) || !it->valuestring)
		return fail(c, p, "is not a string");
	return check_text(c, it->valuestring, max, name, NULL, p);
}

/* Any JSON value outside the model: only UTF-8 is checked. */
static int check_any(ms_conv *c, const cJSON *v, const ms_path *p)
{
	const cJSON *m;
	int rc, i = 0;

	if (ms_j_str(v) && v->valuestring)
		return check_text(c, v->valuestring, 0, 0, NULL, p);
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
		return check_text(c, v->valuestring, 0, 0, NULL, p);
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
						return ms_error_set(c->err, MS_ENOMEM, "out of memory");
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
	char path[PATH_MAX_TEXT], ex[160];
	cJSON *m;
	int rc;

	if (!ms_j_obj(v))
		return fail(c, p, "is not an object");
	for (m = v->child; m; m = m->next) {
		ms_path sub = { p, m->string, 0 };
		size_t len, chars;
		int ctrl;

		if (!m->string)
			return fail(c, p, "has a member without a key");
		len = strlen(m->string);
		if (ms_model_utf8_scan(m->string, len, &chars, &ctrl) < 0)
			return fail(c, p, "has a key that is not valid utf-8");
		if (params && !len)
			return fail(c, p, "has an empty key");
		if (params && chars > MS_PARAM_KEY_MAX) {
			ms_path_render(p, path, sizeof(path));
			excerpt(m->string, ex, sizeof(ex));
			return ms_error_set(c->err, MS_EINVAL,
					    "key '%s' in field '%s' is longer than %d characters", ex,
					    path, MS_PARAM_KEY_MAX);
		}
		if ((rc = check_string_item(c, m, params ? MS_PARAM_VALUE_MAX : 0, 0, &sub)) < 0)
			return rc;
	}
	return 0;
}

static int convert_time(ms_conv *c, cJSON *it, const ms_path *p)
{
	double t;

	if (c->from_line) {
		if (ms_time_parse(it, &t) < 0)
			return fail(c, p, "is not a timestamp");
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

static int convert_field(ms_conv *c, cJSON *it, const ms_schema *s, const ms_field *f,
			 const ms_path *p)
{
	cJSON *m;
	int rc, i = 0;

	switch (f->type) {
	case MS_F_NAME:
		if (!ms_j_str(it) || !it->valuestring)
			return fail(c, p, "is not a string");
		if ((rc = check_text(c, it->valuestring, f->max, 1,
				     f->flags & MS_FF_ENTNAME ? s->name_subject : NULL, p)) < 0)
			return rc;
		if (f->flags & MS_FF_FOLD) {
			if ((rc = own_string(it)) < 0)
				return ms_error_set(c->err, rc, "out of memory");
			ms_model_fold(it->valuestring);
		}
		return 0;
	case MS_F_STR:
		return check_string_item(c, it, f->max, 0, p);
	case MS_F_INT:
		if (!ms_j_num(it) || it->valuedouble != trunc(it->valuedouble) ||
		    it->valuedouble < INT_MIN || it->valuedouble > INT_MAX)
			return fail(c, p, "is not an integer");
		return 0;
	case MS_F_BOOL:
		if (!ms_j_bool(it))
			return fail(c, p, "is not a boolean");
		return 0;
	case MS_F_TIME:
		return convert_time(c, it, p);
	case MS_F_PARAMS:
	case MS_F_MAP:
		return check_map(c, it, f->type == MS_F_PARAMS, p);
	case MS_F_STRLIST:
		if (!ms_j_arr(it))
			return fail(c, p, "is not an array");
		for (m = it->child; m; m = m->next, i++) {
			ms_path sub = { p, NULL, i };

			if ((rc = check_string_item(c, m, f->max, (f->flags & MS_FF_ELEMNAME) != 0,
						    &sub)) < 0)
				return rc;
		}
		return 0;
	case MS_F_OBJ:
		if (!ms_j_obj(it))
			return fail(c, p, "is not an object");
		return ms_model_convert(c, it, f->sub, p);
	case MS_F_OBJLIST:
		if (!ms_j_arr(it))
			return fail(c, p, "is not an array");
		for (m = it->child; m; m = m->next, i++) {
			ms_path sub = { p, NULL, i };

			if (!ms_j_obj(m))
				return fail(c, &sub, "is not an object");
			if ((rc = ms_model_convert(c, m, f->sub, &sub)) < 0)
				return rc;
		}
		return 0;
	case MS_F_GOBJ:
		if (!ms_j_obj(it))
			return fail(c, p, "is not an object");
		return convert_generic(c, it, p);
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
		if (line_spelling && strcmp(f->line, f->glue))
			ms_model_set_static_key(it, f->glue);
	}
	if ((seen & s->required) != s->required) {
		for (i = 0; i < s->nfields; i++) {
			if ((s->required >> i) & 1 && !((seen >> i) & 1)) {
				ms_path sub = { p, c->from_line ? s->fields[i].line : s->fields[i].glue,
						0 };

				return fail(c, &sub, "is missing");
			}
		}
	}
	return 0;
}
