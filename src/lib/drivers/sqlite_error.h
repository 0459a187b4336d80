/*
 * SQLite result codes as metasync errors, for the drivers built on SQLite
 * (the embedded catalog, the embedded bus).
 */
#ifndef MS_DRIVERS_SQLITE_ERROR_H
#define MS_DRIVERS_SQLITE_ERROR_H

#include <stdarg.h>

#include <sqlite3.h>

#include "metasync/error.h"

/* The MS_E* code for an SQLite result code (busy: MS_ECONFLICT). */
int ms_sqlite_code(int rc);

/*
 * Fill err after SQLite returned rc: the message says what failed (printf
 * style, subject quoted by the caller), the detail is SQLite's own message
 * and backend_code its extended result code.  Returns the MS_E* code.
 */
int ms_sqlite_vfail(sqlite3 *db, int rc, ms_error *err, const char *fmt, va_list ap);

#endif
