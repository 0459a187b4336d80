/*
 * Glue operations on partitions: CreatePartition, BatchCreatePartition,
 * GetPartition, GetPartitions, BatchGetPartition, UpdatePartition,
 * BatchUpdatePartition, DeletePartition, BatchDeletePartition.
 *
 * GetPartitions pages through the table in the order of the partitions'
 * canonical values (ms_catalog_scan_partitions_range): its NextToken holds
 * the last values returned, so a page costs what it returns, and a
 * Segment keeps to its share of the table.  Its Expression is Glue's
 * partition filter (metasync/filter.h), evaluated here on each partition.
 * Batch operations are one transaction each, with per-item Errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/filter.h"
#include "server/glue_internal.h"
#include "util/strlist.h"

#define NAME_BUF (4 * MS_NAME_MAX + 1)
#define GETPARTITIONS_DEFAULT 1000
#define PAGE_TEXT_MAX ((size_t)12 << 20) /* a page's body stops growing past this */
#define KEYS_MAX MS_LINE_VALUES_MAX

/* The table whose partitions a request concerns, and its partition keys. */
typedef struct part_table {
	char db[NAME_BUF], name[NAME_BUF];
	ms_entity *table;
	ms_filter_key keys[KEYS_MAX];
	size_t nkeys;
} part_table;

static void part_table_free(part_table *t)
{
	ms_entity_free(t->table);
	t->table = NULL;
}

/* Read DatabaseName and TableName, open the catalog, fetch the table and its keys. */
static int open_table(glue_call *c, part_table *t, ms_access access)
{
	const cJSON *keys, *k;
	ms_error err;
	int rc;

	if (glue_in_name(c, c->in, "DatabaseName", 1, t->db, sizeof(t->db)) < 0 ||
	    glue_in_name(c, c->in, "TableName", 1, t->name, sizeof(t->name)) < 0 ||
	    glue_catalog(c, t->db, access) < 0)
		return -1;
	ms_error_clear(&err);
	rc = ms_catalog_get_table(c->cat, t->db, t->name, &t->table, &err);
	if (rc == MS_ENOTFOUND)
		return glue_table_missing(c, t->db, t->name);
	if (rc < 0)
		return glue_fail_err(c, rc, &err);
	keys = cJSON_GetObjectItemCaseSensitive(t->table->doc, "PartitionKeys");
	t->nkeys = 0;
	cJSON_ArrayForEach(k, keys)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(k, "Name");
		const cJSON *ty = cJSON_GetObjectItemCaseSensitive(k, "Type");

		if (t->nkeys == KEYS_MAX || !cJSON_IsString(n))
			break;
		t->keys[t->nkeys].name = n->valuestring;
		t->keys[t->nkeys].type = cJSON_IsString(ty) ? ty->valuestring : NULL;
		t->nkeys++;
	}
	return 0;
}

/*
 * The partition entity of a PartitionInput of t (new), checked against the
 * table's keys; else the model's error code with err filled (a batch lists
 * MS_EINVAL as the item's error).
 */
static int partition_from_input(const part_table *t, cJSON *input, ms_entity **out, ms_error *err)
{
	int rc = ms_entity_from_glue_input(out, MS_KIND_PARTITION, input, t->db, t->name, err);

	if (rc == 0 && (rc = ms_partition_check_values(t->table, *out, err)) < 0) {
		ms_entity_free(*out);
		*out = NULL;
	}
	return rc;
}

static int partition_exists(glue_call *c, const part_table *t, const char *vkey, int *exists)
{
	ms_entity *e = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_catalog_get_partition(c->cat, t->db, t->name, vkey, &e, &err);
	ms_entity_free(e);
	if (rc < 0 && rc != MS_ENOTFOUND)
		return glue_fail_err(c, rc, &err);
	*exists = rc == 0;
	return 0;
}

