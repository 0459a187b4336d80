/*
 * The embedded bus: durable in one SQLite file, for exporters and importers
 * on one machine with no server to run.  It is the default bus, so it must
 * survive crashes and restarts of every process, and let several processes
 * (a source agent, target agents, the command line) use one file at once.
 *
 * Every state change is one short IMMEDIATE transaction in WAL mode with
 * synchronous=FULL: a publish that returned is on disk.  A stream is a run
 * of messages numbered 1, 2, 3... (streams.last_seq hands the numbers out).
 * A subscription keeps a floor (every message at or below it is done) and a
 * delivery row per message above the floor that was handed out: its attempt
 * count, whether it was acked, and until when it is leased (visible_at).
 * next() claims the lowest message above the floor that is not acked and not
 * leased, in a transaction, so two processes sharing a subscription name
 * never hold the same unexpired lease; ack() moves the floor over the acked
 * rows that follow it and forgets them.  Waiting is polling: one indexed
 * query every few milliseconds, no write lock unless there is something to
 * claim.
 *
 * Threads: the bus connection (publish, read) is guarded by a mutex; each
 * subscription has its own connection and is used by one thread at a time.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "drivers/sqlite_error.h"
#include "metasync/sys/bus.h"
#include "util/url.h"

#define EMB_SCHEMA_VERSION 1
#define EMB_STR_(x) #x
#define EMB_STR(x) EMB_STR_(x)
#define EMB_BUSY_MS 10000
#define EMB_POLL_MS 5
#define EMB_IDLE_POLL_MS 50
#define EMB_MSG_MAX ((size_t)16 << 20)

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(\"key\" TEXT PRIMARY KEY, value TEXT NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS streams("
	" stream TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS messages("
	" stream TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL,"
	" data BLOB NOT NULL, UNIQUE(stream, seq));"
	"CREATE TABLE IF NOT EXISTS subscriptions("
	" stream TEXT NOT NULL, name TEXT NOT NULL, floor INTEGER NOT NULL,"
	" PRIMARY KEY(stream, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS deliveries("
	" stream TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL, visible_at INTEGER NOT NULL, acked INTEGER NOT NULL,"
	" PRIMARY KEY(stream, name, seq)) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO meta(\"key\", value) VALUES('schema_version', '" EMB_STR(
		EMB_SCHEMA_VERSION) "');";

/* The lowest message of ?1 above subscription ?2's floor that is free at ?3. */
#define EMB_CANDIDATE_SQL \
	"SELECT m.seq FROM messages m LEFT JOIN deliveries d" \
	" ON d.stream = m.stream AND d.name = ?2 AND d.seq = m.seq" \
	" WHERE m.stream = ?1" \
	" AND m.seq > (SELECT floor FROM subscriptions WHERE stream = ?1 AND name = ?2)" \
	" AND (d.seq IS NULL OR (d.acked = 0 AND d.visible_at <= ?3))" \
	" ORDER BY m.seq LIMIT 1"

typedef struct embedded_bus {
	ms_bus base;
	char *path;
	sqlite3 *db;          /* publish and read */
	pthread_mutex_t lock; /* recursive: a read callback may publish */
} embedded_bus;

typedef struct embedded_sub {
	ms_bus_sub base;
	sqlite3 *db; /* the subscription's own connection */
	char *stream;
	char *name;
	sqlite3_stmt *candidate; /* EMB_CANDIDATE_SQL, kept for polling */
	long long last_seen;     /* monotonic ms of the last message taken (poll_ms) */
} embedded_sub;

static const ms_bus_driver embedded_driver;

