/*
 * Mapping from source names and locations to target ones: database and
 * table prefixes, database renames, location prefix rewrites, and the
 * rewriting of database references inside view texts so that replicated
 * views read the replicated tables.
 */
#ifndef MS_REPLICATE_MAPPING_H
#define MS_REPLICATE_MAPPING_H

#include "metasync/model.h"
#include "metasync/replicate.h"

/*
 * A location rewrite: FROM and TO without trailing '/', matched at a path
 * boundary (FROM itself, or FROM followed by '/').  Rules are kept longest
 * FROM first, so the most specific one applies.
 */
typedef struct ms_rewrite_rule {
	char *from, *to;
	char *text;  /* the rule as messages show it (user info masked), owned */
	size_t hits; /* locations it rewrote in this run */
} ms_rewrite_rule;

typedef struct ms_mapping {
	const char *db_prefix;
	const char *table_prefix;
	char **rename_from, **rename_to;
	const char *const *rename_text; /* as given, borrowed */
	size_t nrenames;
	ms_rewrite_rule *rw;
	size_t nrewrites;
	char **dbs; /* the selected source databases (views are rewritten for these) */
	size_t ndbs;
	char **tables; /* "db\ttable" of every selected source table, sorted (views) */
	size_t ntables;
	char *fingerprint; /* the rules that change partitions, for sync stamps */
} ms_mapping;

/*
 * Parse the options' renames and rewrites after ms_sync_options_check;
 * MS_EUSAGE names a malformed or conflicting one.
 */
int ms_mapping_init(ms_mapping *m, const ms_sync_options *o, ms_error *err);
void ms_mapping_free(ms_mapping *m);
/* Record the selected source databases (borrowed strings are copied). */
int ms_mapping_set_databases(ms_mapping *m, const char *const *dbs, size_t n, ms_error *err);
/*
 * Record the selected source tables (database, table; copied), so that
 * unqualified table names in a view's text get the table prefix.
 */
int ms_mapping_set_tables(ms_mapping *m, const char *const *dbs, const char *const *tables,
			  size_t n, ms_error *err);
/* 1 when db.table is a selected source table (ms_mapping_set_tables). */
int ms_mapping_has_table(const ms_mapping *m, const char *db, const char *table);
/* Target names (new strings). */
char *ms_mapping_database(const ms_mapping *m, const char *db);
char *ms_mapping_table(const ms_mapping *m, const char *table);
/* 1 when the mapping changes nothing but names (content hashes carry over). */
int ms_mapping_is_identity_content(const ms_mapping *m);
/*
 * Map e in place to the target: identity, locations, view texts.  Sets
 * *content_changed when the writable content changed (the caller rehashes).
 */
int ms_mapping_apply(const ms_mapping *m, ms_entity *e, int *content_changed, ms_error *err);
/*
 * Rewrite references to selected databases and their tables in SQL text
 * (new string, or NULL when unchanged): `db.table` gets the target database
 * and table names; with a table prefix, an unqualified name after FROM or
 * JOIN that names a table of home_db (the view's source database, may be
 * NULL) gets the prefix too.
 */
char *ms_mapping_rewrite_sql(const ms_mapping *m, const char *sql, const char *home_db);
/*
 * Call cb with each pattern of a ';'-separated selection (trimmed,
 * lowercased, as ms_selection_match reads it) that matches none of names.
 */
void ms_selection_unmatched(const char *patterns, const char *const *names, size_t n,
			    void (*cb)(const char *pattern, void *ctx), void *ctx);

#endif
