/* Internals shared by relay/server.c, stun_udp.c and stun_tcp.c only. */
#ifndef EDGELAB_RELAY_SERVER_PRIV_H
#define EDGELAB_RELAY_SERVER_PRIV_H

#include <event2/listener.h>
#include <sys/queue.h>

#include "core/policy.h"
#include "relay/alloc.h"
#include "relay/binding.h"
#include "relay/server.h"

#define UDP_BATCH       32   /* datagrams per recvmmsg/sendmmsg */
#define UDP_BATCHES_MAX 4    /* batches per wake-up: bounded work per event */
#define UDP_DGRAM_MAX   2048 /* larger datagrams are truncated, hence dropped */
/* Socket buffers: bursts of a busy relay fit (the kernel default, 208 KiB,
 * dropped datagrams under a flood of small ones). */
#define UDP_LISTEN_BUFFER (4 * 1024 * 1024)
#define UDP_RELAY_BUFFER  (1024 * 1024)

struct stun_tcp_conn;

/* Where a TURN request or ChannelData came from. */
struct turn_client {
	union turn_sa src;   /* the client's address (unmapped) */
	union turn_sa local; /* the server address it reached */
	enum turn_transport transport;
	struct stun_tcp_conn *conn; /* TCP: the connection; UDP: NULL */
};

#define TURN_REPLY_MAX 512 /* a TURN response never needs more */

struct relay_server {
	struct event_base *base;
	struct conf *conf; /* a reference; swapped on reload */
	struct relay_shared *shared;
	struct metrics_shard *metrics;
	struct binding_opts binding;

	evutil_socket_t udp_fd;
	struct event *udp_ev;
	struct sockaddr_storage udp_local; /* bound address (port for pktinfo replies) */
	uint32_t udp_rx_dropped;           /* the kernel's SO_RXQ_OVFL count, last seen */

	struct evconnlistener *tcp_listener;
	struct evconnlistener *tls_listener; /* MS-TURN pseudo-TLS (msturn_tls_listen) */
	LIST_HEAD(, stun_tcp_conn) tcp_conns;

	/* TURN: this worker's allocations, its view of the peer policy (rebuilt
	 * on reload) and its 401 limiter. */
	struct turn_table allocs;
	struct policy *policy;
	struct turn_rate rate401;
	struct event *sweep_ev; /* expired EVEN-PORT reservations, once a second; one worker's */
	LIST_HEAD(, turn_tcp_peer) tcp_peers; /* RFC 6062 peer connections */
};

/* Counts an answered or dropped message. */
void relay_count(struct relay_server *s, const struct binding_outcome *oc);

/* TURN (turn.c): answers a request or takes an indication (Send) that is
 * not a Binding; *out_len 0 when nothing is to be sent back. */
void turn_request(struct relay_server *s, const uint8_t *buf, size_t len,
                  const struct turn_client *c, uint8_t *out, size_t cap, size_t *out_len);
/* True for a datagram / message that turn_request handles (RFC 5389 dialect,
 * a TURN method); the rest goes to the Binding service. */
bool turn_wants(const uint8_t *buf, size_t len);

/* A TURN or MS-TURN request's context while it is answered. */
struct turn_req {
	struct relay_server *s;
	const struct turn_client *c;
	struct stun_msg msg;
	time_t now;
	uint8_t *out;
	size_t cap, *out_len;
	uint8_t key[16];
	bool authenticated;
	enum stun_mac mac; /* the request's integrity, which answers use (SHA-1 in RFC TURN) */
	char username[TURN_USERNAME_MAX + 1];
};

/* Shared by both dialects (turn_common.c). */
struct turn_error {
	int code;
	const char *reason;
	enum metric_turn_result metric;
};
const struct turn_error *turn_error(int code);
/* The event loop's cached clock, in ms (and seconds in *sec when not NULL). */
uint64_t turn_now_ms(struct relay_server *s, time_t *sec);
/* Whether a 401 may go to src now (turn_401_rate); counts the ones held back. */
bool turn_401_allowed(struct relay_server *s, const union turn_sa *src);
/* REALM and a fresh NONCE for src, with the dialect's attribute numbers. */
void turn_challenge(struct relay_server *s, struct stun_enc *e, const union turn_sa *src,
                    time_t now, uint16_t realm_type, uint16_t nonce_type);
/* A transaction id for an indication (RFC 5389's cookie first when cookie);
 * in turn_data.c, where the packet path inlines it. */
void turn_indication_tid(uint8_t tid[STUN_TID_LEN], bool cookie);
/* The lifetime to grant for a request's LIFETIME (0: delete). */
uint32_t turn_lifetime_of(const struct conf *conf, const struct stun_msg *m);

/* MS-TURN (msturn.c): wants is true for its Allocate, Send and Set Active
 * Destination; request answers them. raw_target: where a datagram from the
 * client of an MS-TURN allocation goes raw (its active destination), or an
 * errno after counting the drop. */
bool msturn_wants(const uint8_t *buf, size_t len);
void msturn_request(struct relay_server *s, const uint8_t *buf, size_t len,
                    const struct turn_client *c, uint8_t *out, size_t cap, size_t *out_len);
int msturn_raw_target(struct relay_server *s, struct turn_alloc *a, size_t len, uint64_t now_ms,
                      int *fd, const union turn_sa **peer);

