/*
 * `metasync demo --glue`: the demo's three accounts behind the Glue API.
 * One `metasync serve` runs in this process over DIR/glue/accounts.db,
 * holding the source account and the two target accounts, each with an
 * access key made for this run; the agents reach their accounts through
 * glue:// URLs, each signing with its own account's key.  The keys go to
 * two files only, both readable by their owner alone: the server's
 * accounts file (DIR/glue/accounts.yaml) and a shared credentials file
 * (DIR/glue/aws/credentials) with one profile per account, which the URLs
 * name (profile=demo-ACCOUNT).  This process's credential chain is pointed
 * at that file and at an empty config file beside it, so that the user's
 * own ~/.aws and AWS_* keys play no part.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo_internal.h"
#include "server/accounts.h"
#include "server/glue.h"
#include "server/http.h"
#include "util/buf.h"

#define GLUE_REGION "us-east-1"
#define GLUE_LISTEN "127.0.0.1:0"
/*
 * Two target agents writing tables=GLUE_TABLES at a time, each table's
 * instance with up to 16 requests in flight (parallel=), and the source:
 * 2 x 8 x 16 + 16 = 272 connections at most, and as many client sockets in
 * this same process, within the usual 1,024 descriptors.  (A server that
 * refuses a connection makes the client back off and retry; under a
 * sanitizer's slowness 256 for 2 x 24 x 16 ran out of retries.)
 */
#define GLUE_MAX_CONNECTIONS 384
#define GLUE_TABLES 8
#define GLUE_DRAIN_SECONDS 10
#define KEY_ID_RANDOM 16 /* after "AKIA" */
#define SECRET_LEN 40

struct demo_glue {
	ms_accounts *accounts;
	ms_glue *g;
	ms_http *h;
	FILE *log;
	char endpoint[64];
	char *accounts_path;
};

static const char *const account_ids[3] = { DEMO_SOURCE_ID, DEMO_TARGET_A_ID, DEMO_TARGET_B_ID };

typedef struct demo_key {
	char id[4 + KEY_ID_RANDOM + 1];
	char secret[SECRET_LEN + 1];
} demo_key;

/* n random characters of alphabet (of 32 or 64 characters) into out. */
static int random_chars(char *out, size_t n, const char *alphabet, ms_error *err)
{
	unsigned char b[64];
	size_t len = strlen(alphabet), i;

	if (n > sizeof(b) || getentropy(b, n) < 0)
		return ms_error_set(err, MS_EIO, "cannot draw random access keys: %s",
				    strerror(errno));
	for (i = 0; i < n; i++)
		out[i] = alphabet[b[i] % len]; /* len divides 256: no bias */
	out[n] = '\0';
	memset(b, 0, sizeof(b));
	return 0;
}

