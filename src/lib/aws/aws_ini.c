/*
 * The AWS shared config and credentials files, read as the AWS CLI reads
 * them: Python's configparser.RawConfigParser (sections, `=` or `:`, values
 * continued on more-indented lines, whole-line `#`/`;` comments, a line
 * outside any section, without a delimiter, or repeating a section or a key
 * makes the whole file unparsable), then botocore's profile mapping: in the
 * config file `[profile NAME]` (split as shlex does) and `[default]`, the
 * later section winning when both name one profile; in the credentials
 * file every section is a profile by its literal name.  Also the shlex
 * split that credential_process uses, and ISO 8601 times.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_internal.h"

#define INI_MAX ((size_t)1 << 20)

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

const char *aws_env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                 */

static void section_free(aws_section *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->kv[i].key);
		free(s->kv[i].value);
	}
	free(s->kv);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static aws_kv *section_find(const aws_section *s, const char *key)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

/* Append key (already lowercase) = value to s; returns its index or -1. */
static long section_add(aws_section *s, const char *key, const char *value)
{
	char *k, *v;

	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 8;
		aws_kv *kv = realloc(s->kv, na * sizeof(*kv));

		if (!kv)
			return -1;
		s->kv = kv;
		s->alloc = na;
	}
	k = strdup(key);
	v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	s->kv[s->n].key = k;
	s->kv[s->n].value = v;
	return (long)s->n++;
}

static aws_section *ini_section(const aws_ini *ini, const char *name)
{
	size_t i;

	for (i = 0; i < ini->n; i++)
		if (strcmp(ini->s[i].name, name) == 0)
			return &ini->s[i];
	return NULL;
}

static aws_section *ini_new_section(aws_ini *ini, const char *name)
{
	aws_section *s;

	if (ini->n == ini->alloc) {
		size_t na = ini->alloc ? ini->alloc * 2 : 8;

		s = realloc(ini->s, na * sizeof(*s));
		if (!s)
			return NULL;
		ini->s = s;
		ini->alloc = na;
	}
	s = &ini->s[ini->n];
	memset(s, 0, sizeof(*s));
	if (!(s->name = strdup(name)))
		return NULL;
	ini->n++;
	return s;
}

