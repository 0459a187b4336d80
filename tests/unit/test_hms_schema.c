/*
 * The Hive Metastore 3.1 schema scripts in tests/fixtures/hive-metastore-3.1
 * are Apache Hive's own files, kept byte for byte; the workspace keeps its
 * reference copy in ../shared/fixtures/hive-metastore-3.1 beside the
 * repository ($MS_HMS_SHARED_DIR).  `test_hms_schema shared` compares the
 * two: every file byte for byte, and when an SQL script differs, parses both
 * (CREATE TABLE, ALTER TABLE ... ADD CONSTRAINT, CREATE INDEX) and names the
 * first difference in tables, columns, types, keys, indexes or the other
 * statements; exit 77 (skipped) when there is no shared copy, as in a clone
 * on its own.  Plain `test_hms_schema` tests that parser on the repository's
 * scripts: both dialects hold the same tables and columns, and edits of a
 * type, a key, an index or a table are named.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixtures.h"

#define SCHEMA_DIR "hive-metastore-3.1"
#define PG_SQL "hive-schema-3.1.0.postgres.sql"
#define MY_SQL "hive-schema-3.1.0.mysql.sql"
#define MAX_ITEMS 4096

/* ---- a schema as lists of named definitions ------------------------------ */

/* One named definition: a column (its type), a key or an index (its text). */
typedef struct item {
	char *name;
	char *def;
} item;

typedef struct list {
	item *v;
	size_t n;
} list;

typedef struct table {
	char *name;
	list columns, keys, indexes;
} table;

typedef struct schema {
	table *tables;
	size_t ntables;
	list other; /* every other statement (INSERT, SET, GRANT...), in order */
} schema;

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static void list_add(list *l, const char *name, const char *def)
{
	if (l->n % 64 == 0) {
		l->v = realloc(l->v, (l->n + 64) * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n].name = xstrdup(name);
	l->v[l->n].def = xstrdup(def);
	l->n++;
}

static const item *list_find(const list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static void list_free(list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].def);
	}
	free(l->v);
}

static table *table_find(schema *s, const char *name)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].name, name) == 0)
			return &s->tables[i];
	return NULL;
}

static table *table_add(schema *s, const char *name)
{
	table *t;

	if (s->ntables % 64 == 0) {
		s->tables = realloc(s->tables, (s->ntables + 64) * sizeof(*s->tables));
		assert_non_null(s->tables);
	}
	t = &s->tables[s->ntables++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	return t;
}

static void schema_free(schema *s)
{
	for (size_t i = 0; i < s->ntables; i++) {
		free(s->tables[i].name);
		list_free(&s->tables[i].columns);
		list_free(&s->tables[i].keys);
		list_free(&s->tables[i].indexes);
	}
	free(s->tables);
	list_free(&s->other);
	memset(s, 0, sizeof(*s));
}

/* ---- tokens ---------------------------------------------------------------- */

/*
 * A token: a word (keyword, bare name or number), a quoted name ("x" or `x`,
 * kept without its quotes), a string literal (with its quotes) or one
 * punctuation character.  Comments are skipped, MySQL's conditional ones
 * included: they hold only session settings.
 */
typedef struct token {
	char text[512];
	int quoted;
} token;

/* The next token of *p into *t; 0 at the end of the text. */
static int next_token(const char **p, token *t)
{
	const char *s = *p;
	size_t n = 0;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (s[0] == '-' && s[1] == '-') {
			s += strcspn(s, "\n");
		} else if (s[0] == '/' && s[1] == '*') {
			const char *end = strstr(s + 2, "*/");

			s = end ? end + 2 : s + strlen(s);
		} else {
			break;
		}
	}
	if (!*s)
		return 0;
	t->quoted = 0;
	if (*s == '"' || *s == '`') {
		char q = *s++;

		t->quoted = 1;
		while (*s && *s != q && n < sizeof(t->text) - 1)
			t->text[n++] = *s++;
		if (*s == q)
			s++;
	} else if (*s == '\'') {
		t->text[n++] = *s++;
		while (*s && n < sizeof(t->text) - 2) {
			if (*s == '\\' && s[1]) {
				t->text[n++] = *s++;
			} else if (*s == '\'') {
				if (s[1] != '\'')
					break;
				t->text[n++] = *s++;
			}
			t->text[n++] = *s++;
		}
		if (*s == '\'')
			t->text[n++] = *s++;
	} else if (isalnum((unsigned char)*s) || *s == '_' || *s == '$' || *s == '.') {
		while ((isalnum((unsigned char)*s) || *s == '_' || *s == '$' || *s == '.') &&
		       n < sizeof(t->text) - 1)
			t->text[n++] = *s++;
	} else {
		t->text[n++] = *s++;
	}
	t->text[n] = '\0';
	*p = s;
	return 1;
}

