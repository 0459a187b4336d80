/*
 * The catalog scheme table and the public dispatch functions.  A URL's scheme
 * picks the driver through one static table; each public call checks that the
 * driver fills the slot and turns a NULL slot into MS_ENOTSUPPORTED.
 */
#include <stdlib.h>
#include <string.h>

#include "metasync/sys/catalog.h"
#include "util/strmap.h"
#include "util/url.h"

int ms_sqlite_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			   ms_error *err);
int ms_snapshot_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			     ms_error *err);
int ms_hms_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			ms_error *err);

int ms_glue_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			 ms_error *err);

int ms_hms_pg_url_param(const char *key);
int ms_glue_url_param(const char *key);
int ms_hms_mysql_url_param(const char *key);

/* A catalog's identity: what replica markers and manifests record. */
/* One rule, on one line as the tables below read it. */
/* clang-format off */
#define CATALOG_ID_RULE { "catalog-id", MS_CATALOG_ID_MAX, 1 }
/* clang-format on */

static const ms_url_param_rule id_only[] = { CATALOG_ID_RULE, { NULL, 0, 0 } };
static const ms_url_param_rule sqlite_params[] = {
	CATALOG_ID_RULE,
	{ "cache-mib", 4, 1 },     /* the connection's page cache */
	{ "keep-changes", 16, 1 }, /* how long the change log keeps a row */
	{ NULL, 0, 0 },
};
static const ms_url_param_rule hms_params[] = {
	CATALOG_ID_RULE,        { "catalog", 256, 1 }, /* Hive's CTLGS.NAME */
	{ "feed", 16, 1 },                             /* auto, notifications or poll */
	{ "feed-scan", 16, 1 },                        /* the polling feed's aggregate scans */
	{ NULL, 0, 0 },
};

/* The rest of an s3:// snapshot's parameters are its store's, checked there. */
static int store_param(const char *key)
{
	(void)key;
	return 1;
}

/*
 * One row per scheme: the driver, and the query parameters the scheme takes
 * (each checked by ms_url_check_params before the driver sees the URL; a
 * parameter that matches no rule is offered to `other`).
 */
static const struct {
	const char *scheme;
	ms_catalog_open_fn open;
	const ms_url_param_rule *params;
	int (*other)(const char *key);
} catalog_schemes[] = {
	{ "sqlite", ms_sqlite_catalog_open, sqlite_params, NULL },
	{ "file", ms_snapshot_catalog_open, id_only, NULL },
	{ "s3", ms_snapshot_catalog_open, id_only, store_param },
	{ "hms+postgresql", ms_hms_catalog_open, hms_params, ms_hms_pg_url_param },
	{ "hms+mysql", ms_hms_catalog_open, hms_params, ms_hms_mysql_url_param },
	{ "glue", ms_glue_catalog_open, id_only, ms_glue_url_param },
};

/* The checks every scheme's URL passes before its driver opens it. */
static int check_url(const ms_url *u, size_t row, ms_error *err)
{
	const char *cid = ms_url_param_get(u, "catalog-id");
	int rc;

	if ((rc = ms_url_check_params(u, "catalog url", catalog_schemes[row].params,
				      catalog_schemes[row].other, err)) < 0)
		return rc;
	if (cid && !ms_utf8_valid(cid, strlen(cid)))
		return ms_error_set(err, MS_EINVAL, "catalog-id in catalog url '%s' is not utf-8",
				    u->redacted);
	return 0;
}

int ms_catalog_base_init(ms_catalog *base, const ms_catalog_driver *driver,
			 const char *redacted_url, const char *catalog_id, ms_error *err)
{
	base->driver = driver;
	base->url = strdup(redacted_url ? redacted_url : "");
	base->catalog_id = strdup(catalog_id ? catalog_id : (redacted_url ? redacted_url : ""));
	base->selection = NULL;
	base->instance = NULL;
	base->implicit_id = 0;
	if (!base->url || !base->catalog_id) {
		ms_catalog_base_free(base);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	return 0;
}

void ms_catalog_base_free(ms_catalog *base)
{
	free(base->url);
	free(base->catalog_id);
	free(base->selection);
	free(base->instance);
	base->url = base->catalog_id = base->selection = base->instance = NULL;
}

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			return ms_error_set(err, MS_EINVAL, __VA_ARGS__); \
	} while (0)

