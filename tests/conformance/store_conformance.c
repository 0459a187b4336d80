/*
 * The store-driver conformance suite: every store runs the same cases, so
 * that the snapshot code can treat a local directory and a bucket alike.
 *
 *   store_conformance file           a fresh directory per case
 *   store_conformance url-env:NAME   a live store at the URL in $NAME (s3://...); each
 *                                    case works under its own prefix conf-PID-N/ and
 *                                    deletes what it wrote.  Skipped (exit 77) when
 *                                    $NAME is unset
 *
 * Cases specific to one scheme (credentials, missing buckets for s3://) are
 * in that scheme's extra list.  What only the file store does (directories
 * made and pruned) stays in tests/unit/test_file_store.c.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, setenv */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metasync/store.h"

#define URL_MAX 4096

typedef struct fixture {
	char url[URL_MAX];
	ms_store *st;
} fixture;

static char g_base[URL_MAX]; /* file: a temporary directory; live: the store URL */
static int g_live;
static int g_case;

/* base URL with "/sub" inserted before its query. */
static void url_with_sub(char *out, size_t n, const char *base, const char *sub)
{
	const char *q = strchr(base, '?');
	size_t bl = q ? (size_t)(q - base) : strlen(base);

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	snprintf(out, n, "%.*s/%s%s", (int)bl, base, sub, q ? q : "");
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	char sub[64];
	ms_error err;

	if (!fx)
		return -1;
	snprintf(sub, sizeof(sub), "conf-%ld-%d", (long)getpid(), ++g_case);
	if (g_live)
		url_with_sub(fx->url, sizeof(fx->url), g_base, sub);
	else
		snprintf(fx->url, sizeof(fx->url), "file://%s/%s", g_base, sub);
	if (ms_store_open(&fx->st, fx->url, &err) < 0) {
		fprintf(stderr, "cannot open store: %s\n", err.message);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

typedef struct keys {
	char **v;
	size_t n, alloc;
} keys;

static int collect_all(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	keys *k = ctx;

	(void)st;
	(void)err;
	if (k->n == k->alloc) {
		k->alloc = k->alloc ? k->alloc * 2 : 64;
		k->v = realloc(k->v, k->alloc * sizeof(*k->v));
		if (!k->v)
			return -1;
	}
	k->v[k->n++] = strdup(key);
	return 0;
}

static void keys_free(keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

static int teardown(void **state)
{
	fixture *fx = *state;
	keys k = { 0 };
	ms_error err;
	size_t i;

	/* Delete what the case left, through the store itself. */
	if (ms_store_list(fx->st, "", collect_all, &k, &err) == 0)
		for (i = 0; i < k.n; i++)
			(void)ms_store_remove(fx->st, k.v[i], &err);
	keys_free(&k);
	ms_store_close(fx->st);
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
	keys k = { 0 };
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
	assert_int_equal(ms_store_list(fx->st, "../", NULL, NULL, &err), MS_EINVAL);
	/* Nothing was created for any of them. */
	assert_int_equal(ms_store_list(fx->st, "", collect_all, &k, &err), 0);
	assert_int_equal(k.n, 0);
	keys_free(&k);
}

static void test_put_commit_get(void **state)
{
	fixture *fx = *state;
	const char *key = "2026-01-01-00-00-00/tables/part-00000.json";
	ms_store_writer *w = NULL;
	ms_store_stat st;
	ms_error err;
	char *data;
	size_t len;

	assert_int_equal(ms_store_put_open(fx->st, key, &w, &err), 0);
	assert_int_equal(ms_store_write(w, "hello ", 6, &err), 0);
	assert_int_equal(ms_store_write(w, "world\n", 6, &err), 0);
	/* Not visible before commit. */
	assert_int_equal(ms_store_stat_key(fx->st, key, &st, &err), MS_ENOTFOUND);
	assert_int_equal(ms_store_commit(w, &err), 0);
	assert_int_equal(ms_store_stat_key(fx->st, key, &st, &err), 0);
	assert_int_equal(st.size, 12);
	assert_true(st.mtime > 0);
	data = get(fx->st, key);
	assert_non_null(data);
	assert_string_equal(data, "hello world\n");
	free(data);

	/* Replacing an object is atomic too. */
	assert_int_equal(ms_store_put_bytes(fx->st, key, "x", 1, &err), 0);
	data = get(fx->st, key);
	assert_non_null(data);
	assert_string_equal(data, "x");
	free(data);

	/* An empty object exists and reads as nothing. */
	assert_int_equal(ms_store_put_bytes(fx->st, "empty/_SUCCESS", "", 0, &err), 0);
	assert_int_equal(ms_store_stat_key(fx->st, "empty/_SUCCESS", &st, &err), 0);
	assert_int_equal(st.size, 0);
	data = NULL;
	assert_int_equal(ms_store_get_bytes(fx->st, "empty/_SUCCESS", 10, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	free(data);

	/* A missing key: MS_ENOTFOUND, named. */
	assert_true(ms_store_get_bytes(fx->st, "missing", 10, &data, &len, &err) < 0);
	assert_int_equal(err.code, MS_ENOTFOUND);
	assert_non_null(strstr(err.message, "missing"));
	assert_int_equal(ms_store_stat_key(fx->st, "missing", &st, &err), MS_ENOTFOUND);
}

static void test_abort_leaves_nothing(void **state)
{
	fixture *fx = *state;
	ms_store_writer *w = NULL;
	ms_store_stat st;
	ms_error err;
	keys k = { 0 };
	char *big;
	size_t n = (size_t)11 << 20, i;

	assert_int_equal(ms_store_put_bytes(fx->st, "keep", "k", 1, &err), 0);
	assert_int_equal(ms_store_put_open(fx->st, "snap/sub/x.json", &w, &err), 0);
	assert_int_equal(ms_store_write(w, "partial", 7, &err), 0);
	ms_store_abort(w);
	assert_int_equal(ms_store_stat_key(fx->st, "snap/sub/x.json", &st, &err), MS_ENOTFOUND);

	/* A writer that has sent parts already (multipart on s3://) aborts as cleanly. */
	big = malloc(n);
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (char)(i * 7);
	assert_int_equal(ms_store_put_open(fx->st, "snap/big", &w, &err), 0);
	assert_int_equal(ms_store_write(w, big, n, &err), 0);
	ms_store_abort(w);
	free(big);
	assert_int_equal(ms_store_stat_key(fx->st, "snap/big", &st, &err), MS_ENOTFOUND);

	assert_int_equal(ms_store_list(fx->st, "", collect_all, &k, &err), 0);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.v[0], "keep");
	keys_free(&k);
}

typedef struct collected {
	char keys[32][128];
	uint64_t sizes[32];
	int n;
} collected;

static int collect(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	collected *c = ctx;

	(void)err;
	if (c->n < 32) {
		snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
		c->sizes[c->n] = st->size;
	}
	c->n++;
	return 0;
}

static int stop_at_second(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	int *n = ctx;

	(void)key;
	(void)st;
	(void)err;
	return ++*n == 2 ? 7 : 0;
}

static void test_list(void **state)
{
	fixture *fx = *state;
	static const char *const keys[] = {
		"b/x", "a/b/c", "a/b-c", "a/bb", "LATEST", "a/b/d/e", "a.txt", "Z",
	};
	ms_store_writer *pending = NULL;
	collected c;
	ms_error err;
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(ms_store_put_bytes(fx->st, keys[i], keys[i], strlen(keys[i]),
						    &err),
				 0);
	/* An open writer must not show. */
	assert_int_equal(ms_store_put_open(fx->st, "a/pending", &pending, &err), 0);
	assert_int_equal(ms_store_write(pending, "zz", 2, &err), 0);

	memset(&c, 0, sizeof(c));
	assert_int_equal(ms_store_list(fx->st, "", collect, &c, &err), 0);
	assert_int_equal(c.n, 8);
	/* Byte order: uppercase first, '-' (0x2d) and '.' (0x2e) before '/' (0x2f). */
	assert_string_equal(c.keys[0], "LATEST");
	assert_string_equal(c.keys[1], "Z");
	assert_string_equal(c.keys[2], "a.txt");
	assert_string_equal(c.keys[3], "a/b-c");
	assert_string_equal(c.keys[4], "a/b/c");
	assert_string_equal(c.keys[5], "a/b/d/e");
	assert_string_equal(c.keys[6], "a/bb");
	assert_string_equal(c.keys[7], "b/x");
	assert_int_equal(c.sizes[5], strlen("a/b/d/e"));

	memset(&c, 0, sizeof(c));
	assert_int_equal(ms_store_list(fx->st, "a/b", collect, &c, &err), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.keys[0], "a/b-c");
	assert_string_equal(c.keys[3], "a/bb");

	memset(&c, 0, sizeof(c));
	assert_int_equal(ms_store_list(fx->st, "a/b/", collect, &c, &err), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.keys[0], "a/b/c");
	assert_string_equal(c.keys[1], "a/b/d/e");

	memset(&c, 0, sizeof(c));
	assert_int_equal(ms_store_list(fx->st, "nothing/", collect, &c, &err), 0);
	assert_int_equal(c.n, 0);

	/* A callback's non-zero return stops the listing and is returned. */
	assert_int_equal(ms_store_list(fx->st, "", stop_at_second, &n, &err), 7);
	assert_int_equal(n, 2);
	ms_store_abort(pending);
}

/* More keys than one ListObjectsV2 page (1000) holds. */
static void test_list_many(void **state)
{
	fixture *fx = *state;
	enum { N = 1234 };
	keys k = { 0 };
	ms_error err;
	char key[64];
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "many/k%05zu", (size_t)(N - 1 - i));
		assert_int_equal(ms_store_put_bytes(fx->st, key, "v", 1, &err), 0);
	}
	assert_int_equal(ms_store_put_bytes(fx->st, "other", "v", 1, &err), 0);
	assert_int_equal(ms_store_list(fx->st, "many/", collect_all, &k, &err), 0);
	assert_int_equal(k.n, N);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "many/k%05zu", i);
		assert_string_equal(k.v[i], key);
	}
	keys_free(&k);
}

