/*
 * metasync's entry point and command table.  One file per command
 * (cmd_<verb>.c); usage text lives here once and serves both
 * `metasync help X` and `metasync X --help`.  See src/tool/README.md for how
 * to add a command.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

#define MAPPING_HELP \
	"  --database-names 'a;b'     databases to take: ';'-separated names or globs (default all;\n" \
	"                             a ',' is refused: '[,]' matches one in a name)\n" \
	"  --database-prefix P        prefix target database names with P\n" \
	"  --table-prefix P           prefix target table names with P\n" \
	"  --rename-database OLD=NEW  give database OLD the name NEW (repeatable)\n" \
	"  --location-rewrite FROM=TO rewrite locations under FROM (a location prefix matched\n" \
	"                             at '/' boundaries; the longest FROM wins; repeatable)\n" \
	"  --deletes none|mirror      mirror: delete replicas whose source is gone (default none)\n" \
	"  --max-deletes N            with --deletes mirror: refuse (exit 4, change nothing) if\n" \
	"                             more than N entities would go; every database, table and\n" \
	"                             partition counts one (a database with 2 tables of 2\n" \
	"                             partitions each counts 7)\n" \
	"  --prune-unmapped           with --deletes mirror: also delete replicas of this source\n" \
	"                             that the mapping no longer produces (after a prefix or\n" \
	"                             rename changed)\n" \
	"  --allow-empty-source       with --deletes mirror: let it remove every replica of the\n" \
	"                             source (refused otherwise, exit 4: an empty or mistaken source)\n" \
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

#define EXIT_HELP \
	"\nExit status: 0 done, 1 error, 2 usage, 3 partial (some entities failed),\n" \
	"4 refused by a safety guard (integrity, --max-deletes, an empty source).\n"

/* import, sync and plan: EXIT_HELP and --strict. */
#define RUN_EXIT_HELP \
	"\nExit status: 0 done, 1 error, 2 usage, 3 partial (some entities failed),\n" \
	"4 refused by a safety guard (integrity, --max-deletes, an empty source),\n" \
	"5 with --strict: done, but entities were skipped.  A run that skips entities\n" \
	"says so ('the target does not match the source', with the reasons).\n"

