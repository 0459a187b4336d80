/*
 * The agent's target roles, one thread each: take snapshot events from the
 * durable subscription, import what the target follows (never back in
 * time), publish the results and errors, and retry or dead-letter what
 * fails.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "agent/stores.h"
#include "metasync/compare.h"
#include "util/clock.h"

/* Results stream: every import.succeeded of this target raises its mark. */
static int read_result(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	target_role *t = ctx;
	const char *tgt, *id, *src;
	ms_event *ev;

	(void)err;
	t->results_seen = msg->seq;
	if (!(ev = agent_succeeded_result(msg, &tgt, &id)))
		return 0;
	src = ms_event_str(ev, "source_catalog_id");
	if (src && strcmp(tgt, t->cfg->name) == 0)
		agent_marks_raise(&t->applied, src, id);
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
		if (!t->agent->cfg->source ||
		    strcmp(t->seen.v[i], t->agent->cfg->source->name) != 0)
			ms_buf_printf(&known, "%s%s", known.len ? ", " : "", t->seen.v[i]);
	if (!nmissing) {
		if (t->follow_problem[0])
			agent_log(t->agent, "target=%s follow: every entry now matches a source",
				  c->name);
		agent_set_problem(t->agent, t->follow_problem, NULL, NULL);
	} else {
		snprintf(problem, sizeof(problem), "follow: %s match%s no source (known: %s)",
			 ms_buf_cstr(&missing), nmissing == 1 ? "es" : "",
			 known.len ? ms_buf_cstr(&known) : "none yet");
		if (!t->follow_problem[0] || (new_source && !agent_follows(c, new_source)))
			agent_log(t->agent, "target=%s warning: %s%s%s%s", c->name, problem,
				  new_source ? "; events of '" : "", new_source ? new_source : "",
				  new_source ? "' arrive, which it does not follow" : "");
		agent_set_problem(t->agent, t->follow_problem, problem, NULL);
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
		agent_marks_raise(&t->announced, ms_event_source_name(ev), id);
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
			agent_log(t->agent, "target=%s bus: %s", t->cfg->name, err.message);
		agent_set_problem_err(t->agent, t->bus_problem, "cannot read the bus", &err);
	} else {
		agent_set_problem(t->agent, t->bus_problem, NULL, NULL);
	}
	t->next_poll = ms_mono_s() + POLL_SECONDS;
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
			agent_log(t->agent, "target=%s cannot open its catalog: %s", t->cfg->name,
				  err.message);
		agent_set_problem_err(t->agent, t->catalog_problem, "cannot open its catalog",
				      &err);
	} else {
		if (t->catalog_problem[0])
			agent_log(t->agent, "target=%s its catalog opens again", t->cfg->name);
		agent_set_problem(t->agent, t->catalog_problem, NULL, NULL);
	}
	ms_catalog_close(cat);
	t->next_probe = ms_mono_s() + PROBE_SECONDS;
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
	agent_publish_error(a, bus, t->cfg->name, "event", t->cfg->name, url, NULL, err->message);
	pthread_mutex_lock(&a->mu);
	t->st.errors++;
	pthread_mutex_unlock(&a->mu);
	agent_log(a, "target=%s event=%llu refused: %s", t->cfg->name, (unsigned long long)msg->seq,
		  err->message);
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

/* An event that does not parse: said everywhere, t->last_error set; DONE_RETRY. */
static int invalid_event(target_role *t, ms_bus *bus, const ms_bus_msg *msg, const ms_error *err)
{
	ms_agent *a = t->agent;
	const ms_agent_target *c = t->cfg;

	snprintf(t->last_error, sizeof(t->last_error), "event %llu: %s",
		 (unsigned long long)msg->seq, err->message);
	agent_publish_error(a, bus, c->name, "event", c->name, NULL, NULL, t->last_error);
	pthread_mutex_lock(&a->mu);
	t->st.errors++;
	pthread_mutex_unlock(&a->mu);
	agent_log(a, "target=%s event=%llu invalid: %s", c->name, (unsigned long long)msg->seq,
		  err->message);
	return DONE_RETRY;
}

/*
 * Never back in time: 1 (counted, logged, told to the run hook) when the
 * snapshot is older than the newest one this target applied, or cannot be
 * read while a newer one of the same source is announced; else 0.
 */
