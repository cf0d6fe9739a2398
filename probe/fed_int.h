/* What the federation lab's flows share (probe/fed.h); probe/fed*.c only. */
#ifndef EDGELAB_PROBE_FED_INT_H
#define EDGELAB_PROBE_FED_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "lab/fed.h"
#include "probe/report.h"

/* fed_common.c: r's verdict, where it broke ("" for none) and why. */
void fed_verdict(struct probe_result *r, enum probe_verdict v, const char *where, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
/* "fw-a", "edge-b": the names of where in results. */
const char *fed_fw(enum lab_site s);
const char *fed_edge(enum lab_site s);
/* d = after - before, counter by counter. */
void probe_fed_wire_diff(const struct lab_fed_wire *after, const struct lab_fed_wire *before,
                         struct lab_fed_wire *d);

/* fed_hop.c: edge S's federation hop to the other edge (row 2 of S, row 1
 * of the other), into r. */
void probe_fed_hop(const struct lab_fed *lab, enum lab_site s, struct probe_result *r);

/* fed_im_flows.c: IM both ways; four results appended to res at *n (each
 * client's registration, then each direction), judged with the hops'. */
void probe_fed_im(const struct lab_fed *lab, const struct probe_result hops[LAB_SITES],
                  struct probe_result *res, size_t *n);

/* fed_av_flows.c: A/V both ways; six results appended (each client's
 * allocation, each edge's relay to the other, the media each way). */
void probe_fed_av(const struct lab_fed *lab, struct probe_result *res, size_t *n);
/* The same over TCP: the allocations on the A/V edges' TCP 443, the relays
 * connecting to each other's from 50000-59999 (row 4); six results and the
 * fws' counters likewise. */
void probe_fed_av_tcp(const struct lab_fed *lab, struct probe_result *res, size_t *n);

/* fed_report.c: when the run began, for the report (UTC) and the clock. */
struct fed_clock {
	char started[32];
	double t0; /* flow_now() */
};
void probe_fed_clock(struct fed_clock *c);
/* Whether every result passed. */
bool probe_fed_ok(const struct probe_result *res, size_t n);
/* The report of n results to out: 0 every flow passed, 1 one did not, -1
 * it could not be written (err). */
int probe_fed_report(FILE *out, enum report_format format, const struct fed_clock *c,
                     const struct probe_result *res, size_t n, char *err, size_t len);

#endif
