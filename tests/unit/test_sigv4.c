/*
 * Unit tests of the SigV4 verifier (src/server/sigv4.c), on signatures made
 * by real clients: libcurl's own signer in this process, and, with an
 * argument, the AWS CLI ("aws") or boto3 ("boto3") run as a child process
 * (both exit 77 when the client is not installed).  Each signs a Glue
 * GetTable request to a listener on 127.0.0.1 that captures it; the capture
 * must verify, and every tampering derived from it (key, secret, a signed
 * header, the body, the clock, the Authorization header, the session token)
 * must be refused with AWS's error type and wording.  Known answers from
 * AWS's documentation pin the canonical form; the limits are checked too.
 * MS_SIGV4_SAVE=DIR writes each capture there (the fuzz corpus came so).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http_capture.h"
#include "server/sigv4.h"

#define AKID "AKIDMETASYNCTEST01"
#define SECRET "mS3cr3t/Key+ForSigV4Tests/0123456789abcd"
#define TOKEN "FwoGZXIvYXdzEMetasync//Session+Token/For=Tests"
#define BODY "{\"DatabaseName\":\"sales db\",\"Name\":\"orders\"}"

#define INVALID_MSG \
	"The request signature we calculated does not match the signature you provided. " \
	"Check your AWS Secret Access Key and signing method. Consult the service " \
	"documentation for details."
#define UNRECOGNIZED_MSG "The security token included in the request is invalid."

/* One key the lookup knows (or, with unknown set, none; with broken, it fails). */
typedef struct keyring {
	const char *akid, *secret, *token;
	int unknown, broken;
	int calls;
} keyring;

static int account_marker;

static int lookup(const char *akid, ms_sigv4_key *key, void *ctx, ms_error *err)
{
	keyring *k = ctx;

	k->calls++;
	if (k->broken)
		return ms_error_set(err, MS_EIO, "key store unreachable");
	if (k->unknown || strcmp(akid, k->akid) != 0)
		return MS_ENOTFOUND;
	key->secret = k->secret;
	key->session_token = k->token;
	key->account = &account_marker;
	return 0;
}

/* The request time the capture carries. */
static time_t request_time(const ms_raw_request *r)
{
	int i = ms_raw_request_find(r, "x-amz-date");
	const char *v;
	time_t t = 0;

	assert_true(i >= 0);
	v = r->headers[i].value;
	while (*v == ' ')
		v++;
	assert_int_equal(ms_sigv4_parse_amz_date(v, &t, NULL), 0);
	return t;
}

static int verify(const ms_raw_request *r, const char *service, const char *region, time_t now,
		  keyring *k, ms_sigv4_result *out, ms_error *err)
{
	ms_error_clear(err);
	return ms_sigv4_verify(&r->req, service, region, now, lookup, k, out, err);
}

/* Expect a refusal of type with message (NULL: any). */
static void expect_refused(const ms_raw_request *r, time_t now, keyring *k, const char *type,
			   int status, const char *message)
{
	ms_sigv4_result out;
	ms_error err;
	int rc = verify(r, "glue", NULL, now, k, &out, &err);

	if (rc != MS_EREFUSED || !out.aws_type || strcmp(out.aws_type, type) != 0)
		fail_msg("expected %s, got rc %d type %s (%s; %s)", type, rc,
			 out.aws_type ? out.aws_type : "none", err.message, err.detail);
	assert_int_equal(out.http_status, status);
	if (message)
		assert_string_equal(err.message, message);
	assert_null(strchr(err.message, '\n'));
}

static void expect_valid(const ms_raw_request *r, time_t now, keyring *k)
{
	ms_sigv4_result out;
	ms_error err;

	if (verify(r, "glue", "us-east-1", now, k, &out, &err) != 0)
		fail_msg("valid request refused: %s (%s)", err.message, err.detail);
	assert_null(out.aws_type);
	assert_string_equal(out.access_key_id, k->akid);
	assert_string_equal(out.region, "us-east-1");
	assert_ptr_equal(out.account, &account_marker);
}

