/*
 * The S3 store: snapshots in s3://BUCKET/PREFIX with the same layout as on
 * disk, so that exports land where the tools metasync replaces keep them and
 * other accounts read them from there.  Keys are checked as strictly as the
 * file store checks them (they may come from a manifest someone else wrote).
 *
 * Puts are in s3_put.c.  A get reads the object in ranged GETs of growing
 * size (memory stays bounded, a failed range is simply asked again, and a
 * seek is a new range), pinned to the first answer's ETag so that an object
 * replaced meanwhile is noticed; once reads are sequential, a thread fetches
 * the next range meanwhile.  List is ListObjectsV2 with continuation tokens,
 * stat is HEAD and remove is DELETE.  Requests, signing and retries are in
 * s3_http.c, settings and credentials in s3_creds.c.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/url.h" /* before sys/store.h, which names struct ms_url */
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "s3_internal.h"

int ms_s3_store_open(ms_store **out, const ms_url *url, ms_error *err);

/* Same reserved prefix as the file store, so that snapshots move between stores. */
#define KEY_MAX ((size_t)1024) /* S3's limit, prefix included */
#define LIST_PAGE_MAX ((size_t)16 << 20)
/*
 * A reader's first range is small (the snapshot reader opens a part file and
 * seeks to one table's lines); later ranges double up to the part size.
 */
#define OPEN_WINDOW ((size_t)64 << 10)
#define SEEK_WINDOW ((size_t)256 << 10)
/* Ranges this large or larger are read ahead by a thread (two in memory at most). */
#define AHEAD_MIN ((size_t)1 << 20)

/* ms_store_check_key within S3's key limit, the store's prefix included. */
int s3_check_key(const s3_store *s, const char *key, int allow_prefix, ms_error *err)
{
	size_t pl = strlen(s->c.prefix);

	return ms_store_check_key(key, KEY_MAX > pl ? KEY_MAX - pl : 0, allow_prefix, err);
}

/* The object key: the store's prefix + key (new), or NULL. */
char *s3_full_key(const s3_store *s, const char *key)
{
	size_t pl = strlen(s->c.prefix), kl = strlen(key);
	char *k = malloc(pl + kl + 1);

	if (!k)
		return NULL;
	memcpy(k, s->c.prefix, pl);
	memcpy(k + pl, key, kl + 1);
	return k;
}

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/*
 * What each operation on one key (or prefix) starts with: the uploads still
 * finishing settled (their failure is reported here), the key checked, and
 * *fk the full key (new).
 */
static int s3_begin_key(s3_store *s, const char *key, int allow_prefix, char **fk, ms_error *err)
{
	int rc;

	*fk = NULL;
	if ((rc = s3_settle(s, err)) < 0 || (rc = s3_check_key(s, key, allow_prefix, err)) < 0)
		return rc;
	if (!(*fk = s3_full_key(s, key)))
		return oom(err);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Get                                                                     */

/* The range after the current one, fetched by a thread while the caller reads. */
typedef struct ahead {
	pthread_t tid;
	int running; /* a thread to join */
	struct s3_reader *r;
	uint64_t off;  /* start of its range */
	size_t window; /* its length */
	ms_buf buf;
	int rc;
	long status;
	ms_error err;
} ahead;

typedef struct s3_reader {
	ms_store_reader base;
	s3_store *s;
	char *key;      /* owned; full object key */
	char etag[160]; /* of the first answer; later ranges must match it */
	int known;      /* size and etag known: a first range has been answered */
	uint64_t size;  /* object size */
	uint64_t off;   /* object offset of buf's end */
	ms_buf buf;     /* the current range */
	size_t pos;     /* read position in buf */
	size_t window;  /* size of the next range: grows while reads are sequential */
	ahead next;     /* read-ahead once reads are sequential and large */
} s3_reader;

static void *ahead_main(void *arg)
{
	ahead *a = arg;
	char range[64];
	s3_req q = { .method = "GET",
		     .key = a->r->key,
		     .shown_key = a->r->key,
		     .verb = "get",
		     .range = range,
		     .if_match = a->r->etag,
		     .out = &a->buf };

	snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)a->off,
		 (unsigned long long)(a->off + a->window - 1));
	ms_error_clear(&a->err);
	a->rc = s3_request(&a->r->s->c, &q, &a->err);
	a->status = q.status;
	return NULL;
}

