/*
 * glue_load: load for `metasync serve`, the AWS Glue Data Catalog API server,
 * the way Glue clients make it: signed JSON 1.1 requests, libcurl's own SigV4
 * signer, one easy handle (one kept-alive connection) per client thread.
 * bench/run_serve.sh measures the server with it; it also checks what it
 * reads, because a fast answer that loses or repeats partitions is no answer.
 *
 *   ingest  creates --partitions partitions with BatchCreatePartition (100 a
 *           request), split over --clients, each client its own range of
 *           values; the database and the table are created first when absent
 *   scan    reads the table with GetPartitions, --segments in parallel (one
 *           thread a Segment, MaxResults 1000, following NextToken), counts
 *           the partitions, checks that none comes twice and, with --expect,
 *           that the count is the one given
 *   mix     --clients loop for --seconds over 60% GetPartitions with an
 *           Expression selecting 4 days of dt (96 partitions, MaxResults
 *           100), 20% GetTable and 20% BatchCreatePartition of 100 new
 *           partitions (values no other client uses); throughput, p50 and p99
 *           latency per operation; then no lost write: the table's count read
 *           back equals the count before plus what the creates created
 *
 * The partitions are bench/synth.h's: partition number i has the values,
 * location, columns and numbers of partition i of `gen_export OUT N 1 1`, so
 * that an import of that export and an ingest of N partitions write the same
 * data.  mix expects such a table (number i at dt = 2024-01-01 + i / 24 days,
 * hour = i % 24, numbers 0 to count - 1): it checks the filtered reads
 * against it and creates from number count on.
 *
 * Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN
 * when set).  Output: a summary, or one JSON object with --json.  Exit
 * status: 0 done, 1 some request failed, 2 usage, 3 a check failed.
 *
 * C11 + POSIX threads + libcurl (7.75 or later, for CURLOPT_AWS_SIGV4):
 *   gcc -O2 -std=c11 -pthread -o glue_load glue_load.c \
 *       $(pkg-config --cflags --libs libcurl)
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "synth.h"

#define BATCH 100      /* BatchCreatePartition's limit */
#define SCAN_PAGE 1000 /* GetPartitions' MaxResults limit */
#define MIX_PAGE 100
#define MIX_DAYS 4 /* days of dt a mix read selects */
#define CLIENTS_MAX 256
#define SEGMENTS_MAX 10 /* GetPartitions' TotalSegments limit */
#define SECONDS_MAX 86400
#define ANSWER_MAX ((size_t)64 << 20) /* a larger answer is an error */
#define REQUEST_MAX ((size_t)16 << 20)
#define TIMEOUT_SECONDS 900L
#define JSON_DEPTH_MAX 64
#define ERRORS_SHOWN 10
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_CHECK 3

enum op {
	OP_GET_PARTITIONS,
	OP_GET_TABLE,
	OP_BATCH_CREATE,
	OP_CREATE_DATABASE,
	OP_CREATE_TABLE,
	NOPS
};
static const char *const op_names[NOPS] = {
	"GetPartitions", "GetTable", "BatchCreatePartition", "CreateDatabase", "CreateTable",
};
#define MIX_OPS 3 /* the operations of the mix: the first three */

/* ---- small helpers --------------------------------------------------------- */

/* "glue_load: " and the message, then tail, as one line on stderr. */
static void vmessage(const char *tail, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vmessage(const char *tail, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "glue_load: %s%s\n", line, tail);
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* For what cannot go on (out of memory, no thread): a message and exit 1. */
static void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	exit(EXIT_FAILED);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A mixing function for numbers that need no sequence (splitmix64). */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *p, const char *e)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; p < e; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

/* A text buffer that never grows past max: appends fail with -1 beyond it. */
typedef struct buf {
	char *p;
	size_t len, cap, max;
} buf;

static int buf_add(buf *b, const char *s, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap)))
			fatal("out of memory");
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Append a string literal. */
#define BUF_LIT(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

static int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int buf_printf(buf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if (!(big = malloc((size_t)n + 1)))
		fatal("out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = buf_add(b, big, (size_t)n);
	free(big);
	return rc;
}

/* s as a JSON string, quoted and escaped. */
static int buf_json_str(buf *b, const char *s)
{
	int rc = BUF_LIT(b, "\"");

	for (; *s && rc == 0; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			rc = buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			rc = buf_printf(b, "\\u%04x", ch);
		else
			rc = buf_add(b, s, 1);
	}
	return rc ? rc : BUF_LIT(b, "\"");
}

/* Growable arrays of latencies and of hashes. */
typedef struct dvec {
	double *v;
	size_t n, cap;
} dvec;

typedef struct hvec {
	uint64_t *v;
	size_t n, cap;
} hvec;

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 1024;
	if (!(v = realloc(v, *cap * size)))
		fatal("out of memory");
	return v;
}

static void dvec_push(dvec *d, double x)
{
	d->v = grow(d->v, &d->cap, d->n, sizeof(*d->v));
	d->v[d->n++] = x;
}

static void hvec_push(hvec *h, uint64_t x)
{
	h->v = grow(h->v, &h->cap, h->n, sizeof(*h->v));
	h->v[h->n++] = x;
}

