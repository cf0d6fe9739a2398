/* The text under every format: a result's fields read within their arrays,
 * written through a format's escaper (text, TAP, JSON, XML, HTML) with
 * invalid UTF-8 replaced, the JSON and XML values, the test name JUnit and
 * TAP share, the ids and classes of the HTML page, the summary lines and
 * the seconds. */
#include <math.h>
#include <string.h>

#include "probe/report_int.h"

size_t field_len(const char *s, size_t cap)
{
	return s ? strnlen(s, cap) : 0;
}

void out_name(struct out *w, const struct probe_result *r, esc_fn esc, const char *bad)
{
	char buf[32];
	size_t dl = field_len(r->dialect, sizeof(r->dialect));

	if (r->site[0]) { /* the federation lab's: "site a>b (rows a2 b1) FLOW" */
		out_printf(w, "site ");
		out_escaped(w, r->site, field_len(r->site, sizeof(r->site)), esc, bad);
		if (r->rows[0]) {
			out_printf(w, " (rows ");
			out_escaped(w, r->rows, field_len(r->rows, sizeof(r->rows)), esc, bad);
			out_printf(w, ")");
		}
		buf[0] = ' ', buf[1] = '\0';
	} else if (r->row)
		snprintf(buf, sizeof(buf), "row %d ", r->row);
	else
		snprintf(buf, sizeof(buf), "must stay closed: ");
	out_printf(w, "%s", buf);
	out_escaped(w, r->flow ? r->flow : "", r->flow ? strlen(r->flow) : 0, esc, bad);
	if (dl) {
		out_printf(w, " [");
		out_escaped(w, r->dialect, dl, esc, bad);
		out_printf(w, "]");
	}
}

void out_html_cut(struct out *w, const char *s, size_t n, size_t chars)
{
	size_t cut = text_prefix(s ? s : "", n, chars);
	out_html(w, s, cut);
	if (cut < n)
		out_printf(w, "\xe2\x80\xa6"); /* ... */
}

void out_html_id(struct out *w, const struct probe_result *r, size_t neg)
{
	size_t dl = field_len(r->dialect, sizeof(r->dialect));

	if (!r->row) {
		out_printf(w, "neg%zu", neg);
		return;
	}
	if (r->site[0]) { /* the federation lab's: its place in the list */
		out_printf(w, "fed%zu", neg);
		return;
	}
	out_printf(w, "row%d%s", r->row, dl ? "-" : "");
	for (size_t i = 0; i < dl; i++) {
		char ch = r->dialect[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			ch = '_';
		out_putc(w, ch);
	}
}

void out_verdict_class(struct out *w, enum probe_verdict v)
{
	out_printf(w, "verdict-");
	for (const char *p = probe_verdict_name(v); *p; p++)
		out_putc(w, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
}

void out_summary_text(struct out *w, const struct counts *c)
{
	out_printf(w, "%zu passed, %zu blocked, %zu rejected, %zu failed", c->v[VERDICT_PASS],
	           c->v[VERDICT_BLOCKED], c->v[VERDICT_REJECTED], c->v[VERDICT_FAILED]);
}

void out_closed_summary_text(struct out *w, const struct counts *c)
{
	out_printf(w, "%zu closed, %zu exposed, %zu failed", c->neg[VERDICT_CLOSED],
	           c->neg[VERDICT_EXPOSED], neg_failed(c));
}

const char *secs_str(char *buf, size_t cap, double v, const char *suffix, const char *nan)
{
	if (isfinite(v))
		snprintf(buf, cap, "%.3f%s", v, suffix);
	else
		snprintf(buf, cap, "%s", nan);
	return buf;
}
