/*
 * Unit tests of the agent's YAML config: a full file parsed into the struct
 * field by field, the defaults, durations and schedules, and every kind of
 * error with its exact `FILE:LINE: KEY:` prefix.  Catalog and bus URLs with
 * passwords sit next to every kind of mistake, and no message may carry the
 * password.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/config.h"

#define SECRET "s3cr3t-pw"

/* ---- helpers ---------------------------------------------------------- */

static ms_agent_config *parse_ok(const char *name, const char *text)
{
	ms_agent_config *cfg = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_agent_config_parse(name, text, strlen(text), &cfg, &err);
	if (rc != 0)
		fail_msg("parse failed (%d): %s\n%s", rc, err.message, text);
	assert_non_null(cfg);
	return cfg;
}

/* Parse text as "agent.yaml"; expect EINVAL whose message starts with prefix. */
static void parse_err(const char *text, const char *prefix)
{
	ms_agent_config *cfg = NULL;
	ms_error err;
	int rc;

	ms_error_clear(&err);
	rc = ms_agent_config_parse("agent.yaml", text, strlen(text), &cfg, &err);
	if (rc != MS_EINVAL)
		fail_msg("expected EINVAL '%s', got %d '%s' for\n%s", prefix, rc, err.message,
			 text);
	assert_null(cfg);
	if (strncmp(err.message, prefix, strlen(prefix)) != 0)
		fail_msg("message\n  got:      '%s'\n  expected: '%s...'", err.message, prefix);
	if (strchr(err.message, '\n'))
		fail_msg("message spans lines: '%s'", err.message);
	if (strstr(err.message, SECRET))
		fail_msg("message shows a password: '%s'", err.message);
}

static char *write_temp(const char *text)
{
	char tmpl[] = "/tmp/ms-agent-config-XXXXXX";
	int fd = mkstemp(tmpl);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return strdup(tmpl);
}

/* ---- valid files ------------------------------------------------------ */

static const char full_config[] = "# the whole agent\n"                                    /* 1 */
				  "bus: nats://agent:" SECRET "@127.0.0.1:4222\n"          /* 2 */
				  "listen: 127.0.0.1:9464\n"                               /* 3 */
				  "source:\n"                                              /* 4 */
				  "  name: analytics\n"                                    /* 5 */
				  "  catalog: sqlite:/data/a.db?catalog-id=111111111111\n" /* 6 */
				  "  databases: \"sales;hr_*\"\n"                          /* 7 */
				  "  store: /data/snapshots\n"                             /* 8 */
				  "  compress: gzip\n"                                     /* 9 */
				  "  schedule: { interval: 24h }\n"                        /* 10 */
				  "targets:\n"                                             /* 11 */
				  "  - name: reporting\n"                                  /* 12 */
				  "    catalog: sqlite:/data/b.db\n"                       /* 13 */
				  "    follow: [analytics, other-src]\n"                   /* 14 */
				  "    databases: \"sales\"\n"                             /* 15 */
				  "    database_prefix: src_\n"                            /* 16 */
				  "    table_prefix: \"\"\n"                               /* 17 */
				  "    renames: [\"sales=sales_eu\", \"hr=people\"]\n"     /* 18 */
				  "    location_rewrites:\n"                               /* 19 */
				  "      - \"s3://a/=s3://b/\"\n"                          /* 20 */
				  "    deletes: mirror\n"                                  /* 21 */
				  "    max_deletes: 100\n"                                 /* 22 */
				  "    adopt: true\n"                                      /* 23 */
				  "    max_attempts: 7\n"                                  /* 24 */
				  "  - name: archive_2\n"                                  /* 25 */
				  "    catalog: postgresql://hms:" SECRET
				  "@db:5432/metastore\n"; /* 26 */

