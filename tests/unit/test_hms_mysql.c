/*
 * The MySQL / MariaDB backend of hms_sql.h against a live server (the URL in
 * $MS_TEST_HMS_MYSQL_URL, a database holding the Hive 3.1 schema, as
 * scripts/test-servers.sh starts it); nothing runs when it is unset.  Checks
 * what the Hive Metastore driver relies on: identifiers rewritten, values
 * bound never spliced, results as text of any length, latin1 columns that
 * refuse what they cannot hold, transactions, row locks, error codes and a
 * lost connection reported as MS_EIO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/catalog/hms_sql.h"
#include "util/url.h"

static const char *g_url;

typedef struct rows {
	size_t n;
	size_t ncols;
	char text[8][256]; /* first column of the first rows, "<null>" for NULL */
	size_t len0;       /* length of the first value of the first row */
	int nested_ok;
	hms_conn *nest; /* set: run a query from inside the callback */
} rows;

static int collect(void *ctx, size_t ncols, const char *const *values, const size_t *lengths,
		   ms_error *err)
{
	rows *r = ctx;

	if (r->n == 0)
		r->len0 = lengths[0];
	if (r->n < 8)
		snprintf(r->text[r->n], sizeof(r->text[0]), "%s", values[0] ? values[0] : "<null>");
	r->ncols = ncols;
	r->n++;
	if (r->nest) {
		rows inner;
		const char *p[] = { "7" };

		memset(&inner, 0, sizeof(inner));
		if (r->nest->ops->query(r->nest, "SELECT ? + 1", p, 1, collect, &inner, NULL, err) <
		    0)
			return -1;
		r->nested_ok += inner.n == 1 && strcmp(inner.text[0], "8") == 0;
	}
	return 0;
}

static hms_conn *connect_to(const char *text, ms_error *err, int *rc)
{
	ms_url *u = NULL;
	hms_conn *c = NULL;

	assert_int_equal(ms_url_parse(&u, text, err), 0);
	*rc = hms_mysql_connect(&c, u, err);
	ms_url_free(u);
	return c;
}

static hms_conn *open_conn(void)
{
	ms_error err;
	int rc;
	hms_conn *c = connect_to(g_url, &err, &rc);

	if (rc < 0)
		fail_msg("connect: %s (%s)", err.message, err.detail);
	assert_int_equal(c->ops->dialect, HMS_MYSQL);
	return c;
}

static int q(hms_conn *c, const char *sql, const char *const *params, size_t n, rows *r,
	     unsigned long long *affected, ms_error *err)
{
	if (r)
		memset(r, 0, sizeof(*r));
	ms_error_clear(err);
	return c->ops->query(c, sql, params, n, r ? collect : NULL, r, affected, err);
}

#define QOK(c, sql, params, n, r, aff) \
	do { \
		ms_error e_; \
		if (q(c, sql, params, n, r, aff, &e_) != 0) \
			fail_msg("%s: %s (%s) [%s]", sql, e_.message, e_.detail, e_.backend_code); \
	} while (0)

