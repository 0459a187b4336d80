/*
 * The demo's run (demo.h): the whole system on one laptop, with no server
 * and no cloud account.  Three "accounts" share one embedded SQLite file;
 * the source gets the generated lake (demo_gen.c); a source agent exports it
 * to a snapshot store and announces the snapshot on the embedded bus
 * (DIR/bus.db); two target agents, durable subscribers of that bus, import
 * it when the event arrives (the second with database prefix src_); then
 * each target is compared with the source, entity by entity and
 * independently of the engine (metasync/compare.h).  Each step records what
 * it did in a demo_step for the command to print.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/agent.h"
#include "demo_internal.h"
#include "metasync/compare.h"
#include "util/buf.h"
#include "util/strlist.h"
#include "util/clock.h"

static const char *const target_ids[2] = { DEMO_TARGET_A_ID, DEMO_TARGET_B_ID };
static const char *const target_prefixes[2] = { NULL, DEMO_TARGET_B_PREFIX };

static int is_view(const ms_entity *e)
{
	const cJSON *t = e->doc ? cJSON_GetObjectItemCaseSensitive(e->doc, "TableType") : NULL;

	return cJSON_IsString(t) && strcmp(t->valuestring, "VIRTUAL_VIEW") == 0;
}

/* ---- the source's inventory ------------------------------------------- */

/* Fill d->source, d->dbs and d->views from the source catalog. */
static int take_inventory(demo *d, ms_catalog *src, ms_error *err)
{
	ms_strlist tl = { 0 };
	size_t i, j;
	int rc;

	memset(&d->source, 0, sizeof(d->source));
	ms_strlist_free(&d->dbs);
	ms_strlist_free(&d->views);
	if ((rc = ms_catalog_list_databases(src, ms_strlist_collect, &d->dbs, err)) < 0)
		return rc;
	for (i = 0; i < d->dbs.n; i++) {
		d->source.databases++;
		ms_strlist_free(&tl);
		if ((rc = ms_catalog_list_tables(src, d->dbs.v[i], ms_strlist_collect, &tl, err)) <
		    0)
			goto done;
		for (j = 0; j < tl.n; j++) {
			ms_entity *e = NULL;
			unsigned long long n = 0;

			if ((rc = ms_catalog_get_table(src, d->dbs.v[i], tl.v[j], &e, err)) < 0)
				goto done;
			if (is_view(e)) {
				ms_buf key = MS_BUF_INIT(4096);
				d->source.views++;
				ms_buf_printf(&key, "%s.%s", d->dbs.v[i], tl.v[j]);
				rc = ms_strlist_add(&d->views, ms_buf_cstr(&key));
				ms_buf_free(&key);
				if (rc < 0) {
					ms_entity_free(e);
					rc = ms_error_set(err, MS_ENOMEM, "out of memory");
					goto done;
				}
			} else {
				d->source.tables++;
			}
			ms_entity_free(e);
			if ((rc = demo_partition_count(src, d->dbs.v[i], tl.v[j], &n, err)) < 0)
				goto done;
			d->source.partitions += (long long)n;
		}
	}
done:
	ms_strlist_free(&tl);
	return rc;
}

/* ---- steps ------------------------------------------------------------ */

static demo_step *new_step(demo *d, const char *name)
{
	demo_step *s = &d->steps[d->nsteps++];

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->status = MS_STATUS_OK;
	return s;
}

static void counts_from_tally(demo_step *s, const demo_tally *t, int created)
{
	ms_counts *c[4] = { &s->dbs, &s->tables, &s->views, &s->parts };
	long long v[4] = { t->databases, t->tables, t->views, t->partitions };

	for (int i = 0; i < 4; i++) {
		if (created)
			c[i]->created = v[i];
		else
			c[i]->unchanged = v[i];
	}
}

static int open_catalog(const char *url, ms_catalog **out, ms_open_mode mode, ms_error *err)
{
	ms_open_options o = { 0 };

	o.mode = mode;
	return ms_catalog_open(out, url, &o, err);
}

