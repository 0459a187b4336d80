/*
 * Databases of the Hive Metastore driver (DBS and DATABASE_PARAMS), and the
 * params tables' reading and writing that databases, tables and
 * partitions share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"

int hms_list_col(hms_catalog *self, const char *sql, const char *const *p, size_t n, ms_name_cb cb,
		 void *ctx, ms_error *err)
{
	rowset rs = { 0 };
	size_t i;
	int rc = hms_q(self, sql, p, n, &rs, NULL, err);

	for (i = 0; rc == 0 && i < rs.nrows; i++)
		if (CELL(&rs, i, 0))
			rc = cb(CELL(&rs, i, 0), ctx, err);
	hms_rowset_free(&rs);
	return rc;
}

int hms_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	const char *p[1] = { self->ctlg };

	return hms_list_col(self,
			    "SELECT \"NAME\" FROM \"DBS\" WHERE \"CTLG_NAME\" = ? ORDER BY "
			    "\"NAME\"",
			    p, 1, cb, ctx, err);
}

/* Read a params table (id, key, value) into obj. */
int hms_read_params(hms_catalog *self, const char *sql, const char *id, cJSON *obj, ms_error *err)
{
	rowset rs = { 0 };
	size_t i;
	const char *p[1] = { id };
	int rc = hms_q(self, sql, p, 1, &rs, NULL, err);
	for (i = 0; rc == 0 && i < rs.nrows; i++)
		if (hms_jadd_str(obj, CELL(&rs, i, 0), CELL(&rs, i, 1) ? CELL(&rs, i, 1) : "") < 0)
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	hms_rowset_free(&rs);
	return rc;
}

int hms_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char n[HMS_NAME_BUF];
	const char *p[2];
	rowset rs = { 0 };
	cJSON *doc = NULL, *params;
	int rc;

	if ((rc = hms_fold(n, sizeof(n), name, "database", err)) < 0)
		return rc;
	p[0] = n;
	p[1] = self->ctlg;
	if (!hms_storable(self, n))
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", n,
				    cat->url);
	if ((rc = hms_q(self,
			"SELECT \"DB_ID\", \"DESC\", \"DB_LOCATION_URI\" FROM \"DBS\" WHERE "
			"\"NAME\" = ? "
			"AND \"CTLG_NAME\" = ?",
			p, 2, &rs, NULL, err)) < 0)
		return rc;
	if (!rs.nrows) {
		hms_rowset_free(&rs);
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", n,
				    cat->url);
	}
	if (!(doc = cJSON_CreateObject()) || !cJSON_AddStringToObject(doc, "Name", n) ||
	    hms_jadd_str(doc, "Description", CELL(&rs, 0, 1)) < 0 ||
	    hms_jadd_str(doc, "LocationUri", CELL(&rs, 0, 2)) < 0 ||
	    !(params = cJSON_AddObjectToObject(doc, "Parameters"))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = hms_read_params(self,
				  "SELECT \"PARAM_KEY\", \"PARAM_VALUE\" FROM \"DATABASE_PARAMS\" "
				  "WHERE "
				  "\"DB_ID\" = ?",
				  CELL(&rs, 0, 0), params, err)) < 0)
		goto done;
	rc = hms_finish_entity(self, out, MS_KIND_DATABASE, doc, hms_take_stash(doc), NULL, NULL,
			       err);
	doc = NULL;
done:
	cJSON_Delete(doc);
	hms_rowset_free(&rs);
	return rc;
}

int hms_param_rows(hms_catalog *self, const subject *s, inserter *in, long long id,
		   const cJSON *params, const char *stash_value, ms_error *err)
{
	char kcol[64], vcol[64];
	const cJSON *v;
	int rc = 0;

	snprintf(kcol, sizeof(kcol), "%s.PARAM_KEY", in->table);
	snprintf(vcol, sizeof(vcol), "%s.PARAM_VALUE", in->table);
	cJSON_ArrayForEach(v, params)
	{
		if (strcmp(v->string, HMS_STASH) == 0)
			continue;
		CHECK(kcol, v->string);
		CHECK(vcol, cJSON_IsString(v) ? v->valuestring : NULL);
		PL(in, id);
		P(in, v->string);
		P(in, cJSON_IsString(v) ? v->valuestring : NULL);
		if ((rc = hms_ins_row(in, err)) < 0)
			goto done;
	}
	if (stash_value) {
		CHECK(vcol, stash_value);
		PL(in, id);
		P(in, HMS_STASH);
		P(in, stash_value);
		if ((rc = hms_ins_row(in, err)) < 0)
			goto done;
	}
	return 0;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	return rc;
}

/* Insert a Parameters object (and the stash) into a (id, key, value) params table. */
int hms_write_params(hms_catalog *self, const subject *s, const char *table, long long id,
		     const cJSON *params, const char *stash_value, ms_error *err)
{
	const char *c[3] = { NULL, "PARAM_KEY", "PARAM_VALUE" };
	inserter in;
	int rc;

	c[0] = strcmp(table, "DATABASE_PARAMS") == 0 ? "DB_ID"
	       : strcmp(table, "TABLE_PARAMS") == 0  ? "TBL_ID"
						     : "PART_ID";
	hms_ins_init(&in, self, table, c, NULL, 3);
	if ((rc = hms_param_rows(self, s, &in, id, params, stash_value, err)) == 0)
		rc = hms_ins_flush(&in, err);
	hms_ins_free(&in);
	return rc;
}

