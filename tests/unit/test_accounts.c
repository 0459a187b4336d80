/*
 * Unit tests of the accounts file of `metasync serve`: a full file parsed
 * field by field, every kind of error with its exact `FILE:LINE: KEY:`
 * prefix, the file-mode check of ms_accounts_load, the key lookup and the
 * table of access decisions.  Secrets and session tokens sit next to every
 * kind of mistake, and no message may carry them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/accounts.h"

#define SECRET1 "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
#define SECRET2 "je7MtGbClwBF2Zp9Utk-ExAmPlE+KeY/2"
#define TOKEN "FwoGZXIvYXdzEXAMPLEtokenAQoDYXdzEJr"

/* ---- helpers ---------------------------------------------------------- */

static ms_accounts *parse_ok(const char *text)
{
	ms_accounts *a = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_accounts_parse("accounts.yaml", text, strlen(text), &a, &err);
	if (rc != 0)
		fail_msg("parse failed (%d): %s\n%s", rc, err.message, text);
	assert_non_null(a);
	return a;
}

static void no_secret(const char *message)
{
	if (strstr(message, SECRET1) || strstr(message, SECRET2) || strstr(message, TOKEN) ||
	    strstr(message, "wJalrXUtn") || strstr(message, "FwoGZXIv"))
		fail_msg("message shows a secret: '%s'", message);
}

/* Parse text as "accounts.yaml"; expect EINVAL whose message starts with prefix. */
static void parse_err(const char *text, const char *prefix)
{
	ms_accounts *a = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_accounts_parse("accounts.yaml", text, strlen(text), &a, &err);
	if (rc != MS_EINVAL)
		fail_msg("expected EINVAL '%s', got %d '%s' for\n%s", prefix, rc, err.message,
			 text);
	assert_null(a);
	if (strncmp(err.message, prefix, strlen(prefix)) != 0)
		fail_msg("message\n  got:      '%s'\n  expected: '%s...'", err.message, prefix);
	if (strchr(err.message, '\n'))
		fail_msg("message spans lines: '%s'", err.message);
	no_secret(err.message);
}

static char *write_temp(const char *text, mode_t mode)
{
	char tmpl[] = "/tmp/ms-accounts-XXXXXX";
	int fd = mkstemp(tmpl);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(tmpl, mode), 0);
	return strdup(tmpl);
}

/* Two accounts with a key each: the start of most files below (lines 1-9). */
#define ACCOUNTS \
	"accounts:\n"                       /* 1 */ \
	"  - id: \"111111111111\"\n"        /* 2 */ \
	"    keys:\n"                       /* 3 */ \
	"      - id: AKIAEXAMPLESOURCE01\n" /* 4 */ \
	"        secret: " SECRET1 "\n"     /* 5 */ \
	"  - id: 222222222222\n"            /* 6 */ \
	"    keys:\n"                       /* 7 */ \
	"      - id: AKIAEXAMPLETARGET02\n" /* 8 */ \
	"        secret: \"" SECRET2 "\"\n" /* 9 */

/* ---- a valid file ----------------------------------------------------- */

static const char full_file[] = "# the accounts of one server\n"              /* 1 */
				"accounts:\n"                                 /* 2 */
				"  - id: \"111111111111\"\n"                  /* 3 */
				"    keys:\n"                                 /* 4 */
				"      - id: AKIAEXAMPLESOURCE01\n"           /* 5 */
				"        secret: \"" SECRET1 "\"\n"           /* 6 */
				"      - id: AKIAEXAMPLESOURCE0B\n"           /* 7 */
				"        secret: " SECRET2 "\n"               /* 8 */
				"  - id: 222222222222\n"                      /* 9 */
				"    keys:\n"                                 /* 10 */
				"      - id: AKIAEXAMPLETARGET02\n"           /* 11 */
				"        secret: '" SECRET2 "'\n"             /* 12 */
				"        session_token: \"" TOKEN "\"\n"      /* 13 */
				"  - id: \"333333333333\"\n"                  /* 14 */
				"grants:\n"                                   /* 15 */
				"  - to: \"222222222222\"\n"                  /* 16 */
				"    catalog: \"111111111111\"\n"             /* 17 */
				"    databases: [\"sales\", \"Finance_*\"]\n" /* 18 */
				"    access: read\n"                          /* 19 */
				"  - to: 222222222222\n"                      /* 20 */
				"    catalog: 333333333333\n"                 /* 21 */
				"    databases:\n"                            /* 22 */
				"      - staging\n"                           /* 23 */
				"    access: write\n";                        /* 24 */

