/* edgelab pki: write a lab CA and the edge, partner and client certificates. */
#include "cli/cmd.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/opts.h"
#include "pki/pki.h"

/* What the options fill in; pki_lab_opts is the pki library's part. */
struct pki_args {
	struct pki_lab_opts o;
	bool quiet;
};

#define AT(field)    offsetof(struct pki_args, field)
#define DAYS_MAX     CLI_STR(PKI_DAYS_MAX)
#define DAYS_DEFAULT CLI_STR(PKI_DAYS_DEFAULT)

static int set_key_type(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                        void *arg)
{
	struct pki_args *a = arg;
	(void)o;
	(void)why;
	(void)why_len;
	return pki_key_type_parse(value, &a->o.kt);
}

static int set_days(const struct cli_opt *o, const char *value, char *why, size_t why_len,
                    void *arg)
{
	struct pki_args *a = arg;
	char *end = NULL;
	(void)o;
	(void)why;
	(void)why_len;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 1 || v > PKI_DAYS_MAX)
		return EINVAL;
	a->o.days = (int)v;
	return 0;
}

/* The names are checked by pki_lab_plan, which knows what a SAN may hold. */
static const struct cli_opt pki_options[] = {
    {.name = "out",
     .letter = 'o',
     .arg = "DIR",
     .set = cli_opt_string,
     .offset = AT(o.out_dir),
     .help = "output directory (default ./pki; made if missing)"},
    {.name = "sip-domain",
     .arg = "D",
     .set = cli_opt_string,
     .offset = AT(o.sip_domain),
     .help = "the edge's SIP domain (default edge.example)"},
    {.name = "edge-fqdn",
     .arg = "F",
     .set = cli_opt_string,
     .offset = AT(o.edge_fqdn),
     .help = "the edge's FQDN (default sip.<sip-domain>)"},
    {.name = "partner-domain",
     .arg = "D",
     .set = cli_opt_string,
     .offset = AT(o.partner_domain),
     .help = "the federation partner's domain (default partner.example)"},
    {.name = "partner-fqdn",
     .arg = "F",
     .set = cli_opt_string,
     .offset = AT(o.partner_fqdn),
     .help = "the partner's FQDN (default sip.<partner-domain>)"},
    {.name = "client-user",
     .arg = "U",
     .set = cli_opt_string,
     .offset = AT(o.client_user),
     .help = "the remote client's user (default alice)"},
    {.name = "ca-dir",
     .arg = "DIR",
     .set = cli_opt_string,
     .offset = AT(o.ca_dir),
     .help = "issue from DIR/ca.pem and DIR/ca.key instead of a\n"
             "new CA (ca.pem is copied into --out, the key is not)"},
    {.name = "key-type",
     .arg = "rsa|ec",
     .set = set_key_type,
     .expect = "rsa or ec",
     .help = "RSA 2048 (default) or ECDSA P-256"},
    {.name = "days",
     .letter = 'd',
     .arg = "N",
     .set = set_days,
     .expect = "a number of days, 1.." DAYS_MAX,
     .help = "validity in days, 1.." DAYS_MAX " (default " DAYS_DEFAULT "); every\n"
             "certificate starts one hour in the past"},
    {.name = "force",
     .letter = 'f',
     .set = cli_opt_flag,
     .offset = AT(o.force),
     .help = "replace existing files"},
    {.name = "quiet",
     .letter = 'q',
     .set = cli_opt_flag,
     .offset = AT(quiet),
     .help = "print nothing on success"},
    {0},
};

