/* The relay's metric families (core/metrics.h): STUN answers and drops,
 * the STUN/TCP listener, TURN requests, drops, allocations and relayed
 * traffic, MS-TURN's TCP relay. relay_metrics_register registers them all
 * (relay_shared_init does). */
#ifndef EDGELAB_RELAY_METRICS_H
#define EDGELAB_RELAY_METRICS_H

#include "core/metrics.h"
#include "stun/stun.h"

/* Results of a STUN request, per dialect (label 2 of stun_requests_total). */
enum metric_stun_result {
	METRIC_STUN_SUCCESS,
	METRIC_STUN_BAD_REQUEST,       /* 400 */
	METRIC_STUN_UNKNOWN_ATTRIBUTE, /* 420 */
	METRIC_STUN_RESULT_COUNT,
};

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

/* Why a request was refused, for its one log line and its count
 * (relay/refusal.c; the label of edgelab_turn_refused_total). NONE: the code says it. */
enum turn_refusal {
	TURN_REFUSAL_NONE,
	TURN_REFUSAL_WRONG_PASSWORD, /* a known user, MESSAGE-INTEGRITY wrong */
	TURN_REFUSAL_UNKNOWN_USER,   /* no turn_user of that name, no MRAS credential */
	TURN_REFUSAL_WRONG_REALM,
	TURN_REFUSAL_BAD_NONCE,   /* not ours, or another address's */
	TURN_REFUSAL_STALE_NONCE, /* expired: 438, the client retries */
	TURN_REFUSAL_REPLAY,      /* an Allocate seen before (replay.h): 438 */
	TURN_REFUSAL_MALFORMED,   /* attributes missing or broken */
	TURN_REFUSAL_QUOTA,       /* turn_user_quota: 486 */
	TURN_REFUSAL_CAPACITY,    /* turn_total_quota, relay_ports full, limits: 508 */
	TURN_REFUSAL_PEER_POLICY, /* the peer address refused by the policy: 403 */
	TURN_REFUSAL_WRONG_USER,  /* another user's allocation: 441 (436 in MS-TURN) */
	TURN_REFUSAL_NO_ALLOCATION,
	TURN_REFUSAL_OTHER,
	TURN_REFUSAL_COUNT,
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
	/* A TCP relay's connection to a peer failed: an RFC 6062 Connect
	 * (answered 447), MS-TURN data that waited for the connection. */
	METRIC_TURN_DROP_CONNECT_FAILED,
	/* MS-TURN over TCP: a peer held for its permission, reset to make room
	 * for a newer one (the held are bounded apart from the permitted). */
	METRIC_TURN_DROP_HOLD_EVICTED,
	METRIC_TURN_DROP_UNREACHABLE, /* an ICMP error came back from a peer (UDP) */
	METRIC_TURN_DROP_COUNT,
};

/* Relayed traffic's direction, and a TCP relay peer's. */
enum { METRIC_TO_PEER, METRIC_TO_CLIENT };
enum { METRIC_PEER_OUTBOUND, METRIC_PEER_INBOUND };

extern struct metric_family metric_stun_requests_total; /* dialect x result */
extern struct metric_family metric_stun_dropped_total;  /* enum metric_stun_drop */
extern struct metric_family metric_stun_tcp_accepted_total;
extern struct metric_family metric_stun_tcp_refused_total; /* over stun_tcp_max_connections */
extern struct metric_family metric_stun_tcp_evicted_total; /* enum evict_state (core/evict.h) */
extern struct metric_family metric_stun_tcp_first_request_closed_total;
extern struct metric_family metric_stun_tcp_idle_closed_total;
extern struct metric_family metric_stun_tcp_error_closed_total; /* framing or socket error */
extern struct metric_family metric_stun_tcp_connections;        /* gauge */
extern struct metric_family metric_turn_requests_total;         /* enum metric_turn_result */
extern struct metric_family metric_turn_dropped_total;          /* enum metric_turn_drop */
extern struct metric_family metric_turn_refused_total;          /* enum turn_refusal */
/* The labels' names: "wrong_password", "no_permission"... */
const char *turn_refusal_name(enum turn_refusal why);
const char *metric_turn_drop_name(enum metric_turn_drop why);
extern struct metric_family metric_turn_allocations_total;      /* created */
extern struct metric_family metric_turn_allocations;            /* gauge */
extern struct metric_family metric_turn_replays_refused_total;  /* 438 for a copy */
extern struct metric_family metric_turn_replay_evictions_total; /* live entries overwritten */
extern struct metric_family metric_turn_relayed_packets_total;  /* METRIC_TO_* */
extern struct metric_family metric_turn_relayed_bytes_total;    /* METRIC_TO_* */
extern struct metric_family metric_udp_receive_overflow_total;  /* the kernel's, on 3478 */
extern struct metric_family metric_udp_gso_datagrams_total;     /* sent in GSO runs */
extern struct metric_family metric_udp_gro_datagrams_total;     /* read in GRO runs */
extern struct metric_family metric_msturn_pseudo_tls_total;
extern struct metric_family metric_msturn_tcp_peer_connections_total; /* METRIC_PEER_* */

/* 0, or metrics_register's error. */
int relay_metrics_register(void);

#endif