static int skip_older(target_role *t, ms_bus *bus, const ms_event *ev, const char *url,
		      const char *open_url, const char *sha, const char *id, const char *src)
{
	ms_agent *a = t->agent;
	const ms_agent_target *c = t->cfg;
	const char *prev, *newer;

	ms_bus_read(bus, MS_STREAM_RESULTS, t->results_seen, 0, read_result, t, NULL);
	prev = agent_marks_get(&t->applied, src);
	newer = id ? agent_marks_get(&t->announced, ms_event_source_name(ev)) : NULL;
	if (newer && ms_snapshot_id_cmp(id, newer) >= 0)
		newer = NULL;
	if (!id || !((prev && ms_snapshot_id_cmp(id, prev) < 0) ||
		     (newer && !snapshot_readable(open_url, sha))))
		return 0;
	pthread_mutex_lock(&a->mu);
	t->st.skipped++;
	pthread_mutex_unlock(&a->mu);
	if (prev && ms_snapshot_id_cmp(id, prev) < 0)
		agent_log(a, "target=%s snapshot=%s skipped: the newer %s is applied", c->name, url,
			  prev);
	else /* pruned from its store, say: the newer one stands for it */
		agent_log(a,
			  "target=%s snapshot=%s skipped: it cannot be read and the newer "
			  "%s of the same source is announced",
			  c->name, url, newer);
	if (a->opts.hooks.run)
		a->opts.hooks.run(a->opts.hooks.ctx, c->name, "skip", url, NULL, NULL);
	return 1;
}

/* The import's options: the target's configuration, stopping with the agent. */
static void import_options(target_role *t, ms_sync_options *so)
{
	const ms_agent_target *c = t->cfg;

	so->databases = c->databases;
	so->database_prefix = c->database_prefix;
	so->table_prefix = c->table_prefix;
	so->renames = (const char *const *)c->renames;
	so->nrenames = c->nrenames;
	so->location_rewrites = (const char *const *)c->location_rewrites;
	so->nrewrites = c->nrewrites;
	so->deletes = c->deletes;
	so->max_deletes = c->max_deletes;
	so->adopt = c->adopt;
	so->allow_empty_source = c->allow_empty_source;
	so->prune_unmapped = c->prune_unmapped;
	so->stop = &t->agent->stop;
	if (t->agent->opts.hooks.change) {
		so->on_change = on_change;
		so->ctx = t;
	}
}

/*
 * After an import that ran to its end: whether the catalog is what failed
 * (for /healthz) and the run's outcome; DONE_RETRY for an error that a
 * retry may mend, else DONE_ACK.
 */
static int import_outcome(target_role *t, int rc, const ms_report *rep)
{
	ms_agent *a = t->agent;

	if (rc < 0 && rc != MS_EREFUSED)
		probe_catalog(t);
	else
		agent_set_problem(a, t->catalog_problem, NULL, NULL);
	if (rc < 0 && rc != MS_EREFUSED)
		return DONE_RETRY; /* its outcome is the last try's: ok, or a dead letter */
	if (rc == MS_EREFUSED)
		agent_note_outcome(a, OUTCOME_REFUSED);
	else if (rep->status != MS_STATUS_OK)
		agent_note_outcome(a, rep->status == MS_STATUS_PARTIAL ? OUTCOME_PARTIAL
								       : OUTCOME_ERROR);
	return DONE_ACK;
}

/* Publish the import's result and its errors; t->last_error set when it failed. */
static void publish_import(target_role *t, ms_bus *bus, const char *url, const char *id,
			   const char *src, const ms_report *rep, int rc, double wall,
			   const ms_error *err)
{
	ms_agent *a = t->agent;
	const ms_agent_target *c = t->cfg;
	cJSON *data;
	size_t i;

	data = ms_event_import_data(c->name, url, id, rep, rc < 0 ? err : NULL);
	if (data) {
		cJSON_AddStringToObject(data, "source_catalog_id", src);
		/* the report's seconds time the sync; this the whole import, open to close */
		cJSON_AddNumberToObject(data, "wall_seconds",
					(double)(long long)(wall * 1000) / 1000.0);
	}
	agent_publish(a, bus, MS_STREAM_RESULTS,
		      rc == 0 && rep->status == MS_STATUS_OK ? MS_EVENT_IMPORT_SUCCEEDED
							     : MS_EVENT_IMPORT_FAILED,
		      c->name, id, data);
	for (i = 0; rep && i < rep->nerrors; i++)
		agent_publish_error(a, bus, c->name, "import", c->name, url, rep->errors[i].entity,
				    rep->errors[i].message);
	if (rc < 0) {
		agent_publish_error(a, bus, c->name, "import", c->name, url, NULL, err->message);
		snprintf(t->last_error, sizeof(t->last_error), "%s", err->message);
	}
}

