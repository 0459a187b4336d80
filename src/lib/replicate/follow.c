/*
 * Live replication: a follower reads a source's change feed and applies
 * each change set to its target with the engine (ms_sync restricted to the
 * change set), so that the target keeps up with the source change by
 * change instead of run by run.
 *
 * The cursor: where the feed resumes.  It moves on only after a round
 * completed, and is written to the state file (when there is one) before
 * the next round starts, so that a crash at any moment leaves at worst a
 * change set that is applied again, which changes nothing the second time.
 * A round that ran whole starts from a cursor taken before it read
 * anything: changes made during it are applied again by the next round.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "metasync/model.h"
#include "sync_internal.h"
#include "util/buf.h"
#include "util/clock.h"

/* Partial rounds in a row whose changes are carried into the next one. */
#define MAX_RETRIES 5
#define STATE_MAX ((size_t)64 << 10)

struct ms_follower {
	ms_catalog *src, *dst;
	const ms_sync_options *o;
	const ms_follow_options *fo;
	char *cursor;         /* NULL: the next round runs whole */
	char fingerprint[65]; /* of source, target, selection and mapping */
	ms_changeset *retry;  /* a partial round's keys, applied again */
	int retries;          /* partial rounds in a row */
	double last_full;     /* monotonic seconds */
};

static long long now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* What the state file must match to be used: source, target, selection, mapping. */
static void fingerprint(ms_follower *f)
{
	const ms_sync_options *o = f->o;
	ms_buf b = MS_BUF_INIT((size_t)1 << 20);
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	ms_buf_printf(&b, "follow-v1\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n", ms_catalog_id(f->src),
		      ms_catalog_instance(f->src) ? ms_catalog_instance(f->src) : "",
		      ms_catalog_id(f->dst), o->databases ? o->databases : "*",
		      o->database_prefix ? o->database_prefix : "",
		      o->table_prefix ? o->table_prefix : "", o->adopt ? "adopt" : "");
	for (i = 0; i < o->nrenames; i++)
		ms_buf_printf(&b, "r %s\n", o->renames[i]);
	for (i = 0; i < o->nrewrites; i++)
		ms_buf_printf(&b, "w %s\n", o->location_rewrites[i]);
	SHA256((const unsigned char *)ms_buf_cstr(&b), b.len, md);
	ms_hex(md, SHA256_DIGEST_LENGTH, f->fingerprint);
	ms_buf_free(&b);
}

/*
 * The cursor of the state file, when it was written for this follower's
 * source, target and options; a file that is not there is no cursor, one
 * that cannot be read is an error naming it.
 */
static int load_state(ms_follower *f, ms_error *err)
{
	const char *path = f->fo->state_path;
	ms_buf b = MS_BUF_INIT(STATE_MAX);
	char chunk[4096];
	const cJSON *fp, *cur;
	cJSON *doc = NULL;
	FILE *in;
	size_t n;
	int rc = 0;

	if (!path)
		return 0;
	if (!(in = fopen(path, "r")))
		return errno == ENOENT
			       ? 0
			       : ms_error_set(err, MS_EIO, "cannot read state file '%s': %s", path,
					      strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0 && rc == 0)
		rc = ms_buf_add(&b, chunk, n);
	fclose(in);
	if (rc < 0 || !(doc = cJSON_Parse(ms_buf_cstr(&b)))) {
		ms_buf_free(&b);
		return ms_error_set(err, MS_EINVAL, "state file '%s' is not a follower's state",
				    path);
	}
	ms_buf_free(&b);
	fp = cJSON_GetObjectItemCaseSensitive(doc, "fingerprint");
	cur = cJSON_GetObjectItemCaseSensitive(doc, "cursor");
	if (!cJSON_IsString(fp) || !cJSON_IsString(cur)) {
		cJSON_Delete(doc);
		return ms_error_set(err, MS_EINVAL, "state file '%s' is not a follower's state",
				    path);
	}
	/* written for another source, target, selection or mapping: start whole */
	if (strcmp(fp->valuestring, f->fingerprint) == 0 && !(f->cursor = strdup(cur->valuestring)))
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
	cJSON_Delete(doc);
	return rc;
}

