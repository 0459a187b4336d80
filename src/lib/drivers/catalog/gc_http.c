/*
 * The glue:// driver's HTTP client: the Glue API's JSON 1.1 protocol (POST /,
 * X-Amz-Target: AWSGlue.<Operation>), signed with SigV4 by libcurl
 * (CURLOPT_AWS_SIGV4) with the keys of the shared credential chain, many
 * requests in flight on one libcurl multi handle driven by the calling
 * thread.
 *
 * Faults: throttling (ThrottlingException, 429), Glue's 5xx, timeouts and
 * dropped connections are tried again, up to max_attempts, after an
 * exponential backoff with full jitter.  Anything else (access denied,
 * validation, a missing entity) is the request's final answer.
 *
 * Rate: with no throttling seen and no rate= cap, requests start as fast as
 * `parallel` allows.  A throttled answer sets the rate to 0.8 times the rate
 * of the last second; each answer that is not throttled raises it a little
 * (additive increase, multiplicative decrease), never above rate=.  Requests
 * start from a token bucket of a tenth of a second, so that a large import
 * runs near the account's quota instead of drowning in retries.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glue_internal.h"
#include "util/url.h"
#include "util/clock.h"

#define DEFAULT_ATTEMPTS 8
#define BACKOFF_BASE 0.1 /* seconds */
#define BACKOFF_CAP 20.0
#define RATE_FLOOR 1.0
#define RATE_CUT 0.8   /* the rate after a throttled answer, times the rate before */
#define RATE_STEP 0.08 /* requests per second gained per clear answer */

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	gc_req *r = ctx;
	size_t n = size * nmemb;

	return ms_buf_add(&r->answer, data, n) < 0 ? 0 : n;
}

gc_req *gc_req_new(const char *op, char *body)
{
	gc_req *r = calloc(1, sizeof(*r));

	if (!r) {
		free(body);
		return NULL;
	}
	r->op = op;
	r->body = body;
	ms_buf_init(&r->answer, GC_ANSWER_MAX);
	return r;
}

void gc_req_free(gc_req *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->tag);
	ms_buf_free(&r->answer);
	curl_slist_free_all(r->hdrs);
	free(r);
}

int gc_req_pending(gc_client *c, void *ctx)
{
	(void)c;
	return !((gc_req *)ctx)->done;
}

void gc_req_drop(gc_client *c, gc_req *r)
{
	ms_error err;

	if (!r)
		return;
	ms_error_clear(&err);
	if (!r->done)
		gc_pump(c, gc_req_pending, r, &err);
	/* one libcurl could not finish stays (in its queue): never freed under it */
	if (r->done)
		gc_req_free(r);
}

static CURL *handle_take(gc_client *c)
{
	if (c->npool > 0)
		return c->pool[--c->npool];
	return curl_easy_init();
}

static void handle_give(gc_client *c, CURL *h, int reusable)
{
	if (reusable && c->npool < GC_POOL_MAX) {
		curl_easy_reset(h);
		c->pool[c->npool++] = h;
	} else {
		curl_easy_cleanup(h);
	}
}

/* ---- rate ---------------------------------------------------------------- */

static void count_start(gc_client *c, double t)
{
	gc_rate *q = c->rate;

	pthread_mutex_lock(&q->mu);
	if (t - q->window_start >= 1.0) {
		q->last_rate = t - q->window_start < 2.0 ? q->window_count : 0;
		q->window_start = t;
		q->window_count = 0;
	}
	q->window_count++;
	pthread_mutex_unlock(&q->mu);
}

int gc_client_rate_limited(gc_client *c)
{
	int limited;

	pthread_mutex_lock(&c->rate->mu);
	limited = c->rate->rate > 0 || c->rate->cap > 0;
	pthread_mutex_unlock(&c->rate->mu);
	return limited;
}

/* Seconds until a request may start by the rate (0: now; takes a token). */
static double rate_wait(gc_client *c, double t)
{
	gc_rate *q = c->rate;
	double rate, burst, wait = 0;

	pthread_mutex_lock(&q->mu);
	rate = q->rate > 0 ? q->rate : q->cap;
	if (rate > 0) {
		burst = rate / 10 < 1 ? 1 : rate / 10;
		q->tokens += (t - q->last_refill) * rate;
		q->last_refill = t;
		if (q->tokens > burst)
			q->tokens = burst;
		if (q->tokens >= 1)
			q->tokens -= 1;
		else
			wait = (1 - q->tokens) / rate;
	}
	pthread_mutex_unlock(&q->mu);
	return wait;
}

