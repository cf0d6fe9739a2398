/* Unit tests for pki: names, the lab plan, issuing and checking certificates
 * in memory, and the file writer's refusal to replace. EC keys throughout:
 * they take microseconds, RSA takes tens of milliseconds each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

static const struct pki_validity validity = {.days = 30};

static struct pki_validity now_validity(void)
{
	struct pki_validity v = validity;
	v.now = time(NULL);
	return v;
}

static void test_pki_name_valid(void **state)
{
	(void)state;
	assert_true(pki_name_valid("sip.edge.example"));
	assert_true(pki_name_valid("localhost"));
	assert_true(pki_name_valid("a-b.example"));
	assert_true(pki_name_valid("1and1.example"));
	assert_false(pki_name_valid(""));
	assert_false(pki_name_valid("bad domain"));
	assert_false(pki_name_valid("a.example,DNS:b"));
	assert_false(pki_name_valid("*.example"));
	assert_false(pki_name_valid("-a.example"));
	assert_false(pki_name_valid("a-.example"));
	assert_false(pki_name_valid("a..example"));
	assert_false(pki_name_valid("example."));
	assert_false(pki_name_valid("10.0.0.1"));
	char label[70];
	memset(label, 'a', 64);
	strcpy(label + 64, ".ex");
	assert_false(pki_name_valid(label)); /* a 64-character label */
	label[1] = '.';
	assert_true(pki_name_valid(label));
}

static void test_pki_user_valid(void **state)
{
	(void)state;
	assert_true(pki_user_valid("alice"));
	assert_true(pki_user_valid("bob.smith+lab_1-x"));
	assert_false(pki_user_valid(""));
	assert_false(pki_user_valid("a@b"));
	assert_false(pki_user_valid("a b"));
	assert_false(pki_user_valid("a,b"));
}

static void test_pki_lab_plan_defaults(void **state)
{
	(void)state;
	struct pki_lab_plan *p = calloc(1, sizeof(*p));
	struct pki_lab_opts o = {.out_dir = "out"};
	struct pki_err err = {{0}};
	assert_non_null(p);
	assert_int_equal(pki_lab_plan(p, &o, &err), 0);
	assert_int_equal(p->days, PKI_DAYS_DEFAULT);
	assert_true(p->new_ca);
	assert_string_equal(p->item[PKI_ROLE_CA].key, "out/ca.key");
	assert_string_equal(p->item[PKI_ROLE_CA].bundle, "");
	assert_true(strncmp(p->item[PKI_ROLE_CA].cn, "edgelab lab CA ", 15) == 0);

	const struct pki_lab_item *edge = &p->item[PKI_ROLE_EDGE];
	assert_string_equal(edge->cn, "sip.edge.example");
	assert_int_equal(edge->dnsc, 2); /* sip.<domain> is the FQDN: once */
	assert_string_equal(edge->dns[0], "sip.edge.example");
	assert_string_equal(edge->dns[1], "edge.example");
	assert_string_equal(edge->bundle, "out/edge-bundle.pem");
	assert_int_equal(edge->eku, PKI_EKU_SERVER | PKI_EKU_CLIENT);

	const struct pki_lab_item *partner = &p->item[PKI_ROLE_PARTNER];
	assert_string_equal(partner->dns[0], "sip.partner.example");
	assert_string_equal(partner->dns[1], "partner.example");

	const struct pki_lab_item *client = &p->item[PKI_ROLE_CLIENT];
	assert_string_equal(client->cn, "alice@edge.example");
	assert_string_equal(client->uri, "sip:alice@edge.example");
	assert_int_equal(client->dnsc, 0);
	assert_int_equal(client->eku, PKI_EKU_CLIENT);

	/* The HTTPS control API's client: a DNS SAN, clientAuth, no bundle. */
	const struct pki_lab_item *ctl = &p->item[PKI_ROLE_CONTROLLER];
	assert_string_equal(pki_role_name(PKI_ROLE_CONTROLLER), "controller");
	assert_string_equal(ctl->cert, "out/controller.pem");
	assert_string_equal(ctl->key, "out/controller.key");
	assert_string_equal(ctl->bundle, "");
	assert_string_equal(ctl->cn, "probe.lab");
	assert_int_equal(ctl->dnsc, 1);
	assert_string_equal(ctl->dns[0], "probe.lab");
	assert_string_equal(ctl->uri, "");
	assert_int_equal(ctl->eku, PKI_EKU_CLIENT);
	free(p);
}

