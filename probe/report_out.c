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

void out_escaped(struct out *w, const char *s, size_t n, esc_fn esc, const char *bad)
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

const char *esc_text(unsigned char c, char *buf, size_t cap)
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

const char *esc_tap(unsigned char c, char *buf, size_t cap)
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
const char *esc_xml(unsigned char c, char *buf, size_t cap)
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

/* HTML's parser takes XML's references; &apos; is HTML 5's only, and DEL
 * is one of its controls (HTML section 13.2.5: a parse error). */
const char *esc_html(unsigned char c, char *buf, size_t cap)
{
	if (c == '\'')
		return "&#39;";
	if (c == 0x7f)
		return "&#xFFFD;";
	return esc_xml(c, buf, cap);
}

void out_json_str(struct out *w, const char *s, size_t n)
{
	out_putc(w, '"');
	out_escaped(w, s ? s : "", n, esc_json, "\\ufffd");
	out_putc(w, '"');
}

void out_xml(struct out *w, const char *s, size_t n)
{
	out_escaped(w, s ? s : "", n, esc_xml, "&#xFFFD;");
}

void out_html(struct out *w, const char *s, size_t n)
{
	out_escaped(w, s ? s : "", n, esc_html, "&#xFFFD;");
}

/* JSON has no NaN or infinity. */
void out_json_num(struct out *w, double v)
{
	if (isfinite(v))
		out_printf(w, "%.6f", v);
	else
		out_printf(w, "null");
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

size_t text_prefix(const char *s, size_t n, size_t chars)
{
	size_t i = 0;

	for (; i < n && chars; chars--) {
		size_t len = utf8_len((const unsigned char *)s + i, n - i);
		i += len ? len : 1;
	}
	return i;
}

size_t text_width(const char *s, size_t n)
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
