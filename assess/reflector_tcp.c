/* The reflector's TCP side (assess/assess_int.h): MS-TURN's allocations
 * over TCP connect out to it from their relayed ports, and each of those
 * byte streams carries a call's packets as RFC 4571 frames
 * (assess/packet.h). Each frame that holds a call's packet goes back on
 * its connection as it came; a stream that is anything else is closed, so
 * that the reflector is nobody's echo. Bounded: REFLECT_TCP_MAX
 * connections (those over it closed at once); a connection whose peer
 * does not read what goes back is not read either (TCP's own backpressure,
 * nothing dropped) until REFLECT_TCP_OUT_MAX / 2 is left; one silent for
 * REFLECT_TCP_IDLE_S, reading or writing, is closed. When the process runs
 * out of descriptors the listener pauses for a second rather than spin. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "assess/assess_int.h"
#include "assess/packet.h"
#include "core/addr.h"

#define REFLECT_TCP_MAX     (ASSESS_MAX_CALLS + 64)
#define REFLECT_TCP_OUT_MAX (256 * 1024)
#define REFLECT_TCP_IDLE_S  30 /* a call sends 50 packets a second */

struct reflect_conn {
	LIST_ENTRY(reflect_conn) link;
	struct reflector_tcp *owner;
	struct bufferevent *bev;
};

struct reflector_tcp {
	struct evconnlistener *listener;
	struct event *resume; /* the listener paused: out of descriptors */
	LIST_HEAD(, reflect_conn) conns;
	uint32_t nconns;
	uint64_t count; /* packets sent back */
};

static void conn_close(struct reflect_conn *rc)
{
	LIST_REMOVE(rc, link);
	rc->owner->nconns--;
	bufferevent_free(rc->bev);
	free(rc);
}

static void on_readable(struct bufferevent *bev, void *arg)
{
	struct reflect_conn *rc = arg;
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(bev);
	for (;;) {
		/* The header, then the frame: copied together only as needed. */
		size_t have = evbuffer_get_length(in), whole = 0;
		const uint8_t *head = evbuffer_pullup(in, have < 2 ? (ev_ssize_t)have : 2);
		int rc_next = assess_frame_next(head, have, &whole);
		if (rc_next == EAGAIN)
			return;
		struct assess_pkt p;
		if (rc_next || !(head = evbuffer_pullup(in, (ev_ssize_t)whole)) ||
		    assess_pkt_decode(head + ASSESS_FRAME_HDR, whole - ASSESS_FRAME_HDR, &p)) {
			conn_close(rc);
			return;
		}
		if (evbuffer_get_length(out) + whole > REFLECT_TCP_OUT_MAX) {
			/* The far end does not read what goes back: neither do
			 * we, until it has (on_drained). */
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (evbuffer_remove_buffer(in, out, whole) != (int)whole) {
			conn_close(rc);
			return;
		}
		rc->owner->count++;
	}
}

/* The output is down to the write low-water mark: read again, starting
 * with what waited. */
static void on_drained(struct bufferevent *bev, void *arg)
{
	if (bufferevent_get_enabled(bev) & EV_READ)
		return;
	bufferevent_enable(bev, EV_READ);
	on_readable(bev, arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_close(arg);
}

/* accept failed (EMFILE, ENFILE, ENOBUFS): the pending connection stays
 * in the queue and the listener readable, so it pauses a second. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct reflector_tcp *t = arg;
	static const struct timeval pause = {1, 0};
	evconnlistener_disable(l);
	event_add(t->resume, &pause);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct reflector_tcp *t = arg;
	evconnlistener_enable(t->listener);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
	(void)sa, (void)salen;
	struct reflector_tcp *t = arg;
	struct reflect_conn *rc = NULL;
	if (t->nconns >= REFLECT_TCP_MAX || !(rc = calloc(1, sizeof(*rc))) ||
	    !(rc->bev =
	          bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE))) {
		free(rc);
		close(fd);
		return;
	}
	rc->owner = t;
	LIST_INSERT_HEAD(&t->conns, rc, link);
	t->nconns++;
	static const struct timeval idle = {REFLECT_TCP_IDLE_S, 0};
	bufferevent_setcb(rc->bev, on_readable, on_drained, on_event, rc);
	bufferevent_setwatermark(rc->bev, EV_WRITE, REFLECT_TCP_OUT_MAX / 2, 0);
	bufferevent_set_timeouts(rc->bev, &idle, &idle);
	bufferevent_enable(rc->bev, EV_READ | EV_WRITE);
}

int reflector_tcp_open(struct event_base *base, const struct sockaddr_storage *addr,
                       struct reflector_tcp **out, char *err, size_t err_len)
{
	char where[64];
	addr_str((const struct sockaddr *)addr, where, sizeof(where));
	struct reflector_tcp *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, err_len, "the reflector cannot listen on TCP %s: out of memory",
		         where);
		return ENOMEM;
	}
	LIST_INIT(&t->conns);
	/* SO_REUSEADDR only (a restarted reflector is not kept out by
	 * TIME_WAIT); not SO_REUSEPORT, which would share the port. */
	t->listener = evconnlistener_new_bind(
	    base, on_accept, t, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (const struct sockaddr *)addr, (int)addr_len((const struct sockaddr *)addr));
	if (!t->listener) {
		int rc = errno ? errno : EADDRINUSE;
		snprintf(err, err_len, "the reflector cannot listen on TCP %s: %s", where,
		         strerror(rc));
		free(t);
		return rc;
	}
	if (!(t->resume = evtimer_new(base, on_resume, t))) {
		snprintf(err, err_len, "the reflector cannot listen on TCP %s: out of memory",
		         where);
		reflector_tcp_close(t);
		return ENOMEM;
	}
	evconnlistener_set_error_cb(t->listener, on_accept_error);
	*out = t;
	return 0;
}

uint64_t reflector_tcp_count(const struct reflector_tcp *t)
{
	return t ? t->count : 0;
}

void reflector_tcp_close(struct reflector_tcp *t)
{
	if (!t)
		return;
	while (!LIST_EMPTY(&t->conns))
		conn_close(LIST_FIRST(&t->conns));
	evconnlistener_free(t->listener);
	if (t->resume)
		event_free(t->resume);
	free(t);
}
