/*
 * metasync catalog ls|show|put|rm: the way users and tests look into a
 * catalog and edit single entities, in the shapes the Glue API uses.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tool.h"
#include "util/buf.h"
#include "util/strlist.h"

#define STDIN_CAP (64u << 20)

static int collect_vkey(ms_entity *e, void *ctx, ms_error *err)
{
	int rc = ms_strlist_collect(e->vkey, ctx, err);

	ms_entity_free(e);
	return rc;
}

static int do_ls(ms_catalog *cat, int argc, char **argv, int json, ms_error *err)
{
	ms_strlist l = { 0 };
	cJSON *out = cJSON_CreateArray();
	size_t i;
	int rc;

	if (argc == 0)
		rc = ms_catalog_list_databases(cat, ms_strlist_collect, &l, err);
	else if (argc == 1)
		rc = ms_catalog_list_tables(cat, argv[0], ms_strlist_collect, &l, err);
	else if ((rc = ms_catalog_verify_table(cat, argv[0], argv[1], err)) == 0)
		/* a snapshot's files are checked against its manifest before they are read */
		rc = ms_catalog_scan_partitions(cat, argv[0], argv[1], MS_SCAN_KEYS_ONLY,
						collect_vkey, &l, err);
	if (rc == 0) {
		ms_strlist_sort(&l);
		for (i = 0; i < l.n; i++) {
			if (argc >= 2) {
				cJSON *vals = cJSON_Parse(l.v[i]), *v;
				if (json) {
					cJSON_AddItemToArray(out, vals);
					continue;
				}
				int first = 1;
				cJSON_ArrayForEach(v, vals)
				{
					printf("%s%s", first ? "" : "\t",
					       cJSON_IsString(v) ? v->valuestring : "");
					first = 0;
				}
				printf("\n");
				cJSON_Delete(vals);
			} else if (json) {
				cJSON_AddItemToArray(out, cJSON_CreateString(l.v[i]));
			} else {
				printf("%s\n", l.v[i]);
			}
		}
		if (json) {
			char *s = cJSON_PrintUnformatted(out);
			printf("%s\n", s);
			free(s);
		}
	}
	cJSON_Delete(out);
	ms_strlist_free(&l);
	return rc;
}

static int partition_key(char **vkey, int argc, char **argv, ms_error *err)
{
	return ms_values_key(vkey, (const char *const *)argv, (size_t)argc, err);
}

static int do_show(ms_catalog *cat, int argc, char **argv, int json, ms_error *err)
{
	ms_entity *e = NULL;
	char *vkey = NULL;
	ms_buf b = MS_BUF_INIT(1u << 30);
	int rc;

	if (argc == 1)
		rc = ms_catalog_get_database(cat, argv[0], &e, err);
	else if (argc == 2)
		rc = ms_catalog_get_table(cat, argv[0], argv[1], &e, err);
	else if ((rc = partition_key(&vkey, argc - 2, argv + 2, err)) == 0)
		rc = ms_catalog_get_partition(cat, argv[0], argv[1], vkey, &e, err);
	if (rc < 0)
		goto done;
	if ((rc = ms_entity_to_glue_output(e, &b, !json, err)) < 0)
		goto done;
	printf("{%s\"%s\":%s%s%s}\n", json ? "" : "\n  ",
	       e->kind == MS_KIND_DATABASE ? "Database"
	       : e->kind == MS_KIND_TABLE  ? "Table"
					   : "Partition",
	       json ? "" : " ", b.ptr, json ? "" : "\n");
done:
	free(vkey);
	ms_buf_free(&b);
	ms_entity_free(e);
	return rc;
}

static int read_stdin(ms_buf *b, ms_error *err)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (ms_buf_add(b, chunk, n) < 0)
			return ms_error_set(err, MS_ETOOBIG,
					    "standard input is larger than %u bytes", STDIN_CAP);
	if (ferror(stdin))
		return ms_error_set(err, MS_EIO, "cannot read standard input");
	return 0;
}

/* What put takes besides the entity: --replace, and names for AWS CLI input shapes. */
typedef struct put_args {
	int replace;
	const char *database; /* --database: as aws glue create-table --database-name */
	const char *table;    /* --table: as aws glue create-partition --table-name */
} put_args;

