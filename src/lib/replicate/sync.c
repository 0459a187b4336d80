/*
 * The engine: plan and apply.  One function makes a target catalog match a
 * source catalog; export, import and sync differ only in which catalogs they
 * hand it.  The run goes in phases so that nothing changes before every
 * guard has said yes:
 *
 *   1. plan tables: read source and target tables, map them, decide per table
 *      whether its partitions must be read (sync stamps make unchanged tables
 *      free);
 *   2. verify: ask the source to check the integrity of everything phase 4
 *      will read (a snapshot hashes its files against the manifest);
 *   3. guard: with --deletes mirror, count the deletes in a dry pass and
 *      refuse if there are more than --max-deletes, or if they would leave
 *      no replica of the source (an empty or mistaken source) unless
 *      --allow-empty-source;
 *   4. apply: databases, then each table with its partitions in one
 *      transaction, then views in dependency order, then mirror deletes.
 *
 * Ownership: every entity the engine writes carries metasync.replica-of; a
 * target entity without it (or with another source's) is never updated or
 * deleted unless the caller adopts it.  Phase 1 decides on plain reads;
 * phase 4 locks and reads each target database and table again inside the
 * transaction that writes it, so the decision holds at the write.
 *
 * Consistency: every read of the source, from phase 1 to the last scan, is
 * one read from one point in time (ms_catalog_read_begin), so a catalog
 * written meanwhile never gives a table of one moment with partitions of
 * another.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "mapping.h"
#include "metasync/catalog.h"
#include "metasync/replicate.h"
#include "util/buf.h"
#include "util/strmap.h"

#define DEFAULT_BATCH 1000

typedef struct names {
	char **v;
	size_t n, alloc;
} names;

static int names_add(const char *name, void *ctx, ms_error *err)
{
	names *ns = ctx;

	if (ns->n == ns->alloc) {
		size_t na = ns->alloc ? ns->alloc * 2 : 16;
		char **nv = realloc(ns->v, na * sizeof(char *));
		if (!nv)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		ns->v = nv;
		ns->alloc = na;
	}
	if (!(ns->v[ns->n] = strdup(name)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ns->n++;
	return 0;
}

static void names_free(names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int names_has(const names *ns, const char *name)
{
	if (!ns->n)
		return 0;
	return bsearch(&name, ns->v, ns->n, sizeof(char *), cmp_str) != NULL;
}

/* One source table and what phase 1 decided for it. */
typedef struct table_plan {
	char *sdb, *st;        /* source names */
	ms_entity *mapped;     /* the target-shaped table (with markers) */
	int target_exists;
	unsigned char target_hash[MS_HASH_LEN];
	int skip;              /* not ours: leave it alone */
	char *skip_reason;
	const char *adopted;   /* taken over with --adopt: why it was not ours (static) */
	int up_to_date;        /* the stamp says table and partitions are current */
	int have_digest;
	ms_digest digest;      /* source partitions */
	char stamp[2 * MS_HASH_LEN + 1];
	int is_view;
	int db_failed;
} table_plan;

typedef struct run {
	ms_catalog *src, *dst;
	const ms_sync_options *o;
	ms_mapping map;
	ms_report *rep;
	int apply;
	int transactional;
	size_t batch;
	names dbs;             /* selected source databases, sorted */
	names tdbs;            /* their target names, sorted */
	table_plan *tables;
	size_t ntables;
	long long deletes;     /* counted in the current pass */
	int final;             /* the pass whose events and warnings are reported */
	unsigned long long done, total;
	double last_progress;
} run;

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ms_counts *counts_for(ms_report *rep, ms_kind kind)
{
	return kind == MS_KIND_DATABASE ? &rep->databases :
	       kind == MS_KIND_TABLE ? &rep->tables : &rep->partitions;
}

static void count_action(ms_counts *c, ms_action a, long long n)
{
	switch (a) {
	case MS_ACTION_CREATE: c->created += n; break;
	case MS_ACTION_UPDATE: c->updated += n; break;
	case MS_ACTION_UNCHANGED: c->unchanged += n; break;
	case MS_ACTION_DELETE: c->deleted += n; break;
	case MS_ACTION_SKIP: c->skipped += n; break;
	default: c->failed += n; break;
	}
}

static void event(run *r, ms_action a, ms_kind kind, const char *db, const char *table,
		  const char *vkey, const char *reason)
{
	count_action(counts_for(r->rep, kind), a, 1);
	if (a == MS_ACTION_DELETE)
		r->deletes++;
	if (a != MS_ACTION_UNCHANGED && r->o->on_change) {
		ms_change_event ev = { a, kind, db, table, vkey, reason };
		r->o->on_change(&ev, r->o->ctx);
	}
}

static void add_error(run *r, const char *db, const char *table, const char *vkey,
		      const char *message)
{
	ms_report_error *ne;
	ms_buf b = MS_BUF_INIT(8192);

	ne = realloc(r->rep->errors, (r->rep->nerrors + 1) * sizeof(*ne));
	if (!ne)
		return;
	r->rep->errors = ne;
	ms_buf_adds(&b, db);
	if (table) {
		ms_buf_addc(&b, '.');
		ms_buf_adds(&b, table);
	}
	if (vkey)
		ms_buf_adds(&b, vkey);
	ne[r->rep->nerrors].entity = ms_buf_detach(&b);
	ne[r->rep->nerrors].message = strdup(message);
	r->rep->nerrors++;
}

static void fail(run *r, ms_kind kind, const char *db, const char *table, const char *vkey,
		 const ms_error *e)
{
	if (r->apply)
		add_error(r, db, table, vkey, e->message);
	event(r, MS_ACTION_FAIL, kind, db, table, vkey, e->message);
}

static void progress(run *r, unsigned long long n)
{
	double t;

	r->done += n;
	if (!r->o->progress || !r->apply)
		return;
	t = now_seconds();
	if (t - r->last_progress < 0.2)
		return;
	r->last_progress = t;
	r->o->progress(r->done, r->total, r->o->ctx);
}

/* ---- markers ---------------------------------------------------------- */

static char *marker_value(const char *catalog, const char *db, const char *table)
{
	cJSON *a = cJSON_CreateArray();
	char *s;

	if (!a)
		return NULL;
	cJSON_AddItemToArray(a, cJSON_CreateString(catalog));
	cJSON_AddItemToArray(a, cJSON_CreateString(db));
	if (table)
		cJSON_AddItemToArray(a, cJSON_CreateString(table));
	s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return s;
}

/*
 * Parse a replica-of marker: fills catalog/db/table (new strings, table may
 * be NULL).  Returns 0, or -1 when the value is not a marker.
 */
static int marker_parse(const char *value, char **catalog, char **db, char **table)
{
	cJSON *a = value ? cJSON_Parse(value) : NULL;
	int n = a ? cJSON_GetArraySize(a) : 0, i;

	*catalog = *db = *table = NULL;
	if (!cJSON_IsArray(a) || n < 2 || n > 3) {
		cJSON_Delete(a);
		return -1;
	}
	for (i = 0; i < n; i++) {
		cJSON *s = cJSON_GetArrayItem(a, i);
		if (!cJSON_IsString(s)) {
			cJSON_Delete(a);
			return -1;
		}
	}
	*catalog = strdup(cJSON_GetArrayItem(a, 0)->valuestring);
	*db = strdup(cJSON_GetArrayItem(a, 1)->valuestring);
	if (n == 3)
		*table = strdup(cJSON_GetArrayItem(a, 2)->valuestring);
	cJSON_Delete(a);
	return 0;
}