static int is_word(const token *t, const char *word)
{
	return !t->quoted && strcasecmp(t->text, word) == 0;
}

/*
 * Append tokens as one line of text: single spaces, none before "(", ")"
 * and ",", none after "(", none around ":" and "=", so that `bigint(20)` and
 * `bigint (20)` read the same, a cast reads `NULL::text` and an option
 * `ENGINE=InnoDB`.  Quoted names
 * lose their quotes.
 */
static void text_append(char *buf, size_t cap, const token *t)
{
	size_t len = strlen(buf);
	int glue = len == 0 || buf[len - 1] == '(' || buf[len - 1] == ':' || buf[len - 1] == '=' ||
		   (!t->quoted && t->text[1] == '\0' && strchr("(),:=", t->text[0]));

	snprintf(buf + len, cap - len, "%s%s", glue ? "" : " ", t->text);
}

/* The tokens of one statement (up to ";"), count in *n; 0 at the end of the text. */
static int next_statement(const char **p, token *toks, size_t cap, size_t *n)
{
	token t;

	*n = 0;
	while (next_token(p, &t)) {
		if (!t.quoted && strcmp(t.text, ";") == 0) {
			if (*n)
				return 1;
			continue;
		}
		assert_true(*n < cap);
		toks[(*n)++] = t;
	}
	return *n > 0;
}

static void join(const token *toks, size_t from, size_t to, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = from; i < to; i++)
		text_append(buf, cap, &toks[i]);
}

/* ---- statements ------------------------------------------------------------ */

/* One item of CREATE TABLE's list: a column, a key or an index. */
static void table_item(table *t, const token *toks, size_t n)
{
	char def[4096], name[600];

	if (n == 0)
		return;
	join(toks, 0, n, def, sizeof(def));
	if (is_word(&toks[0], "KEY") || is_word(&toks[0], "INDEX")) {
		/* MySQL's KEY name (cols): an index */
		list_add(&t->indexes, n > 1 ? toks[1].text : def, def);
	} else if (is_word(&toks[0], "CONSTRAINT") && n > 1) {
		list_add(&t->keys, toks[1].text, def);
	} else if (is_word(&toks[0], "PRIMARY")) {
		list_add(&t->keys, "PRIMARY KEY", def);
	} else if (is_word(&toks[0], "UNIQUE") || is_word(&toks[0], "FOREIGN") ||
		   is_word(&toks[0], "CHECK")) {
		/* UNIQUE KEY name (cols), or unnamed: named by its text */
		if (n > 2 && (is_word(&toks[1], "KEY") || is_word(&toks[1], "INDEX")) &&
		    strcmp(toks[2].text, "(") != 0)
			snprintf(name, sizeof(name), "%s", toks[2].text);
		else
			snprintf(name, sizeof(name), "%s", def);
		list_add(&t->keys, name, def);
	} else {
		join(toks, 1, n, def, sizeof(def));
		list_add(&t->columns, toks[0].text, def);
	}
}

