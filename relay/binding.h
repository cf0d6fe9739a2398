/* The STUN Binding service (row 6): one request in, at most one reply out.
 * A pure function over buffers, shared by the UDP and TCP listeners and the
 * fuzz target. It never sends anywhere but back to the source: RFC 3489's
 * RESPONSE-ADDRESS is ignored (no reflection), and a reply never exceeds
 * BINDING_REPLY_MAX bytes whatever the request (no amplification beyond
 * the fixed minimal answer). */
#ifndef EDGELAB_RELAY_BINDING_H
#define EDGELAB_RELAY_BINDING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "relay/metrics.h"
#include "stun/stun.h"

/* 20 header + 2 x 24 (IPv6 addresses) + 36 (SOFTWARE, 32 bytes) + 8
 * (FINGERPRINT), and the 420 form: 12 + 20 reason + 4 + 2 x
 * BINDING_UNKNOWN_MAX, with SOFTWARE and FINGERPRINT. */
#define BINDING_REPLY_MAX   128
#define BINDING_UNKNOWN_MAX 8 /* UNKNOWN-ATTRIBUTES lists at most this many */

struct binding_opts {
	const char *software; /* SOFTWARE value, or NULL / "" for none */
};

struct binding_outcome {
	enum stun_dialect dialect;
	bool answered;
	enum metric_stun_result result; /* when answered */
	enum metric_stun_drop drop;     /* when not */
};

/* Answers req (len bytes, as received from src on a socket bound to local).
 * Writes the reply into out (cap >= BINDING_REPLY_MAX) and its length into
 * *out_len, or sets *out_len = 0 when the request is to be dropped; outcome
 * says which and why, for the metrics. Never fails otherwise. */
void binding_answer(const uint8_t *req, size_t len, const struct sockaddr *src,
                    const struct sockaddr *local, const struct binding_opts *opts, uint8_t *out,
                    size_t cap, size_t *out_len, struct binding_outcome *outcome);
/* The same for a request its caller decoded already (the relay's chain):
 * req must have been decoded from the whole datagram or frame, no more. */
void binding_answer_msg(const struct stun_msg *req, const struct sockaddr *src,
                        const struct sockaddr *local, const struct binding_opts *opts, uint8_t *out,
                        size_t cap, size_t *out_len, struct binding_outcome *outcome);

#endif
