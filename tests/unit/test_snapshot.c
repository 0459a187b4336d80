/*
 * The snapshot catalog: what the AWS utility writes is readable (only on
 * request, every line checked, errors naming file and line), what metasync
 * writes reads back equal (split parts, gzip), LATEST picks the newest
 * snapshot, and every way a snapshot can be damaged or tampered with
 * (altered byte, truncated, missing or extra part, wrong manifest hash,
 * unsafe LATEST or manifest paths) is refused before anything is read from
 * it.  A writer closed without finish leaves nothing that looks complete.
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

#include <openssl/evp.h>

#include "metasync/catalog.h"
#include "metasync/model.h"
#include "util/buf.h"

#define EXPORT_ID "2017-04-04-09-00-00"
#define TABLES_PART "tables/part-00000-8c2d9e41-7f3a-4b6c-a1d2-3e4f5a6b7c8d-c000.json"

static char fixture_dir[1024]; /* .../utility-export/2017-04-04-09-00-00 */

typedef struct tmpdir {
	char path[256];
} tmpdir;

static void tmp_make(tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/ms-snapshot-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void tmp_remove(tmpdir *t)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	assert_int_equal(system(cmd), 0);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return p;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---- whole-catalog dumps: canonical text of every entity, sorted ---- */

typedef struct names {
	char *v[256];
	int n;
} names;

static int name_cb(const char *name, void *ctx, ms_error *err)
{
	names *ns = ctx;

	(void)err;
	assert_true(ns->n < 256);
	ns->v[ns->n++] = strdup(name);
	return 0;
}

static void names_free(names *ns)
{
	int i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	ns->n = 0;
}

typedef struct lines {
	char **v;
	size_t n, alloc;
	ms_digest digest;
} lines;

static void canon_into(const ms_entity *e, ms_buf *b)
{
	char hex[2 * MS_HASH_LEN + 1];

	assert_non_null(e->doc);
	ms_hex(e->hash, MS_HASH_LEN, hex);
	assert_int_equal(ms_buf_printf(b, "%s %s.%s %s %s ", ms_kind_name(e->kind), e->database,
				       e->table ? e->table : "", e->vkey ? e->vkey : "", hex),
			 0);
	assert_int_equal(ms_canonical_json(e->doc, 0, b), 0);
}

static int part_cb(ms_entity *e, void *ctx, ms_error *err)
{
	lines *ls = ctx;
	ms_buf b = MS_BUF_INIT(1 << 24);

	(void)err;
	canon_into(e, &b);
	if (ls->n == ls->alloc) {
		ls->alloc = ls->alloc ? ls->alloc * 2 : 64;
		ls->v = realloc(ls->v, ls->alloc * sizeof(*ls->v));
		assert_non_null(ls->v);
	}
	ls->v[ls->n++] = ms_buf_detach(&b);
	ms_digest_add(&ls->digest, e->hash);
	ms_entity_free(e);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Everything in cat as one text (new): databases, tables, partitions in
 * name / values order, each with its hash and canonical document.  Checks
 * on the way that each table's digest matches its scanned partitions.
 */
static char *dump(ms_catalog *cat)
{
	ms_buf out = MS_BUF_INIT((size_t)1 << 28);
	names dbs = { { 0 }, 0 }, tabs = { { 0 }, 0 };
	ms_error err;
	int i, j;

	assert_int_equal(ms_catalog_list_databases(cat, name_cb, &dbs, &err), 0);
	for (i = 0; i < dbs.n; i++) {
		ms_entity *e = NULL;

		if (i)
			assert_true(strcmp(dbs.v[i - 1], dbs.v[i]) < 0);
		assert_int_equal(ms_catalog_get_database(cat, dbs.v[i], &e, &err), 0);
		canon_into(e, &out);
		ms_buf_addc(&out, '\n');
		ms_entity_free(e);
		assert_int_equal(ms_catalog_list_tables(cat, dbs.v[i], name_cb, &tabs, &err), 0);
		for (j = 0; j < tabs.n; j++) {
			lines ls = { 0 };
			ms_digest d;
			size_t k;

			if (j)
				assert_true(strcmp(tabs.v[j - 1], tabs.v[j]) < 0);
			assert_int_equal(ms_catalog_get_table(cat, dbs.v[i], tabs.v[j], &e, &err),
					 0);
			canon_into(e, &out);
			ms_buf_addc(&out, '\n');
			ms_entity_free(e);
			ms_digest_init(&ls.digest);
			assert_int_equal(ms_catalog_verify_table(cat, dbs.v[i], tabs.v[j], &err),
					 0);
			if (ms_catalog_scan_partitions(cat, dbs.v[i], tabs.v[j], 0, part_cb, &ls,
						       &err) != 0)
				fail_msg("scan %s.%s: %s", dbs.v[i], tabs.v[j], err.message);
			assert_int_equal(ms_catalog_table_digest(cat, dbs.v[i], tabs.v[j], &d,
								 &err),
					 0);
			assert_int_equal(d.count, ls.n);
			assert_memory_equal(d.sum, ls.digest.sum, MS_HASH_LEN);
			if (ls.n > 1)
				qsort(ls.v, ls.n, sizeof(*ls.v), cmp_str);
			for (k = 0; k < ls.n; k++) {
				ms_buf_adds(&out, ls.v[k]);
				ms_buf_addc(&out, '\n');
				free(ls.v[k]);
			}
			free(ls.v);
		}
		names_free(&tabs);
	}
	names_free(&dbs);
	return ms_buf_detach(&out);
}

/* ---- copying a catalog into a snapshot writer (what export does) ---- */

typedef struct batch {
	ms_catalog *dst;
	ms_entity *parts[3];
	size_t n;
} batch;

static void batch_flush(batch *b, const char *db, const char *table)
{
	ms_error err;
	size_t i;

	if (b->n == 0)
		return;
	if (ms_catalog_put_partitions(b->dst, db, table, b->parts, b->n, &err) != 0)
		fail_msg("put_partitions: %s", err.message);
	for (i = 0; i < b->n; i++)
		ms_entity_free(b->parts[i]);
	b->n = 0;
}

typedef struct copy_ctx {
	batch b;
	const char *db, *table;
} copy_ctx;

static int copy_part(ms_entity *e, void *ctx, ms_error *err)
{
	copy_ctx *c = ctx;

	(void)err;
	c->b.parts[c->b.n++] = e;
	if (c->b.n == 3)
		batch_flush(&c->b, c->db, c->table);
	return 0;
}

static void copy_catalog(ms_catalog *src, ms_catalog *dst)
{
	names dbs = { { 0 }, 0 }, tabs = { { 0 }, 0 };
	ms_error err;
	int i, j;

	assert_int_equal(ms_catalog_list_databases(src, name_cb, &dbs, &err), 0);
	for (i = 0; i < dbs.n; i++) {
		ms_entity *e = NULL;

		assert_int_equal(ms_catalog_get_database(src, dbs.v[i], &e, &err), 0);
		assert_int_equal(ms_catalog_put_database(dst, e, &err), 0);
		ms_entity_free(e);
	}
	for (i = 0; i < dbs.n; i++) {
		assert_int_equal(ms_catalog_list_tables(src, dbs.v[i], name_cb, &tabs, &err), 0);
		for (j = 0; j < tabs.n; j++) {
			ms_entity *e = NULL;
			copy_ctx c = { { dst, { NULL }, 0 }, dbs.v[i], tabs.v[j] };

			assert_int_equal(ms_catalog_get_table(src, dbs.v[i], tabs.v[j], &e, &err),
					 0);
			assert_int_equal(ms_catalog_put_table(dst, e, &err), 0);
			ms_entity_free(e);
			assert_int_equal(ms_catalog_verify_table(src, dbs.v[i], tabs.v[j], &err),
					 0);
			assert_int_equal(ms_catalog_scan_partitions(src, dbs.v[i], tabs.v[j], 0,
								    copy_part, &c, &err),
					 0);
			batch_flush(&c.b, dbs.v[i], tabs.v[j]);
		}
		names_free(&tabs);
	}
	names_free(&dbs);
}

static ms_catalog *open_utility_export(void)
{
	ms_open_options o = { 0 };
	ms_catalog *cat = NULL;
	ms_error err;

	o.allow_no_manifest = 1;
	if (ms_catalog_open(&cat, fixture_dir, &o, &err) != 0)
		fail_msg("open %s: %s", fixture_dir, err.message);
	return cat;
}

/* Export the fixture into a new snapshot under root; the snapshot's dir in dir_out. */
static void export_fixture(const char *root, const ms_open_options *wo, char *dir_out,
			   size_t dir_len)
{
	ms_catalog *src = open_utility_export(), *dst = NULL;
	ms_error err;
	char path[600];
	char *latest;

	if (ms_catalog_open(&dst, root, wo, &err) != 0)
		fail_msg("open writer %s: %s", root, err.message);
	copy_catalog(src, dst);
	if (ms_catalog_finish(dst, &err) != 0)
		fail_msg("finish: %s", err.message);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	snprintf(path, sizeof(path), "%s/LATEST", root);
	latest = slurp(path, NULL);
	assert_non_null(latest);
	assert_non_null(strchr(latest, '\n'));
	*strchr(latest, '\n') = '\0';
	if (dir_out)
		snprintf(dir_out, dir_len, "%s/%s", root, latest);
	free(latest);
}

static ms_open_options writer_opts(void)
{
	ms_open_options o = { 0 };

	o.mode = MS_OPEN_WRITE;
	o.source_url = "hms+postgresql://hive:s3cret@metastore.internal:5432/hive";
	o.source_catalog_id = "111122223333";
	o.selection = "sales;finance;default";
	return o;
}

/* ---- tests ---- */

static void test_utility_export_needs_flag(void **state)
{
	ms_catalog *cat = NULL;
	ms_error err;

	(void)state;
	assert_int_equal(ms_catalog_open(&cat, fixture_dir, NULL, &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "has no manifest.json"));
	assert_non_null(strstr(err.message, "--allow-no-manifest"));
	assert_null(cat);
}

static int count_cb(ms_entity *e, void *ctx, ms_error *err)
{
	(void)err;
	(*(int *)ctx)++;
	ms_entity_free(e);
	return 0;
}

static void test_utility_export_read(void **state)
{
	ms_catalog *cat = open_utility_export();
	names ns = { { 0 }, 0 };
	ms_entity *e = NULL;
	ms_digest d;
	ms_error err;
	int n = 0;

	(void)state;
	assert_string_equal(ms_catalog_driver_name(cat), "snapshot");
	/* Without a manifest the source is the store: the folder above the export's. */
	{
		char store[1024];
		snprintf(store, sizeof(store), "%s", fixture_dir);
		*strrchr(store, '/') = '\0';
		assert_string_equal(ms_catalog_id(cat), store);
	}
	assert_int_equal(ms_catalog_caps(cat) & MS_CAP_WRITE, 0);
	assert_int_equal(ms_catalog_list_databases(cat, name_cb, &ns, &err), 0);
	assert_int_equal(ns.n, 3);
	assert_string_equal(ns.v[0], "default");
	assert_string_equal(ns.v[1], "finance");
	assert_string_equal(ns.v[2], "sales");
	names_free(&ns);
	assert_int_equal(ms_catalog_list_tables(cat, "sales", name_cb, &ns, &err), 0);
	assert_int_equal(ns.n, 3);
	assert_string_equal(ns.v[0], "customers");
	assert_string_equal(ns.v[1], "orders");
	assert_string_equal(ns.v[2], "v_big_orders");
	names_free(&ns);
	assert_int_equal(ms_catalog_list_tables(cat, "default", name_cb, &ns, &err), 0);
	assert_int_equal(ns.n, 0);
	assert_int_equal(ms_catalog_list_tables(cat, "nope", name_cb, &ns, &err), MS_ENOTFOUND);

	assert_int_equal(ms_catalog_get_table(cat, "sales", "v_big_orders", &e, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(e->doc, "TableType")->valuestring, "VIRTUAL_VIEW");
	ms_entity_free(e);
	assert_int_equal(ms_catalog_get_table(cat, "Sales", "ORDERS", &e, &err), 0);
	ms_entity_free(e);
	assert_int_equal(ms_catalog_get_table(cat, "sales", "nope", &e, &err), MS_ENOTFOUND);

	/* orders: five partitions over two part files, interleaved with customers. */
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "orders", &err), 0);
	assert_int_equal(ms_catalog_scan_partitions(cat, "sales", "orders", 0, count_cb, &n, &err),
			 0);
	assert_int_equal(n, 5);
	assert_int_equal(ms_catalog_table_digest(cat, "sales", "orders", &d, &err), 0);
	assert_int_equal(d.count, 5);
	n = 0;
	assert_int_equal(ms_catalog_scan_partitions(cat, "sales", "customers", 0, count_cb, &n,
						    &err),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(ms_catalog_table_digest(cat, "finance", "ledger", &d, &err), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(ms_catalog_get_partition(cat, "sales", "orders", "[\"2017-04-02\",\"eu\"]",
						  &e, &err),
			 0);
	assert_string_equal(e->vkey, "[\"2017-04-02\",\"eu\"]");
	ms_entity_free(e);
	assert_int_equal(ms_catalog_get_partition(cat, "sales", "orders", "[\"1999\",\"eu\"]", &e,
						  &err),
			 MS_ENOTFOUND);
	/* Read-only. */
	assert_int_equal(ms_catalog_put_partitions(cat, "sales", "orders", NULL, 0, &err),
			 MS_ENOTSUPPORTED);
	ms_catalog_close(cat);
}

static void test_utility_input_paths(void **state)
{
	ms_open_options o = { 0 };
	ms_catalog *a = NULL, *b = NULL;
	char dbp[1200], tp[1200], pp[1200], url[1200];
	char *da, *db;
	ms_error err;

	(void)state;
	snprintf(dbp, sizeof(dbp), "%s/databases", fixture_dir);
	snprintf(tp, sizeof(tp), "file://%s/tables/", fixture_dir);
	snprintf(pp, sizeof(pp), "%s/partitions/", fixture_dir);
	o.database_input_path = dbp;
	o.table_input_path = tp;
	o.partition_input_path = pp;
	snprintf(url, sizeof(url), "%s?catalog-id=999988887777", fixture_dir);
	if (ms_catalog_open(&b, url, &o, &err) != 0)
		fail_msg("open with input paths: %s", err.message);
	assert_string_equal(ms_catalog_id(b), "999988887777");
	a = open_utility_export();
	da = dump(a);
	db = dump(b);
	assert_string_equal(da, db);
	free(da);
	free(db);
	ms_catalog_close(a);
	ms_catalog_close(b);

	/* The three go together, as the utility requires. */
	o.partition_input_path = NULL;
	assert_int_equal(ms_catalog_open(&b, url, &o, &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "--partition-input-path"));
}

static void test_round_trip(void **state)
{
	ms_open_options wo = writer_opts();
	ms_catalog *src, *back = NULL;
	char snap[600], path[700];
	char *a, *b, *manifest;
	ms_error err;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	export_fixture(t.path, &wo, snap, sizeof(snap));
	src = open_utility_export();
	/* Through LATEST at the root, and directly at the snapshot dir. */
	if (ms_catalog_open(&back, t.path, NULL, &err) != 0)
		fail_msg("open %s: %s", t.path, err.message);
	assert_string_equal(ms_catalog_id(back), "111122223333");
	assert_string_equal(ms_catalog_selection(back), "sales;finance;default");
	a = dump(src);
	b = dump(back);
	assert_string_equal(a, b);
	free(b);
	ms_catalog_close(back);
	assert_int_equal(ms_catalog_open(&back, snap, NULL, &err), 0);
	b = dump(back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	ms_catalog_close(back);
	ms_catalog_close(src);

	/* Layout: parts, per-folder _SUCCESS, manifest, root _SUCCESS. */
	snprintf(path, sizeof(path), "%s/databases/part-00000.json", snap);
	assert_true(exists(path));
	snprintf(path, sizeof(path), "%s/partitions/_SUCCESS", snap);
	assert_true(exists(path));
	snprintf(path, sizeof(path), "%s/_SUCCESS", snap);
	assert_true(exists(path));
	snprintf(path, sizeof(path), "%s/manifest.json", snap);
	manifest = slurp(path, NULL);
	assert_non_null(manifest);
	assert_non_null(strstr(manifest, "\"format\":\"metasync-snapshot\""));
	assert_non_null(strstr(manifest, "\"catalog_id\":\"111122223333\""));
	assert_non_null(strstr(manifest, "\"parent\":null"));
	assert_non_null(
		strstr(manifest, "\"counts\":{\"databases\":3,\"tables\":4,\"partitions\":8}"));
	assert_non_null(strstr(manifest, "\"databases\":[\"default\",\"finance\",\"sales\"]"));
	/* Credentials never reach the manifest. */
	assert_null(strstr(manifest, "s3cret"));
	assert_non_null(strstr(manifest, "hive:***@metastore.internal"));
	free(manifest);
	tmp_remove(&t);
}

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		if (strncmp(de->d_name, "part-", 5) == 0 && l >= s &&
		    strcmp(de->d_name + l - s, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void round_trip_with(const ms_open_options *wo, const char *suffix, int min_parts)
{
	ms_catalog *src, *back = NULL;
	char snap[600], path[700];
	char *a, *b;
	ms_error err;
	tmpdir t;

	tmp_make(&t);
	export_fixture(t.path, wo, snap, sizeof(snap));
	snprintf(path, sizeof(path), "%s/partitions", snap);
	assert_true(count_files(path, suffix) >= min_parts);
	src = open_utility_export();
	if (ms_catalog_open(&back, t.path, NULL, &err) != 0)
		fail_msg("open %s: %s", t.path, err.message);
	a = dump(src);
	b = dump(back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	ms_catalog_close(back);
	ms_catalog_close(src);
	tmp_remove(&t);
}

static void test_split_parts(void **state)
{
	ms_open_options wo = writer_opts();

	(void)state;
	wo.part_bytes = 1500; /* about one partition line per part */
	round_trip_with(&wo, ".json", 5);
}

static void test_gzip(void **state)
{
	ms_open_options wo = writer_opts();

	(void)state;
	wo.compress = "gzip";
	round_trip_with(&wo, ".json.gz", 1);
	wo.part_bytes = 2500;
	round_trip_with(&wo, ".json.gz", 3);
	/* an unknown compression is refused before anything is written */
	wo.compress = "lzma";
	{
		ms_catalog *cat = NULL;
		char path[300];
		ms_error err;
		tmpdir t;

		tmp_make(&t);
		snprintf(path, sizeof(path), "%s/never-created", t.path);
		assert_int_equal(ms_catalog_open(&cat, path, &wo, &err), MS_EINVAL);
		assert_null(cat);
		assert_int_equal(access(path, F_OK), -1);
		tmp_remove(&t);
	}
}

static void test_gzip_utility_export(void **state)
{
	ms_open_options o = { 0 };
	ms_catalog *a, *b = NULL;
	char *da, *db;
	ms_error err;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	/* Spark writes .json.gz when asked; metasync reads it as is. */
	sh("cp -r '%s'/* '%s'/ && gzip '%s'/partitions/part-00001-*.json", fixture_dir, t.path,
	   t.path);
	o.allow_no_manifest = 1;
	if (ms_catalog_open(&b, t.path, &o, &err) != 0)
		fail_msg("open: %s", err.message);
	a = open_utility_export();
	da = dump(a);
	db = dump(b);
	assert_string_equal(da, db);
	free(da);
	free(db);
	ms_catalog_close(a);
	ms_catalog_close(b);
	tmp_remove(&t);
}

static void test_latest(void **state)
{
	ms_open_options wo = writer_opts();
	ms_catalog *cat = NULL;
	char first[600], second[600], path[700];
	names ns = { { 0 }, 0 };
	ms_error err;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	export_fixture(t.path, &wo, first, sizeof(first));
	wo.source_catalog_id = "444455556666";
	export_fixture(t.path, &wo, second, sizeof(second));
	assert_string_not_equal(first, second);
	assert_int_equal(ms_catalog_open(&cat, t.path, NULL, &err), 0);
	assert_string_equal(ms_catalog_id(cat), "444455556666");
	ms_catalog_close(cat);
	assert_int_equal(ms_catalog_open(&cat, first, NULL, &err), 0);
	assert_string_equal(ms_catalog_id(cat), "111122223333");
	ms_catalog_close(cat);

	/* A snapshot older than the one LATEST names does not move LATEST back. */
	sh("mv '%s' '%s/2999-01-01-00-00-00'", second, t.path);
	snprintf(path, sizeof(path), "%s/LATEST", t.path);
	spit(path, "2999-01-01-00-00-00\n", 20);
	wo.source_catalog_id = "777788889999";
	export_fixture(t.path, &wo, NULL, 0);
	assert_int_equal(ms_catalog_open(&cat, t.path, NULL, &err), 0);
	assert_string_equal(ms_catalog_id(cat), "444455556666");
	assert_int_equal(ms_catalog_list_databases(cat, name_cb, &ns, &err), 0);
	assert_int_equal(ns.n, 3);
	names_free(&ns);
	ms_catalog_close(cat);

	/* A store root with neither manifest, LATEST nor folders holds no snapshot. */
	unlink(path);
	assert_int_equal(ms_catalog_open(&cat, t.path, NULL, &err), MS_ENOTFOUND);
	tmp_remove(&t);
}

/* The info an event carries: id, url, manifest SHA-256, counts; the reader agrees. */
static void test_snapshot_info(void **state)
{
	ms_open_options wo = writer_opts(), ro = { 0 };
	ms_catalog *src = open_utility_export(), *dst = NULL, *cat = NULL;
	ms_snapshot_info wi, ri;
	char dir[600], path[700], hex[2 * MS_HASH_LEN + 1];
	unsigned char md[MS_HASH_LEN];
	size_t len = 0;
	char *text;
	ms_error err;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	assert_int_equal(ms_catalog_open(&dst, t.path, &wo, &err), 0);
	assert_int_equal(ms_catalog_snapshot_info(dst, &wi, &err), MS_ENOTSUPPORTED);
	copy_catalog(src, dst);
	assert_int_equal(ms_catalog_finish(dst, &err), 0);
	assert_int_equal(ms_catalog_snapshot_info(dst, &wi, &err), 0);
	ms_catalog_close(dst);
	assert_int_equal(ms_catalog_snapshot_info(src, &ri, &err), 0); /* utility export */
	assert_string_equal(ri.manifest_sha256, "");
	assert_null(ri.id);
	ms_snapshot_info_free(&ri);
	ms_catalog_close(src);

	snprintf(dir, sizeof(dir), "%s/%s", t.path, wi.id);
	assert_string_equal(wi.url, dir);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	text = slurp(path, &len);
	assert_non_null(text);
	EVP_Digest(text, len, md, NULL, EVP_sha256(), NULL);
	ms_hex(md, MS_HASH_LEN, hex);
	free(text);
	assert_string_equal(wi.manifest_sha256, hex);
	assert_string_equal(wi.source_catalog_id, "111122223333");
	assert_string_equal(wi.selection, "sales;finance;default");
	assert_non_null(wi.created);
	assert_int_equal(wi.databases, 3);
	assert_true(wi.partitions > 0);

	/* The store root (through LATEST) and the snapshot's own folder say the same. */
	ro.expect_manifest_sha256 = wi.manifest_sha256;
	assert_int_equal(ms_catalog_open(&cat, t.path, &ro, &err), 0);
	assert_int_equal(ms_catalog_snapshot_info(cat, &ri, &err), 0);
	ms_catalog_close(cat);
	assert_string_equal(ri.id, wi.id);
	assert_string_equal(ri.url, wi.url);
	assert_string_equal(ri.manifest_sha256, wi.manifest_sha256);
	assert_string_equal(ri.created, wi.created);
	assert_true(ri.partitions == wi.partitions && ri.tables == wi.tables);
	ms_snapshot_info_free(&ri);
	assert_int_equal(ms_catalog_open(&cat, wi.url, &ro, &err), 0);
	assert_int_equal(ms_catalog_snapshot_info(cat, &ri, &err), 0);
	ms_catalog_close(cat);
	assert_string_equal(ri.manifest_sha256, wi.manifest_sha256);
	ms_snapshot_info_free(&ri);
	ms_snapshot_info_free(&wi);
	tmp_remove(&t);
}

static void test_unsafe_latest(void **state)
{
	static const char *const bad[] = {
		"../etc\n",
		"a/b\n",
		"..\n",
		"x\x01y\n",
		"",
		"2026-01-01-00-00-00-0123456789012345678901234567890123456789012345678\n",
	};
	ms_catalog *cat = NULL;
	char path[700];
	ms_error err;
	size_t i;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	snprintf(path, sizeof(path), "%s/LATEST", t.path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spit(path, bad[i], strlen(bad[i]));
		assert_int_equal(ms_catalog_open(&cat, t.path, NULL, &err), MS_EINTEGRITY);
		assert_non_null(strstr(err.message, "LATEST"));
	}
	/* Safe, but names nothing complete. */
	spit(path, "2026-01-01-00-00-00\n", 20);
	assert_int_equal(ms_catalog_open(&cat, t.path, NULL, &err), MS_EINTEGRITY);
	tmp_remove(&t);
}

/* Replace the first occurrence of from by to in file path. */
static void edit(const char *path, const char *from, const char *to)
{
	size_t len;
	char *s = slurp(path, &len), *p;
	ms_buf b = MS_BUF_INIT((size_t)1 << 28);

	assert_non_null(s);
	p = strstr(s, from);
	assert_non_null(p);
	ms_buf_add(&b, s, (size_t)(p - s));
	ms_buf_adds(&b, to);
	ms_buf_adds(&b, p + strlen(from));
	spit(path, b.ptr, b.len);
	ms_buf_free(&b);
	free(s);
}

/* Flip one byte in the middle of path, keeping its size. */
static void flip_byte(const char *path)
{
	size_t len;
	char *s = slurp(path, &len);

	assert_non_null(s);
	s[len / 2] ^= 0x01;
	spit(path, s, len);
	free(s);
}

static void open_fails(const char *url, const ms_open_options *o, int code, const char *needle)
{
	ms_catalog *cat = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_catalog_open(&cat, url, o, &err);
	if (rc != code || (needle && !strstr(err.message, needle)))
		fail_msg("open %s: want %d '%s', got %d '%s'", url, code, needle ? needle : "", rc,
			 err.message);
	assert_null(cat);
}

static void test_integrity(void **state)
{
	ms_open_options wo = writer_opts(), ro = { 0 };
	ms_catalog *cat = NULL;
	char snap[600], path[700], path2[700], hex[2 * MS_HASH_LEN + 1];
	ms_error err;
	int n = 0;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	wo.part_bytes = 3000;
	export_fixture(t.path, &wo, snap, sizeof(snap));

	/* An altered byte in a partition file: open works, verify and scan refuse. */
	snprintf(path, sizeof(path), "%s/partitions/part-00000.json", snap);
	flip_byte(path);
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	assert_int_equal(ms_catalog_scan_partitions(cat, "sales", "orders", 0, count_cb, &n, &err),
			 MS_EINTEGRITY);
	assert_non_null(strstr(err.message, "verif"));
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "orders", &err), MS_EINTEGRITY);
	assert_non_null(strstr(err.message, "'partitions/part-00000.json'"));
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "orders", &err), MS_EINTEGRITY);
	assert_int_equal(ms_catalog_scan_partitions(cat, "sales", "orders", 0, count_cb, &n, &err),
			 MS_EINTEGRITY);
	assert_int_equal(n, 0);
	/* Tables in intact files still verify and scan. */
	assert_int_equal(ms_catalog_verify_table(cat, "finance", "ledger", &err), 0);
	ms_catalog_close(cat);
	flip_byte(path); /* back to the original */
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "orders", &err), 0);
	ms_catalog_close(cat);

	/* An altered byte in the tables file is caught at open. */
	snprintf(path, sizeof(path), "%s/tables/part-00000.json", snap);
	flip_byte(path);
	open_fails(snap, NULL, MS_EINTEGRITY, "'tables/part-00000.json'");
	flip_byte(path);

	/* Truncated. */
	snprintf(path, sizeof(path), "%s/partitions/part-00001.json", snap);
	sh("cp '%s' '%s/keep' && truncate -s 100 '%s'", path, t.path, path);
	open_fails(snap, NULL, MS_EINTEGRITY,
		   "'partitions/part-00001.json' is 100 bytes, manifest says");
	/* Missing. */
	unlink(path);
	open_fails(snap, NULL, MS_EINTEGRITY, "'partitions/part-00001.json' is missing");
	sh("mv '%s/keep' '%s'", t.path, path);
	/* Extra. */
	snprintf(path2, sizeof(path2), "%s/partitions/part-00099.json", snap);
	sh("cp '%s' '%s'", path, path2);
	open_fails(snap, NULL, MS_EINTEGRITY,
		   "'partitions/part-00099.json' is not in manifest.json");
	unlink(path2);
	/* Hidden files Spark would not read are no extra parts. */
	snprintf(path2, sizeof(path2), "%s/partitions/.part-00000.json.crc", snap);
	spit(path2, "crc", 3);
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	ms_catalog_close(cat);

	/* The manifest's own hash. */
	ro.expect_manifest_sha256 = "00000000000000000000000000000000000000000000000000000000000000"
				    "00";
	open_fails(snap, &ro, MS_EINTEGRITY, "manifest.json has sha256");
	{
		size_t len;
		char *m;
		unsigned char md[MS_HASH_LEN];
		unsigned int mdlen;

		snprintf(path, sizeof(path), "%s/manifest.json", snap);
		m = slurp(path, &len);
		assert_non_null(m);
		EVP_Digest(m, len, md, &mdlen, EVP_sha256(), NULL);
		free(m);
		ms_hex(md, MS_HASH_LEN, hex);
	}
	ro.expect_manifest_sha256 = hex;
	assert_int_equal(ms_catalog_open(&cat, t.path, &ro, &err), 0);
	ms_catalog_close(cat);

	/* No _SUCCESS: incomplete. */
	snprintf(path, sizeof(path), "%s/_SUCCESS", snap);
	unlink(path);
	open_fails(snap, NULL, MS_EINTEGRITY, "_SUCCESS");
	tmp_remove(&t);
}

static void test_unsafe_manifest_paths(void **state)
{
	static const char *const bad[] = {
		"../../etc/passwd",
		"/etc/passwd",
		"partitions/../../x",
		"other/part-00000.json",
		"partitions/sub/part-00000.json",
		"partitions/_SUCCESS",
		"partitions/",
		"partitions\\\\part-00000.json",
	};
	ms_open_options wo = writer_opts();
	char snap[600], path[700], from[64];
	size_t i;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	export_fixture(t.path, &wo, snap, sizeof(snap));
	snprintf(path, sizeof(path), "%s/manifest.json", snap);
	sh("cp '%s' '%s.keep'", path, path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(from, sizeof(from), "\"partitions/part-00000.json\"");
		{
			char to[128];

			snprintf(to, sizeof(to), "\"%s\"", bad[i]);
			edit(path, from, to);
		}
		open_fails(snap, NULL, MS_EINTEGRITY, "unsafe file path");
		sh("cp '%s.keep' '%s'", path, path);
	}
	/* A span that points outside the partition files. */
	edit(path, "\"spans\":[[", "\"spans\":[[99");
	open_fails(snap, NULL, MS_EINTEGRITY, "manifest.json is invalid");
	tmp_remove(&t);
}

/*
 * A key twice in one object of manifest.json: the reader would see one of
 * them and the producer may have meant the other, so the manifest is refused,
 * at the top level and inside its entries.
 */
static void test_manifest_duplicate_keys(void **state)
{
	ms_open_options wo = writer_opts();
	ms_catalog *cat = NULL;
	char snap[600], path[700];
	ms_error err;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	export_fixture(t.path, &wo, snap, sizeof(snap));
	snprintf(path, sizeof(path), "%s/manifest.json", snap);
	sh("cp '%s' '%s.keep'", path, path);
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	ms_catalog_close(cat);

	edit(path, "],\n\"tables\":[", "],\"files\":[],\n\"tables\":[");
	open_fails(snap, NULL, MS_EINTEGRITY,
		   "manifest.json is invalid: key 'files' appears twice in one object");
	sh("cp '%s.keep' '%s'", path, path);

	edit(path, "{\"path\":\"partitions/part-00000.json\",",
	     "{\"path\":\"partitions/part-00000.json\",\"path\":\"partitions/x.json\",");
	open_fails(snap, NULL, MS_EINTEGRITY,
		   "manifest.json is invalid: key 'path' appears twice in one object");
	sh("cp '%s.keep' '%s'", path, path);

	edit(path, "\"count\":", "\"count\":0,\"count\":");
	open_fails(snap, NULL, MS_EINTEGRITY,
		   "manifest.json is invalid: key 'count' appears twice in one object");
	tmp_remove(&t);
}

static void test_bad_lines(void **state)
{
	ms_open_options o = { 0 };
	char path[700];
	tmpdir t;

	(void)state;
	o.allow_no_manifest = 1;
	tmp_make(&t);
	sh("cp -r '%s'/* '%s'/", fixture_dir, t.path);
	snprintf(path, sizeof(path), "%s/" TABLES_PART, t.path);
	edit(path, "\"name\":\"customers\",", "");
	open_fails(t.path, &o, MS_EINVAL, "file '" TABLES_PART "' line 3: ");
	sh("cp '%s/" TABLES_PART "' '%s'", fixture_dir, path);

	/* Not JSON at all, on line 2. */
	edit(path, "{\"database\":\"finance\"", "{\"database\":\"finance\"}}");
	open_fails(t.path, &o, MS_EINVAL, "file '" TABLES_PART "' line 2: ");
	sh("cp '%s/" TABLES_PART "' '%s'", fixture_dir, path);

	/* A partition of a table the tables folder does not hold. */
	snprintf(path, sizeof(path),
		 "%s/partitions/part-00001-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json", t.path);
	edit(path, "\"table\":\"customers\"", "\"table\":\"ghosts\"");
	edit(path, "\"tableName\":\"customers\"", "\"tableName\":\"ghosts\"");
	open_fails(t.path, &o, MS_EINVAL,
		   "file 'partitions/part-00001-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json' "
		   "line 1: ");
	tmp_remove(&t);
}

/*
 * Partition lines whose values cannot be the table's (a count other than
 * the table's partition keys, none at all) or repeat another line's values
 * are refused in a utility export when it is opened, naming file and line
 * (and the first line for a repeat).
 */
static void test_utility_partition_checks(void **state)
{
	ms_open_options o = { 0 };
	ms_catalog *cat = NULL;
	char p0[700], p1[700], keep[700];
	ms_error err;
	tmpdir t;

	(void)state;
	o.allow_no_manifest = 1;
	tmp_make(&t);
	sh("cp -r '%s'/* '%s'/", fixture_dir, t.path);
	snprintf(p0, sizeof(p0),
		 "%s/partitions/part-00000-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json", t.path);
	snprintf(p1, sizeof(p1),
		 "%s/partitions/part-00001-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json", t.path);
	snprintf(keep, sizeof(keep), "%s/keep", t.path);
	sh("cp '%s' '%s'", p1, keep);
	assert_int_equal(ms_catalog_open(&cat, t.path, &o, &err), 0);
	ms_catalog_close(cat);

	/* Two values in a table with one partition key. */
	edit(p1, "\"values\":[\"2022\"]", "\"values\":[\"2022\",\"x\"]");
	open_fails(t.path, &o, MS_EINVAL,
		   "file 'partitions/part-00001-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json' "
		   "line 1: "
		   "partition [\"2022\",\"x\"] of 'sales.customers' has 2 values, the table has 1 "
		   "partition key");
	sh("cp '%s' '%s'", keep, p1);

	/* No values at all. */
	edit(p1, "\"values\":[\"2022\"]", "\"values\":[]");
	open_fails(t.path, &o, MS_EINVAL,
		   "file 'partitions/part-00001-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json' "
		   "line 1: "
		   "partition of 'sales.customers' has no values");
	sh("cp '%s' '%s'", keep, p1);

	/* A partition of a table without partition keys. */
	edit(p1, "\"database\":\"sales\",\"table\":\"customers\"",
	     "\"database\":\"finance\",\"table\":\"ledger\"");
	edit(p1, "\"namespaceName\":\"sales\",\"tableName\":\"customers\"",
	     "\"namespaceName\":\"finance\",\"tableName\":\"ledger\"");
	open_fails(t.path, &o, MS_EINVAL,
		   "line 1: partition [\"2022\"] of 'finance.ledger' has 1 value, the table has no "
		   "partition keys");
	sh("cp '%s' '%s'", keep, p1);

	/* The values of a line in another file, with other content: refused, naming both. */
	edit(p1, "\"values\":[\"2023\"]", "\"values\":[\"2021\"]");
	open_fails(t.path, &o, MS_EINVAL,
		   "file 'partitions/part-00001-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json' "
		   "line 3: "
		   "partition [\"2021\"] of 'sales.customers' appears twice (first in file "
		   "'partitions/part-00000-a3b4c5d6-e7f8-4901-8234-56789abcdef0-c000.json' line "
		   "3)");
	sh("cp '%s' '%s'", keep, p1);

	/* ...and in the same file. */
	edit(p0, "\"values\":[\"2017-04-02\",\"eu\"]", "\"values\":[\"2017-04-01\",\"us\"]");
	open_fails(t.path, &o, MS_EINVAL,
		   "line 4: partition [\"2017-04-01\",\"us\"] of 'sales.orders' appears twice "
		   "(first "
		   "at line 2)");
	tmp_remove(&t);
}

/* After a same-size edit of file rel of snapshot snap: its new SHA-256 into manifest.json. */
static void reseal(const char *snap, const char *rel)
{
	char path[800], key[300], hex[2 * MS_HASH_LEN + 1];
	unsigned char md[MS_HASH_LEN];
	unsigned int mdlen = 0;
	size_t len, mlen;
	char *data, *m, *p;

	snprintf(path, sizeof(path), "%s/%s", snap, rel);
	data = slurp(path, &len);
	assert_non_null(data);
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	ms_hex(md, MS_HASH_LEN, hex);
	free(data);
	snprintf(path, sizeof(path), "%s/manifest.json", snap);
	m = slurp(path, &mlen);
	assert_non_null(m);
	snprintf(key, sizeof(key), "{\"path\":\"%s\",", rel);
	p = strstr(m, key);
	assert_non_null(p);
	p = strstr(p, "\"sha256\":\"");
	assert_non_null(p);
	memcpy(p + 10, hex, 2 * MS_HASH_LEN);
	spit(path, m, mlen);
	free(m);
	/* a size that changed too (same number of digits) */
	snprintf(path, sizeof(path), "%s/manifest.json", snap);
	m = slurp(path, &mlen);
	p = strstr(strstr(m, key), "\"bytes\":") + 8;
	{
		char num[32];
		size_t digits = strspn(p, "0123456789");

		snprintf(num, sizeof(num), "%zu", len);
		assert_int_equal(strlen(num), digits);
		memcpy(p, num, digits);
	}
	spit(path, m, mlen);
	free(m);
}

/*
 * A sealed gzip part whose stream is followed by bytes that are no gzip:
 * verify refuses it for what it is, and says the same again (the lines it
 * read before are not counted twice).
 */
static void test_unreadable_part_stays_refused(void **state)
{
	static const char part[] = "partitions/part-00000.json.gz";
	ms_open_options wo = writer_opts();
	ms_catalog *cat = NULL;
	char snap[600], path[700];
	ms_error err;
	int i;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	wo.compress = "gzip";
	export_fixture(t.path, &wo, snap, sizeof(snap));
	snprintf(path, sizeof(path), "%s/%s", snap, part);
	sh("printf 'xy' >> '%s'", path);
	reseal(snap, part);
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ms_catalog_verify_table(cat, "sales", "customers", &err),
				 MS_EINVAL);
		assert_non_null(strstr(err.message, "is not valid gzip"));
	}
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "orders", &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "is not valid gzip"));
	ms_catalog_close(cat);
	tmp_remove(&t);
}