static void test_full_file(void **state)
{
	ms_accounts *a = parse_ok(full_file);
	const ms_account *acc;
	const ms_grant *g;

	(void)state;
	assert_string_equal(a->path, "accounts.yaml");
	assert_int_equal(a->naccounts, 3);
	acc = &a->accounts[0];
	assert_string_equal(acc->id, "111111111111");
	assert_int_equal(acc->line, 3);
	assert_int_equal(acc->nkeys, 2);
	assert_string_equal(acc->keys[0].id, "AKIAEXAMPLESOURCE01");
	assert_string_equal(acc->keys[0].secret, SECRET1);
	assert_null(acc->keys[0].session_token);
	assert_int_equal(acc->keys[0].line, 5);
	assert_string_equal(acc->keys[1].id, "AKIAEXAMPLESOURCE0B");
	assert_string_equal(acc->keys[1].secret, SECRET2);
	acc = &a->accounts[1];
	assert_string_equal(acc->id, "222222222222");
	assert_int_equal(acc->nkeys, 1);
	assert_string_equal(acc->keys[0].secret, SECRET2);
	assert_string_equal(acc->keys[0].session_token, TOKEN);
	acc = &a->accounts[2];
	assert_string_equal(acc->id, "333333333333");
	assert_int_equal(acc->nkeys, 0);
	assert_null(acc->keys);

	assert_int_equal(a->ngrants, 2);
	g = &a->grants[0];
	assert_string_equal(g->to, "222222222222");
	assert_string_equal(g->catalog, "111111111111");
	assert_int_equal(g->ndatabases, 2);
	assert_string_equal(g->databases[0], "sales");
	assert_string_equal(g->databases[1], "finance_*"); /* names are lowercase */
	assert_int_equal(g->access, MS_ACCESS_READ);
	assert_int_equal(g->line, 16);
	g = &a->grants[1];
	assert_string_equal(g->catalog, "333333333333");
	assert_int_equal(g->ndatabases, 1);
	assert_string_equal(g->databases[0], "staging");
	assert_int_equal(g->access, MS_ACCESS_WRITE);
	ms_accounts_free(a);
	ms_accounts_free(NULL);

	/* No grants at all; an empty or null grants list. */
	a = parse_ok(ACCOUNTS);
	assert_int_equal(a->ngrants, 0);
	ms_accounts_free(a);
	a = parse_ok(ACCOUNTS "grants: []\n");
	assert_int_equal(a->ngrants, 0);
	ms_accounts_free(a);
	a = parse_ok(ACCOUNTS "grants:\n");
	assert_int_equal(a->ngrants, 0);
	ms_accounts_free(a);

	/* the bounds of an access key id and a secret: 16 and 128 characters */
	a = parse_ok("accounts:\n  - id: \"111111111111\"\n    keys:\n"
		     "      - id: AKIAEXAMPLE00016\n        secret: x\n"
		     "      - id: "
		     "AKIAEXAMPLE00128AKIAEXAMPLE00128AKIAEXAMPLE00128AKIAEXAMPLE00128"
		     "AKIAEXAMPLE00128AKIAEXAMPLE00128AKIAEXAMPLE00128AKIAEXAMPLE00128\n"
		     "        secret: "
		     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
	assert_int_equal(strlen(a->accounts[0].keys[1].id), 128);
	assert_int_equal(strlen(a->accounts[0].keys[1].secret), 128);
	ms_accounts_free(a);

	/* session_token: null is the same as no session token */
	a = parse_ok("accounts:\n  - id: \"111111111111\"\n    keys:\n      - id: "
		     "AKIAEXAMPLESOURCE01\n        secret: " SECRET1
		     "\n        session_token: ~\n");
	assert_null(a->accounts[0].keys[0].session_token);
	ms_accounts_free(a);
}

/* ---- errors ------------------------------------------------------------ */

static void test_errors_top(void **state)
{
	(void)state;
	parse_err("", "accounts.yaml:1: the file is empty; expected accounts, grants");
	parse_err("# nothing\n", "accounts.yaml:1: the file is empty");
	parse_err("accounts: [\n", "accounts.yaml:2: syntax error: ");
	parse_err("- a\n", "accounts.yaml:1: expected a mapping with accounts, grants, got a list");
	parse_err(ACCOUNTS "users: []\n",
		  "accounts.yaml:10: users: unknown key; expected accounts, grants");
	parse_err("grants: []\n", "accounts.yaml:1: accounts: missing (a list of accounts");
	parse_err("accounts:\n", "accounts.yaml:1: accounts: missing (a list of accounts");
	parse_err("accounts: []\n",
		  "accounts.yaml:1: accounts: is empty: list at least one account");
	parse_err("accounts: 111111111111\n", "accounts.yaml:1: accounts: expected a list of "
					      "accounts (id, keys), got a string");
	parse_err(ACCOUNTS "---\naccounts: []\n", "accounts.yaml:11: a second YAML document");
	parse_err(ACCOUNTS ACCOUNTS, "accounts.yaml:10: accounts: duplicate key (first at line 1)");
}

static void test_errors_accounts(void **state)
{
	(void)state;
	parse_err("accounts:\n  - keys: []\n",
		  "accounts.yaml:2: accounts[0].id: missing (a 12-digit account id)");
	parse_err("accounts:\n  - id: 11111111111\n", "accounts.yaml:2: accounts[0].id: expected a "
						      "12-digit account id, got '11111111111'");
	parse_err("accounts:\n  - id: 1111111111111\n",
		  "accounts.yaml:2: accounts[0].id: expected a 12-digit account id, got "
		  "'1111111111111'");
	parse_err("accounts:\n  - id: \"11111111111a\"\n",
		  "accounts.yaml:2: accounts[0].id: expected a 12-digit account id, got "
		  "'11111111111a'");
	parse_err("accounts:\n  - id: -11111111111\n", "accounts.yaml:2: accounts[0].id: expected "
						       "a 12-digit account id, got '-11111111111'");
	parse_err("accounts:\n  - id: 1.11111111e11\n",
		  "accounts.yaml:2: accounts[0].id: expected a 12-digit account id, got "
		  "'1.11111111e11'");
	parse_err("accounts:\n  - id: [111111111111]\n",
		  "accounts.yaml:2: accounts[0].id: expected a 12-digit account id, got a list");
	parse_err("accounts:\n  - id: ~\n",
		  "accounts.yaml:2: accounts[0].id: expected a 12-digit account id, got nothing");
	parse_err("accounts:\n  - \"111111111111\"\n",
		  "accounts.yaml:2: accounts[0]: expected a mapping with id, keys, got a string");
	parse_err("accounts:\n  - id: \"111111111111\"\n    name: source\n",
		  "accounts.yaml:3: accounts[0].name: unknown key; expected id, keys");
	parse_err(ACCOUNTS "  - id: '111111111111'\n",
		  "accounts.yaml:10: accounts[2].id: duplicate account '111111111111' (also at "
		  "line 2)");
	parse_err("accounts:\n  - id: \"111111111111\"\n    keys: AKIAEXAMPLESOURCE01\n",
		  "accounts.yaml:3: accounts[0].keys: expected a list of keys (id, secret), got a "
		  "string");
}

static void test_errors_keys(void **state)
{
	(void)state;
#define KEY_AT(body) "accounts:\n  - id: \"111111111111\"\n    keys:\n      - " body
	parse_err(KEY_AT("secret: " SECRET1 "\n"),
		  "accounts.yaml:4: accounts[0].keys[0].id: missing (the access key id)");
	parse_err(KEY_AT("id: AKIAEXAMPLE\n        secret: " SECRET1 "\n"),
		  "accounts.yaml:4: accounts[0].keys[0].id: expected 16 to 128 of A-Z and 0-9 (an "
		  "access key id such as AKIAIOSFODNN7EXAMPLE), got 'AKIAEXAMPLE'");
	parse_err(KEY_AT("id: akiaexamplesource01\n        secret: " SECRET1 "\n"),
		  "accounts.yaml:4: accounts[0].keys[0].id: expected 16 to 128 of A-Z and 0-9");
	parse_err(KEY_AT("id: AKIA-EXAMPLE-SOURCE01\n        secret: " SECRET1 "\n"),
		  "accounts.yaml:4: accounts[0].keys[0].id: expected 16 to 128 of A-Z and 0-9");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01AKIAEXAMPLESOURCE01AKIAEXAMPLESOURCE01AKIAEXAMPLE"
			 "SOURCE01AKIAEXAMPLESOURCE01AKIAEXAMPLESOURCE01AKIAEXAMPLESOURCE01\n"
			 "        secret: " SECRET1 "\n"),
		  "accounts.yaml:4: accounts[0].keys[0].id: expected 16 to 128 of A-Z and 0-9");
	parse_err(KEY_AT("id: AKIAEXAMPLE0015\n        secret: x\n"),
		  "accounts.yaml:4: accounts[0].keys[0].id: expected 16 to 128 of A-Z and 0-9");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: "
			 "0123456789abcdef0123456789abcdef"
			 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			 "0123456789abcdef0123456789abcdef0\n"),
		  "accounts.yaml:5: accounts[0].keys[0].secret: expected 1 to 128 printable");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n"),
		  "accounts.yaml:4: accounts[0].keys[0].secret: missing (the secret access key)");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: \"\"\n"),
		  "accounts.yaml:5: accounts[0].keys[0].secret: must not be empty");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: ~\n"),
		  "accounts.yaml:5: accounts[0].keys[0].secret: expected a string, got nothing");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: [" SECRET1 "]\n"),
		  "accounts.yaml:5: accounts[0].keys[0].secret: expected a string, got a list");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: \"" SECRET1 " x\"\n"),
		  "accounts.yaml:5: accounts[0].keys[0].secret: expected 1 to 128 printable "
		  "characters without spaces, got '***'");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: \"" SECRET1 "\\t\"\n"),
		  "accounts.yaml:5: accounts[0].keys[0].secret: expected 1 to 128 printable");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: " SECRET1 SECRET1 SECRET1 SECRET1
			 "\n"),
		  "accounts.yaml:5: accounts[0].keys[0].secret: expected 1 to 128 printable");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: " SECRET1
			 "\n        session_token: \"\"\n"),
		  "accounts.yaml:6: accounts[0].keys[0].session_token: must not be empty");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: " SECRET1
			 "\n        session_token: \"" TOKEN " " TOKEN "\"\n"),
		  "accounts.yaml:6: accounts[0].keys[0].session_token: expected 1 to 4096 "
		  "printable "
		  "characters without spaces, got '***'");
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: " SECRET1
			 "\n        token: " TOKEN "\n"),
		  "accounts.yaml:6: accounts[0].keys[0].token: unknown key; expected id, secret, "
		  "session_token");
	parse_err(KEY_AT("AKIAEXAMPLESOURCE01: " SECRET1 "\n"),
		  "accounts.yaml:4: accounts[0].keys[0].AKIAEXAMPLESOURCE01: unknown key; expected "
		  "id, secret, session_token");
	parse_err(KEY_AT(SECRET1 "\n"),
		  "accounts.yaml:4: accounts[0].keys[0]: expected a mapping with id, secret, "
		  "session_token, got a string");
	/* The same access key id twice, in one account or in two. */
	parse_err(KEY_AT("id: AKIAEXAMPLESOURCE01\n        secret: " SECRET1
			 "\n      - id: AKIAEXAMPLESOURCE01\n        secret: " SECRET2 "\n"),
		  "accounts.yaml:6: accounts[0].keys[1].id: duplicate access key id "
		  "'AKIAEXAMPLESOURCE01' (also at line 4)");
	parse_err(ACCOUNTS "  - id: \"333333333333\"\n    keys:\n      - id: AKIAEXAMPLETARGET02\n"
			   "        secret: " SECRET1 "\n",
		  "accounts.yaml:12: accounts[2].keys[0].id: duplicate access key id "
		  "'AKIAEXAMPLETARGET02' (also at line 8)");