/* One accepted wrapper of an entity: its member name, kind, what may stand beside it. */
typedef struct put_shape {
	const char *member;
	ms_kind kind;
	int input; /* an AWS CLI input shape: names may come from beside it or flags */
} put_shape;

static const put_shape put_shapes[] = {
	{ "Database", MS_KIND_DATABASE, 0 },       /* glue get-database's output */
	{ "Table", MS_KIND_TABLE, 0 },             /* glue get-table's */
	{ "Partition", MS_KIND_PARTITION, 0 },     /* glue get-partition's */
	{ "DatabaseInput", MS_KIND_DATABASE, 1 },  /* glue create-database --cli-input-json */
	{ "TableInput", MS_KIND_TABLE, 1 },        /* glue create-table --cli-input-json */
	{ "PartitionInput", MS_KIND_PARTITION, 1 } /* glue create-partition --cli-input-json */
};

/*
 * The name for `field` (DatabaseName, TableName) of an entity: from the
 * entity itself, from beside an input wrapper (outer, may be NULL) and from
 * flag; all that are given must agree (names fold to lowercase).  *out is
 * borrowed, NULL when none is given.
 */
static int put_name(const cJSON *inner, const cJSON *outer, const char *field, const char *flag,
		    const char *flag_value, const char **out, ms_error *err)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(inner, field);
	const cJSON *beside = outer ? cJSON_GetObjectItemCaseSensitive(outer, field) : NULL;
	const char *v = flag_value;

	if (beside && !cJSON_IsString(beside))
		return ms_error_set(err, MS_EINVAL, "standard input: field '%s' is not a string",
				    field);
	if (beside) {
		if (v && strcasecmp(v, beside->valuestring) != 0)
			return ms_error_set(err, MS_EINVAL,
					    "standard input: %s '%s' is not %s '%s'", field,
					    beside->valuestring, flag, v);
		v = beside->valuestring;
	}
	if (v && cJSON_IsString(in) && strcasecmp(v, in->valuestring) != 0)
		return ms_error_set(err, MS_EINVAL, "standard input: %s '%s' is not %s '%s'%s",
				    field, in->valuestring, beside ? field : flag, v,
				    beside ? " beside it" : "");
	*out = v;
	return 0;
}

/* Parse standard input's document (stolen) into a new entity, in any accepted shape. */
static int put_entity_from(cJSON *doc, const put_args *pa, ms_entity **out, ms_error *err)
{
	const put_shape *shape = NULL;
	const cJSON *m;
	cJSON *inner = NULL;
	const char *db = NULL, *table = NULL;
	ms_kind kind;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(put_shapes) / sizeof(put_shapes[0]); i++) {
		if (!cJSON_HasObjectItem(doc, put_shapes[i].member))
			continue;
		if (shape) {
			rc = ms_error_set(err, MS_EINVAL,
					  "standard input holds both '%s' and '%s': put one "
					  "entity at a time",
					  shape->member, put_shapes[i].member);
			goto done;
		}
		shape = &put_shapes[i];
	}
	if (shape) {
		cJSON_ArrayForEach(m, doc)
		{
			/* Beside an AWS CLI input: the names it takes (and the account, unused). */
			int ok = strcmp(m->string, shape->member) == 0 ||
				 (shape->input && strcmp(m->string, "CatalogId") == 0) ||
				 (shape->input && shape->kind != MS_KIND_DATABASE &&
				  strcmp(m->string, "DatabaseName") == 0) ||
				 (shape->input && shape->kind == MS_KIND_PARTITION &&
				  strcmp(m->string, "TableName") == 0);
			if (!ok) {
				rc = ms_error_set(err, MS_EINVAL,
						  "standard input: unexpected member '%s' beside "
						  "'%s'",
						  m->string, shape->member);
				goto done;
			}
		}
		inner = cJSON_DetachItemFromObjectCaseSensitive(doc, shape->member);
		kind = shape->kind;
		if (!cJSON_IsObject(inner)) {
			rc = ms_error_set(err, MS_EINVAL,
					  "standard input: '%s' is not a JSON object",
					  shape->member);
			goto done;
		}
	} else {
		inner = doc;
		doc = NULL;
		if (cJSON_HasObjectItem(inner, "Values"))
			kind = MS_KIND_PARTITION;
		else if (cJSON_HasObjectItem(inner, "DatabaseName") || pa->database)
			kind = MS_KIND_TABLE;
		else
			kind = MS_KIND_DATABASE;
	}
	if (kind == MS_KIND_DATABASE && (pa->database || pa->table)) {
		rc = ms_error_set(err, MS_EUSAGE,
				  "%s names the database of a table or partition, "
				  "and standard input is a database (omit it)",
				  pa->database ? "--database" : "--table");
		goto done;
	}
	if (kind == MS_KIND_TABLE && pa->table) {
		rc = ms_error_set(err, MS_EUSAGE,
				  "--table names the table of a partition, and "
				  "standard input is a table (omit it)");
		goto done;
	}
	/* An input shape holds what the AWS CLI would send, nothing more. */
	if (shape && shape->input && (rc = ms_glue_input_check(kind, inner, err)) < 0) {
		ms_error_prefix(err, "standard input: ");
		goto done;
	}
	if (kind != MS_KIND_DATABASE &&
	    (rc = put_name(inner, shape && shape->input ? doc : NULL, "DatabaseName", "--database",
			   pa->database, &db, err)) < 0)
		goto done;
	if (kind == MS_KIND_PARTITION &&
	    (rc = put_name(inner, shape && shape->input ? doc : NULL, "TableName", "--table",
			   pa->table, &table, err)) < 0)
		goto done;
	if (kind != MS_KIND_DATABASE && !db && !cJSON_HasObjectItem(inner, "DatabaseName")) {
		rc = ms_error_set(err, MS_EUSAGE,
				  "standard input: the %s names no database: give "
				  "--database NAME, or DatabaseName",
				  ms_kind_name(kind));
		goto done;
	}
	if (kind == MS_KIND_PARTITION && !table && !cJSON_HasObjectItem(inner, "TableName")) {
		rc = ms_error_set(err, MS_EUSAGE,
				  "standard input: the partition names no table: "
				  "give --table NAME, or TableName");
		goto done;
	}
	rc = ms_entity_from_glue(out, kind, inner, db, table, err);
	inner = NULL;
	if (rc < 0)
		ms_error_prefix(err, "standard input: ");
