/* sipfront/dns.h: c-ares on a libevent base. c-ares says which sockets it
 * wants watched (ARES_OPT_SOCK_STATE_CB) and when it next needs the clock
 * (ares_timeout); each watched socket is an event, the clock one timer, and
 * both hand what happened back to ares_process_fd. A lookup is an SRV query,
 * then an A and an AAAA query per target, all of the latter at once; it
 * ends when its last query has, and its callback runs from an event of its
 * own, so never inside sip_dns_partner. */
#include "sipfront/dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/conf.h"

#define SRV_PREFIX "_sipfederationtls._tcp."
/* The query name must stay a DNS name (253 characters). */
#define DOMAIN_MAX (CONF_NAME_MAX - (sizeof(SRV_PREFIX) - 1))
/* Each query is sent twice; c-ares doubles the wait for the second try, so
 * 667 ms then 1333 ms: a silent server costs a query 2 s, as in resolve.c. */
#define TRY_MS      667
#define TRIES       2
#define SOCKETS_MAX 16 /* sockets c-ares may have open at once (UDP and TCP per server) */
#define C_IN        1
#define T_A         1
#define T_AAAA      28
#define T_SRV       33
#define ERR_MAX     512 /* "SRV ", a 253-character name, then the reason */

struct watched {
	ares_socket_t fd;
	struct event *ev; /* NULL: the slot is free */
};

struct sip_dns {
	struct event_base *base;
	ares_channel ch;
	struct event *timer;
	struct watched socks[SOCKETS_MAX];
	struct sip_dns_lookup *lookups; /* every lookup not yet freed */
	char server[ADDR_STR_MAX];      /* for messages */
};

/* One SRV target and what its A and AAAA queries found. */
struct target {
	char host[254];
	uint16_t prio, weight, port;
	struct sip_target found[2][SIP_RESOLVE_MAX]; /* [0] A, [1] AAAA */
	size_t n[2];
};

/* What a per-target query's callback needs: its lookup, target and type. */
struct query {
	struct sip_dns_lookup *l;
	size_t target;
	int family; /* 0: A, 1: AAAA */
};

struct sip_dns_lookup {
	struct sip_dns *d;
	struct sip_dns_lookup *next;
	sip_dns_done_h *done;
	void *arg;
	bool cancelled;
	struct event *fire; /* runs done once every query has ended */
	char qname[CONF_NAME_MAX + 1];
	struct target targets[SIP_RESOLVE_MAX];
	size_t count;
	struct query queries[SIP_RESOLVE_MAX][2];
	unsigned outstanding;
	int rc; /* the first error that is not ENOENT, or ENOENT, or 0 */
	char err[ERR_MAX];
	struct sip_target out[SIP_RESOLVE_MAX];
	size_t n_out;
};

static void rearm(struct sip_dns *d)
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
	rearm(d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sip_dns *d = arg;
	(void)fd;
	(void)what;
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(d);
}

/* c-ares opens, closes or changes what it waits for on a socket. A socket
 * with no slot left is not watched: its queries end by the timer. */
