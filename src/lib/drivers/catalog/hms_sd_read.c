/*
 * Reading storage descriptors (SDS and the tables hanging off it) for the
 * Hive Metastore driver, set-based: a fixed number of statements for any
 * number of descriptors, then documents built from the rows without SQL,
 * then each shaped with its entity's stash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"
#include "drivers/catalog/hms_map.h"

/* ---- reading storage descriptors ---------------------------------------- */

/*
 * Reading is split in two: fetching runs the statements and keeps their
 * rows (no JSON), building turns rows into documents (no SQL).  A scan
 * fetches its next batch on a connection of its own while the caller builds
 * and consumes the current one (see scan_ahead).
 */

void hms_sdrows_free(sdrows *f)
{
	free(f->ids.v);
	free(f->serdes.v);
	free(f->cds.v);
	hms_rowset_free(&f->sds);
	hms_rowset_free(&f->serde);
	hms_rowset_free(&f->sdp);
	hms_rowset_free(&f->sep);
	hms_rowset_free(&f->cols);
	hms_rowset_free(&f->bucket);
	hms_rowset_free(&f->sort);
	hms_rowset_free(&f->skn);
	hms_rowset_free(&f->skv);
	hms_rowset_free(&f->skm);
	memset(f, 0, sizeof(*f));
}

/*
 * Fetch the storage descriptors f->ids (filled by the caller).  Every
 * statement selects by a list of ids of its own table's index (SERDES and
 * SERDE_PARAMS by SERDE_ID, not through a join), so that plans do not depend
 * on the server's statistics.
 */
