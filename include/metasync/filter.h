/*
 * Partition filters: the `Expression` of Glue's GetPartitions, parsed once
 * against a table's partition keys and then matched against the Values of
 * each partition.  The catalog server evaluates it; catalog drivers may
 * push it down.
 *
 * Grammar (keywords and key names case-insensitive):
 *
 *   expr      := and_expr { OR and_expr }
 *   and_expr  := not_expr { AND not_expr }
 *   not_expr  := NOT not_expr | primary
 *   primary   := '(' expr ')' | predicate
 *   predicate := key cmp literal | literal cmp key
 *              | key [NOT] IN '(' literal { ',' literal } ')'
 *              | key [NOT] BETWEEN literal AND literal
 *              | key [NOT] LIKE string
 *              | key IS [NOT] NULL
 *   cmp       := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
 *   key       := identifier | `back-quoted` (`` for a back quote)
 *   literal   := string | [+|-] number
 *   string    := '...' or "..." (a doubled quote stands for itself)
 *
 * Key types, as Glue supports them: string, char(n), varchar(n) compare
 * bytewise; int, integer, bigint, long, smallint, tinyint as integers (in
 * the type's range); decimal and decimal(p,s) as exact decimals; date
 * ('yyyy-MM-dd') and timestamp ('yyyy-MM-dd HH:mm:ss[.fffffffff]') in time
 * order.  A key of any other type (double, boolean, ...) is refused when the
 * expression names it.  Literals must suit the key: a quoted date or
 * timestamp for those types, a number for numeric keys, a string or a
 * number for string keys (a number is then compared as its text, so
 * `year = 2024` matches "2024" but not "02024").  Integer literals may lie
 * outside the key's range (`tiny < 1000`).  Values are read as strictly as
 * literals: a date is exactly yyyy-MM-dd (a real day), a timestamp has 0 to
 * 9 fraction digits, a decimal has no exponent.  LIKE takes a string
 * pattern and a string key: % is any run of characters, _ one UTF-8
 * character; there is no ESCAPE clause, so % and _ are always
 * wildcards.  Inside quotes, control characters other than tab are
 * refused; outside, tab, CR and LF are blanks.
 *
 * Missing values and NULL: a partition value that is absent, NULL or
 * `__HIVE_DEFAULT_PARTITION__` (Hive's name for a NULL partition) is NULL
 * for IS [NOT] NULL.  An absent or NULL value, and for a non-string key a
 * value that does not parse as the key's type (the default partition among
 * them), makes a comparison unknown, as SQL's three-valued logic has it:
 * NOT keeps it unknown, and only a true expression matches.  Such
 * partitions are thus skipped by any comparison on that key, as Hive's
 * metastore skips values it cannot cast (Glue documents no other rule).  A
 * string key compares the default partition's name as the plain string it
 * is, as Hive does, so `k = '__HIVE_DEFAULT_PARTITION__'` finds it.
 *
 * Limits: an expression of at most MS_FILTER_EXPR_MAX characters (Glue's
 * PredicateString) and of at most MS_FILTER_DEPTH_MAX nested parentheses
 * and NOTs; longer or deeper input is refused, so no input can exhaust the
 * stack.
 */
#ifndef METASYNC_FILTER_H
#define METASYNC_FILTER_H

#include <stddef.h>

#include "metasync/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_FILTER_EXPR_MAX 2048
#define MS_FILTER_DEPTH_MAX 64

/* A partition key as the table declares it: its name and Hive type text. */
typedef struct ms_filter_key {
	const char *name; /* borrowed */
	const char *type; /* borrowed; NULL counts as "string" */
} ms_filter_key;

typedef struct ms_partition_filter ms_partition_filter;

/*
 * Parse expr (UTF-8, NUL-terminated; NULL or blank matches every partition)
 * against the table's partition keys, keys[0..nkeys) in partition order.
 * On success *out is a new filter (free with ms_partition_filter_free) that
 * keeps no pointer into expr or keys.  Bad input is MS_EINVAL with a
 * one-line message naming the offending token and its 1-based byte
 * position; MS_ENOMEM when an allocation fails.  *out is written only on
 * success.
 */
int ms_partition_filter_parse(ms_partition_filter **out, const char *expr,
			      const ms_filter_key *keys, size_t nkeys, ms_error *err);

/*
 * Whether a partition's values (values[i] for keys[i]; n may be short of
 * nkeys and any value may be NULL, both read as NULL) satisfy f: 1 when the
 * expression is true, 0 when it is false or unknown.  Never fails.
 */
int ms_partition_filter_match(const ms_partition_filter *f, const char *const *values, size_t n);

/* Free a filter; NULL is a no-op. */
void ms_partition_filter_free(ms_partition_filter *f);

#ifdef __cplusplus
}
#endif
#endif
