/*
 * What the AWS Glue metastore migration utility writes differently from
 * Glue, undone when a snapshot line is read.
 *
 * Skewed value-location map keys.  A key names one list of skewed values.
 * Glue, and AWS's Glue client for Hive, write each value as its length in
 * UTF-16 units, '$', the value ("1$a2$bc" for ["a","bc"]); that is the form
 * the model keeps and the Hive Metastore driver decodes.  The utility's
 * Hive-side export writes '%' for '$', with the length in code points
 * ("1%a2%bc"), which neither Hive nor Glue can read back: the skew is lost.
 * A key that is not Glue's form but reads whole as the utility's is
 * rewritten; any other key is kept as it is.
 */
#include "model_internal.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

/* Java's String.length(): UTF-16 code units of UTF-8 text. */
static size_t utf16_units(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xc0) != 0x80)
			n += c >= 0xf0 ? 2 : 1;
	}
	return n;
}

/*
 * Bytes of the first n characters of s, counted as sep's form counts them
 * ('$': UTF-16 units, '%': code points), or (size_t)-1 if s is shorter.
 */
static size_t prefix_bytes(const char *s, size_t n, char sep)
{
	size_t i = 0;

	while (n > 0) {
		unsigned char c = (unsigned char)s[i];
		size_t w = sep == '$' && c >= 0xf0 ? 2 : 1;

		if (!c || w > n)
			return (size_t)-1;
		n -= w;
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

int ms_model_skew_encode(ms_buf *out, const char *const *values, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const char *v = values[i] ? values[i] : "";

		rc = ms_buf_printf(out, "%zu$", utf16_units(v, strlen(v)));
		if (rc == 0)
			rc = ms_buf_adds(out, v);
	}
	if (rc == 0 && !out->ptr)
		rc = ms_buf_add(out, "", 0);
	return rc;
}

int ms_model_skew_split(const char *s, char sep, const char **starts, size_t *lens, size_t max,
			size_t *n)
{
	size_t count = 0, len, rest = strlen(s);

	while (*s) {
		const char *p = s;

		len = 0;
		if (*p < '0' || *p > '9')
			return MS_EINVAL;
		while (*p >= '0' && *p <= '9') {
			if (len > rest)
				return MS_EINVAL;
			len = len * 10 + (size_t)(*p - '0');
			p++;
		}
		if (*p != sep)
			return MS_EINVAL;
		p++;
		if (len > strlen(p) || (len = prefix_bytes(p, len, sep)) == (size_t)-1)
			return MS_EINVAL;
		if (starts) {
			if (count == max)
				return MS_EINVAL;
			starts[count] = p;
			lens[count] = len;
		}
		count++;
		s = p + len;
	}
	*n = count;
	return 0;
}

/* The utility's key s ('%' form, n lists) in Glue's form into out; 0 or MS_ENOMEM. */
static int glue_form(const char *s, size_t n, ms_buf *out)
{
	const char **starts = calloc(n + 1, sizeof(*starts));
	size_t *lens = calloc(n + 1, sizeof(*lens)), i, got;
	int rc = starts && lens ? 0 : MS_ENOMEM;

	if (rc == 0)
		rc = ms_model_skew_split(s, '%', starts, lens, n, &got);
	for (i = 0; rc == 0 && i < got; i++)
		if ((rc = ms_buf_printf(out, "%zu$", utf16_units(starts[i], lens[i]))) == 0)
			rc = ms_buf_add(out, starts[i], lens[i]);
	if (rc == 0 && !out->ptr)
		rc = ms_buf_add(out, "", 0);
	free(starts);
	free(lens);
	return rc < 0 ? MS_ENOMEM : 0;
}

int ms_model_skew_keys(cJSON *map)
{
	cJSON *m;
	ms_buf glue;
	size_t n;

	for (m = map ? map->child : NULL; m; m = m->next) {
		char *key;

		if (!m->string || !*m->string ||
		    ms_model_skew_split(m->string, '$', NULL, NULL, 0, &n) == 0 ||
		    ms_model_skew_split(m->string, '%', NULL, NULL, 0, &n) < 0)
			continue;
		ms_buf_init(&glue, 2 * strlen(m->string) + 64);
		if (glue_form(m->string, n, &glue) < 0 || !(key = ms_buf_detach(&glue))) {
			ms_buf_free(&glue);
			return MS_ENOMEM;
		}
		if (!(m->type & cJSON_StringIsConst))
			cJSON_free(m->string);
		m->type &= ~cJSON_StringIsConst;
		m->string = key;
	}
	return 0;
}

/*
 * Partition key types.  Since 2025 the utility writes a partition key's
 * name as its type ({"name":"dt","type":"dt"}); the true type is not in its
 * export.  A type that is no Hive type is found and told, never guessed.
 */
static int word_is(const char *s, size_t n, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == n && strncmp(s, *words, n) == 0)
			return 1;
	return 0;
}

int ms_model_hive_type(const char *type)
{
	static const char *const plain[] = { "tinyint",
					     "smallint",
					     "int",
					     "integer",
					     "bigint",
					     "boolean",
					     "float",
					     "double",
					     "double precision",
					     "string",
					     "date",
					     "timestamp",
					     "binary",
					     "void",
					     "interval_year_month",
					     "interval_day_time",
					     "timestamp with local time zone",
					     NULL };
	static const char *const sized[] = { "decimal", "numeric", "varchar", "char", NULL };
	static const char *const nested[] = { "array", "map", "struct", "uniontype", NULL };
	char low[64];
	size_t n = 0, end;

	if (!type)
		return 0;
	while (type[n] && type[n] != '(' && type[n] != '<' && n < sizeof(low) - 1) {
		low[n] = (char)(type[n] >= 'A' && type[n] <= 'Z' ? type[n] + 32 : type[n]);
		n++;
	}
	for (end = n; end && low[end - 1] == ' '; end--)
		;
	if (type[n] == '\0')
		return word_is(low, end, plain) || word_is(low, end, sized);
	if (type[n] == '(')
		return word_is(low, end, sized) && type[strlen(type) - 1] == ')';
	return type[n] == '<' && word_is(low, end, nested) && type[strlen(type) - 1] == '>';
}
