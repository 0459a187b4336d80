/*
 * Shared between the files of the glue:// catalog driver: the HTTP client
 * that speaks the Glue API (gc_http.c: signed JSON 1.1 requests, many in
 * flight on one libcurl multi handle, retries with backoff and jitter, a
 * request rate that adapts to throttling), the reads (glue_read.c), the
 * writes (glue_write.c) and the driver itself (glue.c).  Nothing here is
 * public API; the prefix is gc_ (glue client) to stay apart from the Glue
 * server's glue_ functions linked into the same program.
 */
#ifndef MS_CATALOG_GLUE_INTERNAL_H
#define MS_CATALOG_GLUE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "aws/aws_creds.h"
#include "metasync/sys/catalog.h"
#include "util/buf.h"
#include "util/strmap.h"

#define GC_POOL_MAX 64
#define GC_ANSWER_MAX ((size_t)64 << 20)

typedef struct gc_client gc_client;
typedef struct gc_req gc_req;

/* Called once when a request has its final outcome (success or not). */
typedef void (*gc_done_fn)(gc_client *c, gc_req *r);

/*
 * The adaptive request rate of an instance and its clones, which share one
 * account's quota: one limiter for all their threads, under its lock.
 */
typedef struct gc_rate {
	pthread_mutex_t mu;
	int refs;
	double cap;  /* requests per second at most; 0: no cap */
	double rate; /* the adaptive rate; 0: unlimited until throttled */
	double tokens, last_refill;
	double window_start; /* the current second's start, and its requests */
	int window_count;
	double last_rate; /* requests started in the last full second */
	double cut_at;    /* when a throttled answer last cut the rate */
} gc_rate;

/* One Glue request. */
struct gc_req {
	gc_req *next;      /* in the client's queue */
	const char *op;    /* "GetTables": X-Amz-Target AWSGlue.<op> */
	char *body;        /* owned; the request's JSON */
	ms_buf answer;     /* the answer's body */
	long status;       /* HTTP status of the last attempt; 0: none */
	char type[96];     /* the error's short __type ("" on success) */
	char message[320]; /* the error's Message */
	int attempts;
	double not_before; /* monotonic seconds */
	double started;    /* when the last attempt started */
	int done;          /* has its final outcome */
	CURL *h;           /* while in flight */
	struct curl_slist *hdrs;
	char curl_error[CURL_ERROR_SIZE];
	gc_done_fn on_done; /* NULL: the caller waits for done */
	void *ctx;          /* on_done's */
	char *tag;          /* owned or NULL: what the caller keeps with the request */
};

struct gc_client {
	CURLM *multi;
	char *endpoint;       /* owned; https://glue.REGION.amazonaws.com or the endpoint= */
	char *endpoint_shown; /* owned; for messages */
	int own_endpoint;     /* endpoint= (or AWS_ENDPOINT_URL*): not AWS's own */
	char *sigv4;          /* owned; "aws:amz:REGION:glue" */
	ms_aws_creds *creds;  /* owned */
	const char *subject;  /* borrowed; "glue catalog 'URL'" for messages */
	int parallel;         /* requests in flight at most */
	int max_attempts;
	long timeout;  /* seconds per attempt */
	gc_rate *rate; /* owned with the clones that share it */
	gc_req *wait_head, *wait_tail;
	int running;
	CURL *pool[GC_POOL_MAX];
	int npool;
	int trace; /* MS_GLUE_TRACE: one line per request on stderr */
	/* counters, for the report line a run prints and for tests */
	long long requests, throttled, retried;
};

/* ---- gc_http.c ---------------------------------------------------------- */

int gc_client_init(gc_client *c, const ms_url *url, const char *region, const char *subject,
		   ms_error *err);
void gc_client_free(gc_client *c);
/* c's rate limiter becomes from's (a clone's client shares its parent's). */
void gc_client_share_rate(gc_client *c, gc_client *from);
/* The rate= cap, requests per second (0: none). */
void gc_client_rate_cap(gc_client *c, double cap);
/* Does a rate hold requests back (adapted after throttling, or capped by rate=)? */
int gc_client_rate_limited(gc_client *c);