/* verify_table of db.table fails with code and a message holding needle. */
static void verify_fails(ms_catalog *cat, const char *db, const char *table, int code,
			 const char *needle)
{
	ms_error err;
	int rc, n = 0;

	ms_error_clear(&err);
	rc = ms_catalog_verify_table(cat, db, table, &err);
	if (rc != code || !strstr(err.message, needle))
		fail_msg("verify %s.%s: want %d '%s', got %d '%s'", db, table, code, needle, rc,
			 err.message);
	/* and nothing is read from it */
	assert_int_equal(ms_catalog_scan_partitions(cat, db, table, 0, count_cb, &n, &err), code);
	assert_int_equal(n, 0);
}

/*
 * A snapshot with a manifest whose partition lines are wrong, sealed with
 * the right SHA-256s (a faulty producer): verify_table, which the engine
 * runs for every table before it changes anything, refuses the table with
 * the file and line; the other tables of the same file still verify.
 */
/* After file of snap was edited and resealed, verifying sales.customers fails naming needle. */
static void customers_refused(const char *snap, const char *file, const char *needle)
{
	ms_catalog *cat = NULL;
	ms_error err;

	reseal(snap, file);
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	verify_fails(cat, "sales", "customers", MS_EINVAL, needle);
	ms_catalog_close(cat);
}

