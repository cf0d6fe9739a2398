/* The strict mode's canaries: listeners on the edge's access address, on
 * ports the port table does not open inbound (canary_tcp, canary_udp,
 * canary_address in core/conf.h), that record what reached them so that a
 * probe can tell a loose firewall from a strict one. Nothing is ever
 * answered:
 *   TCP  a connection is accepted, up to CANARY_READ_MAX bytes are read for
 *        at most CANARY_TCP_READ_MS, and it is closed; at most
 *        CANARY_TCP_CONNS_MAX are open at once, and one beyond that is
 *        accepted, recorded and closed at once;
 *   UDP  each datagram is read.
 * Each connection or datagram is a hit: recorded (the last CANARY_HITS_MAX
 * kept), logged ("canary: tcp 5060 hit from 192.0.2.10:40122 marker=abc"),
 * and counted in edgelab_canary_hits_total{proto}. Its marker is the TEXT of
 * ROWS_MARKER_PREFIX TEXT in its first CANARY_READ_MAX bytes
 * (canary/marker.h), if any.
 *
 * A canary port inside the relay pool is taken out of it for the canary's
 * life, so that no allocation or originated flow uses it. Everything runs
 * on one event_base (serve's main loop), counts in one metrics shard, and is
 * fixed when opened: a reload does not change the canaries. */
#ifndef EDGELAB_CANARY_CANARY_H
#define EDGELAB_CANARY_CANARY_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/conf.h"
#include "core/metrics.h"
#include "core/rows.h"
#include "media/portpool.h"

#define CANARY_HITS_MAX      1024 /* hits kept; older ones are forgotten */
#define CANARY_READ_MAX      128  /* bytes of a connection or datagram looked at */
#define CANARY_TCP_READ_MS   1000 /* a TCP connection's time to send them */
#define CANARY_TCP_CONNS_MAX 64   /* TCP connections being read at once, in total */

enum canary_proto { CANARY_TCP, CANARY_UDP };

struct canary_hit {
	uint64_t id; /* 1, 2, ... in the order hits are recorded */
	enum canary_proto proto;
	uint16_t port;                    /* the canary's */
	struct sockaddr_storage src;      /* who sent it (IPv4-mapped addresses unmapped) */
	uint64_t ms;                      /* when it arrived, ms since the Unix epoch */
	char marker[ROWS_MARKER_MAX + 1]; /* "" when it carried none */
};

/* Called for each hit visited, or (an observer) for each hit recorded. */
typedef void(canary_hit_h)(const struct canary_hit *hit, void *arg);

struct canary;

/* Registers edgelab_canary_hits_total; 0 or metrics_register's error. */
int canary_metrics_register(void);

/* Opens conf's canaries on base (conf is read, not kept). pool: the relay's,
 * which must outlive the canary (NULL: no pool to take ports from). shard:
 * the metrics shard of base's thread. 0, or an errno with a sentence in
 * err: EADDRINUSE for a clash (a port of an edge listener in conf, a port
 * in use on the host, a pool port already taken), else a socket's errno.
 * Nothing is left open on failure. With no canary configured, 0 and *cp
 * NULL. */
int canary_open(struct canary **cp, struct event_base *base, const struct conf *conf,
                struct port_pool *pool, struct metrics_shard *shard, char *err, size_t err_len);
/* Closes the listeners and any connection being read (not recorded), and
 * gives the pool its ports back. NULL is fine. */
void canary_close(struct canary *c);

/* Visits the hits kept, oldest first, with that marker (NULL: all);
 * returns how many were visited. */
size_t canary_hits(const struct canary *c, const char *marker, canary_hit_h *h, void *arg);
/* The ports proto's canaries listen on, in the conf's order: their count,
 * and *ports (valid while c is open). 0 for a NULL c. */
size_t canary_ports(const struct canary *c, enum canary_proto proto, const uint16_t **ports);
/* The one observer, told of each hit once it is recorded (NULL: none). */
void canary_set_observer(struct canary *c, canary_hit_h *h, void *arg);

#endif
