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
#include "sipfront/server_priv.h"

static bool name_is(const char *conf_name, const char *name, size_t len)
{
	return conf_name[0] && strlen(conf_name) == len && strncasecmp(conf_name, name, len) == 0;
}

const struct conf_partner *sip_partner_find(const struct sip_server *s, const char *name,
                                            size_t len)
{
	for (size_t i = 0; i < s->conf->n_partners; i++) {
		const struct conf_partner *p = &s->conf->partners[i];
		if (name_is(p->domain, name, len) || name_is(p->host, name, len))
			return p;
	}
	return NULL;
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

/* HOST as an address: a literal, or a name looked up now. The lookup
 * blocks the SIP loop for its duration; lab names resolve locally. */
static int resolve(const struct conf_partner *p, struct sockaddr_storage *sa, char *err,
                   size_t err_len)
{
	if (!p->host[0]) {
		snprintf(err, err_len,
		         "%s has no HOST (federation_partner DOMAIN HOST[:PORT]); "
		         "SRV lookup is not built yet",
		         p->domain);
		return ENOENT;
	}
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
	if (resolve(p, &sa, err, err_len))
		return NULL;
	/* The partner's certificate must carry its edge's name, or its domain
	 * when the edge is given as an address. */
	struct sockaddr_storage tmp;
	const char *expect = addr_parse(p->host, 0, &tmp) == 0 ? p->domain : p->host;
	c = sip_conn_connect(s, (struct sockaddr *)&sa, expect, err, err_len);
	if (c)
		snprintf(c->partner, sizeof(c->partner), "%s", p->domain);
	return c;
}
