/*
 * metasync's HTTP front ends on libmicrohttpd.  The agent's /healthz and
 * /metrics can be scraped while the agent works: libmicrohttpd runs its own
 * polling thread, and this file only turns a request into one call of the
 * agent's handler (GET and HEAD only).  An API server (the Glue-compatible
 * catalog API) takes any method: it reads the request's headers and its
 * body, bounded, into one ms_http_request and hands it whole to its
 * handler, on a thread per connection.  Both listen on one numeric address
 * given by the caller, never on all interfaces, and cap what a handler may
 * produce.  When libmicrohttpd cannot start, a bind of our own on the same
 * address tells why (the port is taken, the address is not local), because
 * libmicrohttpd itself reports only failure.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

/* Largest body a handler may produce (the metrics of many targets). */
#define HTTP_BODY_MAX (8u << 20)

struct ms_http {
	struct MHD_Daemon *daemon;
	ms_http_handler handler;         /* health and metrics */
	ms_http_api_handler api_handler; /* an API server */
	void *ctx;
	int port;                       /* as bound, in case the daemon cannot say */
	const char *tls_cert, *tls_key; /* PEM, borrowed while the daemon starts */
	MHD_socket quiesced;            /* the listening socket once quiesced, else 0 */
};

typedef union http_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
} http_addr;

/*
 * Parse "IPV4:PORT", "[IPV6]:PORT" or "localhost:PORT" into addr; port 0
 * means any free port.  Returns 0 or -1.
 */
static int parse_listen(const char *listen, http_addr *addr, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port, *start;
	size_t hl;
	long p = 0;

	if (!listen || !*listen)
		return -1;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			return -1;
		start = listen + 1;
		hl = (size_t)(close - start);
		port = close + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
			return -1;
		start = listen;
		hl = (size_t)(colon - listen);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, start, hl);
	host[hl] = '\0';
	if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
		return -1;
	for (; *port; port++)
		p = p * 10 + (*port - '0');
	if (p > 65535)
		return -1;
	memset(addr, 0, sizeof(*addr));
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (listen[0] == '[') {
		if (inet_pton(AF_INET6, host, &addr->v6.sin6_addr) != 1)
			return -1;
		addr->v6.sin6_family = AF_INET6;
		addr->v6.sin6_port = htons((uint16_t)p);
		*len = sizeof(addr->v6);
	} else {
		if (inet_pton(AF_INET, host, &addr->v4.sin_addr) != 1)
			return -1;
		addr->v4.sin_family = AF_INET;
		addr->v4.sin_port = htons((uint16_t)p);
		*len = sizeof(addr->v4);
	}
	return 0;
}

/* Why the address cannot be bound: an errno, or 0 when a bind succeeds. */
static int probe_bind(const http_addr *addr, socklen_t len)
{
	int fd, one = 1, e = 0;

	fd = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &addr->sa, len) < 0)
		e = errno;
	close(fd);
	return e;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *body,
			       size_t len, const char *content_type, int allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
	    (allow &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	static int seen;
	static const char not_allowed[] = "method not allowed\n";
	static const char failed[] = "internal error\n";
	ms_http *h = cls;
	ms_buf body = MS_BUF_INIT(HTTP_BODY_MAX);
	const char *content_type = NULL;
	enum MHD_Result ret;
	int status;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
			       sizeof(not_allowed) - 1, "text/plain; charset=utf-8", 1);
	if (!*con_cls) {
		/* Headers only: answer once any body has been read and dropped. */
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	status = h->handler(url, &body, &content_type, h->ctx);
	if (status < 100 || status > 599) {
		ret = respond(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, failed, sizeof(failed) - 1,
			      "text/plain; charset=utf-8", 0);
	} else {
		ret = respond(conn, (unsigned)status, ms_buf_cstr(&body), body.len,
			      content_type ? content_type : "text/plain; charset=utf-8", 0);
	}
	ms_buf_free(&body);
	return ret;
}

/*
 * Start h's daemon on listen with the given access handler and threading
 * flags; fills h->daemon and h->port.  Frees nothing.
 */
static int start_daemon(ms_http *h, const char *listen, unsigned int flags,
			MHD_AccessHandlerCallback access, unsigned int max_connections,
			MHD_RequestCompletedCallback completed, ms_error *err)
{
	http_addr addr;
	socklen_t alen;
	int e;

	if (parse_listen(listen, &addr, &alen) < 0)
		return ms_error_set(err, MS_EINVAL,
				    "invalid listen address '%s': expected IPV4:PORT or "
				    "[IPV6]:PORT "
				    "such as 127.0.0.1:9464",
				    listen ? listen : "");
	if (addr.sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (h->tls_cert) {
		struct MHD_OptionItem tls[] = {
			{ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)h->tls_cert },
			{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)h->tls_key },
			{ MHD_OPTION_END, 0, NULL },
		};

		h->daemon = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, access, h,
					     MHD_OPTION_SOCK_ADDR, &addr.sa,
					     MHD_OPTION_CONNECTION_LIMIT, max_connections,
					     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
					     MHD_OPTION_NOTIFY_COMPLETED, completed, h,
					     MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	} else {
		h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access, h, MHD_OPTION_SOCK_ADDR,
					     &addr.sa, MHD_OPTION_CONNECTION_LIMIT, max_connections,
					     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
					     MHD_OPTION_NOTIFY_COMPLETED, completed, h,
					     MHD_OPTION_END);
	}
	if (!h->daemon) {
		e = probe_bind(&addr, alen);
		if (e)
			return ms_error_set(err, MS_EIO, "cannot listen on '%s': %s", listen,
					    strerror(e));
		return ms_error_set(err, MS_EIO, "cannot start the HTTP server on '%s'", listen);
	}
	h->port = ntohs(addr.sa.sa_family == AF_INET6 ? addr.v6.sin6_port : addr.v4.sin_port);
	return 0;
}

