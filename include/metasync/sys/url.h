/*
 * For driver authors: the parsed URL a driver's open function receives.
 *
 * The core parses the URL the user gave, checks its query parameters against
 * the scheme's rules (see each registry.c), and hands the driver a read-only
 * view: every string below is borrowed from the URL, lives until the open
 * function returns, and must be copied by a driver that keeps it.  Only
 * ms_url_redacted may appear in a message, a log line, a report or anything
 * the driver writes; a catalog's identity must never derive from the user,
 * the password or a secret query parameter.
 */
#ifndef METASYNC_SYS_URL_H
#define METASYNC_SYS_URL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_url ms_url;

/* Lowercase; "file" for a plain path.  Never NULL. */
const char *ms_url_scheme(const ms_url *url);
/* The user of the authority, percent-decoded, or NULL. */
const char *ms_url_user(const ms_url *url);
/* The password of the authority, percent-decoded, or NULL.  Never print it. */
const char *ms_url_password(const ms_url *url);
/* The host, or NULL when the URL has no authority (`sqlite:/path`). */
const char *ms_url_host(const ms_url *url);
/* The port as written, or NULL. */
const char *ms_url_port(const ms_url *url);
/* The path: percent-decoded for file:// and plain paths; "" when empty.  Never NULL. */
const char *ms_url_path(const ms_url *url);
/* The value of query parameter key (each is given at most once), or NULL. */
const char *ms_url_param_get(const ms_url *url, const char *key);
/* The URL with its secrets masked (`***`): the only printable form.  Never NULL. */
const char *ms_url_redacted(const ms_url *url);

#ifdef __cplusplus
}
#endif
#endif