static void hvec_append(hvec *to, const hvec *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		hvec_push(to, from->v[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The p-quantile (nearest rank) of n sorted values; 0 when there are none. */
static double quantile(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p * (double)n);
	if ((double)k < p * (double)n)
		k++;
	return v[k ? k - 1 : 0];
}

/* ---- reading answers --------------------------------------------------------- */

/*
 * A JSON walker for the answers: it checks the syntax and hands the members
 * of one object, or the elements of one array, to a callback, without
 * building a tree (a page of 1,000 partitions is about 1.3 MB).
 */
typedef struct jwalk {
	/* a member of the object: its name (between the quotes, as written) and its value */
	int (*member)(const char *name, size_t len, const char *v, const char *ve, void *ctx);
	/* an element of the array */
	int (*element)(const char *v, const char *ve, void *ctx);
	void *ctx;
} jwalk;

static const char *j_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the string at p, or NULL. */
static const char *j_str(const char *p, const char *e)
{
	if (p >= e || *p != '"')
		return NULL;
	for (p++; p < e; p++) {
		if (*p == '\\') {
			if (++p == e)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/*
 * The end of the value at p (after white space), or NULL when it is not
 * JSON or a callback of w (for this value only, not the ones inside) failed.
 */
static const char *j_value(const char *p, const char *e, int depth, const jwalk *w)
{
	char close;

	p = j_ws(p, e);
	if (p >= e)
		return NULL;
	if (*p == '"')
		return j_str(p, e);
	if (*p != '{' && *p != '[') {
		const char *s = p;

		while (p < e && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9') ||
				 (*p >= 'a' && *p <= 'z')))
			p++;
		return p > s ? p : NULL;
	}
	if (depth >= JSON_DEPTH_MAX)
		return NULL;
	close = *p == '{' ? '}' : ']';
	p = j_ws(p + 1, e);
	if (p < e && *p == close)
		return p + 1;
	for (;;) {
		const char *k = p, *ke = NULL, *v;

		if (close == '}') {
			if (!(ke = j_str(k, e)))
				return NULL;
			p = j_ws(ke, e);
			if (p >= e || *p != ':')
				return NULL;
			p++;
		}
		v = j_ws(p, e);
		if (!(p = j_value(v, e, depth + 1, NULL)))
			return NULL;
		if (w && close == '}' && w->member &&
		    w->member(k + 1, (size_t)(ke - k - 2), v, p, w->ctx) < 0)
			return NULL;
		if (w && close == ']' && w->element && w->element(v, p, w->ctx) < 0)
			return NULL;
		p = j_ws(p, e);
		if (p < e && *p == ',') {
			p = j_ws(p + 1, e);
			continue;
		}
		return p < e && *p == close ? p + 1 : NULL;
	}
}

static int j_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

/* The JSON string [v, ve) unescaped into out (at most n bytes with the NUL); \u kept as written. */
static void j_copy(const char *v, const char *ve, char *out, size_t n)
{
	size_t k = 0;

	if (ve - v < 2 || *v != '"') {
		snprintf(out, n, "%.*s", (int)(ve - v), v);
		return;
	}
	for (v++, ve--; v < ve && k + 1 < n; v++) {
		if (*v == '\\' && v + 1 < ve && strchr("\"\\/", v[1]))
			v++;
		out[k++] = *v;
	}
	out[k] = '\0';
}

/* What an answer says, as far as glue_load cares. */
typedef struct answer {
	long long partitions; /* elements of Partitions */
	long long errors;     /* elements of Errors (per-item errors of a batch) */
	char *token;          /* NextToken (new), NULL when absent */
	char type[128];       /* __type of an error */
	char message[256];    /* its Message */
	hvec *hashes;         /* when set: a hash of each partition's Values gets pushed */
} answer;

static int on_partition_member(const char *name, size_t len, const char *v, const char *ve,
			       void *ctx)
{
	if (j_is(name, len, "Values"))
		hvec_push(ctx, fnv1a(v, ve));
	return 0;
}

static int on_partition(const char *v, const char *ve, void *ctx)
{
	answer *a = ctx;
	jwalk w = { on_partition_member, NULL, a->hashes };

	a->partitions++;
	if (a->hashes && *v == '{' && !j_value(v, ve, 1, &w))
		return -1;
	return 0;
}

static int on_item_error(const char *v, const char *ve, void *ctx)
{
	(void)v;
	(void)ve;
	((answer *)ctx)->errors++;
	return 0;
}

static int on_answer_member(const char *name, size_t len, const char *v, const char *ve, void *ctx)
{
	answer *a = ctx;

	if (j_is(name, len, "Partitions") && *v == '[') {
		jwalk w = { NULL, on_partition, a };

		return j_value(v, ve, 1, &w) ? 0 : -1;
	}
	if (j_is(name, len, "Errors") && *v == '[') {
		jwalk w = { NULL, on_item_error, a };

		return j_value(v, ve, 1, &w) ? 0 : -1;
	}
	if (j_is(name, len, "NextToken") && *v == '"') {
		size_t n = (size_t)(ve - v);

		free(a->token);
		if (!(a->token = malloc(n)))
			fatal("out of memory");
		j_copy(v, ve, a->token, n);
	} else if (j_is(name, len, "__type") && *v == '"') {
		j_copy(v, ve, a->type, sizeof(a->type));
	} else if ((j_is(name, len, "Message") || j_is(name, len, "message")) && *v == '"') {
		j_copy(v, ve, a->message, sizeof(a->message));
	}
	return 0;
}

/* Read an answer's body into a (token new); -1 when it is not a JSON object. */
static int answer_read(const char *body, size_t len, answer *a)
{
	jwalk w = { on_answer_member, NULL, a };
	const char *end = body + len, *p = j_ws(body, end);

	if (p >= end || *p != '{' || !(p = j_value(p, end, 0, &w)) || j_ws(p, end) != end)
		return -1;
	return 0;
}

/* ---- options ------------------------------------------------------------------- */

typedef struct options {
	const char *mode, *endpoint, *db, *table, *region;
	long long partitions, first, expect; /* expect: -1 when not given */
	long clients, segments, seconds;
	int json;
	const char *key, *secret, *session_token;
} options;

static const char usage_text[] =
	"usage: glue_load ingest --endpoint URL --db D --table T --partitions N\n"
	"                        [--clients C] [--first I]\n"
	"       glue_load scan   --endpoint URL --db D --table T [--segments S] [--expect N]\n"
	"       glue_load mix    --endpoint URL --db D --table T [--clients C] [--seconds S]\n"
	"                        [--segments S]\n"
	"options: --region R (default us-east-1), --json (one JSON object on stdout)\n"
	"  ingest: --clients 1 to 256 (default 4); --first: number of the first partition\n"
	"          (default 0)\n"
	"  scan:   --segments 1 to 10 (default 1: no Segment); --expect: the count there must be\n"
	"  mix:    --clients (default 16), --seconds (default 60); --segments: readers for the\n"
	"          counts before and after (default 1)\n"
	"credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN when set)\n"
	"exit status: 0 done, 1 some request failed, 2 usage, 3 a check failed\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(" ('glue_load --help' for usage)", fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* A whole number from min to max; -1 (after the message) when it is not one. */
static int parse_number(const char *opt, const char *s, long long min, long long max,
			long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		usage_error("%s '%s': expected a whole number from %lld to %lld", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* The options with a value, and the modes that take each: i(ngest), s(can), m(ix). */
static const struct {
	const char *name, *modes;
} option_table[] = {
	{ "--endpoint", "ism" }, { "--db", "ism" },    { "--table", "ism" }, { "--region", "ism" },
	{ "--partitions", "i" }, { "--first", "i" },   { "--expect", "s" },  { "--clients", "im" },
	{ "--segments", "sm" },  { "--seconds", "m" },
};

/* Set option a (one of option_table) to val: 0, or -1 after the message. */
static int parse_value(options *o, const char *a, const char *val)
{
	long long v = 0;
	int rc = 0;

	if (!strcmp(a, "--endpoint"))
		o->endpoint = val;
	else if (!strcmp(a, "--db"))
		o->db = val;
	else if (!strcmp(a, "--table"))
		o->table = val;
	else if (!strcmp(a, "--region"))
		o->region = val;
	else if (!strcmp(a, "--partitions"))
		rc = parse_number(a, val, 1, 1000000000LL, &o->partitions);
	else if (!strcmp(a, "--first"))
		rc = parse_number(a, val, 0, 1000000000LL, &o->first);
	else if (!strcmp(a, "--expect"))
		rc = parse_number(a, val, 0, 1000000000LL, &o->expect);
	else if (!strcmp(a, "--clients") && (rc = parse_number(a, val, 1, CLIENTS_MAX, &v)) == 0)
		o->clients = (long)v;
	else if (!strcmp(a, "--segments") && (rc = parse_number(a, val, 1, SEGMENTS_MAX, &v)) == 0)
		o->segments = (long)v;
	else if (!strcmp(a, "--seconds") && (rc = parse_number(a, val, 1, SECONDS_MAX, &v)) == 0)
		o->seconds = (long)v;
	return rc;
}

/* Fill o from the command line: 0, EXIT_USAGE after the message, or -1 after --help. */
static int parse_args(int argc, char **argv, options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->region = "us-east-1";
	o->expect = -1;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : -1;
	}
	o->mode = argv[1];
	if (strcmp(o->mode, "ingest") && strcmp(o->mode, "scan") && strcmp(o->mode, "mix"))
		return usage_error("unknown mode '%s': expected ingest, scan or mix", o->mode);
	o->clients = o->mode[0] == 'm' ? 16 : 4;
	o->segments = 1;
	o->seconds = 60;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		size_t k, n = sizeof(option_table) / sizeof(option_table[0]);

		if (!strcmp(a, "--json")) {
			o->json = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			return -1;
		}
		for (k = 0; k < n && strcmp(a, option_table[k].name); k++)
			;
		if (k == n)
			return usage_error("unknown option '%s'", a);
		if (!strchr(option_table[k].modes, o->mode[0]))
			return usage_error("%s does not go with %s", a, o->mode);
		if (i + 1 == argc)
			return usage_error("option '%s' needs a value", a);
		if (parse_value(o, a, argv[++i]) < 0)
			return EXIT_USAGE;
	}
	if (!o->endpoint)
		return usage_error("--endpoint is required (http://127.0.0.1:PORT)");
	if (strncmp(o->endpoint, "http://", 7) && strncmp(o->endpoint, "https://", 8))
		return usage_error("--endpoint '%s': expected an http:// or https:// URL",
				   o->endpoint);
	if (!o->db || !*o->db || !o->table || !*o->table)
		return usage_error("--db and --table are required");
	if (!*o->region || strchr(o->region, ':'))
		return usage_error("--region '%s': expected a region name such as us-east-1",
				   o->region);
	if (o->mode[0] == 'i' && !o->partitions)
		return usage_error("ingest needs --partitions");
	o->key = getenv("AWS_ACCESS_KEY_ID");
	o->secret = getenv("AWS_SECRET_ACCESS_KEY");
	o->session_token = getenv("AWS_SESSION_TOKEN");
	if (!o->key || !*o->key || !o->secret || !*o->secret)
		return usage_error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
	if (strchr(o->key, ':'))
		return usage_error("AWS_ACCESS_KEY_ID must not hold ':'");
	return 0;
}

/* ---- clients ------------------------------------------------------------------- */

/* How many errors were shown, by all threads. */
static atomic_long errors_shown;

/* One client: one thread, one easy handle, one connection. */
typedef struct client {
	const options *o;
	int index;
	CURL *h;
	struct curl_slist *headers[NOPS];
	buf req, ans;
	long status;
	const char *tolerate; /* an error __type that is an answer, not an error */
	char curl_err[CURL_ERROR_SIZE];
	/* what it did */
	long long requests[NOPS], errors[NOPS], errors_5xx[NOPS];
	long long created, wrong_answers;
	dvec latency[NOPS];
	/* scan */
	long segment, segments;
	long long partitions, pages;
	hvec hashes;
	int check_failed;
} client;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	client *c = ctx;

	if (buf_add(&c->ans, p, size * n) < 0) {
		snprintf(c->curl_err, sizeof(c->curl_err), "answer larger than %zu MiB",
			 ANSWER_MAX >> 20);
		return 0;
	}
	return size * n;
}

static void client_init(client *c, const options *o, int index)
{
	char sigv4[256], *userpwd;
	size_t n = strlen(o->key) + strlen(o->secret) + 2;
	int i;

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->index = index;
	c->req.max = REQUEST_MAX;
	c->ans.max = ANSWER_MAX;
	if (!(c->h = curl_easy_init()) || !(userpwd = malloc(n)))
		fatal("cannot make a curl handle");
	snprintf(userpwd, n, "%s:%s", o->key, o->secret);
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:glue", o->region);
	for (i = 0; i < NOPS; i++) {
		char target[128];
		struct curl_slist *l = NULL;

		snprintf(target, sizeof(target), "X-Amz-Target: AWSGlue.%s", op_names[i]);
		l = curl_slist_append(l, target);
		l = curl_slist_append(l, "Content-Type: application/x-amz-json-1.1");
		if (o->session_token && *o->session_token) {
			char *tok;
			size_t tn = strlen(o->session_token) + 32;

			if (!(tok = malloc(tn)))
				fatal("out of memory");
			snprintf(tok, tn, "X-Amz-Security-Token: %s", o->session_token);
			l = curl_slist_append(l, tok);
			free(tok);
		}
		if (!l)
			fatal("out of memory");
		c->headers[i] = l;
	}
	curl_easy_setopt(c->h, CURLOPT_URL, o->endpoint);
	curl_easy_setopt(c->h, CURLOPT_POST, 1L);
	curl_easy_setopt(c->h, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(c->h, CURLOPT_USERPWD, userpwd);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, TIMEOUT_SECONDS);
	memset(userpwd, 0, n);
	free(userpwd);
}

static void client_free(client *c)
{
	int i;

	curl_easy_cleanup(c->h);
	for (i = 0; i < NOPS; i++) {
		curl_slist_free_all(c->headers[i]);
		free(c->latency[i].v);
	}
	free(c->req.p);
	free(c->ans.p);
	free(c->hashes.v);
}

static void show_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr for each of the first ERRORS_SHOWN errors of the run. */
static void show_error(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&errors_shown, 1) >= ERRORS_SHOWN)
		return;
	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

/*
 * POST c->req to op and read the answer into a (a->token new, a->hashes
 * used when set).  0 when the answer is a 200 with no per-item error; else
 * -1, counted as op's error (a 5xx also as a 5xx) and shown, unless the
 * error's __type is c->tolerate.  The latency of every call is kept.
 */
static int call(client *c, enum op op, answer *a)
{
	hvec *hashes = a->hashes;
	CURLcode rc;
	double t0;

	memset(a, 0, sizeof(*a));
	a->hashes = hashes;
	c->ans.len = 0;
	c->curl_err[0] = '\0';
	c->status = 0;
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers[op]);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->req.p);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->req.len);
	t0 = now();
	rc = curl_easy_perform(c->h);
	dvec_push(&c->latency[op], now() - t0);
	c->requests[op]++;
	if (rc != CURLE_OK) {
		c->errors[op]++;
		show_error("%s: no answer: %s", op_names[op],
			   c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->status);
	if (answer_read(c->ans.p ? c->ans.p : "", c->ans.len, a) < 0) {
		c->errors[op]++;
		c->errors_5xx[op] += c->status >= 500;
		show_error("%s: HTTP %ld, the answer is not a JSON object: %.200s", op_names[op],
			   c->status, c->ans.p ? c->ans.p : "");
		return -1;
	}
	if (c->status != 200 && c->tolerate && strcmp(a->type, c->tolerate) == 0)
		return -1;
	if (c->status != 200) {
		c->errors[op]++;
		c->errors_5xx[op] += c->status >= 500;
		show_error("%s: HTTP %ld %s: %s", op_names[op], c->status, a->type, a->message);
		return -1;
	}
	if (a->errors) {
		c->errors[op]++;
		show_error("%s: %lld item(s) failed: %.300s", op_names[op], a->errors, c->ans.p);
		return -1;
	}
	return 0;
}