int ms_catalog_check_driver(const ms_catalog_driver *d, const char *url, ms_error *err)
{
	const char *n = d && d->name ? d->name : "?";
	unsigned caps = d ? d->caps : 0;
	int versions = d ? !!d->put_table_version + !!d->scan_table_versions +
				       !!d->get_table_version + !!d->delete_table_version
			 : 0;

	CHECK(d, "catalog '%s' has no driver", url);
	CHECK(d->version == MS_CATALOG_DRIVER_VERSION,
	      "catalog driver '%s' of '%s' is built for driver interface %u, this library's is %d",
	      n, url, d->version, MS_CATALOG_DRIVER_VERSION);
	CHECK(d->name && *d->name, "catalog driver of '%s' has no name", url);
	CHECK(d->close, "catalog driver '%s' of '%s' has no close slot", n, url);
	CHECK(!(caps & MS_CAP_WRITE) || (d->put_database && d->put_table && d->put_partitions),
	      "catalog driver '%s' of '%s' claims writes without its put slots", n, url);
	CHECK(!(caps & MS_CAP_TRANSACTIONS) || (d->begin && d->commit && d->rollback),
	      "catalog driver '%s' of '%s' claims transactions without begin, commit and rollback",
	      n, url);
	CHECK(!(caps & MS_CAP_CHANGE_FEED) == !d->changes_since, "catalog driver '%s' of '%s' %s",
	      n, url,
	      d->changes_since ? "has a changes_since slot without claiming a change feed"
			       : "claims a change feed without a changes_since slot");
	CHECK(!d->change_head || (caps & MS_CAP_CHANGE_FEED),
	      "catalog driver '%s' of '%s' has a change_head slot without a change feed", n, url);
	CHECK(versions == ((caps & MS_CAP_TABLE_VERSIONS) ? 4 : 0),
	      "catalog driver '%s' of '%s' %s", n, url,
	      (caps & MS_CAP_TABLE_VERSIONS) ? "claims table versions without all four slots"
					     : "has table-version slots without claiming them");
	CHECK(!(caps & MS_CAP_ASYNC_WRITES) == !d->settle, "catalog driver '%s' of '%s' %s", n, url,
	      d->settle ? "has a settle slot without claiming asynchronous writes"
			: "claims asynchronous writes without a settle slot");
	CHECK(!d->read_begin == !d->read_end,
	      "catalog driver '%s' of '%s' has one of read_begin and read_end", n, url);
	return 0;
}

#undef CHECK

/* The driver's instance, checked (closed and refused when its driver breaks the contract). */
static int open_checked(size_t row, ms_catalog **out, const ms_url *u, const ms_open_options *opts,
			ms_error *err)
{
	ms_catalog *cat = NULL;
	int rc;

	if ((rc = catalog_schemes[row].open(&cat, u, opts, err)) < 0)
		return rc;
	if ((rc = ms_catalog_check_driver(cat->driver, u->redacted, err)) < 0) {
		if (cat->driver && cat->driver->close)
			cat->driver->close(cat);
		return rc;
	}
	*out = cat;
	return 0;
}

int ms_catalog_open(ms_catalog **out, const char *url, const ms_open_options *opts, ms_error *err)
{
	static const ms_open_options defaults;
	ms_url *u = NULL;
	size_t i;
	int rc;

	if ((rc = ms_url_parse(&u, url, err)) < 0)
		return rc;
	for (i = 0; i < sizeof(catalog_schemes) / sizeof(catalog_schemes[0]); i++) {
		if (strcmp(catalog_schemes[i].scheme, u->scheme) == 0) {
			rc = check_url(u, i, err);
			if (rc == 0)
				rc = open_checked(i, out, u, opts ? opts : &defaults, err);
			ms_url_free(u);
			return rc;
		}
	}
	rc = ms_error_set(err, MS_EINVAL, "unknown catalog url scheme '%s' in '%s'", u->scheme,
			  u->redacted);
	ms_url_free(u);
	return rc;
}

void ms_catalog_close(ms_catalog *cat)
{
	if (cat && cat->driver->close)
		cat->driver->close(cat);
}

