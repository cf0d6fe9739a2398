/* TLS contexts and peer-name checks for SIP (see tls.h). Every failure path
 * drains the OpenSSL error queue: a stale entry left on a thread's queue makes
 * a later SSL_get_error() on an unrelated connection report SSL_ERROR_SSL. */
#include "sipfront/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* Session caches are per SSL_CTX, but the id context is also bound into
 * session tickets: a session made on 443 (no client certificate) must never
 * resume on 5061, where a verified client certificate is the whole point.
 * Without any, a server that verifies clients fails every resumption
 * (SSL_R_SESSION_ID_CONTEXT_UNINITIALIZED). */
static const unsigned char sid_tls[] = "edgelab-sip-tls";
static const unsigned char sid_mtls[] = "edgelab-sip-mtls";

/* Called with one certificate name (not NUL-terminated); non-zero stops the
 * walk and is returned by it. */
typedef int(name_h)(const char *name, size_t len, void *arg);

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t err_len, int code,
                                                      const char *fmt, ...)
{
	char ssl[SIP_TLS_ERR_MAX];
	sip_tls_errors(ssl, sizeof(ssl));
	if (!err || err_len == 0)
		return code;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < err_len && ssl[0])
		snprintf(err + n, err_len - (size_t)n, " (%s)", ssl);
	return code;
}

/* OpenSSL reports a missing file as a chain of library errors; opening it
 * first gives the plain "edge.pem: No such file or directory" and errno. */
static int file_check(const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno ? errno : EIO;
		return fail(err, err_len, e, "%s: %s", path, strerror(e));
	}
	fclose(f);
	return 0;
}

static int ctx_new(SSL_CTX **ctxp, const SSL_METHOD *method, char *err, size_t err_len)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	if (!ctx)
		return fail(err, err_len, ENOMEM, "cannot create a TLS context");
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		SSL_CTX_free(ctx);
		return fail(err, err_len, EINVAL, "cannot set TLS 1.2 as the minimum");
	}
	/* No renegotiation: nothing in SIP needs it and it is an attack surface
	 * (CVE-2009-3555, renegotiation floods). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	/* libevent 2.1 + OpenSSL 3: an abrupt close is EOF, not BEV_EVENT_ERROR. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	*ctxp = ctx;
	return 0;
}

/* Never prompt on a terminal for a passphrase (OpenSSL's default callback
 * does): a daemon reloading on SIGHUP would hang. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

static int key_read(EVP_PKEY **keyp, const char *key_file, char *err, size_t err_len)
{
	BIO *bio = BIO_new_file(key_file, "r");
	if (!bio)
		return fail(err, err_len, EINVAL, "%s: cannot open", key_file);
	*keyp = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!*keyp)
		return fail(err, err_len, EINVAL, "%s: not an unencrypted PEM private key",
		            key_file);
	return 0;
}

/* The certificate chain, then a key that must belong to its leaf. */
static int ctx_identity(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
                        size_t err_len)
{
	EVP_PKEY *key = NULL;
	int e = file_check(cert_file, err, err_len);
	if (!e)
		e = file_check(key_file, err, err_len);
	if (e)
		return e;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
		return fail(err, err_len, EINVAL, "%s: not a PEM certificate chain", cert_file);
	e = key_read(&key, key_file, err, err_len);
	if (e)
		return e;
	/* use_PrivateKey already refuses a key of the leaf's type that is not
	 * its own; check_private_key catches one of another type, which would
	 * otherwise sit in an empty slot and fail only at the first handshake. */
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		e = fail(err, err_len, EINVAL, "%s does not match %s", key_file, cert_file);
	EVP_PKEY_free(key);
	return e;
}

static int ctx_trust(SSL_CTX *ctx, const char *ca_file, char *err, size_t err_len)
{
	int e = file_check(ca_file, err, err_len);
	if (e)
		return e;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
		return fail(err, err_len, EINVAL, "%s: no PEM CA certificate in it", ca_file);
	return 0;
}

/* 5061: ask for a certificate (naming our CAs in the request, so that a
 * partner with several picks the right one) and fail the handshake without
 * one. The chain is checked against the trust store of ctx_trust. */
