#include "core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_port_parse(const char *s, bool allow_zero, uint16_t *port)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535 || (v == 0 && !allow_zero))
		return EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_ip(const char *ip, uint16_t port, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return 0;
	}
	return EINVAL;
}

int addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *sa)
{
	char host[INET6_ADDRSTRLEN + 2];
	uint16_t port = default_port;
	const char *colon = strrchr(s, ':');

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (size_t)(close - s - 1) >= sizeof(host))
			return EINVAL;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close[1] == ':') {
			if (addr_port_parse(close + 2, false, &port))
				return EINVAL;
		} else if (close[1] != '\0') {
			return EINVAL;
		}
		return strchr(host, ':') ? parse_ip(host, port, sa) : EINVAL;
	}
	/* One colon: IPv4 with a port. More: a bare IPv6 address. */
	if (colon && colon == strchr(s, ':')) {
		if ((size_t)(colon - s) >= sizeof(host))
			return EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (addr_port_parse(colon + 1, false, &port))
			return EINVAL;
		return strchr(host, ':') ? EINVAL : parse_ip(host, port, sa);
	}
	if (strlen(s) >= sizeof(host))
		return EINVAL;
	return parse_ip(s, port, sa);
}

const char *addr_ip_str(const struct sockaddr *sa, char *out, size_t cap)
{
	const void *src = sa->sa_family == AF_INET6
	                      ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
	                      : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (!inet_ntop(sa->sa_family, src, out, (socklen_t)cap))
		snprintf(out, cap, "?");
	return out;
}

const char *addr_str(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	addr_ip_str(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_INET6)
		snprintf(out, cap, "[%s]:%u", ip, addr_port(sa));
	else
		snprintf(out, cap, "%s:%u", ip, addr_port(sa));
	return out;
}

socklen_t addr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

uint16_t addr_port(const struct sockaddr *sa)
{
	return ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
	                                       : ((const struct sockaddr_in *)sa)->sin_port);
}

void addr_set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons(port);
}

bool addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family || addr_port(a) != addr_port(b))
		return false;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
	       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

void addr_unmap(const struct sockaddr *in, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)in;
	if (in->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)out;
		memset(out, 0, sizeof(*out));
		v4->sin_family = AF_INET;
		v4->sin_port = in6->sin6_port;
		memcpy(&v4->sin_addr, &in6->sin6_addr.s6_addr[12], 4);
		return;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, in, addr_len(in));
}
