/*
 * The engine: make a target catalog match a source catalog.  Export, import
 * and sync are all ms_sync: export copies a live catalog into a snapshot
 * writer, import copies a snapshot into a live catalog, sync copies catalog
 * to catalog.
 */
#ifndef METASYNC_REPLICATE_H
#define METASYNC_REPLICATE_H

#include <stddef.h>

#include "metasync/catalog.h"
#include "metasync/error.h"
#include "metasync/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ms_deletes { MS_DELETES_NONE = 0, MS_DELETES_MIRROR = 1 } ms_deletes;

typedef enum ms_action {
	MS_ACTION_CREATE = 1,
	MS_ACTION_UPDATE,
	MS_ACTION_UNCHANGED,
	MS_ACTION_DELETE,
	MS_ACTION_SKIP,
	MS_ACTION_FAIL
} ms_action;

/* One planned or applied change, reported through ms_sync_options.on_change. */
typedef struct ms_change_event {
	ms_action action;
	ms_kind kind;
	const char *database; /* target names, borrowed */
	const char *table;
	const char *vkey;
	const char *reason; /* skips and failures: why; else NULL */
} ms_change_event;

typedef void (*ms_change_event_cb)(const ms_change_event *ev, void *ctx);
/* Progress: done of total units (partitions), called at most a few times a second. */
typedef void (*ms_progress_cb)(unsigned long long done, unsigned long long total, void *ctx);

/*
 * A change set: the entities a live catalog changed, by key, as its change
 * feed names them (ms_catalog_changes_since), each key once however often
 * it changed.  Given to ms_sync (ms_sync_options.changes), the run reads and
 * writes only those entities: what the source holds of them now is
 * written, what it no longer holds is deleted (under the delete policy),
 * so that applying a change set is idempotent and the order of the changes
 * inside it does not matter.
 */
typedef struct ms_changeset ms_changeset;

ms_changeset *ms_changeset_new(void);
void ms_changeset_free(ms_changeset *cs);
/* Add one change (an ms_change_cb: ctx is the change set).  MS_ENOMEM. */
int ms_changeset_add(const ms_change *c, void *cs, ms_error *err);
/* Add every key of from to cs.  MS_ENOMEM. */
int ms_changeset_merge(ms_changeset *cs, const ms_changeset *from, ms_error *err);
/* Changes added (repeats included), and distinct keys. */
size_t ms_changeset_changes(const ms_changeset *cs);
size_t ms_changeset_keys(const ms_changeset *cs);
/* The oldest commit time among the changes added (Unix milliseconds; 0 unknown). */
long long ms_changeset_oldest(const ms_changeset *cs);

/* backend_code of an MS_EREFUSED error: the target does not hold an incremental's parent, */
#define MS_REFUSED_CHAIN "chain"
/* or it holds a newer snapshot of the chain already (nothing to do). */
#define MS_REFUSED_NEWER "newer"

typedef struct ms_sync_options {
	const char *databases; /* ';'-separated names or globs; NULL = all */
	const char *database_prefix;
	const char *table_prefix;
	const char *const *renames; /* "OLD=NEW" database renames */
	size_t nrenames;
	const char *const *location_rewrites; /* "FROM=TO" location prefix rewrites */
	size_t nrewrites;
	ms_deletes deletes;
	long long max_deletes;  /* < 0: no limit; needs MS_DELETES_MIRROR */
	int prune_unmapped;     /* mirror also deletes replicas of this source
						  that the mapping no longer produces */
	int allow_empty_source; /* mirror deletes may remove every replica */
	int adopt;              /* take over entities that are not replicas */
	int dry_run;            /* plan only: change nothing */
	int copy;               /* export: plain copy, no markers or stamps */
	int full;               /* ignore sync stamps: diff every partition */
	/*
	 * NULL: the whole selection.  Else only the entities of this change set
	 * (within the selection) are read and written: no table is scanned
	 * whole unless the change set says its partitions all changed, no sync
	 * stamp is set (those of the tables written are cleared), and
	 * max_deletes counts the deletes of this change set.  The guard against
	 * removing every replica does not apply.
	 */
	const ms_changeset *changes;
	/*
	 * The snapshot this run imports (its id), recorded on each target
	 * database of the run (metasync.snapshot) once the run is complete;
	 * NULL: nothing recorded.  For an incremental snapshot, its parent and
	 * the full snapshot its chain starts from: the run is refused
	 * (MS_EREFUSED, nothing changed) unless every target database that
	 * records a snapshot of this source records the parent (or this one),
	 * and at least one does; err's backend_code is then MS_REFUSED_CHAIN.
	 */
	const char *snapshot_id, *snapshot_parent, *snapshot_base;
	ms_change_event_cb on_change; /* every non-unchanged action; may be NULL */
	ms_progress_cb progress;
	void *ctx;
	/* When *stop becomes non-zero the run ends before its next table (each
	   table and its partitions commit together), with an error. */
	const volatile int *stop;
} ms_sync_options;

