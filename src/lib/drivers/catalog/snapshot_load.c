/*
 * Opening a snapshot for reading: find it (manifest.json at the URL, LATEST
 * in a store root, the utility's folders, or its three input paths), list
 * its folders against the manifest, load the databases and tables and index
 * the partition lines by table.  Without a manifest every line is read and
 * checked here; with one, the partition files wait for verify_table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "snapshot_internal.h"

static const ms_kind folder_kinds[F_COUNT] = { MS_KIND_DATABASE, MS_KIND_TABLE, MS_KIND_PARTITION };

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/*
 * Index partition line e of file fi (line lineno, uncompressed bytes
 * [loff, end)) under its table, once it is checked (snap_check_part_line).  1
 * when the line is bad (*first says why, with file and line), 0 when
 * indexed, < 0 when loading cannot go on.  *last_table caches the table of
 * the previous line.
 */
static int load_partition(snapshot *s, size_t fi, const ms_entity *e, size_t *last_table,
			  uint64_t lineno, uint64_t loff, uint64_t end, EVP_MD_CTX *md,
			  ms_error *first, ms_error *err)
{
	const file_rec *f = &s->files[fi];
	unsigned char fp[FP_LEN];
	table_rec *t;
	size_t nv;
	int rc;

	if (*last_table == NONE || strcmp(s->tables[*last_table].name, e->table) != 0 ||
	    strcmp(s->tables[*last_table].database, e->database) != 0)
		*last_table = snap_table_find(s, e->database, e->table);
	if (*last_table == NONE) {
		ms_error_set(first, MS_EINVAL,
			     "file '%s' line %llu: partition %s of table '%s.%s', which the "
			     "snapshot "
			     "does not hold",
			     f->path, (unsigned long long)lineno, e->vkey, e->database, e->table);
		return 1;
	}
	t = &s->tables[*last_table];
	if ((rc = snap_fp_parsed(md, e, fp, &nv, err)) < 0)
		return rc;
	rc = snap_check_part_line(s, t, nv, fp, e->vkey, fi, lineno, first);
	if (rc == MS_ENOMEM) {
		if (err)
			*err = *first;
		return rc;
	}
	if (rc < 0) {
		ms_error_prefix(first, "file '%s' line %llu: ", f->path,
				(unsigned long long)lineno);
		return 1;
	}
	ms_digest_add(&t->digest, e->hash);
	t->has_digest = 1;
	if (snap_span_add(t, fi, loff, end - loff, 1) < 0)
		return oom(err);
	return 0;
}

/*
 * Load database line *e of file f (line lineno): 1 when the line is bad
 * (*first says why, with file and line), 0 when loaded (*e is stolen), < 0
 * when loading cannot go on.
 */
static int load_database(snapshot *s, const file_rec *f, ms_entity **e, uint64_t lineno,
			 ms_error *first, ms_error *err)
{
	size_t idx;
	int rc;

	if (snap_db_find(s, (*e)->database) != NONE) {
		ms_error_set(first, MS_EINVAL, "file '%s' line %llu: database '%s' appears twice",
			     f->path, (unsigned long long)lineno, (*e)->database);
		return 1;
	}
	if ((rc = snap_db_add(s, (*e)->database, &idx, err)) < 0)
		return rc;
	s->dbs[idx].entity = *e;
	*e = NULL;
	return 0;
}

/*
 * Load table line *e of file f (line lineno): its database must be loaded
 * and, with a manifest, the table listed there.  1 when the line is bad
 * (*first says why, with file and line), 0 when loaded (*e is stolen), < 0
 * when loading cannot go on.
 */
