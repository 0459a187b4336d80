/*
 * Lists of names (util/strlist.h), for the catalog comparison and the demo,
 * which both collect database and table names through ms_name_cb.
 */
#include "util/strlist.h"

#include <stdlib.h>
#include <string.h>

int ms_strlist_add(ms_strlist *l, const char *s)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof(char *));

	if (!nv)
		return MS_ENOMEM;
	l->v = nv;
	if (!(l->v[l->n] = strdup(s)))
		return MS_ENOMEM;
	l->n++;
	return 0;
}

void ms_strlist_free(ms_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int ms_strlist_has(const ms_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ms_strlist_sort(ms_strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(char *), cmp_str);
}

int ms_strlist_collect(const char *name, void *ctx, ms_error *err)
{
	if (ms_strlist_add(ctx, name) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}
