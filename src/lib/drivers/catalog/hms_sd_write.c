/*
 * Writing and deleting storage descriptors for the Hive Metastore driver:
 * the rows of SDS, SERDES, CDS, COLUMNS_V2, the skew tables and their
 * parameters, added through one inserter per table and flushed together in
 * foreign-key order; what Hive has no column for goes into the stash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"
#include "drivers/catalog/hms_map.h"

/* ---- deleting storage descriptors --------------------------------------- */

/*
 * Out of cds, the column descriptors a storage descriptor still uses (a
 * table's, which its partitions share): one probe each that stops at its
 * first row.  Hive's PostgreSQL schema has no index on SDS.CD_ID, so the
 * NOT EXISTS of the deletes that follow reads all of SDS for each
 * descriptor left to them; a shared one is found in the first rows.
 */
static int drop_used_cds(hms_catalog *self, idlist *cds, ms_error *err)
{
	size_t i, kept = 0;
	int rc;

	for (i = 0; i < cds->n; i++) {
		char id[24];
		const char *p[1] = { id };
		rowset rs = { 0 };

		snprintf(id, sizeof(id), "%lld", cds->v[i]);
		rc = hms_q(self, "SELECT 1 FROM \"SDS\" WHERE \"CD_ID\" = ? LIMIT 1", p, 1, &rs,
			   NULL, err);
		if (rc == 0 && rs.nrows == 0)
			cds->v[kept++] = cds->v[i];
		hms_rowset_free(&rs);
		if (rc < 0)
			return rc;
	}
	cds->n = kept;
	return 0;
}

/*
 * Delete storage descriptors (rows that referenced them are gone or
 * re-pointed already) with their parameters, SerDes, skew lists, and the
 * column descriptors no other SDS row uses.
 */
