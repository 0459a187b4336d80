/*
 * The demo's source catalog.  `metasync demo` needs something worth
 * replicating without any server or download: a catalog shaped like a real
 * multi-team data lake, with the storage formats, table parameters, view
 * dialects and partition layouts that break naive replication scripts
 * (bucketed ORC, skewed columns, Hudi's Spark schema parameters, Iceberg
 * column parameters, Athena views whose SQL hides in base64, views over
 * views across databases).  Everything is derived from fixed tables and a
 * fixed seed, so two runs write byte-identical documents and the demo can
 * tell whether a catalog already holds what it would write; only the times
 * the catalog assigns itself differ.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_internal.h"
#include "util/buf.h"

#define DEMO_SEED 0x6d65746173796e63ULL
#define DEMO_BATCH 1000
#define DEMO_END_DAY_Y 2024
#define DEMO_END_DAY_M 6
#define DEMO_END_DAY_D 30
#define MAX_COLUMNS 24

/* ---- deterministic randomness ----------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A pseudo-random 64-bit value determined by (a, b) and the demo seed. */
static uint64_t rnd(uint64_t a, uint64_t b)
{
	return mix64(mix64(DEMO_SEED ^ a) ^ b);
}

/* A value in [0, 1) from h. */
static double unit(uint64_t h)
{
	return (double)(h >> 11) / 9007199254740992.0;
}

/* ---- one table, as the generator sees it ------------------------------ */

typedef struct tinfo {
	const dbspec *db;
	const tspec *t;
	size_t index; /* 0..DEMO_TABLES-1 */
	uint64_t seed;
	col cols[MAX_COLUMNS];
	size_t ncols;
	char idcol[MS_NAME_MAX + 1];
	char location[512];
	unsigned long long nparts;
	double weight;
	unsigned int nregions; /* P_REGION */
	unsigned int buckets;  /* F_ORC */
	double rows;           /* typical rows per partition */
	unsigned int row_bytes;
} tinfo;

static int is_crawled(int fmt)
{
	return fmt == F_JSON || fmt == F_CSV || fmt == F_TSV || fmt == F_OPENCSV;
}

static int simple_type(const char *type)
{
	return !strchr(type, '<');
}

static void build_columns(tinfo *ti)
{
	const tspec *t = ti->t;
	size_t n, i, want;
	char used[DEMO_POOL_SIZE] = { 0 };

	if (t->cols) {
		for (i = 0; i < t->ncols && i < MAX_COLUMNS; i++)
			ti->cols[i] = t->cols[i];
		ti->ncols = i;
		return;
	}
	/* Hudi's meta columns come first, as Hudi's Glue sync writes them. */
	if (t->fmt == F_HUDI)
		for (i = 0; i < 5; i++)
			ti->cols[ti->ncols++] = demo_hudi_meta[i];
	/* "orders" -> order_id, "time_off" -> time_off_id */
	n = strlen(t->name);
	if (n > 1 && t->name[n - 1] == 's' && t->name[n - 2] != 's')
		n--;
	snprintf(ti->idcol, sizeof(ti->idcol), "%.*s_id", (int)n, t->name);
	ti->cols[ti->ncols].name = ti->idcol;
	ti->cols[ti->ncols].type = (ti->seed & 1) ? "bigint" : "string";
	ti->cols[ti->ncols].comment = "primary key";
	ti->ncols++;
	/* Hudi's precombine field. */
	if (t->fmt == F_HUDI) {
		ti->cols[ti->ncols++] = demo_pool[2];
		used[2] = 1;
	}
	want = ti->ncols + 4 + (size_t)(rnd(ti->seed, 1) % 8);
	for (i = 0; ti->ncols < want && i < 200; i++) {
		size_t k = (size_t)(rnd(ti->seed, 100 + i) % DEMO_POOL_SIZE);
		if (used[k] || strcmp(demo_pool[k].name, ti->idcol) == 0)
			continue;
		/* Avro, Hudi and Delta schemas below are written for primitive types. */
		if ((t->fmt == F_AVRO || t->fmt == F_HUDI || t->fmt == F_DELTA) &&
		    !simple_type(demo_pool[k].type))
			continue;
		used[k] = 1;
		ti->cols[ti->ncols++] = demo_pool[k];
	}
}

static void tinfo_init(tinfo *ti, size_t d, size_t k)
{
	const tspec *t = &demo_lake[d].tables[k];
	double u;

	memset(ti, 0, sizeof(*ti));
	ti->db = &demo_lake[d];
	ti->t = t;
	ti->index = d * 6 + k;
	ti->seed = rnd(0x7461626c65ULL, ti->index);
	build_columns(ti);
	snprintf(ti->location, sizeof(ti->location), "s3://acme-%s-lake/%s/%s/", ti->db->team,
		 ti->db->name, t->name);
	ti->nregions = 3 + (unsigned int)(rnd(ti->seed, 2) % (DEMO_NREGIONS - 2));
	ti->buckets = 8u << (rnd(ti->seed, 3) % 3);
	/* Rows per partition: log-uniform between 10^3 and 10^6 (hourly: a tenth). */
	u = unit(rnd(ti->seed, 4));
	ti->rows = 1000.0;
	for (int i = 0; i < (int)(u * 30); i++)
		ti->rows *= 1.2589254; /* 10^0.1 */
	if (t->layout == P_HOUR)
		ti->rows /= 10;
	ti->row_bytes = 80 + (unsigned int)(rnd(ti->seed, 5) % 520);
	/* Share of the partitions: hourly tables hold most, a few tables are hot. */
	if (t->layout == P_NONE) {
		ti->weight = 0;
	} else {
		double base = t->layout == P_HOUR ? 8.0 : t->layout == P_REGION ? 3.0 : 1.0;
		double v = unit(rnd(ti->seed, 6));
		ti->weight = base * (0.2 + 1.6 * v * v);
		if (unit(rnd(ti->seed, 7)) < 0.08)
			ti->weight *= 4;
	}
}

