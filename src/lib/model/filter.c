/*
 * Partition filters (see metasync/filter.h for the language).  Glue's
 * GetPartitions takes a SQL-like `Expression` over the partition keys; a
 * Glue-compatible server must accept what Glue accepts, refuse what it
 * refuses with a message a client can act on, and skip the partitions Glue
 * skips.  The expression comes from the network, so it is bounded (length
 * and nesting) before anything recursive sees it, every literal is
 * converted to its key's type once at parse time, and matching a partition
 * allocates nothing.
 *
 * The parse is in two passes: a lexer turns the whole expression into a
 * token array (decoding quotes into one text buffer), then a recursive
 * descent parser builds the tree.  AND and OR nodes are n-ary, so a long
 * chain of terms is wide rather than deep and the tree is never deeper
 * than the input's nesting.
 */
#include "model_internal.h"
#include "metasync/filter.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HIVE_DEFAULT_PARTITION "__HIVE_DEFAULT_PARTITION__"
#define SHOW_MAX 40 /* bytes of a token quoted in a message */

/* ---- types and typed values ------------------------------------------- */

typedef enum ftype {
	FT_STRING = 1,
	FT_INT,
	FT_DECIMAL,
	FT_DATE,
	FT_TIMESTAMP,
	FT_UNSUPPORTED
} ftype;

typedef struct ktype {
	ftype t;
	int64_t min, max; /* FT_INT: the type's range */
} ktype;

/*
 * A value converted to its key's type.  FT_STRING and FT_DECIMAL keep text
 * (s, len; owned in literals, borrowed in values); FT_INT keeps a; FT_DATE
 * keeps a = yyyymmdd; FT_TIMESTAMP keeps a = yyyymmdd * 100000 + the second
 * of the day and b = nanoseconds.
 */
typedef struct fval {
	int64_t a, b;
	const char *s;
	size_t len;
} fval;

static int ascii_ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		char x = a[i], y = b[i];

		if (!y)
			return 0;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return b[alen] == '\0';
}

/* The filter type of a Hive type text: "varchar(10)", "DECIMAL(10, 2)". */
static ktype key_type(const char *type)
{
	static const struct {
		const char *name;
		ftype t;
		int64_t min, max;
	} names[] = {
		{ "string", FT_STRING, 0, 0 },
		{ "char", FT_STRING, 0, 0 },
		{ "varchar", FT_STRING, 0, 0 },
		{ "tinyint", FT_INT, INT8_MIN, INT8_MAX },
		{ "smallint", FT_INT, INT16_MIN, INT16_MAX },
		{ "int", FT_INT, INT32_MIN, INT32_MAX },
		{ "integer", FT_INT, INT32_MIN, INT32_MAX },
		{ "bigint", FT_INT, INT64_MIN, INT64_MAX },
		{ "long", FT_INT, INT64_MIN, INT64_MAX },
		{ "decimal", FT_DECIMAL, 0, 0 },
		{ "date", FT_DATE, 0, 0 },
		{ "timestamp", FT_TIMESTAMP, 0, 0 },
	};
	ktype k = { FT_UNSUPPORTED, 0, 0 };
	const char *p, *end;
	size_t i, n;

	if (!type)
		return (ktype){ FT_STRING, 0, 0 };
	for (p = type; *p == ' '; p++)
		;
	for (end = p; (*end >= 'a' && *end <= 'z') || (*end >= 'A' && *end <= 'Z'); end++)
		;
	n = (size_t)(end - p);
	while (*end == ' ')
		end++;
	/* a parameter list is allowed only where Hive has one */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!ascii_ieq(p, n, names[i].name))
			continue;
		if (*end == '(' && names[i].t != FT_DECIMAL && i != 1 && i != 2)
			break;
		if (*end != '\0' && *end != '(')
			break;
		k.t = names[i].t;
		k.min = names[i].min;
		k.max = names[i].max;
		break;
	}
	return k;
}

static int parse_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == len)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg) {
		if (v == (uint64_t)INT64_MAX + 1) {
			*out = INT64_MIN;
			return min == INT64_MIN ? 0 : -1;
		}
		*out = -(int64_t)v;
	} else {
		*out = (int64_t)v;
	}
	return *out < min || *out > max ? -1 : 0;
}

