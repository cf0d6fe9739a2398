/* Text escaped for each format (core/escape.h). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/escape.h"

/* Sequences per RFC 3629 (core/escape.h). */
size_t utf8_len(const unsigned char *s, size_t n)
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
		/* C1 controls (U+0080-U+009F: an 8-bit CSI among them) are two
		 * bytes but a terminal takes them as controls: their second byte
		 * goes to the escaper as the control it stands for. */
		bool c1 = len == 2 && p[0] == 0xc2 && p[1] < 0xa0;
		const char *e = len == 1 ? esc(*p, buf, sizeof(buf))
		                : c1     ? esc(p[1], buf, sizeof(buf))
		                         : NULL;
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
	if (c >= 0x80 && c < 0xa0) { /* a C1 control (out_escaped) */
		snprintf(buf, cap, "\\u%04x", c);
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
const char *esc_json(unsigned char c, char *buf, size_t cap)
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
