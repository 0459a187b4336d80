/*
 * The agent's YAML configuration.  libyaml's document API builds the node
 * tree (it keeps each node's line); this file walks it against a fixed
 * schema, one table of keys per mapping (with util/yaml_doc), and turns the
 * first thing that is wrong into one line `FILE:LINE: KEY: what is wrong`,
 * KEY being a path such as `targets[1].deletes` (list indexes count from 0).
 * Values of keys that hold URLs (catalog, bus) are never echoed; any other
 * echoed value goes through ms_url_redact, is cut short and loses its
 * control characters, so no message can carry a password or span two lines.
 */
#include "agent/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "util/buf.h"
#include "util/url.h"
#include "util/yaml_doc.h"

/* Larger files are refused: a config is a few kilobytes. */
#define CFG_MAX_BYTES (1u << 20)
#define CFG_MAX_ATTEMPTS 1000000

static int check_name(ms_yaml_doc *p, const yaml_node_t *node, const char *path)
{
	char buf[MS_YAML_SHOW_MAX + 4];

	if (!ms_yaml_is_plain_key(ms_yaml_scalar(node)))
		return ms_yaml_fail(p, ms_yaml_line(node), path,
				    "expected 1 to %d letters, digits, '_' or '-', got '%s'",
				    MS_YAML_NAME_MAX, ms_yaml_show(ms_yaml_scalar(node), buf));
	return 0;
}

static int check_rename(ms_yaml_doc *p, const yaml_node_t *node, const char *path)
{
	const char *v = ms_yaml_scalar(node), *eq = strchr(v, '=');
	char buf[MS_YAML_SHOW_MAX + 4];

	if (!eq || eq == v || !eq[1])
		return ms_yaml_fail(p, ms_yaml_line(node), path, "expected OLD=NEW, got '%s'",
				    ms_yaml_show(v, buf));
	return 0;
}

static int check_rewrite(ms_yaml_doc *p, const yaml_node_t *node, const char *path)
{
	const char *v = ms_yaml_scalar(node), *eq = strchr(v, '=');
	char buf[MS_YAML_SHOW_MAX + 4];

	if (!eq || eq == v)
		return ms_yaml_fail(p, ms_yaml_line(node), path, "expected FROM=TO, got '%s'",
				    ms_yaml_show(v, buf));
	return 0;
}

/* An integer scalar in [min, max]. */
static int get_integer(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, long long min,
		       long long max, long long *out)
{
	char kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	const char *s, *digits;
	long long v = 0;

	ms_yaml_join(kpath, path, k->name);
	if (k->value->type != YAML_SCALAR_NODE || ms_yaml_is_null(k->value))
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath, "expected an integer, got %s",
				    ms_yaml_type_name(k->value));
	s = ms_yaml_scalar(k->value);
	digits = *s == '-' || *s == '+' ? s + 1 : s;
	if (!*digits || strspn(digits, "0123456789") != strlen(digits))
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "expected an integer, got '%s'", ms_yaml_show(s, buf));
	for (; *digits; digits++) {
		if (v > (LLONG_MAX - 9) / 10)
			return ms_yaml_fail(p, ms_yaml_line(k->value), kpath, "'%s' is too large",
					    ms_yaml_show(s, buf));
		v = v * 10 + (*digits - '0');
	}
	if (*s == '-')
		v = -v;
	if (v < min)
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    min == 0 ? "must not be negative, got %lld"
					     : "must be at least 1, got %lld",
				    v);
	if (v > max)
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "must be at most %lld, got %lld", max, v);
	*out = v;
	return 0;
}

static int get_bool(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	char kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	size_t i;

	ms_yaml_join(kpath, path, k->name);
	if (k->value->type != YAML_SCALAR_NODE || ms_yaml_is_null(k->value))
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "expected true or false, got %s", ms_yaml_type_name(k->value));
	for (i = 0; i < 3; i++) {
		if (strcasecmp(ms_yaml_scalar(k->value), yes[i]) == 0 ||
		    strcasecmp(ms_yaml_scalar(k->value), no[i]) == 0) {
			*out = strcasecmp(ms_yaml_scalar(k->value), yes[i]) == 0;
			return 0;
		}
	}
	return ms_yaml_fail(p, ms_yaml_line(k->value), kpath, "expected true or false, got '%s'",
			    ms_yaml_show(ms_yaml_scalar(k->value), buf));
}