static void ini_free(aws_ini *ini)
{
	size_t i;

	for (i = 0; i < ini->n; i++)
		section_free(&ini->s[i]);
	free(ini->s);
	section_free(&ini->dflt);
	free(ini->path);
	memset(ini, 0, sizeof(*ini));
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */

static int is_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* s with its surrounding whitespace cut (in place). */
static char *strip(char *s)
{
	char *e;

	while (is_space((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_space((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Append "\n" + more to *value (a continuation line). */
static int value_continue(char **value, const char *more)
{
	size_t a = strlen(*value), b = strlen(more);
	char *v = realloc(*value, a + b + 2);

	if (!v)
		return -1;
	v[a] = '\n';
	memcpy(v + a + 1, more, b + 1);
	*value = v;
	return 0;
}

typedef struct parse_state {
	aws_ini *ini;
	aws_section *cur; /* NULL before the first section */
	long opt;         /* index in cur of the option being continued, or -1 */
	size_t indent;    /* indentation of that option's line */
	int bad_line;     /* first line that did not parse (0: none) */
} parse_state;

/* One section header line "[name]" (the text between '[' and the last ']'). */
static int parse_header(parse_state *ps, char *value, char *rb)
{
	aws_section *s;

	*rb = '\0';
	ps->opt = -1;
	if (strcmp(value + 1, "DEFAULT") == 0) {
		ps->cur = &ps->ini->dflt;
		return 0;
	}
	if (ini_section(ps->ini, value + 1))
		return 1; /* a repeated section */
	if (!(s = ini_new_section(ps->ini, value + 1)))
		return -1;
	ps->cur = s;
	return 0;
}

/* One "key = value" (or "key: value") line. */
static int parse_option(parse_state *ps, char *value, size_t indent, int lineno)
{
	char *delim = strpbrk(value, "=:"), *key, *p;
	long i;

	if (!delim) {
		if (!ps->bad_line)
			ps->bad_line = lineno;
		return 0;
	}
	*delim = '\0';
	key = strip(value);
	for (p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!*key && !ps->bad_line)
		ps->bad_line = lineno;
	if (section_find(ps->cur, key))
		return 1; /* a repeated key */
	if ((i = section_add(ps->cur, key, strip(delim + 1))) < 0)
		return -1;
	ps->opt = i;
	ps->indent = indent;
	return 0;
}

/*
 * Parse one line; 0, 1 when the file is unparsable from here on
 * (configparser raises at once), -1 when out of memory.
 */
static int parse_line(parse_state *ps, char *line, int lineno)
{
	char *value = strip(line), *rb;
	int comment = value[0] == '#' || value[0] == ';';
	size_t indent = 0;

	if (comment || !*value) {
		/* A blank line inside a value belongs to it (trailing ones are cut later). */
		if (!comment && ps->cur && ps->opt >= 0 &&
		    value_continue(&ps->cur->kv[ps->opt].value, "") < 0)
			return -1;
		return 0;
	}
	while (is_space((unsigned char)line[indent]))
		indent++;
	if (ps->cur && ps->opt >= 0 && indent > ps->indent)
		return value_continue(&ps->cur->kv[ps->opt].value, value) < 0 ? -1 : 0;
	ps->indent = indent;
	rb = strrchr(value, ']');
	if (value[0] == '[' && rb && rb > value + 1)
		return parse_header(ps, value, rb);
	if (!ps->cur)
		return 1; /* no section header yet */
	return parse_option(ps, value, indent, lineno);
}

/* Cut each value's trailing whitespace (the blank lines a value collected). */
static void rstrip_values(aws_section *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		char *v = s->kv[i].value, *e = v + strlen(v);

		while (e > v && is_space((unsigned char)e[-1]))
			*--e = '\0';
	}
}

static int ini_parse(aws_ini *ini, FILE *f, const char *what, ms_error *err)
{
	parse_state ps = { ini, NULL, -1, 0, 0 };
	char *line = NULL;
	size_t cap = 0, total = 0, i;
	ssize_t len;
	int lineno = 0, rc = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		total += (size_t)len;
		if (total > INI_MAX) {
			rc = ms_error_set(err, MS_ETOOBIG,
					  "aws %s file '%s' is larger than %zu bytes", what,
					  ini->path, INI_MAX);
			goto done;
		}
		if (strlen(line) != (size_t)len || (rc = parse_line(&ps, line, lineno)) > 0) {
			ps.bad_line = lineno;
			break;
		}
		if (rc < 0) {
			rc = oom(err);
			goto done;
		}
	}
	if (ps.bad_line) {
		rc = ms_error_set(err, MS_EINVAL, "cannot parse aws %s file '%s' (line %d)", what,
				  ini->path, ps.bad_line);
		goto done;
	}
	for (i = 0; i < ini->n; i++)
		rstrip_values(&ini->s[i]);
	rstrip_values(&ini->dflt);
	rc = 0;
done:
	free(line);
	return rc;
}

/* Read path into ini; a missing path or file leaves it empty. */
static int ini_load(aws_ini *ini, const char *path, const char *what, ms_error *err)
{
	FILE *f;
	int rc;

	if (!path)
		return 0;
	if (!(ini->path = strdup(path)))
		return oom(err);
	if (!(f = fopen(path, "r"))) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR)
			return 0;
		return ms_error_set(err, MS_EIO, "cannot read aws %s file '%s': %s", what, path,
				    strerror(errno));
	}
	ini->present = 1;
	rc = ini_parse(ini, f, what, err);
	fclose(f);
	return rc;
}

/* The path in variable var, else HOME/rel (~ expanded); new or NULL. */
static char *file_path(const char *var, const char *rel)
{
	const char *v = aws_env(var), *home = aws_env("HOME");
	size_t n;
	char *p;

	if (v && strncmp(v, "~/", 2) != 0)
		return strdup(v);
	if (v)
		rel = v + 2;
	if (!home)
		return NULL;
	n = strlen(home) + strlen(rel) + 2;
	if ((p = malloc(n)))
		snprintf(p, n, "%s/%s", home, rel);
	return p;
}

int aws_config_load(aws_config *c, ms_error *err)
{
	char *cred = file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	char *conf = file_path("AWS_CONFIG_FILE", ".aws/config");
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = ini_load(&c->conf, conf, "config", err)) == 0)
		rc = ini_load(&c->cred, cred, "credentials", err);
	free(cred);
	free(conf);
	if (rc < 0)
		aws_config_free(c);
	return rc;
}

void aws_config_free(aws_config *c)
{
	ini_free(&c->cred);
	ini_free(&c->conf);
}

/* ------------------------------------------------------------------------ */
/* Profiles                                                                 */

/* The config-file profile a section name maps to, written into buf, or NULL. */
static const char *conf_profile_name(const char *section, char *buf, size_t size)
{
	char **argv = NULL;
	int argc;

	if (strcmp(section, "default") == 0)
		return "default";
	if (strncmp(section, "profile", 7) != 0)
		return NULL;
	argc = aws_shlex_split(section, &argv);
	if (argc == 2)
		snprintf(buf, size, "%s", argv[1]);
	aws_argv_free(argv);
	return argc == 2 ? buf : NULL;
}

/* The config file's section of profile (the last that names it), or NULL. */
static const aws_section *conf_section(const aws_config *c, const char *profile)
{
	const aws_section *found = NULL;
	char buf[1024];
	size_t i;

	for (i = 0; i < c->conf.n; i++) {
		const char *name = conf_profile_name(c->conf.s[i].name, buf, sizeof(buf));

		if (name && strcmp(name, profile) == 0)
			found = &c->conf.s[i];
	}
	return found;
}

static const char *section_get(const aws_ini *ini, const aws_section *s, const char *key)
{
	const aws_kv *kv;

	if (!s)
		return NULL;
	if ((kv = section_find(s, key)) || (kv = section_find(&ini->dflt, key)))
		return kv->value;
	return NULL;
}

int aws_config_has_profile(const aws_config *c, const char *profile)
{
	return conf_section(c, profile) || ini_section(&c->cred, profile);
}

const char *aws_cred_get(const aws_config *c, const char *profile, const char *key)
{
	return section_get(&c->cred, ini_section(&c->cred, profile), key);
}

const char *aws_conf_get(const aws_config *c, const char *profile, const char *key)
{
	return section_get(&c->conf, conf_section(c, profile), key);
}

const char *aws_config_get(const aws_config *c, const char *profile, const char *key)
{
	const char *v = aws_cred_get(c, profile, key);

	return v ? v : aws_conf_get(c, profile, key);
}

/* ------------------------------------------------------------------------ */
/* shlex.split                                                              */

void aws_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static int argv_push(char ***argv, int *argc, const char *word, size_t len)
{
	char **a = realloc(*argv, (size_t)(*argc + 2) * sizeof(*a));

	if (!a)
		return -1;
	*argv = a;
	if (!(a[*argc] = strndup(word, len)))
		return -1;
	a[++*argc] = NULL;
	return 0;
}

/* One word starting at *sp into w (as long as s); 0, or -1 on an open quote. */
static int shlex_word(const char **sp, char *w, size_t *wl)
{
	const char *s = *sp;
	char q = 0;

	for (; *s; s++) {
		if (q == '\'') {
			if (*s == '\'')
				q = 0;
			else
				w[(*wl)++] = *s;
		} else if (q == '"') {
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				w[(*wl)++] = *++s;
			else if (*s == '\\' && !s[1])
				return -1;
			else
				w[(*wl)++] = *s;
		} else if (*s == '\'' || *s == '"') {
			q = *s;
		} else if (*s == '\\') {
			if (!s[1])
				return -1;
			w[(*wl)++] = *++s;
		} else if (is_space((unsigned char)*s)) {
			break;
		} else {
			w[(*wl)++] = *s;
		}
	}
	*sp = s;
	return q ? -1 : 0;
}

int aws_shlex_split(const char *s, char ***argv)
{
	char *w = malloc(strlen(s) + 1);
	int argc = 0;

	*argv = NULL;
	if (!w)
		return -1;
	for (;;) {
		size_t wl = 0;

		while (is_space((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (shlex_word(&s, w, &wl) < 0 || argv_push(argv, &argc, w, wl) < 0) {
			free(w);
			aws_argv_free(*argv);
			*argv = NULL;
			return -1;
		}
	}
	free(w);
	if (!*argv && argv_push(argv, &argc, "", 0) == 0) {
		free((*argv)[0]);
		(*argv)[0] = NULL;
	}
	return *argv ? argc : -1;
}

/* ------------------------------------------------------------------------ */
/* Times                                                                    */

int aws_parse_time(const char *s, long long *out)
{
	struct tm tm = { 0 };
	int n = 0, off = 0;
	const char *p;
	time_t t;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    !n)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-') {
		int hh, mm = 0;
		char sign = *p;

		if (sscanf(p + 1, "%2d", &hh) != 1)
			return -1;
		p += 3;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && sscanf(p, "%2d", &mm) == 1)
			p += 2;
		off = (hh * 60 + mm) * 60 * (sign == '-' ? -1 : 1);
	} else if (*p == 'Z' || *p == 'z') {
		p++;
	}
	if (*p)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = (long long)t - off;
	return 0;
}