static int load_table(snapshot *s, const file_rec *f, ms_entity **e, uint64_t lineno,
		      ms_error *first, ms_error *err)
{
	const ms_entity *te = *e;
	size_t ti = snap_table_find(s, te->database, te->table);
	table_rec *t;
	int rc;

	if (snap_db_find(s, te->database) == NONE) {
		ms_error_set(first, MS_EINVAL,
			     "file '%s' line %llu: table '%s.%s' belongs to database "
			     "'%s', which the snapshot does not hold",
			     f->path, (unsigned long long)lineno, te->database, te->table,
			     te->database);
		return 1;
	}
	if (ti != NONE && s->tables[ti].entity) {
		ms_error_set(first, MS_EINVAL, "file '%s' line %llu: table '%s.%s' appears twice",
			     f->path, (unsigned long long)lineno, te->database, te->table);
		return 1;
	}
	if (ti == NONE && s->has_manifest) {
		ms_error_set(first, MS_EINTEGRITY,
			     "snapshot '%s' file '%s' line %llu: table '%s.%s' is not "
			     "in manifest.json",
			     s->label, f->path, (unsigned long long)lineno, te->database,
			     te->table);
		return 1;
	}
	if (ti == NONE && (rc = snap_table_add(s, te->database, te->table, &ti, err)) < 0)
		return rc;
	t = &s->tables[ti];
	t->entity = *e;
	t->nkeys = ms_table_key_count(te);
	memcpy(t->hash, te->hash, MS_HASH_LEN);
	t->has_hash = 1;
	if (!s->has_manifest)
		t->has_digest = 1;
	*e = NULL;
	return 0;
}

/* Load one part file's entities; partitions are indexed, not kept. */
static int load_file(snapshot *s, size_t fi, ms_error *err)
{
	file_rec *f = &s->files[fi];
	const int kind_folder = f->folder;
	const ms_kind kind = folder_kinds[kind_folder];
	ms_error first;
	int bad = 0, hash = s->has_manifest;
	size_t last_table = NONE;
	uint64_t lineno = 0, lines = 0;
	EVP_MD_CTX *fpmd = NULL;
	lsrc l;
	int rc;

	ms_error_clear(&first);
	memset(&l, 0, sizeof(l));
	if (kind == MS_KIND_PARTITION && !(fpmd = EVP_MD_CTX_new())) {
		rc = oom(err);
		goto done;
	}
	if ((rc = snap_lsrc_open(&l, s->fstore[f->folder], f->key, f->path, f->gz, hash, err)) < 0)
		goto done;
	for (;;) {
		const char *line;
		size_t len;
		uint64_t loff;
		ms_entity *e = NULL;

		if ((rc = snap_lsrc_line(&l, &line, &len, &loff, err)) < 0)
			goto done;
		if (rc == 0)
			break;
		lineno++;
		if (bad || snap_is_blank(line, len))
			continue;
		lines++;
		rc = ms_entity_from_line(&e, line, len, kind, &first);
		if (rc < 0) {
			ms_error_prefix(&first, "file '%s' line %llu: ", f->path,
					(unsigned long long)lineno);
			bad = 1;
			continue;
		}
		if (kind == MS_KIND_DATABASE)
			rc = load_database(s, f, &e, lineno, &first, err);
		else if (kind == MS_KIND_TABLE)
			rc = load_table(s, f, &e, lineno, &first, err);
		else
			rc = load_partition(s, fi, e, &last_table, lineno, loff, l.off, fpmd,
					    &first, err);
		ms_entity_free(e);
		if (rc < 0)
			goto done;
		bad = rc;
	}
	if (hash) {
		unsigned char md[MS_HASH_LEN];
		unsigned int mdlen = 0;

		if (EVP_DigestFinal_ex(l.sha, md, &mdlen) != 1) {
			rc = ms_error_set(err, MS_ERROR, "sha256 failed");
			goto done;
		}
		if (l.stored != f->bytes) {
			f->state = -1;
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' file '%s' is %llu bytes, manifest says "
					  "%llu",
					  s->label, f->path, (unsigned long long)l.stored,
					  (unsigned long long)f->bytes);
			goto done;
		}
		if (memcmp(md, f->sha, MS_HASH_LEN) != 0) {
			f->state = -1;
			rc = snap_integrity(s, f, err,
					    "does not match its sha256 in manifest.json");
			goto done;
		}
	}
	if (bad) {
		if (err)
			*err = first;
		rc = first.code;
		goto done;
	}
	if (hash && lines != f->lines) {
		rc = snap_integrity(s, f, err, "does not hold as many lines as manifest.json says");
		goto done;
	}
	f->lines = lines;
	f->state = 1;
	rc = 0;
