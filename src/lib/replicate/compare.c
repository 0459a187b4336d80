/*
 * Catalog comparison (metasync/compare.h).  `metasync verify` and the demo
 * check with it that a target holds what its source holds under a mapping,
 * and the agent and the demo decide with it whether an export would only
 * repeat the store's latest snapshot.  It reads both sides through the
 * public catalog API, maps the source's entities as import does
 * (mapping.h) and compares content hashes; it never trusts the engine's
 * sync stamps, so that it checks the engine rather than repeating it.  The
 * field a described mismatch names is found in the canonical documents
 * (canon.c), so that it is one the content hash covers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mapping.h"
#include "metasync/compare.h"
#include "metasync/replicate.h"
#include "util/buf.h"
#include "util/strlist.h"
#include "util/strmap.h"

#define DEFAULT_MAX_MESSAGES 20

/* The ms_strlist of cat's databases (db NULL) or of db's tables, sorted. */
static int list_names(ms_catalog *cat, const char *db, ms_strlist *out, ms_error *err)
{
	int rc = db ? ms_catalog_list_tables(cat, db, ms_strlist_collect, out, err)
		    : ms_catalog_list_databases(cat, ms_strlist_collect, out, err);

	if (rc == 0)
		ms_strlist_sort(out);
	return rc;
}

static int is_view(const ms_entity *e)
{
	const cJSON *t = e->doc ? cJSON_GetObjectItemCaseSensitive(e->doc, "TableType") : NULL;

	return cJSON_IsString(t) && strcmp(t->valuestring, "VIRTUAL_VIEW") == 0;
}

typedef struct cmp {
	ms_catalog *src, *dst;
	const ms_compare_options *o;
	const char *dst_name;
	ms_mapping map;     /* names always; content only when `apply` */
	int apply;          /* opts->mapping given: map each source entity */
	int map_partitions; /* the mapping rewrites locations: map each partition */
	ms_strlist dbs;     /* the source databases compared */
	ms_strlist all;     /* every source database */
	size_t max;
	ms_compare_result *res;
} cmp;

static const char *noun(ms_kind kind, int view)
{
	return kind == MS_KIND_DATABASE    ? "database"
	       : kind == MS_KIND_PARTITION ? "partition"
	       : view                      ? "view"
					   : "table";
}

