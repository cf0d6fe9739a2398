/* The control server's insides (control/server.h), shared by its files:
 * server.c (tables, listeners, dispatch), admit.c (credentials and the
 * trigger rate), https.c (the TLS listener's connections), refused.c (a
 * refusal's log line and count). Nobody else includes this. */
#ifndef EDGELAB_CONTROL_SERVER_PRIV_H
#define EDGELAB_CONTROL_SERVER_PRIV_H

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/queue.h>
#include <sys/un.h>

#include "control/metrics.h"
#include "control/ratelimit.h"
#include "control/server.h"
#include "core/evict.h"

#define CONTROL_SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define CONTROL_TIMEOUT_S    10 /* to read a request (evhttp's); less under pressure on HTTPS */

struct control_table {
	const struct control_route *routes;
	void *arg;
};

struct control_https_conn; /* https.c's, one per HTTPS connection */

/* One way in. Each has its own evhttp, so that dispatch knows which
 * listener a request came on (for its admission check). */
struct control_listener {
	struct control_server *srv;
	struct evhttp *http;
	char path[CONTROL_SUN_PATH_MAX]; /* the unix socket's, removed on close */
	bool credentials;                /* admit as docs/control-api.md's HTTPS */
	/* HTTPS only (tls not NULL). */
	SSL_CTX *tls;        /* for new connections; a reference */
	struct event *sweep; /* closes the connections over the limit */
	unsigned n_conns;    /* open now, counted from the TLS object's birth to its end */
	unsigned n_leaving;  /* of them, shut down (or to be) and no longer counted */
	LIST_HEAD(, control_https_conn) conns;
	struct evict_log evict_log; /* evictions' log lines, rate-limited */
};

struct control_server {
	struct event_base *base;
	struct metrics_shard *shard; /* NULL: no counts */
	struct control_table tables[CONTROL_SERVER_MAX_TABLES];
	size_t n_tables;
	struct control_listener listeners[CONTROL_SERVER_MAX_LISTENERS];
	size_t n_listeners;
	struct control_access access;
	struct control_ratelimit rate;
};

/* refused.c. Counts and logs a refusal ("control: refused PEER: reason[ (detail)]"). */
void control_refused(struct control_server *s, const char *peer, enum control_refusal why,
                     const char *detail);

/* admit.c. Whether req (its decoded path) may go on: 0, with its client's
 * name in client; else it has been answered (and counted). */
int control_admit(const struct control_listener *l, struct evhttp_request *req, const char *path,
                  char *client, size_t cap);
/* Whether a trigger from client may go on now; else it has been answered
 * 429 (and counted). */
bool control_admit_trigger(struct control_server *s, struct evhttp_request *req,
                           const char *client);
/* "ADDR:PORT" of req's peer, "unix" on a unix socket. */
const char *control_peer_str(struct evhttp_request *req, char *out, size_t cap);

/* https.c. Makes l serve HTTPS with ctx (a reference taken): evhttp's
 * bufferevents become TLS ones, counted against max_connections. 0 or
 * ENOMEM. */
int control_https_attach(struct control_listener *l, SSL_CTX *ctx);
/* After evhttp_free: the connections whose TLS objects outlive the
 * listener (libevent frees them later) forget it; the context goes. */
void control_https_detach(struct control_listener *l);
/* The TLS object of req's connection; NULL when it has none. */
SSL *control_https_ssl(struct evhttp_request *req);
/* req is being served (dispatch calls it first): its HTTPS connection is
 * busy, not evicted, until the reply is sent. A no-op off HTTPS. */
void control_https_request(struct evhttp_request *req);

#endif
