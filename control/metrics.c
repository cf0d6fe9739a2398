#include "control/metrics.h"

#include "core/evict.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const char *const refusals[] = {"no_credentials", "bad_token",      "bad_certificate",
                                       "unlisted_name",  "tls_handshake",  "too_many_connections",
                                       "rate_limited",   "request_timeout"};
_Static_assert(N(refusals) == CONTROL_REFUSED_COUNT, "refusals must name every refusal");
static const char *const evictions[] = {"handshake", "idle"};
_Static_assert(N(evictions) == EVICT_REASON_COUNT, "evictions must name every reason");

struct metric_family metric_control_refused_total = {
    "edgelab_control_refused_total",
    METRIC_COUNTER,
    "control API requests and HTTPS connections refused, by reason",
    {METRIC_LABEL("reason", refusals), {0}},
    0};

struct metric_family metric_control_evicted_total = {
    "edgelab_control_evicted_total",
    METRIC_COUNTER,
    "control API HTTPS connections evicted to make room at control_max_connections, by reason",
    {METRIC_LABEL("reason", evictions), {0}},
    0};

static struct metric_family *const families[] = {&metric_control_refused_total,
                                                 &metric_control_evicted_total, NULL};

const char *control_refusal_name(enum control_refusal why)
{
	return why < CONTROL_REFUSED_COUNT ? refusals[why] : "?";
}

int control_metrics_register(void)
{
	return metrics_register(families);
}
