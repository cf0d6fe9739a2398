#include "core/log_limit.h"

bool log_limit_pass(struct log_limit *l, uint64_t now_ms, unsigned per_sec, unsigned burst,
                    unsigned *suppressed)
{
	uint64_t cap = (uint64_t)burst * 1000;
	if (!l->started) {
		l->started = true;
		l->milli = (uint32_t)cap;
		l->last_ms = now_ms;
	}
	if (now_ms < l->last_ms) /* the clock stepped back: count from here */
		l->last_ms = now_ms;
	if (now_ms > l->last_ms) { /* per_sec lines a second: per_sec thousandths a ms */
		uint64_t milli = l->milli + (now_ms - l->last_ms) * per_sec;
		l->milli = (uint32_t)(milli > cap ? cap : milli);
		l->last_ms = now_ms;
	}
	if (l->milli < 1000) {
		if (l->suppressed < UINT32_MAX)
			l->suppressed++;
		return false;
	}
	l->milli -= 1000;
	*suppressed = l->suppressed;
	l->suppressed = 0;
	return true;
}