static const struct cli_opts pki_verb = {
    .verb = "pki",
    .synopsis = "[OPTIONS]",
    .about = "Writes a lab CA and the certificates of the edge, a federation partner, a\n"
             "remote client and a controller into DIR (PEM; keys and bundles mode 0600):\n"
             "  ca.pem ca.key                             the lab CA (a new one each run)\n"
             "  edge.pem edge.key edge-bundle.pem         SAN DNS: edge FQDN, SIP domain,\n"
             "                                            sip.<SIP domain>; serverAuth+clientAuth\n"
             "  partner.pem partner.key partner-bundle.pem  SAN DNS: partner FQDN, partner\n"
             "                                            domain, sip.<partner domain>; both EKUs\n"
             "  client.pem client.key client-bundle.pem   CN user@SIP domain, SAN URI\n"
             "                                            sip:user@SIP domain; clientAuth\n"
             "  controller.pem controller.key             SAN DNS: probe.lab; clientAuth (the\n"
             "                                            HTTPS control API's client)\n"
             "A bundle is the certificate then its key (baresip's sip_certificate).\n",
    .opts = pki_options,
    .notes = "A certificate from another CA: run again with another --out. A trusted\n"
             "certificate for a domain that is not a partner:\n"
             "  edgelab pki --out evil --ca-dir pki --partner-domain evil.example\n"
             "\n"
             "Exit status: 0 written, 1 failed (e.g. a file exists), 2 usage error.\n",
};

static void eku_print(unsigned eku)
{
	const char *sep = "";
	printf("  EKU ");
	if (eku & PKI_EKU_SERVER) {
		printf("serverAuth");
		sep = ",";
	}
	if (eku & PKI_EKU_CLIENT)
		printf("%sclientAuth", sep);
	printf("\n");
}

static void item_print(const struct pki_lab_plan *p, enum pki_role r)
{
	const struct pki_lab_item *it = &p->item[r];
	printf("%-8s %s", pki_role_name(r), it->cert);
	if (*it->key)
		printf(" %s", it->key);
	if (*it->bundle)
		printf(" %s", it->bundle);
	if (r == PKI_ROLE_CA) {
		if (p->new_ca)
			printf("\n         CN=%s\n", it->cn);
		else
			printf("\n         the CA of %s (its key stays there)\n", p->ca_cert_src);
		return;
	}
	printf("\n         CN=%s  SAN", it->cn);
	for (size_t i = 0; i < it->dnsc; i++)
		printf("%s DNS:%s", i ? "," : "", it->dns[i]);
	if (*it->uri)
		printf("%s URI:%s", it->dnsc ? "," : "", it->uri);
	eku_print(it->eku);
}

static void summary_print(const struct pki_lab_plan *p)
{
	printf("edgelab pki: wrote %s and %d certificates in %s (%s, %d days)\n",
	       p->new_ca ? "a new lab CA" : "an existing CA's certificate", PKI_ROLE_COUNT - 1,
	       p->out_dir, p->kt == PKI_KEY_EC ? "ECDSA P-256" : "RSA 2048", p->days);
	for (int r = 0; r < PKI_ROLE_COUNT; r++)
		item_print(p, (enum pki_role)r);
}

int cmd_pki(int argc, char **argv)
{
	struct pki_args a = {.o = {.kt = PKI_KEY_RSA}};
	int rc;
	if (!cli_opts_parse(&pki_verb, argc, argv, &a, &rc))
		return rc;

	/* The plan is large (file names of PATH_MAX): off the stack. */
	struct pki_lab_plan *plan = calloc(1, sizeof(*plan));
	struct pki_err err = {{0}};
	if (!plan) {
		fprintf(stderr, "edgelab pki: out of memory\n");
		return EXIT_FAIL;
	}
	int e = pki_lab_plan(plan, &a.o, &err);
	if (e) {
		fprintf(stderr, "edgelab pki: %s\n", err.msg);
		rc = e == EINVAL ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	e = pki_lab_write(plan, &err);
	if (e) {
		fprintf(stderr, "edgelab pki: %s%s\n", err.msg,
		        e == EEXIST ? " (--force replaces it)" : "");
		rc = EXIT_FAIL;
		goto out;
	}
	if (!a.quiet)
		summary_print(plan);
	rc = EXIT_OK;
out:
	free(plan);
	return rc;
}
