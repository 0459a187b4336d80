/*
 * The snapshot line straight from stored text.  The embedded catalog keeps
 * every entity as canonical Glue JSON; an export that changes nothing only
 * needs to rename known keys and turn timestamps into epoch-millisecond
 * strings, so building a cJSON tree per partition just to walk it once is
 * most of the cost.  This transcoder walks the text once and writes what
 * codec_line.c's line_object would write from the parsed tree, byte for
 * byte.  It accepts only what it can reproduce exactly (escapes in the
 * minimal form the canonical printer writes, numbers in JSON's grammar,
 * bounded nesting) and otherwise gives up, so that the caller can parse
 * the text and take the tree path: correctness first.
 */
#include "model_internal.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>

#define RAW_DEPTH_MAX 128
#define RAW_NUMBER_MAX 63 /* cJSON reads at most this many characters of a number */

typedef struct rx {
	const char *p, *end;
	ms_sink *s;
	int depth;
} rx;

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when one of the 8 bytes in w is '"', '\\' or below 0x20. */
static inline uint64_t word_stops(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGHS;
}

static inline void ws(rx *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\n' || *x->p == '\r' || *x->p == '\t'))
		x->p++;
}

static inline int at(const rx *x, char c)
{
	return x->p < x->end && *x->p == c;
}

/*
 * A string at x->p (the opening quote).  Only escapes that the canonical
 * printer (ms_sink_str) writes are accepted, so that the text between the
 * quotes is exactly what printing the decoded string gives.  *declen is the
 * decoded length; *escaped is set when the string holds an escape.
 */
