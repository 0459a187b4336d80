/*
 * The snapshot driver's writer: a new snapshot taken as an empty catalog
 * that only appends.  Each folder streams into part files, hashed and
 * (optionally) gzip-compressed on the way; a batch of partitions is checked
 * whole before any of it is written; finish commits the parts, the
 * per-folder _SUCCESS, manifest.json, the root _SUCCESS and LATEST, in that
 * order, and close removes what an unfinished snapshot wrote.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "snapshot_internal.h"

#define DEFAULT_PART_BYTES ((size_t)64 << 20)

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------------ */
/* Part files: hashed and compressed as they stream                         */

/* Mark the writer broken, keeping the first failure's message for later calls. */
static int writer_fail(snapshot *s, int rc, const ms_error *err)
{
	if (!s->broken && err)
		snprintf(s->broken_why, sizeof(s->broken_why), "%s", err->message);
	s->broken = 1;
	return rc;
}

int snap_note_written(snapshot *s, const char *key, ms_error *err)
{
	if (snap_grow((void **)&s->written, &s->awritten, s->nwritten + 1, sizeof(*s->written)) < 0)
		return oom(err);
	if (!(s->written[s->nwritten] = strdup(key)))
		return oom(err);
	s->nwritten++;
	return 0;
}

static int part_open(snapshot *s, int f, ms_error *err)
{
	part_out *o = &s->out[f];
	char path[128];
	char *key = NULL;
	size_t idx;
	int rc;

	snprintf(path, sizeof(path), "%s/part-%05u.json%s", snap_folder_names[f], o->next,
		 s->gz ? ".gz" : "");
	if (!(key = snap_dup_printf("%s%s", s->prefix, path)))
		return oom(err);
	if ((rc = snap_file_add(s, f, path, key, &idx, err)) < 0)
		goto done;
	o->file = idx;
	o->next++;
	o->nfiles++;
	o->raw = 0;
	o->stored = 0;
	if (!o->sha && !(o->sha = EVP_MD_CTX_new())) {
		rc = oom(err);
		goto done;
	}
	if (EVP_DigestInit_ex(o->sha, EVP_sha256(), NULL) != 1) {
		rc = ms_error_set(err, MS_ERROR, "cannot start sha256");
		goto done;
	}
	if (s->gz) {
		memset(&o->z, 0, sizeof(o->z));
		if (deflateInit2(&o->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			rc = ms_error_set(err, MS_ENOMEM, "cannot start gzip compression");
			goto done;
		}
		o->zinit = 1;
		if (!o->zout && !(o->zout = malloc(GZ_CHUNK))) {
			rc = oom(err);
			goto done;
		}
	}
	rc = ms_store_put_open(s->store, key, &o->w, err);
done:
	free(key);
	return rc;
}

static int part_emit(snapshot *s, part_out *o, const void *data, size_t len, ms_error *err)
{
	int rc;

	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(o->sha, data, len) != 1)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	if ((rc = ms_store_write(o->w, data, len, err)) < 0)
		return rc;
	o->stored += len;
	return 0;
}

/* Hand the pending bytes to the store, compressing them first with gzip. */
static int part_flush(snapshot *s, part_out *o, int finish, ms_error *err)
{
	int rc, zr;

	if (!s->gz) {
		rc = part_emit(s, o, o->pend.ptr, o->pend.len, err);
		ms_buf_reset(&o->pend);
		return rc;
	}
	o->z.next_in = (Bytef *)o->pend.ptr;
	o->z.avail_in = (uInt)o->pend.len;
	do {
		o->z.next_out = o->zout;
		o->z.avail_out = (uInt)GZ_CHUNK;
		zr = deflate(&o->z, finish ? Z_FINISH : Z_NO_FLUSH);
		if (zr == Z_STREAM_ERROR)
			return ms_error_set(err, MS_ERROR, "gzip compression failed");
		if ((rc = part_emit(s, o, o->zout, GZ_CHUNK - o->z.avail_out, err)) < 0)
			return rc;
	} while (finish ? zr != Z_STREAM_END : (o->z.avail_in > 0 || o->z.avail_out == 0));
	ms_buf_reset(&o->pend);
	return 0;
}

