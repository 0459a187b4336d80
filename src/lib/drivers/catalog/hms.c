/*
 * The Hive Metastore catalog driver: hms+postgresql:// and hms+mysql://.
 *
 * metasync reads and writes a Hive Metastore 3.x database directly (the AWS
 * utility's to-jdbc / from-jdbc), so that on-premises and EMR metastores can
 * be sources and targets.  The tables are Hive's own (DBS, TBLS, SDS, ...;
 * see ../shared/reference/hive-metastore.md) and are mapped to the Glue
 * model as AWS's Glue client for Hive maps them: times in seconds, skewed
 * value lists as `<len>$<value>` strings, SORT_COLS.ORDER as SortOrder.
 *
 * What Hive has no column for (Table.Description, LastAnalyzedTime,
 * TargetTable, Column.Parameters, fields the model does not know) and
 * whether a field Hive stores as NOT NULL was present at all is kept in
 * one marker parameter, `metasync.hms`, of the entity (a JSON object), and
 * every entity that needs it is reported through the open options' warn
 * callback: nothing is dropped silently, and a round trip through Hive
 * gives back the same document.  A name or value longer than its Hive
 * column refuses that entity with MS_EINVAL naming the column.
 *
 * Ids come from SEQUENCE_TABLE as DataNucleus allocates them, on a second
 * connection in short transactions of their own, so that a metastore server
 * running on the same database is never blocked or collided with.  Reads are
 * set-based (a fixed number of queries per table or per batch of
 * partitions); writes are multi-row inserts inside one transaction per call.
 *
 * An instance owns its connections and is used by one thread at a time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/catalog/hms_map.h"
#include "drivers/catalog/hms_sql.h"
#include "metasync/sys/catalog.h"
#include "model/model_internal.h"
#include "util/buf.h"
#include "util/url.h"

#define HMS_STASH "metasync.hms"
#define HMS_BATCH 1000            /* partitions per write batch, ids per IN list */
/* partitions per scan batch; after a full first one the rest is read ahead */
#define HMS_SCAN_BATCH 1000
#define HMS_SCAN_BATCH_TEXT "1000"
#define HMS_MAX_PARAMS 30000      /* parameters per statement */
#define HMS_ROWSET_MAX ((size_t)512 << 20)
#define HMS_ID_BLOCK 100
#define MODEL "org.apache.hadoop.hive.metastore.model."

typedef struct scan_ahead scan_ahead;

typedef struct hms_catalog {
	ms_catalog base;
	hms_conn *conn;
	hms_conn *idconn;          /* id allocation only */
	hms_conn *scanconn;        /* reading ahead in scans; opened on first use */
	struct scan_ahead *ahead;  /* the thread reading ahead on scanconn, or NULL */
	struct ms_url *url;        /* to open scanconn */
	int (*connect)(hms_conn **out, const struct ms_url *url, ms_error *err);
	char *ctlg;                /* Hive catalog name */
	hms_dialect dialect;
	int in_txn;
	int reading;               /* a read from one point in time is open (read_begin) */
	char *read_share;          /* its name for scanconn; NULL: scans read on conn */
	int scan_reading;          /* scanconn is inside that point in time */
	void (*warn)(void *ctx, const char *message);
	void *warn_ctx;
	struct idblock {
		const char *cls;
		long long next, end;
	} ids[8];
} hms_catalog;

/* ---- result sets -------------------------------------------------------- */

/* Cell text lives in blocks of the rowset, not one allocation per cell. */
typedef struct rs_block {
	struct rs_block *next;
	size_t used, cap;
	char data[];
} rs_block;

typedef struct rowset {
	size_t ncols, nrows, alloc, bytes;
	char **cells;
	rs_block *blocks;
} rowset;

#define CELL(rs, r, c) ((rs)->cells[(r) * (rs)->ncols + (c)])
#define RS_BLOCK_MIN ((size_t)64 << 10)

static void rowset_free(rowset *rs)
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

static int collect_row(void *ctx, size_t ncols, const char *const *v, const size_t *len,
		       ms_error *err)
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
				return ms_error_set(err, MS_ETOOBIG, "query result larger than %zu bytes",
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

static int q(hms_catalog *self, const char *sql, const char *const *p, size_t n, rowset *rs,
	     unsigned long long *affected, ms_error *err)
{
	return self->conn->ops->query(self->conn, sql, p, n, rs ? collect_row : NULL, rs,
				      affected, err);
}

/* Run sql with one parameter and no result. */
static int q1(hms_catalog *self, const char *sql, const char *a, ms_error *err)
{
	const char *p[1] = { a };

	return q(self, sql, p, 1, NULL, NULL, err);
}

/* ---- id lists and statements built at run time -------------------------- */

typedef struct idlist {
	long long *v;
	size_t n, alloc;
} idlist;

static int idlist_add(idlist *l, long long id)
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
static void idlist_unique(idlist *l)
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

static long long find_id(const idlist *sorted, long long id)
{
	const long long *p = sorted->n ? bsearch(&id, sorted->v, sorted->n, sizeof(id), cmp_ll)
				       : NULL;

	return p ? (long long)(p - sorted->v) : -1;
}

/* Strings that parameters point at during one statement. */
typedef struct plist {
	const char **v;
	char **owned;
	size_t n, alloc, nowned, owned_alloc;
} plist;

static void params_reset(plist *p)
{
	size_t i;

	for (i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	p->n = p->nowned = 0;
}

static void params_free(plist *p)
{
	params_reset(p);
	free(p->v);
	free(p->owned);
	memset(p, 0, sizeof(*p));
}

/* Add a borrowed string (NULL for SQL NULL). */
static int params_add(plist *p, const char *s)
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

/* Add an owned copy of a number. */
static int params_addll(plist *p, long long v)
{
	char buf[32], *s;

	if (p->nowned == p->owned_alloc) {
		size_t na = p->owned_alloc ? p->owned_alloc * 2 : 64;
		char **nv = realloc(p->owned, na * sizeof(*nv));

		if (!nv)
			return MS_ENOMEM;
		p->owned = nv;
		p->owned_alloc = na;
	}
	snprintf(buf, sizeof(buf), "%lld", v);
	if (!(s = strdup(buf)))
		return MS_ENOMEM;
	p->owned[p->nowned++] = s;
	return params_add(p, s);
}

/* Append " (?,?,...)" for n placeholders. */
static int add_marks(ms_buf *b, size_t n)
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
static int q_any(hms_catalog *self, const char *prefix, const char *suffix,
		 const char *const *lead, size_t nlead, const idlist *ids, rowset *rs,
		 ms_error *err)
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
		rc = params_add(&p, lead[j]);
	if (rc == 0)
		rc = params_add(&p, arr.ptr);
	if (rc != 0)
		rc = ms_error_set(err, MS_ENOMEM, "cannot build a statement");
	else
		rc = q(self, sql.ptr, p.v, p.n, rs, NULL, err);
	ms_buf_free(&sql);
	ms_buf_free(&arr);
	params_free(&p);
	return rc;
}

/*
 * Run `prefix (?,..) suffix` over ids in chunks, the list bound as
 * parameters after `lead` leading parameters.
 */
static int q_in(hms_catalog *self, const char *prefix, const char *suffix, const char *const *lead,
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
		params_reset(&p);
		for (j = 0; j < nlead && rc == 0; j++)
			rc = params_add(&p, lead[j]);
		for (j = 0; j < k && rc == 0; j++)
			rc = params_addll(&p, ids->v[i + j]);
		if (rc == 0 && (rc = ms_buf_adds(&sql, prefix)) == 0 &&
		    (rc = add_marks(&sql, k)) == 0)
			rc = ms_buf_adds(&sql, suffix ? suffix : "");
		if (rc < 0) {
			rc = ms_error_set(err, rc, "cannot build a statement");
			break;
		}
		rc = q(self, sql.ptr, p.v, p.n, rs, NULL, err);
	}
	ms_buf_free(&sql);
	params_free(&p);
	return rc;
}

/* Multi-row insert into one table: values are added row by row and flushed in chunks. */
typedef struct inserter {
	hms_catalog *self;
	const char *table;
	const char *const *cols;
	const char *const *marks; /* per column: "?" or an expression such as "(? = 1)" */
	size_t ncols, rows;
	plist p;
	ms_buf sql;
} inserter;

static void ins_init(inserter *in, hms_catalog *self, const char *table, const char *const *cols,
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
		rc = q(in->self, in->sql.ptr, cols, in->ncols, NULL, NULL, err);
	for (c = 0; c < in->ncols; c++)
		ms_buf_free(&arr[c]);
	free(arr);
	free(cols);
	params_reset(&in->p);
	in->rows = 0;
	return rc;
}

static int ins_flush(inserter *in, ms_error *err)
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
	rc = q(in->self, in->sql.ptr, in->p.v, in->p.n, NULL, NULL, err);
	params_reset(&in->p);
	in->rows = 0;
	return rc;
}

/* End a row: flush when the statement is full. */
static int ins_row(inserter *in, ms_error *err)
{
	in->rows++;
	if (in->p.n + in->ncols > HMS_MAX_PARAMS || in->rows >= HMS_BATCH)
		return ins_flush(in, err);
	return 0;
}

static void ins_free(inserter *in)
{
	params_free(&in->p);
	ms_buf_free(&in->sql);
}

/* ---- checks and warnings ------------------------------------------------ */

typedef struct subject {
	ms_kind kind;
	const char *db, *table, *vkey;
} subject;

static const char *subj_text(const subject *s, char *buf, size_t n)
{
	if (s->kind == MS_KIND_DATABASE)
		snprintf(buf, n, "database '%s'", s->db);
	else if (s->kind == MS_KIND_TABLE)
		snprintf(buf, n, "table '%s.%s'", s->db, s->table);
	else
		snprintf(buf, n, "partition %s of '%s.%s'", s->vkey ? s->vkey : "?", s->db,
			 s->table);
	return buf;
}

/*
 * Refuse a value longer than its Hive column ("TABLE.COLUMN"); on MySQL,
 * whose 3.1 schema is latin1, refuse characters outside latin1 too.
 */
static int check(hms_catalog *self, const subject *s, const char *column, const char *v,
		 ms_error *err)
{
	char what[MS_ERROR_MESSAGE_MAX];
	size_t limit, n, len;

	if (!v)
		return 0;
	len = strlen(v);
	limit = hms_column_limit(self->dialect, column);
	n = hms_chars(v, len);
	if (limit && n > limit)
		return ms_error_set(err, MS_EINVAL,
				    "%s: value of %s is %zu characters, longer than its %zu",
				    subj_text(s, what, sizeof(what)), column, n, limit);
	if (self->dialect == HMS_MYSQL) {
		size_t i;

		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)v[i];

			if (c >= 0xc4 && c < 0xf8)
				return ms_error_set(err, MS_EINVAL,
						    "%s: value of %s has characters that a latin1 "
						    "hive schema cannot store",
						    subj_text(s, what, sizeof(what)), column);
		}
	}
	return 0;
}

/* 0 when s cannot be stored in (so cannot be found in) this schema's text columns. */
static int storable(const hms_catalog *self, const char *s)
{
	if (self->dialect != HMS_MYSQL)
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s >= 0xc4 && (unsigned char)*s < 0xf8)
			return 0;
	return 1;
}

static void warn(hms_catalog *self, const subject *s, const char *fields)
{
	char what[MS_ERROR_MESSAGE_MAX], msg[MS_ERROR_MESSAGE_MAX * 2];

	if (!self->warn)
		return;
	snprintf(msg, sizeof(msg),
		 "%s: %s kept in parameter '" HMS_STASH "' of '%s' (no hive metastore column)",
		 subj_text(s, what, sizeof(what)), fields, self->base.url);
	self->warn(self->warn_ctx, msg);
}

/* ---- ids ---------------------------------------------------------------- */

/*
 * Reserve n consecutive ids of a model class the DataNucleus way, on the id
 * connection in a transaction of its own: lock the SEQUENCE_TABLE row, take
 * [NEXT_VAL, NEXT_VAL+n) (never below the table's largest id + 1), move
 * NEXT_VAL on.  A missing row is created above the table's largest id.
 * Blocks of HMS_ID_BLOCK are cached, so that small writes do not lock the
 * row each time.
 */
static int reserve_ids(hms_catalog *self, const char *cls, const char *table, const char *idcol,
		       size_t n, long long *first, ms_error *err)
{
	struct idblock *b = NULL;
	char sql[256], nv[32];
	const char *p[2];
	rowset rs = { 0 };
	long long next = 0, max = 0, want;
	int rc, attempt, found;
	size_t i;

	for (i = 0; i < sizeof(self->ids) / sizeof(self->ids[0]); i++) {
		if (!self->ids[i].cls || strcmp(self->ids[i].cls, cls) == 0) {
			b = &self->ids[i];
			b->cls = cls;
			break;
		}
	}
	if (b && b->end - b->next >= (long long)n) {
		*first = b->next;
		b->next += (long long)n;
		return 0;
	}
	want = (long long)(n > HMS_ID_BLOCK ? n : HMS_ID_BLOCK);
	for (attempt = 0; attempt < 3; attempt++) {
		hms_conn *c = self->idconn;

		found = 0;
		if ((rc = c->ops->begin(c, err)) < 0)
			return rc;
		p[0] = cls;
		rc = c->ops->query(c,
				   "SELECT \"NEXT_VAL\" FROM \"SEQUENCE_TABLE\" "
				   "WHERE \"SEQUENCE_NAME\" = ? FOR UPDATE",
				   p, 1, collect_row, &rs, NULL, err);
		if (rc < 0)
			goto fail;
		found = rs.nrows > 0;
		if (found)
			next = strtoll(CELL(&rs, 0, 0), NULL, 10);
		rowset_free(&rs);
		snprintf(sql, sizeof(sql), "SELECT MAX(\"%s\") FROM \"%s\"", idcol, table);
		if ((rc = c->ops->query(c, sql, NULL, 0, collect_row, &rs, NULL, err)) < 0)
			goto fail;
		max = rs.nrows && CELL(&rs, 0, 0) ? strtoll(CELL(&rs, 0, 0), NULL, 10) : 0;
		rowset_free(&rs);
		if (!found || next <= max)
			next = max + 1;
		snprintf(nv, sizeof(nv), "%lld", next + want);
		p[0] = nv;
		p[1] = cls;
		rc = c->ops->query(c,
				   found ? "UPDATE \"SEQUENCE_TABLE\" SET \"NEXT_VAL\" = ? "
					   "WHERE \"SEQUENCE_NAME\" = ?"
					 : "INSERT INTO \"SEQUENCE_TABLE\" (\"NEXT_VAL\", "
					   "\"SEQUENCE_NAME\") VALUES (?, ?)",
				   p, 2, NULL, NULL, NULL, err);
		if (rc < 0)
			goto fail;
		if ((rc = c->ops->commit(c, err)) < 0)
			return rc;
		break;
fail:
		{
			ms_error ignored;

			rowset_free(&rs);
			c->ops->rollback(c, &ignored);
			/* a concurrent first insert of the row: try again */
			if (found || rc == MS_EIO || attempt == 2)
				return rc;
		}
	}
	*first = next;
	if (b) {
		b->next = next + (long long)n;
		b->end = next + want;
	}
	return 0;
}

/* ---- small JSON helpers ------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int jadd_str(cJSON *o, const char *k, const char *v)
{
	return v && !cJSON_AddStringToObject(o, k, v) ? MS_ENOMEM : 0;
}

static int jadd_num(cJSON *o, const char *k, const char *v)
{
	return v && !cJSON_AddNumberToObject(o, k, (double)strtoll(v, NULL, 10)) ? MS_ENOMEM : 0;
}

/*
 * The same with a key that is a string literal, not copied (cJSON's
 * constant keys): documents read in bulk are built with these, which saves
 * an allocation and a free per member.
 */
