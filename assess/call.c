/* One call's client (assess/assess_int.h): Allocate (its 401, then with
 * credentials), Set Active Destination or ChannelBind to the reflector,
 * then packets at the codec's rate (over MS-TURN's TCP relay, RFC 4571
 * frames) until the call's time is up, a grace time for the last ones,
 * and the allocation deleted. Requests are sent
 * again after 0.5, 1 and 2 s, as RFC 5389 section 7.2.1 has it, within
 * the call's setup bound. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "assess/assess_int.h"
#include "assess/packet.h"
#include "core/addr.h"
#include "stun/msturn_client.h"
#include "stun/turn_client.h"

#define CALL_CHANNEL TURN_CHANNEL_MIN
#define CALL_TRIES   4
#define RECV_BATCH   64

static int request_encode(struct call *c, bool delete);
static void xmit(struct call *c, bool control, const uint8_t *buf, size_t len);

/* The one way a call ends, well or not: its allocation deleted when it
 * has one (unanswered: it expires anyway), its events stopped. */
static void call_end(struct call *c)
{
	if (c->state == CALL_DONE || c->ending)
		return;
	c->ending = true; /* the delete's send may find the stream lost: not again */
	if (c->allocated && !c->deleted) {
		c->deleted = true;
		if (!request_encode(c, true))
			xmit(c, true, c->req, c->req_len);
	}
	c->state = CALL_DONE;
	if (c->rd)
		event_del(c->rd);
	if (c->retx)
		event_del(c->retx);
	if (c->tick)
		event_del(c->tick);
	call_stream_quiet(c); /* what is queued may still go: run.c flushes it */
	if (--c->loop->running == 0)
		event_base_loopbreak(c->loop->base);
}

/* The call ends, failed, with the reason into its error. */
__attribute__((format(printf, 2, 3))) static void call_fail(struct call *c, const char *fmt, ...)
{
	if (c->state == CALL_DONE || c->ending)
		return; /* a late event: the call's fate is said */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->out->error, sizeof(c->out->error), fmt, ap);
	va_end(ap);
	call_end(c);
}

static bool msturn(const struct call *c)
{
	return c->loop->o->dialect == ASSESS_DIALECT_MSTURN;
}

static bool stream(const struct call *c)
{
	return c->loop->o->transport != ASSESS_TRANSPORT_UDP;
}

/* One message to the server: a TURN message (control) or data. */
static void xmit(struct call *c, bool control, const uint8_t *buf, size_t len)
{
	if (stream(c))
		call_stream_send(c, control, buf, len);
	else
		(void)send(c->fd, buf, len, 0); /* a loss is the retransmission's, or the call's */
}

static const char *request_name(const struct call *c)
{
	if (c->state == CALL_ALLOCATE)
		return "Allocate";
	return msturn(c) ? "Set Active Destination" : "ChannelBind";
}

/* The request of c's state into c->req, with a fresh transaction id. */
static int request_encode(struct call *c, bool delete)
{
	const struct sockaddr *dest = (const struct sockaddr *)&c->loop->o->reflector;
	int rc = stun_client_tid_new(c->tid);
	if (rc)
		return rc;
	if (msturn(c)) {
		struct msturn_req q = {.method = STUN_METHOD_ALLOCATE, .delete = delete};
		if (!delete &&c->state == CALL_POINT) {
			q.method = STUN_MSTURN_METHOD_SET_ACTIVE_DEST;
			q.dest = dest;
		}
		return msturn_req_encode(&c->cred, &q, c->tid, c->req, sizeof(c->req), &c->req_len);
	}
	struct turn_req q = {.method = STUN_METHOD_ALLOCATE};
	if (delete)
		q.method = STUN_METHOD_REFRESH;
	else if (c->state == CALL_POINT)
		q = (struct turn_req){
		    .method = STUN_METHOD_CHANNEL_BIND, .peer = dest, .channel = CALL_CHANNEL};
	return turn_req_encode(&c->cred, &q, c->tid, c->req, sizeof(c->req), &c->req_len);
}

