/* assess/: a call's figures from what it sent and what came back, against
 * figures worked out by hand, the targets' judgement, and a call's packets
 * and their RFC 4571 frames (assess/packet.c). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "assess/packet.h"
#include "assess/stats.h"

#define MS     1000
#define PERIOD (20 * MS) /* 50 packets a second */

/* A call of n packets sent every 20 ms from 0; packet i back after
 * rtt(i) us unless lost(i) (in order of send time: no reorder). */
static void call(struct assess_rec *r, uint32_t n, int (*lost)(uint32_t), int32_t (*rtt)(uint32_t))
{
	assert_int_equal(assess_rec_init(r, n), 0);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t index;
		assert_int_equal(assess_rec_sent(r, (int64_t)i * PERIOD, &index), 0);
		assert_int_equal(index, i);
	}
	for (uint32_t i = 0; i < n; i++)
		if (!lost || !lost(i))
			assert_int_equal(assess_rec_back(r, i, (int64_t)i * PERIOD + rtt(i)), 0);
}

static int32_t rtt_flat(uint32_t i)
{
	(void)i;
	return 30 * MS;
}

/* 10 and 20 ms in turn: |D| is 10 ms at every arrival after the first. */
static int32_t rtt_alternating(uint32_t i)
{
	return i % 2 ? 20 * MS : 10 * MS;
}

static void test_clean_call(void **state)
{
	(void)state;
	struct assess_rec r;
	call(&r, 850, NULL, rtt_flat); /* 17 s, as the tool's call */
	struct assess_stats s;
	assess_rec_stats(&r, &s);
	assert_int_equal(s.sent, 850);
	assert_int_equal(s.received, 850);
	assert_true(s.loss == 0 && s.loss_worst == 0 && s.burst_worst == 0);
	assert_true(fabs(s.rtt_ms - 30) < 1e-9 && fabs(s.rtt_max_ms - 30) < 1e-9);
	assert_true(s.jitter_ms == 0 && s.jitter_worst_ms == 0 && s.reorder == 0);
	assert_int_equal(assess_judge(&s, assess_targets(ASSESS_PROFILE_CLIENT)), 0);
	assert_int_equal(assess_judge(&s, assess_targets(ASSESS_PROFILE_EDGE)), 0);
	assess_rec_free(&r);
}

static void test_rfc3550_jitter(void **state)
{
	(void)state;
	struct assess_rec r;
	call(&r, 200, NULL, rtt_alternating);
	/* J_k = 10 ms * (1 - (15/16)^k) after k differences. */
	double expect_last = 10.0 * (1 - pow(15.0 / 16.0, 199));
	assert_true(fabs(r.jitter / 1000.0 - expect_last) < 1e-6);
	assert_int_equal(r.jitter_us[0], 0);
	assert_int_equal(r.jitter_us[1], 625); /* 10 ms / 16 */
	struct assess_stats s;
	assess_rec_stats(&r, &s);
	double mean = 0;
	for (int k = 0; k < 200; k++)
		mean += (int32_t)(10000.0 * (1 - pow(15.0 / 16.0, k))) / 1000.0;
	mean /= 200;
	assert_true(fabs(s.jitter_ms - mean) < 0.01);
	assert_true(fabs(s.rtt_ms - 15) < 1e-9);
	assert_true(fabs(s.rtt_max_ms - 20) < 1e-9);
	/* 200 packets are 4 s: one 15 s window, the whole call. */
	assert_true(fabs(s.jitter_worst_ms - s.jitter_ms) < 1e-9);
	assess_rec_free(&r);
}

static int lost_every_100th(uint32_t i)
{
	return i % 100 == 99;
}

static void test_loss_spread(void **state)
{
	(void)state;
	struct assess_rec r;
	call(&r, 850, lost_every_100th, rtt_flat);
	struct assess_stats s;
	assess_rec_stats(&r, &s);
	assert_int_equal(s.received, 842);
	assert_true(fabs(s.loss - 8.0 / 850) < 1e-12);
	/* A 15 s window holds 750 packets: 8 of them lost at worst (99, 199,
	 * ..., 799 from packet 50 on). */
	assert_true(fabs(s.loss_worst - 8.0 / 750) < 1e-12);
	/* A 200 ms window holds 10 packets, one lost at worst. */
	assert_true(fabs(s.burst_worst - 0.1) < 1e-12);
	unsigned client = assess_judge(&s, assess_targets(ASSESS_PROFILE_CLIENT));
	assert_int_equal(client, ASSESS_LOSS | ASSESS_BURST);
	assess_rec_free(&r);
}