static cJSON *jlit(cJSON *o, const char *lit, cJSON *item)
{
	if (item && !cJSON_AddItemToObjectCS(o, lit, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

static int jlit_str(cJSON *o, const char *lit, const char *v)
{
	return v && !jlit(o, lit, cJSON_CreateString(v)) ? MS_ENOMEM : 0;
}

static int jlit_num(cJSON *o, const char *lit, const char *v)
{
	return v && !jlit(o, lit, cJSON_CreateNumber((double)strtoll(v, NULL, 10))) ? MS_ENOMEM : 0;
}

static int in_list(const char *const *names, const char *k)
{
	for (; *names; names++)
		if (strcmp(*names, k) == 0)
			return 1;
	return 0;
}

/* The stash of one entity being written: what Hive has no column for. */
typedef struct stash {
	cJSON *o;
	ms_buf fields; /* names for the warning */
} stash;

static int stash_obj(stash *s, const char *key, cJSON **out)
{
	cJSON *o;

	if (!s->o && !(s->o = cJSON_CreateObject()))
		return MS_ENOMEM;
	if (!(o = cJSON_GetObjectItemCaseSensitive(s->o, key)) &&
	    !(o = cJSON_AddObjectToObject(s->o, key)))
		return MS_ENOMEM;
	*out = o;
	return 0;
}

/* Keep field f (a copy) under stash[key][name]; note it for the warning. */
static int stash_keep(stash *s, const char *key, const char *name, const cJSON *f,
		      const char *label)
{
	cJSON *o, *copy;
	int rc;

	if ((rc = stash_obj(s, key, &o)) < 0)
		return rc;
	if (!(copy = cJSON_Duplicate(f, 1)))
		return MS_ENOMEM;
	cJSON_AddItemToObject(o, name, copy);
	if (label) {
		if (s->fields.len && ms_buf_adds(&s->fields, ", ") < 0)
			return 0;
		(void)ms_buf_adds(&s->fields, label);
	}
	return 0;
}

/* Record that a field was present with the value Hive stores when it is absent. */
static int stash_default(stash *s, const char *path)
{
	cJSON *d, *v;

	if (!s->o && !(s->o = cJSON_CreateObject()))
		return MS_ENOMEM;
	if (!(d = cJSON_GetObjectItemCaseSensitive(s->o, "d")) &&
	    !(d = cJSON_AddArrayToObject(s->o, "d")))
		return MS_ENOMEM;
	if (!(v = cJSON_CreateString(path)))
		return MS_ENOMEM;
	cJSON_AddItemToArray(d, v);
	return 0;
}

static int has_default(const cJSON *st, const char *path)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, jget(st, "d"))
	{
		if (cJSON_IsString(v) && strcmp(v->valuestring, path) == 0)
			return 1;
	}
	return 0;
}

static void stash_free(stash *s)
{
	cJSON_Delete(s->o);
	ms_buf_free(&s->fields);
	memset(s, 0, sizeof(*s));
}

static int empty_container(const cJSON *v)
{
	return v && (cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child;
}

/* ---- reading storage descriptors ---------------------------------------- */

/*
 * Reading is split in two: fetching runs the statements and keeps their
 * rows (no JSON), building turns rows into documents (no SQL).  A scan
 * fetches its next batch on a connection of its own while the caller builds
 * and consumes the current one (see scan_ahead).
 */

/* The rows of a set of storage descriptors. */
typedef struct sdrows {
	idlist ids;        /* SD_IDs, sorted, unique */
	idlist serdes;     /* their SERDE_IDs, sorted, unique */
	idlist cds;        /* their CD_IDs, sorted, unique */
	rowset sds;        /* SD_ID, INPUT_FORMAT, IS_COMPRESSED 0/1, LOCATION, NUM_BUCKETS,
			      OUTPUT_FORMAT, SERDE_ID, CD_ID, IS_STOREDASSUBDIRECTORIES 0/1 */
	rowset serde;      /* SERDE_ID, NAME, SLIB */
	rowset sdp, sep;   /* SD_ID / SERDE_ID, PARAM_KEY, PARAM_VALUE */
	rowset cols;       /* CD_ID, COLUMN_NAME, TYPE_NAME, COMMENT, in order */
	rowset bucket;     /* SD_ID, BUCKET_COL_NAME, in order */
	rowset sort;       /* SD_ID, COLUMN_NAME, ORDER, in order */
	rowset skn;        /* SD_ID, SKEWED_COL_NAME, in order */
	rowset skv;        /* SD_ID, list index, value, in order */
	rowset skm;        /* SD_ID, list id, LOCATION, value, in order */
} sdrows;

static void sdrows_free(sdrows *f)
{
	free(f->ids.v);
	free(f->serdes.v);
	free(f->cds.v);
	rowset_free(&f->sds);
	rowset_free(&f->serde);
	rowset_free(&f->sdp);
	rowset_free(&f->sep);
	rowset_free(&f->cols);
	rowset_free(&f->bucket);
	rowset_free(&f->sort);
	rowset_free(&f->skn);
	rowset_free(&f->skv);
	rowset_free(&f->skm);
	memset(f, 0, sizeof(*f));
}

/*
 * Fetch the storage descriptors f->ids (filled by the caller).  Every
 * statement selects by a list of ids of its own table's index (SERDES and
 * SERDE_PARAMS by SERDE_ID, not through a join), so that plans do not depend
 * on the server's statistics.
 */
static int fetch_sds(hms_catalog *self, sdrows *f, ms_error *err)
{
	size_t i;
	int rc;

	idlist_unique(&f->ids);
	if (f->ids.n == 0)
		return 0;
	if ((rc = q_in(self,
		       "SELECT \"SD_ID\", \"INPUT_FORMAT\", CASE WHEN \"IS_COMPRESSED\" THEN 1 "
		       "ELSE 0 END, \"LOCATION\", \"NUM_BUCKETS\", \"OUTPUT_FORMAT\", \"SERDE_ID\", "
		       "\"CD_ID\", CASE WHEN \"IS_STOREDASSUBDIRECTORIES\" THEN 1 ELSE 0 END FROM "
		       "\"SDS\" WHERE \"SD_ID\" IN ",
		       NULL, NULL, 0, &f->ids, &f->sds, err)) < 0)
		return rc;
	for (i = 0; i < f->sds.nrows; i++) {
		if ((CELL(&f->sds, i, 6) &&
		     idlist_add(&f->serdes, strtoll(CELL(&f->sds, i, 6), NULL, 10)) < 0) ||
		    (CELL(&f->sds, i, 7) &&
		     idlist_add(&f->cds, strtoll(CELL(&f->sds, i, 7), NULL, 10)) < 0))
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	idlist_unique(&f->serdes);
	idlist_unique(&f->cds);
	if ((rc = q_in(self, "SELECT \"SERDE_ID\", \"NAME\", \"SLIB\" FROM \"SERDES\" WHERE "
			     "\"SERDE_ID\" IN ",
		       NULL, NULL, 0, &f->serdes, &f->serde, err)) < 0 ||
	    (rc = q_in(self, "SELECT \"SERDE_ID\", \"PARAM_KEY\", \"PARAM_VALUE\" FROM "
			     "\"SERDE_PARAMS\" WHERE \"SERDE_ID\" IN ",
		       NULL, NULL, 0, &f->serdes, &f->sep, err)) < 0 ||
	    (rc = q_in(self, "SELECT \"SD_ID\", \"PARAM_KEY\", \"PARAM_VALUE\" FROM \"SD_PARAMS\" "
			     "WHERE \"SD_ID\" IN ",
		       NULL, NULL, 0, &f->ids, &f->sdp, err)) < 0 ||
	    (rc = q_in(self, "SELECT \"CD_ID\", \"COLUMN_NAME\", \"TYPE_NAME\", \"COMMENT\" FROM "
			     "\"COLUMNS_V2\" WHERE \"CD_ID\" IN ",
		       " ORDER BY \"CD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->cds, &f->cols, err)) < 0 ||
	    (rc = q_in(self, "SELECT \"SD_ID\", \"BUCKET_COL_NAME\" FROM \"BUCKETING_COLS\" WHERE "
			     "\"SD_ID\" IN ",
		       " ORDER BY \"SD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->bucket, err)) < 0 ||
	    (rc = q_in(self, "SELECT \"SD_ID\", \"COLUMN_NAME\", \"ORDER\" FROM \"SORT_COLS\" WHERE "
			     "\"SD_ID\" IN ",
		       " ORDER BY \"SD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->sort, err)) < 0 ||
	    (rc = q_in(self, "SELECT \"SD_ID\", \"SKEWED_COL_NAME\" FROM \"SKEWED_COL_NAMES\" "
			     "WHERE \"SD_ID\" IN ",
		       " ORDER BY \"SD_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->skn, err)) < 0 ||
	    (rc = q_in(self,
		       "SELECT v.\"SD_ID_OID\", v.\"INTEGER_IDX\", l.\"STRING_LIST_VALUE\" FROM "
		       "\"SKEWED_VALUES\" v LEFT JOIN \"SKEWED_STRING_LIST_VALUES\" l ON "
		       "l.\"STRING_LIST_ID\" = v.\"STRING_LIST_ID_EID\" WHERE v.\"SD_ID_OID\" IN ",
		       " ORDER BY v.\"SD_ID_OID\", v.\"INTEGER_IDX\", l.\"INTEGER_IDX\"", NULL, 0,
		       &f->ids, &f->skv, err)) < 0 ||
	    (rc = q_in(self,
		       "SELECT m.\"SD_ID\", m.\"STRING_LIST_ID_KID\", m.\"LOCATION\", "
		       "l.\"STRING_LIST_VALUE\" FROM \"SKEWED_COL_VALUE_LOC_MAP\" m LEFT JOIN "
		       "\"SKEWED_STRING_LIST_VALUES\" l ON l.\"STRING_LIST_ID\" = "
		       "m.\"STRING_LIST_ID_KID\" WHERE m.\"SD_ID\" IN ",
		       " ORDER BY m.\"SD_ID\", m.\"STRING_LIST_ID_KID\", l.\"INTEGER_IDX\"", NULL, 0,
		       &f->ids, &f->skm, err)) < 0)
		return rc;
	return 0;
}

/* Set-based documents of storage descriptors: sd[i] is the document of ids.v[i]. */
typedef struct sdread {
	idlist ids;        /* sorted, unique; borrowed from the sdrows */
	cJSON **sd;
	cJSON **skew_values; /* per sd: array of encoded strings */
	cJSON **skew_maps;
} sdread;

static void sdread_free(sdread *r)
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

	return c ? c : jlit(o, lit, cJSON_CreateObject());
}

static cJSON *child_arr(cJSON *o, const char *lit)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(o, lit);

	return c ? c : jlit(o, lit, cJSON_CreateArray());
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
static long long row_idx(const rowset *rs, size_t r, const idlist *ids)
{
	return find_id(ids, strtoll(CELL(rs, r, 0), NULL, 10));
}

/* Add parameter rows (id, key, value) of rs to member "Parameters" of objs[idx of id]. */
static int build_params(const rowset *rs, const idlist *ids, cJSON *const *objs)
{
	size_t i;

	for (i = 0; i < rs->nrows; i++) {
		long long idx = row_idx(rs, i, ids);

		if (idx >= 0 && objs[idx] &&
		    jadd_str(child_obj(objs[idx], "Parameters"), CELL(rs, i, 1),
			     CELL(rs, i, 2) ? CELL(rs, i, 2) : "") < 0)
			return MS_ENOMEM;
	}
	return 0;
}

/* Build the documents of the storage descriptors fetched in f into r. */
static int build_sds(const sdrows *f, sdread *r, ms_error *err)
{
	ms_buf enc = MS_BUF_INIT((size_t)1 << 20);
	cJSON **serde = NULL, **cols = NULL;
	size_t i, n = f->ids.n;
	long long idx;
	int rc = 0;

	r->ids = f->ids;
	if (n == 0)
		return 0;
	r->sd = calloc(n, sizeof(*r->sd));
	r->skew_values = calloc(n, sizeof(*r->skew_values));
	r->skew_maps = calloc(n, sizeof(*r->skew_maps));
	serde = calloc(f->serdes.n + 1, sizeof(*serde));
	cols = calloc(f->cds.n + 1, sizeof(*cols));
	if (!r->sd || !r->skew_values || !r->skew_maps || !serde || !cols)
		goto oom;

	/* SerDes with their parameters, and column lists, once each */
	for (i = 0; i < f->serde.nrows; i++) {
		cJSON *se;

		if ((idx = row_idx(&f->serde, i, &f->serdes)) < 0 || serde[idx])
			continue;
		if (!(se = serde[idx] = cJSON_CreateObject()) ||
		    jlit_str(se, "Name", CELL(&f->serde, i, 1)) < 0 ||
		    jlit_str(se, "SerializationLibrary", CELL(&f->serde, i, 2)) < 0 ||
		    !jlit(se, "Parameters", cJSON_CreateObject()))
			goto oom;
	}
	if (build_params(&f->sep, &f->serdes, serde) < 0)
		goto oom;
	for (i = 0; i < f->cds.n; i++)
		if (!(cols[i] = cJSON_CreateArray()))
			goto oom;
	for (i = 0; i < f->cols.nrows; i++) {
		cJSON *c;

		if ((idx = row_idx(&f->cols, i, &f->cds)) < 0)
			continue;
		if (!(c = cJSON_CreateObject()))
			goto oom;
		cJSON_AddItemToArray(cols[idx], c);
		if (jlit_str(c, "Name", CELL(&f->cols, i, 1)) < 0 ||
		    jlit_str(c, "Type", CELL(&f->cols, i, 2)) < 0 ||
		    jlit_str(c, "Comment", CELL(&f->cols, i, 3)) < 0)
			goto oom;
	}

	/* the descriptors */
	for (i = 0; i < f->sds.nrows; i++) {
		const char *const *c = (const char *const *)&CELL(&f->sds, i, 0);
		cJSON *sd, *x;
		long long k;

		if ((idx = row_idx(&f->sds, i, &f->ids)) < 0 || r->sd[idx])
			continue;
		if (!(sd = r->sd[idx] = cJSON_CreateObject()) ||
		    jlit_str(sd, "InputFormat", c[1]) < 0 ||
		    !jlit(sd, "Compressed", cJSON_CreateBool(c[2][0] == '1')) ||
		    jlit_str(sd, "Location", c[3]) < 0 ||
		    jlit_num(sd, "NumberOfBuckets", c[4]) < 0 ||
		    jlit_str(sd, "OutputFormat", c[5]) < 0 ||
		    !jlit(sd, "StoredAsSubDirectories", cJSON_CreateBool(c[8][0] == '1')))
			goto oom;
		if (c[6]) {
			k = find_id(&f->serdes, strtoll(c[6], NULL, 10));
			/* a SERDE_ID without its row reads as an empty SerDe, as a join gave it */
			x = k >= 0 && serde[k] ? cJSON_Duplicate(serde[k], 1) : cJSON_CreateObject();
			if (!x)
				goto oom;
			if (!jlit(sd, "SerdeInfo", x))
				goto oom;
			if (!cJSON_GetObjectItemCaseSensitive(x, "Parameters") &&
			    !jlit(x, "Parameters", cJSON_CreateObject()))
				goto oom;
		}
		if (!jlit(sd, "Parameters", cJSON_CreateObject()) ||
		    !jlit(sd, "BucketColumns", cJSON_CreateArray()) ||
		    !jlit(sd, "SortColumns", cJSON_CreateArray()) ||
		    !(r->skew_values[idx] = cJSON_CreateArray()) ||
		    !(r->skew_maps[idx] = cJSON_CreateObject()))
			goto oom;
		if (c[7]) {
			k = find_id(&f->cds, strtoll(c[7], NULL, 10));
			if (!(x = cJSON_Duplicate(cols[k], 1)))
				goto oom;
			if (!jlit(sd, "Columns", x))
				goto oom;
		}
	}
	if (build_params(&f->sdp, &f->ids, r->sd) < 0)
		goto oom;

	/* bucketing, sorting, skew column names */
	for (i = 0; i < f->bucket.nrows; i++) {
		cJSON *v;

		if ((idx = row_idx(&f->bucket, i, &f->ids)) < 0 || !r->sd[idx])
			continue;
		if (!(v = cJSON_CreateString(CELL(&f->bucket, i, 1) ? CELL(&f->bucket, i, 1) : "")))
			goto oom;
		cJSON_AddItemToArray(child_arr(r->sd[idx], "BucketColumns"), v);
	}
	for (i = 0; i < f->sort.nrows; i++) {
		cJSON *o;

		if ((idx = row_idx(&f->sort, i, &f->ids)) < 0 || !r->sd[idx])
			continue;
		if (!(o = cJSON_CreateObject()))
			goto oom;
		cJSON_AddItemToArray(child_arr(r->sd[idx], "SortColumns"), o);
		if (jlit_str(o, "Column", CELL(&f->sort, i, 1)) < 0 ||
		    jlit_num(o, "SortOrder", CELL(&f->sort, i, 2)) < 0)
			goto oom;
	}
	for (i = 0; i < f->skn.nrows; i++) {
		cJSON *v, *sk;

		if ((idx = row_idx(&f->skn, i, &f->ids)) < 0 || !r->sd[idx])
			continue;
		if (!(sk = child_obj(r->sd[idx], "SkewedInfo")) ||
		    !(v = cJSON_CreateString(CELL(&f->skn, i, 1) ? CELL(&f->skn, i, 1) : "")))
			goto oom;
		cJSON_AddItemToArray(child_arr(sk, "SkewedColumnNames"), v);
	}

	/* skewed value lists and their locations: one string per (SD, list) run of rows */
	for (i = 0; i < f->skv.nrows;) {
		size_t j = i;
		cJSON *v;

		while (j < f->skv.nrows && strcmp(CELL(&f->skv, j, 0), CELL(&f->skv, i, 0)) == 0 &&
		       strcmp(CELL(&f->skv, j, 1), CELL(&f->skv, i, 1)) == 0)
			j++;
		idx = row_idx(&f->skv, i, &f->ids);
		if (idx >= 0 && r->sd[idx]) {
			if (encode_list(&f->skv, i, j, 2, &enc) < 0 ||
			    !(v = cJSON_CreateString(enc.ptr)))
				goto oom;
			cJSON_AddItemToArray(r->skew_values[idx], v);
		}
		i = j;
	}
	for (i = 0; i < f->skm.nrows;) {
		size_t j = i;

		while (j < f->skm.nrows && strcmp(CELL(&f->skm, j, 0), CELL(&f->skm, i, 0)) == 0 &&
		       strcmp(CELL(&f->skm, j, 1), CELL(&f->skm, i, 1)) == 0)
			j++;
		idx = row_idx(&f->skm, i, &f->ids);
		if (idx >= 0 && r->sd[idx]) {
			if (encode_list(&f->skm, i, j, 3, &enc) < 0 ||
			    jadd_str(r->skew_maps[idx], enc.ptr,
				     CELL(&f->skm, i, 2) ? CELL(&f->skm, i, 2) : "") < 0)
				goto oom;
		}
		i = j;
	}
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	for (i = 0; serde && i < f->serdes.n; i++)
		cJSON_Delete(serde[i]);
	for (i = 0; cols && i < f->cds.n; i++)
		cJSON_Delete(cols[i]);
	free(serde);
	free(cols);
	ms_buf_free(&enc);
	return rc;
}

/*
 * Take sd (stolen) as read and shape it with the entity's stash: drop what
 * Hive stores by default for a field the source did not have, restore the
 * fields Hive has no column for.
 */
static int finish_sd(cJSON *doc, cJSON *sd, cJSON *skv, cJSON *skm, const cJSON *st)
{
	static const char *const dflt[] = { "Compressed", "NumberOfBuckets",
					    "StoredAsSubDirectories", "Parameters",
					    "BucketColumns", "SortColumns", NULL };
	const char *const *f;
	cJSON *sk = cJSON_GetObjectItemCaseSensitive(sd, "SkewedInfo"), *se, *v;
	const cJSON *x;
	char path[64];
	int raw = cJSON_IsTrue(jget(st, "sr"));

	/* skew */
	if (!sk && ((skv && skv->child) || (skm && skm->child) || has_default(st, "S.SkewedInfo")))
		sk = cJSON_AddObjectToObject(sd, "SkewedInfo");
	if (sk) {
		if (!cJSON_GetObjectItemCaseSensitive(sk, "SkewedColumnNames"))
			cJSON_AddArrayToObject(sk, "SkewedColumnNames");
		if (raw) {
			/* written from values that were not Glue's encoding: give them back as they were */
			cJSON *e;

			cJSON_ArrayForEach(e, skv)
			{
				size_t nn = 0, lens[2];
				const char *starts[2];

				if (cJSON_IsString(e) &&
				    hms_skew_decode(e->valuestring, starts, lens, 2, &nn) == 0 &&
				    nn == 1) {
					char *s = strndup(starts[0], lens[0]);

					if (s) {
						cJSON_SetValuestring(e, s);
						free(s);
					}
				}
			}
			if (skm) {
				cJSON *nm = cJSON_CreateObject();

				cJSON_ArrayForEach(e, skm)
				{
					size_t nn = 0, lens[2];
					const char *starts[2];
					char *s = NULL;

					if (hms_skew_decode(e->string, starts, lens, 2, &nn) == 0 &&
					    nn == 1)
						s = strndup(starts[0], lens[0]);
					if (nm)
						cJSON_AddStringToObject(nm, s ? s : e->string,
									e->valuestring);
					free(s);
				}
				cJSON_Delete(skm);
				skm = nm;
			}
		}
		cJSON_AddItemToObject(sk, "SkewedColumnValues", skv ? skv : cJSON_CreateArray());
		cJSON_AddItemToObject(sk, "SkewedColumnValueLocationMaps",
				      skm ? skm : cJSON_CreateObject());
		skv = skm = NULL;
		{
			static const char *const sub[] = { "SkewedColumnNames", "SkewedColumnValues",
							   "SkewedColumnValueLocationMaps", NULL };

			for (f = sub; *f; f++) {
				snprintf(path, sizeof(path), "K.%s", *f);
				if (empty_container(jget(sk, *f)) && !has_default(st, path))
					cJSON_DeleteItemFromObjectCaseSensitive(sk, *f);
			}
			if (!sk->child && !has_default(st, "S.SkewedInfo"))
				cJSON_DeleteItemFromObjectCaseSensitive(sd, "SkewedInfo");
		}
	}
	cJSON_Delete(skv);
	cJSON_Delete(skm);
	/* defaults Hive stores for absent fields */
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
			is_default = empty_container(v);
		snprintf(path, sizeof(path), "S.%s", *f);
		if (is_default && !has_default(st, path))
			cJSON_DeleteItemFromObjectCaseSensitive(sd, *f);
	}
	se = cJSON_GetObjectItemCaseSensitive(sd, "SerdeInfo");
	if (se && empty_container(jget(se, "Parameters")) && !has_default(st, "E.Parameters"))
		cJSON_DeleteItemFromObjectCaseSensitive(se, "Parameters");
	/* fields with no column */
	cJSON_ArrayForEach(x, jget(st, "s"))
	cJSON_AddItemToObject(sd, x->string, cJSON_Duplicate(x, 1));
	if (se)
		cJSON_ArrayForEach(x, jget(st, "sx"))
		cJSON_AddItemToObject(se, x->string, cJSON_Duplicate(x, 1));
	sk = cJSON_GetObjectItemCaseSensitive(sd, "SkewedInfo");
	if (sk)
		cJSON_ArrayForEach(x, jget(st, "ki"))
		cJSON_AddItemToObject(sk, x->string, cJSON_Duplicate(x, 1));
	cJSON_ArrayForEach(x, jget(st, "c"))
	{
		cJSON *col = cJSON_GetArrayItem(jget(sd, "Columns"), atoi(x->string));
		const cJSON *y;

		cJSON_ArrayForEach(y, x)
		{
			if (col)
				cJSON_AddItemToObject(col, y->string, cJSON_Duplicate(y, 1));
		}
	}
	cJSON_AddItemToObject(doc, "StorageDescriptor", sd);
	return 0;
}

/*
 * The entity of a document read from the metastore (steals doc).  What
 * Hive holds and Glue's model refuses (a value too long, an empty owner or
 * partition value, a line break in a parameter key, ...) is MS_EINVAL
 * naming the entity and the field.  The document is checked in place
 * before the entity is made, so that the message can name a partition by
 * its values at no cost to the partitions that are fine.
 */
static int build_entity(hms_catalog *self, ms_entity **out, ms_kind kind, cJSON *doc,
			const char *db, const char *table, ms_error *err)
{
	ms_conv c = { 0, err };
	const cJSON *name = jget(doc, "Name");
	char *values = NULL;
	int rc;

	ms_model_init();
	if ((rc = ms_model_convert(&c, doc, ms_schema_for(kind), NULL)) == 0)
		return ms_model_entity_make(out, kind, doc, db, table, &c);
	if (kind == MS_KIND_PARTITION)
		values = cJSON_PrintUnformatted(jget(doc, "Values"));
	if (kind == MS_KIND_DATABASE)
		ms_error_prefix(err, "'%s': database '%s': ", self->base.url,
				cJSON_IsString(name) ? name->valuestring : "?");
	else if (kind == MS_KIND_TABLE)
		ms_error_prefix(err, "'%s': table '%s.%s': ", self->base.url, db,
				cJSON_IsString(name) ? name->valuestring : "?");
	else
		ms_error_prefix(err, "'%s': partition %.200s of '%s.%s': ", self->base.url,
				values ? values : "?", db, table);
	cJSON_free(values);
	cJSON_Delete(doc);
	return rc;
}

/*
 * Shape a table's, partition's or database's top level with its stash
 * (taken out of Parameters) and build the entity.
 */
static int finish_entity(hms_catalog *self, ms_entity **out, ms_kind kind, cJSON *doc,
			 cJSON *st, const char *db, const char *table, ms_error *err)
{
	const cJSON *x;
	/* Hive's defaults, and empty texts that stand for nothing (Glue takes no empty Owner) */
	static const char *const top[] = { "Retention", "LastAccessTime", "Parameters",
					   "PartitionKeys", "LocationUri", "Owner", NULL };
	const char *const *f;

	/* parameters added for Hive's tools, still as they were written */
	cJSON_ArrayForEach(x, jget(st, "a"))
	{
		cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
		const char *have = jstr(params, x->string);

		if (have && cJSON_IsString(x) && strcmp(have, x->valuestring) == 0)
			cJSON_DeleteItemFromObjectCaseSensitive(params, x->string);
	}
	for (f = top; *f; f++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, *f);

		if (!v)
			continue;
		if (((cJSON_IsNumber(v) && v->valuedouble == 0) || empty_container(v) ||
		     (cJSON_IsString(v) && !*v->valuestring)) &&
		    !has_default(st, *f))
			cJSON_DeleteItemFromObjectCaseSensitive(doc, *f);
	}
	cJSON_ArrayForEach(x, jget(st, "x"))
	cJSON_AddItemToObject(doc, x->string, cJSON_Duplicate(x, 1));
	cJSON_ArrayForEach(x, jget(st, "k"))
	{
		cJSON *col = cJSON_GetArrayItem(jget(doc, "PartitionKeys"), atoi(x->string));
		const cJSON *y;

		cJSON_ArrayForEach(y, x)
		{
			if (col)
				cJSON_AddItemToObject(col, y->string, cJSON_Duplicate(y, 1));
		}
	}
	cJSON_Delete(st);
	return build_entity(self, out, kind, doc, db, table, err);
}

/* Parse and remove the stash parameter of a document being read (new or NULL). */
static cJSON *take_stash(cJSON *doc)
{
	cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
	const char *s = jstr(params, HMS_STASH);
	cJSON *st = s ? cJSON_Parse(s) : NULL;

	cJSON_DeleteItemFromObjectCaseSensitive(params, HMS_STASH);
	if (st && !cJSON_IsObject(st)) {
		cJSON_Delete(st);
		st = NULL;
	}
	return st;
}

/* ---- lookups ------------------------------------------------------------ */

static int fold(char *dst, size_t n, const char *src, const char *what, ms_error *err)
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

static int db_id(hms_catalog *self, const char *name, long long *id, int must, ms_error *err)
{
	const char *p[2] = { name, self->ctlg };
	rowset rs = { 0 };
	int rc = 0;

	if (storable(self, name))
		rc = q(self, "SELECT \"DB_ID\" FROM \"DBS\" WHERE \"NAME\" = ? AND \"CTLG_NAME\" = ?",
		       p, 2, &rs, NULL, err);
	if (rc < 0)
		return rc;
	*id = rs.nrows ? strtoll(CELL(&rs, 0, 0), NULL, 10) : -1;
	rowset_free(&rs);
	if (*id < 0 && must)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name,
				    self->base.url);
	return 0;
}

typedef struct tblinfo {
	long long id, sd, cd, create;
	size_t nkeys;
	char **keys;   /* partition key names */
	char *colsig;  /* the table's columns as Hive holds them */
} tblinfo;

static void tblinfo_free(tblinfo *t)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->colsig);
	memset(t, 0, sizeof(*t));
}

/* Find a table; with must, MS_ENOTFOUND names the database or table. keys: load its keys. */
static int tbl_find(hms_catalog *self, const char *db, const char *name, int must, int keys,
		    tblinfo *t, ms_error *err)
{
	const char *p[3] = { db, self->ctlg, name };
	char idb[32];
	rowset rs = { 0 };
	long long dbid;
	size_t i;
	int rc;

	memset(t, 0, sizeof(*t));
	t->id = -1;
	if (storable(self, db) && storable(self, name) &&
	    (rc = q(self,
		    "SELECT t.\"TBL_ID\", t.\"SD_ID\", t.\"CREATE_TIME\", s.\"CD_ID\" FROM \"TBLS\" t "
		    "JOIN \"DBS\" d ON d.\"DB_ID\" = t.\"DB_ID\" LEFT JOIN \"SDS\" s ON "
		    "s.\"SD_ID\" = t.\"SD_ID\" WHERE d.\"NAME\" = ? AND d.\"CTLG_NAME\" = ? AND "
		    "t.\"TBL_NAME\" = ?",
		    p, 3, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows) {
		t->id = strtoll(CELL(&rs, 0, 0), NULL, 10);
		t->sd = CELL(&rs, 0, 1) ? strtoll(CELL(&rs, 0, 1), NULL, 10) : -1;
		t->create = strtoll(CELL(&rs, 0, 2), NULL, 10);
		t->cd = CELL(&rs, 0, 3) ? strtoll(CELL(&rs, 0, 3), NULL, 10) : -1;
	}
	rowset_free(&rs);
	if (t->id < 0) {
		if (!must)
			return 0;
		if ((rc = db_id(self, db, &dbid, 1, err)) < 0)
			return rc;
		return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, name,
				    self->base.url);
	}
	if (!keys)
		return 0;
	snprintf(idb, sizeof(idb), "%lld", t->id);
	p[0] = idb;
	if ((rc = q(self,
		    "SELECT \"PKEY_NAME\" FROM \"PARTITION_KEYS\" WHERE \"TBL_ID\" = ? ORDER BY "
		    "\"INTEGER_IDX\"",
		    p, 1, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows && !(t->keys = calloc(rs.nrows, sizeof(*t->keys)))) {
		rowset_free(&rs);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	for (i = 0; i < rs.nrows; i++) {
		if (!(t->keys[i] = strdup(CELL(&rs, i, 0) ? CELL(&rs, i, 0) : ""))) {
			rowset_free(&rs);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		t->nkeys++;
	}
	rowset_free(&rs);
	if (t->cd >= 0) {
		ms_buf sig = MS_BUF_INIT((size_t)64 << 20);

		snprintf(idb, sizeof(idb), "%lld", t->cd);
		if ((rc = q(self,
			    "SELECT \"COLUMN_NAME\", \"TYPE_NAME\", \"COMMENT\" FROM \"COLUMNS_V2\" "
			    "WHERE \"CD_ID\" = ? ORDER BY \"INTEGER_IDX\"",
			    p, 1, &rs, NULL, err)) < 0)
			return rc;
		for (i = 0; i < rs.nrows && rc == 0; i++)
			rc = ms_buf_printf(&sig, "%s%c%d%s%c%d%s%c", CELL(&rs, i, 0), 1,
					   CELL(&rs, i, 1) != NULL,
					   CELL(&rs, i, 1) ? CELL(&rs, i, 1) : "", 1,
					   CELL(&rs, i, 2) != NULL,
					   CELL(&rs, i, 2) ? CELL(&rs, i, 2) : "", 2);
		if (rc == 0)
			rc = ms_buf_add(&sig, "", 0);
		rowset_free(&rs);
		if (rc < 0) {
			ms_buf_free(&sig);
			return ms_error_set(err, rc, "columns of '%s.%s' are too large", db, name);
		}
		t->colsig = ms_buf_detach(&sig);
	}
	return 0;
}

/* The same signature for a Glue column list. */
static int colsig(const cJSON *cols, ms_buf *sig)
{
	const cJSON *c;
	int rc = 0;

	ms_buf_reset(sig);
	cJSON_ArrayForEach(c, cols)
	{
		const char *t = jstr(c, "Type"), *cm = jstr(c, "Comment");

		if (rc == 0)
			rc = ms_buf_printf(sig, "%s%c%d%s%c%d%s%c", jstr(c, "Name") ? jstr(c, "Name") : "",
					   1, t != NULL, t ? t : "", 1, cm != NULL, cm ? cm : "", 2);
	}
	return rc ? rc : ms_buf_add(sig, "", 0);
}

/* ---- deleting storage descriptors --------------------------------------- */

/*
 * Delete storage descriptors (rows that referenced them are gone or
 * re-pointed already) with their parameters, SerDes, skew lists, and the
 * column descriptors no other SDS row uses.
 */
static int delete_sds(hms_catalog *self, idlist *sds, ms_error *err)
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

	idlist_unique(sds);
	if (sds->n == 0)
		return 0;
	if ((rc = q_in(self, "SELECT \"SERDE_ID\", \"CD_ID\" FROM \"SDS\" WHERE \"SD_ID\" IN ",
		       NULL, NULL, 0, sds, &rs, err)) < 0)
		goto done;
	for (i = 0; i < rs.nrows; i++) {
		if ((CELL(&rs, i, 0) && idlist_add(&serdes, strtoll(CELL(&rs, i, 0), NULL, 10)) < 0) ||
		    (CELL(&rs, i, 1) && idlist_add(&cds, strtoll(CELL(&rs, i, 1), NULL, 10)) < 0)) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	}
	rowset_free(&rs);
	if ((rc = q_in(self,
		       "SELECT \"STRING_LIST_ID_EID\" FROM \"SKEWED_VALUES\" WHERE \"SD_ID_OID\" IN ",
		       NULL, NULL, 0, sds, &rs, err)) < 0 ||
	    (rc = q_in(self,
		       "SELECT \"STRING_LIST_ID_KID\" FROM \"SKEWED_COL_VALUE_LOC_MAP\" WHERE "
		       "\"SD_ID\" IN ",
		       NULL, NULL, 0, sds, &rs, err)) < 0)
		goto done;
	for (i = 0; i < rs.nrows; i++)
		if (CELL(&rs, i, 0) && idlist_add(&lists, strtoll(CELL(&rs, i, 0), NULL, 10)) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	rowset_free(&rs);
	idlist_unique(&lists);
	idlist_unique(&serdes);
	idlist_unique(&cds);
	for (i = 0; i < sizeof(by_sd) / sizeof(by_sd[0]); i++)
		if ((rc = q_in(self, by_sd[i], NULL, NULL, 0, sds, NULL, err)) < 0)
			goto done;
	if ((rc = q_in(self, "DELETE FROM \"SKEWED_STRING_LIST_VALUES\" WHERE \"STRING_LIST_ID\" IN ",
		       NULL, NULL, 0, &lists, NULL, err)) < 0 ||
	    (rc = q_in(self, "DELETE FROM \"SKEWED_STRING_LIST\" WHERE \"STRING_LIST_ID\" IN ",
		       NULL, NULL, 0, &lists, NULL, err)) < 0 ||
	    (rc = q_in(self, "DELETE FROM \"SDS\" WHERE \"SD_ID\" IN ", NULL, NULL, 0, sds, NULL,
		       err)) < 0 ||
	    (rc = q_in(self, "DELETE FROM \"SERDE_PARAMS\" WHERE \"SERDE_ID\" IN ", NULL, NULL, 0,
		       &serdes, NULL, err)) < 0 ||
	    (rc = q_in(self, "DELETE FROM \"SERDES\" WHERE \"SERDE_ID\" IN ", NULL, NULL, 0,
		       &serdes, NULL, err)) < 0 ||
	    (rc = q_in(self,
		       "DELETE FROM \"COLUMNS_V2\" WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE "
		       "s.\"CD_ID\" = \"COLUMNS_V2\".\"CD_ID\") AND \"CD_ID\" IN ",
		       NULL, NULL, 0, &cds, NULL, err)) < 0 ||
	    (rc = q_in(self,
		       "DELETE FROM \"CDS\" WHERE NOT EXISTS (SELECT 1 FROM \"SDS\" s WHERE "
		       "s.\"CD_ID\" = \"CDS\".\"CD_ID\") AND \"CD_ID\" IN ",
		       NULL, NULL, 0, &cds, NULL, err)) < 0)
		goto done;
done:
	rowset_free(&rs);
	free(serdes.v);
	free(cds.v);
	free(lists.v);
	return rc;
}

/* ---- writing storage descriptors ---------------------------------------- */

typedef struct sdwriter {
	inserter serdes, serde_params, cds, cols, sds, sd_params, bucket, sort, skcols, sklist,
		sklistv, skvals, skmap;
} sdwriter;

static void sdw_init(sdwriter *w, hms_catalog *self)
{
	static const char *const serdes[] = { "SERDE_ID", "NAME", "SLIB" };
	static const char *const kv3[] = { "SERDE_ID", "PARAM_KEY", "PARAM_VALUE" };
	static const char *const cds[] = { "CD_ID" };
	static const char *const cols[] = { "CD_ID", "COLUMN_NAME", "TYPE_NAME", "COMMENT",
					    "INTEGER_IDX" };
	static const char *const sds[] = { "SD_ID", "INPUT_FORMAT", "IS_COMPRESSED", "LOCATION",
					   "NUM_BUCKETS", "OUTPUT_FORMAT", "SERDE_ID", "CD_ID",
					   "IS_STOREDASSUBDIRECTORIES" };
	static const char *const sdmarks[] = { "?", "?", "(? = 1)", "?", "?", "?", "?", "?",
					       "(? = 1)" };
	static const char *const sdp[] = { "SD_ID", "PARAM_KEY", "PARAM_VALUE" };
	static const char *const bucket[] = { "SD_ID", "BUCKET_COL_NAME", "INTEGER_IDX" };
	static const char *const sort[] = { "SD_ID", "COLUMN_NAME", "ORDER", "INTEGER_IDX" };
	static const char *const skc[] = { "SD_ID", "SKEWED_COL_NAME", "INTEGER_IDX" };
	static const char *const skl[] = { "STRING_LIST_ID" };
	static const char *const sklv[] = { "STRING_LIST_ID", "STRING_LIST_VALUE", "INTEGER_IDX" };
	static const char *const skv[] = { "SD_ID_OID", "STRING_LIST_ID_EID", "INTEGER_IDX" };
	static const char *const skm[] = { "SD_ID", "STRING_LIST_ID_KID", "LOCATION" };

	ins_init(&w->serdes, self, "SERDES", serdes, NULL, 3);
	ins_init(&w->serde_params, self, "SERDE_PARAMS", kv3, NULL, 3);
	ins_init(&w->cds, self, "CDS", cds, NULL, 1);
	ins_init(&w->cols, self, "COLUMNS_V2", cols, NULL, 5);
	ins_init(&w->sds, self, "SDS", sds, sdmarks, 9);
	ins_init(&w->sd_params, self, "SD_PARAMS", sdp, NULL, 3);
	ins_init(&w->bucket, self, "BUCKETING_COLS", bucket, NULL, 3);
	ins_init(&w->sort, self, "SORT_COLS", sort, NULL, 4);
	ins_init(&w->skcols, self, "SKEWED_COL_NAMES", skc, NULL, 3);
	ins_init(&w->sklist, self, "SKEWED_STRING_LIST", skl, NULL, 1);
	ins_init(&w->sklistv, self, "SKEWED_STRING_LIST_VALUES", sklv, NULL, 3);
	ins_init(&w->skvals, self, "SKEWED_VALUES", skv, NULL, 3);
	ins_init(&w->skmap, self, "SKEWED_COL_VALUE_LOC_MAP", skm, NULL, 3);
}

/* Flush in foreign-key order. */
static int sdw_flush(sdwriter *w, ms_error *err)
{
	inserter *order[] = { &w->serdes, &w->serde_params, &w->cds, &w->cols, &w->sds,
			      &w->sd_params, &w->bucket, &w->sort, &w->skcols, &w->sklist,
			      &w->sklistv, &w->skvals, &w->skmap };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((rc = ins_flush(order[i], err)) < 0)
			return rc;
	return 0;
}

static void sdw_free(sdwriter *w)
{
	inserter *all[] = { &w->serdes, &w->serde_params, &w->cds, &w->cols, &w->sds,
			    &w->sd_params, &w->bucket, &w->sort, &w->skcols, &w->sklist,
			    &w->sklistv, &w->skvals, &w->skmap };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ins_free(all[i]);
}

/*
 * End a row of one of w's inserters.  The rows of storage descriptors refer
 * to each other (SDS to SERDES and CDS, their children to SDS), so no
 * inserter flushes alone: when one is full, all are flushed in foreign-key
 * order, and write_sd adds every parent row before its children.
 */
static int sdw_row(sdwriter *w, inserter *in, ms_error *err)
{
	in->rows++;
	if (in->p.n + in->ncols > HMS_MAX_PARAMS || in->rows >= HMS_BATCH)
		return sdw_flush(w, err);
	return 0;
}

#define P(in, v)                                                                          \
	do {                                                                              \
		if ((rc = params_add(&(in)->p, (v))) < 0)                                 \
			goto oom;                                                         \
	} while (0)
#define PL(in, v)                                                                         \
	do {                                                                              \
		if ((rc = params_addll(&(in)->p, (v))) < 0)                               \
			goto oom;                                                         \
	} while (0)
#define CHECK(col, v)                                                                     \
	do {                                                                              \
		if ((rc = check(self, s, (col), (v), err)) < 0)                           \
			goto done;                                                        \
	} while (0)

static long long num(const cJSON *v, long long dflt)
{
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : dflt;
}

/*
 * Write one storage descriptor with sd_id (ids reserved by the caller);
 * cd_id is the CD to use, or -1 to create one with new_cd.  Fields with no
 * column go into the stash.  Borrowed strings stay valid until the flush.
 */
static int write_sd(hms_catalog *self, sdwriter *w, const subject *s, const cJSON *sd,
		    long long sd_id, long long serde_id, long long cd_id, long long new_cd,
		    long long *lists, stash *st, ms_error *err)
{
	static const char *const known[] = { "Columns", "Location", "InputFormat", "OutputFormat",
					     "Compressed", "NumberOfBuckets", "SerdeInfo",
					     "BucketColumns", "SortColumns", "Parameters",
					     "SkewedInfo", "StoredAsSubDirectories", NULL };
	static const char *const serde_known[] = { "Name", "SerializationLibrary", "Parameters",
						   NULL };
	static const char *const col_known[] = { "Name", "Type", "Comment", NULL };
	static const char *const skew_known[] = { "SkewedColumnNames", "SkewedColumnValues",
						  "SkewedColumnValueLocationMaps", NULL };
	const cJSON *f, *se = jget(sd, "SerdeInfo"), *sk = jget(sd, "SkewedInfo"), *v;
	char label[MS_NAME_MAX + 64];
	int rc = 0, idx, raw = 0;

	cJSON_ArrayForEach(f, sd)
	{
		if (!in_list(known, f->string)) {
			snprintf(label, sizeof(label), "StorageDescriptor.%s", f->string);
			if ((rc = stash_keep(st, "s", f->string, f, label)) < 0)
				goto oom;
		}
	}
	/* defaults Hive would store for absent fields */
	if ((cJSON_IsFalse(jget(sd, "Compressed")) && (rc = stash_default(st, "S.Compressed")) < 0) ||
	    (cJSON_IsFalse(jget(sd, "StoredAsSubDirectories")) &&
	     (rc = stash_default(st, "S.StoredAsSubDirectories")) < 0) ||
	    (num(jget(sd, "NumberOfBuckets"), 0) == -1 &&
	     (rc = stash_default(st, "S.NumberOfBuckets")) < 0) ||
	    (empty_container(jget(sd, "Parameters")) && (rc = stash_default(st, "S.Parameters")) < 0) ||
	    (empty_container(jget(sd, "BucketColumns")) &&
	     (rc = stash_default(st, "S.BucketColumns")) < 0) ||
	    (empty_container(jget(sd, "SortColumns")) &&
	     (rc = stash_default(st, "S.SortColumns")) < 0) ||
	    (se && empty_container(jget(se, "Parameters")) &&
	     (rc = stash_default(st, "E.Parameters")) < 0))
		goto oom;

	if (se) {
		cJSON_ArrayForEach(f, se)
		{
			if (!in_list(serde_known, f->string) &&
			    (rc = stash_keep(st, "sx", f->string, f, "SerdeInfo field")) < 0)
				goto oom;
		}
		CHECK("SERDES.NAME", jstr(se, "Name"));
		CHECK("SERDES.SLIB", jstr(se, "SerializationLibrary"));
		PL(&w->serdes, serde_id);
		P(&w->serdes, jstr(se, "Name"));
		P(&w->serdes, jstr(se, "SerializationLibrary"));
		if ((rc = sdw_row(w, &w->serdes, err)) < 0)
			goto done;
		cJSON_ArrayForEach(v, jget(se, "Parameters"))
		{
			CHECK("SERDE_PARAMS.PARAM_KEY", v->string);
			PL(&w->serde_params, serde_id);
			P(&w->serde_params, v->string);
			P(&w->serde_params, cJSON_IsString(v) ? v->valuestring : NULL);
			if ((rc = sdw_row(w, &w->serde_params, err)) < 0)
				goto done;
		}
	}
	/* columns, after their CDS row (a flush may come between) */
	if (new_cd >= 0) {
		PL(&w->cds, new_cd);
		if ((rc = sdw_row(w, &w->cds, err)) < 0)
			goto done;
		cd_id = new_cd;
	}
	idx = 0;
	cJSON_ArrayForEach(v, jget(sd, "Columns"))
	{
		cJSON_ArrayForEach(f, v)
		{
			if (!in_list(col_known, f->string)) {
				char key[16];
				cJSON *c, *o;

				snprintf(key, sizeof(key), "%d", idx);
				snprintf(label, sizeof(label), "Columns[%d].%s", idx, f->string);
				if ((rc = stash_obj(st, "c", &c)) < 0)
					goto oom;
				if (!(o = cJSON_GetObjectItemCaseSensitive(c, key)) &&
				    !(o = cJSON_AddObjectToObject(c, key))) {
					rc = MS_ENOMEM;
					goto oom;
				}
				cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
				if (st->fields.len)
					(void)ms_buf_adds(&st->fields, ", ");
				(void)ms_buf_adds(&st->fields, label);
			}
		}
		if (new_cd >= 0) {
			CHECK("COLUMNS_V2.COLUMN_NAME", jstr(v, "Name"));
			CHECK("COLUMNS_V2.COMMENT", jstr(v, "Comment"));
			PL(&w->cols, new_cd);
			P(&w->cols, jstr(v, "Name"));
			P(&w->cols, jstr(v, "Type"));
			P(&w->cols, jstr(v, "Comment"));
			PL(&w->cols, idx);
			if ((rc = sdw_row(w, &w->cols, err)) < 0)
				goto done;
		}
		idx++;
	}
	CHECK("SDS.INPUT_FORMAT", jstr(sd, "InputFormat"));
	CHECK("SDS.OUTPUT_FORMAT", jstr(sd, "OutputFormat"));
	CHECK("SDS.LOCATION", jstr(sd, "Location"));
	PL(&w->sds, sd_id);
	P(&w->sds, jstr(sd, "InputFormat"));
	P(&w->sds, cJSON_IsTrue(jget(sd, "Compressed")) ? "1" : "0");
	P(&w->sds, jstr(sd, "Location"));
	PL(&w->sds, num(jget(sd, "NumberOfBuckets"), -1));
	P(&w->sds, jstr(sd, "OutputFormat"));
	if (se)
		PL(&w->sds, serde_id);
	else
		P(&w->sds, NULL);
	if (cd_id >= 0)
		PL(&w->sds, cd_id);
	else
		P(&w->sds, NULL);
	P(&w->sds, cJSON_IsTrue(jget(sd, "StoredAsSubDirectories")) ? "1" : "0");
	if ((rc = sdw_row(w, &w->sds, err)) < 0)
		goto done;
	cJSON_ArrayForEach(v, jget(sd, "Parameters"))
	{
		CHECK("SD_PARAMS.PARAM_KEY", v->string);
		PL(&w->sd_params, sd_id);
		P(&w->sd_params, v->string);
		P(&w->sd_params, cJSON_IsString(v) ? v->valuestring : NULL);
		if ((rc = sdw_row(w, &w->sd_params, err)) < 0)
			goto done;
	}
	idx = 0;
	cJSON_ArrayForEach(v, jget(sd, "BucketColumns"))
	{
		CHECK("BUCKETING_COLS.BUCKET_COL_NAME", v->valuestring);
		PL(&w->bucket, sd_id);
		P(&w->bucket, cJSON_IsString(v) ? v->valuestring : NULL);
		PL(&w->bucket, idx++);
		if ((rc = sdw_row(w, &w->bucket, err)) < 0)
			goto done;
	}
	idx = 0;
	cJSON_ArrayForEach(v, jget(sd, "SortColumns"))
	{
		CHECK("SORT_COLS.COLUMN_NAME", jstr(v, "Column"));
		PL(&w->sort, sd_id);
		P(&w->sort, jstr(v, "Column"));
		PL(&w->sort, num(jget(v, "SortOrder"), 0));
		PL(&w->sort, idx++);
		if ((rc = sdw_row(w, &w->sort, err)) < 0)
			goto done;
	}
	if (sk) {
		const cJSON *vals = jget(sk, "SkewedColumnValues"), *maps = jget(sk,
				"SkewedColumnValueLocationMaps");
		static const char *const sub[] = { "SkewedColumnNames", "SkewedColumnValues",
						   "SkewedColumnValueLocationMaps", NULL };
		const char *const *sp;
		char path[64];

		if (empty_container(sk) && (rc = stash_default(st, "S.SkewedInfo")) < 0)
			goto oom;
		for (sp = sub; *sp; sp++) {
			snprintf(path, sizeof(path), "K.%s", *sp);
			if (empty_container(jget(sk, *sp)) && (rc = stash_default(st, path)) < 0)
				goto oom;
		}
		cJSON_ArrayForEach(f, sk)
		{
			if (!in_list(skew_known, f->string) &&
			    (rc = stash_keep(st, "ki", f->string, f, "SkewedInfo field")) < 0)
				goto oom;
		}
		idx = 0;
		cJSON_ArrayForEach(v, jget(sk, "SkewedColumnNames"))
		{
			CHECK("SKEWED_COL_NAMES.SKEWED_COL_NAME", v->valuestring);
			PL(&w->skcols, sd_id);
			P(&w->skcols, cJSON_IsString(v) ? v->valuestring : NULL);
			PL(&w->skcols, idx++);
			if ((rc = sdw_row(w, &w->skcols, err)) < 0)
				goto done;
		}
		/* are all values Glue's encoding?  if not, keep them raw */
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
		if (raw && !cJSON_AddTrueToObject(st->o ? st->o : (st->o = cJSON_CreateObject()),
						  "sr")) {
			rc = MS_ENOMEM;
			goto oom;
		}
		{
			int li = 0, vi = 0;
			const cJSON *lists_src[2] = { vals, maps };
			int which;

			for (which = 0; which < 2; which++) {
				cJSON_ArrayForEach(v, lists_src[which])
				{
					const char *text = which == 0 ? v->valuestring : v->string;
					const char *starts[64];
					size_t lens[64], nn = 0, k;
					long long lid = lists[li++];

					if (!text)
						continue;
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
						rc = check(self, s,
							   "SKEWED_STRING_LIST_VALUES.STRING_LIST_VALUE",
							   val, err);
						if (rc == 0)
							rc = params_addll(&w->sklistv.p, lid);
						if (rc == 0) {
							/* the inserter owns val from here */
							if (w->sklistv.p.nowned == w->sklistv.p.owned_alloc) {
								size_t na = w->sklistv.p.owned_alloc * 2 + 16;
								char **no = realloc(w->sklistv.p.owned,
										    na * sizeof(*no));

								if (!no) {
									free(val);
									rc = MS_ENOMEM;
									goto oom;
								}
								w->sklistv.p.owned = no;
								w->sklistv.p.owned_alloc = na;
							}
							w->sklistv.p.owned[w->sklistv.p.nowned++] = val;
							rc = params_add(&w->sklistv.p, val);
						} else {
							free(val);
						}
						if (rc == MS_ENOMEM)
							goto oom;
						if (rc < 0)
							goto done;
						PL(&w->sklistv, (long long)k);
						if ((rc = sdw_row(w, &w->sklistv, err)) < 0)
							goto done;
					}
					if (which == 0) {
						PL(&w->skvals, sd_id);
						PL(&w->skvals, lid);
						PL(&w->skvals, vi++);
						if ((rc = sdw_row(w, &w->skvals, err)) < 0)
							goto done;
					} else {
						CHECK("SKEWED_COL_VALUE_LOC_MAP.LOCATION",
						      v->valuestring);
						PL(&w->skmap, sd_id);
						PL(&w->skmap, lid);
						P(&w->skmap, cJSON_IsString(v) ? v->valuestring : NULL);
						if ((rc = sdw_row(w, &w->skmap, err)) < 0)
							goto done;
					}
				}
			}
		}
	}
	return 0;
oom:
	if (rc == MS_ENOMEM || rc == MS_ETOOBIG)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	return rc;
}

/* How many skew string lists an SD needs. */
static size_t sd_lists(const cJSON *sd)
{
	const cJSON *sk = jget(sd, "SkewedInfo");

	return (size_t)cJSON_GetArraySize(jget(sk, "SkewedColumnValues")) +
	       (size_t)cJSON_GetArraySize(jget(sk, "SkewedColumnValueLocationMaps"));
}

/* ---- transactions ------------------------------------------------------- */

static void ahead_stop(hms_catalog *self);

static int call_begin(hms_catalog *self, ms_error *err)
{
	if (self->in_txn)
		return q(self, "SAVEPOINT ms_call", NULL, 0, NULL, NULL, err);
	return self->conn->ops->begin(self->conn, err);
}

static int call_end(hms_catalog *self, int rc, ms_error *err)
{
	ms_error ignored;

	if (rc == 0) {
		rc = self->in_txn ? q(self, "RELEASE SAVEPOINT ms_call", NULL, 0, NULL, NULL, err)
				  : self->conn->ops->commit(self->conn, err);
		if (rc == 0)
			return 0;
	}
	if (self->in_txn)
		q(self, "ROLLBACK TO SAVEPOINT ms_call", NULL, 0, NULL, NULL, &ignored);
	else
		self->conn->ops->rollback(self->conn, &ignored);
	return rc;
}

static int hms_begin(ms_catalog *cat, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	int rc;

	if (self->in_txn)
		return ms_error_set(err, MS_EINVAL, "a transaction is already open on '%s'",
				    cat->url);
	if ((rc = self->conn->ops->begin(self->conn, err)) == 0)
		self->in_txn = 1;
	return rc;
}

/*
 * Lock the DBS row of db, or the TBLS row of db.table, until the transaction
 * ends (SELECT ... FOR UPDATE; one table's row only, so that writers of other
 * tables of the database go on).  A missing row locks nothing: the unique
 * keys of DBS and TBLS then turn a concurrent create into MS_ECONFLICT.
 */
static int hms_lock(ms_catalog *cat, const char *db, const char *table, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1], idb[32];
	const char *p[2];
	long long id;
	int rc;

	if (!self->in_txn)
		return ms_error_set(err, MS_EINVAL, "no transaction is open on '%s' to lock in",
				    cat->url);
	if ((rc = fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (table && (rc = fold(tn, sizeof(tn), table, "table", err)) < 0))
		return rc;
	if (!table) {
		p[0] = dn;
		p[1] = self->ctlg;
		return storable(self, dn) ?
			       q(self,
				 "SELECT \"DB_ID\" FROM \"DBS\" WHERE \"NAME\" = ? AND "
				 "\"CTLG_NAME\" = ? FOR UPDATE",
				 p, 2, NULL, NULL, err) :
			       0;
	}
	if ((rc = db_id(self, dn, &id, 0, err)) < 0 || id < 0 || !storable(self, tn))
		return rc;
	snprintf(idb, sizeof(idb), "%lld", id);
	p[0] = idb;
	p[1] = tn;
	return q(self,
		 "SELECT \"TBL_ID\" FROM \"TBLS\" WHERE \"DB_ID\" = ? AND \"TBL_NAME\" = ? "
		 "FOR UPDATE",
		 p, 2, NULL, NULL, err);
}

/*
 * One point in time for every read until read_end: a read-only transaction
 * on the main connection (REPEATABLE READ; InnoDB's consistent snapshot).
 * PostgreSQL exports it, and the read-ahead connection imports it before it
 * reads; MySQL cannot share it, so its scans read on the main connection.
 */
static int hms_read_begin(ms_catalog *cat, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	int rc;

	if (self->in_txn || self->reading)
		return ms_error_set(err, MS_EINVAL, "a transaction is already open on '%s'",
				    cat->url);
	ahead_stop(self);
	if ((rc = self->conn->ops->begin_read(self->conn, NULL, &self->read_share, err)) < 0)
		return rc;
	self->reading = 1;
	return 0;
}

static void hms_read_end(ms_catalog *cat)
{
	hms_catalog *self = (hms_catalog *)cat;
	ms_error ignored;

	if (!self->reading)
		return;
	ahead_stop(self);
	if (self->scan_reading && self->scanconn)
		self->scanconn->ops->commit(self->scanconn, &ignored);
	self->scan_reading = 0;
	self->conn->ops->commit(self->conn, &ignored);
	self->reading = 0;
	free(self->read_share);
	self->read_share = NULL;
}

static int hms_commit(ms_catalog *cat, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;

	if (!self->in_txn)
		return ms_error_set(err, MS_EINVAL, "no transaction is open on '%s'", cat->url);
	self->in_txn = 0;
	return self->conn->ops->commit(self->conn, err);
}

static int hms_rollback(ms_catalog *cat, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;

	if (!self->in_txn)
		return ms_error_set(err, MS_EINVAL, "no transaction is open on '%s'", cat->url);
	self->in_txn = 0;
	return self->conn->ops->rollback(self->conn, err);
}

/* ---- databases ---------------------------------------------------------- */

static int list_col(hms_catalog *self, const char *sql, const char *const *p, size_t n,
		    ms_name_cb cb, void *ctx, ms_error *err)
{
	rowset rs = { 0 };
	size_t i;
	int rc = q(self, sql, p, n, &rs, NULL, err);

	for (i = 0; rc == 0 && i < rs.nrows; i++)
		if (CELL(&rs, i, 0))
			rc = cb(CELL(&rs, i, 0), ctx, err);
	rowset_free(&rs);
	return rc;
}

static int hms_list_databases(ms_catalog *cat, ms_name_cb cb, void *ctx, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	const char *p[1] = { self->ctlg };

	return list_col(self, "SELECT \"NAME\" FROM \"DBS\" WHERE \"CTLG_NAME\" = ? ORDER BY \"NAME\"",
			p, 1, cb, ctx, err);
}

/* Read a params table (id, key, value) into obj. */
static int read_params(hms_catalog *self, const char *sql, const char *id, cJSON *obj,
		       ms_error *err)
{
	rowset rs = { 0 };
	size_t i;
	const char *p[1] = { id };
	int rc = q(self, sql, p, 1, &rs, NULL, err);
	for (i = 0; rc == 0 && i < rs.nrows; i++)
		if (jadd_str(obj, CELL(&rs, i, 0), CELL(&rs, i, 1) ? CELL(&rs, i, 1) : "") < 0)
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	rowset_free(&rs);
	return rc;
}

static int hms_get_database(ms_catalog *cat, const char *name, ms_entity **out, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char n[MS_NAME_MAX * 4 + 1];
	const char *p[2];
	rowset rs = { 0 };
	cJSON *doc = NULL, *params;
	int rc;

	if ((rc = fold(n, sizeof(n), name, "database", err)) < 0)
		return rc;
	p[0] = n;
	p[1] = self->ctlg;
	if (!storable(self, n))
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", n,
				    cat->url);
	if ((rc = q(self,
		    "SELECT \"DB_ID\", \"DESC\", \"DB_LOCATION_URI\" FROM \"DBS\" WHERE \"NAME\" = ? "
		    "AND \"CTLG_NAME\" = ?",
		    p, 2, &rs, NULL, err)) < 0)
		return rc;
	if (!rs.nrows) {
		rowset_free(&rs);
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", n,
				    cat->url);
	}
	if (!(doc = cJSON_CreateObject()) || !cJSON_AddStringToObject(doc, "Name", n) ||
	    jadd_str(doc, "Description", CELL(&rs, 0, 1)) < 0 ||
	    jadd_str(doc, "LocationUri", CELL(&rs, 0, 2)) < 0 ||
	    !(params = cJSON_AddObjectToObject(doc, "Parameters"))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = read_params(self,
			      "SELECT \"PARAM_KEY\", \"PARAM_VALUE\" FROM \"DATABASE_PARAMS\" WHERE "
			      "\"DB_ID\" = ?",
			      CELL(&rs, 0, 0), params, err)) < 0)
		goto done;
	rc = finish_entity(self, out, MS_KIND_DATABASE, doc, take_stash(doc), NULL, NULL, err);
	doc = NULL;
done:
	cJSON_Delete(doc);
	rowset_free(&rs);
	return rc;
}

/* Stash text for a params table, or NULL when there is nothing to keep. */
static int stash_text(stash *st, char **out)
{
	*out = NULL;
	if (!st->o)
		return 0;
	if (!(*out = cJSON_PrintUnformatted(st->o)))
		return MS_ENOMEM;
	return 0;
}

/* Insert a Parameters object (and the stash) into a (id, key, value) params table. */
static int write_params(hms_catalog *self, const subject *s, const char *table, long long id,
			const cJSON *params, const char *stash_value, ms_error *err)
{
	const char *c[3] = { NULL, "PARAM_KEY", "PARAM_VALUE" };
	char kcol[64], vcol[64];
	inserter in;
	const cJSON *v;
	int rc = 0;

	c[0] = strcmp(table, "DATABASE_PARAMS") == 0 ? "DB_ID"
	       : strcmp(table, "TABLE_PARAMS") == 0  ? "TBL_ID"
						     : "PART_ID";
	snprintf(kcol, sizeof(kcol), "%s.PARAM_KEY", table);
	snprintf(vcol, sizeof(vcol), "%s.PARAM_VALUE", table);
	ins_init(&in, self, table, c, NULL, 3);
	cJSON_ArrayForEach(v, params)
	{
		if (strcmp(v->string, HMS_STASH) == 0)
			continue;
		CHECK(kcol, v->string);
		CHECK(vcol, cJSON_IsString(v) ? v->valuestring : NULL);
		PL(&in, id);
		P(&in, v->string);
		P(&in, cJSON_IsString(v) ? v->valuestring : NULL);
		if ((rc = ins_row(&in, err)) < 0)
			goto done;
	}
	if (stash_value) {
		CHECK(vcol, stash_value);
		PL(&in, id);
		P(&in, HMS_STASH);
		P(&in, stash_value);
		if ((rc = ins_row(&in, err)) < 0)
			goto done;
	}
	rc = ins_flush(&in, err);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	ins_free(&in);
	return rc;
}

static int hms_put_database(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	static const char *const known[] = { "Name", "Description", "LocationUri", "Parameters",
					     "CreateTime", "CatalogId", NULL };
	hms_catalog *self = (hms_catalog *)cat;
	subject subj = { MS_KIND_DATABASE, NULL, NULL, NULL }, *s = &subj;
	stash st = { NULL, MS_BUF_INIT(4096) };
	char idb[32], *stext = NULL;
	const char *p[5];
	const cJSON *f;
	long long id;
	int rc, began = 0;

	if (!e || e->kind != MS_KIND_DATABASE || !cJSON_IsObject(e->doc))
		return ms_error_set(err, MS_EINVAL, "entity given to put_database is not a database");
	subj.db = e->database;
	cJSON_ArrayForEach(f, e->doc)
	{
		if (!in_list(known, f->string) &&
		    (rc = stash_keep(&st, "x", f->string, f, f->string)) < 0)
			goto oom;
	}
	if ((jget(e->doc, "LocationUri") && !*(jstr(e->doc, "LocationUri") ? jstr(e->doc, "LocationUri") : "x") &&
	     (rc = stash_default(&st, "LocationUri")) < 0) ||
	    (empty_container(jget(e->doc, "Parameters")) &&
	     (rc = stash_default(&st, "Parameters")) < 0) ||
	    (rc = stash_text(&st, &stext)) < 0)
		goto oom;
	CHECK("DBS.NAME", e->database);
	CHECK("DBS.DESC", jstr(e->doc, "Description"));
	CHECK("DBS.DB_LOCATION_URI", jstr(e->doc, "LocationUri"));
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = db_id(self, e->database, &id, 0, err)) < 0)
		goto done;
	if (id < 0) {
		if ((rc = reserve_ids(self, MODEL "MDatabase", "DBS", "DB_ID", 1, &id, err)) < 0)
			goto done;
		snprintf(idb, sizeof(idb), "%lld", id);
		p[0] = idb;
		p[1] = jstr(e->doc, "Description");
		p[2] = jstr(e->doc, "LocationUri") ? jstr(e->doc, "LocationUri") : "";
		p[3] = e->database;
		p[4] = self->ctlg;
		rc = q(self,
		       "INSERT INTO \"DBS\" (\"DB_ID\", \"DESC\", \"DB_LOCATION_URI\", \"NAME\", "
		       "\"CTLG_NAME\") VALUES (?, ?, ?, ?, ?)",
		       p, 5, NULL, NULL, err);
	} else {
		snprintf(idb, sizeof(idb), "%lld", id);
		p[0] = jstr(e->doc, "Description");
		p[1] = jstr(e->doc, "LocationUri") ? jstr(e->doc, "LocationUri") : "";
		p[2] = idb;
		rc = q(self,
		       "UPDATE \"DBS\" SET \"DESC\" = ?, \"DB_LOCATION_URI\" = ? WHERE \"DB_ID\" = ?",
		       p, 3, NULL, NULL, err);
		if (rc == 0)
			rc = q1(self, "DELETE FROM \"DATABASE_PARAMS\" WHERE \"DB_ID\" = ?", idb, err);
	}
	if (rc < 0)
		goto done;
	if ((rc = write_params(self, s, "DATABASE_PARAMS", id, jget(e->doc, "Parameters"), stext,
			       err)) < 0)
		goto done;
	if (st.fields.len)
		warn(self, s, st.fields.ptr);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	if (began)
		rc = call_end(self, rc, err);
	free(stext);
	stash_free(&st);
	return rc;
}

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
		if ((rc = q_in(self, part_children[i], NULL, NULL, 0, parts, NULL, err)) < 0)
			return rc;
	return delete_sds(self, sds, err);
}

/* Delete every partition of a table, in batches. */
static int delete_all_parts(hms_catalog *self, long long tbl, ms_error *err)
{
	char idb[32];
	const char *p[1] = { idb };
	int rc = 0;

	snprintf(idb, sizeof(idb), "%lld", tbl);
	for (;;) {
		rowset rs = { 0 };
		idlist parts = { 0 }, sds = { 0 };
		size_t i;

		if ((rc = q(self,
			    "SELECT \"PART_ID\", \"SD_ID\" FROM \"PARTITIONS\" WHERE \"TBL_ID\" = ? "
			    "ORDER BY \"PART_ID\" LIMIT 1000",
			    p, 1, &rs, NULL, err)) < 0)
			return rc;
		for (i = 0; i < rs.nrows; i++) {
			if (idlist_add(&parts, strtoll(CELL(&rs, i, 0), NULL, 10)) < 0 ||
			    (CELL(&rs, i, 1) &&
			     idlist_add(&sds, strtoll(CELL(&rs, i, 1), NULL, 10)) < 0)) {
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
				break;
			}
		}
		i = rs.nrows;
		rowset_free(&rs);
		if (rc == 0 && parts.n)
			rc = delete_parts(self, &parts, &sds, err);
		free(parts.v);
		free(sds.v);
		if (rc < 0 || i < 1000)
			return rc;
	}
}

static int delete_table_by_id(hms_catalog *self, const tblinfo *t, ms_error *err)
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

	if ((rc = delete_all_parts(self, t->id, err)) < 0)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", t->id);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if ((rc = q1(self, steps[i], idb, err)) < 0)
			return rc;
	if (t->sd >= 0) {
		if (idlist_add(&sds, t->sd) < 0)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		rc = delete_sds(self, &sds, err);
		free(sds.v);
	}
	return rc;
}

static int hms_delete_database(ms_catalog *cat, const char *name, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char n[MS_NAME_MAX * 4 + 1], idb[32];
	const char *p[1] = { idb };
	rowset rs = { 0 };
	long long id;
	size_t i;
	int rc, began = 0;

	if ((rc = fold(n, sizeof(n), name, "database", err)) < 0)
		return rc;
	if ((rc = call_begin(self, err)) < 0)
		return rc;
	began = 1;
	if ((rc = db_id(self, n, &id, 1, err)) < 0)
		goto done;
	snprintf(idb, sizeof(idb), "%lld", id);
	if ((rc = q(self,
		    "SELECT t.\"TBL_ID\", t.\"SD_ID\" FROM \"TBLS\" t WHERE t.\"DB_ID\" = ?", p, 1,
		    &rs, NULL, err)) < 0)
		goto done;
	for (i = 0; i < rs.nrows && rc == 0; i++) {
		tblinfo t = { 0 };

		t.id = strtoll(CELL(&rs, i, 0), NULL, 10);
		t.sd = CELL(&rs, i, 1) ? strtoll(CELL(&rs, i, 1), NULL, 10) : -1;
		rc = delete_table_by_id(self, &t, err);
	}
	if (rc < 0)
		goto done;
	if ((rc = q1(self, "DELETE FROM \"DATABASE_PARAMS\" WHERE \"DB_ID\" = ?", idb, err)) < 0 ||
	    (rc = q1(self, "DELETE FROM \"DB_PRIVS\" WHERE \"DB_ID\" = ?", idb, err)) < 0 ||
	    (rc = q1(self, "DELETE FROM \"DBS\" WHERE \"DB_ID\" = ?", idb, err)) < 0)
		goto done;
done:
	rowset_free(&rs);
	if (began)
		rc = call_end(self, rc, err);
	return rc;
}

/* ---- tables ------------------------------------------------------------- */

static int hms_list_tables(ms_catalog *cat, const char *db, ms_name_cb cb, void *ctx,
			   ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char n[MS_NAME_MAX * 4 + 1], idb[32];
	const char *p[1] = { idb };
	long long id;
	int rc;

	if ((rc = fold(n, sizeof(n), db, "database", err)) < 0 ||
	    (rc = db_id(self, n, &id, 1, err)) < 0)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", id);
	return list_col(self,
			"SELECT \"TBL_NAME\" FROM \"TBLS\" WHERE \"DB_ID\" = ? ORDER BY \"TBL_NAME\"",
			p, 1, cb, ctx, err);
}

static int hms_get_table(ms_catalog *cat, const char *db, const char *name, ms_entity **out,
			 ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1];
	const char *p[3];
	rowset rs = { 0 };
	sdrows sf = { 0 };
	sdread sr = { 0 };
	cJSON *doc = NULL, *params, *st, *keys;
	size_t i;
	int rc;

	if ((rc = fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (rc = fold(tn, sizeof(tn), name, "table", err)) < 0)
		return rc;
	p[0] = dn;
	p[1] = self->ctlg;
	p[2] = tn;
	if (storable(self, dn) && storable(self, tn) &&
	    (rc = q(self,
		    "SELECT t.\"TBL_ID\", t.\"CREATE_TIME\", t.\"LAST_ACCESS_TIME\", t.\"OWNER\", "
		    "t.\"RETENTION\", t.\"SD_ID\", t.\"TBL_TYPE\", t.\"VIEW_EXPANDED_TEXT\", "
		    "t.\"VIEW_ORIGINAL_TEXT\" FROM \"TBLS\" t JOIN \"DBS\" d ON d.\"DB_ID\" = "
		    "t.\"DB_ID\" WHERE d.\"NAME\" = ? AND d.\"CTLG_NAME\" = ? AND t.\"TBL_NAME\" = ?",
		    p, 3, &rs, NULL, err)) < 0)
		return rc;
	if (!rs.nrows) {
		long long dbid;

		rowset_free(&rs);
		if ((rc = db_id(self, dn, &dbid, 1, err)) < 0)
			return rc;
		return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", dn, tn,
				    cat->url);
	}
	if (!(doc = cJSON_CreateObject()) || !cJSON_AddStringToObject(doc, "Name", tn) ||
	    !cJSON_AddStringToObject(doc, "DatabaseName", dn) ||
	    jadd_num(doc, "CreateTime", CELL(&rs, 0, 1)) < 0 ||
	    jadd_num(doc, "LastAccessTime", CELL(&rs, 0, 2)) < 0 ||
	    jadd_str(doc, "Owner", CELL(&rs, 0, 3)) < 0 ||
	    jadd_num(doc, "Retention", CELL(&rs, 0, 4)) < 0 ||
	    jadd_str(doc, "TableType", CELL(&rs, 0, 6)) < 0 ||
	    jadd_str(doc, "ViewExpandedText", CELL(&rs, 0, 7)) < 0 ||
	    jadd_str(doc, "ViewOriginalText", CELL(&rs, 0, 8)) < 0 ||
	    !(params = cJSON_AddObjectToObject(doc, "Parameters")) ||
	    !(keys = cJSON_AddArrayToObject(doc, "PartitionKeys")))
		goto oom;
	if ((rc = read_params(self,
			      "SELECT \"PARAM_KEY\", \"PARAM_VALUE\" FROM \"TABLE_PARAMS\" WHERE "
			      "\"TBL_ID\" = ?",
			      CELL(&rs, 0, 0), params, err)) < 0)
		goto done;
	{
		rowset ks = { 0 };
		const char *kp[1] = { CELL(&rs, 0, 0) };

		if ((rc = q(self,
			    "SELECT \"PKEY_NAME\", \"PKEY_TYPE\", \"PKEY_COMMENT\" FROM "
			    "\"PARTITION_KEYS\" WHERE \"TBL_ID\" = ? ORDER BY \"INTEGER_IDX\"",
			    kp, 1, &ks, NULL, err)) < 0)
			goto done;
		for (i = 0; i < ks.nrows; i++) {
			cJSON *c = cJSON_CreateObject();

			if (!c) {
				rowset_free(&ks);
				goto oom;
			}
			cJSON_AddItemToArray(keys, c);
			if (jadd_str(c, "Name", CELL(&ks, i, 0)) < 0 ||
			    jadd_str(c, "Type", CELL(&ks, i, 1)) < 0 ||
			    jadd_str(c, "Comment", CELL(&ks, i, 2)) < 0) {
				rowset_free(&ks);
				goto oom;
			}
		}
		rowset_free(&ks);
	}
	st = take_stash(doc);
	if (CELL(&rs, 0, 5)) {
		if (idlist_add(&sf.ids, strtoll(CELL(&rs, 0, 5), NULL, 10)) < 0) {
			cJSON_Delete(st);
			goto oom;
		}
		if ((rc = fetch_sds(self, &sf, err)) < 0 || (rc = build_sds(&sf, &sr, err)) < 0) {
			cJSON_Delete(st);
			goto done;
		}
		if (sr.sd[0]) {
			finish_sd(doc, sr.sd[0], sr.skew_values[0], sr.skew_maps[0], st);
			sr.sd[0] = sr.skew_values[0] = sr.skew_maps[0] = NULL;
		}
	}
	rc = finish_entity(self, out, MS_KIND_TABLE, doc, st, dn, NULL, err);
	doc = NULL;
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	cJSON_Delete(doc);
	sdread_free(&sr);
	sdrows_free(&sf);
	rowset_free(&rs);
	return rc;
}

static int hms_put_table(ms_catalog *cat, const ms_entity *e, ms_error *err)
{
	static const char *const known[] = { "Name", "DatabaseName", "Owner", "CreateTime",
					     "LastAccessTime", "Retention", "StorageDescriptor",
					     "PartitionKeys", "ViewOriginalText", "ViewExpandedText",
					     "TableType", "Parameters", "UpdateTime", "VersionId",
					     "CatalogId", "CreatedBy", "IsRegisteredWithLakeFormation",
					     NULL };
	static const char *const key_cols[] = { "TBL_ID", "PKEY_NAME", "PKEY_TYPE", "PKEY_COMMENT",
						"INTEGER_IDX" };
	hms_catalog *self = (hms_catalog *)cat;
	subject subj = { MS_KIND_TABLE, NULL, NULL, NULL }, *s = &subj;
	stash st = { NULL, MS_BUF_INIT(4096) };
	const cJSON *f, *sd = NULL, *v;
	char idb[32], sdb[32], dbb[32], ctb[32], lab[32], retb[32], *stext = NULL;
	const char *p[12];
	tblinfo t = { 0 };
	cJSON *params = NULL;
	sdwriter w;
	inserter keys;
	long long dbid, tid, sd_id = -1, serde_id = -1, cd_id = -1, lists = 0, *list_ids = NULL;
	size_t nl = 0, i;
	int rc, began = 0, idx;

	sdw_init(&w, self);
	ins_init(&keys, self, "PARTITION_KEYS", key_cols, NULL, 5);
	if (!e || e->kind != MS_KIND_TABLE || !cJSON_IsObject(e->doc)) {
		rc = ms_error_set(err, MS_EINVAL, "entity given to put_table is not a table");
		goto done;
	}
	subj.db = e->database;
	subj.table = e->table;
	sd = jget(e->doc, "StorageDescriptor");
	if (sd && !cJSON_IsObject(sd))
		sd = NULL;
	cJSON_ArrayForEach(f, e->doc)
	{
		if (!in_list(known, f->string) &&
		    (rc = stash_keep(&st, "x", f->string, f, f->string)) < 0)
			goto oom;
	}
	if ((cJSON_IsNumber(jget(e->doc, "Retention")) && num(jget(e->doc, "Retention"), 0) == 0 &&
	     (rc = stash_default(&st, "Retention")) < 0) ||
	    (cJSON_IsNumber(jget(e->doc, "LastAccessTime")) &&
	     num(jget(e->doc, "LastAccessTime"), 0) == 0 &&
	     (rc = stash_default(&st, "LastAccessTime")) < 0) ||
	    (empty_container(jget(e->doc, "Parameters")) &&
	     (rc = stash_default(&st, "Parameters")) < 0) ||
	    (empty_container(jget(e->doc, "PartitionKeys")) &&
	     (rc = stash_default(&st, "PartitionKeys")) < 0))
		goto oom;
	idx = 0;
	cJSON_ArrayForEach(v, jget(e->doc, "PartitionKeys"))
	{
		cJSON_ArrayForEach(f, v)
		{
			if (strcmp(f->string, "Name") && strcmp(f->string, "Type") &&
			    strcmp(f->string, "Comment")) {
				char key[16], label[MS_NAME_MAX + 64];
				cJSON *c, *o;

				snprintf(key, sizeof(key), "%d", idx);
				snprintf(label, sizeof(label), "PartitionKeys[%d].%s", idx, f->string);
				if ((rc = stash_obj(&st, "k", &c)) < 0)
					goto oom;
				if (!(o = cJSON_GetObjectItemCaseSensitive(c, key)) &&
				    !(o = cJSON_AddObjectToObject(c, key)))
					goto oom;
				cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
				if (st.fields.len)
					(void)ms_buf_adds(&st.fields, ", ");
				(void)ms_buf_adds(&st.fields, label);
			}
		}
		idx++;
	}
	CHECK("TBLS.TBL_NAME", e->table);
	CHECK("TBLS.OWNER", jstr(e->doc, "Owner"));
	CHECK("TBLS.TBL_TYPE", jstr(e->doc, "TableType"));

	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = db_id(self, e->database, &dbid, 1, err)) < 0 ||
	    (rc = tbl_find(self, e->database, e->table, 0, 0, &t, err)) < 0)
		goto done;
	if (sd) {
		nl = sd_lists(sd);
		if ((rc = reserve_ids(self, MODEL "MStorageDescriptor", "SDS", "SD_ID", 1, &sd_id,
				      err)) < 0 ||
		    (jget(sd, "SerdeInfo") &&
		     (rc = reserve_ids(self, MODEL "MSerDeInfo", "SERDES", "SERDE_ID", 1, &serde_id,
				       err)) < 0) ||
		    (jget(sd, "Columns") &&
		     (rc = reserve_ids(self, MODEL "MColumnDescriptor", "CDS", "CD_ID", 1, &cd_id,
				       err)) < 0) ||
		    (nl && (rc = reserve_ids(self, MODEL "MStringList", "SKEWED_STRING_LIST",
					     "STRING_LIST_ID", nl, &lists, err)) < 0))
			goto done;
		if (nl && !(list_ids = calloc(nl, sizeof(*list_ids))))
			goto oom;
		for (i = 0; i < nl; i++)
			list_ids[i] = lists + (long long)i;
		if ((rc = write_sd(self, &w, s, sd, sd_id, serde_id, -1, cd_id, list_ids, &st, err)) <
			    0 ||
		    (rc = sdw_flush(&w, err)) < 0)
			goto done;
	}
	/* what Hive's tools expect: EXTERNAL=TRUE on external tables, transient_lastDdlTime */
	{
		const cJSON *given = jget(e->doc, "Parameters");
		const char *type = jstr(e->doc, "TableType");
		char now[32];
		cJSON *a;

		if (!(params = given ? cJSON_Duplicate(given, 1) : cJSON_CreateObject()))
			goto oom;
		snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
		if (((type && strcmp(type, "EXTERNAL_TABLE") == 0 && !jget(params, "EXTERNAL") &&
		      (!cJSON_AddStringToObject(params, "EXTERNAL", "TRUE") ||
		       (rc = stash_obj(&st, "a", &a)) < 0 || !cJSON_AddStringToObject(a, "EXTERNAL", "TRUE"))) ||
		     (!jget(params, "transient_lastDdlTime") &&
		      (!cJSON_AddStringToObject(params, "transient_lastDdlTime", now) ||
		       (rc = stash_obj(&st, "a", &a)) < 0 ||
		       !cJSON_AddStringToObject(a, "transient_lastDdlTime", now)))))
			goto oom;
	}
	if ((rc = stash_text(&st, &stext)) < 0)
		goto oom;
	if (t.id < 0) {
		if ((rc = reserve_ids(self, MODEL "MTable", "TBLS", "TBL_ID", 1, &tid, err)) < 0)
			goto done;
	} else {
		tid = t.id;
		if ((rc = q1(self, "DELETE FROM \"TABLE_PARAMS\" WHERE \"TBL_ID\" = ?",
			     (snprintf(idb, sizeof(idb), "%lld", tid), idb), err)) < 0 ||
		    (rc = q1(self, "DELETE FROM \"PARTITION_KEYS\" WHERE \"TBL_ID\" = ?", idb,
			     err)) < 0)
			goto done;
	}
	snprintf(idb, sizeof(idb), "%lld", tid);
	snprintf(sdb, sizeof(sdb), "%lld", sd_id);
	snprintf(dbb, sizeof(dbb), "%lld", dbid);
	snprintf(ctb, sizeof(ctb), "%lld",
		 t.id >= 0 ? t.create : num(jget(e->doc, "CreateTime"), (long long)time(NULL)));
	snprintf(lab, sizeof(lab), "%lld", num(jget(e->doc, "LastAccessTime"), 0));
	snprintf(retb, sizeof(retb), "%lld", num(jget(e->doc, "Retention"), 0));
	p[0] = ctb;
	p[1] = dbb;
	p[2] = lab;
	p[3] = jstr(e->doc, "Owner");
	p[4] = retb;
	p[5] = sd ? sdb : NULL;
	p[6] = e->table;
	p[7] = jstr(e->doc, "TableType");
	p[8] = jstr(e->doc, "ViewExpandedText");
	p[9] = jstr(e->doc, "ViewOriginalText");
	p[10] = idb;
	p[11] = jstr(e->doc, "Owner") ? "USER" : NULL;
	if (t.id < 0)
		rc = q(self,
		       "INSERT INTO \"TBLS\" (\"CREATE_TIME\", \"DB_ID\", \"LAST_ACCESS_TIME\", "
		       "\"OWNER\", \"RETENTION\", \"SD_ID\", \"TBL_NAME\", \"TBL_TYPE\", "
		       "\"VIEW_EXPANDED_TEXT\", \"VIEW_ORIGINAL_TEXT\", \"TBL_ID\", \"OWNER_TYPE\", "
		       "\"IS_REWRITE_ENABLED\") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (1 = 0))",
		       p, 12, NULL, NULL, err);
	else
		rc = q(self,
		       "UPDATE \"TBLS\" SET \"CREATE_TIME\" = ?, \"DB_ID\" = ?, "
		       "\"LAST_ACCESS_TIME\" = ?, \"OWNER\" = ?, \"RETENTION\" = ?, \"SD_ID\" = ?, "
		       "\"TBL_NAME\" = ?, \"TBL_TYPE\" = ?, \"VIEW_EXPANDED_TEXT\" = ?, "
		       "\"VIEW_ORIGINAL_TEXT\" = ? WHERE \"TBL_ID\" = ?",
		       p, 11, NULL, NULL, err);
	if (rc < 0)
		goto done;
	if (t.id >= 0 && t.sd >= 0) {
		idlist old = { 0 };

		if (idlist_add(&old, t.sd) < 0)
			goto oom;
		rc = delete_sds(self, &old, err);
		free(old.v);
		if (rc < 0)
			goto done;
	}
	idx = 0;
	cJSON_ArrayForEach(v, jget(e->doc, "PartitionKeys"))
	{
		CHECK("PARTITION_KEYS.PKEY_NAME", jstr(v, "Name"));
		CHECK("PARTITION_KEYS.PKEY_TYPE", jstr(v, "Type"));
		CHECK("PARTITION_KEYS.PKEY_COMMENT", jstr(v, "Comment"));
		PL(&keys, tid);
		P(&keys, jstr(v, "Name"));
		P(&keys, jstr(v, "Type") ? jstr(v, "Type") : "");
		P(&keys, jstr(v, "Comment"));
		PL(&keys, idx++);
		if ((rc = ins_row(&keys, err)) < 0)
			goto done;
	}
	if ((rc = ins_flush(&keys, err)) < 0 ||
	    (rc = write_params(self, s, "TABLE_PARAMS", tid, params, stext, err)) < 0)
		goto done;
	if (st.fields.len)
		warn(self, s, st.fields.ptr);
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	if (began)
		rc = call_end(self, rc, err);
	tblinfo_free(&t);
	cJSON_Delete(params);
	sdw_free(&w);
	ins_free(&keys);
	free(list_ids);
	free(stext);
	stash_free(&st);
	return rc;
}