typedef struct ms_counts {
	long long created, updated, unchanged, deleted, skipped, failed;
} ms_counts;

typedef struct ms_report_error {
	char *entity;  /* "db.table" or "db.table[values]"; owned */
	char *message; /* owned */
} ms_report_error;

typedef enum ms_status {
	MS_STATUS_OK = 0,
	MS_STATUS_PARTIAL,
	MS_STATUS_REFUSED,
	MS_STATUS_ERROR
} ms_status;

/*
 * What a run did.  errors and warnings grow only through ms_report_add_error
 * and ms_report_add_warning.
 */
typedef struct ms_report {
	ms_status status;
	ms_counts databases, tables, partitions;
	ms_report_error *errors;
	size_t nerrors;
	ms_report_error *warnings; /* what a target could not hold, per entity */
	size_t nwarnings;
	/*
	 * Wall time of the call that made the report: ms_sync's the engine run
	 * alone; ms_import's and ms_export's the whole operation, from opening
	 * the first catalog to closing the last (a sqlite target checkpoints
	 * its write-ahead log on close), which is what the command and the
	 * agent print.
	 */
	double seconds;
	int dry_run;
} ms_report;

/*
 * Check opts on its own, before any catalog is read: the database selection
 * ('' selects nothing, ',' is not a separator), prefixes and renames (names
 * a mapping introduces hold letters, digits and '_'; a database renamed two
 * ways, or two renamed to one name), location rewrites (FROM=TO split at
 * the one '=' followed by a location, a non-empty TO, one FROM rewritten
 * two ways), a max_deletes above 0 or prune_unmapped without mirror deletes.
 * MS_EUSAGE with a one-line message naming the option's value.  ms_sync
 * checks the same.
 */
int ms_sync_options_check(const ms_sync_options *opts, ms_error *err);

/*
 * Make target match source under opts.  *report (new; ms_report_free) is
 * written whenever the run got far enough to count anything, also when an
 * error is returned.  Returns 0 when the run completed (status ok or partial),
 * MS_EREFUSED when a guard refused it before any change, other codes on a
 * fatal error.  Checks the source's integrity before any change.  Guards:
 * with mirror deletes, more deletes than max_deletes, or deletes that would
 * leave no replica of the source in the target (an empty or missing source,
 * a selection that matches nothing) unless allow_empty_source.  A pattern
 * of opts->databases that matches no source database is a report warning.
 */
int ms_sync(ms_catalog *source, ms_catalog *target, const ms_sync_options *opts, ms_report **report,
	    ms_error *err);

void ms_report_free(ms_report *r);
/*
 * Add an error: entity ("db.table", "db.table[values]", or a catalog's URL
 * for an error about the whole run) and message are copied.  MS_ENOMEM on
 * failure, the report unchanged.
 */
int ms_report_add_error(ms_report *r, const char *entity, const char *message);
/*
 * Add a warning; text is "<entity>: <message>" as drivers' warn callbacks
 * give it (a text without ": " is all message).  MS_ENOMEM on failure.
 */