/* The value of key= in an Authorization header (copied into out). */
static void auth_part(const char *authz, const char *key, char *out, size_t n)
{
	const char *p = strstr(authz, key), *e;

	assert_non_null(p);
	p += strlen(key);
	e = p + strcspn(p, ", ");
	assert_true((size_t)(e - p) < n);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

/* The header value with its leading spaces dropped. */
static const char *header(const ms_raw_request *r, const char *name)
{
	int i = ms_raw_request_find(r, name);
	const char *v;

	if (i < 0)
		return NULL;
	v = r->headers[i].value;
	while (*v == ' ')
		v++;
	return v;
}

/* Replace the first `from` in s by `to` (new). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *o;

	assert_non_null(p);
	o = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	assert_non_null(o);
	memcpy(o, s, (size_t)(p - s));
	strcpy(o + (p - s), to);
	strcat(o, p + strlen(from));
	return o;
}

static void parse(ms_raw_request *r, const char *raw, size_t len)
{
	assert_int_equal(ms_raw_request_parse(r, raw, len), 0);
}

/* Verify the capture with the Authorization header replaced by authz. */
static void expect_auth_refused(const char *raw, size_t len, const char *authz, time_t now,
				keyring *k, const char *type, const char *message)
{
	ms_raw_request r;
	int i;

	parse(&r, raw, len);
	i = ms_raw_request_find(&r, "authorization");
	assert_true(i >= 0);
	r.headers[i].value = authz;
	expect_refused(&r, now, k, type, 400, message);
	ms_raw_request_free(&r);
}

/* A capture under test: its text, request time, key and Authorization parts. */
typedef struct capture {
	const char *raw;
	size_t len;
	const char *token; /* the session token it was signed with, or NULL */
	time_t t;
	keyring k;
	char cred[256], sh[1024], sig[128];
} capture;

/* Valid now and at the edges of the allowed skew; refused 16 minutes either way. */
static void check_clock(capture *c, ms_raw_request *r)
{
	ms_sigv4_result out;
	ms_error err;
	time_t t = c->t;

	expect_valid(r, t, &c->k);
	expect_valid(r, t + 14 * 60, &c->k);
	expect_valid(r, t - 14 * 60, &c->k);
	expect_valid(r, t + 15 * 60, &c->k);
	assert_int_equal(verify(r, "glue", NULL, t, &c->k, &out, &err), 0);
	assert_string_equal(out.region, "us-east-1");

	expect_refused(r, t + 16 * 60, &c->k, "InvalidSignatureException", 400, NULL);
	assert_int_equal(verify(r, "glue", NULL, t + 16 * 60, &c->k, &out, &err), MS_EREFUSED);
	assert_true(strncmp(err.message, "Signature expired: ", 19) == 0);
	assert_non_null(strstr(err.message, " - 15 min.)"));
	assert_int_equal(verify(r, "glue", NULL, t - 16 * 60, &c->k, &out, &err), MS_EREFUSED);
	assert_true(strncmp(err.message, "Signature not yet current: ", 27) == 0);
}

/* Keys (unknown, wrong secret, a failing lookup), then region and service. */
static void check_keys(capture *c, ms_raw_request *r)
{
	ms_sigv4_result out;
	ms_error err;
	keyring other;
	time_t t = c->t;

	other = c->k;
	other.unknown = 1;
	expect_refused(r, t, &other, "UnrecognizedClientException", 400, UNRECOGNIZED_MSG);
	other = c->k;
	other.secret = "not-the-secret";
	expect_refused(r, t, &other, "InvalidSignatureException", 400, INVALID_MSG);
	/* What was computed shows nowhere. */
	assert_int_equal(verify(r, "glue", NULL, t, &other, &out, &err), MS_EREFUSED);
	assert_null(strstr(err.message, "AWS4-HMAC-SHA256"));
	assert_null(strstr(err.detail, "AWS4-HMAC-SHA256"));
	other = c->k;
	other.broken = 1;
	assert_int_equal(verify(r, "glue", NULL, t, &other, &out, &err), MS_EIO);
	assert_string_equal(out.aws_type, "InternalFailure");
	assert_int_equal(out.http_status, 500);

	assert_int_equal(verify(r, "glue", "eu-west-1", t, &c->k, &out, &err), MS_EREFUSED);
	assert_string_equal(out.aws_type, "InvalidSignatureException");
	assert_int_equal(verify(r, "athena", NULL, t, &c->k, &out, &err), MS_EREFUSED);
	assert_string_equal(out.aws_type, "InvalidSignatureException");
	assert_string_equal(err.message,
			    "Credential should be scoped to correct service: 'athena'.");
}

/* Session token: required and missing or wrong, or sent for a long-term key. */
static void check_session_token(capture *c, ms_raw_request *r)
{
	keyring other;
	int i;

	other = c->k;
	other.token = c->token ? NULL : "a-token-the-request-lacks";
	expect_refused(r, c->t, &other, "UnrecognizedClientException", 400, UNRECOGNIZED_MSG);
	if (c->token) {
		other = c->k;
		other.token = TOKEN "x";
		expect_refused(r, c->t, &other, "UnrecognizedClientException", 400,
			       UNRECOGNIZED_MSG);
		i = ms_raw_request_find(r, "x-amz-security-token");
		assert_true(i >= 0);
		r->headers[i].name = "x-amz-security-tokem";
		expect_refused(r, c->t, &c->k, "UnrecognizedClientException", 400,
			       UNRECOGNIZED_MSG);
		r->headers[i].name = "X-Amz-Security-Token";
	}
}

/* A signed header changed after signing or dropped; an unsigned one may change. */
static void check_signed_headers(capture *c)
{
	ms_raw_request r;
	int i;

	parse(&r, c->raw, c->len);
	i = ms_raw_request_find(&r, "x-amz-target");
	assert_true(i >= 0);
	assert_non_null(strstr(c->sh, "x-amz-target"));
	r.headers[i].value = " AWSGlue.DeleteTable";
	expect_refused(&r, c->t, &c->k, "InvalidSignatureException", 400, INVALID_MSG);
	r.headers[i].value = "   AWSGlue.GetTable  ";
	expect_valid(&r, c->t, &c->k); /* the same value once trimmed */
	i = ms_raw_request_find(&r, "user-agent");
	if (i >= 0 && !strstr(c->sh, "user-agent")) {
		r.headers[i].value = "something else";
		expect_valid(&r, c->t, &c->k);
	}
	/* A signed header dropped. */
	i = ms_raw_request_find(&r, "x-amz-target");
	r.headers[i].name = "x-amz-targex";
	expect_refused(&r, c->t, &c->k, "InvalidSignatureException", 400, INVALID_MSG);
	ms_raw_request_free(&r);
}

/* The body: changed, or a payload hash header that is not the body's. */
static void check_body(capture *c)
{
	ms_raw_request r;

	parse(&r, c->raw, c->len);
	assert_true(r.req.body_len > 2);
	r.req.body_len--;
	expect_refused(&r, c->t, &c->k, "InvalidSignatureException", 400, INVALID_MSG);
	r.req.body_len++;
	r.headers[r.req.header_count].name = "X-Amz-Content-Sha256";
	r.headers[r.req.header_count].value = "0000000000000000000000000000000000000000000000000000"
					      "000000000000";
	r.req.header_count++;
	expect_refused(&r, c->t, &c->k, "InvalidSignatureException", 400, NULL);
	ms_raw_request_free(&r);
}

/* Each part of a valid Authorization header changed in turn; day: "/YYYYMMDD/". */
static void check_auth_parts(capture *c, const char *day)
{
	static const struct {
		int part; /* 0 Credential, 1 SignedHeaders, 2 Signature */
		const char *from, *to, *type, *message;
	} cases[] = {
		/* The scope: four parts, another terminator, a bad region. */
		{ 0, "/aws4_request", "", "IncompleteSignatureException", NULL },
		{ 0, "/aws4_request", "/aws4_requesx", "IncompleteSignatureException", NULL },
		{ 0, "/us-east-1/", "/us east/", "IncompleteSignatureException", NULL },
		/* Another service or another day in the scope. */
		{ 0, "/glue/", "/s3/", "InvalidSignatureException",
		  "Credential should be scoped to correct service: 'glue'." },
		{ 0, "@DAY@", "/19990101/", "InvalidSignatureException", NULL },
		/* host not signed; SignedHeaders unsorted. */
		{ 1, "host;", "", "IncompleteSignatureException",
		  "'Host' must be a 'SignedHeader' in the AWS Authorization." },
		{ 1, "host;x-amz-date", "x-amz-date;host", "IncompleteSignatureException", NULL },
		/* The signature: one digit short, one digit changed. */
		{ 2, "@LAST@", "", "IncompleteSignatureException", NULL },
		{ 2, "@LAST@", "@OTHER@", "InvalidSignatureException", INVALID_MSG },
	};
	const char *sig = c->sig;
	char authz[2048];

	for (size_t n = 0; n < sizeof(cases) / sizeof(cases[0]); n++) {
		char *parts[3] = { c->cred, c->sh, c->sig };
		char last[2] = { sig[strlen(sig) - 1], '\0' };
		char other[2] = { last[0] == '0' ? '1' : '0', '\0' };
		const char *from = cases[n].from, *to = cases[n].to;

		if (strcmp(from, "@DAY@") == 0)
			from = day;
		if (strcmp(from, "@LAST@") == 0) {
			/* The signature's last digit. */
			parts[2] = malloc(strlen(sig) + 1);
			assert_non_null(parts[2]);
			snprintf(parts[2], strlen(sig) + 1, "%.*s%s", (int)strlen(sig) - 1, sig,
				 strcmp(to, "@OTHER@") == 0 ? other : "");
		} else {
			parts[cases[n].part] = replace(parts[cases[n].part], from, to);
		}
		snprintf(authz, sizeof(authz),
			 "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s", parts[0],
			 parts[1], parts[2]);
		expect_auth_refused(c->raw, c->len, authz, c->t, &c->k, cases[n].type,
				    cases[n].message);
		free(parts[cases[n].part]);
	}
}

/* No Authorization header, malformed ones, and each part of a valid one changed. */
static void check_authorization(capture *c)
{
	ms_raw_request r;
	char authz[2048], day[16];
	int i;

	parse(&r, c->raw, c->len);
	i = ms_raw_request_find(&r, "authorization");
	r.headers[i].name = "x-not-authorization";
	expect_refused(&r, c->t, &c->k, "MissingAuthenticationTokenException", 403,
		       "Missing Authentication Token");

	snprintf(authz, sizeof(authz), "AWS4-HMAC-SHA256 Credential=%s, Signature=%s", c->cred,
		 c->sig);
	expect_auth_refused(c->raw, c->len, authz, c->t, &c->k, "IncompleteSignatureException",
			    "Authorization header requires 'SignedHeaders' parameter.");
	snprintf(authz, sizeof(authz), "AWS4-HMAC-SHA256 SignedHeaders=%s, Signature=%s", c->sh,
		 c->sig);
	expect_auth_refused(c->raw, c->len, authz, c->t, &c->k, "IncompleteSignatureException",
			    "Authorization header requires 'Credential' parameter.");
	snprintf(authz, sizeof(authz),
		 "AWS4-HMAC-SHA1 Credential=%s, SignedHeaders=%s, Signature=%s", c->cred, c->sh,
		 c->sig);
	expect_auth_refused(c->raw, c->len, authz, c->t, &c->k, "IncompleteSignatureException",
			    NULL);

	snprintf(day, sizeof(day), "/%.8s/", header(&r, "x-amz-date"));
	check_auth_parts(c, day);
	ms_raw_request_free(&r);
}

/*
 * Everything a capture must pass and fail.  token: the session token it
 * was signed with, or NULL.
 */
static void check_capture(const char *raw, size_t len, const char *token)
{
	capture c = { raw, len, token, 0, { AKID, SECRET, token, 0, 0, 0 }, "", "", "" };
	ms_raw_request r;
	const char *orig;

	parse(&r, raw, len);
	c.t = request_time(&r);
	orig = header(&r, "authorization");
	assert_non_null(orig);
	auth_part(orig, "Credential=", c.cred, sizeof(c.cred));
	auth_part(orig, "SignedHeaders=", c.sh, sizeof(c.sh));
	auth_part(orig, "Signature=", c.sig, sizeof(c.sig));
	assert_non_null(strstr(c.sh, "host"));

	check_clock(&c, &r);
	check_keys(&c, &r);
	check_session_token(&c, &r);
	ms_raw_request_free(&r);

	check_signed_headers(&c);
	check_body(&c);
	check_authorization(&c);
}

static void save_capture(const char *name, const char *raw, size_t len)
{
	const char *dir = getenv("MS_SIGV4_SAVE");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(raw, 1, len, f), len);
	fclose(f);
}