/*
 * Is t a replica of this source?  Its marker names this source's catalog id
 * and, where both sides know one, its instance (two catalogs given one
 * catalog-id are two sources).  Fills *db and *table (new, may be NULL) from
 * the marker when db is not NULL; *why says why not (static).
 */
static int ours(const run *r, const ms_entity *t, char **db, char **table, const char **why)
{
	const char *inst = ms_entity_param(t, MS_MARKER_REPLICA_INSTANCE);
	const char *mine = ms_catalog_instance(r->src);
	char *cat = NULL, *d = NULL, *tb = NULL;
	int ok;

	if (db)
		*db = *table = NULL;
	if (marker_parse(ms_entity_param(t, MS_MARKER_REPLICA_OF), &cat, &d, &tb) < 0) {
		*why = "not a replica";
		return 0;
	}
	ok = strcmp(cat, ms_catalog_id(r->src)) == 0;
	*why = "replica of another source";
	if (ok && inst && mine && strcmp(inst, mine) != 0) {
		ok = 0;
		*why = "replica of another catalog with the same catalog id";
	}
	if (ok && db) {
		*db = d;
		*table = tb;
		d = tb = NULL;
	}
	free(cat);
	free(d);
	free(tb);
	return ok;
}

/*
 * May the engine write over this target entity?  Returns 1 and leaves
 * *reason NULL when it is a replica of this source; 1 with *reason saying
 * what it was when it is not but opts->adopt takes it over ("adopted: ...");
 * 0 with a static reason when not.
 */
static int owned(const run *r, const ms_entity *t, const char **reason)
{
	const char *why;

	*reason = NULL;
	if (ours(r, t, NULL, NULL, &why))
		return 1;
	*reason = !r->o->adopt ? why :
		  strcmp(why, "not a replica") == 0 ? "adopted: it was not a replica" :
						      "adopted: it was a replica of another source";
	return r->o->adopt;
}

/* Add a report warning, "<entity>: <message>" as ms_report_add_warning reads it. */
static void warnf(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(run *r, const char *fmt, ...)
{
	ms_buf b = MS_BUF_INIT(8192);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ms_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0)
		ms_report_add_warning(r->rep, ms_buf_cstr(&b));
	ms_buf_free(&b);
}

/* Tell an adoption in the report: from now on mirror deletes may remove the entity. */
static void note_adopted(run *r, const char *db, const char *table, const char *reason)
{
	if (r->final)
		warnf(r, "%s%s%s: %s; mirror deletes may remove it from now on", db,
		      table ? "." : "", table ? table : "", reason);
}

