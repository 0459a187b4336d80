/*
 * The agent's source role: export on the schedule (or announce the latest
 * snapshot when nothing changed), then prune the store by its retention,
 * never past the oldest snapshot a following target may still need.  A
 * live source (mode: live) exports each change set of its catalog's change
 * feed instead, as an incremental snapshot, as the changes commit.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_internal.h"
#include "metasync/compare.h"
#include "util/clock.h"

/*
 * Seconds until the next export from now (0: now; -1: none) for the
 * schedules that are not an interval (an interval keeps its own clock in
 * agent_source_main).
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
		if (now_min == s->at_minute && (last == 0 || agent_now_s() - last > 120))
			return 0;
		wait = ((long long)s->at_minute - now_min + 1440) % 1440;
		return wait == 0 ? 86400 - tm.tm_sec : wait * 60 - tm.tm_sec;
	default:
		return last == 0 ? 0 : -1; /* on demand: once at start */
	}
}

/* What the export's cleanup removed from the store (not what it kept), and its failures. */
static void log_cleanup(const ms_gc_item *item, void *ctx)
{
	ms_agent *a = ctx;
	const char *name = a->cfg->source->name;

	if (!item->key)
		agent_log(a, "source=%s cleanup=failed error=\"%s\"", name, item->error);
	else if (item->remove && item->error)
		agent_log(a, "source=%s cleanup=failed abandoned=%s error=\"%s\"", name, item->key,
			  item->error);
	else if (item->remove)
		agent_log(a, "source=%s cleanup=removed abandoned=%s bytes=%llu why=\"%s\"", name,
			  item->key, item->bytes, item->why);
}

/* Remember where events name this store's snapshots: the parent of a snapshot's url. */
static void note_store_root(ms_agent *a, const char *snapshot_url)
{
	const char *slash = snapshot_url ? strrchr(snapshot_url, '/') : NULL;
	char *root;

	if (!slash || slash == snapshot_url ||
	    !(root = strndup(snapshot_url, (size_t)(slash - snapshot_url))))
		return;
	pthread_mutex_lock(&a->mu);
	free(a->store_root);
	a->store_root = root;
	pthread_mutex_unlock(&a->mu);
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
	if (!(ev = agent_succeeded_result(msg, &tgt, &id)))
		return 0;
	url = ms_event_str(ev, "snapshot");
	pthread_mutex_lock(&a->mu);
	n = a->store_root ? strlen(a->store_root) : 0;
	if (url && n && strncmp(url, a->store_root, n) == 0 && url[n] == '/' &&
	    !strchr(url + n + 1, '/'))
		agent_marks_raise(&a->store_applied, tgt, id);
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
			agent_log(a, "source=%s bus: %s", a->cfg->source->name, err.message);
		agent_set_problem_err(a, a->src_bus_problem, "cannot read the bus", &err);
	} else {
		agent_set_problem(a, a->src_bus_problem, NULL, NULL);
	}
}

