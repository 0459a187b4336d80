/*
 * The agent's roles as threads: one source thread (schedule, export,
 * announce), one thread per target (subscribe, check, import, report), and
 * libmicrohttpd's thread for /healthz and /metrics.  Each thread opens its
 * own bus connection; the metrics are shared under one mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/stores.h"
#include "metasync/bus.h"
#include "metasync/event.h"
#include "metasync/replicate.h"
#include "server/http.h"
#include "util/url.h"

/* What one target has done, for /metrics. */
typedef struct target_stats {
	double last_success;    /* epoch seconds; 0 = never */
	double lag;             /* seconds from the snapshot's creation to its import */
	long long imports_ok, imports_failed, skipped, dead, errors;
	ms_counts db, tbl, part;
} target_stats;

typedef struct target_role {
	ms_agent *agent;
	const ms_agent_target *cfg;
	pthread_t thread;
	int started;
	int fatal;
	target_stats st;
	char last_error[512];   /* of the message being handled */
	/* why the last few retried messages failed (by seq), for their dead letters */
	struct {
		uint64_t seq;
		char text[512];
	} retried[8];
	unsigned next_retried;
	/* newest snapshot id applied, per source catalog id (from the results stream) */
	char **applied_src, **applied_id;
	size_t napplied;
	uint64_t results_seen;
} target_role;

struct ms_agent {
	const ms_agent_config *cfg;
	ms_agent_options opts;
	volatile int stop;
	pthread_mutex_t mu;
	pthread_t source_thread;
	int source_started, source_fatal;
	/* with once: the source role has exported (or given up), so targets may stop when idle */
	volatile int source_done;
	long long exports_ok, exports_failed;
	double last_export;
	target_role *targets;
	ms_http *http;
	char *parent;    /* the id of the previous snapshot this source announced */
	int worst;       /* the worst outcome so far: one of OUTCOME_* */
};

/*
 * Outcomes of the run, in order of severity; ms_agent_exit_code maps the
 * worst to the exit status the command line gives the same outcome.
 */
enum { OUTCOME_OK = 0, OUTCOME_PARTIAL, OUTCOME_REFUSED, OUTCOME_ERROR };