static void test_identifiers_and_params(void **state)
{
	hms_conn *c = open_conn();
	rows r;
	const char *p[] = { "it's \"quoted\"; DROP TABLE \"VERSION\" --", NULL };
	ms_error err;

	(void)state;
	QOK(c, "SELECT \"SCHEMA_VERSION\" FROM \"VERSION\" WHERE \"VER_ID\" = ?",
	    (const char *const[]){ "1" }, 1, &r, NULL);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "3.1.0");
	/* Quotes inside a literal stay; values are bound, never spliced. */
	QOK(c, "SELECT CONCAT('say \"hi\" -- ', ?) AS \"x\"", p, 1, &r, NULL);
	assert_string_equal(r.text[0], "say \"hi\" -- it's \"quoted\"; DROP TABLE \"VERSION\" --");
	QOK(c, "SELECT ? IS NULL", p + 1, 1, &r, NULL);
	assert_string_equal(r.text[0], "1");
	QOK(c, "SELECT NULL, 1", NULL, 0, &r, NULL);
	assert_string_equal(r.text[0], "<null>");
	assert_int_equal(r.ncols, 2);
	/* No backslash escapes: literals read as in PostgreSQL. */
	QOK(c, "SELECT 'a\\b'", NULL, 0, &r, NULL);
	assert_string_equal(r.text[0], "a\\b");
	/* A long value comes back whole. */
	QOK(c, "SELECT REPEAT('x', 300000), 'short'", NULL, 0, &r, NULL);
	assert_int_equal(r.len0, 300000);
	/* Wrong parameter count, unterminated identifier. */
	assert_int_equal(q(c, "SELECT ?, ?", p, 1, NULL, NULL, &err), MS_EINVAL);
	assert_int_equal(q(c, "SELECT \"VER_ID FROM VERSION", NULL, 0, NULL, NULL, &err),
			 MS_EINVAL);
	assert_int_equal(q(c, "SELECT 'VER_ID FROM VERSION", NULL, 0, NULL, NULL, &err), MS_EINVAL);
	/* A server error: code, state and message. */
	assert_int_equal(q(c, "SELEC 1", NULL, 0, NULL, NULL, &err), MS_EBACKEND);
	assert_string_equal(err.backend_code, "1064/42000");
	assert_non_null(strstr(err.detail, "SQL syntax"));
	c->ops->close(c);
}

static void test_rows_nested_and_many(void **state)
{
	hms_conn *c = open_conn();
	rows r;
	unsigned long long n = 0;

	(void)state;
	/* A callback may query the same connection while rows are pending. */
	memset(&r, 0, sizeof(r));
	r.nest = c;
	{
		ms_error err;

		ms_error_clear(&err);
		if (c->ops->query(c, "SELECT seq FROM seq_1_to_2000", NULL, 0, collect, &r, &n,
				  &err) != 0)
			fail_msg("%s (%s)", err.message, err.detail);
	}
	assert_int_equal(r.n, 2000);
	assert_int_equal(n, 2000);
	assert_int_equal(r.nested_ok, 2000);
	assert_string_equal(r.text[7], "8");
	c->ops->close(c);
}

/* A scratch table in the metastore database, dropped by the test. */
static void scratch(hms_conn *c, char *name, size_t size)
{
	char sql[512];

	snprintf(name, size, "msmy_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS \"%s\"", name);
	QOK(c, sql, NULL, 0, NULL, NULL);
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE \"%s\" (\"ID\" bigint NOT NULL PRIMARY KEY, "
		 "\"FLAG\" bit(1), \"S\" varchar(20) CHARACTER SET latin1 COLLATE latin1_bin) "
		 "ENGINE=InnoDB DEFAULT CHARSET=latin1",
		 name);
	QOK(c, sql, NULL, 0, NULL, NULL);
}

static void drop(hms_conn *c, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS \"%s\"", name);
	QOK(c, sql, NULL, 0, NULL, NULL);
}