/* A new request of op with body (stolen); NULL when out of memory. */
gc_req *gc_req_new(const char *op, char *body);
void gc_req_free(gc_req *r);
/* Wait for r to finish; free it (its answer dropped). */
void gc_req_drop(gc_client *c, gc_req *r);
/* gc_pump's wait for one request (ctx): 1 while it has not finished. */
int gc_req_pending(gc_client *c, void *ctx);

/* Queue r (its outcome comes by on_done, or r->done for the caller). */
void gc_submit(gc_client *c, gc_req *r);

/*
 * Start the queued requests there is room for and let libcurl send what it
 * can without waiting: a request submitted before long work goes out
 * before it, not at the next gc_pump.
 */
int gc_kick(gc_client *c, ms_error *err);
/*
 * Without waiting: start what may start, move the transfers in flight on and
 * take the answers that are in (their on_done run).  For a caller busy with
 * an answer, so that the others keep coming meanwhile.
 */
int gc_progress(gc_client *c, ms_error *err);
/*
 * Drive the requests in flight until wait(c, ctx) says stop (NULL: until
 * none is queued or in flight).  0, or MS_EIO when libcurl itself fails.
 */
int gc_pump(gc_client *c, int (*wait)(gc_client *c, void *ctx), void *ctx, ms_error *err);

/* Queued and in-flight requests. */
int gc_busy(const gc_client *c);

/*
 * Send op with body (a cJSON object, deleted) and wait: 0 with *answer
 * (new, parsed) or a negative code with err naming `what` (an entity) and
 * the Glue error's code in backend_code.  answer may be NULL.
 */
int gc_call(gc_client *c, const char *op, cJSON *body, cJSON **answer, const char *what,
	    ms_error *err);

/* gc_call in two halves: send op with body (deleted) without waiting (NULL: out of memory)... */
gc_req *gc_ask(gc_client *c, const char *op, cJSON *body);
/* ...and wait for r and take its answer as gc_call does; r is freed. */
int gc_asked(gc_client *c, gc_req *r, cJSON **answer, const char *what, ms_error *err);

/*
 * A finished request's answer: 0 with *ans (new, parsed; ans may be NULL),
 * or its failure as gc_fail tells it, or MS_EBACKEND when the answer is not
 * JSON; what names the entity for messages.
 */
int gc_answer(const gc_client *c, const gc_req *r, const char *what, cJSON **ans, ms_error *err);

/* The MS_E* code of a finished, failed request (its Glue error type). */
int gc_code_of(const gc_req *r);

/* Fill err from a failed request: "glue OP of WHAT: TYPE: MESSAGE". */
int gc_fail(const gc_client *c, const gc_req *r, const char *what, ms_error *err);

/* ---- the driver --------------------------------------------------------- */

typedef struct gc_ahead gc_ahead;

typedef struct gc_failure {
	struct gc_failure *next;
	char *database, *table, *vkey;
	int deleting;
	ms_error error;
} gc_failure;

