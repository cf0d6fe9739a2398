#include "media/relay_sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"

/* How a relayed socket shares its port (the relayed TCP address listens
 * and connects out from the same port, which takes SO_REUSEPORT):
 *   - ALONE: a UDP relayed socket; nothing shares it.
 *   - LISTENER: a TCP relayed address. Bound with SO_REUSEADDR only, so
 *     that the bind fails when anything holds the port, a socket of another
 *     process with SO_REUSEPORT included (the pool then draws another);
 *     SO_REUSEPORT comes after the bind, for the connections out, with a
 *     reuseport program that hands every incoming connection to it.
 *   - CONNECTOR: a connection out from a TCP relayed address. */
enum share { SHARE_ALONE, SHARE_LISTENER, SHARE_CONNECTOR };

/* A classic BPF reuseport program: "return 0", the group's first socket,
 * which is the relayed address's listener (the others join later). Once the
 * listener has SO_REUSEPORT, a process of the same user can bind the port
 * with SO_REUSEPORT too (no socket option refuses it), and even listen: it
 * joins the group, but is never handed a connection. Where the kernel
 * refuses the program (before Linux 4.5, a sandbox), the relay works on
 * without it. */
static void first_socket_only(int fd)
{
	struct sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, 0}};
	struct sock_fprog prog = {.len = 1, .filter = code};
	(void)setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

static int share_before_bind(int fd, enum share share)
{
	int on = 1;
	if (share == SHARE_ALONE)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)))
		return errno;
	if (share == SHARE_CONNECTOR && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)))
		return errno;
	return 0;
}

static int share_after_bind(int fd, enum share share)
{
	int on = 1;
	if (share != SHARE_LISTENER)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)))
		return errno;
	first_socket_only(fd);
	return 0;
}

static int sock_bound(const struct sockaddr *ip, uint16_t port, int type, enum share share,
                      int *fdp)
{
	struct sockaddr_storage sa;
	int on = 1;
	memcpy(&sa, ip, addr_len(ip));
	addr_set_port((struct sockaddr *)&sa, port);
	int fd = socket(ip->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int rc = share_before_bind(fd, share);
	if (!rc && ip->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)))
		rc = errno;
	if (!rc && bind(fd, (struct sockaddr *)&sa, addr_len(ip)))
		rc = errno;
	if (!rc)
		rc = share_after_bind(fd, share);
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
	enum share share = tcp ? SHARE_LISTENER : SHARE_ALONE;
	if (o->exact) {
		int rc = sock_bound(ip, o->exact, o->type, share, fd);
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
		rc = sock_bound(ip, p, o->type, share, fd);
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
	int rc = sock_bound(local, addr_port(local), SOCK_STREAM, SHARE_CONNECTOR, &fd);
	if (rc)
		return rc;
	/* Media (row 4's RTP, RFC 6062's data): no waiting for Nagle. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
