#include "probe/probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"

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

/* The rows whose flow is STUN on UDP 3478 (A/V/STUN,MSTURN/UDP/3478): a Lync
 * edge speaks both dialects there, so each is probed on its own. */
static const bool row_per_dialect[ROWS_COUNT + 1] = {[5] = true, [6] = true};

/* The order they run in: RFC 5389 first, the baseline every STUN stack has. */
static const enum stun_dialect dialect_order[] = {STUN_DIALECT_RFC5389, STUN_DIALECT_MSTURN};
#define DIALECT_ORDER_N (sizeof(dialect_order) / sizeof(dialect_order[0]))

int probe_dialects_parse(const char *s, unsigned *mask)
{
	if (!s || !mask)
		return EINVAL;
	if (strcmp(s, "both") == 0)
		*mask = PROBE_DIALECTS_BOTH;
	else if (strcmp(s, stun_dialect_name(STUN_DIALECT_RFC5389)) == 0)
		*mask = PROBE_DIALECT_BIT(STUN_DIALECT_RFC5389);
	else if (strcmp(s, stun_dialect_name(STUN_DIALECT_MSTURN)) == 0)
		*mask = PROBE_DIALECT_BIT(STUN_DIALECT_MSTURN);
	else
		return EINVAL;
	return 0;
}

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
	o->dialects = PROBE_DIALECTS_BOTH;
	o->dialect = STUN_DIALECT_RFC5389;
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

/* One result for row; a per-dialect row runs in o->dialect and is named by it. */
static void run_one(const struct probe_opts *o, int row, bool per_dialect, struct probe_result *r)
{
	memset(r, 0, sizeof(*r));
	r->row = row;
	r->flow = rows_get(row)->flow;
	if (per_dialect)
		snprintf(r->dialect, sizeof(r->dialect), "%s", stun_dialect_name(o->dialect));
	row_probes[row](o, r);
}

void probe_run(const struct probe_opts *o, struct probe_result *results, size_t cap, size_t *n)
{
	/* A copy, so that the per-dialect rows can be told their dialect
	 * through the one argument every row takes. */
	struct probe_opts od = *o;
	*n = 0;
	for (int row = 1; row <= ROWS_COUNT && *n < cap; row++) {
		if (!(o->rows & (1u << row)))
			continue;
		if (!row_per_dialect[row]) {
			run_one(o, row, false, &results[(*n)++]);
			continue;
		}
		for (size_t i = 0; i < DIALECT_ORDER_N && *n < cap; i++) {
			if (!(o->dialects & PROBE_DIALECT_BIT(dialect_order[i])))
				continue;
			od.dialect = dialect_order[i];
			run_one(&od, row, true, &results[(*n)++]);
		}
	}
}
