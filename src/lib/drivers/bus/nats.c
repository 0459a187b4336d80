/*
 * The NATS JetStream bus, for exporters and importers on different
 * machines.  Two file-backed streams hold metasync's four logical streams:
 * METASYNC_SNAPSHOTS (subject metasync.snapshots) and METASYNC_EVENTS
 * (metasync.results, metasync.errors, metasync.dead).  They are created, or
 * updated to this configuration, on every open, so any process may start
 * first.  `?namespace=NAME` prefixes both names (METASYNC_NAME_SNAPSHOTS,
 * metasync.NAME.snapshots) so that several deployments, or tests, can share
 * one server.
 *
 * A subscription is a durable pull consumer named after it (on the events
 * stream, after its logical stream and it: results_NAME): every process
 * that fetches from it shares its work, and the server keeps its position,
 * its ack wait and its redeliveries.  The consumer never gives up on a
 * message (MaxDeliver unlimited): the dispatch layer dead-letters by the
 * delivery count the server reports.  read() walks a stream with direct
 * gets, one message at a time, without a consumer.
 *
 * The connection is thread-safe; a subscription is used by one thread at a
 * time.  Passwords go to the library through its options, never in a URL it
 * could print.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "metasync/sys/bus.h"
#include "util/url.h"

#define NATS_BUS_CONNECT_MS 2000
#define NATS_BUS_NAMESPACE_MAX 32
#define NATS_BUS_NS 1000000LL /* nanoseconds per millisecond */
#define NATS_BUS_LOOK_MS 20   /* the shortest fetch */

typedef struct nats_bus {
	ms_bus base;
	natsConnection *nc;
	jsCtx *js;
	char snap_stream[80];   /* METASYNC[_NS]_SNAPSHOTS */
	char events_stream[80]; /* METASYNC[_NS]_EVENTS */
	char prefix[48];        /* metasync[.NS] */
	int replicas;           /* of each stream; 1 unless ?replicas= */
} nats_bus;

typedef struct nats_sub {
	ms_bus_sub base;
	natsSubscription *sub;
	char *stream; /* logical */
} nats_sub;

static const ms_bus_driver nats_driver;

static int nats_code(natsStatus s, jsErrCode jerr)
{
	if (jerr)
		return MS_EBACKEND;
	switch (s) {
	case NATS_NO_MEMORY:
		return MS_ENOMEM;
	case NATS_NOT_FOUND:
		return MS_ENOTFOUND;
	case NATS_INVALID_ARG:
	case NATS_INVALID_SUBJECT:
		return MS_EINVAL;
	case NATS_MAX_PAYLOAD:
		return MS_ETOOBIG;
	case NATS_ERR:
		return MS_EBACKEND;
	default:
		return MS_EIO;
	}
}

static int nats_fail(natsStatus s, jsErrCode jerr, ms_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The message ends with the NATS status text; the detail holds the library's last error. */
static int nats_fail(natsStatus s, jsErrCode jerr, ms_error *err, const char *fmt, ...)
{
	char msg[MS_ERROR_MESSAGE_MAX];
	const char *last = nats_GetLastError(NULL);
	int code = nats_code(s, jerr);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ms_error_set(err, code, "%s: %s", msg, natsStatus_GetText(s));
	if (last && *last)
		ms_error_detail(err, "%s", last);
	if (err)
		snprintf(err->backend_code, sizeof(err->backend_code), "%d",
			 jerr ? (int)jerr : (int)s);
	return code;
}

static const char *stream_of(const nats_bus *b, const char *logical)
{
	return strcmp(logical, MS_STREAM_SNAPSHOTS) == 0 ? b->snap_stream : b->events_stream;
}

static void subject_of(const nats_bus *b, const char *logical, char *buf, size_t n)
{
	snprintf(buf, n, "%s.%s", b->prefix, logical);
}

/* Create the stream, or bring an existing one to this configuration. */
static int ensure_stream(nats_bus *b, const char *name, const char **subjects, int nsubjects,
			 ms_error *err)
{
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	jsStreamConfig_Init(&cfg);
	cfg.Name = name;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = nsubjects;
	cfg.Storage = js_FileStorage;
	cfg.Retention = js_LimitsPolicy;
	cfg.AllowDirect = true;
	cfg.Replicas = b->replicas;
	s = js_AddStream(&si, b->js, &cfg, NULL, &jerr);
	if (s != NATS_OK && jerr == JSStreamNameExistErr) {
		jerr = 0;
		s = js_UpdateStream(&si, b->js, &cfg, NULL, &jerr);
	}
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK)
		return nats_fail(s, jerr, err, "cannot create stream '%s' on bus '%s'", name,
				 b->base.url);
	return 0;
}

