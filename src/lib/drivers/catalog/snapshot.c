/*
 * The snapshot catalog: a snapshot on a store, read or written as if it were
 * a catalog, so that export is copy(live -> snapshot writer) and import is
 * copy(snapshot reader -> live) in the one engine.  The layout is the AWS
 * Glue migration utility's (databases/, tables/, partitions/ folders of JSON
 * Lines part files and a _SUCCESS per folder) plus metasync's own
 * manifest.json, a root _SUCCESS and a LATEST pointer, so that the utility
 * can read what metasync writes and metasync can read what the utility
 * writes (without a manifest, only on request, after every line is checked).
 *
 * Everything goes through the ms_store API, so the same code serves a local
 * directory and, later, S3.  A reader trusts nothing it has not verified:
 * the manifest's paths are checked before use, every file's size is checked
 * at open, the database and table files are hashed at open, and each
 * table's partition files are hashed by verify_table before a scan may read
 * them.  Partition lines are checked before anything is imported from them
 * (at open without a manifest, by verify_table with one): as many values as
 * the table has partition keys, and no values twice in one table.  The
 * writer hashes and (optionally) compresses while it streams, writes no
 * partition its reader would refuse, and makes a snapshot visible only at
 * the end: parts, per-folder _SUCCESS, manifest.json, root _SUCCESS, then
 * LATEST.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "util/url.h" /* before the sys headers, which name struct ms_url */
#include "metasync/sys/catalog.h"
#include "metasync/sys/store.h"
#include "util/buf.h"

int ms_snapshot_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			     ms_error *err);

#define DEFAULT_PART_BYTES ((size_t)64 << 20)
#define IO_CHUNK ((size_t)1 << 20)          /* uncompressed read and write chunk */
#define GZ_CHUNK ((size_t)256 << 10)        /* compressed read and write chunk */
#define LINE_MAX_BYTES ((size_t)64 << 20)   /* longest snapshot line accepted */
#define MANIFEST_MAX ((size_t)256 << 20)    /* largest manifest.json read or written */
#define LATEST_MAX 4096
#define SNAPSHOT_ID_MAX 64
#define NAME_BUF 1024                       /* folded names longer than this match nothing */
#define NONE ((size_t)-1)

enum { F_DATABASES = 0, F_TABLES = 1, F_PARTITIONS = 2, F_COUNT = 3 };

static const char *const folder_names[F_COUNT] = { "databases", "tables", "partitions" };
static const ms_kind folder_kinds[F_COUNT] = { MS_KIND_DATABASE, MS_KIND_TABLE,
					       MS_KIND_PARTITION };

/* A run of consecutive partition lines of one table in one file. */
typedef struct span {
	size_t file;        /* index into snapshot.files */
	uint64_t offset;    /* uncompressed byte offset of the first line */
	uint64_t bytes;     /* uncompressed bytes, newlines included */
	uint64_t lines;
} span;

typedef struct db_rec {
	char *name;         /* owned */
	ms_entity *entity;  /* owned; NULL in the writer */
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
	uint32_t file;      /* index + 1 into files where it was first seen; 0: empty slot */
	uint32_t line;      /* line number in that file (saturated) */
} fp_slot;

typedef struct fpset {
	fp_slot *slots;     /* owned; open addressing */
	size_t cap, n;
} fpset;

typedef struct table_rec {
	char *database;     /* owned */
	char *name;         /* owned */
	ms_entity *entity;  /* owned; NULL in the writer (and until loaded) */
	unsigned char hash[MS_HASH_LEN];   /* the table's own content hash */
	int has_hash;
	ms_digest digest;   /* its partitions */
	int has_digest;     /* digest.sum is known (reader) */
	span *spans;        /* owned */
	size_t nspans, aspans;
	int nkeys;          /* its partition keys; -1 when unknown */
	fpset seen;         /* values of its partition lines checked (reader) or written (writer) */
	ms_error *bad;      /* reader: its first bad partition line found by verify; owned */
} table_rec;

/* Which table a byte range of a partition file belongs to (from the manifest's spans). */
typedef struct line_owner {
	size_t file;
	uint64_t offset, end;   /* uncompressed */
	size_t table;
} line_owner;

typedef struct file_rec {
	char *path;         /* owned; "tables/part-00000.json" or, for input paths, a URL */
	char *key;          /* owned; store key */
	int folder;         /* F_* */
	int gz;
	uint64_t bytes;     /* stored bytes */
	uint64_t lines;
	unsigned char sha[MS_HASH_LEN];
	int state;          /* 0 unverified, 1 verified, -1 failed verification, -2 unreadable */
	ms_error *unread;   /* why, when state is -2 (owned) */
	int seen;           /* the listing found it (manifest mode) */
} file_rec;

typedef struct map_slot {
	uint64_t h;
	size_t v;           /* index + 1; 0 = empty */
} map_slot;

typedef struct idx_map {
	map_slot *slots;
	size_t cap, n;
} idx_map;

/* One folder's open part file in the writer. */
typedef struct part_out {
	ms_store_writer *w;
	size_t file;        /* index into files */
	unsigned int next;  /* number of the next part */
	uint64_t raw;       /* uncompressed bytes in the open part */
	uint64_t stored;    /* bytes handed to the store */
	EVP_MD_CTX *sha;
	z_stream z;
	int zinit;
	ms_buf pend;        /* bytes not yet compressed or written */
	unsigned char *zout;
	size_t nfiles;      /* parts opened for this folder */
} part_out;

typedef struct snapshot {
	ms_catalog base;
	int writing;
	ms_store *store;             /* the store at url (NULL with input paths) */
	ms_store *fstore[F_COUNT];   /* the store each folder lives on */
	int fstore_owned[F_COUNT];
	char *prefix;                /* key prefix of the snapshot dir: "" or "ID/" */
	char *label;                 /* printable snapshot location */
	int has_manifest;
	char manifest_sha256[2 * MS_HASH_LEN + 1];  /* hex of manifest.json as stored */
	char *manifest_id;           /* the manifest's "id" (reader) */
	char *manifest_created;      /* the manifest's "created" (reader) */

	db_rec *dbs;
	size_t ndbs, adbs;
	idx_map dbmap;
	table_rec *tables;
	size_t ntables, atables;
	idx_map tmap;
	file_rec *files;
	size_t nfiles, afiles;
	uint64_t counts[F_COUNT];
	line_owner *owners;          /* reader with manifest: every span, by file and offset */
	size_t nowners;

	/* writer */
	char *id;
	char created[32];
	int gz;
	size_t part_bytes;
	char *source_url;            /* redacted */
	char *source_catalog_id;
	char *source_instance;
	part_out out[F_COUNT];
	size_t cur_table;
	char **written;              /* committed keys, removed again unless finished */
	size_t nwritten, awritten;
	int finished;
	int broken;
	int sealed;                  /* the root _SUCCESS is written: never undone */
	char broken_why[MS_ERROR_MESSAGE_MAX]; /* the failure that broke the writer */
	ms_buf line;
} snapshot;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

static int grow(void **arr, size_t *alloc, size_t need, size_t size)
{
	size_t na;
	void *p;

	if (need <= *alloc)
		return 0;
	na = *alloc ? *alloc : 16;
	while (na < need)
		na *= 2;
	p = realloc(*arr, na * size);
	if (!p)
		return MS_ENOMEM;
	*arr = p;
	*alloc = na;
	return 0;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
	ms_buf b = MS_BUF_INIT((size_t)1 << 20);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ms_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* "BASE/NAME" (new) without doubling a trailing slash of BASE. */
static char *join_label(const char *base, const char *name)
{
	size_t n = strlen(base);

	return dup_printf("%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", name);
}

/* Fold an ASCII name to lowercase into dst; -1 if it does not fit. */
static int fold(char *dst, size_t cap, const char *src)
{
	size_t i, n = strlen(src);

	if (n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[n] = '\0';
	return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------------------ */
/* Name maps: open addressing over indices into dbs / tables                */

static uint64_t name_hash(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ 0xffu) * 1099511628211ULL;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

static int map_insert(idx_map *m, uint64_t h, size_t idx)
{
	size_t i, mask;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64, j;
		map_slot *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return MS_ENOMEM;
		for (j = 0; j < m->cap; j++) {
			if (!m->slots[j].v)
				continue;
			for (i = m->slots[j].h & (ncap - 1); ns[i].v; i = (i + 1) & (ncap - 1))
				;
			ns[i] = m->slots[j];
		}
		free(m->slots);
		m->slots = ns;
		m->cap = ncap;
	}
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].v; i = (i + 1) & mask)
		;
	m->slots[i].h = h;
	m->slots[i].v = idx + 1;
	m->n++;
	return 0;
}

