/*
 * Tables of the Hive Metastore driver (TBLS, PARTITION_KEYS, TABLE_PARAMS
 * and a storage descriptor), with the name lookups that tables and
 * partitions share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/catalog/hms_internal.h"

/* ---- lookups ------------------------------------------------------------ */

int hms_fold(char *dst, size_t n, const char *src, const char *what, ms_error *err)
{
	size_t i;

	if (!src || !*src || strlen(src) >= n)
		return ms_error_set(err, MS_EINVAL, "%s name '%s' is empty or too long", what,
				    src ? src : "");
	for (i = 0; src[i]; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
	dst[i] = '\0';
	return 0;
}

int hms_fold2(char *dn, char *tn, const char *db, const char *table, ms_error *err)
{
	int rc;

	if ((rc = hms_fold(dn, HMS_NAME_BUF, db, "database", err)) < 0)
		return rc;
	return hms_fold(tn, HMS_NAME_BUF, table, "table", err);
}

int hms_db_id(hms_catalog *self, const char *name, long long *id, int must, ms_error *err)
{
	const char *p[2] = { name, self->ctlg };
	rowset rs = { 0 };
	int rc = 0;

	if (hms_storable(self, name))
		rc = hms_q(self,
			   "SELECT \"DB_ID\" FROM \"DBS\" WHERE \"NAME\" = ? AND \"CTLG_NAME\" = ?",
			   p, 2, &rs, NULL, err);
	if (rc < 0)
		return rc;
	*id = rs.nrows ? strtoll(CELL(&rs, 0, 0), NULL, 10) : -1;
	hms_rowset_free(&rs);
	if (*id < 0 && must)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name,
				    self->base.url);
	return 0;
}

/* MS_ENOTFOUND for a missing table: naming the database when that is missing too. */
static int table_missing(hms_catalog *self, const char *db, const char *name, ms_error *err)
{
	long long dbid;
	int rc;

	if ((rc = hms_db_id(self, db, &dbid, 1, err)) < 0)
		return rc;
	return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, name,
			    self->base.url);
}

void hms_tblinfo_free(tblinfo *t)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->colsig);
	memset(t, 0, sizeof(*t));
}

/* Append one column to a signature (name, then type and comment with whether each is NULL). */
static int sig_add(ms_buf *sig, const char *name, const char *type, const char *comment)
{
	return ms_buf_printf(sig, "%s%c%d%s%c%d%s%c", name, 1, type != NULL, type ? type : "", 1,
			     comment != NULL, comment ? comment : "", 2);
}

