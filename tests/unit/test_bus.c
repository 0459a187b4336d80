/*
 * The bus conformance suite, run once per driver: `test_bus` on a fresh
 * embedded file per test, `test_bus nats` on the server named by
 * MS_TEST_NATS_URL (exit 77, skipped, when unset), each test in a namespace
 * of its own.  Order, ack and redelivery after the ack wait, nak with delay,
 * durable positions across reopen and across processes, fan-out to distinct
 * subscriptions and work sharing within one, dead-lettering after
 * max_deliver, deliver_new, reading a stream, bad URLs, and (embedded)
 * processes opening one new bus file at the same moment.
 *
 * `test_bus --consume URL NAME IDLE_MS` is the second process of the
 * cross-process tests: it takes and acks messages of the snapshots stream
 * with subscription NAME until none came for IDLE_MS, printing each seq.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <pthread.h>
#include <cmocka.h>

#include "metasync/bus.h"

#define ACK_WAIT 1000 /* long enough that a loaded machine does not redeliver early */

static const char *g_driver = "embedded"; /* or "nats" */
static const char *g_nats_url;
static char g_self[1024]; /* this executable */
static int g_counter;

typedef struct fixture {
	char dir[256];
	char url[1024];
	ms_bus *bus;
} fixture;

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	ms_error err;

	if (!fx)
		return -1;
	g_counter++;
	if (strcmp(g_driver, "nats") == 0) {
		snprintf(fx->url, sizeof(fx->url), "%s%snamespace=t%ld_%d", g_nats_url,
			 strchr(g_nats_url, '?') ? "&" : "?", (long)getpid(), g_counter);
	} else {
		snprintf(fx->dir, sizeof(fx->dir), "/tmp/ms-bus-XXXXXX");
		if (!mkdtemp(fx->dir))
			return -1;
		snprintf(fx->url, sizeof(fx->url), "embedded:%s/bus.db", fx->dir);
	}
	if (ms_bus_open(&fx->bus, fx->url, &err) < 0) {
		fprintf(stderr, "open '%s': %s (%s)\n", fx->url, err.message, err.detail);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	char cmd[600];

	ms_bus_close(fx->bus);
	if (fx->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", fx->dir);
	}
	free(fx);
	return 0;
}

static void ok(int rc, const ms_error *err)
{
	if (rc < 0)
		fail_msg("%s (%s)", err->message, err->detail);
}

static void pub(ms_bus *bus, const char *stream, const char *text)
{
	ms_error err;

	ok(ms_bus_publish(bus, stream, text, strlen(text), &err), &err);
}

static ms_bus_sub *sub_open(ms_bus *bus, const char *name, unsigned max_deliver, int deliver_new)
{
	ms_bus_sub_options o = { ACK_WAIT, max_deliver, deliver_new };
	ms_bus_sub *sub = NULL;
	ms_error err;

	ok(ms_bus_subscribe(bus, MS_STREAM_SNAPSHOTS, name, &o, &sub, &err), &err);
	return sub;
}

static ms_bus_msg *next(ms_bus_sub *sub, int timeout_ms)
{
	ms_bus_msg *msg = NULL;
	ms_error err;

	ok(ms_bus_next(sub, timeout_ms, NULL, NULL, &msg, &err), &err);
	return msg;
}

static void ack(ms_bus_sub *sub, ms_bus_msg *msg)
{
	ms_error err;

	ok(ms_bus_ack(sub, msg, &err), &err);
	ms_bus_msg_free(msg);
}

/* next() must give a message with this text and attempt count; acks it when asked. */
static uint64_t expect(ms_bus_sub *sub, const char *text, unsigned attempts, int do_ack)
{
	ms_bus_msg *msg = next(sub, 6 * ACK_WAIT);
	uint64_t seq;

	if (!msg)
		fail_msg("no message, expected '%s'", text);
	assert_string_equal(msg->data, text);
	assert_int_equal(msg->len, strlen(text));
	assert_string_equal(msg->stream, MS_STREAM_SNAPSHOTS);
	assert_int_equal(msg->attempts, attempts);
	seq = msg->seq;
	if (do_ack)
		ack(sub, msg);
	else
		ms_bus_msg_free(msg);
	return seq;
}

