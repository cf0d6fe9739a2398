/* One call's media figures, as Microsoft's Network Assessment Tool reports
 * them per call (its Results.tsv) and as Microsoft's targets judge them:
 * pure functions over a record of what a call sent and what came back.
 *
 * A call sends packets 0, 1, 2... at times it notes; the reflector beyond
 * the relay mirrors each, and what comes back names its index. Every
 * figure is read on one clock, ours:
 * - round-trip time: a packet's arrival less its sending;
 * - jitter: RFC 3550 section 6.4.1's interarrival jitter J, in arrival
 *   order, with the round trip as the transit time (J += (|D| - J) / 16);
 * - reorder: packets that came back after a later-sent one, per packet
 *   back (the tool's PacketReorderRatio);
 * - loss: packets never back, per packet sent; over any window of send
 *   time (15 s, 200 ms: ASSESS_LOSS_WINDOW_US, ASSESS_BURST_WINDOW_US),
 *   the worst such window. Only windows that fit in the call count; a call
 *   shorter than a window is one window.
 * Docs: docs/assess.md. */
#ifndef EDGELAB_ASSESS_STATS_H
#define EDGELAB_ASSESS_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* A call's bound: 100 packets a second for an hour. */
#define ASSESS_MAX_PACKETS     360000u
#define ASSESS_LOSS_WINDOW_US  15000000
#define ASSESS_BURST_WINDOW_US 200000

/* What one call sent and what came back. */
struct assess_rec {
	uint32_t cap;        /* packets it can hold */
	uint32_t sent;       /* packets 0..sent-1 sent */
	uint32_t received;   /* distinct packets back */
	uint32_t duplicates; /* a packet back again */
	uint32_t reordered;  /* back after a later-sent one */
	uint32_t next_back;  /* the highest index back, plus one */
	int64_t *sent_us;    /* [cap]: when each was sent */
	int32_t *rtt_us;     /* [cap]: its round trip; -1 while not back */
	int32_t *jitter_us;  /* [cap]: J when it came back */
	int64_t last_transit_us;
	double jitter; /* J in microseconds, running */
};

/* A call's figures. Ratios are fractions (0.01 is 1 %). */
struct assess_stats {
	uint32_t sent, received;
	double loss;        /* 1 - received / sent */
	double loss_worst;  /* the worst 15 s window's */
	double burst_worst; /* the worst 200 ms window's */
	double rtt_ms;      /* mean round trip of the packets back */
	double rtt_max_ms;
	double jitter_ms;       /* mean of J over the packets back */
	double jitter_worst_ms; /* the worst 15 s window's mean J */
	double reorder;         /* reordered / received */
};

/* One bin of a call's time series (by send time), for the report's plot. */
struct assess_bin {
	uint32_t sent, received;
	double rtt_ms, jitter_ms; /* means over the packets back; 0 when none */
};

/* ENOMEM, or EINVAL when cap is 0 or above ASSESS_MAX_PACKETS. */
int assess_rec_init(struct assess_rec *r, uint32_t cap);
void assess_rec_free(struct assess_rec *r);
/* Notes packet r->sent as sent at now_us; its index is returned in *index.
 * ENOSPC when the record is full. */
int assess_rec_sent(struct assess_rec *r, int64_t now_us, uint32_t *index);
/* Packet index back at now_us. EINVAL: never sent (a stranger or a forged
 * index); EALREADY: back before (counted as a duplicate). */
int assess_rec_back(struct assess_rec *r, uint32_t index, int64_t now_us);

void assess_rec_stats(const struct assess_rec *r, struct assess_stats *s);
/* The call in bins of bin_us from its first packet: bins[0..*n), at most
 * cap of them. */
void assess_rec_series(const struct assess_rec *r, int64_t bin_us, struct assess_bin *bins,
                       uint32_t cap, uint32_t *n);

/* Microsoft's targets for a call: client to edge, or edge to edge. */
enum assess_profile { ASSESS_PROFILE_CLIENT, ASSESS_PROFILE_EDGE };

struct assess_targets {
	const char *name; /* "client", "edge" */
	double loss;      /* in any 15 s, below */
	double burst;     /* in any 200 ms, below */
	double jitter_ms; /* in any 15 s, below */
	double reorder;   /* below */
	double rtt_ms;    /* below */
};

/* The metrics a call is judged on, as bits of a miss mask. */
enum assess_metric {
	ASSESS_LOSS = 1 << 0,
	ASSESS_BURST = 1 << 1,
	ASSESS_JITTER = 1 << 2,
	ASSESS_REORDER = 1 << 3,
	ASSESS_RTT = 1 << 4,
	ASSESS_NOTHING_BACK = 1 << 5,
};

const struct assess_targets *assess_targets(enum assess_profile p);
/* "client" or "edge": 0, else EINVAL. */
int assess_profile_parse(const char *name, enum assess_profile *p);
/* The metrics s misses on t (0: every target met). A call that got nothing
 * back misses ASSESS_NOTHING_BACK and every target but reorder. */
unsigned assess_judge(const struct assess_stats *s, const struct assess_targets *t);

#endif
