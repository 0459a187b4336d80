/*
 * The MySQL / MariaDB backend of hms_sql.h, on MariaDB Connector/C.  The Hive
 * Metastore driver writes its SQL once, in PostgreSQL's spelling; this file
 * turns double-quoted identifiers into backticks, prepares the statement,
 * binds every parameter as a string (nothing is ever spliced into the text)
 * and hands each result row back as text.
 *
 * The session is set up so that the driver's SQL means the same on both
 * servers and so that Hive's latin1 schema never stores mangled text:
 *
 * - the connection speaks utf8mb4 (SET NAMES utf8mb4 COLLATE utf8mb4_bin);
 *   the server converts to and from the latin1 columns, and with
 *   STRICT_ALL_TABLES a value that latin1 cannot hold is refused (error 1366,
 *   "Incorrect string value") instead of being stored as '?', and comparing
 *   a latin1 column with such a value fails (1267, "Illegal mix of
 *   collations") instead of matching a stored '?';
 * - NO_BACKSLASH_ESCAPES, so string literals read as in PostgreSQL;
 * - READ COMMITTED, PostgreSQL's default and the metastore server's own;
 * - CLIENT_FOUND_ROWS, so that an UPDATE reports the rows it matched (as
 *   PostgreSQL does), not only those whose values changed.
 *
 * Results with columns are read through a read-only server-side cursor a
 * batch of rows at a time: memory stays bounded whatever the result's size,
 * and a row callback may run other queries on the same connection.  A BIT
 * column (IS_COMPRESSED and friends) comes back as its decimal value, "0" or
 * "1".  Errors carry "errno/SQLSTATE" (e.g. "1062/23000") in backend_code
 * and the server's message in detail; a lost or killed connection is MS_EIO.
 * The password is used only to connect and never appears in a message.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>

#include "drivers/catalog/hms_sql.h"
#include "util/buf.h"
#include "util/url.h"

#define SQL_TEXT_MAX ((size_t)64 << 20)     /* a rewritten statement */
#define VALUE_MAX ((unsigned long)64 << 20) /* one result value */
#define VALUE_INITIAL 256ul                 /* first buffer per column */
#define PREFETCH_ROWS 512ul
#define PARAMS_MAX 65535u /* the protocol's limit */

typedef struct mysql_conn {
	hms_conn base; /* first */
	MYSQL *db;
} mysql_conn;

/* One result column: its text buffer and what the fetch wrote. */
typedef struct out_col {
	char *buf; /* owned; cap + 1 bytes */
	unsigned long cap;
	unsigned long len;
	my_bool is_null;
	my_bool error;
	int is_bit;
	char bit_text[24];
} out_col;

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;

static void library_init(void)
{
	library_rc = mysql_library_init(0, NULL, NULL);
}

/* Errors that mean the connection is gone, not that the statement failed. */
static int is_lost(unsigned int no)
{
	switch (no) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case 1053: /* ER_SERVER_SHUTDOWN */
	case 1927: /* ER_CONNECTION_KILLED */
		return 1;
	default:
		return 0;
	}
}

/* The server's side of an error already set: its message and codes. */
static void add_backend(ms_error *err, unsigned int no, const char *state, const char *msg)
{
	if (err) {
		ms_error_detail(err, "%s", msg && *msg ? msg : "no message from the server");
		snprintf(err->backend_code, sizeof(err->backend_code), "%u/%s", no,
			 state && *state ? state : "HY000");
	}
}

static int fill_error(mysql_conn *c, unsigned int no, const char *state, const char *msg,
		      const char *what, ms_error *err)
{
	/* ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME: a unique key a concurrent writer took */
	int code = is_lost(no) ? MS_EIO : no == 1062 || no == 1586 ? MS_ECONFLICT : MS_EBACKEND;

	if (code == MS_EIO)
		ms_error_set(err, code, "lost the connection to '%s' during %s",
			     c->base.redacted_url, what);
	else
		ms_error_set(err, code, "%s failed on '%s'", what, c->base.redacted_url);
	add_backend(err, no, state, msg);
	return code;
}

