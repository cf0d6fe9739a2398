/* The SIP front's metric families (core/metrics.h): connections accepted,
 * refused, evicted and open per listener, requests by method, closes.
 * sip_metrics_register registers them (sip_server_alloc does). */
#ifndef EDGELAB_SIPFRONT_METRICS_H
#define EDGELAB_SIPFRONT_METRICS_H

#include "core/metrics.h"

/* The two listeners; also a connection's kind. */
enum metric_sip_listener { METRIC_SIP_TLS, METRIC_SIP_MTLS, METRIC_SIP_LISTENER_COUNT };
enum metric_sip_refusal {
	METRIC_SIP_REFUSED_LIMIT_TOTAL,     /* sip_max_connections */
	METRIC_SIP_REFUSED_LIMIT_SOURCE,    /* sip_max_connections_per_source */
	METRIC_SIP_REFUSED_HANDSHAKE,       /* TLS failed: no or untrusted certificate, protocol */
	METRIC_SIP_REFUSED_TIMEOUT,         /* no handshake within sip_handshake_timeout */
	METRIC_SIP_REFUSED_NOT_PARTNER,     /* 5061: a trusted certificate, but not a partner's */
	METRIC_SIP_REFUSED_REQUEST_TIMEOUT, /* no request within sip_first_request_timeout */
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

extern struct metric_family metric_sip_connections_total; /* enum metric_sip_listener */
extern struct metric_family metric_sip_refused_total;     /* listener x refusal */
extern struct metric_family metric_sip_evicted_total;     /* listener x enum evict_state */
extern struct metric_family metric_sip_requests_total;    /* enum metric_sip_method */
extern struct metric_family metric_sip_idle_closed_total;
extern struct metric_family metric_sip_stalled_closed_total;  /* no write for sip_idle_timeout */
extern struct metric_family metric_sip_stalled_dropped_total; /* WRITE_MAX waited already */
extern struct metric_family metric_sip_framing_closed_total;  /* framing error, oversized */
extern struct metric_family metric_sip_bad_requests_total;    /* answered 400 */
extern struct metric_family metric_sip_connections;           /* gauge */

/* 0, or metrics_register's error. */
int sip_metrics_register(void);

#endif
