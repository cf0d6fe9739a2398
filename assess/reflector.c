/* The reflector (assess/assess_int.h): every call's packet goes back to
 * where it came from, as it came, so that it crosses the relay and the
 * firewall both ways; nothing else is answered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "assess/assess_int.h"
#include "assess/packet.h"
#include "core/addr.h"

#define REFLECT_BATCH 64
#define REFLECT_BUF   2048

struct reflector {
	int fd;
	struct event *rd;
	uint64_t count, ignored; /* sent back; not a call's packet */
	struct reflector_tcp *tcp;
};

static void on_datagrams(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct reflector *r = arg;
	static uint8_t bufs[REFLECT_BATCH][REFLECT_BUF];
	struct mmsghdr msgs[REFLECT_BATCH];
	struct iovec iov[REFLECT_BATCH];
	struct sockaddr_storage from[REFLECT_BATCH];
	for (int i = 0; i < REFLECT_BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], REFLECT_BUF};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[i],
		                                       .msg_namelen = sizeof(from[i]),
		                                       .msg_iov = &iov[i],
		                                       .msg_iovlen = 1}};
	}
	int n = recvmmsg(fd, msgs, REFLECT_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	/* Only a call's packets go back: anything else (a scan, a spoofed
	 * datagram that would start a ping-pong with another echo) is dropped. */
	int keep = 0;
	for (int i = 0; i < n; i++) {
		struct assess_pkt p;
		if (assess_pkt_decode(bufs[i], msgs[i].msg_len, &p)) {
			r->ignored++;
			continue;
		}
		iov[keep] = (struct iovec){bufs[i], msgs[i].msg_len};
		msgs[keep] = msgs[i];
		msgs[keep].msg_hdr.msg_iov = &iov[keep];
		keep++;
	}
	if (!keep)
		return;
	/* What does not go back (a full socket buffer) is lost, as on a wire. */
	int sent = sendmmsg(fd, msgs, (unsigned)keep, MSG_DONTWAIT);
	if (sent > 0)
		r->count += (uint64_t)sent;
}

int reflector_open(struct event_base *base, const struct sockaddr_storage *addr,
                   struct reflector **out, char *err, size_t err_len)
{
	char where[64];
	addr_str((const struct sockaddr *)addr, where, sizeof(where));
	struct reflector *r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = r->fd < 0 ? errno : 0;
	/* Calls at 50 packets a second each come in bursts of many: room for
	 * them (the kernel caps it at net.core.rmem_max). */
	int size = 4 << 20;
	if (!rc) {
		(void)setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		(void)setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		if (bind(r->fd, (const struct sockaddr *)addr,
		         addr_len((const struct sockaddr *)addr)))
			rc = errno;
	}
	if (!rc && (!(r->rd = event_new(base, r->fd, EV_READ | EV_PERSIST, on_datagrams, r)) ||
	            event_add(r->rd, NULL)))
		rc = ENOMEM;
	if (rc) {
		snprintf(err, err_len, "the reflector cannot listen on UDP %s: %s", where,
		         strerror(rc));
		reflector_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int reflector_add_tcp(struct reflector *r, struct event_base *base,
                      const struct sockaddr_storage *addr, char *err, size_t err_len)
{
	return r->tcp ? 0 : reflector_tcp_open(base, addr, &r->tcp, err, err_len);
}

uint64_t reflector_count(const struct reflector *r)
{
	return r ? r->count + reflector_tcp_count(r->tcp) : 0;
}

void reflector_close(struct reflector *r)
{
	if (!r)
		return;
	reflector_tcp_close(r->tcp);
	if (r->rd)
		event_free(r->rd);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}
