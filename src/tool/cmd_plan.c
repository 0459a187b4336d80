/*
 * metasync plan: what an import or a sync would change, with nothing
 * changed (a dry run of either).  The run itself, and the mapping options it
 * shares with import and sync, are in common.c.
 */
#include "tool.h"

/* The text of `metasync help plan`, beside the options it describes. */
static const char usage[] = "usage: metasync plan (--source URL | --input-path PATH) --target URL "
			    "[options]\n\n"
			    "Print the changes an import (with --input-path) or a sync (with "
			    "--source)\n"
			    "would make, and change nothing.  --input-path takes import's flags\n"
			    "(--allow-no-manifest, --manifest-sha256, the utility's folder "
			    "flags).\n\n" MS_RUN_OPTIONS_HELP MS_RUN_EXIT_HELP;

static int cmd_plan(int argc, char **argv)
{
	ms_run_args a;
	int rc;

	if ((rc = ms_parse_run_args("plan", argc, argv, &a, MS_RUN_FROM_EITHER)) == 0) {
		a.sync.dry_run = 1;
		rc = ms_run_replication("plan", &a);
	}
	ms_run_args_free(&a);
	return rc;
}

const ms_command ms_cmd_plan = {
	.name = "plan",
	.run = cmd_plan,
	.summary = "print what import or sync would change",
	.usage = usage,
};