typedef struct share {
	double frac;
	size_t idx;
} share;

static int share_cmp(const void *a, const void *b)
{
	const share *x = a, *y = b;

	if (x->frac != y->frac)
		return x->frac > y->frac ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Fill every table's info and split n partitions by weight (largest remainder). */
static int plan_lake(tinfo *tis, unsigned long long n, ms_error *err)
{
	share *sh;
	double total = 0;
	unsigned long long given = 0;
	size_t i;

	for (i = 0; i < DEMO_TABLES; i++) {
		tinfo_init(&tis[i], i / 6, i % 6);
		total += tis[i].weight;
	}
	if (!(sh = calloc(DEMO_TABLES, sizeof(*sh))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < DEMO_TABLES; i++) {
		double q = (double)n * tis[i].weight / total;
		tis[i].nparts = (unsigned long long)q;
		given += tis[i].nparts;
		sh[i].frac = q - (double)tis[i].nparts;
		sh[i].idx = i;
	}
	qsort(sh, DEMO_TABLES, sizeof(*sh), share_cmp);
	for (i = 0; given < n; i = (i + 1) % DEMO_TABLES) {
		if (tis[sh[i].idx].weight <= 0)
			continue;
		tis[sh[i].idx].nparts++;
		given++;
	}
	free(sh);
	return 0;
}

/* ---- dates ------------------------------------------------------------ */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static long days_from_civil(int y, unsigned m, unsigned d)
{
	unsigned yoe, doy, doe;
	int era;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long)era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, char out[32])
{
	long era, y;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, 32, "%04ld-%02u-%02u", y, m, d);
}

/* ---- documents -------------------------------------------------------- */

static int add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) ? 0 : -1;
}

static cJSON *columns_json(const col *cols, size_t n, int iceberg)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++) {
		cJSON *c = cJSON_CreateObject();
		char id[24];

		cJSON_AddItemToArray(a, c);
		add_str(c, "Name", cols[i].name);
		add_str(c, "Type", cols[i].type);
		if (cols[i].comment)
			add_str(c, "Comment", cols[i].comment);
		if (iceberg) {
			cJSON *p = cJSON_AddObjectToObject(c, "Parameters");
			snprintf(id, sizeof(id), "%zu", i + 1);
			add_str(p, "iceberg.field.current", "true");
			add_str(p, "iceberg.field.id", id);
			add_str(p, "iceberg.field.optional", i == 0 ? "false" : "true");
		}
	}
	return a;
}

static cJSON *partition_keys_json(int layout)
{
	static const col dt = { "dt", "string", "ingestion date, yyyy-MM-dd (UTC)" };
	static const col hour = { "hour", "string", "ingestion hour, 00-23 (UTC)" };
	static const col region = { "region", "string", "AWS region the data was produced in" };
	col keys[2];
	size_t n = 0;

	if (layout == P_DT || layout == P_HOUR)
		keys[n++] = dt;
	if (layout == P_HOUR)
		keys[n++] = hour;
	if (layout == P_REGION) {
		keys[n++] = region;
		keys[n++] = dt;
	}
	return columns_json(keys, n, 0);
}

/* A Spark type for a Hive primitive type (Hudi's and Delta's schema strings). */
static const char *spark_type(const char *hive)
{
	if (strcmp(hive, "bigint") == 0)
		return "long";
	if (strcmp(hive, "int") == 0)
		return "integer";
	return hive; /* string, double, boolean, date, timestamp, decimal(p,s) */
}

/* Spark's table schema JSON: {"type":"struct","fields":[...]} (new string). */
static char *spark_schema(const tinfo *ti, int with_partition_keys)
{
	cJSON *s = cJSON_CreateObject(), *fields;
	size_t i;
	char *out;

	add_str(s, "type", "struct");
	fields = cJSON_AddArrayToObject(s, "fields");
	for (i = 0; i < ti->ncols + 2; i++) {
		const char *name, *type;
		cJSON *f;

		if (i < ti->ncols) {
			name = ti->cols[i].name;
			type = spark_type(ti->cols[i].type);
		} else if (with_partition_keys && i == ti->ncols && ti->t->layout != P_NONE) {
			name = ti->t->layout == P_REGION ? "region" : "dt";
			type = "string";
		} else if (with_partition_keys && i == ti->ncols + 1 && ti->t->layout != P_NONE &&
			   ti->t->layout != P_DT) {
			name = ti->t->layout == P_REGION ? "dt" : "hour";
			type = "string";
		} else {
			continue;
		}
		f = cJSON_CreateObject();
		cJSON_AddItemToArray(fields, f);
		add_str(f, "name", name);
		add_str(f, "type", type);
		cJSON_AddBoolToObject(f, "nullable", 1);
		cJSON_AddObjectToObject(f, "metadata");
	}
	out = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	return out;
}