#undef KEY_AT
}

static void test_errors_grants(void **state)
{
	(void)state;
#define GRANT(body) ACCOUNTS "grants:\n  - " body
#define TO_CAT "to: \"222222222222\"\n    catalog: \"111111111111\"\n"
	parse_err(ACCOUNTS "grants: {to: 222222222222}\n",
		  "accounts.yaml:10: grants: expected a list of grants (to, catalog, databases, "
		  "access), got a mapping");
	parse_err(GRANT("read\n"),
		  "accounts.yaml:11: grants[0]: expected a mapping with to, catalog, databases, "
		  "access, got a string");
	parse_err(GRANT("catalog: \"111111111111\"\n"),
		  "accounts.yaml:11: grants[0].to: missing (a 12-digit account id)");
	parse_err(GRANT("to: 22222222222\n"), "accounts.yaml:11: grants[0].to: expected a 12-digit "
					      "account id, got '22222222222'");
	parse_err(GRANT("to: \"333333333333\"\n"),
		  "accounts.yaml:11: grants[0].to: unknown account '333333333333' (not under "
		  "accounts)");
	parse_err(GRANT("to: \"222222222222\"\n    databases: [sales]\n"),
		  "accounts.yaml:11: grants[0].catalog: missing (a 12-digit account id)");
	parse_err(GRANT("to: \"222222222222\"\n    catalog: 444444444444\n"),
		  "accounts.yaml:12: grants[0].catalog: unknown account '444444444444'");
	parse_err(GRANT("to: \"222222222222\"\n    catalog: 222222222222\n"),
		  "accounts.yaml:12: grants[0].catalog: is the account in 'to' (an account always "
		  "has full access to its own catalog)");
	parse_err(GRANT(TO_CAT "    access: read\n"), "accounts.yaml:11: grants[0].databases: "
						      "missing (a list of database names or globs");
	parse_err(GRANT(TO_CAT "    databases: []\n    access: read\n"),
		  "accounts.yaml:13: grants[0].databases: expected a non-empty list of database "
		  "names or globs (\"*\" for all)");
	parse_err(GRANT(TO_CAT "    databases: ~\n    access: read\n"),
		  "accounts.yaml:13: grants[0].databases: expected a non-empty list");
	parse_err(GRANT(TO_CAT "    databases: sales\n    access: read\n"),
		  "accounts.yaml:13: grants[0].databases: expected a list of database names or "
		  "globs, got a string");
	parse_err(GRANT(TO_CAT "    databases: [sales, \"\"]\n    access: read\n"),
		  "accounts.yaml:13: grants[0].databases[1]: expected a database name or glob of 1 "
		  "to 255 printable characters without spaces, got ''");
	parse_err(GRANT(TO_CAT "    databases: [\"my sales\"]\n    access: read\n"),
		  "accounts.yaml:13: grants[0].databases[0]: expected a database name or glob");
	parse_err(GRANT(TO_CAT "    databases: [[sales]]\n    access: read\n"),
		  "accounts.yaml:13: grants[0].databases[0]: expected a string, got a list");
	parse_err(GRANT(TO_CAT "    databases: [sales]\n"),
		  "accounts.yaml:11: grants[0].access: missing (read or write)");
	parse_err(GRANT(TO_CAT "    databases: [sales]\n    access: all\n"),
		  "accounts.yaml:14: grants[0].access: expected read or write, got 'all'");
	parse_err(GRANT(TO_CAT "    databases: [sales]\n    access: Read\n"),
		  "accounts.yaml:14: grants[0].access: expected read or write, got 'Read'");
	parse_err(GRANT(TO_CAT "    databases: [sales]\n    access: [read]\n"),
		  "accounts.yaml:14: grants[0].access: expected read or write, got a list");
	parse_err(GRANT(TO_CAT "    databases: [sales]\n    access: read\n    tables: [\"*\"]\n"),
		  "accounts.yaml:15: grants[0].tables: unknown key; expected to, catalog, "
		  "databases, "
		  "access");
	parse_err(GRANT(TO_CAT "    databases: [sales]\n    access: read\n  - " TO_CAT
			       "    databases: [sales]\n    access: all\n"),
		  "accounts.yaml:18: grants[1].access: expected read or write, got 'all'");
#undef TO_CAT
#undef GRANT
}

