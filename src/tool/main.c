/*
 * metasync's entry point and command table.  One file per command
 * (cmd_<verb>.c), which defines ms_cmd_<verb> with its usage text beside its
 * options; the text serves both `metasync help X` and `metasync X --help`.
 * See src/tool/README.md for how to add a command.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* serve and demo: their usage text moves beside their options in a later change. */
static const ms_command cmd_serve_entry = {
	"serve", cmd_serve, "serve the AWS Glue Data Catalog API on an embedded catalog",
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
	"  --listen ADDR              IPV4:PORT or [IPV6]:PORT (default "
	"127.0.0.1:4599"
	");\n"
	"                             port 0 picks a free one, printed at start\n"
	"  --tls-cert FILE --tls-key FILE  serve HTTPS with this PEM certificate and key\n"
	"  --metrics-listen ADDR      also serve /healthz and /metrics there\n"
	"  --max-connections N        connections at once (default 64)\n"
	"  --latency D                add D (50ms, 1s) to every request, as a remote Glue has\n"
	"  --throttle N/s             at most N requests per second per account (or N/m);\n"
	"                             more are ThrottlingException \"Rate exceeded\"\n"
	"  --faults SHARE             answer a share (0 to 1) of requests with a failure:\n"
	"                             half InternalServiceException (500), half a dropped\n"
	"                             connection; and that share of BatchGetPartition's\n"
	"                             keys left unprocessed\n"
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
	"      access: read                     # or write\n"
};

static const ms_command cmd_demo_entry = {
	"demo", cmd_demo, "run the whole pipeline on embedded defaults",
	"usage: metasync demo [--dir DIR] [--partitions N] [--glue] [--json]\n\n"
	"Create three account catalogs in DIR (default ./metasync-demo): a source with\n"
	"25 databases, 150 tables, 10 views and N partitions (default 100000), export it\n"
	"to a local store, import the snapshot into two targets (one with\n"
	"--database-prefix src_), verify entity by entity that each target matches,\n"
	"and print a summary.  A second run changes nothing and says so.\n\n"
	"  --glue   put the three accounts behind the AWS Glue API: a `metasync serve`\n"
	"           in this process on 127.0.0.1 (a free port) over DIR/glue/accounts.db,\n"
	"           each account with access keys made for the run (DIR/glue/accounts.yaml\n"
	"           and, as profiles, DIR/glue/aws/credentials, both mode 600); the agents\n"
	"           and the verification reach the accounts through glue:// URLs\n"
};

/* The commands, in the order the overview lists them. */
static const ms_command *const commands[] = {
	&ms_cmd_export,   &ms_cmd_import,  &ms_cmd_sync,  &ms_cmd_plan, &ms_cmd_verify,
	&ms_cmd_publish,  &ms_cmd_agent,   &ms_cmd_store, &ms_cmd_bus,  &ms_cmd_catalog,
	&cmd_serve_entry, &cmd_demo_entry, NULL
};

const ms_command *ms_find_command(const char *name)
{
	for (const ms_command *const *c = commands; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

void ms_print_usage(const ms_command *cmd, FILE *f)
{
	fputs(cmd->usage, f);
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: metasync <command> [options]\n\n"
		   "metasync replicates data-lake catalog metadata between accounts.\n\n"
		   "commands:\n");
	for (const ms_command *const *c = commands; *c; c++)
		fprintf(f, "  %-9s %s\n", (*c)->name, (*c)->summary);
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
		return MS_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(stdout);
		return MS_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("metasync %s\n", METASYNC_VERSION);
		return MS_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			print_overview(stdout);
			return MS_EXIT_OK;
		}
		if (!(cmd = ms_find_command(argv[2])))
			return ms_usage_error(NULL, "unknown command '%s'", argv[2]);
		ms_print_usage(cmd, stdout);
		return MS_EXIT_OK;
	}
	if (!(cmd = ms_find_command(argv[1])))
		return ms_usage_error(NULL, "unknown command '%s'", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			ms_print_usage(cmd, stdout);
			return MS_EXIT_OK;
		}
	}
	return cmd->run(argc - 1, argv + 1);
}
