/* pki: the lab set of `edgelab pki`: which certificates, named how, with
 * which SANs.
 *
 * SAN choices (Lync 2013's external Access Edge certificate as the model):
 *  - edge: the edge FQDN (also the CN), the SIP domain, and sip.<SIP domain>:
 *    federation partners look the domain up (_sipfederationtls._tcp) and
 *    check the name they reach; remote clients fall back to sip.<domain>.
 *  - partner: the same rule for the partner, which presents its certificate
 *    in both directions of row 1/2 (serverAuth and clientAuth).
 *  - client: CN user@domain and the URI sip:user@domain (the SIP AOR, what
 *    a SIP server compares with the From of an MTLS client), clientAuth only.
 *  - controller: probe.lab (CN and DNS SAN), clientAuth only: the client of
 *    the edge's HTTPS control API (docs/control-api.md), no bundle.
 * Duplicates (the FQDN is sip.<domain> by default) are written once. */
#include "pki/pki_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#define CN_MAX 64 /* RFC 5280 ub-common-name */

static const char *const role_names[PKI_ROLE_COUNT] = {"ca", "edge", "partner", "client",
                                                       "controller"};

const char *pki_role_name(enum pki_role role)
{
	return (unsigned)role < PKI_ROLE_COUNT ? role_names[role] : "?";
}

