/*
 * The local-directory store: snapshot files under a root directory, so that
 * an export to a laptop disk or an NFS mount behaves like one to S3.  Keys
 * are relative paths checked strictly (no "..", no empty or "." components,
 * no backslashes or control characters), because a key may come from a
 * manifest someone else wrote.  A put writes a hidden temporary file in the
 * key's directory, fsyncs it and renames it into place on commit, so a reader
 * sees either nothing or the whole object; list skips those temporaries and
 * returns keys in byte order, as S3's ListObjectsV2 does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "util/url.h" /* before sys/store.h, which names struct ms_url */
#include "metasync/sys/store.h"
#include "util/buf.h"

int ms_file_store_open(ms_store **out, const ms_url *url, ms_error *err);

/* Temporary files start with this; list skips them and keys may not use it. */
#define TMP_PREFIX MS_STORE_TMP_PREFIX
/* A writer buffers this much before it calls write(2). */
#define WRITE_BUF ((size_t)256 * 1024)
/* Directories deeper than this under the root are not listed. */
#define LIST_DEPTH_MAX 64
/* Longest key accepted. */
#define KEY_MAX ((size_t)4096)

typedef struct file_store {
	ms_store base;
	char *root;   /* owned; no trailing slash except for "/" itself */
} file_store;

typedef struct file_writer {
	ms_store_writer base;
	int fd;
	char *tmp;     /* owned; temporary path */
	char *path;    /* owned; final path */
	char *key;     /* owned; for messages */
	char *buf;     /* owned; WRITE_BUF bytes */
	size_t len;
	size_t root_len; /* directories this short or shorter are never removed */
	int failed;    /* a write failed: commit refuses */
} file_writer;

typedef struct file_reader {
	ms_store_reader base;
	int fd;
	char *key;     /* owned; for messages */
} file_reader;

static atomic_ulong tmp_counter;

static int check_key(const char *key, int allow_prefix, ms_error *err)
{
	return ms_store_check_key(key, KEY_MAX, allow_prefix, err);
}

/* root + "/" + key (new), or NULL when out of memory. */
static char *join_path(const file_store *fs, const char *key)
{
	size_t rl = strlen(fs->root), kl = strlen(key);
	int slash = rl > 0 && fs->root[rl - 1] != '/';
	char *p = malloc(rl + (size_t)slash + kl + 1);

	if (!p)
		return NULL;
	memcpy(p, fs->root, rl);
	if (slash)
		p[rl] = '/';
	memcpy(p + rl + (size_t)slash, key, kl + 1);
	return p;
}

static int io_error(ms_error *err, int e, const char *what, const char *path)
{
	int rc = ms_error_set(err, e == ENOENT ? MS_ENOTFOUND : MS_EIO, "cannot %s '%s'", what,
			      path);

	ms_error_detail(err, "%s", strerror(e));
	if (err)
		snprintf(err->backend_code, sizeof(err->backend_code), "%d", e);
	return rc;
}

/* mkdir -p for the directory part of path (everything before the last '/'). */
static int make_parents(char *path, ms_error *err)
{
	char *slash = strrchr(path, '/');
	char *p;
	struct stat sb;
	int rc = 0;

	if (!slash || slash == path)
		return 0;
	*slash = '\0';
	if (stat(path, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			rc = ms_error_set(err, MS_EIO, "cannot create directory '%s': a file is in the way",
					  path);
		goto done;
	}
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) < 0 && errno != EEXIST) {
			rc = io_error(err, errno, "create directory", path);
			*p = '/';
			goto done;
		}
		*p = '/';
	}
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		rc = io_error(err, errno, "create directory", path);
done:
	*slash = '/';
	return rc;
}

/* fsync the directory holding path so that a rename in it is durable. */
static void sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/*
 * Directories are not objects: remove the ones above path that are empty
 * now, stopping at the root.  path is modified.
 */
static void prune_parents(char *path, size_t root_len)
{
	char *slash;

	while ((slash = strrchr(path, '/')) != NULL && (size_t)(slash - path) > root_len) {
		*slash = '\0';
		if (rmdir(path) < 0)
			break;
	}
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void writer_free(file_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->tmp);
	free(w->path);
	free(w->key);
	free(w->buf);
	free(w);
}

static int writer_flush(file_writer *w, ms_error *err)
{
	if (w->len == 0)
		return 0;
	if (write_all(w->fd, w->buf, w->len) < 0) {
		w->failed = 1;
		return io_error(err, errno, "write", w->tmp);
	}
	w->len = 0;
	return 0;
}