static int hms_delete_table(ms_catalog *cat, const char *db, const char *name, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1];
	tblinfo t;
	int rc, began = 0;

	if ((rc = fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (rc = fold(tn, sizeof(tn), name, "table", err)) < 0)
		return rc;
	if ((rc = call_begin(self, err)) < 0)
		return rc;
	began = 1;
	if ((rc = tbl_find(self, dn, tn, 1, 0, &t, err)) < 0)
		goto done;
	rc = delete_table_by_id(self, &t, err);
done:
	tblinfo_free(&t);
	if (began)
		rc = call_end(self, rc, err);
	return rc;
}

/* ---- partitions: reading ------------------------------------------------- */

/* The rows of a batch of partitions, fetched and not yet built. */
typedef struct partrows {
	rowset parts;      /* PART_ID, CREATE_TIME, LAST_ACCESS_TIME, SD_ID */
	idlist ids;        /* PART_IDs, sorted */
	rowset kv;         /* PART_ID, PART_KEY_VAL, in order */
	rowset pp;         /* PART_ID, PARAM_KEY, PARAM_VALUE */
	sdrows sd;
} partrows;

static void partrows_free(partrows *f)
{
	rowset_free(&f->parts);
	free(f->ids.v);
	rowset_free(&f->kv);
	rowset_free(&f->pp);
	sdrows_free(&f->sd);
	memset(f, 0, sizeof(*f));
}

