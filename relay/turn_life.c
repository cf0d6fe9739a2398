/* The life of TURN allocations on one worker: creation (a port from the
 * shared pool, the quotas), lifetime timers, and release of everything an
 * allocation holds, whichever way it ends (expiry, LIFETIME 0, its TCP
 * connection closing, shutdown). Also the worker's TURN set-up. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/log.h"
#include "media/relay_sock.h"
#include "relay/turn_int.h"

int relay_shared_init(struct relay_shared *sh, const struct conf *conf)
{
	atomic_init(&sh->tcp_open, 0);
	atomic_init(&sh->tcp_listener_open, false);
	atomic_init(&sh->udp_claimed, false);
	atomic_init(&sh->sweeper_open, false);
	quota_init(&sh->quota);
	if (relay_metrics_register())
		return ENOSPC;
	if (RAND_bytes(sh->nonce_key, sizeof(sh->nonce_key)) != 1)
		return EIO;
	if (replay_init(&sh->replay, REPLAY_MAX))
		return ENOMEM;
	int rc = port_pool_alloc(&sh->pool, conf->relay_port_min, conf->relay_port_max);
	if (rc)
		replay_fini(&sh->replay);
	return rc;
}

static void release_port(uint16_t port, void *arg)
{
	port_pool_release(arg, port);
}

void relay_shared_fini(struct relay_shared *sh)
{
	if (sh->pool)
		quota_reservations_expire(&sh->quota, (time_t)1 << 62, release_port, sh->pool);
	quota_fini(&sh->quota);
	replay_fini(&sh->replay);
	port_pool_free(sh->pool);
	sh->pool = NULL;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct turn_alloc *a = arg;
	struct relay_server *s = a->table->owner;
	time_t now = time(NULL);
	if (now >= a->expires) {
		turn_alloc_destroy(s, a);
		return;
	}
	turn_alloc_sweep(a, now);
	time_t left = a->expires - now;
	struct timeval tv = {.tv_sec = left < 60 ? left : 60};
	evtimer_add(a->timer, &tv);
}

static const union turn_sa *relay_ip(struct relay_server *s, const struct turn_client *c,
                                     int family)
{
	if (family == AF_INET && s->conf->relay_address_set)
		return (const union turn_sa *)&s->conf->relay_address;
	if (family == AF_INET6 && s->conf->relay_address6_set)
		return (const union turn_sa *)&s->conf->relay_address6;
	return c->local.sa.sa_family == family ? &c->local : NULL;
}

/* The relayed socket's address (any port) for c, p: the reserved one of a
 * reservation token (which decides the family and IP, RFC 8656 section
 * 7.2), or the relay address of the family asked for. */
static int relayed_ip(struct relay_server *s, const struct turn_client *c,
                      const struct turn_alloc_params *p, time_t now, union turn_sa *any_port,
                      uint16_t *reserved_port)
{
	*reserved_port = 0;
	if (p->has_token) {
		if (quota_claim(&s->shared->quota, p->token, now, &any_port->in6))
			return ENOSPC;
		*reserved_port = addr_port(&any_port->sa);
		return 0;
	}
	const union turn_sa *ip = relay_ip(s, c, p->family);
	if (!ip)
		return EAFNOSUPPORT;
	turn_sa_set(any_port, &ip->sa);
	return 0;
}

/* The relayed socket's event: a UDP relay is read by the data path, a TCP
 * one listens for peers. */
static int relay_listen(struct relay_server *s, struct turn_alloc *a)
{
	if (a->relay_transport == TURN_TRANSPORT_TCP)
		return listen(a->relay_fd, 16) ? errno : turn_tcp_listen(s, a);
	relay_sock_buffers(a->relay_fd, UDP_RELAY_BUFFER);
	a->relay_ev = event_new(s->base, a->relay_fd, EV_READ | EV_PERSIST, turn_relay_read_cb, a);
	return !a->relay_ev || event_add(a->relay_ev, NULL) ? ENOMEM : 0;
}

