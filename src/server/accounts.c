/*
 * The accounts file of `metasync serve` and the access decisions made from
 * it.  The file holds secret keys, so it is refused when anyone but its
 * owner may read or write it, and no message ever carries a secret: values
 * of secret and session_token are never echoed, and as a last guard every
 * such value found in the document is masked out of the error message
 * before it is returned.  The schema walk and the `FILE:LINE: KEY:` errors
 * are util/yaml_doc's, shared with the agent's config.
 */
#include "server/accounts.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "util/yaml_doc.h"

/* A file of a few hundred accounts is some tens of kilobytes. */
#define ACC_MAX_BYTES (1u << 20)
/* Longest database name or glob in a grant (Glue's limit on names). */
#define ACC_DATABASE_MAX 255

#define DIGITS "0123456789"
#define KEY_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS

/* 1 when s is 1 or more characters, all printable ASCII but space. */
static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* An account id under key: exactly 12 digits, quoted or plain (not a YAML int). */
static int get_account_id(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, int owner_line,
			  char out[MS_ACCOUNT_ID_LEN + 1])
{
	char kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	const char *s;

	ms_yaml_join(kpath, path, k->name);
	if (!k->value)
		return ms_yaml_fail(p, owner_line, kpath, "missing (a 12-digit account id)");
	if (k->value->type != YAML_SCALAR_NODE || ms_yaml_is_null(k->value))
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "expected a 12-digit account id, got %s",
				    ms_yaml_type_name(k->value));
	s = ms_yaml_scalar(k->value);
	if (strlen(s) != MS_ACCOUNT_ID_LEN || strspn(s, DIGITS) != MS_ACCOUNT_ID_LEN)
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "expected a 12-digit account id, got '%s'",
				    ms_yaml_show(s, buf));
	memcpy(out, s, MS_ACCOUNT_ID_LEN + 1);
	return 0;
}

/*
 * A secret or a session token: 1 to max printable characters without
 * spaces; a null is an error only when required.  The value is never
 * shown, not even in part.
 */
static int get_secret(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, int required,
		      size_t max, char **out)
{
	char kpath[MS_YAML_PATH_MAX];
	int rc;

	ms_yaml_join(kpath, path, k->name);
	if (!required && k->value && ms_yaml_is_null(k->value))
		return 0;
	if ((rc = ms_yaml_get_string(p, k, path, 1, out)) < 0)
		return rc;
	if (*out && (strlen(*out) > max || !is_token(*out)))
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "expected 1 to %zu printable characters without spaces, "
				    "got '***'",
				    max);
	return 0;
}

enum { K_ID, K_SECRET, K_SESSION_TOKEN };

static int parse_key(ms_yaml_doc *p, yaml_node_t *node, const char *path, ms_account_key *key)
{
	ms_yaml_key keys[] = { { "id", 0, NULL },
			       { "secret", 0, NULL },
			       { "session_token", 0, NULL },
			       { NULL, 0, NULL } };
	char kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	size_t n;
	int rc;

	key->line = ms_yaml_line(node);
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys, "id, secret, session_token")) < 0 ||
	    (rc = ms_yaml_get_string(p, &keys[K_ID], path, 1, &key->id)) < 0)
		return rc;
	ms_yaml_join(kpath, path, "id");
	if (!key->id)
		return ms_yaml_fail(p, key->line, kpath, "missing (the access key id)");
	n = strlen(key->id);
	if (n < MS_ACCESS_KEY_ID_MIN || n > MS_ACCESS_KEY_ID_MAX ||
	    strspn(key->id, KEY_ID_CHARS) != n)
		return ms_yaml_fail(p, keys[K_ID].line, kpath,
				    "expected %d to %d of A-Z and 0-9 (an access key id such as "
				    "AKIAIOSFODNN7EXAMPLE), got '%s'",
				    MS_ACCESS_KEY_ID_MIN, MS_ACCESS_KEY_ID_MAX,
				    ms_yaml_show(key->id, buf));
	if ((rc = get_secret(p, &keys[K_SECRET], path, 1, MS_SECRET_MAX, &key->secret)) < 0)
		return rc;
	if (!key->secret) {
		ms_yaml_join(kpath, path, "secret");
		return ms_yaml_fail(p, key->line, kpath, "missing (the secret access key)");
	}
	return get_secret(p, &keys[K_SESSION_TOKEN], path, 0, MS_SESSION_TOKEN_MAX,
			  &key->session_token);
}