static void test_latin1_bit_and_transactions(void **state)
{
	hms_conn *c = open_conn();
	char t[64], ins[256], sel[256], upd[256];
	rows r;
	ms_error err;
	unsigned long long aff = 0;

	(void)state;
	scratch(c, t, sizeof(t));
	snprintf(ins, sizeof(ins),
		 "INSERT INTO \"%s\" (\"ID\", \"FLAG\", \"S\") VALUES (?, (? = '1'), ?)", t);
	snprintf(sel, sizeof(sel), "SELECT \"S\", \"FLAG\" FROM \"%s\" WHERE \"ID\" = ?", t);
	snprintf(upd, sizeof(upd), "UPDATE \"%s\" SET \"S\" = ? WHERE \"ID\" = ?", t);

	/* Latin-1 text round-trips; a BIT column reads as its decimal value. */
	QOK(c, ins, ((const char *const[]){ "1", "1", "café ñ ü €" }), 3, NULL, &aff);
	assert_int_equal(aff, 1);
	QOK(c, sel, ((const char *const[]){ "1" }), 1, &r, NULL);
	assert_string_equal(r.text[0], "café ñ ü €");
	{
		char s2[256];

		snprintf(s2, sizeof(s2), "SELECT \"FLAG\" FROM \"%s\" WHERE \"ID\" = 1", t);
		QOK(c, s2, NULL, 0, &r, NULL);
		assert_string_equal(r.text[0], "1");
	}
	/* Text latin1 cannot hold is refused, not stored as '?'. */
	assert_int_equal(q(c, ins, ((const char *const[]){ "2", "0", "日本" }), 3, NULL, NULL,
			   &err),
			 MS_EBACKEND);
	assert_string_equal(err.backend_code, "1366/22007");
	assert_int_equal(q(c, upd, ((const char *const[]){ "x😀", "1" }), 2, NULL, NULL, &err),
			 MS_EBACKEND);
	/* Too long for the column: refused too. */
	assert_int_equal(q(c, upd, ((const char *const[]){ "123456789012345678901", "1" }), 2, NULL,
			   NULL, &err),
			 MS_EBACKEND);
	assert_string_equal(err.backend_code, "1406/22001");
	/*
	 * Comparing a latin1 column with a value latin1 cannot hold is an error
	 * (1267, illegal mix of collations), never a false match with '?'.
	 */
	QOK(c, ins, ((const char *const[]){ "3", "0", "??" }), 3, NULL, NULL);
	{
		char s2[256];

		snprintf(s2, sizeof(s2), "SELECT \"ID\" FROM \"%s\" WHERE \"S\" = ?", t);
		assert_int_equal(q(c, s2, ((const char *const[]){ "日本" }), 1, &r, NULL, &err),
				 MS_EBACKEND);
		assert_string_equal(err.backend_code, "1267/HY000");
		QOK(c, s2, ((const char *const[]){ "café ñ ü €" }), 1, &r, NULL);
		assert_int_equal(r.n, 1);
	}
	/* An UPDATE that changes nothing still reports the row it matched. */
	QOK(c, upd, ((const char *const[]){ "café ñ ü €", "1" }), 2, NULL, &aff);
	assert_int_equal(aff, 1);
	/* Duplicate key: a unique key taken is a conflict, with the server's codes. */
	assert_int_equal(q(c, ins, ((const char *const[]){ "1", "0", "dup" }), 3, NULL, NULL, &err),
			 MS_ECONFLICT);
	assert_string_equal(err.backend_code, "1062/23000");

	/* Rollback undoes, commit keeps. */
	assert_int_equal(c->ops->begin(c, &err), 0);
	QOK(c, ins, ((const char *const[]){ "10", "0", "rolled back" }), 3, NULL, NULL);
	assert_int_equal(c->ops->rollback(c, &err), 0);
	QOK(c, sel, ((const char *const[]){ "10" }), 1, &r, NULL);
	assert_int_equal(r.n, 0);
	assert_int_equal(c->ops->begin(c, &err), 0);
	QOK(c, ins, ((const char *const[]){ "11", "0", "committed" }), 3, NULL, NULL);
	assert_int_equal(c->ops->commit(c, &err), 0);
	QOK(c, sel, ((const char *const[]){ "11" }), 1, &r, NULL);
	assert_string_equal(r.text[0], "committed");
	drop(c, t);
	c->ops->close(c);
}

