/*
 * Incremental snapshots: what changed in the source since the snapshot
 * they follow (their parent).  The databases, tables and partitions put
 * since are in the three folders as in any snapshot; what was deleted is in
 * tombstones/part-00000.json, one JSON object per line:
 *
 *   {"type":"database","database":"d"}
 *   {"type":"table","database":"d","table":"t"}
 *   {"type":"partition","database":"d","table":"t","values":["2024-01-01"]}
 *
 * A table both tombstoned and present was dropped and made again (or its
 * partitions all changed): the partitions it has here are all it has.  The
 * manifest adds "incremental":true, "parent", "base" (the full snapshot the
 * chain starts from), "chain" (incrementals since it, this one included),
 * "names" (every database and table of the source's selection, which a
 * mapping needs) and counts.tombstones; every snapshot records
 * "source_cursor", where the source's change feed stood before the export
 * read it.  The AWS utility cannot read an incremental snapshot: it would
 * take it for a whole catalog.
 */
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/snapshot_internal.h"

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted copy of v[0..n) into *out; 0 or MS_ENOMEM. */
static int copy_sorted(char ***out, size_t *nout, const char *const *v, size_t n, ms_error *err)
{
	size_t i;

	if (!n)
		return 0;
	if (!(*out = calloc(n, sizeof(char *))))
		return oom(err);
	for (i = 0; i < n; i++)
		if (!((*out)[i] = strdup(v[i])))
			return oom(err);
	*nout = n;
	qsort(*out, n, sizeof(char *), cmp_str);
	return 0;
}

int snap_incr_open(snapshot *s, const ms_open_options *opts, ms_error *err)
{
	incr_info *in = &s->incr;
	int rc;

	ms_buf_init(&in->lines, TOMBSTONES_MAX);
	if (opts->source_cursor && !(in->source_cursor = strdup(opts->source_cursor)))
		return oom(err);
	if (!opts->parent)
		return 0;
	if (!snap_safe_id(opts->parent) || (opts->base && !snap_safe_id(opts->base)))
		return ms_error_set(err, MS_EINVAL, "'%.64s' cannot name a parent snapshot",
				    opts->parent);
	in->incremental = 1;
	in->chain = opts->chain ? opts->chain : 1;
	if (!(in->parent = strdup(opts->parent)) ||
	    !(in->base = strdup(opts->base ? opts->base : opts->parent)))
		return oom(err);
	if ((rc = copy_sorted(&in->dbs, &in->ndbs, opts->all_databases, opts->nall_databases,
			      err)) < 0)
		return rc;
	return copy_sorted(&in->tables, &in->ntables, opts->all_tables, opts->nall_tables, err);
}

void snap_incr_free(incr_info *in)
{
	size_t i;

	free(in->parent);
	free(in->base);
	free(in->source_cursor);
	for (i = 0; i < in->ndbs; i++)
		free(in->dbs[i]);
	free(in->dbs);
	for (i = 0; i < in->ntables; i++)
		free(in->tables[i]);
	free(in->tables);
	for (i = 0; i < in->ntombs && in->tombs; i++) {
		free(in->tombs[i].db);
		free(in->tombs[i].table);
		free(in->tombs[i].vkey);
	}
	free(in->tombs);
	ms_buf_free(&in->lines);
	memset(in, 0, sizeof(*in));
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */

static int tomb_line(snapshot *s, const char *type, const char *db, const char *table,
		     const char *vkey, ms_error *err)
{
	char dn[NAME_BUF], tn[NAME_BUF];
	cJSON *o = NULL, *values = NULL;
	char *text = NULL;
	int rc = 0;

	if (!s->incr.incremental)
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "snapshot '%s' is a full snapshot: it records no deletes",
				    s->label);
	if (s->finished || s->broken)
		return ms_error_set(err, MS_EINVAL, "snapshot '%s' takes no more writes", s->label);
	if (!db || snap_fold(dn, sizeof(dn), db) < 0 ||
	    (table && snap_fold(tn, sizeof(tn), table) < 0))
		return ms_error_set(err, MS_EINVAL, "a delete in snapshot '%s' names no entity",
				    s->label);
	if (vkey && !(values = cJSON_Parse(vkey)))
		return ms_error_set(err, MS_EINVAL, "partition values '%.64s' are not a values key",
				    vkey);
	if (!(o = cJSON_CreateObject()) || !cJSON_AddStringToObject(o, "type", type) ||
	    !cJSON_AddStringToObject(o, "database", dn) ||
	    (table && !cJSON_AddStringToObject(o, "table", tn))) {
		rc = oom(err);
		goto done;
	}
	if (values) {
		cJSON_AddItemToObject(o, "values", values);
		values = NULL;
	}
	if (!(text = cJSON_PrintUnformatted(o)) || ms_buf_adds(&s->incr.lines, text) < 0 ||
	    ms_buf_addc(&s->incr.lines, '\n') < 0) {
		rc = text ? ms_error_set(err, MS_ETOOBIG,
					 "the deletes of snapshot '%s' pass %zu bytes", s->label,
					 TOMBSTONES_MAX)
			  : oom(err);
		goto done;
	}
	s->incr.ntombs++;
done:
	free(text);
	cJSON_Delete(values);
	cJSON_Delete(o);
	return rc;
}