static int conn_error(mysql_conn *c, const char *what, ms_error *err)
{
	return fill_error(c, mysql_errno(c->db), mysql_sqlstate(c->db), mysql_error(c->db), what,
			  err);
}

static int stmt_error(mysql_conn *c, MYSQL_STMT *st, const char *what, ms_error *err)
{
	if (!mysql_stmt_errno(st))
		return conn_error(c, what, err);
	return fill_error(c, mysql_stmt_errno(st), mysql_stmt_sqlstate(st), mysql_stmt_error(st),
			  what, err);
}

/*
 * Copy sql into out with "identifiers" turned into `identifiers`; string
 * literals ('...', with '' inside), backquoted identifiers and comments are
 * copied unchanged.  MS_EINVAL for an unterminated quote or comment.
 */
static int rewrite_sql(ms_buf *out, const char *sql, ms_error *err)
{
	const char *p = sql;
	int rc = 0;

	while (*p && rc == 0) {
		if (*p == '"') {
			rc = ms_buf_addc(out, '`');
			for (p++;; p++) {
				if (*p == '\0')
					return ms_error_set(err, MS_EINVAL,
							    "unterminated quoted identifier in "
							    "sql");
				if (*p == '"' && p[1] == '"') {
					rc = rc ? rc : ms_buf_addc(out, '"');
					p++;
				} else if (*p == '"') {
					break;
				} else if (*p == '`') {
					rc = rc ? rc : ms_buf_adds(out, "``");
				} else {
					rc = rc ? rc : ms_buf_addc(out, *p);
				}
			}
			rc = rc ? rc : ms_buf_addc(out, '`');
			p++;
		} else if (*p == '\'' || *p == '`') {
			char q = *p;
			const char *s = p;

			for (p++;; p++) {
				if (*p == '\0')
					return ms_error_set(err, MS_EINVAL,
							    "unterminated quoted string in sql");
				if (*p == q && p[1] == q)
					p++;
				else if (*p == q)
					break;
			}
			p++;
			rc = ms_buf_add(out, s, (size_t)(p - s));
		} else if (p[0] == '-' && p[1] == '-') {
			size_t n = strcspn(p, "\n");

			rc = ms_buf_add(out, p, n);
			p += n;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");

			if (!end)
				return ms_error_set(err, MS_EINVAL, "unterminated comment in sql");
			rc = ms_buf_add(out, p, (size_t)(end + 2 - p));
			p = end + 2;
		} else {
			size_t n = strcspn(p, "\"'`-/");

			if (n == 0)
				n = 1;
			rc = ms_buf_add(out, p, n);
			p += n;
		}
	}
	if (rc == MS_ETOOBIG)
		return ms_error_set(err, rc, "sql statement longer than %zu bytes",
				    (size_t)SQL_TEXT_MAX);
	if (rc < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}

/* Run a statement that takes no parameters and returns no rows. */
static int simple(mysql_conn *c, const char *sql, const char *what, ms_error *err)
{
	if (mysql_real_query(c->db, sql, strlen(sql)) != 0)
		return conn_error(c, what, err);
	return 0;
}

/* The decimal text of a BIT value's big-endian bytes. */
static void bit_to_text(out_col *col)
{
	unsigned long long v = 0;
	unsigned long i;

	for (i = 0; i < col->len && i < 8; i++)
		v = (v << 8) | (unsigned char)col->buf[i];
	snprintf(col->bit_text, sizeof(col->bit_text), "%llu", v);
}

/*
 * After MYSQL_DATA_TRUNCATED: grow each column that did not fit and fetch
 * it again.  MS_ETOOBIG past VALUE_MAX.
 */
static int refetch_truncated(mysql_conn *c, MYSQL_STMT *st, MYSQL_BIND *rb, out_col *cols,
			     unsigned int n, ms_error *err)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		out_col *col = &cols[i];
		char *nb;

		if (col->is_null || col->len <= col->cap)
			continue;
		if (col->len > VALUE_MAX)
			return ms_error_set(err, MS_ETOOBIG,
					    "a value of %lu bytes from '%s' exceeds %lu bytes",
					    col->len, c->base.redacted_url, VALUE_MAX);
		if (!(nb = realloc(col->buf, col->len + 1)))
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		col->buf = nb;
		col->cap = col->len;
		rb[i].buffer = col->buf;
		rb[i].buffer_length = col->cap;
		if (mysql_stmt_fetch_column(st, &rb[i], i, 0) != 0)
			return stmt_error(c, st, "reading a result", err);
	}
	if (mysql_stmt_bind_result(st, rb) != 0)
		return stmt_error(c, st, "reading a result", err);
	return 0;
}

