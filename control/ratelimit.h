/* The control API's trigger rate: a token bucket per client, in a bounded
 * table. A pure structure (the caller passes the time); inside the control
 * module. */
#ifndef EDGELAB_CONTROL_RATELIMIT_H
#define EDGELAB_CONTROL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTROL_RATE_CLIENTS    64
#define CONTROL_RATE_CLIENT_MAX 264 /* "token@" and an address, or a DNS name */

struct control_rate_bucket {
	char client[CONTROL_RATE_CLIENT_MAX];
	uint64_t milli;   /* tokens, in thousandths */
	uint64_t last_ms; /* when milli was last brought up to date */
};

struct control_ratelimit {
	struct control_rate_bucket b[CONTROL_RATE_CLIENTS];
	size_t n;
};

/* Takes one trigger from client's bucket at now_ms (a monotonic clock):
 * true when there was one. The bucket holds 2 * rate and refills rate per
 * second; a client not in the table starts full, and when the table is full
 * it takes the place of the client that triggered least recently. A client
 * name longer than the table holds is cut (names that long are not made). */
bool control_rate_take(struct control_ratelimit *rl, const char *client, unsigned rate,
                       uint64_t now_ms);

#endif
