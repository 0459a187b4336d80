/*
 * manifest.json of a snapshot: built by the writer at finish, parsed by the
 * reader at open.  The parser trusts nothing: every member is checked for
 * its type and range, no key may appear twice, paths must stay inside the
 * three folders, and the counts, spans and digests must add up, before the
 * reader uses any of it.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
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
/* Building                                                                 */

/* JSON string literal of s (NULL: null) appended to b. */
static int json_str(ms_buf *b, const char *s)
{
	const unsigned char *p;
	int rc = 0;

	if (!s)
		return ms_buf_adds(b, "null");
	if ((rc = ms_buf_addc(b, '"')) < 0)
		return rc;
	for (p = (const unsigned char *)s; *p && rc == 0; p++) {
		switch (*p) {
		case '"':
			rc = ms_buf_adds(b, "\\\"");
			break;
		case '\\':
			rc = ms_buf_adds(b, "\\\\");
			break;
		case '\n':
			rc = ms_buf_adds(b, "\\n");
			break;
		case '\r':
			rc = ms_buf_adds(b, "\\r");
			break;
		case '\t':
			rc = ms_buf_adds(b, "\\t");
			break;
		default:
			if (*p < 0x20)
				rc = ms_buf_printf(b, "\\u%04x", *p);
			else
				rc = ms_buf_addc(b, (char)*p);
		}
	}
	return rc < 0 ? rc : ms_buf_addc(b, '"');
}

static int json_hex(ms_buf *b, const unsigned char *hash)
{
	char hex[2 * MS_HASH_LEN + 1];

	ms_hex(hash, MS_HASH_LEN, hex);
	return json_str(b, hex);
}

/*
 * manifest.json, one JSON object (one entry of "files" and "tables" per line):
 *
 *   {"format":"metasync-snapshot","version":1,"snapshot":ID,"created":"...Z",
 *    "source":{"url":REDACTED|null,"catalog_id":ID|null[,"instance":GUID]},
 *    "selection":S|null,
 *    "parent":null,"databases":[names, sorted],
 *    "counts":{"databases":N,"tables":N,"partitions":N},
 *    "files":[{"path":"partitions/part-00000.json","bytes":N,"lines":N,"sha256":HEX},...],
 *    "tables":[{"database":D,"table":T,"hash":HEX,
 *               "partitions":{"count":N,"hash":HEX,"sum":HEX,
 *                             "spans":[[FILE,OFFSET,BYTES,LINES],...]}},...]}
 *
 * files are sorted by path; bytes and sha256 are of the stored (possibly
 * gzip) bytes.  A span's FILE indexes "files"; OFFSET and BYTES are
 * uncompressed.  partitions.hash is ms_digest_final of the set; "sum" is
 * the raw digest sum, which table_digest needs and the final hash cannot
 * give back.
 */
