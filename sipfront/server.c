#include "sipfront/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/evict.h"
#include "core/log.h"
#include "sipfront/auth.h"
#include "sipfront/dns.h"
#include "sipfront/server_priv.h"
#include "sipfront/tls.h"

/* Builds the contexts from conf into *tls, *mtls and *client; nothing on
 * failure. Partners are checked against the federation CA both ways; tls_ca
 * is the control API's. */
static int load_contexts(const struct conf *conf, SSL_CTX **tls, SSL_CTX **mtls, SSL_CTX **client,
                         char *err, size_t err_len)
{
	const char *ca = conf_federation_ca(conf);
	const char *const files[] = {conf->tls_certificate, conf->tls_key, ca};
	for (size_t i = 0; i < 3; i++) {
		if (access(files[i], R_OK) != 0) {
			int e = errno;
			snprintf(err, err_len, "%s: %s (edgelab pki writes the lab's)", files[i],
			         strerror(e));
			return ENOENT;
		}
	}
	*tls = *mtls = *client = NULL;
	int rc = sip_tls_server_ctx(tls, conf->tls_certificate, conf->tls_key, NULL, err, err_len);
	if (!rc)
		rc = sip_tls_server_ctx(mtls, conf->tls_certificate, conf->tls_key, ca, err,
		                        err_len);
	if (!rc)
		rc = sip_tls_client_ctx(client, conf->tls_certificate, conf->tls_key, ca, err,
		                        err_len);
	if (rc) {
		SSL_CTX_free(*tls);
		SSL_CTX_free(*mtls);
		*tls = *mtls = NULL;
	}
	return rc;
}

/* A resolver asking the conf's dns_server, or the system's servers. */
static int dns_open(struct sip_dns **dp, struct event_base *base, const struct conf *conf,
                    char *err, size_t err_len)
{
	char why[256];
	const struct sockaddr *server =
	    conf->dns_server_set ? (const struct sockaddr *)&conf->dns_server : NULL;
	int rc = sip_dns_open(dp, base, server, why, sizeof(why));
	if (rc)
		snprintf(err, err_len, "dns_server: %s", why);
	return rc;
}

static bool dns_server_changed(const struct conf *a, const struct conf *b)
{
	return a->dns_server_set != b->dns_server_set ||
	       (a->dns_server_set && !addr_equal((const struct sockaddr *)&a->dns_server,
	                                         (const struct sockaddr *)&b->dns_server));
}

/* Connections from one source address, for sip_max_connections_per_source. */
static unsigned conns_from(const struct sip_server *s, const struct sockaddr *peer)
{
	unsigned n = 0;
	const struct sip_conn *c;
	LIST_FOREACH(c, &s->conns, link)
	{
		struct sockaddr_storage a = c->peer, b;
		memcpy(&b, peer, addr_len(peer));
		addr_set_port((struct sockaddr *)&a, 0);
		addr_set_port((struct sockaddr *)&b, 0);
		n += addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b);
	}
	return n;
}

static void refuse(struct sip_listener *l, evutil_socket_t fd, const struct sockaddr *peer,
                   enum metric_sip_refusal why, const char *text)
{
	char where[ADDR_STR_MAX];
	metrics_inc(l->server->metrics, &metric_sip_refused_total,
	            metrics_label2(&metric_sip_refused_total, l->kind, why));
	log_warn("sip %s: refused %s: %s", l->kind == METRIC_SIP_TLS ? "tls" : "mtls",
	         addr_str(peer, where, sizeof(where)), text);
	close(fd);
}

/* Closes v to make room for a new connection: counted, and logged at most
 * EVICT_LOG_PER_S times a second (a flood would fill the log). */
static void evict(struct sip_server *s, struct sip_conn *v, enum evict_state why, uint64_t now)
{
	char more[48];
	metrics_inc(s->metrics, &metric_sip_evicted_total,
	            metrics_label2(&metric_sip_evicted_total, v->kind, why));
	if (evict_log_take(&s->evict_log, now, more, sizeof(more)))
		log_warn("sip %s #%lu %s: evicted at sip_max_connections (%u): %s for %.1f s%s",
		         v->kind == METRIC_SIP_TLS ? "tls" : "mtls", v->id, v->peer_str,
		         s->conf->sip_max_connections,
		         why == EVICT_HANDSHAKE ? "no TLS handshake" : "idle, no registration",
		         (double)(now - v->since_ms) / 1000.0, more);
	sip_conn_free(v, NULL);
}

/* The connection core/evict.h picks, evicted; false when there is none. */
static bool make_room(struct sip_server *s)
{
	struct evict_pick pick;
	struct sip_conn *c;
	uint64_t now = evict_now_ms(), since;
	evict_pick_init(&pick);
	LIST_FOREACH(c, &s->conns, link)
	{
		enum evict_state state = sip_conn_evict_state(c, now, &since);
		evict_pick_offer(&pick, c, state, since);
	}
	if (!pick.victim)
		return false;
	evict(s, pick.victim, pick.state, now);
	return true;
}

/* The per-source limit refuses (a source cannot evict its way past it);
 * the total one evicts (core/evict.h), and refuses only when nothing can
 * go. The edge's own outbound connections count but are never evicted,
 * so the total may be exceeded by more than one: a few go at most. */