static void test_pki_lab_plan_names(void **state)
{
	(void)state;
	struct pki_lab_plan *p = calloc(1, sizeof(*p));
	struct pki_lab_opts o = {
	    .sip_domain = "contoso.example",
	    .edge_fqdn = "access.contoso.example",
	    .partner_domain = "evil.example",
	    .ca_dir = "lab",
	};
	struct pki_err err = {{0}};
	assert_non_null(p);
	assert_int_equal(pki_lab_plan(p, &o, &err), 0);
	assert_false(p->new_ca);
	assert_string_equal(p->ca_key_src, "lab/ca.key");
	assert_string_equal(p->item[PKI_ROLE_CA].key, "");
	assert_string_equal(p->item[PKI_ROLE_CA].cert, "pki/ca.pem");
	const struct pki_lab_item *edge = &p->item[PKI_ROLE_EDGE];
	assert_int_equal(edge->dnsc, 3);
	assert_string_equal(edge->dns[2], "sip.contoso.example");
	assert_string_equal(p->item[PKI_ROLE_PARTNER].dns[0], "sip.evil.example");

	o.partner_fqdn = "bad name";
	assert_int_equal(pki_lab_plan(p, &o, &err), EINVAL);
	assert_non_null(strstr(err.msg, "bad name"));
	o.partner_fqdn = NULL;
	o.days = PKI_DAYS_MAX + 1;
	assert_int_equal(pki_lab_plan(p, &o, &err), EINVAL);
	free(p);
}

static bool has_purpose(X509 *x, int purpose)
{
	return X509_check_purpose(x, purpose, 0) == 1;
}

/* Verifies leaf against ca with OpenSSL's chain builder, at the current time. */
static int chain_verify(const struct pki_ca *ca, const struct pki_cert *leaf)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -1;
	if (store && ctx && X509_STORE_add_cert(store, pki_cert_x509(pki_ca_cert(ca))) == 1 &&
	    X509_STORE_CTX_init(ctx, store, pki_cert_x509(leaf), NULL) == 1)
		rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