int snap_build_manifest(snapshot *s, ms_buf *b, ms_error *err)
{
	size_t *forder = NULL, *fpos = NULL, *dorder = NULL, *torder = NULL, i, j;
	int rc = 0;

	forder = snap_sorted_indices(s, s->nfiles, snap_idx_cmp_file);
	dorder = snap_sorted_indices(s, s->ndbs, snap_idx_cmp_db);
	torder = snap_sorted_indices(s, s->ntables, snap_idx_cmp_table);
	fpos = malloc((s->nfiles ? s->nfiles : 1) * sizeof(*fpos));
	if (!forder || !dorder || !torder || !fpos) {
		rc = oom(err);
		goto done;
	}
	for (i = 0; i < s->nfiles; i++)
		fpos[forder[i]] = i;

	rc |= ms_buf_adds(b, "{\"format\":\"metasync-snapshot\",\"version\":1,\"snapshot\":");
	rc |= json_str(b, s->id);
	rc |= ms_buf_adds(b, ",\"created\":");
	rc |= json_str(b, s->created);
	rc |= ms_buf_adds(b, ",\"source\":{\"url\":");
	rc |= json_str(b, s->source_url);
	rc |= ms_buf_adds(b, ",\"catalog_id\":");
	rc |= json_str(b, s->source_catalog_id);
	if (s->source_instance) {
		rc |= ms_buf_adds(b, ",\"instance\":");
		rc |= json_str(b, s->source_instance);
	}
	rc |= ms_buf_adds(b, "},\"selection\":");
	rc |= json_str(b, s->base.selection);
	rc |= ms_buf_adds(b, ",\"parent\":");
	rc |= json_str(b, s->incr.parent);
	rc |= snap_manifest_incr(s, b);
	rc |= ms_buf_adds(b, ",\n\"databases\":[");
	for (i = 0; i < s->ndbs; i++) {
		if (i)
			rc |= ms_buf_addc(b, ',');
		rc |= json_str(b, s->dbs[dorder[i]].name);
	}
	rc |= ms_buf_printf(b,
			    "],\n\"counts\":{\"databases\":%llu,\"tables\":%llu,\"partitions\":%"
			    "llu},"
			    "\n\"files\":[",
			    (unsigned long long)s->counts[F_DATABASES],
			    (unsigned long long)s->counts[F_TABLES],
			    (unsigned long long)s->counts[F_PARTITIONS]);
	for (i = 0; i < s->nfiles; i++) {
		const file_rec *f = &s->files[forder[i]];

		rc |= ms_buf_adds(b, i ? ",\n{\"path\":" : "\n{\"path\":");
		rc |= json_str(b, f->path);
		rc |= ms_buf_printf(b, ",\"bytes\":%llu,\"lines\":%llu,\"sha256\":",
				    (unsigned long long)f->bytes, (unsigned long long)f->lines);
		rc |= json_hex(b, f->sha);
		rc |= ms_buf_addc(b, '}');
	}
	rc |= ms_buf_adds(b, "],\n\"tables\":[");
	for (i = 0; i < s->ntables; i++) {
		const table_rec *t = &s->tables[torder[i]];
		unsigned char fin[MS_HASH_LEN];

		ms_digest_final(&t->digest, fin);
		rc |= ms_buf_adds(b, i ? ",\n{\"database\":" : "\n{\"database\":");
		rc |= json_str(b, t->database);
		rc |= ms_buf_adds(b, ",\"table\":");
		rc |= json_str(b, t->name);
		rc |= ms_buf_adds(b, ",\"hash\":");
		rc |= json_hex(b, t->hash);
		rc |= ms_buf_printf(b, ",\"partitions\":{\"count\":%llu,\"hash\":",
				    (unsigned long long)t->digest.count);
		rc |= json_hex(b, fin);
		rc |= ms_buf_adds(b, ",\"sum\":");
		rc |= json_hex(b, t->digest.sum);
		rc |= ms_buf_adds(b, ",\"spans\":[");
		for (j = 0; j < t->nspans; j++) {
			const span *sp = &t->spans[j];

			rc |= ms_buf_printf(b, "%s[%zu,%llu,%llu,%llu]", j ? "," : "",
					    fpos[sp->file], (unsigned long long)sp->offset,
					    (unsigned long long)sp->bytes,
					    (unsigned long long)sp->lines);
		}
		rc |= ms_buf_adds(b, "]}}");
	}
	rc |= ms_buf_adds(b, "]}\n");
	if (rc != 0)
		rc = ms_error_set(err, MS_ETOOBIG,
				  "manifest of snapshot '%s' is larger than %zu bytes", s->label,
				  MANIFEST_MAX);
done:
	free(forder);
	free(fpos);
	free(dorder);
	free(torder);
	return rc;
}

/* s->manifest_sha256 = hex SHA-256 of the manifest text. */
int snap_manifest_sha256(snapshot *s, const char *text, size_t len, ms_error *err)
{
	unsigned char md[MS_HASH_LEN];
	unsigned int mdlen = 0;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != MS_HASH_LEN)
		return ms_error_set(err, MS_ERROR, "sha-256 of the manifest of '%s' failed",
				    s->label);
	ms_hex(md, MS_HASH_LEN, s->manifest_sha256);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Parsing: nothing is used before it is checked                            */

int snap_manifest_bad(const snapshot *s, ms_error *err, const char *what)
{
	return ms_error_set(err, MS_EINTEGRITY, "snapshot '%s' manifest.json is invalid: %s",
			    s->label, what);
}

