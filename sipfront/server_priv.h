/* Internals of sipfront's server: shared by its own files (server.c,
 * conn.c, conn_out.c, conn_resolve.c, handler.c, proxy.c, partner.c,
 * ping.c, registrar.c, service.c) only; other modules use
 * sipfront/server.h. */
#ifndef EDGELAB_SIPFRONT_SERVER_PRIV_H
#define EDGELAB_SIPFRONT_SERVER_PRIV_H

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/queue.h>

#include "core/evict.h"
#include "sipfront/metrics.h"

#include "sipfront/server.h"

/* An inbound connection that carried a message this recently may have a
 * transaction under way (Timer F, 64*T1): it is not evicted. */
#define SIP_TXN_MS 32000
/* Evictions one accept may make (more only when outbound connections took
 * the server past sip_max_connections). */
#define SIP_EVICT_PER_ACCEPT 4

struct sip_conn;
struct sip_msg;
struct sip_binding;
struct sip_ping;
struct sip_dns;
struct sip_dns_lookup;

struct sip_listener {
	struct sip_server *server;
	enum metric_sip_listener kind;
	struct evconnlistener *lev;
};

struct sip_server {
	struct event_base *base;
	struct conf *conf; /* a reference */
	struct metrics_shard *metrics;
	SSL_CTX *tls_ctx;    /* 443 */
	SSL_CTX *mtls_ctx;   /* 5061 */
	SSL_CTX *client_ctx; /* outbound MTLS to partners (row 2) */
	struct sip_listener listeners[METRIC_SIP_LISTENER_COUNT];
	LIST_HEAD(, sip_conn) conns;
	unsigned n_conns;
	LIST_HEAD(, sip_binding) bindings; /* the registrar's */
	unsigned n_bindings;
	unsigned long next_conn_id;
	LIST_HEAD(, sip_ping) pings; /* the edge's own OPTIONS awaiting their end */
	unsigned n_pings;
	unsigned long next_ping_id;
	struct event *keepalive;    /* sip_partner_keepalive timer */
	struct sip_dns *dns;        /* partners' lookups, on dns_server (conn_resolve.c) */
	unsigned dns_gen;           /* counts the resolvers a reload has opened */
	uint8_t auth_secret[32];    /* keys the registrar's stateless nonces */
	struct evict_log evict_log; /* evictions' log lines, rate-limited */
	/* What a connection hands upward, set by server.c so that conn.c names
	 * neither the handler nor the proxy: each whole framed message
	 * (sip_handle_message), and the end of an outbound connection's
	 * handshake, failed or not (sip_proxy_pending_done). */
	void (*on_message)(struct sip_conn *c, const uint8_t *buf, size_t len);
	void (*pending_done)(struct sip_conn *c, bool failed);
	/* And every connection's end, for the pings on it (sip_ping_conn_ended). */
	void (*conn_ended)(struct sip_conn *c);
};

/* Why a connection ended, as a ping on it reports it (conn.c fills it in
 * where it knows; unset, the end is an error named by sip_conn_free's why). */
struct sip_conn_end {
	bool set;
	enum sip_ping_outcome outcome;
	struct sockerr_icmp icmp;
	char detail[SIP_PING_DETAIL];
};

#define SIP_PENDING_MAX 16 /* requests waiting on one outbound handshake */

/* A request forwarded on an outbound connection still shaking hands: if
 * the connection fails, its sender gets 503 (the edge keeps no other
 * transaction state). */
struct sip_pending {
	unsigned long from; /* the connection the request came on */
	char *msg;          /* the request as it came */
	size_t len;
};

struct sip_conn {
	LIST_ENTRY(sip_conn) link;
	struct sip_server *server;
	enum metric_sip_listener kind;
	unsigned long id;
	/* NULL while an outbound connection's address is looked up or its TCP
	 * connect is under way: fd, ssl, connect_ev and early (what is sent
	 * meanwhile) stand in; while it is looked up, only early. */
	struct bufferevent *bev;
	int fd;
	SSL *ssl;
	struct event *connect_ev;
	struct evbuffer *early;
	bool tcp_up;                   /* outbound: TCP set up; TLS follows */
	struct sockaddr_storage local; /* outbound: its source, once TCP is up */
	struct sip_conn_end end;
	struct sockaddr_storage peer;
	char peer_str[64];
	bool established;  /* handshake done (and, on 5061, the partner checked) */
	char partner[254]; /* 5061: the partner name its certificate matched */
	bool closing;      /* flush what is queued, then close */
	bool outbound;     /* the edge connected out to a partner (row 2) */
	/* Outbound: the name the server's certificate must carry, and what that
	 * name is ("the SRV target", "the partner's HOST", ...) for messages. */
	char expect[CONF_NAME_MAX + 1];
	const char *expect_why;
	/* Outbound, while its address is looked up (conn_resolve.c): the lookup
	 * (its handle, on server->dns of generation lookup_gen), peer AF_UNSPEC.
	 * lookup_name stays once it has ended, for a ping's dns outcome. */
	struct sip_dns_lookup *lookup;
	unsigned lookup_gen;
	bool lookup_srv;                     /* SRV of the partner's domain, else A/AAAA */
	uint16_t lookup_port;                /* A/AAAA: the HOST's port */
	char lookup_name[CONF_NAME_MAX + 1]; /* _sipfederationtls._tcp.DOMAIN, or the HOST */
	unsigned n_pending;
	struct sip_pending pending[SIP_PENDING_MAX];
	/* Inbound (core/evict.h): accepted at, then established at, then its
	 * last message at (ms); its first request came; the registrar's
	 * bindings on it; the deadline for its handshake, then its first
	 * request (not pushed back by bytes that trickle in). */
	uint64_t since_ms;
	bool requested;
	unsigned n_bindings;
	struct event *deadline;
};

