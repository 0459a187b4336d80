/*
 * JSON output for the model: canonical JSON (what the content hash covers
 * and what the embedded catalog stores), Glue-shape JSON (the same text,
 * optionally indented), and the compact primitives the snapshot writer
 * uses.  cJSON's printer is not used: it neither sorts keys nor prints
 * numbers in one stable form, and it allocates as it goes.  Output goes
 * through an ms_sink so that hashing needs no buffer at all.
 */
#include "model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void ms_sink_init_buf(ms_sink *s, ms_buf *out)
{
	s->len = 0;
	s->out = out;
	s->md = NULL;
	s->error = 0;
	s->dupkey = NULL;
}

void ms_sink_init_md(ms_sink *s, EVP_MD_CTX *md)
{
	s->len = 0;
	s->out = NULL;
	s->md = md;
	s->error = 0;
	s->dupkey = NULL;
}

static void sink_emit(ms_sink *s, const char *p, size_t n)
{
	int rc;

	if (s->error || !n)
		return;
	if (s->out) {
		if ((rc = ms_buf_add(s->out, p, n)) < 0)
			s->error = rc;
	} else if (s->md) {
		if (EVP_DigestUpdate(s->md, p, n) != 1)
			s->error = MS_ERROR;
	}
}

int ms_sink_flush(ms_sink *s)
{
	sink_emit(s, s->buf, s->len);
	s->len = 0;
	return s->error;
}

void ms_sink_put_slow(ms_sink *s, const char *p, size_t n)
{
	ms_sink_flush(s);
	if (n <= MS_SINK_SIZE) {
		memcpy(s->buf, p, n);
		s->len = n;
	} else {
		sink_emit(s, p, n);
	}
}

/* 1 for bytes a JSON string cannot hold raw (and for the terminating NUL). */
static const unsigned char needs_escape[256] = { 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,         1, 1,
						 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,         1, 1,
						 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1 };

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when one of the 8 bytes in w is '"', '\\' or below 0x20. */
static inline uint64_t word_needs_escape(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGHS;
}

static inline void escape_byte(ms_sink *s, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6];

	switch (c) {
	case '"':
		ms_sink_lit(s, "\\\"");
		break;
	case '\\':
		ms_sink_lit(s, "\\\\");
		break;
	case '\b':
		ms_sink_lit(s, "\\b");
		break;
	case '\f':
		ms_sink_lit(s, "\\f");
		break;
	case '\n':
		ms_sink_lit(s, "\\n");
		break;
	case '\r':
		ms_sink_lit(s, "\\r");
		break;
	case '\t':
		ms_sink_lit(s, "\\t");
		break;
	default:
		memcpy(esc, "\\u00", 4);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		ms_sink_put(s, esc, 6);
	}
}

void ms_sink_str(ms_sink *s, const char *str)
{
	const unsigned char *p = (const unsigned char *)(str ? str : ""), *run = p, *end;
	size_t k;

	end = p + strlen((const char *)p);
	ms_sink_putc(s, '"');
	while (p < end) {
		size_t n = (size_t)(end - p) < 8 ? (size_t)(end - p) : 8;

		if (n == 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if (!word_needs_escape(w)) {
				p += 8;
				continue;
			}
		}
		for (k = 0; k < n; k++, p++) {
			if (!needs_escape[*p])
				continue;
			ms_sink_put(s, (const char *)run, (size_t)(p - run));
			escape_byte(s, *p);
			run = p + 1;
		}
	}
	ms_sink_put(s, (const char *)run, (size_t)(p - run));
	ms_sink_putc(s, '"');
}

void ms_sink_int(ms_sink *s, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	ms_sink_put(s, p, (size_t)(tmp + sizeof(tmp) - p));
}

void ms_sink_num(ms_sink *s, double x)
{
	char tmp[40];
	int prec, n = 0, i;

	if (!isfinite(x)) {
		ms_sink_lit(s, "null");
		return;
	}
	if (x == trunc(x) && fabs(x) < 9007199254740992.0) {
		ms_sink_int(s, (long long)x);
		return;
	}
	/* The shortest of %.15g, %.16g, %.17g that reads back as x. */
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, x);
		if (prec == 17 || strtod(tmp, NULL) == x)
			break;
	}
	for (i = 0; i < n; i++)
		if (tmp[i] == ',')
			tmp[i] = '.'; /* a caller's LC_NUMERIC must not leak in */
	ms_sink_put(s, tmp, (size_t)n);
}