int snap_w_delete_database(ms_catalog *self, const char *name, ms_error *err)
{
	return tomb_line((snapshot *)self, "database", name, NULL, NULL, err);
}

int snap_w_delete_table(ms_catalog *self, const char *db, const char *name, ms_error *err)
{
	return tomb_line((snapshot *)self, "table", db, name, NULL, err);
}

int snap_w_delete_partitions(ms_catalog *self, const char *db, const char *table,
			     const char *const *vkeys, size_t n, ms_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = tomb_line((snapshot *)self, "partition", db, table, vkeys[i], err)) < 0)
			return rc;
	return 0;
}

int snap_write_tombstones(snapshot *s, ms_error *err)
{
	static const char path[] = "tombstones/part-00000.json";
	incr_info *in = &s->incr;
	unsigned char md[MS_HASH_LEN];
	unsigned int mdlen = 0;
	char *key = NULL;
	size_t idx;
	int rc;

	if (!in->incremental)
		return 0;
	if (!(key = snap_dup_printf("%s%s", s->prefix, path)))
		return oom(err);
	if (EVP_Digest(in->lines.len ? in->lines.ptr : "", in->lines.len, md, &mdlen, EVP_sha256(),
		       NULL) != 1) {
		rc = ms_error_set(err, MS_ERROR, "sha-256 of the deletes of '%s' failed", s->label);
		goto done;
	}
	if ((rc = ms_store_put_bytes(s->store, key, in->lines.len ? in->lines.ptr : "",
				     in->lines.len, err)) < 0 ||
	    (rc = snap_note_written(s, key, err)) < 0 ||
	    (rc = snap_file_add(s, F_TOMBSTONES, path, key, &idx, err)) < 0)
		goto done;
	s->files[idx].bytes = in->lines.len;
	s->files[idx].lines = in->ntombs;
	memcpy(s->files[idx].sha, md, MS_HASH_LEN);
	free(key);
	if (!(key = snap_dup_printf("%stombstones/_SUCCESS", s->prefix))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ms_store_put_bytes(s->store, key, "", 0, err)) < 0)
		goto done;
	rc = snap_note_written(s, key, err);
done:
	free(key);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Manifest                                                                 */

static int json_str(ms_buf *b, const char *s)
{
	cJSON *v = s ? cJSON_CreateString(s) : cJSON_CreateNull();
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	int rc = text ? ms_buf_adds(b, text) : -1;

	free(text);
	cJSON_Delete(v);
	return rc;
}