static int scan_string(rx *x, size_t *declen, int *escaped)
{
	const unsigned char *p = (const unsigned char *)x->p + 1;
	const unsigned char *end = (const unsigned char *)x->end;
	size_t dec = 0;
	int esc = 0;

	for (;;) {
		unsigned v;

		while (end - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if (word_stops(w))
				break;
			p += 8;
			dec += 8;
		}
		if (p >= end)
			return -1;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return -1;
		if (*p != '\\') {
			p++;
			dec++;
			continue;
		}
		if (end - p < 2)
			return -1;
		switch (p[1]) {
		case '"':
		case '\\':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			p += 2;
			break;
		case 'u':
			/* \u00XX, lowercase hex, only for controls without a short escape */
			if (end - p < 6 || p[2] != '0' || p[3] != '0' ||
			    (p[4] != '0' && p[4] != '1'))
				return -1;
			if (p[5] >= '0' && p[5] <= '9')
				v = (unsigned)(p[5] - '0');
			else if (p[5] >= 'a' && p[5] <= 'f')
				v = (unsigned)(p[5] - 'a' + 10);
			else
				return -1;
			v += 16u * (unsigned)(p[4] - '0');
			if (v == 0 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
				return -1;
			p += 6;
			break;
		default:
			return -1;
		}
		dec++;
		esc = 1;
	}
	x->p = (const char *)p + 1;
	*declen = dec;
	*escaped = esc;
	return 0;
}

static inline int is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/*
 * A number in JSON's grammar at x->p, read as cJSON reads it (strtod of
 * its text), into *v.
 */
static int scan_number(rx *x, double *v)
{
	const char *p = x->p, *end = x->end;
	unsigned long long u = 0;
	int neg = 0, simple = 1, digits = 0;
	char buf[RAW_NUMBER_MAX + 1];
	size_t len;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (!is_digit(p, end))
		return -1;
	if (*p == '0') {
		p++;
		digits = 1;
	} else {
		for (; is_digit(p, end); p++, digits++)
			u = u * 10 + (unsigned)(*p - '0');
	}
	if (p < end && *p == '.') {
		simple = 0;
		if (!is_digit(++p, end))
			return -1;
		while (is_digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		simple = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return -1;
		while (is_digit(p, end))
			p++;
	}
	len = (size_t)(p - x->p);
	if (len > RAW_NUMBER_MAX)
		return -1;
	if (simple && digits <= 15) {
		*v = neg ? -(double)u : (double)u;
	} else {
		/* cJSON reads '.' as the locale's decimal point; elsewhere it differs */
		if (!simple) {
			const struct lconv *lc = localeconv();

			if (!lc || !lc->decimal_point || strcmp(lc->decimal_point, "."))
				return -1;
		}
		memcpy(buf, x->p, len);
		buf[len] = '\0';
		*v = strtod(buf, NULL);
	}
	x->p = p;
	return 0;
}

static int literal(rx *x, const char *lit, size_t n, int emit)
{
	if ((size_t)(x->end - x->p) < n || memcmp(x->p, lit, n))
		return -1;
	if (emit)
		ms_sink_put(x->s, lit, n);
	x->p += n;
	return 0;
}

/*
 * Any value, as ms_sink_value (lower == 0) or codec_line.c's line_generic
 * (lower != 0: object keys get their first letter lowered) prints it; with
 * emit == 0 it is only checked and skipped.
 */
static int value(rx *x, int lower, int emit)
{
	const char *start;
	size_t declen;
	int esc;
	double v;

	ws(x);
	if (x->p >= x->end)
		return -1;
	switch (*x->p) {
	case '{':
		if (++x->depth > RAW_DEPTH_MAX)
			return -1;
		x->p++;
		if (emit)
			ms_sink_putc(x->s, '{');
		ws(x);
		if (at(x, '}')) {
			x->p++;
		} else {
			for (;;) {
				ws(x);
				if (!at(x, '"'))
					return -1;
				start = x->p;
				if (scan_string(x, &declen, &esc) < 0)
					return -1;
				if (emit) {
					if (lower && start[1] >= 'A' && start[1] <= 'Z' &&
					    declen < 256) {
						ms_sink_putc(x->s, '"');
						ms_sink_putc(x->s, (char)(start[1] + ('a' - 'A')));
						ms_sink_put(x->s, start + 2,
							    (size_t)(x->p - start - 2));
					} else {
						ms_sink_put(x->s, start, (size_t)(x->p - start));
					}
				}
				ws(x);
				if (!at(x, ':'))
					return -1;
				x->p++;
				if (emit)
					ms_sink_putc(x->s, ':');
				if (value(x, lower, emit) < 0)
					return -1;
				ws(x);
				if (at(x, '}')) {
					x->p++;
					break;
				}
				if (!at(x, ','))
					return -1;
				x->p++;
				if (emit)
					ms_sink_putc(x->s, ',');
			}
		}
		if (emit)
			ms_sink_putc(x->s, '}');
		x->depth--;
		return 0;
	case '[':
		if (++x->depth > RAW_DEPTH_MAX)
			return -1;
		x->p++;
		if (emit)
			ms_sink_putc(x->s, '[');
		ws(x);
		if (at(x, ']')) {
			x->p++;
		} else {
			for (;;) {
				if (value(x, lower, emit) < 0)
					return -1;
				ws(x);
				if (at(x, ']')) {
					x->p++;
					break;
				}
				if (!at(x, ','))
					return -1;
				x->p++;
				if (emit)
					ms_sink_putc(x->s, ',');
			}
		}
		if (emit)
			ms_sink_putc(x->s, ']');
		x->depth--;
		return 0;
	case '"':
		start = x->p;
		if (scan_string(x, &declen, &esc) < 0)
			return -1;
		if (emit)
			ms_sink_put(x->s, start, (size_t)(x->p - start));
		return 0;
	case 't':
		return literal(x, "true", 4, emit);
	case 'f':
		return literal(x, "false", 5, emit);
	case 'n':
		return literal(x, "null", 4, emit);
	default:
		if (scan_number(x, &v) < 0)
			return -1;
		if (emit)
			ms_sink_num(x->s, v);
		return 0;
	}
}

static int fields(rx *x, const ms_schema *sch, int skip_identity, int first);

/* A known field's value, as codec_line.c's line_field prints it. */
static int field(rx *x, const ms_field *f)
{
	double v, ms;

	ws(x);
	if (x->p >= x->end)
		return -1;
	switch (f->type) {
	case MS_F_TIME:
		if (*x->p != '-' && !(*x->p >= '0' && *x->p <= '9'))
			break;
		if (scan_number(x, &v) < 0)
			return -1;
		if (!isfinite(v) || fabs(v) > 9.0e12) {
			ms_sink_num(x->s, v);
			return 0;
		}
		ms = round(v * 1000.0);
		ms_sink_putc(x->s, '"');
		ms_sink_int(x->s, (long long)ms);
		ms_sink_putc(x->s, '"');
		return 0;
	case MS_F_OBJ:
		if (*x->p != '{')
			break;
		ms_sink_putc(x->s, '{');
		if (fields(x, f->sub, 0, 1) < 0)
			return -1;
		ms_sink_putc(x->s, '}');
		return 0;
	case MS_F_OBJLIST:
		if (*x->p != '[')
			break;
		if (++x->depth > RAW_DEPTH_MAX)
			return -1;
		x->p++;
		ms_sink_putc(x->s, '[');
		ws(x);
		if (at(x, ']')) {
			x->p++;
		} else {
			for (;;) {
				ws(x);
				if (at(x, '{')) {
					ms_sink_putc(x->s, '{');
					if (fields(x, f->sub, 0, 1) < 0)
						return -1;
					ms_sink_putc(x->s, '}');
				} else if (value(x, 0, 1) < 0) {
					return -1;
				}
				ws(x);
				if (at(x, ']')) {
					x->p++;
					break;
				}
				if (!at(x, ','))
					return -1;
				x->p++;
				ms_sink_putc(x->s, ',');
			}
		}
		ms_sink_putc(x->s, ']');
		x->depth--;
		return 0;
	case MS_F_GOBJ:
	case MS_F_GARR:
		return value(x, 1, 1);
	default:
		break;
	}
	return value(x, 0, 1);
}

/*
 * The members of the object at x->p, known ones in the snapshot spelling,
 * null members left out, as codec_line.c's line_object.
 */
static int fields(rx *x, const ms_schema *sch, int skip_identity, int first)
{
	if (++x->depth > RAW_DEPTH_MAX)
		return -1;
	x->p++;
	ws(x);
	if (at(x, '}')) {
		x->p++;
		x->depth--;
		return 0;
	}
	for (;;) {
		const ms_field *f = NULL;
		const char *key;
		size_t declen, klen;
		int esc, ls;

		ws(x);
		if (!at(x, '"'))
			return -1;
		key = x->p;
		if (scan_string(x, &declen, &esc) < 0)
			return -1;
		klen = (size_t)(x->p - key);
		ws(x);
		if (!at(x, ':'))
			return -1;
		x->p++;
		ws(x);
		if ((size_t)(x->end - x->p) >= 4 && !memcmp(x->p, "null", 4)) {
			x->p += 4;
			goto next;
		}
		/* an escaped key decodes to bytes no field name holds */
		if (!esc)
			f = ms_schema_find_n(sch, key + 1, klen - 2, &ls);
		if (f && skip_identity &&
		    (!strcmp(f->glue, "DatabaseName") || !strcmp(f->glue, "TableName"))) {
			if (value(x, 0, 0) < 0)
				return -1;
			goto next;
		}
		if (!first)
			ms_sink_putc(x->s, ',');
		first = 0;
		if (f)
			ms_sink_str(x->s, f->line);
		else
			ms_sink_put(x->s, key, klen);
		ms_sink_putc(x->s, ':');
		if ((f ? field(x, f) : value(x, 0, 1)) < 0)
			return -1;
	next:
		ws(x);
		if (at(x, '}')) {
			x->p++;
			break;
		}
		if (!at(x, ','))
			return -1;
		x->p++;
	}
	x->depth--;
	return 0;
}

int ms_model_line_raw(ms_sink *s, const char *text, size_t len, const ms_schema *sch,
		      int skip_identity, int first)
{
	rx x;

	x.p = text;
	x.end = text + len;
	x.s = s;
	x.depth = 0;
	ws(&x);
	if (!at(&x, '{') || fields(&x, sch, skip_identity, first) < 0)
		return MS_RAW_BAIL;
	ws(&x);
	return x.p == x.end ? 0 : MS_RAW_BAIL;
}
