/*
 * For the SigV4 tests: a listener on 127.0.0.1 that captures the first
 * request a real client (libcurl, the AWS CLI, boto3) sends, byte for byte,
 * and answers it with a Glue-style error; and a parser that turns such raw
 * bytes (also the fuzz corpus) into an ms_sigv4_request.
 */
#ifndef MS_TEST_HTTP_CAPTURE_H
#define MS_TEST_HTTP_CAPTURE_H

#include <stddef.h>

#include "server/sigv4.h"

typedef struct ms_capture ms_capture;

/* Listen on 127.0.0.1, a free port; a thread waits for one request.  NULL on failure. */
ms_capture *ms_capture_start(void);
int ms_capture_port(const ms_capture *c);
/*
 * Wait for the request (at most timeout_s seconds after start): the raw
 * bytes (new, NUL-terminated, *len without the NUL), or NULL when none came.
 */
char *ms_capture_wait(ms_capture *c, int timeout_s, size_t *len);
/* Stop listening; NULL is a no-op. */
void ms_capture_free(ms_capture *c);

/* A parsed raw request; its pointers are into `copy`. */
#define MS_RAW_MAX_HEADERS (MS_SIGV4_MAX_HEADERS + 8)
typedef struct ms_raw_request {
	char *copy; /* owned */
	ms_sigv4_header headers[MS_RAW_MAX_HEADERS];
	ms_sigv4_request req;
} ms_raw_request;

/*
 * Parse "METHOD TARGET VERSION" then "Name: value" lines (CRLF or LF) up to
 * an empty line; the rest is the body.  Returns 0, or -1 for input that is
 * no request (r is then empty).  Free with ms_raw_request_free.
 */
int ms_raw_request_parse(ms_raw_request *r, const void *data, size_t len);
void ms_raw_request_free(ms_raw_request *r);
/* The index of header name (case-insensitive) in r, or -1. */
int ms_raw_request_find(const ms_raw_request *r, const char *name);

#endif
