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

/* State shared by every worker's server: the one cross-thread counter. */
struct relay_shared {
	atomic_uint tcp_open; /* STUN/TCP connections open, all workers */
};

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
