/* A socket's error queue (core/sockerr.h). */
#include "core/sockerr.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>

int sockerr_enable(int fd, int family)
{
	int on = 1;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on)))
		return errno;
	/* A v6 socket that is not V6ONLY may carry IPv4: both. */
	if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)) && family == AF_INET)
		return errno;
	return 0;
}

/* One error-queue message's ICMP error, if that is what it is. */
static bool icmp_of(const struct cmsghdr *cm, struct sockerr_icmp *out)
{
	bool v4 = cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR;
	bool v6 = cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR;
	struct sock_extended_err ee;
	if (!(v4 || v6) || cm->cmsg_len < CMSG_LEN(sizeof(ee)))
		return false;
	memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
	if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = ee.ee_origin == SO_EE_ORIGIN_ICMP ? AF_INET : AF_INET6;
	out->type = ee.ee_type;
	out->code = ee.ee_code;
	/* The offender follows the structure in the same control message. */
	size_t room = cm->cmsg_len - CMSG_LEN(sizeof(ee));
	const struct sockaddr *off =
	    (const struct sockaddr *)(CMSG_DATA(cm) + sizeof(struct sock_extended_err));
	size_t need = room >= sizeof(sa_family_t) && off->sa_family == AF_INET6
	                  ? sizeof(struct sockaddr_in6)
	                  : sizeof(struct sockaddr_in);
	if (room >= need && (off->sa_family == AF_INET || off->sa_family == AF_INET6))
		memcpy(&out->from, off, need);
	return true;
}

bool sockerr_icmp(int fd, struct sockerr_icmp *out)
{
	bool found = false;
	/* Several may be queued (retransmitted SYNs each drew one): the last. */
	for (int i = 0; i < 16; i++) {
		char data[64], ctl[512];
		struct sockaddr_storage name;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr m = {.msg_name = &name,
		                   .msg_namelen = sizeof(name),
		                   .msg_iov = &iov,
		                   .msg_iovlen = 1,
		                   .msg_control = ctl,
		                   .msg_controllen = sizeof(ctl)};
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			found |= icmp_of(cm, out);
	}
	return found;
}

static const char *v4_unreach[] = {
    [ICMP_NET_UNREACH] = "network unreachable",
    [ICMP_HOST_UNREACH] = "host unreachable",
    [ICMP_PROT_UNREACH] = "protocol unreachable",
    [ICMP_PORT_UNREACH] = "port unreachable",
    [ICMP_FRAG_NEEDED] = "fragmentation needed",
    [ICMP_SR_FAILED] = "source route failed",
    [ICMP_NET_UNKNOWN] = "network unknown",
    [ICMP_HOST_UNKNOWN] = "host unknown",
    [ICMP_HOST_ISOLATED] = "host isolated",
    [ICMP_NET_ANO] = "network administratively prohibited",
    [ICMP_HOST_ANO] = "host administratively prohibited",
    [ICMP_NET_UNR_TOS] = "network unreachable for TOS",
    [ICMP_HOST_UNR_TOS] = "host unreachable for TOS",
    [ICMP_PKT_FILTERED] = "administratively prohibited",
    [ICMP_PREC_VIOLATION] = "host precedence violation",
    [ICMP_PREC_CUTOFF] = "precedence cutoff in effect",
};

static const char *v6_unreach[] = {
    [ICMP6_DST_UNREACH_NOROUTE] = "no route to destination",
    [ICMP6_DST_UNREACH_ADMIN] = "administratively prohibited",
    [ICMP6_DST_UNREACH_BEYONDSCOPE] = "beyond scope of source address",
    [ICMP6_DST_UNREACH_ADDR] = "address unreachable",
    [ICMP6_DST_UNREACH_NOPORT] = "port unreachable",
    [5] = "source address failed ingress/egress policy",
    [6] = "reject route to destination",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *sockerr_icmp_name(const struct sockerr_icmp *e, char *buf, size_t cap)
{
	const char *name = NULL;
	if (e->family == AF_INET && e->type == ICMP_DEST_UNREACH && e->code < N(v4_unreach))
		name = v4_unreach[e->code];
	else if (e->family == AF_INET && e->type == ICMP_TIME_EXCEEDED)
		name = "time exceeded";
	else if (e->family == AF_INET6 && e->type == ICMP6_DST_UNREACH && e->code < N(v6_unreach))
		name = v6_unreach[e->code];
	else if (e->family == AF_INET6 && e->type == ICMP6_PACKET_TOO_BIG)
		name = "packet too big";
	else if (e->family == AF_INET6 && e->type == ICMP6_TIME_EXCEEDED)
		name = "time exceeded";
	if (name)
		snprintf(buf, cap, "%s", name);
	else
		snprintf(buf, cap, "%s type %u code %u", e->family == AF_INET6 ? "ICMPv6" : "ICMP",
		         e->type, e->code);
	return buf;
}