/* A batch item for input's values (copied when they are a list), under key. */
static cJSON *batch_item(cJSON *errors, const char *key, const cJSON *values)
{
	cJSON *item = cJSON_CreateObject();

	if (!item || !cJSON_AddItemToArray(errors, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	if (cJSON_IsArray(values))
		cJSON_AddItemToObject(item, key, cJSON_Duplicate(values, 1));
	return item;
}

static int item_failed(glue_call *c, cJSON *errors, const char *key, const cJSON *values,
		       const char *etype, const char *message)
{
	cJSON *item = batch_item(errors, key, values);

	if (!item || glue_item_error(item, etype, "%s", message) < 0)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	return 0;
}

/* ---- create --------------------------------------------------------------- */

/* A PartitionInput converted before the transaction: the entity, or why not. */
typedef struct part_input {
	ms_entity *p; /* NULL when rc < 0 */
	int rc;
	ms_error err;
	cJSON *values; /* a create's Values, for its item error */
} part_input;

typedef struct part_batch {
	part_table t;
	const cJSON *inputs; /* PartitionInputList or Entries, or NULL: one */
	const cJSON *one;    /* (prepare_inputs takes the inputs out of c->in) */
	cJSON *errors;       /* NULL: fail the call instead */
	part_input *in;      /* the inputs converted, in their order */
	size_t nin;
} part_batch;

static void part_batch_free(part_batch *b)
{
	size_t i;

	for (i = 0; i < b->nin; i++) {
		ms_entity_free(b->in[i].p);
		cJSON_Delete(b->in[i].values);
	}
	free(b->in);
	b->in = NULL;
	b->nin = 0;
	part_table_free(&b->t);
}

/*
 * Convert and check every PartitionInput of the batch (under member of each
 * entry when member is not NULL, else the entries themselves) before the
 * transaction, so that the writer holds the catalog only to write.  The
 * inputs are taken out of the request (the entities own them); a create
 * keeps a copy of each input's Values.  A malformed entry fails the call.
 */
static int prepare_inputs(glue_call *c, part_batch *b, const char *member, const char *what)
{
	size_t n = b->inputs ? (size_t)cJSON_GetArraySize(b->inputs) : 1, i;
	/* c->in is the call's own: its inputs may be taken */
	cJSON *list = (cJSON *)(b->inputs ? b->inputs : c->in);
	cJSON *entry = b->inputs ? list->child : (cJSON *)b->one, *next, *input;
	const cJSON *in;

	if (!(b->in = calloc(n ? n : 1, sizeof(*b->in))))
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	for (i = 0; entry && i < n; entry = next, i++) {
		part_input *pi = &b->in[i];

		next = b->inputs ? entry->next : NULL;
		if (!cJSON_IsObject(entry))
			return glue_fail(c, GLUE_E_SERIALIZATION, "%s must hold structures", what);
		if (member && glue_in_object(c, entry, member, 1, &in) < 0)
			return -1;
		if (member) {
			input = cJSON_DetachItemViaPointer(entry, (cJSON *)in);
		} else {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, "Values");

			if (v && !(pi->values = cJSON_Duplicate(v, 1)))
				return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
			input = cJSON_DetachItemViaPointer(list, entry);
		}
		ms_error_clear(&pi->err);
		b->nin = i + 1;
		pi->rc = partition_from_input(&b->t, input, &pi->p, &pi->err);
		if (pi->rc < 0 && pi->rc != MS_EINVAL && pi->rc != MS_ETOOBIG)
			return glue_fail_err(c, pi->rc, &pi->err);
	}
	return 0;
}

/* Fail the call, or list the item, for a prepared input that did not convert. */
static int input_failed(glue_call *c, part_batch *b, const char *key, const cJSON *values,
			const part_input *in)
{
	if (!b->errors)
		return glue_fail(c, GLUE_E_INVALID, "%s", in->err.message);
	return item_failed(c, b->errors, key, values, GLUE_E_INVALID, in->err.message);
}

/*
 * One input of a create (stored: the catalog holds its partition): 1 when
 * *out is to be created, 0 when it is an item error.
 */
static int create_one(glue_call *c, part_batch *b, const part_input *in, int stored,
		      ms_entity **out, ms_entity *const *taken, size_t ntaken)
{
	int exists = stored;
	size_t i;

	if (in->rc < 0)
		return input_failed(c, b, "PartitionValues", in->values, in);
	for (i = 0; i < ntaken && !exists; i++)
		exists = strcmp(taken[i]->vkey, in->p->vkey) == 0;
	if (!exists) {
		*out = in->p; /* still the batch's: freed after the transaction */
		return 1;
	}
	if (!b->errors)
		return glue_fail(c, GLUE_E_EXISTS, "Partition already exists.");
	return item_failed(c, b->errors, "PartitionValues", in->values, GLUE_E_EXISTS,
			   "Partition already exists.");
}

/* Which of the batch's inputs the catalog holds already: stored[i], one read for all. */
static int stored_inputs(glue_call *c, part_batch *b, int *stored)
{
	const char *vkeys[100];
	ms_entity *found[100];
	size_t n = 0, i;
	ms_error err;
	int rc;

	for (i = 0; i < b->nin && i < 100; i++)
		if (b->in[i].rc >= 0)
			vkeys[n++] = b->in[i].p->vkey;
	ms_error_clear(&err);
	if ((rc = ms_catalog_get_partitions(c->cat, b->t.db, b->t.name, vkeys, n, found, &err)) < 0)
		return glue_fail_err(c, rc, &err);
	for (n = i = 0; i < b->nin && i < 100; i++) {
		stored[i] = b->in[i].rc >= 0 && found[n];
		if (b->in[i].rc >= 0)
			ms_entity_free(found[n++]);
	}
	return 0;
}

static int create_in_txn(glue_call *c, void *ctx)
{
	part_batch *b = ctx;
	ms_entity *parts[100] = { NULL };
	int stored[100] = { 0 };
	size_t n = 0, i;
	ms_error err;
	int rc = 0;

	if (stored_inputs(c, b, stored) < 0)
		return -1;
	for (i = 0; i < b->nin && n < 100; i++) {
		if ((rc = create_one(c, b, &b->in[i], stored[i], &parts[n], parts, n)) < 0)
			break;
		n += rc == 1;
	}
	if (rc >= 0 && n) {
		ms_error_clear(&err);
		if ((rc = ms_catalog_put_partitions(c->cat, b->t.db, b->t.name, parts, n, &err)) <
		    0)
			rc = glue_fail_err(c, rc, &err);
	}
	return rc < 0 ? -1 : 0;
}

static int create_partition(glue_call *c)
{
	part_batch b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	if (glue_in_object(c, c->in, "PartitionInput", 1, &b.one) == 0 &&
	    open_table(c, &b.t, MS_ACCESS_WRITE) == 0 &&
	    prepare_inputs(c, &b, NULL, "PartitionInput") == 0)
		rc = glue_in_txn(c, create_in_txn, &b);
	part_batch_free(&b);
	return rc;
}

static int batch_create_partition(glue_call *c)
{
	part_batch b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	if (glue_in_array(c, c->in, "PartitionInputList", 1, 0, 100, &b.inputs) < 0 ||
	    open_table(c, &b.t, MS_ACCESS_WRITE) < 0 ||
	    prepare_inputs(c, &b, NULL, "PartitionInputList") < 0)
		goto done;
	if (!(b.errors = cJSON_AddArrayToObject(c->out, "Errors"))) {
		glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		goto done;
	}
	rc = glue_in_txn(c, create_in_txn, &b);
done:
	part_batch_free(&b);
	return rc;
}

/* ---- read ----------------------------------------------------------------- */

/* Append p's Glue output shape to out, without its columns when exclude_columns. */
static int partition_text(glue_call *c, ms_entity *p, int exclude_columns, ms_buf *out)
{
	ms_error err;
	int rc;

	ms_error_clear(&err);
	if (exclude_columns) {
		cJSON *sd;

		if ((rc = ms_entity_parse(p, &err)) < 0)
			return glue_fail_err(c, MS_EIO, &err);
		sd = cJSON_GetObjectItemCaseSensitive(p->doc, "StorageDescriptor");
		if (sd)
			cJSON_DeleteItemFromObjectCaseSensitive(sd, "Columns");
	}
	if ((rc = ms_entity_to_glue_output(p, out, 0, &err)) < 0)
		return glue_fail_err(c, MS_EIO, &err);
	return 0;
}

typedef struct page {
	glue_call *c;
	const ms_partition_filter *filter;
	long long left;
	int exclude_columns;
	int more;
	size_t count;
	char *last; /* vkey of the last partition on the page */
	ms_buf *text;
} page;

static int page_add(page *pg, ms_entity *p)
{
	if (pg->left == 0 || pg->text->len > PAGE_TEXT_MAX) {
		pg->more = 1;
		return 1;
	}
	if ((pg->count && ms_buf_addc(pg->text, ',') < 0) ||
	    partition_text(pg->c, p, pg->exclude_columns, pg->text) < 0)
		return MS_ERROR;
	free(pg->last);
	if (!(pg->last = strdup(p->vkey)))
		return MS_ENOMEM;
	pg->left--;
	pg->count++;
	return 0;
}

static int on_partition(ms_entity *p, void *ctx, ms_error *err)
{
	int rc = page_add(ctx, p);

	(void)err;
	ms_entity_free(p);
	return rc;
}

/* The values of a canonical values key ("[\"a\",\"b\"]") into v (pointing into *tree). */
static size_t vkey_values(const char *vkey, cJSON **tree, const char **v, size_t max)
{
	const cJSON *x;
	size_t n = 0;

	*tree = cJSON_Parse(vkey);
	cJSON_ArrayForEach(x, *tree)
	{
		if (n == max)
			break;
		v[n++] = cJSON_IsString(x) ? x->valuestring : NULL;
	}
	return n;
}

/*
 * With an Expression, a page is found on the keys alone (no document is
 * read for a partition the filter drops), one more than the page holds to
 * know whether another page follows; the documents are read after.
 */
typedef struct matches {
	const ms_partition_filter *filter;
	ms_strlist vkeys;
	size_t want;
} matches;

static int on_key(ms_entity *p, void *ctx, ms_error *err)
{
	matches *m = ctx;
	const char *v[KEYS_MAX];
	cJSON *tree = NULL;
	size_t n = vkey_values(p->vkey, &tree, v, KEYS_MAX);
	int rc = 0;

	if (ms_partition_filter_match(m->filter, v, n) && ms_strlist_add(&m->vkeys, p->vkey) < 0)
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	else if (m->vkeys.n == m->want)
		rc = 1;
	cJSON_Delete(tree);
	ms_entity_free(p);
	return rc;
}

static int filtered_page(glue_call *c, part_table *t, ms_scan_range *range, page *pg)
{
	matches m = { pg->filter, { 0 }, (size_t)pg->left + 1 };
	ms_error err;
	size_t i;
	int rc;

	ms_error_clear(&err);
	rc = ms_catalog_scan_partitions_range(c->cat, t->db, t->name, range, MS_SCAN_KEYS_ONLY,
					      on_key, &m, &err);
	if (rc < 0) {
		ms_strlist_free(&m.vkeys);
		return glue_fail_err(c, rc, &err);
	}
	for (i = 0, rc = 0; i < m.vkeys.n && rc == 0; i++) {
		ms_entity *p = NULL;

		rc = ms_catalog_get_partition(c->cat, t->db, t->name, m.vkeys.v[i], &p, &err);
		if (rc == MS_ENOTFOUND) { /* deleted since the scan */
			rc = 0;
			continue;
		}
		if (rc < 0)
			rc = glue_fail_err(c, rc, &err);
		else if ((rc = page_add(pg, p)) < 0 && !c->etype)
			rc = glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		ms_entity_free(p);
	}
	ms_strlist_free(&m.vkeys);
	return rc < 0 ? -1 : 0;
}

/* Segment of GetPartitions into range (0 segments when absent). */
static int in_segment(glue_call *c, ms_scan_range *range)
{
	const cJSON *seg;
	long long number = -1, total = -1;

	if (glue_in_object(c, c->in, "Segment", 0, &seg) < 0)
		return -1;
	if (!seg)
		return 0;
	if (glue_in_int(c, seg, "SegmentNumber", 0, 9, &number) < 0 ||
	    glue_in_int(c, seg, "TotalSegments", 1, 10, &total) < 0)
		return -1;
	if (number < 0 || total < 0)
		return glue_fail(c, GLUE_E_INVALID,
				 "Segment needs SegmentNumber and TotalSegments");
	if (number >= total)
		return glue_fail(c, GLUE_E_INVALID,
				 "SegmentNumber must be less than TotalSegments");
	range->segment = (unsigned)number;
	range->segments = (unsigned)total;
	return 0;
}

static int scan_page(glue_call *c, part_table *t, ms_scan_range *range, page *pg)
{
	ms_error err;
	int rc;

	ms_error_clear(&err);
	if (ms_buf_adds(pg->text, "{\"Partitions\":[") < 0)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	if (pg->filter) {
		if (filtered_page(c, t, range, pg) < 0)
			return -1;
	} else {
		rc = ms_catalog_scan_partitions_range(c->cat, t->db, t->name, range,
						      pg->exclude_columns ? 0 : MS_SCAN_RAW,
						      on_partition, pg, &err);
		if (rc < 0 && c->etype)
			return -1;
		if (rc < 0)
			return glue_fail_err(c, rc, &err);
	}
	if (ms_buf_addc(pg->text, ']') < 0)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	if (pg->more) {
		char *tok = glue_token_encode("part", pg->last);

		if (!tok || ms_buf_printf(pg->text, ",\"NextToken\":\"%s\"", tok) < 0) {
			free(tok);
			return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		}
		free(tok);
	}
	if (ms_buf_addc(pg->text, '}') < 0)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	c->text_used = 1;
	return 0;
}

static int get_partitions(glue_call *c)
{
	part_table t;
	const char *expr;
	long long max = GETPARTITIONS_DEFAULT;
	ms_partition_filter *filter = NULL;
	ms_scan_range range;
	char *after = NULL;
	page pg;
	ms_error err;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	memset(&range, 0, sizeof(range));
	memset(&pg, 0, sizeof(pg));
	if (glue_in_string(c, c->in, "Expression", 0, 0, MS_FILTER_EXPR_MAX, &expr) < 0 ||
	    glue_in_int(c, c->in, "MaxResults", 1, 1000, &max) < 0 ||
	    glue_in_bool(c, c->in, "ExcludeColumnSchema", &pg.exclude_columns) < 0 ||
	    in_segment(c, &range) < 0 || glue_token_parse(c, "part", &after) < 0 ||
	    open_table(c, &t, MS_ACCESS_READ) < 0)
		goto done;
	ms_error_clear(&err);
	if (expr && ms_partition_filter_parse(&filter, expr, t.keys, t.nkeys, &err) < 0) {
		glue_fail(c, GLUE_E_INVALID, "%s", err.message);
		goto done;
	}
	range.after = after;
	pg.c = c;
	pg.filter = filter;
	pg.left = max;
	pg.text = c->text;
	rc = scan_page(c, &t, &range, &pg);
done:
	ms_partition_filter_free(filter);
	free(pg.last);
	free(after);
	part_table_free(&t);
	return rc;
}

static int get_partition(glue_call *c)
{
	part_table t;
	char *vkey = NULL;
	ms_entity *p = NULL;
	ms_error err;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	if (glue_in_values(c, c->in, "PartitionValues", &vkey) < 0 ||
	    open_table(c, &t, MS_ACCESS_READ) < 0)
		goto done;
	ms_error_clear(&err);
	rc = ms_catalog_get_partition(c->cat, t.db, t.name, vkey, &p, &err);
	if (rc == MS_ENOTFOUND)
		rc = glue_fail(c, GLUE_E_NOT_FOUND, "Partition not found.");
	else if (rc < 0)
		rc = glue_fail_err(c, rc, &err);
	else
		rc = glue_add_entity(c, c->out, "Partition", p);
done:
	ms_entity_free(p);
	free(vkey);
	part_table_free(&t);
	return rc;
}

/*
 * BatchGetPartition.  Under --faults a share of the keys after the first is
 * left in UnprocessedKeys, as Glue leaves them when it is busy: a client
 * must ask for them again.
 */
static int batch_get_partition(glue_call *c)
{
	part_table t;
	const cJSON *list, *item;
	cJSON *parts, *left;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	if (glue_in_array(c, c->in, "PartitionsToGet", 1, 0, 1000, &list) < 0 ||
	    open_table(c, &t, MS_ACCESS_READ) < 0)
		goto done;
	if (!(parts = cJSON_AddArrayToObject(c->out, "Partitions")) ||
	    !(left = cJSON_AddArrayToObject(c->out, "UnprocessedKeys"))) {
		glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		goto done;
	}
	cJSON_ArrayForEach(item, list)
	{
		char *vkey = NULL;
		ms_entity *p = NULL;
		ms_error err;
		int got;

		if (!cJSON_IsObject(item)) {
			glue_fail(c, GLUE_E_SERIALIZATION, "PartitionsToGet must hold structures");
			goto done;
		}
		if (glue_in_values(c, item, "Values", &vkey) < 0)
			goto done;
		if (item != list->child && glue_fault(c)) {
			free(vkey);
			if (!cJSON_AddItemToArray(left, cJSON_Duplicate(item, 1))) {
				glue_fail(c, GLUE_E_INTERNAL, "out of memory");
				goto done;
			}
			continue;
		}
		ms_error_clear(&err);
		got = ms_catalog_get_partition(c->cat, t.db, t.name, vkey, &p, &err);
		free(vkey);
		if (got < 0 && got != MS_ENOTFOUND) {
			glue_fail_err(c, got, &err);
			goto done;
		}
		if (got == 0 && glue_add_entity(c, parts, NULL, p) < 0) {
			ms_entity_free(p);
			goto done;
		}
		ms_entity_free(p);
	}
	rc = 0;
done:
	part_table_free(&t);
	return rc;
}

/* ---- update --------------------------------------------------------------- */

/* Update one partition (old values, its prepared input); 0, -1 (call failed), or an item error added. */
static int update_one(glue_call *c, part_batch *b, const cJSON *old_values, part_input *in)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(old_values, "PartitionValueList");
	char *old = NULL;
	ms_error err;
	int rc, exists = 0;

	ms_error_clear(&err);
	if (glue_in_values(c, old_values ? old_values : c->in, "PartitionValueList", &old) < 0)
		return -1;
	if (partition_exists(c, &b->t, old, &exists) < 0)
		goto fail;
	if (!exists) {
		rc = b->errors ? item_failed(c, b->errors, "PartitionValueList", list,
					     GLUE_E_NOT_FOUND, "Partition not found.")
			       : glue_fail(c, GLUE_E_NOT_FOUND, "Partition not found.");
		free(old);
		return rc;
	}
	if (in->rc < 0) {
		free(old);
		return input_failed(c, b, "PartitionValueList", list, in);
	}
	if (strcmp(old, in->p->vkey) != 0) {
		const char *olds[1] = { old };

		if (partition_exists(c, &b->t, in->p->vkey, &exists) < 0)
			goto fail;
		if (exists) {
			rc = glue_fail(c, GLUE_E_EXISTS, "Partition already exists.");
			goto out;
		}
		if ((rc = ms_catalog_delete_partitions(c->cat, b->t.db, b->t.name, olds, 1, &err)) <
		    0) {
			rc = glue_fail_err(c, rc, &err);
			goto out;
		}
	}
	if ((rc = ms_catalog_put_partitions(c->cat, b->t.db, b->t.name, &in->p, 1, &err)) < 0)
		rc = glue_fail_err(c, rc, &err);
out:
	free(old);
	return rc < 0 ? -1 : 0;
fail:
	free(old);
	return -1;
}

