/* The federation A/V test's TCP variant, its pure parts
 * (probe/fed_av_tcp_int.h, stun/msturn_frame.h): the client's pseudo-TLS
 * hello and its check of the reply, against the server's halves; the
 * nested frames a client writes; RFC 4571 reassembly; and the reading of a
 * client's whole connection, a stream inside a stream, cut at every byte.
 * The run itself, between two serves: tests/cli/test_fed_av_tcp.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "probe/fed_av_tcp_int.h"

/* --- the pseudo-TLS hello and reply ------------------------------------------------ */

static void test_hello(void **state)
{
	(void)state;
	static const uint8_t head[] = {0x16, 0x03, 0x01, 0x00, 0x2d, 0x01,
	                               0x00, 0x00, 0x29, 0x03, 0x01};
	static const uint8_t tail[] = {0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00};
	uint8_t a[PSEUDO_TLS_HELLO_LEN + 1], b[PSEUDO_TLS_HELLO_LEN];
	memset(a, 0xee, sizeof(a));
	pseudo_tls_hello(a);
	pseudo_tls_hello(b);
	assert_int_equal(a[PSEUDO_TLS_HELLO_LEN], 0xee); /* 50 bytes, not one more */
	assert_memory_equal(a, head, sizeof(head));
	assert_memory_equal(a + 43, tail, sizeof(tail));
	assert_memory_not_equal(a + 11, b + 11, 32); /* a fresh random */
	/* The server's half takes it whole, and each prefix as "so far". */
	assert_int_equal(pseudo_tls_hello_check(a, PSEUDO_TLS_HELLO_LEN), 1);
	for (size_t n = 0; n < PSEUDO_TLS_HELLO_LEN; n++)
		assert_int_equal(pseudo_tls_hello_check(a, n), 0);
}

static void test_reply_check(void **state)
{
	(void)state;
	uint8_t r[PSEUDO_TLS_REPLY_LEN + 1];
	pseudo_tls_reply(r); /* the server's */
	r[PSEUDO_TLS_REPLY_LEN] = 0x02;
	assert_int_equal(pseudo_tls_reply_check(r, PSEUDO_TLS_REPLY_LEN), 1);
	assert_int_equal(pseudo_tls_reply_check(r, sizeof(r)), 1); /* framing may follow */
	for (size_t n = 0; n < PSEUDO_TLS_REPLY_LEN; n++)
		assert_int_equal(pseudo_tls_reply_check(r, n), 0);
	/* A wrong byte in the head (0..10), the session id's length (43) or
	 * the tail (76..82): not the reply, as soon as it is there; the random
	 * (11..42) and the session id (44..75) may be anything. */
	for (size_t i = 0; i < PSEUDO_TLS_REPLY_LEN; i++) {
		bool fixed = i < 11 || i == 43 || i >= 76;
		r[i] ^= 0x5a;
		assert_int_equal(pseudo_tls_reply_check(r, PSEUDO_TLS_REPLY_LEN), fixed ? -1 : 1);
		assert_int_equal(pseudo_tls_reply_check(r, i + 1), fixed ? -1 : 0);
		r[i] ^= 0x5a;
	}
	/* The client's hello is no reply. */
	uint8_t h[PSEUDO_TLS_HELLO_LEN];
	pseudo_tls_hello(h);
	assert_int_equal(pseudo_tls_reply_check(h, sizeof(h)), -1);
}

/* --- the frames a client writes ------------------------------------------------------ */

