/* Admission on the control API's listeners with credentials, and the
 * trigger rate on every listener (control/server_priv.h): who a request
 * comes from, decided before any route is looked up, so that no refused
 * request reaches a handler. */
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "control/server_priv.h"
#include "core/addr.h"
#include "sipfront/tls.h"

#define DETAIL_MAX 256

/* How each refusal at dispatch is answered (docs/control-api.md). */
static const struct {
	int code;
	const char *reason;
	const char *challenge; /* WWW-Authenticate, or NULL */
	const char *body;
} answers[CONTROL_REFUSED_COUNT] = {
    [CONTROL_REFUSED_NO_CREDENTIALS] = {401, "Unauthorized", "Bearer realm=\"edgelab\"",
                                        "credentials needed: a client certificate or "
                                        "Authorization: Bearer\n"},
    [CONTROL_REFUSED_BAD_TOKEN] = {401, "Unauthorized",
                                   "Bearer realm=\"edgelab\", error=\"invalid_token\"",
                                   "bad token\n"},
    [CONTROL_REFUSED_BAD_CERTIFICATE] = {403, "Forbidden", NULL, NULL}, /* the verify error */
    [CONTROL_REFUSED_UNLISTED_NAME] = {403, "Forbidden", NULL,
                                       "client certificate names no control_client\n"},
    [CONTROL_REFUSED_TLS_HANDSHAKE] = {400, "Bad Request", NULL, "no TLS\n"},
    [CONTROL_REFUSED_RATE_LIMITED] = {429, "Too Many Requests", NULL,
                                      "too many triggers; retry in a second\n"},
};

const char *control_peer_str(struct evhttp_request *req, char *out, size_t cap)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	const struct sockaddr *sa = evcon ? evhttp_connection_get_addr(evcon) : NULL;
	struct sockaddr_storage ss;
	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		snprintf(out, cap, "unix");
		return out;
	}
	addr_unmap(sa, &ss);
	return addr_str((const struct sockaddr *)&ss, out, cap);
}

/* "token@IP" ("token@unix" on a unix socket). */
static void token_client(struct evhttp_request *req, char *client, size_t cap)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	const struct sockaddr *sa = evcon ? evhttp_connection_get_addr(evcon) : NULL;
	struct sockaddr_storage ss;
	char ip[ADDR_STR_MAX] = "unix";
	if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		addr_unmap(sa, &ss);
		addr_ip_str((const struct sockaddr *)&ss, ip, sizeof(ip));
	}
	snprintf(client, cap, "token@%s", ip);
}

/* Answers, logs and counts: the request goes no further. */
static void refuse(struct control_server *s, struct evhttp_request *req, enum control_refusal why,
                   const char *detail)
{
	char peer[ADDR_STR_MAX], body[DETAIL_MAX + 32];
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	control_refused(s, control_peer_str(req, peer, sizeof(peer)), why, detail);
	if (answers[why].challenge)
		evhttp_add_header(out, "WWW-Authenticate", answers[why].challenge);
	if (why == CONTROL_REFUSED_RATE_LIMITED)
		evhttp_add_header(out, "Retry-After", "1");
	else /* a client refused its credentials gets no second try on this connection */
		evhttp_add_header(out, "Connection", "close");
	if (answers[why].body)
		snprintf(body, sizeof(body), "%s", answers[why].body);
	else
		snprintf(body, sizeof(body), "client certificate: %s\n",
		         detail ? detail : "refused");
	struct evbuffer *buf = evbuffer_new();
	if (buf)
		evbuffer_add(buf, body, strlen(body));
	evhttp_add_header(out, "Content-Type", "text/plain");
	evhttp_send_reply(req, answers[why].code, answers[why].reason, buf);
	if (buf)
		evbuffer_free(buf);
}

/* The client certificate, when one was presented: 0 with its listed name in
 * name, else the refusal (detail filled). */
static int check_certificate(const struct control_access *a, SSL *ssl, char *name, size_t cap,
                             enum control_refusal *why, char *detail, size_t detail_cap)
{
	const char *names[CONTROL_CLIENTS_MAX];
	long verify = SSL_get_verify_result(ssl);
	if (verify != X509_V_OK) {
		*why = CONTROL_REFUSED_BAD_CERTIFICATE;
		snprintf(detail, detail_cap, "%s", X509_verify_cert_error_string(verify));
		return -1;
	}
	for (size_t i = 0; i < a->n_clients; i++)
		names[i] = a->clients[i];
	if (sip_tls_peer_match(ssl, names, a->n_clients, name, cap) == 0)
		return 0;
	char seen[DETAIL_MAX - 32];
	sip_tls_peer_names(ssl, seen, sizeof(seen));
	*why = CONTROL_REFUSED_UNLISTED_NAME;
	snprintf(detail, detail_cap, "certificate for %s", seen[0] ? seen : "(no name)");
	return -1;
}

/* The Authorization headers: how many, and the first one's value. */
static size_t authorization(struct evhttp_request *req, const char **value)
{
	size_t n = 0;
	struct evkeyval *h;
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next)
	if (strcasecmp(h->key, "Authorization") == 0 && n++ == 0)
		*value = h->value;
	return n;
}

int control_admit(const struct control_listener *l, struct evhttp_request *req, const char *path,
                  char *client, size_t cap)
{
	struct control_server *s = l->srv;
	char name[CONF_NAME_MAX + 1] = "", detail[DETAIL_MAX] = "";
	enum control_refusal why;
	const char *value = NULL, *tok;
	size_t tok_len;
	SSL *ssl = l->tls ? control_https_ssl(req) : NULL;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET && strcmp(path, "/healthz") == 0) {
		snprintf(client, cap, "-"); /* needs none, and triggers nothing */
		return 0;
	}
	if (l->tls && !ssl) { /* never served: libevent fell back to plain TCP */
		refuse(s, req, CONTROL_REFUSED_TLS_HANDSHAKE, "no TLS on the connection");
		return -1;
	}
	if (ssl && SSL_get0_peer_certificate(ssl) &&
	    check_certificate(&s->access, ssl, name, sizeof(name), &why, detail, sizeof(detail))) {
		refuse(s, req, why, detail);
		return -1;
	}
	size_t n_auth = authorization(req, &value);
	if (n_auth == 0 && !name[0]) {
		refuse(s, req, CONTROL_REFUSED_NO_CREDENTIALS, NULL);
		return -1;
	}
	if (n_auth > 0 && (n_auth > 1 || control_bearer_parse(value, &tok, &tok_len) ||
	                   !control_token_equal(&s->access.token, tok, tok_len))) {
		refuse(s, req, CONTROL_REFUSED_BAD_TOKEN,
		       n_auth > 1 ? "several Authorization" : NULL);
		return -1;
	}
	if (name[0])
		snprintf(client, cap, "%s", name);
	else
		token_client(req, client, cap);
	return 0;
}

bool control_admit_trigger(struct control_server *s, struct evhttp_request *req, const char *client)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	if (control_rate_take(&s->rate, client, s->access.trigger_rate, ms))
		return true;
	refuse(s, req, CONTROL_REFUSED_RATE_LIMITED, client);
	return false;
}