done:
	cJSON_Delete(inner);
	cJSON_Delete(doc);
	return rc;
}

/* "database 'web'", "table 'web.events'", "partition '[\"2024\"]' of 'web.events'" */
static void entity_label(const ms_entity *e, char *out, size_t n)
{
	if (e->kind == MS_KIND_DATABASE)
		snprintf(out, n, "database '%s'", e->database);
	else if (e->kind == MS_KIND_TABLE)
		snprintf(out, n, "table '%s.%s'", e->database, e->table);
	else
		snprintf(out, n, "partition '%s' of '%s.%s'", e->vkey, e->database, e->table);
}

/* A table's partition keys for messages, "keyed by (dt, hour)", into b. */
static void key_names(const ms_entity *t, ms_buf *b)
{
	const cJSON *k, *keys = cJSON_GetObjectItemCaseSensitive(t->doc, "PartitionKeys");
	int first = 1;

	if (cJSON_GetArraySize(keys) == 0) {
		ms_buf_add(b, "without partition keys", 22);
		return;
	}
	ms_buf_add(b, "keyed by (", 10);
	cJSON_ArrayForEach(k, keys)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(k, "Name");
		const char *s = cJSON_IsString(name) ? name->valuestring : "?";

		if (!first)
			ms_buf_add(b, ", ", 2);
		ms_buf_add(b, s, strlen(s));
		first = 0;
	}
	ms_buf_add(b, ")", 1);
}

/* 1 when a and b have the same partition keys, by count and name (case aside). */
static int same_keys(const ms_entity *a, const ms_entity *b)
{
	const cJSON *ka = cJSON_GetObjectItemCaseSensitive(a->doc, "PartitionKeys");
	const cJSON *kb = cJSON_GetObjectItemCaseSensitive(b->doc, "PartitionKeys");
	int i, n = cJSON_GetArraySize(ka);

	if (n != cJSON_GetArraySize(kb))
		return 0;
	for (i = 0; i < n; i++) {
		const cJSON *na, *nb;

		na = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ka, i), "Name");
		nb = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(kb, i), "Name");

		if (!cJSON_IsString(na) || !cJSON_IsString(nb) ||
		    strcasecmp(na->valuestring, nb->valuestring) != 0)
			return 0;
	}
	return 1;
}

