/*
 * The catalog server's SigV4 verifier.  Every Glue API request is signed by
 * the client; this file decides whether it was, by the key the request
 * names, without trusting anything in it before the signature matches.  It
 * parses the Authorization header strictly and within fixed limits, checks
 * the credential scope and the clock before it asks for the key, and
 * rebuilds the canonical request the way AWS's own signers do (botocore for
 * the URI and query rules, libcurl for the rest agrees on every request the
 * Glue API makes).  Answers use AWS's error types and wording so that SDKs
 * report them as they would against AWS; none of them reveals what the
 * server computed.
 */
#include "server/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/buf.h"
#include "util/url.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"

enum fault {
	F_MISSING,      /* MissingAuthenticationTokenException */
	F_INCOMPLETE,   /* IncompleteSignatureException */
	F_UNRECOGNIZED, /* UnrecognizedClientException */
	F_INVALID,      /* InvalidSignatureException */
	F_INTERNAL      /* InternalFailure */
};

static const struct {
	const char *type;
	int status;
	const char *message; /* the default text for the client */
} faults[] = {
	[F_MISSING] = { "MissingAuthenticationTokenException", 403,
			"Missing Authentication Token" },
	[F_INCOMPLETE] = { "IncompleteSignatureException", 400,
			   "The request signature does not conform to AWS standards." },
	[F_UNRECOGNIZED] = { "UnrecognizedClientException", 400,
			     "The security token included in the request is invalid." },
	[F_INVALID] = { "InvalidSignatureException", 400,
			"The request signature we calculated does not match the signature you "
			"provided. Check your AWS Secret Access Key and signing method. Consult "
			"the service documentation for details." },
	[F_INTERNAL] = { "InternalFailure", 500,
			 "The request processing has failed because of an unknown error, "
			 "exception or failure." },
};

/* The parsed Authorization header; pointers into `copy`. */
typedef struct auth {
	char copy[MS_SIGV4_MAX_AUTHORIZATION + 1];
	const char *akid, *date, *region, *service;
	const char *signed_headers; /* as sent, "a;b;c" */
	const char *names[MS_SIGV4_MAX_SIGNED_HEADERS];
	size_t name_count;
	char signature[65]; /* lowercased */
	char names_copy[MS_SIGV4_MAX_AUTHORIZATION + 1];
} auth;

/*
 * Fill out and err for fault: message is the client's text (NULL: the
 * default), reason the log's.  Returns MS_EREFUSED.
 */
static int refuse(ms_sigv4_result *out, ms_error *err, enum fault f, const char *message,
		  const char *reason)
{
	out->aws_type = faults[f].type;
	out->http_status = faults[f].status;
	ms_error_set(err, MS_EREFUSED, "%s", message ? message : faults[f].message);
	ms_error_detail(err, "sigv4: %s", reason);
	if (err)
		snprintf(err->backend_code, sizeof(err->backend_code), "%d", faults[f].status);
	return MS_EREFUSED;
}

/* Like refuse, for a failure of ours: returns code. */
static int internal(ms_sigv4_result *out, ms_error *err, int code, const char *reason)
{
	out->aws_type = faults[F_INTERNAL].type;
	out->http_status = faults[F_INTERNAL].status;
	ms_error_set(err, code, "sigv4: %s", reason);
	return code;
}

/* The length of v without its trailing whitespace. */
static size_t trimmed_len(const char *v)
{
	size_t n = strlen(v);

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	return n;
}

/*
 * The only header named name (case-insensitive), its leading whitespace
 * skipped: 1 found, 0 none, -1 several.
 */
static int find_header(const ms_sigv4_request *req, const char *name, const char **value)
{
	int found = 0;

	*value = NULL;
	for (size_t i = 0; i < req->header_count; i++) {
		if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0) {
			if (found)
				return -1;
			found = 1;
			*value = req->headers[i].value ? req->headers[i].value : "";
			*value += strspn(*value, " \t");
		}
	}
	return found;
}

