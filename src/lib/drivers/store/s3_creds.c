/*
 * Where an s3:// store's settings come from: the URL's parameters, the
 * environment, the shared AWS credential and region chains (aws/aws_creds.h),
 * and the store's tuning.  The keys stay in the credential provider and are
 * never put in a message.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_creds.h"
#include "util/url.h"
#include "s3_internal.h"

#define DEFAULT_REGION "us-east-1"
#define MIN_PART ((size_t)5 << 20) /* S3's smallest part but the last */
#define MAX_PART ((size_t)512 << 20)
#define DEFAULT_PART ((size_t)8 << 20)
#define DEFAULT_PARALLEL 4
#define DEFAULT_ATTEMPTS 6

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? (char *)v : NULL;
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
	const char *v;
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

	/* Credentials: the shared chain (aws/aws_creds.h). */
	{
		char subject[600];

		snprintf(subject, sizeof(subject), "bucket '%s'", c->bucket);
		if ((rc = ms_aws_creds_open(&c->creds, ms_url_param_get(url, "profile"), subject,
					    err)) < 0)
			goto done;
	}

	/* Region: the url, the environment, the profile, the default. */
	if ((v = ms_url_param_get(url, "region")) && v[0]) {
		c->region = strdup(v);
	} else {
		if ((rc = ms_aws_region(ms_url_param_get(url, "profile"), &c->region, err)) < 0)
			goto done;
		if (!c->region)
			c->region = strdup(DEFAULT_REGION);
	}
	if (!c->region) {
		rc = oom(err);
		goto done;
	}
	for (const char *p = c->region; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-') {
			rc = ms_error_set(err, MS_EINVAL,
					  "s3 region '%s' for bucket '%s' is not valid", c->region,
					  c->bucket);
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
	return rc;
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
	ms_aws_creds_close(c->creds);
	free(c->sigv4);
}