static void count_export(ms_agent *a, int rc, const char *why)
{
	pthread_mutex_lock(&a->mu);
	if (rc == 0) {
		a->exports_ok++;
		a->last_export = agent_now_s();
	} else {
		a->exports_failed++;
	}
	pthread_mutex_unlock(&a->mu);
	agent_set_problem(a, a->src_problem, rc == 0 ? NULL : "the last export failed", why);
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
		agent_note_outcome(a, partial ? OUTCOME_PARTIAL : OUTCOME_ERROR);
	count_export(a, rc, err.message);
	if (rc == 0)
		agent_log(a, "source=%s export=ok snapshot=%s partitions=%llu seconds=%.2f",
			  s->name, info.url, info.partitions, rep ? rep->seconds : 0.0);
	else {
		agent_log(a, "source=%s export=failed error=\"%s\"", s->name, err.message);
		agent_publish_error(a, bus, s->name, "export", NULL, NULL, NULL, err.message);
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
			agent_log(a, "source=%s snapshot=%s announced: it was not on the bus",
				  s->name, latest->url);
		if (rc == 0) {
			free(a->parent);
			a->parent = strdup(latest->id);
		}
	}
	if (a->opts.hooks.run)
		a->opts.hooks.run(a->opts.hooks.ctx, s->name, "unchanged", latest->url, NULL,
				  rc < 0 ? &err : NULL);
	if (rc < 0) {
		agent_note_outcome(a, OUTCOME_ERROR);
		count_export(a, rc, err.message);
		agent_log(a, "source=%s export=failed error=\"cannot announce %s: %s\"", s->name,
			  latest->url, err.message);
		return;
	}
	pthread_mutex_lock(&a->mu);
	a->exports_unchanged++;
	a->last_export = agent_now_s();
	pthread_mutex_unlock(&a->mu);
	agent_set_problem(a, a->src_problem, NULL, NULL);
	agent_log(a,
		  "source=%s export=unchanged snapshot=%s: the latest snapshot holds what the "
		  "source holds",
		  s->name, latest->url);
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
		agent_log(a, "source=%s prune=failed snapshot=%s error=\"%s\"",
			  a->cfg->source->name, item->key, item->error);
	else if (item->remove) {
		agent_log(a, "source=%s prune=removed snapshot=%s bytes=%llu why=\"%s\"",
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
		if (!agent_follows(&cfg->targets[i], cfg->source->name))
			continue;
		if (!(id = agent_marks_get(&a->store_applied, cfg->targets[i].name))) {
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
static void prune_store(ms_agent *a, ms_bus *bus, int poll);

static void prune(ms_agent *a, ms_bus *bus)
{
	prune_store(a, bus, 1);
}

/* prune, reading the results stream first unless poll is 0 (another thread reads it). */
static void prune_store(ms_agent *a, ms_bus *bus, int poll)
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
	if (poll)
		source_poll(a, bus);
	hold = retention_hold(a, &who, &all);
	if (all) {
		agent_log(a,
			  "source=%s prune=held: target '%s' has applied no snapshot of this store "
			  "yet",
			  s->name, who);
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
		agent_log(a, "source=%s prune=failed error=\"%s\"", s->name, err.message);
	else if (hold)
		agent_log(a, "source=%s prune=done kept-from=%s (target '%s' applied it last)",
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
	if (ms_export_is_current(s->catalog, s->store, s->databases, &current, &latest, &err) ==
		    0 &&
	    current)
		export_unchanged(a, bus, &latest);
	else
		export_once(a, bus);
	ms_snapshot_info_free(&latest);
	prune(a, bus);
}

/* ---- live: the change feed, change set by change set ------------------ */

/* Events carry a snapshot of up to this many bytes inside them. */
#define INLINE_MAX ((size_t)256 << 10)
/* A live source cleans its store up and prunes it every this many seconds (in a thread). */
#define LIVE_PRUNE_SECONDS 60.0

/* Stop at the first change: there is something to export. */
static int any_change(const ms_change *c, void *ctx, ms_error *err)
{
	(void)c;
	(void)ctx;
	(void)err;
	return 1;
}

/* The feed cursor the store's LATEST records, when it is this source's (new), or NULL. */
static char *latest_cursor(ms_agent *a, ms_catalog *cat)
{
	const ms_agent_source *s = a->cfg->source;
	ms_catalog *latest = NULL;
	ms_snapshot_info info;
	char *cursor = NULL;

	memset(&info, 0, sizeof(info));
	if (ms_catalog_open(&latest, s->store, NULL, NULL) == 0 &&
	    ms_catalog_snapshot_info(latest, &info, NULL) == 0 && info.source_cursor &&
	    info.source_catalog_id && strcmp(info.source_catalog_id, ms_catalog_id(cat)) == 0)
		cursor = strdup(info.source_cursor);
	ms_snapshot_info_free(&info);
	ms_catalog_close(latest);
	return cursor;
}

/* Announce a live export: its event carries the snapshot when it is small. */
static void announce_live(ms_agent *a, ms_bus *bus, const ms_snapshot_info *info)
{
	const ms_agent_source *s = a->cfg->source;
	cJSON *data = ms_event_snapshot_data(info, a->parent), *files;
	ms_error err;

	char source[300], *text;
	long wait = 250;

	ms_error_clear(&err);
	if (data && (files = ms_event_inline_files(s->store, info, INLINE_MAX, &err)))
		cJSON_AddItemToObject(data, "inline", files);
	snprintf(source, sizeof(source), "/metasync/%s", s->name);
	/*
	 * Until it is on the bus (a cluster node may be away): the last change
	 * set has no later one whose gap would bring it to the targets.
	 */
	if ((text = ms_event_build(MS_EVENT_SNAPSHOT_CREATED, source, info->id, data, &err))) {
		while (ms_bus_publish(bus, MS_STREAM_SNAPSHOTS, text, strlen(text), &err) < 0 &&
		       !a->stop) {
			agent_log(a, "source=%s cannot announce %s: %s (trying again)", s->name,
				  info->id, err.message);
			agent_set_problem_err(a, a->src_bus_problem, "cannot publish", &err);
			agent_sleep_ms(a, wait);
			wait = wait < 4000 ? wait * 2 : 4000;
		}
		agent_set_problem(a, a->src_bus_problem, NULL, NULL);
	}
	free(text);
	free(a->parent);
	a->parent = info->id ? strdup(info->id) : NULL;
}

/* One change set: an incremental snapshot (or a full one when it must), announced. */
static void export_live(ms_agent *a, ms_bus *bus, char **cursor)
{
	const ms_agent_source *s = a->cfg->source;
	ms_export_options eo = { 0 };
	ms_snapshot_info info;
	ms_report *rep = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	eo.databases = s->databases;
	eo.compress = s->compress;
	eo.incremental = 1;
	eo.full_every = s->full_every ? s->full_every : UINT_MAX; /* 0: only when needed */
	eo.no_cleanup = 1; /* a thread of its own does it (cleanup_main) */
	eo.on_cleanup = log_cleanup;
	eo.cleanup_ctx = a;
	rc = ms_export(s->catalog, s->store, &eo, &info, &rep, &err);
	if (a->opts.hooks.run)
		a->opts.hooks.run(a->opts.hooks.ctx, s->name, "export", info.url, rep,
				  rc < 0 ? &err : NULL);
	if (rc == 0 && !info.url) {
		rc = MS_ERROR;
		snprintf(err.message, sizeof(err.message),
			 "export incomplete: %zu entities failed, nothing published",
			 rep ? rep->nerrors : 0);
	}
	if (rc == 0) {
		note_store_root(a, info.url);
		announce_live(a, bus, &info);
		free(*cursor);
		*cursor = info.source_cursor ? strdup(info.source_cursor) : NULL;
		agent_log(a, "source=%s export=ok snapshot=%s %s changes=%llu tombstones=%llu",
			  s->name, info.url, info.parent ? "incremental" : "full", info.changes,
			  info.tombstones);
		for (size_t i = 0; rep && i < rep->nwarnings; i++)
			agent_log(a, "source=%s warning: %s: %s", s->name, rep->warnings[i].entity,
				  rep->warnings[i].message);
	} else {
		agent_note_outcome(a, OUTCOME_ERROR);
		agent_log(a, "source=%s export=failed error=\"%s\"", s->name, err.message);
		agent_publish_error(a, bus, s->name, "export", NULL, NULL, NULL, err.message);
	}
	count_export(a, rc, err.message);
	ms_snapshot_info_free(&info);
	ms_report_free(rep);
}

/*
 * Is there something to export?  1 when the feed holds a change after the
 * cursor (or there is no cursor, or the feed no longer holds it: the export
 * decides), 0 when not, < 0 when the feed cannot be read.
 */
static int live_pending(ms_catalog *cat, const char *cursor, ms_error *err)
{
	char *next = NULL;
	int rc;

	if (!cursor)
		return 1;
	rc = ms_catalog_changes_since(cat, cursor, any_change, NULL, &next, err);
	free(next);
	if (rc == 1 || rc == MS_ECONFLICT)
		return 1;
	return rc < 0 ? rc : 0;
}

/* The store's cleanup, away from the change sets (a store of many snapshots lists slowly). */
typedef struct live_cleanup {
	ms_agent *a;
	pthread_t th;
	int started;
	volatile int done;
} live_cleanup;

static void *cleanup_main(void *arg)
{
	live_cleanup *c = arg;
	ms_agent *a = c->a;
	ms_gc_options go = { 0 };
	ms_store *st = NULL;
	ms_bus *bus = NULL;
	ms_error err;

	ms_error_clear(&err);
	/* what killed exports left behind, as every export of a scheduled source removes it */
	go.on_item = log_cleanup;
	go.ctx = a;
	if (ms_store_open(&st, a->cfg->source->store, &err) < 0 ||
	    ms_store_gc(st, &go, NULL, &err) < 0)
		agent_log(a, "source=%s cleanup=failed error=\"%s\"", a->cfg->source->name,
			  err.message);
	ms_store_close(st);
	if (ms_bus_open(&bus, a->cfg->bus, &err) == 0) {
		prune_store(a, bus, 0);
		ms_bus_close(bus);
	}
	c->done = 1;
	return NULL;
}

/* Start a cleanup unless one still runs; join one that finished (or any, when stopping). */
static void cleanup_turn(live_cleanup *c, int start, int stopping)
{
	if (c->started && (c->done || stopping)) {
		pthread_join(c->th, NULL);
		c->started = 0;
	}
	if (start && !c->started && !stopping) {
		c->done = 0;
		c->started = pthread_create(&c->th, NULL, cleanup_main, c) == 0;
	}
}

/*
 * The live source: read the catalog's change feed every poll; when it holds
 * changes, export them as an incremental snapshot and announce it.  The
 * cursor lives in the store (LATEST's source_cursor), so a restarted source
 * goes on from the last snapshot it wrote, and no change falls between.
 */
static void source_live(ms_agent *a, ms_bus *bus)
{
	const ms_agent_source *s = a->cfg->source;
	ms_catalog *cat = NULL;
	char *cursor = NULL;
	double next_poll = 0, next_clean = 0;
	live_cleanup cleanup = { a, 0, 0, 0 };
	ms_error err;
	int rc;

	while (!a->stop) {
		if (!a->opts.once && ms_mono_s() >= next_clean) {
			cleanup_turn(&cleanup, 1, 0);
			next_clean = ms_mono_s() + LIVE_PRUNE_SECONDS;
		} else {
			cleanup_turn(&cleanup, 0, 0);
		}
		ms_error_clear(&err);
		if (!cat && ms_catalog_open(&cat, s->catalog, NULL, &err) < 0) {
			agent_set_problem_err(a, a->src_problem, "cannot open the catalog", &err);
			agent_sleep_ms(a, 1000);
			continue;
		}
		if (!cursor)
			cursor = latest_cursor(a, cat);
		if ((rc = live_pending(cat, cursor, &err)) < 0) {
			agent_log(a, "source=%s feed: %s", s->name, err.message);
			agent_set_problem_err(a, a->src_problem, "cannot read the change feed",
					      &err);
			ms_catalog_close(cat);
			cat = NULL;
			agent_sleep_ms(a, 1000);
			continue;
		}
		if (rc > 0) {
			export_live(a, bus, &cursor);
			if (a->opts.once)
				break;
			continue;
		}
		if (a->opts.once)
			break;
		if (ms_mono_s() >= next_poll) {
			source_poll(a, bus);
			next_poll = ms_mono_s() + POLL_SECONDS;
		}
		agent_sleep_ms(a, (long)s->poll_ms);
	}
	cleanup_turn(&cleanup, 0, 1);
	free(cursor);
	ms_catalog_close(cat);
}

/*
 * The source role.  An interval schedule exports at t0 + k * interval (t0:
 * the start, on a monotonic clock); a slot that passed while an export ran
 * is skipped, not made up for.
 */
void *agent_source_main(void *arg)
{
	ms_agent *a = arg;
	const ms_agent_source *s = a->cfg->source;
	ms_bus *bus = NULL;
	double last = 0, t0 = ms_mono_s(), due = t0, next_poll = 0;
	char role[128];
	ms_error err;

	ms_error_clear(&err);
	snprintf(role, sizeof(role), "source=%s", s->name);
	if (agent_open_bus_retrying(a, role, a->src_bus_problem, NULL, NULL, NULL, &bus, NULL,
				    &err) < 0) {
		agent_log(a, "source=%s cannot open the bus: %s", s->name, err.message);
		a->source_fatal = 1;
		a->source_done = 1;
		return NULL;
	}
	if (s->live) {
		source_live(a, bus);
		ms_bus_close(bus);
		a->source_done = 1;
		return NULL;
	}
	while (!a->stop) {
		if (a->opts.once) {
			if (last != 0)
				break;
		} else if (s->schedule == MS_SCHEDULE_INTERVAL) {
			double now = ms_mono_s();

			if (now < due) {
				if (now >= next_poll) {
					source_poll(a, bus);
					next_poll = ms_mono_s() + POLL_SECONDS;
				}
				now = ms_mono_s();
				if (now < due)
					agent_sleep_ms(a, due - now > 1.0
								  ? 1000
								  : (long)((due - now) * 1000) + 1);
				continue;
			}
		} else {
			long long wait = next_export_in(s, last);

			if (wait != 0) {
				if (ms_mono_s() >= next_poll) {
					source_poll(a, bus);
					next_poll = ms_mono_s() + POLL_SECONDS;
				}
				agent_sleep_ms(a,
					       wait > 1 || wait < 0 ? 1000 : (long)(wait * 1000));
				continue;
			}
		}
		source_slot(a, bus);
		last = agent_now_s();
		if (s->schedule == MS_SCHEDULE_INTERVAL) {
			double slot = (double)s->interval_seconds;
			double k_done = (due - t0) / slot,
			       k_next = floor((ms_mono_s() - t0) / slot) + 1;

			if (k_next - k_done > 1.5)
				agent_log(a,
					  "source=%s schedule: the export ran past %.0f slot%s, "
					  "skipped",
					  s->name, k_next - k_done - 1,
					  k_next - k_done > 2.5 ? "s" : "");
			due = t0 + k_next * slot;
		}
	}
	ms_bus_close(bus);
	a->source_done = 1;
	return NULL;
}
