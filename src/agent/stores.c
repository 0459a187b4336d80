/*
 * A target's stores: the check that stands between an event's snapshot URL
 * and the import.  An event is data from the bus; what it names is opened
 * only if the target's configuration accepts that place, and it is opened
 * the way the configuration says (for s3, the endpoint, region and profile
 * of the matching `stores:` entry, which an event cannot carry).  Matching
 * is by whole path components of the parsed URLs, so "s3://b/exports" never
 * accepts "s3://b/exports-old", and in a folder every component below the
 * store is checked not to be a symbolic link (the file store then refuses
 * links inside the snapshot itself).
 */
#include "agent/stores.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/url.h"

/* Longest text of a URL built here. */
#define OPEN_URL_MAX ((size_t)16 << 10)

/* A store or snapshot location split for matching. */
typedef struct place {
	ms_url *url; /* owned; parsed */
	int s3;
	char *bucket; /* owned; "" for folders */
	char *path;   /* owned; components joined by one '/', none at either end */
} place;

static void place_free(place *pl)
{
	ms_url_free(pl->url);
	free(pl->bucket);
	free(pl->path);
	memset(pl, 0, sizeof(*pl));
}

/* The components of p joined by single slashes (new). */
static char *components(const char *p)
{
	char *out = malloc(strlen(p) + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (o > out)
			*o++ = '/';
		while (*p && *p != '/')
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* 0, MS_EINVAL (not a file or s3 URL), MS_ENOMEM. */
static int place_of(const char *text, place *pl)
{
	memset(pl, 0, sizeof(*pl));
	if (ms_url_parse(&pl->url, text, NULL) < 0)
		return MS_EINVAL;
	pl->s3 = strcmp(pl->url->scheme, "s3") == 0;
	if (!pl->s3 && strcmp(pl->url->scheme, "file") != 0) {
		place_free(pl);
		return MS_EINVAL;
	}
	pl->bucket = strdup(pl->s3 && pl->url->host ? pl->url->host : "");
	pl->path = components(pl->url->path);
	if (!pl->bucket || !pl->path) {
		place_free(pl);
		return MS_ENOMEM;
	}
	return 0;
}

/* 1 when snap lies in store (the same place, or below it by whole components). */
static int inside(const place *store, const place *snap)
{
	size_t n = strlen(store->path);

	if (store->s3 != snap->s3 || strcmp(store->bucket, snap->bucket) != 0)
		return 0;
	return n == 0 || (strncmp(snap->path, store->path, n) == 0 &&
			  (snap->path[n] == '\0' || snap->path[n] == '/'));
}

/*
 * In a folder, refuse a symbolic link at any component of snap below store
 * (the store itself is the configuration's, and may be one).
 */
static int check_links(const place *store, const place *snap, const char *shown, ms_error *err)
{
	ms_buf b = MS_BUF_INIT(OPEN_URL_MAX);
	const char *rest = snap->path + strlen(store->path);
	struct stat sb;
	int rc = 0;

	if (store->s3)
		return 0;
	if (*rest == '/')
		rest++;
	if (ms_buf_addc(&b, '/') < 0 || ms_buf_adds(&b, store->path) < 0)
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	while (rc == 0 && *rest) {
		const char *end = strchr(rest, '/');
		size_t n = end ? (size_t)(end - rest) : strlen(rest);

		if ((b.len > 1 && ms_buf_addc(&b, '/') < 0) || ms_buf_add(&b, rest, n) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			break;
		}
		if (lstat(b.ptr, &sb) < 0)
			break; /* not there: the import says so */
		if (S_ISLNK(sb.st_mode))
			rc = ms_error_set(err, MS_EREFUSED,
					  "snapshot '%s' is refused: '%s' is a symbolic link",
					  shown, b.ptr);
		rest += n;
		if (*rest == '/')
			rest++;
	}
	ms_buf_free(&b);
	return rc;
}

/* Append "?k=v" or "&k=v", the value encoded as store URLs want it. */
static int add_param(ms_buf *b, const char *key, const char *value)
{
	const char *p;
	int rc = ms_buf_printf(b, "%c%s=", b->ptr && strchr(b->ptr, '?') ? '&' : '?', key);

	for (p = value; rc == 0 && *p; p++)
		rc = strchr("%&#?+ ", *p) ? ms_buf_printf(b, "%%%02X", (unsigned char)*p)
					  : ms_buf_addc(b, *p);
	return rc;
}

/* The snapshot's URL with the given parameters (NULL values left out), new. */
static char *open_url_of(const char *url, const char *const *keys, const char *const *values,
			 size_t n)
{
	ms_buf b = MS_BUF_INIT(OPEN_URL_MAX);
	size_t i;
	int rc = ms_buf_adds(&b, url);

	for (i = 0; rc == 0 && i < n; i++)
		if (values[i])
			rc = add_param(&b, keys[i], values[i]);
	if (rc < 0 || !b.ptr) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* 1 when name looks like a snapshot id: 2026-01-02-03-04-05, maybe -N after. */
static int is_snapshot_id(const char *name)
{
	static const char shape[] = "dddd-dd-dd-dd-dd-dd";
	size_t i;

	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)name[i]) : name[i] != '-')
			return 0;
	if (!name[i])
		return 1;
	if (name[i] != '-' || !name[i + 1])
		return 0;
	for (i++; name[i]; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	return 1;
}

/* With stores: the longest entry url lies in. */
static int accept_listed(const ms_agent_target *t, const place *snap, const char *url,
			 const char *shown, char **open_url, ms_error *err)
{
	static const char *const keys[] = { "endpoint", "region", "profile" };
	const ms_agent_store *best = NULL;
	place store, best_place = { 0 };
	ms_buf names = MS_BUF_INIT(256);
	size_t i;
	int rc = 0;

	for (i = 0; i < t->nstores && rc == 0; i++) {
		if ((rc = place_of(t->stores[i].url, &store)) < 0) {
			if (rc == MS_EINVAL)
				rc = 0; /* the config's check lets none through */
			continue;
		}
		if (inside(&store, snap) &&
		    (!best || strlen(store.path) > strlen(best_place.path))) {
			place_free(&best_place);
			best_place = store;
			best = &t->stores[i];
		} else {
			place_free(&store);
		}
		ms_buf_printf(&names, "%s%s", i ? ", " : "", t->stores[i].url);
	}
	if (rc == MS_ENOMEM) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	} else if (!best) {
		rc = ms_error_set(err, MS_EREFUSED,
				  "snapshot '%s' is refused: it is in none of the stores target "
				  "'%s' "
				  "accepts (%s)",
				  shown, t->name, names.ptr ? names.ptr : "");
	} else if ((rc = check_links(&best_place, snap, shown, err)) == 0) {
		const char *values[] = { best->endpoint, best->region, best->profile };

		if (!(*open_url = open_url_of(url, keys, values, 3)))
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	place_free(&best_place);
	ms_buf_free(&names);
	return rc;
}

/* Without stores, for the source this file defines: its store, opened as it is written. */
static int accept_own_source(const ms_agent_source *src, const place *snap, const char *url,
			     const char *shown, char **open_url, ms_error *err)
{
	const char **keys = NULL, **values = NULL;
	place store;
	char *where;
	size_t i;
	int rc = place_of(src->store, &store);

	if (rc == MS_ENOMEM)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (rc < 0 || !inside(&store, snap)) {
		where = ms_url_redact(src->store);
		rc = ms_error_set(err, MS_EREFUSED,
				  "snapshot '%s' is refused: source '%s' exports to '%s', not "
				  "there",
				  shown, src->name, where ? where : "?");
		free(where);
		goto done;
	}
	if ((rc = check_links(&store, snap, shown, err)) < 0)
		goto done;
	keys = calloc(store.url->nparams + 1, sizeof(*keys));
	values = calloc(store.url->nparams + 1, sizeof(*values));
	for (i = 0; keys && values && i < store.url->nparams; i++) {
		keys[i] = store.url->params[i].key;
		values[i] = store.url->params[i].value;
	}
	if (!keys || !values || !(*open_url = open_url_of(url, keys, values, store.url->nparams)))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	free(keys);
	free(values);
	place_free(&store);
	return rc;
}

/* Without stores, for other sources: a snapshot folder in the store its parent is. */
static int accept_announced(const place *snap, const char *url, const char *shown, char **open_url,
			    ms_error *err)
{
	const char *last = strrchr(snap->path, '/');
	place store = { 0 };
	int rc;

	last = last ? last + 1 : snap->path;
	if (!is_snapshot_id(last))
		return ms_error_set(err, MS_EREFUSED,
				    "snapshot '%s' is refused: it does not name a snapshot folder "
				    "(STORE/YYYY-MM-DD-HH-MM-SS); list its store under the "
				    "target's "
				    "stores: to accept it",
				    shown);
	store.s3 = snap->s3;
	store.bucket = snap->bucket;
	store.path = strndup(snap->path, last > snap->path ? (size_t)(last - snap->path - 1) : 0);
	if (!store.path)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	rc = check_links(&store, snap, shown, err);
	free(store.path);
	if (rc == 0 && !(*open_url = strdup(url)))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	return rc;
}

int ms_agent_accept_snapshot(const ms_agent_config *cfg, const ms_agent_target *t,
			     const char *source_name, const char *url, char **open_url,
			     ms_error *err)
{
	char *shown = ms_url_redact(url);
	place snap;
	int rc;

	*open_url = NULL;
	if (!shown)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if ((rc = place_of(url, &snap)) < 0) {
		rc = rc == MS_ENOMEM
			     ? ms_error_set(err, MS_ENOMEM, "out of memory")
			     : ms_error_set(err, MS_EREFUSED,
					    "snapshot '%s' is refused: not a folder or s3 url",
					    shown);
		free(shown);
		return rc;
	}
	if (t->nstores)
		rc = accept_listed(t, &snap, url, shown, open_url, err);
	else if (cfg->source && source_name && strcmp(cfg->source->name, source_name) == 0)
		rc = accept_own_source(cfg->source, &snap, url, shown, open_url, err);
	else
		rc = accept_announced(&snap, url, shown, open_url, err);
	place_free(&snap);
	free(shown);
	return rc;
}