static void request_send(struct call *c)
{
	xmit(c, true, c->req, c->req_len);
	if (c->state == CALL_DONE)
		return; /* the stream was lost */
	/* 0.5, 1, 2 s..., the last wait cut to what is left of the setup bound;
	 * over TCP nothing is sent again (RFC 5389 section 7.2.2): the bound. */
	int64_t wait = stream(c) ? INT64_MAX : 500000LL << c->tries;
	int64_t left = (int64_t)c->loop->o->setup_ms * 1000 - (assess_now_us() - c->begun_us);
	if (wait > left)
		wait = left > 0 ? left : 0;
	struct timeval tv = {(time_t)(wait / 1000000), (long)(wait % 1000000)};
	c->tries = stream(c) ? CALL_TRIES : c->tries + 1;
	event_add(c->retx, &tv);
}

static void request_new(struct call *c)
{
	int rc = request_encode(c, false);
	if (rc) {
		call_fail(c, "cannot encode %s: %s", request_name(c), strerror(rc));
		return;
	}
	c->tries = 0;
	request_send(c);
}

/* --- media ------------------------------------------------------------------ */

static void media_send_due(struct call *c, int64_t now)
{
	const struct assess_opts *o = c->loop->o;
	int64_t period = 1000000 / o->rate;
	uint8_t pkt[ASSESS_PKT_MAX], framed[TURN_CHANNEL_HDR_LEN + ASSESS_PKT_MAX + 3];
	_Static_assert(sizeof(framed) >= ASSESS_FRAME_MAX, "room for an RFC 4571 frame");
	/* The packets due by now: the rate holds even when the loop wakes late. */
	uint64_t due = (uint64_t)((now - c->first_us) / period) + 1;
	while (c->rec.sent < c->planned && c->rec.sent < due) {
		struct assess_pkt p = {.call = c->out->id, .sent_us = now};
		if (assess_rec_sent(&c->rec, now, &p.index) ||
		    assess_pkt_encode(&p, o->size, pkt, sizeof(pkt)))
			break;
		const uint8_t *out = pkt;
		size_t len = o->size;
		if (msturn(c) && stream(c)) { /* a byte stream end to end: RFC 4571 */
			if (assess_frame_encode(&p, o->size, framed, sizeof(framed), &len))
				break;
			out = framed;
		} else if (!msturn(c)) {
			if (turn_channel_encode(CALL_CHANNEL, pkt, o->size, framed, sizeof(framed),
			                        &len))
				break;
			out = framed;
		}
		xmit(c, false, out, len); /* a packet not sent is a packet lost */
		if (c->state == CALL_DONE)
			return; /* the stream was lost */
	}
	if (c->rec.sent < c->planned)
		return;
	event_del(c->tick);
	c->state = CALL_DRAIN;
	struct timeval grace = {o->grace_ms / 1000, (long)(o->grace_ms % 1000) * 1000};
	event_add(c->retx, &grace);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct call *c = arg;
	media_send_due(c, assess_now_us());
}

static void media_start(struct call *c)
{
	const struct assess_opts *o = c->loop->o;
	c->state = CALL_MEDIA;
	c->planned = o->duration_s * o->rate;
	int rc = assess_rec_init(&c->rec, c->planned);
	if (rc) {
		call_fail(c, "cannot keep %u packets: %s", c->planned, strerror(rc));
		return;
	}
	event_del(c->retx);
	c->out->start = time(NULL);
	c->first_us = assess_now_us();
	event_add(c->tick, c->loop->tick);
	media_send_due(c, c->first_us);
}

/* A datagram from the relay while streaming: one of ours back. */
static void media_back(struct call *c, const uint8_t *buf, size_t len, int64_t now)
{
	if (!msturn(c)) {
		uint16_t channel;
		if (turn_channel_decode(buf, len, &channel, &buf, &len) ||
		    channel != CALL_CHANNEL) {
			c->strays++;
			return;
		}
	}
	struct assess_pkt p;
	if (assess_pkt_decode(buf, len, &p) || p.call != c->out->id ||
	    assess_rec_back(&c->rec, p.index, now) == EINVAL)
		c->strays++;
}

/* --- answers ------------------------------------------------------------------ */

