/* A call over TCP (assess/assess_int.h): the connection to the server and,
 * through a bufferevent, one of two streams on it:
 *   - RFC 5766's: STUN messages and ChannelData padded to 4 bytes, told
 *     apart by their first two bits (RFC 5766 section 11.5);
 *   - MS-TURN's: frames type(1) 0x00 length(2), 0x02 a TURN message and
 *     0x03 data (stun/msturn_frame.h), after the pseudo-TLS hello when the
 *     server is an A/V edge's 443. Data is a byte stream end to end (the
 *     relay's TCP connection to the reflector), cut wherever the relay read
 *     it: the calls' packets in it are RFC 4571 frames (assess/packet.h),
 *     put back together here, and found again when the stream falls out
 *     of step (the relay's connection lost mid-frame and made again).
 * What is read goes to call.c as control or as one packet of data. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "assess/assess_int.h"
#include "assess/packet.h"
#include "core/addr.h"
#include "stun/msturn_frame.h"
#include "stun/stun.h"

#define STREAM_OUT_MAX (256 * 1024) /* bytes queued to the server before the call gives up */
#define STREAM_IN_MAX  (64 * 1024)

static bool msturn_framing(const struct call *c)
{
	return c->loop->o->dialect == ASSESS_DIALECT_MSTURN;
}

/* RFC 5766's stream: one whole message at the head of p[0..len): its
 * length; 0 when it is not all there; -1 when the stream is not RFC 5766's. */
static long next_message(const uint8_t *p, size_t len, bool *control)
{
	if (len < 4)
		return 0;
	if ((p[0] & 0xC0) > 0x40)
		return -1;
	*control = (p[0] & 0xC0) == 0;
	size_t body = (size_t)(p[2] << 8 | p[3]);
	size_t whole = *control ? STUN_HDR_LEN + body : 4 + ((body + 3) & ~(size_t)3);
	return whole <= len ? (long)whole : 0;
}

/* MS-TURN's data frames: their payload onto the end-to-end stream, and the
 * call's packets cut from it (a stream out of step skipped to the next of
 * them). False when the stream is lost. */
static bool media_feed(struct call *c, const uint8_t *p, size_t len, int64_t now)
{
	if (evbuffer_add(c->media_in, p, len)) {
		c->hooks->lost(c, "out of memory");
		return false;
	}
	while (c->state != CALL_DONE) {
		size_t have = evbuffer_get_length(c->media_in), skip = 0, whole = 0;
		const uint8_t *head = evbuffer_pullup(c->media_in, -1);
		int rc = assess_frame_find(head, have, c->out->id, &skip, &whole);
		if (skip) {
			c->strays++;
			evbuffer_drain(c->media_in, skip);
		}
		if (rc)
			return true; /* EAGAIN: the rest is on its way */
		head = evbuffer_pullup(c->media_in, (ev_ssize_t)whole);
		c->hooks->input(c, false, head + ASSESS_FRAME_HDR, whole - ASSESS_FRAME_HDR, now);
		evbuffer_drain(c->media_in, whole);
	}
	return false;
}

/* One whole message or frame from the head of in, handed on: 1 when one
 * was, 0 when the rest is on its way, -1 when the stream is lost. */
static int read_one(struct call *c, struct evbuffer *in)
{
	size_t have = evbuffer_get_length(in);
	if (have < 4)
		return 0;
	const uint8_t *head = evbuffer_pullup(in, 4);
	bool control = false;
	long whole;
	size_t payload_len = 0, skip = 0;
	if (msturn_framing(c)) {
		uint8_t type = 0;
		whole = msturn_frame_parse(head, have, &type, &payload_len);
		control = type == MSTURN_FRAME_CONTROL;
		skip = MSTURN_FRAME_HDR;
		if (whole > 0 && (size_t)whole > have)
			whole = 0;
	} else {
		whole = next_message(head, have, &control);
		payload_len = whole > 0 ? (size_t)whole : 0;
	}
	if (whole < 0 || (whole == 0 && have > STREAM_IN_MAX)) {
		c->hooks->lost(c, msturn_framing(c) ? "the server's stream is not MS-TURN's framing"
		                                    : "the server's stream is not RFC 5766's");
		return -1;
	}
	if (whole == 0)
		return 0;
	const uint8_t *p = evbuffer_pullup(in, whole) + skip;
	c->heard = true;
	int64_t now = assess_now_us();
	if (msturn_framing(c) && !control) {
		if (!media_feed(c, p, payload_len, now))
			return -1;
	} else {
		c->hooks->input(c, control, p, payload_len, now);
	}
	evbuffer_drain(in, (size_t)whole);
	return 1;
}