/* Fetch what the partitions of f->parts (filled by the caller) need. */
static int fetch_parts(hms_catalog *self, partrows *f, ms_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < f->parts.nrows; i++)
		if (idlist_add(&f->ids, strtoll(CELL(&f->parts, i, 0), NULL, 10)) < 0 ||
		    (CELL(&f->parts, i, 3) &&
		     idlist_add(&f->sd.ids, strtoll(CELL(&f->parts, i, 3), NULL, 10)) < 0))
			return ms_error_set(err, MS_ENOMEM, "out of memory");
	idlist_unique(&f->ids);
	if ((rc = q_in(self,
		       "SELECT \"PART_ID\", \"PART_KEY_VAL\" FROM \"PARTITION_KEY_VALS\" WHERE "
		       "\"PART_ID\" IN ",
		       " ORDER BY \"PART_ID\", \"INTEGER_IDX\"", NULL, 0, &f->ids, &f->kv, err)) < 0 ||
	    (rc = q_in(self,
		       "SELECT \"PART_ID\", \"PARAM_KEY\", \"PARAM_VALUE\" FROM \"PARTITION_PARAMS\" "
		       "WHERE \"PART_ID\" IN ",
		       NULL, NULL, 0, &f->ids, &f->pp, err)) < 0)
		return rc;
	return fetch_sds(self, &f->sd, err);
}