/* Avro's record schema for avro.schema.literal (new string). */
static char *avro_schema(const tinfo *ti)
{
	cJSON *s = cJSON_CreateObject(), *fields;
	size_t i;
	char *out;

	add_str(s, "type", "record");
	add_str(s, "name", ti->t->name);
	add_str(s, "namespace", "com.acme.marketing");
	fields = cJSON_AddArrayToObject(s, "fields");
	for (i = 0; i < ti->ncols; i++) {
		cJSON *f = cJSON_CreateObject(), *type = cJSON_CreateArray();
		const char *h = ti->cols[i].type;

		cJSON_AddItemToArray(fields, f);
		add_str(f, "name", ti->cols[i].name);
		cJSON_AddItemToArray(type, cJSON_CreateString("null"));
		if (strcmp(h, "timestamp") == 0) {
			cJSON *lt = cJSON_CreateObject();
			add_str(lt, "type", "long");
			add_str(lt, "logicalType", "timestamp-millis");
			cJSON_AddItemToArray(type, lt);
		} else {
			const char *a = strcmp(h, "bigint") == 0    ? "long"
					: strcmp(h, "int") == 0     ? "int"
					: strcmp(h, "boolean") == 0 ? "boolean"
					: strcmp(h, "double") == 0  ? "double"
								    : "string";
			cJSON_AddItemToArray(type, cJSON_CreateString(a));
		}
		cJSON_AddItemToObject(f, "type", type);
		cJSON_AddNullToObject(f, "default");
		if (ti->cols[i].comment)
			add_str(f, "doc", ti->cols[i].comment);
	}
	out = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	return out;
}

static cJSON *skewed_info(const tinfo *ti, const char *location)
{
	cJSON *sk = cJSON_CreateObject(), *names, *vals, *maps;
	char loc[700];
	size_t i;

	names = cJSON_AddArrayToObject(sk, "SkewedColumnNames");
	cJSON_AddItemToArray(names, cJSON_CreateString(ti->t->skew_col));
	vals = cJSON_AddArrayToObject(sk, "SkewedColumnValues");
	maps = cJSON_AddObjectToObject(sk, "SkewedColumnValueLocationMaps");
	for (i = 0; i < 3 && ti->t->skew_values[i]; i++) {
		cJSON_AddItemToArray(vals, cJSON_CreateString(ti->t->skew_values[i]));
		snprintf(loc, sizeof(loc), "%s%s=%s/", location, ti->t->skew_col,
			 ti->t->skew_values[i]);
		add_str(maps, ti->t->skew_values[i], loc);
	}
	return sk;
}

static void set_formats(cJSON *sd, const char *in, const char *out, const char *serde)
{
	cJSON *si;

	add_str(sd, "InputFormat", in);
	add_str(sd, "OutputFormat", out);
	cJSON_AddBoolToObject(sd, "Compressed", 0);
	si = cJSON_AddObjectToObject(sd, "SerdeInfo");
	add_str(si, "SerializationLibrary", serde);
	cJSON_AddObjectToObject(si, "Parameters");
}

#define PARQUET_IN "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
#define PARQUET_OUT "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
#define PARQUET_SERDE "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
#define TEXT_IN "org.apache.hadoop.mapred.TextInputFormat"
#define TEXT_OUT "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
#define LAZY_SERDE "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
#define SEQ_IN "org.apache.hadoop.mapred.SequenceFileInputFormat"
#define SEQ_OUT "org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat"
#define ICEBERG_FILE "%05u-%08x-%04x-4%03x-a%03x-%012llx.metadata.json"

/* The table's storage descriptor; partitions copy it with their own Location. */
static cJSON *storage_descriptor(const tinfo *ti)
{
	cJSON *sd = cJSON_CreateObject(), *sp, *a;
	int fmt = ti->t->fmt;
	size_t i;

	cJSON_AddItemToObject(sd, "Columns", columns_json(ti->cols, ti->ncols, fmt == F_ICEBERG));
	add_str(sd, "Location", ti->location);
	switch (fmt) {
	case F_PARQUET:
	case F_SKEWED:
		set_formats(sd, PARQUET_IN, PARQUET_OUT, PARQUET_SERDE);
		break;
	case F_JSON:
		set_formats(sd, TEXT_IN, TEXT_OUT, "org.openx.data.jsonserde.JsonSerDe");
		break;
	case F_ORC:
		set_formats(sd, "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
			    "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
			    "org.apache.hadoop.hive.ql.io.orc.OrcSerde");
		break;
	case F_CSV:
	case F_TSV:
		set_formats(sd, TEXT_IN, TEXT_OUT, LAZY_SERDE);
		break;
	case F_OPENCSV:
		set_formats(sd, TEXT_IN, TEXT_OUT, "org.apache.hadoop.hive.serde2.OpenCSVSerde");
		break;
	case F_AVRO:
		set_formats(sd, "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
			    "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
			    "org.apache.hadoop.hive.serde2.avro.AvroSerDe");
		break;
	case F_HUDI:
		set_formats(sd, "org.apache.hudi.hadoop.HoodieParquetInputFormat", PARQUET_OUT,
			    PARQUET_SERDE);
		break;
	case F_ICEBERG:
		set_formats(sd, "org.apache.hadoop.mapred.FileInputFormat",
			    "org.apache.hadoop.mapred.FileOutputFormat", LAZY_SERDE);
		break;
	default: /* F_DELTA: Spark writes a placeholder Hive schema */
		set_formats(sd, SEQ_IN, SEQ_OUT, LAZY_SERDE);
		break;
	}
	sp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sd, "SerdeInfo"),
					      "Parameters");
	switch (fmt) {
	case F_JSON: {
		ms_buf paths = MS_BUF_INIT(8192);
		for (i = 0; i < ti->ncols; i++)
			ms_buf_printf(&paths, "%s%s", i ? "," : "", ti->cols[i].name);
		add_str(sp, "paths", ms_buf_cstr(&paths));
		ms_buf_free(&paths);
		break;
	}
	case F_CSV:
		add_str(sp, "field.delim", ",");
		add_str(sp, "serialization.format", ",");
		break;
	case F_TSV:
		add_str(sp, "field.delim", "\t");
		add_str(sp, "serialization.format", "\t");
		add_str(sp, "serialization.null.format", "-");
		break;
	case F_OPENCSV:
		add_str(sp, "escapeChar", "\\");
		add_str(sp, "quoteChar", "\"");
		add_str(sp, "separatorChar", ",");
		break;
	case F_HUDI:
		add_str(sp, "hoodie.query.as.ro.table", "false");
		add_str(sp, "path", ti->location);
		break;
	case F_DELTA:
		add_str(sp, "path", ti->location);
		add_str(sp, "serialization.format", "1");
		break;
	default:
		add_str(sp, "serialization.format", "1");
		break;
	}
	if (fmt == F_ORC) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(sd, "NumberOfBuckets", ti->buckets);
		a = cJSON_AddArrayToObject(sd, "BucketColumns");
		cJSON_AddItemToArray(a, cJSON_CreateString(ti->cols[0].name));
		a = cJSON_AddArrayToObject(sd, "SortColumns");
		add_str(o, "Column", ti->cols[0].name);
		cJSON_AddNumberToObject(o, "SortOrder", 1);
		cJSON_AddItemToArray(a, o);
	} else {
		cJSON_AddNumberToObject(sd, "NumberOfBuckets", fmt == F_ICEBERG ? 0 : -1);
		cJSON_AddArrayToObject(sd, "BucketColumns");
		cJSON_AddArrayToObject(sd, "SortColumns");
	}
	cJSON_AddObjectToObject(sd, "Parameters");
	if (fmt == F_SKEWED)
		cJSON_AddItemToObject(sd, "SkewedInfo", skewed_info(ti, ti->location));
	cJSON_AddBoolToObject(sd, "StoredAsSubDirectories", fmt == F_SKEWED);
	return sd;
}