/* Where an access key id is already used, for uniqueness across accounts. */
static const ms_account_key *find_key(const ms_accounts *a, const char *id,
				      const ms_account_key *until)
{
	size_t i, j;

	for (i = 0; i < a->naccounts; i++)
		for (j = 0; j < a->accounts[i].nkeys; j++) {
			const ms_account_key *k = &a->accounts[i].keys[j];

			if (k == until)
				return NULL;
			if (k->id && strcmp(k->id, id) == 0)
				return k;
		}
	return NULL;
}

static int parse_keys(ms_yaml_doc *p, yaml_node_t *node, const char *apath, ms_accounts *a,
		      ms_account *acc)
{
	char kpath[MS_YAML_PATH_MAX], ipath[MS_YAML_PATH_MAX + 24], buf[MS_YAML_SHOW_MAX + 4];
	size_t count, i;
	int rc;

	ms_yaml_join(kpath, apath, "keys");
	if ((rc = ms_yaml_list(p, node, kpath, "keys (id, secret)", &count)) < 0 || !count)
		return rc;
	if (!(acc->keys = calloc(count, sizeof(*acc->keys))))
		return ms_yaml_oom(p);
	for (i = 0; i < count; i++) {
		yaml_node_t *item = ms_yaml_item(p, node, i);
		ms_account_key *key = &acc->keys[i];
		const ms_account_key *seen;

		snprintf(ipath, sizeof(ipath), "%s[%zu]", kpath, i);
		if (!item)
			return ms_yaml_fail(p, ms_yaml_line(node), kpath, "malformed list");
		acc->nkeys = i + 1;
		if ((rc = parse_key(p, item, ipath, key)) < 0)
			return rc;
		if ((seen = find_key(a, key->id, key))) {
			ms_yaml_join(kpath, ipath, "id");
			return ms_yaml_fail(p, key->line, kpath,
					    "duplicate access key id '%s' (also at line %d)",
					    ms_yaml_show(key->id, buf), seen->line);
		}
	}
	return 0;
}

enum { A_ID, A_KEYS };

static int parse_account(ms_yaml_doc *p, yaml_node_t *node, size_t index, ms_accounts *a)
{
	ms_yaml_key keys[] = { { "id", 0, NULL }, { "keys", 0, NULL }, { NULL, 0, NULL } };
	ms_account *acc = &a->accounts[index];
	char path[MS_YAML_PATH_MAX], kpath[MS_YAML_PATH_MAX];
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "accounts[%zu]", index);
	acc->line = ms_yaml_line(node);
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys, "id, keys")) < 0 ||
	    (rc = get_account_id(p, &keys[A_ID], path, acc->line, acc->id)) < 0)
		return rc;
	for (i = 0; i < index; i++)
		if (strcmp(a->accounts[i].id, acc->id) == 0) {
			ms_yaml_join(kpath, path, "id");
			return ms_yaml_fail(p, keys[A_ID].line, kpath,
					    "duplicate account '%s' (also at line %d)", acc->id,
					    a->accounts[i].line);
		}
	if (keys[A_KEYS].value && (rc = parse_keys(p, keys[A_KEYS].value, path, a, acc)) < 0)
		return rc;
	return 0;
}

static int parse_accounts(ms_yaml_doc *p, yaml_node_t *node, int root_line, ms_accounts *a)
{
	size_t count, i;
	int rc;

	if (!node || ms_yaml_is_null(node))
		return ms_yaml_fail(p, node ? ms_yaml_line(node) : root_line, "accounts",
				    "missing (a list of accounts with id and keys)");
	if ((rc = ms_yaml_list(p, node, "accounts", "accounts (id, keys)", &count)) < 0)
		return rc;
	if (!count)
		return ms_yaml_fail(p, ms_yaml_line(node), "accounts",
				    "is empty: list at least one account");
	if (!(a->accounts = calloc(count, sizeof(*a->accounts))))
		return ms_yaml_oom(p);
	for (i = 0; i < count; i++) {
		yaml_node_t *item = ms_yaml_item(p, node, i);

		if (!item)
			return ms_yaml_fail(p, ms_yaml_line(node), "accounts", "malformed list");
		a->naccounts = i + 1;
		if ((rc = parse_account(p, item, i, a)) < 0)
			return rc;
	}
	return 0;
}

static const ms_account *find_account(const ms_accounts *a, const char *id)
{
	size_t i;

	for (i = 0; id && i < a->naccounts; i++)
		if (strcmp(a->accounts[i].id, id) == 0)
			return &a->accounts[i];
	return NULL;
}