/* Fetch every row of an executed statement and hand each to row. */
static int fetch_rows(mysql_conn *c, MYSQL_STMT *st, unsigned int n, hms_row_cb row, void *ctx,
		      unsigned long long *nrows, ms_error *err)
{
	MYSQL_RES *meta = NULL;
	MYSQL_FIELD *fields;
	MYSQL_BIND *rb = NULL;
	out_col *cols = NULL;
	const char **values = NULL;
	size_t *lengths = NULL;
	unsigned int i;
	int rc = 0, f;

	*nrows = 0;
	if (!(meta = mysql_stmt_result_metadata(st))) {
		rc = stmt_error(c, st, "reading a result", err);
		goto done;
	}
	fields = mysql_fetch_fields(meta);
	rb = calloc(n, sizeof(*rb));
	cols = calloc(n, sizeof(*cols));
	values = calloc(n, sizeof(*values));
	lengths = calloc(n, sizeof(*lengths));
	if (!rb || !cols || !values || !lengths) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		cols[i].cap = VALUE_INITIAL;
		cols[i].is_bit = fields[i].type == MYSQL_TYPE_BIT;
		if (!(cols[i].buf = malloc(cols[i].cap + 1))) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		rb[i].buffer_type = MYSQL_TYPE_STRING;
		rb[i].buffer = cols[i].buf;
		rb[i].buffer_length = cols[i].cap;
		rb[i].length = &cols[i].len;
		rb[i].is_null = &cols[i].is_null;
		rb[i].error = &cols[i].error;
	}
	if (mysql_stmt_bind_result(st, rb) != 0) {
		rc = stmt_error(c, st, "reading a result", err);
		goto done;
	}
	while ((f = mysql_stmt_fetch(st)) != MYSQL_NO_DATA) {
		if (f == 1) {
			rc = stmt_error(c, st, "reading a result", err);
			goto done;
		}
		if (f == MYSQL_DATA_TRUNCATED &&
		    (rc = refetch_truncated(c, st, rb, cols, n, err)) < 0)
			goto done;
		for (i = 0; i < n; i++) {
			out_col *col = &cols[i];

			if (col->is_null) {
				values[i] = NULL;
				lengths[i] = 0;
			} else if (col->is_bit) {
				bit_to_text(col);
				values[i] = col->bit_text;
				lengths[i] = strlen(col->bit_text);
			} else {
				col->buf[col->len] = '\0';
				values[i] = col->buf;
				lengths[i] = col->len;
			}
		}
		++*nrows;
		if (row && (rc = row(ctx, n, values, lengths, err)) != 0)
			goto done;
	}
done:
	if (meta)
		mysql_free_result(meta);
	if (cols)
		for (i = 0; i < n; i++)
			free(cols[i].buf);
	free(cols);
	free(rb);
	free(values);
	free(lengths);
	return rc;
}