const char *ms_catalog_url(const ms_catalog *cat)
{
	return cat->url;
}
const char *ms_catalog_id(const ms_catalog *cat)
{
	return cat->catalog_id;
}
const char *ms_catalog_selection(const ms_catalog *cat)
{
	return cat->selection;
}
const char *ms_catalog_instance(const ms_catalog *cat)
{
	return cat->instance;
}
int ms_catalog_id_is_implicit(const ms_catalog *cat)
{
	return cat->implicit_id;
}
const char *ms_catalog_driver_name(const ms_catalog *cat)
{
	return cat->driver->name;
}
unsigned int ms_catalog_caps(const ms_catalog *cat)
{
	return cat->driver->caps & ~cat->caps_off;
}
size_t ms_catalog_max_batch(const ms_catalog *cat)
{
	return cat->driver->max_batch;
}

static int unsupported(ms_catalog *cat, const char *what, ms_error *err)
{
	return ms_error_set(err, MS_ENOTSUPPORTED, "catalog '%s' cannot %s", cat->url, what);
}

#define DISPATCH(slot, what, ...) \
	(cat->driver->slot ? cat->driver->slot(cat, __VA_ARGS__) : unsupported(cat, what, err))

int ms_catalog_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err)
{
	return DISPATCH(list_databases, "list databases", cb, ctx, err);
}

int ms_catalog_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err)
{
	return DISPATCH(get_database, "read databases", name, out, err);
}

int ms_catalog_put_database(ms_catalog *cat, const ms_entity *db, ms_error *err)
{
	return DISPATCH(put_database, "write databases", db, err);
}

int ms_catalog_delete_database(ms_catalog *cat, const char *name, ms_error *err)
{
	return DISPATCH(delete_database, "delete databases", name, err);
}

int ms_catalog_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	return DISPATCH(list_tables, "list tables", db, cb, ctx, err);
}

int ms_catalog_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out,
			 ms_error *err)
{
	return DISPATCH(get_table, "read tables", db, name, out, err);
}

int ms_catalog_put_table(ms_catalog *cat, const ms_entity *table, ms_error *err)
{
	return DISPATCH(put_table, "write tables", table, err);
}

int ms_catalog_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err)
{
	return DISPATCH(delete_table, "delete tables", db, name, err);
}

int ms_catalog_scan_partitions(ms_catalog *cat, const char *db, const char *table,
			       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err)
{
	return DISPATCH(scan_partitions, "read partitions", db, table, flags, cb, ctx, err);
}

int ms_catalog_get_partition(ms_catalog *cat, const char *db, const char *table, const char *vkey,
			     ms_entity **out, ms_error *err)
{
	return DISPATCH(get_partition, "read partitions", db, table, vkey, out, err);
}

int ms_catalog_get_partitions(ms_catalog *cat, const char *db, const char *table,
			      const char *const *vkeys, size_t n, ms_entity **out, ms_error *err)
{
	size_t i;
	int rc = 0;

	memset(out, 0, n * sizeof(*out));
	if (n == 0)
		return 0;
	if (cat->driver->get_partitions) {
		rc = cat->driver->get_partitions(cat, db, table, vkeys, n, out, err);
	} else {
		for (i = 0; i < n && rc == 0; i++)
			if ((rc = ms_catalog_get_partition(cat, db, table, vkeys[i], &out[i],
							   err)) == MS_ENOTFOUND)
				rc = 0;
	}
	if (rc < 0)
		for (i = 0; i < n; i++) {
			ms_entity_free(out[i]);
			out[i] = NULL;
		}
	return rc;
}

unsigned ms_catalog_scan_segment(const char *vkey, unsigned segments)
{
	return segments > 1 ? (unsigned)(ms_fnv1a(vkey) % segments) : 0;
}

/* A ranged scan on a driver without the slot: the range applied to each entity. */
typedef struct range_filter {
	const ms_scan_range *range;
	ms_entity_cb cb;
	void *ctx;
} range_filter;

static int filter_range(ms_entity *e, void *ctx, ms_error *err)
{
	const range_filter *f = ctx;
	const char *after = f->range->after;

	if ((after && strcmp(e->vkey, after) <= 0) ||
	    ms_catalog_scan_segment(e->vkey, f->range->segments) != f->range->segment) {
		ms_entity_free(e);
		return 0;
	}
	return f->cb(e, f->ctx, err);
}

