/*
 * The agent: runs the roles of one configuration (src/agent/config.h).
 *
 * - A source exports on its schedule (an interval keeps its period: a slot
 *   missed while an export ran is skipped) and announces each new snapshot
 *   with io.metasync.snapshot.created on the bus.  An export that would
 *   only repeat the store's LATEST snapshot is skipped (ms_export_is_current):
 *   no snapshot, no event.  With a retention it then prunes the store, never
 *   LATEST nor a snapshot from the oldest one a target last applied on.
 * - Each target is a durable subscription (its name) on the snapshot
 *   stream, in a thread of its own so that a failing target never holds up
 *   the others.  It imports every snapshot of the sources it follows,
 *   refusing one whose manifest does not hash to the event's SHA-256, and
 *   publishes io.metasync.import.succeeded or .failed, plus one
 *   io.metasync.error per error.  An event for a snapshot older than the
 *   newest one the target applied is acknowledged and skipped; the same
 *   snapshot again is imported again, which changes nothing unless the
 *   target drifted (what was
 *   applied is read back from the results stream, so agents sharing a target
 *   agree).  An event that cannot be applied is retried with backoff and
 *   dead-lettered after max_attempts, with an error event.
 * - /healthz (ms_agent_health) and /metrics (Prometheus text) where
 *   `listen` says.
 */
#ifndef MS_AGENT_AGENT_H
#define MS_AGENT_AGENT_H

#include "agent/config.h"
#include "metasync/error.h"
#include "util/buf.h"

typedef struct ms_agent ms_agent;

/*
 * Optional hooks for a program that runs agents in-process (the demo),
 * called on the roles' threads: role is the source or target name.
 * run: once per export or import (what: "export", "import", "unchanged" for
 * an export skipped because LATEST holds what it would write, or "skip" for
 * a snapshot already applied; rep NULL when the run did not start).
 */
typedef struct ms_agent_hooks {
	void (*change)(void *ctx, const char *role, const ms_change_event *ev);
	void (*run)(void *ctx, const char *role, const char *what, const char *snapshot,
		    const ms_report *rep, const ms_error *failure);
	void *ctx;
} ms_agent_hooks;

typedef struct ms_agent_options {
	int once;    /* source: export once; targets: stop when idle */
	int idle_ms; /* with once: idle this long means done (default 1500) */
	int quiet;   /* no log lines */
	ms_agent_hooks hooks;
} ms_agent_options;

/* cfg is borrowed and must outlive the agent. */
int ms_agent_new(ms_agent **out, const ms_agent_config *cfg, const ms_agent_options *opts,
		 ms_error *err);
/* Start the roles and the HTTP server; returns at once. */
int ms_agent_start(ms_agent *a, ms_error *err);
/* Wait for every role to end (with once) or for ms_agent_stop. */
void ms_agent_wait(ms_agent *a);
/* Ask every role to finish its current transaction and stop (signal-safe). */
void ms_agent_stop(ms_agent *a);
/* The bound HTTP port, 0 without a listener. */
int ms_agent_http_port(const ms_agent *a);
/* Prometheus text of the agent's metrics. */
int ms_agent_metrics(ms_agent *a, ms_buf *out);
/*
 * /healthz: "ok\n" and 0 when the bus answers every role and every role
 * works; else one line per problem, naming the role (and "bus:" for the
 * bus) and why, and MS_ERROR.  Problems: a role that did not start, a bus
 * a role cannot reach, a source whose last export failed, a target whose
 * catalog cannot be opened, a follow: entry that matches no source known
 * (this file's, or one seen on the snapshot stream).  Messages carry no
 * password.
 */
int ms_agent_health(ms_agent *a, ms_buf *out);
/* 0 when every role ended without a fatal error. */
int ms_agent_status(const ms_agent *a);
/*
 * The worst outcome of the run: MS_STATUS_ERROR when a role could not start,
 * an export or an import failed, or an event was dead-lettered; else
 * MS_STATUS_REFUSED when a guard refused an import; else MS_STATUS_PARTIAL
 * when an export or an import was partial; else MS_STATUS_OK.  An import
 * that failed and then succeeded on a later delivery counts as succeeded.
 */
ms_status ms_agent_outcome(ms_agent *a);
void ms_agent_free(ms_agent *a);

#endif
