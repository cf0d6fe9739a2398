/* The edge's own OPTIONS to a partner: row 2 with no client at all, on a
 * keep-alive timer (sip_partner_keepalive) or through the control API. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/log.h"
#include "sipfront/server_priv.h"

static void send_options(struct sip_server *s, struct sip_conn *c, const char *domain)
{
	const struct conf *conf = s->conf;
	unsigned char rnd[8];
	char req[1024], tag[17], *p = tag;
	RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++, p += 2)
		snprintf(p, 3, "%02x", rnd[i]);
	/* el-conn=0: the answer is the edge's own, not relayed anywhere. */
	int n = snprintf(req, sizeof(req),
	                 "OPTIONS sip:%s SIP/2.0\r\n"
	                 "Via: SIP/2.0/TLS %s:%u;branch=z9hG4bK-elping%s;el-conn=0\r\n"
	                 "Max-Forwards: 70\r\n"
	                 "From: <sip:%s>;tag=%s\r\n"
	                 "To: <sip:%s>\r\n"
	                 "Call-ID: ping-%s@%s\r\n"
	                 "CSeq: 1 OPTIONS\r\n"
	                 "User-Agent: edgelab/keepalive\r\n"
	                 "Content-Length: 0\r\n\r\n",
	                 domain, conf->edge_fqdn,
	                 addr_port((const struct sockaddr *)&conf->sip_mtls_listen), tag,
	                 conf->edge_fqdn, tag, domain, tag, conf->edge_fqdn);
	if (n > 0 && (size_t)n < sizeof(req))
		sip_conn_send(c, req, (size_t)n);
}

int sip_server_ping_partner(struct sip_server *s, const char *domain, char *msg, size_t len)
{
	const struct conf_partner *p = sip_partner_find(s, domain, strlen(domain));
	char err[256];
	if (!p) {
		snprintf(msg, len, "%s is not a federation_partner", domain);
		return ENOENT;
	}
	struct sip_conn *c = sip_partner_conn(s, p, err, sizeof(err));
	if (!c) {
		snprintf(msg, len, "%s: %s", p->domain, err);
		return EHOSTUNREACH;
	}
	send_options(s, c, p->domain);
	snprintf(msg, len, "OPTIONS sent to %s over MTLS connection #%lu to %s\n", p->domain, c->id,
	         c->peer_str);
	return 0;
}

/* Every sip_partner_keepalive seconds: each partner with a HOST. */
void sip_ping_all(struct sip_server *s)
{
	char msg[300];
	for (size_t i = 0; i < s->conf->n_partners; i++) {
		const struct conf_partner *p = &s->conf->partners[i];
		if (p->host[0] && sip_server_ping_partner(s, p->domain, msg, sizeof(msg)))
			log_warn("keepalive: %s", msg);
	}
}
