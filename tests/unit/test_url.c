/*
 * Unit tests of catalog, store and bus addresses: what may be printed of a
 * URL (every secret masked, whichever way it was given), and the one rule
 * every scheme's query parameters follow (unknown, repeated, overlong or
 * control-character values refused), through the registries that open
 * catalogs, stores and buses by URL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metasync/bus.h"
#include "metasync/catalog.h"
#include "metasync/store.h"
#include "util/url.h"

#define SECRET "S3CRET"

/* ms_url_redact(in) must equal want and must not hold SECRET. */
static void redacts(const char *in, const char *want)
{
	char *out = ms_url_redact(in);
	ms_url *u = NULL;
	ms_error err;

	assert_non_null(out);
	assert_string_equal(out, want);
	assert_null(strstr(out, SECRET));
	free(out);
	/* the parsed form's printable copy is the same text */
	assert_int_equal(ms_url_parse(&u, in, &err), 0);
	assert_string_equal(u->redacted, want);
	ms_url_free(u);
}

static void test_redact_user_info(void **state)
{
	(void)state;
	redacts("hms+postgresql://hive:" SECRET "@db:5432/metastore",
		"hms+postgresql://hive:***@db:5432/metastore");
	redacts("hms+mysql://hive@db/metastore", "hms+mysql://hive@db/metastore");
	/* a NATS token is the whole user info */
	redacts("nats://" SECRET "@127.0.0.1:4222", "nats://***@127.0.0.1:4222");
	redacts("nats://u:" SECRET "@127.0.0.1:4222", "nats://u:***@127.0.0.1:4222");
	redacts("sqlite:/tmp/a.db?catalog-id=1", "sqlite:/tmp/a.db?catalog-id=1");
	redacts("/plain/path", "/plain/path");
}

static void test_redact_parameters(void **state)
{
	(void)state;
	redacts("hms+postgresql://hive@db/metastore?password=" SECRET,
		"hms+postgresql://hive@db/metastore?password=***");
	redacts("hms+postgresql://hive@/m?host=/run/pg&sslpassword=" SECRET "&catalog=hive",
		"hms+postgresql://hive@/m?host=/run/pg&sslpassword=***&catalog=hive");
	redacts("hms+mysql://hive@db/m?socket=/s&password=" SECRET,
		"hms+mysql://hive@db/m?socket=/s&password=***");
	/* percent-encoded names are what a backend decodes */
	redacts("hms+postgresql://hive@db/m?pass%77ord=" SECRET,
		"hms+postgresql://hive@db/m?pass%77ord=***");
	/* libpq expands dbname into a connection string or URI */
	redacts("hms+postgresql:///?dbname=postgresql://u:" SECRET "@h/db",
		"hms+postgresql:///?dbname=***");
	redacts("hms+postgresql:///?dbname=host%3Dh%20password%3D" SECRET,
		"hms+postgresql:///?dbname=***");
	redacts("x://h/p?token=" SECRET "&aws_secret_access_key=" SECRET "&a=1",
		"x://h/p?token=***&aws_secret_access_key=***&a=1");
	/* an endpoint is not a secret */
	redacts("s3://b/p?endpoint=http://127.0.0.1:4568&region=us-east-1",
		"s3://b/p?endpoint=http://127.0.0.1:4568&region=us-east-1");
}

/* Open url in every registry that takes its scheme; the first error's message. */
static int opens(const char *url, ms_error *err)
{
	ms_catalog *cat = NULL;
	ms_open_options oo = { 0 };
	int rc;

	oo.mode = MS_OPEN_WRITE;
	rc = ms_catalog_open(&cat, url, &oo, err);
	ms_catalog_close(cat);
	return rc;
}

static void refused(const char *url, const char *message)
{
	ms_error err;

	ms_error_clear(&err);
	assert_int_equal(opens(url, &err), MS_EINVAL);
	if (!strstr(err.message, message))
		fail_msg("'%s': got '%s', want '%s'", url, err.message, message);
	assert_null(strstr(err.message, SECRET));
	assert_null(strchr(err.message, '\n'));
}

