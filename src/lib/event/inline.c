/*
 * Snapshots carried inside their event: a live source's change sets are
 * mostly a few lines, and a target that applies them should not have to
 * read the store for each.  The event carries the snapshot's files as they
 * are in the store; the target writes them into a folder of its own and
 * opens that as the snapshot, checked against the event's manifest_sha256
 * (which lists every file's SHA-256) like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metasync/event.h"
#include "metasync/store.h"

/* A path a snapshot holds: manifest.json, or FOLDER/part-NNNNN.json in one of its four folders. */
static int inline_path_ok(const char *p)
{
	static const char *const folders[] = { "databases/", "tables/", "partitions/",
					       "tombstones/" };
	size_t i, n;

	if (strcmp(p, "manifest.json") == 0)
		return 1;
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		n = strlen(folders[i]);
		if (strncmp(p, folders[i], n) != 0)
			continue;
		p += n;
		if (strncmp(p, "part-", 5) != 0 || strlen(p) != strlen("part-00000.json"))
			return 0;
		for (n = 5; n < 10; n++)
			if (p[n] < '0' || p[n] > '9')
				return 0;
		return strcmp(p + 10, ".json") == 0;
	}
	return 0;
}

cJSON *ms_event_inline_files(const char *store_url, const ms_snapshot_info *info, size_t max_bytes,
			     ms_error *err)
{
	ms_store *st = NULL;
	cJSON *out = NULL, *manifest = NULL, *files, *f;
	char *text = NULL, key[512];
	size_t len = 0, total;
	int rc;

	ms_error_clear(err);
	if (!info->id || ms_store_open(&st, store_url, err) < 0)
		goto fail;
	snprintf(key, sizeof(key), "%s/manifest.json", info->id);
	if (ms_store_get_bytes(st, key, max_bytes, &text, &len, err) < 0)
		goto fail;
	total = len;
	if (!(manifest = cJSON_ParseWithLength(text, len)) ||
	    !cJSON_IsArray(files = cJSON_GetObjectItemCaseSensitive(manifest, "files")))
		goto small_fail;
	cJSON_ArrayForEach(f, files)
	{
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "bytes");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");

		if (!cJSON_IsNumber(b) || !cJSON_IsString(p) || !inline_path_ok(p->valuestring))
			goto small_fail; /* compressed, or not ours to carry */
		total += (size_t)b->valuedouble;
		if (total > max_bytes)
			goto small_fail;
	}
	if (!(out = cJSON_CreateObject()) || !cJSON_AddStringToObject(out, "manifest.json", text))
		goto small_fail;
	cJSON_ArrayForEach(f, files)
	{
		const char *p = cJSON_GetObjectItemCaseSensitive(f, "path")->valuestring;
		char *body = NULL;
		size_t blen = 0;

		snprintf(key, sizeof(key), "%s/%s", info->id, p);
		if ((rc = ms_store_get_bytes(st, key, max_bytes, &body, &blen, err)) < 0)
			goto fail;
		/* a NUL inside would not survive as a JSON string (an empty file reads as NULL) */
		if ((body && memchr(body, '\0', blen)) ||
		    !cJSON_AddStringToObject(out, p, body ? body : "")) {
			free(body);
			goto small_fail;
		}
		free(body);
	}
	cJSON_Delete(manifest);
	free(text);
	ms_store_close(st);
	return out;
small_fail:
	ms_error_clear(err);
fail:
	cJSON_Delete(out);
	cJSON_Delete(manifest);
	free(text);
	ms_store_close(st);
	return NULL;
}

static int write_file(const char *dir, const char *path, const char *text, ms_error *err)
{
	char full[4096];
	size_t len = strlen(text), done = 0;
	int fd;

	snprintf(full, sizeof(full), "%s/%s", dir, path);
	if ((fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return ms_error_set(err, MS_EIO, "cannot write '%s': %s", full, strerror(errno));
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			return ms_error_set(err, MS_EIO, "cannot write '%s': %s", full,
					    strerror(errno));
		}
		done += (size_t)w;
	}
	if (close(fd) != 0)
		return ms_error_set(err, MS_EIO, "cannot write '%s': %s", full, strerror(errno));
	return 0;
}

int ms_event_inline_write(const cJSON *files, const char *dir, ms_error *err)
{
	static const char *const folders[] = { "databases", "tables", "partitions", "tombstones" };
	const cJSON *f;
	char sub[4096];
	size_t i;
	int rc;

	if (!cJSON_IsObject(files) || !cJSON_GetObjectItemCaseSensitive(files, "manifest.json"))
		return ms_error_set(err, MS_EINVAL,
				    "an event's inline snapshot has no manifest.json");
	cJSON_ArrayForEach(f, files)
	{
		if (!f->string || !inline_path_ok(f->string) || !cJSON_IsString(f))
			return ms_error_set(err, MS_EINVAL,
					    "an event's inline snapshot holds '%.100s', which no "
					    "snapshot holds",
					    f->string ? f->string : "?");
	}
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, folders[i]);
		if (mkdir(sub, 0700) != 0 && errno != EEXIST)
			return ms_error_set(err, MS_EIO, "cannot make '%s': %s", sub,
					    strerror(errno));
		snprintf(sub, sizeof(sub), "%s/_SUCCESS", folders[i]);
		if ((rc = write_file(dir, sub, "", err)) < 0)
			return rc;
	}
	cJSON_ArrayForEach(f, files)
	{
		if ((rc = write_file(dir, f->string, f->valuestring, err)) < 0)
			return rc;
	}
	return write_file(dir, "_SUCCESS", "", err);
}
