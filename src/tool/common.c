/*
 * What the commands share: exit statuses, error and usage messages (with
 * --json, as one object), report printing and the progress bar; and what
 * import, sync and plan share: their flags, and running the library's import
 * (ms_import_ext) with the report printed.  Keeping it in one place keeps
 * the commands consistent.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "util/duration.h"

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

int ms_exit_for_error(int rc)
{
	switch (rc) {
	case 0:
		return MS_EXIT_OK;
	case MS_EUSAGE:
		return MS_EXIT_USAGE;
	case MS_EREFUSED:
	case MS_EINTEGRITY:
		return MS_EXIT_REFUSED;
	default:
		return MS_EXIT_ERROR;
	}
}

int ms_exit_for_status(ms_status s)
{
	switch (s) {
	case MS_STATUS_OK:
		return MS_EXIT_OK;
	case MS_STATUS_PARTIAL:
		return MS_EXIT_PARTIAL;
	case MS_STATUS_REFUSED:
		return MS_EXIT_REFUSED;
	default:
		return MS_EXIT_ERROR;
	}
}

/* --json was given and the command has not printed its JSON object yet. */
static int json_errors;

void ms_json_errors_scan(int argc, char **argv)
{
	json_errors = 0;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			json_errors = 1;
}

void ms_json_printed(void)
{
	json_errors = 0;
}

/* The one JSON object of a command stopped by an error, when --json asks for it. */
static void json_error(int code, const char *message, const char *detail)
{
	cJSON *o;
	char *s;

	if (!json_errors)
		return;
	json_errors = 0;
	if (!(o = cJSON_CreateObject()))
		return;
	cJSON_AddStringToObject(o, "status", code == MS_EXIT_REFUSED ? "refused" : "error");
	cJSON_AddStringToObject(o, "message", message);
	if (detail && *detail)
		cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddNumberToObject(o, "exit_status", code);
	if ((s = cJSON_PrintUnformatted(o)))
		printf("%s\n", s);
	free(s);
	cJSON_Delete(o);
	fflush(stdout);
}

int ms_fail(const ms_error *err)
{
	int code = ms_exit_for_error(err->code);

	if (err->detail[0])
		fprintf(stderr, "metasync: %s (%s)\n", err->message, err->detail);
	else
		fprintf(stderr, "metasync: %s\n", err->message);
	json_error(code, err->message, err->detail);
	return code;
}

int ms_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "metasync%s%s: %s\n(see 'metasync help%s%s')\n", cmd ? " " : "",
		cmd ? cmd : "", msg, cmd ? " " : "", cmd ? cmd : "");
	json_error(MS_EXIT_USAGE, msg, NULL);
	return MS_EXIT_USAGE;
}

enum {
	OPT_SOURCE = 1000,
	OPT_TARGET,
	OPT_INPUT,
	OPT_DBIN,
	OPT_TBLIN,
	OPT_PARTIN,
	OPT_NOMANIFEST,
	OPT_DBNAMES,
	OPT_DBPREFIX,
	OPT_TPREFIX,
	OPT_RENAME,
	OPT_REWRITE,
	OPT_DELETES,
	OPT_MAXDEL,
	OPT_ADOPT,
	OPT_FULL,
	OPT_DRYRUN,
	OPT_JSON,
	OPT_REGION,
	OPT_MODE,
	OPT_MANIFEST_SHA,
	OPT_ALLOW_EMPTY,
	OPT_PRUNE,
	OPT_STRICT,
	OPT_WATCH,
	OPT_STATE,
	OPT_INTERVAL,
	OPT_RECONCILE
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
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "watch", no_argument, NULL, OPT_WATCH },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "reconcile", required_argument, NULL, OPT_RECONCILE },
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

int ms_check_database_names(const char *cmd, const char *v)
{
	ms_error err;

	if (ms_selection_check("--database-names", v, &err) < 0)
		return ms_usage_error(cmd, "%s", err.message);
	return 0;
}

/*
 * One option of the run parser into a: 0, 1 when c is none of them, or the
 * exit status of a usage error.
 */
