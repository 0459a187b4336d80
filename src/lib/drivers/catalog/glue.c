/*
 * The glue:// catalog driver: an AWS Glue Data Catalog (or a Glue-compatible
 * server such as `metasync serve`) read and written through the Glue API.
 *
 *   glue://REGION[?catalog-id=ID&endpoint=URL&profile=NAME&parallel=16&rate=50
 *                 &skip-archive=true&segments=4&attempts=8&timeout=60&feed=auto]
 *
 * The catalog's identity is catalog-id= (the account whose catalog is read
 * or written; Glue's CatalogId).  Without it requests go to the caller's own
 * catalog and the identity is "glue:REGION", marked implicit, since an
 * identity must never come from the credentials.
 *
 * Writes are not transactional: a table and its partitions change in
 * several requests.  UpdateTable carries the VersionId the table had when
 * it was read, so that a change another writer made meanwhile is refused
 * (MS_ECONFLICT) instead of overwritten.  Partition writes are batched
 * (100 per BatchCreatePartition or BatchUpdatePartition, 25 per
 * BatchDeletePartition) and run many at a time (MS_CAP_ASYNC_WRITES): what
 * failed is reported partition by partition at settle.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glue_internal.h"
#include "util/url.h"

int ms_glue_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			 ms_error *err);
int ms_glue_url_param(const char *key);

void gc_table_key(const char *db, const char *table, char *out, size_t n)
{
	if (table)
		snprintf(out, n, "%s\t%s", db, table);
	else
		snprintf(out, n, "%s", db);
	/* names fold to lowercase, as Glue folds them */
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

const char *gc_jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int gc_add_catalog_id(glue_catalog *g, cJSON *body)
{
	if (g->catalog_id && !cJSON_AddStringToObject(body, "CatalogId", g->catalog_id))
		return MS_ENOMEM;
	return 0;
}

int gc_version_set(glue_catalog *g, const char *db, const char *table, const char *version)
{
	char key[2 * MS_NAME_MAX + 2];
	ms_strmap_entry *e;
	int rc;

	gc_table_key(db, table, key, sizeof(key));
	if (!version) {
		if ((e = ms_strmap_get(&g->versions, key)))
			e->value[0] = '\0';
		return 0;
	}
	if ((rc = ms_strmap_put(&g->versions, key, &e)) < 0)
		return rc;
	snprintf((char *)e->value, sizeof(e->value), "%.31s", version);
	return 0;
}

const char *gc_version_get(glue_catalog *g, const char *db, const char *table)
{
	char key[2 * MS_NAME_MAX + 2];
	ms_strmap_entry *e;

	gc_table_key(db, table, key, sizeof(key));
	e = ms_strmap_get(&g->versions, key);
	return e && e->value[0] ? (const char *)e->value : NULL;
}

static void glue_close(ms_catalog *self)
{
	glue_catalog *g = (glue_catalog *)self;
	ms_error err;

	/* Writes in flight finish (one attempt each) before the handles go. */
	g->http.max_attempts = 1;
	ms_error_clear(&err);
	if (g->http.multi)
		gc_pump(&g->http, NULL, NULL, &err);
	gc_req_drop(&g->http, g->own_read);
	gc_ahead_free(g);
	gc_client_free(&g->http);
	gc_fails_free(g);
	ms_strmap_free(&g->versions);
	gc_listed_free(g);
	ms_strmap_free(&g->scanned);
	free(g->scanned_db);
	free(g->scanned_table);
	free(g->catalog_id);
	ms_url_free(g->url);
	ms_catalog_base_free(&g->base);
	free(g);
}

static int glue_clone(ms_catalog *self, ms_catalog **out, ms_error *err);

static const ms_catalog_driver glue_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "glue",
	.caps = MS_CAP_WRITE | MS_CAP_ASYNC_WRITES | MS_CAP_CHANGE_FEED,
	.max_batch = 0,
	.close = glue_close,
	.list_databases = gc_list_databases,
	.get_database = gc_get_database,
	.put_database = gc_put_database,
	.delete_database = gc_delete_database,
	.list_tables = gc_list_tables,
	.get_table = gc_get_table,
	.put_table = gc_put_table,
	.delete_table = gc_delete_table,
	.get_partitions = gc_get_partitions,
	.scan_partitions = gc_scan_partitions,
	.get_partition = gc_get_partition,
	.plan_scans = gc_plan_scans,
	.put_partitions = gc_put_partitions,
	.delete_partitions = gc_delete_partitions,
	.settle = gc_settle,
	.clone = glue_clone,
	.changes_since = gc_changes_since,
	.change_head = gc_change_head,
};

