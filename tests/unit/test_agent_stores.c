/*
 * A target's stores: the `stores:` entries of the agent's config (each
 * mistake named by file, line and key) and the decision, per event, of
 * whether a snapshot URL is accepted and how it is opened: whole path
 * components, the longest entry, the s3 settings only an entry can give,
 * the defaults without stores:, and no symbolic link between a folder
 * store and its snapshot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/stores.h"

static ms_agent_config *parse_ok(const char *text)
{
	ms_agent_config *cfg = NULL;
	ms_error err;

	ms_error_clear(&err);
	if (ms_agent_config_parse("agent.yaml", text, strlen(text), &cfg, &err) != 0)
		fail_msg("parse failed: %s\n%s", err.message, text);
	return cfg;
}

static void parse_err(const char *stores, const char *want)
{
	char text[2048];
	ms_agent_config *cfg = NULL;
	ms_error err;
	int rc;

	snprintf(text, sizeof(text), "targets:\n  - name: t\n    catalog: sqlite:t.db\n%s", stores);
	ms_error_clear(&err);
	rc = ms_agent_config_parse("agent.yaml", text, strlen(text), &cfg, &err);
	if (rc != MS_EINVAL || strncmp(err.message, want, strlen(want)) != 0)
		fail_msg("expected EINVAL '%s...', got %d '%s' for\n%s", want, rc, err.message,
			 text);
	assert_null(cfg);
}

static void test_config(void **state)
{
	ms_agent_config *cfg = parse_ok(
		"targets:\n"
		"  - name: t\n"
		"    catalog: sqlite:t.db\n"
		"    stores:\n"
		"      - /data/snapshots\n"      /* 5 */
		"      - file:///mnt/exports/\n" /* 6 */
		"      - { url: \"s3://acme/exports\", endpoint: \"http://127.0.0.1:4568\",\n"
		"          region: us-east-1, profile: test }\n"
		"      - url: s3://other-bucket\n"); /* 9 */
	const ms_agent_target *t = &cfg->targets[0];

	(void)state;
	assert_int_equal(t->nstores, 4);
	assert_string_equal(t->stores[0].url, "/data/snapshots");
	assert_null(t->stores[0].endpoint);
	assert_int_equal(t->stores[0].line, 5);
	assert_string_equal(t->stores[1].url, "file:///mnt/exports/");
	assert_string_equal(t->stores[2].url, "s3://acme/exports");
	assert_string_equal(t->stores[2].endpoint, "http://127.0.0.1:4568");
	assert_string_equal(t->stores[2].region, "us-east-1");
	assert_string_equal(t->stores[2].profile, "test");
	assert_string_equal(t->stores[3].url, "s3://other-bucket");
	assert_null(t->stores[3].profile);
	assert_int_equal(t->stores[3].line, 9);
	ms_agent_config_free(cfg);
}

static void test_config_errors(void **state)
{
	(void)state;
	parse_err("    stores: /data\n", "agent.yaml:4: targets[0].stores: expected a list of "
					 "folders or s3:// prefixes, got a string");
	parse_err("    stores: []\n", "agent.yaml:4: targets[0].stores: is empty");
	parse_err("    stores:\n      - data/snapshots\n",
		  "agent.yaml:5: targets[0].stores[0]: a folder must be an absolute path");
	parse_err("    stores:\n      - /a\n      - \"s3://b/p?endpoint=http://x\"\n",
		  "agent.yaml:6: targets[0].stores[1]: has a query; give endpoint, region and "
		  "profile");
	parse_err("    stores:\n      - \"s3://key:secret@b/p\"\n",
		  "agent.yaml:5: targets[0].stores[0]: carries credentials");
	parse_err("    stores:\n      - http://example.com/x\n",
		  "agent.yaml:5: targets[0].stores[0]: scheme 'http' is not file or s3");
	parse_err("    stores:\n      - /data/../etc\n",
		  "agent.yaml:5: targets[0].stores[0]: has a '..' segment");
	parse_err("    stores:\n      - [a]\n", "agent.yaml:5: targets[0].stores[0]: expected a "
						"folder, an s3:// prefix or a mapping");
	parse_err("    stores:\n      - { endpoint: \"http://x\" }\n",
		  "agent.yaml:5: targets[0].stores[0].url: missing");
	parse_err("    stores:\n      - { url: /data, endpoint: \"http://x\" }\n",
		  "agent.yaml:5: targets[0].stores[0].endpoint: only an s3:// store has one");
	parse_err("    stores:\n      - url: s3://b\n        endpoint: ftp://x\n",
		  "agent.yaml:6: targets[0].stores[0].endpoint: expected an http or https url");
	parse_err("    stores:\n      - url: s3://b\n        region: \"us east\"\n",
		  "agent.yaml:6: targets[0].stores[0].region: expected a region such as us-east-1, "
		  "got 'us east'");
	parse_err("    stores:\n      - url: s3://b\n        profile: \"a/b\"\n",
		  "agent.yaml:6: targets[0].stores[0].profile: expected a profile name");
	parse_err("    stores:\n      - url: s3://b\n        secret: x\n",
		  "agent.yaml:6: targets[0].stores[0].secret: unknown key; expected url, endpoint");
}

