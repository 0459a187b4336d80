/*
 * The snapshot driver's reader: a loaded snapshot served as a read-only
 * catalog.  Databases and tables come from memory; partitions are streamed
 * from their spans in the part files, through a parse-ahead thread for
 * large tables, and only from files that verify_table has checked against
 * the manifest (size, SHA-256, line count, every partition line).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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
/* Databases and tables: from memory                                        */

static int r_list_databases(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t i;
	int rc;

	/* an incremental snapshot names every database of its source, holding only some */
	if (s->incr.incremental)
		return snap_incr_list_databases(s, cb, ctx, err);
	for (i = 0; i < s->ndbs; i++)
		if ((rc = cb(s->dbs[i].name, ctx, err)) != 0)
			return rc;
	return 0;
}

static int r_get_database(ms_catalog *self, const char *name, ms_entity **out, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t i = snap_db_lookup(s, name);

	if (i == NONE)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name,
				    s->label);
	return ms_entity_dup(out, s->dbs[i].entity, err);
}

/* First index in the (sorted) tables of database db. */
static size_t tables_lower_bound(const snapshot *s, const char *db)
{
	size_t lo = 0, hi = s->ntables;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->tables[mid].database, db) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int r_list_tables(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t di = snap_db_lookup(s, db), i;
	int rc;

	if (s->incr.incremental)
		return snap_incr_list_tables(s, db, cb, ctx, err);
	if (di == NONE)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", db,
				    s->label);
	for (i = tables_lower_bound(s, s->dbs[di].name);
	     i < s->ntables && strcmp(s->tables[i].database, s->dbs[di].name) == 0; i++)
		if ((rc = cb(s->tables[i].name, ctx, err)) != 0)
			return rc;
	return 0;
}

static int table_not_found(const snapshot *s, const char *db, const char *table, ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, table,
			    s->label);
}

static int r_get_table(ms_catalog *self, const char *db, const char *name, ms_entity **out,
		       ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t i = snap_table_lookup(s, db, name);

	if (i == NONE)
		return table_not_found(s, db, name, err);
	return ms_entity_dup(out, s->tables[i].entity, err);
}

int snap_integrity(const snapshot *s, const file_rec *f, ms_error *err, const char *what)
{
	return ms_error_set(err, MS_EINTEGRITY, "snapshot '%s' file '%s' %s", s->label, f->path,
			    what);
}

/* ------------------------------------------------------------------------ */
/* Verifying a table's partition files                                      */

