/* POST /rows/2[?partner=DOMAIN]: the edge sends OPTIONS to the partner now
 * (the only one when there is one), over MTLS (sipfront/ping.c). 202 when
 * sent, 400 when no partner was named and there are several, 404 for an
 * unknown partner, 503 when no connection could be had or SIP is off. */
#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>

#include "control/api.h"
#include "core/log.h"

static void row2_handler(struct evhttp_request *req, void *arg)
{
	const struct control_ctx *ctx = arg;
	char msg[400];
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
		int rc = sip_server_ping_partner(ctx->sip, partner, msg, sizeof(msg) - 1);
		code = rc == 0 ? 202 : rc == ENOENT ? 404 : 503;
		if (rc)
			strcat(msg, "\n");
	}
	evhttp_clear_headers(&q);
	log_info("control: POST /rows/2: %d %.*s", code, (int)strcspn(msg, "\n"), msg);
	control_reply_text(req, code, msg);
}

static const struct control_route routes[] = {
    {"/rows/2", EVHTTP_REQ_POST, row2_handler, "POST /rows/2?partner=DOMAIN\n"},
    {NULL, 0, NULL, NULL},
};

const struct control_api control_api_rows_sip = {.name = "rows_sip", .routes = routes};
