/* TURN TCP relay (RFC 6062): a TCP allocation's relayed address listens for
 * peers (ConnectionAttempt) and connects out to them (Connect), always from
 * the relayed port, so every relayed TCP flow leaves from relay_ports. Each
 * peer connection is joined to a client data connection by ConnectionBind
 * and then carried by a bounded pipe (media/tcp_pipe.h). */
#include <errno.h>
#include <event2/buffer.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "media/relay_sock.h"
#include "media/tcp_pipe.h"
#include "relay/turn_int.h"

#define TCP_CONNECT_TIMEOUT 30 /* seconds, RFC 6062 section 5.2 */
#define TCP_BIND_TIMEOUT    30 /* seconds for the ConnectionBind, section 5.3 */

struct turn_tcp_peer {
	LIST_ENTRY(turn_tcp_peer) link;
	struct relay_server *s;
	struct turn_alloc *alloc;
	uint32_t id;
	union turn_sa peer;
	struct bufferevent *bev; /* to the peer */
	struct relay_conn *data; /* the client's data connection, once bound */
	struct tcp_pipe *pipe;
	struct event *timer;
	bool connect_pending; /* a Connect waits for its answer */
	uint8_t tid[STUN_TID_LEN];
};

static void peer_free(struct turn_tcp_peer *p)
{
	LIST_REMOVE(p, link);
	tcp_pipe_free(p->pipe);
	if (p->timer)
		event_free(p->timer);
	if (p->bev)
		bufferevent_free(p->bev);
	struct relay_conn *data = p->data;
	free(p);
	if (data)
		relay_conn_close(data);
}

size_t turn_reply_later(struct relay_server *s, const struct turn_alloc *a,
                        const uint8_t tid[STUN_TID_LEN], uint16_t method, int code,
                        const union turn_sa *peer, uint32_t conn_id, uint8_t *out, size_t cap)
{
	/* The answer's header comes from a request that is long gone: only its
	 * dialect, method and transaction id are needed. */
	struct stun_msg req = {.dialect = STUN_DIALECT_RFC5389, .method = method};
	struct turn_req r = {.s = s, .msg = &req, .now = time(NULL), .out = out, .cap = cap};
	struct stun_enc e;
	size_t len = 0;
	r.out_len = &len;
	if (code < 0) { /* ConnectionAttempt indication, a transaction of its own */
		turn_indication_tid(req.tid, true);
		turn_reply_start(&r, &e, STUN_CLASS_INDICATION);
		stun_enc_xor_addr(&e, STUN_ATTR_XOR_PEER_ADDRESS, &peer->sa);
		stun_enc_u32(&e, STUN_ATTR_CONNECTION_ID, conn_id);
		turn_reply_finish(&r, &e);
		return len;
	}
	memcpy(req.tid, tid, STUN_TID_LEN);
	memcpy(r.key, a->key, sizeof(r.key));
	r.authenticated = true;
	if (code) {
		turn_reply_start(&r, &e, STUN_CLASS_ERROR);
		stun_enc_error(&e, code, code == 447 ? "Connection Timeout or Failure" : "Error");
	} else {
		turn_reply_start(&r, &e, STUN_CLASS_SUCCESS);
		stun_enc_u32(&e, STUN_ATTR_CONNECTION_ID, conn_id);
	}
	turn_reply_finish(&r, &e);
	return len;
}

static void send_control(struct turn_tcp_peer *p, int code)
{
	uint8_t out[RELAY_REPLY_MAX];
	uint16_t method = code < 0 ? STUN_METHOD_CONNECTION_ATTEMPT : STUN_METHOD_CONNECT;
	size_t len = turn_reply_later(p->s, p->alloc, p->tid, method, code, &p->peer, p->id, out,
	                              sizeof(out));
	if (len && p->alloc->client_conn)
		relay_conn_send(p->alloc->client_conn, out, len);
}

/* A failed connection to a peer: a connect_failed drop, and 447 for the
 * Connect (counted with the other answers by whoever sends it). */
static int connect_failed(struct relay_server *s)
{
	turn_drop(s, METRIC_TURN_DROP_CONNECT_FAILED);
	return 447;
}

/* A Connect's answer, counted now that the outcome is known (do_connect
 * counts nothing while the connection is under way). */
static void connect_answer(struct turn_tcp_peer *p, bool up)
{
	p->connect_pending = false;
	int code = up ? 0 : connect_failed(p->s);
	metrics_inc(p->s->metrics, &metric_turn_requests_total,
	            up ? METRIC_TURN_OK : METRIC_TURN_447);
	send_control(p, code);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct turn_tcp_peer *p = arg;
	if (p->connect_pending)
		connect_answer(p, false);
	peer_free(p);
}

static void peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct turn_tcp_peer *p = arg;
	if (p->connect_pending && (what & BEV_EVENT_CONNECTED)) {
		connect_answer(p, true);
		bufferevent_disable(p->bev, EV_READ); /* until bound */
		struct timeval tv = {.tv_sec = TCP_BIND_TIMEOUT};
		evtimer_add(p->timer, &tv);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		if (p->connect_pending)
			connect_answer(p, false);
		peer_free(p);
	}
}

