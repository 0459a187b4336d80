/*
 * For driver authors: the store-driver contract.  A store holds snapshot
 * files under keys ("2026-11-25-10-00-00/tables/part-00000.json").  Put is
 * streamed and atomic from a reader's point of view: nothing is visible under
 * the key until commit.  Adding a store in the tree = its files under
 * src/lib/drivers/store/ + one row in that folder's registry.c.
 *
 * The core (registry.c) checks the driver when a store is opened
 * (ms_store_check_driver) and checks every key (ms_store_check_key) before a
 * slot sees it.  Slots are marked as in metasync/sys/catalog.h: required
 * (never NULL; refused at open), unsupported (NULL: MS_ENOTSUPPORTED naming
 * the store), no-op (NULL: nothing happens, 0).  Arguments are borrowed for
 * the call; return 0 or a negative MS_E* with err set to one line naming the
 * key (never a secret: print the base's redacted url); every slot may return
 * MS_ENOMEM and MS_EIO (MS_EBACKEND when a server answered with an error).
 */
#ifndef METASYNC_SYS_STORE_H
#define METASYNC_SYS_STORE_H

#include <stddef.h>

#include "metasync/error.h"
#include "metasync/store.h"
#include "metasync/sys/url.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layout a driver is built against; open refuses any other.  2: lock, unlock and sweep. */
#define MS_STORE_DRIVER_VERSION 2

typedef struct ms_store_driver {
	unsigned int version; /* required: MS_STORE_DRIVER_VERSION */
	const char *name;     /* required: "file", "s3" */

	/* required.  Free the store (writers and readers still open stay valid until closed). */
	void (*close)(ms_store *self);
	/*
	 * required.  *out: a new writer for key (see ms_store_writer), which
	 * replaces what the key holds when it commits.
	 */
	int (*put_open)(ms_store *self, const char *key, ms_store_writer **out, ms_error *err);
	/* required.  *out: a new reader of what key holds now.  MS_ENOTFOUND. */
	int (*get_open)(ms_store *self, const char *key, ms_store_reader **out, ms_error *err);
	/*
	 * required.  Every committed key that starts with prefix ("" for all), in
	 * byte order, to cb (borrowed for the call); 0 with no call when none.
	 */
	int (*list)(ms_store *self, const char *prefix, ms_store_list_cb cb, void *ctx,
		    ms_error *err);
	/* required.  Size and time of key.  MS_ENOTFOUND. */
	int (*stat)(ms_store *self, const char *key, ms_store_stat *out, ms_error *err);
	/* unsupported.  Remove key; MS_ENOTFOUND when absent. */
	int (*remove)(ms_store *self, const char *key, ms_error *err);
	/*
	 * no-op: hold prefix ("ID/") for this handle until unlock or close,
	 * recorded so that another process can test it.  With
	 * MS_STORE_LOCK_WRITER the record names this process as the writer.
	 * 0 taken, no earlier record; 1 taken from a holder that is gone
	 * (what it left is abandoned; holder, when not NULL, describes it);
	 * MS_ECONFLICT a live process holds it (err names it); MS_EINTEGRITY
	 * a link in the way; MS_EIO.
	 */
	int (*lock)(ms_store *self, const char *prefix, unsigned flags, char *holder,
		    size_t holder_cap, ms_error *err);
	/* no-op: release prefix; forget: drop the record too (always, when this handle made it). */
	void (*unlock)(ms_store *self, const char *prefix, int forget);
	/*
	 * no-op (gc sweeps nothing): the store's own leftovers, which are not keys (the file
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
	char *url; /* owned; redacted root URL */
};

/*
 * A writer and a reader are the driver's own structs whose first member is
 * one of these; the core calls only through them.  Every slot is required
 * unless marked.
 */
struct ms_store_writer {
	/* Append len bytes (borrowed). */
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
	/* unsupported: position at byte offset (NULL when the store cannot seek). */
	int (*seek)(ms_store_reader *r, unsigned long long offset, ms_error *err);
	void (*close)(ms_store_reader *r);
};

/*
 * The open function every store driver exports (one row per scheme in the
 * registry): url borrowed, its query parameters checked against the
 * scheme's rules.  On failure nothing stays open.  MS_EINVAL a URL the
 * driver refuses, naming it (redacted).
 */
typedef int (*ms_store_open_fn)(ms_store **out, const ms_url *url, ms_error *err);

/*
 * The check every store's driver passes when it is opened: MS_EINVAL naming
 * the driver and the fault when version is not MS_STORE_DRIVER_VERSION or a
 * required slot is NULL, or one of lock/unlock is set without the other.
 * url is the printable URL the message names.
 */
int ms_store_check_driver(const ms_store_driver *driver, const char *url, ms_error *err);

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
int ms_store_lock(ms_store *st, const char *prefix, unsigned flags, char *holder, size_t holder_cap,
		  ms_error *err);
void ms_store_unlock(ms_store *st, const char *prefix, int forget);

/* Count item into report and hand it to opts->on_item (for sweep slots). */
void ms_store_gc_note(const ms_gc_options *opts, ms_gc_report *report, const ms_gc_item *item);

#ifdef __cplusplus
}
#endif
#endif
