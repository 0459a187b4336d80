/*
 * Test-only: resolve AWS credentials through src/lib/aws as a driver does
 * and print them, so that the shell tests can compare them with what the
 * AWS CLI resolves for the same setup (tests/e2e/aws_creds_cli.sh) and
 * with what the local stub servers issued (tests/e2e/aws_creds_stubs.sh).
 * It prints test keys, which is its purpose; metasync itself never does.
 *
 *   aws_creds_dump [--profile NAME] [--gets N] [--sleep-ms MS] [--threads T]
 *
 * One JSON line per get on stdout, in the shape of the CLI's
 * `configure export-credentials --format process` plus "Source"; with
 * --threads, T threads each get N times and only the last line of each is
 * printed.  On failure the message (and detail) on stderr, exit 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_creds.h"

static ms_aws_creds *creds;
static int gets = 1, sleep_ms, failed;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_keys(const ms_aws_keys *k)
{
	pthread_mutex_lock(&print_lock);
	printf("{\"Version\": 1, \"AccessKeyId\": ");
	json_str(k->access_key);
	printf(", \"SecretAccessKey\": ");
	json_str(k->secret_key);
	if (k->session_token[0]) {
		printf(", \"SessionToken\": ");
		json_str(k->session_token);
	}
	if (k->expires) {
		char buf[64];
		time_t t = (time_t)k->expires;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
		printf(", \"Expiration\": \"%s\"", buf);
	}
	printf(", \"Source\": \"%s\"}\n", ms_aws_creds_source(creds));
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
}

static void report(const ms_error *err)
{
	pthread_mutex_lock(&print_lock);
	fprintf(stderr, "error: %s\n", err->message);
	if (err->detail[0])
		fprintf(stderr, "detail: %s\n", err->detail);
	failed = 1;
	pthread_mutex_unlock(&print_lock);
}

/* gets times: get the keys (printing each, or only the last when quiet). */
static void *run(void *quiet)
{
	ms_aws_keys *k = calloc(1, sizeof(*k));
	ms_error err;
	int i;

	for (i = 0; k && i < gets; i++) {
		if (i && sleep_ms)
			usleep((useconds_t)sleep_ms * 1000);
		ms_error_clear(&err);
		if (ms_aws_creds_get(creds, k, &err) < 0) {
			report(&err);
			break;
		}
		if (!quiet || i == gets - 1)
			print_keys(k);
	}
	if (k)
		ms_aws_keys_wipe(k);
	free(k);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *profile = NULL;
	int threads = 0, i;
	pthread_t tid[64];
	ms_error err;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--profile") == 0)
			profile = argv[i + 1];
		else if (strcmp(argv[i], "--gets") == 0)
			gets = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--sleep-ms") == 0)
			sleep_ms = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			threads = atoi(argv[i + 1]);
	}
	if (i != argc || threads < 0 || threads > 64) {
		fprintf(stderr, "usage: aws_creds_dump [--profile NAME] [--gets N] [--sleep-ms MS] "
				"[--threads T]\n");
		return 2;
	}
	ms_error_clear(&err);
	if (ms_aws_creds_open(&creds, profile, "the test", &err) < 0) {
		report(&err);
		return 1;
	}
	if (!threads) {
		run(NULL);
	} else {
		for (i = 0; i < threads; i++)
			pthread_create(&tid[i], NULL, run, &threads);
		for (i = 0; i < threads; i++)
			pthread_join(tid[i], NULL);
	}
	ms_aws_creds_close(creds);
	return failed;
}
