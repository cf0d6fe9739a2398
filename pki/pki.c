/* pki: keys, the CA and leaf certificates (X.509 v3, SHA-256). */
#include "pki/pki_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define SERIAL_BYTES 16 /* 128 random bits: unique without a serial file */
#define RSA_BITS     2048
#define EC_CURVE     "P-256"
#define SKEW_SECONDS (-3600) /* notBefore: lab hosts' clocks may lag an hour */

static void err_vformat(struct pki_err *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int pki_err_set(struct pki_err *err, int code, const char *fmt, ...)
{
	ERR_clear_error();
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err_vformat(err, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Appends "ssl: <reason>" for every queued error, as many as fit. */
static void err_append_queue(struct pki_err *err)
{
	unsigned long e;
	while ((e = ERR_get_error()) != 0) {
		size_t len = strlen(err->msg);
		if (len + 8 >= sizeof(err->msg))
			continue; /* keep draining: the queue must be empty afterwards */
		char one[256];
		ERR_error_string_n(e, one, sizeof(one));
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", one);
	}
}

int pki_err_ssl(struct pki_err *err, int code, const char *fmt, ...)
{
	if (!err) {
		ERR_clear_error();
		return code;
	}
	va_list ap;
	va_start(ap, fmt);
	err_vformat(err, fmt, ap);
	va_end(ap);
	err_append_queue(err);
	return code;
}

int pki_key_type_parse(const char *s, enum pki_key_type *kt)
{
	if (!s || !kt)
		return EINVAL;
	if (strcmp(s, "rsa") == 0)
		*kt = PKI_KEY_RSA;
	else if (strcmp(s, "ec") == 0)
		*kt = PKI_KEY_EC;
	else
		return EINVAL;
	return 0;
}

const char *pki_key_type_name(enum pki_key_type kt)
{
	return kt == PKI_KEY_EC ? "ec" : "rsa";
}

static int key_generate(EVP_PKEY **keyp, enum pki_key_type kt, struct pki_err *err)
{
	EVP_PKEY *key;
	if (kt == PKI_KEY_EC)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", EC_CURVE);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
	if (!key)
		return pki_err_ssl(err, EIO, "cannot generate a%s key",
		                   kt == PKI_KEY_EC ? "n EC " EC_CURVE : "n RSA 2048");
	*keyp = key;
	return 0;
}

static int serial_set(X509 *x)
{
	unsigned char raw[SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int err = EIO;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		goto out;
	/* RFC 5280 4.1.2.2: positive and non-zero. BN is unsigned, so only zero
	 * (a 2^-128 chance) needs a guard. */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (!bn || (BN_is_zero(bn) && !BN_one(bn)))
		goto out;
	if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	err = 0;
out:
	BN_free(bn);
	return err;
}

/* Subject "O=<org>, CN=<cn>" (no O when org is NULL); a CN of 64 or fewer
 * characters (RFC 5280 ub-common-name) is the caller's to check. */
static int subject_set(X509 *x, const char *org, const char *cn)
{
	X509_NAME *name = X509_get_subject_name(x);
	if (org && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org,
	                                       -1, -1, 0))
		return EIO;
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                -1, 0))
		return EIO;
	return 0;
}

/* Everything but the extensions and the signature. issuer NULL: self-signed. */
static int cert_new(X509 **xp, EVP_PKEY *key, const char *org, const char *cn, X509 *issuer,
                    const struct pki_validity *v)
{
	X509 *x = X509_new();
	if (!x)
		return ENOMEM;
	int err = EIO;
	if (!X509_set_version(x, X509_VERSION_3) || serial_set(x) != 0)
		goto out;
	if (!ASN1_TIME_adj(X509_getm_notBefore(x), v->now, 0, SKEW_SECONDS) ||
	    !ASN1_TIME_adj(X509_getm_notAfter(x), v->now, v->days, 0))
		goto out;
	if (subject_set(x, org, cn) != 0 || !X509_set_pubkey(x, key))
		goto out;
	X509_NAME *iname = X509_get_subject_name(issuer ? issuer : x);
	if (!X509_set_issuer_name(x, iname))
		goto out;
	*xp = x;
	x = NULL;
	err = 0;
out:
	X509_free(x);
	return err;
}

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	if (!ext)
		return EIO;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : EIO;
}

static int validity_check(const struct pki_validity *v, struct pki_err *err)
{
	if (!v || v->days < 1 || v->days > PKI_DAYS_MAX)
		return pki_err_set(err, EINVAL, "validity must be 1..%d days", PKI_DAYS_MAX);
	return 0;
}

/* The subject key identifier goes first: the authority key identifier of a
 * self-signed certificate is read from it. */