int snap_manifest_incr(const snapshot *s, ms_buf *b)
{
	const incr_info *in = &s->incr;
	size_t i;
	int rc = 0;

	rc |= ms_buf_adds(b, ",\"source_cursor\":");
	rc |= json_str(b, in->source_cursor);
	if (!in->incremental)
		return rc;
	rc |= ms_buf_adds(b, ",\n\"incremental\":true,\"base\":");
	rc |= json_str(b, in->base);
	rc |= ms_buf_printf(b, ",\"chain\":%u,\"tombstones\":%llu,\n\"names\":{\"databases\":[",
			    in->chain, (unsigned long long)in->ntombs);
	for (i = 0; i < in->ndbs; i++) {
		rc |= i ? ms_buf_addc(b, ',') : 0;
		rc |= json_str(b, in->dbs[i]);
	}
	rc |= ms_buf_adds(b, "],\"tables\":[");
	for (i = 0; i < in->ntables; i++) {
		const char *tab = strchr(in->tables[i], '\t');
		char *db = tab ? strndup(in->tables[i], (size_t)(tab - in->tables[i])) : NULL;

		if (!db)
			return -1;
		rc |= ms_buf_adds(b, i ? ",[" : "[");
		rc |= json_str(b, db);
		rc |= ms_buf_addc(b, ',');
		rc |= json_str(b, tab + 1);
		rc |= ms_buf_addc(b, ']');
		free(db);
	}
	return rc | ms_buf_adds(b, "]}");
}

static int bad(const snapshot *s, ms_error *err, const char *what)
{
	return ms_error_set(err, MS_EINTEGRITY, "snapshot '%s' manifest.json is invalid: %s",
			    s->label, what);
}

/* A copy of a JSON string member, folded to lowercase when a name; -1 when not a string. */
static int member_str(const cJSON *v, char **out, int fold)
{
	char buf[NAME_BUF];

	if (!cJSON_IsString(v))
		return -1;
	if (fold && snap_fold(buf, sizeof(buf), v->valuestring) < 0)
		return -1;
	return (*out = strdup(fold ? buf : v->valuestring)) ? 0 : -2;
}

/* "names": every database and table of the source's selection. */
static int parse_names(snapshot *s, const cJSON *names, ms_error *err)
{
	incr_info *in = &s->incr;
	const cJSON *dbs = cJSON_GetObjectItemCaseSensitive(names, "databases");
	const cJSON *tabs = cJSON_GetObjectItemCaseSensitive(names, "tables"), *v;
	int n;

	if (!cJSON_IsArray(dbs) || !cJSON_IsArray(tabs))
		return bad(s, err, "'names' is malformed");
	n = cJSON_GetArraySize(dbs);
	if (n && !(in->dbs = calloc((size_t)n, sizeof(char *))))
		return oom(err);
	cJSON_ArrayForEach(v, dbs)
	{
		int rc = member_str(v, &in->dbs[in->ndbs], 1);

		if (rc < 0)
			return rc == -2 ? oom(err) : bad(s, err, "'names' is malformed");
		in->ndbs++;
	}
	n = cJSON_GetArraySize(tabs);
	if (n && !(in->tables = calloc((size_t)n, sizeof(char *))))
		return oom(err);
	cJSON_ArrayForEach(v, tabs)
	{
		char *d = NULL, *t = NULL;
		int rc = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 ? 0 : -1;

		if (rc == 0 && (rc = member_str(cJSON_GetArrayItem(v, 0), &d, 1)) == 0)
			rc = member_str(cJSON_GetArrayItem(v, 1), &t, 1);
		if (rc == 0 && !(in->tables[in->ntables] = snap_dup_printf("%s\t%s", d, t)))
			rc = -2;
		free(d);
		free(t);
		if (rc < 0)
			return rc == -2 ? oom(err) : bad(s, err, "'names' is malformed");
		in->ntables++;
	}
	if (in->ndbs)
		qsort(in->dbs, in->ndbs, sizeof(char *), cmp_str);
	if (in->ntables)
		qsort(in->tables, in->ntables, sizeof(char *), cmp_str);
	return 0;
}