static void test_full_config(void **state)
{
	ms_agent_config *cfg = parse_ok("/etc/metasync/agent.yaml", full_config);
	const ms_agent_source *s = cfg->source;
	const ms_agent_target *t;

	(void)state;
	assert_string_equal(cfg->path, "/etc/metasync/agent.yaml");
	assert_string_equal(cfg->bus, "nats://agent:" SECRET "@127.0.0.1:4222");
	assert_string_equal(cfg->listen, "127.0.0.1:9464");

	assert_non_null(s);
	assert_string_equal(s->name, "analytics");
	assert_string_equal(s->catalog, "sqlite:/data/a.db?catalog-id=111111111111");
	assert_string_equal(s->databases, "sales;hr_*");
	assert_string_equal(s->store, "/data/snapshots");
	assert_string_equal(s->compress, "gzip");
	assert_int_equal(s->schedule, MS_SCHEDULE_INTERVAL);
	assert_int_equal(s->interval_seconds, 86400);
	assert_int_equal(s->line, 5);

	assert_int_equal(cfg->ntargets, 2);
	t = &cfg->targets[0];
	assert_string_equal(t->name, "reporting");
	assert_string_equal(t->catalog, "sqlite:/data/b.db");
	assert_int_equal(t->nfollow, 2);
	assert_string_equal(t->follow[0], "analytics");
	assert_string_equal(t->follow[1], "other-src");
	assert_string_equal(t->databases, "sales");
	assert_string_equal(t->database_prefix, "src_");
	assert_non_null(t->table_prefix);
	assert_string_equal(t->table_prefix, "");
	assert_int_equal(t->nrenames, 2);
	assert_string_equal(t->renames[0], "sales=sales_eu");
	assert_string_equal(t->renames[1], "hr=people");
	assert_int_equal(t->nrewrites, 1);
	assert_string_equal(t->location_rewrites[0], "s3://a/=s3://b/");
	assert_int_equal(t->deletes, MS_DELETES_MIRROR);
	assert_int_equal(t->max_deletes, 100);
	assert_int_equal(t->adopt, 1);
	assert_int_equal(t->max_attempts, 7);
	assert_int_equal(t->line, 12);

	/* The second target: every optional field at its default. */
	t = &cfg->targets[1];
	assert_string_equal(t->name, "archive_2");
	assert_string_equal(t->catalog, "postgresql://hms:" SECRET "@db:5432/metastore");
	assert_int_equal(t->nfollow, 0);
	assert_null(t->follow);
	assert_null(t->databases);
	assert_null(t->database_prefix);
	assert_null(t->table_prefix);
	assert_int_equal(t->nrenames, 0);
	assert_int_equal(t->nrewrites, 0);
	assert_int_equal(t->deletes, MS_DELETES_NONE);
	assert_int_equal(t->max_deletes, -1);
	assert_int_equal(t->adopt, 0);
	assert_int_equal(t->max_attempts, 5);
	assert_int_equal(t->line, 25);
	ms_agent_config_free(cfg);
}

static void test_defaults(void **state)
{
	ms_agent_config *cfg;

	(void)state;
	cfg = parse_ok("/var/lib/ms/agent.yaml",
		       "source:\n  catalog: sqlite:a.db\n  store: /tmp/s\n");
	assert_string_equal(cfg->bus, "embedded:/var/lib/ms/metasync-bus.db");
	assert_null(cfg->listen);
	assert_string_equal(cfg->source->name, "metasync");
	assert_null(cfg->source->databases);
	assert_null(cfg->source->compress);
	assert_int_equal(cfg->source->schedule, MS_SCHEDULE_ON_DEMAND);
	assert_int_equal(cfg->ntargets, 0);
	assert_null(cfg->targets);
	ms_agent_config_free(cfg);

	cfg = parse_ok("agent.yaml", "targets:\n  - name: t\n    catalog: sqlite:b.db\n");
	assert_string_equal(cfg->bus, "embedded:./metasync-bus.db");
	assert_null(cfg->source);
	assert_int_equal(cfg->ntargets, 1);
	ms_agent_config_free(cfg);

	cfg = parse_ok("conf/agent.yaml",
		       "bus: ~\nsource:\n  catalog: sqlite:a.db\n  store: s\n  schedule: none\n"
		       "  compress: none\ntargets: []\n");
	assert_string_equal(cfg->bus, "embedded:conf/metasync-bus.db");
	assert_int_equal(cfg->source->schedule, MS_SCHEDULE_ON_DEMAND);
	assert_null(cfg->source->compress);
	ms_agent_config_free(cfg);

	cfg = parse_ok("/agent.yaml", "source: {catalog: 'sqlite:a.db', store: s}\n");
	assert_string_equal(cfg->bus, "embedded:/metasync-bus.db");
	ms_agent_config_free(cfg);
}