static int count_one(ms_entity *e, void *ctx, ms_error *err)
{
	(void)err;
	ms_entity_free(e);
	(*(unsigned long long *)ctx)++;
	return 0;
}

/*
 * Refuse what would leave partitions that do not fit their table: a table
 * replaced with other partition keys while it has partitions, a partition
 * with another number of values than its table has keys.  old: the table
 * put replaces (NULL when new).
 */
static int check_fit(ms_catalog *cat, const ms_entity *e, const ms_entity *old, ms_error *err)
{
	ms_buf b1 = MS_BUF_INIT(1u << 20), b2 = MS_BUF_INIT(1u << 20);
	ms_entity *t = NULL;
	unsigned long long n = 0;
	int rc = 0;

	if (e->kind == MS_KIND_TABLE && old && !same_keys(old, e)) {
		if ((rc = ms_catalog_scan_partitions(cat, e->database, e->table, MS_SCAN_KEYS_ONLY,
						     count_one, &n, err)) < 0)
			goto done;
		if (n) {
			key_names(old, &b1);
			key_names(e, &b2);
			rc = ms_error_set(err, MS_EINVAL,
					  "table '%s.%s' has %llu partition%s "
					  "%s: a replacement %s would not fit them (remove "
					  "them first, or keep the keys)",
					  e->database, e->table, n, n == 1 ? "" : "s",
					  ms_buf_cstr(&b1), ms_buf_cstr(&b2));
		}
	} else if (e->kind == MS_KIND_PARTITION) {
		if ((rc = ms_catalog_get_table(cat, e->database, e->table, &t, err)) < 0)
			goto done;
		rc = ms_partition_check_values(t, e, err);
	}
done:
	ms_entity_free(t);
	ms_buf_free(&b1);
	ms_buf_free(&b2);
	return rc;
}

/*
 * Write e (borrowed) in one transaction: create it, or with replace set
 * replace it; *existed says which.  An entity that exists without replace is
 * MS_EEXISTS; partitions that would not fit their table, MS_EINVAL.
 */
static int put_entity(ms_catalog *cat, const ms_entity *e, int replace, int *existed, ms_error *err)
{
	ms_entity *old = NULL, *copy = (ms_entity *)e;
	char label[MS_NAME_MAX * 2 + 1200];
	int rc;

	*existed = 0;
	if ((rc = ms_catalog_begin(cat, err)) < 0)
		return rc;
	if ((rc = ms_catalog_lock(cat, e->database, e->kind == MS_KIND_DATABASE ? NULL : e->table,
				  err)) < 0)
		goto done;
	if (e->kind == MS_KIND_DATABASE)
		rc = ms_catalog_get_database(cat, e->database, &old, err);
	else if (e->kind == MS_KIND_TABLE)
		rc = ms_catalog_get_table(cat, e->database, e->table, &old, err);
	else
		rc = ms_catalog_get_partition(cat, e->database, e->table, e->vkey, &old, err);
	if (rc == MS_ENOTFOUND) {
		ms_error_clear(err);
		rc = 0;
	} else if (rc < 0) {
		goto done;
	} else {
		*existed = 1;
	}
	if (*existed && !replace) {
		entity_label(e, label, sizeof(label));
		rc = ms_error_set(err, MS_EEXISTS,
				  "%s already exists in '%s': give --replace to "
				  "replace it",
				  label, ms_catalog_url(cat));
		goto done;
	}
	if ((rc = check_fit(cat, e, old, err)) < 0)
		goto done;
	if (e->kind == MS_KIND_DATABASE)
		rc = ms_catalog_put_database(cat, e, err);
	else if (e->kind == MS_KIND_TABLE)
		rc = ms_catalog_put_table(cat, e, err);
	else
		rc = ms_catalog_put_partitions(cat, e->database, e->table, &copy, 1, err);
	if (rc == 0)
		rc = ms_catalog_commit(cat, err);
done:
	if (rc < 0)
		ms_catalog_rollback(cat, NULL);
	ms_entity_free(old);
	return rc;
}

