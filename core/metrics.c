#include "core/metrics.h"

#include <errno.h>
#include <stdlib.h>

#include "config.h"

struct metrics {
	size_t nshards;
	struct metrics_shard shards[];
};

/* A family has at most two label dimensions; slot = first + i * n2 + j. */
struct family {
	const char *name;
	const char *type; /* "counter" or "gauge" */
	const char *help;
	enum metric_id first;
	const char *label1;
	const char *const *values1;
	size_t n1;
	const char *label2;
	const char *const *values2;
	size_t n2;
};

static const char *const dialects[METRIC_DIALECT_COUNT] = {"rfc5389", "classic", "msturn"};
static const char *const results[METRIC_STUN_RESULT_COUNT] = {"success", "bad_request",
                                                              "unknown_attribute"};
static const char *const drops[METRIC_DROP_REASON_COUNT] = {
    "not_stun",       "malformed",   "bad_fingerprint", "not_request",
    "change_request", "send_failed", "unknown_method"};
static const char *const reload_results[] = {"ok", "failed"};
static const char *const sip_listeners[METRIC_SIP_LISTENER_COUNT] = {"tls", "mtls"};
static const char *const sip_refusals[METRIC_SIP_REFUSED_COUNT] = {
    "limit_total", "limit_source", "handshake", "handshake_timeout", "not_partner"};
static const char *const sip_methods[METRIC_SIP_METHOD_COUNT] = {"REGISTER", "OPTIONS", "MESSAGE",
                                                                 "INVITE", "other"};
static const char *const turn_results[] = {"ok",  "400", "401", "403", "420", "431", "432",
                                           "434", "435", "436", "437", "438", "440", "441",
                                           "442", "443", "446", "447", "486", "508"};
/* A label list out of step with its enum would print "(null)" labels. */
_Static_assert(sizeof(turn_results) / sizeof(turn_results[0]) == METRIC_TURN_RESULT_COUNT,
               "turn_results must name every enum metric_turn_result");
static const char *const turn_drops[] = {"no_allocation", "no_channel", "no_permission",
                                         "bandwidth",     "too_big",    "send_failed",
                                         "rate_401"};
_Static_assert(sizeof(turn_drops) / sizeof(turn_drops[0]) == METRIC_TURN_DROP_COUNT,
               "turn_drops must name every enum metric_turn_drop");
static const char *const turn_directions[2] = {"to_peer", "to_client"};
static const char *const peer_directions[2] = {"outbound", "inbound"};

