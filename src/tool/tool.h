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
/* --strict: the run completed but skipped entities, so the target does not match. */
#define EXIT_SKIPPED 5

typedef struct ms_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;   /* full help text, printed by --help and `metasync help X` */
} ms_command;

extern const ms_command ms_commands[];
/* docs/agent.md, embedded by the build: the agent's help and YAML reference. */
extern const char ms_agent_help[];
/* metasync verify's usage text, beside its options in cmd_verify.c. */
extern const char ms_verify_help[];

const ms_command *ms_find_command(const char *name);
/* Print usage of cmd to f. */
void ms_print_usage(const ms_command *cmd, FILE *f);
/* "metasync: <message> (<detail>)" on stderr; returns the exit code for err. */
int ms_fail(const ms_error *err);
/* A usage error: message on stderr, exit code 2. */
int ms_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ms_exit_code_for(int rc);
/*
 * --json: a command that stops on an error still prints one JSON object on
 * stdout.  ms_json_errors_scan (called first by a command that takes --json)
 * notes whether argv holds --json; from then on ms_fail and ms_usage_error
 * also print {"status":"error"|"refused","message","detail"?,"exit_status"}
 * on stdout, unless the command has printed its own object and said so with
 * ms_json_printed.  stderr keeps the one-line message either way.
 */
void ms_json_errors_scan(int argc, char **argv);
void ms_json_printed(void);
/*
 * --database-names: 0, or a usage error's exit code for a value that selects
 * nothing or holds a ',' (names are ';'-separated; '[,]' matches a comma).
 */
int ms_check_database_names(const char *cmd, const char *value);

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
	int strict;          /* skipped entities make the run exit EXIT_SKIPPED */
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

/* Why entities were skipped (ms_change_event reasons), with how many each. */
struct ms_skip_reason {
	char *reason;    /* owned */
	long long count;
};
typedef struct ms_skips {
	struct ms_skip_reason *v;
	size_t n;
} ms_skips;

/* Count one skip for reason (NULL: "skipped"). */
void ms_skips_add(ms_skips *k, const char *reason);
void ms_skips_free(ms_skips *k);
/* Databases, tables and partitions the report counts as skipped. */
long long ms_report_skipped(const ms_report *rep);
/*
 * Print the report, for people or (json) as one JSON object, which then
 * counts as the command's JSON output (ms_json_printed).  skips (may be
 * NULL) says why entities were skipped; message (may be NULL) is the error
 * that stopped the run.
 */
void ms_print_report(const char *cmd, const ms_report *rep, const ms_skips *skips,
		     const char *message, int json, FILE *f);
/* "812 B", "1.5 KiB", "180.0 MiB": a byte count for people (a static buffer per thread). */
const char *ms_format_bytes(unsigned long long bytes);
/* Progress bar callback: draws on stderr when it is a terminal. */
void ms_progress_bar(unsigned long long done, unsigned long long total, void *ctx);

int cmd_export(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_bus(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
