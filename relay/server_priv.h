/* One worker's relay server, as the relay's own files (and its white-box
 * tests) see it: the listeners' state, the worker's allocations and peer
 * policy. Nothing outside relay/ and tests/ includes this; other modules
 * use relay/server.h. */
#ifndef EDGELAB_RELAY_SERVER_PRIV_H
#define EDGELAB_RELAY_SERVER_PRIV_H

#include <event2/listener.h>
#include <sys/queue.h>

#include "core/evict.h"
#include "core/log_limit.h"
#include "core/policy.h"
#include "relay/alloc.h"
#include "relay/binding.h"
#include "relay/server.h"

/* After "Address already in use" on a listener: edgelab never shares one. */
#define RELAY_IN_USE_HINT " (another process holds it; edgelab does not share its listeners)"
#define UDP_BATCH         32   /* datagrams per recvmmsg/sendmmsg */
#define UDP_BATCHES_MAX   4    /* batches per wake-up: bounded work per event */
#define UDP_DGRAM_MAX     2048 /* larger datagrams are truncated, hence dropped */
/* With UDP GRO a read may hold a run of datagrams (at most 64 KiB), and
 * each slot must take one: slots 64 bytes apart from a multiple of 64 KiB,
 * so that their starts do not share a cache set. */
#define UDP_GRO_SLOT (65536 + 64)
/* Socket buffers: bursts of a busy relay fit (the kernel default, 208 KiB,
 * dropped datagrams under a flood of small ones). */
#define UDP_LISTEN_BUFFER (4 * 1024 * 1024)
#define UDP_RELAY_BUFFER  (1024 * 1024)

struct stun_tcp_conn;
struct relay_out;

struct relay_server {
	struct event_base *base;
	struct conf *conf; /* a reference; swapped on reload */
	struct relay_shared *shared;
	struct metrics_shard *metrics;
	struct binding_opts binding;

	/* The transports' (stun_udp.c, stun_tcp.c). The data path sends to UDP
	 * clients from udp_fd too, so that they see the address they used. */
	evutil_socket_t udp_fd;
	struct event *udp_ev;
	struct sockaddr_storage udp_local; /* bound address (port for pktinfo replies) */
	uint32_t udp_rx_dropped;           /* the kernel's SO_RXQ_OVFL count, last seen */
	/* relay_udp_offload, as it was at start: GSO runs out, GRO on the
	 * listener into UDP_BATCH slots of UDP_GRO_SLOT bytes. */
	bool udp_offload;
	uint8_t *udp_gro_buf;

	struct evconnlistener *tcp_listener;
	struct evconnlistener *tls_listener; /* MS-TURN pseudo-TLS (msturn_tls_listen) */
	LIST_HEAD(, stun_tcp_conn) tcp_conns;
	struct evict_log tcp_evict_log; /* evictions' log lines, rate-limited */

	/* TURN: this worker's allocations, its view of the peer policy (rebuilt
	 * on reload) and its 401 limiter. */
	struct turn_table allocs;
	struct policy *policy;
	struct turn_rate rate401;
	struct event *sweep_ev; /* expired EVEN-PORT reservations, once a second; one worker's */
	struct relay_out *relay_out;          /* the relay sockets' reads, queued for clients */
	struct event *to_client_ev;           /* sends them (turn_data.c) */
	LIST_HEAD(, turn_tcp_peer) tcp_peers; /* RFC 6062 peer connections */
	/* The refusals' and drops' log lines, rate-limited per reason. */
	struct log_limit refusal_log[TURN_REFUSAL_COUNT];
	struct log_limit drop_log[METRIC_TURN_DROP_COUNT];
};

/* Counts an answered or dropped STUN message (chain.c). */
void relay_count(struct relay_server *s, const struct binding_outcome *oc);

#endif
