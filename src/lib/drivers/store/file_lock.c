/*
 * How the file store tells a live writer from a dead one, so that what an
 * export killed with SIGKILL left behind can be removed and what a running
 * export writes never is.  A writer holds flock(LOCK_EX) on each temporary
 * file it writes and on its snapshot folder's lock file (ID/.ms-tmp-lock,
 * which also names the process); the kernel drops those locks when the
 * process dies, however it dies, and flock works across NFS clients.  A
 * later process that can take such a lock with LOCK_NB has proof that the
 * writer is gone.  Each lock is checked to still be linked under its name
 * after it is taken (the holder removes the file before it lets go), so a
 * lock on a file just removed proves nothing.  Where flock does not work at
 * all, nothing counts as proof and nothing is removed on its account.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "file_internal.h"

#define TMP_PREFIX MS_STORE_TMP_PREFIX
#define HOLDER_MAX 200
/* Folders deeper than this under the root are not swept. */
#define SWEEP_DEPTH_MAX 64

struct file_lock {
	file_lock *next;
	char *prefix; /* owned; "ID/" */
	int fd;       /* the lock file, flock(LOCK_EX) held */
	int made;     /* this handle created the lock file */
};

int fstore_hold_tmp(int fd)
{
	struct stat sb;

	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return 0; /* no flock here: nothing is ever removed on its account */
	return fstat(fd, &sb) == 0 && sb.st_nlink == 0 ? -1 : 0;
}

/* 1 when fd is still the file name in dfd (not removed or replaced). */
static int still_linked(int fd, int dfd, const char *name)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && a.st_nlink > 0 &&
	       fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/* The holder a lock file names, printable, into out[HOLDER_MAX] ("" when none). */
static void read_holder(int fd, char *out)
{
	ssize_t n = pread(fd, out, HOLDER_MAX - 1, 0);
	ssize_t i;

	if (n < 0)
		n = 0;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '\n')
			out[i] = '\0';
		else if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

/* Name this process as the holder: "pid N on 'HOST' since TIME". */
static void write_holder(int fd)
{
	char host[256] = "", when[32], text[HOLDER_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(text, sizeof(text), "pid %ld on '%s' since %s\n", (long)getpid(), host, when);
	if (n > 0 && ftruncate(fd, 0) == 0 && pwrite(fd, text, strlen(text), 0) < 0)
		return;
}

static file_lock *find_lock(file_store *fs, const char *prefix, file_lock ***link)
{
	file_lock **pp;

	for (pp = &fs->locks; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->prefix, prefix) == 0) {
			if (link)
				*link = pp;
			return *pp;
		}
	return NULL;
}

/*
 * Open (or create) the lock file in dfd and take its lock: 0 with *fd and
 * *made, MS_ECONFLICT (a live holder, named in err), 1 when flock does not
 * work here (nothing to hold), or an error.
 */
