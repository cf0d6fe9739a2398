/* Inside the canary module: the hit ring (hits.c), the listeners (tcp.c,
 * udp.c) and their sockets (sock.c), the metric family (metrics.c).
 * Nothing outside canary/ includes this but its white-box unit test. */
#ifndef EDGELAB_CANARY_CANARY_INT_H
#define EDGELAB_CANARY_CANARY_INT_H

#include <stdbool.h>

#include "canary/canary.h"

extern struct metric_family metric_canary_hits_total; /* by enum canary_proto */

/* The hits kept: a ring of the last CANARY_HITS_MAX, ids counting up. */
struct canary_hits {
	struct canary_hit ring[CANARY_HITS_MAX]; /* hit id lives in slot (id - 1) % MAX */
	size_t count;                            /* kept, at most CANARY_HITS_MAX */
	uint64_t last_id;                        /* 0: none yet */
	struct metrics_shard *shard;             /* NULL: not counted */
	canary_hit_h *observer;
	void *observer_arg;
};

void canary_hits_init(struct canary_hits *h, struct metrics_shard *shard);
/* Records a hit from its first bytes (at_end: no more will come, see
 * canary_marker_find), logs and counts it, tells the observer; returns it
 * (valid until the next hit). */
const struct canary_hit *canary_hits_record(struct canary_hits *h, enum canary_proto proto,
                                            uint16_t port, const struct sockaddr *src, uint64_t ms,
                                            const uint8_t *bytes, size_t len, bool at_end);
/* Oldest first, with that marker (NULL: all); returns how many. */
size_t canary_hits_each(const struct canary_hits *h, const char *marker, canary_hit_h *fn,
                        void *arg);
uint64_t canary_now_ms(void);

/* A non-blocking socket of type bound to addr's IP and port (TCP: also
 * listening). 0 or an errno. */
int canary_bind(int type, const struct sockaddr_storage *addr, uint16_t port, int *fdp);

/* Every TCP canary and the connections being read; every UDP canary. An
 * add opens one more listener on addr's IP and port: 0 or an errno, and
 * nothing is left of that listener on failure. */
struct canary_tcp;
struct canary_udp;
int canary_tcp_alloc(struct canary_tcp **tp, struct event_base *base, struct canary_hits *hits);
int canary_tcp_add(struct canary_tcp *t, const struct sockaddr_storage *addr, uint16_t port);
void canary_tcp_free(struct canary_tcp *t);
int canary_udp_alloc(struct canary_udp **up, struct event_base *base, struct canary_hits *hits);
int canary_udp_add(struct canary_udp *u, const struct sockaddr_storage *addr, uint16_t port);
void canary_udp_free(struct canary_udp *u);

#endif
