/*
 * credential_process, as the AWS CLI runs it: the setting split into words
 * as Python's shlex.split does (no shell: no expansion, no pipes), the
 * program found on PATH, its stdout read (bounded) and parsed as JSON
 * Version 1 (AccessKeyId, SecretAccessKey, optional SessionToken and
 * Expiration).  Its stderr stays ours, as a terminal user expects; nothing
 * of its stdout ever reaches a message.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_internal.h"
#include "util/clock.h"

#define PROCESS_OUT_MAX ((size_t)64 << 10)
/*
 * A process that has not finished within this many seconds is killed (a
 * hung helper must not hang an agent): MS_CREDENTIAL_PROCESS_TIMEOUT
 * (1 to 3600) overrides it.
 */
#define PROCESS_TIMEOUT_S 60

extern char **environ;

static long timeout_s(void)
{
	const char *v = getenv("MS_CREDENTIAL_PROCESS_TIMEOUT");
	char *end;
	long n;

	if (!v || !*v)
		return PROCESS_TIMEOUT_S;
	n = strtol(v, &end, 10);
	return *end || n < 1 || n > 3600 ? PROCESS_TIMEOUT_S : n;
}

/* Read fd to its end into out (bounded: *too_big) until deadline; 1 when the time ran out. */
static int read_all(int fd, double deadline, ms_buf *out, int *too_big)
{
	char chunk[4096];
	ssize_t n;

	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		double left = deadline - ms_mono_s();
		int r;

		if (left <= 0)
			return 1;
		r = poll(&pf, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno != EINTR)
			return 0;
		if (r <= 0)
			continue;
		if ((n = read(fd, chunk, sizeof(chunk))) == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return 0;
		}
		if (!*too_big && ms_buf_add(out, chunk, (size_t)n) < 0)
			*too_big = 1;
	}
}

/* Wait for pid until deadline (1 when the time ran out); *status its wait status. */
static int reap(pid_t pid, double deadline, int *status, int *werr)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR) {
			*werr = errno;
			return 0;
		}
		if (ms_mono_s() >= deadline)
			return 1;
		usleep(10000);
	}
}

/* Run argv, its stdout into out; *status its wait status. */
static int run(char **argv, const char *profile, ms_buf *out, int *status, ms_error *err)
{
	posix_spawn_file_actions_t fa;
	int fds[2], rc = 0, too_big = 0, late, werr = 0;
	long limit = timeout_s();
	double deadline;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return ms_error_set(err, MS_EIO, "credential_process of aws profile '%s': pipe: %s",
				    profile, strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return ms_error_set(err, MS_EIO,
				    "credential_process of aws profile '%s': cannot run '%s': %s",
				    profile, argv[0], strerror(rc));
	}
	deadline = ms_mono_s() + (double)limit;
	late = read_all(fds[0], deadline, out, &too_big);
	close(fds[0]);
	if (!late)
		late = reap(pid, deadline, status, &werr);
	if (late) {
		kill(pid, SIGKILL);
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
		return ms_error_set(err, MS_EIO,
				    "credential_process of aws profile '%s' did not finish within "
				    "%ld "
				    "s: killed",
				    profile, limit);
	}
	if (werr)
		return ms_error_set(err, MS_EIO,
				    "credential_process of aws profile '%s': waitpid: %s", profile,
				    strerror(werr));
	if (too_big)
		return ms_error_set(err, MS_ETOOBIG,
				    "credential_process of aws profile '%s' wrote more than %zu "
				    "bytes",
				    profile, PROCESS_OUT_MAX);
	return 0;
}

static const char *json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Keys from the process's JSON output. */
static int parse_output(const char *text, const char *profile, ms_aws_keys *out, ms_error *err)
{
	cJSON *j = cJSON_Parse(text);
	const cJSON *version;
	const char *ak, *sk, *token, *exp;
	long long expires = 0;
	int rc;

	if (!j || !cJSON_IsObject(j)) {
		rc = ms_error_set(err, MS_EINVAL,
				  "credential_process of aws profile '%s' did not print a JSON "
				  "object",
				  profile);
		goto done;
	}
	version = cJSON_GetObjectItemCaseSensitive(j, "Version");
	if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
		rc = ms_error_set(err, MS_EINVAL,
				  "credential_process of aws profile '%s': unsupported Version "
				  "(only 1 is)",
				  profile);
		goto done;
	}
	ak = json_str(j, "AccessKeyId");
	sk = json_str(j, "SecretAccessKey");
	token = json_str(j, "SessionToken");
	exp = json_str(j, "Expiration");
	if (!ak || !sk) {
		rc = ms_error_set(err, MS_EINVAL,
				  "credential_process of aws profile '%s': no %s in its output",
				  profile, !ak ? "AccessKeyId" : "SecretAccessKey");
		goto done;
	}
	if (exp && aws_parse_time(exp, &expires) < 0) {
		rc = ms_error_set(err, MS_EINVAL,
				  "credential_process of aws profile '%s': Expiration is no ISO "
				  "8601 "
				  "time",
				  profile);
		goto done;
	}
	if (exp && expires <= (long long)time(NULL)) {
		rc = ms_error_set(err, MS_EINVAL,
				  "credential_process of aws profile '%s' returned expired "
				  "credentials",
				  profile);
		goto done;
	}
	rc = aws_keys_set(out, ak, sk, token, expires, "credential_process", err);
done:
	cJSON_Delete(j);
	return rc;
}

int aws_process_keys(const char *cmd, const char *profile, ms_aws_keys *out, ms_error *err)
{
	ms_buf b = MS_BUF_INIT(PROCESS_OUT_MAX);
	char **argv = NULL;
	int status = 0, rc;

	if (aws_shlex_split(cmd, &argv) <= 0) {
		rc = ms_error_set(err, MS_EINVAL,
				  "credential_process of aws profile '%s' is no command (empty or "
				  "an "
				  "unclosed quote)",
				  profile);
		goto done;
	}
	if ((rc = run(argv, profile, &b, &status, err)) < 0)
		goto done;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			rc = ms_error_set(err, MS_EIO,
					  "credential_process of aws profile '%s' exited with "
					  "status %d",
					  profile, WEXITSTATUS(status));
		else
			rc = ms_error_set(err, MS_EIO,
					  "credential_process of aws profile '%s' was killed by "
					  "signal %d",
					  profile, WTERMSIG(status));
		goto done;
	}
	rc = parse_output(ms_buf_cstr(&b), profile, out, err);
done:
	if (b.ptr)
		memset(b.ptr, 0, b.alloc);
	ms_buf_free(&b);
	aws_argv_free(argv);
	return rc;
}