static int parse_schedule(ms_yaml_doc *p, yaml_node_t *node, ms_agent_source *src)
{
	ms_yaml_key keys[] = { { "interval", 0, NULL }, { "at", 0, NULL }, { NULL, 0, NULL } };
	const char *path = "source.schedule", *v;
	char buf[MS_YAML_SHOW_MAX + 4];
	int rc;

	if (ms_yaml_is_null(node) ||
	    (node->type == YAML_SCALAR_NODE && strcmp(ms_yaml_scalar(node), "none") == 0)) {
		src->schedule = MS_SCHEDULE_ON_DEMAND;
		return 0;
	}
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys, "interval or at")) < 0)
		return rc;
	if (keys[0].value && keys[1].value)
		return ms_yaml_fail(p, keys[1].line, path, "give interval or at, not both");
	if (!keys[0].value && !keys[1].value)
		return ms_yaml_fail(p, ms_yaml_line(node), path, "expected interval or at");
	if (keys[0].value) {
		yaml_node_t *n = keys[0].value;

		if (n->type != YAML_SCALAR_NODE || ms_yaml_is_null(n))
			return ms_yaml_fail(p, ms_yaml_line(n), "source.schedule.interval",
					    "expected a duration such as 90s, 15m, 24h or 7d, got "
					    "%s",
					    ms_yaml_type_name(n));
		v = ms_yaml_scalar(n);
		if (ms_parse_duration(v, &src->interval_seconds) < 0)
			return ms_yaml_fail(p, ms_yaml_line(n), "source.schedule.interval",
					    "expected a duration such as 90s, 15m, 24h or 7d, got "
					    "'%s'",
					    ms_yaml_show(v, buf));
		if (src->interval_seconds <= 0)
			return ms_yaml_fail(p, ms_yaml_line(n), "source.schedule.interval",
					    "must be longer than 0s");
		src->schedule = MS_SCHEDULE_INTERVAL;
		return 0;
	}
	{
		yaml_node_t *n = keys[1].value;
		int hh = 0, mm = 0;

		if (n->type != YAML_SCALAR_NODE || ms_yaml_is_null(n))
			return ms_yaml_fail(p, ms_yaml_line(n), "source.schedule.at",
					    "expected a time HH:MM (UTC), got %s",
					    ms_yaml_type_name(n));
		v = ms_yaml_scalar(n);
		if (strlen(v) != 5 || v[2] != ':' || strspn(v, "0123456789") != 2 ||
		    strspn(v + 3, "0123456789") != 2 ||
		    (hh = (v[0] - '0') * 10 + (v[1] - '0')) > 23 ||
		    (mm = (v[3] - '0') * 10 + (v[4] - '0')) > 59)
			return ms_yaml_fail(p, ms_yaml_line(n), "source.schedule.at",
					    "expected a time HH:MM (UTC), got '%s'",
					    ms_yaml_show(v, buf));
		src->schedule = MS_SCHEDULE_AT;
		src->at_minute = hh * 60 + mm;
	}
	return 0;
}

/* retention: { keep: N, keep_days: D } (either or both; a snapshot either keeps stays). */
static int parse_retention(ms_yaml_doc *p, yaml_node_t *node, ms_agent_source *src)
{
	ms_yaml_key keys[] = { { "keep", 0, NULL }, { "keep_days", 0, NULL }, { NULL, 0, NULL } };
	const char *path = "source.retention";
	long long v;
	int rc;

	if (ms_yaml_is_null(node))
		return 0;
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys, "keep or keep_days")) < 0)
		return rc;
	if (!keys[0].value && !keys[1].value)
		return ms_yaml_fail(p, ms_yaml_line(node), path,
				    "expected keep, keep_days or both");
	if (keys[0].value) {
		if ((rc = get_integer(p, &keys[0], path, 1, 1000000, &v)) < 0)
			return rc;
		src->keep = (unsigned long long)v;
	}
	if (keys[1].value) {
		if ((rc = get_integer(p, &keys[1], path, 1, 36500, &v)) < 0)
			return rc;
		src->keep_seconds = v * 86400;
	}
	return 0;
}

enum {
	S_NAME,
	S_CATALOG,
	S_DATABASES,
	S_STORE,
	S_COMPRESS,
	S_SCHEDULE,
	S_RETENTION,
	S_MODE,
	S_POLL,
	S_FULL_EVERY
};

