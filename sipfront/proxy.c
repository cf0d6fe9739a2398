/* The stateless proxy (RFC 3261 section 16): route.c decides where a
 * request goes; this file finds the connection (a registered user's, one to
 * a partner, or a dialog's flow token) and forwards. Responses go back by
 * the edge's Via, which names the connection the request came on. Nothing
 * is kept per transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/addr.h"
#include "core/log.h"
#include "sipfront/registrar.h"
#include "sipfront/rewrite.h"
#include "sipfront/route.h"
#include "sipfront/server_priv.h"
#include "sipfront/sipmsg.h"

static struct sip_conn *next_hop(struct sip_conn *c, struct sip_route *rt)
{
	char err[256];
	struct sip_conn *t =
	    sip_partner_conn(c->server, &c->server->conf->next_hop, err, sizeof(err));
	if (!t)
		log_warn("sip #%lu: next hop %s unreachable: %s", c->id,
		         c->server->conf->next_hop.host, err);
	rt->code = 503;
	rt->reason = "Service Unavailable (next hop unreachable)";
	return t;
}

/* The connection a decision leads to; NULL with rt->code and rt->reason set. */
static struct sip_conn *target_of(struct sip_conn *c, struct sip_route *rt, char *ruri,
                                  size_t ruri_len)
{
	struct sip_server *s = c->server;
	struct sip_conn *t = NULL;
	char err[256];
	switch (rt->kind) {
	case SIP_ROUTE_FLOW: {
		unsigned long other = c->id == rt->flow_a   ? rt->flow_b
		                      : c->id == rt->flow_b ? rt->flow_a
		                                            : 0;
		t = other ? sip_conn_by_id(s, other) : NULL;
		rt->code = 480;
		rt->reason = "Temporarily Unavailable (the dialog's other side is gone)";
		break;
	}
	case SIP_ROUTE_LOCAL_USER:
		/* Section 16.5: the Request-URI becomes the registered Contact. */
		t = sip_registrar_lookup(s, rt->aor, time(NULL), ruri, ruri_len);
		rt->code = 480;
		rt->reason = "Temporarily Unavailable (not registered)";
		if (!t && s->conf->next_hop_set) /* the internal pool may know the user */
			t = next_hop(c, rt);
		break;
	case SIP_ROUTE_NEXT_HOP:
		t = next_hop(c, rt);
		break;
	case SIP_ROUTE_PARTNER:
		t = sip_partner_conn(s, rt->partner, err, sizeof(err));
		if (!t)
			log_warn("sip #%lu: partner %s unreachable: %s", c->id, rt->partner->domain,
			         err);
		rt->code = 503;
		rt->reason = "Service Unavailable (partner unreachable)";
		break;
	case SIP_ROUTE_REPLY:
		break;
	}
	return t;
}

static bool dialog_forming(const struct sip_msg *req)
{
	return sipmsg_pl_eq(&req->met, "INVITE") || sipmsg_pl_eq(&req->met, "SUBSCRIBE") ||
	       sipmsg_pl_eq(&req->met, "REFER");
}

static void trust_value(const struct sip_conn *c, char *out, size_t cap)
{
	if (c->kind == METRIC_SIP_MTLS)
		snprintf(
		    out, cap,
		    "ms-source-type=AuthorizedServer;ms-ep-fqdn=%s;ms-source-network=federation;"
		    "ms-source-verified-user=verified;ms-remote-fqdn=%s",
		    c->server->conf->edge_fqdn, c->partner);
	else
		snprintf(out, cap,
		         "ms-source-type=RemoteUser;ms-ep-fqdn=%s;ms-source-network=remoteuser;"
		         "ms-source-verified-user=unverified",
		         c->server->conf->edge_fqdn);
}

/* Keeps a copy of req so that its sender can get 503 if `to` fails. */
static bool remember(const struct sip_conn *c, const struct sip_msg *req, struct sip_conn *to)
{
	if (to->n_pending >= SIP_PENDING_MAX || !req->mb)
		return false;
	struct sip_pending *p = &to->pending[to->n_pending];
	p->msg = malloc(req->mb->end);
	if (!p->msg)
		return false;
	memcpy(p->msg, req->mb->buf, req->mb->end);
	p->len = req->mb->end;
	p->from = c->id;
	to->n_pending++;
	return true;
}