/* The next batch of a table's partitions after PART_ID `after` (updated), fetched. */
static int fetch_batch(hms_catalog *self, const char *idb, char *after, size_t after_len,
		       partrows *f, ms_error *err)
{
	const char *p[2] = { idb, after };
	int rc;

	if ((rc = q(self,
		    "SELECT \"PART_ID\", \"CREATE_TIME\", \"LAST_ACCESS_TIME\", \"SD_ID\" FROM "
		    "\"PARTITIONS\" WHERE \"TBL_ID\" = ? AND \"PART_ID\" > ? ORDER BY "
		    "\"PART_ID\" LIMIT " HMS_SCAN_BATCH_TEXT,
		    p, 2, &f->parts, NULL, err)) < 0)
		return rc;
	if (f->parts.nrows)
		snprintf(after, after_len, "%s", CELL(&f->parts, f->parts.nrows - 1, 0));
	return fetch_parts(self, f, err);
}

/* Build the partitions of f and hand them to cb in row order. */
static int build_parts(hms_catalog *self, const char *db, const char *table, const partrows *f,
		       ms_entity_cb cb, void *ctx, ms_error *err)
{
	sdread sr = { 0 };
	cJSON **by_id = NULL;
	size_t *uses = NULL, i, n = f->parts.nrows;
	long long idx;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((rc = build_sds(&f->sd, &sr, err)) < 0)
		goto done;
	by_id = calloc(f->ids.n, sizeof(*by_id));
	uses = calloc(sr.ids.n + 1, sizeof(*uses));
	if (!by_id || !uses)
		goto oom;
	for (i = 0; i < f->ids.n; i++)
		if (!(by_id[i] = cJSON_CreateObject()) ||
		    !jlit(by_id[i], "Values", cJSON_CreateArray()) ||
		    !jlit(by_id[i], "Parameters", cJSON_CreateObject()))
			goto oom;
	for (i = 0; i < f->kv.nrows; i++) {
		cJSON *v;

		if ((idx = row_idx(&f->kv, i, &f->ids)) < 0)
			continue;
		if (!(v = cJSON_CreateString(CELL(&f->kv, i, 1) ? CELL(&f->kv, i, 1) : "")))
			goto oom;
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(by_id[idx], "Values"), v);
	}
	if (build_params(&f->pp, &f->ids, by_id) < 0)
		goto oom;
	/* how many partitions use each SD (one each, in Hive; a shared one is copied) */
	for (i = 0; i < n; i++)
		if (CELL(&f->parts, i, 3) && (idx = find_id(&sr.ids, strtoll(CELL(&f->parts, i, 3),
								      NULL, 10))) >= 0)
			uses[idx]++;
	for (i = 0; i < n && rc == 0; i++) {
		cJSON *doc, *st;
		ms_entity *e = NULL;

		idx = row_idx(&f->parts, i, &f->ids);
		doc = by_id[idx];
		by_id[idx] = NULL;
		if (!jlit(doc, "DatabaseName", cJSON_CreateString(db)) ||
		    !jlit(doc, "TableName", cJSON_CreateString(table)) ||
		    jlit_num(doc, "CreationTime", CELL(&f->parts, i, 1)) < 0 ||
		    jlit_num(doc, "LastAccessTime", CELL(&f->parts, i, 2)) < 0) {
			cJSON_Delete(doc);
			goto oom;
		}
		st = take_stash(doc);
		idx = CELL(&f->parts, i, 3) ? find_id(&sr.ids, strtoll(CELL(&f->parts, i, 3), NULL, 10))
					    : -1;
		if (idx >= 0 && sr.sd[idx] && --uses[idx]) {
			cJSON *sd = cJSON_Duplicate(sr.sd[idx], 1),
			      *skv = cJSON_Duplicate(sr.skew_values[idx], 1),
			      *skm = cJSON_Duplicate(sr.skew_maps[idx], 1);

			if (!sd || !skv || !skm) {
				cJSON_Delete(sd);
				cJSON_Delete(skv);
				cJSON_Delete(skm);
				cJSON_Delete(doc);
				cJSON_Delete(st);
				goto oom;
			}
			finish_sd(doc, sd, skv, skm, st);
		} else if (idx >= 0 && sr.sd[idx]) {
			finish_sd(doc, sr.sd[idx], sr.skew_values[idx], sr.skew_maps[idx], st);
			sr.sd[idx] = sr.skew_values[idx] = sr.skew_maps[idx] = NULL;
		}
		if ((rc = finish_entity(self, &e, MS_KIND_PARTITION, doc, st, db, table, err)) < 0)
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
	sdread_free(&sr);
	return rc;
}

