/* Helpers shared by the rows' flows: verdicts with their detail, the clock,
 * and how a socket error reads as a verdict. Private to probe/. */
#ifndef EDGELAB_PROBE_FLOW_H
#define EDGELAB_PROBE_FLOW_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

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
/* POST path (with its query) on the edge's control socket, giving up at
 * deadline. Returns the HTTP status, body gets the response body (or the
 * socket error when there was no answer: the status is then 0). */
int flow_control_post(const char *socket_path, const char *path, double deadline, char *body,
                      size_t cap);
/* Whether a flow from `from` is the edge's: its address (any port of
 * edge's is fine) and a source port in min..max. Otherwise the verdict is
 * FAILED with the reason; what names the flow ("connection"). */
bool flow_check_edge_source(struct probe_result *r, const char *what, const struct sockaddr *from,
                            const struct sockaddr *edge, uint16_t min, uint16_t max);
/* Ends a TLS flow: shutdown, free, close; any of them may be absent. */
void flow_tls_close(SSL *ssl, SSL_CTX *ctx, int fd);

#endif