/* CREATE TABLE [IF NOT EXISTS] name (items) options. */
static void create_table(schema *s, const token *toks, size_t n, size_t at)
{
	size_t i = at, start, depth = 0;
	char opts[4096];
	table *t;

	if (i + 2 < n && is_word(&toks[i], "IF") && is_word(&toks[i + 1], "NOT") &&
	    is_word(&toks[i + 2], "EXISTS"))
		i += 3;
	assert_true(i < n);
	t = table_find(s, toks[i].text);
	if (!t)
		t = table_add(s, toks[i].text);
	i++;
	assert_true(i < n && strcmp(toks[i].text, "(") == 0);
	start = ++i;
	for (; i < n; i++) {
		if (toks[i].quoted)
			continue;
		if (strcmp(toks[i].text, "(") == 0) {
			depth++;
		} else if (strcmp(toks[i].text, ")") == 0 && depth > 0) {
			depth--;
		} else if (depth == 0 &&
			   (strcmp(toks[i].text, ",") == 0 || strcmp(toks[i].text, ")") == 0)) {
			table_item(t, toks + start, i - start);
			start = i + 1;
			if (strcmp(toks[i].text, ")") == 0)
				break;
		}
	}
	/* ENGINE=InnoDB DEFAULT CHARSET=latin1: the table's own options */
	join(toks, i + 1 < n ? i + 1 : n, n, opts, sizeof(opts));
	if (opts[0])
		list_add(&t->keys, "table options", opts);
}

/* Sort one statement into the schema. */
static void statement(schema *s, const token *toks, size_t n)
{
	char def[8192];
	size_t i = 0;
	table *t;

	join(toks, 0, n, def, sizeof(def));
	if (n > 2 && is_word(&toks[0], "CREATE") && is_word(&toks[1], "TABLE")) {
		create_table(s, toks, n, 2);
		return;
	}
	/* ALTER TABLE [ONLY] name ADD CONSTRAINT cname ... */
	if (n > 5 && is_word(&toks[0], "ALTER") && is_word(&toks[1], "TABLE")) {
		i = is_word(&toks[2], "ONLY") ? 3 : 2;
		if (i + 3 < n && is_word(&toks[i + 1], "ADD") &&
		    is_word(&toks[i + 2], "CONSTRAINT") && (t = table_find(s, toks[i].text))) {
			join(toks, i + 2, n, def, sizeof(def));
			list_add(&t->keys, toks[i + 3].text, def);
			return;
		}
	}
	/* CREATE [UNIQUE] INDEX name ON table ... */
	if (n > 4 && is_word(&toks[0], "CREATE")) {
		i = is_word(&toks[1], "UNIQUE") ? 2 : 1;
		if (i + 3 < n && is_word(&toks[i], "INDEX") && is_word(&toks[i + 2], "ON") &&
		    (t = table_find(s, toks[i + 3].text))) {
			list_add(&t->indexes, toks[i + 1].text, def);
			return;
		}
	}
	list_add(&s->other, def, def);
}

static void parse(const char *text, schema *s)
{
	token *toks = malloc(MAX_ITEMS * sizeof(*toks));
	const char *p = text;
	size_t n;

	assert_non_null(toks);
	memset(s, 0, sizeof(*s));
	while (next_statement(&p, toks, MAX_ITEMS, &n))
		statement(s, toks, n);
	free(toks);
}

/* ---- comparing ------------------------------------------------------------- */

/*
 * The first difference between two lists of one table (what: "column",
 * "key", "index"), into msg; 0 when they hold the same definitions in the
 * same order.
 */
static int list_diff(const char *tname, const char *what, const list *a, const list *b,
		     const char *an, const char *bn, char *msg, size_t cap)
{
	const item *o;
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (!(o = list_find(b, a->v[i].name))) {
			snprintf(msg, cap, "table '%s': %s '%s' only in %s", tname, what,
				 a->v[i].name, an);
			return 1;
		}
		if (strcmp(o->def, a->v[i].def) != 0) {
			snprintf(msg, cap, "table '%s': %s '%s' is '%s' in %s, '%s' in %s", tname,
				 what, a->v[i].name, a->v[i].def, an, o->def, bn);
			return 1;
		}
	}
	for (i = 0; i < b->n; i++) {
		if (!list_find(a, b->v[i].name)) {
			snprintf(msg, cap, "table '%s': %s '%s' only in %s", tname, what,
				 b->v[i].name, bn);
			return 1;
		}
	}
	for (i = 0; i < a->n && i < b->n; i++) {
		if (strcmp(a->v[i].name, b->v[i].name) != 0) {
			snprintf(msg, cap, "table '%s': %s %zu is '%s' in %s, '%s' in %s", tname,
				 what, i + 1, a->v[i].name, an, b->v[i].name, bn);
			return 1;
		}
	}
	return 0;
}

