/*
 * The engine's report: counts per action and kind, the events callers
 * watch, errors and warnings, and progress.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync_internal.h"
#include "util/buf.h"
#include "util/clock.h"

static ms_counts *counts_for(ms_report *rep, ms_kind kind)
{
	return kind == MS_KIND_DATABASE ? &rep->databases
	       : kind == MS_KIND_TABLE  ? &rep->tables
					: &rep->partitions;
}

void sync_count_action(ms_counts *c, ms_action a, long long n)
{
	switch (a) {
	case MS_ACTION_CREATE:
		c->created += n;
		break;
	case MS_ACTION_UPDATE:
		c->updated += n;
		break;
	case MS_ACTION_UNCHANGED:
		c->unchanged += n;
		break;
	case MS_ACTION_DELETE:
		c->deleted += n;
		break;
	case MS_ACTION_SKIP:
		c->skipped += n;
		break;
	default:
		c->failed += n;
		break;
	}
}

void sync_lock(run *r)
{
	if (r->lock)
		pthread_mutex_lock(r->lock);
}

void sync_unlock(run *r)
{
	if (r->lock)
		pthread_mutex_unlock(r->lock);
}

void sync_event(run *r, ms_action a, ms_kind kind, const char *db, const char *table,
		const char *vkey, const char *reason)
{
	sync_lock(r);
	sync_count_action(counts_for(r->rep, kind), a, 1);
	if (a == MS_ACTION_DELETE)
		r->top->deletes++;
	if (a != MS_ACTION_UNCHANGED && r->o->on_change) {
		ms_change_event ev = { a, kind, db, table, vkey, reason };
		r->o->on_change(&ev, r->o->ctx);
	}
	sync_unlock(r);
}

void sync_add_error(run *r, const char *db, const char *table, const char *vkey,
		    const char *message)
{
	ms_buf b = MS_BUF_INIT(8192);

	ms_buf_adds(&b, db);
	if (table) {
		ms_buf_addc(&b, '.');
		ms_buf_adds(&b, table);
	}
	if (vkey)
		ms_buf_adds(&b, vkey);
	sync_lock(r);
	(void)ms_report_add_error(r->rep, ms_buf_cstr(&b), message);
	sync_unlock(r);
	ms_buf_free(&b);
}

void sync_fail(run *r, ms_kind kind, const char *db, const char *table, const char *vkey,
	       const ms_error *e)
{
	if (r->apply)
		sync_add_error(r, db, table, vkey, e->message);
	sync_event(r, MS_ACTION_FAIL, kind, db, table, vkey, e->message);
}

void sync_progress(run *r, unsigned long long n)
{
	run *top = r->top;
	double t;

	sync_lock(r);
	top->done += n;
	if (r->o->progress && r->apply) {
		t = ms_mono_s();
		if (t - top->last_progress >= 0.2) {
			top->last_progress = t;
			r->o->progress(top->done, top->total, r->o->ctx);
		}
	}
	sync_unlock(r);
}

/* Add a report warning, "<entity>: <message>" as ms_report_add_warning reads it. */
void sync_warnf(run *r, const char *fmt, ...)
{
	ms_buf b = MS_BUF_INIT(8192);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ms_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0) {
		sync_lock(r);
		ms_report_add_warning(r->rep, ms_buf_cstr(&b));
		sync_unlock(r);
	}
	ms_buf_free(&b);
}

/* Tell an adoption in the report: from now on mirror deletes may remove the entity. */
void sync_note_adopted(run *r, const char *db, const char *table, const char *reason)
{
	if (r->final)
		sync_warnf(r, "%s%s%s: %s; mirror deletes may remove it from now on", db,
			   table ? "." : "", table ? table : "", reason);
}