/* The A/V edge's answer to the pseudo-TLS hello: 1 when it came whole and
 * right (and is drained), 0 when not all there, -1 when the stream is lost. */
static int read_reply(struct call *c, struct evbuffer *in)
{
	size_t have = evbuffer_get_length(in);
	if (have == 0)
		return 0;
	size_t n = have < PSEUDO_TLS_REPLY_LEN ? have : PSEUDO_TLS_REPLY_LEN;
	int rc = pseudo_tls_reply_check(evbuffer_pullup(in, (ev_ssize_t)n), n);
	if (rc < 0) {
		c->hooks->lost(c,
		               "the server's answer to the pseudo-TLS hello is not an A/V edge's "
		               "(is it a real TLS server, or not MS-TURN's 443?)");
		return -1;
	}
	if (rc == 0)
		return 0;
	evbuffer_drain(in, PSEUDO_TLS_REPLY_LEN);
	c->hello_answered = true;
	c->hooks->connected(c);
	return 1;
}

static void on_readable(struct bufferevent *bev, void *arg)
{
	struct call *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (c->state != CALL_DONE) {
		int rc = c->hello_sent && !c->hello_answered ? read_reply(c, in) : read_one(c, in);
		if (rc <= 0)
			return;
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct call *c = arg;
	char server[64];
	addr_str((const struct sockaddr *)&c->loop->o->server, server, sizeof(server));
	if (what & BEV_EVENT_CONNECTED) {
		/* Media: each packet goes when it is due, not when Nagle says. */
		int on = 1;
		(void)setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &on,
		                 sizeof(on));
		if (c->loop->o->transport == ASSESS_TRANSPORT_PSEUDO_TLS) {
			uint8_t hello[PSEUDO_TLS_HELLO_LEN];
			pseudo_tls_hello(hello);
			c->hello_sent = true;
			bufferevent_write(c->bev, hello, sizeof(hello));
			return;
		}
		c->hooks->connected(c);
		return;
	}
	char why[ASSESS_ERR_MAX];
	if (what & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "TCP to %s: %s", server,
		         strerror(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_EOF)
		snprintf(
		    why, sizeof(why), "%s closed the connection%s", server,
		    c->heard || c->loop->o->transport != ASSESS_TRANSPORT_TCP || !msturn_framing(c)
		        ? ""
		        : " before any answer (an A/V edge's 443 wants --transport pseudo-tls)");
	else
		return;
	c->hooks->lost(c, why);
}

int call_stream_open(struct call *c, const struct call_stream_hooks *hooks)
{
	c->hooks = hooks;
	const struct sockaddr *server = (const struct sockaddr *)&c->loop->o->server;
	if (msturn_framing(c) && !(c->media_in = evbuffer_new()))
		return ENOMEM;
	c->bev = bufferevent_socket_new(c->loop->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		return ENOMEM;
	bufferevent_setcb(c->bev, on_readable, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, server, (int)addr_len(server)))
		return errno ? errno : ECONNREFUSED;
	return 0;
}

void call_stream_send(struct call *c, bool control, const uint8_t *buf, size_t len)
{
	if (!c->bev || c->state == CALL_DONE)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > STREAM_OUT_MAX) {
		if (!c->ending) /* the allocation's delete, the last word: dropped */
			c->hooks->lost(c, "the TCP stream to the server stalls (256 KiB queued)");
		return;
	}
	if (msturn_framing(c)) { /* RFC 5766's messages say what they are themselves */
		uint8_t hdr[MSTURN_FRAME_HDR];
		msturn_frame_header(hdr, control ? MSTURN_FRAME_CONTROL : MSTURN_FRAME_DATA, len);
		bufferevent_write(c->bev, hdr, sizeof(hdr));
	}
	bufferevent_write(c->bev, buf, len);
}

void call_stream_quiet(struct call *c)
{
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ);
}

void call_stream_close(struct call *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->media_in)
		evbuffer_free(c->media_in);
	c->bev = NULL;
	c->media_in = NULL;
}
