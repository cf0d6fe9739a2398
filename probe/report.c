#include "probe/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "core/textout.h"

/* ---- verdicts and counts ---- */

static const char *const verdict_names[] = {
    [VERDICT_PASS] = "PASS",     [VERDICT_BLOCKED] = "BLOCKED", [VERDICT_REJECTED] = "REJECTED",
    [VERDICT_FAILED] = "FAILED", [VERDICT_CLOSED] = "CLOSED",   [VERDICT_EXPOSED] = "EXPOSED",
};

#define VERDICT_COUNT (sizeof(verdict_names) / sizeof(verdict_names[0]))

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

int report_format_parse(const char *name, enum report_format *fmt)
{
	static const char *const names[] = {
	    [REPORT_TABLE] = "table",
	    [REPORT_JSON] = "json",
	    [REPORT_JUNIT] = "junit",
	    [REPORT_TAP] = "tap",
	};
	if (!name || !fmt)
		return EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*fmt = (enum report_format)i;
			return 0;
		}
	}
	return EINVAL;
}

/* The rows' verdicts and, apart, the negative flows' (row 0). */
struct counts {
	size_t v[VERDICT_COUNT], rows;
	size_t neg[VERDICT_COUNT], negs, not_ok;
};

static void counts_get(const struct probe_result *res, size_t n, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		if (res[i].row) {
			c->v[res[i].verdict]++;
			c->rows++;
		} else {
			c->neg[res[i].verdict]++;
			c->negs++;
		}
		c->not_ok += !probe_result_ok(&res[i]);
	}
}

/* A negative flow's verdict other than CLOSED or EXPOSED (the control
 * API could not tell) counts as failed. */
static size_t neg_failed(const struct counts *c)
{
	return c->negs - c->neg[VERDICT_CLOSED] - c->neg[VERDICT_EXPOSED];
}

/* ---- text helpers ---- */

/* The fixed arrays of a result may arrive without their NUL: never read past. */
static size_t field_len(const char *s, size_t cap)
{
	return s ? strnlen(s, cap) : 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. Details can quote what a peer
 * sent; an invalid byte would make the whole JSON or XML document invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* How a format spells one character; NULL: the byte as it is. */
typedef const char *(*esc_fn)(unsigned char c, char *buf, size_t cap);

/* Writes s (n bytes) through esc; invalid UTF-8 becomes bad. */
static void out_escaped(struct out *w, const char *s, size_t n, esc_fn esc, const char *bad)
{
	char buf[16];
	size_t i = 0;

	while (i < n) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t len = utf8_len(p, n - i);
		const char *e = len == 1 ? esc(*p, buf, sizeof(buf)) : NULL;
		if (len == 0) {
			out_printf(w, "%s", bad);
			len = 1;
		} else if (e) {
			out_printf(w, "%s", e);
		} else {
			out_bytes(w, s + i, len);
		}
		i += len;
	}
}

/* Table and TAP lines: one line per result, no terminal control bytes. */
static const char *esc_text(unsigned char c, char *buf, size_t cap)
{
	if (c == '\n')
		return "\\n";
	if (c == '\r')
		return "\\r";
	if (c == '\t')
		return "\\t";
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, cap, "\\x%02x", c);
		return buf;
	}
	return NULL;
}

/* TAP also reserves '#' (directive) and its escape, '\'. */
static const char *esc_tap(unsigned char c, char *buf, size_t cap)
{
	if (c == '#')
		return "\\#";
	if (c == '\\')
		return "\\\\";
	return esc_text(c, buf, cap);
}

/* RFC 8259 section 7. */
static const char *esc_json(unsigned char c, char *buf, size_t cap)
{
	static const char *const named[] = {
	    ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c < sizeof(named) / sizeof(named[0]) && named[c])
		return named[c];
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, cap, "\\u%04x", c);
		return buf;
	}
	return NULL;
}

/* XML 1.0 section 2.2: only tab, LF and CR among the controls, even as
 * references; they are written as references so attributes keep them. */
static const char *esc_xml(unsigned char c, char *buf, size_t cap)
{
	switch (c) {
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '&':
		return "&amp;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\t':
	case '\n':
	case '\r':
		snprintf(buf, cap, "&#%u;", c);
		return buf;
	default:
		return c < 0x20 ? "&#xFFFD;" : NULL;
	}
}

static void out_json_str(struct out *w, const char *s, size_t n)
{
	out_putc(w, '"');
	out_escaped(w, s ? s : "", n, esc_json, "\\ufffd");
	out_putc(w, '"');
}

static void out_xml(struct out *w, const char *s, size_t n)
{
	out_escaped(w, s ? s : "", n, esc_xml, "&#xFFFD;");
}

/* JSON has no NaN or infinity. */
static void out_json_num(struct out *w, double v)
{
	if (isfinite(v))
		out_printf(w, "%.6f", v);
	else
		out_printf(w, "null");
}