/* Holds the odd port above an EVEN-PORT R allocation for a later Allocate;
 * token_out is zeroes when there is no room to hold it (the reply then has
 * no token). */
static void reserve_next(struct relay_server *s, const struct turn_alloc *a, time_t now,
                         uint8_t token_out[8])
{
	union turn_sa odd = a->relayed;
	uint16_t port = (uint16_t)(addr_port(&a->relayed.sa) + 1);
	addr_set_port(&odd.sa, port);
	if (quota_reserve(&s->shared->quota, &odd.sa, now, token_out)) {
		port_pool_release(s->shared->pool, port);
		memset(token_out, 0, 8);
	}
}

/* Opens a's relayed socket on ip (any port), at the reserved port when
 * there is one: 0, or ENOSPC (no port). */
static int relay_open(struct relay_server *s, struct turn_alloc *a,
                      const struct turn_alloc_params *p, const union turn_sa *ip, uint16_t reserved)
{
	int fd = -1;
	uint16_t port = 0;
	struct relay_sock_opts o = {
	    .type = p->relay_transport == TURN_TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM,
	    .even = p->even,
	    .pair = p->pair,
	    .dont_fragment = p->dont_fragment,
	    .exact = reserved,
	};
	if (relay_sock_open(s->shared->pool, &ip->sa, &o, &fd, &port))
		return ENOSPC;
	if (o.type == SOCK_DGRAM)
		turn_relay_recverr(fd, ip->sa.sa_family);
	a->relay_fd = fd;
	a->relay_transport = p->relay_transport;
	a->relayed = *ip;
	addr_set_port(&a->relayed.sa, port);
	return 0;
}

/* The table and the open-allocations gauge change together, so the gauge
 * goes down only for an allocation that went up with its insert, however
 * far turn_alloc_create got (test_turn fails one after the insert). */
static void table_add(struct relay_server *s, struct turn_alloc *a)
{
	turn_table_insert(&s->allocs, a);
	metrics_add(s->metrics, &metric_turn_allocations, 0, 1);
}

static void table_drop(struct relay_server *s, struct turn_alloc *a)
{
	if (!a->table)
		return;
	turn_table_remove(&s->allocs, a);
	metrics_add(s->metrics, &metric_turn_allocations, 0, -1);
}

int turn_alloc_create(struct relay_server *s, const struct turn_client *c,
                      const struct turn_alloc_params *p, struct turn_alloc **ap,
                      uint8_t token_out[8])
{
	time_t now = time(NULL);
	union turn_sa ip;
	uint16_t reserved = 0;
	struct turn_alloc *a = NULL;
	int rc = relayed_ip(s, c, p, now, &ip, &reserved);
	if (rc)
		return rc;
	rc = quota_take(&s->shared->quota, p->username, s->conf->turn_user_quota,
	                s->conf->turn_total_quota);
	if (rc) {
		rc = rc == EDQUOT ? EDQUOT : ENOSPC;
		goto out;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		quota_release(&s->shared->quota, p->username);
		rc = ENOMEM;
		goto out;
	}
	/* From here on turn_alloc_destroy releases whatever a holds: the quota
	 * (username), the socket and its port, the table entry, the events. */
	snprintf(a->username, sizeof(a->username), "%s", p->username);
	a->relay_fd = -1;
	rc = relay_open(s, a, p, &ip, reserved);
	if (rc)
		goto out;
	reserved = 0; /* the socket holds the reserved port now */
	if (p->pair)  /* held by a reservation that expires on its own */
		reserve_next(s, a, now, token_out);
	a->client = c->src;
	a->local = c->local;
	a->client_transport = c->transport;
	a->client_conn = c->conn;
	memcpy(a->key, p->key, sizeof(a->key));
	memcpy(a->tid, p->tid, sizeof(a->tid));
	table_add(s, a);
	a->timer = evtimer_new(s->base, timer_cb, a);
	rc = a->timer ? relay_listen(s, a) : ENOMEM;
	if (rc)
		goto out;
	turn_alloc_set_lifetime(s, a, p->lifetime);
	metrics_inc(s->metrics, &metric_turn_allocations_total, 0);
	*ap = a;
	a = NULL;
out:
	if (reserved)
		port_pool_release(s->shared->pool, reserved);
	if (a)
		turn_alloc_destroy(s, a);
	return rc;
}

