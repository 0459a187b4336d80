/*
 * Where an s3:// store's settings come from, in the order the AWS tools look:
 * the URL's parameters, the environment, then the profile's sections of the
 * shared credentials and config files; and the store's tuning.  The secret
 * is kept in s3_conf only (wiped when freed) and never put in a message.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/url.h"
#include "s3_internal.h"

#define DEFAULT_REGION "us-east-1"
#define MIN_PART ((size_t)5 << 20) /* S3's smallest part but the last */
#define MAX_PART ((size_t)512 << 20)
#define DEFAULT_PART ((size_t)8 << 20)
#define DEFAULT_PARALLEL 4
#define DEFAULT_ATTEMPTS 6
#define INI_MAX ((size_t)1 << 20)

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? (char *)v : NULL;
}

/* ------------------------------------------------------------------------ */
/* Shared credentials and config files                                     */

typedef struct ini_want {
	const char *section;                                    /* exact section name wanted */
	char *access_key, *secret_key, *session_token, *region; /* new, found values */
} ini_want;

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int ini_set(char **slot, const char *value)
{
	char *v = strdup(value);

	if (!v)
		return MS_ENOMEM;
	free(*slot);
	*slot = v;
	return 0;
}

/*
 * Read the values of one section of an AWS-style INI file.  A missing file
 * is not an error; an unreadable or oversized one is (it is named, its
 * contents never are).
 */
static int ini_read(const char *path, ini_want *w, ms_error *err)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t total = 0;
	int in = 0;

	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return ms_error_set(err, MS_EIO, "cannot read aws file '%s': %s", path,
				    strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;

		total += strlen(line);
		if (total > INI_MAX) {
			fclose(f);
			return ms_error_set(err, MS_ETOOBIG,
					    "aws file '%s' is larger than %zu bytes", path,
					    INI_MAX);
		}
		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			char *rb = strchr(s, ']');

			if (rb)
				*rb = '\0';
			in = strcmp(trim(s + 1), w->section) == 0;
			continue;
		}
		if (!in || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		{
			char *k = trim(s), *v = trim(eq + 1);
			int rc = 0;

			if (strcmp(k, "aws_access_key_id") == 0)
				rc = ini_set(&w->access_key, v);
			else if (strcmp(k, "aws_secret_access_key") == 0)
				rc = ini_set(&w->secret_key, v);
			else if (strcmp(k, "aws_session_token") == 0)
				rc = ini_set(&w->session_token, v);
			else if (strcmp(k, "region") == 0)
				rc = ini_set(&w->region, v);
			if (rc < 0) {
				fclose(f);
				return oom(err);
			}
		}
	}
	fclose(f);
	return 0;
}

static void ini_want_free(ini_want *w)
{
	free(w->access_key);
	free(w->secret_key);
	free(w->session_token);
	free(w->region);
}

static char *home_path(const char *rel)
{
	const char *home = env("HOME");
	size_t n;
	char *p;

	if (!home)
		return NULL;
	n = strlen(home) + strlen(rel) + 2;
	if (!(p = malloc(n)))
		return NULL;
	snprintf(p, n, "%s/%s", home, rel);
	return p;
}

/* Credentials and region from the profile's sections of both files. */
static int read_profile(const char *profile, ini_want *cred, ini_want *conf, ms_error *err)
{
	char *cpath = env("AWS_SHARED_CREDENTIALS_FILE")
			      ? strdup(env("AWS_SHARED_CREDENTIALS_FILE"))
			      : home_path(".aws/credentials");
	char *fpath = env("AWS_CONFIG_FILE") ? strdup(env("AWS_CONFIG_FILE"))
					     : home_path(".aws/config");
	char section[512];
	int rc = 0;

	cred->section = profile;
	if (strcmp(profile, "default") == 0)
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %s", profile);
	conf->section = section;
	if (cpath && (rc = ini_read(cpath, cred, err)) < 0)
		goto done;
	if (fpath && (rc = ini_read(fpath, conf, err)) < 0)
		goto done;
	/* The config file may hold keys too; the credentials file wins. */
	if (!cred->access_key && conf->access_key) {
		cred->access_key = conf->access_key;
		cred->secret_key = conf->secret_key;
		cred->session_token = conf->session_token;
		conf->access_key = conf->secret_key = conf->session_token = NULL;
	}
	conf->section = NULL;
done:
	free(cpath);
	free(fpath);
	return rc;
}