/* MS-TURN's TCP relay (msturn_tcp.c): an allocation made over TCP relays
 * over TCP. send: Send's DATA or raw data to peer, on the connection to it
 * (made from the relayed port when there is none); 0 or an errno after
 * counting the drop. accept: a permitted peer connected to the relayed
 * address (held unread until a permission covers it). permit: a permission
 * was installed, held peers it covers are read. client_data: an MS-TURN
 * data frame from a TCP client, raw to its allocation's active destination.
 * resume: the client can take more, so its allocation's peers are read
 * again. alloc_gone: its peers are closed. */
int msturn_tcp_send(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                    const uint8_t *data, size_t len);
void msturn_tcp_accept(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                       evutil_socket_t fd);
void msturn_tcp_permit(struct relay_server *s, struct turn_alloc *a);
void msturn_tcp_client_data(struct relay_server *s, const struct turn_client *c,
                            const uint8_t *data, size_t len);
void msturn_tcp_resume(struct relay_server *s, const struct turn_client *c);
void msturn_tcp_alloc_gone(struct relay_server *s, struct turn_alloc *a);

/* ChannelData from the client of allocation a (turn_data.c; a NULL when the
 * client has none), at the batch's clock now_ms: 0 and where to send the payload,
 * or an errno after counting the drop. */
int turn_channel_data(struct relay_server *s, struct turn_alloc *a, uint8_t *buf, size_t len,
                      uint64_t now_ms, int *fd, const union turn_sa **peer, const uint8_t **payload,
                      size_t *payload_len);
/* Sends to a peer from the allocation's relayed address (Send indication). */
void turn_send_to_peer(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                       const uint8_t *data, size_t len);
/* The relay socket's read callback (peer -> client). */
void turn_relay_read_cb(evutil_socket_t fd, short what, void *arg);
/* Token bucket for turn_max_bps; false when len is over the cap now. */
bool turn_bandwidth_allow(struct relay_server *s, struct turn_alloc *a, int dir, size_t len,
                          uint64_t now_ms);

/* Allocation life (turn_life.c). */
struct turn_alloc_params {
	enum turn_transport relay_transport;
	int family; /* AF_INET or AF_INET6 */
	bool even, pair, dont_fragment;
	bool has_token;
	uint8_t token[8];
	uint32_t lifetime;
	const char *username;
	const uint8_t *key;
	const uint8_t *tid;
};
/* Creates an allocation for c: 0 and *ap (its reservation token in
 * token_out when pair), or a STUN error code (440, 486, 508). */
int turn_alloc_create(struct relay_server *s, const struct turn_client *c,
                      const struct turn_alloc_params *p, struct turn_alloc **ap,
                      uint8_t token_out[8]);
void turn_alloc_set_lifetime(struct relay_server *s, struct turn_alloc *a, uint32_t seconds);
void turn_alloc_destroy(struct relay_server *s, struct turn_alloc *a);
/* The allocation (and RFC 6062 peers) of a TCP client connection that is closing. */
void turn_conn_closed(struct relay_server *s, struct stun_tcp_conn *conn,
                      const union turn_sa *client);
void turn_server_close(struct relay_server *s);
int turn_server_open(struct relay_server *s);
void turn_server_set_conf(struct relay_server *s);

/* RFC 6062 (turn_tcp.c). listen: the TCP allocation's relayed address
 * accepts peers (ConnectionAttempt). connect: 0 when the connection is under
 * way (the answer follows when it is up or failed), else 446 / 447.
 * bind: joins data connection conn to connection id when it is the user's
 * and waits for a bind, after writing reply to conn; 0 or ENOENT. */
int turn_tcp_listen(struct relay_server *s, struct turn_alloc *a);
int turn_tcp_connect(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                     const uint8_t tid[STUN_TID_LEN]);
int turn_tcp_bind(struct relay_server *s, struct stun_tcp_conn *conn, uint32_t id,
                  const char *username, const uint8_t *reply, size_t reply_len);
/* Ends the allocation's peer connections / those joined to a client conn. */
void turn_tcp_alloc_gone(struct relay_server *s, struct turn_alloc *a);
void turn_tcp_conn_gone(struct relay_server *s, struct stun_tcp_conn *conn);
/* A response to a request answered later (Connect), or the ConnectionAttempt
 * indication (code -1), for the allocation's control connection. */
size_t turn_reply_later(struct relay_server *s, const struct turn_alloc *a,
                        const uint8_t tid[STUN_TID_LEN], uint16_t method, int code,
                        const union turn_sa *peer, uint32_t conn_id, uint8_t *out, size_t cap);

/* STUN/TCP connections as seen by the TCP relay: take_over hands a
 * connection's bufferevent to a pipe (the listener stops framing it); close
 * ends it. */
struct bufferevent *stun_tcp_take_over(struct stun_tcp_conn *conn);
void stun_tcp_conn_close(struct stun_tcp_conn *conn);

/* Writes a whole message to a TCP client (framed as an MS-TURN control
 * message on an MS-TURN connection); EAGAIN when its buffer is full (the
 * caller drops and counts: media never grows a buffer without bound).
 * send_data: end-to-end data (MS-TURN frame type 0x03). */
int stun_tcp_send(struct stun_tcp_conn *conn, const void *buf, size_t len);
int stun_tcp_send_data(struct stun_tcp_conn *conn, const void *buf, size_t len);

/* Sets a socket's receive and send buffers (beyond rmem_max when allowed). */
void sock_buffers(int fd, int bytes);

int stun_udp_open(struct relay_server *s, char *err, size_t err_len);
void stun_udp_close(struct relay_server *s);
int stun_tcp_open(struct relay_server *s, char *err, size_t err_len);
void stun_tcp_close(struct relay_server *s);

#endif
