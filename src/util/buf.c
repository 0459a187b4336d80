/*
 * Bounded growable buffers.  Every text metasync builds (JSON lines, SQL
 * keys, messages, manifests) goes through here, so the cap check lives in
 * one place.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/error.h"

void ms_buf_init(ms_buf *b, size_t cap)
{
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void ms_buf_free(ms_buf *b)
{
	if (!b)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->alloc = 0;
}

void ms_buf_reset(ms_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

int ms_buf_grow(ms_buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > b->cap || b->len > b->cap - extra)
		return MS_ETOOBIG;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	if (n > b->cap + 1)
		n = b->cap + 1;
	p = realloc(b->ptr, n);
	if (!p)
		return MS_ENOMEM;
	b->ptr = p;
	b->alloc = n;
	return 0;
}

int ms_buf_add(ms_buf *b, const void *data, size_t len)
{
	int rc;

	if ((rc = ms_buf_grow(b, len)) < 0)
		return rc;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int ms_buf_adds(ms_buf *b, const char *s)
{
	return ms_buf_add(b, s, strlen(s));
}

int ms_buf_addc(ms_buf *b, char c)
{
	int rc;

	if (b->len + 1 < b->alloc) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
		return 0;
	}
	if ((rc = ms_buf_grow(b, 1)) < 0)
		return rc;
	b->ptr[b->len++] = c;
	b->ptr[b->len] = '\0';
	return 0;
}

int ms_buf_vprintf(ms_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return MS_EINVAL;
	if ((rc = ms_buf_grow(b, (size_t)n)) < 0)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int ms_buf_printf(ms_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ms_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *ms_buf_detach(ms_buf *b)
{
	char *p = b->ptr;

	if (!p)
		p = calloc(1, 1);
	b->ptr = NULL;
	b->len = b->alloc = 0;
	return p;
}

const char *ms_buf_cstr(const ms_buf *b)
{
	return b->ptr ? b->ptr : "";
}