static void test_manifest_partition_checks(void **state)
{
	static const char part[] = "partitions/part-00000.json";
	ms_open_options wo = writer_opts();
	ms_catalog *cat = NULL;
	char snap[600], path[700], tpath[700];
	ms_error err;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	export_fixture(t.path, &wo, snap, sizeof(snap));
	snprintf(path, sizeof(path), "%s/%s", snap, part);
	snprintf(tpath, sizeof(tpath), "%s/tables/part-00000.json", snap);
	sh("cp '%s' '%s/p.keep' && cp '%s' '%s/t.keep' && cp '%s/manifest.json' '%s/m.keep'", path,
	   t.path, tpath, t.path, snap, t.path);
#define RESTORE() \
	sh("cp '%s/p.keep' '%s' && cp '%s/t.keep' '%s' && cp '%s/m.keep' '%s/manifest.json'", \
	   t.path, path, t.path, tpath, t.path, snap)

	/* Equal values, other content. */
	edit(path, "\"values\":[\"2022\"]", "\"values\":[\"2021\"]");
	reseal(snap, part);
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	verify_fails(cat, "sales", "customers", MS_EINVAL,
		     "file 'partitions/part-00000.json' line 2: partition [\"2021\"] of "
		     "'sales.customers' appears twice (first at line 1)");
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "orders", &err), 0);
	ms_catalog_close(cat);
	RESTORE();

	/* Two values for one partition key. */
	edit(path, "\"values\":[\"2022\"]", "\"values\":[\"1\",\"2\"]");
	customers_refused(snap, part,
			  "file 'partitions/part-00000.json' line 2: partition [\"1\",\"2\"] of "
			  "'sales.customers' has 2 values, the table has 1 partition key");
	RESTORE();

	/* An empty value (Glue refuses it), found when the table is verified. */
	edit(path, "\"values\":[\"2022\"]", "\"values\":[\"\"    ]");
	customers_refused(snap, part,
			  "file 'partitions/part-00000.json' line 2: field 'values[0]' is empty");
	RESTORE();

	/* No values. */
	edit(path, "\"values\":[\"2022\"]", "\"values\":[      ]");
	customers_refused(snap, part, "line 2: partition of 'sales.customers' has no values");
	RESTORE();

	/* Values the fast path leaves to the parser (escaped), twice. */
	edit(path, "\"values\":[\"2022\"]", "\"values\":[\"\\t22\"]");
	edit(path, "\"values\":[\"2023\"]", "\"values\":[\"\\t22\"]");
	customers_refused(snap, part,
			  "line 3: partition [\"\\t22\"] of 'sales.customers' appears twice "
			  "(first at line 2)");
	RESTORE();

	/* A table line without partition keys, whose partitions have one value. */
	edit(tpath, "\"partitionKeys\":[{\"name\":\"year\",\"type\":\"string\"}]",
	     "\"partitionKeys\":[                               ]");
	customers_refused(snap, "tables/part-00000.json",
			  "line 1: partition [\"2021\"] of 'sales.customers' has 1 value, the "
			  "table has no partition keys");
	RESTORE();
