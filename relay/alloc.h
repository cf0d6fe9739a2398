/* TURN allocations of one worker (RFC 8656 section 2.2): the table keyed by
 * the client's 5-tuple, and each allocation's permissions and channels.
 * Everything here lives on the worker that made it and is touched by that
 * thread only: no locks. Lookups on the packet path (allocation by client,
 * channel by number, channel and permission by peer) are hash lookups. */
#ifndef EDGELAB_RELAY_ALLOC_H
#define EDGELAB_RELAY_ALLOC_H

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "relay/client.h"
#include "relay/turn_auth.h"

#define TURN_PERMS_MAX     64  /* per allocation; more gets 508 */
#define TURN_CHANNELS_MAX  64  /* per allocation; more gets 508 */
#define TURN_PERM_LIFETIME 300 /* RFC 8656 section 9 */
#define TURN_CHAN_LIFETIME 600 /* RFC 8656 section 12 */
#define TURN_INDEX_BUCKETS 16
#define TURN_TABLE_BUCKETS 4096

struct turn_perm {
	union turn_sa peer; /* the port is not part of a permission */
	time_t expires;
	uint8_t next; /* index + 1 of the next in its bucket; 0 ends */
};

struct turn_chan {
	union turn_sa peer;
	uint16_t number;
	time_t expires;
	uint8_t next_by_number, next_by_peer;
};

struct turn_alloc {
	struct turn_alloc *next; /* in its table bucket */
	struct turn_table *table;
	/* The 5-tuple: client, the server address it reached, transport; for a
	 * TCP client its connection. */
	union turn_sa client;
	union turn_sa local;
	enum turn_transport client_transport;
	struct relay_conn *client_conn;

	enum turn_transport relay_transport;
	union turn_sa relayed;
	int relay_fd; /* UDP: the relayed socket; TCP: its listener's */
	struct event *relay_ev;
	struct evconnlistener *relay_listener; /* TCP relay (RFC 6062) */
	uint16_t reserved_port; /* EVEN-PORT R: the odd port held for a later Allocate; 0 none */

	/* MS-TURN: the dialect it was made in, its active destination (Set
	 * Active Destination: data flows raw to and from it), the nonce that
	 * stays good for its whole life, and the integrity its client uses. */
	bool msturn;
	bool has_active_dest;
	union turn_sa active_dest;
	char nonce[TURN_NONCE_LEN];
	uint8_t ms_conn_id[20];
	uint32_t ms_version;
	LIST_HEAD(, msturn_tcp_peer) ms_peers; /* TCP relay: connections to and from peers */

	char username[TURN_USERNAME_MAX + 1];
	uint8_t key[16];
	uint8_t tid[12]; /* the Allocate's, to answer its retransmissions */
	time_t expires;
	struct event *timer;

	/* Bandwidth cap: a token bucket in bytes per direction (0 to peer, 1 to client). */
	uint64_t bw_tokens[2], bw_last_ms[2];

	uint8_t n_perms, n_chans;
	uint8_t perm_head[TURN_INDEX_BUCKETS];
	uint8_t chan_num_head[TURN_INDEX_BUCKETS], chan_peer_head[TURN_INDEX_BUCKETS];
	struct turn_perm *perms; /* grown on demand, up to TURN_PERMS_MAX */
	struct turn_chan *chans;
	uint8_t perms_cap, chans_cap;
};

struct relay_server;

struct turn_table {
	struct turn_alloc *bucket[TURN_TABLE_BUCKETS];
	size_t count;
	struct relay_server *owner; /* the worker's */
};

/* The allocation of a 5-tuple, or NULL. */
struct turn_alloc *turn_table_find(struct turn_table *t, const union turn_sa *client,
                                   enum turn_transport tr, const struct relay_conn *conn);
void turn_table_insert(struct turn_table *t, struct turn_alloc *a);
void turn_table_remove(struct turn_table *t, struct turn_alloc *a);

/* sa as a turn_sa: unmapped IPv4 or IPv6; false for another family. */
bool turn_sa_set(union turn_sa *out, const struct sockaddr *sa);
bool turn_sa_same_ip(const union turn_sa *a, const union turn_sa *b);
bool turn_sa_equal(const union turn_sa *a, const union turn_sa *b); /* and port */

/* Permissions. find: a live one for peer's IP, or NULL. add: installs or
 * refreshes until now + TURN_PERM_LIFETIME; 0 or ENOSPC / ENOMEM. */
const struct turn_perm *turn_perm_find(const struct turn_alloc *a, const union turn_sa *peer,
                                       time_t now);
int turn_perm_add(struct turn_alloc *a, const union turn_sa *peer, time_t now);

/* Channels. bind: installs or refreshes number <-> peer until now +
 * TURN_CHAN_LIFETIME; EEXIST when number is bound to another peer or peer to
 * another number (RFC 8656 section 12.1: 400), ENOSPC / ENOMEM. */
const struct turn_chan *turn_chan_by_number(const struct turn_alloc *a, uint16_t number,
                                            time_t now);
const struct turn_chan *turn_chan_by_peer(const struct turn_alloc *a, const union turn_sa *peer,
                                          time_t now);
int turn_chan_bind(struct turn_alloc *a, uint16_t number, const union turn_sa *peer, time_t now);

/* Drops expired permissions and channels and rebuilds the indexes. */
void turn_alloc_sweep(struct turn_alloc *a, time_t now);
/* Frees the permission and channel arrays (not the socket, timer or a). */
void turn_alloc_clear(struct turn_alloc *a);

#endif
