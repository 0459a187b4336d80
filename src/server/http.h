/*
 * A small HTTP front end (libmicrohttpd, its own thread) for the agent's
 * /healthz and /metrics.  Listens only where told, e.g. "127.0.0.1:9464";
 * port 0 picks a free one (ms_http_port tells which).  GET and HEAD only;
 * other methods get 405, unknown paths 404 from the handler.
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
int ms_http_port(const ms_http *h);
void ms_http_stop(ms_http *h);

#endif
