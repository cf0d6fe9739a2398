/* Rows 4 and 5: edge access interface -> Live Messenger client, from the
 * edge's source ports 50000-59999 (docs/port-table.md). The probe plays the client:
 * it listens (row 4: TCP, --client-tcp-port, 443; row 5: UDP 3478), asks the
 * edge through its control API to send to that address with a fresh random
 * marker, and judges what arrives:
 *   PASS     from the edge's address, from a port in 50000-59999, carrying
 *            our marker in the row's protocol (row 4: RTP framed per RFC
 *            4571; row 5: a STUN Binding request in the dialect asked for,
 *            which the probe answers in that dialect);
 *   BLOCKED  nothing within the timeout, and the edge saw no answer either;
 *   REJECTED nothing within the timeout, and the edge's flow drew a RST or
 *            an ICMP unreachable (its record, GET /flows/ID: outcome.c);
 *   FAILED   the trigger failed, or the flow came but is wrong: another
 *            address, a port outside the range, no marker, bad framing.
 * The listeners are the run's, shared (hub.h): row 5's two dialects arrive
 * at one UDP port, row 4 and a strict flow at one TCP port, each told
 * apart by its marker. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "media/rtp.h"
#include "probe/flow.h"
#include "probe/hub.h"
#include "probe/probe.h"
#include "stun/stun.h"

#define DRAIN_SECONDS 1.0 /* row 4: waiting for the edge's close after ours */

struct media_flow {
	const struct probe_opts *o;
	struct probe_result *r;
	int row;
	double deadline;
	int fd; /* row 4: the edge's connection */
	char marker[FLOW_MARKER_LEN + 1];
	char expect[sizeof(ROWS_MARKER_PREFIX) + FLOW_MARKER_LEN]; /* what must arrive */
	char location[CTL_LOCATION_MAX]; /* the edge's record of the flow, or "" */
	struct sockaddr_storage us;      /* where we listen, as the edge must address us */
	struct sockaddr_storage from;    /* where the flow came from */
	struct hub_slot *slot;
	struct hub_item it; /* what arrived */
	unsigned stray;     /* row 5: datagrams with our marker, but not as a marker */
	bool unseen;        /* nothing arrived: the edge's record decides */
};

static bool listen_as_client(struct media_flow *f, struct probe_hub *hub, int type, uint16_t port)
{
	char where[ADDR_STR_MAX];
	int rc = flow_our_address(f->o, port, &f->us);
	if (!rc && flow_marker_new(f->marker, f->expect, sizeof(f->expect)))
		rc = EIO;
	if (!rc)
		rc = hub_expect(hub, type, (struct sockaddr *)&f->us, f->expect, &f->slot);
	if (rc)
		flow_verdict(f->r, VERDICT_FAILED, "the probe cannot listen on %s: %s",
		             addr_str((struct sockaddr *)&f->us, where, sizeof(where)),
		             strerror(rc));
	return rc == 0;
}

/* POST /rows/N?target=US&marker=M on the control API; row 5 in MS-TURN
 * adds &dialect=msturn (RFC 5389 is the default, so that row 5 in RFC 5389
 * works with an edge that predates the parameter). */
static bool trigger(struct media_flow *f)
{
	char us[ADDR_STR_MAX], target[3 * ADDR_STR_MAX], path[420];
	bool ms = f->row == 5 && f->o->dialect == STUN_DIALECT_MSTURN;
	if (f->o->control.kind == CTL_NONE) {
		flow_verdict(f->r, VERDICT_FAILED,
		             "the edge sends this flow only when asked: give its control API "
		             "(--control)");
		return false;
	}
	ctl_url_encode(addr_str((struct sockaddr *)&f->us, us, sizeof(us)), target, sizeof(target));
	snprintf(path, sizeof(path), "/rows/%d?target=%s&marker=%s%s%s", f->row, target, f->marker,
	         ms ? "&dialect=" : "", ms ? stun_dialect_name(STUN_DIALECT_MSTURN) : "");
	return flow_trigger(f->o, path, f->deadline, f->r, f->location, sizeof(f->location));
}

static bool from_edge(struct media_flow *f, const char *what)
{
	return flow_check_edge_source(f->r, what, (struct sockaddr *)&f->from,
	                              (const struct sockaddr *)&f->o->edge, ROWS_RELAY_PORT_MIN,
	                              ROWS_RELAY_PORT_MAX);
}

static void media_flow_run(struct media_flow *f, int type, uint16_t port, const char *what,
                           void (*receive)(struct media_flow *f))
{
	double start = flow_now();
	struct probe_hub *own = NULL, *hub = f->o->hub;
	f->deadline = start + f->o->timeout_ms / 1000.0;
	int rc = hub ? 0 : hub_new(&own);
	if (rc)
		flow_verdict(f->r, VERDICT_FAILED, "the probe cannot listen: %s", strerror(rc));
	if (!rc && listen_as_client(f, hub ? hub : own, type, port) && trigger(f))
		receive(f);
	if (f->slot)
		hub_done(f->slot);
	if (f->unseen)
		flow_judge_unseen(f->o, f->location, what, f->r);
	if (f->fd >= 0)
		close(f->fd);
	hub_free(own);
	f->r->seconds = flow_now() - start;
}