static int do_put(ms_catalog *cat, const put_args *pa, ms_error *err)
{
	ms_buf b = MS_BUF_INIT(STDIN_CAP);
	cJSON *doc = NULL;
	ms_entity *e = NULL;
	const char *end = NULL;
	char label[MS_NAME_MAX * 2 + 1200];
	int rc, existed = 0;

	if ((rc = read_stdin(&b, err)) < 0)
		goto done;
	if (!(doc = cJSON_ParseWithLengthOpts(ms_buf_cstr(&b), b.len, &end, 0))) {
		rc = ms_error_set(err, MS_EINVAL, "standard input is not valid JSON at byte %zu",
				  end ? (size_t)(end - ms_buf_cstr(&b)) : (size_t)0);
		goto done;
	}
	if (!cJSON_IsObject(doc)) {
		rc = ms_error_set(err, MS_EINVAL, "standard input is not a JSON object");
		goto done;
	}
	rc = put_entity_from(doc, pa, &e, err);
	doc = NULL;
	if (rc < 0 || (rc = put_entity(cat, e, pa->replace, &existed, err)) < 0)
		goto done;
	if (pa->replace) {
		entity_label(e, label, sizeof(label));
		printf("metasync catalog put: %s %s in '%s'\n", existed ? "replaced" : "created",
		       label, ms_catalog_url(cat));
	}
done:
	cJSON_Delete(doc);
	ms_entity_free(e);
	ms_buf_free(&b);
	return rc;
}

/* Delete one entity in one transaction; a partition that does not exist is MS_ENOTFOUND. */
static int do_rm(ms_catalog *cat, int argc, char **argv, ms_error *err)
{
	ms_entity *part = NULL;
	char *vkey = NULL;
	int rc;

	if (argc == 1)
		return ms_catalog_delete_database(cat, argv[0], err);
	if (argc == 2)
		return ms_catalog_delete_table(cat, argv[0], argv[1], err);
	if ((rc = partition_key(&vkey, argc - 2, argv + 2, err)) < 0)
		return rc;
	if ((rc = ms_catalog_begin(cat, err)) < 0)
		goto done;
	if ((rc = ms_catalog_lock(cat, argv[0], argv[1], err)) < 0 ||
	    (rc = ms_catalog_get_partition(cat, argv[0], argv[1], vkey, &part, err)) < 0 ||
	    (rc = ms_catalog_delete_partitions(cat, argv[0], argv[1], (const char *const *)&vkey, 1,
					       err)) < 0 ||
	    (rc = ms_catalog_commit(cat, err)) < 0)
		ms_catalog_rollback(cat, NULL);
done:
	ms_entity_free(part);
	free(vkey);
	return rc;
}

/* The value of option name at argv[*i] ("--name V" or "--name=V"), or NULL when not it. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/* The text of `metasync help catalog`, beside the options it describes. */
static const char usage[] =
	"usage: metasync catalog ls URL [DB [TABLE]] [--json]\n"
	"       metasync catalog show URL DB [TABLE [VALUE...]] [--json]\n"
	"       metasync catalog put URL [--replace] [--database DB [--table TABLE]] < "
	"ENTITY.json\n"
	"       metasync catalog rm URL DB [TABLE [VALUE...]]\n\n"
	"ls lists database names, a database's table names, or a table's partition\n"
	"values (--json: an array of strings, or of arrays of strings).\n"
	"show prints one entity; --json prints exactly the object Glue's GetDatabase,\n"
	"GetTable or GetPartition returns: members Glue's shapes lack (such as those a\n"
	"Hive Metastore source adds) stay in the catalog and its snapshots, not here.\n"
	"put reads one entity on standard input and creates it; one that exists is\n"
	"refused (exit 1) unless --replace, which replaces it whole (fields not given\n"
	"are gone) and says whether it created or replaced.  Shapes taken:\n"
	"  {\"Database\": ...}, {\"Table\": ...}, {\"Partition\": ...}   what show --json prints\n"
	"                             (a table carries DatabaseName; a partition\n"
	"                             DatabaseName and TableName), or the bare object;\n"
	"  {\"DatabaseInput\": ...}, {\"TableInput\": ...}, {\"PartitionInput\": ...}\n"
	"                             the AWS CLI's (aws glue create-database, create-table,\n"
	"                             create-partition --cli-input-json), with DatabaseName\n"
	"                             and TableName beside them or as --database and --table;\n"
	"                             they hold only the members of Glue's input shape.\n"
	"Every value must meet Glue's limits (lengths, one-line names, SortOrder 0 or 1, ...).\n"
	"Database and table names are folded to lowercase ('Sales' is 'sales');\n"
	"partition values are kept as given.  A table replaced with other partition\n"
	"keys (count or names) while it has partitions, and a partition whose values\n"
	"do not match its table's keys, are refused.\n"
	"rm deletes a database (with its tables), a table (with its partitions) or a\n"
	"partition; one that does not exist is an error (exit 1).\n\n"
	"  --json                     ls and show: JSON (an error: {status, message})\n"
	"  --replace                  put: replace an entity that exists\n"
	"  --database DB, --table T   put: the names an AWS CLI input shape leaves out\n";

