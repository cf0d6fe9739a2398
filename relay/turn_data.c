/* The TURN data path (RFC 8656 sections 11-12): ChannelData and Send from
 * clients to peers, and what peers send to relayed addresses, framed in
 * place as ChannelData or a Data indication and sent back in batches. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "relay/turn_int.h"
#include "relay/udp_send.h"

/* The largest header written in place: an MS-TURN Data indication, 20 +
 * 8 MAGIC-COOKIE + 24 REMOTE-ADDRESS (IPv6) + 4 DATA (RFC 5389's needs 48). */
#define DATA_HEADROOM 56
#define DATA_TAILROOM 4 /* padding to 4 bytes */

union relay_pktinfo {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

/* Where a relay socket's datagrams go: a UDP client's address and the
 * pktinfo that makes them leave from the address it used. */
struct client_dest {
	union turn_sa addr;
	socklen_t addr_len;
	size_t ctl_len;
	union relay_pktinfo ctl;
};

/* Slots for two reads: one read always has a whole batch of them. */
#define TO_CLIENT_SLOTS (2 * UDP_BATCH)

/* A server's reads from its relay sockets. What they read, framed in
 * place, waits in out for UDP clients until the loop has read every relay
 * socket that was ready: then one sendmmsg on the listener carries them
 * all (a call's relay socket has a packet or two per wake-up; one send each
 * would double the system calls). Everything queued is a copy: an
 * allocation freed meanwhile leaves nothing dangling. */
struct relay_out {
	struct mmsghdr in[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH];
	union turn_sa from[UDP_BATCH];
	uint8_t buf[TO_CLIENT_SLOTS][DATA_HEADROOM + UDP_DGRAM_MAX + DATA_TAILROOM];
	unsigned slots_used; /* by reads since the last flush, queued or not */
	struct mmsghdr out[TO_CLIENT_SLOTS];
	struct iovec out_iov[TO_CLIENT_SLOTS];
	unsigned pending;
	struct client_dest dest[TO_CLIENT_SLOTS]; /* one per read */
	unsigned ndest;
};

int turn_data_open(struct relay_server *s)
{
	s->relay_out = calloc(1, sizeof(*s->relay_out));
	return s->relay_out ? 0 : ENOMEM;
}

void turn_data_close(struct relay_server *s)
{
	free(s->relay_out);
	s->relay_out = NULL;
}

bool turn_bandwidth_allow(struct relay_server *s, struct turn_alloc *a, int dir, size_t len,
                          uint64_t now_ms)
{
	uint64_t rate = s->conf->turn_max_bps;
	if (!rate)
		return true;
	uint64_t tokens = a->bw_last_ms[dir]
	                      ? a->bw_tokens[dir] + (now_ms - a->bw_last_ms[dir]) * rate / 1000
	                      : rate;
	if (tokens > rate)
		tokens = rate; /* a burst of at most one second */
	a->bw_last_ms[dir] = now_ms ? now_ms : 1;
	if (tokens < len) {
		a->bw_tokens[dir] = tokens;
		return false;
	}
	a->bw_tokens[dir] = tokens - len;
	return true;
}

int turn_channel_data(struct relay_server *s, struct turn_alloc *a, uint8_t *buf, size_t len,
                      uint64_t now_ms, int *fd, const union turn_sa **peer, const uint8_t **payload,
                      size_t *payload_len)
{
	time_t now = (time_t)(now_ms / 1000);
	size_t data_len = len < 4 ? 0 : (size_t)(buf[2] << 8 | buf[3]);
	if (len < 4 || data_len > len - 4) {
		metrics_inc(s->metrics, &metric_stun_dropped_total, METRIC_DROP_MALFORMED);
		return EBADMSG;
	}
	if (!a || a->msturn) {
		turn_drop(s, METRIC_TURN_DROP_NO_ALLOCATION);
		return ENOENT;
	}
	const struct turn_chan *ch = turn_chan_by_number(a, (uint16_t)(buf[0] << 8 | buf[1]), now);
	if (!ch) {
		turn_drop(s, METRIC_TURN_DROP_NO_CHANNEL);
		return ENOENT;
	}
	if (!turn_perm_find(a, &ch->peer, now)) {
		turn_drop(s, METRIC_TURN_DROP_NO_PERMISSION);
		return EACCES;
	}
	if (!turn_bandwidth_allow(s, a, 0, data_len, now_ms)) {
		turn_drop(s, METRIC_TURN_DROP_BANDWIDTH);
		return ENOBUFS;
	}
	metrics_inc(s->metrics, &metric_turn_relayed_packets_total, 0);
	metrics_add(s->metrics, &metric_turn_relayed_bytes_total, 0, (int64_t)data_len);
	*fd = a->relay_fd;
	*peer = &ch->peer;
	*payload = buf + 4;
	*payload_len = data_len;
	return 0;
}

void turn_relay_recverr(int fd, int family)
{
	int on = 1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
	else
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
}

ssize_t turn_peer_sendto(int fd, const void *buf, size_t len, const union turn_sa *peer)
{
	ssize_t n = sendto(fd, buf, len, MSG_DONTWAIT, &peer->sa, addr_len(&peer->sa));
	if (n < 0 && udp_icmp_errno(errno))
		n = sendto(fd, buf, len, MSG_DONTWAIT, &peer->sa, addr_len(&peer->sa));
	return n;
}

/* Counts the ICMP errors queued on a relayed socket. Reading them clears
 * the socket's error, which would otherwise wake the loop again and again
 * and fail the next send, to any peer. */
static void relay_read_errors(struct relay_server *s, int fd)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		union {
			struct cmsghdr align;
			char buf[128]; /* the extended error and the offender's address, unused */
		} ctl;
		struct msghdr m = {.msg_control = &ctl, .msg_controllen = sizeof(ctl)};
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		turn_drop(s, METRIC_TURN_DROP_UNREACHABLE);
	}
}