static int is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int ms_sigv4_parse_amz_date(const char *s, time_t *out, ms_error *err)
{
	struct tm tm;
	time_t t;

	if (!s || strlen(s) != 16 || !is_digits(s, 8) || s[8] != 'T' || !is_digits(s + 9, 6) ||
	    s[15] != 'Z')
		return ms_error_set(err, MS_EINVAL, "sigv4: date not in ISO 8601 basic format");
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') -
		     1900;
	tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
	tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
	tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
	tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return ms_error_set(err, MS_EINVAL, "sigv4: date out of range");
	t = timegm(&tm);
	if (t == (time_t)-1)
		return ms_error_set(err, MS_EINVAL, "sigv4: date out of range");
	*out = t;
	return 0;
}

static void format_amz_date(time_t t, char out[17])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		snprintf(out, 17, "%s", "19700101T000000Z");
}

/* An RFC 1123 Date header ("Sun, 06 Nov 1994 08:49:37 GMT"). */
static int parse_http_date(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return MS_EINVAL;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? MS_EINVAL : 0;
}

static int is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* Credential=AKID/YYYYMMDD/region/service/aws4_request into a (cred is cut up in place). */
static int parse_credential(char *cred, auth *a, const char **why)
{
	char *p, *parts[5];
	size_t n, i;

	for (n = 0, p = cred; n < 5; n++) {
		parts[n] = p;
		p = strchr(p, '/');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n != 4 || p) {
		*why = "Credential should have five parts: access key, date, region, service and "
		       "'aws4_request'.";
		return -1;
	}
	if (strcmp(parts[4], TERMINATOR) != 0) {
		*why = "Credential should be scoped with a valid terminator: 'aws4_request'.";
		return -1;
	}
	if (!*parts[0] || strlen(parts[0]) > MS_SIGV4_ACCESS_KEY_MAX) {
		*why = "Credential has an invalid access key id.";
		return -1;
	}
	for (p = parts[0]; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
			*why = "Credential has an invalid access key id.";
			return -1;
		}
	if (strlen(parts[1]) != 8 || !is_digits(parts[1], 8)) {
		*why = "Credential should be scoped to a date in the format YYYYMMDD.";
		return -1;
	}
	if (!*parts[2] || strlen(parts[2]) > 63 || !*parts[3] || strlen(parts[3]) > 63) {
		*why = "Credential should be scoped to a valid region and service.";
		return -1;
	}
	for (i = 2; i <= 3; i++)
		for (p = parts[i]; *p; p++)
			if (!is_token_char(*p)) {
				*why = "Credential should be scoped to a valid region and service.";
				return -1;
			}
	a->akid = parts[0];
	a->date = parts[1];
	a->region = parts[2];
	a->service = parts[3];
	return 0;
}

/* Signature: 64 hex digits, lowercased into a. */
static int parse_signature(const char *sig, auth *a, const char **why)
{
	size_t i;

	if (strlen(sig) != 64) {
		*why = "Signature should be 64 hexadecimal digits.";
		return -1;
	}
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)sig[i])) {
			*why = "Signature should be 64 hexadecimal digits.";
			return -1;
		}
		a->signature[i] = (char)tolower((unsigned char)sig[i]);
	}
	a->signature[64] = '\0';
	return 0;
}

/* SignedHeaders: lowercase names, sorted, unique, ';'-separated (sh kept as sent). */
static int parse_signed_headers(const char *sh, auth *a, const char **why)
{
	char *p;

	a->signed_headers = sh;
	memcpy(a->names_copy, sh, strlen(sh) + 1);
	a->name_count = 0;
	p = a->names_copy;
	if (!*p) {
		*why = "Authorization header requires 'SignedHeaders' parameter.";
		return -1;
	}
	for (;;) {
		char *semi = strchr(p, ';');

		if (semi)
			*semi = '\0';
		if (!*p || a->name_count == MS_SIGV4_MAX_SIGNED_HEADERS) {
			*why = !*p ? "SignedHeaders has an empty header name."
				   : "SignedHeaders names too many headers.";
			return -1;
		}
		for (char *c = p; *c; c++)
			if (!is_token_char(*c)) {
				*why = "SignedHeaders should list lowercase header names.";
				return -1;
			}
		if (a->name_count && strcmp(a->names[a->name_count - 1], p) >= 0) {
			*why = "SignedHeaders should be sorted and unique.";
			return -1;
		}
		a->names[a->name_count++] = p;
		if (!semi)
			break;
		p = semi + 1;
	}
	return 0;
}