static void expect_none(ms_bus_sub *sub, int timeout_ms)
{
	ms_bus_msg *msg = next(sub, timeout_ms);

	if (msg)
		fail_msg("unexpected message '%s' (seq %llu, attempt %u)", msg->data,
			 (unsigned long long)msg->seq, msg->attempts);
}

static void t_order(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub;
	uint64_t s1, s2, s3;

	pub(fx->bus, MS_STREAM_SNAPSHOTS, "one");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "two");
	pub(fx->bus, MS_STREAM_RESULTS, "elsewhere");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "three");
	sub = sub_open(fx->bus, "order", 0, 0);
	s1 = expect(sub, "one", 1, 1);
	s2 = expect(sub, "two", 1, 1);
	s3 = expect(sub, "three", 1, 1);
	assert_true(s1 < s2 && s2 < s3);
	expect_none(sub, 100);
	expect_none(sub, 0);
	/* a timeout of 0 looks once without waiting */
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "four");
	{
		ms_bus_msg *msg = next(sub, 0);
		long long t0 = mono_ms();

		assert_non_null(msg);
		assert_string_equal(msg->data, "four");
		ack(sub, msg);
		expect_none(sub, 0);
		assert_true(mono_ms() - t0 < 100);
	}
	/* short waits */
	expect_none(sub, 1);
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "five");
	expect(sub, "five", 1, 1);
	ms_bus_sub_close(sub);
}

/*
 * Messages published while a subscriber waits reach that wait, each once and
 * in order, published at intervals that do not line up with any poll.  The
 * wait must end when the message comes, not at its timeout: the median delay
 * from publish to delivery is under a tenth of the wait's timeout (a bus
 * that looked only when a wait starts or ends takes the whole timeout).  The
 * bound is a ratio to a 30 s wait, not a speed, so a loaded machine does not
 * fail it; how fast is measured by bench/agent.sh.
 */
#define LATENCY_N 10
#define LATENCY_WAIT_MS 30000

static void *publish_timed(void *arg)
{
	fixture *fx = arg;
	struct timespec ts = { 0, 37 * 1000000L };
	ms_error err;
	char text[64];
	int i, *failed = calloc(1, sizeof(*failed));

	for (i = 0; i < LATENCY_N; i++) {
		nanosleep(&ts, NULL);
		snprintf(text, sizeof(text), "%d %lld", i, mono_ms());
		if (ms_bus_publish(fx->bus, MS_STREAM_SNAPSHOTS, text, strlen(text), &err) < 0)
			*failed = 1;
	}
	return failed;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void t_latency(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub = sub_open(fx->bus, "latency", 0, 0);
	long long delay[LATENCY_N], sent, got;
	pthread_t th;
	void *failed;
	int i, index;

	assert_int_equal(pthread_create(&th, NULL, publish_timed, fx), 0);
	for (i = 0; i < LATENCY_N; i++) {
		ms_bus_msg *msg = next(sub, LATENCY_WAIT_MS);

		if (!msg)
			fail_msg("message %d was not delivered within %d ms", i, LATENCY_WAIT_MS);
		got = mono_ms();
		if (sscanf(msg->data, "%d %lld", &index, &sent) != 2)
			fail_msg("unexpected message '%s'", msg->data);
		if (index != i)
			fail_msg("message %d came where message %d was due", index, i);
		delay[i] = got - sent;
		ack(sub, msg);
	}
	pthread_join(th, &failed);
	assert_int_equal(*(int *)failed, 0);
	free(failed);
	expect_none(sub, 100);
	ms_bus_sub_close(sub);
	qsort(delay, LATENCY_N, sizeof(delay[0]), cmp_ll);
	if (delay[LATENCY_N / 2] * 10 >= LATENCY_WAIT_MS)
		fail_msg("median delay %lld ms, a wait of %d ms (fastest %lld, slowest %lld)",
			 delay[LATENCY_N / 2], LATENCY_WAIT_MS, delay[0], delay[LATENCY_N - 1]);
}

static void t_redeliver(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub;
	uint64_t s1, s1b;
	long long t0;

	pub(fx->bus, MS_STREAM_SNAPSHOTS, "once");
	sub = sub_open(fx->bus, "redeliver", 0, 0);
	t0 = mono_ms();
	s1 = expect(sub, "once", 1, 0);
	/* leased: not given again before the ack wait */
	expect_none(sub, ACK_WAIT / 4);
	s1b = expect(sub, "once", 2, 1);
	assert_true(mono_ms() - t0 >= ACK_WAIT - 20);
	assert_int_equal(s1, s1b);
	expect_none(sub, ACK_WAIT + 150);
	ms_bus_sub_close(sub);
}

static void t_nak(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub;
	ms_bus_msg *msg;
	ms_error err;
	long long t0;

	pub(fx->bus, MS_STREAM_SNAPSHOTS, "first");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "second");
	sub = sub_open(fx->bus, "nak", 0, 0);
	msg = next(sub, 3000);
	assert_non_null(msg);
	assert_string_equal(msg->data, "first");
	t0 = mono_ms();
	ok(ms_bus_nak(sub, msg, 400, &err), &err);
	ms_bus_msg_free(msg);
	/* the delayed message lets the one behind it pass */
	expect(sub, "second", 1, 1);
	expect(sub, "first", 2, 1);
	if (mono_ms() - t0 < 350)
		fail_msg("redelivered %lld ms after a nak of 400 ms", mono_ms() - t0);
	/* a nak without delay gives it back at once */
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "third");
	msg = next(sub, 3000);
	assert_non_null(msg);
	ok(ms_bus_nak(sub, msg, 0, &err), &err);
	ms_bus_msg_free(msg);
	t0 = mono_ms();
	expect(sub, "third", 2, 1);
	assert_true(mono_ms() - t0 < ACK_WAIT);
	expect_none(sub, 100);
	ms_bus_sub_close(sub);
}