static void test_catalog_parameters(void **state)
{
	char url[6000], dir[] = "/tmp/ms-url-XXXXXX";
	size_t len;
	ms_error err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/c.db?catalog-id=1&catalog-id=2", dir);
	refused(url, "parameter 'catalog-id' is given twice in catalog url");
	snprintf(url, sizeof(url), "sqlite:%s/c.db?catalog-id=a%%0Ab", dir);
	refused(url, "parameter 'catalog-id' holds a control character in catalog url");
	snprintf(url, sizeof(url), "sqlite:%s/c.db?catalog-id=%%FF%%FE", dir);
	refused(url, "catalog-id in catalog url");
	snprintf(url, sizeof(url), "sqlite:%s/c.db?catalog-id=", dir);
	refused(url, "parameter 'catalog-id' is empty");
	len = (size_t)snprintf(url, sizeof(url), "sqlite:%s/c.db?catalog-id=", dir);
	memset(url + len, '1', 5000);
	url[len + 5000] = '\0';
	refused(url, "is longer than 255 bytes");
	snprintf(url, sizeof(url), "sqlite:%s/c.db?catalogid=1&password=" SECRET, dir);
	refused(url, "unknown parameter 'catalogid' in catalog url");
	snprintf(url, sizeof(url), "file://%s/snap?catalog-id=1&zone=2", dir);
	refused(url, "unknown parameter 'zone'");
	/* an s3:// snapshot's own parameters are its store's */
	refused("s3://bucket/prefix?regoin=eu-west-1", "unknown parameter 'regoin' in store url");
	refused("s3://bucket/prefix?region=a&region=b", "parameter 'region' is given twice");
	refused("s3://bucket/prefix?parallel=4x", "s3 parallel '4x'");
	refused("hms+mysql://u@h/db?sockett=/x&password=" SECRET, "unknown parameter 'sockett'");
	refused("hms+mysql://u:" SECRET "@h/db?password=" SECRET, "'password' is given twice");
	refused("hms+postgresql://u@h/db?sslmod=require&password=" SECRET,
		"unknown parameter 'sslmod'");
	refused("hms+postgresql://u@h/db?user=v", "'user' is given twice");
	refused("hms+postgresql://u@h/db?client_encoding=LATIN1", "unknown parameter");
	/* a good one still opens */
	snprintf(url, sizeof(url), "sqlite:%s/c.db?catalog-id=123456789012", dir);
	ms_error_clear(&err);
	assert_int_equal(opens(url, &err), 0);
	snprintf(url, sizeof(url), "rm -rf '%s'", dir);
	assert_int_equal(system(url), 0);
}

static void test_store_and_bus_parameters(void **state)
{
	ms_store *st = NULL;
	ms_bus *bus = NULL;
	ms_error err;

	(void)state;
	ms_error_clear(&err);
	assert_int_equal(ms_store_open(&st, "s3://b/p?endpoint=http://x&endpoint=http://y", &err),
			 MS_EINVAL);
	assert_non_null(strstr(err.message, "parameter 'endpoint' is given twice in store url"));
	assert_int_equal(ms_store_open(&st, "/tmp?x=1", &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "unknown parameter 'x' in store url"));
	assert_int_equal(ms_bus_open(&bus, "nats://127.0.0.1:1?namespace=a&namespace=b", &err),
			 MS_EINVAL);
	assert_non_null(strstr(err.message, "parameter 'namespace' is given twice in bus url"));
	assert_int_equal(ms_bus_open(&bus, "embedded:/tmp/x.db?sync=off", &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "unknown parameter 'sync' in bus url"));
	assert_int_equal(ms_bus_open(&bus, "nats://" SECRET "@127.0.0.1:1?ns=a", &err), MS_EINVAL);
	assert_null(strstr(err.message, SECRET));
}

static void test_decoded_control_characters(void **state)
{
	ms_url *u = NULL;
	ms_error err;

	(void)state;
	assert_int_equal(ms_url_parse(&u, "sqlite:/tmp/a%0Ab.db", &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "control character"));
	assert_int_equal(ms_url_parse(&u, "x://h/p?a%0D=1", &err), MS_EINVAL);
	assert_int_equal(ms_url_parse(&u, "x://h/p?a=1", &err), 0);
	ms_url_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_user_info),
		cmocka_unit_test(test_redact_parameters),
		cmocka_unit_test(test_catalog_parameters),
		cmocka_unit_test(test_store_and_bus_parameters),
		cmocka_unit_test(test_decoded_control_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