static const char *classification(int fmt)
{
	switch (fmt) {
	case F_JSON:
		return "json";
	case F_CSV:
	case F_TSV:
	case F_OPENCSV:
		return "csv";
	case F_ORC:
		return "orc";
	case F_AVRO:
		return "avro";
	case F_ICEBERG:
		return "iceberg";
	default:
		return "parquet";
	}
}

static void table_parameters(const tinfo *ti, cJSON *p)
{
	int fmt = ti->t->fmt;
	char buf[1024];

	add_str(p, "EXTERNAL", "TRUE");
	if (fmt != F_ICEBERG && fmt != F_DELTA && fmt != F_HUDI)
		add_str(p, "classification", classification(fmt));
	if (is_crawled(fmt)) {
		snprintf(buf, sizeof(buf), "%s-raw-crawler", ti->db->team);
		add_str(p, "CrawlerSchemaDeserializerVersion", "1.0");
		add_str(p, "CrawlerSchemaSerializerVersion", "1.0");
		add_str(p, "UPDATED_BY_CRAWLER", buf);
		add_str(p, "compressionType", fmt == F_JSON ? "gzip" : "none");
		add_str(p, "typeOfData", "file");
		if (fmt == F_CSV || fmt == F_OPENCSV) {
			add_str(p, "delimiter", ",");
			add_str(p, "skip.header.line.count", "1");
		}
		if (fmt == F_TSV)
			add_str(p, "delimiter", "\t");
	}
	switch (fmt) {
	case F_PARQUET:
	case F_SKEWED:
		add_str(p, "parquet.compression", "SNAPPY");
		add_str(p, "has_encrypted_data", "false");
		break;
	case F_ORC:
		add_str(p, "orc.compress", "ZLIB");
		add_str(p, "bucketing_version", "2");
		break;
	case F_AVRO: {
		char *s = avro_schema(ti);
		add_str(p, "avro.schema.literal", s ? s : "");
		free(s);
		break;
	}
	case F_HUDI: {
		char *s = spark_schema(ti, 1);
		char key[64];
		add_str(p, "spark.sql.sources.provider", "hudi");
		add_str(p, "spark.sql.sources.schema.numParts", "1");
		add_str(p, "spark.sql.sources.schema.part.0", s ? s : "");
		add_str(p, "spark.sql.sources.schema.numPartCols", "1");
		add_str(p, "spark.sql.sources.schema.partCol.0", "dt");
		add_str(p, "spark.sql.create.version", "3.4.1-amzn-0");
		add_str(p, "provider", "hudi");
		add_str(p, "type", "cow");
		/* After the five _hoodie_ meta columns: the record key. */
		snprintf(key, sizeof(key), "%s", ti->cols[5].name);
		add_str(p, "primaryKey", key);
		add_str(p, "preCombineField", "updated_at");
		add_str(p, "hoodie.query.as.ro.table", "false");
		add_str(p, "hoodie.datasource.write.hive_style_partitioning", "true");
		add_str(p, "hoodie.table.type", "COPY_ON_WRITE");
		add_str(p, "last_commit_time_sync", "20240630231507123");
		add_str(p, "last_commit_completion_time_sync", "20240630231512456");
		free(s);
		break;
	}
	case F_ICEBERG: {
		/* <version>-<uuid>.metadata.json, the uuid drawn from the seed */
		uint64_t a = rnd(ti->seed, 8), b = rnd(ti->seed, 9);
		unsigned int v = 3 + (unsigned int)(a % 40);
		snprintf(buf, sizeof(buf), "%smetadata/" ICEBERG_FILE, ti->location, v,
			 (unsigned int)(a >> 32), (unsigned int)(a >> 16) & 0xffff,
			 (unsigned int)a & 0xfff, (unsigned int)(b >> 52) & 0xfff,
			 (unsigned long long)(b & 0xffffffffffffULL));
		add_str(p, "table_type", "ICEBERG");
		add_str(p, "metadata_location", buf);
		snprintf(buf, sizeof(buf), "%smetadata/" ICEBERG_FILE, ti->location, v - 1,
			 (unsigned int)(b >> 32), (unsigned int)(b >> 16) & 0xffff,
			 (unsigned int)b & 0xfff, (unsigned int)(a >> 52) & 0xfff,
			 (unsigned long long)(a & 0xffffffffffffULL));
		add_str(p, "previous_metadata_location", buf);
		break;
	}
	case F_DELTA: {
		char *s = spark_schema(ti, 0);
		add_str(p, "spark.sql.sources.provider", "delta");
		add_str(p, "spark.sql.partitionProvider", "catalog");
		add_str(p, "spark.sql.sources.schema.numParts", "1");
		add_str(p, "spark.sql.sources.schema.part.0", s ? s : "");
		add_str(p, "spark.sql.create.version", "3.4.1-amzn-0");
		free(s);
		break;
	}
	default:
		break;
	}
}

