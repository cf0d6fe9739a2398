/* TURN's internals, shared by the files of both dialects: a request's
 * context and the one reply path (turn_common.c), the data path
 * (turn_data.c), the life of allocations (turn_life.c) and the TCP relays
 * (turn_tcp.c for RFC 6062, msturn_tcp.c for MS-TURN). Protocol code only:
 * it reaches clients through relay/client.h, never a transport. */
#ifndef EDGELAB_RELAY_TURN_INT_H
#define EDGELAB_RELAY_TURN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "relay/metrics.h"
#include "relay/chain.h"
#include "relay/server_priv.h"

/* A TURN or MS-TURN request's context while it is answered. */
struct turn_req {
	struct relay_server *s;
	const struct turn_client *c;
	const struct stun_msg *msg;
	time_t now;
	uint8_t *out;
	size_t cap, *out_len;
	uint8_t key[16];
	bool authenticated;
	enum stun_mac mac; /* the request's integrity, which answers use (SHA-1 in RFC TURN) */
	char username[TURN_USERNAME_MAX + 1];
	/* Set before an error answer that the code alone does not explain. */
	enum turn_refusal why;
	union turn_sa refused_peer; /* with TURN_REFUSAL_PEER_POLICY */
};

/* --- the reply path of both dialects (turn_common.c) ---------------------
 * start: the header in the request's dialect and method. finish: SOFTWARE
 * and, when the request had one, FINGERPRINT (RFC 5389 dialect only),
 * MESSAGE-INTEGRITY once authenticated; then the length (0 on failure).
 * error: counts and answers code, with REALM and NONCE (and MS-VERSION in
 * MS-TURN) for 401 and 438. ok: counts and answers an empty success. */
void turn_count(struct turn_req *r, enum metric_turn_result m);
void turn_reply_start(struct turn_req *r, struct stun_enc *e, enum stun_class cls);
void turn_reply_finish(struct turn_req *r, struct stun_enc *e);
void turn_reply_error(struct turn_req *r, int code);
void turn_reply_ok(struct turn_req *r);
/* The STUN error for an errno of the allocation code (0 for 0): EAFNOSUPPORT 440
 * (400 in MS-TURN, which has no 440), EDQUOT 486, anything else 508. */
int turn_code_of(const struct turn_req *r, int err);
/* A peer address attribute (XOR-PEER-ADDRESS; MS-TURN's DESTINATION-ADDRESS,
 * not XORed) allowed by the policy and of the relayed address's family: 0,
 * or 400, 403, or family_code on a family mismatch. */
int turn_peer_of(struct turn_req *r, const struct turn_alloc *a, const struct stun_attr *attr,
                 int family_code, union turn_sa *peer);
/* MS-VERSION of a request, clamped to what we speak (1 when absent). */
uint32_t msturn_version_of(const struct stun_msg *m);
/* refusal.c: the log line (rate-limited per reason and worker, at info) and
 * the count of a refused request about to be answered code; a 401 that
 * only challenges (no credentials yet, why NONE) is normal: neither. */
void turn_refusal_note(struct turn_req *r, int code);
/* Likewise for a relayed packet dropped (turn_drop counts it). */
void turn_drop_note(struct relay_server *s, enum metric_turn_drop why);

/* The event loop's cached clock, in ms (and seconds in *sec when not NULL). */
uint64_t turn_now_ms(struct relay_server *s, time_t *sec);
/* Whether a 401 may go to src now (turn_401_rate); counts the ones held back. */
bool turn_401_allowed(struct relay_server *s, const union turn_sa *src);
/* The lifetime to grant for a request's LIFETIME (0: delete). */
uint32_t turn_lifetime_of(const struct conf *conf, const struct stun_msg *m);
/* A transaction id for an indication (RFC 5389's cookie first when cookie);
 * in turn_data.c, where the packet path inlines it. */
void turn_indication_tid(uint8_t tid[STUN_TID_LEN], bool cookie);
/* Whether an authenticated Allocate that would make an allocation copies
 * one already seen (relay/replay.h): then it is answered 438 and counted.
 * A retransmission from the same 5-tuple is not one. */
bool turn_replayed(struct turn_req *r);
/* Counts a relayed message dropped for why. */
void turn_drop(struct relay_server *s, enum metric_turn_drop why);
void turn_drops(struct relay_server *s, enum metric_turn_drop why, unsigned n);

/* --- the data path (turn_data.c) -----------------------------------------
 * channel_data: ChannelData from the client of allocation a (NULL when the
 * client has none), at the batch's clock now_ms: 0 and where to send the
 * payload, or an errno after counting the drop. send_to_peer: a Send
 * indication's DATA from the relayed address. relay_read_cb: the relayed
 * UDP socket's read callback (peer -> client). bandwidth_allow: the token
 * bucket of turn_max_bps, direction 0 to the peer, 1 to the client. */
int turn_channel_data(struct relay_server *s, struct turn_alloc *a, uint8_t *buf, size_t len,
                      uint64_t now_ms, int *fd, const union turn_sa **peer, const uint8_t **payload,
                      size_t *payload_len);
void turn_send_to_peer(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                       const uint8_t *data, size_t len);
void turn_relay_read_cb(evutil_socket_t fd, short what, void *arg);
/* The relay sockets' datagrams for UDP clients wait until every ready
 * relay socket is read; turn_to_client_cb (s->to_client_ev, activated by
 * the reads) sends them in one batch. */
