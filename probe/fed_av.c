/* The federation A/V test's run (probe/fed_av.h, docs/federation-av.md):
 * two clients' sockets in one thread, the set-up's transactions stage by
 * stage, the media both ways, the deletion, and the sentences. */
#include "probe/fed_av.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/fed_av_int.h"
#include "probe/flow.h"

#define RTO_MS         500  /* the first retransmission, doubling (RFC 5389 section 7.2.1) */
#define STALL_MS       100  /* a full window with nothing back: assume it lost, send on */
#define LINGER_MS      1000 /* all sent: how long to wait after the last arrival */
#define DELETE_MS      1000 /* the deletions' own bound, after the run's */
#define DEFAULT_WINDOW 64   /* 11 KB of G.711 in flight: no socket buffer fills */
#define SOCK_BUFFER    (1 << 20)
#define DGRAM_MAX      4096

struct run;

struct client {
	const char *name, *far_name;
	int fd;
	struct sockaddr_storage edge;     /* its own edge's 3478 (the socket is connected) */
	struct sockaddr_storage far_edge; /* the far edge's 3478 as its own edge reaches it */
	struct msturn_cred own, far;      /* its account on each edge */
	struct fed_av_stream out;         /* what it sends */
	struct fed_av_expect expect;      /* what it receives */
	struct fed_av_client *res;
	struct fed_av_dir *tx, *rx;
	struct client *peer;
	bool own_made, inner_made;

	/* The transaction waited for, and its answer. */
	bool waiting;
	uint8_t want[STUN_TID_LEN];
	uint8_t answer[STUN_MAX_MSG_LEN];
	size_t answer_len;
	int sock_err;

	/* Media. */
	bool permit_seen; /* the far client's permit packet reached us */
	uint8_t *seen;    /* a bit per packet of expect.in */
	uint32_t highest;
	bool any;
	double tx_first, tx_last, rx_last;
};

struct run {
	const struct fed_av_opts *o;
	struct fed_av_result *r;
	struct client c[2];
	double start, deadline;
	int err; /* fed_av_run's return once failed */
};

static const char *const stage_names[] = {"start",
                                          "own-allocate",
                                          "own-active-destination",
                                          "inner-allocate",
                                          "inner-active-destination",
                                          "permission",
                                          "media",
                                          "done"};
static const char *const hop_names[] = {"none",
                                        "client-a-to-edge-a",
                                        "client-b-to-edge-b",
                                        "edge-a-to-edge-b",
                                        "edge-b-to-edge-a",
                                        "edge-a-relay",
                                        "edge-b-relay",
                                        "path-a-to-b",
                                        "path-b-to-a"};
static const char *const why_names[] = {"none",      "options", "socket", "unreachable",
                                        "no-answer", "error",   "auth",   "bad-answer",
                                        "lost",      "corrupt"};

const char *fed_av_stage_name(enum fed_av_stage s)
{
	return (unsigned)s < sizeof(stage_names) / sizeof(*stage_names) ? stage_names[s] : "?";
}

const char *fed_av_hop_name(enum fed_av_hop h)
{
	return (unsigned)h < sizeof(hop_names) / sizeof(*hop_names) ? hop_names[h] : "?";
}

const char *fed_av_why_name(enum fed_av_why w)
{
	return (unsigned)w < sizeof(why_names) / sizeof(*why_names) ? why_names[w] : "?";
}

void fed_av_opts_default(struct fed_av_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->packets = 500;
	o->payload = 160;
	o->timeout_ms = 5000;
}

/* The first failure wins; returns err for the caller to pass on. */
__attribute__((format(printf, 6, 7))) static int fail(struct run *R, enum fed_av_hop hop,
                                                      enum fed_av_why why, int code, int err,
                                                      const char *fmt, ...)
{
	if (R->r->why != FED_AV_WHY_NONE)
		return R->err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(R->r->detail, sizeof(R->r->detail), fmt, ap);
	va_end(ap);
	R->r->hop = hop;
	R->r->why = why;
	R->r->code = code;
	R->err = err;
	return err;
}

static const char *str(const struct sockaddr_storage *sa, char buf[ADDR_STR_MAX])
{
	return addr_str((const struct sockaddr *)sa, buf, ADDR_STR_MAX);
}

/* --- receiving ------------------------------------------------------------ */

