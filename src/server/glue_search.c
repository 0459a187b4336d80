/*
 * SearchTables: the tables of one catalog (the caller's, or CatalogId's
 * databases a grant lets it read) that match SearchText and every Filter,
 * sorted by SortCriteria (by database and name when none), a page at a
 * time.
 *
 * SearchText matches, case-insensitively, a part of the table's or its
 * database's name, its description, owner, table type, a column's name or
 * comment or a parameter's value; in double quotes it must equal the
 * table's name.  A Filter's Key is DatabaseName (equal), Name or TableName,
 * Description, Owner, TableType (a part, case-insensitive), CreateTime,
 * UpdateTime, LastAccessTime (epoch seconds, with Comparator), or else a
 * table parameter, whose value must be equal.  The NextToken is the
 * offset into the sorted matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/glue_internal.h"
#include "util/strlist.h"

#define SEARCH_DEFAULT 100

typedef struct search_query {
	const char *text; /* NULL: any */
	int exact;        /* text was in double quotes */
	const cJSON *filters;
	const char *sort_field; /* NULL: database, name */
	int descending;
} search_query;

typedef struct hits {
	ms_entity **v;
	size_t n, cap;
} hits;

static int contains(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int columns_contain(const cJSON *cols, const char *text)
{
	const cJSON *col;

	cJSON_ArrayForEach(col, cols)
	{
		if (contains(str_member(col, "Name"), text) ||
		    contains(str_member(col, "Comment"), text))
			return 1;
	}
	return 0;
}

static int text_matches(const ms_entity *t, const search_query *q)
{
	const cJSON *doc = t->doc, *p;

	if (!q->text || !*q->text)
		return 1;
	if (q->exact)
		return strcasecmp(t->table, q->text) == 0;
	if (contains(t->table, q->text) || contains(t->database, q->text) ||
	    contains(str_member(doc, "Description"), q->text) ||
	    contains(str_member(doc, "Owner"), q->text) ||
	    contains(str_member(doc, "TableType"), q->text) ||
	    columns_contain(cJSON_GetObjectItemCaseSensitive(doc, "PartitionKeys"), q->text) ||
	    columns_contain(cJSON_GetObjectItemCaseSensitive(
				    cJSON_GetObjectItemCaseSensitive(doc, "StorageDescriptor"),
				    "Columns"),
			    q->text))
		return 1;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "Parameters"))
	{
		if (cJSON_IsString(p) && contains(p->valuestring, q->text))
			return 1;
	}
	return 0;
}

static int compare_time(double have, const char *cmp, double want)
{
	if (!cmp || strcmp(cmp, "EQUALS") == 0)
		return have == want;
	if (strcmp(cmp, "GREATER_THAN") == 0)
		return have > want;
	if (strcmp(cmp, "LESS_THAN") == 0)
		return have < want;
	if (strcmp(cmp, "GREATER_THAN_EQUALS") == 0)
		return have >= want;
	if (strcmp(cmp, "LESS_THAN_EQUALS") == 0)
		return have <= want;
	return 0;
}

static int filter_matches(const ms_entity *t, const cJSON *f)
{
	const char *key = str_member(f, "Key"), *value = str_member(f, "Value");
	const char *cmp = str_member(f, "Comparator"), *value_of_param;
	const cJSON *doc = t->doc;

	if (!key || !value)
		return 1;
	if (strcmp(key, "DatabaseName") == 0)
		return strcasecmp(t->database, value) == 0;
	if (strcmp(key, "Name") == 0 || strcmp(key, "TableName") == 0)
		return contains(t->table, value);
	if (strcmp(key, "Description") == 0 || strcmp(key, "Owner") == 0 ||
	    strcmp(key, "TableType") == 0)
		return contains(str_member(doc, key), value);
	if (strcmp(key, "CreateTime") == 0 || strcmp(key, "UpdateTime") == 0 ||
	    strcmp(key, "LastAccessTime") == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

		return cJSON_IsNumber(v) && compare_time(v->valuedouble, cmp, strtod(value, NULL));
	}
	value_of_param = str_member(cJSON_GetObjectItemCaseSensitive(doc, "Parameters"), key);
	return value_of_param && strcasecmp(value_of_param, value) == 0;
}

static int matches(const ms_entity *t, const search_query *q)
{
	const cJSON *f;

	if (!text_matches(t, q))
		return 0;
	cJSON_ArrayForEach(f, q->filters)
	{
		if (!filter_matches(t, f))
			return 0;
	}
	return 1;
}

static int hit_cmp(const void *pa, const void *pb, void *ctx)
{
	const search_query *sort_query = ctx;
	const ms_entity *a = *(ms_entity *const *)pa, *b = *(ms_entity *const *)pb;
	const char *f = sort_query->sort_field;
	int r = 0;

	if (f && (strcmp(f, "CreateTime") == 0 || strcmp(f, "UpdateTime") == 0)) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(a->doc, f);
		const cJSON *y = cJSON_GetObjectItemCaseSensitive(b->doc, f);
		double dx = cJSON_IsNumber(x) ? x->valuedouble : 0;
		double dy = cJSON_IsNumber(y) ? y->valuedouble : 0;

		r = dx < dy ? -1 : dx > dy;
	} else if (f && strcmp(f, "Name") == 0) {
		r = strcmp(a->table, b->table);
	}
	if (r == 0)
		r = strcmp(a->database, b->database);
	if (r == 0)
		r = strcmp(a->table, b->table);
	return sort_query->descending ? -r : r;
}

