/* A SIP connection: TLS through bufferevent_openssl, framed by sipfront/frame,
 * each message handed to handler.c. Every connection ends in sip_conn_free,
 * the one place it is logged. Outbound ones are made by conn_out.c (and
 * conn_resolve.c, when their address is still to be found). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/evict.h"
#include "core/log.h"
#include "sipfront/dns.h"
#include "sipfront/frame.h"
#include "sipfront/reply.h"
#include "sipfront/sipmsg.h"
#include "sipfront/server_priv.h"
#include "sipfront/tls.h"

#define WRITE_PAUSE  ((size_t)256 * 1024) /* stop reading while this much is unsent */
#define WRITE_RESUME ((size_t)64 * 1024)
/* Beyond this, what others send to a peer that reads nothing (messages
 * forwarded to it) is dropped: its pause stops only its own requests. */
#define WRITE_MAX ((size_t)1024 * 1024)

static const char *kind_name(enum metric_sip_listener kind)
{
	return kind == METRIC_SIP_TLS ? "tls" : "mtls";
}

void sip_conn_end(struct sip_conn *c, enum sip_ping_outcome outcome, const char *fmt, ...)
{
	va_list ap;
	if (c->end.set)
		return;
	c->end.set = true;
	c->end.outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(c->end.detail, sizeof(c->end.detail), fmt, ap);
	va_end(ap);
}

/* Frees what c holds (its bev, or while TCP connects what stands in for
 * it; its lookup, which then calls nobody) and c. */
static void conn_release(struct sip_conn *c)
{
	if (c->lookup)
		sip_dns_cancel(c->lookup);
	if (c->bev) {
		bufferevent_free(c->bev); /* frees the SSL too (BEV_OPT_CLOSE_ON_FREE) */
	} else {
		if (c->connect_ev)
			event_free(c->connect_ev);
		if (c->fd >= 0)
			close(c->fd);
		SSL_free(c->ssl);
	}
	if (c->early)
		evbuffer_free(c->early);
	if (c->deadline)
		event_free(c->deadline);
	free(c);
}

void sip_conn_free(struct sip_conn *c, const char *why)
{
	struct sip_server *s = c->server;
	if (why)
		log_info("sip %s #%lu %s: closed: %s", kind_name(c->kind), c->id, c->peer_str, why);
	sip_conn_end(c, SIP_PING_ERROR, "the connection to %s ended before an answer: %s",
	             c->peer_str, why ? why : "closed");
	s->conn_ended(c);
	s->pending_done(c, true);
	sip_registrar_forget_conn(s, c);
	LIST_REMOVE(c, link);
	s->n_conns--;
	metrics_add(s->metrics, &metric_sip_connections, 0, -1);
	conn_release(c);
}

static void refused(struct sip_conn *c, enum metric_sip_refusal why, const char *text)
{
	metrics_inc(c->server->metrics, &metric_sip_refused_total,
	            metrics_label2(&metric_sip_refused_total, c->kind, why));
	log_warn("sip %s #%lu %s: refused: %s", kind_name(c->kind), c->id, c->peer_str, text);
	sip_conn_free(c, NULL);
}

void sip_conn_send(struct sip_conn *c, const char *data, size_t len)
{
	if (!c->bev) { /* TCP still connecting: sent once TLS can take it */
		evbuffer_add(c->early, data, len);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > WRITE_MAX) {
		metrics_inc(c->server->metrics, &metric_sip_stalled_dropped_total, 0);
		return;
	}
	bufferevent_write(c->bev, data, len);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > WRITE_PAUSE)
		bufferevent_disable(c->bev, EV_READ);
}

/* Only marks the connection: the read loop or the write callback frees it
 * once the output is empty, so that no caller is left holding a freed c. */
void sip_conn_reply(struct sip_conn *c, const struct sip_msg *req, int code, const char *reason,
                    const char *extra)
{
	char *text;
	size_t len;
	if (sip_reply_build(req, code, reason, extra, &text, &len))
		return;
	sip_conn_send(c, text, len);
	free(text);
	if (code >= 300)
		log_info("sip #%lu %s: %.*s -> %d %s", c->id, c->peer_str, (int)req->met.l,
		         req->met.p, code, reason);
}

void sip_conn_close_after_flush(struct sip_conn *c)
{
	c->closing = true;
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ);
}

/* 5061: the verified certificate must name a partner's domain or host. */
static bool partner_check(struct sip_conn *c)
{
	const struct conf *conf = c->server->conf;
	const char *names[2 * CONF_PARTNERS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < conf->n_partners; i++) {
		names[n++] = conf->partners[i].domain;
		if (conf->partners[i].host[0])
			names[n++] = conf->partners[i].host;
	}
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	int rc = sip_tls_peer_match(ssl, names, n, c->partner, sizeof(c->partner));
	if (rc == 0)
		return true;
	char seen[256], text[400];
	sip_tls_peer_names(ssl, seen, sizeof(seen));
	snprintf(text, sizeof(text), "certificate for %s names no federation partner",
	         seen[0] ? seen : "(no name)");
	refused(c, METRIC_SIP_REFUSED_NOT_PARTNER, text);
	return false;
}

