/* SRV, then A/AAAA, through libresolv on a private struct __res_state so
 * that the configured DNS server, not /etc/resolv.conf's, is asked and
 * concurrent calls share nothing. */
#include "sipfront/resolve.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/conf.h"

#define TRY_SECONDS 1    /* res_state.retrans: the wait for one answer */
#define ANSWER_MAX  4096 /* more than an EDNS0 UDP answer; TCP answers beyond are cut */
/* The query name must stay a DNS name (253 characters). */
#define DOMAIN_MAX (CONF_NAME_MAX - (sizeof(SIP_SRV_PREFIX) - 1))

struct srv {
	uint16_t prio, weight, port;
	char target[CONF_NAME_MAX + 1];
};

/* One call's state; heap-allocated (about 5 KB) as callers may run on
 * small thread stacks. */
struct run {
	struct __res_state st;
	bool st_open;
	struct timespec deadline;
	int hard;        /* the first error that is not ENOENT: its err is kept */
	char server[64]; /* for messages */
	char *err;
	size_t err_len;
	unsigned char ans[ANSWER_MAX];
	size_t ans_len;
};

static int fail(struct run *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct run *r, int rc, const char *fmt, ...)
{
	va_list ap;
	if (r->hard || r->err_len == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(r->err, r->err_len, fmt, ap);
	va_end(ap);
	return rc;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000L +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

static void server_name(char *buf, size_t len, const struct sockaddr *dns)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (!dns) {
		snprintf(buf, len, "the system resolver");
	} else if (dns->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)dns;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)dns;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, (unsigned)ntohs(sin6->sin6_port));
	}
}

/* Replaces resolv.conf's servers with dns. glibc (2.26 and later) reads an
 * IPv4 server from nsaddr_list[i], and an IPv6 one from _u._ext.nsaddrs[i]
 * when nsaddr_list[i].sin_family is 0; it owns the nsaddrs copies (malloc'd,
 * freed by res_nclose for i < nscount). No socket is open before the first
 * query, so the copies res_ninit made can simply be freed here. */
static int use_server(struct __res_state *st, const struct sockaddr *dns)
{
	for (int i = 0; i < MAXNS; i++) {
		free(st->_u._ext.nsaddrs[i]);
		st->_u._ext.nsaddrs[i] = NULL;
		st->_u._ext.nssocks[i] = -1;
	}
	st->_u._ext.nscount = 0; /* res_send rebuilds its private copy */
	st->nscount = 1;
	st->options &= ~(unsigned long)RES_ROTATE;
	memset(&st->nsaddr_list[0], 0, sizeof(st->nsaddr_list[0]));
	if (dns->sa_family == AF_INET) {
		memcpy(&st->nsaddr_list[0], dns, sizeof(struct sockaddr_in));
		return 0;
	}
	struct sockaddr_in6 *sin6 = malloc(sizeof(*sin6));
	if (!sin6)
		return ENOMEM;
	memcpy(sin6, dns, sizeof(*sin6));
	st->_u._ext.nsaddrs[0] = sin6;
	st->ipv6_unavail = 0;
	return 0;
}

static const char *type_name(int type)
{
	return type == ns_t_srv ? "SRV" : type == ns_t_a ? "A" : "AAAA";
}

static const char *rcode_name(unsigned rcode)
{
	static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
	                                    "NXDOMAIN", "NOTIMP",  "REFUSED"};
	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : "an error";
}

/* res_nquery reports a timeout, a refused port and a SERVFAIL or REFUSED
 * answer all as TRY_AGAIN; only an answer header in the buffer tells them
 * apart (it was zeroed before the query). */
static int query_failed(struct run *r, const char *name, int type)
{
	const HEADER *h = (const HEADER *)r->ans;
	int h_err = r->st.res_h_errno, saved = errno;
	if (h_err == HOST_NOT_FOUND)
		return fail(r, ENOENT, "%s %s: no such name (NXDOMAIN from %s)", type_name(type),
		            name, r->server);
	if (h_err == NO_DATA)
		return fail(r, ENOENT, "%s %s: no such record at %s", type_name(type), name,
		            r->server);
	if (h_err == TRY_AGAIN && !h->qr)
		return fail(r, ETIMEDOUT, "%s %s: no answer from %s (%s)", type_name(type), name,
		            r->server, saved == ECONNREFUSED ? "port unreachable" : "timed out");
	return fail(r, EIO, "%s %s: %s answered %s", type_name(type), name, r->server,
	            h->qr ? rcode_name(h->rcode) : "nothing usable");
}

/* One query into r->ans. Each try waits retrans (1 s); two tries while the
 * budget holds 2 s, one after, none once it is spent. */