static void media_arrived(struct client *c, const struct fed_av_datagram *d)
{
	struct fed_av_dir *rx = c->rx;
	rx->received++;
	c->rx_last = flow_now();
	if (d->kind == FED_AV_KIND_CORRUPT) {
		rx->corrupt++;
		return;
	}
	uint8_t bit = (uint8_t)(1u << (d->index % 8));
	if (c->seen[d->index / 8] & bit) {
		rx->duplicate++;
		return;
	}
	c->seen[d->index / 8] |= bit;
	rx->intact++;
	if (c->any && d->index < c->highest)
		rx->out_of_order++;
	if (!c->any || d->index > c->highest)
		c->highest = d->index;
	c->any = true;
}

static void arrived(struct client *c, const uint8_t *buf, size_t len)
{
	static _Thread_local struct fed_av_datagram d;
	fed_av_classify(&c->expect, buf, len, &d);
	switch (d.kind) {
	case FED_AV_KIND_STUN:
		/* Answers to retransmissions come late: neither ours nor strays. */
		if (c->waiting && memcmp(d.msg.tid, c->want, STUN_TID_LEN) == 0) {
			memcpy(c->answer, d.msg.buf, d.msg.buf_len);
			c->answer_len = d.msg.buf_len;
			c->waiting = false;
		}
		break;
	case FED_AV_KIND_PERMIT:
		c->permit_seen = true;
		break;
	case FED_AV_KIND_MEDIA:
	case FED_AV_KIND_CORRUPT:
		media_arrived(c, &d);
		break;
	case FED_AV_KIND_OTHER:
		c->res->stray++;
		break;
	}
}

static void drain(struct client *c)
{
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
		if ((size_t)n <= sizeof(buf))
			arrived(c, buf, (size_t)n);
		else
			c->res->stray++;
	}
}

/* Reads both sockets until `until` (flow_now() seconds) or something came. */
static void pump(struct run *R, double until)
{
	struct pollfd p[2] = {{.fd = R->c[0].fd, .events = POLLIN},
	                      {.fd = R->c[1].fd, .events = POLLIN}};
	if (poll(p, 2, flow_left_ms(until)) <= 0)
		return;
	for (int i = 0; i < 2; i++)
		if (p[i].revents)
			drain(&R->c[i]);
}

/* --- transactions --------------------------------------------------------- */

/* Sends msg to c's edge, again every RTO (doubling), until the answer with
 * tid comes (0), until (ETIMEDOUT), or a socket error. */
static int exchange(struct run *R, struct client *c, const uint8_t *msg, size_t len,
                    const uint8_t tid[STUN_TID_LEN], double until, unsigned *sent)
{
	double next = 0;
	unsigned rto = RTO_MS;
	memcpy(c->want, tid, STUN_TID_LEN);
	c->waiting = true;
	c->sock_err = 0;
	*sent = 0;
	for (;;) {
		double now = flow_now();
		int rc = !c->waiting    ? 0
		         : c->sock_err  ? c->sock_err
		         : now >= until ? ETIMEDOUT
		                        : -1;
		if (rc >= 0) {
			c->waiting = false;
			return rc;
		}
		if (now >= next) {
			if (send(c->fd, msg, len, 0) < 0 && errno != EAGAIN && errno != ENOBUFS)
				c->sock_err = errno;
			(*sent)++;
			next = now + rto / 1000.0;
			rto *= 2;
		}
		pump(R, next < until ? next : until);
	}
}

/* A request of c's on its own edge, or (inner) on the far edge in a Send
 * through its own allocation; 0 and its answer in a, or exchange's errors,
 * msturn_answer_read's, or the encoder's (ENOSPC, EINVAL, EIO: ours). */
static int request(struct run *R, struct client *c, bool inner, const struct msturn_req *q,
                   double until, struct msturn_answer *a, unsigned *sent)
{
	uint8_t tid[STUN_TID_LEN], otid[STUN_TID_LEN], msg[STUN_MAX_MSG_LEN],
	    wrapped[STUN_MAX_MSG_LEN];
	size_t len;
	struct msturn_cred *cred = inner ? &c->far : &c->own;
	*sent = 0;
	memset(a, 0, sizeof(*a));
	int rc = msturn_tid_new(tid);
	if (!rc)
		rc = msturn_req_encode(cred, q, tid, msg, sizeof(msg), &len);
	if (!rc && inner) {
		struct msturn_req send = {.method = STUN_MSTURN_METHOD_SEND,
		                          .dest = (struct sockaddr *)&c->far_edge,
		                          .data = msg,
		                          .data_len = len};
		rc = msturn_tid_new(otid);
		if (!rc)
			rc =
			    msturn_req_encode(&c->own, &send, otid, wrapped, sizeof(wrapped), &len);
	}
	if (!rc)
		rc = exchange(R, c, inner ? wrapped : msg, len, tid, until, sent);
	struct stun_msg m;
	if (!rc && stun_msg_decode(&m, c->answer, c->answer_len))
		rc = EBADMSG;
	return rc ? rc : msturn_answer_read(&m, q->method, cred, a);
}

