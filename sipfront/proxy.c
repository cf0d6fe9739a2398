/* The stateless proxy (RFC 3261 section 16): requests go to a registered
 * user's connection, to a partner's connection, or along the flow tokens of
 * the edge's own Record-Route; responses go back by the edge's Via, which
 * names the connection the request came on. Nothing is kept per
 * transaction: CANCEL finds its INVITE's path because the branch is a hash
 * of the request's own top Via branch (section 16.11). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/addr.h"
#include "core/log.h"
#include "sipfront/registrar.h"
#include "sipfront/rewrite.h"
#include "sipfront/server_priv.h"
#include "sipfront/sipmsg.h"

#define MAX_FORWARDS_DEFAULT 70

static bool pl_eq(const struct pl *pl, const char *s)
{
	return pl->l == strlen(s) && strncasecmp(pl->p, s, pl->l) == 0;
}

/* An unsigned number after "name=" in a parameter list, or 0. */
static unsigned long param_ulong(const struct pl *params, const char *name)
{
	char buf[512], key[32];
	if (sipmsg_pl_copy(buf, sizeof(buf), params))
		return 0;
	snprintf(key, sizeof(key), ";%s=", name);
	const char *p = strstr(buf, key);
	return p ? strtoul(p + strlen(key), NULL, 10) : 0;
}

static uint64_t branch_hash(const struct sip_msg *req, const char *salt)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < req->via.branch.l; i++)
		h = (h ^ (uint8_t)req->via.branch.p[i]) * 0x100000001b3ull;
	for (const char *p = salt; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h;
}

/* Section 16.3 step 4: our own branch already in the Via list is a loop. */
static bool looped(const struct sip_msg *req, const char *branch)
{
	for (struct le *le = req->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;
		if (h->id == SIP_HDR_VIA && h->val.l > strlen(branch) &&
		    memmem(h->val.p, h->val.l, branch, strlen(branch)))
			return true;
	}
	return false;
}

/* Whether a URI's host[:port] is the edge: its FQDN or domain, or the
 * address of one of its listeners. */
static bool uri_is_us(const struct sip_server *s, const struct uri *u)
{
	if (pl_eq(&u->host, s->conf->edge_fqdn) || pl_eq(&u->host, s->conf->sip_domain))
		return true;
	const struct sockaddr_storage *ls[] = {&s->conf->sip_tls_listen, &s->conf->sip_mtls_listen};
	for (size_t i = 0; i < 2; i++) {
		char ip[ADDR_STR_MAX];
		uint16_t port = addr_port((const struct sockaddr *)ls[i]);
		addr_ip_str((const struct sockaddr *)ls[i], ip, sizeof(ip));
		if (pl_eq(&u->host, ip) && (!u->port || u->port == port))
			return true;
	}
	return false;
}

/* The first Route names the edge (RFC 3261 section 16.4): it is removed.
 * Its flow tokens, when the edge recorded the route itself, say which
 * connection the request continues on. */
static const struct sip_hdr *route_to_us(const struct sip_server *s, const struct sip_msg *req)
{
	const struct sip_hdr *r = sip_msg_hdr(req, SIP_HDR_ROUTE);
	struct sip_addr addr;
	if (!r || sip_addr_decode(&addr, &r->val))
		return NULL;
	return uri_is_us(s, &addr.uri) ? r : NULL;
}

/* Where a request goes: a connection, or an answer of the edge's own. */
struct route {
	struct sip_conn *target;
	bool pop_route;
	char ruri[SIP_CONTACT_MAX]; /* a new Request-URI, or "" */
	int code;                   /* when no target */
	const char *reason;
};

/* In a dialog the edge recorded: its Record-Route carries the two
 * connections' ids (flow tokens); the request goes to the other one. */
static void route_in_dialog(struct sip_conn *c, const struct sip_hdr *r, struct route *rt)
{
	struct sip_server *s = c->server;
	unsigned long a = param_ulong(&r->val, "el-a"), b = param_ulong(&r->val, "el-b");
	unsigned long other = c->id == a ? b : c->id == b ? a : 0;
	rt->pop_route = true;
	if (!a && !b)
		return; /* a Route to the edge, not a dialog it recorded: route by URI */
	rt->target = other ? sip_conn_by_id(s, other) : NULL;
	if (!rt->target) {
		rt->code = 480;
		rt->reason = "Temporarily Unavailable (the dialog's other side is gone)";
	}
}