int ms_catalog_scan_partitions_range(ms_catalog *cat, const char *db, const char *table,
				     const ms_scan_range *range, unsigned int flags,
				     ms_entity_cb cb, void *ctx, ms_error *err)
{
	static const ms_scan_range all = { NULL, 0, 1 };
	ms_scan_range r = range ? *range : all;
	range_filter f = { &r, cb, ctx };

	if (r.segments > MS_SCAN_SEGMENTS_MAX)
		return ms_error_set(err, MS_EINVAL,
				    "cannot scan partitions of '%s.%s' in %u segments (at most %d)",
				    db, table, r.segments, MS_SCAN_SEGMENTS_MAX);
	if (r.segments == 0)
		r.segments = 1;
	if (r.segment >= r.segments)
		return ms_error_set(err, MS_EINVAL,
				    "segment %u of partitions of '%s.%s' is not below %u",
				    r.segment, db, table, r.segments);
	if (r.after && !*r.after)
		r.after = NULL;
	if (cat->driver->scan_partitions_range)
		return cat->driver->scan_partitions_range(cat, db, table, &r, flags, cb, ctx, err);
	if (!r.after && r.segments == 1)
		return ms_catalog_scan_partitions(cat, db, table, flags, cb, ctx, err);
	return DISPATCH(scan_partitions, "read partitions", db, table, flags, filter_range, &f,
			err);
}

int ms_catalog_put_partitions(ms_catalog *cat, const char *db, const char *table,
			      ms_entity *const *parts, size_t n, ms_error *err)
{
	return DISPATCH(put_partitions, "write partitions", db, table, parts, n, err);
}

int ms_catalog_delete_partitions(ms_catalog *cat, const char *db, const char *table,
				 const char *const *vkeys, size_t n, ms_error *err)
{
	return DISPATCH(delete_partitions, "delete partitions", db, table, vkeys, n, err);
}

