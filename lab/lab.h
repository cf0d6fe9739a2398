/* `edgelab lab`: a whole test network in one command. Three network
 * namespaces joined by veth links,
 *
 *   outside fw0 192.0.2.10 --- outside0 192.0.2.1  fw  edge0 198.51.100.1 --- fw0 198.51.100.10
 * edge mgmt0 203.0.113.2 ----------------- mgmt ----------------- mgmt0 203.0.113.1
 *
 * (documentation ranges, RFC 5737: they never leave the namespaces). fw
 * forwards under the nftables policy of `edgelab rules` (or the user's);
 * `edgelab serve` runs in edge and `edgelab probe` in outside. The probe
 * shares nothing with the edge but the network: it has its own directory
 * (the CA, the partner's and the controller's certificates), the edge's
 * directory is hidden from it (a private mount namespace), and it drives
 * the outbound rows through the control API over HTTPS on the management
 * link, which bypasses the firewall as an out-of-band management network
 * would. Everything is torn down at the end, on failure and on Ctrl-C: no
 * namespace or process is left. */
#ifndef EDGELAB_LAB_LAB_H
#define EDGELAB_LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/ruleset.h"

#define LAB_OUTSIDE_ADDR    "192.0.2.10"
#define LAB_FW_OUTSIDE_ADDR "192.0.2.1"
#define LAB_FW_EDGE_ADDR    "198.51.100.1"
#define LAB_EDGE_ADDR       "198.51.100.10"
#define LAB_PARTNER_DOMAIN  "partner.example" /* the federation partner the probe plays */
#define LAB_PROBE_MGMT_ADDR "203.0.113.2"     /* outside's end of the management link */
#define LAB_EDGE_MGMT_ADDR  "203.0.113.1"     /* the edge's: its control API listens here */
#define LAB_CONTROL_PORT    "8443"
#define LAB_TURN_USER       "lab" /* the edge's TURN user, for `lab assess` */
#define LAB_REFLECTOR_PORT  4478  /* `lab assess`'s reflector, beside the edge's relay */
/* fw's interfaces, fixed so that a ruleset can name them (docs/lab.md):
 * the one facing the outside and the one facing the edge. outside and edge
 * each reach fw on LAB_HOST_FW_IF (default route) and each other's
 * management address on LAB_MGMT_IF. */
#define LAB_FW_OUTSIDE_IF "outside0"
#define LAB_FW_EDGE_IF    "edge0"
#define LAB_HOST_FW_IF    "fw0"
#define LAB_MGMT_IF       "mgmt0"
/* The strict mode's canaries on the edge (probe --strict sends to exactly
 * these): ports the port table does not open inbound. */
#define LAB_CANARY_TCP "80 3478 5060 5062 59999"
#define LAB_CANARY_UDP "3479 5060 59999"

/* What the lab passes on to `edgelab probe` (checked by the caller). */
struct lab_probe_args {
	const char *rows, *format, *timeout; /* probe's --rows, --format, --timeout */
	bool no_strict;                      /* no --strict (the negative flows) */
};

struct lab_opts {
	const char *self;     /* path of the edgelab binary to run in the namespaces */
	unsigned drop_mask;   /* rows whose rule is left out */
	unsigned reject_mask; /* rows whose rule rejects */
	struct lab_probe_args probe;
	/* The user's ruleset (nftables, iptables-restore or ip6tables-restore
	 * input) to load into fw instead of ours; nrules 0: ours. */
	struct ruleset rules[RULESET_FILES_MAX];
	size_t nrules;
	bool verbose; /* print each step and the edge's log */
};

/* Builds the lab, runs the probe (its report goes to stdout), tears down.
 * Returns the probe's exit status, or -1 when the lab could not be built or
 * was interrupted (err says why). */
int lab_run(const struct lab_opts *o, char *err, size_t err_len);

/* Removes namespaces left by a lab whose process is gone (kill -9). Returns
 * how many were removed. */
int lab_cleanup_stale(void);

#endif