/* Run the consumer child; its printed seqs go into seqs (returns how many). */
static size_t run_child(const char *url, const char *name, int idle_ms, uint64_t *seqs, size_t max)
{
	char cmd[2400];
	char line[64];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' --consume '%s' '%s' %d", g_self, url, name, idle_ms);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (n < max)
			seqs[n++] = strtoull(line, NULL, 10);
	assert_int_equal(pclose(p), 0);
	return n;
}

static void t_durable(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub;
	ms_error err;
	uint64_t seqs[8];
	size_t n;

	pub(fx->bus, MS_STREAM_SNAPSHOTS, "a");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "b");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "c");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "d");
	sub = sub_open(fx->bus, "durable", 0, 0);
	expect(sub, "a", 1, 1);
	ms_bus_sub_close(sub);
	ms_bus_close(fx->bus);
	fx->bus = NULL;
	if (fx->dir[0]) {
		/* the same file as embedded:///ABSOLUTE/PATH */
		char url[1100];

		snprintf(url, sizeof(url), "embedded://%s/bus.db", fx->dir);
		ok(ms_bus_open(&fx->bus, url, &err), &err);
	} else {
		ok(ms_bus_open(&fx->bus, fx->url, &err), &err);
	}
	sub = sub_open(fx->bus, "durable", 0, 0);
	expect(sub, "b", 1, 1);
	ms_bus_sub_close(sub);
	/* another process resumes where this one stopped */
	n = run_child(fx->url, "durable", 300, seqs, 8);
	assert_int_equal(n, 2);
	sub = sub_open(fx->bus, "durable", 0, 0);
	expect_none(sub, 100);
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "e");
	expect(sub, "e", 1, 1);
	ms_bus_sub_close(sub);
}

