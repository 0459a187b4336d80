/*
 * Shared between the files of the snapshot catalog driver (snapshot.c and
 * snapshot_*.c): the instance with its records of databases, tables, part
 * files and partition spans, the line source that reads a part file, and
 * the functions more than one file calls.  Nothing here is public API.
 */
#ifndef MS_CATALOG_SNAPSHOT_INTERNAL_H
#define MS_CATALOG_SNAPSHOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"

#define IO_CHUNK ((size_t)1 << 20)        /* uncompressed read and write chunk */
#define GZ_CHUNK ((size_t)256 << 10)      /* compressed read and write chunk */
#define LINE_MAX_BYTES ((size_t)64 << 20) /* longest snapshot line accepted */
#define MANIFEST_MAX ((size_t)256 << 20)  /* largest manifest.json read or written */
#define LATEST_MAX 4096
#define SNAPSHOT_ID_MAX 64
#define NAME_BUF 1024 /* folded names longer than this match nothing */
#define NONE ((size_t)-1)

enum { F_DATABASES = 0, F_TABLES = 1, F_PARTITIONS = 2, F_COUNT = 3 };
/*
 * The folder of an incremental snapshot's deletes: not one of the F_COUNT
 * folders of entities (nothing indexed by folder holds it), read whole at
 * open (snapshot_tomb.c).
 */
#define F_TOMBSTONES F_COUNT
#define TOMBSTONES_MAX ((size_t)256 << 20)

/* "databases", "tables", "partitions": the folder names, by F_* (snapshot.c). */
extern const char *const snap_folder_names[F_COUNT];

/* A run of consecutive partition lines of one table in one file. */
typedef struct span {
	size_t file;     /* index into snapshot.files */
	uint64_t offset; /* uncompressed byte offset of the first line */
	uint64_t bytes;  /* uncompressed bytes, newlines included */
	uint64_t lines;
} span;

typedef struct db_rec {
	char *name;        /* owned */
	ms_entity *entity; /* owned; NULL in the writer */
} db_rec;

/*
 * A partition's values as a fingerprint: the first 128 bits of a SHA-256 of
 * each value's length and bytes.  Two different value lists share one only
 * through a SHA-256 collision on 128 bits, so a set of partitions costs 24
 * bytes a partition and never holds the values themselves (a table may
 * have millions).
 */
#define FP_LEN 16

typedef struct fp_slot {
	unsigned char fp[FP_LEN];
	uint32_t file; /* index + 1 into files where it was first seen; 0: empty slot */
	uint32_t line; /* line number in that file (saturated) */
} fp_slot;

typedef struct fpset {
	fp_slot *slots; /* owned; open addressing */
	size_t cap, n;
} fpset;

typedef struct table_rec {
	char *database;                  /* owned */
	char *name;                      /* owned */
	ms_entity *entity;               /* owned; NULL in the writer (and until loaded) */
	unsigned char hash[MS_HASH_LEN]; /* the table's own content hash */
	int has_hash;
	ms_digest digest; /* its partitions */
	int has_digest;   /* digest.sum is known (reader) */
	span *spans;      /* owned */
	size_t nspans, aspans;
	int nkeys;     /* its partition keys; -1 when unknown */
	fpset seen;    /* values of its partition lines checked (reader) or written (writer) */
	ms_error *bad; /* reader: its first bad partition line found by verify; owned */
} table_rec;

/* Which table a byte range of a partition file belongs to (from the manifest's spans). */
typedef struct line_owner {
	size_t file;
	uint64_t offset, end; /* uncompressed */
	size_t table;
} line_owner;

typedef struct file_rec {
	char *path; /* owned; "tables/part-00000.json" or, for input paths, a URL */
	char *key;  /* owned; store key */
	int folder; /* F_* */
	int gz;
	uint64_t bytes; /* stored bytes */
	uint64_t lines;
	unsigned char sha[MS_HASH_LEN];
	int state;        /* 0 unverified, 1 verified, -1 failed verification, -2 unreadable */
	ms_error *unread; /* why, when state is -2 (owned) */
	int seen;         /* the listing found it (manifest mode) */
} file_rec;

typedef struct map_slot {
	uint64_t h;
	size_t v; /* index + 1; 0 = empty */
} map_slot;

typedef struct idx_map {
	map_slot *slots;
	size_t cap, n;
} idx_map;

/* One folder's open part file in the writer. */
typedef struct part_out {
	ms_store_writer *w;
	size_t file;       /* index into files */
	unsigned int next; /* number of the next part */
	uint64_t raw;      /* uncompressed bytes in the open part */
	uint64_t stored;   /* bytes handed to the store */
	EVP_MD_CTX *sha;
	z_stream z;
	int zinit;
	ms_buf pend; /* bytes not yet compressed or written */
	unsigned char *zout;
	size_t nfiles; /* parts opened for this folder */
} part_out;

