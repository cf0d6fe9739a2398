/* What the federation lab's flows share (probe/fed_int.h). */
#include <stdarg.h>
#include <stdio.h>

#include "probe/fed_int.h"

void fed_verdict(struct probe_result *r, enum probe_verdict v, const char *where, const char *fmt,
                 ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->verdict = v;
	snprintf(r->where, sizeof(r->where), "%s", v == VERDICT_PASS ? "" : where);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

const char *fed_fw(enum lab_site s)
{
	return s == LAB_SITE_B ? "fw-b" : "fw-a";
}

const char *fed_edge(enum lab_site s)
{
	return s == LAB_SITE_B ? "edge-b" : "edge-a";
}

void probe_fed_wire_diff(const struct lab_fed_wire *after, const struct lab_fed_wire *before,
                         struct lab_fed_wire *d)
{
	for (int s = 0; s < LAB_SITES; s++) {
		d->syn[s] = after->syn[s] - before->syn[s];
		d->synack[s] = after->synack[s] - before->synack[s];
		d->turn[s] = after->turn[s] - before->turn[s];
		d->turn_back[s] = after->turn_back[s] - before->turn_back[s];
		d->dns[s] = after->dns[s] - before->dns[s];
		d->tcp[s] = after->tcp[s] - before->tcp[s];
		d->tcp_back[s] = after->tcp_back[s] - before->tcp_back[s];
		d->av_syn[s] = after->av_syn[s] - before->av_syn[s];
		d->av_synack[s] = after->av_synack[s] - before->av_synack[s];
	}
}