static void map_free(idx_map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

/* Index of database name (already folded), or NONE. */
static size_t db_find(const snapshot *s, const char *name)
{
	uint64_t h;
	size_t i, mask;

	if (!s->dbmap.cap)
		return NONE;
	h = name_hash(name, NULL);
	mask = s->dbmap.cap - 1;
	for (i = h & mask; s->dbmap.slots[i].v; i = (i + 1) & mask) {
		const map_slot *sl = &s->dbmap.slots[i];

		if (sl->h == h && strcmp(s->dbs[sl->v - 1].name, name) == 0)
			return sl->v - 1;
	}
	return NONE;
}

/* Index of table db.name (already folded), or NONE. */
static size_t table_find(const snapshot *s, const char *db, const char *name)
{
	uint64_t h;
	size_t i, mask;

	if (!s->tmap.cap)
		return NONE;
	h = name_hash(db, name);
	mask = s->tmap.cap - 1;
	for (i = h & mask; s->tmap.slots[i].v; i = (i + 1) & mask) {
		const map_slot *sl = &s->tmap.slots[i];
		const table_rec *t = &s->tables[sl->v - 1];

		if (sl->h == h && strcmp(t->name, name) == 0 && strcmp(t->database, db) == 0)
			return sl->v - 1;
	}
	return NONE;
}

/* The same lookups with caller-supplied names, folded first. */
static size_t db_lookup(const snapshot *s, const char *name)
{
	char n[NAME_BUF];

	if (!name || fold(n, sizeof(n), name) < 0)
		return NONE;
	return db_find(s, n);
}

static size_t table_lookup(const snapshot *s, const char *db, const char *name)
{
	char d[NAME_BUF], n[NAME_BUF];

	if (!db || !name || fold(d, sizeof(d), db) < 0 || fold(n, sizeof(n), name) < 0)
		return NONE;
	return table_find(s, d, n);
}

/* Append a database record (name copied); *idx is its index. */
static int db_add(snapshot *s, const char *name, size_t *idx, ms_error *err)
{
	db_rec *d;

	if (grow((void **)&s->dbs, &s->adbs, s->ndbs + 1, sizeof(*s->dbs)) < 0)
		return oom(err);
	d = &s->dbs[s->ndbs];
	memset(d, 0, sizeof(*d));
	if (!(d->name = strdup(name)))
		return oom(err);
	if (map_insert(&s->dbmap, name_hash(name, NULL), s->ndbs) < 0) {
		free(d->name);
		return oom(err);
	}
	*idx = s->ndbs++;
	return 0;
}

/* Append a table record (names copied); *idx is its index. */
static int table_add(snapshot *s, const char *db, const char *name, size_t *idx, ms_error *err)
{
	table_rec *t;

	if (grow((void **)&s->tables, &s->atables, s->ntables + 1, sizeof(*s->tables)) < 0)
		return oom(err);
	t = &s->tables[s->ntables];
	memset(t, 0, sizeof(*t));
	ms_digest_init(&t->digest);
	t->nkeys = -1;
	t->database = strdup(db);
	t->name = strdup(name);
	if (!t->database || !t->name ||
	    map_insert(&s->tmap, name_hash(db, name), s->ntables) < 0) {
		free(t->database);
		free(t->name);
		return oom(err);
	}
	*idx = s->ntables++;
	return 0;
}

/* Record a partition line of t, extending the last span when it is adjacent. */
static int span_add(table_rec *t, size_t file, uint64_t offset, uint64_t bytes, uint64_t lines)
{
	span *sp;

	if (t->nspans > 0) {
		sp = &t->spans[t->nspans - 1];
		if (sp->file == file && sp->offset + sp->bytes == offset) {
			sp->bytes += bytes;
			sp->lines += lines;
			return 0;
		}
	}
	if (grow((void **)&t->spans, &t->aspans, t->nspans + 1, sizeof(*t->spans)) < 0)
		return MS_ENOMEM;
	sp = &t->spans[t->nspans++];
	sp->file = file;
	sp->offset = offset;
	sp->bytes = bytes;
	sp->lines = lines;
	return 0;
}

static int file_add(snapshot *s, int folder, const char *path, const char *key, size_t *idx,
		    ms_error *err)
{
	file_rec *f;

	if (grow((void **)&s->files, &s->afiles, s->nfiles + 1, sizeof(*s->files)) < 0)
		return oom(err);
	f = &s->files[s->nfiles];
	memset(f, 0, sizeof(*f));
	f->folder = folder;
	f->gz = has_suffix(path, ".gz");
	f->path = strdup(path);
	f->key = strdup(key);
	if (!f->path || !f->key) {
		free(f->path);
		free(f->key);
		return oom(err);
	}
	*idx = s->nfiles++;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Partition checks: values against the table's keys, each values once     */

static void fpset_free(fpset *set)
{
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

static uint64_t fp_word(const unsigned char *fp)
{
	uint64_t h;

	memcpy(&h, fp, sizeof(h));
	return h;
}

/* The slot holding fp, or NULL. */
static const fp_slot *fpset_find(const fpset *set, const unsigned char *fp)
{
	size_t i, mask;

	if (!set->cap)
		return NULL;
	mask = set->cap - 1;
	for (i = fp_word(fp) & mask; set->slots[i].file; i = (i + 1) & mask)
		if (memcmp(set->slots[i].fp, fp, FP_LEN) == 0)
			return &set->slots[i];
	return NULL;
}

/* Add fp (not in the set) first seen in file index fi at line; 0 or MS_ENOMEM. */
static int fpset_add(fpset *set, const unsigned char *fp, size_t fi, uint64_t line)
{
	size_t i, mask;

	if ((set->n + 1) * 4 > set->cap * 3) {
		size_t ncap = set->cap ? set->cap * 2 : 64, j;
		fp_slot *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return MS_ENOMEM;
		for (j = 0; j < set->cap; j++) {
			if (!set->slots[j].file)
				continue;
			for (i = fp_word(set->slots[j].fp) & (ncap - 1); ns[i].file; i = (i + 1) & (ncap - 1))
				;
			ns[i] = set->slots[j];
		}
		free(set->slots);
		set->slots = ns;
		set->cap = ncap;
	}
	mask = set->cap - 1;
	for (i = fp_word(fp) & mask; set->slots[i].file; i = (i + 1) & mask)
		;
	memcpy(set->slots[i].fp, fp, FP_LEN);
	set->slots[i].file = fi + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(fi + 1);
	set->slots[i].line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	set->n++;
	return 0;
}

static int fp_begin(EVP_MD_CTX *md)
{
	return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int fp_value(EVP_MD_CTX *md, const char *v, size_t n)
{
	unsigned char len[8];
	int i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	return EVP_DigestUpdate(md, len, sizeof(len)) == 1 && EVP_DigestUpdate(md, v, n) == 1 ? 0
												: -1;
}

static int fp_end(EVP_MD_CTX *md, unsigned char *fp)
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(md, full, &n) != 1 || n < FP_LEN)
		return -1;
	memcpy(fp, full, FP_LEN);
	return 0;
}

/* The fingerprint and number of the values a peek found. */
static int fp_peeked(EVP_MD_CTX *md, const ms_line_values *lv, unsigned char *fp, ms_error *err)
{
	size_t i;
	int bad = fp_begin(md);

	for (i = 0; i < lv->n && !bad; i++)
		bad = fp_value(md, lv->v[i], lv->len[i]);
	if (bad || fp_end(md, fp) < 0)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	return 0;
}

/* The fingerprint and number of a parsed partition's values. */
static int fp_parsed(EVP_MD_CTX *md, const ms_entity *e, unsigned char *fp, size_t *n,
		     ms_error *err)
{
	const cJSON *v;
	int bad = fp_begin(md);

	*n = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(e->doc, "Values"))
	{
		if (!bad)
			bad = fp_value(md, v->valuestring, strlen(v->valuestring));
		(*n)++;
	}
	if (bad || fp_end(md, fp) < 0)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	return 0;
}

/* Values in a values key (canonical JSON array of strings). */
static size_t vkey_count(const char *vkey)
{
	size_t n = 0;
	int in = 0;

	for (; *vkey; vkey++) {
		if (in) {
			if (*vkey == '\\' && vkey[1])
				vkey++;
			else if (*vkey == '"')
				in = 0;
		} else if (*vkey == '"') {
			in = 1;
			n++;
		}
	}
	return n;
}

/*
 * Refuse a partition of t with n values whose key can not be the table's
 * (ms_partition_check_count).  While t's keys are unknown, only a
 * partition without values can be told.
 */
static int check_value_count(const table_rec *t, size_t n, const char *vkey, ms_error *err)
{
	size_t nkeys = t->nkeys < 0 ? n : (size_t)t->nkeys;

	return ms_partition_check_count(t->database, t->name, vkey, n, nkeys, err);
}

/*
 * Check a partition line of table t (line `line` of file fi) with n values
 * of fingerprint fp, and remember its values: MS_EINVAL (message without
 * file and line) when the count is wrong or t already has a line with these
 * values, naming where; 0 when good; MS_ENOMEM.
 */
static int check_part_line(const snapshot *s, table_rec *t, size_t n, const unsigned char *fp,
			   const char *vkey, size_t fi, uint64_t line, ms_error *err)
{
	const fp_slot *first;
	int rc;

	if ((rc = check_value_count(t, n, vkey, err)) < 0)
		return rc;
	if ((first = fpset_find(&t->seen, fp)) != NULL) {
		if (first->file - 1 == fi)
			return ms_error_set(err, MS_EINVAL,
					    "partition %.200s of '%s.%s' appears twice (first at line %u)",
					    vkey, t->database, t->name, first->line);
		return ms_error_set(err, MS_EINVAL,
				    "partition %.200s of '%s.%s' appears twice (first in file '%s' "
				    "line %u)",
				    vkey, t->database, t->name, s->files[first->file - 1].path,
				    first->line);
	}
	if (fpset_add(&t->seen, fp, fi, line) < 0)
		return oom(err);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading lines from a (possibly gzip-compressed) part file                */

typedef struct lsrc {
	ms_store_reader *r;
	const char *name;      /* borrowed; for messages */
	int gz, zinit, zend;
	z_stream z;
	unsigned char *in;     /* compressed input (gzip only) */
	size_t in_len, in_pos;
	int in_eof;
	char *buf;             /* uncompressed bytes; buf[pos..len) unread */
	size_t len, pos;
	uint64_t off;          /* uncompressed offset of buf[pos] */
	int eof;
	EVP_MD_CTX *sha;       /* hashes the stored bytes when set */
	uint64_t stored;       /* stored bytes read */
	ms_buf carry;          /* a line that spans chunks */
} lsrc;

static void lsrc_close(lsrc *l)
{
	ms_store_reader_close(l->r);
	l->r = NULL;
	if (l->zinit)
		inflateEnd(&l->z);
	l->zinit = 0;
	EVP_MD_CTX_free(l->sha);
	l->sha = NULL;
	free(l->in);
	free(l->buf);
	l->in = NULL;
	l->buf = NULL;
	ms_buf_free(&l->carry);
}

static int lsrc_open(lsrc *l, ms_store *st, const char *key, const char *name, int gz, int hash,
		     ms_error *err)
{
	memset(l, 0, sizeof(*l));
	ms_buf_init(&l->carry, LINE_MAX_BYTES);
	l->name = name;
	l->gz = gz;
	l->buf = malloc(IO_CHUNK);
	if (!l->buf || (gz && !(l->in = malloc(GZ_CHUNK))))
		return oom(err);
	if (hash) {
		l->sha = EVP_MD_CTX_new();
		if (!l->sha || EVP_DigestInit_ex(l->sha, EVP_sha256(), NULL) != 1)
			return ms_error_set(err, MS_ERROR, "cannot start sha256");
	}
	if (gz) {
		if (inflateInit2(&l->z, 15 + 32) != Z_OK)
			return ms_error_set(err, MS_ENOMEM, "cannot start gzip decompression");
		l->zinit = 1;
	}
	return ms_store_get_open(st, key, &l->r, err);
}

static int lsrc_raw(lsrc *l, void *dst, size_t cap, size_t *got, ms_error *err)
{
	int rc;

	if ((rc = ms_store_read(l->r, dst, cap, got, err)) < 0)
		return rc;
	if (*got && l->sha && EVP_DigestUpdate(l->sha, dst, *got) != 1)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	l->stored += *got;
	return 0;
}

/* Refill buf with the next uncompressed bytes (pos == len on entry). */
static int lsrc_fill(lsrc *l, ms_error *err)
{
	size_t got;
	int rc, zr;

	l->pos = l->len = 0;
	if (!l->gz) {
		if ((rc = lsrc_raw(l, l->buf, IO_CHUNK, &got, err)) < 0)
			return rc;
		if (got == 0)
			l->eof = 1;
		l->len = got;
		return 0;
	}
	while (l->len == 0 && !l->eof) {
		if (l->in_pos == l->in_len && !l->in_eof) {
			if ((rc = lsrc_raw(l, l->in, GZ_CHUNK, &got, err)) < 0)
				return rc;
			l->in_pos = 0;
			l->in_len = got;
			if (got == 0)
				l->in_eof = 1;
		}
		if (l->zend) {
			/* A new gzip member may follow (concatenated .gz files). */
			if (l->in_pos < l->in_len) {
				inflateReset(&l->z);
				l->zend = 0;
			} else if (l->in_eof) {
				l->eof = 1;
				break;
			} else {
				continue;
			}
		}
		if (l->in_pos == l->in_len) {
			if (l->in_eof)
				return ms_error_set(err, MS_EINVAL,
						    "file '%s' ends in the middle of its gzip stream",
						    l->name);
			continue;
		}
		l->z.next_in = l->in + l->in_pos;
		l->z.avail_in = (uInt)(l->in_len - l->in_pos);
		l->z.next_out = (Bytef *)l->buf;
		l->z.avail_out = (uInt)IO_CHUNK;
		zr = inflate(&l->z, Z_NO_FLUSH);
		l->in_pos = l->in_len - l->z.avail_in;
		l->len = IO_CHUNK - l->z.avail_out;
		if (zr == Z_STREAM_END) {
			l->zend = 1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = ms_error_set(err, MS_EINVAL, "file '%s' is not valid gzip", l->name);
			ms_error_detail(err, "inflate: %s", l->z.msg ? l->z.msg : "error");
			return rc;
		}
	}
	return 0;
}

/*
 * The next line, without its newline (and a trailing CR), in *line / *len,
 * borrowed until the next call; *loff is its offset.  Returns 1 for a line,
 * 0 at the end.
 */
static int lsrc_line(lsrc *l, const char **line, size_t *len, uint64_t *loff, ms_error *err)
{
	uint64_t start = l->off;
	int carrying = 0, rc;

	ms_buf_reset(&l->carry);
	for (;;) {
		const char *p, *nl;
		size_t avail;

		if (l->pos == l->len) {
			if (l->eof)
				break;
			if ((rc = lsrc_fill(l, err)) < 0)
				return rc;
			continue;
		}
		p = l->buf + l->pos;
		avail = l->len - l->pos;
		nl = memchr(p, '\n', avail);
		if (nl) {
			size_t n = (size_t)(nl - p);

			l->pos += n + 1;
			l->off += n + 1;
			if (carrying) {
				if (ms_buf_add(&l->carry, p, n) < 0)
					goto toolong;
				p = l->carry.ptr;
				n = l->carry.len;
			}
			if (n > 0 && p[n - 1] == '\r')
				n--;
			*line = p;
			*len = n;
			*loff = start;
			return 1;
		}
		if (ms_buf_add(&l->carry, p, avail) < 0)
			goto toolong;
		carrying = 1;
		l->pos = l->len;
		l->off += avail;
	}
	if (carrying && l->carry.len > 0) {
		size_t n = l->carry.len;

		if (l->carry.ptr[n - 1] == '\r')
			n--;
		*line = l->carry.ptr;
		*len = n;
		*loff = start;
		return 1;
	}
	return 0;
toolong:
	return ms_error_set(err, MS_ETOOBIG, "file '%s' has a line longer than %zu bytes at byte %llu",
			    l->name, LINE_MAX_BYTES, (unsigned long long)start);
}

/* Position at uncompressed offset target (never before the current one). */
static int lsrc_seek(lsrc *l, uint64_t target, ms_error *err)
{
	int rc;

	if (target == l->off)
		return 0;
	if (target - l->off <= l->len - l->pos) {
		l->pos += (size_t)(target - l->off);
		l->off = target;
		return 0;
	}
	if (!l->gz && !l->sha && l->r->seek) {
		if ((rc = ms_store_seek(l->r, target, err)) < 0)
			return rc;
		l->pos = l->len = 0;
		l->eof = 0;
		l->off = target;
		return 0;
	}
	while (l->off < target) {
		size_t n;

		if (l->pos == l->len) {
			if (l->eof)
				return ms_error_set(err, MS_EINTEGRITY, "file '%s' ends before byte %llu",
						    l->name, (unsigned long long)target);
			if ((rc = lsrc_fill(l, err)) < 0)
				return rc;
			continue;
		}
		n = l->len - l->pos;
		if ((uint64_t)n > target - l->off)
			n = (size_t)(target - l->off);
		l->pos += n;
		l->off += n;
	}
	return 0;
}

static int is_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Common instance management                                               */

static void part_out_free(part_out *o)
{
	if (o->w)
		ms_store_abort(o->w);
	o->w = NULL;
	if (o->zinit)
		deflateEnd(&o->z);
	o->zinit = 0;
	EVP_MD_CTX_free(o->sha);
	o->sha = NULL;
	ms_buf_free(&o->pend);
	free(o->zout);
	o->zout = NULL;
}

static void snapshot_free(snapshot *s)
{
	size_t i;
	int f;

	for (f = 0; f < F_COUNT; f++) {
		part_out_free(&s->out[f]);
		if (s->fstore_owned[f])
			ms_store_close(s->fstore[f]);
	}
	ms_store_close(s->store);
	for (i = 0; i < s->ndbs; i++) {
		free(s->dbs[i].name);
		ms_entity_free(s->dbs[i].entity);
	}
	free(s->dbs);
	for (i = 0; i < s->ntables; i++) {
		free(s->tables[i].database);
		free(s->tables[i].name);
		ms_entity_free(s->tables[i].entity);
		free(s->tables[i].spans);
		fpset_free(&s->tables[i].seen);
		free(s->tables[i].bad);
	}
	free(s->tables);
	free(s->owners);
	for (i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].key);
		free(s->files[i].unread);
	}
	free(s->files);
	map_free(&s->dbmap);
	map_free(&s->tmap);
	for (i = 0; i < s->nwritten; i++)
		free(s->written[i]);
	free(s->written);
	free(s->prefix);
	free(s->label);
	free(s->id);
	free(s->manifest_id);
	free(s->manifest_created);
	free(s->source_url);
	free(s->source_catalog_id);
	free(s->source_instance);
	ms_buf_free(&s->line);
	ms_catalog_base_free(&s->base);
	free(s);
}

/* The text to open the store at url with (the catalog's query is not the store's). */
static char *store_url_text(const ms_url *url)
{
	ms_buf b = MS_BUF_INIT((size_t)64 << 10);
	size_t i;
	int rc;

	if (strcmp(url->scheme, "file") == 0 && strncmp(url->redacted, "file:", 5) != 0)
		return strdup(url->raw_rest);
	rc = ms_buf_printf(&b, "%s:%s", url->scheme, url->raw_rest);
	/* A remote store's own parameters (region, endpoint...) go with it. */
	for (i = 0; rc == 0 && strcmp(url->scheme, "file") != 0 && i < url->nparams; i++) {
		const char *p;

		if (strcmp(url->params[i].key, "catalog-id") == 0)
			continue;
		rc = ms_buf_printf(&b, "%c%s=", b.ptr && strchr(b.ptr, '?') ? '&' : '?',
				   url->params[i].key);
		for (p = url->params[i].value; rc == 0 && *p; p++)
			rc = strchr("%&#?+ ", *p) ? ms_buf_printf(&b, "%%%02X", (unsigned char)*p)
						  : ms_buf_addc(&b, *p);
	}
	if (rc < 0) {
		ms_buf_free(&b);
		return NULL;
	}
	return ms_buf_detach(&b);
}

/* Callback for prefix probes: stop at the first key. */
static int probe_cb(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	(void)key;
	(void)st;
	(void)ctx;
	(void)err;
	return 1;
}

/* 1 if some key starts with prefix, 0 if none, < 0 on error. */
static int prefix_used(ms_store *st, const char *prefix, ms_error *err)
{
	int rc = ms_store_list(st, prefix, probe_cb, NULL, err);

	return rc < 0 ? rc : (rc > 0 ? 1 : 0);
}

/* ------------------------------------------------------------------------ */
/* The writer                                                               */

/* Mark the writer broken, keeping the first failure's message for later calls. */
static int writer_fail(snapshot *s, int rc, const ms_error *err)
{
	if (!s->broken && err)
		snprintf(s->broken_why, sizeof(s->broken_why), "%s", err->message);
	s->broken = 1;
	return rc;
}

static int note_written(snapshot *s, const char *key, ms_error *err)
{
	if (grow((void **)&s->written, &s->awritten, s->nwritten + 1, sizeof(*s->written)) < 0)
		return oom(err);
	if (!(s->written[s->nwritten] = strdup(key)))
		return oom(err);
	s->nwritten++;
	return 0;
}

