/*
 * metasync import: make a live catalog match a snapshot, read from a store
 * (or from the AWS utility's folders).  The run itself, and the mapping
 * options it shares with sync and plan, are in common.c.
 */
#include "tool.h"

/* The text of `metasync help import`, beside the options it describes. */
static const char usage[] =
	"usage: metasync import --input-path SNAPSHOT|STORE --target URL [options]\n"
	"       metasync import --database-input-path DIR --table-input-path DIR\n"
	"                       --partition-input-path DIR --target URL [options]\n\n"
	"Verify the snapshot against its manifest, then create, update (and with\n"
	"--deletes mirror, delete) databases, tables, views and partitions so that\n"
	"the target matches it.  Given a store root, imports its LATEST snapshot.\n\n"
	"  --input-path PATH          a snapshot directory or a store root (also s3://...)\n"
	"  --target URL               the catalog to write\n"
	"  --allow-no-manifest        accept an export made by the AWS utility\n"
	"  --database-input-path DIR, --table-input-path DIR, --partition-input-path DIR\n"
	"                             the utility's own folder flags (imply --allow-no-manifest)\n"
	"  --manifest-sha256 HEX      refuse unless manifest.json has this SHA-256\n"
	"  --mode from-s3, --region R the AWS utility's import flags, taken so that its\n"
	"                             command lines run, and ignored: --input-path and\n"
	"                             --target say where (an s3:// path's region is its\n"
	"                             ?region= parameter); another --mode is "
	"refused\n" MS_RUN_OPTIONS_HELP MS_RUN_EXIT_HELP;

static int cmd_import(int argc, char **argv)
{
	ms_run_args a;
	int rc;

	if ((rc = ms_parse_run_args("import", argc, argv, &a, MS_RUN_FROM_SNAPSHOT)) == 0)
		rc = ms_run_replication("import", &a);
	ms_run_args_free(&a);
	return rc;
}

const ms_command ms_cmd_import = {
	.name = "import",
	.run = cmd_import,
	.summary = "make a catalog match a snapshot",
	.usage = usage,
};