/* Record an outcome of an export, an import or a delivery (a->mu not held). */
static void note_outcome(ms_agent *a, int outcome)
{
	pthread_mutex_lock(&a->mu);
	if (outcome > a->worst)
		a->worst = outcome;
	pthread_mutex_unlock(&a->mu);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(ms_agent *a, long ms)
{
	while (ms > 0 && !a->stop) {
		long step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static void log_line(ms_agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(ms_agent *a, const char *fmt, ...)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (a->opts.quiet)
		return;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&a->mu);
	fprintf(stderr, "%s metasync agent: ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&a->mu);
}

/* Publish an event; failures to publish are logged, never fatal. */
static void publish(ms_agent *a, ms_bus *bus, const char *stream, const char *type,
		    const char *name, const char *subject, cJSON *data)
{
	char source[300], *text;
	ms_error err;

	snprintf(source, sizeof(source), "/metasync/%s", name);
	ms_error_clear(&err);
	if (!(text = ms_event_build(type, source, subject, data, &err)) ||
	    ms_bus_publish(bus, stream, text, strlen(text), &err) < 0)
		log_line(a, "cannot publish %s: %s", type, err.message);
	free(text);
}

static void publish_error(ms_agent *a, ms_bus *bus, const char *name, const char *stage,
			  const char *target, const char *snapshot, const char *entity,
			  const char *message)
{
	publish(a, bus, MS_STREAM_ERRORS, MS_EVENT_ERROR, name, NULL,
		ms_event_error_data(stage, target, snapshot, entity, message));
}

/* ---- the source -------------------------------------------------------- */

/* Seconds until the next export from now (0: now). */
static long long next_export_in(const ms_agent_source *s, double last)
{
	time_t t = time(NULL);
	struct tm tm;
	long long now_min, wait;

	switch (s->schedule) {
	case MS_SCHEDULE_INTERVAL:
		if (last == 0)
			return 0;
		wait = (long long)(last + (double)s->interval_seconds - now_s());
		return wait > 0 ? wait : 0;
	case MS_SCHEDULE_AT:
		gmtime_r(&t, &tm);
		now_min = tm.tm_hour * 60 + tm.tm_min;
		if (now_min == s->at_minute && (last == 0 || now_s() - last > 120))
			return 0;
		wait = ((long long)s->at_minute - now_min + 1440) % 1440;
		return wait == 0 ? 86400 - tm.tm_sec : wait * 60 - tm.tm_sec;
	default:
		return last == 0 ? 0 : -1;   /* on demand: once at start */
	}
}

/* What the export's cleanup removed from the store (not what it kept), and its failures. */
static void log_cleanup(const ms_gc_item *item, void *ctx)
{
	ms_agent *a = ctx;
	const char *name = a->cfg->source->name;

	if (!item->key)
		log_line(a, "source=%s cleanup=failed error=\"%s\"", name, item->error);
	else if (item->remove && item->error)
		log_line(a, "source=%s cleanup=failed abandoned=%s error=\"%s\"", name, item->key,
			 item->error);
	else if (item->remove)
		log_line(a, "source=%s cleanup=removed abandoned=%s bytes=%llu why=\"%s\"", name,
			 item->key, item->bytes, item->why);
}

static void export_once(ms_agent *a, ms_bus *bus)
{
	const ms_agent_source *s = a->cfg->source;
	ms_export_options eo = { 0 };
	ms_snapshot_info info;
	ms_report *rep = NULL;
	ms_error err;
	int rc, partial = 0;

	ms_error_clear(&err);
	eo.databases = s->databases;
	eo.compress = s->compress;
	eo.on_cleanup = log_cleanup;
	eo.cleanup_ctx = a;
	rc = ms_export(s->catalog, s->store, &eo, &info, &rep, &err);
	if (a->opts.hooks.run)
		a->opts.hooks.run(a->opts.hooks.ctx, s->name, "export", info.url, rep,
				  rc < 0 ? &err : NULL);
	if (rc == 0 && info.url) {
		rc = ms_event_publish_snapshot(a->cfg->bus, s->name, &info, a->parent, &err);
		if (rc == 0) {
			free(a->parent);
			a->parent = info.id ? strdup(info.id) : NULL;
		}
	} else if (rc == 0) {
		rc = MS_ERROR;
		partial = 1;
		snprintf(err.message, sizeof(err.message),
			 "export incomplete: %zu entities failed, nothing published",
			 rep ? rep->nerrors : 0);
	}
	if (rc < 0)
		note_outcome(a, partial ? OUTCOME_PARTIAL : OUTCOME_ERROR);
	pthread_mutex_lock(&a->mu);
	if (rc == 0) {
		a->exports_ok++;
		a->last_export = now_s();
	} else {
		a->exports_failed++;
	}
	pthread_mutex_unlock(&a->mu);
	if (rc == 0)
		log_line(a, "source=%s export=ok snapshot=%s partitions=%llu seconds=%.2f", s->name,
			 info.url, info.partitions, rep ? rep->seconds : 0.0);
	else {
		log_line(a, "source=%s export=failed error=\"%s\"", s->name, err.message);
		publish_error(a, bus, s->name, "export", NULL, NULL, NULL, err.message);
	}
	ms_snapshot_info_free(&info);
	ms_report_free(rep);
}

static void *source_main(void *arg)
{
	ms_agent *a = arg;
	ms_bus *bus = NULL;
	double last = 0;
	ms_error err;

	ms_error_clear(&err);
	if (ms_bus_open(&bus, a->cfg->bus, &err) < 0) {
		log_line(a, "source=%s cannot open the bus: %s", a->cfg->source->name, err.message);
		a->source_fatal = 1;
		a->source_done = 1;
		return NULL;
	}
	while (!a->stop) {
		long long wait = a->opts.once ? (last == 0 ? 0 : -1) :
						next_export_in(a->cfg->source, last);

		if (wait < 0) {
			if (a->opts.once)
				break;
			sleep_ms(a, 1000);
			continue;
		}
		if (wait > 0) {
			sleep_ms(a, wait > 1 ? 1000 : (long)(wait * 1000));
			continue;
		}
		export_once(a, bus);
		last = now_s();
	}
	ms_bus_close(bus);
	a->source_done = 1;
	return NULL;
}

/* ---- a target ---------------------------------------------------------- */

static const char *applied_of(target_role *t, const char *src)
{
	size_t i;

	for (i = 0; i < t->napplied; i++)
		if (strcmp(t->applied_src[i], src) == 0)
			return t->applied_id[i];
	return NULL;
}

static void set_applied(target_role *t, const char *src, const char *id)
{
	size_t i;
	char **ns, **ni, *s, *d;

	for (i = 0; i < t->napplied; i++) {
		if (strcmp(t->applied_src[i], src) == 0) {
			if (ms_snapshot_id_cmp(id, t->applied_id[i]) > 0 && (d = strdup(id))) {
				free(t->applied_id[i]);
				t->applied_id[i] = d;
			}
			return;
		}
	}
	ns = realloc(t->applied_src, (t->napplied + 1) * sizeof(*ns));
	if (ns)
		t->applied_src = ns;
	ni = realloc(t->applied_id, (t->napplied + 1) * sizeof(*ni));
	if (ni)
		t->applied_id = ni;
	if (!ns || !ni || !(s = strdup(src)))
		return;
	if (!(d = strdup(id))) {
		free(s);
		return;
	}
	t->applied_src[t->napplied] = s;
	t->applied_id[t->napplied++] = d;
}

/* Results stream: every import.succeeded of this target raises its mark. */
static int read_result(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	target_role *t = ctx;
	ms_event *ev = NULL;
	const char *tgt, *id, *src;

	(void)err;
	t->results_seen = msg->seq;
	if (ms_event_parse(msg->data, msg->len, &ev, NULL) < 0)
		return 0;
	tgt = ms_event_str(ev, "target");
	id = ms_event_str(ev, "snapshot_id");
	src = ms_event_str(ev, "source_catalog_id");
	if (strcmp(ev->type, MS_EVENT_IMPORT_SUCCEEDED) == 0 && tgt && id && src &&
	    strcmp(tgt, t->cfg->name) == 0)
		set_applied(t, src, id);
	ms_event_free(ev);
	return 0;
}

static int follows(const ms_agent_target *t, const char *source)
{
	size_t i;

	if (t->follow_none)
		return 0;
	if (t->nfollow == 0)
		return 1;
	for (i = 0; i < t->nfollow; i++)
		if (strcmp(t->follow[i], source) == 0)
			return 1;
	return 0;
}

static void count_into(ms_counts *sum, const ms_counts *c)
{
	sum->created += c->created;
	sum->updated += c->updated;
	sum->unchanged += c->unchanged;
	sum->deleted += c->deleted;
	sum->skipped += c->skipped;
	sum->failed += c->failed;
}

/*
 * DONE_STOPPED: the agent is stopping and the import ended early; deliver it
 * again at once.  DONE_DEAD: refused for good (no retry can change it);
 * dead-letter it now.
 */
enum { DONE_ACK = 0, DONE_RETRY = 1, DONE_STOPPED = 2, DONE_DEAD = 3 };

static void on_change(const ms_change_event *ev, void *ctx)
{
	target_role *t = ctx;

	t->agent->opts.hooks.change(t->agent->opts.hooks.ctx, t->cfg->name, ev);
}

/* An event that names no snapshot this target may read: said everywhere, last_error set. */
static void refuse_event(target_role *t, ms_bus *bus, const ms_bus_msg *msg, const char *url,
			 const ms_error *err)
{
	ms_agent *a = t->agent;

	snprintf(t->last_error, sizeof(t->last_error), "%s", err->message);
	publish_error(a, bus, t->cfg->name, "event", t->cfg->name, url, NULL, err->message);
	pthread_mutex_lock(&a->mu);
	t->st.errors++;
	pthread_mutex_unlock(&a->mu);
	log_line(a, "target=%s event=%llu refused: %s", t->cfg->name,
		 (unsigned long long)msg->seq, err->message);
}

/* The snapshot's creation time from the event (epoch seconds), 0 when it has none. */
static double created_time(const ms_event *ev)
{
	const char *ct = ms_event_str(ev, "created");
	struct tm tm = { 0 };
	double sec;

	if (ct && sscanf(ct, "%*d-%*d-%*dT%*d:%*d:%lf", &sec) == 1 &&
	    strptime(ct, "%Y-%m-%dT%H:%M:%S", &tm))
		return (double)timegm(&tm);
	return 0;
}

/*
 * Handle one snapshot event; returns DONE_ACK, DONE_RETRY (t->last_error
 * set), DONE_DEAD (t->last_error set) or DONE_STOPPED.
 */
static int handle(target_role *t, ms_bus *bus, const ms_bus_msg *msg)
{
	ms_agent *a = t->agent;
	const ms_agent_target *c = t->cfg;
	ms_event *ev = NULL;
	ms_sync_options so = { 0 };
	ms_report *rep = NULL;
	ms_error err;
	const char *url, *sha, *id, *src, *prev;
	char *open_url = NULL;   /* url as the target opens it (with its store's settings) */
	const cJSON *allow;
	double created = 0, started, wall;
	cJSON *data;
	size_t i;
	int rc, result = DONE_ACK;

	ms_error_clear(&err);
	if (ms_event_parse(msg->data, msg->len, &ev, &err) < 0) {
		snprintf(t->last_error, sizeof(t->last_error), "event %llu: %s",
			 (unsigned long long)msg->seq, err.message);
		publish_error(a, bus, c->name, "event", c->name, NULL, NULL, t->last_error);
		pthread_mutex_lock(&a->mu);
		t->st.errors++;
		pthread_mutex_unlock(&a->mu);
		log_line(a, "target=%s event=%llu invalid: %s", c->name,
			 (unsigned long long)msg->seq, err.message);
		return DONE_RETRY;
	}
	if (strcmp(ev->type, MS_EVENT_SNAPSHOT_CREATED) != 0 ||
	    !follows(c, ms_event_source_name(ev))) {
		ms_event_free(ev);
		return DONE_ACK;
	}
	url = ms_event_str(ev, "snapshot");
	sha = ms_event_str(ev, "manifest_sha256");
	id = ms_event_str(ev, "snapshot_id");
	src = ms_event_str(ev, "source_catalog_id");
	allow = cJSON_GetObjectItemCaseSensitive(ev->data, "allow_no_manifest");
	if (!src)
		src = ev->source;
	if (ms_event_check_snapshot_url(url, &err) < 0 ||
	    (!sha && !cJSON_IsTrue(allow) &&
	     ms_error_set(&err, MS_EINVAL, "event names no manifest_sha256") < 0) ||
	    ms_agent_accept_snapshot(a->cfg, c, ms_event_source_name(ev), url, &open_url, &err) < 0) {
		refuse_event(t, bus, msg, url, &err);
		ms_event_free(ev);
		/* a store the target does not accept stays so: dead-letter it now */
		return err.code == MS_EREFUSED ? DONE_DEAD : DONE_RETRY;
	}
	/* never back in time */
	ms_bus_read(bus, MS_STREAM_RESULTS, t->results_seen, 0, read_result, t, NULL);
	prev = applied_of(t, src);
	if (id && prev && ms_snapshot_id_cmp(id, prev) < 0) {
		pthread_mutex_lock(&a->mu);
		t->st.skipped++;
		pthread_mutex_unlock(&a->mu);
		log_line(a, "target=%s snapshot=%s skipped: the newer %s is applied", c->name, url,
			 prev);
		if (a->opts.hooks.run)
			a->opts.hooks.run(a->opts.hooks.ctx, c->name, "skip", url, NULL, NULL);
		free(open_url);
		ms_event_free(ev);
		return DONE_ACK;
	}
	so.databases = c->databases;
	so.database_prefix = c->database_prefix;
	so.table_prefix = c->table_prefix;
	so.renames = (const char *const *)c->renames;
	so.nrenames = c->nrenames;
	so.location_rewrites = (const char *const *)c->location_rewrites;
	so.nrewrites = c->nrewrites;
	so.deletes = c->deletes;
	so.max_deletes = c->max_deletes;
	so.adopt = c->adopt;
	so.allow_empty_source = c->allow_empty_source;
	so.stop = &a->stop;
	if (a->opts.hooks.change) {
		so.on_change = on_change;
		so.ctx = t;
	}
	started = now_s();
	rc = ms_import(open_url, sha, c->catalog, &so, &rep, &err);
	free(open_url);
	wall = now_s() - started;
	if (a->opts.hooks.run)
		a->opts.hooks.run(a->opts.hooks.ctx, c->name, "import", url, rep,
				  rc < 0 ? &err : NULL);
	if (rc < 0 && a->stop) {
		/* asked to stop: not a failure; what was committed stays, a re-run finishes */
		log_line(a, "target=%s snapshot=%s stopped: %s", c->name, url, err.message);
		ms_report_free(rep);
		ms_event_free(ev);
		return DONE_STOPPED;
	}
	if (rc < 0 && rc != MS_EREFUSED)
		result = DONE_RETRY;   /* its outcome is the last try's: ok, or a dead letter */
	else if (rc == MS_EREFUSED)
		note_outcome(a, OUTCOME_REFUSED);
	else if (rep->status != MS_STATUS_OK)
		note_outcome(a, rep->status == MS_STATUS_PARTIAL ? OUTCOME_PARTIAL : OUTCOME_ERROR);
	data = ms_event_import_data(c->name, url, id, rep, rc < 0 ? &err : NULL);
	if (data) {
		cJSON_AddStringToObject(data, "source_catalog_id", src);
		/* the report's seconds time the sync; this the whole import, open to close */
		cJSON_AddNumberToObject(data, "wall_seconds", (double)(long long)(wall * 1000) / 1000.0);
	}
	publish(a, bus, MS_STREAM_RESULTS,
		rc == 0 && rep->status == MS_STATUS_OK ? MS_EVENT_IMPORT_SUCCEEDED :
							 MS_EVENT_IMPORT_FAILED,
		c->name, id, data);
	for (i = 0; rep && i < rep->nerrors; i++)
		publish_error(a, bus, c->name, "import", c->name, url, rep->errors[i].entity,
			      rep->errors[i].message);
	if (rc < 0) {
		publish_error(a, bus, c->name, "import", c->name, url, NULL, err.message);
		snprintf(t->last_error, sizeof(t->last_error), "%s", err.message);
	}
	created = created_time(ev);
	pthread_mutex_lock(&a->mu);
	if (rc == 0 && rep->status == MS_STATUS_OK) {
		t->st.imports_ok++;
		t->st.last_success = now_s();
		if (created > 0)
			t->st.lag = t->st.last_success - created;
	} else {
		t->st.imports_failed++;
	}
	t->st.errors += (long long)(rep ? rep->nerrors : 0) + (rc < 0);
	if (rep) {
		count_into(&t->st.db, &rep->databases);
		count_into(&t->st.tbl, &rep->tables);
		count_into(&t->st.part, &rep->partitions);
	}
	pthread_mutex_unlock(&a->mu);
	if (rc == 0 && rep->status == MS_STATUS_OK && id)
		set_applied(t, src, id);
	if (rep)
		log_line(a,
			 "target=%s snapshot=%s status=%s tables=+%lld/~%lld/-%lld partitions=+%lld/~%lld/-%lld "
			 "failed=%lld seconds=%.2f%s%s",
			 c->name, url, rc < 0 ? "error" : ms_status_name(rep->status),
			 rep->tables.created, rep->tables.updated, rep->tables.deleted,
			 rep->partitions.created, rep->partitions.updated, rep->partitions.deleted,
			 rep->tables.failed + rep->partitions.failed + rep->databases.failed,
			 rep->seconds, rc < 0 ? " error=" : "", rc < 0 ? err.message : "");
	else
		log_line(a, "target=%s snapshot=%s status=error error=\"%s\"", c->name, url,
			 err.message);
	ms_report_free(rep);
	ms_event_free(ev);
	return result;
}

/* Remember why message seq failed, for its dead letter (other messages may come between). */
static void remember_retry(target_role *t, uint64_t seq, const char *why)
{
	unsigned i, n = sizeof(t->retried) / sizeof(t->retried[0]);

	for (i = 0; i < n; i++)
		if (t->retried[i].seq == seq && t->retried[i].text[0])
			break;
	if (i == n)
		i = t->next_retried++ % n;
	t->retried[i].seq = seq;
	snprintf(t->retried[i].text, sizeof(t->retried[i].text), "%s", why);
}

static const char *retry_reason(const target_role *t, uint64_t seq)
{
	size_t i;

	for (i = 0; i < sizeof(t->retried) / sizeof(t->retried[0]); i++)
		if (t->retried[i].seq == seq && t->retried[i].text[0])
			return t->retried[i].text;
	return "not acknowledged";
}

/* Message seq is in the dead-letter stream after `attempts` tries: say so. */
static void report_dead(target_role *t, uint64_t seq, unsigned attempts)
{
	ms_agent *a = t->agent;
	char text[700];
	ms_bus *bus = NULL;

	snprintf(text, sizeof(text), "event %llu dead-lettered after %u attempts: %s",
		 (unsigned long long)seq, attempts, retry_reason(t, seq));
	if (ms_bus_open(&bus, a->cfg->bus, NULL) == 0) {
		publish_error(a, bus, t->cfg->name, "deliver", t->cfg->name, NULL, NULL, text);
		ms_bus_close(bus);
	}
	pthread_mutex_lock(&a->mu);
	t->st.dead++;
	t->st.errors++;
	pthread_mutex_unlock(&a->mu);
	note_outcome(a, OUTCOME_ERROR);
	log_line(a, "target=%s %s", t->cfg->name, text);
}

/* ms_bus_next's dead_cb: msg came back once more than max_attempts allow. */
static void dead_letter(const ms_bus_msg *msg, void *ctx)
{
	report_dead(ctx, msg->seq, msg->attempts - 1);
}

static void *target_main(void *arg)
{
	target_role *t = arg;
	ms_agent *a = t->agent;
	ms_bus_sub_options so = { 0 };
	ms_bus_sub *sub = NULL;
	ms_bus *bus = NULL;
	ms_bus_msg *msg;
	double idle_since = now_s(), retry_until = 0;
	int done;
	ms_error err;

	ms_error_clear(&err);
	so.max_deliver = t->cfg->max_attempts ? t->cfg->max_attempts : 5;
	so.ack_wait_ms = (unsigned)(t->cfg->ack_wait_seconds * 1000);
	if (ms_bus_open(&bus, a->cfg->bus, &err) < 0 ||
	    ms_bus_subscribe(bus, MS_STREAM_SNAPSHOTS, t->cfg->name, &so, &sub, &err) < 0) {
		log_line(a, "target=%s cannot subscribe: %s%s%s%s", t->cfg->name, err.message,
			 err.detail[0] ? " (" : "", err.detail, err.detail[0] ? ")" : "");
		t->fatal = 1;
		ms_bus_close(bus);
		return NULL;
	}
	ms_bus_read(bus, MS_STREAM_RESULTS, 0, 0, read_result, t, NULL);
	while (!a->stop) {
		msg = NULL;
		if (ms_bus_next(sub, 200, dead_letter, t, &msg, &err) < 0) {
			log_line(a, "target=%s bus: %s", t->cfg->name, err.message);
			sleep_ms(a, 1000);
			continue;
		}
		if (!msg) {
			/* once: idle counts from the source's export, when this file has one */
			if (a->opts.once && !a->source_done)
				idle_since = now_s();
			else if (a->opts.once && (now_s() - idle_since) * 1000 >= a->opts.idle_ms &&
				 now_s() >= retry_until)
				break;
			continue;
		}
		t->last_error[0] = '\0';
		done = handle(t, bus, msg);
		if (done == DONE_ACK) {
			ms_bus_ack(sub, msg, &err);
		} else if (done == DONE_STOPPED) {
			ms_bus_nak(sub, msg, 0, &err);
		} else if (done == DONE_DEAD) {
			remember_retry(t, msg->seq, t->last_error);
			if (ms_bus_dead_letter(sub, msg, &err) == 0)
				report_dead(t, msg->seq, msg->attempts);
			else   /* then it goes after max_attempts, like any failure */
				ms_bus_nak(sub, msg, 1000, &err);
		} else {
			unsigned delay = 200u << (msg->attempts < 8 ? msg->attempts - 1 : 7);

			remember_retry(t, msg->seq, t->last_error[0] ? t->last_error : "failed");
			if (msg->attempts >= so.max_deliver && ms_bus_dead_letter(sub, msg, &err) == 0) {
				/* the last try failed: dead-letter now, not after one more backoff */
				report_dead(t, msg->seq, msg->attempts);
				ms_bus_msg_free(msg);
				idle_since = now_s();
				continue;
			}
			ms_bus_nak(sub, msg, delay, &err);
			/* with once, a retry still to come is work waiting: idle counts from when it is due */
			if (now_s() + (delay + (unsigned)a->opts.idle_ms) / 1000.0 > retry_until)
				retry_until = now_s() + (delay + (unsigned)a->opts.idle_ms) / 1000.0;
		}
		ms_bus_msg_free(msg);
		idle_since = now_s();
	}
	ms_bus_sub_close(sub);
	ms_bus_close(bus);
	return NULL;
}

/* ---- metrics and health ------------------------------------------------ */

static void metric_counts(ms_buf *b, const char *target, const char *kind, const ms_counts *c)
{
	ms_buf_printf(b, "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"created\"} %lld\n",
		      target, kind, c->created);
	ms_buf_printf(b, "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"updated\"} %lld\n",
		      target, kind, c->updated);
	ms_buf_printf(b, "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"deleted\"} %lld\n",
		      target, kind, c->deleted);
	ms_buf_printf(b, "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"failed\"} %lld\n",
		      target, kind, c->failed);
}

int ms_agent_metrics(ms_agent *a, ms_buf *b)
{
	size_t i;

	pthread_mutex_lock(&a->mu);
	ms_buf_adds(b, "# HELP metasync_up 1 while the agent runs.\n# TYPE metasync_up gauge\n"
		       "metasync_up 1\n");
	if (a->cfg->source) {
		const char *s = a->cfg->source->name;

		ms_buf_adds(b, "# HELP metasync_exports_total Exports by result.\n"
			       "# TYPE metasync_exports_total counter\n");
		ms_buf_printf(b, "metasync_exports_total{source=\"%s\",result=\"succeeded\"} %lld\n", s,
			      a->exports_ok);
		ms_buf_printf(b, "metasync_exports_total{source=\"%s\",result=\"failed\"} %lld\n", s,
			      a->exports_failed);
		ms_buf_adds(b, "# TYPE metasync_source_last_export_timestamp_seconds gauge\n");
		ms_buf_printf(b, "metasync_source_last_export_timestamp_seconds{source=\"%s\"} %.3f\n",
			      s, a->last_export);
	}
	if (a->cfg->ntargets) {
		ms_buf_adds(b, "# HELP metasync_target_last_success_timestamp_seconds When the "
			       "target last applied a snapshot completely.\n"
			       "# TYPE metasync_target_last_success_timestamp_seconds gauge\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_target_last_success_timestamp_seconds{target=\"%s\"} %.3f\n",
				      a->targets[i].cfg->name, a->targets[i].st.last_success);
		ms_buf_adds(b, "# HELP metasync_target_lag_seconds From the creation of the last "
			       "applied snapshot to its application.\n"
			       "# TYPE metasync_target_lag_seconds gauge\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_target_lag_seconds{target=\"%s\"} %.3f\n",
				      a->targets[i].cfg->name, a->targets[i].st.lag);
		ms_buf_adds(b, "# HELP metasync_imports_total Imports by result.\n"
			       "# TYPE metasync_imports_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++) {
			const target_role *t = &a->targets[i];

			ms_buf_printf(b, "metasync_imports_total{target=\"%s\",result=\"succeeded\"} %lld\n",
				      t->cfg->name, t->st.imports_ok);
			ms_buf_printf(b, "metasync_imports_total{target=\"%s\",result=\"failed\"} %lld\n",
				      t->cfg->name, t->st.imports_failed);
			ms_buf_printf(b, "metasync_imports_total{target=\"%s\",result=\"skipped\"} %lld\n",
				      t->cfg->name, t->st.skipped);
		}
		ms_buf_adds(b, "# HELP metasync_entities_total Entities changed or failed by imports.\n"
			       "# TYPE metasync_entities_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++) {
			const target_role *t = &a->targets[i];

			metric_counts(b, t->cfg->name, "database", &t->st.db);
			metric_counts(b, t->cfg->name, "table", &t->st.tbl);
			metric_counts(b, t->cfg->name, "partition", &t->st.part);
		}
		ms_buf_adds(b, "# HELP metasync_errors_total Errors published, by target.\n"
			       "# TYPE metasync_errors_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_errors_total{target=\"%s\"} %lld\n",
				      a->targets[i].cfg->name, a->targets[i].st.errors);
		ms_buf_adds(b, "# HELP metasync_dead_letters_total Events given up on.\n"
			       "# TYPE metasync_dead_letters_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_dead_letters_total{target=\"%s\"} %lld\n",
				      a->targets[i].cfg->name, a->targets[i].st.dead);
	}
	pthread_mutex_unlock(&a->mu);
	return 0;
}

static int http_handler(const char *path, ms_buf *body, const char **ctype, void *ctx)
{
	ms_agent *a = ctx;
	size_t i;

	if (strcmp(path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		ms_agent_metrics(a, body);
		return 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		int ok = !a->source_fatal;

		for (i = 0; i < a->cfg->ntargets; i++)
			ok = ok && !a->targets[i].fatal;
		*ctype = "text/plain; charset=utf-8";
		ms_buf_adds(body, ok ? "ok\n" : "a role failed to start\n");
		return ok ? 200 : 503;
	}
	ms_buf_adds(body, "not found\n");
	return 404;
}

/* ---- life cycle -------------------------------------------------------- */

int ms_agent_new(ms_agent **out, const ms_agent_config *cfg, const ms_agent_options *opts,
		 ms_error *err)
{
	ms_agent *a = calloc(1, sizeof(*a));
	size_t i;

	if (!a || (cfg->ntargets && !(a->targets = calloc(cfg->ntargets, sizeof(*a->targets))))) {
		free(a);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	a->cfg = cfg;
	if (opts)
		a->opts = *opts;
	if (a->opts.idle_ms <= 0)
		a->opts.idle_ms = 1500;
	pthread_mutex_init(&a->mu, NULL);
	for (i = 0; i < cfg->ntargets; i++) {
		a->targets[i].agent = a;
		a->targets[i].cfg = &cfg->targets[i];
	}
	*out = a;
	return 0;
}

int ms_agent_start(ms_agent *a, ms_error *err)
{
	size_t i;
	int rc;

	if (a->cfg->listen &&
	    (rc = ms_http_start(&a->http, a->cfg->listen, http_handler, a, err)) < 0)
		return rc;
	a->source_done = !a->cfg->source;
	if (a->cfg->source) {
		if (pthread_create(&a->source_thread, NULL, source_main, a) != 0)
			return ms_error_set(err, MS_ERROR, "cannot start the source role");
		a->source_started = 1;
	}
	for (i = 0; i < a->cfg->ntargets; i++) {
		if (pthread_create(&a->targets[i].thread, NULL, target_main, &a->targets[i]) != 0) {
			ms_agent_stop(a);
			return ms_error_set(err, MS_ERROR, "cannot start target '%s'",
					    a->cfg->targets[i].name);
		}
		a->targets[i].started = 1;
	}
	return 0;
}

void ms_agent_wait(ms_agent *a)
{
	size_t i;

	if (a->source_started) {
		pthread_join(a->source_thread, NULL);
		a->source_started = 0;
	}
	for (i = 0; i < a->cfg->ntargets; i++) {
		if (a->targets[i].started) {
			pthread_join(a->targets[i].thread, NULL);
			a->targets[i].started = 0;
		}
	}
}

void ms_agent_stop(ms_agent *a)
{
	a->stop = 1;
}

int ms_agent_http_port(const ms_agent *a)
{
	return a->http ? ms_http_port(a->http) : 0;
}

int ms_agent_status(const ms_agent *a)
{
	size_t i;

	if (a->source_fatal)
		return MS_ERROR;
	for (i = 0; i < a->cfg->ntargets; i++)
		if (a->targets[i].fatal)
			return MS_ERROR;
	return 0;
}

int ms_agent_exit_code(ms_agent *a)
{
	int worst;

	if (ms_agent_status(a) < 0)
		return 1;
	pthread_mutex_lock(&a->mu);
	worst = a->worst;
	pthread_mutex_unlock(&a->mu);
	switch (worst) {
	case OUTCOME_OK: return 0;
	case OUTCOME_PARTIAL: return 3;
	case OUTCOME_REFUSED: return 4;
	default: return 1;
	}
}

void ms_agent_free(ms_agent *a)
{
	size_t i, j;

	if (!a)
		return;
	ms_agent_stop(a);
	ms_agent_wait(a);
	ms_http_stop(a->http);
	for (i = 0; i < a->cfg->ntargets; i++) {
		for (j = 0; j < a->targets[i].napplied; j++) {
			free(a->targets[i].applied_src[j]);
			free(a->targets[i].applied_id[j]);
		}
		free(a->targets[i].applied_src);
		free(a->targets[i].applied_id);
	}
	free(a->targets);
	free(a->parent);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
