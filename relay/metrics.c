#include "relay/metrics.h"

#include "core/evict.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const char *const dialects[] = {"rfc5389", "classic", "msturn"};
_Static_assert(N(dialects) == STUN_DIALECT_COUNT, "dialects must name every enum stun_dialect");
static const char *const results[] = {"success", "bad_request", "unknown_attribute"};
_Static_assert(N(results) == METRIC_STUN_RESULT_COUNT, "results must name every result");
static const char *const drops[] = {"not_stun",      "malformed",      "bad_fingerprint",
                                    "not_request",   "change_request", "send_failed",
                                    "unknown_method"};
_Static_assert(N(drops) == METRIC_DROP_REASON_COUNT, "drops must name every enum metric_stun_drop");
static const char *const turn_results[] = {"ok",  "400", "401", "403", "420", "431", "432",
                                           "434", "435", "436", "437", "438", "440", "441",
                                           "442", "443", "446", "447", "486", "508"};
_Static_assert(N(turn_results) == METRIC_TURN_RESULT_COUNT,
               "turn_results must name every enum metric_turn_result");
static const char *const turn_drops[] = {
    "no_allocation", "no_channel", "no_permission",  "bandwidth",    "too_big",
    "send_failed",   "rate_401",   "connect_failed", "hold_evicted", "peer_unreachable"};
_Static_assert(N(turn_drops) == METRIC_TURN_DROP_COUNT,
               "turn_drops must name every enum metric_turn_drop");
static const char *const refusals[] = {
    "none",        "wrong_password", "unknown_user",  "wrong_realm", "bad_nonce",
    "stale_nonce", "replay",         "malformed",     "quota",       "capacity",
    "peer_policy", "wrong_user",     "no_allocation", "other"};
_Static_assert(N(refusals) == TURN_REFUSAL_COUNT, "refusals must name every enum turn_refusal");
static const char *const evictions[] = {"handshake", "idle"};
_Static_assert(N(evictions) == EVICT_REASON_COUNT, "evictions must name every reason");
static const char *const directions[] = {"to_peer", "to_client"};
static const char *const peer_directions[] = {"outbound", "inbound"};

struct metric_family metric_stun_requests_total = {
    "edgelab_stun_requests_total",
    METRIC_COUNTER,
    "STUN requests answered, by dialect and result",
    {METRIC_LABEL("dialect", dialects), METRIC_LABEL("result", results)},
    0};
struct metric_family metric_stun_dropped_total = {"edgelab_stun_dropped_total",
                                                  METRIC_COUNTER,
                                                  "STUN datagrams and messages dropped unanswered",
                                                  {METRIC_LABEL("reason", drops), {0}},
                                                  0};
struct metric_family metric_stun_tcp_accepted_total = {
    "edgelab_stun_tcp_accepted_total", METRIC_COUNTER, "STUN/TCP connections accepted",
    METRIC_NO_LABELS, 0};
struct metric_family metric_stun_tcp_refused_total = {
    "edgelab_stun_tcp_refused_total", METRIC_COUNTER, "STUN/TCP connections refused at the limit",
    METRIC_NO_LABELS, 0};
struct metric_family metric_stun_tcp_evicted_total = {
    "edgelab_stun_tcp_evicted_total",
    METRIC_COUNTER,
    "STUN/TCP connections evicted to make room at stun_tcp_max_connections, by reason",
    {METRIC_LABEL("reason", evictions), {0}},
    0};
struct metric_family metric_stun_tcp_first_request_closed_total = {
    "edgelab_stun_tcp_first_request_closed_total", METRIC_COUNTER,
    "STUN/TCP connections closed with no whole first message (or pseudo-TLS hello) in time",
    METRIC_NO_LABELS, 0};
struct metric_family metric_stun_tcp_idle_closed_total = {
    "edgelab_stun_tcp_idle_closed_total", METRIC_COUNTER, "STUN/TCP connections closed when idle",
    METRIC_NO_LABELS, 0};
struct metric_family metric_stun_tcp_error_closed_total = {
    "edgelab_stun_tcp_error_closed_total", METRIC_COUNTER,
    "STUN/TCP connections closed on a framing or socket error", METRIC_NO_LABELS, 0};
struct metric_family metric_stun_tcp_connections = {
    "edgelab_stun_tcp_connections", METRIC_GAUGE, "STUN/TCP connections open", METRIC_NO_LABELS, 0};
struct metric_family metric_turn_requests_total = {"edgelab_turn_requests_total",
                                                   METRIC_COUNTER,
                                                   "TURN requests answered, by result code",
                                                   {METRIC_LABEL("result", turn_results), {0}},
                                                   0};
