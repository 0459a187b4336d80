/*
 * metasync demo: the whole system on one laptop, with no server and no
 * cloud account.  The demo library (src/demo) generates a realistic data
 * lake in a source catalog, replicates it with a source agent and two
 * target agents over the embedded bus, and verifies both targets entity by
 * entity; this command takes the options, runs the steps in order and
 * prints what each did (a table, or one JSON object), the targets' metrics
 * and the agents as one config.  Run it again and nothing is written: the
 * source is recognised, the latest snapshot still matches (and is announced
 * again), and the sync stamps make the imports free.
 *
 * With --glue the three accounts sit behind the Glue API instead: a
 * `metasync serve` in this process holds them, and the agents and the
 * verification reach them through glue:// with each account's own keys.
 *
 * It is the first thing a new user runs and the smoke test of the whole
 * stack, so it uses only the public API, the agent and the demo library.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo/demo.h"
#include "tool.h"
#include "util/clock.h"

#define DEFAULT_DIR "./metasync-demo"
#define MAX_PRINTED 5 /* engine errors printed per step (--json has all) */

/* The generator's progress: the engine's bar, at most five redraws a second. */
static void progress_cb(unsigned long long done, unsigned long long total, void *ctx)
{
	demo *d = ctx;
	double t = ms_mono_s();

	if (!d->tty || (done < total && t - d->last_progress < 0.2))
		return;
	d->last_progress = t;
	ms_progress_bar(done, total, NULL);
}

/* ---- output ----------------------------------------------------------- */

#define ROW_FMT "%-9s %-26s %-10s %10s %8s %6s %11s %8s\n"

static void print_header(const demo *d)
{
	if (d->glue) {
		printf("metasync demo: %s, %llu partitions, over the Glue API\n", d->abs,
		       d->npartitions);
		printf("Glue API: metasync serve in this process at %s, catalog %s/accounts.db,\n"
		       "          3 accounts with keys made for this run (%s, mode 600)\n\n",
		       demo_glue_endpoint(d), d->base, demo_glue_accounts_path(d));
	} else {
		printf("metasync demo: %s, %llu partitions\n\n", d->abs, d->npartitions);
	}
	printf(ROW_FMT, "step", "", "action", "databases", "tables", "views", "partitions",
	       "seconds");
}

static void print_numbers(const char *name, const char *what, const char *action, long long a,
			  long long b, long long c, long long e, double seconds, int with_seconds)
{
	char n[4][24], sec[24];

	snprintf(n[0], sizeof(n[0]), "%lld", a);
	snprintf(n[1], sizeof(n[1]), "%lld", b);
	snprintf(n[2], sizeof(n[2]), "%lld", c);
	snprintf(n[3], sizeof(n[3]), "%lld", e);
	snprintf(sec, sizeof(sec), "%.2f", seconds);
	printf(ROW_FMT, name, what, action, n[0], n[1], n[2], n[3], with_seconds ? sec : "");
}

/* The count of action a (in the order of ms_counts' fields). */
static long long count_of(const ms_counts *c, int a)
{
	switch (a) {
	case 0:
		return c->created;
	case 1:
		return c->updated;
	case 2:
		return c->unchanged;
	case 3:
		return c->deleted;
	case 4:
		return c->skipped;
	default:
		return c->failed;
	}
}

static void print_step(const demo_step *s)
{
	static const char *const actions[] = { "created", "updated", "unchanged",
					       "deleted", "skipped", "failed" };
	int printed = 0;

	for (int a = 0; a < 6; a++) {
		const ms_counts *k[4] = { &s->dbs, &s->tables, &s->views, &s->parts };
		long long v[4];
		for (int j = 0; j < 4; j++)
			v[j] = count_of(k[j], a);
		if (!v[0] && !v[1] && !v[2] && !v[3])
			continue;
		print_numbers(printed ? "" : s->name, printed ? "" : s->what, actions[a], v[0],
			      v[1], v[2], v[3], s->seconds, !printed);
		printed = 1;
	}
	if (!printed)
		print_numbers(s->name, s->what, "unchanged", 0, 0, 0, 0, s->seconds, 1);
	if (s->note[0])
		printf("%-9s %s\n", "", s->note);
	for (size_t i = 0; i < s->errors.n && i < MAX_PRINTED; i++)
		printf("%-9s error: %s\n", "", s->errors.v[i]);
	if (s->errors.n > MAX_PRINTED)
		printf("%-9s ... and %zu more errors\n", "", s->errors.n - MAX_PRINTED);
	fflush(stdout);
}