/* ---- libcurl ------------------------------------------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	return size * n;
}

static char *curl_capture(const char *token, size_t *len)
{
	ms_capture *c = ms_capture_start();
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[64], tok[256];
	char *raw;

	assert_non_null(c);
	assert_non_null(h);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ms_capture_port(c));
	hdrs = curl_slist_append(hdrs, "Content-Type: application/x-amz-json-1.1");
	hdrs = curl_slist_append(hdrs, "X-Amz-Target: AWSGlue.GetTable");
	if (token) {
		snprintf(tok, sizeof(tok), "X-Amz-Security-Token: %s", token);
		hdrs = curl_slist_append(hdrs, tok);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, BODY);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:glue");
	curl_easy_setopt(h, CURLOPT_USERPWD, AKID ":" SECRET);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_perform(h); /* the listener's answer is an error: the capture counts */
	raw = ms_capture_wait(c, 30, len);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	ms_capture_free(c);
	assert_non_null(raw);
	return raw;
}

static void test_curl(void **state)
{
	size_t len;
	char *raw = curl_capture(NULL, &len);

	save_capture("curl_post", raw, len);
	check_capture(raw, len, NULL);
	free(raw);
}

static void test_curl_session_token(void **state)
{
	size_t len;
	char *raw = curl_capture(TOKEN, &len);
	ms_raw_request r;

	parse(&r, raw, len);
	ms_raw_request_free(&r);
	save_capture("curl_post_token", raw, len);
	check_capture(raw, len, TOKEN);
	free(raw);
}

