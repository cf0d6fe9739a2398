/* The federation lab's flows and verdicts (`edgelab lab --topology
 * federation`): on the two-site world of lab/fed.h, each hop is tried on
 * its own and judged where it broke, then IM and A/V end to end.
 *
 * Hops, each a result with its site and the table rows it uses:
 *  - each edge's federation hop to the other (row 2 of its site, row 1 of
 *    the other's), asked of the edge through its control socket (POST
 *    /rows/2?partner=DOMAIN: DNS SRV, A, TCP, MTLS, OPTIONS); the edge's
 *    record says how it ended and the counters on the internet segment
 *    say whether the flow left the first site, so that a drop or a reject
 *    is placed at the right firewall; a DNS failure or a certificate that
 *    does not name the SRV target is FAILED with the reason;
 *  - IM both ways, A/V both ways (probe/fed_im.h, probe/fed_av.h), run by
 *    the clients inside the internet segment; a failure names the hop.
 * Nothing logs: the results carry the detail. */
#ifndef EDGELAB_PROBE_FED_H
#define EDGELAB_PROBE_FED_H

#include <stddef.h>
#include <stdio.h>

#include "lab/fed.h"
#include "probe/report.h"

#define PROBE_FED_RESULTS_MAX 24

struct probe_fed_opts {
	struct lab_fed_opts lab;
	enum report_format format; /* the report on stdout */
};

/* Builds the lab, runs every flow, writes the report to out, tears down.
 * 0 every flow passed, 1 one did not, -1 the lab could not be built or
 * was interrupted (err says why). */
int probe_fed_lab(const struct probe_fed_opts *o, FILE *out, char *err, size_t len);

/* The flows on a lab that is up: results in a fixed order (at most
 * PROBE_FED_RESULTS_MAX) and their count; 0, or EINTR when an interrupt
 * (lab/proc.h) came meanwhile (the results so far are kept). */
int probe_fed_run(const struct lab_fed *lab, struct probe_result *res, size_t *n);

/* The flows on a standing lab (lab_fed_open), the report to out: 0
 * every flow passed, 1 one did not, -1 the report could not be written
 * (err says so). */
int probe_fed_standing(const struct lab_fed *lab, enum report_format format, FILE *out, char *err,
                       size_t len);

#endif
