/*
 * Writing and deleting partitions for the Hive Metastore driver: a batch
 * in one transaction, ids reserved once per batch, rows inserted many at a
 * time; and Hive's rule of one partition per PART_NAME, which names do not
 * always keep apart (trailing spaces on MySQL, the default partition).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/catalog/hms_internal.h"
#include "drivers/catalog/hms_map.h"

/* ---- partitions: deleting ------------------------------------------------ */

static const char *const part_children[] = {
	"DELETE FROM \"PARTITION_PARAMS\" WHERE \"PART_ID\" IN ",
	"DELETE FROM \"PARTITION_KEY_VALS\" WHERE \"PART_ID\" IN ",
	"DELETE FROM \"PART_PRIVS\" WHERE \"PART_ID\" IN ",
	"DELETE FROM \"PART_COL_PRIVS\" WHERE \"PART_ID\" IN ",
	"DELETE FROM \"PART_COL_STATS\" WHERE \"PART_ID\" IN ",
	"DELETE FROM \"PARTITIONS\" WHERE \"PART_ID\" IN ",
};

/* Delete partitions by id with everything that hangs off them. */
static int delete_parts(hms_catalog *self, idlist *parts, idlist *sds, ms_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(part_children) / sizeof(part_children[0]); i++)
		if ((rc = hms_q_in(self, part_children[i], NULL, NULL, 0, parts, NULL, err)) < 0)
			return rc;
	return hms_delete_sds(self, sds, err);
}

/* Delete every partition of a table, in batches. */
int hms_delete_all_parts(hms_catalog *self, long long tbl, ms_error *err)
{
	char idb[32];
	const char *p[1] = { idb };
	int rc = 0;

	snprintf(idb, sizeof(idb), "%lld", tbl);
	for (;;) {
		rowset rs = { 0 };
		idlist parts = { 0 }, sds = { 0 };
		size_t got;

		if ((rc = hms_q(self,
				"SELECT \"PART_ID\", \"SD_ID\" FROM \"PARTITIONS\" WHERE "
				"\"TBL_ID\" = ? "
				"ORDER BY \"PART_ID\" LIMIT 1000",
				p, 1, &rs, NULL, err)) < 0)
			return rc;
		if (hms_ids_from_rows(&rs, 0, &parts, 1, &sds) < 0)
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		got = rs.nrows;
		hms_rowset_free(&rs);
		if (rc == 0 && parts.n)
			rc = delete_parts(self, &parts, &sds, err);
		free(parts.v);
		free(sds.v);
		if (rc < 0 || got < 1000)
			return rc;
	}
}

/* ---- partitions: writing ------------------------------------------------- */

/* Existing partitions among names: PART_ID, CREATE_TIME, SD_ID, PART_NAME rows. */
static int find_parts(hms_catalog *self, long long tbl, char **names, size_t n, rowset *rs,
		      ms_error *err)
{
	ms_buf sql = MS_BUF_INIT((size_t)1 << 24);
	plist p = { 0 };
	size_t i, k, j;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i += k) {
		k = n - i < HMS_BATCH ? n - i : HMS_BATCH;
		ms_buf_reset(&sql);
		hms_params_reset(&p);
		rc = hms_params_addll(&p, tbl);
		for (j = 0; j < k && rc == 0; j++)
			rc = hms_params_add(&p, names[i + j]);
		if (rc == 0)
			rc = ms_buf_adds(&sql,
					 "SELECT \"PART_ID\", \"CREATE_TIME\", \"SD_ID\", "
					 "\"PART_NAME\" FROM \"PARTITIONS\" WHERE \"TBL_ID\" = ? "
					 "AND \"PART_NAME\" IN ");
		if (rc == 0)
			rc = hms_add_marks(&sql, k);
		if (rc < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			break;
		}
		rc = hms_q(self, sql.ptr, p.v, p.n, rs, NULL, err);
	}
	ms_buf_free(&sql);
	hms_params_free(&p);
	return rc;
}

/*
 * One name, one partition.  Hive keeps one partition per PART_NAME, and
 * names are not one to one with values: '' and '__HIVE_DEFAULT_PARTITION__'
 * are both written __HIVE_DEFAULT_PARTITION__, and MySQL's latin1_bin
 * compares names without their trailing spaces.  Two partitions whose
 * names compare equal are one to the metastore, so the second is refused
 * (MS_EEXISTS, as Hive refuses it), never merged into the first.
 */