void turn_send_to_peer(struct relay_server *s, struct turn_alloc *a, const union turn_sa *peer,
                       const uint8_t *data, size_t len)
{
	time_t now;
	uint64_t ms = turn_now_ms(s, &now);
	if (a->relay_transport != TURN_TRANSPORT_UDP) {
		turn_drop(s, METRIC_TURN_DROP_NO_PERMISSION);
		return;
	}
	if (!turn_bandwidth_allow(s, a, 0, len, ms)) {
		turn_drop(s, METRIC_TURN_DROP_BANDWIDTH);
		return;
	}
	if (turn_peer_sendto(a->relay_fd, data, len, peer) < 0) {
		turn_drop(s, METRIC_TURN_DROP_SEND_FAILED);
		return;
	}
	metrics_inc(s->metrics, &metric_turn_relayed_packets_total, 0);
	metrics_add(s->metrics, &metric_turn_relayed_bytes_total, 0, (int64_t)len);
}

/* A Data indication around the payload, in place: e holds the header and
 * the peer's address, encoded the dialect's way; a DATA attribute of type
 * data_type follows, padded with pad zero bytes (RFC 5389; MS-TURN pads
 * nothing). Returns where the message starts, or NULL. */
static uint8_t *wrap_data_indication(struct stun_enc *e, uint16_t data_type, uint8_t *payload,
                                     size_t len, size_t pad, size_t *out_len)
{
	size_t hdr_len;
	if (stun_enc_finish(e, &hdr_len))
		return NULL;
	uint8_t *m = payload - 4 - hdr_len;
	memcpy(m, e->buf, hdr_len);
	uint8_t *d = m + hdr_len;
	d[0] = (uint8_t)(data_type >> 8);
	d[1] = (uint8_t)data_type;
	d[2] = (uint8_t)(len >> 8);
	d[3] = (uint8_t)len;
	memset(payload + len, 0, pad);
	size_t body = hdr_len - STUN_HDR_LEN + 4 + len + pad;
	m[2] = (uint8_t)(body >> 8);
	m[3] = (uint8_t)body;
	*out_len = STUN_HDR_LEN + body;
	return m;
}

/* A transaction id for an indication: unique enough, as nothing answers it
 * (RFC 5389's cookie first when cookie). Here, beside the packet path that
 * uses it most, so that it inlines there. */
void turn_indication_tid(uint8_t tid[STUN_TID_LEN], bool cookie)
{
	static _Thread_local uint64_t counter;
	static const uint8_t magic[4] = {0x21, 0x12, 0xA4, 0x42};
	memset(tid, 0, STUN_TID_LEN);
	if (cookie)
		memcpy(tid, magic, sizeof(magic));
	counter++;
	memcpy(tid + 4, &counter, sizeof(counter));
}

/* MS-TURN: from the active destination, raw; from another permitted peer,
 * a Data indication (0x0115: MAGIC-COOKIE, REMOTE-ADDRESS, DATA; unpadded,
 * no integrity). */
