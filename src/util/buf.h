/*
 * ms_buf: a growable byte buffer with a hard cap, in the manner of curl's
 * dynbuf.  Nothing read from a file, a socket or a database grows without a
 * limit: appending past `cap` fails with MS_ETOOBIG and leaves the buffer as
 * it was.  The content is always NUL-terminated.
 */
#ifndef MS_UTIL_BUF_H
#define MS_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ms_buf {
	char *ptr; /* owned; NULL until the first append */
	size_t len;
	size_t alloc;
	size_t cap; /* largest allowed len */
} ms_buf;

#define MS_BUF_INIT(capacity) \
	{ \
		NULL, 0, 0, (capacity) \
	}

void ms_buf_init(ms_buf *b, size_t cap);
void ms_buf_free(ms_buf *b);
void ms_buf_reset(ms_buf *b);
int ms_buf_grow(ms_buf *b, size_t extra);
int ms_buf_add(ms_buf *b, const void *data, size_t len);
int ms_buf_adds(ms_buf *b, const char *s);
int ms_buf_addc(ms_buf *b, char c);
int ms_buf_printf(ms_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ms_buf_vprintf(ms_buf *b, const char *fmt, va_list ap);
/* Hand the content to the caller (new, free()); the buffer becomes empty. */
char *ms_buf_detach(ms_buf *b);
/* Borrowed pointer to the content ("" when empty). */
const char *ms_buf_cstr(const ms_buf *b);

#endif
