/* How a stateless proxy rewrites what it forwards (RFC 3261 sections 16.6
 * and 16.7): pure functions from a decoded message to the bytes to send. */
#ifndef EDGELAB_SIPFRONT_REWRITE_H
#define EDGELAB_SIPFRONT_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "sipfront/sipmsg.h"

#define SIP_TRUST_HEADER "ms-edge-proxy-message-trust"

struct sip_fwd_edit {
	const char *via;          /* our Via value, added on top */
	const char *ruri;         /* a new Request-URI, or NULL to keep it */
	bool pop_route;           /* drop the first Route value (it names us) */
	int max_forwards;         /* the new Max-Forwards */
	const char *record_route; /* a Record-Route value added on top, or NULL */
	const char *trust;        /* our ms-edge-proxy-message-trust value; every
	                           * one that came with the request is removed */
};

/* The request with those edits, headers in their order, the body as it
 * came. A malloc'd string in *out. 0 or ENOMEM. */
int sip_fwd_request(const struct sip_msg *req, const struct sip_fwd_edit *e, char **out,
                    size_t *out_len);
/* The response without its first Via (ours). 0 or ENOMEM. */
int sip_fwd_response(const struct sip_msg *resp, char **out, size_t *out_len);

#endif