/* 1 when the next mismatch will be described (so that its details are worth finding). */
static int describing(const cmp *c)
{
	return c->res->nmessages < c->max;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * Count a mismatch and, while fewer than max are described, describe it:
 * d (borrowed strings, copied) and the line fmt makes.
 */
static void mismatch(cmp *c, const ms_compare_diff *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mismatch(cmp *c, const ms_compare_diff *d, const char *fmt, ...)
{
	ms_compare_result *r = c->res;
	ms_buf b = MS_BUF_INIT(8192);
	ms_compare_diff *nd;
	char **nv, *line;
	va_list ap;

	r->mismatches++;
	if (!describing(c))
		return;
	va_start(ap, fmt);
	ms_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (!(line = ms_buf_detach(&b)))
		return;
	nv = realloc(r->messages, (r->nmessages + 1) * sizeof(*nv));
	if (nv)
		r->messages = nv;
	nd = realloc(r->diffs, (r->nmessages + 1) * sizeof(*nd));
	if (nd)
		r->diffs = nd;
	if (!nv || !nd) {
		free(line);
		return;
	}
	nv[r->nmessages] = line;
	nd += r->nmessages;
	*nd = *d;
	nd->entity = dup_or_null(d->entity);
	nd->field = dup_or_null(d->field);
	nd->a_value = dup_or_null(d->a_value);
	nd->b_value = dup_or_null(d->b_value);
	r->nmessages++;
}

/* A mismatch with no field: missing, extra, or told by digests. */
static void mismatch_entity(cmp *c, ms_compare_what what, ms_kind kind, int view,
			    const char *entity, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void mismatch_entity(cmp *c, ms_compare_what what, ms_kind kind, int view,
			    const char *entity, const char *fmt, ...)
{
	ms_compare_diff d = { what, kind, view, (char *)entity, NULL, NULL, NULL, 0 };
	ms_buf b = MS_BUF_INIT(8192);
	va_list ap;

	if (!describing(c)) {
		c->res->mismatches++;
		return;
	}
	va_start(ap, fmt);
	ms_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	mismatch(c, &d, "%s", ms_buf_cstr(&b));
	ms_buf_free(&b);
}

/* ---- the field that differs --------------------------------------------- */

/* A UTF-8 sequence's first byte at or before s + n. */
static size_t char_start(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/*
 * s, a value as compact JSON, cut to MS_COMPARE_VALUE_MAX bytes (new): from
 * a little before byte `from` (where the other side's text starts to
 * differ, so that both show the difference), with "..." where cut.
 */
static char *shorten_text(const char *s, size_t from)
{
	size_t n = strlen(s), start = 0, keep;
	ms_buf b = MS_BUF_INIT(MS_COMPARE_VALUE_MAX + 1);

	if (n <= MS_COMPARE_VALUE_MAX)
		return strdup(s);
	if (from > 16)
		start = char_start(s, from - 12);
	keep = MS_COMPARE_VALUE_MAX - 3 - (start ? 3 : 0);
	if (start + keep >= n) {
		keep = n - start;
	} else {
		keep = char_start(s, start + keep) - start;
	}
	if (start)
		ms_buf_adds(&b, "...");
	ms_buf_add(&b, s + start, keep);
	if (start + keep < n)
		ms_buf_adds(&b, "...");
	return ms_buf_detach(&b);
}

/* The two values of a difference, shortened around where their texts part. */
static void shorten_pair(const cJSON *x, const cJSON *y, char **xs, char **ys)
{
	char *a = x ? cJSON_PrintUnformatted(x) : NULL, *b = y ? cJSON_PrintUnformatted(y) : NULL;
	size_t p = 0;

	while (a && b && a[p] && a[p] == b[p])
		p++;
	*xs = a ? shorten_text(a, p) : NULL;
	*ys = b ? shorten_text(b, p) : NULL;
	free(a);
	free(b);
}

static void truncate_to(ms_buf *b, size_t len)
{
	b->len = len;
	if (b->ptr)
		b->ptr[len] = '\0';
}

/* Where two documents differ: the first place (path, values) and how many there are. */
typedef struct difference {
	ms_buf path;        /* while walking: the current path */
	char *first;        /* the first difference's path (new) */
	const cJSON *x, *y; /* its values (NULL: absent on that side) */
	long long count;
} difference;

static void found(difference *d, const cJSON *x, const cJSON *y)
{
	if (d->count++ == 0) {
		d->first = strdup(ms_buf_cstr(&d->path));
		d->x = x;
		d->y = y;
	}
}

/*
 * Walk a and b together, depth first in key order (canonical documents have
 * their keys sorted), noting each differing leaf: a member or element on one
 * side only, or two values that are not both objects or both arrays.
 */
static void walk(difference *d, const cJSON *a, const cJSON *b)
{
	size_t len = d->path.len;
	const cJSON *p = a ? a->child : NULL, *q = b ? b->child : NULL;

	if (cJSON_Compare(a, b, 1))
		return;
	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		while (p || q) {
			int k = !p ? 1 : !q ? -1 : strcmp(p->string, q->string);

			if (len)
				ms_buf_addc(&d->path, '.');
			ms_buf_adds(&d->path, k <= 0 ? p->string : q->string);
			if (k == 0)
				walk(d, p, q);
			else
				found(d, k < 0 ? p : NULL, k > 0 ? q : NULL);
			truncate_to(&d->path, len);
			p = k <= 0 ? p->next : p;
			q = k >= 0 ? q->next : q;
		}
	} else if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		for (int i = 0; p || q; i++, p = p ? p->next : NULL, q = q ? q->next : NULL) {
			ms_buf_printf(&d->path, "[%d]", i);
			if (p && q)
				walk(d, p, q);
			else
				found(d, p, q);
			truncate_to(&d->path, len);
		}
	} else {
		found(d, a, b);
	}
}

/* The canonical (writable) document of e as a tree (new; NULL when out of memory). */
static cJSON *canonical_tree(const ms_entity *e)
{
	ms_buf b = MS_BUF_INIT((size_t)1 << 30);
	cJSON *t = NULL;

	if (e->doc && ms_canonical_json(e->doc, 1, &b) == 0)
		t = cJSON_Parse(ms_buf_cstr(&b));
	ms_buf_free(&b);
	return t;
}

/*
 * Describe how t differs from want (their hashes differ): the first field
 * that differs in the canonical documents, both values, how many more do.
 */
static void describe_difference(cmp *c, const ms_entity *want, const ms_entity *t, int view,
				const char *entity, const char *source_entity)
{
	ms_compare_diff d = {
		MS_COMPARE_DIFFERS, t->kind, view, (char *)entity, NULL, NULL, NULL, 0
	};
	cJSON *a = canonical_tree(want), *b = canonical_tree(t);
	difference w;
	const char *what = noun(t->kind, view);
	char more[64] = "";

	memset(&w, 0, sizeof(w));
	ms_buf_init(&w.path, 4096);
	if (a && b)
		walk(&w, a, b);
	if (w.first && w.first[0]) {
		d.field = w.first;
		d.fields = w.count;
		shorten_pair(w.x, w.y, &d.a_value, &d.b_value);
		if (w.count > 1)
			snprintf(more, sizeof(more), " (and %lld more field%s)", w.count - 1,
				 w.count == 2 ? "" : "s");
		mismatch(c, &d,
			 "%s '%s' in %s differs from the source's '%s' in '%s'%s: %s "
			 "instead of %s",
			 what, entity, c->dst_name, source_entity, d.field, more,
			 d.b_value ? d.b_value : "absent", d.a_value ? d.a_value : "absent");
	} else {
		mismatch(c, &d, "%s '%s' in %s differs from the source's '%s' in the content hash",
			 what, entity, c->dst_name, source_entity);
	}
	free(d.a_value);
	free(d.b_value);
	free(w.first);
	ms_buf_free(&w.path);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* ---- entities ------------------------------------------------------------ */

static int hash_of(ms_entity *e, const unsigned char **out, ms_error *err)
{
	int rc;

	if (!e->hashed && (rc = ms_entity_rehash(e, err)) < 0)
		return rc;
	*out = e->hash;
	return 0;
}

/* Map the source entity e in place as import writes it (when a mapping is given). */
static int map_entity(cmp *c, ms_entity *e, ms_error *err)
{
	int changed = 0, rc;

	if (!c->apply)
		return 0;
	if ((rc = ms_entity_parse(e, err)) < 0 ||
	    (rc = ms_mapping_apply(&c->map, e, &changed, err)) < 0)
		return rc;
	return changed || !e->hashed ? ms_entity_rehash(e, err) : 0;
}

/* Check that e carries src's metasync.replica-of marker for (db, table). */
static void check_marker(cmp *c, const ms_entity *e, int view, const char *name, const char *sdb,
			 const char *st)
{
	const char *v = ms_entity_param(e, MS_MARKER_REPLICA_OF);
	ms_compare_diff d = {
		MS_COMPARE_MARKER, e->kind, view, (char *)name, (char *)MS_MARKER_REPLICA_OF, NULL,
		(char *)v,         0
	};
	const char *what = noun(e->kind, view);
	cJSON *a;
	const cJSON *x0, *x1, *x2;
	int ok;

	if (!c->o->replica)
		return;
	if (!v) {
		mismatch(c, &d, "%s '%s' in %s does not carry parameter '%s'", what, name,
			 c->dst_name, MS_MARKER_REPLICA_OF);
		return;
	}
	a = cJSON_Parse(v);
	x0 = cJSON_GetArrayItem(a, 0);
	x1 = cJSON_GetArrayItem(a, 1);
	x2 = cJSON_GetArrayItem(a, 2);
	ok = cJSON_IsArray(a) && cJSON_IsString(x0) && cJSON_IsString(x1) &&
	     strcmp(x0->valuestring, ms_catalog_id(c->src)) == 0 &&
	     strcmp(x1->valuestring, sdb) == 0 &&
	     (st ? cJSON_IsString(x2) && strcmp(x2->valuestring, st) == 0 : x2 == NULL);
	cJSON_Delete(a);
	if (!ok)
		mismatch(c, &d,
			 "%s '%s' in %s: parameter '%s' is '%s', not a marker of '%s%s%s' in "
			 "catalog %s",
			 what, name, c->dst_name, MS_MARKER_REPLICA_OF, v, sdb, st ? "." : "",
			 st ? st : "", ms_catalog_id(c->src));
}

/* Compare a source entity, mapped, with its counterpart by content hash; *same 1 when equal. */
static int compare_entity(cmp *c, const ms_entity *s, ms_entity *t, int view, const char *tname,
			  const char *sname, int *same, ms_error *err)
{
	ms_entity *want = NULL;
	const unsigned char *th;
	int rc;

	*same = 0;
	if ((rc = ms_entity_dup(&want, s, err)) < 0)
		return rc;
	if ((rc = map_entity(c, want, err)) < 0 || (rc = ms_entity_rehash(want, err)) < 0 ||
	    (rc = hash_of(t, &th, err)) < 0)
		goto done;
	*same = memcmp(want->hash, th, MS_HASH_LEN) == 0;
	if (!*same)
		describe_difference(c, want, t, view, tname, sname);
done:
	ms_entity_free(want);
	return rc;
}

/* ---- partitions ---------------------------------------------------------- */

typedef struct pcmp {
	cmp *c;
	ms_strmap src; /* source values key -> hash (mapped); mark: seen in target */
	long long equal;
	ms_strlist missing, differ, extra;
} pcmp;

static int collect_source_key(ms_entity *e, void *ctx, ms_error *err)
{
	pcmp *p = ctx;
	ms_strmap_entry *ent;
	int rc = p->c->map_partitions ? map_entity(p->c, e, err) : 0;

	if (rc == 0) {
		if (ms_strmap_put(&p->src, e->vkey, &ent) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		} else {
			memcpy(ent->value, e->hash, MS_HASH_LEN);
			ent->mark = 0;
		}
	}
	ms_entity_free(e);
	return rc;
}

static int match_target_key(ms_entity *e, void *ctx, ms_error *err)
{
	pcmp *p = ctx;
	ms_strmap_entry *ent = ms_strmap_get(&p->src, e->vkey);
	int rc = 0;

	if (!ent || ent->mark) { /* not in the source, or the same key twice */
		rc = ms_strlist_add(&p->extra, e->vkey);
	} else {
		ent->mark = 1;
		if (memcmp(ent->value, e->hash, MS_HASH_LEN) == 0)
			p->equal++;
		else
			rc = ms_strlist_add(&p->differ, e->vkey);
	}
	ms_entity_free(e);
	return rc < 0 ? ms_error_set(err, MS_ENOMEM, "out of memory") : 0;
}

/* Partition vkey of sdb.st and of tdb.tt differ: describe how. */
static int describe_partition(cmp *c, const char *sdb, const char *st, const char *tdb,
			      const char *tt, const char *vkey, const char *entity, ms_error *err)
{
	ms_entity *s = NULL, *t = NULL;
	ms_buf sname = MS_BUF_INIT(8192);
	int rc;

	ms_buf_printf(&sname, "%s.%s%s", sdb, st, vkey);
	if ((rc = ms_catalog_get_partition(c->src, sdb, st, vkey, &s, err)) < 0 ||
	    (rc = ms_catalog_get_partition(c->dst, tdb, tt, vkey, &t, err)) < 0 ||
	    (rc = ms_entity_parse(s, err)) < 0 || (rc = ms_entity_parse(t, err)) < 0 ||
	    (rc = map_entity(c, s, err)) < 0)
		goto done;
	describe_difference(c, s, t, 0, entity, ms_buf_cstr(&sname));
done:
	ms_buf_free(&sname);
	ms_entity_free(s);
	ms_entity_free(t);
	return rc;
}

/* One mismatch per partition in p's lists, described while within max. */
static int report_partitions(cmp *c, pcmp *p, const char *sdb, const char *st, const char *tdb,
			     const char *tt, ms_error *err)
{
	ms_strlist *lists[3] = { &p->missing, &p->differ, &p->extra };
	ms_buf name = MS_BUF_INIT(8192);
	int rc = 0;

	for (int l = 0; l < 3 && rc == 0; l++) {
		ms_strlist_sort(lists[l]);
		for (size_t i = 0; i < lists[l]->n && rc == 0; i++) {
			const char *vkey = lists[l]->v[i];

			if (!describing(c)) {
				c->res->mismatches++;
				continue;
			}
			ms_buf_reset(&name);
			ms_buf_printf(&name, "%s.%s%s", tdb, tt, vkey);
			if (l == 0)
				mismatch_entity(c, MS_COMPARE_MISSING, MS_KIND_PARTITION, 0,
						ms_buf_cstr(&name),
						"partition '%s' is missing in %s",
						ms_buf_cstr(&name), c->dst_name);
			else if (l == 2)
				mismatch_entity(c, MS_COMPARE_EXTRA, MS_KIND_PARTITION, 0,
						ms_buf_cstr(&name),
						"partition '%s' in %s is not in the source",
						ms_buf_cstr(&name), c->dst_name);
			else
				rc = describe_partition(c, sdb, st, tdb, tt, vkey,
							ms_buf_cstr(&name), err);
		}
	}
	ms_buf_free(&name);
	return rc;
}

/* Equal digests stand for a scan: 1 when decided (*rc set), 0 to scan. */
static int compare_digests(cmp *c, const char *sdb, const char *st, const char *tdb, const char *tt,
			   int *rc, ms_error *err)
{
	ms_digest ds, dt;
	ms_error e2;
	int r1, r2;

	*rc = 0;
	ms_error_clear(&e2);
	r1 = ms_catalog_table_digest(c->src, sdb, st, &ds, &e2);
	r2 = r1 == 0 ? ms_catalog_table_digest(c->dst, tdb, tt, &dt, &e2) : r1;
	if (r1 == 0 && r2 == 0) {
		char name[2 * MS_NAME_MAX + 2];

		snprintf(name, sizeof(name), "%s.%s", tdb, tt);
		if (ds.count == dt.count && memcmp(ds.sum, dt.sum, MS_HASH_LEN) == 0)
			c->res->partitions += (long long)ds.count;
		else
			mismatch_entity(c, MS_COMPARE_PARTITIONS, MS_KIND_TABLE, 0, name,
					"partitions of table '%s' in %s differ from the source's "
					"(%llu partitions, source %llu)",
					name, c->dst_name, (unsigned long long)dt.count,
					(unsigned long long)ds.count);
		return 1;
	}
	if ((r1 < 0 && r1 != MS_ENOTSUPPORTED) || (r2 < 0 && r2 != MS_ENOTSUPPORTED)) {
		*err = e2;
		*rc = r1 < 0 ? r1 : r2;
		return 1;
	}
	return 0;
}

static int compare_partitions(cmp *c, const char *sdb, const char *st, const char *tdb,
			      const char *tt, ms_error *err)
{
	pcmp p;
	size_t i;
	int rc;

	if (c->o->fast && !c->map_partitions && compare_digests(c, sdb, st, tdb, tt, &rc, err))
		return rc;
	/* what the scans read is intact (a snapshot checks its files against its manifest) */
	if ((rc = ms_catalog_verify_table(c->src, sdb, st, err)) < 0 ||
	    (rc = ms_catalog_verify_table(c->dst, tdb, tt, err)) < 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.c = c;
	ms_strmap_init(&p.src);
	if ((rc = ms_catalog_scan_partitions(c->src, sdb, st,
					     c->map_partitions ? 0 : MS_SCAN_KEYS_ONLY,
					     collect_source_key, &p, err)) < 0 ||
	    (rc = ms_catalog_scan_partitions(c->dst, tdb, tt, MS_SCAN_KEYS_ONLY, match_target_key,
					     &p, err)) < 0)
		goto done;
	for (i = 0; i < p.src.nslots; i++) {
		const ms_strmap_entry *ent = &p.src.slots[i];

		if (ent->key && !ent->mark && ms_strlist_add(&p.missing, ent->key) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	}
	c->res->partitions += p.equal;
	rc = report_partitions(c, &p, sdb, st, tdb, tt, err);
done:
	ms_strlist_free(&p.missing);
	ms_strlist_free(&p.differ);
	ms_strlist_free(&p.extra);
	ms_strmap_free(&p.src);
	return rc;
}

/* ---- tables and databases ----------------------------------------------- */

static int compare_table(cmp *c, const char *sdb, const char *tdb, const char *st, const char *tt,
			 ms_error *err)
{
	ms_entity *s = NULL, *t = NULL;
	ms_error e2;
	char tname[2 * MS_NAME_MAX + 2], sname[2 * MS_NAME_MAX + 2];
	long long before;
	int rc, view, same;

	snprintf(tname, sizeof(tname), "%s.%s", tdb, tt);
	snprintf(sname, sizeof(sname), "%s.%s", sdb, st);
	if ((rc = ms_catalog_get_table(c->src, sdb, st, &s, err)) < 0)
		return rc;
	view = is_view(s);
	ms_error_clear(&e2);
	rc = ms_catalog_get_table(c->dst, tdb, tt, &t, &e2);
	if (rc == MS_ENOTFOUND) {
		mismatch_entity(c, MS_COMPARE_MISSING, MS_KIND_TABLE, view, tname,
				"%s '%s' is missing in %s", noun(MS_KIND_TABLE, view), tname,
				c->dst_name);
		rc = 0;
		goto done;
	}
	if (rc < 0) {
		*err = e2;
		goto done;
	}
	before = c->res->mismatches;
	check_marker(c, t, view, tname, sdb, st);
	if ((rc = compare_entity(c, s, t, view, tname, sname, &same, err)) < 0)
		goto done;
	if (c->res->mismatches == before && view)
		c->res->views++;
	else if (c->res->mismatches == before)
		c->res->tables++;
	rc = compare_partitions(c, sdb, st, tdb, tt, err);
done:
	ms_entity_free(s);
	ms_entity_free(t);
	return rc;
}

/* The tables of sdb that tdb should hold (source and target names, parallel). */
static int mapped_tables(cmp *c, const char *sdb, ms_strlist *st, ms_strlist *tt, ms_error *err)
{
	int rc;

	if ((rc = list_names(c->src, sdb, st, err)) < 0)
		return rc;
	for (size_t i = 0; i < st->n; i++) {
		char *m = ms_mapping_table(&c->map, st->v[i]);

		rc = m ? ms_strlist_add(tt, m) : MS_ENOMEM;
		free(m);
		if (rc < 0)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	return 0;
}

static int compare_tables(cmp *c, const char *sdb, const char *tdb, ms_error *err)
{
	ms_strlist st = { 0 }, tt = { 0 }, have = { 0 };
	size_t i;
	int rc;

	if ((rc = mapped_tables(c, sdb, &st, &tt, err)) < 0 ||
	    (rc = list_names(c->dst, tdb, &have, err)) < 0)
		goto done;
	for (i = 0; i < have.n; i++) {
		char name[2 * MS_NAME_MAX + 2];

		if (ms_strlist_has(&tt, have.v[i]))
			continue;
		snprintf(name, sizeof(name), "%s.%s", tdb, have.v[i]);
		mismatch_entity(c, MS_COMPARE_EXTRA, MS_KIND_TABLE, 0, name,
				"table '%s' in %s is not in the source", name, c->dst_name);
	}
	for (i = 0; i < st.n; i++)
		if ((rc = compare_table(c, sdb, tdb, st.v[i], tt.v[i], err)) < 0)
			goto done;
done:
	ms_strlist_free(&st);
	ms_strlist_free(&tt);
	ms_strlist_free(&have);
	return rc;
}

static int compare_database(cmp *c, const char *sdb, const char *tdb, ms_error *err)
{
	ms_entity *s = NULL, *t = NULL;
	ms_error e2;
	long long before;
	int rc, same;

	if ((rc = ms_catalog_get_database(c->src, sdb, &s, err)) < 0)
		goto done;
	ms_error_clear(&e2);
	rc = ms_catalog_get_database(c->dst, tdb, &t, &e2);
	if (rc == MS_ENOTFOUND) {
		mismatch_entity(c, MS_COMPARE_MISSING, MS_KIND_DATABASE, 0, tdb,
				"database '%s' is missing in %s", tdb, c->dst_name);
		rc = 0;
		goto done;
	}
	if (rc < 0) {
		*err = e2;
		goto done;
	}
	before = c->res->mismatches;
	check_marker(c, t, 0, tdb, sdb, NULL);
	if ((rc = compare_entity(c, s, t, 0, tdb, sdb, &same, err)) < 0)
		goto done;
	if (c->res->mismatches == before)
		c->res->databases++;
	rc = compare_tables(c, sdb, tdb, err);
done:
	ms_entity_free(s);
	ms_entity_free(t);
	return rc;
}

/*
 * A database of b beyond the mapped ones is a mismatch, unless b is a
 * replica that may hold other things: then only a replica of a compared
 * source database (under another name) or of one the source lacks is.
 */
static int check_extra_database(cmp *c, const char *name, ms_error *err)
{
	ms_entity *t = NULL;
	const char *v;
	cJSON *a;
	const cJSON *cat, *db;
	int rc, ours, compared;

	if (!c->o->replica) {
		mismatch_entity(c, MS_COMPARE_EXTRA, MS_KIND_DATABASE, 0, name,
				"database '%s' in %s is not in the source%s", name, c->dst_name,
				ms_strlist_has(&c->all, name) ? "'s compared databases" : "");
		return 0;
	}
	if ((rc = ms_catalog_get_database(c->dst, name, &t, err)) < 0)
		return rc;
	if ((v = ms_entity_param(t, MS_MARKER_REPLICA_OF))) {
		a = cJSON_Parse(v);
		cat = cJSON_GetArrayItem(a, 0);
		db = cJSON_GetArrayItem(a, 1);
		ours = cJSON_IsString(cat) && strcmp(cat->valuestring, ms_catalog_id(c->src)) == 0;
		compared = cJSON_IsString(db) && ms_strlist_has(&c->dbs, db->valuestring);
		if (ours && compared)
			mismatch_entity(c, MS_COMPARE_EXTRA, MS_KIND_DATABASE, 0, name,
					"database '%s' in %s is a replica of the source's '%s' "
					"under a name the mapping does not give it",
					name, c->dst_name, db->valuestring);
		else if (ours && !(cJSON_IsString(db) && ms_strlist_has(&c->all, db->valuestring)))
			mismatch_entity(c, MS_COMPARE_EXTRA, MS_KIND_DATABASE, 0, name,
					"database '%s' in %s is a replica of a database the "
					"source does not have (%s)",
					name, c->dst_name, v);
		cJSON_Delete(a);
	}
	ms_entity_free(t);
	return 0;
}

static int compare_extra_databases(cmp *c, const ms_strlist *mapped, ms_error *err)
{
	ms_strlist tdbs = { 0 };
	int rc;

	if ((rc = list_names(c->dst, NULL, &tdbs, err)) < 0)
		goto done;
	for (size_t i = 0; i < tdbs.n && rc == 0; i++)
		if (!ms_strlist_has(mapped, tdbs.v[i]))
			rc = check_extra_database(c, tdbs.v[i], err);
done:
	ms_strlist_free(&tdbs);
	return rc;
}

/*
 * The mapping: the options' rules (none without opts->mapping: names then
 * only fold to lowercase, as before), the compared databases and every
 * table of theirs (view texts name them).
 */
static int init_mapping(cmp *c, ms_error *err)
{
	ms_sync_options none;
	ms_strlist dbs = { 0 }, tables = { 0 };
	int rc;

	memset(&none, 0, sizeof(none));
	none.max_deletes = -1;
	if ((rc = ms_mapping_init(&c->map, c->o->mapping ? c->o->mapping : &none, err)) < 0 ||
	    (rc = ms_mapping_set_databases(&c->map, (const char *const *)c->dbs.v, c->dbs.n, err)) <
		    0)
		return rc;
	c->apply = c->o->mapping != NULL;
	c->map_partitions = c->apply && !ms_mapping_is_identity_content(&c->map);
	if (!c->apply)
		return 0;
	for (size_t i = 0; i < c->dbs.n && rc == 0; i++) {
		ms_strlist tl = { 0 };

		rc = list_names(c->src, c->dbs.v[i], &tl, err);
		for (size_t j = 0; j < tl.n && rc == 0; j++)
			if (ms_strlist_add(&dbs, c->dbs.v[i]) < 0 ||
			    ms_strlist_add(&tables, tl.v[j]) < 0)
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		ms_strlist_free(&tl);
	}
	if (rc == 0)
		rc = ms_mapping_set_tables(&c->map, (const char *const *)dbs.v,
					   (const char *const *)tables.v, tables.n, err);
	ms_strlist_free(&dbs);
	ms_strlist_free(&tables);
	return rc;
}

/* The databases compared (opts->databases or all, sorted as listed) and every one. */
static int source_databases(cmp *c, ms_error *err)
{
	int rc = list_names(c->src, NULL, &c->all, err);

	if (rc < 0)
		return rc;
	if (!c->o->databases) {
		for (size_t i = 0; i < c->all.n; i++)
			if (ms_strlist_add(&c->dbs, c->all.v[i]) < 0)
				return ms_error_set(err, MS_ENOMEM, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < c->o->ndatabases; i++)
		if (ms_strlist_add(&c->dbs, c->o->databases[i]) < 0)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}

int ms_catalog_compare(ms_catalog *a, ms_catalog *b, const ms_compare_options *opts,
		       ms_compare_result *out, ms_error *err)
{
	ms_compare_options none = { 0 };
	ms_strlist mapped = { 0 };
	cmp c;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!opts)
		opts = &none;
	c.src = a;
	c.dst = b;
	c.o = opts;
	c.dst_name = opts->b_name ? opts->b_name : "the other catalog";
	c.max = opts->max_messages ? opts->max_messages : DEFAULT_MAX_MESSAGES;
	c.res = out;
	if ((rc = source_databases(&c, err)) < 0 || (rc = init_mapping(&c, err)) < 0)
		goto done;
	for (i = 0; i < c.dbs.n; i++) {
		char *m = ms_mapping_database(&c.map, c.dbs.v[i]);

		if (!m || ms_strlist_add(&mapped, m) < 0) {
			free(m);
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		rc = compare_database(&c, c.dbs.v[i], m, err);
		free(m);
		if (rc < 0)
			goto done;
	}
	rc = compare_extra_databases(&c, &mapped, err);
done:
	ms_mapping_free(&c.map);
	ms_strlist_free(&c.dbs);
	ms_strlist_free(&c.all);
	ms_strlist_free(&mapped);
	return rc;
}

void ms_compare_result_free(ms_compare_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmessages; i++) {
		free(r->messages[i]);
		free(r->diffs[i].entity);
		free(r->diffs[i].field);
		free(r->diffs[i].a_value);
		free(r->diffs[i].b_value);
	}
	free(r->messages);
	free(r->diffs);
	r->messages = NULL;
	r->diffs = NULL;
	r->nmessages = 0;
}

/* The source's databases an export with the selection takes (sorted). */
static int selected_databases(ms_catalog *src, const char *selection, ms_strlist *out,
			      ms_error *err)
{
	ms_strlist all = { 0 };
	size_t i;
	int rc;

	if ((rc = list_names(src, NULL, &all, err)) < 0)
		goto done;
	for (i = 0; i < all.n; i++)
		if (ms_selection_match(selection, all.v[i]) && ms_strlist_add(out, all.v[i]) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
done:
	ms_strlist_free(&all);
	return rc;
}

int ms_export_is_current(const char *source_url, const char *store_url, const char *databases,
			 int *current, ms_snapshot_info *latest, ms_error *err)
{
	ms_catalog *src = NULL, *snap = NULL;
	ms_open_options ro = { 0 };
	ms_compare_options co = { 0 };
	ms_compare_result res = { 0 };
	ms_snapshot_info info;
	ms_strlist dbs = { 0 };
	ms_error e2;
	int rc;

	*current = 0;
	memset(&info, 0, sizeof(info));
	ro.mode = MS_OPEN_READ;
	ms_error_clear(&e2);
	/* no complete snapshot yet, or an unreadable one: an export is due */
	if (ms_catalog_open(&snap, store_url, &ro, &e2) < 0 ||
	    ms_catalog_snapshot_info(snap, &info, &e2) < 0 || !info.id) {
		rc = 0;
		goto done;
	}
	if ((rc = ms_catalog_open(&src, source_url, &ro, err)) < 0) {
		ms_error_prefix(err, "source: ");
		goto done;
	}
	if (!info.source_catalog_id || strcmp(info.source_catalog_id, ms_catalog_id(src)) != 0)
		goto done; /* a snapshot of another catalog */
	if ((rc = ms_catalog_read_begin(src, err)) < 0)
		goto done;
	rc = selected_databases(src, databases, &dbs, err);
	co.databases = (const char *const *)dbs.v;
	co.ndatabases = dbs.n;
	co.fast = 1;
	co.max_messages = 1;
	co.b_name = "the latest snapshot";
	if (rc == 0)
		rc = ms_catalog_compare(src, snap, &co, &res, err);
	ms_catalog_read_end(src);
	if (rc < 0)
		goto done;
	*current = res.mismatches == 0;
done:
	if (*current && latest) {
		*latest = info;
		memset(&info, 0, sizeof(info));
	}
	ms_snapshot_info_free(&info);
	ms_compare_result_free(&res);
	ms_strlist_free(&dbs);
	ms_catalog_close(src);
	ms_catalog_close(snap);
	return rc;
}
