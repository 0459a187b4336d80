/*
 * The credential sources that answer over HTTP: STS AssumeRole (signed
 * with the source keys by libcurl's SigV4) and AssumeRoleWithWebIdentity
 * (unsigned), both answering XML (parsed with expat); the ECS/EKS container
 * endpoint and EC2 instance metadata (IMDSv2), both answering JSON.  Bodies
 * are bounded and never quoted in a message: they hold the secrets.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <expat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws_internal.h"

#define BODY_MAX ((size_t)256 << 10)
#define TOKEN_FILE_MAX ((size_t)64 << 10)
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_DEFAULT_V6 "http://[fd00:ec2::254]"
#define CONTAINER_HOST "http://169.254.170.2"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int ms_aws_curl_init(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_init_rc;
}

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static void buf_wipe(ms_buf *b)
{
	if (b->ptr)
		memset(b->ptr, 0, b->alloc);
	ms_buf_free(b);
}

/* ------------------------------------------------------------------------ */
/* One HTTP request                                                         */

typedef struct http_req {
	const char *method; /* GET, PUT, POST */
	const char *url;
	struct curl_slist *headers;
	const char *body;        /* POST */
	const char *sigv4;       /* "aws:amz:REGION:sts", or NULL: unsigned */
	const ms_aws_keys *keys; /* with sigv4 */
	long timeout_ms;
	int attempts; /* tries on a transport error or a 5xx */
} http_req;

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
	return ms_buf_add(ud, data, size * n) < 0 ? 0 : size * n;
}

static CURLcode http_once(const http_req *r, long *status, ms_buf *out, char *errbuf)
{
	CURL *h = curl_easy_init();
	CURLcode cc;

	if (!h)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
	if (r->sigv4) {
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, r->sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, r->keys->access_key);
		curl_easy_setopt(h, CURLOPT_PASSWORD, r->keys->secret_key);
	}
	if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	} else if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	errbuf[0] = '\0';
	cc = curl_easy_perform(h);
	*status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	return cc;
}

/*
 * Perform r: 0 with *status and out (the body) on an answer, MS_EIO naming
 * what (and the URL) when none came after r->attempts tries.
 */
