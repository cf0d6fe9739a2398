/* The canaries (canary/canary.h): their address, the checks before any
 * socket is opened, the relay pool's ports, and the hits. */
#include "canary/canary.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canary/canary_int.h"
#include "core/addr.h"

struct canary {
	struct canary_hits hits;
	struct canary_tcp *tcp;
	struct canary_udp *udp;
	struct port_pool *pool;
	uint16_t taken[2 * CONF_PORTS_MAX]; /* pool ports to give back */
	size_t n_taken;
	struct conf_ports ports[2]; /* by enum canary_proto: what listens */
};

/* canary_address, else the STUN/UDP listener's address (the A/V edge's
 * access address), else the IPv4 wildcard. */
static void canary_addr(const struct conf *conf, struct sockaddr_storage *ss)
{
	if (conf->canary_address_set)
		*ss = conf->canary_address;
	else if (conf->stun_udp_enabled)
		*ss = conf->stun_udp_listen;
	else
		addr_parse("0.0.0.0", 0, ss);
	addr_set_port((struct sockaddr *)ss, 0);
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Whether a listener at b would take port on canary address a. */
static bool overlaps(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
                     uint16_t port)
{
	struct sockaddr_storage x = *a, y = *b;
	if (addr_port((const struct sockaddr *)b) != port)
		return false;
	addr_set_port((struct sockaddr *)&x, 0);
	addr_set_port((struct sockaddr *)&y, 0);
	return is_wildcard(&x) || is_wildcard(&y) ||
	       addr_equal((struct sockaddr *)&x, (struct sockaddr *)&y);
}

/* A canary port one of the edge's own listeners has: a clear error now,
 * rather than a bind error from whichever of the two comes second. */
static int clash_with_listeners(const struct conf *conf, const struct sockaddr_storage *addr,
                                char *err, size_t err_len)
{
	const struct {
		const char *key;
		bool on, tcp;
		const struct sockaddr_storage *at;
	} ls[] = {
	    {"stun_udp_listen", conf->stun_udp_enabled, false, &conf->stun_udp_listen},
	    {"stun_tcp_listen", conf->stun_tcp_enabled, true, &conf->stun_tcp_listen},
	    {"msturn_tls_listen", conf->msturn_tls_enabled, true, &conf->msturn_tls_listen},
	    {"sip_tls_listen", conf->sip_tls_enabled, true, &conf->sip_tls_listen},
	    {"sip_mtls_listen", conf->sip_mtls_enabled, true, &conf->sip_mtls_listen},
	};
	for (size_t i = 0; i < sizeof(ls) / sizeof(ls[0]); i++) {
		const struct conf_ports *ps = ls[i].tcp ? &conf->canary_tcp : &conf->canary_udp;
		for (size_t j = 0; ls[i].on && j < ps->n; j++) {
			if (!overlaps(addr, ls[i].at, ps->port[j]))
				continue;
			snprintf(err, err_len, "canary_%s %u: the port of %s",
			         ls[i].tcp ? "tcp" : "udp", ps->port[j], ls[i].key);
			return EADDRINUSE;
		}
	}
	return 0;
}

/* Takes each canary port that lies in the pool out of it (once, when it is
 * both a TCP and a UDP canary: the pool's ports serve both). */
static int take_from_pool(struct canary *c, const struct conf *conf, char *err, size_t err_len)
{
	const struct conf_ports *lists[] = {&conf->canary_tcp, &conf->canary_udp};
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			uint16_t port = lists[l]->port[i];
			bool had = false;
			for (size_t j = 0; j < c->n_taken; j++)
				had |= c->taken[j] == port;
			int rc = had ? 0 : port_pool_take_exact(c->pool, port);
			if (rc == EINVAL)
				continue; /* outside the pool's range */
			if (rc) {
				snprintf(err, err_len,
				         "canary_%s %u: relay pool port already in use: %s",
				         l ? "udp" : "tcp", port, strerror(rc));
				return rc;
			}
			if (!had)
				c->taken[c->n_taken++] = port;
		}
	}
	return 0;
}

/* A listener per port, TCP then UDP; err names the one that failed. */
static int open_listeners(struct canary *c, struct event_base *base, const struct conf *conf,
                          const struct sockaddr_storage *addr, char *err, size_t err_len)
{
	int rc = canary_tcp_alloc(&c->tcp, base, &c->hits);
	if (!rc)
		rc = canary_udp_alloc(&c->udp, base, &c->hits);
	if (rc) {
		snprintf(err, err_len, "canary: %s", strerror(rc));
		return rc;
	}
	for (int udp = 0; udp < 2; udp++) {
		const struct conf_ports *ps = udp ? &conf->canary_udp : &conf->canary_tcp;
		for (size_t i = 0; i < ps->n; i++) {
			struct sockaddr_storage at = *addr;
			char where[ADDR_STR_MAX];
			rc = udp ? canary_udp_add(c->udp, addr, ps->port[i])
			         : canary_tcp_add(c->tcp, addr, ps->port[i]);
			if (!rc)
				continue;
			addr_set_port((struct sockaddr *)&at, ps->port[i]);
			snprintf(err, err_len, "canary %s %s: %s", udp ? "udp" : "tcp",
			         addr_str((struct sockaddr *)&at, where, sizeof(where)),
			         strerror(rc));
			return rc;
		}
	}
	return 0;
}

int canary_open(struct canary **cp, struct event_base *base, const struct conf *conf,
                struct port_pool *pool, struct metrics_shard *shard, char *err, size_t err_len)
{
	struct sockaddr_storage addr;
	struct canary *c;
	int rc;
	if (!cp || !base || !conf)
		return EINVAL;
	*cp = NULL;
	if (!conf->canary_tcp.n && !conf->canary_udp.n)
		return 0;
	canary_addr(conf, &addr);
	rc = clash_with_listeners(conf, &addr, err, err_len);
	if (rc)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, err_len, "canary: %s", strerror(ENOMEM));
		return ENOMEM;
	}
	canary_hits_init(&c->hits, shard);
	c->pool = pool;
	c->ports[CANARY_TCP] = conf->canary_tcp;
	c->ports[CANARY_UDP] = conf->canary_udp;
	rc = pool ? take_from_pool(c, conf, err, err_len) : 0;
	if (!rc)
		rc = open_listeners(c, base, conf, &addr, err, err_len);
	if (rc) {
		canary_close(c);
		return rc;
	}
	*cp = c;
	return 0;
}

void canary_close(struct canary *c)
{
	if (!c)
		return;
	canary_udp_free(c->udp);
	canary_tcp_free(c->tcp);
	for (size_t i = 0; i < c->n_taken; i++)
		port_pool_release(c->pool, c->taken[i]);
	free(c);
}

size_t canary_hits(const struct canary *c, const char *marker, canary_hit_h *h, void *arg)
{
	return c ? canary_hits_each(&c->hits, marker, h, arg) : 0;
}

size_t canary_ports(const struct canary *c, enum canary_proto proto, const uint16_t **ports)
{
	if (!c || (proto != CANARY_TCP && proto != CANARY_UDP)) {
		*ports = NULL;
		return 0;
	}
	*ports = c->ports[proto].port;
	return c->ports[proto].n;
}

void canary_set_observer(struct canary *c, canary_hit_h *h, void *arg)
{
	if (!c)
		return;
	c->hits.observer = h;
	c->hits.observer_arg = arg;
}