static void test_wrap(void **state)
{
	(void)state;
	static const uint8_t own[] = {MSTURN_FRAME_CONTROL},
	                     inner[] = {MSTURN_FRAME_DATA, MSTURN_FRAME_CONTROL},
	                     media[] = {MSTURN_FRAME_DATA, MSTURN_FRAME_DATA}, bad[] = {0x04};
	uint8_t msg[20], out[STUN_MAX_MSG_LEN + 64];
	size_t len;
	memset(msg, 0xab, sizeof(msg));
	assert_int_equal(fed_av_tcp_wrap(own, 1, msg, 20, out, sizeof(out), &len), 0);
	assert_int_equal(len, 24);
	assert_memory_equal(out, ((uint8_t[]){0x02, 0x00, 0x00, 0x14}), 4);
	assert_memory_equal(out + 4, msg, 20);
	assert_int_equal(fed_av_tcp_wrap(inner, 2, msg, 20, out, sizeof(out), &len), 0);
	assert_int_equal(len, 28);
	assert_memory_equal(out, ((uint8_t[]){0x03, 0x00, 0x00, 0x18, 0x02, 0x00, 0x00, 0x14}), 8);
	assert_memory_equal(out + 8, msg, 20);
	assert_int_equal(fed_av_tcp_wrap(media, 2, msg, 20, out, sizeof(out), &len), 0);
	assert_memory_equal(out, ((uint8_t[]){0x03, 0x00, 0x00, 0x18, 0x03, 0x00, 0x00, 0x14}), 8);
	/* Bounds: each frame's payload within its type's, never empty, and the
	 * room given. */
	static uint8_t big[MSTURN_DATA_MAX + 8];
	assert_int_equal(fed_av_tcp_wrap(own, 1, big, STUN_MAX_MSG_LEN, out, sizeof(out), &len), 0);
	assert_int_equal(fed_av_tcp_wrap(own, 1, big, STUN_MAX_MSG_LEN + 1, out, sizeof(out), &len),
	                 EMSGSIZE);
	/* The control frame fits; the data frame around it (4 more) must too. */
	assert_int_equal(fed_av_tcp_wrap(inner, 2, big, STUN_MAX_MSG_LEN, out, sizeof(out), &len),
	                 0);
	static uint8_t huge[MSTURN_DATA_MAX + 16];
	assert_int_equal(
	    fed_av_tcp_wrap(media, 2, big, MSTURN_DATA_MAX - 4, huge, sizeof(huge), &len), 0);
	assert_int_equal(
	    fed_av_tcp_wrap(media, 2, big, MSTURN_DATA_MAX - 3, huge, sizeof(huge), &len),
	    EMSGSIZE);
	assert_int_equal(fed_av_tcp_wrap(own, 1, msg, 0, out, sizeof(out), &len), EMSGSIZE);
	assert_int_equal(fed_av_tcp_wrap(own, 1, msg, 20, out, 23, &len), ENOSPC);
	assert_int_equal(fed_av_tcp_wrap(bad, 1, msg, 20, out, sizeof(out), &len), EINVAL);
}

/* --- reading: what the sink saw --------------------------------------------------------- */

#define EVENTS_MAX 64

struct events {
	size_t n;
	struct {
		enum fed_av_kind kind;
		uint32_t index;  /* MEDIA */
		uint8_t tid_end; /* STUN: the transaction id's last byte */
	} e[EVENTS_MAX];
};

static void record(void *arg, const struct fed_av_datagram *d)
{
	struct events *ev = arg;
	assert_true(ev->n < EVENTS_MAX);
	ev->e[ev->n].kind = d->kind;
	ev->e[ev->n].index = d->kind == FED_AV_KIND_MEDIA ? d->index : 0;
	ev->e[ev->n].tid_end = d->kind == FED_AV_KIND_STUN ? d->msg.tid[STUN_TID_LEN - 1] : 0;
	ev->n++;
}

static void assert_events(const struct events *got, const struct events *want)
{
	assert_int_equal(got->n, want->n);
	for (size_t i = 0; i < want->n; i++) {
		assert_int_equal(got->e[i].kind, want->e[i].kind);
		assert_int_equal(got->e[i].index, want->e[i].index);
		assert_int_equal(got->e[i].tid_end, want->e[i].tid_end);
	}
}

static void want(struct events *ev, enum fed_av_kind kind, uint32_t index, uint8_t tid_end)
{
	ev->e[ev->n].kind = kind;
	ev->e[ev->n].index = index;
	ev->e[ev->n].tid_end = tid_end;
	ev->n++;
}

