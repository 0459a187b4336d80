/*
 * The local-directory store: snapshot files under a root directory, so that
 * an export to a laptop disk or an NFS mount behaves like one to S3.  Keys
 * are relative paths checked strictly (no "..", no empty or "." components,
 * no backslashes or control characters), because a key may come from a
 * manifest someone else wrote.  A put writes a hidden temporary file in the
 * key's directory, fsyncs it and renames it into place on commit, so a reader
 * sees either nothing or the whole object; list skips those temporaries and
 * returns keys in byte order, as S3's ListObjectsV2 does.  Writers hold
 * locks that tell a later process whether they are alive (file_lock.c).
 *
 * Below the root nothing is reached through a symbolic link: every
 * operation walks the key's folders with openat(O_NOFOLLOW), so a snapshot
 * whose data file, folder or manifest.json is a link to elsewhere is refused
 * (MS_EINTEGRITY naming the link) rather than read, and nothing is written
 * or removed outside the root.  The root itself is the user's path and may
 * be a link.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "file_internal.h"

int ms_file_store_open(ms_store **out, const ms_url *url, ms_error *err);

/* Temporary files start with this; list skips them and keys may not use it. */
#define TMP_PREFIX MS_STORE_TMP_PREFIX
/* A writer buffers this much before it calls write(2). */
#define WRITE_BUF ((size_t)256 * 1024)
/* Directories deeper than this under the root are not listed. */
#define LIST_DEPTH_MAX 64
/* Longest key accepted. */
#define KEY_MAX ((size_t)4096)

typedef struct file_writer {
	ms_store_writer base;
	const file_store *fs;
	int fd;
	int dfd;          /* the key's directory */
	char *tmp;        /* owned; the temporary file's name in dfd */
	char *tmp_path;   /* owned; its path, for messages */
	char *path;       /* owned; final path, for messages */
	char *key;        /* owned */
	const char *name; /* the final name in dfd (inside key) */
	char *buf;        /* owned; WRITE_BUF bytes */
	size_t len;
	int failed; /* a write failed: commit refuses */
} file_writer;

typedef struct file_reader {
	ms_store_reader base;
	int fd;
	char *key; /* owned; for messages */
} file_reader;

static atomic_ulong tmp_counter;

static int check_key(const char *key, int allow_prefix, ms_error *err)
{
	return ms_store_check_key(key, KEY_MAX, allow_prefix, err);
}

/* root + "/" + the first kl bytes of key (new), or NULL when out of memory. */
char *fstore_join_n(const file_store *fs, const char *key, size_t kl)
{
	size_t rl = strlen(fs->root);
	int slash = rl > 0 && fs->root[rl - 1] != '/';
	char *p = malloc(rl + (size_t)slash + kl + 1);

	if (!p)
		return NULL;
	memcpy(p, fs->root, rl);
	if (slash)
		p[rl] = '/';
	memcpy(p + rl + (size_t)slash, key, kl);
	p[rl + (size_t)slash + kl] = '\0';
	return p;
}

/* root + "/" + key (new), or NULL when out of memory. */
char *fstore_join_path(const file_store *fs, const char *key)
{
	return fstore_join_n(fs, key, strlen(key));
}

int fstore_io_error(ms_error *err, int e, const char *what, const char *path)
{
	int rc = ms_error_set(err, e == ENOENT ? MS_ENOTFOUND : MS_EIO, "cannot %s '%s'", what,
			      path);

	ms_error_detail(err, "%s", strerror(e));
	if (err)
		snprintf(err->backend_code, sizeof(err->backend_code), "%d", e);
	return rc;
}

static int oom(ms_error *err)
{
	return ms_error_set(err, MS_ENOMEM, "out of memory");
}

/*
 * A link met below the root: refused, naming the link's path, which is the
 * first len bytes of key under the root.
 */
int fstore_link_error(const file_store *fs, const char *key, size_t len, ms_error *err)
{
	char *p = fstore_join_n(fs, key, len);
	int rc = ms_error_set(err, MS_EINTEGRITY,
			      "store path '%s' is a symbolic link (links inside a store are never "
			      "followed)",
			      p ? p : key);

	free(p);
	return rc;
}