done:
	snap_lsrc_close(&l);
	EVP_MD_CTX_free(fpmd);
	return rc;
}

/* Is name (a file directly inside a folder) one that Spark would read? */
int snap_is_data_name(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && name[0] != '_';
}

int snap_check_compression(const char *path, ms_error *err)
{
	static const char *const unsupported[] = { ".bz2", ".snappy",  ".lz4",
						   ".zst", ".deflate", ".xz" };
	size_t i;

	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (snap_has_suffix(path, unsupported[i]))
			return ms_error_set(err, MS_EINVAL,
					    "file '%s' is compressed with '%s', which metasync "
					    "cannot "
					    "read (use gzip)",
					    path, unsupported[i] + 1);
	return 0;
}

typedef struct list_ctx {
	snapshot *s;
	int folder;
	size_t skip; /* chars of the key before the file name */
	int success; /* folder/_SUCCESS seen */
} list_ctx;

/* Listing callback for a folder: collect (no manifest) or check (manifest) files. */
static int folder_cb(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	list_ctx *lc = ctx;
	snapshot *s = lc->s;
	const char *name = key + lc->skip;
	char *path = NULL;
	size_t i, idx;
	int rc = 0;

	if (strchr(name, '/'))
		return 0;
	if (strcmp(name, "_SUCCESS") == 0) {
		lc->success = 1;
		return 0;
	}
	if (!snap_is_data_name(name))
		return 0;
	if (s->store && s->fstore[lc->folder] == s->store)
		path = snap_dup_printf("%s/%s", snap_folder_names[lc->folder], name);
	else
		path = snap_join_label(ms_store_url(s->fstore[lc->folder]), name);
	if (!path)
		return oom(err);
	if (s->has_manifest) {
		for (i = 0; i < s->nfiles; i++)
			if (strcmp(s->files[i].key, key) == 0)
				break;
		if (i == s->nfiles) {
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' file '%s' is not in manifest.json",
					  s->label, path);
		} else if (st->size != s->files[i].bytes) {
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' file '%s' is %llu bytes, manifest says "
					  "%llu",
					  s->label, path, (unsigned long long)st->size,
					  (unsigned long long)s->files[i].bytes);
		} else {
			s->files[i].seen = 1;
		}
		goto done;
	}
	if ((rc = snap_check_compression(path, err)) < 0)
		goto done;
	if ((rc = snap_file_add(s, lc->folder, path, key, &idx, err)) < 0)
		goto done;
	s->files[idx].bytes = st->size;
done:
	free(path);
	return rc;
}

static int list_folder(snapshot *s, int f, const char *prefix, int *success, ms_error *err)
{
	list_ctx lc = { s, f, strlen(prefix), 0 };
	int rc = ms_store_list(s->fstore[f], prefix, folder_cb, &lc, err);

	if (success)
		*success = lc.success;
	return rc;
}

/* Load every file of the three folders, databases first (no manifest). */
static int load_all(snapshot *s, ms_error *err)
{
	size_t i;
	int f, rc;

	for (f = 0; f < F_COUNT; f++)
		for (i = 0; i < s->nfiles; i++)
			if (s->files[i].folder == f && (rc = load_file(s, i, err)) < 0)
				return rc;
	return 0;
}

