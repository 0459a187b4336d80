/*
 * Name and location mapping.  A replica keeps pointing at the source's
 * data, but where the target account reaches that data under another prefix
 * (an access point, another bucket name, s3a:// versus s3://) the locations
 * are rewritten; where databases get a prefix or a new name, view texts that
 * name them are rewritten too, so that views do not break on the way over.
 */
#include "mapping.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/url.h"

/* ---- checking the rules ------------------------------------------------ */

/*
 * A name a mapping introduces (a rename's NEW, a prefix) holds letters,
 * digits and '_' only: what Hive, Glue and Athena all accept.
 */
static int mapped_name_ok(const char *s)
{
	if (strlen(s) > MS_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* Where a location starts: "scheme://" or an absolute path. */
static int is_location(const char *s)
{
	const char *p = s;

	if (*s == '/')
		return 1;
	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return strncmp(p, "://", 3) == 0;
}

/*
 * A rule as messages and reports show it (new string): the user info of
 * every location in it masked, as ms_url_redact masks a URL's.
 */
static char *shown_rule(const char *rule)
{
	ms_buf b = MS_BUF_INIT((size_t)MS_PARAM_VALUE_MAX * 4);
	const char *seg = rule, *p;

	for (p = strchr(rule, '=');; p = strchr(p + 1, '=')) {
		if (p && !is_location(p + 1))
			continue;
		{
			char *part = strndup(seg, p ? (size_t)(p + 1 - seg) : strlen(seg));
			char *red = part ? ms_url_redact(part) : NULL;

			ms_buf_adds(&b, red ? red : "?");
			free(red);
			free(part);
		}
		if (!p)
			break;
		seg = p + 1;
	}
	return ms_buf_detach(&b);
}

/* Set err to "location rewrite 'RULE' WHY" with the rule shown masked. */
static int rewrite_error(ms_error *err, const char *rule, const char *why)
{
	char *shown = shown_rule(rule);
	int rc = ms_error_set(err, MS_EUSAGE, "location rewrite '%s' %s", shown ? shown : "?", why);

	free(shown);
	return rc;
}

/*
 * Split a location rewrite at the one '=' that is followed by a location
 * (a Hive partition location holds '=' of its own: "dt=2024-01-01/").
 * Sets *eq; MS_EUSAGE with the reason otherwise.
 */
static int split_rewrite(const char *rule, const char **eq, ms_error *err)
{
	const char *p, *found = NULL;
	int n = 0;

	if (!is_location(rule))
		return rewrite_error(err, rule,
				     "does not start with a location (s3://bucket/prefix, a "
				     "scheme:// URL or /path)");
	for (p = strchr(rule, '='); p; p = strchr(p + 1, '='))
		if (is_location(p + 1)) {
			found = found ? found : p;
			n++;
		}
	if (n == 1) {
		*eq = found;
		return 0;
	}
	if (n > 1)
		return rewrite_error(err, rule,
				     "is ambiguous: more than one '=' is followed by a location");
	if (rule[strlen(rule) - 1] == '=')
		return rewrite_error(err, rule, "has an empty TO");
	return rewrite_error(err, rule,
			     "is not of the form FROM=TO with two locations (e.g. "
			     "'s3://lake-a/sales=s3://lake-b/sales')");
}

/* FROM or TO without its trailing '/' (new string). */
static char *strip_slashes(const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '/')
		n--;
	return strndup(s, n);
}

static int check_rename(const char *rule, ms_error *err)
{
	const char *eq = strchr(rule, '=');

	if (!eq || eq == rule || !eq[1])
		return ms_error_set(err, MS_EUSAGE, "rename '%s' is not of the form OLD=NEW", rule);
	if (strchr(eq + 1, '='))
		return ms_error_set(err, MS_EUSAGE,
				    "rename '%s' holds more than one '=': database names hold "
				    "letters, digits and '_'",
				    rule);
	if (!mapped_name_ok(eq + 1))
		return ms_error_set(err, MS_EUSAGE,
				    "rename '%s': '%s' is not a valid database name (letters, "
				    "digits "
				    "and '_', at most %d)",
				    rule, eq + 1, MS_NAME_MAX);
	return 0;
}

int ms_selection_check(const char *label, const char *sel, ms_error *err)
{
	ms_buf fixed = MS_BUF_INIT(4096);
	int in_class = 0, named = 0, comma = 0, rc = 0;
	const char *p;

	for (p = sel; *p; p++) {
		char ch = *p;

		/* A ',' inside [...] is a glob character class, which may name a comma. */
		if (ch == '[' || ch == ']') {
			in_class = ch == '[';
		} else if (ch == ',' && !in_class) {
			comma = 1;
			ch = ';';
		}
		named |= ch != ';' && ch != ' ' && ch != '\t';
		ms_buf_addc(&fixed, ch);
	}
	if (comma)
		rc = ms_error_set(err, MS_EUSAGE,
				  "%s '%s' holds a ',': names are separated by ';': write '%s' "
				  "('[,]' "
				  "matches a comma in a name)",
				  label, sel, ms_buf_cstr(&fixed));
	else if (!named)
		rc = ms_error_set(err, MS_EUSAGE,
				  "%s '%s' selects nothing; leave it out to select every database",
				  label, sel);
	ms_buf_free(&fixed);
	return rc;
}

int ms_sync_options_check(const ms_sync_options *o, ms_error *err)
{
	size_t i, j;
	int rc;

	if (o->databases && (rc = ms_selection_check("database selection", o->databases, err)) < 0)
		return rc;
	if (o->database_prefix && !mapped_name_ok(o->database_prefix))
		return ms_error_set(err, MS_EUSAGE,
				    "database prefix '%s' is not valid in a name (letters, digits "
				    "and '_')",
				    o->database_prefix);
	if (o->table_prefix && !mapped_name_ok(o->table_prefix))
		return ms_error_set(err, MS_EUSAGE,
				    "table prefix '%s' is not valid in a name (letters, digits and "
				    "'_')",
				    o->table_prefix);
	/* 0 is also what a zeroed ms_sync_options holds: only a real limit is refused */
	if (o->max_deletes > 0 && o->deletes != MS_DELETES_MIRROR)
		return ms_error_set(err, MS_EUSAGE,
				    "max deletes %lld limits mirror deletes: it needs deletes "
				    "mirror",
				    o->max_deletes);
	if (o->prune_unmapped && o->deletes != MS_DELETES_MIRROR)
		return ms_error_set(err, MS_EUSAGE,
				    "pruning unmapped replicas needs deletes mirror");
	for (i = 0; i < o->nrenames; i++)
		if ((rc = check_rename(o->renames[i], err)) < 0)
			return rc;
	for (i = 0; i < o->nrenames; i++) {
		const char *a = o->renames[i], *ae = strchr(a, '=');

		for (j = i + 1; j < o->nrenames; j++) {
			const char *b = o->renames[j], *be = strchr(b, '=');

			if (ae - a == be - b && strncasecmp(a, b, (size_t)(ae - a)) == 0 &&
			    strcasecmp(ae, be) != 0)
				return ms_error_set(err, MS_EUSAGE,
						    "renames '%s' and '%s' rename one database "
						    "twice",
						    a, b);
			if (strcasecmp(ae + 1, be + 1) == 0 &&
			    !(ae - a == be - b && strncasecmp(a, b, (size_t)(ae - a)) == 0))
				return ms_error_set(err, MS_EUSAGE,
						    "renames '%s' and '%s' map two databases to "
						    "'%s'",
						    a, b, ae + 1);
		}
	}
	for (i = 0; i < o->nrewrites; i++) {
		const char *eq;

		if ((rc = split_rewrite(o->location_rewrites[i], &eq, err)) < 0)
			return rc;
	}
	return 0;
}

/* ---- the mapping -------------------------------------------------------- */

static int longer_from_first(const void *a, const void *b)
{
	size_t la = strlen(((const ms_rewrite_rule *)a)->from);
	size_t lb = strlen(((const ms_rewrite_rule *)b)->from);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

static int init_rewrites(ms_mapping *m, const ms_sync_options *o, ms_buf *fp, ms_error *err)
{
	size_t i, j;

	if (!o->nrewrites)
		return 0;
	if (!(m->rw = calloc(o->nrewrites, sizeof(*m->rw))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < o->nrewrites; i++) {
		const char *rule = o->location_rewrites[i], *eq;
		ms_rewrite_rule *w = &m->rw[m->nrewrites];
		int rc;

		if ((rc = split_rewrite(rule, &eq, err)) < 0)
			return rc;
		w->text = shown_rule(rule);
		w->from = strip_slashes(rule, (size_t)(eq - rule));
		w->to = strip_slashes(eq + 1, strlen(eq + 1));
		m->nrewrites++;
		if (!w->from || !w->to || !w->text)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		for (j = 0; j + 1 < m->nrewrites; j++) {
			if (strcmp(m->rw[j].from, w->from) != 0)
				continue;
			if (strcmp(m->rw[j].to, w->to) != 0) {
				char *from = ms_url_redact(w->from);
				int rc2 = ms_error_set(err, MS_EUSAGE,
						       "location rewrites '%s' and '%s' rewrite "
						       "'%s' "
						       "two ways",
						       m->rw[j].text, w->text, from ? from : "?");
				free(from);
				return rc2;
			}
		}
	}
	/* stable: equal lengths keep their order (and equal FROMs agree) */
	for (i = 1; i < m->nrewrites; i++)
		for (j = i; j > 0 && longer_from_first(&m->rw[j - 1], &m->rw[j]) > 0; j--) {
			ms_rewrite_rule t = m->rw[j];
			m->rw[j] = m->rw[j - 1];
			m->rw[j - 1] = t;
		}
	for (i = 0; i < m->nrewrites; i++)
		ms_buf_printf(fp, "%s\n%s\n", m->rw[i].from, m->rw[i].to);
	return 0;
}

int ms_mapping_init(ms_mapping *m, const ms_sync_options *o, ms_error *err)
{
	ms_buf fp = MS_BUF_INIT(1 << 20);
	size_t i;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = ms_sync_options_check(o, err)) < 0)
		return rc;
	m->db_prefix = o->database_prefix && *o->database_prefix ? o->database_prefix : NULL;
	m->table_prefix = o->table_prefix && *o->table_prefix ? o->table_prefix : NULL;
	m->rename_text = o->renames;
	if (o->nrenames) {
		m->rename_from = calloc(o->nrenames, sizeof(char *));
		m->rename_to = calloc(o->nrenames, sizeof(char *));
		if (!m->rename_from || !m->rename_to)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	for (i = 0; i < o->nrenames; i++) {
		const char *eq = strchr(o->renames[i], '=');

		m->rename_from[i] = strndup(o->renames[i], (size_t)(eq - o->renames[i]));
		m->rename_to[i] = strdup(eq + 1);
		m->nrenames = i + 1;
		if (!m->rename_from[i] || !m->rename_to[i])
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		for (char *p = m->rename_from[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (char *p = m->rename_to[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	if ((rc = init_rewrites(m, o, &fp, err)) < 0) {
		ms_buf_free(&fp);
		return rc;
	}
	m->fingerprint = ms_buf_detach(&fp);
	return m->fingerprint ? 0 : ms_error_set(err, MS_ENOMEM, "out of memory");
}

void ms_mapping_free(ms_mapping *m)
{
	size_t i;

	for (i = 0; i < m->nrenames; i++) {
		free(m->rename_from[i]);
		free(m->rename_to[i]);
	}
	for (i = 0; i < m->nrewrites; i++) {
		free(m->rw[i].from);
		free(m->rw[i].to);
		free(m->rw[i].text);
	}
	for (i = 0; i < m->ndbs; i++)
		free(m->dbs[i]);
	for (i = 0; i < m->ntables; i++)
		free(m->tables[i]);
	free(m->rename_from);
	free(m->rename_to);
	free(m->rw);
	free(m->dbs);
	free(m->tables);
	free(m->fingerprint);
	memset(m, 0, sizeof(*m));
}

int ms_mapping_set_databases(ms_mapping *m, const char *const *dbs, size_t n, ms_error *err)
{
	size_t i;

	m->dbs = calloc(n ? n : 1, sizeof(char *));
	if (!m->dbs)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (!(m->dbs[i] = strdup(dbs[i])))
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		m->ndbs = i + 1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ms_mapping_set_tables(ms_mapping *m, const char *const *dbs, const char *const *tables,
			  size_t n, ms_error *err)
{
	size_t i;

	if (!(m->tables = calloc(n ? n : 1, sizeof(char *))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		ms_buf b = MS_BUF_INIT((size_t)MS_NAME_MAX * 2 + 2);

		ms_buf_printf(&b, "%s\t%s", dbs[i], tables[i]);
		if (!(m->tables[i] = ms_buf_detach(&b)))
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		m->ntables = i + 1;
	}
	if (n)
		qsort(m->tables, n, sizeof(char *), cmp_str);
	return 0;
}

char *ms_mapping_database(const ms_mapping *m, const char *db)
{
	ms_buf b = MS_BUF_INIT(4096);
	size_t i;

	for (i = 0; i < m->nrenames; i++)
		if (strcmp(m->rename_from[i], db) == 0)
			return strdup(m->rename_to[i]);
	if (m->db_prefix)
		ms_buf_adds(&b, m->db_prefix);
	ms_buf_adds(&b, db);
	for (char *p = b.ptr; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return ms_buf_detach(&b);
}

char *ms_mapping_table(const ms_mapping *m, const char *table)
{
	ms_buf b = MS_BUF_INIT(4096);

	if (m->table_prefix)
		ms_buf_adds(&b, m->table_prefix);
	ms_buf_adds(&b, table);
	for (char *p = b.ptr; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return ms_buf_detach(&b);
}

int ms_mapping_is_identity_content(const ms_mapping *m)
{
	return m->nrewrites == 0;
}

/*
 * Rewrite one string item's location in place by the longest rule whose
 * FROM it starts with at a path boundary; 1 when changed.
 */
static int rewrite_location(const ms_mapping *m, cJSON *item)
{
	size_t i, fl;

	if (!cJSON_IsString(item) || !item->valuestring)
		return 0;
	for (i = 0; i < m->nrewrites; i++) {
		const char *v = item->valuestring;
		ms_rewrite_rule *w = &m->rw[i];

		fl = strlen(w->from);
		if (strncmp(v, w->from, fl) == 0 && (v[fl] == '\0' || v[fl] == '/')) {
			ms_buf b = MS_BUF_INIT((size_t)MS_PARAM_VALUE_MAX * 2);
			char *s;

			if (ms_buf_adds(&b, w->to) < 0 || ms_buf_adds(&b, v + fl) < 0) {
				ms_buf_free(&b);
				return 0;
			}
			s = ms_buf_detach(&b);
			if (!cJSON_SetValuestring(item, s)) {
				free(s);
				return 0;
			}
			free(s);
			w->hits++;
			return 1;
		}
	}
	return 0;
}

static int rewrite_locations(const ms_mapping *m, cJSON *doc)
{
	cJSON *sd, *serde, *params, *it;
	int changed = 0;

	if (!m->nrewrites)
		return 0;
	changed |= rewrite_location(m, cJSON_GetObjectItemCaseSensitive(doc, "LocationUri"));
	sd = cJSON_GetObjectItemCaseSensitive(doc, "StorageDescriptor");
	if (cJSON_IsObject(sd)) {
		changed |= rewrite_location(m, cJSON_GetObjectItemCaseSensitive(sd, "Location"));
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sd, "AdditionalLocations"))
			changed |= rewrite_location(m, it);
		serde = cJSON_GetObjectItemCaseSensitive(sd, "SerdeInfo");
		params = cJSON_IsObject(serde)
				 ? cJSON_GetObjectItemCaseSensitive(serde, "Parameters")
				 : NULL;
		if (cJSON_IsObject(params))
			changed |= rewrite_location(m, cJSON_GetObjectItemCaseSensitive(params,
											"path"));
	}
	params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
	if (cJSON_IsObject(params)) {
		changed |= rewrite_location(m, cJSON_GetObjectItemCaseSensitive(params,
										"storage.location."
										"template"));
		changed |= rewrite_location(m, cJSON_GetObjectItemCaseSensitive(params, "path"));
	}
	return changed;
}

static const char *mapped_db_for(const ms_mapping *m, const char *name, size_t len, char **owned)
{
	size_t i;

	for (i = 0; i < m->ndbs; i++) {
		if (strlen(m->dbs[i]) == len && strncasecmp(m->dbs[i], name, len) == 0) {
			*owned = ms_mapping_database(m, m->dbs[i]);
			if (*owned && strcmp(*owned, m->dbs[i]) == 0) {
				free(*owned);
				*owned = NULL;
				return NULL;
			}
			return *owned;
		}
	}
	return NULL;
}

/* The selected source database name matching name[0..len) (case-insensitive), or NULL. */
static const char *selected_db(const ms_mapping *m, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < m->ndbs; i++)
		if (strlen(m->dbs[i]) == len && strncasecmp(m->dbs[i], name, len) == 0)
			return m->dbs[i];
	return NULL;
}

/* Is db.name[0..len) a selected source table? */
static int selected_table(const ms_mapping *m, const char *db, const char *name, size_t len)
{
	char key[2 * MS_NAME_MAX + 8], *k = key;
	size_t i;

	if (!db || strlen(db) + len + 2 > sizeof(key))
		return 0;
	i = (size_t)snprintf(key, sizeof(key), "%s\t", db);
	memcpy(key + i, name, len);
	key[i + len] = '\0';
	for (k = key; *k; k++)
		*k = (char)tolower((unsigned char)*k);
	k = key;
	return m->ntables && bsearch(&k, m->tables, m->ntables, sizeof(char *), cmp_str) != NULL;
}

int ms_mapping_has_table(const ms_mapping *m, const char *db, const char *table)
{
	return selected_table(m, db, table, strlen(table));
}

static int is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* One identifier token of SQL text: bare, `quoted` or "quoted". */
typedef struct sql_ident {
	const char *start, *name, *after;
	size_t len;
	char quote;
} sql_ident;

/* Read the identifier at p (which starts one); 0 when a quote is not closed. */
static int read_ident(const char *p, sql_ident *id)
{
	id->start = p;
	id->quote = 0;
	if (*p == '`' || *p == '"') {
		const char *end = strchr(p + 1, *p);

		if (!end)
			return 0;
		id->quote = *p;
		id->name = p + 1;
		id->len = (size_t)(end - id->name);
		id->after = end + 1;
		return 1;
	}
	id->name = p;
	while (is_ident_char((unsigned char)*p))
		p++;
	id->len = (size_t)(p - id->name);
	id->after = p;
	return 1;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Write an identifier in the token's own quoting. */
static void put_ident(ms_buf *out, const sql_ident *id, const char *name)
{
	if (id->quote)
		ms_buf_addc(out, id->quote);
	ms_buf_adds(out, name);
	if (id->quote)
		ms_buf_addc(out, id->quote);
}

/* Copy a string literal or comment at p; returns the end, or NULL when p starts none. */
static const char *skip_literal(ms_buf *out, const char *p)
{
	const char *q;

	if (*p == '\'') {
		q = p + 1;
		while (*q && !(*q == '\'' && q[1] != '\''))
			q += (*q == '\'' && q[1] == '\'') ? 2 : 1;
		if (*q)
			q++;
	} else if (p[0] == '-' && p[1] == '-') {
		q = strchr(p, '\n');
		q = q ? q : p + strlen(p);
	} else if (p[0] == '/' && p[1] == '*') {
		q = strstr(p + 2, "*/");
		q = q ? q + 2 : p + strlen(p);
	} else {
		return NULL;
	}
	ms_buf_add(out, p, (size_t)(q - p));
	return q;
}

static int is_keyword(const sql_ident *id, const char *kw)
{
	return !id->quote && id->len == strlen(kw) && strncasecmp(id->name, kw, id->len) == 0;
}

/*
 * A qualified reference db.table at id (id names a selected database, '.'
 * follows): write both target names; returns where the text goes on.
 */
static const char *put_qualified(const ms_mapping *m, ms_buf *out, const sql_ident *id,
				 const char *sdb, int *changed)
{
	const char *dot = strchr(id->after, '.'), *t = skip_space(dot + 1);
	char *tdb = ms_mapping_database(m, sdb);
	sql_ident tid;

	if (tdb && strcmp(tdb, sdb) != 0) {
		put_ident(out, id, tdb);
		*changed = 1;
	} else {
		ms_buf_add(out, id->start, (size_t)(id->after - id->start));
	}
	free(tdb);
	ms_buf_add(out, id->after, (size_t)(t - id->after));
	if (!m->table_prefix || !(*t == '`' || *t == '"' || is_ident_char((unsigned char)*t)) ||
	    !read_ident(t, &tid) || !tid.len)
		return t;
	{
		char *name = strndup(tid.name, tid.len),
		     *tt = name ? ms_mapping_table(m, name) : NULL;

		if (tt) {
			put_ident(out, &tid, tt);
			*changed = 1;
		} else {
			ms_buf_add(out, tid.start, (size_t)(tid.after - tid.start));
		}
		free(tt);
		free(name);
	}
	return tid.after;
}

/*
 * A small SQL scanner: copies text, skipping string literals and comments.
 * An identifier followed by '.' that names a selected database becomes its
 * target name, and the table name after the '.' gets the table prefix; with
 * a table prefix, an unqualified identifier right after FROM or JOIN that
 * names a table of home_db gets it too.
 */
char *ms_mapping_rewrite_sql(const ms_mapping *m, const char *sql, const char *home_db)
{
	ms_buf out = MS_BUF_INIT((size_t)MS_VIEW_TEXT_MAX * 4);
	const char *p = sql, *q;
	int changed = 0, after_from = 0;

	if (!sql || !m->ndbs)
		return NULL;
	while (*p) {
		sql_ident id;
		const char *sdb, *d;

		if ((q = skip_literal(&out, p))) {
			p = q;
			after_from = 0;
			continue;
		}
		if (!(*p == '`' || *p == '"' || is_ident_char((unsigned char)*p))) {
			if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				after_from = 0;
			ms_buf_addc(&out, *p++);
			continue;
		}
		if (*p != '`' && *p != '"' && p > sql &&
		    (is_ident_char((unsigned char)p[-1]) || p[-1] == '.')) {
			ms_buf_addc(&out, *p++);
			continue;
		}
		if (!read_ident(p, &id)) {
			ms_buf_adds(&out, p);
			break;
		}
		d = skip_space(id.after);
		sdb = *d == '.' && (p == sql || p[-1] != '.') ? selected_db(m, id.name, id.len)
							      : NULL;
		if (sdb) {
			p = put_qualified(m, &out, &id, sdb, &changed);
		} else if (after_from && *d != '.' && m->table_prefix &&
			   selected_table(m, home_db, id.name, id.len)) {
			char *name = strndup(id.name, id.len),
			     *tt = name ? ms_mapping_table(m, name) : NULL;

			if (tt) {
				put_ident(&out, &id, tt);
				changed = 1;
			} else {
				ms_buf_add(&out, id.start, (size_t)(id.after - id.start));
			}
			free(tt);
			free(name);
			p = id.after;
		} else {
			ms_buf_add(&out, id.start, (size_t)(id.after - id.start));
			p = id.after;
		}
		after_from = is_keyword(&id, "from") || is_keyword(&id, "join");
	}
	if (!changed) {
		ms_buf_free(&out);
		return NULL;
	}
	return ms_buf_detach(&out);
}

#define PRESTO_PREFIX "/* Presto View: "
#define PRESTO_SUFFIX " */"

/* Rewrite a Presto/Trino view's base64 JSON (originalSql and schema). */
static char *rewrite_presto(const ms_mapping *m, const char *text, const char *home_db)
{
	size_t pl = strlen(PRESTO_PREFIX), sl = strlen(PRESTO_SUFFIX), tl = strlen(text), b64l,
	       outl;
	unsigned char *raw = NULL, *enc = NULL;
	char *result = NULL, *sqlnew = NULL, *json = NULL, *owned = NULL;
	cJSON *doc = NULL, *sql, *schema;
	int n, changed = 0;

	if (tl < pl + sl || strncmp(text, PRESTO_PREFIX, pl) != 0 ||
	    strcmp(text + tl - sl, PRESTO_SUFFIX) != 0)
		return NULL;
	b64l = tl - pl - sl;
	if (b64l % 4 != 0 || !(raw = malloc(b64l / 4 * 3 + 1)))
		return NULL;
	n = EVP_DecodeBlock(raw, (const unsigned char *)text + pl, (int)b64l);
	if (n < 0)
		goto done;
	while (n > 0 && b64l >= 1 && text[pl + b64l - 1] == '=' && raw[n - 1] == 0) {
		n--;
		b64l--;
	}
	raw[n] = '\0';
	if (!(doc = cJSON_ParseWithLength((const char *)raw, (size_t)n)))
		goto done;
	sql = cJSON_GetObjectItemCaseSensitive(doc, "originalSql");
	schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
	if (cJSON_IsString(schema))
		home_db = schema->valuestring;
	if (cJSON_IsString(sql) &&
	    (sqlnew = ms_mapping_rewrite_sql(m, sql->valuestring, home_db))) {
		cJSON_SetValuestring(sql, sqlnew);
		changed = 1;
	}
	if (cJSON_IsString(schema) &&
	    mapped_db_for(m, schema->valuestring, strlen(schema->valuestring), &owned)) {
		cJSON_SetValuestring(schema, owned);
		changed = 1;
	}
	if (!changed || !(json = cJSON_PrintUnformatted(doc)))
		goto done;
	outl = strlen(json);
	if (!(enc = malloc((outl + 2) / 3 * 4 + 1)))
		goto done;
	EVP_EncodeBlock(enc, (const unsigned char *)json, (int)outl);
	{
		ms_buf b = MS_BUF_INIT((size_t)MS_VIEW_TEXT_MAX * 4);
		ms_buf_adds(&b, PRESTO_PREFIX);
		ms_buf_adds(&b, (const char *)enc);
		ms_buf_adds(&b, PRESTO_SUFFIX);
		result = ms_buf_detach(&b);
	}
done:
	free(raw);
	free(enc);
	free(sqlnew);
	free(owned);
	free(json);
	cJSON_Delete(doc);
	return result;
}

static int rewrite_view_text(const ms_mapping *m, cJSON *doc, const char *field,
			     const char *home_db)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, field);
	char *s;

	if (!cJSON_IsString(item) || !item->valuestring)
		return 0;
	s = rewrite_presto(m, item->valuestring, home_db);
	if (!s)
		s = ms_mapping_rewrite_sql(m, item->valuestring, home_db);
	if (!s)
		return 0;
	cJSON_SetValuestring(item, s);
	free(s);
	return 1;
}

/*
 * A Spark view resolves unqualified names in the namespace it was created
 * in (view.catalogAndNamespace.*): that database moves with the mapping too.
 */
static int rewrite_view_namespace(const ms_mapping *m, cJSON *doc)
{
	cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
	cJSON *parts = params ? cJSON_GetObjectItemCaseSensitive(params, "view.catalogAndNamespace."
									 "numParts")
			      : NULL;
	cJSON *db = params ? cJSON_GetObjectItemCaseSensitive(params,
							      "view.catalogAndNamespace.part.1")
			   : NULL;
	char *owned = NULL;

	if (!cJSON_IsString(parts) || strcmp(parts->valuestring, "2") != 0 || !cJSON_IsString(db) ||
	    !mapped_db_for(m, db->valuestring, strlen(db->valuestring), &owned))
		return 0;
	cJSON_SetValuestring(db, owned);
	free(owned);
	return 1;
}

int ms_mapping_apply(const ms_mapping *m, ms_entity *e, int *content_changed, ms_error *err)
{
	char *db = NULL, *table = NULL, *home = strdup(e->database);
	int rc, changed = 0;
	cJSON *type;

	db = ms_mapping_database(m, e->database);
	if (e->kind != MS_KIND_DATABASE)
		table = ms_mapping_table(m, e->table);
	if (!db || !home || (e->kind != MS_KIND_DATABASE && !table)) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if (strlen(db) > MS_NAME_MAX || (table && strlen(table) > MS_NAME_MAX)) {
		rc = ms_error_set(err, MS_EINVAL,
				  "mapped name '%s%s%s' is longer than %d characters", db,
				  table ? "." : "", table ? table : "", MS_NAME_MAX);
		goto done;
	}
	if ((strcmp(db, e->database) != 0 || (table && strcmp(table, e->table) != 0)) &&
	    (rc = ms_entity_rename(e, db, table, err)) < 0)
		goto done;
	if (e->doc) {
		changed |= rewrite_locations(m, e->doc);
		type = cJSON_GetObjectItemCaseSensitive(e->doc, "TableType");
		if (e->kind == MS_KIND_TABLE && cJSON_IsString(type) &&
		    strcmp(type->valuestring, "VIRTUAL_VIEW") == 0) {
			changed |= rewrite_view_text(m, e->doc, "ViewOriginalText", home);
			changed |= rewrite_view_text(m, e->doc, "ViewExpandedText", home);
			changed |= rewrite_view_namespace(m, e->doc);
		}
	}
	*content_changed = changed;
	rc = 0;
done:
	free(db);
	free(table);
	free(home);
	return rc;
}

int ms_sync_map_entity(ms_entity *e, const ms_sync_options *opts, const char *const *databases,
		       size_t ndatabases, ms_error *err)
{
	ms_mapping m;
	int changed = 0, rc;

	if ((rc = ms_mapping_init(&m, opts, err)) == 0 &&
	    (rc = ms_mapping_set_databases(&m, databases, ndatabases, err)) == 0 &&
	    (rc = ms_mapping_apply(&m, e, &changed, err)) == 0 && (changed || !e->hashed))
		rc = ms_entity_rehash(e, err);
	ms_mapping_free(&m);
	return rc;
}