/* Human words for a table name: "ad_clicks" -> "Ad clicks". */
static void humanize(const char *name, char *out, size_t n)
{
	size_t i;

	snprintf(out, n, "%s", name);
	for (i = 0; out[i]; i++)
		if (out[i] == '_')
			out[i] = ' ';
	if (out[0] >= 'a' && out[0] <= 'z')
		out[0] = (char)(out[0] - 'a' + 'A');
}

static cJSON *table_doc(const tinfo *ti, const cJSON *sd)
{
	cJSON *t = cJSON_CreateObject();
	char words[300], desc[600], owner[300];
	static const char *const layouts[] = { "", ", daily partitions", ", hourly partitions",
					       ", daily partitions per region" };

	humanize(ti->t->name, words, sizeof(words));
	snprintf(desc, sizeof(desc), "%s (%s%s)", words,
		 ti->t->fmt == F_HUDI      ? "Hudi"
		 : ti->t->fmt == F_ICEBERG ? "Iceberg"
		 : ti->t->fmt == F_DELTA   ? "Delta Lake"
					   : classification(ti->t->fmt),
		 layouts[ti->t->layout]);
	snprintf(owner, sizeof(owner), "%s-data-eng", ti->db->team);
	add_str(t, "Name", ti->t->name);
	add_str(t, "DatabaseName", ti->db->name);
	add_str(t, "Description", desc);
	add_str(t, "Owner", owner);
	cJSON_AddNumberToObject(t, "Retention", 0);
	cJSON_AddItemToObject(t, "StorageDescriptor", cJSON_Duplicate(sd, 1));
	cJSON_AddItemToObject(t, "PartitionKeys", partition_keys_json(ti->t->layout));
	add_str(t, "TableType", "EXTERNAL_TABLE");
	table_parameters(ti, cJSON_AddObjectToObject(t, "Parameters"));
	return t;
}

/*
 * Values and location suffix of partition i of a table holding n, and a key
 * that names the partition independently of n (days back from the last day,
 * and hour or region), so that its statistics do not change with n.
 */
static void partition_values(const tinfo *ti, unsigned long long i, unsigned long long n,
			     char v0[32], char v1[32], char *suffix, size_t slen, unsigned *hour,
			     uint64_t *key)
{
	long end_day = days_from_civil(DEMO_END_DAY_Y, DEMO_END_DAY_M, DEMO_END_DAY_D);
	unsigned long long per = ti->t->layout == P_HOUR     ? 24
				 : ti->t->layout == P_REGION ? ti->nregions
							     : 1;
	unsigned long long ndays = (n + per - 1) / per, day = i / per;
	char date[32];

	civil_from_days(end_day - (long)(ndays - 1) + (long)day, date);
	*key = (uint64_t)(ndays - 1 - day) * 32 + (per > 1 ? i % per : 0);
	*hour = 12;
	switch (ti->t->layout) {
	case P_HOUR:
		*hour = (unsigned)(i % 24);
		snprintf(v0, 32, "%s", date);
		snprintf(v1, 32, "%02u", *hour);
		snprintf(suffix, slen, "dt=%s/hour=%s/", v0, v1);
		break;
	case P_REGION:
		snprintf(v0, 32, "%s", demo_regions[i % per]);
		snprintf(v1, 32, "%s", date);
		snprintf(suffix, slen, "region=%s/dt=%s/", v0, v1);
		break;
	default:
		snprintf(v0, 32, "%s", date);
		v1[0] = '\0';
		snprintf(suffix, slen, "dt=%s/", v0);
		break;
	}
}

static void add_ull(cJSON *o, const char *k, unsigned long long v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", v);
	add_str(o, k, s);
}