/* Allocate: unauthenticated first (401 and its nonce), then with the
 * credentials; once more after a 438. A 401 after the credentials ends it. */
static int allocate(struct run *R, struct client *c, bool inner, struct msturn_answer *a,
                    unsigned *sent)
{
	struct msturn_req q = {.method = STUN_METHOD_ALLOCATE};
	unsigned n;
	int rc = 0;
	*sent = 0;
	for (int round = 0; round < 3; round++) {
		bool had_nonce = (inner ? &c->far : &c->own)->have_nonce;
		rc = request(R, c, inner, &q, R->deadline, a, &n);
		*sent += n;
		if (rc || (a->code != 401 && a->code != 438) || (a->code == 401 && had_nonce))
			break;
	}
	return rc;
}

/* Why a request failed, as the end of a sentence ("got no answer in 1.5 s
 * (3 requests)"); FED_AV_WHY_NONE when it did not. */
static enum fed_av_why outcome(int rc, const struct msturn_answer *a, unsigned sent, double t0,
                               char *buf, size_t cap, int *err)
{
	*err = rc;
	switch (rc) {
	case 0:
		break;
	case ETIMEDOUT:
		snprintf(buf, cap, "got no answer in %.1f s (%u request%s)", flow_now() - t0, sent,
		         sent == 1 ? "" : "s");
		return FED_AV_WHY_NO_ANSWER;
	case ECONNREFUSED:
		snprintf(buf, cap, "drew ICMP port unreachable");
		return FED_AV_WHY_UNREACHABLE;
	case EHOSTUNREACH:
	case ENETUNREACH:
		snprintf(buf, cap, "drew ICMP %s unreachable",
		         rc == EHOSTUNREACH ? "host" : "network");
		return FED_AV_WHY_UNREACHABLE;
	case EBADMSG:
		*err = EPROTO;
		snprintf(buf, cap, "got an answer that is no well-formed MS-TURN answer to it");
		return FED_AV_WHY_BAD_ANSWER;
	case EACCES:
		*err = EPROTO;
		snprintf(buf, cap, "got an answer whose MESSAGE-INTEGRITY fails with our key");
		return FED_AV_WHY_BAD_ANSWER;
	default:
		snprintf(buf, cap, "failed here: %s", strerror(rc));
		return FED_AV_WHY_SOCKET;
	}
	if (!a->code)
		return FED_AV_WHY_NONE;
	*err = EACCES;
	snprintf(buf, cap, "was answered %d %s", a->code, a->reason);
	switch (a->code) {
	case 401: /* after the credentials */
	case 431:
	case 432:
	case 434:
	case 435:
	case 436:
	case 438: /* twice */
		return FED_AV_WHY_AUTH;
	default:
		return FED_AV_WHY_ERROR;
	}
}

/* --- the stages ------------------------------------------------------------ */

static enum fed_av_hop own_hop(const struct run *R, const struct client *c)
{
	return c == &R->c[0] ? FED_AV_HOP_CLIENT_A_TO_EDGE_A : FED_AV_HOP_CLIENT_B_TO_EDGE_B;
}

static enum fed_av_hop cross_hop(const struct run *R, const struct client *c)
{
	return c == &R->c[0] ? FED_AV_HOP_EDGE_A_TO_EDGE_B : FED_AV_HOP_EDGE_B_TO_EDGE_A;
}

static enum fed_av_hop relay_hop(const struct run *R, const struct client *c)
{
	return c == &R->c[0] ? FED_AV_HOP_EDGE_A_RELAY : FED_AV_HOP_EDGE_B_RELAY;
}

/* An Allocate (inner: on the far edge, through the own allocation) and its
 * outcome, a success without an IPv4 relayed address a bad answer. */
