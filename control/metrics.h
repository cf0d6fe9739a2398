/* The control API's metric families (core/metrics.h): requests refused on
 * the HTTPS listener (and triggers refused on any), and HTTPS connections
 * evicted at control_max_connections, by reason, as
 * docs/control-api.md lists them. control_metrics_register registers them
 * (serve at start-up, so that /metrics always has them; control_server_alloc
 * too, for a server made without serve). */
#ifndef EDGELAB_CONTROL_METRICS_H
#define EDGELAB_CONTROL_METRICS_H

#include "core/metrics.h"

enum control_refusal {
	CONTROL_REFUSED_NO_CREDENTIALS,  /* 401 */
	CONTROL_REFUSED_BAD_TOKEN,       /* 401 */
	CONTROL_REFUSED_BAD_CERTIFICATE, /* 403: does not verify against tls_ca */
	CONTROL_REFUSED_UNLISTED_NAME,   /* 403: verifies, names no control_client */
	CONTROL_REFUSED_TLS_HANDSHAKE,   /* the handshake failed */
	CONTROL_REFUSED_TOO_MANY_CONNS,  /* control_max_connections: closed at once */
	CONTROL_REFUSED_RATE_LIMITED,    /* 429 */
	CONTROL_REFUSED_REQUEST_TIMEOUT, /* under pressure, no request in a quarter of 10 s */
	CONTROL_REFUSED_COUNT,
};

extern struct metric_family metric_control_refused_total; /* enum control_refusal */
extern struct metric_family metric_control_evicted_total; /* enum evict_state (core/evict.h) */

/* "no_credentials", ...: the label value, also in the log line. */
const char *control_refusal_name(enum control_refusal why);
/* 0, or metrics_register's error. */
int control_metrics_register(void);

#endif