/* Parameters of glue:// besides catalog-id (checked by the registry). */
int ms_glue_url_param(const char *key)
{
	static const char *const keys[] = { "endpoint",     "profile",  "parallel", "rate",
					    "skip-archive", "segments", "attempts", "timeout",
					    "tables",       "feed",     "feed-scan" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

static int number_param(const ms_url *url, const char *name, long lo, long hi, long *out,
			ms_error *err)
{
	const char *v = ms_url_param_get(url, name);
	char *end;
	long n;

	if (!v)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || n < lo || n > hi)
		return ms_error_set(err, MS_EINVAL,
				    "glue %s '%s' in '%s' is not a number from %ld to %ld", name, v,
				    url->redacted, lo, hi);
	*out = n;
	return 0;
}

static int parse_params(glue_catalog *g, const ms_url *url, ms_error *err)
{
	long n;
	int rc;
	const char *v;

	n = g->http.parallel;
	if ((rc = number_param(url, "parallel", 1, 64, &n, err)) < 0)
		return rc;
	g->http.parallel = (int)n;
	n = 0;
	if ((rc = number_param(url, "rate", 1, 100000, &n, err)) < 0)
		return rc;
	gc_client_rate_cap(&g->http, (double)n);
	n = g->http.max_attempts;
	if ((rc = number_param(url, "attempts", 1, 20, &n, err)) < 0)
		return rc;
	g->http.max_attempts = (int)n;
	n = g->http.timeout;
	if ((rc = number_param(url, "timeout", 1, 3600, &n, err)) < 0)
		return rc;
	g->http.timeout = n;
	n = 4;
	if ((rc = number_param(url, "segments", 1, 10, &n, err)) < 0)
		return rc;
	g->segments = (int)n;
	n = 24; /* bench/glue.sh: 2.1x the embedded import at 8, 1.5x at 24 */
	if ((rc = number_param(url, "tables", 1, 64, &n, err)) < 0)
		return rc;
	g->clones_left = (int)n - 1;
	g->skip_archive = 1;
	if ((v = ms_url_param_get(url, "skip-archive"))) {
		if (strcmp(v, "true") == 0)
			g->skip_archive = 1;
		else if (strcmp(v, "false") == 0)
			g->skip_archive = 0;
		else
			return ms_error_set(err, MS_EINVAL,
					    "glue skip-archive '%s' in '%s' is not true or false",
					    v, url->redacted);
	}
	return 0;
}

/* REGION: letters, digits and '-' (us-east-1, eu-central-2, local). */
static int check_region(const ms_url *url, const char **region, ms_error *err)
{
	const char *r = url->host;

	if (url->user || url->password)
		return ms_error_set(err, MS_EINVAL,
				    "glue url '%s' holds credentials: use the environment or a "
				    "profile (profile=NAME)",
				    url->redacted);
	if (!r || !r[0] || (url->path[0] && strcmp(url->path, "/") != 0))
		return ms_error_set(err, MS_EINVAL,
				    "glue url '%s' is not glue://REGION[?parameters]",
				    url->redacted);
	for (const char *p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return ms_error_set(err, MS_EINVAL, "glue region '%s' in '%s' is not valid",
					    r, url->redacted);
	*region = r;
	return 0;
}

int ms_glue_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			 ms_error *err)
{
	glue_catalog *g;
	const char *region = NULL, *cid = ms_url_param_get(url, "catalog-id");
	char implicit[300];
	int rc;

	(void)opts;
	if ((rc = check_region(url, &region, err)) < 0)
		return rc;
	if (!(g = calloc(1, sizeof(*g))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_strmap_init(&g->versions);
	ms_strmap_init(&g->tables);
	ms_strmap_init(&g->scanned);
	g->fails_tail = &g->fails;
	snprintf(g->subject, sizeof(g->subject), "glue catalog '%s'", url->redacted);
	snprintf(implicit, sizeof(implicit), "glue:%s", region);
	if ((rc = ms_catalog_base_init(&g->base, &glue_driver, url->redacted, cid ? cid : implicit,
				       err)) < 0)
		goto fail;
	g->base.implicit_id = cid == NULL;
	if (cid && !(g->catalog_id = strdup(cid))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ms_url_copy(&g->url, url)) < 0) {
		rc = ms_error_set(err, rc, "out of memory");
		goto fail;
	}
	if ((rc = gc_client_init(&g->http, url, region, g->subject, err)) < 0 ||
	    (rc = parse_params(g, url, err)) < 0 || (rc = gc_feed_param(g, url, err)) < 0)
		goto fail;
	*out = &g->base;
	return 0;
fail:
	glue_close(&g->base);
	return rc;
}

/* Another instance for another thread: as many as tables= allows in all. */
static int glue_clone(ms_catalog *self, ms_catalog **out, ms_error *err)
{
	glue_catalog *g = (glue_catalog *)self;
	ms_open_options oo;
	int rc;

	if (g->clones_left <= 0)
		return ms_error_set(err, MS_ETOOBIG, "%s: no more instances (tables=)", g->subject);
	memset(&oo, 0, sizeof(oo));
	if ((rc = ms_glue_catalog_open(out, g->url, &oo, err)) < 0)
		return rc;
	((glue_catalog *)*out)->clones_left = 0;
	((glue_catalog *)*out)->is_clone = 1;
	/* one account's quota: the clones share the instance's rate */
	gc_client_share_rate(&((glue_catalog *)*out)->http, &g->http);
	g->clones_left--;
	g->cloned = 1;
	return 0;
}
