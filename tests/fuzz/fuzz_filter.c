/*
 * Fuzz target: partition filters (GetPartitions' Expression, which comes
 * from any client of the catalog server).  The input is an expression, then
 * after each NUL byte one partition value.  A refused expression leaves
 * *out alone and says why in one line; an accepted one matches any values,
 * short, NULL or not of their key's type, with 0 or 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/filter.h"

#define NVALUES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Three-valued logic: an expression and its negation never both match
 * (both may fail to, when the expression is unknown).
 */
static void check_negation(const char *expr, const ms_filter_key *keys,
			   const ms_partition_filter *f, const char *const *values, size_t n)
{
	size_t len = strlen(expr);
	char *neg = malloc(len + 8);
	ms_partition_filter *g = NULL;
	ms_error err;

	if (!neg)
		return;
	memcpy(neg, "NOT (", 5);
	memcpy(neg + 5, expr, len);
	memcpy(neg + 5 + len, "\n)", 3); /* with the NUL */
	if (ms_partition_filter_parse(&g, neg, keys, NVALUES, &err) == 0) {
		if (ms_partition_filter_match(f, values, n) &&
		    ms_partition_filter_match(g, values, n))
			abort();
		ms_partition_filter_free(g);
	}
	free(neg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const ms_filter_key keys[NVALUES] = {
		{ "year", "int" },           { "month", "string" },        { "dt", "date" },
		{ "ts", "timestamp" },       { "price", "decimal(10,2)" }, { "small", "tinyint" },
		{ "region", "varchar(10)" }, { "score", "double" },
	};
	const char *values[NVALUES] = { 0 };
	ms_partition_filter *f = NULL;
	ms_error err;
	char *s = malloc(size + 1), *p, *end;
	size_t n = 0;
	int rc, m;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	end = s + size;
	for (p = s + strlen(s); p < end && n < NVALUES; p += strlen(p))
		values[n++] = ++p;
	ms_error_clear(&err);
	rc = ms_partition_filter_parse(&f, s, keys, NVALUES, &err);
	if (rc < 0) {
		if (f || rc != MS_EINVAL || !err.message[0] || strchr(err.message, '\n'))
			abort();
	} else {
		m = ms_partition_filter_match(f, values, n);
		if (m != 0 && m != 1)
			abort();
		m = ms_partition_filter_match(f, values, NVALUES);
		m |= ms_partition_filter_match(f, NULL, 0);
		if (m != 0 && m != 1)
			abort();
		check_negation(s, keys, f, values, n);
		ms_partition_filter_free(f);
	}
	free(s);
	return 0;
}
