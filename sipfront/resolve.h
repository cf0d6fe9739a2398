/* Where a federation partner's edge is: RFC 2782 SRV records of
 * _sipfederationtls._tcp.DOMAIN (the name Lync's federation uses), then the
 * A and AAAA records of each target. Blocking and self-contained (glibc's
 * libresolv on a private state, no event loop): the reference that dns.h,
 * the same lookup on an event loop, is tested against; the SIP server uses
 * dns.h, so that no lookup holds up its loop. struct sip_target and the
 * limits here are both's. */
#ifndef EDGELAB_SIPFRONT_RESOLVE_H
#define EDGELAB_SIPFRONT_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

#define SIP_RESOLVE_MAX        8    /* addresses returned, and SRV records kept */
#define SIP_RESOLVE_TIMEOUT_MS 2000 /* no query starts after this; see below */
#define SIP_SRV_PREFIX         "_sipfederationtls._tcp."

struct sip_target {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, with the SRV record's port */
	char host[254];               /* the SRV target, without the final dot: the name
	                               * the partner's certificate must carry */
};

/* Resolves _sipfederationtls._tcp.<domain> SRV, orders the records by
 * priority (lowest first), then weight (highest first; RFC 2782's weighted
 * draw simplified to a fixed order), then the order of the answer, and
 * fills out[] with the A then AAAA addresses of each target in that order,
 * at most min(max, SIP_RESOLVE_MAX) of them. Records whose target is "."
 * (RFC 2782: the service is decidedly not available), whose port is 0 or
 * whose target is no host name are skipped; so are targets without
 * addresses.
 *
 * dns: the server to ask (AF_INET or AF_INET6, with its port), or NULL for
 * the servers of /etc/resolv.conf. Each query waits 1 s and is sent twice
 * (one retry) while SIP_RESOLVE_TIMEOUT_MS lasts, once after; no query
 * starts after it. So a server that never answers costs 2 s; a slow one at
 * most about 3 s. The system resolver's servers are tried in turn, 1 s each.
 *
 * Returns 0 with *n >= 1; otherwise *n is 0, err (if err_len > 0) says why:
 *   EINVAL     an argument, or domain not a host name short enough to take
 *              the SRV prefix (230 characters at most);
 *   ENOENT     no usable SRV record, or no address for any target (err
 *              names the lookup that found nothing);
 *   ETIMEDOUT  the server did not answer in time, or refused the packets
 *              (ICMP port unreachable);
 *   EIO        a malformed answer, or a server error (SERVFAIL, REFUSED,
 *              FORMERR, NOTIMP);
 *   ENOMEM     the resolver state could not be set up.
 * Thread-safe: each call has its own resolver state. */
int sip_resolve_partner(const struct sockaddr *dns, const char *domain, struct sip_target *out,
                        size_t max, size_t *n, char *err, size_t err_len);

#endif
