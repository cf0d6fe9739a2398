#include "probe/sip_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <re_httpauth.h>
#include <re_md5.h>

#include "core/addr.h"
#include "probe/flow.h"
#include "sipfront/frame.h"
#include "sipfront/tls.h"

void sipc_init(struct sipc *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void set_why(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (!why || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

static enum sipc_status socket_error(struct sipc *c, int err, char *why, size_t cap)
{
	c->sys_err = err;
	set_why(why, cap, "%s", strerror(err));
	switch (err) {
	case ECONNREFUSED:
		return SIPC_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
		return SIPC_UNREACHABLE;
	case ETIMEDOUT:
		return SIPC_TIMEOUT;
	default:
		return SIPC_CLOSED;
	}
}

enum sipc_status sipc_connect(struct sipc *c, const struct sockaddr *dst,
                              const struct sockaddr *bind_to, double deadline, char *why,
                              size_t cap)
{
	c->fd = socket(dst->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0 || (bind_to && bind(c->fd, bind_to, addr_len(bind_to)))) {
		c->sys_err = errno;
		set_why(why, cap, "opening the TCP socket: %s", strerror(errno));
		return SIPC_LOCAL;
	}
	if (connect(c->fd, dst, addr_len(dst)) && errno != EINPROGRESS)
		return socket_error(c, errno, why, cap);
	struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
	int err = 0;
	socklen_t len = sizeof(err);
	if (poll(&pfd, 1, flow_left_ms(deadline)) <= 0) {
		set_why(why, cap, "no answer to the TCP SYN");
		return SIPC_TIMEOUT;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		return socket_error(c, err ? err : errno, why, cap);
	/* The socket stays non-blocking: every TLS call waits in sip_tls_wait,
	 * so that no call outlasts its deadline and a look (sipc_recv at a
	 * deadline already passed) never blocks. Each write is a whole
	 * request: Nagle would only hold it back. */
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	len = sizeof(c->local);
	getsockname(c->fd, (struct sockaddr *)&c->local, &len);
	return SIPC_OK;
}

/* OpenSSL's reason for a failed handshake, read or write, in one line:
 * the verification's when it failed, else the error queue's (drained). */
static void tls_reason(SSL *ssl, char *why, size_t cap)
{
	char errs[SIP_TLS_ERR_MAX];
	long vr = SSL_get_verify_result(ssl);
	sip_tls_errors(errs, sizeof(errs));
	if (vr != X509_V_OK)
		set_why(why, cap, "edge certificate: %s", X509_verify_cert_error_string(vr));
	else
		set_why(why, cap, "%s", errs[0] ? errs : "connection closed by the edge");
}

/* After an SSL call returned r: OK to call again once the socket is ready,
 * TIMEOUT at the deadline, or fail (the call's error, in why). */
static enum sipc_status tls_wait(struct sipc *c, int r, double deadline, enum sipc_status fail,
                                 char *why, size_t cap)
{
	int e = SSL_get_error(c->ssl, r);
	int rc = sip_tls_wait(c->ssl, r, flow_left_ms(deadline));
	if (rc == 0)
		return SIPC_OK;
	if (rc == ETIMEDOUT)
		return SIPC_TIMEOUT;
	if (e == SSL_ERROR_ZERO_RETURN) {
		set_why(why, cap, "the edge closed the connection");
		return SIPC_CLOSED;
	}
	tls_reason(c->ssl, why, cap);
	return fail;
}

enum sipc_status sipc_handshake(struct sipc *c, const struct sipc_tls *t, double deadline,
                                char *why, size_t cap)
{
	char err[SIP_TLS_ERR_MAX];
	if (sip_tls_client_ctx(&c->ctx, t->cert_file, t->key_file, t->ca_file, err, sizeof(err))) {
		set_why(why, cap, "%s", err);
		return SIPC_LOCAL;
	}
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || sip_tls_client_expect(c->ssl, t->expect) || !SSL_set_fd(c->ssl, c->fd)) {
		set_why(why, cap, "the TLS session cannot be set up for %s", t->expect);
		return SIPC_LOCAL;
	}
	for (;;) {
		int r = SSL_connect(c->ssl);
		if (r == 1)
			return SIPC_OK;
		enum sipc_status st = tls_wait(c, r, deadline, SIPC_TLS, why, cap);
		if (st == SIPC_TIMEOUT)
			set_why(why, cap, "no answer in time");
		if (st == SIPC_CLOSED)
			st = SIPC_TLS;
		if (st != SIPC_OK)
			return st;
	}
}

enum sipc_status sipc_send(struct sipc *c, const char *text, size_t len, double deadline, char *why,
                           size_t cap)
{
	size_t written = 0;
	while (len && SSL_write_ex(c->ssl, text, len, &written) != 1) {
		enum sipc_status st = tls_wait(c, 0, deadline, SIPC_CLOSED, why, cap);
		if (st == SIPC_TIMEOUT)
			set_why(why, cap, "the edge took nothing in time");
		if (st != SIPC_OK)
			return st;
	}
	return SIPC_OK;
}

/* Reads what there is into the buffer, waiting until deadline for the
 * first bytes: OK, TIMEOUT, CLOSED or PROTOCOL. */
static enum sipc_status fill(struct sipc *c, double deadline, char *why, size_t cap)
{
	if (c->len >= SIP_FRAME_MAX) {
		set_why(why, cap, "a message longer than %d bytes", SIP_FRAME_MAX);
		return SIPC_PROTOCOL;
	}
	size_t n = 0;
	while (SSL_read_ex(c->ssl, c->buf + c->len, SIP_FRAME_MAX - c->len, &n) != 1) {
		enum sipc_status st = tls_wait(c, 0, deadline, SIPC_CLOSED, why, cap);
		if (st == SIPC_TIMEOUT)
			set_why(why, cap, "nothing in time");
		if (st != SIPC_OK)
			return st;
	}
	c->len += n;
	return SIPC_OK;
}

static void consume(struct sipc *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

enum sipc_status sipc_recv(struct sipc *c, double deadline, struct sip_msg **msgp, char *why,
                           size_t cap)
{
	*msgp = NULL;
	if (!c->ssl)
		return SIPC_CLOSED;
	if (!c->buf && !(c->buf = malloc(SIP_FRAME_MAX))) {
		set_why(why, cap, "%s", strerror(ENOMEM));
		return SIPC_LOCAL;
	}
	for (;;) {
		size_t frame_len = 0;
		enum sip_frame_error fe = SIP_FRAME_ERR_NONE;
		switch (c->len ? sip_frame_next(c->buf, c->len, &frame_len, &fe) : SIP_FRAME_MORE) {
		case SIP_FRAME_MESSAGE: {
			int rc = sipmsg_decode(msgp, c->buf, frame_len);
			consume(c, frame_len);
			if (rc) {
				set_why(why, cap, "a message libre cannot decode: %s",
				        strerror(rc));
				return rc == ENOMEM ? SIPC_LOCAL : SIPC_PROTOCOL;
			}
			return SIPC_OK;
		}
		case SIP_FRAME_KEEPALIVE:
			if (frame_len >= 4) /* a ping: pong (RFC 5626 section 3.5.1) */
				sipc_send(c, "\r\n", 2, deadline, NULL, 0);
			consume(c, frame_len);
			continue;
		case SIP_FRAME_ERROR:
			set_why(why, cap, "framing lost: %s", sip_frame_error_str(fe));
			return SIPC_PROTOCOL;
		case SIP_FRAME_MORE:
			break;
		}
		enum sipc_status st = fill(c, deadline, why, cap);
		if (st != SIPC_OK)
			return st;
	}
}

/* Whether a whole frame (or a keep-alive) is already in the buffer, or
 * OpenSSL holds decrypted application bytes: sipc_recv need not wait on
 * the socket. (Not SSL_has_pending: it also counts records that make no
 * application bytes, and waiting on those would spin.) */
static bool ready(const struct sipc *c)
{
	size_t frame_len;
	enum sip_frame_error fe;
	if (c->ssl && SSL_pending(c->ssl) > 0)
		return true;
	return c->len && sip_frame_next(c->buf, c->len, &frame_len, &fe) != SIP_FRAME_MORE;
}

int sipc_wait(struct sipc *const *cs, size_t n, double deadline)
{
	struct pollfd pfd[8];
	size_t idx[8], m = 0;
	for (size_t i = 0; i < n && m < 8; i++) {
		if (!cs[i] || !cs[i]->ssl)
			continue;
		if (ready(cs[i]))
			return (int)i;
		pfd[m] = (struct pollfd){.fd = cs[i]->fd, .events = POLLIN};
		idx[m++] = i;
	}
	if (m == 0) {
		/* Nothing to wait on: the deadline is all there is. */
		int ms = flow_left_ms(deadline);
		if (ms > 0)
			poll(NULL, 0, ms);
		return -1;
	}
	for (;;) {
		int ms = flow_left_ms(deadline);
		int rc = poll(pfd, m, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return -1;
		for (size_t j = 0; j < m; j++)
			if (pfd[j].revents)
				return (int)idx[j];
	}
}

void sipc_close(struct sipc *c)
{
	flow_tls_close(c->ssl, c->ctx, c->fd);
	free(c->buf);
	sipc_init(c);
}

const char *sipc_status_str(enum sipc_status st)
{
	switch (st) {
	case SIPC_OK:
		return "ok";
	case SIPC_LOCAL:
		return "our own set-up failed";
	case SIPC_REFUSED:
		return "connection refused (TCP RST)";
	case SIPC_UNREACHABLE:
		return "unreachable (ICMP)";
	case SIPC_TIMEOUT:
		return "no answer in time";
	case SIPC_TLS:
		return "TLS handshake failed";
	case SIPC_CLOSED:
		return "connection closed";
	case SIPC_PROTOCOL:
		return "not SIP";
	}
	return "?";
}

/* qop is a list ("auth,auth-int"): auth is the one we answer. */
static bool offers_auth(const struct pl *qop)
{
	const char *p = qop->p, *end = qop->p + qop->l;
	while (p < end) {
		while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
			p++;
		const char *tok = p;
		while (p < end && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if (p - tok == 4 && strncasecmp(tok, "auth", 4) == 0)
			return true;
	}
	return false;
}

int sipc_digest(const struct sip_msg *resp, const char *user, const char *password,
                const char *method, const char *uri, char *out, size_t cap)
{
	struct httpauth_digest_chall ch;
	const struct sip_hdr *h = NULL;
	if (!resp || !user || !password || !method || !uri || !out || !cap)
		return EINVAL;
	for (struct le *le = resp->hdrl.head; le; le = le->next) {
		const struct sip_hdr *x = le->data;
		if (x->id == SIP_HDR_WWW_AUTHENTICATE && x->val.l > 7 &&
		    strncasecmp(x->val.p, "Digest", 6) == 0) {
			h = x;
			break;
		}
	}
	if (!h || httpauth_digest_challenge_decode(&ch, &h->val))
		return ENOENT;
	if (pl_isset(&ch.algorithm) && pl_strcasecmp(&ch.algorithm, "MD5"))
		return ENOTSUP;
	bool qop = pl_isset(&ch.qop);
	if (qop && !offers_auth(&ch.qop))
		return ENOTSUP;
	uint8_t ha1[MD5_SIZE], ha2[MD5_SIZE], response[MD5_SIZE], rnd[8];
	char cnonce[2 * sizeof(rnd) + 1];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(cnonce + 2 * i, 3, "%02x", rnd[i]);
	const uint32_t nc = 1;
	if (md5_printf(ha1, "%s:%r:%s", user, &ch.realm, password) ||
	    md5_printf(ha2, "%s:%s", method, uri))
		return ENOMEM;
	int rc =
	    qop ? md5_printf(response, "%w:%r:%08x:%s:auth:%w", ha1, sizeof(ha1), &ch.nonce, nc,
	                     cnonce, ha2, sizeof(ha2))
	        : md5_printf(response, "%w:%r:%w", ha1, sizeof(ha1), &ch.nonce, ha2, sizeof(ha2));
	if (rc)
		return ENOMEM;
	char qop_part[80] = "";
	if (qop)
		snprintf(qop_part, sizeof(qop_part), ", qop=auth, nc=%08x, cnonce=\"%s\"", nc,
		         cnonce);
	bool opaque = pl_isset(&ch.opaque);
	/* libre's printf fails (-1) rather than cut when out is too small. */
	int n = re_snprintf(out, cap,
	                    "Authorization: Digest username=\"%s\", realm=\"%r\", nonce=\"%r\", "
	                    "uri=\"%s\", response=\"%w\", algorithm=MD5%s%s%r%s\r\n",
	                    user, &ch.realm, &ch.nonce, uri, response, sizeof(response), qop_part,
	                    opaque ? ", opaque=\"" : "", opaque ? &ch.opaque : &pl_null,
	                    opaque ? "\"" : "");
	return n < 0 ? ENOSPC : 0;
}