static cJSON *partition_doc(const tinfo *ti, const cJSON *sd, unsigned long long i,
			    unsigned long long n)
{
	cJSON *p = cJSON_CreateObject(), *vals, *psd, *params;
	char v0[32], v1[32], suffix[96], loc[700];
	unsigned hour;
	uint64_t key, h;
	double rows;
	unsigned long long nrows, bytes;

	partition_values(ti, i, n, v0, v1, suffix, sizeof(suffix), &hour, &key);
	h = rnd(ti->seed ^ 0x70617274ULL, key);
	vals = cJSON_AddArrayToObject(p, "Values");
	cJSON_AddItemToArray(vals, cJSON_CreateString(v0));
	if (v1[0])
		cJSON_AddItemToArray(vals, cJSON_CreateString(v1));
	snprintf(loc, sizeof(loc), "%s%s", ti->location, suffix);
	psd = cJSON_Duplicate(sd, 1);
	cJSON_ReplaceItemInObjectCaseSensitive(psd, "Location", cJSON_CreateString(loc));
	if (ti->t->fmt == F_SKEWED)
		cJSON_ReplaceItemInObjectCaseSensitive(psd, "SkewedInfo", skewed_info(ti, loc));
	cJSON_AddItemToObject(p, "StorageDescriptor", psd);

	rows = ti->rows * (0.7 + 0.6 * unit(h));
	if (ti->t->layout == P_HOUR)
		rows = rows * demo_diurnal[hour] / 100.0;
	nrows = (unsigned long long)rows + 1;
	bytes = (unsigned long long)((double)nrows * ti->row_bytes * (0.9 + 0.2 * unit(h >> 7)));
	params = cJSON_AddObjectToObject(p, "Parameters");
	if (is_crawled(ti->t->fmt)) {
		char crawler[300];
		snprintf(crawler, sizeof(crawler), "%s-raw-crawler", ti->db->team);
		add_str(params, "CrawlerSchemaDeserializerVersion", "1.0");
		add_str(params, "CrawlerSchemaSerializerVersion", "1.0");
		add_str(params, "UPDATED_BY_CRAWLER", crawler);
		add_ull(params, "averageRecordSize", bytes / nrows);
		add_str(params, "classification", classification(ti->t->fmt));
		add_str(params, "compressionType", ti->t->fmt == F_JSON ? "gzip" : "none");
		add_ull(params, "objectCount", 1 + bytes / (64ULL << 20) + (h >> 60) % 3);
		add_ull(params, "recordCount", nrows);
		add_ull(params, "sizeKey", ti->t->fmt == F_JSON ? bytes / 6 : bytes);
		add_str(params, "typeOfData", "file");
	} else {
		add_ull(params, "numFiles", 1 + bytes / (128ULL << 20) + (h >> 60) % 4);
		add_ull(params, "numRows", nrows);
		add_ull(params, "rawDataSize", bytes * 3);
		add_ull(params, "totalSize", bytes);
	}
	return p;
}

static cJSON *view_doc(const vspec *v)
{
	cJSON *t = cJSON_CreateObject(), *sd, *cols, *params, *si;
	size_t i;

	add_str(t, "Name", v->name);
	add_str(t, "DatabaseName", v->db);
	if (v->description)
		add_str(t, "Description", v->description);
	if (v->kind != V_PRESTO)
		add_str(t, "Owner", v->owner);
	cJSON_AddNumberToObject(t, "Retention", 0);
	sd = cJSON_AddObjectToObject(t, "StorageDescriptor");
	cols = cJSON_AddArrayToObject(sd, "Columns");
	for (i = 0; i < v->ncols; i++) {
		cJSON *c = cJSON_CreateObject();
		add_str(c, "Name", v->cols[i].name);
		add_str(c, "Type", v->cols[i].hive);
		if (v->kind == V_SPARK)
			add_str(c, "Comment", "");
		cJSON_AddItemToArray(cols, c);
	}
	if (v->kind != V_PRESTO) {
		add_str(sd, "InputFormat", SEQ_IN);
		add_str(sd, "OutputFormat", SEQ_OUT);
	}
	cJSON_AddBoolToObject(sd, "Compressed", 0);
	cJSON_AddNumberToObject(sd, "NumberOfBuckets", v->kind == V_PRESTO ? 0 : -1);
	si = cJSON_AddObjectToObject(sd, "SerdeInfo");
	if (v->kind != V_PRESTO)
		add_str(si, "SerializationLibrary", LAZY_SERDE);
	cJSON_AddArrayToObject(sd, "SortColumns");
	cJSON_AddBoolToObject(sd, "StoredAsSubDirectories", 0);
	cJSON_AddArrayToObject(t, "PartitionKeys");
	add_str(t, "TableType", "VIRTUAL_VIEW");
	params = cJSON_AddObjectToObject(t, "Parameters");
	if (v->kind == V_SPARK) {
		char k[64];
		add_str(params, "spark.sql.create.version", "3.4.1-amzn-0");
		add_str(params, "view.catalogAndNamespace.numParts", "2");
		add_str(params, "view.catalogAndNamespace.part.0", "spark_catalog");
		add_str(params, "view.catalogAndNamespace.part.1", v->db);
		snprintf(k, sizeof(k), "%zu", v->ncols);
		add_str(params, "view.query.out.numCols", k);
		for (i = 0; i < v->ncols; i++) {
			snprintf(k, sizeof(k), "view.query.out.col.%zu", i);
			add_str(params, k, v->cols[i].name);
		}
		add_str(params, "view.referredTempFunctionsNames", "[]");
		add_str(params, "view.referredTempViewNames", "[]");
		add_str(params, "view.sqlConfig.spark.sql.session.timeZone", "UTC");
	}
	if (v->kind == V_PRESTO) {
		cJSON *pj = cJSON_CreateObject(), *pc = cJSON_CreateArray();
		char *json;
		size_t jl;
		ms_buf text = MS_BUF_INIT((size_t)MS_VIEW_TEXT_MAX);
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123"
					  "456789+/";

		add_str(params, "comment", "Presto View");
		add_str(params, "presto_view", "true");
		add_str(pj, "originalSql", v->original);
		add_str(pj, "catalog", "awsdatacatalog");
		add_str(pj, "schema", v->db);
		for (i = 0; i < v->ncols; i++) {
			cJSON *c = cJSON_CreateObject();
			add_str(c, "name", v->cols[i].name);
			add_str(c, "type", v->cols[i].presto);
			cJSON_AddItemToArray(pc, c);
		}
		cJSON_AddItemToObject(pj, "columns", pc);
		add_str(pj, "owner", v->owner);
		cJSON_AddBoolToObject(pj, "runAsInvoker", 0);
		json = cJSON_PrintUnformatted(pj);
		cJSON_Delete(pj);
		jl = json ? strlen(json) : 0;
		ms_buf_adds(&text, "/* Presto View: ");
		for (i = 0; i < jl; i += 3) {
			unsigned int x = (unsigned char)json[i] << 16;
			char q[4];
			if (i + 1 < jl)
				x |= (unsigned char)json[i + 1] << 8;
			if (i + 2 < jl)
				x |= (unsigned char)json[i + 2];
			q[0] = b64[(x >> 18) & 63];
			q[1] = b64[(x >> 12) & 63];
			q[2] = i + 1 < jl ? b64[(x >> 6) & 63] : '=';
			q[3] = i + 2 < jl ? b64[x & 63] : '=';
			ms_buf_add(&text, q, 4);
		}
		ms_buf_adds(&text, " */");
		free(json);
		add_str(t, "ViewOriginalText", ms_buf_cstr(&text));
		add_str(t, "ViewExpandedText", "/* Presto View */");
		ms_buf_free(&text);
	} else {
		add_str(t, "ViewOriginalText", v->original);
		add_str(t, "ViewExpandedText", v->expanded ? v->expanded : v->original);
	}
	return t;
}

