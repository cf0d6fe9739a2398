/* Helpers shared by the rows' flows: verdicts with their detail, the clock,
 * and how a socket error reads as a verdict. Private to probe/. */
#ifndef EDGELAB_PROBE_FLOW_H
#define EDGELAB_PROBE_FLOW_H

#include <openssl/ssl.h>

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
/* Ends a TLS flow: shutdown, free, close; any of them may be absent. */
void flow_tls_close(SSL *ssl, SSL_CTX *ctx, int fd);

#endif
