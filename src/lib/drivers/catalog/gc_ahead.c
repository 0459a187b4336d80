/*
 * Read-ahead of the glue:// driver (ms_catalog_plan_scans): with the list
 * of tables the caller will scan in order, the first page of partitions of
 * the next `parallel` tables is asked for while the caller works on the
 * current one, so that an export pays the round trip of one table, not of
 * each.  A scan out of the plan's order, or of a table not in it, reads as
 * usual; a plan replaced or dropped lets what is in flight finish and
 * forgets it.  Pages wait in memory: at most `parallel` of them.
 */
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"

typedef struct ahead_entry {
	char *db, *table;
	gc_req *req; /* the first page's request: NULL until sent, and once taken */
} ahead_entry;

struct gc_ahead {
	ahead_entry *v;
	size_t n;
	size_t pos;  /* the next entry the caller should scan */
	size_t sent; /* entries before this one have been sent */
};

static int busy(gc_client *c, void *ctx)
{
	(void)c;
	return !((gc_req *)ctx)->done;
}

void gc_ahead_free(glue_catalog *g)
{
	gc_ahead *a = g->ahead;
	ms_error err;

	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].req && !a->v[i].req->done) {
			ms_error_clear(&err);
			gc_pump(&g->http, busy, a->v[i].req, &err);
		}
		if (a->v[i].req && a->v[i].req->done)
			gc_req_free(a->v[i].req);
		free(a->v[i].db);
		free(a->v[i].table);
	}
	free(a->v);
	free(a);
	g->ahead = NULL;
}

int gc_plan_scans(ms_catalog *self, const ms_table_ref *tables, size_t n, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	gc_ahead *a;

	gc_ahead_free(g);
	if (n == 0)
		return 0;
	if (!(a = calloc(1, sizeof(*a))) || !(a->v = calloc(n, sizeof(*a->v)))) {
		free(a);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	g->ahead = a;
	a->n = n;
	for (size_t i = 0; i < n; i++)
		if (!(a->v[i].db = strdup(tables[i].database)) ||
		    !(a->v[i].table = strdup(tables[i].table))) {
			gc_ahead_free(g);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
	gc_ahead_top_up(g);
	return 0;
}

void gc_ahead_top_up(glue_catalog *g)
{
	gc_ahead *a = g->ahead;

	while (a && a->sent < a->n && a->sent - a->pos < (size_t)g->http.parallel) {
		ahead_entry *e = &a->v[a->sent++];
		char *text = gc_partitions_text(g, e->db, e->table, -1, NULL);

		if (text && (e->req = gc_req_new("GetPartitions", text)))
			gc_submit(&g->http, e->req);
	}
}

gc_req *gc_ahead_take(glue_catalog *g, const char *db, const char *table, ms_error *err)
{
	gc_ahead *a = g->ahead;
	gc_req *r;
	size_t i;

	if (!a)
		return NULL;
	for (i = a->pos; i < a->sent; i++)
		if (strcmp(a->v[i].db, db) == 0 && strcmp(a->v[i].table, table) == 0)
			break;
	if (i == a->sent || !a->v[i].req)
		return NULL;
	r = a->v[i].req;
	a->v[i].req = NULL;
	if (i == a->pos)
		a->pos++;
	gc_ahead_top_up(g);
	if (!r->done && gc_pump(&g->http, busy, r, err) < 0) {
		/* libcurl failed: leave it for the plan's end, read as usual */
		a->v[i].req = r;
		return NULL;
	}
	return r;
}
