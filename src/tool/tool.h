/*
 * Shared pieces of the metasync command: the command table entry type,
 * option parsing for the mapping flags every replicating command takes,
 * report printing, and the progress bar.  The tool uses only the public API.
 */
#ifndef MS_TOOL_H
#define MS_TOOL_H

#include <stdio.h>

#include "metasync/metasync.h"

#define EXIT_USAGE 2

typedef struct ms_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;   /* full help text, printed by --help and `metasync help X` */
} ms_command;

extern const ms_command ms_commands[];
/* docs/agent.md, embedded by the build: the agent's help and YAML reference. */
extern const char ms_agent_help[];

const ms_command *ms_find_command(const char *name);
/* Print usage of cmd to f. */
void ms_print_usage(const ms_command *cmd, FILE *f);
/* "metasync: <message> (<detail>)" on stderr; returns the exit code for err. */
int ms_fail(const ms_error *err);
/* A usage error: message on stderr, exit code 2. */
int ms_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ms_exit_code_for(int rc);

/* Options of import, sync and plan. */
typedef struct ms_run_args {
	const char *source;
	const char *target;
	const char *input_path;
	const char *database_input_path, *table_input_path, *partition_input_path;
	int allow_no_manifest;
	int json;
	int quiet;
	int verbose;
	const char *expect_manifest_sha256;
	ms_sync_options sync;
	const char **renames;
	const char **rewrites;
} ms_run_args;

/* Parse import / sync / plan arguments. Returns 0, or the exit code to use. */
int ms_parse_run_args(const char *cmd, int argc, char **argv, ms_run_args *a, int want_input);
void ms_run_args_free(ms_run_args *a);
/* Run a replication and print its report; returns the exit code. */
int ms_run_replication(const char *cmd, ms_run_args *a);

/* Add counts c as object name to o: created, updated, unchanged, deleted, skipped, failed. */
void ms_json_counts(cJSON *o, const char *name, const ms_counts *c);
/* Print the report (human on a terminal or JSON). */
void ms_print_report(const char *cmd, const ms_report *rep, int json, FILE *f);
/* "812 B", "1.5 KiB", "180.0 MiB": a byte count for people (a static buffer per thread). */
const char *ms_format_bytes(unsigned long long bytes);
/* Progress bar callback: draws on stderr when it is a terminal. */
void ms_progress_bar(unsigned long long done, unsigned long long total, void *ctx);
/* Human plan/dry-run line per change (ctx: FILE * and verbosity through ms_run_args). */
void ms_print_change(const ms_change_event *ev, void *ctx);

int cmd_export(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_bus(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_store(int argc, char **argv);

#endif