static cJSON *database_doc(const dbspec *d, unsigned long long npartitions)
{
	cJSON *o = cJSON_CreateObject(), *p, *perms, *perm, *pr, *a;
	char loc[512], gen[128];

	snprintf(loc, sizeof(loc), "s3://acme-%s-lake/%s/", d->team, d->name);
	snprintf(gen, sizeof(gen), "%s partitions=%llu", DEMO_GENERATOR_VERSION, npartitions);
	add_str(o, "Name", d->name);
	add_str(o, "Description", d->description);
	add_str(o, "LocationUri", loc);
	p = cJSON_AddObjectToObject(o, "Parameters");
	add_str(p, "owner_team", d->team);
	add_str(p, "data_classification", d->classification);
	add_str(p, "retention_days", strcmp(d->classification, "restricted") == 0 ? "400" : "730");
	add_str(p, DEMO_GENERATOR_PARAM, gen);
	perms = cJSON_AddArrayToObject(o, "CreateTableDefaultPermissions");
	perm = cJSON_CreateObject();
	pr = cJSON_AddObjectToObject(perm, "Principal");
	add_str(pr, "DataLakePrincipalIdentifier", "IAM_ALLOWED_PRINCIPALS");
	a = cJSON_AddArrayToObject(perm, "Permissions");
	cJSON_AddItemToArray(a, cJSON_CreateString("ALL"));
	cJSON_AddItemToArray(perms, perm);
	return o;
}

/* ---- writing ---------------------------------------------------------- */

static int put_doc(ms_catalog *cat, ms_kind kind, cJSON *doc, const char *db, const char *table,
		   ms_error *err)
{
	ms_entity *e = NULL;
	int rc;

	if (!doc)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if ((rc = ms_entity_from_glue(&e, kind, doc, db, table, err)) < 0)
		return rc;
	rc = kind == MS_KIND_DATABASE ? ms_catalog_put_database(cat, e, err)
				      : ms_catalog_put_table(cat, e, err);
	ms_entity_free(e);
	return rc;
}

/* One table with its partitions, in one transaction. */
static int write_table(ms_catalog *cat, const tinfo *ti, unsigned long long *done,
		       unsigned long long total, ms_progress_cb progress, void *ctx, ms_error *err)
{
	ms_entity **batch = NULL;
	cJSON *sd = storage_descriptor(ti);
	size_t nb = 0, j;
	unsigned long long i;
	int rc, in_tx = 0;

	if (!sd)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (!(batch = calloc(DEMO_BATCH, sizeof(*batch)))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = ms_catalog_begin(cat, err)) < 0)
		goto done;
	in_tx = 1;
	rc = put_doc(cat, MS_KIND_TABLE, table_doc(ti, sd), ti->db->name, ti->t->name, err);
	if (rc < 0)
		goto done;
	for (i = 0; i < ti->nparts; i++) {
		cJSON *doc = partition_doc(ti, sd, i, ti->nparts);

		if (!doc) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		if ((rc = ms_entity_from_glue(&batch[nb], MS_KIND_PARTITION, doc, ti->db->name,
					      ti->t->name, err)) < 0)
			goto done;
		if (++nb == DEMO_BATCH || i + 1 == ti->nparts) {
			rc = ms_catalog_put_partitions(cat, ti->db->name, ti->t->name, batch, nb,
						       err);
			*done += nb;
			for (j = 0; j < nb; j++) {
				ms_entity_free(batch[j]);
				batch[j] = NULL;
			}
			nb = 0;
			if (rc < 0)
				goto done;
			if (progress)
				progress(*done, total, ctx);
		}
	}
	rc = ms_catalog_commit(cat, err);
	in_tx = 0;
