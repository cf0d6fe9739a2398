/* The chain (chain.h): one decode, then MS-TURN, TURN and the Binding
 * service in that order; the Binding service answers or counts whatever
 * the others left, so nothing goes unanswered without a count. */
#include <errno.h>

#include "relay/chain.h"
#include "relay/server_priv.h"

static relay_handler_h *const chain[] = {msturn_handler, turn_handler, binding_handler};

void relay_count(struct relay_server *s, const struct binding_outcome *oc)
{
	if (oc->answered)
		metrics_inc(s->metrics, &metric_stun_requests_total,
		            metrics_label2(&metric_stun_requests_total, oc->dialect, oc->result));
	else
		metrics_inc(s->metrics, &metric_stun_dropped_total, oc->drop);
}

bool binding_handler(struct relay_server *s, struct relay_msg *m)
{
	struct binding_outcome oc = {.dialect = m->stun.dialect, .drop = METRIC_DROP_MALFORMED};
	/* A datagram or frame is one whole message: trailing bytes make it
	 * malformed (RFC 5389 section 7.2.1 says nothing of them; a Binding
	 * answer to half a datagram would be a guess). */
	if (m->stun.buf_len == m->len)
		binding_answer_msg(&m->stun, &m->client->src.sa, &m->client->local.sa, &s->binding,
		                   m->out, m->cap, &m->out_len, &oc);
	relay_count(s, &oc);
	return true;
}

int relay_dispatch(struct relay_server *s, struct relay_msg *m)
{
	m->out_len = 0;
	if (!stun_is_message(m->buf, m->len)) {
		metrics_inc(s->metrics, &metric_stun_dropped_total, METRIC_DROP_NOT_STUN);
		return ENOMSG;
	}
	if (stun_msg_decode(&m->stun, m->buf, m->len)) {
		metrics_inc(s->metrics, &metric_stun_dropped_total, METRIC_DROP_MALFORMED);
		return EBADMSG;
	}
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++)
		if (chain[i](s, m))
			return 0;
	return 0; /* unreachable: the Binding service consumes everything */
}
