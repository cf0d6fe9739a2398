/* A thin layer over libre 1.1.0's SIP codec (sip_msg_decode): decoding a
 * framed message (sipfront/frame.h) into a struct sip_msg, the checks a
 * stateless proxy makes before it acts on one (RFC 3261 sections 8.2 and
 * 16.3), and small helpers. The only sipfront header that includes libre's;
 * those need the HAVE_* / USE_OPENSSL defines in $(LIBRE_CFLAGS). No
 * logging: codes and static reason strings. */
#ifndef EDGELAB_SIPFRONT_SIPMSG_H
#define EDGELAB_SIPFRONT_SIPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libre's headers are not self-contained: this order satisfies re_sip.h. */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mbuf.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_hash.h>
#include <re_sa.h>
#include <re_uri.h>
#include <re_msg.h>
#include <re_sip.h>

#define SIPMSG_VIA_MAX     32  /* Via headers (each comma-separated value) */
#define SIPMSG_HEADERS_MAX 100 /* header lines, Via/Route values counted singly */

/* Decodes one whole message, buf[0..len) (a MESSAGE frame). The message
 * keeps its own copy of the bytes (msg->mb; its pos is left at the body);
 * the caller mem_deref()s *msgp. Extension headers whose names libre would
 * mistake for a header it parses (its 12-bit name hash collides, e.g.
 * Lync's ms-client-diagnostics with To) are kept out of that parse.
 * Returns 0, EINVAL (NULL arguments), EBADMSG (libre refused it, or len is
 * 0 or over SIP_FRAME_MAX) or ENOMEM. */
int sipmsg_decode(struct sip_msg **msgp, const uint8_t *buf, size_t len);

/* What a proxy checks before it acts (RFC 3261 sections 8.2, 16.3): SIP/2.0;
 * one Via at least and at most SIPMSG_VIA_MAX, at most SIPMSG_HEADERS_MAX
 * headers; exactly one From, To, Call-ID and CSeq (requests and responses
 * alike, section 8.1.1); a CSeq number below 2^31 (8.1.1.5) and, in a
 * request, the request's method (8.2.2.3 case-sensitive, 7.1); at most one
 * Max-Forwards, 0..255 (16.3 step 3, 20.22); a status code 100..699; one
 * Content-Length equal to the body (section 18.3; call this before moving
 * msg->mb->pos). Returns 0, or EBADMSG with *why a static reason fit for a
 * 400 reason phrase ("Missing Call-ID"); EINVAL on NULL arguments. */
int sipmsg_validate(const struct sip_msg *msg, const char **why);

/* Max-Forwards (RFC 3261 section 8.1.1.6): *value 0..255. ENOENT when
 * absent, EBADMSG when not a number in range. */
int sipmsg_max_forwards(const struct sip_msg *msg, int *value);

/* Whether a header of that name is present (case-insensitive, section
 * 7.3.1; no compact-form folding), for extension headers such as
 * ms-edge-proxy-message-trust. Walks the header lines, so it also finds
 * names whose libre hash collides with a known header. */
bool sipmsg_has_header(const struct sip_msg *msg, const char *name);

/* Copies a pl (libre's pointer-length string) into buf as a C string.
 * Returns 0; ENOSPC when it did not fit (buf holds the truncated, still
 * terminated prefix); EBADMSG when it holds a NUL (buf holds the part
 * before it); EINVAL when buf is NULL or size 0. */
int sipmsg_pl_copy(char *buf, size_t size, const struct pl *pl);

/* Whether a pl equals s, ignoring case (methods, host names, tokens). */
bool sipmsg_pl_eq(const struct pl *pl, const char *s);

#endif
