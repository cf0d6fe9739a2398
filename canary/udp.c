/* The UDP canaries (canary/canary_int.h): each datagram is a hit; nothing
 * is ever sent back. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "canary/canary_int.h"

#define BATCH 64 /* datagrams read per wake-up, so that a flood cannot starve the loop */

struct udp_sock {
	struct canary_udp *owner;
	struct event *ev;
	evutil_socket_t fd;
	uint16_t port;
};

struct canary_udp {
	struct event_base *base;
	struct canary_hits *hits;
	struct udp_sock socks[CONF_PORTS_MAX];
	size_t n_socks;
};

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *s = arg;
	(void)what;
	for (int i = 0; i < BATCH; i++) {
		uint8_t buf[CANARY_READ_MAX];
		struct sockaddr_storage src;
		socklen_t srclen = sizeof(src);
		/* MSG_TRUNC: the datagram's real length, to tell whether a
		 * marker reaching the end of buf is cut. */
		ssize_t n =
		    recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&src, &srclen);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error queued for the socket */
		canary_hits_record(s->owner->hits, CANARY_UDP, s->port, (struct sockaddr *)&src,
		                   canary_now_ms(), buf,
		                   (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf),
		                   (size_t)n <= sizeof(buf));
	}
}

int canary_udp_alloc(struct canary_udp **up, struct event_base *base, struct canary_hits *hits)
{
	struct canary_udp *u = calloc(1, sizeof(*u));
	if (!u)
		return ENOMEM;
	u->base = base;
	u->hits = hits;
	*up = u;
	return 0;
}

int canary_udp_add(struct canary_udp *u, const struct sockaddr_storage *addr, uint16_t port)
{
	struct udp_sock *s = &u->socks[u->n_socks];
	int rc =
	    u->n_socks == CONF_PORTS_MAX ? ENOSPC : canary_bind(SOCK_DGRAM, addr, port, &s->fd);
	if (rc)
		return rc;
	s->owner = u;
	s->port = port;
	s->ev = event_new(u->base, s->fd, EV_READ | EV_PERSIST, read_cb, s);
	if (!s->ev || event_add(s->ev, NULL)) {
		if (s->ev)
			event_free(s->ev);
		close(s->fd);
		return ENOMEM;
	}
	u->n_socks++;
	return 0;
}

void canary_udp_free(struct canary_udp *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_socks; i++) {
		event_free(u->socks[i].ev);
		close(u->socks[i].fd);
	}
	free(u);
}
