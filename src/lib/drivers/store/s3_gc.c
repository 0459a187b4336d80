/*
 * Unfinished multipart uploads of an s3:// store.  An export killed while a
 * large part file goes up leaves its multipart upload open, and S3 keeps
 * (and bills) the parts already sent until someone aborts it; nothing lists
 * them but ListMultipartUploads.  There is no lock a later process could
 * test, so an upload counts as abandoned once it was started longer ago
 * than the grace (no export takes that long over one part file).  Servers
 * that do not implement the call (s3rver) answer NotImplemented, which is
 * reported as such and is not an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/url.h" /* before sys/store.h, which names struct ms_url */
#include "metasync/sys/store.h"
#include "util/buf.h"
#include "s3_internal.h"

#define PAGE_MAX ((size_t)16 << 20)
/* More unfinished uploads than this under one store are left for the next run. */
#define UPLOADS_MAX 100000

typedef struct upload {
	char *key; /* owned; full object key */
	char *id;  /* owned */
	long long initiated;
} upload;

typedef struct upload_page {
	upload *items;
	size_t n, alloc;
	upload cur;
	int truncated, oom;
	char *next_key, *next_id; /* owned; the markers of the next page */
} upload_page;

static void set_text(char **slot, const char *text, int *oom)
{
	free(*slot);
	if (!(*slot = strdup(text)))
		*oom = 1;
}

static void uploads_cb(const char *parent, const char *name, const char *text, void *ctx)
{
	upload_page *p = ctx;

	if (strcmp(parent, "Upload") == 0) {
		if (strcmp(name, "Key") == 0)
			set_text(&p->cur.key, text, &p->oom);
		else if (strcmp(name, "UploadId") == 0)
			set_text(&p->cur.id, text, &p->oom);
		else if (strcmp(name, "Initiated") == 0)
			p->cur.initiated = s3_parse_iso(text);
		return;
	}
	if (strcmp(parent, "ListMultipartUploadsResult") != 0)
		return;
	if (strcmp(name, "Upload") == 0) {
		if (p->cur.key && p->cur.id && p->n < UPLOADS_MAX) {
			if (p->n == p->alloc) {
				size_t na = p->alloc ? p->alloc * 2 : 64;
				upload *ni = realloc(p->items, na * sizeof(*ni));

				if (!ni) {
					p->oom = 1;
					return;
				}
				p->items = ni;
				p->alloc = na;
			}
			p->items[p->n++] = p->cur;
		} else {
			free(p->cur.key);
			free(p->cur.id);
		}
		memset(&p->cur, 0, sizeof(p->cur));
	} else if (strcmp(name, "IsTruncated") == 0) {
		p->truncated = strcmp(text, "true") == 0;
	} else if (strcmp(name, "NextKeyMarker") == 0) {
		set_text(&p->next_key, text, &p->oom);
	} else if (strcmp(name, "NextUploadIdMarker") == 0) {
		set_text(&p->next_id, text, &p->oom);
	}
}

static void page_free(upload_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->items[i].key);
		free(p->items[i].id);
	}
	free(p->items);
	free(p->cur.key);
	free(p->cur.id);
	free(p->next_key);
	free(p->next_id);
}

/*
 * Every unfinished upload under the store's prefix into *p (pages followed
 * by their markers).  MS_ENOTSUPPORTED when the server does not implement
 * the call.
 */
