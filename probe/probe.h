/* The probe: the outside world. Runs the port table's rows as real flows
 * against an edge, all at once, and says, per flow, PASS / BLOCKED /
 * REJECTED / FAILED and why (probe/report.h); with strict, also the flows
 * the table does not allow, each CLOSED or EXPOSED. The outbound rows are
 * asked of the edge through its control API (probe/control_client.h),
 * which also tells what became of a flow that never arrived. It never
 * logs; results carry the detail. */
#ifndef EDGELAB_PROBE_PROBE_H
#define EDGELAB_PROBE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/rows.h"
#include "probe/control_client.h"
#include "probe/report.h"
#include "stun/stun.h"

#define PROBE_STRICT_FLOWS 10 /* the negative flows of --strict (probe_strict) */
/* A row may report per dialect; then the negative flows. */
#define PROBE_MAX_RESULTS ((size_t)ROWS_COUNT * 3 + PROBE_STRICT_FLOWS)

struct probe_hub;

struct probe_opts {
	struct sockaddr_storage edge; /* the edge's access address (port unused) */
	bool have_bind;
	struct sockaddr_storage bind; /* source address to probe from */
	uint16_t stun_port;           /* row 6: UDP 3478 */
	unsigned timeout_ms;          /* per flow: no answer by then is BLOCKED */
	unsigned rows;                /* bit n = row n */
	/* Rows 5 and 6 run once per dialect in this mask (bit d = enum
	 * stun_dialect d; RFC 5389 and MS-TURN only), each with its own result;
	 * dialect is the one the row runs in now (probe_run sets it). */
	unsigned dialects;
	enum stun_dialect dialect;
	bool allow_nat; /* a mapped address other than ours is PASS (NAT in the path) */

	/* Rows 1 and 3: SIP over TLS. */
	uint16_t sip_tls_port;    /* 443 */
	uint16_t sip_mtls_port;   /* 5061 */
	char edge_fqdn[254];      /* the name the edge's certificate must carry */
	char sip_domain[254];     /* the edge's SIP domain (REGISTER) */
	char partner_domain[254]; /* who the probe claims to be on 5061 */
	char ca_file[256];        /* the CA the edge's certificate must chain to */
	char cert_file[256];      /* the partner's certificate and key (row 1) */
	char key_file[256];
	uint16_t partner_port; /* row 2: where the probe listens as the partner (5061) */

	/* The edge's control API: rows 2 (without it, row 2 waits for the
	 * edge's keep-alive), 4, 5 and strict need it. */
	struct ctl_target control;

	/* Rows 4 and 5: where the probe listens as the Live Messenger client
	 * (the edge is told through the control API). */
	uint16_t client_tcp_port; /* row 4: 443, the far side of Microsoft's later tables */
	uint16_t client_udp_port; /* row 5: 3478 */

	/* The negative flows too (probe_strict); they need control. */
	bool strict;
	uint16_t strict_sip_port; /* where the edge's strict TCP to SIP goes (5060) */

	/* Set by probe_run: the listeners its flows share (probe/hub.h); NULL:
	 * a row run alone listens alone. */
	struct probe_hub *hub;
};

void probe_opts_default(struct probe_opts *o);
/* The CA and partner certificate from an `edgelab pki` directory. */
void probe_opts_set_pki(struct probe_opts *o, const char *dir);

#define PROBE_DIALECT_BIT(d) (1u << (d))
#define PROBE_DIALECTS_BOTH                                                                        \
	(PROBE_DIALECT_BIT(STUN_DIALECT_RFC5389) | PROBE_DIALECT_BIT(STUN_DIALECT_MSTURN))
/* "msturn", "rfc5389" or "both" into a dialect mask; 0 or EINVAL. */
int probe_dialects_parse(const char *s, unsigned *mask);

/* Runs the requested rows (and with o->strict the negative flows) all at
 * once, one thread each; writes one result per row (and dialect), then one
 * per negative flow, in that fixed order, into results (cap >=
 * PROBE_MAX_RESULTS) and their count into *n. Each result's start and end
 * are seconds since the run's start. */
void probe_run(const struct probe_opts *o, struct probe_result *results, size_t cap, size_t *n);

/* Negative flow i (0 <= i < PROBE_STRICT_FLOWS) of the strict mode; its
 * result has row 0. Inbound, to the edge's TCP 5060, UDP 5060, TCP 5062,
 * TCP 80, UDP 3479, TCP 3478, TCP 59999, UDP 59999: `edgelab marker=M\n`
 * is sent; EXPOSED when a TCP connection is set up or the edge's canary saw
 * M (GET /canary), else CLOSED. Outbound, the edge's TCP from a port below
 * 50000 to our client_tcp_port and to our strict_sip_port (POST
 * /strict/tcp): EXPOSED when it arrives, else CLOSED with the edge's
 * outcome. FAILED when the control API cannot tell. */
void probe_strict(const struct probe_opts *o, size_t i, struct probe_result *r);

/* Row 1: TLS to the edge's 5061 presenting the partner's certificate, then
 * OPTIONS; PASS on 200 with the edge's certificate verified. */
void probe_row_sip_partner_in(const struct probe_opts *o, struct probe_result *r);
/* Row 2: the probe listens on 5061 as the partner, has the edge send
 * OPTIONS (control API) and checks source, certificate and request. */
void probe_row_sip_partner_out(const struct probe_opts *o, struct probe_result *r);
/* Row 3: TLS to the edge's 443 as a remote client, then REGISTER; PASS on 200. */
void probe_row_sip_client_in(const struct probe_opts *o, struct probe_result *r);

/* Row 4: the probe listens on TCP as the client, has the edge connect from
 * a relay port and send RTP (RFC 4571 framing) with a marker, and checks
 * source address, source port range, framing and marker. */
void probe_row_rtp_tcp_out(const struct probe_opts *o, struct probe_result *r);
/* Row 5: the same over UDP 3478 with a STUN Binding request in o->dialect
 * carrying the marker (RFC 5389: in SOFTWARE; MS-TURN, which has no
 * SOFTWARE: in USERNAME); the probe answers it in the same dialect. */
void probe_row_stun_udp_out(const struct probe_opts *o, struct probe_result *r);

/* Row 6: a STUN Binding transaction in o->dialect with a random marker (the
 * transaction id) to the edge's UDP 3478; PASS when the answer, in the same
 * dialect, carries our own address. */
void probe_row_stun_in(const struct probe_opts *o, struct probe_result *r);

#endif
