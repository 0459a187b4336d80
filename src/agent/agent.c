/*
 * The agent's roles as threads: one source thread (schedule, export,
 * announce), one thread per target (subscribe, check, import, report), and
 * libmicrohttpd's thread for /healthz and /metrics.  Each thread opens its
 * own bus connection; the metrics are shared under one mutex.  This file
 * holds what the roles share and the life cycle; agent_internal.h lists
 * the others.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_internal.h"

/* Record an outcome of an export, an import or a delivery (a->mu not held). */
void agent_note_outcome(ms_agent *a, int outcome)
{
	pthread_mutex_lock(&a->mu);
	if (outcome > a->worst)
		a->worst = outcome;
	pthread_mutex_unlock(&a->mu);
}

double agent_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void agent_sleep_ms(ms_agent *a, long ms)
{
	while (ms > 0 && !a->stop) {
		long step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

void agent_log(ms_agent *a, const char *fmt, ...)
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
void agent_publish(ms_agent *a, ms_bus *bus, const char *stream, const char *type, const char *name,
		   const char *subject, cJSON *data)
{
	char source[300], *text;
	ms_error err;

	snprintf(source, sizeof(source), "/metasync/%s", name);
	ms_error_clear(&err);
	if (!(text = ms_event_build(type, source, subject, data, &err)) ||
	    ms_bus_publish(bus, stream, text, strlen(text), &err) < 0)
		agent_log(a, "cannot publish %s: %s", type, err.message);
	free(text);
}

void agent_publish_error(ms_agent *a, ms_bus *bus, const char *name, const char *stage,
			 const char *target, const char *snapshot, const char *entity,
			 const char *message)
{
	agent_publish(a, bus, MS_STREAM_ERRORS, MS_EVENT_ERROR, name, NULL,
		      ms_event_error_data(stage, target, snapshot, entity, message));
}

/* ---- shared state ------------------------------------------------------ */

const char *agent_marks_get(const marks *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0)
			return m->id[i];
	return NULL;
}

/* Raise key's mark to id (a snapshot id; a newer one stays); add key when new. */
void agent_marks_raise(marks *m, const char *key, const char *id)
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

void agent_marks_free(marks *m)
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
void agent_set_problem(ms_agent *a, char *slot, const char *what, const char *why)
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
void agent_set_problem_err(ms_agent *a, char *slot, const char *what, const ms_error *err)
{
	char why[PROBLEM_MAX];

	snprintf(why, sizeof(why), "%s%s%s%s", err->message, err->detail[0] ? " (" : "",
		 err->detail, err->detail[0] ? ")" : "");
	agent_set_problem(a, slot, what, why);
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
int agent_open_bus_retrying(ms_agent *a, const char *role, char *slot, const char *stream,
			    const char *durable, const ms_bus_sub_options *so, ms_bus **out,
			    ms_bus_sub **sub, ms_error *err)
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
				agent_log(a, "%s reached the bus after %d attempts", role, attempt);
			agent_set_problem(a, slot, NULL, NULL);
			*out = bus;
			return 0;
		}
		ms_bus_close(bus);
		agent_set_problem_err(a, slot, stream ? "cannot subscribe" : "cannot open the bus",
				      err);
		/* a URL that can never work is not waited for */
		if (a->stop || (a->opts.once && attempt >= 5) || rc == MS_EINVAL ||
		    rc == MS_ENOMEM || rc == MS_ENOTSUPPORTED)
			return rc;
		agent_log(a, "%s cannot %s (attempt %d, again in %.1f s): %s", role,
			  stream ? "subscribe" : "open the bus", attempt, (double)wait_ms / 1000,
			  err->message);
		agent_sleep_ms(a, wait_ms);
		wait_ms = wait_ms * 2 > 30000 ? 30000 : wait_ms * 2;
	}
}

int agent_follows(const ms_agent_target *t, const char *source)
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
 * msg as an io.metasync.import.succeeded event that names its target and
 * snapshot id (new; ms_event_free), or NULL for any other message.
 */
ms_event *agent_succeeded_result(const ms_bus_msg *msg, const char **target, const char **id)
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
	    (rc = ms_http_start(&a->http, a->cfg->listen, agent_http_handler, a, err)) < 0)
		return rc;
	a->source_done = !a->cfg->source;
	if (a->cfg->source) {
		if (pthread_create(&a->source_thread, NULL, agent_source_main, a) != 0)
			return ms_error_set(err, MS_ERROR, "cannot start the source role");
		a->source_started = 1;
	}
	for (i = 0; i < a->cfg->ntargets; i++) {
		if (pthread_create(&a->targets[i].thread, NULL, agent_target_main,
				   &a->targets[i]) != 0) {
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

ms_status ms_agent_outcome(ms_agent *a)
{
	int worst;

	if (ms_agent_status(a) < 0)
		return MS_STATUS_ERROR;
	pthread_mutex_lock(&a->mu);
	worst = a->worst;
	pthread_mutex_unlock(&a->mu);
	switch (worst) {
	case OUTCOME_OK:
		return MS_STATUS_OK;
	case OUTCOME_PARTIAL:
		return MS_STATUS_PARTIAL;
	case OUTCOME_REFUSED:
		return MS_STATUS_REFUSED;
	default:
		return MS_STATUS_ERROR;
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
		agent_marks_free(&a->targets[i].applied);
		agent_marks_free(&a->targets[i].announced);
		ms_strlist_free(&a->targets[i].seen);
	}
	free(a->targets);
	free(a->parent);
	free(a->store_root);
	agent_marks_free(&a->store_applied);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
