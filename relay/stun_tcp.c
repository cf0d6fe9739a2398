/* STUN and TURN on TCP, in two framings told apart by a connection's first
 * byte: RFC 5389 section 7.2.2 (messages framed by their own header length,
 * and ChannelData), or MS-TURN's (type, 0x00, length: stun/msturn_frame.h),
 * which on the A/V edge's 443 follows a pseudo-TLS handshake. Bounded
 * everywhere: a connection limit across workers (at which a new connection
 * evicts one that holds nothing: core/evict.h), a deadline for the first
 * whole message, an idle timeout, a read high-water mark and a cap on
 * queued replies (a client that sends but never reads is paused). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/evict.h"
#include "core/log.h"
#include "stun/msturn_frame.h"
#include "relay/chain.h"
#include "relay/transport.h"
#include "relay/turn_int.h"

#define TCP_READ_HIGH    ((size_t)2 * (MSTURN_FRAME_HDR + MSTURN_DATA_MAX)) /* > any frame */
#define TCP_WRITE_PAUSE  ((size_t)64 * 1024) /* stop reading while this much is unsent */
#define TCP_WRITE_RESUME ((size_t)16 * 1024)

enum tcp_framing {
	FRAMING_UNKNOWN, /* the first byte decides */
	FRAMING_RFC,     /* RFC 5389 / RFC 8656 ChannelData */
	FRAMING_HELLO,   /* the pseudo-TLS ClientHello is due (then MS) */
	FRAMING_MS,      /* MS-TURN: 0x02 control / 0x03 data, 0x00, length */
};

/* What one step of the read loop did. */
enum tcp_step { STEP_MORE, STEP_DONE, STEP_CLOSE };

struct stun_tcp_conn {
	struct relay_conn base; /* first: what protocol code holds */
	LIST_ENTRY(stun_tcp_conn) link;
	struct relay_server *server;
	struct bufferevent *bev;
	struct sockaddr_storage peer, local;
	bool piped; /* a TCP relay data connection now (RFC 6062): no more framing */
	enum tcp_framing framing;
	/* core/evict.h: accepted at, then its last whole message at (ms); a
	 * whole message or the pseudo-TLS hello came; a whole message came;
	 * the deadline for the hello and the first message. */
	uint64_t since_ms;
	bool handshaken;
	bool requested;
	struct event *deadline;
};

/* why: the close counter to bump, or NULL for an orderly close. */
static void conn_free(struct stun_tcp_conn *c, struct metric_family *why)
{
	struct relay_server *s = c->server;
	if (why)
		metrics_inc(s->metrics, why, 0);
	LIST_REMOVE(c, link);
	union turn_sa client;
	if (turn_sa_set(&client, (struct sockaddr *)&c->peer))
		turn_conn_closed(s, &c->base, &client);
	bufferevent_free(c->bev);
	if (c->deadline)
		event_free(c->deadline);
	atomic_fetch_sub(&s->shared->tcp_open, 1);
	metrics_add(s->metrics, &metric_stun_tcp_connections, 0, -1);
	free(c);
}

/* A message or data to the client, framed the connection's way. */
static int conn_write(struct stun_tcp_conn *c, uint8_t ms_type, const void *buf, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (c->framing == FRAMING_MS) {
		uint8_t hdr[MSTURN_FRAME_HDR];
		if (len > 0xFFFF)
			return EMSGSIZE;
		msturn_frame_header(hdr, ms_type, len);
		if (evbuffer_add(out, hdr, sizeof(hdr)))
			return ENOMEM;
	}
	return evbuffer_add(out, buf, len) ? ENOMEM : 0;
}

/* The relay_conn operations (relay/client.h); base is the first member. */
static int op_send(struct relay_conn *conn, const void *buf, size_t len)
{
	struct stun_tcp_conn *c = (struct stun_tcp_conn *)conn;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > TCP_WRITE_PAUSE)
		return EAGAIN;
	return conn_write(c, MSTURN_FRAME_CONTROL, buf, len);
}