/* Step 1: the source catalog, generated unless it already holds the lake. */
int demo_step_generate(demo *d, ms_error *err)
{
	demo_step *s = new_step(d, "generate");
	ms_catalog *src = NULL;
	demo_gen_stats st;
	double t0 = ms_mono_s();
	int rc, yes = 0;

	snprintf(s->what, sizeof(s->what), "source %s", DEMO_SOURCE_ID);
	if ((rc = open_catalog(d->lake_url, &src, MS_OPEN_WRITE, err)) < 0)
		goto done;
	s->url = strdup(ms_catalog_url(src));
	if ((rc = demo_is_generated(src, d->npartitions, &yes, err)) < 0)
		goto done;
	if (yes) {
		s->skipped = 1;
		snprintf(s->note, sizeof(s->note), "source catalog already generated");
	} else {
		if ((rc = demo_clear(src, err)) < 0 ||
		    (rc = demo_generate(src, d->npartitions, d->progress, d->progress_ctx, &st,
					err)) < 0)
			goto done;
	}
	if ((rc = take_inventory(d, src, err)) < 0)
		goto done;
	counts_from_tally(s, &d->source, !yes);
done:
	if (rc < 0) {
		s->status = MS_STATUS_ERROR;
		ms_error_prefix(err, "generating the source: ");
	}
	ms_catalog_close(src);
	s->seconds = ms_mono_s() - t0;
	return rc;
}

/* Counting views apart from tables in the engine's change events. */
typedef struct view_counter {
	const demo *d;
	const char *prefix;
	ms_counts views;
} view_counter;

static void count_change(const ms_change_event *ev, void *ctx)
{
	view_counter *vc = ctx;
	const char *db = ev->database;
	size_t pl = vc->prefix ? strlen(vc->prefix) : 0;
	ms_buf key = MS_BUF_INIT(4096);

	if (ev->kind != MS_KIND_TABLE || !ev->table)
		return;
	if (pl && strncmp(db, vc->prefix, pl) == 0)
		db += pl;
	ms_buf_printf(&key, "%s.%s", db, ev->table);
	if (ms_strlist_has(&vc->d->views, ms_buf_cstr(&key))) {
		switch (ev->action) {
		case MS_ACTION_CREATE:
			vc->views.created++;
			break;
		case MS_ACTION_UPDATE:
			vc->views.updated++;
			break;
		case MS_ACTION_DELETE:
			vc->views.deleted++;
			break;
		case MS_ACTION_SKIP:
			vc->views.skipped++;
			break;
		case MS_ACTION_FAIL:
			vc->views.failed++;
			break;
		default:
			break;
		}
	}
	ms_buf_free(&key);
}

static long long nonneg(long long v)
{
	return v < 0 ? 0 : v;
}

/* Split the report's table counts into tables and views. */
static void take_report(demo_step *s, const demo *d, const ms_report *rep, const view_counter *vc)
{
	s->dbs = rep->databases;
	s->parts = rep->partitions;
	s->views = vc->views;
	s->views.unchanged = nonneg(d->source.views - vc->views.created - vc->views.updated -
				    vc->views.skipped - vc->views.failed);
	s->tables = rep->tables;
	s->tables.created = nonneg(s->tables.created - s->views.created);
	s->tables.updated = nonneg(s->tables.updated - s->views.updated);
	s->tables.unchanged = nonneg(s->tables.unchanged - s->views.unchanged);
	s->tables.deleted = nonneg(s->tables.deleted - s->views.deleted);
	s->tables.skipped = nonneg(s->tables.skipped - s->views.skipped);
	s->tables.failed = nonneg(s->tables.failed - s->views.failed);
	s->status = rep->status;
	for (size_t i = 0; i < rep->nerrors; i++) {
		ms_buf b = MS_BUF_INIT(8192);
		ms_buf_printf(&b, "'%s': %s", rep->errors[i].entity, rep->errors[i].message);
		ms_strlist_add(&s->errors, ms_buf_cstr(&b));
		ms_buf_free(&b);
	}
}

/*
 * The store's newest complete snapshot as a path (new), from <store>/LATEST,
 * or NULL when there is none yet.
 */
static char *latest_snapshot(const demo *d)
{
	char name[128], *path = NULL;
	ms_buf b = MS_BUF_INIT(PATH_MAX + 256);
	FILE *f;
	size_t n;

	ms_buf_printf(&b, "%s/store/LATEST", d->base);
	f = fopen(ms_buf_cstr(&b), "r");
	ms_buf_free(&b);
	if (!f)
		return NULL;
	n = fread(name, 1, sizeof(name) - 1, f);
	fclose(f);
	name[n] = '\0';
	name[strcspn(name, "\r\n")] = '\0';
	if (!name[0] || strchr(name, '/'))
		return NULL;
	ms_buf_init(&b, PATH_MAX + 256);
	ms_buf_printf(&b, "%s/store/%s", d->base, name);
	path = ms_buf_detach(&b);
	return path;
}

