/*
 * What import, sync and plan share: their flags, opening the two catalogs,
 * running the engine and printing the report.  Keeping it in one place keeps
 * the three commands consistent.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

const char *ms_format_bytes(unsigned long long bytes)
{
	static _Thread_local char out[32];
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(out, sizeof(out), "%llu B", bytes);
		return out;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(out, sizeof(out), "%.1f %s", v, units[u]);
	return out;
}

int ms_exit_code_for(int rc)
{
	switch (rc) {
	case 0: return 0;
	case MS_EUSAGE: return EXIT_USAGE;
	case MS_EREFUSED:
	case MS_EINTEGRITY: return 4;
	default: return 1;
	}
}

int ms_fail(const ms_error *err)
{
	if (err->detail[0])
		fprintf(stderr, "metasync: %s (%s)\n", err->message, err->detail);
	else
		fprintf(stderr, "metasync: %s\n", err->message);
	return ms_exit_code_for(err->code);
}

int ms_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "metasync%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'metasync help%s%s')\n", cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

enum {
	OPT_SOURCE = 1000, OPT_TARGET, OPT_INPUT, OPT_DBIN, OPT_TBLIN, OPT_PARTIN, OPT_NOMANIFEST,
	OPT_DBNAMES, OPT_DBPREFIX, OPT_TPREFIX, OPT_RENAME, OPT_REWRITE, OPT_DELETES,
	OPT_MAXDEL, OPT_ADOPT, OPT_FULL, OPT_DRYRUN, OPT_JSON, OPT_REGION, OPT_MODE,
	OPT_MANIFEST_SHA, OPT_ALLOW_EMPTY, OPT_PRUNE
};

static const struct option run_options[] = {
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "input-path", required_argument, NULL, OPT_INPUT },
	{ "database-input-path", required_argument, NULL, OPT_DBIN },
	{ "table-input-path", required_argument, NULL, OPT_TBLIN },
	{ "partition-input-path", required_argument, NULL, OPT_PARTIN },
	{ "allow-no-manifest", no_argument, NULL, OPT_NOMANIFEST },
	{ "manifest-sha256", required_argument, NULL, OPT_MANIFEST_SHA },
	{ "database-names", required_argument, NULL, OPT_DBNAMES },
	{ "database-prefix", required_argument, NULL, OPT_DBPREFIX },
	{ "table-prefix", required_argument, NULL, OPT_TPREFIX },
	{ "rename-database", required_argument, NULL, OPT_RENAME },
	{ "location-rewrite", required_argument, NULL, OPT_REWRITE },
	{ "deletes", required_argument, NULL, OPT_DELETES },
	{ "max-deletes", required_argument, NULL, OPT_MAXDEL },
	{ "adopt", no_argument, NULL, OPT_ADOPT },
	{ "allow-empty-source", no_argument, NULL, OPT_ALLOW_EMPTY },
	{ "prune-unmapped", no_argument, NULL, OPT_PRUNE },
	{ "full", no_argument, NULL, OPT_FULL },
	{ "dry-run", no_argument, NULL, OPT_DRYRUN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 }
};

static int push(const char ***list, size_t *n, const char *v)
{
	const char **nl = realloc(*list, (*n + 1) * sizeof(char *));

	if (!nl)
		return -1;
	nl[(*n)++] = v;
	*list = nl;
	return 0;
}

static int check_rule(const char *cmd, const char *flag, const char *v)
{
	const char *eq = strchr(v, '=');

	if (!eq || eq == v || (strcmp(flag, "--rename-database") == 0 && !eq[1]))
		return ms_usage_error(cmd, "%s '%s' is not of the form %s", flag, v,
				      strcmp(flag, "--rename-database") == 0 ? "OLD=NEW" : "FROM=TO");
	return 0;
}

int ms_parse_run_args(const char *cmd, int argc, char **argv, ms_run_args *a, int want_input)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->sync.max_deletes = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vq", run_options, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE: a->source = optarg; break;
		case OPT_TARGET: a->target = optarg; break;
		case OPT_INPUT: a->input_path = optarg; break;
		case OPT_DBIN: a->database_input_path = optarg; break;
		case OPT_TBLIN: a->table_input_path = optarg; break;
		case OPT_PARTIN: a->partition_input_path = optarg; break;
		case OPT_NOMANIFEST: a->allow_no_manifest = 1; break;
		case OPT_MANIFEST_SHA: a->expect_manifest_sha256 = optarg; break;
		case OPT_DBNAMES: a->sync.databases = optarg; break;
		case OPT_DBPREFIX: a->sync.database_prefix = optarg; break;
		case OPT_TPREFIX: a->sync.table_prefix = optarg; break;
		case OPT_RENAME:
			if (check_rule(cmd, "--rename-database", optarg))
				return EXIT_USAGE;
			if (push(&a->renames, &a->sync.nrenames, optarg) < 0)
				return 1;
			break;
		case OPT_REWRITE:
			if (check_rule(cmd, "--location-rewrite", optarg))
				return EXIT_USAGE;
			if (push(&a->rewrites, &a->sync.nrewrites, optarg) < 0)
				return 1;
			break;
		case OPT_DELETES:
			if (strcmp(optarg, "none") == 0)
				a->sync.deletes = MS_DELETES_NONE;
			else if (strcmp(optarg, "mirror") == 0)
				a->sync.deletes = MS_DELETES_MIRROR;
			else
				return ms_usage_error(cmd, "--deletes '%s' is not 'none' or 'mirror'", optarg);
			break;
		case OPT_MAXDEL: {
			char *end;
			errno = 0;
			a->sync.max_deletes = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || a->sync.max_deletes < 0)
				return ms_usage_error(cmd, "--max-deletes '%s' is not a count", optarg);
			break;
		}
		case OPT_ADOPT: a->sync.adopt = 1; break;
		case OPT_ALLOW_EMPTY: a->sync.allow_empty_source = 1; break;
		case OPT_PRUNE: a->sync.prune_unmapped = 1; break;
		case OPT_FULL: a->sync.full = 1; break;
		case OPT_DRYRUN: a->sync.dry_run = 1; break;
		case OPT_JSON: a->json = 1; break;
		case OPT_REGION: break; /* accepted as the AWS utility takes it; glue:// URLs carry the region */
		case OPT_MODE:
			if (strcmp(optarg, "from-s3") != 0 && strcmp(optarg, "to-s3") != 0)
				return ms_usage_error(cmd, "--mode '%s' is not supported (use catalog URLs)", optarg);
			break;
		case 'v': a->verbose = 1; break;
		case 'q': a->quiet = 1; break;
		case ':': return ms_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		default: return ms_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	a->sync.renames = a->renames;
	a->sync.location_rewrites = a->rewrites;
	if (!a->target)
		return ms_usage_error(cmd, "--target is required");
	if (want_input == 1) {
		int utility = a->database_input_path || a->table_input_path || a->partition_input_path;
		if (!a->input_path && !utility)
			return ms_usage_error(cmd, "--input-path is required");
		if (utility && (!a->database_input_path || !a->table_input_path))
			return ms_usage_error(cmd, "--database-input-path and --table-input-path go together");
		if (a->source)
			return ms_usage_error(cmd, "--source is not an import option (use sync)");
	} else if (want_input == 0) {
		if (!a->source)
			return ms_usage_error(cmd, "--source is required");
		if (a->input_path)
			return ms_usage_error(cmd, "--input-path is not a sync option (use import)");
	} else {
		if (!a->source == !a->input_path && !a->database_input_path)
			return ms_usage_error(cmd, "give one of --source or --input-path");
	}
	return 0;
}

