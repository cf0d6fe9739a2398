/* The routing decision of the stateless proxy, as a pure function of the
 * configuration and the request, so that it can be tested and fuzzed on its
 * own (proxy.c turns the decision into a connection). */
#ifndef EDGELAB_SIPFRONT_ROUTE_H
#define EDGELAB_SIPFRONT_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf.h"
#include "sipfront/registrar.h"
#include "sipfront/sipmsg.h"

#define SIP_BRANCH_MAX 40

enum sip_route_kind {
	SIP_ROUTE_REPLY,      /* the edge answers itself: code and reason */
	SIP_ROUTE_FLOW,       /* inside a dialog the edge recorded: its flow tokens */
	SIP_ROUTE_LOCAL_USER, /* a user of the edge's domain: aor */
	SIP_ROUTE_PARTNER,    /* a federation partner's domain: partner */
	SIP_ROUTE_NEXT_HOP,   /* a domain the edge does not know: sip_next_hop */
};

struct sip_route {
	enum sip_route_kind kind;
	bool pop_route;                     /* the first Route names the edge: remove it */
	unsigned long flow_a, flow_b;       /* SIP_ROUTE_FLOW: the two connections' ids */
	char aor[SIP_AOR_MAX];              /* SIP_ROUTE_LOCAL_USER: user@sip_domain */
	const struct conf_partner *partner; /* SIP_ROUTE_PARTNER */
	int max_forwards;                   /* what the forwarded request carries */
	char branch[SIP_BRANCH_MAX];        /* the edge's Via branch */
	int code;                           /* SIP_ROUTE_REPLY */
	const char *reason;
};

/* Decides where a valid request (sipmsg_validate) goes; from_partner when
 * it came in on 5061. Section 16.3 checks first: Max-Forwards 0 is 483, the
 * edge's own branch in the Via list is 482. */
void sip_route_decide(const struct conf *conf, const struct sip_msg *req, bool from_partner,
                      struct sip_route *rt);
/* The configured partner a host name belongs to (its domain or HOST). */
const struct conf_partner *sip_route_partner(const struct conf *conf, const char *name, size_t len);
/* A URI that names the edge: its FQDN or domain, or a listener address. */
bool sip_uri_is_edge(const struct conf *conf, const struct uri *u);
/* The unsigned number after ";name=" in a parameter list, or 0. */
unsigned long sip_param_ulong(const struct pl *params, const char *name);

#endif
