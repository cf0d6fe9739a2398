/* Unit tests for sipfront/tls: contexts from PEM files that pki makes in a
 * temporary directory, and real handshakes between two SSL objects joined by
 * a BIO pair (no sockets, no event loop). EC keys: microseconds each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "sipfront/tls.h"

#define HANDSHAKE_ROUNDS 64 /* a full TLS 1.3 handshake takes three or four */

/* Every file the fixture may write, so that teardown can remove them all. */
static const char *const files[] = {
    "ca.pem",      "edge.pem",    "edge.key",    "partner.pem", "partner.key",
    "cnonly.pem",  "cnonly.key",  "sancn.pem",   "sancn.key",   "foreign.pem",
    "foreign.key", "expired.pem", "expired.key",
};

struct fixture {
	char dir[64];
	struct pki_ca *ca;        /* kept to sign hand-made certificates */
	struct pki_cert *partner; /* its key signs them */
};

enum hs_result {
	HS_OK,
	HS_CLIENT_FAILED,
	HS_SERVER_FAILED,
};

static const char *path(const struct fixture *f, const char *name)
{
	static char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/%s", f->dir, name);
	return buf;
}

/* Two paths at once (path() has one buffer). */
static char *path_dup(const struct fixture *f, const char *name)
{
	char *p = strdup(path(f, name));
	assert_non_null(p);
	return p;
}

static void issue(struct fixture *f, const struct pki_ca *ca, const char *base,
                  const struct pki_leaf_spec *spec, const struct pki_validity *v)
{
	struct pki_cert *cert = NULL;
	struct pki_err err = {{0}};
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	snprintf(cert_path, sizeof(cert_path), "%s/%s.pem", f->dir, base);
	snprintf(key_path, sizeof(key_path), "%s/%s.key", f->dir, base);
	struct pki_paths paths = {.cert = cert_path, .key = key_path};
	int rc = pki_leaf_issue(&cert, ca, spec, v, &err);
	if (rc == 0)
		rc = pki_cert_write(cert, &paths, false, &err);
	if (rc != 0)
		fail_msg("%s: %s", base, err.msg);
	if (strcmp(base, "partner") == 0)
		f->partner = cert;
	else
		pki_cert_free(cert);
}

static void issue_all(struct fixture *f, const struct pki_ca *other)
{
	struct pki_validity v = {.now = time(NULL), .days = 30};
	/* Ten days ago for one day: expired nine days ago (the CA's own
	 * validity starting later does not matter to a verifier). */
	struct pki_validity past = {.now = time(NULL) - 10 * 86400, .days = 1};
	unsigned both = PKI_EKU_SERVER | PKI_EKU_CLIENT;
	struct pki_leaf_spec edge = {.cn = "sip.edge.example",
	                             .dns = {"sip.edge.example", "edge.example"},
	                             .dnsc = 2,
	                             .eku = both,
	                             .kt = PKI_KEY_EC};
	struct pki_leaf_spec partner = {.cn = "sip.partner.example",
	                                .dns = {"sip.partner.example", "partner.example"},
	                                .dnsc = 2,
	                                .eku = both,
	                                .kt = PKI_KEY_EC};
	struct pki_leaf_spec cnonly = {.cn = "cn.partner.example", .eku = both, .kt = PKI_KEY_EC};
	/* The CN is the wanted name, the SAN another: the SAN wins. */
	struct pki_leaf_spec sancn = {.cn = "partner.example",
	                              .dns = {"decoy.example"},
	                              .dnsc = 1,
	                              .eku = both,
	                              .kt = PKI_KEY_EC};
	issue(f, f->ca, "edge", &edge, &v);
	issue(f, f->ca, "partner", &partner, &v);
	issue(f, f->ca, "cnonly", &cnonly, &v);
	issue(f, f->ca, "sancn", &sancn, &v);
	issue(f, other, "foreign", &partner, &v);
	issue(f, f->ca, "expired", &partner, &past);
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pki_ca *other = NULL;
	struct pki_err err = {{0}};
	struct pki_validity v = {.now = time(NULL), .days = 30};
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_sip_tls.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (pki_ca_create(&f->ca, "edgelab test CA", PKI_KEY_EC, &v, &err) != 0 ||
	    pki_ca_create(&other, "another CA", PKI_KEY_EC, &v, &err) != 0)
		fail_msg("CA: %s", err.msg);
	struct pki_paths ca_paths = {.cert = path(f, "ca.pem")};
	if (pki_cert_write(pki_ca_cert(f->ca), &ca_paths, false, &err) != 0)
		fail_msg("ca.pem: %s", err.msg);
	issue_all(f, other);
	pki_ca_free(other);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(path(f, files[i]));
	rmdir(f->dir);
	pki_cert_free(f->partner);
	pki_ca_free(f->ca);
	free(f);
	return 0;
}