static int update_in_txn(glue_call *c, void *ctx)
{
	part_batch *b = ctx;
	const cJSON *entry;
	size_t i = 0;

	if (!b->inputs)
		return update_one(c, b, NULL, &b->in[0]);
	for (entry = b->inputs->child; entry && i < b->nin; entry = entry->next, i++)
		if (update_one(c, b, entry, &b->in[i]) < 0)
			return -1;
	return 0;
}

static int update_partition(glue_call *c)
{
	part_batch b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	if (glue_in_object(c, c->in, "PartitionInput", 1, &b.one) == 0 &&
	    open_table(c, &b.t, MS_ACCESS_WRITE) == 0 &&
	    prepare_inputs(c, &b, NULL, "PartitionInput") == 0)
		rc = glue_in_txn(c, update_in_txn, &b);
	part_batch_free(&b);
	return rc;
}

static int batch_update_partition(glue_call *c)
{
	part_batch b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	if (glue_in_array(c, c->in, "Entries", 1, 1, 100, &b.inputs) < 0 ||
	    open_table(c, &b.t, MS_ACCESS_WRITE) < 0 ||
	    prepare_inputs(c, &b, "PartitionInput", "Entries") < 0)
		goto done;
	if (!(b.errors = cJSON_AddArrayToObject(c->out, "Errors"))) {
		glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		goto done;
	}
	rc = glue_in_txn(c, update_in_txn, &b);
done:
	part_batch_free(&b);
	return rc;
}

