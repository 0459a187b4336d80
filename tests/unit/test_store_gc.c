/*
 * Store garbage collection on the directory store, with the clock in the
 * test's hands: folder locks (a live holder refused and named, a dead one's
 * record taken over and kept or forgotten), abandonment by age where no
 * writer is recorded (and never for an export of the AWS utility or a
 * folder not named like a snapshot), and retention around LATEST and the
 * parents its snapshots build on.  tests/e2e/store_gc.sh kills real
 * exports; this pins the rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "metasync/store.h"
#include "metasync/sys/store.h"

#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */

typedef struct fixture {
	char dir[256];
	ms_store *st;
} fixture;

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	ms_error err;

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ms-store-gc-XXXXXX");
	if (!mkdtemp(fx->dir) || ms_store_open(&fx->st, fx->dir, &err) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	char cmd[300];

	ms_store_close(fx->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fx->dir);
	free(fx);
	return 0;
}

static void put(fixture *fx, const char *key, const char *text, long long mtime)
{
	char path[512];
	struct utimbuf t = { (time_t)mtime, (time_t)mtime };
	ms_error err;

	assert_int_equal(ms_store_put_bytes(fx->st, key, text, strlen(text), &err), 0);
	snprintf(path, sizeof(path), "%s/%s", fx->dir, key);
	assert_int_equal(utime(path, &t), 0);
}

static int exists(fixture *fx, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
	return access(path, F_OK) == 0;
}

/* A complete snapshot: a part, manifest.json (with parent, or none) and _SUCCESS. */
static void snapshot(fixture *fx, const char *id, const char *parent)
{
	char key[128], text[256];

	snprintf(key, sizeof(key), "%s/databases/part-00000.json", id);
	put(fx, key, "{}\n", NOW - 10);
	snprintf(key, sizeof(key), "%s/manifest.json", id);
	snprintf(text, sizeof(text),
		 "{\"format\":\"metasync-snapshot\",\"snapshot\":\"%s\",\"parent\":%s%s%s}", id,
		 parent ? "\"" : "", parent ? parent : "null", parent ? "\"" : "");
	put(fx, key, text, NOW - 10);
	snprintf(key, sizeof(key), "%s/_SUCCESS", id);
	put(fx, key, "", NOW - 10);
}

typedef struct seen {
	char keys[32][96];
	int remove[32];
	char why[32][512];
	int n;
} seen;

static void on_item(const ms_gc_item *item, void *ctx)
{
	seen *s = ctx;

	if (s->n < 32) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", item->key);
		snprintf(s->why[s->n], sizeof(s->why[0]), "%s", item->why ? item->why : "");
		s->remove[s->n++] = item->remove;
	}
}

static int find(const seen *s, const char *key)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->keys[i], key) == 0)
			return i;
	return -1;
}