/* ---- requests -------------------------------------------------------------------- */

/* Start c's request with DatabaseName and the table's name as table_member. */
static void add_names(client *c, const char *table_member)
{
	c->req.len = 0;
	if (BUF_LIT(&c->req, "{\"DatabaseName\":") < 0 || buf_json_str(&c->req, c->o->db) < 0 ||
	    buf_printf(&c->req, ",\"%s\":", table_member) < 0 ||
	    buf_json_str(&c->req, c->o->table) < 0)
		fatal("request too large");
}

/* The storage descriptor the synthetic tables and partitions share (synth.h). */
static int add_storage_descriptor(buf *b, const char *location)
{
	int i, rc = BUF_LIT(b, "\"StorageDescriptor\":{\"Columns\":[");

	for (i = 0; i < SYNTH_NCOLS && rc == 0; i++)
		rc = buf_printf(b, "%s{\"Name\":\"%s\",\"Type\":\"%s\"}", i ? "," : "",
				synth_col_names[i], synth_col_types[i]);
	if (rc == 0)
		rc = BUF_LIT(b, "],\"Location\":");
	if (rc == 0)
		rc = buf_json_str(b, location);
	if (rc == 0)
		rc = buf_printf(b,
				",\"InputFormat\":\"%s\",\"OutputFormat\":\"%s\","
				"\"SerdeInfo\":{\"SerializationLibrary\":\"%s\","
				"\"Parameters\":{\"serialization.format\":\"1\"}},"
				"\"Compressed\":false,\"NumberOfBuckets\":-1,"
				"\"StoredAsSubDirectories\":false,\"BucketColumns\":[],"
				"\"SortColumns\":[],\"Parameters\":{},\"SkewedInfo\":{"
				"\"SkewedColumnNames\":[],\"SkewedColumnValues\":[],"
				"\"SkewedColumnValueLocationMaps\":{}}}",
				SYNTH_INPUT_FORMAT, SYNTH_OUTPUT_FORMAT, SYNTH_SERDE);
	return rc;
}