/* SELECT ... FOR UPDATE holds its row lock (as the SEQUENCE_TABLE reservation needs). */
static void test_row_lock(void **state)
{
	hms_conn *a = open_conn(), *b = open_conn();
	char t[64], sql[256];
	rows r;
	ms_error err;

	(void)state;
	scratch(a, t, sizeof(t));
	snprintf(sql, sizeof(sql), "INSERT INTO \"%s\" (\"ID\", \"S\") VALUES (1, 'n')", t);
	QOK(a, sql, NULL, 0, NULL, NULL);
	assert_int_equal(a->ops->begin(a, &err), 0);
	snprintf(sql, sizeof(sql), "SELECT \"ID\" FROM \"%s\" WHERE \"ID\" = ? FOR UPDATE", t);
	QOK(a, sql, ((const char *const[]){ "1" }), 1, &r, NULL);
	assert_int_equal(r.n, 1);
	QOK(b, "SET SESSION innodb_lock_wait_timeout = 1", NULL, 0, NULL, NULL);
	snprintf(sql, sizeof(sql), "UPDATE \"%s\" SET \"S\" = 'b' WHERE \"ID\" = 1", t);
	assert_int_equal(q(b, sql, NULL, 0, NULL, NULL, &err), MS_EBACKEND);
	assert_string_equal(err.backend_code, "1205/HY000");
	assert_int_equal(a->ops->commit(a, &err), 0);
	QOK(b, sql, NULL, 0, NULL, NULL);
	drop(a, t);
	a->ops->close(a);
	b->ops->close(b);
}

static void test_lost_connection(void **state)
{
	hms_conn *a = open_conn(), *b = open_conn();
	rows r;
	ms_error err;
	char sql[64];

	(void)state;
	QOK(a, "SELECT CONNECTION_ID()", NULL, 0, &r, NULL);
	snprintf(sql, sizeof(sql), "KILL CONNECTION %s", r.text[0]);
	QOK(b, sql, NULL, 0, NULL, NULL);
	assert_int_equal(q(a, "SELECT 1", NULL, 0, &r, NULL, &err), MS_EIO);
	assert_int_equal(a->ops->begin(a, &err), MS_EIO);
	a->ops->close(a);
	b->ops->close(b);
}

static void test_connect_errors(void **state)
{
	ms_url *u = NULL;
	ms_error err;
	char bad[4096];
	hms_conn *c = NULL;
	const char *at;
	int rc;

	(void)state;
	/* A wrong password: refused, and neither password appears anywhere. */
	assert_int_equal(ms_url_parse(&u, g_url, &err), 0);
	at = strchr(g_url + strlen("hms+mysql://"), '@');
	assert_non_null(at);
	snprintf(bad, sizeof(bad), "hms+mysql://%s:WrongSecret42%s", u->user, at);
	c = connect_to(bad, &err, &rc);
	assert_null(c);
	assert_int_equal(rc, MS_EBACKEND);
	assert_string_equal(err.backend_code, "1045/28000");
	assert_null(strstr(err.message, "WrongSecret42"));
	assert_null(strstr(err.detail, "WrongSecret42"));
	assert_null(strstr(err.message, u->password));
	assert_null(strstr(err.detail, u->password));
	assert_non_null(strstr(err.message, "***"));
	/* No database name. */
	snprintf(bad, sizeof(bad), "hms+mysql://%s@localhost/", u->user);
	c = connect_to(bad, &err, &rc);
	assert_int_equal(rc, MS_EINVAL);
	/* Nothing listening. */
	c = connect_to("hms+mysql://u:pw@localhost/hms?socket=/nonexistent/mysqld.sock", &err, &rc);
	assert_int_equal(rc, MS_EIO);
	assert_null(strstr(err.message, "pw@"));
	ms_url_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identifiers_and_params),
		cmocka_unit_test(test_rows_nested_and_many),
		cmocka_unit_test(test_latin1_bit_and_transactions),
		cmocka_unit_test(test_row_lock),
		cmocka_unit_test(test_lost_connection),
		cmocka_unit_test(test_connect_errors),
	};

	g_url = getenv("MS_TEST_HMS_MYSQL_URL");
	if (!g_url || !*g_url) {
		printf("test_hms_mysql: $MS_TEST_HMS_MYSQL_URL is not set, nothing to test\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
