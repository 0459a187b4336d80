/*
 * The PostgreSQL backend of the Hive Metastore driver (hms_sql.h), on libpq.
 *
 * The driver writes statements once, with `?` placeholders and
 * double-quoted identifiers; this file turns the placeholders into $1, $2,
 * ... (identifiers are already PostgreSQL's) and runs them as prepared
 * statements (PQprepare once per statement text and connection, then
 * PQexecPrepared: the server parses and plans a statement once, not per
 * batch), every value a text parameter.  The connection is built from
 * the parsed URL as libpq keyword/value pairs, so a password is handed to
 * libpq and never formatted into a string; metasync's own query parameters
 * (catalog=, schema=) are not passed on, and ?schema= becomes the session's
 * search_path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "drivers/catalog/hms_sql.h"
#include "util/buf.h"
#include "util/url.h"

#define PG_SQL_MAX ((size_t)64 << 20)
#define PG_MAX_KEYWORDS 32
#define PG_STMT_MAX 128                     /* prepared statements kept per connection */
#define PG_STMT_TEXT_MAX ((size_t)64 << 10) /* longer texts run unprepared */

typedef struct pg_stmt {
	char *sql;     /* the rewritten text */
	char name[16]; /* "ms1", "ms2", ... */
} pg_stmt;

typedef struct pg_conn {
	hms_conn base;
	PGconn *pg;
	ms_buf sql; /* the rewritten statement */
	pg_stmt stmts[PG_STMT_MAX];
	size_t nstmts;
} pg_conn;

static int pg_fail(pg_conn *c, PGresult *res, const char *what, ms_error *err);

/* libpq's messages end in a newline: keep err's detail to one line. */
static void one_line(ms_error *err)
{
	size_t n;

	if (!err)
		return;
	n = strlen(err->detail);
	while (n && (err->detail[n - 1] == '\n' || err->detail[n - 1] == '\r'))
		err->detail[--n] = '\0';
}

/*
 * The prepared statement for c->sql, prepared now if new; NULL when it is
 * to run unprepared (too long, cache full) or on error (*rc set).
 */
static const pg_stmt *prepared(pg_conn *c, size_t nparams, int *rc, ms_error *err)
{
	pg_stmt *st;
	PGresult *res;
	char *text;
	size_t i;

	*rc = 0;
	for (i = 0; i < c->nstmts; i++)
		if (strcmp(c->stmts[i].sql, c->sql.ptr) == 0)
			return &c->stmts[i];
	if (c->nstmts == PG_STMT_MAX || c->sql.len > PG_STMT_TEXT_MAX)
		return NULL;
	if (!(text = strdup(c->sql.ptr))) {
		*rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		return NULL;
	}
	st = &c->stmts[c->nstmts];
	snprintf(st->name, sizeof(st->name), "ms%zu", c->nstmts + 1);
	res = PQprepare(c->pg, st->name, text, (int)nparams, NULL);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		*rc = pg_fail(c, res, "prepare a statement", err);
		PQclear(res);
		free(text);
		return NULL;
	}
	PQclear(res);
	st->sql = text;
	c->nstmts++;
	return st;
}

/* Fill err from a failed result or the connection; never includes the password. */
static int pg_fail(pg_conn *c, PGresult *res, const char *what, ms_error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *msg = primary ? primary : PQerrorMessage(c->pg);
	int code = PQstatus(c->pg) == CONNECTION_BAD      ? MS_EIO
		   : state && strcmp(state, "23505") == 0 ? MS_ECONFLICT
							  : MS_EBACKEND;

	ms_error_set(err, code, "cannot %s in '%s'", what, c->base.redacted_url);
	ms_error_detail(err, "%s", msg ? msg : "");
	one_line(err);
	if (err && state)
		snprintf(err->backend_code, sizeof(err->backend_code), "%s", state);
	return code;
}

/*
 * Rewrite `?` into $n outside quoted text.  Identifiers ("...") and literals
 * ('...') are copied as they are.
 */
static int rewrite(pg_conn *c, const char *sql, size_t nparams, ms_error *err)
{
	size_t n = 0;
	char quote = 0;
	const char *p;
	int rc = 0;

	ms_buf_reset(&c->sql);
	for (p = sql; *p && rc == 0; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			rc = ms_buf_addc(&c->sql, *p);
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
			rc = ms_buf_addc(&c->sql, *p);
		} else if (*p == '?') {
			rc = ms_buf_printf(&c->sql, "$%zu", ++n);
		} else {
			rc = ms_buf_addc(&c->sql, *p);
		}
	}
	if (rc == 0 && !c->sql.ptr)
		rc = ms_buf_add(&c->sql, "", 0);
	if (rc < 0)
		return ms_error_set(err, rc, "statement for '%s' is too long",
				    c->base.redacted_url);
	if (n != nparams)
		return ms_error_set(err, MS_EINVAL,
				    "statement for '%s' has %zu placeholders but %zu parameters",
				    c->base.redacted_url, n, nparams);
	return 0;
}

