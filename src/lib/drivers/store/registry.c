/*
 * The store scheme table and the public dispatch functions, plus the two
 * whole-object conveniences every snapshot reader and writer needs.
 */
#include <stdlib.h>
#include <string.h>

#include "metasync/sys/store.h"
#include "util/buf.h"
#include "util/url.h"

int ms_file_store_open(ms_store **out, const ms_url *url, ms_error *err);
int ms_s3_store_open(ms_store **out, const ms_url *url, ms_error *err);

static const ms_url_param_rule s3_params[] = {
	{ "region", 64, 1 },     { "endpoint", 2048, 1 }, { "profile", 128, 1 },
	{ "addressing", 16, 1 }, { "part-size", 16, 1 },  { "parallel", 8, 1 },
	{ "attempts", 8, 1 },    { "timeout", 8, 1 },     { NULL, 0, 0 },
};

/* One row per scheme: the driver and the query parameters it takes. */
static const struct {
	const char *scheme;
	ms_store_open_fn open;
	const ms_url_param_rule *params;
} store_schemes[] = {
	{ "file", ms_file_store_open, NULL },
	{ "s3", ms_s3_store_open, s3_params },
};

int ms_store_check_driver(const ms_store_driver *d, const char *url, ms_error *err)
{
	const char *n = d && d->name ? d->name : "?";

	if (!d || d->version != MS_STORE_DRIVER_VERSION)
		return ms_error_set(err, MS_EINVAL,
				    "store driver '%s' of '%s' is built for driver interface %u, "
				    "this "
				    "library's is %d",
				    n, url, d ? d->version : 0, MS_STORE_DRIVER_VERSION);
	if (!d->name || !*d->name || !d->close || !d->put_open || !d->get_open || !d->list ||
	    !d->stat)
		return ms_error_set(err, MS_EINVAL,
				    "store driver '%s' of '%s' lacks a required slot (name, close, "
				    "put_open, get_open, list, stat)",
				    n, url);
	if (!d->lock != !d->unlock)
		return ms_error_set(err, MS_EINVAL,
				    "store driver '%s' of '%s' has one of lock and unlock", n, url);
	return 0;
}

