/* What a socket's error queue says about a failed flow: with IP_RECVERR
 * (IPV6_RECVERR) set, the kernel keeps the ICMP or ICMPv6 error that ended a
 * connect or a send, with who sent it, so that an RST (nothing queued) can
 * be told from an unreachable (a queued ICMP error). No logging, no state. */
#ifndef EDGELAB_CORE_SOCKERR_H
#define EDGELAB_CORE_SOCKERR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One ICMP (family AF_INET) or ICMPv6 (AF_INET6) error. */
struct sockerr_icmp {
	int family;
	uint8_t type, code;
	struct sockaddr_storage from; /* the sender (SO_EE_OFFENDER); AF_UNSPEC if unknown */
};

/* Asks the kernel to queue ICMP errors on fd, a socket of that family
 * (IP_RECVERR; IPV6_RECVERR, and IP_RECVERR too for a dual-stack v6
 * socket). 0 or errno. */
int sockerr_enable(int fd, int family);
/* Reads fd's error queue (MSG_ERRQUEUE, without blocking) and fills *out
 * with the last ICMP or ICMPv6 error in it: true, or false when it held
 * none (an RST, a local error, or sockerr_enable was not called). */
bool sockerr_icmp(int fd, struct sockerr_icmp *out);
/* "port unreachable", "host unreachable", "administratively prohibited",
 * ... for the common destination-unreachable codes of ICMP and ICMPv6 (and
 * ICMPv6's time exceeded, packet too big); "ICMP type T" else, in buf. */
const char *sockerr_icmp_name(const struct sockerr_icmp *e, char *buf, size_t cap);

#endif
