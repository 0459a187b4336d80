/*
 * metasync store: work on a store itself rather than on a snapshot in it.
 * `store gc` removes what exports killed outright left behind (they cannot
 * clean up after themselves) and, with a retention, old snapshots, all
 * through ms_store_gc; this file only parses flags and prints what it did,
 * one line per item on a terminal or one JSON object with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "util/duration.h"

typedef struct gc_print {
	int json, quiet, dry_run;
	cJSON *items; /* --json: the items so far */
} gc_print;

static const char *kind_name(ms_gc_kind k)
{
	switch (k) {
	case MS_GC_TEMPORARY:
		return "temporary";
	case MS_GC_UPLOAD:
		return "upload";
	case MS_GC_INCOMPLETE:
		return "incomplete";
	case MS_GC_EXPIRED:
		return "expired";
	}
	return "?";
}

static void on_item(const ms_gc_item *item, void *ctx)
{
	gc_print *p = ctx;
	const char *action = !item->remove ? "keep"
			     : item->error ? "failed"
			     : p->dry_run  ? "would remove"
					   : "removed";

	if (p->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", kind_name(item->kind));
		cJSON_AddStringToObject(o, "key", item->key);
		cJSON_AddStringToObject(o, "action", !item->remove ? "keep" : "remove");
		cJSON_AddStringToObject(o, "reason", item->why ? item->why : "");
		if (item->error)
			cJSON_AddStringToObject(o, "error", item->error);
		else
			cJSON_AddNullToObject(o, "error");
		cJSON_AddNumberToObject(o, "bytes", (double)item->bytes);
		cJSON_AddNumberToObject(o, "objects", (double)item->objects);
		cJSON_AddItemToArray(p->items, o);
		return;
	}
	if (item->error)
		fprintf(stderr, "metasync store gc: cannot remove '%s': %s\n", item->key,
			item->error);
	if (p->quiet)
		return;
	printf("  %-12s %-10s %s (%llu %s, %s): %s\n", action, kind_name(item->kind), item->key,
	       item->objects, item->objects == 1 ? "object" : "objects",
	       ms_format_bytes(item->bytes), item->why ? item->why : "");
}

/* The one JSON object of a gc run; error: what stopped it (NULL when nothing did). */
static void print_json(const char *store, const gc_print *p, const ms_gc_report *r,
		       const ms_error *error)
{
	cJSON *o = cJSON_CreateObject(), *removed = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "status",
				!error                                              ? "ok"
				: ms_exit_for_error(error->code) == MS_EXIT_REFUSED ? "refused"
										    : "error");
	if (error)
		cJSON_AddStringToObject(o, "message", error->message);
	if (error && error->detail[0])
		cJSON_AddStringToObject(o, "detail", error->detail);
	cJSON_AddStringToObject(o, "store", store);
	cJSON_AddBoolToObject(o, "dry_run", p->dry_run);
	if (r->latest[0])
		cJSON_AddStringToObject(o, "latest", r->latest);
	else
		cJSON_AddNullToObject(o, "latest");
	cJSON_AddNumberToObject(removed, "count", (double)r->removed);
	cJSON_AddNumberToObject(removed, "bytes", (double)r->removed_bytes);
	cJSON_AddItemToObject(o, "removed", removed);
	cJSON_AddNumberToObject(o, "failed", (double)r->failed);
	cJSON_AddNumberToObject(o, "kept_snapshots", (double)r->kept_snapshots);
	cJSON_AddItemToObject(o, "items", p->items);
	if (r->note[0])
		cJSON_AddStringToObject(o, "note", r->note);
	else
		cJSON_AddNullToObject(o, "note");
	text = cJSON_PrintUnformatted(o);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(o);
	ms_json_printed();
}

static void print_summary(const char *store, const gc_print *p, const ms_gc_report *r)
{
	printf("metasync store gc: %s %llu %s (%s) from '%s'%s; %llu complete snapshots kept, "
	       "LATEST is %s\n",
	       p->dry_run ? "would remove" : "removed", r->removed,
	       r->removed == 1 ? "item" : "items", ms_format_bytes(r->removed_bytes), store,
	       p->dry_run ? " (dry run: nothing changed)" : "", r->kept_snapshots,
	       r->latest[0] ? r->latest : "missing");
	if (r->note[0])
		printf("metasync store gc: note: %s\n", r->note);
}

/* A whole number of at least 1 for flag, into *out; else a usage error's exit code. */
static int count_arg(const char *flag, const char *text, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno || *end || end == text || text[0] == '-' || *out < 1 || *out > 1000000)
		return ms_usage_error("store", "%s '%s' is not a whole number from 1 to 1000000",
				      flag, text);
	return 0;
}