static bool full(struct sip_server *s)
{
	for (int i = 0; i < SIP_EVICT_PER_ACCEPT; i++)
		if (s->n_conns < s->conf->sip_max_connections || !make_room(s))
			break;
	return s->n_conns >= s->conf->sip_max_connections;
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *peer,
                      int peer_len, void *arg)
{
	(void)lev;
	(void)peer_len;
	struct sip_listener *l = arg;
	struct sip_server *s = l->server;
	if (conns_from(s, peer) >= s->conf->sip_max_connections_source)
		refuse(l, fd, peer, METRIC_SIP_REFUSED_LIMIT_SOURCE,
		       "sip_max_connections_per_source reached");
	else if (full(s))
		refuse(l, fd, peer, METRIC_SIP_REFUSED_LIMIT_TOTAL, "sip_max_connections reached");
	else
		sip_conn_accept(l, fd, peer);
}

static int open_listener(struct sip_server *s, enum metric_sip_listener kind,
                         const struct sockaddr_storage *sa, char *err, size_t err_len)
{
	char where[ADDR_STR_MAX];
	struct sip_listener *l = &s->listeners[kind];
	l->server = s;
	l->kind = kind;
	l->lev = evconnlistener_new_bind(
	    s->base, accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, 128,
	    (const struct sockaddr *)sa, addr_len((const struct sockaddr *)sa));
	if (l->lev)
		return 0;
	int rc = errno ? errno : ENOMEM;
	snprintf(err, err_len, "SIP/%s %s: %s", kind == METRIC_SIP_TLS ? "TLS" : "MTLS",
	         addr_str((const struct sockaddr *)sa, where, sizeof(where)), strerror(rc));
	return rc;
}

static void keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sip_ping_all(arg);
}

/* (Re)arms the keep-alive timer for the conf's interval; 0 stops it. */
static int arm_keepalive(struct sip_server *s)
{
	if (!s->keepalive)
		s->keepalive = event_new(s->base, -1, EV_PERSIST, keepalive_cb, s);
	if (!s->keepalive)
		return ENOMEM;
	event_del(s->keepalive);
	struct timeval tv = {.tv_sec = s->conf->sip_partner_keepalive};
	return tv.tv_sec && event_add(s->keepalive, &tv) ? ENOMEM : 0;
}

int sip_server_alloc(struct sip_server **sp, struct event_base *base, struct conf *conf,
                     struct metrics_shard *metrics, char *err, size_t err_len)
{
	if (sip_metrics_register())
		return ENOSPC;
	struct sip_server *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->base = base;
	s->on_message = sip_handle_message;
	s->pending_done = sip_proxy_pending_done;
	s->conn_ended = sip_ping_conn_ended;
	s->metrics = metrics;
	s->conf = conf_ref(conf);
	LIST_INIT(&s->conns);
	LIST_INIT(&s->bindings);
	LIST_INIT(&s->pings);
	if (sip_auth_secret_init(s->auth_secret)) {
		free(s);
		return EIO;
	}
	int rc = load_contexts(conf, &s->tls_ctx, &s->mtls_ctx, &s->client_ctx, err, err_len);
	if (!rc)
		rc = dns_open(&s->dns, base, conf, err, err_len);
	if (!rc && conf->sip_tls_enabled)
		rc = open_listener(s, METRIC_SIP_TLS, &conf->sip_tls_listen, err, err_len);
	if (!rc && conf->sip_mtls_enabled)
		rc = open_listener(s, METRIC_SIP_MTLS, &conf->sip_mtls_listen, err, err_len);
	if (!rc)
		rc = arm_keepalive(s);
	if (rc) {
		sip_server_free(s);
		return rc;
	}
	*sp = s;
	return 0;
}

/* A new dns_server takes the lookups under way with it. */
int sip_server_set_conf(struct sip_server *s, struct conf *conf, char *err, size_t err_len)
{
	SSL_CTX *tls, *mtls, *client;
	struct sip_dns *dns = NULL;
	int rc = load_contexts(conf, &tls, &mtls, &client, err, err_len);
	if (!rc && dns_server_changed(s->conf, conf) &&
	    (rc = dns_open(&dns, s->base, conf, err, err_len))) {
		SSL_CTX_free(tls);
		SSL_CTX_free(mtls);
		SSL_CTX_free(client);
	}
	if (rc)
		return rc;
	if (dns) {
		struct sip_dns *old = s->dns;
		s->dns = dns;
		s->dns_gen++;
		sip_conn_resolve_moved(s);
		sip_dns_close(old);
	}
	SSL_CTX_free(s->tls_ctx);
	SSL_CTX_free(s->mtls_ctx);
	SSL_CTX_free(s->client_ctx);
	s->tls_ctx = tls;
	s->mtls_ctx = mtls;
	s->client_ctx = client;
	conf_unref(s->conf);
	s->conf = conf_ref(conf);
	return arm_keepalive(s);
}

void sip_server_free(struct sip_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < METRIC_SIP_LISTENER_COUNT; i++)
		if (s->listeners[i].lev)
			evconnlistener_free(s->listeners[i].lev);
	sip_ping_cancel_all(s); /* before their connections end */
	while (!LIST_EMPTY(&s->conns))
		sip_conn_free(LIST_FIRST(&s->conns), NULL);
	sip_registrar_clear(s);
	sip_dns_close(s->dns); /* its lookups were cancelled with their connections */
	if (s->keepalive)
		event_free(s->keepalive);
	SSL_CTX_free(s->tls_ctx);
	SSL_CTX_free(s->mtls_ctx);
	SSL_CTX_free(s->client_ctx);
	conf_unref(s->conf);
	free(s);
}