static int pg_query(hms_conn *hc, const char *sql, const char *const *params, size_t nparams,
		    hms_row_cb row, void *ctx, unsigned long long *affected, ms_error *err)
{
	pg_conn *c = (pg_conn *)hc;
	const pg_stmt *ps;
	PGresult *res;
	ExecStatusType st;
	int rc = 0, nrows, ncols, i, j;
	const char **vals = NULL;
	size_t *lens = NULL;

	if (nparams > 65535)
		return ms_error_set(err, MS_EINVAL, "statement for '%s' has too many parameters",
				    c->base.redacted_url);
	if ((rc = rewrite(c, sql, nparams, err)) < 0)
		return rc;
	if ((ps = prepared(c, nparams, &rc, err)))
		res = PQexecPrepared(c->pg, ps->name, (int)nparams, params, NULL, NULL, 0);
	else if (rc == 0)
		res = PQexecParams(c->pg, c->sql.ptr, (int)nparams, NULL, params, NULL, NULL, 0);
	else
		return rc;
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = pg_fail(c, res, "run a statement", err);
		PQclear(res);
		return rc;
	}
	if (affected) {
		const char *t = PQcmdTuples(res);

		*affected = t && *t ? strtoull(t, NULL, 10) : 0;
	}
	nrows = PQntuples(res);
	ncols = PQnfields(res);
	if (row && nrows > 0) {
		vals = calloc((size_t)ncols + 1, sizeof(*vals));
		lens = calloc((size_t)ncols + 1, sizeof(*lens));
		if (!vals || !lens) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		for (i = 0; i < nrows && rc == 0; i++) {
			for (j = 0; j < ncols; j++) {
				if (PQgetisnull(res, i, j)) {
					vals[j] = NULL;
					lens[j] = 0;
				} else {
					vals[j] = PQgetvalue(res, i, j);
					lens[j] = (size_t)PQgetlength(res, i, j);
				}
			}
			rc = row(ctx, (size_t)ncols, vals, lens, err);
		}
	}
done:
	free(vals);
	free(lens);
	PQclear(res);
	return rc;
}

static int pg_exec(pg_conn *c, const char *sql, const char *what, ms_error *err)
{
	PGresult *res = PQexec(c->pg, sql);
	int rc = 0;

	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(c, res, what, err);
	PQclear(res);
	return rc;
}

static int pg_begin(hms_conn *hc, ms_error *err)
{
	return pg_exec((pg_conn *)hc, "BEGIN", "begin a transaction", err);
}

static int pg_commit(hms_conn *hc, ms_error *err)
{
	return pg_exec((pg_conn *)hc, "COMMIT", "commit a transaction", err);
}

static int pg_rollback(hms_conn *hc, ms_error *err)
{
	return pg_exec((pg_conn *)hc, "ROLLBACK", "roll back a transaction", err);
}

static void pg_close(hms_conn *hc)
{
	pg_conn *c = (pg_conn *)hc;
	size_t i;

	if (!c)
		return;
	if (c->pg)
		PQfinish(c->pg);
	ms_buf_free(&c->sql);
	for (i = 0; i < c->nstmts; i++)
		free(c->stmts[i].sql);
	free(c->base.redacted_url);
	free(c);
}

/* Collect the first cell of a one-row result (the exported snapshot's name). */
static int first_cell(void *ctx, size_t ncols, const char *const *values, const size_t *lengths,
		      ms_error *err)
{
	char **out = ctx;

	(void)lengths;
	if (ncols < 1 || !values[0] || *out)
		return 0;
	if (!(*out = strdup(values[0])))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}

/*
 * REPEATABLE READ, read only: one snapshot for every statement until commit.
 * A new one is exported (pg_export_snapshot) for the read-ahead connection,
 * which imports it with SET TRANSACTION SNAPSHOT.  That statement takes no
 * parameter: the name, the server's own token, is checked to hold only hex
 * digits and dashes before it goes into the text.
 */
static int pg_begin_read(hms_conn *hc, const char *share, char **shared, ms_error *err)
{
	pg_conn *c = (pg_conn *)hc;
	char sql[160];
	int rc;

	if ((rc = pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
			  "begin a read transaction", err)) < 0)
		return rc;
	if (share) {
		if (!*share || strlen(share) > 64 ||
		    strspn(share, "0123456789ABCDEFabcdef-") != strlen(share))
			rc = ms_error_set(err, MS_EINVAL, "'%s' is not a snapshot name", share);
		else if (snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT '%s'", share) > 0)
			rc = pg_exec(c, sql, "share a read transaction", err);
	} else {
		*shared = NULL;
		rc = pg_query(hc, "SELECT pg_catalog.pg_export_snapshot()", NULL, 0, first_cell,
			      shared, NULL, err);
	}
	if (rc < 0) {
		ms_error ignored;

		pg_rollback(hc, &ignored);
	}
	return rc;
}

static const hms_conn_ops pg_ops = {
	.dialect = HMS_POSTGRESQL,
	.close = pg_close,
	.query = pg_query,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.begin_read = pg_begin_read,
};

