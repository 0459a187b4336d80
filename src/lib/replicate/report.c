/*
 * Run reports and database selection.  The report is the one record of what
 * a run did; the tool prints it as a table or as JSON, the agent publishes it.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "metasync/replicate.h"
#include "report_internal.h"

void ms_report_free(ms_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nerrors; i++) {
		free(r->errors[i].entity);
		free(r->errors[i].message);
	}
	free(r->errors);
	for (i = 0; i < r->nwarnings; i++) {
		free(r->warnings[i].entity);
		free(r->warnings[i].message);
	}
	free(r->warnings);
	free(r);
}

/* Append entity: message to *v (n entries); entity and message are copied. */
static int add_entry(ms_report_error **v, size_t *n, const char *entity, size_t entity_len,
		     const char *message)
{
	ms_report_error *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return MS_ENOMEM;
	*v = nv;
	nv[*n].entity = strndup(entity, entity_len);
	nv[*n].message = strdup(message);
	if (!nv[*n].entity || !nv[*n].message) {
		free(nv[*n].entity);
		free(nv[*n].message);
		return MS_ENOMEM;
	}
	(*n)++;
	return 0;
}

int ms_report_add_error(ms_report *r, const char *entity, const char *message)
{
	return add_entry(&r->errors, &r->nerrors, entity, strlen(entity), message);
}

void ms_report_clear_errors(ms_report *r)
{
	for (size_t i = 0; i < r->nerrors; i++) {
		free(r->errors[i].entity);
		free(r->errors[i].message);
	}
	r->nerrors = 0;
}

int ms_report_add_warning(ms_report *r, const char *text)
{
	const char *sep = strstr(text, ": ");

	if (!sep)
		return add_entry(&r->warnings, &r->nwarnings, "", 0, text);
	return add_entry(&r->warnings, &r->nwarnings, text, (size_t)(sep - text), sep + 2);
}

const char *ms_status_name(ms_status s)
{
	switch (s) {
	case MS_STATUS_OK:
		return "ok";
	case MS_STATUS_PARTIAL:
		return "partial";
	case MS_STATUS_REFUSED:
		return "refused";
	default:
		return "error";
	}
}

const char *ms_action_name(ms_action a)
{
	switch (a) {
	case MS_ACTION_CREATE:
		return "create";
	case MS_ACTION_UPDATE:
		return "update";
	case MS_ACTION_UNCHANGED:
		return "unchanged";
	case MS_ACTION_DELETE:
		return "delete";
	case MS_ACTION_SKIP:
		return "skip";
	default:
		return "fail";
	}
}

/*
 * The next pattern of a ';'-separated list at *p into pat, trimmed and
 * lowercased; advances *p.  0 at the end of the list.  An empty or overlong
 * pattern comes out as "" (it matches nothing).
 */
static int next_pattern(const char **p, char pat[512])
{
	const char *s = *p, *semi;
	size_t n;

	if (!s)
		return 0;
	semi = strchr(s, ';');
	n = semi ? (size_t)(semi - s) : strlen(s);
	*p = semi ? semi + 1 : NULL;
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 512)
		n = 0;
	for (size_t i = 0; i < n; i++)
		pat[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	pat[n] = '\0';
	return 1;
}

int ms_selection_match(const char *patterns, const char *name)
{
	const char *p = patterns;
	char pat[512];

	if (!patterns || !*patterns)
		return 1;
	while (next_pattern(&p, pat))
		if (*pat && fnmatch(pat, name, 0) == 0)
			return 1;
	return 0;
}

void ms_selection_unmatched(const char *patterns, const char *const *names, size_t n,
			    void (*cb)(const char *pattern, void *ctx), void *ctx)
{
	const char *p = patterns;
	char pat[512];
	size_t i;

	while (p && *p && next_pattern(&p, pat)) {
		if (!*pat)
			continue;
		for (i = 0; i < n && fnmatch(pat, names[i], 0) != 0; i++)
			;
		if (i == n)
			cb(pat, ctx);
	}
}

void ms_warnings_collect(void *ctx, const char *message)
{
	ms_warnings *w = ctx;
	char **nv = realloc(w->v, (w->n + 1) * sizeof(char *));

	if (!nv)
		return;
	w->v = nv;
	if ((w->v[w->n] = strdup(message)))
		w->n++;
}

void ms_warnings_into(ms_warnings *w, ms_report *rep)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (rep)
			ms_report_add_warning(rep, w->v[i]);
		free(w->v[i]);
	}
	free(w->v);
	w->v = NULL;
	w->n = 0;
}