static void nats_close(ms_bus *self)
{
	nats_bus *b = (nats_bus *)self;

	jsCtx_Destroy(b->js);
	natsConnection_Destroy(b->nc);
	ms_bus_base_free(&b->base);
	free(b);
}

static int nats_publish(ms_bus *self, const char *stream, const void *data, size_t len,
			ms_error *err)
{
	nats_bus *b = (nats_bus *)self;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	char subject[128];
	natsStatus s;

	if (len > INT_MAX)
		return ms_error_set(err, MS_ETOOBIG,
				    "message of %zu bytes for stream '%s' on bus '%s' is too large",
				    len, stream, self->url);
	subject_of(b, stream, subject, sizeof(subject));
	s = js_Publish(&pa, b->js, subject, data, (int)len, NULL, &jerr);
	jsPubAck_Destroy(pa);
	if (s != NATS_OK)
		return nats_fail(s, jerr, err, "cannot publish to stream '%s' on bus '%s'", stream,
				 self->url);
	return 0;
}

static void nats_sub_close(ms_bus_sub *sub)
{
	nats_sub *ns = (nats_sub *)sub;

	/* Destroy (not Unsubscribe) keeps the durable consumer on the server */
	natsSubscription_Destroy(ns->sub);
	free(ns->stream);
	free(ns);
}

/*
 * Create the durable consumer `name` unless present; an existing one keeps
 * its position and delivery policy and takes this ack wait.
 */
static int ensure_consumer(nats_bus *b, const char *stream, const char *subject, const char *name,
			   const ms_bus_sub_options *opt, ms_error *err)
{
	jsConsumerInfo *ci = NULL;
	jsConsumerConfig cc;
	jsErrCode jerr = 0;
	int64_t ack_wait = (int64_t)opt->ack_wait_ms * NATS_BUS_NS;
	natsStatus s;

	s = js_GetConsumerInfo(&ci, b->js, stream, name, NULL, &jerr);
	if (s == NATS_OK) {
		const char *filter = ci->Config->FilterSubject ? ci->Config->FilterSubject : "";

		if (strcmp(filter, subject) != 0) {
			ms_error_set(err, MS_ECONFLICT,
				     "consumer '%s' of stream '%s' on bus '%s' follows '%s', not "
				     "'%s'",
				     name, stream, b->base.url, filter, subject);
			jsConsumerInfo_Destroy(ci);
			return MS_ECONFLICT;
		}
		if (ci->Config->AckWait != ack_wait) {
			jsConsumerInfo *updated = NULL;

			/* cc borrows the old info's strings until the update is done */
			cc = *ci->Config;
			cc.AckWait = ack_wait;
			jerr = 0;
			s = js_UpdateConsumer(&updated, b->js, stream, &cc, NULL, &jerr);
			jsConsumerInfo_Destroy(updated);
		}
	} else if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
		jsConsumerConfig_Init(&cc);
		cc.Durable = name;
		cc.AckPolicy = js_AckExplicit;
		cc.AckWait = ack_wait;
		cc.MaxDeliver = -1;
		cc.DeliverPolicy = opt->deliver_new ? js_DeliverNew : js_DeliverAll;
		cc.FilterSubject = subject;
		jerr = 0;
		s = js_AddConsumer(&ci, b->js, stream, &cc, NULL, &jerr);
	}
	jsConsumerInfo_Destroy(ci);
	if (s != NATS_OK)
		return nats_fail(s, jerr, err, "cannot create subscription '%s' on bus '%s'", name,
				 b->base.url);
	return 0;
}

