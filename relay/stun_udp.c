/* STUN on UDP: recvmmsg in batches, answer each datagram, sendmmsg the
 * replies. Replies leave from the address the request was sent to (pktinfo),
 * so a wildcard bind on a multihomed edge still answers from the right IP. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "media/relay_sock.h"
#include "relay/chain.h"
#include "relay/transport.h"
#include "relay/turn_int.h"
#include "relay/udp_send.h"

union pktinfo_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};
/* What recvmmsg may attach: the pktinfo, SO_RXQ_OVFL's drop counter and
 * UDP GRO's segment size. */
union recv_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint32_t)) +
	         CMSG_SPACE(sizeof(int))];
};

struct udp_batch {
	struct mmsghdr in[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	union recv_cmsg in_ctl[UDP_BATCH];
	uint8_t in_buf[UDP_BATCH][UDP_DGRAM_MAX];

	struct mmsghdr out[UDP_BATCH];
	struct iovec out_iov[UDP_BATCH];
	union pktinfo_cmsg out_ctl[UDP_BATCH];
	uint8_t out_buf[UDP_BATCH][RELAY_REPLY_MAX];

	/* ChannelData payloads to peers, sent in runs per relay socket. */
	struct mmsghdr fwd[UDP_BATCH];
	struct iovec fwd_iov[UDP_BATCH];
	int fwd_fd[UDP_BATCH];
};

/* One batch buffer per thread: workers never share it, and it keeps ~70 KiB
 * off the stack. */
static _Thread_local struct udp_batch batch;

static void batch_prepare_recv(const struct relay_server *s)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		if (s->udp_gro_buf)
			batch.in_iov[i] =
			    (struct iovec){s->udp_gro_buf + (size_t)i * UDP_GRO_SLOT, UDP_GRO_SLOT};
		else
			batch.in_iov[i] = (struct iovec){batch.in_buf[i], UDP_DGRAM_MAX};
		batch.in[i].msg_hdr = (struct msghdr){
		    .msg_name = &batch.from[i],
		    .msg_namelen = sizeof(batch.from[i]),
		    .msg_iov = &batch.in_iov[i],
		    .msg_iovlen = 1,
		    .msg_control = batch.in_ctl[i].buf,
		    .msg_controllen = sizeof(batch.in_ctl[i].buf),
		};
	}
}

/* The request's destination address from its pktinfo, with the bound port;
 * copies the pktinfo into out_ctl so that the reply leaves from it. Returns
 * the control length to send (0: none found, the kernel picks). */