static int ca_exts_add(X509 *x)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (ext_add(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    ext_add(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    ext_add(x, &ctx, NID_subject_key_identifier, "hash") ||
	    ext_add(x, &ctx, NID_authority_key_identifier, "keyid:always"))
		return EIO;
	return 0;
}

int pki_ca_create(struct pki_ca **cap, const char *cn, enum pki_key_type kt,
                  const struct pki_validity *v, struct pki_err *err)
{
	if (!cap || !cn || !*cn)
		return pki_err_set(err, EINVAL, "a CA needs a name");
	int e = validity_check(v, err);
	if (e)
		return e;
	struct pki_ca *ca = calloc(1, sizeof(*ca));
	if (!ca)
		return pki_err_set(err, ENOMEM, "out of memory");
	e = key_generate(&ca->cert.key, kt, err);
	if (e)
		goto out;
	e = cert_new(&ca->cert.x509, ca->cert.key, "edgelab", cn, NULL, v);
	if (e) {
		e = pki_err_ssl(err, e, "cannot build the CA certificate '%s'", cn);
		goto out;
	}
	if (ca_exts_add(ca->cert.x509) != 0 ||
	    X509_sign(ca->cert.x509, ca->cert.key, EVP_sha256()) <= 0) {
		e = pki_err_ssl(err, EIO, "cannot sign the CA certificate '%s'", cn);
		goto out;
	}
	*cap = ca;
	ca = NULL;
out:
	pki_ca_free(ca);
	return e;
}

static int gen_push(GENERAL_NAMES *gens, int type, const char *value)
{
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	if (!s || !gen || !ASN1_STRING_set(s, value, -1))
		goto fail;
	GENERAL_NAME_set0_value(gen, type, s);
	s = NULL;
	if (sk_GENERAL_NAME_push(gens, gen) <= 0)
		goto fail;
	return 0;
fail:
	ASN1_IA5STRING_free(s);
	GENERAL_NAME_free(gen);
	return ENOMEM;
}

/* Built from GENERAL_NAMEs rather than a "DNS:a,DNS:b" string, so that no
 * character in a name can be read as a separator. */
static int san_add(X509 *x, const struct pki_leaf_spec *spec)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int err = ENOMEM;
	if (!gens)
		return ENOMEM;
	for (size_t i = 0; i < spec->dnsc; i++) {
		if (gen_push(gens, GEN_DNS, spec->dns[i]) != 0)
			goto out;
	}
	if (spec->uri && gen_push(gens, GEN_URI, spec->uri) != 0)
		goto out;
	err =
	    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1 ? 0 : EIO;
out:
	GENERAL_NAMES_free(gens);
	return err;
}

static const char *eku_value(unsigned eku)
{
	if ((eku & PKI_EKU_SERVER) && (eku & PKI_EKU_CLIENT))
		return "serverAuth,clientAuth";
	if (eku & PKI_EKU_SERVER)
		return "serverAuth";
	if (eku & PKI_EKU_CLIENT)
		return "clientAuth";
	return NULL;
}

/* keyEncipherment only for RSA: an EC key cannot encrypt, and some TLS
 * stacks reject an ECDSA certificate that claims it can. */
static int leaf_exts_add(X509 *x, X509 *issuer, const struct pki_leaf_spec *spec)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	const char *ku = spec->kt == PKI_KEY_EC ? "critical,digitalSignature"
	                                        : "critical,digitalSignature,keyEncipherment";
	const char *eku = eku_value(spec->eku);
	if (ext_add(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    ext_add(x, &ctx, NID_key_usage, ku) ||
	    (eku && ext_add(x, &ctx, NID_ext_key_usage, eku)) ||
	    ext_add(x, &ctx, NID_subject_key_identifier, "hash") ||
	    ext_add(x, &ctx, NID_authority_key_identifier, "keyid:always"))
		return EIO;
	if (spec->dnsc > 0 || spec->uri)
		return san_add(x, spec);
	return 0;
}

static int leaf_spec_check(const struct pki_leaf_spec *spec, struct pki_err *err)
{
	if (!spec->cn || !*spec->cn || spec->dnsc > PKI_SAN_MAX)
		return pki_err_set(err, EINVAL, "a leaf needs a CN and at most %d DNS names",
		                   PKI_SAN_MAX);
	for (size_t i = 0; i < spec->dnsc; i++) {
		if (!spec->dns[i] || !pki_name_valid(spec->dns[i]))
			return pki_err_set(err, EINVAL, "invalid DNS name '%s'",
			                   spec->dns[i] ? spec->dns[i] : "(null)");
	}
	return 0;
}

int pki_leaf_issue(struct pki_cert **certp, const struct pki_ca *ca,
                   const struct pki_leaf_spec *spec, const struct pki_validity *v,
                   struct pki_err *err)
{
	if (!certp || !ca || !spec)
		return pki_err_set(err, EINVAL, "missing argument");
	int e = validity_check(v, err);
	if (!e)
		e = leaf_spec_check(spec, err);
	if (e)
		return e;
	struct pki_cert *c = calloc(1, sizeof(*c));
	if (!c)
		return pki_err_set(err, ENOMEM, "out of memory");
	e = key_generate(&c->key, spec->kt, err);
	if (e)
		goto out;
	e = cert_new(&c->x509, c->key, NULL, spec->cn, ca->cert.x509, v);
	if (e) {
		e = pki_err_ssl(err, e, "cannot build the certificate '%s'", spec->cn);
		goto out;
	}
	if (leaf_exts_add(c->x509, ca->cert.x509, spec) != 0 ||
	    X509_sign(c->x509, ca->cert.key, EVP_sha256()) <= 0) {
		e = pki_err_ssl(err, EIO, "cannot sign the certificate '%s'", spec->cn);
		goto out;
	}
	*certp = c;
	c = NULL;
out:
	pki_cert_free(c);
	return e;
}

void pki_cert_free(struct pki_cert *cert)
{
	if (!cert)
		return;
	X509_free(cert->x509);
	EVP_PKEY_free(cert->key);
	free(cert);
}

void pki_ca_free(struct pki_ca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert.x509);
	EVP_PKEY_free(ca->cert.key);
	free(ca);
}

const struct pki_cert *pki_ca_cert(const struct pki_ca *ca)
{
	return ca ? &ca->cert : NULL;
}

X509 *pki_cert_x509(const struct pki_cert *cert)
{
	return cert ? cert->x509 : NULL;
}

EVP_PKEY *pki_cert_key(const struct pki_cert *cert)
{
	return cert ? cert->key : NULL;
}
