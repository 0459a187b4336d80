/*
 * The SigV4 tests verify signatures made by real clients, so they need the
 * exact bytes those clients send.  This file runs the smallest server that
 * gets them (one connection, one request, a fixed Glue-style 400 answer so
 * that the client gives up at once) and parses raw requests for the tests
 * and the fuzz target alike.
 */
#include "http_capture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_MAX (1u << 20)

struct ms_capture {
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	char *data;
	size_t len;
};

#define ANSWER_BODY "{\"__type\":\"InvalidSignatureException\",\"message\":\"captured only\"}"

/* The body length a request announces, 0 when none. */
static size_t content_length(const char *head)
{
	const char *p = head;

	while ((p = strchr(p, '\n'))) {
		p++;
		if (strncasecmp(p, "content-length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
	}
	return 0;
}

static void *capture_main(void *arg)
{
	ms_capture *c = arg;
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	char *buf = malloc(CAPTURE_MAX + 1);
	size_t len = 0, need = 0;
	int conn = -1;

	if (!buf || poll(&pfd, 1, 60000) <= 0 || (conn = accept(c->fd, NULL, NULL)) < 0)
		goto done;
	for (;;) {
		struct pollfd cp = { conn, POLLIN, 0 };
		ssize_t n;
		char *end;

		if (poll(&cp, 1, 30000) <= 0)
			break;
		n = read(conn, buf + len, CAPTURE_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (!need && (end = strstr(buf, "\r\n\r\n")))
			need = (size_t)(end + 4 - buf) + content_length(buf);
		if ((need && len >= need) || len == CAPTURE_MAX)
			break;
	}
	if (len) {
		char answer[512];
		int n = snprintf(answer, sizeof(answer),
				 "HTTP/1.1 400 Bad Request\r\n"
				 "Content-Type: application/x-amz-json-1.1\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
				 strlen(ANSWER_BODY), ANSWER_BODY);

		if (write(conn, answer, (size_t)n) < 0) {
			/* The client has gone: the request is what counts. */
		}
	}
done:
	if (conn >= 0)
		close(conn);
	pthread_mutex_lock(&c->lock);
	if (buf && len) {
		c->data = buf;
		c->len = len;
	} else {
		free(buf);
	}
	c->done = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

ms_capture *ms_capture_start(void)
{
	ms_capture *c = calloc(1, sizeof(*c));
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (!c)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->fd, 4) < 0 || getsockname(c->fd, (struct sockaddr *)&sa, &sl) < 0) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	c->port = ntohs(sa.sin_port);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (pthread_create(&c->thread, NULL, capture_main, c) != 0) {
		close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

int ms_capture_port(const ms_capture *c)
{
	return c->port;
}

char *ms_capture_wait(ms_capture *c, int timeout_s, size_t *len)
{
	struct timespec until;
	char *data;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_s;
	pthread_mutex_lock(&c->lock);
	while (!c->done)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) != 0)
			break;
	data = c->data;
	*len = c->len;
	c->data = NULL;
	pthread_mutex_unlock(&c->lock);
	return data;
}

void ms_capture_free(ms_capture *c)
{
	if (!c)
		return;
	/* Wake a thread still waiting in poll(): shut the listener down. */
	shutdown(c->fd, SHUT_RDWR);
	pthread_join(c->thread, NULL);
	close(c->fd);
	free(c->data);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

int ms_raw_request_parse(ms_raw_request *r, const void *data, size_t len)
{
	char *p, *line_end, *sp, *q;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (!(r->copy = malloc(len + 1)))
		return -1;
	memcpy(r->copy, data, len);
	r->copy[len] = '\0';
	p = r->copy;

	/* The request line. */
	if (!(line_end = memchr(p, '\n', len)))
		goto fail;
	*line_end = '\0';
	if (line_end > p && line_end[-1] == '\r')
		line_end[-1] = '\0';
	if (!(sp = strchr(p, ' ')))
		goto fail;
	*sp = '\0';
	r->req.method = p;
	r->req.path = sp + 1;
	if ((sp = strchr(sp + 1, ' ')))
		*sp = '\0';
	if ((q = strchr(r->req.path, '?'))) {
		*q = '\0';
		r->req.query = q + 1;
	}
	p = line_end + 1;

	/* Headers up to an empty line. */
	for (;;) {
		size_t left = len - (size_t)(p - r->copy);
		char *colon;

		if (!left || !(line_end = memchr(p, '\n', left))) {
			p = r->copy + len;
			break;
		}
		*line_end = '\0';
		if (line_end > p && line_end[-1] == '\r')
			line_end[-1] = '\0';
		if (!*p) {
			p = line_end + 1;
			break;
		}
		if (!(colon = strchr(p, ':')) || n == MS_RAW_MAX_HEADERS)
			goto fail;
		*colon = '\0';
		r->headers[n].name = p;
		r->headers[n].value = colon + 1;
		n++;
		p = line_end + 1;
	}
	r->req.headers = r->headers;
	r->req.header_count = n;
	r->req.body = p;
	r->req.body_len = len - (size_t)(p - r->copy);
	return 0;
fail:
	ms_raw_request_free(r);
	return -1;
}

void ms_raw_request_free(ms_raw_request *r)
{
	free(r->copy);
	memset(r, 0, sizeof(*r));
}

int ms_raw_request_find(const ms_raw_request *r, const char *name)
{
	for (size_t i = 0; i < r->req.header_count; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return (int)i;
	return -1;
}