static size_t local_from_pktinfo(struct relay_server *s, struct msghdr *in,
                                 struct sockaddr_storage *local, union pktinfo_cmsg *out_ctl)
{
	memcpy(local, &s->udp_local, sizeof(*local));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(in); c; c = CMSG_NXTHDR(in, c)) {
		size_t len = c->cmsg_len;
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			/* The kernel's count of datagrams this socket dropped (full
			 * receive buffer), reported as it grows. */
			uint32_t dropped;
			memcpy(&dropped, CMSG_DATA(c), sizeof(dropped));
			if (dropped > s->udp_rx_dropped) {
				metrics_add(s->metrics, &metric_udp_receive_overflow_total, 0,
				            (int64_t)(dropped - s->udp_rx_dropped));
				s->udp_rx_dropped = dropped;
			}
			continue;
		}
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			struct sockaddr_in *l4 = (struct sockaddr_in *)local;
			l4->sin_family = AF_INET;
			l4->sin_addr = pi.ipi_addr;
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			memcpy(out_ctl->buf, c, len);
			memcpy(CMSG_DATA((struct cmsghdr *)out_ctl->buf), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr = pi.ipi6_addr;
			memcpy(out_ctl->buf, c, len);
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

static void queue_forward(int fd, const union turn_sa *peer, const uint8_t *payload, size_t len,
                          unsigned *n)
{
	unsigned f = (*n)++;
	batch.fwd_fd[f] = fd;
	batch.fwd_iov[f] = (struct iovec){(void *)payload, len};
	batch.fwd[f].msg_hdr = (struct msghdr){.msg_name = (void *)&peer->sa,
	                                       .msg_namelen = addr_len(&peer->sa),
	                                       .msg_iov = &batch.fwd_iov[f],
	                                       .msg_iovlen = 1};
}

/* Data (buf, len) from the client of allocation a (NULL: none) that goes
 * to a peer: ChannelData, or for MS-TURN anything but its own messages, raw
 * to the active destination. Queued at fwd[*n] when it may go on. */
static void forward_one(struct relay_server *s, struct turn_alloc *a, uint8_t *buf, size_t len,
                        uint64_t now_ms, unsigned *n)
{
	int fd;
	const union turn_sa *peer;
	const uint8_t *payload = buf;
	if (a && a->msturn) {
		if (!msturn_raw_target(s, a, len, now_ms, &fd, &peer))
			queue_forward(fd, peer, payload, len, n);
		return;
	}
	if (!turn_channel_data(s, a, buf, len, now_ms, &fd, &peer, &payload, &len))
		queue_forward(fd, peer, payload, len, n);
}

/* Sends the queued ChannelData payloads, one batch per run of the same
 * relay socket (a busy flow fills whole runs). */
static void send_forwards(struct relay_server *s, unsigned n)
{
	unsigned i = 0;
	while (i < n) {
		unsigned end = i + 1;
		while (end < n && batch.fwd_fd[end] == batch.fwd_fd[i])
			end++;
		turn_udp_send(s, batch.fwd_fd[i], batch.fwd + i, end - i);
		i = end;
	}
}

/* Answers datagram (buf, len) of message i (or queues it for a peer);
 * returns true when a reply was queued at out[*n]. now_ms: the batch's
 * clock. */
static bool answer_one(struct relay_server *s, int i, uint8_t *buf, size_t len, uint64_t now_ms,
                       unsigned *n, unsigned *nfwd)
{
	struct msghdr *in = &batch.in[i].msg_hdr;
	struct binding_outcome oc = {.drop = METRIC_DROP_NOT_STUN};
	struct sockaddr_storage local;

	/* Over UDP_DGRAM_MAX: what the default buffers truncate, and GRO's
	 * larger ones must refuse alike. */
	if ((in->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || len > UDP_DGRAM_MAX) {
		relay_count(s, &oc);
		return false;
	}
	unsigned o = *n;
	size_t ctl_len = local_from_pktinfo(s, in, &local, &batch.out_ctl[o]);
	/* One normalisation (IPv4-mapped to IPv4) serves every path below. */
	struct turn_client c = {.transport = TURN_TRANSPORT_UDP};
	if (!turn_sa_set(&c.src, (struct sockaddr *)&batch.from[i]) ||
	    !turn_sa_set(&c.local, (struct sockaddr *)&local)) {
		relay_count(s, &oc);
		return false;
	}
	bool channel_data = len > 0 && (buf[0] & 0xC0) == 0x40;
	/* An MS-TURN message: STUN whose first attribute is MAGIC-COOKIE. */
	bool ms = len >= STUN_HDR_LEN && (buf[0] & 0xC0) == 0 &&
	          stun_dialect_detect(buf, len) == STUN_DIALECT_MSTURN;
	/* One lookup: an MS-TURN allocation takes all its client's non-MS-TURN
	 * datagrams raw (ICE checks included: forwarded, not answered);
	 * ChannelData needs the allocation anyway. */
	struct turn_alloc *a = NULL;
	if (s->allocs.count && (channel_data || !ms))
		a = turn_table_find(&s->allocs, &c.src, TURN_TRANSPORT_UDP, NULL);
	if (channel_data || (a && a->msturn && !ms)) {
		forward_one(s, a, buf, len, now_ms, nfwd);
		return false;
	}
	/* A request may free the allocation its client's queued ChannelData
	 * points at (Refresh 0: its channels, its relay socket), move its
	 * channels (ChannelBind's realloc) or reuse a closed relay socket's
	 * number: what is queued for peers goes first. The sanitizer soak
	 * caught sendmmsg reading a freed channel's peer address. */
	if (*nfwd) {
		send_forwards(s, *nfwd);
		*nfwd = 0;
	}
	struct relay_msg m; /* not zeroed: dispatch decodes into it */
	m.client = &c;
	m.buf = buf;
	m.len = len;
	m.out = batch.out_buf[o];
	m.cap = RELAY_REPLY_MAX;
	relay_dispatch(s, &m);
	size_t reply_len = m.out_len;
	if (!reply_len)
		return false;
	batch.out_iov[o] = (struct iovec){batch.out_buf[o], reply_len};
	batch.out[o].msg_hdr = (struct msghdr){
	    .msg_name = &batch.from[i],
	    .msg_namelen = in->msg_namelen,
	    .msg_iov = &batch.out_iov[o],
	    .msg_iovlen = 1,
	    .msg_control = ctl_len ? batch.out_ctl[o].buf : NULL,
	    .msg_controllen = ctl_len,
	};
	(*n)++;
	return true;
}

static void send_replies(struct relay_server *s, unsigned n)
{
	/* What failed (full buffer, unreachable) is dropped, and counted. */
	unsigned refused = udp_send_batch(s->udp_fd, batch.out, n, false, NULL);
	if (refused)
		metrics_add(s->metrics, &metric_stun_dropped_total, METRIC_DROP_SEND_FAILED,
		            refused);
}

/* UDP GRO's segment size when message m holds a run of datagrams, else 0. */
static size_t gro_segment(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int seg;
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			return seg > 0 ? (size_t)seg : 0;
		}
	return 0;
}

/* Answers datagram (buf, len) of message i, room made first: a GRO run
 * holds up to 64 datagrams, the queues UDP_BATCH. */
static void answer_datagram(struct relay_server *s, int i, uint8_t *buf, size_t len,
                            uint64_t now_ms, unsigned *replies, unsigned *forwards)
{
	if (*replies == UDP_BATCH) {
		send_replies(s, *replies);
		*replies = 0;
	}
	if (*forwards == UDP_BATCH) {
		send_forwards(s, *forwards);
		*forwards = 0;
	}
	answer_one(s, i, buf, len, now_ms, replies, forwards);
}

/* Each datagram of message i, as if read alone: one, or a GRO run cut at
 * its segment size. Returns how many. */
static unsigned answer_message(struct relay_server *s, int i, uint64_t now_ms, unsigned *replies,
                               unsigned *forwards)
{
	uint8_t *buf = batch.in_iov[i].iov_base;
	size_t len = batch.in[i].msg_len;
	size_t seg = s->udp_gro_buf ? gro_segment(&batch.in[i].msg_hdr) : 0;
	if (!seg || seg >= len) {
		answer_datagram(s, i, buf, len, now_ms, replies, forwards);
		return 1;
	}
	unsigned n = 0;
	for (size_t off = 0; off < len; off += seg, n++)
		answer_datagram(s, i, buf + off, len - off < seg ? len - off : seg, now_ms, replies,
		                forwards);
	metrics_add(s->metrics, &metric_udp_gro_datagrams_total, 0, n);
	return n;
}

/* Up to UDP_BATCHES_MAX batches, and as many batches' worth of datagrams
 * (GRO runs count each): bounded work per wake-up. */
static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct relay_server *s = arg;
	unsigned handled = 0;
	for (int round = 0; round < UDP_BATCHES_MAX; round++) {
		batch_prepare_recv(s);
		int got = recvmmsg(fd, batch.in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return;
		unsigned replies = 0, forwards = 0;
		uint64_t now_ms = turn_now_ms(s, NULL); /* one clock read per batch */
		for (int i = 0; i < got; i++)
			handled += answer_message(s, i, now_ms, &replies, &forwards);
		send_forwards(s, forwards);
		send_replies(s, replies);
		if (got < UDP_BATCH || handled >= UDP_BATCH * UDP_BATCHES_MAX)
			return;
	}
}

static int udp_socket(const struct sockaddr_storage *sa, evutil_socket_t *fdp)
{
	int on = 1;
	int fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int rc = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	if (!rc)
		rc = setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	relay_sock_buffers(fd, UDP_LISTEN_BUFFER);
	if (!rc && sa->ss_family == AF_INET)
		rc = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	if (!rc && sa->ss_family == AF_INET6)
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	if (!rc)
		rc = bind(fd, (const struct sockaddr *)sa, addr_len((const struct sockaddr *)sa));
	if (rc) {
		rc = errno;
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

/* Whether the address is free: a socket bound without SO_REUSEPORT fails
 * when any other socket holds it, where the workers' SO_REUSEPORT group
 * would silently join a group of another process of the same user (a
 * second edgelab), and the kernel would split clients between the two.
 * The first worker asks, before any of the group is bound. Port 0 (tests)
 * has nothing to claim. */
static int udp_claim(const struct sockaddr_storage *sa)
{
	if (addr_port((const struct sockaddr *)sa) == 0)
		return 0;
	int fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	/* As the group binds: an IPv6 wildcard is dual-stack there, so it must
	 * find an IPv4 holder here too. */
	int rc = 0;
	if (bind(fd, (const struct sockaddr *)sa, addr_len((const struct sockaddr *)sa)))
		rc = errno;
	close(fd);
	return rc;
}

/* GSO sends need nothing but the kernel's say-so; GRO reads, the socket
 * option and buffers that take a run. */
static int udp_offload_open(struct relay_server *s)
{
	int on = 1;
	int rc = udp_gso_check(s->udp_fd);
	if (!rc && setsockopt(s->udp_fd, SOL_UDP, UDP_GRO, &on, sizeof(on)))
		rc = errno;
	if (!rc && !(s->udp_gro_buf = malloc((size_t)UDP_BATCH * UDP_GRO_SLOT)))
		rc = ENOMEM;
	return rc;
}

int stun_udp_open(struct relay_server *s, char *err, size_t err_len)
{
	char where[ADDR_STR_MAX];
	const struct sockaddr_storage *sa = &s->conf->stun_udp_listen;
	int rc = 0;
	if (!atomic_exchange(&s->shared->udp_claimed, true))
		rc = udp_claim(sa);
	if (!rc)
		rc = udp_socket(sa, &s->udp_fd);
	if (!rc) {
		socklen_t len = sizeof(s->udp_local);
		getsockname(s->udp_fd, (struct sockaddr *)&s->udp_local, &len);
		s->udp_ev = event_new(s->base, s->udp_fd, EV_READ | EV_PERSIST, udp_read_cb, s);
		rc = !s->udp_ev || event_add(s->udp_ev, NULL) ? ENOMEM : 0;
	}
	if (rc) {
		snprintf(err, err_len, "STUN/UDP %s: %s%s",
		         addr_str((const struct sockaddr *)sa, where, sizeof(where)), strerror(rc),
		         rc == EADDRINUSE ? RELAY_IN_USE_HINT : "");
		return rc;
	}
	s->udp_offload = s->conf->relay_udp_offload;
	if (s->udp_offload && (rc = udp_offload_open(s)) != 0)
		snprintf(err, err_len, "relay_udp_offload yes: %s%s", strerror(rc),
		         rc == ENOMEM ? "" : " (UDP GSO and GRO need Linux 5.0 or later)");
	return rc;
}

void stun_udp_close(struct relay_server *s)
{
	if (s->udp_ev)
		event_free(s->udp_ev);
	s->udp_ev = NULL;
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	s->udp_fd = -1;
	free(s->udp_gro_buf);
	s->udp_gro_buf = NULL;
}