void turn_to_client_cb(evutil_socket_t fd, short what, void *arg);
/* Relayed datagrams out on fd in one batch (GSO runs with udp_offload);
 * what the kernel refused counted as send_failed. */
void turn_udp_send(struct relay_server *s, int fd, struct mmsghdr *msgs, unsigned n);
/* The reads' buffers and queue, one per server (s->relay_out). */
int turn_data_open(struct relay_server *s);
void turn_data_close(struct relay_server *s);
/* A relayed UDP socket queues the ICMP errors its peers send back, for
 * relay_read_cb to count (IP_RECVERR). A send on it reports such an error
 * (udp_icmp_errno, relay/udp_send.h) when one is pending: it belongs to
 * an earlier packet, and the send is made once more, as peer_sendto and
 * udp_send_batch do. */
void turn_relay_recverr(int fd, int family);
ssize_t turn_peer_sendto(int fd, const void *buf, size_t len, const union turn_sa *peer);
bool turn_bandwidth_allow(struct relay_server *s, struct turn_alloc *a, int dir, size_t len,
                          uint64_t now_ms);
/* MS-TURN: where a datagram from the client of MS-TURN allocation a goes
 * raw (its active destination), or an errno after counting the drop. */
int msturn_raw_target(struct relay_server *s, struct turn_alloc *a, size_t len, uint64_t now_ms,
                      int *fd, const union turn_sa **peer);

/* --- allocations (turn_life.c) ------------------------------------------- */
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
 * token_out when pair, zeroes when none could be held), or EAFNOSUPPORT (no
 * relay address of that family), EDQUOT (the user's quota), ENOSPC (the
 * total quota, no port, a reservation token that is not held) or another
 * errno; turn_code_of maps them to STUN codes. */
int turn_alloc_create(struct relay_server *s, const struct turn_client *c,
                      const struct turn_alloc_params *p, struct turn_alloc **ap,
                      uint8_t token_out[8]);
void turn_alloc_set_lifetime(struct relay_server *s, struct turn_alloc *a, uint32_t seconds);
/* Releases everything a holds, however far it was built, and frees it. */
void turn_alloc_destroy(struct relay_server *s, struct turn_alloc *a);
/* The allocation (and RFC 6062 peers) of a TCP client connection that is
 * closing; called by its transport. */
void turn_conn_closed(struct relay_server *s, struct relay_conn *conn, const union turn_sa *client);
int turn_server_open(struct relay_server *s);
void turn_server_close(struct relay_server *s);
void turn_server_set_conf(struct relay_server *s);

/* --- RFC 6062 (turn_tcp.c) -----------------------------------------------
 * listen: the TCP allocation's relayed address accepts peers
 * (ConnectionAttempt). connect: 0 when the connection is under way (the
 * answer follows, and is counted, when it is up or failed), else 446 / 447
 * (a failure to connect is counted as a connect_failed drop). bind: joins data
 * connection conn to connection id when it is the user's, after writing
 * reply to conn; 0 or ENOENT. alloc_gone / conn_gone: ends the allocation's
 * peer connections / those joined to conn. reply_later: a response to a
 * request answered later (Connect), or the ConnectionAttempt indication
 * (code -1), for the allocation's control connection. */
int turn_tcp_listen(struct relay_server *s, struct turn_alloc *a);
int turn_tcp_connect(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                     const uint8_t tid[STUN_TID_LEN]);
int turn_tcp_bind(struct relay_server *s, struct relay_conn *conn, uint32_t id,
                  const char *username, const uint8_t *reply, size_t reply_len);
void turn_tcp_alloc_gone(struct relay_server *s, struct turn_alloc *a);
void turn_tcp_conn_gone(struct relay_server *s, struct relay_conn *conn);
size_t turn_reply_later(struct relay_server *s, const struct turn_alloc *a,
                        const uint8_t tid[STUN_TID_LEN], uint16_t method, int code,
                        const union turn_sa *peer, uint32_t conn_id, uint8_t *out, size_t cap);

/* --- MS-TURN's TCP relay (msturn_tcp.c) ----------------------------------
 * An allocation made over TCP relays over TCP. send: Send's DATA or raw
 * data to peer, on the connection to it (made from the relayed port when
 * there is none); 0 or an errno after counting the drop. accept: a peer
 * connected to the relayed address (held unread until a permission covers
 * it; at most MSTURN_TCP_HOLD_MAX held, the oldest reset). permit: a permission was installed, held
 * peers it covers are read. client_data: an MS-TURN data frame from a TCP client, raw to its
 * allocation's active destination. resume: the client can take more, so
 * its allocation's peers are read again. alloc_gone: its peers are closed. */
#define MSTURN_TCP_HOLD_MAX 16 /* peers held per allocation, apart from its 16 others */
int msturn_tcp_send(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                    const uint8_t *data, size_t len);
void msturn_tcp_accept(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                       evutil_socket_t fd);
void msturn_tcp_permit(struct relay_server *s, struct turn_alloc *a);
void msturn_tcp_client_data(struct relay_server *s, const struct turn_client *c,
                            const uint8_t *data, size_t len);
void msturn_tcp_resume(struct relay_server *s, const struct turn_client *c);
void msturn_tcp_alloc_gone(struct relay_server *s, struct turn_alloc *a);

#endif
