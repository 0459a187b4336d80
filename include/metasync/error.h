/*
 * Errors in metasync: every function that can fail returns 0 or a negative
 * MS_E* code and fills a caller-provided ms_error, passed last.  There is no
 * global or thread-local "last error".
 */
#ifndef METASYNC_ERROR_H
#define METASYNC_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	MS_OK = 0,
	MS_ERROR = -1,         /* generic failure */
	MS_ENOMEM = -2,        /* allocation failed */
	MS_EINVAL = -3,        /* bad input: a value, a line, an argument */
	MS_ENOTFOUND = -4,     /* the entity, file or key does not exist */
	MS_EEXISTS = -5,       /* the entity already exists */
	MS_EIO = -6,           /* reading or writing a file, socket or backend failed */
	MS_ENOTSUPPORTED = -7, /* the driver leaves this slot empty */
	MS_EINTEGRITY = -8,    /* files do not match their manifest */
	MS_EREFUSED = -9,      /* a safety guard said no (ownership, max-deletes) */
	MS_ETOOBIG = -10,      /* a bounded buffer or a limit was exceeded */
	MS_EBACKEND = -11,     /* the backend answered with an error */
	MS_ECONFLICT = -12,    /* concurrent modification */
	MS_EUSAGE = -13        /* command-line misuse */
};

#define MS_ERROR_MESSAGE_MAX 512
#define MS_ERROR_DETAIL_MAX 512

/*
 * A filled error: a short primary message (one line, lowercase, subject in
 * single quotes, no final period), an optional detail (the failing call, the
 * backend's answer) and the backend's own code (SQLSTATE, HTTP status, errno)
 * as text.  Fixed-size: filling one never allocates.
 */
typedef struct ms_error {
	int code;
	char message[MS_ERROR_MESSAGE_MAX];
	char detail[MS_ERROR_DETAIL_MAX];
	char backend_code[16];
} ms_error;

/* Reset to "no error". */
void ms_error_clear(ms_error *err);

/*
 * Fill err (may be NULL) with code and a printf-style message; returns code so
 * that callers can write `return ms_error_set(err, MS_EINVAL, ...)`.
 */
int ms_error_set(ms_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set the detail of an already-filled error. */
void ms_error_detail(ms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Prefix the message with context ("import 'x': "), keeping code and detail.
 * Only the top level should add context.
 */
void ms_error_prefix(ms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Borrowed static name of a code, e.g. "EINVAL". */
const char *ms_error_code_name(int code);

#ifdef __cplusplus
}
#endif
#endif