static void route_by_uri(struct sip_conn *c, const struct sip_msg *req, struct route *rt)
{
	struct sip_server *s = c->server;
	const struct pl *host = &req->uri.host;
	char aor[SIP_AOR_MAX], err[256];
	if (pl_eq(host, s->conf->sip_domain) || pl_eq(host, s->conf->edge_fqdn)) {
		snprintf(aor, sizeof(aor), "%.*s@%s", (int)req->uri.user.l, req->uri.user.p,
		         s->conf->sip_domain);
		/* Section 16.5: the Request-URI becomes the registered Contact. */
		rt->target = sip_registrar_lookup(s, aor, time(NULL), rt->ruri, sizeof(rt->ruri));
		if (!rt->target) {
			rt->code = 480;
			rt->reason = "Temporarily Unavailable (not registered)";
		}
		return;
	}
	const struct conf_partner *p = sip_partner_find(s, host->p, host->l);
	if (!p) {
		rt->code = 403;
		rt->reason = "Forbidden (not a federation partner)";
		return;
	}
	if (c->kind == METRIC_SIP_MTLS) { /* partners reach the edge's users, not each other */
		rt->code = 403;
		rt->reason = "Forbidden (no relaying between partners)";
		return;
	}
	rt->target = sip_partner_conn(s, p, err, sizeof(err));
	if (!rt->target) {
		log_warn("sip #%lu: partner %s unreachable: %s", c->id, p->domain, err);
		rt->code = 503;
		rt->reason = "Service Unavailable (partner unreachable)";
	}
}

static bool dialog_forming(const struct sip_msg *req)
{
	return pl_eq(&req->met, "INVITE") || pl_eq(&req->met, "SUBSCRIBE") ||
	       pl_eq(&req->met, "REFER");
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

static void forward(struct sip_conn *c, const struct sip_msg *req, const struct route *rt,
                    int max_fwd, const char *branch)
{
	const struct conf *conf = c->server->conf;
	char via[400], rr[400], trust[800], *text;
	size_t len;
	/* sent-by names the listener on the side the request leaves from. */
	const struct sockaddr_storage *side =
	    rt->target->kind == METRIC_SIP_MTLS ? &conf->sip_mtls_listen : &conf->sip_tls_listen;
	snprintf(via, sizeof(via), "SIP/2.0/TLS %s:%u;branch=%s;el-conn=%lu", conf->edge_fqdn,
	         addr_port((const struct sockaddr *)side), branch, c->id);
	snprintf(rr, sizeof(rr), "<sip:edgelab@%s;transport=tls;lr;el-a=%lu;el-b=%lu>",
	         conf->edge_fqdn, c->id, rt->target->id);
	trust_value(c, trust, sizeof(trust));
	struct sip_fwd_edit e = {via,         rt->ruri[0] ? rt->ruri : NULL,   rt->pop_route,
	                         max_fwd - 1, dialog_forming(req) ? rr : NULL, trust};
	if (sip_fwd_request(req, &e, &text, &len))
		return sip_conn_reply(c, req, 500, "Server Internal Error", NULL);
	sip_conn_send(rt->target, text, len);
	free(text);
	log_debug("sip #%lu -> #%lu: %.*s %.*s", c->id, rt->target->id, (int)req->met.l, req->met.p,
	          (int)req->ruri.l, req->ruri.p);
}

void sip_proxy_request(struct sip_conn *c, const struct sip_msg *req)
{
	struct route rt = {0};
	char branch[40];
	int max_fwd = MAX_FORWARDS_DEFAULT;
	if (sipmsg_max_forwards(req, &max_fwd) == 0 && max_fwd == 0)
		return sip_conn_reply(c, req, 483, "Too Many Hops", NULL);
	snprintf(branch, sizeof(branch), "z9hG4bK-el%016llx",
	         (unsigned long long)branch_hash(req, c->server->conf->edge_fqdn));
	if (looped(req, branch))
		return sip_conn_reply(c, req, 482, "Loop Detected", NULL);
	const struct sip_hdr *r = route_to_us(c->server, req);
	if (r)
		route_in_dialog(c, r, &rt);
	if (!rt.target && !rt.code)
		route_by_uri(c, req, &rt);
	if (!rt.target) {
		if (!pl_eq(&req->met, "ACK"))
			sip_conn_reply(c, req, rt.code, rt.reason, NULL);
		return;
	}
	forward(c, req, &rt, max_fwd, branch);
}

/* Section 16.7: the top Via must be the edge's; it names the connection the
 * request came on. Anything else is dropped. */
void sip_proxy_response(struct sip_conn *c, const struct sip_msg *resp)
{
	struct sip_server *s = c->server;
	char *text;
	size_t len;
	if (!pl_eq(&resp->via.sentby, s->conf->edge_fqdn) &&
	    !(resp->via.sentby.l > strlen(s->conf->edge_fqdn) &&
	      strncasecmp(resp->via.sentby.p, s->conf->edge_fqdn, strlen(s->conf->edge_fqdn)) == 0))
		return;
	unsigned long id = param_ulong(&resp->via.params, "el-conn");
	if (id == 0) { /* an answer to the edge's own OPTIONS ping */
		log_info("sip #%lu: partner %s answered OPTIONS: %u %.*s", c->id, c->partner,
		         resp->scode, (int)resp->reason.l, resp->reason.p);
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