/* mode, poll and full_every: how a live source follows its catalog's change feed. */
static int parse_live(ms_yaml_doc *p, ms_yaml_key *keys, ms_agent_source *src)
{
	char buf[MS_YAML_SHOW_MAX + 4];
	long long v;
	int rc;

	src->poll_ms = 100;
	src->full_every = 0;
	if (keys[S_MODE].value) {
		char *mode = NULL;

		if ((rc = ms_yaml_get_string(p, &keys[S_MODE], "source", 1, &mode)) < 0)
			return rc;
		src->live = strcmp(mode, "live") == 0;
		if (!src->live && strcmp(mode, "snapshots") != 0) {
			rc = ms_yaml_fail(p, keys[S_MODE].line, "source.mode",
					  "expected snapshots or live, got '%s'",
					  ms_yaml_show(mode, buf));
			free(mode);
			return rc;
		}
		free(mode);
	}
	if (!src->live && (keys[S_POLL].value || keys[S_FULL_EVERY].value))
		return ms_yaml_fail(p, keys[keys[S_POLL].value ? S_POLL : S_FULL_EVERY].line,
				    keys[S_POLL].value ? "source.poll" : "source.full_every",
				    "goes with mode: live");
	if (src->live && keys[S_SCHEDULE].value)
		return ms_yaml_fail(p, keys[S_SCHEDULE].line, "source.schedule",
				    "a live source exports as changes commit: give mode: live or a "
				    "schedule, not both");
	if (keys[S_POLL].value) {
		yaml_node_t *n = keys[S_POLL].value;

		if (n->type != YAML_SCALAR_NODE || ms_yaml_is_null(n) ||
		    ms_parse_duration_ms(ms_yaml_scalar(n), &src->poll_ms) < 0 ||
		    src->poll_ms < 1 || src->poll_ms > 3600000)
			return ms_yaml_fail(p, ms_yaml_line(n), "source.poll",
					    "expected a duration from 1ms to 1h such as 100ms or "
					    "2s");
	}
	if (keys[S_FULL_EVERY].value) {
		if ((rc = get_integer(p, &keys[S_FULL_EVERY], "source", 0, 1000000, &v)) < 0)
			return rc;
		src->full_every = (unsigned)v;
	}
	return 0;
}

static int parse_source(ms_yaml_doc *p, yaml_node_t *node, ms_agent_source **out)
{
	ms_yaml_key keys[] = { { "name", 0, NULL },      { "catalog", 0, NULL },
			       { "databases", 0, NULL }, { "store", 0, NULL },
			       { "compress", 0, NULL },  { "schedule", 0, NULL },
			       { "retention", 0, NULL }, { "mode", 0, NULL },
			       { "poll", 0, NULL },      { "full_every", 0, NULL },
			       { NULL, 0, NULL } };
	const char *path = "source";
	char buf[MS_YAML_SHOW_MAX + 4];
	ms_agent_source *src;
	int rc;

	if (!(src = calloc(1, sizeof(*src))))
		return ms_yaml_oom(p);
	*out = src;
	src->line = ms_yaml_line(node);
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys,
				       "name, catalog, databases, store, compress, schedule, "
				       "retention, mode, poll, full_every")) < 0)
		return rc;
	if (keys[S_NAME].value) {
		if ((rc = ms_yaml_get_string(p, &keys[S_NAME], path, 1, &src->name)) < 0 ||
		    (rc = check_name(p, keys[S_NAME].value, "source.name")) < 0)
			return rc;
	} else if (!(src->name = strdup("metasync"))) {
		return ms_yaml_oom(p);
	}
	if ((rc = ms_yaml_get_string(p, &keys[S_CATALOG], path, 1, &src->catalog)) < 0 ||
	    (rc = ms_yaml_get_string(p, &keys[S_DATABASES], path, 0, &src->databases)) < 0 ||
	    (rc = ms_yaml_get_string(p, &keys[S_STORE], path, 1, &src->store)) < 0 ||
	    (rc = ms_yaml_get_string(p, &keys[S_COMPRESS], path, 0, &src->compress)) < 0)
		return rc;
	if (!src->catalog)
		return ms_yaml_fail(p, src->line, "source.catalog",
				    "missing (the catalog URL to export)");
	if (!src->store)
		return ms_yaml_fail(p, src->line, "source.store",
				    "missing (the directory or s3:// prefix for snapshots)");
	if (src->compress && strcmp(src->compress, "none") == 0) {
		free(src->compress);
		src->compress = NULL;
	} else if (src->compress && strcmp(src->compress, "gzip") != 0) {
		return ms_yaml_fail(p, ms_yaml_line(keys[S_COMPRESS].value), "source.compress",
				    "expected gzip or none, got '%s'",
				    ms_yaml_show(src->compress, buf));
	}
	if (keys[S_SCHEDULE].value && (rc = parse_schedule(p, keys[S_SCHEDULE].value, src)) < 0)
		return rc;
	if (keys[S_RETENTION].value && (rc = parse_retention(p, keys[S_RETENTION].value, src)) < 0)
		return rc;
	return parse_live(p, keys, src);
}