static enum fed_av_why allocation(struct run *R, struct client *c, bool inner,
                                  struct msturn_answer *a, char *why, size_t cap, int *err)
{
	unsigned sent;
	double t0 = flow_now();
	int rc = allocate(R, c, inner, a, &sent);
	enum fed_av_why w = outcome(rc, a, sent, t0, why, cap, err);
	if (w == FED_AV_WHY_NONE && a->relayed.ss_family != AF_INET) {
		*err = EPROTO;
		snprintf(why, cap, "got a success without an IPv4 relayed address");
		return FED_AV_WHY_BAD_ANSWER;
	}
	return w;
}

/* A Set Active Destination to dest on the own allocation or (inner) on the
 * inner one, and its outcome. */
static enum fed_av_why active_dest(struct run *R, struct client *c, bool inner,
                                   const struct sockaddr_storage *dest, struct msturn_answer *a,
                                   char *why, size_t cap, int *err)
{
	struct msturn_req q = {.method = STUN_MSTURN_METHOD_SET_ACTIVE_DEST,
	                       .dest = (const struct sockaddr *)dest};
	unsigned sent;
	double t0 = flow_now();
	int rc = request(R, c, inner, &q, R->deadline, a, &sent);
	return outcome(rc, a, sent, t0, why, cap, err);
}

static int own_allocate(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], e[ADDR_STR_MAX];
	int err;
	enum fed_av_why w = allocation(R, c, false, &a, why, sizeof(why), &err);
	if (w == FED_AV_WHY_AUTH)
		return fail(
		    R, own_hop(R, c), w, a.code, err,
		    "edge %s (%s) refused client %s's credentials (user %s): its Allocate %s",
		    c->name, str(&c->edge, e), c->name, c->own.user, why);
	if (w != FED_AV_WHY_NONE)
		return fail(R, own_hop(R, c), w, a.code, err,
		            "client %s's Allocate to edge %s (%s) %s", c->name, c->name,
		            str(&c->edge, e), why);
	c->own_made = true;
	c->res->relayed = a.relayed;
	c->res->mapped = a.mapped;
	return 0;
}

static int own_active_dest(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], e[ADDR_STR_MAX], f[ADDR_STR_MAX];
	int err;
	enum fed_av_why w = active_dest(R, c, false, &c->far_edge, &a, why, sizeof(why), &err);
	if (w == FED_AV_WHY_ERROR && a.code == 403)
		return fail(
		    R, cross_hop(R, c), w, a.code, err,
		    "edge %s refuses to relay to edge %s's %s: client %s's Set Active "
		    "Destination %s (edge %s's peer policy: peer_deny, or a built-in denial)",
		    c->name, c->far_name, str(&c->far_edge, f), c->name, why, c->name);
	if (w != FED_AV_WHY_NONE)
		return fail(R, own_hop(R, c), w, a.code, err,
		            "client %s's Set Active Destination %s to edge %s (%s) %s", c->name,
		            str(&c->far_edge, f), c->name, str(&c->edge, e), why);
	return 0;
}

static int inner_allocate(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], f[ADDR_STR_MAX], ra[ADDR_STR_MAX], direct[ADDR_STR_MAX];
	int err;
	enum fed_av_why w = allocation(R, c, true, &a, why, sizeof(why), &err);
	str(&c->far_edge, f);
	str(&c->res->relayed, ra);
	if (w == FED_AV_WHY_NO_ANSWER)
		/* The far client's own allocation proved the far edge answers
		 * on the internet segment: the leg between the edges it is. */
		return fail(
		    R, cross_hop(R, c), w, 0, err,
		    "the Allocate to edge %s (%s) sent through edge %s's relay (%s) %s, "
		    "while edge %s answers client %s directly (%s): edge %s's relay does not "
		    "reach edge %s's UDP 3478, or its answers do not come back (firewall "
		    "%s row 5 out, firewall %s row 6 in)",
		    c->far_name, f, c->name, ra, why, c->far_name, c->far_name,
		    str(&c->peer->edge, direct), c->name, c->far_name, c->name, c->far_name);
	if (w != FED_AV_WHY_NONE)
		return fail(
		    R, cross_hop(R, c), w, a.code, err,
		    "the Allocate to edge %s (%s) sent through edge %s's relay (%s) as user "
		    "%s %s",
		    c->far_name, f, c->name, ra, c->far.user, why);
	c->inner_made = true;
	c->res->inner_relayed = a.relayed;
	c->res->inner_mapped = a.mapped;
	return 0;
}