static int op_send_data(struct relay_conn *conn, const void *buf, size_t len)
{
	struct stun_tcp_conn *c = (struct stun_tcp_conn *)conn;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > TCP_WRITE_PAUSE)
		return EAGAIN;
	return conn_write(c, MSTURN_FRAME_DATA, buf, len);
}

static struct bufferevent *op_take_over(struct relay_conn *conn)
{
	struct stun_tcp_conn *c = (struct stun_tcp_conn *)conn;
	c->piped = true;
	return c->bev;
}

static void op_close(struct relay_conn *conn)
{
	conn_free((struct stun_tcp_conn *)conn, NULL);
}

static const struct relay_conn_ops conn_ops = {
    .send = op_send,
    .send_data = op_send_data,
    .take_over = op_take_over,
    .close = op_close,
};

static struct turn_client turn_client_of(struct stun_tcp_conn *c)
{
	struct turn_client tc = {.transport = TURN_TRANSPORT_TCP, .conn = &c->base};
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
	struct turn_alloc *a = turn_table_find(&s->allocs, &tc.src, TURN_TRANSPORT_TCP, &c->base);
	if (msg &&
	    !turn_channel_data(s, a, msg, frame_len, turn_now_ms(s, NULL), &fd, &peer, &payload,
	                       &len) &&
	    turn_peer_sendto(fd, payload, len, peer) < 0)
		turn_drop(s, METRIC_TURN_DROP_SEND_FAILED);
	evbuffer_drain(input, frame_len);
}

/* A connection that carries an allocation lives as long as it: the
 * allocation's lifetime, not the idle timeout, ends it; once it is deleted,
 * the idle timeout is back. */
static void keep_if_allocated(struct stun_tcp_conn *c, const struct turn_client *tc)
{
	struct timeval idle = {.tv_sec = c->server->conf->stun_tcp_idle_timeout};
	if (turn_table_find(&c->server->allocs, &tc->src, TURN_TRANSPORT_TCP, &c->base))
		bufferevent_set_timeouts(c->bev, NULL, NULL);
	else if (!c->piped)
		bufferevent_set_timeouts(c->bev, &idle, &idle);
}

/* Answers one whole message msg[0..len); false when it is not STUN at all
 * (on a stream that means the framing is lost). */
static bool answer_one(struct stun_tcp_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t reply[RELAY_REPLY_MAX];
	struct turn_client tc = turn_client_of(c);
	struct relay_msg m; /* not zeroed: dispatch decodes into it */
	m.client = &tc;
	m.buf = msg;
	m.len = len;
	m.out = reply;
	m.cap = sizeof(reply);
	int rc = relay_dispatch(c->server, &m);
	if (rc == ENOMSG)
		return c->framing ==
		       FRAMING_MS; /* an MS-TURN frame keeps the stream in step anyway */
	keep_if_allocated(c, &tc);
	if (m.out_len)
		conn_write(c, MSTURN_FRAME_CONTROL, reply, m.out_len);
	return true;
}

/* RFC 5389 framing: one STUN message or ChannelData at the head of input. */
static enum tcp_step read_rfc(struct stun_tcp_conn *c, struct evbuffer *input)
{
	uint8_t hdr[STUN_HDR_LEN];
	ev_ssize_t have = evbuffer_copyout(input, hdr, sizeof(hdr));
	if (have >= 4 && (hdr[0] & 0xC0) == 0x40) {
		size_t frame_len = 4 + (((size_t)(hdr[2] << 8 | hdr[3]) + 3) & ~(size_t)3);
		if (evbuffer_get_length(input) < frame_len)
			return STEP_MORE;
		forward_one(c, input, frame_len);
		return STEP_DONE;
	}
	if (have < (ev_ssize_t)sizeof(hdr))
		return STEP_MORE;
	size_t frame_len = stun_msg_frame_len(hdr, sizeof(hdr));
	if ((hdr[0] & 0xC0) || frame_len > STUN_MAX_MSG_LEN)
		return STEP_CLOSE;
	if (evbuffer_get_length(input) < frame_len)
		return STEP_MORE;
	/* Taken out before it is answered: a ConnectionBind hands the rest of
	 * the input to the peer (RFC 6062), which must not get the request. */
	uint8_t msg[STUN_MAX_MSG_LEN];
	if (evbuffer_remove(input, msg, frame_len) != (int)frame_len)
		return STEP_CLOSE;
	return answer_one(c, msg, frame_len) ? STEP_DONE : STEP_CLOSE;
}