static int part_open(snapshot *s, int f, ms_error *err)
{
	part_out *o = &s->out[f];
	char path[128];
	char *key = NULL;
	size_t idx;
	int rc;

	snprintf(path, sizeof(path), "%s/part-%05u.json%s", folder_names[f], o->next,
		 s->gz ? ".gz" : "");
	if (!(key = dup_printf("%s%s", s->prefix, path)))
		return oom(err);
	if ((rc = file_add(s, f, path, key, &idx, err)) < 0)
		goto done;
	o->file = idx;
	o->next++;
	o->nfiles++;
	o->raw = 0;
	o->stored = 0;
	if (!o->sha && !(o->sha = EVP_MD_CTX_new())) {
		rc = oom(err);
		goto done;
	}
	if (EVP_DigestInit_ex(o->sha, EVP_sha256(), NULL) != 1) {
		rc = ms_error_set(err, MS_ERROR, "cannot start sha256");
		goto done;
	}
	if (s->gz) {
		memset(&o->z, 0, sizeof(o->z));
		if (deflateInit2(&o->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			rc = ms_error_set(err, MS_ENOMEM, "cannot start gzip compression");
			goto done;
		}
		o->zinit = 1;
		if (!o->zout && !(o->zout = malloc(GZ_CHUNK))) {
			rc = oom(err);
			goto done;
		}
	}
	rc = ms_store_put_open(s->store, key, &o->w, err);
done:
	free(key);
	return rc;
}

static int part_emit(snapshot *s, part_out *o, const void *data, size_t len, ms_error *err)
{
	int rc;

	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(o->sha, data, len) != 1)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	if ((rc = ms_store_write(o->w, data, len, err)) < 0)
		return rc;
	o->stored += len;
	return 0;
}

/* Hand the pending bytes to the store, compressing them first with gzip. */
static int part_flush(snapshot *s, part_out *o, int finish, ms_error *err)
{
	int rc, zr;

	if (!s->gz) {
		rc = part_emit(s, o, o->pend.ptr, o->pend.len, err);
		ms_buf_reset(&o->pend);
		return rc;
	}
	o->z.next_in = (Bytef *)o->pend.ptr;
	o->z.avail_in = (uInt)o->pend.len;
	do {
		o->z.next_out = o->zout;
		o->z.avail_out = (uInt)GZ_CHUNK;
		zr = deflate(&o->z, finish ? Z_FINISH : Z_NO_FLUSH);
		if (zr == Z_STREAM_ERROR)
			return ms_error_set(err, MS_ERROR, "gzip compression failed");
		if ((rc = part_emit(s, o, o->zout, GZ_CHUNK - o->z.avail_out, err)) < 0)
			return rc;
	} while (finish ? zr != Z_STREAM_END : (o->z.avail_in > 0 || o->z.avail_out == 0));
	ms_buf_reset(&o->pend);
	return 0;
}

/* Finish the open part: flush, record size and hash, commit. */
static int part_close(snapshot *s, int f, ms_error *err)
{
	part_out *o = &s->out[f];
	file_rec *fr = &s->files[o->file];
	unsigned int mdlen = 0;
	ms_store_writer *w;
	int rc;

	if ((rc = part_flush(s, o, 1, err)) < 0)
		return rc;
	if (EVP_DigestFinal_ex(o->sha, fr->sha, &mdlen) != 1 || mdlen != MS_HASH_LEN)
		return ms_error_set(err, MS_ERROR, "sha256 failed");
	fr->bytes = o->stored;
	if (o->zinit) {
		deflateEnd(&o->z);
		o->zinit = 0;
	}
	w = o->w;
	o->w = NULL;
	if ((rc = ms_store_commit(w, err)) < 0)
		return rc;
	return note_written(s, fr->key, err);
}

/*
 * Append e as one line to folder f; *file / *offset / *bytes say where it
 * went (for partition spans).
 */
static int emit_line(snapshot *s, int f, const ms_entity *e, size_t *file, uint64_t *offset,
		     uint64_t *bytes, ms_error *err)
{
	part_out *o = &s->out[f];
	int rc;

	ms_buf_reset(&s->line);
	if ((rc = ms_entity_to_line(e, &s->line, err)) < 0)
		return rc;
	if (ms_buf_addc(&s->line, '\n') < 0)
		return ms_error_set(err, MS_ETOOBIG, "a %s line is longer than %zu bytes",
				    ms_kind_name(e->kind), s->line.cap);
	if (o->w && o->raw > 0 && o->raw + s->line.len > s->part_bytes) {
		if ((rc = part_close(s, f, err)) < 0)
			return writer_fail(s, rc, err);
	}
	if (!o->w && (rc = part_open(s, f, err)) < 0)
		return writer_fail(s, rc, err);
	if (ms_buf_add(&o->pend, s->line.ptr, s->line.len) < 0)
		return writer_fail(s, oom(err), err);
	*file = o->file;
	*offset = o->raw;
	*bytes = s->line.len;
	o->raw += s->line.len;
	s->files[o->file].lines++;
	s->counts[f]++;
	if (o->pend.len >= IO_CHUNK && (rc = part_flush(s, o, 0, err)) < 0)
		return writer_fail(s, rc, err);
	return 0;
}

static int writer_usable(snapshot *s, ms_error *err)
{
	if (s->finished)
		return ms_error_set(err, MS_EINVAL, "snapshot '%s' is finished: nothing more can be written",
				    s->label);
	if (s->broken)
		return ms_error_set(err, MS_EIO, "snapshot '%s' failed earlier: %s", s->label,
				    s->broken_why[0] ? s->broken_why : "nothing more can be written");
	return 0;
}

static int w_list_names(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err)
{
	return 0;
}

static int w_list_tables(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx,
			 ms_error *err)
{
	return 0;
}

static int w_get_database(ms_catalog *self, const char *name, ms_entity **out, ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name, self->url);
}

static int w_get_table(ms_catalog *self, const char *db, const char *name, ms_entity **out,
		       ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, name,
			    self->url);
}

static int w_scan(ms_catalog *self, const char *db, const char *table, unsigned int flags,
		  ms_entity_cb cb, void *ctx, ms_error *err)
{
	return 0;
}

static int w_get_partition(ms_catalog *self, const char *db, const char *table,
			   const char *vkey, ms_entity **out, ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "partition %s of '%s.%s' not found in '%s'", vkey,
			    db, table, self->url);
}

static int w_table_digest(ms_catalog *self, const char *db, const char *table, ms_digest *out,
			  ms_error *err)
{
	ms_digest_init(out);
	return 0;
}

static int w_put_database(ms_catalog *self, const ms_entity *db, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t idx, file;
	uint64_t off, bytes;
	int rc;

	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	if (db->kind != MS_KIND_DATABASE || !db->database)
		return ms_error_set(err, MS_EINVAL, "put_database was given a %s",
				    ms_kind_name(db->kind));
	if (db_find(s, db->database) != NONE)
		return ms_error_set(err, MS_EEXISTS, "database '%s' is already in snapshot '%s'",
				    db->database, s->label);
	if ((rc = emit_line(s, F_DATABASES, db, &file, &off, &bytes, err)) < 0)
		return rc;
	if ((rc = db_add(s, db->database, &idx, err)) < 0)
		return writer_fail(s, rc, err);
	return 0;
}

static int w_put_table(ms_catalog *self, const ms_entity *table, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	ms_entity *copy = NULL;
	size_t idx, file;
	uint64_t off, bytes;
	int rc;

	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	if (table->kind != MS_KIND_TABLE || !table->database || !table->table)
		return ms_error_set(err, MS_EINVAL, "put_table was given a %s",
				    ms_kind_name(table->kind));
	if (db_find(s, table->database) == NONE)
		return ms_error_set(err, MS_ENOTFOUND,
				    "database '%s' of table '%s.%s' is not in snapshot '%s'",
				    table->database, table->database, table->table, s->label);
	if (table_find(s, table->database, table->table) != NONE)
		return ms_error_set(err, MS_EEXISTS, "table '%s.%s' is already in snapshot '%s'",
				    table->database, table->table, s->label);
	if (!table->hashed) {
		if ((rc = ms_entity_dup(&copy, table, err)) < 0 ||
		    (rc = ms_entity_rehash(copy, err)) < 0)
			goto done;
		table = copy;
	}
	if ((rc = emit_line(s, F_TABLES, table, &file, &off, &bytes, err)) < 0)
		goto done;
	if ((rc = table_add(s, table->database, table->table, &idx, err)) < 0) {
		rc = writer_fail(s, rc, err);
		goto done;
	}
	memcpy(s->tables[idx].hash, table->hash, MS_HASH_LEN);
	s->tables[idx].has_hash = 1;
	s->tables[idx].has_digest = 1;
	s->tables[idx].nkeys = ms_table_key_count(table);
	rc = 0;
done:
	ms_entity_free(copy);
	return rc;
}

static int cmp_fp(const void *a, const void *b)
{
	return memcmp(a, b, FP_LEN);
}

/*
 * Check a batch for table t before any of it is written, so that a refused
 * batch leaves nothing behind: every partition is one of t, with as many
 * values as t has partition keys (MS_EINVAL), and none has the values of
 * another in the batch or of one already written for t (MS_EEXISTS: the
 * reader would refuse the snapshot).  fps receives the batch's
 * fingerprints.  Values are remembered per table for as long as its
 * partitions are written one batch after another (the engine writes a
 * table's partitions together); when another table's come in between, the
 * table starts afresh.
 */
static int w_check_batch(snapshot *s, table_rec *t, ms_entity *const *parts, size_t n,
			 unsigned char *fps, ms_error *err)
{
	unsigned char *sorted = NULL;
	EVP_MD_CTX *md = NULL;
	size_t i;
	int rc = 0;

	if (!(md = EVP_MD_CTX_new()) || !(sorted = malloc(n * FP_LEN))) {
		rc = oom(err);
		goto done;
	}
	for (i = 0; i < n; i++) {
		const ms_entity *e = parts[i];

		if (!e || e->kind != MS_KIND_PARTITION || !e->database || !e->table || !e->vkey ||
		    strcmp(e->database, t->database) != 0 || strcmp(e->table, t->name) != 0) {
			rc = ms_error_set(err, MS_EINVAL,
					  "put_partitions for '%s.%s' was given a %s of '%s.%s'",
					  t->database, t->name, e ? ms_kind_name(e->kind) : "null",
					  e && e->database ? e->database : "",
					  e && e->table ? e->table : "");
			goto done;
		}
		if ((rc = check_value_count(t, vkey_count(e->vkey), e->vkey, err)) < 0)
			goto done;
		if (fp_begin(md) < 0 || fp_value(md, e->vkey, strlen(e->vkey)) < 0 ||
		    fp_end(md, fps + i * FP_LEN) < 0) {
			rc = ms_error_set(err, MS_ERROR, "sha256 failed");
			goto done;
		}
		if (fpset_find(&t->seen, fps + i * FP_LEN)) {
			rc = ms_error_set(err, MS_EEXISTS,
					  "partition %.200s of '%s.%s' is already in snapshot '%s'",
					  e->vkey, t->database, t->name, s->label);
			goto done;
		}
	}
	memcpy(sorted, fps, n * FP_LEN);
	qsort(sorted, n, FP_LEN, cmp_fp);
	for (i = 1; i < n; i++)
		if (memcmp(sorted + (i - 1) * FP_LEN, sorted + i * FP_LEN, FP_LEN) == 0) {
			size_t a, b;

			for (a = 0; memcmp(fps + a * FP_LEN, sorted + i * FP_LEN, FP_LEN) != 0; a++)
				;
			for (b = a + 1; memcmp(fps + b * FP_LEN, sorted + i * FP_LEN, FP_LEN) != 0; b++)
				;
			rc = ms_error_set(err, MS_EEXISTS,
					  "partition %.200s of '%s.%s' is given twice in one batch "
					  "(entities %zu and %zu)",
					  parts[b]->vkey, t->database, t->name, a, b);
			goto done;
		}
done:
	free(sorted);
	EVP_MD_CTX_free(md);
	return rc;
}

static int w_put_partitions(ms_catalog *self, const char *db, const char *table,
			    ms_entity *const *parts, size_t n, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	unsigned char *fps = NULL;
	table_rec *t;
	size_t i, ti;
	int rc;

	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	ti = s->cur_table;
	if (ti == NONE || ti >= s->ntables || strcmp(s->tables[ti].database, db) != 0 ||
	    strcmp(s->tables[ti].name, table) != 0)
		ti = table_lookup(s, db, table);
	if (ti == NONE)
		return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' is not in snapshot '%s'", db,
				    table, s->label);
	if (s->cur_table != NONE && s->cur_table != ti)
		fpset_free(&s->tables[s->cur_table].seen);
	s->cur_table = ti;
	t = &s->tables[ti];
	if (n == 0)
		return 0;
	if (!(fps = malloc(n * FP_LEN)))
		return oom(err);
	if ((rc = w_check_batch(s, t, parts, n, fps, err)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		const ms_entity *e = parts[i];
		ms_entity *copy = NULL;
		size_t file;
		uint64_t off, bytes;

		if (fpset_add(&t->seen, fps + i * FP_LEN, 0, 0) < 0) {
			rc = oom(err);
			goto done;
		}
		if (!e->hashed) {
			if ((rc = ms_entity_dup(&copy, e, err)) < 0 ||
			    (rc = ms_entity_rehash(copy, err)) < 0) {
				ms_entity_free(copy);
				goto done;
			}
			e = copy;
		}
		rc = emit_line(s, F_PARTITIONS, e, &file, &off, &bytes, err);
		if (rc == 0) {
			ms_digest_add(&t->digest, e->hash);
			if (span_add(t, file, off, bytes, 1) < 0)
				rc = writer_fail(s, oom(err), err);
		}
		ms_entity_free(copy);
		if (rc < 0)
			goto done;
	}
	rc = 0;
done:
	free(fps);
	return rc;
}

/* JSON string literal of s (NULL: null) appended to b. */
static int json_str(ms_buf *b, const char *s)
{
	const unsigned char *p;
	int rc = 0;

	if (!s)
		return ms_buf_adds(b, "null");
	if ((rc = ms_buf_addc(b, '"')) < 0)
		return rc;
	for (p = (const unsigned char *)s; *p && rc == 0; p++) {
		switch (*p) {
		case '"': rc = ms_buf_adds(b, "\\\""); break;
		case '\\': rc = ms_buf_adds(b, "\\\\"); break;
		case '\n': rc = ms_buf_adds(b, "\\n"); break;
		case '\r': rc = ms_buf_adds(b, "\\r"); break;
		case '\t': rc = ms_buf_adds(b, "\\t"); break;
		default:
			if (*p < 0x20)
				rc = ms_buf_printf(b, "\\u%04x", *p);
			else
				rc = ms_buf_addc(b, (char)*p);
		}
	}
	return rc < 0 ? rc : ms_buf_addc(b, '"');
}

static int json_hex(ms_buf *b, const unsigned char *hash)
{
	char hex[2 * MS_HASH_LEN + 1];

	ms_hex(hash, MS_HASH_LEN, hex);
	return json_str(b, hex);
}

/* Index permutations sorted by path or name (a merge sort: qsort has no context). */
typedef int (*idx_cmp)(const snapshot *s, size_t a, size_t b);

static int idx_cmp_file(const snapshot *s, size_t a, size_t b)
{
	return strcmp(s->files[a].path, s->files[b].path);
}

static int idx_cmp_db(const snapshot *s, size_t a, size_t b)
{
	return strcmp(s->dbs[a].name, s->dbs[b].name);
}

static int idx_cmp_table(const snapshot *s, size_t a, size_t b)
{
	int c = strcmp(s->tables[a].database, s->tables[b].database);

	return c ? c : strcmp(s->tables[a].name, s->tables[b].name);
}