/* The first difference between two schemas (an, bn: where each came from); 0 when none. */
static int schema_diff(const schema *a, const schema *b, const char *an, const char *bn, char *msg,
		       size_t cap)
{
	size_t i;

	for (i = 0; i < a->ntables; i++) {
		const table *ta = &a->tables[i], *tb = table_find((schema *)b, ta->name);

		if (!tb) {
			snprintf(msg, cap, "table '%s' only in %s", ta->name, an);
			return 1;
		}
		if (list_diff(ta->name, "column", &ta->columns, &tb->columns, an, bn, msg, cap) ||
		    list_diff(ta->name, "key", &ta->keys, &tb->keys, an, bn, msg, cap) ||
		    list_diff(ta->name, "index", &ta->indexes, &tb->indexes, an, bn, msg, cap))
			return 1;
	}
	for (i = 0; i < b->ntables; i++) {
		if (!table_find((schema *)a, b->tables[i].name)) {
			snprintf(msg, cap, "table '%s' only in %s", b->tables[i].name, bn);
			return 1;
		}
	}
	for (i = 0; i < a->ntables && i < b->ntables; i++) {
		if (strcmp(a->tables[i].name, b->tables[i].name) != 0) {
			snprintf(msg, cap, "table %zu is '%s' in %s, '%s' in %s", i + 1,
				 a->tables[i].name, an, b->tables[i].name, bn);
			return 1;
		}
	}
	for (i = 0; i < a->other.n || i < b->other.n; i++) {
		const char *x = i < a->other.n ? a->other.v[i].def : "(none)";
		const char *y = i < b->other.n ? b->other.v[i].def : "(none)";

		if (strcmp(x, y) != 0) {
			snprintf(msg, cap,
				 "statement %zu outside the tables is '%s' in %s, '%s' in %s",
				 i + 1, x, an, y, bn);
			return 1;
		}
	}
	return 0;
}

/*
 * Compare two texts: 0 when byte for byte equal; else 1 and msg names the
 * first schema difference (sql: the texts are SQL scripts), or when the
 * schemas agree or are not compared, the first line that differs.
 */
static int text_diff(const char *a, size_t alen, const char *b, size_t blen, int sql,
		     const char *an, const char *bn, char *msg, size_t cap)
{
	schema sa, sb;
	size_t i, line = 1;
	int rc;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 0;
	if (sql) {
		parse(a, &sa);
		parse(b, &sb);
		rc = schema_diff(&sa, &sb, an, bn, msg, cap);
		schema_free(&sa);
		schema_free(&sb);
		if (rc)
			return 1;
	}
	for (i = 0; i < alen && i < blen && a[i] == b[i]; i++)
		if (a[i] == '\n')
			line++;
	snprintf(msg, cap, "%sthe bytes differ at line %zu",
		 sql ? "same tables, columns, keys and indexes, but " : "", line);
	return 1;
}

/* ---- files ------------------------------------------------------------------ */

/* The whole file (new), its length in *len; NULL when unreadable. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else {
			p[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return p;
}

static char *fixture(const char *file, size_t *len)
{
	char rel[256], *path, *text;

	snprintf(rel, sizeof(rel), "%s/%s", SCHEMA_DIR, file);
	path = ms_test_fixture_path(rel);
	text = slurp(path, len);
	if (!text)
		fail_msg("cannot read '%s'", path);
	free(path);
	return text;
}

/* ---- the parser on the repository's scripts --------------------------------- */

static void parse_fixture(const char *file, schema *s)
{
	size_t len;
	char *text = fixture(file, &len);

	parse(text, s);
	free(text);
}

static const item *column(schema *s, const char *tname, const char *cname)
{
	table *t = table_find(s, tname);

	if (!t)
		fail_msg("no table '%s'", tname);
	return list_find(&t->columns, cname);
}

