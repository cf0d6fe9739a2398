/* Responses the edge itself sends (RFC 3261 section 8.2.6): the request's
 * Via headers in order, From, To (with a tag when it had none), Call-ID and
 * CSeq, then the extra headers given. */
#ifndef EDGELAB_SIPFRONT_REPLY_H
#define EDGELAB_SIPFRONT_REPLY_H

#include <stddef.h>

#include "sipfront/sipmsg.h"

/* Writes the response into a malloc'd string (*out, *out_len). extra is
 * "Name: value\r\n" lines, or NULL. 0 or ENOMEM. */
int sip_reply_build(const struct sip_msg *req, int code, const char *reason, const char *extra,
                    char **out, size_t *out_len);
/* The same with a body of content type ctype. */
int sip_reply_build_body(const struct sip_msg *req, int code, const char *reason, const char *extra,
                         const char *ctype, const char *body, size_t body_len, char **out,
                         size_t *out_len);

#endif