/* The answer's code (0: success), or -1 when it is not one to read. */
static int answer_read(struct call *c, const struct stun_msg *m, uint16_t method)
{
	int rc, code = 0;
	const char *reason = "";
	bool relayed = false;
	struct sockaddr_storage at;
	if (msturn(c)) {
		struct msturn_answer a;
		rc = msturn_answer_read(m, method, &c->cred, &a);
		code = a.code, relayed = a.has_relayed, at = a.relayed;
		snprintf(c->reason, sizeof(c->reason), "%s", a.reason);
	} else {
		struct turn_answer a;
		rc = turn_answer_read(m, method, &c->cred, &a);
		code = a.code, relayed = a.has_relayed, at = a.relayed;
		snprintf(c->reason, sizeof(c->reason), "%s", a.reason);
	}
	reason = c->reason;
	if (rc == EACCES) /* kept for the timeout's words: the server did answer */
		snprintf(c->rejected, sizeof(c->rejected), "an answer failed its integrity check");
	else if (rc)
		snprintf(c->rejected, sizeof(c->rejected),
		         "an answer could not be read (a 401 without REALM or NONCE?)");
	if (rc)
		return -1;
	if (!code && relayed)
		c->out->relayed = at;
	if (code)
		snprintf(c->out->error, sizeof(c->out->error), "%d %s", code, reason);
	return code;
}

static void on_answer(struct call *c, const struct stun_msg *m)
{
	if (memcmp(m->tid, c->tid, STUN_TID_LEN) || c->state > CALL_POINT)
		return; /* an answer to a request sent again, already read */
	uint16_t method = c->state == CALL_ALLOCATE ? STUN_METHOD_ALLOCATE
	                  : msturn(c)               ? STUN_MSTURN_METHOD_SET_ACTIVE_DEST
	                                            : STUN_METHOD_CHANNEL_BIND;
	char server[64];
	addr_str((const struct sockaddr *)&c->loop->o->server, server, sizeof(server));
	if (msturn(c) && m->dialect != STUN_DIALECT_MSTURN) {
		call_fail(
		    c,
		    "%s answered by %s in RFC 5389, not MS-TURN: it does not speak Lync's dialect "
		    "(--dialect rfc5766)",
		    request_name(c), server);
		return;
	}
	int code = answer_read(c, m, method);
	if (code < 0)
		return; /* forged or garbled: the retransmission goes on */
	if (code == 0) {
		c->out->error[0] = '\0';
		if (c->state == CALL_POINT) {
			media_start(c);
			return;
		}
		c->allocated = true;
		c->state = CALL_POINT;
		request_new(c);
		return;
	}
	bool again = c->state == CALL_ALLOCATE && (code == 438 || (code == 401 && !c->authed));
	if (again) {
		c->authed = true;
		c->out->error[0] = '\0';
		request_new(c);
		return;
	}
	char why[ASSESS_ERR_MAX];
	snprintf(why, sizeof(why), "%s", c->out->error);
	call_fail(c, "%s refused by %s: %s%s", request_name(c), server, why,
	          code == 401   ? " (the user is unknown, or the password wrong)"
	          : code == 431 ? " (the password is wrong)"
	          : code == 403 ? " (the edge's peer policy refuses the reflector's address)"
	          : code == 508 ? " (the edge's relay ports are all taken)"
	          : code == 486 ? " (this user's allocation quota is reached)"
	                        : "");
}

