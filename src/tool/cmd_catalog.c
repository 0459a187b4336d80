/*
 * metasync catalog ls|show|put|rm: the way users and tests look into a
 * catalog and edit single entities, in the shapes the Glue API uses.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "util/buf.h"

#define STDIN_CAP (64u << 20)

typedef struct list {
	char **v;
	size_t n;
} list;

static int collect(const char *name, void *ctx, ms_error *err)
{
	list *l = ctx;
	char **nv = realloc(l->v, (l->n + 1) * sizeof(char *));

	if (!nv || !(nv[l->n] = strdup(name))) {
		if (nv)
			l->v = nv;
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	l->v = nv;
	l->n++;
	return 0;
}

static int collect_vkey(ms_entity *e, void *ctx, ms_error *err)
{
	int rc = collect(e->vkey, ctx, err);

	ms_entity_free(e);
	return rc;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_free(list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int do_ls(ms_catalog *cat, int argc, char **argv, int json, ms_error *err)
{
	list l = { 0 };
	cJSON *out = cJSON_CreateArray();
	size_t i;
	int rc;

	if (argc == 0)
		rc = ms_catalog_list_databases(cat, collect, &l, err);
	else if (argc == 1)
		rc = ms_catalog_list_tables(cat, argv[0], collect, &l, err);
	else
		rc = ms_catalog_scan_partitions(cat, argv[0], argv[1], MS_SCAN_KEYS_ONLY, collect_vkey,
						&l, err);
	if (rc == 0) {
		if (l.n)
			qsort(l.v, l.n, sizeof(char *), cmp);
		for (i = 0; i < l.n; i++) {
			if (argc >= 2) {
				cJSON *vals = cJSON_Parse(l.v[i]), *v;
				if (json) {
					cJSON_AddItemToArray(out, vals);
					continue;
				}
				int first = 1;
				cJSON_ArrayForEach(v, vals) {
					printf("%s%s", first ? "" : "\t", cJSON_IsString(v) ? v->valuestring : "");
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
	list_free(&l);
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
	if ((rc = ms_entity_to_glue(e, &b, !json, err)) < 0)
		goto done;
	printf("{%s\"%s\":%s%s%s}\n", json ? "" : "\n  ",
	       e->kind == MS_KIND_DATABASE ? "Database" : e->kind == MS_KIND_TABLE ? "Table" : "Partition",
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
			return ms_error_set(err, MS_ETOOBIG, "standard input is larger than %u bytes",
					    STDIN_CAP);
	if (ferror(stdin))
		return ms_error_set(err, MS_EIO, "cannot read standard input");
	return 0;
}

static int do_put(ms_catalog *cat, ms_error *err)
{
	ms_buf b = MS_BUF_INIT(STDIN_CAP);
	cJSON *doc = NULL, *inner;
	ms_entity *e = NULL;
	ms_kind kind;
	const char *end = NULL;
	int rc;

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
	/* Accept Glue's response wrappers as well as the bare entity. */
	if ((inner = cJSON_DetachItemFromObjectCaseSensitive(doc, "Partition")))
		kind = MS_KIND_PARTITION;
	else if ((inner = cJSON_DetachItemFromObjectCaseSensitive(doc, "Table")))
		kind = MS_KIND_TABLE;
	else if ((inner = cJSON_DetachItemFromObjectCaseSensitive(doc, "Database")))
		kind = MS_KIND_DATABASE;
	else {
		inner = doc;
		doc = NULL;
		kind = cJSON_HasObjectItem(inner, "Values") ? MS_KIND_PARTITION :
		       cJSON_HasObjectItem(inner, "DatabaseName") ? MS_KIND_TABLE : MS_KIND_DATABASE;
	}
	rc = ms_entity_from_glue(&e, kind, inner, NULL, NULL, err);
	if (rc < 0) {
		ms_error_prefix(err, "standard input: ");
		goto done;
	}
	if (kind == MS_KIND_DATABASE)
		rc = ms_catalog_put_database(cat, e, err);
	else if (kind == MS_KIND_TABLE)
		rc = ms_catalog_put_table(cat, e, err);
	else
		rc = ms_catalog_put_partitions(cat, e->database, e->table, &e, 1, err);
done:
	cJSON_Delete(doc);
	ms_entity_free(e);
	ms_buf_free(&b);
	return rc;
}

static int do_rm(ms_catalog *cat, int argc, char **argv, ms_error *err)
{
	char *vkey = NULL;
	int rc;

	if (argc == 1)
		return ms_catalog_delete_database(cat, argv[0], err);
	if (argc == 2)
		return ms_catalog_delete_table(cat, argv[0], argv[1], err);
	if ((rc = partition_key(&vkey, argc - 2, argv + 2, err)) < 0)
		return rc;
	rc = ms_catalog_delete_partitions(cat, argv[0], argv[1], (const char *const *)&vkey, 1, err);
	free(vkey);
	return rc;
}

int cmd_catalog(int argc, char **argv)
{
	const char *verb, *url;
	char **args;
	int nargs = 0, json = 0, i, rc;
	ms_catalog *cat = NULL;
	ms_open_options oo = { 0 };
	ms_error err;

	args = calloc((size_t)argc + 1, sizeof(char *));
	if (!args)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--") == 0) {
			for (i++; i < argc; i++)
				args[nargs++] = argv[i];
		} else if (strncmp(argv[i], "--", 2) == 0) {
			free(args);
			return ms_usage_error("catalog", "unknown option '%s'", argv[i]);
		} else
			args[nargs++] = argv[i];
	}
	if (nargs < 2) {
		free(args);
		return ms_usage_error("catalog", "needs a verb (ls, show, put, rm) and a catalog url");
	}
	verb = args[0];
	url = args[1];
	if (strcmp(verb, "ls") == 0 ? nargs > 4 :
	    strcmp(verb, "show") == 0 ? nargs < 3 :
	    strcmp(verb, "put") == 0 ? nargs != 2 :
	    strcmp(verb, "rm") == 0 ? nargs < 3 : 1) {
		rc = strcmp(verb, "ls") && strcmp(verb, "show") && strcmp(verb, "put") && strcmp(verb, "rm") ?
			     ms_usage_error("catalog", "unknown verb '%s'", verb) :
			     ms_usage_error("catalog", "wrong number of arguments for '%s'", verb);
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
		rc = do_put(cat, &err);
	else
		rc = do_rm(cat, nargs - 2, args + 2, &err);
	ms_catalog_close(cat);
	free(args);
	return rc < 0 ? ms_fail(&err) : 0;
}