static void test_read_and_seek(void **state)
{
	fixture *fx = *state;
	/* More than two 8 MiB parts, so that s3:// sends three in parallel. */
	const size_t N = (size_t)20 * 1024 * 1024 + 17;
	char *big = malloc(N), buf[64];
	ms_store_reader *r = NULL;
	ms_store_writer *w = NULL;
	unsigned long long total = 0;
	ms_store_stat st;
	ms_error err;
	size_t got, i;

	assert_non_null(big);
	for (i = 0; i < N; i++)
		big[i] = (char)('a' + i % 26 + (i / 4096) % 3);
	assert_int_equal(ms_store_put_open(fx->st, "big", &w, &err), 0);
	/* Many small writes and one large one. */
	for (i = 0; i < 1000; i++)
		assert_int_equal(ms_store_write(w, big + i * 10, 10, &err), 0);
	assert_int_equal(ms_store_write(w, big + 10000, N - 10000, &err), 0);
	assert_int_equal(ms_store_stat_key(fx->st, "big", &st, &err), MS_ENOTFOUND);
	assert_int_equal(ms_store_commit(w, &err), 0);
	assert_int_equal(ms_store_stat_key(fx->st, "big", &st, &err), 0);
	assert_int_equal(st.size, N);

	assert_int_equal(ms_store_get_open(fx->st, "big", &r, &err), 0);
	for (;;) {
		static char chunk[65536];

		assert_int_equal(ms_store_read(r, chunk, sizeof(chunk), &got, &err), 0);
		if (got == 0)
			break;
		assert_true(total + got <= N);
		assert_memory_equal(chunk, big + total, got);
		total += got;
	}
	assert_int_equal(total, N);
	assert_int_equal(ms_store_seek(r, 2 * 1024 * 1024 + 5, &err), 0);
	assert_int_equal(ms_store_read(r, buf, 10, &got, &err), 0);
	assert_int_equal(got, 10);
	assert_memory_equal(buf, big + 2 * 1024 * 1024 + 5, 10);
	assert_int_equal(ms_store_seek(r, 3, &err), 0);
	assert_int_equal(ms_store_read(r, buf, 4, &got, &err), 0);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, big + 3, 4);
	assert_int_equal(ms_store_seek(r, N - 2, &err), 0);
	assert_int_equal(ms_store_read(r, buf, 10, &got, &err), 0);
	assert_int_equal(got, 2);
	assert_memory_equal(buf, big + N - 2, 2);
	assert_int_equal(ms_store_read(r, buf, 10, &got, &err), 0);
	assert_int_equal(got, 0);
	ms_store_reader_close(r);

	/* A fresh reader may seek before its first read. */
	assert_int_equal(ms_store_get_open(fx->st, "big", &r, &err), 0);
	assert_int_equal(ms_store_seek(r, N - 5, &err), 0);
	assert_int_equal(ms_store_read(r, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, big + N - 5, 5);
	ms_store_reader_close(r);
	free(big);
}