static int cmp_owner(const void *a, const void *b)
{
	const line_owner *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* s->owners: every span of every table, sorted by file and offset. */
static int owners_build(snapshot *s, ms_error *err)
{
	size_t i, j, n = 0;

	for (i = 0; i < s->ntables; i++)
		n += s->tables[i].nspans;
	if (!(s->owners = malloc((n ? n : 1) * sizeof(*s->owners))))
		return oom(err);
	for (i = 0; i < s->ntables; i++)
		for (j = 0; j < s->tables[i].nspans; j++) {
			const span *sp = &s->tables[i].spans[j];
			line_owner *o = &s->owners[s->nowners++];

			o->file = sp->file;
			o->offset = sp->offset;
			o->end = sp->offset + sp->bytes;
			o->table = i;
		}
	qsort(s->owners, s->nowners, sizeof(*s->owners), cmp_owner);
	return 0;
}

/* The spans in file fi: s->owners[*lo, *hi). */
static void owners_of(const snapshot *s, size_t fi, size_t *lo, size_t *hi)
{
	size_t a = 0, b = s->nowners;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (s->owners[mid].file < fi)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (a < s->nowners && s->owners[a].file == fi)
		a++;
	*hi = a;
}

/*
 * Once every file a table's spans touch is verified, all its lines have been
 * checked: its set of values is no longer needed.
 */
static void release_checked(snapshot *s, size_t lo, size_t hi)
{
	size_t o, j;

	for (o = lo; o < hi; o++) {
		table_rec *t = &s->tables[s->owners[o].table];

		if (!t->seen.slots)
			continue;
		for (j = 0; j < t->nspans && s->files[t->spans[j].file].state == 1; j++)
			;
		if (j == t->nspans)
			snap_fpset_free(&t->seen);
	}
}

/*
 * 1 when every peeked value (unescaped, so its bytes are its text) is as
 * long as Glue's ValueString allows: not empty, and in bytes (never fewer
 * than its characters) at most MS_VALUE_MAX.  Other values go to the
 * parser, which decides and names what is wrong.
 */
static int values_fit(const ms_line_values *lv)
{
	size_t i;

	for (i = 0; i < lv->n; i++)
		if (lv->len[i] == 0 || lv->len[i] > MS_VALUE_MAX)
			return 0;
	return 1;
}

/*
 * Check one partition line of table t while its file is verified: the
 * values by a peek when the line allows it, else by parsing the line (which
 * also names what is wrong).  A bad line is kept on its table, for
 * verify_table of that table to report; lines of a table already found bad
 * are not looked at.  0, or < 0 when the file cannot be checked on.
 */
static int verify_line(snapshot *s, size_t fi, table_rec *t, const char *line, size_t len,
		       uint64_t lineno, EVP_MD_CTX *md, ms_error *err)
{
	ms_line_values lv;
	unsigned char fp[FP_LEN];
	ms_entity *e = NULL;
	ms_error lerr;
	size_t n = 0;
	int rc;

	if (t->bad)
		return 0;
	if (ms_line_values_peek(line, len, &lv) == 1) {
		if ((rc = snap_fp_peeked(md, &lv, fp, err)) < 0)
			return rc;
		if (lv.n > 0 && (t->nkeys < 0 || lv.n == (size_t)t->nkeys) && values_fit(&lv) &&
		    !snap_fpset_find(&t->seen, fp))
			return snap_fpset_add(&t->seen, fp, fi, lineno) < 0 ? oom(err) : 0;
	}
	/* The slow path: parse, so that the message names the values. */
	ms_error_clear(&lerr);
	rc = ms_entity_from_line(&e, line, len, MS_KIND_PARTITION, &lerr);
	if (rc == 0 && (rc = snap_fp_parsed(md, e, fp, &n, &lerr)) == 0)
		rc = snap_check_part_line(s, t, n, fp, e->vkey, fi, lineno, &lerr);
	ms_entity_free(e);
	if (rc == 0)
		return 0;
	if (rc != MS_EINVAL && rc != MS_ETOOBIG) {
		if (err)
			*err = lerr;
		return rc;
	}
	ms_error_prefix(&lerr, "snapshot '%s' file '%s' line %llu: ", s->label, s->files[fi].path,
			(unsigned long long)lineno);
	if (!(t->bad = malloc(sizeof(*t->bad))))
		return oom(err);
	*t->bad = lerr;
	return 0;
}

/*
 * Verify a partition file against the manifest, once (the result is
 * cached): its size and SHA-256, its line count, and every partition line
 * (see verify_line).  A file that does not match the manifest is refused
 * before anything read from its text (MS_EINTEGRITY).
 */
static int verify_file(snapshot *s, size_t fi, ms_error *err)
{
	file_rec *f = &s->files[fi];
	EVP_MD_CTX *md = NULL;
	unsigned char sum[MS_HASH_LEN];
	unsigned int sumlen = 0;
	uint64_t lineno = 0, lines = 0;
	size_t lo, hi, o;
	ms_error ferr;
	int rc, unreadable = 0;
	lsrc l;

	memset(&l, 0, sizeof(l));
	if (f->state == 1)
		return 0;
	if (f->state == -1)
		return snap_integrity(s, f, err, "does not match its sha256 in manifest.json");
	if (f->state == -2) {
		if (err)
			*err = *f->unread;
		return f->unread->code;
	}
	if (!s->owners && (rc = owners_build(s, err)) < 0)
		return rc;
	owners_of(s, fi, &lo, &hi);
	if (!(md = EVP_MD_CTX_new())) {
		rc = oom(err);
		goto done;
	}
	if ((rc = snap_lsrc_open(&l, s->fstore[f->folder], f->key, f->path, f->gz, 1, err)) < 0)
		goto done;
	for (o = lo;;) {
		const char *line;
		size_t len;
		uint64_t loff;

		ms_error_clear(&ferr);
		if ((rc = snap_lsrc_line(&l, &line, &len, &loff, &ferr)) < 0) {
			/* Bad gzip, an endless line: said only if the bytes are the manifest's. */
			unreadable = 1;
			if ((rc = snap_lsrc_drain(&l, err)) < 0)
				goto done;
			break;
		}
		if (rc == 0)
			break;
		lineno++;
		if (snap_is_blank(line, len))
			continue;
		lines++;
		while (o < hi && s->owners[o].end <= loff)
			o++;
		if (o < hi && s->owners[o].offset <= loff &&
		    (rc = verify_line(s, fi, &s->tables[s->owners[o].table], line, len, lineno, md,
				      err)) < 0)
			goto done;
	}
	if (EVP_DigestFinal_ex(l.sha, sum, &sumlen) != 1) {
		rc = ms_error_set(err, MS_ERROR, "sha256 failed");
		goto done;
	}
	if (l.stored != f->bytes || memcmp(sum, f->sha, MS_HASH_LEN) != 0) {
		f->state = -1;
		rc = l.stored != f->bytes
			     ? ms_error_set(err, MS_EINTEGRITY,
					    "snapshot '%s' file '%s' is %llu bytes, manifest says "
					    "%llu",
					    s->label, f->path, (unsigned long long)l.stored,
					    (unsigned long long)f->bytes)
			     : snap_integrity(s, f, err,
					      "does not match its sha256 in manifest.json");
		goto done;
	}
	if (unreadable) {
		ms_error_prefix(&ferr, "snapshot '%s': ", s->label);
		if (err)
			*err = ferr;
		rc = ferr.code;
		goto done;
	}
	if (lines != f->lines) {
		f->state = -1;
		rc = snap_integrity(s, f, err, "does not hold as many lines as manifest.json says");
		goto done;
	}
	f->state = 1;
	release_checked(s, lo, hi);
	rc = 0;
done:
	/*
	 * Lines already checked are remembered in their tables: reading the file
	 * again would find them twice.  The failure stays the file's answer.
	 */
	if (rc < 0 && f->state == 0 && lineno > 0 && (f->unread = malloc(sizeof(*f->unread)))) {
		if (err)
			*f->unread = *err;
		else
			ms_error_set(f->unread, rc, "file '%s' could not be read", f->path);
		f->unread->code = rc;
		f->state = -2;
	}
	snap_lsrc_close(&l);
	EVP_MD_CTX_free(md);
	return rc;
}

static int r_verify_table(ms_catalog *self, const char *db, const char *table, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = snap_table_lookup(s, db, table), i;
	int rc;

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	for (i = 0; i < s->tables[ti].nspans; i++)
		if ((rc = verify_file(s, s->tables[ti].spans[i].file, err)) < 0)
			return rc;
	if (s->tables[ti].bad) {
		if (err)
			*err = *s->tables[ti].bad;
		return s->tables[ti].bad->code;
	}
	return 0;
}

static int r_table_digest(ms_catalog *self, const char *db, const char *table, ms_digest *out,
			  ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = snap_table_lookup(s, db, table);

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	if (!s->tables[ti].has_digest)
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "snapshot '%s' records no partition sum for '%s.%s'", s->label,
				    s->tables[ti].database, s->tables[ti].name);
	*out = s->tables[ti].digest;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Scanning a table's partitions                                            */

/* Read every partition line of table ti, parse it and hand it to cb. */
static int scan_lines(snapshot *s, size_t ti, ms_entity_cb cb, void *ctx, ms_error *err)
{
	const table_rec *t = &s->tables[ti];
	lsrc l;
	size_t i, cur = NONE;
	int rc = 0, open = 0;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < t->nspans; i++) {
		const span *sp = &t->spans[i];
		const file_rec *f = &s->files[sp->file];
		uint64_t end = sp->offset + sp->bytes, n = 0;

		if (f->state != 1) {
			rc = snap_integrity(s, f, err,
					    f->state == -1
						    ? "does not match its sha256 in manifest.json"
						    : "has not been verified (verify_table first)");
			goto done;
		}
		if (open && (cur != sp->file || l.off > sp->offset)) {
			snap_lsrc_close(&l);
			open = 0;
		}
		if (!open) {
			open = 1;
			if ((rc = snap_lsrc_open(&l, s->fstore[f->folder], f->key, f->path, f->gz,
						 0, err)) < 0)
				goto done;
			cur = sp->file;
		}
		if ((rc = snap_lsrc_seek(&l, sp->offset, err)) < 0)
			goto done;
		while (l.off < end) {
			const char *line;
			size_t len;
			uint64_t loff;
			ms_entity *e = NULL;

			if ((rc = snap_lsrc_line(&l, &line, &len, &loff, err)) < 0)
				goto done;
			if (rc == 0 || l.off > end) {
				rc = snap_integrity(s, f, err,
						    "does not hold the lines its index says");
				goto done;
			}
			if (snap_is_blank(line, len))
				continue;
			if ((rc = ms_entity_from_line(&e, line, len, MS_KIND_PARTITION, err)) < 0) {
				ms_error_prefix(err, "file '%s' at byte %llu: ", f->path,
						(unsigned long long)loff);
				goto done;
			}
			if (strcmp(e->database, t->database) != 0 ||
			    strcmp(e->table, t->name) != 0) {
				rc = ms_error_set(err, MS_EINTEGRITY,
						  "snapshot '%s' file '%s' at byte %llu holds a "
						  "partition of '%s.%s', not of '%s.%s'",
						  s->label, f->path, (unsigned long long)loff,
						  e->database, e->table, t->database, t->name);
				ms_entity_free(e);
				goto done;
			}
			n++;
			if ((rc = cb(e, ctx, err)) != 0)
				goto done;
		}
		if (n != sp->lines) {
			rc = snap_integrity(s, f, err, "does not hold the lines its index says");
			goto done;
		}
	}
	rc = 0;
done:
	if (open)
		snap_lsrc_close(&l);
	return rc;
}