/* Does the store's latest snapshot already hold exactly what the source holds? */
static int snapshot_current(demo *d, demo_step *s, int *yes, ms_error *err)
{
	int rc = ms_export_is_current(d->source_url, d->store, NULL, yes, NULL, err);

	if (rc == 0 && *yes)
		s->url = latest_snapshot(d);
	return rc;
}

/* The demo's bus: DIR/bus.db (DIR/glue/bus.db with --glue; new; NULL when out of memory). */
static char *demo_bus(const demo *d)
{
	ms_buf b = MS_BUF_INIT(PATH_MAX + 64);

	if (ms_buf_printf(&b, "embedded:%s/bus.db", d->base) < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* The roles' names on the bus: the source agent and the two target agents. */
#define SOURCE_ROLE "analytics"
#define DEMO_MAX_ATTEMPTS 3u
static const char *const target_roles[2] = { "account-" DEMO_TARGET_A_ID,
					     "account-" DEMO_TARGET_B_ID };

/* What the agents' hooks fill in, each role its own step (no sharing). */
typedef struct agent_run {
	demo *d;
	demo_step *export_step;
	demo_step *import_step[2];
	view_counter vc[2];
	ms_agent *target[2];
} agent_run;

static int role_index(const char *role)
{
	return strcmp(role, target_roles[0]) == 0 ? 0 : strcmp(role, target_roles[1]) == 0 ? 1 : -1;
}

static void hook_change(void *ctx, const char *role, const ms_change_event *ev)
{
	agent_run *r = ctx;
	int i = role_index(role);

	if (i >= 0)
		count_change(ev, &r->vc[i]);
}

static void hook_run(void *ctx, const char *role, const char *what, const char *snapshot,
		     const ms_report *rep, const ms_error *failure)
{
	agent_run *r = ctx;
	int i = role_index(role);
	demo_step *s = i >= 0 ? r->import_step[i] : r->export_step;

	if (!s)
		return;
	free(s->url);
	s->url = snapshot ? strdup(snapshot) : NULL;
	if (i >= 0) /* one event per target agent in the demo: done after it */
		ms_agent_stop(r->target[i]);
	if (strcmp(what, "skip") == 0) {
		s->skipped = 1;
		counts_from_tally(s, &r->d->source, 0);
		snprintf(s->note, sizeof(s->note),
			 "snapshot %s is older than the one applied: skipped",
			 snapshot ? snapshot : "");
		return;
	}
	if (strcmp(what, "unchanged") == 0 &&
	    !failure) { /* the source agent found LATEST current */
		s->skipped = 1;
		counts_from_tally(s, &r->d->source, 0);
		snprintf(s->note, sizeof(s->note), "latest snapshot already matches the source: %s",
			 snapshot ? snapshot : "");
		return;
	}
	if (rep) {
		s->seconds = rep->seconds;
		if (i >= 0)
			take_report(s, r->d, rep, &r->vc[i]);
	}
	if (failure) {
		s->status = MS_STATUS_ERROR;
		ms_strlist_add(&s->errors, failure->message);
	} else if (i < 0) {
		counts_from_tally(s, &r->d->source, 1);
		snprintf(s->note, sizeof(s->note), "new snapshot %s, announced on the bus",
			 snapshot ? snapshot : "");
	} else {
		snprintf(s->note, sizeof(s->note), "from snapshot %s (event on the bus)",
			 snapshot ? snapshot : "");
	}
}

/*
 * Steps 2 to 4, as the agents do them: a source agent exports the source
 * (unless the latest snapshot already matches it: then the demo announces
 * that one, as `metasync publish` would) and announces the snapshot on the
 * embedded bus; two target agents, each a durable subscriber, import it.
 * Both target agents keep serving until each has handled the event.
 */
int demo_step_agents(demo *d, ms_error *err)
{
	ms_agent_source src_role;
	ms_agent_target roles[2];
	ms_agent_config src_cfg, tgt_cfg[2];
	ms_agent_options ao = { 0 };
	ms_agent *source = NULL, *target[2] = { NULL, NULL };
	agent_run r;
	demo_step *exp;
	ms_catalog *src = NULL;
	char *bus = NULL;
	double t0 = ms_mono_s();
	int rc, current = 0, i;

	memset(&r, 0, sizeof(r));
	r.d = d;
	exp = r.export_step = new_step(d, "export");
	snprintf(exp->what, sizeof(exp->what), "to store");
	for (i = 0; i < 2; i++) {
		demo_step *s = r.import_step[i] = new_step(d, "import");

		s->catalog_id = target_ids[i];
		s->prefix = target_prefixes[i];
		snprintf(s->what, sizeof(s->what), "target %s%s%s%s", target_ids[i],
			 s->prefix ? " (" : "", s->prefix ? s->prefix : "", s->prefix ? ")" : "");
		r.vc[i].d = d;
		r.vc[i].prefix = target_prefixes[i];
	}
	if (!(bus = demo_bus(d)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");

	ao.once = 1;
	ao.quiet = 1;
	ao.hooks.change = hook_change;
	ao.hooks.run = hook_run;
	ao.hooks.ctx = &r;
	memset(roles, 0, sizeof(roles));
	for (i = 0; i < 2; i++) {
		roles[i].name = (char *)target_roles[i];
		roles[i].catalog = d->target_url[i];
		roles[i].database_prefix = (char *)target_prefixes[i];
		roles[i].deletes = MS_DELETES_MIRROR; /* the targets mirror the source */
		roles[i].max_deletes = -1;
		roles[i].max_attempts = DEMO_MAX_ATTEMPTS;
		roles[i].ack_wait_seconds = 600;
		memset(&tgt_cfg[i], 0, sizeof(tgt_cfg[i]));
		tgt_cfg[i].bus = bus;
		tgt_cfg[i].targets = &roles[i];
		tgt_cfg[i].ntargets = 1;
		if ((rc = ms_agent_new(&target[i], &tgt_cfg[i], &ao, err)) < 0)
			goto done;
		r.target[i] = target[i];
	}

	/* The source agent, or the announcement of the snapshot that is current. */
	if ((rc = snapshot_current(d, exp, &current, err)) < 0)
		goto done;
	if (current) {
		ms_catalog *snap = NULL;
		ms_open_options o = { 0 };
		ms_snapshot_info info;

		exp->skipped = 1;
		counts_from_tally(exp, &d->source, 0);
		snprintf(exp->note, sizeof(exp->note),
			 "latest snapshot already matches the source: %s (announced again)",
			 exp->url ? exp->url : d->store);
		if ((rc = ms_catalog_open(&snap, d->store, &o, err)) < 0)
			goto done;
		rc = ms_catalog_snapshot_info(snap, &info, err);
		ms_catalog_close(snap);
		if (rc < 0)
			goto done;
		rc = ms_event_publish_snapshot(bus, SOURCE_ROLE, &info, NULL, err);
		ms_snapshot_info_free(&info);
		if (rc < 0)
			goto done;
	} else {
		memset(&src_role, 0, sizeof(src_role));
		src_role.name = SOURCE_ROLE;
		src_role.catalog = d->source_url;
		src_role.store = d->store;
		memset(&src_cfg, 0, sizeof(src_cfg));
		src_cfg.bus = bus;
		src_cfg.source = &src_role;
		if ((rc = ms_agent_new(&source, &src_cfg, &ao, err)) < 0 ||
		    (rc = ms_agent_start(source, err)) < 0)
			goto done;
		ms_agent_wait(source); /* exported and announced (or failed) */
	}
	/* Each target agent stops once it has handled the event (hook_run). */
	for (i = 0; i < 2; i++)
		if ((rc = ms_agent_start(target[i], err)) < 0)
			goto done;
	for (i = 0; i < 2; i++)
		ms_agent_wait(target[i]);
	if (exp->status != MS_STATUS_OK) {
		rc = ms_error_set(err, MS_ERROR, "export by the source agent failed: %s",
				  exp->errors.n ? exp->errors.v[0] : "unknown error");
		goto done;
	}
	for (i = 0; i < 2; i++) {
		demo_step *s = r.import_step[i];

		if (!s->url && !s->skipped) {
			rc = ms_error_set(err, MS_ERROR, "target agent %s got no event",
					  target_roles[i]);
			goto done;
		}
		if (s->status == MS_STATUS_ERROR) {
			rc = ms_error_set(err, MS_ERROR, "import by target agent %s failed: %s",
					  target_roles[i],
					  s->errors.n ? s->errors.v[0] : "unknown error");
			goto done;
		}
	}
	/* what each target agent's /metrics would say */
	for (i = 0; i < 2; i++) {
		ms_buf m = MS_BUF_INIT((size_t)1 << 20);

		ms_agent_metrics(target[i], &m);
		d->metrics[i] = ms_buf_detach(&m);
	}
	rc = 0;
done:
	ms_catalog_close(src);
	ms_agent_free(source);
	for (i = 0; i < 2; i++)
		ms_agent_free(target[i]);
	free(bus);
	if (exp->skipped)
		exp->seconds = ms_mono_s() - t0;
	return rc;
}

/* Step 5: compare target i with the source, entity by entity. */
int demo_step_verify(demo *d, size_t i, ms_error *err)
{
	demo_verdict *v = &d->ver[d->nver++];
	ms_catalog *src = NULL, *dst = NULL;
	ms_open_options o = { 0 };
	ms_compare_options co = { 0 };
	ms_compare_result res = { 0 };
	ms_sync_options mapping = { 0 };
	char name[64];
	double t0 = ms_mono_s();
	size_t k;
	int rc;

	memset(v, 0, sizeof(*v));
	v->catalog_id = target_ids[i];
	v->prefix = target_prefixes[i];
	snprintf(name, sizeof(name), "target %s", target_ids[i]);
	o.mode = MS_OPEN_READ;
	if ((rc = open_catalog(d->source_url, &src, MS_OPEN_READ, err)) < 0 ||
	    (rc = ms_catalog_open(&dst, d->target_url[i], &o, err)) < 0)
		goto done;
	co.databases = (const char *const *)d->dbs.v;
	co.ndatabases = d->dbs.n;
	mapping.database_prefix = target_prefixes[i];
	co.mapping = &mapping; /* as the target agent imports */
	co.replica = 1;
	co.b_name = name;
	co.max_messages = DEMO_MAX_REPORTED;
	rc = ms_catalog_compare(src, dst, &co, &res, err);
	v->matched.databases = res.databases;
	v->matched.tables = res.tables;
	v->matched.views = res.views;
	v->matched.partitions = res.partitions;
	v->mismatches = res.mismatches;
	for (k = 0; k < res.nmessages; k++)
		ms_strlist_add(&v->errors, res.messages[k]);
done:
	if (rc < 0)
		ms_error_prefix(err, "verifying target %s: ", target_ids[i]);
	ms_compare_result_free(&res);
	ms_catalog_close(dst);
	ms_catalog_close(src);
	v->seconds = ms_mono_s() - t0;
	return rc;
}

/* ---- the agents as a config ------------------------------------------- */

/* A YAML double-quoted scalar. */
static void print_quoted(const char *v)
{
	putchar('"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		putchar(*v);
	}
	putchar('"');
}

/* The shell word a b c (concatenated) in single quotes. */
static void print_shell_quoted(const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };

	putchar('\'');
	for (int i = 0; i < 3; i++)
		for (const char *v = parts[i]; *v; v++) {
			if (*v == '\'')
				fputs("'\\''", stdout);
			else
				putchar(*v);
		}
	putchar('\'');
}

/*
 * The agents step_agents runs, as one config file that `metasync agent`
 * takes (a source and both targets on the demo's bus), so that the demo's
 * pipeline can be copied and run as a service.  With --glue, how to bring
 * back the server and the profiles the URLs name.
 */
void demo_print_agent_config(const demo *d)
{
	char *bus = demo_bus(d);
	const char *port;
	int i;

	printf("\n# the agents of this run as one config: save it as agent.yaml and run\n"
	       "# 'metasync agent --config agent.yaml' (docs/agent.md: every key)\n");
	if (d->glue) {
		port = strrchr(demo_glue_endpoint(d), ':');
		printf("# with the demo's server listening again and its profiles in reach:\n"
		       "#   metasync serve --catalog ");
		print_shell_quoted("sqlite:", d->base, "/accounts.db");
		printf(" --accounts ");
		print_shell_quoted(demo_glue_accounts_path(d), "", "");
		printf(" --listen 127.0.0.1%s &\n#   export AWS_SHARED_CREDENTIALS_FILE=",
		       port ? port : ":PORT");
		print_shell_quoted(d->base, "/aws/credentials", "");
		printf(" AWS_CONFIG_FILE=");
		print_shell_quoted(d->base, "/aws/config", "");
		printf("\n");
	}
	printf("bus: ");
	print_quoted(bus ? bus : "");
	printf("\n");
	free(bus);
	printf("source:\n  name: %s\n  catalog: ", SOURCE_ROLE);
	print_quoted(d->source_url);
	printf("\n  store: ");
	print_quoted(d->store);
	printf("\ntargets:\n");
	for (i = 0; i < 2; i++) {
		printf("  - name: %s\n    catalog: ", target_roles[i]);
		print_quoted(d->target_url[i]);
		printf("\n");
		if (target_prefixes[i])
			printf("    database_prefix: %s\n", target_prefixes[i]);
		printf("    deletes: mirror\n    max_attempts: %u\n", DEMO_MAX_ATTEMPTS);
	}
}

/* ---- setup ------------------------------------------------------------ */

/* mkdir -p */
static int make_dirs(const char *path, ms_error *err)
{
	char *p = strdup(path), *q;
	int rc = 0;

	if (!p)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	for (q = p + 1;; q++) {
		if (*q == '/' || *q == '\0') {
			char c = *q;
			*q = '\0';
			if (mkdir(p, 0777) < 0 && errno != EEXIST) {
				rc = ms_error_set(err, MS_EIO, "cannot create directory '%s'", p);
				ms_error_detail(err, "mkdir: %s", strerror(errno));
				break;
			}
			*q = c;
			if (!c)
				break;
		}
	}
	free(p);
	return rc;
}

/* A path as it may appear in a catalog URL: '%', '?' and '#' percent-encoded (new). */
static char *url_path(const char *path, const char *suffix)
{
	ms_buf b = MS_BUF_INIT(PATH_MAX * 3 + 256);

	for (const char *p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			ms_buf_printf(&b, "%%%02X", (unsigned char)*p);
		else
			ms_buf_addc(&b, *p);
	}
	ms_buf_adds(&b, suffix);
	return ms_buf_detach(&b);
}

int demo_setup(demo *d, ms_error *err)
{
	char resolved[PATH_MAX], *db;
	const char *ids[3] = { DEMO_SOURCE_ID, DEMO_TARGET_A_ID, DEMO_TARGET_B_ID };
	char **urls[3] = { &d->source_url, &d->target_url[0], &d->target_url[1] };
	int rc;

	if ((rc = make_dirs(d->dir, err)) < 0)
		return rc;
	if (!realpath(d->dir, resolved)) {
		rc = ms_error_set(err, MS_EIO, "cannot resolve directory '%s'", d->dir);
		ms_error_detail(err, "realpath: %s", strerror(errno));
		return rc;
	}
	if (!(d->abs = strdup(resolved)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (d->glue) { /* the server's files apart from the embedded demo's */
		ms_buf b = MS_BUF_INIT(PATH_MAX + 64);
		ms_buf_printf(&b, "%s/glue", resolved);
		if (!(d->base = ms_buf_detach(&b)))
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		if ((rc = make_dirs(d->base, err)) < 0)
			return rc;
	} else if (!(d->base = strdup(resolved))) {
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	d->store = url_path(d->base, "/store");
	db = url_path(d->base, "/accounts.db");
	for (int i = 0; i < 3 && db; i++) {
		ms_buf u = MS_BUF_INIT(PATH_MAX * 3 + 256);
		ms_buf_printf(&u, "sqlite:%s?catalog-id=%s", db, ids[i]);
		*urls[i] = ms_buf_detach(&u);
	}
	free(db);
	if (!d->store || !d->source_url || !d->target_url[0] || !d->target_url[1] ||
	    !(d->lake_url = strdup(d->source_url)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}

void demo_free(demo *d)
{
	size_t i;

	for (i = 0; i < d->nsteps; i++) {
		free(d->steps[i].url);
		ms_strlist_free(&d->steps[i].errors);
	}
	for (i = 0; i < d->nver; i++)
		ms_strlist_free(&d->ver[i].errors);
	ms_strlist_free(&d->dbs);
	ms_strlist_free(&d->views);
	demo_glue_stop(d);
	free(d->abs);
	free(d->base);
	free(d->lake_url);
	free(d->store);
	free(d->source_url);
	free(d->target_url[0]);
	free(d->target_url[1]);
	free(d->metrics[0]);
	free(d->metrics[1]);
}
