/*
 * Stores: where snapshots live: a local directory (file://DIR or a plain
 * path) or an S3 bucket (s3://BUCKET/PREFIX, any S3-compatible server).
 */
#ifndef METASYNC_STORE_H
#define METASYNC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "metasync/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_store ms_store;
typedef struct ms_store_writer ms_store_writer;
typedef struct ms_store_reader ms_store_reader;

typedef struct ms_store_stat {
	uint64_t size;
	int64_t mtime; /* epoch seconds, 0 when unknown */
} ms_store_stat;

/* Called per key under a prefix, in byte order of keys. */
typedef int (*ms_store_list_cb)(const char *key, const ms_store_stat *st, void *ctx, ms_error *err);

/* Open a store by URL: file://DIR, a plain path (new; ms_store_close). */
int ms_store_open(ms_store **out, const char *url, ms_error *err);
void ms_store_close(ms_store *st);
const char *ms_store_url(const ms_store *st);

int ms_store_put_open(ms_store *st, const char *key, ms_store_writer **out, ms_error *err);
int ms_store_write(ms_store_writer *w, const void *data, size_t len, ms_error *err);
int ms_store_commit(ms_store_writer *w, ms_error *err);
void ms_store_abort(ms_store_writer *w);

int ms_store_get_open(ms_store *st, const char *key, ms_store_reader **out, ms_error *err);
int ms_store_read(ms_store_reader *r, void *buf, size_t len, size_t *got, ms_error *err);
/* MS_ENOTSUPPORTED when the store cannot seek. */
int ms_store_seek(ms_store_reader *r, unsigned long long offset, ms_error *err);
void ms_store_reader_close(ms_store_reader *r);

int ms_store_list(ms_store *st, const char *prefix, ms_store_list_cb cb, void *ctx, ms_error *err);
/* MS_ENOTFOUND when the key does not exist. */
int ms_store_stat_key(ms_store *st, const char *key, ms_store_stat *out, ms_error *err);
int ms_store_remove(ms_store *st, const char *key, ms_error *err);

/* Convenience: put a whole small object; read a whole object up to cap bytes (new). */
int ms_store_put_bytes(ms_store *st, const char *key, const void *data, size_t len, ms_error *err);
int ms_store_get_bytes(ms_store *st, const char *key, size_t cap, char **out, size_t *len,
		       ms_error *err);

/*
 * Garbage collection: what killed writers left behind, and snapshots past a
 * retention.  Removed is only what is provably abandoned:
 *
 * - a temporary file whose writer is gone (the file store: no process holds
 *   the lock every writer keeps on its temporary file);
 * - an unfinished multipart upload started longer ago than the grace (s3);
 * - a snapshot folder (<YYYY-MM-DD-HH-MM-SS>/) without _SUCCESS whose
 *   writer is gone: on the file store every export holds a lock on its
 *   folder, and a folder whose lock no process holds is abandoned at once;
 *   a folder without that record (older metasync, or s3, where no lock
 *   exists) is abandoned when none of its files is newer than the grace.
 *   A folder a live writer holds is kept, and so is one shaped like a
 *   complete export of the AWS utility (a _SUCCESS in each of its three
 *   folders, no manifest.json);
 * - with keep or keep_seconds, complete snapshots (_SUCCESS and
 *   manifest.json) outside the retention, but never the one LATEST names,
 *   one newer than it, or one that a kept snapshot builds on (its
 *   manifest's parent, and so on); without a readable LATEST, none.
 *
 * A complete snapshot loses its _SUCCESS first, so that it never looks
 * complete with files missing.  Folders not named like a snapshot, and keys
 * outside folders, are never touched.
 */
typedef enum ms_gc_kind {
	MS_GC_TEMPORARY = 1, /* a temporary file (file store) */
	MS_GC_UPLOAD,        /* an unfinished multipart upload (s3) */
	MS_GC_INCOMPLETE,    /* a snapshot folder without _SUCCESS */
	MS_GC_EXPIRED        /* a complete snapshot outside the retention */
} ms_gc_kind;

/* One thing gc looked at; every string is borrowed for the callback's duration. */
typedef struct ms_gc_item {
	ms_gc_kind kind;
	const char *key;   /* "ID/" for a folder, else the key (of an upload: its object) */
	int remove;        /* 1 removed (with dry_run: would be), 0 kept */
	const char *why;   /* one line: why it is removed or kept */
	const char *error; /* the removal failed: why (NULL when it did not) */
	unsigned long long bytes, objects; /* what it holds (an upload's bytes: 0, unknown) */
} ms_gc_item;

typedef struct ms_gc_options {
	int dry_run;             /* report, remove nothing */
	unsigned long long keep; /* > 0: keep the newest `keep` complete snapshots */
	long long keep_seconds;  /* > 0: keep complete snapshots younger than this */
	/* abandonment by age: > 0 seconds, 0 the default (24 hours), < 0 none at all */
	long long grace_seconds;
	long long now; /* epoch seconds; 0: the clock */
	/* called for every item removed, and for incomplete folders kept; may be NULL */
	void (*on_item)(const ms_gc_item *item, void *ctx);
	void *ctx;
} ms_gc_options;

typedef struct ms_gc_report {
	unsigned long long removed, removed_bytes; /* items removed (dry run: would be) */
	unsigned long long failed;                 /* removals that failed */
	unsigned long long kept_snapshots;         /* complete snapshots kept */
	char latest[72];                           /* the snapshot LATEST names, "" without */
	char note[256];                            /* what could not be checked, "" when all */
} ms_gc_report;

#define MS_GC_DEFAULT_GRACE_SECONDS (24LL * 3600)

/*
 * 1 when id is a snapshot folder's name (YYYY-MM-DD-HH-MM-SS, or that and
 * "-N"), with *epoch (may be NULL) the UTC time it names; else 0.
 */
int ms_snapshot_id_time(const char *id, long long *epoch);

/*
 * Collect garbage in st under opts; *report (may be NULL) is filled.  0 when
 * everything found was handled; the first error otherwise (listing failed:
 * nothing removed; a removal failed: reported on its item, the rest goes on,
 * and MS_EIO names how many failed).
 */
int ms_store_gc(ms_store *st, const ms_gc_options *opts, ms_gc_report *report, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
