/* An assessment's reports (docs/assess.md): the text on the terminal, the
 * Network Assessment Tool's Results.tsv, JSON. Each writes to f and returns
 * 0 or the first write error (core/textout.h). */
#ifndef EDGELAB_ASSESS_REPORT_H
#define EDGELAB_ASSESS_REPORT_H

#include <stdio.h>

#include "assess/assess.h"

/* Calls listed one a line up to this many in a step; beyond, the step's
 * line and its worst figures. */
#define ASSESS_TEXT_CALLS_MAX 20

/* The run on a terminal: what was asked, each step (its calls when few,
 * its worst figures), the misses named, the capacity with a ramp. */
int assess_report_text(FILE *f, const struct assess_opts *o, const struct assess_result *r);

/* Results.tsv: the tool's header and columns, a line per call of every
 * step: CallStartTime (UTC, "YYYY-MM-DD HH:MM:SS"), PacketLossRate and
 * PacketReorderRatio as fractions, RoundTripLatencyInMs and
 * AverageJitterInMs, PacketsSent, PacketsReceived. A call that never
 * streamed has no line. */
int assess_report_tsv(FILE *f, const struct assess_result *r);

/* One self-contained page: the run, each step's calls, and the last
 * step's loss, jitter and RTT second by second (inline SVG, the worst 20
 * calls), each target a dashed line. */
int assess_report_html(FILE *f, const struct assess_opts *o, const struct assess_result *r);

/* Everything, with each call's seconds. */
int assess_report_json(FILE *f, const struct assess_opts *o, const struct assess_result *r);

/* "UDP", "TCP". */
const char *assess_transport_name(enum assess_transport t);

/* "loss", "burst loss"...: the metrics of a miss mask, comma separated,
 * into buf. */
const char *assess_miss_str(unsigned miss, char *buf, size_t cap);

#endif
