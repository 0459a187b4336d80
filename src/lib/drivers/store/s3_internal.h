/*
 * Shared between the S3 store driver (s3.c) and its HTTP and credential
 * plumbing (s3_http.c): the resolved configuration of one s3:// store and one
 * signed request with its retries.  Nothing here is public API.
 */
#ifndef MS_STORE_S3_INTERNAL_H
#define MS_STORE_S3_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "metasync/error.h"
#include "metasync/sys/store.h"
#include "util/buf.h"

struct ms_url;

/* Idle curl handles kept per store for connection reuse. */
#define S3_POOL_MAX 32

typedef struct s3_conf {
	char *bucket;               /* owned */
	char *prefix;               /* owned; "" or ending in '/' */
	char *region;               /* owned */
	char *endpoint;             /* owned; scheme://host[:port] without a trailing '/' */
	char *endpoint_shown;       /* owned; endpoint with any password masked, for messages */
	int path_style;             /* 1: ENDPOINT/BUCKET/KEY, 0: BUCKET.ENDPOINT-HOST/KEY */
	struct ms_aws_creds *creds; /* owned; the keys to sign with (aws/aws_creds.h) */
	char *sigv4;                /* owned; "aws:amz:REGION:s3" */
	size_t part_size;           /* multipart part size in bytes */
	int parallel;               /* parts in flight per writer */
	int max_attempts;           /* tries per request, >= 1 */
	long connect_timeout;       /* seconds */
	long low_speed_time;        /* seconds below 1 byte/s before a transfer is abandoned */
	int trace;                  /* MS_S3_TRACE set: one line per request on stderr */

	pthread_mutex_t lock; /* guards the pool */
	int lock_ready;
	void *pool[S3_POOL_MAX];
	int npool;
} s3_conf;

/* One S3 request; fill the inputs, zero the rest. */
typedef struct s3_req {
	const char *method;    /* "GET", "PUT", "POST", "HEAD", "DELETE" */
	const char *key;       /* full object key (store prefix included), NULL for the bucket */
	const char *shown_key; /* key as the caller named it, for messages */
	const char *verb;      /* for messages: "put", "get", "list", ... */
	const char *query;     /* canonical query (sorted, encoded) or NULL */
	const void *body;      /* request payload (borrowed) */
	size_t body_len;
	const char *content_type;
	const char *range;    /* "bytes=A-B" or NULL */
	const char *if_match; /* an ETag or NULL */
	ms_buf *out;          /* 2xx response body (bounded by its cap), NULL to discard */

	/* Results. */
	long status; /* HTTP status of the last attempt, 0 when none */
	int attempts;
	char etag[160];
	uint64_t length;      /* Content-Length */
	int64_t mtime;        /* Last-Modified as epoch seconds, 0 when absent */
	uint64_t range_total; /* total size from Content-Range, 0 when absent */
	int has_range_total;
	char code[64]; /* S3 error code of a failed request, "" when none */
} s3_req;

/* An open s3:// store (s3.c). */
/* A multipart upload whose commit returned and is finishing in a thread. */
typedef struct s3_pending {
	struct s3_pending *next;
	pthread_t tid;
	struct s3_writer *w;
	int rc;
	ms_error err;
} s3_pending;

typedef struct s3_store {
	ms_store base;
	s3_conf c;
	pthread_mutex_t pend_mu;
	s3_pending *pending;
} s3_store;

/*
 * Wait for the multipart uploads whose commit already returned (their last
 * parts and CompleteMultipartUpload); 0, or the first of their errors.
 * Every operation but writing calls it first, so an object is visible to
 * any later operation on the store, and a failure to finish one is
 * reported by the next.
 */
int s3_settle(s3_store *s, ms_error *err);

/* 0 if key is a safe relative key (a list prefix with allow_prefix), else MS_EINVAL. */
int s3_check_key(const s3_store *s, const char *key, int allow_prefix, ms_error *err);
/* The object key: the store's prefix + key (new), or NULL. */
char *s3_full_key(const s3_store *s, const char *key);
/* "2026-01-02T03:04:05.000Z" as epoch seconds (0 when it is not that). */
int64_t s3_parse_iso(const char *t);
/* The sweep slot (s3_gc.c): unfinished multipart uploads older than the grace. */
int s3_sweep(ms_store *self, const ms_gc_options *opts, long long grace_seconds,
	     ms_gc_report *report, ms_error *err);
/* The put_open slot (s3_put.c): a new writer. */
int s3_put_open(ms_store *self, const char *key, ms_store_writer **out, ms_error *err);

/* Initialise libcurl once per process: 0 or -1. */
int s3_http_init(void);
/* Close the store's idle connections. */
void s3_http_pool_free(s3_conf *c);

/* Resolve region, endpoint and credentials for url (bucket and prefix set by the caller). */
int s3_conf_init(s3_conf *c, const struct ms_url *url, ms_error *err);
void s3_conf_free(s3_conf *c);

/*
 * Send r, retrying with exponential backoff and jitter on 5xx, 408, 429,
 * timeouts and dropped connections.  0 on a 2xx answer; otherwise an error
 * naming the bucket, the key and S3's error code (never a secret):
 * MS_ENOTFOUND on 404 NoSuchKey (or any 404 to a HEAD), MS_EBACKEND on other
 * answers, MS_EIO when the endpoint cannot be reached.  r->status and
 * r->code are filled in every case.
 */
int s3_request(s3_conf *c, s3_req *r, ms_error *err);

/* Append text percent-encoded as SigV4 wants; '/' kept when keep_slash. */
int s3_encode(ms_buf *b, const char *text, int keep_slash);

/* Lowercase hex SHA-256 of data into hex[65]. */
void s3_sha256_hex(const void *data, size_t len, char hex[65]);

/*
 * Parse an S3 XML body, calling cb for every element that closes with its
 * name, its text (NUL-terminated, bounded) and its parent's name.  0 or
 * MS_EBACKEND for a body that is not well-formed XML.
 */
typedef void (*s3_xml_cb)(const char *parent, const char *name, const char *text, void *ctx);
int s3_xml_parse(const char *body, size_t len, s3_xml_cb cb, void *ctx, ms_error *err);

#endif