void turn_alloc_set_lifetime(struct relay_server *s, struct turn_alloc *a, uint32_t seconds)
{
	(void)s;
	a->expires = time(NULL) + seconds;
	struct timeval tv = {.tv_sec = seconds < 60 ? seconds : 60};
	evtimer_add(a->timer, &tv);
}

void turn_alloc_destroy(struct relay_server *s, struct turn_alloc *a)
{
	table_drop(s, a);
	turn_tcp_alloc_gone(s, a);
	msturn_tcp_alloc_gone(s, a);
	if (a->relay_ev)
		event_free(a->relay_ev);
	if (a->timer)
		event_free(a->timer);
	if (a->relay_listener)
		evconnlistener_free(a->relay_listener); /* closes relay_fd */
	else if (a->relay_fd >= 0)
		close(a->relay_fd);
	if (a->relay_fd >= 0)
		port_pool_release(s->shared->pool, addr_port(&a->relayed.sa));
	quota_release(&s->shared->quota, a->username);
	turn_alloc_clear(a);
	free(a);
}

void turn_conn_closed(struct relay_server *s, struct relay_conn *conn, const union turn_sa *client)
{
	turn_tcp_conn_gone(s, conn);
	/* A connection is one 5-tuple: at most one allocation, found directly. */
	struct turn_alloc *a = turn_table_find(&s->allocs, client, TURN_TRANSPORT_TCP, conn);
	if (a)
		turn_alloc_destroy(s, a);
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct relay_server *s = arg;
	quota_reservations_expire(&s->shared->quota, time(NULL), release_port, s->shared->pool);
}

/* The worker's policy from its conf: built-in denials, loopback when
 * allowed, then the rules in order. A rule the conf parser accepted cannot
 * fail here; should one, the old policy stays. */
void turn_server_set_conf(struct relay_server *s)
{
	struct policy *p;
	const struct conf *conf = s->conf;
	if (policy_alloc(&p))
		return;
	int rc = 0;
	if (conf->allow_loopback_peers)
		rc = policy_add(p, true, "127.0.0.0/8") || policy_add(p, true, "::1");
	for (size_t i = 0; !rc && i < conf->n_peer_rules; i++)
		rc = policy_add(p, conf->peer_rules[i].allow, conf->peer_rules[i].cidr);
	if (rc) {
		log_error("relay: peer policy rejected, the old one stays");
		policy_free(p);
		return;
	}
	policy_free(s->policy);
	s->policy = p;
}

int turn_server_open(struct relay_server *s)
{
	s->allocs.owner = s;
	LIST_INIT(&s->tcp_peers);
	turn_server_set_conf(s);
	s->to_client_ev = event_new(s->base, -1, 0, turn_to_client_cb, s);
	if (!s->policy || !s->to_client_ev || turn_data_open(s))
		return ENOMEM;
	/* Reservations are shared: one worker's timer expires them all. */
	if (atomic_exchange(&s->shared->sweeper_open, true))
		return 0;
	s->sweep_ev = event_new(s->base, -1, EV_PERSIST, sweep_cb, s);
	struct timeval one = {.tv_sec = 1};
	if (!s->sweep_ev || event_add(s->sweep_ev, &one))
		return ENOMEM;
	return 0;
}

void turn_server_close(struct relay_server *s)
{
	for (size_t b = 0; b < TURN_TABLE_BUCKETS; b++)
		while (s->allocs.bucket[b])
			turn_alloc_destroy(s, s->allocs.bucket[b]);
	if (s->sweep_ev) {
		event_free(s->sweep_ev);
		atomic_store(&s->shared->sweeper_open, false);
	}
	s->sweep_ev = NULL;
	if (s->to_client_ev)
		event_free(s->to_client_ev);
	s->to_client_ev = NULL;
	turn_data_close(s);
	policy_free(s->policy);
	s->policy = NULL;
}
