/*
 * The SQL plumbing under the Hive Metastore driver: query results kept as
 * row sets of text, lists of ids, statements over id lists built at run
 * time (chunked IN lists; one array parameter on PostgreSQL), and the
 * multi-row inserter every write goes through.  Nothing here knows Hive's
 * tables; the backends behind hms_conn (hms_pg.c, hms_mysql.c) run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/catalog/hms_internal.h"

/* ---- result sets -------------------------------------------------------- */

/* Cell text lives in blocks of the rowset, not one allocation per cell. */
typedef struct rs_block {
	struct rs_block *next;
	size_t used, cap;
	char data[];
} rs_block;

#define RS_BLOCK_MIN ((size_t)64 << 10)

void hms_rowset_free(rowset *rs)
{
	rs_block *b, *next;

	for (b = rs->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(rs->cells);
	memset(rs, 0, sizeof(*rs));
}

/* n bytes of cell text in rs's blocks, or NULL. */
static char *rs_alloc(rowset *rs, size_t n)
{
	rs_block *b = rs->blocks;

	if (!b || b->cap - b->used < n) {
		size_t cap = n > RS_BLOCK_MIN ? n : RS_BLOCK_MIN;

		if (!(b = malloc(sizeof(*b) + cap)))
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = rs->blocks;
		rs->blocks = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

int hms_collect_row(void *ctx, size_t ncols, const char *const *v, const size_t *len, ms_error *err)
{
	rowset *rs = ctx;
	size_t i;

	if (rs->nrows == 0 && rs->alloc == 0)
		rs->ncols = ncols;
	if ((rs->nrows + 1) * ncols > rs->alloc) {
		size_t na = rs->alloc ? rs->alloc * 2 : 64 * ncols;
		char **nc = realloc(rs->cells, na * sizeof(*nc));

		if (!nc)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		rs->cells = nc;
		rs->alloc = na;
	}
	for (i = 0; i < ncols; i++) {
		char *c = NULL;

		if (v[i]) {
			rs->bytes += len[i];
			if (rs->bytes > HMS_ROWSET_MAX)
				return ms_error_set(err, MS_ETOOBIG,
						    "query result larger than %zu bytes",
						    HMS_ROWSET_MAX);
			if (!(c = rs_alloc(rs, len[i] + 1)))
				return ms_error_set(err, MS_ENOMEM, "out of memory");
			memcpy(c, v[i], len[i]);
			c[len[i]] = '\0';
		}
		rs->cells[rs->nrows * ncols + i] = c;
	}
	rs->nrows++;
	return 0;
}

int hms_q(hms_catalog *self, const char *sql, const char *const *p, size_t n, rowset *rs,
	  unsigned long long *affected, ms_error *err)
{
	return self->conn->ops->query(self->conn, sql, p, n, rs ? hms_collect_row : NULL, rs,
				      affected, err);
}

/* Run sql with one parameter and no result. */
int hms_q1(hms_catalog *self, const char *sql, const char *a, ms_error *err)
{
	const char *p[1] = { a };

	return hms_q(self, sql, p, 1, NULL, NULL, err);
}

/* ---- id lists and statements built at run time -------------------------- */

int hms_idlist_add(idlist *l, long long id)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 64;
		long long *nv = realloc(l->v, na * sizeof(*nv));

		if (!nv)
			return MS_ENOMEM;
		l->v = nv;
		l->alloc = na;
	}
	l->v[l->n++] = id;
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates. */
void hms_idlist_unique(idlist *l)
{
	size_t i, k = 0;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_ll);
	for (i = 0; i < l->n; i++)
		if (k == 0 || l->v[k - 1] != l->v[i])
			l->v[k++] = l->v[i];
	l->n = k;
}

long long hms_find_id(const idlist *sorted, long long id)
{
	const long long *p = sorted->n ? bsearch(&id, sorted->v, sorted->n, sizeof(id), cmp_ll)
				       : NULL;

	return p ? (long long)(p - sorted->v) : -1;
}

int hms_ids_from_rows(const rowset *rs, size_t ca, idlist *a, size_t cb, idlist *b)
{
	size_t i;

	for (i = 0; i < rs->nrows; i++)
		if ((CELL(rs, i, ca) &&
		     hms_idlist_add(a, strtoll(CELL(rs, i, ca), NULL, 10)) < 0) ||
		    (b && CELL(rs, i, cb) &&
		     hms_idlist_add(b, strtoll(CELL(rs, i, cb), NULL, 10)) < 0))
			return MS_ENOMEM;
	return 0;
}

void hms_params_reset(plist *p)
{
	size_t i;

	for (i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	p->n = p->nowned = 0;
}

void hms_params_free(plist *p)
{
	hms_params_reset(p);
	free(p->v);
	free(p->owned);
	memset(p, 0, sizeof(*p));
}

/* Add a borrowed string (NULL for SQL NULL). */
int hms_params_add(plist *p, const char *s)
{
	if (p->n == p->alloc) {
		size_t na = p->alloc ? p->alloc * 2 : 64;
		const char **nv = realloc(p->v, na * sizeof(*nv));

		if (!nv)
			return MS_ENOMEM;
		p->v = nv;
		p->alloc = na;
	}
	p->v[p->n++] = s;
	return 0;
}

/* Add s, which p owns from here (freed on failure too). */
int hms_params_take(plist *p, char *s)
{
	if (p->nowned == p->owned_alloc) {
		size_t na = p->owned_alloc ? p->owned_alloc * 2 : 64;
		char **nv = realloc(p->owned, na * sizeof(*nv));

		if (!nv) {
			free(s);
			return MS_ENOMEM;
		}
		p->owned = nv;
		p->owned_alloc = na;
	}
	p->owned[p->nowned++] = s;
	return hms_params_add(p, s);
}

/* Add an owned copy of a number. */
int hms_params_addll(plist *p, long long v)
{
	char buf[32], *s;

	snprintf(buf, sizeof(buf), "%lld", v);
	if (!(s = strdup(buf)))
		return MS_ENOMEM;
	return hms_params_take(p, s);
}

/* Append " (?,?,...)" for n placeholders. */
int hms_add_marks(ms_buf *b, size_t n)
{
	size_t i;
	int rc = ms_buf_addc(b, '(');

	for (i = 0; i < n && rc == 0; i++)
		rc = ms_buf_adds(b, i ? ",?" : "?");
	return rc ? rc : ms_buf_addc(b, ')');
}

/*
 * PostgreSQL: `prefix` ending in "IN " becomes `... = ANY(?::bigint[])`, the
 * ids one array parameter ("{1,2,3}"): one statement text whatever the
 * count, so it is prepared once.
 */
static int q_any(hms_catalog *self, const char *prefix, const char *suffix, const char *const *lead,
		 size_t nlead, const idlist *ids, rowset *rs, ms_error *err)
{
	ms_buf sql = MS_BUF_INIT((size_t)1 << 24), arr = MS_BUF_INIT((size_t)1 << 30);
	plist p = { 0 };
	size_t j, plen = strlen(prefix) - 3;
	int rc = 0;

	rc |= ms_buf_add(&sql, prefix, plen);
	rc |= ms_buf_adds(&sql, "= ANY(?::bigint[])");
	rc |= ms_buf_adds(&sql, suffix ? suffix : "");
	rc |= ms_buf_addc(&arr, '{');
	for (j = 0; j < ids->n && rc == 0; j++)
		rc = ms_buf_printf(&arr, j ? ",%lld" : "%lld", ids->v[j]);
	rc |= ms_buf_addc(&arr, '}');
	for (j = 0; j < nlead && rc == 0; j++)
		rc = hms_params_add(&p, lead[j]);
	if (rc == 0)
		rc = hms_params_add(&p, arr.ptr);
	if (rc != 0)
		rc = ms_error_set(err, MS_ENOMEM, "cannot build a statement");
	else
		rc = hms_q(self, sql.ptr, p.v, p.n, rs, NULL, err);
	ms_buf_free(&sql);
	ms_buf_free(&arr);
	hms_params_free(&p);
	return rc;
}

/*
 * Run `prefix (?,..) suffix` over ids in chunks, the list bound as
 * parameters after `lead` leading parameters.
 */
int hms_q_in(hms_catalog *self, const char *prefix, const char *suffix, const char *const *lead,
	     size_t nlead, const idlist *ids, rowset *rs, ms_error *err)
{
	ms_buf sql = MS_BUF_INIT((size_t)1 << 24);
	plist p = { 0 };
	size_t i, k, j, plen = strlen(prefix);
	int rc = 0;

	if (ids->n == 0)
		return 0;
	if (self->conn->ops->dialect == HMS_POSTGRESQL && plen > 3 &&
	    strcmp(prefix + plen - 3, "IN ") == 0)
		return q_any(self, prefix, suffix, lead, nlead, ids, rs, err);
	for (i = 0; i < ids->n && rc == 0; i += k) {
		k = ids->n - i < HMS_BATCH ? ids->n - i : HMS_BATCH;
		ms_buf_reset(&sql);
		hms_params_reset(&p);
		for (j = 0; j < nlead && rc == 0; j++)
			rc = hms_params_add(&p, lead[j]);
		for (j = 0; j < k && rc == 0; j++)
			rc = hms_params_addll(&p, ids->v[i + j]);
		if (rc == 0 && (rc = ms_buf_adds(&sql, prefix)) == 0 &&
		    (rc = hms_add_marks(&sql, k)) == 0)
			rc = ms_buf_adds(&sql, suffix ? suffix : "");
		if (rc < 0) {
			rc = ms_error_set(err, rc, "cannot build a statement");
			break;
		}
		rc = hms_q(self, sql.ptr, p.v, p.n, rs, NULL, err);
	}
	ms_buf_free(&sql);
	hms_params_free(&p);
	return rc;
}

void hms_ins_init(inserter *in, hms_catalog *self, const char *table, const char *const *cols,
		  const char *const *marks, size_t ncols)
{
	memset(in, 0, sizeof(*in));
	in->self = self;
	in->table = table;
	in->cols = cols;
	in->marks = marks;
	in->ncols = ncols;
	ms_buf_init(&in->sql, (size_t)1 << 26);
}

/* Columns that hold numbers (all others hold text, or are marked as flags). */
static int numeric_column(const char *col)
{
	size_t n = strlen(col);

	return (n > 3 && strcmp(col + n - 3, "_ID") == 0) || strcmp(col, "INTEGER_IDX") == 0 ||
	       strcmp(col, "ORDER") == 0 || strcmp(col, "CREATE_TIME") == 0 ||
	       strcmp(col, "LAST_ACCESS_TIME") == 0 || strcmp(col, "NUM_BUCKETS") == 0 ||
	       strcmp(col, "STRING_LIST_ID_EID") == 0 || strcmp(col, "STRING_LIST_ID_KID") == 0 ||
	       strcmp(col, "SD_ID_OID") == 0;
}

/*
 * PostgreSQL: the same rows as one text[] parameter per column, unnested
 * (INSERT ... SELECT FROM unnest($1::text[], ...)): a statement of a few
 * parameters plans in no time, where a VALUES list of thousands does not.
 * Array elements are quoted, `"` and `\` escaped; NULL stays NULL.
 */
static int ins_flush_arrays(inserter *in, ms_error *err)
{
	const char **cols = calloc(in->ncols, sizeof(*cols));
	ms_buf *arr = calloc(in->ncols, sizeof(*arr));
	size_t r, c;
	int rc = 0;

	if (!cols || !arr) {
		free(cols);
		free(arr);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	for (c = 0; c < in->ncols; c++)
		ms_buf_init(&arr[c], (size_t)1 << 30);
	for (c = 0; c < in->ncols && rc == 0; c++) {
		rc = ms_buf_addc(&arr[c], '{');
		for (r = 0; r < in->rows && rc == 0; r++) {
			const char *v = in->p.v[r * in->ncols + c];

			if (r)
				rc = ms_buf_addc(&arr[c], ',');
			if (rc == 0 && !v) {
				rc = ms_buf_adds(&arr[c], "NULL");
				continue;
			}
			if (rc == 0)
				rc = ms_buf_addc(&arr[c], '"');
			for (; rc == 0 && *v; v++) {
				if (*v == '"' || *v == '\\')
					rc = ms_buf_addc(&arr[c], '\\');
				if (rc == 0)
					rc = ms_buf_addc(&arr[c], *v);
			}
			if (rc == 0)
				rc = ms_buf_addc(&arr[c], '"');
		}
		if (rc == 0)
			rc = ms_buf_addc(&arr[c], '}');
		cols[c] = arr[c].ptr;
	}
	ms_buf_reset(&in->sql);
	if (rc == 0)
		rc = ms_buf_printf(&in->sql, "INSERT INTO \"%s\" (", in->table);
	for (c = 0; c < in->ncols && rc == 0; c++)
		rc = ms_buf_printf(&in->sql, "%s\"%s\"", c ? "," : "", in->cols[c]);
	if (rc == 0)
		rc = ms_buf_adds(&in->sql, ") SELECT ");
	for (c = 0; c < in->ncols && rc == 0; c++) {
		const char *m = in->marks && in->marks[c] ? in->marks[c] : "?";

		if (strcmp(m, "?") != 0)
			rc = ms_buf_printf(&in->sql, "%s(u.c%zu::int = 1)", c ? "," : "", c);
		else if (numeric_column(in->cols[c]))
			rc = ms_buf_printf(&in->sql, "%su.c%zu::bigint", c ? "," : "", c);
		else
			rc = ms_buf_printf(&in->sql, "%su.c%zu", c ? "," : "", c);
	}
	if (rc == 0)
		rc = ms_buf_adds(&in->sql, " FROM unnest(");
	for (c = 0; c < in->ncols && rc == 0; c++)
		rc = ms_buf_adds(&in->sql, c ? ",?::text[]" : "?::text[]");
	if (rc == 0)
		rc = ms_buf_adds(&in->sql, ") AS u(");
	for (c = 0; c < in->ncols && rc == 0; c++)
		rc = ms_buf_printf(&in->sql, "%sc%zu", c ? "," : "", c);
	if (rc == 0)
		rc = ms_buf_addc(&in->sql, ')');
	if (rc < 0)
		rc = ms_error_set(err, rc, "cannot build an insert into '%s'", in->table);
	else
		rc = hms_q(in->self, in->sql.ptr, cols, in->ncols, NULL, NULL, err);
	for (c = 0; c < in->ncols; c++)
		ms_buf_free(&arr[c]);
	free(arr);
	free(cols);
	hms_params_reset(&in->p);
	in->rows = 0;
	return rc;
}

int hms_ins_flush(inserter *in, ms_error *err)
{
	size_t r, c;
	int rc;

	if (in->rows == 0)
		return 0;
	if (in->self->dialect == HMS_POSTGRESQL && in->rows > 1)
		return ins_flush_arrays(in, err);
	ms_buf_reset(&in->sql);
	rc = ms_buf_printf(&in->sql, "INSERT INTO \"%s\" (", in->table);
	for (c = 0; c < in->ncols && rc == 0; c++)
		rc = ms_buf_printf(&in->sql, "%s\"%s\"", c ? "," : "", in->cols[c]);
	if (rc == 0)
		rc = ms_buf_adds(&in->sql, ") VALUES ");
	for (r = 0; r < in->rows && rc == 0; r++) {
		rc = ms_buf_adds(&in->sql, r ? ",(" : "(");
		for (c = 0; c < in->ncols && rc == 0; c++) {
			if (c)
				rc = ms_buf_addc(&in->sql, ',');
			if (rc == 0)
				rc = ms_buf_adds(&in->sql,
						 in->marks && in->marks[c] ? in->marks[c] : "?");
		}
		if (rc == 0)
			rc = ms_buf_addc(&in->sql, ')');
	}
	if (rc < 0)
		return ms_error_set(err, rc, "cannot build an insert into '%s'", in->table);
	rc = hms_q(in->self, in->sql.ptr, in->p.v, in->p.n, NULL, NULL, err);
	hms_params_reset(&in->p);
	in->rows = 0;
	return rc;
}

/* End a row: flush when the statement is full. */
int hms_ins_row(inserter *in, ms_error *err)
{
	in->rows++;
	if (in->p.n + in->ncols > HMS_MAX_PARAMS || in->rows >= HMS_BATCH)
		return hms_ins_flush(in, err);
	return 0;
}

void hms_ins_free(inserter *in)
{
	hms_params_free(&in->p);
	ms_buf_free(&in->sql);
}
