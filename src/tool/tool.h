/*
 * Shared pieces of the metasync command: exit statuses, the command table
 * entry type, option parsing for the mapping flags every replicating command
 * takes, report printing, and the progress bar.  The tool uses only the
 * public API.
 */
#ifndef MS_TOOL_H
#define MS_TOOL_H

#include <stdio.h>

#include "metasync/metasync.h"

/*
 * The command's exit statuses, as every command's usage text (MS_EXIT_HELP,
 * MS_RUN_EXIT_HELP) and README.md document them.  The library returns
 * error codes and report statuses; ms_exit_for_error and ms_exit_for_status
 * turn them into these.
 */
enum {
	MS_EXIT_OK = 0,
	MS_EXIT_ERROR = 1,
	MS_EXIT_USAGE = 2,
	MS_EXIT_PARTIAL = 3, /* some entities failed; a re-run converges */
	MS_EXIT_REFUSED = 4, /* a safety guard: integrity, --max-deletes, an empty source */
	MS_EXIT_SKIPPED = 5  /* --strict: the run completed but skipped entities */
};

#define MS_EXIT_HELP \
	"\nExit status: 0 done, 1 error, 2 usage, 3 partial (some entities failed),\n" \
	"4 refused by a safety guard (integrity, --max-deletes, an empty source).\n"

/* import, sync and plan: MS_EXIT_HELP and --strict. */
#define MS_RUN_EXIT_HELP \
	"\nExit status: 0 done, 1 error, 2 usage, 3 partial (some entities failed),\n" \
	"4 refused by a safety guard (integrity, --max-deletes, an empty source),\n" \
	"5 with --strict: done, but entities were skipped.  A run that skips entities\n" \
	"says so ('the target does not match the source', with the reasons).\n"

/*
 * A command: cmd_<verb>.c defines ms_cmd_<verb>, its usage text beside its
 * options, and main.c lists it.
 */
typedef struct ms_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage; /* full help text, printed by --help and `metasync help X` */
} ms_command;

extern const ms_command ms_cmd_export, ms_cmd_import, ms_cmd_sync, ms_cmd_plan, ms_cmd_verify,
	ms_cmd_publish, ms_cmd_agent, ms_cmd_store, ms_cmd_bus, ms_cmd_catalog;

/* NULL for a name that is no command. */
const ms_command *ms_find_command(const char *name);
/* Print usage of cmd to f. */
void ms_print_usage(const ms_command *cmd, FILE *f);
/* "metasync: <message> (<detail>)" on stderr; returns the exit status for err. */
int ms_fail(const ms_error *err);
/* A usage error: message on stderr, returns MS_EXIT_USAGE. */
int ms_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The exit status for a library return code: 0, or a negative MS_E* code. */
int ms_exit_for_error(int rc);
/* The exit status for a completed run's report status. */
int ms_exit_for_status(ms_status s);
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

/*
 * Options of import, sync and plan (ms_parse_run_args reads them): the
 * mapping and run options below are the same for the three, documented once
 * here; each command's file documents the options that say where it reads.
 */
#define MS_RUN_OPTIONS_HELP \
	"  --database-names 'a;b'     databases to take: ';'-separated names or globs (default " \
	"all;\n" \
	"                             a ',' is refused: '[,]' matches one in a name)\n" \
	"  --database-prefix P        prefix target database names with P\n" \
	"  --table-prefix P           prefix target table names with P\n" \
	"  --rename-database OLD=NEW  give database OLD the name NEW (repeatable)\n" \
	"  --location-rewrite FROM=TO rewrite locations under FROM (a location prefix matched\n" \
	"                             at '/' boundaries; the longest FROM wins; repeatable)\n" \
	"  --deletes none|mirror      mirror: delete replicas whose source is gone (default " \
	"none)\n" \
	"  --max-deletes N            with --deletes mirror: refuse (exit 4, change nothing) if\n" \
	"                             more than N entities would go; every database, table and\n" \
	"                             partition counts one (a database with 2 tables of 2\n" \
	"                             partitions each counts 7)\n" \
	"  --prune-unmapped           with --deletes mirror: also delete replicas of this " \
	"source\n" \
	"                             that the mapping no longer produces (after a prefix or\n" \
	"                             rename changed)\n" \
	"  --allow-empty-source       with --deletes mirror: let it remove every replica of the\n" \
	"                             source (refused otherwise, exit 4: an empty or mistaken " \
	"source)\n" \
	"  --adopt                    take over target entities that are not replicas\n" \
	"  --full                     diff every partition even where sync stamps match\n" \
	"  --strict                   exit 5 if entities were skipped (not replicas, another\n" \
	"                             source's): the target then does not match the source\n" \
	"  --dry-run                  print what would change, change nothing\n" \
	"  --json                     print the report as one JSON object (also when an error\n" \
	"                             stops the run: status, message); skips by reason as\n" \
	"                             \"skipped\"\n" \
	"  -v, --verbose              print every change, partitions included (not with\n" \
	"                             --json or -q)\n" \
	"  -q, --quiet                print nothing but errors (not with --json)\n"

typedef struct ms_run_args {
	const char *source;
	const char *target;
	const char *input_path;
	const char *database_input_path, *table_input_path, *partition_input_path;
	int allow_no_manifest;
	int json;
	int quiet;
	int verbose;
	int strict; /* skipped entities make the run exit MS_EXIT_SKIPPED */
	const char *expect_manifest_sha256;
	/* sync --watch */
	int watch;
	const char *state_path;
	long long interval_ms, reconcile_ms;
	ms_sync_options sync;
	const char **renames;
	const char **rewrites;
} ms_run_args;

/* Where a run reads: what --source and --input-path mean to the command. */
typedef enum ms_run_from {
	MS_RUN_FROM_CATALOG,  /* sync: --source */
	MS_RUN_FROM_SNAPSHOT, /* import: --input-path or the utility's folder flags */
	MS_RUN_FROM_EITHER    /* plan: one of them */
} ms_run_from;

/* Parse import / sync / plan arguments. Returns 0, or the exit status to use. */
int ms_parse_run_args(const char *cmd, int argc, char **argv, ms_run_args *a, ms_run_from from);
void ms_run_args_free(ms_run_args *a);
/* Run a replication (ms_import_ext) and print its report; returns the exit status. */
int ms_run_replication(const char *cmd, ms_run_args *a);

/* Add counts c as object name to o: created, updated, unchanged, deleted, skipped, failed. */
void ms_json_counts(cJSON *o, const char *name, const ms_counts *c);

/* Why entities were skipped (ms_change_event reasons), with how many each. */
struct ms_skip_reason {
	char *reason; /* owned */
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

/* demo and serve: their usage text is still in main.c's table. */
int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