static int run_option(const char *cmd, int c, ms_run_args *a, const char **region,
		      const char **mode)
{
	switch (c) {
	case OPT_SOURCE:
		a->source = optarg;
		break;
	case OPT_TARGET:
		a->target = optarg;
		break;
	case OPT_INPUT:
		a->input_path = optarg;
		break;
	case OPT_DBIN:
		a->database_input_path = optarg;
		break;
	case OPT_TBLIN:
		a->table_input_path = optarg;
		break;
	case OPT_PARTIN:
		a->partition_input_path = optarg;
		break;
	case OPT_NOMANIFEST:
		a->allow_no_manifest = 1;
		break;
	case OPT_MANIFEST_SHA:
		a->expect_manifest_sha256 = optarg;
		break;
	case OPT_DBNAMES:
		if (ms_check_database_names(cmd, optarg))
			return MS_EXIT_USAGE;
		a->sync.databases = optarg;
		break;
	case OPT_DBPREFIX:
		a->sync.database_prefix = optarg;
		break;
	case OPT_TPREFIX:
		a->sync.table_prefix = optarg;
		break;
	case OPT_RENAME:
		if (push(&a->renames, &a->sync.nrenames, optarg) < 0)
			return MS_EXIT_ERROR;
		break;
	case OPT_REWRITE:
		if (push(&a->rewrites, &a->sync.nrewrites, optarg) < 0)
			return MS_EXIT_ERROR;
		break;
	case OPT_DELETES:
		if (strcmp(optarg, "none") == 0)
			a->sync.deletes = MS_DELETES_NONE;
		else if (strcmp(optarg, "mirror") == 0)
			a->sync.deletes = MS_DELETES_MIRROR;
		else
			return ms_usage_error(cmd, "--deletes '%s' is not 'none' or 'mirror'",
					      optarg);
		break;
	case OPT_MAXDEL: {
		char *end;
		errno = 0;
		a->sync.max_deletes = strtoll(optarg, &end, 10);
		if (errno || *end || end == optarg || a->sync.max_deletes < 0)
			return ms_usage_error(cmd, "--max-deletes '%s' is not a count", optarg);
		break;
	}
	case OPT_ADOPT:
		a->sync.adopt = 1;
		break;
	case OPT_ALLOW_EMPTY:
		a->sync.allow_empty_source = 1;
		break;
	case OPT_PRUNE:
		a->sync.prune_unmapped = 1;
		break;
	case OPT_FULL:
		a->sync.full = 1;
		break;
	case OPT_DRYRUN:
		a->sync.dry_run = 1;
		break;
	case OPT_JSON:
		a->json = 1;
		break;
	case OPT_REGION:
		*region = optarg;
		break;
	case OPT_MODE:
		*mode = optarg;
		break;
	case OPT_STRICT:
		a->strict = 1;
		break;
	case OPT_WATCH:
		a->watch = 1;
		break;
	case OPT_STATE:
		a->state_path = optarg;
		break;
	case OPT_INTERVAL:
	case OPT_RECONCILE:
		if (ms_parse_duration_ms(optarg, c == OPT_INTERVAL ? &a->interval_ms
								   : &a->reconcile_ms) < 0 ||
		    (c == OPT_INTERVAL && a->interval_ms == 0))
			return ms_usage_error(cmd,
					      "%s '%s' is not a duration (a whole number and ms, "
					      "s, "
					      "m, h or d: '200ms', '1h')",
					      c == OPT_INTERVAL ? "--interval" : "--reconcile",
					      optarg);
		break;
	case 'v':
		a->verbose = 1;
		break;
	case 'q':
		a->quiet = 1;
		break;
	default:
		return 1;
	}
	return 0;
}

