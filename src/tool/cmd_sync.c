/*
 * metasync sync: make a live catalog match another, with no snapshot
 * between; with --watch, keep it matching by following the source's change
 * feed until SIGINT or SIGTERM.  The run itself, and the mapping options it
 * shares with import and plan, are in common.c.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "tool.h"

/* The text of `metasync help sync`, beside the options it describes. */
static const char usage[] =
	"usage: metasync sync --source URL --target URL [options]\n"
	"       metasync sync --watch --source URL --target URL [--state FILE] [options]\n\n"
	"Replicate directly from one catalog to another.  With --watch, keep the\n"
	"target in step: a first run of the whole selection, then the changes the\n"
	"source's change feed names, as they commit, until SIGINT or SIGTERM.\n\n"
	"  --watch                    follow the source's change feed (the embedded catalog\n"
	"                             and the Hive Metastore keep one)\n"
	"  --state FILE               keep the feed's cursor in FILE, so that a restart\n"
	"                             resumes where it stopped instead of running whole\n"
	"  --interval D               how often to read the feed when idle (default 100ms)\n"
	"  --reconcile D              run the whole selection again every D (default never)\n"
	"  with --watch, --max-deletes counts the deletes of each change set; a change set\n"
	"  over it stops the watch (exit 4) and changes nothing.  --json prints one object\n"
	"  per round.\n\n" MS_RUN_OPTIONS_HELP MS_RUN_EXIT_HELP;

static volatile int stop_watch;

static void on_signal(int sig)
{
	(void)sig;
	stop_watch = 1;
}

typedef struct watch_out {
	ms_run_args *a;
	long long rounds;
} watch_out;

/* " partitions 2 created, 1 deleted" for the non-zero counts of c. */
static void print_kind(const char *name, const ms_counts *c, int *first)
{
	const long long v[] = { c->created, c->updated, c->deleted, c->skipped, c->failed };
	const char *what[] = { "created", "updated", "deleted", "skipped", "failed" };
	int said = 0;

	for (size_t i = 0; i < 5; i++) {
		if (!v[i])
			continue;
		if (!said)
			printf("%s%s", *first ? " " : "; ", name);
		printf("%s %lld %s", said ? "," : "", v[i], what[i]);
		said = 1;
		*first = 0;
	}
}

static void on_round(const ms_follow_round *r, void *ctx)
{
	watch_out *w = ctx;
	const ms_report *rep = r->report;
	double lag = r->oldest_ms ? (double)(r->done_ms - r->oldest_ms) / 1000.0 : -1;
	size_t i;

	w->rounds++;
	if (r->full) {
		if (!w->a->quiet || w->a->json)
			ms_print_report("sync --watch", rep, NULL, NULL, w->a->json, stdout);
	} else if (w->a->json) {
		cJSON *o = cJSON_CreateObject(), *counts;
		char *s;

		cJSON_AddStringToObject(o, "status", ms_status_name(rep->status));
		cJSON_AddNumberToObject(o, "changes", (double)r->changes);
		cJSON_AddNumberToObject(o, "entities", (double)r->keys);
		if (lag >= 0)
			cJSON_AddNumberToObject(o, "lag_seconds", lag);
		counts = cJSON_AddObjectToObject(o, "counts");
		ms_json_counts(counts, "databases", &rep->databases);
		ms_json_counts(counts, "tables", &rep->tables);
		ms_json_counts(counts, "partitions", &rep->partitions);
		for (i = 0; i < rep->nerrors; i++) {
			cJSON *arr = cJSON_GetObjectItem(o, "errors");
			cJSON *e = cJSON_CreateObject();

			if (!arr)
				arr = cJSON_AddArrayToObject(o, "errors");
			cJSON_AddStringToObject(e, "entity", rep->errors[i].entity);
			cJSON_AddStringToObject(e, "message", rep->errors[i].message);
			cJSON_AddItemToArray(arr, e);
		}
		if ((s = cJSON_PrintUnformatted(o)))
			printf("%s\n", s);
		free(s);
		cJSON_Delete(o);
	} else if (!w->a->quiet) {
		int first = 1;

		printf("metasync sync --watch: %s, %zu change%s (%zu entit%s):",
		       ms_status_name(rep->status), r->changes, r->changes == 1 ? "" : "s", r->keys,
		       r->keys == 1 ? "y" : "ies");
		print_kind("databases", &rep->databases, &first);
		print_kind("tables", &rep->tables, &first);
		print_kind("partitions", &rep->partitions, &first);
		if (first)
			printf(" nothing to write");
		if (lag >= 0)
			printf("; lag %.2f s", lag);
		printf("\n");
		for (i = 0; i < rep->nerrors; i++)
			printf("  error: '%s': %s\n", rep->errors[i].entity,
			       rep->errors[i].message);
	}
	fflush(stdout);
}

static void on_error(const ms_error *err, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "metasync sync --watch: %s (trying again)\n", err->message);
}

static int open_both(ms_run_args *a, ms_catalog **src, ms_catalog **dst, ms_error *err)
{
	ms_open_options so = { 0 }, to = { 0 };
	int rc;

	so.mode = MS_OPEN_READ;
	to.mode = MS_OPEN_WRITE;
	if ((rc = ms_catalog_open(src, a->source, &so, err)) < 0) {
		ms_error_prefix(err, "--source: ");
		return rc;
	}
	if ((rc = ms_catalog_open(dst, a->target, &to, err)) < 0)
		ms_error_prefix(err, "--target: ");
	return rc;
}

static int watch(ms_run_args *a)
{
	ms_catalog *src = NULL, *dst = NULL;
	ms_follower *f = NULL;
	ms_follow_options fo;
	watch_out w = { a, 0 };
	struct sigaction sa;
	ms_error err;
	int rc;

	memset(&fo, 0, sizeof(fo));
	fo.state_path = a->state_path;
	fo.reconcile = (double)a->reconcile_ms / 1000.0;
	fo.on_round = on_round;
	fo.ctx = &w;
	a->sync.stop = &stop_watch;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ms_error_clear(&err);
	if ((rc = open_both(a, &src, &dst, &err)) < 0 ||
	    (rc = ms_follower_new(&f, src, dst, &a->sync, &fo, &err)) < 0 ||
	    (rc = ms_follow(f, a->interval_ms ? (double)a->interval_ms / 1000.0 : 0.1, &stop_watch,
			    on_error, NULL, &err)) < 0)
		rc = ms_fail(&err);
	ms_follower_free(f);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	return rc;
}

static int cmd_sync(int argc, char **argv)
{
	ms_run_args a;
	int rc;

	if ((rc = ms_parse_run_args("sync", argc, argv, &a, MS_RUN_FROM_CATALOG)) == 0)
		rc = a.watch ? watch(&a) : ms_run_replication("sync", &a);
	ms_run_args_free(&a);
	return rc;
}

const ms_command ms_cmd_sync = {
	.name = "sync",
	.run = cmd_sync,
	.summary = "make a catalog match another, with no snapshot between",
	.usage = usage,
};
