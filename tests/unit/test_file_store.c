/*
 * The local-directory store beyond the shared conformance suite
 * (tests/conformance/store_conformance.c): nothing on disk for a refused key,
 * no temporary or directory left after an abort, temporaries hidden from
 * list, emptied directories pruned on remove (never the root), file URLs,
 * and no symbolic link followed below the root (a snapshot may not make
 * metasync open files elsewhere).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "metasync/store.h"

typedef struct fixture {
	char dir[256]; /* a fresh directory that does not exist yet */
	ms_store *st;
} fixture;

static void rm_rf(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	char tmpl[] = "/tmp/ms-file-store-XXXXXX";
	ms_error err;

	if (!fx || !mkdtemp(tmpl))
		return -1;
	/* The root itself is created by the first put. */
	snprintf(fx->dir, sizeof(fx->dir), "%s/root", tmpl);
	if (ms_store_open(&fx->st, fx->dir, &err) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	char parent[256];

	ms_store_close(fx->st);
	snprintf(parent, sizeof(parent), "%s", fx->dir);
	*strrchr(parent, '/') = '\0';
	rm_rf(parent);
	free(fx);
	return 0;
}

static char *get(ms_store *st, const char *key)
{
	char *data = NULL;
	size_t len = 0;
	ms_error err;

	if (ms_store_get_bytes(st, key, 1 << 20, &data, &len, &err) < 0)
		return NULL;
	return data;
}

static void test_bad_keys(void **state)
{
	fixture *fx = *state;
	static const char *const bad[] = {
		"",
		"/etc/passwd",
		"a/../b",
		"..",
		"./a",
		"a/./b",
		"a//b",
		"a/",
		"a\\b",
		"a\nb",
		"a\tb",
		"a/.ms-tmp-1",
		"a\x7f"
		"b",
	};
	ms_store_writer *w = NULL;
	ms_store_reader *r = NULL;
	ms_store_stat st;
	ms_error err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms_error_clear(&err);
		assert_int_equal(ms_store_put_open(fx->st, bad[i], &w, &err), MS_EINVAL);
		assert_true(strlen(err.message) > 0);
		assert_int_equal(ms_store_get_open(fx->st, bad[i], &r, &err), MS_EINVAL);
		assert_int_equal(ms_store_stat_key(fx->st, bad[i], &st, &err), MS_EINVAL);
		assert_int_equal(ms_store_remove(fx->st, bad[i], &err), MS_EINVAL);
	}
	ms_store_put_open(fx->st, "a/../b", &w, &err);
	assert_non_null(strstr(err.message, "'a/../b'"));
	/* Nothing was created for any of them. */
	assert_int_equal(access(fx->dir, F_OK), -1);
	assert_int_equal(ms_store_list(fx->st, "../", NULL, NULL, &err), MS_EINVAL);
}

static void test_abort_leaves_nothing(void **state)
{
	fixture *fx = *state;
	ms_store_writer *w = NULL;
	ms_store_stat st;
	ms_error err;
	char path[512];
	DIR *d;
	struct dirent *de;
	int n = 0;

	assert_int_equal(ms_store_put_bytes(fx->st, "keep", "k", 1, &err), 0);
	assert_int_equal(ms_store_put_open(fx->st, "snap/sub/x.json", &w, &err), 0);
	assert_int_equal(ms_store_write(w, "partial", 7, &err), 0);
	ms_store_abort(w);
	assert_int_equal(ms_store_stat_key(fx->st, "snap/sub/x.json", &st, &err), MS_ENOTFOUND);
	/* Neither the temporary nor the directories made for it are left. */
	d = opendir(fx->dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			assert_string_equal(de->d_name, "keep");
			n++;
		}
	closedir(d);
	assert_int_equal(n, 1);
	snprintf(path, sizeof(path), "%s/snap", fx->dir);
	assert_int_equal(access(path, F_OK), -1);
}

static int count_key(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	(void)key;
	(void)st;
	(void)err;
	++*(int *)ctx;
	return 0;
}

/* Listing is in the store conformance suite (tests/conformance), on file:// too. */
static void test_list_missing_root(void **state)
{
	fixture *fx = *state;
	ms_error err;
	int n = 0;

	assert_int_equal(ms_store_list(fx->st, "", count_key, &n, &err), 0);
	assert_int_equal(n, 0);
}

