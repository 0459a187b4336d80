/*
 * The small SQL interface the Hive Metastore driver runs on: one connection
 * to PostgreSQL (libpq) or MySQL/MariaDB (MariaDB Connector/C).  The driver
 * writes each statement once, with `?` placeholders and double-quoted
 * identifiers ("TBLS"."TBL_NAME"); a backend rewrites both for its dialect
 * ($1.. and "..." for PostgreSQL; ? and `...` for MySQL) and always binds
 * parameters: no value is ever spliced into SQL text.
 */
#ifndef MS_DRIVERS_HMS_SQL_H
#define MS_DRIVERS_HMS_SQL_H

#include <stddef.h>

#include "metasync/error.h"

struct ms_url;

typedef enum hms_dialect { HMS_POSTGRESQL = 1, HMS_MYSQL = 2 } hms_dialect;

/*
 * One result row: ncols values as text (NULL for SQL NULL) with their byte
 * lengths; borrowed for the call.  A non-zero return stops the query and is
 * returned by it.
 */
typedef int (*hms_row_cb)(void *ctx, size_t ncols, const char *const *values, const size_t *lengths,
			  ms_error *err);

typedef struct hms_conn hms_conn;

typedef struct hms_conn_ops {
	hms_dialect dialect;
	/* Close the connection and free c. */
	void (*close)(hms_conn *c);
	/*
	 * Run sql with nparams text parameters (a NULL entry is SQL NULL); call
	 * row for each result row (row may be NULL).  *affected (may be NULL)
	 * receives the changed row count.  Errors: MS_EBACKEND with the
	 * server's message in detail and SQLSTATE (or MySQL errno) in
	 * backend_code; MS_ECONFLICT (same details) when a unique key is
	 * taken; MS_EIO when the connection is lost.
	 */
	int (*query)(hms_conn *c, const char *sql, const char *const *params, size_t nparams,
		     hms_row_cb row, void *ctx, unsigned long long *affected, ms_error *err);
	int (*begin)(hms_conn *c, ms_error *err);
	int (*commit)(hms_conn *c, ms_error *err);
	int (*rollback)(hms_conn *c, ms_error *err);
	/*
	 * Begin a read-only transaction that sees one point in time until
	 * commit: with share NULL, a new one, and *shared (new, may stay NULL
	 * when the backend cannot share it) names it for other connections;
	 * with share, the point in time that names.
	 */
	int (*begin_read)(hms_conn *c, const char *share, char **shared, ms_error *err);
} hms_conn_ops;

struct hms_conn {
	const hms_conn_ops *ops;
	char *redacted_url; /* owned; printable */
};

/*
 * Connect.  PostgreSQL: the URL after "hms+" is a libpq URI (host=/dir for a
 * Unix socket, ?schema=NAME sets the search path, default public).  MySQL:
 * hms+mysql://USER:PASS@HOST:PORT/DBNAME?socket=/path.  Parameters metasync
 * itself reads (catalog=) are not passed to the library.  Errors never
 * contain the password.
 */
int hms_pg_connect(hms_conn **out, const struct ms_url *url, ms_error *err);
int hms_mysql_connect(hms_conn **out, const struct ms_url *url, ms_error *err);

#endif
