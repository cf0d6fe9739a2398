/* The Allocates the relay has seen while their nonces are valid, so that a
 * request captured on the wire cannot be played again (docs/security.md,
 * "Replayed Allocates").
 *
 * A stateless nonce (turn_auth.h) stays good for turn_nonce_lifetime, and
 * long-term credentials (RFC 5766, RFC 8656) have no nonce count: an
 * authenticated Allocate played again from another 5-tuple would make an
 * allocation. Every other authenticated request acts on the allocation of
 * its own 5-tuple, so the Allocate that would make one is the request to
 * guard. A nonce stays usable for several allocations of one client: only
 * an exact copy (the same transaction id and MESSAGE-INTEGRITY) counts, and
 * it is
 *   - a retransmission when it comes from the same 5-tuple within
 *     REPLAY_WINDOW seconds of the first (STUN over UDP retransmits for
 *     39.5 s, RFC 8489 section 6.2.1): answered as before;
 *   - a replay otherwise (another 5-tuple, or later): 438 Stale Nonce, so a
 *     real client takes the fresh nonce and signs a new request.
 *
 * Bounded: REPLAY_MAX entries in a ring whose oldest is overwritten, counted
 * as an eviction when its nonce was still valid; only requests that passed
 * their integrity check get in. Shared by the workers (a copy from another
 * port may reach another worker's socket): one mutex, taken on Allocates
 * that would make an allocation, never on the packet path. */
#ifndef EDGELAB_RELAY_REPLAY_H
#define EDGELAB_RELAY_REPLAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "relay/client.h"

#define REPLAY_WINDOW  40 /* seconds */
#define REPLAY_MAX     8192
#define REPLAY_MAC_LEN 20 /* MESSAGE-INTEGRITY's first bytes kept (all of SHA-1's) */

enum replay_verdict { REPLAY_NEW, REPLAY_RETRANSMIT, REPLAY_REPLAYED };

/* An authenticated request: its transaction id (12 bytes after the cookie,
 * or MS-TURN's 16), MESSAGE-INTEGRITY, 5-tuple, and its nonce's expiry. */
struct replay_req {
	const uint8_t *tid;
	size_t tid_len;
	const uint8_t *mac;
	size_t mac_len;
	const union turn_sa *src;
	enum turn_transport transport;
	time_t expires;
};

struct replay_entry;

struct replay {
	pthread_mutex_t lock;
	struct replay_entry *entry; /* a ring of cap */
	uint32_t *bucket;           /* chains by key: entry index + 1, 0 ends */
	size_t cap, next;           /* next: where the next one goes (the oldest, once full) */
};

/* cap entries (REPLAY_MAX for the relay): 0, or ENOMEM. */
int replay_init(struct replay *rp, size_t cap);
void replay_fini(struct replay *rp);
/* Recognises q (seen at now) or records it. *evicted: an entry whose nonce
 * was still valid at now made room for it. */
enum replay_verdict replay_check(struct replay *rp, const struct replay_req *q, time_t now,
                                 bool *evicted);

#endif