/* A decimal's parts: sign, integer digits without leading zeros, fraction
 * digits without trailing zeros; zero is never negative. */
typedef struct dec {
	int neg;
	const char *ip, *fp;
	size_t il, fl;
} dec;

static int parse_dec(const char *s, size_t len, dec *d)
{
	size_t i = 0, ndig = 0;

	d->neg = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		d->neg = s[i++] == '-';
	d->ip = s + i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, ndig++;
	d->il = (size_t)(s + i - d->ip);
	d->fp = s + i;
	d->fl = 0;
	if (i < len && s[i] == '.') {
		d->fp = s + ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, ndig++;
		d->fl = (size_t)(s + i - d->fp);
	}
	if (i != len || ndig == 0)
		return -1;
	while (d->il > 0 && d->ip[0] == '0')
		d->ip++, d->il--;
	while (d->fl > 0 && d->fp[d->fl - 1] == '0')
		d->fl--;
	if (d->il == 0 && d->fl == 0)
		d->neg = 0;
	return 0;
}

static int dec_cmp(const dec *x, const dec *y)
{
	size_t i, n;
	int c = 0;

	if (x->neg != y->neg)
		return x->neg ? -1 : 1;
	if (x->il != y->il) {
		c = x->il < y->il ? -1 : 1;
	} else if ((c = memcmp(x->ip, y->ip, x->il)) == 0) {
		n = x->fl > y->fl ? x->fl : y->fl;
		for (i = 0; i < n && c == 0; i++) {
			char a = i < x->fl ? x->fp[i] : '0', b = i < y->fl ? y->fp[i] : '0';

			c = (a > b) - (a < b);
		}
	}
	return x->neg ? -c : c;
}

static int fixed_digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "yyyy-MM-dd" at s (10 bytes, checked by the caller) as yyyymmdd. */
static int parse_ymd(const char *s, int64_t *out)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, leap;

	if (s[4] != '-' || s[7] != '-' || fixed_digits(s, 4, &y) || fixed_digits(s + 5, 2, &m) ||
	    fixed_digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > dm[m - 1] + (m == 2 && leap))
		return -1;
	*out = (int64_t)y * 10000 + (int64_t)m * 100 + d;
	return 0;
}

/* "yyyy-MM-dd HH:mm:ss[.f...]" (or 'T' between), up to nanoseconds. */
static int parse_timestamp(const char *s, size_t len, fval *v)
{
	int hh, mi, ss;
	size_t i;
	int64_t ns = 0, scale = 100000000;

	if (len < 19 || parse_ymd(s, &v->a) || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
	    s[16] != ':' || fixed_digits(s + 11, 2, &hh) || fixed_digits(s + 14, 2, &mi) ||
	    fixed_digits(s + 17, 2, &ss) || hh > 23 || mi > 59 || ss > 59)
		return -1;
	if (len > 19) {
		if (s[19] != '.' || len == 20 || len > 29)
			return -1;
		for (i = 20; i < len; i++, scale /= 10) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			ns += (s[i] - '0') * scale;
		}
	}
	v->a = v->a * 100000 + (int64_t)hh * 3600 + (int64_t)mi * 60 + ss;
	v->b = ns;
	return 0;
}

/* Convert text to kt; -1 when it is not a value of that type. */
static int convert(const ktype *kt, const char *s, size_t len, fval *v)
{
	dec d;

	v->a = v->b = 0;
	v->s = s;
	v->len = len;
	switch (kt->t) {
	case FT_STRING:
		return 0;
	case FT_INT:
		return parse_int(s, len, kt->min, kt->max, &v->a);
	case FT_DECIMAL:
		return parse_dec(s, len, &d);
	case FT_DATE:
		return len == 10 ? parse_ymd(s, &v->a) : -1;
	case FT_TIMESTAMP:
		return parse_timestamp(s, len, v);
	default:
		return -1;
	}
}