/* A database name or glob in a grant; lowered in place once kept. */
static int check_database(ms_yaml_doc *p, const yaml_node_t *node, const char *path)
{
	const char *s = ms_yaml_scalar(node);
	char buf[MS_YAML_SHOW_MAX + 4];

	if (strlen(s) > ACC_DATABASE_MAX || !is_token(s))
		return ms_yaml_fail(p, ms_yaml_line(node), path,
				    "expected a database name or glob of 1 to %d printable "
				    "characters without spaces, got '%s'",
				    ACC_DATABASE_MAX, ms_yaml_show(s, buf));
	return 0;
}

enum { G_TO, G_CATALOG, G_DATABASES, G_ACCESS };

static int parse_grant(ms_yaml_doc *p, yaml_node_t *node, size_t index, ms_accounts *a)
{
	ms_yaml_key keys[] = { { "to", 0, NULL },
			       { "catalog", 0, NULL },
			       { "databases", 0, NULL },
			       { "access", 0, NULL },
			       { NULL, 0, NULL } };
	ms_grant *g = &a->grants[index];
	char path[MS_YAML_PATH_MAX], kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	yaml_node_t *n;
	size_t i;
	char *c;
	int rc;

	snprintf(path, sizeof(path), "grants[%zu]", index);
	g->line = ms_yaml_line(node);
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys, "to, catalog, databases, access")) <
		    0 ||
	    (rc = get_account_id(p, &keys[G_TO], path, g->line, g->to)) < 0)
		return rc;
	ms_yaml_join(kpath, path, "to");
	if (!find_account(a, g->to))
		return ms_yaml_fail(p, keys[G_TO].line, kpath,
				    "unknown account '%s' (not under accounts)", g->to);
	if ((rc = get_account_id(p, &keys[G_CATALOG], path, g->line, g->catalog)) < 0)
		return rc;
	ms_yaml_join(kpath, path, "catalog");
	if (!find_account(a, g->catalog))
		return ms_yaml_fail(p, keys[G_CATALOG].line, kpath,
				    "unknown account '%s' (not under accounts)", g->catalog);
	if (strcmp(g->to, g->catalog) == 0)
		return ms_yaml_fail(p, keys[G_CATALOG].line, kpath,
				    "is the account in 'to' (an account always has full access "
				    "to its own catalog)");
	ms_yaml_join(kpath, path, "databases");
	if (!keys[G_DATABASES].value)
		return ms_yaml_fail(p, g->line, kpath,
				    "missing (a list of database names or globs such as "
				    "[\"sales\", \"finance_*\"])");
	if ((rc = ms_yaml_get_list(p, &keys[G_DATABASES], path, "database names or globs",
				   check_database, &g->databases, &g->ndatabases)) < 0)
		return rc;
	if (!g->ndatabases)
		return ms_yaml_fail(p, ms_yaml_line(keys[G_DATABASES].value), kpath,
				    "expected a non-empty list of database names or globs (\"*\" "
				    "for all)");
	for (i = 0; i < g->ndatabases; i++)
		for (c = g->databases[i]; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	ms_yaml_join(kpath, path, "access");
	if (!(n = keys[G_ACCESS].value))
		return ms_yaml_fail(p, g->line, kpath, "missing (read or write)");
	if (n->type != YAML_SCALAR_NODE || ms_yaml_is_null(n))
		return ms_yaml_fail(p, ms_yaml_line(n), kpath, "expected read or write, got %s",
				    ms_yaml_type_name(n));
	if (strcmp(ms_yaml_scalar(n), "read") == 0)
		g->access = MS_ACCESS_READ;
	else if (strcmp(ms_yaml_scalar(n), "write") == 0)
		g->access = MS_ACCESS_WRITE;
	else
		return ms_yaml_fail(p, ms_yaml_line(n), kpath, "expected read or write, got '%s'",
				    ms_yaml_show(ms_yaml_scalar(n), buf));
	return 0;
}

