/*
 * Glue operations on databases: CreateDatabase, GetDatabase, GetDatabases,
 * UpdateDatabase, DeleteDatabase.  Listings of another account's catalog
 * show only the databases a grant lets the caller read.
 */
#include <stdlib.h>
#include <string.h>

#include "server/glue_internal.h"
#include "util/strlist.h"

#define GETDATABASES_DEFAULT 100

/* The database entity of a DatabaseInput (new), or -1 with the call failed. */
static int database_from_input(glue_call *c, const cJSON *input, ms_entity **out)
{
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_entity_from_glue_input(out, MS_KIND_DATABASE, cJSON_Duplicate(input, 1), NULL, NULL,
				       &err);
	return rc < 0 ? glue_fail_err(c, rc, &err) : 0;
}

typedef struct db_write {
	ms_entity *db;
	int create; /* refuse an existing database; else refuse a missing one */
} db_write;

static int put_database(glue_call *c, void *ctx)
{
	db_write *w = ctx;
	ms_entity *old = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_catalog_get_database(c->cat, w->db->database, &old, &err);
	ms_entity_free(old);
	if (rc < 0 && rc != MS_ENOTFOUND)
		return glue_fail_err(c, rc, &err);
	if (w->create && rc == 0)
		return glue_fail(c, GLUE_E_EXISTS, "Database already exists.");
	if (!w->create && rc == MS_ENOTFOUND)
		return glue_fail(c, GLUE_E_NOT_FOUND, "Database %s not found.", w->db->database);
	if ((rc = ms_catalog_put_database(c->cat, w->db, &err)) < 0)
		return glue_fail_err(c, rc, &err);
	return 0;
}

/*
 * What Glue gives a database created without CreateTableDefaultPermissions
 * (Lake Formation's default: IAM permissions alone decide).
 */
