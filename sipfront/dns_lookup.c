/* sipfront/dns.h's lookups: an SRV query, then an A and an AAAA query per
 * target, all of the latter at once (a host lookup is one target from the
 * start, unless the hosts file has it). A lookup ends when its last query
 * has, and its callback runs from an event of its own, so never inside
 * sip_dns_partner or sip_dns_host. */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/conf.h"
#include "sipfront/dns_int.h"

/* The query name must stay a DNS name (253 characters). */
#define DOMAIN_MAX (CONF_NAME_MAX - (sizeof(SIP_SRV_PREFIX) - 1))
#define C_IN       1
#define T_A        1
#define T_AAAA     28
#define T_SRV      33
#define ERR_MAX    512 /* "SRV ", a 253-character name, then the reason */

/* One SRV target and what its A and AAAA queries found. */
struct target {
	char host[254];
	uint16_t prio, weight, port;
	struct sip_target found[2][SIP_RESOLVE_MAX]; /* [0] A, [1] AAAA */
	size_t n[2];
};
/* A target's name is copied whole into each of its addresses. */
_Static_assert(sizeof(((struct target *)0)->host) == sizeof(((struct sip_target *)0)->host),
               "a target's name and an address's are the same size");

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
	bool host;          /* sip_dns_host: no SRV, and a missing name is told */
	struct event *fire; /* runs done once every query has ended */
	char qname[CONF_NAME_MAX + 1];
	struct target targets[SIP_RESOLVE_MAX];
	size_t count;
	struct query queries[SIP_RESOLVE_MAX][2];
	unsigned outstanding;
	int rc;                     /* the first error that is not ENOENT, or ENOENT, or 0 */
	enum sip_dns_reason reason; /* rc's */
	char err[ERR_MAX];
	struct sip_target out[SIP_RESOLVE_MAX];
	size_t n_out;
};

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

/* Here rather than in dns.c, which uses nothing of this file's. */
void sip_dns_close(struct sip_dns *d)
{
	if (!d)
		return;
	/* Every query ends now (ARES_EDESTRUCTION); no callback of ours runs
	 * after this, as the lookups go with their events. */
	ares_destroy(d->ch);
	while (d->lookups)
		lookup_free(d->lookups);
	sip_dns_free_events(d);
}

const char *sip_dns_reason_word(enum sip_dns_reason r)
{
	static const char *const words[] = {
	    [SIP_DNS_OK] = "ok",
	    [SIP_DNS_NXDOMAIN] = "nxdomain",
	    [SIP_DNS_NODATA] = "nodata",
	    [SIP_DNS_TIMEOUT] = "timeout",
	    [SIP_DNS_SERVFAIL] = "servfail",
	    [SIP_DNS_REFUSED] = "refused",
	    [SIP_DNS_BAD_ANSWER] = "bad-answer",
	    [SIP_DNS_ERROR] = "error",
	};
	return (size_t)r < sizeof(words) / sizeof(words[0]) ? words[r] : "error";
}