/* The PartitionInput of partition number i, with its random draw r. */
static int add_partition_input(client *c, unsigned long long i, uint64_t r)
{
	char dt[SYNTH_DT_MAX], loc[1024];
	unsigned hour = synth_values((unsigned long)i, dt);
	unsigned long rows, size;

	synth_stats(r, &rows, &size);
	snprintf(loc, sizeof(loc), "s3://bench-lake/%s/%s/dt=%s/hour=%02u/", c->o->db, c->o->table,
		 dt, hour);
	if (buf_printf(&c->req,
		       "{\"Values\":[\"%s\",\"%02u\"],\"LastAccessTime\":0,"
		       "\"Parameters\":{\"numRows\":\"%lu\",\"totalSize\":\"%lu\"},",
		       dt, hour, rows, size) < 0 ||
	    add_storage_descriptor(&c->req, loc) < 0)
		return -1;
	return BUF_LIT(&c->req, "}");
}

/* BatchCreatePartition of numbers first .. first + n - 1, with their draws; created counted. */
static int batch_create(client *c, unsigned long long first, const uint64_t *draws, int n)
{
	answer a = { 0 };
	int i, rc;

	add_names(c, "TableName");
	if (BUF_LIT(&c->req, ",\"PartitionInputList\":[") < 0)
		fatal("request too large");
	for (i = 0; i < n; i++)
		if ((i && BUF_LIT(&c->req, ",") < 0) ||
		    add_partition_input(c, first + (unsigned long long)i, draws[i]) < 0)
			fatal("request too large");
	if (BUF_LIT(&c->req, "]}") < 0)
		fatal("request too large");
	rc = call(c, OP_BATCH_CREATE, &a);
	if (c->status == 200)
		c->created += n - a.errors;
	free(a.token);
	return rc;
}

