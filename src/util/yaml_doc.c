/*
 * The part of checking a YAML file that does not depend on its schema:
 * loading exactly one document with a bounded size, walking a mapping
 * against a table of keys, reading strings and lists of strings, and
 * turning the first thing that is wrong into one `FILE:LINE: KEY:` line.
 * The agent's config and the server's accounts file both use it, so that
 * the two files fail in the same words.
 */
#include "util/yaml_doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/url.h"

int ms_yaml_line(const yaml_node_t *node)
{
	return node ? (int)node->start_mark.line + 1 : 1;
}

int ms_yaml_fail(ms_yaml_doc *p, int line, const char *key, const char *fmt, ...)
{
	char what[MS_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (key && *key)
		return ms_error_set(p->err, MS_EINVAL, "%s:%d: %s: %s", p->name, line, key, what);
	return ms_error_set(p->err, MS_EINVAL, "%s:%d: %s", p->name, line, what);
}

int ms_yaml_oom(ms_yaml_doc *p)
{
	return ms_error_set(p->err, MS_ENOMEM, "%s: out of memory", p->name);
}

const char *ms_yaml_show(const char *text, char *out)
{
	char *red = ms_url_redact(text);
	const char *src = red ? red : "";
	size_t i, n = strlen(src);

	for (i = 0; i < n && i < MS_YAML_SHOW_MAX; i++)
		out[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	out[i] = '\0';
	if (n > MS_YAML_SHOW_MAX)
		strcat(out, "...");
	free(red);
	return out;
}

const char *ms_yaml_scalar(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

int ms_yaml_is_null(const yaml_node_t *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(ms_yaml_scalar(node), nulls[i]) == 0)
			return 1;
	return 0;
}

const char *ms_yaml_type_name(const yaml_node_t *node)
{
	if (ms_yaml_is_null(node))
		return "nothing";
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return "a string";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

int ms_yaml_is_plain_key(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MS_YAML_NAME_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

void ms_yaml_join(char *out, const char *base, const char *key)
{
	if (base && *base)
		snprintf(out, MS_YAML_PATH_MAX, "%s.%s", base, key);
	else
		snprintf(out, MS_YAML_PATH_MAX, "%s", key);
}

int ms_yaml_walk_mapping(ms_yaml_doc *p, yaml_node_t *node, const char *path, ms_yaml_key *keys,
			 const char *expected)
{
	yaml_node_pair_t *pair;
	char kpath[MS_YAML_PATH_MAX];

	if (node->type != YAML_MAPPING_NODE)
		return ms_yaml_fail(p, ms_yaml_line(node), path,
				    "expected a mapping with %s, got %s", expected,
				    ms_yaml_type_name(node));
	for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		ms_yaml_key *slot;

		if (!k || !v)
			return ms_yaml_fail(p, ms_yaml_line(node), path, "malformed mapping");
		if (k->type != YAML_SCALAR_NODE || !ms_yaml_is_plain_key(ms_yaml_scalar(k)))
			return ms_yaml_fail(p, ms_yaml_line(k), path,
					    "unknown key at this line; expected %s", expected);
		for (slot = keys; slot->name; slot++)
			if (strcmp(slot->name, ms_yaml_scalar(k)) == 0)
				break;
		ms_yaml_join(kpath, path, ms_yaml_scalar(k));
		if (!slot->name)
			return ms_yaml_fail(p, ms_yaml_line(k), kpath, "unknown key; expected %s",
					    expected);
		if (slot->line)
			return ms_yaml_fail(p, ms_yaml_line(k), kpath,
					    "duplicate key (first at line %d)", slot->line);
		slot->line = ms_yaml_line(k);
		slot->value = v;
	}
	return 0;
}

int ms_yaml_get_string(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, int required,
		       char **out)
{
	char kpath[MS_YAML_PATH_MAX];

	ms_yaml_join(kpath, path, k->name);
	if (!k->value)
		return 0;
	if (ms_yaml_is_null(k->value)) {
		if (required)
			return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
					    "expected a string, got nothing");
		return 0;
	}
	if (k->value->type != YAML_SCALAR_NODE)
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath, "expected a string, got %s",
				    ms_yaml_type_name(k->value));
	if (required && !*ms_yaml_scalar(k->value))
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath, "must not be empty");
	free(*out);
	*out = strdup(ms_yaml_scalar(k->value));
	return *out ? 0 : ms_yaml_oom(p);
}