static int my_query(hms_conn *hc, const char *sql, const char *const *params, size_t nparams,
		    hms_row_cb row, void *ctx, unsigned long long *affected, ms_error *err)
{
	mysql_conn *c = (mysql_conn *)hc;
	ms_buf text = MS_BUF_INIT(SQL_TEXT_MAX);
	MYSQL_STMT *st = NULL;
	MYSQL_BIND *pb = NULL;
	unsigned long *plen = NULL;
	my_bool *pnull = NULL;
	unsigned long long nrows = 0;
	unsigned int nfields;
	size_t i;
	int rc;

	if (nparams > PARAMS_MAX)
		return ms_error_set(err, MS_ETOOBIG, "%zu sql parameters exceed mysql's %u",
				    nparams, PARAMS_MAX);
	if ((rc = rewrite_sql(&text, sql, err)) < 0)
		goto done;
	if (!(st = mysql_stmt_init(c->db))) {
		rc = conn_error(c, "preparing a statement", err);
		goto done;
	}
	if (mysql_stmt_prepare(st, ms_buf_cstr(&text), text.len) != 0) {
		rc = stmt_error(c, st, "preparing a statement", err);
		goto done;
	}
	if (mysql_stmt_param_count(st) != nparams) {
		rc = ms_error_set(err, MS_EINVAL, "sql statement takes %lu parameters, %zu given",
				  mysql_stmt_param_count(st), nparams);
		goto done;
	}
	if (nparams) {
		pb = calloc(nparams, sizeof(*pb));
		plen = calloc(nparams, sizeof(*plen));
		pnull = calloc(nparams, sizeof(*pnull));
		if (!pb || !plen || !pnull) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		for (i = 0; i < nparams; i++) {
			pnull[i] = params[i] == NULL;
			plen[i] = params[i] ? (unsigned long)strlen(params[i]) : 0;
			pb[i].buffer_type = MYSQL_TYPE_STRING;
			pb[i].buffer = (void *)(params[i] ? params[i] : "");
			pb[i].buffer_length = plen[i];
			pb[i].length = &plen[i];
			pb[i].is_null = &pnull[i];
		}
		if (mysql_stmt_bind_param(st, pb) != 0) {
			rc = stmt_error(c, st, "binding parameters", err);
			goto done;
		}
	}
	nfields = mysql_stmt_field_count(st);
	if (nfields) {
		unsigned long cursor = CURSOR_TYPE_READ_ONLY, prefetch = PREFETCH_ROWS;

		if (mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &cursor) != 0 ||
		    mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &prefetch) != 0) {
			rc = stmt_error(c, st, "preparing a statement", err);
			goto done;
		}
	}
	if (mysql_stmt_execute(st) != 0) {
		rc = stmt_error(c, st, "query", err);
		goto done;
	}
	if (nfields) {
		if ((rc = fetch_rows(c, st, nfields, row, ctx, &nrows, err)) != 0)
			goto done;
	} else {
		nrows = mysql_stmt_affected_rows(st);
	}
	if (affected)
		*affected = nrows;
done:
	if (st)
		mysql_stmt_close(st);
	free(pb);
	free(plen);
	free(pnull);
	ms_buf_free(&text);
	return rc;
}

static int my_begin(hms_conn *hc, ms_error *err)
{
	return simple((mysql_conn *)hc, "START TRANSACTION", "begin", err);
}

static int my_commit(hms_conn *hc, ms_error *err)
{
	return simple((mysql_conn *)hc, "COMMIT", "commit", err);
}

static int my_rollback(hms_conn *hc, ms_error *err)
{
	return simple((mysql_conn *)hc, "ROLLBACK", "rollback", err);
}

static void my_close(hms_conn *hc)
{
	mysql_conn *c = (mysql_conn *)hc;

	if (!c)
		return;
	if (c->db)
		mysql_close(c->db);
	free(c->base.redacted_url);
	free(c);
}

/*
 * InnoDB's consistent snapshot (REPEATABLE READ for this one transaction; the
 * session stays READ COMMITTED).  MySQL cannot hand a snapshot to another
 * connection: *shared stays NULL.
 */
static int my_begin_read(hms_conn *hc, const char *share, char **shared, ms_error *err)
{
	mysql_conn *c = (mysql_conn *)hc;
	int rc;

	if (share)
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "'%s' cannot share a read transaction with another connection",
				    c->base.redacted_url);
	*shared = NULL;
	if ((rc = simple(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "begin a read",
			 err)) < 0)
		return rc;
	return simple(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "begin a read",
		      err);
}

static const hms_conn_ops mysql_ops = {
	.dialect = HMS_MYSQL,
	.close = my_close,           /* required; frees the connection */
	.query = my_query,           /* required; MS_EBACKEND, MS_EIO, MS_EINVAL, MS_ETOOBIG */
	.begin = my_begin,           /* START TRANSACTION */
	.commit = my_commit,         /* COMMIT */
	.rollback = my_rollback,     /* ROLLBACK */
	.begin_read = my_begin_read, /* a consistent snapshot, not shareable */
};

