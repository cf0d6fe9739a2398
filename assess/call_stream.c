/* A call over TCP (assess/assess_int.h): the connection to the server and
 * RFC 5766's stream on it (STUN messages and ChannelData padded to 4
 * bytes, told apart by their first two bits, RFC 5766 section 11.5),
 * through a bufferevent; what is read goes to call.c as control or data. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "assess/assess_int.h"
#include "core/addr.h"
#include "stun/stun.h"

#define STREAM_OUT_MAX (256 * 1024) /* bytes queued to the server before the call gives up */
#define STREAM_IN_MAX  (64 * 1024)

/* One whole message at the head of p[0..len): its length; 0 when it is
 * not all there; -1 when the stream is not RFC 5766's. */
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

static void on_readable(struct bufferevent *bev, void *arg)
{
	struct call *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (c->state != CALL_DONE) {
		size_t have = evbuffer_get_length(in);
		if (have < 4)
			return;
		bool control = false;
		long whole = next_message(evbuffer_pullup(in, 4), have, &control);
		if (whole < 0 || (whole == 0 && have > STREAM_IN_MAX)) {
			c->hooks->lost(c, "the server's stream is not RFC 5766's");
			return;
		}
		if (whole == 0)
			return; /* the rest is on its way */
		c->hooks->input(c, control, evbuffer_pullup(in, whole), (size_t)whole,
		                assess_now_us());
		evbuffer_drain(in, (size_t)whole);
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
		c->hooks->connected(c);
		return;
	}
	char why[128];
	if (what & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "TCP to %s: %s", server,
		         strerror(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "%s closed the connection", server);
	else
		return;
	c->hooks->lost(c, why);
}

int call_stream_open(struct call *c, const struct call_stream_hooks *hooks)
{
	c->hooks = hooks;
	const struct sockaddr *server = (const struct sockaddr *)&c->loop->o->server;
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
		c->hooks->lost(c, "the TCP stream to the server stalls (256 KiB queued)");
		return;
	}
	(void)control; /* RFC 5766's stream: a message says what it is */
	bufferevent_write(c->bev, buf, len);
}

void call_stream_close(struct call *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
}
