/*
 * Export and import as whole operations: open the catalogs by URL, run the
 * engine, and (export) make the snapshot visible and describe it.  What the
 * command line and the agent share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/replicate.h"
#include "incremental.h"
#include "sync_internal.h"
#include "util/buf.h"
#include "util/url.h"
#include "util/clock.h"

/* The store's own URL from a snapshot catalog URL: its catalog-id left out (new). */
static char *store_url_of(const char *url)
{
	ms_buf b = MS_BUF_INIT((size_t)64 << 10);
	ms_url *u = NULL;
	size_t i;
	int rc;

	if (ms_url_parse(&u, url, NULL) < 0 || !ms_url_param_get(u, "catalog-id")) {
		ms_url_free(u);
		return strdup(url);
	}
	rc = strcmp(u->scheme, "file") == 0 && strncmp(url, "file:", 5) != 0
		     ? ms_buf_adds(&b, u->raw_rest)
		     : ms_buf_printf(&b, "%s:%s", u->scheme, u->raw_rest);
	for (i = 0; rc == 0 && i < u->nparams; i++) {
		const char *p;

		if (strcmp(u->params[i].key, "catalog-id") == 0)
			continue;
		rc = ms_buf_printf(&b, "%c%s=", strchr(b.ptr, '?') ? '&' : '?', u->params[i].key);
		for (p = u->params[i].value; rc == 0 && *p; p++)
			rc = strchr("%&#?+ ", *p) ? ms_buf_printf(&b, "%%%02X", (unsigned char)*p)
						  : ms_buf_addc(&b, *p);
	}
	ms_url_free(u);
	if (rc < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/*
 * Remove what earlier exports provably abandoned in the store (killed ones
 * cannot clean up after themselves), before this export adds to it.  Never
 * fails the export: a failure is told to opts->on_cleanup.
 */
static void clean_store(const char *store_url, const ms_export_options *opts)
{
	ms_gc_options go = { 0 };
	ms_store *st = NULL;
	char *url = store_url_of(store_url);
	ms_error e2;

	ms_error_clear(&e2);
	go.on_item = opts->on_cleanup;
	go.ctx = opts->cleanup_ctx;
	/* a store that cannot be opened is the export's own error to report */
	if (url && ms_store_open(&st, url, &e2) == 0 && ms_store_gc(st, &go, NULL, &e2) < 0 &&
	    opts->on_cleanup) {
		ms_gc_item item = { MS_GC_INCOMPLETE, NULL, 0, NULL, e2.message, 0, 0 };

		opts->on_cleanup(&item, opts->cleanup_ctx);
	}
	ms_store_close(st);
	free(url);
}

int ms_export(const char *source_url, const char *store_url, const ms_export_options *opts,
	      ms_snapshot_info *info, ms_report **report, ms_error *err)
{
	ms_export_options none = { 0 };
	ms_catalog *src = NULL, *dst = NULL;
	ms_open_options oo = { 0 };
	ms_sync_options so = { 0 };
	incr_plan plan;
	double t0 = ms_mono_s();
	int rc;

	if (!opts)
		opts = &none;
	*report = NULL;
	memset(info, 0, sizeof(*info));
	memset(&plan, 0, sizeof(plan));
	if ((rc = ms_catalog_open(&src, source_url, NULL, err)) < 0) {
		ms_error_prefix(err, "%s: ", opts->source_label ? opts->source_label : "source");
		return rc;
	}
	if (!opts->no_cleanup)
		clean_store(store_url, opts);
	if ((rc = incr_plan_make(src, store_url, opts, &plan, err)) < 0) {
		ms_error_prefix(err, "%s: ", opts->source_label ? opts->source_label : "source");
		goto done;
	}
	oo.mode = MS_OPEN_WRITE;
	oo.compress = opts->compress;
	oo.part_bytes = opts->part_bytes;
	oo.source_url = ms_catalog_url(src);
	oo.source_catalog_id = ms_catalog_id(src);
	oo.source_instance = ms_catalog_instance(src);
	oo.selection = opts->databases;
	oo.source_cursor = plan.head;
	oo.parent = plan.parent;
	oo.base = plan.base;
	oo.chain = plan.chain;
	oo.all_databases = (const char *const *)plan.dbs.v;
	oo.nall_databases = plan.dbs.n;
	oo.all_tables = (const char *const *)plan.tables.v;
	oo.nall_tables = plan.tables.n;
	if ((rc = ms_catalog_open(&dst, store_url, &oo, err)) < 0) {
		ms_error_prefix(err, "%s: ", opts->store_label ? opts->store_label : "store");
		goto done;
	}
	if (plan.parent && (rc = incr_write_tombstones(src, dst, &plan, opts->databases, err)) < 0)
		goto done;
	so.databases = opts->databases;
	so.copy = 1;
	so.max_deletes = -1;
	so.progress = opts->progress;
	so.ctx = opts->ctx;
	so.changes = plan.cs;
	if ((rc = ms_sync(src, dst, &so, report, err)) < 0)
		goto done;
	if (plan.why[0] && opts->incremental) {
		char w[640];

		snprintf(w, sizeof(w), "%s: a full snapshot, not an incremental one: %s",
			 opts->store_label ? opts->store_label : "store", plan.why);
		if ((rc = ms_report_add_warning(*report, w)) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	}
	/* ms_sync made the snapshot visible only if every entity went in */
	if ((*report)->status == MS_STATUS_OK &&
	    (rc = ms_catalog_snapshot_info(dst, info, err)) == 0 && plan.cs) {
		info->oldest_change_ms = ms_changeset_oldest(plan.cs);
		info->changes = ms_changeset_changes(plan.cs);
	}
done:
	incr_plan_free(&plan);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	if (*report)
		(*report)->seconds = ms_mono_s() - t0;
	return rc;
}

/*
 * The engine for one open source.  A snapshot's id is recorded on the
 * target; an incremental snapshot is applied as its change set, and only
 * onto a target that holds its parent.
 */
static int import_one(ms_catalog *src, ms_catalog *dst, const ms_sync_options *opts,
		      ms_report **report, ms_error *err)
{
	ms_sync_options o = *opts;
	ms_snapshot_info info;
	ms_changeset *cs = NULL;
	ms_error e2;
	int rc = 0;

	*report = NULL;
	memset(&info, 0, sizeof(info));
	if (!opts->changes && ms_catalog_snapshot_info(src, &info, &e2) == 0 && info.id) {
		o.snapshot_id = info.id;
		if (info.parent) {
			if (!(cs = ms_changeset_new()))
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			else
				rc = ms_catalog_snapshot_changes(src, ms_changeset_add, cs, err);
			o.changes = cs;
			o.snapshot_parent = info.parent;
			o.snapshot_base = info.base;
		}
	}
	if (rc == 0)
		rc = ms_sync(src, dst, &o, report, err);
	ms_changeset_free(cs);
	ms_snapshot_info_free(&info);
	return rc;
}

/* store_url with "/id" added to its path (before a query), new. */
static char *child_url(const char *store_url, const char *id)
{
	const char *q = strchr(store_url, '?');
	size_t n = q ? (size_t)(q - store_url) : strlen(store_url);
	char *out = NULL;

	while (n > 1 && store_url[n - 1] == '/')
		n--;
	if (asprintf(&out, "%.*s/%s%s", (int)n, store_url, id, q ? q : "") < 0)
		return NULL;
	return out;
}

/* Add what from counted and said into into; the worse status wins. */
static void report_merge(ms_report *into, const ms_report *from)
{
	const ms_counts *f[3] = { &from->databases, &from->tables, &from->partitions };
	ms_counts *t[3] = { &into->databases, &into->tables, &into->partitions };
	size_t i;

	for (i = 0; i < 3; i++) {
		t[i]->created += f[i]->created;
		t[i]->updated += f[i]->updated;
		t[i]->unchanged += f[i]->unchanged;
		t[i]->deleted += f[i]->deleted;
		t[i]->skipped += f[i]->skipped;
		t[i]->failed += f[i]->failed;
	}
	for (i = 0; i < from->nerrors; i++)
		ms_report_add_error(into, from->errors[i].entity, from->errors[i].message);
	for (i = 0; i < from->nwarnings; i++) {
		char *w = NULL;

		if (asprintf(&w, "%s: %s", from->warnings[i].entity, from->warnings[i].message) >=
		    0)
			ms_report_add_warning(into, w);
		free(w);
	}
	if (from->status > into->status)
		into->status = from->status;
}

/*
 * The store's LATEST is an incremental snapshot: apply the chain from what
 * the target holds (the oldest snapshot its databases record) up to LATEST,
 * or from the chain's full snapshot when the target holds none of it, in
 * order, each as its own run; stops at the first that does not complete.
 */
static int import_chain(ms_catalog *latest, ms_catalog *dst, const char *store_url,
			const ms_open_options *so, const ms_sync_options *opts, ms_report **report,
			ms_error *err)
{
	char **ids = NULL, *held = NULL;
	size_t n = 0, i;
	ms_snapshot_info info;
	int rc;

	memset(&info, 0, sizeof(info));
	if ((rc = sync_chain_held(latest, dst, opts, &held, err)) < 0 ||
	    (rc = ms_catalog_snapshot_info(latest, &info, err)) < 0)
		goto done;
	/* back from LATEST to what the target holds, or to the full snapshot */
	for (;;) {
		char **nv = realloc(ids, (n + 1) * sizeof(char *)), *url;
		ms_catalog *c = NULL;

		if (!nv || !(nv[n] = strdup(info.id))) {
			ids = nv ? nv : ids;
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		ids = nv;
		n++;
		if (!info.parent || (held && strcmp(info.parent, held) == 0) ||
		    (held && strcmp(info.id, held) == 0))
			break;
		if (!(url = child_url(store_url, info.parent))) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		rc = ms_catalog_open(&c, url, so, err);
		free(url);
		if (rc == 0) {
			ms_snapshot_info_free(&info);
			rc = ms_catalog_snapshot_info(c, &info, err);
		}
		ms_catalog_close(c);
		if (rc < 0) {
			ms_error_prefix(err, "the chain of '%s' breaks at '%s': ", ids[0],
					ids[n - 1]);
			goto done;
		}
	}
	/* oldest first; LATEST (already open) last */
	for (i = n; i-- > 0 && rc == 0;) {
		ms_catalog *c = latest;
		ms_report *step = NULL;
		char *url = NULL;

		if (i > 0 && (!(url = child_url(store_url, ids[i])) ||
			      (rc = ms_catalog_open(&c, url, so, err)) < 0)) {
			if (!url)
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			free(url);
			break;
		}
		free(url);
		rc = import_one(c, dst, opts, &step, err);
		if (c != latest)
			ms_catalog_close(c);
		if (step && !*report) {
			*report = step;
		} else if (step) {
			report_merge(*report, step);
			ms_report_free(step);
		}
		if (rc == 0 && *report && (*report)->status != MS_STATUS_OK)
			break;
	}
done:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(held);
	ms_snapshot_info_free(&info);
	return rc;
}

int ms_import_ext(const char *source_url, const char *target_url, const ms_import_options *io,
		  const ms_sync_options *opts, ms_report **report, ms_error *err)
{
	ms_import_options none = { 0 };
	ms_warnings warns = { NULL, 0 };
	ms_catalog *src = NULL, *dst = NULL;
	ms_open_options so = { 0 }, to = { 0 };
	double t0 = ms_mono_s();
	int rc;

	if (!io)
		io = &none;
	*report = NULL;
	so.mode = MS_OPEN_READ;
	so.expect_manifest_sha256 = io->expect_sha256;
	so.allow_no_manifest = io->allow_no_manifest;
	so.database_input_path = io->database_input_path;
	so.table_input_path = io->table_input_path;
	so.partition_input_path = io->partition_input_path;
	so.warn = ms_warnings_collect;
	so.warn_ctx = &warns;
	to.mode = MS_OPEN_WRITE;
	to.warn = ms_warnings_collect;
	to.warn_ctx = &warns;
	if ((rc = ms_catalog_open(&src, source_url, &so, err)) < 0) {
		ms_error_prefix(err, "%s: ", io->source_label ? io->source_label : "snapshot");
		goto done;
	}
	if (io->check_source && (rc = io->check_source(src, io->ctx, err)) < 0)
		goto done;
	if ((rc = ms_catalog_open(&dst, target_url, &to, err)) < 0) {
		ms_error_prefix(err, "%s: ", io->target_label ? io->target_label : "target");
		goto done;
	}
	{
		ms_snapshot_info info;
		ms_error e2;

		memset(&info, 0, sizeof(info));
		if (!opts->changes && ms_catalog_snapshot_info(src, &info, &e2) == 0 &&
		    info.parent && info.latest)
			rc = import_chain(src, dst, source_url, &so, opts, report, err);
		else
			rc = import_one(src, dst, opts, report, err);
		ms_snapshot_info_free(&info);
	}
done:
	ms_warnings_into(&warns, *report);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	if (*report)
		(*report)->seconds = ms_mono_s() - t0;
	return rc;
}

int ms_import(const char *snapshot_url, const char *expect_sha256, const char *target_url,
	      const ms_sync_options *opts, ms_report **report, ms_error *err)
{
	ms_import_options io = { 0 };

	io.expect_sha256 = expect_sha256;
	return ms_import_ext(snapshot_url, target_url, &io, opts, report, err);
}