/* Finish the open part: flush, record size and hash, commit. */
static int part_close(snapshot *s, int f, ms_error *err)
{
	part_out *o = &s->out[f];
	file_rec *fr = &s->files[o->file];
	unsigned int mdlen = 0;
	ms_store_writer *w;
	int rc;

	if ((rc = part_flush(s, o, 1, err)) < 0)
		return rc;
	if (EVP_DigestFinal_ex(o->sha, fr->sha, &mdlen) != 1 || mdlen != MS_HASH_LEN)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	fr->bytes = o->stored;
	if (o->zinit) {
		deflateEnd(&o->z);
		o->zinit = 0;
	}
	w = o->w;
	o->w = NULL;
	if ((rc = ms_store_commit(w, err)) < 0)
		return rc;
	return snap_note_written(s, fr->key, err);
}

/*
 * Append e as one line to folder f; *file / *offset / *bytes say where it
 * went (for partition spans).
 */
static int emit_line(snapshot *s, int f, const ms_entity *e, size_t *file, uint64_t *offset,
		     uint64_t *bytes, ms_error *err)
{
	part_out *o = &s->out[f];
	int rc;

	ms_buf_reset(&s->line);
	if ((rc = ms_entity_to_line(e, &s->line, err)) < 0)
		return rc;
	if (ms_buf_addc(&s->line, '\n') < 0)
		return ms_error_set(err, MS_ETOOBIG, "a %s line is longer than %zu bytes",
				    ms_kind_name(e->kind), s->line.cap);
	if (o->w && o->raw > 0 && o->raw + s->line.len > s->part_bytes) {
		if ((rc = part_close(s, f, err)) < 0)
			return writer_fail(s, rc, err);
	}
	if (!o->w && (rc = part_open(s, f, err)) < 0)
		return writer_fail(s, rc, err);
	if (ms_buf_add(&o->pend, s->line.ptr, s->line.len) < 0)
		return writer_fail(s, oom(err), err);
	*file = o->file;
	*offset = o->raw;
	*bytes = s->line.len;
	o->raw += s->line.len;
	s->files[o->file].lines++;
	s->counts[f]++;
	if (o->pend.len >= IO_CHUNK && (rc = part_flush(s, o, 0, err)) < 0)
		return writer_fail(s, rc, err);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The slots                                                                */

static int writer_usable(snapshot *s, ms_error *err)
{
	if (s->finished)
		return ms_error_set(err, MS_EINVAL,
				    "snapshot '%s' is finished: nothing more can be written",
				    s->label);
	if (s->broken)
		return ms_error_set(err, MS_EIO, "snapshot '%s' failed earlier: %s", s->label,
				    s->broken_why[0] ? s->broken_why
						     : "nothing more can be written");
	return 0;
}

static int w_list_names(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err)
{
	return 0;
}

static int w_list_tables(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	return 0;
}

static int w_get_database(ms_catalog *self, const char *name, ms_entity **out, ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name, self->url);
}

static int w_get_table(ms_catalog *self, const char *db, const char *name, ms_entity **out,
		       ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, name,
			    self->url);
}

static int w_scan(ms_catalog *self, const char *db, const char *table, unsigned int flags,
		  ms_entity_cb cb, void *ctx, ms_error *err)
{
	return 0;
}

static int w_get_partition(ms_catalog *self, const char *db, const char *table, const char *vkey,
			   ms_entity **out, ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "partition %s of '%s.%s' not found in '%s'", vkey,
			    db, table, self->url);
}

static int w_table_digest(ms_catalog *self, const char *db, const char *table, ms_digest *out,
			  ms_error *err)
{
	ms_digest_init(out);
	return 0;
}

static int w_put_database(ms_catalog *self, const ms_entity *db, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t idx, file;
	uint64_t off, bytes;
	int rc;

	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	if (db->kind != MS_KIND_DATABASE || !db->database)
		return ms_error_set(err, MS_EINVAL, "put_database was given a %s",
				    ms_kind_name(db->kind));
	if (snap_db_find(s, db->database) != NONE)
		return ms_error_set(err, MS_EEXISTS, "database '%s' is already in snapshot '%s'",
				    db->database, s->label);
	if ((rc = emit_line(s, F_DATABASES, db, &file, &off, &bytes, err)) < 0)
		return rc;
	if ((rc = snap_db_add(s, db->database, &idx, err)) < 0)
		return writer_fail(s, rc, err);
	return 0;
}