static void merge_sort(const snapshot *s, size_t *v, size_t *tmp, size_t n, idx_cmp cmp)
{
	size_t mid, i, j, k;

	if (n < 2)
		return;
	mid = n / 2;
	merge_sort(s, v, tmp, mid, cmp);
	merge_sort(s, v + mid, tmp, n - mid, cmp);
	for (i = 0, j = mid, k = 0; i < mid && j < n;)
		tmp[k++] = cmp(s, v[j], v[i]) < 0 ? v[j++] : v[i++];
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

/* A new array of 0..n-1 sorted by cmp, or NULL when out of memory. */
static size_t *sorted_indices(const snapshot *s, size_t n, idx_cmp cmp)
{
	size_t *v = malloc((n ? n : 1) * sizeof(*v));
	size_t *tmp = malloc((n ? n : 1) * sizeof(*tmp));
	size_t i;

	if (!v || !tmp) {
		free(v);
		free(tmp);
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = i;
	merge_sort(s, v, tmp, n, cmp);
	free(tmp);
	return v;
}

/*
 * manifest.json, one JSON object (one entry of "files" and "tables" per line):
 *
 *   {"format":"metasync-snapshot","version":1,"snapshot":ID,"created":"...Z",
 *    "source":{"url":REDACTED|null,"catalog_id":ID|null[,"instance":GUID]},
 *    "selection":S|null,
 *    "parent":null,"databases":[names, sorted],
 *    "counts":{"databases":N,"tables":N,"partitions":N},
 *    "files":[{"path":"partitions/part-00000.json","bytes":N,"lines":N,"sha256":HEX},...],
 *    "tables":[{"database":D,"table":T,"hash":HEX,
 *               "partitions":{"count":N,"hash":HEX,"sum":HEX,
 *                             "spans":[[FILE,OFFSET,BYTES,LINES],...]}},...]}
 *
 * files are sorted by path; bytes and sha256 are of the stored (possibly
 * gzip) bytes.  A span's FILE indexes "files"; OFFSET and BYTES are
 * uncompressed.  partitions.hash is ms_digest_final of the set; "sum" is
 * the raw digest sum, which table_digest needs and the final hash cannot
 * give back.
 */
static int build_manifest(snapshot *s, ms_buf *b, ms_error *err)
{
	size_t *forder = NULL, *fpos = NULL, *dorder = NULL, *torder = NULL, i, j;
	int rc = 0;

	forder = sorted_indices(s, s->nfiles, idx_cmp_file);
	dorder = sorted_indices(s, s->ndbs, idx_cmp_db);
	torder = sorted_indices(s, s->ntables, idx_cmp_table);
	fpos = malloc((s->nfiles ? s->nfiles : 1) * sizeof(*fpos));
	if (!forder || !dorder || !torder || !fpos) {
		rc = oom(err);
		goto done;
	}
	for (i = 0; i < s->nfiles; i++)
		fpos[forder[i]] = i;

	rc |= ms_buf_adds(b, "{\"format\":\"metasync-snapshot\",\"version\":1,\"snapshot\":");
	rc |= json_str(b, s->id);
	rc |= ms_buf_adds(b, ",\"created\":");
	rc |= json_str(b, s->created);
	rc |= ms_buf_adds(b, ",\"source\":{\"url\":");
	rc |= json_str(b, s->source_url);
	rc |= ms_buf_adds(b, ",\"catalog_id\":");
	rc |= json_str(b, s->source_catalog_id);
	if (s->source_instance) {
		rc |= ms_buf_adds(b, ",\"instance\":");
		rc |= json_str(b, s->source_instance);
	}
	rc |= ms_buf_adds(b, "},\"selection\":");
	rc |= json_str(b, s->base.selection);
	rc |= ms_buf_adds(b, ",\"parent\":null,\n\"databases\":[");
	for (i = 0; i < s->ndbs; i++) {
		if (i)
			rc |= ms_buf_addc(b, ',');
		rc |= json_str(b, s->dbs[dorder[i]].name);
	}
	rc |= ms_buf_printf(b,
			    "],\n\"counts\":{\"databases\":%llu,\"tables\":%llu,\"partitions\":%llu},"
			    "\n\"files\":[",
			    (unsigned long long)s->counts[F_DATABASES],
			    (unsigned long long)s->counts[F_TABLES],
			    (unsigned long long)s->counts[F_PARTITIONS]);
	for (i = 0; i < s->nfiles; i++) {
		const file_rec *f = &s->files[forder[i]];

		rc |= ms_buf_adds(b, i ? ",\n{\"path\":" : "\n{\"path\":");
		rc |= json_str(b, f->path);
		rc |= ms_buf_printf(b, ",\"bytes\":%llu,\"lines\":%llu,\"sha256\":",
				    (unsigned long long)f->bytes, (unsigned long long)f->lines);
		rc |= json_hex(b, f->sha);
		rc |= ms_buf_addc(b, '}');
	}
	rc |= ms_buf_adds(b, "],\n\"tables\":[");
	for (i = 0; i < s->ntables; i++) {
		const table_rec *t = &s->tables[torder[i]];
		unsigned char fin[MS_HASH_LEN];

		ms_digest_final(&t->digest, fin);
		rc |= ms_buf_adds(b, i ? ",\n{\"database\":" : "\n{\"database\":");
		rc |= json_str(b, t->database);
		rc |= ms_buf_adds(b, ",\"table\":");
		rc |= json_str(b, t->name);
		rc |= ms_buf_adds(b, ",\"hash\":");
		rc |= json_hex(b, t->hash);
		rc |= ms_buf_printf(b, ",\"partitions\":{\"count\":%llu,\"hash\":",
				    (unsigned long long)t->digest.count);
		rc |= json_hex(b, fin);
		rc |= ms_buf_adds(b, ",\"sum\":");
		rc |= json_hex(b, t->digest.sum);
		rc |= ms_buf_adds(b, ",\"spans\":[");
		for (j = 0; j < t->nspans; j++) {
			const span *sp = &t->spans[j];

			rc |= ms_buf_printf(b, "%s[%zu,%llu,%llu,%llu]", j ? "," : "",
					    fpos[sp->file], (unsigned long long)sp->offset,
					    (unsigned long long)sp->bytes,
					    (unsigned long long)sp->lines);
		}
		rc |= ms_buf_adds(b, "]}}");
	}
	rc |= ms_buf_adds(b, "]}\n");
	if (rc != 0)
		rc = ms_error_set(err, MS_ETOOBIG, "manifest of snapshot '%s' is larger than %zu bytes",
				  s->label, MANIFEST_MAX);
done:
	free(forder);
	free(fpos);
	free(dorder);
	free(torder);
	return rc;
}

/* catalog.h: the timestamp, then the numeric "-N" suffix. */
int ms_snapshot_id_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned long sa = 0, sb = 0;
	int c;

	if (la < 19 || lb < 19)
		return strcmp(a, b);
	c = strncmp(a, b, 19);
	if (c)
		return c;
	if (la > 20 && a[19] == '-')
		sa = strtoul(a + 20, NULL, 10) + 1;
	if (lb > 20 && b[19] == '-')
		sb = strtoul(b + 20, NULL, 10) + 1;
	return sa < sb ? -1 : sa > sb;
}

static int safe_id(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > SNAPSHOT_ID_MAX || strcmp(id, ".") == 0 || strstr(id, ".."))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f || id[i] == '/' || id[i] == '\\')
			return 0;
	return 1;
}

/* Point LATEST at this snapshot unless it already names a newer complete one. */
static int update_latest(snapshot *s, ms_error *err)
{
	char *cur = NULL, *key = NULL, *text = NULL;
	size_t len = 0;
	ms_store_stat st;
	ms_error e2;
	int rc;

	if (ms_store_get_bytes(s->store, "LATEST", LATEST_MAX, &cur, &len, &e2) == 0) {
		while (len > 0 && (cur[len - 1] == '\n' || cur[len - 1] == '\r'))
			cur[--len] = '\0';
		if (safe_id(cur) && ms_snapshot_id_cmp(cur, s->id) > 0 && (key = dup_printf("%s/_SUCCESS", cur)) &&
		    ms_store_stat_key(s->store, key, &st, &e2) == 0) {
			rc = 0;
			goto done;
		}
	}
	if (!(text = dup_printf("%s\n", s->id))) {
		rc = oom(err);
		goto done;
	}
	rc = ms_store_put_bytes(s->store, "LATEST", text, strlen(text), err);
done:
	free(cur);
	free(key);
	free(text);
	return rc;
}

/* s->manifest_sha256 = hex SHA-256 of the manifest text. */
static int sha256_hex(snapshot *s, const char *text, size_t len, ms_error *err)
{
	unsigned char md[MS_HASH_LEN];
	unsigned int mdlen = 0;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != MS_HASH_LEN)
		return ms_error_set(err, MS_ERROR, "sha-256 of the manifest of '%s' failed", s->label);
	ms_hex(md, MS_HASH_LEN, s->manifest_sha256);
	return 0;
}

static int w_finish(ms_catalog *self, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	ms_buf m = MS_BUF_INIT(MANIFEST_MAX);
	char *key = NULL;
	int rc, f;

	if (s->finished)
		return 0;
	if ((rc = writer_usable(s, err)) < 0)
		return rc;
	for (f = 0; f < F_COUNT; f++) {
		/* Every folder gets at least one (possibly empty) part, as Spark writes. */
		if (!s->out[f].w && s->out[f].nfiles == 0 && (rc = part_open(s, f, err)) < 0)
			goto done;
		if (s->out[f].w && (rc = part_close(s, f, err)) < 0)
			goto done;
	}
	for (f = 0; f < F_COUNT; f++) {
		free(key);
		if (!(key = dup_printf("%s%s/_SUCCESS", s->prefix, folder_names[f]))) {
			rc = oom(err);
			goto done;
		}
		if ((rc = ms_store_put_bytes(s->store, key, "", 0, err)) < 0 ||
		    (rc = note_written(s, key, err)) < 0)
			goto done;
	}
	if ((rc = build_manifest(s, &m, err)) < 0)
		goto done;
	free(key);
	if (!(key = dup_printf("%smanifest.json", s->prefix))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ms_store_put_bytes(s->store, key, m.ptr, m.len, err)) < 0 ||
	    (rc = note_written(s, key, err)) < 0 ||
	    (rc = sha256_hex(s, m.ptr, m.len, err)) < 0)
		goto done;
	free(key);
	if (!(key = dup_printf("%s_SUCCESS", s->prefix))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ms_store_put_bytes(s->store, key, "", 0, err)) < 0 ||
	    (rc = note_written(s, key, err)) < 0)
		goto done;
	/*
	 * Complete from here on: if LATEST cannot be updated (or its update is
	 * lost on the way back), the snapshot stays, so that LATEST names either
	 * the previous snapshot or this whole one.
	 */
	s->sealed = 1;
	if ((rc = update_latest(s, err)) < 0)
		goto done;
	s->finished = 1;
	rc = 0;
done:
	if (rc < 0)
		s->broken = 1;
	free(key);
	ms_buf_free(&m);
	return rc;
}

/* ms_catalog_snapshot_info for both sides: a finished writer, a reader. */
/*
 * The URL that names a snapshot to others: its label, with a local path made
 * absolute (from the working directory) and free of '.' and '..' segments,
 * taken lexically so that a path through a link stays the path the user
 * gave; an event never names a path that only makes sense in the exporter's
 * working directory.  New, or NULL.
 */
static char *announced_url(const char *label)
{
	const char *path = strncmp(label, "file:", 5) == 0 ? label + 5 : label, *seg;
	char cwd[4096];
	ms_buf in = MS_BUF_INIT((size_t)64 << 10), out = MS_BUF_INIT((size_t)64 << 10);
	char *result = NULL;

	if (path != label && strncmp(path, "//", 2) == 0)
		path += 2;
	if (strstr(label, "://") && path == label)
		return strdup(label); /* s3:// and other remote stores */
	if (path[0] != '/' && (!getcwd(cwd, sizeof(cwd)) || ms_buf_printf(&in, "%s/", cwd) < 0))
		goto done;
	if (ms_buf_adds(&in, path) < 0)
		goto done;
	for (seg = ms_buf_cstr(&in); *seg;) {
		size_t n = strcspn(seg, "/");

		if (n == 2 && strncmp(seg, "..", 2) == 0) {
			while (out.len && out.ptr[out.len - 1] != '/')
				out.len--;
			if (out.len)
				out.len--;
			if (out.ptr)
				out.ptr[out.len] = '\0';
		} else if (n && !(n == 1 && seg[0] == '.') &&
			   (ms_buf_addc(&out, '/') < 0 || ms_buf_add(&out, seg, n) < 0)) {
			goto done;
		}
		seg += n;
		seg += *seg == '/';
	}
	result = out.len ? ms_buf_detach(&out) : strdup("/");
done:
	ms_buf_free(&in);
	ms_buf_free(&out);
	return result;
}

static int snapshot_info(ms_catalog *self, ms_snapshot_info *out, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	const char *id = s->writing ? s->id : s->manifest_id;
	const char *created = s->writing ? s->created : s->manifest_created;
	const char *cid = s->writing ? s->source_catalog_id : self->catalog_id;

	if (s->writing && !s->finished)
		return ms_error_set(err, MS_ENOTSUPPORTED, "snapshot '%s' is not finished", s->label);
	if ((id && !(out->id = strdup(id))) || !(out->url = announced_url(s->label)) ||
	    (cid && !(out->source_catalog_id = strdup(cid))) ||
	    (created && created[0] && !(out->created = strdup(created))) ||
	    (self->selection && !(out->selection = strdup(self->selection)))) {
		ms_snapshot_info_free(out);
		return oom(err);
	}
	if (s->has_manifest || s->writing)
		memcpy(out->manifest_sha256, s->manifest_sha256, sizeof(out->manifest_sha256));
	out->databases = s->counts[F_DATABASES];
	out->tables = s->counts[F_TABLES];
	out->partitions = s->counts[F_PARTITIONS];
	return 0;
}

static void w_close(ms_catalog *self)
{
	snapshot *s = (snapshot *)self;
	size_t i;
	int f;

	if (!s->finished && !s->sealed) {
		/*
		 * Nothing of an unfinished snapshot may look complete: undo, newest
		 * first, and stop at the first removal that fails (a remote store may
		 * refuse one), so that what stays is always everything written before
		 * it: a _SUCCESS is never left without the files it vouches for.
		 */
		for (f = 0; f < F_COUNT; f++)
			part_out_free(&s->out[f]);
		for (i = s->nwritten; i-- > 0;) {
			ms_error e2;
			int rc = ms_store_remove(s->store, s->written[i], &e2);

			if (rc < 0 && rc != MS_ENOTFOUND)
				break;
		}
	}
	snapshot_free(s);
}

