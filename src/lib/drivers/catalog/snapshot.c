/*
 * The snapshot catalog: a snapshot on a store, read or written as if it were
 * a catalog, so that export is copy(live -> snapshot writer) and import is
 * copy(snapshot reader -> live) in the one engine.  The layout is the AWS
 * Glue migration utility's (databases/, tables/, partitions/ folders of JSON
 * Lines part files and a _SUCCESS per folder) plus metasync's own
 * manifest.json, a root _SUCCESS and a LATEST pointer, so that the utility
 * can read what metasync writes and metasync can read what the utility
 * writes (without a manifest, only on request, after every line is checked).
 *
 * Everything goes through the ms_store API, so the same code serves a local
 * directory and, later, S3.  A reader trusts nothing it has not verified:
 * the manifest's paths are checked before use, every file's size is checked
 * at open, the database and table files are hashed at open, and each
 * table's partition files are hashed by verify_table before a scan may read
 * them.  Partition lines are checked before anything is imported from them
 * (at open without a manifest, by verify_table with one): as many values as
 * the table has partition keys, and no values twice in one table.  The
 * writer hashes and (optionally) compresses while it streams, writes no
 * partition its reader would refuse, and makes a snapshot visible only at
 * the end: parts, per-folder _SUCCESS, manifest.json, root _SUCCESS, then
 * LATEST.
 *
 * This file opens either side and holds what both share; snapshot_write.c
 * is the writer, snapshot_load.c opens a snapshot for reading and
 * snapshot_read.c serves it, snapshot_manifest.c builds and parses
 * manifest.json, snapshot_lines.c reads a part file line by line,
 * snapshot_index.c keeps the records and their name maps and
 * snapshot_check.c the partition checks (snapshot_internal.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "snapshot_internal.h"

int ms_snapshot_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			     ms_error *err);

const char *const snap_folder_names[F_COUNT] = { "databases", "tables", "partitions" };

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

int snap_grow(void **arr, size_t *alloc, size_t need, size_t size)
{
	size_t na;
	void *p;

	if (need <= *alloc)
		return 0;
	na = *alloc ? *alloc : 16;
	while (na < need)
		na *= 2;
	p = realloc(*arr, na * size);
	if (!p)
		return MS_ENOMEM;
	*arr = p;
	*alloc = na;
	return 0;
}

char *snap_dup_printf(const char *fmt, ...)
{
	ms_buf b = MS_BUF_INIT((size_t)1 << 20);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ms_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* "BASE/NAME" (new) without doubling a trailing slash of BASE. */
char *snap_join_label(const char *base, const char *name)
{
	size_t n = strlen(base);

	return snap_dup_printf("%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", name);
}

/* Fold an ASCII name to lowercase into dst; -1 if it does not fit. */
int snap_fold(char *dst, size_t cap, const char *src)
{
	size_t i, n = strlen(src);

	if (n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[n] = '\0';
	return 0;
}

int snap_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------------------ */
/* Common instance management                                               */

void snap_part_out_free(part_out *o)
{
	if (o->w)
		ms_store_abort(o->w);
	o->w = NULL;
	if (o->zinit)
		deflateEnd(&o->z);
	o->zinit = 0;
	EVP_MD_CTX_free(o->sha);
	o->sha = NULL;
	ms_buf_free(&o->pend);
	free(o->zout);
	o->zout = NULL;
}

void snap_free(snapshot *s)
{
	size_t i;
	int f;

	for (f = 0; f < F_COUNT; f++) {
		snap_part_out_free(&s->out[f]);
		if (s->fstore_owned[f])
			ms_store_close(s->fstore[f]);
	}
	ms_store_close(s->store);
	for (i = 0; i < s->ndbs; i++) {
		free(s->dbs[i].name);
		ms_entity_free(s->dbs[i].entity);
	}
	free(s->dbs);
	for (i = 0; i < s->ntables; i++) {
		free(s->tables[i].database);
		free(s->tables[i].name);
		ms_entity_free(s->tables[i].entity);
		free(s->tables[i].spans);
		snap_fpset_free(&s->tables[i].seen);
		free(s->tables[i].bad);
	}
	free(s->tables);
	free(s->owners);
	for (i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].key);
		free(s->files[i].unread);
	}
	free(s->files);
	snap_map_free(&s->dbmap);
	snap_map_free(&s->tmap);
	for (i = 0; i < s->nwritten; i++)
		free(s->written[i]);
	free(s->written);
	free(s->prefix);
	free(s->label);
	free(s->id);
	free(s->manifest_id);
	free(s->manifest_created);
	free(s->source_url);
	free(s->source_catalog_id);
	free(s->source_instance);
	snap_incr_free(&s->incr);
	ms_buf_free(&s->line);
	ms_catalog_base_free(&s->base);
	free(s);
}

