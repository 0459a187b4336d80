/*
 * For driver authors: the bus-driver vtable.  Adding a bus = one file in
 * src/lib/drivers/bus/ + one row in its registry.c.  The dispatch layer
 * (registry.c) implements max_deliver/dead-lettering on top of these slots,
 * so drivers only count attempts.
 */
#ifndef METASYNC_SYS_BUS_H
#define METASYNC_SYS_BUS_H

#include "metasync/bus.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_BUS_DRIVER_VERSION 1

struct ms_url;

typedef struct ms_bus_driver {
	unsigned int version;   /* MS_BUS_DRIVER_VERSION */
	const char *name;       /* "embedded", "nats" */

	void (*close)(ms_bus *self);
	int (*publish)(ms_bus *self, const char *stream, const void *data, size_t len,
		       ms_error *err);
	int (*subscribe)(ms_bus *self, const char *stream, const char *name,
			 const ms_bus_sub_options *opt, ms_bus_sub **out, ms_error *err);
	void (*sub_close)(ms_bus_sub *sub);
	/* *out = NULL on timeout; msg->attempts counts this delivery. */
	int (*next)(ms_bus_sub *sub, int timeout_ms, ms_bus_msg **out, ms_error *err);
	int (*ack)(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err);
	int (*nak)(ms_bus_sub *sub, ms_bus_msg *msg, unsigned delay_ms, ms_error *err);
	/* Frees driver_ctx (the dispatch layer frees the rest). */
	void (*msg_release)(ms_bus_msg *msg);
	int (*read)(ms_bus *self, const char *stream, uint64_t after, size_t limit,
		    ms_bus_msg_cb cb, void *ctx, ms_error *err);
} ms_bus_driver;

struct ms_bus {
	const ms_bus_driver *driver;
	char *url;   /* owned; redacted */
};

struct ms_bus_sub {
	ms_bus *bus;
	ms_bus_sub_options opt;   /* with defaults filled */
};

typedef int (*ms_bus_open_fn)(ms_bus **out, const struct ms_url *url, ms_error *err);

/* Fill a driver's base struct (copies redacted_url); ENOMEM. */
int ms_bus_base_init(ms_bus *base, const ms_bus_driver *driver, const char *redacted_url,
		     ms_error *err);
/* Free what ms_bus_base_init allocated (not base itself). */
void ms_bus_base_free(ms_bus *base);

#ifdef __cplusplus
}
#endif
#endif
