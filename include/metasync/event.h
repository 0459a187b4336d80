/*
 * Events: CloudEvents 1.0 in JSON (structured mode), what metasync puts on
 * a bus.  Types:
 *
 *   io.metasync.snapshot.created   data: snapshot (URL), snapshot_id,
 *                                  manifest_sha256, source_catalog_id,
 *                                  created, databases, counts, parent
 *   io.metasync.import.succeeded   data: target, snapshot, snapshot_id,
 *   io.metasync.import.failed            status, counts, errors, seconds
 *                                  (the sync's), from the agent also
 *                                  source_catalog_id and wall_seconds (the
 *                                  whole import: opening and checking the
 *                                  snapshot, the sync, closing the target)
 *   io.metasync.error              data: stage, entity, message (+ target,
 *                                  snapshot when known)
 */
#ifndef METASYNC_EVENT_H
#define METASYNC_EVENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "metasync/catalog.h"
#include "metasync/error.h"
#include "metasync/replicate.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_EVENT_SNAPSHOT_CREATED "io.metasync.snapshot.created"
#define MS_EVENT_IMPORT_SUCCEEDED "io.metasync.import.succeeded"
#define MS_EVENT_IMPORT_FAILED "io.metasync.import.failed"
#define MS_EVENT_ERROR "io.metasync.error"

#define MS_EVENT_MAX ((size_t)1 << 20) /* largest event accepted */

typedef struct ms_event {
	char *id;
	char *source;
	char *type;
	char *time;    /* NULL when absent */
	char *subject; /* NULL when absent */
	cJSON *data;   /* an object; owned */
} ms_event;

/*
 * Check and parse a structured-mode CloudEvents 1.0 JSON event: an object
 * with specversion "1.0" and non-empty string id, source and type; time, when
 * present, RFC 3339; datacontenttype, when present, application/json; data
 * an object.  MS_EINVAL names what is wrong.
 */
int ms_event_parse(const char *text, size_t len, ms_event **out, ms_error *err);
void ms_event_free(ms_event *ev);

/*
 * A new event as JSON text (new; free): a random UUID id, time now, data
 * stolen (also on failure).
 */
char *ms_event_build(const char *type, const char *source, const char *subject, cJSON *data,
		     ms_error *err);

/* data of io.metasync.snapshot.created (new). */
cJSON *ms_event_snapshot_data(const ms_snapshot_info *info, const char *parent);
/* data of io.metasync.import.succeeded/failed (new); report may be NULL. */
cJSON *ms_event_import_data(const char *target, const char *snapshot_url, const char *snapshot_id,
			    const ms_report *report, const ms_error *failure);
/* data of io.metasync.error (new). */
cJSON *ms_event_error_data(const char *stage, const char *target, const char *snapshot_url,
			   const char *entity, const char *message);

/*
 * Events from metasync's own roles have source "/metasync/NAME" (NAME: the
 * agent's source name, or the source catalog's id for `export --notify`).
 * The name of an event's source: NAME for such a source, else the whole.
 */
const char *ms_event_source_name(const ms_event *ev);

/*
 * Publish io.metasync.snapshot.created for a finished export on the bus at
 * bus_url (opened and closed here), with source "/metasync/" + name.
 */
int ms_event_publish_snapshot(const char *bus_url, const char *name, const ms_snapshot_info *info,
			      const char *parent, ms_error *err);

/*
 * A small snapshot carried in its event, so that a target need not read the
 * store: data.inline is an object of file path -> text ("manifest.json",
 * "tables/part-00000.json", ...; uncompressed snapshots only).
 * ms_event_inline_files reads the snapshot info names from the store at
 * store_url: a new object, or NULL (*err clear) when its files pass
 * max_bytes or are compressed.
 */
cJSON *ms_event_inline_files(const char *store_url, const ms_snapshot_info *info, size_t max_bytes,
			     ms_error *err);
/*
 * Write an event's inline files into the empty folder dir as a snapshot
 * folder (with its _SUCCESS markers), to be opened and checked against the
 * event's manifest_sha256 like any snapshot.  A path that is not one a
 * snapshot holds is MS_EINVAL, naming it.
 */
int ms_event_inline_write(const cJSON *files, const char *dir, ms_error *err);

/* String member k of an event's data, or NULL. */
const char *ms_event_str(const ms_event *ev, const char *k);

/*
 * Check a snapshot URL taken from an event before it is opened: a local
 * absolute path or file:// URL, or s3://; no "." or ".." segment, no
 * control characters, no query.  MS_EINVAL names it (redacted).
 */
int ms_event_check_snapshot_url(const char *url, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
