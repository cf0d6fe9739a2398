/* The Access Edge's SIP front (rows 1 and 3): SIP over TLS on 443 for
 * remote clients (server certificate only) and over mutual TLS on 5061 for
 * federation partners (client certificate verified against tls_ca and
 * matched against the configured partners). It runs on one event loop:
 * signalling is light, and one loop lets a request be routed to any
 * connection without crossing threads. */
#ifndef EDGELAB_SIPFRONT_SERVER_H
#define EDGELAB_SIPFRONT_SERVER_H

#include <event2/event.h>
#include <stddef.h>

#include "core/conf.h"
#include "core/metrics.h"

struct sip_server;

/* Loads the certificates and opens the listeners the conf enables.
 * ENOENT: the certificate files are missing (err says which; the caller may
 * run without SIP); other errors: err says what failed. */
int sip_server_alloc(struct sip_server **sp, struct event_base *base, struct conf *conf,
                     struct metrics_shard *metrics, char *err, size_t err_len);
/* Switches to a reloaded conf: partners, limits, timeouts, and the
 * certificates (new connections use them; open ones keep theirs). 0, or an
 * error with err filled and the old conf kept. */
int sip_server_set_conf(struct sip_server *s, struct conf *conf, char *err, size_t err_len);
void sip_server_free(struct sip_server *s);

/* Row 2 on demand: the edge sends OPTIONS to a partner now, over an MTLS
 * connection of its own (opened if needed). 0 with what was done in msg,
 * ENOENT (no such partner) or EHOSTUNREACH (no connection) with why. The
 * partner's answer is logged when it comes. */
int sip_server_ping_partner(struct sip_server *s, const char *domain, char *msg, size_t len);

#endif