static int w_put_table(ms_catalog *self, const ms_entity *table, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	ms_entity *copy = NULL;
	size_t idx, file;
	uint64_t off, bytes;
	int rc;

	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	if (table->kind != MS_KIND_TABLE || !table->database || !table->table)
		return ms_error_set(err, MS_EINVAL, "put_table was given a %s",
				    ms_kind_name(table->kind));
	if (snap_db_find(s, table->database) == NONE)
		return ms_error_set(err, MS_ENOTFOUND,
				    "database '%s' of table '%s.%s' is not in snapshot '%s'",
				    table->database, table->database, table->table, s->label);
	if (snap_table_find(s, table->database, table->table) != NONE)
		return ms_error_set(err, MS_EEXISTS, "table '%s.%s' is already in snapshot '%s'",
				    table->database, table->table, s->label);
	if (!table->hashed) {
		if ((rc = ms_entity_dup(&copy, table, err)) < 0 ||
		    (rc = ms_entity_rehash(copy, err)) < 0)
			goto done;
		table = copy;
	}
	if ((rc = emit_line(s, F_TABLES, table, &file, &off, &bytes, err)) < 0)
		goto done;
	if ((rc = snap_table_add(s, table->database, table->table, &idx, err)) < 0) {
		rc = writer_fail(s, rc, err);
		goto done;
	}
	memcpy(s->tables[idx].hash, table->hash, MS_HASH_LEN);
	s->tables[idx].has_hash = 1;
	s->tables[idx].has_digest = 1;
	s->tables[idx].nkeys = ms_table_key_count(table);
	rc = 0;
done:
	ms_entity_free(copy);
	return rc;
}

/* Values in a values key (canonical JSON array of strings). */
static size_t vkey_count(const char *vkey)
{
	size_t n = 0;
	int in = 0;

	for (; *vkey; vkey++) {
		if (in) {
			if (*vkey == '\\' && vkey[1])
				vkey++;
			else if (*vkey == '"')
				in = 0;
		} else if (*vkey == '"') {
			in = 1;
			n++;
		}
	}
	return n;
}

static int cmp_fp(const void *a, const void *b)
{
	return memcmp(a, b, FP_LEN);
}

/*
 * Check a batch for table t before any of it is written, so that a refused
 * batch leaves nothing behind: every partition is one of t, with as many
 * values as t has partition keys (MS_EINVAL), and none has the values of
 * another in the batch or of one already written for t (MS_EEXISTS: the
 * reader would refuse the snapshot).  fps receives the batch's
 * fingerprints.  Values are remembered per table for as long as its
 * partitions are written one batch after another (the engine writes a
 * table's partitions together); when another table's come in between, the
 * table starts afresh.
 */
static int w_check_batch(snapshot *s, table_rec *t, ms_entity *const *parts, size_t n,
			 unsigned char *fps, ms_error *err)
{
	unsigned char *sorted = NULL;
	EVP_MD_CTX *md = NULL;
	size_t i;
	int rc = 0;

	if (!(md = EVP_MD_CTX_new()) || !(sorted = malloc(n * FP_LEN))) {
		rc = oom(err);
		goto done;
	}
	for (i = 0; i < n; i++) {
		const ms_entity *e = parts[i];

		if (!e || e->kind != MS_KIND_PARTITION || !e->database || !e->table || !e->vkey ||
		    strcmp(e->database, t->database) != 0 || strcmp(e->table, t->name) != 0) {
			rc = ms_error_set(err, MS_EINVAL,
					  "put_partitions for '%s.%s' was given a %s of '%s.%s'",
					  t->database, t->name, e ? ms_kind_name(e->kind) : "null",
					  e && e->database ? e->database : "",
					  e && e->table ? e->table : "");
			goto done;
		}
		if ((rc = snap_check_value_count(t, vkey_count(e->vkey), e->vkey, err)) < 0)
			goto done;
		if (snap_fp_vkey(md, e->vkey, fps + i * FP_LEN) < 0) {
			rc = ms_error_set(err, MS_ERROR, "sha256 failed");
			goto done;
		}
		if (snap_fpset_find(&t->seen, fps + i * FP_LEN)) {
			rc = ms_error_set(err, MS_EEXISTS,
					  "partition %.200s of '%s.%s' is already in snapshot '%s'",
					  e->vkey, t->database, t->name, s->label);
			goto done;
		}
	}
	memcpy(sorted, fps, n * FP_LEN);
	qsort(sorted, n, FP_LEN, cmp_fp);
	for (i = 1; i < n; i++)
		if (memcmp(sorted + (i - 1) * FP_LEN, sorted + i * FP_LEN, FP_LEN) == 0) {
			size_t a, b;

			for (a = 0; memcmp(fps + a * FP_LEN, sorted + i * FP_LEN, FP_LEN) != 0; a++)
				;
			for (b = a + 1; memcmp(fps + b * FP_LEN, sorted + i * FP_LEN, FP_LEN) != 0;
			     b++)
				;
			rc = ms_error_set(err, MS_EEXISTS,
					  "partition %.200s of '%s.%s' is given twice in one batch "
					  "(entities %zu and %zu)",
					  parts[b]->vkey, t->database, t->name, a, b);
			goto done;
		}
done:
	free(sorted);
	EVP_MD_CTX_free(md);
	return rc;
}