static void test_stat_remove(void **state)
{
	fixture *fx = *state;
	ms_store_stat st;
	ms_error err;

	assert_int_equal(ms_store_put_bytes(fx->st, "s/d/one", "1", 1, &err), 0);
	assert_int_equal(ms_store_put_bytes(fx->st, "s/two", "22", 2, &err), 0);
	/* A "directory" is not an object. */
	assert_int_equal(ms_store_stat_key(fx->st, "s/d", &st, &err), MS_ENOTFOUND);
	assert_int_equal(ms_store_stat_key(fx->st, "s/two", &st, &err), 0);
	assert_int_equal(st.size, 2);
	assert_int_equal(ms_store_remove(fx->st, "s/d/one", &err), 0);
	assert_int_equal(ms_store_remove(fx->st, "s/d/one", &err), MS_ENOTFOUND);
	assert_int_equal(ms_store_stat_key(fx->st, "s/d/one", &st, &err), MS_ENOTFOUND);
	assert_int_equal(ms_store_stat_key(fx->st, "s/two", &st, &err), 0);
	assert_int_equal(ms_store_remove(fx->st, "s/two", &err), 0);
}

/* The store reopened by its printed URL sees the same objects. */
static void test_reopen(void **state)
{
	fixture *fx = *state;
	ms_store *st = NULL;
	ms_error err;
	char *data;

	assert_int_equal(ms_store_put_bytes(fx->st, "k", "v", 1, &err), 0);
	assert_int_equal(ms_store_open(&st, fx->url, &err), 0);
	data = get(st, "k");
	assert_non_null(data);
	assert_string_equal(data, "v");
	free(data);
	ms_store_close(st);
	ms_store_close(NULL);
}

