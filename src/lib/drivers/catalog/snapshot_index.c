/*
 * The snapshot driver's records of databases, tables and part files, and the
 * name maps that find a database or a table by its folded name: open
 * addressing over indices, because the reader sorts the records once they
 * are all loaded and the writer only appends.  Lookups never allocate.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "snapshot_internal.h"

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------------ */
/* Name maps: open addressing over indices into dbs / tables                */

static uint64_t name_hash(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ 0xffu) * 1099511628211ULL;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

static int map_insert(idx_map *m, uint64_t h, size_t idx)
{
	size_t i, mask;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64, j;
		map_slot *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return MS_ENOMEM;
		for (j = 0; j < m->cap; j++) {
			if (!m->slots[j].v)
				continue;
			for (i = m->slots[j].h & (ncap - 1); ns[i].v; i = (i + 1) & (ncap - 1))
				;
			ns[i] = m->slots[j];
		}
		free(m->slots);
		m->slots = ns;
		m->cap = ncap;
	}
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].v; i = (i + 1) & mask)
		;
	m->slots[i].h = h;
	m->slots[i].v = idx + 1;
	m->n++;
	return 0;
}

void snap_map_free(idx_map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

/* Index of database name (already folded), or NONE. */
size_t snap_db_find(const snapshot *s, const char *name)
{
	uint64_t h;
	size_t i, mask;

	if (!s->dbmap.cap)
		return NONE;
	h = name_hash(name, NULL);
	mask = s->dbmap.cap - 1;
	for (i = h & mask; s->dbmap.slots[i].v; i = (i + 1) & mask) {
		const map_slot *sl = &s->dbmap.slots[i];

		if (sl->h == h && strcmp(s->dbs[sl->v - 1].name, name) == 0)
			return sl->v - 1;
	}
	return NONE;
}

/* Index of table db.name (already folded), or NONE. */
size_t snap_table_find(const snapshot *s, const char *db, const char *name)
{
	uint64_t h;
	size_t i, mask;

	if (!s->tmap.cap)
		return NONE;
	h = name_hash(db, name);
	mask = s->tmap.cap - 1;
	for (i = h & mask; s->tmap.slots[i].v; i = (i + 1) & mask) {
		const map_slot *sl = &s->tmap.slots[i];
		const table_rec *t = &s->tables[sl->v - 1];

		if (sl->h == h && strcmp(t->name, name) == 0 && strcmp(t->database, db) == 0)
			return sl->v - 1;
	}
	return NONE;
}

/* The same lookups with caller-supplied names, folded first. */
size_t snap_db_lookup(const snapshot *s, const char *name)
{
	char n[NAME_BUF];

	if (!name || snap_fold(n, sizeof(n), name) < 0)
		return NONE;
	return snap_db_find(s, n);
}

size_t snap_table_lookup(const snapshot *s, const char *db, const char *name)
{
	char d[NAME_BUF], n[NAME_BUF];

	if (!db || !name || snap_fold(d, sizeof(d), db) < 0 || snap_fold(n, sizeof(n), name) < 0)
		return NONE;
	return snap_table_find(s, d, n);
}

/* Append a database record (name copied); *idx is its index. */
int snap_db_add(snapshot *s, const char *name, size_t *idx, ms_error *err)
{
	db_rec *d;

	if (snap_grow((void **)&s->dbs, &s->adbs, s->ndbs + 1, sizeof(*s->dbs)) < 0)
		return oom(err);
	d = &s->dbs[s->ndbs];
	memset(d, 0, sizeof(*d));
	if (!(d->name = strdup(name)))
		return oom(err);
	if (map_insert(&s->dbmap, name_hash(name, NULL), s->ndbs) < 0) {
		free(d->name);
		return oom(err);
	}
	*idx = s->ndbs++;
	return 0;
}

/* Append a table record (names copied); *idx is its index. */
int snap_table_add(snapshot *s, const char *db, const char *name, size_t *idx, ms_error *err)
{
	table_rec *t;

	if (snap_grow((void **)&s->tables, &s->atables, s->ntables + 1, sizeof(*s->tables)) < 0)
		return oom(err);
	t = &s->tables[s->ntables];
	memset(t, 0, sizeof(*t));
	ms_digest_init(&t->digest);
	t->nkeys = -1;
	t->database = strdup(db);
	t->name = strdup(name);
	if (!t->database || !t->name || map_insert(&s->tmap, name_hash(db, name), s->ntables) < 0) {
		free(t->database);
		free(t->name);
		return oom(err);
	}
	*idx = s->ntables++;
	return 0;
}

/* Record a partition line of t, extending the last span when it is adjacent. */
int snap_span_add(table_rec *t, size_t file, uint64_t offset, uint64_t bytes, uint64_t lines)
{
	span *sp;

	if (t->nspans > 0) {
		sp = &t->spans[t->nspans - 1];
		if (sp->file == file && sp->offset + sp->bytes == offset) {
			sp->bytes += bytes;
			sp->lines += lines;
			return 0;
		}
	}
	if (snap_grow((void **)&t->spans, &t->aspans, t->nspans + 1, sizeof(*t->spans)) < 0)
		return MS_ENOMEM;
	sp = &t->spans[t->nspans++];
	sp->file = file;
	sp->offset = offset;
	sp->bytes = bytes;
	sp->lines = lines;
	return 0;
}

int snap_file_add(snapshot *s, int folder, const char *path, const char *key, size_t *idx,
		  ms_error *err)
{
	file_rec *f;

	if (snap_grow((void **)&s->files, &s->afiles, s->nfiles + 1, sizeof(*s->files)) < 0)
		return oom(err);
	f = &s->files[s->nfiles];
	memset(f, 0, sizeof(*f));
	f->folder = folder;
	f->gz = snap_has_suffix(path, ".gz");
	f->path = strdup(path);
	f->key = strdup(key);
	if (!f->path || !f->key) {
		free(f->path);
		free(f->key);
		return oom(err);
	}
	*idx = s->nfiles++;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Indices sorted by path or name (a merge sort: qsort has no context)      */

int snap_idx_cmp_file(const snapshot *s, size_t a, size_t b)
{
	return strcmp(s->files[a].path, s->files[b].path);
}

int snap_idx_cmp_db(const snapshot *s, size_t a, size_t b)
{
	return strcmp(s->dbs[a].name, s->dbs[b].name);
}

int snap_idx_cmp_table(const snapshot *s, size_t a, size_t b)
{
	int c = strcmp(s->tables[a].database, s->tables[b].database);

	return c ? c : strcmp(s->tables[a].name, s->tables[b].name);
}

static void merge_sort(const snapshot *s, size_t *v, size_t *tmp, size_t n, idx_cmp cmp)
{
	size_t mid, i, j, k;

	if (n < 2)
		return;
	mid = n / 2;
	merge_sort(s, v, tmp, mid, cmp);
	merge_sort(s, v + mid, tmp, n - mid, cmp);
	for (i = 0, j = mid, k = 0; i < mid && j < n;)
		tmp[k++] = cmp(s, v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

/* A new array of 0..n-1 sorted by cmp, or NULL when out of memory. */
size_t *snap_sorted_indices(const snapshot *s, size_t n, idx_cmp cmp)
{
	size_t *v = malloc((n ? n : 1) * sizeof(*v));
	size_t *tmp = malloc((n ? n : 1) * sizeof(*tmp));
	size_t i;

	if (!v || !tmp) {
		free(v);
		free(tmp);
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = i;
	merge_sort(s, v, tmp, n, cmp);
	free(tmp);
	return v;
}

/* Sort databases and tables by name and rebuild their maps. */
int snap_finalize_index(snapshot *s, ms_error *err)
{
	size_t *order, i;
	int rc = 0;

	if ((order = snap_sorted_indices(s, s->ndbs, snap_idx_cmp_db)) == NULL)
		return oom(err);
	{
		db_rec *nd = malloc((s->ndbs ? s->ndbs : 1) * sizeof(*nd));

		if (!nd) {
			free(order);
			return oom(err);
		}
		for (i = 0; i < s->ndbs; i++)
			nd[i] = s->dbs[order[i]];
		free(s->dbs);
		s->dbs = nd;
		s->adbs = s->ndbs;
	}
	free(order);
	if ((order = snap_sorted_indices(s, s->ntables, snap_idx_cmp_table)) == NULL)
		return oom(err);
	{
		table_rec *nt = malloc((s->ntables ? s->ntables : 1) * sizeof(*nt));

		if (!nt) {
			free(order);
			return oom(err);
		}
		for (i = 0; i < s->ntables; i++)
			nt[i] = s->tables[order[i]];
		free(s->tables);
		s->tables = nt;
		s->atables = s->ntables;
	}
	free(order);
	snap_map_free(&s->dbmap);
	snap_map_free(&s->tmap);
	for (i = 0; i < s->ndbs && rc == 0; i++)
		rc = map_insert(&s->dbmap, name_hash(s->dbs[i].name, NULL), i);
	for (i = 0; i < s->ntables && rc == 0; i++)
		rc = map_insert(&s->tmap, name_hash(s->tables[i].database, s->tables[i].name), i);
	return rc < 0 ? oom(err) : 0;
}