/* A library prints nothing: the server's notices are dropped. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Parameters metasync reads itself; libpq would refuse them. */
static int own_param(const char *key)
{
	return strcmp(key, "catalog") == 0 || strcmp(key, "schema") == 0 ||
	       strcmp(key, "catalog-id") == 0 || strcmp(key, "feed") == 0 ||
	       strcmp(key, "feed-scan") == 0;
}

int ms_hms_pg_url_param(const char *key);

/*
 * The parameters an hms+postgresql:// URL takes besides the catalog's own:
 * `schema`, and libpq's connection keywords (PQconndefaults), except the
 * client encoding, which metasync sets.
 */
int ms_hms_pg_url_param(const char *key)
{
	PQconninfoOption *opts, *o;
	int ok = 0;

	if (strcmp(key, "schema") == 0)
		return 1;
	if (strcmp(key, "client_encoding") == 0 || !(opts = PQconndefaults()))
		return 0;
	for (o = opts; o->keyword && !ok; o++)
		ok = strcmp(o->keyword, key) == 0;
	PQconninfoFree(opts);
	return ok;
}

/* A parameter that says again what the URL's authority or path says. */
static const char *restated(const struct ms_url *url)
{
	static const char *const parts[] = { "host", "port", "user", "password", "dbname" };
	const char *given[] = { url->host && *url->host ? "" : NULL,
				url->port && *url->port ? "" : NULL, url->user, url->password,
				url->path && url->path[0] == '/' && url->path[1] ? "" : NULL };
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (given[i] && ms_url_param_get(url, parts[i]))
			return parts[i];
	return NULL;
}

/* Set the search path to one schema, quoted as an identifier. */
static int set_schema(pg_conn *c, const char *schema, ms_error *err)
{
	ms_buf q = MS_BUF_INIT(4096);
	const char *params[1];
	const char *p;
	int rc = ms_buf_addc(&q, '"');

	for (p = schema; rc == 0 && *p; p++)
		rc = *p == '"' ? ms_buf_add(&q, "\"\"", 2) : ms_buf_addc(&q, *p);
	if (rc == 0)
		rc = ms_buf_addc(&q, '"');
	if (rc < 0) {
		ms_buf_free(&q);
		return ms_error_set(err, MS_EINVAL, "schema name for '%s' is too long",
				    c->base.redacted_url);
	}
	params[0] = q.ptr;
	rc = pg_query(&c->base, "SELECT pg_catalog.set_config('search_path', ?, false)", params, 1,
		      NULL, NULL, NULL, err);
	ms_buf_free(&q);
	return rc;
}

int hms_pg_connect(hms_conn **out, const struct ms_url *url, ms_error *err)
{
	const char *keys[PG_MAX_KEYWORDS + 1], *vals[PG_MAX_KEYWORDS + 1];
	const char *schema = ms_url_param_get(url, "schema"), *v;
	size_t n = 0, i;
	pg_conn *c;
	int rc;

	if (!(c = calloc(1, sizeof(*c))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	c->base.ops = &pg_ops;
	ms_buf_init(&c->sql, PG_SQL_MAX);
	if (!(c->base.redacted_url = strdup(url->redacted ? url->redacted : ""))) {
		pg_close(&c->base);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if ((v = restated(url))) {
		pg_close(&c->base);
		return ms_error_set(err, MS_EINVAL, "'%s' is given twice in '%s'", v,
				    url->redacted);
	}
	if (url->host && *url->host) {
		keys[n] = "host";
		vals[n++] = url->host;
	}
	if (url->port && *url->port) {
		keys[n] = "port";
		vals[n++] = url->port;
	}
	if (url->user && *url->user) {
		keys[n] = "user";
		vals[n++] = url->user;
	}
	if (url->password) {
		keys[n] = "password";
		vals[n++] = url->password;
	}
	if (url->path && url->path[0] == '/' && url->path[1]) {
		keys[n] = "dbname";
		vals[n++] = url->path + 1;
	}
	for (i = 0; i < url->nparams; i++) {
		if (own_param(url->params[i].key))
			continue;
		if (n == PG_MAX_KEYWORDS) {
			pg_close(&c->base);
			return ms_error_set(err, MS_EINVAL, "too many parameters in '%s'",
					    url->redacted);
		}
		keys[n] = url->params[i].key;
		vals[n++] = url->params[i].value;
	}
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	keys[n] = NULL;
	vals[n] = NULL;
	c->pg = PQconnectdbParams(keys, vals, 0);
	if (!c->pg) {
		pg_close(&c->base);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		rc = ms_error_set(err, MS_EIO, "cannot connect to '%s'", url->redacted);
		ms_error_detail(err, "%s", PQerrorMessage(c->pg));
		one_line(err);
		if (err)
			snprintf(err->backend_code, sizeof(err->backend_code), "08001");
		pg_close(&c->base);
		return rc;
	}
	PQsetNoticeProcessor(c->pg, quiet, NULL);
	if ((rc = set_schema(c, schema && *schema ? schema : "public", err)) < 0) {
		pg_close(&c->base);
		return rc;
	}
	*out = &c->base;
	return 0;
}
