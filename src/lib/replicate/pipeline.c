/*
 * Export and import as whole operations: open the catalogs by URL, run the
 * engine, and (export) make the snapshot visible and describe it.  What the
 * command line and the agent share.
 */
#include <stdlib.h>
#include <string.h>

#include "metasync/replicate.h"
#include "sync_internal.h"
#include "util/buf.h"
#include "util/url.h"

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
	double t0 = sync_now_seconds();
	int rc;

	if (!opts)
		opts = &none;
	*report = NULL;
	memset(info, 0, sizeof(*info));
	if ((rc = ms_catalog_open(&src, source_url, NULL, err)) < 0) {
		ms_error_prefix(err, "%s: ", opts->source_label ? opts->source_label : "source");
		return rc;
	}
	clean_store(store_url, opts);
	oo.mode = MS_OPEN_WRITE;
	oo.compress = opts->compress;
	oo.part_bytes = opts->part_bytes;
	oo.source_url = ms_catalog_url(src);
	oo.source_catalog_id = ms_catalog_id(src);
	oo.source_instance = ms_catalog_instance(src);
	oo.selection = opts->databases;
	if ((rc = ms_catalog_open(&dst, store_url, &oo, err)) < 0) {
		ms_error_prefix(err, "%s: ", opts->store_label ? opts->store_label : "store");
		goto done;
	}
	so.databases = opts->databases;
	so.copy = 1;
	so.max_deletes = -1;
	so.progress = opts->progress;
	so.ctx = opts->ctx;
	if ((rc = ms_sync(src, dst, &so, report, err)) < 0)
		goto done;
	/* ms_sync made the snapshot visible only if every entity went in */
	if ((*report)->status == MS_STATUS_OK)
		rc = ms_catalog_snapshot_info(dst, info, err);
done:
	ms_catalog_close(dst);
	ms_catalog_close(src);
	if (*report)
		(*report)->seconds = sync_now_seconds() - t0;
	return rc;
}

int ms_import_ext(const char *source_url, const char *target_url, const ms_import_options *io,
		  const ms_sync_options *opts, ms_report **report, ms_error *err)
{
	ms_import_options none = { 0 };
	ms_warnings warns = { NULL, 0 };
	ms_catalog *src = NULL, *dst = NULL;
	ms_open_options so = { 0 }, to = { 0 };
	double t0 = sync_now_seconds();
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
	rc = ms_sync(src, dst, opts, report, err);
done:
	ms_warnings_into(&warns, *report);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	if (*report)
		(*report)->seconds = sync_now_seconds() - t0;
	return rc;
}

int ms_import(const char *snapshot_url, const char *expect_sha256, const char *target_url,
	      const ms_sync_options *opts, ms_report **report, ms_error *err)
{
	ms_import_options io = { 0 };

	io.expect_sha256 = expect_sha256;
	return ms_import_ext(snapshot_url, target_url, &io, opts, report, err);
}
