/*
 * Reading partitions for the Hive Metastore driver: a table's partitions in
 * batches of HMS_SCAN_BATCH (a dozen statements per batch, read ahead on a
 * second connection once a table proves big: hms_ahead.c), and one
 * partition by its values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"
#include "drivers/catalog/hms_map.h"

void hms_partrows_free(partrows *f)
{
	hms_rowset_free(&f->parts);
	free(f->ids.v);
	hms_rowset_free(&f->kv);
	hms_rowset_free(&f->pp);
	hms_sdrows_free(&f->sd);
	memset(f, 0, sizeof(*f));
}

/* Fetch what the partitions of f->parts (filled by the caller) need. */
static int fetch_parts(hms_catalog *self, partrows *f, ms_error *err)
{
	int rc;

	if (hms_ids_from_rows(&f->parts, 0, &f->ids, 3, &f->sd.ids) < 0)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	hms_idlist_unique(&f->ids);
	if ((rc = hms_q_in(self,
			   "SELECT \"PART_ID\", \"PART_KEY_VAL\" FROM \"PARTITION_KEY_VALS\" WHERE "
			   "\"PART_ID\" IN ",
			   " ORDER BY \"PART_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->kv,
			   err)) < 0 ||
	    (rc = hms_q_in(self,
			   "SELECT \"PART_ID\", \"PARAM_KEY\", \"PARAM_VALUE\" FROM "
			   "\"PARTITION_PARAMS\" "
			   "WHERE \"PART_ID\" IN ",
			   NULL, NULL, 0, &f->ids, &f->pp, err)) < 0)
		return rc;
	return hms_fetch_sds(self, &f->sd, err);
}

/* The next batch of a table's partitions after PART_ID `after` (updated), fetched. */
int hms_fetch_batch(hms_catalog *self, const char *idb, char *after, size_t after_len, partrows *f,
		    ms_error *err)
{
	const char *p[2] = { idb, after };
	int rc;

	if ((rc = hms_q(self,
			"SELECT \"PART_ID\", \"CREATE_TIME\", \"LAST_ACCESS_TIME\", \"SD_ID\" FROM "
			"\"PARTITIONS\" WHERE \"TBL_ID\" = ? AND \"PART_ID\" > ? ORDER BY "
			"\"PART_ID\" LIMIT " HMS_SCAN_BATCH_TEXT,
			p, 2, &f->parts, NULL, err)) < 0)
		return rc;
	if (f->parts.nrows)
		snprintf(after, after_len, "%s", CELL(&f->parts, f->parts.nrows - 1, 0));
	return fetch_parts(self, f, err);
}

/* The partitions' documents with their Values and Parameters: by_id[i] is PART_ID ids.v[i]'s. */
static int part_docs(const partrows *f, cJSON **by_id)
{
	size_t i;
	long long idx;

	for (i = 0; i < f->ids.n; i++)
		if (!(by_id[i] = cJSON_CreateObject()) ||
		    !hms_jlit(by_id[i], "Values", cJSON_CreateArray()) ||
		    !hms_jlit(by_id[i], "Parameters", cJSON_CreateObject()))
			return MS_ENOMEM;
	for (i = 0; i < f->kv.nrows; i++) {
		cJSON *v;

		if ((idx = hms_row_idx(&f->kv, i, &f->ids)) < 0)
			continue;
		if (!(v = cJSON_CreateString(CELL(&f->kv, i, 1) ? CELL(&f->kv, i, 1) : "")))
			return MS_ENOMEM;
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(by_id[idx], "Values"), v);
	}
	return hms_build_params(&f->pp, &f->ids, by_id) < 0 ? MS_ENOMEM : 0;
}

/* The index into sr of the SD of partition row i, or -1. */
static long long part_sd_idx(const partrows *f, const sdread *sr, size_t i)
{
	const char *sd = CELL(&f->parts, i, 3);

	return sd ? hms_find_id(&sr->ids, strtoll(sd, NULL, 10)) : -1;
}

/*
 * Give doc SD idx of sr (none when idx < 0), shaped with the stash st: the
 * last of its uses takes it, the others a copy.  MS_ENOMEM.
 */
