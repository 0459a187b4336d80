/*
 * Shared between the file store (file.c: objects) and its locks and sweep
 * (file_lock.c: what tells a live writer from a dead one).  Nothing here is
 * public API.
 */
#ifndef MS_STORE_FILE_INTERNAL_H
#define MS_STORE_FILE_INTERNAL_H

#include <stddef.h>

#include "metasync/sys/store.h"

/* A held folder lock (file_lock.c). */
typedef struct file_lock file_lock;

typedef struct file_store {
	ms_store base;
	char *root;       /* owned; no trailing slash except for "/" itself */
	file_lock *locks; /* owned; the folders this handle holds */
} file_store;

/*
 * A folder's lock file: `ID/.ms-tmp-lock`, under the reserved prefix, so it
 * is never a key and list skips it.  Its writer holds flock(LOCK_EX) on it
 * while it writes, and removes it when done; a lock file no process holds
 * is what a writer that died left.
 */
#define FSTORE_LOCK_NAME MS_STORE_TMP_PREFIX "lock"

/* root + "/" + the first kl bytes of key, or the whole key (new; NULL: out of memory). */
char *fstore_join_n(const file_store *fs, const char *key, size_t kl);
char *fstore_join_path(const file_store *fs, const char *key);
/* "cannot WHAT 'PATH'" with strerror(e) as detail: MS_ENOTFOUND for ENOENT, else MS_EIO. */
int fstore_io_error(ms_error *err, int e, const char *what, const char *path);
/* MS_EINTEGRITY naming the link at the first len bytes of key under the root. */
int fstore_link_error(const file_store *fs, const char *key, size_t len, ms_error *err);
/*
 * Open the directory named by the first len bytes of key (0: the root)
 * without following a link below the root; create: make what is missing.
 * 0 with *dfd new, else an errno value (ELOOP: a link) and *at the length
 * of key to the end of the component that failed.
 */
int fstore_walk_dirs(const file_store *fs, const char *key, size_t len, int create, int *dfd,
		     size_t *at);
/* fstore_walk_dirs for the directory of key's last component, named *base. */
int fstore_walk_parent(const file_store *fs, const char *key, int create, int *dfd,
		       const char **base, size_t *at);
/* Remove the directories above key that are empty, deepest first (never the root). */
void fstore_prune_parents(const file_store *fs, const char *key);

/* The driver slots of file_lock.c. */
int fstore_lock(ms_store *self, const char *prefix, unsigned flags, char *holder, size_t holder_cap,
		ms_error *err);
void fstore_unlock(ms_store *self, const char *prefix, int forget);
/* Release every lock this handle holds, forgetting them (close). */
void fstore_unlock_all(file_store *fs);
int fstore_sweep(ms_store *self, const ms_gc_options *opts, long long grace_seconds,
		 ms_gc_report *report, ms_error *err);
/*
 * Take the lock every writer holds on its temporary file fd (just created
 * as name in dfd): 0, or -1 when the file was removed meanwhile (by a sweep
 * that found it unlocked): make another.
 */
int fstore_hold_tmp(int fd);

#endif
