/*
 * Entities: a database, table or partition as one owned struct holding its
 * identity (folded names, the values key) next to its Glue-shape document,
 * and the content hash that the planner compares.  The codecs build
 * entities through ms_model_entity_make, which is the one place where the
 * identity is derived from the document, so the two can never disagree.
 */
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>

const char *ms_kind_name(ms_kind kind)
{
	switch (kind) {
	case MS_KIND_DATABASE:
		return "database";
	case MS_KIND_TABLE:
		return "table";
	case MS_KIND_PARTITION:
		return "partition";
	default:
		return "unknown";
	}
}

void ms_entity_free(ms_entity *e)
{
	if (!e)
		return;
	free(e->database);
	free(e->table);
	free(e->vkey);
	cJSON_Delete(e->doc);
	free(e->raw);
	free(e);
}

int ms_entity_parse(ms_entity *e, ms_error *err)
{
	cJSON *doc;

	if (!e)
		return ms_error_set(err, MS_EINVAL, "no entity to parse");
	if (e->doc)
		return 0;
	if (!e->raw)
		return ms_error_set(err, MS_EINVAL, "%s has no document", ms_kind_name(e->kind));
	if (!(doc = cJSON_ParseWithLength(e->raw, e->raw_len)) || !ms_j_obj(doc)) {
		cJSON_Delete(doc);
		return ms_error_set(err, MS_EINVAL, "document of %s '%s' is not a json object",
				    ms_kind_name(e->kind),
				    e->vkey    ? e->vkey
				    : e->table ? e->table
					       : e->database);
	}
	e->doc = doc;
	free(e->raw);
	e->raw = NULL;
	e->raw_len = 0;
	return 0;
}

