/* edgelab pki: write a lab CA and the edge, partner and client certificates. */
#include "cli/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"

enum {
	OPT_EDGE_FQDN = 256,
	OPT_SIP_DOMAIN,
	OPT_PARTNER_DOMAIN,
	OPT_PARTNER_FQDN,
	OPT_CLIENT_USER,
	OPT_CA_DIR,
	OPT_KEY_TYPE,
};

static const struct option pki_options[] = {
    {"out", required_argument, NULL, 'o'},
    {"edge-fqdn", required_argument, NULL, OPT_EDGE_FQDN},
    {"sip-domain", required_argument, NULL, OPT_SIP_DOMAIN},
    {"partner-domain", required_argument, NULL, OPT_PARTNER_DOMAIN},
    {"partner-fqdn", required_argument, NULL, OPT_PARTNER_FQDN},
    {"client-user", required_argument, NULL, OPT_CLIENT_USER},
    {"ca-dir", required_argument, NULL, OPT_CA_DIR},
    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
    {"days", required_argument, NULL, 'd'},
    {"force", no_argument, NULL, 'f'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void pki_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: edgelab pki [OPTIONS]\n"
	    "\n"
	    "Writes a lab CA and the certificates of the edge, a federation partner and\n"
	    "a remote client into DIR (PEM; keys and bundles mode 0600):\n"
	    "  ca.pem ca.key                             the lab CA (a new one each run)\n"
	    "  edge.pem edge.key edge-bundle.pem         SAN DNS: edge FQDN, SIP domain,\n"
	    "                                            sip.<SIP domain>; serverAuth+clientAuth\n"
	    "  partner.pem partner.key partner-bundle.pem  SAN DNS: partner FQDN, partner\n"
	    "                                            domain, sip.<partner domain>; both EKUs\n"
	    "  client.pem client.key client-bundle.pem   CN user@SIP domain, SAN URI\n"
	    "                                            sip:user@SIP domain; clientAuth\n"
	    "A bundle is the certificate then its key (baresip's sip_certificate).\n"
	    "\n"
	    "  -o, --out DIR              output directory (default ./pki; made if missing)\n"
	    "      --sip-domain D         the edge's SIP domain (default edge.example)\n"
	    "      --edge-fqdn F          the edge's FQDN (default sip.<sip-domain>)\n"
	    "      --partner-domain D     the federation partner's domain (default "
	    "partner.example)\n"
	    "      --partner-fqdn F       the partner's FQDN (default sip.<partner-domain>)\n"
	    "      --client-user U        the remote client's user (default alice)\n"
	    "      --ca-dir DIR           issue from DIR/ca.pem and DIR/ca.key instead of a\n"
	    "                             new CA (ca.pem is copied into --out, the key is not)\n"
	    "      --key-type rsa|ec      RSA 2048 (default) or ECDSA P-256\n"
	    "  -d, --days N               validity in days, 1..%d (default %d); every\n"
	    "                             certificate starts one hour in the past\n"
	    "  -f, --force                replace existing files\n"
	    "  -q, --quiet                print nothing on success\n"
	    "  -h, --help                 this text\n"
	    "\n"
	    "A certificate from another CA: run again with another --out. A trusted\n"
	    "certificate for a domain that is not a partner:\n"
	    "  edgelab pki --out evil --ca-dir pki --partner-domain evil.example\n"
	    "\n"
	    "Exit status: 0 written, 1 failed (e.g. a file exists), 2 usage error.\n",
	    PKI_DAYS_MAX, PKI_DAYS_DEFAULT);
}

static int days_parse(const char *s, int *days)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > PKI_DAYS_MAX)
		return EINVAL;
	*days = (int)v;
	return 0;
}

/* Returns -1 to go on, or the exit status (help, usage error). */
static int pki_opt(int c, struct pki_lab_opts *o, bool *quiet)
{
	switch (c) {
	case 'o':
		o->out_dir = optarg;
		break;
	case OPT_EDGE_FQDN:
		o->edge_fqdn = optarg;
		break;
	case OPT_SIP_DOMAIN:
		o->sip_domain = optarg;
		break;
	case OPT_PARTNER_DOMAIN:
		o->partner_domain = optarg;
		break;
	case OPT_PARTNER_FQDN:
		o->partner_fqdn = optarg;
		break;
	case OPT_CLIENT_USER:
		o->client_user = optarg;
		break;
	case OPT_CA_DIR:
		o->ca_dir = optarg;
		break;
	case 'f':
		o->force = true;
		break;
	case 'q':
		*quiet = true;
		break;
	case 'h':
		pki_usage(stdout);
		return EXIT_OK;
	case OPT_KEY_TYPE:
		if (pki_key_type_parse(optarg, &o->kt) == 0)
			break;
		fprintf(stderr, "edgelab pki: --key-type must be rsa or ec, not '%s'\n", optarg);
		return EXIT_USAGE;
	case 'd':
		if (days_parse(optarg, &o->days) == 0)
			break;
		fprintf(stderr, "edgelab pki: --days must be 1..%d, not '%s'\n", PKI_DAYS_MAX,
		        optarg);
		return EXIT_USAGE;
	default:
		fprintf(stderr, "Try 'edgelab pki --help'.\n");
		return EXIT_USAGE;
	}
	return -1;
}

static int pki_args(int argc, char **argv, struct pki_lab_opts *o, bool *quiet)
{
	int c;
	optind = 0; /* glibc: start over, main() may have run getopt already */
	while ((c = getopt_long(argc, argv, "o:d:fqh", pki_options, NULL)) != -1) {
		int rc = pki_opt(c, o, quiet);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr,
		        "edgelab pki: unexpected argument '%s'\nTry 'edgelab pki --help'.\n",
		        argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

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
	printf("edgelab pki: wrote %s and 3 certificates in %s (%s, %d days)\n",
	       p->new_ca ? "a new lab CA" : "an existing CA's certificate", p->out_dir,
	       p->kt == PKI_KEY_EC ? "ECDSA P-256" : "RSA 2048", p->days);
	for (int r = 0; r < PKI_ROLE_COUNT; r++)
		item_print(p, (enum pki_role)r);
}

int cmd_pki(int argc, char **argv)
{
	struct pki_lab_opts opts = {.kt = PKI_KEY_RSA};
	bool quiet = false;
	int rc = pki_args(argc, argv, &opts, &quiet);
	if (rc >= 0)
		return rc;

	/* The plan is large (file names of PATH_MAX): off the stack. */
	struct pki_lab_plan *plan = calloc(1, sizeof(*plan));
	struct pki_err err = {{0}};
	if (!plan) {
		fprintf(stderr, "edgelab pki: out of memory\n");
		return EXIT_FAIL;
	}
	int e = pki_lab_plan(plan, &opts, &err);
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
	if (!quiet)
		summary_print(plan);
	rc = EXIT_OK;
out:
	free(plan);
	return rc;
}
