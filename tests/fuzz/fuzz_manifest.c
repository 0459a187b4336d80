/*
 * Fuzz target: a snapshot's manifest.json, read as an import reads it.  The
 * input is the manifest; the files it describes are those of a small
 * snapshot (one database, a partitioned table with two partitions, an
 * unpartitioned table), written once into a temporary directory.  The
 * snapshot is opened, listed, verified and scanned; a manifest that does not
 * match its files must be refused, never read past.  Every error must stay
 * one line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metasync/catalog.h"
#include "metasync/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 16

/* The snapshot's files (the manifests in corpus/manifest/ describe them). */
static const char *const files[][2] = {
	{ "databases/part-00000.json",
	  "{\"type\":\"database\",\"item\":{\"catalogId\":\"111111111111\",\"createTime\":"
	  "\"1796506307000\",\"name\":\"d\",\"parameters\":{}}}\n" },
	{ "tables/part-00000.json",
	  "{\"database\":\"d\",\"type\":\"table\",\"item\":{\"catalogId\":\"111111111111\","
	  "\"createTime\":\"1796506307000\",\"name\":\"t\",\"parameters\":{},\"partitionKeys\":"
	  "[{\"name\":\"k\",\"type\":\"string\"}],\"storageDescriptor\":{\"columns\":[{\"name\":"
	  "\"c\",\"type\":\"int\"}],\"location\":\"s3://b/t/"
	  "\"},\"updateTime\":\"1796506307000\"}}\n"
	  "{\"database\":\"d\",\"type\":\"table\",\"item\":{\"catalogId\":\"111111111111\","
	  "\"createTime\":\"1796506309000\",\"name\":\"u\",\"parameters\":{},\"storageDescriptor\":"
	  "{\"columns\":[{\"name\":\"c\",\"type\":\"int\"}],\"location\":\"s3://b/u/\"},"
	  "\"updateTime\":\"1796506309000\"}}\n" },
	{ "partitions/part-00000.json",
	  "{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":{\"namespaceName\":"
	  "\"d\",\"tableName\":\"t\",\"catalogId\":\"111111111111\",\"creationTime\":"
	  "\"1796506308000\",\"parameters\":{},\"storageDescriptor\":{\"columns\":[{\"name\":\"c\","
	  "\"type\":\"int\"}],\"location\":\"s3://b/t/k=1/\"},\"values\":[\"1\"]}}\n"
	  "{\"database\":\"d\",\"table\":\"t\",\"type\":\"partition\",\"item\":{\"namespaceName\":"
	  "\"d\",\"tableName\":\"t\",\"catalogId\":\"111111111111\",\"creationTime\":"
	  "\"1796506308000\",\"parameters\":{},\"storageDescriptor\":{\"columns\":[{\"name\":\"c\","
	  "\"type\":\"int\"}],\"location\":\"s3://b/t/k=2/\"},\"values\":[\"2\"]}}\n" },
	{ "databases/_SUCCESS", "" },
	{ "tables/_SUCCESS", "" },
	{ "partitions/_SUCCESS", "" },
	{ "_SUCCESS", "" },
};
static const char *const folders[] = { "databases", "tables", "partitions" };

static char dir[256];

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void remove_dir(void)
{
	char p[512];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_of(p, sizeof(p), files[i][0]);
		unlink(p);
	}
	path_of(p, sizeof(p), "manifest.json");
	unlink(p);
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		path_of(p, sizeof(p), folders[i]);
		rmdir(p);
	}
	rmdir(dir);
}

static void write_file(const char *name, const void *text, size_t len)
{
	char p[512];
	FILE *f;

	path_of(p, sizeof(p), name);
	if (!(f = fopen(p, "wb")) || fwrite(text, 1, len, f) != len || fclose(f) != 0)
		abort();
}

/* The snapshot's directory, made on the first call. */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char p[512];
	size_t i;

	if (dir[0])
		return;
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	snprintf(dir, sizeof(dir), "%s/metasync-fuzz-manifest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		path_of(p, sizeof(p), folders[i]);
		if (mkdir(p, 0700) != 0)
			abort();
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		write_file(files[i][0], files[i][1], strlen(files[i][1]));
}

typedef struct names {
	char *v[MAX_NAMES];
	size_t n;
} names;

static int collect(const char *name, void *ctx, ms_error *err)
{
	names *l = ctx;

	(void)err;
	if (l->n < MAX_NAMES && !(l->v[l->n++] = strdup(name)))
		abort();
	return 0;
}

static void names_free(names *l)
{
	while (l->n)
		free(l->v[--l->n]);
}

static int drop(ms_entity *e, void *ctx, ms_error *err)
{
	(void)ctx;
	(void)err;
	ms_entity_free(e);
	return 0;
}

static void one_line(const ms_error *err)
{
	if (strchr(err->message, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_open_options opts;
	ms_catalog *cat = NULL;
	names dbs = { { 0 }, 0 }, tables = { { 0 }, 0 };
	ms_error err;
	char url[300];
	size_t i, j;

	setup();
	write_file("manifest.json", data, size);
	memset(&opts, 0, sizeof(opts));
	snprintf(url, sizeof(url), "file://%s", dir);
	ms_error_clear(&err);
	if (ms_catalog_open(&cat, url, &opts, &err) < 0) {
		one_line(&err);
		return 0;
	}
	if (ms_catalog_list_databases(cat, collect, &dbs, &err) < 0)
		one_line(&err);
	for (i = 0; i < dbs.n; i++) {
		names_free(&tables);
		ms_error_clear(&err);
		if (ms_catalog_list_tables(cat, dbs.v[i], collect, &tables, &err) < 0) {
			one_line(&err);
			continue;
		}
		for (j = 0; j < tables.n; j++) {
			ms_error_clear(&err);
			if (ms_catalog_verify_table(cat, dbs.v[i], tables.v[j], &err) < 0 ||
			    ms_catalog_scan_partitions(cat, dbs.v[i], tables.v[j], 0, drop, NULL,
						       &err) < 0)
				one_line(&err);
		}
	}
	names_free(&tables);
	names_free(&dbs);
	ms_catalog_close(cat);
	return 0;
}
