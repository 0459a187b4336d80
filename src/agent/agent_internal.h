/*
 * Shared by the files of the agent: agent.c (shared state, logging,
 * events, the bus, the life cycle), agent_source.c (the source role),
 * agent_target.c (the target roles) and agent_health.c (/metrics and
 * /healthz).  Nothing here is public API.
 */
#ifndef MS_AGENT_AGENT_INTERNAL_H
#define MS_AGENT_AGENT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "metasync/bus.h"
#include "metasync/event.h"
#include "metasync/replicate.h"
#include "server/http.h"
#include "util/strlist.h"

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
	double last_success; /* epoch seconds; 0 = never */
	double lag; /* seconds from the snapshot's creation (a live change's commit) to its import */
	long long imports_ok, imports_failed, skipped, dead, errors;
	long long changes; /* changes of live sources applied */
	long long gaps_healed; /* incrementals whose parent was missing: the chain read from the store */
	long long inline_applied; /* snapshots applied from their event, not the store */
	ms_counts db, tbl, part;
} target_stats;

typedef struct target_role {
	ms_agent *agent;
	const ms_agent_target *cfg;
	pthread_t thread;
	int started;
	int fatal;
	target_stats st;
	char last_error[512]; /* of the message being handled */
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
	marks announced; /* per source name: the newest snapshot id announced */
	uint64_t snapshots_seen;
	char follow_problem[PROBLEM_MAX];
	char bus_problem[PROBLEM_MAX];
	char catalog_problem[PROBLEM_MAX];
	double next_probe; /* when to try the catalog again (while it fails) */
	double next_poll;  /* when to read the bus again while idle */
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
	char *parent; /* the id of the previous snapshot this source announced */
	int worst;    /* the worst outcome so far: one of OUTCOME_* */
	/* the source role: its store's root as events name snapshots, what targets applied */
	char *store_root;
	marks store_applied; /* per target name: newest snapshot of store_root applied */
	uint64_t src_results_seen;
	char src_problem[PROBLEM_MAX];
	char src_bus_problem[PROBLEM_MAX];
};

/*
 * Outcomes of the run, in order of severity; ms_agent_outcome gives the
 * worst as the report status the command line gives the same outcome.
 */
enum { OUTCOME_OK = 0, OUTCOME_PARTIAL, OUTCOME_REFUSED, OUTCOME_ERROR };

/* Read while idle (results, and with them the bus's health) every this many seconds. */
#define POLL_SECONDS 5.0
/* Try a target's catalog again every this many seconds while it cannot be opened. */
#define PROBE_SECONDS 10.0

/* Shared state, logging and events (agent.c). */

/* Record an outcome (OUTCOME_*) of an export, an import or a delivery (a->mu not held). */
void agent_note_outcome(ms_agent *a, int outcome);
/* Wall-clock seconds (monotonic: ms_mono_s, util/clock.h). */
double agent_now_s(void);
/* Sleep ms milliseconds, waking early when the agent stops. */
void agent_sleep_ms(ms_agent *a, long ms);
/* One line on stderr, stamped and prefixed, unless quiet (takes a->mu). */
void agent_log(ms_agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Publish an event (steals data); failures to publish are logged, never fatal. */
void agent_publish(ms_agent *a, ms_bus *bus, const char *stream, const char *type, const char *name,
		   const char *subject, cJSON *data);
/* Publish an io.metasync.error on the errors stream. */
void agent_publish_error(ms_agent *a, ms_bus *bus, const char *name, const char *stage,
			 const char *target, const char *snapshot, const char *entity,
			 const char *message);
/* key's newest snapshot id (borrowed), or NULL. */
const char *agent_marks_get(const marks *m, const char *key);
/* Raise key's mark to id (a snapshot id; a newer one stays); add key when new. */
void agent_marks_raise(marks *m, const char *key, const char *id);
void agent_marks_free(marks *m);
/*
 * Set (what non-empty) or clear (what NULL) one of the problems /healthz
 * reports: one line (a backend's message may end in a newline).
 */
void agent_set_problem(ms_agent *a, char *slot, const char *what, const char *why);
/* Set a problem: what, then the error's message and its detail (the backend's answer). */
void agent_set_problem_err(ms_agent *a, char *slot, const char *what, const ms_error *err);
/*
 * Open the bus (and, with stream, subscribe to it), trying again while it
 * cannot be reached (the problem in slot meanwhile); 0 with *out (and
 * *sub) set, or the last error.
 */
int agent_open_bus_retrying(ms_agent *a, const char *role, char *slot, const char *stream,
			    const char *durable, const ms_bus_sub_options *so, ms_bus **out,
			    ms_bus_sub **sub, ms_error *err);
/* Does target t follow the source named source? */
int agent_follows(const ms_agent_target *t, const char *source);
/*
 * msg as an io.metasync.import.succeeded event that names its target and
 * snapshot id (new; ms_event_free), or NULL for any other message.
 */
ms_event *agent_succeeded_result(const ms_bus_msg *msg, const char **target, const char **id);

/* The roles' threads (agent_source.c, agent_target.c); arg: the ms_agent, the target_role. */
void *agent_source_main(void *arg);
void *agent_target_main(void *arg);

/* The /metrics and /healthz handler of ms_http (agent_health.c); ctx: the ms_agent. */
int agent_http_handler(const char *path, ms_buf *body, const char **ctype, void *ctx);

#endif