/*
 * One page of GetPartitions (segment/segments when segments > 1, the
 * Expression expr when not NULL) after *token; *token becomes the next one
 * (new) or NULL at the end.  Partitions counted into *count.
 */
static int get_partitions_page(client *c, long segment, long segments, int max, const char *expr,
			       char **token, hvec *hashes, long long *count)
{
	answer a = { 0 };
	int rc;

	add_names(c, "TableName");
	if (buf_printf(&c->req, ",\"MaxResults\":%d", max) < 0 ||
	    (segments > 1 &&
	     buf_printf(&c->req, ",\"Segment\":{\"SegmentNumber\":%ld,\"TotalSegments\":%ld}",
			segment, segments) < 0) ||
	    (expr &&
	     (BUF_LIT(&c->req, ",\"Expression\":") < 0 || buf_json_str(&c->req, expr) < 0)) ||
	    (*token &&
	     (BUF_LIT(&c->req, ",\"NextToken\":") < 0 || buf_json_str(&c->req, *token) < 0)) ||
	    BUF_LIT(&c->req, "}") < 0)
		fatal("request too large");
	a.hashes = hashes;
	rc = call(c, OP_GET_PARTITIONS, &a);
	free(*token);
	*token = NULL;
	if (rc < 0) {
		free(a.token);
		return -1;
	}
	*count += a.partitions;
	if (a.token && !a.token[0]) {
		free(a.token);
		a.token = NULL;
	}
	*token = a.token;
	return 0;
}

/* ---- scan ---------------------------------------------------------------------------- */

static void *scan_thread(void *arg)
{
	client *c = arg;
	char *token = NULL, *prev = NULL;

	do {
		c->pages++;
		if (get_partitions_page(c, c->segment, c->segments, SCAN_PAGE, NULL, &token,
					&c->hashes, &c->partitions) < 0)
			break;
		if (token && prev && strcmp(token, prev) == 0) {
			show_error("GetPartitions: segment %ld: NextToken repeats after %lld "
				   "partitions",
				   c->segment, c->partitions);
			c->check_failed = 1;
			break;
		}
		free(prev);
		prev = token ? strdup(token) : NULL;
	} while (token);
	free(token);
	free(prev);
	return NULL;
}

typedef struct scan_total {
	long long partitions, distinct, pages, errors;
	double seconds;
	int check_failed;
} scan_total;

static void start_threads(client *cs, long n, void *(*fn)(void *), pthread_t *th)
{
	long i;
	int e;

	for (i = 0; i < n; i++)
		if ((e = pthread_create(&th[i], NULL, fn, &cs[i])) != 0)
			fatal("cannot start a thread: %s", strerror(e));
}