/* conn.c */
/* TCP_NODELAY on a SIP socket: signalling is small messages each waiting
 * for an answer, and with Nagle on a response written while the peer has
 * not yet acknowledged TLS 1.3's session tickets waits out the peer's
 * delayed ACK (40 ms on Linux). */
void sip_conn_no_delay(evutil_socket_t fd);
void sip_conn_accept(struct sip_listener *l, evutil_socket_t fd, const struct sockaddr *peer);
/* Links a new connection into the server; peer NULL: not known yet, label
 * names it meanwhile. */
void sip_conn_link(struct sip_server *s, struct sip_conn *c, enum metric_sip_listener kind,
                   const struct sockaddr *peer, const char *label);
/* c's bev (made) reads, and its handshake timer runs. */
void sip_conn_start(struct sip_server *s, struct sip_conn *c);
/* Queues bytes on the connection. */
void sip_conn_send(struct sip_conn *c, const char *data, size_t len);
/* Closes after what is queued has been written. */
void sip_conn_close_after_flush(struct sip_conn *c);
/* Sends a response of the edge's own to req on c (logged when >= 300). */
void sip_conn_reply(struct sip_conn *c, const struct sip_msg *req, int code, const char *reason,
                    const char *extra);
/* Why c is ending, for the pings on it; the first reason given stays. */
void sip_conn_end(struct sip_conn *c, enum sip_ping_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sip_conn_free(struct sip_conn *c, const char *why);
/* How the lock-out policy sees c at now_ms (core/evict.h), with *since_ms. */
enum evict_state sip_conn_evict_state(const struct sip_conn *c, uint64_t now_ms,
                                      uint64_t *since_ms);

/* conn_out.c: connects out (row 2, the next hop), expecting the server's
 * certificate to name expect_host (why: what that name is, a static
 * string, for messages); writes queue until the handshake is done. NULL
 * with err filled. */
struct sip_conn *sip_conn_connect(struct sip_server *s, const struct sockaddr *dst,
                                  const char *expect_host, const char *why, char *err,
                                  size_t err_len);
/* An outbound connection with no address yet, linked (label names it in
 * logs); writes queue. NULL: out of memory. */
struct sip_conn *sip_conn_outbound(struct sip_server *s, const char *label);
/* Starts c's TCP connect to dst (c from sip_conn_outbound), as
 * sip_conn_connect. 0, or an errno with err (c is the caller's to free). */
int sip_conn_dial(struct sip_conn *c, const struct sockaddr *dst, const char *expect_host,
                  const char *why, char *err, size_t err_len);

/* conn_resolve.c: an outbound connection to p, whose HOST is a name or who
 * has none: returned at once, its address looked up on server->dns (the
 * HOST's A and AAAA, else the domain's SRV records), then dialled (the
 * first address; the certificate must name the HOST, or the SRV target).
 * A failed lookup ends it with outcome dns (pending requests get 503).
 * NULL with err when the lookup cannot start. */
struct sip_conn *sip_conn_resolve(struct sip_server *s, const struct conf_partner *p, char *err,
                                  size_t err_len);
/* After a reload opened a new server->dns: the lookups under way start
 * again on it (call before closing the old one, which they leave). */
void sip_conn_resolve_moved(struct sip_server *s);

/* partner.c: the connection to a partner domain: an established one (in or
 * out) reused, else a new outbound one (its writes wait for the lookup and
 * the handshake). NULL with err filled when it cannot be had. */
struct sip_conn *sip_partner_conn(struct sip_server *s, const struct conf_partner *p, char *err,
                                  size_t err_len);
/* The configured partner a host name (its domain or its HOST) belongs to. */
const struct conf_partner *sip_partner_find(const struct sip_server *s, const char *name,
                                            size_t len);
struct sip_conn *sip_conn_by_id(struct sip_server *s, unsigned long id);

/* ping.c: OPTIONS to every partner with a HOST (the keep-alive timer). */
void sip_ping_all(struct sip_server *s);
/* A response to the edge's own OPTIONS (Via el-conn=0) came on c: its top
 * Via's branch, its status and reason phrase. */
void sip_ping_answered(struct sip_conn *c, const char *branch, size_t branch_len, unsigned status,
                       const char *reason, size_t reason_len);
/* c is ending: every ping on it ends as c->end says. */
void sip_ping_conn_ended(struct sip_conn *c);
/* Every ping ends, cancelled (the server is going). */
void sip_ping_cancel_all(struct sip_server *s);

/* proxy.c */
void sip_proxy_request(struct sip_conn *c, const struct sip_msg *req);
void sip_proxy_response(struct sip_conn *c, const struct sip_msg *resp);
/* Outbound connection c failed: 503 to every pending request's sender; or
 * it is up: forgets them. */
void sip_proxy_pending_done(struct sip_conn *c, bool failed);
/* SERVICE to the edge (service.c): MRAS relay credentials. */
void sip_handle_service(struct sip_conn *c, const struct sip_msg *req);

/* handler.c: one whole framed message from c. */
void sip_handle_message(struct sip_conn *c, const uint8_t *buf, size_t len);

/* registrar.c */
void sip_registrar_forget_conn(struct sip_server *s, struct sip_conn *c);
void sip_registrar_clear(struct sip_server *s);

#endif
