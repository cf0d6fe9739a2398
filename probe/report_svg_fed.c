/* The HTML page's diagram for the federation lab (probe/fed.h): edge A,
 * fw A, the internet (the DNS server and the two remote clients), fw B,
 * edge B, left to right, and each result as one arrow between the places
 * its flow joins, pointing the way it goes, in its verdict's colour (the
 * page's stylesheet) with the verdict in words. Where a flow broke (the
 * result's `where`) is marked with a cross on that firewall, the DNS
 * server or the edge.
 *
 * Each arrow is <g class="flow verdict-V" id="flow-fedN" data-verdict="V"
 * data-site="S" data-at="W">; each cross <g class="break" id="break-fedN"
 * data-at="W">. Bounded like report_svg.c: labels cut, at most BAND_MAX
 * arrows. */
#include <string.h>

#include "probe/report_int.h"

#define SVG_W       1200
#define BOX_TOP     8
#define EA_X        8 /* edge A */
#define EDGE_W      150
#define FWA_X       196 /* fw A */
#define FW_W        56
#define INET_X      290 /* the internet */
#define INET_W      620
#define FWB_X       (INET_X + INET_W + 38)
#define EB_X        (SVG_W - 8 - EDGE_W)       /* edge B */
#define DNS_X       (INET_X + INET_W / 2 - 70) /* the DNS server, in the internet */
#define DNS_W       140
#define CLIENT_A_X  (INET_X + 70) /* where alice and bob sit */
#define CLIENT_B_X  (INET_X + INET_W - 70)
#define BAND_TOP    150
#define FLOW_H      40
#define HEAD_LEN    14
#define BADGE_W     92
#define LABEL_CHARS 70
#define BAND_MAX    32

/* Where a flow starts and ends: between the sites ("a>b"), or within one
 * ("a": its client to its edge, or its edge out to the DNS server). */
static void flow_ends(const struct probe_result *r, int *tail, int *head)
{
	bool outbound = r->flow && strncmp(r->flow, "edge ", 5) == 0;
	bool b = r->site[0] == 'b';
	int edge = b ? EB_X : EA_X + EDGE_W;
	int far = strstr(r->flow ? r->flow : "", "DNS") ? DNS_X + (b ? DNS_W : 0)
	                                                : (b ? CLIENT_B_X : CLIENT_A_X);
	if (r->site[1] == '>') { /* between the sites */
		*tail = b ? EB_X : EA_X + EDGE_W;
		*head = b ? EA_X + EDGE_W : EB_X;
		return;
	}
	*tail = outbound ? edge : far;
	*head = outbound ? far : edge;
}

/* The x where it broke, or -1. */
static int break_x(const char *where)
{
	static const struct {
		const char *name;
		int x;
	} at[] = {
	    {"fw-a", FWA_X + FW_W / 2},    {"fw-b", FWB_X + FW_W / 2}, {"dns", DNS_X + DNS_W / 2},
	    {"edge-a", EA_X + EDGE_W - 4}, {"edge-b", EB_X + 4},       {"client-a", CLIENT_A_X},
	    {"client-b", CLIENT_B_X},
	};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (!strcmp(where, at[i].name))
			return at[i].x;
	return -1;
}

static void fed_flow(struct out *w, const struct probe_result *r, size_t k, int y)
{
	char buf[64];
	const char *v = probe_verdict_name(r->verdict);
	int tail, head;
	flow_ends(r, &tail, &head);
	int back = head > tail ? head - HEAD_LEN : head + HEAD_LEN;
	int left = tail < head ? tail : head;

	out_printf(w, "<g class=\"flow ");
	out_verdict_class(w, r->verdict);
	out_printf(w, "\" id=\"flow-fed%zu\" data-verdict=\"%s\" data-site=\"", k, v);
	out_html(w, r->site, field_len(r->site, sizeof(r->site)));
	out_printf(w, "\" data-at=\"");
	out_html(w, r->where, field_len(r->where, sizeof(r->where)));
	out_printf(w, "\">\n<title>");
	out_name(w, r, esc_html, "&#xFFFD;");
	out_printf(w, ": %s, %s: ", v, secs_str(buf, sizeof(buf), r->seconds, "s", "-"));
	out_html(w, r->detail, field_len(r->detail, sizeof(r->detail)));
	out_printf(w, "</title>\n<text class=\"label\" x=\"%d\" y=\"%d\">", left + 8, y - 10);
	if (r->rows[0]) {
		out_html(w, r->rows, field_len(r->rows, sizeof(r->rows)));
		out_printf(w, ": ");
	}
	out_html_cut(w, r->flow, r->flow ? strlen(r->flow) : 0, LABEL_CHARS);
	out_printf(w, "</text>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", tail, y, back, y);
	out_printf(w, "<path class=\"head\" d=\"M%d %dL%d %dL%d %dZ\"/>\n", head, y, back,
	           y - HEAD_LEN / 2, back, y + HEAD_LEN / 2);
	/* The badge in the internet, clear of the firewalls: at its right end for
	 * a flow between the sites, beyond the arrow's end for one within a site. */
	int right = tail > head ? tail : head;
	int bx = r->site[1] == '>'   ? INET_X + INET_W - BADGE_W - 12
	         : r->site[0] == 'b' ? left - BADGE_W - 12
	                             : right + 12;
	out_printf(w,
	           "<rect class=\"badge\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" rx=\"4\"/>"
	           "<text class=\"badge\" x=\"%d\" y=\"%d\">%s</text>\n</g>\n",
	           bx, y - 27, BADGE_W, bx + BADGE_W / 2, y - 12, v);
	int x = r->verdict == VERDICT_PASS ? -1 : break_x(r->where);
	if (x >= 0) {
		out_printf(w, "<g class=\"break\" id=\"break-fed%zu\" data-at=\"", k);
		out_html(w, r->where, field_len(r->where, sizeof(r->where)));
		out_printf(w, "\"><path d=\"M%d %dL%d %dM%d %dL%d %d\"/></g>\n", x - 9, y - 9,
		           x + 9, y + 9, x - 9, y + 9, x + 9, y - 9);
	}
}

