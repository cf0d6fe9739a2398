#include "sipfront/route.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"

#define MAX_FORWARDS_DEFAULT 70

unsigned long sip_param_ulong(const struct pl *params, const char *name)
{
	char buf[512], key[32];
	if (sipmsg_pl_copy(buf, sizeof(buf), params))
		return 0;
	snprintf(key, sizeof(key), ";%s=", name);
	const char *p = strstr(buf, key);
	return p ? strtoul(p + strlen(key), NULL, 10) : 0;
}

static bool name_is(const char *conf_name, const char *name, size_t len)
{
	return conf_name[0] && strlen(conf_name) == len && strncasecmp(conf_name, name, len) == 0;
}

const struct conf_partner *sip_route_partner(const struct conf *conf, const char *name, size_t len)
{
	for (size_t i = 0; i < conf->n_partners; i++) {
		const struct conf_partner *p = &conf->partners[i];
		if (name_is(p->domain, name, len) || name_is(p->host, name, len))
			return p;
	}
	return NULL;
}

bool sip_uri_is_edge(const struct conf *conf, const struct uri *u)
{
	if (sipmsg_pl_eq(&u->host, conf->edge_fqdn) || sipmsg_pl_eq(&u->host, conf->sip_domain))
		return true;
	const struct sockaddr_storage *ls[] = {&conf->sip_tls_listen, &conf->sip_mtls_listen};
	for (size_t i = 0; i < 2; i++) {
		char ip[ADDR_STR_MAX];
		uint16_t port = addr_port((const struct sockaddr *)ls[i]);
		addr_ip_str((const struct sockaddr *)ls[i], ip, sizeof(ip));
		if (sipmsg_pl_eq(&u->host, ip) && (!u->port || u->port == port))
			return true;
	}
	return false;
}

/* Section 16.11: a hash of the request's own top branch, so that a CANCEL
 * (same top Via as its INVITE) takes the INVITE's branch. */
static void make_branch(const struct conf *conf, const struct sip_msg *req, char *out, size_t cap)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < req->via.branch.l; i++)
		h = (h ^ (uint8_t)req->via.branch.p[i]) * 0x100000001b3ull;
	for (const char *p = conf->edge_fqdn; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	snprintf(out, cap, "z9hG4bK-el%016llx", (unsigned long long)h);
}

/* Section 16.3 step 4: the edge's own branch in the Via list is a loop. */
static bool looped(const struct sip_msg *req, const char *branch)
{
	size_t blen = strlen(branch);
	for (struct le *le = req->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;
		if (h->id == SIP_HDR_VIA && h->val.l > blen &&
		    memmem(h->val.p, h->val.l, branch, blen))
			return true;
	}
	return false;
}

static void reply(struct sip_route *rt, int code, const char *reason)
{
	rt->kind = SIP_ROUTE_REPLY;
	rt->code = code;
	rt->reason = reason;
}

static void by_uri(const struct conf *conf, const struct sip_msg *req, bool from_partner,
                   struct sip_route *rt)
{
	const struct pl *host = &req->uri.host;
	if (sipmsg_pl_eq(host, conf->sip_domain) || sipmsg_pl_eq(host, conf->edge_fqdn)) {
		if (!pl_isset(&req->uri.user) ||
		    req->uri.user.l + strlen(conf->sip_domain) + 2 > SIP_AOR_MAX)
			return reply(rt, 404, "Not Found (no such user)");
		rt->kind = SIP_ROUTE_LOCAL_USER;
		snprintf(rt->aor, sizeof(rt->aor), "%.*s@%s", (int)req->uri.user.l, req->uri.user.p,
		         conf->sip_domain);
		return;
	}
	rt->partner = sip_route_partner(conf, host->p, host->l);
	if (!rt->partner && conf->next_hop_set && !from_partner) {
		rt->kind = SIP_ROUTE_NEXT_HOP;
		return;
	}
	if (!rt->partner)
		return reply(rt, 403, "Forbidden (not a federation partner)");
	if (from_partner) /* partners reach the edge's users, not each other */
		return reply(rt, 403, "Forbidden (no relaying between partners)");
	rt->kind = SIP_ROUTE_PARTNER;
}

void sip_route_decide(const struct conf *conf, const struct sip_msg *req, bool from_partner,
                      struct sip_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->max_forwards = MAX_FORWARDS_DEFAULT;
	if (sipmsg_max_forwards(req, &rt->max_forwards) == 0 && rt->max_forwards == 0)
		return reply(rt, 483, "Too Many Hops");
	rt->max_forwards--;
	make_branch(conf, req, rt->branch, sizeof(rt->branch));
	if (looped(req, rt->branch))
		return reply(rt, 482, "Loop Detected");
	/* Section 16.4: a first Route naming the edge is removed; its flow
	 * tokens, when the edge recorded the route itself, name the dialog's
	 * two connections. */
	const struct sip_hdr *r = sip_msg_hdr(req, SIP_HDR_ROUTE);
	struct sip_addr addr;
	if (r && !sip_addr_decode(&addr, &r->val) && sip_uri_is_edge(conf, &addr.uri)) {
		rt->pop_route = true;
		rt->flow_a = sip_param_ulong(&r->val, "el-a");
		rt->flow_b = sip_param_ulong(&r->val, "el-b");
		if (rt->flow_a || rt->flow_b) {
			rt->kind = SIP_ROUTE_FLOW;
			return;
		}
	}
	by_uri(conf, req, from_partner, rt);
}