typedef struct glue_catalog {
	ms_catalog base;
	gc_client http;
	char *catalog_id;  /* owned or NULL: the CatalogId sent (catalog-id=) */
	int skip_archive;  /* UpdateTable's SkipArchive */
	int segments;      /* GetPartitions segments for a large table, 1 to 10 */
	ms_url *url;       /* owned; as opened (no secret: credentials in it are refused) */
	int clones_left;   /* tables= less the instances made so far */
	char subject[600]; /* "glue catalog 'URL'" */
	/* db\ttable -> the VersionId last read (value: strdup'd text in the entry's tag) */
	ms_strmap versions;
	/*
	 * What listings told (gc_listed.c): "db\ttable" and "db" -> an entity
	 * served once (tag 0), or spent (tag 1: the next read goes to Glue);
	 * "\001db" marks a database whose tables were all listed, "\002" that
	 * the databases were.
	 */
	ms_strmap tables;
	gc_ahead *ahead;   /* owned or NULL: the read-ahead of a scan plan (gc_ahead.c) */
	int wrote, cloned; /* this instance has written, or been cloned */
	int dbs_listed;    /* a listing of the databases was made for get_database */
	int is_clone;      /* made by glue_clone: the run's other instances write meanwhile */
	/* the vkeys of the table last scanned: put_partitions updates these, creates others */
	char *scanned_db, *scanned_table;
	ms_strmap scanned;
	gc_failure *fails, **fails_tail; /* partition writes that failed, not yet settled */
	int pending;                     /* partition-write requests not finished */
	/*
	 * A table this instance created with partition keys is read again at
	 * once (its tag "db\ttable"), while its partitions go in, for the
	 * VersionId its stamp's UpdateTable names (gc_put_table).
	 */
	gc_req *own_read;
	ms_error fatal; /* a failure of the whole catalog while writing */
	int has_fatal;
	int feed_required; /* feed=metasync: the server's change log, never given up */
	int feed_poll;     /* feed=poll: the polling feed (gc_poll.c) */
	double feed_scan;  /* feed-scan=: seconds between two reads of every partition */
} glue_catalog;

/* The string member name of o, or NULL (absent, or not a string). */
const char *gc_jstr(const cJSON *o, const char *name);

/* Add "CatalogId" to a request body when the URL names one. */
int gc_add_catalog_id(glue_catalog *g, cJSON *body);

/* "db\ttable" (table NULL: "db") into out (n bytes), folded to lowercase. */
void gc_table_key(const char *db, const char *table, char *out, size_t n);

/*
 * gc_get_table's GetTable in two halves: asked without waiting (NULL: out
 * of memory), and its answer taken (r freed; NULL r: MS_ENOMEM).
 */
gc_req *gc_ask_table(glue_catalog *g, const char *db, const char *name);
int gc_asked_table(glue_catalog *g, gc_req *r, const char *db, const char *name, ms_entity **out,
		   ms_error *err);

/* Remember (or forget: NULL) the VersionId of db.table. */
int gc_version_set(glue_catalog *g, const char *db, const char *table, const char *version);
const char *gc_version_get(glue_catalog *g, const char *db, const char *table);

/* gc_listed.c: the listings' answers, each served once. */
/* Keep e (stolen) as the answer for its database or table. */
int gc_listed_keep(glue_catalog *g, ms_entity *e);
/* Mark the databases, or db's tables, as listed in full. */
int gc_listed_mark(glue_catalog *g, const char *db);
/*
 * 1 with *out (new) when a listing answers for db (table NULL) or db.table,
 * 0 with *out NULL when it says there is none, -1 when Glue must be asked.
 * Either answer is given once.
 */
int gc_listed_take(glue_catalog *g, const char *db, const char *table, ms_entity **out);
int gc_listed_known(glue_catalog *g, const char *db);
/* Forget what the listings said of db.table (table NULL: of database db). */
void gc_forget_listed(glue_catalog *g, const char *db, const char *table);
/* Forget what they said of database db and of all its tables. */
void gc_forget_database(glue_catalog *g, const char *db);
/* db was written (exists) or deleted; a database just created has no table (empty). */
void gc_listed_database(glue_catalog *g, const char *db, int exists, int empty);
/*
 * The names of db's tables from the listings, once, while this instance has
 * written nothing and has no clones (a source being read): 1 when they
 * cannot answer, else 0 or cb's return.
 */
int gc_listed_names(glue_catalog *g, const char *db, ms_name_cb cb, void *ctx, ms_error *err);
/* What the last answer about database db said: 1 it existed, 0 it did not, -1 none. */
int gc_listed_belief(glue_catalog *g, const char *db);
/* A GetDatabase or a write answered whether db exists: what its (spent) entry believes. */
void gc_listed_seen(glue_catalog *g, const char *db, int exists);
/* Up to max databases the listing holds (all, or those whose tables are not listed; borrowed). */
size_t gc_listed_dbs(glue_catalog *g, int all, char **out, size_t max);
void gc_listed_free(glue_catalog *g);

