/* The federation A/V run over UDP (probe/fed_av_run.h): each client's
 * socket is connected to its edge's 3478; inner requests ride in an
 * MS-TURN Send to the far edge, RTP goes raw, and every datagram that
 * arrives is read on its own (fed_av_classify). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "probe/fed_av_run.h"
#include "probe/flow.h"

#define DGRAM_MAX 4096

static int udp_open(struct run *R, struct client *c)
{
	int size = FED_AV_SOCK_BUFFER;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = c->fd < 0 ? errno : 0;
	if (!rc) {
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	/* Connected: only its edge's datagrams, and ICMP errors come back. */
	if (!rc &&
	    connect(c->fd, (struct sockaddr *)&c->edge, addr_len((struct sockaddr *)&c->edge)))
		rc = errno;
	socklen_t len = sizeof(c->res->local);
	if (!rc && getsockname(c->fd, (struct sockaddr *)&c->res->local, &len))
		rc = errno;
	if (rc)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_SOCKET, 0, rc,
		                   "client %s's UDP socket to edge %s: %s", c->name, c->name,
		                   strerror(rc));
	return 0;
}

/* Inner requests in a Send to the far edge: sent raw, the near edge would
 * take them (they are MS-TURN) as its own. The rest as it is. */
static int udp_wrap(const struct client *c, enum fed_av_way way, const uint8_t *in, size_t len,
                    uint8_t *out, size_t cap, size_t *out_len)
{
	if (way != FED_AV_WAY_INNER) {
		if (len > cap)
			return ENOSPC;
		memcpy(out, in, len);
		*out_len = len;
		return 0;
	}
	struct msturn_req send = {.method = STUN_MSTURN_METHOD_SEND,
	                          .dest = (const struct sockaddr *)&c->far_edge,
	                          .data = in,
	                          .data_len = len};
	uint8_t tid[STUN_TID_LEN];
	int rc = stun_client_tid_new(tid);
	return rc ? rc : msturn_req_encode(&c->own, &send, tid, out, cap, out_len);
}

static int udp_send(struct client *c, const uint8_t *buf, size_t len)
{
	if (send(c->fd, buf, len, 0) >= 0)
		return 0;
	return errno == EAGAIN || errno == ENOBUFS ? EAGAIN : errno;
}

static void drain(struct client *c)
{
	static _Thread_local struct fed_av_datagram d;
	uint8_t buf[DGRAM_MAX];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* ICMP from its edge: the socket is connected */
			if (errno != EAGAIN)
				c->sock_err = errno;
			return;
		}
		if ((size_t)n <= sizeof(buf)) {
			fed_av_classify(&c->expect, buf, (size_t)n, &d);
			fed_av_arrived(c, &d);
		} else {
			c->res->stray++;
		}
	}
}

static void udp_pump(struct run *R, double until)
{
	struct pollfd p[2] = {{.fd = R->c[0].fd, .events = POLLIN},
	                      {.fd = R->c[1].fd, .events = POLLIN}};
	if (poll(p, 2, flow_left_ms(until)) <= 0)
		return;
	for (int i = 0; i < 2; i++)
		if (p[i].revents)
			drain(&R->c[i]);
}

const struct transport fed_av_udp = {
    .listener = "UDP 3478",
    .row_out = "row 5 out",
    .row_in = "row 6 in",
    .or_else = ", or its answers do not come back",
    .resend = true,
    .open = udp_open,
    .wrap = udp_wrap,
    .send = udp_send,
    .pump = udp_pump,
};
