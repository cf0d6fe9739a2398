/* Row 6: Live Messenger clients -> edge access interface, UDP 3478.
 * A STUN Binding request whose transaction id is a fresh random marker,
 * retransmitted per RFC 5389 section 7.2.1 (RTO 500 ms, doubling) until the
 * flow's timeout, in the dialect probe_run chose (o->dialect):
 *   rfc5389  SOFTWARE and FINGERPRINT; the answer's XOR-MAPPED-ADDRESS;
 *   msturn   as Teams sends it: the MAGIC-COOKIE attribute first and nothing
 *            else (MS-TURN has neither SOFTWARE nor FINGERPRINT), the
 *            transaction id 0x2112A442 and 12 random bytes; the answer's MS
 *            XOR-MAPPED-ADDRESS (0x8020), else its MAPPED-ADDRESS.
 * The verdict:
 *   PASS      a success answer in our dialect echoing the marker, mapping
 *             our own address;
 *   REJECTED  ICMP unreachable (the connected socket reports it);
 *   BLOCKED   nothing within the timeout;
 *   FAILED    an answer, but a wrong one (error, bad marker, wrong address). */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/flow.h"
#include "probe/probe.h"
#include "stun/stun.h"

#define RTO_MS 500

struct flow {
	const struct probe_opts *o;
	struct probe_result *r;
	int fd;
	uint8_t tid[STUN_TID_LEN];
	uint8_t req[64];
	size_t req_len;
	struct sockaddr_storage local;
	unsigned stray; /* answers with another marker */
};

static int flow_open(struct flow *f)
{
	struct sockaddr_storage dst = f->o->edge;
	addr_set_port((struct sockaddr *)&dst, f->o->stun_port);
	f->fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return errno;
	if (f->o->have_bind && bind(f->fd, (const struct sockaddr *)&f->o->bind,
	                            addr_len((const struct sockaddr *)&f->o->bind)))
		return errno;
	/* Connected, so that ICMP errors come back as ECONNREFUSED & co. */
	if (connect(f->fd, (struct sockaddr *)&dst, addr_len((struct sockaddr *)&dst)))
		return errno;
	socklen_t len = sizeof(f->local);
	return getsockname(f->fd, (struct sockaddr *)&f->local, &len) ? errno : 0;
}

static int flow_build_request(struct flow *f)
{
	struct stun_enc enc;
	static const char software[] = "edgelab-probe";
	uint32_t cookie = htonl(STUN_MAGIC_COOKIE);
	memcpy(f->tid, &cookie, 4);
	if (RAND_bytes(f->tid + 4, STUN_TID_LEN - 4) != 1)
		return EIO;
	stun_enc_init(&enc, f->req, sizeof(f->req), f->o->dialect,
	              stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), f->tid);
	if (f->o->dialect != STUN_DIALECT_MSTURN) {
		stun_enc_attr(&enc, STUN_ATTR_SOFTWARE, software, sizeof(software) - 1);
		stun_enc_fingerprint(&enc);
	}
	return stun_enc_finish(&enc, &f->req_len);
}

/* The answer's mapped address, the dialect's way: RFC 5389's
 * XOR-MAPPED-ADDRESS; in MS-TURN 0x8020, else the plain MAPPED-ADDRESS (which
 * a Binding answer there carries as the reflexive address). 0 and the
 * attribute's name in *which, or ENOENT. */
static int mapped_address(const struct stun_msg *msg, struct sockaddr_storage *mapped,
                          const char **which)
{
	const struct stun_attr *a;
	if (msg->dialect != STUN_DIALECT_MSTURN) {
		*which = "XOR-MAPPED-ADDRESS";
		a = stun_msg_attr(msg, STUN_ATTR_XOR_MAPPED_ADDRESS);
		return a && stun_attr_xor_addr(msg, a, mapped) == 0 ? 0 : ENOENT;
	}
	if ((a = stun_msg_attr(msg, STUN_MSATTR_XOR_MAPPED_ADDRESS))) {
		*which = "XOR-MAPPED-ADDRESS (0x8020)";
		return stun_attr_xor_addr(msg, a, mapped) ? ENOENT : 0;
	}
	if ((a = stun_msg_attr(msg, STUN_MSATTR_MAPPED_ADDRESS))) {
		*which = "MAPPED-ADDRESS";
		return stun_attr_addr(a, mapped) ? ENOENT : 0;
	}
	return ENOENT;
}