static int inner_active_dest(struct run *R, struct client *c)
{
	struct msturn_answer a;
	char why[160], f[ADDR_STR_MAX], in[ADDR_STR_MAX], to[ADDR_STR_MAX];
	int err;
	enum fed_av_why w =
	    active_dest(R, c, true, &c->peer->res->relayed, &a, why, sizeof(why), &err);
	str(&c->res->inner_relayed, in);
	str(&c->peer->res->relayed, to);
	if (w == FED_AV_WHY_ERROR && a.code == 403)
		return fail(
		    R, relay_hop(R, c->peer), w, a.code, err,
		    "edge %s refuses to relay from client %s's inner allocation (%s) to "
		    "client %s's allocation (%s), its own address: the Set Active Destination "
		    "%s; its peer policy must allow its own address (peer_allow, or "
		    "allow_loopback_peers yes on loopback)",
		    c->far_name, c->name, in, c->far_name, to, why);
	if (w != FED_AV_WHY_NONE)
		return fail(
		    R, cross_hop(R, c), w, a.code, err,
		    "client %s's Set Active Destination %s sent to edge %s (%s) through edge "
		    "%s's relay %s",
		    c->name, to, c->far_name, str(&c->far_edge, f), c->name, why);
	return 0;
}

/* Each client's allocation must let the far client's inner allocation in
 * (MS-TURN has no CreatePermission): a Send to it opens the permission, and
 * the permit packet it carries goes on through that inner allocation (its
 * active destination is our allocation) and the far edge's 3478 to the far
 * client, which proves the permission and the way back. */
