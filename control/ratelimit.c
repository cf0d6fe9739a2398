/* Token buckets per client (control/ratelimit.h). */
#include "control/ratelimit.h"

#include <stdio.h>
#include <string.h>

#define COST 1000 /* one trigger, in thousandths of a token */

static struct control_rate_bucket *bucket_for(struct control_ratelimit *rl, const char *client,
                                              uint64_t cap, uint64_t now_ms)
{
	char name[CONTROL_RATE_CLIENT_MAX];
	snprintf(name, sizeof(name), "%s", client);
	size_t oldest = 0;
	for (size_t i = 0; i < rl->n; i++) {
		if (strcmp(rl->b[i].client, name) == 0)
			return &rl->b[i];
		if (rl->b[i].last_ms < rl->b[oldest].last_ms)
			oldest = i;
	}
	struct control_rate_bucket *b = &rl->b[rl->n < CONTROL_RATE_CLIENTS ? rl->n++ : oldest];
	memcpy(b->client, name, sizeof(name));
	b->milli = cap;
	b->last_ms = now_ms;
	return b;
}

bool control_rate_take(struct control_ratelimit *rl, const char *client, unsigned rate,
                       uint64_t now_ms)
{
	uint64_t cap = 2 * (uint64_t)rate * COST;
	struct control_rate_bucket *b = bucket_for(rl, client, cap, now_ms);
	if (b->milli > cap) /* the rate was lowered by a reload */
		b->milli = cap;
	if (now_ms > b->last_ms) {
		/* rate tokens a second is rate thousandths a millisecond. */
		uint64_t add = (now_ms - b->last_ms) * rate;
		b->milli = add >= cap - b->milli ? cap : b->milli + add;
	}
	b->last_ms = now_ms;
	if (b->milli < COST)
		return false;
	b->milli -= COST;
	return true;
}
