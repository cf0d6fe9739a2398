/* The HTML format: one self-contained HTML5 page (an inline stylesheet
 * and an inline SVG, nothing fetched, no script): the run and its summary,
 * the diagram of report_svg.c, then the rows' results and the negative
 * flows' as tables. Everything that comes from the results is escaped: a
 * detail may quote what a peer sent.
 *
 * Each table row is <tr class="verdict-V" id="row-NAME" data-verdict="V">,
 * NAME as its arrow's (out_html_id). The palette is Okabe and Ito's,
 * which colour-blind readers tell apart, the good verdicts in its cool
 * colours and the bad ones in its warm ones and purple, with the dark red
 * for EXPOSED, the worst; each colour comes with its verdict in words, and
 * a result that is not good has a dashed arrow. */
#include <string.h>

#include "probe/report_int.h"

/* --c: the verdict's colour; --fg: text on it (4.5:1 or better). */
static const char style[] =
    ":root{color-scheme:light;--pass:#009e73;--closed:#0072b2;--blocked:#d55e00;"
    "--rejected:#e69f00;--failed:#cc79a7;--exposed:#a50026}\n"
    ".verdict-pass{--c:var(--pass);--fg:#000}.verdict-closed{--c:var(--closed);--fg:#fff}\n"
    ".verdict-blocked{--c:var(--blocked);--fg:#000}.verdict-rejected{--c:var(--rejected);"
    "--fg:#000}\n.verdict-failed{--c:var(--failed);--fg:#000}.verdict-exposed,.verdict-fail"
    "{--c:var(--exposed);--fg:#fff}\n"
    "body{margin:0;background:#fff;color:#1e293b;font:14px/1.45 system-ui,'DejaVu Sans',"
    "'Segoe UI',sans-serif}\n"
    "main{max-width:1216px;margin:0 auto;padding:20px 16px 32px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}\n"
    ".meta{color:#475569;margin:0 0 10px}\n"
    ".overall{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:0 0 14px}\n"
    ".badge{display:inline-block;min-width:74px;text-align:center;padding:1px 8px;"
    "border-radius:4px;font-weight:700;background:var(--c);color:var(--fg)}\n"
    ".overall .badge{font-size:18px;padding:3px 14px}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:0 0 12px;padding:0;"
    "list-style:none;color:#475569;font-size:13px}\n"
    ".legend .badge{min-width:0;font-size:12px}\n"
    "svg.diagram{display:block;max-width:100%;height:auto;font-size:13px}\n"
    "svg .box rect{fill:#f1f5f9;stroke:#94a3b8;stroke-width:1.5}\n"
    "svg .fw rect{fill:url(#bricks);stroke:#64748b;stroke-width:2}\n"
    "#bricks rect{fill:#f3e8dc}#bricks path{stroke:#d6bfa8;stroke-width:1.5;fill:none}\n"
    "svg .title{font-size:17px;font-weight:700;text-anchor:middle;fill:#0f172a;"
    "paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}\n"
    "svg .sub{font-size:12px;text-anchor:middle;fill:#475569}svg .addr{font-weight:700}\n"
    "svg .band{font-size:12px;font-weight:700;fill:#475569;letter-spacing:.06em;"
    "text-transform:uppercase}\n"
    "svg .sep{stroke:#cbd5e1;stroke-dasharray:4 4}\n"
    "svg .label{fill:#0f172a;paint-order:stroke;stroke:#fff;stroke-width:4px;"
    "stroke-linejoin:round}\n"
    "svg .note{fill:#475569;font-style:italic}\n"
    "svg .flow line{stroke:var(--c);stroke-width:4}svg .flow .head,svg rect.badge"
    "{fill:var(--c)}\n"
    "svg .verdict-blocked line,svg .verdict-rejected line,svg .verdict-failed line,"
    "svg .verdict-exposed line{stroke-dasharray:10 5}\n"
    "svg text.badge{fill:var(--fg);font-weight:700;text-anchor:middle;font-size:12px}\n"
    "svg .time{fill:#475569;font-size:12px}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px}\n"
    "th{text-align:left;color:#475569;font-weight:600;border-bottom:2px solid #cbd5e1;"
    "padding:4px 8px}\n"
    "td{border-bottom:1px solid #e2e8f0;padding:4px 8px;vertical-align:top}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.flow{white-space:nowrap}td.detail{overflow-wrap:anywhere}\n"
    "tr>td:first-child{border-left:5px solid var(--c)}\n"
    "svg .inet>rect{fill:#f8fafc;stroke-dasharray:6 4}svg .dns>rect{fill:#e0f2fe}\n"
    "svg .break path{stroke:#b91c1c;stroke-width:5;stroke-linecap:round}\n";

/* The legend: every verdict's colour, with its name. */
static void html_legend(struct out *w)
{
	out_printf(w, "<ul class=\"legend\">");
	for (size_t v = 0; v < VERDICT_COUNT; v++) {
		out_printf(w, "<li><span class=\"badge ");
		out_verdict_class(w, (enum probe_verdict)v);
		out_printf(w, "\">%s</span></li>", probe_verdict_name((enum probe_verdict)v));
	}
	out_printf(w, "<li>dashed arrow: not good</li></ul>\n");
}

