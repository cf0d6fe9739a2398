#include "sipfront/metrics.h"

#include "core/evict.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const char *const listeners[] = {"tls", "mtls"};
_Static_assert(N(listeners) == METRIC_SIP_LISTENER_COUNT, "listeners must name every listener");
static const char *const refusals[] = {"limit_total",       "limit_source", "handshake",
                                       "handshake_timeout", "not_partner",  "request_timeout"};
_Static_assert(N(refusals) == METRIC_SIP_REFUSED_COUNT, "refusals must name every refusal");
static const char *const evictions[] = {"handshake", "idle"};
_Static_assert(N(evictions) == EVICT_REASON_COUNT, "evictions must name every reason");
static const char *const methods[] = {"REGISTER", "OPTIONS", "MESSAGE", "INVITE", "other"};
_Static_assert(N(methods) == METRIC_SIP_METHOD_COUNT, "methods must name every method");

struct metric_family metric_sip_connections_total = {"edgelab_sip_connections_total",
                                                     METRIC_COUNTER,
                                                     "SIP connections accepted, by listener",
                                                     {METRIC_LABEL("listener", listeners), {0}},
                                                     0};
struct metric_family metric_sip_refused_total = {
    "edgelab_sip_refused_total",
    METRIC_COUNTER,
    "SIP connections refused, by listener and reason",
    {METRIC_LABEL("listener", listeners), METRIC_LABEL("reason", refusals)},
    0};
struct metric_family metric_sip_evicted_total = {
    "edgelab_sip_evicted_total",
    METRIC_COUNTER,
    "SIP connections evicted to make room at sip_max_connections, by listener and reason",
    {METRIC_LABEL("listener", listeners), METRIC_LABEL("reason", evictions)},
    0};
struct metric_family metric_sip_requests_total = {"edgelab_sip_requests_total",
                                                  METRIC_COUNTER,
                                                  "SIP requests received, by method",
                                                  {METRIC_LABEL("method", methods), {0}},
                                                  0};
struct metric_family metric_sip_idle_closed_total = {
    "edgelab_sip_idle_closed_total", METRIC_COUNTER, "SIP connections closed when idle",
    METRIC_NO_LABELS, 0};
struct metric_family metric_sip_stalled_closed_total = {
    "edgelab_sip_stalled_closed_total", METRIC_COUNTER,
    "SIP connections closed when the peer read nothing for sip_idle_timeout", METRIC_NO_LABELS, 0};
struct metric_family metric_sip_stalled_dropped_total = {
    "edgelab_sip_stalled_dropped_total", METRIC_COUNTER,
    "SIP messages dropped: too much already waited for a peer that reads nothing", METRIC_NO_LABELS,
    0};
struct metric_family metric_sip_framing_closed_total = {
    "edgelab_sip_framing_closed_total", METRIC_COUNTER, "SIP connections closed on a framing error",
    METRIC_NO_LABELS, 0};
struct metric_family metric_sip_bad_requests_total = {"edgelab_sip_bad_requests_total",
                                                      METRIC_COUNTER, "SIP requests answered 400",
                                                      METRIC_NO_LABELS, 0};
struct metric_family metric_sip_connections = {"edgelab_sip_connections", METRIC_GAUGE,
                                               "SIP connections open", METRIC_NO_LABELS, 0};

static struct metric_family *const families[] = {
    &metric_sip_connections_total,
    &metric_sip_refused_total,
    &metric_sip_evicted_total,
    &metric_sip_requests_total,
    &metric_sip_idle_closed_total,
    &metric_sip_framing_closed_total,
    &metric_sip_bad_requests_total,
    &metric_sip_connections,
    &metric_sip_stalled_closed_total,
    &metric_sip_stalled_dropped_total,
    NULL,
};

int sip_metrics_register(void)
{
	return metrics_register(families);
}