/*
 * Reading ahead.  A thread with a connection of its own (scanconn) fetches
 * batches of partitions, table after table of a plan, while the caller builds
 * and consumes the batches before them: the server's work and the caller's
 * overlap, across tables too.  At most AHEAD batches wait.  The plan comes
 * from ms_catalog_plan_scans, or is the rest of one big table.  Reading on
 * another connection, it is used outside write transactions only, and inside
 * a read from one point in time only where that connection can share it
 * (PostgreSQL).
 */
#define AHEAD 4

typedef struct ahead_item {
	size_t k;          /* the table's index in the plan */
	partrows rows;
	int last;          /* the table's last batch */
	int rc;            /* < 0: the table could not be read (last is set) */
	ms_error err;
} ahead_item;

struct scan_ahead {
	hms_catalog shadow;          /* the catalog, on scanconn */
	char **names;                /* database, table, ... (folded) */
	size_t nplan;
	char after0[32];             /* the first table starts after this PART_ID */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ahead_item q[AHEAD];
	size_t head, n;
	size_t skip_to;              /* the thread drops tables before this one */
	size_t next;                 /* the caller's next table */
	int busy;                    /* a scan is consuming */
	int finished, cancel;
	int broken;                  /* the thread's connection was lost: it stopped */
};

/* scan_planned: the thread lost its connection before this table; read it directly */
#define AHEAD_LOST 2

/* Queue *it (taken); 1 when nobody wants it any more (it is freed). */
static int ahead_put(scan_ahead *sa, ahead_item *it)
{
	int dropped;

	pthread_mutex_lock(&sa->mu);
	while (sa->n == AHEAD && !sa->cancel && sa->skip_to <= it->k)
		pthread_cond_wait(&sa->cv, &sa->mu);
	dropped = sa->cancel || sa->skip_to > it->k;
	if (!dropped) {
		sa->q[(sa->head + sa->n) % AHEAD] = *it;
		sa->n++;
		pthread_cond_broadcast(&sa->cv);
	}
	pthread_mutex_unlock(&sa->mu);
	if (dropped)
		partrows_free(&it->rows);
	return dropped;
}

/* Whether table k is still wanted. */
static int ahead_wanted(scan_ahead *sa, size_t k)
{
	int wanted;

	pthread_mutex_lock(&sa->mu);
	wanted = !sa->cancel && sa->skip_to <= k;
	pthread_mutex_unlock(&sa->mu);
	return wanted;
}

/* After a failed item: a lost connection ends the thread's work (scans read directly). */
static int ahead_lost(scan_ahead *sa, int rc)
{
	if (rc != MS_EIO)
		return 0;
	pthread_mutex_lock(&sa->mu);
	sa->broken = 1;
	pthread_mutex_unlock(&sa->mu);
	return 1;
}

static void *ahead_main(void *arg)
{
	scan_ahead *sa = arg;
	size_t k;

	for (k = 0; k < sa->nplan; k++) {
		char idb[32], after[32];
		ahead_item it;
		tblinfo t;
		int last = 0, lost = 0;

		if (!ahead_wanted(sa, k))
			continue;
		memset(&it, 0, sizeof(it));
		it.k = k;
		ms_error_clear(&it.err);
		memset(&t, 0, sizeof(t));
		if ((it.rc = tbl_find(&sa->shadow, sa->names[2 * k], sa->names[2 * k + 1], 1, 0, &t,
				      &it.err)) < 0) {
			it.last = 1;
			lost = ahead_lost(sa, it.rc);
			ahead_put(sa, &it);
			if (lost)
				break;
			continue;
		}
		snprintf(idb, sizeof(idb), "%lld", t.id);
		tblinfo_free(&t);
		snprintf(after, sizeof(after), "%s", k == 0 && sa->after0[0] ? sa->after0 : "-1");
		while (!last) {
			memset(&it, 0, sizeof(it));
			it.k = k;
			ms_error_clear(&it.err);
			it.rc = fetch_batch(&sa->shadow, idb, after, sizeof(after), &it.rows, &it.err);
			last = it.last = it.rc < 0 || it.rows.parts.nrows < HMS_SCAN_BATCH;
			lost = it.rc < 0 && ahead_lost(sa, it.rc);
			if (ahead_put(sa, &it))
				break;
		}
		if (lost)
			break;
	}
	pthread_mutex_lock(&sa->mu);
	sa->finished = 1;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	return NULL;
}

static void ahead_stop(hms_catalog *self)
{
	scan_ahead *sa = self->ahead;
	size_t i;

	if (!sa)
		return;
	pthread_mutex_lock(&sa->mu);
	sa->cancel = 1;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	pthread_join(sa->th, NULL);
	for (; sa->n; sa->n--, sa->head = (sa->head + 1) % AHEAD)
		partrows_free(&sa->q[sa->head].rows);
	if (sa->broken) {
		/* the next read-ahead connects again */
		self->scanconn->ops->close(self->scanconn);
		self->scanconn = NULL;
		self->scan_reading = 0;
	}
	for (i = 0; i < 2 * sa->nplan; i++)
		free(sa->names[i]);
	free(sa->names);
	pthread_cond_destroy(&sa->cv);
	pthread_mutex_destroy(&sa->mu);
	free(sa);
	self->ahead = NULL;
}

/*
 * Start reading ahead the tables refs (database, table pairs, n of them), the
 * first after PART_ID after0 (NULL: from its start).  1 when it cannot start
 * (no second connection: not an error, scans read as they go).
 */
