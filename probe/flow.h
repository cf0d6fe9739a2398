/* Helpers shared by the rows' flows: verdicts with their detail, the clock,
 * how a socket error reads as a verdict, markers, triggers and the edge's
 * view of a flow the probe did not see arrive. Private to probe/. */
#ifndef EDGELAB_PROBE_FLOW_H
#define EDGELAB_PROBE_FLOW_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probe/control_client.h"
#include "probe/probe.h"
#include "probe/report.h"

void flow_verdict(struct probe_result *r, enum probe_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Seconds on the monotonic clock. */
double flow_now(void);
/* ECONNREFUSED (RST or ICMP port unreachable) and EHOSTUNREACH/ENETUNREACH
 * (ICMP) are REJECTED; anything else FAILED. when says what was going on. */
void flow_socket_error(struct probe_result *r, int err, const char *when);
/* Milliseconds left until deadline (flow_now() seconds), at least 0. */
int flow_left_ms(double deadline);
/* Blocking I/O on fd gives up after ms. */
void flow_set_timeouts(int fd, int ms);

#define FLOW_MARKER_LEN CTL_MARKER_LEN
/* A fresh random marker (ctl_marker_new) and the text that must arrive
 * with it (ROWS_MARKER_PREFIX and the marker); 0 or EIO. */
int flow_marker_new(char marker[FLOW_MARKER_LEN + 1], char *expect, size_t cap);
/* Where the edge must address us: --bind, or the address the kernel would
 * use towards the edge; with port. 0 or an errno. */
int flow_our_address(const struct probe_opts *o, uint16_t port, struct sockaddr_storage *us);
/* POST path (with its query) on the control API, giving up at deadline.
 * true on 202, with its Location in location ("" from an edge that gives
 * none); otherwise r is FAILED with why. */
bool flow_trigger(const struct probe_opts *o, const char *path, double deadline,
                  struct probe_result *r, char *location, size_t cap);
/* GET a control API path; 0 on 200 with the answer, else an errno and
 * why. */
int flow_control_get(const struct probe_opts *o, const char *path, double deadline,
                     struct ctl_answer *a, char *why, size_t why_len);
/* The edge's record of the flow at location (its Location), waiting for it
 * to end: the edge ends each flow FLOW_EDGE_WAIT_MS after its trigger
 * (docs/control-api.md), which came about o->timeout_ms ago, so the long
 * poll lasts until then and a little more, and at least FLOW_EXTRA_WAIT_MS
 * (it answers as soon as the flow has ended). 0, or an errno and why. */
#define FLOW_EDGE_WAIT_MS  3000
#define FLOW_EXTRA_WAIT_MS 1000
int flow_edge_record(const struct probe_opts *o, const char *location, struct ctl_flow *rec,
                     char *why, size_t why_len);
/* The edge's view of a flow that did not end well, in words: "the edge's
 * SYN to 192.0.2.10:5061 was answered with RST" (reset), "... drew ICMP
 * port unreachable (type 3 code 3) from 192.0.2.1" (icmp), "... got no
 * answer" (timeout, pending). what: "SYN", "STUN request". */
void flow_edge_view(const struct ctl_flow *rec, const char *what, char *buf, size_t cap);
/* Rows 2, 4, 5: nothing arrived in time, and r says so (BLOCKED). With
 * the trigger's location, the edge's record decides: reset or icmp is
 * REJECTED, timeout or pending stays BLOCKED (the edge saw no answer),
 * tls-failed, answered, connected (something between answered), error,
 * cancelled are FAILED. Without one, r stays as it is. */
void flow_judge_unseen(const struct probe_opts *o, const char *location, const char *what,
                       struct probe_result *r);
/* Whether a flow from `from` is the edge's: its address (any port of
 * edge's is fine) and a source port in min..max. Otherwise the verdict is
 * FAILED with the reason; what names the flow ("connection"). */
bool flow_check_edge_source(struct probe_result *r, const char *what, const struct sockaddr *from,
                            const struct sockaddr *edge, uint16_t min, uint16_t max);
/* Ends a TLS flow: shutdown, free, close; any of them may be absent. */
void flow_tls_close(SSL *ssl, SSL_CTX *ctx, int fd);

#endif
