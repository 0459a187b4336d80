/*
 * Unit tests of the HTTP front end: a server on 127.0.0.1 port 0 answers a
 * tiny HTTP/1.0 client written here on a plain socket (/metrics, /healthz,
 * HEAD, 404, 405), a second server on the taken port and malformed
 * addresses fail with messages that name the address.
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
#include <sys/socket.h>
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

/* Send "METHOD PATH HTTP/1.0" to 127.0.0.1:port and read the whole answer. */
static void request(int port, const char *method, const char *path, reply *r)
{
	struct sockaddr_in sa;
	char raw[8192], req[256], *p, *end, *hdr;
	size_t len = 0;
	ssize_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
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
		"", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
		"127.0.0.1:-1", "256.0.0.1:80", "example.com:80", "::1:9464", "[::1]9464",
		"[::1:9464", "[nope]:80", "127.0.0.1:123456",
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

/* IPv6 loopback, when the machine has it. */
static void test_ipv6(void **state)
{
	handler_state st = { 0, "" };
	ms_http *h = NULL;
	ms_error err;
	int fd;

	(void)state;
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0)
		skip();
	close(fd);
	ms_error_clear(&err);
	if (ms_http_start(&h, "[::1]:0", handler, &st, &err) < 0) {
		if (strstr(err.message, "annot assign"))
			skip();
		fail_msg("start: %s", err.message);
	}
	assert_true(ms_http_port(h) > 0);
	ms_http_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_port_taken),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
