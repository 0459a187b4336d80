/*
 * The plumbing under the S3 store: one signed request with its retries, and
 * the encoding, hashing and XML reading around it (the settings are in
 * s3_creds.c).  Signing is libcurl's own SigV4
 * (CURLOPT_AWS_SIGV4); this file only supplies x-amz-content-sha256, the
 * SHA-256 of every payload, so that nothing goes out as UNSIGNED-PAYLOAD.
 * S3's answers are XML, read with expat.  Secrets live only in s3_conf and
 * in curl's handle: no message built here can contain them.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <expat.h>
#include <openssl/evp.h>

#include "util/url.h"
#include "aws/aws_creds.h"
#include "s3_internal.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000
#define ERROR_BODY_MAX ((size_t)64 << 10)
#define XML_TEXT_MAX ((size_t)64 << 10)
#define XML_DEPTH_MAX 32

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

int s3_http_init(void)
{
	return ms_aws_curl_init();
}

/* ------------------------------------------------------------------------ */
/* Encoding, hashing, XML                                                  */

int s3_encode(ms_buf *b, const char *text, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p; p++) {
		int rc;

		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
		    (keep_slash && *p == '/')) {
			rc = ms_buf_addc(b, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			rc = ms_buf_add(b, e, 3);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

void s3_sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

typedef struct xml_state {
	s3_xml_cb cb;
	void *ctx;
	char names[XML_DEPTH_MAX][64];
	int depth;
	ms_buf text;
} xml_state;

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	xml_state *x = ud;

	(void)attrs;
	if (x->depth < XML_DEPTH_MAX)
		snprintf(x->names[x->depth], sizeof(x->names[0]), "%s", name);
	x->depth++;
	ms_buf_reset(&x->text);
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
	xml_state *x = ud;
	const char *parent = x->depth >= 2 && x->depth - 2 < XML_DEPTH_MAX ? x->names[x->depth - 2]
									   : "";

	x->cb(parent, name, ms_buf_cstr(&x->text), x->ctx);
	ms_buf_reset(&x->text);
	x->depth--;
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
	xml_state *x = ud;

	/* Past the cap the text is cut short; no value S3 sends comes near it. */
	(void)ms_buf_add(&x->text, s, (size_t)len);
}

int s3_xml_parse(const char *body, size_t len, s3_xml_cb cb, void *ctx, ms_error *err)
{
	xml_state x = { .cb = cb, .ctx = ctx };
	XML_Parser p = XML_ParserCreate("UTF-8");
	int rc = 0;

	if (!p)
		return oom(err);
	ms_buf_init(&x.text, XML_TEXT_MAX);
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, xml_start, xml_end);
	XML_SetCharacterDataHandler(p, xml_chars);
	if (len > (size_t)INT32_MAX || XML_Parse(p, body, (int)len, 1) != XML_STATUS_OK) {
		rc = ms_error_set(err, MS_EBACKEND, "s3 answered with malformed xml");
		ms_error_detail(err, "%s at line %lu", XML_ErrorString(XML_GetErrorCode(p)),
				(unsigned long)XML_GetCurrentLineNumber(p));
	}
	XML_ParserFree(p);
	ms_buf_free(&x.text);
	return rc;
}

typedef struct err_body {
	char code[64];
	char message[256];
} err_body;

static void err_cb(const char *parent, const char *name, const char *text, void *ctx)
{
	err_body *e = ctx;

	if (strcmp(parent, "Error") != 0)
		return;
	if (strcmp(name, "Code") == 0)
		snprintf(e->code, sizeof(e->code), "%s", text);
	else if (strcmp(name, "Message") == 0)
		snprintf(e->message, sizeof(e->message), "%s", text);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                */

static CURL *handle_take(s3_conf *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->npool > 0)
		h = c->pool[--c->npool];
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_reset(h);
	else
		h = curl_easy_init();
	return h;
}