static void call_input(struct call *c, bool control, const uint8_t *buf, size_t len, int64_t now)
{
	struct stun_msg m;
	if (control) {
		if (!stun_msg_decode(&m, buf, len) && m.cls != STUN_CLASS_INDICATION)
			on_answer(c, &m);
		else
			c->strays++;
	} else if (c->state == CALL_MEDIA || c->state == CALL_DRAIN) {
		media_back(c, buf, len, now);
	} else {
		c->strays++;
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct call *c = arg;
	uint8_t buf[2048];
	for (int i = 0; i < RECV_BATCH && c->state != CALL_DONE; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return; /* EAGAIN; an ICMP error is the retransmission's to see */
		call_input(c, stun_is_message(buf, (size_t)n), buf, (size_t)n, assess_now_us());
	}
}

static void on_retx(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct call *c = arg;
	if (c->state == CALL_DONE)
		return;
	if (c->state == CALL_DRAIN) { /* the grace is over */
		call_end(c);
		return;
	}
	const struct assess_opts *o = c->loop->o;
	int64_t spent_ms = (assess_now_us() - c->begun_us) / 1000;
	if (c->tries < CALL_TRIES && spent_ms < (int64_t)o->setup_ms) {
		request_send(c);
		return;
	}
	char server[64], tries[24] = "";
	addr_str((const struct sockaddr *)&o->server, server, sizeof(server));
	if (stream(c) && c->hello_sent && !c->connected) {
		call_fail(c, "no answer to the pseudo-TLS hello from %s in %.1f s", server,
		          (double)spent_ms / 1000);
		return;
	}
	if (stream(c) && !c->connected) {
		call_fail(c, "no TCP connection to %s in %.1f s", server, (double)spent_ms / 1000);
		return;
	}
	if (!stream(c))
		snprintf(tries, sizeof(tries), ", %u tries", c->tries);
	call_fail(c, "no answer to %s from %s in %.1f s (%s%s)%s%s", request_name(c), server,
	          (double)spent_ms / 1000, stream(c) ? "TCP" : "UDP", tries,
	          c->rejected[0] ? "; " : "", c->rejected);
}

static void stream_connected(struct call *c)
{
	if (c->state == CALL_DONE)
		return; /* connected after the setup bound */
	c->connected = true;
	request_new(c);
}

static void stream_lost(struct call *c, const char *why)
{
	call_fail(c, "%s", why);
}

static const struct call_stream_hooks stream_hooks = {stream_connected, call_input, stream_lost};

int call_start(struct call *c, struct step_loop *loop, struct assess_call *out)
{
	const struct assess_opts *o = loop->o;
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->out = out;
	c->fd = -1;
	c->cred.user = o->user;
	c->cred.pass = o->pass;
	c->begun_us = assess_now_us();
	c->retx = evtimer_new(loop->base, on_retx, c);
	c->tick = event_new(loop->base, -1, EV_PERSIST, on_tick, c);
	int rc = !c->retx || !c->tick ? ENOMEM : 0;
	if (!rc && stream(c)) {
		rc = call_stream_open(c, &stream_hooks);
		/* The setup bound runs from now, connecting included. */
		struct timeval tv = {o->setup_ms / 1000, (long)(o->setup_ms % 1000) * 1000};
		c->tries = CALL_TRIES;
		if (!rc && event_add(c->retx, &tv))
			rc = ENOMEM;
	} else if (!rc) {
		c->fd = socket(o->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		rc = c->fd < 0 ? errno : 0;
		if (!rc && connect(c->fd, (const struct sockaddr *)&o->server,
		                   addr_len((const struct sockaddr *)&o->server)))
			rc = errno;
		c->rd = rc ? NULL : event_new(loop->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
		if (!rc && (!c->rd || event_add(c->rd, NULL)))
			rc = ENOMEM;
		if (!rc)
			request_new(c);
	}
	if (rc) {
		snprintf(out->error, sizeof(out->error), "no socket for the call: %s",
		         strerror(rc));
		call_end(c);
	}
	return rc;
}

void call_stop(struct call *c)
{
	call_end(c);
}

void call_finish(struct call *c)
{
	call_end(c);
	struct assess_call *out = c->out;
	if (c->rec.cap) {
		assess_rec_stats(&c->rec, &out->stats);
		out->miss = assess_judge(&out->stats, assess_targets(c->loop->o->profile));
		uint32_t cap = c->loop->o->duration_s + 2;
		out->bins = calloc(cap, sizeof(*out->bins));
		if (out->bins)
			assess_rec_series(&c->rec, 1000000, out->bins, cap, &out->nbins);
		assess_rec_free(&c->rec);
	} else {
		out->miss = ASSESS_NOTHING_BACK;
	}
	if (c->rd)
		event_free(c->rd);
	if (c->retx)
		event_free(c->retx);
	if (c->tick)
		event_free(c->tick);
	call_stream_close(c);
	if (c->fd >= 0)
		close(c->fd);
	c->rd = c->retx = c->tick = NULL;
	c->fd = -1;
}