static int default_permissions(glue_call *c, ms_entity *db)
{
	static const char deflt[] = "[{\"Principal\":{\"DataLakePrincipalIdentifier\":"
				    "\"IAM_ALLOWED_PRINCIPALS\"},\"Permissions\":[\"ALL\"]}]";
	cJSON *v;
	ms_error err;

	if (cJSON_GetObjectItemCaseSensitive(db->doc, "CreateTableDefaultPermissions"))
		return 0;
	ms_error_clear(&err);
	if (!(v = cJSON_Parse(deflt)) ||
	    !cJSON_AddItemToObject(db->doc, "CreateTableDefaultPermissions", v)) {
		cJSON_Delete(v);
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	if (ms_entity_rehash(db, &err) < 0)
		return glue_fail_err(c, MS_EIO, &err);
	return 0;
}

static int create_database(glue_call *c)
{
	const cJSON *input;
	char name[4 * MS_NAME_MAX + 1];
	db_write w = { NULL, 1 };
	int rc;

	if (glue_in_object(c, c->in, "DatabaseInput", 1, &input) < 0 ||
	    glue_in_name(c, input, "Name", 1, name, sizeof(name)) < 0 ||
	    glue_catalog(c, name, MS_ACCESS_WRITE) < 0 || database_from_input(c, input, &w.db) < 0)
		return -1;
	rc = default_permissions(c, w.db);
	if (rc == 0)
		rc = glue_in_txn(c, put_database, &w);
	ms_entity_free(w.db);
	return rc;
}

static int update_database(glue_call *c)
{
	const cJSON *input;
	char name[4 * MS_NAME_MAX + 1], inname[4 * MS_NAME_MAX + 1];
	db_write w = { NULL, 0 };
	int rc;

	if (glue_in_name(c, c->in, "Name", 1, name, sizeof(name)) < 0 ||
	    glue_in_object(c, c->in, "DatabaseInput", 1, &input) < 0 ||
	    glue_in_name(c, input, "Name", 1, inname, sizeof(inname)) < 0 ||
	    glue_catalog(c, name, MS_ACCESS_WRITE) < 0)
		return -1;
	if (strcmp(name, inname) != 0)
		return glue_fail(c, GLUE_E_INVALID,
				 "DatabaseInput.Name must be %s: a database cannot be renamed",
				 name);
	if (database_from_input(c, input, &w.db) < 0)
		return -1;
	rc = glue_in_txn(c, put_database, &w);
	ms_entity_free(w.db);
	return rc;
}

static int get_database(glue_call *c)
{
	char name[4 * MS_NAME_MAX + 1];
	ms_entity *e = NULL;
	ms_error err;
	int rc;

	if (glue_in_name(c, c->in, "Name", 1, name, sizeof(name)) < 0 ||
	    glue_catalog(c, name, MS_ACCESS_READ) < 0)
		return -1;
	ms_error_clear(&err);
	if ((rc = ms_catalog_get_database(c->cat, name, &e, &err)) == MS_ENOTFOUND)
		return glue_fail(c, GLUE_E_NOT_FOUND, "Database %s not found.", name);
	if (rc < 0)
		return glue_fail_err(c, rc, &err);
	rc = glue_add_entity(c, c->out, "Database", e);
	ms_entity_free(e);
	return rc;
}

/* Up to max databases after `after` the caller may read, into c->out's DatabaseList. */
static int list_databases(glue_call *c, const ms_strlist *names, const char *after, long long max)
{
	cJSON *list = cJSON_AddArrayToObject(c->out, "DatabaseList");
	const char *last = NULL;
	long long n = 0;
	size_t i;

	if (!list)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	for (i = 0; i < names->n; i++) {
		const char *name = names->v[i];
		ms_entity *e = NULL;
		ms_error err;
		int rc;

		if ((after && strcmp(name, after) <= 0) || !glue_may_read(c, name))
			continue;
		if (n == max)
			return glue_token_make(c, c->out, "db", last);
		ms_error_clear(&err);
		rc = ms_catalog_get_database(c->cat, name, &e, &err);
		if (rc == MS_ENOTFOUND)
			continue; /* deleted meanwhile */
		if (rc < 0)
			return glue_fail_err(c, rc, &err);
		rc = glue_add_entity(c, list, NULL, e);
		ms_entity_free(e);
		if (rc < 0)
			return -1;
		last = name;
		n++;
	}
	return 0;
}

static int get_databases(glue_call *c)
{
	long long max = GETDATABASES_DEFAULT;
	ms_strlist names;
	char *after = NULL;
	ms_error err;
	int rc;

	if (glue_in_int(c, c->in, "MaxResults", 1, 100, &max) < 0 ||
	    glue_token_parse(c, "db", &after) < 0)
		return -1;
	if (glue_catalog(c, NULL, MS_ACCESS_READ) < 0) {
		free(after);
		return -1;
	}
	memset(&names, 0, sizeof(names));
	ms_error_clear(&err);
	if ((rc = ms_catalog_list_databases(c->cat, ms_strlist_collect, &names, &err)) < 0)
		rc = glue_fail_err(c, rc, &err);
	else
		rc = list_databases(c, &names, after, max);
	ms_strlist_free(&names);
	free(after);
	return rc;
}

static int delete_database(glue_call *c)
{
	char name[4 * MS_NAME_MAX + 1];
	ms_error err;
	int rc;

	if (glue_in_name(c, c->in, "Name", 1, name, sizeof(name)) < 0 ||
	    glue_catalog(c, name, MS_ACCESS_WRITE) < 0)
		return -1;
	ms_error_clear(&err);
	if ((rc = ms_catalog_delete_database(c->cat, name, &err)) == MS_ENOTFOUND)
		return glue_fail(c, GLUE_E_NOT_FOUND, "Database %s not found.", name);
	if (rc < 0)
		return glue_fail_err(c, rc, &err);
	return 0;
}

const glue_op glue_database_ops[] = {
	{ "CreateDatabase", create_database }, { "GetDatabase", get_database },
	{ "GetDatabases", get_databases },     { "UpdateDatabase", update_database },
	{ "DeleteDatabase", delete_database }, { NULL, NULL },
};