static int query(struct run *r, const char *name, int type)
{
	long left = ms_left(&r->deadline);
	if (left <= 0)
		return fail(r, ETIMEDOUT, "%s %s: no time left (%d ms) asking %s", type_name(type),
		            name, SIP_RESOLVE_TIMEOUT_MS, r->server);
	r->st.retrans = TRY_SECONDS;
	r->st.retry = left >= 2 * TRY_SECONDS * 1000L ? 2 : 1;
	memset(r->ans, 0, HFIXEDSZ);
	errno = 0;
	int len = res_nquery(&r->st, name, ns_c_in, type, r->ans, sizeof(r->ans));
	if (len < 0)
		return query_failed(r, name, type);
	if ((size_t)len > sizeof(r->ans))
		return fail(r, EIO, "%s %s: answer of %d bytes is too long", type_name(type), name,
		            len);
	r->ans_len = (size_t)len;
	return 0;
}

/* Keeps srvs[] sorted (priority up, weight down, answer order) and at
 * most SIP_RESOLVE_MAX long, dropping the worst. */
static void srv_insert(struct srv *srvs, size_t *count, const struct srv *s)
{
	size_t i = *count;
	while (i > 0 && (srvs[i - 1].prio > s->prio ||
	                 (srvs[i - 1].prio == s->prio && srvs[i - 1].weight < s->weight)))
		i--;
	if (i == SIP_RESOLVE_MAX)
		return;
	size_t last = *count < SIP_RESOLVE_MAX ? *count : SIP_RESOLVE_MAX - 1;
	memmove(&srvs[i + 1], &srvs[i], (last - i) * sizeof(*srvs));
	srvs[i] = *s;
	if (*count < SIP_RESOLVE_MAX)
		(*count)++;
}

/* An SRV record's RDATA (RFC 2782): priority, weight, port, target.
 * Returns 1 when s is usable, 0 for target ".", -1 when unusable. */
static int srv_read(const ns_msg *msg, const ns_rr *rr, struct srv *s)
{
	char name[NS_MAXDNAME];
	const unsigned char *rd = ns_rr_rdata(*rr);
	if (ns_rr_rdlen(*rr) < 7)
		return -1;
	s->prio = ns_get16(rd);
	s->weight = ns_get16(rd + 2);
	s->port = ns_get16(rd + 4);
	int len = dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd + 6, name, sizeof(name));
	if (len < 0 || 6 + len > ns_rr_rdlen(*rr))
		return -1;
	if (name[0] == '\0' || strcmp(name, ".") == 0)
		return 0;
	if (s->port == 0 || !conf_dns_name_valid(name))
		return -1;
	memcpy(s->target, name, strlen(name) + 1); /* valid: 253 at most */
	return 1;
}

static int srv_parse(struct run *r, const char *qname, struct srv *srvs, size_t *count)
{
	ns_msg msg;
	ns_rr rr;
	size_t dots = 0, bad = 0;
	*count = 0;
	if (ns_initparse(r->ans, (int)r->ans_len, &msg) < 0)
		return fail(r, EIO, "SRV %s: malformed answer from %s", qname, r->server);
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		struct srv s;
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return fail(r, EIO, "SRV %s: malformed record in the answer from %s", qname,
			            r->server);
		if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in)
			continue;
		int ok = srv_read(&msg, &rr, &s);
		if (ok > 0)
			srv_insert(srvs, count, &s);
		dots += ok == 0;
		bad += ok < 0;
	}
	if (*count > 0)
		return 0;
	if (bad)
		return fail(r, EIO, "SRV %s: %zu malformed record(s) and none usable", qname, bad);
	if (dots)
		return fail(r, ENOENT, "SRV %s: target \".\", the service is not available", qname);
	return fail(r, ENOENT, "SRV %s: no SRV record in the answer", qname);
}

static void target_set(struct sip_target *t, const struct srv *s, int type, const unsigned char *rd)
{
	memset(t, 0, sizeof(*t));
	if (type == ns_t_a) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(s->port);
		memcpy(&sin->sin_addr, rd, NS_INADDRSZ);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(s->port);
		memcpy(&sin6->sin6_addr, rd, NS_IN6ADDRSZ);
	}
	snprintf(t->host, sizeof(t->host), "%s", s->target);
}

/* The A or AAAA records in r->ans (CNAMEs before them are passed over). */
static int addrs_parse(struct run *r, const struct srv *s, int type, struct sip_target *out,
                       size_t max, size_t *n)
{
	ns_msg msg;
	ns_rr rr;
	int want = type == ns_t_a ? NS_INADDRSZ : NS_IN6ADDRSZ;
	if (ns_initparse(r->ans, (int)r->ans_len, &msg) < 0)
		return fail(r, EIO, "%s %s: malformed answer from %s", type_name(type), s->target,
		            r->server);
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && *n < max; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return fail(r, EIO, "%s %s: malformed record in the answer from %s",
			            type_name(type), s->target, r->server);
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_rdlen(rr) != want)
			return fail(r, EIO, "%s %s: record of %u bytes", type_name(type), s->target,
			            (unsigned)ns_rr_rdlen(rr));
		target_set(&out[(*n)++], s, type, ns_rr_rdata(rr));
	}
	return 0;
}