static int fval_cmp(ftype t, const fval *x, const fval *y)
{
	dec dx, dy;
	size_t n;
	int c;

	switch (t) {
	case FT_STRING:
		n = x->len < y->len ? x->len : y->len;
		c = memcmp(x->s, y->s, n);
		if (c)
			return c < 0 ? -1 : 1;
		return (x->len > y->len) - (x->len < y->len);
	case FT_DECIMAL:
		/* both were checked by convert */
		parse_dec(x->s, x->len, &dx);
		parse_dec(y->s, y->len, &dy);
		return dec_cmp(&dx, &dy);
	default:
		if (x->a != y->a)
			return x->a < y->a ? -1 : 1;
		return (x->b > y->b) - (x->b < y->b);
	}
}

/* Bytes in the UTF-8 character led by s[0], at most left. */
static size_t char_len(const char *s, size_t left)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

	return n < left ? n : left;
}

/* SQL LIKE: % any run, _ one character, everything else itself. */
static int like_match(const char *s, size_t slen, const char *pat, size_t plen)
{
	size_t si = 0, pi = 0, star_p = 0, star_s = 0;
	int star = 0;

	while (si < slen) {
		if (pi < plen && pat[pi] == '_') {
			si += char_len(s + si, slen - si);
			pi++;
		} else if (pi < plen && pat[pi] == '%') {
			star = 1;
			star_p = ++pi;
			star_s = si;
		} else if (pi < plen && pat[pi] == s[si]) {
			pi++;
			si++;
		} else if (star) {
			star_s += char_len(s + star_s, slen - star_s);
			si = star_s;
			pi = star_p;
		} else {
			return 0;
		}
	}
	while (pi < plen && pat[pi] == '%')
		pi++;
	return pi == plen;
}

/* ---- the tree ---------------------------------------------------------- */

typedef enum nkind {
	N_AND = 1,
	N_OR,
	N_NOT,
	N_CMP,     /* key op lits[0] */
	N_IN,      /* key [NOT] IN lits[0..n) */
	N_BETWEEN, /* key [NOT] BETWEEN lits[0] AND lits[1] */
	N_LIKE,    /* key [NOT] LIKE lits[0] */
	N_ISNULL   /* key IS [NOT] NULL */
} nkind;