/* A secret that also appears where a value is echoed is masked out. */
static void test_secret_never_echoed(void **state)
{
	ms_accounts *a = NULL;
	ms_error err;
	const char *texts[] = {
		/* the secret used as a database name, a grant's access, an account id */
		ACCOUNTS "grants:\n  - to: \"222222222222\"\n    catalog: \"111111111111\"\n"
			 "    databases: [\"" SECRET1 " \"]\n    access: read\n",
		ACCOUNTS "grants:\n  - to: \"222222222222\"\n    catalog: \"111111111111\"\n"
			 "    databases: [sales]\n    access: " SECRET1 "\n",
		ACCOUNTS "  - id: " SECRET1 "\n",
		ACCOUNTS "  - id: \"333333333333\"\n    keys:\n      - id: " SECRET1 "\n"
			 "        secret: ok\n",
		ACCOUNTS "  - id: \"333333333333\"\n    keys:\n      - " SECRET1 ": x\n",
		ACCOUNTS "  - id: \"333333333333\"\n    keys:\n      - id: AKIAEXAMPLETHIRD03\n"
			 "        secret: ok\n        session_token: " TOKEN "\n  - id: " TOKEN
			 "\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ms_error_clear(&err);
		assert_int_equal(ms_accounts_parse("accounts.yaml", texts[i], strlen(texts[i]), &a,
						   &err),
				 MS_EINVAL);
		assert_null(a);
		assert_true(strncmp(err.message, "accounts.yaml:", 14) == 0);
		no_secret(err.message);
	}
	/* the mask does not loop on a secret made of stars, nor grow the message */
	ms_error_clear(&err);
	{
		const char *t = "accounts:\n  - id: \"111111111111\"\n    keys:\n      - id: "
				"AKIAEXAMPLESOURCE01\n        secret: \"*\"\n  - id: \"*\"\n";

		assert_int_equal(ms_accounts_parse("accounts.yaml", t, strlen(t), &a, &err),
				 MS_EINVAL);
		assert_string_equal(err.message, "accounts.yaml:6: accounts[1].id: expected a "
						 "12-digit account id, "
						 "got '*'");
	}
	/* a short secret is masked as a whole word, not inside other words */
	{
		const char *t = "accounts:\n  - id: \"111111111111\"\n    keys:\n      - id: "
				"AKIAEXAMPLESOURCE01\n        secret: ccount\n  - id: ccount\n";

		assert_int_equal(ms_accounts_parse("accounts.yaml", t, strlen(t), &a, &err),
				 MS_EINVAL);
		assert_string_equal(err.message, "accounts.yaml:6: accounts[1].id: expected a "
						 "12-digit account id, "
						 "got '***'");
	}
	/* a secret of one character: the message is masked after FILE:LINE: only */
	{
		const char *t = "accounts:\n  - id: \"111111111111\"\n    keys:\n      - id: "
				"AKIAEXAMPLESOURCE01\n        secret: \".\"\ngrants: [read]\n";

		assert_int_equal(ms_accounts_parse("accounts.yaml", t, strlen(t), &a, &err),
				 MS_EINVAL);
		assert_string_equal(err.message, "accounts.yaml:6: grants[0]: expected a mapping "
						 "with to, catalog, "
						 "databases, access, got a string");
	}
}