/* ---- clients run as child processes -------------------------------------- */

/* Run argv with env (stdout and stderr to /dev/null) against a listener; the capture. */
static char *spawn_capture(char *const argv[], const char *const *env_in, size_t *len)
{
	ms_capture *c = ms_capture_start();
	posix_spawn_file_actions_t fa;
	char *env[32], url[64], *raw;
	int n = 0, status, waited = 0;
	pid_t pid;

	assert_non_null(c);
	snprintf(url, sizeof(url), "MS_CAPTURE_URL=http://127.0.0.1:%d", ms_capture_port(c));
	env[n++] = url;
	for (; *env_in && n < 31; env_in++)
		env[n++] = (char *)*env_in;
	env[n] = NULL;
	/* The endpoint goes into argv where "@URL@" stands. */
	for (int i = 0; argv[i]; i++)
		if (strcmp(argv[i], "@URL@") == 0)
			((char **)argv)[i] = url + strlen("MS_CAPTURE_URL=");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, env), 0);
	posix_spawn_file_actions_destroy(&fa);
	raw = ms_capture_wait(c, 120, len);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (++waited > 300) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(100 * 1000);
	}
	ms_capture_free(c);
	assert_non_null(raw);
	return raw;
}

static const char *const client_env[] = { "PATH=/usr/bin:/bin",
					  "HOME=/tmp",
					  "AWS_ACCESS_KEY_ID=" AKID,
					  "AWS_SECRET_ACCESS_KEY=" SECRET,
					  "AWS_SESSION_TOKEN=" TOKEN,
					  "AWS_CONFIG_FILE=/dev/null",
					  "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
					  "AWS_MAX_ATTEMPTS=1",
					  "AWS_EC2_METADATA_DISABLED=true",
					  "AWS_PAGER=",
					  NULL };

