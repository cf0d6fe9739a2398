#include "probe/flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"

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

int flow_control_post(const char *socket_path, const char *path, double deadline, char *body,
                      size_t cap)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char req[600], resp[1024] = "";
	int code = 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", socket_path);
	int n = snprintf(req, sizeof(req), "POST %s HTTP/1.0\r\nContent-Length: 0\r\n\r\n", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		flow_set_timeouts(fd, flow_left_ms(deadline));
	/* HTTP/1.0: the edge closes after its answer, which is short. */
	bool ok = fd >= 0 && n < (int)sizeof(req) &&
	          connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	          write(fd, req, (size_t)n) == n && read(fd, resp, sizeof(resp) - 1) > 0;
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		snprintf(body, cap, "%s", strerror(err));
		return 0;
	}
	const char *b = strstr(resp, "\r\n\r\n");
	sscanf(resp, "HTTP/%*d.%*d %d", &code);
	snprintf(body, cap, "%s", b ? b + 4 : resp);
	body[strcspn(body, "\r\n")] = '\0';
	return code;
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
