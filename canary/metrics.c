/* The canary's metric family (core/metrics.h). */
#include "canary/canary_int.h"

static const char *const protos[] = {"tcp", "udp"}; /* enum canary_proto */

struct metric_family metric_canary_hits_total = {
    "edgelab_canary_hits_total",
    METRIC_COUNTER,
    "connections and datagrams that reached a strict-mode canary, by protocol",
    {METRIC_LABEL("proto", protos), {NULL, NULL, 0}},
    0};

int canary_metrics_register(void)
{
	struct metric_family *const families[] = {&metric_canary_hits_total, NULL};
	return metrics_register(families);
}
