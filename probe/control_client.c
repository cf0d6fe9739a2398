/* One request to the edge's control API, over its unix socket or HTTPS.
 * HTTP/1.0, so that the edge closes after its answer and never chunks it;
 * blocking sockets whose timeouts are what is left until the deadline. Each
 * request has its own socket and TLS context: no state is shared between
 * the probe's threads. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "probe/control_client.h"
#include "sipfront/tls.h"

/* The socket's timeouts: what is left until deadline (monotonic seconds),
 * at least 1 ms, so that every blocking call gives up in time. Kept here
 * rather than taken from the rows' helpers: they use this file. */
static void set_deadline(int fd, double deadline)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double left = deadline - ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	long us = left > 0.001 ? (long)(left * 1e6) : 1000;
	struct timeval tv = {.tv_sec = us / 1000000, .tv_usec = us % 1000000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int ctl_target_parse(const char *spec, struct ctl_target *t)
{
	static const char https[] = "https://";
	if (!spec || !spec[0] || strlen(spec) >= sizeof(t->spec))
		return EINVAL;
	snprintf(t->spec, sizeof(t->spec), "%s", spec);
	if (strncmp(spec, https, sizeof(https) - 1) != 0) {
		if (strstr(spec, "://") || strlen(spec) >= sizeof(t->path))
			return EINVAL;
		t->kind = CTL_UNIX;
		snprintf(t->path, sizeof(t->path), "%s", spec);
		return 0;
	}
	const char *h = spec + sizeof(https) - 1, *colon, *hend;
	if (*h == '[') {
		hend = strchr(h, ']');
		if (!hend || hend[1] != ':')
			return EINVAL;
		h++;
		colon = hend + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon || memchr(h, ':', (size_t)(colon - h)))
			return EINVAL;
		hend = colon;
	}
	char *e;
	unsigned long port = strtoul(colon + 1, &e, 10);
	size_t hn = (size_t)(hend - h);
	if (hn == 0 || hn >= sizeof(t->host) || !isdigit((unsigned char)colon[1]) || *e ||
	    port == 0 || port > 65535)
		return EINVAL;
	memcpy(t->host, h, hn);
	t->host[hn] = '\0';
	if (strpbrk(t->host, "/?#@ "))
		return EINVAL;
	t->port = (uint16_t)port;
	t->kind = CTL_HTTPS;
	return 0;
}

int ctl_token_read(const char *file, char *token, size_t cap)
{
	char line[CTL_TOKEN_MAX + 3] = "";
	FILE *f = fopen(file, "r");
	if (!f)
		return errno;
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	size_t n = got ? strlen(line) : 0;
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	if (n < 16 || n > CTL_TOKEN_MAX || n >= cap)
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)line[i]))
			return EINVAL;
	memcpy(token, line, n + 1);
	return 0;
}

/* One connection: a socket, and TLS over it for HTTPS. */
struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *err;
	size_t err_len;
	bool whole; /* keep the whole body in the answer's whole */
};

static int fail(struct conn *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct conn *c, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->err_len, fmt, ap);
	va_end(ap);
	return rc ? rc : EIO;
}

static int connect_unix(struct conn *c, const struct ctl_target *t, double deadline)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(c, errno, "%s", strerror(errno));
	set_deadline(c->fd, deadline);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)))
		return fail(c, errno, "%s", strerror(errno));
	return 0;
}

/* TCP to the first address of host that takes it; the socket's timeouts
 * bound connect() too. */
static int connect_tcp(struct conn *c, const struct ctl_target *t, double deadline)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", t->port);
	int grc = getaddrinfo(t->host, port, &hints, &res), rc = EHOSTUNREACH;
	if (grc)
		return fail(c, ENOENT, "%s: %s", t->host, gai_strerror(grc));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd < 0) {
			rc = errno;
			continue;
		}
		set_deadline(c->fd, deadline);
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			rc = 0;
			break;
		}
		rc = errno == EINPROGRESS || errno == EAGAIN ? ETIMEDOUT : errno;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	return rc ? fail(c, rc, "connecting: %s", strerror(rc)) : 0;
}

/* OpenSSL's reason for what just failed: the verification's when there is one. */
static void tls_reason(SSL *ssl, char *buf, size_t cap)
{
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = ERR_get_error();
	if (vr != X509_V_OK)
		snprintf(buf, cap, "%s", X509_verify_cert_error_string(vr));
	else if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "%s", errno ? strerror(errno) : "the connection was closed");
	ERR_clear_error();
}

/* Waits, up to the deadline, until fd can do what OpenSSL wants after r;
 * 0 to try again, else the error that ends the call (ETIMEDOUT: time is
 * up). The TLS socket is non-blocking, so that a peer trickling bytes
 * cannot stretch a call past the deadline. */
static int tls_wait(struct conn *c, int r, double deadline)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double left = deadline - ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	return sip_tls_wait(c->ssl, r, left > 0 ? (int)(left * 1000.0) + 1 : 0);
}

static int tls_start(struct conn *c, const struct ctl_target *t, double deadline)
{
	char why[256];
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) ||
	    SSL_CTX_load_verify_locations(c->ctx, t->ca_file, NULL) != 1) {
		tls_reason(NULL, why, sizeof(why));
		return fail(c, EINVAL, "the CA %s: %s", t->ca_file, why);
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (t->cert_file[0] &&
	    (SSL_CTX_use_certificate_chain_file(c->ctx, t->cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(c->ctx, t->key_file, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(c->ctx) != 1)) {
		tls_reason(NULL, why, sizeof(why));
		return fail(c, EINVAL, "the client certificate %s: %s", t->cert_file, why);
	}
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
	    !SSL_set_tlsext_host_name(c->ssl, t->server_name) ||
	    !SSL_set1_host(c->ssl, t->server_name))
		return fail(c, ENOMEM, "TLS set-up failed");
	int flags = fcntl(c->fd, F_GETFL);
	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK))
		return fail(c, errno, "%s", strerror(errno));
	for (;;) {
		errno = 0;
		int r = SSL_connect(c->ssl), rc;
		if (r == 1)
			return 0;
		if ((rc = tls_wait(c, r, deadline)) == ETIMEDOUT)
			return fail(c, ETIMEDOUT, "TLS handshake: no answer in time");
		if (rc) {
			tls_reason(c->ssl, why, sizeof(why));
			return fail(c, EPROTO, "TLS handshake: %s", why);
		}
	}
}

