/*
 * Comparing two catalogs entity by entity, independently of the engine's
 * sync stamps: whether an import's target holds what its source holds under
 * a mapping (`metasync verify`, the demo), and whether a store's latest
 * snapshot already holds what an export would write now (so that an export
 * can be skipped).
 */
#ifndef METASYNC_COMPARE_H
#define METASYNC_COMPARE_H

#include <stddef.h>

#include "metasync/catalog.h"
#include "metasync/error.h"
#include "metasync/replicate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_compare_options {
	/* a's databases to compare (borrowed); NULL: every database a lists */
	const char *const *databases;
	size_t ndatabases;
	/*
	 * b holds a's entities as an import or sync under this mapping writes
	 * them: database and table prefixes, database renames, location
	 * rewrites, and the database references in view texts (only those
	 * fields are read; borrowed).  NULL: b holds them as they are in a,
	 * as an export copies them into a snapshot.
	 */
	const ms_sync_options *mapping;
	/*
	 * b is an import's target: each of its entities must carry a's
	 * metasync.replica-of marker, and a database b holds beyond a's is a
	 * mismatch only when it is a replica of one of the compared databases
	 * or of a database a does not have.  Without: b must hold nothing
	 * beyond a's databases.
	 */
	int replica;
	int fast;            /* equal partition digests (count and sum) stand for a scan */
	const char *b_name;  /* how messages name b (default "the other catalog") */
	size_t max_messages; /* mismatches described (default 20); all are counted */
} ms_compare_options;

/* How an entity of b differs from its counterpart in a. */
typedef enum ms_compare_what {
	MS_COMPARE_MISSING = 1, /* a has it, b does not */
	MS_COMPARE_EXTRA,       /* b has it, a does not (or not among the compared) */
	MS_COMPARE_DIFFERS,     /* both have it, with another content */
	MS_COMPARE_MARKER,      /* b's replica-of marker is absent or names another entity */
	MS_COMPARE_PARTITIONS   /* fast: a table's partition digests differ (no scan) */
} ms_compare_what;

/* Longest value an ms_compare_diff shows, in bytes ("..." included). */
#define MS_COMPARE_VALUE_MAX 48

/* One described mismatch, with the same index as its line in messages. */
typedef struct ms_compare_diff {
	ms_compare_what what;
	ms_kind kind; /* database, table (views too) or partition */
	int view;     /* a table that is a view */
	/* b's name for it: "db", "db.table" or "db.table" + the values key; owned */
	char *entity;
	/*
	 * DIFFERS: the first field whose content differs, as a path
	 * ("StorageDescriptor.Location", "Parameters.owner", "Columns[2].Type";
	 * NULL when only the hashes tell), and its value in a and in b as
	 * compact JSON shortened to MS_COMPARE_VALUE_MAX bytes around where
	 * they part (NULL: absent).
	 * MARKER: the marker's name, and b's value (NULL: absent).  Owned.
	 */
	char *field;
	char *a_value, *b_value;
	long long fields; /* DIFFERS: how many fields differ (field is the first) */
} ms_compare_diff;

typedef struct ms_compare_result {
	long long databases, tables, views, partitions; /* matched */
	long long mismatches;   /* every mismatch, one per entity and way it differs */
	char **messages;        /* one line per described mismatch; owned */
	ms_compare_diff *diffs; /* the same mismatches, field by field; owned */
	size_t nmessages;       /* of messages and of diffs */
} ms_compare_result;

/*
 * Compare b with a under opts, filling *out (zeroed first; free with
 * ms_compare_result_free, also after an error).  A mismatch is not an
 * error: 0 whenever both sides could be read, with out->mismatches 0 when b
 * holds exactly what a holds.  Entities are compared by content hash (the
 * fields a catalog assigns itself, and metasync's own parameters, are not
 * content), each of a's entities mapped first as opts->mapping says; each
 * database, table, view and partition that differs is one mismatch (a
 * wrong marker is another), described in the order met, databases and
 * tables sorted, partitions sorted by values key within a table (missing,
 * then differing, then extra).  MS_EUSAGE: opts->mapping is malformed (see
 * ms_sync_options_check); other errors are failures to read either side.
 */
int ms_catalog_compare(ms_catalog *a, ms_catalog *b, const ms_compare_options *opts,
		       ms_compare_result *out, ms_error *err);
void ms_compare_result_free(ms_compare_result *r);

/*
 * Would an export of source_url with the selection databases (';' names or
 * globs, NULL all) write what the snapshot LATEST names in the store at
 * store_url already holds?  *current is 1 when that snapshot is of the same
 * source catalog and holds exactly the selected databases with the same
 * content; then *latest (may be NULL) describes it (new;
 * ms_snapshot_info_free).  A store without a complete snapshot, or whose
 * latest snapshot cannot be read, is not current (0, *current 0).  Errors:
 * the source cannot be opened or read.
 */
int ms_export_is_current(const char *source_url, const char *store_url, const char *databases,
			 int *current, ms_snapshot_info *latest, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
