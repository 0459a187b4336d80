/*
 * Glue operations on tables and their versions: CreateTable, GetTable,
 * GetTables, UpdateTable, DeleteTable, BatchDeleteTable, GetTableVersion,
 * GetTableVersions, DeleteTableVersion, BatchDeleteTableVersion.
 *
 * Versions: a table is created with VersionId "0"; every UpdateTable gives
 * it the next number and, unless SkipArchive, archives the document it
 * replaces (ms_catalog_put_table_version).  An UpdateTable that names a
 * VersionId other than the table's current one is refused with
 * ConcurrentModificationException; the embedded catalog's transactions
 * exclude other writers, so the check and the write are one step.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/glue_internal.h"
#include "util/strlist.h"

#define NAME_BUF (4 * MS_NAME_MAX + 1)
#define GETTABLES_DEFAULT 100
#define VERSIONS_DEFAULT 100
#define VERSION_ID_MAX 255

/* The table, or -1 with the call failed naming the database or the table that is missing. */
static int fetch_table(glue_call *c, const char *db, const char *name, ms_entity **out)
{
	ms_error err;
	int rc;

	ms_error_clear(&err);
	*out = NULL;
	rc = ms_catalog_get_table(c->cat, db, name, out, &err);
	if (rc == MS_ENOTFOUND)
		return glue_table_missing(c, db, name);
	if (rc < 0)
		return glue_fail_err(c, rc, &err);
	return 0;
}

/* A table's VersionId as a number (0 when it has none: a table another path wrote). */
static unsigned long long version_of(const ms_entity *t)
{
	const cJSON *v = t->doc ? cJSON_GetObjectItemCaseSensitive(t->doc, "VersionId") : NULL;

	return cJSON_IsString(v) ? strtoull(v->valuestring, NULL, 10) : 0;
}

static int set_version(glue_call *c, ms_entity *t, unsigned long long version)
{
	char text[24];
	cJSON *v;

	snprintf(text, sizeof(text), "%llu", version);
	cJSON_DeleteItemFromObjectCaseSensitive(t->doc, "VersionId");
	if (!(v = cJSON_CreateString(text)) || !cJSON_AddItemToObject(t->doc, "VersionId", v)) {
		cJSON_Delete(v);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	return 0;
}

/* The table entity of a TableInput in db (new), or -1 with the call failed. */
static int table_from_input(glue_call *c, const cJSON *input, const char *db, ms_entity **out)
{
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_entity_from_glue_input(out, MS_KIND_TABLE, cJSON_Duplicate(input, 1), db, NULL,
				       &err);
	return rc < 0 ? glue_fail_err(c, rc, &err) : 0;
}

typedef struct table_write {
	ms_entity *table;
	int skip_archive;
	const char *expect_version; /* UpdateTable's VersionId, or NULL */
} table_write;

static int create_in_txn(glue_call *c, void *ctx)
{
	table_write *w = ctx;
	char created_by[64];
	ms_entity *old = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	if (glue_need_database(c, w->table->database) < 0)
		return -1;
	rc = ms_catalog_get_table(c->cat, w->table->database, w->table->table, &old, &err);
	ms_entity_free(old);
	if (rc == 0)
		return glue_fail(c, GLUE_E_EXISTS, "Table already exists.");
	if (rc != MS_ENOTFOUND)
		return glue_fail_err(c, rc, &err);
	if (set_version(c, w->table, 0) < 0)
		return -1;
	cJSON_AddBoolToObject(w->table->doc, "IsRegisteredWithLakeFormation", 0);
	snprintf(created_by, sizeof(created_by), "arn:aws:iam::%s:root", c->caller);
	cJSON_DeleteItemFromObjectCaseSensitive(w->table->doc, "CreatedBy");
	cJSON_AddStringToObject(w->table->doc, "CreatedBy", created_by);
	if ((rc = ms_catalog_put_table(c->cat, w->table, &err)) < 0)
		return glue_fail_err(c, rc, &err);
	return 0;
}

/* What Glue assigned at creation stays through updates (TableInput has no such members). */
static int keep_assigned(glue_call *c, const ms_entity *cur, ms_entity *next)
{
	static const char *const keys[] = { "CreatedBy", "IsRegisteredWithLakeFormation" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cur->doc, keys[i]);
		cJSON *copy;

		cJSON_DeleteItemFromObjectCaseSensitive(next->doc, keys[i]);
		if (!v)
			continue;
		if (!(copy = cJSON_Duplicate(v, 1)) ||
		    !cJSON_AddItemToObject(next->doc, keys[i], copy)) {
			cJSON_Delete(copy);
			return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		}
	}
	return 0;
}

