/* MS-TURN's TCP relay. An Allocate made over TCP gets a TCP relayed address
 * ([MS-TURN]: "a request that is received over TCP returns a TCP allocated
 * transport address"), which listens for peers and connects out to them
 * from the relayed port, so every relayed flow leaves from relay_ports. A
 * peer connection is a byte stream: Send's DATA and the client's data frames
 * for the active destination are written to it; what it reads goes back to
 * the client raw (0x03 frames) from the active destination, in Data
 * indications from any other peer. Bounded both ways: a peer whose client
 * cannot take more is not read until it can, and writes to a peer that
 * stopped reading are dropped and counted once TCP_PIPE_MAX waits.
 *
 * Relays of two clients connect to each other (ICE over two TCP relays),
 * and over TCP an ICE check is sent once: nothing may be lost to a race. So
 * a peer that connects before its client's Send or Set Active Destination
 * installed the permission is held, unread (its bytes wait in the kernel),
 * until the permission comes or PEER_HOLD_SECONDS pass. Held peers are
 * bounded apart (MSTURN_TCP_HOLD_MAX, the oldest reset to make room), so
 * strangers that connect in never take the PEER_BACKLOG places of the
 * permitted peers. And when connecting out finds the 4-tuple taken, the
 * peer's connection is still in the relayed address's accept queue: it is
 * taken from there. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "media/relay_sock.h"
#include "media/tcp_pipe.h"
#include "relay/turn_int.h"

/* Bytes read from a peer per message to the client: a Data indication
 * (header, MAGIC-COOKIE, REMOTE-ADDRESS, DATA) stays within STUN_MAX_MSG_LEN. */
#define PEER_CHUNK        1400
#define MSG_OVERHEAD      64
#define PEER_BACKLOG      16
#define PEER_HOLD_SECONDS 5

struct msturn_tcp_peer {
	LIST_ENTRY(msturn_tcp_peer) link;
	struct turn_alloc *a;
	union turn_sa peer;
	struct bufferevent *bev;
	struct event *hold; /* while it waits for a permission, unread */
	/* Connecting out: what is written waits, counted as relayed once the
	 * connection is up, as dropped (connect_failed) if it fails. */
	bool connecting;
	uint32_t waiting_packets;
	uint64_t waiting_bytes;
};

static struct relay_server *server_of(const struct turn_alloc *a)
{
	return a->table->owner;
}

static void peer_free(struct msturn_tcp_peer *p)
{
	LIST_REMOVE(p, link);
	if (p->hold)
		event_free(p->hold);
	bufferevent_free(p->bev);
	free(p);
}

/* Closes with a reset: no TIME_WAIT left on the relayed port's 4-tuple. */
static void peer_reset(struct msturn_tcp_peer *p)
{
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	setsockopt(bufferevent_getfd(p->bev), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	peer_free(p);
}

/* One message to the client for payload[0..len) read from p; EAGAIN when
 * the client's buffer is full (nothing was written). */
static int to_client(struct msturn_tcp_peer *p, const uint8_t *payload, size_t len)
{
	struct turn_alloc *a = p->a;
	if (a->has_active_dest && turn_sa_equal(&a->active_dest, &p->peer))
		return relay_conn_send_data(a->client_conn, payload, len);
	uint8_t msg[PEER_CHUNK + MSG_OVERHEAD], tid[STUN_TID_LEN];
	struct stun_enc e;
	size_t msg_len;
	turn_indication_tid(tid, false);
	stun_enc_init(&e, msg, sizeof(msg), STUN_DIALECT_MSTURN, STUN_MSTURN_TYPE_DATA_INDICATION,
	              tid);
	stun_enc_addr(&e, STUN_MSATTR_REMOTE_ADDRESS, &p->peer.sa);
	stun_enc_attr(&e, STUN_MSATTR_DATA, payload, len);
	if (stun_enc_finish(&e, &msg_len))
		return EMSGSIZE;
	return relay_conn_send(a->client_conn, msg, msg_len);
}

/* Passes what p has read on to the client, as much as the client takes. */
static void peer_drain(struct msturn_tcp_peer *p)
{
	struct relay_server *s = server_of(p->a);
	struct evbuffer *in = bufferevent_get_input(p->bev);
	uint8_t chunk[PEER_CHUNK];
	for (;;) {
		ev_ssize_t n = evbuffer_copyout(in, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		int rc = p->a->client_conn ? to_client(p, chunk, (size_t)n) : ENOTCONN;
		if (rc == EAGAIN) {
			bufferevent_disable(p->bev, EV_READ); /* until msturn_tcp_resume */
			return;
		}
		evbuffer_drain(in, (size_t)n);
		if (rc) {
			turn_drop(s, METRIC_TURN_DROP_SEND_FAILED);
			continue;
		}
		metrics_inc(s->metrics, &metric_turn_relayed_packets_total, 1);
		metrics_add(s->metrics, &metric_turn_relayed_bytes_total, 1, n);
	}
	bufferevent_enable(p->bev, EV_READ);
}

static void peer_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct msturn_tcp_peer *p = arg;
	if (!p->hold)
		peer_drain(p);
}

static void hold_expired_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct msturn_tcp_peer *p = arg;
	turn_drop(server_of(p->a), METRIC_TURN_DROP_NO_PERMISSION);
	peer_reset(p);
}

