/*
 * Fuzz target: the Glue-compatible server's operations past the signature
 * (ms_glue_call_as), on an embedded catalog in a temporary folder holding
 * a database `db`, a table `t` partitioned by (dt date, h int, s string)
 * and a few partitions.  The input is an operation name, a newline, and
 * the request body.  Whatever comes, the answer is a status Glue uses and
 * a JSON object; an error carries __type and Message on one line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "server/glue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char accounts_yaml[] = "accounts:\n"
				    "  - id: \"111111111111\"\n"
				    "    keys:\n"
				    "      - id: AKIAFUZZFUZZFUZZ0001\n"
				    "        secret: fuzz\n"
				    "  - id: \"222222222222\"\n"
				    "    keys:\n"
				    "      - id: AKIAFUZZFUZZFUZZ0002\n"
				    "        secret: fuzz\n"
				    "grants:\n"
				    "  - to: \"222222222222\"\n"
				    "    catalog: \"111111111111\"\n"
				    "    databases: [\"db\"]\n"
				    "    access: read\n";

static const char *const setup[][2] = {
	{ "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"db\"}}" },
	{ "CreateTable",
	  "{\"DatabaseName\":\"db\",\"TableInput\":{\"Name\":\"t\",\"PartitionKeys\":["
	  "{\"Name\":\"dt\",\"Type\":\"date\"},{\"Name\":\"h\",\"Type\":\"int\"},"
	  "{\"Name\":\"s\",\"Type\":\"string\"}],\"StorageDescriptor\":{\"Location\":"
	  "\"s3://b/t/\",\"Columns\":[{\"Name\":\"x\",\"Type\":\"bigint\"}]}}}" },
	{ "BatchCreatePartition",
	  "{\"DatabaseName\":\"db\",\"TableName\":\"t\",\"PartitionInputList\":["
	  "{\"Values\":[\"2024-01-01\",\"1\",\"a\"]},{\"Values\":[\"2024-01-02\",\"2\",\"b\"]},"
	  "{\"Values\":[\"2024-02-01\",\"3\",\"__HIVE_DEFAULT_PARTITION__\"]}]}" },
};

static ms_glue *server;
static ms_accounts *accounts;
static char dir[] = "/tmp/metasync-fuzz-serve-XXXXXX";
static char path[sizeof(dir) + 16];

static void check(const ms_http_response *r)
{
	cJSON *j;
	const cJSON *type, *msg;

	if (r->close)
		abort();
	if (r->status != 200 && r->status != 400 && r->status != 500)
		abort();
	if (!(j = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len)) ||
	    !cJSON_IsObject(j))
		abort();
	if (r->status != 200) {
		type = cJSON_GetObjectItemCaseSensitive(j, "__type");
		msg = cJSON_GetObjectItemCaseSensitive(j, "Message");
		if (!cJSON_IsString(type) || !cJSON_IsString(msg) || strchr(msg->valuestring, '\n'))
			abort();
	}
	cJSON_Delete(j);
}

static void call(const char *op, const char *body, size_t len)
{
	ms_http_response r;

	memset(&r, 0, sizeof(r));
	ms_buf_init(&r.body, MS_HTTP_API_BODY_MAX);
	ms_glue_call_as(server, len % 7 == 3 ? "222222222222" : "111111111111", op, body, len, &r);
	check(&r);
	ms_buf_free(&r.body);
}

static void cleanup(void)
{
	ms_glue_free(server);
	ms_accounts_free(accounts);
	unlink(path);
	snprintf(path, sizeof(path), "%s/c.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/c.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static void start(void)
{
	ms_glue_options o;
	ms_error err;
	size_t i;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/c.db", dir);
	if (ms_accounts_parse("accounts", accounts_yaml, strlen(accounts_yaml), &accounts, &err) <
	    0)
		abort();
	memset(&o, 0, sizeof(o));
	o.catalog_path = path;
	o.accounts = accounts;
	o.log = fopen("/dev/null", "w");
	if (ms_glue_new(&server, &o, &err) < 0)
		abort();
	for (i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		call(setup[i][0], setup[i][1], strlen(setup[i][1]));
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char op[64];
	const uint8_t *nl = memchr(data, '\n', size < sizeof(op) ? size : sizeof(op));
	size_t oplen;

	if (!server)
		start();
	if (!nl)
		return 0;
	oplen = (size_t)(nl - data);
	memcpy(op, data, oplen);
	op[oplen] = '\0';
	call(op, (const char *)nl + 1, size - oplen - 1);
	return 0;
}