/* ---- delete --------------------------------------------------------------- */

static int delete_one(glue_call *c, part_batch *b, const cJSON *holder, const char *member)
{
	char *vkey = NULL;
	const char *keys[1];
	ms_error err;
	int rc, exists = 0;

	if (glue_in_values(c, holder, member, &vkey) < 0)
		return -1;
	if (partition_exists(c, &b->t, vkey, &exists) < 0) {
		free(vkey);
		return -1;
	}
	if (!exists) {
		free(vkey);
		if (!b->errors)
			return glue_fail(c, GLUE_E_NOT_FOUND, "Partition not found.");
		return item_failed(c, b->errors, "PartitionValues",
				   cJSON_GetObjectItemCaseSensitive(holder, member),
				   GLUE_E_NOT_FOUND, "Partition not found.");
	}
	keys[0] = vkey;
	ms_error_clear(&err);
	rc = ms_catalog_delete_partitions(c->cat, b->t.db, b->t.name, keys, 1, &err);
	free(vkey);
	return rc < 0 ? glue_fail_err(c, rc, &err) : 0;
}

static int delete_in_txn(glue_call *c, void *ctx)
{
	part_batch *b = ctx;
	const cJSON *item;

	if (!b->inputs)
		return delete_one(c, b, c->in, "PartitionValues");
	cJSON_ArrayForEach(item, b->inputs)
	{
		if (!cJSON_IsObject(item))
			return glue_fail(c, GLUE_E_SERIALIZATION,
					 "PartitionsToDelete must hold structures");
		if (delete_one(c, b, item, "Values") < 0)
			return -1;
	}
	return 0;
}