/* The run: target, start, duration, PASS (every result good) or FAIL,
 * and the table format's summary lines. */
static void html_header(struct out *w, const struct report_meta *m, const struct counts *c)
{
	char buf[64];
	const char *all = c->not_ok ? "FAIL" : "PASS";

	out_printf(w, "<h1>edgelab probe: ");
	out_html(w, m->target ? m->target : "?", m->target ? strlen(m->target) : 1);
	out_printf(w, "</h1>\n<p class=\"meta\">started ");
	out_html(w, m->started ? m->started : "?", m->started ? strlen(m->started) : 1);
	out_printf(w, ", %s</p>\n", secs_str(buf, sizeof(buf), m->seconds, "s", "-"));
	out_printf(w,
	           "<div class=\"overall verdict-%s\" id=\"overall\" data-verdict=\"%s\">"
	           "<span class=\"badge\">%s</span><span class=\"summary\">",
	           c->not_ok ? "fail" : "pass", all, all);
	out_summary_text(w, c);
	if (c->negs) {
		out_printf(w, "</span><span class=\"summary\">");
		out_closed_summary_text(w, c);
	}
	out_printf(w, "</span></div>\n");
	html_legend(w);
}

/* A result's table row: a row's number, flow and dialect, or a negative
 * flow's name; verdict, seconds, detail. */
static void html_row(struct out *w, const struct probe_result *r, size_t neg)
{
	char buf[64];
	const char *v = probe_verdict_name(r->verdict);

	out_printf(w, "<tr class=\"");
	out_verdict_class(w, r->verdict);
	out_printf(w, "\" id=\"row-");
	out_html_id(w, r, neg);
	out_printf(w, "\" data-verdict=\"%s\">", v);
	if (r->site[0]) { /* the federation lab's: site, rows, flow, where */
		out_printf(w, "<td class=\"flow\">");
		out_html(w, r->site, field_len(r->site, sizeof(r->site)));
		out_printf(w, "</td><td class=\"flow\">");
		out_html(w, r->rows, field_len(r->rows, sizeof(r->rows)));
		out_printf(w, "</td><td class=\"flow\">");
		out_html(w, r->flow, r->flow ? strlen(r->flow) : 0);
		out_printf(w, "</td><td class=\"flow\">");
		out_html(w, r->where, field_len(r->where, sizeof(r->where)));
	} else if (r->row) {
		out_printf(w, "<td class=\"num\">%d</td>", r->row);
	}
	if (!r->site[0]) {
		out_printf(w, "<td class=\"flow\">");
		out_html(w, r->flow, r->flow ? strlen(r->flow) : 0);
	}
	if (r->row && !r->site[0]) {
		out_printf(w, "</td><td>");
		out_html(w, r->dialect, field_len(r->dialect, sizeof(r->dialect)));
	}
	out_printf(w, "</td><td><span class=\"badge\">%s</span></td><td class=\"num\">%s</td>", v,
	           secs_str(buf, sizeof(buf), r->seconds, "s", "-"));
	out_printf(w, "<td class=\"detail\">");
	out_html(w, r->detail, field_len(r->detail, sizeof(r->detail)));
	out_printf(w, "</td></tr>\n");
}

/* The rows' table (neg false), or the negative flows'. */
static void html_table(struct out *w, const struct probe_result *res, size_t n, bool neg)
{
	size_t k = 0;

	if (!neg && results_have_sites(res, n))
		out_printf(w,
		           "<h2>The flows</h2>\n<table id=\"results\">\n<thead><tr><th>site</th>"
		           "<th>rows</th><th>flow</th><th>at</th><th>verdict</th><th class=\"num\">"
		           "time</th><th>detail</th></tr></thead>\n<tbody>\n");
	else
		out_printf(
		    w,
		    "<h2>%s</h2>\n<table id=\"%s\">\n<thead><tr>%s<th>flow</th>%s<th>verdict</th>"
		    "<th class=\"num\">time</th><th>detail</th></tr></thead>\n<tbody>\n",
		    neg ? "Must stay closed" : "The rows", neg ? "closed" : "results",
		    neg ? "" : "<th class=\"num\">row</th>", neg ? "" : "<th>dialect</th>");
	for (size_t i = 0; i < n; i++)
		if ((res[i].row == 0) == neg)
			html_row(w, &res[i], ++k);
	out_printf(w, "</tbody>\n</table>\n");
}

void write_html(struct out *w, const struct report_meta *m, const struct probe_result *res,
                size_t n, const struct counts *c)
{
	out_printf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	              "<title>edgelab probe: ");
	out_html(w, m->target ? m->target : "?", m->target ? strlen(m->target) : 1);
	out_printf(w, ": %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n",
	           c->not_ok ? "FAIL" : "PASS", style);
	html_header(w, m, c);
	if (results_have_sites(res, n))
		svg_federation(w, m, res, n, c);
	else
		svg_diagram(w, m, res, n, c);
	html_table(w, res, n, false);
	if (c->negs)
		html_table(w, res, n, true);
	out_printf(w, "</main>\n</body>\n</html>\n");
}