/* ---- loading: the file's mode ------------------------------------------ */

static void test_load(void **state)
{
	ms_accounts *a = NULL;
	ms_error err;
	char expected[512], *path, link[64];
	int rc;

	(void)state;
	path = write_temp(full_file, 0600);
	ms_error_clear(&err);
	rc = ms_accounts_load(path, &a, &err);
	if (rc != 0)
		fail_msg("load: %s", err.message);
	assert_string_equal(a->path, path);
	assert_int_equal(a->naccounts, 3);
	ms_accounts_free(a);
	a = NULL;

	/* 0400 is fine too */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(ms_accounts_load(path, &a, &err), 0);
	ms_accounts_free(a);
	a = NULL;

	/* readable by the group or the world, or writable: refused, saying what to run */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ms_accounts_load(path, &a, &err), MS_EREFUSED);
	assert_null(a);
	snprintf(expected, sizeof(expected),
		 "accounts file '%s' has mode 0644: it holds secret keys and must be open to its "
		 "owner only; run 'chmod 600 %s'",
		 path, path);
	assert_string_equal(err.message, expected);
	no_secret(err.message);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(ms_accounts_load(path, &a, &err), MS_EREFUSED);
	assert_non_null(strstr(err.message, "has mode 0640"));
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(ms_accounts_load(path, &a, &err), MS_EREFUSED);
	assert_non_null(strstr(err.message, "has mode 0620"));
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(ms_accounts_load(path, &a, &err), MS_EREFUSED);
	assert_non_null(strstr(err.message, "chmod 600"));

	/* a symbolic link is followed; the file it leads to is judged */
	snprintf(link, sizeof(link), "%s.link", path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ms_accounts_load(link, &a, &err), MS_EREFUSED);
	assert_non_null(strstr(err.message, "has mode 0602"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(ms_accounts_load(link, &a, &err), 0);
	ms_accounts_free(a);
	a = NULL;
	unlink(link);
	unlink(path);

	rc = ms_accounts_load(path, &a, &err);
	assert_int_equal(rc, MS_ENOTFOUND);
	assert_null(a);
	assert_non_null(strstr(err.message, "cannot read accounts file"));
	assert_non_null(strstr(err.message, path));
	free(path);

	/* errors in a loaded file name the path and the line */
	path = write_temp(ACCOUNTS "grants: [{to: 222222222222, catalog: 111111111111, databases: "
				   "[sales], access: all}]\n",
			  0600);
	assert_int_equal(ms_accounts_load(path, &a, &err), MS_EINVAL);
	snprintf(expected, sizeof(expected),
		 "%s:10: grants[0].access: expected read or write, got 'all'", path);
	assert_string_equal(err.message, expected);
	unlink(path);
	free(path);

	/* a directory is not an accounts file */
	assert_int_equal(ms_accounts_load("/tmp", &a, &err), MS_EREFUSED);
	assert_string_equal(err.message, "accounts file '/tmp' is not a regular file");
}

/* ---- lookups and decisions -------------------------------------------- */

static void test_find_key(void **state)
{
	ms_accounts *a = parse_ok(full_file);
	const char *account = NULL, *secret = NULL, *token = "unset";

	(void)state;
	assert_int_equal(ms_accounts_find_key(a, "AKIAEXAMPLESOURCE0B", &account, &secret, &token),
			 0);
	assert_string_equal(account, "111111111111");
	assert_string_equal(secret, SECRET2);
	assert_null(token);
	assert_int_equal(ms_accounts_find_key(a, "AKIAEXAMPLETARGET02", &account, &secret, &token),
			 0);
	assert_string_equal(account, "222222222222");
	assert_string_equal(token, TOKEN);
	assert_int_equal(ms_accounts_find_key(a, "AKIAEXAMPLESOURCE01", NULL, NULL, NULL), 0);
	/* key ids are exact: no case folding, no prefix */
	assert_int_equal(ms_accounts_find_key(a, "akiaexamplesource01", &account, NULL, NULL),
			 MS_ENOTFOUND);
	assert_int_equal(ms_accounts_find_key(a, "AKIAEXAMPLESOURCE0", NULL, NULL, NULL),
			 MS_ENOTFOUND);
	assert_int_equal(ms_accounts_find_key(a, "", NULL, NULL, NULL), MS_ENOTFOUND);
	assert_int_equal(ms_accounts_find_key(a, NULL, NULL, NULL, NULL), MS_ENOTFOUND);
	assert_int_equal(ms_accounts_find_key(NULL, "AKIAEXAMPLESOURCE01", NULL, NULL, NULL),
			 MS_ENOTFOUND);
	ms_accounts_free(a);
}

#define SRC "111111111111"
#define TGT "222222222222"
#define THIRD "333333333333"
#define NOBODY "999999999999"

static void test_decisions(void **state)
{
	static const struct {
		const char *caller, *catalog, *database;
		ms_access access;
		int may;
	} table[] = {
		/* its own catalog: everything, any database, any case, none at all */
		{ SRC, SRC, "sales", MS_ACCESS_WRITE, 1 },
		{ SRC, SRC, "anything", MS_ACCESS_READ, 1 },
		{ SRC, SRC, NULL, MS_ACCESS_WRITE, 1 },
		{ THIRD, THIRD, "x", MS_ACCESS_WRITE, 1 },
		/* a read grant: read, not write, only the databases listed */
		{ TGT, SRC, "sales", MS_ACCESS_READ, 1 },
		{ TGT, SRC, "sales", MS_ACCESS_WRITE, 0 },
		{ TGT, SRC, "sales_eu", MS_ACCESS_READ, 0 },
		{ TGT, SRC, "hr", MS_ACCESS_READ, 0 },
		/* a glob, matched without regard to case */
		{ TGT, SRC, "finance_eu", MS_ACCESS_READ, 1 },
		{ TGT, SRC, "FINANCE_EU", MS_ACCESS_READ, 1 },
		{ TGT, SRC, "Sales", MS_ACCESS_READ, 1 },
		{ TGT, SRC, "finance", MS_ACCESS_READ, 0 },
		{ TGT, SRC, "finance_eu", MS_ACCESS_WRITE, 0 },
		/* a write grant implies read */
		{ TGT, THIRD, "staging", MS_ACCESS_WRITE, 1 },
		{ TGT, THIRD, "staging", MS_ACCESS_READ, 1 },
		{ TGT, THIRD, "Staging", MS_ACCESS_WRITE, 1 },
		{ TGT, THIRD, "staging2", MS_ACCESS_READ, 0 },
		/* grants go one way: no grant back, none between others */
		{ SRC, TGT, "sales", MS_ACCESS_READ, 0 },
		{ THIRD, SRC, "sales", MS_ACCESS_READ, 0 },
		{ SRC, THIRD, "staging", MS_ACCESS_READ, 0 },
		/* no database named in another catalog: ms_accounts_may_list decides */
		{ TGT, SRC, NULL, MS_ACCESS_READ, 0 },
		{ TGT, SRC, "", MS_ACCESS_READ, 0 },
		/* unknown accounts, bad access */
		{ NOBODY, NOBODY, "sales", MS_ACCESS_READ, 0 },
		{ NOBODY, SRC, "sales", MS_ACCESS_READ, 0 },
		{ TGT, NOBODY, "sales", MS_ACCESS_READ, 0 },
		{ NULL, SRC, "sales", MS_ACCESS_READ, 0 },
		{ SRC, NULL, "sales", MS_ACCESS_READ, 0 },
		{ SRC, SRC, "sales", (ms_access)0, 0 },
		{ TGT, SRC, "sales", (ms_access)3, 0 },
	};
	ms_accounts *a = parse_ok(full_file);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int may = ms_accounts_may(a, table[i].caller, table[i].catalog, table[i].database,
					  table[i].access);

		if (may != table[i].may)
			fail_msg("row %zu: %s on %s's '%s' for %d: got %d, expected %d", i,
				 table[i].caller ? table[i].caller : "(null)",
				 table[i].catalog ? table[i].catalog : "(null)",
				 table[i].database ? table[i].database : "(null)", table[i].access,
				 may, table[i].may);
	}
	assert_int_equal(ms_accounts_may(NULL, SRC, SRC, "sales", MS_ACCESS_READ), 0);

	assert_int_equal(ms_accounts_may_list(a, SRC, SRC), 1);
	assert_int_equal(ms_accounts_may_list(a, TGT, SRC), 1);
	assert_int_equal(ms_accounts_may_list(a, TGT, THIRD), 1);
	assert_int_equal(ms_accounts_may_list(a, SRC, TGT), 0);
	assert_int_equal(ms_accounts_may_list(a, THIRD, SRC), 0);
	assert_int_equal(ms_accounts_may_list(a, NOBODY, NOBODY), 0);
	assert_int_equal(ms_accounts_may_list(a, TGT, NOBODY), 0);
	assert_int_equal(ms_accounts_may_list(NULL, SRC, SRC), 0);
	ms_accounts_free(a);

	/* "*" grants every database */
	a = parse_ok(ACCOUNTS "grants:\n  - to: 111111111111\n    catalog: 222222222222\n"
			      "    databases: [\"*\"]\n    access: write\n");
	assert_int_equal(ms_accounts_may(a, SRC, TGT, "anything_at_all", MS_ACCESS_WRITE), 1);
	assert_int_equal(ms_accounts_may(a, TGT, SRC, "anything_at_all", MS_ACCESS_READ), 0);
	ms_accounts_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors_top),
		cmocka_unit_test(test_errors_accounts),
		cmocka_unit_test(test_errors_keys),
		cmocka_unit_test(test_errors_grants),
		cmocka_unit_test(test_secret_never_echoed),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_find_key),
		cmocka_unit_test(test_decisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
