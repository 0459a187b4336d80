/*
 * metasync serve: the Glue-compatible catalog server (src/server/glue.h)
 * on an embedded catalog file, until SIGTERM or SIGINT, which stop new
 * connections, let the requests in flight finish (at most
 * SERVE_DRAIN_SECONDS) and stop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/glue.h"
#include "server/http.h"
#include "tool.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:4599"
#define SERVE_DRAIN_SECONDS 30
#define SERVE_PEM_MAX (1 << 20)

typedef struct serve_args {
	const char *catalog, *listen, *accounts, *metrics_listen;
	const char *tls_cert, *tls_key;
	long latency_ms;
	double throttle, faults;
	unsigned max_connections;
	int verbose, quiet;
} serve_args;

/* "50ms", "2s", "0": milliseconds into *ms; -1 when malformed. */
static int parse_latency(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 60000)
		return -1;
	if (strcmp(end, "ms") == 0)
		*ms = (long)v;
	else if (strcmp(end, "s") == 0 && v <= 60)
		*ms = (long)(v * 1000);
	else if (*end == '\0' && v == 0)
		*ms = 0;
	else
		return -1;
	return 0;
}

/* "50/s", "600/m": requests per second into *rate; -1 when malformed. */
static int parse_rate(const char *s, double *rate)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v > 0) || v > 1e9)
		return -1;
	if (strcmp(end, "/s") == 0)
		*rate = v;
	else if (strcmp(end, "/m") == 0)
		*rate = v / 60;
	else
		return -1;
	return 0;
}

static int parse_share(const char *s, double *share)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 1))
		return -1;
	*share = v;
	return 0;
}

