/* The control API's HTTPS listener (control/server_priv.h): evhttp makes
 * each connection's bufferevent through our callback, a TLS one; a record
 * hung on the TLS object (SSL ex_data) counts the connection from then until
 * OpenSSL frees the object, notes whether the handshake finished, and so
 * tells a failed handshake (counted tls_handshake) from a finished one.
 * At max_connections a new connection evicts one (core/evict.h): the oldest
 * still in its handshake, else the one idle longest between requests; it
 * is shut down (both ways), and libevent ends it on the EOF. When there is
 * none: libevent 2.1 gives no hook at accept, so the new connection is
 * recorded here and shut down from a zero-time event once evhttp has given
 * it its socket. */
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/server_priv.h"
#include "core/addr.h"
#include "core/log.h"
#include "sipfront/tls.h"

#define WHY_MAX 160

struct control_https_conn {
	struct control_listener *l; /* NULL once the listener is gone */
	LIST_ENTRY(control_https_conn) link;
	SSL *ssl;
	bool over_limit;     /* to be shut down by the sweep */
	bool shut;           /* the sweep did */
	bool refused;        /* counted already: one refusal per connection */
	bool handshake_done; /* finished once: nothing to count at the end */
	bool leaving;        /* shut down (or to be): no longer counted in l->n_leaving's */
	bool requested;      /* a request came */
	bool busy;           /* a request is being served */
	/* core/evict.h: born at, then the handshake's end, then the last
	 * reply's (ms); under pressure, the deadline for a first request. */
	uint64_t since_ms;
	struct event *deadline;
	char peer[ADDR_STR_MAX];
	char why[WHY_MAX]; /* what OpenSSL said when the handshake failed */
};

static int conn_index = -1;
static pthread_once_t conn_index_once = PTHREAD_ONCE_INIT;

static void conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp);

static void conn_index_init(void)
{
	conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
}

static void conn_peer(struct control_https_conn *hc, int fd)
{
	struct sockaddr_storage ss, un;
	socklen_t len = sizeof(ss);
	if (hc->peer[0] || fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len))
		return;
	addr_unmap((struct sockaddr *)&ss, &un);
	addr_str((struct sockaddr *)&un, hc->peer, sizeof(hc->peer));
}

static void conn_refused(struct control_https_conn *hc, enum control_refusal why, const char *what)
{
	if (hc->refused || !hc->l)
		return;
	hc->refused = true;
	control_refused(hc->l->srv, hc->peer[0] ? hc->peer : "?", why, what);
}

/* OpenSSL frees the TLS object when libevent finalises the bufferevent,
 * possibly a loop pass after evhttp let the connection go. Bytes read with
 * no finished handshake is a handshake that failed (a client that connects
 * and closes without a word is not). */
static void conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
	struct control_https_conn *hc = ptr;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!hc)
		return;
	BIO *rbio = SSL_get_rbio(parent);
	if (!hc->handshake_done && rbio && BIO_number_read(rbio) > 0)
		conn_refused(hc, CONTROL_REFUSED_TLS_HANDSHAKE, hc->why[0] ? hc->why : NULL);
	if (hc->l) {
		hc->l->n_conns--;
		hc->l->n_leaving -= hc->leaving;
		LIST_REMOVE(hc, link);
	}
	if (hc->deadline)
		event_free(hc->deadline);
	free(hc);
}

/* Notes the peer (its socket is set by now), the end of the handshake, and
 * why it failed: the alert we sent, or the error OpenSSL queued (peeked,
 * not taken: libevent reads the queue after us). */
static void info_cb(const SSL *ssl, int where, int ret)
{
	struct control_https_conn *hc = SSL_get_ex_data(ssl, conn_index);
	if (!hc)
		return;
	conn_peer(hc, SSL_get_fd(ssl));
	if ((where & SSL_CB_HANDSHAKE_DONE) && !hc->handshake_done) {
		hc->handshake_done = true;
		hc->since_ms = evict_now_ms();
	}
	if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE) && !hc->why[0])
		snprintf(hc->why, sizeof(hc->why), "sent alert %s",
		         SSL_alert_desc_string_long(ret));
	if ((where & SSL_CB_EXIT) && ret <= 0 && !hc->why[0]) {
		unsigned long e = ERR_peek_last_error();
		const char *reason = e ? ERR_reason_error_string(e) : NULL;
		if (reason)
			snprintf(hc->why, sizeof(hc->why), "%s", reason);
	}
}

