/* An outbound connection whose address is still to be found (server_priv.h,
 * sip_conn_resolve): it exists at once, so that requests and pings queue on
 * it as they do while TCP connects, and the SIP loop never waits for DNS.
 * The lookup runs on the server's resolver (dns.h); its end dials the first
 * address (conn_out.c) or ends the connection with outcome dns. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "sipfront/dns.h"
#include "sipfront/server_priv.h"

static void resolved(const struct sip_dns_answer *a, void *arg)
{
	struct sip_conn *c = arg;
	char err[300];
	c->lookup = NULL; /* the handle ends with this call */
	if (a->rc) {
		sip_conn_end(c, SIP_PING_DNS, "%s: %s", sip_dns_reason_word(a->reason), a->err);
		return sip_conn_free(c, a->err);
	}
	if (c->closing)
		return sip_conn_free(c, "closed by the edge");
	/* The first address (resolve.h's order), and its name (the SRV target,
	 * or the HOST) is what the partner's certificate must carry. */
	if (sip_conn_dial(c, (const struct sockaddr *)&a->t[0].addr, a->t[0].host, c->expect_why,
	                  err, sizeof(err))) {
		sip_conn_end(c, SIP_PING_ERROR, "%s", err);
		sip_conn_free(c, err);
	}
}

static int lookup_start(struct sip_server *s, struct sip_conn *c)
{
	c->lookup_gen = s->dns_gen;
	if (c->lookup_srv)
		return sip_dns_partner(s->dns, c->lookup_name + strlen(SIP_SRV_PREFIX), resolved, c,
		                       &c->lookup);
	return sip_dns_host(s->dns, c->lookup_name, c->lookup_port, resolved, c, &c->lookup);
}

struct sip_conn *sip_conn_resolve(struct sip_server *s, const struct conf_partner *p, char *err,
                                  size_t err_len)
{
	bool srv = !p->host[0];
	char name[CONF_NAME_MAX + 1];
	/* Longer than a DNS name only for a domain too long for the prefix,
	 * which sip_dns_partner refuses. */
	int n = snprintf(name, sizeof(name), "%s%s", srv ? SIP_SRV_PREFIX : "",
	                 srv ? p->domain : p->host);
	struct sip_conn *c = n < (int)sizeof(name) ? sip_conn_outbound(s, name) : NULL;
	int rc = n >= (int)sizeof(name) ? EINVAL : c ? 0 : ENOMEM;
	if (c) {
		c->lookup_srv = srv;
		c->lookup_port = p->port;
		memcpy(c->lookup_name, name, strlen(name) + 1);
		c->expect_why = srv            ? "the SRV target"
		                : p->domain[0] ? "the partner's HOST"
		                               : "the next hop's name";
		rc = lookup_start(s, c);
	}
	if (rc) {
		snprintf(err, err_len, "looking up %s: %s", name,
		         rc == EINVAL ? "not a name that can be looked up" : strerror(rc));
		if (c)
			sip_conn_free(c, NULL);
		return NULL;
	}
	log_info("sip mtls #%lu: looking up %s (%s)", c->id, name, srv ? "SRV" : "A and AAAA");
	return c;
}

/* A connection whose lookup cannot start again ends, and the list may have
 * changed under the walk (pings' and senders' callbacks): it starts over,
 * passing the connections already moved. */
void sip_conn_resolve_moved(struct sip_server *s)
{
	for (;;) {
		struct sip_conn *c;
		LIST_FOREACH(c, &s->conns, link)
		if (c->lookup && c->lookup_gen != s->dns_gen)
			break;
		if (!c)
			return;
		sip_dns_cancel(c->lookup);
		c->lookup = NULL;
		int rc = lookup_start(s, c);
		if (rc) {
			sip_conn_end(c, SIP_PING_DNS,
			             "error: looking up %s again after a reload: %s",
			             c->lookup_name, strerror(rc));
			sip_conn_free(c, "its lookup could not start again after a reload");
		}
	}
}