/*
 * A throttled answer.  Only one cut per round: answers to requests that
 * started before the last cut say nothing about the rate since.
 */
static void rate_throttled(gc_client *c, const gc_req *r)
{
	gc_rate *q = c->rate;
	double base;

	c->throttled++;
	pthread_mutex_lock(&q->mu);
	base = q->rate > 0 ? q->rate : q->last_rate > 0 ? q->last_rate : q->window_count;
	if (r->started >= q->cut_at) {
		q->cut_at = ms_mono_s();
		q->rate = base * RATE_CUT < RATE_FLOOR ? RATE_FLOOR : base * RATE_CUT;
		if (q->cap > 0 && q->rate > q->cap)
			q->rate = q->cap;
		if (q->tokens > 0)
			q->tokens = 0;
	}
	pthread_mutex_unlock(&q->mu);
}

static void rate_clear(gc_client *c)
{
	gc_rate *q = c->rate;

	pthread_mutex_lock(&q->mu);
	if (q->rate > 0) {
		q->rate += RATE_STEP;
		if (q->cap > 0 && q->rate > q->cap)
			q->rate = q->cap;
	}
	pthread_mutex_unlock(&q->mu);
}

static gc_rate *rate_new(void)
{
	gc_rate *q = calloc(1, sizeof(*q));

	if (q) {
		pthread_mutex_init(&q->mu, NULL);
		q->refs = 1;
	}
	return q;
}

static void rate_release(gc_rate *q)
{
	int last;

	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->mu);
	if (last) {
		pthread_mutex_destroy(&q->mu);
		free(q);
	}
}

void gc_client_share_rate(gc_client *c, gc_client *from)
{
	gc_rate *q = from->rate;

	pthread_mutex_lock(&q->mu);
	q->refs++;
	pthread_mutex_unlock(&q->mu);
	rate_release(c->rate);
	c->rate = q;
}

void gc_client_rate_cap(gc_client *c, double cap)
{
	pthread_mutex_lock(&c->rate->mu);
	c->rate->cap = cap;
	pthread_mutex_unlock(&c->rate->mu);
}

/* ---- requests ------------------------------------------------------------ */

void gc_submit(gc_client *c, gc_req *r)
{
	r->next = NULL;
	r->done = 0;
	if (c->wait_tail)
		c->wait_tail->next = r;
	else
		c->wait_head = r;
	c->wait_tail = r;
}

int gc_busy(const gc_client *c)
{
	return c->running > 0 || c->wait_head != NULL;
}

static int start(gc_client *c, gc_req *r, ms_error *err)
{
	ms_aws_keys keys;
	char line[MS_AWS_TOKEN_MAX + 64];
	struct curl_slist *h = NULL, *n;
	int rc;

	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	ms_buf_reset(&r->answer);
	r->type[0] = r->message[0] = r->curl_error[0] = '\0';
	r->status = 0;
	if ((rc = ms_aws_creds_get(c->creds, &keys, err)) < 0)
		return rc;
	snprintf(line, sizeof(line), "X-Amz-Target: AWSGlue.%s", r->op);
	if (!(n = curl_slist_append(h, line)))
		goto nomem;
	h = n;
	if (!(n = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1")))
		goto nomem;
	h = n;
	if (keys.session_token[0]) {
		snprintf(line, sizeof(line), "X-Amz-Security-Token: %s", keys.session_token);
		if (!(n = curl_slist_append(h, line)))
			goto nomem;
		h = n;
	}
	if (!(r->h = handle_take(c)))
		goto nomem;
	r->hdrs = h;
	curl_easy_setopt(r->h, CURLOPT_URL, c->endpoint);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_AWS_SIGV4, c->sigv4);
	curl_easy_setopt(r->h, CURLOPT_USERNAME, keys.access_key);
	curl_easy_setopt(r->h, CURLOPT_PASSWORD, keys.secret_key);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->h, CURLOPT_POST, 1L);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT, c->timeout < 10 ? c->timeout : 10L);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT, c->timeout);
	/* (No "Expect:" header to drop 100-continue: libcurl would sign it, empty.) */
	curl_easy_setopt(r->h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
	ms_aws_keys_wipe(&keys);
	if (curl_multi_add_handle(c->multi, r->h) != CURLM_OK) {
		handle_give(c, r->h, 0);
		r->h = NULL;
		return ms_error_set(err, MS_EIO, "%s: cannot start a request", c->subject);
	}
	r->attempts++;
	r->started = ms_mono_s();
	c->running++;
	c->requests++;
	if (c->trace)
		fprintf(stderr, "glue: > %s (attempt %d, %d in flight) %.3f\n", r->op, r->attempts,
			c->running, r->started);
	if (r->attempts > 1)
		c->retried++;
	return 0;
nomem:
	ms_aws_keys_wipe(&keys);
	curl_slist_free_all(h);
	return oom(err);
}