int hms_fetch_sds(hms_catalog *self, sdrows *f, ms_error *err)
{
	int rc;

	hms_idlist_unique(&f->ids);
	if (f->ids.n == 0)
		return 0;
	if ((rc = hms_q_in(self,
			   "SELECT \"SD_ID\", \"INPUT_FORMAT\", CASE WHEN \"IS_COMPRESSED\" THEN 1 "
			   "ELSE 0 END, \"LOCATION\", \"NUM_BUCKETS\", \"OUTPUT_FORMAT\", "
			   "\"SERDE_ID\", "
			   "\"CD_ID\", CASE WHEN \"IS_STOREDASSUBDIRECTORIES\" THEN 1 ELSE 0 END "
			   "FROM "
			   "\"SDS\" WHERE \"SD_ID\" IN ",
			   NULL, NULL, 0, &f->ids, &f->sds, err)) < 0)
		return rc;
	if (hms_ids_from_rows(&f->sds, 6, &f->serdes, 7, &f->cds) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	hms_idlist_unique(&f->serdes);
	hms_idlist_unique(&f->cds);
	if ((rc = hms_q_in(self,
			   "SELECT \"SERDE_ID\", \"NAME\", \"SLIB\" FROM \"SERDES\" WHERE "
			   "\"SERDE_ID\" IN ",
			   NULL, NULL, 0, &f->serdes, &f->serde, err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"SERDE_ID\", \"PARAM_KEY\", \"PARAM_VALUE\" FROM "
			   "\"SERDE_PARAMS\" WHERE \"SERDE_ID\" IN ",
			   NULL, NULL, 0, &f->serdes, &f->sep, err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"SD_ID\", \"PARAM_KEY\", \"PARAM_VALUE\" FROM \"SD_PARAMS\" "
			   "WHERE \"SD_ID\" IN ",
			   NULL, NULL, 0, &f->ids, &f->sdp, err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"CD_ID\", \"COLUMN_NAME\", \"TYPE_NAME\", \"COMMENT\" FROM "
			   "\"COLUMNS_V2\" WHERE \"CD_ID\" IN ",
			   " ORDER BY \"CD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->cds, &f->cols,
			   err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"SD_ID\", \"BUCKET_COL_NAME\" FROM \"BUCKETING_COLS\" WHERE "
			   "\"SD_ID\" IN ",
			   " ORDER BY \"SD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->bucket,
			   err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"SD_ID\", \"COLUMN_NAME\", \"ORDER\" FROM \"SORT_COLS\" WHERE "
			   "\"SD_ID\" IN ",
			   " ORDER BY \"SD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->sort,
			   err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"SD_ID\", \"SKEWED_COL_NAME\" FROM \"SKEWED_COL_NAMES\" "
			   "WHERE \"SD_ID\" IN ",
			   " ORDER BY \"SD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->skn,
			   err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT v.\"SD_ID_OID\", v.\"INTEGER_IDX\", l.\"STRING_LIST_VALUE\" "
			   "FROM "
			   "\"SKEWED_VALUES\" v LEFT JOIN \"SKEWED_STRING_LIST_VALUES\" l ON "
			   "l.\"STRING_LIST_ID\" = v.\"STRING_LIST_ID_EID\" WHERE v.\"SD_ID_OID\" "
			   "IN ",
			   " ORDER BY v.\"SD_ID_OID\", v.\"INTEGER_IDX\", l.\"INTEGER_IDX\"", NULL,
			   0, &f->ids, &f->skv, err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT m.\"SD_ID\", m.\"STRING_LIST_ID_KID\", m.\"LOCATION\", "
			   "l.\"STRING_LIST_VALUE\" FROM \"SKEWED_COL_VALUE_LOC_MAP\" m LEFT JOIN "
			   "\"SKEWED_STRING_LIST_VALUES\" l ON l.\"STRING_LIST_ID\" = "
			   "m.\"STRING_LIST_ID_KID\" WHERE m.\"SD_ID\" IN ",
			   " ORDER BY m.\"SD_ID\", m.\"STRING_LIST_ID_KID\", l.\"INTEGER_IDX\"",
			   NULL, 0, &f->ids, &f->skm, err)) < 0)
		return rc;
	return 0;
}

void hms_sdread_free(sdread *r)
{
	size_t i;

	for (i = 0; i < r->ids.n; i++) {
		cJSON_Delete(r->sd ? r->sd[i] : NULL);
		cJSON_Delete(r->skew_values ? r->skew_values[i] : NULL);
		cJSON_Delete(r->skew_maps ? r->skew_maps[i] : NULL);
	}
	free(r->sd);
	free(r->skew_values);
	free(r->skew_maps);
	memset(r, 0, sizeof(*r));
}

/* Member lit of o, added when missing (lit: a string literal). */
static cJSON *child_obj(cJSON *o, const char *lit)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(o, lit);

	return c ? c : hms_jlit(o, lit, cJSON_CreateObject());
}

static cJSON *child_arr(cJSON *o, const char *lit)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(o, lit);

	return c ? c : hms_jlit(o, lit, cJSON_CreateArray());
}

/* Encode the string list rows [from, to) of rs (value column vc) as Glue's skew string. */
static int encode_list(const rowset *rs, size_t from, size_t to, size_t vc, ms_buf *out)
{
	const char *vals[256];
	size_t n = 0, i;

	ms_buf_reset(out);
	for (i = from; i < to && n < 256; i++)
		if (CELL(rs, i, vc))
			vals[n++] = CELL(rs, i, vc);
	return hms_skew_encode(out, vals, n);
}

/* Row r's id column 0 as an index into ids, or -1. */
long long hms_row_idx(const rowset *rs, size_t r, const idlist *ids)
{
	return hms_find_id(ids, strtoll(CELL(rs, r, 0), NULL, 10));
}

/* Add parameter rows (id, key, value) of rs to member "Parameters" of objs[idx of id]. */
int hms_build_params(const rowset *rs, const idlist *ids, cJSON *const *objs)
{
	size_t i;

	for (i = 0; i < rs->nrows; i++) {
		long long idx = hms_row_idx(rs, i, ids);

		if (idx >= 0 && objs[idx] &&
		    hms_jadd_str(child_obj(objs[idx], "Parameters"), CELL(rs, i, 1),
				 CELL(rs, i, 2) ? CELL(rs, i, 2) : "") < 0)
			return MS_ENOMEM;
	}
	return 0;
}

