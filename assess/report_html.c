/* An assessment as one self-contained HTML page (assess/report.h): the run
 * and Microsoft's targets, each step's calls in a table, and for the last
 * step the calls' loss, jitter and round trip second by second, drawn in
 * inline SVG (nothing fetched, no script), the target a dashed line. Every
 * text from the run is escaped. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "assess/report.h"
#include "core/addr.h"
#include "core/escape.h"
#include "core/textout.h"

#define PLOT_CALLS_MAX  20 /* lines a chart draws: the worst calls first */
#define TABLE_CALLS_MAX 100
#define CHART_W         380
#define CHART_H         170
#define PAD_L           46
#define PAD_B           24
#define PAD_T           22

static const char style[] =
    "body{margin:0;background:#fff;color:#1e293b;font:14px/1.45 system-ui,'DejaVu Sans',"
    "sans-serif}main{max-width:1216px;margin:0 auto;padding:20px 16px 32px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
    ".meta{color:#475569;margin:0 0 10px}\n"
    ".badge{display:inline-block;padding:1px 10px;border-radius:4px;font-weight:700}"
    ".met{background:#009e73;color:#000}.missed{background:#d55e00;color:#000}"
    ".failed{background:#cc79a7;color:#000}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px}th{text-align:left;color:#475569;"
    "border-bottom:2px solid #cbd5e1;padding:4px 8px}td{border-bottom:1px solid #e2e8f0;"
    "padding:4px 8px}.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}svg.chart{font-size:11px}"
    "svg .axis{stroke:#94a3b8}svg .target{stroke:#a50026;stroke-dasharray:6 4}"
    "svg polyline{fill:none;stroke-width:1.5}svg text{fill:#475569}\n";

/* Okabe and Ito's palette, which colour-blind readers tell apart. */
static const char *const palette[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                      "#56b4e9", "#d55e00", "#f0e442", "#000000"};

enum series { S_LOSS, S_JITTER, S_RTT };

/* A call's value in bin b of a series; NAN when nothing was sent. */
static double value(const struct assess_bin *x, enum series s)
{
	if (!x->sent)
		return NAN;
	if (s == S_LOSS)
		return 100.0 * (x->sent - x->received) / x->sent;
	if (!x->received)
		return NAN;
	return s == S_JITTER ? x->jitter_ms : x->rtt_ms;
}

/* The calls a chart draws: those that streamed, worst loss first. */
static size_t plotted(const struct assess_step *st, const struct assess_call **out)
{
	size_t n = 0;
	for (uint32_t i = 0; i < st->calls; i++) {
		const struct assess_call *c = &st->call[i];
		size_t at;
		if (c->error[0] || !c->nbins)
			continue;
		if (n < PLOT_CALLS_MAX)
			at = n++;
		else if (c->stats.loss > out[n - 1]->stats.loss)
			at = n - 1;
		else
			continue;
		while (at > 0 && out[at - 1]->stats.loss < c->stats.loss) {
			out[at] = out[at - 1];
			at--;
		}
		out[at] = c;
	}
	return n;
}

static void chart(struct out *w, const char *title, const char *unit, enum series s, double target,
                  const struct assess_call *const *calls, size_t n)
{
	uint32_t bins = 0;
	double top = target;
	for (size_t i = 0; i < n; i++) {
		if (calls[i]->nbins > bins)
			bins = calls[i]->nbins;
		for (uint32_t b = 0; b < calls[i]->nbins; b++) {
			double v = value(&calls[i]->bins[b], s);
			if (isfinite(v) && v > top)
				top = v;
		}
	}
	top = top > 0 ? top * 1.1 : 1;
	double pw = CHART_W - PAD_L - 8, ph = CHART_H - PAD_T - PAD_B;
	double dx = bins > 1 ? pw / (bins - 1) : 0;
	out_printf(
	    w,
	    "<svg class=\"chart\" data-series=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 "
	    "%d %d\" role=\"img\">\n<text x=\"%d\" y=\"14\" font-weight=\"700\">%s (%s)</text>\n",
	    title, CHART_W, CHART_H, CHART_W, CHART_H, PAD_L, title, unit);
	out_printf(
	    w,
	    "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.0f\"/><line class=\"axis\" "
	    "x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\"/>\n",
	    PAD_L, PAD_T, PAD_L, PAD_T + ph, PAD_L, PAD_T + ph, CHART_W - 8, PAD_T + ph);
	out_printf(w,
	           "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text><text x=\"%d\" "
	           "y=\"%.0f\" text-anchor=\"end\">0</text><text x=\"%d\" y=\"%d\">0 s</text>"
	           "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%u s</text>\n",
	           PAD_L - 4, PAD_T + 4, top, PAD_L - 4, PAD_T + ph, PAD_L, CHART_H - 6,
	           CHART_W - 8, CHART_H - 6, bins ? bins - 1 : 0);
	if (target > 0 && target < top)
		out_printf(w,
		           "<line class=\"target\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
		           PAD_L, PAD_T + ph - ph * target / top, CHART_W - 8,
		           PAD_T + ph - ph * target / top);
	for (size_t i = 0; i < n; i++) {
		out_printf(w, "<polyline data-call=\"%u\" stroke=\"%s\" points=\"", calls[i]->id,
		           palette[i % (sizeof(palette) / sizeof(palette[0]))]);
		for (uint32_t b = 0; b < calls[i]->nbins; b++) {
			double v = value(&calls[i]->bins[b], s);
			if (isfinite(v))
				out_printf(w, "%s%.1f,%.1f", b ? " " : "", PAD_L + dx * b,
				           PAD_T + ph - ph * v / top);
		}
		out_printf(w, "\"/>\n");
	}
	out_printf(w, "</svg>\n");
}