int hms_delete_sds(hms_catalog *self, idlist *sds, ms_error *err)
{
	static const char *const by_sd[] = {
		"DELETE FROM \"SD_PARAMS\" WHERE \"SD_ID\" IN ",
		"DELETE FROM \"BUCKETING_COLS\" WHERE \"SD_ID\" IN ",
		"DELETE FROM \"SORT_COLS\" WHERE \"SD_ID\" IN ",
		"DELETE FROM \"SKEWED_COL_NAMES\" WHERE \"SD_ID\" IN ",
		"DELETE FROM \"SKEWED_VALUES\" WHERE \"SD_ID_OID\" IN ",
		"DELETE FROM \"SKEWED_COL_VALUE_LOC_MAP\" WHERE \"SD_ID\" IN ",
	};
	idlist serdes = { 0 }, cds = { 0 }, lists = { 0 };
	rowset rs = { 0 };
	size_t i;
	int rc;

	hms_idlist_unique(sds);
	if (sds->n == 0)
		return 0;
	if ((rc = hms_q_in(self, "SELECT \"SERDE_ID\", \"CD_ID\" FROM \"SDS\" WHERE \"SD_ID\" IN ",
			   NULL, NULL, 0, sds, &rs, err)) < 0)
		goto done;
	if (hms_ids_from_rows(&rs, 0, &serdes, 1, &cds) < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	hms_rowset_free(&rs);
	if ((rc = hms_q_in(self,
			   "SELECT \"STRING_LIST_ID_EID\" FROM \"SKEWED_VALUES\" WHERE "
			   "\"SD_ID_OID\" IN ",
			   NULL, NULL, 0, sds, &rs, err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"STRING_LIST_ID_KID\" FROM \"SKEWED_COL_VALUE_LOC_MAP\" WHERE "
			   "\"SD_ID\" IN ",
			   NULL, NULL, 0, sds, &rs, err)) < 0)
		goto done;
	if (hms_ids_from_rows(&rs, 0, &lists, 0, NULL) < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	hms_rowset_free(&rs);
	hms_idlist_unique(&lists);
	hms_idlist_unique(&serdes);
	hms_idlist_unique(&cds);
	for (i = 0; i < sizeof(by_sd) / sizeof(by_sd[0]); i++)
		if ((rc = hms_q_in(self, by_sd[i], NULL, NULL, 0, sds, NULL, err)) < 0)
			goto done;
	if ((rc = hms_q_in(self,
			   "DELETE FROM \"SKEWED_STRING_LIST_VALUES\" WHERE \"STRING_LIST_ID\" IN ",
			   NULL, NULL, 0, &lists, NULL, err)) < 0 ||
	    (rc = hms_q_in(self, "DELETE FROM \"SKEWED_STRING_LIST\" WHERE \"STRING_LIST_ID\" IN ",
			   NULL, NULL, 0, &lists, NULL, err)) < 0 ||
	    (rc = hms_q_in(self, "DELETE FROM \"SDS\" WHERE \"SD_ID\" IN ", NULL, NULL, 0, sds,
			   NULL, err)) < 0 ||
	    (rc = hms_q_in(self, "DELETE FROM \"SERDE_PARAMS\" WHERE \"SERDE_ID\" IN ", NULL, NULL,
			   0, &serdes, NULL, err)) < 0 ||
	    (rc = hms_q_in(self, "DELETE FROM \"SERDES\" WHERE \"SERDE_ID\" IN ", NULL, NULL, 0,
			   &serdes, NULL, err)) < 0 ||
	    (rc = drop_used_cds(self, &cds, err)) < 0 ||
	    (rc = hms_q_in(self,
			   "DELETE FROM \"COLUMNS_V2\" WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s "
			   "WHERE "
			   "s.\"CD_ID\" = \"COLUMNS_V2\".\"CD_ID\") AND \"CD_ID\" IN ",
			   NULL, NULL, 0, &cds, NULL, err)) < 0 ||
	    (rc = hms_q_in(self,
			   "DELETE FROM \"CDS\" WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE "
			   "s.\"CD_ID\" = \"CDS\".\"CD_ID\") AND \"CD_ID\" IN ",
			   NULL, NULL, 0, &cds, NULL, err)) < 0)
		goto done;
done:
	hms_rowset_free(&rs);
	free(serdes.v);
	free(cds.v);
	free(lists.v);
	return rc;
}

/* ---- writing storage descriptors ---------------------------------------- */

void hms_sdw_init(sdwriter *w, hms_catalog *self)
{
	static const char *const serdes[] = { "SERDE_ID", "NAME", "SLIB" };
	static const char *const kv3[] = { "SERDE_ID", "PARAM_KEY", "PARAM_VALUE" };
	static const char *const cds[] = { "CD_ID" };
	static const char *const cols[] = { "CD_ID", "COLUMN_NAME", "TYPE_NAME", "COMMENT",
					    "INTEGER_IDX" };
	static const char *const sds[] = { "SD_ID",    "INPUT_FORMAT", "IS_COMPRESSED",
					   "LOCATION", "NUM_BUCKETS",  "OUTPUT_FORMAT",
					   "SERDE_ID", "CD_ID",        "IS_STOREDASSUBDIRECTORIES" };
	static const char *const sdmarks[] = { "?", "?", "(? = 1)", "?",      "?",
					       "?", "?", "?",       "(? = 1)" };
	static const char *const sdp[] = { "SD_ID", "PARAM_KEY", "PARAM_VALUE" };
	static const char *const bucket[] = { "SD_ID", "BUCKET_COL_NAME", "INTEGER_IDX" };
	static const char *const sort[] = { "SD_ID", "COLUMN_NAME", "ORDER", "INTEGER_IDX" };
	static const char *const skc[] = { "SD_ID", "SKEWED_COL_NAME", "INTEGER_IDX" };
	static const char *const skl[] = { "STRING_LIST_ID" };
	static const char *const sklv[] = { "STRING_LIST_ID", "STRING_LIST_VALUE", "INTEGER_IDX" };
	static const char *const skv[] = { "SD_ID_OID", "STRING_LIST_ID_EID", "INTEGER_IDX" };
	static const char *const skm[] = { "SD_ID", "STRING_LIST_ID_KID", "LOCATION" };

	hms_ins_init(&w->serdes, self, "SERDES", serdes, NULL, 3);
	hms_ins_init(&w->serde_params, self, "SERDE_PARAMS", kv3, NULL, 3);
	hms_ins_init(&w->cds, self, "CDS", cds, NULL, 1);
	hms_ins_init(&w->cols, self, "COLUMNS_V2", cols, NULL, 5);
	hms_ins_init(&w->sds, self, "SDS", sds, sdmarks, 9);
	hms_ins_init(&w->sd_params, self, "SD_PARAMS", sdp, NULL, 3);
	hms_ins_init(&w->bucket, self, "BUCKETING_COLS", bucket, NULL, 3);
	hms_ins_init(&w->sort, self, "SORT_COLS", sort, NULL, 4);
	hms_ins_init(&w->skcols, self, "SKEWED_COL_NAMES", skc, NULL, 3);
	hms_ins_init(&w->sklist, self, "SKEWED_STRING_LIST", skl, NULL, 1);
	hms_ins_init(&w->sklistv, self, "SKEWED_STRING_LIST_VALUES", sklv, NULL, 3);
	hms_ins_init(&w->skvals, self, "SKEWED_VALUES", skv, NULL, 3);
	hms_ins_init(&w->skmap, self, "SKEWED_COL_VALUE_LOC_MAP", skm, NULL, 3);
}

/* Flush in foreign-key order. */
int hms_sdw_flush(sdwriter *w, ms_error *err)
{
	inserter *order[] = { &w->serdes,    &w->serde_params, &w->cds,  &w->cols,   &w->sds,
			      &w->sd_params, &w->bucket,       &w->sort, &w->skcols, &w->sklist,
			      &w->sklistv,   &w->skvals,       &w->skmap };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((rc = hms_ins_flush(order[i], err)) < 0)
			return rc;
	return 0;
}

void hms_sdw_free(sdwriter *w)
{
	inserter *all[] = { &w->serdes,    &w->serde_params, &w->cds,  &w->cols,   &w->sds,
			    &w->sd_params, &w->bucket,       &w->sort, &w->skcols, &w->sklist,
			    &w->sklistv,   &w->skvals,       &w->skmap };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		hms_ins_free(all[i]);
}

/*
 * End a row of one of w's inserters.  The rows of storage descriptors refer
 * to each other (SDS to SERDES and CDS, their children to SDS), so no
 * inserter flushes alone: when one is full, all are flushed in foreign-key
 * order, and hms_write_sd adds every parent row before its children.
 */
static int sdw_row(sdwriter *w, inserter *in, ms_error *err)
{
	in->rows++;
	if (in->p.n + in->ncols > HMS_MAX_PARAMS || in->rows >= HMS_BATCH)
		return hms_sdw_flush(w, err);
	return 0;
}

/* A step's failure: out of memory (a document's or a parameter's) as MS_ENOMEM, else rc. */
static int sd_oom(int rc, ms_error *err)
{
	if (rc == MS_ENOMEM || rc == MS_ETOOBIG)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return rc;
}

/*
 * One row of in (SERDE_PARAMS, SD_PARAMS) per member of params: the owner's
 * id, the key (checked against key_col), the value (NULL unless a string).
 */
static int write_param_rows(hms_catalog *self, sdwriter *w, inserter *in, const char *key_col,
			    const subject *s, long long owner, const cJSON *params, ms_error *err)
{
	const cJSON *v;
	int rc = 0;

	cJSON_ArrayForEach(v, params)
	{
		CHECK(key_col, v->string);
		PL(in, owner);
		P(in, v->string);
		P(in, cJSON_IsString(v) ? v->valuestring : NULL);
		if ((rc = sdw_row(w, in, err)) < 0)
			goto done;
	}
	return 0;
oom:
	return sd_oom(rc, err);
done:
	return rc;
}

/*
 * Stash the descriptor's fields with no column, and note the fields given
 * with the value Hive stores when they are absent; MS_ENOMEM.
 */
static int stash_sd_extras(const sdjob *j, const cJSON *se)
{
	static const char *const known[] = {
		"Columns",     "Location",        "InputFormat", "OutputFormat",
		"Compressed",  "NumberOfBuckets", "SerdeInfo",   "BucketColumns",
		"SortColumns", "Parameters",      "SkewedInfo",  "StoredAsSubDirectories",
		NULL
	};
	const cJSON *f, *sd = j->sd;
	stash *st = j->st;
	char label[MS_NAME_MAX + 64];
	int rc = 0;

	cJSON_ArrayForEach(f, sd)
	{
		if (!hms_in_list(known, f->string)) {
			snprintf(label, sizeof(label), "StorageDescriptor.%s", f->string);
			if ((rc = hms_stash_keep(st, "s", f->string, f, label)) < 0)
				return rc;
		}
	}
	/* defaults Hive would store for absent fields */
	if ((cJSON_IsFalse(hms_jget(sd, "Compressed")) &&
	     (rc = hms_stash_default(st, "S.Compressed")) < 0) ||
	    (cJSON_IsFalse(hms_jget(sd, "StoredAsSubDirectories")) &&
	     (rc = hms_stash_default(st, "S.StoredAsSubDirectories")) < 0) ||
	    (hms_num(hms_jget(sd, "NumberOfBuckets"), 0) == -1 &&
	     (rc = hms_stash_default(st, "S.NumberOfBuckets")) < 0) ||
	    (hms_empty_container(hms_jget(sd, "Parameters")) &&
	     (rc = hms_stash_default(st, "S.Parameters")) < 0) ||
	    (hms_empty_container(hms_jget(sd, "BucketColumns")) &&
	     (rc = hms_stash_default(st, "S.BucketColumns")) < 0) ||
	    (hms_empty_container(hms_jget(sd, "SortColumns")) &&
	     (rc = hms_stash_default(st, "S.SortColumns")) < 0) ||
	    (se && hms_empty_container(hms_jget(se, "Parameters")) &&
	     (rc = hms_stash_default(st, "E.Parameters")) < 0))
		return rc;
	return 0;
}

/* The SERDES row and its SERDE_PARAMS. */
static int write_serde(hms_catalog *self, sdwriter *w, const sdjob *j, const cJSON *se,
		       ms_error *err)
{
	static const char *const serde_known[] = { "Name", "SerializationLibrary", "Parameters",
						   NULL };
	const subject *s = j->s;
	const cJSON *f;
	int rc = 0;

	cJSON_ArrayForEach(f, se)
	{
		if (!hms_in_list(serde_known, f->string) &&
		    (rc = hms_stash_keep(j->st, "sx", f->string, f, "SerdeInfo field")) < 0)
			goto oom;
	}
	CHECK("SERDES.NAME", hms_jstr(se, "Name"));
	CHECK("SERDES.SLIB", hms_jstr(se, "SerializationLibrary"));
	PL(&w->serdes, j->serde_id);
	P(&w->serdes, hms_jstr(se, "Name"));
	P(&w->serdes, hms_jstr(se, "SerializationLibrary"));
	if ((rc = sdw_row(w, &w->serdes, err)) < 0)
		goto done;
	return write_param_rows(self, w, &w->serde_params, "SERDE_PARAMS.PARAM_KEY", j->s,
				j->serde_id, hms_jget(se, "Parameters"), err);
oom:
	return sd_oom(rc, err);
done:
	return rc;
}

/*
 * A new column descriptor's CDS and COLUMNS_V2 rows (the CDS row first: a
 * flush may come between); with an existing one, only the stash of the
 * columns' fields with no column.
 */
static int write_columns(hms_catalog *self, sdwriter *w, const sdjob *j, ms_error *err)
{
	static const char *const col_known[] = { "Name", "Type", "Comment", NULL };
	const subject *s = j->s;
	const cJSON *f, *v;
	char label[MS_NAME_MAX + 64];
	int rc = 0, idx = 0;

	if (j->new_cd >= 0) {
		PL(&w->cds, j->new_cd);
		if ((rc = sdw_row(w, &w->cds, err)) < 0)
			goto done;
	}
	cJSON_ArrayForEach(v, hms_jget(j->sd, "Columns"))
	{
		cJSON_ArrayForEach(f, v)
		{
			if (!hms_in_list(col_known, f->string)) {
				snprintf(label, sizeof(label), "Columns[%d].%s", idx, f->string);
				if ((rc = hms_stash_keep_at(j->st, "c", idx, f, label)) < 0)
					goto oom;
			}
		}
		if (j->new_cd >= 0) {
			CHECK("COLUMNS_V2.COLUMN_NAME", hms_jstr(v, "Name"));
			CHECK("COLUMNS_V2.COMMENT", hms_jstr(v, "Comment"));
			PL(&w->cols, j->new_cd);
			P(&w->cols, hms_jstr(v, "Name"));
			P(&w->cols, hms_jstr(v, "Type"));
			P(&w->cols, hms_jstr(v, "Comment"));
			PL(&w->cols, idx);
			if ((rc = sdw_row(w, &w->cols, err)) < 0)
				goto done;
		}
		idx++;
	}
	return 0;
oom:
	return sd_oom(rc, err);
done:
	return rc;
}

/* The SDS row and its SD_PARAMS. */
static int write_sds_row(hms_catalog *self, sdwriter *w, const sdjob *j, int has_serde,
			 ms_error *err)
{
	const subject *s = j->s;
	const cJSON *sd = j->sd;
	long long cd = j->new_cd >= 0 ? j->new_cd : j->cd_id;
	int rc = 0;

	CHECK("SDS.INPUT_FORMAT", hms_jstr(sd, "InputFormat"));
	CHECK("SDS.OUTPUT_FORMAT", hms_jstr(sd, "OutputFormat"));
	CHECK("SDS.LOCATION", hms_jstr(sd, "Location"));
	PL(&w->sds, j->sd_id);
	P(&w->sds, hms_jstr(sd, "InputFormat"));
	P(&w->sds, cJSON_IsTrue(hms_jget(sd, "Compressed")) ? "1" : "0");
	P(&w->sds, hms_jstr(sd, "Location"));
	PL(&w->sds, hms_num(hms_jget(sd, "NumberOfBuckets"), -1));
	P(&w->sds, hms_jstr(sd, "OutputFormat"));
	if (has_serde)
		PL(&w->sds, j->serde_id);
	else
		P(&w->sds, NULL);
	if (cd >= 0)
		PL(&w->sds, cd);
	else
		P(&w->sds, NULL);
	P(&w->sds, cJSON_IsTrue(hms_jget(sd, "StoredAsSubDirectories")) ? "1" : "0");
	if ((rc = sdw_row(w, &w->sds, err)) < 0)
		goto done;
	return write_param_rows(self, w, &w->sd_params, "SD_PARAMS.PARAM_KEY", j->s, j->sd_id,
				hms_jget(sd, "Parameters"), err);
oom:
	return sd_oom(rc, err);
done:
	return rc;
}

/* The BUCKETING_COLS and SORT_COLS rows. */
static int write_bucket_sort(hms_catalog *self, sdwriter *w, const sdjob *j, ms_error *err)
{
	const subject *s = j->s;
	const cJSON *v;
	int rc = 0, idx = 0;

	cJSON_ArrayForEach(v, hms_jget(j->sd, "BucketColumns"))
	{
		CHECK("BUCKETING_COLS.BUCKET_COL_NAME", v->valuestring);
		PL(&w->bucket, j->sd_id);
		P(&w->bucket, cJSON_IsString(v) ? v->valuestring : NULL);
		PL(&w->bucket, idx++);
		if ((rc = sdw_row(w, &w->bucket, err)) < 0)
			goto done;
	}
	idx = 0;
	cJSON_ArrayForEach(v, hms_jget(j->sd, "SortColumns"))
	{
		CHECK("SORT_COLS.COLUMN_NAME", hms_jstr(v, "Column"));
		PL(&w->sort, j->sd_id);
		P(&w->sort, hms_jstr(v, "Column"));
		PL(&w->sort, hms_num(hms_jget(v, "SortOrder"), 0));
		PL(&w->sort, idx++);
		if ((rc = sdw_row(w, &w->sort, err)) < 0)
			goto done;
	}
	return 0;
oom:
	return sd_oom(rc, err);
done:
	return rc;
}

static const char *const skew_known[] = { "SkewedColumnNames", "SkewedColumnValues",
					  "SkewedColumnValueLocationMaps", NULL };

/* Stash SkewedInfo's empty members and its fields with no column; MS_ENOMEM. */
static int stash_skew_extras(stash *st, const cJSON *sk)
{
	const char *const *sp;
	const cJSON *f;
	char path[64];
	int rc;

	if (hms_empty_container(sk) && (rc = hms_stash_default(st, "S.SkewedInfo")) < 0)
		return rc;
	for (sp = skew_known; *sp; sp++) {
		snprintf(path, sizeof(path), "K.%s", *sp);
		if (hms_empty_container(hms_jget(sk, *sp)) &&
		    (rc = hms_stash_default(st, path)) < 0)
			return rc;
	}
	cJSON_ArrayForEach(f, sk)
	{
		if (!hms_in_list(skew_known, f->string) &&
		    (rc = hms_stash_keep(st, "ki", f->string, f, "SkewedInfo field")) < 0)
			return rc;
	}
	return 0;
}

/* Whether some skewed value list is not in Glue's encoding: then all are kept raw. */
static int skew_raw(const cJSON *vals, const cJSON *maps)
{
	const cJSON *v;
	int raw = 0;

	cJSON_ArrayForEach(v, vals)
	{
		const char *starts[64];
		size_t lens[64], nn;

		if (!cJSON_IsString(v) ||
		    hms_skew_decode(v->valuestring, starts, lens, 64, &nn) < 0)
			raw = 1;
	}
	cJSON_ArrayForEach(v, maps)
	{
		const char *starts[64];
		size_t lens[64], nn;

		if (hms_skew_decode(v->string, starts, lens, 64, &nn) < 0)
			raw = 1;
	}
	return raw;
}

/* One SKEWED_STRING_LIST row lid and its values: text decoded, or one value when raw. */
static int write_string_list(hms_catalog *self, sdwriter *w, const subject *s, const char *text,
			     int raw, long long lid, ms_error *err)
{
	const char *starts[64];
	size_t lens[64], nn = 0, k;
	int rc;

	if (raw) {
		starts[0] = text;
		lens[0] = strlen(text);
		nn = 1;
	} else {
		hms_skew_decode(text, starts, lens, 64, &nn);
	}
	PL(&w->sklist, lid);
	if ((rc = sdw_row(w, &w->sklist, err)) < 0)
		goto done;
	for (k = 0; k < nn; k++) {
		char *val = strndup(starts[k], lens[k]);

		if (!val) {
			rc = MS_ENOMEM;
			goto oom;
		}
		rc = hms_check(self, s, "SKEWED_STRING_LIST_VALUES.STRING_LIST_VALUE", val, err);
		if (rc == 0)
			rc = hms_params_addll(&w->sklistv.p, lid);
		if (rc == 0) /* the inserter owns val from here */
			rc = hms_params_take(&w->sklistv.p, val);
		else
			free(val);
		if (rc == MS_ENOMEM)
			goto oom;
		if (rc < 0)
			goto done;
		PL(&w->sklistv, (long long)k);
		if ((rc = sdw_row(w, &w->sklistv, err)) < 0)
			goto done;
	}
	return 0;
oom:
	return sd_oom(rc, err);
done:
	return rc;
}

/*
 * SkewedInfo: SKEWED_COL_NAMES, then a string list per value list
 * (SKEWED_VALUES) and per location map key (SKEWED_COL_VALUE_LOC_MAP), on
 * the list ids j->lists in that order.
 */
static int write_skew(hms_catalog *self, sdwriter *w, const sdjob *j, const cJSON *sk,
		      ms_error *err)
{
	const cJSON *vals = hms_jget(sk, "SkewedColumnValues"),
		    *maps = hms_jget(sk, "SkewedColumnValueLocationMaps");
	const cJSON *lists[2] = { vals, maps }, *v;
	const subject *s = j->s;
	stash *st = j->st;
	int rc = 0, idx = 0, li = 0, vi = 0, which, raw;

	if ((rc = stash_skew_extras(st, sk)) < 0)
		goto oom;
	cJSON_ArrayForEach(v, hms_jget(sk, "SkewedColumnNames"))
	{
		CHECK("SKEWED_COL_NAMES.SKEWED_COL_NAME", v->valuestring);
		PL(&w->skcols, j->sd_id);
		P(&w->skcols, cJSON_IsString(v) ? v->valuestring : NULL);
		PL(&w->skcols, idx++);
		if ((rc = sdw_row(w, &w->skcols, err)) < 0)
			goto done;
	}
	raw = skew_raw(vals, maps);
	if (raw && !cJSON_AddTrueToObject(st->o ? st->o : (st->o = cJSON_CreateObject()), "sr")) {
		rc = MS_ENOMEM;
		goto oom;
	}
	for (which = 0; which < 2; which++) {
		cJSON_ArrayForEach(v, lists[which])
		{
			const char *text = which == 0 ? v->valuestring : v->string;
			long long lid = j->lists[li++];

			if (!text)
				continue;
			if ((rc = write_string_list(self, w, s, text, raw, lid, err)) < 0)
				return rc;
			if (which == 0) {
				PL(&w->skvals, j->sd_id);
				PL(&w->skvals, lid);
				PL(&w->skvals, vi++);
				if ((rc = sdw_row(w, &w->skvals, err)) < 0)
					goto done;
			} else {
				CHECK("SKEWED_COL_VALUE_LOC_MAP.LOCATION", v->valuestring);
				PL(&w->skmap, j->sd_id);
				PL(&w->skmap, lid);
				P(&w->skmap, cJSON_IsString(v) ? v->valuestring : NULL);
				if ((rc = sdw_row(w, &w->skmap, err)) < 0)
					goto done;
			}
		}
	}
	return 0;
oom:
	return sd_oom(rc, err);
done:
	return rc;
}

/*
 * Write one storage descriptor (ids reserved by the caller in j): every
 * parent row before its children.  Fields with no column go into the
 * stash.  Borrowed strings stay valid until the flush.
 */
int hms_write_sd(hms_catalog *self, sdwriter *w, const sdjob *j, ms_error *err)
{
	const cJSON *se = hms_jget(j->sd, "SerdeInfo"), *sk = hms_jget(j->sd, "SkewedInfo");
	int rc;

	if ((rc = stash_sd_extras(j, se)) < 0)
		return sd_oom(rc, err);
	if ((se && (rc = write_serde(self, w, j, se, err)) < 0) ||
	    (rc = write_columns(self, w, j, err)) < 0 ||
	    (rc = write_sds_row(self, w, j, se != NULL, err)) < 0 ||
	    (rc = write_bucket_sort(self, w, j, err)) < 0 ||
	    (sk && (rc = write_skew(self, w, j, sk, err)) < 0))
		return rc;
	return 0;
}

/* How many skew string lists an SD needs. */
size_t hms_sd_lists(const cJSON *sd)
{
	const cJSON *sk = hms_jget(sd, "SkewedInfo");

	return (size_t)cJSON_GetArraySize(hms_jget(sk, "SkewedColumnValues")) +
	       (size_t)cJSON_GetArraySize(hms_jget(sk, "SkewedColumnValueLocationMaps"));
}