static int parse_grants(ms_yaml_doc *p, yaml_node_t *node, ms_accounts *a)
{
	size_t count, i;
	int rc;

	if ((rc = ms_yaml_list(p, node, "grants", "grants (to, catalog, databases, access)",
			       &count)) < 0 ||
	    !count)
		return rc;
	if (!(a->grants = calloc(count, sizeof(*a->grants))))
		return ms_yaml_oom(p);
	for (i = 0; i < count; i++) {
		yaml_node_t *item = ms_yaml_item(p, node, i);

		if (!item)
			return ms_yaml_fail(p, ms_yaml_line(node), "grants", "malformed list");
		a->ngrants = i + 1;
		if ((rc = parse_grant(p, item, i, a)) < 0)
			return rc;
	}
	return 0;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Replace every occurrence of the first n bytes of s in message with "***"
 * (with n stars when n < 3, so that the message never grows).  Only whole
 * words: an occurrence inside a longer run of letters and digits is kept,
 * so that a secret such as "x" does not garble "expected".
 */
static void mask(char *message, const char *s, size_t n)
{
	size_t stars = n < 3 ? n : 3;
	char *at = message, *hit;

	while (n && (hit = memmem(at, strlen(at), s, n)) != NULL) {
		if ((hit > message && is_alnum(hit[-1]) && is_alnum(s[0])) ||
		    (is_alnum(hit[n]) && is_alnum(s[n - 1]))) {
			at = hit + 1;
			continue;
		}
		memmove(hit + stars, hit + n, strlen(hit + n) + 1);
		memset(hit, '*', stars);
		at = hit + stars;
	}
}

/*
 * Over every value of a secret or session_token key in the document: with
 * message NULL, the length of the longest shorter than below; else mask
 * those of length n out of message (whole, or as far as ms_yaml_show
 * would echo them) and return n.
 */
static size_t each_secret(yaml_document_t *doc, size_t below, char *message, size_t n)
{
	yaml_node_t *node;
	yaml_node_pair_t *pair;
	size_t longest = 0;

	for (node = doc->nodes.start; node < doc->nodes.top; node++) {
		if (node->type != YAML_MAPPING_NODE)
			continue;
		for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top;
		     pair++) {
			yaml_node_t *k = yaml_document_get_node(doc, pair->key);
			yaml_node_t *v = yaml_document_get_node(doc, pair->value);
			size_t len;

			if (!k || !v || k->type != YAML_SCALAR_NODE ||
			    v->type != YAML_SCALAR_NODE ||
			    (strcmp(ms_yaml_scalar(k), "secret") != 0 &&
			     strcmp(ms_yaml_scalar(k), "session_token") != 0))
				continue;
			len = strlen(ms_yaml_scalar(v));
			if (!message && len < below && len > longest)
				longest = len;
			else if (message && len == n)
				mask(message, ms_yaml_scalar(v),
				     len > MS_YAML_SHOW_MAX ? MS_YAML_SHOW_MAX : len);
		}
	}
	return message ? n : longest;
}

/*
 * The last guard: mask every secret and session token of the document out
 * of err's message after its `NAME:LINE: ` (which stays whole), the longest
 * first (a short secret may be part of a longer one).
 */
static void scrub(yaml_document_t *doc, const char *name, ms_error *err)
{
	size_t n = (size_t)-1, len = strlen(name);
	char *m;

	if (!err)
		return;
	m = err->message;
	if (strncmp(m, name, len) == 0 && m[len] == ':') {
		m += len + 1;
		m += strspn(m, DIGITS);
		m += strspn(m, ": ");
	}
	while ((n = each_secret(doc, n, NULL, 0)) > 0)
		each_secret(doc, 0, m, n);
}

enum { R_ACCOUNTS, R_GRANTS };

int ms_accounts_parse(const char *name, const char *text, size_t len, ms_accounts **out,
		      ms_error *err)
{
	ms_yaml_key keys[] = { { "accounts", 0, NULL }, { "grants", 0, NULL }, { NULL, 0, NULL } };
	ms_yaml_doc p = { name ? name : "<accounts>", NULL, err };
	yaml_document_t doc;
	yaml_node_t *root;
	ms_accounts *a;
	int rc;

	if (!(a = calloc(1, sizeof(*a))) || !(a->path = strdup(p.name))) {
		free(a);
		return ms_yaml_oom(&p);
	}
	if ((rc = ms_yaml_load(&p, text, len, ACC_MAX_BYTES, "accounts, grants", &doc, &root)) <
	    0) {
		ms_accounts_free(a);
		return rc;
	}
	p.doc = &doc;
	if ((rc = ms_yaml_walk_mapping(&p, root, "", keys, "accounts, grants")) == 0 &&
	    (rc = parse_accounts(&p, keys[R_ACCOUNTS].value, ms_yaml_line(root), a)) == 0 &&
	    (!keys[R_GRANTS].value || (rc = parse_grants(&p, keys[R_GRANTS].value, a)) == 0)) {
		*out = a;
		a = NULL;
	}
	if (rc < 0)
		scrub(&doc, p.name, err);
	yaml_document_delete(&doc);
	ms_accounts_free(a);
	return rc;
}