/* Counts len bytes written to p: relayed, or waiting while p connects. */
static void count_to_peer(struct relay_server *s, struct msturn_tcp_peer *p, size_t len)
{
	if (p->connecting) {
		p->waiting_packets++;
		p->waiting_bytes += len;
		return;
	}
	metrics_inc(s->metrics, &metric_turn_relayed_packets_total, METRIC_TO_PEER);
	metrics_add(s->metrics, &metric_turn_relayed_bytes_total, METRIC_TO_PEER, (int64_t)len);
}

/* Connecting out is over: what waited went out (up) or never will. */
static void connect_settled(struct msturn_tcp_peer *p, bool up)
{
	struct metrics_shard *m = server_of(p->a)->metrics;
	if (up) {
		metrics_add(m, &metric_turn_relayed_packets_total, METRIC_TO_PEER,
		            p->waiting_packets);
		metrics_add(m, &metric_turn_relayed_bytes_total, METRIC_TO_PEER,
		            (int64_t)p->waiting_bytes);
	} else {
		metrics_add(m, &metric_turn_dropped_total, METRIC_TURN_DROP_CONNECT_FAILED,
		            p->waiting_packets);
		turn_drop_note(server_of(p->a), METRIC_TURN_DROP_CONNECT_FAILED);
	}
	p->connecting = false;
	p->waiting_packets = 0;
	p->waiting_bytes = 0;
}

static void peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct msturn_tcp_peer *p = arg;
	if (p->connecting && (what & (BEV_EVENT_CONNECTED | BEV_EVENT_ERROR | BEV_EVENT_EOF)))
		connect_settled(p, (what & BEV_EVENT_CONNECTED) != 0);
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
		peer_free(p); /* the next Send to the peer connects again */
}

static struct msturn_tcp_peer *peer_new(struct relay_server *s, struct turn_alloc *a,
                                        const union turn_sa *peer, evutil_socket_t fd)
{
	struct msturn_tcp_peer *p = calloc(1, sizeof(*p));
	if (p)
		p->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!p || !p->bev) {
		free(p);
		close(fd);
		return NULL;
	}
	p->a = a;
	p->peer = *peer;
	LIST_INSERT_HEAD(&a->ms_peers, p, link);
	bufferevent_setwatermark(p->bev, EV_READ, 0, TCP_PIPE_MAX);
	bufferevent_setcb(p->bev, peer_read_cb, NULL, peer_event_cb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	return p;
}

/* The allocation's peers that are held (held) or not. */
static int peers_count(const struct turn_alloc *a, bool held)
{
	int n = 0;
	const struct msturn_tcp_peer *p;
	LIST_FOREACH(p, &a->ms_peers, link)
	n += (p->hold != NULL) == held;
	return n;
}

/* Whether the allocation has as many peer connections as it may, held
 * peers aside: strangers waiting for a permission never take their place. */
static bool peers_full(const struct turn_alloc *a)
{
	return peers_count(a, false) >= PEER_BACKLOG;
}

/* Room for one more held peer: at MSTURN_TCP_HOLD_MAX the oldest held (the
 * last of the list, which grows at its head) is reset and counted. */
static void hold_make_room(struct relay_server *s, struct turn_alloc *a)
{
	if (peers_count(a, true) < MSTURN_TCP_HOLD_MAX)
		return;
	struct msturn_tcp_peer *p, *oldest = NULL;
	LIST_FOREACH(p, &a->ms_peers, link)
	if (p->hold)
		oldest = p;
	turn_drop(s, METRIC_TURN_DROP_HOLD_EVICTED);
	peer_reset(oldest);
}

static struct msturn_tcp_peer *peer_find(struct turn_alloc *a, const union turn_sa *peer)
{
	struct msturn_tcp_peer *p;
	LIST_FOREACH(p, &a->ms_peers, link)
	if (turn_sa_equal(&p->peer, peer))
		return p;
	return NULL;
}

/* Takes the connections waiting in the relayed address's accept queue now,
 * rather than when the loop gets to them. */
