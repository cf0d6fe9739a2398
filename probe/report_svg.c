/* The HTML page's diagram, an inline SVG: outside, the firewall and the
 * edge as three boxes, left to right, and each result as one arrow across
 * the firewall, pointing the way its flow goes (inbound, outside -> edge:
 * left to right; outbound: right to left). An arrow takes its verdict's
 * colour from the page's stylesheet (report_html.c) and carries the
 * verdict in words, so that the page reads without colour. The rows'
 * results come first, then, under "must stay closed", the negative flows'.
 *
 * Each arrow is <g class="flow verdict-V DIR" id="flow-NAME"
 * data-verdict="V">: V the verdict (PASS, ...), DIR inbound or outbound,
 * NAME as out_html_id gives it (row1, row6-rfc5389, neg3) (fedN for the federation lab's). Bounded:
 * labels are cut at LABEL_CHARS characters, a band draws at most BAND_MAX arrows (the tables have
 * every result). */
#include <string.h>

#include "core/rows.h"
#include "probe/report_int.h"

#define SVG_W        1200
#define BOX_TOP      8
#define OUT_X        8 /* the outside box */
#define OUT_W        176
#define FW_X         692 /* the firewall */
#define FW_W         96
#define EDGE_X       1016 /* the edge */
#define EDGE_W       176
#define LABEL_X      (OUT_X + OUT_W + 14) /* labels and band headings */
#define BADGE_X      (FW_X + FW_W + 14)   /* the verdict, then the time */
#define BADGE_W      92
#define TIME_X       (BADGE_X + BADGE_W + 10)
#define HEAD_LEN     14  /* an arrowhead, 14 by 14 */
#define BAND_TOP     112 /* the first arrow's line, below the boxes' titles */
#define FLOW_H       34  /* one arrow: its label, then its line */
#define BAND_GAP     44  /* above the negative flows' band, for its heading */
#define BOTTOM       24
#define LABEL_CHARS  64 /* a label's room between outside and the firewall */
#define TARGET_CHARS 22
#define BAND_MAX     64

/* A row's from the port table; a negative flow's (or a row the table does
 * not know) from its name: the outbound ones start "edge -> ". */
static bool flow_inbound(const struct probe_result *r)
{
	const struct row *row = rows_get(r->row);

	if (row)
		return row->direction == ROW_INBOUND;
	return !(r->flow && strncmp(r->flow, "edge -> ", 8) == 0);
}

/* "row 6 client -> edge STUN/UDP 3478 [rfc5389]", or the negative flow's
 * name. Row 4's rule is on the edge's source ports. */
static void svg_label(struct out *w, const struct probe_result *r)
{
	const struct row *row = rows_get(r->row);
	size_t dl = field_len(r->dialect, sizeof(r->dialect));

	if (r->row)
		out_printf(w, "row %d ", r->row);
	out_html_cut(w, r->flow, r->flow ? strlen(r->flow) : 0, LABEL_CHARS);
	if (row && row->src_port_min)
		out_printf(w, " from %u-%u", row->src_port_min, row->src_port_max);
	else if (row && row->dst_port_min == row->dst_port_max)
		out_printf(w, " %u", row->dst_port_min);
	if (dl) {
		out_printf(w, " [");
		out_html(w, r->dialect, dl);
		out_printf(w, "]");
	}
}

/* One arrow with its line at y: its label above it on the outside's side
 * of the firewall, its verdict and time on the edge's side. */
static void svg_flow(struct out *w, const struct probe_result *r, size_t neg, int y)
{
	char buf[64];
	const char *v = probe_verdict_name(r->verdict);
	bool in = flow_inbound(r);
	int tail = in ? OUT_X + OUT_W : EDGE_X, head = in ? EDGE_X : OUT_X + OUT_W;
	int back = in ? head - HEAD_LEN : head + HEAD_LEN; /* the arrowhead's base */

	out_printf(w, "<g class=\"flow ");
	out_verdict_class(w, r->verdict);
	out_printf(w, " %s\" id=\"flow-", in ? "inbound" : "outbound");
	out_html_id(w, r, neg);
	out_printf(w, "\" data-verdict=\"%s\">\n<title>", v);
	out_name(w, r, esc_html, "&#xFFFD;");
	out_printf(w, ": %s, %s: ", v, secs_str(buf, sizeof(buf), r->seconds, "s", "-"));
	out_html(w, r->detail, field_len(r->detail, sizeof(r->detail)));
	out_printf(w, "</title>\n<text class=\"label\" x=\"%d\" y=\"%d\">", LABEL_X, y - 10);
	svg_label(w, r);
	out_printf(w, "</text>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", tail, y, back, y);
	out_printf(w, "<path class=\"head\" d=\"M%d %dL%d %dL%d %dZ\"/>\n", head, y, back,
	           y - HEAD_LEN / 2, back, y + HEAD_LEN / 2);
	out_printf(w,
	           "<rect class=\"badge\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" rx=\"4\"/>"
	           "<text class=\"badge\" x=\"%d\" y=\"%d\">%s</text>",
	           BADGE_X, y - 27, BADGE_W, BADGE_X + BADGE_W / 2, y - 12, v);
	out_printf(w, "<text class=\"time\" x=\"%d\" y=\"%d\">%s</text>\n</g>\n", TIME_X, y - 12,
	           secs_str(buf, sizeof(buf), r->seconds, "s", "-"));
}