static SSL_CTX *server_ctx(const struct fixture *f, const char *base, bool mutual)
{
	SSL_CTX *ctx = NULL;
	char err[SIP_TLS_ERR_MAX];
	char cert[PATH_MAX], key[PATH_MAX];
	snprintf(cert, sizeof(cert), "%s/%s.pem", f->dir, base);
	snprintf(key, sizeof(key), "%s/%s.key", f->dir, base);
	int rc = sip_tls_server_ctx(&ctx, cert, key, mutual ? path(f, "ca.pem") : NULL, err,
	                            sizeof(err));
	if (rc != 0)
		fail_msg("server %s: %s", base, err);
	return ctx;
}

/* base NULL: a client without a certificate. */
static SSL_CTX *client_ctx(const struct fixture *f, const char *base)
{
	SSL_CTX *ctx = NULL;
	char err[SIP_TLS_ERR_MAX];
	char cert[PATH_MAX], key[PATH_MAX];
	snprintf(cert, sizeof(cert), "%s/%s.pem", f->dir, base ? base : "");
	snprintf(key, sizeof(key), "%s/%s.key", f->dir, base ? base : "");
	int rc = sip_tls_client_ctx(&ctx, base ? cert : NULL, base ? key : NULL, path(f, "ca.pem"),
	                            err, sizeof(err));
	if (rc != 0)
		fail_msg("client %s: %s", base ? base : "(none)", err);
	return ctx;
}

static bool step(SSL *ssl, bool *done)
{
	if (*done)
		return true;
	int rc = SSL_do_handshake(ssl);
	if (rc == 1) {
		*done = true;
		return true;
	}
	int e = SSL_get_error(ssl, rc);
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Pumps both sides in turn until both are done or one fails. The error
 * queue is drained either way so that no test sees another's errors. */
static enum hs_result pump(SSL *server, SSL *client)
{
	bool sdone = false, cdone = false;
	enum hs_result r = HS_OK;
	char err[SIP_TLS_ERR_MAX];
	for (int i = 0; i < HANDSHAKE_ROUNDS && !(sdone && cdone); i++) {
		if (!step(client, &cdone)) {
			r = HS_CLIENT_FAILED;
			break;
		}
		if (!step(server, &sdone)) {
			r = HS_SERVER_FAILED;
			break;
		}
	}
	if (r == HS_OK && !(sdone && cdone))
		fail_msg("handshake did not finish in %d rounds", HANDSHAKE_ROUNDS);
	sip_tls_errors(err, sizeof(err));
	if (r != HS_OK)
		print_message("handshake failed (%s side): %s\n",
		              r == HS_CLIENT_FAILED ? "client" : "server", err);
	return r;
}

/* A connected pair; expect (may be NULL) goes to sip_tls_client_expect. */
static void pair_new(SSL_CTX *sctx, SSL_CTX *cctx, const char *expect, SSL **sp, SSL **cp)
{
	BIO *sbio = NULL, *cbio = NULL;
	*sp = SSL_new(sctx);
	*cp = SSL_new(cctx);
	assert_non_null(*sp);
	assert_non_null(*cp);
	assert_int_equal(BIO_new_bio_pair(&sbio, 0, &cbio, 0), 1);
	SSL_set_bio(*sp, sbio, sbio);
	SSL_set_bio(*cp, cbio, cbio);
	SSL_set_accept_state(*sp);
	SSL_set_connect_state(*cp);
	if (expect)
		assert_int_equal(sip_tls_client_expect(*cp, expect), 0);
}

struct conn {
	SSL_CTX *sctx, *cctx;
	SSL *server, *client;
	enum hs_result result;
};

static void conn_run(struct conn *c, SSL_CTX *sctx, SSL_CTX *cctx, const char *expect)
{
	c->sctx = sctx;
	c->cctx = cctx;
	pair_new(sctx, cctx, expect, &c->server, &c->client);
	c->result = pump(c->server, c->client);
}

static void conn_free(struct conn *c)
{
	SSL_free(c->server);
	SSL_free(c->client);
	SSL_CTX_free(c->sctx);
	SSL_CTX_free(c->cctx);
}

static void test_sip_tls_server_only_accepts_client_without_cert(void **state)
{
	const struct fixture *f = *state;
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", false), client_ctx(f, NULL), NULL);
	assert_int_equal(c.result, HS_OK);
	assert_int_equal(SSL_version(c.server) >= TLS1_2_VERSION, 1);
	/* Nothing to match: the server did not ask for a certificate. */
	assert_int_equal(sip_tls_peer_match(c.server, NULL, 0, NULL, 0), ENOENT);
	conn_free(&c);
}

static void test_sip_tls_mutual_refuses_client_without_cert(void **state)
{
	const struct fixture *f = *state;
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, NULL), NULL);
	assert_int_equal(c.result, HS_SERVER_FAILED);
	conn_free(&c);
}

