/*
 * metasync verify: does a target hold what its source holds?  After an
 * import or a sync, or at any time, it compares the two catalogs entity by
 * entity under the mapping the replication used (the same options as
 * import and sync, through the same parser), independently of the engine's
 * sync stamps, and prints one line per entity that differs.  The
 * comparison itself is the library's (metasync/compare.h), the one the
 * demo verifies its targets with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metasync/compare.h"
#include "tool.h"
#include "util/strlist.h"

#define MAX_DESCRIBED 100 /* mismatches printed; all are counted */

static const char verify_help[] =
	"usage: metasync verify --source URL --target URL [options]\n\n"
	"Compare the target with the source entity by entity, as an import or a sync\n"
	"with the same mapping options would have left it, and print one line for\n"
	"each database, table, view or partition that is missing, extra or different\n"
	"(which field, and both values shortened).  Each entity of the target must\n"
	"carry the metasync.replica-of marker of its source entity; other databases\n"
	"of the target are ignored unless they are replicas of this source.  A\n"
	"snapshot store as the target is compared as an export's plain copy (no\n"
	"markers, no mapping, nothing beyond the source).  The engine's sync stamps\n"
	"are not trusted: every partition is read.\n\n"
	"  --source URL               the source catalog, or a snapshot store (its LATEST)\n"
	"  --target URL               the catalog that should hold the replicas\n"
	"  --database-names 'a;b'     databases to compare: ';'-separated names or globs\n"
	"                             (default all)\n"
	"  --database-prefix P        target database names have the prefix P\n"
	"  --table-prefix P           target table names have the prefix P\n"
	"  --rename-database OLD=NEW  database OLD is NEW in the target (repeatable)\n"
	"  --location-rewrite FROM=TO locations under FROM are under TO in the target\n"
	"                             (repeatable)\n"
	"  --json                     print one JSON object: status (ok, mismatch, error),\n"
	"                             source, target, matched {databases, tables, views,\n"
	"                             partitions}, mismatches, diffs [{what, kind, entity,\n"
	"                             field, source, target, fields (how many differ),\n"
	"                             message}]\n"
	"  -q, --quiet                print only the lines of the mismatches\n\n"
	"Exit status: 0 every replica matches its source, 1 a mismatch (or an error),\n"
	"2 usage.\n";

/* Options of the run parser that do not apply to a comparison: 0, or the exit code. */
static int reject_run_options(const ms_run_args *a)
{
	const struct {
		int given;
		const char *name;
	} no[] = {
		{ a->input_path || a->database_input_path || a->table_input_path ||
			  a->partition_input_path,
		  "--input-path" },
		{ a->allow_no_manifest, "--allow-no-manifest" },
		{ a->expect_manifest_sha256 != NULL, "--manifest-sha256" },
		{ a->sync.deletes != MS_DELETES_NONE, "--deletes" },
		{ a->sync.max_deletes >= 0, "--max-deletes" },
		{ a->sync.prune_unmapped, "--prune-unmapped" },
		{ a->sync.allow_empty_source, "--allow-empty-source" },
		{ a->sync.adopt, "--adopt" },
		{ a->sync.full, "--full" },
		{ a->sync.dry_run, "--dry-run" },
		{ a->strict, "--strict" },
		{ a->verbose, "-v" },
	};

	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (no[i].given)
			return ms_usage_error("verify",
					      "%s is not a verify option (verify reads "
					      "--source and --target and changes nothing)",
					      no[i].name);
	return 0;
}

static int has_mapping(const ms_sync_options *o)
{
	return o->database_prefix || o->table_prefix || o->nrenames || o->nrewrites;
}

static const char *what_name(ms_compare_what w)
{
	switch (w) {
	case MS_COMPARE_MISSING:
		return "missing";
	case MS_COMPARE_EXTRA:
		return "extra";
	case MS_COMPARE_DIFFERS:
		return "differs";
	case MS_COMPARE_MARKER:
		return "marker";
	default:
		return "partitions";
	}
}

static const char *kind_name(const ms_compare_diff *d)
{
	return d->kind == MS_KIND_DATABASE    ? "database"
	       : d->kind == MS_KIND_PARTITION ? "partition"
	       : d->view                      ? "view"
					      : "table";
}

static void add_optional(cJSON *o, const char *name, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, name, v);
}

static void print_json(const ms_catalog *src, const ms_catalog *dst, const ms_compare_result *r)
{
	cJSON *o = cJSON_CreateObject(), *m, *diffs;
	char *text;

	cJSON_AddStringToObject(o, "status", r->mismatches ? "mismatch" : "ok");
	cJSON_AddStringToObject(o, "source", ms_catalog_url(src));
	cJSON_AddStringToObject(o, "target", ms_catalog_url(dst));
	m = cJSON_AddObjectToObject(o, "matched");
	cJSON_AddNumberToObject(m, "databases", (double)r->databases);
	cJSON_AddNumberToObject(m, "tables", (double)r->tables);
	cJSON_AddNumberToObject(m, "views", (double)r->views);
	cJSON_AddNumberToObject(m, "partitions", (double)r->partitions);
	cJSON_AddNumberToObject(o, "mismatches", (double)r->mismatches);
	diffs = cJSON_AddArrayToObject(o, "diffs");
	for (size_t i = 0; i < r->nmessages; i++) {
		const ms_compare_diff *d = &r->diffs[i];
		cJSON *j = cJSON_CreateObject();

		cJSON_AddItemToArray(diffs, j);
		cJSON_AddStringToObject(j, "what", what_name(d->what));
		cJSON_AddStringToObject(j, "kind", kind_name(d));
		cJSON_AddStringToObject(j, "entity", d->entity);
		add_optional(j, "field", d->field);
		add_optional(j, "source", d->a_value);
		add_optional(j, "target", d->b_value);
		if (d->fields)
			cJSON_AddNumberToObject(j, "fields", (double)d->fields);
		cJSON_AddStringToObject(j, "message", r->messages[i]);
	}
	text = cJSON_PrintUnformatted(o);
	if (text)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
	ms_json_printed();
}

