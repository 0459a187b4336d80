/*
 * CloudEvents 1.0 JSON: building metasync's events and checking the ones a
 * bus delivers (which may come from anywhere: every field is checked before
 * use, the snapshot URL above all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metasync/bus.h"
#include "metasync/event.h"
#include "model/model_internal.h"
#include "util/url.h"

static int bad(ms_error *err, const char *what)
{
	return ms_error_set(err, MS_EINVAL, "event is not valid cloudevents json: %s", what);
}

static char *dup_member(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

void ms_event_free(ms_event *ev)
{
	if (!ev)
		return;
	free(ev->id);
	free(ev->source);
	free(ev->type);
	free(ev->time);
	free(ev->subject);
	cJSON_Delete(ev->data);
	free(ev);
}

/* A required attribute: a non-empty string of at most 1024 bytes. */
static int required(const cJSON *root, const char *k, ms_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, k);
	char what[96];

	if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 1024) {
		snprintf(what, sizeof(what), "'%s' is missing, empty or not a string", k);
		return bad(err, what);
	}
	return 0;
}

int ms_event_parse(const char *text, size_t len, ms_event **out, ms_error *err)
{
	cJSON *root = NULL, *data;
	const cJSON *v;
	ms_event *ev = NULL;
	double t;
	int rc;

	*out = NULL;
	if (!text || len == 0)
		return bad(err, "empty message");
	if (len > MS_EVENT_MAX)
		return bad(err, "larger than 1 MiB");
	if (memchr(text, '\0', len))
		return bad(err, "contains a NUL byte");
	if (!(root = cJSON_ParseWithLength(text, len)) || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return bad(err, "not a JSON object");
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "specversion");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "1.0") != 0) {
		rc = bad(err, "'specversion' is not \"1.0\"");
		goto done;
	}
	if ((rc = required(root, "id", err)) < 0 || (rc = required(root, "source", err)) < 0 ||
	    (rc = required(root, "type", err)) < 0)
		goto done;
	v = cJSON_GetObjectItemCaseSensitive(root, "time");
	if (v && (!cJSON_IsString(v) || ms_model_time_iso(v->valuestring, &t) < 0)) {
		rc = bad(err, "'time' is not an RFC 3339 timestamp");
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "datacontenttype");
	if (v && (!cJSON_IsString(v) || strncmp(v->valuestring, "application/json", 16) != 0)) {
		rc = bad(err, "'datacontenttype' is not application/json");
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "subject");
	if (v && !cJSON_IsString(v)) {
		rc = bad(err, "'subject' is not a string");
		goto done;
	}
	data = cJSON_DetachItemFromObjectCaseSensitive(root, "data");
	if (!cJSON_IsObject(data)) {
		cJSON_Delete(data);
		rc = bad(err, "'data' is missing or not an object");
		goto done;
	}
	if (!(ev = calloc(1, sizeof(*ev)))) {
		cJSON_Delete(data);
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	ev->data = data;
	ev->id = dup_member(root, "id");
	ev->source = dup_member(root, "source");
	ev->type = dup_member(root, "type");
	ev->time = dup_member(root, "time");
	ev->subject = dup_member(root, "subject");
	if (!ev->id || !ev->source || !ev->type) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	*out = ev;
	ev = NULL;
	rc = 0;
done:
	ms_event_free(ev);
	cJSON_Delete(root);
	return rc;
}