/*
 * Parse "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
 * into a; on failure *why is the client's message.
 */
static int parse_authorization(const char *value, auth *a, const char **why)
{
	char *p, *comp, *save = NULL, *cred = NULL, *sh = NULL, *sig = NULL;
	size_t n;

	*why = NULL;
	if (strlen(value) > MS_SIGV4_MAX_AUTHORIZATION) {
		*why = "Authorization header is too long.";
		return -1;
	}
	memcpy(a->copy, value, strlen(value) + 1);
	p = a->copy;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(ALGORITHM);
	if (strncmp(p, ALGORITHM, n) != 0 || (p[n] != ' ' && p[n] != '\t')) {
		*why = "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA256' is the only one accepted.";
		return -1;
	}
	p += n;
	for (comp = strtok_r(p, ",", &save); comp; comp = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*comp == ' ' || *comp == '\t')
			comp++;
		end = comp + strlen(comp);
		while (end > comp && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (strncmp(comp, "Credential=", 11) == 0 && !cred)
			cred = comp + 11;
		else if (strncmp(comp, "SignedHeaders=", 14) == 0 && !sh)
			sh = comp + 14;
		else if (strncmp(comp, "Signature=", 10) == 0 && !sig)
			sig = comp + 10;
		else {
			*why = "Authorization header has an unexpected or repeated parameter.";
			return -1;
		}
	}
	if (!cred) {
		*why = "Authorization header requires 'Credential' parameter.";
		return -1;
	}
	if (!sh) {
		*why = "Authorization header requires 'SignedHeaders' parameter.";
		return -1;
	}
	if (!sig) {
		*why = "Authorization header requires 'Signature' parameter.";
		return -1;
	}

	if (parse_credential(cred, a, why) < 0 || parse_signature(sig, a, why) < 0 ||
	    parse_signed_headers(sh, a, why) < 0)
		return -1;
	return 0;
}

static int signs(const auth *a, const char *name)
{
	for (size_t i = 0; i < a->name_count; i++)
		if (strcmp(a->names[i], name) == 0)
			return 1;
	return 0;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return MS_ERROR;
	hex(md, 32, out);
	return 0;
}

static int hmac(const void *key, size_t keylen, const char *data, unsigned char out[32])
{
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, strlen(data), out,
		  &n) ||
	    n != 32)
		return MS_ERROR;
	return 0;
}

/* Append s[0..len) percent-encoded as SigV4 wants; '/' kept when keep_slash. */
static int add_encoded(ms_buf *b, const char *s, size_t len, int keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	int error = 0;

	for (size_t i = 0; i < len && error == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/')) {
			error = ms_buf_addc(b, (char)c);
		} else {
			char e[3] = { '%', digits[c >> 4], digits[c & 15] };

			error = ms_buf_add(b, e, 3);
		}
	}
	return error;
}

/* Append s[0..len) percent-decoded then encoded again (a lone '%' is kept as data). */
static int add_reencoded(ms_buf *b, const char *s, size_t len)
{
	char tmp[MS_SIGV4_MAX_TARGET];
	size_t n = 0;

	for (size_t i = 0; i < len && n < sizeof(tmp); i++) {
		if (s[i] == '%' && i + 2 < len && ms_hexval((unsigned char)s[i + 1]) >= 0 &&
		    ms_hexval((unsigned char)s[i + 2]) >= 0) {
			tmp[n++] = (char)(ms_hexval((unsigned char)s[i + 1]) * 16 +
					  ms_hexval((unsigned char)s[i + 2]));
			i += 2;
		} else {
			tmp[n++] = s[i];
		}
	}
	return add_encoded(b, tmp, n, 0);
}

/*
 * The canonical URI: botocore's remove_dot_segments (dot and empty segments
 * dropped, a trailing '/' kept) then encoded once more.  Encoded segments
 * hold no '/', so ".." drops back to the last '/' written.
 */