int ms_report_add_warning(ms_report *r, const char *text);
/*
 * Drivers' warnings held until a report exists: pass ms_warnings_collect
 * and a zeroed ms_warnings as ms_open_options.warn / warn_ctx, then move
 * them into the report (NULL: dropped) with ms_warnings_into, which empties w.
 */
typedef struct ms_warnings {
	char **v;
	size_t n;
} ms_warnings;

void ms_warnings_collect(void *ctx, const char *message);
void ms_warnings_into(ms_warnings *w, ms_report *rep);

const char *ms_status_name(ms_status s);
const char *ms_action_name(ms_action a);

/*
 * Map a source entity in place to what import and sync write for it under
 * opts (names, database and table prefixes, renames, location rewrites,
 * database references in view texts and namespaces), given the selected
 * source databases; rehashes when the content changed.  Markers are not
 * added.  For verification and for callers that preview a mapping.
 */
int ms_sync_map_entity(ms_entity *e, const ms_sync_options *opts, const char *const *databases,
		       size_t ndatabases, ms_error *err);

/*
 * Export: open the catalog at source_url, copy the selected databases into
 * a new snapshot on the store at store_url (plain copy, no markers), make it
 * visible, and describe it in *info (free with ms_snapshot_info_free).  A
 * run that is not complete (report status partial) publishes nothing and
 * leaves info->url NULL.  *report as for ms_sync.
 */
typedef struct ms_export_options {
	const char *databases; /* ';' names or globs; NULL = all */
	const char *compress;  /* NULL or "gzip" */
	size_t part_bytes;     /* 0 = default */
	ms_progress_cb progress;
	void *ctx;
	/* how errors name the two URLs (default "source", "store") */
	const char *source_label, *store_label;
	/*
	 * Before it writes, an export removes from the store what earlier
	 * exports provably abandoned (ms_store_gc, no retention, the default
	 * grace).  Each item it looked at, and a cleanup that failed as a whole
	 * (item->key NULL, item->error why), is told here (NULL: not told).
	 * The export goes on either way.
	 */
	void (*on_cleanup)(const ms_gc_item *item, void *ctx);
	void *cleanup_ctx;
	/*
	 * Write only what changed since the store's LATEST (an incremental
	 * snapshot, see docs/live.md), read from the source's change feed.  A
	 * full snapshot is written instead, with a report warning saying why,
	 * when LATEST is missing or of another source or selection, records no
	 * feed cursor, the feed no longer holds it, or the chain since the last
	 * full snapshot holds full_every incrementals (0: 24).
	 */
	int incremental;
	unsigned full_every;
	int no_cleanup; /* leave the store's cleanup out (a live source does it now and then) */
} ms_export_options;

int ms_export(const char *source_url, const char *store_url, const ms_export_options *opts,
	      ms_snapshot_info *info, ms_report **report, ms_error *err);

/*
 * Import: open the snapshot at snapshot_url (a store root with LATEST, or
 * one snapshot's folder), refuse it unless its manifest hashes to
 * expect_sha256 (when not NULL), and make the catalog at target_url match
 * it under opts.  Warnings of both drivers go into the report; its seconds
 * are the whole import's.  An error opening a catalog names it "snapshot"
 * or "target" ("snapshot: no snapshot at ...").  ms_import_ext with only
 * expect_sha256 set.
 */
int ms_import(const char *snapshot_url, const char *expect_sha256, const char *target_url,
	      const ms_sync_options *opts, ms_report **report, ms_error *err);

typedef struct ms_import_options {
	const char *expect_sha256; /* refuse unless manifest.json hashes to this */
	int allow_no_manifest;     /* accept an export made by the AWS utility */
	/* the AWS utility's separate folders (source_url is then database_input_path) */
	const char *database_input_path, *table_input_path, *partition_input_path;
	/* how errors opening a catalog name it (default "snapshot", "target") */
	const char *source_label, *target_label;
	/*
	 * Called (when not NULL) with the open source before the target is
	 * opened, to refuse a source the caller's options do not fit: a
	 * negative return, with err set, ends the import with that code and
	 * no prefix, before anything is read or changed.
	 */
	int (*check_source)(ms_catalog *source, void *ctx, ms_error *err);
	void *ctx;
} ms_import_options;