int snap_parse_incr(snapshot *s, const cJSON *root, ms_error *err)
{
	incr_info *in = &s->incr;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "source_cursor");
	int rc;

	if (cJSON_IsString(v) && (rc = member_str(v, &in->source_cursor, 0)) < 0)
		return oom(err);
	v = cJSON_GetObjectItemCaseSensitive(root, "incremental");
	if (!v || cJSON_IsFalse(v))
		return 0;
	if (!cJSON_IsTrue(v))
		return bad(s, err, "'incremental' is not a boolean");
	in->incremental = 1;
	if (member_str(cJSON_GetObjectItemCaseSensitive(root, "parent"), &in->parent, 0) < 0 ||
	    member_str(cJSON_GetObjectItemCaseSensitive(root, "base"), &in->base, 0) < 0 ||
	    !snap_safe_id(in->parent) || !snap_safe_id(in->base))
		return bad(s, err, "an incremental snapshot's 'parent' or 'base' is malformed");
	v = cJSON_GetObjectItemCaseSensitive(root, "chain");
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9)
		return bad(s, err, "'chain' is malformed");
	in->chain = (unsigned)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(root, "tombstones");
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12)
		return bad(s, err, "'tombstones' is malformed");
	in->ntombs = (uint64_t)v->valuedouble;
	return parse_names(s, cJSON_GetObjectItemCaseSensitive(root, "names"), err);
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */

/* One tombstone line into in->tombs[in->atombs]. */
static int parse_tomb(snapshot *s, const char *line, size_t len, size_t lineno, ms_error *err)
{
	incr_info *in = &s->incr;
	cJSON *o = cJSON_ParseWithLength(line, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(o, "values"), *v;
	tomb_rec *t = &in->tombs[in->atombs];
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (!cJSON_IsString(type) ||
	    member_str(cJSON_GetObjectItemCaseSensitive(o, "database"), &t->db, 1) < 0)
		goto done;
	if (strcmp(type->valuestring, "database") == 0) {
		t->kind = MS_KIND_DATABASE;
		rc = 0;
		goto done;
	}
	if (member_str(cJSON_GetObjectItemCaseSensitive(o, "table"), &t->table, 1) < 0)
		goto done;
	if (strcmp(type->valuestring, "table") == 0) {
		t->kind = MS_KIND_TABLE;
		rc = 0;
	} else if (strcmp(type->valuestring, "partition") == 0 && cJSON_IsArray(values) &&
		   cJSON_GetArraySize(values) > 0 && cJSON_GetArraySize(values) <= 64) {
		const char *vals[64];
		size_t n = 0;
		ms_error e2;

		cJSON_ArrayForEach(v, values)
		{
			if (!cJSON_IsString(v))
				goto done;
			vals[n++] = v->valuestring;
		}
		t->kind = MS_KIND_PARTITION;
		rc = ms_values_key(&t->vkey, vals, n, &e2) < 0 ? -2 : 0;
	}
done:
	cJSON_Delete(o);
	if (rc == 0) {
		in->atombs++;
		return 0;
	}
	/* the record is not counted, but snap_incr_free frees every slot */
	free(t->db);
	free(t->table);
	t->db = t->table = NULL;
	if (rc == -2)
		return oom(err);
	return ms_error_set(err, MS_EINTEGRITY,
			    "snapshot '%s' file 'tombstones/part-00000.json' line %zu: not a "
			    "delete",
			    s->label, lineno);
}

/* Read one tombstone file (checked against the manifest) into in->tombs. */
static int load_tomb_file(snapshot *s, file_rec *f, ms_error *err)
{
	unsigned char md[MS_HASH_LEN];
	unsigned int mdlen = 0;
	char *text = NULL, *p, *nl;
	size_t len = 0, lineno = 0;
	int rc;

	if ((rc = ms_store_get_bytes(s->store, f->key, TOMBSTONES_MAX, &text, &len, err)) < 0)
		return rc;
	if (len != f->bytes || EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    memcmp(md, f->sha, MS_HASH_LEN) != 0) {
		free(text);
		return ms_error_set(err, MS_EINTEGRITY,
				    "snapshot '%s' file '%s' does not match its sha256 in "
				    "manifest.json",
				    s->label, f->path);
	}
	f->seen = 1;
	f->state = 1;
	for (p = text, rc = 0; rc == 0 && p < text + len; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(text + len - p))))
			nl = text + len;
		lineno++;
		if (nl == p)
			continue;
		if (s->incr.atombs >= s->incr.ntombs)
			rc = bad(s, err, "more deletes than 'tombstones' says");
		else
			rc = parse_tomb(s, p, (size_t)(nl - p), lineno, err);
	}
	free(text);
	return rc;
}