static const ms_catalog_driver snapshot_writer_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "snapshot",
	.caps = MS_CAP_WRITE | MS_CAP_RAW_INPUT,
	.max_batch = 0,
	/* required; frees the instance; unfinished: aborts and removes what it wrote */
	.close = w_close,
	/* a new snapshot is an empty catalog: yields nothing, returns 0 */
	.list_databases = w_list_names,
	/* always MS_ENOTFOUND */
	.get_database = w_get_database,
	/* appends one line (db borrowed); MS_EEXISTS when written twice, MS_EIO */
	.put_database = w_put_database,
	/* NULL: a snapshot being written is append-only (MS_ENOTSUPPORTED) */
	.delete_database = NULL,
	/* yields nothing, returns 0 */
	.list_tables = w_list_tables,
	/* always MS_ENOTFOUND */
	.get_table = w_get_table,
	/* appends one line (borrowed); MS_ENOTFOUND its database unwritten, MS_EEXISTS, MS_EIO */
	.put_table = w_put_table,
	/* NULL: append-only */
	.delete_table = NULL,
	/* yields nothing, returns 0 */
	.scan_partitions = w_scan,
	/* always MS_ENOTFOUND */
	.get_partition = w_get_partition,
	/* appends lines (borrowed), records spans and digest; checks the batch first and
	 * writes none of it when refused: MS_ENOTFOUND table unwritten, MS_EINVAL a
	 * partition of another table or with a wrong number of values, MS_EEXISTS values
	 * written before for the table (or twice in the batch), MS_EIO */
	.put_partitions = w_put_partitions,
	/* NULL: append-only */
	.delete_partitions = NULL,
	/* count 0, sum 0: nothing is in the target yet */
	.table_digest = w_table_digest,
	/* NULL: nothing to verify in a snapshot being written (the core returns 0) */
	.verify_table = NULL,
	/* NULL: not transactional (the core returns 0); finish is the commit */
	.begin = NULL,
	/* NULL */
	.commit = NULL,
	/* NULL */
	.rollback = NULL,
	/* NULL: no change feed (MS_ENOTSUPPORTED) */
	.changes_since = NULL,
	/* required to publish: commits the parts, per-folder _SUCCESS, manifest.json, _SUCCESS,
	 * then LATEST; idempotent once done; MS_EIO, MS_ETOOBIG (manifest) */
	.finish = w_finish,
	/* once finished: id, url, manifest SHA-256, counts */
	.snapshot_info = snapshot_info,
};

static int open_writer(snapshot *s, const ms_url *url, const ms_open_options *opts,
		       ms_error *err)
{
	char *text = NULL;
	time_t now = time(NULL);
	struct tm tm;
	char base[32];
	int rc, i;

	if (opts->compress && opts->compress[0] && strcmp(opts->compress, "gzip") != 0 &&
	    strcmp(opts->compress, "none") != 0)
		return ms_error_set(err, MS_EINVAL, "unknown compression '%s' (use gzip or none)",
				    opts->compress);
	s->gz = opts->compress && strcmp(opts->compress, "gzip") == 0;
	s->part_bytes = opts->part_bytes ? opts->part_bytes : DEFAULT_PART_BYTES;
	s->cur_table = NONE;
	ms_buf_init(&s->line, LINE_MAX_BYTES);
	for (i = 0; i < F_COUNT; i++)
		ms_buf_init(&s->out[i].pend, LINE_MAX_BYTES + IO_CHUNK);
	if (opts->source_url && !(s->source_url = ms_url_redact(opts->source_url)))
		return oom(err);
	if (opts->source_instance && !(s->source_instance = strdup(opts->source_instance)))
		return oom(err);
	if (opts->source_catalog_id && !(s->source_catalog_id = strdup(opts->source_catalog_id)))
		return oom(err);
	if (opts->selection && !(s->base.selection = strdup(opts->selection)))
		return oom(err);
	if (!(text = store_url_text(url)))
		return oom(err);
	rc = ms_store_open(&s->store, text, err);
	free(text);
	if (rc < 0)
		return rc;
	gmtime_r(&now, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d-%H-%M-%S", &tm);
	strftime(s->created, sizeof(s->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (i = 0; i < 1000; i++) {
		free(s->id);
		free(s->prefix);
		s->id = i ? dup_printf("%s-%d", base, i) : strdup(base);
		s->prefix = s->id ? dup_printf("%s/", s->id) : NULL;
		if (!s->id || !s->prefix)
			return oom(err);
		if ((rc = prefix_used(s->store, s->prefix, err)) < 0)
			return rc;
		/* held until closed, so that no one takes it for abandoned (store gc) */
		if (rc == 0 && (rc = ms_store_lock(s->store, s->prefix, MS_STORE_LOCK_WRITER, NULL, 0,
						   err)) >= 0)
			break;
		if (rc < 0 && rc != MS_ECONFLICT)
			return rc;   /* MS_ECONFLICT: another export took this name just now */
	}
	if (i == 1000)
		return ms_error_set(err, MS_EEXISTS, "no free snapshot name for '%s' in '%s'", base,
				    ms_store_url(s->store));
	if (!(s->label = join_label(ms_store_url(s->store), s->id)))
		return oom(err);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The reader                                                               */

static int r_list_databases(ms_catalog *self, ms_name_cb cb, void *ctx, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t i;
	int rc;

	for (i = 0; i < s->ndbs; i++)
		if ((rc = cb(s->dbs[i].name, ctx, err)) != 0)
			return rc;
	return 0;
}

static int r_get_database(ms_catalog *self, const char *name, ms_entity **out, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t i = db_lookup(s, name);

	if (i == NONE)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", name,
				    s->label);
	return ms_entity_dup(out, s->dbs[i].entity, err);
}

/* First index in the (sorted) tables of database db. */
static size_t tables_lower_bound(const snapshot *s, const char *db)
{
	size_t lo = 0, hi = s->ntables;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->tables[mid].database, db) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int r_list_tables(ms_catalog *self, const char *db, ms_name_cb cb, void *ctx,
			 ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t di = db_lookup(s, db), i;
	int rc;

	if (di == NONE)
		return ms_error_set(err, MS_ENOTFOUND, "database '%s' not found in '%s'", db,
				    s->label);
	for (i = tables_lower_bound(s, s->dbs[di].name);
	     i < s->ntables && strcmp(s->tables[i].database, s->dbs[di].name) == 0; i++)
		if ((rc = cb(s->tables[i].name, ctx, err)) != 0)
			return rc;
	return 0;
}

static int table_not_found(const snapshot *s, const char *db, const char *table, ms_error *err)
{
	return ms_error_set(err, MS_ENOTFOUND, "table '%s.%s' not found in '%s'", db, table,
			    s->label);
}

static int r_get_table(ms_catalog *self, const char *db, const char *name, ms_entity **out,
		       ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t i = table_lookup(s, db, name);

	if (i == NONE)
		return table_not_found(s, db, name, err);
	return ms_entity_dup(out, s->tables[i].entity, err);
}

static int integrity(const snapshot *s, const file_rec *f, ms_error *err, const char *what)
{
	return ms_error_set(err, MS_EINTEGRITY, "snapshot '%s' file '%s' %s", s->label, f->path,
			    what);
}

static int cmp_owner(const void *a, const void *b)
{
	const line_owner *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* s->owners: every span of every table, sorted by file and offset. */
static int owners_build(snapshot *s, ms_error *err)
{
	size_t i, j, n = 0;

	for (i = 0; i < s->ntables; i++)
		n += s->tables[i].nspans;
	if (!(s->owners = malloc((n ? n : 1) * sizeof(*s->owners))))
		return oom(err);
	for (i = 0; i < s->ntables; i++)
		for (j = 0; j < s->tables[i].nspans; j++) {
			const span *sp = &s->tables[i].spans[j];
			line_owner *o = &s->owners[s->nowners++];

			o->file = sp->file;
			o->offset = sp->offset;
			o->end = sp->offset + sp->bytes;
			o->table = i;
		}
	qsort(s->owners, s->nowners, sizeof(*s->owners), cmp_owner);
	return 0;
}

/* The spans in file fi: s->owners[*lo, *hi). */
static void owners_of(const snapshot *s, size_t fi, size_t *lo, size_t *hi)
{
	size_t a = 0, b = s->nowners;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (s->owners[mid].file < fi)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (a < s->nowners && s->owners[a].file == fi)
		a++;
	*hi = a;
}

/*
 * Once every file a table's spans touch is verified, all its lines have been
 * checked: its set of values is no longer needed.
 */
static void release_checked(snapshot *s, size_t lo, size_t hi)
{
	size_t o, j;

	for (o = lo; o < hi; o++) {
		table_rec *t = &s->tables[s->owners[o].table];

		if (!t->seen.slots)
			continue;
		for (j = 0; j < t->nspans && s->files[t->spans[j].file].state == 1; j++)
			;
		if (j == t->nspans)
			fpset_free(&t->seen);
	}
}

/*
 * 1 when every peeked value (unescaped, so its bytes are its text) is as
 * long as Glue's ValueString allows: not empty, and in bytes (never fewer
 * than its characters) at most MS_VALUE_MAX.  Other values go to the
 * parser, which decides and names what is wrong.
 */
static int values_fit(const ms_line_values *lv)
{
	size_t i;

	for (i = 0; i < lv->n; i++)
		if (lv->len[i] == 0 || lv->len[i] > MS_VALUE_MAX)
			return 0;
	return 1;
}

/*
 * Check one partition line of table t while its file is verified: the
 * values by a peek when the line allows it, else by parsing the line (which
 * also names what is wrong).  A bad line is kept on its table, for
 * verify_table of that table to report; lines of a table already found bad
 * are not looked at.  0, or < 0 when the file cannot be checked on.
 */
static int verify_line(snapshot *s, size_t fi, table_rec *t, const char *line, size_t len,
		       uint64_t lineno, EVP_MD_CTX *md, ms_error *err)
{
	ms_line_values lv;
	unsigned char fp[FP_LEN];
	ms_entity *e = NULL;
	ms_error lerr;
	size_t n = 0;
	int rc;

	if (t->bad)
		return 0;
	if (ms_line_values_peek(line, len, &lv) == 1) {
		if ((rc = fp_peeked(md, &lv, fp, err)) < 0)
			return rc;
		if (lv.n > 0 && (t->nkeys < 0 || lv.n == (size_t)t->nkeys) && values_fit(&lv) &&
		    !fpset_find(&t->seen, fp))
			return fpset_add(&t->seen, fp, fi, lineno) < 0 ? oom(err) : 0;
	}
	/* The slow path: parse, so that the message names the values. */
	ms_error_clear(&lerr);
	rc = ms_entity_from_line(&e, line, len, MS_KIND_PARTITION, &lerr);
	if (rc == 0 && (rc = fp_parsed(md, e, fp, &n, &lerr)) == 0)
		rc = check_part_line(s, t, n, fp, e->vkey, fi, lineno, &lerr);
	ms_entity_free(e);
	if (rc == 0)
		return 0;
	if (rc != MS_EINVAL && rc != MS_ETOOBIG) {
		if (err)
			*err = lerr;
		return rc;
	}
	ms_error_prefix(&lerr, "snapshot '%s' file '%s' line %llu: ", s->label, s->files[fi].path,
			(unsigned long long)lineno);
	if (!(t->bad = malloc(sizeof(*t->bad))))
		return oom(err);
	*t->bad = lerr;
	return 0;
}

/* Read what is left of the stored file, so that its SHA-256 is complete. */
static int lsrc_drain(lsrc *l, ms_error *err)
{
	void *buf = l->gz ? (void *)l->in : (void *)l->buf;
	size_t cap = l->gz ? GZ_CHUNK : IO_CHUNK, got;
	int rc;

	do {
		if ((rc = lsrc_raw(l, buf, cap, &got, err)) < 0)
			return rc;
	} while (got > 0);
	return 0;
}

/*
 * Verify a partition file against the manifest, once (the result is
 * cached): its size and SHA-256, its line count, and every partition line
 * (see verify_line).  A file that does not match the manifest is refused
 * before anything read from its text (MS_EINTEGRITY).
 */
static int verify_file(snapshot *s, size_t fi, ms_error *err)
{
	file_rec *f = &s->files[fi];
	EVP_MD_CTX *md = NULL;
	unsigned char sum[MS_HASH_LEN];
	unsigned int sumlen = 0;
	uint64_t lineno = 0, lines = 0;
	size_t lo, hi, o;
	ms_error ferr;
	int rc, unreadable = 0;
	lsrc l;

	memset(&l, 0, sizeof(l));
	if (f->state == 1)
		return 0;
	if (f->state == -1)
		return integrity(s, f, err, "does not match its sha256 in manifest.json");
	if (f->state == -2) {
		if (err)
			*err = *f->unread;
		return f->unread->code;
	}
	if (!s->owners && (rc = owners_build(s, err)) < 0)
		return rc;
	owners_of(s, fi, &lo, &hi);
	if (!(md = EVP_MD_CTX_new())) {
		rc = oom(err);
		goto done;
	}
	if ((rc = lsrc_open(&l, s->fstore[f->folder], f->key, f->path, f->gz, 1, err)) < 0)
		goto done;
	for (o = lo;;) {
		const char *line;
		size_t len;
		uint64_t loff;

		ms_error_clear(&ferr);
		if ((rc = lsrc_line(&l, &line, &len, &loff, &ferr)) < 0) {
			/* Bad gzip, an endless line: said only if the bytes are the manifest's. */
			unreadable = 1;
			if ((rc = lsrc_drain(&l, err)) < 0)
				goto done;
			break;
		}
		if (rc == 0)
			break;
		lineno++;
		if (is_blank(line, len))
			continue;
		lines++;
		while (o < hi && s->owners[o].end <= loff)
			o++;
		if (o < hi && s->owners[o].offset <= loff &&
		    (rc = verify_line(s, fi, &s->tables[s->owners[o].table], line, len, lineno, md,
				      err)) < 0)
			goto done;
	}
	if (EVP_DigestFinal_ex(l.sha, sum, &sumlen) != 1) {
		rc = ms_error_set(err, MS_ERROR, "sha256 failed");
		goto done;
	}
	if (l.stored != f->bytes || memcmp(sum, f->sha, MS_HASH_LEN) != 0) {
		f->state = -1;
		rc = l.stored != f->bytes
			     ? ms_error_set(err, MS_EINTEGRITY,
					    "snapshot '%s' file '%s' is %llu bytes, manifest says %llu",
					    s->label, f->path, (unsigned long long)l.stored,
					    (unsigned long long)f->bytes)
			     : integrity(s, f, err, "does not match its sha256 in manifest.json");
		goto done;
	}
	if (unreadable) {
		ms_error_prefix(&ferr, "snapshot '%s': ", s->label);
		if (err)
			*err = ferr;
		rc = ferr.code;
		goto done;
	}
	if (lines != f->lines) {
		f->state = -1;
		rc = integrity(s, f, err, "does not hold as many lines as manifest.json says");
		goto done;
	}
	f->state = 1;
	release_checked(s, lo, hi);
	rc = 0;
done:
	/*
	 * Lines already checked are remembered in their tables: reading the file
	 * again would find them twice.  The failure stays the file's answer.
	 */
	if (rc < 0 && f->state == 0 && lineno > 0 && (f->unread = malloc(sizeof(*f->unread)))) {
		if (err)
			*f->unread = *err;
		else
			ms_error_set(f->unread, rc, "file '%s' could not be read", f->path);
		f->unread->code = rc;
		f->state = -2;
	}
	lsrc_close(&l);
	EVP_MD_CTX_free(md);
	return rc;
}

static int r_verify_table(ms_catalog *self, const char *db, const char *table, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = table_lookup(s, db, table), i;
	int rc;

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	for (i = 0; i < s->tables[ti].nspans; i++)
		if ((rc = verify_file(s, s->tables[ti].spans[i].file, err)) < 0)
			return rc;
	if (s->tables[ti].bad) {
		if (err)
			*err = *s->tables[ti].bad;
		return s->tables[ti].bad->code;
	}
	return 0;
}

static int r_table_digest(ms_catalog *self, const char *db, const char *table, ms_digest *out,
			  ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = table_lookup(s, db, table);

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	if (!s->tables[ti].has_digest)
		return ms_error_set(err, MS_ENOTSUPPORTED,
				    "snapshot '%s' records no partition sum for '%s.%s'", s->label,
				    s->tables[ti].database, s->tables[ti].name);
	*out = s->tables[ti].digest;
	return 0;
}

/* Read every partition line of table ti, parse it and hand it to cb. */
static int scan_lines(snapshot *s, size_t ti, ms_entity_cb cb, void *ctx, ms_error *err)
{
	const table_rec *t = &s->tables[ti];
	lsrc l;
	size_t i, cur = NONE;
	int rc = 0, open = 0;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < t->nspans; i++) {
		const span *sp = &t->spans[i];
		const file_rec *f = &s->files[sp->file];
		uint64_t end = sp->offset + sp->bytes, n = 0;

		if (f->state != 1) {
			rc = integrity(s, f, err,
				       f->state == -1 ? "does not match its sha256 in manifest.json"
						      : "has not been verified (verify_table first)");
			goto done;
		}
		if (open && (cur != sp->file || l.off > sp->offset)) {
			lsrc_close(&l);
			open = 0;
		}
		if (!open) {
			open = 1;
			if ((rc = lsrc_open(&l, s->fstore[f->folder], f->key, f->path, f->gz, 0,
					    err)) < 0)
				goto done;
			cur = sp->file;
		}
		if ((rc = lsrc_seek(&l, sp->offset, err)) < 0)
			goto done;
		while (l.off < end) {
			const char *line;
			size_t len;
			uint64_t loff;
			ms_entity *e = NULL;

			if ((rc = lsrc_line(&l, &line, &len, &loff, err)) < 0)
				goto done;
			if (rc == 0 || l.off > end) {
				rc = integrity(s, f, err, "does not hold the lines its index says");
				goto done;
			}
			if (is_blank(line, len))
				continue;
			if ((rc = ms_entity_from_line(&e, line, len, MS_KIND_PARTITION, err)) < 0) {
				ms_error_prefix(err, "file '%s' at byte %llu: ", f->path,
						(unsigned long long)loff);
				goto done;
			}
			if (strcmp(e->database, t->database) != 0 || strcmp(e->table, t->name) != 0) {
				rc = ms_error_set(err, MS_EINTEGRITY,
						  "snapshot '%s' file '%s' at byte %llu holds a "
						  "partition of '%s.%s', not of '%s.%s'",
						  s->label, f->path, (unsigned long long)loff,
						  e->database, e->table, t->database, t->name);
				ms_entity_free(e);
				goto done;
			}
			n++;
			if ((rc = cb(e, ctx, err)) != 0)
				goto done;
		}
		if (n != sp->lines) {
			rc = integrity(s, f, err, "does not hold the lines its index says");
			goto done;
		}
	}
	rc = 0;
done:
	if (open)
		lsrc_close(&l);
	return rc;
}

/*
 * Parse-ahead: for large tables a reader thread parses lines into batches
 * while the caller's thread consumes them (parsing is half of an import's
 * CPU time, writing the target the other half).  A bounded ring of batches
 * keeps memory flat; a consumer that stops early makes the reader stop too.
 */
#define PIPE_MIN_LINES 4096
#define PIPE_BATCH 256
#define PIPE_SLOTS 8

typedef struct pipe_batch {
	ms_entity *v[PIPE_BATCH];
	size_t n;
} pipe_batch;

typedef struct pipe_state {
	snapshot *s;
	size_t ti;
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_take;
	pipe_batch slots[PIPE_SLOTS];
	size_t head, count;     /* ring of full batches */
	pipe_batch fill;        /* the reader's batch being filled */
	int done, stop, rc;
	ms_error err;           /* the reader's error */
} pipe_state;

static int pipe_push(pipe_state *p)
{
	int stop;

	pthread_mutex_lock(&p->mu);
	while (p->count == PIPE_SLOTS && !p->stop)
		pthread_cond_wait(&p->can_put, &p->mu);
	stop = p->stop;
	if (!stop) {
		p->slots[(p->head + p->count) % PIPE_SLOTS] = p->fill;
		p->count++;
		pthread_cond_signal(&p->can_take);
	}
	pthread_mutex_unlock(&p->mu);
	if (stop) {
		for (size_t i = 0; i < p->fill.n; i++)
			ms_entity_free(p->fill.v[i]);
	}
	p->fill.n = 0;
	return stop;
}

static int pipe_collect(ms_entity *e, void *ctx, ms_error *err)
{
	pipe_state *p = ctx;

	p->fill.v[p->fill.n++] = e;
	if (p->fill.n == PIPE_BATCH && pipe_push(p))
		return 1; /* the consumer stopped: end quietly */
	return 0;
}

static void *pipe_reader(void *arg)
{
	pipe_state *p = arg;
	int rc;

	ms_error_clear(&p->err);
	rc = scan_lines(p->s, p->ti, pipe_collect, p, &p->err);
	if (rc == 0 && p->fill.n)
		pipe_push(p);
	for (size_t i = 0; i < p->fill.n; i++)
		ms_entity_free(p->fill.v[i]);
	p->fill.n = 0;
	pthread_mutex_lock(&p->mu);
	p->rc = rc < 0 ? rc : 0;
	p->done = 1;
	pthread_cond_signal(&p->can_take);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int scan_pipelined(snapshot *s, size_t ti, ms_entity_cb cb, void *ctx, ms_error *err)
{
	pipe_state *p = calloc(1, sizeof(*p));
	pthread_t th;
	pipe_batch b;
	int rc = 0;

	if (!p)
		return oom(err);
	p->s = s;
	p->ti = ti;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->can_put, NULL);
	pthread_cond_init(&p->can_take, NULL);
	if (pthread_create(&th, NULL, pipe_reader, p) != 0) {
		free(p);
		return scan_lines(s, ti, cb, ctx, err);
	}
	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		while (p->count == 0 && !p->done)
			pthread_cond_wait(&p->can_take, &p->mu);
		if (p->count == 0) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		b = p->slots[p->head];
		p->head = (p->head + 1) % PIPE_SLOTS;
		p->count--;
		pthread_cond_signal(&p->can_put);
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < b.n && rc == 0; i++)
			rc = cb(b.v[i], ctx, err);
		for (; i < b.n; i++)
			ms_entity_free(b.v[i]);
		if (rc != 0)
			break;
	}
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->can_put);
	pthread_mutex_unlock(&p->mu);
	pthread_join(th, NULL);
	/* Batches the consumer never took. */
	while (p->count) {
		b = p->slots[p->head];
		p->head = (p->head + 1) % PIPE_SLOTS;
		p->count--;
		for (size_t i = 0; i < b.n; i++)
			ms_entity_free(b.v[i]);
	}
	if (rc == 0 && p->rc < 0) {
		*err = p->err;
		rc = p->rc;
	}
	pthread_cond_destroy(&p->can_put);
	pthread_cond_destroy(&p->can_take);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return rc;
}

