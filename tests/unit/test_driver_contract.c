/*
 * The driver contracts of include/metasync/sys/: the checks a store's and a
 * bus's driver pass when they are opened (the catalog drivers' are in the
 * conformance suite, per driver), and the URL view a driver reads.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metasync/sys/bus.h"
#include "metasync/sys/store.h"
#include "metasync/sys/url.h"
#include "util/url.h"

static char g_dir[] = "/tmp/ms-contract-XXXXXX";

static void expect_refused(int rc, const ms_error *err, const char *part)
{
	assert_int_equal(rc, MS_EINVAL);
	if (!strstr(err->message, part))
		fail_msg("message '%s' does not say '%s'", err->message, part);
}

static void test_store_driver_check(void **state)
{
	ms_store *st = NULL;
	ms_store_driver d;
	ms_error err;
	const char *url;

	(void)state;
	assert_int_equal(ms_store_open(&st, g_dir, &err), 0);
	url = ms_store_url(st);
	d = *st->driver;
	assert_int_equal(ms_store_check_driver(&d, url, &err), 0);
	d.version = MS_STORE_DRIVER_VERSION - 1;
	expect_refused(ms_store_check_driver(&d, url, &err), &err, "driver interface 1");
	d = *st->driver;
	d.stat = NULL;
	expect_refused(ms_store_check_driver(&d, url, &err), &err, "required slot");
	d = *st->driver;
	d.unlock = NULL;
	if (d.lock)
		expect_refused(ms_store_check_driver(&d, url, &err), &err, "lock and unlock");
	ms_store_close(st);
}

static void test_bus_driver_check(void **state)
{
	char url[sizeof(g_dir) + 32];
	ms_bus *bus = NULL;
	ms_bus_driver d;
	ms_error err;

	(void)state;
	snprintf(url, sizeof(url), "embedded:%s/bus.db", g_dir);
	assert_int_equal(ms_bus_open(&bus, url, &err), 0);
	d = *bus->driver;
	assert_int_equal(ms_bus_check_driver(&d, ms_bus_url(bus), &err), 0);
	d.version = 0;
	expect_refused(ms_bus_check_driver(&d, ms_bus_url(bus), &err), &err, "driver interface 0");
	d = *bus->driver;
	d.close = NULL;
	expect_refused(ms_bus_check_driver(&d, ms_bus_url(bus), &err), &err, "close");
	ms_bus_close(bus);
}

/* What a driver outside the tree reads of its URL: the parts, with the password kept apart. */
static void test_url_view(void **state)
{
	ms_url *u = NULL;
	ms_error err;

	(void)state;
	assert_int_equal(ms_url_parse(&u,
				      "hms+postgresql://ann:s%40cret@db.example:5433/hms?"
				      "catalog-id=1&sslmode=require",
				      &err),
			 0);
	assert_string_equal(ms_url_scheme(u), "hms+postgresql");
	assert_string_equal(ms_url_user(u), "ann");
	assert_string_equal(ms_url_password(u), "s@cret");
	assert_string_equal(ms_url_host(u), "db.example");
	assert_string_equal(ms_url_port(u), "5433");
	assert_string_equal(ms_url_path(u), "/hms");
	assert_string_equal(ms_url_param_get(u, "sslmode"), "require");
	assert_null(ms_url_param_get(u, "nope"));
	assert_null(strstr(ms_url_redacted(u), "cret"));
	ms_url_free(u);
	assert_int_equal(ms_url_parse(&u, "sqlite:/var/lib/c.db", &err), 0);
	assert_null(ms_url_host(u));
	assert_null(ms_url_user(u));
	assert_null(ms_url_password(u));
	assert_null(ms_url_port(u));
	ms_url_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_driver_check),
		cmocka_unit_test(test_bus_driver_check),
		cmocka_unit_test(test_url_view),
	};
	char cmd[sizeof(g_dir) + 16];
	int failed;

	if (!mkdtemp(g_dir)) {
		perror("mkdtemp");
		return 1;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_driver_contract: could not remove %s\n", g_dir);
	return failed ? 1 : 0;
}