/* The names of t's partition keys, in order. */
static int load_keys(hms_catalog *self, tblinfo *t, const char *idb, ms_error *err)
{
	const char *p[1] = { idb };
	rowset rs = { 0 };
	size_t i;
	int rc;

	if ((rc = hms_q(self,
			"SELECT \"PKEY_NAME\" FROM \"PARTITION_KEYS\" WHERE \"TBL_ID\" = ? ORDER "
			"BY "
			"\"INTEGER_IDX\"",
			p, 1, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows && !(t->keys = calloc(rs.nrows, sizeof(*t->keys)))) {
		hms_rowset_free(&rs);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	for (i = 0; i < rs.nrows; i++) {
		if (!(t->keys[i] = strdup(CELL(&rs, i, 0) ? CELL(&rs, i, 0) : ""))) {
			hms_rowset_free(&rs);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		t->nkeys++;
	}
	hms_rowset_free(&rs);
	return 0;
}

/* The signature of t's columns (CD t->cd) as Hive holds them. */
static int load_colsig(hms_catalog *self, tblinfo *t, const char *db, const char *name,
		       ms_error *err)
{
	ms_buf sig = MS_BUF_INIT((size_t)64 << 20);
	char idb[32];
	const char *p[1] = { idb };
	rowset rs = { 0 };
	size_t i;
	int rc;

	snprintf(idb, sizeof(idb), "%lld", t->cd);
	if ((rc = hms_q(self,
			"SELECT \"COLUMN_NAME\", \"TYPE_NAME\", \"COMMENT\" FROM \"COLUMNS_V2\" "
			"WHERE \"CD_ID\" = ? ORDER BY \"INTEGER_IDX\"",
			p, 1, &rs, NULL, err)) < 0)
		return rc;
	for (i = 0; i < rs.nrows && rc == 0; i++)
		rc = sig_add(&sig, CELL(&rs, i, 0), CELL(&rs, i, 1), CELL(&rs, i, 2));
	if (rc == 0)
		rc = ms_buf_add(&sig, "", 0);
	hms_rowset_free(&rs);
	if (rc < 0) {
		ms_buf_free(&sig);
		return ms_error_set(err, rc, "columns of '%s.%s' are too large", db, name);
	}
	t->colsig = ms_buf_detach(&sig);
	return 0;
}

/* Find a table; with must, MS_ENOTFOUND names the database or table. keys: load its keys. */
int hms_tbl_find(hms_catalog *self, const char *db, const char *name, int must, int keys,
		 tblinfo *t, ms_error *err)
{
	const char *p[3] = { db, self->ctlg, name };
	char idb[32];
	rowset rs = { 0 };
	int rc;

	memset(t, 0, sizeof(*t));
	t->id = -1;
	if (hms_storable(self, db) && hms_storable(self, name) &&
	    (rc = hms_q(self,
			"SELECT t.\"TBL_ID\", t.\"SD_ID\", t.\"CREATE_TIME\", s.\"CD_ID\" FROM "
			"\"TBLS\" t "
			"JOIN \"DBS\" d ON d.\"DB_ID\" = t.\"DB_ID\" LEFT JOIN \"SDS\" s ON "
			"s.\"SD_ID\" = t.\"SD_ID\" WHERE d.\"NAME\" = ? AND d.\"CTLG_NAME\" = ? "
			"AND "
			"t.\"TBL_NAME\" = ?",
			p, 3, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows) {
		t->id = strtoll(CELL(&rs, 0, 0), NULL, 10);
		t->sd = CELL(&rs, 0, 1) ? strtoll(CELL(&rs, 0, 1), NULL, 10) : -1;
		t->create = strtoll(CELL(&rs, 0, 2), NULL, 10);
		t->cd = CELL(&rs, 0, 3) ? strtoll(CELL(&rs, 0, 3), NULL, 10) : -1;
	}
	hms_rowset_free(&rs);
	if (t->id < 0)
		return must ? table_missing(self, db, name, err) : 0;
	if (!keys)
		return 0;
	snprintf(idb, sizeof(idb), "%lld", t->id);
	if ((rc = load_keys(self, t, idb, err)) < 0)
		return rc;
	return t->cd >= 0 ? load_colsig(self, t, db, name, err) : 0;
}

/* The same signature for a Glue column list. */
int hms_colsig(const cJSON *cols, ms_buf *sig)
{
	const cJSON *c;
	int rc = 0;

	ms_buf_reset(sig);
	cJSON_ArrayForEach(c, cols)
	{
		if (rc == 0)
			rc = sig_add(sig, hms_jstr(c, "Name") ? hms_jstr(c, "Name") : "",
				     hms_jstr(c, "Type"), hms_jstr(c, "Comment"));
	}
	return rc ? rc : ms_buf_add(sig, "", 0);
}

int hms_delete_table_by_id(hms_catalog *self, const tblinfo *t, ms_error *err)
{
	static const char *const steps[] = {
		"DELETE FROM \"TABLE_PARAMS\" WHERE \"TBL_ID\" = ?",
		"DELETE FROM \"PARTITION_KEYS\" WHERE \"TBL_ID\" = ?",
		"DELETE FROM \"TBL_PRIVS\" WHERE \"TBL_ID\" = ?",
		"DELETE FROM \"TBL_COL_PRIVS\" WHERE \"TBL_ID\" = ?",
		"DELETE FROM \"TAB_COL_STATS\" WHERE \"TBL_ID\" = ?",
		"DELETE FROM \"TBLS\" WHERE \"TBL_ID\" = ?",
	};
	char idb[32];
	idlist sds = { 0 };
	size_t i;
	int rc;

	if ((rc = hms_delete_all_parts(self, t->id, err)) < 0)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", t->id);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if ((rc = hms_q1(self, steps[i], idb, err)) < 0)
			return rc;
	if (t->sd >= 0) {
		if (hms_idlist_add(&sds, t->sd) < 0)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		rc = hms_delete_sds(self, &sds, err);
		free(sds.v);
	}
	return rc;
}

/* ---- tables ------------------------------------------------------------- */

int hms_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char n[HMS_NAME_BUF], idb[32];
	const char *p[1] = { idb };
	long long id;
	int rc;

	if ((rc = hms_fold(n, sizeof(n), db, "database", err)) < 0 ||
	    (rc = hms_db_id(self, n, &id, 1, err)) < 0)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", id);
	return hms_list_col(self,
			    "SELECT \"TBL_NAME\" FROM \"TBLS\" WHERE \"DB_ID\" = ? ORDER BY "
			    "\"TBL_NAME\"",
			    p, 1, cb, ctx, err);
}

/* The PartitionKeys of table id (text) into keys. */
static int read_keys(hms_catalog *self, const char *id, cJSON *keys, ms_error *err)
{
	rowset ks = { 0 };
	const char *kp[1] = { id };
	size_t i;
	int rc;

	if ((rc = hms_q(self,
			"SELECT \"PKEY_NAME\", \"PKEY_TYPE\", \"PKEY_COMMENT\" FROM "
			"\"PARTITION_KEYS\" WHERE \"TBL_ID\" = ? ORDER BY \"INTEGER_IDX\"",
			kp, 1, &ks, NULL, err)) < 0)
		return rc;
	for (i = 0; i < ks.nrows && rc == 0; i++) {
		cJSON *c = cJSON_CreateObject();

		if (!c) {
			rc = MS_ENOMEM;
			break;
		}
		cJSON_AddItemToArray(keys, c);
		if (hms_jadd_str(c, "Name", CELL(&ks, i, 0)) < 0 ||
		    hms_jadd_str(c, "Type", CELL(&ks, i, 1)) < 0 ||
		    hms_jadd_str(c, "Comment", CELL(&ks, i, 2)) < 0)
			rc = MS_ENOMEM;
	}
	hms_rowset_free(&ks);
	return rc < 0 ? ms_error_set(err, MS_ENOMEM, "out of memory") : 0;
}

/* The table's storage descriptor sd_id (text), shaped with the table's stash st, into doc. */
static int read_table_sd(hms_catalog *self, cJSON *doc, const char *sd_id, const cJSON *st,
			 ms_error *err)
{
	sdrows sf = { 0 };
	sdread sr = { 0 };
	int rc;

	if (hms_idlist_add(&sf.ids, strtoll(sd_id, NULL, 10)) < 0)
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	else if ((rc = hms_fetch_sds(self, &sf, err)) == 0 &&
		 (rc = hms_build_sds(&sf, &sr, err)) == 0 && sr.sd[0]) {
		hms_finish_sd(doc, sr.sd[0], sr.skew_values[0], sr.skew_maps[0], st);
		sr.sd[0] = sr.skew_values[0] = sr.skew_maps[0] = NULL;
	}
	hms_sdread_free(&sr);
	hms_sdrows_free(&sf);
	return rc;
}

int hms_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF];
	const char *p[3];
	rowset rs = { 0 };
	cJSON *doc = NULL, *params, *st, *keys;
	int rc;

	if ((rc = hms_fold2(dn, tn, db, name, err)) < 0)
		return rc;
	p[0] = dn;
	p[1] = self->ctlg;
	p[2] = tn;
	if (hms_storable(self, dn) && hms_storable(self, tn) &&
	    (rc = hms_q(self,
			"SELECT t.\"TBL_ID\", t.\"CREATE_TIME\", t.\"LAST_ACCESS_TIME\", "
			"t.\"OWNER\", "
			"t.\"RETENTION\", t.\"SD_ID\", t.\"TBL_TYPE\", t.\"VIEW_EXPANDED_TEXT\", "
			"t.\"VIEW_ORIGINAL_TEXT\" FROM \"TBLS\" t JOIN \"DBS\" d ON d.\"DB_ID\" = "
			"t.\"DB_ID\" WHERE d.\"NAME\" = ? AND d.\"CTLG_NAME\" = ? AND "
			"t.\"TBL_NAME\" = ?",
			p, 3, &rs, NULL, err)) < 0)
		return rc;
	if (!rs.nrows) {
		hms_rowset_free(&rs);
		return table_missing(self, dn, tn, err);
	}
	if (!(doc = cJSON_CreateObject()) || !cJSON_AddStringToObject(doc, "Name", tn) ||
	    !cJSON_AddStringToObject(doc, "DatabaseName", dn) ||
	    hms_jadd_num(doc, "CreateTime", CELL(&rs, 0, 1)) < 0 ||
	    hms_jadd_num(doc, "LastAccessTime", CELL(&rs, 0, 2)) < 0 ||
	    hms_jadd_str(doc, "Owner", CELL(&rs, 0, 3)) < 0 ||
	    hms_jadd_num(doc, "Retention", CELL(&rs, 0, 4)) < 0 ||
	    hms_jadd_str(doc, "TableType", CELL(&rs, 0, 6)) < 0 ||
	    hms_jadd_str(doc, "ViewExpandedText", CELL(&rs, 0, 7)) < 0 ||
	    hms_jadd_str(doc, "ViewOriginalText", CELL(&rs, 0, 8)) < 0 ||
	    !(params = cJSON_AddObjectToObject(doc, "Parameters")) ||
	    !(keys = cJSON_AddArrayToObject(doc, "PartitionKeys"))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = hms_read_params(self,
				  "SELECT \"PARAM_KEY\", \"PARAM_VALUE\" FROM \"TABLE_PARAMS\" "
				  "WHERE "
				  "\"TBL_ID\" = ?",
				  CELL(&rs, 0, 0), params, err)) < 0 ||
	    (rc = read_keys(self, CELL(&rs, 0, 0), keys, err)) < 0)
		goto done;
	st = hms_take_stash(doc);
	if (CELL(&rs, 0, 5) && (rc = read_table_sd(self, doc, CELL(&rs, 0, 5), st, err)) < 0) {
		cJSON_Delete(st);
		goto done;
	}
	rc = hms_finish_entity(self, out, MS_KIND_TABLE, doc, st, dn, NULL, err);
	doc = NULL;
done:
	cJSON_Delete(doc);
	hms_rowset_free(&rs);
	return rc;
}

/* Stash the table's fields with no column and the defaults it gives; MS_ENOMEM. */
static int stash_table_extras(stash *st, const cJSON *doc)
{
	static const char *const known[] = { "Name",
					     "DatabaseName",
					     "Owner",
					     "CreateTime",
					     "LastAccessTime",
					     "Retention",
					     "StorageDescriptor",
					     "PartitionKeys",
					     "ViewOriginalText",
					     "ViewExpandedText",
					     "TableType",
					     "Parameters",
					     "UpdateTime",
					     "VersionId",
					     "CatalogId",
					     "CreatedBy",
					     "IsRegisteredWithLakeFormation",
					     NULL };
	static const char *const key_known[] = { "Name", "Type", "Comment", NULL };
	const cJSON *f, *v;
	char label[MS_NAME_MAX + 64];
	int rc = 0, idx = 0;

	if ((rc = hms_stash_unknown(st, doc, known, "x")) < 0)
		return rc;
	if ((cJSON_IsNumber(hms_jget(doc, "Retention")) &&
	     hms_num(hms_jget(doc, "Retention"), 0) == 0 &&
	     (rc = hms_stash_default(st, "Retention")) < 0) ||
	    (cJSON_IsNumber(hms_jget(doc, "LastAccessTime")) &&
	     hms_num(hms_jget(doc, "LastAccessTime"), 0) == 0 &&
	     (rc = hms_stash_default(st, "LastAccessTime")) < 0) ||
	    (hms_empty_container(hms_jget(doc, "Parameters")) &&
	     (rc = hms_stash_default(st, "Parameters")) < 0) ||
	    (hms_empty_container(hms_jget(doc, "PartitionKeys")) &&
	     (rc = hms_stash_default(st, "PartitionKeys")) < 0))
		return rc;
	cJSON_ArrayForEach(v, hms_jget(doc, "PartitionKeys"))
	{
		cJSON_ArrayForEach(f, v)
		{
			if (!hms_in_list(key_known, f->string)) {
				snprintf(label, sizeof(label), "PartitionKeys[%d].%s", idx,
					 f->string);
				if ((rc = hms_stash_keep_at(st, "k", idx, f, label)) < 0)
					return rc;
			}
		}
		idx++;
	}
	return 0;
}

/*
 * The column descriptor of table t (as it stands) when sd's columns are the
 * same, as Hive keeps it on an alter that leaves them: its partitions share
 * it, and a new one would leave the old to be found unused.  *cd is -1
 * otherwise.
 */
static int same_cd(const tblinfo *t, const cJSON *sd, long long *cd, ms_error *err)
{
	ms_buf sig = MS_BUF_INIT(256);

	*cd = -1;
	if (t->id < 0 || t->cd < 0 || !t->colsig)
		return 0;
	if (hms_colsig(hms_jget(sd, "Columns"), &sig) < 0) {
		ms_buf_free(&sig);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if (strcmp(sig.ptr, t->colsig) == 0)
		*cd = t->cd;
	ms_buf_free(&sig);
	return 0;
}

/*
 * Write the table's storage descriptor sd on ids reserved now (its column
 * descriptor: t's when the columns are the same); *sd_id is its SD_ID.
 */
static int write_table_sd(hms_catalog *self, const subject *s, const cJSON *sd, const tblinfo *t,
			  stash *st, long long *sd_id, ms_error *err)
{
	sdjob j = { s, sd, -1, -1, -1, -1, NULL, st };
	sdwriter w;
	long long lists = 0, *list_ids = NULL;
	size_t nl = hms_sd_lists(sd), i;
	int rc;

	hms_sdw_init(&w, self);
	if ((hms_jget(sd, "Columns") && (rc = same_cd(t, sd, &j.cd_id, err)) < 0) ||
	    (rc = hms_reserve_ids(self, MODEL "MStorageDescriptor", "SDS", "SD_ID", 1, &j.sd_id,
				  err)) < 0 ||
	    (hms_jget(sd, "SerdeInfo") &&
	     (rc = hms_reserve_ids(self, MODEL "MSerDeInfo", "SERDES", "SERDE_ID", 1, &j.serde_id,
				   err)) < 0) ||
	    (hms_jget(sd, "Columns") && j.cd_id < 0 &&
	     (rc = hms_reserve_ids(self, MODEL "MColumnDescriptor", "CDS", "CD_ID", 1, &j.new_cd,
				   err)) < 0) ||
	    (nl && (rc = hms_reserve_ids(self, MODEL "MStringList", "SKEWED_STRING_LIST",
					 "STRING_LIST_ID", nl, &lists, err)) < 0))
		goto done;
	if (nl && !(list_ids = calloc(nl, sizeof(*list_ids)))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < nl; i++)
		list_ids[i] = lists + (long long)i;
	j.lists = list_ids;
	*sd_id = j.sd_id;
	if ((rc = hms_write_sd(self, &w, &j, err)) == 0)
		rc = hms_sdw_flush(&w, err);
done:
	hms_sdw_free(&w);
	free(list_ids);
	return rc;
}

/*
 * The table's Parameters (*out, new) with what Hive's tools expect:
 * EXTERNAL=TRUE on external tables, transient_lastDdlTime.  What is added
 * is noted in the stash ("a"), so that reading gives back what was written.
 */
static int hive_params(const cJSON *doc, stash *st, cJSON **out)
{
	const cJSON *given = hms_jget(doc, "Parameters");
	const char *type = hms_jstr(doc, "TableType");
	char now[32];
	cJSON *params, *a;

	if (!(*out = params = given ? cJSON_Duplicate(given, 1) : cJSON_CreateObject()))
		return MS_ENOMEM;
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	if ((type && strcmp(type, "EXTERNAL_TABLE") == 0 && !hms_jget(params, "EXTERNAL") &&
	     (!cJSON_AddStringToObject(params, "EXTERNAL", "TRUE") ||
	      hms_stash_obj(st, "a", &a) < 0 || !cJSON_AddStringToObject(a, "EXTERNAL", "TRUE"))) ||
	    (!hms_jget(params, "transient_lastDdlTime") &&
	     (!cJSON_AddStringToObject(params, "transient_lastDdlTime", now) ||
	      hms_stash_obj(st, "a", &a) < 0 ||
	      !cJSON_AddStringToObject(a, "transient_lastDdlTime", now))))
		return MS_ENOMEM;
	return 0;
}

/*
 * The table's id: a new one, or the existing table's, whose parameters and
 * keys go (they are written again).
 */
static int table_id(hms_catalog *self, const tblinfo *t, long long *tid, ms_error *err)
{
	char idb[32];
	int rc;

	if (t->id < 0)
		return hms_reserve_ids(self, MODEL "MTable", "TBLS", "TBL_ID", 1, tid, err);
	*tid = t->id;
	snprintf(idb, sizeof(idb), "%lld", *tid);
	if ((rc = hms_q1(self, "DELETE FROM \"TABLE_PARAMS\" WHERE \"TBL_ID\" = ?", idb, err)) < 0)
		return rc;
	return hms_q1(self, "DELETE FROM \"PARTITION_KEYS\" WHERE \"TBL_ID\" = ?", idb, err);
}

/* The TBLS row of table tid: inserted for a new table (t->id < 0), else updated. */
static int write_tbls_row(hms_catalog *self, const ms_entity *e, const tblinfo *t, long long tid,
			  long long dbid, long long sd_id, int has_sd, ms_error *err)
{
	char idb[32], sdb[32], dbb[32], ctb[32], lab[32], retb[32];
	const char *p[12];

	snprintf(idb, sizeof(idb), "%lld", tid);
	snprintf(sdb, sizeof(sdb), "%lld", sd_id);
	snprintf(dbb, sizeof(dbb), "%lld", dbid);
	snprintf(ctb, sizeof(ctb), "%lld",
		 t->id >= 0 ? t->create
			    : hms_num(hms_jget(e->doc, "CreateTime"), (long long)time(NULL)));
	snprintf(lab, sizeof(lab), "%lld", hms_num(hms_jget(e->doc, "LastAccessTime"), 0));
	snprintf(retb, sizeof(retb), "%lld", hms_num(hms_jget(e->doc, "Retention"), 0));
	p[0] = ctb;
	p[1] = dbb;
	p[2] = lab;
	p[3] = hms_jstr(e->doc, "Owner");
	p[4] = retb;
	p[5] = has_sd ? sdb : NULL;
	p[6] = e->table;
	p[7] = hms_jstr(e->doc, "TableType");
	p[8] = hms_jstr(e->doc, "ViewExpandedText");
	p[9] = hms_jstr(e->doc, "ViewOriginalText");
	p[10] = idb;
	p[11] = hms_jstr(e->doc, "Owner") ? "USER" : NULL;
	if (t->id < 0)
		return hms_q(self,
			     "INSERT INTO \"TBLS\" (\"CREATE_TIME\", \"DB_ID\", "
			     "\"LAST_ACCESS_TIME\", "
			     "\"OWNER\", \"RETENTION\", \"SD_ID\", \"TBL_NAME\", \"TBL_TYPE\", "
			     "\"VIEW_EXPANDED_TEXT\", \"VIEW_ORIGINAL_TEXT\", \"TBL_ID\", "
			     "\"OWNER_TYPE\", "
			     "\"IS_REWRITE_ENABLED\") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
			     "(1 = 0))",
			     p, 12, NULL, NULL, err);
	return hms_q(self,
		     "UPDATE \"TBLS\" SET \"CREATE_TIME\" = ?, \"DB_ID\" = ?, "
		     "\"LAST_ACCESS_TIME\" = ?, \"OWNER\" = ?, \"RETENTION\" = ?, \"SD_ID\" = ?, "
		     "\"TBL_NAME\" = ?, \"TBL_TYPE\" = ?, \"VIEW_EXPANDED_TEXT\" = ?, "
		     "\"VIEW_ORIGINAL_TEXT\" = ? WHERE \"TBL_ID\" = ?",
		     p, 11, NULL, NULL, err);
}

/* Delete an existing table's old storage descriptor, when it had one. */
static int delete_old_sd(hms_catalog *self, const tblinfo *t, ms_error *err)
{
	idlist old = { 0 };
	int rc;

	if (t->id < 0 || t->sd < 0)
		return 0;
	if (hms_idlist_add(&old, t->sd) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	rc = hms_delete_sds(self, &old, err);
	free(old.v);
	return rc;
}

/* The PARTITION_KEYS rows of table tid. */
static int write_keys(hms_catalog *self, const subject *s, long long tid, const cJSON *keys,
		      ms_error *err)
{
	static const char *const key_cols[] = { "TBL_ID", "PKEY_NAME", "PKEY_TYPE", "PKEY_COMMENT",
						"INTEGER_IDX" };
	inserter in;
	const cJSON *v;
	int rc = 0, idx = 0;

	hms_ins_init(&in, self, "PARTITION_KEYS", key_cols, NULL, 5);
	cJSON_ArrayForEach(v, keys)
	{
		CHECK("PARTITION_KEYS.PKEY_NAME", hms_jstr(v, "Name"));
		CHECK("PARTITION_KEYS.PKEY_TYPE", hms_jstr(v, "Type"));
		CHECK("PARTITION_KEYS.PKEY_COMMENT", hms_jstr(v, "Comment"));
		PL(&in, tid);
		P(&in, hms_jstr(v, "Name"));
		P(&in, hms_jstr(v, "Type") ? hms_jstr(v, "Type") : "");
		P(&in, hms_jstr(v, "Comment"));
		PL(&in, idx++);
		if ((rc = hms_ins_row(&in, err)) < 0)
			goto done;
	}
	rc = hms_ins_flush(&in, err);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	hms_ins_free(&in);
	return rc;
}

/*
 * Create or replace a table: its storage descriptor first (a new one each
 * time; the old one goes after the TBLS row no longer points at it), then
 * the TBLS row, its keys and parameters, all in one call's transaction.
 */
int hms_put_table(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	subject subj = { MS_KIND_TABLE, NULL, NULL, NULL }, *s = &subj;
	stash st = { NULL, MS_BUF_INIT(4096) };
	const cJSON *sd;
	char *stext = NULL;
	tblinfo t = { 0 };
	cJSON *params = NULL;
	long long dbid, tid, sd_id = -1;
	int rc, began = 0;

	if (!e || e->kind != MS_KIND_TABLE || !cJSON_IsObject(e->doc)) {
		rc = ms_error_set(err, MS_EINVAL, "entity given to put_table is not a table");
		goto done;
	}
	subj.db = e->database;
	subj.table = e->table;
	sd = hms_jget(e->doc, "StorageDescriptor");
	if (sd && !cJSON_IsObject(sd))
		sd = NULL;
	if ((rc = stash_table_extras(&st, e->doc)) < 0)
		goto oom;
	CHECK("TBLS.TBL_NAME", e->table);
	CHECK("TBLS.OWNER", hms_jstr(e->doc, "Owner"));
	CHECK("TBLS.TBL_TYPE", hms_jstr(e->doc, "TableType"));

	if ((rc = hms_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = hms_db_id(self, e->database, &dbid, 1, err)) < 0 ||
	    (rc = hms_tbl_find(self, e->database, e->table, 0, 1, &t, err)) < 0 ||
	    (sd && (rc = write_table_sd(self, s, sd, &t, &st, &sd_id, err)) < 0))
		goto done;
	if ((rc = hive_params(e->doc, &st, &params)) < 0 || (rc = hms_stash_text(&st, &stext)) < 0)
		goto oom;
	if ((rc = table_id(self, &t, &tid, err)) < 0 ||
	    (rc = write_tbls_row(self, e, &t, tid, dbid, sd_id, sd != NULL, err)) < 0 ||
	    (rc = delete_old_sd(self, &t, err)) < 0 ||
	    (rc = write_keys(self, s, tid, hms_jget(e->doc, "PartitionKeys"), err)) < 0 ||
	    (rc = hms_write_params(self, s, "TABLE_PARAMS", tid, params, stext, err)) < 0)
		goto done;
	if (st.fields.len)
		hms_warn(self, s, st.fields.ptr);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	if (began)
		rc = hms_call_end(self, rc, err);
	hms_tblinfo_free(&t);
	cJSON_Delete(params);
	free(stext);
	hms_stash_free(&st);
	return rc;
}

int hms_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF];
	tblinfo t;
	int rc, began = 0;

	if ((rc = hms_fold2(dn, tn, db, name, err)) < 0)
		return rc;
	if ((rc = hms_call_begin(self, err)) < 0)
		return rc;
	began = 1;
	if ((rc = hms_tbl_find(self, dn, tn, 1, 0, &t, err)) < 0)
		goto done;
	rc = hms_delete_table_by_id(self, &t, err);
done:
	hms_tblinfo_free(&t);
	if (began)
		rc = hms_call_end(self, rc, err);
	return rc;
}