static int fw_write(ms_store_writer *base, const void *data, size_t len, ms_error *err)
{
	file_writer *w = (file_writer *)base;
	int rc;

	if (w->failed)
		return ms_error_set(err, MS_EIO, "cannot write '%s': an earlier write failed", w->key);
	if (w->len + len <= WRITE_BUF) {
		memcpy(w->buf + w->len, data, len);
		w->len += len;
		return 0;
	}
	if ((rc = writer_flush(w, err)) < 0)
		return rc;
	if (len >= WRITE_BUF) {
		if (write_all(w->fd, data, len) < 0) {
			w->failed = 1;
			return io_error(err, errno, "write", w->tmp);
		}
		return 0;
	}
	memcpy(w->buf, data, len);
	w->len = len;
	return 0;
}

static int fw_commit(ms_store_writer *base, ms_error *err)
{
	file_writer *w = (file_writer *)base;
	int rc;

	if (w->failed) {
		rc = ms_error_set(err, MS_EIO, "cannot commit '%s': an earlier write failed", w->key);
		goto done;
	}
	if ((rc = writer_flush(w, err)) < 0)
		goto done;
	if (fsync(w->fd) < 0) {
		rc = io_error(err, errno, "sync", w->tmp);
		goto done;
	}
	if (close(w->fd) < 0) {
		w->fd = -1;
		rc = io_error(err, errno, "close", w->tmp);
		goto done;
	}
	w->fd = -1;
	if (rename(w->tmp, w->path) < 0) {
		rc = io_error(err, errno, "rename into", w->path);
		goto done;
	}
	sync_parent(w->path);
	free(w->tmp);
	w->tmp = NULL;
	rc = 0;
done:
	if (rc < 0 && w->tmp) {
		unlink(w->tmp);
		prune_parents(w->tmp, w->root_len);
	}
	writer_free(w);
	return rc;
}

static void fw_abort(ms_store_writer *base)
{
	file_writer *w = (file_writer *)base;

	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->tmp) {
		unlink(w->tmp);
		prune_parents(w->tmp, w->root_len);
	}
	writer_free(w);
}

/* Open a fresh temporary file beside path; *tmp is new. */
static int open_tmp(const char *path, char **tmp, int *fd, ms_error *err)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
	int attempt;

	for (attempt = 0; attempt < 100; attempt++) {
		unsigned long n = atomic_fetch_add(&tmp_counter, 1);
		struct timespec ts;
		ms_buf b = MS_BUF_INIT(KEY_MAX * 2);

		clock_gettime(CLOCK_REALTIME, &ts);
		if (ms_buf_add(&b, path, dl) < 0 ||
		    ms_buf_printf(&b, TMP_PREFIX "%ld-%lu-%lx", (long)getpid(), n,
				  (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec) < 0) {
			ms_buf_free(&b);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		*fd = open(b.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (*fd >= 0) {
			*tmp = ms_buf_detach(&b);
			return 0;
		}
		if (errno != EEXIST) {
			int rc = io_error(err, errno, "create", b.ptr);

			ms_buf_free(&b);
			return rc;
		}
		ms_buf_free(&b);
	}
	return ms_error_set(err, MS_EIO, "cannot create a temporary file beside '%s'", path);
}

static int fs_put_open(ms_store *self, const char *key, ms_store_writer **out, ms_error *err)
{
	file_store *fs = (file_store *)self;
	file_writer *w;
	int rc;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	w->fd = -1;
	w->root_len = strlen(fs->root);
	w->path = join_path(fs, key);
	w->key = strdup(key);
	w->buf = malloc(WRITE_BUF);
	if (!w->path || !w->key || !w->buf) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = make_parents(w->path, err)) < 0)
		goto done;
	if ((rc = open_tmp(w->path, &w->tmp, &w->fd, err)) < 0)
		goto done;
	w->base.write = fw_write;
	w->base.commit = fw_commit;
	w->base.abort = fw_abort;
	*out = &w->base;
	rc = 0;
done:
	if (rc < 0)
		writer_free(w);
	return rc;
}

static int fr_read(ms_store_reader *base, void *buf, size_t len, size_t *got, ms_error *err)
{
	file_reader *r = (file_reader *)base;

	for (;;) {
		ssize_t n = read(r->fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_error(err, errno, "read", r->key);
		}
		*got = (size_t)n;
		return 0;
	}
}

static int fr_seek(ms_store_reader *base, unsigned long long offset, ms_error *err)
{
	file_reader *r = (file_reader *)base;

	if (offset > (unsigned long long)INT64_MAX)
		return ms_error_set(err, MS_EINVAL, "cannot seek in '%s' to %llu", r->key, offset);
	if (lseek(r->fd, (off_t)offset, SEEK_SET) == (off_t)-1)
		return io_error(err, errno, "seek in", r->key);
	return 0;
}

static void fr_close(ms_store_reader *base)
{
	file_reader *r = (file_reader *)base;

	close(r->fd);
	free(r->key);
	free(r);
}

