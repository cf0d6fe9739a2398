/* The edge's own OPTIONS to a partner: row 2 with no client at all, on a
 * keep-alive timer (sip_partner_keepalive) or through the control API. A
 * ping with a done handler is kept until its end: the final response to
 * its branch, the end of its connection, its timer, or a cancel. */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/log.h"
#include "sipfront/server_priv.h"

#define BRANCH_PREFIX "z9hG4bK-elping"

struct sip_ping {
	LIST_ENTRY(sip_ping) link;
	struct sip_server *server;
	unsigned long id;
	unsigned long conn; /* the connection it was sent on */
	char tag[17];       /* its branch is BRANCH_PREFIX tag */
	struct event *timer;
	sip_ping_done_h *done;
	void *arg;
};

/* Sends OPTIONS on c with a fresh tag (written to tag). */
static void send_options(struct sip_server *s, struct sip_conn *c, const char *domain, char tag[17])
{
	const struct conf *conf = s->conf;
	unsigned char rnd[8];
	char req[1024], *p = tag;
	RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++, p += 2)
		snprintf(p, 3, "%02x", rnd[i]);
	/* el-conn=0: the answer is the edge's own, not relayed anywhere. */
	int n = snprintf(req, sizeof(req),
	                 "OPTIONS sip:%s SIP/2.0\r\n"
	                 "Via: SIP/2.0/TLS %s:%u;branch=" BRANCH_PREFIX "%s;el-conn=0\r\n"
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

/* The connection a ping went on, closing or not; NULL once freed. */
static struct sip_conn *conn_of(const struct sip_ping *p)
{
	struct sip_conn *c;
	LIST_FOREACH(c, &p->server->conns, link)
	if (c->id == p->conn)
		return c;
	return NULL;
}

/* Unlinks and frees p, then reports r (so that done may ping again). */
static void ping_end(struct sip_ping *p, struct sip_ping_result *r)
{
	struct sip_conn *c = conn_of(p);
	sip_ping_done_h *done = p->done;
	void *arg = p->arg;
	if (c) {
		r->local = c->local;
		r->peer = c->peer;
	}
	LIST_REMOVE(p, link);
	p->server->n_pings--;
	event_free(p->timer);
	free(p);
	done(r, arg);
}

/* SIP_PING_WAIT_MS and no end: say how far it got. */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sip_ping *p = arg;
	struct sip_conn *c = conn_of(p);
	struct sip_ping_result r = {.outcome = SIP_PING_TIMEOUT};
	const char *peer = c ? c->peer_str : "the partner";
	double secs = SIP_PING_WAIT_MS / 1000.0;
	if (c && c->lookup) { /* a lookup's dns, not the network's timeout */
		r.outcome = SIP_PING_DNS;
		snprintf(r.dns_name, sizeof(r.dns_name), "%s", c->lookup_name);
		snprintf(r.detail, sizeof(r.detail), "timeout: %s: no answer in %.1f s",
		         c->lookup_name, secs);
	} else if (c && c->outbound && !c->tcp_up)
		snprintf(r.detail, sizeof(r.detail), "no TCP connection to %s in %.1f s", peer,
		         secs);
	else if (c && !c->established)
		snprintf(r.detail, sizeof(r.detail),
		         "TCP up, but no TLS handshake with %s in %.1f s", peer, secs);
	else
		snprintf(r.detail, sizeof(r.detail),
		         "OPTIONS sent over MTLS to %s, no response in %.1f s", peer, secs);
	ping_end(p, &r);
}

/* A ping to report on (a control API request): kept until its end. */
static int ping_track(struct sip_server *s, struct sip_conn *c, sip_ping_done_h *done, void *arg,
                      struct sip_ping **pp)
{
	struct timeval tv = {.tv_sec = SIP_PING_WAIT_MS / 1000,
	                     .tv_usec = (SIP_PING_WAIT_MS % 1000) * 1000};
	if (s->n_pings >= SIP_PINGS_MAX)
		return EBUSY;
	struct sip_ping *p = calloc(1, sizeof(*p));
	if (p)
		p->timer = evtimer_new(s->base, timer_cb, p);
	if (!p || !p->timer || evtimer_add(p->timer, &tv)) {
		if (p && p->timer)
			event_free(p->timer);
		free(p);
		return ENOMEM;
	}
	p->server = s;
	p->id = ++s->next_ping_id;
	p->conn = c->id;
	p->done = done;
	p->arg = arg;
	LIST_INSERT_HEAD(&s->pings, p, link);
	s->n_pings++;
	*pp = p;
	return 0;
}