void sip_proxy_pending_done(struct sip_conn *c, bool failed)
{
	const char *reason = c->end.set && c->end.outcome == SIP_PING_DNS
	                         ? "Service Unavailable (partner not found in DNS)"
	                         : "Service Unavailable (partner unreachable)";
	for (unsigned i = 0; i < c->n_pending; i++) {
		struct sip_pending *p = &c->pending[i];
		struct sip_conn *from = failed ? sip_conn_by_id(c->server, p->from) : NULL;
		struct sip_msg *req = NULL;
		if (from && sipmsg_decode(&req, (const uint8_t *)p->msg, p->len) == 0 &&
		    !sipmsg_pl_eq(&req->met, "ACK"))
			sip_conn_reply(from, req, 503, reason, NULL);
		mem_deref(req);
		free(p->msg);
	}
	c->n_pending = 0;
}

static void forward(struct sip_conn *c, const struct sip_msg *req, const struct sip_route *rt,
                    struct sip_conn *to, const char *ruri)
{
	const struct conf *conf = c->server->conf;
	char via[400], rr[400], trust[800], *text;
	size_t len;
	/* sent-by names the listener on the side the request leaves from. */
	const struct sockaddr_storage *side =
	    to->kind == METRIC_SIP_MTLS ? &conf->sip_mtls_listen : &conf->sip_tls_listen;
	snprintf(via, sizeof(via), "SIP/2.0/TLS %s:%u;branch=%s;el-conn=%lu", conf->edge_fqdn,
	         addr_port((const struct sockaddr *)side), rt->branch, c->id);
	snprintf(rr, sizeof(rr), "<sip:edgelab@%s;transport=tls;lr;el-a=%lu;el-b=%lu>",
	         conf->edge_fqdn, c->id, to->id);
	trust_value(c, trust, sizeof(trust));
	struct sip_fwd_edit e = {via,
	                         ruri[0] ? ruri : NULL,
	                         rt->pop_route,
	                         rt->max_forwards,
	                         dialog_forming(req) ? rr : NULL,
	                         trust};
	if (sip_fwd_request(req, &e, &text, &len))
		return sip_conn_reply(c, req, 500, "Server Internal Error", NULL);
	if (to->outbound && !to->established && !remember(c, req, to)) {
		free(text);
		return sip_conn_reply(c, req, 503, "Service Unavailable (partner connection busy)",
		                      NULL);
	}
	sip_conn_send(to, text, len);
	free(text);
	log_debug("sip #%lu -> #%lu: %.*s %.*s", c->id, to->id, (int)req->met.l, req->met.p,
	          (int)req->ruri.l, req->ruri.p);
}

void sip_proxy_request(struct sip_conn *c, const struct sip_msg *req)
{
	struct sip_route rt;
	char ruri[SIP_CONTACT_MAX] = "";
	sip_route_decide(c->server->conf, req, c->kind == METRIC_SIP_MTLS, &rt);
	struct sip_conn *to = target_of(c, &rt, ruri, sizeof(ruri));
	if (to)
		forward(c, req, &rt, to, ruri);
	else if (!sipmsg_pl_eq(&req->met, "ACK")) /* ACK is never answered */
		sip_conn_reply(c, req, rt.code, rt.reason, NULL);
}

/* Section 16.7: the top Via must be the edge's; it names the connection the
 * request came on. Anything else is dropped. */
void sip_proxy_response(struct sip_conn *c, const struct sip_msg *resp)
{
	struct sip_server *s = c->server;
	char *text;
	size_t len;
	size_t fqdn_len = strlen(s->conf->edge_fqdn);
	if (resp->via.sentby.l < fqdn_len ||
	    strncasecmp(resp->via.sentby.p, s->conf->edge_fqdn, fqdn_len) != 0)
		return;
	unsigned long id = sip_param_ulong(&resp->via.params, "el-conn");
	if (id == 0) { /* an answer to the edge's own OPTIONS ping */
		log_info("sip #%lu: partner %s answered OPTIONS: %u %.*s", c->id, c->partner,
		         resp->scode, (int)resp->reason.l, resp->reason.p);
		sip_ping_answered(c, resp->via.branch.p, resp->via.branch.l, resp->scode,
		                  resp->reason.p, resp->reason.l);
		return;
	}
	struct sip_conn *back = sip_conn_by_id(s, id);
	if (!back) {
		log_debug("sip #%lu: response for a connection that is gone, dropped", c->id);
		return;
	}
	if (sip_fwd_response(resp, &text, &len))
		return;
	sip_conn_send(back, text, len);
	free(text);
}
