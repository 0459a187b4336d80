/*
 * The change feed of a metastore whose NOTIFICATION_LOG Hive's
 * DbNotificationListener fills: its events after the cursor (an event id),
 * in id order, as changes.
 *
 * Databases and tables are named by the event's DB_NAME and TBL_NAME.
 * Partition events are decoded from their message when it is JSON (Hive
 * 3's MESSAGE_FORMAT json-0.2): ADD_PARTITION and DROP_PARTITION list the
 * partitions' key values ("partitions", one object per partition, in the
 * order of the table's keys); ALTER_PARTITION names the partition before
 * ("keyValues") and holds the one after as Thrift JSON, whose field 1 is
 * its values: a partition whose values changed (a rename) is a drop and a
 * put.  A partition event that cannot be decoded (another format, such as
 * Hive 4's gzip, or a message without those fields) and INSERT name the
 * table, "every partition", which the engine then compares whole.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "drivers/catalog/hms_internal.h"
#include "metasync/model.h"

#define EVENTS_PAGE 1000 /* events per query (partition messages can be large) */
#define EVENTS_PAGE_TEXT "1000"
#define MAX_KEYS 64 /* partition keys of one table, at most */

/* An object's string members, in order, as one values key (new); 0 when it is not one. */
static int object_key(const cJSON *o, char **vkey, ms_error *err)
{
	const char *vals[MAX_KEYS];
	const cJSON *v;
	size_t n = 0;

	*vkey = NULL;
	if (!cJSON_IsObject(o))
		return 0;
	cJSON_ArrayForEach(v, o)
	{
		if (!cJSON_IsString(v) || n == MAX_KEYS)
			return 0;
		vals[n++] = v->valuestring;
	}
	if (!n)
		return 0;
	return ms_values_key(vkey, vals, n, err) < 0 ? -1 : 1;
}

/* The values (field 1: {"lst":["str",N,v...]}) of a partition in Thrift JSON, as a values key. */
static int thrift_key(const char *json, char **vkey, ms_error *err)
{
	const char *vals[MAX_KEYS];
	cJSON *o = json ? cJSON_Parse(json) : NULL;
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "1"),
							  "lst");
	int n = cJSON_GetArraySize(l), i, rc = 0;

	*vkey = NULL;
	if (n >= 3 && n - 2 <= MAX_KEYS && cJSON_IsNumber(cJSON_GetArrayItem(l, 1)) &&
	    cJSON_GetArrayItem(l, 1)->valueint == n - 2) {
		for (i = 2; i < n && cJSON_IsString(cJSON_GetArrayItem(l, i)); i++)
			vals[i - 2] = cJSON_GetArrayItem(l, i)->valuestring;
		if (i == n)
			rc = ms_values_key(vkey, vals, (size_t)(n - 2), err) < 0 ? -1 : 1;
	}
	cJSON_Delete(o);
	return rc;
}

/* One partition change of c's table (c's other fields set). */
static int say_partition(ms_change *c, ms_change_op op, const char *vkey, ms_change_cb cb,
			 void *ctx, ms_error *err)
{
	c->kind = MS_KIND_PARTITION;
	c->op = op;
	c->vkey = vkey;
	c->all_partitions = 0;
	return cb(c, ctx, err);
}

/*
 * A partition event's changes from its message, said when *said comes back
 * 1; when it cannot be decoded, nothing is said (*said 0).  0, or a failure,
 * or what the callback returned to stop.
 */
static int decode(const char *type, const char *format, const char *message, ms_change *c,
		  ms_change_cb cb, void *ctx, int *said, ms_error *err)
{
	int drop = strcmp(type, "DROP_PARTITION") == 0, rc = 0, k, n;
	char *before = NULL, *after = NULL;
	const cJSON *v;
	cJSON *m;

	*said = 0;
	if (!format || strncmp(format, "json", 4) != 0 || !message ||
	    !(drop || strcmp(type, "ADD_PARTITION") == 0 || strcmp(type, "ALTER_PARTITION") == 0) ||
	    !(m = cJSON_Parse(message)))
		return 0;
	if (strcmp(type, "ALTER_PARTITION") == 0) {
		/* the partition before, and after (a rename changes its values) */
		v = cJSON_GetObjectItemCaseSensitive(m, "partitionObjAfterJson");
		if ((rc = object_key(cJSON_GetObjectItemCaseSensitive(m, "keyValues"), &before,
				     err)) == 1 &&
		    (rc = thrift_key(cJSON_IsString(v) ? v->valuestring : NULL, &after, err)) ==
			    1) {
			*said = 1;
			rc = strcmp(before, after) != 0
				     ? say_partition(c, MS_CHANGE_DELETE, before, cb, ctx, err)
				     : 0;
			if (rc == 0)
				rc = say_partition(c, MS_CHANGE_PUT, after, cb, ctx, err);
		}
		goto done;
	}
	/* every partition decodes, or the event names the table */
	v = cJSON_GetObjectItemCaseSensitive(m, "partitions");
	n = cJSON_GetArraySize(v);
	for (k = 0, rc = n > 0; k < n && rc == 1; k++) {
		rc = object_key(cJSON_GetArrayItem(v, k), &before, err);
		free(before);
		before = NULL;
	}
	if (rc != 1)
		goto done;
	*said = 1;
	for (k = 0, rc = 0; k < n && rc == 0; k++) {
		if ((rc = object_key(cJSON_GetArrayItem(v, k), &before, err)) == 1)
			rc = say_partition(c, drop ? MS_CHANGE_DELETE : MS_CHANGE_PUT, before, cb,
					   ctx, err);
		free(before);
		before = NULL;
	}
done:
	free(before);
	free(after);
	cJSON_Delete(m);
	return rc < 0 || *said ? rc : 0;
}

