/* Prometheus counters, `edgelab_` prefix, counters end in `_total`.
 * One shard per thread (shard 0 is the main thread, 1..n the workers): a
 * thread only ever writes its own shard, with relaxed atomics, so the packet
 * path takes no lock and no locked instruction; a scrape sums the shards. */
#ifndef EDGELAB_CORE_METRICS_H
#define EDGELAB_CORE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Results of a STUN request, per dialect (the dialect order is stun/stun.h's). */
enum metric_stun_result {
	METRIC_STUN_SUCCESS,
	METRIC_STUN_BAD_REQUEST,       /* 400 */
	METRIC_STUN_UNKNOWN_ATTRIBUTE, /* 420 */
	METRIC_STUN_RESULT_COUNT,
};
#define METRIC_DIALECT_COUNT 3

/* Why a datagram or stream message got no answer. */
enum metric_stun_drop {
	METRIC_DROP_NOT_STUN,       /* not a STUN header at all */
	METRIC_DROP_MALFORMED,      /* STUN header, broken body */
	METRIC_DROP_FINGERPRINT,    /* FINGERPRINT present and wrong */
	METRIC_DROP_NOT_REQUEST,    /* responses and unexpected indications */
	METRIC_DROP_CHANGE_REQUEST, /* RFC 3489 CHANGE-REQUEST: no alternate address here */
	METRIC_DROP_SEND_FAILED,    /* the reply could not be sent */
	METRIC_DROP_UNKNOWN_METHOD, /* a request no answer fits (MS-TURN Send, other methods) */
	METRIC_DROP_REASON_COUNT,
};

/* SIP listeners, refusal reasons and request methods. */
enum metric_sip_listener { METRIC_SIP_TLS, METRIC_SIP_MTLS, METRIC_SIP_LISTENER_COUNT };
enum metric_sip_refusal {
	METRIC_SIP_REFUSED_LIMIT_TOTAL,  /* sip_max_connections */
	METRIC_SIP_REFUSED_LIMIT_SOURCE, /* sip_max_connections_per_source */
	METRIC_SIP_REFUSED_HANDSHAKE,    /* TLS failed: no or untrusted certificate, protocol */
	METRIC_SIP_REFUSED_TIMEOUT,      /* no handshake within sip_handshake_timeout */
	METRIC_SIP_REFUSED_NOT_PARTNER,  /* 5061: a trusted certificate, but not a partner's */
	METRIC_SIP_REFUSED_COUNT,
};
enum metric_sip_method {
	METRIC_SIP_REGISTER,
	METRIC_SIP_OPTIONS,
	METRIC_SIP_MESSAGE,
	METRIC_SIP_INVITE,
	METRIC_SIP_OTHER,
	METRIC_SIP_METHOD_COUNT,
};

/* TURN requests by outcome (method-independent). */
enum metric_turn_result {
	METRIC_TURN_OK,
	METRIC_TURN_400,
	METRIC_TURN_401,
	METRIC_TURN_403, /* peer refused by policy */
	METRIC_TURN_420,
	METRIC_TURN_431, /* MS-TURN: integrity check failure */
	METRIC_TURN_432, /* MS-TURN: missing username */
	METRIC_TURN_434, /* MS-TURN: missing realm */
	METRIC_TURN_435, /* MS-TURN: missing nonce */
	METRIC_TURN_436, /* MS-TURN: unknown user */
	METRIC_TURN_437,
	METRIC_TURN_438,
	METRIC_TURN_440,
	METRIC_TURN_441,
	METRIC_TURN_442,
	METRIC_TURN_443,
	METRIC_TURN_446,
	METRIC_TURN_447,
	METRIC_TURN_486,
	METRIC_TURN_508,
	METRIC_TURN_RESULT_COUNT,
};
/* Relayed packets dropped, by reason. */
enum metric_turn_drop {
	METRIC_TURN_DROP_NO_ALLOCATION, /* ChannelData / Send from a client with none */
	METRIC_TURN_DROP_NO_CHANNEL,    /* ChannelData on an unbound channel */
	METRIC_TURN_DROP_NO_PERMISSION, /* to or from a peer without a permission */
	METRIC_TURN_DROP_BANDWIDTH,     /* over turn_max_bps */
	METRIC_TURN_DROP_TOO_BIG,       /* larger than the relay's buffers */
	METRIC_TURN_DROP_SEND_FAILED,   /* the kernel refused it, or a TCP buffer is full */
	METRIC_TURN_DROP_RATE_401,      /* a 401 withheld by turn_401_rate */
	METRIC_TURN_DROP_COUNT,
};