const ms_command ms_commands[] = {
	{ "export", cmd_export, "write a snapshot of a catalog to a store",
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
	  "  --notify BUS               then announce it on BUS (embedded:PATH, nats://HOST:PORT)\n"
	  "  --mode to-s3, --region R   the AWS utility's export flags, taken so that its\n"
	  "                             command lines run; the URLs say where\n"
	  "  --json                     print the report as one JSON object (also when an error\n"
	  "                             stops the export: status, message)\n"
	  "  -q, --quiet                print nothing but errors\n" EXIT_HELP },
	{ "import", cmd_import, "make a catalog match a snapshot",
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
	  "                             command lines run; the URLs say where\n"
	  MAPPING_HELP RUN_EXIT_HELP },
	{ "sync", cmd_sync, "make a catalog match another, with no snapshot between",
	  "usage: metasync sync --source URL --target URL [options]\n\n"
	  "Replicate directly from one catalog to another.\n\n" MAPPING_HELP RUN_EXIT_HELP },
	{ "plan", cmd_plan, "print what import or sync would change",
	  "usage: metasync plan (--source URL | --input-path PATH) --target URL [options]\n\n"
	  "Print the changes an import (with --input-path) or a sync (with --source)\n"
	  "would make, and change nothing.  --input-path takes import's flags\n"
	  "(--allow-no-manifest, --manifest-sha256, the utility's folder flags).\n\n"
	  MAPPING_HELP RUN_EXIT_HELP },
	{ "verify", cmd_verify, "check that a target holds what its source holds", ms_verify_help },
	{ "publish", cmd_publish, "announce a snapshot on a bus",
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
	  "  -q, --quiet                print nothing but errors\n" EXIT_HELP },
	{ "agent", cmd_agent, "run exports and imports from a config file, on a bus",
	  ms_agent_help },
	{ "store", cmd_store, "clean up a store: what killed exports left, old snapshots",
	  "usage: metasync store gc STORE [--dry-run] [--keep-days N | --keep N] [--grace D] [--json]\n\n"
	  "Remove from STORE (a directory, or s3://BUCKET/PREFIX with the usual\n"
	  "parameters) what exports that were killed left behind and, with --keep-days\n"
	  "or --keep, complete snapshots outside that retention.  Only what is provably\n"
	  "abandoned goes:\n"
	  "  - temporary files of a directory store that no writer holds (every writer\n"
	  "    holds a lock on its temporary file while it writes);\n"
	  "  - snapshot folders without _SUCCESS whose writer is gone: in a directory\n"
	  "    store every export holds a lock on its folder, so one nobody holds is\n"
	  "    abandoned at once; one with no such record (s3, older metasync) once\n"
	  "    nothing in it was written for the grace;\n"
	  "  - unfinished multipart uploads (s3) started longer ago than the grace.\n"
	  "A folder a running export holds is listed as in progress and kept.  The\n"
	  "snapshot LATEST names, any newer one and every snapshot a kept one builds on\n"
	  "(its manifest's parent) are never removed, nor are folders not named like a\n"
	  "snapshot or exports of the AWS utility.  Every export does the same cleanup,\n"
	  "without a retention, before it writes.\n\n"
	  "  --dry-run                  list what would be removed, remove nothing\n"
	  "  --keep-days N              also remove complete snapshots older than N days\n"
	  "  --keep N                   also remove complete snapshots but the newest N\n"
	  "  --grace D                  how long without a write makes a folder or an upload\n"
	  "                             with no writer record abandoned (default 24h; 90s,\n"
	  "                             30m, 12h, 7d; 0s: at once)\n"
	  "  --json                     print one JSON object: status (ok, error, refused),\n"
	  "                             message and detail (on error), store, dry_run, latest,\n"
	  "                             removed {count, bytes}, failed, kept_snapshots,\n"
	  "                             items [{kind, key, action, reason, error, bytes,\n"
	  "                             objects}], note; an error before the store is read\n"
	  "                             prints {status, message, exit_status}\n"
	  "  -q, --quiet                print nothing but errors (not with --json)\n\n"
	  "Exit status: 0 done, 1 error (listing the store or a removal failed), 2 usage,\n"
	  "4 refused (a symbolic link inside a directory store: nothing is removed).\n" },
	{ "bus", cmd_bus, "read what a bus stream holds",
	  "usage: metasync bus read --bus BUS --stream STREAM [--after SEQ] [--limit N]\n\n"
	  "Print the messages of one stream of the bus (snapshots, results, errors or\n"
	  "dead), oldest first, one JSON object per line: {\"stream\", \"seq\", \"data\"}\n"
	  "with the message as a string.  Reads without a subscription: nothing is\n"
	  "acknowledged or moved.\n\n"
	  "  --bus BUS                  embedded:PATH or nats://HOST:PORT\n"
	  "  --stream STREAM            snapshots, results, errors or dead\n"
	  "  --after SEQ                only messages after sequence number SEQ\n"
	  "  --limit N                  at most N messages (default all)\n" },
	{ "catalog", cmd_catalog, "look into and edit a catalog",
	  "usage: metasync catalog ls URL [DB [TABLE]] [--json]\n"
	  "       metasync catalog show URL DB [TABLE [VALUE...]] [--json]\n"
	  "       metasync catalog put URL [--replace] [--database DB [--table TABLE]] < ENTITY.json\n"
	  "       metasync catalog rm URL DB [TABLE [VALUE...]]\n\n"
	  "ls lists database names, a database's table names, or a table's partition\n"
	  "values (--json: an array of strings, or of arrays of strings).\n"
	  "show prints one entity; --json prints exactly the object Glue's GetDatabase,\n"
	  "GetTable or GetPartition returns: members Glue's shapes lack (such as those a\n"
	  "Hive Metastore source adds) stay in the catalog and its snapshots, not here.\n"
	  "put reads one entity on standard input and creates it; one that exists is\n"
	  "refused (exit 1) unless --replace, which replaces it whole (fields not given\n"
	  "are gone) and says whether it created or replaced.  Shapes taken:\n"
	  "  {\"Database\": ...}, {\"Table\": ...}, {\"Partition\": ...}   what show --json prints\n"
	  "                             (a table carries DatabaseName; a partition\n"
	  "                             DatabaseName and TableName), or the bare object;\n"
	  "  {\"DatabaseInput\": ...}, {\"TableInput\": ...}, {\"PartitionInput\": ...}\n"
	  "                             the AWS CLI's (aws glue create-database, create-table,\n"
	  "                             create-partition --cli-input-json), with DatabaseName\n"
	  "                             and TableName beside them or as --database and --table;\n"
	  "                             they hold only the members of Glue's input shape.\n"
	  "Every value must meet Glue's limits (lengths, one-line names, SortOrder 0 or 1, ...).\n"
	  "Database and table names are folded to lowercase ('Sales' is 'sales');\n"
	  "partition values are kept as given.  A table replaced with other partition\n"
	  "keys (count or names) while it has partitions, and a partition whose values\n"
	  "do not match its table's keys, are refused.\n"
	  "rm deletes a database (with its tables), a table (with its partitions) or a\n"
	  "partition; one that does not exist is an error (exit 1).\n\n"
	  "  --json                     ls and show: JSON (an error: {status, message})\n"
	  "  --replace                  put: replace an entity that exists\n"
	  "  --database DB, --table T   put: the names an AWS CLI input shape leaves out\n" },
	{ "serve", cmd_serve, "serve the AWS Glue Data Catalog API on an embedded catalog",
	  "usage: metasync serve --catalog sqlite:PATH --accounts FILE [--listen ADDR] [options]\n\n"
	  "Answer the AWS Glue Data Catalog API (JSON 1.1, SigV4-signed, as the AWS CLI,\n"
	  "boto3 and Glue clients with a custom endpoint speak it) from the embedded\n"
	  "catalog file PATH, in which each account of FILE is a catalog\n"
	  "(sqlite:PATH?catalog-id=ACCOUNT for every other command).  FILE lists the\n"
	  "accounts, their access keys and the grants that let one account read or write\n"
	  "databases of another's catalog; it must be readable by its owner only.  Until\n"
	  "SIGTERM or SIGINT, which stop new connections and finish the requests in flight.\n"
	  "GET /healthz and GET /metrics answer on the same port without signing.\n\n"
	  "  --catalog sqlite:PATH      the embedded catalog file (created when missing)\n"
	  "  --accounts FILE            the accounts (below)\n"
	  "  --listen ADDR              IPV4:PORT or [IPV6]:PORT (default " "127.0.0.1:4599" ");\n"
	  "                             port 0 picks a free one, printed at start\n"
	  "  --tls-cert FILE --tls-key FILE  serve HTTPS with this PEM certificate and key\n"
	  "  --metrics-listen ADDR      also serve /healthz and /metrics there\n"
	  "  --max-connections N        connections at once (default 64)\n"
	  "  --latency D                add D (50ms, 1s) to every request, as a remote Glue has\n"
	  "  --throttle N/s             at most N requests per second per account (or N/m);\n"
	  "                             more are ThrottlingException \"Rate exceeded\"\n"
	  "  --faults SHARE             answer a share (0 to 1) of requests with a failure:\n"
	  "                             half InternalServiceException (500), half a dropped\n"
	  "                             connection\n"
	  "  -v, --verbose              log every request (default: failures only)\n"
	  "  -q, --quiet                no start and stop lines\n\n"
	  "Accounts (YAML):\n"
	  "  accounts:\n"
	  "    - id: \"111111111111\"               # 12 digits\n"
	  "      keys:\n"
	  "        - id: AKIAEXAMPLESOURCE01      # 16 to 128 of A-Z, 0-9\n"
	  "          secret: \"...\"\n"
	  "          session_token: \"...\"       # optional: requests must then carry it\n"
	  "  grants:\n"
	  "    - to: \"222222222222\"               # this account\n"
	  "      catalog: \"111111111111\"          # may use this account's catalog\n"
	  "      databases: [\"sales\", \"finance_*\"]\n"
	  "      access: read                     # or write\n" },
	{ "demo", cmd_demo, "run the whole pipeline on embedded defaults",
	  "usage: metasync demo [--dir DIR] [--partitions N] [--json]\n\n"
	  "Create three account catalogs in DIR (default ./metasync-demo): a source with\n"
	  "25 databases, 150 tables, 10 views and N partitions (default 100000), export it\n"
	  "to a local store, import the snapshot into two targets (one with\n"
	  "--database-prefix src_), verify entity by entity that each target matches,\n"
	  "and print a summary.  A second run changes nothing and says so.\n" },
	{ NULL, NULL, NULL, NULL }
};