static int make_key(demo_key *k, ms_error *err)
{
	memcpy(k->id, "AKIA", 4);
	if (random_chars(k->id + 4, KEY_ID_RANDOM, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", err) < 0)
		return MS_EIO;
	return random_chars(k->secret, SECRET_LEN,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
			    err);
}

/*
 * Write text as path, readable and writable by the owner only (mode 600
 * whatever the umask or an older file said), through a temporary file
 * renamed over it.
 */
static int write_private(const char *path, const ms_buf *text, ms_error *err)
{
	ms_buf tmp = MS_BUF_INIT(PATH_MAX + 16);
	const char *p = ms_buf_cstr(text);
	size_t left = text->len;
	int fd, rc = 0;

	if (ms_buf_printf(&tmp, "%s.tmp", path) < 0) {
		ms_buf_free(&tmp);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	unlink(ms_buf_cstr(&tmp));
	fd = open(ms_buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		rc = ms_error_set(err, MS_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = ms_error_set(err, MS_EIO, "cannot write '%s': %s", path,
					  strerror(errno));
			goto done;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		rc = ms_error_set(err, MS_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(ms_buf_cstr(&tmp), path) < 0)
		rc = ms_error_set(err, MS_EIO, "cannot rename '%s' to '%s': %s", ms_buf_cstr(&tmp),
				  path, strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(ms_buf_cstr(&tmp));
	ms_buf_free(&tmp);
	return rc;
}

/* Overwrite a buffer that held secrets, then free it. */
static void wipe(ms_buf *b)
{
	if (b->ptr)
		memset(b->ptr, 0, b->len);
	ms_buf_free(b);
}

/*
 * The accounts file and the credentials and config files of this run's
 * keys, under d->base; the paths are set in this process's environment.
 */
static int write_key_files(demo *d, demo_glue *s, ms_error *err)
{
	demo_key keys[3];
	ms_buf acc = MS_BUF_INIT(16384), cred = MS_BUF_INIT(16384), path = MS_BUF_INIT(PATH_MAX);
	ms_buf empty = MS_BUF_INIT(16);
	int rc, i, bad = 0;

	for (i = 0; i < 3; i++)
		if ((rc = make_key(&keys[i], err)) < 0)
			goto done;
	bad |= ms_buf_adds(&acc, "# `metasync demo --glue`: the accounts of its server, with keys "
				 "made for\n"
				 "# the last run (aws/credentials holds them as profiles).  "
				 "Secrets: keep\n"
				 "# this file readable by its owner only.\naccounts:\n");
	bad |= ms_buf_adds(&cred,
			   "# `metasync demo --glue`: one profile per account of its server\n");
	for (i = 0; i < 3; i++) {
		bad |= ms_buf_printf(&acc,
				     "  - id: \"%s\"\n    keys:\n      - id: %s\n        secret: "
				     "\"%s\"\n",
				     account_ids[i], keys[i].id, keys[i].secret);
		bad |= ms_buf_printf(&cred,
				     "[demo-%s]\naws_access_key_id = %s\naws_secret_access_key = "
				     "%s\n",
				     account_ids[i], keys[i].id, keys[i].secret);
	}
	if (bad < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	ms_buf_printf(&path, "%s/accounts.yaml", d->base);
	if (!(s->accounts_path = strdup(ms_buf_cstr(&path)))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = write_private(s->accounts_path, &acc, err)) < 0)
		goto done;
	ms_buf_reset(&path);
	ms_buf_printf(&path, "%s/aws", d->base);
	if (mkdir(ms_buf_cstr(&path), 0700) < 0 && errno != EEXIST) {
		rc = ms_error_set(err, MS_EIO, "cannot create directory '%s': %s",
				  ms_buf_cstr(&path), strerror(errno));
		goto done;
	}
	ms_buf_adds(&path, "/credentials");
	if ((rc = write_private(ms_buf_cstr(&path), &cred, err)) < 0)
		goto done;
	setenv("AWS_SHARED_CREDENTIALS_FILE", ms_buf_cstr(&path), 1);
	ms_buf_reset(&path);
	ms_buf_printf(&path, "%s/aws/config", d->base);
	if ((rc = write_private(ms_buf_cstr(&path), &empty, err)) < 0)
		goto done;
	setenv("AWS_CONFIG_FILE", ms_buf_cstr(&path), 1);
	rc = 0;
done:
	memset(keys, 0, sizeof(keys));
	wipe(&acc);
	wipe(&cred);
	ms_buf_free(&path);
	ms_buf_free(&empty);
	return rc;
}

/* Requests to 127.0.0.1 go straight to the server, whatever proxy the environment names. */
static void no_proxy_for_loopback(void)
{
	const char *names[2] = { "no_proxy", "NO_PROXY" };

	for (int i = 0; i < 2; i++) {
		const char *v = getenv(names[i]);
		ms_buf b = MS_BUF_INIT(8192);

		if (v && (strcmp(v, "*") == 0 || strstr(v, "127.0.0.1")))
			continue;
		if (v && *v)
			ms_buf_printf(&b, "%s,127.0.0.1", v);
		else
			ms_buf_adds(&b, "127.0.0.1");
		if (ms_buf_cstr(&b))
			setenv(names[i], ms_buf_cstr(&b), 1);
		ms_buf_free(&b);
	}
}

/* The glue:// URL of account id on the server, signed with its profile (new). */
static char *glue_url(const demo_glue *s, const char *id)
{
	ms_buf u = MS_BUF_INIT(512);

	if (ms_buf_printf(&u, "glue://%s?endpoint=%s&catalog-id=%s&profile=demo-%s&tables=%d",
			  GLUE_REGION, s->endpoint, id, id, GLUE_TABLES) < 0) {
		ms_buf_free(&u);
		return NULL;
	}
	return ms_buf_detach(&u);
}

/* Start the server over d->base/accounts.db with the accounts file just written. */
static int start_server(demo *d, demo_glue *s, ms_error *err)
{
	ms_glue_options go;
	ms_http_api_config hc;
	ms_buf path = MS_BUF_INIT(PATH_MAX);
	int rc;

	if ((rc = ms_accounts_load(s->accounts_path, &s->accounts, err)) < 0)
		goto done;
	/* the server's log (failed requests; never a key) */
	ms_buf_printf(&path, "%s/serve.log", d->base);
	if (!(s->log = fopen(ms_buf_cstr(&path), "ae"))) {
		rc = ms_error_set(err, MS_EIO, "cannot open '%s': %s", ms_buf_cstr(&path),
				  strerror(errno));
		goto done;
	}
	ms_buf_reset(&path);
	ms_buf_printf(&path, "%s/accounts.db", d->base);
	memset(&go, 0, sizeof(go));
	go.catalog_path = ms_buf_cstr(&path);
	go.accounts = s->accounts;
	go.log = s->log;
	if ((rc = ms_glue_new(&s->g, &go, err)) < 0)
		goto done;
	memset(&hc, 0, sizeof(hc));
	hc.listen = GLUE_LISTEN;
	hc.max_connections = GLUE_MAX_CONNECTIONS;
	if ((rc = ms_http_start_api_config(&s->h, &hc, ms_glue_handle, s->g, err)) < 0)
		goto done;
	snprintf(s->endpoint, sizeof(s->endpoint), "http://127.0.0.1:%d", ms_http_port(s->h));
done:
	ms_buf_free(&path);
	return rc;
}

int demo_glue_start(demo *d, ms_error *err)
{
	demo_glue *s;
	char **urls[3] = { &d->source_url, &d->target_url[0], &d->target_url[1] };
	int rc, i;

	if (d->server)
		return 0;
	if (!(s = calloc(1, sizeof(*s))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	d->server = s;
	signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is the server's to see */
	no_proxy_for_loopback();
	if ((rc = write_key_files(d, s, err)) < 0 || (rc = start_server(d, s, err)) < 0) {
		ms_error_prefix(err, "starting the Glue API server: ");
		return rc;
	}
	for (i = 0; i < 3; i++) {
		char *u = glue_url(s, account_ids[i]);

		if (!u)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		free(*urls[i]);
		*urls[i] = u;
	}
	return 0;
}

const char *demo_glue_endpoint(const demo *d)
{
	return d->server ? d->server->endpoint : "";
}

const char *demo_glue_accounts_path(const demo *d)
{
	return d->server && d->server->accounts_path ? d->server->accounts_path : "";
}

/* Add v to name's count in c (of *n, at most max). */
static void add_count(demo_glue_count *c, size_t *n, size_t max, const char *name,
		      unsigned long long v)
{
	size_t i;

	for (i = 0; i < *n && strcmp(c[i].name, name) != 0; i++)
		;
	if (i == *n) {
		if (*n == max)
			return;
		snprintf(c[(*n)++].name, sizeof(c[0].name), "%s", name);
	}
	c[i].requests += v;
}

/* One metasync_glue_requests_total line into st. */
static void take_requests_line(const char *line, size_t n, demo_glue_stats *st)
{
	static const char prefix[] = "metasync_glue_requests_total{operation=\"";
	char op[48], etype[48];
	unsigned long long v;
	const char *p = line + sizeof(prefix) - 1, *q, *e;

	if (n <= sizeof(prefix) || strncmp(line, prefix, sizeof(prefix) - 1) != 0)
		return;
	if (!(q = memchr(p, '"', n - (size_t)(p - line))) || (size_t)(q - p) >= sizeof(op))
		return;
	snprintf(op, sizeof(op), "%.*s", (int)(q - p), p);
	if (strncmp(q, "\",error=\"", 9) != 0)
		return;
	p = q + 9;
	if (!(e = memchr(p, '"', n - (size_t)(p - line))) || (size_t)(e - p) >= sizeof(etype))
		return;
	snprintf(etype, sizeof(etype), "%.*s", (int)(e - p), p);
	if (sscanf(e, "\"} %llu", &v) != 1)
		return;
	st->requests += v;
	add_count(st->ops, &st->nops, sizeof(st->ops) / sizeof(st->ops[0]), op, v);
	if (etype[0]) {
		st->errors += v;
		add_count(st->etypes, &st->netypes, sizeof(st->etypes) / sizeof(st->etypes[0]),
			  etype, v);
	}
}

static int by_requests(const void *a, const void *b)
{
	const demo_glue_count *x = a, *y = b;

	if (x->requests != y->requests)
		return x->requests > y->requests ? -1 : 1;
	return strcmp(x->name, y->name);
}

void demo_glue_stats_get(const demo *d, demo_glue_stats *st)
{
	ms_buf m = MS_BUF_INIT((size_t)1 << 20);
	const char *p;

	memset(st, 0, sizeof(*st));
	if (!d->server || !d->server->g || ms_glue_metrics(d->server->g, &m) < 0 ||
	    !(p = ms_buf_cstr(&m))) {
		ms_buf_free(&m);
		return;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		take_requests_line(p, n, st);
		p += n + (nl ? 1 : 0);
	}
	qsort(st->ops, st->nops, sizeof(st->ops[0]), by_requests);
	qsort(st->etypes, st->netypes, sizeof(st->etypes[0]), by_requests);
	ms_buf_free(&m);
}

void demo_glue_stop(demo *d)
{
	demo_glue *s = d->server;

	if (!s)
		return;
	if (s->h) {
		ms_http_quiesce(s->h);
		for (int i = 0; s->g && ms_glue_in_flight(s->g) > 0 && i < GLUE_DRAIN_SECONDS * 20;
		     i++)
			usleep(50000);
	}
	ms_http_stop(s->h);
	ms_glue_free(s->g);
	ms_accounts_free(s->accounts);
	if (s->log)
		fclose(s->log);
	free(s->accounts_path);
	free(s);
	d->server = NULL;
}
