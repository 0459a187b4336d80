/*
 * metasync publish: announce a snapshot made by other means (an earlier
 * export, or the AWS utility's export with --allow-no-manifest) with an
 * io.metasync.snapshot.created event on a bus.  The snapshot is opened and
 * checked first: nothing is announced that an importer would refuse.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "util/url.h"

int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "source-name", required_argument, NULL, 'n' },
		{ "allow-no-manifest", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	const char *bus = NULL, *snap = NULL, *name = NULL;
	int quiet = 0, c, rc;
	ms_open_options oo = { 0 };
	ms_snapshot_info info = { 0 };
	ms_catalog *cat = NULL;
	ms_error err;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bus = optarg; break;
		case 's': snap = optarg; break;
		case 'n': name = optarg; break;
		case 'a': oo.allow_no_manifest = 1; break;
		case 'q': quiet = 1; break;
		case ':': return ms_usage_error("publish", "option '%s' needs a value", argv[optind - 1]);
		default: return ms_usage_error("publish", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error("publish", "unexpected argument '%s'", argv[optind]);
	if (!bus)
		return ms_usage_error("publish", "--bus is required");
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
	    (rc = ms_event_publish_snapshot(bus, name ? name : info.source_catalog_id, &info,
					    NULL, &err)) < 0) {
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
	return 0;
}
