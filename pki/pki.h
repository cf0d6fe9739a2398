/* pki: a lab CA and the edge, partner and client certificates that the port
 * table's TLS rows need (docs/port-table.md), made with OpenSSL 3's X.509 API.
 *
 * Two layers:
 *  - building blocks (pki_ca_*, pki_leaf_*): make or load a CA, issue a leaf
 *    with given SANs and EKUs, write PEM files. Tests of later features use
 *    them for "a certificate from another CA" or "a certificate for a domain
 *    that is not a partner".
 *  - the lab set (pki_lab_*): the file names and SANs of `edgelab pki`.
 *
 * Nothing here prints. Every function returns 0 or an errno-style code and,
 * when given a struct pki_err, leaves a one-line reason in it (with the
 * OpenSSL error queue drained into it where OpenSSL failed). */
#ifndef EDGELAB_PKI_PKI_H
#define EDGELAB_PKI_PKI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define PKI_ERR_MAX      512
#define PKI_NAME_MAX     253 /* a DNS name (RFC 1035 2.3.4) */
#define PKI_USER_MAX     64
#define PKI_SAN_MAX      4 /* DNS names in one leaf */
#define PKI_DAYS_MAX     36500
#define PKI_DAYS_DEFAULT 825 /* the CA/Browser limit for a TLS leaf until 2020 */

struct pki_err {
	char msg[PKI_ERR_MAX];
};

enum pki_key_type {
	PKI_KEY_RSA, /* RSA 2048: what a real Lync edge and every peer takes */
	PKI_KEY_EC,  /* ECDSA P-256: faster to make, fine for OpenSSL 3 peers */
};

/* Extended key usage bits of a leaf. */
enum {
	PKI_EKU_SERVER = 1u << 0,
	PKI_EKU_CLIENT = 1u << 1,
};

/* "rsa" or "ec"; 0 or EINVAL. */
int pki_key_type_parse(const char *s, enum pki_key_type *kt);
const char *pki_key_type_name(enum pki_key_type kt);

/* Validity shared by every certificate of one run: notBefore is now - 1 h
 * (clock skew between lab hosts), notAfter now + days. One `now` for all so
 * that no leaf outlives its CA by the seconds it took to make it. */
struct pki_validity {
	time_t now;
	int days; /* 1..PKI_DAYS_MAX */
};

/* A CA: its certificate and private key. */
struct pki_ca;

/* A new self-signed CA named "CN=<cn>, O=edgelab". */
int pki_ca_create(struct pki_ca **cap, const char *cn, enum pki_key_type kt,
                  const struct pki_validity *v, struct pki_err *err);
/* An existing CA from PEM files; checks that it is a CA and that the key is
 * the certificate's. */
int pki_ca_load(struct pki_ca **cap, const char *cert_path, const char *key_path,
                struct pki_err *err);
void pki_ca_free(struct pki_ca *ca);

/* What a leaf says about itself. dns[] and uri must be valid names
 * (pki_name_valid, pki_user_valid): they go into the certificate as they are. */
struct pki_leaf_spec {
	const char *cn;
	const char *dns[PKI_SAN_MAX];
	size_t dnsc;
	const char *uri; /* a URI SAN, e.g. "sip:alice@edge.example"; may be NULL */
	unsigned eku;    /* PKI_EKU_* */
	enum pki_key_type kt;
};

/* A certificate with its private key: a leaf or a CA's. */
struct pki_cert;

int pki_leaf_issue(struct pki_cert **certp, const struct pki_ca *ca,
                   const struct pki_leaf_spec *spec, const struct pki_validity *v,
                   struct pki_err *err);
void pki_cert_free(struct pki_cert *cert);
/* The CA's own certificate and key, owned by the CA. */
const struct pki_cert *pki_ca_cert(const struct pki_ca *ca);

/* OpenSSL's X509 and EVP_PKEY (forward-declared so that this header does not
 * pull in OpenSSL): for SSL_CTX_use_certificate/_PrivateKey in a test
 * harness, or to inspect a certificate. Owned by cert; take a reference
 * (X509_up_ref) to keep one longer. */
struct x509_st *pki_cert_x509(const struct pki_cert *cert);
struct evp_pkey_st *pki_cert_key(const struct pki_cert *cert);

