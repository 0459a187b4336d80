/*
 * Unit tests of the pure Hive Metastore mappings (no server): Hive's escaped
 * PART_NAME (FileUtils.escapePathName, __HIVE_DEFAULT_PARTITION__), Glue's
 * `<len>$<value>` encoding of skewed value lists both ways, character
 * counting and the column limits per dialect.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "drivers/catalog/hms_map.h"
#include "util/buf.h"

static void part_name_is(const char *const *keys, const char *const *values, size_t n,
			 const char *want)
{
	ms_buf b = MS_BUF_INIT(1 << 16);

	assert_int_equal(hms_part_name(&b, keys, values, n), 0);
	assert_string_equal(b.ptr, want);
	ms_buf_free(&b);
}

static void test_part_name_plain(void **state)
{
	const char *k[] = { "dt", "Region" };
	const char *v[] = { "2024-01-01", "eu west" };

	(void)state;
	/* keys lowercased, space not escaped */
	part_name_is(k, v, 2, "dt=2024-01-01/region=eu west");
}

static void test_part_name_escapes(void **state)
{
	const char *k[] = { "p" };
	const char *v1[] = { "a/b=c%d" };
	const char *v2[] = { "\"#'*:?\\{[]^" };
	const char *v3[] = { "tab\there\x7f" };
	const char *v4[] = { "Zürich 東京" };
	const char *v5[] = { "~!@$&()-_+,.;<>|" };

	(void)state;
	part_name_is(k, v1, 1, "p=a%2Fb%3Dc%25d");
	part_name_is(k, v2, 1, "p=%22%23%27%2A%3A%3F%5C%7B%5B%5D%5E");
	part_name_is(k, v3, 1, "p=tab%09here%7F");
	/* non-ASCII text is kept as is */
	part_name_is(k, v4, 1, "p=Zürich 東京");
	part_name_is(k, v5, 1, "p=~!@$&()-_+,.;<>|");
}

static void test_part_name_default(void **state)
{
	const char *k[] = { "a", "b", "c" };
	const char *v[] = { "", NULL, "x" };
	const char *k2[] = { "k=ey" };
	const char *v2[] = { "v" };

	(void)state;
	part_name_is(k, v, 3, "a=__HIVE_DEFAULT_PARTITION__/b=__HIVE_DEFAULT_PARTITION__/c=x");
	/* keys are escaped too */
	part_name_is(k2, v2, 1, "k%3Dey=v");
}

static void test_skew_encode(void **state)
{
	const char *v[] = { "a", "bc", "", "1$2" };
	ms_buf b = MS_BUF_INIT(4096);

	(void)state;
	assert_int_equal(hms_skew_encode(&b, v, 2), 0);
	assert_string_equal(b.ptr, "1$a2$bc");
	ms_buf_reset(&b);
	assert_int_equal(hms_skew_encode(&b, v, 4), 0);
	assert_string_equal(b.ptr, "1$a2$bc0$3$1$2");
	ms_buf_reset(&b);
	{
		const char *u[] = { "Zürich", "😀" };

		assert_int_equal(hms_skew_encode(&b, u, 2), 0);
		assert_string_equal(b.ptr, "6$Zürich2$😀");
	}
	ms_buf_reset(&b);
	assert_int_equal(hms_skew_encode(&b, v, 0), 0);
	assert_string_equal(b.ptr, "");
	ms_buf_free(&b);
}

static void test_skew_decode(void **state)
{
	const char *starts[8];
	size_t lens[8], n = 99;

	(void)state;
	assert_int_equal(hms_skew_decode("1$a2$bc0$3$1$2", starts, lens, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(lens[0], 1);
	assert_memory_equal(starts[0], "a", 1);
	assert_int_equal(lens[1], 2);
	assert_memory_equal(starts[1], "bc", 2);
	assert_int_equal(lens[2], 0);
	assert_int_equal(lens[3], 3);
	assert_memory_equal(starts[3], "1$2", 3);
	/* lengths count UTF-16 units, as Java's String.length() */
	assert_int_equal(hms_skew_decode("6$Zürich2$東京2$😀", starts, lens, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(lens[0], strlen("Zürich"));
	assert_int_equal(lens[1], strlen("東京"));
	assert_int_equal(lens[2], strlen("😀"));
	assert_int_equal(hms_skew_decode("1$😀", starts, lens, 8, &n), MS_EINVAL);
	assert_int_equal(hms_skew_decode("", starts, lens, 8, &n), 0);
	assert_int_equal(n, 0);
	/* not an encoding */
	assert_int_equal(hms_skew_decode("eu", starts, lens, 8, &n), MS_EINVAL);
	assert_int_equal(hms_skew_decode("3$ab", starts, lens, 8, &n), MS_EINVAL);
	assert_int_equal(hms_skew_decode("2ab", starts, lens, 8, &n), MS_EINVAL);
	assert_int_equal(hms_skew_decode("1$a1$b", starts, lens, 1, &n), MS_EINVAL);
	assert_int_equal(hms_skew_decode("99999999999999999999999$", starts, lens, 8, &n),
			 MS_EINVAL);
}

static void test_chars_and_limits(void **state)
{
	(void)state;
	assert_int_equal(hms_chars("abc", 3), 3);
	assert_int_equal(hms_chars("Zürich 東京", strlen("Zürich 東京")), 9);
	assert_int_equal(hms_column_limit(HMS_POSTGRESQL, "DBS.NAME"), 128);
	assert_int_equal(hms_column_limit(HMS_POSTGRESQL, "PARTITIONS.PART_NAME"), 767);
	assert_int_equal(hms_column_limit(HMS_POSTGRESQL, "PARTITION_KEY_VALS.PART_KEY_VAL"), 256);
	assert_int_equal(hms_column_limit(HMS_POSTGRESQL, "COLUMNS_V2.COMMENT"), 4000);
	assert_int_equal(hms_column_limit(HMS_MYSQL, "COLUMNS_V2.COMMENT"), 256);
	assert_int_equal(hms_column_limit(HMS_POSTGRESQL, "TABLE_PARAMS.PARAM_VALUE"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_name_plain),   cmocka_unit_test(test_part_name_escapes),
		cmocka_unit_test(test_part_name_default), cmocka_unit_test(test_skew_encode),
		cmocka_unit_test(test_skew_decode),       cmocka_unit_test(test_chars_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
