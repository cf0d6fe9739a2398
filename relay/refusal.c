/* Every refused TURN / MS-TURN request and every dropped relayed packet
 * has a reason, a count and a log line, so that a lab engineer whose client
 * fails sees why in the edge's log: "turn: refused 192.0.2.10:40123/udp
 * user alice: wrong password (401)". The lines are rate-limited per reason
 * and worker (a client retrying a wrong password, a scanner), and the next
 * line that passes says how many were held back. The 401 that only
 * challenges a request without credentials is the normal first step of
 * every allocation: neither logged nor counted here. */
#include <event2/event.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/log.h"
#include "relay/turn_int.h"

#define LOG_PER_SEC 5  /* lines a second per reason and worker, after */
#define LOG_BURST   20 /* a burst of this many */

/* What an error code says when nothing more was set. */
static enum turn_refusal refusal_of(int code)
{
	switch (code) {
	case 400:
	case 420:
	case 432:
	case 434:
	case 435:
		return TURN_REFUSAL_MALFORMED;
	case 403:
		return TURN_REFUSAL_PEER_POLICY;
	case 431:
		return TURN_REFUSAL_WRONG_PASSWORD;
	case 437:
		return TURN_REFUSAL_NO_ALLOCATION;
	case 438:
		return TURN_REFUSAL_STALE_NONCE;
	case 441:
		return TURN_REFUSAL_WRONG_USER;
	case 486:
		return TURN_REFUSAL_QUOTA;
	case 508:
		return TURN_REFUSAL_CAPACITY;
	default:
		return TURN_REFUSAL_OTHER;
	}
}

/* The loop's cached clock (turn_now_ms's, which turn_common.c has: that
 * file calls this one). */
static uint64_t loop_ms(struct relay_server *s)
{
	struct timeval tv;
	event_base_gettimeofday_cached(s->base, &tv);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* Whether a line of this kind may be written now; *held: the lines held
 * back before it, said at its end. */
static bool may_log(struct relay_server *s, struct log_limit *l, char *held, size_t len)
{
	unsigned n = 0;
	if (log_get_level() < LOG_LVL_INFO ||
	    !log_limit_pass(l, loop_ms(s), LOG_PER_SEC, LOG_BURST, &n))
		return false;
	held[0] = '\0';
	if (n)
		snprintf(held, len, " (and %u more not logged)", n);
	return true;
}

void turn_refusal_note(struct turn_req *r, int code)
{
	if (code == 401 && r->why == TURN_REFUSAL_NONE)
		return; /* the challenge */
	enum turn_refusal why = r->why ? r->why : refusal_of(code);
	struct relay_server *s = r->s;
	char held[48], src[ADDR_STR_MAX], peer[ADDR_STR_MAX + 8] = "";
	metrics_inc(s->metrics, &metric_turn_refused_total, why);
	if (!may_log(s, &s->refusal_log[why], held, sizeof(held)))
		return;
	if (why == TURN_REFUSAL_PEER_POLICY && r->refused_peer.sa.sa_family) {
		char a[ADDR_STR_MAX];
		snprintf(peer, sizeof(peer), " %s", addr_str(&r->refused_peer.sa, a, sizeof(a)));
	}
	log_info("turn: refused %s/%s%s%s: %s%s (%d)%s",
	         r->c ? addr_str(&r->c->src.sa, src, sizeof(src)) : "?",
	         r->c && r->c->transport == TURN_TRANSPORT_TCP ? "tcp" : "udp",
	         r->username[0] ? " user " : "", r->username, turn_refusal_name(why), peer, code,
	         held);
}

void turn_drop_note(struct relay_server *s, enum metric_turn_drop why)
{
	char held[48];
	if ((unsigned)why >= METRIC_TURN_DROP_COUNT ||
	    !may_log(s, &s->drop_log[why], held, sizeof(held)))
		return;
	log_info("turn: dropped: %s%s", metric_turn_drop_name(why), held);
}