#define NO_INDEX ((size_t)-1)

/* Length of name as the metastore compares it. */
static size_t name_len(const hms_catalog *self, const char *name)
{
	size_t n = strlen(name);

	if (self->dialect == HMS_MYSQL)
		while (n > 0 && name[n - 1] == ' ')
			n--;
	return n;
}

static int same_name(const hms_catalog *self, const char *a, const char *b)
{
	size_t la = name_len(self, a), lb = name_len(self, b);

	return la == lb && memcmp(a, b, la) == 0;
}

typedef struct named {
	const char *name;
	size_t len, idx;
} named;

static int cmp_named(const void *a, const void *b)
{
	const named *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Refuse a batch in which partitions with different values have one name:
 * MS_EEXISTS naming the first such partition in batch order and the earlier
 * one whose name it has.  The same values twice are one partition given
 * twice (the last one is written).
 */
static int batch_names_unique(hms_catalog *self, const char *dn, const char *tn, char **names,
			      ms_entity *const *parts, size_t n, ms_error *err)
{
	named *v = malloc((n ? n : 1) * sizeof(*v));
	size_t g, end, k, refused = NO_INDEX, first = 0;

	if (!v)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (k = 0; k < n; k++) {
		v[k].name = names[k];
		v[k].len = name_len(self, names[k]);
		v[k].idx = k;
	}
	qsort(v, n, sizeof(*v), cmp_named);
	for (g = 0; g < n; g = end) {
		for (end = g + 1; end < n && v[end].len == v[g].len &&
				  memcmp(v[end].name, v[g].name, v[g].len) == 0;
		     end++)
			;
		for (k = g + 1; k < end; k++)
			if (strcmp(parts[v[k].idx]->vkey, parts[v[g].idx]->vkey) != 0) {
				if (v[k].idx < refused) {
					refused = v[k].idx;
					first = v[g].idx;
				}
				break;
			}
	}
	free(v);
	if (refused == NO_INDEX)
		return 0;
	return ms_error_set(err, MS_EEXISTS,
			    "partition %.200s of '%s.%s' has the hive name '%.200s' of partition "
			    "%.200s before it in the batch (a hive metastore holds one partition "
			    "per name)",
			    parts[refused]->vkey, dn, tn, names[refused], parts[first]->vkey);
}

/*
 * For each row of ex (PART_ID first, PART_NAME fourth) whose name has a
 * value written __HIVE_DEFAULT_PARTITION__: the values key of what
 * PARTITION_KEY_VALS holds for it (the name cannot tell '' from the text
 * __HIVE_DEFAULT_PARTITION__); NULL for the other rows, whose names say
 * their values.  *out is new, NULL when no row needs it.
 */
static int stored_vkeys(hms_catalog *self, const rowset *ex, char ***out, ms_error *err)
{
	idlist ids = { 0 };
	rowset kv = { 0 };
	const char **vals = NULL;
	char **v = NULL;
	size_t i, k, nv;
	int rc = 0;

	*out = NULL;
	for (i = 0; i < ex->nrows; i++)
		if (strstr(CELL(ex, i, 3), "=" HMS_DEFAULT_PARTITION) &&
		    hms_idlist_add(&ids, strtoll(CELL(ex, i, 0), NULL, 10)) < 0)
			goto oom;
	if (ids.n == 0)
		goto done;
	if ((rc = hms_q_in(self,
			   "SELECT \"PART_ID\", \"PART_KEY_VAL\" FROM \"PARTITION_KEY_VALS\" WHERE "
			   "\"PART_ID\" IN ",
			   " ORDER BY \"PART_ID\", \"INTEGER_IDX\"", NULL, 0, &ids, &kv, err)) < 0)
		goto done;
	if (!(v = calloc(ex->nrows, sizeof(*v))) ||
	    !(vals = malloc((kv.nrows + 1) * sizeof(*vals))))
		goto oom;
	for (i = 0; i < ex->nrows; i++) {
		if (!strstr(CELL(ex, i, 3), "=" HMS_DEFAULT_PARTITION))
			continue;
		for (k = 0, nv = 0; k < kv.nrows; k++)
			if (strcmp(CELL(&kv, k, 0), CELL(ex, i, 0)) == 0)
				vals[nv++] = CELL(&kv, k, 1) ? CELL(&kv, k, 1) : "";
		if ((rc = ms_values_key(&v[i], vals, nv, err)) < 0)
			goto done;
	}
	*out = v;
	v = NULL;
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	for (i = 0; v && i < ex->nrows; i++)
		free(v[i]);
	free(v);
	free(vals);
	free(ids.v);
	hms_rowset_free(&kv);
	return rc;
}

static void stored_vkeys_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Match the partitions found by name (ex: PART_ID, CREATE_TIME, SD_ID,
 * PART_NAME) to the batch.  A row with a partition's name and values is the
 * partition being replaced: its id and creation time are kept (part_ids,
 * ctimes).  A row whose name only compares equal to one of the batch
 * (trailing spaces in MySQL), or that holds other values under the same
 * name, is another partition: MS_EEXISTS naming both.
 */
static int match_existing(hms_catalog *self, const char *dn, const char *tn, const rowset *ex,
			  char **names, ms_entity *const *parts, size_t n, long long *part_ids,
			  long long *ctimes, ms_error *err)
{
	char **stored = NULL;
	size_t i, j;
	int rc;

	if ((rc = stored_vkeys(self, ex, &stored, err)) < 0)
		return rc;
	for (i = 0; i < ex->nrows && rc == 0; i++) {
		const char *rn = CELL(ex, i, 3);
		size_t alike = NO_INDEX;
		int same = 0;

		for (j = 0; j < n && rc == 0; j++) {
			if (strcmp(names[j], rn) != 0) {
				if (alike == NO_INDEX && same_name(self, names[j], rn))
					alike = j;
				continue;
			}
			if (stored && stored[i] && strcmp(stored[i], parts[j]->vkey) != 0) {
				rc = ms_error_set(err, MS_EEXISTS,
						  "partition %.200s of '%s.%s' has the hive name "
						  "'%.200s' of partition %.200s, which '%s' holds "
						  "(a "
						  "hive metastore holds one partition per name)",
						  parts[j]->vkey, dn, tn, rn, stored[i],
						  self->base.url);
				break;
			}
			part_ids[j] = strtoll(CELL(ex, i, 0), NULL, 10);
			ctimes[j] = strtoll(CELL(ex, i, 1), NULL, 10);
			same = 1;
		}
		if (rc == 0 && !same)
			rc = ms_error_set(err, MS_EEXISTS,
					  "partition %.200s of '%s.%s' has the hive name '%.200s', "
					  "which "
					  "'%s' takes for its partition '%.200s' (its hive schema "
					  "ignores trailing spaces)",
					  parts[alike == NO_INDEX ? 0 : alike]->vkey, dn, tn,
					  names[alike == NO_INDEX ? 0 : alike], self->base.url, rn);
	}
	stored_vkeys_free(stored, ex->nrows);
	return rc;
}

/* A batch of partitions being written: per partition, what it becomes in Hive. */
typedef struct partbatch {
	hms_catalog *self;
	ms_entity *const *parts;
	size_t n;
	tblinfo t;           /* their table */
	subject subj;        /* for messages; vkey set per partition */
	char **names;        /* PART_NAME; NULL when a later one of the batch has the name */
	char **stexts;       /* stash text, or NULL */
	long long *part_ids; /* -1 until known (an existing partition's, or reserved) */
	long long *ctimes;   /* an existing partition's CREATE_TIME, or -1 */
	long long *sd_ids, *serde_ids; /* -1: none */
	long long *cd_ids;             /* -1: none or to reserve; -2: the table's own CD */
	long long *list_ids;           /* skew string list ids, in batch order */
	stash *stashes;
	size_t nsd, nserde, ncd, nlists; /* ids to reserve */
} partbatch;

static int batch_alloc(partbatch *b)
{
	size_t n = b->n;

	b->names = calloc(n, sizeof(*b->names));
	b->stexts = calloc(n, sizeof(*b->stexts));
	b->part_ids = calloc(n, sizeof(*b->part_ids));
	b->ctimes = calloc(n, sizeof(*b->ctimes));
	b->sd_ids = calloc(n, sizeof(*b->sd_ids));
	b->serde_ids = calloc(n, sizeof(*b->serde_ids));
	b->cd_ids = calloc(n, sizeof(*b->cd_ids));
	b->stashes = calloc(n, sizeof(*b->stashes));
	if (!b->names || !b->stexts || !b->part_ids || !b->ctimes || !b->sd_ids || !b->serde_ids ||
	    !b->cd_ids || !b->stashes)
		return MS_ENOMEM;
	return 0;
}

static void batch_free(partbatch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (b->names)
			free(b->names[i]);
		if (b->stexts)
			free(b->stexts[i]);
		if (b->stashes)
			hms_stash_free(&b->stashes[i]);
	}
	free(b->names);
	free(b->stexts);
	free(b->stashes);
	free(b->part_ids);
	free(b->ctimes);
	free(b->sd_ids);
	free(b->serde_ids);
	free(b->cd_ids);
	free(b->list_ids);
	hms_tblinfo_free(&b->t);
}

