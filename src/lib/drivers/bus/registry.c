/*
 * The bus scheme table and the public dispatch functions.  Besides picking a
 * driver by URL scheme, this layer owns what every bus must do the same way:
 * the checks on stream and subscription names, the subscription defaults,
 * and dead-lettering.  Drivers only count delivery attempts; ms_bus_next
 * moves a message that has been tried too often to MS_STREAM_DEAD, acks it
 * and keeps waiting, so a poisoned message never blocks those behind it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metasync/sys/bus.h"
#include "util/url.h"

#define BUS_DEFAULT_ACK_WAIT_MS 30000u
#define BUS_DEFAULT_MAX_DELIVER 5u
#define BUS_NAME_MAX 64

int ms_embedded_bus_open(ms_bus **out, const ms_url *url, ms_error *err);
int ms_nats_bus_open(ms_bus **out, const ms_url *url, ms_error *err);

static const ms_url_param_rule nats_params[] = {
	{ "namespace", 0, 0 },
	{ "replicas", 1, 1 }, /* copies of each stream in a JetStream cluster (1-5) */
	{ "servers", 0, 1 },  /* more HOST:PORT to connect to, ','-separated */
	{ NULL, 0, 0 },
};

/* One row per scheme: the driver and the query parameters it takes. */
static const struct {
	const char *scheme;
	ms_bus_open_fn open;
	const ms_url_param_rule *params;
} bus_schemes[] = {
	{ "embedded", ms_embedded_bus_open, NULL },
	{ "nats", ms_nats_bus_open, nats_params },
};

static const char *const bus_streams[] = {
	MS_STREAM_SNAPSHOTS,
	MS_STREAM_RESULTS,
	MS_STREAM_ERRORS,
	MS_STREAM_DEAD,
};

int ms_bus_base_init(ms_bus *base, const ms_bus_driver *driver, const char *redacted_url,
		     ms_error *err)
{
	base->driver = driver;
	base->url = strdup(redacted_url ? redacted_url : "");
	if (!base->url)
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	return 0;
}

void ms_bus_base_free(ms_bus *base)
{
	free(base->url);
	base->url = NULL;
}

int ms_bus_check_driver(const ms_bus_driver *d, const char *url, ms_error *err)
{
	const char *n = d && d->name ? d->name : "?";

	if (!d || d->version != MS_BUS_DRIVER_VERSION)
		return ms_error_set(err, MS_EINVAL,
				    "bus driver '%s' of '%s' is built for driver interface %u, "
				    "this "
				    "library's is %d",
				    n, url, d ? d->version : 0, MS_BUS_DRIVER_VERSION);
	if (!d->name || !*d->name || !d->close)
		return ms_error_set(err, MS_EINVAL,
				    "bus driver '%s' of '%s' lacks a name or a close slot", n, url);
	return 0;
}

/* The driver's bus, checked (closed and refused when its driver breaks the contract). */
static int open_checked(size_t row, ms_bus **out, const ms_url *u, ms_error *err)
{
	ms_bus *bus = NULL;
	int rc;

	if ((rc = bus_schemes[row].open(&bus, u, err)) < 0)
		return rc;
	if ((rc = ms_bus_check_driver(bus->driver, u->redacted, err)) < 0) {
		if (bus->driver && bus->driver->close)
			bus->driver->close(bus);
		return rc;
	}
	*out = bus;
	return 0;
}

int ms_bus_open(ms_bus **out, const char *url, ms_error *err)
{
	ms_url *u = NULL;
	size_t i;
	int rc;

	if ((rc = ms_url_parse(&u, url, err)) < 0)
		return rc;
	for (i = 0; i < sizeof(bus_schemes) / sizeof(bus_schemes[0]); i++) {
		if (strcmp(bus_schemes[i].scheme, u->scheme) == 0) {
			rc = ms_url_check_params(u, "bus url", bus_schemes[i].params, NULL, err);
			if (rc == 0)
				rc = open_checked(i, out, u, err);
			ms_url_free(u);
			return rc;
		}
	}
	rc = ms_error_set(err, MS_EINVAL,
			  "unknown bus url scheme '%s' in '%s' (known: embedded, nats)", u->scheme,
			  u->redacted);
	ms_url_free(u);
	return rc;
}

void ms_bus_close(ms_bus *bus)
{
	if (bus && bus->driver->close)
		bus->driver->close(bus);
}

const char *ms_bus_url(const ms_bus *bus)
{
	return bus->url;
}

static int check_stream(ms_bus *bus, const char *stream, ms_error *err)
{
	size_t i;

	for (i = 0; i < sizeof(bus_streams) / sizeof(bus_streams[0]); i++)
		if (stream && strcmp(stream, bus_streams[i]) == 0)
			return 0;
	return ms_error_set(err, MS_EINVAL, "unknown stream '%s' on bus '%s'", stream ? stream : "",
			    bus->url);
}