static int http(const http_req *r, const char *what, long *status, ms_buf *out, ms_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	CURLcode cc = CURLE_OK;
	int i;

	if (ms_aws_curl_init() < 0)
		return ms_error_set(err, MS_EIO, "cannot initialize libcurl");
	for (i = 0; i < (r->attempts > 0 ? r->attempts : 1); i++) {
		ms_buf_reset(out);
		cc = http_once(r, status, out, errbuf);
		if (cc == CURLE_WRITE_ERROR)
			return ms_error_set(err, MS_ETOOBIG,
					    "%s at '%s': answer larger than %zu bytes", what,
					    r->url, out->cap);
		if (cc == CURLE_OK && *status < 500)
			return 0;
	}
	if (cc == CURLE_OK)
		return 0;
	return ms_error_set(err, MS_EIO, "%s at '%s': %s", what, r->url,
			    errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

/* ------------------------------------------------------------------------ */
/* STS                                                                      */

enum { X_AK, X_SK, X_TOKEN, X_EXP, X_CODE, X_MESSAGE, X_N };
static const char *const xml_names[X_N] = { "AccessKeyId",  "SecretAccessKey",
					    "SessionToken", "Expiration",
					    "Code",         "Message" };

typedef struct xml_state {
	int field; /* the X_ being read, or -1 */
	ms_buf text[X_N];
	int too_big;
} xml_state;

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	xml_state *x = ud;
	const char *local = strchr(name, ' ');
	int i;

	local = local ? local + 1 : name;
	x->field = -1;
	for (i = 0; i < X_N; i++)
		if (strcmp(local, xml_names[i]) == 0) {
			x->field = i;
			ms_buf_reset(&x->text[i]);
		}
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
	((xml_state *)ud)->field = -1;
}

static void XMLCALL xml_text(void *ud, const XML_Char *s, int len)
{
	xml_state *x = ud;

	if (x->field >= 0 && ms_buf_add(&x->text[x->field], s, (size_t)len) < 0)
		x->too_big = 1;
}

static int sts_parse(const ms_buf *body, xml_state *x)
{
	XML_Parser p = XML_ParserCreateNS("UTF-8", ' ');
	int ok;

	if (!p)
		return -1;
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, xml_start, xml_end);
	XML_SetCharacterDataHandler(p, xml_text);
	ok = XML_Parse(p, body->ptr ? body->ptr : "", (int)body->len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok && !x->too_big ? 0 : -1;
}

/* The form body of call (values URL-encoded); new. */
static char *sts_form(const aws_sts_call *call)
{
	const char *names[] = { "RoleArn", "RoleSessionName", "ExternalId", "DurationSeconds",
				"WebIdentityToken" };
	const char *values[] = { call->role_arn, call->session_name, call->external_id,
				 call->duration, call->web_identity };
	ms_buf b = MS_BUF_INIT((size_t)1 << 20);
	size_t i;
	int rc;

	rc = ms_buf_printf(&b, "Action=%s&Version=2011-06-15",
			   call->web_identity ? "AssumeRoleWithWebIdentity" : "AssumeRole");
	for (i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		char *e;

		if (!values[i])
			continue;
		if (!(e = curl_easy_escape(NULL, values[i], 0))) {
			rc = -1;
			break;
		}
		rc = ms_buf_printf(&b, "&%s=%s", names[i], e);
		curl_free(e);
	}
	if (rc < 0) {
		buf_wipe(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* The error of a failed call: its action, role and STS's code and message. */
static int sts_error(const aws_sts_call *call, long status, xml_state *x, ms_error *err)
{
	const char *action = call->web_identity ? "AssumeRoleWithWebIdentity" : "AssumeRole";
	const char *who = call->profile ? "of aws profile '" : "";
	const char *prof = call->profile ? call->profile : "from the environment";

	if (status != 200)
		ms_error_set(err, MS_EBACKEND,
			     "sts %s of role '%s' (%s%s%s) failed: HTTP %ld %s%s%s", action,
			     call->role_arn, who, prof, call->profile ? "'" : "", status,
			     ms_buf_cstr(&x->text[X_CODE]), x->text[X_MESSAGE].len ? ": " : "",
			     ms_buf_cstr(&x->text[X_MESSAGE]));
	else
		ms_error_set(err, MS_EBACKEND,
			     "sts %s of role '%s' (%s%s%s): the answer holds no credentials",
			     action, call->role_arn, who, prof, call->profile ? "'" : "");
	if (err)
		snprintf(err->backend_code, sizeof(err->backend_code), "%ld", status);
	return MS_EBACKEND;
}

int aws_sts(const aws_sts_call *call, ms_aws_keys *out, ms_error *err)
{
	ms_buf body = MS_BUF_INIT(BODY_MAX);
	xml_state x;
	char sigv4[128];
	char *form = sts_form(call);
	http_req r = { "POST", call->endpoint, NULL, form, NULL, call->source, 30000, 3 };
	long status = 0;
	long long exp = 0;
	int rc, i;

	memset(&x, 0, sizeof(x));
	x.field = -1;
	for (i = 0; i < X_N; i++)
		ms_buf_init(&x.text[i], (size_t)64 << 10);
	if (!form) {
		rc = oom(err);
		goto done;
	}
	r.headers = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	r.headers = curl_slist_append(r.headers, "Accept: application/xml");
	if (!call->web_identity) {
		snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:sts", call->region);
		r.sigv4 = sigv4;
		if (call->source->session_token[0]) {
			ms_buf h = MS_BUF_INIT(MS_AWS_TOKEN_MAX + 64);

			if (ms_buf_printf(&h, "X-Amz-Security-Token: %s",
					  call->source->session_token) == 0)
				r.headers = curl_slist_append(r.headers, ms_buf_cstr(&h));
			buf_wipe(&h);
		}
	}
	if ((rc = http(&r, "sts", &status, &body, err)) < 0)
		goto done;
	if (sts_parse(&body, &x) < 0 || status != 200 || !x.text[X_AK].len || !x.text[X_SK].len ||
	    aws_parse_time(ms_buf_cstr(&x.text[X_EXP]), &exp) < 0) {
		rc = sts_error(call, status, &x, err);
		goto done;
	}
	rc = aws_keys_set(out, ms_buf_cstr(&x.text[X_AK]), ms_buf_cstr(&x.text[X_SK]),
			  ms_buf_cstr(&x.text[X_TOKEN]), exp, "sts", err);
done:
	for (i = 0; i < X_N; i++)
		buf_wipe(&x.text[i]);
	buf_wipe(&body);
	if (r.headers) {
		struct curl_slist *l;

		for (l = r.headers; l; l = l->next)
			memset(l->data, 0, strlen(l->data));
		curl_slist_free_all(r.headers);
	}
	if (form) {
		memset(form, 0, strlen(form));
		free(form);
	}
	return rc;
}

/* ------------------------------------------------------------------------ */
/* JSON answers: the container endpoint and instance metadata               */

static const char *json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Keys from {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}. */
static int json_keys(const ms_buf *body, const char *what, const char *url, ms_aws_keys *out,
		     ms_error *err)
{
	cJSON *j = cJSON_Parse(ms_buf_cstr(body));
	const char *ak = json_str(j, "AccessKeyId"), *sk = json_str(j, "SecretAccessKey");
	const char *token = json_str(j, "Token"), *exp = json_str(j, "Expiration");
	long long expires = 0;
	int rc;

	if (!ak || !sk || !token || !exp || aws_parse_time(exp, &expires) < 0)
		rc = ms_error_set(err, MS_EBACKEND,
				  "%s at '%s' answered no AccessKeyId, SecretAccessKey, Token and "
				  "Expiration",
				  what, url);
	else
		rc = aws_keys_set(out, ak, sk, token, expires, what, err);
	cJSON_Delete(j);
	return rc;
}

/* Whether host (of an http:// URL) is one the SDKs let container credentials come from. */
static int container_host_allowed(const char *host)
{
	static const char *const hosts[] = { "localhost",
					     "169.254.170.2",
					     "169.254.170.23",
					     "[fd00:ec2::23]",
					     "fd00:ec2::23",
					     "[::1]",
					     "::1" };
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strcasecmp(host, hosts[i]) == 0)
			return 1;
	return strncmp(host, "127.", 4) == 0;
}

/* MS_EINVAL unless url is https, or http to an allowed host. */
static int container_check_url(const char *url, ms_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		ok = strcasecmp(scheme, "https") == 0 ||
		     (strcasecmp(scheme, "http") == 0 && container_host_allowed(host));
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (!ok)
		return ms_error_set(err, MS_EINVAL,
				    "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' is neither https nor "
				    "http "
				    "to a loopback or the ECS/EKS link-local address",
				    url);
	return 0;
}

/* The Authorization header for the container endpoint (new in *hdr), if any. */
static int container_auth(struct curl_slist **hdr, ms_error *err)
{
	const char *file = aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *token = aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	ms_buf b = MS_BUF_INIT(TOKEN_FILE_MAX);
	int rc = 0;

	if (file) {
		FILE *f = fopen(file, "r");
		char chunk[4096];
		size_t n;

		if (!f)
			return ms_error_set(err, MS_EIO,
					    "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
					    "'%s'",
					    file);
		ms_buf_adds(&b, "Authorization: ");
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && rc == 0)
			rc = ms_buf_add(&b, chunk, n);
		fclose(f);
		while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
			b.ptr[--b.len] = '\0';
	} else if (token) {
		rc = ms_buf_printf(&b, "Authorization: %s", token);
	} else {
		return 0;
	}
	if (rc < 0 || strpbrk(ms_buf_cstr(&b), "\r\n")) {
		buf_wipe(&b);
		return ms_error_set(err, MS_EINVAL,
				    "the container authorization token is too long or holds a line "
				    "break");
	}
	*hdr = curl_slist_append(*hdr, ms_buf_cstr(&b));
	buf_wipe(&b);
	return 0;
}

int aws_container_keys(ms_aws_keys *out, ms_error *err)
{
	const char *rel = aws_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = aws_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	ms_buf body = MS_BUF_INIT(BODY_MAX), url = MS_BUF_INIT(8192);
	http_req r = { "GET", NULL, NULL, NULL, NULL, NULL, 2000, 2 };
	long status = 0;
	int rc;

	if (!rel && !full)
		return MS_SOURCE_NONE;
	if (rel ? ms_buf_printf(&url, "%s%s%s", CONTAINER_HOST, rel[0] == '/' ? "" : "/", rel)
		: ms_buf_adds(&url, full)) {
		rc = ms_error_set(err, MS_EINVAL, "the container credentials URI is too long");
		goto done;
	}
	if (!rel && (rc = container_check_url(full, err)) < 0)
		goto done;
	r.url = ms_buf_cstr(&url);
	r.headers = curl_slist_append(NULL, "Accept: application/json");
	if ((rc = container_auth(&r.headers, err)) < 0)
		goto done;
	if ((rc = http(&r, "container credentials", &status, &body, err)) < 0)
		goto done;
	if (status != 200) {
		rc = ms_error_set(err, MS_EBACKEND, "container credentials at '%s': HTTP %ld",
				  r.url, status);
		goto done;
	}
	rc = json_keys(&body, "container credentials", r.url, out, err);
done:
	if (r.headers) {
		struct curl_slist *l;

		for (l = r.headers; l; l = l->next)
			memset(l->data, 0, strlen(l->data));
		curl_slist_free_all(r.headers);
	}
	buf_wipe(&body);
	ms_buf_free(&url);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* EC2 instance metadata                                                    */

const char *aws_imds_endpoint(void)
{
	const char *mode = aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

	if (aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT"))
		return aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	return mode && strcasecmp(mode, "ipv6") == 0 ? IMDS_DEFAULT_V6 : IMDS_DEFAULT;
}

/* GET base/path with the token (if any) into body; MS_SOURCE_NONE unless 200 with a body. */
static int imds_get(const char *base, const char *path, const char *token, ms_buf *body,
		    ms_error *err)
{
	ms_buf url = MS_BUF_INIT(8192), th = MS_BUF_INIT(4096);
	http_req r = { "GET", NULL, NULL, NULL, NULL, NULL, 1000, 2 };
	long status = 0;
	int rc;

	ms_buf_printf(&url, "%s%s", base, path);
	r.url = ms_buf_cstr(&url);
	if (token && ms_buf_printf(&th, "X-aws-ec2-metadata-token: %s", token) == 0)
		r.headers = curl_slist_append(NULL, ms_buf_cstr(&th));
	rc = http(&r, "instance metadata", &status, body, err);
	if (rc == 0 && (status != 200 || !body->len))
		rc = MS_SOURCE_NONE;
	curl_slist_free_all(r.headers);
	buf_wipe(&th);
	ms_buf_free(&url);
	return rc;
}

/* The IMDSv2 session token into token; MS_SOURCE_NONE: use IMDSv1; <0: unreachable. */
static int imds_token(const char *base, ms_buf *token, const char **why, ms_error *err)
{
	ms_buf url = MS_BUF_INIT(8192);
	http_req r = { "PUT", NULL, NULL, NULL, NULL, NULL, 1000, 2 };
	long status = 0;
	int rc;

	ms_buf_printf(&url, "%s/latest/api/token", base);
	r.url = ms_buf_cstr(&url);
	r.headers = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
	rc = http(&r, "instance metadata", &status, token, err);
	curl_slist_free_all(r.headers);
	ms_buf_free(&url);
	if (rc < 0) {
		*why = "no answer";
		return rc;
	}
	if (status == 200 && token->len)
		return 0;
	if ((status == 403 || status == 404 || status == 405) &&
	    !aws_env("AWS_EC2_METADATA_V1_DISABLED"))
		return MS_SOURCE_NONE;
	*why = "the IMDSv2 token was refused";
	return -1;
}

int aws_imds_keys(ms_aws_keys *out, const char **why, ms_error *err)
{
	const char *dis = aws_env("AWS_EC2_METADATA_DISABLED");
	ms_buf base = MS_BUF_INIT(8192), token = MS_BUF_INIT(4096), body = MS_BUF_INIT(BODY_MAX);
	ms_buf path = MS_BUF_INIT(4096);
	ms_error ignored;
	char *nl;
	int rc;

	if (dis && strcasecmp(dis, "true") == 0) {
		*why = "disabled by AWS_EC2_METADATA_DISABLED";
		return MS_SOURCE_NONE;
	}
	ms_buf_adds(&base, aws_imds_endpoint());
	while (base.len && base.ptr[base.len - 1] == '/')
		base.ptr[--base.len] = '\0';
	/* Unreachable is "not on EC2": not an error, the chain goes on. */
	if ((rc = imds_token(ms_buf_cstr(&base), &token, why, &ignored)) < 0) {
		rc = MS_SOURCE_NONE;
		goto done;
	}
	*why = "no IAM role";
	if ((rc = imds_get(ms_buf_cstr(&base), "/latest/meta-data/iam/security-credentials/",
			   rc == 0 ? ms_buf_cstr(&token) : NULL, &body, &ignored)) != 0) {
		rc = MS_SOURCE_NONE;
		goto done;
	}
	if ((nl = strchr(body.ptr, '\n')))
		*nl = '\0';
	ms_buf_printf(&path, "/latest/meta-data/iam/security-credentials/%s", body.ptr);
	if ((rc = imds_get(ms_buf_cstr(&base), ms_buf_cstr(&path),
			   token.len ? ms_buf_cstr(&token) : NULL, &body, &ignored)) != 0) {
		*why = "no credentials for the IAM role";
		rc = MS_SOURCE_NONE;
		goto done;
	}
	rc = json_keys(&body, "instance metadata", ms_buf_cstr(&base), out, err);
done:
	buf_wipe(&token);
	buf_wipe(&body);
	ms_buf_free(&base);
	ms_buf_free(&path);
	return rc;
}
