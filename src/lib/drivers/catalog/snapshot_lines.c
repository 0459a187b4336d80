/*
 * The snapshot driver's line source: a part file on a store read as lines,
 * through gzip when it is compressed, hashing the stored bytes on the way
 * when asked, in bounded chunks (a line longer than LINE_MAX_BYTES is an
 * error, never a bigger buffer).  The reader seeks to a table's spans.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "snapshot_internal.h"

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

void snap_lsrc_close(lsrc *l)
{
	ms_store_reader_close(l->r);
	l->r = NULL;
	if (l->zinit)
		inflateEnd(&l->z);
	l->zinit = 0;
	EVP_MD_CTX_free(l->sha);
	l->sha = NULL;
	free(l->in);
	free(l->buf);
	l->in = NULL;
	l->buf = NULL;
	ms_buf_free(&l->carry);
}

int snap_lsrc_open(lsrc *l, ms_store *st, const char *key, const char *name, int gz, int hash,
		   ms_error *err)
{
	memset(l, 0, sizeof(*l));
	ms_buf_init(&l->carry, LINE_MAX_BYTES);
	l->name = name;
	l->gz = gz;
	l->buf = malloc(IO_CHUNK);
	if (!l->buf || (gz && !(l->in = malloc(GZ_CHUNK))))
		return oom(err);
	if (hash) {
		l->sha = EVP_MD_CTX_new();
		if (!l->sha || EVP_DigestInit_ex(l->sha, EVP_sha256(), NULL) != 1)
			return ms_error_set(err, MS_ERROR, "cannot start sha256");
	}
	if (gz) {
		if (inflateInit2(&l->z, 15 + 32) != Z_OK)
			return ms_error_set(err, MS_ENOMEM, "cannot start gzip decompression");
		l->zinit = 1;
	}
	return ms_store_get_open(st, key, &l->r, err);
}

static int lsrc_raw(lsrc *l, void *dst, size_t cap, size_t *got, ms_error *err)
{
	int rc;

	if ((rc = ms_store_read(l->r, dst, cap, got, err)) < 0)
		return rc;
	if (*got && l->sha && EVP_DigestUpdate(l->sha, dst, *got) != 1)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	l->stored += *got;
	return 0;
}

/* Refill buf with the next uncompressed bytes (pos == len on entry). */
static int lsrc_fill(lsrc *l, ms_error *err)
{
	size_t got;
	int rc, zr;

	l->pos = l->len = 0;
	if (!l->gz) {
		if ((rc = lsrc_raw(l, l->buf, IO_CHUNK, &got, err)) < 0)
			return rc;
		if (got == 0)
			l->eof = 1;
		l->len = got;
		return 0;
	}
	while (l->len == 0 && !l->eof) {
		if (l->in_pos == l->in_len && !l->in_eof) {
			if ((rc = lsrc_raw(l, l->in, GZ_CHUNK, &got, err)) < 0)
				return rc;
			l->in_pos = 0;
			l->in_len = got;
			if (got == 0)
				l->in_eof = 1;
		}
		if (l->zend) {
			/* A new gzip member may follow (concatenated .gz files). */
			if (l->in_pos < l->in_len) {
				inflateReset(&l->z);
				l->zend = 0;
			} else if (l->in_eof) {
				l->eof = 1;
				break;
			} else {
				continue;
			}
		}
		if (l->in_pos == l->in_len) {
			if (l->in_eof)
				return ms_error_set(err, MS_EINVAL,
						    "file '%s' ends in the middle of its gzip "
						    "stream",
						    l->name);
			continue;
		}
		l->z.next_in = l->in + l->in_pos;
		l->z.avail_in = (uInt)(l->in_len - l->in_pos);
		l->z.next_out = (Bytef *)l->buf;
		l->z.avail_out = (uInt)IO_CHUNK;
		zr = inflate(&l->z, Z_NO_FLUSH);
		l->in_pos = l->in_len - l->z.avail_in;
		l->len = IO_CHUNK - l->z.avail_out;
		if (zr == Z_STREAM_END) {
			l->zend = 1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = ms_error_set(err, MS_EINVAL, "file '%s' is not valid gzip", l->name);
			ms_error_detail(err, "inflate: %s", l->z.msg ? l->z.msg : "error");
			return rc;
		}
	}
	return 0;
}