/* ------------------------------------------------------------------------ */
/* s3:// only                                                              */

static const char *const SECRET = "wrong-secret-Zq8x1PpK3m";

/* Set an environment variable, returning the old value (new) to restore. */
static char *swap_env(const char *name, const char *value)
{
	const char *old = getenv(name);
	char *saved = old ? strdup(old) : NULL;

	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
	return saved;
}

static void assert_one_line(const ms_error *err)
{
	assert_null(strchr(err->message, '\n'));
	assert_true(strlen(err->message) > 0);
}

static void test_s3_wrong_credentials(void **state)
{
	fixture *fx = *state;
	/* s3rver checks the key id only; a server that checks signatures sees both wrong. */
	char *old = swap_env("AWS_SECRET_ACCESS_KEY", SECRET);
	char *old_id = swap_env("AWS_ACCESS_KEY_ID", "AKIAMETASYNCWRONGKEY");
	ms_store *st = NULL;
	ms_store_stat sb;
	ms_error err;
	int rc;

	assert_int_equal(ms_store_open(&st, fx->url, &err), 0);
	ms_error_clear(&err);
	rc = ms_store_put_bytes(st, "k", "v", 1, &err);
	assert_true(rc < 0);
	assert_one_line(&err);
	assert_non_null(strstr(err.message, "bucket '"));
	assert_non_null(strstr(err.message, "/k'"));
	assert_true(strstr(err.message, "SignatureDoesNotMatch") ||
		    strstr(err.message, "InvalidAccessKeyId") ||
		    strstr(err.message, "AccessDenied") || strstr(err.message, "Forbidden"));
	assert_null(strstr(err.message, SECRET));
	assert_null(strstr(err.detail, SECRET));
	/* HEAD has no body to say why; still an error, not "not found". */
	rc = ms_store_stat_key(st, "k", &sb, &err);
	assert_true(rc < 0 && rc != MS_ENOTFOUND);
	assert_null(strstr(err.message, SECRET));
	ms_store_close(st);
	free(swap_env("AWS_SECRET_ACCESS_KEY", old));
	free(swap_env("AWS_ACCESS_KEY_ID", old_id));
	free(old);
	free(old_id);
}