static const struct fed_av_stream stream = {
    .ssrc = 0x11223344, .seq0 = 65530, .ts0 = 7, .payload = 160, .packets = 8};

/* Appends the RFC 4571 frame of packet i (or the permit) to buf at *len. */
static void put_frame(uint8_t *buf, size_t cap, size_t *len, uint32_t i)
{
	size_t n;
	assert_int_equal(fed_av_packet_framed(&stream, i, buf + *len, cap - *len, &n), 0);
	*len += n;
}

/* --- RFC 4571 ---------------------------------------------------------------------------- */

/* Feeds s[0..len) in two pieces cut at every k, then a byte at a time. */
static void feed_rtp_cuts(const uint8_t *s, size_t len, bool media, const struct events *w)
{
	static struct fed_av_tcp_bytes b;
	struct events got;
	for (size_t k = 0; k <= len + 1; k++) {
		memset(&b, 0, sizeof(b));
		memset(&got, 0, sizeof(got));
		if (k <= len) {
			fed_av_tcp_rtp_read(&b, &stream, media, s, k, record, &got);
			fed_av_tcp_rtp_read(&b, &stream, media, s + k, len - k, record, &got);
		} else {
			for (size_t i = 0; i < len; i++)
				fed_av_tcp_rtp_read(&b, &stream, media, s + i, 1, record, &got);
		}
		assert_events(&got, w);
	}
}

static void test_rtp_stream(void **state)
{
	(void)state;
	static uint8_t s[8192];
	size_t len = 0;
	struct events w = {0};
	for (uint32_t i = 0; i < 4; i++) {
		put_frame(s, sizeof(s), &len, i);
		want(&w, FED_AV_KIND_MEDIA, i, 0);
	}
	put_frame(s, sizeof(s), &len, FED_AV_PERMIT_INDEX);
	want(&w, FED_AV_KIND_PERMIT, 0, 0);
	/* One byte off in packet 5's payload: corrupt, and the stream goes on. */
	size_t at = len;
	put_frame(s, sizeof(s), &len, 5);
	s[at + RTP_FRAME_HDR_LEN + RTP_HDR_LEN + 100] ^= 1;
	want(&w, FED_AV_KIND_CORRUPT, 0, 0);
	/* A frame too long for any packet of ours (3000 bytes) and an empty
	 * one: each corrupt, passed over whole. */
	s[len++] = 3000 >> 8;
	s[len++] = 3000 & 0xff;
	memset(s + len, 0x80, 3000);
	len += 3000;
	want(&w, FED_AV_KIND_CORRUPT, 0, 0);
	s[len++] = 0;
	s[len++] = 0;
	want(&w, FED_AV_KIND_CORRUPT, 0, 0);
	put_frame(s, sizeof(s), &len, 7);
	want(&w, FED_AV_KIND_MEDIA, 7, 0);
	feed_rtp_cuts(s, len, true, &w);

	/* The permit stream: only the permit counts, the rest is stray. */
	struct events p = {0};
	for (size_t i = 0; i < w.n; i++)
		want(&p, w.e[i].kind == FED_AV_KIND_PERMIT ? FED_AV_KIND_PERMIT : FED_AV_KIND_OTHER,
		     0, 0);
	feed_rtp_cuts(s, len, false, &p);
}

/* --- a client's whole connection ------------------------------------------------------------ */

static const uint8_t tid_own[STUN_TID_LEN] = {0x21, 0x12, 0xA4, 0x42, 1, 2,  3,  4,
                                              5,    6,    7,    8,    9, 10, 11, 0x0a};
static const uint8_t tid_inner[STUN_TID_LEN] = {0x21, 0x12, 0xA4, 0x42, 9, 9, 9, 9,
                                                9,    9,    9,    9,    9, 9, 9, 0x0b};

/* An Allocate success as a relay writes it. */
static size_t answer(const uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t cap)
{
	struct stun_enc e;
	struct sockaddr_storage relayed;
	size_t len;
	addr_parse("192.0.2.10:50123", 0, &relayed);
	stun_enc_init(&e, buf, cap, STUN_DIALECT_MSTURN,
	              stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_SUCCESS), tid);
	stun_enc_addr(&e, STUN_MSATTR_MAPPED_ADDRESS, (struct sockaddr *)&relayed);
	assert_int_equal(stun_enc_finish(&e, &len), 0);
	return len;
}