/* The text to open the store at url with (the catalog's query is not the store's). */
char *snap_store_url_text(const ms_url *url)
{
	ms_buf b = MS_BUF_INIT((size_t)64 << 10);
	size_t i;
	int rc;

	if (strcmp(url->scheme, "file") == 0 && strncmp(url->redacted, "file:", 5) != 0)
		return strdup(url->raw_rest);
	rc = ms_buf_printf(&b, "%s:%s", url->scheme, url->raw_rest);
	/* A remote store's own parameters (region, endpoint...) go with it. */
	for (i = 0; rc == 0 && strcmp(url->scheme, "file") != 0 && i < url->nparams; i++) {
		const char *p;

		if (strcmp(url->params[i].key, "catalog-id") == 0)
			continue;
		rc = ms_buf_printf(&b, "%c%s=", b.ptr && strchr(b.ptr, '?') ? '&' : '?',
				   url->params[i].key);
		for (p = url->params[i].value; rc == 0 && *p; p++)
			rc = strchr("%&#?+ ", *p) ? ms_buf_printf(&b, "%%%02X", (unsigned char)*p)
						  : ms_buf_addc(&b, *p);
	}
	if (rc < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* Callback for prefix probes: stop at the first key. */
static int probe_cb(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	(void)key;
	(void)st;
	(void)ctx;
	(void)err;
	return 1;
}

/* 1 if some key starts with prefix, 0 if none, < 0 on error. */
int snap_prefix_used(ms_store *st, const char *prefix, ms_error *err)
{
	int rc = ms_store_list(st, prefix, probe_cb, NULL, err);

	return rc < 0 ? rc : (rc > 0 ? 1 : 0);
}

/* ------------------------------------------------------------------------ */
/* Snapshot ids and what a snapshot tells of itself                         */

/* catalog.h: the timestamp, then the numeric "-N" suffix. */
int ms_snapshot_id_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned long sa = 0, sb = 0;
	int c;

	if (la < 19 || lb < 19)
		return strcmp(a, b);
	c = strncmp(a, b, 19);
	if (c)
		return c;
	if (la > 20 && a[19] == '-')
		sa = strtoul(a + 20, NULL, 10) + 1;
	if (lb > 20 && b[19] == '-')
		sb = strtoul(b + 20, NULL, 10) + 1;
	return sa < sb ? -1 : sa > sb;
}

int snap_safe_id(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > SNAPSHOT_ID_MAX || strcmp(id, ".") == 0 || strstr(id, ".."))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f || id[i] == '/' || id[i] == '\\')
			return 0;
	return 1;
}

/*
 * The URL that names a snapshot to others: its label, with a local path made
 * absolute (from the working directory) and free of '.' and '..' segments,
 * taken lexically so that a path through a link stays the path the user
 * gave; an event never names a path that only makes sense in the exporter's
 * working directory.  New, or NULL.
 */
static char *announced_url(const char *label)
{
	const char *path = strncmp(label, "file:", 5) == 0 ? label + 5 : label, *seg;
	char cwd[4096];
	ms_buf in = MS_BUF_INIT((size_t)64 << 10), out = MS_BUF_INIT((size_t)64 << 10);
	char *result = NULL;

	if (path != label && strncmp(path, "//", 2) == 0)
		path += 2;
	if (strstr(label, "://") && path == label)
		return strdup(label); /* s3:// and other remote stores */
	if (path[0] != '/' && (!getcwd(cwd, sizeof(cwd)) || ms_buf_printf(&in, "%s/", cwd) < 0))
		goto done;
	if (ms_buf_adds(&in, path) < 0)
		goto done;
	for (seg = ms_buf_cstr(&in); *seg;) {
		size_t n = strcspn(seg, "/");

		if (n == 2 && strncmp(seg, "..", 2) == 0) {
			while (out.len && out.ptr[out.len - 1] != '/')
				out.len--;
			if (out.len)
				out.len--;
			if (out.ptr)
				out.ptr[out.len] = '\0';
		} else if (n && !(n == 1 && seg[0] == '.') &&
			   (ms_buf_addc(&out, '/') < 0 || ms_buf_add(&out, seg, n) < 0)) {
			goto done;
		}
		seg += n;
		seg += *seg == '/';
	}
	result = out.len ? ms_buf_detach(&out) : strdup("/");
done:
	ms_buf_free(&in);
	ms_buf_free(&out);
	return result;
}