int ms_yaml_get_list(ms_yaml_doc *p, const ms_yaml_key *k, const char *path, const char *what,
		     int (*check)(ms_yaml_doc *, const yaml_node_t *, const char *), char ***out,
		     size_t *n)
{
	char kpath[MS_YAML_PATH_MAX], ipath[MS_YAML_PATH_MAX + 24];
	yaml_node_item_t *it;
	char **list;
	size_t count = 0;
	int rc;

	ms_yaml_join(kpath, path, k->name);
	if (!k->value || ms_yaml_is_null(k->value))
		return 0;
	if (k->value->type != YAML_SEQUENCE_NODE)
		return ms_yaml_fail(p, ms_yaml_line(k->value), kpath,
				    "expected a list of %s, got %s", what,
				    ms_yaml_type_name(k->value));
	count = (size_t)(k->value->data.sequence.items.top - k->value->data.sequence.items.start);
	if (!count)
		return 0;
	list = calloc(count, sizeof(*list));
	if (!list)
		return ms_yaml_oom(p);
	*out = list;
	for (it = k->value->data.sequence.items.start; it < k->value->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = yaml_document_get_node(p->doc, *it);

		snprintf(ipath, sizeof(ipath), "%s[%zu]", kpath, *n);
		if (!item || item->type != YAML_SCALAR_NODE || ms_yaml_is_null(item))
			return ms_yaml_fail(p, ms_yaml_line(item ? item : k->value), ipath,
					    "expected a string, got %s",
					    item ? ms_yaml_type_name(item) : "nothing");
		if ((rc = check(p, item, ipath)) < 0)
			return rc;
		if (!(list[*n] = strdup(ms_yaml_scalar(item))))
			return ms_yaml_oom(p);
		(*n)++;
	}
	return 0;
}

int ms_yaml_list(ms_yaml_doc *p, const yaml_node_t *node, const char *path, const char *what,
		 size_t *count)
{
	*count = 0;
	if (ms_yaml_is_null(node))
		return 0;
	if (node->type != YAML_SEQUENCE_NODE)
		return ms_yaml_fail(p, ms_yaml_line(node), path, "expected a list of %s, got %s",
				    what, ms_yaml_type_name(node));
	*count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	return 0;
}

yaml_node_t *ms_yaml_item(ms_yaml_doc *p, const yaml_node_t *list, size_t i)
{
	return yaml_document_get_node(p->doc, list->data.sequence.items.start[i]);
}

static int yaml_failure(ms_yaml_doc *p, const yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR)
		return ms_yaml_oom(p);
	if (parser->context)
		return ms_yaml_fail(p, (int)parser->problem_mark.line + 1, NULL,
				    "syntax error: %s (%s at line %d)",
				    parser->problem ? parser->problem : "unknown problem",
				    parser->context, (int)parser->context_mark.line + 1);
	return ms_yaml_fail(p, (int)parser->problem_mark.line + 1, NULL, "syntax error: %s",
			    parser->problem ? parser->problem : "unknown problem");
}

int ms_yaml_load(ms_yaml_doc *p, const char *text, size_t len, size_t max, const char *expected,
		 yaml_document_t *doc, yaml_node_t **root)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	int rc = 0;

	if (len > max)
		return ms_error_set(p->err, MS_ETOOBIG, "%s: larger than %zu bytes", p->name, max);
	if (!yaml_parser_initialize(&parser))
		return ms_yaml_oom(p);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, doc)) {
		rc = yaml_failure(p, &parser);
		goto done;
	}
	*root = yaml_document_get_root_node(doc);
	if (!*root || ms_yaml_is_null(*root)) {
		rc = ms_yaml_fail(p, 1, NULL, "the file is empty; expected %s", expected);
	} else if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_failure(p, &parser);
	} else {
		if (yaml_document_get_root_node(&extra))
			rc = ms_yaml_fail(p, ms_yaml_line(yaml_document_get_root_node(&extra)),
					  NULL, "a second YAML document; the file is one document");
		yaml_document_delete(&extra);
	}
	if (rc < 0)
		yaml_document_delete(doc);
done:
	yaml_parser_delete(&parser);
	return rc;
}

int ms_yaml_read_file(FILE *f, const char *what, size_t max, char **out, size_t *len, ms_error *err)
{
	ms_buf b = MS_BUF_INIT(max);
	char chunk[8192];
	size_t n;
	int rc = 0;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if ((rc = ms_buf_add(&b, chunk, n)) < 0) {
			rc = rc == MS_ETOOBIG
				     ? ms_error_set(err, MS_ETOOBIG, "%s is larger than %zu bytes",
						    what, max)
				     : ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (ferror(f)) {
		rc = ms_error_set(err, MS_EIO, "cannot read %s: %s", what, strerror(errno));
		goto done;
	}
	*len = b.len;
	*out = ms_buf_detach(&b);
done:
	ms_buf_free(&b);
	return rc;
}