static int parse_size(const char *text, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end != '\0')
		return -1;
	*out = (size_t)v;
	return 0;
}

/* endpoint: an http(s) URL with a host and nothing after it but "/". */
static int set_endpoint(s3_conf *c, const char *text, ms_error *err)
{
	ms_url *u = NULL;
	char *shown;
	size_t n;
	int rc;

	if ((rc = ms_url_parse(&u, text, err)) < 0)
		return rc;
	shown = u->redacted;
	if ((strcmp(u->scheme, "http") != 0 && strcmp(u->scheme, "https") != 0) || !u->host ||
	    !u->host[0] || (u->path[0] && strcmp(u->path, "/") != 0) || u->nparams) {
		rc = ms_error_set(err, MS_EINVAL,
				  "s3 endpoint '%s' is not an http or https url with only a host",
				  shown);
		ms_url_free(u);
		return rc;
	}
	c->endpoint = strdup(text);
	c->endpoint_shown = strdup(shown);
	ms_url_free(u);
	if (!c->endpoint || !c->endpoint_shown)
		return oom(err);
	n = strlen(c->endpoint);
	while (n > 0 && c->endpoint[n - 1] == '/')
		c->endpoint[--n] = '\0';
	n = strlen(c->endpoint_shown);
	while (n > 0 && c->endpoint_shown[n - 1] == '/')
		c->endpoint_shown[--n] = '\0';
	return 0;
}

/*
 * URL parameter name as a whole number from lo to hi (`what` names the unit
 * in the error): 1 with *out set, 0 when absent, MS_EINVAL out of range.
 */
static int long_param(const ms_url *url, const char *name, long lo, long hi, const char *what,
		      long *out, ms_error *err)
{
	const char *v = ms_url_param_get(url, name);
	char *end;

	if (!v)
		return 0;
	*out = strtol(v, &end, 10);
	if (end == v || *end || *out < lo || *out > hi)
		return ms_error_set(err, MS_EINVAL, "s3 %s '%s' in '%s' is not %s from %ld to %ld",
				    name, v, url->redacted, what, lo, hi);
	return 1;
}