#undef RESTORE

	/* Untouched, everything verifies. */
	assert_int_equal(ms_catalog_open(&cat, snap, NULL, &err), 0);
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "customers", &err), 0);
	assert_int_equal(ms_catalog_verify_table(cat, "sales", "orders", &err), 0);
	ms_catalog_close(cat);
	tmp_remove(&t);
}

static ms_entity *glue(ms_kind kind, const char *json);

/* Writer w refuses the partition json of big.table alone with message. */
static void put_refused(ms_catalog *w, const char *table, const char *json, const char *message)
{
	ms_entity *p = glue(MS_KIND_PARTITION, json);
	ms_error err;

	assert_int_equal(ms_catalog_put_partitions(w, "big", table, &p, 1, &err), MS_EINVAL);
	assert_string_equal(err.message, message);
	ms_entity_free(p);
}

/*
 * The writer writes nothing its reader would refuse: a batch with a
 * partition whose values do not fit the table, or that repeat values
 * written before (or given twice), is refused whole.
 */
static void test_writer_partition_checks(void **state)
{
	ms_open_options wo = writer_opts();
	ms_catalog *w = NULL, *r = NULL;
	ms_entity *e, *p[3];
	ms_error err;
	tmpdir t;
	int n = 0;

	(void)state;
	tmp_make(&t);
	assert_int_equal(ms_catalog_open(&w, t.path, &wo, &err), 0);
	e = glue(MS_KIND_DATABASE, "{\"Name\":\"big\"}");
	assert_int_equal(ms_catalog_put_database(w, e, &err), 0);
	ms_entity_free(e);
	e = glue(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"PartitionKeys\":[{\"Name\":\"k\",\"Type\":\"string\"}]}");
	assert_int_equal(ms_catalog_put_table(w, e, &err), 0);
	ms_entity_free(e);
	e = glue(MS_KIND_TABLE, "{\"Name\":\"flat\"}");
	assert_int_equal(ms_catalog_put_table(w, e, &err), 0);
	ms_entity_free(e);

	p[0] = glue(MS_KIND_PARTITION, "{\"Values\":[\"a\"]}");
	p[1] = glue(MS_KIND_PARTITION, "{\"Values\":[\"b\",\"c\"]}");
	p[2] = glue(MS_KIND_PARTITION, "{\"Values\":[]}");
	assert_int_equal(ms_catalog_put_partitions(w, "big", "t", p, 2, &err), MS_EINVAL);
	assert_string_equal(err.message,
			    "partition [\"b\",\"c\"] of 'big.t' has 2 values, the table has 1 "
			    "partition key");
	assert_int_equal(ms_catalog_put_partitions(w, "big", "t", p + 2, 1, &err), MS_EINVAL);
	assert_string_equal(err.message, "partition of 'big.t' has no values");
	ms_entity_free(p[1]);
	p[1] = glue(MS_KIND_PARTITION, "{\"Values\":[\"a\"],\"Parameters\":{\"other\":\"x\"}}");
	assert_int_equal(ms_catalog_put_partitions(w, "big", "t", p, 2, &err), MS_EEXISTS);
	assert_non_null(strstr(err.message, "partition [\"a\"] of 'big.t' is given twice"));
	assert_int_equal(ms_catalog_put_partitions(w, "big", "t", p, 1, &err), 0);
	assert_int_equal(ms_catalog_put_partitions(w, "big", "t", p + 1, 1, &err), MS_EEXISTS);
	assert_non_null(strstr(err.message, "partition [\"a\"] of 'big.t' is already in snapshot"));
	ms_entity_free(p[0]);
	ms_entity_free(p[1]);
	ms_entity_free(p[2]);
	put_refused(w, "flat", "{\"Values\":[\"a\"],\"TableName\":\"flat\"}",
		    "partition [\"a\"] of 'big.flat' has 1 value, the table has no partition keys");
	/* A table given as its stored text (as a raw scan of the embedded catalog gives it). */
	{
		ms_buf b = MS_BUF_INIT(1 << 20);

		e = glue(MS_KIND_TABLE, "{\"Name\":\"r\",\"PartitionKeys\":[{\"Name\":\"k\"}]}");
		assert_int_equal(ms_entity_to_glue(e, &b, 0, &err), 0);
		cJSON_Delete(e->doc);
		e->doc = NULL;
		e->raw_len = b.len;
		e->raw = ms_buf_detach(&b);
		assert_int_equal(ms_catalog_put_table(w, e, &err), 0);
		ms_entity_free(e);
		ms_buf_free(&b);
	}
	put_refused(w, "r", "{\"Values\":[\"a\",\"b\"],\"TableName\":\"r\"}",
		    "partition [\"a\",\"b\"] of 'big.r' has 2 values, the table has 1 "
		    "partition key");
	assert_int_equal(ms_catalog_finish(w, &err), 0);
	ms_catalog_close(w);

	/* What was refused is not in the snapshot. */
	assert_int_equal(ms_catalog_open(&r, t.path, NULL, &err), 0);
	assert_int_equal(ms_catalog_verify_table(r, "big", "t", &err), 0);
	assert_int_equal(ms_catalog_scan_partitions(r, "big", "t", 0, count_cb, &n, &err), 0);
	assert_int_equal(n, 1);
	ms_catalog_close(r);
	tmp_remove(&t);
}