enum {
	T_NAME,
	T_CATALOG,
	T_FOLLOW,
	T_DATABASES,
	T_DATABASE_PREFIX,
	T_TABLE_PREFIX,
	T_RENAMES,
	T_REWRITES,
	T_DELETES,
	T_MAX_DELETES,
	T_ADOPT,
	T_ALLOW_EMPTY,
	T_PRUNE,
	T_MAX_ATTEMPTS,
	T_ACK_WAIT,
	T_STORES
};

/* 1 when every character of s is in set and s is not empty. */
static int only(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/*
 * A store's url: a folder (an absolute path or file:///PATH) or
 * s3://BUCKET[/PREFIX], without a query, credentials or '.'/'..' segments.
 * The value is not echoed (it is a URL).
 */
static int check_store_url(ms_yaml_doc *p, int line, const char *path, const char *text, int *is_s3)
{
	ms_url *u = NULL;
	const char *seg;
	int rc = 0;

	if (ms_url_parse(&u, text, NULL) < 0)
		return ms_yaml_fail(p, line, path, "expected a folder or s3://BUCKET/PREFIX");
	*is_s3 = strcmp(u->scheme, "s3") == 0;
	if (!*is_s3 && strcmp(u->scheme, "file") != 0)
		rc = ms_yaml_fail(p, line, path, "scheme '%s' is not file or s3", u->scheme);
	else if (u->user || u->password)
		rc = ms_yaml_fail(p, line, path, "carries credentials; give a profile instead");
	else if (u->nparams || strchr(text, '?'))
		rc = ms_yaml_fail(p, line, path,
				  "has a query; give endpoint, region and profile as keys of the "
				  "entry");
	else if (*is_s3 && (!u->host || !only(u->host, "abcdefghijklmnopqrstuvwxyz0123456789-.")))
		rc = ms_yaml_fail(p, line, path,
				  "expected s3://BUCKET/PREFIX with a valid bucket name");
	else if (!*is_s3 && ((u->host && u->host[0]) || u->path[0] != '/'))
		rc = ms_yaml_fail(p, line, path, "a folder must be an absolute path");
	for (seg = u->path; rc == 0 && seg && *seg;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			rc = ms_yaml_fail(p, line, path, "has a '%.*s' segment", (int)n, seg);
		seg = end ? end + 1 : NULL;
	}
	ms_url_free(u);
	return rc;
}

/* One s3 setting of a store entry: a string of the characters in set. */
static int get_store_setting(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, int is_s3,
			     const char *set, const char *what, char **out)
{
	char kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	int rc;

	if (!k->value)
		return 0;
	ms_yaml_join(kpath, path, k->name);
	if ((rc = ms_yaml_get_string(p, k, path, 1, out)) < 0)
		return rc;
	if (!*out)
		return 0;
	if (!is_s3)
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "only an s3:// store has one");
	if (!only(*out, set))
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath, "expected %s, got '%s'", what,
				    ms_yaml_show(*out, buf));
	return 0;
}

enum { ST_URL, ST_ENDPOINT, ST_REGION, ST_PROFILE };

static int parse_store(ms_yaml_doc *p, yaml_node_t *node, const char *path, ms_agent_store *st)
{
	ms_yaml_key keys[] = { { "url", 0, NULL },
			       { "endpoint", 0, NULL },
			       { "region", 0, NULL },
			       { "profile", 0, NULL },
			       { NULL, 0, NULL } };
	char kpath[MS_YAML_PATH_MAX];
	int rc, is_s3 = 0;

	st->line = ms_yaml_line(node);
	if (node->type == YAML_SCALAR_NODE && !ms_yaml_is_null(node)) {
		if (!(st->url = strdup(ms_yaml_scalar(node))))
			return ms_yaml_oom(p);
		return check_store_url(p, st->line, path, st->url, &is_s3);
	}
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys, "url, endpoint, region, profile")) <
		    0 ||
	    (rc = ms_yaml_get_string(p, &keys[ST_URL], path, 1, &st->url)) < 0)
		return rc;
	ms_yaml_join(kpath, path, "url");
	if (!st->url)
		return ms_yaml_fail(p, st->line, kpath,
				    "missing (the store's folder or s3:// prefix)");
	if ((rc = check_store_url(p, keys[ST_URL].line, kpath, st->url, &is_s3)) < 0)
		return rc;
	if ((rc = get_store_setting(p, &keys[ST_ENDPOINT], path, is_s3, ALNUM ":/.-_[]",
				    "an http or https url such as http://127.0.0.1:9000",
				    &st->endpoint)) < 0 ||
	    (rc = get_store_setting(p, &keys[ST_REGION], path, is_s3, ALNUM "-",
				    "a region such as us-east-1", &st->region)) < 0 ||
	    (rc = get_store_setting(p, &keys[ST_PROFILE], path, is_s3, ALNUM "_.-",
				    "a profile name", &st->profile)) < 0)
		return rc;
	if (st->endpoint && strncmp(st->endpoint, "http://", 7) != 0 &&
	    strncmp(st->endpoint, "https://", 8) != 0) {
		ms_yaml_join(kpath, path, "endpoint");
		return ms_yaml_fail(p, ms_yaml_line(keys[ST_ENDPOINT].value), kpath,
				    "expected an http or https url such as http://127.0.0.1:9000");
	}
	return 0;
}