/*
 * Parse-ahead: for large tables a reader thread parses lines into batches
 * while the caller's thread consumes them (parsing is half of an import's
 * CPU time, writing the target the other half).  A bounded ring of batches
 * keeps memory flat; a consumer that stops early makes the reader stop too.
 */
#define PIPE_MIN_LINES 4096
#define PIPE_BATCH 256
#define PIPE_SLOTS 8

typedef struct pipe_batch {
	ms_entity *v[PIPE_BATCH];
	size_t n;
} pipe_batch;

typedef struct pipe_state {
	snapshot *s;
	size_t ti;
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_take;
	pipe_batch slots[PIPE_SLOTS];
	size_t head, count; /* ring of full batches */
	pipe_batch fill;    /* the reader's batch being filled */
	int done, stop, rc;
	ms_error err; /* the reader's error */
} pipe_state;

static int pipe_push(pipe_state *p)
{
	int stop;

	pthread_mutex_lock(&p->mu);
	while (p->count == PIPE_SLOTS && !p->stop)
		pthread_cond_wait(&p->can_put, &p->mu);
	stop = p->stop;
	if (!stop) {
		p->slots[(p->head + p->count) % PIPE_SLOTS] = p->fill;
		p->count++;
		pthread_cond_signal(&p->can_take);
	}
	pthread_mutex_unlock(&p->mu);
	if (stop) {
		for (size_t i = 0; i < p->fill.n; i++)
			ms_entity_free(p->fill.v[i]);
	}
	p->fill.n = 0;
	return stop;
}