static void test_writer_close_without_finish(void **state)
{
	ms_open_options wo = writer_opts();
	ms_catalog *src = open_utility_export(), *dst = NULL;
	names ns = { { 0 }, 0 };
	char path[700];
	ms_error err;
	ms_entity *e = NULL;
	ms_digest d;
	DIR *dir;
	struct dirent *de;
	tmpdir t;
	int n = 0;

	(void)state;
	tmp_make(&t);
	wo.part_bytes = 1500;
	assert_int_equal(ms_catalog_open(&dst, t.path, &wo, &err), 0);
	assert_int_not_equal(ms_catalog_caps(dst) & MS_CAP_WRITE, 0);
	copy_catalog(src, dst);
	/* To the engine the writer is an empty catalog. */
	assert_int_equal(ms_catalog_list_databases(dst, name_cb, &ns, &err), 0);
	assert_int_equal(ns.n, 0);
	assert_int_equal(ms_catalog_get_table(dst, "sales", "orders", &e, &err), MS_ENOTFOUND);
	assert_int_equal(ms_catalog_table_digest(dst, "sales", "orders", &d, &err), 0);
	assert_int_equal(d.count, 0);
	/* Tables need their database, partitions their table. */
	assert_int_equal(ms_catalog_get_table(src, "sales", "orders", &e, &err), 0);
	assert_int_equal(ms_catalog_put_table(dst, e, &err), MS_EEXISTS);
	ms_entity_free(e);
	assert_int_equal(ms_catalog_put_partitions(dst, "sales", "ghosts", NULL, 0, &err),
			 MS_ENOTFOUND);
	ms_catalog_close(dst);
	ms_catalog_close(src);

	/* Nothing is left: no part, no _SUCCESS, no manifest, no LATEST. */
	snprintf(path, sizeof(path), "%s/LATEST", t.path);
	assert_false(exists(path));
	dir = opendir(t.path);
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			n++;
		}
	closedir(dir);
	assert_int_equal(n, 0);
	tmp_remove(&t);
}