/* The verification's result is kept (SSL_get_verify_result) for admission
 * to answer 403 with it; the handshake goes on. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *x509_ctx)
{
	(void)preverify_ok;
	(void)x509_ctx;
	return 1;
}

/* hc no longer counts against max_connections: it is going. */
static void leave(struct control_https_conn *hc)
{
	if (hc->leaving || !hc->l)
		return;
	hc->leaving = true;
	hc->l->n_leaving++;
}

/* Shut down both ways, so that the client sees the close at once and
 * libevent ends the connection on the EOF. */
static void shut(struct control_https_conn *hc)
{
	int sock = SSL_get_fd(hc->ssl);
	conn_peer(hc, sock);
	leave(hc);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
	hc->shut = true;
}

/* Connections over the limit, once evhttp has given them their socket. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control_listener *l = arg;
	struct control_https_conn *hc;
	(void)fd;
	(void)what;
	LIST_FOREACH(hc, &l->conns, link)
	{
		if (!hc->over_limit || hc->shut)
			continue;
		shut(hc);
		conn_refused(hc, CONTROL_REFUSED_TOO_MANY_CONNS, NULL);
	}
}

/* Under pressure, no request came in time (see arm_deadline). */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control_https_conn *hc = arg;
	(void)fd;
	(void)what;
	if (hc->requested || hc->shut)
		return;
	shut(hc);
	conn_refused(hc, CONTROL_REFUSED_REQUEST_TIMEOUT, "no request in time");
}

/* Above half of max_connections, a new connection has a quarter of the
 * 10 s evhttp gives it for its handshake and first request, at least 1 s
 * (core/evict.h); below, evhttp's timeout alone, so that nothing races it. */
static void arm_deadline(struct control_https_conn *hc, unsigned open, unsigned max)
{
	uint64_t ms = evict_timeout_ms(CONTROL_TIMEOUT_S, open, max);
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (!evict_pressure(open, max))
		return;
	hc->deadline = evtimer_new(hc->l->srv->base, deadline_cb, hc);
	if (hc->deadline)
		evtimer_add(hc->deadline, &tv);
}

/* How the lock-out policy sees hc: one going already, serving a request,
 * or still without its socket is not a candidate. */
static enum evict_state evict_state_of(const struct control_https_conn *hc)
{
	if (hc->leaving || hc->busy || SSL_get_fd(hc->ssl) < 0)
		return EVICT_KEEP;
	return hc->handshake_done ? EVICT_IDLE : EVICT_HANDSHAKE;
}

/* Closes v to make room: counted (not as a refusal), logged at most
 * EVICT_LOG_PER_S times a second. */
static void evict(struct control_listener *l, struct control_https_conn *v, enum evict_state why,
                  uint64_t now)
{
	char more[48];
	if (l->srv->shard)
		metrics_inc(l->srv->shard, &metric_control_evicted_total, why);
	v->refused = true; /* its end is no failed handshake */
	shut(v);
	if (evict_log_take(&l->evict_log, now, more, sizeof(more)))
		log_warn("control: evicted %s at control_max_connections (%u): %s for %.1f s%s",
		         v->peer[0] ? v->peer : "?", l->srv->access.max_connections,
		         why == EVICT_HANDSHAKE ? "no TLS handshake" : "idle between requests",
		         (double)(now - v->since_ms) / 1000.0, more);
}

/* The connection core/evict.h picks (other than the new one), evicted;
 * false when there is none. */
static bool make_room(struct control_listener *l, const struct control_https_conn *new)
{
	struct evict_pick pick;
	struct control_https_conn *hc;
	uint64_t now = evict_now_ms();
	evict_pick_init(&pick);
	LIST_FOREACH(hc, &l->conns, link)
	if (hc != new)
		evict_pick_offer(&pick, hc, evict_state_of(hc), hc->since_ms);
	if (!pick.victim)
		return false;
	evict(l, pick.victim, pick.state, now);
	return true;
}