/* What no single option can say: the options given together. 0 or the exit status. */
static int check_run_args(const char *cmd, ms_run_args *a, ms_run_from from, const char *region,
			  const char *mode)
{
	int utility;

	if (!a->target)
		return ms_usage_error(cmd, "--target is required");
	utility = a->database_input_path || a->table_input_path || a->partition_input_path;
	if (from == MS_RUN_FROM_SNAPSHOT) {
		if (!a->input_path && !utility)
			return ms_usage_error(cmd, "--input-path is required");
		if (a->source)
			return ms_usage_error(cmd, "--source is not an import option (use sync)");
	} else if (from == MS_RUN_FROM_CATALOG) {
		if (!a->source)
			return ms_usage_error(cmd, "--source is required");
		if (a->input_path || utility)
			return ms_usage_error(cmd, "%s is not a sync option (use import)",
					      a->input_path            ? "--input-path"
					      : a->database_input_path ? "--database-input-path"
					      : a->table_input_path    ? "--table-input-path"
								       : "--partition-input-path");
	} else {
		if ((a->source != NULL) + (a->input_path != NULL) + (utility != 0) != 1)
			return ms_usage_error(cmd, "give one of --source, --input-path or the "
						   "utility's --database-input-path and "
						   "--table-input-path");
	}
	if (a->input_path && utility)
		return ms_usage_error(cmd,
				      "give --input-path or the utility's --database-input-path "
				      "and --table-input-path, not both");
	if (utility && (!a->database_input_path || !a->table_input_path))
		return ms_usage_error(cmd,
				      "--database-input-path and --table-input-path go together");
	/* The AWS utility's import flags, so that its command lines run: the URLs say where. */
	if ((region || mode) && from != MS_RUN_FROM_SNAPSHOT)
		return ms_usage_error(cmd,
				      "%s is the AWS utility's import flag; %s reads catalog "
				      "URLs (omit it)",
				      region ? "--region" : "--mode", cmd);
	if (mode && strcmp(mode, "from-s3") != 0)
		return ms_usage_error(cmd,
				      "--mode '%s' is not supported: give --mode from-s3 with "
				      "--input-path, or use sync to read a live catalog",
				      mode);
	if (a->sync.deletes != MS_DELETES_MIRROR &&
	    (a->sync.max_deletes >= 0 || a->sync.allow_empty_source))
		return ms_usage_error(cmd,
				      "%s applies to mirror deletes, which are off: give "
				      "--deletes mirror too, or omit %s",
				      a->sync.max_deletes >= 0 ? "--max-deletes"
							       : "--allow-empty-source",
				      a->sync.max_deletes >= 0 ? "--max-deletes"
							       : "--allow-empty-source");
	if (!a->watch && (a->state_path || a->interval_ms || a->reconcile_ms))
		return ms_usage_error(cmd, "%s goes with --watch",
				      a->state_path    ? "--state"
				      : a->interval_ms ? "--interval"
						       : "--reconcile");
	if (a->watch && from != MS_RUN_FROM_CATALOG)
		return ms_usage_error(cmd, "--watch follows a live catalog: use sync --watch");
	if (a->watch && (a->sync.dry_run || a->strict))
		return ms_usage_error(cmd,
				      "--watch applies changes as they come: %s does not go "
				      "with it",
				      a->sync.dry_run ? "--dry-run" : "--strict");
	if (a->verbose && (a->json || a->quiet))
		return ms_usage_error(cmd,
				      "-v prints every change, which %s leaves out: give one of "
				      "them",
				      a->json ? "--json" : "-q");
	if (a->quiet && a->json)
		return ms_usage_error(cmd, "-q has nothing to quiet with --json, which prints one "
					   "object and nothing else: give one of them");
	/* prefixes, renames and location rewrites, as the library reads them */
	{
		ms_error err;

		if (ms_sync_options_check(&a->sync, &err) < 0)
			return ms_usage_error(cmd, "%s", err.message);
	}
	return 0;
}

int ms_parse_run_args(const char *cmd, int argc, char **argv, ms_run_args *a, ms_run_from from)
{
	const char *region = NULL, *mode = NULL;
	int c, rc;

	memset(a, 0, sizeof(*a));
	a->sync.max_deletes = -1;
	ms_json_errors_scan(argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vq", run_options, NULL)) != -1) {
		if (c == ':')
			return ms_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		if ((rc = run_option(cmd, c, a, &region, &mode)) == 1)
			return ms_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return ms_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	a->sync.renames = a->renames;
	a->sync.location_rewrites = a->rewrites;
	return check_run_args(cmd, a, from, region, mode);
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

void ms_skips_add(ms_skips *k, const char *reason)
{
	size_t i;

	if (!reason)
		reason = "skipped";
	for (i = 0; i < k->n && strcmp(k->v[i].reason, reason) != 0; i++)
		;
	if (i == k->n) {
		struct ms_skip_reason *nv = realloc(k->v, (k->n + 1) * sizeof(*nv));

		if (!nv)
			return;
		k->v = nv;
		if (!(nv[i].reason = strdup(reason)))
			return;
		nv[i].count = 0;
		k->n++;
	}
	k->v[i].count++;
}

void ms_skips_free(ms_skips *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].reason);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

long long ms_report_skipped(const ms_report *rep)
{
	return rep->databases.skipped + rep->tables.skipped + rep->partitions.skipped;
}

/* What the engine counts as skipped without an event: the partitions of skipped tables. */
#define SKIPPED_WITH_TABLE "partitions of skipped tables"

static long long skips_unexplained(const ms_report *rep, const ms_skips *k)
{
	long long n = ms_report_skipped(rep);

	for (size_t i = 0; i < k->n; i++)
		n -= k->v[i].count;
	return n > 0 ? n : 0;
}

static void json_entries(cJSON *o, const char *name, const ms_report_error *v, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, name);

	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "entity", v[i].entity);
		cJSON_AddStringToObject(e, "message", v[i].message);
		cJSON_AddItemToArray(arr, e);
	}
}