static void test_empty_snapshot(void **state)
{
	ms_open_options wo = writer_opts();
	ms_catalog *dst = NULL, *back = NULL;
	names ns = { { 0 }, 0 };
	ms_error err;
	tmpdir t;

	(void)state;
	tmp_make(&t);
	wo.selection = NULL;
	assert_int_equal(ms_catalog_open(&dst, t.path, &wo, &err), 0);
	assert_int_equal(ms_catalog_finish(dst, &err), 0);
	ms_catalog_close(dst);
	assert_int_equal(ms_catalog_open(&back, t.path, NULL, &err), 0);
	assert_null(ms_catalog_selection(back));
	assert_int_equal(ms_catalog_list_databases(back, name_cb, &ns, &err), 0);
	assert_int_equal(ns.n, 0);
	ms_catalog_close(back);
	tmp_remove(&t);
}

static int setup_all(void **state)
{
	const char *fx = getenv("MS_FIXTURES");
	char rel[1024];

	(void)state;
	snprintf(rel, sizeof(rel), "%s/utility-export/" EXPORT_ID, fx ? fx : "tests/fixtures");
	return realpath(rel, fixture_dir) ? 0 : -1;
}

/* ---- large tables: the parse-ahead reader ---- */

#define BIG_PARTS 10000

