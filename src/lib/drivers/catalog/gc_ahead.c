/*
 * Read-ahead of the glue:// driver (ms_catalog_plan_scans): with the list
 * of tables the caller will scan in order, the first page of partitions of
 * the next `parallel` tables is asked for while the caller works on the
 * current one, so that an export pays the round trip of one table, not of
 * each.  When such a first page comes back saying there is more (a
 * NextToken), and its table is one of the next SEGMENT_TABLES, the first
 * pages of its `segments` segments are asked for too, so that a large
 * table's segmented read has begun before the caller reaches it.  A scan
 * out of the plan's order, or of a table not in it, reads as usual; a plan
 * replaced or dropped lets what is in flight finish and forgets it.  Pages
 * wait in memory: at most `parallel` first pages and the segments of
 * SEGMENT_TABLES tables.
 */
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"

/*
 * Export of bench/glue.sh's 100,000 partitions through 50 ms, side by side:
 * 6 tables 13% faster than 2, 12 a few % faster than 6.  8 keeps at most
 * 8 x 4 segments x 1,000 partitions (about 45 MB) waiting.
 */
#define SEGMENT_TABLES 8

typedef struct ahead_entry {
	char *db, *table;
	gc_req *req; /* the first page's request: NULL until sent, and once taken */
	gc_req *seg[GC_SEGMENTS_MAX]; /* its segments' first pages, sent ahead */
	int total;                    /* of how many segments (0: none sent yet) */
} ahead_entry;

struct gc_ahead {
	ahead_entry *v;
	size_t n;
	size_t pos;  /* the next entry the caller should scan */
	size_t sent; /* entries before this one have been sent */
};

static void entry_free(glue_catalog *g, ahead_entry *e)
{
	gc_req_drop(&g->http, e->req);
	for (int i = 0; i < GC_SEGMENTS_MAX; i++)
		gc_req_drop(&g->http, e->seg[i]);
	free(e->db);
	free(e->table);
}

void gc_ahead_free(glue_catalog *g)
{
	gc_ahead *a = g->ahead;

	if (!a)
		return;
	g->ahead = NULL; /* no more segments sent from first_done */
	for (size_t i = 0; i < a->n; i++)
		entry_free(g, &a->v[i]);
	free(a->v);
	free(a);
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

/*
 * Does a finished first page say there is more?  A look at the text, not a
 * parse: "NextToken" with a non-empty value as a key (a string value
 * holding it would have its quotes escaped).  A key of that name deeper in
 * the answer (a partition's parameter) only makes the segments be asked for
 * in vain: the scan reads the answer and drops them.
 */
static int says_more(const gc_req *r)
{
	static const char key[] = "\"NextToken\":";
	const char *p;

	if (!r->done || r->status < 200 || r->status >= 300 || !r->answer.ptr)
		return 0;
	if (!(p = strstr(r->answer.ptr, key)))
		return 0;
	p += sizeof(key) - 1;
	while (*p == ' ')
		p++;
	return p[0] == '"' && p[1] != '"';
}

/*
 * Ask for the segments' first pages of entry i when it is near and has more
 * (again for the ones that could not be made, when seg[0] is among them).
 */
static void send_segments(glue_catalog *g, size_t i)
{
	gc_ahead *a = g->ahead;
	ahead_entry *e = &a->v[i];

	if (e->seg[0] || i >= a->pos + SEGMENT_TABLES || !e->req || !says_more(e->req))
		return;
	if (!e->total)
		e->total = gc_segments(g);
	for (int s = 0; e->total > 1 && s < e->total && s < GC_SEGMENTS_MAX; s++)
		if (!e->seg[s] &&
		    (e->seg[s] = gc_partitions_req(g, e->db, e->table, s, e->total, NULL)))
			gc_submit(&g->http, e->seg[s]);
}

/* A first page came back (on_done, while the client pumps). */
static void first_done(gc_client *c, gc_req *r)
{
	glue_catalog *g = r->ctx;
	gc_ahead *a = g->ahead;

	(void)c;
	if (!a)
		return;
	for (size_t i = a->pos; i < a->sent && i < a->pos + SEGMENT_TABLES; i++)
		if (a->v[i].req == r)
			send_segments(g, i);
}

void gc_ahead_top_up(glue_catalog *g)
{
	gc_ahead *a = g->ahead;
	ms_error err;

	while (a && a->sent < a->n && a->sent - a->pos < (size_t)g->http.parallel) {
		ahead_entry *e = &a->v[a->sent++];

		if ((e->req = gc_partitions_req(g, e->db, e->table, -1, 0, NULL))) {
			e->req->on_done = first_done;
			e->req->ctx = g;
			gc_submit(&g->http, e->req);
		}
	}
	for (size_t i = a ? a->pos : 0; a && i < a->sent && i < a->pos + SEGMENT_TABLES; i++)
		send_segments(g, i);
	ms_error_clear(&err);
	gc_kick(&g->http, &err); /* a failure shows when the pages are read */
}

gc_req *gc_ahead_take(glue_catalog *g, const char *db, const char *table,
		      gc_req *segs[GC_SEGMENTS_MAX], int *total, ms_error *err)
{
	gc_ahead *a = g->ahead;
	ahead_entry *e;
	gc_req *r;
	size_t i;

	memset(segs, 0, GC_SEGMENTS_MAX * sizeof(*segs));
	*total = 0;
	if (!a)
		return NULL;
	for (i = a->pos; i < a->sent; i++)
		if (strcmp(a->v[i].db, db) == 0 && strcmp(a->v[i].table, table) == 0)
			break;
	if (i == a->sent || !a->v[i].req)
		return NULL;
	e = &a->v[i];
	r = e->req;
	e->req = NULL;
	memcpy(segs, e->seg, sizeof(e->seg));
	memset(e->seg, 0, sizeof(e->seg));
	*total = e->total;
	r->on_done = NULL;
	if (i == a->pos)
		a->pos++;
	gc_ahead_top_up(g);
	if (!r->done && gc_pump(&g->http, gc_req_pending, r, err) < 0) {
		/* libcurl failed: leave it for the plan's end, read as usual */
		e->req = r;
		memcpy(e->seg, segs, sizeof(e->seg));
		memset(segs, 0, GC_SEGMENTS_MAX * sizeof(*segs));
		*total = 0;
		return NULL;
	}
	return r;
}