static int delete_partition(glue_call *c)
{
	part_batch b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	if (open_table(c, &b.t, MS_ACCESS_WRITE) == 0)
		rc = glue_in_txn(c, delete_in_txn, &b);
	part_table_free(&b.t);
	return rc;
}

static int batch_delete_partition(glue_call *c)
{
	part_batch b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	if (glue_in_array(c, c->in, "PartitionsToDelete", 1, 0, 25, &b.inputs) < 0 ||
	    open_table(c, &b.t, MS_ACCESS_WRITE) < 0)
		goto done;
	if (!(b.errors = cJSON_AddArrayToObject(c->out, "Errors"))) {
		glue_fail(c, GLUE_E_INTERNAL, "out of memory");
		goto done;
	}
	rc = glue_in_txn(c, delete_in_txn, &b);
done:
	part_table_free(&b.t);
	return rc;
}

const glue_op glue_partition_ops[] = {
	{ "CreatePartition", create_partition },
	{ "BatchCreatePartition", batch_create_partition },
	{ "GetPartition", get_partition },
	{ "GetPartitions", get_partitions },
	{ "BatchGetPartition", batch_get_partition },
	{ "UpdatePartition", update_partition },
	{ "BatchUpdatePartition", batch_update_partition },
	{ "DeletePartition", delete_partition },
	{ "BatchDeletePartition", batch_delete_partition },
	{ NULL, NULL },
};
