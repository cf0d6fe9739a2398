/* SIP SERVICE to the edge: MRAS (sipfront/mras.h). A client on 443,
 * authenticated as for REGISTER when the edge has sip_user accounts, asks
 * for relay credentials and gets core/mras.h's, for the identity in its
 * From, valid the minutes it asked for up to mras_duration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "core/mras.h"
#include "sipfront/auth.h"
#include "sipfront/mras.h"
#include "sipfront/registrar.h"
#include "sipfront/reply.h"
#include "sipfront/server_priv.h"

/* Where the relay is, as the configuration says: the UDP and TCP ports a
 * client outside reaches (the pseudo-TLS listener's, else STUN/TCP's). */
static void relay_of(const struct conf *conf, struct sip_mras_relay *relay)
{
	relay->host = conf->edge_fqdn;
	relay->udp_port =
	    conf->stun_udp_enabled ? addr_port((const struct sockaddr *)&conf->stun_udp_listen) : 0;
	relay->tcp_port =
	    conf->msturn_tls_enabled ? addr_port((const struct sockaddr *)&conf->msturn_tls_listen)
	    : conf->stun_tcp_enabled ? addr_port((const struct sockaddr *)&conf->stun_tcp_listen)
	                             : 0;
}

void sip_handle_service(struct sip_conn *c, const struct sip_msg *req)
{
	struct sip_server *s = c->server;
	const struct conf *conf = s->conf;
	struct sip_mras_request mr;
	char challenge[300], identity[SIP_AOR_MAX + 8];
	if (!msg_ctype_cmp(&req->ctyp, "application", "msrtc-media-relay-auth+xml"))
		return sip_conn_reply(c, req, 415, "Unsupported Media Type",
		                      "Accept: " SIP_MRAS_CTYPE "\r\n");
	if (c->kind != METRIC_SIP_TLS)
		return sip_conn_reply(c, req, 403, "Forbidden (MRAS is for clients, on 443)", NULL);
	if (!conf->mras_secret[0])
		return sip_conn_reply(c, req, 403, "Forbidden (MRAS is off: no mras_secret)", NULL);
	if (sip_auth_request(conf, s->auth_secret, req, &req->from.uri.user, time(NULL), challenge,
	                     sizeof(challenge)))
		return sip_conn_reply(c, req, 401, "Unauthorized", challenge);
	if (sip_mras_parse((const char *)mbuf_buf(req->mb), mbuf_get_left(req->mb), &mr))
		return sip_conn_reply(c, req, 400, "Bad Request (no credentialsRequest)", NULL);
	snprintf(identity, sizeof(identity), "sip:%.*s@%.*s", (int)req->from.uri.user.l,
	         req->from.uri.user.p, (int)req->from.uri.host.l, req->from.uri.host.p);
	unsigned minutes =
	    mr.duration && mr.duration < conf->mras_duration ? mr.duration : conf->mras_duration;
	char user[MRAS_USERNAME_MAX], pass[MRAS_PASSWORD_LEN + 1];
	char user64[MRAS_USERNAME_B64_MAX], pass64[MRAS_PASSWORD_B64_MAX];
	if (mras_issue(conf->mras_secret, time(NULL), minutes, identity, user, pass))
		return sip_conn_reply(c, req, 500, "Server Internal Error (MRAS)", NULL);
	mras_base64(user, strlen(user), user64);
	mras_base64(pass, strlen(pass), pass64);
	struct sip_mras_relay relay;
	relay_of(conf, &relay);
	char *body, *text;
	size_t body_len, len;
	if (sip_mras_response(&mr, user64, pass64, minutes, &relay, &body, &body_len))
		return;
	if (!sip_reply_build_body(req, 200, "OK", NULL, SIP_MRAS_CTYPE, body, body_len, &text,
	                          &len)) {
		sip_conn_send(c, text, len);
		free(text);
	}
	free(body);
	log_info("sip #%lu %s: MRAS credentials for %s, %u minutes", c->id, c->peer_str, identity,
	         minutes);
}