static int add_canonical_uri(ms_buf *b, const char *path)
{
	size_t start = b->len, plen = strlen(path);
	const char *p = path;
	int error = 0;

	while (*p && error == 0) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (b->len > start && b->ptr[b->len - 1] != '/')
				b->len--;
			if (b->len > start)
				b->len--;
			if (b->ptr)
				b->ptr[b->len] = '\0';
		} else if (l && !(l == 1 && p[0] == '.')) {
			if ((error = ms_buf_addc(b, '/')) == 0)
				error = add_encoded(b, p, l, 0);
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (error == 0 && b->len > start && plen && path[plen - 1] == '/')
		error = ms_buf_addc(b, '/');
	if (error == 0 && b->len == start)
		error = ms_buf_addc(b, '/');
	return error;
}

typedef struct qparam {
	char *name, *value; /* encoded, owned */
} qparam;

static int qparam_cmp(const void *x, const void *y)
{
	const qparam *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->value, b->value);
}

/* The canonical query string; MS_ETOOBIG past the limits. */
static int add_canonical_query(ms_buf *b, const char *query)
{
	qparam params[MS_SIGV4_MAX_QUERY_PARAMS];
	size_t n = 0;
	const char *p = query;
	int error = 0;

	while (p && *p && error == 0) {
		const char *e = strchr(p, '&');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l) {
			const char *eq = memchr(p, '=', l);
			size_t nl = eq ? (size_t)(eq - p) : l;
			ms_buf nb = MS_BUF_INIT(MS_SIGV4_MAX_TARGET * 3);
			ms_buf vb = MS_BUF_INIT(MS_SIGV4_MAX_TARGET * 3);

			if (n == MS_SIGV4_MAX_QUERY_PARAMS)
				error = MS_ETOOBIG;
			if (error == 0)
				error = add_reencoded(&nb, p, nl);
			if (error == 0 && eq)
				error = add_reencoded(&vb, eq + 1, l - nl - 1);
			if (error == 0) {
				params[n].name = ms_buf_detach(&nb);
				params[n].value = ms_buf_detach(&vb);
				if (!params[n].name || !params[n].value) {
					free(params[n].name);
					free(params[n].value);
					error = MS_ENOMEM;
				} else {
					n++;
				}
			}
			ms_buf_free(&nb);
			ms_buf_free(&vb);
		}
		p = e ? e + 1 : NULL;
	}
	if (error == 0)
		qsort(params, n, sizeof(params[0]), qparam_cmp);
	for (size_t i = 0; i < n; i++) {
		if (error == 0 && i)
			error = ms_buf_addc(b, '&');
		if (error == 0)
			error = ms_buf_printf(b, "%s=%s", params[i].name, params[i].value);
		free(params[i].name);
		free(params[i].value);
	}
	return error;
}

/* Append one header value trimmed, with runs of whitespace made one space. */
static int add_trimmed(ms_buf *b, const char *v)
{
	int space = 0, any = 0, error = 0;

	for (; *v && error == 0; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = any;
			continue;
		}
		if (space)
			error = ms_buf_addc(b, ' ');
		if (error == 0)
			error = ms_buf_addc(b, *v);
		space = 0;
		any = 1;
	}
	return error;
}

/* "name:v1,v2\n" for each signed header; 1 when one is absent from req. */
static int add_canonical_headers(ms_buf *b, const ms_sigv4_request *req, const auth *a)
{
	int error = 0;

	for (size_t i = 0; i < a->name_count && error == 0; i++) {
		int seen = 0;

		error = ms_buf_printf(b, "%s:", a->names[i]);
		for (size_t j = 0; j < req->header_count && error == 0; j++) {
			const ms_sigv4_header *h = &req->headers[j];

			if (!h->name || strcasecmp(h->name, a->names[i]) != 0)
				continue;
			if (seen)
				error = ms_buf_addc(b, ',');
			if (error == 0)
				error = add_trimmed(b, h->value ? h->value : "");
			seen = 1;
		}
		if (error == 0 && !seen)
			return 1;
		if (error == 0)
			error = ms_buf_addc(b, '\n');
	}
	return error;
}