/* ms_catalog_snapshot_info for both sides: a finished writer, a reader. */
int snap_info(ms_catalog *self, ms_snapshot_info *out, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	const char *id = s->writing ? s->id : s->manifest_id;
	const char *created = s->writing ? s->created : s->manifest_created;
	const char *cid = s->writing ? s->source_catalog_id : self->catalog_id;

	if (s->writing && !s->finished)
		return ms_error_set(err, MS_ENOTSUPPORTED, "snapshot '%s' is not finished",
				    s->label);
	if ((id && !(out->id = strdup(id))) || !(out->url = announced_url(s->label)) ||
	    (cid && !(out->source_catalog_id = strdup(cid))) ||
	    (created && created[0] && !(out->created = strdup(created))) ||
	    (self->selection && !(out->selection = strdup(self->selection)))) {
		ms_snapshot_info_free(out);
		return oom(err);
	}
	if (s->has_manifest || s->writing)
		memcpy(out->manifest_sha256, s->manifest_sha256, sizeof(out->manifest_sha256));
	out->databases = s->counts[F_DATABASES];
	out->tables = s->counts[F_TABLES];
	out->partitions = s->counts[F_PARTITIONS];
	out->chain = s->incr.chain;
	out->latest = !s->writing && s->prefix && s->prefix[0];
	out->tombstones = s->incr.ntombs;
	if ((s->incr.source_cursor && !(out->source_cursor = strdup(s->incr.source_cursor))) ||
	    (s->incr.parent && !(out->parent = strdup(s->incr.parent))) ||
	    (s->incr.base && !(out->base = strdup(s->incr.base)))) {
		ms_snapshot_info_free(out);
		return oom(err);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Opening either side                                                      */

/* 1 when name looks like an export's timestamp folder (2026-01-02-03-04-05...). */
static int is_snapshot_name(const char *name, size_t n)
{
	size_t i;

	if (n < 19 || !isdigit((unsigned char)name[0]) || name[4] != '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)name[i]) && name[i] != '-')
			return 0;
	return 1;
}

/*
 * The identity of an export without a manifest, recorded in its replicas'
 * markers: the store it sits in, as an absolute path, so that every daily
 * export of the same store (and the same store typed differently) is one
 * source.  where is the snapshot folder, or with the utility's own flags the
 * databases folder (new string).
 */
static char *utility_identity(const char *where, int input_paths)
{
	ms_buf b = MS_BUF_INIT(8192);
	const char *path = where;
	char cwd[4096];
	size_t n;
	char *id;

	if (strncmp(path, "file://", 7) == 0)
		path += 7;
	if (path[0] != '/' && !strstr(path, "://") && getcwd(cwd, sizeof(cwd))) {
		ms_buf_adds(&b, cwd);
		ms_buf_addc(&b, '/');
	}
	ms_buf_adds(&b, path);
	if (!b.ptr)
		return NULL;
	id = b.ptr;
	n = b.len;
	/* Drop trailing slashes, "/." components, the databases folder, the timestamp. */
	for (int pass = 0; pass < 3; pass++) {
		char *slash;

		while (n > 1 &&
		       (id[n - 1] == '/' || (n > 2 && id[n - 1] == '.' && id[n - 2] == '/')))
			id[--n] = '\0';
		slash = strrchr(id, '/');
		if (!slash || slash == id)
			break;
		if ((pass == 0 && input_paths) || is_snapshot_name(slash + 1, strlen(slash + 1))) {
			*slash = '\0';
			n = (size_t)(slash - id);
			continue;
		}
		if (pass > 0 || !input_paths)
			break;
	}
	return ms_buf_detach(&b);
}

/*
 * Open the snapshot at url: with opts->mode == MS_OPEN_WRITE a new snapshot
 * under the store root url, else the snapshot at url (a snapshot directory,
 * a store root with LATEST, or a manifest-less utility export when allowed).
 * *out is new.
 */
int ms_snapshot_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			     ms_error *err)
{
	static const ms_open_options defaults;
	const char *catalog_id = ms_url_param_get(url, "catalog-id");
	snapshot *s;
	int rc;

	if (!opts)
		opts = &defaults;
	s = calloc(1, sizeof(*s));
	if (!s)
		return oom(err);
	s->writing = opts->mode == MS_OPEN_WRITE;
	if ((rc = ms_catalog_base_init(&s->base,
				       s->writing ? &snap_writer_driver : &snap_reader_driver,
				       url->redacted, catalog_id, err)) < 0) {
		free(s);
		return rc;
	}
	rc = s->writing ? snap_open_writer(s, url, opts, err) : snap_open_reader(s, url, opts, err);
	if (rc < 0) {
		snap_free(s);
		return rc;
	}
	/* Without a manifest (nor catalog-id) the source is the store itself. */
	if (!s->writing && !catalog_id && strcmp(s->base.catalog_id, url->redacted) == 0) {
		int inputs = opts->database_input_path != NULL;
		char *id = utility_identity(inputs ? opts->database_input_path : url->redacted,
					    inputs);

		if (!id) {
			snap_free(s);
			return oom(err);
		}
		free(s->base.catalog_id);
		s->base.catalog_id = id;
	}
	*out = &s->base;
	return 0;
}