/* mkdir -p path (links followed: this is the root the user named). */
static int make_root(const char *root)
{
	char *path = strdup(root), *p;
	struct stat sb;
	int e = 0;

	if (!path)
		return ENOMEM;
	if (stat(path, &sb) == 0)
		goto done;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) < 0 && errno != EEXIST)
			e = errno;
		*p = '/';
		if (e)
			goto done;
	}
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		e = errno;
done:
	free(path);
	return e;
}

/*
 * Open the directory named by the first len bytes of key (whole components,
 * 0 for the root) without following a link at any component below the
 * root, making missing directories with create.  0 with *dfd new; else an
 * errno value, *at the length of key up to the end of the component that
 * failed: ELOOP when it is a symbolic link, ENOTDIR when it is another kind
 * of file, ENOENT when it is missing.
 */
int fstore_walk_dirs(const file_store *fs, const char *key, size_t len, int create, int *dfd,
		     size_t *at)
{
	size_t i = 0;
	int fd, e;

	*at = 0;
	if (create && (e = make_root(fs->root)) != 0)
		return e;
	if ((fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	while (i < len) {
		char comp[NAME_MAX + 1];
		size_t j = i;
		int nfd;

		while (j < len && key[j] != '/')
			j++;
		*at = j;
		if (j - i > NAME_MAX) {
			close(fd);
			return ENAMETOOLONG;
		}
		memcpy(comp, key + i, j - i);
		comp[j - i] = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0777) < 0 && errno != EEXIST) {
				e = errno;
				close(fd);
				return e;
			}
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			struct stat sb;

			e = errno;
			/* O_NOFOLLOW with O_DIRECTORY says ENOTDIR for a link */
			if ((e == ENOTDIR || e == ELOOP) &&
			    fstatat(fd, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
				e = ELOOP;
			close(fd);
			return e;
		}
		close(fd);
		fd = nfd;
		i = j + 1;
	}
	*dfd = fd;
	return 0;
}

/*
 * walk_dirs for the directory holding key's last component, whose name is
 * *base (inside key).
 */
int fstore_walk_parent(const file_store *fs, const char *key, int create, int *dfd,
		       const char **base, size_t *at)
{
	const char *slash = strrchr(key, '/');

	*base = slash ? slash + 1 : key;
	return fstore_walk_dirs(fs, key, slash ? (size_t)(slash - key) : 0, create, dfd, at);
}

/*
 * Directories are not objects: remove the ones above key that are empty
 * now, deepest first, stopping at the first that is not (never the root).
 */
void fstore_prune_parents(const file_store *fs, const char *key)
{
	size_t n = strlen(key);

	for (;;) {
		const char *slash = memrchr(key, '/', n), *pslash, *name;
		char comp[NAME_MAX + 1];
		size_t dlen, at;
		int pfd, r;

		if (!slash)
			return;
		dlen = (size_t)(slash - key);
		pslash = memrchr(key, '/', dlen);
		name = pslash ? pslash + 1 : key;
		if ((size_t)(slash - name) > NAME_MAX ||
		    fstore_walk_dirs(fs, key, pslash ? (size_t)(pslash - key) : 0, 0, &pfd, &at) !=
			    0)
			return;
		memcpy(comp, name, (size_t)(slash - name));
		comp[slash - name] = '\0';
		r = unlinkat(pfd, comp, AT_REMOVEDIR);
		close(pfd);
		if (r < 0)
			return;
		n = dlen;
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
	if (w->dfd >= 0)
		close(w->dfd);
	free(w->tmp);
	free(w->tmp_path);
	free(w->path);
	free(w->key);
	free(w->buf);
	free(w);
}

/* Remove the writer's temporary file and the directories that leaves empty. */
static void writer_discard(file_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->tmp && w->dfd >= 0) {
		unlinkat(w->dfd, w->tmp, 0);
		fstore_prune_parents(w->fs, w->key);
	}
}

static int writer_flush(file_writer *w, ms_error *err)
{
	if (w->len == 0)
		return 0;
	if (write_all(w->fd, w->buf, w->len) < 0) {
		w->failed = 1;
		return fstore_io_error(err, errno, "write", w->tmp_path);
	}
	w->len = 0;
	return 0;
}

static int fw_write(ms_store_writer *base, const void *data, size_t len, ms_error *err)
{
	file_writer *w = (file_writer *)base;
	int rc;

	if (w->failed)
		return ms_error_set(err, MS_EIO, "cannot write '%s': an earlier write failed",
				    w->key);
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
			return fstore_io_error(err, errno, "write", w->tmp_path);
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
		rc = ms_error_set(err, MS_EIO, "cannot commit '%s': an earlier write failed",
				  w->key);
		goto done;
	}
	if ((rc = writer_flush(w, err)) < 0)
		goto done;
	if (fsync(w->fd) < 0) {
		rc = fstore_io_error(err, errno, "sync", w->tmp_path);
		goto done;
	}
	if (close(w->fd) < 0) {
		w->fd = -1;
		rc = fstore_io_error(err, errno, "close", w->tmp_path);
		goto done;
	}
	w->fd = -1;
	/* renameat replaces a link at the final name, never what it points to */
	if (renameat(w->dfd, w->tmp, w->dfd, w->name) < 0) {
		rc = fstore_io_error(err, errno, "rename into", w->path);
		goto done;
	}
	(void)fsync(w->dfd); /* the rename is durable */
	free(w->tmp);
	w->tmp = NULL;
	rc = 0;
done:
	if (rc < 0)
		writer_discard(w);
	writer_free(w);
	return rc;
}