/* Building a set of storage descriptors: SerDes and column lists are built once each. */
typedef struct sdbuild {
	const sdrows *f;
	sdread *r;
	cJSON **serde; /* per f->serdes.v */
	cJSON **cols;  /* per f->cds.v */
} sdbuild;

/* The SerDes with their parameters, and the column lists; MS_ENOMEM. */
static int build_serdes_and_cols(sdbuild *b)
{
	const sdrows *f = b->f;
	size_t i;
	long long idx;

	for (i = 0; i < f->serde.nrows; i++) {
		cJSON *se;

		if ((idx = hms_row_idx(&f->serde, i, &f->serdes)) < 0 || b->serde[idx])
			continue;
		if (!(se = b->serde[idx] = cJSON_CreateObject()) ||
		    hms_jlit_str(se, "Name", CELL(&f->serde, i, 1)) < 0 ||
		    hms_jlit_str(se, "SerializationLibrary", CELL(&f->serde, i, 2)) < 0 ||
		    !hms_jlit(se, "Parameters", cJSON_CreateObject()))
			return MS_ENOMEM;
	}
	if (hms_build_params(&f->sep, &f->serdes, b->serde) < 0)
		return MS_ENOMEM;
	for (i = 0; i < f->cds.n; i++)
		if (!(b->cols[i] = cJSON_CreateArray()))
			return MS_ENOMEM;
	for (i = 0; i < f->cols.nrows; i++) {
		cJSON *c;

		if ((idx = hms_row_idx(&f->cols, i, &f->cds)) < 0)
			continue;
		if (!(c = cJSON_CreateObject()))
			return MS_ENOMEM;
		cJSON_AddItemToArray(b->cols[idx], c);
		if (hms_jlit_str(c, "Name", CELL(&f->cols, i, 1)) < 0 ||
		    hms_jlit_str(c, "Type", CELL(&f->cols, i, 2)) < 0 ||
		    hms_jlit_str(c, "Comment", CELL(&f->cols, i, 3)) < 0)
			return MS_ENOMEM;
	}
	return 0;
}

/* The descriptor of SDS row i (the first row of its id only), with its SerDe and columns. */
static int build_sd(sdbuild *b, size_t i)
{
	const sdrows *f = b->f;
	sdread *r = b->r;
	const char *const *c = (const char *const *)&CELL(&f->sds, i, 0);
	cJSON *sd, *x;
	long long idx, k;

	if ((idx = hms_row_idx(&f->sds, i, &f->ids)) < 0 || r->sd[idx])
		return 0;
	if (!(sd = r->sd[idx] = cJSON_CreateObject()) ||
	    hms_jlit_str(sd, "InputFormat", c[1]) < 0 ||
	    !hms_jlit(sd, "Compressed", cJSON_CreateBool(c[2][0] == '1')) ||
	    hms_jlit_str(sd, "Location", c[3]) < 0 ||
	    hms_jlit_num(sd, "NumberOfBuckets", c[4]) < 0 ||
	    hms_jlit_str(sd, "OutputFormat", c[5]) < 0 ||
	    !hms_jlit(sd, "StoredAsSubDirectories", cJSON_CreateBool(c[8][0] == '1')))
		return MS_ENOMEM;
	if (c[6]) {
		k = hms_find_id(&f->serdes, strtoll(c[6], NULL, 10));
		/* a SERDE_ID without its row reads as an empty SerDe, as a join gave it */
		x = k >= 0 && b->serde[k] ? cJSON_Duplicate(b->serde[k], 1) : cJSON_CreateObject();
		if (!x)
			return MS_ENOMEM;
		if (!hms_jlit(sd, "SerdeInfo", x))
			return MS_ENOMEM;
		if (!cJSON_GetObjectItemCaseSensitive(x, "Parameters") &&
		    !hms_jlit(x, "Parameters", cJSON_CreateObject()))
			return MS_ENOMEM;
	}
	if (!hms_jlit(sd, "Parameters", cJSON_CreateObject()) ||
	    !hms_jlit(sd, "BucketColumns", cJSON_CreateArray()) ||
	    !hms_jlit(sd, "SortColumns", cJSON_CreateArray()) ||
	    !(r->skew_values[idx] = cJSON_CreateArray()) ||
	    !(r->skew_maps[idx] = cJSON_CreateObject()))
		return MS_ENOMEM;
	if (c[7]) {
		k = hms_find_id(&f->cds, strtoll(c[7], NULL, 10));
		if (!(x = cJSON_Duplicate(b->cols[k], 1)))
			return MS_ENOMEM;
		if (!hms_jlit(sd, "Columns", x))
			return MS_ENOMEM;
	}
	return 0;
}