/* The lines a band of count results takes: an arrow each, at most
 * BAND_MAX, and a note for how many more the tables have, or for none. */
static size_t band_lines(size_t count)
{
	return count > BAND_MAX ? BAND_MAX + 1 : count ? count : 1;
}

/* The rows' results (neg false) or the negative flows', from y (the first
 * arrow's line) down. */
static void svg_band(struct out *w, const struct probe_result *res, size_t n, bool neg,
                     size_t count, int y)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < BAND_MAX; i++)
		if ((res[i].row == 0) == neg) {
			svg_flow(w, &res[i], k + 1, y + (int)k * FLOW_H);
			k++;
		}
	if (count > k || !count)
		out_printf(w, "<text class=\"note\" x=\"%d\" y=\"%d\">", LABEL_X,
		           y + (int)k * FLOW_H - 10);
	if (count > k)
		out_printf(w, "%zu more in the table below</text>\n", count - k);
	else if (!count)
		out_printf(w, "no results</text>\n");
}

/* The three boxes, as tall as the diagram, with their titles. */
static void svg_boxes(struct out *w, const struct report_meta *m, int height)
{
	int h = height - 2 * BOX_TOP;
	size_t tl = m->target ? strlen(m->target) : 0;

	out_printf(w,
	           "<g class=\"box\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\"/>"
	           "<text class=\"title\" x=\"%d\" y=\"40\">outside</text>"
	           "<text class=\"sub\" x=\"%d\" y=\"62\">probe, partner, clients</text></g>\n",
	           OUT_X, BOX_TOP, OUT_W, h, OUT_X + OUT_W / 2, OUT_X + OUT_W / 2);
	/* A wall of bricks, drawn here: the page fetches nothing. */
	out_printf(w, "<defs><pattern id=\"bricks\" width=\"32\" height=\"20\" "
	              "patternUnits=\"userSpaceOnUse\"><rect width=\"32\" height=\"20\"/>"
	              "<path d=\"M0 10H32M0 20H32M16 0V10M0 10V20M32 10V20\"/></pattern></defs>\n");
	out_printf(
	    w,
	    "<g class=\"box fw\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\"/>"
	    "<text class=\"title\" x=\"%d\" y=\"40\">firewall</text></g>\n",
	    FW_X, BOX_TOP, FW_W, h, FW_X + FW_W / 2);
	out_printf(w,
	           "<g class=\"box\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\"/>"
	           "<text class=\"title\" x=\"%d\" y=\"40\">edge</text>"
	           "<text class=\"sub\" x=\"%d\" y=\"62\">access interface</text>"
	           "<text class=\"sub addr\" x=\"%d\" y=\"82\">",
	           EDGE_X, BOX_TOP, EDGE_W, h, EDGE_X + EDGE_W / 2, EDGE_X + EDGE_W / 2,
	           EDGE_X + EDGE_W / 2);
	out_html_cut(w, m->target, tl, TARGET_CHARS);
	out_printf(w, "</text></g>\n");
}

void svg_diagram(struct out *w, const struct report_meta *m, const struct probe_result *res,
                 size_t n, const struct counts *c)
{
	int rows_h = (int)band_lines(c->rows) * FLOW_H;
	int negs_top = BAND_TOP + rows_h + BAND_GAP;
	int height = BAND_TOP + rows_h - FLOW_H + BOTTOM;

	if (c->negs)
		height = negs_top + (int)band_lines(c->negs) * FLOW_H - FLOW_H + BOTTOM;
	out_printf(w,
	           "<svg class=\"diagram\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	           "role=\"img\" aria-labelledby=\"diagram-title\">\n"
	           "<title id=\"diagram-title\">Each result as an arrow through the firewall, "
	           "the way its flow goes</title>\n",
	           SVG_W, height, SVG_W, height);
	svg_boxes(w, m, height);
	out_printf(w, "<text class=\"band\" x=\"%d\" y=\"%d\">the port table's rows</text>\n",
	           LABEL_X, BAND_TOP - FLOW_H - 4);
	svg_band(w, res, n, false, c->rows, BAND_TOP);
	if (c->negs) {
		out_printf(w,
		           "<line class=\"sep\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		           "<text class=\"band\" x=\"%d\" y=\"%d\">must stay closed</text>\n",
		           OUT_X + OUT_W, negs_top - FLOW_H - 22, EDGE_X, negs_top - FLOW_H - 22,
		           LABEL_X, negs_top - FLOW_H - 4);
		svg_band(w, res, n, true, c->negs, negs_top);
	}
	out_printf(w, "</svg>\n");
}