static int ahead_start(hms_catalog *self, const ms_table_ref *refs, size_t n, const char *after0,
		       ms_error *err)
{
	scan_ahead *sa;
	ms_error ignored;
	size_t i;

	if (self->ahead || !self->url || self->in_txn || n == 0 ||
	    (self->reading && !self->read_share))
		return 1;
	if (!self->scanconn && self->connect(&self->scanconn, self->url, &ignored) < 0)
		return 1;
	/* inside a read from one point in time, the second connection reads it too */
	if (self->reading && !self->scan_reading) {
		if (self->scanconn->ops->begin_read(self->scanconn, self->read_share, NULL,
						    &ignored) < 0)
			return 1;
		self->scan_reading = 1;
	}
	if (!(sa = calloc(1, sizeof(*sa))) || !(sa->names = calloc(2 * n, sizeof(char *)))) {
		free(sa);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	sa->nplan = n;
	for (i = 0; i < n; i++) {
		char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1];

		/* a name fold refuses is kept as given: the table's scan reports it */
		if (fold(dn, sizeof(dn), refs[i].database, "database", &ignored) < 0)
			snprintf(dn, sizeof(dn), "%s", refs[i].database);
		if (fold(tn, sizeof(tn), refs[i].table, "table", &ignored) < 0)
			snprintf(tn, sizeof(tn), "%s", refs[i].table);
		if (!(sa->names[2 * i] = strdup(dn)) || !(sa->names[2 * i + 1] = strdup(tn))) {
			for (i = 0; i < 2 * n; i++)
				free(sa->names[i]);
			free(sa->names);
			free(sa);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
	}
	snprintf(sa->after0, sizeof(sa->after0), "%s", after0 ? after0 : "");
	sa->shadow = *self;
	sa->shadow.conn = self->scanconn;
	sa->shadow.ahead = NULL;
	pthread_mutex_init(&sa->mu, NULL);
	pthread_cond_init(&sa->cv, NULL);
	if (pthread_create(&sa->th, NULL, ahead_main, sa) != 0) {
		for (i = 0; i < 2 * n; i++)
			free(sa->names[i]);
		free(sa->names);
		pthread_cond_destroy(&sa->cv);
		pthread_mutex_destroy(&sa->mu);
		free(sa);
		return 1;
	}
	self->ahead = sa;
	return 0;
}

/* The plan index of table dn.tn at or after the caller's next one, or -1. */
static long long ahead_find(scan_ahead *sa, const char *dn, const char *tn)
{
	size_t k;
	int broken;

	if (!sa || sa->busy)
		return -1;
	pthread_mutex_lock(&sa->mu);
	broken = sa->broken;
	pthread_mutex_unlock(&sa->mu);
	if (broken)
		return -1;
	for (k = sa->next; k < sa->nplan; k++)
		if (strcmp(sa->names[2 * k], dn) == 0 && strcmp(sa->names[2 * k + 1], tn) == 0)
			return (long long)k;
	return -1;
}

/* Next item of table k (earlier tables' are dropped): 0, or 1 when none will come. */
static int ahead_take(scan_ahead *sa, size_t k, ahead_item *it)
{
	int rc = 1;

	pthread_mutex_lock(&sa->mu);
	for (;;) {
		while (sa->n && sa->q[sa->head].k < k) {
			partrows_free(&sa->q[sa->head].rows);
			sa->head = (sa->head + 1) % AHEAD;
			sa->n--;
			pthread_cond_broadcast(&sa->cv);
		}
		if (sa->n) {
			if (sa->q[sa->head].k == k) {
				*it = sa->q[sa->head];
				sa->head = (sa->head + 1) % AHEAD;
				sa->n--;
				pthread_cond_broadcast(&sa->cv);
				rc = 0;
			}
			break;
		}
		if (sa->finished)
			break;
		pthread_cond_wait(&sa->cv, &sa->mu);
	}
	pthread_mutex_unlock(&sa->mu);
	return rc;
}

/*
 * Scan table k of the plan (dn.tn) from what the thread reads; AHEAD_LOST
 * when the thread lost its connection before any of this table was given.
 */
static int scan_planned(hms_catalog *self, size_t k, const char *dn, const char *tn,
			ms_entity_cb cb, void *ctx, ms_error *err)
{
	scan_ahead *sa = self->ahead;
	int rc = 0, last = 0, given = 0;

	pthread_mutex_lock(&sa->mu);
	sa->skip_to = k;
	sa->busy = 1;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	while (!last && rc == 0) {
		ahead_item it;

		if (ahead_take(sa, k, &it) != 0) {
			pthread_mutex_lock(&sa->mu);
			rc = sa->broken && !given ? AHEAD_LOST
						  : ms_error_set(err, MS_ERROR, "'%s': reading ahead "
								 "stopped before the partitions of "
								 "'%s.%s' were read",
								 self->base.url, dn, tn);
			pthread_mutex_unlock(&sa->mu);
			break;
		}
		last = it.last;
		if (it.rc == MS_EIO && !given) {
			rc = AHEAD_LOST;
		} else if (it.rc < 0) {
			rc = it.rc;
			if (err)
				*err = it.err;
		} else {
			given = 1;
			rc = build_parts(self, dn, tn, &it.rows, cb, ctx, err);
		}
		partrows_free(&it.rows);
	}
	/* what is left of this table is not wanted */
	pthread_mutex_lock(&sa->mu);
	sa->skip_to = sa->next = k + 1;
	sa->busy = 0;
	pthread_cond_broadcast(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
	return rc;
}

static int hms_plan_scans(ms_catalog *cat, const ms_table_ref *tables, size_t n, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	int rc;

	ahead_stop(self);
	rc = ahead_start(self, tables, n, NULL, err);
	return rc < 0 ? rc : 0;
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

static int hms_scan_partitions(ms_catalog *cat, const char *db, const char *table,
			       unsigned int flags, ms_entity_cb cb, void *ctx, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1], idb[32], after[32];
	long long k;
	tblinfo t;
	int rc;

	/*
	 * MS_SCAN_KEYS_ONLY still reads whole partitions: a key-only scan must
	 * give each partition's content hash, and Hive stores none.
	 */
	(void)flags;
	if ((rc = fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (rc = fold(tn, sizeof(tn), table, "table", err)) < 0)
		return rc;
	if (!self->in_txn && (k = ahead_find(self->ahead, dn, tn)) >= 0 &&
	    (rc = scan_planned(self, (size_t)k, dn, tn, cb, ctx, err)) != AHEAD_LOST)
		return rc;
	/* not planned, or the read-ahead connection was lost before this table */
	if ((rc = tbl_find(self, dn, tn, 1, 0, &t, err)) < 0)
		return rc;
	snprintf(idb, sizeof(idb), "%lld", t.id);
	snprintf(after, sizeof(after), "-1");
	for (;;) {
		partrows f = { 0 };
		size_t got;
		ms_table_ref me = { dn, tn };

		rc = fetch_batch(self, idb, after, sizeof(after), &f, err);
		got = f.parts.nrows;
		if (rc == 0)
			rc = build_parts(self, dn, tn, &f, cb, ctx, err);
		partrows_free(&f);
		if (rc != 0 || got < HMS_SCAN_BATCH)
			break;
		/* a big table: read the rest ahead on the second connection */
		if ((rc = ahead_start(self, &me, 1, after, err)) == 0) {
			rc = scan_planned(self, 0, dn, tn, cb, ctx, err);
			ahead_stop(self);
			if (rc != AHEAD_LOST)
				break;
			/* lost before any of it was given: go on here, after `after` */
		}
		if (rc < 0)
			break;
		rc = 0;
	}
	tblinfo_free(&t);
	return rc;
}

/* Values of a vkey (a JSON array of strings); *arr is new. */
static int parse_vkey(const char *vkey, cJSON **arr, ms_error *err)
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
static int part_name(const tblinfo *t, const cJSON *values, const char *what, char **out,
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
		return ms_error_set(err, MS_EINVAL, "partition %s has %zu values, the table has %zu keys",
				    what, n, t->nkeys);
	if (hms_part_name(&b, (const char *const *)t->keys, vals, n) < 0) {
		ms_buf_free(&b);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	*out = ms_buf_detach(&b);
	return *out ? 0 : ms_error_set(err, MS_ENOMEM, "out of memory");
}

static int hms_get_partition(ms_catalog *cat, const char *db, const char *table,
			     const char *vkey, ms_entity **out, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1], idb[32], *pn = NULL;
	const char *p[2];
	cJSON *vals = NULL;
	partrows f = { 0 };
	collected c = { 0 };
	ms_entity *found = NULL;
	tblinfo t;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (rc = fold(tn, sizeof(tn), table, "table", err)) < 0)
		return rc;
	if ((rc = tbl_find(self, dn, tn, 1, 1, &t, err)) < 0)
		goto done;
	if ((rc = parse_vkey(vkey, &vals, err)) < 0)
		goto done;
	if (cJSON_GetArraySize(vals) != (int)t.nkeys) {
		rc = ms_error_set(err, MS_ENOTFOUND, "partition '%s' of '%s.%s' not found in '%s'",
				  vkey, dn, tn, cat->url);
		goto done;
	}
	if ((rc = part_name(&t, vals, vkey, &pn, err)) < 0)
		goto done;
	if (!storable(self, pn)) {
		rc = ms_error_set(err, MS_ENOTFOUND, "partition '%s' of '%s.%s' not found in '%s'",
				  vkey, dn, tn, cat->url);
		goto done;
	}
	snprintf(idb, sizeof(idb), "%lld", t.id);
	p[0] = idb;
	p[1] = pn;
	if ((rc = q(self,
		    "SELECT \"PART_ID\", \"CREATE_TIME\", \"LAST_ACCESS_TIME\", \"SD_ID\" FROM "
		    "\"PARTITIONS\" WHERE \"TBL_ID\" = ? AND \"PART_NAME\" = ?",
		    p, 2, &f.parts, NULL, err)) < 0 ||
	    (rc = fetch_parts(self, &f, err)) < 0 ||
	    (rc = build_parts(self, dn, tn, &f, collect_entity, &c, err)) < 0)
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
	partrows_free(&f);
	tblinfo_free(&t);
	return rc;
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
		params_reset(&p);
		rc = params_addll(&p, tbl);
		for (j = 0; j < k && rc == 0; j++)
			rc = params_add(&p, names[i + j]);
		if (rc == 0)
			rc = ms_buf_adds(&sql, "SELECT \"PART_ID\", \"CREATE_TIME\", \"SD_ID\", "
					       "\"PART_NAME\" FROM \"PARTITIONS\" WHERE \"TBL_ID\" = ? "
					       "AND \"PART_NAME\" IN ");
		if (rc == 0)
			rc = add_marks(&sql, k);
		if (rc < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			break;
		}
		rc = q(self, sql.ptr, p.v, p.n, rs, NULL, err);
	}
	ms_buf_free(&sql);
	params_free(&p);
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
		    idlist_add(&ids, strtoll(CELL(ex, i, 0), NULL, 10)) < 0)
			goto oom;
	if (ids.n == 0)
		goto done;
	if ((rc = q_in(self,
		       "SELECT \"PART_ID\", \"PART_KEY_VAL\" FROM \"PARTITION_KEY_VALS\" WHERE "
		       "\"PART_ID\" IN ",
		       " ORDER BY \"PART_ID\", \"INTEGER_IDX\"", NULL, 0, &ids, &kv, err)) < 0)
		goto done;
	if (!(v = calloc(ex->nrows, sizeof(*v))) || !(vals = malloc((kv.nrows + 1) * sizeof(*vals))))
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
	rowset_free(&kv);
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
						  "'%.200s' of partition %.200s, which '%s' holds (a "
						  "hive metastore holds one partition per name)",
						  parts[j]->vkey, dn, tn, rn, stored[i], self->base.url);
				break;
			}
			part_ids[j] = strtoll(CELL(ex, i, 0), NULL, 10);
			ctimes[j] = strtoll(CELL(ex, i, 1), NULL, 10);
			same = 1;
		}
		if (rc == 0 && !same)
			rc = ms_error_set(err, MS_EEXISTS,
					  "partition %.200s of '%s.%s' has the hive name '%.200s', which "
					  "'%s' takes for its partition '%.200s' (its hive schema "
					  "ignores trailing spaces)",
					  parts[alike == NO_INDEX ? 0 : alike]->vkey, dn, tn,
					  names[alike == NO_INDEX ? 0 : alike], self->base.url, rn);
	}
	stored_vkeys_free(stored, ex->nrows);
	return rc;
}

