/* Rows 1 and 3: SIP over TLS into the edge. TCP connect (no answer in time
 * is BLOCKED; RST or ICMP unreachable REJECTED), a TLS handshake verifying
 * the edge's certificate against the lab CA and its name (a certificate
 * problem is FAILED, with OpenSSL's reason), then one request whose Call-ID
 * carries a random marker: OPTIONS as a federation partner presenting its
 * certificate on 5061 (row 1), REGISTER as a remote client on 443 (row 3).
 * PASS on a 200 that echoes the marker. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/flow.h"
#include "probe/probe.h"
#include "sipfront/tls.h"

#define RESPONSE_MAX 16384

struct sip_flow {
	const struct probe_opts *o;
	struct probe_result *r;
	bool mutual; /* row 1: present the partner's certificate on 5061 */
	double deadline;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char marker[33];
	struct sockaddr_storage local;
};

/* Non-blocking connect bounded by the deadline; then blocking I/O with the
 * remaining time as socket timeouts. Returns false with the verdict set. */
static bool tcp_connect(struct sip_flow *f)
{
	struct sockaddr_storage dst = f->o->edge;
	addr_set_port((struct sockaddr *)&dst,
	              f->mutual ? f->o->sip_mtls_port : f->o->sip_tls_port);
	f->fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (f->fd < 0 ||
	    (f->o->have_bind && bind(f->fd, (const struct sockaddr *)&f->o->bind,
	                             addr_len((const struct sockaddr *)&f->o->bind)))) {
		flow_socket_error(f->r, errno, "opening the TCP socket");
		return false;
	}
	if (connect(f->fd, (struct sockaddr *)&dst, addr_len((struct sockaddr *)&dst)) &&
	    errno != EINPROGRESS) {
		flow_socket_error(f->r, errno, "connecting");
		return false;
	}
	struct pollfd pfd = {.fd = f->fd, .events = POLLOUT};
	int err = 0;
	socklen_t len = sizeof(err);
	if (poll(&pfd, 1, flow_left_ms(f->deadline)) <= 0) {
		flow_verdict(f->r, VERDICT_BLOCKED, "no answer to the TCP SYN in %.1f s",
		             f->o->timeout_ms / 1000.0);
		return false;
	}
	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		flow_socket_error(f->r, err ? err : errno, "connecting");
		return false;
	}
	fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK);
	flow_set_timeouts(f->fd, flow_left_ms(f->deadline));
	len = sizeof(f->local);
	getsockname(f->fd, (struct sockaddr *)&f->local, &len);
	return true;
}

/* OpenSSL's reason for a failed handshake or read, in one line. */
static void tls_failure(struct sip_flow *f, const char *when)
{
	char why[200] = "";
	long vr = SSL_get_verify_result(f->ssl);
	unsigned long e = ERR_peek_last_error();
	if (vr != X509_V_OK)
		snprintf(why, sizeof(why), "edge certificate: %s",
		         X509_verify_cert_error_string(vr));
	else if (e)
		ERR_error_string_n(e, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "connection closed by the edge");
	ERR_clear_error();
	flow_verdict(f->r, VERDICT_FAILED, "TLS %s: %s", when, why);
}

static bool tls_connect(struct sip_flow *f)
{
	char err[SIP_TLS_ERR_MAX];
	int rc =
	    sip_tls_client_ctx(&f->ctx, f->mutual ? f->o->cert_file : NULL,
	                       f->mutual ? f->o->key_file : NULL, f->o->ca_file, err, sizeof(err));
	if (rc) {
		flow_verdict(f->r, VERDICT_FAILED, "probe's TLS set-up: %s", err);
		return false;
	}
	f->ssl = SSL_new(f->ctx);
	if (!f->ssl || sip_tls_client_expect(f->ssl, f->o->edge_fqdn) ||
	    !SSL_set_fd(f->ssl, f->fd)) {
		flow_verdict(f->r, VERDICT_FAILED, "probe's TLS set-up failed");
		return false;
	}
	if (SSL_connect(f->ssl) != 1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			flow_verdict(f->r, VERDICT_FAILED, "TLS handshake: no answer in time");
		else
			tls_failure(f, "handshake");
		return false;
	}
	return true;
}