/* The import in the target's metrics (lag from the snapshot's creation), its applied mark. */
static void count_import(target_role *t, const ms_event *ev, const char *id, const char *src,
			 const ms_report *rep, int rc)
{
	ms_agent *a = t->agent;
	double created = created_time(ev);

	const cJSON *oldest = cJSON_GetObjectItemCaseSensitive(ev->data, "oldest_change_ms");
	const cJSON *changes = cJSON_GetObjectItemCaseSensitive(ev->data, "changes");

	/* a live source's change set: from the commit of its oldest change */
	if (cJSON_IsNumber(oldest) && oldest->valuedouble > 0)
		created = oldest->valuedouble / 1000.0;
	pthread_mutex_lock(&a->mu);
	if (rc == 0 && rep->status == MS_STATUS_OK) {
		t->st.imports_ok++;
		t->st.last_success = agent_now_s();
		if (created > 0)
			t->st.lag = t->st.last_success - created;
		if (cJSON_IsNumber(changes))
			t->st.changes += (long long)changes->valuedouble;
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
		agent_marks_raise(&t->applied, src, id);
}

/* The import's log line. */
static void log_import(target_role *t, const char *url, const ms_report *rep, int rc,
		       const ms_error *err)
{
	ms_agent *a = t->agent;
	const ms_agent_target *c = t->cfg;
	char why[MS_ERROR_MESSAGE_MAX + 256] = "";

	/* what stopped it, or the first entity that failed */
	if (rc < 0)
		snprintf(why, sizeof(why), " error=%s", err->message);
	else if (rep && rep->nerrors)
		snprintf(why, sizeof(why), " error=\"%s: %s\"", rep->errors[0].entity,
			 rep->errors[0].message);
	if (rep)
		agent_log(a,
			  "target=%s snapshot=%s status=%s tables=+%lld/~%lld/-%lld "
			  "partitions=+%lld/~%lld/-%lld "
			  "failed=%lld seconds=%.2f%s",
			  c->name, url, rc < 0 ? "error" : ms_status_name(rep->status),
			  rep->tables.created, rep->tables.updated, rep->tables.deleted,
			  rep->partitions.created, rep->partitions.updated, rep->partitions.deleted,
			  rep->tables.failed + rep->partitions.failed + rep->databases.failed,
			  rep->seconds, why);
	else
		agent_log(a, "target=%s snapshot=%s status=error error=\"%s\"", c->name, url,
			  err->message);
}

/* rm -r of a folder ms_event_inline_write filled (files and folders only). */
static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/*
 * Import the snapshot an event carries inside it: written into a folder of
 * its own and opened from there, checked against the event's manifest
 * hash.  1 when there is none, or it cannot be written (then the store is
 * read); else the import's return.
 */
static int import_inline(target_role *t, const ms_event *ev, const char *sha,
			 const ms_sync_options *so, ms_report **rep, ms_error *err)
{
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(ev->data, "inline");
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	ms_error e2;
	int rc;

	if (!files || !sha)
		return 1;
	snprintf(dir, sizeof(dir), "%s/metasync-inline-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	ms_error_clear(&e2);
	if (ms_event_inline_write(files, dir, &e2) < 0) {
		agent_log(t->agent, "target=%s inline snapshot: %s; reading the store",
			  t->cfg->name, e2.message);
		rc = 1;
	} else {
		rc = ms_import(dir, sha, t->cfg->catalog, so, rep, err);
		if (rc != MS_EINTEGRITY) {
			pthread_mutex_lock(&t->agent->mu);
			t->st.inline_applied++;
			pthread_mutex_unlock(&t->agent->mu);
		} else { /* not what the store holds: the store decides */
			ms_report_free(*rep);
			*rep = NULL;
			rc = 1;
		}
	}
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* The store of a snapshot URL (url without its last path component, query kept), new. */
static char *store_of(const char *url)
{
	const char *q = strchr(url, '?'), *end = q ? q : url + strlen(url), *slash = end;
	char *out = NULL;

	while (slash > url && slash[-1] == '/')
		slash--;
	while (slash > url && slash[-1] != '/')
		slash--;
	if (slash <= url + 1)
		return NULL;
	if (asprintf(&out, "%.*s%s", (int)(slash - 1 - url), url, q ? q : "") < 0)
		return NULL;
	return out;
}

/*
 * Import the event's snapshot: from the event itself when it carries it,
 * else from the store.  An incremental snapshot whose parent the target
 * does not hold (a lost event, a target that was away past what the bus
 * keeps, a source that restarted elsewhere) is a gap: the chain is read
 * from the store instead, from what the target holds up to the store's
 * LATEST.
 */
static int import_event(target_role *t, const ms_event *ev, const char *open_url, const char *sha,
			const ms_sync_options *so, ms_report **rep, ms_error *err)
{
	ms_agent *a = t->agent;
	char *root;
	int rc = import_inline(t, ev, sha, so, rep, err);

	if (rc == 1)
		rc = ms_import(open_url, sha, t->cfg->catalog, so, rep, err);
	if (rc != MS_EREFUSED || strcmp(err->backend_code, MS_REFUSED_CHAIN) != 0 ||
	    !(root = store_of(open_url)))
		return rc;
	agent_log(a, "target=%s gap: %s; reading the chain from the store", t->cfg->name,
		  err->message);
	ms_report_free(*rep);
	*rep = NULL;
	ms_error_clear(err);
	rc = ms_import(root, NULL, t->cfg->catalog, so, rep, err);
	free(root);
	if (rc == 0) {
		pthread_mutex_lock(&a->mu);
		t->st.gaps_healed++;
		pthread_mutex_unlock(&a->mu);
	}
	return rc;
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
	const char *url, *sha, *id, *src;
	char *open_url = NULL; /* url as the target opens it (with its store's settings) */
	const cJSON *allow;
	double started, wall;
	int rc, result;

	ms_error_clear(&err);
	if (ms_event_parse(msg->data, msg->len, &ev, &err) < 0)
		return invalid_event(t, bus, msg, &err);
	if (strcmp(ev->type, MS_EVENT_SNAPSHOT_CREATED) == 0)
		saw_snapshot(t, ev);
	if (strcmp(ev->type, MS_EVENT_SNAPSHOT_CREATED) != 0 ||
	    !agent_follows(c, ms_event_source_name(ev))) {
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
	    ms_agent_accept_snapshot(a->cfg, c, ms_event_source_name(ev), url, &open_url, &err) <
		    0) {
		refuse_event(t, bus, msg, url, &err);
		ms_event_free(ev);
		/* a store the target does not accept stays so: dead-letter it now */
		return err.code == MS_EREFUSED ? DONE_DEAD : DONE_RETRY;
	}
	if (skip_older(t, bus, ev, url, open_url, sha, id, src)) {
		free(open_url);
		ms_event_free(ev);
		return DONE_ACK;
	}
	import_options(t, &so);
	started = agent_now_s();
	rc = import_event(t, ev, open_url, sha, &so, &rep, &err);
	free(open_url);
	wall = agent_now_s() - started;
	if (rc == MS_EREFUSED && strcmp(err.backend_code, MS_REFUSED_NEWER) == 0) {
		/* a chain read from the store went past it: as good as applied */
		pthread_mutex_lock(&a->mu);
		t->st.skipped++;
		pthread_mutex_unlock(&a->mu);
		agent_log(a, "target=%s snapshot=%s skipped: %s", c->name, url, err.message);
		ms_report_free(rep);
		ms_event_free(ev);
		return DONE_ACK;
	}
	if (a->opts.hooks.run)
		a->opts.hooks.run(a->opts.hooks.ctx, c->name, "import", url, rep,
				  rc < 0 ? &err : NULL);
	if (rc < 0 && a->stop) {
		/* asked to stop: not a failure; what was committed stays, a re-run finishes */
		agent_log(a, "target=%s snapshot=%s stopped: %s", c->name, url, err.message);
		ms_report_free(rep);
		ms_event_free(ev);
		return DONE_STOPPED;
	}
	result = import_outcome(t, rc, rep);
	publish_import(t, bus, url, id, src, rep, rc, wall, &err);
	count_import(t, ev, id, src, rep, rc);
	log_import(t, url, rep, rc, &err);
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
		agent_publish_error(a, bus, t->cfg->name, "deliver", t->cfg->name, NULL, NULL,
				    text);
		ms_bus_close(bus);
	}
	pthread_mutex_lock(&a->mu);
	t->st.dead++;
	t->st.errors++;
	pthread_mutex_unlock(&a->mu);
	agent_note_outcome(a, OUTCOME_ERROR);
	agent_log(a, "target=%s %s", t->cfg->name, text);
}

/* ms_bus_next's dead_cb: msg came back once more than max_attempts allow. */
static void dead_letter(const ms_bus_msg *msg, void *ctx)
{
	report_dead(ctx, msg->seq, msg->attempts - 1);
}

void *agent_target_main(void *arg)
{
	target_role *t = arg;
	ms_agent *a = t->agent;
	ms_bus_sub_options so = { 0 };
	ms_bus_sub *sub = NULL;
	ms_bus *bus = NULL;
	ms_bus_msg *msg;
	double idle_since = agent_now_s(), retry_until = 0;
	char role[128];
	int done;
	ms_error err;

	ms_error_clear(&err);
	so.max_deliver = t->cfg->max_attempts ? t->cfg->max_attempts : 5;
	so.ack_wait_ms = (unsigned)(t->cfg->ack_wait_seconds * 1000);
	snprintf(role, sizeof(role), "target=%s", t->cfg->name);
	if (agent_open_bus_retrying(a, role, t->bus_problem, MS_STREAM_SNAPSHOTS, t->cfg->name, &so,
				    &bus, &sub, &err) < 0) {
		agent_log(a, "target=%s cannot subscribe: %s%s%s%s", t->cfg->name, err.message,
			  err.detail[0] ? " (" : "", err.detail, err.detail[0] ? ")" : "");
		t->fatal = 1;
		return NULL;
	}
	if (t->cfg->follow_none)
		agent_log(a, "target=%s follows no source (follow: [])", t->cfg->name);
	target_poll(t, bus);
	if (t->cfg->nfollow)
		check_follow(t, NULL);
	probe_catalog(t);
	while (!a->stop) {
		msg = NULL;
		if (ms_bus_next(sub, 200, dead_letter, t, &msg, &err) < 0) {
			agent_log(a, "target=%s bus: %s", t->cfg->name, err.message);
			agent_set_problem_err(a, t->bus_problem, "cannot take the next event",
					      &err);
			agent_sleep_ms(a, 1000);
			continue;
		}
		if (!msg) {
			if (ms_mono_s() >= t->next_poll)
				target_poll(t, bus);
			if (t->catalog_problem[0] && ms_mono_s() >= t->next_probe)
				probe_catalog(t);
			/* once: idle counts from the source's export, when this file has one */
			if (a->opts.once && !a->source_done)
				idle_since = agent_now_s();
			else if (a->opts.once &&
				 (agent_now_s() - idle_since) * 1000 >= a->opts.idle_ms &&
				 agent_now_s() >= retry_until)
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
			else /* then it goes after max_attempts, like any failure */
				ms_bus_nak(sub, msg, 1000, &err);
		} else {
			unsigned delay = 200u << (msg->attempts < 8 ? msg->attempts - 1 : 7);

			remember_retry(t, msg->seq, t->last_error[0] ? t->last_error : "failed");
			if (msg->attempts >= so.max_deliver &&
			    ms_bus_dead_letter(sub, msg, &err) == 0) {
				/* the last try failed: dead-letter now, not after one more backoff */
				report_dead(t, msg->seq, msg->attempts);
				ms_bus_msg_free(msg);
				idle_since = agent_now_s();
				continue;
			}
			ms_bus_nak(sub, msg, delay, &err);
			/* with once, a retry still to come is work waiting: idle counts from when it is due */
			if (agent_now_s() + (delay + (unsigned)a->opts.idle_ms) / 1000.0 >
			    retry_until)
				retry_until = agent_now_s() +
					      (delay + (unsigned)a->opts.idle_ms) / 1000.0;
		}
		ms_bus_msg_free(msg);
		idle_since = agent_now_s();
	}
	ms_bus_sub_close(sub);
	ms_bus_close(bus);
	return NULL;
}
