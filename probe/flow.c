#include "probe/flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/rows.h"

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

int flow_marker_new(char marker[FLOW_MARKER_LEN + 1], char *expect, size_t cap)
{
	if (ctl_marker_new(marker))
		return EIO;
	snprintf(expect, cap, "%s%s", ROWS_MARKER_PREFIX, marker);
	return 0;
}

int flow_our_address(const struct probe_opts *o, uint16_t port, struct sockaddr_storage *us)
{
	int rc = 0;
	if (o->have_bind) {
		*us = o->bind;
	} else {
		struct sockaddr_storage dst = o->edge;
		socklen_t len = sizeof(*us);
		addr_set_port((struct sockaddr *)&dst, 9); /* any port: nothing is sent */
		int fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 ||
		    connect(fd, (struct sockaddr *)&dst, addr_len((struct sockaddr *)&dst)) ||
		    getsockname(fd, (struct sockaddr *)us, &len))
			rc = errno;
		if (fd >= 0)
			close(fd);
	}
	addr_set_port((struct sockaddr *)us, port);
	return rc;
}

/* An answer's first line, for a verdict's detail. */
static const char *first_line(struct ctl_answer *a)
{
	a->body[strcspn(a->body, "\r\n")] = '\0';
	return a->body;
}

bool flow_trigger(const struct probe_opts *o, const char *path, double deadline,
                  struct probe_result *r, char *location, size_t cap)
{
	struct ctl_answer a;
	char err[256];
	int rc = ctl_request(&o->control, "POST", path, deadline, &a, err, sizeof(err));
	if (!rc && a.status == 202) {
		snprintf(location, cap, "%s", a.location);
		return true;
	}
	if (rc)
		flow_verdict(r, VERDICT_FAILED, "control API %s: %s", o->control.spec, err);
	else
		flow_verdict(r, VERDICT_FAILED, "control API %s: %d %s", o->control.spec, a.status,
		             first_line(&a));
	return false;
}

int flow_control_get(const struct probe_opts *o, const char *path, double deadline,
                     struct ctl_answer *a, char *why, size_t why_len)
{
	int rc = ctl_request(&o->control, "GET", path, deadline, a, why, why_len);
	if (rc)
		return rc;
	if (a->status == 200)
		return 0;
	snprintf(why, why_len, "%d %s", a->status, first_line(a));
	return a->status == 404 ? ENOENT : EPROTO;
}

bool flow_check_edge_source(struct probe_result *r, const char *what, const struct sockaddr *from,
                            const struct sockaddr *edge, uint16_t min, uint16_t max)
{
	struct sockaddr_storage a, b;
	char got[ADDR_STR_MAX], want[ADDR_STR_MAX];
	addr_unmap(from, &a);
	addr_unmap(edge, &b);
	uint16_t port = addr_port((struct sockaddr *)&a);
	addr_set_port((struct sockaddr *)&b, port);
	addr_str((struct sockaddr *)&a, got, sizeof(got));
	if (!addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b)) {
		flow_verdict(r, VERDICT_FAILED, "%s from %s, not from the edge's %s", what, got,
		             addr_ip_str((struct sockaddr *)&b, want, sizeof(want)));
		return false;
	}
	if (port < min || port > max) {
		flow_verdict(r, VERDICT_FAILED,
		             "%s from %s: source port %u is outside the edge's %u-%u", what, got,
		             port, min, max);
		return false;
	}
	return true;
}