static int w_put_partitions(ms_catalog *self, const char *db, const char *table,
			    ms_entity *const *parts, size_t n, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	unsigned char *fps = NULL;
	table_rec *t;
	size_t i, ti;
	int rc;

	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	ti = s->cur_table;
	if (ti == NONE || ti >= s->ntables || strcmp(s->tables[ti].database, db) != 0 ||
	    strcmp(s->tables[ti].name, table) != 0)
		ti = snap_table_lookup(s, db, table);
	if (ti == NONE)
		return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' is not in snapshot '%s'", db,
				    table, s->label);
	if (s->cur_table != NONE && s->cur_table != ti)
		snap_fpset_free(&s->tables[s->cur_table].seen);
	s->cur_table = ti;
	t = &s->tables[ti];
	if (n == 0)
		return 0;
	if (!(fps = malloc(n * FP_LEN)))
		return oom(err);
	if ((rc = w_check_batch(s, t, parts, n, fps, err)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		const ms_entity *e = parts[i];
		ms_entity *copy = NULL;
		size_t file;
		uint64_t off, bytes;

		if (snap_fpset_add(&t->seen, fps + i * FP_LEN, 0, 0) < 0) {
			rc = oom(err);
			goto done;
		}
		if (!e->hashed) {
			if ((rc = ms_entity_dup(&copy, e, err)) < 0 ||
			    (rc = ms_entity_rehash(copy, err)) < 0) {
				ms_entity_free(copy);
				goto done;
			}
			e = copy;
		}
		rc = emit_line(s, F_PARTITIONS, e, &file, &off, &bytes, err);
		if (rc == 0) {
			ms_digest_add(&t->digest, e->hash);
			if (snap_span_add(t, file, off, bytes, 1) < 0)
				rc = writer_fail(s, oom(err), err);
		}
		ms_entity_free(copy);
		if (rc < 0)
			goto done;
	}
	rc = 0;
done:
	free(fps);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Finishing and closing                                                    */

/* Point LATEST at this snapshot unless it already names a newer complete one. */
static int update_latest(snapshot *s, ms_error *err)
{
	char *cur = NULL, *key = NULL, *text = NULL;
	size_t len = 0;
	ms_store_stat st;
	ms_error e2;
	int rc;

	if (ms_store_get_bytes(s->store, "LATEST", LATEST_MAX, &cur, &len, &e2) == 0) {
		while (len > 0 && (cur[len - 1] == '\n' || cur[len - 1] == '\r'))
			cur[--len] = '\0';
		if (snap_safe_id(cur) && ms_snapshot_id_cmp(cur, s->id) > 0 &&
		    (key = snap_dup_printf("%s/_SUCCESS", cur)) &&
		    ms_store_stat_key(s->store, key, &st, &e2) == 0) {
			rc = 0;
			goto done;
		}
	}
	if (!(text = snap_dup_printf("%s\n", s->id))) {
		rc = oom(err);
		goto done;
	}
	rc = ms_store_put_bytes(s->store, "LATEST", text, strlen(text), err);
done:
	free(cur);
	free(key);
	free(text);
	return rc;
}

static int w_finish(ms_catalog *self, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	ms_buf m = MS_BUF_INIT(MANIFEST_MAX);
	char *key = NULL;
	int rc, f;

	if (s->finished)
		return 0;
	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	for (f = 0; f < F_COUNT; f++) {
		/* Every folder gets at least one (possibly empty) part, as Spark writes. */
		if (!s->out[f].w && s->out[f].nfiles == 0 && (rc = part_open(s, f, err)) < 0)
			goto done;
		if (s->out[f].w && (rc = part_close(s, f, err)) < 0)
			goto done;
	}
	for (f = 0; f < F_COUNT; f++) {
		free(key);
		if (!(key = snap_dup_printf("%s%s/_SUCCESS", s->prefix, snap_folder_names[f]))) {
			rc = oom(err);
			goto done;
		}
		if ((rc = ms_store_put_bytes(s->store, key, "", 0, err)) < 0 ||
		    (rc = snap_note_written(s, key, err)) < 0)
			goto done;
	}
	if ((rc = snap_write_tombstones(s, err)) < 0 || (rc = snap_build_manifest(s, &m, err)) < 0)
		goto done;
	free(key);
	if (!(key = snap_dup_printf("%smanifest.json", s->prefix))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ms_store_put_bytes(s->store, key, m.ptr, m.len, err)) < 0 ||
	    (rc = snap_note_written(s, key, err)) < 0 ||
	    (rc = snap_manifest_sha256(s, m.ptr, m.len, err)) < 0)
		goto done;
	free(key);
	if (!(key = snap_dup_printf("%s_SUCCESS", s->prefix))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ms_store_put_bytes(s->store, key, "", 0, err)) < 0 ||
	    (rc = snap_note_written(s, key, err)) < 0)
		goto done;
	/*
	 * Complete from here on: if LATEST cannot be updated (or its update is
	 * lost on the way back), the snapshot stays, so that LATEST names either
	 * the previous snapshot or this whole one.
	 */
	s->sealed = 1;
	if ((rc = update_latest(s, err)) < 0)
		goto done;
	s->finished = 1;
	rc = 0;