int s3_conf_init(s3_conf *c, const ms_url *url, ms_error *err)
{
	ini_want cred = { 0 }, conf = { 0 };
	const char *v, *profile;
	long num;
	int rc = 0;

	if (s3_http_init() < 0)
		return ms_error_set(err, MS_EIO, "cannot initialise libcurl");
	c->part_size = DEFAULT_PART;
	c->parallel = DEFAULT_PARALLEL;
	c->max_attempts = DEFAULT_ATTEMPTS;
	c->connect_timeout = 10;
	c->low_speed_time = 60;
	c->trace = env("MS_S3_TRACE") != NULL;

	if ((v = ms_url_param_get(url, "part-size")) &&
	    (parse_size(v, &c->part_size) < 0 || c->part_size < MIN_PART ||
	     c->part_size > MAX_PART))
		return ms_error_set(err, MS_EINVAL,
				    "s3 part-size '%s' in '%s' is not a size from 5M to 512M", v,
				    url->redacted);
	if ((rc = long_param(url, "parallel", 1, 16, "a number", &num, err)) < 0)
		return rc;
	if (rc)
		c->parallel = (int)num;
	if ((rc = long_param(url, "attempts", 1, 20, "a number", &num, err)) < 0)
		return rc;
	if (rc)
		c->max_attempts = (int)num;
	if ((rc = long_param(url, "timeout", 1, 3600, "seconds", &num, err)) < 0)
		return rc;
	if (rc) {
		c->low_speed_time = num;
		c->connect_timeout = num < 10 ? num : 10;
	}
	rc = 0;

	/* Credentials: the environment, then the profile's files. */
	profile = ms_url_param_get(url, "profile");
	if (!profile)
		profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : env("AWS_DEFAULT_PROFILE");
	if (!profile)
		profile = "default";
	if ((rc = read_profile(profile, &cred, &conf, err)) < 0)
		goto done;
	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY") &&
	    !ms_url_param_get(url, "profile")) {
		c->access_key = strdup(env("AWS_ACCESS_KEY_ID"));
		c->secret_key = strdup(env("AWS_SECRET_ACCESS_KEY"));
		if (env("AWS_SESSION_TOKEN"))
			c->session_token = strdup(env("AWS_SESSION_TOKEN"));
	} else if (cred.access_key && cred.secret_key) {
		c->access_key = cred.access_key;
		c->secret_key = cred.secret_key;
		c->session_token = cred.session_token;
		cred.access_key = cred.secret_key = cred.session_token = NULL;
	} else {
		rc = ms_error_set(err, MS_EINVAL,
				  "no aws credentials for bucket '%s' (set AWS_ACCESS_KEY_ID and "
				  "AWS_SECRET_ACCESS_KEY, or profile '%s' in the shared "
				  "credentials file)",
				  c->bucket, profile);
		goto done;
	}
	if (!c->access_key || !c->secret_key) {
		rc = oom(err);
		goto done;
	}

	/* Region: the url, the environment, the profile, the default. */
	if (!(v = ms_url_param_get(url, "region")) || !v[0])
		v = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	if (!v)
		v = conf.region ? conf.region : DEFAULT_REGION;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-') {
			rc = ms_error_set(err, MS_EINVAL,
					  "s3 region '%s' for bucket '%s' is not valid", v,
					  c->bucket);
			goto done;
		}
	if (!(c->region = strdup(v))) {
		rc = oom(err);
		goto done;
	}

	/* Endpoint: an S3-compatible server (path-style) or AWS (virtual-host style). */
	if (!(v = ms_url_param_get(url, "endpoint")) || !v[0])
		v = env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3")
					       : env("AWS_ENDPOINT_URL");
	if (v) {
		if ((rc = set_endpoint(c, v, err)) < 0)
			goto done;
		c->path_style = 1;
	} else {
		char host[300];

		snprintf(host, sizeof(host), "https://s3.%s.amazonaws.com", c->region);
		c->endpoint = strdup(host);
		c->endpoint_shown = strdup(host);
		/* Names with dots do not match AWS's wildcard certificate. */
		c->path_style = strchr(c->bucket, '.') != NULL;
		if (!c->endpoint || !c->endpoint_shown) {
			rc = oom(err);
			goto done;
		}
	}
	if ((v = ms_url_param_get(url, "addressing"))) {
		if (strcmp(v, "path") == 0) {
			c->path_style = 1;
		} else if (strcmp(v, "virtual") == 0) {
			c->path_style = 0;
		} else {
			rc = ms_error_set(err, MS_EINVAL,
					  "s3 addressing '%s' in '%s' is not 'path' or 'virtual'",
					  v, url->redacted);
			goto done;
		}
	}
	{
		size_t n = strlen(c->region) + 32;

		if (!(c->sigv4 = malloc(n))) {
			rc = oom(err);
			goto done;
		}
		snprintf(c->sigv4, n, "aws:amz:%s:s3", c->region);
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		rc = ms_error_set(err, MS_ENOMEM, "cannot create a mutex");
		goto done;
	}
	c->lock_ready = 1;
done:
	ini_want_free(&cred);
	ini_want_free(&conf);
	return rc;
}

static void wipe(char *s)
{
	if (s) {
		volatile char *p = s;

		while (*p)
			*p++ = '\0';
	}
	free(s);
}

void s3_conf_free(s3_conf *c)
{
	s3_http_pool_free(c);
	if (c->lock_ready)
		pthread_mutex_destroy(&c->lock);
	free(c->bucket);
	free(c->prefix);
	free(c->region);
	free(c->endpoint);
	free(c->endpoint_shown);
	wipe(c->access_key);
	wipe(c->secret_key);
	wipe(c->session_token);
	free(c->sigv4);
}