/* Subscription names become NATS durable names: letters, digits, '-', '_'. */
static int check_sub_name(ms_bus *bus, const char *name, ms_error *err)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n > BUS_NAME_MAX)
		return ms_error_set(err, MS_EINVAL,
				    "subscription name '%s' on bus '%s' must have 1 to %d "
				    "characters",
				    name ? name : "", bus->url, BUS_NAME_MAX);
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return ms_error_set(err, MS_EINVAL,
					    "subscription name '%s' on bus '%s' may hold only "
					    "letters, digits, '-' and '_'",
					    name, bus->url);
	}
	return 0;
}

int ms_bus_publish(ms_bus *bus, const char *stream, const void *data, size_t len, ms_error *err)
{
	int rc;

	if ((rc = check_stream(bus, stream, err)) < 0)
		return rc;
	if (!bus->driver->publish)
		return ms_error_set(err, MS_ENOTSUPPORTED, "bus '%s' cannot publish", bus->url);
	return bus->driver->publish(bus, stream, data ? data : "", data ? len : 0, err);
}

int ms_bus_subscribe(ms_bus *bus, const char *stream, const char *name,
		     const ms_bus_sub_options *opt, ms_bus_sub **out, ms_error *err)
{
	ms_bus_sub_options o = { 0 };
	int rc;

	if ((rc = check_stream(bus, stream, err)) < 0 || (rc = check_sub_name(bus, name, err)) < 0)
		return rc;
	if (opt)
		o = *opt;
	if (o.ack_wait_ms == 0)
		o.ack_wait_ms = BUS_DEFAULT_ACK_WAIT_MS;
	if (o.max_deliver == 0)
		o.max_deliver = BUS_DEFAULT_MAX_DELIVER;
	if (!bus->driver->subscribe)
		return ms_error_set(err, MS_ENOTSUPPORTED, "bus '%s' cannot subscribe", bus->url);
	return bus->driver->subscribe(bus, stream, name, &o, out, err);
}

void ms_bus_sub_close(ms_bus_sub *sub)
{
	if (sub && sub->bus->driver->sub_close)
		sub->bus->driver->sub_close(sub);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A timeout of 0 (or less) looks once (a driver may take a few milliseconds
 * for the look).  Dead-lettering a message does not end the wait: the next
 * one may still come in time.
 */
int ms_bus_next(ms_bus_sub *sub, int timeout_ms, ms_bus_dead_cb dead_cb, void *dead_ctx,
		ms_bus_msg **out, ms_error *err)
{
	const ms_bus_driver *drv = sub->bus->driver;
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	ms_bus_msg *msg = NULL;
	int rc, left = timeout_ms > 0 ? timeout_ms : 0;

	*out = NULL;
	if (!drv->next)
		return ms_error_set(err, MS_ENOTSUPPORTED, "bus '%s' cannot deliver",
				    sub->bus->url);
	for (;;) {
		if ((rc = drv->next(sub, left, &msg, err)) < 0)
			return rc;
		if (!msg)
			return 0;
		if (msg->attempts <= sub->opt.max_deliver) {
			*out = msg;
			return 0;
		}
		if ((rc = ms_bus_dead_letter(sub, msg, err)) < 0) {
			ms_bus_msg_free(msg);
			return rc;
		}
		if (dead_cb)
			dead_cb(msg, dead_ctx);
		ms_bus_msg_free(msg);
		msg = NULL;
		left = (int)(deadline - now_ms());
		if (left < 0)
			left = 0;
	}
}

int ms_bus_ack(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err)
{
	if (!sub->bus->driver->ack)
		return ms_error_set(err, MS_ENOTSUPPORTED, "bus '%s' cannot acknowledge",
				    sub->bus->url);
	return sub->bus->driver->ack(sub, msg, err);
}

int ms_bus_nak(ms_bus_sub *sub, ms_bus_msg *msg, unsigned delay_ms, ms_error *err)
{
	if (!sub->bus->driver->nak)
		return ms_error_set(err, MS_ENOTSUPPORTED, "bus '%s' cannot redeliver on request",
				    sub->bus->url);
	return sub->bus->driver->nak(sub, msg, delay_ms, err);
}

int ms_bus_dead_letter(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err)
{
	int rc;

	if ((rc = ms_bus_publish(sub->bus, MS_STREAM_DEAD, msg->data, msg->len, err)) < 0)
		return rc;
	return ms_bus_ack(sub, msg, err);
}

void ms_bus_msg_free(ms_bus_msg *msg)
{
	if (!msg)
		return;
	free(msg->stream);
	free(msg->data);
	if (msg->driver && msg->driver->msg_release)
		msg->driver->msg_release(msg);
	free(msg);
}

int ms_bus_read(ms_bus *bus, const char *stream, uint64_t after, size_t limit, ms_bus_msg_cb cb,
		void *ctx, ms_error *err)
{
	int rc;

	if ((rc = check_stream(bus, stream, err)) < 0)
		return rc;
	if (!bus->driver->read)
		return ms_error_set(err, MS_ENOTSUPPORTED, "bus '%s' cannot read streams",
				    bus->url);
	return bus->driver->read(bus, stream, after, limit, cb, ctx, err);
}
