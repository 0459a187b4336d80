/*
 * Unit tests of the HTTP front end: a server on 127.0.0.1 port 0 answers a
 * tiny HTTP/1.0 client written here on a plain socket (/metrics, /healthz,
 * HEAD, 404, 405), a server on [::1] answers over IPv6 (skipped when the
 * machine has no IPv6 loopback), a second server on the taken port and
 * malformed addresses fail with messages that name the address.  The API server hands
 * its handler the method, path, headers and body, sends back status,
 * headers and body, flags a body over the limit, drops a connection when
 * told, and serves a second connection while a first one's request runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/http.h"

#define METRICS "# TYPE metasync_up gauge\nmetasync_up 1\n"

typedef struct handler_state {
	int calls;
	char last_path[64];
} handler_state;

static int handler(const char *path, ms_buf *body, const char **content_type, void *ctx)
{
	handler_state *st = ctx;

	st->calls++;
	snprintf(st->last_path, sizeof(st->last_path), "%s", path);
	if (strcmp(path, "/metrics") == 0) {
		*content_type = "text/plain; version=0.0.4; charset=utf-8";
		return ms_buf_adds(body, METRICS) < 0 ? 500 : 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		*content_type = "application/json";
		return ms_buf_adds(body, "{\"status\":\"ok\"}") < 0 ? 500 : 200;
	}
	ms_buf_adds(body, "not found\n");
	return 404;
}

typedef struct reply {
	int status;
	char content_type[128];
	char body[4096];
	size_t body_len;
} reply;

/* A socket connected to port on the loopback of family (AF_INET or AF_INET6). */
static int connect_family(int family, int port)
{
	struct sockaddr_in sa;
	struct sockaddr_in6 sa6;
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (family == AF_INET6) {
		memset(&sa6, 0, sizeof(sa6));
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons((uint16_t)port);
		sa6.sin6_addr = in6addr_loopback;
		assert_int_equal(connect(fd, (struct sockaddr *)&sa6, sizeof(sa6)), 0);
		return fd;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A socket connected to 127.0.0.1:port. */
static int connect_to(int port)
{
	return connect_family(AF_INET, port);
}

/*
 * Send "METHOD PATH HTTP/1.0" to port on the loopback of family and read the
 * whole answer.
 */
static void request_family(int family, int port, const char *method, const char *path, reply *r)
{
	char raw[8192], req[256], *p, *end, *hdr;
	size_t len = 0;
	ssize_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = connect_family(family, port);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: %s\r\n\r\n", method, path,
		     family == AF_INET6 ? "[::1]" : "127.0.0.1");
	assert_int_equal(write(fd, req, (size_t)n), n);
	while (len < sizeof(raw) - 1 && (n = read(fd, raw + len, sizeof(raw) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	raw[len] = '\0';

	assert_true(len > 12);
	assert_true(strncmp(raw, "HTTP/1.", 7) == 0);
	r->status = atoi(raw + 9);
	end = strstr(raw, "\r\n\r\n");
	assert_non_null(end);
	*end = '\0';
	for (hdr = strstr(raw, "\r\n"); hdr; hdr = strstr(hdr + 2, "\r\n")) {
		if (strncasecmp(hdr + 2, "Content-Type:", 13) == 0) {
			p = hdr + 2 + 13;
			while (*p == ' ')
				p++;
			snprintf(r->content_type, sizeof(r->content_type), "%.*s",
				 (int)strcspn(p, "\r"), p);
		}
	}
	r->body_len = len - (size_t)(end + 4 - raw);
	memcpy(r->body, end + 4, r->body_len);
	r->body[r->body_len] = '\0';
}

/* Send "METHOD PATH HTTP/1.0" to 127.0.0.1:port and read the whole answer. */
static void request(int port, const char *method, const char *path, reply *r)
{
	request_family(AF_INET, port, method, path, r);
}

static void test_serve(void **state)
{
	handler_state st = { 0, "" };
	ms_http *h = NULL;
	ms_error err;
	reply r;
	int port;

	(void)state;
	ms_error_clear(&err);
	if (ms_http_start(&h, "127.0.0.1:0", handler, &st, &err) < 0)
		fail_msg("start: %s", err.message);
	port = ms_http_port(h);
	assert_true(port > 0 && port < 65536);

	request(port, "GET", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(r.body, METRICS);
	assert_string_equal(st.last_path, "/metrics");

	request(port, "GET", "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body, "{\"status\":\"ok\"}");

	/* The query string is not part of the path. */
	request(port, "GET", "/healthz?verbose=1", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(st.last_path, "/healthz");

	request(port, "HEAD", "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);

	request(port, "GET", "/nothing", &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "not found\n");

	st.calls = 0;
	request(port, "POST", "/metrics", &r);
	assert_int_equal(r.status, 405);
	request(port, "DELETE", "/healthz", &r);
	assert_int_equal(r.status, 405);
	assert_int_equal(st.calls, 0);

	ms_http_stop(h);
	ms_http_stop(NULL);
}

static void test_port_taken(void **state)
{
	handler_state st = { 0, "" };
	ms_http *h = NULL, *h2 = NULL;
	char addr[64];
	ms_error err;

	(void)state;
	ms_error_clear(&err);
	if (ms_http_start(&h, "127.0.0.1:0", handler, &st, &err) < 0)
		fail_msg("start: %s", err.message);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ms_http_port(h));
	assert_int_equal(ms_http_start(&h2, addr, handler, &st, &err), MS_EIO);
	assert_null(h2);
	assert_true(strncmp(err.message, "cannot listen on '", 18) == 0);
	assert_non_null(strstr(err.message, addr));
	assert_non_null(strstr(err.message, "in use"));
	ms_http_stop(h);
}

static void test_bad_address(void **state)
{
	static const char *const bad[] = {
		"",
		"9464",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:http",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"256.0.0.1:80",
		"example.com:80",
		"::1:9464",
		"[::1]9464",
		"[::1:9464",
		"[nope]:80",
		"127.0.0.1:123456",
	};
	handler_state st = { 0, "" };
	ms_http *h = NULL;
	char expected[128];
	ms_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms_error_clear(&err);
		if (ms_http_start(&h, bad[i], handler, &st, &err) != MS_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_null(h);
		snprintf(expected, sizeof(expected), "invalid listen address '%s': ", bad[i]);
		if (strncmp(err.message, expected, strlen(expected)) != 0)
			fail_msg("'%s': got '%s'", bad[i], err.message);
	}
}

/* 1 when a socket can be bound to [::1] (a machine may lack IPv6 or its loopback). */
static int have_ipv6_loopback(void)
{
	struct sockaddr_in6 sa6;
	int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sa6, 0, sizeof(sa6));
	sa6.sin6_family = AF_INET6;
	sa6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) == 0;
	close(fd);
	return ok;
}

/*
 * A server on [::1] answers a client that connects over IPv6 (skipped when
 * the machine has no IPv6 loopback).
 */
static void test_ipv6(void **state)
{
	handler_state st = { 0, "" };
	ms_http *h = NULL;
	ms_error err;
	reply r;
	int port;

	(void)state;
	if (!have_ipv6_loopback()) {
		print_message("no IPv6 loopback: skipped\n");
		skip();
	}
	ms_error_clear(&err);
	if (ms_http_start(&h, "[::1]:0", handler, &st, &err) < 0)
		fail_msg("start: %s", err.message);
	port = ms_http_port(h);
	assert_true(port > 0 && port < 65536);
	request_family(AF_INET6, port, "GET", "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	assert_int_equal(st.calls, 1);
	assert_string_equal(st.last_path, "/healthz");
	ms_http_stop(h);
}

/* ---- the API server ---------------------------------------------------- */

typedef struct api_state {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fast_done;     /* /fast answered */
	int slow_released; /* /slow saw /fast answered before it gave up waiting */
	char method[16], path[64], target[128], body[64];
	size_t body_len;
	int too_big, nheaders;
} api_state;

static void api_handler(const ms_http_request *req, ms_http_response *resp, void *ctx)
{
	api_state *st = ctx;
	size_t i;

	if (strcmp(req->path, "/slow") == 0) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		pthread_mutex_lock(&st->mu);
		while (!st->fast_done && pthread_cond_timedwait(&st->cv, &st->mu, &until) == 0)
			;
		st->slow_released = st->fast_done;
		pthread_mutex_unlock(&st->mu);
		resp->status = 200;
		return;
	}
	if (strcmp(req->path, "/fast") == 0) {
		pthread_mutex_lock(&st->mu);
		st->fast_done = 1;
		pthread_cond_broadcast(&st->cv);
		pthread_mutex_unlock(&st->mu);
		resp->status = 200;
		return;
	}
	if (strcmp(req->path, "/drop") == 0) {
		resp->close = 1;
		return;
	}
	snprintf(st->method, sizeof(st->method), "%s", req->method);
	snprintf(st->path, sizeof(st->path), "%s", req->path);
	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, "X-Amz-Target") == 0)
			snprintf(st->target, sizeof(st->target), "%s", req->headers[i].value);
	st->nheaders = (int)req->nheaders;
	st->body_len = req->body_len;
	st->too_big = req->body_too_big;
	snprintf(st->body, sizeof(st->body), "%.*s", (int)(req->body_len < 63 ? req->body_len : 63),
		 req->body);
	resp->status = 400;
	resp->content_type = "application/x-amz-json-1.1";
	resp->headers[0].name = "x-amzn-ErrorType";
	resp->headers[0].value = "EntityNotFoundException";
	resp->nheaders = 1;
	ms_buf_adds(&resp->body, "{\"__type\":\"EntityNotFoundException\"}");
}

/* Send a POST of body_len bytes (of 'x' unless body) and keep the socket open. */
static int post(int port, const char *path, const char *body, size_t body_len)
{
	char head[512], chunk[65536];
	int fd = connect_to(port), n;
	size_t sent = 0;

	n = snprintf(head, sizeof(head),
		     "POST %s HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Amz-Target: AWSGlue.GetDatabase\r\n"
		     "Content-Type: application/x-amz-json-1.1\r\nContent-Length: %zu\r\n\r\n",
		     path, body_len);
	assert_int_equal(write(fd, head, (size_t)n), n);
	memset(chunk, 'x', sizeof(chunk));
	while (sent < body_len) {
		size_t k = body_len - sent < sizeof(chunk) ? body_len - sent : sizeof(chunk);
		ssize_t w = write(fd, body ? body + sent : chunk, k);

		assert_true(w > 0);
		sent += (size_t)w;
	}
	return fd;
}

/* Read the whole answer of fd into out (NUL-terminated); returns its length. */
static size_t answer(int fd, char *out, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len < cap - 1 && (n = read(fd, out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
	return len;
}

static void test_api(void **state)
{
	api_state st;
	ms_http *h = NULL;
	ms_error err;
	char out[8192];
	const char *body = "{\"Name\":\"sales\"}";
	int port, slow;

	(void)state;
	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.mu, NULL);
	pthread_cond_init(&st.cv, NULL);
	ms_error_clear(&err);
	if (ms_http_start_api(&h, "127.0.0.1:0", 8, api_handler, &st, &err) < 0)
		fail_msg("start: %s", err.message);
	port = ms_http_port(h);

	answer(post(port, "/", body, strlen(body)), out, sizeof(out));
	assert_string_equal(st.method, "POST");
	assert_string_equal(st.path, "/");
	assert_string_equal(st.target, "AWSGlue.GetDatabase");
	assert_string_equal(st.body, body);
	assert_int_equal(st.body_len, strlen(body));
	assert_int_equal(st.too_big, 0);
	assert_true(st.nheaders >= 4);
	assert_true(strncmp(out, "HTTP/1.", 7) == 0);
	assert_int_equal(atoi(out + 9), 400);
	assert_non_null(strcasestr(out, "\r\nx-amzn-ErrorType: EntityNotFoundException\r\n"));
	assert_non_null(strcasestr(out, "\r\nContent-Type: application/x-amz-json-1.1\r\n"));
	assert_non_null(strstr(out, "\r\n\r\n{\"__type\":\"EntityNotFoundException\"}"));

	/* a body over the limit reaches the handler flagged, cut at the limit */
	answer(post(port, "/", NULL, MS_HTTP_API_BODY_MAX + 1), out, sizeof(out));
	assert_int_equal(st.too_big, 1);
	assert_true(st.body_len <= MS_HTTP_API_BODY_MAX);

	/* told to, the server drops the connection without an answer */
	assert_int_equal(answer(post(port, "/drop", "{}", 2), out, sizeof(out)), 0);

	/* a second connection is served while the first one's request runs */
	slow = post(port, "/slow", "{}", 2);
	answer(post(port, "/fast", "{}", 2), out, sizeof(out));
	assert_int_equal(atoi(out + 9), 200);
	answer(slow, out, sizeof(out));
	assert_int_equal(atoi(out + 9), 200);
	assert_int_equal(st.slow_released, 1);

	ms_http_stop(h);
	pthread_cond_destroy(&st.cv);
	pthread_mutex_destroy(&st.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serve),       cmocka_unit_test(test_port_taken),
		cmocka_unit_test(test_bad_address), cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
