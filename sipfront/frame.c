/* SIP message framing on a stream (RFC 3261 section 18.3). Stateless: each
 * call rescans the head of the buffer, so the cost of a message is bounded
 * by SIP_FRAME_HEADERS_MAX per call.
 *
 * Line endings are strict CRLF (RFC 3261 section 7): a bare CR or LF in the
 * header block is an error. This keeps our idea of where the headers end
 * identical to libre's (which also ends them at LF [CR...] LF), so the
 * bytes we frame as body can never be parsed as headers downstream. */
#include <stdbool.h>
#include <string.h>

#include "sipfront/frame.h"

/* Whitespace inside a header value (SWS, RFC 3261 section 25.1), including
 * the CR and LF of a folded line. */
static bool frame_is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Control bytes other than HTAB, CR and LF never appear in a header block
 * (RFC 3261 section 25.1: TEXT-UTF8char excludes them); UTF-8 (>= 0x80)
 * is allowed. */
static bool frame_is_ctl(uint8_t c)
{
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

/* CRLFs at the head of the stream: a RFC 5626 section 3.5.1 ping
 * ("\r\n\r\n") or pong ("\r\n"), or stray CRLFs before a start line, which
 * RFC 3261 section 7.5 says to ignore. A ping is reported whole (4 bytes)
 * when its bytes are all here; "\r\n\r" waits for the last byte. */
static enum sip_frame_status frame_keepalive(const uint8_t *buf, size_t len, size_t *frame_len,
                                             enum sip_frame_error *why)
{
	if (buf[0] != '\r')
		goto bare;
	if (len < 2)
		return SIP_FRAME_MORE;
	if (buf[1] != '\n')
		goto bare;
	if (len == 2 || buf[2] != '\r')
		goto pong;
	if (len == 3)
		return SIP_FRAME_MORE;
	if (buf[3] != '\n')
		goto bare;
	*frame_len = 4;
	return SIP_FRAME_KEEPALIVE;
pong:
	*frame_len = 2;
	return SIP_FRAME_KEEPALIVE;
bare:
	*why = SIP_FRAME_ERR_BINARY; /* a bare CR or LF */
	return SIP_FRAME_ERROR;
}

/* Finds the end of the header block (just past its empty line) in the
 * first SIP_FRAME_HEADERS_MAX bytes, checking each byte on the way. */
static enum sip_frame_status frame_find_eoh(const uint8_t *buf, size_t len, size_t *eoh,
                                            enum sip_frame_error *why)
{
	size_t n = len, i;

	if (n > SIP_FRAME_HEADERS_MAX)
		n = SIP_FRAME_HEADERS_MAX;

	for (i = 0; i < n; i++) {
		uint8_t c = buf[i];

		if (frame_is_ctl(c) || (c == '\n' && (i == 0 || buf[i - 1] != '\r')) ||
		    (c == '\r' && i + 1 < len && buf[i + 1] != '\n')) {
			*why = SIP_FRAME_ERR_BINARY;
			return SIP_FRAME_ERROR;
		}
		if (c == '\n' && i >= 3 && buf[i - 2] == '\n') {
			*eoh = i + 1; /* "\r\n\r\n": CRs are checked above */
			return SIP_FRAME_MESSAGE;
		}
	}
	if (len >= SIP_FRAME_HEADERS_MAX) {
		*why = SIP_FRAME_ERR_HEADERS_TOO_LONG;
		return SIP_FRAME_ERROR;
	}
	return SIP_FRAME_MORE;
}

/* Whether buf[0..len) names Content-Length, long or compact form ("l",
 * RFC 3261 section 7.3.3); header names are case-insensitive (7.3.1). */
static bool frame_is_clen_name(const uint8_t *p, size_t len)
{
	static const char name[] = "content-length";
	size_t i;

	if (len == 1)
		return p[0] == 'l' || p[0] == 'L';
	if (len != sizeof(name) - 1)
		return false;
	for (i = 0; i < len; i++) {
		uint8_t c = p[i] >= 'A' && p[i] <= 'Z' ? (uint8_t)(p[i] + 'a' - 'A') : p[i];

		if (c != (uint8_t)name[i])
			return false;
	}
	return true;
}

/* The value of one Content-Length header, p[0..len) after its colon:
 * SWS 1*DIGIT SWS. Saturates at SIP_FRAME_BODY_MAX + 1 so that a huge
 * value cannot overflow. */
static int frame_parse_clen(const uint8_t *p, size_t len, size_t *value)
{
	size_t i = 0, v = 0, digits = 0;

	while (i < len && frame_is_lws(p[i]))
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
		v = v * 10 + (size_t)(p[i] - '0');
		if (v > SIP_FRAME_BODY_MAX)
			v = SIP_FRAME_BODY_MAX + 1;
	}
	while (i < len && frame_is_lws(p[i]))
		i++;
	if (digits == 0 || i != len)
		return -1;
	*value = v;
	return 0;
}