/* Both dialects: 74 tables (README.md), the same tables with the same columns. */
static void test_parse_fixtures(void **state)
{
	schema pg, my;
	const item *c;

	(void)state;
	parse_fixture(PG_SQL, &pg);
	parse_fixture(MY_SQL, &my);
	assert_int_equal(pg.ntables, 74);
	assert_int_equal(my.ntables, 74);
	for (size_t i = 0; i < pg.ntables; i++) {
		table *a = &pg.tables[i], *b = table_find(&my, a->name);

		if (!b)
			fail_msg("table '%s' is not in the mysql script", a->name);
		assert_int_equal(a->columns.n, b->columns.n);
		for (size_t j = 0; j < a->columns.n; j++)
			if (!list_find(&b->columns, a->columns.v[j].name))
				fail_msg("'%s.%s' is not in the mysql script", a->name,
					 a->columns.v[j].name);
	}
	c = column(&pg, "DBS", "NAME");
	assert_non_null(c);
	assert_string_equal(c->def, "character varying(128) DEFAULT NULL::character varying");
	c = column(&my, "COLUMNS_V2", "COLUMN_NAME");
	assert_non_null(c);
	assert_string_equal(c->def,
			    "varchar(767) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL");
	assert_non_null(list_find(&table_find(&pg, "BUCKETING_COLS")->keys, "BUCKETING_COLS_pkey"));
	assert_string_equal(list_find(&table_find(&my, "BUCKETING_COLS")->keys, "PRIMARY KEY")->def,
			    "PRIMARY KEY(SD_ID, INTEGER_IDX)");
	assert_non_null(
		list_find(&table_find(&pg, "BUCKETING_COLS")->indexes, "BUCKETING_COLS_N49"));
	assert_non_null(
		list_find(&table_find(&my, "BUCKETING_COLS")->indexes, "BUCKETING_COLS_N49"));
	assert_non_null(
		list_find(&table_find(&my, "TXN_TO_WRITE_ID")->indexes, "TBL_TO_TXN_ID_IDX"));
	assert_true(pg.other.n > 0 && my.other.n > 0);
	schema_free(&pg);
	schema_free(&my);
}

/* The text with the first `from` replaced by `to` (new); fails when from is absent. */
static char *edited(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t head, len;
	char *out;

	if (!at)
		fail_msg("'%s' is not in the script", from);
	head = (size_t)(at - text);
	len = strlen(text) - strlen(from) + strlen(to);
	out = malloc(len + 1);
	assert_non_null(out);
	memcpy(out, text, head);
	strcpy(out + head, to);
	strcat(out + head, at + strlen(from));
	return out;
}

/* An edit of the script must be named by text_diff: msg must hold `want`. */
static void expect_named(const char *text, const char *from, const char *to, const char *want)
{
	char *b = edited(text, from, to), msg[1024] = "";

	if (!text_diff(text, strlen(text), b, strlen(b), 1, "repo", "shared", msg, sizeof(msg)))
		fail_msg("'%s' -> '%s': no difference found", from, to);
	if (!strstr(msg, want))
		fail_msg("'%s' -> '%s': got \"%s\", want \"%s\"", from, to, msg, want);
	free(b);
}