static int nats_subscribe(ms_bus *self, const char *stream, const char *name,
			  const ms_bus_sub_options *opt, ms_bus_sub **out, ms_error *err)
{
	nats_bus *b = (nats_bus *)self;
	const char *js_stream = stream_of(b, stream);
	jsSubOptions so;
	jsErrCode jerr = 0;
	char subject[128], consumer[128];
	nats_sub *ns;
	natsStatus s;
	int rc;

	subject_of(b, stream, subject, sizeof(subject));
	/* the events stream holds three logical streams: one consumer each */
	if (strcmp(stream, MS_STREAM_SNAPSHOTS) == 0)
		snprintf(consumer, sizeof(consumer), "%s", name);
	else
		snprintf(consumer, sizeof(consumer), "%s_%s", stream, name);
	if ((rc = ensure_consumer(b, js_stream, subject, consumer, opt, err)) < 0)
		return rc;
	if (!(ns = calloc(1, sizeof(*ns))) || !(ns->stream = strdup(stream))) {
		free(ns);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	ns->base.bus = self;
	ns->base.opt = *opt;
	jsSubOptions_Init(&so);
	so.Stream = js_stream;
	so.Consumer = consumer;
	s = js_PullSubscribe(&ns->sub, b->js, subject, consumer, NULL, &so, &jerr);
	if (s != NATS_OK) {
		rc = nats_fail(s, jerr, err, "cannot subscribe '%s' to stream '%s' on bus '%s'",
			       name, stream, self->url);
		nats_sub_close(&ns->base);
		return rc;
	}
	*out = &ns->base;
	return 0;
}

static int nats_next(ms_bus_sub *sub, int timeout_ms, ms_bus_msg **out, ms_error *err)
{
	nats_sub *ns = (nats_sub *)sub;
	natsMsgList list = { NULL, 0 };
	jsMsgMetaData *meta = NULL;
	jsErrCode jerr = 0;
	ms_bus_msg *msg = NULL;
	natsMsg *m;
	natsStatus s;
	int len;

	int64_t wait = timeout_ms > NATS_BUS_LOOK_MS ? timeout_ms : NATS_BUS_LOOK_MS;
	int64_t deadline = nats_Now() + wait;

	*out = NULL;
	/*
	 * A no-wait pull can miss a message the stream has just stored (the
	 * consumer learns of it a moment later), so even a look waits a little.
	 * A fetch can also end before its time without a message (a status
	 * meant for an earlier, expired pull request): fetch again until the
	 * caller's time is up.
	 */
	for (;;) {
		s = natsSubscription_Fetch(&list, ns->sub, 1, wait, &jerr);
		if (!(s == NATS_TIMEOUT || s == NATS_NOT_FOUND ||
		      (s == NATS_OK && list.Count == 0)))
			break;
		natsMsgList_Destroy(&list);
		list.Msgs = NULL;
		list.Count = 0;
		if ((wait = deadline - nats_Now()) < NATS_BUS_LOOK_MS)
			return 0;
		jerr = 0;
	}
	if (s != NATS_OK)
		return nats_fail(s, jerr, err, "cannot take the next message of '%s' on bus '%s'",
				 ns->stream, sub->bus->url);
	m = list.Msgs[0];
	list.Msgs[0] = NULL;
	natsMsgList_Destroy(&list);
	if ((s = natsMsg_GetMetaData(&meta, m)) != NATS_OK) {
		natsMsg_Destroy(m);
		return nats_fail(s, 0, err, "message without metadata on stream '%s' of bus '%s'",
				 ns->stream, sub->bus->url);
	}
	len = natsMsg_GetDataLength(m);
	if (!(msg = calloc(1, sizeof(*msg))) || !(msg->stream = strdup(ns->stream)) ||
	    !(msg->data = malloc((size_t)len + 1))) {
		jsMsgMetaData_Destroy(meta);
		natsMsg_Destroy(m);
		if (msg)
			free(msg->stream);
		free(msg);
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	}
	if (len)
		memcpy(msg->data, natsMsg_GetData(m), (size_t)len);
	msg->data[len] = '\0';
	msg->len = (size_t)len;
	msg->seq = meta->Sequence.Stream;
	msg->attempts = meta->NumDelivered > UINT_MAX ? UINT_MAX : (unsigned)meta->NumDelivered;
	msg->driver_ctx = m;
	msg->driver = &nats_driver;
	jsMsgMetaData_Destroy(meta);
	*out = msg;
	return 0;
}

static int nats_ack(ms_bus_sub *sub, ms_bus_msg *msg, ms_error *err)
{
	jsErrCode jerr = 0;
	natsStatus s;

	/* synchronous: once this returns the server will not deliver it again */
	s = natsMsg_AckSync(msg->driver_ctx, NULL, &jerr);
	if (s != NATS_OK)
		return nats_fail(s, jerr, err, "cannot acknowledge message %llu on bus '%s'",
				 (unsigned long long)msg->seq, sub->bus->url);
	return 0;
}

static int nats_nak(ms_bus_sub *sub, ms_bus_msg *msg, unsigned delay_ms, ms_error *err)
{
	natsStatus s;

	if (delay_ms)
		s = natsMsg_NakWithDelay(msg->driver_ctx, (int64_t)delay_ms, NULL);
	else
		s = natsMsg_Nak(msg->driver_ctx, NULL);
	if (s != NATS_OK)
		return nats_fail(s, 0, err, "cannot return message %llu on bus '%s'",
				 (unsigned long long)msg->seq, sub->bus->url);
	return 0;
}

static void nats_msg_release(ms_bus_msg *msg)
{
	natsMsg_Destroy(msg->driver_ctx);
	msg->driver_ctx = NULL;
}

/* The stream sequence of a direct-get answer (the Nats-Sequence header). */
static uint64_t direct_seq(natsMsg *m)
{
	const char *v = NULL;
	uint64_t seq = natsMsg_GetSequence(m);

	if (seq == 0 && natsMsgHeader_Get(m, "Nats-Sequence", &v) == NATS_OK && v)
		seq = strtoull(v, NULL, 10);
	return seq;
}

static int nats_read(ms_bus *self, const char *stream, uint64_t after, size_t limit,
		     ms_bus_msg_cb cb, void *ctx, ms_error *err)
{
	nats_bus *b = (nats_bus *)self;
	const char *js_stream = stream_of(b, stream);
	char subject[128];
	size_t n = 0;
	int rc = 0;

	subject_of(b, stream, subject, sizeof(subject));
	while (limit == 0 || n < limit) {
		jsDirectGetMsgOptions dg = { after + 1, subject, NULL };
		ms_bus_msg msg;
		natsMsg *m = NULL;
		natsStatus s;
		int len;

		s = js_DirectGetMsg(&m, b->js, js_stream, NULL, &dg);
		if (s == NATS_NOT_FOUND)
			break;
		if (s != NATS_OK)
			return nats_fail(s, 0, err, "cannot read stream '%s' on bus '%s'", stream,
					 self->url);
		memset(&msg, 0, sizeof(msg));
		len = natsMsg_GetDataLength(m);
		if (!(msg.data = malloc((size_t)len + 1))) {
			natsMsg_Destroy(m);
			return ms_error_set(err, MS_ENOMEM, "out of memory");
		}
		if (len)
			memcpy(msg.data, natsMsg_GetData(m), (size_t)len);
		msg.data[len] = '\0';
		msg.len = (size_t)len;
		msg.stream = (char *)stream;
		msg.seq = direct_seq(m);
		msg.driver = &nats_driver;
		natsMsg_Destroy(m);
		if (msg.seq <= after) {
			free(msg.data);
			return ms_error_set(err, MS_EBACKEND,
					    "stream '%s' on bus '%s' answered without a sequence",
					    stream, self->url);
		}
		after = msg.seq;
		rc = cb(&msg, ctx, err);
		free(msg.data);
		if (rc < 0)
			return rc;
		n++;
	}
	return 0;
}

static const ms_bus_driver nats_driver = {
	.version = MS_BUS_DRIVER_VERSION,
	.name = "nats",
	/* required; drops the connection (consumers stay on the server) */
	.close = nats_close,
	/* required; waits for the stream's ack (stored); ETOOBIG, EIO, EBACKEND */
	.publish = nats_publish,
	/* required; creates the durable pull consumer unless present; EIO, EBACKEND */
	.subscribe = nats_subscribe,
	/* required; frees the local subscription only */
	.sub_close = nats_sub_close,
	/* required; one fetch of one message; *out new, driver_ctx its natsMsg; EIO */
	.next = nats_next,
	/* required; synchronous ack; EIO, EBACKEND */
	.ack = nats_ack,
	/* required; EIO */
	.nak = nats_nak,
	/* required; destroys the natsMsg in driver_ctx */
	.msg_release = nats_msg_release,
	/* required; direct gets from the stream; msg borrowed for the callback; EIO */
	.read = nats_read,
};

int ms_nats_bus_open(ms_bus **out, const ms_url *url, ms_error *err);

static int check_namespace(const ms_url *url, const char *ns, ms_error *err)
{
	size_t i, n = strlen(ns);

	if (n == 0 || n > NATS_BUS_NAMESPACE_MAX)
		return ms_error_set(err, MS_EINVAL,
				    "namespace in bus url '%s' must have 1 to %d characters",
				    url->redacted, NATS_BUS_NAMESPACE_MAX);
	for (i = 0; i < n; i++) {
		char c = ns[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return ms_error_set(err, MS_EINVAL,
					    "namespace '%s' in bus url '%s' may hold only letters, "
					    "digits, '-' and '_'",
					    ns, url->redacted);
	}
	return 0;
}

/* ?replicas=N (1 to 5): copies of each stream in a JetStream cluster. */
static int nats_cluster_options(nats_bus *b, const ms_url *url, ms_error *err)
{
	const char *r = ms_url_param_get(url, "replicas");

	b->replicas = 1;
	if (!r)
		return 0;
	if (strlen(r) != 1 || r[0] < '1' || r[0] > '5')
		return ms_error_set(err, MS_EINVAL,
				    "replicas in bus url '%s' must be 1 to 5, got '%.16s'",
				    url->redacted, r);
	b->replicas = r[0] - '0';
	return 0;
}

/*
 * The servers to connect to: the URL's, then those of ?servers= (HOST:PORT
 * separated by ','), with the URL's user.  The client also learns the
 * cluster's other nodes once connected.
 */
static natsStatus set_servers(natsOptions *opts, const char *first, const char *more)
{
	const char *list[16];
	char *copy = NULL, *save = NULL, *tok, urls[16][300];
	int n = 0;
	natsStatus s;

	list[n++] = first;
	if (more && (copy = strdup(more))) {
		for (tok = strtok_r(copy, ",", &save); tok && n < 16;
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (!*tok)
				continue;
			snprintf(urls[n], sizeof(urls[n]), "nats://%s", tok);
			list[n] = urls[n];
			n++;
		}
	}
	s = natsOptions_SetServers(opts, list, n);
	free(copy);
	return s;
}

/*
 * Connect to nats://[USER[:PASSWORD]@]HOST[:PORT][?namespace=NAME&replicas=N&
 * servers=HOST:PORT,...] and set up the streams.
 */
int ms_nats_bus_open(ms_bus **out, const ms_url *url, ms_error *err)
{
	const char *ns = NULL;
	const char *snap_subjects[1], *event_subjects[3];
	char server[512], subj[4][128];
	natsOptions *opts = NULL;
	nats_bus *b = NULL;
	natsStatus s;
	size_t i;
	int rc;

	if (!url->host || !*url->host)
		return ms_error_set(err, MS_EINVAL, "missing host in bus url '%s'", url->redacted);
	if (url->path && *url->path && strcmp(url->path, "/") != 0)
		return ms_error_set(err, MS_EINVAL, "bus url '%s' has a path: use nats://HOST:PORT",
				    url->redacted);
	/* the registry let through only ?namespace=, at most once */
	if ((ns = ms_url_param_get(url, "namespace")) && (rc = check_namespace(url, ns, err)) < 0)
		return rc;
	if (!(b = calloc(1, sizeof(*b))))
		return ms_error_set(err, MS_ENOMEM, "out of memory");
	if ((rc = ms_bus_base_init(&b->base, &nats_driver, url->redacted, err)) < 0)
		goto done;
	if (ns) {
		snprintf(b->snap_stream, sizeof(b->snap_stream), "METASYNC_%s_SNAPSHOTS", ns);
		snprintf(b->events_stream, sizeof(b->events_stream), "METASYNC_%s_EVENTS", ns);
		snprintf(b->prefix, sizeof(b->prefix), "metasync.%s", ns);
	} else {
		snprintf(b->snap_stream, sizeof(b->snap_stream), "METASYNC_SNAPSHOTS");
		snprintf(b->events_stream, sizeof(b->events_stream), "METASYNC_EVENTS");
		snprintf(b->prefix, sizeof(b->prefix), "metasync");
	}
	snprintf(server, sizeof(server), "nats://%s%s%s:%s", strchr(url->host, ':') ? "[" : "",
		 url->host, strchr(url->host, ':') ? "]" : "", url->port ? url->port : "4222");
	if ((rc = nats_cluster_options(b, url, err)) < 0)
		goto done;
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = set_servers(opts, server, ms_url_param_get(url, "servers"));
	/* a cluster node that goes away: the client moves to another, for as long as it takes */
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(opts, 250);
	if (s == NATS_OK && url->user)
		s = natsOptions_SetUserInfo(opts, url->user, url->password ? url->password : "");
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, NATS_BUS_CONNECT_MS);
	if (s == NATS_OK)
		s = natsConnection_Connect(&b->nc, opts);
	if (s != NATS_OK) {
		rc = nats_fail(s, 0, err, "cannot connect to bus '%s'", url->redacted);
		goto done;
	}
	if ((s = natsConnection_JetStream(&b->js, b->nc, NULL)) != NATS_OK) {
		rc = nats_fail(s, 0, err, "cannot use jetstream on bus '%s'", url->redacted);
		goto done;
	}
	subject_of(b, MS_STREAM_SNAPSHOTS, subj[0], sizeof(subj[0]));
	subject_of(b, MS_STREAM_RESULTS, subj[1], sizeof(subj[1]));
	subject_of(b, MS_STREAM_ERRORS, subj[2], sizeof(subj[2]));
	subject_of(b, MS_STREAM_DEAD, subj[3], sizeof(subj[3]));
	snap_subjects[0] = subj[0];
	for (i = 0; i < 3; i++)
		event_subjects[i] = subj[i + 1];
	if ((rc = ensure_stream(b, b->snap_stream, snap_subjects, 1, err)) < 0 ||
	    (rc = ensure_stream(b, b->events_stream, event_subjects, 3, err)) < 0)
		goto done;
	*out = &b->base;
done:
	natsOptions_Destroy(opts);
	if (rc < 0)
		nats_close(&b->base);
	return rc;
}
