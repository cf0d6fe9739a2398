/* The federation A/V run over TCP (probe/fed_av_run.h, the TCP variant of
 * docs/federation-av.md): each client's connection to its edge's A/V 443,
 * opened with the pseudo-TLS hello; its own requests in 0x02 frames; the
 * inner layer a byte stream in its 0x03 frames (the hello for the far
 * edge's 443, then frames again); what comes back read layer by layer
 * (fed_av_tcp_stream.c). Writes wait in a bounded buffer of the client's
 * until its socket takes them. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probe/fed_av_run.h"
#include "probe/fed_av_tcp_int.h"
#include "probe/flow.h"

#define OUT_MAX  (64 * 1024) /* a window of media and then some */
#define READ_MAX (64 * 1024)

struct fed_av_tcp_conn {
	struct fed_av_tcp_rx rx;
	uint8_t out[OUT_MAX];
	size_t out_len;
	bool connected;
	int dead; /* once the connection failed: its error, every write's since */
};

static int tcp_open(struct run *R, struct client *c)
{
	int size = FED_AV_SOCK_BUFFER, one = 1;
	c->tcp = calloc(1, sizeof(*c->tcp));
	if (!c->tcp)
		return fed_av_fail(R, FED_AV_HOP_NONE, FED_AV_WHY_SOCKET, 0, ENOMEM,
		                   "out of memory");
	fed_av_tcp_rx_init(&c->tcp->rx);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_SOCKET, 0, errno,
		                   "client %s's TCP socket: %s", c->name, strerror(errno));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	/* Requests are small and each waits for its answer. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static void broken(struct client *c, int err)
{
	c->tcp->dead = err;
	c->tcp->out_len = 0;
	c->sock_err = err;
}

static void flush(struct client *c)
{
	struct fed_av_tcp_conn *t = c->tcp;
	size_t done = 0;
	while (done < t->out_len && !t->dead) {
		ssize_t n = send(c->fd, t->out + done, t->out_len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				broken(c, errno);
			break;
		}
		done += (size_t)n;
	}
	if (t->dead)
		return;
	memmove(t->out, t->out + done, t->out_len - done);
	t->out_len -= done;
}

static int tcp_send(struct client *c, const uint8_t *buf, size_t len)
{
	struct fed_av_tcp_conn *t = c->tcp;
	if (t->dead || !t->connected)
		return t->dead ? t->dead : ENOTCONN;
	if (len > sizeof(t->out) - t->out_len)
		return EAGAIN;
	memcpy(t->out + t->out_len, buf, len);
	t->out_len += len;
	flush(c);
	return t->dead;
}

/* Own requests in control frames; inner ones in a control frame inside a
 * data frame (to our allocation's active destination, the far edge's 443);
 * media (already RFC 4571-framed) in a data frame in a data frame. */
static int tcp_wrap(const struct client *c, enum fed_av_way way, const uint8_t *in, size_t len,
                    uint8_t *out, size_t cap, size_t *out_len)
{
	static const uint8_t own[] = {MSTURN_FRAME_CONTROL},
	                     inner[] = {MSTURN_FRAME_DATA, MSTURN_FRAME_CONTROL},
	                     media[] = {MSTURN_FRAME_DATA, MSTURN_FRAME_DATA};
	(void)c;
	const uint8_t *types = way == FED_AV_WAY_OWN     ? own
	                       : way == FED_AV_WAY_INNER ? inner
	                                                 : media;
	return fed_av_tcp_wrap(types, way == FED_AV_WAY_OWN ? 1 : 2, in, len, out, cap, out_len);
}

static void drain(struct client *c)
{
	static _Thread_local uint8_t buf[READ_MAX];
	struct fed_av_tcp_conn *t = c->tcp;
	while (!t->dead) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n || errno != EAGAIN)
				broken(c, n ? errno : ECONNRESET);
			return;
		}
		fed_av_tcp_read(&t->rx, &c->expect, buf, (size_t)n, fed_av_arrived, c);
		/* Our edge's framing lost: nothing it sends can be read. */
		if (t->rx.own.lost)
			broken(c, EBADMSG);
	}
}

static void tcp_pump(struct run *R, double until)
{
	struct pollfd p[2];
	for (int i = 0; i < 2; i++) {
		const struct fed_av_tcp_conn *t = R->c[i].tcp;
		bool live = t && t->connected && !t->dead;
		p[i] =
		    (struct pollfd){.fd = live ? R->c[i].fd : -1,
		                    .events = (short)(POLLIN | (live && t->out_len ? POLLOUT : 0))};
	}
	if (poll(p, 2, flow_left_ms(until)) <= 0)
		return;
	for (int i = 0; i < 2; i++) {
		if (p[i].revents & POLLOUT)
			flush(&R->c[i]);
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
			drain(&R->c[i]);
	}
}

/* --- connecting --------------------------------------------------------------- */

/* Waits for the non-blocking connect: 0, ETIMEDOUT, or its error. */
static int connected(int fd, double until)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	for (;;) {
		if (flow_now() >= until)
			return ETIMEDOUT;
		int n = poll(&p, 1, flow_left_ms(until));
		if (n < 0 && errno != EINTR)
			return errno;
		if (n > 0)
			break;
	}
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

/* Until the pseudo-TLS reply in *state has come (0), until the run's
 * deadline (ETIMEDOUT) or the connection fails (its error). */
static int wait_reply(struct run *R, struct client *c, const enum fed_av_tcp_reply *state)
{
	for (;;) {
		if (*state != FED_AV_TCP_REPLY_WAIT)
			return 0;
		if (c->tcp->dead)
			return c->tcp->dead;
		if (flow_now() >= R->deadline)
			return ETIMEDOUT;
		R->T->pump(R, R->deadline);
	}
}