static void test_names_first_difference(void **state)
{
	size_t plen, mlen;
	char *pg = fixture(PG_SQL, &plen), *my = fixture(MY_SQL, &mlen), msg[1024];

	(void)state;
	assert_int_equal(text_diff(pg, plen, pg, plen, 1, "repo", "shared", msg, sizeof(msg)), 0);
	expect_named(pg, "\"NAME\" character varying(128)", "\"NAME\" character varying(256)",
		     "table 'DBS': column 'NAME' is 'character varying(128) DEFAULT "
		     "NULL::character "
		     "varying' in repo, 'character varying(256)");
	expect_named(pg, "\"CDS_pkey\" PRIMARY KEY (\"CD_ID\")", "\"CDS_pkey\" UNIQUE (\"CD_ID\")",
		     "table 'CDS': key 'CDS_pkey' is 'CONSTRAINT CDS_pkey PRIMARY KEY(CD_ID)'");
	expect_named(pg, "CREATE INDEX \"SDS_N49\" ON \"SDS\" USING btree (\"SERDE_ID\");", "",
		     "table 'SDS': index 'SDS_N49' only in repo");
	expect_named(pg, "CREATE TABLE \"CDS\" (\n    \"CD_ID\" bigint NOT NULL\n);",
		     "CREATE TABLE \"CDS\" (\n    \"CD_ID\" bigint NOT NULL,\n    \"X\" int\n);",
		     "table 'CDS': column 'X' only in shared");
	expect_named(my, "`SD_ID` bigint(20) NOT NULL,\n  `BUCKET_COL_NAME`",
		     "`SD_ID` bigint(20) DEFAULT NULL,\n  `BUCKET_COL_NAME`",
		     "table 'BUCKETING_COLS': column 'SD_ID' is 'bigint(20) NOT NULL' in repo");
	expect_named(my, "KEY `BUCKETING_COLS_N49` (`SD_ID`),", "",
		     "table 'BUCKETING_COLS': index 'BUCKETING_COLS_N49' only in repo");
	expect_named(my, ") ENGINE=InnoDB DEFAULT CHARSET=latin1;",
		     ") ENGINE=MyISAM DEFAULT CHARSET=latin1;",
		     "table 'BUCKETING_COLS': key 'table options' is 'ENGINE=InnoDB");
	expect_named(pg, "'Hive release version 3.1.0'", "'Hive release version 3.1.1'",
		     "statement");
	/* layout only: the same schema, and the line where the bytes part */
	expect_named(pg, "\"CD_ID\" bigint NOT NULL\n);", "\"CD_ID\"  bigint NOT NULL\n);",
		     "same tables, columns, keys and indexes, but the bytes differ at line 3");
	free(pg);
	free(my);
}

/* ---- the shared copy ---------------------------------------------------------- */

static int is_sql(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".sql") == 0;
}

/* 0 when both directories hold the same files, byte for byte; else 1, each difference named. */
static int compare_dirs(const char *repo, const char *shared)
{
	const char *dirs[2] = { repo, shared }, *names[2] = { "the repository", "../shared" };
	char pa[2048], pb[2048], msg[8192];
	int failed = 0, files = 0;

	for (int side = 0; side < 2; side++) {
		DIR *d = opendir(dirs[side]);
		struct dirent *e;

		if (!d) {
			fprintf(stderr, "cannot read '%s'\n", dirs[side]);
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			char *a, *b;
			size_t alen = 0, blen = 0;

			if (e->d_name[0] == '.')
				continue;
			snprintf(pa, sizeof(pa), "%s/%s", dirs[side], e->d_name);
			snprintf(pb, sizeof(pb), "%s/%s", dirs[!side], e->d_name);
			b = slurp(pb, &blen);
			if (!b) {
				fprintf(stderr, "hive-metastore-3.1/%s: only in %s\n", e->d_name,
					names[side]);
				failed = 1;
				continue;
			}
			if (side == 1) {
				free(b); /* both present: compared from the repository's side */
				continue;
			}
			a = slurp(pa, &alen);
			files++;
			if (!a) {
				fprintf(stderr, "cannot read '%s'\n", pa);
				failed = 1;
			} else if (text_diff(a, alen, b, blen, is_sql(e->d_name), names[0],
					     names[1], msg, sizeof(msg))) {
				fprintf(stderr, "hive-metastore-3.1/%s differs: %s\n", e->d_name,
					msg);
				failed = 1;
			}
			free(a);
			free(b);
		}
		closedir(d);
	}
	if (!failed)
		printf("hive-metastore-3.1: %d files equal to '%s'\n", files, shared);
	return failed;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixtures),
		cmocka_unit_test(test_names_first_difference),
	};

	if (argc > 1 && strcmp(argv[1], "shared") == 0) {
		const char *shared = getenv("MS_HMS_SHARED_DIR");
		char *repo = ms_test_fixture_path(SCHEMA_DIR);
		struct stat st;
		int rc;

		if (!shared || !*shared || stat(shared, &st) != 0 || !S_ISDIR(st.st_mode)) {
			printf("no shared copy of the schema ('%s'): skipped\n",
			       shared ? shared : "$MS_HMS_SHARED_DIR is not set");
			free(repo);
			return 77;
		}
		rc = compare_dirs(repo, shared);
		free(repo);
		return rc;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