/*
 * Partition i before any row is written: its name, the checks of its
 * values, its stash, and the ids its storage descriptor needs (a column
 * list like the table's uses the table's CD).  sig is scratch.
 */
static int prepare_part(partbatch *b, size_t i, ms_buf *sig, ms_error *err)
{
	static const char *const known[] = { "Values",       "DatabaseName",   "TableName",
					     "CreationTime", "LastAccessTime", "StorageDescriptor",
					     "Parameters",   "CatalogId",      NULL };
	hms_catalog *self = b->self;
	const subject *s = &b->subj;
	const cJSON *doc = b->parts[i]->doc, *sd = hms_jget(doc, "StorageDescriptor"), *v;
	size_t nv = (size_t)cJSON_GetArraySize(hms_jget(doc, "Values"));
	stash *st = &b->stashes[i];
	int rc;

	ms_buf_init(&st->fields, 4096);
	b->subj.vkey = b->parts[i]->vkey;
	if ((rc = ms_partition_check_count(s->db, s->table, s->vkey, nv, b->t.nkeys, err)) < 0 ||
	    (rc = hms_partition_name(&b->t, hms_jget(doc, "Values"), s->vkey, &b->names[i], err)) <
		    0)
		goto done;
	CHECK("PARTITIONS.PART_NAME", b->names[i]);
	cJSON_ArrayForEach(v, hms_jget(doc, "Values"))
		CHECK("PARTITION_KEY_VALS.PART_KEY_VAL", v->valuestring);
	if ((rc = hms_stash_unknown(st, doc, known, "x")) < 0 ||
	    (cJSON_IsNumber(hms_jget(doc, "LastAccessTime")) &&
	     hms_num(hms_jget(doc, "LastAccessTime"), 0) == 0 &&
	     (rc = hms_stash_default(st, "LastAccessTime")) < 0) ||
	    (hms_empty_container(hms_jget(doc, "Parameters")) &&
	     (rc = hms_stash_default(st, "Parameters")) < 0))
		goto oom;
	b->part_ids[i] = b->ctimes[i] = b->sd_ids[i] = b->serde_ids[i] = b->cd_ids[i] = -1;
	if (!cJSON_IsObject(sd))
		return 0;
	b->nsd++;
	if (hms_jget(sd, "SerdeInfo"))
		b->nserde++;
	b->nlists += hms_sd_lists(sd);
	if (hms_jget(sd, "Columns")) {
		if ((rc = hms_colsig(hms_jget(sd, "Columns"), sig)) < 0)
			goto oom;
		if (b->t.colsig && b->t.cd >= 0 && strcmp(sig->ptr, b->t.colsig) == 0)
			b->cd_ids[i] = -2; /* the table's */
		else
			b->ncd++;
	}
	return 0;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	return rc;
}