static void t_fanout(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *a, *b;

	pub(fx->bus, MS_STREAM_SNAPSHOTS, "x");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "y");
	a = sub_open(fx->bus, "target-a", 0, 0);
	b = sub_open(fx->bus, "target-b", 0, 0);
	expect(a, "x", 1, 1);
	expect(b, "x", 1, 1);
	expect(b, "y", 1, 1);
	expect(a, "y", 1, 1);
	expect_none(a, 50);
	expect_none(b, 50);
	ms_bus_sub_close(a);
	ms_bus_sub_close(b);
	/* one name on two streams: two subscriptions */
	pub(fx->bus, MS_STREAM_RESULTS, "result");
	pub(fx->bus, MS_STREAM_ERRORS, "error");
	{
		ms_bus_sub_options o = { ACK_WAIT, 0, 0 };
		ms_bus_sub *r = NULL, *e = NULL;
		ms_bus_msg *msg;
		ms_error err;

		ok(ms_bus_subscribe(fx->bus, MS_STREAM_RESULTS, "target-a", &o, &r, &err), &err);
		ok(ms_bus_subscribe(fx->bus, MS_STREAM_ERRORS, "target-a", &o, &e, &err), &err);
		msg = next(e, 3000);
		assert_non_null(msg);
		assert_string_equal(msg->data, "error");
		assert_string_equal(msg->stream, MS_STREAM_ERRORS);
		ack(e, msg);
		msg = next(r, 3000);
		assert_non_null(msg);
		assert_string_equal(msg->data, "result");
		assert_string_equal(msg->stream, MS_STREAM_RESULTS);
		ack(r, msg);
		expect_none(r, 50);
		expect_none(e, 50);
		ms_bus_sub_close(r);
		ms_bus_sub_close(e);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void t_shared(void **state)
{
	fixture *fx = *state;
	ms_bus *bus2;
	ms_bus_sub *a, *b;
	ms_error err;
	uint64_t seqs[64];
	size_t n = 0, na = 0, nb = 0, i;
	char text[32];

	ok(ms_bus_open(&bus2, fx->url, &err), &err);
	a = sub_open(fx->bus, "shared", 0, 0);
	b = sub_open(bus2, "shared", 0, 0);
	for (i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "m%zu", i);
		pub(fx->bus, MS_STREAM_SNAPSHOTS, text);
	}
	/* two members alternate; held leases keep them apart */
	for (i = 0; i < 40 && n < 10; i++) {
		ms_bus_msg *ma = next(a, 200), *mb = next(b, 200);

		if (ma) {
			seqs[n++] = ma->seq;
			na++;
		}
		if (mb) {
			seqs[n++] = mb->seq;
			nb++;
		}
		if (ma)
			ack(a, ma);
		if (mb)
			ack(b, mb);
	}
	assert_int_equal(n, 10);
	assert_true(na > 0 && nb > 0);
	qsort(seqs, n, sizeof(seqs[0]), cmp_u64);
	for (i = 1; i < n; i++)
		assert_true(seqs[i] > seqs[i - 1]);
	expect_none(a, 50);
	expect_none(b, 50);
	ms_bus_sub_close(a);
	ms_bus_sub_close(b);
	ms_bus_close(bus2);
}

/*
 * Two processes share one subscription: every message delivered, none lost.
 * The other process takes the first message (this one waits for it), then
 * both take what is left; how they split it depends on the machine's load.
 * Delivery is at least once: a message whose ack comes after its ack wait
 * (a process descheduled that long on a loaded machine) is delivered again,
 * so a repeat is allowed only while each of the 40 is seen, and few repeat.
 */
static void t_shared_processes(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub;
	uint64_t seqs[128];
	size_t n = 0, theirs = 0, distinct, i;
	char text[32];
	FILE *p;
	char cmd[2400], line[64];

	sub = sub_open(fx->bus, "group", 0, 0);
	snprintf(cmd, sizeof(cmd), "'%s' --consume '%s' group 700", g_self, fx->url);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (i = 0; i < 40; i++) {
		snprintf(text, sizeof(text), "w%zu", i);
		pub(fx->bus, MS_STREAM_SNAPSHOTS, text);
	}
	/* the other process has one before this one takes any */
	assert_non_null(fgets(line, sizeof(line), p));
	seqs[n++] = strtoull(line, NULL, 10);
	theirs++;
	for (;;) {
		ms_bus_msg *msg = next(sub, 400);

		if (!msg)
			break;
		if (n < 128)
			seqs[n++] = msg->seq;
		ack(sub, msg);
	}
	while (fgets(line, sizeof(line), p))
		if (n < 128) {
			seqs[n++] = strtoull(line, NULL, 10);
			theirs++;
		}
	assert_int_equal(pclose(p), 0);
	assert_true(theirs > 0);
	qsort(seqs, n, sizeof(seqs[0]), cmp_u64);
	for (i = 1, distinct = n ? 1 : 0; i < n; i++)
		if (seqs[i] != seqs[i - 1])
			distinct++;
	assert_int_equal(distinct, 40);
	if (n - distinct > 4)
		fail_msg("%zu of 40 messages delivered again", n - distinct);
	ms_bus_sub_close(sub);
}

typedef struct dead_seen {
	int calls;
	char data[64];
} dead_seen;

