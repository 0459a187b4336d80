/*
 * The S3 store: snapshots in s3://BUCKET/PREFIX with the same layout as on
 * disk, so that exports land where the tools metasync replaces keep them and
 * other accounts read them from there.  Keys are checked as strictly as the
 * file store checks them (they may come from a manifest someone else wrote).
 *
 * A put is buffered: an object that fits in one part goes up in one PUT at
 * commit, a larger one as a multipart upload whose parts are sent by a few
 * threads while the caller keeps writing, completed at commit and aborted on
 * any failure, so that no partial object is ever visible.  A get reads the
 * object in ranged GETs of one part size each (memory stays bounded, a
 * failed range is simply asked again, and a seek is a new range), pinned to
 * the first answer's ETag so that an object replaced meanwhile is noticed;
 * once reads are sequential, a thread fetches the next range meanwhile.
 * List is ListObjectsV2 with continuation tokens (S3 returns keys in byte
 * order), stat is HEAD and remove is DELETE.  Requests, signing and retries
 * are in s3_http.c.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "util/url.h" /* before sys/store.h, which names struct ms_url */
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "s3_internal.h"

int ms_s3_store_open(ms_store **out, const ms_url *url, ms_error *err);

/* Same reserved prefix as the file store, so that snapshots move between stores. */
#define TMP_PREFIX ".ms-tmp-"
#define KEY_MAX ((size_t)1024)         /* S3's limit, prefix included */
#define LIST_PAGE_MAX ((size_t)16 << 20)
#define SMALL_MAX ((size_t)1 << 20)    /* answers read whole: initiate, complete */
#define MAX_PARTS 10000
/*
 * A reader's first range is small (the snapshot reader opens a part file and
 * seeks to one table's lines); later ranges double up to the part size.
 */
#define OPEN_WINDOW ((size_t)64 << 10)
#define SEEK_WINDOW ((size_t)256 << 10)
/* Ranges this large or larger are read ahead by a thread (two in memory at most). */
#define AHEAD_MIN ((size_t)1 << 20)

typedef struct s3_store {
	ms_store base;
	s3_conf c;
} s3_store;

/*
 * 0 if key is a safe relative key, else MS_EINVAL naming it.  With
 * allow_prefix set, the last component may be empty or partial.
 */