/* Three in a row lost from packet 400: 30 % of a 200 ms window. */
static int lost_burst(uint32_t i)
{
	return i >= 400 && i < 403;
}

static void test_burst(void **state)
{
	(void)state;
	struct assess_rec r;
	call(&r, 850, lost_burst, rtt_flat);
	struct assess_stats s;
	assess_rec_stats(&r, &s);
	assert_true(fabs(s.burst_worst - 0.3) < 1e-12);
	assert_true(fabs(s.loss_worst - 3.0 / 750) < 1e-12);
	assert_int_equal(assess_judge(&s, assess_targets(ASSESS_PROFILE_CLIENT)), ASSESS_BURST);
	assert_int_equal(assess_judge(&s, assess_targets(ASSESS_PROFILE_EDGE)),
	                 ASSESS_LOSS | ASSESS_BURST);
	assess_rec_free(&r);
}

/* Losses only in the last second of a 17 s call: the windows that fit
 * (starting up to 2 s in) all hold them. */
static int lost_late(uint32_t i)
{
	return i >= 800 && i < 805;
}

static void test_window_fits(void **state)
{
	(void)state;
	struct assess_rec r;
	call(&r, 850, lost_late, rtt_flat);
	struct assess_stats s;
	assess_rec_stats(&r, &s);
	assert_true(fabs(s.loss_worst - 5.0 / 750) < 1e-12);
	assess_rec_free(&r);
}

static void test_reorder_and_duplicates(void **state)
{
	(void)state;
	struct assess_rec r;
	assert_int_equal(assess_rec_init(&r, 8), 0);
	uint32_t index;
	for (int i = 0; i < 4; i++)
		assert_int_equal(assess_rec_sent(&r, i * PERIOD, &index), 0);
	assert_int_equal(assess_rec_back(&r, 0, 10 * MS), 0);
	assert_int_equal(assess_rec_back(&r, 2, 50 * MS), 0);
	assert_int_equal(assess_rec_back(&r, 1, 55 * MS), 0); /* after 2: reordered */
	assert_int_equal(assess_rec_back(&r, 1, 56 * MS), EALREADY);
	assert_int_equal(assess_rec_back(&r, 4, 70 * MS), EINVAL); /* never sent */
	assert_int_equal(assess_rec_back(&r, 3, 70 * MS), 0);
	assert_int_equal(r.duplicates, 1);
	struct assess_stats s;
	assess_rec_stats(&r, &s);
	assert_int_equal(s.received, 4);
	assert_true(fabs(s.reorder - 0.25) < 1e-12);
	assert_int_equal(assess_judge(&s, assess_targets(ASSESS_PROFILE_CLIENT)), ASSESS_REORDER);
	assess_rec_free(&r);
}

static void test_bounds(void **state)
{
	(void)state;
	struct assess_rec r;
	assert_int_equal(assess_rec_init(&r, 0), EINVAL);
	assert_int_equal(assess_rec_init(&r, ASSESS_MAX_PACKETS + 1), EINVAL);
	assert_int_equal(assess_rec_init(&r, 2), 0);
	uint32_t index;
	assert_int_equal(assess_rec_sent(&r, 100, &index), 0);
	assert_int_equal(assess_rec_sent(&r, 50, &index), 0); /* a clock going back */
	assert_true(r.sent_us[1] == 100);
	assert_int_equal(assess_rec_sent(&r, 200, &index), ENOSPC);
	struct assess_stats s;
	assess_rec_stats(&r, &s);
	assert_true(s.loss == 1 && s.loss_worst == 1 && s.burst_worst == 1);
	unsigned miss = assess_judge(&s, assess_targets(ASSESS_PROFILE_EDGE));
	assert_true(miss & ASSESS_NOTHING_BACK);
	assess_rec_free(&r);
	/* An empty record: no figures, nothing divided by zero. */
	assert_int_equal(assess_rec_init(&r, 2), 0);
	assess_rec_stats(&r, &s);
	assert_int_equal(s.sent, 0);
	assess_rec_free(&r);
}

static void test_series(void **state)
{
	(void)state;
	struct assess_rec r;
	call(&r, 850, lost_burst, rtt_alternating);
	struct assess_bin bins[32];
	uint32_t n;
	assess_rec_series(&r, 1000 * MS, bins, 32, &n);
	assert_int_equal(n, 17);
	assert_int_equal(bins[0].sent, 50);
	assert_int_equal(bins[8].received, 47); /* packets 400-402 lost */
	assert_true(fabs(bins[0].rtt_ms - 15) < 1e-9);
	assess_rec_series(&r, 1000 * MS, bins, 4, &n);
	assert_int_equal(n, 4);
	assess_rec_free(&r);
}