static int cmd_catalog(int argc, char **argv)
{
	const char *verb, *url, *v;
	char **args;
	int nargs = 0, json = 0, missing = 0, i, rc;
	put_args pa = { 0 };
	ms_catalog *cat = NULL;
	ms_open_options oo = { 0 };
	ms_error err;

	ms_json_errors_scan(argc, argv);
	args = calloc((size_t)argc + 1, sizeof(char *));
	if (!args)
		return MS_EXIT_ERROR;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--replace") == 0) {
			pa.replace = 1;
		} else if ((v = option_value(argc, argv, &i, "--database", &missing))) {
			pa.database = v;
		} else if ((v = option_value(argc, argv, &i, "--table", &missing))) {
			pa.table = v;
		} else if (missing) {
			free(args);
			return ms_usage_error("catalog", "option '%s' needs a value", argv[i]);
		} else if (strcmp(argv[i], "--") == 0) {
			for (i++; i < argc; i++)
				args[nargs++] = argv[i];
		} else if (strncmp(argv[i], "--", 2) == 0) {
			free(args);
			return ms_usage_error("catalog", "unknown option '%s'", argv[i]);
		} else {
			args[nargs++] = argv[i];
		}
	}
	if (nargs < 2) {
		free(args);
		return ms_usage_error("catalog",
				      "needs a verb (ls, show, put, rm) and a catalog url");
	}
	verb = args[0];
	url = args[1];
	if (strcmp(verb, "ls") == 0     ? nargs > 4
	    : strcmp(verb, "show") == 0 ? nargs < 3
	    : strcmp(verb, "put") == 0  ? nargs != 2
	    : strcmp(verb, "rm") == 0   ? nargs < 3
					: 1) {
		rc = strcmp(verb, "ls") && strcmp(verb, "show") && strcmp(verb, "put") &&
				     strcmp(verb, "rm")
			     ? ms_usage_error("catalog", "unknown verb '%s'", verb)
			     : ms_usage_error("catalog", "wrong number of arguments for '%s'",
					      verb);
		free(args);
		return rc;
	}
	/* Options the verb would not use are mistakes, not no-ops. */
	if (json && strcmp(verb, "ls") != 0 && strcmp(verb, "show") != 0) {
		free(args);
		return ms_usage_error("catalog", "--json goes with ls and show, not %s", verb);
	}
	if ((pa.replace || pa.database || pa.table) && strcmp(verb, "put") != 0) {
		rc = ms_usage_error("catalog", "%s goes with put, not %s",
				    pa.replace    ? "--replace"
				    : pa.database ? "--database"
						  : "--table",
				    verb);
		free(args);
		return rc;
	}
	ms_error_clear(&err);
	oo.mode = strcmp(verb, "put") == 0 ? MS_OPEN_WRITE : MS_OPEN_READ;
	if (strcmp(verb, "put") == 0 && strncmp(url, "sqlite:", 7) != 0)
		oo.mode = MS_OPEN_READ;
	if ((rc = ms_catalog_open(&cat, url, &oo, &err)) < 0) {
		free(args);
		return ms_fail(&err);
	}
	if (strcmp(verb, "ls") == 0)
		rc = do_ls(cat, nargs - 2, args + 2, json, &err);
	else if (strcmp(verb, "show") == 0)
		rc = do_show(cat, nargs - 2, args + 2, json, &err);
	else if (strcmp(verb, "put") == 0)
		rc = do_put(cat, &pa, &err);
	else
		rc = do_rm(cat, nargs - 2, args + 2, &err);
	ms_catalog_close(cat);
	free(args);
	if (rc == MS_EUSAGE)
		return ms_usage_error("catalog", "%s", err.message);
	return rc < 0 ? ms_fail(&err) : MS_EXIT_OK;
}

const ms_command ms_cmd_catalog = {
	.name = "catalog",
	.run = cmd_catalog,
	.summary = "look into and edit a catalog",
	.usage = usage,
};