static void accept_waiting(struct relay_server *s, struct turn_alloc *a)
{
	for (int i = 0; i < PEER_BACKLOG; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		union turn_sa peer;
		int fd = accept4(a->relay_fd, (struct sockaddr *)&ss, &len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (turn_sa_set(&peer, (struct sockaddr *)&ss))
			msturn_tcp_accept(s, a, &peer, fd);
		else
			close(fd);
	}
}

/* A connection to peer from the relayed port: 0 and *pp (connecting, or the
 * peer's own connection taken from the accept queue), ENOBUFS when the
 * allocation has all the peers it may, ECONNREFUSED when connecting failed. */
static int peer_connect(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                        struct msturn_tcp_peer **pp)
{
	int fd;
	if (peers_full(a))
		return ENOBUFS;
	int rc = relay_sock_connect(&a->relayed.sa, &peer->sa, &fd);
	if (rc == EADDRNOTAVAIL) {
		/* The peer is connecting to us from that very address. */
		accept_waiting(s, a);
		*pp = peer_find(a, peer);
		return *pp ? 0 : ECONNREFUSED;
	}
	struct msturn_tcp_peer *p = rc ? NULL : peer_new(s, a, peer, fd);
	if (!p)
		return ECONNREFUSED;
	/* A NULL address: the socket is already connecting; what is written
	 * meanwhile waits in the output buffer. */
	p->connecting = true;
	if (bufferevent_socket_connect(p->bev, NULL, 0)) {
		peer_free(p);
		return ECONNREFUSED;
	}
	metrics_inc(s->metrics, &metric_msturn_tcp_peer_connections_total, METRIC_PEER_OUTBOUND);
	*pp = p;
	return 0;
}

int msturn_tcp_send(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                    const uint8_t *data, size_t len)
{
	struct msturn_tcp_peer *p = peer_find(a, peer);
	int rc = p ? 0 : peer_connect(s, a, peer, &p);
	if (rc) {
		turn_drop(s, rc == ENOBUFS ? METRIC_TURN_DROP_SEND_FAILED
		                           : METRIC_TURN_DROP_CONNECT_FAILED);
		return rc;
	}
	struct evbuffer *out = bufferevent_get_output(p->bev);
	if (evbuffer_get_length(out) > TCP_PIPE_MAX || evbuffer_add(out, data, len)) {
		turn_drop(s, METRIC_TURN_DROP_SEND_FAILED);
		return ENOBUFS;
	}
	count_to_peer(s, p, len);
	return 0;
}

void msturn_tcp_accept(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                       evutil_socket_t fd)
{
	struct msturn_tcp_peer *old = peer_find(a, peer);
	if (old)
		peer_free(old); /* the peer started over */
	bool permitted = turn_perm_find(a, peer, time(NULL)) != NULL;
	if (permitted && peers_full(a)) {
		turn_drop(s, METRIC_TURN_DROP_SEND_FAILED);
		close(fd);
		return;
	}
	if (!permitted)
		hold_make_room(s, a);
	struct msturn_tcp_peer *p = peer_new(s, a, peer, fd);
	if (!p)
		return;
	metrics_inc(s->metrics, &metric_msturn_tcp_peer_connections_total, METRIC_PEER_INBOUND);
	if (permitted)
		return;
	struct timeval tv = {.tv_sec = PEER_HOLD_SECONDS};
	p->hold = evtimer_new(s->base, hold_expired_cb, p);
	if (!p->hold || evtimer_add(p->hold, &tv)) {
		turn_drop(s, METRIC_TURN_DROP_NO_PERMISSION);
		peer_reset(p);
	}
}

void msturn_tcp_permit(struct relay_server *s, struct turn_alloc *a)
{
	time_t now = time(NULL);
	struct msturn_tcp_peer *p = LIST_FIRST(&a->ms_peers);
	(void)s;
	while (p) {
		struct msturn_tcp_peer *next = LIST_NEXT(p, link);
		/* Out of the hold when there is room among the permitted: else
		 * it waits, and is reset when its hold time is over. */
		if (p->hold && turn_perm_find(a, &p->peer, now) && !peers_full(a)) {
			event_free(p->hold);
			p->hold = NULL;
			peer_drain(p);
		}
		p = next;
	}
}

void msturn_tcp_client_data(struct relay_server *s, const struct turn_client *c,
                            const uint8_t *data, size_t len)
{
	struct turn_alloc *a = turn_table_find(&s->allocs, &c->src, TURN_TRANSPORT_TCP, c->conn);
	if (!a || !a->msturn) {
		turn_drop(s, METRIC_TURN_DROP_NO_ALLOCATION);
		return;
	}
	if (!a->has_active_dest) {
		turn_drop(s, METRIC_TURN_DROP_NO_PERMISSION);
		return;
	}
	msturn_tcp_send(s, a, &a->active_dest, data, len);
}

void msturn_tcp_resume(struct relay_server *s, const struct turn_client *c)
{
	struct turn_alloc *a = turn_table_find(&s->allocs, &c->src, TURN_TRANSPORT_TCP, c->conn);
	if (!a || !a->msturn)
		return;
	struct msturn_tcp_peer *p = LIST_FIRST(&a->ms_peers);
	while (p) {
		struct msturn_tcp_peer *next = LIST_NEXT(p, link);
		if (!p->hold)
			peer_drain(p);
		p = next;
	}
}

void msturn_tcp_alloc_gone(struct relay_server *s, struct turn_alloc *a)
{
	(void)s;
	struct msturn_tcp_peer *p = LIST_FIRST(&a->ms_peers);
	while (p) {
		struct msturn_tcp_peer *next = LIST_NEXT(p, link);
		peer_free(p);
		p = next;
	}
}