/* ---- row 5: STUN over UDP ---- */

/* A Binding success to the edge's request, as a STUN server would answer
 * in the request's dialect (relay/binding.c's way): RFC 5389 with
 * XOR-MAPPED-ADDRESS, SOFTWARE, FINGERPRINT; MS-TURN with MAPPED-ADDRESS and
 * MS XOR-MAPPED-ADDRESS (0x8020) after the MAGIC-COOKIE, and no SOFTWARE or
 * FINGERPRINT, which MS-TURN does not have. */
static void stun_answer(struct media_flow *f, const struct stun_msg *req)
{
	static const char software[] = "edgelab-probe";
	uint8_t buf[128];
	size_t len;
	struct stun_enc enc;
	stun_enc_init(&enc, buf, sizeof(buf), req->dialect,
	              stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), req->tid);
	if (req->dialect == STUN_DIALECT_MSTURN) {
		stun_enc_addr(&enc, STUN_MSATTR_MAPPED_ADDRESS, (struct sockaddr *)&f->from);
		stun_enc_xor_addr(&enc, STUN_MSATTR_XOR_MAPPED_ADDRESS,
		                  (struct sockaddr *)&f->from);
	} else {
		stun_enc_xor_addr(&enc, STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&f->from);
		stun_enc_attr(&enc, STUN_ATTR_SOFTWARE, software, sizeof(software) - 1);
		stun_enc_fingerprint(&enc);
	}
	if (stun_enc_finish(&enc, &len) == 0)
		sendto(f->it.fd, buf, len, 0, (struct sockaddr *)&f->from,
		       addr_len((struct sockaddr *)&f->from));
}

/* Where the edge puts the marker (core/rows.h): SOFTWARE, the free-text
 * attribute of RFC 5389; MS-TURN has no SOFTWARE, so USERNAME there. */
static uint16_t marker_attr(enum stun_dialect d)
{
	return d == STUN_DIALECT_MSTURN ? STUN_ATTR_USERNAME : STUN_ATTR_SOFTWARE;
}

/* Judges one datagram; true when it settled the verdict. A datagram is ours
 * when its dialect's marker attribute holds our marker; a request of the
 * other dialect with our marker is then FAILED, not ignored. */
static bool stun_judge(struct media_flow *f, const uint8_t *buf, size_t len)
{
	struct stun_msg msg;
	char from[ADDR_STR_MAX];
	const struct stun_attr *m;
	if (stun_msg_decode(&msg, buf, len) ||
	    !(m = stun_msg_attr(&msg, marker_attr(msg.dialect))) || m->len != strlen(f->expect) ||
	    memcmp(m->val, f->expect, m->len) != 0) {
		f->stray++; /* our marker, but not where the edge puts it */
		return false;
	}
	if (msg.dialect != f->o->dialect) {
		flow_verdict(f->r, VERDICT_FAILED, "our marker came in a %s message, not %s",
		             stun_dialect_name(msg.dialect), stun_dialect_name(f->o->dialect));
		return true;
	}
	if (msg.cls != STUN_CLASS_REQUEST || msg.method != STUN_METHOD_BINDING) {
		flow_verdict(f->r, VERDICT_FAILED, "our marker came, but not in a Binding request");
		return true;
	}
	if (msg.dialect != STUN_DIALECT_MSTURN && stun_msg_attr(&msg, STUN_ATTR_FINGERPRINT) &&
	    stun_msg_check_fingerprint(&msg)) {
		flow_verdict(f->r, VERDICT_FAILED, "the edge's request has a wrong FINGERPRINT");
		return true;
	}
	if (!from_edge(f, "STUN request"))
		return true;
	stun_answer(f, &msg);
	flow_verdict(
	    f->r, VERDICT_PASS,
	    "%s Binding request from %s (relay port range %u-%u) with our marker; answered",
	    msg.dialect == STUN_DIALECT_MSTURN ? "MS-TURN" : "RFC 5389",
	    addr_str((struct sockaddr *)&f->from, from, sizeof(from)), ROWS_RELAY_PORT_MIN,
	    ROWS_RELAY_PORT_MAX);
	return true;
}

static void stun_receive(struct media_flow *f)
{
	while (hub_wait(f->slot, f->deadline, &f->it) == 0) {
		f->from = f->it.from;
		if (stun_judge(f, f->it.data, f->it.len))
			return;
	}
	unsigned stray = hub_stray(f->slot) + f->stray;
	f->unseen = true;
	flow_verdict(f->r, VERDICT_BLOCKED,
	             "no STUN request from the edge to our UDP %u in %.1f s%s",
	             f->o->client_udp_port, f->o->timeout_ms / 1000.0,
	             stray ? " (only datagrams without our marker)" : "");
}

