/*
 * Stores: where snapshots live (a local directory, later an S3 bucket).
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
	int64_t mtime;  /* epoch seconds, 0 when unknown */
} ms_store_stat;

/* Called per key under a prefix, in byte order of keys. */
typedef int (*ms_store_list_cb)(const char *key, const ms_store_stat *st, void *ctx,
				ms_error *err);

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

int ms_store_list(ms_store *st, const char *prefix, ms_store_list_cb cb, void *ctx,
		  ms_error *err);
/* MS_ENOTFOUND when the key does not exist. */
int ms_store_stat_key(ms_store *st, const char *key, ms_store_stat *out, ms_error *err);
int ms_store_remove(ms_store *st, const char *key, ms_error *err);

/* Convenience: put a whole small object; read a whole object up to cap bytes (new). */
int ms_store_put_bytes(ms_store *st, const char *key, const void *data, size_t len,
		       ms_error *err);
int ms_store_get_bytes(ms_store *st, const char *key, size_t cap, char **out, size_t *len,
		       ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