static ssize_t conn_write(struct conn *c, const void *buf, size_t n, double deadline)
{
	if (!c->ssl)
		return write(c->fd, buf, n);
	for (;;) {
		int r = SSL_write(c->ssl, buf, (int)n), rc;
		if (r > 0)
			return r;
		if ((rc = tls_wait(c, r, deadline))) {
			errno = rc == EPROTO ? EPIPE : rc;
			return -1;
		}
	}
}

static ssize_t conn_read(struct conn *c, void *buf, size_t n, double deadline)
{
	if (!c->ssl)
		return read(c->fd, buf, n);
	for (;;) {
		errno = 0;
		int r = SSL_read(c->ssl, buf, (int)n), rc;
		if (r > 0)
			return r;
		/* A close without close_notify ends the answer all the same: the
		 * Content-Length (which the edge always sends) tells a cut one. */
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
			return 0;
		if ((rc = tls_wait(c, r, deadline)) == 0)
			continue;
		if (rc == ETIMEDOUT) {
			errno = EAGAIN;
			return -1;
		}
		return errno ? -1 : 0;
	}
}

static int send_request(struct conn *c, const struct ctl_target *t, const char *method,
                        const char *path, double deadline)
{
	char req[2048], auth[CTL_TOKEN_MAX + 32] = "";
	if (t->kind == CTL_HTTPS && t->token[0])
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", t->token);
	int n =
	    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: %s\r\n%sContent-Length: 0\r\n\r\n",
	             method, path, t->kind == CTL_HTTPS ? t->server_name : "edgelab", auth);
	if (n < 0 || (size_t)n >= sizeof(req))
		return fail(c, EINVAL, "request too long");
	if (conn_write(c, req, (size_t)n, deadline) != n)
		return fail(c, errno, "sending the request: %s", strerror(errno ? errno : EPIPE));
	return 0;
}

static int read_answer(struct conn *c, double deadline, struct ctl_answer *a)
{
	size_t cap = CTL_HEAD_MAX + CTL_BODY_MAX + 1, have = 0;
	uint8_t *buf = malloc(cap);
	struct ctl_reply r;
	int rc = EAGAIN;
	if (!buf)
		return fail(c, ENOMEM, "out of memory");
	while (rc == EAGAIN && have < cap) {
		set_deadline(c->fd, deadline);
		errno = 0;
		ssize_t n = conn_read(c, buf + have, cap - have, deadline);
		if (n < 0) {
			rc = fail(c, errno == EAGAIN ? ETIMEDOUT : errno, "no answer in time%s%s",
			          errno && errno != EAGAIN ? ": " : "",
			          errno && errno != EAGAIN ? strerror(errno) : "");
			break;
		}
		have += (size_t)n;
		rc = ctl_reply_parse(buf, have, n == 0, &r);
	}
	if (rc == EAGAIN)
		rc = EMSGSIZE;
	if (rc == EBADMSG || rc == EMSGSIZE)
		fail(c, rc, "%s answer", rc == EBADMSG ? "a malformed" : "an oversized");
	if (rc == 0) {
		a->status = r.status;
		snprintf(a->location, sizeof(a->location), "%s", r.location);
		a->body_len = r.body_len;
		size_t k = r.body_len < sizeof(a->body) ? r.body_len : sizeof(a->body) - 1;
		memcpy(a->body, r.body, k);
		a->body[k] = '\0';
		if (c->whole && (a->whole = malloc(r.body_len + 1))) {
			memcpy(a->whole, r.body, r.body_len);
			a->whole[r.body_len] = '\0';
		} else if (c->whole) {
			rc = fail(c, ENOMEM, "out of memory");
		}
	}
	free(buf);
	return rc;
}

static int request(struct conn *c, const struct ctl_target *t, const char *method, const char *path,
                   double deadline, struct ctl_answer *a)
{
	int rc;
	memset(a, 0, sizeof(*a));
	if (t->kind == CTL_UNIX)
		rc = connect_unix(c, t, deadline);
	else if (t->kind == CTL_HTTPS)
		rc = connect_tcp(c, t, deadline);
	else
		rc = fail(c, EINVAL, "no control API given");
	if (!rc && t->kind == CTL_HTTPS)
		rc = tls_start(c, t, deadline);
	if (!rc)
		rc = send_request(c, t, method, path, deadline);
	if (!rc)
		rc = read_answer(c, deadline, a);
	if (c->ssl)
		SSL_free(c->ssl); /* no close_notify: the edge closes after its answer */
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	return rc;
}

int ctl_request(const struct ctl_target *t, const char *method, const char *path, double deadline,
                struct ctl_answer *a, char *err, size_t err_len)
{
	struct conn c = {.fd = -1, .err = err, .err_len = err_len};
	return request(&c, t, method, path, deadline, a);
}

int ctl_request_whole(const struct ctl_target *t, const char *method, const char *path,
                      double deadline, struct ctl_answer *a, char *err, size_t err_len)
{
	struct conn c = {.fd = -1, .err = err, .err_len = err_len, .whole = true};
	return request(&c, t, method, path, deadline, a);
}
