/*
 * The `metasync.glue-stash` of the glue:// driver: what an entity holds
 * that Glue's DatabaseInput, TableInput or PartitionInput has no member for
 * (members a Hive Metastore or a newer source gave it, at any depth) is
 * kept as JSON in one marker parameter, and put back when the entity is
 * read, so that a round trip through Glue gives back the same document and
 * the same content hash.  Two more facts ride along: that the entity had no
 * Parameters (the stash made them), and that a database had no
 * CreateTableDefaultPermissions (Glue adds its default to a database
 * created without).  Members Glue assigns itself (CreateTime, VersionId,
 * ...: the OUT members of the model's schema) are never stashed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"

#define STASH_KEY "metasync.glue-stash"
#define NO_PARAMS "-no-parameters"
#define NO_CTDP "-no-default-permissions"

/* Top-level members Glue assigns (schema.c's OUT members). */
static int assigned(const char *k)
{
	static const char *const names[] = {
		"CreateTime",     "UpdateTime",         "CreationTime",
		"CatalogId",      "CreatedBy",          "DatabaseName",
		"TableName",      "VersionId",          "IsRegisteredWithLakeFormation",
		"FederatedTable", "IsMultiDialectView", "IsMaterializedView",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

static int add_dup(cJSON *out, const char *key, const cJSON *v)
{
	cJSON *d = cJSON_Duplicate(v, 1);

	if (!d || !cJSON_AddItemToObject(out, key, d)) {
		cJSON_Delete(d);
		return -1;
	}
	return 0;
}

/* Members of doc that in lacks, recursively, into out (an object). */
static int diff(const cJSON *doc, const cJSON *in, int top, cJSON *out)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, doc)
	{
		const cJSON *im;
		cJSON *sub;

		if (!m->string || (top && assigned(m->string)))
			continue;
		im = cJSON_GetObjectItemCaseSensitive(in, m->string);
		if (!im) {
			if (add_dup(out, m->string, m) < 0)
				return -1;
			continue;
		}
		if (!(sub = cJSON_CreateObject()))
			return -1;
		if (cJSON_IsObject(m) && cJSON_IsObject(im)) {
			if (diff(m, im, 0, sub) < 0)
				goto fail;
		} else if (cJSON_IsArray(m) && cJSON_IsArray(im)) {
			int i = 0;
			const cJSON *e;

			cJSON_ArrayForEach(e, m)
			{
				const cJSON *ie = cJSON_GetArrayItem(im, i);
				cJSON *es;
				char idx[16];

				snprintf(idx, sizeof(idx), "%d", i++);
				if (!cJSON_IsObject(e) || !cJSON_IsObject(ie))
					continue;
				if (!(es = cJSON_CreateObject()) || diff(e, ie, 0, es) < 0) {
					cJSON_Delete(es);
					goto fail;
				}
				if (!es->child)
					cJSON_Delete(es);
				else if (!cJSON_AddItemToObject(sub, idx, es)) {
					cJSON_Delete(es);
					goto fail;
				}
			}
		}
		if (!sub->child)
			cJSON_Delete(sub);
		else if (!cJSON_AddItemToObject(out, m->string, sub))
			goto fail;
		continue;
	fail:
		cJSON_Delete(sub);
		return -1;
	}
	return 0;
}

int gc_stash_put(const ms_entity *e, cJSON *in, ms_error *err)
{
	cJSON *st = cJSON_CreateObject(), *params;
	char *text = NULL;
	int rc = 0;

	if (!st || diff(e->doc, in, 1, st) < 0)
		goto nomem;
	if (e->kind == MS_KIND_DATABASE &&
	    !cJSON_GetObjectItemCaseSensitive(e->doc, "CreateTableDefaultPermissions") &&
	    !cJSON_AddTrueToObject(st, NO_CTDP))
		goto nomem;
	if (!st->child)
		goto done;
	if (!(params = cJSON_GetObjectItemCaseSensitive(in, "Parameters"))) {
		if (!cJSON_AddTrueToObject(st, NO_PARAMS) ||
		    !(params = cJSON_AddObjectToObject(in, "Parameters")))
			goto nomem;
	}
	if (!(text = cJSON_PrintUnformatted(st)))
		goto nomem;
	if (strlen(text) > MS_PARAM_VALUE_MAX) {
		rc = ms_error_set(err, MS_ETOOBIG,
				  "%s '%s%s%s': the members glue has no place for take more than "
				  "%d "
				  "bytes",
				  ms_kind_name(e->kind), e->database, e->table ? "." : "",
				  e->table ? e->table : "", MS_PARAM_VALUE_MAX);
		goto done;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(params, STASH_KEY);
	if (!cJSON_AddStringToObject(params, STASH_KEY, text))
		goto nomem;
done:
	cJSON_free(text);
	cJSON_Delete(st);
	return rc;
nomem:
	cJSON_free(text);
	cJSON_Delete(st);
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/* Put the members of st back into doc. */
static void merge(cJSON *doc, cJSON *st)
{
	cJSON *s, *next;

	for (s = st ? st->child : NULL; s; s = next) {
		cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, s->string);

		next = s->next;
		if (!t) {
			cJSON_DetachItemViaPointer(st, s);
			if (!cJSON_AddItemToObject(doc, s->string, s))
				cJSON_Delete(s);
		} else if (cJSON_IsObject(t) && cJSON_IsObject(s)) {
			if (cJSON_IsArray(t)) {
				continue;
			}
			merge(t, s);
		} else if (cJSON_IsArray(t) && cJSON_IsObject(s)) {
			cJSON *e;

			cJSON_ArrayForEach(e, s)
			{
				cJSON *te = cJSON_GetArrayItem(t, atoi(e->string));

				if (cJSON_IsObject(te))
					merge(te, e);
			}
		}
	}
}

void gc_stash_take(cJSON *doc)
{
	cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
	cJSON *item = cJSON_GetObjectItemCaseSensitive(params, STASH_KEY), *st;

	if (!cJSON_IsString(item))
		return;
	st = cJSON_Parse(item->valuestring);
	cJSON_DeleteItemFromObjectCaseSensitive(params, STASH_KEY);
	if (!cJSON_IsObject(st)) {
		cJSON_Delete(st);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(st, NO_PARAMS) && !params->child)
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "Parameters");
	if (cJSON_GetObjectItemCaseSensitive(st, NO_CTDP))
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "CreateTableDefaultPermissions");
	cJSON_DeleteItemFromObjectCaseSensitive(st, NO_PARAMS);
	cJSON_DeleteItemFromObjectCaseSensitive(st, NO_CTDP);
	merge(doc, st);
	cJSON_Delete(st);
}