/*
 * The partitions of the batch that exist keep their ids and creation
 * times; their old rows go.  A name the table holds for other values is
 * MS_EEXISTS (match_existing).
 */
static int replace_existing(partbatch *b, ms_error *err)
{
	hms_catalog *self = b->self;
	const char *dn = b->subj.db, *tn = b->subj.table;
	rowset ex = { 0 };
	idlist old_parts = { 0 }, old_sds = { 0 };
	int rc;

	if ((rc = find_parts(self, b->t.id, b->names, b->n, &ex, err)) < 0 ||
	    (rc = match_existing(self, dn, tn, &ex, b->names, b->parts, b->n, b->part_ids,
				 b->ctimes, err)) < 0)
		goto done;
	if (hms_ids_from_rows(&ex, 0, &old_parts, 2, &old_sds) < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	rc = delete_parts(self, &old_parts, &old_sds, err);
done:
	free(old_parts.v);
	free(old_sds.v);
	hms_rowset_free(&ex);
	return rc;
}

/* A value given twice in one batch: the last one wins (the others' names are dropped). */
static void drop_repeats(partbatch *b)
{
	size_t i, j;

	for (i = 0; i < b->n; i++)
		for (j = i + 1; j < b->n && b->names[i]; j++)
			if (b->names[j] && strcmp(b->names[i], b->names[j]) == 0) {
				free(b->names[i]);
				b->names[i] = NULL;
			}
}

/* Which partitions of a batch take an id of one class. */
typedef int (*wants_id)(const partbatch *b, size_t i);

static const cJSON *part_sd(const partbatch *b, size_t i)
{
	return hms_jget(b->parts[i]->doc, "StorageDescriptor");
}

static int wants_part(const partbatch *b, size_t i)
{
	return b->names[i] && b->part_ids[i] < 0;
}

static int wants_sd(const partbatch *b, size_t i)
{
	return cJSON_IsObject(part_sd(b, i));
}

static int wants_serde(const partbatch *b, size_t i)
{
	return b->sd_ids[i] >= 0 && hms_jget(part_sd(b, i), "SerdeInfo");
}

static int wants_cd(const partbatch *b, size_t i)
{
	return b->sd_ids[i] >= 0 && b->cd_ids[i] == -1 && hms_jget(part_sd(b, i), "Columns");
}

/* Reserve count ids of a class; hand them out, in batch order, to the partitions that want one. */
static int hand_out(partbatch *b, const char *cls, const char *table, const char *idcol,
		    size_t count, long long *ids, wants_id wants, ms_error *err)
{
	long long first;
	size_t i;
	int rc;

	if (count == 0)
		return 0;
	if ((rc = hms_reserve_ids(b->self, cls, table, idcol, count, &first, err)) < 0)
		return rc;
	for (i = 0; i < b->n; i++)
		if (wants(b, i))
			ids[i] = first++;
	return 0;
}

/* Every id the batch needs, one reservation per class. */
static int reserve_batch_ids(partbatch *b, ms_error *err)
{
	long long first;
	size_t i, nnew = 0;
	int rc;

	for (i = 0; i < b->n; i++)
		if (wants_part(b, i))
			nnew++;
	if ((rc = hand_out(b, MODEL "MPartition", "PARTITIONS", "PART_ID", nnew, b->part_ids,
			   wants_part, err)) < 0 ||
	    (rc = hand_out(b, MODEL "MStorageDescriptor", "SDS", "SD_ID", b->nsd, b->sd_ids,
			   wants_sd, err)) < 0 ||
	    (rc = hand_out(b, MODEL "MSerDeInfo", "SERDES", "SERDE_ID", b->nserde, b->serde_ids,
			   wants_serde, err)) < 0 ||
	    (rc = hand_out(b, MODEL "MColumnDescriptor", "CDS", "CD_ID", b->ncd, b->cd_ids,
			   wants_cd, err)) < 0)
		return rc;
	if (b->nlists == 0)
		return 0;
	if ((rc = hms_reserve_ids(b->self, MODEL "MStringList", "SKEWED_STRING_LIST",
				  "STRING_LIST_ID", b->nlists, &first, err)) < 0)
		return rc;
	if (!(b->list_ids = calloc(b->nlists, sizeof(*b->list_ids))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (i = 0; i < b->nlists; i++)
		b->list_ids[i] = first + (long long)i;
	return 0;
}

/* The storage descriptors of the batch, before the partitions that point at them. */
static int write_batch_sds(partbatch *b, ms_error *err)
{
	sdwriter w;
	size_t i, li = 0;
	int rc = 0;

	hms_sdw_init(&w, b->self);
	for (i = 0; i < b->n && rc == 0; i++) {
		const cJSON *sd = part_sd(b, i);
		sdjob j;

		if (!b->names[i] || b->sd_ids[i] < 0)
			continue;
		b->subj.vkey = b->parts[i]->vkey;
		j.s = &b->subj;
		j.sd = sd;
		j.sd_id = b->sd_ids[i];
		j.serde_id = b->serde_ids[i];
		j.cd_id = b->cd_ids[i] == -2 ? b->t.cd : -1;
		j.new_cd = b->cd_ids[i] == -2 ? -1 : b->cd_ids[i];
		j.lists = b->list_ids ? b->list_ids + li : NULL;
		j.st = &b->stashes[i];
		rc = hms_write_sd(b->self, &w, &j, err);
		li += hms_sd_lists(sd);
	}
	if (rc == 0)
		rc = hms_sdw_flush(&w, err);
	hms_sdw_free(&w);
	return rc;
}

/* The PARTITIONS rows. */
static int write_part_rows(partbatch *b, ms_error *err)
{
	static const char *const pcols[] = { "PART_ID",   "CREATE_TIME", "LAST_ACCESS_TIME",
					     "PART_NAME", "SD_ID",       "TBL_ID" };
	inserter pins;
	size_t i;
	int rc = 0;

	hms_ins_init(&pins, b->self, "PARTITIONS", pcols, NULL, 6);
	for (i = 0; i < b->n; i++) {
		const cJSON *doc = b->parts[i]->doc;

		if (!b->names[i])
			continue;
		b->subj.vkey = b->parts[i]->vkey;
		if ((rc = hms_stash_text(&b->stashes[i], &b->stexts[i])) < 0)
			goto oom;
		PL(&pins, b->part_ids[i]);
		PL(&pins, b->ctimes[i] >= 0
				  ? b->ctimes[i]
				  : hms_num(hms_jget(doc, "CreationTime"), (long long)time(NULL)));
		PL(&pins, hms_num(hms_jget(doc, "LastAccessTime"), 0));
		P(&pins, b->names[i]);
		if (b->sd_ids[i] >= 0)
			PL(&pins, b->sd_ids[i]);
		else
			P(&pins, NULL);
		PL(&pins, b->t.id);
		if ((rc = hms_ins_row(&pins, err)) < 0)
			goto done;
	}
	rc = hms_ins_flush(&pins, err);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	hms_ins_free(&pins);
	return rc;
}

/* What hangs off the partitions: PARTITION_KEY_VALS and PARTITION_PARAMS (with the stash). */
static int write_part_children(partbatch *b, ms_error *err)
{
	static const char *const kvcols[] = { "PART_ID", "PART_KEY_VAL", "INTEGER_IDX" };
	static const char *const ppcols[] = { "PART_ID", "PARAM_KEY", "PARAM_VALUE" };
	inserter kvins, ppins;
	size_t i;
	int rc = 0;

	hms_ins_init(&kvins, b->self, "PARTITION_KEY_VALS", kvcols, NULL, 3);
	hms_ins_init(&ppins, b->self, "PARTITION_PARAMS", ppcols, NULL, 3);
	for (i = 0; i < b->n; i++) {
		const cJSON *doc = b->parts[i]->doc, *v;
		long long k = 0;

		if (!b->names[i])
			continue;
		b->subj.vkey = b->parts[i]->vkey;
		cJSON_ArrayForEach(v, hms_jget(doc, "Values"))
		{
			PL(&kvins, b->part_ids[i]);
			P(&kvins, v->valuestring);
			PL(&kvins, k++);
			if ((rc = hms_ins_row(&kvins, err)) < 0)
				goto done;
		}
		if ((rc = hms_param_rows(b->self, &b->subj, &ppins, b->part_ids[i],
					 hms_jget(doc, "Parameters"), b->stexts[i], err)) < 0)
			goto done;
	}
	if ((rc = hms_ins_flush(&kvins, err)) == 0)
		rc = hms_ins_flush(&ppins, err);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	hms_ins_free(&kvins);
	hms_ins_free(&ppins);
	return rc;
}

/*
 * Create or replace a batch of partitions of one table in one call's
 * transaction: every partition is checked and named first, existing ones
 * keep their ids, then ids are reserved once per class and the rows are
 * inserted in foreign-key order.
 */
int hms_put_partitions(ms_catalog *cat, const char *db, const char *table, ms_entity *const *parts,
		       size_t n, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF];
	ms_buf sig = MS_BUF_INIT((size_t)64 << 20);
	partbatch b;
	size_t i;
	int rc, began = 0;

	memset(&b, 0, sizeof(b));
	b.self = self;
	b.parts = parts;
	b.n = n;
	b.subj.kind = MS_KIND_PARTITION;
	if ((rc = hms_fold2(dn, tn, db, table, err)) < 0)
		goto done;
	b.subj.db = dn;
	b.subj.table = tn;
	for (i = 0; i < n; i++)
		if (!parts[i] || parts[i]->kind != MS_KIND_PARTITION ||
		    !cJSON_IsObject(parts[i]->doc)) {
			rc = ms_error_set(err, MS_EINVAL,
					  "entity %zu given to put_partitions of '%s.%s' is not a "
					  "partition",
					  i, dn, tn);
			goto done;
		}
	if ((rc = hms_call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = hms_tbl_find(self, dn, tn, 1, 1, &b.t, err)) < 0 || n == 0)
		goto done;
	if (batch_alloc(&b) < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = prepare_part(&b, i, &sig, err);
	if (rc < 0)
		goto done;
	b.subj.vkey = NULL;
	/* one name, one partition: in the batch, then against what the table holds */
	if ((rc = batch_names_unique(self, dn, tn, b.names, parts, n, err)) < 0 ||
	    (rc = replace_existing(&b, err)) < 0)
		goto done;
	drop_repeats(&b);
	/* storage descriptors first (foreign keys), then the partitions and their rows */
	if ((rc = reserve_batch_ids(&b, err)) < 0 || (rc = write_batch_sds(&b, err)) < 0 ||
	    (rc = write_part_rows(&b, err)) < 0 || (rc = write_part_children(&b, err)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if (b.names[i] && b.stashes[i].fields.len) {
			b.subj.vkey = parts[i]->vkey;
			hms_warn(self, &b.subj, b.stashes[i].fields.ptr);
		}
done:
	if (began)
		rc = hms_call_end(self, rc, err);
	batch_free(&b);
	ms_buf_free(&sig);
	return rc;
}

int hms_delete_partitions(ms_catalog *cat, const char *db, const char *table,
			  const char *const *vkeys, size_t n, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF];
	char **names = NULL, **stored = NULL;
	size_t *which = NULL;
	rowset ex = { 0 };
	idlist parts = { 0 }, sds = { 0 };
	tblinfo t;
	size_t i, j, k = 0;
	int rc, began = 0;

	memset(&t, 0, sizeof(t));
	if ((rc = hms_fold2(dn, tn, db, table, err)) < 0)
		return rc;
	if ((rc = hms_call_begin(self, err)) < 0)
		return rc;
	began = 1;
	if ((rc = hms_tbl_find(self, dn, tn, 1, 1, &t, err)) < 0 || n == 0)
		goto done;
	if (!(names = calloc(n, sizeof(*names))) || !(which = calloc(n, sizeof(*which)))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		cJSON *vals = NULL;

		if ((rc = hms_parse_vkey(vkeys[i], &vals, err)) < 0)
			goto done;
		if (cJSON_GetArraySize(vals) == (int)t.nkeys) {
			which[k] = i;
			rc = hms_partition_name(&t, vals, vkeys[i], &names[k++], err);
		}
		cJSON_Delete(vals);
		if (rc < 0)
			goto done;
		if (k && !hms_storable(self, names[k - 1]))
			free(names[--k]);
	}
	if ((rc = find_parts(self, t.id, names, k, &ex, err)) < 0 ||
	    (rc = stored_vkeys(self, &ex, &stored, err)) < 0)
		goto done;
	for (i = 0; i < ex.nrows; i++) {
		/* only the partition asked for: not one whose name merely compares equal */
		for (j = 0; j < k; j++)
			if (strcmp(names[j], CELL(&ex, i, 3)) == 0 &&
			    (!stored || !stored[i] || strcmp(stored[i], vkeys[which[j]]) == 0))
				break;
		if (j == k)
			continue;
		if (hms_idlist_add(&parts, strtoll(CELL(&ex, i, 0), NULL, 10)) < 0 ||
		    (CELL(&ex, i, 2) &&
		     hms_idlist_add(&sds, strtoll(CELL(&ex, i, 2), NULL, 10)) < 0)) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	}
	rc = delete_parts(self, &parts, &sds, err);
done:
	if (began)
		rc = hms_call_end(self, rc, err);
	stored_vkeys_free(stored, ex.nrows);
	for (i = 0; names && i < k; i++)
		free(names[i]);
	free(names);
	free(which);
	free(parts.v);
	free(sds.v);
	hms_rowset_free(&ex);
	hms_tblinfo_free(&t);
	return rc;
}