static void print_verdict(const demo_verdict *v)
{
	char what[64];

	snprintf(what, sizeof(what), "target %s%s%s%s", v->catalog_id, v->prefix ? " (" : "",
		 v->prefix ? v->prefix : "", v->prefix ? ")" : "");
	print_numbers("verify", what, v->mismatches ? "MISMATCH" : "matches", v->matched.databases,
		      v->matched.tables, v->matched.views, v->matched.partitions, v->seconds, 1);
	fflush(stdout);
}

static int step_changed(const demo_step *s)
{
	const ms_counts *k[4] = { &s->dbs, &s->tables, &s->views, &s->parts };

	for (int j = 0; j < 4; j++)
		if (k[j]->created || k[j]->updated || k[j]->deleted)
			return 1;
	return 0;
}

static double round_ms(double s)
{
	return (double)(long long)(s * 1000.0 + 0.5) / 1000.0;
}

static void json_strings(cJSON *o, const char *name, const ms_strlist *l)
{
	cJSON *a = cJSON_AddArrayToObject(o, name);

	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
}

static void print_json(const demo *d, const char *status, const ms_error *fatal, int changed,
		       int verified, double seconds)
{
	cJSON *o = cJSON_CreateObject(), *steps, *src;
	char *text;
	size_t i;

	cJSON_AddStringToObject(o, "status", status);
	if (fatal && fatal->code)
		cJSON_AddStringToObject(o, "error", fatal->message);
	cJSON_AddStringToObject(o, "dir", d->abs);
	cJSON_AddNumberToObject(o, "partitions", (double)d->npartitions);
	src = cJSON_AddObjectToObject(o, "source");
	cJSON_AddStringToObject(src, "catalog_id", DEMO_SOURCE_ID);
	cJSON_AddStringToObject(src, "url", d->source_url);
	cJSON_AddNumberToObject(src, "databases", (double)d->source.databases);
	cJSON_AddNumberToObject(src, "tables", (double)d->source.tables);
	cJSON_AddNumberToObject(src, "views", (double)d->source.views);
	cJSON_AddNumberToObject(src, "partitions", (double)d->source.partitions);
	steps = cJSON_AddArrayToObject(o, "steps");
	for (i = 0; i < d->nsteps; i++) {
		const demo_step *s = &d->steps[i];
		cJSON *j = cJSON_CreateObject(), *c;

		cJSON_AddItemToArray(steps, j);
		cJSON_AddStringToObject(j, "step", s->name);
		if (s->catalog_id)
			cJSON_AddStringToObject(j, "catalog_id", s->catalog_id);
		if (s->prefix)
			cJSON_AddStringToObject(j, "database_prefix", s->prefix);
		if (s->url)
			cJSON_AddStringToObject(j,
						strcmp(s->name, "export") == 0 ? "snapshot" : "url",
						s->url);
		cJSON_AddStringToObject(j, "status", ms_status_name(s->status));
		cJSON_AddBoolToObject(j, "skipped", s->skipped);
		if (s->note[0])
			cJSON_AddStringToObject(j, "note", s->note);
		c = cJSON_AddObjectToObject(j, "counts");
		ms_json_counts(c, "databases", &s->dbs);
		ms_json_counts(c, "tables", &s->tables);
		ms_json_counts(c, "views", &s->views);
		ms_json_counts(c, "partitions", &s->parts);
		json_strings(j, "errors", &s->errors);
		cJSON_AddNumberToObject(j, "seconds", round_ms(s->seconds));
	}
	for (i = 0; i < d->nver; i++) {
		const demo_verdict *v = &d->ver[i];
		cJSON *j = cJSON_CreateObject();

		cJSON_AddItemToArray(steps, j);
		cJSON_AddStringToObject(j, "step", "verify");
		cJSON_AddStringToObject(j, "catalog_id", v->catalog_id);
		if (v->prefix)
			cJSON_AddStringToObject(j, "database_prefix", v->prefix);
		cJSON_AddBoolToObject(j, "matches", v->mismatches == 0);
		cJSON_AddNumberToObject(j, "databases", (double)v->matched.databases);
		cJSON_AddNumberToObject(j, "tables", (double)v->matched.tables);
		cJSON_AddNumberToObject(j, "views", (double)v->matched.views);
		cJSON_AddNumberToObject(j, "partitions", (double)v->matched.partitions);
		cJSON_AddNumberToObject(j, "mismatches", (double)v->mismatches);
		json_strings(j, "errors", &v->errors);
		cJSON_AddNumberToObject(j, "seconds", round_ms(v->seconds));
	}
	if (d->glue) {
		demo_glue_stats st;
		cJSON *g = cJSON_AddObjectToObject(o, "glue"), *ops;

		demo_glue_stats_get(d, &st);
		cJSON_AddStringToObject(g, "endpoint", demo_glue_endpoint(d));
		cJSON_AddStringToObject(g, "accounts", demo_glue_accounts_path(d));
		cJSON_AddNumberToObject(g, "requests", (double)st.requests);
		cJSON_AddNumberToObject(g, "errors", (double)st.errors);
		ops = cJSON_AddObjectToObject(g, "operations");
		for (i = 0; i < st.nops; i++)
			cJSON_AddNumberToObject(ops, st.ops[i].name, (double)st.ops[i].requests);
		ops = cJSON_AddObjectToObject(g, "error_types");
		for (i = 0; i < st.netypes; i++)
			cJSON_AddNumberToObject(ops, st.etypes[i].name,
						(double)st.etypes[i].requests);
	}
	cJSON_AddBoolToObject(o, "verified", verified);
	cJSON_AddBoolToObject(o, "changed", changed);
	cJSON_AddNumberToObject(o, "seconds", round_ms(seconds));
	text = cJSON_PrintUnformatted(o);
	if (text)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
}

