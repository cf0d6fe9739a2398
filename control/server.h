/* The control API's HTTP server (libevent evhttp), inside the control
 * module: listeners, admission, dispatch by path over tables of handlers,
 * replies. It knows no handler of its own; control/control.c gives it the
 * tables.
 *
 * Dispatch: a request's path (percent-decoded, without its query) first
 * passes its listener's admission (below); then it picks the one route with
 * that exact path, or whose path ends in '/' and is the request path's
 * beginning ("/flows/" takes "/flows/17", not "/flows/"); none is 404
 * "not found"; a method the route does not allow is 405 with an Allow header listing the route's
 * methods and the route's usage line as the body (logged). A trigger (a route whose methods are
 * exactly POST) then takes one from its client's token bucket (control/ratelimit.h), else 429 with
 * Retry-After: 1. Only then is the handler called, so a handler never checks the method and no
 * refused request reaches one. A method no route may allow (anything but GET and POST) is evhttp's
 * 501. Each listener has its own evhttp and the same tables.
 *
 * Admission (docs/control-api.md): the unix socket authenticates by its
 * file mode, and its client is "unix". A listener with credentials (HTTPS,
 * or a unix socket opened with CONTROL_LISTEN_CREDENTIALS) lets GET /healthz
 * in as it is; anything else needs a client certificate that verified
 * against the CA and names one of control_access's clients (the client is
 * that name), or "Authorization: Bearer TOKEN" with control_access's token
 * (the client is "token@IP"); every credential presented must be good. A
 * refusal is answered 401 (with WWW-Authenticate) or 403, logged once
 * ("control: refused ADDR:PORT: reason") and counted in
 * edgelab_control_refused_total (control/metrics.h), as are HTTPS
 * handshakes that fail and connections over control_access's
 * max_connections (closed at once).
 *
 * Limits: request headers 8 KiB; bodies 64 KiB (4 KiB on HTTPS); 10 s to
 * read a request; at most CONTROL_SERVER_MAX_TABLES tables and
 * CONTROL_SERVER_MAX_LISTENERS listeners. The server logs the 405s and the
 * refusals only; errors are returned. */
#ifndef EDGELAB_CONTROL_SERVER_H
#define EDGELAB_CONTROL_SERVER_H

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/socket.h>

#include "control/auth.h"
#include "core/conf.h"
#include "core/metrics.h"

#define CONTROL_SERVER_MAX_TABLES    8
#define CONTROL_SERVER_MAX_LISTENERS 2 /* the unix socket and HTTPS */
#define CONTROL_SERVER_METHODS       (EVHTTP_REQ_GET | EVHTTP_REQ_POST)
#define CONTROL_CLIENTS_MAX          CONF_CONTROL_CLIENTS_MAX

/* control_server_listen_unix's flags. */
#define CONTROL_LISTEN_CREDENTIALS 1 /* admit as HTTPS does (without TLS: no certificates) */

/* Who a listener with credentials lets in, and the limits. */
struct control_access {
	char clients[CONTROL_CLIENTS_MAX][CONF_NAME_MAX + 1]; /* certificate DNS names */
	size_t n_clients;
	struct control_token token; /* len 0: no token is good */
	unsigned trigger_rate;      /* triggers per second per client, bursts of 2x */
	unsigned max_connections;   /* HTTPS connections at once */
};

struct control_server;

/* Replies to req (exactly once), with whatever status and body it likes. */
typedef void(control_handler_h)(struct evhttp_request *req, void *arg);

/* One entry of a table. A table is a const array ending with an entry whose
 * path is NULL; it is not copied, so it must outlive the server (a static
 * one does). */
struct control_route {
	const char *path;           /* exact, e.g. "/rows/2"; "/flows/": what is under it */
	int methods;                /* EVHTTP_REQ_GET and/or EVHTTP_REQ_POST */
	control_handler_h *handler; /* called only for an allowed method */
	const char *usage;          /* the 405 body: one line, ending in '\n' */
};

/* shard: where refusals are counted (NULL: nowhere). The access is none
 * (no client, no token), 20 triggers a second, 32 HTTPS connections. */
int control_server_alloc(struct control_server **sp, struct event_base *base,
                         struct metrics_shard *shard);
/* Replaces the access (copied): requests from now on are admitted by it. */
void control_server_set_access(struct control_server *s, const struct control_access *a);
/* Serves routes; their handlers get arg. 0, EINVAL (an entry without a
 * handler or usage, or with methods outside CONTROL_SERVER_METHODS), EEXIST
 * (a path another entry has) or ENOSPC (too many tables). */
int control_server_add(struct control_server *s, const struct control_route *routes, void *arg);
/* Listens on a unix socket at path (its directory is created, mode 0700
 * when new; the socket is 0660). A stale socket file is replaced; one that
 * another server still answers on is EADDRINUSE and is left alone. flags: 0
 * or CONTROL_LISTEN_CREDENTIALS. err gets "control socket PATH: reason" on
 * failure. */
int control_server_listen_unix(struct control_server *s, const char *path, int flags, char *err,
                               size_t err_len);
/* The HTTPS listener's TLS context: TLS 1.2 at least, cert_file and
 * key_file as the server's identity, no session resumption. ca_file NULL:
 * no client certificate is asked for; else one is asked for, not required,
 * and verified against ca_file, a failure being kept for admission rather
 * than failing the handshake. 0, or an errno with err set (naming the
 * file). */
int control_server_tls_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file,
                           const char *ca_file, char *err, size_t err_len);
/* Listens for HTTPS on addr with ctx (the server takes its own reference);
 * every request needs credentials. err gets "control_listen ADDR: reason". */
int control_server_listen_https(struct control_server *s, const struct sockaddr *addr, SSL_CTX *ctx,
                                char *err, size_t err_len);
/* New HTTPS connections use ctx from now on (a reload's certificates). */
void control_server_set_tls(struct control_server *s, SSL_CTX *ctx);
/* Closes the listeners (removing their socket files) and frees the server.
 * NULL is fine. */
void control_server_free(struct control_server *s);

/* Replies with a whole body of that content type. */
void control_reply(struct evhttp_request *req, int code, const char *content_type, const char *body,
                   size_t len);
/* Replies with body as it is (the caller sets Content-Type), with a
 * Content-Length always, which evhttp leaves out for HTTP/1.0. */
void control_send(struct evhttp_request *req, int code, struct evbuffer *body);
/* The same, text/plain, body a C string. */
void control_reply_text(struct evhttp_request *req, int code, const char *text);

#endif
