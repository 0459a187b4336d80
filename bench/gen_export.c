/*
 * gen_export: write a synthetic export in the layout of the AWS Glue "Hive
 * metastore migration" utility (export_from_datacatalog.py --mode to-s3):
 *
 *   DIR/<YYYY-MM-DD-HH-MM-SS>/databases/part-NNNNN-<uuid>-c000.json  + _SUCCESS
 *                             tables/part-NNNNN-<uuid>-c000.json     + _SUCCESS
 *                             partitions/part-NNNNN-<uuid>-c000.json + _SUCCESS
 *
 * One JSON object per line, keys in the order the utility's Spark writer
 * emits them, timestamps as epoch-millisecond strings (Glue-side export).
 * About 1 KB per partition line (the reference figure: 200,000 lines =
 * 215 MB).  Part files are cut at about 128 MB, as Spark's partitioning of a
 * large export does.  The output is deterministic for given arguments.
 *
 * usage: gen_export OUTPUT_DIR [PARTITIONS [DATABASES [TABLES]]]
 *        defaults: 1000000 partitions, 25 databases, 150 tables
 *
 * The columns, values and numbers come from synth.h, which glue_load shares.
 * Standalone C11 + POSIX, no library dependency:
 *   gcc -O2 -std=c11 -o gen_export gen_export.c
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "synth.h"

#define PART_BYTES (128ull * 1024 * 1024)

static uint64_t rng_state = SYNTH_SEED;

static uint64_t rng(void)
{
	return synth_rng(&rng_state);
}

static void uuid(char out[37])
{
	uint64_t a = rng(), b = rng();
	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
		 (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
		 (unsigned long long)(b & 0xffffffffffffull));
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "gen_export: %s '%s': %s\n", what, path, strerror(errno));
	exit(1);
}

static void mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		die("cannot create", path);
	}
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
			die("cannot create", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
		die("cannot create", tmp);
}

/* A Spark-style output folder: part files sharing one job uuid, cut at
 * PART_BYTES, then an empty _SUCCESS. */
struct folder {
	char dir[4096];
	char job[37];
	unsigned part;
	FILE *f;
	uint64_t bytes;
	uint64_t lines;
	uint64_t total_bytes;
	unsigned files;
};

static void folder_open(struct folder *fo, const char *root, const char *name)
{
	memset(fo, 0, sizeof *fo);
	snprintf(fo->dir, sizeof fo->dir, "%s/%s", root, name);
	mkdir_p(fo->dir);
	uuid(fo->job);
}

static FILE *folder_file(struct folder *fo)
{
	if (fo->f && fo->bytes < PART_BYTES)
		return fo->f;
	if (fo->f && fclose(fo->f) != 0)
		die("cannot write", fo->dir);
	char path[4200];
	snprintf(path, sizeof path, "%s/part-%05u-%s-c000.json", fo->dir, fo->part++, fo->job);
	fo->f = fopen(path, "w");
	if (!fo->f)
		die("cannot create", path);
	setvbuf(fo->f, NULL, _IOFBF, 1 << 20);
	fo->bytes = 0;
	fo->files++;
	return fo->f;
}

static void folder_line(struct folder *fo, const char *line, size_t len)
{
	FILE *f = folder_file(fo);
	if (fwrite(line, 1, len, f) != len || fputc('\n', f) == EOF)
		die("cannot write", fo->dir);
	fo->bytes += len + 1;
	fo->total_bytes += len + 1;
	fo->lines++;
}

static void folder_close(struct folder *fo)
{
	if (fo->f && fclose(fo->f) != 0)
		die("cannot write", fo->dir);
	fo->f = NULL;
	char path[4200];
	snprintf(path, sizeof path, "%s/_SUCCESS", fo->dir);
	FILE *s = fopen(path, "w");
	if (!s || fclose(s) != 0)
		die("cannot create", path);
}

/* a growable line buffer */
struct sb {
	char *p;
	size_t n, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sb *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (k < 0) {
			perror("gen_export: vsnprintf");
			exit(1);
		}
		if ((size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->n + (size_t)k + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			perror("gen_export: realloc");
			exit(1);
		}
		b->p = np;
		b->cap = cap;
	}
}

/* the storage descriptor the utility writes for tables and partitions */
static void storage_descriptor(struct sb *b, const char *location)
{
	sb_add(b, "\"storageDescriptor\":{\"columns\":[");
	for (int i = 0; i < SYNTH_NCOLS; i++)
		sb_add(b, "%s{\"name\":\"%s\",\"type\":\"%s\"}", i ? "," : "", synth_col_names[i],
		       synth_col_types[i]);
	sb_add(b,
	       "],\"location\":\"%s\","
	       "\"inputFormat\":\"" SYNTH_INPUT_FORMAT "\","
	       "\"outputFormat\":\"" SYNTH_OUTPUT_FORMAT "\","
	       "\"serdeInfo\":{\"serializationLibrary\":"
	       "\"" SYNTH_SERDE "\","
	       "\"parameters\":{\"serialization.format\":\"1\"}},"
	       "\"compressed\":false,\"numberOfBuckets\":-1,\"storedAsSubDirectories\":false,"
	       "\"bucketColumns\":[],\"sortColumns\":[],\"parameters\":{},"
	       "\"skewedInfo\":{\"skewedColumnNames\":[],\"skewedColumnValues\":[],"
	       "\"skewedColumnValueLocationMaps\":{}}}",
	       location);
}

