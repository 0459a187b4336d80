/*
 * Test fixtures: ctest sets MS_FIXTURES to tests/fixtures; a test run by
 * hand finds them next to this source file.  Shared so that every test reads
 * fixtures the same way.
 */
#include "fixtures.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

char *ms_test_fixture_path(const char *rel)
{
	const char *dir = getenv("MS_FIXTURES");
	char *p = malloc(4096);

	assert_non_null(p);
	if (dir && *dir) {
		snprintf(p, 4096, "%s/%s", dir, rel);
	} else {
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 1;

		snprintf(p, 4096, "%.*s/../fixtures/%s", n, slash ? __FILE__ : ".", rel);
	}
	return p;
}

char *ms_test_read_fixture(const char *rel)
{
	char *path = ms_test_fixture_path(rel), *buf;
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		fail_msg("cannot open fixture %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(path);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return buf;
}
