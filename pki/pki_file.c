/* pki: PEM files in and out. */
#include "pki/pki_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define MODE_PUBLIC  0644
#define MODE_PRIVATE 0600

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves the finished temporary file into place. link(2) fails with EEXIST
 * if the name was taken meanwhile, so "never replace" holds without a race;
 * rename(2) replaces atomically when force is set. */
static int file_publish(const char *tmp, const char *path, bool force)
{
	if (force)
		return rename(tmp, path) == 0 ? 0 : errno;
	int e = link(tmp, path) == 0 ? 0 : errno;
	unlink(tmp);
	return e;
}

/* mkstemp makes the file 0600 before a byte is written, so a key is never
 * readable by others, not even for a moment. */
static int file_write(const char *path, const char *data, size_t len, mode_t mode, bool force,
                      struct pki_err *err)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return pki_err_set(err, ENAMETOOLONG, "%s: name too long", path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return pki_err_set(err, errno, "%s: %s", path, strerror(errno));
	int e = fchmod(fd, mode) == 0 ? 0 : errno;
	if (!e)
		e = write_all(fd, data, len);
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e)
		e = file_publish(tmp, path, force);
	if (e) {
		unlink(tmp);
		if (e == EEXIST)
			return pki_err_set(err, e, "%s exists, not replaced", path);
		return pki_err_set(err, e, "%s: %s", path, strerror(e));
	}
	return 0;
}

/* A secure-memory BIO: the PEM of a private key is cleansed when freed. */
static int pem_add(BIO *bio, const struct pki_cert *cert, bool with_cert, bool with_key)
{
	if (with_cert && !PEM_write_bio_X509(bio, cert->x509))
		return EIO;
	if (with_key && !PEM_write_bio_PrivateKey(bio, cert->key, NULL, NULL, 0, NULL, NULL))
		return EIO;
	return 0;
}

static int pem_write(const struct pki_cert *cert, const char *path, bool with_cert, bool with_key,
                     bool force, struct pki_err *err)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	if (!bio)
		return pki_err_set(err, ENOMEM, "out of memory");
	int e = pem_add(bio, cert, with_cert, with_key);
	if (e) {
		e = pki_err_ssl(err, e, "%s: cannot encode", path);
		goto out;
	}
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || !data) {
		e = pki_err_ssl(err, EIO, "%s: cannot encode", path);
		goto out;
	}
	e = file_write(path, data, (size_t)len, with_key ? MODE_PRIVATE : MODE_PUBLIC, force, err);
out:
	BIO_free(bio);
	return e;
}

int pki_cert_write(const struct pki_cert *cert, const struct pki_paths *paths, bool force,
                   struct pki_err *err)
{
	if (!cert || !paths)
		return pki_err_set(err, EINVAL, "missing argument");
	int e = 0;
	if (paths->cert)
		e = pem_write(cert, paths->cert, true, false, force, err);
	if (!e && paths->key)
		e = pem_write(cert, paths->key, false, true, force, err);
	if (!e && paths->bundle)
		e = pem_write(cert, paths->bundle, true, true, force, err);
	return e;
}

static int cert_read(X509 **xp, const char *path, struct pki_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return pki_err_set(err, errno, "%s: %s", path, strerror(errno));
	*xp = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!*xp)
		return pki_err_ssl(err, EINVAL, "%s: not a PEM certificate", path);
	return 0;
}

/* No passphrase callback: the lab's keys are not encrypted, and a prompt
 * would hang a test run. */
static int key_read(EVP_PKEY **keyp, const char *path, struct pki_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return pki_err_set(err, errno, "%s: %s", path, strerror(errno));
	*keyp = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	fclose(f);
	if (!*keyp)
		return pki_err_ssl(err, EINVAL, "%s: not an unencrypted PEM private key", path);
	return 0;
}

int pki_ca_load(struct pki_ca **cap, const char *cert_path, const char *key_path,
                struct pki_err *err)
{
	if (!cap || !cert_path || !key_path)
		return pki_err_set(err, EINVAL, "missing argument");
	struct pki_ca *ca = calloc(1, sizeof(*ca));
	if (!ca)
		return pki_err_set(err, ENOMEM, "out of memory");
	int e = cert_read(&ca->cert.x509, cert_path, err);
	if (!e)
		e = key_read(&ca->cert.key, key_path, err);
	if (e)
		goto out;
	if (X509_check_ca(ca->cert.x509) < 1) {
		e = pki_err_set(err, EINVAL, "%s: not a CA certificate", cert_path);
		goto out;
	}
	if (X509_check_private_key(ca->cert.x509, ca->cert.key) != 1) {
		e = pki_err_ssl(err, EINVAL, "%s is not the key of %s", key_path, cert_path);
		goto out;
	}
	*cap = ca;
	ca = NULL;
out:
	pki_ca_free(ca);
	return e;
}
