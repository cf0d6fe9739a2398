/* The lock-out policy (core/evict.h). */
#include "core/evict.h"

#include <stdio.h>
#include <time.h>

void evict_pick_init(struct evict_pick *p)
{
	*p = (struct evict_pick){.victim = NULL, .state = EVICT_KEEP, .since_ms = 0};
}

void evict_pick_offer(struct evict_pick *p, void *conn, enum evict_state state, uint64_t since_ms)
{
	if (state >= EVICT_KEEP || state > p->state)
		return;
	/* Among equals the last offered: the modules' lists put the newest
	 * first, and a flood makes many in the same ms. */
	if (p->victim && state == p->state && since_ms > p->since_ms)
		return;
	p->victim = conn;
	p->state = state;
	p->since_ms = since_ms;
}

bool evict_pressure(unsigned open, unsigned cap)
{
	return (uint64_t)open * 100 > (uint64_t)cap * EVICT_PRESSURE_PCT;
}

uint64_t evict_timeout_ms(unsigned base_s, unsigned open, unsigned cap)
{
	uint64_t base = (uint64_t)base_s * 1000;
	if (!evict_pressure(open, cap))
		return base;
	uint64_t shrunk = base / EVICT_SHRINK;
	if (shrunk < EVICT_FLOOR_MS)
		shrunk = EVICT_FLOOR_MS;
	return shrunk < base ? shrunk : base;
}

bool evict_log_take(struct evict_log *l, uint64_t now_ms, char *more, size_t cap)
{
	if (now_ms - l->window_ms >= 1000 || now_ms < l->window_ms) {
		l->window_ms = now_ms;
		l->logged = 0;
	}
	if (l->logged >= EVICT_LOG_PER_S) {
		l->skipped++;
		return false;
	}
	l->logged++;
	if (l->skipped)
		snprintf(more, cap, " (%u more not logged)", l->skipped);
	else if (cap)
		more[0] = '\0';
	l->skipped = 0;
	return true;
}

uint64_t evict_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