/* The lines of each target agent's /metrics that tell what happened. */
static void print_metrics(const demo *d)
{
	static const char *const shown[] = { "metasync_imports_total", "metasync_entities_total",
					     "metasync_target_lag_seconds",
					     "metasync_errors_total" };
	size_t i, k;

	printf("\nmetrics (each target agent's /metrics, non-zero lines):\n");
	for (i = 0; i < 2; i++) {
		const char *p = d->metrics[i];

		while (p && *p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			int show = 0;

			for (k = 0; k < sizeof(shown) / sizeof(shown[0]); k++)
				if (strncmp(p, shown[k], strlen(shown[k])) == 0)
					show = 1;
			if (show && n > 2 && !(p[n - 1] == '0' && p[n - 2] == ' '))
				printf("  %.*s\n", (int)n, p);
			p += n + (nl ? 1 : 0);
		}
	}
}

/* What the server answered: requests, by operation and by error. */
static void print_glue_summary(const demo *d)
{
	demo_glue_stats st;
	size_t i;

	demo_glue_stats_get(d, &st);
	printf("over the Glue API: metasync serve at %s answered %llu requests\n",
	       demo_glue_endpoint(d), st.requests);
	for (i = 0; i < st.nops; i++)
		printf("%s%s %llu", i ? ", " : "  by operation: ", st.ops[i].name,
		       st.ops[i].requests);
	if (st.nops)
		printf("\n");
	for (i = 0; i < st.netypes; i++) {
		const char *t = st.etypes[i].name;

		printf("%s%s %llu%s", i ? ", " : "  errors: ", t, st.etypes[i].requests,
		       strcmp(t, "EntityNotFoundException") == 0  ? " (lookups before creates)"
		       : strcmp(t, "AlreadyExistsException") == 0 ? " (creates of what was there)"
								  : "");
	}
	if (st.netypes)
		printf("\n");
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = { { "dir", required_argument, NULL, 'd' },
					      { "partitions", required_argument, NULL, 'p' },
					      { "json", no_argument, NULL, 'j' },
					      { "glue", no_argument, NULL, 'g' },
					      { NULL, 0, NULL, 0 } };
	demo d;
	ms_error err;
	double t0 = ms_mono_s();
	int c, rc = 0, code = 0, changed = 0, targets_changed = 0, verified = 1, partial = 0;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.dir = DEFAULT_DIR;
	d.npartitions = DEMO_DEFAULT_PARTITIONS;
	d.progress = progress_cb;
	d.progress_ctx = &d;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				return ms_usage_error("demo", "--dir must not be empty");
			d.dir = optarg;
			break;
		case 'p': {
			char *end;
			errno = 0;
			d.npartitions = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' ||
			    d.npartitions > DEMO_MAX_PARTITIONS)
				return ms_usage_error("demo",
						      "--partitions '%s' is not a count from 0 to "
						      "%llu",
						      optarg, DEMO_MAX_PARTITIONS);
			break;
		}
		case 'j':
			d.json = 1;
			break;
		case 'g':
			d.glue = 1;
			break;
		case ':':
			return ms_usage_error("demo", "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			return ms_usage_error("demo", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ms_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	d.tty = !d.json && isatty(STDOUT_FILENO);

	ms_error_clear(&err);
	if ((rc = demo_setup(&d, &err)) < 0 || (d.glue && (rc = demo_glue_start(&d, &err)) < 0))
		goto fatal;
	if (!d.json)
		print_header(&d);

	if ((rc = demo_step_generate(&d, &err)) < 0)
		goto fatal;
	if (!d.json)
		print_step(&d.steps[d.nsteps - 1]);
	if ((rc = demo_step_agents(&d, &err)) < 0)
		goto fatal;
	for (i = 1; i < d.nsteps; i++) {
		if (!d.json)
			print_step(&d.steps[i]);
		if (d.steps[i].status != MS_STATUS_OK)
			partial = 1;
	}
	if (!d.json)
		print_metrics(&d);
	for (i = 0; i < 2; i++) {
		if ((rc = demo_step_verify(&d, i, &err)) < 0)
			goto fatal;
		if (!d.json)
			print_verdict(&d.ver[i]);
		if (d.ver[i].mismatches)
			verified = 0;
	}
	for (i = 0; i < d.nsteps; i++) {
		if (d.steps[i].skipped || !step_changed(&d.steps[i]))
			continue;
		changed = 1;
		if (strcmp(d.steps[i].name, "import") == 0)
			targets_changed = 1;
	}

	if (d.json) {
		print_json(&d, verified ? (partial ? "partial" : "ok") : "mismatch", NULL, changed,
			   verified, ms_mono_s() - t0);
	} else {
		printf("\n");
		for (i = 0; i < d.nver; i++) {
			const demo_verdict *v = &d.ver[i];
			if (v->mismatches)
				continue;
			printf("verified: target %s matches source (%lld databases, %lld tables, "
			       "%lld partitions%s%s%s)\n",
			       v->catalog_id, v->matched.databases,
			       v->matched.tables + v->matched.views, v->matched.partitions,
			       v->prefix ? "; databases as " : "", v->prefix ? v->prefix : "",
			       v->prefix ? "*" : "");
		}
		if (d.glue)
			print_glue_summary(&d);
		demo_print_agent_config(&d);
		if (verified && !changed)
			printf("nothing changed: both targets already match\n");
		else if (verified && !targets_changed)
			printf("targets unchanged: both already matched the source\n");
		printf("done in %.2f s\n", ms_mono_s() - t0);
	}
	for (i = 0; i < d.nver; i++) {
		const demo_verdict *v = &d.ver[i];
		if (!v->mismatches)
			continue;
		fprintf(stderr,
			"metasync: demo: target %s does not match the source (%lld mismatch%s)\n",
			v->catalog_id, v->mismatches, v->mismatches == 1 ? "" : "es");
		for (size_t j = 0; j < v->errors.n; j++)
			fprintf(stderr, "  %s\n", v->errors.v[j]);
		if ((long long)v->errors.n < v->mismatches)
			fprintf(stderr, "  ... and %lld more\n",
				v->mismatches - (long long)v->errors.n);
	}
	code = !verified ? MS_EXIT_ERROR : partial ? MS_EXIT_PARTIAL : MS_EXIT_OK;
	demo_free(&d);
	return code;

fatal:
	if (d.tty)
		ms_progress_bar(1, 1, NULL);
	if (d.json)
		print_json(&d, "error", &err, 0, 0, ms_mono_s() - t0);
	else
		for (i = 0; i < d.nsteps; i++)
			if (d.steps[i].status != MS_STATUS_OK && d.steps[i].errors.n)
				print_step(&d.steps[i]);
	code = ms_fail(&err);
	demo_free(&d);
	return code;
}
