/* A call's record and its figures (assess/stats.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "assess/stats.h"

int assess_rec_init(struct assess_rec *r, uint32_t cap)
{
	memset(r, 0, sizeof(*r));
	if (!cap || cap > ASSESS_MAX_PACKETS)
		return EINVAL;
	r->sent_us = calloc(cap, sizeof(*r->sent_us));
	r->rtt_us = calloc(cap, sizeof(*r->rtt_us));
	r->jitter_us = calloc(cap, sizeof(*r->jitter_us));
	if (!r->sent_us || !r->rtt_us || !r->jitter_us) {
		assess_rec_free(r);
		return ENOMEM;
	}
	r->cap = cap;
	return 0;
}

void assess_rec_free(struct assess_rec *r)
{
	free(r->sent_us);
	free(r->rtt_us);
	free(r->jitter_us);
	memset(r, 0, sizeof(*r));
}

int assess_rec_sent(struct assess_rec *r, int64_t now_us, uint32_t *index)
{
	if (r->sent >= r->cap)
		return ENOSPC;
	/* Send times never go back: the windows walk them in order. */
	if (r->sent && now_us < r->sent_us[r->sent - 1])
		now_us = r->sent_us[r->sent - 1];
	r->sent_us[r->sent] = now_us;
	r->rtt_us[r->sent] = -1;
	*index = r->sent++;
	return 0;
}

int assess_rec_back(struct assess_rec *r, uint32_t index, int64_t now_us)
{
	if (index >= r->sent)
		return EINVAL;
	if (r->rtt_us[index] >= 0) {
		r->duplicates++;
		return EALREADY;
	}
	int64_t transit = now_us - r->sent_us[index];
	if (transit < 0)
		transit = 0;
	if (transit > INT32_MAX)
		transit = INT32_MAX;
	if (r->received) {
		int64_t d = transit - r->last_transit_us;
		r->jitter += ((double)(d < 0 ? -d : d) - r->jitter) / 16.0;
	}
	r->last_transit_us = transit;
	r->rtt_us[index] = (int32_t)transit;
	r->jitter_us[index] = (int32_t)r->jitter;
	r->received++;
	if (index + 1 < r->next_back)
		r->reordered++;
	else
		r->next_back = index + 1;
	return 0;
}

/* A window of send time: the packets sent in it, those back, their J. */
struct window {
	uint32_t sent, back;
	double jitter_us;
};

static void window_add(struct window *w, const struct assess_rec *r, uint32_t i, int sign)
{
	w->sent += (uint32_t)sign;
	if (r->rtt_us[i] >= 0) {
		w->back += (uint32_t)sign;
		w->jitter_us += sign * (double)r->jitter_us[i];
	}
}

/* The worst loss and mean J over the windows of width_us that fit in the
 * call (a window fits when it ends by one mean packet interval after the
 * last packet); the whole call when none does. */
static void worst_windows(const struct assess_rec *r, int64_t width_us, double *loss,
                          double *jitter_us)
{
	uint32_t n = r->sent;
	int64_t first = r->sent_us[0], last = r->sent_us[n - 1];
	int64_t period = n > 1 ? (last - first) / (n - 1) : 0;
	struct window w = {0};
	uint32_t end = 0;
	*loss = 0;
	*jitter_us = 0;
	for (uint32_t i = 0; i < n; i++) {
		int64_t stop = r->sent_us[i] + width_us;
		if (i > 0 && stop > last + period)
			break;
		while (end < n && r->sent_us[end] < stop)
			window_add(&w, r, end++, 1);
		double l = (double)(w.sent - w.back) / w.sent;
		if (l > *loss)
			*loss = l;
		if (w.back && w.jitter_us / w.back > *jitter_us)
			*jitter_us = w.jitter_us / w.back;
		window_add(&w, r, i, -1);
	}
}