/* snprintf into a fixed field; ENAMETOOLONG if it does not fit. */
static int fmt_field(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fmt_field(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? ENAMETOOLONG : 0;
}

static void dns_add(struct pki_lab_item *it, const char *name)
{
	for (size_t i = 0; i < it->dnsc; i++) {
		if (strcasecmp(it->dns[i], name) == 0)
			return;
	}
	if (it->dnsc < PKI_SAN_MAX)
		snprintf(it->dns[it->dnsc++], sizeof(it->dns[0]), "%s", name);
}

/* fqdn NULL: sip.<domain>. Both validated here, for the item of role. */
static int server_item(struct pki_lab_item *it, const char *fqdn, const char *domain,
                       const char *what, struct pki_err *err)
{
	char sip[PKI_NAME_MAX + 8];
	if (!pki_name_valid(domain))
		return pki_err_set(err, EINVAL, "invalid %s domain '%s'", what, domain);
	if (fmt_field(sip, sizeof(sip), "sip.%s", domain) != 0 || !pki_name_valid(sip))
		return pki_err_set(err, EINVAL, "%s domain '%s' is too long", what, domain);
	if (!fqdn)
		fqdn = sip;
	if (!pki_name_valid(fqdn))
		return pki_err_set(err, EINVAL, "invalid %s FQDN '%s'", what, fqdn);
	if (strlen(fqdn) > CN_MAX)
		return pki_err_set(err, EINVAL, "%s FQDN '%s' is longer than a CN may be (%d)",
		                   what, fqdn, CN_MAX);
	snprintf(it->cn, sizeof(it->cn), "%s", fqdn);
	dns_add(it, fqdn);
	dns_add(it, domain);
	dns_add(it, sip);
	it->eku = PKI_EKU_SERVER | PKI_EKU_CLIENT;
	return 0;
}

static int client_item(struct pki_lab_item *it, const char *user, const char *domain,
                       struct pki_err *err)
{
	if (!pki_user_valid(user))
		return pki_err_set(err, EINVAL, "invalid client user '%s' (letters, digits, ._+-)",
		                   user);
	if (fmt_field(it->cn, sizeof(it->cn), "%s@%s", user, domain) != 0 ||
	    strlen(it->cn) > CN_MAX)
		return pki_err_set(err, EINVAL,
		                   "client name '%s@%s' is longer than a CN may be (%d)", user,
		                   domain, CN_MAX);
	snprintf(it->uri, sizeof(it->uri), "sip:%s@%s", user, domain);
	it->eku = PKI_EKU_CLIENT;
	return 0;
}

/* Fills the file names of one role: DIR/<role>.pem, .key, -bundle.pem. */
static int item_paths(struct pki_lab_item *it, const char *dir, enum pki_role role,
                      struct pki_err *err)
{
	const char *r = pki_role_name(role);
	if (fmt_field(it->cert, sizeof(it->cert), "%s/%s.pem", dir, r) ||
	    fmt_field(it->key, sizeof(it->key), "%s/%s.key", dir, r) ||
	    fmt_field(it->bundle, sizeof(it->bundle), "%s/%s-bundle.pem", dir, r))
		return pki_err_set(err, ENAMETOOLONG, "directory name too long: %s", dir);
	if (role == PKI_ROLE_CA || role == PKI_ROLE_CONTROLLER)
		it->bundle[0] = '\0'; /* the CA's key goes to no TLS peer; curl takes two files */
	return 0;
}

static void controller_item(struct pki_lab_item *it)
{
	snprintf(it->cn, sizeof(it->cn), "%s", PKI_CONTROLLER_NAME);
	dns_add(it, PKI_CONTROLLER_NAME);
	it->eku = PKI_EKU_CLIENT;
}

/* A random suffix in the CA's name keeps two labs' CAs apart by name too,
 * so that a verifier that holds both never picks the wrong one by subject. */
static int ca_plan(struct pki_lab_plan *plan, const struct pki_lab_opts *o, struct pki_err *err)
{
	struct pki_lab_item *it = &plan->item[PKI_ROLE_CA];
	plan->new_ca = o->ca_dir == NULL;
	if (plan->new_ca) {
		unsigned char id[4];
		if (RAND_bytes(id, sizeof(id)) != 1)
			return pki_err_ssl(err, EIO, "no random bytes");
		snprintf(it->cn, sizeof(it->cn), "edgelab lab CA %02x%02x%02x%02x", id[0], id[1],
		         id[2], id[3]);
		return 0;
	}
	it->key[0] = '\0'; /* a loaded CA's key stays where it is */
	if (fmt_field(plan->ca_cert_src, sizeof(plan->ca_cert_src), "%s/ca.pem", o->ca_dir) ||
	    fmt_field(plan->ca_key_src, sizeof(plan->ca_key_src), "%s/ca.key", o->ca_dir))
		return pki_err_set(err, ENAMETOOLONG, "directory name too long: %s", o->ca_dir);
	return 0;
}

int pki_lab_plan(struct pki_lab_plan *plan, const struct pki_lab_opts *o, struct pki_err *err)
{
	if (!plan || !o)
		return pki_err_set(err, EINVAL, "missing argument");
	memset(plan, 0, sizeof(*plan));
	const char *dir = o->out_dir ? o->out_dir : "pki";
	const char *sip_domain = o->sip_domain ? o->sip_domain : "edge.example";
	const char *partner_domain = o->partner_domain ? o->partner_domain : "partner.example";
	plan->days = o->days ? o->days : PKI_DAYS_DEFAULT;
	plan->kt = o->kt;
	plan->force = o->force;
	if (plan->days < 1 || plan->days > PKI_DAYS_MAX)
		return pki_err_set(err, EINVAL, "days must be 1..%d", PKI_DAYS_MAX);
	if (!*dir || fmt_field(plan->out_dir, sizeof(plan->out_dir), "%s", dir))
		return pki_err_set(err, EINVAL, "invalid output directory '%s'", dir);
	/* "dir/" names the same directory: no "dir//ca.pem" in the summary. */
	for (size_t n = strlen(plan->out_dir); n > 1 && plan->out_dir[n - 1] == '/'; n--)
		plan->out_dir[n - 1] = '\0';
	int e = 0;
	for (int r = 0; r < PKI_ROLE_COUNT && !e; r++)
		e = item_paths(&plan->item[r], plan->out_dir, (enum pki_role)r, err);
	if (!e)
		e = server_item(&plan->item[PKI_ROLE_EDGE], o->edge_fqdn, sip_domain, "SIP", err);
	if (!e)
		e = server_item(&plan->item[PKI_ROLE_PARTNER], o->partner_fqdn, partner_domain,
		                "partner", err);
	if (!e)
		e = client_item(&plan->item[PKI_ROLE_CLIENT],
		                o->client_user ? o->client_user : "alice", sip_domain, err);
	if (!e)
		controller_item(&plan->item[PKI_ROLE_CONTROLLER]);
	if (!e)
		e = ca_plan(plan, o, err);
	return e;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* A loaded CA's certificate is copied into the output directory, so that
 * the directory is all a peer needs; unless it is that very file. */
static bool ca_cert_written(const struct pki_lab_plan *p)
{
	return p->new_ca || !same_file(p->ca_cert_src, p->item[PKI_ROLE_CA].cert);
}

static const char *opt_path(const char *path)
{
	return *path ? path : NULL;
}

/* *made: whether this call created it. */
static int dir_make(const char *dir, bool *made, struct pki_err *err)
{
	*made = mkdir(dir, 0755) == 0;
	if (*made)
		return 0;
	int e = errno;
	struct stat st;
	if (e == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (e == EEXIST)
		e = ENOTDIR;
	return pki_err_set(err, e, "cannot create directory %s: %s", dir, strerror(e));
}

/* lstat: a dangling symlink is an existing name too. */
static int exists_check(const char *path, struct pki_err *err)
{
	struct stat st;
	if (!path || lstat(path, &st) != 0)
		return 0;
	return pki_err_set(err, EEXIST, "%s exists, not replaced", path);
}

/* Checked before anything is made or written, so that a refusal leaves the
 * directory as it was rather than half replaced. */
static int conflicts_check(const struct pki_lab_plan *p, struct pki_err *err)
{
	if (p->force)
		return 0;
	for (int r = 0; r < PKI_ROLE_COUNT; r++) {
		const struct pki_lab_item *it = &p->item[r];
		int e = 0;
		if (r != PKI_ROLE_CA || ca_cert_written(p))
			e = exists_check(it->cert, err);
		if (!e)
			e = exists_check(opt_path(it->key), err);
		if (!e)
			e = exists_check(opt_path(it->bundle), err);
		if (e)
			return e;
	}
	return 0;
}

/* After a failure to write (a full disk): the plan's files go, so that no
 * half set is left for serve to load. Only without force, when none of them
 * existed before (conflicts_check): with force, one not written yet may be
 * an older set's. */
static void written_remove(const struct pki_lab_plan *p)
{
	for (int r = 0; r < PKI_ROLE_COUNT && !p->force; r++) {
		const struct pki_lab_item *it = &p->item[r];
		if (r != PKI_ROLE_CA || ca_cert_written(p))
			unlink(it->cert);
		if (*it->key)
			unlink(it->key);
		if (*it->bundle)
			unlink(it->bundle);
	}
}

static int leaf_make(struct pki_cert **certp, const struct pki_ca *ca,
                     const struct pki_lab_item *it, const struct pki_lab_plan *p,
                     const struct pki_validity *v, struct pki_err *err)
{
	struct pki_leaf_spec spec = {
	    .cn = it->cn,
	    .dnsc = it->dnsc,
	    .uri = *it->uri ? it->uri : NULL,
	    .eku = it->eku,
	    .kt = p->kt,
	};
	for (size_t i = 0; i < it->dnsc; i++)
		spec.dns[i] = it->dns[i];
	return pki_leaf_issue(certp, ca, &spec, v, err);
}

static int item_write(const struct pki_cert *cert, const struct pki_lab_item *it, bool force,
                      struct pki_err *err)
{
	struct pki_paths paths = {
	    .cert = it->cert,
	    .key = opt_path(it->key),
	    .bundle = opt_path(it->bundle),
	};
	return pki_cert_write(cert, &paths, force, err);
}

int pki_lab_write(const struct pki_lab_plan *p, struct pki_err *err)
{
	if (!p)
		return pki_err_set(err, EINVAL, "missing argument");
	struct pki_validity v = {.now = time(NULL), .days = p->days};
	struct pki_ca *ca = NULL;
	struct pki_cert *leaf[PKI_ROLE_COUNT] = {NULL};
	bool made_dir;
	int e = dir_make(p->out_dir, &made_dir, err);
	if (!e)
		e = conflicts_check(p, err);
	bool clear = !e; /* any file of the plan that exists from here on is ours */
	if (!e && p->new_ca)
		e = pki_ca_create(&ca, p->item[PKI_ROLE_CA].cn, p->kt, &v, err);
	else if (!e)
		e = pki_ca_load(&ca, p->ca_cert_src, p->ca_key_src, err);
	/* Every key and certificate is made before the first file is written,
	 * so that a failure to make one leaves the directory untouched. */
	for (int r = PKI_ROLE_EDGE; r < PKI_ROLE_COUNT && !e; r++)
		e = leaf_make(&leaf[r], ca, &p->item[r], p, &v, err);
	if (!e && ca_cert_written(p))
		e = item_write(pki_ca_cert(ca), &p->item[PKI_ROLE_CA], p->force, err);
	for (int r = PKI_ROLE_EDGE; r < PKI_ROLE_COUNT && !e; r++)
		e = item_write(leaf[r], &p->item[r], p->force, err);
	for (int r = 0; r < PKI_ROLE_COUNT; r++)
		pki_cert_free(leaf[r]);
	pki_ca_free(ca);
	if (e && clear)
		written_remove(p);
	if (e && made_dir)
		rmdir(p->out_dir); /* left when not empty */
	return e;
}