/* "row 6 client -> edge STUN/UDP [rfc5389]": the JUnit and TAP test name. */
static void out_name(struct out *w, const struct probe_result *r, esc_fn esc, const char *bad)
{
	char buf[32];
	size_t dl = field_len(r->dialect, sizeof(r->dialect));

	if (r->row)
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

static void out_summary_text(struct out *w, const struct counts *c)
{
	out_printf(w, "%zu passed, %zu blocked, %zu rejected, %zu failed", c->v[VERDICT_PASS],
	           c->v[VERDICT_BLOCKED], c->v[VERDICT_REJECTED], c->v[VERDICT_FAILED]);
}

static void out_closed_summary_text(struct out *w, const struct counts *c)
{
	out_printf(w, "%zu closed, %zu exposed, %zu failed", c->neg[VERDICT_CLOSED],
	           c->neg[VERDICT_EXPOSED], neg_failed(c));
}

/* "0.012s"-style seconds; what a non-finite time is written as. */
static const char *secs_str(char *buf, size_t cap, double v, const char *suffix, const char *nan)
{
	if (isfinite(v))
		snprintf(buf, cap, "%.3f%s", v, suffix);
	else
		snprintf(buf, cap, "%s", nan);
	return buf;
}

/* ---- table ---- */

#define NEG_HEADING "MUST STAY CLOSED" /* the negative flows' first column */

/* Columns a field takes once escaped (a UTF-8 sequence counts as one). */
static size_t text_width(const char *s, size_t n)
{
	char buf[16];
	size_t width = 0, i = 0;

	while (i < n) {
		size_t len = utf8_len((const unsigned char *)s + i, n - i);
		const char *e = len == 1 ? esc_text((unsigned char)s[i], buf, sizeof(buf)) : NULL;
		width += e ? strlen(e) : 1;
		i += len ? len : 1;
	}
	return width;
}

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
};

/* The widths of the rows' table (neg false) or of the negative flows'. */
static void table_widths_get(const struct probe_result *res, size_t n, bool neg,
                             struct table_widths *tw)
{
	char buf[64];