static void test_sip_tls_mutual_accepts_partner(void **state)
{
	const struct fixture *f = *state;
	const char *partners[] = {"partner.example"};
	const char *others[] = {"other.example"};
	const char *upper[] = {NULL, "other.example", "SIP.Partner.EXAMPLE"};
	char matched[SIP_TLS_NAME_MAX + 1];
	char names[128];
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, "partner"), NULL);
	assert_int_equal(c.result, HS_OK);
	assert_int_equal(sip_tls_peer_match(c.server, partners, 1, matched, sizeof(matched)), 0);
	assert_string_equal(matched, "partner.example");
	assert_int_equal(sip_tls_peer_match(c.server, others, 1, matched, sizeof(matched)), EACCES);
	assert_string_equal(matched, "");
	assert_int_equal(sip_tls_peer_match(c.server, upper, 3, matched, sizeof(matched)), 0);
	assert_string_equal(matched, "SIP.Partner.EXAMPLE"); /* as configured */
	sip_tls_peer_names(c.server, names, sizeof(names));
	assert_string_equal(names, "sip.partner.example, partner.example");
	conn_free(&c);
}

static void test_sip_tls_mutual_refuses_other_ca(void **state)
{
	const struct fixture *f = *state;
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, "foreign"), NULL);
	assert_int_equal(c.result, HS_SERVER_FAILED);
	assert_int_equal(SSL_get_verify_result(c.server),
	                 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	conn_free(&c);
}

static void test_sip_tls_mutual_refuses_expired(void **state)
{
	const struct fixture *f = *state;
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, "expired"), NULL);
	assert_int_equal(c.result, HS_SERVER_FAILED);
	assert_int_equal(SSL_get_verify_result(c.server), X509_V_ERR_CERT_HAS_EXPIRED);
	conn_free(&c);
}

static void test_sip_tls_peer_match_cn_without_san(void **state)
{
	const struct fixture *f = *state;
	const char *partners[] = {"partner.example", "cn.partner.example"};
	char matched[SIP_TLS_NAME_MAX + 1];
	char names[128];
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, "cnonly"), NULL);
	assert_int_equal(c.result, HS_OK);
	assert_int_equal(sip_tls_peer_match(c.server, partners, 2, matched, sizeof(matched)), 0);
	assert_string_equal(matched, "cn.partner.example");
	sip_tls_peer_names(c.server, names, sizeof(names));
	assert_string_equal(names, "cn.partner.example");
	conn_free(&c);
}

static void test_sip_tls_peer_match_ignores_cn_with_san(void **state)
{
	const struct fixture *f = *state;
	const char *partners[] = {"partner.example"};
	const char *decoy[] = {"decoy.example"};
	char names[128];
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, "sancn"), NULL);
	assert_int_equal(c.result, HS_OK);
	assert_int_equal(sip_tls_peer_match(c.server, partners, 1, NULL, 0), EACCES);
	assert_int_equal(sip_tls_peer_match(c.server, decoy, 1, NULL, 0), 0);
	sip_tls_peer_names(c.server, names, sizeof(names));
	assert_string_equal(names, "decoy.example");
	conn_free(&c);
}

