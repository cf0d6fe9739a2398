#include "probe/flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void flow_verdict(struct probe_result *r, enum probe_verdict v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->verdict = v;
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

double flow_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void flow_socket_error(struct probe_result *r, int err, const char *when)
{
	switch (err) {
	case ECONNREFUSED:
		flow_verdict(r, VERDICT_REJECTED, "%s (%s)",
		             r->row == 6 ? "ICMP port unreachable" : "TCP RST: connection refused",
		             when);
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
		flow_verdict(r, VERDICT_REJECTED, "ICMP %s unreachable (%s)",
		             err == EHOSTUNREACH ? "host" : "network", when);
		break;
	default:
		flow_verdict(r, VERDICT_FAILED, "%s: %s", when, strerror(err));
	}
}

int flow_left_ms(double deadline)
{
	double left = deadline - flow_now();
	return left <= 0 ? 0 : (int)(left * 1000.0) + 1;
}

void flow_set_timeouts(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void flow_tls_close(SSL *ssl, SSL_CTX *ctx, int fd)
{
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
}