void s3_http_pool_free(s3_conf *c)
{
	int i;

	for (i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	c->npool = 0;
}

static void handle_give(s3_conf *c, CURL *h, int reusable)
{
	if (reusable) {
		pthread_mutex_lock(&c->lock);
		if (c->npool < S3_POOL_MAX) {
			c->pool[c->npool++] = h;
			h = NULL;
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (h)
		curl_easy_cleanup(h);
}

typedef struct xfer {
	s3_req *r;
	CURL *h;
	const char *body;
	size_t body_len, sent;
	ms_buf errbody;
	int too_big;
} xfer;

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t want = size * n, left = x->body_len - x->sent;

	if (want > left)
		want = left;
	memcpy(dst, x->body + x->sent, want);
	x->sent += want;
	return want;
}

/* curl rewinds the payload to send it again (a redirect, a reused connection lost). */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
	xfer *x = ud;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t on_write(char *src, size_t size, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300) {
		(void)ms_buf_add(&x->errbody, src, len);
		return len;
	}
	if (!x->r->out)
		return len;
	if (ms_buf_add(x->r->out, src, len) < 0) {
		x->too_big = 1;
		return 0;
	}
	return len;
}

static int retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

static int retryable_status(long s)
{
	return (s >= 500 && s != 501) || s == 408 || s == 429; /* 501: not implemented, for good */
}

/* Sleep before attempt n + 1: exponential, capped, with full jitter above half. */
static void backoff(int n)
{
	long ceiling = BACKOFF_BASE_MS, ms;
	struct timespec ts;
	unsigned int seed;

	while (--n > 0 && ceiling < BACKOFF_CAP_MS)
		ceiling *= 2;
	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (unsigned int)ts.tv_nsec ^ (unsigned int)pthread_self();
	ms = ceiling / 2 + (long)(rand_r(&seed) % (unsigned int)(ceiling / 2 + 1));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int build_url(s3_conf *c, const s3_req *r, ms_buf *u)
{
	const char *ep = c->endpoint;
	int rc = 0;

	if (c->path_style) {
		rc = ms_buf_printf(u, "%s/", ep);
		if (rc == 0)
			rc = s3_encode(u, c->bucket, 0);
		if (rc == 0 && r->key)
			rc = ms_buf_addc(u, '/');
	} else {
		const char *host = strstr(ep, "://");

		host = host ? host + 3 : ep;
		rc = ms_buf_printf(u, "%.*s%s.%s/", (int)(host - ep), ep, c->bucket, host);
	}
	if (rc == 0 && r->key)
		rc = s3_encode(u, r->key, 1);
	if (rc == 0 && r->query)
		rc = ms_buf_printf(u, "?%s", r->query);
	return rc;
}

static const char *status_name(long s)
{
	switch (s) {
	case 301:
		return "PermanentRedirect";
	case 400:
		return "BadRequest";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 409:
		return "Conflict";
	case 412:
		return "PreconditionFailed";
	case 416:
		return "InvalidRange";
	case 500:
		return "InternalError";
	case 503:
		return "ServiceUnavailable";
	default:
		return "HttpError";
	}
}

static const char *hint(const char *code, long status)
{
	if (strcmp(code, "InvalidAccessKeyId") == 0 || strcmp(code, "SignatureDoesNotMatch") == 0 ||
	    strcmp(code, "ExpiredToken") == 0 || strcmp(code, "InvalidToken") == 0)
		return ": check the aws credentials";
	if (strcmp(code, "AccessDenied") == 0 || (status == 403 && !code[0]))
		return ": access denied or wrong aws credentials";
	if (strcmp(code, "NoSuchBucket") == 0)
		return ": the bucket does not exist";
	if (strcmp(code, "PermanentRedirect") == 0 ||
	    strcmp(code, "AuthorizationHeaderMalformed") == 0)
		return ": the bucket is in another region (set ?region=)";
	return "";
}

/* One attempt; returns the curl code and fills r's results. */
static CURLcode perform(s3_conf *c, s3_req *r, const char *url, xfer *x, struct curl_slist *hdrs,
			const ms_aws_keys *k)
{
	CURL *h = x->h;
	CURLcode cc;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, k->access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, k->secret_key);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->low_speed_time);
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "DELETE") == 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	x->sent = 0;
	x->too_big = 0;
	ms_buf_reset(&x->errbody);
	if (r->out)
		ms_buf_reset(r->out);
	cc = curl_easy_perform(h);
	r->status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	return cc;
}