static int pipe_collect(ms_entity *e, void *ctx, ms_error *err)
{
	pipe_state *p = ctx;

	p->fill.v[p->fill.n++] = e;
	if (p->fill.n == PIPE_BATCH && pipe_push(p))
		return 1; /* the consumer stopped: end quietly */
	return 0;
}

static void *pipe_reader(void *arg)
{
	pipe_state *p = arg;
	int rc;

	ms_error_clear(&p->err);
	rc = scan_lines(p->s, p->ti, pipe_collect, p, &p->err);
	if (rc == 0 && p->fill.n)
		pipe_push(p);
	for (size_t i = 0; i < p->fill.n; i++)
		ms_entity_free(p->fill.v[i]);
	p->fill.n = 0;
	pthread_mutex_lock(&p->mu);
	p->rc = rc < 0 ? rc : 0;
	p->done = 1;
	pthread_cond_signal(&p->can_take);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int scan_pipelined(snapshot *s, size_t ti, ms_entity_cb cb, void *ctx, ms_error *err)
{
	pipe_state *p = calloc(1, sizeof(*p));
	pthread_t th;
	pipe_batch b;
	int rc = 0;

	if (!p)
		return oom(err);
	p->s = s;
	p->ti = ti;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->can_put, NULL);
	pthread_cond_init(&p->can_take, NULL);
	if (pthread_create(&th, NULL, pipe_reader, p) != 0) {
		free(p);
		return scan_lines(s, ti, cb, ctx, err);
	}
	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		while (p->count == 0 && !p->done)
			pthread_cond_wait(&p->can_take, &p->mu);
		if (p->count == 0) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		b = p->slots[p->head];
		p->head = (p->head + 1) % PIPE_SLOTS;
		p->count--;
		pthread_cond_signal(&p->can_put);
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < b.n && rc == 0; i++)
			rc = cb(b.v[i], ctx, err);
		for (; i < b.n; i++)
			ms_entity_free(b.v[i]);
		if (rc != 0)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->can_put);
	pthread_mutex_unlock(&p->mu);
	pthread_join(th, NULL);
	/* Batches the consumer never took. */
	while (p->count) {
		b = p->slots[p->head];
		p->head = (p->head + 1) % PIPE_SLOTS;
		p->count--;
		for (size_t i = 0; i < b.n; i++)
			ms_entity_free(b.v[i]);
	}
	if (rc == 0 && p->rc < 0) {
		*err = p->err;
		rc = p->rc;
	}
	pthread_cond_destroy(&p->can_put);
	pthread_cond_destroy(&p->can_take);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return rc;
}