/* MS-TURN framing: a control message (answered) or data (relayed raw to the
 * allocation's active destination). */
static enum tcp_step read_ms(struct stun_tcp_conn *c, struct evbuffer *input)
{
	uint8_t hdr[MSTURN_FRAME_HDR], type;
	size_t payload_len;
	ev_ssize_t have = evbuffer_copyout(input, hdr, sizeof(hdr));
	long frame_len = msturn_frame_parse(hdr, have > 0 ? (size_t)have : 0, &type, &payload_len);
	if (frame_len < 0)
		return STEP_CLOSE;
	if (!frame_len || evbuffer_get_length(input) < (size_t)frame_len)
		return STEP_MORE;
	uint8_t *frame = evbuffer_pullup(input, frame_len);
	if (!frame)
		return STEP_CLOSE;
	bool good = true;
	if (type == MSTURN_FRAME_CONTROL) {
		good = answer_one(c, frame + MSTURN_FRAME_HDR, payload_len);
	} else {
		struct turn_client tc = turn_client_of(c);
		msturn_tcp_client_data(c->server, &tc, frame + MSTURN_FRAME_HDR, payload_len);
	}
	evbuffer_drain(input, (size_t)frame_len);
	return good ? STEP_DONE : STEP_CLOSE;
}

/* The pseudo-TLS ClientHello, answered with the fixed ServerHello; MS-TURN
 * framing follows. */
static enum tcp_step read_hello(struct stun_tcp_conn *c, struct evbuffer *input)
{
	uint8_t hello[PSEUDO_TLS_HELLO_LEN], reply[PSEUDO_TLS_REPLY_LEN];
	ev_ssize_t have = evbuffer_copyout(input, hello, sizeof(hello));
	int rc = pseudo_tls_hello_check(hello, have > 0 ? (size_t)have : 0);
	if (rc <= 0)
		return rc < 0 ? STEP_CLOSE : STEP_MORE;
	evbuffer_drain(input, sizeof(hello));
	pseudo_tls_reply(reply);
	bufferevent_write(c->bev, reply, sizeof(reply));
	metrics_inc(c->server->metrics, &metric_msturn_pseudo_tls_total, 0);
	c->framing = FRAMING_MS;
	return STEP_DONE;
}

static enum tcp_framing framing_of(uint8_t first)
{
	if (first == 0x16) /* a TLS handshake record */
		return FRAMING_HELLO;
	if (first == MSTURN_FRAME_CONTROL || first == MSTURN_FRAME_DATA)
		return FRAMING_MS;
	return FRAMING_RFC;
}

/* (Re)arms c's deadline: stun_tcp_first_request_timeout, less under
 * pressure (core/evict.h). */
static void arm_deadline(struct stun_tcp_conn *c)
{
	const struct relay_server *s = c->server;
	uint64_t ms =
	    evict_timeout_ms(s->conf->stun_tcp_first_request_timeout,
	                     atomic_load(&s->shared->tcp_open), s->conf->stun_tcp_max_connections);
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (c->deadline)
		evtimer_add(c->deadline, &tv);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg, &metric_stun_tcp_first_request_closed_total);
}

/* A step of the read loop went through: the hello (the first message's
 * deadline starts again) or a whole message (the deadline is over). */
