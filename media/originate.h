/* Flows the edge starts itself from its relay port range (rows 4 and 5 of
 * the port table: the edge's *source* ports are 50000-59999). Each flow takes
 * a port from the shared pool, binds it, sends the caller's bytes to the
 * target and gives the port back when it ends:
 *   UDP  one datagram, then a wait for one datagram back (row 5: a STUN
 *        Binding request and its answer);
 *   TCP  a non-blocking connect, the bytes, then a wait for the far side to
 *        close (row 4: RTP framed per RFC 4571), so that TIME_WAIT stays
 *        with the far side and the port is free to use again at once.
 * Everything runs on the caller's event_base and never blocks it; every
 * flow ends by its deadline (wait_ms). The module never logs: the done
 * handler gets the outcome and the caller logs it. Protocol content (STUN,
 * RTP) is the caller's; this module is transport only. */
#ifndef EDGELAB_MEDIA_ORIGINATE_H
#define EDGELAB_MEDIA_ORIGINATE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/sockerr.h"
#include "media/portpool.h"

#define ORIGINATE_MAX_FLOWS  64   /* in flight at once; more is EBUSY */
#define ORIGINATE_MAX_DATA   4096 /* bytes a flow sends */
#define ORIGINATE_PORT_TRIES 16   /* ports drawn from a caller's range (EADDRINUSE) */

struct originator;

struct originate_result {
	/* 0, ETIMEDOUT, ECONNREFUSED (an RST, or ICMP port unreachable),
	 * EHOSTUNREACH & co (ICMP), ECANCELED, ... Every flow's socket has
	 * IP_RECVERR (IPV6_RECVERR): when it failed with an ICMP or ICMPv6
	 * error, icmp is set and icmp_err says which and from whom; a refused
	 * TCP connect without it was an RST. */
	int err;
	bool icmp;
	struct sockerr_icmp icmp_err;
	uint16_t port;                 /* the port the flow left from */
	struct sockaddr_storage local; /* its whole source address (getsockname) */
	/* UDP: the first datagram back from the target (err 0), else NULL. It
	 * lives until the handler returns. */
	const uint8_t *reply;
	size_t reply_len;
	/* TCP: connected; every byte handed to the kernel; the far side closed
	 * after that (the clean end). err is 0 once sent, even when the far
	 * side did not close by the deadline. The stage a timeout came at: TCP
	 * not connected (no SYN-ACK), connected but not sent; UDP sent is set
	 * once the datagram went out (a timeout: no answer). */
	bool connected, sent, peer_closed;
};

/* Called exactly once per started flow, after the flow is gone (so it may
 * start another); with ECANCELED when the originator is freed first. */
typedef void(originate_done_h)(const struct originate_result *res, void *arg);

/* bind: the address flows leave from (its port is ignored; a wildcard lets
 * the kernel choose, and serves targets of either family). The pool is
 * shared with the relay and must outlive the originator. 0, EINVAL, ENOMEM. */
int originator_alloc(struct originator **op, struct event_base *base, struct port_pool *pool,
                     const struct sockaddr_storage *bind, unsigned wait_ms);
/* Ends every flow in flight (sockets closed, ports released, handlers
 * called with ECANCELED). NULL is fine. */
void originator_free(struct originator *o);
size_t originator_in_flight(const struct originator *o);

/* Start a flow to target. On 0 the flow is under way, *port is its source
 * port and done will be called; otherwise nothing is left behind and done
 * is not called: EINVAL (bad arguments, len 0 or over ORIGINATE_MAX_DATA),
 * EAFNOSUPPORT (target family not reachable from the bind address), ENOSPC
 * (the pool is full), EBUSY (ORIGINATE_MAX_FLOWS in flight), or the errno
 * of binding, connecting or sending. */
int originate_udp(struct originator *o, const struct sockaddr_storage *target, const void *data,
                  size_t len, originate_done_h *done, void *arg, uint16_t *port);
int originate_tcp(struct originator *o, const struct sockaddr_storage *target, const void *data,
                  size_t len, originate_done_h *done, void *arg, uint16_t *port);
/* The same TCP flow from a source port of min..max instead of the pool
 * (the strict mode's negatives: a port the firewall must not let out). The
 * port is drawn at random and bound explicitly, never left to the kernel
 * (whose ephemeral range may overlap the relay's); a port of the pool is
 * never drawn, and a port in use is drawn again, ORIGINATE_PORT_TRIES times
 * in all (then EADDRINUSE). Counts against ORIGINATE_MAX_FLOWS. */
int originate_tcp_range(struct originator *o, const struct sockaddr_storage *target,
                        const void *data, size_t len, uint16_t min, uint16_t max,
                        originate_done_h *done, void *arg, uint16_t *port);

#endif