static int emb_fail(sqlite3 *db, int rc, ms_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int emb_fail(sqlite3 *db, int rc, ms_error *err, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = ms_sqlite_vfail(db, rc, err, fmt, ap);
	va_end(ap);
	return code;
}

/* Wall-clock milliseconds: leases are compared across processes. */
static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void rollback(sqlite3 *db)
{
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Open a connection to path, in WAL mode, with the schema present. */
static int open_db(const char *path, sqlite3 **out, ms_error *err)
{
	static const char version_sql[] = "SELECT value FROM meta WHERE \"key\" = 'schema_version'";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, version = 0, attempt;
	long long t0;

	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		rc = emb_fail(db, rc, err, "cannot open bus file '%s'", path);
		goto done;
	}
	sqlite3_busy_timeout(db, EMB_BUSY_MS);
	/*
	 * Processes that open a new bus file at the same moment race to switch
	 * it to WAL and create the schema, and SQLite answers some of them
	 * SQLITE_BUSY at once, without waiting in the busy handler: try again,
	 * for as long as the busy timeout.
	 */
	for (attempt = 0, t0 = mono_ms();; attempt++) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || mono_ms() - t0 >= EMB_BUSY_MS)
			break;
		rollback(db);
		sleep_ms(attempt < 10 ? 5 * (attempt + 1) : 50);
	}
	if (rc != SQLITE_OK) {
		rc = emb_fail(db, rc, err, "cannot create the bus schema in '%s'", path);
		rollback(db);
		goto done;
	}
	rc = sqlite3_prepare_v2(db, version_sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = emb_fail(db, rc, err, "cannot read the bus schema in '%s'", path);
		goto done;
	}
	if (version != EMB_SCHEMA_VERSION) {
		rc = ms_error_set(err, MS_ENOTSUPPORTED,
				  "bus file '%s' has schema version %d, this metasync knows %d",
				  path, version, EMB_SCHEMA_VERSION);
		goto done;
	}
	rc = 0;
	*out = db;
	db = NULL;
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* Prepare sql and bind the text and int64 arguments described by types ('t', 'i'). */
static int prep(sqlite3 *db, sqlite3_stmt **st, const char *sql, const char *types, ...)
{
	va_list ap;
	int rc, i;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, st, NULL)) != SQLITE_OK)
		return rc;
	va_start(ap, types);
	for (i = 0; types[i] && rc == SQLITE_OK; i++) {
		if (types[i] == 't')
			rc = sqlite3_bind_text(*st, i + 1, va_arg(ap, const char *), -1,
					       SQLITE_STATIC);
		else
			rc = sqlite3_bind_int64(*st, i + 1, va_arg(ap, long long));
	}
	va_end(ap);
	return rc;
}

static void embedded_close(ms_bus *self)
{
	embedded_bus *b = (embedded_bus *)self;

	sqlite3_close(b->db);
	pthread_mutex_destroy(&b->lock);
	free(b->path);
	ms_bus_base_free(&b->base);
	free(b);
}

