/*
 * For driver authors: the store-driver vtable.  A store holds snapshot files
 * under keys ("2026-11-25-10-00-00/tables/part-00000.json").  Put is
 * streamed and atomic from a reader's point of view: nothing is visible under
 * the key until commit.  Adding a store = one file + one row in
 * src/lib/drivers/store/registry.c.
 */
#ifndef METASYNC_SYS_STORE_H
#define METASYNC_SYS_STORE_H

#include "metasync/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2: the optional lock, unlock and sweep slots */
#define MS_STORE_DRIVER_VERSION 2

struct ms_url;

typedef struct ms_store_driver {
	unsigned int version;   /* MS_STORE_DRIVER_VERSION */
	const char *name;       /* "file", "s3" */

	void (*close)(ms_store *self);
	int (*put_open)(ms_store *self, const char *key, ms_store_writer **out, ms_error *err);
	int (*get_open)(ms_store *self, const char *key, ms_store_reader **out, ms_error *err);
	int (*list)(ms_store *self, const char *prefix, ms_store_list_cb cb, void *ctx,
		    ms_error *err);
	int (*stat)(ms_store *self, const char *key, ms_store_stat *out, ms_error *err);
	int (*remove)(ms_store *self, const char *key, ms_error *err);
	/*
	 * Optional: hold prefix ("ID/") for this handle until unlock or close,
	 * recorded so that another process can test it.  With
	 * MS_STORE_LOCK_WRITER the record names this process as the writer.
	 * 0 taken, no earlier record; 1 taken from a holder that is gone
	 * (what it left is abandoned; holder, when not NULL, describes it);
	 * MS_ECONFLICT a live process holds it (err names it); MS_EINTEGRITY
	 * a link in the way; MS_EIO.
	 */
	int (*lock)(ms_store *self, const char *prefix, unsigned flags, char *holder,
		    size_t holder_cap, ms_error *err);
	/* Optional: release prefix; forget: drop the record too (always, when this handle made it). */
	void (*unlock)(ms_store *self, const char *prefix, int forget);
	/*
	 * Optional: the store's own leftovers, which are not keys (the file
	 * store's temporary files whose writer is gone, s3's multipart uploads
	 * older than the grace): each to opts->on_item and, unless dry_run,
	 * removed; counted into report.  MS_ENOTSUPPORTED when the server
	 * cannot say (err says why; nothing else went wrong).
	 */
	int (*sweep)(ms_store *self, const ms_gc_options *opts, long long grace_seconds,
		     ms_gc_report *report, ms_error *err);
} ms_store_driver;

struct ms_store {
	const ms_store_driver *driver;
	char *url;   /* owned; redacted root URL */
};

struct ms_store_writer {
	/* Append len bytes. */
	int (*write)(ms_store_writer *w, const void *data, size_t len, ms_error *err);
	/*
	 * Make the object visible under its key and free w (also on failure).
	 * A store may finish the object in the background after commit
	 * returns: it is then visible to every later operation on the same
	 * store, and a failure to finish it is returned by the next one.
	 */
	int (*commit)(ms_store_writer *w, ms_error *err);
	/* Discard everything written and free w. */
	void (*abort)(ms_store_writer *w);
};

struct ms_store_reader {
	/* Read up to len bytes into buf; *got = 0 at the end. */
	int (*read)(ms_store_reader *r, void *buf, size_t len, size_t *got, ms_error *err);
	/* Optional: position at byte offset (NULL when the store cannot seek). */
	int (*seek)(ms_store_reader *r, unsigned long long offset, ms_error *err);
	void (*close)(ms_store_reader *r);
};

typedef int (*ms_store_open_fn)(ms_store **out, const struct ms_url *url, ms_error *err);

/* Names of objects being written, never a key (the same on every store). */
#define MS_STORE_TMP_PREFIX ".ms-tmp-"

/*
 * 0 if key is a safe relative key of at most max bytes, else MS_EINVAL
 * naming it: not absolute, no control character or backslash, no empty,
 * "." or ".." component, nothing under MS_STORE_TMP_PREFIX.  With
 * allow_prefix set, the last component may be empty or partial (a list
 * prefix such as "2026-01-01-00-00-00/", or "" for everything).
 */
int ms_store_check_key(const char *key, size_t max, int allow_prefix, ms_error *err);

#define MS_STORE_LOCK_WRITER 0x1

/*
 * The lock and unlock slots for the core (a snapshot writer holds its
 * folder, gc the folder it removes): 0 on stores without them.
 */
int ms_store_lock(ms_store *st, const char *prefix, unsigned flags, char *holder,
		  size_t holder_cap, ms_error *err);
void ms_store_unlock(ms_store *st, const char *prefix, int forget);

/* Count item into report and hand it to opts->on_item (for sweep slots). */
void ms_store_gc_note(const ms_gc_options *opts, ms_gc_report *report, const ms_gc_item *item);

#ifdef __cplusplus
}
#endif
#endif