/* The short error type of an answer: "...#ThrottlingException:http://..." -> "ThrottlingException". */
static void read_error(gc_req *r)
{
	cJSON *doc = cJSON_ParseWithLength(r->answer.ptr ? r->answer.ptr : "", r->answer.len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "__type");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "Message");
	const char *s, *hash;
	size_t n;

	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	if (cJSON_IsString(t)) {
		s = t->valuestring;
		if ((hash = strrchr(s, '#')))
			s = hash + 1;
		n = strcspn(s, ":");
		snprintf(r->type, sizeof(r->type), "%.*s", (int)(n < 95 ? n : 95), s);
	} else {
		snprintf(r->type, sizeof(r->type), "HTTP %ld", r->status);
	}
	if (cJSON_IsString(m))
		snprintf(r->message, sizeof(r->message), "%s", m->valuestring);
	cJSON_Delete(doc);
}

static int retryable(const gc_req *r, CURLcode cc, int *throttled)
{
	*throttled = 0;
	if (cc != CURLE_OK)
		return 1;
	if (r->status == 429 || strcmp(r->type, "ThrottlingException") == 0 ||
	    strcmp(r->type, "TooManyRequestsException") == 0 ||
	    strcmp(r->type, "RequestLimitExceeded") == 0) {
		*throttled = 1;
		return 1;
	}
	return r->status >= 500 || strcmp(r->type, "InternalServiceException") == 0 ||
	       strcmp(r->type, "OperationTimeoutException") == 0 ||
	       strcmp(r->type, "RequestTimeout") == 0;
}

static void finish(gc_client *c, gc_req *r)
{
	r->done = 1;
	if (r->on_done)
		r->on_done(c, r);
}

/* A request that came back: done, or queued again after its backoff. */
static void completed(gc_client *c, gc_req *r, CURLcode cc)
{
	int throttled, reusable = cc == CURLE_OK;

	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_multi_remove_handle(c->multi, r->h);
	handle_give(c, r->h, reusable);
	r->h = NULL;
	c->running--;
	if (cc == CURLE_OK && r->status >= 200 && r->status < 300) {
		rate_clear(c);
		if (c->trace)
			fprintf(stderr, "glue: %s %ld (attempt %d) %.3f\n", r->op, r->status,
				r->attempts, ms_mono_s());
		finish(c, r);
		return;
	}
	if (cc == CURLE_OK) {
		read_error(r);
	} else {
		snprintf(r->type, sizeof(r->type), "connection");
		snprintf(r->message, sizeof(r->message), "%s",
			 r->curl_error[0] ? r->curl_error : curl_easy_strerror(cc));
	}
	if (c->trace)
		fprintf(stderr, "glue: %s %ld %s (attempt %d) %.3f\n", r->op, r->status, r->type,
			r->attempts, ms_mono_s());
	if (retryable(r, cc, &throttled) && r->attempts < c->max_attempts) {
		double cap = BACKOFF_BASE * pow(2, r->attempts - 1);

		if (throttled)
			rate_throttled(c, r);
		if (cap > BACKOFF_CAP)
			cap = BACKOFF_CAP;
		r->not_before = ms_mono_s() + cap * ((double)random() / RAND_MAX);
		gc_submit(c, r);
		return;
	}
	if (!throttled)
		rate_clear(c);
	finish(c, r);
}

/* Start what may start now; *next_s: seconds until something may start later. */
static int start_ready(gc_client *c, double *next_s, ms_error *err)
{
	gc_req **pp = &c->wait_head, *r, *prev = NULL;
	double t = ms_mono_s();
	int rc;

	*next_s = 1.0;
	while ((r = *pp) && c->running < c->parallel) {
		double wait = r->not_before > t ? r->not_before - t : 0;

		if (wait == 0)
			wait = rate_wait(c, t);
		if (wait > 0) {
			if (wait < *next_s)
				*next_s = wait;
			prev = r;
			pp = &r->next;
			if (gc_client_rate_limited(c))
				break; /* keep the order while the rate holds them back */
			continue;
		}
		*pp = r->next;
		if (c->wait_tail == r)
			c->wait_tail = prev;
		r->next = NULL;
		count_start(c, t);
		if ((rc = start(c, r, err)) < 0) {
			snprintf(r->type, sizeof(r->type), "credentials");
			snprintf(r->message, sizeof(r->message), "%s", err->message);
			finish(c, r);
			return rc;
		}
	}
	return 0;
}

