/* Federation partners: which connection reaches a partner (row 2). Requests
 * go on a connection the edge opened to the partner's configured HOST, which
 * is reused while it lasts; a partner's own inbound connection carries only
 * the responses to its requests (no RFC 5923 connection reuse), so that
 * rows 1 and 2 stay separate flows through the firewall, as in the table.
 * The edge presents its certificate and expects the partner's name. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "sipfront/resolve.h"
#include "sipfront/route.h"
#include "sipfront/server_priv.h"

const struct conf_partner *sip_partner_find(const struct sip_server *s, const char *name,
                                            size_t len)
{
	return sip_route_partner(s->conf, name, len);
}

static struct sip_conn *existing(struct sip_server *s, const struct conf_partner *p)
{
	struct sip_conn *c;
	LIST_FOREACH(c, &s->conns, link)
	{
		if (!c->outbound || c->closing)
			continue;
		if (!strcasecmp(c->partner, p->domain) ||
		    (p->host[0] && !strcasecmp(c->partner, p->host)))
			return c;
	}
	return NULL;
}

/* Where a partner is: its HOST, a literal or a name looked up now, or
 * without one its _sipfederationtls._tcp SRV records on dns_server (the
 * first target; its name is what the certificate must carry). The lookups
 * block the SIP loop for at most a few seconds; lab names resolve locally. */
static int resolve(const struct sip_server *s, const struct conf_partner *p,
                   struct sockaddr_storage *sa, char *expect, size_t expect_len, char *err,
                   size_t err_len)
{
	struct sockaddr_storage tmp;
	if (!p->host[0]) {
		struct sip_target t[SIP_RESOLVE_MAX];
		size_t n = 0;
		const struct sockaddr *dns =
		    s->conf->dns_server_set ? (const struct sockaddr *)&s->conf->dns_server : NULL;
		if (sip_resolve_partner(dns, p->domain, t, SIP_RESOLVE_MAX, &n, err, err_len))
			return ENOENT;
		*sa = t[0].addr;
		snprintf(expect, expect_len, "%s", t[0].host);
		return 0;
	}
	/* The certificate must name the HOST, or the domain when HOST is an address. */
	/* The next hop (no domain) given as an address must name sip_domain. */
	const char *domain = p->domain[0] ? p->domain : s->conf->sip_domain;
	snprintf(expect, expect_len, "%s", addr_parse(p->host, 0, &tmp) == 0 ? domain : p->host);
	if (addr_parse(p->host, p->port, sa) == 0)
		return 0;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(p->host, NULL, &hints, &res);
	if (rc || !res) {
		snprintf(err, err_len, "%s: %s", p->host, gai_strerror(rc));
		return ENOENT;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	addr_set_port((struct sockaddr *)sa, p->port);
	freeaddrinfo(res);
	return 0;
}

struct sip_conn *sip_partner_conn(struct sip_server *s, const struct conf_partner *p, char *err,
                                  size_t err_len)
{
	struct sip_conn *c = existing(s, p);
	struct sockaddr_storage sa;
	if (c)
		return c;
	char expect[CONF_NAME_MAX + 1];
	if (resolve(s, p, &sa, expect, sizeof(expect), err, err_len))
		return NULL;
	c = sip_conn_connect(s, (struct sockaddr *)&sa, expect, err, err_len);
	if (c)
		snprintf(c->partner, sizeof(c->partner), "%s", p->domain);
	return c;
}
