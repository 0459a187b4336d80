/*
 * The demo library (src/demo): the demo's source catalog, a deterministic,
 * realistic multi-team data lake (25 databases, 150 tables, 10 views, N
 * partitions) written into any catalog through the public API.  Above the
 * library, beside the agent; used only by `metasync demo`.
 */
#ifndef MS_DEMO_H
#define MS_DEMO_H

#include "metasync/metasync.h"
#include "util/strlist.h"

#define DEMO_DATABASES 25
#define DEMO_TABLES 150   /* base tables, views not included */
#define DEMO_VIEWS 10
#define DEMO_DEFAULT_PARTITIONS 100000ULL
#define DEMO_MAX_PARTITIONS 100000000ULL

/*
 * Database parameter that records which generator wrote the database and
 * for how many partitions; bump the version whenever generated content
 * changes, so that an older demo catalog is regenerated.
 */
#define DEMO_GENERATOR_PARAM "demo.generator"
#define DEMO_GENERATOR_VERSION "metasync-demo/1"


typedef struct demo_gen_stats {
	long long databases, tables, views, partitions;
} demo_gen_stats;

/*
 * Write the demo lake with npartitions partitions into cat, which should
 * hold no demo databases (see demo_clear).  Partitions go in batches of
 * 1000, each table with its partitions in one transaction.  progress (may be
 * NULL) is called with partitions done of npartitions.  Fills *stats.
 */
int demo_generate(ms_catalog *cat, unsigned long long npartitions, ms_progress_cb progress,
		  void *ctx, demo_gen_stats *stats, ms_error *err);

/*
 * Does cat already hold the demo lake for npartitions?  Sets *yes to 1 when
 * every demo database carries this generator's version and partition count
 * and holds the expected tables and views, and the partitions add up to
 * npartitions; else 0.  Other databases in cat are ignored.
 */
int demo_is_generated(ms_catalog *cat, unsigned long long npartitions, int *yes,
		      ms_error *err);

/* Delete every demo database from cat (the names the generator uses). */
int demo_clear(ms_catalog *cat, ms_error *err);

/*
 * How many partitions db.table holds in cat, from the table's digest where
 * the driver keeps one, else by a scan of the keys.
 */
int demo_partition_count(ms_catalog *cat, const char *db, const char *table,
			 unsigned long long *n, ms_error *err);

#endif