static int take(file_store *fs, int dfd, const char *prefix, int *fd, int *made, ms_error *err)
{
	char holder[HOLDER_MAX], *path;
	int attempt, rc;

	for (attempt = 0; attempt < 20; attempt++) {
		*made = 0;
		*fd = openat(dfd, FSTORE_LOCK_NAME, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (*fd < 0 && errno == ENOENT) {
			*fd = openat(dfd, FSTORE_LOCK_NAME,
				     O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
			if (*fd < 0 && errno == EEXIST)
				continue;
			*made = 1;
		}
		if (*fd < 0) {
			ms_buf k = MS_BUF_INIT(8192);

			ms_buf_printf(&k, "%s%s", prefix, FSTORE_LOCK_NAME);
			rc = errno == ELOOP ? fstore_link_error(fs, k.ptr ? k.ptr : prefix,
								k.ptr ? k.len : 0, err)
					    : fstore_io_error(err, errno, "create the lock file in",
							      k.ptr ? k.ptr : prefix);
			ms_buf_free(&k);
			return rc;
		}
		if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;

			if (e == EWOULDBLOCK) {
				read_holder(*fd, holder);
				close(*fd);
				path = fstore_join_path(fs, prefix);
				rc = ms_error_set(err, MS_ECONFLICT,
						  "snapshot folder '%s' is being written by %s",
						  path ? path : prefix,
						  holder[0] ? holder : "another process");
				free(path);
				return rc;
			}
			if (*made)
				unlinkat(dfd, FSTORE_LOCK_NAME, 0);
			close(*fd);
			if (e == EINTR)
				continue;
			return 1;
		}
		if (still_linked(*fd, dfd, FSTORE_LOCK_NAME))
			return 0;
		close(*fd); /* its holder removed it as we took it: again */
	}
	path = fstore_join_path(fs, prefix);
	rc = ms_error_set(err, MS_EIO,
			  "cannot lock snapshot folder '%s': its lock file keeps changing",
			  path ? path : prefix);
	free(path);
	return rc;
}

int fstore_lock(ms_store *self, const char *prefix, unsigned flags, char *holder, size_t holder_cap,
		ms_error *err)
{
	file_store *fs = (file_store *)self;
	size_t plen = strlen(prefix), at;
	char prev[HOLDER_MAX] = "";
	file_lock *l = NULL;
	int dfd = -1, fd = -1, made = 0, e, rc;

	if (holder && holder_cap)
		holder[0] = '\0';
	if (plen < 2 || prefix[plen - 1] != '/' || ms_store_check_key(prefix, 4096, 1, NULL) < 0)
		return ms_error_set(err, MS_EINVAL, "cannot lock '%s': not a folder of the store",
				    prefix);
	if (find_lock(fs, prefix, NULL))
		return 0;
	if ((e = fstore_walk_dirs(fs, prefix, plen - 1, 1, &dfd, &at)) != 0) {
		char *p = fstore_join_n(fs, prefix, at);

		rc = e == ELOOP ? fstore_link_error(fs, prefix, at, err)
				: fstore_io_error(err, e, "create directory", p ? p : prefix);
		free(p);
		return rc;
	}
	rc = take(fs, dfd, prefix, &fd, &made, err);
	if (rc != 0) {
		close(dfd);
		return rc == 1 ? 0 : rc;
	}
	if (!(l = calloc(1, sizeof(*l))) || !(l->prefix = strdup(prefix))) {
		free(l);
		if (made)
			unlinkat(dfd, FSTORE_LOCK_NAME, 0);
		close(dfd);
		close(fd);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	close(dfd);
	if (!made)
		read_holder(fd, prev);
	if (flags & MS_STORE_LOCK_WRITER)
		write_holder(fd);
	l->fd = fd;
	l->made = made;
	l->next = fs->locks;
	fs->locks = l;
	if (holder && holder_cap)
		snprintf(holder, holder_cap, "%s", prev[0] ? prev : "a writer that left no name");
	return made ? 0 : 1;
}

/* Release l (already off the list); remove its file with forget or when it made it. */
static void release(file_store *fs, file_lock *l, int forget)
{
	size_t plen = strlen(l->prefix), at;
	int dfd;

	if ((forget || l->made) && fstore_walk_dirs(fs, l->prefix, plen - 1, 0, &dfd, &at) == 0) {
		ms_buf key = MS_BUF_INIT(8192);

		/* removed while still held, so no one can take it for a dead writer's */
		if (still_linked(l->fd, dfd, FSTORE_LOCK_NAME))
			unlinkat(dfd, FSTORE_LOCK_NAME, 0);
		close(dfd);
		if (ms_buf_printf(&key, "%s%s", l->prefix, FSTORE_LOCK_NAME) == 0)
			fstore_prune_parents(fs, key.ptr);
		ms_buf_free(&key);
	}
	close(l->fd);
	free(l->prefix);
	free(l);
}

void fstore_unlock(ms_store *self, const char *prefix, int forget)
{
	file_store *fs = (file_store *)self;
	file_lock **link, *l = find_lock(fs, prefix, &link);

	if (!l)
		return;
	*link = l->next;
	release(fs, l, forget);
}

void fstore_unlock_all(file_store *fs)
{
	while (fs->locks) {
		file_lock *l = fs->locks;

		fs->locks = l->next;
		release(fs, l, 1);
	}
}

/* ------------------------------------------------------------------------ */
/* Sweep                                                                    */

typedef struct sweep_ctx {
	file_store *fs;
	const ms_gc_options *opts;
	ms_gc_report *report;
	ms_buf rel; /* the directory being swept, "" or ending in '/' */
} sweep_ctx;

/* A temporary file no process holds: its writer is gone; remove it. */
static void sweep_tmp(sweep_ctx *c, int dfd, const char *name)
{
	ms_gc_item item = { MS_GC_TEMPORARY, NULL, 1, NULL, NULL, 0, 1 };
	size_t base = c->rel.len;
	char why[96];
	struct stat sb;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	/* held: a live writer; failing otherwise: no way to tell, so kept */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || !still_linked(fd, dfd, name) ||
	    fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || ms_buf_adds(&c->rel, name) < 0) {
		close(fd);
		return;
	}
	if (isdigit((unsigned char)name[sizeof(TMP_PREFIX) - 1]))
		snprintf(why, sizeof(why), "its writer (pid %.*s) is gone",
			 (int)strspn(name + sizeof(TMP_PREFIX) - 1, "0123456789"),
			 name + sizeof(TMP_PREFIX) - 1);
	else
		snprintf(why, sizeof(why), "its writer is gone");
	item.key = c->rel.ptr;
	item.why = why;
	item.bytes = (unsigned long long)sb.st_size;
	if (!c->opts->dry_run && unlinkat(dfd, name, 0) < 0)
		item.error = strerror(errno);
	ms_store_gc_note(c->opts, c->report, &item);
	close(fd);
	if (!c->opts->dry_run && !item.error)
		fstore_prune_parents(c->fs, c->rel.ptr);
	c->rel.len = base;
	c->rel.ptr[base] = '\0';
}

/* A folder holding nothing but the lock of a writer that is gone. */
static void sweep_empty_folder(sweep_ctx *c)
{
	ms_gc_item item = { MS_GC_INCOMPLETE, c->rel.ptr, 1, NULL, NULL, 0, 0 };
	char holder[HOLDER_MAX], why[HOLDER_MAX + 64];
	ms_error e2;
	int rc = fstore_lock(&c->fs->base, c->rel.ptr, 0, holder, sizeof(holder), &e2);

	if (rc < 0)
		return; /* a live writer (it has just begun), or it cannot be told */
	if (rc == 1) {
		snprintf(why, sizeof(why), "holds no file and its writer (%s) is gone", holder);
		item.why = why;
		ms_store_gc_note(c->opts, c->report, &item);
	}
	fstore_unlock(&c->fs->base, c->rel.ptr, rc == 1 && !c->opts->dry_run);
}

/*
 * Sweep the directory open as dfd (taken) at c->rel; *keys counts the
 * files in it that are not temporary, at any depth.
 */
static void sweep_dir(sweep_ctx *c, int dfd, int depth, unsigned long long *keys)
{
	size_t base = c->rel.len;
	struct dirent *de;
	int has_lock = 0;
	DIR *d;

	*keys = 0;
	if (depth > SWEEP_DEPTH_MAX || !(d = fdopendir(dfd))) {
		close(dfd);
		*keys = 1; /* not looked at: assume it holds something */
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		unsigned long long sub;
		int nfd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISLNK(sb.st_mode))
			continue; /* gone meanwhile; a link is never followed */
		if (strncmp(de->d_name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0) {
			if (strcmp(de->d_name, FSTORE_LOCK_NAME) == 0)
				has_lock = 1;
			else if (S_ISREG(sb.st_mode))
				sweep_tmp(c, dirfd(d), de->d_name);
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			(*keys)++;
			continue;
		}
		nfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 || ms_buf_adds(&c->rel, de->d_name) < 0 ||
		    ms_buf_addc(&c->rel, '/') < 0) {
			if (nfd >= 0)
				close(nfd);
			(*keys)++;
			c->rel.len = base;
			c->rel.ptr[base] = '\0';
			continue;
		}
		sweep_dir(c, nfd, depth + 1, &sub);
		*keys += sub;
		c->rel.len = base;
		c->rel.ptr[base] = '\0';
	}
	closedir(d);
	if (depth == 1 && has_lock && *keys == 0)
		sweep_empty_folder(c);
}

int fstore_sweep(ms_store *self, const ms_gc_options *opts, long long grace_seconds,
		 ms_gc_report *report, ms_error *err)
{
	sweep_ctx c = { (file_store *)self, opts, report, MS_BUF_INIT(8192) };
	unsigned long long keys;
	int dfd;

	(void)grace_seconds; /* locks are proof; age is not needed */
	dfd = open(c.fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : fstore_io_error(err, errno, "sweep", c.fs->root);
	if (ms_buf_grow(&c.rel, 64) < 0) {
		close(dfd);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	c.rel.ptr[0] = '\0';
	sweep_dir(&c, dfd, 0, &keys);
	ms_buf_free(&c.rel);
	return 0;
}
