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
 *
 * This file holds the driver's table of slots, opening and closing,
 * transactions and the change feed; the rest is one file per concern, with
 * what they share in hms_internal.h: hms_rows.c (row sets, statements,
 * inserts), hms_ids.c (ids), hms_stash.c (the stash and checks),
 * hms_sd_read.c and hms_sd_write.c (storage descriptors), hms_db.c,
 * hms_table.c, hms_part_read.c and hms_part_write.c (the entities), and
 * hms_ahead.c (the scans' read-ahead thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/catalog/hms_internal.h"
#include "util/duration.h"
#include "util/url.h"

/* ---- transactions ------------------------------------------------------- */

int hms_call_begin(hms_catalog *self, ms_error *err)
{
	if (self->in_txn)
		return hms_q(self, "SAVEPOINT ms_call", NULL, 0, NULL, NULL, err);
	return self->conn->ops->begin(self->conn, err);
}

int hms_call_end(hms_catalog *self, int rc, ms_error *err)
{
	ms_error ignored;

	if (rc == 0) {
		rc = self->in_txn
			     ? hms_q(self, "RELEASE SAVEPOINT ms_call", NULL, 0, NULL, NULL, err)
			     : self->conn->ops->commit(self->conn, err);
		if (rc == 0)
			return 0;
	}
	if (self->in_txn)
		hms_q(self, "ROLLBACK TO SAVEPOINT ms_call", NULL, 0, NULL, NULL, &ignored);
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
	char dn[HMS_NAME_BUF], tn[HMS_NAME_BUF], idb[32];
	const char *p[2];
	long long id;
	int rc;

	if (!self->in_txn)
		return ms_error_set(err, MS_EINVAL, "no transaction is open on '%s' to lock in",
				    cat->url);
	if ((rc = hms_fold(dn, sizeof(dn), db, "database", err)) < 0 ||
	    (table && (rc = hms_fold(tn, sizeof(tn), table, "table", err)) < 0))
		return rc;
	if (!table) {
		p[0] = dn;
		p[1] = self->ctlg;
		return hms_storable(self, dn)
			       ? hms_q(self,
				       "SELECT \"DB_ID\" FROM \"DBS\" WHERE \"NAME\" = ? AND "
				       "\"CTLG_NAME\" = ? FOR UPDATE",
				       p, 2, NULL, NULL, err)
			       : 0;
	}
	if ((rc = hms_db_id(self, dn, &id, 0, err)) < 0 || id < 0 || !hms_storable(self, tn))
		return rc;
	snprintf(idb, sizeof(idb), "%lld", id);
	p[0] = idb;
	p[1] = tn;
	return hms_q(self,
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
	hms_ahead_stop(self);
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
	hms_ahead_stop(self);
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

/* ---- change feed --------------------------------------------------------- */

/* The notification log's newest EVENT_ID into *max (new); NULL when the log is empty. */
static int log_head(hms_catalog *self, char **max, ms_error *err)
{
	rowset rs = { 0 };
	int rc;

	*max = NULL;
	if ((rc = hms_q(self, "SELECT MAX(\"EVENT_ID\") FROM \"NOTIFICATION_LOG\"", NULL, 0, &rs,
			NULL, err)) < 0)
		return rc;
	if (rs.nrows && CELL(&rs, 0, 0) && !(*max = strdup(CELL(&rs, 0, 0))))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	hms_rowset_free(&rs);
	return rc;
}

/*
 * Which feed answers: the cursor's kind when there is one; else the URL's
 * ?feed=, and with auto the notification log when it holds a row, the
 * polling feed when it is empty (nobody fills it).  1 polling, 0 the log.
 */
static int feed_polls(hms_catalog *self, const char *cursor, ms_error *err)
{
	char *max = NULL;
	int rc;

	if (cursor && *cursor)
		return strncmp(cursor, "poll:", 5) == 0;
	if (self->feed != HMS_FEED_AUTO)
		return self->feed == HMS_FEED_POLL;
	if ((rc = log_head(self, &max, err)) < 0)
		return rc;
	rc = !max;
	free(max);
	return rc;
}

/* One read of the log's head decides the feed (feed_polls) and is the cursor. */
static int hms_change_head(ms_catalog *cat, char **cursor, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	int rc;

	*cursor = NULL;
	if (self->feed == HMS_FEED_POLL)
		return hms_poll_head(self, self->feed_scan_ms, cursor, err);
	if ((rc = log_head(self, cursor, err)) < 0 || *cursor)
		return rc;
	if (self->feed == HMS_FEED_AUTO) /* an empty log: nobody fills it */
		return hms_poll_head(self, self->feed_scan_ms, cursor, err);
	if (!(*cursor = strdup("0")))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}

static int hms_changes_since(ms_catalog *cat, const char *cursor, ms_change_cb cb, void *ctx,
			     char **next_cursor, ms_error *err)
{
	hms_catalog *self = (hms_catalog *)cat;
	long long from = 0;
	char *end = NULL;
	rowset rs = { 0 };
	int rc;

	if ((rc = feed_polls(self, cursor, err)) != 0)
		return rc < 0 ? rc
			      : hms_poll_changes(self, cursor, self->feed_scan_ms, cb, ctx,
						 next_cursor, err);
	if (cursor && *cursor) {
		from = strtoll(cursor, &end, 10);
		if (!end || *end || from < 0)
			return ms_error_set(err, MS_EINVAL, "change cursor '%s' is not an event id",
					    cursor);
	}
	if (from > 0) {
		if ((rc = hms_q(self, "SELECT MIN(\"EVENT_ID\") FROM \"NOTIFICATION_LOG\"", NULL, 0,
				&rs, NULL, err)) < 0)
			return rc;
		if (rs.nrows && CELL(&rs, 0, 0) && strtoll(CELL(&rs, 0, 0), NULL, 10) > from + 1) {
			hms_rowset_free(&rs);
			return ms_error_set(err, MS_ECONFLICT,
					    "change cursor '%s' is older than the oldest event of "
					    "'%s': read everything again",
					    cursor, cat->url);
		}
		hms_rowset_free(&rs);
	}
	return hms_log_changes(self, from, cb, ctx, next_cursor, err);
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
	hms_ahead_stop(self);
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
	/* NOTIFICATION_LOG, EVENT_ID as cursor; or the polling feed (hms_poll.c) */
	.changes_since = hms_changes_since,
	.change_head = hms_change_head,
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

	if (hms_q(self, "SELECT \"SCHEMA_VERSION\" FROM \"VERSION\"", NULL, 0, &rs, NULL, &qe) <
	    0) {
		rc = ms_error_set(err, MS_EINVAL, "'%s' is not a hive metastore: no VERSION table",
				  self->base.url);
		ms_error_detail(err, "%s", qe.detail);
		snprintf(err->backend_code, sizeof(err->backend_code), "%s", qe.backend_code);
		return rc;
	}
	if (rs.nrows != 1 || !CELL(&rs, 0, 0) || strncmp(CELL(&rs, 0, 0), "3.", 2) != 0) {
		rc = ms_error_set(err, MS_EINVAL,
				  "'%s' is not a hive 3.x metastore: schema version '%s'",
				  self->base.url,
				  rs.nrows == 0     ? "(no row)"
				  : rs.nrows > 1    ? "(several rows)"
				  : CELL(&rs, 0, 0) ? CELL(&rs, 0, 0)
						    : "(null)");
		hms_rowset_free(&rs);
		return rc;
	}
	hms_rowset_free(&rs);
	if ((rc = hms_q(self, "SELECT \"NAME\" FROM \"CTLGS\" WHERE \"NAME\" = ?", p, 1, &rs, NULL,
			err)) < 0)
		return rc;
	if (!rs.nrows)
		rc = ms_error_set(err, MS_ENOTFOUND, "hive catalog '%s' not found in CTLGS of '%s'",
				  self->ctlg, self->base.url);
	hms_rowset_free(&rs);
	return rc;
}

/* The metastore's GUID from METASTORE_DB_PROPERTIES into *out (new), or NULL when none. */
static int read_guid(hms_catalog *self, char **out, ms_error *err)
{
	static const char *const key[1] = { "guid" };
	rowset rs = { 0 };
	int rc;

	*out = NULL;
	if ((rc = hms_q(self,
			"SELECT \"PROPERTY_VALUE\" FROM \"METASTORE_DB_PROPERTIES\" "
			"WHERE \"PROPERTY_KEY\" = ?",
			key, 1, &rs, NULL, err)) < 0)
		return rc;
	if (rs.nrows == 1 && CELL(&rs, 0, 0) && *CELL(&rs, 0, 0) &&
	    !(*out = strdup(CELL(&rs, 0, 0))))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	hms_rowset_free(&rs);
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
		strftime(when, sizeof(when), "Metastore DB GUID generated on %Y-%m-%dT%H:%M:%SZ",
			 &tm);
		p[0] = "guid";
		p[1] = uuid;
		p[2] = when;
		/* a concurrent creator wins the primary key: read back what is there */
		ms_error_clear(&ie);
		(void)hms_q(self,
			    "INSERT INTO \"METASTORE_DB_PROPERTIES\" (\"PROPERTY_KEY\", "
			    "\"PROPERTY_VALUE\", "
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

/* ?feed= and ?feed-scan=. */
static int feed_options(hms_catalog *self, const ms_url *url, ms_error *err)
{
	const char *feed = ms_url_param_get(url, "feed"),
		   *scan = ms_url_param_get(url, "feed-scan");

	self->feed_scan_ms = 30000;
	if (!feed || !*feed || strcmp(feed, "auto") == 0)
		self->feed = HMS_FEED_AUTO;
	else if (strcmp(feed, "notifications") == 0)
		self->feed = HMS_FEED_NOTIFICATIONS;
	else if (strcmp(feed, "poll") == 0)
		self->feed = HMS_FEED_POLL;
	else
		return ms_error_set(err, MS_EINVAL,
				    "feed=%s in '%s': give auto, notifications or poll", feed,
				    url->redacted);
	if (scan && *scan &&
	    (ms_parse_duration_ms(scan, &self->feed_scan_ms) < 0 || self->feed_scan_ms < 0))
		return ms_error_set(err, MS_EINVAL,
				    "feed-scan=%s in '%s' is not a duration (100ms, 30s, 5m)", scan,
				    url->redacted);
	return 0;
}

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
		return ms_error_set(err, MS_EINVAL, "'%s' is not a hive metastore url",
				    url->redacted);
	}
	if ((rc = ms_catalog_base_init(&self->base, &hms_driver, url->redacted, cid, err)) < 0) {
		free(self);
		return rc;
	}
	if (!(self->ctlg = strdup(ctlg && *ctlg ? ctlg : "hive"))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = feed_options(self, url, err)) < 0)
		goto fail;
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
	if ((rc = check_schema(self, err)) < 0 ||
	    (!cid && (rc = metastore_identity(self, err)) < 0) ||
	    (cid && (rc = read_guid(self, &self->base.instance, err)) < 0))
		goto fail;
	*out = &self->base;
	return 0;
fail:
	hms_close(&self->base);
	return rc;
}