static int mark(run *r, ms_entity *e, const char *sdb, const char *st, ms_error *err)
{
	char *v;
	int rc;

	if (r->o->copy)
		return 0;
	if (!(v = marker_value(ms_catalog_id(r->src), sdb, st)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	rc = ms_entity_set_param(e, MS_MARKER_REPLICA_OF, v, err);
	free(v);
	if (rc == 0 && ms_catalog_instance(r->src))
		rc = ms_entity_set_param(e, MS_MARKER_REPLICA_INSTANCE, ms_catalog_instance(r->src),
					 err);
	return rc;
}

/* Map a source entity in place to its target shape and rehash if needed. */
static int map_entity(run *r, ms_entity *e, ms_error *err)
{
	int changed = 0, rc;

	if ((rc = ms_mapping_apply(&r->map, e, &changed, err)) < 0)
		return rc;
	if (changed || !e->hashed)
		return ms_entity_rehash(e, err);
	return 0;
}

static void compute_stamp(run *r, table_plan *tp)
{
	unsigned char buf[12 + 2 * MS_HASH_LEN], out[SHA256_DIGEST_LENGTH];
	ms_buf b = MS_BUF_INIT((size_t)1 << 24);

	memcpy(buf, "ms-stamp-v1", 12);
	memcpy(buf + 12, tp->mapped->hash, MS_HASH_LEN);
	ms_digest_final(&tp->digest, buf + 12 + MS_HASH_LEN);
	ms_buf_add(&b, buf, sizeof(buf));
	ms_buf_adds(&b, r->map.fingerprint);
	SHA256((const unsigned char *)ms_buf_cstr(&b), b.len, out);
	ms_hex(out, MS_HASH_LEN, tp->stamp);
	ms_buf_free(&b);
}

/* ---- phase 1: plan tables --------------------------------------------- */

static int is_view(const ms_entity *e)
{
	const cJSON *t = e->doc ? cJSON_GetObjectItemCaseSensitive(e->doc, "TableType") : NULL;

	return cJSON_IsString(t) && strcmp(t->valuestring, "VIRTUAL_VIEW") == 0;
}

static int plan_table(run *r, const char *sdb, const char *st, ms_error *err)
{
	table_plan *tp, *nt;
	ms_entity *s = NULL, *t = NULL;
	ms_error e2;
	const char *reason;
	int rc;

	nt = realloc(r->tables, (r->ntables + 1) * sizeof(*nt));
	if (!nt)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	r->tables = nt;
	tp = &r->tables[r->ntables];
	memset(tp, 0, sizeof(*tp));
	if (!(tp->sdb = strdup(sdb)) || !(tp->st = strdup(st))) {
		free(tp->sdb);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	r->ntables++;

	if ((rc = ms_catalog_get_table(r->src, sdb, st, &s, err)) < 0)
		return rc;
	tp->is_view = is_view(s);
	if ((rc = map_entity(r, s, err)) < 0) {
		ms_entity_free(s);
		return rc;
	}
	tp->mapped = s;
	if ((rc = mark(r, s, sdb, st, err)) < 0)
		return rc;
	ms_error_clear(&e2);
	rc = ms_catalog_get_table(r->dst, s->database, s->table, &t, &e2);
	if (rc < 0 && rc != MS_ENOTFOUND) {
		*err = e2;
		return rc;
	}
	if (rc == 0) {
		tp->target_exists = 1;
		memcpy(tp->target_hash, t->hash, MS_HASH_LEN);
		if (!owned(r, t, &reason)) {
			tp->skip = 1;
			tp->skip_reason = strdup(reason);
		} else {
			tp->adopted = reason;
		}
	}
	/* A copy reads every partition anyway: no stamps, so no digest. */
	ms_error_clear(&e2);
	rc = r->o->copy ? MS_ENOTSUPPORTED :
			  ms_catalog_table_digest(r->src, sdb, st, &tp->digest, &e2);
	if (rc == 0)
		tp->have_digest = 1;
	else if (rc != MS_ENOTSUPPORTED) {
		*err = e2;
		ms_entity_free(t);
		return rc;
	}
	if (tp->have_digest && !r->o->copy) {
		compute_stamp(r, tp);
		if (t && !tp->skip && !tp->adopted && !r->o->full &&
		    memcmp(t->hash, s->hash, MS_HASH_LEN) == 0) {
			const char *old = ms_entity_param(t, MS_MARKER_SYNCED);
			tp->up_to_date = old && strcmp(old, tp->stamp) == 0;
		}
	}
	ms_entity_free(t);
	return 0;
}

static void plans_free(run *r)
{
	size_t i;

	for (i = 0; i < r->ntables; i++) {
		free(r->tables[i].sdb);
		free(r->tables[i].st);
		free(r->tables[i].skip_reason);
		ms_entity_free(r->tables[i].mapped);
	}
	free(r->tables);
	r->tables = NULL;
	r->ntables = 0;
}

/* ---- phase 4: partitions of one table --------------------------------- */

typedef struct pdiff {
	run *r;
	table_plan *tp;
	ms_strmap target;        /* vkey -> hash; mark = seen in source */
	ms_entity **batch;
	size_t nbatch;
	ms_counts local;         /* partition counts, merged when the table commits */
	size_t matched;          /* target partitions the source also has */
	size_t kept;             /* target partitions left different from the source */
	int failed;
	ms_error ferr;
} pdiff;

/* What collect_target learnt about a target partition's owner (strmap tag). */
enum { OWNER_UNKNOWN = 0, OWNER_OURS, OWNER_NONE, OWNER_OTHER };

static int collect_target(ms_entity *e, void *ctx, ms_error *err)
{
	pdiff *d = ctx;
	ms_strmap_entry *ent;
	int rc;

	rc = ms_strmap_put(&d->target, e->vkey, &ent);
	if (rc >= 0) {
		memcpy(ent->value, e->hash, MS_HASH_LEN);
		/* A driver that scans whole documents tells ownership now, not per partition later. */
		if (e->doc) {
			const char *reason;
			ent->tag = owned(d->r, e, &reason) ? OWNER_OURS :
				   strcmp(reason, "not a replica") == 0 ? OWNER_NONE : OWNER_OTHER;
		}
	}
	ms_entity_free(e);
	return rc < 0 ? ms_error_set(err, rc, "out of memory") : 0;
}

static void pevent(pdiff *d, ms_action a, const char *vkey, const char *reason)
{
	run *r = d->r;

	count_action(&d->local, a, 1);
	if (a == MS_ACTION_DELETE)
		r->deletes++;
	if (a != MS_ACTION_UNCHANGED && r->o->on_change) {
		ms_change_event ev = { a, MS_KIND_PARTITION, d->tp->mapped->database,
				       d->tp->mapped->table, vkey, reason };
		r->o->on_change(&ev, r->o->ctx);
	}
}

/*
 * A transactional target refused a batch with MS_EEXISTS: one of its
 * partitions cannot stand beside another the target holds (a Hive
 * Metastore names values '' and '__HIVE_DEFAULT_PARTITION__' alike), and
 * the call wrote nothing.  Put the batch again one partition at a time: the
 * refused ones fail alone, each reported with its values, and the table
 * keeps the rest, without its sync stamp (d->kept), so that every run tells.
 */
static int put_one_by_one(pdiff *d, ms_error *err)
{
	run *r = d->r;
	size_t i;
	int rc;

	for (i = 0; i < d->nbatch; i++) {
		ms_entity *e = d->batch[i];

		rc = ms_catalog_put_partitions(r->dst, d->tp->mapped->database, d->tp->mapped->table,
					       &e, 1, err);
		if (rc == 0)
			continue;
		if (rc != MS_EEXISTS)
			return rc;
		if (ms_strmap_get(&d->target, e->vkey))
			d->local.updated--;
		else
			d->local.created--;
		d->kept++;
		add_error(r, d->tp->mapped->database, d->tp->mapped->table, e->vkey, err->message);
		pevent(d, MS_ACTION_FAIL, e->vkey, err->message);
	}
	return 0;
}

static int flush(pdiff *d, ms_error *err)
{
	run *r = d->r;
	size_t i;
	int rc = 0;

	if (d->nbatch && r->apply && !d->failed) {
		rc = ms_catalog_put_partitions(r->dst, d->tp->mapped->database, d->tp->mapped->table,
					       d->batch, d->nbatch, err);
		if (rc == MS_EEXISTS && r->transactional)
			rc = put_one_by_one(d, err);
		if (rc < 0) {
			d->failed = 1;
			d->ferr = *err;
		}
	}
	for (i = 0; i < d->nbatch; i++)
		ms_entity_free(d->batch[i]);
	d->nbatch = 0;
	return r->transactional ? rc : 0;
}

/* Is the target partition with this key ours to change? */
static int partition_owned(pdiff *d, const ms_strmap_entry *ent, const char *vkey,
			   const char **reason, ms_error *err)
{
	run *r = d->r;
	ms_entity *t = NULL;
	int rc, ok;

	*reason = NULL;
	if (r->o->adopt || (ent && ent->tag == OWNER_OURS))
		return 1;
	if (ent && ent->tag != OWNER_UNKNOWN) {
		*reason = ent->tag == OWNER_NONE ? "not a replica" : "replica of another source";
		return 0;
	}
	rc = ms_catalog_get_partition(r->dst, d->tp->mapped->database, d->tp->mapped->table,
				      vkey, &t, err);
	if (rc == MS_ENOTSUPPORTED) {
		*reason = NULL;
		return 1;
	}
	if (rc < 0)
		return rc;
	ok = owned(r, t, reason);
	ms_entity_free(t);
	return ok;
}

static int diff_source(ms_entity *e, void *ctx, ms_error *err)
{
	pdiff *d = ctx;
	run *r = d->r;
	ms_strmap_entry *t;
	const char *reason;
	int rc;

	if ((rc = map_entity(r, e, err)) < 0 ||
	    (rc = mark(r, e, d->tp->sdb, d->tp->st, err)) < 0) {
		ms_entity_free(e);
		return rc;
	}
	progress(r, 1);
	t = ms_strmap_get(&d->target, e->vkey);
	if (t) {
		t->mark = 1;
		d->matched++;
		if (memcmp(t->value, e->hash, MS_HASH_LEN) == 0) {
			pevent(d, MS_ACTION_UNCHANGED, e->vkey, NULL);
			ms_entity_free(e);
			return 0;
		}
		rc = partition_owned(d, t, e->vkey, &reason, err);
		if (rc <= 0) {
			if (rc == 0) {
				pevent(d, MS_ACTION_SKIP, e->vkey, reason);
				d->kept++;
			}
			ms_entity_free(e);
			return rc < 0 ? rc : 0;
		}
		pevent(d, MS_ACTION_UPDATE, e->vkey, NULL);
	} else {
		pevent(d, MS_ACTION_CREATE, e->vkey, NULL);
	}
	d->batch[d->nbatch++] = e;
	if (d->nbatch == r->batch)
		return flush(d, err);
	return 0;
}

static int delete_missing(pdiff *d, ms_error *err)
{
	run *r = d->r;
	const char **keys;
	size_t i, n = 0;
	const char *reason;
	int rc = 0;

	keys = malloc(r->batch * sizeof(char *));
	if (!keys)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < d->target.nslots; i++) {
		ms_strmap_entry *t = &d->target.slots[i];

		if (!t->key || t->mark)
			continue;
		rc = partition_owned(d, t, t->key, &reason, err);
		if (rc < 0)
			break;
		if (rc == 0) {
			pevent(d, MS_ACTION_SKIP, t->key, reason);
			rc = 0;
			continue;
		}
		pevent(d, MS_ACTION_DELETE, t->key, NULL);
		keys[n++] = t->key;
		if (n == r->batch || i + 1 == d->target.nslots) {
			if (r->apply && (rc = ms_catalog_delete_partitions(
					     r->dst, d->tp->mapped->database, d->tp->mapped->table,
					     keys, n, err)) < 0)
				break;
			n = 0;
		}
	}
	if (rc >= 0 && n && r->apply)
		rc = ms_catalog_delete_partitions(r->dst, d->tp->mapped->database,
						  d->tp->mapped->table, keys, n, err);
	free(keys);
	return rc;
}

static void merge_counts(ms_counts *into, const ms_counts *c)
{
	into->created += c->created;
	into->updated += c->updated;
	into->unchanged += c->unchanged;
	into->deleted += c->deleted;
	into->skipped += c->skipped;
	into->failed += c->failed;
}

/*
 * Scan flags for a table's source partitions.  An export (copy) whose mapping
 * changes no content and no name leaves every partition document as the
 * source stores it: map_entity does not touch it and mark adds nothing.  A
 * target with MS_CAP_RAW_INPUT (the snapshot writer) prints such documents
 * from their stored text, so they need not be parsed.
 */
static unsigned int source_scan_flags(const run *r)
{
	if (r->o->copy && ms_mapping_is_identity_content(&r->map) &&
	    (!r->map.db_prefix || !*r->map.db_prefix) &&
	    (!r->map.table_prefix || !*r->map.table_prefix) && r->map.nrenames == 0 &&
	    (ms_catalog_caps(r->dst) & MS_CAP_RAW_INPUT))
		return MS_SCAN_RAW;
	return 0;
}

/* Apply (or count) one table with its partitions; failures are reported, not returned. */
/*
 * Begin a table's transaction; while another writer holds the target (its
 * busy timeout passed: MS_ECONFLICT), wait with exponential backoff and
 * jitter and try again, up to about a minute in all.
 */
static int begin_retrying(run *r, ms_error *err)
{
	unsigned attempt;
	int rc = 0;

	for (attempt = 0; attempt < 6; attempt++) {
		if ((rc = ms_catalog_begin(r->dst, err)) != MS_ECONFLICT)
			return rc;
		if (r->o->stop && *r->o->stop)
			return rc;
		{
			long ms = (250L << attempt) + (long)(random() % 250);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	return rc;
}

/*
 * Inside the table's transaction: lock the target table and read it again,
 * so that what phase 1 decided on a plain read (create it, update it, or
 * leave it alone: not ours) still holds when the write happens, whatever
 * another writer did in between.  Updates tp.
 */
static int recheck_target(run *r, table_plan *tp, ms_error *err)
{
	ms_entity *t = NULL;
	ms_error e2;
	const char *reason;
	int rc;

	if ((rc = ms_catalog_lock(r->dst, tp->mapped->database, tp->mapped->table, err)) < 0)
		return rc;
	ms_error_clear(&e2);
	rc = ms_catalog_get_table(r->dst, tp->mapped->database, tp->mapped->table, &t, &e2);
	tp->target_exists = rc == 0;
	if (rc == MS_ENOTFOUND)
		return 0;
	if (rc < 0) {
		*err = e2;
		return rc;
	}
	memcpy(tp->target_hash, t->hash, MS_HASH_LEN);
	if (!owned(r, t, &reason)) {
		tp->skip = 1;
		free(tp->skip_reason);
		tp->skip_reason = strdup(reason);
	} else {
		tp->adopted = reason;
	}
	ms_entity_free(t);
	return 0;
}

/* A table left alone: not ours, or it became someone else's meanwhile. */
static void skip_table(run *r, table_plan *tp)
{
	event(r, MS_ACTION_SKIP, MS_KIND_TABLE, tp->mapped->database, tp->mapped->table, NULL,
	      tp->skip_reason);
	if (tp->have_digest)
		r->rep->partitions.skipped += (long long)tp->digest.count;
}

static int sync_table(run *r, table_plan *tp, ms_error *fatal)
{
	ms_entity *m = tp->mapped;
	ms_action ta;
	pdiff d;
	ms_error err;
	int rc = 0, in_tx = 0, stamp_later, retried = 0;

	if (tp->db_failed) {
		ms_error_set(&err, MS_ERROR, "database '%s' could not be written", m->database);
		fail(r, MS_KIND_TABLE, m->database, m->table, NULL, &err);
		return 0;
	}
	if (tp->skip) {
		skip_table(r, tp);
		return 0;
	}
	if (tp->up_to_date) {
		event(r, MS_ACTION_UNCHANGED, MS_KIND_TABLE, m->database, m->table, NULL, NULL);
		r->rep->partitions.unchanged += (long long)tp->digest.count;
		progress(r, tp->digest.count);
		return 0;
	}
	ta = !tp->target_exists ? MS_ACTION_CREATE :
	     memcmp(tp->target_hash, m->hash, MS_HASH_LEN) ? MS_ACTION_UPDATE : MS_ACTION_UNCHANGED;

	memset(&d, 0, sizeof(d));
	d.r = r;
	d.tp = tp;
	ms_strmap_init(&d.target);
	ms_error_clear(&err);
	if (!(d.batch = calloc(r->batch, sizeof(ms_entity *)))) {
		rc = ms_error_set(fatal, MS_ENOMEM, "out of memory");
		goto done;
	}
	/* Without transactions the stamp goes on last, once every partition is in. */
	stamp_later = !r->transactional && !r->o->copy && tp->have_digest;
	if (!r->o->copy && tp->have_digest && !stamp_later)
		rc = ms_entity_set_param(m, MS_MARKER_SYNCED, tp->stamp, &err);
	else
		rc = ms_entity_set_param(m, MS_MARKER_SYNCED, NULL, &err);
	if (rc < 0)
		goto failed;

	/* An adoption writes the marker: an update, shown with what the table was. */
	if (ta == MS_ACTION_UNCHANGED && tp->adopted)
		ta = MS_ACTION_UPDATE;
	/* A plan lists the table before its partitions. */
	if (!r->apply)
		event(r, ta, MS_KIND_TABLE, m->database, m->table, NULL, tp->adopted);
	while (r->apply) {
		if ((rc = begin_retrying(r, &err)) < 0)
			goto failed;
		in_tx = 1;
		if (!r->o->copy && (rc = recheck_target(r, tp, &err)) < 0)
			goto failed;
		if (tp->skip) {
			ms_catalog_rollback(r->dst, NULL);
			skip_table(r, tp);
			goto done;
		}
		ta = !tp->target_exists ? MS_ACTION_CREATE :
		     memcmp(tp->target_hash, m->hash, MS_HASH_LEN) || tp->adopted ?
							     MS_ACTION_UPDATE :
							     MS_ACTION_UNCHANGED;
		rc = ms_catalog_put_table(r->dst, m, &err);
		/* created by another writer after the lock found nothing: look again, once */
		if (rc == MS_ECONFLICT && !retried) {
			ms_catalog_rollback(r->dst, NULL);
			in_tx = 0;
			retried = 1;
			continue;
		}
		if (rc < 0)
			goto failed;
		break;
	}
	if (tp->target_exists) {
		rc = ms_catalog_scan_partitions(r->dst, m->database, m->table, MS_SCAN_KEYS_ONLY,
						collect_target, &d, &err);
		if (rc < 0 && rc != MS_ENOTFOUND)
			goto failed;
	}
	rc = ms_catalog_scan_partitions(r->src, tp->sdb, tp->st, source_scan_flags(r), diff_source,
					&d, &err);
	if (rc < 0 && rc != MS_ENOTFOUND)
		goto failed;
	if ((rc = flush(&d, &err)) < 0)
		goto failed;
	if (r->o->deletes == MS_DELETES_MIRROR && !r->o->copy &&
	    (rc = delete_missing(&d, &err)) < 0)
		goto failed;
	/*
	 * Partitions the target keeps against the source (deletes none, or not
	 * ours) mean the table is not in sync: no stamp, so the next run looks
	 * at its partitions again.
	 */
	d.kept += d.target.count - d.matched - (size_t)d.local.deleted;
	if (d.kept && !r->o->copy && tp->have_digest) {
		if (!stamp_later && r->apply &&
		    ((rc = ms_entity_set_param(m, MS_MARKER_SYNCED, NULL, &err)) < 0 ||
		     (rc = ms_catalog_put_table(r->dst, m, &err)) < 0))
			goto failed;
		stamp_later = 0;
	}
	if (d.failed) {
		err = d.ferr;
		if (r->transactional) {
			rc = err.code;
			goto failed;
		}
		/* Without transactions: what went in stays; the stamp stays off. */
		add_error(r, m->database, m->table, NULL, err.message);
		d.local.failed += d.local.created + d.local.updated;
		d.local.created = d.local.updated = 0;
		stamp_later = 0;
	}
	if (r->apply && stamp_later) {
		if ((rc = ms_entity_set_param(m, MS_MARKER_SYNCED, tp->stamp, &err)) < 0 ||
		    (rc = ms_catalog_put_table(r->dst, m, &err)) < 0)
			goto failed;
	}
	if (r->apply && (rc = ms_catalog_commit(r->dst, &err)) < 0)
		goto failed;
	in_tx = 0;
	if (r->apply)
		event(r, d.failed ? MS_ACTION_FAIL : ta, MS_KIND_TABLE, m->database, m->table, NULL,
		      d.failed ? NULL : tp->adopted);
	if (!d.failed && tp->adopted)
		note_adopted(r, m->database, m->table, tp->adopted);
	merge_counts(&r->rep->partitions, &d.local);
	rc = 0;
	goto done;

failed:
	if (in_tx)
		ms_catalog_rollback(r->dst, NULL);
	if (rc == MS_ENOMEM || rc == MS_EINTEGRITY) {
		*fatal = err;
		goto done;
	}
	fail(r, MS_KIND_TABLE, m->database, m->table, NULL, &err);
	/* Everything this table would have written is counted as failed. */
	d.local.failed += d.local.created + d.local.updated + d.local.deleted;
	d.local.created = d.local.updated = d.local.deleted = 0;
	merge_counts(&r->rep->partitions, &d.local);
	if (r->o->copy) {
		*fatal = err;
		goto done;
	}
	rc = 0;
done:
	if (d.batch) {
		for (size_t i = 0; i < d.nbatch; i++)
			ms_entity_free(d.batch[i]);
		free(d.batch);
	}
	ms_strmap_free(&d.target);
	return rc;
}

/* ---- databases -------------------------------------------------------- */

static void mark_db_failed(run *r, const char *sdb)
{
	size_t i;

	for (i = 0; i < r->ntables; i++)
		if (strcmp(r->tables[i].sdb, sdb) == 0)
			r->tables[i].db_failed = 1;
}

/*
 * Write database s unless the target's is not ours or already equal.  When
 * applying, in a transaction with the target database locked and read again,
 * so that whose it is cannot change between the check and the write.  0, or
 * MS_ECONFLICT when another writer created it after the lock found nothing
 * (the caller looks again), or another code with err filled.
 */
static int write_database(run *r, ms_entity *s, ms_error *err)
{
	ms_entity *t = NULL;
	const char *reason = NULL;
	int rc, in_tx = r->apply && !r->o->copy;

	if (in_tx && ((rc = begin_retrying(r, err)) < 0 ||
		      (rc = ms_catalog_lock(r->dst, s->database, NULL, err)) < 0))
		goto done;
	rc = ms_catalog_get_database(r->dst, s->database, &t, err);
	if (rc < 0 && rc != MS_ENOTFOUND)
		goto done;
	rc = 0;
	if (t && !owned(r, t, &reason)) {
		/* Tables may still be replicated into a database the target owns. */
		event(r, MS_ACTION_SKIP, MS_KIND_DATABASE, s->database, NULL, NULL, reason);
	} else if (t && !reason && memcmp(t->hash, s->hash, MS_HASH_LEN) == 0 &&
		   (r->o->copy || ms_entity_param(t, MS_MARKER_REPLICA_OF))) {
		event(r, MS_ACTION_UNCHANGED, MS_KIND_DATABASE, s->database, NULL, NULL, NULL);
	} else if (!r->apply || (rc = ms_catalog_put_database(r->dst, s, err)) == 0) {
		if (in_tx && (rc = ms_catalog_commit(r->dst, err)) < 0)
			goto done;
		in_tx = 0;
		event(r, t ? MS_ACTION_UPDATE : MS_ACTION_CREATE, MS_KIND_DATABASE, s->database,
		      NULL, NULL, t ? reason : NULL);
		if (t && reason)
			note_adopted(r, s->database, NULL, reason);
	}
done:
	if (in_tx)
		ms_catalog_rollback(r->dst, NULL);
	ms_entity_free(t);
	return rc;
}

static int sync_database(run *r, const char *sdb, ms_error *fatal)
{
	ms_entity *s = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	if ((rc = ms_catalog_get_database(r->src, sdb, &s, &err)) < 0 ||
	    (rc = map_entity(r, s, &err)) < 0 || (rc = mark(r, s, sdb, NULL, &err)) < 0 ||
	    ((rc = write_database(r, s, &err)) == MS_ECONFLICT &&
	     (rc = write_database(r, s, &err)) < 0) ||
	    rc < 0) {
		if (rc == MS_ENOMEM)
			*fatal = err;
		fail(r, MS_KIND_DATABASE, s ? s->database : sdb, NULL, NULL, &err);
		mark_db_failed(r, sdb);
	}
	ms_entity_free(s);
	return fatal->code == MS_ENOMEM ? MS_ENOMEM : 0;
}

/* ---- views in dependency order ---------------------------------------- */

static int mentions(const char *text, const char *word)
{
	size_t wl = strlen(word);
	const char *p = text;

	if (!text || !wl)
		return 0;
	while ((p = strcasestr(p, word)) != NULL) {
		int before = p == text || !(p[-1] == '_' || (p[-1] >= '0' && p[-1] <= '9') ||
					    ((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z'));
		char c = p[wl];
		int after = !(c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'));
		if (before && after)
			return 1;
		p += wl;
	}
	return 0;
}

static const char *view_text(const table_plan *tp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(tp->mapped->doc, "ViewExpandedText");

	if (!cJSON_IsString(v) || !*v->valuestring || strstr(v->valuestring, "Presto View"))
		v = cJSON_GetObjectItemCaseSensitive(tp->mapped->doc, "ViewOriginalText");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Order of the views: a view comes after every view its text names. */
static size_t *view_order(run *r, size_t *nout)
{
	size_t *views, n = 0, i, j, k, *order, no = 0;
	char *placed;

	views = malloc((r->ntables + 1) * sizeof(size_t));
	order = malloc((r->ntables + 1) * sizeof(size_t));
	placed = calloc(r->ntables + 1, 1);
	if (!views || !order || !placed) {
		free(views);
		free(order);
		free(placed);
		return NULL;
	}
	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].is_view)
			views[n++] = i;
	while (no < n) {
		int progressed = 0;

		for (i = 0; i < n; i++) {
			table_plan *v = &r->tables[views[i]];
			const char *text = view_text(v);
			int ready = 1;

			if (placed[i])
				continue;
			for (j = 0; j < n && ready; j++) {
				table_plan *w = &r->tables[views[j]];
				if (j == i || placed[j])
					continue;
				if (mentions(text, w->mapped->table) &&
				    (strcmp(w->mapped->database, v->mapped->database) == 0 ||
				     mentions(text, w->mapped->database)))
					ready = 0;
			}
			if (ready) {
				placed[i] = 1;
				order[no++] = views[i];
				progressed = 1;
			}
		}
		if (!progressed) {
			/* A cycle: keep source order for the rest. */
			for (k = 0; k < n; k++)
				if (!placed[k]) {
					placed[k] = 1;
					order[no++] = views[k];
				}
		}
	}
	free(views);
	free(placed);
	*nout = n;
	return order;
}

/* ---- mirror deletes --------------------------------------------------- */

static int delete_table_replica(run *r, const char *db, const char *table, ms_error *fatal)
{
	ms_error err;
	ms_digest dg;
	int rc;

	ms_error_clear(&err);
	if (ms_catalog_table_digest(r->dst, db, table, &dg, &err) == 0) {
		r->rep->partitions.deleted += (long long)dg.count;
		r->deletes += (long long)dg.count;
	}
	if (r->apply && (rc = ms_catalog_delete_table(r->dst, db, table, &err)) < 0) {
		if (rc == MS_ENOMEM) {
			*fatal = err;
			return rc;
		}
		fail(r, MS_KIND_TABLE, db, table, NULL, &err);
		return 0;
	}
	event(r, MS_ACTION_DELETE, MS_KIND_TABLE, db, table, NULL, NULL);
	return 0;
}

/*
 * What became of the source of a replica of this source at tdb.tn (tn NULL:
 * the database) whose marker names sdb.st (st NULL: a database).
 */
typedef enum fate {
	FATE_CURRENT = 0,   /* this run produces it */
	FATE_GONE,          /* its source is gone, within the selection */
	FATE_UNMAPPED,      /* its source is there, but the mapping now puts it elsewhere */
	FATE_OUT_OF_SCOPE   /* its source database is not selected: not this run's business */
} fate;

static fate fate_of(run *r, const char *tdb, const char *tn, const char *sdb, const char *st)
{
	char *mdb, *mt = NULL;
	fate f;

	if (!names_has(&r->dbs, sdb))
		return ms_selection_match(r->o->databases, sdb) &&
				       ms_selection_match(ms_catalog_selection(r->src), sdb) ?
			       FATE_GONE :
			       FATE_OUT_OF_SCOPE;
	if (st && !ms_mapping_has_table(&r->map, sdb, st))
		return FATE_GONE;
	mdb = ms_mapping_database(&r->map, sdb);
	if (st)
		mt = ms_mapping_table(&r->map, st);
	f = !mdb || (st && !mt) ? FATE_CURRENT :
	    strcmp(mdb, tdb) != 0 || (st && tn && strcmp(mt, tn) != 0) ? FATE_UNMAPPED :
									  FATE_CURRENT;
	free(mdb);
	free(mt);
	return f;
}

/* Report a replica the mapping no longer produces and that is kept. */
static void note_unmapped(run *r, const char *tdb, const char *tn, const char *sdb,
			  const char *st)
{
	if (r->final)
		warnf(r, "%s%s%s: replica of '%s%s%s' that the mapping no longer produces, "
		      "kept (--deletes mirror --prune-unmapped removes it)",
		      tdb, tn ? "." : "", tn ? tn : "", sdb, st ? "." : "", st ? st : "");
}

/* May a replica with this fate be deleted in this run? */
static int deletable(const run *r, fate f)
{
	if (r->o->deletes != MS_DELETES_MIRROR || r->o->copy)
		return 0;
	return f == FATE_GONE || (f == FATE_UNMAPPED && r->o->prune_unmapped);
}

/* "db\ttable" of the target tables this run writes (not skipped), sorted. */
static int planned_set(const run *r, names *out, ms_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < r->ntables; i++) {
		ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);

		if (r->tables[i].skip)
			continue;
		ms_buf_printf(&b, "%s\t%s", r->tables[i].mapped->database, r->tables[i].mapped->table);
		rc = names_add(ms_buf_cstr(&b), out, err);
		ms_buf_free(&b);
		if (rc < 0)
			return rc;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(char *), cmp_str);
	return 0;
}

static int planned(const names *set, const char *tdb, const char *tn)
{
	ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);
	int found;

	ms_buf_printf(&b, "%s\t%s", tdb, tn);
	found = names_has(set, ms_buf_cstr(&b));
	ms_buf_free(&b);
	return found;
}

/*
 * The replica tables of this source in target database tdb that this run
 * does not produce: deleted when their fate allows (whole_db: every replica
 * of this source in it, the database itself being gone or unmapped), else
 * reported when unmapped.  *foreign counts the tables left in tdb that are
 * not ours.
 */
static int stale_tables(run *r, const char *tdb, fate whole_db, const names *written,
			size_t *foreign, ms_error *fatal)
{
	names tn = { 0 };
	ms_error err;
	size_t i;
	int rc = 0;

	ms_error_clear(&err);
	if (ms_catalog_list_tables(r->dst, tdb, names_add, &tn, &err) < 0)
		goto done;
	/* Views first: they may read the tables. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (i = 0; i < tn.n && rc == 0; i++) {
			ms_entity *t = NULL;
			char *db = NULL, *table = NULL;
			const char *why;
			fate f;

			if (whole_db == FATE_CURRENT && planned(written, tdb, tn.v[i]))
				continue;
			if (ms_catalog_get_table(r->dst, tdb, tn.v[i], &t, &err) < 0)
				continue;
			if (is_view(t) != (pass == 0)) {
				ms_entity_free(t);
				continue;
			}
			if (!ours(r, t, &db, &table, &why) || !table) {
				(*foreign)++;
			} else {
				f = whole_db != FATE_CURRENT ? whole_db :
							       fate_of(r, tdb, tn.v[i], db, table);
				if (deletable(r, f))
					rc = delete_table_replica(r, tdb, tn.v[i], fatal);
				else if (f == FATE_UNMAPPED && whole_db == FATE_CURRENT)
					note_unmapped(r, tdb, tn.v[i], db, table);
				else if (f != FATE_CURRENT)
					(*foreign)++;
			}
			free(db);
			free(table);
			ms_entity_free(t);
		}
	}
done:
	names_free(&tn);
	return rc;
}

/*
 * Replicas of this source in the target that this run does not produce.
 * Those whose source is gone (within the selection) are deleted with
 * mirror deletes; those the mapping no longer produces (a prefix or rename
 * changed) are reported, and deleted too with prune_unmapped.  Databases
 * holding tables that are not ours are kept.
 */
static int stale_replicas(run *r, ms_error *fatal)
{
	names tdbs = { 0 }, written = { 0 };
	ms_error err;
	size_t i;
	int rc = 0;

	ms_error_clear(&err);
	if ((rc = planned_set(r, &written, fatal)) < 0)
		goto done;
	if (ms_catalog_list_databases(r->dst, names_add, &tdbs, &err) < 0)
		goto done;
	for (i = 0; i < tdbs.n && rc == 0; i++) {
		ms_entity *t = NULL;
		char *db = NULL, *table = NULL;
		const char *why;
		size_t foreign = 0;
		fate f = FATE_CURRENT;
		int mapped_here = names_has(&r->tdbs, tdbs.v[i]);

		if (ms_catalog_get_database(r->dst, tdbs.v[i], &t, &err) < 0)
			continue;
		if (ours(r, t, &db, &table, &why) && !mapped_here)
			f = fate_of(r, tdbs.v[i], NULL, db, NULL);
		if (f == FATE_OUT_OF_SCOPE || (f == FATE_CURRENT && !mapped_here)) {
			/* not ours, or not this run's */
		} else if (f == FATE_CURRENT || deletable(r, f)) {
			rc = stale_tables(r, tdbs.v[i], f, &written, &foreign, fatal);
			if (rc == 0 && f != FATE_CURRENT && foreign) {
				event(r, MS_ACTION_SKIP, MS_KIND_DATABASE, tdbs.v[i], NULL, NULL,
				      "holds tables that are not replicas");
			} else if (rc == 0 && f != FATE_CURRENT) {
				if (r->apply && ms_catalog_delete_database(r->dst, tdbs.v[i], &err) < 0)
					fail(r, MS_KIND_DATABASE, tdbs.v[i], NULL, NULL, &err);
				else
					event(r, MS_ACTION_DELETE, MS_KIND_DATABASE, tdbs.v[i], NULL,
					      NULL, NULL);
			}
		} else if (f == FATE_UNMAPPED) {
			note_unmapped(r, tdbs.v[i], NULL, db, NULL);
		}
		free(db);
		free(table);
		ms_entity_free(t);
	}
done:
	names_free(&tdbs);
	names_free(&written);
	return rc;
}

/* ---- the run ---------------------------------------------------------- */

static void reset_counts(ms_report *rep)
{
	memset(&rep->databases, 0, sizeof(rep->databases));
	memset(&rep->tables, 0, sizeof(rep->tables));
	memset(&rep->partitions, 0, sizeof(rep->partitions));
}

/* Between tables (each its own transaction): was the run asked to stop? */
static int stopped(run *r, ms_error *err)
{
	if (r->apply && r->o->stop && *r->o->stop)
		return ms_error_set(err, MS_ERROR, "stopped between tables: a re-run finishes");
	return 0;
}

/*
 * Tell the source which tables' partitions this pass will scan, in order, so
 * that it can read ahead (views have none and are left out).
 */
static int plan_scans(run *r, ms_error *err)
{
	ms_table_ref *refs = calloc(r->ntables + 1, sizeof(*refs));
	size_t i, n = 0;
	int rc;

	if (!refs)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < r->ntables; i++) {
		const table_plan *tp = &r->tables[i];

		if (tp->is_view || tp->db_failed || tp->skip || tp->up_to_date)
			continue;
		refs[n].database = tp->sdb;
		refs[n].table = tp->st;
		n++;
	}
	rc = ms_catalog_plan_scans(r->src, refs, n, err);
	free(refs);
	return rc;
}

/* Report a --database-names pattern that selects nothing. */
static void unmatched_pattern(const char *pattern, void *ctx)
{
	run *r = ctx;

	warnf(r, "--database-names '%s': matches no database in '%s'", pattern,
	      ms_catalog_url(r->src));
}

/* A source identified by where it is, not by a name it was given: say so. */
static void implicit_identity(run *r)
{
	if (ms_catalog_id_is_implicit(r->src))
		warnf(r, "source '%s': has no catalog-id, so its replicas are tied to '%s' (add "
		      "?catalog-id=ID to the URL to give it a name that moving the file keeps)",
		      ms_catalog_url(r->src), ms_catalog_id(r->src));
}

/* The source tables whose replicas the target keeps (or gets) in this run. */
static size_t kept_replicas(const run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->ntables; i++)
		n += !r->tables[i].skip && !r->tables[i].db_failed;
	return n;
}

/*
 * Before any table is read: record the target names of the selected
 * databases (r->tdbs); two selected source databases mapped to one
 * target name is a usage error naming both; a rename of a database that is
 * not selected is a warning; a target that is the source itself is refused
 * when a mapped name would be read back as a source database.
 */
static int check_mapped_databases(run *r, const names *all, ms_error *err)
{
	names mapped = { 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < r->dbs.n && rc == 0; i++) {
		char *m = ms_mapping_database(&r->map, r->dbs.v[i]);
		ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);

		if (!m)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		ms_buf_printf(&b, "%s\t%s", m, r->dbs.v[i]);
		rc = names_add(ms_buf_cstr(&b), &mapped, err);
		ms_buf_free(&b);
		free(m);
	}
	if (rc == 0 && mapped.n)
		qsort(mapped.v, mapped.n, sizeof(char *), cmp_str);
	/* "tdb\tsdb" sorts as tdb does ('\t' is below every character of a name) */
	for (i = 0; i < mapped.n && rc == 0; i++) {
		char *tdb = strndup(mapped.v[i], strcspn(mapped.v[i], "\t"));

		rc = tdb ? names_add(tdb, &r->tdbs, err) : ms_error_set(err, MS_ENOMEM, "out of memory");
		free(tdb);
	}
	for (i = 1; i < mapped.n && rc == 0; i++) {
		size_t l = strcspn(mapped.v[i], "\t");

		if (strncmp(mapped.v[i - 1], mapped.v[i], l + 1) == 0)
			rc = ms_error_set(err, MS_EUSAGE,
					  "source databases '%s' and '%s' both map to target database "
					  "'%.*s': change a rename or the selection",
					  mapped.v[i - 1] + l + 1, mapped.v[i] + l + 1, (int)l, mapped.v[i]);
	}
	for (i = 0; i < r->map.nrenames && rc == 0; i++) {
		size_t j;

		if (names_has(&r->dbs, r->map.rename_from[i]))
			continue;
		for (j = 0; j < all->n && strcmp(all->v[j], r->map.rename_from[i]) != 0; j++)
			;
		warnf(r, "rename '%s': %s '%s'", r->map.rename_text[i],
		      j < all->n ? "the selection leaves out" : "no source database",
		      r->map.rename_from[i]);
	}
	if (rc == 0 && !r->o->copy && strcmp(ms_catalog_id(r->src), ms_catalog_id(r->dst)) == 0) {
		for (i = 0; i < mapped.n && rc == 0; i++) {
			size_t l = strcspn(mapped.v[i], "\t");
			char *tdb = strndup(mapped.v[i], l);

			if (tdb && ms_selection_match(r->o->databases, tdb) &&
			    ms_selection_match(ms_catalog_selection(r->src), tdb))
				rc = ms_error_set(err, MS_EREFUSED,
						  "source and target are one catalog ('%s'): target "
						  "database '%s' (from '%s') would be read back as a "
						  "source; select the source databases with "
						  "--database-names so that none of the target's matches",
						  ms_catalog_id(r->src), tdb, mapped.v[i] + l + 1);
			free(tdb);
		}
		if (rc == MS_EREFUSED)
			r->rep->status = MS_STATUS_REFUSED;
	}
	names_free(&mapped);
	return rc;
}

/*
 * The tables of the selected databases, sorted by database then name, as
 * two parallel lists; the mapping learns them (views' unqualified names).
 */
static int list_source_tables(run *r, names *dbs, names *tables, ms_error *err)
{
	size_t i, j;
	int rc;

	for (i = 0; i < r->dbs.n; i++) {
		names tn = { 0 };

		if ((rc = ms_catalog_list_tables(r->src, r->dbs.v[i], names_add, &tn, err)) < 0) {
			names_free(&tn);
			return rc;
		}
		if (tn.n)
			qsort(tn.v, tn.n, sizeof(char *), cmp_str);
		for (j = 0; j < tn.n; j++)
			if ((rc = names_add(r->dbs.v[i], dbs, err)) < 0 ||
			    (rc = names_add(tn.v[j], tables, err)) < 0) {
				names_free(&tn);
				return rc;
			}
		names_free(&tn);
	}
	return ms_mapping_set_tables(&r->map, (const char *const *)dbs->v,
				     (const char *const *)tables->v, tables->n, err);
}

/*
 * A location rewrite that rewrote nothing is a warning, when this run read
 * every location (no table skipped its partitions as up to date; changing
 * the rules makes every stamp stale, so a new rule is always checked).
 */
static void unmatched_rewrites(run *r)
{
	size_t i;

	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].up_to_date)
			return;
	for (i = 0; i < r->map.nrewrites; i++)
		if (!r->map.rw[i].hits)
			warnf(r, "location rewrite '%s': matches no location in the selected databases",
			      r->map.rw[i].text);
}

