/* The relay's listeners on one worker: STUN on UDP (row 6) and on TCP.
 * Every worker has its own SO_REUSEPORT sockets, so the kernel spreads
 * clients over workers and nothing on the packet path is shared. */
#ifndef EDGELAB_RELAY_SERVER_H
#define EDGELAB_RELAY_SERVER_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stddef.h>

#include "core/conf.h"
#include "core/metrics.h"
#include "relay/metrics.h"

#include "media/portpool.h"
#include "relay/quota.h"
#include "relay/replay.h"
#include "relay/turn_auth.h"

/* State shared by every worker's server: the port pool, the quotas, the
 * nonce key (so that any worker accepts another's nonce), the Allocates seen
 * (a copy from another port may reach another worker) and one counter. */
struct relay_shared {
	atomic_uint tcp_open;          /* STUN/TCP connections open, all workers */
	atomic_bool tcp_listener_open; /* the one STUN/TCP listener is on a worker */
	atomic_bool udp_claimed;       /* the first worker proved STUN/UDP's address free */
	atomic_bool sweeper_open;      /* one worker expires EVEN-PORT reservations */
	struct port_pool *pool;
	struct quota quota;
	struct replay replay;
	uint8_t nonce_key[TURN_NONCE_KEY_LEN];
};

/* Before the workers start: the relay's metric families registered, the
 * pool from conf's relay_ports (fixed until restart), a random nonce key
 * and an empty replay cache. 0, or ENOSPC / ENOMEM / EIO. */
int relay_shared_init(struct relay_shared *sh, const struct conf *conf);
/* After the workers stopped. */
void relay_shared_fini(struct relay_shared *sh);

struct relay_server;

/* Opens the listeners the conf enables, on base. err gets a sentence on
 * failure ("STUN/UDP 0.0.0.0:3478: Address already in use"). */
int relay_server_alloc(struct relay_server **sp, struct event_base *base, struct conf *conf,
                       struct relay_shared *shared, struct metrics_shard *metrics, char *err,
                       size_t err_len);
/* Switches to a reloaded conf (on the server's own thread). Listener
 * addresses only change on restart. */
void relay_server_set_conf(struct relay_server *s, struct conf *conf);
void relay_server_free(struct relay_server *s);

#endif