void probe_row_stun_udp_out(const struct probe_opts *o, struct probe_result *r)
{
	struct media_flow f = {.o = o, .r = r, .row = 5, .fd = -1};
	snprintf(r->dialect, sizeof(r->dialect), "%s", stun_dialect_name(o->dialect));
	media_flow_run(&f, SOCK_DGRAM, o->client_udp_port, "STUN request", stun_receive);
}

/* ---- row 4: RTP over TCP ---- */

struct rtp_seen {
	unsigned packets;
	bool found, eof;
	uint32_t ssrc;
};

/* Takes the whole frames at the start of buf; 0, or EBADMSG. */
static int rtp_take(struct media_flow *f, const uint8_t *buf, size_t *have, struct rtp_seen *s,
                    double *until)
{
	struct rtp_hdr h;
	const uint8_t *payload;
	size_t plen, flen, off = 0;
	int rc;
	while ((rc = rtp_frame_decode(buf + off, *have - off, &h, &payload, &plen, &flen)) == 0) {
		s->packets++;
		off += flen;
		if (s->found || plen != strlen(f->expect) || memcmp(payload, f->expect, plen) != 0)
			continue;
		/* Ours: we close first, so that TIME_WAIT stays on our side and
		 * the edge's relay port is free again at once; then we wait a
		 * little for the edge's own close. */
		s->found = true;
		s->ssrc = h.ssrc;
		shutdown(f->fd, SHUT_WR);
		if (flow_now() + DRAIN_SECONDS < *until)
			*until = flow_now() + DRAIN_SECONDS;
	}
	memmove((uint8_t *)buf, buf + off, *have - off);
	*have -= off;
	return rc == EAGAIN ? 0 : rc;
}

/* Reads frames, from the connection's first bytes on, until our marker and
 * the edge's close (or the time is up); false when the data settled the
 * verdict (FAILED). */
static bool rtp_read(struct media_flow *f, struct rtp_seen *s)
{
	uint8_t buf[8192];
	size_t have = f->it.len;
	memcpy(buf, f->it.data, have);
	double until = f->deadline;
	char from[ADDR_STR_MAX];
	addr_str((struct sockaddr *)&f->from, from, sizeof(from));
	for (;;) {
		if (rtp_take(f, buf, &have, s, &until)) {
			flow_verdict(
			    f->r, VERDICT_FAILED,
			    "the edge's data from %s is not RTP framed per RFC 4571 (after %u "
			    "packets)",
			    from, s->packets);
			return false;
		}
		if (have == sizeof(buf)) {
			flow_verdict(f->r, VERDICT_FAILED,
			             "an RFC 4571 frame over %zu bytes from %s", sizeof(buf), from);
			return false;
		}
		struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
		if (poll(&pfd, 1, flow_left_ms(until)) <= 0)
			return true;
		ssize_t n = recv(f->fd, buf + have, sizeof(buf) - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->eof = true;
			return true;
		}
		have += (size_t)n;
	}
}

static void rtp_receive(struct media_flow *f)
{
	struct rtp_seen s = {0};
	char from[ADDR_STR_MAX];
	if (hub_wait(f->slot, f->deadline, &f->it)) {
		f->unseen = true;
		return flow_verdict(f->r, VERDICT_BLOCKED,
		                    "no connection from the edge to our TCP %u in %.1f s",
		                    f->o->client_tcp_port, f->o->timeout_ms / 1000.0);
	}
	f->fd = f->it.fd;
	f->from = f->it.from;
	if (!from_edge(f, "connection"))
		return;
	addr_str((struct sockaddr *)&f->from, from, sizeof(from));
	if (!rtp_read(f, &s))
		return;
	if (s.found)
		flow_verdict(f->r, VERDICT_PASS,
		             "the edge connected from %s (relay port range %u-%u); %u RTP packets "
		             "framed per RFC 4571, SSRC %08x, with our marker",
		             from, ROWS_RELAY_PORT_MIN, ROWS_RELAY_PORT_MAX, s.packets, s.ssrc);
	else
		flow_verdict(f->r, VERDICT_FAILED,
		             "the edge connected from %s, but %s after %u RTP "
		             "packets without our marker",
		             from, s.eof ? "closed" : "sent nothing more in time", s.packets);
}

void probe_row_rtp_tcp_out(const struct probe_opts *o, struct probe_result *r)
{
	struct media_flow f = {.o = o, .r = r, .row = 4, .fd = -1};
	media_flow_run(&f, SOCK_STREAM, o->client_tcp_port, "SYN", rtp_receive);
}