static int hms_put_partitions(ms_catalog *cat, const char *db, const char *table,
			      ms_entity *const *parts, size_t n, ms_error *err)
{
	static const char *const known[] = { "Values", "DatabaseName", "TableName", "CreationTime",
					     "LastAccessTime", "StorageDescriptor", "Parameters",
					     "CatalogId", NULL };
	static const char *const pcols[] = { "PART_ID", "CREATE_TIME", "LAST_ACCESS_TIME",
					     "PART_NAME", "SD_ID", "TBL_ID" };
	static const char *const kvcols[] = { "PART_ID", "PART_KEY_VAL", "INTEGER_IDX" };
	static const char *const ppcols[] = { "PART_ID", "PARAM_KEY", "PARAM_VALUE" };
	hms_catalog *self = (hms_catalog *)cat;
	char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1];
	char **names = NULL, **stexts = NULL;
	long long *part_ids = NULL, *ctimes = NULL, *sd_ids = NULL, *serde_ids = NULL,
		  *cd_ids = NULL, *list_ids = NULL;
	stash *stashes = NULL;
	rowset ex = { 0 };
	idlist old_parts = { 0 }, old_sds = { 0 };
	ms_buf sig = MS_BUF_INIT((size_t)64 << 20);
	sdwriter w;
	inserter pins, kvins, ppins;
	tblinfo t;
	subject subj = { MS_KIND_PARTITION, NULL, NULL, NULL }, *s = &subj;
	long long first;
	size_t i, nnew = 0, nsd = 0, nserde = 0, ncd = 0, nlists = 0, li = 0;
	int rc, began = 0;

	memset(&t, 0, sizeof(t));
	sdw_init(&w, self);
	ins_init(&pins, self, "PARTITIONS", pcols, NULL, 6);
	ins_init(&kvins, self, "PARTITION_KEY_VALS", kvcols, NULL, 3);
	ins_init(&ppins, self, "PARTITION_PARAMS", ppcols, NULL, 3);
	if ((rc = fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (rc = fold(tn, sizeof(tn), table, "table", err)) < 0)
		goto done;
	subj.db = dn;
	subj.table = tn;
	for (i = 0; i < n; i++)
		if (!parts[i] || parts[i]->kind != MS_KIND_PARTITION || !cJSON_IsObject(parts[i]->doc)) {
			rc = ms_error_set(err, MS_EINVAL,
					  "entity %zu given to put_partitions of '%s.%s' is not a "
					  "partition",
					  i, dn, tn);
			goto done;
		}
	if ((rc = call_begin(self, err)) < 0)
		goto done;
	began = 1;
	if ((rc = tbl_find(self, dn, tn, 1, 1, &t, err)) < 0 || n == 0)
		goto done;
	names = calloc(n, sizeof(*names));
	stexts = calloc(n, sizeof(*stexts));
	part_ids = calloc(n, sizeof(*part_ids));
	ctimes = calloc(n, sizeof(*ctimes));
	sd_ids = calloc(n, sizeof(*sd_ids));
	serde_ids = calloc(n, sizeof(*serde_ids));
	cd_ids = calloc(n, sizeof(*cd_ids));
	stashes = calloc(n, sizeof(*stashes));
	if (!names || !stexts || !part_ids || !ctimes || !sd_ids || !serde_ids || !cd_ids ||
	    !stashes)
		goto oom;
	for (i = 0; i < n; i++) {
		const cJSON *doc = parts[i]->doc, *f, *sd = jget(doc, "StorageDescriptor"), *v;

		size_t nv = (size_t)cJSON_GetArraySize(jget(doc, "Values"));

		ms_buf_init(&stashes[i].fields, 4096);
		subj.vkey = parts[i]->vkey;
		if ((rc = ms_partition_check_count(dn, tn, parts[i]->vkey, nv, t.nkeys, err)) < 0)
			goto done;
		if ((rc = part_name(&t, jget(doc, "Values"), parts[i]->vkey, &names[i], err)) < 0)
			goto done;
		CHECK("PARTITIONS.PART_NAME", names[i]);
		cJSON_ArrayForEach(v, jget(doc, "Values"))
		CHECK("PARTITION_KEY_VALS.PART_KEY_VAL", v->valuestring);
		cJSON_ArrayForEach(f, doc)
		{
			if (!in_list(known, f->string) &&
			    (rc = stash_keep(&stashes[i], "x", f->string, f, f->string)) < 0)
				goto oom;
		}
		if ((cJSON_IsNumber(jget(doc, "LastAccessTime")) &&
		     num(jget(doc, "LastAccessTime"), 0) == 0 &&
		     (rc = stash_default(&stashes[i], "LastAccessTime")) < 0) ||
		    (empty_container(jget(doc, "Parameters")) &&
		     (rc = stash_default(&stashes[i], "Parameters")) < 0))
			goto oom;
		part_ids[i] = ctimes[i] = sd_ids[i] = serde_ids[i] = cd_ids[i] = -1;
		if (cJSON_IsObject(sd)) {
			nsd++;
			if (jget(sd, "SerdeInfo"))
				nserde++;
			nlists += sd_lists(sd);
			if (jget(sd, "Columns")) {
				if ((rc = colsig(jget(sd, "Columns"), &sig)) < 0)
					goto oom;
				if (t.colsig && t.cd >= 0 && strcmp(sig.ptr, t.colsig) == 0)
					cd_ids[i] = -2; /* the table's */
				else
					ncd++;
			}
		}
	}
	subj.vkey = NULL;
	/* one name, one partition: in the batch, then against what the table holds */
	if ((rc = batch_names_unique(self, dn, tn, names, parts, n, err)) < 0)
		goto done;
	/* which exist: their ids and creation times stay, their old rows go */
	if ((rc = find_parts(self, t.id, names, n, &ex, err)) < 0 ||
	    (rc = match_existing(self, dn, tn, &ex, names, parts, n, part_ids, ctimes, err)) < 0)
		goto done;
	for (i = 0; i < ex.nrows; i++) {
		if (idlist_add(&old_parts, strtoll(CELL(&ex, i, 0), NULL, 10)) < 0 ||
		    (CELL(&ex, i, 2) && idlist_add(&old_sds, strtoll(CELL(&ex, i, 2), NULL, 10)) < 0))
			goto oom;
	}
	if ((rc = delete_parts(self, &old_parts, &old_sds, err)) < 0)
		goto done;
	/* a value given twice in one batch: the last one wins */
	for (i = 0; i < n; i++) {
		size_t j;

		for (j = i + 1; j < n && names[i]; j++)
			if (names[j] && strcmp(names[i], names[j]) == 0) {
				free(names[i]);
				names[i] = NULL;
			}
	}
	for (i = 0; i < n; i++)
		if (names[i] && part_ids[i] < 0)
			nnew++;
	if (nnew) {
		if ((rc = reserve_ids(self, MODEL "MPartition", "PARTITIONS", "PART_ID", nnew, &first,
				      err)) < 0)
			goto done;
		for (i = 0; i < n; i++)
			if (names[i] && part_ids[i] < 0)
				part_ids[i] = first++;
	}
	if (nsd) {
		if ((rc = reserve_ids(self, MODEL "MStorageDescriptor", "SDS", "SD_ID", nsd, &first,
				      err)) < 0)
			goto done;
		for (i = 0; i < n; i++)
			if (cJSON_IsObject(jget(parts[i]->doc, "StorageDescriptor")))
				sd_ids[i] = first++;
	}
	if (nserde) {
		if ((rc = reserve_ids(self, MODEL "MSerDeInfo", "SERDES", "SERDE_ID", nserde, &first,
				      err)) < 0)
			goto done;
		for (i = 0; i < n; i++)
			if (sd_ids[i] >= 0 &&
			    jget(jget(parts[i]->doc, "StorageDescriptor"), "SerdeInfo"))
				serde_ids[i] = first++;
	}
	if (ncd) {
		if ((rc = reserve_ids(self, MODEL "MColumnDescriptor", "CDS", "CD_ID", ncd, &first,
				      err)) < 0)
			goto done;
		for (i = 0; i < n; i++)
			if (sd_ids[i] >= 0 && cd_ids[i] == -1 &&
			    jget(jget(parts[i]->doc, "StorageDescriptor"), "Columns"))
				cd_ids[i] = first++;
	}
	if (nlists) {
		if ((rc = reserve_ids(self, MODEL "MStringList", "SKEWED_STRING_LIST",
				      "STRING_LIST_ID", nlists, &first, err)) < 0)
			goto done;
		if (!(list_ids = calloc(nlists, sizeof(*list_ids))))
			goto oom;
		for (i = 0; i < nlists; i++)
			list_ids[i] = first + (long long)i;
	}
	/* storage descriptors first (foreign keys), then the partitions and their rows */
	for (i = 0; i < n; i++) {
		const cJSON *sd = jget(parts[i]->doc, "StorageDescriptor");

		if (!names[i] || sd_ids[i] < 0)
			continue;
		subj.vkey = parts[i]->vkey;
		if ((rc = write_sd(self, &w, s, sd, sd_ids[i], serde_ids[i],
				   cd_ids[i] == -2 ? t.cd : -1, cd_ids[i] == -2 ? -1 : cd_ids[i],
				   list_ids ? list_ids + li : NULL, &stashes[i], err)) < 0)
			goto done;
		li += sd_lists(sd);
	}
	if ((rc = sdw_flush(&w, err)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		const cJSON *doc = parts[i]->doc;

		if (!names[i])
			continue;
		subj.vkey = parts[i]->vkey;
		if ((rc = stash_text(&stashes[i], &stexts[i])) < 0)
			goto oom;
		PL(&pins, part_ids[i]);
		PL(&pins, ctimes[i] >= 0 ? ctimes[i]
					 : num(jget(doc, "CreationTime"), (long long)time(NULL)));
		PL(&pins, num(jget(doc, "LastAccessTime"), 0));
		P(&pins, names[i]);
		if (sd_ids[i] >= 0)
			PL(&pins, sd_ids[i]);
		else
			P(&pins, NULL);
		PL(&pins, t.id);
		if ((rc = ins_row(&pins, err)) < 0)
			goto done;
	}
	/* then what hangs off them */
	if ((rc = ins_flush(&pins, err)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		const cJSON *doc = parts[i]->doc, *v;
		long long k = 0;

		if (!names[i])
			continue;
		subj.vkey = parts[i]->vkey;
		cJSON_ArrayForEach(v, jget(doc, "Values"))
		{
			PL(&kvins, part_ids[i]);
			P(&kvins, v->valuestring);
			PL(&kvins, k++);
			if ((rc = ins_row(&kvins, err)) < 0)
				goto done;
		}
		cJSON_ArrayForEach(v, jget(doc, "Parameters"))
		{
			if (strcmp(v->string, HMS_STASH) == 0)
				continue;
			CHECK("PARTITION_PARAMS.PARAM_KEY", v->string);
			CHECK("PARTITION_PARAMS.PARAM_VALUE", cJSON_IsString(v) ? v->valuestring : NULL);
			PL(&ppins, part_ids[i]);
			P(&ppins, v->string);
			P(&ppins, cJSON_IsString(v) ? v->valuestring : NULL);
			if ((rc = ins_row(&ppins, err)) < 0)
				goto done;
		}
		if (stexts[i]) {
			CHECK("PARTITION_PARAMS.PARAM_VALUE", stexts[i]);
			PL(&ppins, part_ids[i]);
			P(&ppins, HMS_STASH);
			P(&ppins, stexts[i]);
			if ((rc = ins_row(&ppins, err)) < 0)
				goto done;
		}
	}
	if ((rc = ins_flush(&kvins, err)) < 0 ||
	    (rc = ins_flush(&ppins, err)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if (names[i] && stashes[i].fields.len) {
			subj.vkey = parts[i]->vkey;
			warn(self, s, stashes[i].fields.ptr);
		}
	goto done;
oom:
	rc = ms_error_set(err, MS_ENOMEM, "out of memory");
done:
	if (began)
		rc = call_end(self, rc, err);
	for (i = 0; i < n; i++) {
		if (names)
			free(names[i]);
		if (stexts)
			free(stexts[i]);
		if (stashes)
			stash_free(&stashes[i]);
	}
	free(names);
	free(stexts);
	free(stashes);
	free(part_ids);
	free(ctimes);
	free(sd_ids);
	free(serde_ids);
	free(cd_ids);
	free(list_ids);
	free(old_parts.v);
	free(old_sds.v);
	rowset_free(&ex);
	ms_buf_free(&sig);
	sdw_free(&w);
	ins_free(&pins);
	ins_free(&kvins);
	ins_free(&ppins);
	tblinfo_free(&t);
	return rc;
}

static int hms_delete_partitions(ms_catalog *cat, const char *db, const char *table,
				 const char *const *vkeys, size_t n, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	char dn[MS_NAME_MAX * 4 + 1], tn[MS_NAME_MAX * 4 + 1];
	char **names = NULL, **stored = NULL;
	size_t *which = NULL;
	rowset ex = { 0 };
	idlist parts = { 0 }, sds = { 0 };
	tblinfo t;
	size_t i, j, k = 0;
	int rc, began = 0;

	memset(&t, 0, sizeof(t));
	if ((rc = fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (rc = fold(tn, sizeof(tn), table, "table", err)) < 0)
		return rc;
	if ((rc = call_begin(self, err)) < 0)
		return rc;
	began = 1;
	if ((rc = tbl_find(self, dn, tn, 1, 1, &t, err)) < 0 || n == 0)
		goto done;
	if (!(names = calloc(n, sizeof(*names))) || !(which = calloc(n, sizeof(*which)))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		cJSON *vals = NULL;

		if ((rc = parse_vkey(vkeys[i], &vals, err)) < 0)
			goto done;
		if (cJSON_GetArraySize(vals) == (int)t.nkeys) {
			which[k] = i;
			rc = part_name(&t, vals, vkeys[i], &names[k++], err);
		}
		cJSON_Delete(vals);
		if (rc < 0)
			goto done;
		if (k && !storable(self, names[k - 1]))
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
		if (idlist_add(&parts, strtoll(CELL(&ex, i, 0), NULL, 10)) < 0 ||
		    (CELL(&ex, i, 2) && idlist_add(&sds, strtoll(CELL(&ex, i, 2), NULL, 10)) < 0)) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
	}
	rc = delete_parts(self, &parts, &sds, err);
done:
	if (began)
		rc = call_end(self, rc, err);
	stored_vkeys_free(stored, ex.nrows);
	for (i = 0; names && i < k; i++)
		free(names[i]);
	free(names);
	free(which);
	free(parts.v);
	free(sds.v);
	rowset_free(&ex);
	tblinfo_free(&t);
	return rc;
}

/* ---- change feed --------------------------------------------------------- */

static int hms_changes_since(ms_catalog *cat, const char *cursor, ms_change_cb cb, void *ctx,
			     char **next_cursor, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	long long from = 0, last;
	char fb[32], *end = NULL;
	const char *p[1] = { fb };
	rowset rs = { 0 };
	size_t i;
	int rc;

	if (cursor && *cursor) {
		from = strtoll(cursor, &end, 10);
		if (!end || *end || from < 0)
			return ms_error_set(err, MS_EINVAL, "change cursor '%s' is not an event id",
					    cursor);
	}
	last = from;
	snprintf(fb, sizeof(fb), "%lld", from);
	if (from > 0) {
		if ((rc = q(self, "SELECT MIN(\"EVENT_ID\") FROM \"NOTIFICATION_LOG\"", NULL, 0, &rs,
			    NULL, err)) < 0)
			return rc;
		if (rs.nrows && CELL(&rs, 0, 0) && strtoll(CELL(&rs, 0, 0), NULL, 10) > from + 1) {
			rowset_free(&rs);
			return ms_error_set(err, MS_ECONFLICT,
					    "change cursor '%s' is older than the oldest event of "
					    "'%s': read everything again",
					    cursor, cat->url);
		}
		rowset_free(&rs);
	}
	for (;;) {
		size_t got;

		if ((rc = q(self,
			    "SELECT \"EVENT_ID\", \"EVENT_TYPE\", \"DB_NAME\", \"TBL_NAME\", "
			    "\"CAT_NAME\" FROM \"NOTIFICATION_LOG\" WHERE \"EVENT_ID\" > ? ORDER BY "
			    "\"EVENT_ID\" LIMIT 10000",
			    p, 1, &rs, NULL, err)) < 0)
			return rc;
		got = rs.nrows;
		for (i = 0; i < rs.nrows && rc == 0; i++) {
			const char *type = CELL(&rs, i, 1) ? CELL(&rs, i, 1) : "";
			ms_change c;

			memset(&c, 0, sizeof(c));
			c.seq = strtoll(CELL(&rs, i, 0), NULL, 10);
			last = c.seq;
			c.database = CELL(&rs, i, 2);
			c.table = CELL(&rs, i, 3) && *CELL(&rs, i, 3) ? CELL(&rs, i, 3) : NULL;
			c.op = strncmp(type, "DROP_", 5) == 0 ? MS_CHANGE_DELETE : MS_CHANGE_PUT;
			if (strstr(type, "DATABASE")) {
				c.kind = MS_KIND_DATABASE;
				c.table = NULL;
			} else if (strstr(type, "PARTITION") || strcmp(type, "INSERT") == 0) {
				/* partitions are not decoded: the table is to be read again */
				c.kind = MS_KIND_TABLE;
				c.op = MS_CHANGE_PUT;
			} else if (c.table) {
				c.kind = MS_KIND_TABLE;
			} else {
				continue;
			}
			/* another hive catalog's event: passed over, the cursor moves on */
			if (!c.database ||
			    (CELL(&rs, i, 4) && strcmp(CELL(&rs, i, 4), self->ctlg) != 0))
				continue;
			rc = cb(&c, ctx, err);
		}
		rowset_free(&rs);
		snprintf(fb, sizeof(fb), "%lld", last);
		if (rc != 0)
			return rc;
		if (got < 10000)
			break;
	}
	if (!(*next_cursor = strdup(fb)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}

/* ---- open and close ------------------------------------------------------ */

static void hms_close(ms_catalog *cat)
{
	hms_catalog *self = (hms_catalog *)cat;

	if (!self)
		return;
	hms_read_end(cat);
	if (self->in_txn) {
		ms_error ignored;

		self->conn->ops->rollback(self->conn, &ignored);
	}
	if (self->conn)
		self->conn->ops->close(self->conn);
	if (self->idconn)
		self->idconn->ops->close(self->idconn);
	ahead_stop(self);
	if (self->scanconn)
		self->scanconn->ops->close(self->scanconn);
	ms_url_free(self->url);
	free(self->ctlg);
	ms_catalog_base_free(&self->base);
	free(self);
}

static const ms_catalog_driver hms_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "hms",
	/* transactional, writable; no ordered scans (vkeys are not a column) */
	.caps = MS_CAP_TRANSACTIONS | MS_CAP_WRITE | MS_CAP_CHANGE_FEED,
	.max_batch = HMS_BATCH,
	/* required: frees the connections */
	.close = hms_close,
	/* DBS of the URL's catalog; EBACKEND/EIO from the server */
	.list_databases = hms_list_databases,
	/* ENOTFOUND when absent */
	.get_database = hms_get_database,
	/* create or replace; EINVAL when a value is longer than its column */
	.put_database = hms_put_database,
	/* with its tables, partitions and every row hanging off them; ENOTFOUND */
	.delete_database = hms_delete_database,
	.list_tables = hms_list_tables,
	.get_table = hms_get_table,
	/* create or replace; the database must exist (ENOTFOUND) */
	.put_table = hms_put_table,
	.delete_table = hms_delete_table,
	/* batches of 1000 partitions, a dozen queries per batch, read ahead */
	.scan_partitions = hms_scan_partitions,
	.get_partition = hms_get_partition,
	/* create or replace a batch in one transaction (or savepoint), all or nothing:
	 * MS_EINVAL a partition without values, with a count other than the table's keys,
	 * or a value its columns cannot hold; MS_EEXISTS a partition whose hive name
	 * another one in the batch or the table has (one partition per name) */
	.put_partitions = hms_put_partitions,
	/* by name, in one transaction (or savepoint); a row is deleted only when it holds
	 * the values asked for, never another partition under an equal name */
	.delete_partitions = hms_delete_partitions,
	.table_digest = NULL,
	.verify_table = NULL,
	.begin = hms_begin,
	.commit = hms_commit,
	.rollback = hms_rollback,
	/* NOTIFICATION_LOG, EVENT_ID as cursor */
	.changes_since = hms_changes_since,
	.finish = NULL,
	/* reads the planned tables' partitions ahead on a second connection */
	.plan_scans = hms_plan_scans,
	/* SELECT ... FOR UPDATE of the DBS or TBLS row; EINVAL outside a transaction */
	.lock = hms_lock,
	/* a read-only REPEATABLE READ transaction, shared with the read-ahead (PostgreSQL) */
	.read_begin = hms_read_begin,
	/* commits it on both connections */
	.read_end = hms_read_end,
};

/* Refuse a database that is not a Hive 3.x metastore, naming what was found. */
static int check_schema(hms_catalog *self, ms_error *err)
{
	rowset rs = { 0 };
	ms_error qe;
	const char *p[1] = { self->ctlg };
	int rc;

	if (q(self, "SELECT \"SCHEMA_VERSION\" FROM \"VERSION\"", NULL, 0, &rs, NULL, &qe) < 0) {
		rc = ms_error_set(err, MS_EINVAL,
				  "'%s' is not a hive metastore: no VERSION table", self->base.url);
		ms_error_detail(err, "%s", qe.detail);
		snprintf(err->backend_code, sizeof(err->backend_code), "%s", qe.backend_code);
		return rc;
	}
	if (rs.nrows != 1 || !CELL(&rs, 0, 0) || strncmp(CELL(&rs, 0, 0), "3.", 2) != 0) {
		rc = ms_error_set(err, MS_EINVAL,
				  "'%s' is not a hive 3.x metastore: schema version '%s'",
				  self->base.url,
				  rs.nrows == 0 ? "(no row)"
				  : rs.nrows > 1 ? "(several rows)"
				  : CELL(&rs, 0, 0) ? CELL(&rs, 0, 0) : "(null)");
		rowset_free(&rs);
		return rc;
	}
	rowset_free(&rs);
	if ((rc = q(self, "SELECT \"NAME\" FROM \"CTLGS\" WHERE \"NAME\" = ?", p, 1, &rs, NULL,
		    err)) < 0)
		return rc;
	if (!rs.nrows)
		rc = ms_error_set(err, MS_ENOTFOUND, "hive catalog '%s' not found in CTLGS of '%s'",
				  self->ctlg, self->base.url);
	rowset_free(&rs);
	return rc;
}

/* The metastore's GUID from METASTORE_DB_PROPERTIES into *out (new), or NULL when none. */
static int read_guid(hms_catalog *self, char **out, ms_error *err)
{
	static const char *const key[1] = { "guid" };
	rowset rs = { 0 };
	int rc;

	*out = NULL;
	if ((rc = q(self,
		    "SELECT \"PROPERTY_VALUE\" FROM \"METASTORE_DB_PROPERTIES\" "
		    "WHERE \"PROPERTY_KEY\" = ?",
		    key, 1, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows == 1 && CELL(&rs, 0, 0) && *CELL(&rs, 0, 0) &&
	    !(*out = strdup(CELL(&rs, 0, 0))))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	rowset_free(&rs);
	return rc;
}

/*
 * Without ?catalog-id=, a metastore's identity is the GUID Hive keeps in
 * METASTORE_DB_PROPERTIES (key "guid"; created as Hive's ObjectStore creates
 * it when the metastore has none yet) and the Hive catalog's name:
 * "hms:GUID/CATALOG".  Nothing in it comes from the URL, so a new password,
 * host name or port leaves it as it was.  A metastore without a GUID that
 * this connection may not write is refused, naming the parameter to give.
 */
static int metastore_identity(hms_catalog *self, ms_error *err)
{
	char uuid[37], when[64], *guid = NULL;
	const char *p[3];
	ms_error ie;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if ((rc = read_guid(self, &guid, err)) < 0)
		return rc;
	if (!guid) {
		if (ms_model_uuid4(uuid) < 0)
			return ms_error_set(err, MS_ERROR, "cannot draw a random metastore guid");
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "Metastore DB GUID generated on %Y-%m-%dT%H:%M:%SZ", &tm);
		p[0] = "guid";
		p[1] = uuid;
		p[2] = when;
		/* a concurrent creator wins the primary key: read back what is there */
		ms_error_clear(&ie);
		(void)q(self,
			"INSERT INTO \"METASTORE_DB_PROPERTIES\" (\"PROPERTY_KEY\", \"PROPERTY_VALUE\", "
			"\"DESCRIPTION\") VALUES (?, ?, ?)",
			p, 3, NULL, NULL, &ie);
		if ((rc = read_guid(self, &guid, err)) < 0)
			return rc;
		if (!guid) {
			rc = ms_error_set(err, MS_EINVAL,
					  "metastore '%s' has no guid and cannot be given one: "
					  "set its identity with ?catalog-id=ID",
					  self->base.url);
			ms_error_detail(err, "%s", ie.detail);
			return rc;
		}
	}
	free(self->base.catalog_id);
	self->base.catalog_id = NULL;
	if (asprintf(&self->base.catalog_id, "hms:%s/%s", guid, self->ctlg) < 0)
		self->base.catalog_id = NULL;
	self->base.instance = guid;
	return self->base.catalog_id ? 0 : ms_error_set(err, MS_ENOMEM, "out of memory");
}

/*
 * The MySQL backend (hms_mysql.c) is built with MariaDB Connector/C: the
 * library has it exactly when the connector's headers are on this file's
 * include path too (the build links libmariadb into the library).
 */
#if defined(__has_include)
#if __has_include(<mysql.h>)
#define HMS_HAVE_MYSQL 1
#endif
#endif
#ifdef HMS_HAVE_MYSQL
#define HMS_MYSQL_CONNECT hms_mysql_connect
#else
#define HMS_MYSQL_CONNECT NULL
#endif

int ms_hms_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			ms_error *err);

int ms_hms_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			ms_error *err)
{
	hms_catalog *self;
	const char *ctlg = ms_url_param_get(url, "catalog");
	const char *cid = ms_url_param_get(url, "catalog-id");
	int rc;

	if (!(self = calloc(1, sizeof(*self))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (strcmp(url->scheme, "hms+postgresql") == 0) {
		self->connect = hms_pg_connect;
		self->dialect = HMS_POSTGRESQL;
	} else if (strcmp(url->scheme, "hms+mysql") == 0) {
		self->connect = HMS_MYSQL_CONNECT;
		if (!self->connect) {
			free(self);
			return ms_error_set(err, MS_ENOTSUPPORTED,
					    "this build has no mysql backend (MariaDB Connector/C) "
					    "for '%s'",
					    url->redacted);
		}
		self->dialect = HMS_MYSQL;
	} else {
		free(self);
		return ms_error_set(err, MS_EINVAL, "'%s' is not a hive metastore url", url->redacted);
	}
	if ((rc = ms_catalog_base_init(&self->base, &hms_driver, url->redacted, cid, err)) < 0) {
		free(self);
		return rc;
	}
	if (!(self->ctlg = strdup(ctlg && *ctlg ? ctlg : "hive"))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto fail;
	}
	self->warn = opts ? opts->warn : NULL;
	self->warn_ctx = opts ? opts->warn_ctx : NULL;
	/* ids are reserved on a second connection, in transactions of their own */
	if ((rc = self->connect(&self->conn, url, err)) < 0 ||
	    (rc = self->connect(&self->idconn, url, err)) < 0)
		goto fail;
	if (ms_url_copy(&self->url, url) < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto fail;
	}
	/* with ?catalog-id= the GUID, where there is one, still tells two metastores apart */
	if ((rc = check_schema(self, err)) < 0 || (!cid && (rc = metastore_identity(self, err)) < 0) ||
	    (cid && (rc = read_guid(self, &self->base.instance, err)) < 0))
		goto fail;
	*out = &self->base;
	return 0;
fail:
	hms_close(&self->base);
	return rc;
}