static void join_threads(long n, pthread_t *th)
{
	long i;

	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* Read the whole table with segments readers into t; the partitions' hashes checked for repeats. */
static void scan(const options *o, long segments, scan_total *t)
{
	client cs[SEGMENTS_MAX];
	pthread_t th[SEGMENTS_MAX];
	hvec all = { 0 };
	double t0;
	long i;
	size_t k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < segments; i++) {
		client_init(&cs[i], o, (int)i);
		cs[i].segment = i;
		cs[i].segments = segments;
	}
	t0 = now();
	start_threads(cs, segments, scan_thread, th);
	join_threads(segments, th);
	t->seconds = now() - t0;
	for (i = 0; i < segments; i++) {
		t->partitions += cs[i].partitions;
		t->pages += cs[i].pages;
		t->errors += cs[i].errors[OP_GET_PARTITIONS];
		t->check_failed |= cs[i].check_failed;
		hvec_append(&all, &cs[i].hashes);
		client_free(&cs[i]);
	}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), cmp_u64);
	for (k = 0; k < all.n; k++)
		t->distinct += k == 0 || all.v[k] != all.v[k - 1];
	if ((size_t)t->partitions != all.n) {
		show_error("GetPartitions: %lld partitions, %zu with Values", t->partitions, all.n);
		t->check_failed = 1;
	}
	if (t->distinct != t->partitions) {
		show_error("GetPartitions: %lld partitions read, of which %lld distinct: "
			   "the segments or pages overlap",
			   t->partitions, t->distinct);
		t->check_failed = 1;
	}
	free(all.v);
}

static int run_scan(const options *o)
{
	scan_total t;
	int count_ok;

	scan(o, o->segments, &t);
	count_ok = o->expect < 0 || t.partitions == o->expect;
	if (!count_ok)
		show_error("scan: %lld partitions read, expected %lld", t.partitions, o->expect);
	if (o->json) {
		printf("{\"mode\":\"scan\",\"segments\":%ld,\"seconds\":%.3f,\"partitions\":%lld,"
		       "\"distinct\":%lld,\"pages\":%lld,\"partitions_per_second\":%.1f,"
		       "\"errors\":%lld,\"expect\":%lld,\"check\":\"%s\"}\n",
		       o->segments, t.seconds, t.partitions, t.distinct, t.pages,
		       t.seconds > 0 ? (double)t.partitions / t.seconds : 0, t.errors, o->expect,
		       count_ok && !t.check_failed ? "ok" : "failed");
	} else {
		printf("scan: %s.%s in %ld segment(s): %lld partitions (%lld distinct) in %lld "
		       "pages, %.3f s, %.0f partitions/s, %lld errors",
		       o->db, o->table, o->segments, t.partitions, t.distinct, t.pages, t.seconds,
		       t.seconds > 0 ? (double)t.partitions / t.seconds : 0, t.errors);
		if (o->expect >= 0)
			printf("; expected %lld: %s", o->expect, count_ok ? "ok" : "FAILED");
		putchar('\n');
	}
	if (!count_ok || t.check_failed)
		return EXIT_CHECK;
	return t.errors ? EXIT_FAILED : 0;
}

/* ---- ingest ------------------------------------------------------------------------ */

/* Create the database and the table unless they exist (as in gen_export OUT N 1 1). */
static int create_table(client *c)
{
	char loc[1024];
	answer a = { 0 };
	int rc;

	c->req.len = 0;
	c->tolerate = "AlreadyExistsException";
	snprintf(loc, sizeof(loc), "s3://bench-lake/%s", c->o->db);
	if (BUF_LIT(&c->req, "{\"DatabaseInput\":{\"Name\":") < 0 ||
	    buf_json_str(&c->req, c->o->db) < 0 ||
	    BUF_LIT(&c->req, ",\"Description\":\"synthetic benchmark database\","
			     "\"LocationUri\":") < 0 ||
	    buf_json_str(&c->req, loc) < 0 ||
	    BUF_LIT(&c->req, ",\"Parameters\":{\"owner\":\"data-platform\","
			     "\"classification\":\"internal\"}}}") < 0)
		fatal("request too large");
	rc = call(c, OP_CREATE_DATABASE, &a);
	free(a.token);
	if (rc < 0 && strcmp(a.type, c->tolerate) != 0) {
		c->tolerate = NULL;
		return -1;
	}
	c->req.len = 0;
	snprintf(loc, sizeof(loc), "s3://bench-lake/%s/%s/", c->o->db, c->o->table);
	if (BUF_LIT(&c->req, "{\"DatabaseName\":") < 0 || buf_json_str(&c->req, c->o->db) < 0 ||
	    BUF_LIT(&c->req, ",\"TableInput\":{\"Name\":") < 0 ||
	    buf_json_str(&c->req, c->o->table) < 0 ||
	    BUF_LIT(&c->req, ",\"Owner\":\"hadoop\",\"TableType\":\"EXTERNAL_TABLE\","
			     "\"Parameters\":{\"EXTERNAL\":\"TRUE\",\"classification\":\"parquet\","
			     "\"parquet.compression\":\"SNAPPY\"},\"PartitionKeys\":["
			     "{\"Name\":\"dt\",\"Type\":\"string\"},"
			     "{\"Name\":\"hour\",\"Type\":\"string\"}],") < 0 ||
	    add_storage_descriptor(&c->req, loc) < 0 || BUF_LIT(&c->req, "}}") < 0)
		fatal("request too large");
	rc = call(c, OP_CREATE_TABLE, &a);
	free(a.token);
	rc = rc < 0 && strcmp(a.type, c->tolerate) != 0 ? -1 : 0;
	c->tolerate = NULL;
	return rc;
}

typedef struct range {
	unsigned long long lo, hi;
} range;

static range ranges[CLIENTS_MAX];

