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

static int split_rule(const char *rule, char **from, char **to)
{
	const char *eq = strchr(rule, '=');

	if (!eq || eq == rule)
		return MS_EUSAGE;
	*from = strndup(rule, (size_t)(eq - rule));
	*to = strdup(eq + 1);
	if (!*from || !*to)
		return MS_ENOMEM;
	return 0;
}

int ms_mapping_init(ms_mapping *m, const ms_sync_options *o, ms_error *err)
{
	ms_buf fp = MS_BUF_INIT(1 << 20);
	size_t i;
	int rc;

	memset(m, 0, sizeof(*m));
	m->db_prefix = o->database_prefix && *o->database_prefix ? o->database_prefix : NULL;
	m->table_prefix = o->table_prefix && *o->table_prefix ? o->table_prefix : NULL;
	if (o->nrenames) {
		m->rename_from = calloc(o->nrenames, sizeof(char *));
		m->rename_to = calloc(o->nrenames, sizeof(char *));
		if (!m->rename_from || !m->rename_to)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	for (i = 0; i < o->nrenames; i++) {
		rc = split_rule(o->renames[i], &m->rename_from[i], &m->rename_to[i]);
		m->nrenames = i + 1;
		if (rc < 0 || (m->rename_to[i] && !*m->rename_to[i]))
			return ms_error_set(err, MS_EUSAGE,
					    "rename '%s' is not of the form OLD=NEW", o->renames[i]);
		for (char *p = m->rename_from[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (char *p = m->rename_to[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	if (o->nrewrites) {
		m->rw_from = calloc(o->nrewrites, sizeof(char *));
		m->rw_to = calloc(o->nrewrites, sizeof(char *));
		if (!m->rw_from || !m->rw_to)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	for (i = 0; i < o->nrewrites; i++) {
		rc = split_rule(o->location_rewrites[i], &m->rw_from[i], &m->rw_to[i]);
		m->nrewrites = i + 1;
		if (rc < 0)
			return ms_error_set(err, MS_EUSAGE,
					    "location rewrite '%s' is not of the form FROM=TO",
					    o->location_rewrites[i]);
		ms_buf_printf(&fp, "%s\n%s\n", m->rw_from[i], m->rw_to[i]);
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
		free(m->rw_from[i]);
		free(m->rw_to[i]);
	}
	for (i = 0; i < m->ndbs; i++)
		free(m->dbs[i]);
	free(m->rename_from);
	free(m->rename_to);
	free(m->rw_from);
	free(m->rw_to);
	free(m->dbs);
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

/* Rewrite one string item's location prefix in place; 1 when changed. */
static int rewrite_location(const ms_mapping *m, cJSON *item)
{
	size_t i, fl;

	if (!cJSON_IsString(item) || !item->valuestring)
		return 0;
	for (i = 0; i < m->nrewrites; i++) {
		fl = strlen(m->rw_from[i]);
		if (strncmp(item->valuestring, m->rw_from[i], fl) == 0) {
			ms_buf b = MS_BUF_INIT((size_t)MS_PARAM_VALUE_MAX * 2);
			char *s;

			if (ms_buf_adds(&b, m->rw_to[i]) < 0 ||
			    ms_buf_adds(&b, item->valuestring + fl) < 0) {
				ms_buf_free(&b);
				return 0;
			}
			s = ms_buf_detach(&b);
			if (!cJSON_SetValuestring(item, s)) {
				free(s);
				return 0;
			}
			free(s);
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
		params = cJSON_IsObject(serde) ? cJSON_GetObjectItemCaseSensitive(serde, "Parameters") : NULL;
		if (cJSON_IsObject(params))
			changed |= rewrite_location(m, cJSON_GetObjectItemCaseSensitive(params, "path"));
	}
	params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
	if (cJSON_IsObject(params)) {
		changed |= rewrite_location(m, cJSON_GetObjectItemCaseSensitive(params, "storage.location.template"));
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

static int is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/*
 * A small SQL scanner: copies text, skipping string literals and comments,
 * and replaces an identifier (bare, `quoted` or "quoted") that is followed by
 * a '.' and names a selected database with its target name.
 */
char *ms_mapping_rewrite_sql(const ms_mapping *m, const char *sql)
{
	ms_buf out = MS_BUF_INIT((size_t)MS_VIEW_TEXT_MAX * 4);
	const char *p = sql;
	int changed = 0;

	if (!sql || !m->ndbs)
		return NULL;
	while (*p) {
		if (*p == '\'') {
			const char *q = p + 1;
			while (*q && !(*q == '\'' && q[1] != '\''))
				q += (*q == '\'' && q[1] == '\'') ? 2 : 1;
			if (*q)
				q++;
			ms_buf_add(&out, p, (size_t)(q - p));
			p = q;
		} else if (p[0] == '-' && p[1] == '-') {
			const char *q = strchr(p, '\n');
			q = q ? q : p + strlen(p);
			ms_buf_add(&out, p, (size_t)(q - p));
			p = q;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *q = strstr(p + 2, "*/");
			q = q ? q + 2 : p + strlen(p);
			ms_buf_add(&out, p, (size_t)(q - p));
			p = q;
		} else if (*p == '`' || *p == '"' || is_ident_char((unsigned char)*p)) {
			const char *start = p, *name, *end, *after;
			char quote = 0, *owned = NULL;
			const char *target;
			size_t nlen;

			if (*p == '`' || *p == '"') {
				quote = *p;
				name = p + 1;
				end = strchr(name, quote);
				if (!end) {
					ms_buf_adds(&out, p);
					break;
				}
				nlen = (size_t)(end - name);
				after = end + 1;
			} else {
				if (start > sql && (is_ident_char((unsigned char)start[-1]) || start[-1] == '.')) {
					ms_buf_addc(&out, *p++);
					continue;
				}
				name = p;
				while (is_ident_char((unsigned char)*p))
					p++;
				nlen = (size_t)(p - name);
				after = p;
			}
			{
				const char *d = after;
				while (*d == ' ' || *d == '\t' || *d == '\n' || *d == '\r')
					d++;
				target = (*d == '.' && (start == sql || start[-1] != '.')) ?
						 mapped_db_for(m, name, nlen, &owned) : NULL;
			}
			if (target) {
				if (quote)
					ms_buf_addc(&out, quote);
				ms_buf_adds(&out, target);
				if (quote)
					ms_buf_addc(&out, quote);
				changed = 1;
			} else {
				ms_buf_add(&out, start, (size_t)(after - start));
			}
			free(owned);
			p = after;
		} else {
			ms_buf_addc(&out, *p++);
		}
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
static char *rewrite_presto(const ms_mapping *m, const char *text)
{
	size_t pl = strlen(PRESTO_PREFIX), sl = strlen(PRESTO_SUFFIX), tl = strlen(text), b64l, outl;
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
	if (cJSON_IsString(sql) && (sqlnew = ms_mapping_rewrite_sql(m, sql->valuestring))) {
		cJSON_SetValuestring(sql, sqlnew);
		changed = 1;
	}
	schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
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

static int rewrite_view_text(const ms_mapping *m, cJSON *doc, const char *field)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, field);
	char *s;

	if (!cJSON_IsString(item) || !item->valuestring)
		return 0;
	s = rewrite_presto(m, item->valuestring);
	if (!s)
		s = ms_mapping_rewrite_sql(m, item->valuestring);
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
	cJSON *parts = params ? cJSON_GetObjectItemCaseSensitive(params, "view.catalogAndNamespace.numParts") : NULL;
	cJSON *db = params ? cJSON_GetObjectItemCaseSensitive(params, "view.catalogAndNamespace.part.1") : NULL;
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
	char *db = NULL, *table = NULL;
	int rc, changed = 0;
	cJSON *type;

	db = ms_mapping_database(m, e->database);
	if (e->kind != MS_KIND_DATABASE)
		table = ms_mapping_table(m, e->table);
	if (!db || (e->kind != MS_KIND_DATABASE && !table)) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if (strlen(db) > MS_NAME_MAX || (table && strlen(table) > MS_NAME_MAX)) {
		rc = ms_error_set(err, MS_EINVAL, "mapped name '%s%s%s' is longer than %d characters",
				  db, table ? "." : "", table ? table : "", MS_NAME_MAX);
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
			changed |= rewrite_view_text(m, e->doc, "ViewOriginalText");
			changed |= rewrite_view_text(m, e->doc, "ViewExpandedText");
			changed |= rewrite_view_namespace(m, e->doc);
		}
	}
	*content_changed = changed;
	rc = 0;
done:
	free(db);
	free(table);
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