int snap_load_tombstones(snapshot *s, ms_error *err)
{
	incr_info *in = &s->incr;
	size_t i;
	int rc;

	for (i = 0; i < s->nfiles; i++)
		if (s->files[i].folder == F_TOMBSTONES && !in->incremental)
			return bad(s, err, "a full snapshot lists deletes");
	if (!in->incremental)
		return 0;
	if (in->ntombs && !(in->tombs = calloc((size_t)in->ntombs, sizeof(*in->tombs))))
		return oom(err);
	for (i = 0; i < s->nfiles; i++)
		if (s->files[i].folder == F_TOMBSTONES &&
		    (rc = load_tomb_file(s, &s->files[i], err)) < 0)
			return rc;
	if (in->atombs != in->ntombs)
		return bad(s, err, "fewer deletes than 'tombstones' says");
	/* from here on ntombs counts the records the reader holds */
	return 0;
}

static int emit(ms_change_cb cb, void *ctx, ms_kind kind, const char *db, const char *table,
		const char *vkey, ms_change_op op, ms_error *err)
{
	ms_change c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.database = db;
	c.table = table;
	c.vkey = vkey;
	c.op = op;
	return cb(&c, ctx, err);
}

typedef struct key_emit {
	ms_change_cb cb;
	void *ctx;
	const table_rec *t;
} key_emit;

static int emit_partition(ms_entity *e, void *ctx, ms_error *err)
{
	key_emit *k = ctx;
	int rc = emit(k->cb, k->ctx, MS_KIND_PARTITION, k->t->database, k->t->name, e->vkey,
		      MS_CHANGE_PUT, err);

	ms_entity_free(e);
	return rc;
}

int snap_r_changes(ms_catalog *self, ms_change_cb cb, void *ctx, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	const incr_info *in = &s->incr;
	size_t i;
	int rc;

	if (!in->incremental)
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "snapshot '%s' is a full snapshot, not a set of changes",
				    s->label);
	for (i = 0; i < s->ndbs; i++)
		if ((rc = emit(cb, ctx, MS_KIND_DATABASE, s->dbs[i].name, NULL, NULL, MS_CHANGE_PUT,
			       err)) != 0)
			return rc;
	for (i = 0; i < s->ntables; i++) {
		key_emit k = { cb, ctx, &s->tables[i] };

		/* its partition files are read: checked against the manifest first */
		if ((rc = ms_catalog_verify_table(self, s->tables[i].database, s->tables[i].name,
						  err)) < 0 ||
		    (rc = emit(cb, ctx, MS_KIND_TABLE, s->tables[i].database, s->tables[i].name,
			       NULL, MS_CHANGE_PUT, err)) != 0 ||
		    (rc = ms_catalog_scan_partitions(self, s->tables[i].database, s->tables[i].name,
						     MS_SCAN_KEYS_ONLY, emit_partition, &k, err)) <
			    0)
			return rc;
	}
	for (i = 0; i < in->atombs; i++) {
		const tomb_rec *t = &in->tombs[i];

		if ((rc = emit(cb, ctx, t->kind, t->db, t->table, t->vkey, MS_CHANGE_DELETE,
			       err)) != 0)
			return rc;
	}
	return 0;
}

int snap_incr_list_databases(const snapshot *s, ms_name_cb cb, void *ctx, ms_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < s->incr.ndbs; i++)
		if ((rc = cb(s->incr.dbs[i], ctx, err)) != 0)
			return rc;
	return 0;
}

int snap_incr_list_tables(const snapshot *s, const char *db, ms_name_cb cb, void *ctx,
			  ms_error *err)
{
	char dn[NAME_BUF];
	size_t i, n;
	int rc;

	if (snap_fold(dn, sizeof(dn), db) < 0)
		return ms_error_set(err, MS_ENOTFOUND, "database '%.64s' not found", db);
	n = strlen(dn);
	for (i = 0; i < s->incr.ntables; i++) {
		const char *t = s->incr.tables[i];

		if (strncmp(t, dn, n) == 0 && t[n] == '\t' && (rc = cb(t + n + 1, ctx, err)) != 0)
			return rc;
	}
	return 0;
}