struct metric_family metric_turn_dropped_total = {"edgelab_turn_dropped_total",
                                                  METRIC_COUNTER,
                                                  "TURN packets and replies dropped, by reason",
                                                  {METRIC_LABEL("reason", turn_drops), {0}},
                                                  0};
struct metric_family metric_turn_refused_total = {
    "edgelab_turn_refused_total",
    METRIC_COUNTER,
    "TURN and MS-TURN requests refused, by reason (a 401 challenge is not one)",
    {METRIC_LABEL("reason", refusals), {0}},
    0};

const char *turn_refusal_name(enum turn_refusal why)
{
	return (unsigned)why < N(refusals) ? refusals[why] : "other";
}

const char *metric_turn_drop_name(enum metric_turn_drop why)
{
	return (unsigned)why < N(turn_drops) ? turn_drops[why] : "other";
}

struct metric_family metric_turn_allocations_total = {"edgelab_turn_allocations_total",
                                                      METRIC_COUNTER, "TURN allocations created",
                                                      METRIC_NO_LABELS, 0};
struct metric_family metric_turn_allocations = {"edgelab_turn_allocations", METRIC_GAUGE,
                                                "TURN allocations open", METRIC_NO_LABELS, 0};
struct metric_family metric_turn_replays_refused_total = {
    "edgelab_turn_replays_refused_total", METRIC_COUNTER,
    "authenticated Allocates refused (438) as copies of one already seen, from another 5-tuple "
    "or after the retransmission window",
    METRIC_NO_LABELS, 0};
struct metric_family metric_turn_replay_evictions_total = {
    "edgelab_turn_replay_evictions_total", METRIC_COUNTER,
    "Allocates forgotten by the full replay cache while their nonce was still valid",
    METRIC_NO_LABELS, 0};
struct metric_family metric_turn_relayed_packets_total = {
    "edgelab_turn_relayed_packets_total",
    METRIC_COUNTER,
    "packets relayed, by direction",
    {METRIC_LABEL("direction", directions), {0}},
    0};
struct metric_family metric_turn_relayed_bytes_total = {
    "edgelab_turn_relayed_bytes_total",
    METRIC_COUNTER,
    "payload bytes relayed, by direction",
    {METRIC_LABEL("direction", directions), {0}},
    0};
struct metric_family metric_udp_receive_overflow_total = {
    "edgelab_udp_receive_overflow_total", METRIC_COUNTER,
    "datagrams the kernel dropped on the STUN/TURN UDP sockets (receive buffer full)",
    METRIC_NO_LABELS, 0};
struct metric_family metric_udp_gso_datagrams_total = {
    "edgelab_udp_gso_datagrams_total", METRIC_COUNTER,
    "relayed datagrams sent in UDP_SEGMENT runs (relay_udp_offload yes)", METRIC_NO_LABELS, 0};
struct metric_family metric_udp_gro_datagrams_total = {
    "edgelab_udp_gro_datagrams_total", METRIC_COUNTER,
    "datagrams the listener read in UDP GRO runs (relay_udp_offload yes)", METRIC_NO_LABELS, 0};
struct metric_family metric_msturn_pseudo_tls_total = {
    "edgelab_msturn_pseudo_tls_total", METRIC_COUNTER,
    "MS-TURN pseudo-TLS handshakes answered (TCP 443 of the A/V edge)", METRIC_NO_LABELS, 0};
struct metric_family metric_msturn_tcp_peer_connections_total = {
    "edgelab_msturn_tcp_peer_connections_total",
    METRIC_COUNTER,
    "MS-TURN TCP relay connections to and from peers, by direction",
    {METRIC_LABEL("direction", peer_directions), {0}},
    0};

static struct metric_family *const families[] = {
    &metric_stun_requests_total,
    &metric_stun_dropped_total,
    &metric_stun_tcp_accepted_total,
    &metric_stun_tcp_refused_total,
    &metric_stun_tcp_evicted_total,
    &metric_stun_tcp_first_request_closed_total,
    &metric_stun_tcp_idle_closed_total,
    &metric_stun_tcp_error_closed_total,
    &metric_stun_tcp_connections,
    &metric_turn_requests_total,
    &metric_turn_dropped_total,
    &metric_turn_refused_total,
    &metric_turn_allocations_total,
    &metric_turn_allocations,
    &metric_turn_replays_refused_total,
    &metric_turn_replay_evictions_total,
    &metric_turn_relayed_packets_total,
    &metric_turn_relayed_bytes_total,
    &metric_udp_receive_overflow_total,
    &metric_udp_gso_datagrams_total,
    &metric_udp_gro_datagrams_total,
    &metric_msturn_pseudo_tls_total,
    &metric_msturn_tcp_peer_connections_total,
    NULL,
};

int relay_metrics_register(void)
{
	return metrics_register(families);
}
