/*
 * The `metasync.hms` stash of the Hive Metastore driver: what Hive has no
 * column for is kept in one marker parameter of the entity, so that a round
 * trip through Hive gives back the same document.  This file holds the
 * stash's writing and reading, the small cJSON helpers the driver builds
 * documents with, the column checks that refuse what Hive cannot store,
 * and the warning that names what was stashed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"
#include "drivers/catalog/hms_map.h"

/* ---- checks and warnings ------------------------------------------------ */

static const char *subj_text(const subject *s, char *buf, size_t n)
{
	if (s->kind == MS_KIND_DATABASE)
		snprintf(buf, n, "database '%s'", s->db);
	else if (s->kind == MS_KIND_TABLE)
		snprintf(buf, n, "table '%s.%s'", s->db, s->table);
	else
		snprintf(buf, n, "partition %s of '%s.%s'", s->vkey ? s->vkey : "?", s->db,
			 s->table);
	return buf;
}

/*
 * Refuse a value longer than its Hive column ("TABLE.COLUMN"); on MySQL,
 * whose 3.1 schema is latin1, refuse characters outside latin1 too.
 */
int hms_check(hms_catalog *self, const subject *s, const char *column, const char *v, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	size_t limit, n, len;

	if (!v)
		return 0;
	len = strlen(v);
	limit = hms_column_limit(self->dialect, column);
	n = hms_chars(v, len);
	if (limit && n > limit)
		return ms_error_set(err, MS_EINVAL,
				    "%s: value of %s is %zu characters, longer than its %zu",
				    subj_text(s, what, sizeof(what)), column, n, limit);
	if (!hms_storable(self, v))
		return ms_error_set(err, MS_EINVAL,
				    "%s: value of %s has characters that a latin1 hive schema "
				    "cannot store",
				    subj_text(s, what, sizeof(what)), column);
	return 0;
}

/* 0 when s cannot be stored in (so cannot be found in) this schema's text columns. */
int hms_storable(const hms_catalog *self, const char *s)
{
	if (self->dialect != HMS_MYSQL)
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s >= 0xc4 && (unsigned char)*s < 0xf8)
			return 0;
	return 1;
}

void hms_warn(hms_catalog *self, const subject *s, const char *fields)
{
	char what[MS_ERROR_MESSAGE_MAX], msg[MS_ERROR_MESSAGE_MAX * 2];

	if (!self->warn)
		return;
	snprintf(msg, sizeof(msg),
		 "%s: %s kept in parameter '" HMS_STASH "' of '%s' (no hive metastore column)",
		 subj_text(s, what, sizeof(what)), fields, self->base.url);
	self->warn(self->warn_ctx, msg);
}

/* ---- small JSON helpers ------------------------------------------------- */

const char *hms_jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *hms_jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

int hms_jadd_str(cJSON *o, const char *k, const char *v)
{
	return v && !cJSON_AddStringToObject(o, k, v) ? MS_ENOMEM : 0;
}

int hms_jadd_num(cJSON *o, const char *k, const char *v)
{
	return v && !cJSON_AddNumberToObject(o, k, (double)strtoll(v, NULL, 10)) ? MS_ENOMEM : 0;
}

/*
 * The same with a key that is a string literal, not copied (cJSON's
 * constant keys): documents read in bulk are built with these, which saves
 * an allocation and a free per member.
 */