static size_t data_indication(const struct sockaddr_storage *from, const uint8_t *data, size_t len,
                              uint8_t *buf, size_t cap)
{
	static const uint8_t tid[STUN_TID_LEN] = {0};
	struct stun_enc e;
	size_t n;
	stun_enc_init(&e, buf, cap, STUN_DIALECT_MSTURN, STUN_MSTURN_TYPE_DATA_INDICATION, tid);
	stun_enc_addr(&e, STUN_MSATTR_REMOTE_ADDRESS, (const struct sockaddr *)from);
	stun_enc_attr(&e, STUN_MSATTR_DATA, data, len);
	assert_int_equal(stun_enc_finish(&e, &n), 0);
	return n;
}

/* Appends a frame of type around payload to buf at *len. */
static void put(uint8_t *buf, size_t cap, size_t *len, uint8_t type, const uint8_t *payload,
                size_t plen)
{
	size_t n;
	assert_int_equal(fed_av_tcp_wrap(&type, 1, payload, plen, buf + *len, cap - *len, &n), 0);
	*len += n;
}

static struct fed_av_expect expect(void)
{
	struct fed_av_expect e = {.in = &stream};
	addr_parse("192.0.2.20:50300", 0, &e.media_from);
	addr_parse("198.51.100.20:443", 0, &e.far_edge);
	return e;
}

/* What edge A writes to client A in a run, the far edge's stream and the
 * media each cut wherever a relay's read would fall (chunks of 7 and 50
 * bytes): the reply, an answer, the far stream in data frames, a stray
 * Data indication, and the media in Data indications. */
static size_t connection(uint8_t *c, size_t cap, struct events *w)
{
	static uint8_t far[4096], rtp[4096], msg[STUN_MAX_MSG_LEN];
	size_t len = 0, far_len = 0, rtp_len = 0, n;
	struct fed_av_expect e = expect();
	pseudo_tls_reply(c);
	len = PSEUDO_TLS_REPLY_LEN;
	put(c, cap, &len, MSTURN_FRAME_CONTROL, msg, answer(tid_own, msg, sizeof(msg)));
	want(w, FED_AV_KIND_STUN, 0, 0x0a);

	/* The far edge's stream: its reply, its answer, the far client's permit. */
	pseudo_tls_reply(far);
	far_len = PSEUDO_TLS_REPLY_LEN;
	put(far, sizeof(far), &far_len, MSTURN_FRAME_CONTROL, msg,
	    answer(tid_inner, msg, sizeof(msg)));
	want(w, FED_AV_KIND_STUN, 0, 0x0b);
	put_frame(rtp, sizeof(rtp), &rtp_len, FED_AV_PERMIT_INDEX);
	put(far, sizeof(far), &far_len, MSTURN_FRAME_DATA, rtp, rtp_len);
	want(w, FED_AV_KIND_PERMIT, 0, 0);
	for (size_t at = 0; at < far_len; at += 7) {
		n = far_len - at < 7 ? far_len - at : 7;
		put(c, cap, &len, MSTURN_FRAME_DATA, far + at, n);
	}
	/* From a peer nobody asked for: a stray. */
	struct sockaddr_storage nobody;
	addr_parse("203.0.113.1:9", 0, &nobody);
	put(c, cap, &len, MSTURN_FRAME_CONTROL, msg,
	    data_indication(&nobody, rtp, 3, msg, sizeof(msg)));
	want(w, FED_AV_KIND_OTHER, 0, 0);

	/* The media, three packets, in Data indications of 50 bytes' DATA. */
	rtp_len = 0;
	for (uint32_t i = 0; i < 3; i++) {
		put_frame(rtp, sizeof(rtp), &rtp_len, i);
		want(w, FED_AV_KIND_MEDIA, i, 0);
	}
	for (size_t at = 0; at < rtp_len; at += 50) {
		n = rtp_len - at < 50 ? rtp_len - at : 50;
		put(c, cap, &len, MSTURN_FRAME_CONTROL, msg,
		    data_indication(&e.media_from, rtp + at, n, msg, sizeof(msg)));
	}
	return len;
}

