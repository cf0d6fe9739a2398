/* The Access Edge's SIP front (rows 1 and 3): SIP over TLS on 443 for
 * remote clients (server certificate only) and over mutual TLS on 5061 for
 * federation partners (client certificate verified against
 * tls_federation_ca, by default tls_ca, and matched against the configured
 * partners; partners' servers are verified against it too). It runs on one event loop:
 * signalling is light, and one loop lets a request be routed to any
 * connection without crossing threads. */
#ifndef EDGELAB_SIPFRONT_SERVER_H
#define EDGELAB_SIPFRONT_SERVER_H

#include <event2/event.h>
#include <stddef.h>

#include "core/conf.h"
#include "core/metrics.h"
#include "core/sockerr.h"

#define SIP_PING_DETAIL 400

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
 * connection of its own (a live one reused, else a new one; a partner
 * without an address literal is looked up first, on the loop, and the
 * OPTIONS waits). 0 with what was done in msg (and *idp, the ping's id,
 * when idp is not NULL), ENOENT (no such partner), EHOSTUNREACH (no
 * connection could even be started) or EBUSY (SIP_PINGS_MAX pings awaiting
 * their end) with why. The partner's answer is logged when it comes. With
 * done, the ping's end is reported once (never from within this call): a
 * final SIP response to that OPTIONS (answered), or the partner's DNS
 * lookup failing (dns), or the connection failing (reset, icmp, tls-failed,
 * error), or nothing by SIP_PING_WAIT_MS (timeout, naming the stage; dns
 * when the lookup is still under way), or sip_server_ping_cancel /
 * sip_server_free (cancelled). */
#define SIP_PING_WAIT_MS 3000
#define SIP_PINGS_MAX    64

enum sip_ping_outcome {
	SIP_PING_ANSWERED,
	SIP_PING_RESET,      /* an RST answered the SYN */
	SIP_PING_ICMP,       /* an ICMP (ICMPv6) error ended the connect: icmp */
	SIP_PING_TLS_FAILED, /* TCP came up, the handshake failed: OpenSSL's reason */
	SIP_PING_TIMEOUT,
	SIP_PING_ERROR,
	SIP_PING_CANCELLED,
	SIP_PING_DNS, /* the partner's address could not be looked up: detail is
	               * "WORD: sentence", WORD one of dns.h's reasons (nxdomain,
	               * nodata, timeout, servfail, refused, bad-answer, error) */
};

struct sip_ping_result {
	enum sip_ping_outcome outcome;
	int status;                    /* answered: the response's status code */
	char detail[SIP_PING_DETAIL];  /* a sentence: "OPTIONS answered 200 OK", ... */
	struct sockerr_icmp icmp;      /* icmp: which, and from whom */
	struct sockaddr_storage local; /* the connection's source; AF_UNSPEC: unknown */
	struct sockaddr_storage peer;  /* the partner's address; AF_UNSPEC: never found */
	char dns_name[254];            /* dns: the name looked up (_sipfederationtls._tcp.DOMAIN
	                                * SRV, or a HOST's A and AAAA) */
};

typedef void(sip_ping_done_h)(const struct sip_ping_result *r, void *arg);

int sip_server_ping_partner(struct sip_server *s, const char *domain, sip_ping_done_h *done,
                            void *arg, unsigned long *idp, char *msg, size_t len);
/* Ends ping id at once, its done called with cancelled; an id that has
 * ended is a no-op. */
void sip_server_ping_cancel(struct sip_server *s, unsigned long id);

#endif