/* Bucketing and sorting columns, and skew column names, into the built descriptors. */
static int build_sd_columns(const sdrows *f, sdread *r)
{
	size_t i;
	long long idx;

	for (i = 0; i < f->bucket.nrows; i++) {
		cJSON *v;

		if ((idx = hms_row_idx(&f->bucket, i, &f->ids)) < 0 || !r->sd[idx])
			continue;
		if (!(v = cJSON_CreateString(CELL(&f->bucket, i, 1) ? CELL(&f->bucket, i, 1) : "")))
			return MS_ENOMEM;
		cJSON_AddItemToArray(child_arr(r->sd[idx], "BucketColumns"), v);
	}
	for (i = 0; i < f->sort.nrows; i++) {
		cJSON *o;

		if ((idx = hms_row_idx(&f->sort, i, &f->ids)) < 0 || !r->sd[idx])
			continue;
		if (!(o = cJSON_CreateObject()))
			return MS_ENOMEM;
		cJSON_AddItemToArray(child_arr(r->sd[idx], "SortColumns"), o);
		if (hms_jlit_str(o, "Column", CELL(&f->sort, i, 1)) < 0 ||
		    hms_jlit_num(o, "SortOrder", CELL(&f->sort, i, 2)) < 0)
			return MS_ENOMEM;
	}
	for (i = 0; i < f->skn.nrows; i++) {
		cJSON *v, *sk;

		if ((idx = hms_row_idx(&f->skn, i, &f->ids)) < 0 || !r->sd[idx])
			continue;
		if (!(sk = child_obj(r->sd[idx], "SkewedInfo")) ||
		    !(v = cJSON_CreateString(CELL(&f->skn, i, 1) ? CELL(&f->skn, i, 1) : "")))
			return MS_ENOMEM;
		cJSON_AddItemToArray(child_arr(sk, "SkewedColumnNames"), v);
	}
	return 0;
}

/* The end of the run of rows from i that have row i's (SD, list) in columns 0 and 1. */
static size_t run_end(const rowset *rs, size_t i)
{
	size_t j = i;

	while (j < rs->nrows && strcmp(CELL(rs, j, 0), CELL(rs, i, 0)) == 0 &&
	       strcmp(CELL(rs, j, 1), CELL(rs, i, 1)) == 0)
		j++;
	return j;
}

/* Skewed value lists and their locations: one string per (SD, list) run of rows. */
static int build_skew_lists(const sdrows *f, sdread *r)
{
	ms_buf enc = MS_BUF_INIT((size_t)1 << 20);
	size_t i, j;
	long long idx;
	int rc = 0;

	for (i = 0; i < f->skv.nrows && rc == 0; i = j) {
		cJSON *v;

		j = run_end(&f->skv, i);
		idx = hms_row_idx(&f->skv, i, &f->ids);
		if (idx >= 0 && r->sd[idx]) {
			if (encode_list(&f->skv, i, j, 2, &enc) < 0 ||
			    !(v = cJSON_CreateString(enc.ptr)))
				rc = MS_ENOMEM;
			else
				cJSON_AddItemToArray(r->skew_values[idx], v);
		}
	}
	for (i = 0; i < f->skm.nrows && rc == 0; i = j) {
		j = run_end(&f->skm, i);
		idx = hms_row_idx(&f->skm, i, &f->ids);
		if (idx >= 0 && r->sd[idx] &&
		    (encode_list(&f->skm, i, j, 3, &enc) < 0 ||
		     hms_jadd_str(r->skew_maps[idx], enc.ptr,
				  CELL(&f->skm, i, 2) ? CELL(&f->skm, i, 2) : "") < 0))
			rc = MS_ENOMEM;
	}
	ms_buf_free(&enc);
	return rc;
}