static int attach_sd(cJSON *doc, sdread *sr, long long idx, size_t *uses, const cJSON *st)
{
	if (idx < 0 || !sr->sd[idx])
		return 0;
	if (--uses[idx]) {
		cJSON *sd = cJSON_Duplicate(sr->sd[idx], 1),
		      *skv = cJSON_Duplicate(sr->skew_values[idx], 1),
		      *skm = cJSON_Duplicate(sr->skew_maps[idx], 1);

		if (!sd || !skv || !skm) {
			cJSON_Delete(sd);
			cJSON_Delete(skv);
			cJSON_Delete(skm);
			return MS_ENOMEM;
		}
		return hms_finish_sd(doc, sd, skv, skm, st);
	}
	hms_finish_sd(doc, sr->sd[idx], sr->skew_values[idx], sr->skew_maps[idx], st);
	sr->sd[idx] = sr->skew_values[idx] = sr->skew_maps[idx] = NULL;
	return 0;
}

/* Build the partitions of f and hand them to cb in row order. */
int hms_build_parts(hms_catalog *self, const char *db, const char *table, const partrows *f,
		    ms_entity_cb cb, void *ctx, ms_error *err)
{
	sdread sr = { 0 };
	cJSON **by_id = NULL;
	size_t *uses = NULL, i, n = f->parts.nrows;
	long long idx;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((rc = hms_build_sds(&f->sd, &sr, err)) < 0)
		goto done;
	by_id = calloc(f->ids.n, sizeof(*by_id));
	uses = calloc(sr.ids.n + 1, sizeof(*uses));
	if (!by_id || !uses || part_docs(f, by_id) < 0)
		goto oom;
	/* how many partitions use each SD (one each, in Hive; a shared one is copied) */
	for (i = 0; i < n; i++)
		if ((idx = part_sd_idx(f, &sr, i)) >= 0)
			uses[idx]++;
	for (i = 0; i < n && rc == 0; i++) {
		cJSON *doc, *st;
		ms_entity *e = NULL;

		idx = hms_row_idx(&f->parts, i, &f->ids);
		doc = by_id[idx];
		by_id[idx] = NULL;
		if (!hms_jlit(doc, "DatabaseName", cJSON_CreateString(db)) ||
		    !hms_jlit(doc, "TableName", cJSON_CreateString(table)) ||
		    hms_jlit_num(doc, "CreationTime", CELL(&f->parts, i, 1)) < 0 ||
		    hms_jlit_num(doc, "LastAccessTime", CELL(&f->parts, i, 2)) < 0) {
			cJSON_Delete(doc);
			goto oom;
		}
		st = hms_take_stash(doc);
		if (attach_sd(doc, &sr, part_sd_idx(f, &sr, i), uses, st) < 0) {
			cJSON_Delete(doc);
			cJSON_Delete(st);
			goto oom;
		}
		if ((rc = hms_finish_entity(self, &e, MS_KIND_PARTITION, doc, st, db, table, err)) <
		    0)
			break;
		rc = cb(e, ctx, err);
	}
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	for (i = 0; by_id && i < f->ids.n; i++)
		cJSON_Delete(by_id[i]);
	free(by_id);
	free(uses);
	hms_sdread_free(&sr);
	return rc;
}

typedef struct collected {
	ms_entity **v;
	size_t n;
} collected;

static int collect_entity(ms_entity *e, void *ctx, ms_error *err)
{
	collected *c = ctx;
	ms_entity **nv = realloc(c->v, (c->n + 1) * sizeof(*nv));

	if (!nv) {
		ms_entity_free(e);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	c->v = nv;
	c->v[c->n++] = e;
	return 0;
}

int hms_scan_partitions(ms_catalog *cat, const char *db, const char *table, unsigned int flags,
			ms_entity_cb cb, void *ctx, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF], idb[32], after[32];
	long long k;
	tblinfo t;
	int rc;

	/*
	 * MS_SCAN_KEYS_ONLY still reads whole partitions: a key-only scan must
	 * give each partition's content hash, and Hive stores none.
	 */
	(void)flags;
	if ((rc = hms_fold2(dn, tn, db, table, err)) < 0)
		return rc;
	if (!self->in_txn && (k = hms_ahead_find(self->ahead, dn, tn)) >= 0 &&
	    (rc = hms_scan_planned(self, (size_t)k, dn, tn, cb, ctx, err)) != AHEAD_LOST)
		return rc;
	/* not planned, or the read-ahead connection was lost before this table */
	if ((rc = hms_tbl_find(self, dn, tn, 1, 0, &t, err)) < 0)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", t.id);
	snprintf(after, sizeof(after), "-1");
	for (;;) {
		partrows f = { 0 };
		size_t got;
		ms_table_ref me = { dn, tn };

		rc = hms_fetch_batch(self, idb, after, sizeof(after), &f, err);
		got = f.parts.nrows;
		if (rc == 0)
			rc = hms_build_parts(self, dn, tn, &f, cb, ctx, err);
		hms_partrows_free(&f);
		if (rc != 0 || got < HMS_SCAN_BATCH)
			break;
		/* a big table: read the rest ahead on the second connection */
		if ((rc = hms_ahead_start(self, &me, 1, after, err)) == 0) {
			rc = hms_scan_planned(self, 0, dn, tn, cb, ctx, err);
			hms_ahead_stop(self);
			if (rc != AHEAD_LOST)
				break;
			/* lost before any of it was given: go on here, after `after` */
		}
		if (rc < 0)
			break;
		rc = 0;
	}
	hms_tblinfo_free(&t);
	return rc;
}

