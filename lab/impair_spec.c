/* An impairment's words (lab/impair_spec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/impair_spec.h"

#define WORDS_MAX 8

/* "40ms", "1.5s", "500us" into microseconds, at most IMPAIR_DELAY_MAX. */
static int time_parse(const char *w, uint32_t *us)
{
	char *end;
	double v = strtod(w, &end);
	double scale = !strcmp(end, "s")    ? 1e6
	               : !strcmp(end, "ms") ? 1e3
	               : !strcmp(end, "us") ? 1
	                                    : 0;
	if (end == w || !scale || !(v >= 0) || v * scale > IMPAIR_DELAY_MAX)
		return EINVAL;
	*us = (uint32_t)(v * scale + 0.5);
	return 0;
}

/* "0.5%" into parts per million. */
static int percent_parse(const char *w, uint32_t *ppm)
{
	char *end;
	double v = strtod(w, &end);
	if (end == w || strcmp(end, "%") || !(v >= 0) || v > 100)
		return EINVAL;
	*ppm = (uint32_t)(v * 1e4 + 0.5);
	return 0;
}

int impair_spec_parse(const char *s, struct impair_spec *sp, char *why, size_t why_len)
{
	char copy[IMPAIR_SPEC_MAX + 1], *words[WORDS_MAX + 1], *save;
	size_t n = 0;
	memset(sp, 0, sizeof(*sp));
	if (strlen(s) > IMPAIR_SPEC_MAX)
		return snprintf(why, why_len, "longer than %d bytes", IMPAIR_SPEC_MAX), EINVAL;
	strcpy(copy, s);
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == WORDS_MAX)
			return snprintf(why, why_len, "more than %d words", WORDS_MAX), EINVAL;
		words[n++] = w;
	}
	if (n == 0 || (n == 1 && !strcmp(words[0], "off")))
		return 0;
	bool seen[3] = {false};
	for (size_t i = 0; i < n;) {
		const char *k = words[i++];
		const char *v = i < n ? words[i] : NULL;
		int which = !strcmp(k, "delay")     ? 0
		            : !strcmp(k, "loss")    ? 1
		            : !strcmp(k, "reorder") ? 2
		                                    : -1;
		if (which < 0)
			return snprintf(why, why_len, "'%s' is not delay, loss or reorder", k),
			       EINVAL;
		if (seen[which])
			return snprintf(why, why_len, "%s given twice", k), EINVAL;
		seen[which] = true;
		if (!v)
			return snprintf(why, why_len, "%s needs a value", k), EINVAL;
		i++;
		if (which == 0) {
			if (time_parse(v, &sp->delay_us))
				return snprintf(why, why_len,
				                "'%s' is not a time up to 10s (40ms, 1.5s, 500us)",
				                v),
				       EINVAL;
			/* An optional jitter: a time, not a keyword. */
			if (i < n && !time_parse(words[i], &sp->jitter_us)) {
				if (sp->jitter_us > sp->delay_us)
					return snprintf(why, why_len,
					                "jitter %s is more than the delay",
					                words[i]),
					       EINVAL;
				i++;
			}
		} else if (percent_parse(v, which == 1 ? &sp->loss_ppm : &sp->reorder_ppm)) {
			return snprintf(why, why_len, "'%s' is not a percentage (0.5%%)", v),
			       EINVAL;
		}
	}
	if (sp->reorder_ppm && !sp->delay_us)
		return snprintf(why, why_len,
		                "reorder needs a delay (the others are held, as netem's)"),
		       EINVAL;
	return 0;
}

bool impair_spec_on(const struct impair_spec *sp)
{
	return sp->delay_us || sp->loss_ppm;
}

const char *impair_spec_str(const struct impair_spec *sp, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
#define ADD(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(buf + used, used < cap ? cap - used : 0, __VA_ARGS__);           \
		used += n_ > 0 ? (size_t)n_ : 0;                                                   \
	} while (0)
	if (sp->delay_us) {
		ADD("delay %gms", sp->delay_us / 1e3);
		if (sp->jitter_us)
			ADD(" %gms", sp->jitter_us / 1e3);
	}
	if (sp->loss_ppm)
		ADD("%sloss %g%%", used ? " " : "", sp->loss_ppm / 1e4);
	if (sp->reorder_ppm)
		ADD("%sreorder %g%%", used ? " " : "", sp->reorder_ppm / 1e4);
#undef ADD
	if (!used)
		snprintf(buf, cap, "off");
	return buf;
}