static int parse_args(int argc, char **argv, serve_args *a)
{
	static const struct option opts[] = { { "catalog", required_argument, NULL, 'c' },
					      { "listen", required_argument, NULL, 'l' },
					      { "accounts", required_argument, NULL, 'a' },
					      { "metrics-listen", required_argument, NULL, 'M' },
					      { "tls-cert", required_argument, NULL, 'C' },
					      { "tls-key", required_argument, NULL, 'K' },
					      { "latency", required_argument, NULL, 'L' },
					      { "throttle", required_argument, NULL, 'T' },
					      { "faults", required_argument, NULL, 'F' },
					      { "max-connections", required_argument, NULL, 'N' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	int c;

	memset(a, 0, sizeof(*a));
	a->listen = SERVE_DEFAULT_LISTEN;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vq", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->catalog = optarg;
			break;
		case 'l':
			a->listen = optarg;
			break;
		case 'a':
			a->accounts = optarg;
			break;
		case 'M':
			a->metrics_listen = optarg;
			break;
		case 'C':
			a->tls_cert = optarg;
			break;
		case 'K':
			a->tls_key = optarg;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'L':
			if (parse_latency(optarg, &a->latency_ms) < 0)
				return ms_usage_error("serve",
						      "--latency '%s': expected a duration "
						      "such as 50ms or 1s (at most 60s)",
						      optarg);
			break;
		case 'T':
			if (parse_rate(optarg, &a->throttle) < 0)
				return ms_usage_error("serve",
						      "--throttle '%s': expected a rate such "
						      "as 50/s or 600/m",
						      optarg);
			break;
		case 'F':
			if (parse_share(optarg, &a->faults) < 0)
				return ms_usage_error("serve",
						      "--faults '%s': expected a share "
						      "from 0 to 1 such as 0.01",
						      optarg);
			break;
		case 'N': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1 || n > 4096)
				return ms_usage_error("serve",
						      "--max-connections '%s': expected "
						      "1 to 4096",
						      optarg);
			a->max_connections = (unsigned)n;
			break;
		}
		case ':':
			return ms_usage_error("serve", "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return ms_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	if (!a->catalog)
		return ms_usage_error("serve", "--catalog is required (sqlite:PATH)");
	if (strncmp(a->catalog, "sqlite:", 7) != 0 || !a->catalog[7] || strchr(a->catalog, '?'))
		return ms_usage_error("serve",
				      "--catalog '%s': expected sqlite:PATH (each account "
				      "is a catalog of the file: no ?catalog-id=)",
				      a->catalog);
	if (!a->accounts)
		return ms_usage_error("serve", "--accounts is required (accounts.yaml)");
	if (!a->tls_cert != !a->tls_key)
		return ms_usage_error("serve", "--tls-cert and --tls-key go together");
	if (a->verbose && a->quiet)
		return ms_usage_error("serve", "-v and -q exclude each other");
	return 0;
}

/* Read a PEM file whole (new, NUL-terminated). */
static int read_pem(const char *path, char **out, ms_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return ms_error_set(err, MS_EIO, "cannot read '%s': %s", path, strerror(errno));
	if (!(buf = malloc(SERVE_PEM_MAX + 1))) {
		fclose(f);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	n = fread(buf, 1, SERVE_PEM_MAX + 1, f);
	fclose(f);
	if (n == 0 || n > SERVE_PEM_MAX || !strstr(buf, "-----BEGIN")) {
		free(buf);
		return ms_error_set(err, MS_EINVAL, "'%s' is not a PEM file", path);
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int metrics_handler(const char *path, ms_buf *body, const char **content_type, void *ctx)
{
	*content_type = "text/plain; charset=utf-8";
	if (strcmp(path, "/healthz") == 0)
		return ms_glue_health(ctx, body) < 0 ? 503 : 200;
	if (strcmp(path, "/metrics") == 0) {
		*content_type = "text/plain; version=0.0.4; charset=utf-8";
		return ms_glue_metrics(ctx, body) < 0 ? 500 : 200;
	}
	ms_buf_adds(body, "not found\n");
	return 404;
}

/* Open the catalog file once, creating it, so that a bad path fails now. */
static int check_catalog(const char *url, const ms_accounts *acc, ms_error *err)
{
	ms_open_options oo;
	ms_catalog *cat = NULL;
	char *full = NULL;
	int rc;

	memset(&oo, 0, sizeof(oo));
	oo.mode = MS_OPEN_WRITE;
	if (asprintf(&full, "%s?catalog-id=%s", url, acc->accounts[0].id) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	rc = ms_catalog_open(&cat, full, &oo, err);
	free(full);
	ms_catalog_close(cat);
	return rc;
}

/* Wait for SIGTERM or SIGINT (blocked in every thread), then drain g. */
static void wait_and_drain(ms_http *h, ms_glue *g, int quiet)
{
	sigset_t set;
	int sig = 0, waited;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	ms_http_quiesce(h);
	if (!quiet)
		fprintf(stderr, "metasync serve: %s: finishing %ld request(s) in flight\n",
			sig == SIGINT ? "SIGINT" : "SIGTERM", ms_glue_in_flight(g));
	for (waited = 0; ms_glue_in_flight(g) > 0 && waited < SERVE_DRAIN_SECONDS * 20; waited++)
		usleep(50000);
}

static int serve(const serve_args *a, const ms_accounts *acc, const char *cert, const char *key)
{
	ms_glue_options go;
	ms_glue *g = NULL;
	ms_http *h = NULL, *mh = NULL;
	ms_http_api_config hc;
	ms_error err;
	int rc;

	memset(&go, 0, sizeof(go));
	go.catalog_path = a->catalog + 7;
	go.accounts = acc;
	go.latency_ms = a->latency_ms;
	go.throttle_rate = a->throttle;
	go.faults = a->faults;
	go.verbose = a->verbose;
	ms_error_clear(&err);
	if ((rc = check_catalog(a->catalog, acc, &err)) < 0 ||
	    (rc = ms_glue_new(&g, &go, &err)) < 0)
		return ms_fail(&err);
	memset(&hc, 0, sizeof(hc));
	hc.listen = a->listen;
	hc.max_connections = a->max_connections;
	hc.tls_cert_pem = cert;
	hc.tls_key_pem = key;
	if ((rc = ms_http_start_api_config(&h, &hc, ms_glue_handle, g, &err)) < 0 ||
	    (a->metrics_listen &&
	     (rc = ms_http_start(&mh, a->metrics_listen, metrics_handler, g, &err)) < 0)) {
		ms_http_stop(h);
		ms_glue_free(g);
		return ms_fail(&err);
	}
	if (!a->quiet) {
		fprintf(stderr, "metasync serve: Glue API on %s://%s (port %d), %zu account(s)",
			cert ? "https" : "http", a->listen, ms_http_port(h), acc->naccounts);
		if (mh)
			fprintf(stderr, "; /healthz and /metrics on port %d", ms_http_port(mh));
		fputc('\n', stderr);
	}
	wait_and_drain(h, g, a->quiet);
	ms_http_stop(mh);
	ms_http_stop(h);
	ms_glue_free(g);
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	serve_args a;
	ms_accounts *acc = NULL;
	char *cert = NULL, *key = NULL;
	sigset_t set;
	ms_error err;
	int rc;

	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	ms_error_clear(&err);
	if (ms_accounts_load(a.accounts, &acc, &err) < 0 ||
	    (a.tls_cert &&
	     (read_pem(a.tls_cert, &cert, &err) < 0 || read_pem(a.tls_key, &key, &err) < 0))) {
		free(cert);
		ms_accounts_free(acc);
		return ms_fail(&err);
	}
	/* every thread started from here on leaves the signals to sigwait */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = serve(&a, acc, cert, key);
	if (key)
		memset(key, 0, strlen(key));
	free(cert);
	free(key);
	ms_accounts_free(acc);
	return rc;
}
