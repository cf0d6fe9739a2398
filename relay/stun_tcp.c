/* STUN on TCP (RFC 5389 section 7.2.2): messages framed by their own header
 * length, several per connection. Bounded everywhere: a connection limit
 * across workers, an idle timeout, a read high-water mark and a cap on
 * queued replies (a client that sends but never reads is paused). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "relay/server_priv.h"

#define TCP_READ_HIGH    ((size_t)4 * STUN_MAX_MSG_LEN)
#define TCP_WRITE_PAUSE  ((size_t)64 * 1024) /* stop reading while this much is unsent */
#define TCP_WRITE_RESUME ((size_t)16 * 1024)

struct stun_tcp_conn {
	LIST_ENTRY(stun_tcp_conn) link;
	struct relay_server *server;
	struct bufferevent *bev;
	struct sockaddr_storage peer, local;
	bool piped; /* a TCP relay data connection now (RFC 6062): no more framing */
};

static void conn_free(struct stun_tcp_conn *c, enum metric_id why)
{
	struct relay_server *s = c->server;
	if (why != METRIC_COUNT)
		metrics_inc(s->metrics, why);
	LIST_REMOVE(c, link);
	union turn_sa client;
	if (turn_sa_set(&client, (struct sockaddr *)&c->peer))
		turn_conn_closed(s, c, &client);
	bufferevent_free(c->bev);
	atomic_fetch_sub(&s->shared->tcp_open, 1);
	metrics_add(s->metrics, METRIC_STUN_TCP_OPEN, -1);
	free(c);
}

struct bufferevent *stun_tcp_take_over(struct stun_tcp_conn *c)
{
	c->piped = true;
	return c->bev;
}

void stun_tcp_conn_close(struct stun_tcp_conn *c)
{
	conn_free(c, METRIC_COUNT);
}

int stun_tcp_send(struct stun_tcp_conn *c, const void *buf, size_t len)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > TCP_WRITE_PAUSE)
		return EAGAIN;
	return bufferevent_write(c->bev, buf, len) ? ENOMEM : 0;
}

static struct turn_client turn_client_of(struct stun_tcp_conn *c)
{
	struct turn_client tc = {.transport = TURN_TRANSPORT_TCP, .conn = c};
	turn_sa_set(&tc.src, (struct sockaddr *)&c->peer);
	turn_sa_set(&tc.local, (struct sockaddr *)&c->local);
	return tc;
}

/* ChannelData over TCP (RFC 8656 section 12.5): padded to 4 bytes. */
static void forward_one(struct stun_tcp_conn *c, struct evbuffer *input, size_t frame_len)
{
	struct relay_server *s = c->server;
	struct turn_client tc = turn_client_of(c);
	int fd;
	const union turn_sa *peer;
	const uint8_t *payload;
	size_t len;
	uint8_t *msg = evbuffer_pullup(input, (ev_ssize_t)frame_len);
	struct turn_alloc *a = turn_table_find(&s->allocs, &tc.src, TURN_TRANSPORT_TCP, c);
	if (msg &&
	    !turn_channel_data(s, a, msg, frame_len, turn_now_ms(s, NULL), &fd, &peer, &payload,
	                       &len) &&
	    sendto(fd, payload, len, MSG_DONTWAIT, &peer->sa, addr_len(&peer->sa)) < 0)
		metrics_inc(s->metrics, METRIC_TURN_DROPPED + METRIC_TURN_DROP_SEND_FAILED);
	evbuffer_drain(input, frame_len);
}

