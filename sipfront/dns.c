/* sipfront/dns.h: c-ares on a libevent base. c-ares says which sockets it
 * wants watched (ARES_OPT_SOCK_STATE_CB) and when it next needs the clock
 * (ares_timeout); each watched socket is an event, the clock one timer, and
 * both hand what happened back to ares_process_fd. The lookups are
 * dns_lookup.c's. */
#include "sipfront/dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <pthread.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "sipfront/dns_int.h"

/* Each query is sent twice; c-ares doubles the wait for the second try, so
 * 667 ms then 1333 ms: a silent server costs a query 2 s, as in resolve.c. */
#define TRY_MS 667
#define TRIES  2

void sip_dns_rearm(struct sip_dns *d)
{
	struct timeval tv, *t = ares_timeout(d->ch, NULL, &tv);
	if (t)
		evtimer_add(d->timer, t);
	else
		evtimer_del(d->timer);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct sip_dns *d = arg;
	ares_process_fd(d->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	                (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	sip_dns_rearm(d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sip_dns *d = arg;
	(void)fd;
	(void)what;
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	sip_dns_rearm(d);
}

/* c-ares opens, closes or changes what it waits for on a socket. A socket
 * with no slot left is not watched: its queries end by the timer. */
static void socket_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct sip_dns *d = data;
	struct sip_dns_watched *w = NULL, *free_slot = NULL;
	for (size_t i = 0; i < SIP_DNS_SOCKETS_MAX; i++) {
		if (d->socks[i].ev && d->socks[i].fd == fd)
			w = &d->socks[i];
		else if (!d->socks[i].ev && !free_slot)
			free_slot = &d->socks[i];
	}
	if (w) {
		event_free(w->ev);
		w->ev = NULL;
	}
	if (!readable && !writable)
		return;
	w = w ? w : free_slot;
	if (!w)
		return;
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) | EV_PERSIST);
	w->fd = fd;
	w->ev = event_new(d->base, fd, what, on_socket, d);
	if (w->ev && event_add(w->ev, NULL)) {
		event_free(w->ev);
		w->ev = NULL;
	}
}

static int use_server(struct sip_dns *d, const struct sockaddr *sa)
{
	struct ares_addr_port_node node = {.family = sa->sa_family};
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		node.addr.addr4 = sin->sin_addr;
		node.udp_port = node.tcp_port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(&node.addr.addr6, &sin6->sin6_addr, sizeof(node.addr.addr6));
		node.udp_port = node.tcp_port = ntohs(sin6->sin6_port);
	}
	return ares_set_servers_ports(d->ch, &node) == ARES_SUCCESS ? 0 : ENOMEM;
}

/* ares_library_init: once per process, before any channel, whichever
 * thread opens the first resolver. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_status;

static void library_init(void)
{
	library_status = ares_library_init(ARES_LIB_INIT_ALL);
}

int sip_dns_open(struct sip_dns **dp, struct event_base *base, const struct sockaddr *server,
                 char *err, size_t err_len)
{
	*dp = NULL;
	if (server && server->sa_family != AF_INET && server->sa_family != AF_INET6) {
		snprintf(err, err_len, "the DNS server is neither IPv4 nor IPv6");
		return EINVAL;
	}
	if (server && server->sa_family == AF_INET6 &&
	    ((const struct sockaddr_in6 *)server)->sin6_scope_id != 0) {
		snprintf(err, err_len, "a link-local DNS server (with a scope) is not supported");
		return EINVAL;
	}
	pthread_once(&library_once, library_init);
	if (library_status != ARES_SUCCESS) {
		snprintf(err, err_len, "c-ares: %s", ares_strerror(library_status));
		return ENOMEM;
	}
	struct sip_dns *d = calloc(1, sizeof(*d));
	if (!d || !(d->timer = evtimer_new(base, on_timer, d))) {
		free(d);
		snprintf(err, err_len, "out of memory");
		return ENOMEM;
	}
	d->base = base;
	if (server)
		addr_str(server, d->server, sizeof(d->server));
	else
		snprintf(d->server, sizeof(d->server), "the system resolver");
	/* A SERVFAIL, REFUSED or NOTIMP is the answer to report: without this
	 * c-ares moves on to a next server and, with none left, says
	 * "connection refused". The cost: resolv.conf's second server is not
	 * asked after such an answer from the first. */
	struct ares_options o = {.flags = ARES_FLAG_NOCHECKRESP,
	                         .timeout = TRY_MS,
	                         .tries = TRIES,
	                         .sock_state_cb = socket_state,
	                         .sock_state_cb_data = d};
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
#ifdef ARES_OPT_QUERY_CACHE
	/* c-ares 1.23 and later cache answers by their TTL: a partner is looked
	 * up afresh each time (as resolve.c does), so that a changed record or
	 * a firewall that now drops DNS shows at once. */
	o.qcache_max_ttl = 0;
	mask |= ARES_OPT_QUERY_CACHE;
#endif
	int status = ares_init_options(&d->ch, &o, mask);
	int rc = status == ARES_SUCCESS ? 0 : ENOMEM;
	if (rc)
		snprintf(err, err_len, "c-ares: %s", ares_strerror(status));
	else if (server && (rc = use_server(d, server)))
		snprintf(err, err_len, "c-ares: cannot use %s", d->server);
	if (rc) {
		if (status == ARES_SUCCESS)
			ares_destroy(d->ch);
		event_free(d->timer);
		free(d);
		return rc;
	}
	*dp = d;
	return 0;
}

void sip_dns_free_events(struct sip_dns *d)
{
	for (size_t i = 0; i < SIP_DNS_SOCKETS_MAX; i++)
		if (d->socks[i].ev)
			event_free(d->socks[i].ev);
	event_free(d->timer);
	free(d);
}
