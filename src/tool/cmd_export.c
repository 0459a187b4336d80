/*
 * metasync export: copy the selected databases of a catalog into a new
 * snapshot on a store.  The snapshot becomes visible (manifest, _SUCCESS,
 * LATEST) only when every entity is in.  With --notify BUS, an
 * io.metasync.snapshot.created event names it on the bus afterwards.
 * First, what killed exports left in the store is removed (and said).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* What the export's cleanup removed (not what it kept), and a cleanup that failed. */
static void print_cleanup(const ms_gc_item *item, void *ctx)
{
	const char *store = ctx;

	if (!item->key)
		fprintf(stderr, "metasync export: warning: cannot clean up '%s': %s\n", store,
			item->error);
	else if (item->remove && item->error)
		fprintf(stderr,
			"metasync export: warning: cannot remove abandoned '%s' from '%s': %s\n",
			item->key, store, item->error);
	else if (item->remove)
		fprintf(stderr, "metasync export: removed abandoned '%s' (%s) from '%s': %s\n",
			item->key, ms_format_bytes(item->bytes), store, item->why);
}

/* The text of `metasync help export`, beside the options it describes. */
static const char usage[] =
	"usage: metasync export --source URL --output-path STORE [options]\n\n"
	"Write the selected databases of a catalog to a new snapshot under STORE\n"
	"(<STORE>/<YYYY-MM-DD-HH-MM-SS>/, then <STORE>/LATEST), in the AWS Glue\n"
	"migration utility's layout, with manifest.json.\n\n"
	"  --source URL               the catalog to export (sqlite:PATH[?catalog-id=ID])\n"
	"  --output-path STORE        a directory (file://DIR or a path) or s3://BUCKET/PREFIX\n"
	"  --database-names 'a;b'     ';'-separated names or globs (default all; a ','\n"
	"                             is refused: '[,]' matches one in a name)\n"
	"  --compress gzip            write part-NNNNN.json.gz\n"
	"  --part-bytes N             split part files at about N bytes (default 64 MiB)\n"
	"  --incremental              write only what changed since STORE's LATEST (its\n"
	"                             deletes as tombstones/), read from the source's change\n"
	"                             feed; a full snapshot when that cannot be done (LATEST\n"
	"                             missing or of another source or selection, a feed that\n"
	"                             no longer holds its cursor), with a warning saying why.\n"
	"                             The AWS utility cannot read incremental snapshots\n"
	"  --full-every N             with --incremental: a full snapshot after N\n"
	"                             incrementals (default 24)\n"
	"  --notify BUS               then announce it on BUS (embedded:PATH, nats://HOST:PORT)\n"
	"  --mode to-s3, --region R   the AWS utility's export flags, taken so that its\n"
	"                             command lines run, and ignored: --source and\n"
	"                             --output-path say where (an s3:// path's region is its\n"
	"                             ?region= parameter); another --mode is refused\n"
	"  --json                     print the report as one JSON object (also when an error\n"
	"                             stops the export: status, message)\n"
	"  -q, --quiet                print nothing but errors\n" MS_EXIT_HELP;