static void box(struct out *w, const char *cls, int x, int y, int wd, int h, const char *title,
                const char *sub, const char *addr)
{
	out_printf(
	    w,
	    "<g class=\"box%s\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\"/>"
	    "<text class=\"title\" x=\"%d\" y=\"%d\">%s</text>",
	    cls, x, y, wd, h, x + wd / 2, y + 30, title);
	if (sub)
		out_printf(w, "<text class=\"sub\" x=\"%d\" y=\"%d\">%s</text>", x + wd / 2, y + 50,
		           sub);
	if (addr)
		out_printf(w, "<text class=\"sub addr\" x=\"%d\" y=\"%d\">%s</text>", x + wd / 2,
		           y + 68, addr);
	out_printf(w, "</g>\n");
}

/* The places, as tall as the diagram. The names and addresses are the
 * federation lab's (lab/fed.h), fixed. */
static void places(struct out *w, int height)
{
	int h = height - 2 * BOX_TOP;
	out_printf(w, "<defs><pattern id=\"bricks\" width=\"32\" height=\"20\" "
	              "patternUnits=\"userSpaceOnUse\"><rect width=\"32\" height=\"20\"/>"
	              "<path d=\"M0 10H32M0 20H32M16 0V10M0 10V20M32 10V20\"/></pattern></defs>\n");
	box(w, "", EA_X, BOX_TOP, EDGE_W, h, "edge A", "sip.a.example", "198.51.100.10");
	box(w, " fw", FWA_X, BOX_TOP, FW_W, h, "fw A", NULL, NULL);
	box(w, " inet", INET_X, BOX_TOP, INET_W, h, "internet", NULL, NULL);
	box(w, " dns", DNS_X, BOX_TOP + 36, DNS_W, 78, "DNS", "dnsmasq", "192.0.2.53");
	out_printf(w,
	           "<text class=\"sub\" x=\"%d\" y=\"%d\">alice@a.example</text>"
	           "<text class=\"sub\" x=\"%d\" y=\"%d\">bob@b.example</text>\n",
	           CLIENT_A_X, BOX_TOP + 62, CLIENT_B_X, BOX_TOP + 62);
	box(w, " fw", FWB_X, BOX_TOP, FW_W, h, "fw B", NULL, NULL);
	box(w, "", EB_X, BOX_TOP, EDGE_W, h, "edge B", "sip.b.example", "203.0.113.10");
}

void svg_federation(struct out *w, const struct report_meta *m, const struct probe_result *res,
                    size_t n, const struct counts *c)
{
	size_t shown = n < BAND_MAX ? n : BAND_MAX;
	int height = BAND_TOP + (int)(shown ? shown : 1) * FLOW_H;
	(void)m;
	(void)c;
	out_printf(w,
	           "<svg class=\"diagram federation\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	           "height=\"%d\" role=\"img\" aria-labelledby=\"diagram-title\">\n"
	           "<title id=\"diagram-title\">Two sites, each an edge behind its firewall, and "
	           "the internet between them: each result as an arrow between the places its "
	           "flow joins, a cross where it broke</title>\n",
	           SVG_W, height, SVG_W, height);
	places(w, height);
	for (size_t i = 0; i < shown; i++)
		fed_flow(w, &res[i], i + 1, BAND_TOP + (int)i * FLOW_H);
	if (n > shown)
		out_printf(
		    w,
		    "<text class=\"note\" x=\"%d\" y=\"%d\">%zu more in the table below</text>\n",
		    INET_X + 10, height - 8, n - shown);
	out_printf(w, "</svg>\n");
}
