/* Federation partners: which connection reaches a partner (row 2). Requests
 * go on a connection the edge opened to the partner's configured HOST (or
 * its SRV target), which is reused while it lasts; a partner's own inbound
 * connection carries only the responses to its requests (no RFC 5923
 * connection reuse), so that rows 1 and 2 stay separate flows through the
 * firewall, as in the table. The edge presents its certificate and expects
 * the partner's name. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
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

/* A HOST that is an address is dialled at once, and the certificate must
 * name the partner's domain (the next hop's: sip_domain); anything else is
 * looked up first, on the loop (conn_resolve.c). */
struct sip_conn *sip_partner_conn(struct sip_server *s, const struct conf_partner *p, char *err,
                                  size_t err_len)
{
	struct sip_conn *c = existing(s, p);
	struct sockaddr_storage sa;
	if (c)
		return c;
	if (p->host[0] && addr_parse(p->host, p->port, &sa) == 0)
		c = sip_conn_connect(
		    s, (struct sockaddr *)&sa, p->domain[0] ? p->domain : s->conf->sip_domain,
		    p->domain[0] ? "the partner's domain, its HOST being an address"
		                 : "sip_domain, the next hop being an address",
		    err, err_len);
	else
		c = sip_conn_resolve(s, p, err, err_len);
	if (c)
		snprintf(c->partner, sizeof(c->partner), "%s", p->domain);
	return c;
}
