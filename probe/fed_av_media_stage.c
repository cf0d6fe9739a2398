/* The last stages of a federation A/V run (probe/fed_av_run.h): the
 * permissions each own allocation gives the far client's inner one, then
 * RTP both ways, paced by a window, each packet counted as it arrives, and
 * the media's verdict. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe/fed_av_run.h"
#include "probe/flow.h"

#define STALL_MS       100  /* a full window with nothing back: assume it lost, send on */
#define LINGER_MS      1000 /* all sent: how long to wait after the last arrival */
#define DEFAULT_WINDOW 64   /* 11 KB of G.711 in flight: no socket buffer fills */

/* Each client's allocation must let the far client's inner allocation in
 * (MS-TURN has no CreatePermission): a Send to it opens the permission, and
 * the permit packet it carries goes on through that inner allocation (its
 * active destination is our allocation) and the far edge's 3478 to the far
 * client, which proves the permission and the way back. */
/* c's permit Send, ready to write: the permit packet (framed where the
 * relayed legs are streams) as the DATA of a Send to the far client's inner
 * allocation. 0 or the encoders' errors. */
static int permit_send(const struct run *R, struct client *c, uint8_t *out, size_t cap,
                       size_t *out_len)
{
	uint8_t pkt[RTP_FRAME_HDR_LEN + FED_AV_PKT_MAX], msg[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	size_t plen, len;
	struct msturn_req q = {.method = STUN_MSTURN_METHOD_SEND,
	                       .dest = (struct sockaddr *)&c->peer->res->inner_relayed,
	                       .data = pkt};
	int rc = (R->T->framed ? fed_av_packet_framed : fed_av_packet)(&c->out, FED_AV_PERMIT_INDEX,
	                                                               pkt, sizeof(pkt), &plen);
	q.data_len = plen;
	if (!rc)
		rc = stun_client_tid_new(tid);
	if (!rc)
		rc = msturn_req_encode(&c->own, &q, tid, msg, sizeof(msg), &len);
	return rc ? rc : R->T->wrap(c, FED_AV_WAY_OWN, msg, len, out, cap, out_len);
}

int fed_av_permission(struct run *R)
{
	uint8_t msg[2][FED_AV_WIRE_MAX];
	size_t len[2];
	double next = 0;
	unsigned rto = FED_AV_RTO_MS, sent = 0;
	double t0 = flow_now();
	for (int i = 0; i < 2; i++) {
		int rc = permit_send(R, &R->c[i], msg[i], sizeof(msg[i]), &len[i]);
		if (rc)
			return fed_av_fail(R, FED_AV_HOP_NONE, FED_AV_WHY_SOCKET, 0, rc,
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
				return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_UNREACHABLE,
				                   0, c->sock_err,
				                   "client %s's socket to edge %s: %s", c->name,
				                   c->name, strerror(c->sock_err));
			/* Resent until the far client has it: a Send is never
			 * answered (on TCP a copy costs nothing but bytes). */
			if (!c->peer->permit_seen)
				R->T->send(c, msg[i], len[i]);
		}
		if (now >= next) {
			sent++;
			next = now + rto / 1000.0;
			rto *= 2;
		}
		R->T->pump(R, next < R->deadline ? next : R->deadline);
	}
	for (int i = 0; i < 2; i++) {
		struct client *c = &R->c[i];
		char from[ADDR_STR_MAX], to[ADDR_STR_MAX];
		if (c->peer->permit_seen)
			continue;
		return fed_av_fail(
		    R, fed_av_relay_hop(R, c), FED_AV_WHY_NO_ANSWER, 0, ETIMEDOUT,
		    "client %s's Send from its relayed address %s to client %s's inner "
		    "allocation %s, both edge %s's, never reached client %s (%u tries in "
		    "%.1f s): edge %s does not relay between its own relayed addresses (its "
		    "peer policy must allow its own address), or the way back (edge %s to "
		    "edge %s to client %s) is shut",
		    c->name, fed_av_str(&c->res->relayed, from), c->far_name,
		    fed_av_str(&c->peer->res->inner_relayed, to), c->name, c->far_name, sent,
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
	uint8_t pkt[RTP_FRAME_HDR_LEN + FED_AV_PKT_MAX], wire[FED_AV_WIRE_MAX];
	size_t len, wire_len;
	for (; credit && tx->sent < c->out.packets; credit--) {
		if ((R->T->framed ? fed_av_packet_framed : fed_av_packet)(&c->out, tx->sent, pkt,
		                                                          sizeof(pkt), &len) ||
		    R->T->wrap(c, FED_AV_WAY_MEDIA, pkt, len, wire, sizeof(wire), &wire_len))
			break;
		int rc = R->T->send(c, wire, wire_len);
		if (rc) {
			if (rc != EAGAIN)
				c->sock_err = rc;
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
	return fed_av_fail(R, first ? FED_AV_HOP_PATH_A_TO_B : FED_AV_HOP_PATH_B_TO_A, w, 0,
	                   w == FED_AV_WHY_CORRUPT ? EBADMSG : ETIMEDOUT,
	                   "%s; %s; on paths whose every leg had carried the set-up's messages", ab,
	                   ba);
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

int fed_av_media(struct run *R)
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
				return fed_av_fail(R, fed_av_own_hop(R, c), FED_AV_WHY_UNREACHABLE,
				                   0, c->sock_err,
				                   "client %s's socket to edge %s, sending RTP: %s",
				                   c->name, c->name, strerror(c->sock_err));
			media_send(R, c, now);
		}
		R->T->pump(R, now + 0.01 < R->deadline ? now + 0.01 : R->deadline);
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