static int fs_get_open(ms_store *self, const char *key, ms_store_reader **out, ms_error *err)
{
	file_store *fs = (file_store *)self;
	file_reader *r = NULL;
	struct stat sb;
	char *path = NULL;
	int fd = -1, rc;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	if (!(path = join_path(fs, key))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = io_error(err, errno, "open", path);
		goto done;
	}
	if (fstat(fd, &sb) < 0) {
		rc = io_error(err, errno, "stat", path);
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = ms_error_set(err, MS_ENOTFOUND, "key '%s' in '%s' is not a file", key, self->url);
		goto done;
	}
#ifdef POSIX_FADV_SEQUENTIAL
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	r = calloc(1, sizeof(*r));
	if (!r || !(r->key = strdup(path))) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	r->fd = fd;
	r->base.read = fr_read;
	r->base.seek = fr_seek;
	r->base.close = fr_close;
	*out = &r->base;
	fd = -1;
	r = NULL;
	rc = 0;
done:
	if (r) {
		free(r->key);
		free(r);
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

typedef struct key_item {
	char *key;          /* owned */
	ms_store_stat st;
} key_item;

typedef struct key_list {
	key_item *items;
	size_t n, alloc;
} key_list;

static void key_list_free(key_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i].key);
	free(l->items);
}

static int key_list_add(key_list *l, const char *key, const struct stat *sb)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 64;
		key_item *ni = realloc(l->items, na * sizeof(*ni));

		if (!ni)
			return MS_ENOMEM;
		l->items = ni;
		l->alloc = na;
	}
	if (!(l->items[l->n].key = strdup(key)))
		return MS_ENOMEM;
	l->items[l->n].st.size = (uint64_t)sb->st_size;
	l->items[l->n].st.mtime = (int64_t)sb->st_mtime;
	l->n++;
	return 0;
}

/*
 * Collect the keys under directory `rel` (a key prefix ending in '/' or "")
 * that start with prefix.  Symbolic links to files count as files; links to
 * directories are not followed.
 */
static int walk(const file_store *fs, ms_buf *rel, const char *prefix, size_t plen, int depth,
		key_list *l, ms_error *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char *dir = NULL;
	size_t base = rel->len;
	int rc = 0;

	if (depth > LIST_DEPTH_MAX)
		return 0;
	if (!(dir = join_path(fs, rel->len ? rel->ptr : ".")))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR)
			rc = io_error(err, errno, "list", dir);
		goto done;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat sb, lsb;
		size_t cmp;
		char *path;
		int st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0)
			continue;
		rel->len = base;
		if (ms_buf_adds(rel, de->d_name) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "path under '%s' is too long", dir);
			goto done;
		}
		/* Prune: the entry must agree with the prefix as far as both go. */
		cmp = rel->len < plen ? rel->len : plen;
		if (memcmp(rel->ptr, prefix, cmp) != 0)
			continue;
		if (check_key(rel->ptr, 0, NULL) < 0)
			continue;
		if (!(path = join_path(fs, rel->ptr))) {
			rc = ms_error_set(err, MS_ENOMEM, "out of memory");
			goto done;
		}
		st = lstat(path, &lsb);
		if (st == 0 && S_ISLNK(lsb.st_mode))
			st = stat(path, &sb);
		else
			sb = lsb;
		free(path);
		if (st < 0)
			continue;
		if (S_ISDIR(sb.st_mode) && !S_ISLNK(lsb.st_mode)) {
			if (ms_buf_addc(rel, '/') < 0) {
				rc = ms_error_set(err, MS_ENOMEM, "path under '%s' is too long", dir);
				goto done;
			}
			if ((rc = walk(fs, rel, prefix, plen, depth + 1, l, err)) < 0)
				goto done;
		} else if (S_ISREG(sb.st_mode) && rel->len >= plen) {
			if (key_list_add(l, rel->ptr, &sb) < 0) {
				rc = ms_error_set(err, MS_ENOMEM, "out of memory");
				goto done;
			}
		}
	}
	if (errno != 0)
		rc = io_error(err, errno, "list", dir);
done:
	rel->len = base;
	if (rel->ptr)
		rel->ptr[base] = '\0';
	if (d)
		closedir(d);
	free(dir);
	return rc;
}

static int cmp_items(const void *a, const void *b)
{
	return strcmp(((const key_item *)a)->key, ((const key_item *)b)->key);
}

