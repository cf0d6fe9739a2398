/* The verdicts: their names and which of them is good for a result. Apart
 * from report.c so that the formats, which use these, and report.c, which
 * dispatches to the formats, do not depend on each other both ways. */
#include "probe/report_int.h"

static const char *const verdict_names[] = {
    [VERDICT_PASS] = "PASS",     [VERDICT_BLOCKED] = "BLOCKED", [VERDICT_REJECTED] = "REJECTED",
    [VERDICT_FAILED] = "FAILED", [VERDICT_CLOSED] = "CLOSED",   [VERDICT_EXPOSED] = "EXPOSED",
};

/* A new verdict needs a name here and VERDICT_COUNT moved on. */
_Static_assert(sizeof(verdict_names) / sizeof(verdict_names[0]) == VERDICT_COUNT,
               "a name for every verdict");

const char *probe_verdict_name(enum probe_verdict v)
{
	if ((unsigned)v >= VERDICT_COUNT)
		return "UNKNOWN";
	return verdict_names[v];
}

bool probe_result_ok(const struct probe_result *r)
{
	return r->verdict == (r->row ? VERDICT_PASS : VERDICT_CLOSED);
}