done:
	if (rc < 0)
		ms_error_prefix(err, "table '%s.%s': ", ti->db->name, ti->t->name);
	if (in_tx)
		ms_catalog_rollback(cat, NULL);
	for (j = 0; batch && j < nb; j++)
		ms_entity_free(batch[j]);
	free(batch);
	cJSON_Delete(sd);
	return rc;
}

int demo_generate(ms_catalog *cat, unsigned long long npartitions, ms_progress_cb progress,
		  void *ctx, demo_gen_stats *stats, ms_error *err)
{
	tinfo *tis;
	unsigned long long done = 0;
	size_t i;
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	if (!(tis = calloc(DEMO_TABLES, sizeof(*tis))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if ((rc = plan_lake(tis, npartitions, err)) < 0)
		goto done;
	for (i = 0; i < DEMO_DATABASES; i++) {
		if ((rc = put_doc(cat, MS_KIND_DATABASE, database_doc(&demo_lake[i], npartitions),
				  NULL, NULL, err)) < 0) {
			ms_error_prefix(err, "database '%s': ", demo_lake[i].name);
			goto done;
		}
		stats->databases++;
	}
	for (i = 0; i < DEMO_TABLES; i++) {
		if ((rc = write_table(cat, &tis[i], &done, npartitions, progress, ctx, err)) < 0)
			goto done;
		stats->tables++;
		stats->partitions += (long long)tis[i].nparts;
	}
	for (i = 0; i < DEMO_VIEWS; i++) {
		if ((rc = put_doc(cat, MS_KIND_TABLE, view_doc(&demo_views[i]), demo_views[i].db,
				  demo_views[i].name, err)) < 0) {
			ms_error_prefix(err, "view '%s.%s': ", demo_views[i].db,
					demo_views[i].name);
			goto done;
		}
		stats->views++;
	}
done:
	free(tis);
	return rc;
}

/* ---- recognising a generated lake ------------------------------------- */

static int count_partition(ms_entity *e, void *ctx, ms_error *err)
{
	(void)err;
	(*(unsigned long long *)ctx)++;
	ms_entity_free(e);
	return 0;
}

int demo_partition_count(ms_catalog *cat, const char *db, const char *table, unsigned long long *n,
			 ms_error *err)
{
	ms_digest d;
	ms_error e2;
	int rc;

	ms_error_clear(&e2);
	rc = ms_catalog_table_digest(cat, db, table, &d, &e2);
	if (rc == 0) {
		*n = d.count;
		return 0;
	}
	if (rc != MS_ENOTSUPPORTED) {
		*err = e2;
		return rc;
	}
	*n = 0;
	return ms_catalog_scan_partitions(cat, db, table, MS_SCAN_KEYS_ONLY, count_partition, n,
					  err);
}

int demo_is_generated(ms_catalog *cat, unsigned long long npartitions, int *yes, ms_error *err)
{
	tinfo *tis = NULL;
	ms_strlist tl = { 0 };
	char gen[128];
	size_t d, k, nviews;
	int rc = 0;

	*yes = 0;
	snprintf(gen, sizeof(gen), "%s partitions=%llu", DEMO_GENERATOR_VERSION, npartitions);
	if (!(tis = calloc(DEMO_TABLES, sizeof(*tis))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if ((rc = plan_lake(tis, npartitions, err)) < 0)
		goto done;
	for (d = 0; d < DEMO_DATABASES; d++) {
		ms_entity *e = NULL;
		const char *v;
		ms_error e2;
		int same;

		ms_error_clear(&e2);
		rc = ms_catalog_get_database(cat, demo_lake[d].name, &e, &e2);
		if (rc == MS_ENOTFOUND) {
			rc = 0;
			goto done;
		}
		if (rc < 0) {
			*err = e2;
			goto done;
		}
		v = ms_entity_param(e, DEMO_GENERATOR_PARAM);
		same = v && strcmp(v, gen) == 0;
		ms_entity_free(e);
		if (!same)
			goto done;
		ms_strlist_free(&tl);
		if ((rc = ms_catalog_list_tables(cat, demo_lake[d].name, ms_strlist_collect, &tl,
						 err)) < 0)
			goto done;
		for (k = 0, nviews = 0; k < DEMO_VIEWS; k++)
			if (strcmp(demo_views[k].db, demo_lake[d].name) == 0) {
				nviews++;
				if (!ms_strlist_has(&tl, demo_views[k].name))
					goto done;
			}
		if (tl.n != 6 + nviews)
			goto done;
		for (k = 0; k < 6; k++) {
			const tinfo *ti = &tis[d * 6 + k];
			unsigned long long n = 0;

			if (!ms_strlist_has(&tl, ti->t->name))
				goto done;
			if ((rc = demo_partition_count(cat, demo_lake[d].name, ti->t->name, &n,
						       err)) < 0)
				goto done;
			if (n != ti->nparts)
				goto done;
		}
	}
	*yes = 1;
done:
	ms_strlist_free(&tl);
	free(tis);
	return rc;
}

int demo_clear(ms_catalog *cat, ms_error *err)
{
	ms_error e2;
	size_t d;
	int rc;

	for (d = 0; d < DEMO_DATABASES; d++) {
		ms_error_clear(&e2);
		rc = ms_catalog_delete_database(cat, demo_lake[d].name, &e2);
		if (rc < 0 && rc != MS_ENOTFOUND) {
			*err = e2;
			return rc;
		}
	}
	return 0;
}
