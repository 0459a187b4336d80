/*
 * Fuzz target: the SigV4 verifier on arbitrary requests.  An input that
 * parses as a raw HTTP request (the corpus: requests captured from libcurl,
 * the AWS CLI and boto3) is verified as it is, at the time it names, with
 * and without a session token and a required region; any other input
 * becomes the Authorization header of an otherwise well-formed request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_capture.h"
#include "server/sigv4.h"

#define AKID "AKIDMETASYNCTEST01"
#define SECRET "mS3cr3t/Key+ForSigV4Tests/0123456789abcd"
#define TOKEN "FwoGZXIvYXdzEMetasync//Session+Token/For=Tests"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(const char *akid, ms_sigv4_key *key, void *ctx, ms_error *err)
{
	if (strcmp(akid, AKID) != 0)
		return MS_ENOTFOUND;
	key->secret = SECRET;
	key->session_token = ctx;
	key->account = NULL;
	return 0;
}

static void verify(const ms_sigv4_request *req, time_t now)
{
	ms_sigv4_result out;
	ms_error err;

	ms_sigv4_verify(req, "glue", NULL, now, lookup, NULL, &out, &err);
	ms_sigv4_verify(req, "glue", "us-east-1", now, lookup, (void *)TOKEN, &out, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_raw_request r;
	time_t now = 1765000000;
	char *text;

	if (ms_raw_request_parse(&r, data, size) == 0) {
		int i = ms_raw_request_find(&r, "x-amz-date");

		if (i >= 0)
			ms_sigv4_parse_amz_date(r.headers[i].value +
							strspn(r.headers[i].value, " "),
						&now, NULL);
		verify(&r.req, now);
		ms_raw_request_free(&r);
	}

	/* The input as an Authorization header. */
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	{
		ms_sigv4_header h[] = {
			{ "Host", "127.0.0.1:8080" },
			{ "X-Amz-Date", "20251206T055320Z" },
			{ "X-Amz-Target", "AWSGlue.GetDatabases" },
			{ "Authorization", text },
		};
		ms_sigv4_request req = { "POST", "/", "", h, 4, "{}", 2 };

		ms_sigv4_parse_amz_date("20251206T055320Z", &now, NULL);
		verify(&req, now);
	}
	free(text);
	return 0;
}