/* Accepted: *open_url is want; refused: MS_EREFUSED with a message holding want. */
static void expect(const ms_agent_config *cfg, const char *source, const char *url, int rc,
		   const char *want)
{
	char *open_url = NULL;
	ms_error err;
	int got;

	ms_error_clear(&err);
	got = ms_agent_accept_snapshot(cfg, &cfg->targets[0], source, url, &open_url, &err);
	if (got != rc)
		fail_msg("'%s' from '%s': got %d (%s), want %d", url, source, got, err.message, rc);
	if (rc == 0 && strcmp(open_url, want) != 0)
		fail_msg("'%s': opens '%s', want '%s'", url, open_url, want);
	if (rc < 0 && !strstr(err.message, want))
		fail_msg("'%s': message '%s' lacks '%s'", url, err.message, want);
	if (rc < 0 && strchr(err.message, '\n'))
		fail_msg("message spans lines: '%s'", err.message);
	free(open_url);
}

static void test_listed(void **state)
{
	ms_agent_config *cfg = parse_ok(
		"targets:\n"
		"  - name: t\n"
		"    catalog: sqlite:t.db\n"
		"    stores:\n"
		"      - /data/snapshots/\n"
		"      - s3://acme\n"
		"      - { url: \"s3://acme/exports\", endpoint: \"http://127.0.0.1:4568\",\n"
		"          region: us-east-1, profile: test }\n");

	(void)state;
	expect(cfg, "a", "/data/snapshots/2026-01-02-03-04-05", 0,
	       "/data/snapshots/2026-01-02-03-04-05");
	expect(cfg, "a", "file:///data/snapshots/x/any-name", 0,
	       "file:///data/snapshots/x/any-name");
	expect(cfg, "a", "/data/snapshots-old/2026-01-02-03-04-05", MS_EREFUSED,
	       "snapshot '/data/snapshots-old/2026-01-02-03-04-05' is refused: it is in none of "
	       "the "
	       "stores target 't' accepts (/data/snapshots/, s3://acme, s3://acme/exports)");
	expect(cfg, "a", "/etc", MS_EREFUSED, "is refused: it is in none of the stores");
	/* the longest entry gives the settings; none where the entry has none */
	expect(cfg, "a", "s3://acme/exports/2026-01-02-03-04-05", 0,
	       "s3://acme/exports/2026-01-02-03-04-05?endpoint=http://127.0.0.1:4568"
	       "&region=us-east-1&profile=test");
	expect(cfg, "a", "s3://acme/exports-2/x", 0, "s3://acme/exports-2/x");
	expect(cfg, "a", "s3://acme-2/exports/x", MS_EREFUSED,
	       "'s3://acme-2/exports/x' is refused");
	ms_agent_config_free(cfg);
}

static void test_defaults(void **state)
{
	ms_agent_config *cfg = parse_ok(
		"source:\n"
		"  name: analytics\n"
		"  catalog: sqlite:a.db\n"
		"  store: \"s3://lake/exports?endpoint=http://127.0.0.1:9000&region=eu-west-1\"\n"
		"targets:\n"
		"  - name: t\n"
		"    catalog: sqlite:t.db\n");

	(void)state;
	/* the source this file defines: its store, opened with its settings */
	expect(cfg, "analytics", "s3://lake/exports/2026-01-02-03-04-05", 0,
	       "s3://lake/exports/2026-01-02-03-04-05?endpoint=http://"
	       "127.0.0.1:9000&region=eu-west-1");
	expect(cfg, "analytics", "s3://lake/elsewhere/2026-01-02-03-04-05", MS_EREFUSED,
	       "is refused: source 'analytics' exports to 's3://lake/exports?endpoint=");
	/* another source: a snapshot folder, as announced */
	expect(cfg, "other", "s3://other/x/2026-01-02-03-04-05-2", 0,
	       "s3://other/x/2026-01-02-03-04-05-2");
	expect(cfg, "other", "/var/snap/2026-01-02-03-04-05", 0, "/var/snap/2026-01-02-03-04-05");
	expect(cfg, "other", "/etc", MS_EREFUSED,
	       "snapshot '/etc' is refused: it does not name a snapshot folder");
	expect(cfg, "other", "s3://other/x/2026-01-02", MS_EREFUSED,
	       "does not name a snapshot folder");
	ms_agent_config_free(cfg);
}

/* In a folder, no link between the store and the snapshot. */
static void test_links(void **state)
{
	char dir[] = "/tmp/ms-agent-stores-XXXXXX";
	char text[1024], path[600], url[700], cmd[700];
	ms_agent_config *cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store/2026-01-02-03-04-05", dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' '%s/elsewhere/2026-01-02-03-04-06' && "
		 "ln -s '%s/elsewhere/2026-01-02-03-04-06' '%s/store/2026-01-02-03-04-06' && "
		 "ln -s '%s/elsewhere' '%s/store/sub'",
		 path, dir, dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(text, sizeof(text),
		 "targets:\n  - name: t\n    catalog: sqlite:t.db\n    stores: [\"%s/store\"]\n",
		 dir);
	cfg = parse_ok(text);
	expect(cfg, "a", path, 0, path);
	snprintf(url, sizeof(url), "%s/store/2026-01-02-03-04-06", dir);
	snprintf(path, sizeof(path), "'%s/store/2026-01-02-03-04-06' is a symbolic link", dir);
	expect(cfg, "a", url, MS_EREFUSED, path);
	snprintf(url, sizeof(url), "%s/store/sub/2026-01-02-03-04-06", dir);
	snprintf(path, sizeof(path), "'%s/store/sub' is a symbolic link", dir);
	expect(cfg, "a", url, MS_EREFUSED, path);
	ms_agent_config_free(cfg);
	/* the default (a folder the event names) checks the snapshot folder too */
	cfg = parse_ok("targets:\n  - name: t\n    catalog: sqlite:t.db\n");
	snprintf(url, sizeof(url), "%s/store/2026-01-02-03-04-06", dir);
	expect(cfg, "a", url, MS_EREFUSED, "is a symbolic link");
	ms_agent_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config), cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_listed), cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
