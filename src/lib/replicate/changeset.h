/*
 * The inside of a change set (ms_changeset), for the engine: which
 * databases, tables and partitions it names, and what happened to them.
 */
#ifndef MS_REPLICATE_CHANGESET_H
#define MS_REPLICATE_CHANGESET_H

#include <stddef.h>

#include "metasync/replicate.h"
#include "util/strmap.h"

/* What a change set says of a database (flags). */
enum {
	CS_DB_NAMED = 1,   /* it, or something in it, changed */
	CS_DB_CHANGED = 2, /* the database itself was put or deleted */
	CS_DB_DROPPED = 4  /* it was deleted (and may have come back) */
};

/* What a change set says of a table (flags). */
enum {
	CS_TABLE = 1,          /* the table itself was put or deleted */
	CS_ALL_PARTITIONS = 2, /* its partitions changed, not named one by one */
	CS_DROPPED = 4         /* it was deleted (and may have come back) */
};

typedef struct cs_table {
	char *db, *table; /* folded to lowercase */
	unsigned flags;
	ms_strmap vkeys; /* the partitions named (keys only) */
} cs_table;

struct ms_changeset {
	ms_strmap dbs;  /* name -> tag: CS_DB_* */
	ms_strmap tidx; /* "db\ttable" -> tag: index into t, plus one */
	cs_table *t;
	size_t nt, alloc;
	size_t changes;
	long long oldest;
};

/* The table's entry, or NULL when the change set does not name it. */
const cs_table *ms_changeset_table(const ms_changeset *cs, const char *db, const char *table);
/* CS_DB_* flags of a database (0: not named). */
unsigned ms_changeset_db(const ms_changeset *cs, const char *db);
/*
 * Must a table's partitions all be read (named whole, deleted at some point,
 * or in a database that was)?
 */
int ms_changeset_whole(const ms_changeset *cs, const cs_table *t);
/*
 * Does the change set put or delete a database or a table (not only
 * partitions)?  A view's mapped text depends on which source databases and
 * tables exist, so every view is then looked at again.
 */
int ms_changeset_names_change(const ms_changeset *cs);

#endif