int ms_catalog_clone(ms_catalog *cat, ms_catalog **out, ms_error *err)
{
	ms_catalog *c = NULL;
	int rc;

	if (!cat->driver->clone)
		return ms_error_set(err, MS_ENOTSUPPORTED, "catalog '%s' (%s) cannot clone itself",
				    cat->url, cat->driver->name);
	if ((rc = cat->driver->clone(cat, &c, err)) < 0)
		return rc;
	if ((rc = ms_catalog_check_driver(c->driver, c->url, err)) < 0) {
		ms_catalog_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int ms_catalog_settle(ms_catalog *cat, const char *db, const char *table, ms_write_failure_cb cb,
		      void *ctx, ms_error *err)
{
	if (!cat->driver->settle)
		return 0;
	return cat->driver->settle(cat, db, table, cb, ctx, err);
}

int ms_catalog_version_number(const char *version_id, long long *out)
{
	long long v = 0;
	size_t i, n = version_id ? strlen(version_id) : 0;

	if (n == 0 || n > 18)
		return MS_EINVAL;
	for (i = 0; i < n; i++) {
		if (version_id[i] < '0' || version_id[i] > '9')
			return MS_EINVAL;
		v = v * 10 + (version_id[i] - '0');
	}
	*out = v;
	return 0;
}

/* MS_EINVAL naming db.table unless version_id is a VersionId. */
static int check_version(const char *db, const char *table, const char *version_id, ms_error *err)
{
	long long v;

	if (ms_catalog_version_number(version_id, &v) < 0)
		return ms_error_set(err, MS_EINVAL,
				    "version '%.64s' of table '%s.%s' is not a VersionId (decimal "
				    "digits, at most 18)",
				    version_id ? version_id : "", db, table);
	return 0;
}

int ms_catalog_put_table_version(ms_catalog *cat, const ms_entity *table, ms_error *err)
{
	const cJSON *v;
	int rc;

	if (!table || table->kind != MS_KIND_TABLE || !table->doc || !table->database ||
	    !table->table)
		return ms_error_set(err, MS_EINVAL,
				    "entity given to put_table_version is not a table");
	v = cJSON_GetObjectItemCaseSensitive(table->doc, "VersionId");
	if (!cJSON_IsString(v))
		return ms_error_set(err, MS_EINVAL,
				    "table '%s.%s' has no VersionId to archive it by",
				    table->database, table->table);
	if ((rc = check_version(table->database, table->table, v->valuestring, err)) < 0)
		return rc;
	return DISPATCH(put_table_version, "archive table versions", table, err);
}

int ms_catalog_scan_table_versions(ms_catalog *cat, const char *db, const char *table,
				   ms_entity_cb cb, void *ctx, ms_error *err)
{
	return DISPATCH(scan_table_versions, "read table versions", db, table, cb, ctx, err);
}

int ms_catalog_get_table_version(ms_catalog *cat, const char *db, const char *table,
				 const char *version_id, ms_entity **out, ms_error *err)
{
	int rc;

	if ((rc = check_version(db, table, version_id, err)) < 0)
		return rc;
	return DISPATCH(get_table_version, "read table versions", db, table, version_id, out, err);
}

int ms_catalog_delete_table_version(ms_catalog *cat, const char *db, const char *table,
				    const char *version_id, ms_error *err)
{
	int rc;

	if ((rc = check_version(db, table, version_id, err)) < 0)
		return rc;
	return DISPATCH(delete_table_version, "delete table versions", db, table, version_id, err);
}

int ms_catalog_table_digest(ms_catalog *cat, const char *db, const char *table, ms_digest *out,
			    ms_error *err)
{
	return DISPATCH(table_digest, "summarise partitions", db, table, out, err);
}

int ms_catalog_verify_table(ms_catalog *cat, const char *db, const char *table, ms_error *err)
{
	return cat->driver->verify_table ? cat->driver->verify_table(cat, db, table, err) : 0;
}

int ms_catalog_plan_scans(ms_catalog *cat, const ms_table_ref *tables, size_t n, ms_error *err)
{
	return cat->driver->plan_scans ? cat->driver->plan_scans(cat, tables, n, err) : 0;
}

int ms_catalog_lock(ms_catalog *cat, const char *db, const char *table, ms_error *err)
{
	return cat->driver->lock ? cat->driver->lock(cat, db, table, err) : 0;
}

int ms_catalog_read_begin(ms_catalog *cat, ms_error *err)
{
	return cat->driver->read_begin ? cat->driver->read_begin(cat, err) : 0;
}

void ms_catalog_read_end(ms_catalog *cat)
{
	if (cat->driver->read_end)
		cat->driver->read_end(cat);
}

int ms_catalog_begin(ms_catalog *cat, ms_error *err)
{
	return cat->driver->begin ? cat->driver->begin(cat, err) : 0;
}

int ms_catalog_commit(ms_catalog *cat, ms_error *err)
{
	return cat->driver->commit ? cat->driver->commit(cat, err) : 0;
}

int ms_catalog_rollback(ms_catalog *cat, ms_error *err)
{
	return cat->driver->rollback ? cat->driver->rollback(cat, err) : 0;
}

int ms_catalog_changes_since(ms_catalog *cat, const char *cursor, ms_change_cb cb, void *ctx,
			     char **next_cursor, ms_error *err)
{
	return DISPATCH(changes_since, "report changes", cursor, cb, ctx, next_cursor, err);
}

static int skip_change(const ms_change *c, void *ctx, ms_error *err)
{
	(void)c;
	(void)ctx;
	(void)err;
	return 0;
}

int ms_catalog_change_head(ms_catalog *cat, char **cursor, ms_error *err)
{
	*cursor = NULL;
	if (cat->driver->change_head)
		return cat->driver->change_head(cat, cursor, err);
	return ms_catalog_changes_since(cat, NULL, skip_change, NULL, cursor, err);
}

int ms_catalog_snapshot_changes(ms_catalog *cat, ms_change_cb cb, void *ctx, ms_error *err)
{
	return DISPATCH(snapshot_changes, "list an incremental snapshot's changes", cb, ctx, err);
}

int ms_catalog_finish(ms_catalog *cat, ms_error *err)
{
	return cat->driver->finish ? cat->driver->finish(cat, err) : 0;
}

int ms_catalog_snapshot_info(ms_catalog *cat, ms_snapshot_info *out, ms_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!cat->driver->snapshot_info)
		return ms_error_set(err, MS_ENOTSUPPORTED, "'%s' is not a snapshot", cat->url);
	return cat->driver->snapshot_info(cat, out, err);
}

void ms_snapshot_info_free(ms_snapshot_info *info)
{
	if (!info)
		return;
	free(info->id);
	free(info->url);
	free(info->source_catalog_id);
	free(info->created);
	free(info->selection);
	free(info->source_cursor);
	free(info->parent);
	free(info->base);
	memset(info, 0, sizeof(*info));
}