static void fw_abort(ms_store_writer *base)
{
	file_writer *w = (file_writer *)base;

	writer_discard(w);
	writer_free(w);
}

/* Open a fresh temporary file in the writer's directory (w->tmp, w->fd). */
static int open_tmp(file_writer *w, ms_error *err)
{
	int attempt;

	for (attempt = 0; attempt < 100; attempt++) {
		unsigned long n = atomic_fetch_add(&tmp_counter, 1);
		struct timespec ts;
		char name[96];

		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(name, sizeof(name), TMP_PREFIX "%ld-%lu-%lx", (long)getpid(), n,
			 (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec);
		w->fd = openat(w->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       0666);
		/* held while written, so that a sweep never takes it for abandoned */
		if (w->fd >= 0 && fstore_hold_tmp(w->fd) < 0) {
			close(w->fd);
			w->fd = -1;
			continue;
		}
		if (w->fd >= 0) {
			size_t dl = strlen(w->path) - strlen(w->name);

			w->tmp = strdup(name);
			w->tmp_path = malloc(dl + strlen(name) + 1);
			if (!w->tmp || !w->tmp_path)
				return oom(err);
			memcpy(w->tmp_path, w->path, dl);
			strcpy(w->tmp_path + dl, name);
			return 0;
		}
		if (errno != EEXIST)
			return fstore_io_error(err, errno, "create a temporary file beside",
					       w->path);
	}
	return ms_error_set(err, MS_EIO, "cannot create a temporary file beside '%s'", w->path);
}

static int fs_put_open(ms_store *self, const char *key, ms_store_writer **out, ms_error *err)
{
	file_store *fs = (file_store *)self;
	file_writer *w;
	size_t at;
	int rc, e;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return oom(err);
	w->fd = -1;
	w->dfd = -1;
	w->fs = fs;
	w->path = fstore_join_path(fs, key);
	w->key = strdup(key);
	w->buf = malloc(WRITE_BUF);
	if (!w->path || !w->key || !w->buf) {
		rc = oom(err);
		goto done;
	}
	if ((e = fstore_walk_parent(fs, w->key, 1, &w->dfd, &w->name, &at)) != 0) {
		char *p = fstore_join_n(fs, key, at);

		if (e == ELOOP)
			rc = fstore_link_error(fs, key, at, err);
		else if (e == ENOTDIR)
			rc = ms_error_set(err, MS_EIO,
					  "cannot create directory '%s': a file is in the way",
					  p ? p : key);
		else
			rc = fstore_io_error(err, e, "create directory", p ? p : key);
		free(p);
		w->name = NULL;
		goto done;
	}
	if ((rc = open_tmp(w, err)) < 0)
		goto done;
	w->base.write = fw_write;
	w->base.commit = fw_commit;
	w->base.abort = fw_abort;
	*out = &w->base;
	rc = 0;
done:
	if (rc < 0) {
		writer_discard(w);
		writer_free(w);
	}
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
			return fstore_io_error(err, errno, "read", r->key);
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
		return fstore_io_error(err, errno, "seek in", r->key);
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
	const char *base;
	struct stat sb;
	char *path = NULL;
	int fd = -1, dfd = -1, rc, e;
	size_t at;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	if (!(path = fstore_join_path(fs, key))) {
		rc = oom(err);
		goto done;
	}
	if ((e = fstore_walk_parent(fs, key, 0, &dfd, &base, &at)) == 0) {
		/* O_NONBLOCK: a FIFO put in a store must not hang the reader */
		fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			at = strlen(key);
		}
	}
	if (e == ELOOP) {
		rc = fstore_link_error(fs, key, at, err);
		goto done;
	}
	if (e) {
		rc = fstore_io_error(err, e, "open", path);
		goto done;
	}
	if (fstat(fd, &sb) < 0) {
		rc = fstore_io_error(err, errno, "stat", path);
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = ms_error_set(err, MS_ENOTFOUND, "key '%s' in '%s' is not a file", key,
				  self->url);
		goto done;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
#ifdef POSIX_FADV_SEQUENTIAL
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	r = calloc(1, sizeof(*r));
	if (!r || !(r->key = strdup(path))) {
		rc = oom(err);
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
	if (dfd >= 0)
		close(dfd);
	free(path);
	return rc;
}

typedef struct key_item {
	char *key; /* owned */
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
 * Collect the keys under the directory open as dfd (which this takes),
 * whose key prefix `rel` is "" or ends in '/', that start with prefix.  A
 * symbolic link that agrees with the prefix is refused, never followed.
 */
static int walk(const file_store *fs, int dfd, ms_buf *rel, const char *prefix, size_t plen,
		int depth, key_list *l, ms_error *err)
{
	DIR *d = NULL;
	struct dirent *de;
	size_t base = rel->len;
	int rc = 0;

	if (depth > LIST_DEPTH_MAX || !(d = fdopendir(dfd))) {
		if (depth <= LIST_DEPTH_MAX)
			rc = fstore_io_error(err, errno, "list", fs->root);
		close(dfd);
		return rc;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat sb;
		size_t cmp;
		int nfd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0)
			continue;
		rel->len = base;
		if (ms_buf_adds(rel, de->d_name) < 0) {
			rc = ms_error_set(err, MS_ENOMEM, "path under '%s' is too long", fs->root);
			goto done;
		}
		/* Prune: the entry must agree with the prefix as far as both go. */
		cmp = rel->len < plen ? rel->len : plen;
		if (memcmp(rel->ptr, prefix, cmp) != 0)
			continue;
		if (check_key(rel->ptr, 0, NULL) < 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (S_ISLNK(sb.st_mode)) {
			rc = fstore_link_error(fs, rel->ptr, rel->len, err);
			goto done;
		}
		if (S_ISDIR(sb.st_mode)) {
			nfd = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0) {
				if (errno == ENOENT)
					continue;
				rc = errno == ENOTDIR || errno == ELOOP
					     ? fstore_link_error(fs, rel->ptr, rel->len, err)
					     : fstore_io_error(err, errno, "list", rel->ptr);
				goto done;
			}
			if (ms_buf_addc(rel, '/') < 0) {
				close(nfd);
				rc = ms_error_set(err, MS_ENOMEM, "path under '%s' is too long",
						  fs->root);
				goto done;
			}
			if ((rc = walk(fs, nfd, rel, prefix, plen, depth + 1, l, err)) < 0)
				goto done;
		} else if (S_ISREG(sb.st_mode) && rel->len >= plen) {
			if (key_list_add(l, rel->ptr, &sb) < 0) {
				rc = oom(err);
				goto done;
			}
		}
	}
	if (errno != 0)
		rc = fstore_io_error(err, errno, "list", fs->root);
done:
	rel->len = base;
	if (rel->ptr)
		rel->ptr[base] = '\0';
	closedir(d);
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
	size_t i, at, dlen;
	int rc, e, dfd = -1;

	if (!prefix)
		prefix = "";
	if ((rc = check_key(prefix, 1, err)) < 0)
		return rc;
	/* Start at the deepest directory the prefix names entirely. */
	slash = strrchr(prefix, '/');
	dlen = slash ? (size_t)(slash - prefix) : 0;
	if (slash && ms_buf_add(&rel, prefix, dlen + 1) < 0) {
		rc = oom(err);
		goto done;
	}
	if ((e = fstore_walk_dirs(fs, prefix, dlen, 0, &dfd, &at)) != 0) {
		if (e == ELOOP) {
			rc = fstore_link_error(fs, prefix, at, err);
		} else if (e == ENOENT || e == ENOTDIR) {
			rc = 0; /* nothing there */
		} else {
			char *p = fstore_join_n(fs, prefix, at);

			rc = fstore_io_error(err, e, "list", p ? p : fs->root);
			free(p);
		}
		goto done;
	}
	if ((rc = walk(fs, dfd, &rel, prefix, strlen(prefix), 0, &l, err)) < 0)
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

/*
 * fstatat of key without following links: 0 with *sb filled, else an
 * error (MS_ENOTFOUND when missing, MS_EINTEGRITY for a link) or, with
 * dfd_out, the directory left open for the caller.
 */
static int stat_key(const file_store *fs, const char *key, struct stat *sb, const char *what,
		    int *dfd_out, ms_error *err)
{
	const char *base;
	char *path = NULL;
	size_t at;
	int dfd = -1, e, rc = 0;

	if ((e = fstore_walk_parent(fs, key, 0, &dfd, &base, &at)) == 0 &&
	    fstatat(dfd, base, sb, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		at = strlen(key);
	}
	if (e == 0 && S_ISLNK(sb->st_mode)) {
		e = ELOOP;
		at = strlen(key);
	}
	if (e == ELOOP)
		rc = fstore_link_error(fs, key, at, err);
	else if (e == ENOENT || e == ENOTDIR)
		rc = ms_error_set(err, MS_ENOTFOUND, "key '%s' not found in '%s'", key,
				  fs->base.url);
	else if (e)
		rc = fstore_io_error(err, e, what, (path = fstore_join_path(fs, key)) ? path : key);
	free(path);
	if (rc == 0 && dfd_out) {
		*dfd_out = dfd;
		return 0;
	}
	if (dfd >= 0)
		close(dfd);
	return rc;
}

static int fs_stat(ms_store *self, const char *key, ms_store_stat *out, ms_error *err)
{
	file_store *fs = (file_store *)self;
	struct stat sb;
	int rc;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	if ((rc = stat_key(fs, key, &sb, "stat", NULL, err)) < 0)
		return rc;
	if (!S_ISREG(sb.st_mode))
		return ms_error_set(err, MS_ENOTFOUND, "key '%s' not found in '%s'", key,
				    self->url);
	out->size = (uint64_t)sb.st_size;
	out->mtime = (int64_t)sb.st_mtime;
	return 0;
}

static int fs_remove(ms_store *self, const char *key, ms_error *err)
{
	file_store *fs = (file_store *)self;
	const char *slash = strrchr(key, '/');
	struct stat sb;
	char *path = NULL;
	int rc, dfd = -1;

	if ((rc = check_key(key, 0, err)) < 0)
		return rc;
	if ((rc = stat_key(fs, key, &sb, "remove", &dfd, err)) < 0)
		return rc;
	if (unlinkat(dfd, slash ? slash + 1 : key, 0) < 0) {
		rc = errno == ENOENT
			     ? ms_error_set(err, MS_ENOTFOUND, "key '%s' not found in '%s'", key,
					    self->url)
			     : fstore_io_error(err, errno, "remove",
					       (path = fstore_join_path(fs, key)) ? path : key);
		goto done;
	}
	fstore_prune_parents(fs, key);
done:
	close(dfd);
	free(path);
	return rc;
}

static void fs_close(ms_store *self)
{
	file_store *fs = (file_store *)self;

	fstore_unlock_all(fs);
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
	/* optional; flock on PREFIX/.ms-tmp-lock (created, naming the process for a writer);
	 * 1 taken from a dead holder, MS_ECONFLICT a live one, MS_EINTEGRITY a link, MS_EIO */
	.lock = fstore_lock,
	/* optional; removes the lock file when forgetting or made by this handle */
	.unlock = fstore_unlock,
	/* optional; temporary files no writer holds, folders holding only a dead writer's
	 * lock; never follows a link; MS_EIO when the root cannot be read */
	.sweep = fstore_sweep,
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
			ms_error_set(err, MS_EINVAL, "store '%s' is not a directory",
				     url->redacted);
			fs_close(&fs->base);
			return MS_EINVAL;
		}
	}
	fs->base.driver = &file_store_driver;
	*out = &fs->base;
	return 0;
}