static void test_sip_tls_client_expect_right_host(void **state)
{
	const struct fixture *f = *state;
	const char *edge[] = {"edge.example"};
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, "partner"), "sip.edge.example");
	assert_int_equal(c.result, HS_OK);
	assert_string_equal(SSL_get_servername(c.server, TLSEXT_NAMETYPE_host_name),
	                    "sip.edge.example");
	assert_int_equal(sip_tls_peer_match(c.client, edge, 1, NULL, 0), 0);
	conn_free(&c);
}

static void test_sip_tls_client_expect_wrong_host(void **state)
{
	const struct fixture *f = *state;
	struct conn c;
	char why[256];
	conn_run(&c, server_ctx(f, "edge", false), client_ctx(f, NULL), "wrong.example");
	assert_int_equal(c.result, HS_CLIENT_FAILED);
	assert_int_equal(SSL_get_verify_result(c.client), X509_V_ERR_HOSTNAME_MISMATCH);
	/* The refused certificate's names are still told, with the one wanted. */
	assert_true(sip_tls_verify_why(c.client, why, sizeof(why)));
	assert_string_equal(why, "certificate names sip.edge.example, edge.example; "
	                         "expected wrong.example");
	conn_free(&c);
}

static void test_sip_tls_client_refuses_server_from_other_ca(void **state)
{
	const struct fixture *f = *state;
	struct conn c;
	/* No expect: the context alone must verify the chain. */
	char why[256];
	conn_run(&c, server_ctx(f, "foreign", false), client_ctx(f, NULL), NULL);
	assert_int_equal(c.result, HS_CLIENT_FAILED);
	assert_int_equal(SSL_get_verify_result(c.client),
	                 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	assert_false(sip_tls_verify_why(c.client, why, sizeof(why)));
	assert_string_equal(why, "unable to get local issuer certificate");
	conn_free(&c);
}

static void test_sip_tls_client_expect_bad_host(void **state)
{
	const struct fixture *f = *state;
	char long_name[SIP_TLS_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	SSL_CTX *ctx = client_ctx(f, NULL);
	SSL *ssl = SSL_new(ctx);
	assert_non_null(ssl);
	assert_int_equal(sip_tls_client_expect(NULL, "a.example"), EINVAL);
	assert_int_equal(sip_tls_client_expect(ssl, NULL), EINVAL);
	assert_int_equal(sip_tls_client_expect(ssl, ""), EINVAL);
	assert_int_equal(sip_tls_client_expect(ssl, long_name), EINVAL);
	assert_int_equal(sip_tls_client_expect(ssl, "192.0.2.1"), 0);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)); /* no SNI */
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* The server must refuse a client that offers TLS 1.1 at most. The client
 * is a bare context at security level 0, where OpenSSL 3 still speaks 1.1,
 * so that the refusal comes from the server's minimum. */
static void test_sip_tls_refuses_tls11(void **state)
{
	const struct fixture *f = *state;
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(cctx);
	SSL_CTX_set_security_level(cctx, 0);
	assert_int_equal(SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION), 1);
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", false), cctx, NULL);
	assert_int_not_equal(c.result, HS_OK);
	conn_free(&c);
}

/* A certificate from our CA whose SANs are a name with an embedded NUL and
 * one of 300 bytes: neither may match, and the CN may not stand in. Made by
 * hand because pki (rightly) refuses such names. */
static X509 *hostile_cert(const struct fixture *f)
{
	static const char nul_name[] = "partner.example\0.evil.example";
	char long_name[301];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	X509 *x = X509_dup(pki_cert_x509(f->partner));
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	assert_non_null(x);
	assert_non_null(gens);
	const char *values[] = {nul_name, long_name, "ok.partner.example"};
	int lens[] = {(int)sizeof(nul_name) - 1, (int)strlen(long_name), -1};
	for (int i = 0; i < 3; i++) {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		GENERAL_NAME *gen = GENERAL_NAME_new();
		assert_true(s && gen && ASN1_STRING_set(s, values[i], lens[i]));
		GENERAL_NAME_set0_value(gen, GEN_DNS, s);
		assert_true(sk_GENERAL_NAME_push(gens, gen) > 0);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE),
	                 1);
	GENERAL_NAMES_free(gens);
	const struct pki_cert *ca = pki_ca_cert(f->ca);
	assert_true(X509_sign(x, pki_cert_key(ca), EVP_sha256()) > 0);
	return x;
}