void assess_rec_stats(const struct assess_rec *r, struct assess_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->sent = r->sent;
	s->received = r->received;
	if (!r->sent)
		return;
	s->loss = 1.0 - (double)r->received / r->sent;
	double rtt = 0, jitter = 0, rtt_max = 0;
	for (uint32_t i = 0; i < r->sent; i++) {
		if (r->rtt_us[i] < 0)
			continue;
		rtt += r->rtt_us[i];
		jitter += r->jitter_us[i];
		if (r->rtt_us[i] > rtt_max)
			rtt_max = r->rtt_us[i];
	}
	if (r->received) {
		s->rtt_ms = rtt / r->received / 1000.0;
		s->rtt_max_ms = rtt_max / 1000.0;
		s->jitter_ms = jitter / r->received / 1000.0;
		s->reorder = (double)r->reordered / r->received;
	}
	double jitter_worst_us;
	worst_windows(r, ASSESS_LOSS_WINDOW_US, &s->loss_worst, &jitter_worst_us);
	s->jitter_worst_ms = jitter_worst_us / 1000.0;
	double unused;
	worst_windows(r, ASSESS_BURST_WINDOW_US, &s->burst_worst, &unused);
}

void assess_rec_series(const struct assess_rec *r, int64_t bin_us, struct assess_bin *bins,
                       uint32_t cap, uint32_t *n)
{
	*n = 0;
	if (!r->sent || bin_us <= 0 || !cap)
		return;
	int64_t first = r->sent_us[0];
	int64_t span = r->sent_us[r->sent - 1] - first;
	uint64_t want = (uint64_t)(span / bin_us) + 1;
	*n = want < cap ? (uint32_t)want : cap;
	memset(bins, 0, *n * sizeof(*bins));
	for (uint32_t i = 0; i < r->sent; i++) {
		uint64_t b = (uint64_t)((r->sent_us[i] - first) / bin_us);
		if (b >= *n)
			break;
		bins[b].sent++;
		if (r->rtt_us[i] < 0)
			continue;
		bins[b].received++;
		bins[b].rtt_ms += r->rtt_us[i] / 1000.0;
		bins[b].jitter_ms += r->jitter_us[i] / 1000.0;
	}
	for (uint32_t b = 0; b < *n; b++) {
		if (!bins[b].received)
			continue;
		bins[b].rtt_ms /= bins[b].received;
		bins[b].jitter_ms /= bins[b].received;
	}
}

/* Microsoft's published targets (client to edge, edge to edge). */
static const struct assess_targets targets[] = {
    [ASSESS_PROFILE_CLIENT] = {"client", 0.01, 0.10, 30, 0.0005, 100},
    [ASSESS_PROFILE_EDGE] = {"edge", 0.001, 0.01, 15, 0.0001, 60},
};

const struct assess_targets *assess_targets(enum assess_profile p)
{
	return &targets[p == ASSESS_PROFILE_EDGE ? ASSESS_PROFILE_EDGE : ASSESS_PROFILE_CLIENT];
}

int assess_profile_parse(const char *name, enum assess_profile *p)
{
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (!strcmp(name, targets[i].name)) {
			*p = (enum assess_profile)i;
			return 0;
		}
	return EINVAL;
}

unsigned assess_judge(const struct assess_stats *s, const struct assess_targets *t)
{
	if (!s->received)
		return ASSESS_NOTHING_BACK | ASSESS_LOSS | ASSESS_BURST | ASSESS_JITTER |
		       ASSESS_RTT;
	unsigned miss = 0;
	if (!(s->loss_worst < t->loss))
		miss |= ASSESS_LOSS;
	if (!(s->burst_worst < t->burst))
		miss |= ASSESS_BURST;
	if (!(s->jitter_worst_ms < t->jitter_ms))
		miss |= ASSESS_JITTER;
	if (!(s->reorder < t->reorder))
		miss |= ASSESS_REORDER;
	if (!(s->rtt_ms < t->rtt_ms))
		miss |= ASSESS_RTT;
	return miss;
}