/* A non-negative integer JSON number that a double holds exactly. */
static int mf_uint(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d > 9007199254740992.0 || floor(d) != d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static int mf_hash(const cJSON *v, unsigned char *out)
{
	if (!cJSON_IsString(v) || strlen(v->valuestring) != (size_t)2 * MS_HASH_LEN)
		return -1;
	return ms_unhex(v->valuestring, out, MS_HASH_LEN) < 0 ? -1 : 0;
}

static int printable(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* A name some entity can have: one line (the model refuses control characters but tab). */
static int name_ok(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return 0;
	return 1;
}

/*
 * "databases/NAME" etc.: relative, inside one of the three folders (or
 * tombstones/, *folder F_TOMBSTONES), one level.
 */
static int mf_path_ok(const char *p, int *folder)
{
	const char *slash = strchr(p, '/'), *name;
	int f;

	if (!slash)
		return 0;
	for (f = 0; f < F_COUNT; f++)
		if ((size_t)(slash - p) == strlen(snap_folder_names[f]) &&
		    strncmp(p, snap_folder_names[f], (size_t)(slash - p)) == 0)
			break;
	if (f == F_COUNT && !((size_t)(slash - p) == strlen("tombstones") &&
			      strncmp(p, "tombstones", (size_t)(slash - p)) == 0))
		return 0;
	name = slash + 1;
	if (!snap_is_data_name(name) || strlen(name) > 255 || strstr(name, ".."))
		return 0;
	for (; *name; name++)
		if ((unsigned char)*name < 0x20 || *name == 0x7f || *name == '/' || *name == '\\')
			return 0;
	*folder = f;
	return 1;
}

static int cmp_member_key(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/*
 * *dup = a key that appears twice in one object anywhere in v, or NULL.
 * cJSON keeps both members and its lookups return the first, so a
 * duplicate would let the reader and the producer mean different values.
 * Large objects are sorted (a pointer array); small ones compared pairwise.
 */
static int mf_dup_key(const cJSON *v, const char **dup)
{
	const cJSON *c, *a, **keys;
	size_t n = 0, i;
	int rc;

	*dup = NULL;
	if (cJSON_IsObject(v)) {
		for (c = v->child; c; c = c->next)
			n++;
		if (n <= 16) {
			for (c = v->child; c && !*dup; c = c->next)
				for (a = c->next; a && !*dup; a = a->next)
					if (c->string && a->string &&
					    strcmp(c->string, a->string) == 0)
						*dup = c->string;
		} else {
			if (!(keys = malloc(n * sizeof(*keys))))
				return MS_ENOMEM;
			for (i = 0, c = v->child; c; c = c->next)
				if (c->string)
					keys[i++] = c;
			n = i;
			qsort(keys, n, sizeof(*keys), cmp_member_key);
			for (i = 1; i < n && !*dup; i++)
				if (strcmp(keys[i - 1]->string, keys[i]->string) == 0)
					*dup = keys[i]->string;
			free(keys);
		}
		if (*dup)
			return 0;
	}
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		for (c = v->child; c; c = c->next)
			if ((rc = mf_dup_key(c, dup)) < 0 || *dup)
				return rc;
	return 0;
}

/* The root: a JSON object, with no key twice in any object of it. */
static int mf_check_root(const snapshot *s, const cJSON *root, ms_error *err)
{
	const char *dup;

	if (!root || !cJSON_IsObject(root))
		return snap_manifest_bad(s, err, "not a JSON object");
	if (mf_dup_key(root, &dup) < 0)
		return oom(err);
	if (dup)
		return ms_error_set(err, MS_EINTEGRITY,
				    "snapshot '%s' manifest.json is invalid: key '%.100s' appears "
				    "twice "
				    "in one object",
				    s->label, printable(dup) ? dup : "?");
	return 0;
}

/* "format" and "version": a manifest this metasync can read. */
static int mf_check_format(const snapshot *s, const cJSON *root, ms_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "format");

	if (!cJSON_IsString(v) || strcmp(v->valuestring, "metasync-snapshot") != 0)
		return snap_manifest_bad(s, err, "'format' is not 'metasync-snapshot'");
	v = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(v) || v->valuedouble != 1)
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "snapshot '%s' manifest.json has a version this metasync "
				    "cannot read",
				    s->label);
	return 0;
}

/*
 * What the manifest tells of the snapshot, each member optional: its
 * source's catalog id and instance, its id, when it was made, its selection.
 */
