/*
 * Garbage collection of a store: what exports killed outright left behind
 * (temporary files, incomplete snapshot folders, unfinished multipart
 * uploads), and complete snapshots past a retention.  A killed export
 * cannot clean up after itself, and without this a store only grows (ten
 * killed exports of a large catalog left 1.8 GB).  The rule throughout is
 * to remove only what is provably abandoned: a folder a live writer holds is
 * never touched, and neither is LATEST's snapshot, one newer than it, or any
 * snapshot a kept one builds on.  What proves a writer gone is the store's
 * business (the file store's locks, file_lock.c); where a store has no such
 * record, long enough without a write is the proof (the grace).
 *
 * The store-independent part is here, on top of list, stat, get and remove;
 * the drivers' lock, unlock and sweep slots do the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "metasync/catalog.h"
#include "metasync/sys/store.h"

/* Largest manifest.json read for its parent, as the snapshot reader allows. */
#define MANIFEST_MAX ((size_t)256 << 20)
#define LATEST_MAX 4096
#define ID_MAX 64

enum { F_DATABASES, F_TABLES, F_PARTITIONS, F_COUNT };
static const char *const folder_names[F_COUNT] = { "databases", "tables", "partitions" };

/* One snapshot folder of the store, from the listing. */
typedef struct folder {
	char *id;    /* owned */
	char **keys; /* owned; its keys, whole */
	size_t nkeys, akeys;
	unsigned long long bytes;
	long long newest;      /* newest mtime of its keys, epoch seconds */
	int success, manifest; /* ID/_SUCCESS, ID/manifest.json */
	int folder_success[F_COUNT];
	int keep;    /* a complete snapshot the retention keeps */
	int visited; /* its parent is looked at */
} folder;

typedef struct gc_state {
	ms_store *st;
	const ms_gc_options *opts;
	ms_gc_report *report;
	long long now, grace;
	folder *folders;
	size_t nfolders, afolders;
	int rc; /* the first error */
	ms_error first;
} gc_state;

/* ------------------------------------------------------------------------ */
/* The core's side of the optional slots                                    */

int ms_store_lock(ms_store *st, const char *prefix, unsigned flags, char *holder, size_t holder_cap,
		  ms_error *err)
{
	if (holder && holder_cap)
		holder[0] = '\0';
	if (!st->driver->lock)
		return 0;
	return st->driver->lock(st, prefix, flags, holder, holder_cap, err);
}

void ms_store_unlock(ms_store *st, const char *prefix, int forget)
{
	if (st->driver->unlock)
		st->driver->unlock(st, prefix, forget);
}

void ms_store_gc_note(const ms_gc_options *opts, ms_gc_report *report, const ms_gc_item *item)
{
	if (item->remove && item->error)
		report->failed++;
	else if (item->remove) {
		report->removed++;
		report->removed_bytes += item->bytes;
	}
	if (opts->on_item)
		opts->on_item(item, opts->ctx);
}

/* ------------------------------------------------------------------------ */
/* Snapshot ids                                                             */

