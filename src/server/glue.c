/*
 * The Glue-compatible server's front: from an HTTP request to an operation
 * and back.  In order: /healthz and /metrics; the method and path; the body
 * size; the SigV4 signature (src/server/sigv4.c) by a key of accounts.yaml;
 * the per-account throttle, the injected faults and latency (all off by
 * default); X-Amz-Target; the JSON body (UTF-8, an object); the operation
 * (glue_db.c, glue_table.c, glue_partition.c); the answer with its
 * request id.  Catalogs are opened per account and kept in a pool of idle
 * connections, so that a request costs no open.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "metasync/model.h"
#include "server/glue_internal.h"
#include "server/sigv4.h"
#include "util/clock.h"

#define GLUE_CONTENT_TYPE "application/x-amz-json-1.1"
#define GLUE_TARGET_PREFIX "AWSGlue."
#define GLUE_POOL_IDLE_MAX 32
#define GLUE_CACHE_MIB 4 /* page cache per pooled connection */
#define GLUE_OP_NAME_MAX 64

/* Error types counted in /metrics; anything else counts as "other". */
static const char *const metric_types[] = {
	"",
	GLUE_E_NOT_FOUND,
	GLUE_E_EXISTS,
	GLUE_E_INVALID,
	GLUE_E_CONFLICT,
	GLUE_E_DENIED,
	GLUE_E_INTERNAL,
	GLUE_E_SERIALIZATION,
	GLUE_E_LIMIT,
	"ThrottlingException",
	"UnknownOperationException",
	"MissingAuthenticationTokenException",
	"IncompleteSignatureException",
	"UnrecognizedClientException",
	"InvalidSignatureException",
	"other",
};
#define NTYPES (sizeof(metric_types) / sizeof(metric_types[0]))
#define MAX_OPS 48
#define NBUCKETS 12
static const double buckets[NBUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					  0.1,   0.25,   0.5,   1,    2.5,   10 };

/* An idle catalog connection of one account. */
typedef struct pooled {
	ms_catalog *cat;
	char id[GLUE_ACCOUNT_LEN + 1];
	struct pooled *next;
} pooled;

/* One account's token bucket. */
typedef struct bucket {
	double tokens;
	double last; /* monotonic seconds of the last refill */
} bucket;

struct ms_glue {
	ms_glue_options o;
	char *catalog_path;
	FILE *log;
	/*
	 * Held from BEGIN to COMMIT by this server's writers: they queue here
	 * and wake as soon as the catalog is free, instead of sleeping in
	 * SQLite's busy handler while another of them writes.
	 */
	pthread_mutex_t write_lock;
	/*
	 * At most `slots` requests run their operation at once (one per CPU):
	 * hundreds of connections share the CPUs without crowding out the
	 * writer that holds write_lock.
	 */
	pthread_mutex_t work_lock;
	pthread_cond_t work_free;
	long slots;
	pthread_mutex_t lock; /* everything below */
	pooled *idle;
	size_t nidle;
	bucket *buckets; /* one per account of o.accounts */
	const glue_op *ops[MAX_OPS];
	size_t nops;
	unsigned long long count[MAX_OPS + 1][NTYPES]; /* the last row: unknown operations */
	unsigned long long hist[NBUCKETS + 1];
	double seconds_sum;
	unsigned long long hist_count;
	long in_flight;
	uint64_t fault_seq;
};

/* ---- helpers for the operations ---------------------------------------- */

int glue_fail(glue_call *c, const char *etype, const char *fmt, ...)
{
	va_list ap;

	c->etype = etype;
	c->status = strcmp(etype, GLUE_E_INTERNAL) == 0 ? 500 : 400;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	return -1;
}

const char *glue_error_type(int rc)
{
	switch (rc) {
	case MS_ENOTFOUND:
		return GLUE_E_NOT_FOUND;
	case MS_EEXISTS:
		return GLUE_E_EXISTS;
	case MS_EINVAL:
	case MS_ETOOBIG:
		return GLUE_E_INVALID;
	case MS_ECONFLICT:
		return GLUE_E_CONFLICT;
	default:
		return GLUE_E_INTERNAL;
	}
}

int glue_fail_err(glue_call *c, int rc, const ms_error *err)
{
	const char *etype = glue_error_type(rc);

	if (strcmp(etype, GLUE_E_INTERNAL) == 0) {
		snprintf(c->detail, sizeof(c->detail), "%s%s%s", err->message,
			 err->detail[0] ? ": " : "", err->detail);
		return glue_fail(c, etype, "Internal service error");
	}
	return glue_fail(c, etype, "%s", err->message);
}