static int embedded_publish(ms_bus *self, const char *stream, const void *data, size_t len,
			    ms_error *err)
{
	embedded_bus *b = (embedded_bus *)self;
	sqlite3_stmt *st = NULL;
	long long seq = 0;
	int rc;

	if (len > EMB_MSG_MAX)
		return ms_error_set(err, MS_ETOOBIG,
				    "message of %zu bytes for stream '%s' on bus '%s' is larger "
				    "than %zu bytes",
				    len, stream, self->url, EMB_MSG_MAX);
	pthread_mutex_lock(&b->lock);
	rc = sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = prep(b->db, &st,
			  "INSERT INTO streams(stream, last_seq) VALUES(?1, 1) ON CONFLICT(stream)"
			  " DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
			  "t", stream);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE)
		rc = prep(b->db, &st,
			  "INSERT INTO messages(stream, seq, time, data) VALUES(?1, ?2, ?3, ?4)",
			  "tii", stream, seq, wall_ms());
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob64(st, 4, data, (sqlite3_uint64)len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		rc = emb_fail(b->db, rc, err, "cannot publish to stream '%s' on bus '%s'", stream,
			      self->url);
		rollback(b->db);
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static void embedded_sub_close(ms_bus_sub *sub)
{
	embedded_sub *s = (embedded_sub *)sub;

	sqlite3_finalize(s->candidate);
	sqlite3_close(s->db);
	free(s->stream);
	free(s->name);
	free(s);
}

/*
 * Create the subscription unless it exists: its floor is just before the
 * first message held (or the stream's last with deliver_new).
 */
static int embedded_subscribe(ms_bus *self, const char *stream, const char *name,
			      const ms_bus_sub_options *opt, ms_bus_sub **out, ms_error *err)
{
	embedded_bus *b = (embedded_bus *)self;
	embedded_sub *s;
	sqlite3_stmt *st = NULL;
	int rc;

	if (!(s = calloc(1, sizeof(*s))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	s->base.bus = self;
	s->base.opt = *opt;
	s->stream = strdup(stream);
	s->name = strdup(name);
	if (!s->stream || !s->name) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = open_db(b->path, &s->db, err)) < 0)
		goto done;
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = prep(s->db, &st,
			  opt->deliver_new
				  ? "INSERT OR IGNORE INTO subscriptions(stream, name, floor) "
				    "VALUES(?1, ?2,"
				    " coalesce((SELECT last_seq FROM streams WHERE stream = ?1), "
				    "0))"
				  : "INSERT OR IGNORE INTO subscriptions(stream, name, floor) "
				    "VALUES(?1, ?2,"
				    " coalesce((SELECT min(seq) - 1 FROM messages WHERE stream = "
				    "?1),"
				    " (SELECT last_seq FROM streams WHERE stream = ?1), 0))",
			  "tt", stream, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, EMB_CANDIDATE_SQL, -1, &s->candidate, NULL);
	if (rc != SQLITE_OK) {
		rc = emb_fail(s->db, rc, err, "cannot subscribe '%s' to stream '%s' on bus '%s'",
			      name, stream, self->url);
		rollback(s->db);
		goto done;
	}
	rc = 0;
	*out = &s->base;
done:
	if (rc < 0)
		embedded_sub_close(&s->base);
	return rc;
}

/* The free message to claim now: *seq, or 0 when there is none. */
static int find_candidate(embedded_sub *s, long long now, long long *seq)
{
	sqlite3_stmt *st = s->candidate;
	int rc;

	*seq = 0;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, s->stream, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Claim the lowest free message, if any, in one transaction. */
static int claim(embedded_sub *s, ms_bus_msg **out, ms_error *err)
{
	const ms_bus *bus = s->base.bus;
	sqlite3_stmt *st = NULL;
	long long now = 0, seq = 0;
	unsigned attempts = 0;
	ms_bus_msg *msg = NULL;
	int rc;

	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	now = wall_ms(); /* after the wait for the lock */
	if (rc == SQLITE_OK)
		rc = find_candidate(s, now, &seq);
	if (rc == SQLITE_OK && seq == 0) {
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		goto done;
	}
	if (rc == SQLITE_OK)
		rc = prep(s->db, &st,
			  "INSERT INTO deliveries(stream, name, seq, attempts, visible_at, acked)"
			  " VALUES(?1, ?2, ?3, 1, ?4, 0) ON CONFLICT(stream, name, seq) DO UPDATE"
			  " SET attempts = attempts + 1, visible_at = excluded.visible_at"
			  " RETURNING attempts",
			  "ttii", s->stream, s->name, seq,
			  now + (long long)s->base.opt.ack_wait_ms);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		attempts = (unsigned)sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE)
		rc = prep(s->db, &st, "SELECT data FROM messages WHERE stream = ?1 AND seq = ?2",
			  "ti", s->stream, seq);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		const void *data = sqlite3_column_blob(st, 0);

		if (!(msg = calloc(1, sizeof(*msg))) || !(msg->data = malloc(len + 1)) ||
		    !(msg->stream = strdup(s->stream))) {
			rc = SQLITE_NOMEM;
		} else {
			if (len)
				memcpy(msg->data, data, len);
			msg->data[len] = '\0';
			msg->len = len;
			msg->seq = (uint64_t)seq;
			msg->attempts = attempts;
			msg->driver = &embedded_driver;
			rc = SQLITE_DONE;
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
done:
	if (rc != SQLITE_OK) {
		rc = emb_fail(s->db, rc, err, "cannot take the next message of '%s' on bus '%s'",
			      s->name, bus->url);
		rollback(s->db);
		ms_bus_msg_free(msg);
		return rc;
	}
	*out = msg;
	return 0;
}

/*
 * How long to wait before looking again: EMB_POLL_MS while messages come,
 * longer once none came for a while, so that a quiet subscriber costs next
 * to nothing (its first message then waits up to EMB_IDLE_POLL_MS more).
 */
static long long poll_ms(const embedded_sub *s)
{
	long long idle = mono_ms() - s->last_seen;

	return idle < 2000 ? EMB_POLL_MS : idle < 10000 ? 4 * EMB_POLL_MS : EMB_IDLE_POLL_MS;
}

static int embedded_next(ms_bus_sub *sub, int timeout_ms, ms_bus_msg **out, ms_error *err)
{
	embedded_sub *s = (embedded_sub *)sub;
	long long deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	long long seq, left;
	int rc;

	*out = NULL;
	for (;;) {
		/* a read without a write lock: claim only when there is something */
		if ((rc = find_candidate(s, wall_ms(), &seq)) != SQLITE_OK)
			return emb_fail(s->db, rc, err,
					"cannot take the next message of '%s' on bus '%s'", s->name,
					sub->bus->url);
		if (seq) {
			if ((rc = claim(s, out, err)) < 0 || *out) {
				s->last_seen = mono_ms();
				return rc;
			}
		}
		left = deadline - mono_ms();
		if (left <= 0)
			return 0;
		sleep_ms(left < poll_ms(s) ? left : poll_ms(s));
	}
}

/* Mark seq acked, then move the floor over the acked rows right above it. */
static int embedded_ack(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err)
{
	embedded_sub *s = (embedded_sub *)sub;
	sqlite3_stmt *st = NULL;
	long long floor = 0;
	int rc;

	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = prep(s->db, &st,
			  "INSERT INTO deliveries(stream, name, seq, attempts, visible_at, acked)"
			  " SELECT ?1, ?2, ?3, 1, 0, 1 WHERE ?3 > (SELECT floor FROM subscriptions"
			  " WHERE stream = ?1 AND name = ?2)"
			  " ON CONFLICT(stream, name, seq) DO UPDATE SET acked = 1",
			  "tti", s->stream, s->name, (long long)msg->seq);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE)
		rc = prep(s->db, &st,
			  "SELECT floor FROM subscriptions WHERE stream = ?1 AND name = ?2", "tt",
			  s->stream, s->name);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		floor = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE)
		rc = prep(s->db, &st,
			  "SELECT seq FROM deliveries WHERE stream = ?1 AND name = ?2 AND seq > ?3"
			  " AND acked = 1 ORDER BY seq",
			  "tti", s->stream, s->name, floor);
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
		       sqlite3_column_int64(st, 0) == floor + 1)
			floor++;
		if (rc == SQLITE_ROW)
			rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE)
		rc = prep(s->db, &st,
			  "DELETE FROM deliveries WHERE stream = ?1 AND name = ?2 AND seq <= ?3",
			  "tti", s->stream, s->name, floor);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE)
		rc = prep(s->db, &st,
			  "UPDATE subscriptions SET floor = ?3 WHERE stream = ?1 AND name = ?2",
			  "tti", s->stream, s->name, floor);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = emb_fail(s->db, rc, err, "cannot acknowledge message %llu of '%s' on bus '%s'",
			      (unsigned long long)msg->seq, s->name, sub->bus->url);
		rollback(s->db);
		return rc;
	}
	return 0;
}