static int fs_list(ms_store *self, const char *prefix, ms_store_list_cb cb, void *ctx,
		   ms_error *err)
{
	file_store *fs = (file_store *)self;
	key_list l = { 0 };
	ms_buf rel = MS_BUF_INIT(KEY_MAX * 2);
	const char *slash;
	size_t i;
	int rc;

	if (!prefix)
		prefix = "";
	if ((rc = check_key(prefix, 1, err)) < 0)
		return rc;
	/* Start at the deepest directory the prefix names entirely. */
	slash = strrchr(prefix, '/');
	if (slash && ms_buf_add(&rel, prefix, (size_t)(slash - prefix) + 1) < 0) {
		rc = ms_error_set(err, MS_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = walk(fs, &rel, prefix, strlen(prefix), 0, &l, err)) < 0)
		goto done;
	if (l.n > 1)
		qsort(l.items, l.n, sizeof(*l.items), cmp_items);
	for (i = 0; i < l.n; i++)
		if ((rc = cb(l.items[i].key, &l.items[i].st, ctx, err)) != 0)
			goto done;
	rc = 0;
done:
	ms_buf_free(&rel);
	key_list_free(&l);
	return rc;
}

static int fs_stat(ms_store *self, const char *key, ms_store_stat *out, ms_error *err)
{
	file_store *fs = (file_store *)self;
	struct stat sb;
	char *path;
	int rc;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	if (!(path = join_path(fs, key)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (stat(path, &sb) < 0) {
		rc = errno == ENOENT || errno == ENOTDIR
			     ? ms_error_set(err, MS_ENOTFOUND, "key '%s' not found in '%s'", key,
					    self->url)
			     : io_error(err, errno, "stat", path);
	} else if (!S_ISREG(sb.st_mode)) {
		rc = ms_error_set(err, MS_ENOTFOUND, "key '%s' not found in '%s'", key, self->url);
	} else {
		out->size = (uint64_t)sb.st_size;
		out->mtime = (int64_t)sb.st_mtime;
		rc = 0;
	}
	free(path);
	return rc;
}

static int fs_remove(ms_store *self, const char *key, ms_error *err)
{
	file_store *fs = (file_store *)self;
	char *path;
	size_t rl = strlen(fs->root);
	int rc = 0;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	if (!(path = join_path(fs, key)))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if (unlink(path) < 0) {
		rc = errno == ENOENT || errno == ENOTDIR
			     ? ms_error_set(err, MS_ENOTFOUND, "key '%s' not found in '%s'", key,
					    self->url)
			     : io_error(err, errno, "remove", path);
		goto done;
	}
	prune_parents(path, rl);
done:
	free(path);
	return rc;
}

static void fs_close(ms_store *self)
{
	file_store *fs = (file_store *)self;

	free(fs->root);
	free(fs->base.url);
	free(fs);
}

static const ms_store_driver file_store_driver = {
	.version = MS_STORE_DRIVER_VERSION,
	.name = "file",
	/* required; frees the store (never the writers or readers it opened) */
	.close = fs_close,
	/* required; new writer; MS_EINVAL bad key, MS_EIO creating the directory or file */
	.put_open = fs_put_open,
	/* required; new reader that can seek; MS_EINVAL bad key, MS_ENOTFOUND, MS_EIO */
	.get_open = fs_get_open,
	/* required; keys in byte order, temporaries skipped; MS_EINVAL bad prefix, MS_EIO */
	.list = fs_list,
	/* required; fills *out; MS_EINVAL bad key, MS_ENOTFOUND, MS_EIO */
	.stat = fs_stat,
	/* optional; removes the file and the directories left empty; MS_ENOTFOUND, MS_EIO */
	.remove = fs_remove,
};

/*
 * Open the directory store at url (file://DIR or a plain path).  The
 * directory need not exist: the first put creates it.  *out is new.
 */
int ms_file_store_open(ms_store **out, const ms_url *url, ms_error *err)
{
	file_store *fs;
	size_t n;

	if (url->host && url->host[0] && strcmp(url->host, "localhost") != 0)
		return ms_error_set(err, MS_EINVAL, "file url '%s' names a host; use file:///PATH",
				    url->redacted);
	if (!url->path || !url->path[0])
		return ms_error_set(err, MS_EINVAL, "file url '%s' has no path", url->redacted);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	fs->root = strdup(url->path);
	fs->base.url = strdup(url->redacted);
	if (!fs->root || !fs->base.url) {
		fs_close(&fs->base);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	n = strlen(fs->root);
	while (n > 1 && fs->root[n - 1] == '/')
		fs->root[--n] = '\0';
	/* A root that exists must be a directory (it is created on first put). */
	{
		struct stat st;

		if (stat(fs->root, &st) == 0 && !S_ISDIR(st.st_mode)) {
			ms_error_set(err, MS_EINVAL, "store '%s' is not a directory", url->redacted);
			fs_close(&fs->base);
			return MS_EINVAL;
		}
	}
	fs->base.driver = &file_store_driver;
	*out = &fs->base;
	return 0;
}
