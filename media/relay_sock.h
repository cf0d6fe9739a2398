/* Relayed transport addresses: sockets bound to a port of the shared pool
 * (relay_ports). Every relayed flow leaves from one of them, UDP or TCP. */
#ifndef EDGELAB_MEDIA_RELAY_SOCK_H
#define EDGELAB_MEDIA_RELAY_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media/portpool.h"

#define RELAY_SOCK_TRIES 16 /* pool ports tried when the host already uses one */

struct relay_sock_opts {
	int type;           /* SOCK_DGRAM or SOCK_STREAM */
	bool even, pair;    /* EVEN-PORT, and its R bit: the odd successor held too */
	uint16_t exact;     /* a port already taken (a RESERVATION-TOKEN's); 0: draw one */
	bool dont_fragment; /* UDP: DF set, no local fragmentation (RFC 8656 DONT-FRAGMENT) */
};

/* A non-blocking socket bound to ip (its port ignored) and a port of the
 * pool that no other socket holds (the bind proves it: without
 * SO_REUSEPORT). A TCP one then gets SO_REUSEPORT, so that the relay can
 * also connect out from the same address, and a reuseport program that
 * hands every incoming connection to it, never to a socket of another
 * process that joins the port later. *port receives the port, which
 * the caller releases to the pool after closing the socket (with pair, also
 * port + 1). 0, ENOSPC (pool full: 508), or the errno of socket/bind. */
int relay_sock_open(struct port_pool *pool, const struct sockaddr *ip,
                    const struct relay_sock_opts *o, int *fd, uint16_t *port);

/* A TCP socket bound to local (a relayed address, port included) with
 * SO_REUSEADDR/SO_REUSEPORT, connecting non-blocking to peer. 0 or errno. */
int relay_sock_connect(const struct sockaddr *local, const struct sockaddr *peer, int *fd);
/* Sets a socket's receive and send buffers to bytes, beyond net.core's
 * rmem_max / wmem_max when the process may (root, CAP_NET_ADMIN). */
void relay_sock_buffers(int fd, int bytes);

#endif
