/*
 * metasync publish: announce a snapshot made by other means (an earlier
 * export, or the AWS utility's export with --allow-no-manifest) with an
 * io.metasync.snapshot.created event on a bus.  The snapshot is opened and
 * checked first: nothing is announced that an importer would refuse.
 * With --raw FILE the file's bytes go on the snapshots stream unchecked (to
 * test how agents handle events that are not what they should be).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "util/buf.h"
#include "util/url.h"

/* Publish the bytes of path ("-": standard input) as one message. */
static int publish_raw(const char *bus_url, const char *path, int quiet)
{
	ms_buf b = MS_BUF_INIT(MS_EVENT_MAX);
	char chunk[65536];
	ms_bus *bus = NULL;
	ms_error err;
	FILE *f;
	size_t n;
	int rc = 0;

	ms_error_clear(&err);
	if (!(f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb"))) {
		ms_error_set(&err, MS_ENOTFOUND, "cannot open --raw '%s'", path);
		return ms_fail(&err);
	}
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ms_buf_add(&b, chunk, n) < 0)
			rc = ms_error_set(&err, MS_ETOOBIG, "--raw '%s' is larger than %zu bytes",
					  path, (size_t)MS_EVENT_MAX);
	if (rc == 0 && ferror(f))
		rc = ms_error_set(&err, MS_ERROR, "cannot read --raw '%s'", path);
	if (f != stdin)
		fclose(f);
	if (rc == 0 && (rc = ms_bus_open(&bus, bus_url, &err)) == 0) {
		rc = ms_bus_publish(bus, MS_STREAM_SNAPSHOTS, b.ptr ? b.ptr : "", b.len, &err);
		ms_bus_close(bus);
	}
	if (rc == 0 && !quiet) {
		char *shown = ms_url_redact(bus_url);

		printf("metasync publish: published %zu bytes from '%s' on '%s'\n", b.len, path,
		       shown ? shown : "the bus");
		free(shown);
	}
	ms_buf_free(&b);
	return rc < 0 ? ms_fail(&err) : MS_EXIT_OK;
}

/* The text of `metasync help publish`, beside the options it describes. */
static const char usage[] =
	"usage: metasync publish --bus BUS --snapshot URL [options]\n"
	"       metasync publish --bus BUS --raw FILE\n\n"
	"Open and check the snapshot (a store root with LATEST, or one snapshot's\n"
	"folder), then publish an io.metasync.snapshot.created event naming it and\n"
	"its manifest's SHA-256, for the agents that import it.\n\n"
	"  --bus BUS                  embedded:PATH or nats://HOST:PORT\n"
	"  --snapshot URL             the snapshot to announce\n"
	"  --source-name NAME         the event's source (default: the source catalog id)\n"
	"  --allow-no-manifest        announce an export made by the AWS utility\n"
	"  --raw FILE                 publish FILE's bytes (at most 1 MiB), unchecked, on\n"
	"                             the snapshots stream ('-': standard input); for\n"
	"                             testing how agents handle bad events\n"
	"  -q, --quiet                print nothing but errors\n" MS_EXIT_HELP;

static int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = { { "bus", required_argument, NULL, 'b' },
					      { "snapshot", required_argument, NULL, 's' },
					      { "source-name", required_argument, NULL, 'n' },
					      { "allow-no-manifest", no_argument, NULL, 'a' },
					      { "raw", required_argument, NULL, 'r' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	const char *bus = NULL, *snap = NULL, *name = NULL, *raw = NULL;
	int quiet = 0, c, rc;
	ms_open_options oo = { 0 };
	ms_snapshot_info info = { 0 };
	ms_catalog *cat = NULL;
	ms_error err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bus = optarg;
			break;
		case 's':
			snap = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'a':
			oo.allow_no_manifest = 1;
			break;
		case 'r':
			raw = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case ':':
			return ms_usage_error("publish", "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return ms_usage_error("publish", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error("publish", "unexpected argument '%s'", argv[optind]);
	if (!bus)
		return ms_usage_error("publish", "--bus is required");
	if (raw && (snap || name || oo.allow_no_manifest))
		return ms_usage_error("publish", "--raw goes without --snapshot, --source-name "
						 "and --allow-no-manifest");
	if (raw)
		return publish_raw(bus, raw, quiet);
	if (!snap)
		return ms_usage_error("publish", "--snapshot is required");

	ms_error_clear(&err);
	if ((rc = ms_catalog_open(&cat, snap, &oo, &err)) < 0) {
		ms_error_prefix(&err, "--snapshot: ");
		return ms_fail(&err);
	}
	rc = ms_catalog_snapshot_info(cat, &info, &err);
	ms_catalog_close(cat);
	if (rc < 0)
		return ms_fail(&err);
	if ((rc = ms_event_check_snapshot_url(info.url, &err)) < 0 ||
	    (rc = ms_event_publish_snapshot(bus, name ? name : info.source_catalog_id, &info, NULL,
					    &err)) < 0) {
		ms_snapshot_info_free(&info);
		return ms_fail(&err);
	}
	if (!quiet) {
		char *shown = ms_url_redact(bus);

		printf("metasync publish: announced '%s' (%llu partitions) on '%s'\n", info.url,
		       info.partitions, shown ? shown : "the bus");
		free(shown);
	}
	ms_snapshot_info_free(&info);
	return MS_EXIT_OK;
}

const ms_command ms_cmd_publish = {
	.name = "publish",
	.run = cmd_publish,
	.summary = "announce a snapshot on a bus",
	.usage = usage,
};