static int check_key(const s3_store *s, const char *key, int allow_prefix, ms_error *err)
{
	const char *p, *comp;
	size_t n = strlen(key);

	if (n == 0) {
		if (allow_prefix)
			return 0;
		return ms_error_set(err, MS_EINVAL, "store key is empty");
	}
	if (n + strlen(s->c.prefix) > KEY_MAX)
		return ms_error_set(err, MS_EINVAL, "store key '%.64s...' is longer than %zu bytes",
				    key, KEY_MAX - strlen(s->c.prefix));
	if (key[0] == '/')
		return ms_error_set(err, MS_EINVAL, "store key '%s' is absolute", key);
	for (p = key; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ms_error_set(err, MS_EINVAL,
					    "store key contains a control character");
		if (*p == '\\')
			return ms_error_set(err, MS_EINVAL, "store key '%s' contains a backslash",
					    key);
	}
	comp = key;
	for (;;) {
		const char *slash = strchr(comp, '/');
		size_t len = slash ? (size_t)(slash - comp) : strlen(comp);
		int last = slash == NULL;

		if (len == 0 && !(last && allow_prefix))
			return ms_error_set(err, MS_EINVAL, "store key '%s' has an empty component",
					    key);
		if ((len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
			if (!(last && allow_prefix && len == 1))
				return ms_error_set(err, MS_EINVAL,
						    "store key '%s' has a '%.*s' component", key,
						    (int)len, comp);
		if (len >= sizeof(TMP_PREFIX) - 1 &&
		    memcmp(comp, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0)
			return ms_error_set(err, MS_EINVAL,
					    "store key '%s' uses the reserved prefix '" TMP_PREFIX
					    "'", key);
		if (last)
			break;
		comp = slash + 1;
	}
	return 0;
}

/* The object key: the store's prefix + key (new), or NULL. */
static char *full_key(const s3_store *s, const char *key)
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

/* ------------------------------------------------------------------------ */
/* Put                                                                     */

typedef struct part_slot {
	pthread_t tid;
	int busy;           /* a thread runs or has not been joined */
	int number;         /* 1-based part number */
	char *data;         /* owned while busy */
	size_t len;
	struct s3_writer *w;
} part_slot;

typedef struct s3_writer {
	ms_store_writer base;
	s3_store *s;
	char *key;          /* owned; full object key */
	ms_buf buf;         /* the part being filled */
	char *upload_id;    /* owned; NULL until the first part is sent */
	char **etags;       /* owned; etags[i] of part i + 1 */
	int nparts;         /* parts handed to threads */
	part_slot *slots;   /* c.parallel of them */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running;        /* threads not yet finished */
	int failed;         /* a part or a write failed: commit refuses */
	ms_error part_err;  /* the first part failure */
} s3_writer;

static void *part_main(void *arg)
{
	part_slot *sl = arg;
	s3_writer *w = sl->w;
	char query[600];
	s3_req r = { 0 };
	ms_error e;
	int rc;

	ms_error_clear(&e);
	snprintf(query, sizeof(query), "partNumber=%d&uploadId=", sl->number);
	{
		ms_buf q = MS_BUF_INIT(4096);

		if (ms_buf_adds(&q, query) < 0 || s3_encode(&q, w->upload_id, 0) < 0) {
			rc = oom(&e);
		} else {
			r.method = "PUT";
			r.key = w->key;
			r.shown_key = w->key;
			r.verb = "upload a part of";
			r.query = q.ptr;
			r.body = sl->data;
			r.body_len = sl->len;
			rc = s3_request(&w->s->c, &r, &e);
		}
		ms_buf_free(&q);
	}
	pthread_mutex_lock(&w->mu);
	if (rc == 0 && !(w->etags[sl->number - 1] = strdup(r.etag)))
		rc = oom(&e);
	if (rc < 0 && !w->failed) {
		w->failed = 1;
		w->part_err = e;
	}
	free(sl->data);
	sl->data = NULL;
	w->running--;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Join every part thread (all sent or failed afterwards). */
static void wait_parts(s3_writer *w)
{
	int i;

	if (!w->slots)
		return;
	for (i = 0; i < w->s->c.parallel; i++)
		if (w->slots[i].busy) {
			pthread_join(w->slots[i].tid, NULL);
			w->slots[i].busy = 0;
		}
}

typedef struct small_xml {
	char upload_id[1024];
	char code[64];
	char message[256];
	int error;
} small_xml;

static void small_cb(const char *parent, const char *name, const char *text, void *ctx)
{
	small_xml *x = ctx;

	if (strcmp(name, "UploadId") == 0)
		snprintf(x->upload_id, sizeof(x->upload_id), "%s", text);
	else if (strcmp(parent, "Error") == 0 && strcmp(name, "Code") == 0)
		snprintf(x->code, sizeof(x->code), "%s", text), x->error = 1;
	else if (strcmp(parent, "Error") == 0 && strcmp(name, "Message") == 0)
		snprintf(x->message, sizeof(x->message), "%s", text);
	else if (strcmp(name, "Error") == 0)
		x->error = 1;
}

static int start_upload(s3_writer *w, ms_error *err)
{
	ms_buf out = MS_BUF_INIT(SMALL_MAX);
	s3_req r = { .method = "POST", .key = w->key, .shown_key = w->key,
		     .verb = "start a multipart upload of", .query = "uploads=", .out = &out };
	small_xml x = { { 0 }, { 0 }, { 0 }, 0 };
	int rc;

	if ((rc = s3_request(&w->s->c, &r, err)) < 0)
		goto done;
	if ((rc = s3_xml_parse(out.ptr ? out.ptr : "", out.len, small_cb, &x, err)) < 0)
		goto done;
	if (!x.upload_id[0]) {
		rc = ms_error_set(err, MS_EBACKEND,
				  "cannot start a multipart upload of key '%s' in bucket '%s': no "
				  "UploadId in the answer",
				  w->key, w->s->c.bucket);
		goto done;
	}
	if (!(w->upload_id = strdup(x.upload_id)) ||
	    !(w->etags = calloc(MAX_PARTS, sizeof(*w->etags))) ||
	    !(w->slots = calloc((size_t)w->s->c.parallel, sizeof(*w->slots)))) {
		rc = oom(err);
		goto done;
	}
	rc = 0;
done:
	ms_buf_free(&out);
	return rc;
}

/* Hand the filled buffer to a part thread, waiting for a free one. */
static int send_part(s3_writer *w, ms_error *err)
{
	part_slot *sl = NULL;
	int i, rc;

	if (!w->upload_id && (rc = start_upload(w, err)) < 0) {
		w->failed = 1;
		if (err)
			w->part_err = *err;
		return rc;
	}
	if (w->nparts >= MAX_PARTS) {
		w->failed = 1;
		return ms_error_set(err, MS_ETOOBIG, "object '%s' in bucket '%s' needs more than %d parts",
				    w->key, w->s->c.bucket, MAX_PARTS);
	}
	pthread_mutex_lock(&w->mu);
	while (w->running >= w->s->c.parallel && !w->failed)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->failed) {
		ms_error e = w->part_err;

		pthread_mutex_unlock(&w->mu);
		if (err)
			*err = e;
		return e.code ? e.code : MS_EBACKEND;
	}
	pthread_mutex_unlock(&w->mu);
	/* A slot whose thread has finished (running < parallel guarantees one). */
	for (i = 0; i < w->s->c.parallel && !sl; i++) {
		part_slot *c = &w->slots[i];
		int done;

		if (!c->busy) {
			sl = c;
			break;
		}
		pthread_mutex_lock(&w->mu);
		done = c->data == NULL;
		pthread_mutex_unlock(&w->mu);
		if (done) {
			pthread_join(c->tid, NULL);
			c->busy = 0;
			sl = c;
		}
	}
	if (!sl) {
		w->failed = 1;
		return ms_error_set(err, MS_ERROR, "no free part slot for key '%s'", w->key);
	}
	sl->w = w;
	sl->number = ++w->nparts;
	sl->len = w->buf.len;
	sl->data = ms_buf_detach(&w->buf);
	if (!sl->data)
		sl->data = strdup("");
	pthread_mutex_lock(&w->mu);
	w->running++;
	pthread_mutex_unlock(&w->mu);
	if (!sl->data || pthread_create(&sl->tid, NULL, part_main, sl) != 0) {
		pthread_mutex_lock(&w->mu);
		w->running--;
		pthread_mutex_unlock(&w->mu);
		free(sl->data);
		sl->data = NULL;
		w->failed = 1;
		return ms_error_set(err, MS_ENOMEM, "cannot start a thread to upload key '%s'", w->key);
	}
	sl->busy = 1;
	return 0;
}

static void abort_upload(s3_writer *w)
{
	ms_buf q = MS_BUF_INIT(4096);
	s3_req r = { .method = "DELETE", .key = w->key, .shown_key = w->key,
		     .verb = "abort the multipart upload of" };
	ms_error e;

	if (!w->upload_id)
		return;
	if (ms_buf_adds(&q, "uploadId=") == 0 && s3_encode(&q, w->upload_id, 0) == 0) {
		r.query = q.ptr;
		(void)s3_request(&w->s->c, &r, &e);
	}
	ms_buf_free(&q);
}

static void writer_free(s3_writer *w)
{
	int i;

	wait_parts(w);
	if (w->etags)
		for (i = 0; i < MAX_PARTS; i++)
			free(w->etags[i]);
	free(w->etags);
	free(w->slots);
	free(w->upload_id);
	free(w->key);
	ms_buf_free(&w->buf);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* The error that broke w: a part's own failure when there is one. */
static int writer_failure(s3_writer *w, ms_error *err)
{
	ms_error e;

	pthread_mutex_lock(&w->mu);
	e = w->part_err;
	pthread_mutex_unlock(&w->mu);
	if (e.code) {
		if (err)
			*err = e;
		return e.code;
	}
	return ms_error_set(err, MS_EIO, "cannot write key '%s' in bucket '%s': an earlier write "
			    "failed", w->key, w->s->c.bucket);
}

static int sw_write(ms_store_writer *base, const void *data, size_t len, ms_error *err)
{
	s3_writer *w = (s3_writer *)base;
	const char *p = data;
	size_t part = w->s->c.part_size;
	int rc;

	if (w->failed)
		return writer_failure(w, err);
	while (len > 0) {
		size_t n = part - w->buf.len;

		if (n > len)
			n = len;
		if (ms_buf_add(&w->buf, p, n) < 0) {
			w->failed = 1;
			return oom(err);
		}
		p += n;
		len -= n;
		if (w->buf.len == part && (rc = send_part(w, err)) < 0)
			return rc;
	}
	return 0;
}

/*
 * 1 when the object under w->key is the one w's parts make: its ETag is S3's
 * multipart ETag (MD5 of the parts' MD5s, "-" and their number).
 */
static int completed_already(s3_writer *w)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE], part[16];
	unsigned int dl = 0;
	char want[64];
	s3_req h = { .method = "HEAD", .key = w->key, .shown_key = w->key, .verb = "stat" };
	ms_error e;
	int i, j, ok = 0;

	if (!md || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)
		goto done;
	for (i = 0; i < w->nparts; i++) {
		const char *t = w->etags[i];

		if (t && *t == '"')
			t++;
		for (j = 0; j < 16; j++) {
			unsigned int b;

			if (!t || sscanf(t + 2 * j, "%2x", &b) != 1)
				goto done;
			part[j] = (unsigned char)b;
		}
		if (EVP_DigestUpdate(md, part, sizeof(part)) != 1)
			goto done;
	}
	if (EVP_DigestFinal_ex(md, d, &dl) != 1 || dl != 16)
		goto done;
	for (j = 0; j < 16; j++)
		snprintf(want + 2 * j, 3, "%02x", d[j]);
	snprintf(want + 32, sizeof(want) - 32, "-%d", w->nparts);
	if (s3_request(&w->s->c, &h, &e) == 0) {
		const char *got = h.etag[0] == '"' ? h.etag + 1 : h.etag;

		ok = strncmp(got, want, strlen(want)) == 0 &&
		     (got[strlen(want)] == '"' || got[strlen(want)] == '\0');
	}
done:
	EVP_MD_CTX_free(md);
	return ok;
}

static int complete_upload(s3_writer *w, ms_error *err)
{
	ms_buf body = MS_BUF_INIT((size_t)MAX_PARTS * 256), q = MS_BUF_INIT(4096);
	ms_buf out = MS_BUF_INIT(SMALL_MAX);
	s3_req r = { .method = "POST", .key = w->key, .shown_key = w->key,
		     .verb = "complete the multipart upload of", .content_type = "application/xml",
		     .out = &out };
	small_xml x = { { 0 }, { 0 }, { 0 }, 0 };
	int i, rc;

	if (ms_buf_adds(&body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">") < 0) {
		rc = oom(err);
		goto done;
	}
	for (i = 0; i < w->nparts; i++) {
		const char *e = w->etags[i];

		/* ETags are quoted hex; anything else must not reach the XML. */
		if (!e || strpbrk(e, "<>&")) {
			rc = ms_error_set(err, MS_EBACKEND,
					  "part %d of key '%s' in bucket '%s' has no usable etag", i + 1,
					  w->key, w->s->c.bucket);
			goto done;
		}
		if (ms_buf_printf(&body, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
				  i + 1, e) < 0) {
			rc = oom(err);
			goto done;
		}
	}
	if (ms_buf_adds(&body, "</CompleteMultipartUpload>") < 0 || ms_buf_adds(&q, "uploadId=") < 0 ||
	    s3_encode(&q, w->upload_id, 0) < 0) {
		rc = oom(err);
		goto done;
	}
	r.query = q.ptr;
	r.body = body.ptr;
	r.body_len = body.len;
	if ((rc = s3_request(&w->s->c, &r, err)) < 0) {
		/* A retry after an answer lost on the way: the upload may be complete already. */
		if (r.attempts > 1 && strcmp(r.code, "NoSuchUpload") == 0 && completed_already(w))
			rc = 0;
		goto done;
	}
	/* S3 may answer 200 and still fail: the error is in the body. */
	if ((rc = s3_xml_parse(out.ptr ? out.ptr : "", out.len, small_cb, &x, err)) < 0)
		goto done;
	if (x.error) {
		rc = ms_error_set(err, MS_EBACKEND,
				  "cannot complete the multipart upload of key '%s' in bucket '%s': %s",
				  w->key, w->s->c.bucket, x.code[0] ? x.code : "Error");
		if (x.message[0])
			ms_error_detail(err, "%s", x.message);
		goto done;
	}
	rc = 0;
done:
	ms_buf_free(&body);
	ms_buf_free(&q);
	ms_buf_free(&out);
	return rc;
}

static int sw_commit(ms_store_writer *base, ms_error *err)
{
	s3_writer *w = (s3_writer *)base;
	int rc;

	if (w->failed) {
		rc = writer_failure(w, err);
		goto done;
	}
	if (!w->upload_id) {
		s3_req r = { .method = "PUT", .key = w->key, .shown_key = w->key, .verb = "put",
			     .body = w->buf.ptr, .body_len = w->buf.len };

		rc = s3_request(&w->s->c, &r, err);
		goto done;
	}
	if (w->buf.len > 0 && (rc = send_part(w, err)) < 0)
		goto done;
	wait_parts(w);
	if (w->failed) {
		if (err)
			*err = w->part_err;
		rc = w->part_err.code ? w->part_err.code : MS_EBACKEND;
		goto done;
	}
	rc = complete_upload(w, err);
done:
	if (rc < 0) {
		wait_parts(w);
		abort_upload(w);
	}
	writer_free(w);
	return rc;
}

static void sw_abort(ms_store_writer *base)
{
	s3_writer *w = (s3_writer *)base;

	wait_parts(w);
	abort_upload(w);
	writer_free(w);
}

static int s3_put_open(ms_store *self, const char *key, ms_store_writer **out, ms_error *err)
{
	s3_store *s = (s3_store *)self;
	s3_writer *w;
	int rc;

	if ((rc = check_key(s, key, 0, err)) < 0)
		return rc;
	if (!(w = calloc(1, sizeof(*w))))
		return oom(err);
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return oom(err);
	}
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return oom(err);
	}
	w->s = s;
	ms_buf_init(&w->buf, s->c.part_size);
	if (!(w->key = full_key(s, key))) {
		writer_free(w);
		return oom(err);
	}
	w->base.write = sw_write;
	w->base.commit = sw_commit;
	w->base.abort = sw_abort;
	*out = &w->base;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Get                                                                     */

/* The range after the current one, fetched by a thread while the caller reads. */
typedef struct ahead {
	pthread_t tid;
	int running;        /* a thread to join */
	struct s3_reader *r;
	uint64_t off;       /* start of its range */
	size_t window;      /* its length */
	ms_buf buf;
	int rc;
	long status;
	ms_error err;
} ahead;

typedef struct s3_reader {
	ms_store_reader base;
	s3_store *s;
	char *key;          /* owned; full object key */
	char etag[160];     /* of the first answer; later ranges must match it */
	int known;          /* size and etag known: a first range has been answered */
	uint64_t size;      /* object size */
	uint64_t off;       /* object offset of buf's end */
	ms_buf buf;         /* the current range */
	size_t pos;         /* read position in buf */
	size_t window;      /* size of the next range: grows while reads are sequential */
	ahead next;         /* read-ahead once reads are sequential and large */
} s3_reader;

static void *ahead_main(void *arg)
{
	ahead *a = arg;
	char range[64];
	s3_req q = { .method = "GET", .key = a->r->key, .shown_key = a->r->key, .verb = "get",
		     .range = range, .if_match = a->r->etag, .out = &a->buf };

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
	if (r->next.off != r->off || r->next.rc != 0 || r->next.status != 206 || r->next.buf.len == 0)
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
	s3_req q = { .method = "GET", .key = r->key, .shown_key = r->key, .verb = "get",
		     .range = range, .out = &r->buf };
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
				    "key '%s' in bucket '%s' changed while it was being read", r->key,
				    r->s->c.bucket);
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
		return ms_error_set(err, MS_EBACKEND, "key '%s' in bucket '%s' ended at byte %llu of %llu",
				    r->key, r->s->c.bucket, (unsigned long long)r->off,
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
	int rc;

	if ((rc = check_key(s, key, 0, err)) < 0)
		return rc;
	if (!(r = calloc(1, sizeof(*r))))
		return oom(err);
	r->s = s;
	r->window = OPEN_WINDOW;
	ms_buf_init(&r->buf, s->c.part_size);
	ms_buf_init(&r->next.buf, s->c.part_size);
	if (!(r->key = full_key(s, key))) {
		sr_close(&r->base);
		return oom(err);
	}
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

static int64_t parse_iso(const char *t)
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
			p->cur.mtime = parse_iso(text);
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
	if ((rc = check_key(s, prefix, 1, err)) < 0)
		return rc;
	if (!(fk = full_key(s, prefix)))
		return oom(err);
	for (;;) {
		s3_req r = { .method = "GET", .key = NULL, .shown_key = fk, .verb = "list",
			     .out = &out };

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
					  "cannot list key '%s' in bucket '%s': a truncated page has no "
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

		if (strncmp(k, s->c.prefix, pl) != 0 || check_key(s, k + pl, 0, NULL) < 0)
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

	if ((rc = check_key(s, key, 0, err)) < 0)
		return rc;
	if (!(fk = full_key(s, key)))
		return oom(err);
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

	if ((rc = check_key(s, key, 0, err)) < 0)
		return rc;
	if (!(fk = full_key(s, key)))
		return oom(err);
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
	 * completed at commit and aborted on failure; MS_EINVAL bad key, MS_EBACKEND, MS_EIO */
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
				    "s3 url '%s' carries credentials; use the environment or a profile",
				    url->redacted);
	if (!url->host || !url->host[0] || url->port)
		return ms_error_set(err, MS_EINVAL, "s3 url '%s' has no bucket (use s3://BUCKET/PREFIX)",
				    url->redacted);
	for (p = url->host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return ms_error_set(err, MS_EINVAL, "s3 bucket name '%s' in '%s' is not valid",
					    url->host, url->redacted);
	if (!(s = calloc(1, sizeof(*s))))
		return oom(err);
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
	if (n && check_key(s, s->c.prefix, 1, NULL) < 0) {
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