/* Stream every partition of table ti to cb, reading its spans. */
static int scan_table(snapshot *s, size_t ti, ms_entity_cb cb, void *ctx, ms_error *err)
{
	const table_rec *t = &s->tables[ti];
	uint64_t lines = 0;

	/* A table verify found a bad line in is never read from. */
	if (t->bad) {
		if (err)
			*err = *t->bad;
		return t->bad->code;
	}
	for (size_t i = 0; i < t->nspans; i++)
		lines += t->spans[i].lines;
	if (lines >= PIPE_MIN_LINES)
		return scan_pipelined(s, ti, cb, ctx, err);
	return scan_lines(s, ti, cb, ctx, err);
}

static int r_scan(ms_catalog *self, const char *db, const char *table, unsigned int flags,
		  ms_entity_cb cb, void *ctx, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = snap_table_lookup(s, db, table);

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	return scan_table(s, ti, cb, ctx, err);
}

typedef struct find_ctx {
	const char *vkey;
	ms_entity *found;
} find_ctx;

static int find_cb(ms_entity *e, void *ctx, ms_error *err)
{
	find_ctx *fc = ctx;

	if (e->vkey && strcmp(e->vkey, fc->vkey) == 0) {
		fc->found = e;
		return 1;
	}
	ms_entity_free(e);
	return 0;
}

static int r_get_partition(ms_catalog *self, const char *db, const char *table, const char *vkey,
			   ms_entity **out, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = snap_table_lookup(s, db, table);
	find_ctx fc = { vkey, NULL };
	int rc;

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	/* A point read verifies what it reads itself; scans leave that to the caller. */
	if ((rc = r_verify_table(self, db, table, err)) < 0)
		return rc;
	rc = scan_table(s, ti, find_cb, &fc, err);
	if (rc < 0) {
		ms_entity_free(fc.found);
		return rc;
	}
	if (!fc.found)
		return ms_error_set(err, MS_ENOTFOUND, "partition %s of '%s.%s' not found in '%s'",
				    vkey, db, table, s->label);
	*out = fc.found;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */

static void r_close(ms_catalog *self)
{
	snap_free((snapshot *)self);
}

const ms_catalog_driver snap_reader_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "snapshot",
	/* reads touch nothing but the index built at open and readers of their own */
	.caps = MS_CAP_PARALLEL_READS,
	.max_batch = 0,
	/* required; frees everything */
	.close = r_close,
	/* names in byte order, from memory; returns the callback's non-zero */
	.list_databases = r_list_databases,
	/* *out new (a copy); MS_ENOTFOUND */
	.get_database = r_get_database,
	/* NULL: a snapshot is read-only (MS_ENOTSUPPORTED) */
	.put_database = NULL,
	/* NULL */
	.delete_database = NULL,
	/* names in byte order; MS_ENOTFOUND when the database is absent */
	.list_tables = r_list_tables,
	/* *out new (a copy); MS_ENOTFOUND */
	.get_table = r_get_table,
	/* NULL */
	.put_table = NULL,
	/* NULL */
	.delete_table = NULL,
	/* entities stolen by cb, in file order; MS_ENOTFOUND, MS_EINTEGRITY for a file that
	 * verify_table has not passed, MS_EINVAL for a bad line, MS_EIO */
	.scan_partitions = r_scan,
	/* *out new; verifies the table's files, then scans; MS_ENOTFOUND, MS_EINTEGRITY */
	.get_partition = r_get_partition,
	/* NULL */
	.put_partitions = NULL,
	/* NULL */
	.delete_partitions = NULL,
	/* from manifest.json or the index built at open; MS_ENOTFOUND, MS_ENOTSUPPORTED when
	 * a manifest records no "sum" */
	.table_digest = r_table_digest,
	/* size, SHA-256 and line count of every file the table's spans touch, and every
	 * partition line in them (values against the table's keys, each values once),
	 * once per file, cached; MS_ENOTFOUND, MS_EINTEGRITY, MS_EINVAL a bad line of
	 * this table (file and line named), MS_EIO */
	.verify_table = r_verify_table,
	/* NULL: nothing to make atomic in a read-only catalog */
	.begin = NULL,
	/* NULL */
	.commit = NULL,
	/* NULL */
	.rollback = NULL,
	/* NULL: no change feed */
	.changes_since = NULL,
	/* NULL: nothing to finish (the core returns 0) */
	.finish = NULL,
	/* id, url, manifest SHA-256 (empty for a utility export), counts */
	.snapshot_info = snap_info,
	/* an incremental snapshot: its entities as puts, its tombstones as deletes */
	.snapshot_changes = snap_r_changes,
};