/* Phase 4 (or its dry-run twin when r->apply is 0). */
static int pass(run *r, ms_error *err)
{
	size_t i, nviews = 0, *views;
	int rc;

	r->deletes = 0;
	r->done = 0;
	for (i = 0; i < r->dbs.n; i++)
		if ((rc = sync_database(r, r->dbs.v[i], err)) < 0)
			return rc;
	if ((rc = plan_scans(r, err)) < 0)
		return rc;
	for (i = 0; i < r->ntables; i++)
		if (!r->tables[i].is_view &&
		    ((rc = stopped(r, err)) < 0 || (rc = sync_table(r, &r->tables[i], err)) < 0))
			break;
	/* the plan is spent (or abandoned): the source stops reading ahead */
	ms_catalog_plan_scans(r->src, NULL, 0, NULL);
	if (rc < 0)
		return rc;
	if (!(views = view_order(r, &nviews)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < nviews; i++)
		if ((rc = stopped(r, err)) < 0 ||
		    (rc = sync_table(r, &r->tables[views[i]], err)) < 0) {
			free(views);
			return rc;
		}
	free(views);
	if (!r->o->copy)
		return stale_replicas(r, err);
	return 0;
}

int ms_sync(ms_catalog *source, ms_catalog *target, const ms_sync_options *opts,
	    ms_report **report, ms_error *err)
{
	run r;
	names all = { 0 }, sdbs = { 0 }, stables = { 0 };
	const char *refusal = NULL;
	char refusal_buf[512];
	ms_error e2;
	double t0 = now_seconds();
	size_t i;
	int rc, empty_guard, reading = 0;

	memset(&r, 0, sizeof(r));
	r.src = source;
	r.dst = target;
	r.o = opts;
	r.transactional = (ms_catalog_caps(target) & MS_CAP_TRANSACTIONS) != 0;
	r.batch = ms_catalog_max_batch(target) ? ms_catalog_max_batch(target) : DEFAULT_BATCH;
	if (r.batch > DEFAULT_BATCH)
		r.batch = DEFAULT_BATCH;
	if (!(r.rep = calloc(1, sizeof(*r.rep))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	r.rep->dry_run = opts->dry_run;
	if ((rc = ms_mapping_init(&r.map, opts, err)) < 0)
		goto done;

	/* Every read of the source from one point in time (released at done). */
	if ((rc = ms_catalog_read_begin(source, err)) < 0)
		goto done;
	reading = 1;
	/* The selected databases. */
	if ((rc = ms_catalog_list_databases(source, names_add, &all, err)) < 0)
		goto done;
	for (i = 0; i < all.n; i++)
		if (ms_selection_match(opts->databases, all.v[i]) &&
		    (rc = names_add(all.v[i], &r.dbs, err)) < 0)
			goto done;
	if (r.dbs.n)
		qsort(r.dbs.v, r.dbs.n, sizeof(char *), cmp_str);
	implicit_identity(&r);
	ms_selection_unmatched(opts->databases, (const char *const *)all.v, all.n,
			       unmatched_pattern, &r);
	if ((rc = ms_mapping_set_databases(&r.map, (const char *const *)r.dbs.v, r.dbs.n, err)) < 0 ||
	    (rc = check_mapped_databases(&r, &all, err)) < 0)
		goto done;

	/* Phase 1: plan tables. */
	if ((rc = list_source_tables(&r, &sdbs, &stables, err)) < 0)
		goto done;
	for (i = 0; i < stables.n; i++) {
		rc = plan_table(&r, sdbs.v[i], stables.v[i], err);
		if (rc < 0) {
			ms_error_prefix(err, "table '%s.%s': ", sdbs.v[i], stables.v[i]);
			goto done;
		}
	}

	/* Phase 2: the source's integrity, before anything changes. */
	for (i = 0; i < r.ntables; i++) {
		table_plan *tp = &r.tables[i];
		if (tp->skip || tp->up_to_date)
			continue;
		if (tp->have_digest)
			r.total += tp->digest.count;
		if ((rc = ms_catalog_verify_table(source, tp->sdb, tp->st, err)) < 0) {
			if (rc == MS_EINTEGRITY)
				r.rep->status = MS_STATUS_REFUSED;
			goto done;
		}
	}

	/* Phase 3: the delete guards. */
	empty_guard = !opts->allow_empty_source && kept_replicas(&r) == 0;
	if (opts->deletes == MS_DELETES_MIRROR && !opts->copy &&
	    (opts->max_deletes >= 0 || empty_guard)) {
		ms_sync_options quiet = *opts;

		quiet.on_change = NULL;
		r.o = &quiet;
		r.apply = 0;
		ms_error_clear(&e2);
		rc = pass(&r, &e2);
		r.o = opts;
		if (rc < 0) {
			*err = e2;
			goto done;
		}
		if (opts->max_deletes >= 0 && r.deletes > opts->max_deletes) {
			snprintf(refusal_buf, sizeof(refusal_buf),
				 "plan would delete %lld entities, more than --max-deletes %lld",
				 r.deletes, opts->max_deletes);
			refusal = refusal_buf;
		} else if (empty_guard && r.deletes > 0) {
			snprintf(refusal_buf, sizeof(refusal_buf),
				 "plan would delete every replica of '%s' (%lld entities): "
				 "the source has no table to replicate%s; give "
				 "--allow-empty-source if that is meant",
				 ms_catalog_url(source), r.deletes,
				 opts->databases && *opts->databases ? " in the selected databases" : "");
			refusal = refusal_buf;
		}
		/* A plan shows what it would refuse; a run refuses with the counts it would do. */
		if (refusal && !opts->dry_run) {
			rc = ms_error_set(err, MS_EREFUSED, "%s", refusal);
			r.rep->status = MS_STATUS_REFUSED;
			goto done;
		}
		reset_counts(r.rep);
		for (i = 0; i < r.rep->nerrors; i++) {
			free(r.rep->errors[i].entity);
			free(r.rep->errors[i].message);
		}
		r.rep->nerrors = 0;
	}

	/* Phase 4: apply. */
	r.apply = !opts->dry_run;
	r.final = 1;
	if ((rc = pass(&r, err)) < 0)
		goto done;
	unmatched_rewrites(&r);
	if (r.apply && opts->progress)
		opts->progress(r.total > r.done ? r.total : r.done, r.total > r.done ? r.total : r.done,
			       opts->ctx);
	r.rep->status = (r.rep->databases.failed || r.rep->tables.failed ||
			 r.rep->partitions.failed) ? MS_STATUS_PARTIAL : MS_STATUS_OK;
	if (r.rep->status == MS_STATUS_OK && r.apply && (rc = ms_catalog_finish(target, err)) < 0)
		goto done;
	if (refusal) {
		add_error(&r, ms_catalog_url(target), NULL, NULL, refusal);
		r.rep->status = MS_STATUS_REFUSED;
	}
	if (opts->copy && r.rep->status != MS_STATUS_OK) {
		rc = ms_error_set(err, MS_ERROR, "%zu entities could not be copied",
				  r.rep->nerrors ? r.rep->nerrors : 1);
		goto done;
	}
	rc = 0;
done:
	if (reading)
		ms_catalog_read_end(source);
	if (rc < 0 && r.rep->status != MS_STATUS_REFUSED)
		r.rep->status = MS_STATUS_ERROR;
	r.rep->seconds = now_seconds() - t0;
	plans_free(&r);
	names_free(&all);
	names_free(&sdbs);
	names_free(&stables);
	names_free(&r.tdbs);
	names_free(&r.dbs);
	ms_mapping_free(&r.map);
	*report = r.rep;
	return rc;
}
