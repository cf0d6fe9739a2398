#include "probe/flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
