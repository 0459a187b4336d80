/*
 * What the demo library's files share: the specification of the lake
 * (demo_lake.c: databases, tables, columns, views, regions; fixed data) that
 * the generator turns into documents (demo_gen.c), and the partition count
 * both the generator and the run (demo_run.c) take.  Private to src/demo.
 */
#ifndef MS_DEMO_INTERNAL_H
#define MS_DEMO_INTERNAL_H

#include <stddef.h>

#include "demo.h"

enum fmt {
	F_PARQUET,
	F_SKEWED, /* Parquet with list bucketing on a skewed column */
	F_JSON,
	F_ORC, /* bucketed and sorted */
	F_CSV,
	F_TSV,
	F_OPENCSV,
	F_AVRO,
	F_HUDI,
	F_ICEBERG,
	F_DELTA
};

enum layout { P_NONE, P_DT, P_HOUR, P_REGION };

typedef struct col {
	const char *name;
	const char *type;
	const char *comment; /* NULL: none, as crawlers leave it */
} col;

typedef struct tspec {
	const char *name;
	unsigned char fmt, layout;
	const col *cols; /* NULL: an id column and a draw from the pool */
	size_t ncols;
	const char *skew_col; /* F_SKEWED: the skewed column and its values */
	const char *skew_values[3];
} tspec;

typedef struct dbspec {
	const char *name;
	const char *team;
	const char *classification;
	const char *description;
	tspec tables[6];
} dbspec;

enum vkind { V_HIVE, V_SPARK, V_PRESTO };

typedef struct vcol {
	const char *name;
	const char *hive;
	const char *presto;
} vcol;

typedef struct vspec {
	const char *db, *name;
	int kind;
	const char *owner;
	const char *description;
	const char *original; /* Hive/Spark: ViewOriginalText; Presto: originalSql */
	const char *expanded; /* Hive: ViewExpandedText; else NULL */
	const vcol *cols;
	size_t ncols;
} vspec;

#define DEMO_NREGIONS 8

/* The lake, one entry per database (demo_lake.c). */
extern const dbspec demo_lake[DEMO_DATABASES];
/* The views, each over tables of the lake. */
extern const vspec demo_views[DEMO_VIEWS];
/* Columns for the tables the views do not read: an id column plus a draw. */
/* Hudi's five meta columns, first in every Hudi table (the shipments' columns start with them). */
extern const col *const demo_hudi_meta;
#define DEMO_POOL_SIZE 40
extern const col demo_pool[DEMO_POOL_SIZE];
/* AWS regions of the P_REGION layout. */
extern const char *const demo_regions[DEMO_NREGIONS];
/* Relative traffic per hour of day (UTC), in percent of the peak. */
extern const unsigned char demo_diurnal[24];

/*
 * How many partitions db.table holds in cat, from the table's digest where
 * the driver keeps one, else by a scan of the keys.
 */
int demo_partition_count(ms_catalog *cat, const char *db, const char *table, unsigned long long *n,
			 ms_error *err);

#endif