int gc_kick(gc_client *c, ms_error *err)
{
	double next_s;
	int still, rc;

	if (!c->wait_head || c->running >= c->parallel)
		return 0;
	if ((rc = start_ready(c, &next_s, err)) < 0)
		return rc;
	if (curl_multi_perform(c->multi, &still) != CURLM_OK)
		return ms_error_set(err, MS_EIO, "%s: libcurl failed", c->subject);
	return 0;
}

/* Start what may start, move every transfer on as far as it goes now, and take what came back. */
static int step(gc_client *c, double *next_s, ms_error *err)
{
	CURLMsg *m;
	int still, left, rc;

	if ((rc = start_ready(c, next_s, err)) < 0)
		return rc;
	if (curl_multi_perform(c->multi, &still) != CURLM_OK)
		return ms_error_set(err, MS_EIO, "%s: libcurl failed", c->subject);
	while ((m = curl_multi_info_read(c->multi, &left))) {
		gc_req *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		completed(c, r, m->data.result);
	}
	return 0;
}

int gc_progress(gc_client *c, ms_error *err)
{
	double next_s;

	return c->running > 0 || c->wait_head ? step(c, &next_s, err) : 0;
}

int gc_pump(gc_client *c, int (*wait)(gc_client *c, void *ctx), void *ctx, ms_error *err)
{
	int rc;

	for (;;) {
		double next_s;

		if (wait ? !wait(c, ctx) : !gc_busy(c))
			return gc_kick(c, err); /* what waits to go goes now */
		if ((rc = step(c, &next_s, err)) < 0)
			return rc;
		if (wait ? !wait(c, ctx) : !gc_busy(c))
			return gc_kick(c, err);
		if (c->running > 0 || next_s > 0) {
			int ms = (int)(next_s * 1000) + 1;

			if (ms > 100)
				ms = 100;
			if (curl_multi_poll(c->multi, NULL, 0, ms, NULL) != CURLM_OK)
				return ms_error_set(err, MS_EIO, "%s: libcurl failed", c->subject);
		}
	}
}

static int req_done(gc_client *c, void *ctx)
{
	(void)c;
	return !((gc_req *)ctx)->done;
}

int gc_code_of(const gc_req *r)
{
	static const struct {
		const char *type;
		int code;
	} map[] = {
		{ "EntityNotFoundException", MS_ENOTFOUND },
		{ "AlreadyExistsException", MS_EEXISTS },
		{ "ConcurrentModificationException", MS_ECONFLICT },
		{ "InvalidInputException", MS_EINVAL },
		{ "ValidationException", MS_EINVAL },
		{ "connection", MS_EIO },
		{ "ThrottlingException", MS_EIO },
		{ "InternalServiceException", MS_EIO },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(r->type, map[i].type) == 0)
			return map[i].code;
	return r->status >= 500 ? MS_EIO : MS_EBACKEND;
}

int gc_fail(const gc_client *c, const gc_req *r, const char *what, ms_error *err)
{
	int code = gc_code_of(r);

	ms_error_set(err, code, "%s: %s of %s: %s%s%s", c->subject, r->op, what, r->type,
		     r->message[0] ? ": " : "", r->message);
	if (r->attempts > 1)
		ms_error_detail(err, "after %d attempts", r->attempts);
	snprintf(err->backend_code, sizeof(err->backend_code), "%.15s", r->type);
	return code;
}

int gc_answer(const gc_client *c, const gc_req *r, const char *what, cJSON **ans, ms_error *err)
{
	cJSON *doc;

	if (ans)
		*ans = NULL;
	if (r->status < 200 || r->status >= 300 || r->type[0])
		return gc_fail(c, r, what, err);
	if (!ans)
		return 0;
	if (!(doc = cJSON_ParseWithLength(r->answer.ptr ? r->answer.ptr : "{}",
					  r->answer.ptr ? r->answer.len : 2)))
		return ms_error_set(err, MS_EBACKEND, "%s: the answer to %s of %s is not JSON",
				    c->subject, r->op, what);
	*ans = doc;
	return 0;
}