static int mf_read_identity(snapshot *s, const cJSON *root, ms_error *err)
{
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source"), *v;

	v = cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, "catalog_id") : NULL;
	if (cJSON_IsString(v) && v->valuestring[0]) {
		char *id = strdup(v->valuestring);

		if (!id)
			return oom(err);
		free(s->base.catalog_id);
		s->base.catalog_id = id;
	}
	v = cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, "instance") : NULL;
	if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) <= 128 &&
	    !(s->base.instance = strdup(v->valuestring)))
		return oom(err);
	v = cJSON_GetObjectItemCaseSensitive(root, "snapshot");
	if (cJSON_IsString(v) && !(s->manifest_id = strdup(v->valuestring)))
		return oom(err);
	v = cJSON_GetObjectItemCaseSensitive(root, "created");
	if (cJSON_IsString(v) && !(s->manifest_created = strdup(v->valuestring)))
		return oom(err);
	v = cJSON_GetObjectItemCaseSensitive(root, "selection");
	if (cJSON_IsString(v) && !(s->base.selection = strdup(v->valuestring)))
		return oom(err);
	return snap_parse_incr(s, root, err);
}

/* "counts": how many databases, tables and partitions, into counts[F_*]. */
static int mf_read_counts(const snapshot *s, const cJSON *root, uint64_t counts[F_COUNT],
			  ms_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "counts");
	int f;

	for (f = 0; f < F_COUNT; f++)
		if (!cJSON_IsObject(v) ||
		    mf_uint(cJSON_GetObjectItemCaseSensitive(v, snap_folder_names[f]), &counts[f]) <
			    0)
			return snap_manifest_bad(s, err, "'counts' is malformed");
	return 0;
}

/* One entry of "files" into s->files; a partition file adds its lines to *part_lines. */
static int mf_read_file(snapshot *s, const cJSON *item, uint64_t *part_lines, ms_error *err)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(item, "path");
	char *key;
	uint64_t bytes, lines;
	unsigned char sha[MS_HASH_LEN];
	size_t i, idx;
	int rc, f;

	if (!cJSON_IsString(p) || !mf_path_ok(p->valuestring, &f))
		return ms_error_set(err, MS_EINTEGRITY,
				    "snapshot '%s' manifest.json names an unsafe file path '%s'",
				    s->label,
				    cJSON_IsString(p) && printable(p->valuestring) ? p->valuestring
										   : "?");
	if (mf_uint(cJSON_GetObjectItemCaseSensitive(item, "bytes"), &bytes) < 0 ||
	    mf_uint(cJSON_GetObjectItemCaseSensitive(item, "lines"), &lines) < 0 ||
	    mf_hash(cJSON_GetObjectItemCaseSensitive(item, "sha256"), sha) < 0)
		return snap_manifest_bad(s, err, "a 'files' entry is malformed");
	for (i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i].path, p->valuestring) == 0)
			return snap_manifest_bad(s, err, "a file is listed twice");
	if ((rc = snap_check_compression(p->valuestring, err)) < 0)
		return rc;
	if (!(key = snap_dup_printf("%s%s", s->prefix, p->valuestring)))
		return oom(err);
	rc = snap_file_add(s, f, p->valuestring, key, &idx, err);
	free(key);
	if (rc < 0)
		return rc;
	s->files[idx].bytes = bytes;
	s->files[idx].lines = lines;
	memcpy(s->files[idx].sha, sha, MS_HASH_LEN);
	if (f == F_PARTITIONS)
		*part_lines += lines;
	return 0;
}

/* "files": every part file with its size, line count and SHA-256, into s->files. */
static int mf_read_files(snapshot *s, const cJSON *root, uint64_t *part_lines, ms_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "files"), *item;
	int rc;

	if (!cJSON_IsArray(v))
		return snap_manifest_bad(s, err, "'files' is not an array");
	cJSON_ArrayForEach(item, v)
	{
		if ((rc = mf_read_file(s, item, part_lines, err)) < 0)
			return rc;
	}
	return 0;
}

/*
 * A table's "spans" ([FILE,OFFSET,BYTES,LINES], each inside a partition
 * file) into tr; *lines is the sum of their lines.
 */
static int mf_read_spans(const snapshot *s, table_rec *tr, const cJSON *spans, uint64_t *lines,
			 ms_error *err)
{
	const cJSON *sp;

	*lines = 0;
	cJSON_ArrayForEach(sp, spans)
	{
		uint64_t a[4];
		const cJSON *x;
		int k = 0;

		if (!cJSON_IsArray(sp) || cJSON_GetArraySize(sp) != 4)
			return snap_manifest_bad(s, err, "a span is malformed");
		cJSON_ArrayForEach(x, sp)
		{
			if (mf_uint(x, &a[k++]) < 0)
				return snap_manifest_bad(s, err, "a span is malformed");
		}
		if (a[0] >= s->nfiles || s->files[a[0]].folder != F_PARTITIONS || a[3] == 0 ||
		    a[2] == 0 || (!s->files[a[0]].gz && a[1] + a[2] > s->files[a[0]].bytes))
			return snap_manifest_bad(s, err,
						 "a span points outside the partition files");
		if (snap_span_add(tr, (size_t)a[0], a[1], a[2], a[3]) < 0)
			return oom(err);
		*lines += a[3];
	}
	return 0;
}

