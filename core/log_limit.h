/* A rate limit on one kind of log line, so that a flood of refusals (a
 * scanner, a client retrying a wrong password) cannot flood the log: at
 * most `burst` lines at once, refilled at `per_sec` lines per second. What
 * is held back is counted and handed to the next line that passes, which
 * says so ("... (12 more suppressed)"). One per kind of line and thread:
 * no lock. */
#ifndef EDGELAB_CORE_LOG_LIMIT_H
#define EDGELAB_CORE_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct log_limit {
	uint64_t last_ms;    /* the last refill */
	uint32_t milli;      /* tokens, in thousandths of a line */
	uint32_t suppressed; /* lines held back since the last one that passed */
	bool started;
};

/* Whether a line may be written now (now_ms: a monotonic clock). When it
 * may, *suppressed gets the lines held back before it (then reset). */
bool log_limit_pass(struct log_limit *l, uint64_t now_ms, unsigned per_sec, unsigned burst,
                    unsigned *suppressed);

#endif