static void scalar(ms_sink *s, const cJSON *v)
{
	switch (v->type & 0xFF) {
	case cJSON_False:
		ms_sink_lit(s, "false");
		break;
	case cJSON_True:
		ms_sink_lit(s, "true");
		break;
	case cJSON_Number:
		ms_sink_num(s, v->valuedouble);
		break;
	case cJSON_String:
		ms_sink_str(s, v->valuestring);
		break;
	case cJSON_Raw:
		if (v->valuestring)
			ms_sink_put(s, v->valuestring, strlen(v->valuestring));
		else
			ms_sink_lit(s, "null");
		break;
	default:
		ms_sink_lit(s, "null");
		break;
	}
}

void ms_sink_value_keyed(ms_sink *s, const cJSON *v, void (*key)(ms_sink *s, const char *k))
{
	const cJSON *c;

	if (ms_j_obj(v)) {
		ms_sink_putc(s, '{');
		for (c = v->child; c; c = c->next) {
			if (c != v->child)
				ms_sink_putc(s, ',');
			key(s, c->string);
			ms_sink_putc(s, ':');
			ms_sink_value_keyed(s, c, key);
		}
		ms_sink_putc(s, '}');
	} else if (ms_j_arr(v)) {
		ms_sink_putc(s, '[');
		for (c = v->child; c; c = c->next) {
			if (c != v->child)
				ms_sink_putc(s, ',');
			ms_sink_value_keyed(s, c, key);
		}
		ms_sink_putc(s, ']');
	} else {
		scalar(s, v);
	}
}

void ms_sink_value(ms_sink *s, const cJSON *v)
{
	ms_sink_value_keyed(s, v, ms_sink_str);
}

/* Top-level fields the target catalog assigns itself. */
static int assigned_by_target(const char *k)
{
	switch (k[0]) {
	case 'C':
		return !strcmp(k, "CreateTime") || !strcmp(k, "CreationTime") ||
		       !strcmp(k, "CatalogId") || !strcmp(k, "CreatedBy");
	case 'D':
		return !strcmp(k, "DatabaseName");
	case 'I':
		return !strcmp(k, "IsRegisteredWithLakeFormation");
	case 'T':
		return !strcmp(k, "TableName");
	case 'U':
		return !strcmp(k, "UpdateTime");
	case 'V':
		return !strcmp(k, "VersionId");
	default:
		return 0;
	}
}

static int is_marker(const char *k)
{
	return !strncmp(k, MS_MARKER_PREFIX, sizeof(MS_MARKER_PREFIX) - 1);
}

static const char *key_of(const cJSON *c)
{
	return c->string ? c->string : "";
}

static inline int key_cmp(const char *a, const char *b)
{
	if (a[0] != b[0])
		return (unsigned char)a[0] - (unsigned char)b[0];
	return strcmp(a, b);
}

static int cmp_members(const void *a, const void *b)
{
	return key_cmp(key_of(*(const cJSON *const *)a), key_of(*(const cJSON *const *)b));
}

void ms_sink_sort_members(const cJSON **m, size_t n)
{
	size_t i, j;

	if (n > 24) {
		qsort(m, n, sizeof(*m), cmp_members);
		return;
	}
	for (i = 1; i < n; i++) {
		const cJSON *x = m[i];
		const char *k = key_of(x);

		for (j = i; j > 0 && key_cmp(key_of(m[j - 1]), k) > 0; j--)
			m[j] = m[j - 1];
		m[j] = x;
	}
}

static void indent(ms_sink *s, int depth)
{
	static const char spaces[] = "                                ";
	size_t n = 2 * (size_t)depth;

	ms_sink_putc(s, '\n');
	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		ms_sink_put(s, spaces, k);
		n -= k;
	}
}

/* What sorted() leaves out. */
enum {
	SKIP_ASSIGNED = 1, /* fields the target assigns itself (top level) */
	SKIP_MARKERS = 2,  /* metasync.* keys (the top-level Parameters) */
	SKIP_VACUOUS = 4   /* members that hold nothing, at every depth */
};

/*
 * An empty object or array, or an object whose members are all vacuous: the
 * same as absent for every catalog (a Hive Metastore, for one, gives back no
 * SkewedInfo for a table stored with an empty one), so the content hash
 * treats them as absent.
 */
static int vacuous(const cJSON *v, int skip_markers)
{
	const cJSON *c;

	if (ms_j_arr(v))
		return v->child == NULL;
	if (!ms_j_obj(v))
		return 0;
	for (c = v->child; c; c = c->next)
		if (!(skip_markers && c->string && is_marker(c->string)) && !vacuous(c, 0))
			return 0;
	return 1;
}