static void on_dead(const ms_bus_msg *msg, void *ctx)
{
	dead_seen *d = ctx;

	d->calls++;
	snprintf(d->data, sizeof(d->data), "%s", msg->data);
}

typedef struct collect {
	size_t n;
	uint64_t seq[32];
	char data[32][32];
} collect;

static int collect_cb(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	collect *c = ctx;

	if (c->n < 32) {
		c->seq[c->n] = msg->seq;
		snprintf(c->data[c->n], sizeof(c->data[0]), "%s", msg->data);
	}
	c->n++;
	return 0;
}

static void t_dead_letter(void **state)
{
	fixture *fx = *state;
	ms_bus_sub_options o = { ACK_WAIT, 3, 0 };
	ms_bus_sub *sub = NULL;
	dead_seen dead = { 0 };
	collect c = { 0 };
	ms_error err;
	unsigned max_attempt = 0;
	int good = 0;
	long long deadline = mono_ms() + 5000;

	pub(fx->bus, MS_STREAM_SNAPSHOTS, "poison");
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "good");
	ok(ms_bus_subscribe(fx->bus, MS_STREAM_SNAPSHOTS, "dead", &o, &sub, &err), &err);
	while ((dead.calls == 0 || !good) && mono_ms() < deadline) {
		ms_bus_msg *msg = NULL;

		ok(ms_bus_next(sub, 1000, on_dead, &dead, &msg, &err), &err);
		if (!msg)
			continue;
		if (strcmp(msg->data, "poison") == 0) {
			if (msg->attempts > max_attempt)
				max_attempt = msg->attempts;
			ok(ms_bus_nak(sub, msg, 0, &err), &err);
			ms_bus_msg_free(msg);
		} else {
			assert_string_equal(msg->data, "good");
			good++;
			ack(sub, msg);
		}
	}
	assert_int_equal(dead.calls, 1);
	assert_string_equal(dead.data, "poison");
	assert_int_equal(good, 1);
	assert_int_equal(max_attempt, 3);
	expect_none(sub, ACK_WAIT + 100);
	ok(ms_bus_read(fx->bus, MS_STREAM_DEAD, 0, 0, collect_cb, &c, &err), &err);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.data[0], "poison");
	/* ms_bus_dead_letter by hand */
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "by-hand");
	{
		ms_bus_msg *msg = next(sub, 3000);

		assert_non_null(msg);
		ok(ms_bus_dead_letter(sub, msg, &err), &err);
		ms_bus_msg_free(msg);
	}
	expect_none(sub, ACK_WAIT + 100);
	memset(&c, 0, sizeof(c));
	ok(ms_bus_read(fx->bus, MS_STREAM_DEAD, 0, 0, collect_cb, &c, &err), &err);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.data[1], "by-hand");
	ms_bus_sub_close(sub);
}

static void t_deliver_new(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub, *old;

	pub(fx->bus, MS_STREAM_SNAPSHOTS, "before");
	sub = sub_open(fx->bus, "newonly", 0, 1);
	expect_none(sub, 100);
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "after");
	expect(sub, "after", 1, 1);
	ms_bus_sub_close(sub);
	/* an existing subscription keeps its position whatever the option says */
	old = sub_open(fx->bus, "fromstart", 0, 0);
	ms_bus_sub_close(old);
	pub(fx->bus, MS_STREAM_SNAPSHOTS, "later");
	old = sub_open(fx->bus, "fromstart", 0, 1);
	expect(old, "before", 1, 1);
	ms_bus_sub_close(old);
}

static void t_read(void **state)
{
	fixture *fx = *state;
	collect all = { 0 }, part = { 0 }, none = { 0 };
	ms_error err;
	size_t i;
	char text[16];

	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "r%zu", i);
		pub(fx->bus, MS_STREAM_RESULTS, text);
		pub(fx->bus, MS_STREAM_ERRORS, "err");
	}
	ok(ms_bus_read(fx->bus, MS_STREAM_RESULTS, 0, 0, collect_cb, &all, &err), &err);
	assert_int_equal(all.n, 5);
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "r%zu", i);
		assert_string_equal(all.data[i], text);
		if (i)
			assert_true(all.seq[i] > all.seq[i - 1]);
	}
	ok(ms_bus_read(fx->bus, MS_STREAM_RESULTS, all.seq[1], 2, collect_cb, &part, &err), &err);
	assert_int_equal(part.n, 2);
	assert_int_equal(part.seq[0], all.seq[2]);
	assert_int_equal(part.seq[1], all.seq[3]);
	assert_string_equal(part.data[1], "r3");
	ok(ms_bus_read(fx->bus, MS_STREAM_DEAD, 0, 0, collect_cb, &none, &err), &err);
	assert_int_equal(none.n, 0);
	ok(ms_bus_read(fx->bus, MS_STREAM_RESULTS, all.seq[4], 0, collect_cb, &none, &err), &err);
	assert_int_equal(none.n, 0);
}

