/*
 * The agent's roles as threads: one source thread (schedule, export,
 * announce), one thread per target (subscribe, check, import, report), and
 * libmicrohttpd's thread for /healthz and /metrics.  Each thread opens its
 * own bus connection; the metrics are shared under one mutex.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/stores.h"
#include "metasync/bus.h"
#include "metasync/compare.h"
#include "metasync/event.h"
#include "metasync/replicate.h"
#include "server/http.h"
#include "util/strlist.h"
#include "util/url.h"

/*
 * Newest snapshot id per key (a source catalog id, or a target name), read
 * from import.succeeded results: what has been applied.
 */
typedef struct marks {
	char **key, **id;
	size_t n;
} marks;

/* Problems /healthz reports, one line each; "" when there is none (under ms_agent.mu). */
#define PROBLEM_MAX 400

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
	marks applied;
	uint64_t results_seen;
	/* source names seen on the snapshot stream, and what follow: makes of them */
	ms_strlist seen;
	marks announced;        /* per source name: the newest snapshot id announced */
	uint64_t snapshots_seen;
	char follow_problem[PROBLEM_MAX];
	char bus_problem[PROBLEM_MAX];
	char catalog_problem[PROBLEM_MAX];
	double next_probe;      /* when to try the catalog again (while it fails) */
	double next_poll;       /* when to read the bus again while idle */
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
	long long exports_ok, exports_failed, exports_unchanged, pruned;
	double last_export;
	target_role *targets;
	ms_http *http;
	char *parent;    /* the id of the previous snapshot this source announced */
	int worst;       /* the worst outcome so far: one of OUTCOME_* */
	/* the source role: its store's root as events name snapshots, what targets applied */
	char *store_root;
	marks store_applied;   /* per target name: newest snapshot of store_root applied */
	uint64_t src_results_seen;
	char src_problem[PROBLEM_MAX];
	char src_bus_problem[PROBLEM_MAX];
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

/* ---- shared state ------------------------------------------------------ */

static const char *marks_get(const marks *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0)
			return m->id[i];
	return NULL;
}

/* Raise key's mark to id (a snapshot id; a newer one stays); add key when new. */
static void marks_raise(marks *m, const char *key, const char *id)
{
	size_t i;
	char **nk, **ni, *k, *d;

	for (i = 0; i < m->n; i++) {
		if (strcmp(m->key[i], key) == 0) {
			if (ms_snapshot_id_cmp(id, m->id[i]) > 0 && (d = strdup(id))) {
				free(m->id[i]);
				m->id[i] = d;
			}
			return;
		}
	}
	nk = realloc(m->key, (m->n + 1) * sizeof(*nk));
	if (nk)
		m->key = nk;
	ni = realloc(m->id, (m->n + 1) * sizeof(*ni));
	if (ni)
		m->id = ni;
	if (!nk || !ni || !(k = strdup(key)))
		return;
	if (!(d = strdup(id))) {
		free(k);
		return;
	}
	m->key[m->n] = k;
	m->id[m->n++] = d;
}

static void marks_free(marks *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->key[i]);
		free(m->id[i]);
	}
	free(m->key);
	free(m->id);
	memset(m, 0, sizeof(*m));
}

/*
 * Set (what non-empty) or clear (what NULL) one of the problems /healthz
 * reports: one line (a backend's message may end in a newline).
 */