static void test_nested_stream(void **state)
{
	(void)state;
	static uint8_t c[16384];
	static struct fed_av_tcp_rx rx;
	struct events w = {0}, got;
	struct fed_av_expect e = expect();
	size_t len = connection(c, sizeof(c), &w);
	/* Cut in two at every byte, then a byte at a time: the same events. */
	for (size_t k = 0; k <= len + 1; k++) {
		fed_av_tcp_rx_init(&rx);
		memset(&got, 0, sizeof(got));
		if (k <= len) {
			fed_av_tcp_read(&rx, &e, c, k, record, &got);
			fed_av_tcp_read(&rx, &e, c + k, len - k, record, &got);
		} else {
			for (size_t i = 0; i < len; i++)
				fed_av_tcp_read(&rx, &e, c + i, 1, record, &got);
		}
		assert_events(&got, &w);
		assert_int_equal(rx.own_reply, FED_AV_TCP_REPLY_OK);
		assert_int_equal(rx.far_reply, FED_AV_TCP_REPLY_OK);
		assert_false(rx.own.lost || rx.far.lost || rx.permit.lost || rx.media.lost);
	}
}

/* Broken framing loses the stream it is in, and only that one. */
static void test_broken(void **state)
{
	(void)state;
	static uint8_t c[16384];
	static struct fed_av_tcp_rx rx;
	struct events w = {0}, got = {0};
	struct fed_av_expect e = expect();
	size_t len = connection(c, sizeof(c), &w);

	/* Not the reply: nothing is read. */
	fed_av_tcp_rx_init(&rx);
	c[0] ^= 1;
	fed_av_tcp_read(&rx, &e, c, len, record, &got);
	assert_int_equal(rx.own_reply, FED_AV_TCP_REPLY_BAD);
	assert_true(rx.own.lost);
	assert_int_equal(got.n, 0);
	c[0] ^= 1;

	/* A frame type neither 0x02 nor 0x03 after the first answer: the
	 * answer, then nothing. */
	size_t second = PSEUDO_TLS_REPLY_LEN + MSTURN_FRAME_HDR + (size_t)(c[85] << 8 | c[86]);
	c[second] = 0x16;
	fed_av_tcp_rx_init(&rx);
	fed_av_tcp_read(&rx, &e, c, len, record, &got);
	assert_true(rx.own.lost);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.e[0].kind, FED_AV_KIND_STUN);
	c[second] = MSTURN_FRAME_DATA;

	/* The far edge's reply wrong: its stream is lost, ours goes on (the
	 * stray and the media still come). */
	c[second + MSTURN_FRAME_HDR] ^= 1;
	memset(&got, 0, sizeof(got));
	fed_av_tcp_rx_init(&rx);
	fed_av_tcp_read(&rx, &e, c, len, record, &got);
	assert_int_equal(rx.own_reply, FED_AV_TCP_REPLY_OK);
	assert_int_equal(rx.far_reply, FED_AV_TCP_REPLY_BAD);
	assert_true(rx.far.lost);
	assert_false(rx.own.lost);
	struct events rest = {0};
	want(&rest, FED_AV_KIND_STUN, 0, 0x0a);
	want(&rest, FED_AV_KIND_OTHER, 0, 0);
	for (uint32_t i = 0; i < 3; i++)
		want(&rest, FED_AV_KIND_MEDIA, i, 0);
	assert_events(&got, &rest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello),         cmocka_unit_test(test_reply_check),
	    cmocka_unit_test(test_wrap),          cmocka_unit_test(test_rtp_stream),
	    cmocka_unit_test(test_nested_stream), cmocka_unit_test(test_broken),
	};
	return cmocka_run_group_tests_name("fed_av_tcp", tests, NULL, NULL);
}