static int permission(struct run *R)
{
	uint8_t pkt[FED_AV_PKT_MAX], msg[2][STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	size_t plen, len[2];
	double next = 0;
	unsigned rto = RTO_MS, sent = 0;
	double t0 = flow_now();
	for (int i = 0; i < 2; i++) {
		struct client *c = &R->c[i];
		struct msturn_req q = {.method = STUN_MSTURN_METHOD_SEND,
		                       .dest = (struct sockaddr *)&c->peer->res->inner_relayed,
		                       .data = pkt};
		int rc = fed_av_packet(&c->out, FED_AV_PERMIT_INDEX, pkt, sizeof(pkt), &plen);
		q.data_len = plen;
		if (!rc)
			rc = msturn_tid_new(tid);
		if (!rc)
			rc = msturn_req_encode(&c->own, &q, tid, msg[i], sizeof(msg[i]), &len[i]);
		if (rc)
			return fail(R, FED_AV_HOP_NONE, FED_AV_WHY_SOCKET, 0, rc,
			            "the permit Send cannot be built: %s", strerror(rc));
	}
	for (;;) {
		double now = flow_now();
		bool done = R->c[0].permit_seen && R->c[1].permit_seen;
		if (done || now >= R->deadline)
			break;
		for (int i = 0; i < 2 && now >= next; i++) {
			struct client *c = &R->c[i];
			if (c->sock_err)
				return fail(R, own_hop(R, c), FED_AV_WHY_UNREACHABLE, 0,
				            c->sock_err, "client %s's socket to edge %s: %s",
				            c->name, c->name, strerror(c->sock_err));
			/* Resent until the far client has it: a Send is never answered. */
			if (!c->peer->permit_seen)
				send(c->fd, msg[i], len[i], 0);
		}
		if (now >= next) {
			sent++;
			next = now + rto / 1000.0;
			rto *= 2;
		}
		pump(R, next < R->deadline ? next : R->deadline);
	}
	for (int i = 0; i < 2; i++) {
		struct client *c = &R->c[i];
		char from[ADDR_STR_MAX], to[ADDR_STR_MAX];
		if (c->peer->permit_seen)
			continue;
		return fail(
		    R, relay_hop(R, c), FED_AV_WHY_NO_ANSWER, 0, ETIMEDOUT,
		    "client %s's Send from its relayed address %s to client %s's inner "
		    "allocation %s, both edge %s's, never reached client %s (%u tries in "
		    "%.1f s): edge %s does not relay between its own relayed addresses (its "
		    "peer policy must allow its own address), or the way back (edge %s to "
		    "edge %s to client %s) is shut",
		    c->name, str(&c->res->relayed, from), c->far_name,
		    str(&c->peer->res->inner_relayed, to), c->name, c->far_name, sent,
		    flow_now() - t0, c->name, c->name, c->far_name, c->far_name);
	}
	return 0;
}

/* Sends what the window lets c send now. */
static void media_send(struct run *R, struct client *c, double now)
{
	unsigned window = R->o->window ? R->o->window : DEFAULT_WINDOW;
	struct fed_av_dir *tx = c->tx;
	unsigned in_flight = tx->sent - tx->received;
	unsigned credit = in_flight < window ? window - in_flight : 0;
	if (!credit && now - c->tx_last >= STALL_MS / 1000.0)
		credit = window; /* nothing for a while: what is out there is lost */
	uint8_t pkt[FED_AV_PKT_MAX];
	size_t len;
	for (; credit && tx->sent < c->out.packets; credit--) {
		if (fed_av_packet(&c->out, tx->sent, pkt, sizeof(pkt), &len))
			break;
		if (send(c->fd, pkt, len, 0) < 0) {
			if (errno != EAGAIN && errno != ENOBUFS)
				c->sock_err = errno;
			break; /* a full buffer: the rest on the next round */
		}
		if (!tx->sent)
			c->tx_first = now;
		tx->sent++;
		c->tx_last = now;
	}
}

static bool media_done(const struct run *R)
{
	return R->c[0].rx->intact == R->o->packets && R->c[1].rx->intact == R->o->packets;
}

/* One direction's figures as a clause; its why (NONE: all intact). */
static enum fed_av_why media_clause(const struct run *R, const struct client *from, char *buf,
                                    size_t cap)
{
	const struct fed_av_dir *d = from->tx;
	const struct client *to = from->peer;
	snprintf(buf, cap,
	         "%s to %s: %u of %u RTP packets arrived intact, %u lost, %u corrupted, %u "
	         "duplicated (%u sent; %u strays at client %s)",
	         from->name, to->name, d->intact, R->o->packets, d->lost, d->corrupt, d->duplicate,
	         d->sent, to->res->stray, to->name);
	return d->corrupt                  ? FED_AV_WHY_CORRUPT
	       : d->intact < R->o->packets ? FED_AV_WHY_LOST
	                                   : FED_AV_WHY_NONE;
}

/* The media's verdict, the first failing direction's hop first. */
static int media_verdict(struct run *R)
{
	char ab[200], ba[200];
	enum fed_av_why w_ab = media_clause(R, &R->c[0], ab, sizeof(ab));
	enum fed_av_why w_ba = media_clause(R, &R->c[1], ba, sizeof(ba));
	if (w_ab == FED_AV_WHY_NONE && w_ba == FED_AV_WHY_NONE)
		return 0;
	bool first = w_ab != FED_AV_WHY_NONE;
	enum fed_av_why w = first ? w_ab : w_ba;
	return fail(R, first ? FED_AV_HOP_PATH_A_TO_B : FED_AV_HOP_PATH_B_TO_A, w, 0,
	            w == FED_AV_WHY_CORRUPT ? EBADMSG : ETIMEDOUT,
	            "%s; %s; on paths whose every leg had carried the set-up's messages", ab, ba);
}

/* The last send or arrival of either client, or since. */
static double media_last(const struct run *R, double since)
{
	for (int i = 0; i < 2; i++) {
		const struct client *c = &R->c[i];
		since = c->tx_last > since ? c->tx_last : since;
		since = c->rx_last > since ? c->rx_last : since;
	}
	return since;
}

static int media(struct run *R)
{
	double start = flow_now();
	for (;;) {
		double now = flow_now();
		bool all_sent =
		    R->c[0].tx->sent == R->o->packets && R->c[1].tx->sent == R->o->packets;
		if (media_done(R) || now >= R->deadline)
			break;
		if (all_sent && now - media_last(R, start) >= LINGER_MS / 1000.0)
			break;
		for (int i = 0; i < 2; i++) {
			struct client *c = &R->c[i];
			if (c->sock_err)
				return fail(R, own_hop(R, c), FED_AV_WHY_UNREACHABLE, 0,
				            c->sock_err,
				            "client %s's socket to edge %s, sending RTP: %s",
				            c->name, c->name, strerror(c->sock_err));
			media_send(R, c, now);
		}
		pump(R, now + 0.01 < R->deadline ? now + 0.01 : R->deadline);
	}
	for (int i = 0; i < 2; i++) {
		struct client *c = &R->c[i];
		c->tx->lost =
		    c->tx->sent > c->peer->rx->intact ? c->tx->sent - c->peer->rx->intact : 0;
		if (c->tx->sent < R->o->packets)
			c->tx->lost += R->o->packets - c->tx->sent;
		c->tx->seconds =
		    c->peer->rx_last > c->tx_first ? c->peer->rx_last - c->tx_first : 0;
	}
	return media_verdict(R);
}

/* Inner allocations first: they are reached through the own ones. */
static void delete_all(struct run *R)
{
	double until = flow_now() + DELETE_MS / 1000.0;
	struct msturn_req q = {.method = STUN_METHOD_ALLOCATE, .delete = true};
	struct msturn_answer a;
	unsigned sent;
	for (int inner = 1; inner >= 0; inner--)
		for (int i = 0; i < 2; i++) {
			struct client *c = &R->c[i];
			if (!(inner ? c->inner_made : c->own_made))
				continue;
			if (!request(R, c, inner, &q, until, &a, &sent) && !a.code)
				R->r->deleted++;
		}
}

/* --- set-up ---------------------------------------------------------------- */

static int check_side(struct run *R, const struct fed_av_side *s, const char *name)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&s->edge;
	if (s->edge.ss_family != AF_INET || !in->sin_port)
		return fail(R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		            "side %s: the edge must be an IPv4 address with a port", name);
	if (s->peer_edge.ss_family != AF_UNSPEC &&
	    (s->peer_edge.ss_family != AF_INET || !((struct sockaddr_in *)&s->peer_edge)->sin_port))
		return fail(R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		            "side %s: peer_edge must be unset or an IPv4 address with a port",
		            name);
	if (!s->user || !s->pass || !*s->user)
		return fail(R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		            "side %s: a TURN user and password are needed", name);
	return 0;
}