int ms_accounts_load(const char *path, ms_accounts **out, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX], *text = NULL;
	struct stat st;
	size_t len = 0;
	FILE *f;
	int fd, rc;

	/* fstat of what was opened: no window between the check and the read */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return ms_error_set(err, errno == ENOENT ? MS_ENOTFOUND : MS_EIO,
				    "cannot read accounts file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = ms_error_set(err, MS_EIO, "cannot read accounts file '%s': %s", path,
				  strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ms_error_set(err, MS_EREFUSED, "accounts file '%s' is not a regular file",
				    path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return ms_error_set(err, MS_EREFUSED,
				    "accounts file '%s' has mode %04o: it holds secret keys and "
				    "must be open to its owner only; run 'chmod 600 %s'",
				    path, (unsigned)(st.st_mode & 07777), path);
	}
	if (!(f = fdopen(fd, "rb"))) {
		close(fd);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	snprintf(what, sizeof(what), "accounts file '%s'", path);
	rc = ms_yaml_read_file(f, what, ACC_MAX_BYTES, &text, &len, err);
	fclose(f);
	if (rc == 0)
		rc = ms_accounts_parse(path, text, len, out, err);
	if (text) {
		memset(text, 0, len);
		free(text);
	}
	return rc;
}

void ms_accounts_free(ms_accounts *a)
{
	size_t i, j;

	if (!a)
		return;
	for (i = 0; i < a->naccounts; i++) {
		for (j = 0; j < a->accounts[i].nkeys; j++) {
			ms_account_key *k = &a->accounts[i].keys[j];

			free(k->id);
			if (k->secret) {
				memset(k->secret, 0, strlen(k->secret));
				free(k->secret);
			}
			if (k->session_token) {
				memset(k->session_token, 0, strlen(k->session_token));
				free(k->session_token);
			}
		}
		free(a->accounts[i].keys);
	}
	free(a->accounts);
	for (i = 0; i < a->ngrants; i++) {
		for (j = 0; j < a->grants[i].ndatabases; j++)
			free(a->grants[i].databases[j]);
		free(a->grants[i].databases);
	}
	free(a->grants);
	free(a->path);
	free(a);
}

int ms_accounts_find_key(const ms_accounts *a, const char *key_id, const char **account_id,
			 const char **secret, const char **session_token)
{
	size_t i, j;

	for (i = 0; a && key_id && i < a->naccounts; i++)
		for (j = 0; j < a->accounts[i].nkeys; j++) {
			const ms_account_key *k = &a->accounts[i].keys[j];

			if (strcmp(k->id, key_id) != 0)
				continue;
			if (account_id)
				*account_id = a->accounts[i].id;
			if (secret)
				*secret = k->secret;
			if (session_token)
				*session_token = k->session_token;
			return 0;
		}
	return MS_ENOTFOUND;
}

/* 1 when caller and catalog_id are both accounts of the file. */
static int known(const ms_accounts *a, const char *caller, const char *catalog_id)
{
	return a && find_account(a, caller) && find_account(a, catalog_id);
}

int ms_accounts_may(const ms_accounts *a, const char *caller, const char *catalog_id,
		    const char *database, ms_access access)
{
	size_t i, j;

	if (!known(a, caller, catalog_id) ||
	    (access != MS_ACCESS_READ && access != MS_ACCESS_WRITE))
		return 0;
	if (strcmp(caller, catalog_id) == 0)
		return 1;
	if (!database || !*database)
		return 0;
	for (i = 0; i < a->ngrants; i++) {
		const ms_grant *g = &a->grants[i];

		if (strcmp(g->to, caller) != 0 || strcmp(g->catalog, catalog_id) != 0 ||
		    (access == MS_ACCESS_WRITE && g->access != MS_ACCESS_WRITE))
			continue;
		for (j = 0; j < g->ndatabases; j++)
			if (fnmatch(g->databases[j], database, FNM_CASEFOLD) == 0)
				return 1;
	}
	return 0;
}

int ms_accounts_may_list(const ms_accounts *a, const char *caller, const char *catalog_id)
{
	size_t i;

	if (!known(a, caller, catalog_id))
		return 0;
	if (strcmp(caller, catalog_id) == 0)
		return 1;
	for (i = 0; i < a->ngrants; i++)
		if (strcmp(a->grants[i].to, caller) == 0 &&
		    strcmp(a->grants[i].catalog, catalog_id) == 0)
			return 1;
	return 0;
}