/* The first error that is not "nothing there" is the one told. */
static void lookup_fail(struct sip_dns_lookup *l, int rc, enum sip_dns_reason reason,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void lookup_fail(struct sip_dns_lookup *l, int rc, enum sip_dns_reason reason,
                        const char *fmt, ...)
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
	l->reason = reason;
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
		lookup_fail(l, ENOENT, SIP_DNS_NXDOMAIN, "%s %s: no such name (NXDOMAIN from %s)",
		            type_name(type), name, server);
		return ENOENT;
	case ARES_ENODATA:
		lookup_fail(l, ENOENT, SIP_DNS_NODATA, "%s %s: no such record at %s",
		            type_name(type), name, server);
		return ENOENT;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
		lookup_fail(l, ETIMEDOUT, SIP_DNS_TIMEOUT, "%s %s: no answer from %s (%s)",
		            type_name(type), name, server,
		            status == ARES_ETIMEOUT ? "timed out" : "port unreachable");
		return ETIMEDOUT;
	case ARES_ENOMEM:
		lookup_fail(l, ENOMEM, SIP_DNS_ERROR, "%s %s: out of memory", type_name(type),
		            name);
		return ENOMEM;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return ECANCELED;
	default:
		lookup_fail(l, EIO,
		            status == ARES_ESERVFAIL  ? SIP_DNS_SERVFAIL
		            : status == ARES_EREFUSED ? SIP_DNS_REFUSED
		                                      : SIP_DNS_BAD_ANSWER,
		            "%s %s: %s answered %s", type_name(type), name, server,
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
		lookup_fail(l, ENOENT, SIP_DNS_NODATA, "no A or AAAA record for %s%s at %s",
		            l->targets[0].host, l->count > 1 ? " nor the other SRV targets" : "",
		            l->d->server);
	event_active(l->fire, EV_TIMEOUT, 0);
}

static void on_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sip_dns_lookup *l = arg;
	(void)fd;
	(void)what;
	if (!l->cancelled) {
		int rc = l->n_out ? 0 : l->rc ? l->rc : ENOENT;
		struct sip_dns_answer a = {.rc = rc,
		                           .reason = rc == 0      ? SIP_DNS_OK
		                                     : l->rc == 0 ? SIP_DNS_NODATA
		                                                  : l->reason,
		                           .t = l->out,
		                           .n = rc ? 0 : l->n_out,
		                           .err = rc ? l->err : ""};
		l->done(&a, l->arg);
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
		memcpy(out->host, t->host, sizeof(out->host));
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
	if ((status == ARES_ENOTFOUND || status == ARES_ENODATA) && !l->host)
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

/* Every target's A and AAAA queries, at once. */
static void targets_query(struct sip_dns_lookup *l)
{
	l->outstanding = (unsigned)(2 * l->count);
	for (size_t i = 0; i < l->count; i++)
		for (int f = 0; f < 2; f++) {
			l->queries[i][f] = (struct query){l, i, f};
			ares_query(l->d->ch, l->targets[i].host, C_IN, f ? T_AAAA : T_A, on_address,
			           &l->queries[i][f]);
		}
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
		lookup_fail(l, EIO, SIP_DNS_BAD_ANSWER, "SRV %s: malformed answer from %s",
		            l->qname, l->d->server);
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
			lookup_fail(l, EIO, SIP_DNS_BAD_ANSWER,
			            "SRV %s: %zu malformed record(s) and none usable", l->qname,
			            bad);
		else if (dots)
			lookup_fail(l, ENOENT, SIP_DNS_NODATA,
			            "SRV %s: target \".\", the service is not available", l->qname);
		else
			lookup_fail(l, ENOENT, SIP_DNS_NODATA,
			            "SRV %s: no SRV record in the answer", l->qname);
		lookup_end(l);
		return;
	}
	targets_query(l);
}

/* A lookup linked into d, its queries not started; NULL: out of memory. */
static struct sip_dns_lookup *lookup_new(struct sip_dns *d, sip_dns_done_h *done, void *arg)
{
	struct sip_dns_lookup *l = calloc(1, sizeof(*l));
	if (!l || !(l->fire = event_new(d->base, -1, 0, on_fire, l))) {
		free(l);
		return NULL;
	}
	l->d = d;
	l->done = done;
	l->arg = arg;
	l->next = d->lookups;
	d->lookups = l;
	return l;
}

int sip_dns_partner(struct sip_dns *d, const char *domain, sip_dns_done_h *done, void *arg,
                    struct sip_dns_lookup **lp)
{
	if (lp)
		*lp = NULL;
	if (!d || !domain || !done || strnlen(domain, DOMAIN_MAX + 1) > DOMAIN_MAX ||
	    !conf_dns_name_valid(domain))
		return EINVAL;
	struct sip_dns_lookup *l = lookup_new(d, done, arg);
	if (!l)
		return ENOMEM;
	snprintf(l->qname, sizeof(l->qname), "%s%s", SIP_SRV_PREFIX, domain);
	l->outstanding = 1;
	ares_query(d->ch, l->qname, C_IN, T_SRV, on_srv, l);
	sip_dns_rearm(d);
	if (lp)
		*lp = l;
	return 0;
}

/* host's addresses in the hosts file into t, A then AAAA; how many. */
static size_t hosts_file(struct sip_dns *d, struct target *t)
{
	static const int families[] = {AF_INET, AF_INET6};
	size_t total = 0;
	for (int f = 0; f < 2; f++) {
		struct hostent *h = NULL;
		if (ares_gethostbyname_file(d->ch, t->host, families[f], &h) != ARES_SUCCESS)
			continue;
		for (char **a = h->h_addr_list;
		     h->h_addrtype == families[f] && *a && t->n[f] < SIP_RESOLVE_MAX; a++) {
			struct sip_target *out = &t->found[f][t->n[f]++];
			memset(out, 0, sizeof(*out));
			out->addr.ss_family = (sa_family_t)families[f];
			if (f)
				memcpy(&((struct sockaddr_in6 *)&out->addr)->sin6_addr, *a, 16);
			else
				memcpy(&((struct sockaddr_in *)&out->addr)->sin_addr, *a, 4);
			addr_set_port((struct sockaddr *)&out->addr, t->port);
			memcpy(out->host, t->host, sizeof(out->host));
		}
		total += t->n[f];
		ares_free_hostent(h);
	}
	return total;
}

int sip_dns_host(struct sip_dns *d, const char *host, uint16_t port, sip_dns_done_h *done,
                 void *arg, struct sip_dns_lookup **lp)
{
	if (lp)
		*lp = NULL;
	if (!d || !host || !done || !conf_dns_name_valid(host))
		return EINVAL;
	struct sip_dns_lookup *l = lookup_new(d, done, arg);
	if (!l)
		return ENOMEM;
	l->host = true;
	l->count = 1;
	snprintf(l->qname, sizeof(l->qname), "%s", host);
	snprintf(l->targets[0].host, sizeof(l->targets[0].host), "%s", host);
	l->targets[0].port = port;
	if (hosts_file(d, &l->targets[0]) > 0) {
		lookup_end(l); /* its callback still comes from the loop */
	} else {
		targets_query(l);
		sip_dns_rearm(d);
	}
	if (lp)
		*lp = l;
	return 0;
}

void sip_dns_cancel(struct sip_dns_lookup *l)
{
	if (l)
		l->cancelled = true;
}