/* The events of one page, from rs, said (last: the id of the last one read). */
static int say_events(hms_catalog *self, const rowset *rs, ms_change_cb cb, void *ctx,
		      long long *last, ms_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < rs->nrows && rc == 0; i++) {
		const char *type = CELL(rs, i, 1) ? CELL(rs, i, 1) : "";
		ms_change c;
		int said = 0;

		memset(&c, 0, sizeof(c));
		c.seq = strtoll(CELL(rs, i, 0), NULL, 10);
		c.time = CELL(rs, i, 5) ? strtoll(CELL(rs, i, 5), NULL, 10) * 1000 : 0;
		*last = c.seq;
		c.database = CELL(rs, i, 2);
		c.table = CELL(rs, i, 3) && *CELL(rs, i, 3) ? CELL(rs, i, 3) : NULL;
		c.op = strncmp(type, "DROP_", 5) == 0 ? MS_CHANGE_DELETE : MS_CHANGE_PUT;
		/* another hive catalog's event: passed over, the cursor moves on */
		if (!c.database || (CELL(rs, i, 4) && strcmp(CELL(rs, i, 4), self->ctlg) != 0))
			continue;
		if (strstr(type, "DATABASE")) {
			c.kind = MS_KIND_DATABASE;
			c.table = NULL;
		} else if (strstr(type, "PARTITION") || strcmp(type, "INSERT") == 0) {
			if (!c.table)
				continue;
			if ((rc = decode(type, CELL(rs, i, 6), CELL(rs, i, 7), &c, cb, ctx, &said,
					 err)) != 0 ||
			    said)
				continue;
			/* not decoded: the table is to be read again */
			c.kind = MS_KIND_TABLE;
			c.op = MS_CHANGE_PUT;
			c.all_partitions = 1;
		} else if (c.table) {
			c.kind = MS_KIND_TABLE;
		} else {
			continue;
		}
		rc = cb(&c, ctx, err);
	}
	return rc;
}

int hms_log_changes(hms_catalog *self, long long from, ms_change_cb cb, void *ctx,
		    char **next_cursor, ms_error *err)
{
	char fb[32];
	const char *p[1] = { fb };
	rowset rs = { 0 };
	long long last = from;
	int rc;

	for (;;) {
		size_t got;

		snprintf(fb, sizeof(fb), "%lld", last);
		/* the messages of partition events only: those of tables are not read */
		if ((rc = hms_q(self,
				"SELECT \"EVENT_ID\", \"EVENT_TYPE\", \"DB_NAME\", \"TBL_NAME\", "
				"\"CAT_NAME\", \"EVENT_TIME\", \"MESSAGE_FORMAT\", CASE WHEN "
				"\"EVENT_TYPE\" IN ('ADD_PARTITION', 'DROP_PARTITION', "
				"'ALTER_PARTITION') THEN \"MESSAGE\" END FROM \"NOTIFICATION_LOG\" "
				"WHERE \"EVENT_ID\" > ? ORDER BY \"EVENT_ID\" "
				"LIMIT " EVENTS_PAGE_TEXT,
				p, 1, &rs, NULL, err)) < 0)
			return rc;
		got = rs.nrows;
		rc = say_events(self, &rs, cb, ctx, &last, err);
		hms_rowset_free(&rs);
		if (rc != 0)
			return rc;
		if (got < EVENTS_PAGE)
			break;
	}
	snprintf(fb, sizeof(fb), "%lld", last);
	if (!(*next_cursor = strdup(fb)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}
