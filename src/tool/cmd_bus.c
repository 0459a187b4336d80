/*
 * metasync bus read: print what a bus stream holds, one JSON object per
 * message, without a subscription (nothing is acknowledged or moved).  The
 * way operators and tests look at the results, errors and dead-letter
 * streams on either driver.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static int print_msg(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	(void)ctx;
	if (!o || !cJSON_AddStringToObject(o, "stream", msg->stream ? msg->stream : "") ||
	    !cJSON_AddNumberToObject(o, "seq", (double)msg->seq) ||
	    !cJSON_AddStringToObject(o, "data", msg->data ? msg->data : "") ||
	    !(text = cJSON_PrintUnformatted(o))) {
		cJSON_Delete(o);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	puts(text);
	free(text);
	cJSON_Delete(o);
	return 0;
}

/* The text of `metasync help bus`, beside the options it describes. */
static const char usage[] =
	"usage: metasync bus read --bus BUS --stream STREAM [--after SEQ] [--limit N]\n\n"
	"Print the messages of one stream of the bus (snapshots, results, errors or\n"
	"dead), oldest first, one JSON object per line: {\"stream\", \"seq\", \"data\"}\n"
	"with the message as a string.  Reads without a subscription: nothing is\n"
	"acknowledged or moved.\n\n"
	"  --bus BUS                  embedded:PATH or nats://HOST:PORT\n"
	"  --stream STREAM            snapshots, results, errors or dead\n"
	"  --after SEQ                only messages after sequence number SEQ\n"
	"  --limit N                  at most N messages (default all)\n";

static int cmd_bus(int argc, char **argv)
{
	static const struct option opts[] = { { "bus", required_argument, NULL, 'b' },
					      { "stream", required_argument, NULL, 's' },
					      { "after", required_argument, NULL, 'a' },
					      { "limit", required_argument, NULL, 'l' },
					      { NULL, 0, NULL, 0 } };
	static const char *const streams[] = { MS_STREAM_SNAPSHOTS, MS_STREAM_RESULTS,
					       MS_STREAM_ERRORS, MS_STREAM_DEAD, NULL };
	const char *url = NULL, *stream = NULL;
	unsigned long long after = 0, limit = 0;
	ms_bus *bus = NULL;
	ms_error err;
	char *end;
	int c, rc, known = 0;

	if (argc < 2)
		return ms_usage_error("bus", "a subcommand is required");
	if (strcmp(argv[1], "read") != 0)
		return ms_usage_error("bus", "unknown subcommand '%s'", argv[1]);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			url = optarg;
			break;
		case 's':
			stream = optarg;
			break;
		case 'a':
		case 'l': {
			unsigned long long v = strtoull(optarg, &end, 10);

			if (optarg[0] < '0' || optarg[0] > '9' || *end)
				return ms_usage_error("bus", "--%s '%s' is not a number",
						      c == 'a' ? "after" : "limit", optarg);
			if (c == 'a')
				after = v;
			else
				limit = v;
			break;
		}
		case ':':
			return ms_usage_error("bus", "option '%s' needs a value", argv[optind - 1]);
		default:
			return ms_usage_error("bus", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error("bus", "unexpected argument '%s'", argv[optind]);
	if (!url)
		return ms_usage_error("bus", "--bus is required");
	if (!stream)
		return ms_usage_error("bus", "--stream is required");
	for (c = 0; streams[c]; c++)
		known = known || strcmp(streams[c], stream) == 0;
	if (!known)
		return ms_usage_error("bus",
				      "--stream '%s' is not snapshots, results, errors or dead",
				      stream);
	ms_error_clear(&err);
	if ((rc = ms_bus_open(&bus, url, &err)) < 0)
		return ms_fail(&err);
	rc = ms_bus_read(bus, stream, (uint64_t)after, (size_t)limit, print_msg, NULL, &err);
	ms_bus_close(bus);
	if (rc < 0)
		return ms_fail(&err);
	return MS_EXIT_OK;
}

const ms_command ms_cmd_bus = {
	.name = "bus",
	.run = cmd_bus,
	.summary = "read what a bus stream holds",
	.usage = usage,
};