/* A, then AAAA: a target without either is skipped (0, nothing added). */
static int target_resolve(struct run *r, const struct srv *s, struct sip_target *out, size_t max,
                          size_t *n)
{
	static const int types[] = {ns_t_a, ns_t_aaaa};
	for (size_t i = 0; i < 2 && *n < max; i++) {
		int rc = query(r, s->target, types[i]);
		if (rc == ENOENT)
			continue;
		if (rc == 0)
			rc = addrs_parse(r, s, types[i], out, max, n);
		if (rc)
			return rc;
	}
	return 0;
}

static int run_open(struct run *r, const struct sockaddr *dns)
{
	clock_gettime(CLOCK_MONOTONIC, &r->deadline);
	r->deadline.tv_sec += SIP_RESOLVE_TIMEOUT_MS / 1000;
	r->deadline.tv_nsec += (SIP_RESOLVE_TIMEOUT_MS % 1000) * 1000000L;
	if (r->deadline.tv_nsec >= 1000000000L) {
		r->deadline.tv_sec++;
		r->deadline.tv_nsec -= 1000000000L;
	}
	server_name(r->server, sizeof(r->server), dns);
	if (res_ninit(&r->st) != 0)
		return fail(r, ENOMEM, "res_ninit failed");
	r->st_open = true;
	if (dns && use_server(&r->st, dns) != 0)
		return fail(r, ENOMEM, "out of memory");
	return 0;
}

static void run_close(struct run *r)
{
	if (r->st_open) {
		res_nclose(&r->st);
		free(r->st._u._ext.nsaddrs[0]); /* NULL unless res_nclose left ours */
	}
	free(r);
}

static int args_check(const struct sockaddr *dns, const char *domain, const struct sip_target *out,
                      size_t max, const size_t *n, char *err, size_t err_len)
{
	const char *why = NULL;
	if (!domain || !out || max == 0 || !n)
		why = "missing argument";
	else if (dns && dns->sa_family != AF_INET && dns->sa_family != AF_INET6)
		why = "the DNS server is neither IPv4 nor IPv6";
	else if (strnlen(domain, DOMAIN_MAX + 1) > DOMAIN_MAX)
		why = "domain too long for an SRV query";
	else if (!conf_dns_name_valid(domain))
		why = "domain is not a host name";
	if (why && err && err_len)
		snprintf(err, err_len, "%s", why);
	return why ? EINVAL : 0;
}

/* The targets in SRV order. A hard error (timeout, EIO) on one target
 * does not lose the others; a timeout ends the walk, since the budget is
 * then spent. */
static int targets_resolve(struct run *r, const struct srv *srvs, size_t count,
                           struct sip_target *out, size_t max, size_t *n)
{
	for (size_t i = 0; i < count && *n < max; i++) {
		int rc = target_resolve(r, &srvs[i], out, max, n);
		if (rc && !r->hard)
			r->hard = rc;
		if (rc == ETIMEDOUT)
			break;
	}
	if (*n > 0)
		return 0;
	if (r->hard)
		return r->hard;
	return fail(r, ENOENT, "no A or AAAA record for %s%s at %s", srvs[0].target,
	            count > 1 ? " nor the other SRV targets" : "", r->server);
}

int sip_resolve_partner(const struct sockaddr *dns, const char *domain, struct sip_target *out,
                        size_t max, size_t *n, char *err, size_t err_len)
{
	char qname[CONF_NAME_MAX + 1];
	struct srv srvs[SIP_RESOLVE_MAX];
	size_t count = 0;
	struct run *r = NULL;
	int rc;

	if (err && err_len)
		err[0] = '\0';
	if (n)
		*n = 0;
	if (args_check(dns, domain, out, max, n, err, err_len) != 0)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->err = err;
	r->err_len = err ? err_len : 0;
	snprintf(qname, sizeof(qname), "%s%s", SIP_SRV_PREFIX, domain);
	rc = run_open(r, dns);
	if (rc == 0)
		rc = query(r, qname, ns_t_srv);
	if (rc == 0)
		rc = srv_parse(r, qname, srvs, &count);
	if (rc == 0)
		rc = targets_resolve(r, srvs, count, out,
		                     max < SIP_RESOLVE_MAX ? max : SIP_RESOLVE_MAX, n);
	if (rc == 0 && err && err_len)
		err[0] = '\0';
	run_close(r);
	return rc;
}
