/* SIP over a stream (RFC 3261 section 18.3): a message ends after its
 * headers' blank line plus Content-Length bytes of body. Pure functions over
 * a buffer; every length is bounded. Header lines end in CRLF only (a bare
 * CR or LF is an error) and Content-Length is required (section 18.3 says
 * MUST on streams), so that the end of a message is never a guess. */
#ifndef EDGELAB_SIPFRONT_FRAME_H
#define EDGELAB_SIPFRONT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SIP_FRAME_HEADERS_MAX 16384 /* start line + headers + blank line */
#define SIP_FRAME_BODY_MAX    65536
#define SIP_FRAME_MAX         (SIP_FRAME_HEADERS_MAX + SIP_FRAME_BODY_MAX)

enum sip_frame_status {
	SIP_FRAME_MORE,      /* not a whole message yet: read more */
	SIP_FRAME_MESSAGE,   /* a whole message of *frame_len bytes */
	SIP_FRAME_KEEPALIVE, /* RFC 5626 CRLF keep-alive: *frame_len bytes of CRLFs:
	                      * 4 is a ping (answer "\r\n"), 2 a pong or a CRLF
	                      * before a start line (RFC 3261 7.5: ignore) */
	SIP_FRAME_ERROR,     /* framing lost: *why says why; close the connection */
};

enum sip_frame_error {
	SIP_FRAME_ERR_NONE,
	SIP_FRAME_ERR_HEADERS_TOO_LONG, /* no blank line within SIP_FRAME_HEADERS_MAX */
	SIP_FRAME_ERR_NO_LENGTH,        /* stream messages must carry Content-Length */
	SIP_FRAME_ERR_BAD_LENGTH,       /* not a number, several that differ, negative */
	SIP_FRAME_ERR_BODY_TOO_LONG,    /* Content-Length > SIP_FRAME_BODY_MAX */
	SIP_FRAME_ERR_BINARY,           /* a NUL or other control byte, or a bare CR or
	                                 * LF, in the headers */
};

/* Looks at the bytes at the head of a stream (len of them). Stateless: call
 * again with more bytes after MORE; consume *frame_len bytes after MESSAGE
 * or KEEPALIVE (always > 0 then). */
enum sip_frame_status sip_frame_next(const uint8_t *buf, size_t len, size_t *frame_len,
                                     enum sip_frame_error *why);
const char *sip_frame_error_str(enum sip_frame_error why);

#endif
