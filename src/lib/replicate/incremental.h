/*
 * Incremental exports (incremental.c), for ms_export: whether an export can
 * follow the store's LATEST, with the change set since, and the tombstones
 * it writes.
 */
#ifndef MS_REPLICATE_INCREMENTAL_H
#define MS_REPLICATE_INCREMENTAL_H

#include "sync_internal.h"

typedef struct incr_plan {
	char *head;   /* the source's feed cursor before the export reads (NULL: no feed) */
	char *parent; /* NULL: write a full snapshot */
	char *base;
	unsigned chain;
	ms_changeset *cs; /* with parent: the changes since it */
	names dbs;        /* with parent: every database of the selection */
	names tables;     /* and every "db\ttable" */
	char why[512];    /* asked for an incremental, writing a full one: why */
} incr_plan;

/*
 * The plan of an export of src (opts->incremental: one that follows the
 * store's LATEST when it can).  0 or an error reading the source.
 */
int incr_plan_make(ms_catalog *src, const char *store_url, const ms_export_options *opts,
		   incr_plan *p, ms_error *err);
void incr_plan_free(incr_plan *p);
/* Write the change set's deletes into the incremental snapshot dst. */
int incr_write_tombstones(ms_catalog *src, ms_catalog *dst, const incr_plan *p,
			  const char *selection, ms_error *err);

#endif