static void test_pki_leaf_issue(void **state)
{
	(void)state;
	struct pki_validity v = now_validity();
	struct pki_ca *ca = NULL, *other = NULL;
	struct pki_cert *leaf = NULL, *client = NULL;
	struct pki_err err = {{0}};
	struct pki_leaf_spec spec = {
	    .cn = "sip.edge.example",
	    .dns = {"sip.edge.example", "edge.example"},
	    .dnsc = 2,
	    .eku = PKI_EKU_SERVER,
	    .kt = PKI_KEY_EC,
	};
	assert_int_equal(pki_ca_create(&ca, "test CA", PKI_KEY_EC, &v, &err), 0);
	assert_int_equal(pki_ca_create(&other, "other CA", PKI_KEY_EC, &v, &err), 0);
	assert_int_equal(pki_leaf_issue(&leaf, ca, &spec, &v, &err), 0);
	X509 *x = pki_cert_x509(leaf);

	assert_int_equal(chain_verify(ca, leaf), 0);
	assert_int_not_equal(chain_verify(other, leaf), 0);
	assert_int_equal(X509_check_host(x, "edge.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "sip.edge.example", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "partner.example", 0, 0, NULL), 0);
	assert_true(has_purpose(x, X509_PURPOSE_SSL_SERVER));
	assert_false(has_purpose(x, X509_PURPOSE_SSL_CLIENT));
	assert_true(X509_check_private_key(x, pki_cert_key(leaf)) == 1);
	assert_true(X509_check_ca(pki_cert_x509(pki_ca_cert(ca))) >= 1);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_not_equal(
	    ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	                     X509_get0_serialNumber(pki_cert_x509(pki_ca_cert(ca)))),
	    0);

	spec.cn = "alice@edge.example";
	spec.dnsc = 0;
	spec.uri = "sip:alice@edge.example";
	spec.eku = PKI_EKU_CLIENT;
	assert_int_equal(pki_leaf_issue(&client, ca, &spec, &v, &err), 0);
	assert_true(has_purpose(pki_cert_x509(client), X509_PURPOSE_SSL_CLIENT));
	assert_false(has_purpose(pki_cert_x509(client), X509_PURPOSE_SSL_SERVER));
	assert_int_equal(chain_verify(ca, client), 0);

	pki_cert_free(client);
	pki_cert_free(leaf);
	pki_ca_free(other);
	pki_ca_free(ca);
}

static char tmpdir[64];

static int tmpdir_setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_pki.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
	(void)state;
	static const char *const names[] = {"ca.pem", "ca.key", "leaf.pem", "leaf.key",
	                                    "leaf-bundle.pem"};
	char path[128];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

static mode_t file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Writes a CA and a leaf, refuses to replace them, replaces with force, and
 * loads the CA back to issue from it. */
static void test_pki_files(void **state)
{
	(void)state;
	struct pki_validity v = now_validity();
	struct pki_ca *ca = NULL, *loaded = NULL;
	struct pki_cert *leaf = NULL;
	struct pki_err err = {{0}};
	char cert[128], key[128], bundle[128];
	snprintf(cert, sizeof(cert), "%s/ca.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/ca.key", tmpdir);
	snprintf(bundle, sizeof(bundle), "%s/leaf-bundle.pem", tmpdir);
	struct pki_paths ca_paths = {.cert = cert, .key = key};
	struct pki_leaf_spec spec = {
	    .cn = "a.example", .dns = {"a.example"}, .dnsc = 1, .kt = PKI_KEY_EC};

	assert_int_equal(pki_ca_create(&ca, "file CA", PKI_KEY_EC, &v, &err), 0);
	assert_int_equal(pki_cert_write(pki_ca_cert(ca), &ca_paths, false, &err), 0);
	assert_int_equal(file_mode(cert), 0644);
	assert_int_equal(file_mode(key), 0600);
	assert_int_equal(pki_cert_write(pki_ca_cert(ca), &ca_paths, false, &err), EEXIST);
	assert_non_null(strstr(err.msg, cert));
	assert_int_equal(pki_cert_write(pki_ca_cert(ca), &ca_paths, true, &err), 0);

	assert_int_equal(pki_ca_load(&loaded, cert, key, &err), 0);
	assert_int_equal(pki_leaf_issue(&leaf, loaded, &spec, &v, &err), 0);
	assert_int_equal(chain_verify(ca, leaf), 0);
	struct pki_paths leaf_paths = {.bundle = bundle};
	assert_int_equal(pki_cert_write(leaf, &leaf_paths, false, &err), 0);
	assert_int_equal(file_mode(bundle), 0600);

	/* A leaf is not a CA; a CA certificate with another key is refused. */
	pki_ca_free(loaded);
	loaded = NULL;
	assert_int_equal(pki_ca_load(&loaded, bundle, bundle, &err), EINVAL);
	assert_non_null(strstr(err.msg, "not a CA"));
	assert_int_equal(pki_ca_load(&loaded, cert, bundle, &err), EINVAL);
	assert_null(loaded);
	assert_int_equal(ERR_peek_error(), 0);

	pki_cert_free(leaf);
	pki_ca_free(ca);
}

static void test_pki_issue_rejects(void **state)
{
	(void)state;
	struct pki_validity v = now_validity();
	struct pki_ca *ca = NULL;
	struct pki_cert *leaf = NULL;
	struct pki_err err = {{0}};
	struct pki_leaf_spec spec = {.cn = "x", .dns = {"a,b"}, .dnsc = 1, .kt = PKI_KEY_EC};
	assert_int_equal(pki_ca_create(&ca, "test CA", PKI_KEY_EC, &v, &err), 0);
	assert_int_equal(pki_leaf_issue(&leaf, ca, &spec, &v, &err), EINVAL);
	assert_null(leaf);
	v.days = 0;
	spec.dns[0] = "a.example";
	assert_int_equal(pki_leaf_issue(&leaf, ca, &spec, &v, &err), EINVAL);
	assert_int_equal(ERR_peek_error(), 0);
	pki_ca_free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pki_name_valid),
	    cmocka_unit_test(test_pki_user_valid),
	    cmocka_unit_test(test_pki_lab_plan_defaults),
	    cmocka_unit_test(test_pki_lab_plan_names),
	    cmocka_unit_test(test_pki_leaf_issue),
	    cmocka_unit_test(test_pki_issue_rejects),
	    cmocka_unit_test_setup_teardown(test_pki_files, tmpdir_setup, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