/*
 * Compare a received value (trailing whitespace ignored) with a secret
 * without leaking where they differ.
 */
static int secret_equal(const char *x, const char *y)
{
	size_t lx = trimmed_len(x), ly = strlen(y);

	if (lx != ly)
		return 0;
	return CRYPTO_memcmp(x, y, lx) == 0;
}

/*
 * The request's Authorization header, parsed into *out_a (new) and
 * checked, and the request within the verifier's limits.
 */
static int read_authorization(const ms_sigv4_request *req, auth **out_a, ms_sigv4_result *out,
			      ms_error *err)
{
	const char *authz, *why;
	auth *a;
	int r;

	r = find_header(req, "authorization", &authz);
	if (r == 0)
		return refuse(out, err, F_MISSING, NULL, "no Authorization header");
	if (r < 0)
		return refuse(out, err, F_INCOMPLETE, NULL, "several Authorization headers");
	if (!(a = malloc(sizeof(*a))))
		return internal(out, err, MS_ENOMEM, "out of memory");
	*out_a = a;
	if (parse_authorization(authz, a, &why) < 0)
		return refuse(out, err, F_INCOMPLETE, why, "malformed Authorization header");
	snprintf(out->access_key_id, sizeof(out->access_key_id), "%s", a->akid);
	snprintf(out->region, sizeof(out->region), "%s", a->region);

	if (req->header_count > MS_SIGV4_MAX_HEADERS || !req->method || !req->path ||
	    strlen(req->path) > MS_SIGV4_MAX_TARGET ||
	    (req->query && strlen(req->query) > MS_SIGV4_MAX_TARGET))
		return refuse(out, err, F_INCOMPLETE, NULL, "request beyond the verifier's limits");
	return 0;
}

/*
 * The request time from X-Amz-Date or Date, which must be signed with
 * Host: *t, amz_date (its ISO-8601 basic form) and *date_header (the
 * header's lowercase name, static).
 */
static int request_time(const ms_sigv4_request *req, const auth *a, time_t *t, char amz_date[17],
			const char **date_header, ms_sigv4_result *out, ms_error *err)
{
	const char *date_value;
	char msg[256];
	int r;

	*date_header = "x-amz-date";
	r = find_header(req, "x-amz-date", &date_value);
	if (r == 0) {
		*date_header = "date";
		r = find_header(req, "date", &date_value);
	}
	if (r == 0)
		return refuse(out, err, F_INCOMPLETE,
			      "Authorization header requires existence of either a 'X-Amz-Date' or "
			      "a 'Date' header.",
			      "no date header");
	if (r == 1 && trimmed_len(date_value) < sizeof(msg)) {
		memcpy(msg, date_value, trimmed_len(date_value));
		msg[trimmed_len(date_value)] = '\0';
	} else {
		msg[0] = '\0';
	}
	if (r < 0 ||
	    (strcmp(*date_header, "date") == 0 ? parse_http_date(msg, t)
					       : ms_sigv4_parse_amz_date(msg, t, NULL)) < 0)
		return refuse(out, err, F_INCOMPLETE,
			      "Date must be in ISO-8601 'basic format'. Got a malformed or "
			      "repeated "
			      "date header.",
			      "bad date header");
	format_amz_date(*t, amz_date);
	snprintf(out->date, sizeof(out->date), "%s", amz_date);

	if (!signs(a, "host"))
		return refuse(out, err, F_INCOMPLETE,
			      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
			      "host not signed");
	if (!signs(a, *date_header)) {
		snprintf(msg, sizeof(msg),
			 "'%s' must be a 'SignedHeader' in the AWS Authorization.",
			 strcmp(*date_header, "date") == 0 ? "Date" : "X-Amz-Date");
		return refuse(out, err, F_INCOMPLETE, msg, "date header not signed");
	}
	return 0;
}

