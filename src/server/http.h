/*
 * A small HTTP front end on libmicrohttpd.  Two kinds of server:
 *
 * - ms_http_start: the agent's /healthz and /metrics (its own polling
 *   thread; GET and HEAD only, other methods get 405, unknown paths 404
 *   from the handler);
 * - ms_http_start_api: an API server (the Glue-compatible catalog API):
 *   any method, the request's headers and its bounded body handed to the
 *   handler whole, a thread per connection so that a slow request never
 *   holds up another, and the handler's status, headers and body sent back.
 *
 * Both listen only where told, e.g. "127.0.0.1:9464"; port 0 picks a free
 * one (ms_http_port tells which).
 */
#ifndef MS_SERVER_HTTP_H
#define MS_SERVER_HTTP_H

#include "metasync/error.h"
#include "util/buf.h"

typedef struct ms_http ms_http;

/*
 * Fill body for path ("/metrics"); set *content_type (static string);
 * return the HTTP status.  Called on the server's thread: the handler
 * does its own locking.
 */
typedef int (*ms_http_handler)(const char *path, ms_buf *body, const char **content_type,
			       void *ctx);

int ms_http_start(ms_http **out, const char *listen, ms_http_handler handler, void *ctx,
		  ms_error *err);

/* One request or response header; strings borrowed. */
typedef struct ms_http_header {
	const char *name, *value;
} ms_http_header;

/* The largest request body an API server reads (bigger ones are cut off). */
#define MS_HTTP_API_BODY_MAX ((size_t)16 << 20)
/* Headers of one request an API server keeps (more is body_too_big's twin). */
#define MS_HTTP_API_HEADERS_MAX 64

/* A whole request as the API handler sees it; everything borrowed for the call. */
typedef struct ms_http_request {
	const char *method;
	const char *path;              /* as libmicrohttpd decoded it */
	const ms_http_header *headers; /* as received, names in their case */
	size_t nheaders;
	int too_many_headers; /* more than MS_HTTP_API_HEADERS_MAX: the rest dropped */
	const char *body;     /* NUL-terminated for convenience; may hold NULs */
	size_t body_len;
	int body_too_big; /* over MS_HTTP_API_BODY_MAX: body holds the start only */
} ms_http_request;

/* What the API handler answers; ms_http_start_api frees nothing the handler borrowed. */
typedef struct ms_http_response {
	int status;                /* 100 to 599; anything else is sent as 500 */
	const char *content_type;  /* static or owned by the handler's ctx; NULL: none */
	ms_buf body;               /* filled by the handler; bounded as MS_HTTP_API_BODY_MAX */
	ms_http_header headers[8]; /* extra headers; values are copied when sent */
	size_t nheaders;
	char storage[512]; /* room for header values the handler formats */
	int close;         /* drop the connection instead of answering */
} ms_http_response;

/*
 * The API handler: fill resp from req.  Called on the connection's own
 * thread, so calls run concurrently: the handler does its own locking.
 */
typedef void (*ms_http_api_handler)(const ms_http_request *req, ms_http_response *resp, void *ctx);

/*
 * Start an API server on listen with up to max_connections connections at
 * once (0: 64), each on a thread of its own.  MS_EINVAL for a bad address,
 * MS_EIO when it cannot listen (naming why).
 */
int ms_http_start_api(ms_http **out, const char *listen, unsigned max_connections,
		      ms_http_api_handler handler, void *ctx, ms_error *err);
/* An API server's settings; tls_cert_pem and tls_key_pem (PEM text) make it HTTPS. */
typedef struct ms_http_api_config {
	const char *listen;
	unsigned max_connections; /* 0: 64 */
	const char *tls_cert_pem; /* NULL: plain HTTP */
	const char *tls_key_pem;  /* with the certificate; read at start only */
} ms_http_api_config;

int ms_http_start_api_config(ms_http **out, const ms_http_api_config *cfg,
			     ms_http_api_handler handler, void *ctx, ms_error *err);
/*
 * Stop accepting connections; those open go on until ms_http_stop (for a
 * drain: wait for the requests in flight, then stop).
 */
void ms_http_quiesce(ms_http *h);
int ms_http_port(const ms_http *h);
void ms_http_stop(ms_http *h);

#endif