/* Judges one datagram; returns true when it settled the verdict. */
static bool judge(struct flow *f, const uint8_t *buf, size_t len)
{
	struct stun_msg msg;
	struct sockaddr_storage mapped;
	char want[ADDR_STR_MAX], got[ADDR_STR_MAX];
	if (stun_msg_decode(&msg, buf, len)) {
		flow_verdict(f->r, VERDICT_FAILED, "answer is not valid STUN");
		return true;
	}
	if (memcmp(msg.tid, f->tid, STUN_TID_LEN) != 0) {
		f->stray++;
		return false;
	}
	/* An edge that answers an MS-TURN client in RFC 5389 (or the reverse)
	 * gives it attributes it cannot read. */
	if (msg.dialect != f->o->dialect) {
		flow_verdict(f->r, VERDICT_FAILED, "answer is in the %s dialect, not %s",
		             stun_dialect_name(msg.dialect), stun_dialect_name(f->o->dialect));
		return true;
	}
	if (msg.cls == STUN_CLASS_ERROR) {
		int code = 0;
		const char *reason = "";
		size_t rlen = 0;
		const struct stun_attr *e = stun_msg_attr(&msg, STUN_ATTR_ERROR_CODE);
		if (e)
			stun_attr_error(e, &code, &reason, &rlen);
		flow_verdict(f->r, VERDICT_FAILED, "edge answered error %d %.*s", code, (int)rlen,
		             reason);
		return true;
	}
	const char *which = "";
	if (msg.cls != STUN_CLASS_SUCCESS || msg.method != STUN_METHOD_BINDING ||
	    mapped_address(&msg, &mapped, &which)) {
		flow_verdict(f->r, VERDICT_FAILED, "answer is not a Binding success with %s",
		             msg.dialect == STUN_DIALECT_MSTURN
		                 ? "XOR-MAPPED-ADDRESS (0x8020) or MAPPED-ADDRESS"
		                 : "XOR-MAPPED-ADDRESS");
		return true;
	}
	if (msg.dialect != STUN_DIALECT_MSTURN && stun_msg_attr(&msg, STUN_ATTR_FINGERPRINT) &&
	    stun_msg_check_fingerprint(&msg)) {
		flow_verdict(f->r, VERDICT_FAILED, "answer has a wrong FINGERPRINT");
		return true;
	}
	addr_str((struct sockaddr *)&f->local, want, sizeof(want));
	addr_str((struct sockaddr *)&mapped, got, sizeof(got));
	bool own = addr_equal((struct sockaddr *)&mapped, (struct sockaddr *)&f->local);
	/* MS-TURN has no SOFTWARE (0x8022 is no attribute of its): the detail
	 * names the attribute that mapped us instead. */
	const struct stun_attr *sw = stun_msg_attr(&msg, STUN_ATTR_SOFTWARE);
	int sw_len = sw ? (sw->len > 32 ? 32 : (int)sw->len) : 4;
	const char *sw_val = sw ? (const char *)sw->val : "none";
	if (own && msg.dialect == STUN_DIALECT_MSTURN)
		flow_verdict(f->r, VERDICT_PASS, "mapped %s, our own address; MS-TURN %s", got,
		             which);
	else if (own)
		flow_verdict(f->r, VERDICT_PASS, "mapped %s, our own address; software %.*s", got,
		             sw_len, sw_val);
	else if (f->o->allow_nat)
		flow_verdict(f->r, VERDICT_PASS, "mapped %s, we sent from %s (NAT allowed)", got,
		             want);
	else
		flow_verdict(f->r, VERDICT_FAILED, "mapped %s, but we sent from %s", got, want);
	return true;
}

static void flow_exchange(struct flow *f)
{
	const double deadline = flow_now() + f->o->timeout_ms / 1000.0;
	double next_send = 0;
	unsigned rto_ms = RTO_MS, sent = 0;
	uint8_t buf[STUN_MAX_MSG_LEN];

	for (;;) {
		double t = flow_now();
		if (t >= deadline)
			break;
		if (t >= next_send) {
			if (send(f->fd, f->req, f->req_len, 0) < 0)
				return flow_socket_error(f->r, errno, "sending the request");
			sent++;
			next_send = t + rto_ms / 1000.0;
			rto_ms *= 2;
		}
		double until = next_send < deadline ? next_send : deadline;
		struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
		int ready = poll(&pfd, 1, (int)((until - t) * 1000.0) + 1);
		if (ready <= 0)
			continue; /* timeout (retransmit or give up) or EINTR */
		ssize_t n = recv(f->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return flow_socket_error(f->r, errno, "waiting for the answer");
		}
		if (judge(f, buf, (size_t)n))
			return;
	}
	flow_verdict(f->r, VERDICT_BLOCKED, "no answer to %u request%s in %.1f s%s", sent,
	             sent == 1 ? "" : "s", f->o->timeout_ms / 1000.0,
	             f->stray ? " (only answers with another transaction id)" : "");
}

void probe_row_stun_in(const struct probe_opts *o, struct probe_result *r)
{
	struct flow f = {.o = o, .r = r, .fd = -1};
	double start = flow_now();
	snprintf(r->dialect, sizeof(r->dialect), "%s", stun_dialect_name(o->dialect));
	int rc = flow_open(&f);
	if (rc)
		flow_socket_error(r, rc, "opening the UDP socket");
	else if ((rc = flow_build_request(&f)))
		flow_verdict(r, VERDICT_FAILED, "cannot build the request: %s", strerror(rc));
	else
		flow_exchange(&f);
	if (f.fd >= 0)
		close(f.fd);
	r->seconds = flow_now() - start;
}