static void test_aws_cli(void **state)
{
	char *argv[] = { "/usr/bin/aws",
			 "glue",
			 "get-table",
			 "--database-name",
			 "sales db",
			 "--name",
			 "orders",
			 "--endpoint-url",
			 "@URL@",
			 "--region",
			 "us-east-1",
			 "--cli-read-timeout",
			 "2",
			 "--cli-connect-timeout",
			 "2",
			 NULL };
	size_t len;
	char *raw = spawn_capture(argv, client_env, &len);

	save_capture("aws_cli_get_table", raw, len);
	check_capture(raw, len, TOKEN);
	free(raw);
}

static void test_boto3(void **state)
{
	char *argv[] = { "/usr/bin/python3", "-c",
			 "import os, boto3, botocore.config\n"
			 "c = boto3.client('glue', endpoint_url=os.environ['MS_CAPTURE_URL'],"
			 " region_name='us-east-1', config=botocore.config.Config("
			 "retries={'max_attempts': 0}, read_timeout=2, connect_timeout=2))\n"
			 "try:\n"
			 "    c.get_table(DatabaseName='sales db', Name='orders')\n"
			 "except Exception:\n"
			 "    pass\n",
			 NULL };
	size_t len;
	char *raw = spawn_capture(argv, client_env, &len);

	save_capture("boto3_get_table", raw, len);
	check_capture(raw, len, TOKEN);
	free(raw);
}