/* The text of `metasync help store`, beside the options it describes. */
static const char usage[] =
	"usage: metasync store gc STORE [--dry-run] [--keep-days N | --keep N] [--grace D] "
	"[--json]\n\n"
	"Remove from STORE (a directory, or s3://BUCKET/PREFIX with the usual\n"
	"parameters) what exports that were killed left behind and, with --keep-days\n"
	"or --keep, complete snapshots outside that retention.  Only what is provably\n"
	"abandoned goes:\n"
	"  - temporary files of a directory store that no writer holds (every writer\n"
	"    holds a lock on its temporary file while it writes);\n"
	"  - snapshot folders without _SUCCESS whose writer is gone: in a directory\n"
	"    store every export holds a lock on its folder, so one nobody holds is\n"
	"    abandoned at once; one with no such record (s3, older metasync) once\n"
	"    nothing in it was written for the grace;\n"
	"  - unfinished multipart uploads (s3) started longer ago than the grace.\n"
	"A folder a running export holds is listed as in progress and kept.  The\n"
	"snapshot LATEST names, any newer one and every snapshot a kept one builds on\n"
	"(its manifest's parent) are never removed, nor are folders not named like a\n"
	"snapshot or exports of the AWS utility.  Every export does the same cleanup,\n"
	"without a retention, before it writes.\n\n"
	"  --dry-run                  list what would be removed, remove nothing\n"
	"  --keep-days N              also remove complete snapshots older than N days\n"
	"  --keep N                   also remove complete snapshots but the newest N\n"
	"  --grace D                  how long without a write makes a folder or an upload\n"
	"                             with no writer record abandoned (default 24h; 90s,\n"
	"                             30m, 12h, 7d; 0s: at once)\n"
	"  --json                     print one JSON object: status (ok, error, refused),\n"
	"                             message and detail (on error), store, dry_run, latest,\n"
	"                             removed {count, bytes}, failed, kept_snapshots,\n"
	"                             items [{kind, key, action, reason, error, bytes,\n"
	"                             objects}], note; an error before the store is read\n"
	"                             prints {status, message, exit_status}\n"
	"  -q, --quiet                print nothing but errors (not with --json)\n\n"
	"Exit status: 0 done, 1 error (listing the store or a removal failed), 2 usage,\n"
	"4 refused (a symbolic link inside a directory store: nothing is removed).\n";

static int store_gc(int argc, char **argv)
{
	static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' },
					      { "keep-days", required_argument, NULL, 'd' },
					      { "keep", required_argument, NULL, 'k' },
					      { "grace", required_argument, NULL, 'g' },
					      { "json", no_argument, NULL, 'j' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	unsigned long long days = 0, keep = 0;
	ms_gc_options go = { 0 };
	gc_print p = { 0 };
	ms_gc_report r;
	ms_store *st = NULL;
	const char *url;
	ms_error err;
	int c, rc;

	ms_json_errors_scan(argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			p.dry_run = 1;
			break;
		case 'd':
			if ((rc = count_arg("--keep-days", optarg, &days)) != 0)
				return rc;
			break;
		case 'k':
			if ((rc = count_arg("--keep", optarg, &keep)) != 0)
				return rc;
			break;
		case 'g':
			if (ms_parse_duration(optarg, &go.grace_seconds) < 0)
				return ms_usage_error("store",
						      "--grace '%s' is not a duration such as "
						      "90s, 30m, 24h or 7d",
						      optarg);
			if (go.grace_seconds == 0)
				go.grace_seconds = -1; /* none at all */
			break;
		case 'j':
			p.json = 1;
			break;
		case 'q':
			p.quiet = 1;
			break;
		case ':':
			return ms_usage_error("store", "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return ms_usage_error("store", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ms_usage_error("store", "store gc needs the store (a directory or "
					       "s3://BUCKET/PREFIX)");
	url = argv[optind++];
	if (optind < argc)
		return ms_usage_error("store", "unexpected argument '%s'", argv[optind]);
	if (days && keep)
		return ms_usage_error("store", "give --keep-days or --keep, not both");
	if (p.quiet && p.json)
		return ms_usage_error("store", "-q has nothing to quiet with --json, which prints "
					       "one object and nothing else: give one of them");
	go.dry_run = p.dry_run;
	go.keep = keep;
	go.keep_seconds = (long long)days * 86400;
	go.on_item = on_item;
	go.ctx = &p;
	ms_error_clear(&err);
	if (p.json && !(p.items = cJSON_CreateArray())) {
		ms_error_set(&err, MS_ENOMEM, "out of memory");
		return ms_fail(&err);
	}
	if ((rc = ms_store_open(&st, url, &err)) < 0) {
		cJSON_Delete(p.items);
		return ms_fail(&err);
	}
	rc = ms_store_gc(st, &go, &r, &err);
	if (p.json)
		print_json(ms_store_url(st), &p, &r, rc < 0 ? &err : NULL);
	else if (!p.quiet)
		print_summary(ms_store_url(st), &p, &r);
	ms_store_close(st);
	return rc < 0 ? ms_fail(&err) : MS_EXIT_OK;
}

static int cmd_store(int argc, char **argv)
{
	if (argc < 2)
		return ms_usage_error("store", "which store command? (gc)");
	if (strcmp(argv[1], "gc") == 0)
		return store_gc(argc - 1, argv + 1);
	return ms_usage_error("store", "unknown store command '%s' (gc)", argv[1]);
}

const ms_command ms_cmd_store = {
	.name = "store",
	.run = cmd_store,
	.summary = "clean up a store: what killed exports left, old snapshots",
	.usage = usage,
};