void ms_run_args_free(ms_run_args *a)
{
	free(a->renames);
	free(a->rewrites);
}

static void print_counts(FILE *f, const char *name, const ms_counts *c)
{
	fprintf(f, "  %-11s %8lld %8lld %10lld %8lld %8lld %7lld\n", name, c->created, c->updated,
		c->unchanged, c->deleted, c->skipped, c->failed);
}

void ms_json_counts(cJSON *o, const char *name, const ms_counts *c)
{
	cJSON *k = cJSON_AddObjectToObject(o, name);

	cJSON_AddNumberToObject(k, "created", (double)c->created);
	cJSON_AddNumberToObject(k, "updated", (double)c->updated);
	cJSON_AddNumberToObject(k, "unchanged", (double)c->unchanged);
	cJSON_AddNumberToObject(k, "deleted", (double)c->deleted);
	cJSON_AddNumberToObject(k, "skipped", (double)c->skipped);
	cJSON_AddNumberToObject(k, "failed", (double)c->failed);
}

void ms_print_report(const char *cmd, const ms_report *rep, int json, FILE *f)
{
	size_t i;

	if (json) {
		cJSON *o = cJSON_CreateObject(), *errs;
		char *s;

		cJSON_AddStringToObject(o, "status", ms_status_name(rep->status));
		ms_json_counts(cJSON_AddObjectToObject(o, "counts"), "databases", &rep->databases);
		ms_json_counts(cJSON_GetObjectItem(o, "counts"), "tables", &rep->tables);
		ms_json_counts(cJSON_GetObjectItem(o, "counts"), "partitions", &rep->partitions);
		errs = cJSON_AddArrayToObject(o, "errors");
		for (i = 0; i < rep->nerrors; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "entity", rep->errors[i].entity);
			cJSON_AddStringToObject(e, "message", rep->errors[i].message);
			cJSON_AddItemToArray(errs, e);
		}
		errs = cJSON_AddArrayToObject(o, "warnings");
		for (i = 0; i < rep->nwarnings; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "entity", rep->warnings[i].entity);
			cJSON_AddStringToObject(e, "message", rep->warnings[i].message);
			cJSON_AddItemToArray(errs, e);
		}
		cJSON_AddNumberToObject(o, "seconds", (double)((long long)(rep->seconds * 1000)) / 1000.0);
		cJSON_AddBoolToObject(o, "dry_run", rep->dry_run);
		s = cJSON_PrintUnformatted(o);
		fprintf(f, "%s\n", s);
		free(s);
		cJSON_Delete(o);
		return;
	}
	fprintf(f, "metasync %s: %s%s in %.2f s\n", cmd, ms_status_name(rep->status),
		rep->dry_run ? " (dry run: nothing changed)" : "", rep->seconds);
	fprintf(f, "  %-11s %8s %8s %10s %8s %8s %7s\n", "", "created", "updated", "unchanged",
		"deleted", "skipped", "failed");
	print_counts(f, "databases", &rep->databases);
	print_counts(f, "tables", &rep->tables);
	print_counts(f, "partitions", &rep->partitions);
	for (i = 0; i < rep->nerrors; i++)
		fprintf(f, "  error: '%s': %s\n", rep->errors[i].entity, rep->errors[i].message);
	for (i = 0; i < rep->nwarnings; i++)
		fprintf(f, "  warning: %s: %s\n", rep->warnings[i].entity, rep->warnings[i].message);
	if (rep->status == MS_STATUS_OK && !rep->dry_run && !rep->databases.created &&
	    !rep->databases.updated && !rep->tables.created && !rep->tables.updated &&
	    !rep->partitions.created && !rep->partitions.updated && !rep->databases.deleted &&
	    !rep->tables.deleted && !rep->partitions.deleted)
		fprintf(f, "  nothing changed: the target already matches\n");
}