static void socket_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct sip_dns *d = data;
	struct watched *w = NULL, *free_slot = NULL;
	for (size_t i = 0; i < SOCKETS_MAX; i++) {
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
	int status = ares_init_options(&d->ch, &o,
	                               ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	                                   ARES_OPT_SOCK_STATE_CB);
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

static void lookup_free(struct sip_dns_lookup *l)
{
	struct sip_dns_lookup **p = &l->d->lookups;
	while (*p && *p != l)
		p = &(*p)->next;
	if (*p)
		*p = l->next;
	event_free(l->fire);
	free(l);
}

void sip_dns_close(struct sip_dns *d)
{
	if (!d)
		return;
	/* Every query ends now (ARES_EDESTRUCTION); no callback of ours runs
	 * after this, as the lookups go with their events. */
	ares_destroy(d->ch);
	while (d->lookups)
		lookup_free(d->lookups);
	for (size_t i = 0; i < SOCKETS_MAX; i++)
		if (d->socks[i].ev)
			event_free(d->socks[i].ev);
	event_free(d->timer);
	free(d);
}

/* The first error that is not "nothing there" is the one told. */
static void lookup_fail(struct sip_dns_lookup *l, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lookup_fail(struct sip_dns_lookup *l, int rc, const char *fmt, ...)
{
	if (l->rc && l->rc != ENOENT)
		return;
	if (l->rc == ENOENT && rc == ENOENT)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	l->rc = rc;
}

static const char *type_name(int type)
{
	return type == T_SRV ? "SRV" : type == T_A ? "A" : "AAAA";
}

/* The DNS response code a c-ares status stands for, as resolve.c names it. */
static const char *rcode_name(int status)
{
	switch (status) {
	case ARES_EFORMERR:
		return "FORMERR";
	case ARES_ESERVFAIL:
		return "SERVFAIL";
	case ARES_ENOTIMP:
		return "NOTIMP";
	case ARES_EREFUSED:
		return "REFUSED";
	default:
		return "nothing usable";
	}
}

/* A failed query, in resolve.h's classes and words. */
static int query_failed(struct sip_dns_lookup *l, int status, const char *name, int type)
{
	const char *server = l->d->server;
	switch (status) {
	case ARES_ENOTFOUND:
		lookup_fail(l, ENOENT, "%s %s: no such name (NXDOMAIN from %s)", type_name(type),
		            name, server);
		return ENOENT;
	case ARES_ENODATA:
		lookup_fail(l, ENOENT, "%s %s: no such record at %s", type_name(type), name,
		            server);
		return ENOENT;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
		lookup_fail(l, ETIMEDOUT, "%s %s: no answer from %s (%s)", type_name(type), name,
		            server, status == ARES_ETIMEOUT ? "timed out" : "port unreachable");
		return ETIMEDOUT;
	case ARES_ENOMEM:
		lookup_fail(l, ENOMEM, "%s %s: out of memory", type_name(type), name);
		return ENOMEM;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return ECANCELED;
	default:
		lookup_fail(l, EIO, "%s %s: %s answered %s", type_name(type), name, server,
		            rcode_name(status));
		return EIO;
	}
}

/* Every query has ended: the targets' addresses in SRV order, A before AAAA,
 * then the callback from the loop. */
static void lookup_end(struct sip_dns_lookup *l)
{
	for (size_t i = 0; i < l->count; i++)
		for (int f = 0; f < 2; f++)
			for (size_t k = 0; k < l->targets[i].n[f] && l->n_out < SIP_RESOLVE_MAX;
			     k++)
				l->out[l->n_out++] = l->targets[i].found[f][k];
	if (l->n_out == 0 && l->count > 0)
		lookup_fail(l, ENOENT, "no A or AAAA record for %s%s at %s", l->targets[0].host,
		            l->count > 1 ? " nor the other SRV targets" : "", l->d->server);
	event_active(l->fire, EV_TIMEOUT, 0);
}

static void on_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sip_dns_lookup *l = arg;
	(void)fd;
	(void)what;
	if (!l->cancelled) {
		int rc = l->n_out ? 0 : l->rc ? l->rc : ENOENT;
		l->done(rc, l->out, rc ? 0 : l->n_out, rc ? l->err : "", l->arg);
	}
	lookup_free(l);
}

/* The A (family 0) or AAAA records of an answer, as t's addresses with
 * its port and name. -1 when the answer does not parse. */
static int addrs_parse(int family, const unsigned char *abuf, int alen, struct target *t)
{
	struct ares_addrttl a4[SIP_RESOLVE_MAX];
	struct ares_addr6ttl a6[SIP_RESOLVE_MAX];
	int n = SIP_RESOLVE_MAX;
	if ((family ? ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n)
	            : ares_parse_a_reply(abuf, alen, NULL, a4, &n)) != ARES_SUCCESS)
		return -1;
	for (int i = 0; i < n; i++) {
		struct sip_target *out = &t->found[family][i];
		memset(out, 0, sizeof(*out));
		if (family) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, &a6[i].ip6addr, sizeof(sin6->sin6_addr));
		} else {
			struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
			sin->sin_family = AF_INET;
			sin->sin_addr = a4[i].ipaddr;
		}
		addr_set_port((struct sockaddr *)&out->addr, t->port);
		snprintf(out->host, sizeof(out->host), "%s", t->host);
	}
	t->n[family] = (size_t)n;
	return 0;
}