/* Session settings; see the comment at the top of the file. */
static const char *const session_sql[] = {
	"SET NAMES utf8mb4 COLLATE utf8mb4_bin",
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES'",
	"SET SESSION time_zone = '+00:00'",
	"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
};

int ms_hms_mysql_url_param(const char *key);

/* The parameters an hms+mysql:// URL takes besides the catalog's own. */
int ms_hms_mysql_url_param(const char *key)
{
	return strcmp(key, "host") == 0 || strcmp(key, "socket") == 0 ||
	       strcmp(key, "connect-timeout") == 0 || strcmp(key, "password") == 0;
}

int hms_mysql_connect(hms_conn **out, const struct ms_url *url, ms_error *err)
{
	mysql_conn *c;
	const char *host, *socket, *dbname, *password, *v;
	unsigned int port = 0, timeout = 10;
	my_bool off = 0;
	size_t i;
	int rc = 0;

	pthread_once(&library_once, library_init);
	if (library_rc != 0)
		return ms_error_set(err, MS_ERROR, "cannot initialise the mariadb client library");
	if (!(c = calloc(1, sizeof(*c))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	c->base.ops = &mysql_ops;
	if (!(c->base.redacted_url = strdup(url->redacted ? url->redacted : "hms+mysql:"))) {
		free(c);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	dbname = url->path ? url->path : "";
	while (*dbname == '/')
		dbname++;
	if (!*dbname || strchr(dbname, '/')) {
		rc = ms_error_set(err, MS_EINVAL, "no database name in '%s'", c->base.redacted_url);
		goto done;
	}
	if ((url->host && *url->host && ms_url_param_get(url, "host")) ||
	    (url->password && ms_url_param_get(url, "password"))) {
		rc = ms_error_set(err, MS_EINVAL, "'%s' is given twice in '%s'",
				  url->password && ms_url_param_get(url, "password") ? "password"
										     : "host",
				  c->base.redacted_url);
		goto done;
	}
	host = (v = ms_url_param_get(url, "host")) && *v ? v
	       : url->host && *url->host                 ? url->host
							 : "localhost";
	socket = (v = ms_url_param_get(url, "socket")) && *v ? v : NULL;
	if ((v = url->port) && *v) {
		char *end;
		unsigned long p = strtoul(v, &end, 10);

		if (*end || p == 0 || p > 65535) {
			rc = ms_error_set(err, MS_EINVAL, "bad port '%s' in '%s'", v,
					  c->base.redacted_url);
			goto done;
		}
		port = (unsigned int)p;
	}
	if ((v = ms_url_param_get(url, "connect-timeout")) && *v) {
		char *end;
		unsigned long t = strtoul(v, &end, 10);

		if (*end || t == 0 || t > 3600) {
			rc = ms_error_set(err, MS_EINVAL, "bad connect-timeout '%s' in '%s'", v,
					  c->base.redacted_url);
			goto done;
		}
		timeout = (unsigned int)t;
	}
	if (!(c->db = mysql_init(NULL))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	mysql_options(c->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(c->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(c->db, MYSQL_OPT_RECONNECT, &off);
	mysql_options(c->db, MYSQL_OPT_LOCAL_INFILE, &off);
	password = url->password ? url->password : ms_url_param_get(url, "password");
	if (!mysql_real_connect(c->db, host, url->user, password ? password : "", dbname, port,
				socket, CLIENT_FOUND_ROWS)) {
		rc = is_lost(mysql_errno(c->db)) ? MS_EIO : MS_EBACKEND;
		ms_error_set(err, rc, "cannot connect to '%s'", c->base.redacted_url);
		add_backend(err, mysql_errno(c->db), mysql_sqlstate(c->db), mysql_error(c->db));
		goto done;
	}
	for (i = 0; i < sizeof(session_sql) / sizeof(session_sql[0]); i++)
		if ((rc = simple(c, session_sql[i], "setting up the session", err)) < 0)
			goto done;
done:
	if (rc < 0) {
		my_close(&c->base);
		return rc;
	}
	*out = &c->base;
	return 0;
}