static int ctx_require_client(SSL_CTX *ctx, const char *ca_file, char *err, size_t err_len)
{
	STACK_OF(X509_NAME) *cas = SSL_load_client_CA_file(ca_file);
	if (!cas)
		return fail(err, err_len, EINVAL, "%s: no CA names for the certificate request",
		            ca_file);
	SSL_CTX_set_client_CA_list(ctx, cas); /* takes ownership */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

int sip_tls_server_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file,
                       const char *ca_file, char *err, size_t err_len)
{
	if (!ctxp || !cert_file || !key_file)
		return fail(err, err_len, EINVAL, "a TLS server needs a certificate and a key");
	SSL_CTX *ctx = NULL;
	int e = ctx_new(&ctx, TLS_server_method(), err, err_len);
	if (e)
		return e;
	e = ctx_identity(ctx, cert_file, key_file, err, err_len);
	if (!e && ca_file) {
		e = ctx_trust(ctx, ca_file, err, err_len);
		if (!e)
			e = ctx_require_client(ctx, ca_file, err, err_len);
	}
	if (e)
		goto out;
	const unsigned char *sid = ca_file ? sid_mtls : sid_tls;
	size_t sid_len = ca_file ? sizeof(sid_mtls) - 1 : sizeof(sid_tls) - 1;
	if (SSL_CTX_set_session_id_context(ctx, sid, (unsigned)sid_len) != 1) {
		e = fail(err, err_len, EINVAL, "cannot set the session id context");
		goto out;
	}
	ERR_clear_error(); /* PEM readers may leave end-of-file entries behind */
	*ctxp = ctx;
	ctx = NULL;
out:
	SSL_CTX_free(ctx);
	return e;
}

int sip_tls_client_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file,
                       const char *ca_file, char *err, size_t err_len)
{
	if (!ctxp || !ca_file || !cert_file != !key_file)
		return fail(err, err_len, EINVAL,
		            "a TLS client needs a CA file, and a key with its certificate");
	SSL_CTX *ctx = NULL;
	int e = ctx_new(&ctx, TLS_client_method(), err, err_len);
	if (e)
		return e;
	if (cert_file)
		e = ctx_identity(ctx, cert_file, key_file, err, err_len);
	if (!e)
		e = ctx_trust(ctx, ca_file, err, err_len);
	if (e)
		goto out;
	/* Verify the chain even on a connection that never calls
	 * sip_tls_client_expect; that adds the name check. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ERR_clear_error();
	*ctxp = ctx;
	ctx = NULL;
out:
	SSL_CTX_free(ctx);
	return e;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int sip_tls_client_expect(SSL *ssl, const char *host)
{
	if (!ssl || !host || !*host || strlen(host) > SIP_TLS_NAME_MAX)
		return EINVAL;
	/* RFC 6066 3: SNI carries host names only, never an address literal;
	 * SSL_set1_host checks an address against the iPAddress SANs itself. */
	if (!is_ip_literal(host) && SSL_set_tlsext_host_name(ssl, host) != 1)
		goto fail;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, host) != 1)
		goto fail;
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return 0;
fail:
	ERR_clear_error();
	return EINVAL;
}

/* A name from a certificate is used only if it could be a DNS name at all:
 * at most 253 bytes and no embedded NUL ("partner.example\0.evil.example"
 * must not read as "partner.example" to anyone). */
static int name_visit(const unsigned char *data, int len, name_h *fn, void *arg)
{
	if (!data || len <= 0 || len > SIP_TLS_NAME_MAX || memchr(data, 0, (size_t)len))
		return 0;
	return fn((const char *)data, (size_t)len, arg);
}

/* DNS SANs; sets *any when the certificate has at least one, valid or not
 * (RFC 6125 6.4.4: then the CN is not a name of the peer). */
static int san_walk(X509 *cert, bool *any, name_h *fn, void *arg)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int stop = 0;
	*any = false;
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !stop; i++) {
		const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);
		if (gen->type != GEN_DNS)
			continue;
		*any = true;
		const ASN1_IA5STRING *s = gen->d.dNSName;
		stop = name_visit(ASN1_STRING_get0_data(s), ASN1_STRING_length(s), fn, arg);
	}
	GENERAL_NAMES_free(gens);
	return stop;
}

/* Every subject CN, converted to UTF-8 (it may be a BMPString or other). */
static int cn_walk(X509 *cert, name_h *fn, void *arg)
{
	const X509_NAME *subject = X509_get_subject_name(cert);
	int stop = 0;
	int i = -1;
	while (!stop && (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0) {
		const X509_NAME_ENTRY *ent = X509_NAME_get_entry(subject, i);
		unsigned char *utf8 = NULL;
		int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ent));
		if (len >= 0)
			stop = name_visit(utf8, len, fn, arg);
		OPENSSL_free(utf8);
	}
	return stop;
}

static int names_walk(X509 *cert, name_h *fn, void *arg)
{
	bool any_san = false;
	int stop = san_walk(cert, &any_san, fn, arg);
	if (stop || any_san)
		return stop;
	return cn_walk(cert, fn, arg);
}

struct match_ctx {
	const char *const *names;
	size_t n;
	const char *found;
};

