/*
 * Fuzz target: a CloudEvents message as a target agent reads it from the
 * bus: parsed and checked, then, for io.metasync.snapshot.created, its
 * snapshot URL checked and its id ordered against another.  Every error
 * must stay one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metasync/catalog.h"
#include "metasync/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const ms_error *err)
{
	if (strchr(err->message, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_event *ev = NULL;
	ms_error err;
	const char *id;

	ms_error_clear(&err);
	if (ms_event_parse((const char *)data, size, &ev, &err) < 0) {
		one_line(&err);
		return 0;
	}
	(void)ms_event_source_name(ev);
	if (strcmp(ev->type, MS_EVENT_SNAPSHOT_CREATED) == 0) {
		ms_error_clear(&err);
		if (ms_event_check_snapshot_url(ms_event_str(ev, "snapshot"), &err) < 0)
			one_line(&err);
		(void)ms_event_str(ev, "manifest_sha256");
		if ((id = ms_event_str(ev, "snapshot_id")))
			(void)ms_snapshot_id_cmp(id, "2026-01-01-00-00-00-1");
	}
	ms_event_free(ev);
	return 0;
}