/* Wait for the read-ahead thread, if any; its range stays in next.buf. */
static void ahead_join(s3_reader *r)
{
	if (r->next.running) {
		pthread_join(r->next.tid, NULL);
		r->next.running = 0;
	}
}

/* Start fetching the range at r->off when reads look sequential and large. */
static void ahead_start(s3_reader *r)
{
	ahead *a = &r->next;

	if (!r->known || r->off >= r->size || r->window < AHEAD_MIN || a->running)
		return;
	a->r = r;
	a->off = r->off;
	a->window = r->window;
	ms_buf_reset(&a->buf);
	a->rc = MS_ERROR;
	if (pthread_create(&a->tid, NULL, ahead_main, a) == 0)
		a->running = 1;
}

/* 1 when the read-ahead holds the range at r->off (now in r->buf), else 0. */
static int ahead_take(s3_reader *r)
{
	ms_buf tmp;

	if (!r->next.running)
		return 0;
	ahead_join(r);
	if (r->next.off != r->off || r->next.rc != 0 || r->next.status != 206 ||
	    r->next.buf.len == 0)
		return 0; /* asked again, synchronously: its failure, if real, shows there */
	tmp = r->buf;
	r->buf = r->next.buf;
	r->next.buf = tmp;
	ms_buf_reset(&r->next.buf);
	r->pos = 0;
	r->off += r->buf.len;
	r->window = r->window * 2 > r->s->c.part_size ? r->s->c.part_size : r->window * 2;
	ahead_start(r);
	return 1;
}

/*
 * Fetch the range starting at r->off into r->buf.  The first answer fixes
 * the object's size and ETag; a range past the end (416) is the end.
 */
static int fetch(s3_reader *r, ms_error *err)
{
	char range[64];
	s3_req q = { .method = "GET",
		     .key = r->key,
		     .shown_key = r->key,
		     .verb = "get",
		     .range = range,
		     .out = &r->buf };
	int rc;

	if (ahead_take(r))
		return 0;
	snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)r->off,
		 (unsigned long long)(r->off + r->window - 1));
	if (r->known)
		q.if_match = r->etag;
	r->pos = 0;
	rc = s3_request(&r->s->c, &q, err);
	if (rc < 0 && q.status == 416) {
		ms_error_clear(err);
		ms_buf_reset(&r->buf);
		if (!r->known || r->size > r->off)
			r->size = r->off;
		r->known = 1;
		return 0;
	}
	if (rc < 0 && q.status == 412)
		return ms_error_set(err, MS_ECONFLICT,
				    "key '%s' in bucket '%s' changed while it was being read",
				    r->key, r->s->c.bucket);
	if (rc < 0)
		return rc;
	if (!r->known) {
		snprintf(r->etag, sizeof(r->etag), "%s", q.etag);
		/* 200: the server ignored the range and sent the whole object. */
		r->size = q.status == 206 && q.has_range_total ? q.range_total : r->buf.len;
		r->known = 1;
		if (r->size == 0) {
			ms_buf_reset(&r->buf);
			return 0;
		}
	}
	if (q.status == 200) {
		if (r->buf.len < r->off) {
			r->size = r->off;
			ms_buf_reset(&r->buf);
			return 0;
		}
		r->pos = (size_t)r->off;
		r->off = r->buf.len;
		return 0;
	}
	if (r->buf.len == 0 && r->off < r->size)
		return ms_error_set(err, MS_EBACKEND,
				    "key '%s' in bucket '%s' ended at byte %llu of %llu", r->key,
				    r->s->c.bucket, (unsigned long long)r->off,
				    (unsigned long long)r->size);
	r->off += r->buf.len;
	r->window = r->window * 2 > r->s->c.part_size ? r->s->c.part_size : r->window * 2;
	ahead_start(r);
	return 0;
}

