/*
 * Hashes: SHA-256 through OpenSSL's EVP interface, the order-independent
 * digest of a partition set, hex, and random UUIDs.  A table can hold millions of
 * partitions that arrive in no particular order (segments of a parallel
 * scan, part files of a snapshot); summing their content hashes modulo
 * 2^256 gives a set hash that needs neither sorting nor memory, and that
 * can be updated when one partition changes.
 */
#include "model_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "util/url.h"

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched;

/* Fetch the implementation once: an implicit fetch per hash costs a lock. */
static void sha256_init(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void)
{
	pthread_once(&sha256_once, sha256_init);
	return sha256_fetched ? sha256_fetched : EVP_sha256();
}

EVP_MD_CTX *ms_model_sha256_begin(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx)
		return NULL;
	if (EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int ms_model_sha256(const void *data, size_t len, unsigned char out[MS_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, sha256_md(), NULL) != 1 || n != MS_HASH_LEN)
		return MS_ERROR;
	return 0;
}

void ms_digest_init(ms_digest *d)
{
	d->count = 0;
	memset(d->sum, 0, sizeof(d->sum));
}

void ms_digest_add(ms_digest *d, const unsigned char hash[MS_HASH_LEN])
{
	unsigned carry = 0;
	int i;

	for (i = MS_HASH_LEN - 1; i >= 0; i--) {
		unsigned t = (unsigned)d->sum[i] + hash[i] + carry;

		d->sum[i] = (unsigned char)t;
		carry = t >> 8;
	}
	d->count++;
}

void ms_digest_final(const ms_digest *d, unsigned char out[MS_HASH_LEN])
{
	static const char tag[] = "ms-pset-v1";
	unsigned char msg[sizeof(tag) - 1 + 8 + MS_HASH_LEN];
	size_t off = sizeof(tag) - 1;
	int i;

	memcpy(msg, tag, off);
	for (i = 0; i < 8; i++)
		msg[off + (size_t)i] = (unsigned char)(d->count >> (56 - 8 * i));
	off += 8;
	memcpy(msg + off, d->sum, MS_HASH_LEN);
	if (ms_model_sha256(msg, sizeof(msg), out) < 0)
		memset(out, 0, MS_HASH_LEN);
}

void ms_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * Exactly 2*n hex digits (either case) into n bytes; MS_EINVAL, with bytes
 * untouched, otherwise.
 */
int ms_unhex(const char *hex, unsigned char *bytes, size_t n)
{
	size_t i;

	if (!hex || strlen(hex) != 2 * n)
		return MS_EINVAL;
	for (i = 0; i < 2 * n; i++)
		if (ms_hexval((unsigned char)hex[i]) < 0)
			return MS_EINVAL;
	for (i = 0; i < n; i++)
		bytes[i] = (unsigned char)(ms_hexval((unsigned char)hex[2 * i]) << 4 |
					   ms_hexval((unsigned char)hex[2 * i + 1]));
	return 0;
}

int ms_model_uuid4(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return MS_ERROR;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}
