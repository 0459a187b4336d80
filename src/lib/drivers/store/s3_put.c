/*
 * Puts to the S3 store.  A writer buffers: an object that fits in one part
 * goes up in one PUT at commit, a larger one as a multipart upload whose
 * parts are sent by a few threads while the caller keeps writing, completed
 * at commit and aborted on any failure, so that no partial object is ever
 * visible.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/url.h" /* before sys/store.h, which names struct ms_url */
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "s3_internal.h"

#define SMALL_MAX ((size_t)1 << 20) /* answers read whole: initiate, complete */
#define MAX_PARTS 10000

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

typedef struct part_slot {
	pthread_t tid;
	int busy;   /* a thread runs or has not been joined */
	int number; /* 1-based part number */
	char *data; /* owned while busy */
	size_t len;
	struct s3_writer *w;
} part_slot;

typedef struct s3_writer {
	ms_store_writer base;
	s3_store *s;
	char *key;        /* owned; full object key */
	ms_buf buf;       /* the part being filled */
	char *upload_id;  /* owned; NULL until the first part is sent */
	char **etags;     /* owned; etags[i] of part i + 1 */
	int nparts;       /* parts handed to threads */
	part_slot *slots; /* c.parallel of them */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running;       /* threads not yet finished */
	int failed;        /* a part or a write failed: commit refuses */
	ms_error part_err; /* the first part failure */
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
	s3_req r = { .method = "POST",
		     .key = w->key,
		     .shown_key = w->key,
		     .verb = "start a multipart upload of",
		     .query = "uploads=",
		     .out = &out };
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
		return ms_error_set(err, MS_ETOOBIG,
				    "object '%s' in bucket '%s' needs more than %d parts", w->key,
				    w->s->c.bucket, MAX_PARTS);
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
		return ms_error_set(err, MS_ENOMEM, "cannot start a thread to upload key '%s'",
				    w->key);
	}
	sl->busy = 1;
	return 0;
}

static void abort_upload(s3_writer *w)
{
	ms_buf q = MS_BUF_INIT(4096);
	s3_req r = { .method = "DELETE",
		     .key = w->key,
		     .shown_key = w->key,
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
	return ms_error_set(err, MS_EIO,
			    "cannot write key '%s' in bucket '%s': an earlier write "
			    "failed",
			    w->key, w->s->c.bucket);
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
	s3_req r = { .method = "POST",
		     .key = w->key,
		     .shown_key = w->key,
		     .verb = "complete the multipart upload of",
		     .content_type = "application/xml",
		     .out = &out };
	small_xml x = { { 0 }, { 0 }, { 0 }, 0 };
	int i, rc;

	if (ms_buf_adds(&body, "<CompleteMultipartUpload "
			       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">") < 0) {
		rc = oom(err);
		goto done;
	}
	for (i = 0; i < w->nparts; i++) {
		const char *e = w->etags[i];

		/* ETags are quoted hex; anything else must not reach the XML. */
		if (!e || strpbrk(e, "<>&")) {
			rc = ms_error_set(err, MS_EBACKEND,
					  "part %d of key '%s' in bucket '%s' has no usable etag",
					  i + 1, w->key, w->s->c.bucket);
			goto done;
		}
		if (ms_buf_printf(&body, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
				  i + 1, e) < 0) {
			rc = oom(err);
			goto done;
		}
	}
	if (ms_buf_adds(&body, "</CompleteMultipartUpload>") < 0 ||
	    ms_buf_adds(&q, "uploadId=") < 0 || s3_encode(&q, w->upload_id, 0) < 0) {
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
				  "cannot complete the multipart upload of key '%s' in bucket "
				  "'%s': %s",
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

static void sw_abort(ms_store_writer *base);

/* Wait for the parts, then complete the upload: 0 or the first error. */
static int finish(s3_writer *w, ms_error *err)
{
	wait_parts(w);
	if (w->failed) {
		if (err)
			*err = w->part_err;
		return w->part_err.code ? w->part_err.code : MS_EBACKEND;
	}
	return complete_upload(w, err);
}

static void *finish_main(void *arg)
{
	s3_pending *p = arg;
	s3_writer *w = p->w;

	ms_error_clear(&p->err);
	if ((p->rc = finish(w, &p->err)) < 0) {
		wait_parts(w);
		abort_upload(w);
	}
	writer_free(w);
	p->w = NULL;
	return NULL;
}

/* Hand w to a thread of its own (s3_settle joins it); 0, or -1 to finish here. */
static int finish_later(s3_writer *w)
{
	s3_store *s = w->s;
	s3_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->w = w;
	if (pthread_create(&p->tid, NULL, finish_main, p) != 0) {
		free(p);
		return -1;
	}
	pthread_mutex_lock(&s->pend_mu);
	p->next = s->pending;
	s->pending = p;
	pthread_mutex_unlock(&s->pend_mu);
	return 0;
}

int s3_settle(s3_store *s, ms_error *err)
{
	s3_pending *p, *next;
	int rc = 0;

	pthread_mutex_lock(&s->pend_mu);
	p = s->pending;
	s->pending = NULL;
	pthread_mutex_unlock(&s->pend_mu);
	for (; p; p = next) {
		next = p->next;
		pthread_join(p->tid, NULL);
		if (p->rc < 0 && rc == 0) {
			rc = p->rc;
			if (err)
				*err = p->err;
		}
		free(p);
	}
	return rc;
}

static int sw_commit(ms_store_writer *base, ms_error *err)
{
	s3_writer *w = (s3_writer *)base;
	int rc;

	/* what was committed before is visible before this is */
	if ((rc = s3_settle(w->s, err)) < 0) {
		sw_abort(base);
		return rc;
	}
	if (w->failed) {
		rc = writer_failure(w, err);
		goto done;
	}
	if (!w->upload_id) {
		s3_req r = { .method = "PUT",
			     .key = w->key,
			     .shown_key = w->key,
			     .verb = "put",
			     .body = w->buf.ptr,
			     .body_len = w->buf.len };

		rc = s3_request(&w->s->c, &r, err);
		goto done;
	}
	if (w->buf.len > 0 && (rc = send_part(w, err)) < 0)
		goto done;
	/* the last parts and the completion go on while the caller writes on */
	if (finish_later(w) == 0)
		return 0;
	rc = finish(w, err);
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

int s3_put_open(ms_store *self, const char *key, ms_store_writer **out, ms_error *err)
{
	s3_store *s = (s3_store *)self;
	s3_writer *w;
	int rc;

	if ((rc = s3_check_key(s, key, 0, err)) < 0)
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
	if (!(w->key = s3_full_key(s, key))) {
		writer_free(w);
		return oom(err);
	}
	w->base.write = sw_write;
	w->base.commit = sw_commit;
	w->base.abort = sw_abort;
	*out = &w->base;
	return 0;
}
