/*
 * The change feed of a glue:// catalog that `metasync serve` holds: its
 * MetasyncGetChanges operation pages through the server's change log.  AWS
 * Glue keeps no such log, so:
 *
 *   feed=auto      (the default) on an endpoint= server, the feed is asked
 *                  for at the first read, and given up on this instance when
 *                  the server does not know the operation; on AWS's own
 *                  endpoint there is none;
 *   feed=metasync  always (where the server lacks it, every read says so);
 *   feed=none      never.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"
#include "util/duration.h"
#include "util/url.h"

#define OP "MetasyncGetChanges"
#define PAGE 1000

int gc_feed_param(glue_catalog *g, const ms_url *url, ms_error *err)
{
	const char *v = ms_url_param_get(url, "feed"), *scan = ms_url_param_get(url, "feed-scan");
	long long ms = 300000;

	if (scan && (ms_parse_duration_ms(scan, &ms) < 0 || ms <= 0))
		return ms_error_set(err, MS_EINVAL,
				    "glue feed-scan '%s' in '%s' is not a duration (30s, 5m)", scan,
				    url->redacted);
	g->feed_scan = (double)ms / 1000.0;

	if (!v || strcmp(v, "auto") == 0) {
		if (!g->http.own_endpoint)
			g->base.caps_off |= MS_CAP_CHANGE_FEED;
		return 0;
	}
	if (strcmp(v, "metasync") == 0) {
		g->feed_required = 1;
		return 0;
	}
	if (strcmp(v, "poll") == 0) {
		g->feed_poll = 1;
		return 0;
	}
	if (strcmp(v, "none") == 0) {
		g->base.caps_off |= MS_CAP_CHANGE_FEED;
		return 0;
	}
	return ms_error_set(err, MS_EINVAL,
			    "glue feed '%s' in '%s' is not auto, metasync, poll or none", v,
			    url->redacted);
}

static int no_feed(glue_catalog *g, ms_error *err)
{
	return ms_error_set(err, MS_ENOTSUPPORTED,
			    "%s keeps no change feed (%s is an operation of metasync serve, not of "
			    "AWS Glue)",
			    g->subject, OP);
}

/* One page: 0 with *ans (new), or an error; a server without the operation: no feed. */
static int call(glue_catalog *g, const char *cursor, int head_only, cJSON **ans, ms_error *err)
{
	cJSON *b;
	int rc;

	*ans = NULL;
	if (g->base.caps_off & MS_CAP_CHANGE_FEED)
		return no_feed(g, err);
	if (!(b = cJSON_CreateObject()) || gc_add_catalog_id(g, b) < 0 ||
	    (cursor && !cJSON_AddStringToObject(b, "Cursor", cursor)) ||
	    (head_only && !cJSON_AddBoolToObject(b, "HeadOnly", 1)) ||
	    !cJSON_AddNumberToObject(b, "MaxResults", PAGE)) {
		cJSON_Delete(b);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	rc = gc_call(&g->http, OP, b, ans, "the change log", err);
	if (rc < 0 && strcmp(err->backend_code, "UnknownOperationException") == 0) {
		if (!g->feed_required)
			g->base.caps_off |= MS_CAP_CHANGE_FEED;
		return no_feed(g, err);
	}
	return rc;
}

static int bad_answer(glue_catalog *g, const char *what, ms_error *err)
{
	return ms_error_set(err, MS_EBACKEND, "%s: %s answered %s", g->subject, OP, what);
}

/* The partition values of a change as their key (new in *vkey). */
static int values_key(glue_catalog *g, const cJSON *values, char **vkey, ms_error *err)
{
	const char *v[MS_LINE_VALUES_MAX];
	const cJSON *x;
	size_t n = 0;

	cJSON_ArrayForEach(x, values)
	{
		if (!cJSON_IsString(x) || n == MS_LINE_VALUES_MAX)
			return bad_answer(g, "partition values that are not a list of strings",
					  err);
		v[n++] = x->valuestring;
	}
	if (n == 0)
		return bad_answer(g, "a partition change without values", err);
	return ms_values_key(vkey, v, n, err);
}

/* Hand one change of an answer to cb: 0, cb's non-zero return, or an error. */
static int one_change(glue_catalog *g, const cJSON *o, ms_change_cb cb, void *ctx, ms_error *err)
{
	const char *kind = gc_jstr(o, "Kind"), *op = gc_jstr(o, "Op");
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(o, "Values");
	const cJSON *when = cJSON_GetObjectItemCaseSensitive(o, "Time");
	char *vkey = NULL;
	ms_change c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.database = gc_jstr(o, "DatabaseName");
	c.table = gc_jstr(o, "TableName");
	if (!kind || !op || !c.database)
		return bad_answer(g, "a change without Kind, Op or DatabaseName", err);
	if (strcmp(kind, "DATABASE") == 0)
		c.kind = MS_KIND_DATABASE;
	else if (strcmp(kind, "TABLE") == 0)
		c.kind = MS_KIND_TABLE;
	else if (strcmp(kind, "PARTITION") == 0)
		c.kind = MS_KIND_PARTITION;
	else
		return bad_answer(g, "a change of an unknown Kind", err);
	if ((c.kind != MS_KIND_DATABASE && !c.table) ||
	    (c.kind == MS_KIND_PARTITION && !cJSON_IsArray(values)))
		return bad_answer(g, "a change that does not name its table or values", err);
	c.op = strcmp(op, "DELETE") == 0 ? MS_CHANGE_DELETE : MS_CHANGE_PUT;
	c.all_partitions = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "AllPartitions"));
	c.time = cJSON_IsNumber(when) ? (long long)when->valuedouble : 0;
	if (c.kind == MS_KIND_PARTITION && (rc = values_key(g, values, &vkey, err)) < 0)
		return rc;
	c.vkey = vkey;
	rc = cb(&c, ctx, err);
	free(vkey);
	return rc;
}

int gc_changes_since(ms_catalog *self, const char *cursor, ms_change_cb cb, void *ctx,
		     char **next_cursor, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	char *at = NULL;
	int more = 1, rc = 0;

	if (g->feed_poll)
		return gc_poll_changes_since(self, cursor, cb, ctx, next_cursor, err);
	if (cursor && !(at = strdup(cursor)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	while (more && rc == 0) {
		cJSON *ans = NULL, *list, *o;
		const char *next;

		if ((rc = call(g, at, 0, &ans, err)) < 0)
			break;
		list = cJSON_GetObjectItemCaseSensitive(ans, "Changes");
		next = gc_jstr(ans, "Cursor");
		more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "More"));
		if (!cJSON_IsArray(list) || !next)
			rc = bad_answer(g, "no Changes or no Cursor", err);
		cJSON_ArrayForEach(o, list)
		{
			if (rc != 0)
				break;
			rc = one_change(g, o, cb, ctx, err);
		}
		if (rc == 0) {
			free(at);
			if (!(at = strdup(next)))
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		cJSON_Delete(ans);
	}
	if (rc == 0)
		*next_cursor = at;
	else
		free(at);
	return rc;
}

int gc_change_head(ms_catalog *self, char **cursor, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	cJSON *ans = NULL;
	const char *head;
	int rc;

	if (g->feed_poll)
		return gc_poll_change_head(self, cursor, err);
	if ((rc = call(g, NULL, 1, &ans, err)) < 0)
		return rc;
	if (!(head = gc_jstr(ans, "Cursor")))
		rc = bad_answer(g, "no Cursor", err);
	else if (!(*cursor = strdup(head)))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	cJSON_Delete(ans);
	return rc;
}
