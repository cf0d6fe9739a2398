/* What the edge does with one request: answer OPTIONS to itself, register
 * users of its own domain, and give every other request a clear answer.
 * Requests are checked before anything else (a bad one gets 400). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "sipfront/auth.h"
#include "sipfront/registrar.h"
#include "sipfront/reply.h"
#include "sipfront/server_priv.h"
#include "sipfront/sipmsg.h"

#define EXPIRES_DEFAULT 600
#define EXPIRES_MIN     60
#define EXPIRES_MAX     3600

static const char allow_hdrs[] =
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, INFO, NOTIFY, SUBSCRIBE\r\n"
    "Accept: application/sdp, text/plain\r\n";

/* The edge's own names: the SIP domain and the access FQDN. */
static bool is_ours(const struct sip_server *s, const struct pl *host)
{
	return sipmsg_pl_eq(host, s->conf->sip_domain) || sipmsg_pl_eq(host, s->conf->edge_fqdn);
}

static enum metric_sip_method method_of(const struct sip_msg *req)
{
	static const char *const names[] = {"REGISTER", "OPTIONS", "MESSAGE", "INVITE"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sipmsg_pl_eq(&req->met, names[i]))
			return (enum metric_sip_method)i;
	return METRIC_SIP_OTHER;
}

/* The Contact's expires parameter wins over the Expires header (RFC 3261
 * section 10.3 step 7); it is taken out of contact, which is echoed with the
 * expiry granted. */
static unsigned expires_of(const struct sip_msg *req, char *contact)
{
	char *gt = strrchr(contact, '>');
	char *param = strcasestr(gt ? gt : contact, ";expires=");
	unsigned v;
	if (param) {
		v = (unsigned)strtoul(param + 9, NULL, 10);
		size_t tail = strcspn(param + 1, ";");
		memmove(param, param + 1 + tail, strlen(param + 1 + tail) + 1);
	} else if (pl_isset(&req->expires)) {
		v = pl_u32(&req->expires);
	} else {
		return EXPIRES_DEFAULT;
	}
	if (v == 0)
		return 0;
	return v < EXPIRES_MIN ? EXPIRES_MIN : v > EXPIRES_MAX ? EXPIRES_MAX : v;
}

static void handle_register(struct sip_conn *c, const struct sip_msg *req)
{
	struct sip_server *s = c->server;
	char aor[SIP_AOR_MAX], contact[SIP_CONTACT_MAX], extra[SIP_CONTACT_MAX + 64];
	if (c->kind != METRIC_SIP_TLS)
		return sip_conn_reply(c, req, 403, "Forbidden (register over 443)", NULL);
	char challenge[300];
	if (sip_auth_register(s->conf, s->auth_secret, req, time(NULL), challenge,
	                      sizeof(challenge)))
		return sip_conn_reply(c, req, 401, "Unauthorized", challenge);
	if (!is_ours(s, &req->uri.host) || !is_ours(s, &req->to.uri.host))
		return sip_conn_reply(c, req, 403, "Forbidden (not this edge's domain)", NULL);
	if (!pl_isset(&req->to.uri.user) ||
	    req->to.uri.user.l + req->to.uri.host.l + 2 > sizeof(aor))
		return sip_conn_reply(c, req, 400, "Bad Request (no user in To)", NULL);
	snprintf(aor, sizeof(aor), "%.*s@%s", (int)req->to.uri.user.l, req->to.uri.user.p,
	         s->conf->sip_domain);
	const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTACT);
	if (!ct) /* a query: nothing bound is reported */
		return sip_conn_reply(c, req, 200, "OK", NULL);
	if (ct->val.l >= sizeof(contact))
		return sip_conn_reply(c, req, 400, "Bad Request (Contact too long)", NULL);
	snprintf(contact, sizeof(contact), "%.*s", (int)ct->val.l, ct->val.p);
	unsigned expires = expires_of(req, contact);
	int rc = sip_registrar_bind(s, c, aor, contact, expires, time(NULL));
	if (rc && !(rc == ENOENT && expires == 0))
		return sip_conn_reply(c, req, 503, "Service Unavailable (registrar full)", NULL);
	if (expires)
		snprintf(extra, sizeof(extra), "Contact: %s;expires=%u\r\n", contact, expires);
	else
		extra[0] = '\0';
	log_info("sip #%lu %s: %s %s", c->id, c->peer_str, expires ? "registered" : "unregistered",
	         aor);
	sip_conn_reply(c, req, 200, "OK", extra);
}

static void handle_request(struct sip_conn *c, const struct sip_msg *req)
{
	const char *why = NULL;
	enum metric_sip_method method = method_of(req);
	metrics_inc(c->server->metrics, &metric_sip_requests_total, method);
	if (sipmsg_validate(req, &why)) {
		char reason[128];
		snprintf(reason, sizeof(reason), "Bad Request (%s)", why);
		metrics_inc(c->server->metrics, &metric_sip_bad_requests_total, 0);
		return sip_conn_reply(c, req, 400, reason, NULL);
	}
	if (sipmsg_pl_eq(&req->met, "ACK"))
		return; /* never answered (RFC 3261 section 17.2.1) */
	if (method == METRIC_SIP_OPTIONS && !pl_isset(&req->uri.user) &&
	    is_ours(c->server, &req->uri.host))
		return sip_conn_reply(c, req, 200, "OK", allow_hdrs);
	if (method == METRIC_SIP_REGISTER && !pl_isset(&req->uri.user) &&
	    is_ours(c->server, &req->uri.host))
		return handle_register(c, req);
	/* MRAS: SERVICE to the edge or to its domain (Lync names its MRAS URI
	 * with a user part; the edge proxies no SERVICE anywhere). */
	if (sipmsg_pl_eq(&req->met, "SERVICE") && is_ours(c->server, &req->uri.host))
		return sip_handle_service(c, req);
	sip_proxy_request(c, req);
}

void sip_handle_message(struct sip_conn *c, const uint8_t *buf, size_t len)
{
	struct sip_msg *msg = NULL;
	if (sipmsg_decode(&msg, buf, len)) {
		/* No Via to answer along: a message that does not parse closes. */
		metrics_inc(c->server->metrics, &metric_sip_bad_requests_total, 0);
		log_info("sip #%lu %s: unparsable message, closing", c->id, c->peer_str);
		sip_conn_close_after_flush(c);
		return;
	}
	if (msg->req)
		handle_request(c, msg);
	else
		sip_proxy_response(c, msg);
	mem_deref(msg);
}
