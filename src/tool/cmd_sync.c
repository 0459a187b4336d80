/*
 * metasync sync: make a live catalog match another, with no snapshot
 * between.  The run itself, and the mapping options it shares with import
 * and plan, are in common.c.
 */
#include "tool.h"

/* The text of `metasync help sync`, beside the options it describes. */
static const char usage[] = "usage: metasync sync --source URL --target URL [options]\n\n"
			    "Replicate directly from one catalog to "
			    "another.\n\n" MS_RUN_OPTIONS_HELP MS_RUN_EXIT_HELP;

static int cmd_sync(int argc, char **argv)
{
	ms_run_args a;
	int rc;

	if ((rc = ms_parse_run_args("sync", argc, argv, &a, MS_RUN_FROM_CATALOG)) == 0)
		rc = ms_run_replication("sync", &a);
	ms_run_args_free(&a);
	return rc;
}

const ms_command ms_cmd_sync = {
	.name = "sync",
	.run = cmd_sync,
	.summary = "make a catalog match another, with no snapshot between",
	.usage = usage,
};
