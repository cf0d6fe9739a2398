/* What every stage of a federation A/V run uses (probe/fed_av_run.h): the
 * first failure and its sentence, the legs, the arrival of what a client
 * reads, and a request's exchange over whichever transport. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe/fed_av_run.h"
#include "probe/flow.h"

int fed_av_fail(struct run *R, enum fed_av_hop hop, enum fed_av_why why, int code, int err,
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

const char *fed_av_str(const struct sockaddr_storage *sa, char buf[ADDR_STR_MAX])
{
	return addr_str((const struct sockaddr *)sa, buf, ADDR_STR_MAX);
}

enum fed_av_hop fed_av_own_hop(const struct run *R, const struct client *c)
{
	return c == &R->c[0] ? FED_AV_HOP_CLIENT_A_TO_EDGE_A : FED_AV_HOP_CLIENT_B_TO_EDGE_B;
}

enum fed_av_hop fed_av_cross_hop(const struct run *R, const struct client *c)
{
	return c == &R->c[0] ? FED_AV_HOP_EDGE_A_TO_EDGE_B : FED_AV_HOP_EDGE_B_TO_EDGE_A;
}

enum fed_av_hop fed_av_relay_hop(const struct run *R, const struct client *c)
{
	return c == &R->c[0] ? FED_AV_HOP_EDGE_A_RELAY : FED_AV_HOP_EDGE_B_RELAY;
}

int fed_av_fail_unreached(struct run *R, struct client *c, int err, const char *what)
{
	char direct[ADDR_STR_MAX];
	const struct transport *T = R->T;
	return fed_av_fail(R, fed_av_cross_hop(R, c), FED_AV_WHY_NO_ANSWER, 0, err,
	                   "%s, while edge %s answers client %s directly (%s): edge %s's relay "
	                   "does not reach edge %s's %s%s (firewall %s %s, firewall %s %s)",
	                   what, c->far_name, c->far_name, fed_av_str(&c->peer->edge, direct),
	                   c->name, c->far_name, T->listener, T->or_else, c->name, T->row_out,
	                   c->far_name, T->row_in);
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

void fed_av_arrived(void *client, const struct fed_av_datagram *d)
{
	struct client *c = client;
	switch (d->kind) {
	case FED_AV_KIND_STUN:
		/* Answers to retransmissions come late: neither ours nor strays. */
		if (c->waiting && memcmp(d->msg.tid, c->want, STUN_TID_LEN) == 0 &&
		    d->msg.buf_len <= sizeof(c->answer)) {
			memcpy(c->answer, d->msg.buf, d->msg.buf_len);
			c->answer_len = d->msg.buf_len;
			c->waiting = false;
		}
		break;
	case FED_AV_KIND_PERMIT:
		c->permit_seen = true;
		break;
	case FED_AV_KIND_MEDIA:
	case FED_AV_KIND_CORRUPT:
		media_arrived(c, d);
		break;
	case FED_AV_KIND_OTHER:
		c->res->stray++;
		break;
	}
}

/* --- transactions --------------------------------------------------------- */

/* Writes msg (again every RTO, doubling, where the transport resends) until
 * the answer with tid comes (0), until (ETIMEDOUT), or a socket error. */
static int exchange(struct run *R, struct client *c, const uint8_t *msg, size_t len,
                    const uint8_t tid[STUN_TID_LEN], double until, unsigned *sent)
{
	double next = 0;
	unsigned rto = FED_AV_RTO_MS;
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
		bool due = R->T->resend || !*sent;
		if (due && now >= next) {
			int e = R->T->send(c, msg, len);
			if (e == EAGAIN) {
				next = now + 0.01; /* no room: soon again */
			} else {
				c->sock_err = e;
				(*sent)++;
				next = now + rto / 1000.0;
				rto *= 2;
			}
		}
		due = R->T->resend || !*sent;
		R->T->pump(R, due && next < until ? next : until);
	}
}

int fed_av_request(struct run *R, struct client *c, bool inner, const struct msturn_req *q,
                   double until, struct msturn_answer *a, unsigned *sent)
{
	uint8_t tid[STUN_TID_LEN], msg[STUN_MAX_MSG_LEN], wire[FED_AV_WIRE_MAX];
	size_t len, wire_len;
	struct stun_cred *cred = inner ? &c->far : &c->own;
	*sent = 0;
	memset(a, 0, sizeof(*a));
	int rc = stun_client_tid_new(tid);
	if (!rc)
		rc = msturn_req_encode(cred, q, tid, msg, sizeof(msg), &len);
	if (!rc)
		rc = R->T->wrap(c, inner ? FED_AV_WAY_INNER : FED_AV_WAY_OWN, msg, len, wire,
		                sizeof(wire), &wire_len);
	if (!rc)
		rc = exchange(R, c, wire, wire_len, tid, until, sent);
	struct stun_msg m;
	if (!rc && stun_msg_decode(&m, c->answer, c->answer_len))
		rc = EBADMSG;
	return rc ? rc : msturn_answer_read(&m, q->method, cred, a);
}

enum fed_av_why fed_av_outcome(int rc, const struct msturn_answer *a, unsigned sent, double t0,
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