/* Stream every partition of table ti to cb, reading its spans. */
static int scan_table(snapshot *s, size_t ti, ms_entity_cb cb, void *ctx, ms_error *err)
{
	const table_rec *t = &s->tables[ti];
	uint64_t lines = 0;

	/* A table verify found a bad line in is never read from. */
	if (t->bad) {
		if (err)
			*err = *t->bad;
		return t->bad->code;
	}
	for (size_t i = 0; i < t->nspans; i++)
		lines += t->spans[i].lines;
	if (lines >= PIPE_MIN_LINES)
		return scan_pipelined(s, ti, cb, ctx, err);
	return scan_lines(s, ti, cb, ctx, err);
}

static int r_scan(ms_catalog *self, const char *db, const char *table, unsigned int flags,
		  ms_entity_cb cb, void *ctx, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = table_lookup(s, db, table);

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	return scan_table(s, ti, cb, ctx, err);
}

typedef struct find_ctx {
	const char *vkey;
	ms_entity *found;
} find_ctx;

static int find_cb(ms_entity *e, void *ctx, ms_error *err)
{
	find_ctx *fc = ctx;

	if (e->vkey && strcmp(e->vkey, fc->vkey) == 0) {
		fc->found = e;
		return 1;
	}
	ms_entity_free(e);
	return 0;
}

static int r_get_partition(ms_catalog *self, const char *db, const char *table,
			   const char *vkey, ms_entity **out, ms_error *err)
{
	snapshot *s = (snapshot *)self;
	size_t ti = table_lookup(s, db, table);
	find_ctx fc = { vkey, NULL };
	int rc;

	if (ti == NONE)
		return table_not_found(s, db, table, err);
	/* A point read verifies what it reads itself; scans leave that to the caller. */
	if ((rc = r_verify_table(self, db, table, err)) < 0)
		return rc;
	rc = scan_table(s, ti, find_cb, &fc, err);
	if (rc < 0) {
		ms_entity_free(fc.found);
		return rc;
	}
	if (!fc.found)
		return ms_error_set(err, MS_ENOTFOUND, "partition %s of '%s.%s' not found in '%s'",
				    vkey, db, table, s->label);
	*out = fc.found;
	return 0;
}

static void r_close(ms_catalog *self)
{
	snapshot_free((snapshot *)self);
}

static const ms_catalog_driver snapshot_reader_driver = {
	.version = MS_CATALOG_DRIVER_VERSION,
	.name = "snapshot",
	.caps = 0,
	.max_batch = 0,
	/* required; frees everything */
	.close = r_close,
	/* names in byte order, from memory; returns the callback's non-zero */
	.list_databases = r_list_databases,
	/* *out new (a copy); MS_ENOTFOUND */
	.get_database = r_get_database,
	/* NULL: a snapshot is read-only (MS_ENOTSUPPORTED) */
	.put_database = NULL,
	/* NULL */
	.delete_database = NULL,
	/* names in byte order; MS_ENOTFOUND when the database is absent */
	.list_tables = r_list_tables,
	/* *out new (a copy); MS_ENOTFOUND */
	.get_table = r_get_table,
	/* NULL */
	.put_table = NULL,
	/* NULL */
	.delete_table = NULL,
	/* entities stolen by cb, in file order; MS_ENOTFOUND, MS_EINTEGRITY for a file that
	 * verify_table has not passed, MS_EINVAL for a bad line, MS_EIO */
	.scan_partitions = r_scan,
	/* *out new; verifies the table's files, then scans; MS_ENOTFOUND, MS_EINTEGRITY */
	.get_partition = r_get_partition,
	/* NULL */
	.put_partitions = NULL,
	/* NULL */
	.delete_partitions = NULL,
	/* from manifest.json or the index built at open; MS_ENOTFOUND, MS_ENOTSUPPORTED when
	 * a manifest records no "sum" */
	.table_digest = r_table_digest,
	/* size, SHA-256 and line count of every file the table's spans touch, and every
	 * partition line in them (values against the table's keys, each values once),
	 * once per file, cached; MS_ENOTFOUND, MS_EINTEGRITY, MS_EINVAL a bad line of
	 * this table (file and line named), MS_EIO */
	.verify_table = r_verify_table,
	/* NULL: nothing to make atomic in a read-only catalog */
	.begin = NULL,
	/* NULL */
	.commit = NULL,
	/* NULL */
	.rollback = NULL,
	/* NULL: no change feed */
	.changes_since = NULL,
	/* NULL: nothing to finish (the core returns 0) */
	.finish = NULL,
	/* id, url, manifest SHA-256 (empty for a utility export), counts */
	.snapshot_info = snapshot_info,
};

/*
 * Index partition line e of file fi (line lineno, uncompressed bytes
 * [loff, end)) under its table, once it is checked (check_part_line).  1
 * when the line is bad (*first says why, with file and line), 0 when
 * indexed, < 0 when loading cannot go on.  *last_table caches the table of
 * the previous line.
 */
static int load_partition(snapshot *s, size_t fi, const ms_entity *e, size_t *last_table,
			  uint64_t lineno, uint64_t loff, uint64_t end, EVP_MD_CTX *md,
			  ms_error *first, ms_error *err)
{
	const file_rec *f = &s->files[fi];
	unsigned char fp[FP_LEN];
	table_rec *t;
	size_t nv;
	int rc;

	if (*last_table == NONE || strcmp(s->tables[*last_table].name, e->table) != 0 ||
	    strcmp(s->tables[*last_table].database, e->database) != 0)
		*last_table = table_find(s, e->database, e->table);
	if (*last_table == NONE) {
		ms_error_set(first, MS_EINVAL,
			     "file '%s' line %llu: partition %s of table '%s.%s', which the snapshot "
			     "does not hold",
			     f->path, (unsigned long long)lineno, e->vkey, e->database, e->table);
		return 1;
	}
	t = &s->tables[*last_table];
	if ((rc = fp_parsed(md, e, fp, &nv, err)) < 0)
		return rc;
	rc = check_part_line(s, t, nv, fp, e->vkey, fi, lineno, first);
	if (rc == MS_ENOMEM) {
		if (err)
			*err = *first;
		return rc;
	}
	if (rc < 0) {
		ms_error_prefix(first, "file '%s' line %llu: ", f->path, (unsigned long long)lineno);
		return 1;
	}
	ms_digest_add(&t->digest, e->hash);
	t->has_digest = 1;
	if (span_add(t, fi, loff, end - loff, 1) < 0)
		return oom(err);
	return 0;
}