typedef enum cmpop { OP_EQ = 1, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmpop;

typedef struct node {
	nkind kind;
	int neg;
	cmpop op;
	size_t key;
	ktype kt;
	size_t n;           /* kids (AND, OR, NOT) or lits */
	struct node **kids; /* owned */
	fval *lits;         /* owned, with each s */
} node;

struct ms_partition_filter {
	node *root; /* NULL: matches everything */
};

static void node_free(node *nd)
{
	size_t i;

	if (!nd)
		return;
	if (nd->kids) {
		for (i = 0; i < nd->n; i++)
			node_free(nd->kids[i]);
		free(nd->kids);
	}
	if (nd->lits) {
		for (i = 0; i < nd->n; i++)
			free((char *)nd->lits[i].s);
		free(nd->lits);
	}
	free(nd);
}

void ms_partition_filter_free(ms_partition_filter *f)
{
	if (!f)
		return;
	node_free(f->root);
	free(f);
}

/* ---- evaluation: three-valued -------------------------------------------- */

enum { TV_FALSE = 0, TV_TRUE = 1, TV_UNKNOWN = 2 };

static int eval(const node *nd, const char *const *values, size_t n)
{
	const char *v = nd->key < n ? values[nd->key] : NULL;
	fval x;
	size_t i;
	int r, c, unknown = 0;

	switch (nd->kind) {
	case N_AND:
	case N_OR:
		for (i = 0; i < nd->n; i++) {
			r = eval(nd->kids[i], values, n);
			if (r == TV_UNKNOWN)
				unknown = 1;
			else if (r == (nd->kind == N_OR))
				return r;
		}
		return unknown ? TV_UNKNOWN : nd->kind == N_AND;
	case N_NOT:
		r = eval(nd->kids[0], values, n);
		return r == TV_UNKNOWN ? r : !r;
	case N_ISNULL:
		return (!v || !strcmp(v, HIVE_DEFAULT_PARTITION)) != nd->neg;
	default:
		break;
	}
	if (!v || convert(&nd->kt, v, strlen(v), &x))
		return TV_UNKNOWN;
	switch (nd->kind) {
	case N_CMP:
		c = fval_cmp(nd->kt.t, &x, &nd->lits[0]);
		switch (nd->op) {
		case OP_EQ:
			return c == 0;
		case OP_NE:
			return c != 0;
		case OP_LT:
			return c < 0;
		case OP_LE:
			return c <= 0;
		case OP_GT:
			return c > 0;
		default:
			return c >= 0;
		}
	case N_IN:
		r = 0;
		for (i = 0; i < nd->n && !r; i++)
			r = fval_cmp(nd->kt.t, &x, &nd->lits[i]) == 0;
		break;
	case N_BETWEEN:
		r = fval_cmp(nd->kt.t, &x, &nd->lits[0]) >= 0 &&
		    fval_cmp(nd->kt.t, &x, &nd->lits[1]) <= 0;
		break;
	default: /* N_LIKE */
		r = like_match(x.s, x.len, nd->lits[0].s, nd->lits[0].len);
		break;
	}
	return r != nd->neg;
}

int ms_partition_filter_match(const ms_partition_filter *f, const char *const *values, size_t n)
{
	if (!f || !f->root)
		return 1;
	return eval(f->root, values, n) == TV_TRUE;
}

/* ---- lexer ---------------------------------------------------------------- */

typedef enum tkind {
	T_END = 1,
	T_WORD,   /* identifier or keyword */
	T_QUOTED, /* `back-quoted` identifier */
	T_STRING,
	T_NUMBER,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_OP,
	T_SIGN /* + or - */
} tkind;

typedef struct tok {
	tkind t;
	cmpop op;
	size_t pos;       /* byte offset in the expression */
	size_t rawlen;    /* bytes in the expression */
	const char *text; /* decoded, NUL-terminated, in the parser's buffer */
	size_t len;
} tok;

typedef struct parser {
	const char *src;
	tok *toks;
	size_t ntok, i;
	char *buf;
	size_t blen;
	const ms_filter_key *keys;
	size_t nkeys;
	int depth;
	ms_error *err;
} parser;

/* Quote a piece of the expression for a message: bounded, one line. */
static void show(char out[SHOW_MAX + 4], const char *s, size_t len)
{
	size_t i, n = len;

	if (n > SHOW_MAX) {
		n = SHOW_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
	if (n < len)
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
}

static int fail_at(parser *p, size_t pos, const char *what, const char *s, size_t len,
		   const char *tail)
{
	char shown[SHOW_MAX + 4];

	show(shown, s, len);
	return ms_error_set(p->err, MS_EINVAL, "invalid expression: %s '%s' at position %zu%s",
			    what, shown, pos + 1, tail);
}

static int fail_tok(parser *p, const tok *t, const char *expected)
{
	char shown[SHOW_MAX + 4];

	if (t->t == T_END)
		return ms_error_set(p->err, MS_EINVAL,
				    "invalid expression: unexpected end at position %zu, expected "
				    "%s",
				    t->pos + 1, expected);
	show(shown, p->src + t->pos, t->rawlen);
	return ms_error_set(p->err, MS_EINVAL,
			    "invalid expression: unexpected '%s' at position %zu, expected %s",
			    shown, t->pos + 1, expected);
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || (unsigned char)c >= 0x80;
}

/* A quoted run at s[pos] closed by q, a doubled q standing for itself. */
static int lex_quoted(parser *p, size_t pos, char q, tok *t)
{
	const char *s = p->src;
	size_t i = pos + 1;
	char *o = p->buf + p->blen;

	t->text = o;
	for (;;) {
		if (s[i] == '\0')
			return fail_at(p, pos,
				       q == '`' ? "unterminated quoted name"
						: "unterminated string",
				       s + pos + 1, i - pos - 1, "");
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return ms_error_set(p->err, MS_EINVAL,
					    "invalid expression: control character at position %zu",
					    i + 1);
		if (s[i] == q) {
			if (s[i + 1] != q)
				break;
			i++;
		}
		*o++ = s[i++];
	}
	t->len = (size_t)(o - t->text);
	*o++ = '\0';
	p->blen = (size_t)(o - p->buf);
	t->rawlen = i + 1 - pos;
	return 0;
}

static int lex(parser *p)
{
	const char *s = p->src;
	size_t i = 0, j;
	int rc;

	for (;;) {
		tok *t = &p->toks[p->ntok];

		while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
			i++;
		memset(t, 0, sizeof(*t));
		t->pos = i;
		t->text = "";
		if (s[i] == '\0') {
			t->t = T_END;
			p->ntok++;
			return 0;
		}
		j = i;
		switch (s[i]) {
		case '(':
		case ')':
		case ',':
		case '+':
		case '-':
			t->t = s[i] == '('   ? T_LPAREN
			       : s[i] == ')' ? T_RPAREN
			       : s[i] == ',' ? T_COMMA
					     : T_SIGN;
			j++;
			break;
		case '=':
			t->t = T_OP;
			t->op = OP_EQ;
			j++;
			break;
		case '!':
			if (s[i + 1] != '=')
				return fail_at(p, i, "unexpected", s + i, 1, ", expected '!='");
			t->t = T_OP;
			t->op = OP_NE;
			j += 2;
			break;
		case '<':
			t->t = T_OP;
			t->op = s[i + 1] == '=' ? OP_LE : s[i + 1] == '>' ? OP_NE : OP_LT;
			j += t->op == OP_LT ? 1 : 2;
			break;
		case '>':
			t->t = T_OP;
			t->op = s[i + 1] == '=' ? OP_GE : OP_GT;
			j += t->op == OP_GT ? 1 : 2;
			break;
		case '\'':
		case '"':
		case '`':
			t->t = s[i] == '`' ? T_QUOTED : T_STRING;
			if ((rc = lex_quoted(p, i, s[i], t)) < 0)
				return rc;
			j = i + t->rawlen;
			break;
		default:
			if (s[i] >= '0' && s[i] <= '9') {
				t->t = T_NUMBER;
				while (s[j] >= '0' && s[j] <= '9')
					j++;
				if (s[j] == '.')
					for (j++; s[j] >= '0' && s[j] <= '9'; j++)
						;
				if (is_word_char(s[j]) || s[j] == '.') {
					while (is_word_char(s[j]) || s[j] == '.')
						j++;
					return fail_at(p, i, "bad number", s + i, j - i, "");
				}
			} else if (is_word_char(s[i])) {
				t->t = T_WORD;
				while (is_word_char(s[j]))
					j++;
			} else {
				return fail_at(p, i, "unexpected character", s + i,
					       char_len(s + i, strlen(s + i)), "");
			}
			t->text = p->buf + p->blen;
			t->len = j - i;
			memcpy(p->buf + p->blen, s + i, t->len);
			p->blen += t->len;
			p->buf[p->blen++] = '\0';
			break;
		}
		t->rawlen = j - i;
		i = j;
		p->ntok++;
	}
}

/* ---- parser ----------------------------------------------------------------- */

static const tok *peek(const parser *p)
{
	return &p->toks[p->i];
}

static const tok *next(parser *p)
{
	const tok *t = &p->toks[p->i];

	if (t->t != T_END)
		p->i++;
	return t;
}

static int is_kw(const tok *t, const char *kw)
{
	return t->t == T_WORD && ascii_ieq(t->text, t->len, kw);
}

static int is_keyword(const tok *t)
{
	static const char *const kws[] = {
		"and", "or", "not", "in", "between", "like", "is", "null"
	};
	size_t i;

	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (is_kw(t, kws[i]))
			return 1;
	return 0;
}

static int is_key_tok(const tok *t)
{
	return t->t == T_QUOTED || (t->t == T_WORD && !is_keyword(t));
}

static int new_node(parser *p, nkind kind, size_t n, node **out)
{
	node *nd = calloc(1, sizeof(*nd));

	if (!nd)
		return ms_error_set(p->err, MS_ENOMEM, "out of memory");
	nd->kind = kind;
	nd->n = n;
	if (kind == N_AND || kind == N_OR || kind == N_NOT)
		nd->kids = calloc(n, sizeof(node *));
	else if (n > 0)
		nd->lits = calloc(n, sizeof(*nd->lits));
	if (n > 0 && !nd->kids && !nd->lits) {
		free(nd);
		return ms_error_set(p->err, MS_ENOMEM, "out of memory");
	}
	*out = nd;
	return 0;
}

static const char *type_name(const ktype *kt)
{
	switch (kt->t) {
	case FT_STRING:
		return "string";
	case FT_INT:
		return "integer";
	case FT_DECIMAL:
		return "decimal";
	case FT_DATE:
		return "date";
	default:
		return "timestamp";
	}
}

/* The partition key named by t: its index and type, or MS_EINVAL. */
static int resolve_key(parser *p, const tok *t, size_t *idx, ktype *kt)
{
	char shown[SHOW_MAX + 4], name[SHOW_MAX + 4];
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (p->keys[i].name && ascii_ieq(t->text, t->len, p->keys[i].name))
			break;
	if (i == p->nkeys)
		return fail_at(p, t->pos, "unknown partition key", t->text, t->len, "");
	*idx = i;
	*kt = key_type(p->keys[i].type);
	if (kt->t == FT_UNSUPPORTED) {
		show(shown, p->keys[i].type, strlen(p->keys[i].type));
		show(name, t->text, t->len);
		return ms_error_set(p->err, MS_EINVAL,
				    "invalid expression: partition key '%s' at position %zu has "
				    "type '%s', "
				    "which filters do not support",
				    name, t->pos + 1, shown);
	}
	return 0;
}

/*
 * A literal for a key of type kt into *v (text owned by v): a string, or a
 * number with an optional sign.  Only strings may be LIKE patterns.
 */
static int parse_literal(parser *p, const ktype *kt, const char *key, int like, fval *v)
{
	const tok *sign = NULL, *t = next(p);
	size_t start = t->pos;
	ktype lit_kt = *kt;
	fval conv;
	char *text;
	int ok, rc;

	if (t->t == T_SIGN) {
		sign = t;
		t = next(p);
		if (t->t != T_NUMBER)
			return fail_tok(p, t, "a number");
	}
	if (t->t != T_STRING && t->t != T_NUMBER)
		return fail_tok(p, t, "a quoted string or a number");
	text = malloc(t->len + 2);
	if (!text)
		return ms_error_set(p->err, MS_ENOMEM, "out of memory");
	text[0] = sign ? p->src[sign->pos] : '\0';
	memcpy(text + !!sign, t->text, t->len + 1);
	if (like)
		ok = kt->t == FT_STRING && t->t == T_STRING;
	else if (kt->t == FT_STRING)
		ok = 1;
	else if (kt->t == FT_INT || kt->t == FT_DECIMAL)
		ok = t->t == T_NUMBER;
	else
		ok = t->t == T_STRING;
	/* an integer literal may lie outside the key's range: `tiny > 1000` */
	if (lit_kt.t == FT_INT) {
		lit_kt.min = INT64_MIN;
		lit_kt.max = INT64_MAX;
	}
	if (ok)
		ok = convert(&lit_kt, text, t->len + !!sign, &conv) == 0;
	if (!ok) {
		char what[160], kshow[SHOW_MAX + 4];

		show(kshow, key, strlen(key));
		if (like)
			snprintf(what, sizeof(what),
				 "LIKE on %s key '%s' needs a string pattern, not", type_name(kt),
				 kshow);
		else
			snprintf(what, sizeof(what), "%s key '%s' cannot compare with",
				 type_name(kt), kshow);
		rc = fail_at(p, start, what, text, t->len + !!sign, "");
		free(text);
		return rc;
	}
	*v = conv; /* v is written only on success: callers free what it holds */
	return 0;
}

static int parse_or(parser *p, node **out);

/* A predicate whose key token k was just read. */
static int parse_predicate(parser *p, const tok *k, node **out)
{
	const tok *t;
	node *nd = NULL;
	fval lits[2];
	fval *list = NULL;
	size_t idx, n = 0, cap = 0;
	ktype kt;
	int rc, neg = 0;

	if ((rc = resolve_key(p, k, &idx, &kt)) < 0)
		return rc;
	t = next(p);
	if (t->t == T_OP) {
		if ((rc = parse_literal(p, &kt, k->text, 0, &lits[0])) < 0)
			return rc;
		if ((rc = new_node(p, N_CMP, 1, &nd)) < 0) {
			free((char *)lits[0].s);
			return rc;
		}
		nd->op = t->op;
		nd->lits[0] = lits[0];
		goto done;
	}
	if (is_kw(t, "is")) {
		t = next(p);
		if (is_kw(t, "not")) {
			neg = 1;
			t = next(p);
		}
		if (!is_kw(t, "null"))
			return fail_tok(p, t, "NULL");
		if ((rc = new_node(p, N_ISNULL, 0, &nd)) < 0)
			return rc;
		goto done;
	}
	if (is_kw(t, "not")) {
		neg = 1;
		t = next(p);
		if (!is_kw(t, "in") && !is_kw(t, "between") && !is_kw(t, "like"))
			return fail_tok(p, t, "IN, BETWEEN or LIKE");
	}
	if (is_kw(t, "like")) {
		if ((rc = parse_literal(p, &kt, k->text, 1, &lits[0])) < 0)
			return rc;
		if ((rc = new_node(p, N_LIKE, 1, &nd)) < 0) {
			free((char *)lits[0].s);
			return rc;
		}
		nd->lits[0] = lits[0];
	} else if (is_kw(t, "between")) {
		if ((rc = parse_literal(p, &kt, k->text, 0, &lits[0])) < 0)
			return rc;
		if (!is_kw(peek(p), "and")) {
			free((char *)lits[0].s);
			return fail_tok(p, peek(p), "AND");
		}
		next(p);
		if ((rc = parse_literal(p, &kt, k->text, 0, &lits[1])) < 0) {
			free((char *)lits[0].s);
			return rc;
		}
		if ((rc = new_node(p, N_BETWEEN, 2, &nd)) < 0) {
			free((char *)lits[0].s);
			free((char *)lits[1].s);
			return rc;
		}
		nd->lits[0] = lits[0];
		nd->lits[1] = lits[1];
	} else if (is_kw(t, "in")) {
		if ((rc = new_node(p, N_IN, 0, &nd)) < 0)
			return rc;
		if (peek(p)->t != T_LPAREN) {
			rc = fail_tok(p, peek(p), "'('");
			goto fail;
		}
		next(p);
		do {
			if (n == cap) {
				cap = cap ? 2 * cap : 4;
				list = realloc(nd->lits, cap * sizeof(*list));
				if (!list) {
					rc = ms_error_set(p->err, MS_ENOMEM, "out of memory");
					goto fail;
				}
				nd->lits = list;
			}
			if ((rc = parse_literal(p, &kt, k->text, 0, &nd->lits[n])) < 0)
				goto fail;
			nd->n = ++n;
		} while (peek(p)->t == T_COMMA && next(p));
		t = next(p);
		if (t->t != T_RPAREN) {
			rc = fail_tok(p, t, "',' or ')'");
			goto fail;
		}
	} else {
		return fail_tok(p, t, "a comparison, IN, BETWEEN, LIKE or IS");
	}
done:
	nd->neg = neg;
	nd->key = idx;
	nd->kt = kt;
	*out = nd;
	return 0;
fail:
	node_free(nd);
	return rc;
}

/* literal op key: the comparison turned around. */
static int parse_reversed(parser *p, node **out)
{
	static const cmpop flip[] = { 0, OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE };
	size_t save = p->i, after;
	const tok *op, *k;
	node *nd;
	int rc;

	/* skip the literal to find the operator and the key */
	if (next(p)->t == T_SIGN && next(p)->t != T_NUMBER)
		return fail_tok(p, &p->toks[p->i - 1], "a number");
	op = next(p);
	if (op->t != T_OP)
		return fail_tok(p, op, "a comparison operator");
	k = next(p);
	if (!is_key_tok(k))
		return fail_tok(p, k, "a partition key");
	after = p->i;
	p->i = save;
	if ((rc = new_node(p, N_CMP, 1, &nd)) < 0)
		return rc;
	nd->op = flip[op->op];
	if ((rc = resolve_key(p, k, &nd->key, &nd->kt)) < 0 ||
	    (rc = parse_literal(p, &nd->kt, k->text, 0, &nd->lits[0])) < 0) {
		node_free(nd);
		return rc;
	}
	p->i = after;
	*out = nd;
	return 0;
}

static int enter(parser *p, const tok *t)
{
	if (++p->depth > MS_FILTER_DEPTH_MAX)
		return ms_error_set(p->err, MS_EINVAL,
				    "invalid expression: nested more than %d deep at position %zu",
				    MS_FILTER_DEPTH_MAX, t->pos + 1);
	return 0;
}

static int parse_not(parser *p, node **out)
{
	const tok *t = peek(p);
	node *nd = NULL, *kid = NULL;
	int rc;

	if (is_kw(t, "not") || t->t == T_LPAREN) {
		next(p);
		if ((rc = enter(p, t)) < 0)
			return rc;
		if (t->t == T_LPAREN) {
			if ((rc = parse_or(p, &kid)) < 0)
				return rc;
			if (peek(p)->t != T_RPAREN) {
				node_free(kid);
				return fail_tok(p, peek(p), "')', AND or OR");
			}
			next(p);
			*out = kid;
		} else {
			if ((rc = parse_not(p, &kid)) < 0)
				return rc;
			if ((rc = new_node(p, N_NOT, 1, &nd)) < 0) {
				node_free(kid);
				return rc;
			}
			nd->kids[0] = kid;
			*out = nd;
		}
		p->depth--;
		return 0;
	}
	if (is_key_tok(t))
		return parse_predicate(p, next(p), out);
	if (t->t == T_STRING || t->t == T_NUMBER || t->t == T_SIGN)
		return parse_reversed(p, out);
	return fail_tok(p, t, "a partition key, a literal, NOT or '('");
}

/* A chain of terms joined by kw ("and" or "or") as one n-ary node. */
static int parse_chain(parser *p, nkind kind, node **out)
{
	const char *kw = kind == N_OR ? "or" : "and";
	node *nd = NULL, *kid = NULL, **kids;
	size_t cap = 0;
	int rc;

	for (;;) {
		rc = kind == N_OR ? parse_chain(p, N_AND, &kid) : parse_not(p, &kid);
		if (rc < 0)
			goto fail;
		if (!nd && !is_kw(peek(p), kw)) {
			*out = kid;
			return 0;
		}
		if (!nd && (rc = new_node(p, kind, 0, &nd)) < 0)
			goto fail;
		if (nd->n == cap) {
			cap = cap ? 2 * cap : 4;
			kids = realloc(nd->kids, cap * sizeof(node *));
			if (!kids) {
				rc = ms_error_set(p->err, MS_ENOMEM, "out of memory");
				goto fail;
			}
			nd->kids = kids;
		}
		nd->kids[nd->n++] = kid;
		kid = NULL;
		if (!is_kw(peek(p), kw))
			break;
		next(p);
	}
	*out = nd;
	return 0;
fail:
	node_free(kid);
	node_free(nd);
	return rc;
}

static int parse_or(parser *p, node **out)
{
	return parse_chain(p, N_OR, out);
}

int ms_partition_filter_parse(ms_partition_filter **out, const char *expr,
			      const ms_filter_key *keys, size_t nkeys, ms_error *err)
{
	ms_partition_filter *f = NULL;
	parser p;
	size_t len, chars;
	node *root = NULL;
	int rc;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.keys = keys;
	p.nkeys = nkeys;
	p.src = expr ? expr : "";
	len = strlen(p.src);
	if (ms_model_utf8_scan(p.src, len, &chars, NULL) < 0)
		return ms_error_set(err, MS_EINVAL, "invalid expression: not valid UTF-8");
	if (chars > MS_FILTER_EXPR_MAX)
		return ms_error_set(err, MS_EINVAL,
				    "invalid expression: %zu characters, more than %d", chars,
				    MS_FILTER_EXPR_MAX);
	/* at most one token a byte, plus the end; decoded text never grows */
	p.toks = malloc((len + 1) * sizeof(*p.toks));
	p.buf = malloc(2 * len + 1);
	f = calloc(1, sizeof(*f));
	if (!p.toks || !p.buf || !f) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = lex(&p)) < 0)
		goto done;
	if (peek(&p)->t != T_END) {
		if ((rc = parse_or(&p, &root)) < 0)
			goto done;
		if (peek(&p)->t != T_END) {
			rc = fail_tok(&p, peek(&p), "AND, OR or the end");
			goto done;
		}
	}
	f->root = root;
	root = NULL;
	*out = f;
	f = NULL;
done:
	node_free(root);
	free(f);
	free(p.toks);
	free(p.buf);
	return rc;
}
