#include "probe/probe.h"

#include <stdio.h>
#include <string.h>

#include "core/addr.h"

/* Which issue builds each row that this build does not have yet. */
static const char *const row_issue[ROWS_COUNT + 1] = {
    NULL,
    "Access Edge SIP (issue 3)",
    "Access Edge SIP (issue 3)",
    "Access Edge SIP (issue 3)",
    NULL,
    NULL,
    NULL,
};

typedef void(row_probe_h)(const struct probe_opts *o, struct probe_result *r);

static row_probe_h *const row_probes[ROWS_COUNT + 1] = {
    NULL,
    probe_row_sip_partner_in,
    probe_row_sip_partner_out,
    probe_row_sip_client_in,
    probe_row_rtp_tcp_out,
    probe_row_stun_udp_out,
    probe_row_stun_in,
};

void probe_opts_default(struct probe_opts *o)
{
	memset(o, 0, sizeof(*o));
	addr_parse("198.51.100.10", 0, &o->edge);
	o->stun_port = 3478;
	o->timeout_ms = 3000;
	o->sip_tls_port = 443;
	o->sip_mtls_port = 5061;
	o->partner_port = 5061;
	o->client_tcp_port = 443;
	o->client_udp_port = 3478;
	snprintf(o->edge_fqdn, sizeof(o->edge_fqdn), "sip.edge.example");
	snprintf(o->sip_domain, sizeof(o->sip_domain), "edge.example");
	snprintf(o->partner_domain, sizeof(o->partner_domain), "partner.example");
	probe_opts_set_pki(o, "pki");
	rows_parse_mask("all", &o->rows);
}

void probe_opts_set_pki(struct probe_opts *o, const char *dir)
{
	snprintf(o->ca_file, sizeof(o->ca_file), "%s/ca.pem", dir);
	snprintf(o->cert_file, sizeof(o->cert_file), "%s/partner.pem", dir);
	snprintf(o->key_file, sizeof(o->key_file), "%s/partner.key", dir);
}

void probe_run(const struct probe_opts *o, struct probe_result *results, size_t cap, size_t *n)
{
	*n = 0;
	for (int row = 1; row <= ROWS_COUNT && *n < cap; row++) {
		if (!(o->rows & (1u << row)))
			continue;
		struct probe_result *r = &results[(*n)++];
		memset(r, 0, sizeof(*r));
		r->row = row;
		r->flow = rows_get(row)->flow;
		if (!rows_get(row)->built || !row_probes[row]) {
			r->verdict = VERDICT_NOT_BUILT;
			snprintf(r->detail, sizeof(r->detail), "not built yet: %s", row_issue[row]);
			continue;
		}
		row_probes[row](o, r);
	}
}