/* One delete an incremental snapshot records (reader). */
typedef struct tomb_rec {
	ms_kind kind;
	char *db, *table, *vkey; /* owned; folded names; table and vkey NULL as the kind has none */
} tomb_rec;

/* What makes a snapshot incremental (writer and reader); all NULL/0 for a full one. */
typedef struct incr_info {
	int incremental;
	char *parent, *base, *source_cursor; /* source_cursor: full snapshots too */
	unsigned chain;
	char **dbs; /* every database of the source's selection (sorted, reader: folded) */
	size_t ndbs;
	char **tables; /* every table, "db\ttable" (sorted) */
	size_t ntables;
	ms_buf lines;    /* writer: tombstone lines */
	uint64_t ntombs; /* tombstones written or read */
	tomb_rec *tombs; /* reader */
	size_t atombs;
} incr_info;

typedef struct snapshot {
	ms_catalog base;
	int writing;
	ms_store *store;           /* the store at url (NULL with input paths) */
	ms_store *fstore[F_COUNT]; /* the store each folder lives on */
	int fstore_owned[F_COUNT];
	char *prefix; /* key prefix of the snapshot dir: "" or "ID/" */
	char *label;  /* printable snapshot location */
	int has_manifest;
	char manifest_sha256[2 * MS_HASH_LEN + 1]; /* hex of manifest.json as stored */
	char *manifest_id;                         /* the manifest's "id" (reader) */
	char *manifest_created;                    /* the manifest's "created" (reader) */

	db_rec *dbs;
	size_t ndbs, adbs;
	idx_map dbmap;
	table_rec *tables;
	size_t ntables, atables;
	idx_map tmap;
	file_rec *files;
	size_t nfiles, afiles;
	uint64_t counts[F_COUNT];
	line_owner *owners; /* reader with manifest: every span, by file and offset */
	size_t nowners;
	incr_info incr;

	/* writer */
	char *id;
	char created[32];
	int gz;
	size_t part_bytes;
	char *source_url; /* redacted */
	char *source_catalog_id;
	char *source_instance;
	part_out out[F_COUNT];
	size_t cur_table;
	char **written; /* committed keys, removed again unless finished */
	size_t nwritten, awritten;
	int finished;
	int broken;
	int sealed;                            /* the root _SUCCESS is written: never undone */
	char broken_why[MS_ERROR_MESSAGE_MAX]; /* the failure that broke the writer */
	ms_buf line;
} snapshot;

/* A part file read line by line (snapshot_lines.c); open with snap_lsrc_open. */
typedef struct lsrc {
	ms_store_reader *r;
	const char *name; /* borrowed; for messages */
	int gz, zinit, zend;
	z_stream z;
	unsigned char *in; /* compressed input (gzip only) */
	size_t in_len, in_pos;
	int in_eof;
	char *buf; /* uncompressed bytes; buf[pos..len) unread */
	size_t len, pos;
	uint64_t off; /* uncompressed offset of buf[pos] */
	int eof;
	EVP_MD_CTX *sha; /* hashes the stored bytes when set */
	uint64_t stored; /* stored bytes read */
	ms_buf carry;    /* a line that spans chunks */
} lsrc;

/* The two tables of the driver: a snapshot being written, one being read. */
extern const ms_catalog_driver snap_writer_driver; /* snapshot_write.c */
extern const ms_catalog_driver snap_reader_driver; /* snapshot_read.c */

/* ---- snapshot.c: helpers and what the writer and the reader share ---- */

/* Make room for need elements of size bytes in *arr; 0 or MS_ENOMEM (*arr kept). */
int snap_grow(void **arr, size_t *alloc, size_t need, size_t size);
/* The formatted text (new), or NULL when out of memory. */
char *snap_dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "BASE/NAME" (new) without doubling a trailing slash of BASE, or NULL. */
char *snap_join_label(const char *base, const char *name);
/* Fold an ASCII name to lowercase into dst; -1 if it does not fit. */
int snap_fold(char *dst, size_t cap, const char *src);
/* 1 if s ends with suffix. */
int snap_has_suffix(const char *s, const char *suffix);
/* Abort a folder's open part and free its buffers; the part_out can be opened again. */
void snap_part_out_free(part_out *o);
/* Free s and everything it owns (no store removal: see the writer's close). */
void snap_free(snapshot *s);
/* The text to open url's store with (new), or NULL: the catalog's query is not the store's. */
char *snap_store_url_text(const ms_url *url);
/* 1 if some key of st starts with prefix, 0 if none, < 0 on error. */
int snap_prefix_used(ms_store *st, const char *prefix, ms_error *err);
/* 1 if id can name a snapshot folder: one short path component, no "..", no control bytes. */
int snap_safe_id(const char *id);
/* The snapshot_info slot of both tables: a finished writer, a reader. */
int snap_info(ms_catalog *self, ms_snapshot_info *out, ms_error *err);