/*
 * One entry of "tables" into s->tables: its names, its partitions' digest
 * (checked against its sum when there is one) and spans; *count is its
 * partition count, which its spans must add up to.
 */
static int mf_read_table(snapshot *s, const cJSON *item, uint64_t *count, ms_error *err)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(item, "database");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "table");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(item, "partitions");
	unsigned char fin[MS_HASH_LEN], check[MS_HASH_LEN];
	uint64_t span_lines;
	table_rec *tr;
	char dn[NAME_BUF], tn[NAME_BUF];
	size_t idx;
	int rc;

	if (!cJSON_IsString(d) || !cJSON_IsString(t) || !d->valuestring[0] || !t->valuestring[0] ||
	    !name_ok(d->valuestring) || !name_ok(t->valuestring) ||
	    snap_fold(dn, sizeof(dn), d->valuestring) < 0 ||
	    snap_fold(tn, sizeof(tn), t->valuestring) < 0 || !cJSON_IsObject(p) ||
	    mf_uint(cJSON_GetObjectItemCaseSensitive(p, "count"), count) < 0 ||
	    mf_hash(cJSON_GetObjectItemCaseSensitive(p, "hash"), fin) < 0 ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(p, "spans")))
		return snap_manifest_bad(s, err, "a 'tables' entry is malformed");
	if (snap_table_find(s, dn, tn) != NONE)
		return snap_manifest_bad(s, err, "a table is listed twice");
	if ((rc = snap_table_add(s, dn, tn, &idx, err)) < 0)
		return rc;
	tr = &s->tables[idx];
	tr->digest.count = *count;
	if (mf_hash(cJSON_GetObjectItemCaseSensitive(p, "sum"), tr->digest.sum) == 0) {
		ms_digest_final(&tr->digest, check);
		if (memcmp(check, fin, MS_HASH_LEN) != 0)
			return ms_error_set(err, MS_EINTEGRITY,
					    "snapshot '%s' manifest.json: partition hash of "
					    "'%s.%s' does not match its sum",
					    s->label, dn, tn);
		tr->has_digest = 1;
	}
	if ((rc = mf_read_spans(s, tr, cJSON_GetObjectItemCaseSensitive(p, "spans"), &span_lines,
				err)) < 0)
		return rc;
	if (span_lines != *count)
		return snap_manifest_bad(s, err,
					 "a table's spans do not add up to its partition count");
	return 0;
}

/* "tables": every table with its partitions' digest and spans; *sum_parts their partitions. */
static int mf_read_tables(snapshot *s, const cJSON *root, uint64_t *sum_parts, ms_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "tables"), *item;
	uint64_t count;
	int rc;

	if (!cJSON_IsArray(v))
		return snap_manifest_bad(s, err, "'tables' is not an array");
	cJSON_ArrayForEach(item, v)
	{
		if ((rc = mf_read_table(s, item, &count, err)) < 0)
			return rc;
		*sum_parts += count;
	}
	return 0;
}

int snap_parse_manifest(snapshot *s, const char *text, size_t len, ms_error *err)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	uint64_t counts[F_COUNT], sum_parts = 0, part_lines = 0;
	int rc;

	if ((rc = mf_check_root(s, root, err)) < 0 || (rc = mf_check_format(s, root, err)) < 0 ||
	    (rc = mf_read_identity(s, root, err)) < 0 ||
	    (rc = mf_read_counts(s, root, counts, err)) < 0 ||
	    (rc = mf_read_files(s, root, &part_lines, err)) < 0 ||
	    (rc = mf_read_tables(s, root, &sum_parts, err)) < 0)
		goto done;
	if (sum_parts != counts[F_PARTITIONS] || part_lines != counts[F_PARTITIONS]) {
		rc = snap_manifest_bad(s, err, "the partition counts do not add up");
		goto done;
	}
	memcpy(s->counts, counts, sizeof(counts));
	rc = 0;
done:
	cJSON_Delete(root);
	return rc;
}