static void test_stat_remove(void **state)
{
	fixture *fx = *state;
	ms_store_stat st;
	ms_error err;
	char path[512];

	assert_int_equal(ms_store_put_bytes(fx->st, "s/d/one", "1", 1, &err), 0);
	assert_int_equal(ms_store_put_bytes(fx->st, "s/two", "22", 2, &err), 0);
	/* A directory is not an object. */
	assert_int_equal(ms_store_stat_key(fx->st, "s/d", &st, &err), MS_ENOTFOUND);
	assert_int_equal(ms_store_stat_key(fx->st, "s/two", &st, &err), 0);
	assert_int_equal(st.size, 2);
	assert_int_equal(ms_store_remove(fx->st, "s/d/one", &err), 0);
	assert_int_equal(ms_store_remove(fx->st, "s/d/one", &err), MS_ENOTFOUND);
	/* The emptied directory went with it, its non-empty parent stayed. */
	snprintf(path, sizeof(path), "%s/s/d", fx->dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/s", fx->dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(ms_store_remove(fx->st, "s/two", &err), 0);
	/* The root is never removed. */
	assert_int_equal(access(fx->dir, F_OK), 0);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int ignore_key(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	(void)key;
	(void)st;
	(void)ctx;
	(void)err;
	return 0;
}

/* A link where a file or a folder should be is refused by every operation. */
static void test_links_refused(void **state)
{
	fixture *fx = *state;
	char outside[512], path[512], link[512], want[600];
	ms_store_writer *w = NULL;
	ms_store_reader *r = NULL;
	ms_store_stat st;
	ms_error err;

	assert_int_equal(ms_store_put_bytes(fx->st, "s/ok", "ok", 2, &err), 0);
	snprintf(outside, sizeof(outside), "%s-outside", fx->dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(path, sizeof(path), "%s/secret", outside);
	put_file(path, "secret");

	/* A file that is a link. */
	snprintf(link, sizeof(link), "%s/s/link", fx->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ms_store_get_open(fx->st, "s/link", &r, &err), MS_EINTEGRITY);
	snprintf(want, sizeof(want), "store path '%s' is a symbolic link", link);
	assert_non_null(strstr(err.message, want));
	assert_int_equal(ms_store_stat_key(fx->st, "s/link", &st, &err), MS_EINTEGRITY);
	assert_int_equal(ms_store_list(fx->st, "s/", ignore_key, NULL, &err), MS_EINTEGRITY);
	assert_non_null(strstr(err.message, want));
	assert_int_equal(ms_store_list(fx->st, "", ignore_key, NULL, &err), MS_EINTEGRITY);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(ms_store_list(fx->st, "s/", ignore_key, NULL, &err), 0);

	/* A folder that is a link: nothing is read, written or removed through it. */
	snprintf(link, sizeof(link), "%s/t", fx->dir);
	assert_int_equal(symlink(outside, link), 0);
	snprintf(want, sizeof(want), "store path '%s' is a symbolic link", link);
	assert_int_equal(ms_store_get_open(fx->st, "t/secret", &r, &err), MS_EINTEGRITY);
	assert_non_null(strstr(err.message, want));
	assert_int_equal(ms_store_stat_key(fx->st, "t/secret", &st, &err), MS_EINTEGRITY);
	assert_int_equal(ms_store_list(fx->st, "t/", ignore_key, NULL, &err), MS_EINTEGRITY);
	assert_non_null(strstr(err.message, want));
	assert_int_equal(ms_store_put_open(fx->st, "t/new", &w, &err), MS_EINTEGRITY);
	assert_int_equal(ms_store_remove(fx->st, "t/secret", &err), MS_EINTEGRITY);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/new", outside);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(unlink(link), 0);
	rm_rf(outside);
}

/* The root itself may be a link (the user's own path); nothing below it may. */
static void test_root_link_allowed(void **state)
{
	fixture *fx = *state;
	char link[512];
	ms_store *st = NULL;
	ms_error err;
	char *data;

	assert_int_equal(ms_store_put_bytes(fx->st, "a/b", "v", 1, &err), 0);
	snprintf(link, sizeof(link), "%s-link", fx->dir);
	assert_int_equal(symlink(fx->dir, link), 0);
	assert_int_equal(ms_store_open(&st, link, &err), 0);
	data = get(st, "a/b");
	assert_non_null(data);
	assert_string_equal(data, "v");
	free(data);
	assert_int_equal(ms_store_put_bytes(st, "a/c", "w", 1, &err), 0);
	ms_store_close(st);
	assert_int_equal(unlink(link), 0);
}

static void test_urls(void **state)
{
	fixture *fx = *state;
	ms_store *st = NULL;
	ms_error err;
	char url[512];
	char *data;

	assert_int_equal(ms_store_put_bytes(fx->st, "k", "v", 1, &err), 0);
	snprintf(url, sizeof(url), "file://%s/", fx->dir);
	assert_int_equal(ms_store_open(&st, url, &err), 0);
	assert_string_equal(ms_store_url(st), url);
	data = get(st, "k");
	assert_non_null(data);
	assert_string_equal(data, "v");
	free(data);
	ms_store_close(st);
	assert_int_equal(ms_store_open(&st, "file://otherhost/x", &err), MS_EINVAL);
	ms_store_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_missing_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stat_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_link_allowed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
