/* pki internals shared by the pki/ sources; nothing outside pki/ includes this. */
#ifndef EDGELAB_PKI_PKI_PRIV_H
#define EDGELAB_PKI_PKI_PRIV_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/pki.h"

struct pki_cert {
	X509 *x509;
	EVP_PKEY *key;
};

/* A CA is its certificate; the struct keeps the two types apart so that a
 * leaf cannot be passed where an issuer is meant. */
struct pki_ca {
	struct pki_cert cert;
};

/* Formats the reason into err (if any) and returns code. pki_err_ssl also
 * appends and drains the OpenSSL error queue; pki_err_set clears it, so that
 * a stale entry never ends up in an unrelated message. */
int pki_err_set(struct pki_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pki_err_ssl(struct pki_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