/* Write the cursor to the state file: a new file renamed over the old one. */
static int save_state(ms_follower *f, ms_error *err)
{
	const char *path = f->fo->state_path;
	ms_buf tmp = MS_BUF_INIT(4096 + 16);
	cJSON *doc;
	char *text = NULL;
	FILE *out = NULL;
	int rc = 0;

	if (!path || !f->cursor)
		return 0;
	if (!(doc = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(doc, "fingerprint", f->fingerprint) ||
	    !cJSON_AddStringToObject(doc, "cursor", f->cursor) ||
	    !(text = cJSON_PrintUnformatted(doc)) || ms_buf_printf(&tmp, "%s.tmp", path) < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if (!(out = fopen(ms_buf_cstr(&tmp), "w")) || fprintf(out, "%s\n", text) < 0 ||
	    fflush(out) != 0 || fsync(fileno(out)) != 0) {
		rc = ms_error_set(err, MS_EIO, "cannot write state file '%s': %s", path,
				  strerror(errno));
		goto done;
	}
	fclose(out);
	out = NULL;
	if (rename(ms_buf_cstr(&tmp), path) != 0)
		rc = ms_error_set(err, MS_EIO, "cannot write state file '%s': %s", path,
				  strerror(errno));
done:
	if (out)
		fclose(out);
	free(text);
	cJSON_Delete(doc);
	ms_buf_free(&tmp);
	return rc;
}

int ms_follower_new(ms_follower **out, ms_catalog *source, ms_catalog *target,
		    const ms_sync_options *opts, const ms_follow_options *fo, ms_error *err)
{
	ms_follower *f;
	int rc;

	*out = NULL;
	if (!(ms_catalog_caps(source) & MS_CAP_CHANGE_FEED))
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "source '%s' keeps no change feed to follow",
				    ms_catalog_url(source));
	if (opts->changes || opts->dry_run)
		return ms_error_set(err, MS_EUSAGE, "a follower applies changes: no dry run");
	if ((rc = ms_sync_options_check(opts, err)) < 0)
		return rc;
	if (!(f = calloc(1, sizeof(*f))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	f->src = source;
	f->dst = target;
	f->o = opts;
	f->fo = fo;
	fingerprint(f);
	if ((rc = load_state(f, err)) < 0) {
		ms_follower_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

void ms_follower_free(ms_follower *f)
{
	if (!f)
		return;
	free(f->cursor);
	ms_changeset_free(f->retry);
	free(f);
}

static void tell(ms_follower *f, int full, const ms_report *rep, const ms_changeset *cs,
		 const char *cursor)
{
	ms_follow_round round;

	if (!f->fo->on_round)
		return;
	memset(&round, 0, sizeof(round));
	round.full = full;
	round.report = rep;
	round.changes = cs ? ms_changeset_changes(cs) : 0;
	round.keys = cs ? ms_changeset_keys(cs) : 0;
	round.oldest_ms = cs ? ms_changeset_oldest(cs) : 0;
	round.done_ms = now_ms();
	round.cursor = cursor;
	f->fo->on_round(&round, f->fo->ctx);
}

/* A round of the whole selection, from the feed's end as it stands first. */
static int whole_round(ms_follower *f, size_t *applied, ms_error *err)
{
	ms_sync_options o = *f->o;
	ms_report *rep = NULL;
	char *head = NULL;
	int rc;

	/* where the feed ends now: changes from here on are read by the next round */
	if ((rc = ms_catalog_change_head(f->src, &head, err)) < 0)
		return rc;
	o.changes = NULL;
	rc = ms_sync(f->src, f->dst, &o, &rep, err);
	if (rc == 0) {
		free(f->cursor);
		f->cursor = head;
		head = NULL;
		f->last_full = ms_mono_s();
		/* a partial whole run is run whole again, a few times */
		if (rep->status == MS_STATUS_PARTIAL && ++f->retries < MAX_RETRIES) {
			free(f->cursor);
			f->cursor = NULL;
		} else {
			f->retries = 0;
		}
		tell(f, 1, rep, NULL, f->cursor);
		*applied = 1;
		rc = save_state(f, err);
	}
	free(head);
	ms_report_free(rep);
	return rc;
}

/* A round of what the feed says changed since the cursor. */
static int change_round(ms_follower *f, size_t *applied, ms_error *err)
{
	ms_sync_options o = *f->o;
	ms_changeset *cs = ms_changeset_new();
	ms_report *rep = NULL;
	char *next = NULL;
	int rc;

	if (!cs)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	rc = ms_catalog_changes_since(f->src, f->cursor, ms_changeset_add, cs, &next, err);
	if (rc == MS_ECONFLICT) {
		/* the feed no longer keeps the cursor: everything again */
		free(f->cursor);
		f->cursor = NULL;
		ms_changeset_free(cs);
		return whole_round(f, applied, err);
	}
	if (rc == 0 && f->retry)
		rc = ms_changeset_merge(cs, f->retry, err);
	if (rc < 0 || ms_changeset_changes(cs) == 0)
		goto done;
	o.changes = cs;
	if ((rc = ms_sync(f->src, f->dst, &o, &rep, err)) < 0)
		goto done;
	ms_changeset_free(f->retry);
	f->retry = NULL;
	if (rep->status == MS_STATUS_PARTIAL && ++f->retries < MAX_RETRIES) {
		f->retry = cs;
		cs = NULL;
	} else {
		f->retries = 0;
	}
	*applied = f->retry ? ms_changeset_changes(f->retry) : ms_changeset_changes(cs);
	tell(f, 0, rep, f->retry ? f->retry : cs, next);
done:
	if (rc == 0 && next && (!f->cursor || strcmp(next, f->cursor) != 0)) {
		free(f->cursor);
		f->cursor = next;
		next = NULL;
		rc = save_state(f, err);
	}
	free(next);
	ms_report_free(rep);
	ms_changeset_free(cs);
	return rc;
}

int ms_follower_step(ms_follower *f, size_t *applied, ms_error *err)
{
	*applied = 0;
	if (f->cursor && f->fo->reconcile > 0 && f->last_full > 0 &&
	    ms_mono_s() - f->last_full >= f->fo->reconcile) {
		free(f->cursor);
		f->cursor = NULL;
	}
	if (!f->cursor) {
		/* not since this process started: a reconcile interval counts from here */
		if (f->last_full == 0)
			f->last_full = ms_mono_s();
		return whole_round(f, applied, err);
	}
	if (f->last_full == 0)
		f->last_full = ms_mono_s();
	return change_round(f, applied, err);
}

static void pause_for(double seconds, const volatile int *stop)
{
	double end = ms_mono_s() + seconds;

	while (!(stop && *stop)) {
		double left = end - ms_mono_s();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > 0.05)
			left = 0.05;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

int ms_follow(ms_follower *f, double interval, const volatile int *stop,
	      void (*on_error)(const ms_error *err, void *ctx), void *ctx, ms_error *err)
{
	double backoff = 0;

	if (interval <= 0)
		interval = 0.1;
	while (!(stop && *stop)) {
		size_t applied = 0;
		ms_error e;
		int rc;

		ms_error_clear(&e);
		rc = ms_follower_step(f, &applied, &e);
		if (rc == MS_EREFUSED) {
			*err = e;
			return rc;
		}
		if (rc < 0) {
			if (on_error)
				on_error(&e, ctx);
			backoff = backoff ? backoff * 2 : interval * 4;
			if (backoff > 30)
				backoff = 30;
			pause_for(backoff, stop);
			continue;
		}
		backoff = 0;
		if (!applied)
			pause_for(interval, stop);
	}
	return 0;
}