static int stop_cb(const ms_bus_msg *msg, void *ctx, ms_error *err)
{
	return ms_error_set(err, MS_EREFUSED, "stop at %llu", (unsigned long long)msg->seq);
}

static void t_read_stop(void **state)
{
	fixture *fx = *state;
	ms_error err;

	pub(fx->bus, MS_STREAM_ERRORS, "e1");
	pub(fx->bus, MS_STREAM_ERRORS, "e2");
	assert_int_equal(ms_bus_read(fx->bus, MS_STREAM_ERRORS, 0, 0, stop_cb, NULL, &err),
			 MS_EREFUSED);
	assert_non_null(strstr(err.message, "stop at"));
}

static void t_bad_names(void **state)
{
	fixture *fx = *state;
	ms_bus_sub *sub = NULL;
	ms_error err;

	assert_int_equal(ms_bus_publish(fx->bus, "nope", "x", 1, &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "'nope'"));
	assert_int_equal(ms_bus_subscribe(fx->bus, MS_STREAM_SNAPSHOTS, "a.b", NULL, &sub, &err),
			 MS_EINVAL);
	assert_non_null(strstr(err.message, "'a.b'"));
	assert_int_equal(ms_bus_subscribe(fx->bus, MS_STREAM_SNAPSHOTS, "", NULL, &sub, &err),
			 MS_EINVAL);
	assert_null(sub);
}

/* Driver-independent: schemes and malformed addresses. */
static void t_bad_urls(void **state)
{
	ms_bus *bus = NULL;
	ms_error err;
	int rc;

	(void)state;
	rc = ms_bus_open(&bus, "tls://user:secret@host:4222", &err);
	assert_int_equal(rc, MS_EINVAL);
	assert_non_null(strstr(err.message, "'tls'"));
	assert_non_null(strstr(err.message, "tls://user:***@host:4222"));
	assert_null(strstr(err.message, "secret"));
	assert_int_equal(ms_bus_open(&bus, "embedded:", &err), MS_EINVAL);
	assert_non_null(strstr(err.message, "'embedded:'"));
	assert_int_equal(ms_bus_open(&bus, "embedded://host/x.db", &err), MS_EINVAL);
	assert_int_equal(ms_bus_open(&bus, "embedded:/tmp/x.db?y=1", &err), MS_EINVAL);
	assert_int_equal(ms_bus_open(&bus, "embedded:/nonexistent-dir/sub/bus.db", &err), MS_EIO);
	assert_non_null(strstr(err.message, "/nonexistent-dir/sub/bus.db"));
	assert_int_equal(ms_bus_open(&bus, "nats://", &err), MS_EINVAL);
	assert_int_equal(ms_bus_open(&bus, "nats://127.0.0.1:4222/path", &err), MS_EINVAL);
	assert_int_equal(ms_bus_open(&bus, "nats://127.0.0.1:4222?nope=1", &err), MS_EINVAL);
	assert_int_equal(ms_bus_open(&bus, "nats://127.0.0.1:4222?namespace=a.b", &err), MS_EINVAL);
	/* nothing listens on port 1: the error names the server, not the password */
	rc = ms_bus_open(&bus, "nats://metasync:hunter2@127.0.0.1:1", &err);
	assert_true(rc < 0);
	assert_non_null(strstr(err.message, "nats://metasync:***@127.0.0.1:1"));
	assert_null(strstr(err.message, "hunter2"));
	assert_null(strstr(err.detail, "hunter2"));
	assert_null(bus);
}

