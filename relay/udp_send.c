/* Batched UDP sends, with GSO runs when asked (udp_send.h). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <string.h>

#include "relay/udp_send.h"

#define OUT_MAX 64 /* messages per sendmmsg */

union gso_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t))];
};

/* What goes to sendmmsg: a message of the caller's, or a run of them. */
struct gso_out {
	struct mmsghdr msg[OUT_MAX];
	union gso_cmsg ctl[OUT_MAX];
	unsigned first[OUT_MAX], count[OUT_MAX];
};

static _Thread_local struct gso_out out;

bool udp_icmp_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN ||
	       e == ENOPROTOOPT || e == EMSGSIZE;
}

static int send_some(int fd, struct mmsghdr *m, unsigned n)
{
	int r = sendmmsg(fd, m, n, MSG_DONTWAIT);
	if (r < 0 && udp_icmp_errno(errno))
		r = sendmmsg(fd, m, n, MSG_DONTWAIT);
	return r;
}

static unsigned send_plain(int fd, struct mmsghdr *msgs, unsigned n)
{
	unsigned sent = 0, refused = 0;
	while (sent < n) {
		int r = send_some(fd, msgs + sent, n - sent);
		if (r <= 0) { /* drop the one that failed and go on */
			refused++;
			sent++;
			continue;
		}
		sent += (unsigned)r;
	}
	return refused;
}

static bool same_flow(const struct msghdr *a, const struct msghdr *b)
{
	return b->msg_iovlen == 1 && a->msg_namelen == b->msg_namelen &&
	       (a->msg_name == b->msg_name || !memcmp(a->msg_name, b->msg_name, a->msg_namelen)) &&
	       a->msg_controllen == b->msg_controllen &&
	       (a->msg_control == b->msg_control ||
	        !memcmp(a->msg_control, b->msg_control, a->msg_controllen));
}

/* How many messages from msgs[0] one UDP_SEGMENT send can carry. */
static unsigned run_length(const struct mmsghdr *msgs, unsigned n)
{
	const struct msghdr *h = &msgs[0].msg_hdr;
	size_t size = h->msg_iov[0].iov_len, total = size;
	if (size == 0 || h->msg_iovlen != 1 || h->msg_controllen != CMSG_ALIGN(h->msg_controllen) ||
	    h->msg_controllen + CMSG_SPACE(sizeof(uint16_t)) > sizeof(union gso_cmsg))
		return 1;
	unsigned k = 1;
	while (k < n && k < UDP_GSO_SEGMENTS_MAX) {
		const struct msghdr *m = &msgs[k].msg_hdr;
		size_t len = m->msg_iov[0].iov_len;
		if (!same_flow(h, m) || m->msg_iov != h->msg_iov + k || len == 0 || len > size ||
		    total + len > UDP_GSO_BYTES_MAX)
			break;
		total += len;
		k++;
		if (len < size) /* a shorter one ends the run */
			break;
	}
	return k;
}

/* out.msg[o]: the run msgs[0..k) as one message with UDP_SEGMENT. */
static void make_run(unsigned o, const struct mmsghdr *msgs, unsigned k)
{
	const struct msghdr *h = &msgs[0].msg_hdr;
	uint16_t seg = (uint16_t)h->msg_iov[0].iov_len;
	size_t base = h->msg_controllen;
	if (base)
		memcpy(out.ctl[o].buf, h->msg_control, base);
	struct cmsghdr *c = (struct cmsghdr *)(out.ctl[o].buf + base);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	out.msg[o].msg_hdr = *h;
	out.msg[o].msg_hdr.msg_iovlen = k;
	out.msg[o].msg_hdr.msg_control = out.ctl[o].buf;
	out.msg[o].msg_hdr.msg_controllen = base + CMSG_SPACE(sizeof(seg));
}

/* Sends out.msg[0..o), whose runs start at msgs[out.first[..]]. A run
 * that fails goes again datagram by datagram, whatever the error: the
 * kernel's refusal of GSO (a route's MTU under the size, no checksum
 * offload: EINVAL, EMSGSIZE, EIO), or a send buffer without room for the
 * whole run at once, where single datagrams may still fit. *runs gets how
 * many datagrams went in runs the kernel took. */
static unsigned send_out(int fd, struct mmsghdr *msgs, unsigned o, unsigned *runs)
{
	unsigned sent = 0, refused = 0;
	while (sent < o) {
		int r = send_some(fd, out.msg + sent, o - sent);
		if (r > 0) {
			for (unsigned j = sent; j < sent + (unsigned)r; j++)
				if (out.count[j] > 1)
					*runs += out.count[j];
			sent += (unsigned)r;
			continue;
		}
		unsigned k = out.count[sent];
		refused += k > 1 ? send_plain(fd, msgs + out.first[sent], k) : 1;
		sent++;
	}
	return refused;
}

int udp_gso_check(int fd)
{
	int none = 0; /* the socket's default: no segmenting but per send */
	return setsockopt(fd, SOL_UDP, UDP_SEGMENT, &none, sizeof(none)) ? errno : 0;
}

unsigned udp_send_batch(int fd, struct mmsghdr *msgs, unsigned n, bool gso, unsigned *coalesced)
{
	unsigned refused = 0, runs = 0;
	if (!gso) {
		refused = send_plain(fd, msgs, n);
		if (coalesced)
			*coalesced = 0;
		return refused;
	}
	unsigned i = 0;
	while (i < n) {
		unsigned o = 0;
		for (; i < n && o < OUT_MAX; o++) {
			unsigned k = run_length(msgs + i, n - i);
			out.first[o] = i;
			out.count[o] = k;
			if (k > 1) {
				make_run(o, msgs + i, k);
			} else {
				out.msg[o].msg_hdr = msgs[i].msg_hdr;
			}
			i += k;
		}
		refused += send_out(fd, msgs, o, &runs);
	}
	if (coalesced)
		*coalesced = runs;
	return refused;
}