/* Load one part file's entities; partitions are indexed, not kept. */
static int load_file(snapshot *s, size_t fi, ms_error *err)
{
	file_rec *f = &s->files[fi];
	const int kind_folder = f->folder;
	const ms_kind kind = folder_kinds[kind_folder];
	ms_error first;
	int bad = 0, hash = s->has_manifest;
	size_t last_table = NONE;
	uint64_t lineno = 0, lines = 0;
	EVP_MD_CTX *fpmd = NULL;
	lsrc l;
	int rc;

	ms_error_clear(&first);
	memset(&l, 0, sizeof(l));
	if (kind == MS_KIND_PARTITION && !(fpmd = EVP_MD_CTX_new())) {
		rc = oom(err);
		goto done;
	}
	if ((rc = lsrc_open(&l, s->fstore[f->folder], f->key, f->path, f->gz, hash, err)) < 0)
		goto done;
	for (;;) {
		const char *line;
		size_t len;
		uint64_t loff;
		ms_entity *e = NULL;
		size_t idx;

		if ((rc = lsrc_line(&l, &line, &len, &loff, err)) < 0)
			goto done;
		if (rc == 0)
			break;
		lineno++;
		if (bad || is_blank(line, len))
			continue;
		lines++;
		rc = ms_entity_from_line(&e, line, len, kind, &first);
		if (rc < 0) {
			ms_error_prefix(&first, "file '%s' line %llu: ", f->path,
					(unsigned long long)lineno);
			bad = 1;
			continue;
		}
		if (kind == MS_KIND_DATABASE) {
			if (db_find(s, e->database) != NONE) {
				ms_error_set(&first, MS_EINVAL, "file '%s' line %llu: database '%s' appears twice",
					     f->path, (unsigned long long)lineno, e->database);
				bad = 1;
			} else if ((rc = db_add(s, e->database, &idx, err)) < 0) {
				ms_entity_free(e);
				goto done;
			} else {
				s->dbs[idx].entity = e;
				e = NULL;
			}
		} else if (kind == MS_KIND_TABLE) {
			size_t ti = table_find(s, e->database, e->table);

			if (db_find(s, e->database) == NONE) {
				ms_error_set(&first, MS_EINVAL,
					     "file '%s' line %llu: table '%s.%s' belongs to database "
					     "'%s', which the snapshot does not hold",
					     f->path, (unsigned long long)lineno, e->database, e->table,
					     e->database);
				bad = 1;
			} else if (ti != NONE && s->tables[ti].entity) {
				ms_error_set(&first, MS_EINVAL, "file '%s' line %llu: table '%s.%s' appears twice",
					     f->path, (unsigned long long)lineno, e->database, e->table);
				bad = 1;
			} else if (ti == NONE && s->has_manifest) {
				ms_error_set(&first, MS_EINTEGRITY,
					     "snapshot '%s' file '%s' line %llu: table '%s.%s' is not "
					     "in manifest.json",
					     s->label, f->path, (unsigned long long)lineno, e->database,
					     e->table);
				bad = 1;
			} else {
				if (ti == NONE && (rc = table_add(s, e->database, e->table, &ti, err)) < 0) {
					ms_entity_free(e);
					goto done;
				}
				s->tables[ti].entity = e;
				s->tables[ti].nkeys = ms_table_key_count(e);
				memcpy(s->tables[ti].hash, e->hash, MS_HASH_LEN);
				s->tables[ti].has_hash = 1;
				if (!s->has_manifest)
					s->tables[ti].has_digest = 1;
				e = NULL;
			}
		} else {
			rc = load_partition(s, fi, e, &last_table, lineno, loff, l.off, fpmd, &first,
					    err);
			if (rc < 0) {
				ms_entity_free(e);
				goto done;
			}
			bad = rc;
		}
		ms_entity_free(e);
	}
	if (hash) {
		unsigned char md[MS_HASH_LEN];
		unsigned int mdlen = 0;

		if (EVP_DigestFinal_ex(l.sha, md, &mdlen) != 1) {
			rc = ms_error_set(err, MS_ERROR, "sha256 failed");
			goto done;
		}
		if (l.stored != f->bytes) {
			f->state = -1;
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' file '%s' is %llu bytes, manifest says %llu",
					  s->label, f->path, (unsigned long long)l.stored,
					  (unsigned long long)f->bytes);
			goto done;
		}
		if (memcmp(md, f->sha, MS_HASH_LEN) != 0) {
			f->state = -1;
			rc = integrity(s, f, err, "does not match its sha256 in manifest.json");
			goto done;
		}
	}
	if (bad) {
		if (err)
			*err = first;
		rc = first.code;
		goto done;
	}
	if (hash && lines != f->lines) {
		rc = integrity(s, f, err, "does not hold as many lines as manifest.json says");
		goto done;
	}
	f->lines = lines;
	f->state = 1;
	rc = 0;
done:
	lsrc_close(&l);
	EVP_MD_CTX_free(fpmd);
	return rc;
}

/* Is name (a file directly inside a folder) one that Spark would read? */
static int is_data_name(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && name[0] != '_';
}

static int check_compression(const char *path, ms_error *err)
{
	static const char *const unsupported[] = { ".bz2", ".snappy", ".lz4", ".zst", ".deflate",
						   ".xz" };
	size_t i;

	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (has_suffix(path, unsupported[i]))
			return ms_error_set(err, MS_EINVAL,
					    "file '%s' is compressed with '%s', which metasync cannot "
					    "read (use gzip)",
					    path, unsupported[i] + 1);
	return 0;
}

typedef struct list_ctx {
	snapshot *s;
	int folder;
	size_t skip;        /* chars of the key before the file name */
	int success;        /* folder/_SUCCESS seen */
} list_ctx;

/* Listing callback for a folder: collect (no manifest) or check (manifest) files. */
static int folder_cb(const char *key, const ms_store_stat *st, void *ctx, ms_error *err)
{
	list_ctx *lc = ctx;
	snapshot *s = lc->s;
	const char *name = key + lc->skip;
	char *path = NULL;
	size_t i, idx;
	int rc = 0;

	if (strchr(name, '/'))
		return 0;
	if (strcmp(name, "_SUCCESS") == 0) {
		lc->success = 1;
		return 0;
	}
	if (!is_data_name(name))
		return 0;
	if (s->store && s->fstore[lc->folder] == s->store)
		path = dup_printf("%s/%s", folder_names[lc->folder], name);
	else
		path = join_label(ms_store_url(s->fstore[lc->folder]), name);
	if (!path)
		return oom(err);
	if (s->has_manifest) {
		for (i = 0; i < s->nfiles; i++)
			if (strcmp(s->files[i].key, key) == 0)
				break;
		if (i == s->nfiles) {
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' file '%s' is not in manifest.json", s->label,
					  path);
		} else if (st->size != s->files[i].bytes) {
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' file '%s' is %llu bytes, manifest says %llu",
					  s->label, path, (unsigned long long)st->size,
					  (unsigned long long)s->files[i].bytes);
		} else {
			s->files[i].seen = 1;
		}
		goto done;
	}
	if ((rc = check_compression(path, err)) < 0)
		goto done;
	if ((rc = file_add(s, lc->folder, path, key, &idx, err)) < 0)
		goto done;
	s->files[idx].bytes = st->size;
done:
	free(path);
	return rc;
}

static int list_folder(snapshot *s, int f, const char *prefix, int *success, ms_error *err)
{
	list_ctx lc = { s, f, strlen(prefix), 0 };
	int rc = ms_store_list(s->fstore[f], prefix, folder_cb, &lc, err);

	if (success)
		*success = lc.success;
	return rc;
}

/* Sort databases and tables by name and rebuild their maps. */
static int finalize_index(snapshot *s, ms_error *err)
{
	size_t *order, i;
	int rc = 0;

	if ((order = sorted_indices(s, s->ndbs, idx_cmp_db)) == NULL)
		return oom(err);
	{
		db_rec *nd = malloc((s->ndbs ? s->ndbs : 1) * sizeof(*nd));

		if (!nd) {
			free(order);
			return oom(err);
		}
		for (i = 0; i < s->ndbs; i++)
			nd[i] = s->dbs[order[i]];
		free(s->dbs);
		s->dbs = nd;
		s->adbs = s->ndbs;
	}
	free(order);
	if ((order = sorted_indices(s, s->ntables, idx_cmp_table)) == NULL)
		return oom(err);
	{
		table_rec *nt = malloc((s->ntables ? s->ntables : 1) * sizeof(*nt));

		if (!nt) {
			free(order);
			return oom(err);
		}
		for (i = 0; i < s->ntables; i++)
			nt[i] = s->tables[order[i]];
		free(s->tables);
		s->tables = nt;
		s->atables = s->ntables;
	}
	free(order);
	map_free(&s->dbmap);
	map_free(&s->tmap);
	for (i = 0; i < s->ndbs && rc == 0; i++)
		rc = map_insert(&s->dbmap, name_hash(s->dbs[i].name, NULL), i);
	for (i = 0; i < s->ntables && rc == 0; i++)
		rc = map_insert(&s->tmap, name_hash(s->tables[i].database, s->tables[i].name), i);
	return rc < 0 ? oom(err) : 0;
}

/* Load every file of the three folders, databases first (no manifest). */
static int load_all(snapshot *s, ms_error *err)
{
	size_t i;
	int f, rc;

	for (f = 0; f < F_COUNT; f++)
		for (i = 0; i < s->nfiles; i++)
			if (s->files[i].folder == f && (rc = load_file(s, i, err)) < 0)
				return rc;
	return 0;
}

/* ---- manifest parsing ---- */

static int mf_bad(const snapshot *s, ms_error *err, const char *what)
{
	return ms_error_set(err, MS_EINTEGRITY, "snapshot '%s' manifest.json is invalid: %s",
			    s->label, what);
}

/* A non-negative integer JSON number that a double holds exactly. */
static int mf_uint(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d > 9007199254740992.0 || floor(d) != d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static int mf_hash(const cJSON *v, unsigned char *out)
{
	if (!cJSON_IsString(v) || strlen(v->valuestring) != (size_t)2 * MS_HASH_LEN)
		return -1;
	return ms_unhex(v->valuestring, out, MS_HASH_LEN) < 0 ? -1 : 0;
}

static int printable(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* A name some entity can have: one line (the model refuses control characters but tab). */
static int name_ok(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return 0;
	return 1;
}

/* "databases/NAME" etc.: relative, inside one of the three folders, one level. */
static int mf_path_ok(const char *p, int *folder)
{
	const char *slash = strchr(p, '/'), *name;
	int f;

	if (!slash)
		return 0;
	for (f = 0; f < F_COUNT; f++)
		if ((size_t)(slash - p) == strlen(folder_names[f]) &&
		    strncmp(p, folder_names[f], (size_t)(slash - p)) == 0)
			break;
	if (f == F_COUNT)
		return 0;
	name = slash + 1;
	if (!is_data_name(name) || strlen(name) > 255 || strstr(name, ".."))
		return 0;
	for (; *name; name++)
		if ((unsigned char)*name < 0x20 || *name == 0x7f || *name == '/' || *name == '\\')
			return 0;
	*folder = f;
	return 1;
}

static int cmp_member_key(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/*
 * *dup = a key that appears twice in one object anywhere in v, or NULL.
 * cJSON keeps both members and its lookups return the first, so a
 * duplicate would let the reader and the producer mean different values.
 * Large objects are sorted (a pointer array); small ones compared pairwise.
 */
static int mf_dup_key(const cJSON *v, const char **dup)
{
	const cJSON *c, *a, **keys;
	size_t n = 0, i;
	int rc;

	*dup = NULL;
	if (cJSON_IsObject(v)) {
		for (c = v->child; c; c = c->next)
			n++;
		if (n <= 16) {
			for (c = v->child; c && !*dup; c = c->next)
				for (a = c->next; a && !*dup; a = a->next)
					if (c->string && a->string && strcmp(c->string, a->string) == 0)
						*dup = c->string;
		} else {
			if (!(keys = malloc(n * sizeof(*keys))))
				return MS_ENOMEM;
			for (i = 0, c = v->child; c; c = c->next)
				if (c->string)
					keys[i++] = c;
			n = i;
			qsort(keys, n, sizeof(*keys), cmp_member_key);
			for (i = 1; i < n && !*dup; i++)
				if (strcmp(keys[i - 1]->string, keys[i]->string) == 0)
					*dup = keys[i]->string;
			free(keys);
		}
		if (*dup)
			return 0;
	}
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		for (c = v->child; c; c = c->next)
			if ((rc = mf_dup_key(c, dup)) < 0 || *dup)
				return rc;
	return 0;
}

static int parse_manifest(snapshot *s, const char *text, size_t len, ms_error *err)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *v, *item, *src;
	const char *dup;
	uint64_t counts[F_COUNT], sum_parts = 0, part_lines = 0;
	size_t i, idx;
	int rc = 0, f;

	if (!root || !cJSON_IsObject(root)) {
		rc = mf_bad(s, err, "not a JSON object");
		goto done;
	}
	if ((rc = mf_dup_key(root, &dup)) < 0) {
		rc = oom(err);
		goto done;
	}
	if (dup) {
		rc = ms_error_set(err, MS_EINTEGRITY,
				  "snapshot '%s' manifest.json is invalid: key '%.100s' appears twice "
				  "in one object",
				  s->label, printable(dup) ? dup : "?");
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "format");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "metasync-snapshot") != 0) {
		rc = mf_bad(s, err, "'format' is not 'metasync-snapshot'");
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
		rc = ms_error_set(err, MS_ENOTSUPPORTED,
				  "snapshot '%s' manifest.json has a version this metasync cannot read",
				  s->label);
		goto done;
	}
	src = cJSON_GetObjectItemCaseSensitive(root, "source");
	v = cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, "catalog_id") : NULL;
	if (cJSON_IsString(v) && v->valuestring[0]) {
		char *id = strdup(v->valuestring);

		if (!id) {
			rc = oom(err);
			goto done;
		}
		free(s->base.catalog_id);
		s->base.catalog_id = id;
	}
	v = cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, "instance") : NULL;
	if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) <= 128 &&
	    !(s->base.instance = strdup(v->valuestring))) {
		rc = oom(err);
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "snapshot");
	if (cJSON_IsString(v) && !(s->manifest_id = strdup(v->valuestring))) {
		rc = oom(err);
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "created");
	if (cJSON_IsString(v) && !(s->manifest_created = strdup(v->valuestring))) {
		rc = oom(err);
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "selection");
	if (cJSON_IsString(v) && !(s->base.selection = strdup(v->valuestring))) {
		rc = oom(err);
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "counts");
	for (f = 0; f < F_COUNT; f++)
		if (!cJSON_IsObject(v) ||
		    mf_uint(cJSON_GetObjectItemCaseSensitive(v, folder_names[f]), &counts[f]) < 0) {
			rc = mf_bad(s, err, "'counts' is malformed");
			goto done;
		}

	v = cJSON_GetObjectItemCaseSensitive(root, "files");
	if (!cJSON_IsArray(v)) {
		rc = mf_bad(s, err, "'files' is not an array");
		goto done;
	}
	cJSON_ArrayForEach(item, v)
	{
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(item, "path");
		char *key;
		uint64_t bytes, lines;
		unsigned char sha[MS_HASH_LEN];

		if (!cJSON_IsString(p) || !mf_path_ok(p->valuestring, &f)) {
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' manifest.json names an unsafe file path '%s'",
					  s->label,
					  cJSON_IsString(p) && printable(p->valuestring) ? p->valuestring
											  : "?");
			goto done;
		}
		if (mf_uint(cJSON_GetObjectItemCaseSensitive(item, "bytes"), &bytes) < 0 ||
		    mf_uint(cJSON_GetObjectItemCaseSensitive(item, "lines"), &lines) < 0 ||
		    mf_hash(cJSON_GetObjectItemCaseSensitive(item, "sha256"), sha) < 0) {
			rc = mf_bad(s, err, "a 'files' entry is malformed");
			goto done;
		}
		for (i = 0; i < s->nfiles; i++)
			if (strcmp(s->files[i].path, p->valuestring) == 0) {
				rc = mf_bad(s, err, "a file is listed twice");
				goto done;
			}
		if ((rc = check_compression(p->valuestring, err)) < 0)
			goto done;
		if (!(key = dup_printf("%s%s", s->prefix, p->valuestring))) {
			rc = oom(err);
			goto done;
		}
		rc = file_add(s, f, p->valuestring, key, &idx, err);
		free(key);
		if (rc < 0)
			goto done;
		s->files[idx].bytes = bytes;
		s->files[idx].lines = lines;
		memcpy(s->files[idx].sha, sha, MS_HASH_LEN);
		if (f == F_PARTITIONS)
			part_lines += lines;
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "tables");
	if (!cJSON_IsArray(v)) {
		rc = mf_bad(s, err, "'tables' is not an array");
		goto done;
	}
	cJSON_ArrayForEach(item, v)
	{
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(item, "database");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "table");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(item, "partitions");
		const cJSON *sp;
		unsigned char fin[MS_HASH_LEN], check[MS_HASH_LEN];
		uint64_t count, span_lines = 0;
		table_rec *tr;
		char dn[NAME_BUF], tn[NAME_BUF];

		if (!cJSON_IsString(d) || !cJSON_IsString(t) || !d->valuestring[0] ||
		    !t->valuestring[0] || !name_ok(d->valuestring) || !name_ok(t->valuestring) ||
		    fold(dn, sizeof(dn), d->valuestring) < 0 ||
		    fold(tn, sizeof(tn), t->valuestring) < 0 || !cJSON_IsObject(p) ||
		    mf_uint(cJSON_GetObjectItemCaseSensitive(p, "count"), &count) < 0 ||
		    mf_hash(cJSON_GetObjectItemCaseSensitive(p, "hash"), fin) < 0 ||
		    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(p, "spans"))) {
			rc = mf_bad(s, err, "a 'tables' entry is malformed");
			goto done;
		}
		if (table_find(s, dn, tn) != NONE) {
			rc = mf_bad(s, err, "a table is listed twice");
			goto done;
		}
		if ((rc = table_add(s, dn, tn, &idx, err)) < 0)
			goto done;
		tr = &s->tables[idx];
		tr->digest.count = count;
		if (mf_hash(cJSON_GetObjectItemCaseSensitive(p, "sum"), tr->digest.sum) == 0) {
			ms_digest_final(&tr->digest, check);
			if (memcmp(check, fin, MS_HASH_LEN) != 0) {
				rc = ms_error_set(err, MS_EINTEGRITY,
						  "snapshot '%s' manifest.json: partition hash of "
						  "'%s.%s' does not match its sum",
						  s->label, dn, tn);
				goto done;
			}
			tr->has_digest = 1;
		}
		cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(p, "spans"))
		{
			uint64_t a[4];
			const cJSON *x;
			int k = 0;

			if (!cJSON_IsArray(sp) || cJSON_GetArraySize(sp) != 4) {
				rc = mf_bad(s, err, "a span is malformed");
				goto done;
			}
			cJSON_ArrayForEach(x, sp)
			{
				if (mf_uint(x, &a[k++]) < 0) {
					rc = mf_bad(s, err, "a span is malformed");
					goto done;
				}
			}
			if (a[0] >= s->nfiles || s->files[a[0]].folder != F_PARTITIONS ||
			    a[3] == 0 || a[2] == 0 ||
			    (!s->files[a[0]].gz && a[1] + a[2] > s->files[a[0]].bytes)) {
				rc = mf_bad(s, err, "a span points outside the partition files");
				goto done;
			}
			if (span_add(tr, (size_t)a[0], a[1], a[2], a[3]) < 0) {
				rc = oom(err);
				goto done;
			}
			span_lines += a[3];
		}
		if (span_lines != count) {
			rc = mf_bad(s, err, "a table's spans do not add up to its partition count");
			goto done;
		}
		sum_parts += count;
	}
	if (sum_parts != counts[F_PARTITIONS] || part_lines != counts[F_PARTITIONS]) {
		rc = mf_bad(s, err, "the partition counts do not add up");
		goto done;
	}
	memcpy(s->counts, counts, sizeof(counts));
	rc = 0;