static char *dup_str(const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	if ((p = malloc(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

/*
 * Set obj[key] to a copy of value.  A static key is pointed at, another
 * one copied.
 */
static int doc_set_string(cJSON *obj, const char *key, int static_key, const char *value)
{
	cJSON *it = ms_model_get(obj, key);
	size_t n = strlen(value) + 1;
	char *copy;

	if (it && ms_j_str(it)) {
		if (!(copy = cJSON_malloc(n)))
			return MS_ENOMEM;
		memcpy(copy, value, n);
		if (!(it->type & cJSON_IsReference))
			cJSON_free(it->valuestring);
		it->valuestring = copy;
		it->type &= ~cJSON_IsReference;
		return 0;
	}
	if (it)
		cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
	if (!(it = cJSON_CreateString(value)))
		return MS_ENOMEM;
	if (!(static_key ? cJSON_AddItemToObjectCS(obj, key, it)
			 : cJSON_AddItemToObject(obj, key, it))) {
		cJSON_Delete(it);
		return MS_ENOMEM;
	}
	return 0;
}

/*
 * One identity name: the document's field `key` if present (already
 * validated and folded by the converter), else `fallback`, which is
 * validated, folded and written into the document.
 */
static int identity_name(ms_conv *c, cJSON *doc, const char *key, const char *fallback,
			 const char *what, char **out)
{
	char subject[32];
	cJSON *it = ms_model_get(doc, key);
	int rc;

	if (it) {
		if (!(*out = dup_str(it->valuestring)))
			return ms_error_set(c->err, MS_ENOMEM, "out of memory");
		return 0;
	}
	if (!fallback) {
		if (c->from_line)
			return ms_error_set(c->err, MS_EINVAL, "line has no '%s'", what);
		return ms_error_set(c->err, MS_EINVAL, "field '%s' is missing", key);
	}
	snprintf(subject, sizeof(subject), "%s name", what);
	if ((rc = ms_model_check_name(c, fallback, subject)) < 0)
		return rc;
	if (!(*out = dup_str(fallback)))
		return ms_error_set(c->err, MS_ENOMEM, "out of memory");
	ms_model_fold(*out);
	if ((rc = doc_set_string(doc, key, 1, *out)) < 0)
		return ms_error_set(c->err, rc, "out of memory");
	return 0;
}

int ms_model_entity_make(ms_entity **out, ms_kind kind, cJSON *doc, const char *database,
			 const char *table, ms_conv *c)
{
	ms_entity *e = NULL;
	cJSON *it;
	int rc = 0;

	if (!(e = calloc(1, sizeof(*e)))) {
		rc = ms_error_set(c->err, MS_ENOMEM, "out of memory");
		goto done;
	}
	e->kind = kind;
	e->doc = doc;
	doc = NULL;
	switch (kind) {
	case MS_KIND_DATABASE:
		it = ms_model_get(e->doc, "Name");
		if (!(e->database = dup_str(it->valuestring))) {
			rc = ms_error_set(c->err, MS_ENOMEM, "out of memory");
			goto done;
		}
		break;
	case MS_KIND_TABLE:
		if ((rc = identity_name(c, e->doc, "DatabaseName", database, "database",
					&e->database)) < 0)
			goto done;
		it = ms_model_get(e->doc, "Name");
		if (!(e->table = dup_str(it->valuestring))) {
			rc = ms_error_set(c->err, MS_ENOMEM, "out of memory");
			goto done;
		}
		break;
	case MS_KIND_PARTITION:
		if ((rc = identity_name(c, e->doc, "DatabaseName", database, "database",
					&e->database)) < 0 ||
		    (rc = identity_name(c, e->doc, "TableName", table, "table", &e->table)) < 0)
			goto done;
		if (!(e->vkey = ms_model_vkey(ms_model_get(e->doc, "Values")))) {
			rc = ms_error_set(c->err, MS_ENOMEM, "out of memory");
			goto done;
		}
		break;
	default:
		rc = ms_error_set(c->err, MS_EINVAL, "unknown entity kind %d", (int)kind);
		goto done;
	}
	if ((rc = ms_entity_rehash(e, c->err)) < 0)
		goto done;
	*out = e;
	e = NULL;
done:
	cJSON_Delete(doc);
	ms_entity_free(e);
	return rc;
}

int ms_entity_rehash(ms_entity *e, ms_error *err)
{
	EVP_MD_CTX *md = NULL;
	unsigned int n = 0;
	ms_sink s;
	int rc = 0;

	if (!e || (!e->doc && !e->raw))
		return ms_error_set(err, MS_EINVAL, "entity has no document to hash");
	if ((rc = ms_entity_parse(e, err)) < 0)
		return rc;
	if (!(md = ms_model_sha256_begin())) {
		rc = ms_error_set(err, MS_ERROR, "cannot start a sha-256 digest");
		goto done;
	}
	ms_sink_init_md(&s, md);
	ms_sink_sorted(&s, e->doc, 1, 0);
	if ((rc = ms_sink_flush(&s)) < 0) {
		if (rc == MS_EINVAL && s.dupkey)
			ms_error_set(err, rc, "key '%.100s' appears twice in one object", s.dupkey);
		else
			ms_error_set(err, rc, "cannot hash the %s document", ms_kind_name(e->kind));
		goto done;
	}
	if (EVP_DigestFinal_ex(md, e->hash, &n) != 1 || n != MS_HASH_LEN) {
		rc = ms_error_set(err, MS_ERROR, "sha-256 digest failed");
		goto done;
	}
	e->hashed = 1;
done:
	EVP_MD_CTX_free(md);
	return rc;
}

int ms_entity_dup(ms_entity **out, const ms_entity *e, ms_error *err)
{
	ms_entity *d = NULL;
	int rc = 0;

	if (!e)
		return ms_error_set(err, MS_EINVAL, "no entity to copy");
	if (!(d = calloc(1, sizeof(*d))))
		goto nomem;
	d->kind = e->kind;
	if ((e->database && !(d->database = dup_str(e->database))) ||
	    (e->table && !(d->table = dup_str(e->table))) ||
	    (e->vkey && !(d->vkey = dup_str(e->vkey))) ||
	    (e->doc && !(d->doc = cJSON_Duplicate(e->doc, 1))))
		goto nomem;
	if (e->raw) {
		if (!(d->raw = malloc(e->raw_len + 1)))
			goto nomem;
		memcpy(d->raw, e->raw, e->raw_len);
		d->raw[e->raw_len] = '\0';
		d->raw_len = e->raw_len;
	}
	memcpy(d->hash, e->hash, MS_HASH_LEN);
	d->hashed = e->hashed;
	*out = d;
	d = NULL;
	goto done;
nomem:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	ms_entity_free(d);
	return rc;
}

const char *ms_entity_param(const ms_entity *e, const char *key)
{
	cJSON *params, *v;

	if (!e || !e->doc || !key)
		return NULL;
	params = ms_model_get(e->doc, "Parameters");
	if (!ms_j_obj(params))
		return NULL;
	v = ms_model_get(params, key);
	return ms_j_str(v) ? v->valuestring : NULL;
}

/* Size of the array member key of e's document (parsed from raw if need be), or -1. */
static int doc_array_size(const ms_entity *e, const char *key)
{
	cJSON *parsed = NULL;
	const cJSON *doc = e->doc, *a;
	int n;

	if (!doc && e->raw)
		doc = parsed = cJSON_ParseWithLength(e->raw, e->raw_len);
	if (!ms_j_obj(doc))
		n = -1;
	else if (!(a = ms_model_get(doc, key)))
		n = 0;
	else
		n = ms_j_arr(a) ? cJSON_GetArraySize(a) : -1;
	cJSON_Delete(parsed);
	return n;
}

int ms_table_key_count(const ms_entity *table)
{
	if (!table || table->kind != MS_KIND_TABLE)
		return -1;
	return doc_array_size(table, "PartitionKeys");
}

int ms_partition_check_count(const char *database, const char *table, const char *vkey,
			     size_t nvalues, size_t nkeys, ms_error *err)
{
	if (nvalues == 0)
		return ms_error_set(err, MS_EINVAL, "partition of '%s.%s' has no values", database,
				    table);
	if (nvalues == nkeys)
		return 0;
	if (nkeys == 0)
		return ms_error_set(err, MS_EINVAL,
				    "partition %.200s of '%s.%s' has %zu value%s, the table has no "
				    "partition keys",
				    vkey, database, table, nvalues, nvalues == 1 ? "" : "s");
	return ms_error_set(err, MS_EINVAL,
			    "partition %.200s of '%s.%s' has %zu value%s, the table has %zu "
			    "partition key%s",
			    vkey, database, table, nvalues, nvalues == 1 ? "" : "s", nkeys,
			    nkeys == 1 ? "" : "s");
}

int ms_partition_check_values(const ms_entity *table, const ms_entity *partition, ms_error *err)
{
	int nkeys = ms_table_key_count(table), nvalues;

	if (!partition || partition->kind != MS_KIND_PARTITION || !partition->vkey)
		return ms_error_set(err, MS_EINVAL, "no partition to check");
	if (nkeys < 0)
		return ms_error_set(err, MS_EINVAL,
				    "table of partition %.200s of '%s.%s' has no readable document",
				    partition->vkey, partition->database, partition->table);
	if ((nvalues = doc_array_size(partition, "Values")) < 0) {
		cJSON *v = cJSON_Parse(partition->vkey);

		nvalues = ms_j_arr(v) ? cJSON_GetArraySize(v) : 0;
		cJSON_Delete(v);
	}
	return ms_partition_check_count(partition->database, partition->table, partition->vkey,
					(size_t)nvalues, (size_t)nkeys, err);
}

/*
 * Setting a parameter other than a marker invalidates the hash (`hashed`
 * is cleared); markers are outside the hash and leave it valid.
 */
int ms_entity_set_param(ms_entity *e, const char *key, const char *value, ms_error *err)
{
	size_t chars;
	cJSON *params, *it;
	unsigned bits;
	int rc = 0;

	if (!e || !key)
		return ms_error_set(err, MS_EINVAL, "set parameter needs an entity and a key");
	if (!e->doc && !e->raw)
		return ms_error_set(err, MS_EINVAL, "entity has no document");
	if ((rc = ms_entity_parse(e, err)) < 0)
		return rc;
	if (!*key || ms_model_utf8_scan(key, strlen(key), &chars, &bits) < 0 ||
	    chars > MS_PARAM_KEY_MAX || bits)
		return ms_error_set(err, MS_EINVAL,
				    "parameter key '%.40s' is empty, too long, not one line or not "
				    "valid utf-8",
				    key);
	if (value && (ms_model_utf8_scan(value, strlen(value), &chars, NULL) < 0 ||
		      chars > MS_PARAM_VALUE_MAX))
		return ms_error_set(err, MS_EINVAL,
				    "value of parameter '%.40s' is too long or not valid utf-8",
				    key);
	params = ms_model_get(e->doc, "Parameters");
	if (params && !ms_j_obj(params))
		return ms_error_set(err, MS_EINVAL, "field 'Parameters' is not an object");
	if (!value) {
		if (params && (it = ms_model_get(params, key)) != NULL)
			cJSON_Delete(cJSON_DetachItemViaPointer(params, it));
	} else {
		if (!params) {
			if (!(params = cJSON_CreateObject()))
				return ms_error_set(err, MS_ENOMEM, "out of memory");
			cJSON_AddItemToObjectCS(e->doc, "Parameters", params);
		}
		if ((rc = doc_set_string(params, key, 0, value)) < 0)
			return ms_error_set(err, rc, "out of memory");
	}
	if (strncmp(key, MS_MARKER_PREFIX, sizeof(MS_MARKER_PREFIX) - 1))
		e->hashed = 0;
	return 0;
}

/*
 * The document's name fields change with the identity; a hashed database or
 * table whose own Name changes is rehashed, since that Name is part of its
 * content (DatabaseName and TableName are not).
 */
int ms_entity_rename(ms_entity *e, const char *database, const char *table, ms_error *err)
{
	ms_conv c = { 0, err };
	char *db = NULL, *tb = NULL;
	const char *db_key = NULL, *tb_key = NULL;
	int rc = 0, rehash;

	if (!e)
		return ms_error_set(err, MS_EINVAL, "no entity to rename");
	switch (e->kind) {
	case MS_KIND_DATABASE:
		db_key = "Name";
		if (table) {
			rc = ms_error_set(err, MS_EINVAL, "database '%s' has no table to rename",
					  e->database ? e->database : "");
			goto done;
		}
		break;
	case MS_KIND_TABLE:
		db_key = "DatabaseName";
		tb_key = "Name";
		break;
	case MS_KIND_PARTITION:
		db_key = "DatabaseName";
		tb_key = "TableName";
		break;
	default:
		rc = ms_error_set(err, MS_EINVAL, "unknown entity kind %d", (int)e->kind);
		goto done;
	}
	if (database) {
		if ((rc = ms_model_check_name(&c, database, "database name")) < 0)
			goto done;
		if (!(db = dup_str(database)))
			goto nomem;
		ms_model_fold(db);
	}
	if (table) {
		if ((rc = ms_model_check_name(&c, table, "table name")) < 0)
			goto done;
		if (!(tb = dup_str(table)))
			goto nomem;
		ms_model_fold(tb);
	}
	if (e->raw && (rc = ms_entity_parse(e, err)) < 0)
		goto done;
	/* Only a database's or a table's own Name is part of its content. */
	rehash = e->hashed && e->doc &&
		 ((e->kind == MS_KIND_DATABASE && db &&
		   strcmp(db, e->database ? e->database : "")) ||
		  (e->kind == MS_KIND_TABLE && tb && strcmp(tb, e->table ? e->table : "")));
	if (e->doc) {
		if ((db && doc_set_string(e->doc, db_key, 1, db) < 0) ||
		    (tb && doc_set_string(e->doc, tb_key, 1, tb) < 0))
			goto nomem;
	}
	if (db) {
		free(e->database);
		e->database = db;
		db = NULL;
	}
	if (tb) {
		free(e->table);
		e->table = tb;
		tb = NULL;
	}
	if (rehash)
		rc = ms_entity_rehash(e, err);
	goto done;
nomem:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	free(db);
	free(tb);
	return rc;
}