static ms_entity *glue(ms_kind kind, const char *json)
{
	ms_entity *e = NULL;
	ms_error err;
	cJSON *doc = cJSON_Parse(json);

	assert_non_null(doc);
	if (ms_entity_from_glue(&e, kind, doc, "big", "t", &err) != 0)
		fail_msg("entity: %s", err.message);
	return e;
}

typedef struct big_scan {
	size_t n;
	size_t stop_after; /* 0: never */
	int in_order;
	char last[64];
} big_scan;

static int big_cb(ms_entity *e, void *ctx, ms_error *err)
{
	big_scan *b = ctx;

	(void)err;
	if (strcmp(e->vkey, b->last) <= 0)
		b->in_order = 0;
	snprintf(b->last, sizeof(b->last), "%s", e->vkey);
	ms_entity_free(e);
	b->n++;
	return b->stop_after && b->n == b->stop_after ? 7 : 0;
}

static void big_table_with(const char *compress)
{
	ms_open_options wo = writer_opts();
	ms_catalog *w = NULL, *r = NULL;
	ms_entity *e, *batch[500];
	big_scan b;
	ms_digest dg;
	ms_error err;
	char json[512];
	tmpdir t;
	size_t i, k;

	tmp_make(&t);
	wo.compress = compress;
	wo.part_bytes = 256 * 1024; /* the table's lines span several part files */
	assert_int_equal(ms_catalog_open(&w, t.path, &wo, &err), 0);
	e = glue(MS_KIND_DATABASE, "{\"Name\":\"big\"}");
	assert_int_equal(ms_catalog_put_database(w, e, &err), 0);
	ms_entity_free(e);
	e = glue(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"PartitionKeys\":[{\"Name\":\"k\",\"Type\":\"string\"}]}");
	assert_int_equal(ms_catalog_put_table(w, e, &err), 0);
	ms_entity_free(e);
	for (i = 0; i < BIG_PARTS; i += 500) {
		for (k = 0; k < 500; k++) {
			snprintf(json, sizeof(json),
				 "{\"Values\":[\"%06zu\"],\"StorageDescriptor\":{\"Location\":"
				 "\"s3://b/t/k=%06zu/"
				 "\",\"Columns\":[{\"Name\":\"c\",\"Type\":\"string\"}]},"
				 "\"Parameters\":{\"n\":\"%zu\"}}",
				 i + k, i + k, i + k);
			batch[k] = glue(MS_KIND_PARTITION, json);
		}
		if (ms_catalog_put_partitions(w, "big", "t", batch, 500, &err) != 0)
			fail_msg("put: %s", err.message);
		for (k = 0; k < 500; k++)
			ms_entity_free(batch[k]);
	}
	assert_int_equal(ms_catalog_finish(w, &err), 0);
	ms_catalog_close(w);

	assert_int_equal(ms_catalog_open(&r, t.path, NULL, &err), 0);
	assert_int_equal(ms_catalog_table_digest(r, "big", "t", &dg, &err), 0);
	assert_int_equal(dg.count, BIG_PARTS);
	/* Unverified files are refused, also by the parse-ahead reader. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(ms_catalog_scan_partitions(r, "big", "t", 0, big_cb, &b, &err),
			 MS_EINTEGRITY);
	assert_int_equal(b.n, 0);
	assert_int_equal(ms_catalog_verify_table(r, "big", "t", &err), 0);
	/* Everything, in order. */
	memset(&b, 0, sizeof(b));
	b.in_order = 1;
	assert_int_equal(ms_catalog_scan_partitions(r, "big", "t", 0, big_cb, &b, &err), 0);
	assert_int_equal(b.n, BIG_PARTS);
	assert_true(b.in_order);
	/* A consumer that stops early gets its own return value back, at once. */
	memset(&b, 0, sizeof(b));
	b.stop_after = 1234;
	assert_int_equal(ms_catalog_scan_partitions(r, "big", "t", 0, big_cb, &b, &err), 7);
	assert_int_equal(b.n, 1234);
	ms_catalog_close(r);
	tmp_remove(&t);
}