static void *ingest_thread(void *arg)
{
	client *c = arg;
	range r = ranges[c->index];
	uint64_t state = SYNTH_SEED, draws[BATCH];
	unsigned long long i, k;

	/* the draws gen_export makes before partition r.lo */
	for (k = 0; k < SYNTH_DRAWS_BEFORE + r.lo; k++)
		synth_rng(&state);
	for (i = r.lo; i < r.hi; i += BATCH) {
		int n = r.hi - i < BATCH ? (int)(r.hi - i) : BATCH, j;

		for (j = 0; j < n; j++)
			draws[j] = synth_rng(&state);
		batch_create(c, i, draws, n);
	}
	return NULL;
}

static int run_ingest(const options *o)
{
	client cs[CLIENTS_MAX];
	pthread_t th[CLIENTS_MAX];
	long long created = 0, requests = 0, errors = 0, n = o->partitions;
	unsigned long long first = (unsigned long long)o->first;
	long i, clients = o->clients;
	double t0, secs;

	if (clients > (n + BATCH - 1) / BATCH)
		clients = (long)((n + BATCH - 1) / BATCH);
	for (i = 0; i < clients; i++) {
		/* whole batches to each client, the remainder to the last */
		long long batches = n / BATCH;

		client_init(&cs[i], o, (int)i);
		ranges[i].lo = first + (unsigned long long)(batches * i / clients * BATCH);
		ranges[i].hi = i + 1 == clients ? first + (unsigned long long)n
						: first + (unsigned long long)(batches * (i + 1) /
									       clients * BATCH);
	}
	if (create_table(&cs[0]) < 0) {
		for (i = 0; i < clients; i++)
			client_free(&cs[i]);
		fprintf(stderr, "glue_load: cannot create the table '%s.%s'\n", o->db, o->table);
		return EXIT_FAILED;
	}
	t0 = now();
	start_threads(cs, clients, ingest_thread, th);
	join_threads(clients, th);
	secs = now() - t0;
	for (i = 0; i < clients; i++) {
		created += cs[i].created;
		requests += cs[i].requests[OP_BATCH_CREATE];
		errors += cs[i].errors[OP_BATCH_CREATE];
		client_free(&cs[i]);
	}
	if (o->json)
		printf("{\"mode\":\"ingest\",\"clients\":%ld,\"seconds\":%.3f,\"partitions\":%lld,"
		       "\"created\":%lld,\"partitions_per_second\":%.1f,\"requests\":%lld,"
		       "\"errors\":%lld}\n",
		       clients, secs, n, created, secs > 0 ? (double)created / secs : 0, requests,
		       errors);
	else
		printf("ingest: %lld partitions into %s.%s by %ld client(s): %lld created in "
		       "%.3f s, "
		       "%.0f partitions/s, %lld requests, %lld errors\n",
		       n, o->db, o->table, clients, created, secs,
		       secs > 0 ? (double)created / secs : 0, requests, errors);
	return errors || created != n ? EXIT_FAILED : 0;
}

/* ---- mix ----------------------------------------------------------------------------- */

static double mix_deadline;
static unsigned long long mix_first; /* number of the first partition the creates make */
static unsigned long long mix_days;  /* whole days of dt in the table before */
static atomic_ullong mix_next_batch;

/* GetPartitions of MIX_DAYS days of dt, all pages; the count checked. */
static void mix_read(client *c, uint64_t *state)
{
	unsigned long long d = synth_rng(state) % (mix_days - MIX_DAYS + 1);
	char from[SYNTH_DT_MAX], to[SYNTH_DT_MAX], expr[160], *token = NULL;
	long long count = 0;
	int pages = 0;

	synth_values((unsigned long)(d * 24), from);
	synth_values((unsigned long)((d + MIX_DAYS - 1) * 24), to);
	snprintf(expr, sizeof(expr), "dt BETWEEN '%s' AND '%s'", from, to);
	do {
		if (get_partitions_page(c, 0, 1, MIX_PAGE, expr, &token, NULL, &count) < 0)
			return;
	} while (token && ++pages < MIX_DAYS * 24);
	free(token);
	if (count != MIX_DAYS * 24) {
		c->wrong_answers++;
		show_error("GetPartitions with %s: %lld partitions, expected %d", expr, count,
			   MIX_DAYS * 24);
	}
}

static void mix_get_table(client *c)
{
	answer a = { 0 };

	add_names(c, "Name");
	if (BUF_LIT(&c->req, "}") < 0)
		fatal("request too large");
	call(c, OP_GET_TABLE, &a);
	free(a.token);
}

static void mix_create(client *c)
{
	unsigned long long b = atomic_fetch_add(&mix_next_batch, 1);
	unsigned long long first = mix_first + b * BATCH;
	uint64_t draws[BATCH];
	int j;

	for (j = 0; j < BATCH; j++)
		draws[j] = mix64(first + (unsigned long long)j);
	batch_create(c, first, draws, BATCH);
}

static void *mix_thread(void *arg)
{
	client *c = arg;
	uint64_t state = mix64((uint64_t)c->index + 1);

	while (now() < mix_deadline) {
		unsigned r = (unsigned)(synth_rng(&state) % 100);

		if (r < 60)
			mix_read(c, &state);
		else if (r < 80)
			mix_get_table(c);
		else
			mix_create(c);
	}
	return NULL;
}

typedef struct op_stats {
	long long requests, errors, errors_5xx;
	double p50, p99, max, mean;
} op_stats;

/* Merge the clients' latencies of op and sort them. */
static void op_stats_of(client *cs, long n, int op, op_stats *s)
{
	dvec all = { 0 };
	double sum = 0;
	long i;
	size_t k;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		s->requests += cs[i].requests[op];
		s->errors += cs[i].errors[op];
		s->errors_5xx += cs[i].errors_5xx[op];
		for (k = 0; k < cs[i].latency[op].n; k++)
			dvec_push(&all, cs[i].latency[op].v[k]);
	}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), cmp_double);
	for (k = 0; k < all.n; k++)
		sum += all.v[k];
	s->p50 = quantile(all.v, all.n, 0.50);
	s->p99 = quantile(all.v, all.n, 0.99);
	s->max = all.n ? all.v[all.n - 1] : 0;
	s->mean = all.n ? sum / (double)all.n : 0;
	free(all.v);
}