static int update_in_txn(glue_call *c, void *ctx)
{
	table_write *w = ctx;
	ms_entity *cur = NULL;
	unsigned long long version;
	ms_error err;
	int rc = -1;

	ms_error_clear(&err);
	if (fetch_table(c, w->table->database, w->table->table, &cur) < 0)
		return -1;
	version = version_of(cur);
	if (w->expect_version && strtoull(w->expect_version, NULL, 10) != version) {
		glue_fail(c, GLUE_E_CONFLICT,
			  "Update table failed due to concurrent modifications: version %s "
			  "is not the current version %llu",
			  w->expect_version, version);
		goto done;
	}
	if (set_version(c, cur, version) < 0 || set_version(c, w->table, version + 1) < 0 ||
	    keep_assigned(c, cur, w->table) < 0)
		goto done;
	if (!w->skip_archive && (rc = ms_catalog_put_table_version(c->cat, cur, &err)) < 0) {
		rc = glue_fail_err(c, rc, &err);
		goto done;
	}
	if ((rc = ms_catalog_put_table(c->cat, w->table, &err)) < 0)
		rc = glue_fail_err(c, rc, &err);
done:
	ms_entity_free(cur);
	return rc < 0 ? -1 : 0;
}

static int is_version_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return i > 0 && i < 19;
}

static int in_version(glue_call *c, const cJSON *obj, const char *name, int required,
		      const char **out)
{
	if (glue_in_string(c, obj, name, required, 1, VERSION_ID_MAX, out) < 0)
		return -1;
	if (*out && !is_version_id(*out))
		return glue_fail(c, GLUE_E_INVALID, "%s must be a version number", name);
	return 0;
}

/* CreateTable and UpdateTable. */
static int write_table(glue_call *c, int create)
{
	const cJSON *input;
	char db[NAME_BUF], name[NAME_BUF];
	table_write w = { NULL, 0, NULL };
	int rc;

	if (glue_in_name(c, c->in, "DatabaseName", 1, db, sizeof(db)) < 0 ||
	    glue_in_object(c, c->in, "TableInput", 1, &input) < 0 ||
	    glue_in_name(c, input, "Name", 1, name, sizeof(name)) < 0 ||
	    glue_in_bool(c, c->in, "SkipArchive", &w.skip_archive) < 0 ||
	    (!create && in_version(c, c->in, "VersionId", 0, &w.expect_version) < 0) ||
	    glue_catalog(c, db, MS_ACCESS_WRITE) < 0 ||
	    table_from_input(c, input, db, &w.table) < 0)
		return -1;
	rc = glue_in_txn(c, create ? create_in_txn : update_in_txn, &w);
	ms_entity_free(w.table);
	return rc;
}

static int create_table(glue_call *c)
{
	return write_table(c, 1);
}

static int update_table(glue_call *c)
{
	return write_table(c, 0);
}

/* DatabaseName and the table's member name of the request, with the catalog opened. */
static int table_request(glue_call *c, const char *member, ms_access access, char *db, char *name)
{
	if (glue_in_name(c, c->in, "DatabaseName", 1, db, NAME_BUF) < 0 ||
	    glue_in_name(c, c->in, member, 1, name, NAME_BUF) < 0 ||
	    glue_catalog(c, db, access) < 0)
		return -1;
	return 0;
}

static int get_table(glue_call *c)
{
	char db[NAME_BUF], name[NAME_BUF];
	ms_entity *t = NULL;
	int rc;

	if (table_request(c, "Name", MS_ACCESS_READ, db, name) < 0 ||
	    fetch_table(c, db, name, &t) < 0)
		return -1;
	rc = glue_add_entity(c, c->out, "Table", t);
	ms_entity_free(t);
	return rc;
}

/* Up to max tables of db after `after` whose names match re, into TableList. */
static int list_tables(glue_call *c, const char *db, const ms_strlist *names, const char *after,
		       const regex_t *re, long long max)
{
	cJSON *list = cJSON_AddArrayToObject(c->out, "TableList");
	const char *last = NULL;
	long long n = 0;
	size_t i;

	if (!list)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	for (i = 0; i < names->n; i++) {
		const char *name = names->v[i];
		ms_entity *t = NULL;
		ms_error err;
		int rc;

		if ((after && strcmp(name, after) <= 0) || (re && regexec(re, name, 0, NULL, 0)))
			continue;
		if (n == max)
			return glue_token_make(c, c->out, "tbl", last);
		ms_error_clear(&err);
		if ((rc = ms_catalog_get_table(c->cat, db, name, &t, &err)) == MS_ENOTFOUND)
			continue;
		if (rc < 0)
			return glue_fail_err(c, rc, &err);
		rc = glue_add_entity(c, list, NULL, t);
		ms_entity_free(t);
		if (rc < 0)
			return -1;
		last = name;
		n++;
	}
	return 0;
}