static struct turn_tcp_peer *peer_new(struct relay_server *s, struct turn_alloc *a,
                                      const union turn_sa *peer, int fd)
{
	struct turn_tcp_peer *p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return NULL;
	}
	p->s = s;
	p->alloc = a;
	p->peer = *peer;
	if (RAND_bytes((uint8_t *)&p->id, sizeof(p->id)) != 1)
		p->id = (uint32_t)random();
	LIST_INSERT_HEAD(&s->tcp_peers, p, link);
	p->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	p->timer = evtimer_new(s->base, timeout_cb, p);
	if (!p->bev || !p->timer) {
		if (!p->bev)
			close(fd);
		peer_free(p);
		return NULL;
	}
	bufferevent_setcb(p->bev, NULL, NULL, peer_event_cb, p);
	return p;
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	(void)lev;
	(void)salen;
	struct turn_alloc *a = arg;
	struct relay_server *s = a->table->owner;
	union turn_sa peer;
	bool known = turn_sa_set(&peer, sa);
	if (known && a->msturn) {
		msturn_tcp_accept(s, a, &peer, fd); /* held until permitted */
		return;
	}
	/* RFC 6062 section 5.3: only peers with a permission get through. */
	if (!known || !turn_perm_find(a, &peer, time(NULL))) {
		turn_drop(s, METRIC_TURN_DROP_NO_PERMISSION);
		/* A reset, not a close: a close would leave the 4-tuple in
		 * TIME_WAIT here, and the relayed port could not connect out to
		 * that peer for a minute (MS-TURN relays connect to each other). */
		struct linger reset = {.l_onoff = 1, .l_linger = 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(fd);
		return;
	}
	struct turn_tcp_peer *p = peer_new(s, a, &peer, fd);
	if (!p)
		return;
	send_control(p, -1);
	struct timeval tv = {.tv_sec = TCP_BIND_TIMEOUT};
	evtimer_add(p->timer, &tv);
}

int turn_tcp_listen(struct relay_server *s, struct turn_alloc *a)
{
	a->relay_listener = evconnlistener_new(
	    s->base, accept_cb, a, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, a->relay_fd);
	return a->relay_listener ? 0 : ENOMEM;
}

int turn_tcp_connect(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                     const uint8_t tid[STUN_TID_LEN])
{
	struct turn_tcp_peer *p;
	LIST_FOREACH(p, &s->tcp_peers, link)
	if (p->alloc == a && turn_sa_equal(&p->peer, peer))
		return 446;
	int fd;
	if (relay_sock_connect(&a->relayed.sa, &peer->sa, &fd))
		return connect_failed(s);
	p = peer_new(s, a, peer, fd);
	if (!p)
		return connect_failed(s);
	p->connect_pending = true;
	memcpy(p->tid, tid, STUN_TID_LEN);
	struct timeval tv = {.tv_sec = TCP_CONNECT_TIMEOUT};
	evtimer_add(p->timer, &tv);
	/* A NULL address: the socket is already connecting; libevent reports
	 * BEV_EVENT_CONNECTED or the error. */
	if (bufferevent_socket_connect(p->bev, NULL, 0)) {
		peer_free(p);
		return connect_failed(s);
	}
	return 0;
}

static void pipe_closed(struct tcp_pipe *pipe, void *arg)
{
	(void)pipe;
	peer_free(arg);
}

int turn_tcp_bind(struct relay_server *s, struct relay_conn *conn, uint32_t id,
                  const char *username, const uint8_t *reply, size_t reply_len)
{
	struct turn_tcp_peer *p;
	LIST_FOREACH(p, &s->tcp_peers, link)
	if (p->id == id)
		break;
	if (!p || p->data || p->connect_pending || strcmp(p->alloc->username, username) != 0)
		return ENOENT;
	if (relay_conn_send(conn, reply, reply_len))
		return ENOENT;
	struct bufferevent *client = relay_conn_take_over(conn);
	p->data = conn;
	evtimer_del(p->timer);
	if (tcp_pipe_join(&p->pipe, client, p->bev, pipe_closed, p)) {
		peer_free(p);
		return 0; /* the reply is gone; the connection closes */
	}
	return 0;
}

void turn_tcp_alloc_gone(struct relay_server *s, struct turn_alloc *a)
{
	struct turn_tcp_peer *p = LIST_FIRST(&s->tcp_peers);
	while (p) {
		struct turn_tcp_peer *next = LIST_NEXT(p, link);
		if (p->alloc == a)
			peer_free(p);
		p = next;
	}
}

void turn_tcp_conn_gone(struct relay_server *s, struct relay_conn *conn)
{
	struct turn_tcp_peer *p = LIST_FIRST(&s->tcp_peers);
	while (p) {
		struct turn_tcp_peer *next = LIST_NEXT(p, link);
		if (p->data == conn) {
			p->data = NULL; /* its owner is closing it */
			peer_free(p);
		}
		p = next;
	}
}
