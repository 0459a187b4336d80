/*
 * Stored documents of the embedded SQLite catalog: the canonical JSON a put
 * writes (the caller's document with this catalog's names, CatalogId and
 * times set, composed without copying it), and the entities built back
 * from stored rows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/catalog/sqlite_internal.h"

/* Append the canonical JSON of v to out, mapping the model's failure to an error. */
static int canon(sqlite_catalog *self, const cJSON *v, ms_buf *out, const char *what, ms_error *err)
{
	int rc = ms_canonical_json(v, 0, out);

	if (rc == MS_ETOOBIG)
		return ms_error_set(err, MS_ETOOBIG, "document of %s is larger than %zu bytes",
				    what, out->cap);
	if (rc < 0)
		return ms_error_set(err, rc, "cannot encode the document of %s for '%s'", what,
				    self->base.url);
	return 0;
}

static int canon_string(sqlite_catalog *self, ms_buf *out, const char *s, ms_error *err)
{
	cJSON *v = cJSON_CreateString(s);
	int rc;

	if (!v)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_buf_reset(out);
	rc = canon(self, v, out, "a name", err);
	cJSON_Delete(v);
	return rc;
}

static int canon_number(sqlite_catalog *self, ms_buf *out, double d, ms_error *err)
{
	cJSON *v = cJSON_CreateNumber(d);
	int rc;

	if (!v)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_buf_reset(out);
	rc = canon(self, v, out, "a timestamp", err);
	cJSON_Delete(v);
	return rc;
}

void sqlite_texts_init(put_texts *t)
{
	ms_buf_init(&t->database, SQLITE_CATALOG_DOC_MAX);
	ms_buf_init(&t->table, SQLITE_CATALOG_DOC_MAX);
	ms_buf_init(&t->catalog, SQLITE_CATALOG_DOC_MAX);
	ms_buf_init(&t->now, 64);
	ms_buf_init(&t->stored, 4096);
	t->now_seconds = (long long)time(NULL);
}

void sqlite_texts_free(put_texts *t)
{
	ms_buf_free(&t->database);
	ms_buf_free(&t->table);
	ms_buf_free(&t->catalog);
	ms_buf_free(&t->now);
	ms_buf_free(&t->stored);
}

/* Fill the texts a put writes into every document: names, CatalogId, now. */
int sqlite_texts_prepare(sqlite_catalog *self, put_texts *t, const char *db, const char *table,
			 ms_error *err)
{
	int rc;

	if ((rc = canon_string(self, &t->database, db, err)) < 0)
		return rc;
	if (table && (rc = canon_string(self, &t->table, table, err)) < 0)
		return rc;
	if (self->catalog_id && (rc = canon_string(self, &t->catalog, self->catalog_id, err)) < 0)
		return rc;
	return canon_number(self, &t->now, (double)t->now_seconds, err);
}

/*
 * Read the stored creation time (column 0 of a ctime statement already
 * bound) into t->stored as canonical text; *found is 0 when the stored
 * document has none.
 */
int sqlite_read_stored_time(sqlite_catalog *self, sqlite3_stmt *st, put_texts *t, int *found,
			    const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	int rc = sqlite3_step(st);

	*found = 0;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return sqlite_fail(self, rc, err, "cannot read %s in '%s'",
				   sqlite_subject_text(subj, what, sizeof(what)), self->base.url);
	switch (sqlite3_column_type(st, 0)) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		*found = 1;
		return canon_number(self, &t->stored, sqlite3_column_double(st, 0), err);
	case SQLITE_TEXT:
		*found = 1;
		return canon_string(self, &t->stored, (const char *)sqlite3_column_text(st, 0),
				    err);
	default:
		return 0;
	}
}

/* Keys written without escapes in canonical JSON; others go through the model. */
static int plain_key(const char *k)
{
	for (; *k; k++)
		if ((unsigned char)*k < 0x20 || (unsigned char)*k > 0x7e || *k == '"' ||
		    *k == '\\' || *k == '/')
			return 0;
	return 1;
}

static int field_cmp(const void *a, const void *b)
{
	return strcmp(((const doc_field *)a)->key, ((const doc_field *)b)->key);
}

/*
 * Write into self->doc the canonical JSON of doc with the top-level fields in
 * ov set or removed, without copying or changing doc: the text equals
 * ms_canonical_json of the changed document.  Only the top level is
 * re-sorted here; every value is encoded by the model.
 */
