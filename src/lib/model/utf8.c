/*
 * UTF-8 validation.  cJSON copies string bytes through without checking
 * them, but Glue, Hive's metastore databases and every JSON reader
 * downstream reject invalid UTF-8, so the model checks every string it
 * reads.  The same pass counts code points (Glue's limits are in
 * characters, not bytes) and notices the characters Glue's patterns refuse
 * (control characters, U+FFFE, U+FFFF).  Runs of ASCII, by far the common
 * case, are checked eight bytes at a time.
 */
#include "model_internal.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080ULL
#define ONES 0x0101010101010101ULL

/* Nonzero when some byte of an ASCII-only word w is below 0x20. */
static inline uint64_t has_control(uint64_t w)
{
	return (w - ONES * 0x20) & ~w & HIGH_BITS;
}

/* The MS_U8_* bit of an ASCII byte: 0 unless it is a control character. */
static inline unsigned control_bit(unsigned char c)
{
	if (c >= 0x20 || c == '\t')
		return 0;
	return c == '\n' || c == '\r' ? MS_U8_NEWLINE : MS_U8_CTRL;
}

static unsigned check_controls(const unsigned char *p, size_t n)
{
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < n; i++)
		bits |= control_bit(p[i]);
	return bits;
}

int ms_model_utf8_scan(const char *s, size_t len, size_t *chars, unsigned *flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, cont = 0;
	unsigned bits = 0;

	while (i < len) {
		unsigned char c = p[i];

		if (len - i >= 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (!(w & HIGH_BITS)) {
				if (has_control(w))
					bits |= check_controls(p + i, 8);
				i += 8;
				continue;
			}
		}
		if (c < 0x80) {
			bits |= control_bit(c);
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			if (len - i < 2 || (p[i + 1] & 0xC0) != 0x80)
				return -1;
			i += 2;
			cont += 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			unsigned char lo = 0x80, hi = 0xBF;

			if (c == 0xE0)
				lo = 0xA0; /* overlong */
			else if (c == 0xED)
				hi = 0x9F; /* surrogates */
			if (len - i < 3 || p[i + 1] < lo || p[i + 1] > hi ||
			    (p[i + 2] & 0xC0) != 0x80)
				return -1;
			if (c == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE)
				bits |= MS_U8_NONCHAR;
			i += 3;
			cont += 2;
		} else if (c >= 0xF0 && c <= 0xF4) {
			unsigned char lo = 0x80, hi = 0xBF;

			if (c == 0xF0)
				lo = 0x90; /* overlong */
			else if (c == 0xF4)
				hi = 0x8F; /* above U+10FFFF */
			if (len - i < 4 || p[i + 1] < lo || p[i + 1] > hi ||
			    (p[i + 2] & 0xC0) != 0x80 || (p[i + 3] & 0xC0) != 0x80)
				return -1;
			i += 4;
			cont += 3;
		} else {
			/* 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF */
			return -1;
		}
	}
	if (chars)
		*chars = len - cont;
	if (flags)
		*flags = bits;
	return 0;
}

int ms_utf8_valid(const char *s, size_t len)
{
	if (!s)
		return len == 0;
	return ms_model_utf8_scan(s, len, NULL, NULL) == 0;
}

int ms_json_check_nul(const char *text, size_t len, const char *what, ms_error *err)
{
	const char *p, *end = text + len;

	if ((p = memchr(text, '\0', len)) != NULL)
		return ms_error_set(err, MS_EINVAL, "%s holds a NUL byte at byte %zu", what,
				    (size_t)(p - text) + 1);
	for (p = text; p < end && (p = memmem(p, (size_t)(end - p), "\\u0000", 6)) != NULL;
	     p += 6) {
		const char *q = p;

		while (q > text && q[-1] == '\\')
			q--;
		if ((p - q) % 2 == 0)
			return ms_error_set(err, MS_EINVAL,
					    "%s holds an escaped NUL character at byte %zu", what,
					    (size_t)(p - text) + 1);
	}
	return 0;
}
