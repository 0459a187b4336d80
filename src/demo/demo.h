/*
 * The demo library (src/demo), used only by `metasync demo`: the demo's
 * source catalog, a deterministic, realistic multi-team data lake (25
 * databases, 150 tables, 10 views, N partitions) written into any catalog
 * through the public API (demo_gen.c), and the run that replicates it with
 * agents and verifies the targets (demo_run.c).  Above the library and the
 * agent, below the command, which parses options and prints.
 */
#ifndef MS_DEMO_H
#define MS_DEMO_H

#include "metasync/metasync.h"
#include "util/strlist.h"

#define DEMO_DATABASES 25
#define DEMO_TABLES 150 /* base tables, views not included */
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
int demo_is_generated(ms_catalog *cat, unsigned long long npartitions, int *yes, ms_error *err);

/* Delete every demo database from cat (the names the generator uses). */
int demo_clear(ms_catalog *cat, ms_error *err);

/* ---- the run (demo_run.c) ----------------------------------------------- */

/* Three "accounts" in one embedded catalog file: the source and two targets. */
#define DEMO_SOURCE_ID "111111111111"
#define DEMO_TARGET_A_ID "222222222222"
#define DEMO_TARGET_B_ID "333333333333"
#define DEMO_TARGET_B_PREFIX "src_"
#define DEMO_MAX_REPORTED 20 /* mismatch messages kept per comparison */

typedef struct demo_tally {
	long long databases, tables, views, partitions; /* tables: views not included */
} demo_tally;

/* One row group of the summary: what a step did. */
typedef struct demo_step {
	const char *name; /* generate, export, import */
	char what[64];
	char note[1024];
	const char *catalog_id; /* import: the target */
	const char *prefix;     /* import: the database prefix, or NULL */
	char *url;              /* the catalog written (the snapshot for export); owned */
	int skipped;            /* nothing needed doing */
	ms_status status;
	ms_counts dbs, tables, views, parts;
	ms_strlist errors;
	double seconds;
} demo_step;

/* The outcome of comparing a catalog with the source. */
typedef struct demo_verdict {
	const char *catalog_id;
	const char *prefix;
	demo_tally matched;
	long long mismatches;
	ms_strlist errors; /* the first DEMO_MAX_REPORTED mismatches */
	double seconds;
} demo_verdict;

typedef struct demo_glue demo_glue; /* the in-process server of --glue (demo_glue.c) */

typedef struct demo {
	const char *dir;
	int glue;   /* --glue: the three accounts behind `metasync serve`, reached by glue:// */
	char *abs;  /* dir, absolute */
	char *base; /* where the run's files are: abs, or abs/glue with --glue */
	/*
	 * The catalogs the agents and the verification use: the embedded file's
	 * accounts, or with --glue the server's accounts by glue:// (once the
	 * server listens); lake_url is the source account in the embedded file,
	 * which the generator writes directly in both cases.
	 */
	char *source_url, *store, *target_url[2], *lake_url;
	demo_glue *server;
	unsigned long long npartitions;
	int json, tty; /* the command's: its output */
	double last_progress;
	ms_progress_cb progress; /* the generator's progress (may be NULL) */
	void *progress_ctx;
	demo_tally source; /* what the source holds */
	ms_strlist dbs;    /* its databases */
	ms_strlist views;  /* its views, "db.table" */
	demo_step steps[4];
	size_t nsteps;
	char *metrics[2]; /* each target agent's /metrics text, after the run */
	demo_verdict ver[2];
	size_t nver;
} demo;

/* Create d->dir (and d->base) and fill the catalog and store URLs under its absolute path. */
int demo_setup(demo *d, ms_error *err);
/* Step 1: the source catalog, generated unless it already holds the lake. */
int demo_step_generate(demo *d, ms_error *err);
/*
 * Steps 2 to 4, as the agents do them: a source agent exports the source
 * (unless the latest snapshot already matches it: then the demo announces
 * that one) on the embedded bus; two target agents import it.
 */
int demo_step_agents(demo *d, ms_error *err);
/* Step 5: compare target i (0 or 1) with the source, entity by entity. */
int demo_step_verify(demo *d, size_t i, ms_error *err);
/* Print the agents demo_step_agents runs as one config file `metasync agent` takes. */
void demo_print_agent_config(const demo *d);
void demo_free(demo *d);

/* ---- over the Glue API (demo_glue.c) ------------------------------------ */

/*
 * --glue: write the accounts of this run (new random keys) as the server's
 * accounts file and as profiles of a shared credentials file under
 * d->base, point this process's AWS credential chain at those files, start
 * `metasync serve` over d->base/accounts.db in this process on 127.0.0.1
 * (a free port), and set the source and target URLs to glue:// URLs of the
 * accounts, each with its own profile.  demo_free stops the server.
 */
int demo_glue_start(demo *d, ms_error *err);
/* The server's address, http://127.0.0.1:PORT (borrowed; "" before the start). */
const char *demo_glue_endpoint(const demo *d);
/* The accounts file of the server (borrowed). */
const char *demo_glue_accounts_path(const demo *d);

/* What the server answered so far: requests, by operation and by error. */
typedef struct demo_glue_count {
	char name[48];
	unsigned long long requests;
} demo_glue_count;

typedef struct demo_glue_stats {
	unsigned long long requests, errors;
	demo_glue_count ops[48]; /* by operation, most requests first */
	size_t nops;
	demo_glue_count etypes[24]; /* answered with an error, by type, most first */
	size_t netypes;
} demo_glue_stats;

void demo_glue_stats_get(const demo *d, demo_glue_stats *st);
/* Stop the server (the requests in flight first); idempotent. */
void demo_glue_stop(demo *d);

#endif