/* Build the documents of the storage descriptors fetched in f into r. */
int hms_build_sds(const sdrows *f, sdread *r, ms_error *err)
{
	sdbuild b = { f, r, NULL, NULL };
	size_t i, n = f->ids.n;
	int rc = 0;

	r->ids = f->ids;
	if (n == 0)
		return 0;
	r->sd = calloc(n, sizeof(*r->sd));
	r->skew_values = calloc(n, sizeof(*r->skew_values));
	r->skew_maps = calloc(n, sizeof(*r->skew_maps));
	b.serde = calloc(f->serdes.n + 1, sizeof(*b.serde));
	b.cols = calloc(f->cds.n + 1, sizeof(*b.cols));
	if (!r->sd || !r->skew_values || !r->skew_maps || !b.serde || !b.cols)
		rc = MS_ENOMEM;
	if (rc == 0)
		rc = build_serdes_and_cols(&b);
	for (i = 0; i < f->sds.nrows && rc == 0; i++)
		rc = build_sd(&b, i);
	if (rc == 0 && hms_build_params(&f->sdp, &f->ids, r->sd) < 0)
		rc = MS_ENOMEM;
	if (rc == 0)
		rc = build_sd_columns(f, r);
	if (rc == 0)
		rc = build_skew_lists(f, r);
	if (rc < 0)
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; b.serde && i < f->serdes.n; i++)
		cJSON_Delete(b.serde[i]);
	for (i = 0; b.cols && i < f->cds.n; i++)
		cJSON_Delete(b.cols[i]);
	free(b.serde);
	free(b.cols);
	return rc;
}

/* Skew values written raw (not in Glue's encoding) back as they were, in place. */
static void unraw_values(cJSON *skv)
{
	cJSON *e;

	cJSON_ArrayForEach(e, skv)
	{
		size_t nn = 0, lens[2];
		const char *starts[2];

		if (cJSON_IsString(e) &&
		    hms_skew_decode(e->valuestring, starts, lens, 2, &nn) == 0 && nn == 1) {
			char *s = strndup(starts[0], lens[0]);

			if (s) {
				cJSON_SetValuestring(e, s);
				free(s);
			}
		}
	}
}

/* The same for a location map's keys: a new map (skm is freed; NULL when out of memory). */
static cJSON *unraw_map(cJSON *skm)
{
	cJSON *nm = cJSON_CreateObject(), *e;

	cJSON_ArrayForEach(e, skm)
	{
		size_t nn = 0, lens[2];
		const char *starts[2];
		char *s = NULL;

		if (hms_skew_decode(e->string, starts, lens, 2, &nn) == 0 && nn == 1)
			s = strndup(starts[0], lens[0]);
		if (nm)
			cJSON_AddStringToObject(nm, s ? s : e->string, e->valuestring);
		free(s);
	}
	cJSON_Delete(skm);
	return nm;
}

/*
 * sd's SkewedInfo from the skew lists read (skv and skm, stolen): members
 * Hive stores empty for nothing are dropped, unless the stash says they
 * were given.
 */