/*
 * The general import: make the catalog at target_url match the one at
 * source_url (any catalog: a snapshot, or a live catalog for a sync) under
 * opts, the source opened as io says (NULL: as ms_import).  *report and the
 * return as for ms_sync; *report's seconds are the whole import's.
 */
int ms_import_ext(const char *source_url, const char *target_url, const ms_import_options *io,
		  const ms_sync_options *opts, ms_report **report, ms_error *err);

/*
 * Live replication: a follower keeps a target in step with a source through
 * the source's change feed.  Its first round (no cursor, or a cursor the
 * feed no longer keeps) runs the whole selection, from a cursor taken just
 * before it; every later round reads the feed from the cursor and applies
 * the change set it names (ms_sync_options.changes).  The cursor moves on
 * only when a round completed, so that a crash, an error or a refusal
 * leaves the changes to the next round: applying them twice is harmless.
 */
typedef struct ms_follow_round {
	int full;                /* a run of the whole selection */
	const ms_report *report; /* the round's (borrowed for the call) */
	size_t changes;          /* changes read from the feed (repeats included) */
	size_t keys;             /* distinct entities they name */
	long long oldest_ms;     /* commit time of the oldest change, Unix ms; 0 unknown */
	long long done_ms;       /* when the round committed its last write, Unix ms */
	const char *cursor;      /* where the next round resumes */
} ms_follow_round;

typedef struct ms_follow_options {
	/*
	 * A file that keeps the cursor across restarts (written atomically
	 * after every round that moved it); NULL: none, so that every start
	 * runs the whole selection.  A file written for another source, or
	 * another selection or mapping, is not used (the first round is whole).
	 */
	const char *state_path;
	/* Seconds between whole runs after the first (0: never again). */
	double reconcile;
	/* called after every round that read changes or ran whole (NULL: not) */
	void (*on_round)(const ms_follow_round *round, void *ctx);
	void *ctx;
} ms_follow_options;

typedef struct ms_follower ms_follower;

/*
 * A follower of source (which needs MS_CAP_CHANGE_FEED) into target, under
 * opts and fo (both borrowed for its life; opts->changes must be NULL).
 * Reads the state file.  MS_ENOTSUPPORTED for a source without a feed.
 */
int ms_follower_new(ms_follower **out, ms_catalog *source, ms_catalog *target,
		    const ms_sync_options *opts, const ms_follow_options *fo, ms_error *err);
void ms_follower_free(ms_follower *f);
/*
 * One round: *applied is the number of changes it applied (0: the feed had
 * nothing new; a whole run counts 1).  Returns 0 (the round's report went
 * to fo->on_round), MS_EREFUSED (a guard refused the change set; nothing
 * changed, the cursor stays), or another error (the cursor stays).
 */
int ms_follower_step(ms_follower *f, size_t *applied, ms_error *err);
/*
 * Rounds until *stop becomes non-zero: after a round with nothing new, wait
 * interval seconds (0: 0.1); after an error, wait longer each time (up to
 * 30 s) and try again, telling on_error (NULL: not told).  Returns 0 when
 * stopped, or MS_EREFUSED when a guard refused a change set.
 */
int ms_follow(ms_follower *f, double interval, const volatile int *stop,
	      void (*on_error)(const ms_error *err, void *ctx), void *ctx, ms_error *err);

/*
 * Check a selection before use: it names something (not only ';' and
 * spaces) and holds no ',' outside a glob's [...] (names are separated by
 * ';'; "[,]" matches a comma).  MS_EUSAGE with a one-line message that
 * starts with label ("--database-names") and says what to write instead.
 */
int ms_selection_check(const char *label, const char *patterns, ms_error *err);

/* 1 if name matches a ';'-separated list of names or globs (NULL list = all). */
int ms_selection_match(const char *patterns, const char *name);

#ifdef __cplusplus
}
#endif
#endif