int sip_server_ping_partner(struct sip_server *s, const char *domain, sip_ping_done_h *done,
                            void *arg, unsigned long *idp, char *msg, size_t len)
{
	const struct conf_partner *partner = sip_partner_find(s, domain, strlen(domain));
	struct sip_ping *p = NULL;
	char err[256], tag[17];
	if (!partner) {
		snprintf(msg, len, "%s is not a federation_partner", domain);
		return ENOENT;
	}
	if (done && s->n_pings >= SIP_PINGS_MAX) {
		snprintf(msg, len, "too many pings awaiting their end");
		return EBUSY;
	}
	struct sip_conn *c = sip_partner_conn(s, partner, err, sizeof(err));
	if (!c) {
		snprintf(msg, len, "%s: %s", partner->domain, err);
		return EHOSTUNREACH;
	}
	int rc = done ? ping_track(s, c, done, arg, &p) : 0;
	if (rc) {
		snprintf(msg, len, "%s: %s", partner->domain, strerror(rc));
		return rc;
	}
	send_options(s, c, partner->domain, tag);
	if (p) {
		memcpy(p->tag, tag, sizeof(p->tag));
		if (idp)
			*idp = p->id;
	}
	if (c->lookup)
		snprintf(msg, len, "OPTIONS to %s waits on MTLS connection #%lu, looking up %s\n",
		         partner->domain, c->id, c->lookup_name);
	else
		snprintf(msg, len, "OPTIONS sent to %s over MTLS connection #%lu to %s\n",
		         partner->domain, c->id, c->peer_str);
	return 0;
}

void sip_ping_answered(struct sip_conn *c, const char *branch, size_t branch_len, unsigned status,
                       const char *reason, size_t reason_len)
{
	struct sip_ping *p;
	size_t n = strlen(BRANCH_PREFIX);
	if (status < 200 || branch_len != n + 16 || strncmp(branch, BRANCH_PREFIX, n) != 0)
		return; /* provisional, or not one of ours */
	LIST_FOREACH(p, &c->server->pings, link)
	if (p->conn == c->id && strncasecmp(branch + n, p->tag, 16) == 0)
		break;
	if (!p)
		return; /* a keep-alive's, or its ping has ended */
	struct sip_ping_result r = {.outcome = SIP_PING_ANSWERED, .status = (int)status};
	snprintf(r.detail, sizeof(r.detail), "OPTIONS over MTLS to %s answered %u %.*s",
	         c->peer_str, status, (int)reason_len, reason);
	ping_end(p, &r);
}

void sip_ping_conn_ended(struct sip_conn *c)
{
	struct sip_ping *p;
	for (;;) {
		LIST_FOREACH(p, &c->server->pings, link)
		if (p->conn == c->id)
			break;
		if (!p)
			return;
		struct sip_ping_result r = {.outcome = c->end.outcome, .icmp = c->end.icmp};
		snprintf(r.detail, sizeof(r.detail), "%s", c->end.detail);
		if (r.outcome == SIP_PING_DNS)
			snprintf(r.dns_name, sizeof(r.dns_name), "%s", c->lookup_name);
		ping_end(p, &r);
	}
}

void sip_server_ping_cancel(struct sip_server *s, unsigned long id)
{
	struct sip_ping *p;
	LIST_FOREACH(p, &s->pings, link)
	if (p->id == id)
		break;
	if (!p)
		return;
	struct sip_ping_result r = {.outcome = SIP_PING_CANCELLED};
	snprintf(r.detail, sizeof(r.detail), "the edge shut down first");
	ping_end(p, &r);
}

void sip_ping_cancel_all(struct sip_server *s)
{
	while (!LIST_EMPTY(&s->pings))
		sip_server_ping_cancel(s, LIST_FIRST(&s->pings)->id);
}

/* Every sip_partner_keepalive seconds: each partner with a HOST. */
void sip_ping_all(struct sip_server *s)
{
	char msg[300];
	for (size_t i = 0; i < s->conf->n_partners; i++) {
		const struct conf_partner *p = &s->conf->partners[i];
		if (p->host[0] &&
		    sip_server_ping_partner(s, p->domain, NULL, NULL, NULL, msg, sizeof(msg)))
			log_warn("keepalive: %s", msg);
	}
}
