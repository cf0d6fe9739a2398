/* Inside sipfront/dns: the resolver as its two files share it. dns.c is
 * the c-ares channel on the event loop (its sockets, its timer, open);
 * dns_lookup.c the lookups (SRV, A, AAAA, the hosts file), their errors, and
 * close. Nobody else includes this. */
#ifndef EDGELAB_SIPFRONT_DNS_INT_H
#define EDGELAB_SIPFRONT_DNS_INT_H

#include <ares.h>

#include "core/addr.h"
#include "sipfront/dns.h"

#define SIP_DNS_SOCKETS_MAX 16 /* sockets c-ares may have open at once (UDP and TCP per server) */

struct sip_dns_watched {
	ares_socket_t fd;
	struct event *ev; /* NULL: the slot is free */
};

struct sip_dns {
	struct event_base *base;
	ares_channel ch;
	struct event *timer;
	struct sip_dns_watched socks[SIP_DNS_SOCKETS_MAX];
	struct sip_dns_lookup *lookups; /* every lookup not yet freed */
	char server[ADDR_STR_MAX];      /* for messages */
};

/* dns.c: c-ares's next deadline onto the timer (after queries start). */
void sip_dns_rearm(struct sip_dns *d);
/* dns.c: the sockets' events, the timer and d itself (sip_dns_close's last
 * step, once the channel and the lookups are gone). */
void sip_dns_free_events(struct sip_dns *d);

#endif