/* gc_stash.c: keep in (a *Input tree) what e holds that it lacks; put it back in doc. */
int gc_stash_put(const ms_entity *e, cJSON *in, ms_error *err);
void gc_stash_take(cJSON *doc);

/* glue_read.c */
int gc_list_databases(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err);
int gc_get_database(ms_catalog *self, const char *name, ms_entity **out, ms_error *err);
int gc_list_tables(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx, ms_error *err);
int gc_get_table(ms_catalog *self, const char *db, const char *name, ms_entity **out,
		 ms_error *err);
int gc_scan_partitions(ms_catalog *self, const char *db, const char *table, unsigned int flags,
		       ms_entity_cb cb, void *ctx, ms_error *err);
int gc_get_partitions(ms_catalog *self, const char *db, const char *table, const char *const *vkeys,
		      size_t n, ms_entity **out, ms_error *err);
int gc_get_partition(ms_catalog *self, const char *db, const char *table, const char *vkey,
		     ms_entity **out, ms_error *err);

/*
 * gc_ahead.c: the first pages of the planned tables, asked for ahead, and
 * the segments' first pages of the next tables whose first page says there
 * is more
 */
#define GC_SEGMENTS_MAX 10
int gc_plan_scans(ms_catalog *self, const ms_table_ref *tables, size_t n, ms_error *err);
void gc_ahead_top_up(glue_catalog *g);
/*
 * The finished first-page request of db.table when the plan asked for it
 * (the caller frees it), and into segs[0..segments-1] the requests of its
 * segments' first pages that were sent ahead (NULL where none; the caller
 * frees them, finished or not), of *total segments (0: none sent).
 */
gc_req *gc_ahead_take(glue_catalog *g, const char *db, const char *table,
		      gc_req *segs[GC_SEGMENTS_MAX], int *total, ms_error *err);
void gc_ahead_free(glue_catalog *g);
/*
 * glue_read.c: a new GetPartitions request (segment -1: none; else segment
 * of total), not sent; NULL: out of memory
 */
gc_req *gc_partitions_req(glue_catalog *g, const char *db, const char *table, int segment,
			  int total, const char *token);
/*
 * How many segments a large table is read by, if it is read now (1: page
 * after page): segments=, or at most RATE_SEGMENTS while a rate holds
 * requests back, as each segment costs a partial page of its own.
 */
int gc_segments(glue_catalog *g);

/* gc_changes.c: the change feed of a metasync serve (feed=) */
int gc_feed_param(glue_catalog *g, const ms_url *url, ms_error *err);
int gc_changes_since(ms_catalog *self, const char *cursor, ms_change_cb cb, void *ctx,
		     char **next_cursor, ms_error *err);
int gc_change_head(ms_catalog *self, char **cursor, ms_error *err);
/* gc_poll.c: the polling feed (feed=poll) */
int gc_poll_changes_since(ms_catalog *self, const char *cursor, ms_change_cb cb, void *ctx,
			  char **next_cursor, ms_error *err);
int gc_poll_change_head(ms_catalog *self, char **cursor, ms_error *err);

/* glue_write.c */
int gc_put_database(ms_catalog *self, const ms_entity *db, ms_error *err);
int gc_delete_database(ms_catalog *self, const char *name, ms_error *err);
int gc_put_table(ms_catalog *self, const ms_entity *table, ms_error *err);
int gc_delete_table(ms_catalog *self, const char *db, const char *name, ms_error *err);
int gc_put_partitions(ms_catalog *self, const char *db, const char *table, ms_entity *const *parts,
		      size_t n, ms_error *err);
int gc_delete_partitions(ms_catalog *self, const char *db, const char *table,
			 const char *const *vkeys, size_t n, ms_error *err);
int gc_settle(ms_catalog *self, const char *db, const char *table, ms_write_failure_cb cb,
	      void *ctx, ms_error *err);
void gc_fails_free(glue_catalog *g);

#endif