static int list_uploads(s3_store *s, upload_page *p, ms_error *err)
{
	ms_buf out = MS_BUF_INIT(PAGE_MAX), q = MS_BUF_INIT(8192);
	char *key_marker = NULL, *id_marker = NULL;
	int rc = 0;

	for (;;) {
		s3_req r = { .method = "GET",
			     .key = NULL,
			     .shown_key = s->c.prefix,
			     .verb = "list the multipart uploads under",
			     .out = &out };

		ms_buf_reset(&q);
		ms_buf_reset(&out);
		/* Parameters in byte order: that is the canonical query SigV4 signs. */
		if ((key_marker &&
		     (ms_buf_adds(&q, "key-marker=") < 0 || s3_encode(&q, key_marker, 0) < 0 ||
		      ms_buf_addc(&q, '&') < 0)) ||
		    ms_buf_adds(&q, "prefix=") < 0 || s3_encode(&q, s->c.prefix, 0) < 0 ||
		    (id_marker && (ms_buf_adds(&q, "&upload-id-marker=") < 0 ||
				   s3_encode(&q, id_marker, 0) < 0)) ||
		    ms_buf_adds(&q, "&uploads=") < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			break;
		}
		r.query = q.ptr;
		if ((rc = s3_request(&s->c, &r, err)) < 0) {
			if (r.status == 501 || strcmp(r.code, "NotImplemented") == 0)
				rc = ms_error_set(err, MS_ENOTSUPPORTED,
						  "the server of bucket '%s' does not list "
						  "multipart "
						  "uploads (NotImplemented): unfinished uploads "
						  "were not "
						  "checked",
						  s->c.bucket);
			break;
		}
		p->truncated = 0;
		if ((rc = s3_xml_parse(out.ptr ? out.ptr : "", out.len, uploads_cb, p, err)) < 0)
			break;
		if (p->oom) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			break;
		}
		if (!p->truncated || p->n >= UPLOADS_MAX)
			break;
		if (!p->next_key || !p->next_key[0]) {
			rc = ms_error_set(err, MS_EBACKEND,
					  "cannot list the multipart uploads in bucket '%s': a "
					  "truncated "
					  "page has no next marker",
					  s->c.bucket);
			break;
		}
		free(key_marker);
		free(id_marker);
		key_marker = p->next_key;
		id_marker = p->next_id;
		p->next_key = p->next_id = NULL;
	}
	free(key_marker);
	free(id_marker);
	ms_buf_free(&out);
	ms_buf_free(&q);
	return rc;
}

/* AbortMultipartUpload: 0, or an error naming the key. */
static int abort_upload(s3_store *s, const upload *u, ms_error *err)
{
	ms_buf q = MS_BUF_INIT(4096);
	s3_req r = { .method = "DELETE",
		     .key = u->key,
		     .shown_key = u->key,
		     .verb = "abort the multipart upload of" };
	int rc;

	if (ms_buf_adds(&q, "uploadId=") < 0 || s3_encode(&q, u->id, 0) < 0) {
		ms_buf_free(&q);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	r.query = q.ptr;
	rc = s3_request(&s->c, &r, err);
	ms_buf_free(&q);
	return rc < 0 && r.status == 404 ? 0 : rc; /* NoSuchUpload: finished or aborted meanwhile */
}

int s3_sweep(ms_store *self, const ms_gc_options *opts, long long grace_seconds,
	     ms_gc_report *report, ms_error *err)
{
	s3_store *s = (s3_store *)self;
	long long now = opts->now ? opts->now : (long long)time(NULL);
	size_t pl = strlen(s->c.prefix), i;
	upload_page p = { 0 };
	int rc;

	if ((rc = s3_settle(s, err)) < 0 || (rc = list_uploads(s, &p, err)) < 0)
		goto done;
	for (i = 0; i < p.n; i++) {
		const upload *u = &p.items[i];
		ms_gc_item item = { MS_GC_UPLOAD, NULL, 1, NULL, NULL, 0, 1 };
		char why[160], when[32];
		time_t t = (time_t)u->initiated;
		struct tm tm;
		ms_error e2;

		if (strncmp(u->key, s->c.prefix, pl) != 0 || !u->key[pl])
			continue;
		if (grace_seconds > 0 && u->initiated > now - grace_seconds)
			continue; /* may be an export's, still going */
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(why, sizeof(why), "an unfinished multipart upload started at %s", when);
		item.key = u->key + pl;
		item.why = why;
		if (!opts->dry_run && abort_upload(s, u, &e2) < 0)
			item.error = e2.message;
		ms_store_gc_note(opts, report, &item);
	}
	rc = 0;
done:
	page_free(&p);
	return rc;
}