static int embedded_nak(ms_bus_sub *sub, ms_bus_msg *msg, unsigned delay_ms, ms_error *err)
{
	embedded_sub *s = (embedded_sub *)sub;
	sqlite3_stmt *st = NULL;
	int rc;

	rc = prep(s->db, &st,
		  "UPDATE deliveries SET visible_at = ?4"
		  " WHERE stream = ?1 AND name = ?2 AND seq = ?3 AND acked = 0",
		  "ttii", s->stream, s->name, (long long)msg->seq, wall_ms() + (long long)delay_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return emb_fail(s->db, rc, err, "cannot return message %llu of '%s' on bus '%s'",
				(unsigned long long)msg->seq, s->name, sub->bus->url);
	return 0;
}

static int embedded_read(ms_bus *self, const char *stream, uint64_t after, size_t limit,
			 ms_bus_msg_cb cb, void *ctx, ms_error *err)
{
	embedded_bus *b = (embedded_bus *)self;
	sqlite3_stmt *st = NULL;
	ms_bus_msg msg;
	int rc;

	pthread_mutex_lock(&b->lock);
	rc = prep(b->db, &st,
		  "SELECT seq, data FROM messages WHERE stream = ?1 AND seq > ?2"
		  " ORDER BY seq LIMIT ?3",
		  "tii", stream, (long long)(after > INT64_MAX ? INT64_MAX : after),
		  limit == 0 || limit > INT64_MAX ? -1LL : (long long)limit);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		size_t len;

		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			break;
		memset(&msg, 0, sizeof(msg));
		len = (size_t)sqlite3_column_bytes(st, 1);
		if (!(msg.data = malloc(len + 1))) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		if (len)
			memcpy(msg.data, sqlite3_column_blob(st, 1), len);
		msg.data[len] = '\0';
		msg.len = len;
		msg.stream = (char *)stream;
		msg.seq = (uint64_t)sqlite3_column_int64(st, 0);
		msg.driver = &embedded_driver;
		rc = cb(&msg, ctx, err);
		free(msg.data);
		if (rc < 0)
			goto done;
		rc = SQLITE_ROW;
	}
	if (rc != SQLITE_DONE) {
		rc = emb_fail(b->db, rc, err, "cannot read stream '%s' on bus '%s'", stream,
			      self->url);
		goto done;
	}
	rc = 0;
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static const ms_bus_driver embedded_driver = {
	.version = MS_BUS_DRIVER_VERSION,
	.name = "embedded",
	/* required; closes the bus connection and frees the bus */
	.close = embedded_close,
	/* required; durable (fsynced) when it returns; ETOOBIG, ECONFLICT (busy), EIO */
	.publish = embedded_publish,
	/* required; opens a connection of its own, creates the subscription unless
	 * present; ECONFLICT, EIO, ENOTSUPPORTED (newer schema) */
	.subscribe = embedded_subscribe,
	/* required; closes the subscription's connection; the position stays */
	.sub_close = embedded_sub_close,
	/* required; polls every EMB_POLL_MS (up to EMB_IDLE_POLL_MS when quiet); *out new;
	 * ECONFLICT, EIO */
	.next = embedded_next,
	/* required; ECONFLICT, EIO */
	.ack = embedded_ack,
	/* required; ECONFLICT, EIO */
	.nak = embedded_nak,
	/* optional, left empty: embedded messages carry no driver_ctx */
	.msg_release = NULL,
	/* required; msg and its data are borrowed for the callback; EIO */
	.read = embedded_read,
};

int ms_embedded_bus_open(ms_bus **out, const ms_url *url, ms_error *err);

/* Open (creating when missing) the bus file: embedded:PATH or embedded:///PATH. */
int ms_embedded_bus_open(ms_bus **out, const ms_url *url, ms_error *err)
{
	pthread_mutexattr_t attr;
	embedded_bus *b;
	int rc;

	if (url->host && *url->host)
		return ms_error_set(err, MS_EINVAL,
				    "bus url '%s' names a host: use embedded:PATH or "
				    "embedded:///ABSOLUTE/PATH",
				    url->redacted);
	if (!url->path || !*url->path)
		return ms_error_set(err, MS_EINVAL, "missing file path in bus url '%s'",
				    url->redacted);
	if (!(b = calloc(1, sizeof(*b))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&b->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if ((rc = ms_bus_base_init(&b->base, &embedded_driver, url->redacted, err)) < 0)
		goto done;
	/* a path starting "file:" would be taken for an SQLite URI */
	if (strncmp(url->path, "file:", 5) == 0) {
		size_t len = strlen(url->path) + 3;

		if ((b->path = malloc(len)))
			snprintf(b->path, len, "./%s", url->path);
	} else {
		b->path = strdup(url->path);
	}
	if (!b->path) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = open_db(b->path, &b->db, err)) < 0)
		goto done;
	*out = &b->base;
done:
	if (rc < 0)
		embedded_close(&b->base);
	return rc;
}