static void call_row(struct out *w, const struct assess_call *c)
{
	char miss[96];
	const struct assess_stats *s = &c->stats;
	const char *cls = c->error[0] ? "failed" : c->miss ? "missed" : "met";
	out_printf(
	    w,
	    "<tr class=\"call-%s\"><td class=\"num\">%u</td><td><span class=\"badge %s\">%s</span>",
	    cls, c->id, cls, cls);
	if (c->error[0]) {
		out_printf(w, "</td><td colspan=\"8\">");
		out_html(w, c->error, strnlen(c->error, sizeof(c->error)));
		out_printf(w, "</td></tr>\n");
		return;
	}
	if (c->miss) {
		out_printf(w, " ");
		assess_miss_str(c->miss, miss, sizeof(miss));
		out_html(w, miss, strlen(miss));
	}
	out_printf(
	    w,
	    "</td><td class=\"num\">%.2f %%</td><td class=\"num\">%.2f %%</td><td class=\"num\">"
	    "%.1f %%</td><td class=\"num\">%.2f ms</td><td class=\"num\">%.2f ms</td>"
	    "<td class=\"num\">%.3f %%</td><td class=\"num\">%u</td><td class=\"num\">%u</td>"
	    "</tr>\n",
	    s->loss * 100, s->loss_worst * 100, s->burst_worst * 100, s->jitter_worst_ms, s->rtt_ms,
	    s->reorder * 100, s->sent, s->received);
}

static void step_table(struct out *w, const struct assess_step *st)
{
	out_printf(w, "<table><tr><th class=\"num\">call</th><th>targets</th><th class=\"num\">loss"
	              "</th><th class=\"num\">worst 15 s</th><th class=\"num\">worst 200 ms</th>"
	              "<th class=\"num\">jitter (worst 15 s)</th><th class=\"num\">RTT</th>"
	              "<th class=\"num\">reorder</th><th class=\"num\">sent</th><th class=\"num\">"
	              "received</th></tr>\n");
	for (uint32_t i = 0; i < st->calls && i < TABLE_CALLS_MAX; i++)
		call_row(w, &st->call[i]);
	out_printf(w, "</table>\n");
	if (st->calls > TABLE_CALLS_MAX)
		out_printf(w, "<p class=\"meta\">and %u more calls (the JSON has them all)</p>\n",
		           st->calls - TABLE_CALLS_MAX);
}

int assess_report_html(FILE *f, const struct assess_opts *o, const struct assess_result *r)
{
	struct out w = {f, 0};
	char server[64], reflector[64];
	const struct assess_targets *t = assess_targets(o->profile);
	const struct assess_step *last = r->nsteps ? &r->steps[r->nsteps - 1] : NULL;
	bool met = last && last->met == last->calls;
	addr_str((const struct sockaddr *)&o->server, server, sizeof(server));
	addr_str((const struct sockaddr *)&o->reflector, reflector, sizeof(reflector));
	out_printf(&w,
	           "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
	           "edgelab assess: %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n",
	           met ? "met" : "missed", style);
	out_printf(&w, "<h1>edgelab assess <span class=\"badge %s\">%s</span></h1>\n",
	           met ? "met" : "missed", met ? "every call met every target" : "targets missed");
	out_printf(&w, "<p class=\"meta\">%s over %s to ",
	           o->dialect == ASSESS_DIALECT_MSTURN ? "MS-TURN" : "RFC 5766 TURN",
	           assess_transport_name(o->transport));
	out_html(&w, server, strlen(server));
	out_printf(&w, ", reflector ");
	out_html(&w, reflector, strlen(reflector));
	out_printf(&w, "; %u s a call, %u packets/s of %u bytes</p>\n", o->duration_s, o->rate,
	           o->size);
	out_printf(
	    &w,
	    "<p class=\"meta\">%s targets: loss &lt; %g %% in any 15 s, burst loss &lt; %g %% in "
	    "any 200 ms, jitter &lt; %g ms, reorder &lt; %g %%, RTT &lt; %g ms",
	    t->name, t->loss * 100, t->burst * 100, t->jitter_ms, t->reorder * 100, t->rtt_ms);
	if (o->ramp_step)
		out_printf(&w, "; capacity: <strong>%u</strong> concurrent calls", r->capacity);
	out_printf(&w, "</p>\n");
	for (uint32_t k = 0; k < r->nsteps; k++) {
		const struct assess_step *st = &r->steps[k];
		out_printf(&w, "<h2>%u calls: %u met every target, %u missed, %u failed</h2>\n",
		           st->calls, st->met, st->calls - st->met - st->failed, st->failed);
		step_table(&w, st);
	}
	if (last) {
		const struct assess_call *calls[PLOT_CALLS_MAX];
		size_t n = plotted(last, calls);
		out_printf(&w, "<h2>Second by second: %zu call%s of the last step%s</h2>\n", n,
		           n == 1 ? "" : "s", last->calls > n ? " (the worst)" : "");
		out_printf(&w, "<div class=\"charts\">\n");
		chart(&w, "loss", "%", S_LOSS, t->loss * 100, calls, n);
		chart(&w, "jitter", "ms", S_JITTER, t->jitter_ms, calls, n);
		chart(&w, "RTT", "ms", S_RTT, t->rtt_ms, calls, n);
		out_printf(&w, "</div>\n");
	}
	out_printf(&w, "</main>\n</body>\n</html>\n");
	return out_finish(&w);
}