/* Compile GetTables' Expression, a regular expression the whole name must match. */
static int table_pattern(glue_call *c, const char *expr, regex_t *re)
{
	char *anchored = NULL;
	int rc;

	if (asprintf(&anchored, "^(%s)$", expr) < 0)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	rc = regcomp(re, anchored, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	free(anchored);
	if (rc != 0)
		return glue_fail(c, GLUE_E_INVALID, "Expression is not a valid regular expression");
	return 0;
}

static int get_tables(glue_call *c)
{
	char db[NAME_BUF];
	const char *expr;
	long long max = GETTABLES_DEFAULT;
	ms_strlist names = { 0 };
	char *after = NULL;
	regex_t re;
	int have_re = 0, rc = -1;
	ms_error err;

	if (glue_in_name(c, c->in, "DatabaseName", 1, db, sizeof(db)) < 0 ||
	    glue_in_string(c, c->in, "Expression", 0, 0, 2048, &expr) < 0 ||
	    glue_in_int(c, c->in, "MaxResults", 1, 100, &max) < 0 ||
	    glue_catalog(c, db, MS_ACCESS_READ) < 0 || glue_token_parse(c, "tbl", &after) < 0)
		return -1;
	if (expr && *expr && table_pattern(c, expr, &re) < 0)
		goto done;
	have_re = expr && *expr;
	ms_error_clear(&err);
	rc = ms_catalog_list_tables(c->cat, db, ms_strlist_collect, &names, &err);
	if (rc == MS_ENOTFOUND)
		rc = glue_fail(c, GLUE_E_NOT_FOUND, "Database %s not found.", db);
	else if (rc < 0)
		rc = glue_fail_err(c, rc, &err);
	else if ((rc = glue_need_database(c, db)) == 0)
		rc = list_tables(c, db, &names, after, have_re ? &re : NULL, max);
done:
	if (have_re)
		regfree(&re);
	ms_strlist_free(&names);
	free(after);
	return rc;
}

static int delete_table(glue_call *c)
{
	char db[NAME_BUF], name[NAME_BUF];
	ms_error err;
	int rc;

	if (table_request(c, "Name", MS_ACCESS_WRITE, db, name) < 0)
		return -1;
	ms_error_clear(&err);
	if ((rc = ms_catalog_delete_table(c->cat, db, name, &err)) == MS_ENOTFOUND)
		return glue_table_missing(c, db, name);
	if (rc < 0)
		return glue_fail_err(c, rc, &err);
	return 0;
}

typedef struct batch_tables {
	const char *db;
	const cJSON *names;
	cJSON *errors;
} batch_tables;

static int delete_tables_in_txn(glue_call *c, void *ctx)
{
	batch_tables *b = ctx;
	const cJSON *v;

	if (glue_need_database(c, b->db) < 0)
		return -1;
	cJSON_ArrayForEach(v, b->names)
	{
		char name[NAME_BUF];
		cJSON *item;
		ms_error err;
		int rc;

		if (!cJSON_IsString(v))
			return glue_fail(c, GLUE_E_SERIALIZATION,
					 "TablesToDelete must be a list of strings");
		snprintf(name, sizeof(name), "%s", v->valuestring);
		for (char *p = name; *p; p++)
			*p = (char)((unsigned char)*p < 0x80 && *p >= 'A' && *p <= 'Z' ? *p + 32
										       : *p);
		ms_error_clear(&err);
		if ((rc = ms_catalog_delete_table(c->cat, b->db, name, &err)) == 0)
			continue;
		if (rc != MS_ENOTFOUND && rc != MS_EINVAL)
			return glue_fail_err(c, rc, &err);
		if (!(item = cJSON_CreateObject()) || !cJSON_AddItemToArray(b->errors, item) ||
		    !cJSON_AddStringToObject(item, "TableName", v->valuestring) ||
		    glue_item_error(item, glue_error_type(rc), "%s",
				    rc == MS_ENOTFOUND ? "Table not found." : err.message) < 0)
			return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	return 0;
}

static int batch_delete_table(glue_call *c)
{
	char db[NAME_BUF];
	batch_tables b;

	if (glue_in_name(c, c->in, "DatabaseName", 1, db, sizeof(db)) < 0 ||
	    glue_in_array(c, c->in, "TablesToDelete", 1, 0, 100, &b.names) < 0 ||
	    glue_catalog(c, db, MS_ACCESS_WRITE) < 0)
		return -1;
	b.db = db;
	if (!(b.errors = cJSON_AddArrayToObject(c->out, "Errors")))
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	return glue_in_txn(c, delete_tables_in_txn, &b);
}

/* ---- versions ------------------------------------------------------------ */

static int add_version(glue_call *c, cJSON *list, const ms_entity *t)
{
	cJSON *item = cJSON_CreateObject();
	char id[24];

	snprintf(id, sizeof(id), "%llu", version_of(t));
	if (!item || !cJSON_AddItemToArray(list, item)) {
		cJSON_Delete(item);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	if (glue_add_entity(c, item, "Table", t) < 0)
		return -1;
	if (!cJSON_AddStringToObject(item, "VersionId", id))
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	return 0;
}

typedef struct version_page {
	glue_call *c;
	cJSON *list;
	unsigned long long below; /* only versions under this number (the token's) */
	long long left;           /* room on the page */
	unsigned long long last;
	int more;
} version_page;

static int page_version(version_page *p, ms_entity *t)
{
	unsigned long long v = version_of(t);

	if (v >= p->below)
		return 0;
	if (p->left == 0) {
		p->more = 1;
		return 1;
	}
	if (add_version(p->c, p->list, t) < 0)
		return MS_ERROR;
	p->left--;
	p->last = v;
	return 0;
}

static int on_version(ms_entity *t, void *ctx, ms_error *err)
{
	int rc = page_version(ctx, t);

	(void)err;
	ms_entity_free(t);
	return rc;
}

static int get_table_versions(glue_call *c)
{
	char db[NAME_BUF], name[NAME_BUF], last[24];
	long long max = VERSIONS_DEFAULT;
	version_page p = { c, NULL, ~0ull, 0, 0, 0 };
	ms_entity *cur = NULL;
	char *after = NULL;
	ms_error err;
	int rc;

	if (table_request(c, "TableName", MS_ACCESS_READ, db, name) < 0 ||
	    glue_in_int(c, c->in, "MaxResults", 1, 100, &max) < 0 ||
	    glue_token_parse(c, "tv", &after) < 0)
		return -1;
	if (after)
		p.below = strtoull(after, NULL, 10);
	free(after);
	p.left = max;
	if (fetch_table(c, db, name, &cur) < 0)
		return -1;
	if (!(p.list = cJSON_AddArrayToObject(c->out, "TableVersions"))) {
		ms_entity_free(cur);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	rc = page_version(&p, cur);
	ms_entity_free(cur);
	if (rc < 0)
		return -1;
	ms_error_clear(&err);
	if (!p.more) {
		rc = ms_catalog_scan_table_versions(c->cat, db, name, on_version, &p, &err);
		if (rc == MS_ERROR && c->etype)
			return -1;
		if (rc < 0)
			return glue_fail_err(c, rc, &err);
	}
	if (!p.more)
		return 0;
	snprintf(last, sizeof(last), "%llu", p.last);
	return glue_token_make(c, c->out, "tv", last);
}

static int get_table_version(glue_call *c)
{
	char db[NAME_BUF], name[NAME_BUF];
	const char *id;
	ms_entity *t = NULL;
	cJSON *wrap;
	ms_error err;
	int rc;

	if (table_request(c, "TableName", MS_ACCESS_READ, db, name) < 0 ||
	    in_version(c, c->in, "VersionId", 0, &id) < 0 || fetch_table(c, db, name, &t) < 0)
		return -1;
	if (id && strtoull(id, NULL, 10) != version_of(t)) {
		ms_entity_free(t);
		t = NULL;
		ms_error_clear(&err);
		rc = ms_catalog_get_table_version(c->cat, db, name, id, &t, &err);
		if (rc == MS_ENOTFOUND)
			return glue_fail(c, GLUE_E_NOT_FOUND, "Version %s of table %s not found.",
					 id, name);
		if (rc < 0)
			return glue_fail_err(c, rc, &err);
	}
	if (!(wrap = cJSON_CreateArray())) {
		ms_entity_free(t);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	rc = add_version(c, wrap, t);
	ms_entity_free(t);
	if (rc == 0)
		cJSON_AddItemToObject(c->out, "TableVersion", cJSON_DetachItemFromArray(wrap, 0));
	cJSON_Delete(wrap);
	return rc;
}

/* Delete archived version id of db.name: 0, or the catalog's error code (err filled). */
static int delete_version(glue_call *c, const char *db, const char *name, const char *id,
			  unsigned long long current, ms_error *err)
{
	if (strtoull(id, NULL, 10) == current)
		return ms_error_set(err, MS_EINVAL,
				    "Version %s is the current version of table %s and cannot be "
				    "deleted.",
				    id, name);
	return ms_catalog_delete_table_version(c->cat, db, name, id, err);
}

typedef struct batch_versions {
	const char *db, *name;
	const cJSON *ids; /* NULL: the one in one */
	const char *one;
	cJSON *errors;
} batch_versions;

static int version_error(glue_call *c, batch_versions *b, const char *id, int rc,
			 const ms_error *err)
{
	cJSON *item;

	if (!b->errors) {
		if (rc == MS_ENOTFOUND)
			return glue_fail(c, GLUE_E_NOT_FOUND, "Version %s of table %s not found.",
					 id, b->name);
		return glue_fail_err(c, rc, err);
	}
	if (rc != MS_ENOTFOUND && rc != MS_EINVAL)
		return glue_fail_err(c, rc, err);
	if (!(item = cJSON_CreateObject()) || !cJSON_AddItemToArray(b->errors, item) ||
	    !cJSON_AddStringToObject(item, "TableName", b->name) ||
	    !cJSON_AddStringToObject(item, "VersionId", id) ||
	    glue_item_error(item, glue_error_type(rc), "%s",
			    rc == MS_ENOTFOUND ? "Table version not found." : err->message) < 0)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	return 0;
}

static int delete_versions_in_txn(glue_call *c, void *ctx)
{
	batch_versions *b = ctx;
	unsigned long long current;
	ms_entity *t = NULL;
	const cJSON *v;
	ms_error err;
	int rc;

	if (fetch_table(c, b->db, b->name, &t) < 0)
		return -1;
	current = version_of(t);
	ms_entity_free(t);
	if (!b->ids) {
		ms_error_clear(&err);
		rc = delete_version(c, b->db, b->name, b->one, current, &err);
		return rc < 0 ? version_error(c, b, b->one, rc, &err) : 0;
	}
	cJSON_ArrayForEach(v, b->ids)
	{
		if (!cJSON_IsString(v) || !is_version_id(v->valuestring))
			return glue_fail(c, GLUE_E_INVALID, "VersionIds must be version numbers");
		ms_error_clear(&err);
		rc = delete_version(c, b->db, b->name, v->valuestring, current, &err);
		if (rc < 0 && version_error(c, b, v->valuestring, rc, &err) < 0)
			return -1;
	}
	return 0;
}

static int delete_table_version(glue_call *c)
{
	char db[NAME_BUF], name[NAME_BUF];
	batch_versions b = { db, name, NULL, NULL, NULL };

	if (table_request(c, "TableName", MS_ACCESS_WRITE, db, name) < 0 ||
	    in_version(c, c->in, "VersionId", 1, &b.one) < 0)
		return -1;
	return glue_in_txn(c, delete_versions_in_txn, &b);
}

static int batch_delete_table_version(glue_call *c)
{
	char db[NAME_BUF], name[NAME_BUF];
	batch_versions b = { db, name, NULL, NULL, NULL };

	if (table_request(c, "TableName", MS_ACCESS_WRITE, db, name) < 0 ||
	    glue_in_array(c, c->in, "VersionIds", 1, 0, 100, &b.ids) < 0)
		return -1;
	if (!(b.errors = cJSON_AddArrayToObject(c->out, "Errors")))
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	return glue_in_txn(c, delete_versions_in_txn, &b);
}

const glue_op glue_table_ops[] = {
	{ "CreateTable", create_table },
	{ "GetTable", get_table },
	{ "GetTables", get_tables },
	{ "UpdateTable", update_table },
	{ "DeleteTable", delete_table },
	{ "BatchDeleteTable", batch_delete_table },
	{ "GetTableVersion", get_table_version },
	{ "GetTableVersions", get_table_versions },
	{ "DeleteTableVersion", delete_table_version },
	{ "BatchDeleteTableVersion", batch_delete_table_version },
	{ "SearchTables", glue_search_tables },
	{ NULL, NULL },
};
