/*
 * The AWS credential chain (see aws_creds.h), in the order and with the
 * rules of the AWS CLI v2 (botocore's create_credential_resolver):
 *
 *   environment keys (not when the caller names the profile)
 *   the profile's role_arn: STS AssumeRole with source_profile keys
 *     (chains, cycles refused) or credential_source
 *   web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the
 *     profile's web_identity_token_file)
 *   the profile's keys in the shared credentials file
 *   the profile's credential_process
 *   the profile's keys in the config file
 *   the container endpoint, then EC2 instance metadata
 *
 * The keys are cached; temporary ones are refreshed by walking the chain
 * again 15 minutes before they expire (advisory: one thread, the others
 * keep the cached keys; a failure is retried later), and by every caller
 * from 10 minutes before (mandatory: the caller waits; a failure while the
 * keys are still valid keeps them).  docs/aws-credentials.md has the rest.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_internal.h"

#define ADVISORY_REFRESH 900 /* seconds before expiry */
#define MANDATORY_REFRESH 600
#define RETRY_AFTER 30 /* seconds between refresh attempts after a failure */
#define MAX_HOPS 32    /* source_profile chain length */
#define TOKEN_FILE_MAX ((size_t)64 << 10)

struct ms_aws_creds {
	pthread_mutex_t lock;    /* guards keys, source, retry_at */
	pthread_mutex_t refresh; /* held by the thread walking the chain again */
	char *profile;           /* owned; the profile in use */
	int explicit;            /* named by the caller: skip the environment */
	char *subject;           /* owned; for messages */
	const char *source;      /* static */
	ms_aws_keys keys;        /* cached */
	long long retry_at;      /* after a failed refresh: not before this */
};

/* One walk of the chain. */
typedef struct chain {
	aws_config cfg;
	const char *profile; /* the top profile */
	int explicit;
	int named; /* by the caller, AWS_PROFILE or AWS_DEFAULT_PROFILE: it must exist */
	const char *subject;
	char *region; /* new; STS's region, or NULL */
	const char *visited[MAX_HOPS];
	size_t nvisited;
	const char *source; /* static; the source that answered */
} chain;

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static long long now(void)
{
	return (long long)time(NULL);
}

int aws_keys_set(ms_aws_keys *k, const char *ak, const char *sk, const char *token,
		 long long expires, const char *what, ms_error *err)
{
	if (strlen(ak) >= sizeof(k->access_key) || strlen(sk) >= sizeof(k->secret_key) ||
	    (token && strlen(token) >= sizeof(k->session_token)))
		return ms_error_set(err, MS_EINVAL, "aws credentials from %s are too long", what);
	snprintf(k->access_key, sizeof(k->access_key), "%s", ak);
	snprintf(k->secret_key, sizeof(k->secret_key), "%s", sk);
	snprintf(k->session_token, sizeof(k->session_token), "%s", token ? token : "");
	k->expires = expires;
	return 0;
}

static const char *profile_name(const char *profile)
{
	if (profile && profile[0])
		return profile;
	if (aws_env("AWS_PROFILE"))
		return aws_env("AWS_PROFILE");
	if (aws_env("AWS_DEFAULT_PROFILE"))
		return aws_env("AWS_DEFAULT_PROFILE");
	return "default";
}

static const char *get(const chain *ch, const char *profile, const char *key)
{
	return aws_config_get(&ch->cfg, profile, key);
}

/* ------------------------------------------------------------------------ */
/* Sources without a network                                                */