/*
 * The next line, without its newline (and a trailing CR), in *line / *len,
 * borrowed until the next call; *loff is its offset.  Returns 1 for a line,
 * 0 at the end.
 */
int snap_lsrc_line(lsrc *l, const char **line, size_t *len, uint64_t *loff, ms_error *err)
{
	uint64_t start = l->off;
	int carrying = 0, rc;

	ms_buf_reset(&l->carry);
	for (;;) {
		const char *p, *nl;
		size_t avail;

		if (l->pos == l->len) {
			if (l->eof)
				break;
			if ((rc = lsrc_fill(l, err)) < 0)
				return rc;
			continue;
		}
		p = l->buf + l->pos;
		avail = l->len - l->pos;
		nl = memchr(p, '\n', avail);
		if (nl) {
			size_t n = (size_t)(nl - p);

			l->pos += n + 1;
			l->off += n + 1;
			if (carrying) {
				if (ms_buf_add(&l->carry, p, n) < 0)
					goto toolong;
				p = l->carry.ptr;
				n = l->carry.len;
			}
			if (n > 0 && p[n - 1] == '\r')
				n--;
			*line = p;
			*len = n;
			*loff = start;
			return 1;
		}
		if (ms_buf_add(&l->carry, p, avail) < 0)
			goto toolong;
		carrying = 1;
		l->pos = l->len;
		l->off += avail;
	}
	if (carrying && l->carry.len > 0) {
		size_t n = l->carry.len;

		if (l->carry.ptr[n - 1] == '\r')
			n--;
		*line = l->carry.ptr;
		*len = n;
		*loff = start;
		return 1;
	}
	return 0;
toolong:
	return ms_error_set(err, MS_ETOOBIG,
			    "file '%s' has a line longer than %zu bytes at byte %llu", l->name,
			    LINE_MAX_BYTES, (unsigned long long)start);
}

/* Position at uncompressed offset target (never before the current one). */
int snap_lsrc_seek(lsrc *l, uint64_t target, ms_error *err)
{
	int rc;

	if (target == l->off)
		return 0;
	if (target - l->off <= l->len - l->pos) {
		l->pos += (size_t)(target - l->off);
		l->off = target;
		return 0;
	}
	if (!l->gz && !l->sha && l->r->seek) {
		if ((rc = ms_store_seek(l->r, target, err)) < 0)
			return rc;
		l->pos = l->len = 0;
		l->eof = 0;
		l->off = target;
		return 0;
	}
	while (l->off < target) {
		size_t n;

		if (l->pos == l->len) {
			if (l->eof)
				return ms_error_set(err, MS_EINTEGRITY,
						    "file '%s' ends before byte %llu", l->name,
						    (unsigned long long)target);
			if ((rc = lsrc_fill(l, err)) < 0)
				return rc;
			continue;
		}
		n = l->len - l->pos;
		if ((uint64_t)n > target - l->off)
			n = (size_t)(target - l->off);
		l->pos += n;
		l->off += n;
	}
	return 0;
}

int snap_is_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* Read what is left of the stored file, so that its SHA-256 is complete. */
int snap_lsrc_drain(lsrc *l, ms_error *err)
{
	void *buf = l->gz ? (void *)l->in : (void *)l->buf;
	size_t cap = l->gz ? GZ_CHUNK : IO_CHUNK, got;
	int rc;

	do {
		if ((rc = lsrc_raw(l, buf, cap, &got, err)) < 0)
			return rc;
	} while (got > 0);
	return 0;
}
