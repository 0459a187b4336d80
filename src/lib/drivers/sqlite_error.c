/* SQLite result codes as metasync errors (sqlite_error.h). */
#include <stdio.h>

#include "drivers/sqlite_error.h"

int ms_sqlite_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return MS_ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return MS_ECONFLICT;
	case SQLITE_TOOBIG:
		return MS_ETOOBIG;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_PROTOCOL:
		return MS_EIO;
	default:
		return MS_EBACKEND;
	}
}

int ms_sqlite_vfail(sqlite3 *db, int rc, ms_error *err, const char *fmt, va_list ap)
{
	char msg[MS_ERROR_MESSAGE_MAX];
	int code = ms_sqlite_code(rc);

	vsnprintf(msg, sizeof(msg), fmt, ap);
	ms_error_set(err, code, "%s", msg);
	ms_error_detail(err, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (err)
		snprintf(err->backend_code, sizeof(err->backend_code), "%d", rc);
	return code;
}
