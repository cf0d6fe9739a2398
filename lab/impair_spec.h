/* An impairment of one direction of the lab's fw, in tc netem's words (a
 * subset): "delay TIME [JITTER]", "loss PERCENT", "reorder PERCENT", in any
 * order, or "off". Pure functions. The lab's impairer (lab/impair.h) does
 * what netem would, from user space through NFQUEUE: kernels without netem
 * (CONFIG_NET_SCH_NETEM) have NFQUEUE. */
#ifndef EDGELAB_LAB_IMPAIR_SPEC_H
#define EDGELAB_LAB_IMPAIR_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPAIR_SPEC_MAX  128      /* bytes of a spec */
#define IMPAIR_DELAY_MAX 10000000 /* 10 s, in microseconds */
#define IMPAIR_PPM       1000000  /* 100 %, in parts per million */

struct impair_spec {
	uint32_t delay_us;    /* every packet held this long... */
	uint32_t jitter_us;   /* ... give or take this much (uniform) */
	uint32_t loss_ppm;    /* dropped, each on its own */
	uint32_t reorder_ppm; /* sent at once, not delayed (netem's reorder): needs a delay */
};

/* s into *sp: 0, or EINVAL with why written ("'40x' is not a time (40ms,
 * 1.5s, 500us)"). "off" and "" are no impairment. */
int impair_spec_parse(const char *s, struct impair_spec *sp, char *why, size_t why_len);
/* Whether sp impairs anything. */
bool impair_spec_on(const struct impair_spec *sp);
/* sp in the same words ("delay 40ms 10ms loss 0.5%", or "off"). */
const char *impair_spec_str(const struct impair_spec *sp, char *buf, size_t cap);

#endif