/* Record a key the writer stored, removed again if the snapshot is not finished. */
int snap_note_written(snapshot *s, const char *key, ms_error *err);

/* ---- snapshot_tomb.c: incremental snapshots ---- */

/* Take the incremental options of opts into s->incr (writer); 0 or MS_ENOMEM. */
int snap_incr_open(snapshot *s, const ms_open_options *opts, ms_error *err);
void snap_incr_free(incr_info *in);
/* The writer's delete slots: tombstones of an incremental snapshot. */
int snap_w_delete_database(ms_catalog *self, const char *name, ms_error *err);
int snap_w_delete_table(ms_catalog *self, const char *db, const char *name, ms_error *err);
int snap_w_delete_partitions(ms_catalog *self, const char *db, const char *table,
			     const char *const *vkeys, size_t n, ms_error *err);
/* Write tombstones/part-00000.json and tombstones/_SUCCESS (an incremental writer's finish). */
int snap_write_tombstones(snapshot *s, ms_error *err);
/* The manifest members of s->incr (after "selection"), for snap_build_manifest. */
int snap_manifest_incr(const snapshot *s, ms_buf *b);
/* Read them back (reader); malformed members are MS_EINTEGRITY. */
int snap_parse_incr(snapshot *s, const cJSON *root, ms_error *err);
/* Check the tombstone files against the manifest and read them (reader, at open). */
int snap_load_tombstones(snapshot *s, ms_error *err);
/* The reader's snapshot_changes slot. */
int snap_r_changes(ms_catalog *self, ms_change_cb cb, void *ctx, ms_error *err);
/* The reader's lists of an incremental snapshot: every name of the source's selection. */
int snap_incr_list_databases(const snapshot *s, ms_name_cb cb, void *ctx, ms_error *err);
int snap_incr_list_tables(const snapshot *s, const char *db, ms_name_cb cb, void *ctx,
			  ms_error *err);

/* ---- snapshot_index.c: records and name maps ---- */

/* Free a name map's slots. */
void snap_map_free(idx_map *m);
/* Index of database name (already folded), or NONE. */
size_t snap_db_find(const snapshot *s, const char *name);
/* Index of table db.name (already folded), or NONE. */
size_t snap_table_find(const snapshot *s, const char *db, const char *name);
/* snap_db_find with a caller's name, folded first; NONE also for NULL or too long. */
size_t snap_db_lookup(const snapshot *s, const char *name);
/* snap_table_find with a caller's names, folded first; NONE also for NULL or too long. */
size_t snap_table_lookup(const snapshot *s, const char *db, const char *name);
/* Append a database record (name copied); *idx is its index; 0 or MS_ENOMEM. */
int snap_db_add(snapshot *s, const char *name, size_t *idx, ms_error *err);
/* Append a table record (names copied); *idx is its index; 0 or MS_ENOMEM. */
int snap_table_add(snapshot *s, const char *db, const char *name, size_t *idx, ms_error *err);
/* Record partition lines of t, extending the last span when adjacent; 0 or MS_ENOMEM (unset). */
int snap_span_add(table_rec *t, size_t file, uint64_t offset, uint64_t bytes, uint64_t lines);
/* Append a file record (path and key copied, gz from the path); *idx is its index. */
int snap_file_add(snapshot *s, int folder, const char *path, const char *key, size_t *idx,
		  ms_error *err);
/* Orders of files by path, databases by name, tables by database and name. */
typedef int (*idx_cmp)(const snapshot *s, size_t a, size_t b);
int snap_idx_cmp_file(const snapshot *s, size_t a, size_t b);
int snap_idx_cmp_db(const snapshot *s, size_t a, size_t b);
int snap_idx_cmp_table(const snapshot *s, size_t a, size_t b);
/* A new array of 0..n-1 sorted by cmp (stable), or NULL when out of memory. */
size_t *snap_sorted_indices(const snapshot *s, size_t n, idx_cmp cmp);
/* Sort databases and tables by name and rebuild their maps; 0 or MS_ENOMEM. */
int snap_finalize_index(snapshot *s, ms_error *err);

/* ---- snapshot_check.c: partition values against the table, each values once ---- */