/*
 * botocore's own signer (SigV4Auth) on a GET with dot segments, doubled
 * slashes, percent-encoded bytes and an unsorted query, sent as is by
 * http.client: pins the canonical URI (encoded twice) and query on a real
 * client, where the Glue API itself only ever POSTs to "/".
 */
static void test_botocore_path_query(void **state)
{
	char *argv[] = { "/usr/bin/python3", "-c",
			 "import os, http.client, urllib.parse\n"
			 "from botocore.auth import SigV4Auth\n"
			 "from botocore.awsrequest import AWSRequest\n"
			 "from botocore.credentials import Credentials\n"
			 "url = os.environ['MS_CAPTURE_URL']\n"
			 "path = '/db%20one/./x/../tables//t%2Fq~?b=2&a=x%20y&a=1&c&d=%2F'\n"
			 "req = AWSRequest(method='GET', url=url + path, data=b'')\n"
			 "SigV4Auth(Credentials(os.environ['AWS_ACCESS_KEY_ID'],"
			 " os.environ['AWS_SECRET_ACCESS_KEY'], os.environ['AWS_SESSION_TOKEN']),"
			 " 'glue', 'us-east-1').add_auth(req)\n"
			 "u = urllib.parse.urlsplit(url)\n"
			 "c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)\n"
			 "has_host = any(k.lower() == 'host' for k in req.headers.keys())\n"
			 "c.putrequest('GET', path, skip_host=has_host, "
			 "skip_accept_encoding=True)\n"
			 "for k, v in req.headers.items():\n"
			 "    c.putheader(k, v)\n"
			 "c.endheaders()\n"
			 "try:\n"
			 "    c.getresponse().read()\n"
			 "except Exception:\n"
			 "    pass\n",
			 NULL };
	keyring k = { AKID, SECRET, TOKEN, 0, 0, 0 };
	ms_raw_request r;
	size_t len;
	char *raw = spawn_capture(argv, client_env, &len);

	save_capture("botocore_get_path_query", raw, len);
	parse(&r, raw, len);
	assert_string_equal(r.req.path, "/db%20one/./x/../tables//t%2Fq~");
	expect_valid(&r, request_time(&r), &k);
	/* The same path once normalised signs the same; another path does not. */
	r.req.path = "/db%20one/tables/t%2Fq~";
	expect_valid(&r, request_time(&r), &k);
	r.req.path = "/db%20one/tables/t/q~";
	expect_refused(&r, request_time(&r), &k, "InvalidSignatureException", 400, INVALID_MSG);
	r.req.path = "/db%20one/./x/../tables//t%2Fq~";
	r.req.query = "a=1&a=x%20y&b=2&c&d=%2F";
	expect_valid(&r, request_time(&r), &k);
	r.req.query = "a=1&a=x%20y&b=3&c&d=%2F";
	expect_refused(&r, request_time(&r), &k, "InvalidSignatureException", 400, INVALID_MSG);
	ms_raw_request_free(&r);
	free(raw);
}

