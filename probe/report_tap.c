/* The TAP 13 format: a test line per result, the rows first, then the
 * negative flows; a YAML block under a failed one, and the summaries as
 * comments. */
#include <string.h>

#include "probe/report_int.h"

/* A YAML block (TAP 13) keeps the detail exact where the line cannot: a
 * JSON string is a valid YAML double-quoted scalar. */
static void tap_yaml(struct out *w, const struct probe_result *r)
{
	out_printf(w, "  ---\n  verdict: %s\n", probe_verdict_name(r->verdict));
	if (r->site[0]) {
		out_printf(w, "  site: ");
		out_json_str(w, r->site, field_len(r->site, sizeof(r->site)));
		out_printf(w, "\n  at: ");
		out_json_str(w, r->where, field_len(r->where, sizeof(r->where)));
		out_printf(w, "\n");
	}
	out_printf(w, "  detail: ");
	out_json_str(w, r->detail, field_len(r->detail, sizeof(r->detail)));
	out_printf(w, "\n  seconds: ");
	out_json_num(w, r->seconds);
	out_printf(w, "\n  start: ");
	out_json_num(w, r->start);
	out_printf(w, "\n  end: ");
	out_json_num(w, r->end);
	out_printf(w, "\n  ...\n");
}

static void tap_result(struct out *w, size_t i, const struct probe_result *r)
{
	bool ok = probe_result_ok(r);

	out_printf(w, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
	out_name(w, r, esc_tap, "?");
	if (ok) {
		out_putc(w, '\n');
		return;
	}
	out_printf(w, " # %s: ", probe_verdict_name(r->verdict));
	out_escaped(w, r->detail, field_len(r->detail, sizeof(r->detail)), esc_tap, "?");
	out_putc(w, '\n');
	tap_yaml(w, r);
}

void write_tap(struct out *w, const struct report_meta *m, const struct probe_result *res, size_t n,
               const struct counts *c)
{
	out_printf(w, "TAP version 13\n1..%zu\n# edgelab probe: target ", n);
	out_escaped(w, m->target ? m->target : "?", m->target ? strlen(m->target) : 1, esc_text,
	            "?");
	out_printf(w, ", started ");
	out_escaped(w, m->started ? m->started : "?", m->started ? strlen(m->started) : 1, esc_text,
	            "?");
	out_putc(w, '\n');
	/* The rows first, then the negative flows, numbered on. */
	size_t k = 0;
	for (int neg = 0; neg < 2; neg++)
		for (size_t i = 0; i < n; i++)
			if ((res[i].row == 0) == neg)
				tap_result(w, k++, &res[i]);
	out_printf(w, "# ");
	out_summary_text(w, c);
	out_putc(w, '\n');
	if (c->negs) {
		out_printf(w, "# ");
		out_closed_summary_text(w, c);
		out_putc(w, '\n');
	}
}