gc_req *gc_ask(gc_client *c, const char *op, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	gc_req *r;

	cJSON_Delete(body);
	if (!text || !(r = gc_req_new(op, text)))
		return NULL;
	gc_submit(c, r);
	return r;
}

int gc_asked(gc_client *c, gc_req *r, cJSON **answer, const char *what, ms_error *err)
{
	int rc = gc_pump(c, req_done, r, err);

	if (answer)
		*answer = NULL;
	if (rc == 0 && !r->done)
		rc = ms_error_set(err, MS_EIO, "%s: %s of %s did not finish", c->subject, r->op,
				  what);
	if (rc == 0)
		rc = gc_answer(c, r, what, answer, err);
	if (rc < 0 && r->h) {
		/* Interrupted while in flight: take it back from libcurl. */
		curl_multi_remove_handle(c->multi, r->h);
		handle_give(c, r->h, 0);
		r->h = NULL;
		c->running--;
	}
	if (rc < 0 && !r->done) {
		/* still queued: unlink it */
		gc_req **pp = &c->wait_head, *prev = NULL;

		while (*pp && *pp != r) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		if (*pp) {
			*pp = r->next;
			if (c->wait_tail == r)
				c->wait_tail = prev;
		}
	}
	gc_req_free(r);
	return rc;
}

int gc_call(gc_client *c, const char *op, cJSON *body, cJSON **answer, const char *what,
	    ms_error *err)
{
	gc_req *r = gc_ask(c, op, body);

	if (answer)
		*answer = NULL;
	return r ? gc_asked(c, r, answer, what, err) : oom(err);
}

/* endpoint=: an http(s) URL with a host and nothing after it but "/". */
static int set_endpoint(gc_client *c, const char *text, ms_error *err)
{
	ms_url *u = NULL;
	int rc;

	if ((rc = ms_url_parse(&u, text, err)) < 0)
		return rc;
	if ((strcmp(u->scheme, "http") != 0 && strcmp(u->scheme, "https") != 0) || !u->host ||
	    !u->host[0] || (u->path[0] && strcmp(u->path, "/") != 0) || u->nparams || u->user ||
	    u->password) {
		rc = ms_error_set(err, MS_EINVAL,
				  "glue endpoint '%s' is not an http or https url with only a host",
				  u->redacted);
		ms_url_free(u);
		return rc;
	}
	c->endpoint = strdup(text);
	c->endpoint_shown = strdup(u->redacted);
	ms_url_free(u);
	return c->endpoint && c->endpoint_shown ? 0 : oom(err);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

int gc_client_init(gc_client *c, const ms_url *url, const char *region, const char *subject,
		   ms_error *err)
{
	const char *v;
	char host[300];
	int rc;

	memset(c, 0, sizeof(*c));
	c->subject = subject;
	c->parallel = 16;
	c->max_attempts = DEFAULT_ATTEMPTS;
	c->timeout = 60;
	c->trace = env("MS_GLUE_TRACE") != NULL;
	if (!(c->rate = rate_new()))
		return oom(err);
	if (ms_aws_curl_init() < 0)
		return ms_error_set(err, MS_EIO, "cannot initialise libcurl");
	if (!(c->multi = curl_multi_init()))
		return oom(err);
	if (!(v = ms_url_param_get(url, "endpoint")))
		v = env("AWS_ENDPOINT_URL_GLUE") ? env("AWS_ENDPOINT_URL_GLUE")
						 : env("AWS_ENDPOINT_URL");
	if (v) {
		if ((rc = set_endpoint(c, v, err)) < 0)
			return rc;
		c->own_endpoint = 1;
	} else {
		snprintf(host, sizeof(host), "https://glue.%s.amazonaws.com/", region);
		if (!(c->endpoint = strdup(host)) || !(c->endpoint_shown = strdup(host)))
			return oom(err);
	}
	snprintf(host, sizeof(host), "aws:amz:%s:glue", region);
	if (!(c->sigv4 = strdup(host)))
		return oom(err);
	return ms_aws_creds_open(&c->creds, ms_url_param_get(url, "profile"), subject, err);
}

void gc_client_free(gc_client *c)
{
	gc_req *r;

	while ((r = c->wait_head)) {
		c->wait_head = r->next;
		r->done = 1;
	}
	c->wait_tail = NULL;
	for (int i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	c->npool = 0;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c->endpoint);
	free(c->endpoint_shown);
	free(c->sigv4);
	ms_aws_creds_close(c->creds);
	rate_release(c->rate);
	memset(c, 0, sizeof(*c));
}