const ms_command *ms_find_command(const char *name)
{
	const ms_command *c;

	for (c = ms_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void ms_print_usage(const ms_command *cmd, FILE *f)
{
	fputs(cmd->usage, f);
}

static void print_overview(FILE *f)
{
	const ms_command *c;

	fprintf(f, "usage: metasync <command> [options]\n\n"
		   "metasync replicates data-lake catalog metadata between accounts.\n\n"
		   "commands:\n");
	for (c = ms_commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->summary);
	fprintf(f, "\n'metasync help <command>' or 'metasync <command> --help' for details.\n");
}

int main(int argc, char **argv)
{
	const ms_command *cmd;

	/*
	 * Entities are parsed into many small JSON nodes and freed together;
	 * with glibc's fast bins every larger allocation after that pays for
	 * consolidating them (measured: about 15% of an import's CPU time).
	 */
	mallopt(M_MXFAST, 0);
	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("metasync %s\n", METASYNC_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			print_overview(stdout);
			return 0;
		}
		if (!(cmd = ms_find_command(argv[2])))
			return ms_usage_error(NULL, "unknown command '%s'", argv[2]);
		ms_print_usage(cmd, stdout);
		return 0;
	}
	if (!(cmd = ms_find_command(argv[1])))
		return ms_usage_error(NULL, "unknown command '%s'", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			ms_print_usage(cmd, stdout);
			return 0;
		}
	}
	return cmd->run(argc - 1, argv + 1);
}
