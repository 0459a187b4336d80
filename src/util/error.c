/*
 * The ms_error helpers.  Errors are plain fixed-size structs owned by the
 * caller, so filling one cannot fail and never allocates; this keeps error
 * paths simple in drivers that are already out of memory or half-way through
 * a transaction.
 */
#include "metasync/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ms_error_clear(ms_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->message[0] = '\0';
	err->detail[0] = '\0';
	err->backend_code[0] = '\0';
}

/*
 * Messages are one line, whatever text from the input they quote: a control
 * character other than tab becomes '?'.
 */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			*s = '?';
}

int ms_error_set(ms_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->detail[0] = '\0';
	err->backend_code[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	one_line(err->message);
	return code;
}

void ms_error_detail(ms_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

void ms_error_prefix(ms_error *err, const char *fmt, ...)
{
	char prefix[MS_ERROR_MESSAGE_MAX];
	size_t pl, ml;
	va_list ap;
	int n;

	if (!err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	pl = strlen(prefix);
	ml = strlen(err->message);
	if (pl + ml >= sizeof(err->message))
		ml = sizeof(err->message) - 1 - pl;
	memmove(err->message + pl, err->message, ml);
	memcpy(err->message, prefix, pl);
	err->message[pl + ml] = '\0';
	one_line(err->message);
}

const char *ms_error_code_name(int code)
{
	switch (code) {
	case MS_OK:
		return "OK";
	case MS_ERROR:
		return "ERROR";
	case MS_ENOMEM:
		return "ENOMEM";
	case MS_EINVAL:
		return "EINVAL";
	case MS_ENOTFOUND:
		return "ENOTFOUND";
	case MS_EEXISTS:
		return "EEXISTS";
	case MS_EIO:
		return "EIO";
	case MS_ENOTSUPPORTED:
		return "ENOTSUPPORTED";
	case MS_EINTEGRITY:
		return "EINTEGRITY";
	case MS_EREFUSED:
		return "EREFUSED";
	case MS_ETOOBIG:
		return "ETOOBIG";
	case MS_EBACKEND:
		return "EBACKEND";
	case MS_ECONFLICT:
		return "ECONFLICT";
	case MS_EUSAGE:
		return "EUSAGE";
	default:
		return "EUNKNOWN";
	}
}
