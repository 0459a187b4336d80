/*
 * Buses: carry events between exporters and importers.  A bus holds named
 * streams of messages (opaque bytes; metasync puts CloudEvents JSON on it).
 * A durable subscription has a name and its own position in one stream;
 * every process that subscribes with the same name shares that position
 * (a consumer group: each message goes to one of them).  Delivery is at
 * least once: a message not acknowledged within the ack wait is delivered
 * again, with its attempt count raised.
 *
 *   embedded:PATH, embedded:///PATH   durable in a SQLite file (the default)
 *   nats://HOST:PORT                  NATS JetStream
 *
 * Logical streams (ms_bus_publish's stream argument):
 *   MS_STREAM_SNAPSHOTS  io.metasync.snapshot.created events
 *   MS_STREAM_RESULTS    io.metasync.import.succeeded / .failed
 *   MS_STREAM_ERRORS     io.metasync.error, one per error
 *   MS_STREAM_DEAD       messages dead-lettered after too many attempts
 */
#ifndef METASYNC_BUS_H
#define METASYNC_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "metasync/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_STREAM_SNAPSHOTS "snapshots"
#define MS_STREAM_RESULTS "results"
#define MS_STREAM_ERRORS "errors"
#define MS_STREAM_DEAD "dead"

typedef struct ms_bus ms_bus;
typedef struct ms_bus_sub ms_bus_sub;

/* One delivered message; owned by the caller until ms_bus_msg_free. */
typedef struct ms_bus_msg {
	char *stream; /* logical stream name */
	uint64_t seq; /* position in its stream, increasing */
	char *data;   /* NUL-terminated for convenience; len excludes the NUL */
	size_t len;
	unsigned attempts;                  /* 1 on first delivery */
	void *driver_ctx;                   /* the driver's handle for ack/nak */
	const struct ms_bus_driver *driver; /* the driver that made it (releases driver_ctx) */
} ms_bus_msg;

typedef struct ms_bus_sub_options {
	unsigned ack_wait_ms; /* redeliver when not acked by then; 0 = 30000 */
	unsigned max_deliver; /* attempts before ms_bus_next dead-letters; 0 = 5 */
	int deliver_new;      /* a new subscription starts after the current end
				   (default: from the first message still held) */
} ms_bus_sub_options;

/* Open a bus by URL (new; ms_bus_close). */
int ms_bus_open(ms_bus **out, const char *url, ms_error *err);
void ms_bus_close(ms_bus *bus);
/* Redacted URL, printable. */
const char *ms_bus_url(const ms_bus *bus);

/* Append one message to a stream; durable when this returns 0. */
int ms_bus_publish(ms_bus *bus, const char *stream, const void *data, size_t len, ms_error *err);

/* Open (or resume) the durable subscription `name` on stream. */
int ms_bus_subscribe(ms_bus *bus, const char *stream, const char *name,
		     const ms_bus_sub_options *opt, ms_bus_sub **out, ms_error *err);
void ms_bus_sub_close(ms_bus_sub *sub);

/*
 * Wait up to timeout_ms for the next message (*out = NULL when none came).
 * A message whose attempts exceed max_deliver is not returned: it is
 * published to MS_STREAM_DEAD (data unchanged) and acknowledged, and
 * dead_cb, when set, is told (so the caller can publish an error event).
 */
typedef void (*ms_bus_dead_cb)(const ms_bus_msg *msg, void *ctx);
int ms_bus_next(ms_bus_sub *sub, int timeout_ms, ms_bus_dead_cb dead_cb, void *dead_ctx,
		ms_bus_msg **out, ms_error *err);
/* Done with msg: it is never delivered to this subscription again. */
int ms_bus_ack(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err);
/* Not done: deliver again after delay_ms (attempts counts up). */
int ms_bus_nak(ms_bus_sub *sub, ms_bus_msg *msg, unsigned delay_ms, ms_error *err);
/* Publish msg to MS_STREAM_DEAD and ack it. */
int ms_bus_dead_letter(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err);
void ms_bus_msg_free(ms_bus_msg *msg);

/*
 * Read a stream from its start without a subscription (for tools and
 * tests): calls cb per message in order, seq > after, at most limit (0 = all).
 */
typedef int (*ms_bus_msg_cb)(const ms_bus_msg *msg, void *ctx, ms_error *err);
int ms_bus_read(ms_bus *bus, const char *stream, uint64_t after, size_t limit, ms_bus_msg_cb cb,
		void *ctx, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