/* The credential scope: the request's day, this service, this region (NULL: any). */
static int check_scope(const auth *a, const char *amz_date, const char *date_header,
		       const char *service, const char *region, ms_sigv4_result *out, ms_error *err)
{
	char msg[256];

	if (strncmp(a->date, amz_date, 8) != 0) {
		snprintf(msg, sizeof(msg),
			 "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
			 "of date from HTTP: '%s' != '%.8s', from '%s'.",
			 a->date, amz_date, date_header);
		return refuse(out, err, F_INVALID, msg,
			      "credential scope date is not the request's");
	}
	if (strcmp(a->service, service) != 0) {
		snprintf(msg, sizeof(msg), "Credential should be scoped to correct service: '%s'.",
			 service);
		return refuse(out, err, F_INVALID, msg, "credential scoped to another service");
	}
	if (region && strcmp(a->region, region) != 0)
		return refuse(out, err, F_INVALID, "Credential should be scoped to a valid region.",
			      "credential scoped to another region");
	return 0;
}

/* The clock: the request time within MS_SIGV4_SKEW of now. */
static int check_clock(time_t t, time_t now, const char *amz_date, ms_sigv4_result *out,
		       ms_error *err)
{
	char bound[17], server[17], msg[256];

	if (t >= now - MS_SIGV4_SKEW && t <= now + MS_SIGV4_SKEW)
		return 0;
	format_amz_date(now, server);
	if (t < now) {
		format_amz_date(now - MS_SIGV4_SKEW, bound);
		snprintf(msg, sizeof(msg),
			 "Signature expired: %s is now earlier than %s (%s - 15 min.)", amz_date,
			 bound, server);
	} else {
		format_amz_date(now + MS_SIGV4_SKEW, bound);
		snprintf(msg, sizeof(msg),
			 "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			 amz_date, bound, server);
	}
	return refuse(out, err, F_INVALID, msg, "request time outside the allowed skew");
}

/* The key the request names, into *key, and its session token checked. */
static int find_key(const ms_sigv4_request *req, const auth *a, ms_sigv4_lookup lookup, void *ctx,
		    ms_sigv4_key *key, ms_sigv4_result *out, ms_error *err)
{
	const char *token;
	ms_error lerr;
	int r;

	ms_error_clear(&lerr);
	r = lookup(a->akid, key, ctx, &lerr);
	if (r == MS_ENOTFOUND)
		return refuse(out, err, F_UNRECOGNIZED, NULL, "unknown access key");
	if (r < 0) {
		out->aws_type = faults[F_INTERNAL].type;
		out->http_status = faults[F_INTERNAL].status;
		if (err)
			*err = lerr;
		return r;
	}
	if (!key->secret)
		return refuse(out, err, F_UNRECOGNIZED, NULL, "access key without a secret");
	r = find_header(req, "x-amz-security-token", &token);
	if (r < 0 || (key->session_token && (r == 0 || !secret_equal(token, key->session_token))) ||
	    (!key->session_token && r == 1))
		return refuse(out, err, F_UNRECOGNIZED, NULL,
			      key->session_token ? "session token missing or wrong"
						 : "session token sent for a long-term key");
	return 0;
}

/* The payload's SHA-256 into body_hash, and x-amz-content-sha256 (when sent) matching it. */
static int check_payload(const ms_sigv4_request *req, char body_hash[65], ms_sigv4_result *out,
			 ms_error *err)
{
	const char *token;
	int r;

	if (sha256_hex(req->body, req->body_len, body_hash) < 0)
		return internal(out, err, MS_ERROR, "SHA-256 failed");
	r = find_header(req, "x-amz-content-sha256", &token);
	if (r < 0 ||
	    (r == 1 && (trimmed_len(token) != 64 || strncasecmp(token, body_hash, 64) != 0)))
		return refuse(out, err, F_INVALID,
			      "The provided 'x-amz-content-sha256' header does not match what was "
			      "computed.",
			      "x-amz-content-sha256 is not the body's");
	return 0;
}

/* The canonical request into canon. */
static int canonical_request(const ms_sigv4_request *req, const auth *a, const char *body_hash,
			     ms_buf *canon, ms_sigv4_result *out, ms_error *err)
{
	int error;

	if ((error = ms_buf_printf(canon, "%s\n", req->method)) == 0 &&
	    (error = add_canonical_uri(canon, req->path)) == 0 &&
	    (error = ms_buf_addc(canon, '\n')) == 0 &&
	    (error = add_canonical_query(canon, req->query)) == 0 &&
	    (error = ms_buf_addc(canon, '\n')) == 0)
		error = add_canonical_headers(canon, req, a);
	if (error == 1)
		return refuse(out, err, F_INVALID, NULL, "a signed header is absent");
	if (error == 0)
		error = ms_buf_printf(canon, "\n%s\n%s", a->signed_headers, body_hash);
	if (error == MS_ETOOBIG)
		return refuse(out, err, F_INCOMPLETE, NULL, "canonical request beyond the limit");
	if (error < 0)
		return internal(out, err, error, "building the canonical request failed");
	return 0;
}

/*
 * The string to sign of canon and the signature the secret gives it, as
 * lowercase hex into expected; the derived keys are wiped.
 */
static int signature(const auth *a, const char *secret, const char *amz_date, const ms_buf *canon,
		     char expected[65], ms_sigv4_result *out, ms_error *err)
{
	ms_buf sts = MS_BUF_INIT(1024);
	char canon_hash[65];
	unsigned char k1[32], k2[32];
	size_t slen = 0;
	char *kseed = NULL;
	int error = 0;

	if (sha256_hex(canon->ptr, canon->len, canon_hash) < 0 ||
	    ms_buf_printf(&sts, ALGORITHM "\n%s\n%s/%s/%s/" TERMINATOR "\n%s", amz_date, a->date,
			  a->region, a->service, canon_hash) < 0) {
		error = internal(out, err, MS_ERROR, "building the string to sign failed");
		goto done;
	}
	slen = strlen(secret);
	if (!(kseed = malloc(slen + 5))) {
		error = internal(out, err, MS_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(kseed, "AWS4", 4);
	memcpy(kseed + 4, secret, slen + 1);
	if (hmac(kseed, slen + 4, a->date, k1) < 0 || hmac(k1, 32, a->region, k2) < 0 ||
	    hmac(k2, 32, a->service, k1) < 0 || hmac(k1, 32, TERMINATOR, k2) < 0 ||
	    hmac(k2, 32, ms_buf_cstr(&sts), k1) < 0) {
		error = internal(out, err, MS_ERROR, "HMAC-SHA256 failed");
		goto done;
	}
	hex(k1, 32, expected);
done:
	if (kseed) {
		OPENSSL_cleanse(kseed, slen + 4);
		free(kseed);
	}
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	ms_buf_free(&sts);
	return error;
}

int ms_sigv4_verify(const ms_sigv4_request *req, const char *service, const char *region,
		    time_t now, ms_sigv4_lookup lookup, void *ctx, ms_sigv4_result *out,
		    ms_error *err)
{
	auth *a = NULL;
	ms_buf canon = MS_BUF_INIT(MS_SIGV4_MAX_CANONICAL);
	const char *date_header;
	char amz_date[17], body_hash[65], expected[65];
	ms_sigv4_key key = { NULL, NULL, NULL };
	time_t t;
	int error;

	memset(out, 0, sizeof(*out));
	out->http_status = 200;
	memset(expected, 0, sizeof(expected));
	if ((error = read_authorization(req, &a, out, err)) < 0 ||
	    (error = request_time(req, a, &t, amz_date, &date_header, out, err)) < 0 ||
	    (error = check_scope(a, amz_date, date_header, service, region, out, err)) < 0 ||
	    (error = check_clock(t, now, amz_date, out, err)) < 0 ||
	    (error = find_key(req, a, lookup, ctx, &key, out, err)) < 0 ||
	    (error = check_payload(req, body_hash, out, err)) < 0 ||
	    (error = canonical_request(req, a, body_hash, &canon, out, err)) < 0 ||
	    (error = signature(a, key.secret, amz_date, &canon, expected, out, err)) < 0)
		goto done;
	if (CRYPTO_memcmp(expected, a->signature, 64) != 0) {
		error = refuse(out, err, F_INVALID, NULL, "signature mismatch");
		goto done;
	}
	out->account = key.account;
	out->aws_type = NULL;
	out->http_status = 200;

done:
	OPENSSL_cleanse(expected, sizeof(expected));
	ms_buf_free(&canon);
	free(a);
	return error;
}