/* Answers one whole message at the head of input; false on a framing error. */
static bool answer_one(struct stun_tcp_conn *c, struct evbuffer *input, size_t frame_len)
{
	struct relay_server *s = c->server;
	struct binding_outcome oc;
	uint8_t reply[TURN_REPLY_MAX];
	size_t reply_len;
	uint8_t *msg = evbuffer_pullup(input, (ev_ssize_t)frame_len);
	if (!msg)
		return false;
	if (turn_wants(msg, frame_len)) {
		struct turn_client tc = turn_client_of(c);
		turn_request(s, msg, frame_len, &tc, reply, sizeof(reply), &reply_len);
		evbuffer_drain(input, frame_len);
		if (reply_len)
			bufferevent_write(c->bev, reply, reply_len);
		/* A connection that carries an allocation lives as long as it: the
		 * allocation's lifetime, not the idle timeout, ends it. */
		if (turn_table_find(&s->allocs, &tc.src, TURN_TRANSPORT_TCP, c))
			bufferevent_set_timeouts(c->bev, NULL, NULL);
		return true;
	}
	binding_answer(msg, frame_len, (struct sockaddr *)&c->peer, (struct sockaddr *)&c->local,
	               &s->binding, reply, sizeof(reply), &reply_len, &oc);
	relay_count(s, &oc);
	evbuffer_drain(input, frame_len);
	if (reply_len)
		bufferevent_write(c->bev, reply, reply_len);
	/* Garbage on a stream means the framing is lost: close. */
	return oc.answered || oc.drop != METRIC_DROP_NOT_STUN;
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct stun_tcp_conn *c = arg;
	struct evbuffer *input = bufferevent_get_input(bev);
	for (;;) {
		uint8_t hdr[STUN_HDR_LEN];
		ev_ssize_t have = evbuffer_copyout(input, hdr, sizeof(hdr));
		if (have >= 4 && (hdr[0] & 0xC0) == 0x40) {
			size_t frame_len = 4 + (((size_t)(hdr[2] << 8 | hdr[3]) + 3) & ~(size_t)3);
			if (evbuffer_get_length(input) < frame_len)
				break;
			forward_one(c, input, frame_len);
			continue;
		}
		if (have < (ev_ssize_t)sizeof(hdr))
			break;
		size_t frame_len = stun_msg_frame_len(hdr, sizeof(hdr));
		if ((hdr[0] & 0xC0) || frame_len > STUN_MAX_MSG_LEN) {
			conn_free(c, METRIC_STUN_TCP_CLOSED_ERROR);
			return;
		}
		if (evbuffer_get_length(input) < frame_len)
			break;
		if (!answer_one(c, input, frame_len)) {
			conn_free(c, METRIC_STUN_TCP_CLOSED_ERROR);
			return;
		}
		if (c->piped)
			return; /* ConnectionBind: the pipe reads from here on */
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) > TCP_WRITE_PAUSE)
		bufferevent_disable(bev, EV_READ);
}

static void tcp_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	/* Called at the low-water mark: the peer reads again, so do we. */
	bufferevent_enable(bev, EV_READ);
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct stun_tcp_conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT)
		conn_free(c, METRIC_STUN_TCP_CLOSED_IDLE);
	else if (what & BEV_EVENT_ERROR)
		conn_free(c, METRIC_STUN_TCP_CLOSED_ERROR);
	else if (what & BEV_EVENT_EOF)
		conn_free(c, METRIC_COUNT);
}

static void tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                          int salen, void *arg)
{
	(void)lev;
	struct relay_server *s = arg;
	if (atomic_fetch_add(&s->shared->tcp_open, 1) >= s->conf->stun_tcp_max_connections) {
		atomic_fetch_sub(&s->shared->tcp_open, 1);
		metrics_inc(s->metrics, METRIC_STUN_TCP_REFUSED);
		close(fd);
		return;
	}
	struct stun_tcp_conn *c = calloc(1, sizeof(*c));
	if (c)
		c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		atomic_fetch_sub(&s->shared->tcp_open, 1);
		free(c);
		close(fd);
		return;
	}
	c->server = s;
	addr_unmap(sa, &c->peer);
	(void)salen;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	getsockname(fd, (struct sockaddr *)&local, &llen);
	addr_unmap((struct sockaddr *)&local, &c->local);
	LIST_INSERT_HEAD(&s->tcp_conns, c, link);
	metrics_inc(s->metrics, METRIC_STUN_TCP_ACCEPTED);
	metrics_add(s->metrics, METRIC_STUN_TCP_OPEN, 1);

	struct timeval idle = {.tv_sec = s->conf->stun_tcp_idle_timeout};
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setwatermark(c->bev, EV_READ, 0, TCP_READ_HIGH);
	bufferevent_setwatermark(c->bev, EV_WRITE, TCP_WRITE_RESUME, 0);
	bufferevent_setcb(c->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
}

int stun_tcp_open(struct relay_server *s, char *err, size_t err_len)
{
	char where[ADDR_STR_MAX];
	const struct sockaddr *sa = (const struct sockaddr *)&s->conf->stun_tcp_listen;
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE |
	                 LEV_OPT_REUSEABLE_PORT;
	s->tcp_listener =
	    evconnlistener_new_bind(s->base, tcp_accept_cb, s, flags, 128, sa, addr_len(sa));
	if (!s->tcp_listener) {
		int rc = errno ? errno : ENOMEM;
		snprintf(err, err_len, "STUN/TCP %s: %s", addr_str(sa, where, sizeof(where)),
		         strerror(rc));
		return rc;
	}
	return 0;
}

void stun_tcp_close(struct relay_server *s)
{
	while (!LIST_EMPTY(&s->tcp_conns))
		conn_free(LIST_FIRST(&s->tcp_conns), METRIC_COUNT);
	if (s->tcp_listener)
		evconnlistener_free(s->tcp_listener);
	s->tcp_listener = NULL;
}