/* stores: a list of folders, s3:// prefixes, or mappings with url and its s3 settings. */
static int parse_stores(ms_yaml_doc *p, yaml_node_t *node, const char *tpath, ms_agent_target *t)
{
	char kpath[MS_YAML_PATH_MAX], ipath[MS_YAML_PATH_MAX + 24];
	yaml_node_item_t *it;
	size_t count;
	int rc;

	ms_yaml_join(kpath, tpath, "stores");
	if (node->type != YAML_SEQUENCE_NODE)
		return ms_yaml_fail(p, ms_yaml_line(node), kpath,
				    "expected a list of folders or s3:// prefixes, got %s",
				    ms_yaml_type_name(node));
	count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (!count)
		return ms_yaml_fail(p, ms_yaml_line(node), kpath,
				    "is empty: list at least one store, or leave the key out for "
				    "the default");
	if (!(t->stores = calloc(count, sizeof(*t->stores))))
		return ms_yaml_oom(p);
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(p->doc, *it);

		snprintf(ipath, sizeof(ipath), "%s[%zu]", kpath, t->nstores);
		if (!item || ms_yaml_is_null(item) || item->type == YAML_SEQUENCE_NODE)
			return ms_yaml_fail(p, ms_yaml_line(item ? item : node), ipath,
					    "expected a folder, an s3:// prefix or a mapping with "
					    "url, got %s",
					    item ? ms_yaml_type_name(item) : "nothing");
		t->nstores++;
		if ((rc = parse_store(p, item, ipath, &t->stores[t->nstores - 1])) < 0)
			return rc;
	}
	return 0;
}

static int check_follow(ms_yaml_doc *p, const yaml_node_t *node, const char *path)
{
	return check_name(p, node, path);
}

/*
 * The target's mapping as a whole, as the engine will read it (collisions
 * between renames, names a mapping may not make, location rules), the
 * error at the line of the key it concerns.
 */
static int check_mapping(ms_yaml_doc *p, ms_yaml_key *keys, const char *path,
			 const ms_agent_target *t)
{
	static const struct {
		const char *starts, *key;
		int index;
	} where[] = {
		{ "rename", "renames", T_RENAMES },
		{ "location rewrite", "location_rewrites", T_REWRITES },
		{ "database prefix", "database_prefix", T_DATABASE_PREFIX },
		{ "table prefix", "table_prefix", T_TABLE_PREFIX },
		{ "database selection", "databases", T_DATABASES },
		{ "pruning", "prune_unmapped", T_PRUNE },
	};
	char kpath[MS_YAML_PATH_MAX];
	ms_sync_options o;
	ms_error err;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.databases = t->databases;
	o.database_prefix = t->database_prefix;
	o.table_prefix = t->table_prefix;
	o.renames = (const char *const *)t->renames;
	o.nrenames = t->nrenames;
	o.location_rewrites = (const char *const *)t->location_rewrites;
	o.nrewrites = t->nrewrites;
	o.deletes = t->deletes;
	o.max_deletes = t->max_deletes;
	o.prune_unmapped = t->prune_unmapped;
	if (ms_sync_options_check(&o, &err) == 0)
		return 0;
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (strncmp(err.message, where[i].starts, strlen(where[i].starts)) == 0 &&
		    keys[where[i].index].value) {
			ms_yaml_join(kpath, path, where[i].key);
			return ms_yaml_fail(p, keys[where[i].index].line, kpath, "%s", err.message);
		}
	return ms_yaml_fail(p, t->line, path, "%s", err.message);
}

