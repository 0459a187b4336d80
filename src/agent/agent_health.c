/*
 * What the agent shows over HTTP: Prometheus metrics of the roles
 * (/metrics) and one line per problem, or "ok" (/healthz).
 */
#include <pthread.h>
#include <string.h>

#include "agent/agent_internal.h"

static void metric_counts(ms_buf *b, const char *target, const char *kind, const ms_counts *c)
{
	ms_buf_printf(b,
		      "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"created\"} "
		      "%lld\n",
		      target, kind, c->created);
	ms_buf_printf(b,
		      "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"updated\"} "
		      "%lld\n",
		      target, kind, c->updated);
	ms_buf_printf(b,
		      "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"deleted\"} "
		      "%lld\n",
		      target, kind, c->deleted);
	ms_buf_printf(b,
		      "metasync_entities_total{target=\"%s\",kind=\"%s\",action=\"failed\"} %lld\n",
		      target, kind, c->failed);
}

int ms_agent_metrics(ms_agent *a, ms_buf *b)
{
	size_t i;

	pthread_mutex_lock(&a->mu);
	ms_buf_adds(b, "# HELP metasync_up 1 while the agent runs.\n# TYPE metasync_up gauge\n"
		       "metasync_up 1\n");
	if (a->cfg->source) {
		const char *s = a->cfg->source->name;

		ms_buf_adds(b, "# HELP metasync_exports_total Exports by result.\n"
			       "# TYPE metasync_exports_total counter\n");
		ms_buf_printf(b,
			      "metasync_exports_total{source=\"%s\",result=\"succeeded\"} %lld\n",
			      s, a->exports_ok);
		ms_buf_printf(b, "metasync_exports_total{source=\"%s\",result=\"failed\"} %lld\n",
			      s, a->exports_failed);
		ms_buf_printf(b,
			      "metasync_exports_total{source=\"%s\",result=\"unchanged\"} %lld\n",
			      s, a->exports_unchanged);
		ms_buf_adds(b, "# HELP metasync_snapshots_pruned_total Snapshots the retention "
			       "removed.\n"
			       "# TYPE metasync_snapshots_pruned_total counter\n");
		ms_buf_printf(b, "metasync_snapshots_pruned_total{source=\"%s\"} %lld\n", s,
			      a->pruned);
		ms_buf_adds(b, "# TYPE metasync_source_last_export_timestamp_seconds gauge\n");
		ms_buf_printf(b,
			      "metasync_source_last_export_timestamp_seconds{source=\"%s\"} %.3f\n",
			      s, a->last_export);
	}
	if (a->cfg->ntargets) {
		ms_buf_adds(b, "# HELP metasync_target_last_success_timestamp_seconds When the "
			       "target last applied a snapshot completely.\n"
			       "# TYPE metasync_target_last_success_timestamp_seconds gauge\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b,
				      "metasync_target_last_success_timestamp_seconds{target=\"%"
				      "s\"} %.3f\n",
				      a->targets[i].cfg->name, a->targets[i].st.last_success);
		ms_buf_adds(b, "# HELP metasync_target_lag_seconds From the creation of the last "
			       "applied snapshot (the commit of the oldest change it holds, from "
			       "a live source) to its application.\n"
			       "# TYPE metasync_target_lag_seconds gauge\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_target_lag_seconds{target=\"%s\"} %.3f\n",
				      a->targets[i].cfg->name, a->targets[i].st.lag);
		ms_buf_adds(b, "# HELP metasync_imports_total Imports by result.\n"
			       "# TYPE metasync_imports_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++) {
			const target_role *t = &a->targets[i];

			ms_buf_printf(b,
				      "metasync_imports_total{target=\"%s\",result=\"succeeded\"} "
				      "%lld\n",
				      t->cfg->name, t->st.imports_ok);
			ms_buf_printf(b,
				      "metasync_imports_total{target=\"%s\",result=\"failed\"} "
				      "%lld\n",
				      t->cfg->name, t->st.imports_failed);
			ms_buf_printf(b,
				      "metasync_imports_total{target=\"%s\",result=\"skipped\"} "
				      "%lld\n",
				      t->cfg->name, t->st.skipped);
		}
		ms_buf_adds(b, "# HELP metasync_entities_total Entities changed or failed by "
			       "imports.\n"
			       "# TYPE metasync_entities_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++) {
			const target_role *t = &a->targets[i];

			metric_counts(b, t->cfg->name, "database", &t->st.db);
			metric_counts(b, t->cfg->name, "table", &t->st.tbl);
			metric_counts(b, t->cfg->name, "partition", &t->st.part);
		}
		ms_buf_adds(b, "# HELP metasync_errors_total Errors published, by target.\n"
			       "# TYPE metasync_errors_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_errors_total{target=\"%s\"} %lld\n",
				      a->targets[i].cfg->name, a->targets[i].st.errors);
		ms_buf_adds(b, "# HELP metasync_changes_applied_total Changes of live sources "
			       "applied.\n"
			       "# TYPE metasync_changes_applied_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_changes_applied_total{target=\"%s\"} %lld\n",
				      a->targets[i].cfg->name, a->targets[i].st.changes);
		ms_buf_adds(b, "# HELP metasync_gaps_healed_total Incremental snapshots whose "
			       "parent the target did not hold, healed from the store.\n"
			       "# TYPE metasync_gaps_healed_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_gaps_healed_total{target=\"%s\"} %lld\n",
				      a->targets[i].cfg->name, a->targets[i].st.gaps_healed);
		ms_buf_adds(b, "# HELP metasync_inline_applied_total Snapshots applied from "
			       "their event, without reading the store.\n"
			       "# TYPE metasync_inline_applied_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_inline_applied_total{target=\"%s\"} %lld\n",
				      a->targets[i].cfg->name, a->targets[i].st.inline_applied);
		ms_buf_adds(b, "# HELP metasync_dead_letters_total Events given up on.\n"
			       "# TYPE metasync_dead_letters_total counter\n");
		for (i = 0; i < a->cfg->ntargets; i++)
			ms_buf_printf(b, "metasync_dead_letters_total{target=\"%s\"} %lld\n",
				      a->targets[i].cfg->name, a->targets[i].st.dead);
	}
	pthread_mutex_unlock(&a->mu);
	return 0;
}