/* (Re)arms an inbound connection's deadline: base_s, shrunk when the
 * server is under pressure (core/evict.h). */
static void arm_deadline(struct sip_conn *c, unsigned base_s)
{
	const struct sip_server *s = c->server;
	uint64_t ms = evict_timeout_ms(base_s, s->n_conns, s->conf->sip_max_connections);
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (c->deadline)
		evtimer_add(c->deadline, &tv);
}

enum evict_state sip_conn_evict_state(const struct sip_conn *c, uint64_t now_ms, uint64_t *since_ms)
{
	*since_ms = c->since_ms;
	/* The edge's own connections, registered users' flows and verified
	 * partners' connections are what clients need. */
	if (c->outbound || c->closing || c->n_bindings || c->partner[0])
		return EVICT_KEEP;
	if (!c->established)
		return EVICT_HANDSHAKE;
	if (c->requested && now_ms - c->since_ms < SIP_TXN_MS)
		return EVICT_KEEP;
	return EVICT_IDLE;
}

static void established(struct sip_conn *c)
{
	const struct conf *conf = c->server->conf;
	/* Outbound, the handshake already checked the partner's expected name
	 * (SSL_set1_host: its HOST or SRV target); inbound, it must name one. */
	if (c->kind == METRIC_SIP_MTLS && !c->outbound && !partner_check(c))
		return;
	c->established = true;
	c->since_ms = evict_now_ms();
	c->server->pending_done(c, false);
	/* Idle: nothing read for that long; or nothing written while output
	 * waits (a peer that reads nothing). */
	struct timeval idle = {.tv_sec = conf->sip_idle_timeout};
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	arm_deadline(c, conf->sip_first_request_timeout);
	log_info("sip %s #%lu %s: TLS up%s%s", kind_name(c->kind), c->id, c->peer_str,
	         c->partner[0] ? ", partner " : "", c->partner);
}

/* Frames and handles every whole message in the input. */
static void read_cb(struct bufferevent *bev, void *arg)
{
	struct sip_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		if (c->closing) {
			if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
				sip_conn_free(c, "closed by the edge");
			return;
		}
		size_t avail = evbuffer_get_length(in), frame_len = 0;
		size_t look = avail < SIP_FRAME_MAX ? avail : SIP_FRAME_MAX;
		enum sip_frame_error why = SIP_FRAME_ERR_NONE;
		const uint8_t *buf = evbuffer_pullup(in, (ev_ssize_t)look);
		if (!buf || look == 0)
			return;
		switch (sip_frame_next(buf, look, &frame_len, &why)) {
		case SIP_FRAME_MORE:
			return;
		case SIP_FRAME_KEEPALIVE:
			/* RFC 5626 section 3.5.1: a double-CRLF ping gets a CRLF pong. */
			if (frame_len >= 4)
				sip_conn_send(c, "\r\n", 2);
			evbuffer_drain(in, frame_len);
			break;
		case SIP_FRAME_MESSAGE:
			c->since_ms = evict_now_ms();
			if (!c->requested && c->deadline)
				event_del(c->deadline);
			c->requested = true;
			c->server->on_message(c, buf, frame_len); /* may set closing */
			evbuffer_drain(in, frame_len);
			break;
		case SIP_FRAME_ERROR:
			metrics_inc(c->server->metrics, &metric_sip_framing_closed_total, 0);
			sip_conn_free(c, sip_frame_error_str(why));
			return;
		}
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct sip_conn *c = arg;
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			sip_conn_free(c, "closed by the edge");
		return;
	}
	bufferevent_enable(bev, EV_READ); /* below the low-water mark again */
}

/* libevent moves OpenSSL's errors off the thread's queue into the
 * bufferevent: read them from there. */
static void tls_errors(struct sip_conn *c, char *out, size_t cap)
{
	size_t len = 0;
	unsigned long e;
	out[0] = '\0';
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		const char *reason = ERR_reason_error_string(e);
		if (reason && len < cap)
			len +=
			    (size_t)snprintf(out + len, cap - len, "%s%s", len ? "; " : "", reason);
	}
	if (!out[0])
		sip_tls_errors(out, cap);
}

/* When the peer's certificate was refused, say why after OpenSSL's words
 * ("certificate names a; expected b (the SRV target)"). */
static void verify_why(struct sip_conn *c, char *errors, size_t cap)
{
	char why[SIP_TLS_ERR_MAX];
	size_t len = strlen(errors);
	bool name = sip_tls_verify_why(bufferevent_openssl_get_ssl(c->bev), why, sizeof(why));
	if (why[0] && len < cap)
		snprintf(errors + len, cap - len, "%s%s%s%s%s", len ? ": " : "", why,
		         name && c->expect_why ? " (" : "",
		         name && c->expect_why ? c->expect_why : "",
		         name && c->expect_why ? ")" : "");
}