/* The client's connection to its edge's 443, and the hello. */
static int own_connect(struct run *R, struct client *c)
{
	char e[ADDR_STR_MAX];
	double t0 = flow_now();
	struct fed_av_tcp_conn *t = c->tcp;
	int rc = connect(c->fd, (struct sockaddr *)&c->edge, addr_len((struct sockaddr *)&c->edge))
	             ? errno
	             : 0;
	if (rc == EINPROGRESS)
		rc = connected(c->fd, R->deadline);
	socklen_t len = sizeof(c->res->local);
	if (!rc && getsockname(c->fd, (struct sockaddr *)&c->res->local, &len))
		rc = errno;
	fed_av_str(&c->edge, e);
	if (rc == ETIMEDOUT)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_NO_ANSWER, 0, rc,
		                   "client %s's TCP connection to edge %s's A/V 443 (%s) got no "
		                   "SYN-ACK in %.1f s",
		                   c->name, c->name, e, flow_now() - t0);
	if (rc == ECONNREFUSED || rc == EHOSTUNREACH || rc == ENETUNREACH)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_UNREACHABLE, 0, rc,
		                   "client %s's TCP connection to edge %s's A/V 443 (%s) %s",
		                   c->name, c->name, e,
		                   rc == ECONNREFUSED ? "was refused (RST): nothing listens there"
		                                      : "drew ICMP unreachable");
	if (rc)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_SOCKET, 0, rc,
		                   "client %s's TCP connection to edge %s (%s): %s", c->name,
		                   c->name, e, strerror(rc));
	uint8_t hello[PSEUDO_TLS_HELLO_LEN];
	pseudo_tls_hello(hello);
	t->connected = true;
	rc = tcp_send(c, hello, sizeof(hello));
	if (!rc)
		rc = wait_reply(R, c, &t->rx.own_reply);
	if (!rc && t->rx.own_reply == FED_AV_TCP_REPLY_BAD)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_BAD_ANSWER, 0, EPROTO,
		                   "edge %s (%s) answered client %s's pseudo-TLS hello with "
		                   "something else than the pseudo-TLS reply: no MS-TURN "
		                   "pseudo-TLS listener (msturn_tls_listen) there",
		                   c->name, e, c->name);
	if (rc)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_NO_ANSWER, 0, rc,
		                   "client %s's pseudo-TLS hello to edge %s (%s) %s in %.1f s",
		                   c->name, c->name, e,
		                   rc == ETIMEDOUT ? "got no reply" : "saw the connection closed",
		                   flow_now() - t0);
	return 0;
}

/* The inner stream's start: the hello, through the own allocation (whose
 * active destination is the far edge's 443), so that the own edge's relay
 * connects there, and the far edge's reply back. */
static int inner_connect(struct run *R, struct client *c)
{
	static const uint8_t data[] = {MSTURN_FRAME_DATA};
	char f[ADDR_STR_MAX], ra[ADDR_STR_MAX];
	uint8_t hello[PSEUDO_TLS_HELLO_LEN], wire[MSTURN_FRAME_HDR + PSEUDO_TLS_HELLO_LEN];
	size_t len;
	double t0 = flow_now();
	pseudo_tls_hello(hello);
	int rc = fed_av_tcp_wrap(data, 1, hello, sizeof(hello), wire, sizeof(wire), &len);
	if (!rc)
		rc = tcp_send(c, wire, len);
	if (!rc)
		rc = wait_reply(R, c, &c->tcp->rx.far_reply);
	fed_av_str(&c->far_edge, f);
	fed_av_str(&c->res->relayed, ra);
	if (rc == ETIMEDOUT) {
		char what[512];
		snprintf(
		    what, sizeof(what),
		    "client %s's pseudo-TLS hello to edge %s's %s (%s), sent through edge %s's "
		    "relay (%s), got no reply in %.1f s",
		    c->name, c->far_name, R->T->listener, f, c->name, ra, flow_now() - t0);
		return fed_av_fail_unreached(R, c, rc, what);
	}
	if (rc)
		return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_SOCKET, 0, rc,
		                   "client %s's connection to edge %s, sending its pseudo-TLS "
		                   "hello for edge %s: %s",
		                   c->name, c->name, c->far_name, strerror(rc));
	if (c->tcp->rx.far_reply == FED_AV_TCP_REPLY_BAD)
		return fed_av_fail(R, fed_av_cross_hop(R, c), FED_AV_WHY_BAD_ANSWER, 0, EPROTO,
		                   "edge %s's %s (%s), reached through edge %s's relay (%s), "
		                   "answered client %s's pseudo-TLS hello with something else "
		                   "than the pseudo-TLS reply",
		                   c->far_name, R->T->listener, f, c->name, ra, c->name);
	return 0;
}

static int tcp_connect(struct run *R, struct client *c, bool inner)
{
	return inner ? inner_connect(R, c) : own_connect(R, c);
}

static void tcp_close(struct client *c)
{
	free(c->tcp);
	c->tcp = NULL;
}

const struct transport fed_av_tcp = {
    .listener = "TCP 443",
    .row_out = "row 4 out",
    .row_in = "TCP 443 in",
    .or_else = "",
    .framed = true,
    .open = tcp_open,
    .connect = tcp_connect,
    .wrap = tcp_wrap,
    .send = tcp_send,
    .pump = tcp_pump,
    .close = tcp_close,
};