static int src_env(ms_aws_keys *out, ms_error *err)
{
	const char *ak = aws_env("AWS_ACCESS_KEY_ID"), *sk = aws_env("AWS_SECRET_ACCESS_KEY");
	const char *token = aws_env("AWS_SECURITY_TOKEN");
	const char *exp = aws_env("AWS_CREDENTIAL_EXPIRATION");
	long long expires = 0;

	if (!ak)
		return MS_SOURCE_NONE;
	if (!sk)
		return ms_error_set(err, MS_EINVAL,
				    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	if (!token)
		token = aws_env("AWS_SESSION_TOKEN");
	if (exp && aws_parse_time(exp, &expires) < 0)
		return ms_error_set(err, MS_EINVAL,
				    "AWS_CREDENTIAL_EXPIRATION '%s' is no ISO 8601 time", exp);
	if (exp && expires <= now())
		return ms_error_set(err, MS_EINVAL,
				    "the environment's aws credentials expired at %s", exp);
	return aws_keys_set(out, ak, sk, token, expires, "the environment", err);
}

/* The profile's keys in one file (the credentials file when cred, else the config file). */
static int src_file(chain *ch, const char *profile, int cred, ms_aws_keys *out, ms_error *err)
{
	const char *(*g)(const aws_config *, const char *, const char *) = cred ? aws_cred_get
										: aws_conf_get;
	const char *ak = g(&ch->cfg, profile, "aws_access_key_id");
	const char *sk = g(&ch->cfg, profile, "aws_secret_access_key");
	const char *token = g(&ch->cfg, profile, "aws_security_token");

	if (!ak)
		return MS_SOURCE_NONE;
	if (!sk)
		return ms_error_set(err, MS_EINVAL,
				    "aws profile '%s' in '%s' has aws_access_key_id but no "
				    "aws_secret_access_key",
				    profile, cred ? ch->cfg.cred.path : ch->cfg.conf.path);
	if (!token)
		token = g(&ch->cfg, profile, "aws_session_token");
	return aws_keys_set(out, ak, sk, token, 0, "a shared file", err);
}

/* ------------------------------------------------------------------------ */
/* STS                                                                      */

/* The STS endpoint (new): AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, endpoint_url, regional. */
static char *sts_endpoint(const chain *ch)
{
	const char *e = aws_env("AWS_ENDPOINT_URL_STS");
	char buf[512];

	if (!e)
		e = aws_env("AWS_ENDPOINT_URL");
	if (!e)
		e = get(ch, ch->profile, "endpoint_url");
	if (e)
		return strdup(e);
	if (!ch->region)
		return strdup("https://sts.amazonaws.com");
	snprintf(buf, sizeof(buf), "https://sts.%s.amazonaws.com%s", ch->region,
		 strncmp(ch->region, "cn-", 3) == 0 ? ".cn" : "");
	return strdup(buf);
}

/* call with the chain's endpoint, region and a default session name. */
static int sts(const chain *ch, aws_sts_call *call, ms_aws_keys *out, ms_error *err)
{
	char session[64], *endpoint = sts_endpoint(ch);
	int rc;

	if (!endpoint)
		return oom(err);
	if (!call->session_name) {
		snprintf(session, sizeof(session), "metasync-%lld", now());
		call->session_name = session;
	}
	call->endpoint = endpoint;
	call->region = ch->region ? ch->region : "us-east-1";
	rc = aws_sts(call, out, err);
	free(endpoint);
	return rc;
}

/* Read a web identity token file (new in *out). */
static int read_token_file(const char *path, const char *what, char **out, ms_error *err)
{
	ms_buf b = MS_BUF_INIT(TOKEN_FILE_MAX);
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t n;
	int rc = 0;

	if (!f)
		return ms_error_set(err, MS_EIO,
				    "cannot read the web identity token file '%s' (%s)", path,
				    what);
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = ms_buf_add(&b, chunk, n);
	fclose(f);
	if (rc < 0) {
		ms_buf_free(&b);
		return ms_error_set(err, MS_ETOOBIG, "web identity token file '%s' is too large",
				    path);
	}
	if (!(*out = ms_buf_detach(&b)) && !(*out = strdup("")))
		return oom(err);
	return 0;
}

/* The environment's value of name when use_env and set (even empty), else the profile's. */
static const char *wi_get(const chain *ch, const char *profile, int use_env, const char *env,
			  const char *key)
{
	const char *v = use_env ? getenv(env) : NULL;

	return v ? v : get(ch, profile, key);
}

static int src_web_identity(chain *ch, const char *profile, int use_env, ms_aws_keys *out,
			    ms_error *err)
{
	const char *file = wi_get(ch, profile, use_env, "AWS_WEB_IDENTITY_TOKEN_FILE",
				  "web_identity_token_file");
	const char *arn = wi_get(ch, profile, use_env, "AWS_ROLE_ARN", "role_arn");
	const char *name = wi_get(ch, profile, use_env, "AWS_ROLE_SESSION_NAME",
				  "role_session_name");
	int from_env = use_env && getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	aws_sts_call call = { 0 };
	char *token = NULL;
	int rc;

	if (!file || !file[0])
		return MS_SOURCE_NONE;
	if (!arn || !arn[0])
		return ms_error_set(err, MS_EINVAL,
				    "web identity token file '%s' but no role (set AWS_ROLE_ARN or "
				    "role_arn in aws profile '%s')",
				    file, profile);
	if ((rc = read_token_file(file, from_env ? "AWS_WEB_IDENTITY_TOKEN_FILE" : profile, &token,
				  err)) < 0)
		return rc;
	call.role_arn = arn;
	call.session_name = name;
	call.web_identity = token;
	call.profile = from_env ? NULL : profile;
	rc = sts(ch, &call, out, err);
	memset(token, 0, strlen(token));
	free(token);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Profiles                                                                 */

static int has_static(const chain *ch, const char *profile)
{
	return get(ch, profile, "aws_access_key_id") || get(ch, profile, "aws_secret_access_key");
}

/* The CLI's "assume role configured": role_arn and no web_identity_token_file. */
static int has_role(const chain *ch, const char *profile)
{
	return get(ch, profile, "role_arn") && !get(ch, profile, "web_identity_token_file");
}

static int src_assume_role(chain *ch, const char *profile, ms_aws_keys *out, ms_error *err);

/*
 * The profile's own sources, after role_arn: web identity, (sso, refused),
 * the credentials file, credential_process, the config file.
 */
static int profile_chain(chain *ch, const char *profile, int use_env, ms_aws_keys *out,
			 ms_error *err)
{
	const char *proc;
	int rc;

	if ((rc = src_web_identity(ch, profile, use_env, out, err)) <= 0) {
		ch->source = "web-identity";
		return rc;
	}
	if (get(ch, profile, "sso_start_url") || get(ch, profile, "sso_session") ||
	    get(ch, profile, "sso_account_id") || get(ch, profile, "sso_role_name"))
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "aws profile '%s' signs in with IAM Identity Center (sso_*), "
				    "which metasync does not support",
				    profile);
	if ((rc = src_file(ch, profile, 1, out, err)) <= 0) {
		ch->source = "shared-credentials-file";
		return rc;
	}
	if ((proc = get(ch, profile, "credential_process"))) {
		ch->source = "credential-process";
		return aws_process_keys(proc, profile, out, err);
	}
	if ((rc = src_file(ch, profile, 0, out, err)) <= 0) {
		ch->source = "config-file";
		return rc;
	}
	return MS_SOURCE_NONE;
}

/* The keys of a source_profile. */
static int source_profile_keys(chain *ch, const char *profile, ms_aws_keys *out, ms_error *err)
{
	int rc;

	if (has_static(ch, profile) || !has_role(ch, profile)) {
		if ((rc = profile_chain(ch, profile, 0, out, err)) == MS_SOURCE_NONE)
			return ms_error_set(err, MS_EINVAL,
					    "source_profile '%s' has no aws credentials", profile);
		return rc;
	}
	return src_assume_role(ch, profile, out, err);
}

/* The keys of credential_source name, for profile. */
static int credential_source_keys(chain *ch, const char *profile, const char *name,
				  ms_aws_keys *out, ms_error *err)
{
	const char *why = NULL;
	int rc;

	if (strcmp(name, "Environment") == 0)
		rc = src_env(out, err);
	else if (strcmp(name, "EcsContainer") == 0)
		rc = aws_container_keys(out, err);
	else if (strcmp(name, "Ec2InstanceMetadata") == 0)
		rc = aws_imds_keys(out, &why, err);
	else
		return ms_error_set(err, MS_EINVAL,
				    "credential_source '%s' of aws profile '%s' is none of "
				    "Environment, EcsContainer, Ec2InstanceMetadata",
				    name, profile);
	if (rc == MS_SOURCE_NONE)
		return ms_error_set(err, MS_EINVAL,
				    "no credentials in credential_source '%s' of aws profile "
				    "'%s'%s%s",
				    name, profile, why ? ": " : "", why ? why : "");
	return rc;
}

/* Check profile's source_profile as the CLI does: it exists, and no cycle. */
static int check_source(chain *ch, const char *profile, const char *src, ms_error *err)
{
	size_t i;

	if (!aws_config_has_profile(&ch->cfg, src))
		return ms_error_set(err, MS_EINVAL,
				    "source_profile '%s' of aws profile '%s' does not exist", src,
				    profile);
	for (i = 0; i < ch->nvisited; i++)
		if (strcmp(ch->visited[i], src) == 0 &&
		    (strcmp(src, profile) != 0 || !has_static(ch, src)))
			return ms_error_set(err, MS_EINVAL,
					    "aws profiles form a cycle: source_profile '%s' of "
					    "profile '%s' was visited already",
					    src, profile);
	if (ch->nvisited == MAX_HOPS)
		return ms_error_set(err, MS_EINVAL,
				    "aws profile '%s': more than %d source_profile hops", profile,
				    MAX_HOPS);
	ch->visited[ch->nvisited++] = src;
	return 0;
}

/* STS AssumeRole of profile's role_arn, signed with its source's keys. */
static int src_assume_role(chain *ch, const char *profile, ms_aws_keys *out, ms_error *err)
{
	const char *src = get(ch, profile, "source_profile");
	const char *cs = get(ch, profile, "credential_source");
	const char *dur = get(ch, profile, "duration_seconds");
	aws_sts_call call = { 0 };
	ms_aws_keys *source = calloc(1, sizeof(*source));
	char *end = NULL;
	int rc;

	if (!source)
		return oom(err);
	if (cs && src) {
		rc = ms_error_set(err, MS_EINVAL,
				  "aws profile '%s' has both source_profile and credential_source",
				  profile);
		goto done;
	}
	if (!cs && !src) {
		rc = ms_error_set(err, MS_EINVAL,
				  "aws profile '%s' has role_arn but neither source_profile nor "
				  "credential_source",
				  profile);
		goto done;
	}
	if (get(ch, profile, "mfa_serial")) {
		rc = ms_error_set(err, MS_ENOTSUPPORTED,
				  "aws profile '%s' needs an MFA code (mfa_serial), which metasync "
				  "cannot prompt for",
				  profile);
		goto done;
	}
	if (cs)
		rc = credential_source_keys(ch, profile, cs, source, err);
	else if ((rc = check_source(ch, profile, src, err)) == 0)
		rc = source_profile_keys(ch, src, source, err);
	if (rc < 0)
		goto done;
	call.role_arn = get(ch, profile, "role_arn");
	call.session_name = get(ch, profile, "role_session_name");
	call.external_id = get(ch, profile, "external_id");
	/* The CLI ignores a duration_seconds that is no integer. */
	if (dur && (strtol(dur, &end, 10), end != dur && *end == '\0'))
		call.duration = dur;
	call.source = source;
	call.profile = profile;
	rc = sts(ch, &call, out, err);
done:
	ms_aws_keys_wipe(source);
	free(source);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The chain                                                                */

/* The region (new in *out or NULL): AWS_REGION, AWS_DEFAULT_REGION, the profile's. */
static int region_of(const aws_config *cfg, const char *profile, char **out, ms_error *err)
{
	const char *v = aws_env("AWS_REGION");

	if (!v)
		v = aws_env("AWS_DEFAULT_REGION");
	if (!v)
		v = aws_config_get(cfg, profile, "region");
	*out = NULL;
	if (v && v[0] && !(*out = strdup(v)))
		return oom(err);
	return 0;
}

static int no_credentials(const chain *ch, const char *imds_why, ms_error *err)
{
	ms_error_set(err, MS_EINVAL,
		     "no aws credentials for %s: looked at %sprofile '%s' (credentials file, "
		     "config file), web identity, container credentials (no "
		     "AWS_CONTAINER_CREDENTIALS_*_URI), instance metadata (%s)",
		     ch->subject, ch->explicit ? "" : "the environment (no AWS_ACCESS_KEY_ID), ",
		     ch->profile, imds_why ? imds_why : "no answer");
	ms_error_detail(err, "credentials file '%s', config file '%s', instance metadata at '%s'",
			ch->cfg.cred.path ? ch->cfg.cred.path : "(no HOME)",
			ch->cfg.conf.path ? ch->cfg.conf.path : "(no HOME)", aws_imds_endpoint());
	return MS_EINVAL;
}

/* Walk the chain: 0 with *out and ch->source, or an error. */
static int walk(chain *ch, ms_aws_keys *out, ms_error *err)
{
	const char *why = NULL;
	int rc;

	if (ch->named && !aws_config_has_profile(&ch->cfg, ch->profile))
		return ms_error_set(err, MS_ENOTFOUND, "aws profile '%s' not found in '%s' or '%s'",
				    ch->profile,
				    ch->cfg.conf.path ? ch->cfg.conf.path : "~/.aws/config",
				    ch->cfg.cred.path ? ch->cfg.cred.path : "~/.aws/credentials");
	if (!ch->explicit && (rc = src_env(out, err)) <= 0) {
		ch->source = "environment";
		return rc;
	}
	ch->visited[ch->nvisited++] = ch->profile;
	if (has_role(ch, ch->profile)) {
		rc = src_assume_role(ch, ch->profile, out, err);
		ch->source = "assume-role";
		return rc;
	}
	if ((rc = profile_chain(ch, ch->profile, !ch->explicit, out, err)) <= 0)
		return rc;
	if ((rc = aws_container_keys(out, err)) <= 0) {
		ch->source = "container";
		return rc;
	}
	if ((rc = aws_imds_keys(out, &why, err)) <= 0) {
		ch->source = "instance-metadata";
		return rc;
	}
	return no_credentials(ch, why, err);
}

/* Resolve c's keys now into *out and *source. */
static int resolve(const ms_aws_creds *c, ms_aws_keys *out, const char **source, ms_error *err)
{
	chain ch = { 0 };
	int rc;

	ch.profile = c->profile;
	ch.explicit = c->explicit;
	ch.named = c->explicit || aws_env("AWS_PROFILE") || aws_env("AWS_DEFAULT_PROFILE");
	ch.subject = c->subject;
	if ((rc = aws_config_load(&ch.cfg, err)) < 0)
		return rc;
	if ((rc = region_of(&ch.cfg, ch.profile, &ch.region, err)) < 0)
		goto done;
	if ((rc = walk(&ch, out, err)) < 0)
		goto done;
	if (out->expires && out->expires <= now()) {
		rc = ms_error_set(err, MS_EINVAL, "the aws credentials from %s for %s are expired",
				  ch.source, c->subject);
		goto done;
	}
	*source = ch.source;
done:
	free(ch.region);
	aws_config_free(&ch.cfg);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The provider                                                             */

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
	if (pthread_mutex_init(&c->refresh, NULL) != 0) {
		pthread_mutex_destroy(&c->lock);
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
	if ((rc = resolve(c, &c->keys, &c->source, err)) < 0) {
		ms_aws_creds_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

/*
 * Walk the chain again (the caller holds c->refresh); on success replace
 * the cached keys, on failure keep them and wait RETRY_AFTER.
 */
static int refresh(ms_aws_creds *c, ms_error *err)
{
	ms_aws_keys *k = calloc(1, sizeof(*k));
	const char *source = NULL;
	int rc;

	if (!k)
		return oom(err);
	rc = resolve(c, k, &source, err);
	pthread_mutex_lock(&c->lock);
	if (rc == 0) {
		c->keys = *k;
		c->source = source;
		c->retry_at = 0;
	} else {
		c->retry_at = now() + RETRY_AFTER;
	}
	pthread_mutex_unlock(&c->lock);
	ms_aws_keys_wipe(k);
	free(k);
	return rc;
}

/* Copy the cached keys into out; returns their seconds left (a large number: never expire). */
static long long cached(ms_aws_creds *c, ms_aws_keys *out, long long *retry_at)
{
	pthread_mutex_lock(&c->lock);
	*out = c->keys;
	*retry_at = c->retry_at;
	pthread_mutex_unlock(&c->lock);
	return out->expires ? out->expires - now() : (long long)1 << 40;
}

int ms_aws_creds_get(ms_aws_creds *c, ms_aws_keys *out, ms_error *err)
{
	long long retry_at, left = cached(c, out, &retry_at);
	int rc;

	if (left >= ADVISORY_REFRESH)
		return 0;
	if (left >= MANDATORY_REFRESH) {
		/* Advisory: one thread refreshes, failures are ignored, nobody waits. */
		if (now() < retry_at || pthread_mutex_trylock(&c->refresh) != 0)
			return 0;
		if (cached(c, out, &retry_at) < ADVISORY_REFRESH && now() >= retry_at)
			refresh(c, NULL);
		pthread_mutex_unlock(&c->refresh);
		cached(c, out, &retry_at);
		return 0;
	}
	/* Mandatory: wait for the refresh; a failure with keys still valid keeps them. */
	pthread_mutex_lock(&c->refresh);
	left = cached(c, out, &retry_at);
	if (left >= MANDATORY_REFRESH || (left > 0 && now() < retry_at)) {
		pthread_mutex_unlock(&c->refresh);
		return 0;
	}
	rc = refresh(c, err);
	pthread_mutex_unlock(&c->refresh);
	left = cached(c, out, &retry_at);
	if (rc < 0 && left > 0)
		rc = 0;
	if (rc < 0)
		ms_aws_keys_wipe(out);
	return rc;
}

const char *ms_aws_creds_source(const ms_aws_creds *c)
{
	ms_aws_creds *m = (ms_aws_creds *)c;
	const char *s;

	pthread_mutex_lock(&m->lock);
	s = c->source;
	pthread_mutex_unlock(&m->lock);
	return s ? s : "none";
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
	pthread_mutex_destroy(&c->refresh);
	pthread_mutex_destroy(&c->lock);
	free(c->profile);
	free(c->subject);
	free(c);
}

int ms_aws_region(const char *profile, char **out, ms_error *err)
{
	aws_config cfg;
	int rc;

	*out = NULL;
	if (aws_env("AWS_REGION") || aws_env("AWS_DEFAULT_REGION"))
		return region_of(NULL, NULL, out, err);
	if ((rc = aws_config_load(&cfg, err)) < 0)
		return rc;
	rc = region_of(&cfg, profile_name(profile), out, err);
	aws_config_free(&cfg);
	return rc;
}