cJSON *hms_jlit(cJSON *o, const char *lit, cJSON *item)
{
	if (item && !cJSON_AddItemToObjectCS(o, lit, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

int hms_jlit_str(cJSON *o, const char *lit, const char *v)
{
	return v && !hms_jlit(o, lit, cJSON_CreateString(v)) ? MS_ENOMEM : 0;
}

int hms_jlit_num(cJSON *o, const char *lit, const char *v)
{
	return v && !hms_jlit(o, lit, cJSON_CreateNumber((double)strtoll(v, NULL, 10))) ? MS_ENOMEM
											: 0;
}

int hms_in_list(const char *const *names, const char *k)
{
	for (; *names; names++)
		if (strcmp(*names, k) == 0)
			return 1;
	return 0;
}

long long hms_num(const cJSON *v, long long dflt)
{
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : dflt;
}

int hms_empty_container(const cJSON *v)
{
	return v && (cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child;
}

/* ---- the stash, written ------------------------------------------------- */

int hms_stash_obj(stash *s, const char *key, cJSON **out)
{
	cJSON *o;

	if (!s->o && !(s->o = cJSON_CreateObject()))
		return MS_ENOMEM;
	if (!(o = cJSON_GetObjectItemCaseSensitive(s->o, key)) &&
	    !(o = cJSON_AddObjectToObject(s->o, key)))
		return MS_ENOMEM;
	*out = o;
	return 0;
}

/* Keep field f (a copy) under stash[key][name]; note it for the warning. */
int hms_stash_keep(stash *s, const char *key, const char *name, const cJSON *f, const char *label)
{
	cJSON *o, *copy;
	int rc;

	if ((rc = hms_stash_obj(s, key, &o)) < 0)
		return rc;
	if (!(copy = cJSON_Duplicate(f, 1)))
		return MS_ENOMEM;
	cJSON_AddItemToObject(o, name, copy);
	if (label) {
		if (s->fields.len && ms_buf_adds(&s->fields, ", ") < 0)
			return 0;
		(void)ms_buf_adds(&s->fields, label);
	}
	return 0;
}

int hms_stash_keep_at(stash *s, const char *key, int idx, const cJSON *f, const char *label)
{
	char k[16];
	cJSON *c, *o;
	int rc;

	snprintf(k, sizeof(k), "%d", idx);
	if ((rc = hms_stash_obj(s, key, &c)) < 0)
		return rc;
	if (!(o = cJSON_GetObjectItemCaseSensitive(c, k)) && !(o = cJSON_AddObjectToObject(c, k)))
		return MS_ENOMEM;
	cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
	if (s->fields.len)
		(void)ms_buf_adds(&s->fields, ", ");
	(void)ms_buf_adds(&s->fields, label);
	return 0;
}

int hms_stash_unknown(stash *s, const cJSON *o, const char *const *known, const char *key)
{
	const cJSON *f;
	int rc;

	cJSON_ArrayForEach(f, o)
	{
		if (!hms_in_list(known, f->string) &&
		    (rc = hms_stash_keep(s, key, f->string, f, f->string)) < 0)
			return rc;
	}
	return 0;
}

/* Record that a field was present with the value Hive stores when it is absent. */
int hms_stash_default(stash *s, const char *path)
{
	cJSON *d, *v;

	if (!s->o && !(s->o = cJSON_CreateObject()))
		return MS_ENOMEM;
	if (!(d = cJSON_GetObjectItemCaseSensitive(s->o, "d")) &&
	    !(d = cJSON_AddArrayToObject(s->o, "d")))
		return MS_ENOMEM;
	if (!(v = cJSON_CreateString(path)))
		return MS_ENOMEM;
	cJSON_AddItemToArray(d, v);
	return 0;
}

/* Stash text for a params table, or NULL when there is nothing to keep. */
int hms_stash_text(stash *st, char **out)
{
	*out = NULL;
	if (!st->o)
		return 0;
	if (!(*out = cJSON_PrintUnformatted(st->o)))
		return MS_ENOMEM;
	return 0;
}

void hms_stash_free(stash *s)
{
	cJSON_Delete(s->o);
	ms_buf_free(&s->fields);
	memset(s, 0, sizeof(*s));
}

/* ---- the stash, read ---------------------------------------------------- */

int hms_has_default(const cJSON *st, const char *path)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, hms_jget(st, "d"))
	{
		if (cJSON_IsString(v) && strcmp(v->valuestring, path) == 0)
			return 1;
	}
	return 0;
}

void hms_restore(cJSON *obj, const cJSON *from)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, from)
	{
		cJSON_AddItemToObject(obj, x->string, cJSON_Duplicate(x, 1));
	}
}