static const struct family families[] = {
    {"edgelab_stun_requests_total", "counter", "STUN requests answered, by dialect and result",
     METRIC_STUN_REQUESTS, "dialect", dialects, METRIC_DIALECT_COUNT, "result", results,
     METRIC_STUN_RESULT_COUNT},
    {"edgelab_stun_dropped_total", "counter", "STUN datagrams and messages dropped unanswered",
     METRIC_STUN_DROPPED, "reason", drops, METRIC_DROP_REASON_COUNT, NULL, NULL, 1},
    {"edgelab_stun_tcp_accepted_total", "counter", "STUN/TCP connections accepted",
     METRIC_STUN_TCP_ACCEPTED, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_stun_tcp_refused_total", "counter", "STUN/TCP connections refused at the limit",
     METRIC_STUN_TCP_REFUSED, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_stun_tcp_idle_closed_total", "counter", "STUN/TCP connections closed when idle",
     METRIC_STUN_TCP_CLOSED_IDLE, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_stun_tcp_error_closed_total", "counter",
     "STUN/TCP connections closed on a framing or socket error", METRIC_STUN_TCP_CLOSED_ERROR, NULL,
     NULL, 1, NULL, NULL, 1},
    {"edgelab_stun_tcp_connections", "gauge", "STUN/TCP connections open", METRIC_STUN_TCP_OPEN,
     NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_sip_connections_total", "counter", "SIP connections accepted, by listener",
     METRIC_SIP_ACCEPTED, "listener", sip_listeners, METRIC_SIP_LISTENER_COUNT, NULL, NULL, 1},
    {"edgelab_sip_refused_total", "counter", "SIP connections refused, by listener and reason",
     METRIC_SIP_REFUSED, "listener", sip_listeners, METRIC_SIP_LISTENER_COUNT, "reason",
     sip_refusals, METRIC_SIP_REFUSED_COUNT},
    {"edgelab_sip_requests_total", "counter", "SIP requests received, by method",
     METRIC_SIP_REQUESTS, "method", sip_methods, METRIC_SIP_METHOD_COUNT, NULL, NULL, 1},
    {"edgelab_sip_idle_closed_total", "counter", "SIP connections closed when idle",
     METRIC_SIP_CLOSED_IDLE, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_sip_framing_closed_total", "counter", "SIP connections closed on a framing error",
     METRIC_SIP_CLOSED_FRAMING, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_sip_bad_requests_total", "counter", "SIP requests answered 400",
     METRIC_SIP_BAD_REQUESTS, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_sip_connections", "gauge", "SIP connections open", METRIC_SIP_OPEN, NULL, NULL, 1,
     NULL, NULL, 1},
    {"edgelab_turn_requests_total", "counter", "TURN requests answered, by result code",
     METRIC_TURN_REQUESTS, "result", turn_results, METRIC_TURN_RESULT_COUNT, NULL, NULL, 1},
    {"edgelab_turn_dropped_total", "counter", "TURN packets and replies dropped, by reason",
     METRIC_TURN_DROPPED, "reason", turn_drops, METRIC_TURN_DROP_COUNT, NULL, NULL, 1},
    {"edgelab_turn_allocations_total", "counter", "TURN allocations created",
     METRIC_TURN_ALLOCATIONS, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_turn_allocations", "gauge", "TURN allocations open", METRIC_TURN_ALLOCATIONS_OPEN,
     NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_turn_relayed_packets_total", "counter", "packets relayed, by direction",
     METRIC_TURN_PACKETS, "direction", turn_directions, 2, NULL, NULL, 1},
    {"edgelab_turn_relayed_bytes_total", "counter", "payload bytes relayed, by direction",
     METRIC_TURN_BYTES, "direction", turn_directions, 2, NULL, NULL, 1},
    {"edgelab_udp_receive_overflow_total", "counter",
     "datagrams the kernel dropped on the STUN/TURN UDP sockets (receive buffer full)",
     METRIC_UDP_RX_OVERFLOW, NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_msturn_pseudo_tls_total", "counter",
     "MS-TURN pseudo-TLS handshakes answered (TCP 443 of the A/V edge)", METRIC_MSTURN_PSEUDO_TLS,
     NULL, NULL, 1, NULL, NULL, 1},
    {"edgelab_msturn_tcp_peer_connections_total", "counter",
     "MS-TURN TCP relay connections to and from peers, by direction", METRIC_MSTURN_TCP_PEERS,
     "direction", peer_directions, 2, NULL, NULL, 1},
    {"edgelab_config_reloads_total", "counter", "configuration reloads (SIGHUP), by result",
     METRIC_CONFIG_RELOADS_OK, "result", reload_results, 2, NULL, NULL, 1},
};

int metrics_alloc(struct metrics **mp, size_t shards)
{
	if (!mp || shards == 0)
		return EINVAL;
	struct metrics *m = calloc(1, sizeof(*m) + shards * sizeof(m->shards[0]));
	if (!m)
		return ENOMEM;
	m->nshards = shards;
	*mp = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	free(m);
}

struct metrics_shard *metrics_shard(struct metrics *m, size_t i)
{
	return i < m->nshards ? &m->shards[i] : NULL;
}

uint64_t metrics_get(const struct metrics *m, enum metric_id id)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < m->nshards; i++)
		sum += atomic_load_explicit(&m->shards[i].v[id], memory_order_relaxed);
	return sum;
}

static void render_family(const struct metrics *m, const struct family *f, FILE *out)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
	for (size_t i = 0; i < f->n1; i++) {
		for (size_t j = 0; j < f->n2; j++) {
			uint64_t v = metrics_get(m, (enum metric_id)(f->first + i * f->n2 + j));
			fprintf(out, "%s", f->name);
			if (f->label1 && f->label2)
				fprintf(out, "{%s=\"%s\",%s=\"%s\"}", f->label1, f->values1[i],
				        f->label2, f->values2[j]);
			else if (f->label1)
				fprintf(out, "{%s=\"%s\"}", f->label1, f->values1[i]);
			fprintf(out, " %llu\n", (unsigned long long)v);
		}
	}
}

int metrics_render(const struct metrics *m, FILE *out)
{
	fprintf(out,
	        "# HELP edgelab_build_info edgelab version\n# TYPE edgelab_build_info gauge\n");
	fprintf(out, "edgelab_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	fprintf(out, "# HELP edgelab_workers worker threads\n# TYPE edgelab_workers gauge\n");
	fprintf(out, "edgelab_workers %zu\n", m->nshards - 1);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		render_family(m, &families[i], out);
	return ferror(out) ? EIO : 0;
}
