#include "probe/probe.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "probe/flow.h"
#include "probe/hub.h"

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
	o->strict_sip_port = 5060;
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

/* One flow of a run: a row (in a dialect) or a negative flow. */
struct job {
	struct probe_opts o; /* the run's, with this flow's dialect */
	int row;             /* 0: negative flow strict */
	size_t strict;
	bool per_dialect;
	double t0;
	struct probe_result *r;
	pthread_t thread;
	bool started;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	struct probe_result *r = j->r;
	memset(r, 0, sizeof(*r));
	r->start = flow_now() - j->t0;
	if (j->row) {
		r->row = j->row;
		r->flow = rows_get(j->row)->flow;
		if (j->per_dialect)
			snprintf(r->dialect, sizeof(r->dialect), "%s",
			         stun_dialect_name(j->o.dialect));
		row_probes[j->row](&j->o, r);
	} else {
		probe_strict(&j->o, j->strict, r);
	}
	r->end = flow_now() - j->t0;
	return NULL;
}

/* The run's flows in report order: rows, each per-dialect row in each
 * dialect asked for, then the negative flows. */
static size_t jobs_plan(const struct probe_opts *o, struct job *jobs, size_t cap)
{
	size_t n = 0;
	for (int row = 1; row <= ROWS_COUNT && n < cap; row++) {
		if (!(o->rows & (1u << row)))
			continue;
		for (size_t i = 0; i < DIALECT_ORDER_N && n < cap; i++) {
			if (row_per_dialect[row] &&
			    !(o->dialects & PROBE_DIALECT_BIT(dialect_order[i])))
				continue;
			jobs[n] =
			    (struct job){.o = *o, .row = row, .per_dialect = row_per_dialect[row]};
			jobs[n++].o.dialect = dialect_order[i];
			if (!row_per_dialect[row])
				break;
		}
	}
	for (size_t i = 0; o->strict && i < PROBE_STRICT_FLOWS && n < cap; i++)
		jobs[n++] = (struct job){.o = *o, .strict = i};
	return n;
}

void probe_run(const struct probe_opts *o, struct probe_result *results, size_t cap, size_t *n)
{
	struct job jobs[PROBE_MAX_RESULTS];
	struct probe_hub *hub = NULL;
	double t0 = flow_now();
	*n = jobs_plan(o, jobs, cap < PROBE_MAX_RESULTS ? cap : PROBE_MAX_RESULTS);
	/* Without the shared listeners each flow listens alone (and rows 4,
	 * 5 and strict on the same port then fail to). */
	if (hub_new(&hub))
		hub = NULL;
	for (size_t i = 0; i < *n; i++) {
		jobs[i].o.hub = hub;
		jobs[i].t0 = t0;
		jobs[i].r = &results[i];
		jobs[i].started = pthread_create(&jobs[i].thread, NULL, job_run, &jobs[i]) == 0;
	}
	/* A thread that could not start: its flow runs here, after the rest. */
	for (size_t i = 0; i < *n; i++)
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
	for (size_t i = 0; i < *n; i++)
		if (!jobs[i].started)
			job_run(&jobs[i]);
	hub_free(hub);
}