/* The second process: consume with subscription name until idle. */
static int consume(const char *url, const char *name, int idle_ms)
{
	ms_bus_sub_options o = { ACK_WAIT, 0, 0 };
	ms_bus *bus = NULL;
	ms_bus_sub *sub = NULL;
	ms_bus_msg *msg = NULL;
	ms_error err;
	int rc;

	if ((rc = ms_bus_open(&bus, url, &err)) < 0 ||
	    (rc = ms_bus_subscribe(bus, MS_STREAM_SNAPSHOTS, name, &o, &sub, &err)) < 0)
		goto done;
	for (;;) {
		if ((rc = ms_bus_next(sub, idle_ms, NULL, NULL, &msg, &err)) < 0 || !msg)
			break;
		printf("%llu\n", (unsigned long long)msg->seq);
		fflush(stdout);
		rc = ms_bus_ack(sub, msg, &err);
		ms_bus_msg_free(msg);
		if (rc < 0)
			break;
		{
			struct timespec ts = { 0, 5 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
done:
	if (rc < 0)
		fprintf(stderr, "consume: %s (%s)\n", err.message, err.detail);
	ms_bus_sub_close(sub);
	ms_bus_close(bus);
	return rc < 0 ? 1 : 0;
}

/*
 * Embedded: processes that open one new bus file at the same moment (agents
 * started together) all get it; SQLite answers some of them "database is
 * locked" at once while another creates the schema.
 */
static void t_open_together(void **state)
{
	enum { ROUNDS = 100, PROCS = 6 };
	int round, i, failed = 0;

	(void)state;
	if (strcmp(g_driver, "embedded") != 0)
		skip();
	for (round = 0; round < ROUNDS; round++) {
		char dir[64] = "/tmp/ms-bus-XXXXXX", url[128], cmd[128];
		int go[2], status;
		pid_t kids[PROCS];

		assert_non_null(mkdtemp(dir));
		snprintf(url, sizeof(url), "embedded:%s/bus.db", dir);
		assert_int_equal(pipe(go), 0);
		for (i = 0; i < PROCS; i++) {
			kids[i] = fork();
			assert_true(kids[i] >= 0);
			if (kids[i] == 0) {
				ms_bus *bus = NULL;
				ms_error err;
				char c;
				int rc;

				close(go[1]);
				/* all start when the parent closes the pipe */
				rc = (int)read(go[0], &c, 1);
				(void)rc;
				ms_bus_sub *sub = NULL;
				ms_bus_sub_options so;
				char name[32];

				memset(&so, 0, sizeof(so));
				so.ack_wait_ms = ACK_WAIT;
				snprintf(name, sizeof(name), "s%d", i);
				rc = ms_bus_open(&bus, url, &err);
				if (rc == 0)
					rc = ms_bus_subscribe(bus, MS_STREAM_SNAPSHOTS, name, &so,
							      &sub, &err);
				if (rc < 0)
					fprintf(stderr, "open '%s': %s (%s)\n", url, err.message,
						err.detail);
				ms_bus_sub_close(sub);
				ms_bus_close(bus);
				_exit(rc < 0 ? 1 : 0);
			}
		}
		close(go[0]);
		close(go[1]);
		for (i = 0; i < PROCS; i++) {
			assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				failed++;
		}
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(failed, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(t_order),
		T(t_latency),
		T(t_redeliver),
		T(t_nak),
		T(t_durable),
		T(t_fanout),
		T(t_shared),
		T(t_shared_processes),
		T(t_dead_letter),
		T(t_deliver_new),
		T(t_read),
		T(t_read_stop),
		T(t_bad_names),
		cmocka_unit_test(t_bad_urls),
		cmocka_unit_test(t_open_together),
	};
	ssize_t n;

	if (argc == 5 && strcmp(argv[1], "--consume") == 0)
		return consume(argv[2], argv[3], atoi(argv[4]));
	n = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
	if (n <= 0)
		return 1;
	g_self[n] = '\0';
	if (argc > 1 && strcmp(argv[1], "nats") == 0) {
		g_driver = "nats";
		g_nats_url = getenv("MS_TEST_NATS_URL");
		if (!g_nats_url || !*g_nats_url) {
			fprintf(stderr, "MS_TEST_NATS_URL is not set: skipped\n");
			return 77;
		}
		return cmocka_run_group_tests_name("bus nats", tests, NULL, NULL);
	}
	return cmocka_run_group_tests_name("bus embedded", tests, NULL, NULL);
}
