/*
 * metasync import, sync and plan: the three ways to run the engine into a
 * live catalog.  They differ only in where the source comes from and in
 * whether anything may change.
 */
#include "tool.h"

int cmd_import(int argc, char **argv)
{
	ms_run_args a;
	int rc;

	if ((rc = ms_parse_run_args("import", argc, argv, &a, 1)) == 0)
		rc = ms_run_replication("import", &a);
	ms_run_args_free(&a);
	return rc;
}

int cmd_sync(int argc, char **argv)
{
	ms_run_args a;
	int rc;

	if ((rc = ms_parse_run_args("sync", argc, argv, &a, 0)) == 0)
		rc = ms_run_replication("sync", &a);
	ms_run_args_free(&a);
	return rc;
}

int cmd_plan(int argc, char **argv)
{
	ms_run_args a;
	int rc;

	if ((rc = ms_parse_run_args("plan", argc, argv, &a, 2)) == 0) {
		a.sync.dry_run = 1;
		rc = ms_run_replication("plan", &a);
	}
	ms_run_args_free(&a);
	return rc;
}