static void progressed(struct stun_tcp_conn *c, bool hello)
{
	c->handshaken = true;
	if (hello) {
		arm_deadline(c);
		return;
	}
	c->since_ms = evict_now_ms();
	if (!c->requested && c->deadline)
		event_del(c->deadline);
	c->requested = true;
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct stun_tcp_conn *c = arg;
	struct evbuffer *input = bufferevent_get_input(bev);
	while (evbuffer_get_length(input)) {
		if (c->framing == FRAMING_UNKNOWN) {
			uint8_t first;
			evbuffer_copyout(input, &first, 1);
			c->framing = framing_of(first);
		}
		bool hello = c->framing == FRAMING_HELLO;
		enum tcp_step step = c->framing == FRAMING_RFC  ? read_rfc(c, input)
		                     : c->framing == FRAMING_MS ? read_ms(c, input)
		                                                : read_hello(c, input);
		if (step == STEP_MORE)
			break;
		if (step == STEP_CLOSE) {
			conn_free(c, &metric_stun_tcp_error_closed_total);
			return;
		}
		progressed(c, hello);
		if (c->piped)
			return; /* ConnectionBind: the pipe reads from here on */
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) > TCP_WRITE_PAUSE)
		bufferevent_disable(bev, EV_READ);
}

static void tcp_write_cb(struct bufferevent *bev, void *arg)
{
	struct stun_tcp_conn *c = arg;
	/* Called at the low-water mark: the peer reads again, so do we, and so
	 * does an MS-TURN TCP relay that waited for room towards this client. */
	bufferevent_enable(bev, EV_READ);
	if (c->framing == FRAMING_MS) {
		struct turn_client tc = turn_client_of(c);
		msturn_tcp_resume(c->server, &tc);
	}
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct stun_tcp_conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT)
		conn_free(c, &metric_stun_tcp_idle_closed_total);
	else if (what & BEV_EVENT_ERROR)
		conn_free(c, &metric_stun_tcp_error_closed_total);
	else if (what & BEV_EVENT_EOF)
		conn_free(c, NULL);
}

/* How the lock-out policy sees c: one carrying an allocation, or piped to
 * a peer (RFC 6062), is what a client needs. */
static enum evict_state evict_state_of(struct stun_tcp_conn *c)
{
	struct turn_client tc = turn_client_of(c);
	if (c->piped || turn_table_find(&c->server->allocs, &tc.src, TURN_TRANSPORT_TCP, &c->base))
		return EVICT_KEEP;
	return c->handshaken ? EVICT_IDLE : EVICT_HANDSHAKE;
}

/* Closes v to make room: counted, and logged at most EVICT_LOG_PER_S
 * times a second (a flood would fill the log). */
static void evict(struct relay_server *s, struct stun_tcp_conn *v, enum evict_state why,
                  uint64_t now)
{
	char peer[ADDR_STR_MAX], more[48];
	metrics_inc(s->metrics, &metric_stun_tcp_evicted_total, why);
	if (evict_log_take(&s->tcp_evict_log, now, more, sizeof(more)))
		log_warn("stun/tcp %s: evicted at stun_tcp_max_connections (%u): %s for %.1f s%s",
		         addr_str((struct sockaddr *)&v->peer, peer, sizeof(peer)),
		         s->conf->stun_tcp_max_connections,
		         why == EVICT_HANDSHAKE ? "no whole message" : "idle, no allocation",
		         (double)(now - v->since_ms) / 1000.0, more);
	conn_free(v, NULL);
}

/* The connection core/evict.h picks, evicted. This worker holds every
 * STUN/TCP connection: the one listener is its. */
static void make_room(struct relay_server *s)
{
	struct evict_pick pick;
	struct stun_tcp_conn *c;
	uint64_t now = evict_now_ms();
	evict_pick_init(&pick);
	LIST_FOREACH(c, &s->tcp_conns, link)
	{
		enum evict_state state = evict_state_of(c);
		evict_pick_offer(&pick, c, state, c->since_ms);
	}
	if (pick.victim)
		evict(s, pick.victim, pick.state, now);
}

/* A place under stun_tcp_max_connections, made by an eviction when they
 * are all taken; false: none. */
