/* Who makes room when a listener is full (docs/security.md, "No lock-out"):
 * the one policy the SIP front, STUN/TCP and the control API's HTTPS apply,
 * each over its own connections. Pure but for evict_now_ms.
 *
 * A new connection beyond a listener's cap evicts the oldest connection
 * still in its handshake; when there is none, the connection idle longest
 * among those holding nothing (no registration, allocation or request under
 * way); only when there is neither is the new one refused. Above half the
 * cap, a new connection's handshake and first-request timeouts are a
 * quarter of the configured ones, at least 1 s. */
#ifndef EDGELAB_CORE_EVICT_H
#define EDGELAB_CORE_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A connection as the policy sees it; also the evicted counters' reason
 * label (handshake, idle). */
enum evict_state {
	EVICT_HANDSHAKE, /* no handshake yet (TLS; STUN/TCP: no whole message or hello) */
	EVICT_IDLE,      /* handshake done, holding nothing, nothing under way */
	EVICT_REASON_COUNT,
	EVICT_KEEP = EVICT_REASON_COUNT, /* holds what a client needs: never evicted */
};

#define EVICT_PRESSURE_PCT 50   /* above this share of the cap, timeouts shrink */
#define EVICT_SHRINK       4    /* ... to this fraction */
#define EVICT_FLOOR_MS     1000 /* ... but no lower */
#define EVICT_LOG_PER_S    10   /* eviction log lines a second, per listener group */

/* The victim so far, over one pass of a module's connection list. */
struct evict_pick {
	void *victim; /* NULL: none (yet) */
	enum evict_state state;
	uint64_t since_ms;
};

void evict_pick_init(struct evict_pick *p);
/* Offers conn in state since since_ms (a handshaking one's start, an idle
 * one's last activity): it becomes the victim when it is in an earlier
 * state than the victim so far, or the same state and not younger (offer
 * the newest first: among equals the last offered is taken). */
void evict_pick_offer(struct evict_pick *p, void *conn, enum evict_state state, uint64_t since_ms);

/* The timeout, in ms, for a connection starting now with open connections
 * of cap taken: base_s, or above EVICT_PRESSURE_PCT a fraction of it. */
uint64_t evict_timeout_ms(unsigned base_s, unsigned open, unsigned cap);
/* Whether open of cap is above EVICT_PRESSURE_PCT. */
bool evict_pressure(unsigned open, unsigned cap);

/* At most EVICT_LOG_PER_S lines a second. */
struct evict_log {
	uint64_t window_ms; /* the current second's start */
	unsigned logged;    /* lines in it */
	unsigned skipped;   /* lines held back since the last one logged */
};

/* Whether a line may be logged at now_ms; when it may, more gets what to
 * end it with: "" or " (N more not logged)", the lines held back before it. */
bool evict_log_take(struct evict_log *l, uint64_t now_ms, char *more, size_t cap);

/* A monotonic clock in ms, for since_ms. */
uint64_t evict_now_ms(void);

#endif