/* Open the snapshot whose manifest.json is at s->prefix. */
static int open_with_manifest(snapshot *s, const ms_open_options *opts, ms_error *err)
{
	char *text = NULL, *key = NULL;
	size_t len = 0, i;
	ms_store_stat st;
	int rc, f, succ;

	if (!(key = snap_dup_printf("%smanifest.json", s->prefix)))
		return oom(err);
	if ((rc = ms_store_get_bytes(s->store, key, MANIFEST_MAX, &text, &len, err)) < 0)
		goto done;
	if ((rc = snap_manifest_sha256(s, text, len, err)) < 0)
		goto done;
	if (opts->expect_manifest_sha256 &&
	    strcasecmp(s->manifest_sha256, opts->expect_manifest_sha256) != 0) {
		rc = ms_error_set(err, MS_EINTEGRITY,
				  "snapshot '%s' manifest.json has sha256 %s, expected %.64s",
				  s->label, s->manifest_sha256, opts->expect_manifest_sha256);
		goto done;
	}
	s->has_manifest = 1;
	if ((rc = snap_parse_manifest(s, text, len, err)) < 0)
		goto done;
	free(key);
	if (!(key = snap_dup_printf("%s_SUCCESS", s->prefix))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ms_store_stat_key(s->store, key, &st, err)) < 0) {
		if (rc == MS_ENOTFOUND)
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' has no _SUCCESS: it is incomplete",
					  s->label);
		goto done;
	}
	for (f = 0; f < F_COUNT; f++) {
		free(key);
		if (!(key = snap_dup_printf("%s%s/", s->prefix, snap_folder_names[f]))) {
			rc = oom(err);
			goto done;
		}
		if ((rc = list_folder(s, f, key, &succ, err)) < 0)
			goto done;
	}
	if ((rc = snap_load_tombstones(s, err)) < 0)
		goto done;
	for (i = 0; i < s->nfiles; i++)
		if (!s->files[i].seen) {
			rc = snap_integrity(s, &s->files[i], err, "is missing");
			goto done;
		}
	for (f = 0; f < F_PARTITIONS; f++)
		for (i = 0; i < s->nfiles; i++)
			if (s->files[i].folder == f && (rc = load_file(s, i, err)) < 0)
				goto done;
	for (i = 0; i < s->ntables; i++)
		if (!s->tables[i].entity) {
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' manifest.json lists table '%s.%s', which "
					  "its "
					  "tables files do not hold",
					  s->label, s->tables[i].database, s->tables[i].name);
			goto done;
		}
	if (s->ndbs != s->counts[F_DATABASES] || s->ntables != s->counts[F_TABLES]) {
		rc = snap_manifest_bad(s, err,
				       "the database or table counts do not match the files");
		goto done;
	}
	rc = snap_finalize_index(s, err);
done:
	free(text);
	free(key);
	return rc;
}

/* Open a folder-per-kind export without a manifest (the AWS utility's). */
static int open_without_manifest(snapshot *s, const char *const prefixes[F_COUNT], ms_error *err)
{
	size_t i;
	int rc, f;

	for (f = 0; f < F_COUNT; f++)
		if ((rc = list_folder(s, f, prefixes[f], NULL, err)) < 0)
			return rc;
	if ((rc = load_all(s, err)) < 0)
		return rc;
	/* Every line is checked: the sets of values have served. */
	for (i = 0; i < s->ntables; i++)
		snap_fpset_free(&s->tables[i].seen);
	for (i = 0; i < s->nfiles; i++) {
		s->files[i].state = 1;
		s->counts[s->files[i].folder] += s->files[i].lines;
	}
	return snap_finalize_index(s, err);
}

/* Read LATEST and check it names one safe path component; *id is new. */
static int read_latest(snapshot *s, char **id, ms_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ms_store_get_bytes(s->store, "LATEST", LATEST_MAX, &text, &len, err)) < 0)
		return rc;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (strlen(text) != len || !snap_safe_id(text)) {
		free(text);
		return ms_error_set(err, MS_EINTEGRITY,
				    "'%s' LATEST does not name a snapshot (one path component, at "
				    "most "
				    "%d characters, no '/', '..' or control characters)",
				    ms_store_url(s->store), SNAPSHOT_ID_MAX);
	}
	*id = text;
	return 0;
}