/* The driver's store, checked (closed and refused when its driver breaks the contract). */
static int open_checked(size_t row, ms_store **out, const ms_url *u, ms_error *err)
{
	ms_store *st = NULL;
	int rc;

	if ((rc = store_schemes[row].open(&st, u, err)) < 0)
		return rc;
	if ((rc = ms_store_check_driver(st->driver, u->redacted, err)) < 0) {
		if (st->driver && st->driver->close)
			st->driver->close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int ms_store_open(ms_store **out, const char *url, ms_error *err)
{
	ms_url *u = NULL;
	size_t i;
	int rc;

	if ((rc = ms_url_parse(&u, url, err)) < 0)
		return rc;
	for (i = 0; i < sizeof(store_schemes) / sizeof(store_schemes[0]); i++) {
		if (strcmp(store_schemes[i].scheme, u->scheme) == 0) {
			rc = ms_url_check_params(u, "store url", store_schemes[i].params, NULL,
						 err);
			if (rc == 0)
				rc = open_checked(i, out, u, err);
			ms_url_free(u);
			return rc;
		}
	}
	rc = ms_error_set(err, MS_EINVAL, "unknown store url scheme '%s' in '%s'", u->scheme,
			  u->redacted);
	ms_url_free(u);
	return rc;
}

void ms_store_close(ms_store *st)
{
	if (st && st->driver->close)
		st->driver->close(st);
}

const char *ms_store_url(const ms_store *st)
{
	return st->url;
}

int ms_store_put_open(ms_store *st, const char *key, ms_store_writer **out, ms_error *err)
{
	return st->driver->put_open(st, key, out, err);
}

int ms_store_write(ms_store_writer *w, const void *data, size_t len, ms_error *err)
{
	return w->write(w, data, len, err);
}

int ms_store_commit(ms_store_writer *w, ms_error *err)
{
	return w->commit(w, err);
}

void ms_store_abort(ms_store_writer *w)
{
	if (w)
		w->abort(w);
}

int ms_store_get_open(ms_store *st, const char *key, ms_store_reader **out, ms_error *err)
{
	return st->driver->get_open(st, key, out, err);
}

int ms_store_read(ms_store_reader *r, void *buf, size_t len, size_t *got, ms_error *err)
{
	return r->read(r, buf, len, got, err);
}

int ms_store_seek(ms_store_reader *r, unsigned long long offset, ms_error *err)
{
	if (!r->seek)
		return ms_error_set(err, MS_ENOTSUPPORTED, "store reader cannot seek");
	return r->seek(r, offset, err);
}

void ms_store_reader_close(ms_store_reader *r)
{
	if (r)
		r->close(r);
}

int ms_store_list(ms_store *st, const char *prefix, ms_store_list_cb cb, void *ctx, ms_error *err)
{
	return st->driver->list(st, prefix, cb, ctx, err);
}

int ms_store_stat_key(ms_store *st, const char *key, ms_store_stat *out, ms_error *err)
{
	return st->driver->stat(st, key, out, err);
}

int ms_store_remove(ms_store *st, const char *key, ms_error *err)
{
	if (!st->driver->remove)
		return ms_error_set(err, MS_ENOTSUPPORTED, "store '%s' cannot delete", st->url);
	return st->driver->remove(st, key, err);
}

int ms_store_put_bytes(ms_store *st, const char *key, const void *data, size_t len, ms_error *err)
{
	ms_store_writer *w = NULL;
	int rc;

	if ((rc = ms_store_put_open(st, key, &w, err)) < 0)
		return rc;
	if ((rc = ms_store_write(w, data, len, err)) < 0) {
		ms_store_abort(w);
		return rc;
	}
	return ms_store_commit(w, err);
}

int ms_store_get_bytes(ms_store *st, const char *key, size_t cap, char **out, size_t *len,
		       ms_error *err)
{
	ms_store_reader *r = NULL;
	ms_buf b = MS_BUF_INIT(cap);
	char chunk[65536];
	size_t got;
	int rc;

	if ((rc = ms_store_get_open(st, key, &r, err)) < 0)
		return rc;
	for (;;) {
		if ((rc = ms_store_read(r, chunk, sizeof(chunk), &got, err)) < 0)
			goto done;
		if (got == 0)
			break;
		if ((rc = ms_buf_add(&b, chunk, got)) < 0) {
			rc = ms_error_set(err, rc, "object '%s' in '%s' is larger than %zu bytes",
					  key, st->url, cap);
			goto done;
		}
	}
	*len = b.len;
	*out = ms_buf_detach(&b);
	rc = 0;
done:
	ms_store_reader_close(r);
	ms_buf_free(&b);
	return rc;
}

/* sys/store.h */
int ms_store_check_key(const char *key, size_t max, int allow_prefix, ms_error *err)
{
	const char *p, *comp;
	size_t n = strlen(key);

	if (n == 0) {
		if (allow_prefix)
			return 0;
		return ms_error_set(err, MS_EINVAL, "store key is empty");
	}
	if (n > max)
		return ms_error_set(err, MS_EINVAL, "store key '%.64s...' is longer than %zu bytes",
				    key, max);
	if (key[0] == '/')
		return ms_error_set(err, MS_EINVAL, "store key '%s' is absolute", key);
	for (p = key; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ms_error_set(err, MS_EINVAL,
					    "store key contains a control character");
		if (*p == '\\')
			return ms_error_set(err, MS_EINVAL, "store key '%s' contains a backslash",
					    key);
	}
	comp = key;
	for (;;) {
		const char *slash = strchr(comp, '/');
		size_t len = slash ? (size_t)(slash - comp) : strlen(comp);
		int last = slash == NULL;

		if (len == 0 && !(last && allow_prefix))
			return ms_error_set(err, MS_EINVAL, "store key '%s' has an empty component",
					    key);
		if ((len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
			if (!(last && allow_prefix && len == 1))
				return ms_error_set(err, MS_EINVAL,
						    "store key '%s' has a '%.*s' component", key,
						    (int)len, comp);
		if (len >= sizeof(MS_STORE_TMP_PREFIX) - 1 &&
		    memcmp(comp, MS_STORE_TMP_PREFIX, sizeof(MS_STORE_TMP_PREFIX) - 1) == 0)
			return ms_error_set(err, MS_EINVAL,
					    "store key '%s' uses the reserved prefix "
					    "'" MS_STORE_TMP_PREFIX "'",
					    key);
		if (last)
			break;
		comp = slash + 1;
	}
	return 0;
}
