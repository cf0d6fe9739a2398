/* A partner's edge found without blocking: the lookup of resolve.h
 * (_sipfederationtls._tcp SRV, then each target's A and AAAA records), on an
 * event loop, through c-ares. A server that does not answer costs the
 * lookup its time, never the loop: the SIP server's connections, and every
 * other event on the base, go on meanwhile. sipfront's server uses it for
 * every partner (and next hop) it has no address literal for.
 *
 * The answer is resolve.h's, record for record: targets ordered by priority
 * (lowest first), then weight (highest first), then answer order; each
 * target's A addresses, then its AAAA ones; targets "." or without an
 * address skipped; at most SIP_RESOLVE_MAX. The errors are its classes too:
 * EINVAL, ENOENT (NXDOMAIN, no SRV, target ".", no address), ETIMEDOUT (no
 * answer: each query is sent twice, 2 s in all), EIO (SERVFAIL, REFUSED,
 * a malformed answer), ENOMEM; and each failure has a finer reason
 * (enum sip_dns_reason) for a machine to tell them apart.
 *
 * Where it differs: the targets' A and AAAA queries go out at once, so when
 * they fail in different ways the error told is the first to arrive, not
 * the first in SRV order, and a target that times out does not hide the
 * addresses of the targets after it (resolve.c stops its walk there). The
 * lookup has no overall budget: SRV, then the targets, 2 s each at most.
 *
 * One sip_dns per event base (not thread-safe: its base's thread only). */
#ifndef EDGELAB_SIPFRONT_DNS_H
#define EDGELAB_SIPFRONT_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sipfront/resolve.h"

struct event_base;
struct sip_dns;
struct sip_dns_lookup;

/* Why a lookup failed; sip_dns_reason_word names each in one word. */
enum sip_dns_reason {
	SIP_DNS_OK,
	SIP_DNS_NXDOMAIN,   /* "nxdomain": the name does not exist */
	SIP_DNS_NODATA,     /* "nodata": it exists, with no usable record (no SRV
	                     * record, SRV target ".", no A or AAAA for any target) */
	SIP_DNS_TIMEOUT,    /* "timeout": no answer, or ICMP port unreachable */
	SIP_DNS_SERVFAIL,   /* "servfail": the server answered SERVFAIL */
	SIP_DNS_REFUSED,    /* "refused": the server answered REFUSED */
	SIP_DNS_BAD_ANSWER, /* "bad-answer": FORMERR, NOTIMP, malformed records */
	SIP_DNS_ERROR,      /* "error": a local failure (out of memory) */
};

/* How a lookup ended: rc 0 and n >= 1 targets, or an errno, its reason and
 * err (a sentence naming the query, the server and what it said). Valid
 * until the callback returns, which must not close the resolver. */
struct sip_dns_answer {
	int rc;
	enum sip_dns_reason reason;
	const struct sip_target *t;
	size_t n;
	const char *err;
};

typedef void sip_dns_done_h(const struct sip_dns_answer *a, void *arg);

/* "nxdomain", "nodata", "timeout", "servfail", "refused", "bad-answer",
 * "error"; "ok" for SIP_DNS_OK. */
const char *sip_dns_reason_word(enum sip_dns_reason r);

/* A resolver on base asking server (AF_INET or AF_INET6, with its port; not
 * a link-local IPv6 address with a scope), or NULL for /etc/resolv.conf's
 * servers. 0, or an errno with err. */
int sip_dns_open(struct sip_dns **dp, struct event_base *base, const struct sockaddr *server,
                 char *err, size_t err_len);
/* Ends every lookup still running without calling its callback, then frees. */
void sip_dns_close(struct sip_dns *d);

/* Starts the lookup for domain; done is called once, from the event loop,
 * never from here. 0 and *lp (for sip_dns_cancel; may be NULL: the handle
 * is good until done runs or sip_dns_cancel, not after), or EINVAL (domain
 * not a host name short enough for the SRV prefix) or ENOMEM. */
int sip_dns_partner(struct sip_dns *d, const char *domain, sip_dns_done_h *done, void *arg,
                    struct sip_dns_lookup **lp);
/* The same for a host name (a partner's HOST): its addresses in /etc/hosts
 * if it is there (as getaddrinfo would), else its A and AAAA records, asked
 * at once, the name as it is (no search domains); targets named host, with
 * port; A addresses first. An NXDOMAIN or no record for both is ENOENT
 * (nxdomain or nodata, as the first answer said). EINVAL: host is not a
 * host name. */
int sip_dns_host(struct sip_dns *d, const char *host, uint16_t port, sip_dns_done_h *done,
                 void *arg, struct sip_dns_lookup **lp);
/* The lookup's callback will not be called (its owner is going away); l
 * is freed once its queries end. Only before done has run. */
void sip_dns_cancel(struct sip_dns_lookup *l);

#endif
