/* The relay's port pool (relay_ports, 50000-59999 by default): the one
 * structure every worker shares (docs/architecture.md), behind a mutex that is taken
 * only to allocate or release, never on the packet path. Ports are handed
 * out from a random starting point (RFC 8656 section 7.2: relayed ports
 * should be hard to guess). */
#ifndef EDGELAB_MEDIA_PORTPOOL_H
#define EDGELAB_MEDIA_PORTPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct port_pool;

/* min..max inclusive, min <= max. 0, EINVAL or ENOMEM. */
int port_pool_alloc(struct port_pool **pp, uint16_t min, uint16_t max);
void port_pool_free(struct port_pool *p);

/* A free port; with even, an even one (EVEN-PORT); with pair, also its odd
 * successor, reserved together (EVEN-PORT with the R bit: RTP and RTCP).
 * 0 and *port, or ENOSPC when none is left (the caller answers 508). */
int port_pool_take(struct port_pool *p, bool even, bool pair, uint16_t *port);
/* Takes a specific port (a RESERVATION-TOKEN's). 0, or EADDRINUSE / EINVAL. */
int port_pool_take_exact(struct port_pool *p, uint16_t port);
/* Gives a port back; releasing a port that is not taken is a no-op. */
void port_pool_release(struct port_pool *p, uint16_t port);
size_t port_pool_in_use(struct port_pool *p);
/* The port is in the pool's range (taken or not). */
bool port_pool_contains(const struct port_pool *p, uint16_t port);
size_t port_pool_size(const struct port_pool *p);

#endif