static uint8_t *frame_msturn(const struct turn_alloc *a, uint8_t *payload,
                             const union turn_sa *peer, size_t len, size_t *out_len)
{
	if (a->has_active_dest && turn_sa_equal(&a->active_dest, peer)) {
		*out_len = len;
		return payload;
	}
	uint8_t hdr[DATA_HEADROOM], tid[STUN_TID_LEN];
	struct stun_enc e;
	turn_indication_tid(tid, false);
	stun_enc_init(&e, hdr, sizeof(hdr), STUN_DIALECT_MSTURN, STUN_MSTURN_TYPE_DATA_INDICATION,
	              tid);
	stun_enc_addr(&e, STUN_MSATTR_REMOTE_ADDRESS, &peer->sa);
	return wrap_data_indication(&e, STUN_MSATTR_DATA, payload, len, 0, out_len);
}

/* Frames the datagram at payload (DATA_HEADROOM into its slot) from peer
 * for the client in place; returns where the message starts and its
 * length, or NULL. */
static uint8_t *frame_for_client(struct turn_alloc *a, uint8_t *payload, const union turn_sa *peer,
                                 size_t len, time_t now, size_t *out_len)
{
	if (a->msturn)
		return frame_msturn(a, payload, peer, len, out_len);
	bool tcp = a->client_transport == TURN_TRANSPORT_TCP;
	size_t pad = (4 - (len & 3)) & 3;
	const struct turn_chan *ch = turn_chan_by_peer(a, peer, now);
	if (ch) {
		uint8_t *m = payload - 4;
		m[0] = (uint8_t)(ch->number >> 8);
		m[1] = (uint8_t)ch->number;
		m[2] = (uint8_t)(len >> 8);
		m[3] = (uint8_t)len;
		if (tcp) /* RFC 8656 section 12.5: padded over streams only */
			memset(payload + len, 0, pad);
		*out_len = 4 + len + (tcp ? pad : 0);
		return m;
	}
	/* Data indication: XOR-PEER-ADDRESS, then DATA. */
	uint8_t hdr[DATA_HEADROOM], tid[STUN_TID_LEN];
	struct stun_enc e;
	turn_indication_tid(tid, true);
	stun_enc_init(&e, hdr, sizeof(hdr), STUN_DIALECT_RFC5389,
	              stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), tid);
	stun_enc_xor_addr(&e, STUN_ATTR_XOR_PEER_ADDRESS, &peer->sa);
	return wrap_data_indication(&e, STUN_ATTR_DATA, payload, len, pad, out_len);
}

/* An IPv4 address as the IPv4-mapped IPv6 one a dual-stack socket uses. */
static void map_v4(const struct sockaddr_in *in, struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = in->sin_port;
	out->sin6_addr.s6_addr[10] = 0xFF;
	out->sin6_addr.s6_addr[11] = 0xFF;
	memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
}

/* Where a read goes: the client's address, mapped when the listener is
 * IPv6 (dual-stack) and the client IPv4; and the pktinfo that makes the
 * datagrams leave from the address the client used. */
static void client_dest(const struct relay_server *s, const struct turn_alloc *a,
                        struct client_dest *d)
{
	struct cmsghdr *c = (struct cmsghdr *)d->ctl.buf;
	bool mapped = s->udp_local.ss_family == AF_INET6 && a->client.sa.sa_family == AF_INET;
	memset(&d->ctl, 0, sizeof(d->ctl));
	d->addr = a->client;
	if (a->local.sa.sa_family == AF_INET && !mapped) {
		struct in_pktinfo pi = {.ipi_spec_dst = a->local.in.sin_addr};
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		d->ctl_len = CMSG_SPACE(sizeof(pi));
		d->addr_len = sizeof(struct sockaddr_in);
		return;
	}
	struct in6_pktinfo pi6 = {.ipi6_addr = a->local.in6.sin6_addr};
	if (mapped) {
		struct sockaddr_in6 local6;
		map_v4(&a->client.in, &d->addr.in6);
		map_v4(&a->local.in, &local6);
		pi6.ipi6_addr = local6.sin6_addr;
	}
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi6));
	memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
	d->ctl_len = CMSG_SPACE(sizeof(pi6));
	d->addr_len = sizeof(struct sockaddr_in6);
}