static void test_schedule(void **state)
{
	ms_agent_config *cfg;

	(void)state;
	cfg = parse_ok("a.yaml",
		       "source:\n  catalog: c\n  store: s\n  schedule: {at: \"02:30\"}\n");
	assert_int_equal(cfg->source->schedule, MS_SCHEDULE_AT);
	assert_int_equal(cfg->source->at_minute, 150);
	ms_agent_config_free(cfg);

	cfg = parse_ok("a.yaml",
		       "source:\n  catalog: c\n  store: s\n  schedule:\n    at: \"23:59\"\n");
	assert_int_equal(cfg->source->at_minute, 23 * 60 + 59);
	ms_agent_config_free(cfg);

	cfg = parse_ok("a.yaml",
		       "source:\n  catalog: c\n  store: s\n  schedule:\n    interval: 90s\n");
	assert_int_equal(cfg->source->schedule, MS_SCHEDULE_INTERVAL);
	assert_int_equal(cfg->source->interval_seconds, 90);
	assert_int_equal(cfg->source->keep, 0);
	assert_int_equal(cfg->source->keep_seconds, 0);
	ms_agent_config_free(cfg);
}

static void test_duration(void **state)
{
	long long s = -1;

	(void)state;
	assert_int_equal(ms_parse_duration("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(ms_parse_duration("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(ms_parse_duration("24h", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(ms_parse_duration("7d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(ms_parse_duration("0s", &s), 0);
	assert_int_equal(s, 0);
	s = 42;
	assert_int_equal(ms_parse_duration("", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("24", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("h", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("24x", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("24hh", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("-5s", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration(" 5s", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("1.5h", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("99999999999999999999s", &s), MS_EINVAL);
	assert_int_equal(ms_parse_duration("9223372036854775807d", &s), MS_EINVAL);
	assert_int_equal(s, 42);
}

/* ---- errors ----------------------------------------------------------- */

#define SRC "source:\n  catalog: postgresql://hms:" SECRET "@db/ms\n  store: /s\n"
#define TGT "targets:\n  - name: t0\n    catalog: postgresql://hms:" SECRET "@db/ms\n"

static void test_errors_top(void **state)
{
	(void)state;
	parse_err("", "agent.yaml:1: the file is empty");
	parse_err("# only a comment\n\n", "agent.yaml:1: the file is empty");
	parse_err("- a\n- b\n",
		  "agent.yaml:1: expected a mapping with bus, listen, source, targets,"
		  " got a list");
	parse_err("just text\n", "agent.yaml:1: expected a mapping");
	parse_err(SRC "bsu: x\n",
		  "agent.yaml:4: bsu: unknown key; expected bus, listen, source, targets");
	parse_err(SRC "bus: [nats://u:" SECRET "@h:4222]\n",
		  "agent.yaml:4: bus: expected a string, got a list");
	parse_err(SRC "bus: {url: x}\n", "agent.yaml:4: bus: expected a string, got a mapping");
	parse_err(SRC "bus: \"\"\n", "agent.yaml:4: bus: must not be empty");
	parse_err(SRC "listen: 9464\n", "agent.yaml:4: listen: expected HOST:PORT");
	parse_err(SRC "listen: \"127.0.0.1:99999\"\n", "agent.yaml:4: listen: expected HOST:PORT");
	parse_err("bus: x\nlisten: 127.0.0.1:1\n", "agent.yaml:1: nothing to do");
	parse_err("source: ~\ntargets: []\n", "agent.yaml:1: nothing to do");
	parse_err(SRC "source:\n  catalog: x\n",
		  "agent.yaml:4: source: duplicate key (first at line 1)");
	parse_err(SRC "targets: {name: x}\n",
		  "agent.yaml:4: targets: expected a list of targets, got a mapping");
	parse_err(SRC "targets:\n  - just-a-name\n",
		  "agent.yaml:5: targets[0]: expected a mapping");
	parse_err(SRC "---\nbus: x\n", "agent.yaml:5: a second YAML document");
}

static void test_errors_syntax(void **state)
{
	(void)state;
	/* libyaml's own line and problem. */
	parse_err("source:\n  catalog: a\n store: b\n",
		  "agent.yaml:3: syntax error: did not find expected key");
	parse_err("bus: x\nlisten: a: b\n",
		  "agent.yaml:2: syntax error: mapping values are not allowed in this context");
	parse_err("targets: [a, b\n",
		  "agent.yaml:2: syntax error: did not find expected ',' or ']'");
	parse_err("source:\n  catalog: \"postgresql://u:" SECRET "@h/db\n",
		  "agent.yaml:3: syntax error: found unexpected end of stream");
	parse_err("bus: \"\t\\q\"\n", "agent.yaml:1: syntax error: found unknown escape character");
}

static void test_errors_source(void **state)
{
	(void)state;
	parse_err("source:\n  store: /s\n", "agent.yaml:2: source.catalog: missing");
	parse_err("source:\n  catalog: sqlite:a.db\n", "agent.yaml:2: source.store: missing");
	parse_err("source:\n  catalog:\n  store: /s\n",
		  "agent.yaml:2: source.catalog: expected a string, got nothing");
	parse_err("source:\n  catalog: [\"postgresql://u:" SECRET "@h/db\"]\n  store: /s\n",
		  "agent.yaml:2: source.catalog: expected a string, got a list");
	parse_err("source:\n  catalog: {url: \"postgresql://u:" SECRET "@h/db\"}\n  store: /s\n",
		  "agent.yaml:2: source.catalog: expected a string, got a mapping");
	parse_err("source:\n  catalog: \"\"\n  store: /s\n",
		  "agent.yaml:2: source.catalog: must not be empty");
	parse_err(SRC "  catalog: postgresql://u:" SECRET "@h/other\n",
		  "agent.yaml:4: source.catalog: duplicate key (first at line 2)");
	parse_err(SRC "  catalgo: x\n", "agent.yaml:4: source.catalgo: unknown key; expected name, "
					"catalog, databases, store,"
					" compress, schedule, retention");
	parse_err(SRC "  \"postgresql://u:" SECRET "@h/db\": x\n",
		  "agent.yaml:4: source: unknown key at this line");
	parse_err(SRC "  databases: [sales, hr]\n",
		  "agent.yaml:4: source.databases: expected a string, got a list");
	parse_err(SRC "  compress: zstd\n",
		  "agent.yaml:4: source.compress: expected gzip or none, got 'zstd'");
	parse_err(SRC "  name: bad name\n", "agent.yaml:4: source.name: expected 1 to 64 letters, "
					    "digits, '_' or '-', got 'bad name'");
	parse_err("source: sqlite:a.db\n", "agent.yaml:1: source: expected a mapping");
}

static void test_errors_schedule(void **state)
{
	(void)state;
	parse_err(SRC "  schedule: {interval: 24x}\n",
		  "agent.yaml:4: source.schedule.interval: expected a duration such as 90s, 15m, "
		  "24h or"
		  " 7d, got '24x'");
	parse_err(SRC "  schedule:\n    interval: 24\n",
		  "agent.yaml:5: source.schedule.interval: expected a duration");
	parse_err(SRC "  schedule:\n    interval: 0h\n",
		  "agent.yaml:5: source.schedule.interval: must be longer than 0s");
	parse_err(SRC "  schedule:\n    interval: [1h]\n",
		  "agent.yaml:5: source.schedule.interval: expected a duration such as 90s, 15m, "
		  "24h or"
		  " 7d, got a list");
	parse_err(SRC "  schedule: {at: \"2am\"}\n",
		  "agent.yaml:4: source.schedule.at: expected a time HH:MM (UTC), got '2am'");
	parse_err(SRC "  schedule: {at: \"24:00\"}\n",
		  "agent.yaml:4: source.schedule.at: expected a time HH:MM");
	parse_err(SRC "  schedule: {at: \"12:60\"}\n",
		  "agent.yaml:4: source.schedule.at: expected a time HH:MM");
	parse_err(SRC "  schedule: {at: \"2:00\"}\n",
		  "agent.yaml:4: source.schedule.at: expected a time HH:MM");
	parse_err(SRC "  schedule:\n    interval: 1h\n    at: \"02:00\"\n",
		  "agent.yaml:6: source.schedule: give interval or at, not both");
	parse_err(SRC "  schedule: {}\n", "agent.yaml:4: source.schedule: expected interval or at");
	parse_err(SRC "  schedule: {every: 1h}\n",
		  "agent.yaml:4: source.schedule.every: unknown key; expected interval or at");
	parse_err(SRC "  schedule: daily\n", "agent.yaml:4: source.schedule: expected a mapping "
					     "with interval or at, got a string");
}

static void test_errors_targets(void **state)
{
	(void)state;
	parse_err("targets:\n  - catalog: sqlite:b.db\n", "agent.yaml:2: targets[0].name: missing");
	parse_err("targets:\n  - name: t\n", "agent.yaml:2: targets[0].catalog: missing");
	parse_err(TGT "  - name: t1\n    catalog: [\"postgresql://u:" SECRET "@h/db\"]\n",
		  "agent.yaml:5: targets[1].catalog: expected a string, got a list");
	parse_err(TGT "  - name: t0\n    catalog: postgresql://u:" SECRET "@h/db2\n",
		  "agent.yaml:4: targets[1].name: duplicate target name 't0' (also at line 2)");
	parse_err(TGT "  - name: t1\n    catalog: x\n    deletes: all\n",
		  "agent.yaml:6: targets[1].deletes: expected none or mirror, got 'all'");
	parse_err(TGT "    deletes: [mirror]\n",
		  "agent.yaml:4: targets[0].deletes: expected none or mirror, got a list");
	parse_err(TGT "    deletes: postgresql://u:" SECRET "@h/db\n",
		  "agent.yaml:4: targets[0].deletes: expected none or mirror, got "
		  "'postgresql://u:***@h/db'");
	parse_err(TGT "    max_deletes: -1\n",
		  "agent.yaml:4: targets[0].max_deletes: must not be negative");
	parse_err(TGT "    max_deletes: ten\n",
		  "agent.yaml:4: targets[0].max_deletes: expected an integer, got 'ten'");
	parse_err(TGT "    max_deletes: 1.5\n",
		  "agent.yaml:4: targets[0].max_deletes: expected an integer, got '1.5'");
	parse_err(TGT "    max_deletes: [1]\n",
		  "agent.yaml:4: targets[0].max_deletes: expected an integer, got a list");
	parse_err(TGT "    max_deletes: 99999999999999999999999\n",
		  "agent.yaml:4: targets[0].max_deletes: '99999999999999999999999' is too large");
	parse_err(TGT "    max_attempts: 0\n",
		  "agent.yaml:4: targets[0].max_attempts: must be at least 1");
	parse_err(TGT "    adopt: maybe\n",
		  "agent.yaml:4: targets[0].adopt: expected true or false, got 'maybe'");
	parse_err(TGT "    databases: [sales]\n",
		  "agent.yaml:4: targets[0].databases: expected a string, got a list");
	parse_err(TGT "    table_prefix: {a: b}\n",
		  "agent.yaml:4: targets[0].table_prefix: expected a string, got a mapping");
	parse_err(TGT "    renames: sales=eu\n", "agent.yaml:4: targets[0].renames: expected a "
						 "list of OLD=NEW renames, got a string");
	parse_err(TGT "    renames: [\"a=b\", sales]\n",
		  "agent.yaml:4: targets[0].renames[1]: expected OLD=NEW, got 'sales'");
	parse_err(TGT "    renames:\n      - \"=b\"\n",
		  "agent.yaml:5: targets[0].renames[0]: expected OLD=NEW");
	parse_err(TGT "    renames:\n      - \"a=\"\n",
		  "agent.yaml:5: targets[0].renames[0]: expected OLD=NEW");
	parse_err(TGT "    renames:\n      - [a, b]\n",
		  "agent.yaml:5: targets[0].renames[0]: expected a string, got a list");
	parse_err(TGT "    location_rewrites:\n      - \"s3://u:" SECRET "@a/\"\n",
		  "agent.yaml:5: targets[0].location_rewrites[0]: expected FROM=TO, got "
		  "'s3://u:***@a/'");
	parse_err(TGT "    prune_unmapped: true\n", "agent.yaml:4: targets[0].prune_unmapped: "
						    "pruning unmapped replicas needs deletes "
						    "mirror");
	/* the mapping as a whole, as the engine reads it, at the line of its key */
	parse_err(TGT "    renames: [\"sales=merged\", \"finance=merged\"]\n",
		  "agent.yaml:4: targets[0].renames: renames 'sales=merged' and 'finance=merged' "
		  "map "
		  "two databases to 'merged'");
	parse_err(TGT "    database_prefix: \"my db\"\n",
		  "agent.yaml:4: targets[0].database_prefix: database prefix 'my db' is not valid");
	parse_err(TGT "    location_rewrites:\n      - \"s3://u:" SECRET "@a/k=s3://x/=s3://b/\"\n",
		  "agent.yaml:4: targets[0].location_rewrites: location rewrite "
		  "'s3://u:***@a/k=s3://x/=s3://b/' is ambiguous");
	parse_err(TGT "    databases: \"sales,finance\"\n",
		  "agent.yaml:4: targets[0].databases: database selection 'sales,finance' holds a "
		  "','");
	parse_err(TGT "    follow: analytics\n",
		  "agent.yaml:4: targets[0].follow: expected a list of source names, got a string");
	parse_err(TGT "    follow: [\"a b\"]\n",
		  "agent.yaml:4: targets[0].follow[0]: expected 1 to 64 letters");
	parse_err(TGT "    folow: [a]\n",
		  "agent.yaml:4: targets[0].folow: unknown key; expected name, catalog,");
	parse_err("targets:\n  - name: \"re porting\"\n    catalog: x\n",
		  "agent.yaml:2: targets[0].name: expected 1 to 64 letters, digits, '_' or '-', "
		  "got 're porting'");
	parse_err("targets:\n  - name: a.b\n    catalog: x\n",
		  "agent.yaml:2: targets[0].name: expected 1 to 64");
	parse_err("targets:\n  - name: "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n    catalog: "
		  "x\n",
		  "agent.yaml:2: targets[0].name: expected 1 to 64");
	parse_err("targets:\n  - name: \"postgresql://u:" SECRET "@h/db\"\n    catalog: x\n",
		  "agent.yaml:2: targets[0].name: expected 1 to 64 letters, digits, '_' or '-', "
		  "got "
		  "'postgresql://u:***@h/db'");
	parse_err("targets:\n  - name: \"a\\nb\"\n    catalog: x\n",
		  "agent.yaml:2: targets[0].name: expected 1 to 64 letters, digits, '_' or '-', "
		  "got 'a?b'");
}

static void test_retention(void **state)
{
	ms_agent_config *cfg;

	(void)state;
	cfg = parse_ok("a.yaml", "source:\n  catalog: c\n  store: s\n"
				 "  retention: { keep: 10, keep_days: 7 }\n");
	assert_int_equal(cfg->source->keep, 10);
	assert_int_equal(cfg->source->keep_seconds, 7 * 86400);
	ms_agent_config_free(cfg);
	cfg = parse_ok("a.yaml", "source:\n  catalog: c\n  store: s\n  retention:\n    keep: 3\n");
	assert_int_equal(cfg->source->keep, 3);
	assert_int_equal(cfg->source->keep_seconds, 0);
	ms_agent_config_free(cfg);
	cfg = parse_ok("a.yaml", "source:\n  catalog: c\n  store: s\n  retention: ~\n");
	assert_int_equal(cfg->source->keep, 0);
	ms_agent_config_free(cfg);
	parse_err(SRC "  retention: {keep: 0}\n",
		  "agent.yaml:4: source.retention.keep: must be at least 1");
	parse_err(SRC "  retention: {keep_days: x}\n",
		  "agent.yaml:4: source.retention.keep_days: expected an integer, got 'x'");
	parse_err(SRC "  retention: {}\n",
		  "agent.yaml:4: source.retention: expected keep, keep_days or both");
	parse_err(SRC "  retention: {keep_hours: 3}\n",
		  "agent.yaml:4: source.retention.keep_hours: unknown key; expected keep or "
		  "keep_days");
	parse_err(SRC "  retention: 10\n",
		  "agent.yaml:4: source.retention: expected a mapping with keep or keep_days");
}

/* follow: absent is every source, [] none; max_deletes needs deletes: mirror. */
static void test_follow_and_guards(void **state)
{
	ms_agent_config *cfg;

	(void)state;
	cfg = parse_ok("a.yaml", "targets:\n  - name: a\n    catalog: x\n"
				 "  - name: b\n    catalog: x\n    follow: []\n"
				 "  - name: c\n    catalog: x\n    follow: ~\n"
				 "  - name: d\n    catalog: x\n    follow: [s1]\n");
	assert_int_equal(cfg->targets[0].follow_none, 0);
	assert_int_equal(cfg->targets[0].nfollow, 0);
	assert_int_equal(cfg->targets[1].follow_none, 1);
	assert_int_equal(cfg->targets[2].follow_none, 0);
	assert_int_equal(cfg->targets[3].follow_none, 0);
	assert_int_equal(cfg->targets[3].nfollow, 1);
	ms_agent_config_free(cfg);

	parse_err(TGT "    max_deletes: 5\n",
		  "agent.yaml:4: targets[0].max_deletes: only with deletes: mirror");
	parse_err(TGT "    deletes: none\n    max_deletes: 0\n",
		  "agent.yaml:5: targets[0].max_deletes: only with deletes: mirror");
	parse_err(TGT "    max_deletes: 5\n    deletes: none\n",
		  "agent.yaml:4: targets[0].max_deletes: only with deletes: mirror");
	cfg = parse_ok("a.yaml", TGT "    max_deletes: 5\n    deletes: mirror\n");
	assert_int_equal(cfg->targets[0].max_deletes, 5);
	assert_int_equal(cfg->targets[0].prune_unmapped, 0);
	ms_agent_config_free(cfg);
	cfg = parse_ok("a.yaml", TGT "    deletes: mirror\n    prune_unmapped: true\n");
	assert_int_equal(cfg->targets[0].prune_unmapped, 1);
	ms_agent_config_free(cfg);
	cfg = parse_ok("a.yaml", TGT "    max_deletes: ~\n");
	assert_int_equal(cfg->targets[0].max_deletes, -1);
	ms_agent_config_free(cfg);
}

/* Files: a good one, one that does not exist, an empty one. */
static void test_load(void **state)
{
	ms_agent_config *cfg = NULL;
	ms_error err;
	char *path;
	int rc;

	(void)state;
	path = write_temp(full_config);
	ms_error_clear(&err);
	rc = ms_agent_config_load(path, &cfg, &err);
	if (rc != 0)
		fail_msg("load: %s", err.message);
	assert_string_equal(cfg->path, path);
	assert_int_equal(cfg->ntargets, 2);
	ms_agent_config_free(cfg);
	cfg = NULL;
	unlink(path);

	rc = ms_agent_config_load(path, &cfg, &err);
	assert_int_equal(rc, MS_ENOTFOUND);
	assert_null(cfg);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "cannot read config"));
	free(path);

	path = write_temp("");
	rc = ms_agent_config_load(path, &cfg, &err);
	assert_int_equal(rc, MS_EINVAL);
	assert_null(cfg);
	assert_true(strncmp(err.message, path, strlen(path)) == 0);
	assert_string_equal(err.message + strlen(path),
			    ":1: the file is empty; expected bus, listen, source, targets");
	unlink(path);
	free(path);

	/* A directory cannot be read as a config. */
	rc = ms_agent_config_load("/tmp", &cfg, &err);
	assert_true(rc < 0);
	assert_null(cfg);
	assert_non_null(strstr(err.message, "'/tmp'"));
	ms_agent_config_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),    cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_schedule),       cmocka_unit_test(test_duration),
		cmocka_unit_test(test_errors_top),     cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_errors_source),  cmocka_unit_test(test_errors_schedule),
		cmocka_unit_test(test_errors_targets), cmocka_unit_test(test_load),
		cmocka_unit_test(test_retention),      cmocka_unit_test(test_follow_and_guards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
