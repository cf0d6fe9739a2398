/* POST /rows/2[?partner=DOMAIN]: the edge sends OPTIONS to the partner now
 * (the only one when there is one), over MTLS (sipfront/ping.c). 202 when
 * sent, with "Location: /flows/ID", the flow's record (control/flows.h),
 * which gets the ping's end: answered (the response's status), dns (the
 * partner's lookup failed: dns-name, and the reason's word first in
 * detail), reset, icmp, tls-failed, timeout (SIP_PING_WAIT_MS, naming the
 * stage), error or cancelled. 400 when no partner was named and there are
 * several, 404 for an unknown partner, 503 when no connection could be had,
 * too many pings await their end, or SIP is off. */
#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "control/api.h"
#include "core/log.h"

/* The handlers' state: the pings awaiting their end (cancelled on close). */
struct rows_sip {
	const struct control_ctx *ctx;
	struct flows *flows;
	LIST_HEAD(, ping_job) jobs;
};

struct ping_job {
	LIST_ENTRY(ping_job) link;
	struct rows_sip *rs;
	unsigned long ping_id;
	uint64_t flow_id;
};

static const enum flow_outcome outcomes[] = {
    [SIP_PING_ANSWERED] = FLOW_ANSWERED,   [SIP_PING_RESET] = FLOW_RESET,
    [SIP_PING_ICMP] = FLOW_ICMP,           [SIP_PING_TLS_FAILED] = FLOW_TLS_FAILED,
    [SIP_PING_TIMEOUT] = FLOW_TIMEOUT,     [SIP_PING_ERROR] = FLOW_ERROR,
    [SIP_PING_CANCELLED] = FLOW_CANCELLED, [SIP_PING_DNS] = FLOW_DNS,
};

static void ping_done(const struct sip_ping_result *res, void *arg)
{
	struct ping_job *j = arg;
	struct flows *flows = j->rs->flows;
	struct flow_record *r = flows_find(flows, j->flow_id);
	char what[ADDR_STR_MAX + 16];
	LIST_REMOVE(j, link);
	free(j);
	log_info("row 2: %s", res->detail);
	if (!r)
		return; /* forgotten already */
	if (res->local.ss_family != AF_UNSPEC)
		addr_str((const struct sockaddr *)&res->local, r->source, sizeof(r->source));
	if (res->peer.ss_family != AF_UNSPEC)
		addr_str((const struct sockaddr *)&res->peer, r->target, sizeof(r->target));
	snprintf(r->dns_name, sizeof(r->dns_name), "%s", res->dns_name);
	snprintf(what, sizeof(what), "SYN to %s", r->target);
	if (res->outcome == SIP_PING_ICMP)
		flows_set_icmp(r, what, &res->icmp);
	else
		flows_set(r, outcomes[res->outcome], "%s", res->detail);
	flows_ended(flows, r);
}

/* Sends the ping; 202 with the record started, or an error code. */
static int ping(struct rows_sip *rs, const char *partner, char *msg, size_t len, uint64_t *flow_id)
{
	struct ping_job *j = calloc(1, sizeof(*j));
	if (!j) {
		snprintf(msg, len, "out of memory");
		return 503;
	}
	j->rs = rs;
	int rc =
	    sip_server_ping_partner(rs->ctx->sip, partner, ping_done, j, &j->ping_id, msg, len);
	if (rc) {
		free(j);
		return rc == ENOENT ? 404 : 503;
	}
	/* Its end comes later, never from within the call above. */
	struct flow_record *r = flows_add(rs->flows, FLOW_ROW2);
	j->flow_id = *flow_id = r->id;
	snprintf(r->partner, sizeof(r->partner), "%s", partner);
	LIST_INSERT_HEAD(&rs->jobs, j, link);
	return 202;
}

static void row2_handler(struct evhttp_request *req, void *arg)
{
	struct rows_sip *rs = arg;
	const struct control_ctx *ctx = rs->ctx;
	char msg[400], loc[48];
	uint64_t flow_id = 0;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	evhttp_parse_query_str(query ? query : "", &q);
	const char *partner = evhttp_find_header(&q, "partner");
	if (!partner && ctx->conf->n_partners == 1)
		partner = ctx->conf->partners[0].domain;
	int code = 202;
	if (!ctx->sip) {
		code = 503;
		snprintf(msg, sizeof(msg), "SIP is off (no certificates)\n");
	} else if (!partner) {
		code = 400;
		snprintf(msg, sizeof(msg), "which partner? POST /rows/2?partner=DOMAIN\n");
	} else {
		code = ping(rs, partner, msg, sizeof(msg) - 1, &flow_id);
		if (code != 202)
			strcat(msg, "\n");
	}
	evhttp_clear_headers(&q);
	if (code == 202) {
		snprintf(loc, sizeof(loc), "/flows/%llu", (unsigned long long)flow_id);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	}
	log_info("control: POST /rows/2: %d %.*s", code, (int)strcspn(msg, "\n"), msg);
	control_reply_text(req, code, msg);
}

static int rows_sip_open(void **statep, const struct control_ctx *ctx, struct flows *flows)
{
	struct rows_sip *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return ENOMEM;
	rs->ctx = ctx;
	rs->flows = flows;
	LIST_INIT(&rs->jobs);
	*statep = rs;
	return 0;
}

/* Each ping awaiting its end ends cancelled (ping_done records it). */
static void rows_sip_close(void *state)
{
	struct rows_sip *rs = state;
	while (!LIST_EMPTY(&rs->jobs))
		sip_server_ping_cancel(rs->ctx->sip, LIST_FIRST(&rs->jobs)->ping_id);
	free(rs);
}

static const struct control_route routes[] = {
    {"/rows/2", EVHTTP_REQ_POST, row2_handler, "POST /rows/2?partner=DOMAIN\n"},
    {NULL, 0, NULL, NULL},
};

const struct control_api control_api_rows_sip = {
    .name = "rows_sip",
    .routes = routes,
    .open = rows_sip_open,
    .close = rows_sip_close,
};
