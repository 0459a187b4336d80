/*
 * Comparing two catalogs entity by entity, independently of the engine's
 * sync stamps: whether an import's target holds what its source holds under
 * the mapped names, and whether a store's latest snapshot already holds what
 * an export would write now (so that an export can be skipped).
 */
#ifndef METASYNC_COMPARE_H
#define METASYNC_COMPARE_H

#include <stddef.h>

#include "metasync/catalog.h"
#include "metasync/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_compare_options {
	/* a's databases to compare (borrowed); NULL: every database a lists */
	const char *const *databases;
	size_t ndatabases;
	/* b holds them under this prefix, as an import names them (names, view texts) */
	const char *database_prefix;
	/*
	 * b is an import's target: each of its entities must carry a's
	 * metasync.replica-of marker, and a database b holds beyond a's is a
	 * mismatch only when it is a replica of a.  Without: b must hold
	 * nothing beyond a's databases.
	 */
	int replica;
	int fast;                 /* equal partition digests (count and sum) stand for a scan */
	const char *b_name;       /* how messages name b (default "the other catalog") */
	size_t max_messages;      /* mismatches described (default 20); all are counted */
} ms_compare_options;

typedef struct ms_compare_result {
	long long databases, tables, views, partitions;   /* matched */
	long long mismatches;
	char **messages;          /* one line per described mismatch; owned */
	size_t nmessages;
} ms_compare_result;

/*
 * Compare b with a under opts, filling *out (zeroed first; free with
 * ms_compare_result_free, also after an error).  A mismatch is not an
 * error: 0 whenever both sides could be read, with out->mismatches 0 when b
 * holds exactly what a holds.  Entities are compared by content hash (the
 * fields a catalog assigns itself, and metasync's own parameters, are not
 * content).  Errors are failures to read either side.
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