int glue_item_error(cJSON *item, const char *etype, const char *fmt, ...)
{
	char msg[MS_ERROR_MESSAGE_MAX];
	cJSON *d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!(d = cJSON_AddObjectToObject(item, "ErrorDetail")) ||
	    !cJSON_AddStringToObject(d, "ErrorCode", etype) ||
	    !cJSON_AddStringToObject(d, "ErrorMessage", msg))
		return MS_ENOMEM;
	return 0;
}

/* Characters of UTF-8 text s (valid: the body was checked), -1 if not single-line. */
static long single_line_chars(const char *s)
{
	long n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 && ch != '\t')
			return -1;
		if ((ch & 0xC0) != 0x80)
			n++;
	}
	return n;
}

static const cJSON *member(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return v && cJSON_IsNull(v) ? NULL : v;
}

int glue_in_string(glue_call *c, const cJSON *obj, const char *name, int required, size_t min,
		   size_t max, const char **out)
{
	const cJSON *v = member(obj, name);
	long n;

	*out = NULL;
	if (!v) {
		if (required)
			return glue_fail(c, GLUE_E_INVALID, "%s is required", name);
		return 0;
	}
	if (!cJSON_IsString(v))
		return glue_fail(c, GLUE_E_SERIALIZATION, "%s must be a string", name);
	if ((n = single_line_chars(v->valuestring)) < 0)
		return glue_fail(c, GLUE_E_INVALID, "%s must be a single line", name);
	if ((size_t)n < min || (max && (size_t)n > max))
		return glue_fail(c, GLUE_E_INVALID,
				 "%s must be between %zu and %zu characters long", name, min, max);
	*out = v->valuestring;
	return 0;
}

int glue_in_name(glue_call *c, const cJSON *obj, const char *name, int required, char *buf,
		 size_t n)
{
	const char *s;
	size_t i;

	buf[0] = '\0';
	if (glue_in_string(c, obj, name, required, 1, MS_NAME_MAX, &s) < 0)
		return -1;
	if (!s)
		return 0;
	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = (char)((unsigned char)s[i] < 0x80 ? tolower((unsigned char)s[i]) : s[i]);
	buf[i] = '\0';
	return 0;
}