const char *ms_event_str(const ms_event *ev, const char *k)
{
	const cJSON *v = ev && ev->data ? cJSON_GetObjectItemCaseSensitive(ev->data, k) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void now_rfc3339(char out[40])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

char *ms_event_build(const char *type, const char *source, const char *subject, cJSON *data,
		     ms_error *err)
{
	cJSON *root = cJSON_CreateObject();
	char id[37], when[40], *text = NULL;

	if (!root || !data || ms_model_uuid4(id) < 0) {
		ms_error_set(err, MS_ENOMEM, "cannot build a '%s' event", type);
		goto done;
	}
	now_rfc3339(when);
	if (!cJSON_AddStringToObject(root, "specversion", "1.0") ||
	    !cJSON_AddStringToObject(root, "id", id) ||
	    !cJSON_AddStringToObject(root, "source", source) ||
	    !cJSON_AddStringToObject(root, "type", type) ||
	    (subject && !cJSON_AddStringToObject(root, "subject", subject)) ||
	    !cJSON_AddStringToObject(root, "time", when) ||
	    !cJSON_AddStringToObject(root, "datacontenttype", "application/json")) {
		ms_error_set(err, MS_ENOMEM, "cannot build a '%s' event", type);
		goto done;
	}
	cJSON_AddItemToObject(root, "data", data);
	data = NULL;
	if (!(text = cJSON_PrintUnformatted(root)))
		ms_error_set(err, MS_ENOMEM, "cannot build a '%s' event", type);
done:
	cJSON_Delete(data);
	cJSON_Delete(root);
	return text;
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* The ';'-separated selection as an array of names or globs (all: null). */
static void add_selection(cJSON *o, const char *selection)
{
	cJSON *arr;
	const char *p = selection, *q;
	char buf[1024];

	if (!selection || !selection[0]) {
		cJSON_AddNullToObject(o, "databases");
		return;
	}
	if (!(arr = cJSON_AddArrayToObject(o, "databases")))
		return;
	while (*p) {
		size_t n;

		q = strchr(p, ';');
		n = q ? (size_t)(q - p) : strlen(p);
		if (n > 0 && n < sizeof(buf)) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
		}
		p += n;
		if (*p == ';')
			p++;
	}
}

cJSON *ms_event_snapshot_data(const ms_snapshot_info *info, const char *parent)
{
	cJSON *d = cJSON_CreateObject(), *c;

	if (!d)
		return NULL;
	add_str_or_null(d, "snapshot", info->url);
	add_str_or_null(d, "snapshot_id", info->id);
	add_str_or_null(d, "manifest_sha256",
			info->manifest_sha256[0] ? info->manifest_sha256 : NULL);
	add_str_or_null(d, "source_catalog_id", info->source_catalog_id);
	add_str_or_null(d, "created", info->created);
	add_selection(d, info->selection);
	if ((c = cJSON_AddObjectToObject(d, "counts"))) {
		cJSON_AddNumberToObject(c, "databases", (double)info->databases);
		cJSON_AddNumberToObject(c, "tables", (double)info->tables);
		cJSON_AddNumberToObject(c, "partitions", (double)info->partitions);
	}
	/* an incremental snapshot names its own parent: the chain it extends */
	add_str_or_null(d, "parent", info->parent ? info->parent : parent);
	if (info->parent) {
		cJSON_AddBoolToObject(d, "incremental", 1);
		add_str_or_null(d, "base", info->base);
		cJSON_AddNumberToObject(d, "tombstones", (double)info->tombstones);
		cJSON_AddNumberToObject(d, "changes", (double)info->changes);
		if (info->oldest_change_ms > 0)
			cJSON_AddNumberToObject(d, "oldest_change_ms",
						(double)info->oldest_change_ms);
	}
	/* an export by the AWS utility: no manifest to check it against */
	cJSON_AddBoolToObject(d, "allow_no_manifest", info->manifest_sha256[0] == '\0');
	return d;
}

static void add_counts(cJSON *o, const char *k, const ms_counts *c)
{
	cJSON *x = cJSON_AddObjectToObject(o, k);

	if (!x)
		return;
	cJSON_AddNumberToObject(x, "created", (double)c->created);
	cJSON_AddNumberToObject(x, "updated", (double)c->updated);
	cJSON_AddNumberToObject(x, "unchanged", (double)c->unchanged);
	cJSON_AddNumberToObject(x, "deleted", (double)c->deleted);
	cJSON_AddNumberToObject(x, "skipped", (double)c->skipped);
	cJSON_AddNumberToObject(x, "failed", (double)c->failed);
}

cJSON *ms_event_import_data(const char *target, const char *snapshot_url, const char *snapshot_id,
			    const ms_report *report, const ms_error *failure)
{
	cJSON *d = cJSON_CreateObject(), *c, *errs;
	size_t i;

	if (!d)
		return NULL;
	add_str_or_null(d, "target", target);
	add_str_or_null(d, "snapshot", snapshot_url);
	add_str_or_null(d, "snapshot_id", snapshot_id);
	if (report) {
		cJSON_AddStringToObject(d, "status", ms_status_name(report->status));
		if ((c = cJSON_AddObjectToObject(d, "counts"))) {
			add_counts(c, "databases", &report->databases);
			add_counts(c, "tables", &report->tables);
			add_counts(c, "partitions", &report->partitions);
		}
		cJSON_AddNumberToObject(d, "seconds", report->seconds);
	} else {
		cJSON_AddStringToObject(d, "status", "error");
	}
	if ((errs = cJSON_AddArrayToObject(d, "errors"))) {
		for (i = 0; report && i < report->nerrors && i < 100; i++) {
			cJSON *e = cJSON_CreateObject();

			if (!e)
				break;
			add_str_or_null(e, "entity", report->errors[i].entity);
			add_str_or_null(e, "message", report->errors[i].message);
			cJSON_AddItemToArray(errs, e);
		}
		if (failure && failure->message[0]) {
			cJSON *e = cJSON_CreateObject();

			if (e) {
				cJSON_AddNullToObject(e, "entity");
				cJSON_AddStringToObject(e, "message", failure->message);
				cJSON_AddItemToArray(errs, e);
			}
		}
	}
	return d;
}

cJSON *ms_event_error_data(const char *stage, const char *target, const char *snapshot_url,
			   const char *entity, const char *message)
{
	cJSON *d = cJSON_CreateObject();

	if (!d)
		return NULL;
	add_str_or_null(d, "stage", stage);
	add_str_or_null(d, "target", target);
	add_str_or_null(d, "snapshot", snapshot_url);
	add_str_or_null(d, "entity", entity);
	add_str_or_null(d, "message", message);
	return d;
}

int ms_event_check_snapshot_url(const char *url, ms_error *err)
{
	ms_url *u = NULL;
	const char *p, *seg;
	char *shown;
	int rc = 0;

	if (!url || !url[0])
		return ms_error_set(err, MS_EINVAL, "event names no snapshot");
	for (p = url; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ms_error_set(err, MS_EINVAL,
					    "snapshot url in the event has a control character");
	shown = ms_url_redact(url);
	if ((rc = ms_url_parse(&u, url, err)) < 0)
		goto done;
	if (strcmp(u->scheme, "file") != 0 && strcmp(u->scheme, "s3") != 0) {
		rc = ms_error_set(err, MS_EINVAL,
				  "snapshot url '%s' in the event: scheme '%s' is "
				  "not file or s3",
				  shown ? shown : "", u->scheme);
		goto done;
	}
	if (u->nparams > 0 || strchr(url, '?')) {
		rc = ms_error_set(err, MS_EINVAL, "snapshot url '%s' in the event has a query",
				  shown ? shown : "");
		goto done;
	}
	if (strcmp(u->scheme, "file") == 0 && u->path[0] != '/') {
		rc = ms_error_set(err, MS_EINVAL, "snapshot url '%s' in the event is not absolute",
				  shown ? shown : "");
		goto done;
	}
	for (seg = u->path; seg && *seg;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			rc = ms_error_set(err, MS_EINVAL,
					  "snapshot url '%s' in the event has a '%.*s' segment",
					  shown ? shown : "", (int)n, seg);
			goto done;
		}
		seg = end ? end + 1 : NULL;
	}
done:
	free(shown);
	ms_url_free(u);
	return rc;
}

const char *ms_event_source_name(const ms_event *ev)
{
	static const char pfx[] = "/metasync/";

	if (strncmp(ev->source, pfx, sizeof(pfx) - 1) == 0 && ev->source[sizeof(pfx) - 1])
		return ev->source + sizeof(pfx) - 1;
	return ev->source;
}

int ms_event_publish_snapshot(const char *bus_url, const char *name, const ms_snapshot_info *info,
			      const char *parent, ms_error *err)
{
	char source[300], *text;
	ms_bus *bus = NULL;
	int rc;

	if (!info->url)
		return ms_error_set(err, MS_EINVAL, "no finished snapshot to announce");
	/* never announce what every agent would refuse */
	if ((rc = ms_event_check_snapshot_url(info->url, err)) < 0)
		return rc;
	snprintf(source, sizeof(source), "/metasync/%s", name && name[0] ? name : "metasync");
	if (!(text = ms_event_build(MS_EVENT_SNAPSHOT_CREATED, source, info->id,
				    ms_event_snapshot_data(info, parent), err)))
		return MS_ENOMEM;
	if ((rc = ms_bus_open(&bus, bus_url, err)) == 0) {
		rc = ms_bus_publish(bus, MS_STREAM_SNAPSHOTS, text, strlen(text), err);
		ms_bus_close(bus);
	}
	free(text);
	return rc;
}