done:
	cJSON_Delete(root);
	return rc;
}

/* Open the snapshot whose manifest.json is at s->prefix. */
static int open_with_manifest(snapshot *s, const ms_open_options *opts, ms_error *err)
{
	char *text = NULL, *key = NULL;
	size_t len = 0, i;
	ms_store_stat st;
	int rc, f, succ;

	if (!(key = dup_printf("%smanifest.json", s->prefix)))
		return oom(err);
	if ((rc = ms_store_get_bytes(s->store, key, MANIFEST_MAX, &text, &len, err)) < 0)
		goto done;
	if ((rc = sha256_hex(s, text, len, err)) < 0)
		goto done;
	if (opts->expect_manifest_sha256 &&
	    strcasecmp(s->manifest_sha256, opts->expect_manifest_sha256) != 0) {
		rc = ms_error_set(err, MS_EINTEGRITY,
				  "snapshot '%s' manifest.json has sha256 %s, expected %.64s", s->label,
				  s->manifest_sha256, opts->expect_manifest_sha256);
		goto done;
	}
	s->has_manifest = 1;
	if ((rc = parse_manifest(s, text, len, err)) < 0)
		goto done;
	free(key);
	if (!(key = dup_printf("%s_SUCCESS", s->prefix))) {
		rc = oom(err);
		goto done;
	}
	if ((rc = ms_store_stat_key(s->store, key, &st, err)) < 0) {
		if (rc == MS_ENOTFOUND)
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' has no _SUCCESS: it is incomplete", s->label);
		goto done;
	}
	for (f = 0; f < F_COUNT; f++) {
		free(key);
		if (!(key = dup_printf("%s%s/", s->prefix, folder_names[f]))) {
			rc = oom(err);
			goto done;
		}
		if ((rc = list_folder(s, f, key, &succ, err)) < 0)
			goto done;
	}
	for (i = 0; i < s->nfiles; i++)
		if (!s->files[i].seen) {
			rc = integrity(s, &s->files[i], err, "is missing");
			goto done;
		}
	for (f = 0; f < F_PARTITIONS; f++)
		for (i = 0; i < s->nfiles; i++)
			if (s->files[i].folder == f && (rc = load_file(s, i, err)) < 0)
				goto done;
	for (i = 0; i < s->ntables; i++)
		if (!s->tables[i].entity) {
			rc = ms_error_set(err, MS_EINTEGRITY,
					  "snapshot '%s' manifest.json lists table '%s.%s', which its "
					  "tables files do not hold",
					  s->label, s->tables[i].database, s->tables[i].name);
			goto done;
		}
	if (s->ndbs != s->counts[F_DATABASES] || s->ntables != s->counts[F_TABLES]) {
		rc = mf_bad(s, err, "the database or table counts do not match the files");
		goto done;
	}
	rc = finalize_index(s, err);
done:
	free(text);
	free(key);
	return rc;
}

/* Open a folder-per-kind export without a manifest (the AWS utility's). */
static int open_without_manifest(snapshot *s, const char *const prefixes[F_COUNT], ms_error *err)
{
	size_t i;
	int rc, f;

	for (f = 0; f < F_COUNT; f++)
		if ((rc = list_folder(s, f, prefixes[f], NULL, err)) < 0)
			return rc;
	if ((rc = load_all(s, err)) < 0)
		return rc;
	/* Every line is checked: the sets of values have served. */
	for (i = 0; i < s->ntables; i++)
		fpset_free(&s->tables[i].seen);
	for (i = 0; i < s->nfiles; i++) {
		s->files[i].state = 1;
		s->counts[s->files[i].folder] += s->files[i].lines;
	}
	return finalize_index(s, err);
}

/* Read LATEST and check it names one safe path component; *id is new. */
static int read_latest(snapshot *s, char **id, ms_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ms_store_get_bytes(s->store, "LATEST", LATEST_MAX, &text, &len, err)) < 0)
		return rc;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (strlen(text) != len || !safe_id(text)) {
		free(text);
		return ms_error_set(err, MS_EINTEGRITY,
				    "'%s' LATEST does not name a snapshot (one path component, at most "
				    "%d characters, no '/', '..' or control characters)",
				    ms_store_url(s->store), SNAPSHOT_ID_MAX);
	}
	*id = text;
	return 0;
}

static int open_input_paths(snapshot *s, const ms_open_options *opts, ms_error *err)
{
	const char *paths[F_COUNT] = { opts->database_input_path, opts->table_input_path,
				       opts->partition_input_path };
	static const char *const flags[F_COUNT] = { "--database-input-path", "--table-input-path",
						    "--partition-input-path" };
	const char *prefixes[F_COUNT] = { "", "", "" };
	int rc, f;

	for (f = 0; f < F_COUNT; f++)
		if (!paths[f] || !paths[f][0])
			return ms_error_set(err, MS_EINVAL,
					    "%s is missing: the utility's input paths go together",
					    flags[f]);
	for (f = 0; f < F_COUNT; f++) {
		if ((rc = ms_store_open(&s->fstore[f], paths[f], err)) < 0)
			return rc;
		s->fstore_owned[f] = 1;
	}
	if (!(s->label = dup_printf("%s", ms_store_url(s->fstore[F_TABLES]))))
		return oom(err);
	return open_without_manifest(s, prefixes, err);
}

static int open_reader(snapshot *s, const ms_url *url, const ms_open_options *opts,
		       ms_error *err)
{
	char *text = NULL, *id = NULL, *key = NULL;
	ms_store_stat st;
	ms_error e2;
	int rc, f, any = 0;

	if (opts->database_input_path || opts->table_input_path || opts->partition_input_path) {
		if (opts->expect_manifest_sha256)
			return ms_error_set(err, MS_EINTEGRITY,
					    "the utility's input paths have no manifest.json to check "
					    "against the expected sha256");
		return open_input_paths(s, opts, err);
	}
	if (!(text = store_url_text(url)))
		return oom(err);
	rc = ms_store_open(&s->store, text, err);
	free(text);
	if (rc < 0)
		return rc;
	for (f = 0; f < F_COUNT; f++)
		s->fstore[f] = s->store;
	if (!(s->prefix = strdup("")) || !(s->label = strdup(ms_store_url(s->store))))
		return oom(err);

	if ((rc = ms_store_stat_key(s->store, "manifest.json", &st, &e2)) == 0)
		return open_with_manifest(s, opts, err);
	if (rc != MS_ENOTFOUND) {
		if (err)
			*err = e2;
		return rc;
	}
	rc = read_latest(s, &id, &e2);
	if (rc == 0) {
		free(s->prefix);
		free(s->label);
		s->prefix = dup_printf("%s/", id);
		s->label = join_label(ms_store_url(s->store), id);
		key = dup_printf("%s/manifest.json", id);
		free(id);
		if (!s->prefix || !s->label || !key) {
			free(key);
			return oom(err);
		}
		rc = ms_store_stat_key(s->store, key, &st, err);
		free(key);
		if (rc == MS_ENOTFOUND)
			return ms_error_set(err, MS_EINTEGRITY,
					    "snapshot '%s' named by LATEST has no manifest.json",
					    s->label);
		if (rc < 0)
			return rc;
		return open_with_manifest(s, opts, err);
	}
	if (rc != MS_ENOTFOUND) {
		if (err)
			*err = e2;
		return rc;
	}
	for (f = 0; f < F_COUNT && !any; f++) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "%s/", folder_names[f]);
		if ((rc = prefix_used(s->store, pfx, err)) < 0)
			return rc;
		any = rc;
	}
	if (!any)
		return ms_error_set(err, MS_ENOTFOUND,
				    "no snapshot at '%s' (no manifest.json, LATEST or "
				    "databases/tables/partitions folders)",
				    s->label);
	if (opts->expect_manifest_sha256)
		return ms_error_set(err, MS_EINTEGRITY,
				    "snapshot '%s' has no manifest.json to check against the expected "
				    "sha256",
				    s->label);
	if (!opts->allow_no_manifest)
		return ms_error_set(err, MS_EINVAL,
				    "snapshot '%s' has no manifest.json (an export made by the AWS "
				    "utility needs --allow-no-manifest)",
				    s->label);
	{
		const char *prefixes[F_COUNT] = { "databases/", "tables/", "partitions/" };

		return open_without_manifest(s, prefixes, err);
	}
}

/* 1 when name looks like an export's timestamp folder (2026-01-02-03-04-05...). */
static int is_snapshot_name(const char *name, size_t n)
{
	size_t i;

	if (n < 19 || !isdigit((unsigned char)name[0]) || name[4] != '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)name[i]) && name[i] != '-')
			return 0;
	return 1;
}

/*
 * The identity of an export without a manifest, recorded in its replicas'
 * markers: the store it sits in, as an absolute path, so that every daily
 * export of the same store (and the same store typed differently) is one
 * source.  where is the snapshot folder, or with the utility's own flags the
 * databases folder (new string).
 */
static char *utility_identity(const char *where, int input_paths)
{
	ms_buf b = MS_BUF_INIT(8192);
	const char *path = where;
	char cwd[4096];
	size_t n;
	char *id;

	if (strncmp(path, "file://", 7) == 0)
		path += 7;
	if (path[0] != '/' && !strstr(path, "://") && getcwd(cwd, sizeof(cwd))) {
		ms_buf_adds(&b, cwd);
		ms_buf_addc(&b, '/');
	}
	ms_buf_adds(&b, path);
	if (!b.ptr)
		return NULL;
	id = b.ptr;
	n = b.len;
	/* Drop trailing slashes, "/." components, the databases folder, the timestamp. */
	for (int pass = 0; pass < 3; pass++) {
		char *slash;

		while (n > 1 && (id[n - 1] == '/' || (n > 2 && id[n - 1] == '.' && id[n - 2] == '/')))
			id[--n] = '\0';
		slash = strrchr(id, '/');
		if (!slash || slash == id)
			break;
		if ((pass == 0 && input_paths) ||
		    is_snapshot_name(slash + 1, strlen(slash + 1))) {
			*slash = '\0';
			n = (size_t)(slash - id);
			continue;
		}
		if (pass > 0 || !input_paths)
			break;
	}
	return ms_buf_detach(&b);
}

/*
 * Open the snapshot at url: with opts->mode == MS_OPEN_WRITE a new snapshot
 * under the store root url, else the snapshot at url (a snapshot directory,
 * a store root with LATEST, or a manifest-less utility export when allowed).
 * *out is new.
 */
int ms_snapshot_catalog_open(ms_catalog **out, const ms_url *url, const ms_open_options *opts,
			     ms_error *err)
{
	static const ms_open_options defaults;
	const char *catalog_id = ms_url_param_get(url, "catalog-id");
	snapshot *s;
	int rc;

	if (!opts)
		opts = &defaults;
	s = calloc(1, sizeof(*s));
	if (!s)
		return oom(err);
	s->writing = opts->mode == MS_OPEN_WRITE;
	if ((rc = ms_catalog_base_init(&s->base,
				       s->writing ? &snapshot_writer_driver : &snapshot_reader_driver,
				       url->redacted, catalog_id, err)) < 0) {
		free(s);
		return rc;
	}
	rc = s->writing ? open_writer(s, url, opts, err) : open_reader(s, url, opts, err);
	if (rc < 0) {
		snapshot_free(s);
		return rc;
	}
	/* Without a manifest (nor catalog-id) the source is the store itself. */
	if (!s->writing && !catalog_id && strcmp(s->base.catalog_id, url->redacted) == 0) {
		int inputs = opts->database_input_path != NULL;
		char *id = utility_identity(inputs ? opts->database_input_path : url->redacted, inputs);

		if (!id) {
			snapshot_free(s);
			return oom(err);
		}
		free(s->base.catalog_id);
		s->base.catalog_id = id;
	}
	*out = &s->base;
	return 0;
}