int sqlite_compose_doc(sqlite_catalog *self, const cJSON *doc, const doc_override *ov, size_t nov,
		       const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	ms_buf *b = &self->doc;
	int kept[8] = { 0 };
	const cJSON *c;
	size_t n = 0, i, j;
	int rc = 0;

	if (!cJSON_IsObject(doc))
		return ms_error_set(err, MS_EINVAL, "document of %s is not a json object",
				    sqlite_subject_text(subj, what, sizeof(what)));
	for (c = doc->child;; c = c->next) {
		if (n + nov + 1 > self->fields_alloc) {
			size_t na = self->fields_alloc ? self->fields_alloc * 2 : 32;
			doc_field *nf = realloc(self->fields, na * sizeof(*nf));

			if (!nf)
				return ms_error_set(err, MS_ENOMEM, "out of memory");
			self->fields = nf;
			self->fields_alloc = na;
		}
		if (!c)
			break;
		if (!c->string)
			return ms_error_set(err, MS_EINVAL, "document of %s has a nameless field",
					    sqlite_subject_text(subj, what, sizeof(what)));
		for (j = 0; j < nov; j++)
			if (strcmp(ov[j].key, c->string) == 0)
				break;
		if (j < nov) {
			if (!ov[j].keep_doc)
				continue;
			kept[j] = 1;
		}
		self->fields[n].key = c->string;
		self->fields[n].item = c;
		self->fields[n].text = NULL;
		n++;
	}
	for (j = 0; j < nov; j++) {
		if (kept[j] || !ov[j].text)
			continue;
		self->fields[n].key = ov[j].key;
		self->fields[n].item = NULL;
		self->fields[n].text = ov[j].text;
		n++;
	}
	qsort(self->fields, n, sizeof(*self->fields), field_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(self->fields[i - 1].key, self->fields[i].key) == 0) {
			rc = MS_EINVAL;
			goto done;
		}

	ms_buf_reset(b);
	if ((rc = ms_buf_addc(b, '{')) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		const doc_field *f = &self->fields[i];

		if (i && (rc = ms_buf_addc(b, ',')) < 0)
			goto done;
		if (plain_key(f->key)) {
			if ((rc = ms_buf_addc(b, '"')) < 0 || (rc = ms_buf_adds(b, f->key)) < 0 ||
			    (rc = ms_buf_add(b, "\":", 2)) < 0)
				goto done;
		} else {
			cJSON *k = cJSON_CreateString(f->key);

			if (!k) {
				rc = MS_ENOMEM;
				goto done;
			}
			rc = ms_canonical_json(k, 0, b);
			cJSON_Delete(k);
			if (rc < 0 || (rc = ms_buf_addc(b, ':')) < 0)
				goto done;
		}
		if (f->item)
			rc = ms_canonical_json(f->item, 0, b);
		else
			rc = ms_buf_add(b, f->text->ptr, f->text->len);
		if (rc < 0)
			goto done;
	}
	rc = ms_buf_addc(b, '}');
done:
	if (rc < 0)
		sqlite_subject_text(subj, what, sizeof(what));
	if (rc == MS_ETOOBIG)
		return ms_error_set(err, MS_ETOOBIG, "document of %s is larger than %zu bytes",
				    what, b->cap);
	if (rc == MS_EINVAL)
		return ms_error_set(err, MS_EINVAL, "document of %s has a field twice", what);
	if (rc < 0)
		return ms_error_set(err, rc, "cannot encode the document of %s for '%s'", what,
				    self->base.url);
	return 0;
}

/* The content hash of e; an entity without one is hashed by the model. */
int sqlite_entity_hash(const ms_entity *e, unsigned char out[MS_HASH_LEN], ms_error *err)
{
	ms_entity *copy = NULL;
	int rc;

	if (e->hashed) {
		memcpy(out, e->hash, MS_HASH_LEN);
		return 0;
	}
	if ((rc = ms_entity_dup(&copy, e, err)) < 0)
		return rc;
	if ((rc = ms_entity_rehash(copy, err)) == 0)
		memcpy(out, copy->hash, MS_HASH_LEN);
	ms_entity_free(copy);
	return rc;
}

/*
 * Write self->doc and hash through a statement whose parameters are
 * (id, doc, hash) or (id, name, doc, hash): `first` is the number of the
 * doc parameter.
 */
