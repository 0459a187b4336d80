/*
 * Shared by the files of the engine: sync.c (the phases and the run),
 * sync_table.c (phase 4 for one table: its partitions diffed and written in
 * batches), sync_mirror.c (mirror deletes of replicas the run no longer
 * produces) and sync_report.c (events, counts, errors and warnings of the
 * report).  Nothing here is public API.
 */
#ifndef MS_REPLICATE_SYNC_INTERNAL_H
#define MS_REPLICATE_SYNC_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "changeset.h"
#include "mapping.h"
#include "metasync/catalog.h"
#include "metasync/replicate.h"

/* A list of names (each new), sorted when the caller sorts it with sync_cmp_str. */
typedef struct names {
	char **v;
	size_t n, alloc;
} names;

/* One source table and what phase 1 decided for it. */
typedef struct table_plan {
	char *sdb, *st;    /* source names */
	ms_entity *mapped; /* the target-shaped table (with markers) */
	int target_exists;
	int target_stamped; /* the target table carries a sync stamp */
	unsigned char target_hash[MS_HASH_LEN];
	int skip; /* not ours: leave it alone */
	char *skip_reason;
	const char *adopted; /* taken over with --adopt: why it was not ours (static) */
	int up_to_date;      /* the stamp says table and partitions are current */
	int have_digest;
	ms_digest digest; /* source partitions */
	char stamp[2 * MS_HASH_LEN + 1];
	int is_view;
	int db_failed;
} table_plan;

/* One run of ms_sync: its catalogs, options, plan and report. */
typedef struct run {
	ms_catalog *src, *dst;
	const ms_sync_options *o;
	ms_mapping map;
	ms_report *rep;
	int apply;
	int transactional;
	size_t batch;
	names dbs;  /* selected source databases, sorted */
	names tdbs; /* their target names, sorted */
	names created; /* target databases this run created (sorted before the look at stale replicas) */
	table_plan *tables;
	size_t ntables;
	long long deletes; /* counted in the current pass */
	int final;         /* the pass whose events and warnings are reported */
	unsigned long long done, total;
	double last_progress;
	/*
	 * With table workers (sync_workers.c): the lock every worker takes to
	 * read the source and to touch the report, the events and the counters
	 * above (recursive), and the run they belong to; NULL and self when the
	 * run is one thread.
	 */
	pthread_mutex_t *lock;
	struct run *top;
	ms_catalog **clones; /* the target's clones the workers write through */
	void *item_ctx;      /* what a sync_item_fn needs besides the run */
	size_t nclones;
	int clones_made;
} run;

/*
 * fn for each of n items (database or table indices), several at a time
 * through clones of the target (sync_workers.c), each worker with a copy of
 * r whose dst is its clone: 0 when done, 1 when the caller must go one item
 * at a time instead (the target cannot clone, is transactional, or there is
 * nothing to gain), or the first fatal error (fn's negative return).
 */
typedef int (*sync_item_fn)(run *r, size_t item, ms_error *fatal);
int sync_parallel(run *r, const size_t *items, size_t n, sync_item_fn fn, ms_error *fatal);
/* Close the clones sync_parallel made. */
void sync_workers_free(run *r);

/* Take and release r's lock when it has one (table workers). */
void sync_lock(run *r);
void sync_unlock(run *r);

/* Names (sync.c). */

/* An ms_name_cb that appends a copy of name to the names at ctx. */
int sync_names_add(const char *name, void *ctx, ms_error *err);
void sync_names_free(names *ns);
/* qsort and bsearch order of names: strcmp. */
int sync_cmp_str(const void *a, const void *b);
/* Is name in the sorted list? */
int sync_names_has(const names *ns, const char *name);

/* Ownership and mapping (sync.c). */

/*
 * Is t a replica of this source (its marker names this source's catalog id
 * and instance)?  Fills *db and *table (new, may be NULL) from the marker
 * when db is not NULL; *why says why not (static).
 */
int sync_ours(const run *r, const ms_entity *t, char **db, char **table, const char **why);
/*
 * May the engine write over this target entity?  1 with *reason NULL when
 * ours; 1 with *reason saying what it was when opts->adopt takes it over;
 * 0 with a static reason when not.
 */
int sync_owned(const run *r, const ms_entity *t, const char **reason);
/* Put this source's replica-of (and instance) markers on e, unless copying. */
int sync_mark(run *r, ms_entity *e, const char *sdb, const char *st, ms_error *err);
/* Map a source entity in place to its target shape and rehash if needed. */
int sync_map_entity(run *r, ms_entity *e, ms_error *err);
/* Is e a view (TableType VIRTUAL_VIEW)? */
int sync_is_view(const ms_entity *e);

/* Tables (sync_table.c). */

/*
 * Begin a transaction on the target, retrying with backoff while another
 * writer holds it (MS_ECONFLICT), up to about a minute.
 */
int sync_begin_retrying(run *r, ms_error *err);
/*
 * Apply (or count) one table with its partitions; failures are reported,
 * not returned.  A negative return ends the run, with *fatal filled.
 */
int sync_table(run *r, table_plan *tp, ms_error *fatal);
/* Does the run read only the partitions a change set names of the table (no scan of them)? */
int sync_points_only(const run *r, const table_plan *tp);

/* Mirror deletes (sync_mirror.c). */

/*
 * Replicas of this source in the target that this run does not produce:
 * deleted with mirror deletes when their source is gone, reported (or
 * pruned) when the mapping no longer produces them.  Negative only for an
 * error that ends the run, with *fatal filled.
 */
int sync_stale_replicas(run *r, ms_error *fatal);
/*
 * The same for a change set's run: only the tables and databases it names
 * whose source is gone.
 */
int sync_stale_changed(run *r, ms_error *fatal);

/* Snapshot chains (sync_chain.c). */

/*
 * An incremental snapshot's run: refuse it (MS_EREFUSED, the report
 * refused, *err saying what to import first) unless the target's databases
 * record its parent.  0 for other runs.
 */
int sync_chain_check(run *r, ms_error *err);
/* A complete run of a snapshot: record its id on the target's databases of the run. */
int sync_chain_record(run *r, ms_error *err);
/*
 * The oldest snapshot of source's chain that target's databases (under
 * opts' selection and mapping) record: *held new, or NULL when none does.
 */
int sync_chain_held(ms_catalog *source, ms_catalog *target, const ms_sync_options *opts,
		    char **held, ms_error *err);

/* The report (sync_report.c). */

/* Add n to the counter of action a. */
void sync_count_action(ms_counts *c, ms_action a, long long n);
/* Count an action on an entity and tell opts->on_change (unless unchanged). */
void sync_event(run *r, ms_action a, ms_kind kind, const char *db, const char *table,
		const char *vkey, const char *reason);
/* Add "db.table<vkey>": message to the report's errors (best effort). */
void sync_add_error(run *r, const char *db, const char *table, const char *vkey,
		    const char *message);
/* An entity failed: an error in the report when applying, and a FAIL event. */
void sync_fail(run *r, ms_kind kind, const char *db, const char *table, const char *vkey,
	       const ms_error *e);
/* n more partitions done; calls opts->progress at most every 0.2 s. */
void sync_progress(run *r, unsigned long long n);
/* Add a report warning, "<entity>: <message>" as ms_report_add_warning reads it. */
void sync_warnf(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Tell an adoption in the report: from now on mirror deletes may remove the entity. */
void sync_note_adopted(run *r, const char *db, const char *table, const char *reason);

#endif