enum metric_id {
	METRIC_STUN_REQUESTS = 0, /* + dialect * METRIC_STUN_RESULT_COUNT + result */
	METRIC_STUN_DROPPED =
	    METRIC_STUN_REQUESTS + METRIC_DIALECT_COUNT * METRIC_STUN_RESULT_COUNT,
	METRIC_STUN_TCP_ACCEPTED = METRIC_STUN_DROPPED + METRIC_DROP_REASON_COUNT,
	METRIC_STUN_TCP_REFUSED, /* over stun_tcp_max_connections */
	METRIC_STUN_TCP_CLOSED_IDLE,
	METRIC_STUN_TCP_CLOSED_ERROR, /* framing error or oversized message */
	METRIC_STUN_TCP_OPEN,         /* gauge */
	METRIC_SIP_ACCEPTED,          /* + listener */
	METRIC_SIP_REFUSED = METRIC_SIP_ACCEPTED + METRIC_SIP_LISTENER_COUNT, /* + l * n + reason */
	METRIC_SIP_REQUESTS =
	    METRIC_SIP_REFUSED + METRIC_SIP_LISTENER_COUNT * METRIC_SIP_REFUSED_COUNT,
	METRIC_SIP_CLOSED_IDLE = METRIC_SIP_REQUESTS + METRIC_SIP_METHOD_COUNT,
	METRIC_SIP_CLOSED_FRAMING, /* a framing error or an oversized message */
	METRIC_SIP_BAD_REQUESTS,   /* answered 400 */
	METRIC_SIP_OPEN,           /* gauge */
	METRIC_TURN_REQUESTS,      /* + result */
	METRIC_TURN_DROPPED = METRIC_TURN_REQUESTS + METRIC_TURN_RESULT_COUNT,  /* + reason */
	METRIC_TURN_ALLOCATIONS = METRIC_TURN_DROPPED + METRIC_TURN_DROP_COUNT, /* created */
	METRIC_TURN_ALLOCATIONS_OPEN,                                           /* gauge */
	METRIC_TURN_PACKETS, /* + direction: 0 to the peer, 1 to the client */
	METRIC_TURN_BYTES = METRIC_TURN_PACKETS + 2,    /* + direction */
	METRIC_UDP_RX_OVERFLOW = METRIC_TURN_BYTES + 2, /* the kernel's drops on 3478 */
	METRIC_MSTURN_PSEUDO_TLS,                       /* pseudo-TLS handshakes answered */
	METRIC_MSTURN_TCP_PEERS, /* + 0 connected out to a peer, 1 accepted from one */
	METRIC_CONFIG_RELOADS_OK = METRIC_MSTURN_TCP_PEERS + 2,
	METRIC_CONFIG_RELOADS_FAILED,
	METRIC_COUNT,
};

struct metrics_shard {
	_Atomic uint64_t v[METRIC_COUNT];
};

struct metrics;

/* shards: 1 + workers. 0 or ENOMEM/EINVAL. */
int metrics_alloc(struct metrics **mp, size_t shards);
void metrics_free(struct metrics *m);
struct metrics_shard *metrics_shard(struct metrics *m, size_t i);

/* Single writer per shard: a plain load and store, no read-modify-write. */
static inline void metrics_add(struct metrics_shard *s, enum metric_id id, int64_t delta)
{
	uint64_t v = atomic_load_explicit(&s->v[id], memory_order_relaxed);
	atomic_store_explicit(&s->v[id], v + (uint64_t)delta, memory_order_relaxed);
}
static inline void metrics_inc(struct metrics_shard *s, enum metric_id id)
{
	metrics_add(s, id, 1);
}

/* The sum over shards of one counter (for tests and the probe). */
uint64_t metrics_get(const struct metrics *m, enum metric_id id);
/* Prometheus text exposition format 0.0.4. 0 or errno. */
int metrics_render(const struct metrics *m, FILE *out);

#endif
