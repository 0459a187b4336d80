/*
 * Catalog comparison (metasync/compare.h).  The demo verifies its targets
 * with it, and the agent and the demo decide with it whether an export
 * would only repeat the store's latest snapshot.  It reads both sides
 * through the public catalog API and compares content hashes; it never
 * trusts the engine's sync stamps, so that it checks the engine rather
 * than repeating it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

/* "prefix" + name, folded to lowercase as the engine ms_strlist target databases (new). */
static char *mapped_name(const char *prefix, const char *name)
{
	ms_buf b = MS_BUF_INIT(4096);

	if (prefix)
		ms_buf_adds(&b, prefix);
	ms_buf_adds(&b, name);
	for (char *p = b.ptr; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return ms_buf_detach(&b);
}

typedef struct cmp {
	ms_catalog *src, *dst;
	const ms_compare_options *o;
	const char *dst_name;
	const ms_strlist *dbs;        /* the source databases compared (view texts name them) */
	ms_compare_result *res;
} cmp;

static void mismatch(cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mismatch(cmp *c, const char *fmt, ...)
{
	ms_buf b = MS_BUF_INIT(8192);
	size_t max = c->o->max_messages ? c->o->max_messages : DEFAULT_MAX_MESSAGES;
	char **nv;
	va_list ap;

	c->res->mismatches++;
	if (c->res->nmessages >= max)
		return;
	va_start(ap, fmt);
	ms_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	nv = realloc(c->res->messages, (c->res->nmessages + 1) * sizeof(*nv));
	if (nv) {
		c->res->messages = nv;
		if ((nv[c->res->nmessages] = ms_buf_detach(&b)))
			c->res->nmessages++;
	}
	ms_buf_free(&b);
}

static int hash_of(ms_entity *e, const unsigned char **out, ms_error *err)
{
	int rc;

	if (!e->hashed && (rc = ms_entity_rehash(e, err)) < 0)
		return rc;
	*out = e->hash;
	return 0;
}

/* Fields a target assigns itself: never compared (the content hash leaves them out too). */
static int assigned_field(const char *k)
{
	static const char *const fields[] = { "CreateTime", "UpdateTime", "CreationTime",
					      "VersionId", "CatalogId", "CreatedBy",
					      "IsRegisteredWithLakeFormation", "DatabaseName",
					      "TableName" };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(k, fields[i]) == 0)
			return 1;
	return 0;
}

static int differs(const cJSON *a, const cJSON *b, const char *key)
{
	const cJSON *x = a ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;
	const cJSON *y = b ? cJSON_GetObjectItemCaseSensitive(b, key) : NULL;

	if (!x || !y)
		return x != y;
	return !cJSON_Compare(x, y, 1);
}

/* The first top-level field (or parameter) in which two documents differ. */
static void diff_hint(const cJSON *want, const cJSON *got, char *out, size_t n)
{
	const cJSON *sets[2] = { want, got }, *it;

	snprintf(out, n, "the content hash");
	for (int s = 0; s < 2; s++) {
		cJSON_ArrayForEach(it, sets[s]) {
			if (!it->string || assigned_field(it->string))
				continue;
			if (strcmp(it->string, "Parameters") == 0) {
				const cJSON *pw =
					cJSON_GetObjectItemCaseSensitive(want, "Parameters");
				const cJSON *pg =
					cJSON_GetObjectItemCaseSensitive(got, "Parameters");
				const cJSON *psets[2] = { pw, pg }, *p;
				for (int t = 0; t < 2; t++) {
					cJSON_ArrayForEach(p, psets[t]) {
						if (!p->string ||
						    strncmp(p->string, MS_MARKER_PREFIX,
							    strlen(MS_MARKER_PREFIX)) == 0)
							continue;
						if (differs(pw, pg, p->string)) {
							snprintf(out, n, "parameter '%s'",
								 p->string);
							return;
						}
					}
				}
				continue;
			}
			if (differs(want, got, it->string)) {
				snprintf(out, n, "'%s'", it->string);
				return;
			}
		}
	}
}

/* Check that e carries src's metasync.replica-of marker for (db, table). */
static void check_marker(cmp *c, const ms_entity *e, const char *what, const char *name,
			 const char *sdb, const char *st)
{
	const char *v = ms_entity_param(e, MS_MARKER_REPLICA_OF);
	cJSON *a;
	const cJSON *x0, *x1, *x2;
	int ok;

	if (!c->o->replica)
		return;
	if (!v) {
		mismatch(c, "%s '%s' in %s does not carry parameter '%s'", what, name, c->dst_name,
			 MS_MARKER_REPLICA_OF);
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
		mismatch(c,
			 "%s '%s' in %s: parameter '%s' is '%s', not a marker of '%s%s%s' in "
			 "catalog %s",
			 what, name, c->dst_name, MS_MARKER_REPLICA_OF, v, sdb, st ? "." : "",
			 st ? st : "", ms_catalog_id(c->src));
}

/* Compare a source entity, mapped, with its counterpart by content hash. */
static int compare_entity(cmp *c, const ms_entity *s, ms_entity *t, const char *what,
			  const char *tname, const char *sname, ms_error *err)
{
	ms_entity *want = NULL;
	const unsigned char *th;
	int rc;

	if ((rc = ms_entity_dup(&want, s, err)) < 0)
		return rc;
	if (c->o->database_prefix) {
		/* What import writes under the prefix: names, view texts and namespaces. */
		ms_sync_options o;

		memset(&o, 0, sizeof(o));
		o.database_prefix = c->o->database_prefix;
		if ((rc = ms_sync_map_entity(want, &o, (const char *const *)c->dbs->v, c->dbs->n,
					     err)) < 0)
			goto done;
	}
	if ((rc = ms_entity_rehash(want, err)) < 0 || (rc = hash_of(t, &th, err)) < 0)
		goto done;
	if (memcmp(want->hash, th, MS_HASH_LEN) != 0) {
		char hint[600];

		diff_hint(want->doc, t->doc, hint, sizeof(hint));
		mismatch(c, "%s '%s' in %s differs from the source's '%s' in %s", what, tname,
			 c->dst_name, sname, hint);
	}
done:
	ms_entity_free(want);
	return rc;
}

typedef struct pcmp {
	ms_strmap src;
	long long equal, missing, extra, differ;
	char *first_missing, *first_extra, *first_differ;
} pcmp;

static int collect_source_key(ms_entity *e, void *ctx, ms_error *err)
{
	pcmp *p = ctx;
	ms_strmap_entry *ent;
	int rc = ms_strmap_put(&p->src, e->vkey, &ent);

	if (rc >= 0) {
		memcpy(ent->value, e->hash, MS_HASH_LEN);
		ent->mark = 0;
	}
	ms_entity_free(e);
	return rc < 0 ? ms_error_set(err, MS_ENOMEM, "out of memory") : 0;
}

static int match_target_key(ms_entity *e, void *ctx, ms_error *err)
{
	pcmp *p = ctx;
	ms_strmap_entry *ent = ms_strmap_get(&p->src, e->vkey);

	(void)err;
	if (!ent) {
		p->extra++;
		if (!p->first_extra)
			p->first_extra = strdup(e->vkey);
	} else if (ent->mark) {
		p->extra++; /* the same key twice */
	} else {
		ent->mark = 1;
		if (memcmp(ent->value, e->hash, MS_HASH_LEN) == 0) {
			p->equal++;
		} else {
			p->differ++;
			if (!p->first_differ)
				p->first_differ = strdup(e->vkey);
		}
	}
	ms_entity_free(e);
	return 0;
}

static int compare_partitions(cmp *c, const char *sdb, const char *tdb, const char *table,
			      ms_error *err)
{
	pcmp p;
	size_t i;
	int rc;

	if (c->o->fast) {
		ms_digest ds, dt;
		ms_error e2;
		int r1, r2;

		ms_error_clear(&e2);
		r1 = ms_catalog_table_digest(c->src, sdb, table, &ds, &e2);
		r2 = r1 == 0 ? ms_catalog_table_digest(c->dst, tdb, table, &dt, &e2) : r1;
		if (r1 == 0 && r2 == 0) {
			if (ds.count == dt.count && memcmp(ds.sum, dt.sum, MS_HASH_LEN) == 0)
				c->res->partitions += (long long)ds.count;
			else
				mismatch(c,
					 "partitions of table '%s.%s' in %s differ from the "
					 "source's (%llu partitions, source %llu)",
					 tdb, table, c->dst_name, (unsigned long long)dt.count,
					 (unsigned long long)ds.count);
			return 0;
		}
		if ((r1 < 0 && r1 != MS_ENOTSUPPORTED) || (r2 < 0 && r2 != MS_ENOTSUPPORTED)) {
			*err = e2;
			return r1 < 0 ? r1 : r2;
		}
	}
	memset(&p, 0, sizeof(p));
	ms_strmap_init(&p.src);
	if ((rc = ms_catalog_scan_partitions(c->src, sdb, table, MS_SCAN_KEYS_ONLY,
					     collect_source_key, &p, err)) < 0)
		goto done;
	if ((rc = ms_catalog_scan_partitions(c->dst, tdb, table, MS_SCAN_KEYS_ONLY,
					     match_target_key, &p, err)) < 0)
		goto done;
	for (i = 0; i < p.src.nslots; i++) {
		const ms_strmap_entry *ent = &p.src.slots[i];

		if (ent->key && !ent->mark) {
			p.missing++;
			if (!p.first_missing)
				p.first_missing = strdup(ent->key);
		}
	}
	c->res->partitions += p.equal;
	if (p.missing)
		mismatch(c, "table '%s.%s' in %s lacks %lld of the source's partitions (e.g. %s)",
			 tdb, table, c->dst_name, p.missing,
			 p.first_missing ? p.first_missing : "?");
	if (p.differ)
		mismatch(c, "table '%s.%s' in %s has %lld partition%s whose content differs from "
			    "the source's (e.g. %s)", tdb, table, c->dst_name, p.differ,
			 p.differ == 1 ? "" : "s", p.first_differ ? p.first_differ : "?");
	if (p.extra)
		mismatch(c,
			 "table '%s.%s' in %s has %lld partition%s the source does not have "
			 "(e.g. %s)",
			 tdb, table, c->dst_name, p.extra, p.extra == 1 ? "" : "s",
			 p.first_extra ? p.first_extra : "?");
done:
	free(p.first_missing);
	free(p.first_extra);
	free(p.first_differ);
	ms_strmap_free(&p.src);
	return rc;
}

static int compare_table(cmp *c, const char *sdb, const char *tdb, const char *table,
			 ms_error *err)
{
	ms_entity *s = NULL, *t = NULL;
	ms_error e2;
	char tname[2 * MS_NAME_MAX + 2], sname[2 * MS_NAME_MAX + 2];
	const char *what;
	long long before;
	int rc, view;

	snprintf(tname, sizeof(tname), "%s.%s", tdb, table);
	snprintf(sname, sizeof(sname), "%s.%s", sdb, table);
	if ((rc = ms_catalog_get_table(c->src, sdb, table, &s, err)) < 0)
		return rc;
	view = is_view(s);
	what = view ? "view" : "table";
	ms_error_clear(&e2);
	rc = ms_catalog_get_table(c->dst, tdb, table, &t, &e2);
	if (rc == MS_ENOTFOUND) {
		mismatch(c, "%s '%s' is missing in %s", what, tname, c->dst_name);
		rc = 0;
		goto done;
	}
	if (rc < 0) {
		*err = e2;
		goto done;
	}
	before = c->res->mismatches;
	check_marker(c, t, what, tname, sdb, table);
	if ((rc = compare_entity(c, s, t, what, tname, sname, err)) < 0)
		goto done;
	if (c->res->mismatches == before && view)
		c->res->views++;
	else if (c->res->mismatches == before)
		c->res->tables++;
	rc = compare_partitions(c, sdb, tdb, table, err);
done:
	ms_entity_free(s);
	ms_entity_free(t);
	return rc;
}

static int compare_database(cmp *c, const char *sdb, ms_error *err)
{
	ms_entity *s = NULL, *t = NULL;
	ms_strlist st = { 0 }, tt = { 0 };
	char *tdb = mapped_name(c->o->database_prefix, sdb);
	ms_error e2;
	long long before;
	size_t i;
	int rc;

	if (!tdb)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if ((rc = ms_catalog_get_database(c->src, sdb, &s, err)) < 0)
		goto done;
	ms_error_clear(&e2);
	rc = ms_catalog_get_database(c->dst, tdb, &t, &e2);
	if (rc == MS_ENOTFOUND) {
		mismatch(c, "database '%s' is missing in %s", tdb, c->dst_name);
		rc = 0;
		goto done;
	}
	if (rc < 0) {
		*err = e2;
		goto done;
	}
	before = c->res->mismatches;
	check_marker(c, t, "database", tdb, sdb, NULL);
	if ((rc = compare_entity(c, s, t, "database", tdb, sdb, err)) < 0)
		goto done;
	if (c->res->mismatches == before)
		c->res->databases++;
	if ((rc = list_names(c->src, sdb, &st, err)) < 0 ||
	    (rc = list_names(c->dst, tdb, &tt, err)) < 0)
		goto done;
	for (i = 0; i < tt.n; i++)
		if (!ms_strlist_has(&st, tt.v[i]))
			mismatch(c, "table '%s.%s' in %s is not in the source", tdb, tt.v[i],
				 c->dst_name);
	for (i = 0; i < st.n; i++)
		if ((rc = compare_table(c, sdb, tdb, st.v[i], err)) < 0)
			goto done;
done:
	ms_strlist_free(&st);
	ms_strlist_free(&tt);
	ms_entity_free(s);
	ms_entity_free(t);
	free(tdb);
	return rc;
}

/* What b holds beyond the mapped databases of a. */
static int compare_extra_databases(cmp *c, const ms_strlist *mapped, ms_error *err)
{
	ms_strlist tdbs = { 0 };
	size_t i;
	int rc;

	if ((rc = list_names(c->dst, NULL, &tdbs, err)) < 0)
		goto done;
	for (i = 0; i < tdbs.n; i++) {
		ms_entity *t = NULL;
		const char *v;

		if (ms_strlist_has(mapped, tdbs.v[i]))
			continue;
		if (!c->o->replica) {
			mismatch(c, "database '%s' in %s is not in the source", tdbs.v[i],
				 c->dst_name);
			continue;
		}
		if ((rc = ms_catalog_get_database(c->dst, tdbs.v[i], &t, err)) < 0)
			goto done;
		v = ms_entity_param(t, MS_MARKER_REPLICA_OF);
		if (v) {
			cJSON *a = cJSON_Parse(v);
			const cJSON *cat = cJSON_GetArrayItem(a, 0);

			if (cJSON_IsString(cat) &&
			    strcmp(cat->valuestring, ms_catalog_id(c->src)) == 0)
				mismatch(c, "database '%s' in %s is a replica of a database the "
					    "source does not have (%s)", tdbs.v[i], c->dst_name, v);
			cJSON_Delete(a);
		}
		ms_entity_free(t);
	}
done:
	ms_strlist_free(&tdbs);
	return rc;
}

int ms_catalog_compare(ms_catalog *a, ms_catalog *b, const ms_compare_options *opts,
		       ms_compare_result *out, ms_error *err)
{
	ms_compare_options none = { 0 };
	ms_strlist dbs = { 0 }, mapped = { 0 };
	cmp c;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &none;
	if (opts->databases) {
		for (i = 0; rc == 0 && i < opts->ndatabases; i++)
			rc = ms_strlist_add(&dbs, opts->databases[i]);
		if (rc < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	} else if ((rc = list_names(a, NULL, &dbs, err)) < 0) {
		goto done;
	}
	memset(&c, 0, sizeof(c));
	c.src = a;
	c.dst = b;
	c.o = opts;
	c.dst_name = opts->b_name ? opts->b_name : "the other catalog";
	c.dbs = &dbs;
	c.res = out;
	for (i = 0; i < dbs.n; i++) {
		char *m = mapped_name(opts->database_prefix, dbs.v[i]);

		if (!m || ms_strlist_add(&mapped, m) < 0) {
			free(m);
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		free(m);
		if ((rc = compare_database(&c, dbs.v[i], err)) < 0)
			goto done;
	}
	rc = compare_extra_databases(&c, &mapped, err);
done:
	ms_strlist_free(&dbs);
	ms_strlist_free(&mapped);
	return rc;
}

void ms_compare_result_free(ms_compare_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmessages; i++)
		free(r->messages[i]);
	free(r->messages);
	r->messages = NULL;
	r->nmessages = 0;
}

/* The source's databases an export with the selection takes (sorted). */
static int selected_databases(ms_catalog *src, const char *selection, ms_strlist *out, ms_error *err)
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
		goto done;   /* a snapshot of another catalog */
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