void ms_progress_bar(unsigned long long done, unsigned long long total, void *ctx)
{
	int width = 40, filled;

	(void)ctx;
	if (!isatty(STDERR_FILENO))
		return;
	if (total == 0) {
		fprintf(stderr, "\r  %llu partitions", done);
		return;
	}
	if (done > total)
		done = total;
	filled = (int)((double)done / (double)total * width);
	fprintf(stderr, "\r  [%.*s%*s] %3d%% %llu/%llu", filled,
		"########################################", width - filled, "",
		(int)(100.0 * (double)done / (double)total), done, total);
	if (done == total)
		fprintf(stderr, "\r%*s\r", width + 40, "");
	fflush(stderr);
}

typedef struct change_ctx {
	FILE *f;
	int verbose;
} change_ctx;

void ms_print_change(const ms_change_event *ev, void *ctx)
{
	change_ctx *c = ctx;

	if (ev->kind == MS_KIND_PARTITION && !c->verbose && ev->action != MS_ACTION_FAIL)
		return;
	fprintf(c->f, "  %-9s %-9s %s%s%s%s%s%s%s\n", ms_action_name(ev->action),
		ms_kind_name(ev->kind), ev->database, ev->table ? "." : "",
		ev->table ? ev->table : "", ev->vkey ? " " : "", ev->vkey ? ev->vkey : "",
		ev->reason ? ": " : "", ev->reason ? ev->reason : "");
}

