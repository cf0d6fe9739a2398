/* Row 2: edge access interface -> partner, SIP over MTLS on 5061. The probe
 * plays the partner: it listens on 5061, asks the edge through its control
 * API to send OPTIONS now (or waits for the edge's keep-alive), then checks
 * what arrives: it must come from the edge's address, present a certificate
 * from the lab CA naming the edge, and carry a SIP request, which is
 * answered 200. Nothing within the timeout is BLOCKED, unless the edge's
 * record of the flow (outcome.c) says a RST or ICMP answered it (REJECTED)
 * or something between answered TLS (FAILED). */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/flow.h"
#include "probe/probe.h"
#include "sipfront/tls.h"

struct out_flow {
	const struct probe_opts *o;
	struct probe_result *r;
	double deadline;
	int lfd, fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct sockaddr_storage peer;
	char location[CTL_LOCATION_MAX]; /* the edge's record of the flow, or "" */
};

static bool listen_as_partner(struct out_flow *f)
{
	struct sockaddr_storage sa;
	char where[ADDR_STR_MAX];
	int on = 1;
	if (f->o->have_bind)
		sa = f->o->bind;
	else
		addr_parse(f->o->edge.ss_family == AF_INET6 ? "::" : "0.0.0.0", 0, &sa);
	addr_set_port((struct sockaddr *)&sa, f->o->partner_port);
	f->lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(f->lfd, (struct sockaddr *)&sa, addr_len((struct sockaddr *)&sa)) ||
	    listen(f->lfd, 4)) {
		flow_verdict(f->r, VERDICT_FAILED, "the probe cannot listen on %s: %s",
		             addr_str((struct sockaddr *)&sa, where, sizeof(where)),
		             strerror(errno));
		return false;
	}
	return true;
}

/* POST /rows/2?partner=... on the control API; true on 202. */
static bool trigger(struct out_flow *f)
{
	char path[300];
	if (f->o->control.kind == CTL_NONE)
		return true; /* wait for the edge's keep-alive instead */
	snprintf(path, sizeof(path), "/rows/2?partner=%s", f->o->partner_domain);
	return flow_trigger(f->o, path, f->deadline, f->r, f->location, sizeof(f->location));
}

static bool accept_edge(struct out_flow *f)
{
	struct pollfd pfd = {.fd = f->lfd, .events = POLLIN};
	if (poll(&pfd, 1, flow_left_ms(f->deadline)) <= 0) {
		flow_verdict(f->r, VERDICT_BLOCKED,
		             "no connection from the edge to our %u in %.1f s", f->o->partner_port,
		             f->o->timeout_ms / 1000.0);
		flow_judge_unseen(f->o, f->location, "SYN", f->r);
		return false;
	}
	socklen_t len = sizeof(f->peer);
	f->fd = accept(f->lfd, (struct sockaddr *)&f->peer, &len);
	if (f->fd < 0) {
		flow_socket_error(f->r, errno, "accepting");
		return false;
	}
	return flow_check_edge_source(f->r, "connection", (struct sockaddr *)&f->peer,
	                              (const struct sockaddr *)&f->o->edge, 1, 65535);
}

/* The TLS handshake as the partner: the edge must present a certificate
 * from the CA that names it. */
static bool tls_accept(struct out_flow *f)
{
	char err[SIP_TLS_ERR_MAX], names[256];
	const char *expect[] = {f->o->edge_fqdn};
	if (sip_tls_server_ctx(&f->ctx, f->o->cert_file, f->o->key_file, f->o->ca_file, err,
	                       sizeof(err))) {
		flow_verdict(f->r, VERDICT_FAILED, "probe's TLS set-up: %s", err);
		return false;
	}
	flow_set_timeouts(f->fd, flow_left_ms(f->deadline));
	f->ssl = SSL_new(f->ctx);
	if (!f->ssl || !SSL_set_fd(f->ssl, f->fd) || SSL_accept(f->ssl) != 1) {
		long vr = f->ssl ? SSL_get_verify_result(f->ssl) : X509_V_OK;
		sip_tls_errors(err, sizeof(err));
		flow_verdict(f->r, VERDICT_FAILED, "TLS handshake with the edge: %s",
		             vr != X509_V_OK ? X509_verify_cert_error_string(vr)
		             : err[0]        ? err
		                             : "no handshake in time");
		return false;
	}
	if (sip_tls_peer_match(f->ssl, expect, 1, NULL, 0)) {
		sip_tls_peer_names(f->ssl, names, sizeof(names));
		flow_verdict(f->r, VERDICT_FAILED, "the edge's certificate names %s, not %s",
		             names[0] ? names : "nothing", f->o->edge_fqdn);
		return false;
	}
	return true;
}

/* Copies the headers a response echoes (RFC 3261 section 8.2.6.2). */
static size_t echo_headers(const char *req, char *out, size_t cap)
{
	static const char *const names[] = {
	    "Via:", "v:", "From:", "f:", "To:", "t:", "Call-ID:", "i:", "CSeq:"};
	size_t len = 0;
	for (const char *line = strstr(req, "\r\n"); line && line[2] != '\r';) {
		line += 2;
		const char *end = strstr(line, "\r\n");
		if (!end)
			break;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strncasecmp(line, names[i], strlen(names[i])) == 0 &&
			    len + (size_t)(end - line) + 2 < cap) {
				memcpy(out + len, line, (size_t)(end - line) + 2);
				len += (size_t)(end - line) + 2;
			}
		line = end;
	}
	return len;
}

static void answer_request(struct out_flow *f)
{
	char req[8192] = "", resp[9000], from[ADDR_STR_MAX];
	size_t len = 0;
	while (len + 1 < sizeof(req) && !strstr(req, "\r\n\r\n")) {
		int n = SSL_read(f->ssl, req + len, (int)(sizeof(req) - 1 - len));
		if (n <= 0)
			return flow_verdict(f->r, VERDICT_FAILED,
			                    "TLS up, but no SIP request from the "
			                    "edge in time");
		len += (size_t)n;
		req[len] = '\0';
	}
	char method[16] = "";
	sscanf(req, "%15s", method);
	int n = snprintf(resp, sizeof(resp), "SIP/2.0 200 OK\r\n");
	n += (int)echo_headers(req, resp + n, sizeof(resp) - (size_t)n - 64);
	n += snprintf(resp + n, sizeof(resp) - (size_t)n, "Content-Length: 0\r\n\r\n");
	SSL_write(f->ssl, resp, n);
	flow_verdict(
	    f->r, VERDICT_PASS, "the edge connected from %s with certificate %s; %s answered 200",
	    addr_str((struct sockaddr *)&f->peer, from, sizeof(from)), f->o->edge_fqdn, method);
}

void probe_row_sip_partner_out(const struct probe_opts *o, struct probe_result *r)
{
	double start = flow_now();
	struct out_flow f = {.o = o, .r = r, .lfd = -1, .fd = -1};
	f.deadline = start + o->timeout_ms / 1000.0;
	if (listen_as_partner(&f) && trigger(&f) && accept_edge(&f) && tls_accept(&f))
		answer_request(&f);
	flow_tls_close(f.ssl, f.ctx, f.fd);
	if (f.lfd >= 0)
		close(f.lfd);
	r->seconds = flow_now() - start;
}
