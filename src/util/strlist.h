/*
 * A growable list of owned strings: names collected from a catalog (the
 * ms_name_cb below), compared, kept in order.  Linear lookups: for the
 * short lists of databases and tables a person could read.
 */
#ifndef MS_UTIL_STRLIST_H
#define MS_UTIL_STRLIST_H

#include <stddef.h>

#include "metasync/error.h"

typedef struct ms_strlist {
	char **v;
	size_t n;
} ms_strlist;

/* Append a copy of s: 0 or MS_ENOMEM. */
int ms_strlist_add(ms_strlist *l, const char *s);
/* Free every string and the list; l is empty again. */
void ms_strlist_free(ms_strlist *l);
/* 1 when l holds s. */
int ms_strlist_has(const ms_strlist *l, const char *s);
/* Sort l by strcmp. */
void ms_strlist_sort(ms_strlist *l);
/* An ms_name_cb that appends each name to the ms_strlist ctx (MS_ENOMEM in err). */
int ms_strlist_collect(const char *name, void *ctx, ms_error *err);

#endif