/* ---- known answers and limits -------------------------------------------- */

/* AWS's documented example: IAM ListUsers, signed 2015-08-30. */
static const char iam_example[] =
	"GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\r\n"
	"Host: iam.amazonaws.com\r\n"
	"Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
	"X-Amz-Date: 20150830T123600Z\r\n"
	"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
	"aws4_request, SignedHeaders=content-type;host;x-amz-date, "
	"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\r\n"
	"\r\n";

/* The AWS SigV4 test suite's get-vanilla. */
static const char get_vanilla[] =
	"GET / HTTP/1.1\r\n"
	"Host:example.amazonaws.com\r\n"
	"X-Amz-Date:20150830T123600Z\r\n"
	"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
	"aws4_request, SignedHeaders=host;x-amz-date, "
	"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\r\n"
	"\r\n";

/* The 2011 edition of that suite's get-vanilla: the time in a Date header. */
static const char get_vanilla_date[] =
	"GET / HTTP/1.1\r\n"
	"Date: Mon, 09 Sep 2011 23:36:00 GMT\r\n"
	"Host: host.foo.com\r\n"
	"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/"
	"aws4_request, SignedHeaders=date;host, "
	"Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470\r\n"
	"\r\n";

static void test_known_answers(void **state)
{
	keyring k = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0, 0, 0 };
	ms_raw_request r;
	ms_sigv4_result out;
	ms_error err;
	time_t t;

	parse(&r, iam_example, sizeof(iam_example) - 1);
	t = request_time(&r);
	if (verify(&r, "iam", "us-east-1", t + 60, &k, &out, &err) != 0)
		fail_msg("iam example: %s (%s)", err.message, err.detail);
	/* The query in another order signs the same. */
	r.req.query = "Version=2010-05-08&Action=ListUsers";
	assert_int_equal(verify(&r, "iam", "us-east-1", t, &k, &out, &err), 0);
	r.req.query = "Action=ListUsers&Version=2010-05-09";
	assert_int_equal(verify(&r, "iam", "us-east-1", t, &k, &out, &err), MS_EREFUSED);
	ms_raw_request_free(&r);

	parse(&r, get_vanilla, sizeof(get_vanilla) - 1);
	if (verify(&r, "service", NULL, t, &k, &out, &err) != 0)
		fail_msg("get-vanilla: %s (%s)", err.message, err.detail);
	/* Dot segments and doubled slashes are not part of what is signed. */
	r.req.path = "//./a/../";
	assert_int_equal(verify(&r, "service", NULL, t, &k, &out, &err), 0);
	r.req.path = "/a";
	assert_int_equal(verify(&r, "service", NULL, t, &k, &out, &err), MS_EREFUSED);
	ms_raw_request_free(&r);

	parse(&r, get_vanilla_date, sizeof(get_vanilla_date) - 1);
	assert_int_equal(ms_sigv4_parse_amz_date("20110909T233600Z", &t, NULL), 0);
	if (verify(&r, "host", NULL, t, &k, &out, &err) != 0)
		fail_msg("get-vanilla with Date: %s (%s)", err.message, err.detail);
	assert_string_equal(out.date, "20110909T233600Z");
	/* The Date header must be signed when it carries the time. */
	r.headers[ms_raw_request_find(&r, "authorization")].value =
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, "
		"SignedHeaders=host, "
		"Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470";
	assert_int_equal(verify(&r, "host", NULL, t, &k, &out, &err), MS_EREFUSED);
	assert_string_equal(out.aws_type, "IncompleteSignatureException");
	assert_string_equal(err.message,
			    "'Date' must be a 'SignedHeader' in the AWS Authorization.");
	ms_raw_request_free(&r);
}