static void test_profiles(void **state)
{
	(void)state;
	enum assess_profile p;
	assert_int_equal(assess_profile_parse("edge", &p), 0);
	assert_int_equal(p, ASSESS_PROFILE_EDGE);
	assert_int_equal(assess_profile_parse("client", &p), 0);
	assert_int_equal(p, ASSESS_PROFILE_CLIENT);
	assert_int_equal(assess_profile_parse("Edge", &p), EINVAL);
	const struct assess_targets *t = assess_targets(ASSESS_PROFILE_EDGE);
	assert_true(t->loss == 0.001 && t->burst == 0.01 && t->jitter_ms == 15 &&
	            t->reorder == 0.0001 && t->rtt_ms == 60);
}

static void test_packet(void **state)
{
	(void)state;
	uint8_t buf[ASSESS_PKT_MAX + 8];
	struct assess_pkt p = {.call = 0xc0ffee01, .index = 70000, .sent_us = 0x123456789abLL};
	struct assess_pkt q;
	size_t sizes[] = {ASSESS_PKT_MIN, ASSESS_PKT_DEFAULT, ASSESS_PKT_MAX};
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(assess_pkt_encode(&p, sizes[k], buf, sizeof(buf)), 0);
		assert_int_equal(buf[0], 0x80); /* RTP version 2, nothing else */
		assert_int_equal(buf[1], 0);    /* PCMU */
		assert_int_equal(buf[2] << 8 | buf[3], 70000 & 0xffff);
		assert_int_equal(assess_pkt_decode(buf, sizes[k], &q), 0);
		assert_true(q.call == p.call && q.index == p.index && q.sent_us == p.sent_us);
	}
	/* The default is G.711's 20 ms: 160 bytes after the header, the
	 * timestamp 160 a packet. */
	assert_int_equal(assess_pkt_encode(&p, ASSESS_PKT_DEFAULT, buf, sizeof(buf)), 0);
	uint32_t ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | buf[6] << 8 | buf[7];
	assert_int_equal(ts, 70000u * 160);
	assert_int_equal(buf[ASSESS_PKT_DEFAULT - 1], 0xff);
	/* Bounds. */
	assert_int_equal(assess_pkt_encode(&p, ASSESS_PKT_MIN - 1, buf, sizeof(buf)), EINVAL);
	assert_int_equal(assess_pkt_encode(&p, ASSESS_PKT_MAX + 1, buf, sizeof(buf)), EINVAL);
	assert_int_equal(assess_pkt_encode(&p, 200, buf, 199), ENOSPC);
	/* Not ours: cut short, another tag, a sequence number not the index's,
	 * not RTP version 2. */
	assert_int_equal(assess_pkt_encode(&p, ASSESS_PKT_DEFAULT, buf, sizeof(buf)), 0);
	for (size_t len = 0; len < ASSESS_PKT_MIN; len++)
		assert_int_equal(assess_pkt_decode(buf, len, &q), EBADMSG);
	uint8_t bad[ASSESS_PKT_DEFAULT];
	memcpy(bad, buf, sizeof(bad));
	bad[12] = 'X';
	assert_int_equal(assess_pkt_decode(bad, sizeof(bad), &q), EBADMSG);
	memcpy(bad, buf, sizeof(bad));
	bad[3] ^= 1;
	assert_int_equal(assess_pkt_decode(bad, sizeof(bad), &q), EBADMSG);
	memcpy(bad, buf, sizeof(bad));
	bad[0] = 0x40;
	assert_int_equal(assess_pkt_decode(bad, sizeof(bad), &q), EBADMSG);
}

/* RFC 4571 over a TCP relay: three packets as one stream, cut at every
 * byte; whatever the cut, the same frames come out, and a length no call
 * sends loses the stream. */