static int check_opts(struct run *R)
{
	const struct fed_av_opts *o = R->o;
	int rc = check_side(R, &o->a, "A");
	if (!rc)
		rc = check_side(R, &o->b, "B");
	if (!rc &&
	    (o->packets < 1 || o->packets > FED_AV_MAX_PACKETS || o->payload < FED_AV_MIN_PAYLOAD ||
	     o->payload > FED_AV_MAX_PAYLOAD || !o->timeout_ms))
		rc = fail(R, FED_AV_HOP_NONE, FED_AV_WHY_OPTIONS, 0, EINVAL,
		          "packets must be 1-%u, payload %u-%u bytes, the timeout above 0",
		          FED_AV_MAX_PACKETS, FED_AV_MIN_PAYLOAD, FED_AV_MAX_PAYLOAD);
	return rc;
}

static int client_open(struct run *R, struct client *c, const struct fed_av_side *own,
                       const struct fed_av_side *far, struct fed_av_client *res)
{
	int size = SOCK_BUFFER;
	c->res = res;
	c->edge = own->edge;
	c->far_edge = far->peer_edge.ss_family == AF_UNSPEC ? far->edge : far->peer_edge;
	c->expect.far_edge = c->far_edge;
	c->own = (struct msturn_cred){.user = own->user, .pass = own->pass};
	c->far = (struct msturn_cred){.user = far->user, .pass = far->pass};
	c->seen = calloc(R->o->packets / 8 + 1, 1);
	uint8_t rnd[10];
	if (!c->seen || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return fail(R, FED_AV_HOP_NONE, FED_AV_WHY_SOCKET, 0, ENOMEM, "out of memory");
	c->out = (struct fed_av_stream){
	    .ssrc = (uint32_t)rnd[0] << 24 | rnd[1] << 16 | rnd[2] << 8 | rnd[3],
	    .seq0 = (uint16_t)(rnd[4] << 8 | rnd[5]),
	    .ts0 = (uint32_t)rnd[6] << 24 | rnd[7] << 16 | rnd[8] << 8 | rnd[9],
	    .payload = R->o->payload,
	    .packets = R->o->packets};
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
	socklen_t len = sizeof(res->local);
	if (!rc && getsockname(c->fd, (struct sockaddr *)&res->local, &len))
		rc = errno;
	if (rc)
		return fail(R, own_hop(R, c), FED_AV_WHY_SOCKET, 0, rc,
		            "client %s's UDP socket to edge %s: %s", c->name, c->name,
		            strerror(rc));
	return 0;
}

#define OTHER_TRY_S 1.5 /* the other client's try after the first one failed */

/* A step for both clients. When the first fails, the second still tries,
 * on a budget of its own (the first may have spent the run's), so that a
 * report can tell whether its leg works; the first failure stays the one
 * reported. */
static int both(struct run *R, int (*step)(struct run *, struct client *))
{
	struct fed_av_result *r = R->r;
	int rc = step(R, &R->c[0]);
	if (!rc)
		return step(R, &R->c[1]);
	enum fed_av_hop hop = r->hop;
	enum fed_av_why why = r->why;
	int code = r->code;
	char detail[sizeof(r->detail)];
	memcpy(detail, r->detail, sizeof(detail));
	double deadline = R->deadline;
	R->deadline = flow_now() + OTHER_TRY_S;
	step(R, &R->c[1]);
	R->deadline = deadline;
	r->hop = hop;
	r->why = why;
	r->code = code;
	memcpy(r->detail, detail, sizeof(detail));
	return rc;
}

/* The stages in order; the first failure ends the run (the other client
 * having tried the same step: both). */
static int stages(struct run *R)
{
	struct fed_av_result *r = R->r;
	int rc;
	r->stage = FED_AV_STAGE_OWN_ALLOCATE;
	if ((rc = both(R, own_allocate)))
		return rc;
	r->stage = FED_AV_STAGE_OWN_ACTIVE_DEST;
	if ((rc = own_active_dest(R, &R->c[0])) || (rc = own_active_dest(R, &R->c[1])))
		return rc;
	r->stage = FED_AV_STAGE_INNER_ALLOCATE;
	if ((rc = both(R, inner_allocate)))
		return rc;
	/* Media comes from the far client's inner allocation, on our edge. */
	for (int i = 0; i < 2; i++)
		R->c[i].expect.media_from = R->c[i].peer->res->inner_relayed;
	r->stage = FED_AV_STAGE_INNER_ACTIVE_DEST;
	if ((rc = inner_active_dest(R, &R->c[0])) || (rc = inner_active_dest(R, &R->c[1])))
		return rc;
	r->stage = FED_AV_STAGE_PERMISSION;
	if ((rc = permission(R)))
		return rc;
	r->stage = FED_AV_STAGE_MEDIA;
	if ((rc = media(R)))
		return rc;
	r->stage = FED_AV_STAGE_DONE;
	return 0;
}

int fed_av_run(const struct fed_av_opts *o, struct fed_av_result *r)
{
	memset(r, 0, sizeof(*r));
	struct run *R = calloc(1, sizeof(*R));
	if (!R) {
		snprintf(r->detail, sizeof(r->detail), "out of memory");
		r->why = FED_AV_WHY_SOCKET;
		return ENOMEM;
	}
	R->o = o;
	R->r = r;
	R->start = flow_now();
	R->deadline = R->start + o->timeout_ms / 1000.0;
	struct client *a = &R->c[0], *b = &R->c[1];
	a->fd = b->fd = -1;
	a->name = b->far_name = o->a.name ? o->a.name : "A";
	b->name = a->far_name = o->b.name ? o->b.name : "B";
	a->peer = b;
	b->peer = a;
	a->tx = b->rx = &r->a_to_b;
	b->tx = a->rx = &r->b_to_a;
	a->expect.in = &b->out;
	b->expect.in = &a->out;
	int rc = check_opts(R);
	if (!rc)
		rc = client_open(R, a, &o->a, &o->b, &r->a);
	if (!rc)
		rc = client_open(R, b, &o->b, &o->a, &r->b);
	if (!rc)
		rc = stages(R);
	delete_all(R);
	r->ok = !rc;
	r->seconds = flow_now() - R->start;
	if (r->ok) {
		char ra[ADDR_STR_MAX], rb[ADDR_STR_MAX];
		snprintf(r->detail, sizeof(r->detail),
		         "%u RTP packets of %zu bytes each way, all intact: %s to %s in %.2f s "
		         "through %s's relay %s, %s to %s in %.2f s through %s's relay %s",
		         o->packets, o->payload, a->name, b->name, r->a_to_b.seconds, a->name,
		         str(&r->a.relayed, ra), b->name, a->name, r->b_to_a.seconds, b->name,
		         str(&r->b.relayed, rb));
	}
	for (int i = 0; i < 2; i++) {
		if (R->c[i].fd >= 0)
			close(R->c[i].fd);
		free(R->c[i].seen);
	}
	free(R);
	return rc;
}