done:
	if (rc < 0)
		s->broken = 1;
	free(key);
	ms_buf_free(&m);
	return rc;
}

static void w_close(ms_catalog *self)
{
	snapshot *s = (snapshot *)self;
	size_t i;
	int f;

	if (!s->finished && !s->sealed) {
		/*
		 * Nothing of an unfinished snapshot may look complete: undo, newest
		 * first, and stop at the first removal that fails (a remote store may
		 * refuse one), so that what stays is always everything written before
		 * it: a _SUCCESS is never left without the files it vouches for.
		 */
		for (f = 0; f < F_COUNT; f++)
			snap_part_out_free(&s->out[f]);
		for (i = s->nwritten; i-- > 0;) {
			ms_error e2;
			int rc = ms_store_remove(s->store, s->written[i], &e2);

			if (rc < 0 && rc != MS_ENOTFOUND)
				break;
		}
	}
	snap_free(s);
}

/* ------------------------------------------------------------------------ */
/* The table, and opening a new snapshot                                    */

const ms_catalog_driver snap_writer_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "snapshot",
	.caps = MS_CAP_WRITE | MS_CAP_RAW_INPUT,
	.max_batch = 0,
	/* required; frees the instance; unfinished: aborts and removes what it wrote */
	.close = w_close,
	/* a new snapshot is an empty catalog: yields nothing, returns 0 */
	.list_databases = w_list_names,
	/* always MS_ENOTFOUND */
	.get_database = w_get_database,
	/* appends one line (db borrowed); MS_EEXISTS when written twice, MS_EIO */
	.put_database = w_put_database,
	/* an incremental snapshot's tombstone; MS_ENOTSUPPORTED in a full one */
	.delete_database = snap_w_delete_database,
	/* yields nothing, returns 0 */
	.list_tables = w_list_tables,
	/* always MS_ENOTFOUND */
	.get_table = w_get_table,
	/* appends one line (borrowed); MS_ENOTFOUND its database unwritten, MS_EEXISTS, MS_EIO */
	.put_table = w_put_table,
	/* an incremental snapshot's tombstone; MS_ENOTSUPPORTED in a full one */
	.delete_table = snap_w_delete_table,
	/* yields nothing, returns 0 */
	.scan_partitions = w_scan,
	/* always MS_ENOTFOUND */
	.get_partition = w_get_partition,
	/* appends lines (borrowed), records spans and digest; checks the batch first and
	 * writes none of it when refused: MS_ENOTFOUND table unwritten, MS_EINVAL a
	 * partition of another table or with a wrong number of values, MS_EEXISTS values
	 * written before for the table (or twice in the batch), MS_EIO */
	.put_partitions = w_put_partitions,
	/* an incremental snapshot's tombstones; MS_ENOTSUPPORTED in a full one */
	.delete_partitions = snap_w_delete_partitions,
	/* count 0, sum 0: nothing is in the target yet */
	.table_digest = w_table_digest,
	/* NULL: nothing to verify in a snapshot being written (the core returns 0) */
	.verify_table = NULL,
	/* NULL: not transactional (the core returns 0); finish is the commit */
	.begin = NULL,
	/* NULL */
	.commit = NULL,
	/* NULL */
	.rollback = NULL,
	/* NULL: no change feed (MS_ENOTSUPPORTED) */
	.changes_since = NULL,
	/* required to publish: commits the parts, per-folder _SUCCESS, manifest.json, _SUCCESS,
	 * then LATEST; idempotent once done; MS_EIO, MS_ETOOBIG (manifest) */
	.finish = w_finish,
	/* once finished: id, url, manifest SHA-256, counts */
	.snapshot_info = snap_info,
};

