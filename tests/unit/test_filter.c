/*
 * Unit tests of partition filters (GetPartitions' Expression): a table of
 * expressions matched against a fixed set of partitions, one column per
 * partition, covering every operator, precedence, each key type, NULL and
 * Hive's default partition, values that do not parse as their key's type;
 * then the refusals with their exact messages, and the limits on length
 * and nesting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/filter.h"

/* ---- fixtures ---------------------------------------------------------- */

static const ms_filter_key keys[] = {
	{ "year", "int" },           { "month", "string" },         { "dt", "date" },
	{ "ts", "timestamp" },       { "price", "DECIMAL(10, 2)" }, { "small", "tinyint" },
	{ "Region", "varchar(10)" }, { "score", "double" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

#define D "__HIVE_DEFAULT_PARTITION__"

/*
 * The partitions, one a row; the expected matches below are strings with
 * one '1' or '0' a row, in this order.  Row 3 is Hive's default partition
 * everywhere, row 4 holds values that do not parse as their types, row 5
 * values that parse but are spelled differently, and row 6 has only its
 * first value (the others read as NULL).
 */
static const char *const rows[][7] = {
	{ "2024", "01", "2024-01-15", "2024-01-15 10:00:00", "10.50", "5", "eu-west" },
	{ "2023", "12", "2023-12-31", "2023-12-31 23:59:59.999", "9.99", "-3", "us-east" },
	{ "2025", "02", "2025-02-01", "2025-02-01 00:00:00", "100", "127", "eu-central" },
	{ D, D, D, D, D, D, D },
	{ "abc", "1", "2024-13-01", "garbage", "1e5", "300", "a_b%c" },
	{ "02024", "001", "2024-1-5", "2024-01-15T10:00:00.5", "010.500", "0", "EU-WEST" },
	{ "2024" },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static size_t row_len(size_t r)
{
	return r == 6 ? 1 : 7;
}

/* ---- helpers ----------------------------------------------------------- */

static ms_partition_filter *parse_ok(const char *expr)
{
	ms_partition_filter *f = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_partition_filter_parse(&f, expr, keys, NKEYS, &err);
	if (rc != 0)
		fail_msg("parse failed (%d): %s\nexpr: %.300s", rc, err.message, expr);
	assert_non_null(f);
	return f;
}

static void check_matches(const char *expr, const char *expected)
{
	ms_partition_filter *f = parse_ok(expr);
	char got[NROWS + 1];
	size_t r;

	assert_int_equal(strlen(expected), NROWS);
	for (r = 0; r < NROWS; r++)
		got[r] = ms_partition_filter_match(f, rows[r], row_len(r)) ? '1' : '0';
	got[NROWS] = '\0';
	ms_partition_filter_free(f);
	if (strcmp(got, expected))
		fail_msg("expr: %s\n  got:      %s\n  expected: %s", expr, got, expected);
}

static void check_error(const char *expr, const char *message)
{
	ms_partition_filter *f = (ms_partition_filter *)&f; /* must stay untouched */
	ms_partition_filter *orig = f;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_partition_filter_parse(&f, expr, keys, NKEYS, &err);
	if (rc != MS_EINVAL)
		fail_msg("expected EINVAL '%s', got %d '%s' for %.200s", message, rc, err.message,
			 expr);
	assert_ptr_equal(f, orig);
	assert_null(strchr(err.message, '\n'));
	if (strcmp(err.message, message))
		fail_msg("expr: %.200s\n  got:      '%s'\n  expected: '%s'", expr, err.message,
			 message);
}

/* ---- matches ----------------------------------------------------------- */

static const struct {
	const char *expr;
	const char *expected;
} cases[] = {
	/* nothing to filter */
	{ "", "1111111" },
	{ " \t\r\n", "1111111" },

	/* integers: every operator, either order; unparsable values never match */
	{ "year = 2024", "1000011" },
	{ "year <> 2024", "0110000" },
	{ "year != 2024", "0110000" },
	{ "year > 2023", "1010011" },
	{ "year >= 2024", "1010011" },
	{ "year < 2024", "0100000" },
	{ "year <= 2023", "0100000" },
	{ "2024 < year", "0010000" },
	{ "2024 >= year", "1100011" },
	{ "2023 = year", "0100000" },
	{ "year = -1", "0000000" },
	{ "year > -1", "1110011" },
	{ "-1 < year", "1110011" },
	{ "year = +2024", "1000011" },
	{ "year IN (2023, 2025)", "0110000" },
	{ "year IN (2024)", "1000011" },
	{ "year NOT IN (2023, 2025)", "1000011" },
	{ "year BETWEEN 2023 AND 2024", "1100011" },
	{ "year NOT BETWEEN 2023 AND 2024", "0010000" },
	{ "year BETWEEN 2025 AND 2023", "0000000" },
	{ "small < 0", "0100000" },
	{ "small = -3", "0100000" },
	{ "small = 127", "0010000" },
	{ "small >= 0", "1010010" },
	{ "small > -129", "1110010" },
	{ "small < 1000", "1110010" },

	/* NULL: absent values and Hive's default partition */
	{ "year IS NULL", "0001000" },
	{ "year IS NOT NULL", "1110111" },
	{ "month IS NULL", "0001001" },
	{ "dt IS NULL", "0001001" },
	{ "dt is not null", "1110110" },

	/* NOT, AND, OR: precedence NOT > AND > OR, three-valued */
	{ "NOT year = 2024", "0110000" },
	{ "NOT NOT year = 2024", "1000011" },
	{ "NOT year IN (2023, 2024)", "0010000" },
	{ "NOT year BETWEEN 2024 AND 2025", "0100000" },
	{ "NOT month LIKE '0%'", "0101100" },
	{ "NOT year IS NULL", "1110111" },
	{ "NOT (year = 2024 OR year = 2023)", "0010000" },
	{ "year = 2024 OR year = 2023 AND month = '01'", "1000011" },
	{ "(year = 2024 OR year = 2023) AND month = '12'", "0100000" },
	{ "NOT year = 2023 AND month = '01'", "1000000" },
	{ "NOT (year = 2023 AND month = '01')", "1111111" },
	{ "NOT (year = 2023 OR month = '01')", "0010010" }, /* row 6: NOT unknown */
	{ "year = 2024 OR month IS NULL", "1001011" },
	{ "year = 2024 OR region = 'a_b%c'", "1000111" },
	{ "year = 2024 AND region = 'eu-west' OR small = 127", "1010000" },
	{ "((((year = 2025))))", "0010000" },
	{ "year = 2023 or year = 2025 or year = 2024 and not month = '01'", "0110010" },

	/* strings: bytewise, numbers as their text, the default partition as text */
	{ "month = '01'", "1000000" },
	{ "month = \"12\"", "0100000" },
	{ "MONTH = '12'", "0100000" },
	{ "`month` = '12'", "0100000" },
	{ "month = 1", "0000100" },
	{ "month = 01", "1000000" },
	{ "month = +1", "0000000" },
	{ "month > '01'", "0111100" },
	{ "month <> '01'", "0111110" },
	{ "month IN ('01', '02')", "1010000" },
	{ "month = '" D "'", "0001000" },
	{ "region = 'EU-WEST'", "0000010" },
	{ "region = 'it''s'", "0000000" },

	/* LIKE */
	{ "region LIKE 'eu-%'", "1010000" },
	{ "region LIKE '%east'", "0100000" },
	{ "region LIKE 'eu-_est'", "1000000" },
	{ "region LIKE '%'", "1111110" },
	{ "region LIKE '%u%t'", "1100000" },
	{ "region NOT LIKE 'eu%'", "0101110" },
	{ "region like 'a_b%c'", "0000100" },
	{ "region LIKE '_______'", "1100010" },
	{ "region LIKE ''", "0000000" },

	/* dates */
	{ "dt = '2024-01-15'", "1000000" },
	{ "dt > '2024-01-01'", "1010000" },
	{ "dt < \"2024-01-01\"", "0100000" },
	{ "dt BETWEEN '2023-12-31' AND '2024-01-15'", "1100000" },
	{ "NOT dt = '2024-01-15'", "0110000" },
	{ "dt <= '2024-02-29'", "1100000" },
	{ "'2025-01-01' < dt", "0010000" },

	/* timestamps, to the nanosecond */
	{ "ts > '2024-01-15 09:59:59.999999999'", "1010010" },
	{ "ts = '2024-01-15 10:00:00.000'", "1000000" },
	{ "ts = '2024-01-15T10:00:00.500000000'", "0000010" },
	{ "ts >= '2023-12-31 23:59:59.999'", "1110010" },
	{ "ts < '2023-12-31 23:59:59.9991'", "0100000" },

	/* decimals, exactly */
	{ "price = 10.5", "1000010" },
	{ "price > 9.99", "1010010" },
	{ "price <= 9.99", "0100000" },
	{ "price IN (100, 9.990)", "0110000" },
	{ "price > -1", "1110010" },
	{ "price BETWEEN 10 AND 99.999", "1000010" },
	{ "price < 0.5", "0000000" },
};

static void test_matches(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_matches(cases[i].expr, cases[i].expected);
}

/* A key without a type is a string; matching never reads past n. */
static void test_untyped_and_short(void **state)
{
	static const ms_filter_key k[] = { { "a", NULL }, { "b", "bigint" } };
	static const char *const v[] = { "x", "9223372036854775807" };
	ms_partition_filter *f = NULL;
	ms_error err;

	(void)state;
	assert_int_equal(ms_partition_filter_parse(&f, "a = 'x' AND b = 9223372036854775807", k, 2,
						   &err),
			 0);
	assert_int_equal(ms_partition_filter_match(f, v, 2), 1);
	assert_int_equal(ms_partition_filter_match(f, v, 1), 0);
	assert_int_equal(ms_partition_filter_match(f, NULL, 0), 0);
	ms_partition_filter_free(f);
	assert_int_equal(ms_partition_filter_parse(&f, "b < -9223372036854775808", k, 2, &err), 0);
	assert_int_equal(ms_partition_filter_match(f, v, 2), 0);
	ms_partition_filter_free(f);
	assert_int_equal(ms_partition_filter_parse(&f, NULL, k, 2, &err), 0);
	assert_int_equal(ms_partition_filter_match(f, v, 0), 1);
	ms_partition_filter_free(f);
	ms_partition_filter_free(NULL);
}

/* LIKE's _ is one character, not one byte; quoted names may hold quotes. */
static void test_like_utf8_and_quoted_names(void **state)
{
	static const ms_filter_key k[] = { { "a`b", "string" }, { "\xc3\xa9t\xc3\xa9", "string" } };
	static const char *const v1[] = { "\xc3\xa9", "x" };
	static const char *const v2[] = { "ab", "y" };
	static const struct {
		const char *expr;
		int m1, m2;
	} c[] = {
		{ "`a``b` LIKE '_'", 1, 0 },         { "`A``B` LIKE '__'", 0, 1 },
		{ "`a``b` LIKE '%\xc3\xa9'", 1, 0 }, { "`a``b` LIKE '\xc3\xa9%'", 1, 0 },
		{ "\xc3\xa9t\xc3\xa9 = 'x'", 1, 0 }, { "`\xc3\xa9t\xc3\xa9` IN ('x', 'y')", 1, 1 },
	};
	ms_partition_filter *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ms_error err;

		f = NULL;
		if (ms_partition_filter_parse(&f, c[i].expr, k, 2, &err) != 0)
			fail_msg("parse failed: %s\nexpr: %s", err.message, c[i].expr);
		assert_int_equal(ms_partition_filter_match(f, v1, 2), c[i].m1);
		assert_int_equal(ms_partition_filter_match(f, v2, 2), c[i].m2);
		ms_partition_filter_free(f);
	}
}

/* A long OR chain is wide, not deep: parsing and matching it is fine. */
static void test_wide(void **state)
{
	char expr[MS_FILTER_EXPR_MAX + 1];
	ms_partition_filter *f;
	size_t len = 0;
	int i;

	(void)state;
	for (i = 0; len + 20 < sizeof(expr); i++)
		len += (size_t)snprintf(expr + len, sizeof(expr) - len, "%syear = %d",
					i ? " OR " : "", 2100 - i);
	f = parse_ok(expr);
	assert_int_equal(ms_partition_filter_match(f, rows[0], 7), 1);
	assert_int_equal(ms_partition_filter_match(f, rows[4], 7), 0);
	ms_partition_filter_free(f);
}

/* ---- refusals ---------------------------------------------------------- */

static const struct {
	const char *expr;
	const char *message;
} errors[] = {
	{ "foo = 1", "invalid expression: unknown partition key 'foo' at position 1" },
	{ "year = 1 AND `bar` = 2",
	  "invalid expression: unknown partition key 'bar' at position 14" },
	{ "score > 1", "invalid expression: partition key 'score' at position 1 has type 'double', "
		       "which filters do not support" },
	{ "year = 'x'",
	  "invalid expression: integer key 'year' cannot compare with 'x' at position 8" },
	{ "year = 2.5",
	  "invalid expression: integer key 'year' cannot compare with '2.5' at position 8" },
	{ "year IN (1, '2')",
	  "invalid expression: integer key 'year' cannot compare with '2' at position 13" },
	{ "price = '1.5'",
	  "invalid expression: decimal key 'price' cannot compare with '1.5' at position 9" },
	{ "dt > 20240101",
	  "invalid expression: date key 'dt' cannot compare with '20240101' at position 6" },
	{ "dt > '2024-02-30'",
	  "invalid expression: date key 'dt' cannot compare with '2024-02-30' at position 6" },
	{ "ts = '2024-01-15'",
	  "invalid expression: timestamp key 'ts' cannot compare with '2024-01-15' at position 6" },
	{ "'x' = year",
	  "invalid expression: integer key 'year' cannot compare with 'x' at position 1" },
	{ "year LIKE '20%'",
	  "invalid expression: LIKE on integer key 'year' needs a string pattern, not '20%' at "
	  "position 11" },
	{ "month LIKE 1",
	  "invalid expression: LIKE on string key 'month' needs a string pattern, not '1' at "
	  "position 12" },
	{ "month = 'abc", "invalid expression: unterminated string 'abc' at position 9" },
	{ "`yea", "invalid expression: unterminated quoted name 'yea' at position 1" },
	{ "year = 2024 garbage",
	  "invalid expression: unexpected 'garbage' at position 13, expected AND, OR or the end" },
	{ "year = ", "invalid expression: unexpected end at position 8, expected a quoted string "
		     "or a number" },
	{ "(year = 2024",
	  "invalid expression: unexpected end at position 13, expected ')', AND or OR" },
	{ "year = 2024)",
	  "invalid expression: unexpected ')' at position 12, expected AND, OR or the end" },
	{ "year = 1 AND",
	  "invalid expression: unexpected end at position 13, expected a partition key, a literal, "
	  "NOT or '('" },
	{ "year ! 1", "invalid expression: unexpected '!' at position 6, expected '!='" },
	{ "year = 2024x", "invalid expression: bad number '2024x' at position 8" },
	{ "year IS 1", "invalid expression: unexpected '1' at position 9, expected NULL" },
	{ "year = NULL",
	  "invalid expression: unexpected 'NULL' at position 8, expected a quoted string or a "
	  "number" },
	{ "year NOT 1",
	  "invalid expression: unexpected '1' at position 10, expected IN, BETWEEN or LIKE" },
	{ "year IN 1", "invalid expression: unexpected '1' at position 9, expected '('" },
	{ "year IN (1 2)",
	  "invalid expression: unexpected '2' at position 12, expected ',' or ')'" },
	{ "year IN ()", "invalid expression: unexpected ')' at position 10, expected a quoted "
			"string or a number" },
	{ "92233720368547758080 < year",
	  "invalid expression: integer key 'year' cannot compare with '92233720368547758080' at "
	  "position 1" },
	{ "1 = 2", "invalid expression: unexpected '2' at position 5, expected a partition key" },
	{ "1 AND year = 1",
	  "invalid expression: unexpected 'AND' at position 3, expected a comparison operator" },
	{ "- year = 1", "invalid expression: unexpected 'year' at position 3, expected a number" },
	{ "year year", "invalid expression: unexpected 'year' at position 6, expected a "
		       "comparison, IN, BETWEEN, "
		       "LIKE or IS" },
	{ "AND = 1", "invalid expression: unexpected 'AND' at position 1, expected a partition "
		     "key, a literal, "
		     "NOT or '('" },
	{ "year = 1 # x", "invalid expression: unexpected character '#' at position 10" },
	{ "month = 'a\nb'", "invalid expression: control character at position 11" },
	{ "year BETWEEN 1 OR 2",
	  "invalid expression: unexpected 'OR' at position 16, expected AND" },
	{ "month = '\xff'", "invalid expression: not valid UTF-8" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1",
	  "invalid expression: unknown partition key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
	  "at position 1" },
};

static void test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		check_error(errors[i].expr, errors[i].message);
}

/* Nesting: MS_FILTER_DEPTH_MAX levels of parentheses or NOT, and no more. */
static void test_depth(void **state)
{
	char expr[512], msg[128];
	ms_partition_filter *f;
	int d;

	(void)state;
	for (d = MS_FILTER_DEPTH_MAX; d <= MS_FILTER_DEPTH_MAX + 1; d++) {
		snprintf(expr, sizeof(expr), "%.*syear = 2024%.*s", d,
			 "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((",
			 d,
			 "))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))");
		if (d == MS_FILTER_DEPTH_MAX) {
			f = parse_ok(expr);
			assert_int_equal(ms_partition_filter_match(f, rows[0], 7), 1);
			ms_partition_filter_free(f);
		} else {
			snprintf(msg, sizeof(msg),
				 "invalid expression: nested more than %d deep at position %d",
				 MS_FILTER_DEPTH_MAX, d);
			check_error(expr, msg);
		}
	}
	expr[0] = '\0';
	for (d = 0; d < MS_FILTER_DEPTH_MAX; d++)
		strcat(expr, "NOT ");
	strcat(expr, "year = 2024");
	f = parse_ok(expr); /* an even number of NOTs */
	assert_int_equal(ms_partition_filter_match(f, rows[0], 7), 1);
	ms_partition_filter_free(f);
	memmove(expr + 4, expr, strlen(expr) + 1);
	snprintf(msg, sizeof(msg), "invalid expression: nested more than %d deep at position %d",
		 MS_FILTER_DEPTH_MAX, 4 * MS_FILTER_DEPTH_MAX + 1);
	check_error(expr, msg);
}

/* Length: MS_FILTER_EXPR_MAX characters (not bytes), and no more. */
static void test_length(void **state)
{
	char expr[3 * MS_FILTER_EXPR_MAX], msg[128];
	ms_partition_filter *f;
	size_t i, len;

	(void)state;
	/* month = 'ééé…' with 2048 characters in all, each é two bytes */
	len = (size_t)snprintf(expr, sizeof(expr), "month = '");
	for (i = 0; i < MS_FILTER_EXPR_MAX - 10; i++) {
		memcpy(expr + len, "\xc3\xa9", 2);
		len += 2;
	}
	strcpy(expr + len, "'");
	f = parse_ok(expr);
	assert_int_equal(ms_partition_filter_match(f, rows[0], 7), 0);
	ms_partition_filter_free(f);
	memmove(expr + 1, expr, strlen(expr) + 1);
	expr[0] = ' ';
	snprintf(msg, sizeof(msg), "invalid expression: %d characters, more than %d",
		 MS_FILTER_EXPR_MAX + 1, MS_FILTER_EXPR_MAX);
	check_error(expr, msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_untyped_and_short),
		cmocka_unit_test(test_like_utf8_and_quoted_names),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