static void test_locks(void **state)
{
	fixture *fx = *state;
	ms_store *other = NULL;
	char holder[256], want[64], path[512];
	ms_error err;
	FILE *f;

	assert_int_equal(ms_store_open(&other, fx->dir, &err), 0);
	assert_int_equal(ms_store_lock(fx->st, "2026-01-01-00-00-00/", MS_STORE_LOCK_WRITER, NULL,
				       0, &err),
			 0);
	/* a live holder: refused, and named */
	assert_int_equal(ms_store_lock(other, "2026-01-01-00-00-00/", 0, holder, sizeof(holder),
				       &err),
			 MS_ECONFLICT);
	snprintf(want, sizeof(want), "is being written by pid %ld on ", (long)getpid());
	assert_non_null(strstr(err.message, want));
	/* released: the record goes, the folder too when empty */
	ms_store_unlock(fx->st, "2026-01-01-00-00-00/", 0);
	assert_false(exists(fx, "2026-01-01-00-00-00"));
	assert_int_equal(ms_store_lock(other, "2026-01-01-00-00-00/", 0, NULL, 0, &err), 0);
	ms_store_unlock(other, "2026-01-01-00-00-00/", 0);

	/* a dead holder's record: taken over (1, named), kept unless forgotten */
	assert_int_equal(mkdir(strcat(strcpy(path, fx->dir), "/2026-01-02-00-00-00"), 0777), 0);
	strcat(path, "/" MS_STORE_TMP_PREFIX "lock");
	assert_non_null(f = fopen(path, "w"));
	fputs("pid 1 on 'elsewhere' since 2025-12-31T00:00:00Z\n", f);
	fclose(f);
	assert_int_equal(ms_store_lock(other, "2026-01-02-00-00-00/", 0, holder, sizeof(holder),
				       &err),
			 1);
	assert_string_equal(holder, "pid 1 on 'elsewhere' since 2025-12-31T00:00:00Z");
	ms_store_unlock(other, "2026-01-02-00-00-00/", 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(ms_store_lock(other, "2026-01-02-00-00-00/", 0, NULL, 0, &err), 1);
	ms_store_close(other); /* close forgets */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(ms_store_lock(fx->st, "x", 0, NULL, 0, &err), MS_EINVAL);
}

/* No writer recorded: abandoned by age alone; never the utility's export or a foreign folder. */
static void test_age(void **state)
{
	fixture *fx = *state;
	ms_gc_options go = { 0 };
	ms_gc_report r;
	seen s = { 0 };
	ms_error err;
	int i;

	put(fx, "2025-12-30-00-00-00/databases/part-00000.json", "{}\n", NOW - 2 * 86400);
	put(fx, "2025-12-31-23-00-00/databases/part-00000.json", "{}\n", NOW - 3600);
	put(fx, "2017-04-04-09-00-00/databases/_SUCCESS", "", NOW - 9 * 86400);
	put(fx, "2017-04-04-09-00-00/tables/_SUCCESS", "", NOW - 9 * 86400);
	put(fx, "2017-04-04-09-00-00/partitions/_SUCCESS", "", NOW - 9 * 86400);
	put(fx, "2017-04-04-09-00-00/tables/part-00000-x-c000.json", "{}\n", NOW - 9 * 86400);
	put(fx, "backups/old/part.json", "{}\n", NOW - 90 * 86400);
	go.now = NOW;
	go.dry_run = 1;
	go.on_item = on_item;
	go.ctx = &s;
	assert_int_equal(ms_store_gc(fx->st, &go, &r, &err), 0);
	assert_int_equal(s.n, 2);
	assert_true(s.remove[i = find(&s, "2025-12-30-00-00-00/")]);
	assert_non_null(
		strstr(s.why[i], "no writer recorded and nothing written for more than 24h"));
	assert_false(s.remove[i = find(&s, "2025-12-31-23-00-00/")]);
	assert_non_null(
		strstr(s.why[i], "last written 1h ago: kept until nothing is written for 24h"));
	assert_int_equal(r.removed, 1);
	assert_int_equal(r.removed_bytes, 3);
	assert_true(exists(fx, "2025-12-30-00-00-00/databases/part-00000.json"));
	/* a grace of 30 minutes, for real */
	go.dry_run = 0;
	go.grace_seconds = 1800;
	s.n = 0;
	assert_int_equal(ms_store_gc(fx->st, &go, &r, &err), 0);
	assert_int_equal(r.removed, 2);
	assert_false(exists(fx, "2025-12-30-00-00-00"));
	assert_false(exists(fx, "2025-12-31-23-00-00"));
	assert_true(exists(fx, "2017-04-04-09-00-00/tables/part-00000-x-c000.json"));
	assert_true(exists(fx, "backups/old/part.json"));
	assert_false(exists(fx, "2017-04-04-09-00-00/" MS_STORE_TMP_PREFIX "lock"));
}

/* Retention: LATEST, newer ones and every parent of a kept one stay. */
static void test_retention(void **state)
{
	fixture *fx = *state;
	ms_gc_options go = { 0 };
	ms_gc_report r;
	seen s = { 0 };
	ms_error err;

	snapshot(fx, "2025-10-01-00-00-00", NULL);
	snapshot(fx, "2025-11-01-00-00-00", "2025-10-01-00-00-00");
	snapshot(fx, "2025-11-15-00-00-00", NULL);
	snapshot(fx, "2025-12-01-00-00-00", "2025-11-01-00-00-00");
	snapshot(fx, "2025-12-20-00-00-00", NULL);
	snapshot(fx, "2025-12-31-00-00-00", "2025-12-01-00-00-00"); /* LATEST */
	snapshot(fx, "2025-12-31-12-00-00", NULL);                  /* newer than LATEST */
	put(fx, "LATEST", "2025-12-31-00-00-00\n", NOW);
	go.now = NOW;
	go.on_item = on_item;
	go.ctx = &s;
	/* no retention asked: nothing goes */
	assert_int_equal(ms_store_gc(fx->st, &go, &r, &err), 0);
	assert_int_equal(r.removed, 0);
	assert_int_equal(r.kept_snapshots, 7);
	assert_string_equal(r.latest, "2025-12-31-00-00-00");
	/* 20 days: 2025-12-20 stays by age, the chain 12-01, 11-01, 10-01 by parentage */
	go.keep_seconds = 20 * 86400;
	go.dry_run = 1;
	assert_int_equal(ms_store_gc(fx->st, &go, &r, &err), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.keys[0], "2025-11-15-00-00-00/");
	assert_string_equal(s.why[0], "created more than 20d ago");
	/* keep 1: LATEST and its chain, and the newer one */
	go.keep_seconds = 0;
	go.keep = 1;
	go.dry_run = 0;
	s.n = 0;
	assert_int_equal(ms_store_gc(fx->st, &go, &r, &err), 0);
	assert_int_equal(r.removed, 2);
	assert_int_equal(r.kept_snapshots, 5);
	assert_true(find(&s, "2025-11-15-00-00-00/") >= 0 && find(&s, "2025-12-20-00-00-00/") >= 0);
	assert_false(exists(fx, "2025-12-20-00-00-00"));
	assert_true(exists(fx, "2025-10-01-00-00-00/_SUCCESS"));
	assert_true(exists(fx, "2025-12-31-12-00-00/_SUCCESS"));
	/* without LATEST, a retention removes nothing (and says so) */
	assert_int_equal(ms_store_remove(fx->st, "LATEST", &err), 0);
	go.keep = 1;
	s.n = 0;
	assert_int_equal(ms_store_gc(fx->st, &go, &r, &err), 0);
	assert_int_equal(r.removed, 0);
	assert_non_null(strstr(r.note, "LATEST names no snapshot"));
}

static void test_ids(void **state)
{
	long long t = 0;

	(void)state;
	assert_true(ms_snapshot_id_time("2026-01-01-00-00-00", &t));
	assert_int_equal(t, NOW);
	assert_true(ms_snapshot_id_time("2026-01-01-00-00-00-12", NULL));
	assert_false(ms_snapshot_id_time("2026-01-01-00-00-00-", NULL));
	assert_false(ms_snapshot_id_time("2026-01-01-00-00", NULL));
	assert_false(ms_snapshot_id_time("2026-01-01-00-00-00x", NULL));
	assert_false(ms_snapshot_id_time("LATEST", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