static int match_name_h(const char *name, size_t len, void *arg)
{
	struct match_ctx *m = arg;
	for (size_t i = 0; i < m->n; i++) {
		const char *want = m->names[i];
		if (want && strlen(want) == len && strncasecmp(want, name, len) == 0) {
			m->found = want;
			return 1;
		}
	}
	return 0;
}

int sip_tls_peer_match(SSL *ssl, const char *const *names, size_t n, char *matched,
                       size_t matched_len)
{
	if (!ssl || (!names && n > 0))
		return EINVAL;
	if (matched && matched_len > 0)
		matched[0] = '\0';
	/* Without a verified chain a name means nothing: anyone can put any
	 * name into a self-signed certificate. */
	X509 *cert = SSL_get0_peer_certificate(ssl); /* not a reference: no free */
	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		return ENOENT;
	struct match_ctx m = {.names = names, .n = n};
	if (!names_walk(cert, match_name_h, &m))
		return EACCES;
	if (matched && matched_len > 0)
		snprintf(matched, matched_len, "%s", m.found);
	return 0;
}

struct list_ctx {
	char *out;
	size_t cap;
	size_t len;
};

/* Appends ", name"; bytes that are not printable ASCII become '?' so that a
 * hostile certificate cannot forge log lines. Stops when out is full. */
static int list_name_h(const char *name, size_t len, void *arg)
{
	struct list_ctx *l = arg;
	const char *sep = l->len ? ", " : "";
	size_t need = strlen(sep) + len;
	if (l->len + need >= l->cap)
		return 1;
	memcpy(l->out + l->len, sep, strlen(sep));
	l->len += strlen(sep);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		l->out[l->len++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	l->out[l->len] = '\0';
	return 0;
}

void sip_tls_peer_names(SSL *ssl, char *out, size_t cap)
{
	if (!out || cap == 0)
		return;
	out[0] = '\0';
	if (!ssl)
		return;
	X509 *cert = SSL_get0_peer_certificate(ssl); /* not a reference: no free */
	/* A client keeps the server's chain, leaf first, even when the leaf
	 * failed verification and was never made the peer certificate. */
	STACK_OF(X509) *chain = cert || SSL_is_server(ssl) ? NULL : SSL_get_peer_cert_chain(ssl);
	if (chain && sk_X509_num(chain) > 0)
		cert = sk_X509_value(chain, 0);
	if (!cert)
		return;
	struct list_ctx l = {.out = out, .cap = cap};
	names_walk(cert, list_name_h, &l);
}

bool sip_tls_verify_why(SSL *ssl, char *out, size_t cap)
{
	char names[256];
	if (!out || cap == 0)
		return false;
	out[0] = '\0';
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (vr == X509_V_OK)
		return false;
	if (vr != X509_V_ERR_HOSTNAME_MISMATCH) {
		snprintf(out, cap, "%s", X509_verify_cert_error_string(vr));
		return false;
	}
	const char *want = X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0);
	sip_tls_peer_names(ssl, names, sizeof(names));
	snprintf(out, cap, "certificate names %s; expected %s", names[0] ? names : "nothing",
	         want ? want : "another name");
	return true;
}

/* "reason (detail)": OpenSSL 3 puts the useful part of many errors, such as
 * the verify error behind "certificate verify failed", in the data. */
static int error_format(char *buf, size_t cap, unsigned long code, const char *data, int flags)
{
	const char *reason = ERR_reason_error_string(code);
	char generic[128];
	if (!reason) {
		ERR_error_string_n(code, generic, sizeof(generic));
		reason = generic;
	}
	if (data && *data && (flags & ERR_TXT_STRING))
		return snprintf(buf, cap, "%s (%s)", reason, data);
	return snprintf(buf, cap, "%s", reason);
}

/* snprintf's result clamped to what was written (len < cap stays true). */
static size_t advance(size_t len, int n, size_t cap)
{
	if (n <= 0)
		return len;
	return (size_t)n < cap - len ? len + (size_t)n : cap - 1;
}

int sip_tls_wait(SSL *ssl, int r, int timeout_ms)
{
	int e = SSL_get_error(ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return EPROTO;
	struct pollfd p = {.fd = SSL_get_fd(ssl),
	                   .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
	int n = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : errno;
	return n > 0 ? 0 : ETIMEDOUT;
}

const char *sip_tls_errors(char *out, size_t cap)
{
	size_t len = 0;
	const char *data;
	int flags;
	unsigned long code;

	if (!out || cap == 0) {
		ERR_clear_error();
		return "";
	}
	out[0] = '\0';
	/* The whole queue is drained even when out is full. */
	while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (len > 0)
			len = advance(len, snprintf(out + len, cap - len, "; "), cap);
		len = advance(len, error_format(out + len, cap - len, code, data, flags), cap);
	}
	return out;
}
