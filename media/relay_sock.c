#include "media/relay_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"

static int sock_bound(const struct sockaddr *ip, uint16_t port, int type, bool reuse, int *fdp)
{
	struct sockaddr_storage sa;
	int on = 1;
	memcpy(&sa, ip, addr_len(ip));
	addr_set_port((struct sockaddr *)&sa, port);
	int fd = socket(ip->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int rc = 0;
	if (reuse && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	              setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on))))
		rc = errno;
	if (!rc && ip->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)))
		rc = errno;
	if (!rc && bind(fd, (struct sockaddr *)&sa, addr_len(ip)))
		rc = errno;
	if (rc) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

static void set_dont_fragment(int fd, int family)
{
	int v = IP_PMTUDISC_DO;
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
}

int relay_sock_open(struct port_pool *pool, const struct sockaddr *ip,
                    const struct relay_sock_opts *o, int *fd, uint16_t *port)
{
	bool tcp = o->type == SOCK_STREAM;
	if (o->exact) {
		int rc = sock_bound(ip, o->exact, o->type, tcp, fd);
		if (!rc)
			*port = o->exact;
		if (!rc && o->dont_fragment && !tcp)
			set_dont_fragment(*fd, ip->sa_family);
		return rc;
	}
	/* A port the pool hands out may still be used by another program on the
	 * host: keep it taken (so it is not handed out again at once) and try
	 * another; give them all back at the end. */
	uint16_t busy[RELAY_SOCK_TRIES];
	size_t n_busy = 0;
	int rc = ENOSPC;
	for (int i = 0; i < RELAY_SOCK_TRIES; i++) {
		uint16_t p;
		rc = port_pool_take(pool, o->even, o->pair, &p);
		if (rc)
			break;
		rc = sock_bound(ip, p, o->type, tcp, fd);
		if (!rc) {
			*port = p;
			break;
		}
		busy[n_busy++] = p;
		if (rc != EADDRINUSE)
			break;
	}
	for (size_t i = 0; i < n_busy; i++) {
		port_pool_release(pool, busy[i]);
		if (o->pair)
			port_pool_release(pool, (uint16_t)(busy[i] + 1));
	}
	if (!rc && o->dont_fragment && !tcp)
		set_dont_fragment(*fd, ip->sa_family);
	return rc;
}

int relay_sock_connect(const struct sockaddr *local, const struct sockaddr *peer, int *fdp)
{
	int fd = -1;
	int rc = sock_bound(local, addr_port(local), SOCK_STREAM, true, &fd);
	if (rc)
		return rc;
	if (connect(fd, peer, addr_len(peer)) && errno != EINPROGRESS) {
		rc = errno;
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

void relay_sock_buffers(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}
