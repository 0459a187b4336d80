/*
 * Checking a small YAML file (libyaml's document API) against a fixed
 * schema, shared by the agent's config and the server's accounts file.
 * Every failure is one line `FILE:LINE: KEY: what is wrong`, KEY being a
 * path such as `targets[1].deletes` (list indexes count from 0); values are
 * echoed only through ms_yaml_show, so no message spans two lines.
 */
#ifndef MS_UTIL_YAML_DOC_H
#define MS_UTIL_YAML_DOC_H

#include <stddef.h>
#include <stdio.h>

#include <yaml.h>

#include "metasync/error.h"

/* Longest key path and echoed value in a message; longest echoed key name. */
#define MS_YAML_PATH_MAX 160
#define MS_YAML_SHOW_MAX 64
#define MS_YAML_NAME_MAX 64

/* One file being checked. */
typedef struct ms_yaml_doc {
	const char *name; /* file name used in messages (borrowed) */
	yaml_document_t *doc;
	ms_error *err;
} ms_yaml_doc;

/* One entry of a mapping's schema: keys[] ends with a NULL name. */
typedef struct ms_yaml_key {
	const char *name;
	int line;           /* where it was seen; 0 = not yet */
	yaml_node_t *value; /* borrowed from the document */
} ms_yaml_key;

/* The 1-based line where node starts (1 for NULL). */
int ms_yaml_line(const yaml_node_t *node);

/* MS_EINVAL with `NAME:LINE: KEY: what` (no KEY part when key is NULL or ""). */
int ms_yaml_fail(ms_yaml_doc *p, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* MS_ENOMEM naming the file. */
int ms_yaml_oom(ms_yaml_doc *p);

/*
 * A printable form of text from the file for a message: URL password
 * masked, control characters as '?', at most MS_YAML_SHOW_MAX bytes then
 * "...".  out has MS_YAML_SHOW_MAX + 4 bytes; returns out.
 */
const char *ms_yaml_show(const char *text, char *out);

/* A scalar node's text (borrowed). */
const char *ms_yaml_scalar(const yaml_node_t *node);
/* 1 for a plain scalar "", "~" or "null" (any case form YAML allows). */
int ms_yaml_is_null(const yaml_node_t *node);
/* "nothing", "a string", "a list" or "a mapping", for messages. */
const char *ms_yaml_type_name(const yaml_node_t *node);
/* 1 when s is 1 to MS_YAML_NAME_MAX of [A-Za-z0-9_-]: such a key may be echoed. */
int ms_yaml_is_plain_key(const char *s);
/* out (MS_YAML_PATH_MAX bytes) = base.key, or key when base is empty. */
void ms_yaml_join(char *out, const char *base, const char *key);

/*
 * Check that node is a mapping whose keys are all in keys, each at most
 * once, and record each key's line and value.  expected lists the keys for
 * the message ("id, keys").
 */
int ms_yaml_walk_mapping(ms_yaml_doc *p, yaml_node_t *node, const char *path, ms_yaml_key *keys,
			 const char *expected);

/*
 * A string value (new, in *out; left as is when the key is absent or null).
 * required: null and "" are errors.  The value is never echoed.
 */
int ms_yaml_get_string(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, int required,
		       char **out);

/*
 * A list of strings (new, in *out / *n, left NULL / 0 when absent, null or
 * empty); check(item) validates each entry before it is kept.
 */
int ms_yaml_get_list(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, const char *what,
		     int (*check)(ms_yaml_doc *, const yaml_node_t *, const char *), char ***out,
		     size_t *n);

/*
 * How many items the list node under path has, in *count (0 for a null or
 * an empty list); anything else is "expected a list of WHAT, got ...".
 * Then ms_yaml_item(p, node, i) for each i < *count.
 */
int ms_yaml_list(ms_yaml_doc *p, const yaml_node_t *node, const char *path, const char *what,
		 size_t *count);
/* Item i of a list ms_yaml_list counted (borrowed); NULL only in a malformed document. */
yaml_node_t *ms_yaml_item(ms_yaml_doc *p, const yaml_node_t *list, size_t i);

/*
 * Parse text (at most max bytes) as exactly one YAML document into *doc,
 * which the caller deletes with yaml_document_delete on success only; its
 * root in *root.  An empty file is an error that lists expected (the keys
 * at the top); so are a syntax error and a second document.
 */
int ms_yaml_load(ms_yaml_doc *p, const char *text, size_t len, size_t max, const char *expected,
		 yaml_document_t *doc, yaml_node_t **root);

/*
 * Read an open file whole (at most max bytes) into a new NUL-terminated
 * *out of *len bytes; what names it in messages ("config 'agent.yaml'").
 * Does not close f.
 */
int ms_yaml_read_file(FILE *f, const char *what, size_t max, char **out, size_t *len,
		      ms_error *err);

#endif
