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

/* Relayed packets dropped, by reason. */
enum metric_turn_drop {
	METRIC_TURN_DROP_NO_ALLOCATION, /* ChannelData / Send from a client with none */
	METRIC_TURN_DROP_NO_CHANNEL,    /* ChannelData on an unbound channel */
	METRIC_TURN_DROP_NO_PERMISSION, /* to or from a peer without a permission */
	METRIC_TURN_DROP_BANDWIDTH,     /* over turn_max_bps */
	METRIC_TURN_DROP_TOO_BIG,       /* larger than the relay's buffers */
	METRIC_TURN_DROP_SEND_FAILED,   /* the kernel refused it, or a TCP buffer is full */
	METRIC_TURN_DROP_RATE_401,      /* a 401 withheld by turn_401_rate */
	METRIC_TURN_DROP_UNREACHABLE,   /* an ICMP error came back from a peer (UDP) */
	METRIC_TURN_DROP_COUNT,
};

/* Relayed traffic's direction, and a TCP relay peer's. */
enum { METRIC_TO_PEER, METRIC_TO_CLIENT };
enum { METRIC_PEER_OUTBOUND, METRIC_PEER_INBOUND };

extern struct metric_family metric_stun_requests_total; /* dialect x result */
extern struct metric_family metric_stun_dropped_total;  /* enum metric_stun_drop */
extern struct metric_family metric_stun_tcp_accepted_total;
extern struct metric_family metric_stun_tcp_refused_total; /* over stun_tcp_max_connections */
extern struct metric_family metric_stun_tcp_idle_closed_total;
extern struct metric_family metric_stun_tcp_error_closed_total; /* framing or socket error */
extern struct metric_family metric_stun_tcp_connections;        /* gauge */
extern struct metric_family metric_turn_requests_total;         /* enum metric_turn_result */
extern struct metric_family metric_turn_dropped_total;          /* enum metric_turn_drop */
extern struct metric_family metric_turn_allocations_total;      /* created */
extern struct metric_family metric_turn_allocations;            /* gauge */
extern struct metric_family metric_turn_relayed_packets_total;  /* METRIC_TO_* */
extern struct metric_family metric_turn_relayed_bytes_total;    /* METRIC_TO_* */
extern struct metric_family metric_udp_receive_overflow_total;  /* the kernel's, on 3478 */
extern struct metric_family metric_msturn_pseudo_tls_total;
extern struct metric_family metric_msturn_tcp_peer_connections_total; /* METRIC_PEER_* */

/* 0, or metrics_register's error. */
int relay_metrics_register(void);

#endif
