/* Text escaped for each format the reports write (text and TAP lines,
 * JSON, XML, HTML), with invalid UTF-8 replaced: details can quote what a
 * peer sent, and one invalid byte would make a whole JSON or XML document
 * invalid. Through core/textout.h's sticky-error writer. */
#ifndef EDGELAB_CORE_ESCAPE_H
#define EDGELAB_CORE_ESCAPE_H

#include <stddef.h>

#include "core/textout.h"

/* How a format spells one character; NULL: the byte as it is. */
typedef const char *(*esc_fn)(unsigned char c, char *buf, size_t cap);
/* Table and TAP lines: one line per result, no terminal control bytes. */
const char *esc_text(unsigned char c, char *buf, size_t cap);
/* TAP also reserves '#' (directive) and its escape, '\'. */
const char *esc_tap(unsigned char c, char *buf, size_t cap);
/* RFC 8259 section 7. */
const char *esc_json(unsigned char c, char *buf, size_t cap);
/* XML 1.0 section 2.2. */
const char *esc_xml(unsigned char c, char *buf, size_t cap);
/* HTML text and quoted attribute values: XML's, less &apos; and DEL. */
const char *esc_html(unsigned char c, char *buf, size_t cap);

/* Length of the well-formed UTF-8 sequence at s (n bytes; RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF), or 0. */
size_t utf8_len(const unsigned char *s, size_t n);

/* Writes s (n bytes) through esc; invalid UTF-8 becomes bad. */
void out_escaped(struct out *w, const char *s, size_t n, esc_fn esc, const char *bad);
void out_json_str(struct out *w, const char *s, size_t n); /* quoted */
void out_json_num(struct out *w, double v);                /* null when not finite */
void out_xml(struct out *w, const char *s, size_t n);
void out_html(struct out *w, const char *s, size_t n);
/* Bytes in the first chars characters of s (n bytes; a UTF-8 sequence or an
 * invalid byte is one): where a bounded label may be cut. */
size_t text_prefix(const char *s, size_t n, size_t chars);
/* Columns s takes once escaped by esc_text (a UTF-8 sequence counts as one). */
size_t text_width(const char *s, size_t n);

#endif