static int run_mix(const options *o)
{
	client cs[CLIENTS_MAX];
	pthread_t th[CLIENTS_MAX];
	op_stats st[MIX_OPS];
	scan_total before, after;
	long long created = 0, wrong = 0, requests = 0, e5xx = 0, eother = 0;
	long i;
	int op, count_ok;
	double t0, secs;

	client_init(&cs[0], o, 0);
	mix_get_table(&cs[0]);
	if (cs[0].errors[OP_GET_TABLE]) {
		client_free(&cs[0]);
		fprintf(stderr, "glue_load: cannot read the table '%s.%s'\n", o->db, o->table);
		return EXIT_FAILED;
	}
	client_free(&cs[0]);
	scan(o, o->segments, &before);
	if (before.errors || before.check_failed) {
		fprintf(stderr, "glue_load: cannot count the partitions of '%s.%s' before\n", o->db,
			o->table);
		return before.errors ? EXIT_FAILED : EXIT_CHECK;
	}
	mix_first = (unsigned long long)before.partitions;
	mix_days = mix_first / 24;
	if (mix_days < MIX_DAYS) {
		fprintf(stderr,
			"glue_load: mix needs a table of %d partitions at least, "
			"'%s.%s' has %lld\n",
			MIX_DAYS * 24, o->db, o->table, before.partitions);
		return EXIT_USAGE;
	}
	for (i = 0; i < o->clients; i++)
		client_init(&cs[i], o, (int)i);
	t0 = now();
	mix_deadline = t0 + (double)o->seconds;
	start_threads(cs, o->clients, mix_thread, th);
	join_threads(o->clients, th);
	secs = now() - t0;
	for (op = 0; op < MIX_OPS; op++) {
		op_stats_of(cs, o->clients, op, &st[op]);
		requests += st[op].requests;
		e5xx += st[op].errors_5xx;
		eother += st[op].errors - st[op].errors_5xx;
	}
	for (i = 0; i < o->clients; i++) {
		created += cs[i].created;
		wrong += cs[i].wrong_answers;
		client_free(&cs[i]);
	}
	scan(o, o->segments, &after);
	count_ok = !after.errors && !after.check_failed &&
		   after.partitions == before.partitions + created;
	if (!count_ok)
		show_error("mix: %lld partitions before + %lld created = %lld, but %lld read back",
			   before.partitions, created, before.partitions + created,
			   after.partitions);
	if (o->json) {
		printf("{\"mode\":\"mix\",\"clients\":%ld,\"seconds\":%.3f,\"requests\":%lld,"
		       "\"requests_per_second\":%.1f,\"errors_5xx\":%lld,\"errors_other\":%lld,"
		       "\"wrong_answers\":%lld,\"operations\":{",
		       o->clients, secs, requests, secs > 0 ? (double)requests / secs : 0, e5xx,
		       eother, wrong);
		for (op = 0; op < MIX_OPS; op++)
			printf("%s\"%s\":{\"requests\":%lld,\"per_second\":%.1f,\"p50_ms\":%.2f,"
			       "\"p99_ms\":%.2f,\"max_ms\":%.2f,\"mean_ms\":%.2f,\"errors\":%lld}",
			       op ? "," : "", op_names[op], st[op].requests,
			       secs > 0 ? (double)st[op].requests / secs : 0, st[op].p50 * 1e3,
			       st[op].p99 * 1e3, st[op].max * 1e3, st[op].mean * 1e3,
			       st[op].errors);
		printf("},\"before\":%lld,\"created\":%lld,\"after\":%lld,\"count_seconds\":%.3f,"
		       "\"check\":\"%s\"}\n",
		       before.partitions, created, after.partitions, before.seconds + after.seconds,
		       count_ok && !wrong ? "ok" : "failed");
	} else {
		printf("mix: %s.%s, %ld clients, %.1f s: %lld requests, %.1f/s; %lld 5xx, "
		       "%lld other "
		       "errors, %lld wrong answers\n",
		       o->db, o->table, o->clients, secs, requests,
		       secs > 0 ? (double)requests / secs : 0, e5xx, eother, wrong);
		printf("  %-22s %10s %10s %10s %10s %10s %8s\n", "operation", "requests", "per s",
		       "p50 ms", "p99 ms", "max ms", "errors");
		for (op = 0; op < MIX_OPS; op++)
			printf("  %-22s %10lld %10.1f %10.2f %10.2f %10.2f %8lld\n", op_names[op],
			       st[op].requests, secs > 0 ? (double)st[op].requests / secs : 0,
			       st[op].p50 * 1e3, st[op].p99 * 1e3, st[op].max * 1e3, st[op].errors);
		printf("  count: %lld before + %lld created = %lld; read back %lld: %s\n",
		       before.partitions, created, before.partitions + created, after.partitions,
		       count_ok ? "ok" : "FAILED (lost or extra partitions)");
	}
	if (!count_ok || wrong)
		return EXIT_CHECK;
	return e5xx || eother ? EXIT_FAILED : 0;
}

int main(int argc, char **argv)
{
	options o;
	int rc;

	if ((rc = parse_args(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("cannot initialise libcurl");
	if (!strcmp(o.mode, "ingest"))
		rc = run_ingest(&o);
	else if (!strcmp(o.mode, "scan"))
		rc = run_scan(&o);
	else
		rc = run_mix(&o);
	curl_global_cleanup();
	return rc;
}