static void test_sip_tls_peer_match_ignores_bad_names(void **state)
{
	const struct fixture *f = *state;
	const char *partners[] = {"partner.example", "sip.partner.example"};
	const char *ok[] = {"ok.partner.example"};
	char names[512];
	struct conn c;
	SSL_CTX *cctx = client_ctx(f, NULL);
	X509 *x = hostile_cert(f);
	assert_int_equal(SSL_CTX_use_certificate(cctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(cctx, pki_cert_key(f->partner)), 1);
	X509_free(x);
	conn_run(&c, server_ctx(f, "edge", true), cctx, NULL);
	assert_int_equal(c.result, HS_OK);
	assert_int_equal(sip_tls_peer_match(c.server, partners, 2, NULL, 0), EACCES);
	assert_int_equal(sip_tls_peer_match(c.server, ok, 1, NULL, 0), 0);
	sip_tls_peer_names(c.server, names, sizeof(names));
	assert_string_equal(names, "ok.partner.example");
	conn_free(&c);
}

static void test_sip_tls_peer_match_without_handshake(void **state)
{
	const struct fixture *f = *state;
	const char *partners[] = {"partner.example"};
	char names[16] = "x";
	SSL_CTX *ctx = client_ctx(f, NULL);
	SSL *ssl = SSL_new(ctx);
	assert_non_null(ssl);
	assert_int_equal(sip_tls_peer_match(NULL, partners, 1, NULL, 0), EINVAL);
	assert_int_equal(sip_tls_peer_match(ssl, NULL, 1, NULL, 0), EINVAL);
	assert_int_equal(sip_tls_peer_match(ssl, partners, 1, NULL, 0), ENOENT);
	sip_tls_peer_names(ssl, names, sizeof(names));
	assert_string_equal(names, "");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

static void test_sip_tls_peer_names_truncates(void **state)
{
	const struct fixture *f = *state;
	char names[24];
	struct conn c;
	conn_run(&c, server_ctx(f, "edge", true), client_ctx(f, "partner"), NULL);
	assert_int_equal(c.result, HS_OK);
	sip_tls_peer_names(c.server, names, sizeof(names));
	assert_string_equal(names, "sip.partner.example"); /* the second does not fit */
	conn_free(&c);
}

static void expect_server_error(const struct fixture *f, const char *cert, const char *key,
                                const char *ca, int code, const char *msg)
{
	SSL_CTX *ctx = NULL;
	char err[SIP_TLS_ERR_MAX] = "";
	char *c = path_dup(f, cert), *k = path_dup(f, key), *a = ca ? path_dup(f, ca) : NULL;
	assert_int_equal(sip_tls_server_ctx(&ctx, c, k, a, err, sizeof(err)), code);
	assert_null(ctx);
	char want[PATH_MAX + SIP_TLS_ERR_MAX];
	snprintf(want, sizeof(want), "%s/%s", f->dir, msg);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s', wanted it to start with '%s'", err, want);
	assert_int_equal(ERR_peek_error(), 0); /* the queue was drained */
	free(c);
	free(k);
	free(a);
}

static void test_sip_tls_ctx_file_errors(void **state)
{
	const struct fixture *f = *state;
	expect_server_error(f, "missing.pem", "edge.key", NULL, ENOENT,
	                    "missing.pem: No such file or directory");
	expect_server_error(f, "edge.pem", "missing.key", NULL, ENOENT,
	                    "missing.key: No such file or directory");
	expect_server_error(f, "edge.pem", "edge.key", "missing-ca.pem", ENOENT,
	                    "missing-ca.pem: No such file or directory");
	expect_server_error(f, "edge.key", "edge.key", NULL, EINVAL,
	                    "edge.key: not a PEM certificate chain");
	expect_server_error(f, "edge.pem", "edge.pem", NULL, EINVAL,
	                    "edge.pem: not an unencrypted PEM private key");
	expect_server_error(f, "edge.pem", "edge.key", "edge.key", EINVAL,
	                    "edge.key: no PEM CA certificate in it");
}

static void test_sip_tls_ctx_key_mismatch(void **state)
{
	const struct fixture *f = *state;
	SSL_CTX *ctx = NULL;
	char err[SIP_TLS_ERR_MAX];
	char *c = path_dup(f, "edge.pem"), *k = path_dup(f, "partner.key");
	char want[2 * PATH_MAX];
	snprintf(want, sizeof(want), "%s does not match %s", k, c);
	assert_int_equal(sip_tls_server_ctx(&ctx, c, k, NULL, err, sizeof(err)), EINVAL);
	assert_null(ctx);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_int_equal(sip_tls_client_ctx(&ctx, c, k, path(f, "ca.pem"), err, sizeof(err)),
	                 EINVAL);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	free(c);
	free(k);
}

static void test_sip_tls_ctx_bad_arguments(void **state)
{
	const struct fixture *f = *state;
	SSL_CTX *ctx = NULL;
	char err[SIP_TLS_ERR_MAX];
	char *c = path_dup(f, "edge.pem");
	assert_int_equal(sip_tls_server_ctx(&ctx, c, NULL, NULL, err, sizeof(err)), EINVAL);
	assert_int_equal(sip_tls_server_ctx(NULL, c, c, NULL, NULL, 0), EINVAL);
	assert_int_equal(sip_tls_client_ctx(&ctx, NULL, NULL, NULL, err, sizeof(err)), EINVAL);
	assert_int_equal(sip_tls_client_ctx(&ctx, c, NULL, path(f, "ca.pem"), err, sizeof(err)),
	                 EINVAL);
	assert_null(ctx);
	free(c);
}

static void test_sip_tls_errors_drains_queue(void **state)
{
	(void)state;
	char out[SIP_TLS_ERR_MAX];
	char small[8];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(ctx);
	assert_int_not_equal(SSL_CTX_use_certificate_file(ctx, "/nonexistent", SSL_FILETYPE_PEM),
	                     1);
	assert_ptr_equal(sip_tls_errors(out, sizeof(out)), out);
	assert_non_null(strstr(out, "/nonexistent"));
	assert_int_equal(ERR_peek_error(), 0);
	assert_string_equal(sip_tls_errors(out, sizeof(out)), "");
	assert_int_not_equal(SSL_CTX_use_certificate_file(ctx, "/nonexistent", SSL_FILETYPE_PEM),
	                     1);
	sip_tls_errors(small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1); /* cut, terminated */
	assert_int_equal(ERR_peek_error(), 0);
	assert_string_equal(sip_tls_errors(NULL, 0), "");
	SSL_CTX_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sip_tls_server_only_accepts_client_without_cert),
	    cmocka_unit_test(test_sip_tls_mutual_refuses_client_without_cert),
	    cmocka_unit_test(test_sip_tls_mutual_accepts_partner),
	    cmocka_unit_test(test_sip_tls_mutual_refuses_other_ca),
	    cmocka_unit_test(test_sip_tls_mutual_refuses_expired),
	    cmocka_unit_test(test_sip_tls_peer_match_cn_without_san),
	    cmocka_unit_test(test_sip_tls_peer_match_ignores_cn_with_san),
	    cmocka_unit_test(test_sip_tls_peer_match_ignores_bad_names),
	    cmocka_unit_test(test_sip_tls_peer_match_without_handshake),
	    cmocka_unit_test(test_sip_tls_peer_names_truncates),
	    cmocka_unit_test(test_sip_tls_client_expect_right_host),
	    cmocka_unit_test(test_sip_tls_client_expect_wrong_host),
	    cmocka_unit_test(test_sip_tls_client_expect_bad_host),
	    cmocka_unit_test(test_sip_tls_client_refuses_server_from_other_ca),
	    cmocka_unit_test(test_sip_tls_refuses_tls11),
	    cmocka_unit_test(test_sip_tls_ctx_file_errors),
	    cmocka_unit_test(test_sip_tls_ctx_key_mismatch),
	    cmocka_unit_test(test_sip_tls_ctx_bad_arguments),
	    cmocka_unit_test(test_sip_tls_errors_drains_queue),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