static void health_line(ms_buf *b, int *bad, const char *role, const char *name,
			const char *problem)
{
	if (!problem[0])
		return;
	ms_buf_printf(b, "%s '%s': %s\n", role, name, problem);
	(*bad)++;
}

int ms_agent_health(ms_agent *a, ms_buf *b)
{
	int bad = 0;
	size_t i;

	pthread_mutex_lock(&a->mu);
	if (a->cfg->source) {
		const char *n = a->cfg->source->name;

		if (a->source_fatal && !a->src_bus_problem[0])
			health_line(b, &bad, "source", n, "did not start");
		health_line(b, &bad, "bus: source", n, a->src_bus_problem);
		health_line(b, &bad, "source", n, a->src_problem);
	}
	for (i = 0; i < a->cfg->ntargets; i++) {
		const target_role *t = &a->targets[i];

		if (t->fatal && !t->bus_problem[0])
			health_line(b, &bad, "target", t->cfg->name, "did not start");
		health_line(b, &bad, "bus: target", t->cfg->name, t->bus_problem);
		health_line(b, &bad, "target", t->cfg->name, t->catalog_problem);
		health_line(b, &bad, "target", t->cfg->name, t->follow_problem);
	}
	pthread_mutex_unlock(&a->mu);
	if (!bad)
		ms_buf_adds(b, "ok\n");
	return bad ? MS_ERROR : 0;
}

int agent_http_handler(const char *path, ms_buf *body, const char **ctype, void *ctx)
{
	ms_agent *a = ctx;

	if (strcmp(path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		ms_agent_metrics(a, body);
		return 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		*ctype = "text/plain; charset=utf-8";
		return ms_agent_health(a, body) == 0 ? 200 : 503;
	}
	ms_buf_adds(body, "not found\n");
	return 404;
}