	tw->flow = strlen(neg ? NEG_HEADING : "FLOW");
	tw->dialect = strlen("DIALECT");
	tw->time = strlen("TIME");
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

static void write_table(struct out *w, const struct report_meta *m, const struct probe_result *res,
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

/* ---- JSON ---- */

/* A row's result, or (row 0) a negative flow's, which has no row or dialect. */
static void json_result(struct out *w, const struct probe_result *r)
{
	if (r->row) {
		out_printf(w, "    {\"row\": %d, \"flow\": ", r->row);
		out_json_str(w, r->flow, r->flow ? strlen(r->flow) : 0);
		out_printf(w, ", \"dialect\": ");
		out_json_str(w, r->dialect, field_len(r->dialect, sizeof(r->dialect)));
	} else {
		out_printf(w, "    {\"flow\": ");
		out_json_str(w, r->flow, r->flow ? strlen(r->flow) : 0);
	}
	out_printf(w, ", \"verdict\": \"%s\", \"detail\": ", probe_verdict_name(r->verdict));
	out_json_str(w, r->detail, field_len(r->detail, sizeof(r->detail)));
	out_printf(w, ", \"seconds\": ");
	out_json_num(w, r->seconds);
	out_printf(w, ", \"start\": ");
	out_json_num(w, r->start);
	out_printf(w, ", \"end\": ");
	out_json_num(w, r->end);
	out_printf(w, "}");
}

/* "NAME": [ the rows' results, or the negative flows' ], */
static void json_array(struct out *w, const char *name, const struct probe_result *res, size_t n,
                       bool neg)
{
	size_t k = 0;
	out_printf(w, "  \"%s\": [", name);
	for (size_t i = 0; i < n; i++) {
		if ((res[i].row == 0) != neg)
			continue;
		out_printf(w, k++ ? ",\n" : "\n");
		json_result(w, &res[i]);
	}
	out_printf(w, "%s],\n", k ? "\n  " : "");
}

static void write_json(struct out *w, const struct report_meta *m, const struct probe_result *res,
                       size_t n, const struct counts *c)
{
	out_printf(w, "{\n  \"target\": ");
	out_json_str(w, m->target, m->target ? strlen(m->target) : 0);
	out_printf(w, ",\n  \"started\": ");
	out_json_str(w, m->started, m->started ? strlen(m->started) : 0);
	out_printf(w, ",\n  \"seconds\": ");
	out_json_num(w, m->seconds);
	out_printf(w, ",\n");
	json_array(w, "results", res, n, false);
	json_array(w, "closed", res, n, true);
	out_printf(w,
	           "  \"summary\": {\"passed\": %zu, \"blocked\": %zu, \"rejected\": %zu, "
	           "\"failed\": %zu, \"total\": %zu, \"strict\": {\"closed\": %zu, "
	           "\"exposed\": %zu, \"failed\": %zu, \"total\": %zu}}\n}\n",
	           c->v[VERDICT_PASS], c->v[VERDICT_BLOCKED], c->v[VERDICT_REJECTED],
	           c->v[VERDICT_FAILED], c->rows, c->neg[VERDICT_CLOSED], c->neg[VERDICT_EXPOSED],
	           neg_failed(c), c->negs);
}

/* ---- JUnit XML ---- */

static void junit_result(struct out *w, const struct probe_result *r)
{
	char buf[64];
	size_t dl = field_len(r->detail, sizeof(r->detail));
	const char *v = probe_verdict_name(r->verdict);

	out_printf(w, "    <testcase classname=\"edgelab.probe\" name=\"");
	out_name(w, r, esc_xml, "&#xFFFD;");
	out_printf(w, "\" time=\"%s\"", secs_str(buf, sizeof(buf), r->seconds, "", "0"));
	if (probe_result_ok(r)) {
		out_printf(w, "/>\n");
		return;
	}
	out_printf(w, ">\n      <failure type=\"%s\" message=\"%s: ", v, v);
	out_xml(w, r->detail, dl);
	out_printf(w, "\">");
	out_xml(w, r->detail, dl);
	out_printf(w, "</failure>\n    </testcase>\n");
}

static void junit_property(struct out *w, const char *name, const char *value)
{
	out_printf(w, "      <property name=\"%s\" value=\"", name);
	out_xml(w, value, value ? strlen(value) : 0);
	out_printf(w, "\"/>\n");
}

/* One suite: the rows, or (neg) the negative flows. The start time goes in
 * a property: JUnit's timestamp attribute wants a local time without a
 * zone, and the probe's is UTC with one. */
static void junit_suite(struct out *w, const struct report_meta *m, const struct probe_result *res,
                        size_t n, bool neg, size_t tests, size_t fail)
{
	char buf[64];
	const char *t = secs_str(buf, sizeof(buf), m->seconds, "", "0");

	out_printf(w, "  <testsuite name=\"edgelab probe ");
	out_xml(w, m->target, m->target ? strlen(m->target) : 0);
	out_printf(w, "%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%s\">\n",
	           neg ? " must stay closed" : "", tests, fail, t);
	out_printf(w, "    <properties>\n");
	junit_property(w, "target", m->target);
	junit_property(w, "started", m->started);
	out_printf(w, "    </properties>\n");
	for (size_t i = 0; i < n; i++)
		if ((res[i].row == 0) == neg)
			junit_result(w, &res[i]);
	out_printf(w, "  </testsuite>\n");
}

static void write_junit(struct out *w, const struct report_meta *m, const struct probe_result *res,
                        size_t n, const struct counts *c)
{
	char buf[64];
	const char *t = secs_str(buf, sizeof(buf), m->seconds, "", "0");

	out_printf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	out_printf(w,
	           "<testsuites name=\"edgelab probe\" tests=\"%zu\" failures=\"%zu\" "
	           "errors=\"0\" time=\"%s\">\n",
	           n, c->not_ok, t);
	junit_suite(w, m, res, n, false, c->rows, c->rows - c->v[VERDICT_PASS]);
	if (c->negs)
		junit_suite(w, m, res, n, true, c->negs, c->negs - c->neg[VERDICT_CLOSED]);
	out_printf(w, "</testsuites>\n");
}

/* ---- TAP ---- */

/* A YAML block (TAP 13) keeps the detail exact where the line cannot: a
 * JSON string is a valid YAML double-quoted scalar. */
static void tap_yaml(struct out *w, const struct probe_result *r)
{
	out_printf(w, "  ---\n  verdict: %s\n  detail: ", probe_verdict_name(r->verdict));
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

static void write_tap(struct out *w, const struct report_meta *m, const struct probe_result *res,
                      size_t n, const struct counts *c)
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

/* ---- entry point ---- */

typedef void (*writer_fn)(struct out *w, const struct report_meta *m,
                          const struct probe_result *res, size_t n, const struct counts *c);

static const writer_fn writers[] = {
    [REPORT_TABLE] = write_table,
    [REPORT_JSON] = write_json,
    [REPORT_JUNIT] = write_junit,
    [REPORT_TAP] = write_tap,
};

int report_write(FILE *out, enum report_format fmt, const struct report_meta *meta,
                 const struct probe_result *results, size_t n)
{
	struct out w = {out, 0};
	struct counts c;

	if (!out || !meta || (n && !results))
		return EINVAL;
	if ((unsigned)fmt >= sizeof(writers) / sizeof(writers[0]))
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned)results[i].verdict >= VERDICT_COUNT)
			return EINVAL;
	counts_get(results, n, &c);
	writers[fmt](&w, meta, results, n, &c);
	return out_finish(&w);
}