static int sr_read(ms_store_reader *base, void *buf, size_t len, size_t *got, ms_error *err)
{
	s3_reader *r = (s3_reader *)base;
	size_t n;
	int rc;

	*got = 0;
	if (r->pos == r->buf.len) {
		if (r->known && r->off >= r->size)
			return 0;
		if ((rc = fetch(r, err)) < 0)
			return rc;
		if (r->pos == r->buf.len)
			return 0;
	}
	n = r->buf.len - r->pos;
	if (n > len)
		n = len;
	memcpy(buf, r->buf.ptr + r->pos, n);
	r->pos += n;
	*got = n;
	return 0;
}

static int sr_seek(ms_store_reader *base, unsigned long long offset, ms_error *err)
{
	s3_reader *r = (s3_reader *)base;
	uint64_t start = r->off - (r->buf.len - 0);

	(void)err;
	if (r->buf.len > 0 && offset >= start && offset <= r->off) {
		r->pos = (size_t)(offset - start);
		return 0;
	}
	ahead_join(r);
	ms_buf_reset(&r->next.buf);
	ms_buf_reset(&r->buf);
	r->pos = 0;
	r->off = offset;
	r->window = SEEK_WINDOW;
	return 0;
}

static void sr_close(ms_store_reader *base)
{
	s3_reader *r = (s3_reader *)base;

	ahead_join(r);
	ms_buf_free(&r->next.buf);
	ms_buf_free(&r->buf);
	free(r->key);
	free(r);
}