void hms_restore_indexed(const cJSON *arr, const cJSON *by_index)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, by_index)
	{
		cJSON *e = cJSON_GetArrayItem(arr, atoi(x->string));

		if (e)
			hms_restore(e, x);
	}
}

/*
 * The entity of a document read from the metastore (steals doc).  What
 * Hive holds and Glue's model refuses (a value too long, an empty owner or
 * partition value, a line break in a parameter key, ...) is MS_EINVAL
 * naming the entity and the field.  The document is checked in place
 * before the entity is made, so that the message can name a partition by
 * its values at no cost to the partitions that are fine.
 */
static int build_entity(hms_catalog *self, ms_entity **out, ms_kind kind, cJSON *doc,
			const char *db, const char *table, ms_error *err)
{
	ms_conv c = { 0, err };
	const cJSON *name = hms_jget(doc, "Name");
	char *values = NULL;
	int rc;

	ms_model_init();
	if ((rc = ms_model_convert(&c, doc, ms_schema_for(kind), NULL)) == 0)
		return ms_model_entity_make(out, kind, doc, db, table, &c);
	if (kind == MS_KIND_PARTITION)
		values = cJSON_PrintUnformatted(hms_jget(doc, "Values"));
	if (kind == MS_KIND_DATABASE)
		ms_error_prefix(err, "'%s': database '%s': ", self->base.url,
				cJSON_IsString(name) ? name->valuestring : "?");
	else if (kind == MS_KIND_TABLE)
		ms_error_prefix(err, "'%s': table '%s.%s': ", self->base.url, db,
				cJSON_IsString(name) ? name->valuestring : "?");
	else
		ms_error_prefix(err, "'%s': partition %.200s of '%s.%s': ", self->base.url,
				values ? values : "?", db, table);
	cJSON_free(values);
	cJSON_Delete(doc);
	return rc;
}

/*
 * Shape a table's, partition's or database's top level with its stash
 * (taken out of Parameters) and build the entity.
 */
int hms_finish_entity(hms_catalog *self, ms_entity **out, ms_kind kind, cJSON *doc, cJSON *st,
		      const char *db, const char *table, ms_error *err)
{
	const cJSON *x;
	/* Hive's defaults, and empty texts that stand for nothing (Glue takes no empty Owner) */
	static const char *const top[] = { "Retention",   "LastAccessTime",
					   "Parameters",  "PartitionKeys",
					   "LocationUri", "Owner",
					   NULL };
	const char *const *f;

	/* parameters added for Hive's tools, still as they were written */
	cJSON_ArrayForEach(x, hms_jget(st, "a"))
	{
		cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
		const char *have = hms_jstr(params, x->string);

		if (have && cJSON_IsString(x) && strcmp(have, x->valuestring) == 0)
			cJSON_DeleteItemFromObjectCaseSensitive(params, x->string);
	}
	for (f = top; *f; f++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, *f);

		if (!v)
			continue;
		if (((cJSON_IsNumber(v) && v->valuedouble == 0) || hms_empty_container(v) ||
		     (cJSON_IsString(v) && !*v->valuestring)) &&
		    !hms_has_default(st, *f))
			cJSON_DeleteItemFromObjectCaseSensitive(doc, *f);
	}
	hms_restore(doc, hms_jget(st, "x"));
	hms_restore_indexed(hms_jget(doc, "PartitionKeys"), hms_jget(st, "k"));
	cJSON_Delete(st);
	return build_entity(self, out, kind, doc, db, table, err);
}

/* Parse and remove the stash parameter of a document being read (new or NULL). */
cJSON *hms_take_stash(cJSON *doc)
{
	cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
	const char *s = hms_jstr(params, HMS_STASH);
	cJSON *st = s ? cJSON_Parse(s) : NULL;

	cJSON_DeleteItemFromObjectCaseSensitive(params, HMS_STASH);
	if (st && !cJSON_IsObject(st)) {
		cJSON_Delete(st);
		st = NULL;
	}
	return st;
}