static int open_input_paths(snapshot *s, const ms_open_options *opts, ms_error *err)
{
	const char *paths[F_COUNT] = { opts->database_input_path, opts->table_input_path,
				       opts->partition_input_path };
	static const char *const flags[F_COUNT] = { "--database-input-path", "--table-input-path",
						    "--partition-input-path" };
	const char *prefixes[F_COUNT] = { "", "", "" };
	int rc, f;

	for (f = 0; f < F_COUNT; f++)
		if (!paths[f] || !paths[f][0])
			return ms_error_set(err, MS_EINVAL,
					    "%s is missing: the utility's input paths go together",
					    flags[f]);
	for (f = 0; f < F_COUNT; f++) {
		if ((rc = ms_store_open(&s->fstore[f], paths[f], err)) < 0)
			return rc;
		s->fstore_owned[f] = 1;
	}
	if (!(s->label = snap_dup_printf("%s", ms_store_url(s->fstore[F_TABLES]))))
		return oom(err);
	return open_without_manifest(s, prefixes, err);
}

int snap_open_reader(snapshot *s, const ms_url *url, const ms_open_options *opts, ms_error *err)
{
	char *text = NULL, *id = NULL, *key = NULL;
	ms_store_stat st;
	ms_error e2;
	int rc, f, any = 0;

	if (opts->database_input_path || opts->table_input_path || opts->partition_input_path) {
		if (opts->expect_manifest_sha256)
			return ms_error_set(err, MS_EINTEGRITY,
					    "the utility's input paths have no manifest.json to "
					    "check "
					    "against the expected sha256");
		return open_input_paths(s, opts, err);
	}
	if (!(text = snap_store_url_text(url)))
		return oom(err);
	rc = ms_store_open(&s->store, text, err);
	free(text);
	if (rc < 0)
		return rc;
	for (f = 0; f < F_COUNT; f++)
		s->fstore[f] = s->store;
	if (!(s->prefix = strdup("")) || !(s->label = strdup(ms_store_url(s->store))))
		return oom(err);

	if ((rc = ms_store_stat_key(s->store, "manifest.json", &st, &e2)) == 0)
		return open_with_manifest(s, opts, err);
	if (rc != MS_ENOTFOUND) {
		if (err)
			*err = e2;
		return rc;
	}
	rc = read_latest(s, &id, &e2);
	if (rc == 0) {
		free(s->prefix);
		free(s->label);
		s->prefix = snap_dup_printf("%s/", id);
		s->label = snap_join_label(ms_store_url(s->store), id);
		key = snap_dup_printf("%s/manifest.json", id);
		free(id);
		if (!s->prefix || !s->label || !key) {
			free(key);
			return oom(err);
		}
		rc = ms_store_stat_key(s->store, key, &st, err);
		free(key);
		if (rc == MS_ENOTFOUND)
			return ms_error_set(err, MS_EINTEGRITY,
					    "snapshot '%s' named by LATEST has no manifest.json",
					    s->label);
		if (rc < 0)
			return rc;
		return open_with_manifest(s, opts, err);
	}
	if (rc != MS_ENOTFOUND) {
		if (err)
			*err = e2;
		return rc;
	}
	for (f = 0; f < F_COUNT && !any; f++) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "%s/", snap_folder_names[f]);
		if ((rc = snap_prefix_used(s->store, pfx, err)) < 0)
			return rc;
		any = rc;
	}
	if (!any)
		return ms_error_set(err, MS_ENOTFOUND,
				    "no snapshot at '%s' (no manifest.json, LATEST or "
				    "databases/tables/partitions folders)",
				    s->label);
	if (opts->expect_manifest_sha256)
		return ms_error_set(err, MS_EINTEGRITY,
				    "snapshot '%s' has no manifest.json to check against the "
				    "expected "
				    "sha256",
				    s->label);
	if (!opts->allow_no_manifest)
		return ms_error_set(err, MS_EINVAL,
				    "snapshot '%s' has no manifest.json (an export made by the AWS "
				    "utility needs --allow-no-manifest)",
				    s->label);
	{
		const char *prefixes[F_COUNT] = { "databases/", "tables/", "partitions/" };

		return open_without_manifest(s, prefixes, err);
	}
}
