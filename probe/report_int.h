/* What the report's files share and nobody else includes: the verdict
 * counts, the escaping writers of report_out.c, and the five formats'
 * writers that report.c dispatches to (report_table.c, report_json.c,
 * report_junit.c, report_tap.c, report_html.c), each one format and none
 * using another; report_svg.c draws the HTML page's diagram. */
#ifndef EDGELAB_PROBE_REPORT_INT_H
#define EDGELAB_PROBE_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/escape.h"
#include "core/textout.h"
#include "probe/report.h"

/* One past the last verdict; report_verdict.c checks it against its names. */
#define VERDICT_COUNT ((size_t)VERDICT_EXPOSED + 1)

/* The rows' verdicts and, apart, the negative flows' (row 0). */
struct counts {
	size_t v[VERDICT_COUNT], rows;
	size_t neg[VERDICT_COUNT], negs, not_ok;
};

/* A negative flow's verdict other than CLOSED or EXPOSED (the control
 * API could not tell) counts as failed. */
static inline size_t neg_failed(const struct counts *c)
{
	return c->negs - c->neg[VERDICT_CLOSED] - c->neg[VERDICT_EXPOSED];
}

/* ---- report_out.c: text helpers ---- */

/* The fixed arrays of a result may arrive without their NUL: never read past. */
size_t field_len(const char *s, size_t cap);
/* "0.012s"-style seconds; what a non-finite time is written as. */
const char *secs_str(char *buf, size_t cap, double v, const char *suffix, const char *nan);

/* "row 6 client -> edge STUN/UDP [rfc5389]": the JUnit and TAP test name. */
void out_name(struct out *w, const struct probe_result *r, esc_fn esc, const char *bad);
/* "1 passed, 0 blocked, ..." and "1 closed, 0 exposed, 0 failed". */
void out_summary_text(struct out *w, const struct counts *c);
void out_closed_summary_text(struct out *w, const struct counts *c);
/* The HTML page's name of a result, which its arrow's id ("flow-" NAME) and
 * its table row's ("row-" NAME) share: "row1", "row6-rfc5389" (the dialect
 * reduced to [a-z0-9_-]), or "neg3" for the third negative flow (neg, from
 * 1). Unique while the results' rows and dialects are, as the probe's are. */
/* At most chars characters of s (n bytes), escaped for HTML, and an
 * ellipsis where it was cut: an SVG label's room is fixed. */
void out_html_cut(struct out *w, const char *s, size_t n, size_t chars);
void out_html_id(struct out *w, const struct probe_result *r,
                 size_t neg); /* neg: the index in its list */
/* "verdict-pass", "verdict-blocked", ...: the verdict's class in the page. */
void out_verdict_class(struct out *w, enum probe_verdict v);

/* ---- the formats, one file each ---- */

void write_table(struct out *w, const struct report_meta *m, const struct probe_result *res,
                 size_t n, const struct counts *c);
void write_json(struct out *w, const struct report_meta *m, const struct probe_result *res,
                size_t n, const struct counts *c);
void write_junit(struct out *w, const struct report_meta *m, const struct probe_result *res,
                 size_t n, const struct counts *c);
void write_tap(struct out *w, const struct report_meta *m, const struct probe_result *res, size_t n,
               const struct counts *c);
void write_html(struct out *w, const struct report_meta *m, const struct probe_result *res,
                size_t n, const struct counts *c);

/* ---- report_svg.c: the HTML page's diagram, an inline <svg> ---- */

void svg_diagram(struct out *w, const struct report_meta *m, const struct probe_result *res,
                 size_t n, const struct counts *c);
/* report_svg_fed.c: the federation lab's (results with a site) instead. */
void svg_federation(struct out *w, const struct report_meta *m, const struct probe_result *res,
                    size_t n, const struct counts *c);
/* Whether these are the federation lab's results (probe/fed.h). */
static inline bool results_have_sites(const struct probe_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].site[0])
			return true;
	return false;
}

#endif
