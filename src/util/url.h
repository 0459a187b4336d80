/*
 * Catalog, store and bus addresses.  A URL is `scheme:rest`; `rest` starting
 * with `//` has an authority (`user:password@host:port`), then a path, then
 * an optional `?k=v&k2=v2` query.  A string with no scheme is a local path
 * (scheme "file").  The password is kept only in `password`; `redacted` is
 * the URL with it replaced by `***`, the only form that may be printed.
 */
#ifndef MS_UTIL_URL_H
#define MS_UTIL_URL_H

#include <stddef.h>

#include "metasync/error.h"

typedef struct ms_url_param {
	char *key;
	char *value;
} ms_url_param;

typedef struct ms_url {
	char *scheme;     /* lowercase; "file" for plain paths */
	char *user;       /* NULL when absent; percent-decoded */
	char *password;   /* NULL when absent; never print */
	char *host;       /* NULL when there is no authority */
	char *port;       /* NULL when absent */
	char *path;       /* percent-decoded for file:// and plain paths; "" when empty */
	char *raw_rest;   /* everything after "scheme:" up to the query, undecoded */
	ms_url_param *params;
	size_t nparams;
	char *redacted;   /* printable: password replaced by *** */
} ms_url;

/* Parse text into *out (new; free with ms_url_free). MS_EINVAL names the URL. */
int ms_url_parse(ms_url **out, const char *text, ms_error *err);
void ms_url_free(ms_url *url);
/* A deep copy of src into *out (new; ms_url_free); MS_ENOMEM. */
int ms_url_copy(ms_url **out, const ms_url *src);
/* Borrowed value of query parameter key, or NULL. */
const char *ms_url_param_get(const ms_url *url, const char *key);
/* A printable copy of any URL-like text with its password masked (new). */
char *ms_url_redact(const char *text);

#endif