static void on_address(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct sip_dns_lookup *l = q->l;
	struct target *t = &l->targets[q->target];
	int type = q->family ? T_AAAA : T_A;
	(void)timeouts;
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA)
		; /* a target without this family: skipped, as resolve.c does */
	else if (status != ARES_SUCCESS)
		query_failed(l, status, t->host, type);
	else if (addrs_parse(q->family, abuf, alen, t))
		query_failed(l, ARES_EBADRESP, t->host, type);
	if (--l->outstanding == 0 && status != ARES_EDESTRUCTION && status != ARES_ECANCELLED)
		lookup_end(l);
}

/* Keeps targets sorted (priority up, weight down, answer order), at most
 * SIP_RESOLVE_MAX, dropping the worst: resolve.c's order. */
static void target_insert(struct sip_dns_lookup *l, const struct ares_srv_reply *s)
{
	size_t i = l->count;
	while (i > 0 &&
	       (l->targets[i - 1].prio > s->priority ||
	        (l->targets[i - 1].prio == s->priority && l->targets[i - 1].weight < s->weight)))
		i--;
	if (i == SIP_RESOLVE_MAX)
		return;
	size_t last = l->count < SIP_RESOLVE_MAX ? l->count : SIP_RESOLVE_MAX - 1;
	memmove(&l->targets[i + 1], &l->targets[i], (last - i) * sizeof(l->targets[0]));
	memset(&l->targets[i], 0, sizeof(l->targets[i]));
	snprintf(l->targets[i].host, sizeof(l->targets[i].host), "%s", s->host);
	l->targets[i].prio = s->priority;
	l->targets[i].weight = s->weight;
	l->targets[i].port = s->port;
	if (l->count < SIP_RESOLVE_MAX)
		l->count++;
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct sip_dns_lookup *l = arg;
	struct ares_srv_reply *srv = NULL;
	size_t dots = 0, bad = 0;
	(void)timeouts;
	l->outstanding--;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		return;
	if (status != ARES_SUCCESS) {
		query_failed(l, status, l->qname, T_SRV);
		lookup_end(l);
		return;
	}
	if (ares_parse_srv_reply(abuf, alen, &srv) != ARES_SUCCESS) {
		lookup_fail(l, EIO, "SRV %s: malformed answer from %s", l->qname, l->d->server);
		lookup_end(l);
		return;
	}
	for (struct ares_srv_reply *s = srv; s; s = s->next) {
		if (!s->host[0] || strcmp(s->host, ".") == 0)
			dots++;
		else if (s->port == 0 || !conf_dns_name_valid(s->host))
			bad++;
		else
			target_insert(l, s);
	}
	ares_free_data(srv);
	if (l->count == 0) {
		if (bad)
			lookup_fail(l, EIO, "SRV %s: %zu malformed record(s) and none usable",
			            l->qname, bad);
		else if (dots)
			lookup_fail(l, ENOENT, "SRV %s: target \".\", the service is not available",
			            l->qname);
		else
			lookup_fail(l, ENOENT, "SRV %s: no SRV record in the answer", l->qname);
		lookup_end(l);
		return;
	}
	l->outstanding = (unsigned)(2 * l->count);
	for (size_t i = 0; i < l->count; i++)
		for (int f = 0; f < 2; f++) {
			l->queries[i][f] = (struct query){l, i, f};
			ares_query(l->d->ch, l->targets[i].host, C_IN, f ? T_AAAA : T_A, on_address,
			           &l->queries[i][f]);
		}
}

int sip_dns_partner(struct sip_dns *d, const char *domain, sip_dns_done_h *done, void *arg,
                    struct sip_dns_lookup **lp)
{
	if (lp)
		*lp = NULL;
	if (!d || !domain || !done || strnlen(domain, DOMAIN_MAX + 1) > DOMAIN_MAX ||
	    !conf_dns_name_valid(domain))
		return EINVAL;
	struct sip_dns_lookup *l = calloc(1, sizeof(*l));
	if (!l || !(l->fire = event_new(d->base, -1, 0, on_fire, l))) {
		free(l);
		return ENOMEM;
	}
	l->d = d;
	l->done = done;
	l->arg = arg;
	snprintf(l->qname, sizeof(l->qname), "%s%s", SRV_PREFIX, domain);
	l->next = d->lookups;
	d->lookups = l;
	l->outstanding = 1;
	ares_query(d->ch, l->qname, C_IN, T_SRV, on_srv, l);
	rearm(d);
	if (lp)
		*lp = l;
	return 0;
}

void sip_dns_cancel(struct sip_dns_lookup *l)
{
	if (l)
		l->cancelled = true;
}