void turn_udp_send(struct relay_server *s, int fd, struct mmsghdr *msgs, unsigned n)
{
	unsigned gso = 0;
	unsigned refused = udp_send_batch(fd, msgs, n, s->udp_offload, &gso);
	if (refused)
		turn_drops(s, METRIC_TURN_DROP_SEND_FAILED, refused);
	if (gso)
		metrics_add(s->metrics, &metric_udp_gso_datagrams_total, 0, gso);
}

/* Sends what waits for UDP clients; the slots are free again. */
static void to_client_flush(struct relay_server *s)
{
	struct relay_out *q = s->relay_out;
	if (q->pending)
		turn_udp_send(s, s->udp_fd, q->out, q->pending);
	q->pending = q->slots_used = q->ndest = 0;
}

void turn_to_client_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	to_client_flush(arg);
}

/* One batch from the relay socket; returns how many datagrams it read. */
static int relay_read_batch(struct relay_server *s, struct turn_alloc *a, int fd)
{
	time_t now;
	uint64_t ms = turn_now_ms(s, &now);
	struct relay_out *q = s->relay_out;
	/* Too few slots left for a whole batch: what waits goes first. */
	if (TO_CLIENT_SLOTS - q->slots_used < UDP_BATCH)
		to_client_flush(s);
	unsigned base = q->slots_used;
	for (int i = 0; i < UDP_BATCH; i++) {
		q->in_iov[i] = (struct iovec){q->buf[base + i] + DATA_HEADROOM, UDP_DGRAM_MAX};
		q->in[i].msg_hdr = (struct msghdr){.msg_name = &q->from[i],
		                                   .msg_namelen = sizeof(q->from[i]),
		                                   .msg_iov = &q->in_iov[i],
		                                   .msg_iovlen = 1};
	}
	int got = recvmmsg(fd, q->in, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (got <= 0) { /* nothing to read, or the socket's error: ICMP came */
		relay_read_errors(s, fd);
		return 0;
	}
	/* A TCP client's data is copied onto its connection at once: only a
	 * UDP client's holds its slots until the flush. */
	bool udp_client = a->client_transport == TURN_TRANSPORT_UDP;
	struct client_dest *d = NULL;
	if (udp_client) {
		q->slots_used += (unsigned)got;
		d = &q->dest[q->ndest++];
		client_dest(s, a, d);
	}
	unsigned queued = q->pending;
	for (int i = 0; i < got; i++) {
		size_t len = q->in[i].msg_len, out_len;
		if (q->in[i].msg_hdr.msg_flags & MSG_TRUNC) {
			turn_drop(s, METRIC_TURN_DROP_TOO_BIG);
			continue;
		}
		bool active = a->has_active_dest && turn_sa_same_ip(&a->active_dest, &q->from[i]);
		if (!active && !turn_perm_find(a, &q->from[i], now)) {
			turn_drop(s, METRIC_TURN_DROP_NO_PERMISSION);
			continue;
		}
		if (!turn_bandwidth_allow(s, a, 1, len, ms)) {
			turn_drop(s, METRIC_TURN_DROP_BANDWIDTH);
			continue;
		}
		uint8_t *m =
		    frame_for_client(a, q->in_iov[i].iov_base, &q->from[i], len, now, &out_len);
		if (!m)
			continue;
		metrics_inc(s->metrics, &metric_turn_relayed_packets_total, 1);
		metrics_add(s->metrics, &metric_turn_relayed_bytes_total, 1, (int64_t)len);
		if (!udp_client) {
			if (relay_conn_send(a->client_conn, m, out_len))
				turn_drop(s, METRIC_TURN_DROP_SEND_FAILED);
			continue;
		}
		unsigned n = q->pending++;
		q->out_iov[n] = (struct iovec){m, out_len};
		q->out[n].msg_hdr = (struct msghdr){.msg_name = &d->addr,
		                                    .msg_namelen = d->addr_len,
		                                    .msg_iov = &q->out_iov[n],
		                                    .msg_iovlen = 1,
		                                    .msg_control = d->ctl_len ? d->ctl.buf : NULL,
		                                    .msg_controllen = d->ctl_len};
	}
	/* The flush runs once the loop has handled every socket ready now
	 * (libevent runs an event activated now after those already active). */
	if (q->pending > queued)
		event_active(s->to_client_ev, EV_TIMEOUT, 0);
	return got;
}

void turn_relay_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct turn_alloc *a = arg;
	struct relay_server *s = a->table->owner;
	for (int round = 0; round < UDP_BATCHES_MAX; round++)
		if (relay_read_batch(s, a, fd) < UDP_BATCH)
			return;
}