/* Free a set of fingerprints; it can be used again (empty). */
void snap_fpset_free(fpset *set);
/* The slot holding fp, or NULL. */
const fp_slot *snap_fpset_find(const fpset *set, const unsigned char *fp);
/* Add fp (not in the set), first seen in file fi at line; 0 or MS_ENOMEM (unset). */
int snap_fpset_add(fpset *set, const unsigned char *fp, size_t fi, uint64_t line);
/* The fingerprint of a values key (the writer's, which needs no parse); 0 or -1. */
int snap_fp_vkey(EVP_MD_CTX *md, const char *vkey, unsigned char *fp);
/* The fingerprint of the values a peek found; 0 or MS_ERROR. */
int snap_fp_peeked(EVP_MD_CTX *md, const ms_line_values *lv, unsigned char *fp, ms_error *err);
/* The fingerprint and number (*n) of a parsed partition's values; 0 or MS_ERROR. */
int snap_fp_parsed(EVP_MD_CTX *md, const ms_entity *e, unsigned char *fp, size_t *n, ms_error *err);
/* MS_EINVAL when n values can not be t's (keys unknown: only none is refused), else 0. */
int snap_check_value_count(const table_rec *t, size_t n, const char *vkey, ms_error *err);
/*
 * Check a partition line of t (line `line` of file fi) with n values of
 * fingerprint fp and remember its values: 0, MS_EINVAL (count wrong or
 * values seen before in t, without file and line), MS_ENOMEM.
 */
int snap_check_part_line(const snapshot *s, table_rec *t, size_t n, const unsigned char *fp,
			 const char *vkey, size_t fi, uint64_t line, ms_error *err);

/* ---- snapshot_lines.c: lines of a (possibly gzip) part file ---- */

/*
 * Open key on st for reading lines (gz: inflate; hash: SHA-256 of the stored
 * bytes into l->sha); name is borrowed, for messages.  The caller closes l
 * whether this succeeds or not.
 */
int snap_lsrc_open(lsrc *l, ms_store *st, const char *key, const char *name, int gz, int hash,
		   ms_error *err);
/* Close and free l (a zeroed or closed l too). */
void snap_lsrc_close(lsrc *l);
/*
 * The next line, without its newline (and a trailing CR), in *line / *len,
 * borrowed until the next call; *loff is its offset.  1 for a line, 0 at
 * the end, MS_ETOOBIG past LINE_MAX_BYTES, MS_EINVAL for bad gzip.
 */
int snap_lsrc_line(lsrc *l, const char **line, size_t *len, uint64_t *loff, ms_error *err);
/* Go to uncompressed offset target (never back); MS_EINTEGRITY when the file ends first. */
int snap_lsrc_seek(lsrc *l, uint64_t target, ms_error *err);
/* Read what is left of the stored file, so that its SHA-256 is complete. */
int snap_lsrc_drain(lsrc *l, ms_error *err);
/* 1 if p[0..n) holds only spaces and tabs (a line to skip). */
int snap_is_blank(const char *p, size_t n);

/* ---- snapshot_manifest.c: manifest.json written and read ---- */

/* Append s's manifest.json to b; 0, MS_ENOMEM, MS_ETOOBIG past b's cap (MANIFEST_MAX). */
int snap_build_manifest(snapshot *s, ms_buf *b, ms_error *err);
/* s->manifest_sha256 = hex SHA-256 of the manifest text; 0 or MS_ERROR. */
int snap_manifest_sha256(snapshot *s, const char *text, size_t len, ms_error *err);
/* MS_EINTEGRITY "snapshot '...' manifest.json is invalid: WHAT". */
int snap_manifest_bad(const snapshot *s, ms_error *err, const char *what);
/*
 * Read manifest.json text into s: identity, counts, files and tables with
 * their spans, each checked (paths safe, no key twice, sums that add up);
 * MS_EINTEGRITY, MS_ENOTSUPPORTED (version), MS_EINVAL (compression), MS_ENOMEM.
 */
int snap_parse_manifest(snapshot *s, const char *text, size_t len, ms_error *err);

/* ---- snapshot_load.c: opening a snapshot for reading ---- */

/* 1 if name (a file directly inside a folder) is one that Spark would read. */
int snap_is_data_name(const char *name);
/* MS_EINVAL for a file compressed with something other than gzip, else 0. */
int snap_check_compression(const char *path, ms_error *err);
/*
 * Open the snapshot at url for reading into s (base set): a snapshot
 * directory, a store root with LATEST, a manifest-less export when allowed,
 * or the utility's three input paths.
 */
int snap_open_reader(snapshot *s, const ms_url *url, const ms_open_options *opts, ms_error *err);

/* ---- snapshot_read.c ---- */

/* MS_EINTEGRITY "snapshot '...' file '...' WHAT". */
int snap_integrity(const snapshot *s, const file_rec *f, ms_error *err, const char *what);

/* ---- snapshot_write.c ---- */

/* Start a new snapshot under the store root url into s (base set). */
int snap_open_writer(snapshot *s, const ms_url *url, const ms_open_options *opts, ms_error *err);

#endif
