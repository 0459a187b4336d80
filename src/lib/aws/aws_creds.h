/*
 * The AWS credential chain, shared by every driver that signs requests
 * (s3:// stores, glue:// catalogs): which keys to sign with, resolved as the
 * AWS CLI resolves them, cached, and refreshed before temporary keys
 * expire.  Also the region chain.  Nothing here is public API.
 *
 * Secrets live in ms_aws_creds and in the ms_aws_keys a caller fills (and
 * wipes); no message, log line or error holds one.
 */
#ifndef MS_AWS_CREDS_H
#define MS_AWS_CREDS_H

#include "metasync/error.h"

#define MS_AWS_KEY_MAX 256
#define MS_AWS_TOKEN_MAX 8192

/* One set of keys, as a request signs with them. */
typedef struct ms_aws_keys {
	char access_key[MS_AWS_KEY_MAX];
	char secret_key[MS_AWS_KEY_MAX];
	char session_token[MS_AWS_TOKEN_MAX]; /* "" when none */
	long long expires;                    /* epoch seconds; 0: never */
} ms_aws_keys;

typedef struct ms_aws_creds ms_aws_creds;

/*
 * A provider for profile (a URL's profile=, or NULL: AWS_PROFILE,
 * AWS_DEFAULT_PROFILE, "default").  An explicit profile skips the
 * environment's keys, as the AWS CLI's --profile does; a profile named
 * here or by AWS_PROFILE must exist.  `subject` names what the keys are for
 * in messages ("bucket 'b'", "glue catalog 'glue://us-east-1'").  Resolves
 * once now, through the AWS CLI v2's chain (docs/aws-credentials.md), so
 * that a setup with no keys fails at open: MS_EINVAL naming the profile and
 * the places looked at; a file that does not parse, a failing
 * credential_process or STS call: their own message (never a secret).
 */
int ms_aws_creds_open(ms_aws_creds **out, const char *profile, const char *subject, ms_error *err);

/*
 * The keys to sign with now (copied into *out; wipe them after use): the
 * cached ones, or new ones when temporary keys expire within 15 minutes
 * (one caller refreshes, the others keep the cached keys) or 10 minutes
 * (every caller waits for the refresh).  A failed refresh keeps keys that
 * are still valid, and is tried again 30 seconds later; keys that expired
 * and cannot be refreshed are an error.  Static keys never refresh.
 * Thread-safe.
 */
int ms_aws_creds_get(ms_aws_creds *c, ms_aws_keys *out, ms_error *err);

/*
 * Where the keys came from: "environment", "shared-credentials-file",
 * "config-file", "assume-role", "credential-process", "web-identity",
 * "container" or "instance-metadata"; static, may be logged.
 */
const char *ms_aws_creds_source(const ms_aws_creds *c);

void ms_aws_creds_close(ms_aws_creds *c);

/*
 * libcurl's global initialisation, once per process, for every client of
 * an AWS service (s3://, glue://, STS and the credential endpoints): 0, or
 * -1 when libcurl cannot start.  Thread-safe.
 */
int ms_aws_curl_init(void);

/* Overwrite the secrets in k. */
void ms_aws_keys_wipe(ms_aws_keys *k);

/*
 * The region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the
 * config (or credentials) file, else NULL (*out new or NULL).  profile as
 * for ms_aws_creds_open.
 */
int ms_aws_region(const char *profile, char **out, ms_error *err);

#endif