int sqlite_write_doc(sqlite_catalog *self, sqlite3_stmt *st, int first, const unsigned char *hash,
		     const subject *subj, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	int rc;

	sqlite3_bind_text(st, first, self->doc.ptr, (int)self->doc.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, first + 1, hash, MS_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rc = sqlite_fail(self, rc, err, "cannot write %s to '%s'",
				 sqlite_subject_text(subj, what, sizeof(what)), self->base.url);
	else
		rc = 0;
	sqlite3_reset(st);
	return rc;
}

/*
 * Build an entity from a stored row (new).  doc may be NULL for key-only
 * reads; with raw set the stored text is copied into e->raw, not parsed.
 * The stored hash is trusted, not recomputed.
 */
static int row_entity(sqlite_catalog *self, ms_entity **out, ms_kind kind, const char *db,
		      const char *table, const char *vkey, const char *doc, int doclen, int raw,
		      const void *hash, int hashlen, ms_error *err)
{
	ms_entity *e;
	const char *name = vkey ? vkey : table ? table : db;

	if (hashlen != MS_HASH_LEN)
		return ms_error_set(err, MS_EIO, "stored hash of %s '%s' in '%s' is corrupt",
				    ms_kind_name(kind), name, self->base.url);
	if (doc && (size_t)doclen > SQLITE_CATALOG_DOC_MAX)
		return ms_error_set(err, MS_ETOOBIG,
				    "stored document of %s '%s' in '%s' is larger than %zu bytes",
				    ms_kind_name(kind), name, self->base.url,
				    SQLITE_CATALOG_DOC_MAX);
	if (!(e = calloc(1, sizeof(*e))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	e->kind = kind;
	memcpy(e->hash, hash, MS_HASH_LEN);
	e->hashed = 1;
	if (!(e->database = strdup(db)) || (table && !(e->table = strdup(table))) ||
	    (vkey && !(e->vkey = strdup(vkey)))) {
		ms_entity_free(e);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if (doc && raw) {
		if (!(e->raw = malloc((size_t)doclen + 1))) {
			ms_entity_free(e);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		memcpy(e->raw, doc, (size_t)doclen);
		e->raw[doclen] = '\0';
		e->raw_len = (size_t)doclen;
	} else if (doc && !(e->doc = cJSON_ParseWithLength(doc, (size_t)doclen))) {
		ms_entity_free(e);
		return ms_error_set(err, MS_EIO, "stored document of %s '%s' in '%s' is not json",
				    ms_kind_name(kind), name, self->base.url);
	}
	*out = e;
	return 0;
}

/* Step a (doc, hash) statement already bound and build the entity of subj. */
int sqlite_get_row(sqlite_catalog *self, sqlite3_stmt *st, ms_entity **out, const subject *subj,
		   ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	const char *doc;
	const void *hash;
	int doclen, hashlen, rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return ms_error_set(err, MS_ENOTFOUND, "%s not found in '%s'",
				    sqlite_subject_text(subj, what, sizeof(what)), self->base.url);
	if (rc != SQLITE_ROW)
		return sqlite_fail(self, rc, err, "cannot read %s in '%s'",
				   sqlite_subject_text(subj, what, sizeof(what)), self->base.url);
	doc = (const char *)sqlite3_column_text(st, 0);
	doclen = sqlite3_column_bytes(st, 0);
	hash = sqlite3_column_blob(st, 1);
	hashlen = sqlite3_column_bytes(st, 1);
	return row_entity(self, out, subj->kind, subj->db, subj->table,
			  subj->kind == MS_KIND_PARTITION ? subj->vkey : NULL, doc, doclen, 0, hash,
			  hashlen, err);
}

/*
 * Stream the rows (vkey or NULL, hash, doc) of a statement already bound to
 * cb as entities of subj's kind and names; without the doc column with
 * MS_SCAN_KEYS_ONLY, copied into raw with MS_SCAN_RAW.
 */
int sqlite_stream_rows(sqlite_catalog *self, sqlite3_stmt *st, const subject *subj,
		       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err)
{
	int keys_only = (flags & MS_SCAN_KEYS_ONLY) != 0, raw = (flags & MS_SCAN_RAW) != 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* fetch each column's pointer before its length, as SQLite asks */
		const char *vkey = (const char *)sqlite3_column_text(st, 0);
		const void *hash = sqlite3_column_blob(st, 1);
		int hashlen = sqlite3_column_bytes(st, 1);
		const char *doc = keys_only ? NULL : (const char *)sqlite3_column_text(st, 2);
		int doclen = keys_only ? 0 : sqlite3_column_bytes(st, 2);
		ms_entity *e = NULL;

		rc = row_entity(self, &e, subj->kind, subj->db, subj->table, vkey, doc, doclen, raw,
				hash, hashlen, err);
		if (rc < 0 || (rc = cb(e, ctx, err)) != 0)
			return rc;
	}
	if (rc != SQLITE_DONE)
		return sqlite_fail(self, rc, err, "cannot read %s of '%s.%s' in '%s'",
				   subj->kind == MS_KIND_PARTITION ? "partitions" : "versions",
				   subj->db, subj->table, self->base.url);
	return 0;
}