static int parse_target(ms_yaml_doc *p, yaml_node_t *node, size_t index, ms_agent_target *t)
{
	ms_yaml_key keys[] = { { "name", 0, NULL },
			       { "catalog", 0, NULL },
			       { "follow", 0, NULL },
			       { "databases", 0, NULL },
			       { "database_prefix", 0, NULL },
			       { "table_prefix", 0, NULL },
			       { "renames", 0, NULL },
			       { "location_rewrites", 0, NULL },
			       { "deletes", 0, NULL },
			       { "max_deletes", 0, NULL },
			       { "adopt", 0, NULL },
			       { "allow_empty_source", 0, NULL },
			       { "prune_unmapped", 0, NULL },
			       { "max_attempts", 0, NULL },
			       { "ack_wait", 0, NULL },
			       { "stores", 0, NULL },
			       { NULL, 0, NULL } };
	char path[MS_YAML_PATH_MAX], kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	long long v;
	int rc;

	snprintf(path, sizeof(path), "targets[%zu]", index);
	t->line = ms_yaml_line(node);
	t->deletes = MS_DELETES_NONE;
	t->max_deletes = -1;
	t->max_attempts = 5;
	t->ack_wait_seconds = 600;
	if ((rc = ms_yaml_walk_mapping(p, node, path, keys,
				       "name, catalog, follow, databases, database_prefix, "
				       "table_prefix, "
				       "renames, location_rewrites, deletes, max_deletes, adopt, "
				       "allow_empty_source, prune_unmapped, max_attempts, "
				       "ack_wait, "
				       "stores")) < 0)
		return rc;
	if ((rc = ms_yaml_get_string(p, &keys[T_NAME], path, 1, &t->name)) < 0)
		return rc;
	ms_yaml_join(kpath, path, "name");
	if (!t->name)
		return ms_yaml_fail(p, t->line, kpath,
				    "missing (every target needs a unique name)");
	if ((rc = check_name(p, keys[T_NAME].value, kpath)) < 0)
		return rc;
	if ((rc = ms_yaml_get_string(p, &keys[T_CATALOG], path, 1, &t->catalog)) < 0)
		return rc;
	if (!t->catalog) {
		ms_yaml_join(kpath, path, "catalog");
		return ms_yaml_fail(p, t->line, kpath, "missing (the catalog URL to import into)");
	}
	if ((rc = ms_yaml_get_list(p, &keys[T_FOLLOW], path, "source names", check_follow,
				   &t->follow, &t->nfollow)) < 0 ||
	    (rc = ms_yaml_get_string(p, &keys[T_DATABASES], path, 0, &t->databases)) < 0 ||
	    (rc = ms_yaml_get_string(p, &keys[T_DATABASE_PREFIX], path, 0, &t->database_prefix)) <
		    0 ||
	    (rc = ms_yaml_get_string(p, &keys[T_TABLE_PREFIX], path, 0, &t->table_prefix)) < 0 ||
	    (rc = ms_yaml_get_list(p, &keys[T_RENAMES], path, "OLD=NEW renames", check_rename,
				   &t->renames, &t->nrenames)) < 0 ||
	    (rc = ms_yaml_get_list(p, &keys[T_REWRITES], path, "FROM=TO rewrites", check_rewrite,
				   &t->location_rewrites, &t->nrewrites)) < 0)
		return rc;
	/* `follow: []` (an empty list, not a null) means no source; no follow key means all */
	t->follow_none = keys[T_FOLLOW].value && keys[T_FOLLOW].value->type == YAML_SEQUENCE_NODE &&
			 t->nfollow == 0;
	if (keys[T_DELETES].value) {
		yaml_node_t *n = keys[T_DELETES].value;

		ms_yaml_join(kpath, path, "deletes");
		if (n->type != YAML_SCALAR_NODE || ms_yaml_is_null(n))
			return ms_yaml_fail(p, ms_yaml_line(n), kpath,
					    "expected none or mirror, got %s",
					    ms_yaml_type_name(n));
		if (strcmp(ms_yaml_scalar(n), "mirror") == 0)
			t->deletes = MS_DELETES_MIRROR;
		else if (strcmp(ms_yaml_scalar(n), "none") != 0)
			return ms_yaml_fail(p, ms_yaml_line(n), kpath,
					    "expected none or mirror, got '%s'",
					    ms_yaml_show(ms_yaml_scalar(n), buf));
	}
	if (keys[T_MAX_DELETES].value && !ms_yaml_is_null(keys[T_MAX_DELETES].value)) {
		if ((rc = get_integer(p, &keys[T_MAX_DELETES], path, 0, LLONG_MAX,
				      &t->max_deletes)) < 0)
			return rc;
		/* a limit on deletes that never happen would only look like a guard */
		if (t->deletes != MS_DELETES_MIRROR) {
			ms_yaml_join(kpath, path, "max_deletes");
			return ms_yaml_fail(p, keys[T_MAX_DELETES].line, kpath,
					    "only with deletes: mirror (without it nothing is "
					    "deleted)");
		}
	}
	if (keys[T_ADOPT].value && (rc = get_bool(p, &keys[T_ADOPT], path, &t->adopt)) < 0)
		return rc;
	if (keys[T_ALLOW_EMPTY].value &&
	    (rc = get_bool(p, &keys[T_ALLOW_EMPTY], path, &t->allow_empty_source)) < 0)
		return rc;
	if (keys[T_PRUNE].value && (rc = get_bool(p, &keys[T_PRUNE], path, &t->prune_unmapped)) < 0)
		return rc;
	if (keys[T_MAX_ATTEMPTS].value) {
		if ((rc = get_integer(p, &keys[T_MAX_ATTEMPTS], path, 1, CFG_MAX_ATTEMPTS, &v)) < 0)
			return rc;
		t->max_attempts = (unsigned)v;
	}
	if (keys[T_ACK_WAIT].value) {
		yaml_node_t *n = keys[T_ACK_WAIT].value;

		ms_yaml_join(kpath, path, "ack_wait");
		if (n->type != YAML_SCALAR_NODE || ms_yaml_is_null(n) ||
		    ms_parse_duration(ms_yaml_scalar(n), &t->ack_wait_seconds) < 0 ||
		    t->ack_wait_seconds <= 0 || t->ack_wait_seconds > 86400)
			return ms_yaml_fail(p, ms_yaml_line(n), kpath,
					    "expected a duration from 1s to 1d such as 30s or 10m");
	}
	if (keys[T_STORES].value && (rc = parse_stores(p, keys[T_STORES].value, path, t)) < 0)
		return rc;
	return check_mapping(p, keys, path, t);
}