static void handshake_timed_out(struct sip_conn *c)
{
	sip_conn_end(c, SIP_PING_TIMEOUT, "TCP up, but no TLS handshake with %s in %u s",
	             c->peer_str, c->server->conf->sip_handshake_timeout);
	refused(c, METRIC_SIP_REFUSED_TIMEOUT, "no TLS handshake in time");
}

/* An inbound connection's deadline: its handshake, then its first request. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_conn *c = arg;
	(void)fd;
	(void)what;
	if (!c->established)
		handshake_timed_out(c);
	else if (!c->requested)
		refused(c, METRIC_SIP_REFUSED_REQUEST_TIMEOUT, "no request in time");
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sip_conn *c = arg;
	char errors[2 * SIP_TLS_ERR_MAX], text[sizeof(errors) + 64];
	if (what & BEV_EVENT_CONNECTED) {
		established(c);
		return;
	}
	if (!c->established) {
		if (what & BEV_EVENT_TIMEOUT) {
			handshake_timed_out(c);
			return;
		}
		tls_errors(c, errors, sizeof(errors));
		verify_why(c, errors, sizeof(errors));
		sip_conn_end(c, SIP_PING_TLS_FAILED,
		             "TCP up, but the TLS handshake with %s failed: %s", c->peer_str,
		             errors[0]                ? errors
		             : (what & BEV_EVENT_EOF) ? "the partner closed the connection"
		                                      : "a socket error");
		snprintf(text, sizeof(text), "TLS handshake failed: %s",
		         errors[0]                ? errors
		         : (what & BEV_EVENT_EOF) ? "closed by the peer"
		                                  : "error");
		refused(c, METRIC_SIP_REFUSED_HANDSHAKE, text);
		return;
	}
	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		bool stalled = what & BEV_EVENT_WRITING;
		metrics_inc(
		    c->server->metrics,
		    stalled ? &metric_sip_stalled_closed_total : &metric_sip_idle_closed_total, 0);
		sip_conn_free(c, stalled ? "the peer reads nothing" : "idle");
	} else if (what & BEV_EVENT_EOF) {
		sip_conn_free(c, "closed by the peer");
	} else {
		tls_errors(c, errors, sizeof(errors));
		sip_conn_free(c, errors[0] ? errors : strerror(EVUTIL_SOCKET_ERROR()));
	}
}

struct sip_conn *sip_conn_by_id(struct sip_server *s, unsigned long id)
{
	struct sip_conn *c;
	LIST_FOREACH(c, &s->conns, link)
	if (c->id == id && !c->closing)
		return c;
	return NULL;
}

void sip_conn_link(struct sip_server *s, struct sip_conn *c, enum metric_sip_listener kind,
                   const struct sockaddr *peer, const char *label)
{
	c->server = s;
	c->kind = kind;
	c->id = ++s->next_conn_id;
	if (peer) {
		memcpy(&c->peer, peer, addr_len(peer));
		addr_str(peer, c->peer_str, sizeof(c->peer_str));
	} else {
		snprintf(c->peer_str, sizeof(c->peer_str), "%s", label);
	}
	LIST_INSERT_HEAD(&s->conns, c, link);
	s->n_conns++;
	metrics_add(s->metrics, &metric_sip_connections, 0, 1);
}

void sip_conn_start(struct sip_server *s, struct sip_conn *c)
{
	struct timeval hs = {.tv_sec = s->conf->sip_handshake_timeout};
	bufferevent_set_timeouts(c->bev, &hs, NULL);
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setwatermark(c->bev, EV_WRITE, WRITE_RESUME, 0);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
}

void sip_conn_no_delay(evutil_socket_t fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void sip_conn_accept(struct sip_listener *l, evutil_socket_t fd, const struct sockaddr *peer)
{
	struct sip_server *s = l->server;
	SSL_CTX *ctx = l->kind == METRIC_SIP_TLS ? s->tls_ctx : s->mtls_ctx;
	struct sip_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = c ? SSL_new(ctx) : NULL;
	sip_conn_no_delay(fd);
	if (ssl)
		c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		                                        BEV_OPT_CLOSE_ON_FREE);
	/* A failed bufferevent_openssl_socket_new has freed ssl already
	 * (BEV_OPT_CLOSE_ON_FREE), but not fd. */
	if (!c || !c->bev) {
		free(c);
		close(fd);
		return;
	}
	metrics_inc(s->metrics, &metric_sip_connections_total, l->kind);
	c->since_ms = evict_now_ms();
	c->deadline = evtimer_new(s->base, deadline_cb, c);
	sip_conn_link(s, c, l->kind, peer, NULL);
	arm_deadline(c, s->conf->sip_handshake_timeout);
	sip_conn_start(s, c);
}