void ms_print_report(const char *cmd, const ms_report *rep, const ms_skips *skips,
		     const char *message, int json, FILE *f)
{
	long long skipped = ms_report_skipped(rep);
	size_t i;

	if (json) {
		cJSON *o = cJSON_CreateObject(), *counts;
		char *s;

		cJSON_AddStringToObject(o, "status", ms_status_name(rep->status));
		if (message)
			cJSON_AddStringToObject(o, "message", message);
		counts = cJSON_AddObjectToObject(o, "counts");
		ms_json_counts(counts, "databases", &rep->databases);
		ms_json_counts(counts, "tables", &rep->tables);
		ms_json_counts(counts, "partitions", &rep->partitions);
		if (skips && skipped) {
			cJSON *k = cJSON_AddObjectToObject(o, "skipped");
			for (i = 0; i < skips->n; i++)
				cJSON_AddNumberToObject(k, skips->v[i].reason,
							(double)skips->v[i].count);
			if (skips_unexplained(rep, skips))
				cJSON_AddNumberToObject(k, SKIPPED_WITH_TABLE,
							(double)skips_unexplained(rep, skips));
		}
		json_entries(o, "errors", rep->errors, rep->nerrors);
		json_entries(o, "warnings", rep->warnings, rep->nwarnings);
		cJSON_AddNumberToObject(o, "seconds",
					(double)((long long)(rep->seconds * 1000)) / 1000.0);
		cJSON_AddBoolToObject(o, "dry_run", rep->dry_run);
		s = cJSON_PrintUnformatted(o);
		fprintf(f, "%s\n", s);
		free(s);
		cJSON_Delete(o);
		ms_json_printed();
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
		fprintf(f, "  warning: %s: %s\n", rep->warnings[i].entity,
			rep->warnings[i].message);
	if (skipped) {
		long long rest = skips ? skips_unexplained(rep, skips) : 0;

		fprintf(f, "  the target does not match the source: %lld skipped", skipped);
		for (i = 0; skips && i < skips->n; i++)
			fprintf(f, "%s'%s' %lld", i ? ", " : " (", skips->v[i].reason,
				skips->v[i].count);
		if (rest)
			fprintf(f, "%s%lld %s", skips->n ? ", " : " (", rest, SKIPPED_WITH_TABLE);
		fprintf(f, "%s\n", skips && (skips->n || rest) ? ")" : "");
	} else if (rep->status == MS_STATUS_OK && !rep->dry_run && !rep->databases.created &&
		   !rep->databases.updated && !rep->tables.created && !rep->tables.updated &&
		   !rep->partitions.created && !rep->partitions.updated &&
		   !rep->databases.deleted && !rep->tables.deleted && !rep->partitions.deleted) {
		fprintf(f, "  nothing changed: the target already matches\n");
	}
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
	int print; /* print change lines (--dry-run, -v) */
	int verbose;
	ms_skips skips;
} change_ctx;

static void print_change_line(const ms_change_event *ev, FILE *f)
{
	fprintf(f, "  %-9s %-9s %s%s%s%s%s%s%s\n", ms_action_name(ev->action),
		ms_kind_name(ev->kind), ev->database, ev->table ? "." : "",
		ev->table ? ev->table : "", ev->vkey ? " " : "", ev->vkey ? ev->vkey : "",
		ev->reason ? ": " : "", ev->reason ? ev->reason : "");
}

/* The on_change callback: counts skips by reason, prints a line per change on --dry-run or -v. */
static void print_change(const ms_change_event *ev, void *ctx)
{
	change_ctx *c = ctx;

	if (ev->action == MS_ACTION_SKIP)
		ms_skips_add(&c->skips, ev->reason);
	if (!c->print ||
	    (ev->kind == MS_KIND_PARTITION && !c->verbose && ev->action != MS_ACTION_FAIL))
		return;
	print_change_line(ev, c->f);
}

/* What ms_run_replication's check_source is given. */
typedef struct source_check {
	const ms_run_args *a;
	char *url;         /* the open source's URL, as errors name it (owned) */
	char misuse[1024]; /* a flag the source would ignore: the usage error, else "" */
} source_check;

/*
 * The check_source hook: a --manifest-sha256 or --allow-no-manifest that
 * src (not a snapshot) would ignore is MS_EUSAGE; notes src's URL.
 */
static int check_source(ms_catalog *src, void *ctx, ms_error *err)
{
	source_check *sc = ctx;
	const ms_run_args *a = sc->a;
	const char *flag = a->expect_manifest_sha256 ? "--manifest-sha256"
			   : a->allow_no_manifest    ? "--allow-no-manifest"
						     : NULL;

	sc->url = strdup(ms_catalog_url(src));
	if (!flag || strcmp(ms_catalog_driver_name(src), "snapshot") == 0)
		return 0;
	snprintf(sc->misuse, sizeof(sc->misuse),
		 "%s applies to snapshots, and '%s' is a %s "
		 "catalog (omit %s)",
		 flag, ms_catalog_url(src), ms_catalog_driver_name(src), flag);
	return ms_error_set(err, MS_EUSAGE, "%s", sc->misuse);
}

/* The exit status of a run that stopped on error rc, after printing err (and with --json, rep). */
static int run_failed(const char *cmd, const ms_run_args *a, int rc, const ms_error *err,
		      ms_report *rep, const source_check *sc, const ms_skips *skips)
{
	if (sc->misuse[0])
		return ms_usage_error(cmd, "%s", sc->misuse);
	if (a->json && rep) {
		rep->status = ms_exit_for_error(rc) == MS_EXIT_REFUSED ? MS_STATUS_REFUSED
								       : MS_STATUS_ERROR;
		ms_report_add_error(rep, sc->url ? sc->url : "", err->message);
		ms_print_report(cmd, rep, skips, err->message, 1, stdout);
	}
	ms_fail(err);
	return ms_exit_for_error(rc);
}

int ms_run_replication(const char *cmd, ms_run_args *a)
{
	ms_import_options io = { 0 };
	source_check sc = { a, NULL, "" };
	ms_report *rep = NULL;
	ms_error err;
	change_ctx cc = { stdout, 0, a->verbose, { NULL, 0 } };
	int rc, code;

	ms_error_clear(&err);
	io.allow_no_manifest = a->allow_no_manifest || a->database_input_path != NULL;
	io.database_input_path = a->database_input_path;
	io.table_input_path = a->table_input_path;
	io.partition_input_path = a->partition_input_path;
	io.expect_sha256 = a->expect_manifest_sha256;
	io.source_label = a->source       ? "--source"
			  : a->input_path ? "--input-path"
					  : "--database-input-path";
	io.target_label = "--target";
	io.check_source = check_source;
	io.ctx = &sc;
	cc.print = !a->json && !a->quiet && (a->sync.dry_run || a->verbose);
	a->sync.on_change = print_change;
	a->sync.ctx = &cc;
	if (!a->json && !a->quiet)
		a->sync.progress = ms_progress_bar;
	rc = ms_import_ext(a->source       ? a->source
			   : a->input_path ? a->input_path
					   : a->database_input_path,
			   a->target, &io, &a->sync, &rep, &err);
	if (rc < 0) {
		code = run_failed(cmd, a, rc, &err, rep, &sc, &cc.skips);
	} else {
		long long skipped = ms_report_skipped(rep);

		code = ms_exit_for_status(rep->status);
		if (!a->quiet || a->json)
			ms_print_report(cmd, rep, &cc.skips, NULL, a->json, stdout);
		if (code == MS_EXIT_OK && a->strict && skipped) {
			fflush(stdout);
			fprintf(stderr,
				"metasync: the target does not match the source: %lld %s "
				"skipped (--strict)\n",
				skipped, skipped == 1 ? "entity" : "entities");
			code = MS_EXIT_SKIPPED;
		}
	}
	free(sc.url);
	ms_skips_free(&cc.skips);
	ms_report_free(rep);
	return code;
}