static void test_limits(void **state)
{
	keyring k = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0, 0, 0 };
	ms_raw_request r;
	ms_sigv4_result out;
	ms_error err;
	char *big, *p;
	time_t t;
	int i;

	parse(&r, get_vanilla, sizeof(get_vanilla) - 1);
	t = request_time(&r);
	i = ms_raw_request_find(&r, "authorization");

	/* Too many signed headers. */
	big = malloc(MS_SIGV4_MAX_AUTHORIZATION * 2);
	assert_non_null(big);
	p = big + sprintf(big, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
			       "service/aws4_request, SignedHeaders=host");
	for (int n = 0; n < MS_SIGV4_MAX_SIGNED_HEADERS; n++)
		p += sprintf(p, ";x-h%03d", n);
	sprintf(p, ", Signature=%064d", 0);
	r.headers[i].value = big;
	assert_int_equal(verify(&r, "service", NULL, t, &k, &out, &err), MS_EREFUSED);
	assert_string_equal(out.aws_type, "IncompleteSignatureException");

	/* An Authorization header past its limit. */
	memset(big, 'a', MS_SIGV4_MAX_AUTHORIZATION * 2 - 1);
	big[MS_SIGV4_MAX_AUTHORIZATION * 2 - 1] = '\0';
	memcpy(big, "AWS4-HMAC-SHA256 ", 17);
	assert_int_equal(verify(&r, "service", NULL, t, &k, &out, &err), MS_EREFUSED);
	assert_string_equal(out.aws_type, "IncompleteSignatureException");

	/* A signed header whose value alone is past the canonical request's limit. */
	ms_raw_request_free(&r);
	parse(&r, get_vanilla, sizeof(get_vanilla) - 1);
	free(big);
	big = malloc(MS_SIGV4_MAX_CANONICAL + 2);
	assert_non_null(big);
	memset(big, 'x', MS_SIGV4_MAX_CANONICAL + 1);
	big[MS_SIGV4_MAX_CANONICAL + 1] = '\0';
	i = ms_raw_request_find(&r, "host");
	r.headers[i].value = big;
	assert_int_equal(verify(&r, "service", NULL, t, &k, &out, &err), MS_EREFUSED);
	assert_string_equal(out.aws_type, "IncompleteSignatureException");
	ms_raw_request_free(&r);

	/* Too many headers in the request. */
	parse(&r, get_vanilla, sizeof(get_vanilla) - 1);
	while (r.req.header_count < MS_RAW_MAX_HEADERS) {
		r.headers[r.req.header_count].name = "x-filler";
		r.headers[r.req.header_count].value = "1";
		r.req.header_count++;
	}
	assert_int_equal(verify(&r, "service", NULL, t, &k, &out, &err), MS_EREFUSED);
	assert_string_equal(out.aws_type, "IncompleteSignatureException");
	ms_raw_request_free(&r);
	free(big);
}

static int have(const char *path)
{
	return access(path, X_OK) == 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest core[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_curl),
		cmocka_unit_test(test_curl_session_token),
	};
	const struct CMUnitTest aws[] = { cmocka_unit_test(test_aws_cli) };
	const struct CMUnitTest boto[] = {
		cmocka_unit_test(test_boto3),
		cmocka_unit_test(test_botocore_path_query),
	};
	int rc;

	if (argc > 1 && strcmp(argv[1], "aws") == 0) {
		if (!have("/usr/bin/aws"))
			return 77;
		return cmocka_run_group_tests_name("sigv4_aws_cli", aws, NULL, NULL);
	}
	if (argc > 1 && strcmp(argv[1], "boto3") == 0) {
		if (!have("/usr/bin/python3") ||
		    system("/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1") != 0)
			return 77;
		return cmocka_run_group_tests_name("sigv4_boto3", boto, NULL, NULL);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("sigv4", core, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
