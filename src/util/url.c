/*
 * URL parsing for every driver address.  Kept deliberately small: metasync
 * needs the scheme to pick a driver, an authority for servers, a path, and
 * query parameters; anything a backend library parses itself (libpq URIs)
 * it gets in `raw_rest`.  The password never leaves this struct except to the
 * driver that needs it.
 */
#include "url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

static char *dup_range(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int ms_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *decode_range(const char *s, size_t n, int plus_space)
{
	char *p = malloc(n + 1), *o = p;
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && ms_hexval((unsigned char)s[i + 1]) >= 0 &&
		    ms_hexval((unsigned char)s[i + 2]) >= 0) {
			*o++ = (char)(ms_hexval((unsigned char)s[i + 1]) * 16 +
				      ms_hexval((unsigned char)s[i + 2]));
			i += 2;
		} else if (plus_space && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return p;
}

void ms_url_free(ms_url *url)
{
	size_t i;

	if (!url)
		return;
	free(url->scheme);
	free(url->user);
	if (url->password) {
		memset(url->password, 0, strlen(url->password));
		free(url->password);
	}
	free(url->host);
	free(url->port);
	free(url->path);
	free(url->raw_rest);
	for (i = 0; i < url->nparams; i++) {
		free(url->params[i].key);
		free(url->params[i].value);
	}
	free(url->params);
	free(url->redacted);
	free(url);
}

/* 1 if s (percent-decoded) holds a control character; NULL holds none. */
static int has_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Length of a valid scheme at the start of text (followed by ':'), or 0. */
static size_t scheme_len(const char *text)
{
	size_t i = 0;

	if (!isalpha((unsigned char)text[0]))
		return 0;
	while (isalnum((unsigned char)text[i]) || text[i] == '+' || text[i] == '-' ||
	       text[i] == '.')
		i++;
	if (text[i] != ':' || i < 2)
		return 0;
	return i;
}

static int parse_query(ms_url *url, const char *q, ms_error *err)
{
	const char *p = q;

	while (*p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		ms_url_param *np;

		if (n == 0) {
			p += amp ? 1 : 0;
			if (!amp)
				break;
			continue;
		}
		np = realloc(url->params, (url->nparams + 1) * sizeof(*np));
		if (!np)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		url->params = np;
		np = &url->params[url->nparams];
		if (eq) {
			np->key = decode_range(p, (size_t)(eq - p), 1);
			np->value = decode_range(eq + 1, n - (size_t)(eq - p) - 1, 1);
		} else {
			np->key = decode_range(p, n, 1);
			np->value = dup_range("", 0);
		}
		if (!np->key || !np->value) {
			free(np->key);
			free(np->value);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		url->nparams++;
		if (!amp)
			break;
		p = amp + 1;
	}
	return 0;
}

/*
 * Does a query parameter named key (percent-decoded) carry a secret?  Names
 * are matched loosely, so that every spelling a backend library takes
 * (libpq's password and sslpassword, a token, a secret key) is masked; a
 * false positive only hides a harmless value.
 */
static int secret_key(const char *key)
{
	static const char *const marks[] = { "pass",       "pwd",       "secret",     "token",
					     "credential", "signature", "apikey",     "api-key",
					     "api_key",    "accesskey", "access-key", "access_key",
					     "auth" };
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strcasestr(key, marks[i]))
			return 1;
	return 0;
}

/*
 * Does a parameter's value (percent-decoded) hold a secret of its own?  A
 * backend may expand a value into a connection string or URL (libpq's
 * dbname), which can carry a password.
 */
static int secret_value(const char *value)
{
	const char *sep = strstr(value, "://");

	return strcasestr(value, "password") || strcasestr(value, "secret") ||
	       (sep && strchr(sep, '@'));
}

/* Schemes whose user info is a credential on its own (a NATS token). */
static int user_is_secret(const char *text, size_t scheme_n)
{
	return (scheme_n == 4 && strncasecmp(text, "nats", 4) == 0) ||
	       (scheme_n == 3 && strncasecmp(text, "tls", 3) == 0);
}

/* Append the query q (after '?') to b with secret-bearing values masked. */
static int redact_query(ms_buf *b, const char *q)
{
	int rc = 0;

	while (rc == 0 && *q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		char *key = decode_range(q, eq ? (size_t)(eq - q) : n, 1);
		char *value = eq ? decode_range(eq + 1, n - (size_t)(eq - q) - 1, 1) : NULL;

		if (!key || (eq && !value))
			rc = -1;
		else if (eq && (secret_key(key) || secret_value(value)))
			rc = ms_buf_add(b, q, (size_t)(eq - q) + 1) | ms_buf_adds(b, "***");
		else
			rc = ms_buf_add(b, q, n);
		free(key);
		free(value);
		q += n;
		if (rc == 0 && *q == '&')
			rc = ms_buf_addc(b, *q++);
	}
	return rc;
}

char *ms_url_redact(const char *text)
{
	size_t sl = scheme_len(text);
	const char *copied = text, *q; /* text before copied is in b */
	ms_buf b = MS_BUF_INIT(1 << 20);
	int rc = 0;

	if (sl && strncmp(text + sl, "://", 3) == 0) {
		const char *auth = text + sl + 3, *end = auth + strcspn(auth, "/?#"), *at = NULL;
		const char *colon;

		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p;
		colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon || (at && user_is_secret(text, sl))) {
			rc = ms_buf_add(&b, text, (size_t)((colon ? colon + 1 : auth) - text)) |
			     ms_buf_adds(&b, "***");
			copied = at;
		}
	}
	q = strchr(copied, '?');
	rc |= ms_buf_add(&b, copied, q ? (size_t)(q - copied) + 1 : strlen(copied));
	if (q)
		rc |= redact_query(&b, q + 1);
	if (rc) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

int ms_url_parse(ms_url **out, const char *text, ms_error *err)
{
	ms_url *url;
	size_t sl;
	const char *rest, *q;
	int rc = 0;

	if (!text || !*text)
		return ms_error_set(err, MS_EINVAL, "empty url");
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20)
			return ms_error_set(err, MS_EINVAL, "url contains a control character");
	url = calloc(1, sizeof(*url));
	if (!url)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	url->redacted = ms_url_redact(text);
	sl = scheme_len(text);
	if (!sl) {
		url->scheme = dup_range("file", 4);
		rest = text;
	} else {
		url->scheme = dup_range(text, sl);
		for (char *p = url->scheme; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		rest = text + sl + 1;
	}
	if (!url->scheme || !url->redacted) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	q = strchr(rest, '?');
	url->raw_rest = dup_range(rest, q ? (size_t)(q - rest) : strlen(rest));
	if (!url->raw_rest) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if (q && (rc = parse_query(url, q + 1, err)) < 0)
		goto done;
	if (sl && strncmp(rest, "//", 2) == 0) {
		const char *auth = rest + 2;
		const char *aend = auth + strcspn(auth, "/?");
		const char *at = NULL, *hp, *colon;

		for (const char *p = auth; p < aend; p++)
			if (*p == '@')
				at = p;
		hp = auth;
		if (at) {
			const char *uc = memchr(auth, ':', (size_t)(at - auth));

			url->user = decode_range(auth, (size_t)((uc ? uc : at) - auth), 0);
			if (uc)
				url->password = decode_range(uc + 1, (size_t)(at - uc - 1), 0);
			hp = at + 1;
		}
		colon = NULL;
		if (*hp == '[') {
			const char *rb = memchr(hp, ']', (size_t)(aend - hp));
			if (rb && rb + 1 < aend && rb[1] == ':')
				colon = rb + 1;
		} else {
			colon = memchr(hp, ':', (size_t)(aend - hp));
		}
		url->host = decode_range(hp, (size_t)((colon ? colon : aend) - hp), 0);
		if (colon)
			url->port = dup_range(colon + 1, (size_t)(aend - colon - 1));
		url->path = decode_range(aend, q ? (size_t)(q - aend) : strlen(aend), 0);
	} else {
		url->path = decode_range(rest, q ? (size_t)(q - rest) : strlen(rest), 0);
	}
	if (!url->path) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if (has_control(url->user) || has_control(url->password) || has_control(url->host) ||
	    has_control(url->path)) {
		rc = ms_error_set(err, MS_EINVAL, "url '%s' contains a control character",
				  url->redacted);
		goto done;
	}
	for (size_t i = 0; i < url->nparams; i++)
		if (has_control(url->params[i].key)) {
			rc = ms_error_set(err, MS_EINVAL,
					  "a parameter name in url '%s' contains a control "
					  "character",
					  url->redacted);
			goto done;
		}
done:
	if (rc < 0) {
		ms_url_free(url);
		return rc;
	}
	*out = url;
	return 0;
}

const char *ms_url_param_get(const ms_url *url, const char *key)
{
	size_t i;

	for (i = 0; i < url->nparams; i++)
		if (strcmp(url->params[i].key, key) == 0)
			return url->params[i].value;
	return NULL;
}

/* The read-only view of metasync/sys/url.h. */
const char *ms_url_scheme(const ms_url *url)
{
	return url->scheme;
}
const char *ms_url_user(const ms_url *url)
{
	return url->user;
}
const char *ms_url_password(const ms_url *url)
{
	return url->password;
}
const char *ms_url_host(const ms_url *url)
{
	return url->host;
}
const char *ms_url_port(const ms_url *url)
{
	return url->port;
}
const char *ms_url_path(const ms_url *url)
{
	return url->path;
}
const char *ms_url_redacted(const ms_url *url)
{
	return url->redacted;
}

int ms_url_copy(ms_url **out, const ms_url *src)
{
	ms_url *u = calloc(1, sizeof(*u));
	size_t i;

	*out = NULL;
	if (!u)
		return MS_ENOMEM;
#define COPY(f) (!src->f || (u->f = strdup(src->f)))
	if (!COPY(scheme) || !COPY(user) || !COPY(password) || !COPY(host) || !COPY(port) ||
	    !COPY(path) || !COPY(raw_rest) || !COPY(redacted))
		goto nomem;
#undef COPY
	if (src->nparams) {
		if (!(u->params = calloc(src->nparams, sizeof(*u->params))))
			goto nomem;
		for (i = 0; i < src->nparams; i++, u->nparams++)
			if (!(u->params[i].key = strdup(src->params[i].key)) ||
			    !(u->params[i].value = strdup(src->params[i].value)))
				goto nomem;
	}
	*out = u;
	return 0;
nomem:
	if (u->params && u->nparams < src->nparams && u->params[u->nparams].key)
		u->nparams++; /* ms_url_free frees the half-made entry too */
	ms_url_free(u);
	return MS_ENOMEM;
}

int ms_url_check_params(const ms_url *url, const char *what, const ms_url_param_rule *rules,
			int (*other)(const char *key), ms_error *err)
{
	size_t i, j;

	for (i = 0; i < url->nparams; i++) {
		const ms_url_param *p = &url->params[i];
		const ms_url_param_rule *r = rules;
		size_t max;

		while (r && r->key && strcmp(r->key, p->key) != 0)
			r++;
		if ((!r || !r->key) && !(other && other(p->key)))
			return ms_error_set(err, MS_EINVAL, "unknown parameter '%s' in %s '%s'",
					    p->key, what, url->redacted);
		for (j = 0; j < i; j++)
			if (strcmp(url->params[j].key, p->key) == 0)
				return ms_error_set(err, MS_EINVAL,
						    "parameter '%s' is given twice in %s '%s'",
						    p->key, what, url->redacted);
		max = r && r->key && r->max_len ? r->max_len : MS_URL_VALUE_MAX;
		if (r && r->key && r->nonempty && !*p->value)
			return ms_error_set(err, MS_EINVAL, "parameter '%s' is empty in %s '%s'",
					    p->key, what, url->redacted);
		if (strlen(p->value) > max)
			return ms_error_set(err, MS_EINVAL,
					    "parameter '%s' is longer than %zu bytes in %s '%s'",
					    p->key, max, what, url->redacted);
		if (has_control(p->value))
			return ms_error_set(err, MS_EINVAL,
					    "parameter '%s' holds a control character in %s '%s'",
					    p->key, what, url->redacted);
	}
	return 0;
}