/* Values of a vkey (a JSON array of strings); *arr is new. */
int hms_parse_vkey(const char *vkey, cJSON **arr, ms_error *err)
{
	cJSON *a = cJSON_Parse(vkey), *v;

	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return ms_error_set(err, MS_EINVAL, "partition key '%s' is not a json array", vkey);
	}
	cJSON_ArrayForEach(v, a)
	{
		if (!cJSON_IsString(v)) {
			cJSON_Delete(a);
			return ms_error_set(err, MS_EINVAL,
					    "partition key '%s' holds a value that is not a string",
					    vkey);
		}
	}
	*arr = a;
	return 0;
}

/* PART_NAME of a values array for a table's keys (new string). */
int hms_partition_name(const tblinfo *t, const cJSON *values, const char *what, char **out,
		       ms_error *err)
{
	const char *vals[64];
	const cJSON *v;
	size_t n = 0;
	ms_buf b = MS_BUF_INIT(64 * 1024);

	cJSON_ArrayForEach(v, values)
	{
		if (n == 64)
			break;
		vals[n++] = v->valuestring;
	}
	if (n != t->nkeys)
		return ms_error_set(err, MS_EINVAL,
				    "partition %s has %zu values, the table has %zu keys", what, n,
				    t->nkeys);
	if (hms_part_name(&b, (const char *const *)t->keys, vals, n) < 0) {
		ms_buf_free(&b);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	*out = ms_buf_detach(&b);
	return *out ? 0 : ms_error_set(err, MS_ENOMEM, "out of memory");
}

int hms_get_partition(ms_catalog *cat, const char *db, const char *table, const char *vkey,
		      ms_entity **out, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF], idb[32], *pn = NULL;
	const char *p[2];
	cJSON *vals = NULL;
	partrows f = { 0 };
	collected c = { 0 };
	ms_entity *found = NULL;
	tblinfo t;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = hms_fold2(dn, tn, db, table, err)) < 0)
		return rc;
	if ((rc = hms_tbl_find(self, dn, tn, 1, 1, &t, err)) < 0)
		goto done;
	if ((rc = hms_parse_vkey(vkey, &vals, err)) < 0)
		goto done;
	if (cJSON_GetArraySize(vals) != (int)t.nkeys) {
		rc = ms_error_set(err, MS_ENOTFOUND, "partition '%s' of '%s.%s' not found in '%s'",
				  vkey, dn, tn, cat->url);
		goto done;
	}
	if ((rc = hms_partition_name(&t, vals, vkey, &pn, err)) < 0)
		goto done;
	if (!hms_storable(self, pn)) {
		rc = ms_error_set(err, MS_ENOTFOUND, "partition '%s' of '%s.%s' not found in '%s'",
				  vkey, dn, tn, cat->url);
		goto done;
	}
	snprintf(idb, sizeof(idb), "%lld", t.id);
	p[0] = idb;
	p[1] = pn;
	if ((rc = hms_q(self,
			"SELECT \"PART_ID\", \"CREATE_TIME\", \"LAST_ACCESS_TIME\", \"SD_ID\" FROM "
			"\"PARTITIONS\" WHERE \"TBL_ID\" = ? AND \"PART_NAME\" = ?",
			p, 2, &f.parts, NULL, err)) < 0 ||
	    (rc = fetch_parts(self, &f, err)) < 0 ||
	    (rc = hms_build_parts(self, dn, tn, &f, collect_entity, &c, err)) < 0)
		goto done;
	for (i = 0; i < c.n; i++) {
		if (!found && strcmp(c.v[i]->vkey, vkey) == 0) {
			found = c.v[i];
			c.v[i] = NULL;
		}
		ms_entity_free(c.v[i]);
	}
	if (found)
		*out = found;
	else
		rc = ms_error_set(err, MS_ENOTFOUND, "partition '%s' of '%s.%s' not found in '%s'",
				  vkey, dn, tn, cat->url);
done:
	free(c.v);
	free(pn);
	cJSON_Delete(vals);
	hms_partrows_free(&f);
	hms_tblinfo_free(&t);
	return rc;
}