static int s3_get_open(ms_store *self, const char *key, ms_store_reader **out, ms_error *err)
{
	s3_store *s = (s3_store *)self;
	s3_reader *r;
	char *fk;
	int rc;

	if ((rc = s3_begin_key(s, key, 0, &fk, err)) < 0)
		return rc;
	if (!(r = calloc(1, sizeof(*r)))) {
		free(fk);
		return oom(err);
	}
	r->s = s;
	r->window = OPEN_WINDOW;
	ms_buf_init(&r->buf, s->c.part_size);
	ms_buf_init(&r->next.buf, s->c.part_size);
	r->key = fk;
	r->base.read = sr_read;
	r->base.seek = sr_seek;
	r->base.close = sr_close;
	*out = &r->base;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* List, stat, remove                                                      */

typedef struct list_item {
	char *key;
	ms_store_stat st;
} list_item;

typedef struct list_page {
	list_item *items;
	size_t n, alloc;
	char *cur_key;
	ms_store_stat cur;
	int truncated;
	char *token;
	int oom;
} list_page;

int64_t s3_parse_iso(const char *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!strptime(t, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void list_cb(const char *parent, const char *name, const char *text, void *ctx)
{
	list_page *p = ctx;

	if (strcmp(parent, "Contents") == 0) {
		if (strcmp(name, "Key") == 0) {
			free(p->cur_key);
			if (!(p->cur_key = strdup(text)))
				p->oom = 1;
		} else if (strcmp(name, "Size") == 0) {
			p->cur.size = strtoull(text, NULL, 10);
		} else if (strcmp(name, "LastModified") == 0) {
			p->cur.mtime = s3_parse_iso(text);
		}
		return;
	}
	if (strcmp(parent, "ListBucketResult") != 0)
		return;
	if (strcmp(name, "Contents") == 0) {
		if (p->cur_key) {
			if (p->n == p->alloc) {
				size_t na = p->alloc ? p->alloc * 2 : 1024;
				list_item *ni = realloc(p->items, na * sizeof(*ni));

				if (!ni) {
					p->oom = 1;
					return;
				}
				p->items = ni;
				p->alloc = na;
			}
			p->items[p->n].key = p->cur_key;
			p->items[p->n].st = p->cur;
			p->n++;
			p->cur_key = NULL;
		}
		memset(&p->cur, 0, sizeof(p->cur));
	} else if (strcmp(name, "IsTruncated") == 0) {
		p->truncated = strcmp(text, "true") == 0;
	} else if (strcmp(name, "NextContinuationToken") == 0) {
		free(p->token);
		if (!(p->token = strdup(text)))
			p->oom = 1;
	}
}

static void page_reset(list_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->items[i].key);
	p->n = 0;
	free(p->cur_key);
	p->cur_key = NULL;
	p->truncated = 0;
	memset(&p->cur, 0, sizeof(p->cur));
}

static int cmp_items(const void *a, const void *b)
{
	return strcmp(((const list_item *)a)->key, ((const list_item *)b)->key);
}

/*
 * All pages are collected and sorted before the first callback: S3 returns
 * byte order, but not every S3-compatible server does (s3rver walks its
 * directories), and the store API promises it.  Snapshot stores hold few keys.
 */
static int s3_list(ms_store *self, const char *prefix, ms_store_list_cb cb, void *ctx,
		   ms_error *err)
{
	s3_store *s = (s3_store *)self;
	list_page page = { 0 };
	ms_buf out = MS_BUF_INIT(LIST_PAGE_MAX), q = MS_BUF_INIT(8192);
	size_t pl = strlen(s->c.prefix), i;
	char *fk = NULL, *token = NULL;
	int rc;

	if (!prefix)
		prefix = "";
	if ((rc = s3_begin_key(s, prefix, 1, &fk, err)) < 0)
		return rc;
	for (;;) {
		s3_req r = {
			.method = "GET", .key = NULL, .shown_key = fk, .verb = "list", .out = &out
		};

		ms_buf_reset(&q);
		/* Parameters in byte order: that is the canonical query SigV4 signs. */
		if ((token && (ms_buf_adds(&q, "continuation-token=") < 0 ||
			       s3_encode(&q, token, 0) < 0 || ms_buf_addc(&q, '&') < 0)) ||
		    ms_buf_adds(&q, "list-type=2&prefix=") < 0 || s3_encode(&q, fk, 0) < 0) {
			rc = oom(err);
			goto done;
		}
		r.query = q.ptr;
		if ((rc = s3_request(&s->c, &r, err)) < 0)
			goto done;
		page.truncated = 0;
		free(page.token);
		page.token = NULL;
		if ((rc = s3_xml_parse(out.ptr ? out.ptr : "", out.len, list_cb, &page, err)) < 0)
			goto done;
		if (page.oom) {
			rc = oom(err);
			goto done;
		}
		if (!page.truncated)
			break;
		if (!page.token || !page.token[0]) {
			rc = ms_error_set(err, MS_EBACKEND,
					  "cannot list key '%s' in bucket '%s': a truncated page "
					  "has no "
					  "continuation token",
					  fk, s->c.bucket);
			goto done;
		}
		free(token);
		token = page.token;
		page.token = NULL;
	}
	if (page.n > 1)
		qsort(page.items, page.n, sizeof(*page.items), cmp_items);
	for (i = 0; i < page.n; i++) {
		const char *k = page.items[i].key;

		if (strncmp(k, s->c.prefix, pl) != 0 || s3_check_key(s, k + pl, 0, NULL) < 0)
			continue;
		if ((rc = cb(k + pl, &page.items[i].st, ctx, err)) != 0)
			goto done;
	}
	rc = 0;
done:
	page_reset(&page);
	free(page.items);
	free(page.token);
	free(token);
	free(fk);
	ms_buf_free(&out);
	ms_buf_free(&q);
	return rc;
}

static int s3_stat(ms_store *self, const char *key, ms_store_stat *out, ms_error *err)
{
	s3_store *s = (s3_store *)self;
	char *fk;
	int rc;

	if ((rc = s3_begin_key(s, key, 0, &fk, err)) < 0)
		return rc;
	{
		s3_req r = { .method = "HEAD", .key = fk, .shown_key = fk, .verb = "stat" };

		if ((rc = s3_request(&s->c, &r, err)) == 0) {
			out->size = r.length;
			out->mtime = r.mtime;
		}
	}
	free(fk);
	return rc;
}

static int s3_remove(ms_store *self, const char *key, ms_error *err)
{
	s3_store *s = (s3_store *)self;
	char *fk;
	int rc;

	if ((rc = s3_begin_key(s, key, 0, &fk, err)) < 0)
		return rc;
	{
		/* DELETE succeeds on a missing key; HEAD first to report it. */
		s3_req h = { .method = "HEAD", .key = fk, .shown_key = fk, .verb = "stat" };
		s3_req d = { .method = "DELETE", .key = fk, .shown_key = fk, .verb = "delete" };

		if ((rc = s3_request(&s->c, &h, err)) == 0)
			rc = s3_request(&s->c, &d, err);
	}
	free(fk);
	return rc;
}

static void s3_close(ms_store *self)
{
	s3_store *s = (s3_store *)self;

	s3_settle(s, NULL); /* a failure here had no later operation to report it */
	pthread_mutex_destroy(&s->pend_mu);
	s3_conf_free(&s->c);
	free(s->base.url);
	free(s);
}

static const ms_store_driver s3_store_driver = {
	.version = MS_STORE_DRIVER_VERSION,
	.name = "s3",
	/* required; frees the store and its idle connections (never open writers or readers) */
	.close = s3_close,
	/* required; new writer: one PUT at commit, or a multipart upload in parallel parts
	 * whose last parts and completion finish in a thread after commit returns (the
	 * next operation waits for them and reports their failure), aborted on failure;
	 * MS_EINVAL bad key, MS_EBACKEND, MS_EIO */
	.put_open = s3_put_open,
	/* required; new reader of ranged GETs pinned to the first ETag, can seek; makes no
	 * request itself (the first read does: MS_ENOTFOUND shows there); MS_EINVAL bad key */
	.get_open = s3_get_open,
	/* required; ListObjectsV2 pages, keys in byte order; MS_EINVAL bad prefix,
	 * MS_EBACKEND (NoSuchBucket, AccessDenied...), MS_EIO */
	.list = s3_list,
	/* required; HEAD; MS_EINVAL bad key, MS_ENOTFOUND, MS_EBACKEND, MS_EIO */
	.stat = s3_stat,
	/* optional; HEAD then DELETE; MS_ENOTFOUND, MS_EBACKEND, MS_EIO */
	.remove = s3_remove,
	/* NULL: S3 has no lock another process could test (gc goes by age instead) */
	.lock = NULL,
	/* NULL */
	.unlock = NULL,
	/* optional; ListMultipartUploads under the prefix, AbortMultipartUpload of those
	 * started before the grace; MS_ENOTSUPPORTED (NotImplemented), MS_EBACKEND, MS_EIO */
	.sweep = s3_sweep,
};

/*
 * Open the store at s3://BUCKET[/PREFIX][?region=R&endpoint=URL&...].  No
 * request is made: a missing bucket or wrong credentials show at the first
 * operation, named there.  *out is new.
 */
int ms_s3_store_open(ms_store **out, const ms_url *url, ms_error *err)
{
	s3_store *s;
	const char *p;
	size_t n;
	int rc;

	if (url->user || url->password)
		return ms_error_set(err, MS_EINVAL,
				    "s3 url '%s' carries credentials; use the environment or a "
				    "profile",
				    url->redacted);
	if (!url->host || !url->host[0] || url->port)
		return ms_error_set(err, MS_EINVAL,
				    "s3 url '%s' has no bucket (use s3://BUCKET/PREFIX)",
				    url->redacted);
	for (p = url->host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return ms_error_set(err, MS_EINVAL,
					    "s3 bucket name '%s' in '%s' is not valid", url->host,
					    url->redacted);
	if (!(s = calloc(1, sizeof(*s))))
		return oom(err);
	pthread_mutex_init(&s->pend_mu, NULL);
	p = url->path;
	while (*p == '/')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	s->c.bucket = strdup(url->host);
	s->c.prefix = malloc(n + 2);
	/* Printed in messages: the bucket and prefix, not the parameters. */
	s->base.url = malloc(strlen(url->host) + n + 8);
	if (s->base.url)
		sprintf(s->base.url, "s3://%s%s%.*s", url->host, n ? "/" : "", (int)n, p);
	if (!s->c.bucket || !s->c.prefix || !s->base.url) {
		s3_close(&s->base);
		return oom(err);
	}
	memcpy(s->c.prefix, p, n);
	if (n)
		s->c.prefix[n++] = '/';
	s->c.prefix[n] = '\0';
	if (n && s3_check_key(s, s->c.prefix, 1, NULL) < 0) {
		rc = ms_error_set(err, MS_EINVAL, "s3 prefix in '%s' is not a valid key prefix",
				  url->redacted);
		s3_close(&s->base);
		return rc;
	}
	if ((rc = s3_conf_init(&s->c, url, err)) < 0) {
		s3_close(&s->base);
		return rc;
	}
	s->base.driver = &s3_store_driver;
	*out = &s->base;
	return 0;
}