/* Where a certificate goes. Any path may be NULL (not written). Keys and
 * bundles (certificate then key in one PEM, baresip's sip_certificate) are
 * written mode 0600, certificates 0644. Each file is written to a temporary
 * name and then linked in place, so a reader never sees half a file and,
 * without force, an existing file is never replaced (EEXIST). */
struct pki_paths {
	const char *cert;
	const char *key;
	const char *bundle;
};

int pki_cert_write(const struct pki_cert *cert, const struct pki_paths *paths, bool force,
                   struct pki_err *err);

/* Names: a DNS name of letters, digits and hyphens in dot-separated labels
 * of 1..63 (no leading/trailing hyphen), at most PKI_NAME_MAX; a user part of
 * letters, digits and ". _ + -". Both keep the SAN and subject free of
 * separators that would make one name read as two. */
bool pki_name_valid(const char *name);
bool pki_user_valid(const char *user);

/* The lab set of `edgelab pki`: the controller is the HTTPS control API's
 * client (serve's control_client PKI_CONTROLLER_NAME). */
enum pki_role {
	PKI_ROLE_CA,
	PKI_ROLE_EDGE,
	PKI_ROLE_PARTNER,
	PKI_ROLE_CLIENT,
	PKI_ROLE_CONTROLLER,
	PKI_ROLE_COUNT
};
#define PKI_CONTROLLER_NAME "probe.lab"

struct pki_lab_opts {
	const char *out_dir;
	const char *ca_dir;         /* issue from DIR/ca.pem + DIR/ca.key; NULL: a new CA */
	const char *edge_fqdn;      /* NULL: sip.<sip_domain> */
	const char *sip_domain;     /* NULL: edge.example */
	const char *partner_fqdn;   /* NULL: sip.<partner_domain> */
	const char *partner_domain; /* NULL: partner.example */
	const char *client_user;    /* NULL: alice */
	int days;                   /* 0: PKI_DAYS_DEFAULT */
	enum pki_key_type kt;
	bool force;
};

/* One file set of the plan, with what is in it (for the summary). */
struct pki_lab_item {
	char cert[PATH_MAX];
	char key[PATH_MAX]; /* "" when not written (a loaded CA's key stays where it is) */
	char bundle[PATH_MAX];
	char cn[PKI_NAME_MAX + PKI_USER_MAX + 2];
	char dns[PKI_SAN_MAX][PKI_NAME_MAX + 1];
	size_t dnsc;
	char uri[PKI_NAME_MAX + PKI_USER_MAX + 6];
	unsigned eku;
};

struct pki_lab_plan {
	char out_dir[PATH_MAX];
	struct pki_lab_item item[PKI_ROLE_COUNT];
	enum pki_key_type kt;
	int days;
	bool new_ca;
	bool force;
	char ca_cert_src[PATH_MAX]; /* a loaded CA's files */
	char ca_key_src[PATH_MAX];
};

/* Fills the plan from the options: defaults, validation, file names, SANs.
 * EINVAL (a bad name or value, named in err) is the caller's usage error. */
int pki_lab_plan(struct pki_lab_plan *plan, const struct pki_lab_opts *opts, struct pki_err *err);
/* Makes the CA (or loads it) and the leaves, then writes every file of the
 * plan. Without force, refuses (EEXIST, naming the file) before writing
 * anything if one of the files exists, and when a write fails (ENOSPC...)
 * removes the files it wrote. Creates out_dir (one level) if missing, and
 * removes it again when it fails and the directory is empty. */
int pki_lab_write(const struct pki_lab_plan *plan, struct pki_err *err);
const char *pki_role_name(enum pki_role role);

/* A daemon's first start in a container (serve's tls_generate): when none of
 * dir/edge.pem, dir/edge.key and dir/ca.pem exists, writes the lab set there
 * (ECDSA, the edge named edge_fqdn in sip_domain) and sets *wrote; when all
 * three exist, leaves them. One or two of them is EEXIST, naming what is
 * missing: a half-mounted volume is a mistake to report, not to paper over. */
int pki_lab_first_start(const char *dir, const char *edge_fqdn, const char *sip_domain, bool *wrote,
                        struct pki_err *err);

#endif