static void test_frames(void **state)
{
	(void)state;
	uint8_t stream[3 * ASSESS_FRAME_MAX];
	size_t sizes[] = {ASSESS_PKT_MIN, ASSESS_PKT_DEFAULT, ASSESS_PKT_MAX}, len = 0, n;
	for (uint32_t k = 0; k < 3; k++) {
		struct assess_pkt p = {.call = 7, .index = k, .sent_us = 1000 * k};
		assert_int_equal(
		    assess_frame_encode(&p, sizes[k], stream + len, sizeof(stream) - len, &n), 0);
		assert_int_equal(n, ASSESS_FRAME_HDR + sizes[k]);
		assert_int_equal(stream[len] << 8 | stream[len + 1], sizes[k]);
		len += n;
	}
	for (size_t cut = 0; cut <= len; cut++) {
		/* What a first read of cut bytes holds, then the whole stream. */
		size_t at = 0, frames = 0, fl;
		while (assess_frame_next(stream + at, cut - at, &fl) == 0)
			at += fl, frames++;
		assert_int_equal(assess_frame_next(stream + at, cut - at, &fl), EAGAIN);
		while (assess_frame_next(stream + at, len - at, &fl) == 0) {
			struct assess_pkt q;
			assert_int_equal(assess_pkt_decode(stream + at + ASSESS_FRAME_HDR,
			                                   fl - ASSESS_FRAME_HDR, &q),
			                 0);
			assert_int_equal(q.index, frames);
			at += fl, frames++;
		}
		assert_int_equal(frames, 3);
		assert_int_equal(at, len);
	}
	uint8_t bad[2] = {0, ASSESS_PKT_MIN - 1};
	assert_int_equal(assess_frame_next(bad, 2, &n), EBADMSG);
	bad[0] = (ASSESS_PKT_MAX + 1) >> 8, bad[1] = (uint8_t)(ASSESS_PKT_MAX + 1);
	assert_int_equal(assess_frame_next(bad, 2, &n), EBADMSG);
	assert_int_equal(assess_frame_next(bad, 1, &n), EAGAIN);
	struct assess_pkt p = {0};
	assert_int_equal(
	    assess_frame_encode(&p, ASSESS_PKT_DEFAULT, stream, ASSESS_PKT_DEFAULT + 1, &n),
	    ENOSPC);
	assert_int_equal(assess_frame_encode(&p, ASSESS_PKT_MAX + 1, stream, sizeof(stream), &n),
	                 EINVAL);
}

/* A stream out of step: the tail of a frame cut off (the relay's
 * connection lost mid-frame), a frame of another call, bytes that only
 * look like a length; the next of the call's frames is found after them,
 * and a frame not all there yet keeps the bytes that may start it. */
static void test_frame_find(void **state)
{
	(void)state;
	uint8_t s[4 * ASSESS_FRAME_MAX];
	size_t len = 0, n, skip, whole;
	struct assess_pkt p = {.call = 7, .index = 1};
	assert_int_equal(assess_frame_encode(&p, ASSESS_PKT_DEFAULT, s, sizeof(s), &n), 0);
	memmove(s, s + 100, n - 100); /* the last 74 bytes of a frame */
	len = n - 100;
	struct assess_pkt other = {.call = 8, .index = 2};
	assert_int_equal(assess_frame_encode(&other, ASSESS_PKT_DEFAULT, s + len, 400, &n), 0);
	len += n;
	s[len++] = 0;
	s[len++] = ASSESS_PKT_MIN; /* a length, then no frame */
	s[len++] = 0x12;
	size_t before = len;
	p.index = 2;
	assert_int_equal(assess_frame_encode(&p, ASSESS_PKT_MAX, s + len, sizeof(s) - len, &n), 0);
	len += n;
	assert_int_equal(assess_frame_find(s, len, 7, &skip, &whole), 0);
	assert_int_equal(skip, before);
	assert_int_equal(whole, ASSESS_FRAME_HDR + ASSESS_PKT_MAX);
	assert_int_equal(assess_frame_find(s, len, 8, &skip, &whole), 0); /* the other call's */
	assert_int_equal(skip, 74);
	/* Not all there: what may start the frame stays. */
	assert_int_equal(assess_frame_find(s, len - 1, 7, &skip, &whole), EAGAIN);
	assert_true(skip <= before);
	assert_int_equal(assess_frame_find(s + skip, len - skip, 7, &n, &whole), 0);
	assert_int_equal(skip + n, before);
	assert_int_equal(assess_frame_find(s, 0, 7, &skip, &whole), EAGAIN);
	assert_int_equal(skip, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_call),  cmocka_unit_test(test_rfc3550_jitter),
	    cmocka_unit_test(test_loss_spread), cmocka_unit_test(test_burst),
	    cmocka_unit_test(test_window_fits), cmocka_unit_test(test_reorder_and_duplicates),
	    cmocka_unit_test(test_bounds),      cmocka_unit_test(test_series),
	    cmocka_unit_test(test_profiles),    cmocka_unit_test(test_packet),
	    cmocka_unit_test(test_frames),      cmocka_unit_test(test_frame_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