static void print_result(const ms_catalog *src, const ms_catalog *dst, const ms_compare_result *r,
			 int quiet)
{
	for (size_t i = 0; i < r->nmessages; i++)
		printf("%s\n", r->messages[i]);
	if ((long long)r->nmessages < r->mismatches)
		printf("... and %lld more\n", r->mismatches - (long long)r->nmessages);
	if (r->mismatches) {
		fprintf(stderr,
			"metasync: verify: '%s' does not match the source '%s' "
			"(%lld mismatch%s)\n",
			ms_catalog_url(dst), ms_catalog_url(src), r->mismatches,
			r->mismatches == 1 ? "" : "es");
	} else if (!quiet) {
		printf("verified: '%s' matches '%s' (%lld databases, %lld tables, %lld views, "
		       "%lld partitions)\n",
		       ms_catalog_url(dst), ms_catalog_url(src), r->databases, r->tables, r->views,
		       r->partitions);
	}
}

/* The source databases the selection takes (all when NULL), sorted. */
static int selected(ms_catalog *src, const char *selection, ms_strlist *out, ms_error *err)
{
	ms_strlist all = { 0 };
	int rc = ms_catalog_list_databases(src, ms_strlist_collect, &all, err);

	for (size_t i = 0; rc == 0 && i < all.n; i++)
		if (ms_selection_match(selection, all.v[i]) && ms_strlist_add(out, all.v[i]) < 0)
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	ms_strlist_sort(out);
	ms_strlist_free(&all);
	return rc;
}

/* Open source and target for reading, each at one point in time. */
static int open_both(const ms_run_args *a, ms_catalog **src, ms_catalog **dst, ms_error *err)
{
	ms_open_options o = { 0 };
	int rc;

	o.mode = MS_OPEN_READ;
	if ((rc = ms_catalog_open(src, a->source, &o, err)) < 0) {
		ms_error_prefix(err, "source: ");
		return rc;
	}
	if ((rc = ms_catalog_open(dst, a->target, &o, err)) < 0) {
		ms_error_prefix(err, "target: ");
		return rc;
	}
	if ((rc = ms_catalog_read_begin(*src, err)) < 0 ||
	    (rc = ms_catalog_read_begin(*dst, err)) < 0)
		return rc;
	return 0;
}

/* A snapshot target holds an export's copy: 1, else 0. */
static int is_snapshot(ms_catalog *cat)
{
	ms_snapshot_info info;
	ms_error e2;
	int yes;

	memset(&info, 0, sizeof(info));
	yes = ms_catalog_snapshot_info(cat, &info, &e2) == 0 && info.id;
	ms_snapshot_info_free(&info);
	return yes;
}

static int cmd_verify(int argc, char **argv)
{
	ms_run_args a;
	ms_catalog *src = NULL, *dst = NULL;
	ms_compare_options co = { 0 };
	ms_compare_result res = { 0 };
	ms_strlist dbs = { 0 };
	ms_error err;
	int rc, code;

	ms_error_clear(&err);
	if ((code = ms_parse_run_args("verify", argc, argv, &a, MS_RUN_FROM_EITHER)) != 0 ||
	    (code = reject_run_options(&a)) != 0)
		goto done;
	if ((rc = open_both(&a, &src, &dst, &err)) < 0 ||
	    (rc = selected(src, a.sync.databases, &dbs, &err)) < 0)
		goto fail;
	co.databases = (const char *const *)dbs.v;
	co.ndatabases = dbs.n;
	co.b_name = "the target";
	co.max_messages = MAX_DESCRIBED;
	if (is_snapshot(dst)) {
		if (has_mapping(&a.sync)) {
			code = ms_usage_error("verify",
					      "the target is a snapshot, an export's "
					      "plain copy: the mapping options do not apply");
			goto done;
		}
	} else {
		co.replica = 1;
		co.mapping = &a.sync;
	}
	if ((rc = ms_catalog_compare(src, dst, &co, &res, &err)) < 0)
		goto fail;
	if (a.json)
		print_json(src, dst, &res);
	else
		print_result(src, dst, &res, a.quiet);
	code = res.mismatches ? MS_EXIT_ERROR : MS_EXIT_OK;
	goto done;
fail:
	code = ms_fail(&err);
done:
	ms_compare_result_free(&res);
	ms_strlist_free(&dbs);
	if (src)
		ms_catalog_read_end(src);
	if (dst)
		ms_catalog_read_end(dst);
	ms_catalog_close(src);
	ms_catalog_close(dst);
	ms_run_args_free(&a);
	return code;
}

const ms_command ms_cmd_verify = {
	.name = "verify",
	.run = cmd_verify,
	.summary = "check that a target holds what its source holds",
	.usage = verify_help,
};