int hms_put_database(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	static const char *const known[] = { "Name",       "Description", "LocationUri",
					     "Parameters", "CreateTime",  "CatalogId",
					     NULL };
	hms_catalog *self = (hms_catalog *)cat;
	subject subj = { MS_KIND_DATABASE, NULL, NULL, NULL }, *s = &subj;
	stash st = { NULL, MS_BUF_INIT(4096) };
	char idb[32], *stext = NULL;
	const char *p[5];
	long long id;
	int rc, began = 0;

	if (!e || e->kind != MS_KIND_DATABASE || !cJSON_IsObject(e->doc))
		return ms_error_set(err, MS_EINVAL,
				    "entity given to put_database is not a database");
	subj.db = e->database;
	if ((rc = hms_stash_unknown(&st, e->doc, known, "x")) < 0 ||
	    (hms_jget(e->doc, "LocationUri") &&
	     !*(hms_jstr(e->doc, "LocationUri") ? hms_jstr(e->doc, "LocationUri") : "x") &&
	     (rc = hms_stash_default(&st, "LocationUri")) < 0) ||
	    (hms_empty_container(hms_jget(e->doc, "Parameters")) &&
	     (rc = hms_stash_default(&st, "Parameters")) < 0) ||
	    (rc = hms_stash_text(&st, &stext)) < 0)
		goto oom;
	CHECK("DBS.NAME", e->database);
	CHECK("DBS.DESC", hms_jstr(e->doc, "Description"));
	CHECK("DBS.DB_LOCATION_URI", hms_jstr(e->doc, "LocationUri"));
	if ((rc = hms_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = hms_db_id(self, e->database, &id, 0, err)) < 0)
		goto done;
	if (id < 0) {
		if ((rc = hms_reserve_ids(self, MODEL "MDatabase", "DBS", "DB_ID", 1, &id, err)) <
		    0)
			goto done;
		snprintf(idb, sizeof(idb), "%lld", id);
		p[0] = idb;
		p[1] = hms_jstr(e->doc, "Description");
		p[2] = hms_jstr(e->doc, "LocationUri") ? hms_jstr(e->doc, "LocationUri") : "";
		p[3] = e->database;
		p[4] = self->ctlg;
		rc = hms_q(self,
			   "INSERT INTO \"DBS\" (\"DB_ID\", \"DESC\", \"DB_LOCATION_URI\", "
			   "\"NAME\", "
			   "\"CTLG_NAME\") VALUES (?, ?, ?, ?, ?)",
			   p, 5, NULL, NULL, err);
	} else {
		snprintf(idb, sizeof(idb), "%lld", id);
		p[0] = hms_jstr(e->doc, "Description");
		p[1] = hms_jstr(e->doc, "LocationUri") ? hms_jstr(e->doc, "LocationUri") : "";
		p[2] = idb;
		rc = hms_q(self,
			   "UPDATE \"DBS\" SET \"DESC\" = ?, \"DB_LOCATION_URI\" = ? WHERE "
			   "\"DB_ID\" = ?",
			   p, 3, NULL, NULL, err);
		if (rc == 0)
			rc = hms_q1(self, "DELETE FROM \"DATABASE_PARAMS\" WHERE \"DB_ID\" = ?",
				    idb, err);
	}
	if (rc < 0)
		goto done;
	if ((rc = hms_write_params(self, s, "DATABASE_PARAMS", id, hms_jget(e->doc, "Parameters"),
				   stext, err)) < 0)
		goto done;
	if (st.fields.len)
		hms_warn(self, s, st.fields.ptr);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	if (began)
		rc = hms_call_end(self, rc, err);
	free(stext);
	hms_stash_free(&st);
	return rc;
}

int hms_delete_database(ms_catalog *cat, const char *name, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char n[HMS_NAME_BUF], idb[32];
	const char *p[1] = { idb };
	rowset rs = { 0 };
	long long id;
	size_t i;
	int rc, began = 0;

	if ((rc = hms_fold(n, sizeof(n), name, "database", err)) < 0)
		return rc;
	if ((rc = hms_call_begin(self, err)) < 0)
		return rc;
	began = 1;
	if ((rc = hms_db_id(self, n, &id, 1, err)) < 0)
		goto done;
	snprintf(idb, sizeof(idb), "%lld", id);
	if ((rc = hms_q(self,
			"SELECT t.\"TBL_ID\", t.\"SD_ID\" FROM \"TBLS\" t WHERE t.\"DB_ID\" = ?", p,
			1, &rs, NULL, err)) < 0)
		goto done;
	for (i = 0; i < rs.nrows && rc == 0; i++) {
		tblinfo t = { 0 };

		t.id = strtoll(CELL(&rs, i, 0), NULL, 10);
		t.sd = CELL(&rs, i, 1) ? strtoll(CELL(&rs, i, 1), NULL, 10) : -1;
		rc = hms_delete_table_by_id(self, &t, err);
	}
	if (rc < 0)
		goto done;
	if ((rc = hms_q1(self, "DELETE FROM \"DATABASE_PARAMS\" WHERE \"DB_ID\" = ?", idb, err)) <
		    0 ||
	    (rc = hms_q1(self, "DELETE FROM \"DB_PRIVS\" WHERE \"DB_ID\" = ?", idb, err)) < 0 ||
	    (rc = hms_q1(self, "DELETE FROM \"DBS\" WHERE \"DB_ID\" = ?", idb, err)) < 0)
		goto done;
done:
	hms_rowset_free(&rs);
	if (began)
		rc = hms_call_end(self, rc, err);
	return rc;
}