/* Where the logical header line starting at pos ends: at the CRLF that is
 * not followed by SP or HTAB (folding, RFC 3261 section 7.3.1). */
static size_t frame_line_end(const uint8_t *buf, size_t eoh, size_t pos)
{
	while (pos + 2 < eoh) {
		if (buf[pos] == '\r' && buf[pos + 1] == '\n' && buf[pos + 2] != ' ' &&
		    buf[pos + 2] != '\t')
			return pos;
		pos++;
	}
	return eoh - 2;
}

/* One header line [pos, end): if it is a Content-Length, its value goes
 * into *clen; several must agree. Leading whitespace is skipped as libre
 * does for a header right after the start line. */
static enum sip_frame_error frame_header(const uint8_t *buf, size_t pos, size_t end, size_t *clen,
                                         bool *have)
{
	const uint8_t *colon;
	size_t name_end, v;

	while (pos < end && (buf[pos] == ' ' || buf[pos] == '\t'))
		pos++;
	colon = memchr(buf + pos, ':', end - pos);
	if (colon == NULL)
		return SIP_FRAME_ERR_NONE; /* not a header: the parser refuses it */
	name_end = (size_t)(colon - buf);
	while (name_end > pos && (buf[name_end - 1] == ' ' || buf[name_end - 1] == '\t'))
		name_end--;
	if (!frame_is_clen_name(buf + pos, name_end - pos))
		return SIP_FRAME_ERR_NONE;
	if (frame_parse_clen(colon + 1, (size_t)(buf + end - (colon + 1)), &v) != 0)
		return SIP_FRAME_ERR_BAD_LENGTH;
	if (*have && v != *clen)
		return SIP_FRAME_ERR_BAD_LENGTH; /* differing duplicates: smuggling */
	*clen = v;
	*have = true;
	return SIP_FRAME_ERR_NONE;
}

/* The Content-Length of the header block buf[0..eoh). RFC 3261 section
 * 18.3: on a stream it MUST be present, so a missing one is an error (we
 * could not tell where the message ends). */
static enum sip_frame_error frame_content_length(const uint8_t *buf, size_t eoh, size_t *clen)
{
	const uint8_t *crlf = memchr(buf, '\n', eoh);
	size_t pos = (size_t)(crlf - buf) + 1; /* past the start line */
	bool have = false;

	while (pos + 2 < eoh) {
		size_t end = frame_line_end(buf, eoh, pos);
		enum sip_frame_error err = frame_header(buf, pos, end, clen, &have);

		if (err != SIP_FRAME_ERR_NONE)
			return err;
		pos = end + 2;
	}
	if (!have)
		return SIP_FRAME_ERR_NO_LENGTH;
	if (*clen > SIP_FRAME_BODY_MAX)
		return SIP_FRAME_ERR_BODY_TOO_LONG;
	return SIP_FRAME_ERR_NONE;
}

enum sip_frame_status sip_frame_next(const uint8_t *buf, size_t len, size_t *frame_len,
                                     enum sip_frame_error *why)
{
	enum sip_frame_status st;
	size_t eoh = 0, clen = 0;

	*frame_len = 0;
	*why = SIP_FRAME_ERR_NONE;
	if (buf == NULL || len == 0)
		return SIP_FRAME_MORE;
	if (buf[0] == '\r' || buf[0] == '\n')
		return frame_keepalive(buf, len, frame_len, why);

	st = frame_find_eoh(buf, len, &eoh, why);
	if (st != SIP_FRAME_MESSAGE)
		return st;
	*why = frame_content_length(buf, eoh, &clen);
	if (*why != SIP_FRAME_ERR_NONE)
		return SIP_FRAME_ERROR;
	if (len - eoh < clen)
		return SIP_FRAME_MORE;
	*frame_len = eoh + clen;
	return SIP_FRAME_MESSAGE;
}

const char *sip_frame_error_str(enum sip_frame_error why)
{
	switch (why) {
	case SIP_FRAME_ERR_NONE:
		return "no error";
	case SIP_FRAME_ERR_HEADERS_TOO_LONG:
		return "headers too long";
	case SIP_FRAME_ERR_NO_LENGTH:
		return "missing Content-Length";
	case SIP_FRAME_ERR_BAD_LENGTH:
		return "bad Content-Length";
	case SIP_FRAME_ERR_BODY_TOO_LONG:
		return "body too long";
	case SIP_FRAME_ERR_BINARY:
		return "control byte or bare CR/LF in headers";
	}
	return "unknown framing error";
}