static unsigned long parse_count(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-') {
		fprintf(stderr, "gen_export: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 5 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: gen_export OUTPUT_DIR [PARTITIONS [DATABASES [TABLES]]]\n"
				"defaults: 1000000 partitions, 25 databases, 150 tables\n");
		return 2;
	}
	const char *out = argv[1];
	unsigned long nparts = argc > 2 ? parse_count(argv[2], "partition count") : 1000000;
	unsigned long ndbs = argc > 3 ? parse_count(argv[3], "database count") : 25;
	unsigned long ntables = argc > 4 ? parse_count(argv[4], "table count") : 150;
	if (ndbs == 0 || ntables == 0) {
		fprintf(stderr, "gen_export: need at least one database and one table\n");
		return 2;
	}

	/* a fixed export time, so the output is the same on every run */
	const char *stamp = "2024-05-01-12-00-00";
	const char *create_ms = "1651241372000";
	char root[4096];
	snprintf(root, sizeof root, "%s/%s", out, stamp);

	struct folder dbs, tbls, parts;
	folder_open(&dbs, root, "databases");
	folder_open(&tbls, root, "tables");
	folder_open(&parts, root, "partitions");

	struct sb b = { 0 };

	for (unsigned long d = 0; d < ndbs; d++) {
		b.n = 0;
		sb_add(&b,
		       "{\"type\":\"database\",\"item\":{\"name\":\"db_%03lu\","
		       "\"description\":\"synthetic benchmark database %lu\","
		       "\"locationUri\":\"s3://bench-lake/db_%03lu\","
		       "\"parameters\":{\"owner\":\"data-platform\",\"classification\":"
		       "\"internal\"}}}",
		       d, d, d);
		folder_line(&dbs, b.p, b.n);
	}
	folder_close(&dbs);

	/* tables round-robin over databases; partitions spread evenly over tables */
	for (unsigned long t = 0; t < ntables; t++) {
		unsigned long d = t % ndbs;
		char loc[512];
		snprintf(loc, sizeof loc, "s3://bench-lake/db_%03lu/events_%03lu/", d, t);
		b.n = 0;
		sb_add(&b,
		       "{\"database\":\"db_%03lu\",\"type\":\"table\",\"item\":{"
		       "\"name\":\"events_%03lu\",\"createTime\":\"%s\",\"owner\":\"hadoop\","
		       "\"tableType\":\"EXTERNAL_TABLE\","
		       "\"parameters\":{\"EXTERNAL\":\"TRUE\",\"classification\":\"parquet\","
		       "\"parquet.compression\":\"SNAPPY\"},"
		       "\"partitionKeys\":[{\"name\":\"dt\",\"type\":\"string\"},"
		       "{\"name\":\"hour\",\"type\":\"string\"}],",
		       d, t, create_ms);
		storage_descriptor(&b, loc);
		sb_add(&b, "}}");
		folder_line(&tbls, b.p, b.n);
	}
	folder_close(&tbls);

	for (unsigned long t = 0; t < ntables; t++) {
		unsigned long d = t % ndbs;
		unsigned long n = nparts / ntables + (t < nparts % ntables ? 1 : 0);
		for (unsigned long i = 0; i < n; i++) {
			char dt[SYNTH_DT_MAX];
			unsigned long hour = synth_values(i, dt), rows, size;
			char loc[512];
			snprintf(loc, sizeof loc,
				 "s3://bench-lake/db_%03lu/events_%03lu/dt=%s/hour=%02lu/", d, t,
				 dt, hour);
			synth_stats(rng(), &rows, &size);
			b.n = 0;
			sb_add(&b,
			       "{\"database\":\"db_%03lu\",\"table\":\"events_%03lu\",\"type\":"
			       "\"partition\","
			       "\"item\":{\"values\":[\"%s\",\"%02lu\"],\"creationTime\":\"%s\","
			       "\"lastAccessTime\":\"0\",\"namespaceName\":\"db_%03lu\","
			       "\"tableName\":\"events_%03lu\","
			       "\"parameters\":{\"numRows\":\"%lu\",\"totalSize\":\"%lu\"},",
			       d, t, dt, hour, create_ms, d, t, rows, size);
			storage_descriptor(&b, loc);
			sb_add(&b, "}}");
			folder_line(&parts, b.p, b.n);
		}
	}
	folder_close(&parts);
	free(b.p);

	printf("%s: %lu databases, %lu tables, %" PRIu64 " partitions (%" PRIu64
	       " bytes in %u part files, %.0f bytes a line)\n",
	       root, ndbs, ntables, parts.lines, parts.total_bytes, parts.files,
	       parts.lines ? (double)parts.total_bytes / (double)parts.lines : 0.0);
	return 0;
}
