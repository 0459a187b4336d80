/*
 * The Glue-compatible catalog server (`metasync serve`): the AWS Glue Data
 * Catalog API, JSON 1.1 protocol, in front of the embedded catalog.
 *
 * Every request is POST / with `X-Amz-Target: AWSGlue.<Operation>` and a
 * JSON body, signed with SigV4 (service "glue") by an access key of
 * accounts.yaml (src/server/accounts.h).  Each account is one catalog of
 * the embedded catalog file (`sqlite:PATH?catalog-id=ACCOUNT`); CatalogId
 * defaults to the caller's account, and another account's catalog is
 * reached only through grants (AccessDeniedException otherwise).  Answers
 * are Glue's: 200 with the output shape, or the error's HTTP status with
 * {"__type", "Message"} and the x-amzn-ErrorType header; every answer has
 * an x-amzn-RequestId.  GET /healthz and GET /metrics (Prometheus text)
 * answer unsigned on the same port.
 *
 * The server holds no catalog logic of its own: entities go through the
 * model's validation (ms_entity_from_glue) and the catalog API, one
 * transaction per request.
 */
#ifndef MS_SERVER_GLUE_H
#define MS_SERVER_GLUE_H

#include <stdio.h>

#include "metasync/error.h"
#include "server/accounts.h"
#include "server/http.h"
#include "util/buf.h"

typedef struct ms_glue ms_glue;

typedef struct ms_glue_options {
	const char *catalog_path;    /* the embedded catalog file (sqlite:PATH's PATH) */
	const ms_accounts *accounts; /* borrowed; must outlive the server */
	long latency_ms;             /* added to every signed request; 0: none */
	double throttle_rate;        /* requests per second per account; 0: no limit */
	double throttle_burst;       /* bucket size; 0: max(1, rate) */
	double faults;               /* share of requests that fail (0 to 1) */
	int verbose;                 /* log every request, not only failures */
	FILE *log;                   /* log lines (NULL: stderr) */
} ms_glue_options;

/* A server (not listening: ms_glue_handle is its HTTP handler). */
int ms_glue_new(ms_glue **out, const ms_glue_options *opts, ms_error *err);
void ms_glue_free(ms_glue *g);

/* The ms_http_api_handler: ctx is the ms_glue. */
void ms_glue_handle(const ms_http_request *req, ms_http_response *resp, void *ctx);

/*
 * Run operation (e.g. "GetTable") on a JSON body as account, without HTTP
 * or signing: for tests and the fuzz target, which reach the operations
 * past the signature.  resp is filled as ms_glue_handle fills it.
 */
void ms_glue_call_as(ms_glue *g, const char *account, const char *operation, const char *body,
		     size_t len, ms_http_response *resp);

/* Requests being answered now. */
long ms_glue_in_flight(ms_glue *g);

/* Prometheus text of the server's metrics. */
int ms_glue_metrics(ms_glue *g, ms_buf *out);

/* "ok\n" and 0 when the catalog file opens; else one line saying why and MS_ERROR. */
int ms_glue_health(ms_glue *g, ms_buf *out);

#endif