/* base URL with its bucket replaced. */
static void url_with_bucket(char *out, size_t n, const char *base, const char *bucket)
{
	const char *b = strstr(base, "://");
	const char *rest;

	assert_non_null(b);
	b += 3;
	rest = b + strcspn(b, "/?");
	snprintf(out, n, "%.*s%s%s", (int)(b - base), base, bucket, rest);
}

static void test_s3_missing_bucket(void **state)
{
	fixture *fx = *state;
	char url[URL_MAX];
	ms_store *st = NULL;
	ms_error err;
	collected c;
	int rc;

	url_with_bucket(url, sizeof(url), fx->url, "metasync-no-such-bucket");
	assert_int_equal(ms_store_open(&st, url, &err), 0);
	memset(&c, 0, sizeof(c));
	rc = ms_store_list(st, "", collect, &c, &err);
	assert_true(rc < 0);
	assert_one_line(&err);
	assert_non_null(strstr(err.message, "'metasync-no-such-bucket'"));
	assert_non_null(strstr(err.message, "NoSuchBucket"));
	rc = ms_store_put_bytes(st, "LATEST", "x", 1, &err);
	assert_true(rc < 0);
	assert_non_null(strstr(err.message, "'metasync-no-such-bucket'"));
	assert_non_null(strstr(err.message, "LATEST'"));
	assert_non_null(strstr(err.message, "NoSuchBucket"));
	ms_store_close(st);
}

static void test_s3_unreachable(void **state)
{
	fixture *fx = *state;
	const char *q = strchr(g_base, '?');
	char url[URL_MAX];
	ms_store *st = NULL;
	ms_error err;
	int rc;

	(void)fx;
	snprintf(url, sizeof(url), "%.*s?endpoint=http://127.0.0.1:9&attempts=2",
		 (int)(q ? (size_t)(q - g_base) : strlen(g_base)), g_base);
	assert_int_equal(ms_store_open(&st, url, &err), 0);
	rc = ms_store_put_bytes(st, "k", "v", 1, &err);
	assert_int_equal(rc, MS_EIO);
	assert_one_line(&err);
	assert_non_null(strstr(err.message, "bucket '"));
	assert_non_null(strstr(err.message, "127.0.0.1:9"));
	assert_non_null(strstr(err.message, "unreachable"));
	ms_store_close(st);
}

