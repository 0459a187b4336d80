/*
 * The parts of the credential chain (aws_creds.c) that live in their own
 * files: the shared config and credentials files as the AWS CLI reads them
 * (aws_ini.c), credential_process (aws_process.c) and the sources that
 * answer over HTTP: STS, the container endpoint, instance metadata
 * (aws_fetch.c).  Internal to src/lib/aws.
 *
 * Each source function returns 0 with *out filled, MS_SOURCE_NONE (1) when
 * the source is not configured or has nothing, or a negative MS_E* code with
 * err filled (a message naming the profile or endpoint, never a secret).
 */
#ifndef MS_AWS_INTERNAL_H
#define MS_AWS_INTERNAL_H

#include "aws/aws_creds.h"
#include "util/buf.h"

#define MS_SOURCE_NONE 1

/* ------------------------------------------------------------------------ */
/* aws_ini.c: the files                                                     */

typedef struct aws_kv {
	char *key;   /* owned, lowercase */
	char *value; /* owned */
} aws_kv;

typedef struct aws_section {
	char *name; /* owned */
	aws_kv *kv; /* owned */
	size_t n, alloc;
} aws_section;

/* One file parsed as Python's configparser.RawConfigParser does. */
typedef struct aws_ini {
	char *path;     /* owned; NULL when no path (no HOME) */
	int present;    /* the file exists */
	aws_section *s; /* owned */
	size_t n, alloc;
	aws_section dflt; /* [DEFAULT]: every section's fallback values */
} aws_ini;

/* The credentials file and the config file, read together. */
typedef struct aws_config {
	aws_ini cred;
	aws_ini conf;
} aws_config;

/*
 * Read both files (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
 * AWS_CONFIG_FILE or ~/.aws/config).  A missing file is empty; a file that
 * does not parse is MS_EINVAL naming it and the line (never its content).
 */
int aws_config_load(aws_config *c, ms_error *err);
void aws_config_free(aws_config *c);

/* Whether profile exists in either file (the CLI's "full config"). */
int aws_config_has_profile(const aws_config *c, const char *profile);

/* key of profile in the credentials file only; borrowed or NULL. */
const char *aws_cred_get(const aws_config *c, const char *profile, const char *key);
/* key of profile in the config file only ([profile NAME] / [default]). */
const char *aws_conf_get(const aws_config *c, const char *profile, const char *key);
/* key of profile, the credentials file's value first (the CLI's merge). */
const char *aws_config_get(const aws_config *c, const char *profile, const char *key);

/*
 * Split s into words as Python's shlex.split (POSIX mode) does: quotes,
 * backslash escapes, no expansion.  *argv new (NULL-terminated, free with
 * aws_argv_free); returns the count, or -1 on an unbalanced quote.
 */
int aws_shlex_split(const char *s, char ***argv);
void aws_argv_free(char **argv);

/* An ISO 8601 time ("2024-05-01T12:00:00Z", fractions, offsets) as epoch seconds. */
int aws_parse_time(const char *s, long long *out);

/* The environment variable's value, or NULL when unset or empty. */
const char *aws_env(const char *name);

/* Fill k; MS_EINVAL when a value is too long (nothing of it in the message). */
int aws_keys_set(ms_aws_keys *k, const char *ak, const char *sk, const char *token,
		 long long expires, const char *what, ms_error *err);

/* ------------------------------------------------------------------------ */
/* aws_process.c                                                            */

/*
 * Run profile's credential_process cmd (split as the CLI splits it, no
 * shell; stdout read, stderr left to ours) and parse its JSON (Version 1).
 */
int aws_process_keys(const char *cmd, const char *profile, ms_aws_keys *out, ms_error *err);

/* ------------------------------------------------------------------------ */
/* aws_fetch.c                                                              */

/* One STS AssumeRole or AssumeRoleWithWebIdentity call. */
typedef struct aws_sts_call {
	const char *endpoint; /* https://sts.REGION.amazonaws.com or an override */
	const char *region;   /* signing region */
	const char *role_arn;
	const char *session_name;
	const char *external_id;   /* or NULL */
	const char *duration;      /* decimal seconds, or NULL */
	const char *web_identity;  /* the token: AssumeRoleWithWebIdentity; NULL: AssumeRole */
	const ms_aws_keys *source; /* AssumeRole's signing keys */
	const char *profile;       /* for messages, or NULL (the environment) */
} aws_sts_call;

int aws_sts(const aws_sts_call *call, ms_aws_keys *out, ms_error *err);

/*
 * Container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI);
 * MS_SOURCE_NONE when neither is set.
 */
int aws_container_keys(ms_aws_keys *out, ms_error *err);

/*
 * EC2 instance metadata (IMDSv2, IMDSv1 when the token is refused);
 * MS_SOURCE_NONE when disabled or unreachable, *why saying which (static).
 */
int aws_imds_keys(ms_aws_keys *out, const char **why, ms_error *err);

/* The instance metadata endpoint in use (static or the environment's). */
const char *aws_imds_endpoint(void);

#endif