static void finish_skew(cJSON *sd, cJSON *skv, cJSON *skm, const cJSON *st)
{
	static const char *const sub[] = { "SkewedColumnNames", "SkewedColumnValues",
					   "SkewedColumnValueLocationMaps", NULL };
	cJSON *sk = cJSON_GetObjectItemCaseSensitive(sd, "SkewedInfo");
	const char *const *f;
	char path[64];

	if (!sk &&
	    ((skv && skv->child) || (skm && skm->child) || hms_has_default(st, "S.SkewedInfo")))
		sk = cJSON_AddObjectToObject(sd, "SkewedInfo");
	if (!sk) {
		cJSON_Delete(skv);
		cJSON_Delete(skm);
		return;
	}
	if (!cJSON_GetObjectItemCaseSensitive(sk, "SkewedColumnNames"))
		cJSON_AddArrayToObject(sk, "SkewedColumnNames");
	/* written from values that were not Glue's encoding: give them back as they were */
	if (cJSON_IsTrue(hms_jget(st, "sr"))) {
		unraw_values(skv);
		if (skm)
			skm = unraw_map(skm);
	}
	cJSON_AddItemToObject(sk, "SkewedColumnValues", skv ? skv : cJSON_CreateArray());
	cJSON_AddItemToObject(sk, "SkewedColumnValueLocationMaps",
			      skm ? skm : cJSON_CreateObject());
	for (f = sub; *f; f++) {
		snprintf(path, sizeof(path), "K.%s", *f);
		if (hms_empty_container(hms_jget(sk, *f)) && !hms_has_default(st, path))
			cJSON_DeleteItemFromObjectCaseSensitive(sk, *f);
	}
	if (!sk->child && !hms_has_default(st, "S.SkewedInfo"))
		cJSON_DeleteItemFromObjectCaseSensitive(sd, "SkewedInfo");
}

/* Drop what Hive stores for a field the source did not have (the stash's "d" says which it had). */
static void drop_sd_defaults(cJSON *sd, const cJSON *st)
{
	static const char *const dflt[] = {
		"Compressed", "NumberOfBuckets", "StoredAsSubDirectories",
		"Parameters", "BucketColumns",   "SortColumns",
		NULL
	};
	const char *const *f;
	cJSON *se, *v;
	char path[64];

	for (f = dflt; *f; f++) {
		int is_default;

		v = cJSON_GetObjectItemCaseSensitive(sd, *f);
		if (!v)
			continue;
		if (strcmp(*f, "NumberOfBuckets") == 0)
			is_default = v->valuedouble == -1;
		else if (cJSON_IsBool(v))
			is_default = cJSON_IsFalse(v);
		else
			is_default = hms_empty_container(v);
		snprintf(path, sizeof(path), "S.%s", *f);
		if (is_default && !hms_has_default(st, path))
			cJSON_DeleteItemFromObjectCaseSensitive(sd, *f);
	}
	se = cJSON_GetObjectItemCaseSensitive(sd, "SerdeInfo");
	if (se && hms_empty_container(hms_jget(se, "Parameters")) &&
	    !hms_has_default(st, "E.Parameters"))
		cJSON_DeleteItemFromObjectCaseSensitive(se, "Parameters");
}

/*
 * Take sd (stolen) as read and shape it with the entity's stash: drop what
 * Hive stores by default for a field the source did not have, restore the
 * fields Hive has no column for.
 */
int hms_finish_sd(cJSON *doc, cJSON *sd, cJSON *skv, cJSON *skm, const cJSON *st)
{
	cJSON *se, *sk;

	finish_skew(sd, skv, skm, st);
	drop_sd_defaults(sd, st);
	/* fields with no column */
	hms_restore(sd, hms_jget(st, "s"));
	if ((se = cJSON_GetObjectItemCaseSensitive(sd, "SerdeInfo")))
		hms_restore(se, hms_jget(st, "sx"));
	if ((sk = cJSON_GetObjectItemCaseSensitive(sd, "SkewedInfo")))
		hms_restore(sk, hms_jget(st, "ki"));
	hms_restore_indexed(hms_jget(sd, "Columns"), hms_jget(st, "c"));
	cJSON_AddItemToObject(doc, "StorageDescriptor", sd);
	return 0;
}
