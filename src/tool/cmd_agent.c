/*
 * metasync agent: load the configuration, run its roles until SIGTERM or
 * SIGINT (or, with --once, until the work waiting is done, exiting with the
 * worst outcome of that work so that cron jobs and CI see failures).
 */
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "tool.h"

static ms_agent *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		ms_agent_stop(running);
}

static int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "once", no_argument, NULL, 'o' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	const char *path = NULL;
	ms_agent_options ao = { 0 };
	ms_agent_config *cfg = NULL;
	ms_agent *a = NULL;
	struct sigaction sa;
	ms_error err;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			ao.once = 1;
			break;
		case 'q':
			ao.quiet = 1;
			break;
		case ':':
			return ms_usage_error("agent", "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return ms_usage_error("agent", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error("agent", "unexpected argument '%s'", argv[optind]);
	if (!path)
		return ms_usage_error("agent", "--config is required");
	ms_error_clear(&err);
	if ((rc = ms_agent_config_load(path, &cfg, &err)) < 0)
		return ms_fail(&err);
	if ((rc = ms_agent_new(&a, cfg, &ao, &err)) < 0) {
		ms_agent_config_free(cfg);
		return ms_fail(&err);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	running = a;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = ms_agent_start(a, &err)) < 0) {
		ms_agent_free(a);
		running = NULL;
		ms_agent_config_free(cfg);
		return ms_fail(&err);
	}
	if (ms_agent_http_port(a) && !ao.quiet)
		fprintf(stderr, "metasync agent: serving /healthz and /metrics on port %d\n",
			ms_agent_http_port(a));
	ms_agent_wait(a);
	/* a service's run ends with SIGTERM; a --once run's with its work, which it reports */
	if (ao.once)
		rc = ms_exit_for_status(ms_agent_outcome(a));
	else
		rc = ms_agent_status(a) < 0 ? MS_EXIT_ERROR : MS_EXIT_OK;
	running = NULL;
	ms_agent_free(a);
	ms_agent_config_free(cfg);
	return rc;
}

/* docs/agent.md, embedded by the build: the agent's help and YAML reference. */
extern const char ms_agent_help[];

const ms_command ms_cmd_agent = {
	.name = "agent",
	.run = cmd_agent,
	.summary = "run exports and imports from a config file, on a bus",
	.usage = ms_agent_help,
};
