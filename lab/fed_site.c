/* The federation lab's two organisations: each its own CA and certificates,
 * an edge that finds its partner by DNS only, a firewall, and the files its
 * remote client needs (its own CA, nothing else). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lab/fed_int.h"
#include "lab/proc.h"

/* `edgelab pki` for site s: its CA, its edge (the cert-name fault issues it
 * for the wrong domain), its client. */
static int site_pki(const struct lab_fed *f, int s, char *err, size_t len)
{
	const struct lab_fed_site *st = lab_fed_site((enum lab_site)s);
	const struct lab_env *e = &f->site[s];
	unsigned wrong = s ? LAB_FAULT_CERT_NAME_B : LAB_FAULT_CERT_NAME_A;
	const char *domain = f->o->faults & wrong ? st->wrong_domain : st->domain;
	if (mkdir(e->edge_dir, 0700) && errno != EEXIST)
		return snprintf(err, len, "%s: %s", e->edge_dir, strerror(errno)), errno;
	return LAB_RUN(e, NULL, err, len, (char *)e->self, "pki", "--out", (char *)e->pki,
	               "--key-type", "ec", "-q", "--sip-domain", (char *)domain, "--client-user",
	               (char *)st->user, "--partner-domain",
	               (char *)lab_fed_site((enum lab_site) !s)->domain);
}

/* The edge's config: its own names, listeners on its access address, the
 * other site by domain only (found through SRV on the lab's DNS). */
static int site_conf(const struct lab_fed *f, int s, char *err, size_t len)
{
	const struct lab_fed_site *st = lab_fed_site((enum lab_site)s);
	const struct lab_env *e = &f->site[s];
	const char *a = st->edge_addr;
	/* The other company's CA, for federation only (5061 both ways); its
	 * own for everything else. */
	char fed_ca[LAB_PATH_MAX + 16];
	snprintf(fed_ca, sizeof(fed_ca), "%s/ca.pem", f->site[!s].pki);
	FILE *out = fopen(e->conf, "w");
	if (!out)
		return snprintf(err, len, "%s: %s", e->conf, strerror(errno)), errno;
	fprintf(out,
	        "# written by edgelab lab --topology federation: site %s\n"
	        "sip_domain %s\nedge_fqdn %s\n"
	        "stun_udp_listen %s:3478\nstun_tcp_listen off\n"
	        "msturn_tls_listen %s:443\nrelay_address %s\n"
	        "sip_tls_listen %s:443\nsip_mtls_listen %s:5061\n"
	        "tls_certificate %s/edge.pem\ntls_key %s/edge.key\ntls_ca %s/ca.pem\n"
	        "tls_federation_ca %s\n"
	        "federation_partner %s\ndns_server " LAB_FED_DNS_ADDR "\ncontrol_socket %s\n"
	        "turn_user %s %s\n",
	        st->title, st->domain, st->fqdn, a, st->av_addr, a, a, a, e->pki, e->pki, e->pki,
	        fed_ca, lab_fed_site((enum lab_site) !s)->domain, e->ctl, st->turn_user,
	        st->turn_pass);
	if (fclose(out))
		return snprintf(err, len, "%s: write failed", e->conf), EIO;
	return 0;
}

/* The clients hold only their own site's CA. */
static int client_files(const struct lab_fed *f, char *err, size_t len)
{
	if (mkdir(f->clients_dir, 0700) && errno != EEXIST)
		return snprintf(err, len, "%s: %s", f->clients_dir, strerror(errno)), errno;
	for (int s = 0; s < LAB_SITES; s++) {
		char from[LAB_PATH_MAX + 16];
		snprintf(from, sizeof(from), "%s/ca.pem", f->site[s].pki);
		int rc = LAB_RUN(&f->site[s], NULL, err, len, "cp", from, (char *)f->client_ca[s]);
		if (rc)
			return rc;
	}
	return 0;
}

int lab_fed_sites_start(struct lab_fed *f, char *err, size_t len)
{
	int rc = 0;
	for (int s = 0; s < LAB_SITES && !rc; s++)
		rc = site_pki(f, s, err, len);
	if (!rc)
		rc = client_files(f, err, len);
	for (int s = 0; s < LAB_SITES && !rc; s++) {
		const struct lab_fed_site_opts *so = &f->o->site[s];
		struct ruleset rs[RULESET_FILES_MAX];
		memcpy(rs, so->rules, sizeof(rs));
		rc = site_conf(f, s, err, len);
		if (!rc && so->nrules)
			rc = ruleset_resolve(rs, so->nrules, err, len);
		if (!rc)
			rc = lab_fw_load(&f->site[s], rs, so->nrules, so->drop_mask,
			                 so->reject_mask, err, len);
		ruleset_release(rs, so->nrules);
		if (!rc) {
			char *const argv[] = {(char *)f->o->self, "serve", "--config",
			                      (char *)f->site[s].conf, NULL};
			rc = lab_fed_spawn(f, f->site[s].ns[LAB_EDGE], argv, f->site[s].edge_log,
			                   &f->serve[s]);
			if (rc)
				snprintf(err, len, "starting edge %s: %s",
				         lab_fed_site((enum lab_site)s)->title, strerror(rc));
		}
	}
	for (int s = 0; s < LAB_SITES && !rc; s++)
		rc = lab_edge_wait_ready(&f->site[s], &f->serve[s], err, len);
	return rc;
}