int snap_open_writer(snapshot *s, const ms_url *url, const ms_open_options *opts, ms_error *err)
{
	char *text = NULL;
	time_t now = time(NULL);
	struct tm tm;
	char base[32];
	int rc, i;

	if (opts->compress && opts->compress[0] && strcmp(opts->compress, "gzip") != 0 &&
	    strcmp(opts->compress, "none") != 0)
		return ms_error_set(err, MS_EINVAL, "unknown compression '%s' (use gzip or none)",
				    opts->compress);
	s->gz = opts->compress && strcmp(opts->compress, "gzip") == 0;
	s->part_bytes = opts->part_bytes ? opts->part_bytes : DEFAULT_PART_BYTES;
	s->cur_table = NONE;
	ms_buf_init(&s->line, LINE_MAX_BYTES);
	for (i = 0; i < F_COUNT; i++)
		ms_buf_init(&s->out[i].pend, LINE_MAX_BYTES + IO_CHUNK);
	if (opts->source_url && !(s->source_url = ms_url_redact(opts->source_url)))
		return oom(err);
	if (opts->source_instance && !(s->source_instance = strdup(opts->source_instance)))
		return oom(err);
	if (opts->source_catalog_id && !(s->source_catalog_id = strdup(opts->source_catalog_id)))
		return oom(err);
	if (opts->selection && !(s->base.selection = strdup(opts->selection)))
		return oom(err);
	if ((rc = snap_incr_open(s, opts, err)) < 0)
		return rc;
	if (!(text = snap_store_url_text(url)))
		return oom(err);
	rc = ms_store_open(&s->store, text, err);
	free(text);
	if (rc < 0)
		return rc;
	gmtime_r(&now, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d-%H-%M-%S", &tm);
	strftime(s->created, sizeof(s->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (i = 0; i < 1000; i++) {
		free(s->id);
		free(s->prefix);
		s->id = i ? snap_dup_printf("%s-%d", base, i) : strdup(base);
		s->prefix = s->id ? snap_dup_printf("%s/", s->id) : NULL;
		if (!s->id || !s->prefix)
			return oom(err);
		if ((rc = snap_prefix_used(s->store, s->prefix, err)) < 0)
			return rc;
		/* held until closed, so that no one takes it for abandoned (store gc) */
		if (rc == 0 && (rc = ms_store_lock(s->store, s->prefix, MS_STORE_LOCK_WRITER, NULL,
						   0, err)) >= 0)
			break;
		if (rc < 0 && rc != MS_ECONFLICT)
			return rc; /* MS_ECONFLICT: another export took this name just now */
	}
	if (i == 1000)
		return ms_error_set(err, MS_EEXISTS, "no free snapshot name for '%s' in '%s'", base,
				    ms_store_url(s->store));
	if (!(s->label = snap_join_label(ms_store_url(s->store), s->id)))
		return oom(err);
	return 0;
}