static void test_s3_urls(void **state)
{
	ms_store *st = NULL;
	ms_error err;
	char url[URL_MAX];

	(void)state;
	assert_int_equal(ms_store_open(&st, "s3://", &err), MS_EINVAL);
	assert_int_equal(ms_store_open(&st, "s3://Bad_Bucket/x", &err), MS_EINVAL);
	assert_int_equal(ms_store_open(&st, "s3://user:pw@bucket/x", &err), MS_EINVAL);
	assert_null(strstr(err.message, "pw"));
	assert_int_equal(ms_store_open(&st, "s3://bucket/x?part-size=1k", &err), MS_EINVAL);
	assert_int_equal(ms_store_open(&st, "s3://bucket/x?endpoint=ftp://h", &err), MS_EINVAL);
	assert_int_equal(ms_store_open(&st, "s3://bucket/a/../b", &err), MS_EINVAL);
	/* No credentials anywhere: a clear error, not a request. */
	{
		char *ak = swap_env("AWS_ACCESS_KEY_ID", NULL);
		char *cf = swap_env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
		char *cc = swap_env("AWS_CONFIG_FILE", "/nonexistent/config");

		assert_int_equal(ms_store_open(&st, "s3://bucket/x", &err), MS_EINVAL);
		assert_non_null(strstr(err.message, "credentials"));
		assert_non_null(strstr(err.message, "'bucket'"));
		free(swap_env("AWS_ACCESS_KEY_ID", ak));
		free(swap_env("AWS_SHARED_CREDENTIALS_FILE", cf));
		free(swap_env("AWS_CONFIG_FILE", cc));
		free(ak);
		free(cf);
		free(cc);
	}
	/* A profile in a shared credentials file works like the environment. */
	{
		char dir[] = "/tmp/ms-s3-creds-XXXXXX";
		char path[256];
		FILE *f;
		char *ak, *sk, *cf, *pr;
		const char *id = getenv("AWS_ACCESS_KEY_ID"),
			   *secret = getenv("AWS_SECRET_ACCESS_KEY");
		char *data;

		assert_non_null(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/credentials", dir);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f,
			"[default]\naws_access_key_id = nobody\naws_secret_access_key = %s\n\n"
			"# the test's\n[ms-test]\naws_access_key_id = "
			"%s\naws_secret_access_key=%s\n",
			SECRET, id ? id : "", secret ? secret : "");
		fclose(f);
		ak = swap_env("AWS_ACCESS_KEY_ID", NULL);
		sk = swap_env("AWS_SECRET_ACCESS_KEY", NULL);
		cf = swap_env("AWS_SHARED_CREDENTIALS_FILE", path);
		pr = swap_env("AWS_PROFILE", "ms-test");
		url_with_sub(url, sizeof(url), g_base, "conf-profile");
		assert_int_equal(ms_store_open(&st, url, &err), 0);
		assert_int_equal(ms_store_put_bytes(st, "p", "profile", 7, &err), 0);
		data = get(st, "p");
		assert_non_null(data);
		assert_string_equal(data, "profile");
		free(data);
		assert_int_equal(ms_store_remove(st, "p", &err), 0);
		ms_store_close(st);
		free(swap_env("AWS_ACCESS_KEY_ID", ak));
		free(swap_env("AWS_SECRET_ACCESS_KEY", sk));
		free(swap_env("AWS_SHARED_CREDENTIALS_FILE", cf));
		free(swap_env("AWS_PROFILE", pr));
		free(ak);
		free(sk);
		free(cf);
		free(pr);
		unlink(path);
		rmdir(dir);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest common[] = {
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_commit_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_and_seek, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stat_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	};
	const struct CMUnitTest s3[] = {
		cmocka_unit_test_setup_teardown(test_s3_wrong_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_missing_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_unreachable, setup, teardown),
		cmocka_unit_test(test_s3_urls),
	};
	char tmpl[] = "/tmp/ms-store-conf-XXXXXX";
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: store_conformance file | url-env:NAME\n");
		return 2;
	}
	if (strcmp(argv[1], "file") == 0) {
		if (!mkdtemp(tmpl))
			return 1;
		snprintf(g_base, sizeof(g_base), "%s", tmpl);
		rc = cmocka_run_group_tests_name("store conformance: file", common, NULL, NULL);
		{
			char cmd[URL_MAX + 32];

			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
			if (system(cmd) != 0)
				fprintf(stderr, "cannot remove %s\n", tmpl);
		}
		return rc;
	}
	if (strncmp(argv[1], "url-env:", 8) == 0) {
		const char *v = getenv(argv[1] + 8);

		if (!v || !v[0]) {
			fprintf(stderr, "store_conformance: $%s is not set: skipped\n",
				argv[1] + 8);
			return 77;
		}
		snprintf(g_base, sizeof(g_base), "%s", v);
		g_live = 1;
		rc = cmocka_run_group_tests_name("store conformance: live", common, NULL, NULL);
		if (strncmp(v, "s3:", 3) == 0)
			rc |= cmocka_run_group_tests_name("store conformance: s3", s3, NULL, NULL);
		return rc;
	}
	fprintf(stderr, "store_conformance: unknown profile '%s'\n", argv[1]);
	return 2;
}