int glue_in_bool(glue_call *c, const cJSON *obj, const char *name, int *out)
{
	const cJSON *v = member(obj, name);

	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return glue_fail(c, GLUE_E_SERIALIZATION, "%s must be a boolean", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

int glue_in_int(glue_call *c, const cJSON *obj, const char *name, long long min, long long max,
		long long *out)
{
	const cJSON *v = member(obj, name);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
		return glue_fail(c, GLUE_E_SERIALIZATION, "%s must be an integer", name);
	if (v->valuedouble < (double)min || v->valuedouble > (double)max)
		return glue_fail(c, GLUE_E_INVALID, "%s must be between %lld and %lld", name, min,
				 max);
	*out = (long long)v->valuedouble;
	return 0;
}

int glue_in_object(glue_call *c, const cJSON *obj, const char *name, int required,
		   const cJSON **out)
{
	const cJSON *v = member(obj, name);

	*out = NULL;
	if (!v) {
		if (required)
			return glue_fail(c, GLUE_E_INVALID, "%s is required", name);
		return 0;
	}
	if (!cJSON_IsObject(v))
		return glue_fail(c, GLUE_E_SERIALIZATION, "%s must be a structure", name);
	*out = v;
	return 0;
}

int glue_in_array(glue_call *c, const cJSON *obj, const char *name, int required, size_t min,
		  size_t max, const cJSON **out)
{
	const cJSON *v = member(obj, name);
	size_t n;

	*out = NULL;
	if (!v) {
		if (required)
			return glue_fail(c, GLUE_E_INVALID, "%s is required", name);
		return 0;
	}
	if (!cJSON_IsArray(v))
		return glue_fail(c, GLUE_E_SERIALIZATION, "%s must be a list", name);
	n = (size_t)cJSON_GetArraySize(v);
	if (n < min || n > max)
		return glue_fail(c, GLUE_E_INVALID, "%s must hold between %zu and %zu items", name,
				 min, max);
	*out = v;
	return 0;
}

int glue_in_values(glue_call *c, const cJSON *obj, const char *name, char **vkey)
{
	const cJSON *arr, *v;
	const char *vals[MS_LINE_VALUES_MAX];
	size_t n = 0;
	ms_error err;

	*vkey = NULL;
	if (glue_in_array(c, obj, name, 1, 1, MS_LINE_VALUES_MAX, &arr) < 0)
		return -1;
	cJSON_ArrayForEach(v, arr)
	{
		long len;

		if (!cJSON_IsString(v))
			return glue_fail(c, GLUE_E_SERIALIZATION, "%s must be a list of strings",
					 name);
		len = single_line_chars(v->valuestring);
		if (len > MS_VALUE_MAX || (len < 0 && strchr(v->valuestring, '\n')))
			return glue_fail(c, GLUE_E_INVALID,
					 "%s[%zu] must be at most %d characters on one line", name,
					 n, MS_VALUE_MAX);
		vals[n++] = v->valuestring;
	}
	ms_error_clear(&err);
	if (ms_values_key(vkey, vals, n, &err) < 0)
		return glue_fail_err(c, MS_ENOMEM, &err);
	return 0;
}

/* ---- catalogs ----------------------------------------------------------- */

static int pool_take(ms_glue *g, const char *id, ms_catalog **out, ms_error *err)
{
	pooled **pp, *p = NULL;
	char *url = NULL;
	ms_open_options oo;
	int rc;

	pthread_mutex_lock(&g->lock);
	for (pp = &g->idle; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->id, id) == 0) {
			p = *pp;
			*pp = p->next;
			g->nidle--;
			break;
		}
	pthread_mutex_unlock(&g->lock);
	if (p) {
		*out = p->cat;
		free(p);
		return 0;
	}
	if (asprintf(&url, "sqlite:%s?catalog-id=%s&cache-mib=%d", g->catalog_path, id,
		     GLUE_CACHE_MIB) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	memset(&oo, 0, sizeof(oo));
	oo.mode = MS_OPEN_WRITE;
	rc = ms_catalog_open(out, url, &oo, err);
	free(url);
	return rc;
}

static void pool_give(ms_glue *g, const char *id, ms_catalog *cat)
{
	pooled *p = NULL;

	if (!cat)
		return;
	pthread_mutex_lock(&g->lock);
	if (g->nidle < GLUE_POOL_IDLE_MAX && (p = calloc(1, sizeof(*p)))) {
		p->cat = cat;
		snprintf(p->id, sizeof(p->id), "%s", id);
		p->next = g->idle;
		g->idle = p;
		g->nidle++;
	}
	pthread_mutex_unlock(&g->lock);
	if (!p)
		ms_catalog_close(cat);
}

static int is_account_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return i == GLUE_ACCOUNT_LEN;
}

static int known_account(const ms_accounts *a, const char *id)
{
	size_t i;

	for (i = 0; i < a->naccounts; i++)
		if (strcmp(a->accounts[i].id, id) == 0)
			return 1;
	return 0;
}

static int denied(glue_call *c, const char *database)
{
	return glue_fail(c, GLUE_E_DENIED,
			 "User: arn:aws:iam::%s:root is not authorized to perform: glue:%s on "
			 "resource: arn:aws:glue:%s:%s:%s%s",
			 c->caller, c->op, c->region[0] ? c->region : "us-east-1", c->catalog_id,
			 database ? "database/" : "catalog", database ? database : "");
}

int glue_catalog(glue_call *c, const char *database, ms_access access)
{
	const ms_accounts *a = c->server->o.accounts;
	const char *cid;
	ms_error err;
	int ok, rc;

	if (glue_in_string(c, c->in, "CatalogId", 0, 1, 255, &cid) < 0)
		return -1;
	snprintf(c->catalog_id, sizeof(c->catalog_id), "%s", cid ? cid : c->caller);
	if (cid && (!is_account_id(cid) || !known_account(a, cid))) {
		snprintf(c->catalog_id, sizeof(c->catalog_id), "%.12s", cid);
		return denied(c, database);
	}
	ok = database ? ms_accounts_may(a, c->caller, c->catalog_id, database, access)
		      : ms_accounts_may_list(a, c->caller, c->catalog_id);
	if (!ok)
		return denied(c, database);
	if (c->cat)
		return 0;
	ms_error_clear(&err);
	if ((rc = pool_take(c->server, c->catalog_id, &c->cat, &err)) < 0)
		return glue_fail_err(c, rc, &err);
	return 0;
}

int glue_may_read(glue_call *c, const char *database)
{
	return ms_accounts_may(c->server->o.accounts, c->caller, c->catalog_id, database,
			       MS_ACCESS_READ);
}

int glue_need_database(glue_call *c, const char *db)
{
	ms_entity *e = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_catalog_get_database(c->cat, db, &e, &err);
	ms_entity_free(e);
	if (rc == MS_ENOTFOUND)
		return glue_fail(c, GLUE_E_NOT_FOUND, "Database %s not found.", db);
	if (rc < 0)
		return glue_fail_err(c, rc, &err);
	return 0;
}

int glue_table_missing(glue_call *c, const char *db, const char *name)
{
	if (glue_need_database(c, db) < 0)
		return -1;
	return glue_fail(c, GLUE_E_NOT_FOUND, "Table %s not found.", name);
}

int glue_in_txn(glue_call *c, int (*fn)(glue_call *c, void *ctx), void *ctx)
{
	ms_error err;
	int rc = 0;

	ms_error_clear(&err);
	pthread_mutex_lock(&c->server->write_lock);
	if ((rc = ms_catalog_begin(c->cat, &err)) < 0) {
		rc = glue_fail_err(c, rc, &err);
	} else if (fn(c, ctx) < 0) {
		ms_catalog_rollback(c->cat, &err);
		rc = -1;
	} else if ((rc = ms_catalog_commit(c->cat, &err)) < 0) {
		ms_catalog_rollback(c->cat, &err);
		rc = glue_fail_err(c, rc == MS_EBACKEND ? MS_ECONFLICT : rc, &err);
	}
	pthread_mutex_unlock(&c->server->write_lock);
	return rc < 0 ? -1 : 0;
}

int glue_add_entity(glue_call *c, cJSON *obj, const char *name, const ms_entity *e)
{
	ms_error err;
	cJSON *doc;

	ms_error_clear(&err);
	if (!(doc = ms_entity_glue_output_tree(e, &err)))
		return glue_fail_err(c, MS_EIO, &err);
	/*
	 * A table written into the catalog by another path (an import into the
	 * server's file) has no VersionId: it is version 0 to UpdateTable, and
	 * says so, as every Glue table names its version.
	 */
	if (e->kind == MS_KIND_TABLE && !cJSON_HasObjectItem(doc, "VersionId") &&
	    !cJSON_AddStringToObject(doc, "VersionId", "0")) {
		cJSON_Delete(doc);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	if (name ? !cJSON_AddItemToObject(obj, name, doc) : !cJSON_AddItemToArray(obj, doc)) {
		cJSON_Delete(doc);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	return 0;
}

/* ---- pagination tokens -------------------------------------------------- */

char *glue_token_encode(const char *kind, const char *last)
{
	size_t klen = strlen(kind), llen = strlen(last), n = klen + 1 + llen;
	unsigned char *raw = malloc(n);
	char *enc = malloc(4 * ((n + 2) / 3) + 1);

	if (raw && enc) {
		memcpy(raw, kind, klen);
		raw[klen] = ':';
		memcpy(raw + klen + 1, last, llen);
		EVP_EncodeBlock((unsigned char *)enc, raw, (int)n);
	} else {
		free(enc);
		enc = NULL;
	}
	free(raw);
	return enc;
}

int glue_token_make(glue_call *c, cJSON *out, const char *kind, const char *last)
{
	char *enc = glue_token_encode(kind, last);
	int ok = enc && cJSON_AddStringToObject(out, "NextToken", enc) != NULL;

	free(enc);
	return ok ? 0 : glue_fail(c, GLUE_E_INTERNAL, "out of memory");
}

int glue_token_parse(glue_call *c, const char *kind, char **after)
{
	const char *tok;
	size_t len, klen = strlen(kind);
	unsigned char *raw;
	int n;

	*after = NULL;
	if (glue_in_string(c, c->in, "NextToken", 0, 0, 0, &tok) < 0)
		return -1;
	if (!tok || !*tok)
		return 0;
	len = strlen(tok);
	if (len % 4 || len > 8192 || !(raw = malloc(len / 4 * 3 + 1)))
		return glue_fail(c, GLUE_E_INVALID, "Invalid NextToken");
	n = EVP_DecodeBlock(raw, (const unsigned char *)tok, (int)len);
	if (n > 0 && tok[len - 1] == '=')
		n -= tok[len - 2] == '=' ? 2 : 1;
	if (n < (int)klen + 1 || memcmp(raw, kind, klen) || raw[klen] != ':' ||
	    memchr(raw, '\0', (size_t)n)) {
		free(raw);
		return glue_fail(c, GLUE_E_INVALID, "Invalid NextToken");
	}
	raw[n] = '\0';
	memmove(raw, raw + klen + 1, (size_t)n - klen);
	*after = (char *)raw;
	return 0;
}

/* ---- the server --------------------------------------------------------- */

static const glue_op *find_op(const ms_glue *g, const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < g->nops; i++)
		if (strcmp(g->ops[i]->name, name) == 0) {
			*index = i;
			return g->ops[i];
		}
	*index = MAX_OPS;
	return NULL;
}

/* Requests that run their operation at once: MS_SERVE_SLOTS, else one per CPU. */
static long work_slots(void)
{
	const char *v = getenv("MS_SERVE_SLOTS");
	long n = v ? strtol(v, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n;
}

int ms_glue_new(ms_glue **out, const ms_glue_options *opts, ms_error *err)
{
	static const glue_op *const tables[] = { glue_database_ops, glue_table_ops,
						 glue_partition_ops, glue_change_ops };
	ms_glue *g;
	size_t t, i;

	if (!opts || !opts->catalog_path || !opts->accounts)
		return ms_error_set(err, MS_EINVAL, "the server needs a catalog and accounts");
	if (!(g = calloc(1, sizeof(*g))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_init(&g->write_lock, NULL);
	pthread_mutex_init(&g->work_lock, NULL);
	pthread_cond_init(&g->work_free, NULL);
	g->slots = work_slots();
	g->o = *opts;
	g->log = opts->log ? opts->log : stderr;
	g->catalog_path = strdup(opts->catalog_path);
	g->buckets = calloc(opts->accounts->naccounts ? opts->accounts->naccounts : 1,
			    sizeof(*g->buckets));
	if (!g->catalog_path || !g->buckets) {
		ms_glue_free(g);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if (g->o.throttle_rate > 0 && g->o.throttle_burst <= 0)
		g->o.throttle_burst = g->o.throttle_rate < 1 ? 1 : g->o.throttle_rate;
	for (i = 0; i < opts->accounts->naccounts; i++)
		g->buckets[i].tokens = g->o.throttle_burst;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (i = 0; tables[t][i].name && g->nops < MAX_OPS; i++)
			g->ops[g->nops++] = &tables[t][i];
	*out = g;
	return 0;
}

void ms_glue_free(ms_glue *g)
{
	pooled *p, *next;

	if (!g)
		return;
	for (p = g->idle; p; p = next) {
		next = p->next;
		ms_catalog_close(p->cat);
		free(p);
	}
	pthread_mutex_destroy(&g->lock);
	pthread_mutex_destroy(&g->write_lock);
	pthread_mutex_destroy(&g->work_lock);
	pthread_cond_destroy(&g->work_free);
	free(g->buckets);
	free(g->catalog_path);
	free(g);
}

long ms_glue_in_flight(ms_glue *g)
{
	long n;

	pthread_mutex_lock(&g->lock);
	n = g->in_flight;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* ---- signing ------------------------------------------------------------- */

static int lookup_key(const char *akid, ms_sigv4_key *key, void *ctx, ms_error *err)
{
	const ms_accounts *a = ctx;
	const char *account = NULL;

	(void)err;
	if (ms_accounts_find_key(a, akid, &account, &key->secret, &key->session_token) < 0)
		return MS_ENOTFOUND;
	key->account = (void *)account;
	return 0;
}

static int authenticate(glue_call *c, const ms_http_request *req, ms_sigv4_result *res)
{
	ms_sigv4_header hdrs[MS_HTTP_API_HEADERS_MAX];
	ms_sigv4_request sr;
	ms_error err;
	size_t i;
	int rc;

	for (i = 0; i < req->nheaders; i++) {
		hdrs[i].name = req->headers[i].name;
		hdrs[i].value = req->headers[i].value;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = req->method;
	sr.path = req->path;
	sr.query = "";
	sr.headers = hdrs;
	sr.header_count = req->nheaders;
	sr.body = req->body;
	sr.body_len = req->body_len;
	ms_error_clear(&err);
	rc = ms_sigv4_verify(&sr, "glue", NULL, time(NULL), lookup_key,
			     (void *)c->server->o.accounts, res, &err);
	if (rc < 0) {
		snprintf(c->detail, sizeof(c->detail), "%s", err.detail);
		c->etype = res->aws_type ? res->aws_type : GLUE_E_INTERNAL;
		c->status = res->http_status ? res->http_status : 500;
		snprintf(c->message, sizeof(c->message), "%s", err.message);
		return -1;
	}
	c->caller = res->account;
	snprintf(c->region, sizeof(c->region), "%s", res->region);
	return 0;
}

/* ---- throttle, faults, latency ----------------------------------------- */

static int throttled(ms_glue *g, const char *account)
{
	const ms_accounts *a = g->o.accounts;
	double t = ms_mono_s();
	size_t i;
	int over = 0;

	if (g->o.throttle_rate <= 0)
		return 0;
	for (i = 0; i < a->naccounts && strcmp(a->accounts[i].id, account); i++)
		;
	if (i == a->naccounts)
		return 0;
	pthread_mutex_lock(&g->lock);
	{
		bucket *b = &g->buckets[i];

		if (b->last > 0)
			b->tokens += (t - b->last) * g->o.throttle_rate;
		if (b->tokens > g->o.throttle_burst)
			b->tokens = g->o.throttle_burst;
		b->last = t;
		if (b->tokens >= 1)
			b->tokens -= 1;
		else
			over = 1;
	}
	pthread_mutex_unlock(&g->lock);
	return over;
}

/* A uniform number in [0, 1) from a counter (splitmix64): no shared generator state. */
static double fault_draw(ms_glue *g)
{
	uint64_t z = __atomic_add_fetch(&g->fault_seq, 0x9E3779B97F4A7C15ull, __ATOMIC_RELAXED);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

int glue_fault(glue_call *c)
{
	return c->server->o.faults > 0 && fault_draw(c->server) < c->server->o.faults;
}

/* 0 to go on; 1 when the request was answered with a fault (or is to be dropped). */
static int inject(glue_call *c, ms_http_response *resp)
{
	ms_glue *g = c->server;
	double draw;

	if (g->o.latency_ms > 0)
		usleep((useconds_t)g->o.latency_ms * 1000);
	if (throttled(g, c->caller)) {
		glue_fail(c, "ThrottlingException", "Rate exceeded");
		return 1;
	}
	if (g->o.faults <= 0 || (draw = fault_draw(g)) >= g->o.faults)
		return 0;
	if (draw < g->o.faults / 2) {
		resp->close = 1;
		snprintf(c->detail, sizeof(c->detail), "injected fault: connection dropped");
	}
	glue_fail(c, GLUE_E_INTERNAL, "Internal service error");
	if (!resp->close)
		snprintf(c->detail, sizeof(c->detail), "injected fault");
	return 1;
}

/* ---- the request -------------------------------------------------------- */

static void work_begin(ms_glue *g)
{
	pthread_mutex_lock(&g->work_lock);
	while (g->slots == 0)
		pthread_cond_wait(&g->work_free, &g->work_lock);
	g->slots--;
	pthread_mutex_unlock(&g->work_lock);
}

static void work_end(ms_glue *g)
{
	pthread_mutex_lock(&g->work_lock);
	g->slots++;
	pthread_cond_signal(&g->work_free);
	pthread_mutex_unlock(&g->work_lock);
}

static const char *header(const ms_http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* The operation named by X-Amz-Target into op (empty when there is none). */
static void target_op(const ms_http_request *req, char *op, size_t n)
{
	const char *t = header(req, "X-Amz-Target");
	size_t len;

	op[0] = '\0';
	if (!t || strncmp(t, GLUE_TARGET_PREFIX, strlen(GLUE_TARGET_PREFIX)) != 0)
		return;
	t += strlen(GLUE_TARGET_PREFIX);
	len = strlen(t);
	if (len == 0 || len >= n)
		return;
	for (size_t i = 0; i < len; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z') ||
		      (t[i] >= '0' && t[i] <= '9')))
			return;
	memcpy(op, t, len + 1);
}

static int parse_body(glue_call *c, const char *body, size_t len)
{
	ms_error err;

	if (len == 0) {
		c->in = cJSON_CreateObject();
		return c->in ? 0 : glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	if (!ms_utf8_valid(body, len))
		return glue_fail(c, GLUE_E_SERIALIZATION, "Request body is not valid UTF-8");
	if (ms_json_check_nul(body, len, "Request body", &err) < 0)
		return glue_fail(c, GLUE_E_SERIALIZATION, "%s", err.message);
	c->in = cJSON_ParseWithLength(body, len);
	if (!c->in)
		return glue_fail(c, GLUE_E_SERIALIZATION, "Request body is not valid JSON");
	if (!cJSON_IsObject(c->in))
		return glue_fail(c, GLUE_E_SERIALIZATION, "Request body must be a JSON object");
	return 0;
}

/* Run operation name (op when known) on body for the call's caller. */
static void run_op(glue_call *c, const glue_op *op, const char *name, const char *body, size_t len)
{
	if (!op) {
		glue_fail(c, "UnknownOperationException", "Unknown operation %s",
			  name[0] ? name : "(no X-Amz-Target: AWSGlue.<Operation>)");
		return;
	}
	if (parse_body(c, body, len) < 0)
		return;
	if (!(c->out = cJSON_CreateObject())) {
		glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		return;
	}
	op->fn(c);
}

/* Handle a request up to the operation's answer (or failure). */
static void serve_call(glue_call *c, const ms_http_request *req, ms_http_response *resp,
		       size_t *op_index)
{
	const glue_op *op = NULL;
	ms_sigv4_result res;
	char name[GLUE_OP_NAME_MAX];

	target_op(req, name, sizeof(name));
	if (name[0])
		op = find_op(c->server, name, op_index);
	c->op = op ? op->name : "Unknown";
	if (strcmp(req->method, "POST") != 0 || strcmp(req->path, "/") != 0) {
		glue_fail(c, "UnknownOperationException", "Only POST / is served");
		return;
	}
	if (req->body_too_big || req->too_many_headers) {
		glue_fail(c, GLUE_E_SERIALIZATION, "Request is too large");
		c->status = 413;
		return;
	}
	if (authenticate(c, req, &res) < 0 || inject(c, resp))
		return;
	work_begin(c->server);
	run_op(c, op, name, req->body, req->body_len);
	work_end(c->server);
}

static void request_id(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	size_t i, j = 0;

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[b[i] >> 4];
		out[j++] = hex[b[i] & 15];
	}
	out[j] = '\0';
}

static void add_header(ms_http_response *resp, size_t *used, const char *name, const char *value)
{
	size_t len = strlen(value) + 1;

	if (resp->nheaders >= sizeof(resp->headers) / sizeof(resp->headers[0]) ||
	    *used + len > sizeof(resp->storage))
		return;
	memcpy(resp->storage + *used, value, len);
	resp->headers[resp->nheaders].name = name;
	resp->headers[resp->nheaders].value = resp->storage + *used;
	resp->nheaders++;
	*used += len;
}

static void answer(glue_call *c, ms_http_response *resp, const char *rid)
{
	size_t used = 0;
	char *text;

	resp->content_type = GLUE_CONTENT_TYPE;
	add_header(resp, &used, "x-amzn-RequestId", rid);
	if (c->etype) {
		cJSON *e = cJSON_CreateObject();

		resp->status = c->status;
		add_header(resp, &used, "x-amzn-ErrorType", c->etype);
		cJSON_AddStringToObject(e, "__type", c->etype);
		cJSON_AddStringToObject(e, "Message", c->message);
		text = cJSON_PrintUnformatted(e);
		cJSON_Delete(e);
	} else if (c->text_used) {
		resp->status = 200;
		if (ms_buf_add(&resp->body, c->text->ptr, c->text->len) < 0) {
			resp->status = 500;
			ms_buf_reset(&resp->body);
			ms_buf_adds(&resp->body, "{\"__type\":\"InternalServiceException\"}");
		}
		return;
	} else {
		resp->status = 200;
		text = cJSON_PrintUnformatted(c->out);
	}
	if (!text || ms_buf_adds(&resp->body, text) < 0) {
		resp->status = 500;
		ms_buf_reset(&resp->body);
		ms_buf_adds(&resp->body, "{\"__type\":\"InternalServiceException\"}");
	}
	free(text);
}

static size_t type_index(const char *etype)
{
	size_t i;

	if (!etype)
		return 0;
	for (i = 1; i < NTYPES - 1; i++)
		if (strcmp(metric_types[i], etype) == 0)
			return i;
	return NTYPES - 1;
}

static void account_metrics(ms_glue *g, size_t op_index, const char *etype, double seconds)
{
	size_t b;

	pthread_mutex_lock(&g->lock);
	g->count[op_index][type_index(etype)]++;
	for (b = 0; b < NBUCKETS && seconds > buckets[b]; b++)
		;
	g->hist[b]++;
	g->hist_count++;
	g->seconds_sum += seconds;
	g->in_flight--;
	pthread_mutex_unlock(&g->lock);
}

static void log_call(ms_glue *g, const glue_call *c, const char *rid, int status, double seconds)
{
	if (!g->o.verbose && status < 500 && !c->detail[0])
		return;
	fprintf(g->log, "metasync serve: %s %s %s %d %s %.1fms%s%s\n", rid,
		c->caller ? c->caller : "-", c->op, status, c->etype ? c->etype : "-",
		seconds * 1000, c->detail[0] ? ": " : "", c->detail);
	fflush(g->log);
}

static int health_or_metrics(ms_glue *g, const ms_http_request *req, ms_http_response *resp)
{
	int rc;

	if (strcmp(req->method, "GET") != 0 ||
	    (strcmp(req->path, "/healthz") != 0 && strcmp(req->path, "/metrics") != 0))
		return 0;
	if (strcmp(req->path, "/healthz") == 0) {
		rc = ms_glue_health(g, &resp->body);
		resp->status = rc < 0 ? 503 : 200;
	} else {
		rc = ms_glue_metrics(g, &resp->body);
		resp->status = rc < 0 ? 500 : 200;
	}
	resp->content_type = strcmp(req->path, "/metrics") == 0
				     ? "text/plain; version=0.0.4; charset=utf-8"
				     : "text/plain; charset=utf-8";
	return 1;
}

static void begin_call(ms_glue *g, glue_call *c, ms_buf *text)
{
	pthread_mutex_lock(&g->lock);
	g->in_flight++;
	pthread_mutex_unlock(&g->lock);
	memset(c, 0, sizeof(*c));
	c->server = g;
	ms_buf_init(text, MS_HTTP_API_BODY_MAX);
	c->text = text;
}

/* Give the catalog back, answer, log and count the call. */
static void end_call(glue_call *c, ms_http_response *resp, size_t op_index, double t0)
{
	ms_glue *g = c->server;
	char rid[37];

	request_id(rid);
	if (c->cat) {
		/* a catalog left inside a failed transaction is closed, not pooled */
		if (c->etype && c->status >= 500) {
			ms_catalog_close(c->cat);
			c->cat = NULL;
		}
		pool_give(g, c->catalog_id, c->cat);
	}
	answer(c, resp, rid);
	log_call(g, c, rid, resp->close ? 0 : resp->status, ms_mono_s() - t0);
	account_metrics(g, op_index, c->etype, ms_mono_s() - t0);
	cJSON_Delete(c->in);
	cJSON_Delete(c->out);
	ms_buf_free(c->text);
}

void ms_glue_handle(const ms_http_request *req, ms_http_response *resp, void *ctx)
{
	ms_glue *g = ctx;
	glue_call c;
	size_t op_index = MAX_OPS;
	ms_buf text;
	double t0 = ms_mono_s();

	if (health_or_metrics(g, req, resp))
		return;
	begin_call(g, &c, &text);
	serve_call(&c, req, resp, &op_index);
	end_call(&c, resp, op_index, t0);
}

void ms_glue_call_as(ms_glue *g, const char *account, const char *operation, const char *body,
		     size_t len, ms_http_response *resp)
{
	glue_call c;
	size_t op_index = MAX_OPS;
	const glue_op *op;
	ms_buf text;
	char name[GLUE_OP_NAME_MAX];
	double t0 = ms_mono_s();

	begin_call(g, &c, &text);
	c.caller = account;
	snprintf(c.region, sizeof(c.region), "us-east-1");
	snprintf(name, sizeof(name), "%s", operation);
	op = find_op(g, name, &op_index);
	c.op = op ? op->name : "Unknown";
	run_op(&c, op, name, body, len);
	end_call(&c, resp, op_index, t0);
}

/* ---- metrics and health ------------------------------------------------- */

int ms_glue_metrics(ms_glue *g, ms_buf *out)
{
	size_t i, t, b;
	unsigned long long cum = 0;
	int rc = 0;

	pthread_mutex_lock(&g->lock);
	rc |= ms_buf_adds(out, "# HELP metasync_glue_requests_total Requests answered, by "
			       "operation and error type (\"\" when none).\n"
			       "# TYPE metasync_glue_requests_total counter\n");
	for (i = 0; i <= MAX_OPS; i++) {
		const char *name = i < g->nops ? g->ops[i]->name : i == MAX_OPS ? "Unknown" : NULL;

		if (!name)
			continue;
		for (t = 0; t < NTYPES; t++)
			if (g->count[i][t])
				rc |= ms_buf_printf(out,
						    "metasync_glue_requests_total{operation=\"%s\","
						    "error=\"%s\"} %llu\n",
						    name, metric_types[t], g->count[i][t]);
	}
	rc |= ms_buf_adds(out, "# HELP metasync_glue_request_seconds Time to answer a request.\n"
			       "# TYPE metasync_glue_request_seconds histogram\n");
	for (b = 0; b <= NBUCKETS; b++) {
		cum += g->hist[b];
		if (b < NBUCKETS)
			rc |= ms_buf_printf(out,
					    "metasync_glue_request_seconds_bucket{le=\"%g\"} "
					    "%llu\n",
					    buckets[b], cum);
		else
			rc |= ms_buf_printf(out,
					    "metasync_glue_request_seconds_bucket{le=\"+Inf\"} "
					    "%llu\n",
					    cum);
	}
	rc |= ms_buf_printf(out,
			    "metasync_glue_request_seconds_sum %.6f\n"
			    "metasync_glue_request_seconds_count %llu\n",
			    g->seconds_sum, g->hist_count);
	rc |= ms_buf_printf(out,
			    "# HELP metasync_glue_in_flight Requests being answered.\n"
			    "# TYPE metasync_glue_in_flight gauge\nmetasync_glue_in_flight %ld\n",
			    g->in_flight);
	pthread_mutex_unlock(&g->lock);
	return rc < 0 ? MS_ENOMEM : 0;
}

int ms_glue_health(ms_glue *g, ms_buf *out)
{
	ms_catalog *cat = NULL;
	ms_error err;
	const char *id = g->o.accounts->accounts[0].id;
	int rc;

	ms_error_clear(&err);
	if ((rc = pool_take(g, id, &cat, &err)) < 0) {
		ms_buf_printf(out, "catalog: %s\n", err.message);
		return MS_ERROR;
	}
	pool_give(g, id, cat);
	ms_buf_adds(out, "ok\n");
	return 0;
}