static void test_big_table(void **state)
{
	(void)state;
	big_table_with(NULL);
	big_table_with("gzip");
}

/*
 * A table whose lines fill several part files: values repeated in a later
 * file are found when that file is verified, naming the first one's file
 * and line (what verify remembers of a table's values lasts until all of its
 * files are verified).
 */
static void test_big_table_repeat(void **state)
{
	ms_open_options wo = writer_opts();
	ms_catalog *w = NULL, *r = NULL;
	ms_entity *e, *batch[500];
	ms_error err;
	char json[512], path[700], rel[64];
	tmpdir t;
	size_t i, k;
	int f, found = -1;

	(void)state;
	tmp_make(&t);
	wo.part_bytes = 64 * 1024;
	assert_int_equal(ms_catalog_open(&w, t.path, &wo, &err), 0);
	e = glue(MS_KIND_DATABASE, "{\"Name\":\"big\"}");
	assert_int_equal(ms_catalog_put_database(w, e, &err), 0);
	ms_entity_free(e);
	e = glue(MS_KIND_TABLE,
		 "{\"Name\":\"t\",\"PartitionKeys\":[{\"Name\":\"k\",\"Type\":\"string\"}]}");
	assert_int_equal(ms_catalog_put_table(w, e, &err), 0);
	ms_entity_free(e);
	for (i = 0; i < 3000; i += 500) {
		for (k = 0; k < 500; k++) {
			snprintf(json, sizeof(json),
				 "{\"Values\":[\"%06zu\"],\"StorageDescriptor\":{\"Location\":"
				 "\"s3://b/t/k=%06zu/\"}}",
				 i + k, i + k);
			batch[k] = glue(MS_KIND_PARTITION, json);
		}
		assert_int_equal(ms_catalog_put_partitions(w, "big", "t", batch, 500, &err), 0);
		for (k = 0; k < 500; k++)
			ms_entity_free(batch[k]);
	}
	assert_int_equal(ms_catalog_finish(w, &err), 0);
	ms_catalog_close(w);
	{
		char *latest, snap[600];

		snprintf(path, sizeof(path), "%s/LATEST", t.path);
		latest = slurp(path, NULL);
		assert_non_null(latest);
		*strchr(latest, '\n') = '\0';
		snprintf(snap, sizeof(snap), "%s/%s", t.path, latest);
		free(latest);
		for (f = 1; f < 100 && found < 0; f++) {
			char *data;

			snprintf(rel, sizeof(rel), "partitions/part-%05d.json", f);
			snprintf(path, sizeof(path), "%s/%s", snap, rel);
			if (!(data = slurp(path, NULL)))
				break;
			if (strstr(data, "\"values\":[\"002500\"]"))
				found = f;
			free(data);
		}
		assert_true(found > 0);
		edit(path, "\"values\":[\"002500\"]", "\"values\":[\"000001\"]");
		reseal(snap, rel);
		assert_int_equal(ms_catalog_open(&r, snap, NULL, &err), 0);
	}
	verify_fails(r, "big", "t", MS_EINVAL,
		     "partition [\"000001\"] of 'big.t' appears twice (first in file "
		     "'partitions/part-00000.json' line 2)");
	ms_catalog_close(r);
	tmp_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utility_export_needs_flag),
		cmocka_unit_test(test_utility_export_read),
		cmocka_unit_test(test_utility_input_paths),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_split_parts),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_gzip_utility_export),
		cmocka_unit_test(test_latest),
		cmocka_unit_test(test_snapshot_info),
		cmocka_unit_test(test_unsafe_latest),
		cmocka_unit_test(test_integrity),
		cmocka_unit_test(test_unsafe_manifest_paths),
		cmocka_unit_test(test_manifest_duplicate_keys),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_utility_partition_checks),
		cmocka_unit_test(test_manifest_partition_checks),
		cmocka_unit_test(test_unreadable_part_stays_refused),
		cmocka_unit_test(test_writer_partition_checks),
		cmocka_unit_test(test_writer_close_without_finish),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_big_table),
		cmocka_unit_test(test_big_table_repeat),
	};

	return cmocka_run_group_tests(tests, setup_all, NULL);
}
