/*
 * For driver authors: the bus-driver contract.  Adding a bus in the tree =
 * one file in src/lib/drivers/bus/ + one row in its registry.c.  The core
 * (registry.c) checks the driver when a bus is opened (ms_bus_check_driver),
 * checks stream and subscription names before a slot sees them, and
 * implements max_deliver and dead-lettering on top of these slots, so
 * drivers only count attempts.
 *
 * Slots are marked as in metasync/sys/catalog.h: required (never NULL;
 * refused at open), unsupported (NULL: MS_ENOTSUPPORTED naming the bus),
 * no-op (NULL: nothing happens).  Arguments are borrowed for the call;
 * return 0 or a negative MS_E* with err set to one line (never a secret:
 * print the base's redacted url); every slot may return MS_ENOMEM and MS_EIO.
 */
#ifndef METASYNC_SYS_BUS_H
#define METASYNC_SYS_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "metasync/bus.h"
#include "metasync/error.h"
#include "metasync/sys/url.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layout a driver is built against; open refuses any other. */
#define MS_BUS_DRIVER_VERSION 1

typedef struct ms_bus_driver {
	unsigned int version; /* required: MS_BUS_DRIVER_VERSION */
	const char *name;     /* required: "embedded", "nats" */

	/* required.  Free the bus (its subscriptions are closed first by their owners). */
	void (*close)(ms_bus *self);
	/*
	 * unsupported.  Append data (len bytes, borrowed) to stream durably: once
	 * this returns 0 the message survives a restart of either side.
	 */
	int (*publish)(ms_bus *self, const char *stream, const void *data, size_t len,
		       ms_error *err);
	/*
	 * unsupported.  *out: a new durable subscription `name` to stream (opt has
	 * its defaults filled); a second subscriber under one name shares the
	 * messages (each to one of them).  Its first member is ms_bus_sub.
	 */
	int (*subscribe)(ms_bus *self, const char *stream, const char *name,
			 const ms_bus_sub_options *opt, ms_bus_sub **out, ms_error *err);
	/* no-op.  Free sub; unacknowledged messages are delivered again later. */
	void (*sub_close)(ms_bus_sub *sub);
	/*
	 * unsupported.  The next message within timeout_ms: *out new (the core
	 * frees it, calling msg_release), NULL on timeout; msg->attempts counts
	 * this delivery.
	 */
	int (*next)(ms_bus_sub *sub, int timeout_ms, ms_bus_msg **out, ms_error *err);
	/* unsupported.  The message is done: never delivered again to this subscription. */
	int (*ack)(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err);
	/* unsupported.  Deliver the message again, not before delay_ms. */
	int (*nak)(ms_bus_sub *sub, ms_bus_msg *msg, unsigned delay_ms, ms_error *err);
	/* no-op.  Free driver_ctx (the dispatch layer frees the rest). */
	void (*msg_release)(ms_bus_msg *msg);
	/*
	 * unsupported.  Up to limit messages of stream with a sequence above
	 * after, oldest first, to cb (borrowed for the call), without
	 * subscribing; 0 with no call when there are none.
	 */
	int (*read)(ms_bus *self, const char *stream, uint64_t after, size_t limit,
		    ms_bus_msg_cb cb, void *ctx, ms_error *err);
} ms_bus_driver;

struct ms_bus {
	const ms_bus_driver *driver;
	char *url; /* owned; redacted */
};

struct ms_bus_sub {
	ms_bus *bus;
	ms_bus_sub_options opt; /* with defaults filled */
};

/*
 * The open function every bus driver exports (one row per scheme in the
 * registry): url borrowed, its query parameters checked.  On failure nothing
 * stays open.  MS_EINVAL a URL the driver refuses, naming it (redacted).
 */
typedef int (*ms_bus_open_fn)(ms_bus **out, const ms_url *url, ms_error *err);

/*
 * The check every bus's driver passes when it is opened: MS_EINVAL naming
 * the driver and the fault when version is not MS_BUS_DRIVER_VERSION or
 * name or close is NULL.  url is the printable URL the message names.
 */
int ms_bus_check_driver(const ms_bus_driver *driver, const char *url, ms_error *err);

/* Fill a driver's base struct (copies redacted_url); ENOMEM. */
int ms_bus_base_init(ms_bus *base, const ms_bus_driver *driver, const char *redacted_url,
		     ms_error *err);
/* Free what ms_bus_base_init allocated (not base itself). */
void ms_bus_base_free(ms_bus *base);

#ifdef __cplusplus
}
#endif
#endif
