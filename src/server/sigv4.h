/*
 * Verifying AWS Signature Version 4 on requests that reach the Glue-
 * compatible catalog server (`metasync serve`).  The server hands over what
 * it received, untouched (method, raw path, raw query, headers, body); this
 * module rebuilds the canonical request the client signed, looks the access
 * key up through a callback, and compares signatures in constant time.
 *
 * What is accepted: the Authorization header form only
 * ("AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request,
 * SignedHeaders=a;b, Signature=hex"), not presigned query strings; the
 * request time from X-Amz-Date (YYYYMMDDTHHMMSSZ), else from an RFC 1123
 * Date header; at most MS_SIGV4_SKEW seconds from `now` either way.  The
 * signed headers must include host and the date header used.  The payload
 * hash is always the SHA-256 of the body; an x-amz-content-sha256 header,
 * when present, must equal it (UNSIGNED-PAYLOAD is refused: not S3).
 * The canonical URI is the non-S3 one: the raw path with empty and dot
 * segments removed, percent-encoded once more (so "%20" is signed as
 * "%2520"), as botocore and the AWS documentation do.
 *
 * Failures and AWS's answers (the `__type` to send, its HTTP status, and
 * err->message as the text to send; err->detail names the reason for the
 * server's log and never carries a signature, the canonical request or a
 * secret):
 *   no Authorization header            MissingAuthenticationTokenException 403
 *                                      "Missing Authentication Token"
 *   Authorization malformed, another   IncompleteSignatureException 400
 *   algorithm, a bad Credential scope,
 *   host or date not signed, no date,
 *   a limit below exceeded
 *   unknown access key; session token  UnrecognizedClientException 400
 *   missing, wrong, or sent for a key  "The security token included in the
 *   that has none                      request is invalid."
 *   signature mismatch (wrong secret,  InvalidSignatureException 400
 *   a signed header or the body        "The request signature we calculated
 *   changed), x-amz-content-sha256     does not match the signature you
 *   not the body's                     provided. ..."
 *   scope date not the request's date, InvalidSignatureException 400 with
 *   another service, another region    AWS's wording for each ("Credential
 *   (when one is required)             should be scoped to correct service:
 *                                      'glue'." ...)
 *   request time off by > 15 minutes   InvalidSignatureException 400
 *                                      "Signature expired: ... - 15 min.)"
 *                                      or "Signature not yet current: ..."
 * These return MS_EREFUSED.  MS_ENOMEM and the lookup's own errors (other
 * than MS_ENOTFOUND) are returned as they are, with the result's aws_type
 * set to "InternalFailure" (500).
 */
#ifndef MS_SERVER_SIGV4_H
#define MS_SERVER_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "metasync/error.h"

/* Allowed clock difference between client and server, in seconds. */
#define MS_SIGV4_SKEW (15 * 60)
/* Limits; past them the request is IncompleteSignatureException. */
#define MS_SIGV4_MAX_HEADERS 256        /* headers in the request */
#define MS_SIGV4_MAX_SIGNED_HEADERS 64  /* names in SignedHeaders */
#define MS_SIGV4_MAX_AUTHORIZATION 8192 /* bytes of the Authorization value */
#define MS_SIGV4_MAX_TARGET 16384       /* bytes of the path, and of the query */
#define MS_SIGV4_MAX_QUERY_PARAMS 512
#define MS_SIGV4_MAX_CANONICAL (256u << 10) /* bytes of the canonical request */
#define MS_SIGV4_ACCESS_KEY_MAX 128         /* bytes of an access key id */

typedef struct ms_sigv4_header {
	const char *name;  /* as received; compared case-insensitively */
	const char *value; /* as received, NUL-terminated */
} ms_sigv4_header;

/*
 * A received request, all borrowed.  path and query are the raw request
 * target split at the first '?' (query without the '?', NULL or "" when
 * none).  A header that appears more than once is given once per line, in
 * the order received.  body may be NULL when body_len is 0.
 */
typedef struct ms_sigv4_request {
	const char *method;
	const char *path;
	const char *query;
	const ms_sigv4_header *headers;
	size_t header_count;
	const void *body;
	size_t body_len;
} ms_sigv4_request;

/*
 * What a lookup gives for a known access key, all borrowed from the
 * callback's owner and valid until ms_sigv4_verify returns: the secret
 * access key, the session token the request must carry (NULL for a
 * long-term key: then the request must carry none) and the account it
 * belongs to (opaque, handed back in the result).
 */
typedef struct ms_sigv4_key {
	const char *secret;
	const char *session_token;
	void *account;
} ms_sigv4_key;

/*
 * Find access_key_id: fill *key and return 0; return MS_ENOTFOUND for an
 * unknown key (err need not be filled), or another negative MS_E* code with
 * err filled when the lookup itself failed.
 */
typedef int (*ms_sigv4_lookup)(const char *access_key_id, ms_sigv4_key *key, void *ctx,
			       ms_error *err);

/*
 * The outcome.  Always written by ms_sigv4_verify: on success aws_type is
 * NULL and http_status 200; on failure access_key_id and region may be
 * empty and account NULL.
 */
typedef struct ms_sigv4_result {
	char access_key_id[MS_SIGV4_ACCESS_KEY_MAX + 1];
	char region[64];
	char date[17];        /* the request time, YYYYMMDDTHHMMSSZ */
	void *account;        /* the lookup's, borrowed */
	const char *aws_type; /* static: "InvalidSignatureException", ... */
	int http_status;
} ms_sigv4_result;

/*
 * Verify req's signature for service (e.g. "glue") and, when region is not
 * NULL, that region (NULL accepts any region the key signed for, reported
 * in out->region); now is the server's time.  Returns 0 when the request is
 * authentic, else as the opening comment lists, with err->message the text
 * to send the client.
 */
int ms_sigv4_verify(const ms_sigv4_request *req, const char *service, const char *region,
		    time_t now, ms_sigv4_lookup lookup, void *ctx, ms_sigv4_result *out,
		    ms_error *err);

/*
 * Parse an ISO 8601 basic UTC time, "20150830T123600Z", into *out.  Returns
 * 0 or MS_EINVAL (err may be NULL).
 */
int ms_sigv4_parse_amz_date(const char *s, time_t *out, ms_error *err);

#endif