/* A new server with one of the two handlers, started (see start_daemon). */
static int new_server(ms_http **out, const char *listen, ms_http_handler handler,
		      ms_http_api_handler api_handler, void *ctx, unsigned int flags,
		      MHD_AccessHandlerCallback access, unsigned int max_connections,
		      MHD_RequestCompletedCallback completed, const char *tls_cert,
		      const char *tls_key, ms_error *err)
{
	ms_http *h;
	int rc;

	if (!handler && !api_handler)
		return ms_error_set(err, MS_EINVAL, "no handler for the HTTP server");
	if (!(h = calloc(1, sizeof(*h))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	h->handler = handler;
	h->api_handler = api_handler;
	h->ctx = ctx;
	h->tls_cert = tls_cert;
	h->tls_key = tls_key;
	rc = start_daemon(h, listen, flags, access, max_connections, completed, err);
	h->tls_cert = h->tls_key = NULL;
	if (rc < 0) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int ms_http_start(ms_http **out, const char *listen, ms_http_handler handler, void *ctx,
		  ms_error *err)
{
	return new_server(out, listen, handler, NULL, ctx,
			  MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, on_request, 64, NULL,
			  NULL, NULL, err);
}

/* ---- the API server ----------------------------------------------------- */

/* One connection's request as it arrives. */
typedef struct api_conn {
	ms_buf body;
	int too_big;
} api_conn;

typedef struct header_list {
	ms_http_header v[MS_HTTP_API_HEADERS_MAX];
	size_t n;
	int dropped;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	header_list *l = cls;

	(void)kind;
	if (l->n == MS_HTTP_API_HEADERS_MAX) {
		l->dropped = 1;
		return MHD_YES;
	}
	l->v[l->n].name = key;
	l->v[l->n].value = value ? value : "";
	l->n++;
	return MHD_YES;
}

static enum MHD_Result api_respond(struct MHD_Connection *conn, ms_http_response *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status = r->status >= 100 && r->status <= 599 ? (unsigned)r->status : 500;
	size_t i;

	resp = MHD_create_response_from_buffer(r->body.len, (void *)ms_buf_cstr(&r->body),
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->content_type &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type) != MHD_YES)
		goto fail;
	for (i = 0; i < r->nheaders && i < sizeof(r->headers) / sizeof(r->headers[0]); i++)
		if (MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value) !=
		    MHD_YES)
			goto fail;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
fail:
	MHD_destroy_response(resp);
	return MHD_NO;
}

static enum MHD_Result on_api_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	ms_http *h = cls;
	api_conn *c = *con_cls;
	header_list headers;
	ms_http_request req;
	ms_http_response resp;
	enum MHD_Result ret;

	(void)version;
	if (!c) {
		if (!(c = calloc(1, sizeof(*c))))
			return MHD_NO;
		ms_buf_init(&c->body, MS_HTTP_API_BODY_MAX);
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!c->too_big && ms_buf_add(&c->body, upload_data, *upload_data_size) < 0)
			c->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	memset(&headers, 0, sizeof(headers));
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &headers);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.headers = headers.v;
	req.nheaders = headers.n;
	req.too_many_headers = headers.dropped;
	req.body = ms_buf_cstr(&c->body);
	req.body_len = c->body.len;
	req.body_too_big = c->too_big;
	memset(&resp, 0, sizeof(resp));
	ms_buf_init(&resp.body, MS_HTTP_API_BODY_MAX);
	resp.status = 500;
	h->api_handler(&req, &resp, h->ctx);
	ret = resp.close ? MHD_NO : api_respond(conn, &resp);
	ms_buf_free(&resp.body);
	return ret;
}

static void api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	api_conn *c = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (c) {
		ms_buf_free(&c->body);
		free(c);
		*con_cls = NULL;
	}
}

int ms_http_start_api_config(ms_http **out, const ms_http_api_config *cfg,
			     ms_http_api_handler handler, void *ctx, ms_error *err)
{
	if (!cfg->tls_cert_pem != !cfg->tls_key_pem)
		return ms_error_set(err, MS_EINVAL, "a TLS certificate needs its key");
	return new_server(out, cfg->listen, NULL, handler, ctx,
			  MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				  MHD_USE_POLL | MHD_USE_ITC,
			  on_api_request, cfg->max_connections ? cfg->max_connections : 64,
			  api_completed, cfg->tls_cert_pem, cfg->tls_key_pem, err);
}

int ms_http_start_api(ms_http **out, const char *listen, unsigned max_connections,
		      ms_http_api_handler handler, void *ctx, ms_error *err)
{
	ms_http_api_config cfg = { listen, max_connections, NULL, NULL };

	return ms_http_start_api_config(out, &cfg, handler, ctx, err);
}

void ms_http_quiesce(ms_http *h)
{
	if (h && h->daemon && !h->quiesced) {
		h->quiesced = MHD_quiesce_daemon(h->daemon);
	}
}

int ms_http_port(const ms_http *h)
{
	const union MHD_DaemonInfo *info;

	if (!h)
		return -1;
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return info && info->port ? (int)info->port : h->port;
}

void ms_http_stop(ms_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	/* a quiesced daemon leaves its listening socket to the caller */
	if (h->quiesced > 0)
		close(h->quiesced);
	free(h);
}