static void read_headers(CURL *h, s3_req *r)
{
	struct curl_header *hd;
	curl_off_t len = -1, ft = -1;

	r->etag[0] = '\0';
	if (curl_easy_header(h, "ETag", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK)
		snprintf(r->etag, sizeof(r->etag), "%s", hd->value);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len) == CURLE_OK && len >= 0)
		r->length = (uint64_t)len;
	if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft) == CURLE_OK && ft > 0)
		r->mtime = (int64_t)ft;
	r->has_range_total = 0;
	if (curl_easy_header(h, "Content-Range", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK) {
		const char *slash = strrchr(hd->value, '/');

		if (slash && isdigit((unsigned char)slash[1])) {
			r->range_total = strtoull(slash + 1, NULL, 10);
			r->has_range_total = 1;
		}
	}
}

/* 1 when the answer's Content-Range gives the object's size as 0. */
static int empty_range(CURL *h)
{
	struct curl_header *hd;
	const char *slash;

	if (curl_easy_header(h, "Content-Range", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return 0;
	slash = strrchr(hd->value, '/');
	return slash && strcmp(slash + 1, "0") == 0;
}

int s3_request(s3_conf *c, s3_req *r, ms_error *err)
{
	ms_buf url = MS_BUF_INIT(16384), hb = MS_BUF_INIT(16384);
	struct curl_slist *hdrs = NULL, *nh;
	xfer x = { .r = r, .body = r->body, .body_len = r->body_len };
	char sha[65], cerr[CURL_ERROR_SIZE];
	ms_aws_keys keys;
	const char *shown = r->shown_key ? r->shown_key : "";
	CURLcode cc = CURLE_OK;
	int rc = 0, reusable = 1;

	r->code[0] = '\0';
	r->status = 0;
	r->attempts = 0;
	ms_buf_init(&x.errbody, ERROR_BODY_MAX);
	if (build_url(c, r, &url) < 0) {
		rc = ms_error_set(err, MS_EINVAL,
				  "s3 url for key '%.200s' in bucket '%s' is too long", shown,
				  c->bucket);
		goto done;
	}
	s3_sha256_hex(r->body, r->body_len, sha);
#define ADD_HEADER(...) \
	do { \
		ms_buf_reset(&hb); \
		if (ms_buf_printf(&hb, __VA_ARGS__) < 0 || \
		    !(nh = curl_slist_append(hdrs, hb.ptr))) { \
			rc = oom(err); \
			goto done; \
		} \
		hdrs = nh; \
	} while (0)
	ADD_HEADER("x-amz-content-sha256: %s", sha);
	if ((rc = ms_aws_creds_get(c->creds, &keys, err)) < 0)
		goto done;
	if (keys.session_token[0])
		ADD_HEADER("x-amz-security-token: %s", keys.session_token);
	if (r->content_type)
		ADD_HEADER("Content-Type: %s", r->content_type);
	else if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0)
		ADD_HEADER("Content-Type: application/octet-stream");
	if (r->range)
		ADD_HEADER("Range: %s", r->range);
	if (r->if_match)
		ADD_HEADER("If-Match: %s", r->if_match);
	ADD_HEADER("Expect:");
#undef ADD_HEADER
	if (!(x.h = handle_take(c))) {
		rc = oom(err);
		goto done;
	}
	curl_easy_setopt(x.h, CURLOPT_ERRORBUFFER, cerr);
	for (r->attempts = 1;; r->attempts++) {
		cerr[0] = '\0';
		cc = perform(c, r, url.ptr, &x, hdrs, &keys);
		if ((cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR) && r->status == 206 &&
		    empty_range(x.h)) {
			/*
			 * Some servers (s3rver) answer a range of an empty object with
			 * "bytes 0-0/0" and a body they never send: that is an empty object.
			 */
			cc = CURLE_OK;
			if (r->out)
				ms_buf_reset(r->out);
			break;
		}
		if (cc == CURLE_OK && !retryable_status(r->status))
			break;
		if (cc != CURLE_OK && !retryable_curl(cc))
			break;
		if (r->attempts >= c->max_attempts)
			break;
		/* A connection the server dropped is not worth keeping. */
		backoff(r->attempts);
	}
	curl_easy_setopt(x.h, CURLOPT_ERRORBUFFER, NULL);
	if (c->trace)
		fprintf(stderr, "metasync: s3 %s %s%s%s%s%s -> %ld (curl %d, %d attempt%s)\n",
			r->method, r->shown_key ? r->shown_key : "", r->query ? " ?" : "",
			r->query ? r->query : "", r->range ? " " : "", r->range ? r->range : "",
			r->status, (int)cc, r->attempts, r->attempts == 1 ? "" : "s");
	if (cc != CURLE_OK) {
		reusable = 0;
		if (x.too_big) {
			rc = ms_error_set(err, MS_ETOOBIG,
					  "s3 answer to %s key '%s' in bucket '%s' is larger than "
					  "%zu bytes",
					  r->verb, shown, c->bucket, r->out ? r->out->cap : 0);
			goto done;
		}
		rc = ms_error_set(err, MS_EIO,
				  "cannot %s key '%s' in bucket '%s': endpoint '%s' %s", r->verb,
				  shown, c->bucket, c->endpoint_shown,
				  cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST
					  ? "is unreachable"
					  : "failed");
		ms_error_detail(err, "%s after %d attempt%s",
				cerr[0] ? cerr : curl_easy_strerror(cc), r->attempts,
				r->attempts == 1 ? "" : "s");
		if (err)
			snprintf(err->backend_code, sizeof(err->backend_code), "curl:%d", (int)cc);
		goto done;
	}
	read_headers(x.h, r);
	if (r->status >= 200 && r->status < 300)
		goto done;
	{
		err_body e = { { 0 }, { 0 } };

		if (x.errbody.len > 0)
			(void)s3_xml_parse(x.errbody.ptr, x.errbody.len, err_cb, &e, NULL);
		snprintf(r->code, sizeof(r->code), "%s",
			 e.code[0] ? e.code : status_name(r->status));
		if (r->status == 404 && (strcmp(r->code, "NoSuchKey") == 0 ||
					 (strcmp(r->method, "HEAD") == 0 && !e.code[0]) ||
					 strcmp(r->code, "NotFound") == 0))
			rc = ms_error_set(err, MS_ENOTFOUND, "key '%s' not found in bucket '%s'",
					  shown, c->bucket);
		else
			rc = ms_error_set(err, MS_EBACKEND,
					  "cannot %s key '%s' in bucket '%s': %s (http %ld)%s",
					  r->verb, shown, c->bucket, r->code, r->status,
					  hint(e.code, r->status));
		if (e.message[0])
			ms_error_detail(err, "%s", e.message);
		if (err)
			snprintf(err->backend_code, sizeof(err->backend_code), "%ld", r->status);
	}
done:
	if (x.h)
		handle_give(c, x.h, reusable);
	curl_slist_free_all(hdrs);
	ms_buf_free(&x.errbody);
	ms_buf_free(&url);
	ms_buf_free(&hb);
	ms_aws_keys_wipe(&keys);
	return rc;
}
