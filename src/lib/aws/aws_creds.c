/*
 * The AWS credential chain (see aws_creds.h): the environment's keys, then
 * the profile's keys in the shared credentials and config files.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_creds.h"

#define INI_MAX ((size_t)1 << 20)

struct ms_aws_creds {
	pthread_mutex_t lock;
	char *profile;      /* owned; the profile in use */
	int explicit;       /* profile named by the caller: skip the environment's keys */
	char *subject;      /* owned; for messages */
	const char *source; /* static */
	ms_aws_keys keys;   /* cached */
};

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
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

static const char *profile_name(const char *profile)
{
	if (profile && profile[0])
		return profile;
	if (env("AWS_PROFILE"))
		return env("AWS_PROFILE");
	if (env("AWS_DEFAULT_PROFILE"))
		return env("AWS_DEFAULT_PROFILE");
	return "default";
}

static int keys_set(ms_aws_keys *k, const char *ak, const char *sk, const char *token,
		    const char *subject, ms_error *err)
{
	if (strlen(ak) >= sizeof(k->access_key) || strlen(sk) >= sizeof(k->secret_key) ||
	    (token && strlen(token) >= sizeof(k->session_token)))
		return ms_error_set(err, MS_EINVAL, "aws credentials for %s are too long", subject);
	snprintf(k->access_key, sizeof(k->access_key), "%s", ak);
	snprintf(k->secret_key, sizeof(k->secret_key), "%s", sk);
	snprintf(k->session_token, sizeof(k->session_token), "%s", token ? token : "");
	k->expires = 0;
	return 0;
}

/* Resolve c's keys now into c->keys. */
static int resolve(ms_aws_creds *c, ms_error *err)
{
	ini_want cred = { 0 }, conf = { 0 };
	int rc;

	if (!c->explicit && env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
		c->source = "environment";
		return keys_set(&c->keys, env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
				env("AWS_SESSION_TOKEN"), c->subject, err);
	}
	if ((rc = read_profile(c->profile, &cred, &conf, err)) < 0)
		goto done;
	if (cred.access_key && cred.secret_key) {
		c->source = "shared-credentials-file";
		rc = keys_set(&c->keys, cred.access_key, cred.secret_key, cred.session_token,
			      c->subject, err);
		goto done;
	}
	rc = ms_error_set(err, MS_EINVAL,
			  "no aws credentials for %s (set AWS_ACCESS_KEY_ID and "
			  "AWS_SECRET_ACCESS_KEY, or profile '%s' in the shared "
			  "credentials file)",
			  c->subject, c->profile);
done:
	ini_want_free(&cred);
	ini_want_free(&conf);
	return rc;
}

int ms_aws_creds_open(ms_aws_creds **out, const char *profile, const char *subject, ms_error *err)
{
	ms_aws_creds *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return oom(err);
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return ms_error_set(err, MS_ENOMEM, "cannot create a mutex");
	}
	c->explicit = profile && profile[0];
	c->profile = strdup(profile_name(profile));
	c->subject = strdup(subject ? subject : "aws");
	if (!c->profile || !c->subject) {
		ms_aws_creds_close(c);
		return oom(err);
	}
	if ((rc = resolve(c, err)) < 0) {
		ms_aws_creds_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int ms_aws_creds_get(ms_aws_creds *c, ms_aws_keys *out, ms_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	*out = c->keys;
	pthread_mutex_unlock(&c->lock);
	(void)err;
	return rc;
}

const char *ms_aws_creds_source(const ms_aws_creds *c)
{
	return c->source ? c->source : "none";
}

void ms_aws_keys_wipe(ms_aws_keys *k)
{
	volatile char *p = (volatile char *)k;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		p[i] = 0;
}

void ms_aws_creds_close(ms_aws_creds *c)
{
	if (!c)
		return;
	ms_aws_keys_wipe(&c->keys);
	pthread_mutex_destroy(&c->lock);
	free(c->profile);
	free(c->subject);
	free(c);
}

int ms_aws_region(const char *profile, char **out, ms_error *err)
{
	ini_want cred = { 0 }, conf = { 0 };
	const char *v = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	int rc = 0;

	*out = NULL;
	if (!v) {
		if ((rc = read_profile(profile_name(profile), &cred, &conf, err)) < 0)
			goto done;
		v = conf.region;
	}
	if (v && !(*out = strdup(v)))
		rc = oom(err);
done:
	ini_want_free(&cred);
	ini_want_free(&conf);
	return rc;
}