static int parse_targets(ms_yaml_doc *p, yaml_node_t *node, ms_agent_config *cfg)
{
	char kpath[MS_YAML_PATH_MAX], buf[MS_YAML_SHOW_MAX + 4];
	size_t count, i, j;
	int rc;

	if ((rc = ms_yaml_list(p, node, "targets", "targets", &count)) < 0 || !count)
		return rc;
	if (!(cfg->targets = calloc(count, sizeof(*cfg->targets))))
		return ms_yaml_oom(p);
	for (i = 0; i < count; i++) {
		yaml_node_t *item = ms_yaml_item(p, node, i);

		if (!item)
			return ms_yaml_fail(p, ms_yaml_line(node), "targets", "malformed list");
		cfg->ntargets = i + 1;
		if ((rc = parse_target(p, item, i, &cfg->targets[i])) < 0)
			return rc;
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->targets[j].name, cfg->targets[i].name) == 0) {
				snprintf(kpath, sizeof(kpath), "targets[%zu].name", i);
				return ms_yaml_fail(p, cfg->targets[i].line, kpath,
						    "duplicate target name '%s' (also at line %d)",
						    ms_yaml_show(cfg->targets[i].name, buf),
						    cfg->targets[j].line);
			}
		}
	}
	return 0;
}

/* "embedded:" + the directory of name + "/metasync-bus.db" (new). */
static char *default_bus(const char *name)
{
	const char *slash = strrchr(name, '/');
	ms_buf b = MS_BUF_INIT(PATH_MAX + 64);
	int rc;

	if (!slash)
		rc = ms_buf_adds(&b, "embedded:./metasync-bus.db");
	else if (slash == name)
		rc = ms_buf_adds(&b, "embedded:/metasync-bus.db");
	else
		rc = ms_buf_printf(&b, "embedded:%.*s/metasync-bus.db", (int)(slash - name), name);
	if (rc < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* "HOST:PORT" or "[V6]:PORT" with a port in 0..65535; the HTTP server checks the host. */
static int check_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	long port;
	char *end;

	if (!colon || colon == s || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno || port > 65535 ? -1 : 0;
}

enum { C_BUS, C_LISTEN, C_SOURCE, C_TARGETS };

static int parse_root(ms_yaml_doc *p, yaml_node_t *root, ms_agent_config *cfg)
{
	ms_yaml_key keys[] = { { "bus", 0, NULL },
			       { "listen", 0, NULL },
			       { "source", 0, NULL },
			       { "targets", 0, NULL },
			       { NULL, 0, NULL } };
	char buf[MS_YAML_SHOW_MAX + 4];
	int rc;

	if ((rc = ms_yaml_walk_mapping(p, root, "", keys, "bus, listen, source, targets")) < 0)
		return rc;
	if ((rc = ms_yaml_get_string(p, &keys[C_BUS], "", 0, &cfg->bus)) < 0 ||
	    (rc = ms_yaml_get_string(p, &keys[C_LISTEN], "", 0, &cfg->listen)) < 0)
		return rc;
	if (cfg->bus && !*cfg->bus)
		return ms_yaml_fail(p, keys[C_BUS].line, "bus", "must not be empty");
	if (cfg->listen && check_listen(cfg->listen) < 0)
		return ms_yaml_fail(p, ms_yaml_line(keys[C_LISTEN].value), "listen",
				    "expected HOST:PORT such as 127.0.0.1:9464, got '%s'",
				    ms_yaml_show(cfg->listen, buf));
	if (keys[C_SOURCE].value && !ms_yaml_is_null(keys[C_SOURCE].value) &&
	    (rc = parse_source(p, keys[C_SOURCE].value, &cfg->source)) < 0)
		return rc;
	if (keys[C_TARGETS].value && (rc = parse_targets(p, keys[C_TARGETS].value, cfg)) < 0)
		return rc;
	if (!cfg->source && !cfg->ntargets)
		return ms_yaml_fail(p, ms_yaml_line(root), NULL,
				    "nothing to do: the file has neither a source nor targets");
	if (!cfg->bus && !(cfg->bus = default_bus(cfg->path)))
		return ms_yaml_oom(p);
	return 0;
}

int ms_agent_config_parse(const char *name, const char *text, size_t len, ms_agent_config **out,
			  ms_error *err)
{
	ms_yaml_doc p = { name ? name : "<config>", NULL, err };
	yaml_document_t doc;
	yaml_node_t *root;
	ms_agent_config *cfg = NULL;
	int rc;

	if (!(cfg = calloc(1, sizeof(*cfg))) || !(cfg->path = strdup(p.name))) {
		ms_agent_config_free(cfg);
		return ms_yaml_oom(&p);
	}
	if ((rc = ms_yaml_load(&p, text, len, CFG_MAX_BYTES, "bus, listen, source, targets", &doc,
			       &root)) < 0) {
		ms_agent_config_free(cfg);
		return rc;
	}
	p.doc = &doc;
	if ((rc = parse_root(&p, root, cfg)) == 0) {
		*out = cfg;
		cfg = NULL;
	}
	yaml_document_delete(&doc);
	ms_agent_config_free(cfg);
	return rc;
}

int ms_agent_config_load(const char *path, ms_agent_config **out, ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX], *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!(f = fopen(path, "rb")))
		return ms_error_set(err, errno == ENOENT ? MS_ENOTFOUND : MS_EIO,
				    "cannot read config '%s': %s", path, strerror(errno));
	snprintf(what, sizeof(what), "config '%s'", path);
	rc = ms_yaml_read_file(f, what, CFG_MAX_BYTES, &text, &len, err);
	fclose(f);
	if (rc == 0)
		rc = ms_agent_config_parse(path, text, len, out, err);
	free(text);
	return rc;
}

static void free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void ms_agent_config_free(ms_agent_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	if (cfg->source) {
		free(cfg->source->name);
		free(cfg->source->catalog);
		free(cfg->source->databases);
		free(cfg->source->store);
		free(cfg->source->compress);
		free(cfg->source);
	}
	for (i = 0; i < cfg->ntargets; i++) {
		ms_agent_target *t = &cfg->targets[i];

		free(t->name);
		free(t->catalog);
		free_list(t->follow, t->nfollow);
		free(t->databases);
		free(t->database_prefix);
		free(t->table_prefix);
		free_list(t->renames, t->nrenames);
		free_list(t->location_rewrites, t->nrewrites);
		for (size_t j = 0; j < t->nstores; j++) {
			free(t->stores[j].url);
			free(t->stores[j].endpoint);
			free(t->stores[j].region);
			free(t->stores[j].profile);
		}
		free(t->stores);
	}
	free(cfg->targets);
	free(cfg->path);
	free(cfg->bus);
	free(cfg->listen);
	free(cfg);
}
