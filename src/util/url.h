/*
 * Catalog, store and bus addresses.  A URL is `scheme:rest`; `rest` starting
 * with `//` has an authority (`user:password@host:port`), then a path, then
 * an optional `?k=v&k2=v2` query.  A string with no scheme is a local path
 * (scheme "file").  The password is kept only in `password`; `redacted` is
 * the URL with its secrets replaced by `***` (see ms_url_redact), the only
 * form that may be printed.
 */
#ifndef MS_UTIL_URL_H
#define MS_UTIL_URL_H

#include <stddef.h>

#include "metasync/error.h"
#include "metasync/sys/url.h"

typedef struct ms_url_param {
	char *key;
	char *value;
} ms_url_param;

/* The whole URL, for the core; drivers outside the tree use metasync/sys/url.h. */
struct ms_url {
	char *scheme;   /* lowercase; "file" for plain paths */
	char *user;     /* NULL when absent; percent-decoded */
	char *password; /* NULL when absent; never print */
	char *host;     /* NULL when there is no authority */
	char *port;     /* NULL when absent */
	char *path;     /* percent-decoded for file:// and plain paths; "" when empty */
	char *raw_rest; /* everything after "scheme:" up to the query, undecoded */
	ms_url_param *params;
	size_t nparams;
	char *redacted; /* printable: secrets replaced by *** (ms_url_redact) */
};

/* Parse text into *out (new; free with ms_url_free). MS_EINVAL names the URL. */
int ms_url_parse(ms_url **out, const char *text, ms_error *err);
/* The value of one hex digit (either case), or -1 when c is none. */
int ms_hexval(int c);
void ms_url_free(ms_url *url);
/* A deep copy of src into *out (new; ms_url_free); MS_ENOMEM. */
int ms_url_copy(ms_url **out, const ms_url *src);
/*
 * A printable copy of any URL-like text with its secrets masked (new): the
 * password of the user info (and the whole user info of schemes where it is
 * a token, nats://), and the value of every query parameter whose name
 * speaks of a secret (password, sslpassword, token, secret...) or whose
 * value holds one (a connection string or URL with a password).
 */
char *ms_url_redact(const char *text);

/* A query parameter a scheme takes. */
typedef struct ms_url_param_rule {
	const char *key; /* NULL ends a list */
	size_t max_len;  /* longest value in bytes; 0: MS_URL_VALUE_MAX */
	int nonempty;    /* an empty value is refused */
} ms_url_param_rule;

#define MS_URL_VALUE_MAX 4096

/*
 * The one rule for every scheme's query parameters: each is one of rules
 * (NULL-key-terminated; NULL: none) or one that other(key) accepts (other
 * may be NULL), none is given twice, and values hold no control character
 * and keep within their length.  what names the URL in the one-line
 * MS_EINVAL message ("catalog url"); values are never printed.
 */
int ms_url_check_params(const ms_url *url, const char *what, const ms_url_param_rule *rules,
			int (*other)(const char *key), ms_error *err);

#endif