static void set_problem(ms_agent *a, char *slot, const char *what, const char *why)
{
	size_t n;
	char *p;

	pthread_mutex_lock(&a->mu);
	if (what)
		snprintf(slot, PROBLEM_MAX, "%s%s%s", what, why ? ": " : "", why ? why : "");
	else
		slot[0] = '\0';
	for (p = slot; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (n = strlen(slot); n > 0 && slot[n - 1] == ' '; n--)
		slot[n - 1] = '\0';
	pthread_mutex_unlock(&a->mu);
}

/* Set a problem: what, then the error's message and its detail (the backend's answer). */
static void set_problem_err(ms_agent *a, char *slot, const char *what, const ms_error *err)
{
	char why[PROBLEM_MAX];

	snprintf(why, sizeof(why), "%s%s%s%s", err->message, err->detail[0] ? " (" : "",
		 err->detail, err->detail[0] ? ")" : "");
	set_problem(a, slot, what, why);
}

/*
 * Open the bus (and, with stream, subscribe to it), trying again while it
 * cannot be reached: a bus that is down or not ready when the agent starts
 * is a problem to show in /healthz, not the end of the role (a URL that
 * cannot work, MS_EINVAL, is at once).  As a service,
 * every 1, 2, 4 ... up to 30 s until it works or the agent stops; with
 * once, 5 tries over about 6 s, so that a cron job still sees a bus that
 * stays away.  0 with *out (and *sub) set, or the last error.
 */
static int open_bus_retrying(ms_agent *a, const char *role, char *slot, const char *stream,
			     const char *durable, const ms_bus_sub_options *so,
			     ms_bus **out, ms_bus_sub **sub, ms_error *err)
{
	long wait_ms = 200;
	int attempt;

	for (attempt = 1;; attempt++) {
		ms_bus *bus = NULL;
		int rc;

		ms_error_clear(err);
		rc = ms_bus_open(&bus, a->cfg->bus, err);
		if (rc == 0 && stream)
			rc = ms_bus_subscribe(bus, stream, durable, so, sub, err);
		if (rc == 0) {
			if (attempt > 1)
				log_line(a, "%s reached the bus after %d attempts", role, attempt);
			set_problem(a, slot, NULL, NULL);
			*out = bus;
			return 0;
		}
		ms_bus_close(bus);
		set_problem_err(a, slot, stream ? "cannot subscribe" : "cannot open the bus", err);
		/* a URL that can never work is not waited for */
		if (a->stop || (a->opts.once && attempt >= 5) || rc == MS_EINVAL || rc == MS_ENOMEM ||
		    rc == MS_ENOTSUPPORTED)
			return rc;
		log_line(a, "%s cannot %s (attempt %d, again in %.1f s): %s", role,
			 stream ? "subscribe" : "open the bus", attempt, (double)wait_ms / 1000,
			 err->message);
		sleep_ms(a, wait_ms);
		wait_ms = wait_ms * 2 > 30000 ? 30000 : wait_ms * 2;
	}
}

/* ---- the source -------------------------------------------------------- */

/* Read while idle (results, and with them the bus's health) every this many seconds. */
#define POLL_SECONDS 5.0
/* Try a target's catalog again every this many seconds while it cannot be opened. */
#define PROBE_SECONDS 10.0

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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

/*
 * Seconds until the next export from now (0: now; -1: none) for the
 * schedules that are not an interval (an interval keeps its own clock in
 * source_main).
 */
static long long next_export_in(const ms_agent_source *s, double last)
{
	time_t t = time(NULL);
	struct tm tm;
	long long now_min, wait;

	switch (s->schedule) {
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

/* Remember where events name this store's snapshots: the parent of a snapshot's url. */
static void note_store_root(ms_agent *a, const char *snapshot_url)
{
	const char *slash = snapshot_url ? strrchr(snapshot_url, '/') : NULL;
	char *root;

	if (!slash || slash == snapshot_url || !(root = strndup(snapshot_url, (size_t)(slash - snapshot_url))))
		return;
	pthread_mutex_lock(&a->mu);
	free(a->store_root);
	a->store_root = root;
	pthread_mutex_unlock(&a->mu);
}

/*
 * msg as an io.metasync.import.succeeded event that names its target and
 * snapshot id (new; ms_event_free), or NULL for any other message.
 */
static ms_event *succeeded_result(const ms_bus_msg *msg, const char **target, const char **id)
{
	ms_event *ev = NULL;

	if (ms_event_parse(msg->data, msg->len, &ev, NULL) < 0)
		return NULL;
	*target = ms_event_str(ev, "target");
	*id = ms_event_str(ev, "snapshot_id");
	if (strcmp(ev->type, MS_EVENT_IMPORT_SUCCEEDED) != 0 || !*target || !*id) {
		ms_event_free(ev);
		return NULL;
	}
	return ev;
}

/* Results stream, for the source: the newest snapshot of its store each target applied. */
static int read_store_result(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	ms_agent *a = ctx;
	const char *tgt, *id, *url;
	ms_event *ev;
	size_t n;

	(void)err;
	a->src_results_seen = msg->seq;
	if (!(ev = succeeded_result(msg, &tgt, &id)))
		return 0;
	url = ms_event_str(ev, "snapshot");
	pthread_mutex_lock(&a->mu);
	n = a->store_root ? strlen(a->store_root) : 0;
	if (url && n && strncmp(url, a->store_root, n) == 0 && url[n] == '/' &&
	    !strchr(url + n + 1, '/'))
		marks_raise(&a->store_applied, tgt, id);
	pthread_mutex_unlock(&a->mu);
	ms_event_free(ev);
	return 0;
}

/* Read what is new on the results stream; whether that works is the bus's health. */
static void source_poll(ms_agent *a, ms_bus *bus)
{
	ms_error err;

	ms_error_clear(&err);
	if (ms_bus_read(bus, MS_STREAM_RESULTS, a->src_results_seen, 0, read_store_result, a,
			&err) < 0) {
		if (!a->src_bus_problem[0])
			log_line(a, "source=%s bus: %s", a->cfg->source->name, err.message);
		set_problem_err(a, a->src_bus_problem, "cannot read the bus", &err);
	} else {
		set_problem(a, a->src_bus_problem, NULL, NULL);
	}
}

static void count_export(ms_agent *a, int rc, const char *why)
{
	pthread_mutex_lock(&a->mu);
	if (rc == 0) {
		a->exports_ok++;
		a->last_export = now_s();
	} else {
		a->exports_failed++;
	}
	pthread_mutex_unlock(&a->mu);
	set_problem(a, a->src_problem, rc == 0 ? NULL : "the last export failed", why);
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
		note_store_root(a, info.url);
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
	count_export(a, rc, err.message);
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

typedef struct find_snapshot {
	const char *source, *id;
	int found;
} find_snapshot;

static int match_snapshot_event(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	find_snapshot *f = ctx;
	ms_event *ev = NULL;
	const char *id;

	(void)err;
	if (ms_event_parse(msg->data, msg->len, &ev, NULL) < 0)
		return 0;
	id = ms_event_str(ev, "snapshot_id");
	if (strcmp(ev->type, MS_EVENT_SNAPSHOT_CREATED) == 0 && id && strcmp(id, f->id) == 0 &&
	    strcmp(ms_event_source_name(ev), f->source) == 0)
		f->found = 1;
	ms_event_free(ev);
	return 0;
}

/*
 * The store's latest snapshot already holds what an export would write: no
 * export, no event, unless that snapshot was never announced (an export
 * whose event could not be published, or a store filled before this bus):
 * then it is announced now, once.
 */
static void export_unchanged(ms_agent *a, ms_bus *bus, const ms_snapshot_info *latest)
{
	const ms_agent_source *s = a->cfg->source;
	find_snapshot f = { s->name, latest->id, 0 };
	ms_error err;
	int rc = 0;

	ms_error_clear(&err);
	note_store_root(a, latest->url);
	if (!a->parent || strcmp(a->parent, latest->id) != 0) {
		rc = ms_bus_read(bus, MS_STREAM_SNAPSHOTS, 0, 0, match_snapshot_event, &f, &err);
		if (rc == 0 && !f.found &&
		    (rc = ms_event_publish_snapshot(a->cfg->bus, s->name, latest, NULL, &err)) == 0)
			log_line(a, "source=%s snapshot=%s announced: it was not on the bus", s->name,
				 latest->url);
		if (rc == 0) {
			free(a->parent);
			a->parent = strdup(latest->id);
		}
	}
	if (a->opts.hooks.run)
		a->opts.hooks.run(a->opts.hooks.ctx, s->name, "unchanged", latest->url, NULL,
				  rc < 0 ? &err : NULL);
	if (rc < 0) {
		note_outcome(a, OUTCOME_ERROR);
		count_export(a, rc, err.message);
		log_line(a, "source=%s export=failed error=\"cannot announce %s: %s\"", s->name,
			 latest->url, err.message);
		return;
	}
	pthread_mutex_lock(&a->mu);
	a->exports_unchanged++;
	a->last_export = now_s();
	pthread_mutex_unlock(&a->mu);
	set_problem(a, a->src_problem, NULL, NULL);
	log_line(a, "source=%s export=unchanged snapshot=%s: the latest snapshot holds what the "
		    "source holds", s->name, latest->url);
}

/* What the retention removed, and removals that failed. */
static void log_prune(const ms_gc_item *item, void *ctx)
{
	ms_agent *a = ctx;

	if (item->kind != MS_GC_EXPIRED) {
		log_cleanup(item, ctx);
		return;
	}
	if (item->remove && item->error)
		log_line(a, "source=%s prune=failed snapshot=%s error=\"%s\"", a->cfg->source->name,
			 item->key, item->error);
	else if (item->remove) {
		log_line(a, "source=%s prune=removed snapshot=%s bytes=%llu why=\"%s\"",
			 a->cfg->source->name, item->key, item->bytes, item->why);
		pthread_mutex_lock(&a->mu);
		a->pruned++;
		pthread_mutex_unlock(&a->mu);
	}
}

/*
 * The oldest snapshot a target may still need (new), or NULL when none
 * holds pruning back: the oldest of the newest snapshots each target
 * applied, over the targets of this file that follow the source and those
 * the results stream shows applying a snapshot of this store.  A following
 * target of this file that has applied none holds back everything (*all).
 */
static char *retention_hold(ms_agent *a, const char **who, int *all)
{
	const ms_agent_config *cfg = a->cfg;
	const char *oldest = NULL, *id;
	size_t i;
	char *out;

	*all = 0;
	*who = NULL;
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < cfg->ntargets; i++) {
		if (!follows(&cfg->targets[i], cfg->source->name))
			continue;
		if (!(id = marks_get(&a->store_applied, cfg->targets[i].name))) {
			*all = 1;
			*who = cfg->targets[i].name;
			pthread_mutex_unlock(&a->mu);
			return NULL;
		}
	}
	for (i = 0; i < a->store_applied.n; i++) {
		if (!oldest || ms_snapshot_id_cmp(a->store_applied.id[i], oldest) < 0) {
			oldest = a->store_applied.id[i];
			*who = a->store_applied.key[i];
		}
	}
	out = oldest ? strdup(oldest) : NULL;
	pthread_mutex_unlock(&a->mu);
	return out;
}

/*
 * Prune the store by the source's retention with the store's gc: never
 * LATEST (gc keeps it and anything newer), never a snapshot from the
 * oldest one a target may still need on (kept as "young enough").
 */
static void prune(ms_agent *a, ms_bus *bus)
{
	const ms_agent_source *s = a->cfg->source;
	ms_gc_options go = { 0 };
	ms_store *st = NULL;
	const char *who;
	char *hold;
	long long when, keep_seconds = s->keep_seconds;
	int all;
	ms_error err;

	if (!s->keep && s->keep_seconds <= 0)
		return;
	source_poll(a, bus);
	hold = retention_hold(a, &who, &all);
	if (all) {
		log_line(a, "source=%s prune=held: target '%s' has applied no snapshot of this store "
			    "yet", s->name, who);
		return;
	}
	go.now = (long long)time(NULL);
	/* keep_seconds from now back to the held snapshot's time keeps it and what is newer */
	if (hold && ms_snapshot_id_time(hold, &when)) {
		long long age = go.now - when > 0 ? go.now - when : 1;

		if (age > keep_seconds)
			keep_seconds = age;
	}
	ms_error_clear(&err);
	go.keep = s->keep;
	go.keep_seconds = keep_seconds;
	go.on_item = log_prune;
	go.ctx = a;
	if (ms_store_open(&st, s->store, &err) < 0 || ms_store_gc(st, &go, NULL, &err) < 0)
		log_line(a, "source=%s prune=failed error=\"%s\"", s->name, err.message);
	else if (hold)
		log_line(a, "source=%s prune=done kept-from=%s (target '%s' applied it last)",
			 s->name, hold, who);
	ms_store_close(st);
	free(hold);
}

/* One scheduled slot: skip the export when nothing changed, else export; then prune. */
static void source_slot(ms_agent *a, ms_bus *bus)
{
	const ms_agent_source *s = a->cfg->source;
	ms_snapshot_info latest;
	ms_error err;
	int current = 0;

	ms_error_clear(&err);
	memset(&latest, 0, sizeof(latest));
	/* a source that cannot be read is the export's error to report */
	if (ms_export_is_current(s->catalog, s->store, s->databases, &current, &latest, &err) == 0 &&
	    current)
		export_unchanged(a, bus, &latest);
	else
		export_once(a, bus);
	ms_snapshot_info_free(&latest);
	prune(a, bus);
}

/*
 * The source role.  An interval schedule exports at t0 + k * interval (t0:
 * the start, on a monotonic clock); a slot that passed while an export ran
 * is skipped, not made up for.
 */
static void *source_main(void *arg)
{
	ms_agent *a = arg;
	const ms_agent_source *s = a->cfg->source;
	ms_bus *bus = NULL;
	double last = 0, t0 = mono_s(), due = t0, next_poll = 0;
	char role[128];
	ms_error err;

	ms_error_clear(&err);
	snprintf(role, sizeof(role), "source=%s", s->name);
	if (open_bus_retrying(a, role, a->src_bus_problem, NULL, NULL, NULL, &bus, NULL, &err) < 0) {
		log_line(a, "source=%s cannot open the bus: %s", s->name, err.message);
		a->source_fatal = 1;
		a->source_done = 1;
		return NULL;
	}
	while (!a->stop) {
		if (a->opts.once) {
			if (last != 0)
				break;
		} else if (s->schedule == MS_SCHEDULE_INTERVAL) {
			double now = mono_s();

			if (now < due) {
				if (now >= next_poll) {
					source_poll(a, bus);
					next_poll = mono_s() + POLL_SECONDS;
				}
				now = mono_s();
				if (now < due)
					sleep_ms(a, due - now > 1.0 ? 1000 : (long)((due - now) * 1000) + 1);
				continue;
			}
		} else {
			long long wait = next_export_in(s, last);

			if (wait != 0) {
				if (mono_s() >= next_poll) {
					source_poll(a, bus);
					next_poll = mono_s() + POLL_SECONDS;
				}
				sleep_ms(a, wait > 1 || wait < 0 ? 1000 : (long)(wait * 1000));
				continue;
			}
		}
		source_slot(a, bus);
		last = now_s();
		if (s->schedule == MS_SCHEDULE_INTERVAL) {
			double slot = (double)s->interval_seconds;
			double k_done = (due - t0) / slot, k_next = floor((mono_s() - t0) / slot) + 1;

			if (k_next - k_done > 1.5)
				log_line(a, "source=%s schedule: the export ran past %.0f slot%s, skipped",
					 s->name, k_next - k_done - 1, k_next - k_done > 2.5 ? "s" : "");
			due = t0 + k_next * slot;
		}
	}
	ms_bus_close(bus);
	a->source_done = 1;
	return NULL;
}

/* ---- a target ---------------------------------------------------------- */

/* Results stream: every import.succeeded of this target raises its mark. */
static int read_result(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	target_role *t = ctx;
	const char *tgt, *id, *src;
	ms_event *ev;

	(void)err;
	t->results_seen = msg->seq;
	if (!(ev = succeeded_result(msg, &tgt, &id)))
		return 0;
	src = ms_event_str(ev, "source_catalog_id");
	if (src && strcmp(tgt, t->cfg->name) == 0)
		marks_raise(&t->applied, src, id);
	ms_event_free(ev);
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

/* The sources this target knows of: this file's, and those seen on the snapshot stream. */
static int known_source(const target_role *t, const char *name)
{
	const ms_agent_source *src = t->agent->cfg->source;

	return (src && strcmp(src->name, name) == 0) || ms_strlist_has(&t->seen, name);
}

/*
 * Check that every follow: entry names a known source; set or clear the
 * problem, and log when it appears or changes.  new_source: the name of a
 * source just seen for the first time (NULL at start).
 */
static void check_follow(target_role *t, const char *new_source)
{
	const ms_agent_target *c = t->cfg;
	ms_buf missing = MS_BUF_INIT(PROBLEM_MAX), known = MS_BUF_INIT(PROBLEM_MAX);
	char problem[PROBLEM_MAX];
	size_t i, nmissing = 0;

	for (i = 0; i < c->nfollow; i++) {
		if (known_source(t, c->follow[i]))
			continue;
		ms_buf_printf(&missing, "%s'%s'", nmissing++ ? ", " : "", c->follow[i]);
	}
	if (t->agent->cfg->source)
		ms_buf_adds(&known, t->agent->cfg->source->name);
	for (i = 0; i < t->seen.n; i++)
		if (!t->agent->cfg->source || strcmp(t->seen.v[i], t->agent->cfg->source->name) != 0)
			ms_buf_printf(&known, "%s%s", known.len ? ", " : "", t->seen.v[i]);
	if (!nmissing) {
		if (t->follow_problem[0])
			log_line(t->agent, "target=%s follow: every entry now matches a source",
				 c->name);
		set_problem(t->agent, t->follow_problem, NULL, NULL);
	} else {
		snprintf(problem, sizeof(problem), "follow: %s match%s no source (known: %s)",
			 ms_buf_cstr(&missing), nmissing == 1 ? "es" : "",
			 known.len ? ms_buf_cstr(&known) : "none yet");
		if (!t->follow_problem[0] || (new_source && !follows(c, new_source)))
			log_line(t->agent, "target=%s warning: %s%s%s%s", c->name, problem,
				 new_source ? "; events of '" : "", new_source ? new_source : "",
				 new_source ? "' arrive, which it does not follow" : "");
		set_problem(t->agent, t->follow_problem, problem, NULL);
	}
	ms_buf_free(&missing);
	ms_buf_free(&known);
}

/* A source name from the snapshot stream: remember it, and check follow: again when new. */
static void saw_source(target_role *t, const char *name)
{
	if (!name || ms_strlist_has(&t->seen, name) || ms_strlist_add(&t->seen, name) < 0)
		return;
	if (t->cfg->nfollow)
		check_follow(t, name);
}

/* A snapshot event: its source is known, and its snapshot announced. */
static void saw_snapshot(target_role *t, const ms_event *ev)
{
	const char *id = ms_event_str(ev, "snapshot_id");

	saw_source(t, ms_event_source_name(ev));
	if (id)
		marks_raise(&t->announced, ms_event_source_name(ev), id);
}

static int read_snapshot_source(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	target_role *t = ctx;
	ms_event *ev = NULL;

	(void)err;
	t->snapshots_seen = msg->seq;
	if (ms_event_parse(msg->data, msg->len, &ev, NULL) < 0)
		return 0;
	if (strcmp(ev->type, MS_EVENT_SNAPSHOT_CREATED) == 0)
		saw_snapshot(t, ev);
	ms_event_free(ev);
	return 0;
}

/* 1 when the snapshot at url opens (and its manifest hashes to sha, when given). */
static int snapshot_readable(const char *url, const char *sha)
{
	ms_open_options o = { 0 };
	ms_catalog *cat = NULL;
	int ok;

	o.mode = MS_OPEN_READ;
	o.expect_manifest_sha256 = sha;
	ok = ms_catalog_open(&cat, url, &o, NULL) == 0;
	ms_catalog_close(cat);
	return ok;
}

/* Read what is new on the snapshot and results streams; whether that works is the bus's health. */
static void target_poll(target_role *t, ms_bus *bus)
{
	ms_error err;

	ms_error_clear(&err);
	if (ms_bus_read(bus, MS_STREAM_SNAPSHOTS, t->snapshots_seen, 0, read_snapshot_source, t,
			&err) < 0 ||
	    ms_bus_read(bus, MS_STREAM_RESULTS, t->results_seen, 0, read_result, t, &err) < 0) {
		if (!t->bus_problem[0])
			log_line(t->agent, "target=%s bus: %s", t->cfg->name, err.message);
		set_problem_err(t->agent, t->bus_problem, "cannot read the bus", &err);
	} else {
		set_problem(t->agent, t->bus_problem, NULL, NULL);
	}
	t->next_poll = mono_s() + POLL_SECONDS;
}

/* Open the target's catalog as an import would, and say whether that works. */
static void probe_catalog(target_role *t)
{
	ms_open_options o = { 0 };
	ms_catalog *cat = NULL;
	ms_error err;

	ms_error_clear(&err);
	o.mode = MS_OPEN_WRITE;
	if (ms_catalog_open(&cat, t->cfg->catalog, &o, &err) < 0) {
		if (!t->catalog_problem[0])
			log_line(t->agent, "target=%s cannot open its catalog: %s", t->cfg->name,
				 err.message);
		set_problem_err(t->agent, t->catalog_problem, "cannot open its catalog", &err);
	} else {
		if (t->catalog_problem[0])
			log_line(t->agent, "target=%s its catalog opens again", t->cfg->name);
		set_problem(t->agent, t->catalog_problem, NULL, NULL);
	}
	ms_catalog_close(cat);
	t->next_probe = mono_s() + PROBE_SECONDS;
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
	const char *url, *sha, *id, *src, *prev, *newer;
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
	if (strcmp(ev->type, MS_EVENT_SNAPSHOT_CREATED) == 0)
		saw_snapshot(t, ev);
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
	prev = marks_get(&t->applied, src);
	newer = id ? marks_get(&t->announced, ms_event_source_name(ev)) : NULL;
	if (newer && ms_snapshot_id_cmp(id, newer) >= 0)
		newer = NULL;
	if (id && ((prev && ms_snapshot_id_cmp(id, prev) < 0) ||
		   (newer && !snapshot_readable(open_url, sha)))) {
		pthread_mutex_lock(&a->mu);
		t->st.skipped++;
		pthread_mutex_unlock(&a->mu);
		if (prev && ms_snapshot_id_cmp(id, prev) < 0)
			log_line(a, "target=%s snapshot=%s skipped: the newer %s is applied", c->name,
				 url, prev);
		else   /* pruned from its store, say: the newer one stands for it */
			log_line(a, "target=%s snapshot=%s skipped: it cannot be read and the newer "
				    "%s of the same source is announced", c->name, url, newer);
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
	so.prune_unmapped = c->prune_unmapped;
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
	/* whether the catalog is what failed, for /healthz */
	if (rc < 0 && rc != MS_EREFUSED)
		probe_catalog(t);
	else
		set_problem(a, t->catalog_problem, NULL, NULL);
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
		marks_raise(&t->applied, src, id);
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
	char role[128];
	int done;
	ms_error err;

	ms_error_clear(&err);
	so.max_deliver = t->cfg->max_attempts ? t->cfg->max_attempts : 5;
	so.ack_wait_ms = (unsigned)(t->cfg->ack_wait_seconds * 1000);
	snprintf(role, sizeof(role), "target=%s", t->cfg->name);
	if (open_bus_retrying(a, role, t->bus_problem, MS_STREAM_SNAPSHOTS, t->cfg->name, &so, &bus,
			      &sub, &err) < 0) {
		log_line(a, "target=%s cannot subscribe: %s%s%s%s", t->cfg->name, err.message,
			 err.detail[0] ? " (" : "", err.detail, err.detail[0] ? ")" : "");
		t->fatal = 1;
		return NULL;
	}
	if (t->cfg->follow_none)
		log_line(a, "target=%s follows no source (follow: [])", t->cfg->name);
	target_poll(t, bus);
	if (t->cfg->nfollow)
		check_follow(t, NULL);
	probe_catalog(t);
	while (!a->stop) {
		msg = NULL;
		if (ms_bus_next(sub, 200, dead_letter, t, &msg, &err) < 0) {
			log_line(a, "target=%s bus: %s", t->cfg->name, err.message);
			set_problem_err(a, t->bus_problem, "cannot take the next event", &err);
			sleep_ms(a, 1000);
			continue;
		}
		if (!msg) {
			if (mono_s() >= t->next_poll)
				target_poll(t, bus);
			if (t->catalog_problem[0] && mono_s() >= t->next_probe)
				probe_catalog(t);
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
		ms_buf_printf(b, "metasync_exports_total{source=\"%s\",result=\"unchanged\"} %lld\n",
			      s, a->exports_unchanged);
		ms_buf_adds(b, "# HELP metasync_snapshots_pruned_total Snapshots the retention removed.\n"
			       "# TYPE metasync_snapshots_pruned_total counter\n");
		ms_buf_printf(b, "metasync_snapshots_pruned_total{source=\"%s\"} %lld\n", s, a->pruned);
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

static void health_line(ms_buf *b, int *bad, const char *role, const char *name,
			const char *problem)
{
	if (!problem[0])
		return;
	ms_buf_printf(b, "%s '%s': %s\n", role, name, problem);
	(*bad)++;
}

int ms_agent_health(ms_agent *a, ms_buf *b)
{
	int bad = 0;
	size_t i;

	pthread_mutex_lock(&a->mu);
	if (a->cfg->source) {
		const char *n = a->cfg->source->name;

		if (a->source_fatal && !a->src_bus_problem[0])
			health_line(b, &bad, "source", n, "did not start");
		health_line(b, &bad, "bus: source", n, a->src_bus_problem);
		health_line(b, &bad, "source", n, a->src_problem);
	}
	for (i = 0; i < a->cfg->ntargets; i++) {
		const target_role *t = &a->targets[i];

		if (t->fatal && !t->bus_problem[0])
			health_line(b, &bad, "target", t->cfg->name, "did not start");
		health_line(b, &bad, "bus: target", t->cfg->name, t->bus_problem);
		health_line(b, &bad, "target", t->cfg->name, t->catalog_problem);
		health_line(b, &bad, "target", t->cfg->name, t->follow_problem);
	}
	pthread_mutex_unlock(&a->mu);
	if (!bad)
		ms_buf_adds(b, "ok\n");
	return bad ? MS_ERROR : 0;
}

static int http_handler(const char *path, ms_buf *body, const char **ctype, void *ctx)
{
	ms_agent *a = ctx;

	if (strcmp(path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		ms_agent_metrics(a, body);
		return 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		*ctype = "text/plain; charset=utf-8";
		return ms_agent_health(a, body) == 0 ? 200 : 503;
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
	size_t i;

	if (!a)
		return;
	ms_agent_stop(a);
	ms_agent_wait(a);
	ms_http_stop(a->http);
	for (i = 0; i < a->cfg->ntargets; i++) {
		marks_free(&a->targets[i].applied);
		marks_free(&a->targets[i].announced);
		ms_strlist_free(&a->targets[i].seen);
	}
	free(a->targets);
	free(a->parent);
	free(a->store_root);
	marks_free(&a->store_applied);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