static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = { { "source", required_argument, NULL, 's' },
					      { "output-path", required_argument, NULL, 'o' },
					      { "database-names", required_argument, NULL, 'd' },
					      { "compress", required_argument, NULL, 'c' },
					      { "part-bytes", required_argument, NULL, 'p' },
					      { "json", no_argument, NULL, 'j' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "region", required_argument, NULL, 'r' },
					      { "mode", required_argument, NULL, 'm' },
					      { "notify", required_argument, NULL, 'n' },
					      { "incremental", no_argument, NULL, 'i' },
					      { "full-every", required_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	const char *source = NULL, *output = NULL, *dbs = NULL, *compress = NULL, *notify = NULL;
	unsigned long long part_bytes = 0;
	int json = 0, quiet = 0, c, rc, code;
	ms_export_options eo = { 0 };
	ms_snapshot_info info = { 0 };
	ms_report *rep = NULL;
	ms_error err;

	ms_json_errors_scan(argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			source = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'd':
			if (ms_check_database_names("export", optarg))
				return MS_EXIT_USAGE;
			dbs = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "gzip") != 0 && strcmp(optarg, "none") != 0)
				return ms_usage_error("export",
						      "--compress '%s' is not 'gzip' or 'none'",
						      optarg);
			compress = strcmp(optarg, "gzip") == 0 ? optarg : NULL;
			break;
		case 'p': {
			char *end;
			errno = 0;
			part_bytes = strtoull(optarg, &end, 10);
			if (errno || *end || part_bytes < 1024)
				return ms_usage_error("export",
						      "--part-bytes '%s' is not a size of at least "
						      "1024",
						      optarg);
			break;
		}
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			break;
		case 'n':
			notify = optarg;
			break;
		case 'i':
			eo.incremental = 1;
			break;
		case 'f': {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 100000)
				return ms_usage_error("export",
						      "--full-every '%s' is not a count from 1 to "
						      "100000",
						      optarg);
			eo.full_every = (unsigned)n;
			break;
		}
		case 'm':
			if (strcmp(optarg, "to-s3") != 0)
				return ms_usage_error("export",
						      "--mode '%s' is not supported (use catalog "
						      "URLs)",
						      optarg);
			break;
		case ':':
			return ms_usage_error("export", "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return ms_usage_error("export", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (eo.full_every && !eo.incremental)
		return ms_usage_error("export", "--full-every goes with --incremental");
	if (!source)
		return ms_usage_error("export", "--source is required");
	if (!output)
		return ms_usage_error("export", "--output-path is required");

	ms_error_clear(&err);
	eo.databases = dbs;
	eo.compress = compress;
	eo.part_bytes = (size_t)part_bytes;
	eo.source_label = "--source";
	eo.store_label = "--output-path";
	if (!json && !quiet)
		eo.progress = ms_progress_bar;
	if (!quiet) {
		eo.on_cleanup = print_cleanup;
		eo.cleanup_ctx = (void *)output;
	}
	rc = ms_export(source, output, &eo, &info, &rep, &err);
	if (rc == 0 && rep->status == MS_STATUS_OK && notify &&
	    (rc = ms_event_publish_snapshot(notify, info.source_catalog_id, &info, NULL, &err)) < 0)
		ms_error_prefix(&err, "--notify: ");
	if (json && rep) {
		/* After a failed --notify the snapshot is complete: the report says so. */
		if (rc < 0 && rep->status == MS_STATUS_OK)
			rep->status = MS_STATUS_ERROR;
		ms_print_report("export", rep, NULL, rc < 0 ? err.message : NULL, 1, stdout);
	} else if (!json && !quiet && info.url) {
		for (size_t i = 0; i < rep->nwarnings; i++)
			fprintf(stderr, "metasync export: warning: %s: %s\n",
				rep->warnings[i].entity, rep->warnings[i].message);
		if (info.parent)
			printf("metasync export: incremental, after '%s': %lld databases, %lld "
			       "tables, %lld partitions, %llu deletes to '%s' in %.2f s\n",
			       info.parent, rep->databases.created, rep->tables.created,
			       rep->partitions.created, info.tombstones, info.url, rep->seconds);
		else
			printf("metasync export: %lld databases, %lld tables, %lld partitions to "
			       "'%s' in %.2f s\n",
			       rep->databases.created, rep->tables.created, rep->partitions.created,
			       info.url, rep->seconds);
	}
	code = rc < 0 ? ms_fail(&err) : ms_exit_for_status(rep->status);
	ms_snapshot_info_free(&info);
	ms_report_free(rep);
	return code;
}

const ms_command ms_cmd_export = {
	.name = "export",
	.run = cmd_export,
	.summary = "write a snapshot of a catalog to a store",
	.usage = usage,
};