/* The request's connection's record; NULL off HTTPS. */
static struct control_https_conn *conn_of(struct evhttp_request *req)
{
	SSL *ssl = control_https_ssl(req);
	return ssl && conn_index >= 0 ? SSL_get_ex_data(ssl, conn_index) : NULL;
}

static void request_done(struct evhttp_request *req, void *arg)
{
	struct control_https_conn *hc = conn_of(req);
	(void)arg;
	if (!hc)
		return;
	hc->busy = false;
	hc->since_ms = evict_now_ms();
}

void control_https_request(struct evhttp_request *req)
{
	struct control_https_conn *hc = conn_of(req);
	if (!hc)
		return;
	hc->requested = hc->busy = true;
	if (hc->deadline)
		event_del(hc->deadline);
	/* Looked up again when it is called: the record may be gone by then. */
	evhttp_request_set_on_complete_cb(req, request_done, NULL);
}

/* evhttp's bufferevent for a new connection. NULL makes evhttp fall back to
 * a plain socket, which admission then refuses (control_admit). */
static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	struct control_listener *l = arg;
	SSL *ssl = SSL_new(l->tls);
	struct control_https_conn *hc = ssl ? calloc(1, sizeof(*hc)) : NULL;
	if (!hc || !SSL_set_ex_data(ssl, conn_index, hc)) {
		free(hc);
		SSL_free(ssl);
		return NULL;
	}
	hc->l = l;
	hc->ssl = ssl;
	hc->since_ms = evict_now_ms();
	LIST_INSERT_HEAD(&l->conns, hc, link);
	unsigned max = l->srv->access.max_connections;
	if (++l->n_conns - l->n_leaving > max && !make_room(l, hc)) {
		hc->over_limit = true;
		leave(hc);
		event_active(l->sweep, EV_TIMEOUT, 1);
	} else {
		arm_deadline(hc, l->n_conns - l->n_leaving, max);
	}
	/* On failure libevent frees the SSL, and conn_free_cb the record. */
	struct bufferevent *bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int control_https_attach(struct control_listener *l, SSL_CTX *ctx)
{
	pthread_once(&conn_index_once, conn_index_init);
	if (conn_index < 0 || !SSL_CTX_up_ref(ctx))
		return ENOMEM;
	l->sweep = event_new(l->srv->base, -1, 0, sweep_cb, l);
	if (!l->sweep) {
		SSL_CTX_free(ctx);
		return ENOMEM;
	}
	l->tls = ctx;
	LIST_INIT(&l->conns);
	evhttp_set_bevcb(l->http, bev_cb, l);
	return 0;
}

void control_https_detach(struct control_listener *l)
{
	struct control_https_conn *hc;
	while ((hc = LIST_FIRST(&l->conns)) != NULL) {
		LIST_REMOVE(hc, link);
		hc->l = NULL;
		if (hc->deadline) /* the loop may be gone when OpenSSL frees hc */
			event_free(hc->deadline);
		hc->deadline = NULL;
	}
	event_free(l->sweep);
	SSL_CTX_free(l->tls);
	l->sweep = NULL;
	l->tls = NULL;
}

SSL *control_https_ssl(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

int control_server_tls_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file,
                           const char *ca_file, char *err, size_t err_len)
{
	SSL_CTX *ctx = NULL;
	int rc = sip_tls_server_ctx(&ctx, cert_file, key_file, NULL, err, err_len);
	if (rc)
		return rc;
	/* Every connection verifies its certificate afresh: no session resumes. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_info_callback(ctx, info_cb);
	if (ca_file && access(ca_file, R_OK)) {
		rc = errno;
		snprintf(err, err_len, "%s: %s", ca_file, strerror(rc));
		SSL_CTX_free(ctx);
		return rc;
	}
	if (ca_file) {
		STACK_OF(X509_NAME) *cas = NULL;
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1 ||
		    !(cas = SSL_load_client_CA_file(ca_file))) {
			char ssl_err[SIP_TLS_ERR_MAX];
			snprintf(err, err_len, "%s: no PEM CA certificate in it (%s)", ca_file,
			         sip_tls_errors(ssl_err, sizeof(ssl_err)));
			SSL_CTX_free(ctx);
			return EINVAL;
		}
		SSL_CTX_set_client_CA_list(ctx, cas); /* takes ownership */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	}
	ERR_clear_error();
	*ctxp = ctx;
	return 0;
}