static void build_request(const struct sip_flow *f, char *out, size_t cap)
{
	char local[ADDR_STR_MAX];
	const struct probe_opts *o = f->o;
	addr_str((const struct sockaddr *)&f->local, local, sizeof(local));
	if (f->mutual)
		snprintf(out, cap,
		         "OPTIONS sip:%s SIP/2.0\r\n"
		         "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s;rport\r\n"
		         "Max-Forwards: 70\r\n"
		         "From: <sip:probe@%s>;tag=%.8s\r\n"
		         "To: <sip:%s>\r\n"
		         "Call-ID: %s@edgelab-probe\r\n"
		         "CSeq: 1 OPTIONS\r\n"
		         "User-Agent: edgelab-probe\r\n"
		         "Content-Length: 0\r\n\r\n",
		         o->edge_fqdn, local, f->marker, o->partner_domain, f->marker, o->edge_fqdn,
		         f->marker);
	else
		snprintf(out, cap,
		         "REGISTER sip:%s SIP/2.0\r\n"
		         "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s;rport\r\n"
		         "Max-Forwards: 70\r\n"
		         "From: <sip:probe-%.8s@%s>;tag=%.8s\r\n"
		         "To: <sip:probe-%.8s@%s>\r\n"
		         "Call-ID: %s@edgelab-probe\r\n"
		         "CSeq: 1 REGISTER\r\n"
		         "Contact: <sip:probe@%s;transport=tls>\r\n"
		         "Expires: 60\r\n"
		         "User-Agent: edgelab-probe\r\n"
		         "Content-Length: 0\r\n\r\n",
		         o->sip_domain, local, f->marker, f->marker, o->sip_domain, f->marker,
		         f->marker, o->sip_domain, f->marker, local);
}

/* Reads up to the end of the response's headers. */
static int read_response(struct sip_flow *f, char *buf, size_t cap)
{
	size_t len = 0;
	while (len + 1 < cap) {
		int n = SSL_read(f->ssl, buf + len, (int)(cap - 1 - len));
		if (n <= 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : EPIPE;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return 0;
	}
	return EMSGSIZE;
}

static void exchange(struct sip_flow *f)
{
	char req[2048], resp[RESPONSE_MAX];
	const char *method = f->mutual ? "OPTIONS" : "REGISTER";
	build_request(f, req, sizeof(req));
	if (SSL_write(f->ssl, req, (int)strlen(req)) <= 0)
		return tls_failure(f, "write (the edge closed: was our certificate refused?)");
	int rc = read_response(f, resp, sizeof(resp));
	if (rc == ETIMEDOUT)
		return flow_verdict(f->r, VERDICT_FAILED, "TLS up, but no answer to %s in time",
		                    method);
	if (rc)
		return tls_failure(f, "read (the edge closed: was our certificate refused?)");
	int code = 0;
	char reason[64] = "";
	sscanf(resp, "SIP/2.0 %d %63[^\r\n]", &code, reason);
	char want[64];
	snprintf(want, sizeof(want), "%s@edgelab-probe", f->marker);
	if (!strstr(resp, want))
		return flow_verdict(f->r, VERDICT_FAILED, "answer to %s lacks our Call-ID marker",
		                    method);
	if (code != 200)
		return flow_verdict(f->r, VERDICT_FAILED, "edge answered %s with %d %s", method,
		                    code, reason);
	flow_verdict(f->r, VERDICT_PASS, "200 to %s over %s; edge certificate %s verified%s%s",
	             method, f->mutual ? "MTLS" : "TLS", f->o->edge_fqdn,
	             f->mutual ? "; we were " : "", f->mutual ? f->o->partner_domain : "");
}

static void sip_row(const struct probe_opts *o, struct probe_result *r, bool mutual)
{
	double start = flow_now();
	struct sip_flow f = {.o = o, .r = r, .mutual = mutual, .fd = -1};
	f.deadline = start + o->timeout_ms / 1000.0;
	unsigned char rnd[16];
	RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(f.marker + 2 * i, 3, "%02x", rnd[i]);
	if (tcp_connect(&f) && tls_connect(&f))
		exchange(&f);
	flow_tls_close(f.ssl, f.ctx, f.fd);
	r->seconds = flow_now() - start;
}

void probe_row_sip_partner_in(const struct probe_opts *o, struct probe_result *r)
{
	sip_row(o, r, true);
}

void probe_row_sip_client_in(const struct probe_opts *o, struct probe_result *r)
{
	sip_row(o, r, false);
}