static int add_hit(hits *h, ms_entity *t)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		ms_entity **v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return MS_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = t;
	return 0;
}

/* Every matching table of database db into h. */
static int search_database(glue_call *c, const char *db, const search_query *q, hits *h)
{
	ms_strlist names = { 0 };
	ms_error err;
	size_t i;
	int rc;

	ms_error_clear(&err);
	if ((rc = ms_catalog_list_tables(c->cat, db, ms_strlist_collect, &names, &err)) < 0) {
		ms_strlist_free(&names);
		return rc == MS_ENOTFOUND ? 0 : glue_fail_err(c, rc, &err);
	}
	for (i = 0; i < names.n && rc == 0; i++) {
		ms_entity *t = NULL;

		rc = ms_catalog_get_table(c->cat, db, names.v[i], &t, &err);
		if (rc == MS_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc < 0) {
			rc = glue_fail_err(c, rc, &err);
			break;
		}
		if (matches(t, q) ? add_hit(h, t) < 0 : (ms_entity_free(t), 0))
			rc = glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	}
	ms_strlist_free(&names);
	return rc < 0 ? -1 : 0;
}

static int read_query(glue_call *c, search_query *q, long long *max, long long *offset)
{
	const cJSON *sorts, *s;
	const char *order = NULL;
	char *tok = NULL;

	memset(q, 0, sizeof(*q));
	if (glue_in_string(c, c->in, "SearchText", 0, 0, 1024, &q->text) < 0 ||
	    glue_in_array(c, c->in, "Filters", 0, 0, 1000, &q->filters) < 0 ||
	    glue_in_array(c, c->in, "SortCriteria", 0, 0, 1, &sorts) < 0 ||
	    glue_in_int(c, c->in, "MaxResults", 1, 1000, max) < 0 ||
	    glue_token_parse(c, "st", &tok) < 0)
		return -1;
	*offset = tok ? strtoll(tok, NULL, 10) : 0;
	free(tok);
	if ((s = cJSON_GetArrayItem(sorts, 0)) &&
	    (glue_in_string(c, s, "FieldName", 0, 1, 1024, &q->sort_field) < 0 ||
	     glue_in_string(c, s, "Sort", 0, 1, 4, &order) < 0))
		return -1;
	if (order && strcmp(order, "ASC") && strcmp(order, "DESC"))
		return glue_fail(c, GLUE_E_INVALID, "SortCriteria.Sort must be ASC or DESC");
	q->descending = order && strcmp(order, "DESC") == 0;
	if (q->text && q->text[0] == '"') {
		static __thread char unquoted[4 * 1024 + 1];
		size_t len = strlen(q->text);

		if (len >= 2 && q->text[len - 1] == '"') {
			snprintf(unquoted, sizeof(unquoted), "%.*s", (int)(len - 2), q->text + 1);
			q->text = unquoted;
			q->exact = 1;
		}
	}
	return 0;
}

static int page_out(glue_call *c, hits *h, long long max, long long offset)
{
	cJSON *list = cJSON_AddArrayToObject(c->out, "TableList");
	long long i;
	char next[24];

	if (!list)
		return glue_fail(c, GLUE_E_INTERNAL, "out of memory");
	for (i = offset; i < (long long)h->n && i < offset + max; i++)
		if (glue_add_entity(c, list, NULL, h->v[i]) < 0)
			return -1;
	if (offset + max >= (long long)h->n)
		return 0;
	snprintf(next, sizeof(next), "%lld", offset + max);
	return glue_token_make(c, c->out, "st", next);
}

int glue_search_tables(glue_call *c)
{
	search_query q;
	long long max = SEARCH_DEFAULT, offset = 0;
	ms_strlist dbs = { 0 };
	hits h = { 0 };
	ms_error err;
	size_t i;
	int rc = -1;

	if (read_query(c, &q, &max, &offset) < 0 || glue_catalog(c, NULL, MS_ACCESS_READ) < 0)
		return -1;
	if (offset < 0)
		return glue_fail(c, GLUE_E_INVALID, "Invalid NextToken");
	ms_error_clear(&err);
	if ((rc = ms_catalog_list_databases(c->cat, ms_strlist_collect, &dbs, &err)) < 0) {
		rc = glue_fail_err(c, rc, &err);
		goto done;
	}
	for (i = 0; i < dbs.n && rc >= 0; i++)
		if (glue_may_read(c, dbs.v[i]))
			rc = search_database(c, dbs.v[i], &q, &h);
	if (rc < 0)
		goto done;
	if (h.n > 1)
		qsort_r(h.v, h.n, sizeof(*h.v), hit_cmp, &q);
	rc = page_out(c, &h, max, offset);
done:
	for (i = 0; i < h.n; i++)
		ms_entity_free(h.v[i]);
	free(h.v);
	ms_strlist_free(&dbs);
	return rc;
}
