/* The table format: a header line, the rows' results in aligned columns
 * with a summary, then, when the strict mode ran, the negative flows in a
 * table of their own. */
#include <string.h>

#include "probe/report_int.h"

#define NEG_HEADING "MUST STAY CLOSED" /* the negative flows' first column */

/* Writes a field escaped and padded to width, then the column gap. */
static void table_cell(struct out *w, const char *s, size_t n, size_t width)
{
	out_escaped(w, s ? s : "", n, esc_text, "?");
	for (size_t used = text_width(s ? s : "", n); used < width; used++)
		out_putc(w, ' ');
	out_printf(w, "  ");
}

struct table_widths {
	size_t flow, dialect, time;
	size_t site, rows, where; /* the federation lab's columns: 0 when none has a site */
};

/* The widths of the rows' table (neg false) or of the negative flows'. */
static void table_widths_get(const struct probe_result *res, size_t n, bool neg,
                             struct table_widths *tw)
{
	char buf[64];

	tw->flow = strlen(neg ? NEG_HEADING : "FLOW");
	tw->dialect = strlen("DIALECT");
	tw->time = strlen("TIME");
	tw->site = tw->rows = tw->where = 0;
	for (size_t i = 0; i < n; i++) {
		const struct probe_result *r = &res[i];
		size_t sl = field_len(r->site, sizeof(r->site)),
		       rl = field_len(r->rows, sizeof(r->rows));
		size_t wl = field_len(r->where, sizeof(r->where));
		if (!sl)
			continue;
		tw->site = sl > tw->site ? sl : tw->site > 4 ? tw->site : 4;
		tw->rows = rl > tw->rows ? rl : tw->rows > 4 ? tw->rows : 4;
		tw->where = wl > tw->where ? wl : tw->where > 2 ? tw->where : 2;
	}
	for (size_t i = 0; i < n; i++) {
		const struct probe_result *r = &res[i];
		if ((r->row == 0) != neg)
			continue;
		size_t f = r->flow ? text_width(r->flow, strlen(r->flow)) : 0;
		size_t d = text_width(r->dialect, field_len(r->dialect, sizeof(r->dialect)));
		size_t t = strlen(secs_str(buf, sizeof(buf), r->seconds, "s", "-"));
		tw->flow = f > tw->flow ? f : tw->flow;
		tw->dialect = d > tw->dialect ? d : tw->dialect;
		tw->time = t > tw->time ? t : tw->time;
	}
}

static void table_row(struct out *w, const struct probe_result *r, const struct table_widths *tw)
{
	char buf[64];
	const char *t = secs_str(buf, sizeof(buf), r->seconds, "s", "-");
	size_t dl = field_len(r->detail, sizeof(r->detail));

	if (tw->site) {
		table_cell(w, r->site, field_len(r->site, sizeof(r->site)), tw->site);
		table_cell(w, r->rows, field_len(r->rows, sizeof(r->rows)), tw->rows);
		table_cell(w, r->flow, r->flow ? strlen(r->flow) : 0, tw->flow);
		out_printf(w, "%-9s  ", probe_verdict_name(r->verdict));
		table_cell(w, r->where, field_len(r->where, sizeof(r->where)), tw->where);
		out_printf(w, "%*s%s", (int)tw->time, t, dl ? "  " : "");
		out_escaped(w, r->detail, dl, esc_text, "?");
		out_putc(w, '\n');
		return;
	}
	if (r->row) {
		out_printf(w, "%-3d  ", r->row);
		table_cell(w, r->flow, r->flow ? strlen(r->flow) : 0, tw->flow);
		table_cell(w, r->dialect, field_len(r->dialect, sizeof(r->dialect)), tw->dialect);
	} else {
		table_cell(w, r->flow, r->flow ? strlen(r->flow) : 0, tw->flow);
	}
	/* DETAIL is last: no padding, and no trailing blanks when empty. */
	out_printf(w, "%-9s  %*s%s", probe_verdict_name(r->verdict), (int)tw->time, t,
	           dl ? "  " : "");
	out_escaped(w, r->detail, dl, esc_text, "?");
	out_putc(w, '\n');
}

/* The negative flows, apart from the rows: what must stay closed. */
static void table_negatives(struct out *w, const struct probe_result *res, size_t n,
                            const struct counts *c)
{
	struct table_widths tw;

	table_widths_get(res, n, true, &tw);
	out_printf(w, "\n%-*s  %-9s  %-*s  DETAIL\n", (int)tw.flow, NEG_HEADING, "VERDICT",
	           (int)tw.time, "TIME");
	for (size_t i = 0; i < n; i++)
		if (res[i].row == 0)
			table_row(w, &res[i], &tw);
	out_putc(w, '\n');
	out_closed_summary_text(w, c);
	out_putc(w, '\n');
}

void write_table(struct out *w, const struct report_meta *m, const struct probe_result *res,
                 size_t n, const struct counts *c)
{
	struct table_widths tw;
	char buf[64];

	out_printf(w, "edgelab probe: target ");
	out_escaped(w, m->target ? m->target : "?", m->target ? strlen(m->target) : 1, esc_text,
	            "?");
	out_printf(w, ", started ");
	out_escaped(w, m->started ? m->started : "?", m->started ? strlen(m->started) : 1, esc_text,
	            "?");
	out_printf(w, ", %s\n\n", secs_str(buf, sizeof(buf), m->seconds, "s", "-"));
	table_widths_get(res, n, false, &tw);
	if (tw.site)
		out_printf(w, "%-*s  %-*s  %-*s  %-9s  %-*s  %-*s  DETAIL\n", (int)tw.site, "SITE",
		           (int)tw.rows, "ROWS", (int)tw.flow, "FLOW", "VERDICT", (int)tw.where,
		           "AT", (int)tw.time, "TIME");
	else
		out_printf(w, "ROW  %-*s  %-*s  %-9s  %-*s  DETAIL\n", (int)tw.flow, "FLOW",
		           (int)tw.dialect, "DIALECT", "VERDICT", (int)tw.time, "TIME");
	for (size_t i = 0; i < n; i++)
		if (res[i].row)
			table_row(w, &res[i], &tw);
	out_putc(w, '\n');
	out_summary_text(w, c);
	out_putc(w, '\n');
	if (c->negs)
		table_negatives(w, res, n, c);
}
