/*
 * The agent's configuration: one YAML file (libyaml) with a bus, an optional
 * HTTP listener, an optional source role and any number of target roles.
 *
 *   bus: embedded:/var/lib/metasync/bus.db      # or nats://127.0.0.1:4222
 *   listen: 127.0.0.1:9464                      # /healthz and /metrics
 *   source:
 *     name: analytics                           # event source; default "metasync"
 *     catalog: sqlite:/data/a.db?catalog-id=111111111111
 *     databases: "sales;hr_*"                   # ';' names or globs; default all
 *     store: /data/snapshots                    # or s3://bucket/prefix
 *     compress: gzip                            # optional
 *     schedule: { interval: 24h }               # or { at: "02:00" } (UTC); none = on demand
 *     retention: { keep: 10, keep_days: 7 }     # prune older snapshots (default: keep all)
 *     mode: live                                # follow the change feed (no schedule):
 *     poll: 100ms                               #   how often it is read when idle
 *     full_every: 0                             #   a full snapshot after N incrementals
 *                                               #   (0, the default: only when needed)
 *   targets:
 *     - name: reporting                         # required, unique; the durable consumer
 *       catalog: sqlite:/data/b.db
 *       follow: [analytics]                     # source names; default all; [] none
 *       databases: "sales"                      # optional restriction
 *       database_prefix: src_
 *       table_prefix: ""
 *       renames: ["sales=sales_eu"]
 *       location_rewrites: ["s3://a/=s3://b/"]
 *       deletes: mirror                         # none (default) | mirror
 *       max_deletes: 100                        # default: no limit; needs mirror
 *       adopt: false
 *       allow_empty_source: false               # mirror may delete every replica
 *       prune_unmapped: false                   # mirror also deletes replicas the
 *                                               # mapping no longer produces
 *       max_attempts: 5                         # before an event is dead-lettered
 *       ack_wait: 10m                           # an import not acknowledged by then
 *                                               # (agent killed) is delivered again
 *       stores:                                 # where snapshots may be read from
 *         - /data/snapshots                     # a folder, or s3://BUCKET[/PREFIX]
 *         - { url: "s3://acme/exports", endpoint: "http://127.0.0.1:4568",
 *             region: us-east-1, profile: test }  # and how to reach that bucket
 *
 * Durations: a number with unit s, m, h or d ("90s", "24h").  Unknown keys,
 * wrong types, duplicate target names and bad values are errors that name
 * the file, the line and the key ("agent.yaml:12: targets[1].deletes:
 * expected none or mirror, got 'all'").
 */
#ifndef MS_AGENT_CONFIG_H
#define MS_AGENT_CONFIG_H

#include <stddef.h>

#include "metasync/error.h"
#include "metasync/replicate.h"
#include "util/duration.h" /* ms_parse_duration, for schedules and ack_wait */

typedef enum ms_schedule_kind {
	MS_SCHEDULE_ON_DEMAND = 0,
	MS_SCHEDULE_INTERVAL,
	MS_SCHEDULE_AT
} ms_schedule_kind;

typedef struct ms_agent_source {
	char *name;
	char *catalog;   /* URL; may hold a password: never print (ms_url_redact) */
	char *databases; /* NULL = all */
	char *store;
	char *compress; /* NULL or "gzip" */
	ms_schedule_kind schedule;
	long long interval_seconds; /* MS_SCHEDULE_INTERVAL */
	int at_minute;              /* MS_SCHEDULE_AT: minutes after 00:00 UTC */
	/* retention: 0 and 0 keep every snapshot; else as ms_gc_options keep, keep_seconds */
	unsigned long long keep;
	long long keep_seconds;
	/*
	 * mode: live: export each change set of the catalog's feed as an
	 * incremental snapshot as it commits (small ones also inside the event)
	 */
	int live;
	long long poll_ms;   /* how often the feed is read when idle (default 100) */
	unsigned full_every; /* incrementals before a full snapshot (0: only when needed) */
	int line;            /* where the role starts in the file */
} ms_agent_source;

/*
 * A store a target accepts snapshots from: a folder (absolute path or
 * file:// URL) or s3://BUCKET[/PREFIX], matched as a prefix of whole path
 * components; for s3, how to reach the bucket (an event never says).
 */
typedef struct ms_agent_store {
	char *url;      /* as written, no query and no credentials */
	char *endpoint; /* s3 only, NULL: the environment or AWS */
	char *region;   /* s3 only, NULL: the environment or the profile's */
	char *profile;  /* s3 only, NULL: the environment's credentials */
	int line;
} ms_agent_store;

typedef struct ms_agent_target {
	char *name;
	char *catalog;
	char **follow; /* source names; nfollow = 0: all, unless follow_none */
	size_t nfollow;
	int follow_none; /* `follow: []`: no source at all */
	char *databases;
	char *database_prefix;
	char *table_prefix;
	char **renames;
	size_t nrenames;
	char **location_rewrites;
	size_t nrewrites;
	ms_deletes deletes;
	long long max_deletes; /* -1: no limit */
	int adopt;
	int allow_empty_source;
	int prune_unmapped;    /* with mirror: delete replicas the mapping no longer produces */
	unsigned max_attempts; /* default 5 */
	long long ack_wait_seconds; /* default 600 */
	ms_agent_store *stores;     /* nstores = 0: the default (see agent.h) */
	size_t nstores;
	int line;
} ms_agent_target;

typedef struct ms_agent_config {
	char *path;
	char *bus;    /* default: "embedded:" + directory of the file + "/metasync-bus.db" */
	char *listen; /* NULL: no HTTP server */
	ms_agent_source *source; /* NULL when the file has no source role */
	ms_agent_target *targets;
	size_t ntargets;
} ms_agent_config;

/* Load and check path (new; ms_agent_config_free). MS_EINVAL names file:line: key. */
int ms_agent_config_load(const char *path, ms_agent_config **out, ms_error *err);
/* Same from text in memory; name is used in messages in place of a path. */
int ms_agent_config_parse(const char *name, const char *text, size_t len, ms_agent_config **out,
			  ms_error *err);
void ms_agent_config_free(ms_agent_config *cfg);

#endif