int ms_run_replication(const char *cmd, ms_run_args *a)
{
	ms_warnings warns = { NULL, 0 };
	ms_catalog *src = NULL, *dst = NULL;
	ms_open_options so = { 0 }, to = { 0 };
	ms_report *rep = NULL;
	ms_error err;
	change_ctx cc = { stdout, a->verbose };
	int rc, code;

	ms_error_clear(&err);
	so.mode = MS_OPEN_READ;
	so.allow_no_manifest = a->allow_no_manifest || a->database_input_path != NULL;
	so.database_input_path = a->database_input_path;
	so.table_input_path = a->table_input_path;
	so.partition_input_path = a->partition_input_path;
	so.expect_manifest_sha256 = a->expect_manifest_sha256;
	so.warn = ms_warnings_collect;
	so.warn_ctx = &warns;
	to.mode = MS_OPEN_WRITE;
	to.warn = ms_warnings_collect;
	to.warn_ctx = &warns;
	rc = ms_catalog_open(&src, a->source ? a->source :
				   a->input_path ? a->input_path : a->database_input_path, &so, &err);
	if (rc < 0) {
		ms_error_prefix(&err, "%s: ", a->source ? "--source" :
					   a->input_path ? "--input-path" : "--database-input-path");
		return ms_fail(&err);
	}
	if ((rc = ms_catalog_open(&dst, a->target, &to, &err)) < 0) {
		ms_error_prefix(&err, "--target: ");
		ms_catalog_close(src);
		return ms_fail(&err);
	}
	if (!a->json && !a->quiet && (a->sync.dry_run || a->verbose)) {
		a->sync.on_change = ms_print_change;
		a->sync.ctx = &cc;
	}
	if (!a->json && !a->quiet)
		a->sync.progress = ms_progress_bar;
	rc = ms_sync(src, dst, &a->sync, &rep, &err);
	ms_warnings_into(&warns, rep);
	if (rc < 0) {
		code = ms_exit_code_for(rc);
		if (a->json && rep) {
			rep->status = rc == MS_EREFUSED || rc == MS_EINTEGRITY ? MS_STATUS_REFUSED :
									MS_STATUS_ERROR;
			ms_report_error *ne = realloc(rep->errors, (rep->nerrors + 1) * sizeof(*ne));
			if (ne) {
				rep->errors = ne;
				ne[rep->nerrors].entity = strdup(ms_catalog_url(src));
				ne[rep->nerrors].message = strdup(err.message);
				rep->nerrors++;
			}
			ms_print_report(cmd, rep, 1, stdout);
		}
		ms_fail(&err);
	} else {
		code = ms_report_exit_code(rep);
		if (!a->quiet || a->json)
			ms_print_report(cmd, rep, a->json, stdout);
	}
	ms_report_free(rep);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	return code;
}