int ms_snapshot_id_time(const char *id, long long *epoch)
{
	static const char shape[] = "dddd-dd-dd-dd-dd-dd";
	struct tm tm = { 0 };
	size_t i;

	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !(id[i] >= '0' && id[i] <= '9') : id[i] != '-')
			return 0;
	if (id[i]) {
		if (id[i] != '-' || !id[i + 1] || strlen(id) > ID_MAX)
			return 0;
		for (i++; id[i]; i++)
			if (!(id[i] >= '0' && id[i] <= '9'))
				return 0;
	}
	if (epoch) {
		if (sscanf(id, "%4d-%2d-%2d-%2d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
			return 0;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		*epoch = (long long)timegm(&tm);
	}
	return 1;
}

/* "36h", "90m", "45s", "3d": the largest unit that divides seconds (hours up to 24h). */
static void fmt_duration(long long s, char *out, size_t cap)
{
	if (s > 86400 && s % 86400 == 0)
		snprintf(out, cap, "%lldd", s / 86400);
	else if (s > 0 && s % 3600 == 0)
		snprintf(out, cap, "%lldh", s / 3600);
	else if (s > 0 && s % 60 == 0)
		snprintf(out, cap, "%lldm", s / 60);
	else
		snprintf(out, cap, "%llds", s);
}

/* Keep the first error; later ones are on their items. */
static void gc_fail(gc_state *g, int rc, const ms_error *e)
{
	if (g->rc == 0) {
		g->rc = rc;
		if (e)
			g->first = *e;
	}
}

/* ------------------------------------------------------------------------ */
/* The listing                                                              */

static folder *folder_of(gc_state *g, const char *id, size_t n)
{
	folder *f;
	size_t i;

	for (i = g->nfolders; i-- > 0;)
		if (strlen(g->folders[i].id) == n && strncmp(g->folders[i].id, id, n) == 0)
			return &g->folders[i];
	if (g->nfolders == g->afolders) {
		size_t na = g->afolders ? g->afolders * 2 : 32;
		folder *nf = realloc(g->folders, na * sizeof(*nf));

		if (!nf)
			return NULL;
		g->folders = nf;
		g->afolders = na;
	}
	f = &g->folders[g->nfolders];
	memset(f, 0, sizeof(*f));
	if (!(f->id = strndup(id, n)))
		return NULL;
	g->nfolders++;
	return f;
}

static int list_cb(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	gc_state *g = ctx;
	const char *slash = strchr(key, '/'), *rest;
	char id[ID_MAX + 1];
	folder *f;
	int k;

	if (!slash || (size_t)(slash - key) > ID_MAX)
		return 0; /* LATEST and other keys outside folders */
	memcpy(id, key, (size_t)(slash - key));
	id[slash - key] = '\0';
	if (!ms_snapshot_id_time(id, NULL))
		return 0; /* not a snapshot's folder: not ours to judge */
	if (!(f = folder_of(g, key, (size_t)(slash - key))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (f->nkeys == f->akeys) {
		size_t na = f->akeys ? f->akeys * 2 : 16;
		char **nk = realloc(f->keys, na * sizeof(*nk));

		if (!nk)
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		f->keys = nk;
		f->akeys = na;
	}
	if (!(f->keys[f->nkeys] = strdup(key)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	f->nkeys++;
	f->bytes += st->size;
	if (st->mtime > f->newest)
		f->newest = st->mtime;
	rest = slash + 1;
	if (strcmp(rest, "_SUCCESS") == 0)
		f->success = 1;
	else if (strcmp(rest, "manifest.json") == 0)
		f->manifest = 1;
	for (k = 0; k < F_COUNT; k++) {
		size_t n = strlen(folder_names[k]);

		if (strncmp(rest, folder_names[k], n) == 0 && strcmp(rest + n, "/_SUCCESS") == 0)
			f->folder_success[k] = 1;
	}
	return 0;
}

static void folders_free(gc_state *g)
{
	size_t i, j;

	for (i = 0; i < g->nfolders; i++) {
		for (j = 0; j < g->folders[i].nkeys; j++)
			free(g->folders[i].keys[j]);
		free(g->folders[i].keys);
		free(g->folders[i].id);
	}
	free(g->folders);
}

static int complete(const folder *f)
{
	return f->success && f->manifest;
}

/* The id LATEST names, into out[ID_MAX + 1] ("" when it names none). */
static void read_latest(gc_state *g, char *out)
{
	char *text = NULL;
	size_t len = 0;
	ms_error e2;

	out[0] = '\0';
	if (ms_store_get_bytes(g->st, "LATEST", LATEST_MAX, &text, &len, &e2) < 0)
		return;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (strlen(text) == len && len <= ID_MAX && ms_snapshot_id_time(text, NULL))
		memcpy(out, text, len + 1);
	free(text);
}

/* ------------------------------------------------------------------------ */
/* Removing                                                                 */

/*
 * Remove f's keys: first (when not NULL) the ones named, in that order,
 * then the rest.  NULL, or why the first removal that failed did.
 */
static const char *remove_keys(gc_state *g, folder *f, const char *const *first, ms_error *e2)
{
	char key[ID_MAX + 32];
	size_t i;

	for (; first && *first; first++) {
		snprintf(key, sizeof(key), "%s/%s", f->id, *first);
		for (i = 0; i < f->nkeys; i++)
			if (f->keys[i] && strcmp(f->keys[i], key) == 0)
				break;
		if (i == f->nkeys)
			continue;
		if (ms_store_remove(g->st, key, e2) < 0 && e2->code != MS_ENOTFOUND)
			return e2->message;
		free(f->keys[i]);
		f->keys[i] = NULL;
	}
	for (i = f->nkeys; i-- > 0;) {
		if (!f->keys[i])
			continue;
		if (ms_store_remove(g->st, f->keys[i], e2) < 0 && e2->code != MS_ENOTFOUND)
			return e2->message;
		free(f->keys[i]);
		f->keys[i] = NULL;
	}
	return NULL;
}

/* Whether incomplete folder f is abandoned; why into why. */
static int abandoned(gc_state *g, folder *f, int lock_rc, const char *holder, char *why, size_t cap)
{
	char d[32];

	if (lock_rc == 1) {
		snprintf(why, cap, "incomplete and its writer (%s) is gone", holder);
		return 1;
	}
	if (f->folder_success[F_DATABASES] && f->folder_success[F_TABLES] &&
	    f->folder_success[F_PARTITIONS] && !f->manifest)
		return -1; /* an export of the AWS utility: complete in its own way */
	fmt_duration(g->grace, d, sizeof(d));
	if (g->grace <= 0 || f->newest <= g->now - g->grace) {
		snprintf(why, cap, "incomplete, no writer recorded and nothing written for %s%s",
			 g->grace > 0 ? "more than " : "",
			 g->grace > 0 ? d : "any time (no grace)");
		return 1;
	}
	{
		char ago[32];

		fmt_duration(g->now - f->newest > 0 ? g->now - f->newest : 0, ago, sizeof(ago));
		snprintf(why, cap,
			 "incomplete, no writer recorded, last written %s ago: kept until nothing "
			 "is written for %s",
			 ago, d);
	}
	return 0;
}

/* An incomplete folder: removed when its writer is provably gone. */
static void collect_incomplete(gc_state *g, folder *f)
{
	ms_gc_item item = { MS_GC_INCOMPLETE, NULL, 0, NULL, NULL, f->bytes, f->nkeys };
	char prefix[ID_MAX + 2], holder[256], why[512];
	static const char *const first[] = { "manifest.json", NULL };
	ms_error e2;
	int rc, verdict;

	snprintf(prefix, sizeof(prefix), "%s/", f->id);
	item.key = prefix;
	ms_error_clear(&e2);
	rc = ms_store_lock(g->st, prefix, 0, holder, sizeof(holder), &e2);
	if (rc < 0) {
		/* a live writer holds it, or it cannot be told */
		snprintf(why, sizeof(why), "%s%s",
			 rc == MS_ECONFLICT ? "in progress: " : "kept: ", e2.message);
		item.why = why;
		ms_store_gc_note(g->opts, g->report, &item);
		return;
	}
	verdict = abandoned(g, f, rc, holder, why, sizeof(why));
	if (verdict < 0) {
		ms_store_unlock(g->st, prefix, 0);
		return;
	}
	item.remove = verdict;
	item.why = why;
	if (verdict && !g->opts->dry_run)
		item.error = remove_keys(g, f, first, &e2);
	ms_store_gc_note(g->opts, g->report, &item);
	ms_store_unlock(g->st, prefix, verdict && !g->opts->dry_run && !item.error);
}

/* ------------------------------------------------------------------------ */
/* Retention                                                                */

/* The parent id of complete snapshot f, from its manifest, into out ("" when none). */
static void parent_of(gc_state *g, const folder *f, char *out)
{
	char key[ID_MAX + 32], *text = NULL;
	const cJSON *p;
	cJSON *root;
	size_t len = 0;
	ms_error e2;

	out[0] = '\0';
	snprintf(key, sizeof(key), "%s/manifest.json", f->id);
	if (ms_store_get_bytes(g->st, key, MANIFEST_MAX, &text, &len, &e2) < 0)
		return;
	root = cJSON_ParseWithLength(text, len);
	p = cJSON_GetObjectItemCaseSensitive(root, "parent");
	if (cJSON_IsString(p) && strlen(p->valuestring) <= ID_MAX &&
	    ms_snapshot_id_time(p->valuestring, NULL))
		strcpy(out, p->valuestring);
	cJSON_Delete(root);
	free(text);
}

static int by_id_desc(const void *a, const void *b)
{
	return ms_snapshot_id_cmp((*(folder *const *)b)->id, (*(folder *const *)a)->id);
}

/* Mark the complete snapshots the retention keeps, then those they build on. */
static void mark_kept(gc_state *g, const char *latest, folder **order, size_t n)
{
	unsigned long long counted = 0;
	size_t i, j;
	int grew;

	for (i = 0; i < n; i++) {
		folder *f = order[i];
		long long t = 0;
		int c = ms_snapshot_id_cmp(f->id, latest);

		ms_snapshot_id_time(f->id, &t);
		/* LATEST and any newer (an export finishing now), the newest `keep`, the young */
		f->keep = c >= 0 || (g->opts->keep && counted < g->opts->keep) ||
			  (g->opts->keep_seconds > 0 && t >= g->now - g->opts->keep_seconds);
		if (c <= 0)
			counted++;
	}
	/* what a kept snapshot builds on stays with it, however old */
	do {
		grew = 0;
		for (i = 0; i < n; i++) {
			char parent[ID_MAX + 1];

			if (!order[i]->keep || order[i]->visited)
				continue;
			order[i]->visited = 1;
			parent_of(g, order[i], parent);
			for (j = 0; parent[0] && j < n; j++)
				if (!order[j]->keep && strcmp(order[j]->id, parent) == 0)
					order[j]->keep = grew = 1;
		}
	} while (grew);
}

/* Remove the complete snapshots the retention does not keep. */
static void collect_expired(gc_state *g, const char *latest)
{
	static const char *const first[] = { "_SUCCESS", "manifest.json", NULL };
	folder **order;
	size_t i, n = 0;
	ms_error e2;

	if (!(order = malloc((g->nfolders ? g->nfolders : 1) * sizeof(folder *)))) {
		ms_error_set(&e2, MS_ENOMEM, "out of memory");
		gc_fail(g, MS_ENOMEM, &e2);
		return;
	}
	for (i = 0; i < g->nfolders; i++)
		if (complete(&g->folders[i]))
			order[n++] = &g->folders[i];
	qsort(order, n, sizeof(folder *), by_id_desc);
	if (!latest[0] || (!g->opts->keep && g->opts->keep_seconds <= 0)) {
		g->report->kept_snapshots = n;
		free(order);
		return;
	}
	mark_kept(g, latest, order, n);
	for (i = 0; i < n; i++) {
		folder *f = order[i];
		ms_gc_item item = { MS_GC_EXPIRED, NULL, 1, NULL, NULL, f->bytes, f->nkeys };
		char prefix[ID_MAX + 2], why[160], d[32];

		if (f->keep) {
			g->report->kept_snapshots++;
			continue;
		}
		snprintf(prefix, sizeof(prefix), "%s/", f->id);
		fmt_duration(g->opts->keep_seconds, d, sizeof(d));
		if (g->opts->keep)
			snprintf(why, sizeof(why), "not among the newest %llu snapshots",
				 g->opts->keep);
		else
			snprintf(why, sizeof(why), "created more than %s ago", d);
		item.key = prefix;
		item.why = why;
		if (!g->opts->dry_run)
			item.error = remove_keys(g, f, first, &e2);
		ms_store_gc_note(g->opts, g->report, &item);
	}
	free(order);
}

/* ------------------------------------------------------------------------ */

int ms_store_gc(ms_store *st, const ms_gc_options *opts, ms_gc_report *report, ms_error *err)
{
	static const ms_gc_options none;
	ms_gc_report scratch;
	gc_state g = { 0 };
	char latest[ID_MAX + 1];
	ms_error e2;
	size_t i;
	int rc;

	if (!opts)
		opts = &none;
	if (!report)
		report = &scratch;
	memset(report, 0, sizeof(*report));
	g.st = st;
	g.opts = opts;
	g.report = report;
	g.now = opts->now ? opts->now : (long long)time(NULL);
	g.grace = opts->grace_seconds > 0    ? opts->grace_seconds
		  : opts->grace_seconds == 0 ? MS_GC_DEFAULT_GRACE_SECONDS
					     : 0;
	if ((rc = ms_store_list(st, "", list_cb, &g, err)) < 0)
		goto done;
	read_latest(&g, latest);
	snprintf(report->latest, sizeof(report->latest), "%s", latest);
	for (i = 0; i < g.nfolders; i++)
		if (!complete(&g.folders[i]) && strcmp(g.folders[i].id, latest) != 0)
			collect_incomplete(&g, &g.folders[i]);
	collect_expired(&g, latest);
	if ((opts->keep || opts->keep_seconds > 0) && !latest[0])
		snprintf(report->note, sizeof(report->note),
			 "LATEST names no snapshot: no complete snapshot was removed");
	if (st->driver->sweep) {
		ms_error_clear(&e2);
		rc = st->driver->sweep(st, opts, g.grace, report, &e2);
		if (rc == MS_ENOTSUPPORTED)
			snprintf(report->note, sizeof(report->note), "%s", e2.message);
		else if (rc < 0)
			gc_fail(&g, rc, &e2);
	}
	if (g.rc < 0) {
		rc = g.rc;
		if (err)
			*err = g.first;
	} else if (report->failed) {
		rc = ms_error_set(err, MS_EIO, "%llu of the removals in '%s' failed",
				  report->failed, ms_store_url(st));
	} else {
		rc = 0;
	}
done:
	folders_free(&g);
	return rc;
}
