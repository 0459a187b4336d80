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

/* Bytes of the n code points at s (at most len bytes), and their UTF-16 units; 0 when short. */
static size_t code_points(const char *s, size_t len, size_t n, size_t *units)
{
	size_t at = 0;

	*units = 0;
	while (n--) {
		unsigned char c = (unsigned char)s[at];
		size_t w = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (at >= len || at + w > len)
			return 0;
		at += w;
		*units += w == 4 ? 2 : 1;
	}
	return at;
}

/* Does s read whole as lists of <length><sep><value>, the length counted as sep's form counts? */
static int encoded(const char *s, char sep, ms_buf *glue)
{
	size_t len = strlen(s), at = 0;

	while (at < len) {
		size_t n = 0, digits = 0, bytes, units;

		while (at < len && s[at] >= '0' && s[at] <= '9' && digits < 9) {
			n = n * 10 + (size_t)(s[at++] - '0');
			digits++;
		}
		if (!digits || at >= len || s[at] != sep)
			return 0;
		at++;
		/* '$': n counts UTF-16 units; '%': code points */
		if (sep == '%') {
			bytes = code_points(s + at, len - at, n, &units);
			if (n && !bytes)
				return 0;
			if (glue && (ms_buf_printf(glue, "%zu$", units) < 0 ||
				     ms_buf_add(glue, s + at, bytes) < 0))
				return 0;
		} else {
			for (bytes = 0, units = 0; units < n;) {
				size_t b, u;

				if (!(b = code_points(s + at + bytes, len - at - bytes, 1, &u)))
					return 0;
				bytes += b;
				units += u;
			}
			if (units != n)
				return 0;
		}
		at += bytes;
	}
	return 1;
}

int ms_model_skew_keys(cJSON *map)
{
	cJSON *m;
	ms_buf glue;

	for (m = map ? map->child : NULL; m; m = m->next) {
		char *key;

		if (!m->string || !*m->string || encoded(m->string, '$', NULL) ||
		    !strchr(m->string, '%'))
			continue;
		ms_buf_init(&glue, 2 * strlen(m->string) + 64);
		if (!encoded(m->string, '%', &glue)) {
			ms_buf_free(&glue);
			continue;
		}
		if (!(key = ms_buf_detach(&glue))) {
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
