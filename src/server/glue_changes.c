/*
 * MetasyncGetChanges: the change log of an account's catalog, for the
 * glue:// readers that follow it (sync --watch, export --incremental, a
 * live agent) instead of reading the whole catalog again.  Not an AWS Glue
 * operation: metasync's own, signed and granted as the reads are.
 *
 *   {"CatalogId"?, "Cursor"?, "MaxResults"? (1 to 10000, 1000), "HeadOnly"?}
 *   -> {"Changes": [{"Kind": "DATABASE" | "TABLE" | "PARTITION",
 *                    "Op": "PUT" | "DELETE", "DatabaseName", "TableName"?,
 *                    "Values"?, "Time" (Unix ms)}, ...],
 *       "Cursor", "More"}
 *
 * Without Cursor, from the start of the log; with HeadOnly, no changes and
 * the cursor of the log's end.  More: call again with Cursor for the rest.
 * The changes of databases the caller may not read are left out (the
 * cursor passes them).  A cursor the log no longer covers is a
 * ConcurrentModificationException: read everything again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"

#define CHANGES_DEFAULT 1000
#define CHANGES_MAX 10000

typedef struct collect {
	glue_call *c;
	cJSON *list;
	long long max, n;
	long long last; /* the seq of the last change passed */
	int more;
} collect;

static const char *kind_name(ms_kind k)
{
	return k == MS_KIND_DATABASE ? "DATABASE" : k == MS_KIND_TABLE ? "TABLE" : "PARTITION";
}

static int add_change(const ms_change *ch, void *ctx, ms_error *err)
{
	collect *k = ctx;
	cJSON *o, *values;

	if (!glue_may_read(k->c, ch->database)) {
		k->last = ch->seq;
		return 0;
	}
	if (k->n == k->max) {
		k->more = 1;
		return 1;
	}
	if (!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(k->list, o) ||
	    !cJSON_AddStringToObject(o, "Kind", kind_name(ch->kind)) ||
	    !cJSON_AddStringToObject(o, "Op", ch->op == MS_CHANGE_DELETE ? "DELETE" : "PUT") ||
	    !cJSON_AddStringToObject(o, "DatabaseName", ch->database) ||
	    (ch->table && !cJSON_AddStringToObject(o, "TableName", ch->table)) ||
	    (ch->all_partitions && !cJSON_AddBoolToObject(o, "AllPartitions", 1)) ||
	    !cJSON_AddNumberToObject(o, "Time", (double)ch->time))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (ch->vkey) {
		/* the values key is their canonical JSON array */
		if (!(values = cJSON_Parse(ch->vkey)) || !cJSON_IsArray(values)) {
			cJSON_Delete(values);
			return ms_error_set(err, MS_EIO, "change %lld names partition values '%s'",
					    ch->seq, ch->vkey);
		}
		cJSON_AddItemToObject(o, "Values", values);
	}
	k->n++;
	k->last = ch->seq;
	return 0;
}

static int get_changes(glue_call *c)
{
	collect k = { .c = c, .max = CHANGES_DEFAULT, .last = -1 };
	const char *cursor = NULL;
	char *next = NULL, buf[32];
	int head_only = 0, rc;
	ms_error err;

	if (glue_in_string(c, c->in, "Cursor", 0, 1, 64, &cursor) < 0 ||
	    glue_in_int(c, c->in, "MaxResults", 1, CHANGES_MAX, &k.max) < 0 ||
	    glue_in_bool(c, c->in, "HeadOnly", &head_only) < 0 ||
	    glue_catalog(c, NULL, MS_ACCESS_READ) < 0)
		return -1;
	if (!(k.list = cJSON_AddArrayToObject(c->out, "Changes")))
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	ms_error_clear(&err);
	rc = head_only ? ms_catalog_change_head(c->cat, &next, &err)
		       : ms_catalog_changes_since(c->cat, cursor, add_change, &k, &next, &err);
	if (rc < 0)
		return glue_fail_err(c, rc, &err);
	if (k.more) { /* the embedded catalog's cursor is the seq of the last change read */
		snprintf(buf, sizeof(buf), "%lld", k.last);
		free(next);
		next = strdup(buf);
	}
	if (!next || !cJSON_AddStringToObject(c->out, "Cursor", next) ||
	    !cJSON_AddBoolToObject(c->out, "More", k.more)) {
		free(next);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	free(next);
	return 0;
}

const glue_op glue_change_ops[] = {
	{ "MetasyncGetChanges", get_changes },
	{ NULL, NULL },
};
