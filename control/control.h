/* The control API of edgelab serve: HTTP/1.x on a unix socket and, with
 * control_listen, over HTTPS (docs/control-api.md: credentials, refusals,
 * limits), served on the main thread's event loop, each answer a one-line
 * text body (metrics and /canary aside):
 *
 *   GET  /healthz                              200 "ok"
 *   GET  /metrics                              Prometheus text
 *   POST /rows/2[?partner=DOMAIN]              OPTIONS to a federation partner
 *   POST /rows/4?target=IP:PORT&marker=TEXT    RTP over TCP from a relay port
 *   POST /rows/5?target=IP[:PORT]&marker=TEXT[&dialect=rfc5389|msturn]
 *                                              a STUN Binding request over UDP
 *                                              from a relay port
 *   POST /strict/tcp?target=IP:PORT&marker=TEXT
 *                                              TCP from a port below 50000
 *   GET  /flows/ID[?wait=MS]                   how a triggered flow ended
 *   GET  /canary[?marker=TEXT][&wait=MS]       the canaries' hits, one a line;
 *                                              wait: a long poll for a match
 *
 * Every trigger's 202 has "Location: /flows/ID"; the last 1024 records are
 * kept (docs/control-api.md has the record's format).
 * (/healthz and /metrics also answer POST, as they always have.) An unknown
 * path is 404; a method the path does not take is 405 with an Allow header
 * and the path's usage line. Each file of handlers is a table of routes
 * (control/api.h); control/control.c is the one place that registers them.
 * Limits: 8 KiB of request headers, 64 KiB request bodies (4 KiB on
 * HTTPS), 10 s to send a request, control_trigger_rate triggers a second
 * per client (the unix socket is one), 64 flows of rows 4, 5 and
 * strict-tcp in flight (ORIGINATE_MAX_FLOWS) and 64 of row 2
 * (SIP_PINGS_MAX), each ended after 3 s; 256 GET /flows/ID held at once.
 * Nothing is sent for a request that is not a well-formed, admitted POST
 * of a trigger. */
#ifndef EDGELAB_CONTROL_CONTROL_H
#define EDGELAB_CONTROL_CONTROL_H

#include <event2/event.h>
#include <stddef.h>
#include <sys/socket.h>

#include "canary/canary.h"
#include "core/conf.h"
#include "core/metrics.h"
#include "media/portpool.h"
#include "sipfront/server.h"

struct control;

/* What the handlers work with. The caller owns everything it points to,
 * which must outlive the control API (control_close first), except conf:
 * the control API holds its own reference (control_set_conf swaps it). */
struct control_ctx {
	struct event_base *base; /* the loop it serves and rows 4 and 5 run on */
	struct conf *conf;       /* row 2's partners */
	struct metrics *metrics; /* GET /metrics */
	struct sip_server *sip;  /* row 2; NULL: SIP is off, and row 2 is 503 */
	struct port_pool *pool;  /* rows 4 and 5 leave from its ports */
	struct canary *canary;   /* GET /canary; NULL: no canaries, and no hits */
	/* Rows 4 and 5 leave from this address (its port is ignored; a
	 * wildcard lets the kernel choose). */
	struct sockaddr_storage bind_addr;
};

/* Opens the control API on socket_path (its directory is created, mode 0700
 * when new; NULL or "": no unix socket) and, when ctx->conf has
 * control_listen, over HTTPS there (the edge's tls_certificate and tls_key;
 * tls_ca for control_client certificates; the token of control_token_file).
 * ctx is copied. A stale socket file is replaced; one that another process
 * still answers on is EADDRINUSE. On failure err gets a sentence ("control
 * socket PATH: reason", "control_token_file PATH: reason", "control_listen
 * ADDR: reason") and nothing is left open. */
int control_open(struct control **cp, const struct control_ctx *ctx, const char *socket_path,
                 char *err, size_t err_len);
/* What control_open would refuse in conf before anything is opened: the
 * token file and the HTTPS certificates, when control_listen is on. 0, or
 * an errno with err set as control_open's. */
int control_conf_check(const struct conf *conf, char *err, size_t err_len);
/* A reloaded conf for the requests from now on (the API takes a
 * reference): its clients, token (the file read again), limits and the
 * HTTPS certificates. The listeners stay where they are; a conf without
 * control_listen, while the HTTPS listener runs, keeps its running
 * credentials and limits. On failure (err
 * set as control_open's) the running conf stays whole. */
int control_set_conf(struct control *c, struct conf *conf, char *err, size_t err_len);
/* Closes the socket (removing its file; held GET /flows requests are
 * dropped), then ends the flows in flight (each logged and recorded as
 * cancelled) and gives their ports back. NULL is fine. */
void control_close(struct control *c);

#endif
