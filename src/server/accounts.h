/*
 * The accounts of `metasync serve` (--accounts accounts.yaml): who may call
 * the Glue-compatible catalog server, with which access keys, and which
 * databases of another account's catalog each account may read or write.
 *
 *   accounts:
 *     - id: "111111111111"                 # 12 digits, unique
 *       keys:
 *         - id: AKIAEXAMPLESOURCE01        # 16 to 128 of [A-Z0-9], unique in the file
 *           secret: "..."                  # 1 to 128 printable characters, no spaces
 *     - id: "222222222222"
 *       keys:
 *         - id: AKIAEXAMPLETARGET02
 *           secret: "..."
 *           session_token: "..."           # optional: requests signed with this key
 *                                          # must carry it (X-Amz-Security-Token)
 *   grants:
 *     - to: "222222222222"                 # this account
 *       catalog: "111111111111"            # may use this account's catalog
 *       databases: ["sales", "finance_*"]  # names or globs, case-insensitive
 *       access: read                       # or write (write implies read)
 *
 * An account always has full access to its own catalog; another account's
 * catalog only through grants.  Errors name the file, the line and the key
 * ("accounts.yaml:12: grants[1].access: expected read or write, got 'all'");
 * no message ever carries a secret or a session token.
 */
#ifndef MS_SERVER_ACCOUNTS_H
#define MS_SERVER_ACCOUNTS_H

#include <stddef.h>

#include "metasync/error.h"

#define MS_ACCOUNT_ID_LEN 12
#define MS_ACCESS_KEY_ID_MIN 16
#define MS_ACCESS_KEY_ID_MAX 128
#define MS_SECRET_MAX 128
#define MS_SESSION_TOKEN_MAX 4096

typedef enum ms_access {
	MS_ACCESS_READ = 1,
	MS_ACCESS_WRITE = 2 /* implies read */
} ms_access;

typedef struct ms_account_key {
	char *id;            /* access key id */
	char *secret;        /* never print */
	char *session_token; /* NULL: none; never print */
	int line;
} ms_account_key;

typedef struct ms_account {
	char id[MS_ACCOUNT_ID_LEN + 1];
	ms_account_key *keys;
	size_t nkeys;
	int line;
} ms_account;

typedef struct ms_grant {
	char to[MS_ACCOUNT_ID_LEN + 1];      /* the account granted access */
	char catalog[MS_ACCOUNT_ID_LEN + 1]; /* the account whose catalog it may use */
	char **databases;                    /* lowercase names or fnmatch globs; at least one */
	size_t ndatabases;
	ms_access access;
	int line;
} ms_grant;

typedef struct ms_accounts {
	char *path;
	ms_account *accounts; /* at least one */
	size_t naccounts;
	ms_grant *grants;
	size_t ngrants;
} ms_accounts;

/*
 * Load and check path (new; ms_accounts_free).  The file must be a regular
 * file that only its owner may read or write (mode 0600 or 0400), else
 * MS_EREFUSED saying what to run.  A symbolic link is followed and the file
 * it leads to is judged.  MS_EINVAL names file:line: key.
 */
int ms_accounts_load(const char *path, ms_accounts **out, ms_error *err);
/* Same from text in memory; name is used in messages in place of a path. */
int ms_accounts_parse(const char *name, const char *text, size_t len, ms_accounts **out,
		      ms_error *err);
void ms_accounts_free(ms_accounts *accounts);

/*
 * The account, secret and session token (NULL when the key has none) of
 * the access key key_id, all borrowed from accounts; any out pointer may be
 * NULL.  0, or MS_ENOTFOUND (err untouched: the caller words the answer).
 */
int ms_accounts_find_key(const ms_accounts *accounts, const char *key_id, const char **account_id,
			 const char **secret, const char **session_token);

/*
 * 1 when caller may use database (a name, any case) of catalog_id's
 * catalog with access, else 0: always in its own catalog; in another one
 * when a grant to caller on that catalog matches database and gives
 * access (write implies read).  Unknown accounts, a NULL or empty database
 * in another catalog: 0.
 */
int ms_accounts_may(const ms_accounts *accounts, const char *caller, const char *catalog_id,
		    const char *database, ms_access access);

/*
 * 1 when caller may list the databases of catalog_id's catalog (its own, or
 * one with any grant to caller), else 0.  The server then keeps only the
 * databases ms_accounts_may allows.
 */
int ms_accounts_may_list(const ms_accounts *accounts, const char *caller, const char *catalog_id);

#endif