static bool take_place(struct relay_server *s)
{
	unsigned max = s->conf->stun_tcp_max_connections;
	if (atomic_load(&s->shared->tcp_open) >= max)
		make_room(s);
	if (atomic_fetch_add(&s->shared->tcp_open, 1) < max)
		return true;
	atomic_fetch_sub(&s->shared->tcp_open, 1);
	return false;
}

static void accept_conn(struct relay_server *s, evutil_socket_t fd, struct sockaddr *sa,
                        enum tcp_framing framing)
{
	if (!take_place(s)) {
		metrics_inc(s->metrics, &metric_stun_tcp_refused_total, 0);
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
	/* Media rides this connection (RFC 6062's, MS-TURN's data frames): a
	 * packet goes when it comes, not when Nagle's algorithm lets it (10-20
	 * ms more per round trip, measured by edgelab assess over TCP). */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->base.ops = &conn_ops;
	c->server = s;
	c->framing = framing;
	c->since_ms = evict_now_ms();
	c->deadline = evtimer_new(s->base, deadline_cb, c);
	arm_deadline(c);
	addr_unmap(sa, &c->peer);
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	getsockname(fd, (struct sockaddr *)&local, &llen);
	addr_unmap((struct sockaddr *)&local, &c->local);
	LIST_INSERT_HEAD(&s->tcp_conns, c, link);
	metrics_inc(s->metrics, &metric_stun_tcp_accepted_total, 0);
	metrics_add(s->metrics, &metric_stun_tcp_connections, 0, 1);

	struct timeval idle = {.tv_sec = s->conf->stun_tcp_idle_timeout};
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setwatermark(c->bev, EV_READ, 0, TCP_READ_HIGH);
	bufferevent_setwatermark(c->bev, EV_WRITE, TCP_WRITE_RESUME, 0);
	bufferevent_setcb(c->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
}

static void tcp_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                          int salen, void *arg)
{
	(void)lev;
	(void)salen;
	accept_conn(arg, fd, sa, FRAMING_UNKNOWN);
}

/* The A/V edge's 443: the pseudo-TLS handshake comes first, or nothing. */
static void tls_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                          int salen, void *arg)
{
	(void)lev;
	(void)salen;
	accept_conn(arg, fd, sa, FRAMING_HELLO);
}

static int listen_on(struct relay_server *s, const struct sockaddr_storage *ss,
                     evconnlistener_cb cb, const char *what, struct evconnlistener **out, char *err,
                     size_t err_len)
{
	char where[ADDR_STR_MAX];
	const struct sockaddr *sa = (const struct sockaddr *)ss;
	/* No SO_REUSEPORT: one worker listens, and with it another process of
	 * the same user could bind the address too and take half the clients. */
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE;
	*out = evconnlistener_new_bind(s->base, cb, s, flags, 128, sa, addr_len(sa));
	if (!*out) {
		int rc = errno ? errno : ENOMEM;
		snprintf(err, err_len, "%s %s: %s%s", what, addr_str(sa, where, sizeof(where)),
		         strerror(rc), rc == EADDRINUSE ? RELAY_IN_USE_HINT : "");
		return rc;
	}
	return 0;
}

int stun_tcp_open(struct relay_server *s, char *err, size_t err_len)
{
	const struct conf *conf = s->conf;
	int rc = 0;
	if (conf->stun_tcp_enabled)
		rc = listen_on(s, &conf->stun_tcp_listen, tcp_accept_cb, "STUN/TCP",
		               &s->tcp_listener, err, err_len);
	if (!rc && conf->msturn_tls_enabled)
		rc = listen_on(s, &conf->msturn_tls_listen, tls_accept_cb, "MS-TURN pseudo-TLS",
		               &s->tls_listener, err, err_len);
	return rc;
}

void stun_tcp_close(struct relay_server *s)
{
	while (!LIST_EMPTY(&s->tcp_conns))
		conn_free(LIST_FIRST(&s->tcp_conns), NULL);
	if (s->tcp_listener)
		evconnlistener_free(s->tcp_listener);
	if (s->tls_listener)
		evconnlistener_free(s->tls_listener);
	s->tcp_listener = s->tls_listener = NULL;
}