static void sorted(ms_sink *s, const cJSON *v, int filter, int pretty, int depth)
{
	int deep = filter & SKIP_VACUOUS;

	const cJSON *stack[32], **m = stack, *c;
	size_t n = 0, cap = 0, i;

	if (ms_j_arr(v)) {
		ms_sink_putc(s, '[');
		for (c = v->child; c; c = c->next) {
			if (c != v->child)
				ms_sink_putc(s, ',');
			if (pretty)
				indent(s, depth + 1);
			sorted(s, c, deep, pretty, depth + 1);
		}
		if (pretty && v->child)
			indent(s, depth);
		ms_sink_putc(s, ']');
		return;
	}
	if (!ms_j_obj(v)) {
		scalar(s, v);
		return;
	}
	for (c = v->child; c; c = c->next)
		cap++;
	if (cap > sizeof(stack) / sizeof(stack[0])) {
		if (!(m = malloc(cap * sizeof(*m)))) {
			if (!s->error)
				s->error = MS_ENOMEM;
			return;
		}
	}
	for (c = v->child; c; c = c->next) {
		if ((filter & SKIP_ASSIGNED) && c->string && assigned_by_target(c->string))
			continue;
		if ((filter & SKIP_MARKERS) && c->string && is_marker(c->string))
			continue;
		if (deep &&
		    vacuous(c, (filter & SKIP_ASSIGNED) && !strcmp(key_of(c), "Parameters")))
			continue;
		m[n++] = c;
	}
	ms_sink_sort_members(m, n);
	ms_sink_putc(s, '{');
	for (i = 0; i < n; i++) {
		c = m[i];
		if (i) {
			ms_sink_putc(s, ',');
			if (!key_cmp(key_of(m[i - 1]), key_of(c)) && !s->error) {
				s->error = MS_EINVAL;
				s->dupkey = key_of(c);
			}
		}
		if (pretty)
			indent(s, depth + 1);
		ms_sink_str(s, c->string);
		if (pretty)
			ms_sink_lit(s, ": ");
		else
			ms_sink_putc(s, ':');
		sorted(s, c,
		       deep | ((filter & SKIP_ASSIGNED) && !strcmp(key_of(c), "Parameters")
				       ? SKIP_MARKERS
				       : 0),
		       pretty, depth + 1);
	}
	if (pretty && n)
		indent(s, depth);
	ms_sink_putc(s, '}');
	if (m != stack)
		free(m);
}

void ms_sink_sorted(ms_sink *s, const cJSON *v, int writable, int pretty)
{
	sorted(s, v, writable ? SKIP_ASSIGNED | SKIP_VACUOUS : 0, pretty, 0);
}

int ms_canonical_json(const cJSON *doc, int writable, struct ms_buf *out)
{
	ms_sink s;
	size_t start;
	int rc;

	if (!doc || !out)
		return MS_EINVAL;
	start = out->len;
	ms_sink_init_buf(&s, out);
	ms_sink_sorted(&s, doc, writable, 0);
	if ((rc = ms_sink_flush(&s)) < 0 && out->ptr) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return rc;
}

char *ms_model_vkey(const cJSON *values)
{
	ms_buf b = MS_BUF_INIT((size_t)1 << 30);
	ms_sink s;
	const cJSON *c;

	ms_sink_init_buf(&s, &b);
	ms_sink_putc(&s, '[');
	for (c = values ? values->child : NULL; c; c = c->next) {
		if (c != values->child)
			ms_sink_putc(&s, ',');
		ms_sink_str(&s, c->valuestring);
	}
	ms_sink_putc(&s, ']');
	if (ms_sink_flush(&s) < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

int ms_values_key(char **out, const char *const *values, size_t n, ms_error *err)
{
	ms_buf b = MS_BUF_INIT((size_t)1 << 30);
	ms_sink s;
	size_t i;
	int rc = 0;

	if (!out || (n && !values))
		return ms_error_set(err, MS_EINVAL, "values key needs an array of values");
	ms_sink_init_buf(&s, &b);
	ms_sink_putc(&s, '[');
	for (i = 0; i < n; i++) {
		if (!values[i]) {
			rc = ms_error_set(err, MS_EINVAL, "partition value %zu is null", i);
			goto done;
		}
		if (i)
			ms_sink_putc(&s, ',');
		ms_sink_str(&s, values[i]);
	}
	ms_sink_putc(&s, ']');
	if ((rc = ms_sink_flush(&s)) < 0) {
		ms_error_set(err, rc, "values key does not fit in memory");
		goto done;
	}
	*out = ms_buf_detach(&b);
done:
	ms_buf_free(&b);
	return rc;
}
