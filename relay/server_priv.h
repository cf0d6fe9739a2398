/* Internals shared by relay/server.c, stun_udp.c and stun_tcp.c only. */
#ifndef EDGELAB_RELAY_SERVER_PRIV_H
#define EDGELAB_RELAY_SERVER_PRIV_H

#include <event2/listener.h>
#include <sys/queue.h>

#include "relay/binding.h"
#include "relay/server.h"

#define UDP_BATCH       32   /* datagrams per recvmmsg/sendmmsg */
#define UDP_BATCHES_MAX 4    /* batches per wake-up: bounded work per event */
#define UDP_DGRAM_MAX   2048 /* larger datagrams are truncated, hence dropped */

struct stun_tcp_conn;

struct relay_server {
	struct event_base *base;
	struct conf *conf; /* a reference; swapped on reload */
	struct relay_shared *shared;
	struct metrics_shard *metrics;
	struct binding_opts binding;

	evutil_socket_t udp_fd;
	struct event *udp_ev;
	struct sockaddr_storage udp_local; /* bound address (port for pktinfo replies) */

	struct evconnlistener *tcp_listener;
	LIST_HEAD(, stun_tcp_conn) tcp_conns;
};

/* Counts an answered or dropped message. */
void relay_count(struct relay_server *s, const struct binding_outcome *oc);

int stun_udp_open(struct relay_server *s, char *err, size_t err_len);
void stun_udp_close(struct relay_server *s);
int stun_tcp_open(struct relay_server *s, char *err, size_t err_len);
void stun_tcp_close(struct relay_server *s);

#endif
