/* media/rtp.c: bare RTP packets (the federation A/V test's datagrams) and
 * their RFC 4571 framing (row 4), and the probe's
 * check of where an outbound flow came from (probe/flow.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "media/rtp.h"
#include "probe/flow.h"

static void test_rtp_round_trip(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len, plen, flen;
	const uint8_t *payload;
	struct rtp_hdr h = {.marker = true,
	                    .pt = 96,
	                    .seq = 0xfffe,
	                    .ts = 0x01020304,
	                    .ssrc = 0xdeadbeef},
	               got;
	assert_int_equal(rtp_frame_encode(buf, sizeof(buf), &h, "hello", 5, &len), 0);
	assert_int_equal(len, 2 + 12 + 5);
	/* Bytes as RFC 3550 section 5.1 and RFC 4571 section 2 lay them out. */
	static const uint8_t want[] = {0x00, 0x11, 0x80, 0xe0, 0xff, 0xfe, 0x01, 0x02,
	                               0x03, 0x04, 0xde, 0xad, 0xbe, 0xef, 'h'};
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(rtp_frame_decode(buf, len, &got, &payload, &plen, &flen), 0);
	assert_int_equal(flen, len);
	assert_true(got.marker);
	assert_int_equal(got.pt, 96);
	assert_int_equal(got.seq, 0xfffe);
	assert_int_equal(got.ts, 0x01020304);
	assert_int_equal(got.ssrc, 0xdeadbeef);
	assert_int_equal(plen, 5);
	assert_memory_equal(payload, "hello", 5);
}

static void test_rtp_stream_needs_whole_frames(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len, plen, flen;
	const uint8_t *payload;
	struct rtp_hdr h = {.pt = 0}, got;
	assert_int_equal(rtp_frame_encode(buf, sizeof(buf), &h, "ab", 2, &len), 0);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(rtp_frame_decode(buf, cut, &got, &payload, &plen, &flen), EAGAIN);
	/* Two frames back to back: the first is taken, its length says where
	 * the next starts. */
	assert_int_equal(rtp_frame_encode(buf + len, sizeof(buf) - len, &h, "cde", 3, &flen), 0);
	assert_int_equal(rtp_frame_decode(buf, len + flen, &got, &payload, &plen, &flen), 0);
	assert_int_equal(flen, len);
	assert_memory_equal(payload, "ab", 2);
	assert_int_equal(rtp_frame_decode(buf + len, 2 + 12 + 3, &got, &payload, &plen, &flen), 0);
	assert_memory_equal(payload, "cde", 3);
}

static void test_rtp_csrc_extension_padding(void **state)
{
	(void)state;
	/* V=2 P=1 X=1 CC=1, one CSRC, a one-word extension, payload "xy" and
	 * two bytes of padding (the last counts them). */
	static const uint8_t f[] = {0,    28,   0xb1, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, /* hdr */
	                            9,    9,    9,    9,                                  /* CSRC */
	                            0xbe, 0xde, 0,    1,    1, 2, 3, 4,                   /* ext */
	                            'x',  'y',  0,    2};
	struct rtp_hdr got;
	const uint8_t *payload;
	size_t plen, flen;
	assert_int_equal(rtp_frame_decode(f, sizeof(f), &got, &payload, &plen, &flen), 0);
	assert_int_equal(got.cc, 1);
	assert_true(got.extension);
	assert_int_equal(plen, 2);
	assert_memory_equal(payload, "xy", 2);
	assert_int_equal(flen, sizeof(f));
}

static void test_rtp_rejects(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len, plen, flen;
	const uint8_t *payload;
	struct rtp_hdr h = {.pt = 8}, got;
	assert_int_equal(rtp_frame_encode(buf, sizeof(buf), &h, "abcd", 4, &len), 0);
	buf[2] = 0x40; /* version 1 */
	assert_int_equal(rtp_frame_decode(buf, len, &got, &payload, &plen, &flen), EBADMSG);
	buf[2] = 0x8f; /* 15 CSRCs cannot fit in 16 bytes */
	assert_int_equal(rtp_frame_decode(buf, len, &got, &payload, &plen, &flen), EBADMSG);
	buf[2] = 0x90; /* an extension header that does not fit */
	assert_int_equal(rtp_frame_decode(buf, len, &got, &payload, &plen, &flen), EBADMSG);
	buf[2] = 0xa0; /* padding longer than the payload */
	buf[len - 1] = 9;
	assert_int_equal(rtp_frame_decode(buf, len, &got, &payload, &plen, &flen), EBADMSG);
	static const uint8_t short_pkt[] = {0, 4, 0x80, 0, 0, 0};
	assert_int_equal(
	    rtp_frame_decode(short_pkt, sizeof(short_pkt), &got, &payload, &plen, &flen), EBADMSG);
	/* Encoding: a payload type over 7 bits, a packet over LENGTH's 16 bits,
	 * a buffer too small. */
	h.pt = 128;
	assert_int_equal(rtp_frame_encode(buf, sizeof(buf), &h, "a", 1, &len), EINVAL);
	h.pt = 0;
	assert_int_equal(rtp_frame_encode(buf, sizeof(buf), &h, buf, 65535, &len), EINVAL);
	assert_int_equal(rtp_frame_encode(buf, 14, &h, "a", 1, &len), ENOSPC);
	assert_int_equal(rtp_frame_encode(buf, 15, &h, "a", 1, &len), 0);
}

/* A bare packet is the frame without its LENGTH: the same bytes. */
static void test_rtp_bare_packet(void **state)
{
	(void)state;
	uint8_t frame[64], pkt[64];
	size_t flen, len, plen;
	const uint8_t *payload;
	struct rtp_hdr h = {.pt = 0, .seq = 7, .ts = 160, .ssrc = 0x01020304}, got;
	assert_int_equal(rtp_frame_encode(frame, sizeof(frame), &h, "pcmu", 4, &flen), 0);
	assert_int_equal(rtp_packet_encode(pkt, sizeof(pkt), &h, "pcmu", 4, &len), 0);
	assert_int_equal(len, flen - 2);
	assert_memory_equal(pkt, frame + 2, len);
	assert_int_equal(rtp_packet_decode(pkt, len, &got, &payload, &plen), 0);
	assert_int_equal(got.seq, 7);
	assert_int_equal(got.ts, 160);
	assert_int_equal(got.ssrc, 0x01020304);
	assert_int_equal(plen, 4);
	assert_ptr_equal(payload, pkt + 12);
	/* A datagram's length is the packet's: short of a header, or of its
	 * padding, is malformed rather than "more to come". */
	assert_int_equal(rtp_packet_decode(pkt, 11, &got, &payload, &plen), EBADMSG);
	pkt[0] |= 0x20;
	pkt[len - 1] = 5;
	assert_int_equal(rtp_packet_decode(pkt, len, &got, &payload, &plen), EBADMSG);
	assert_int_equal(rtp_packet_encode(pkt, 15, &h, "pcmu", 4, &len), ENOSPC);
	assert_int_equal(rtp_frame_encode(frame, 1, &h, "pcmu", 4, &len), ENOSPC);
	assert_int_equal(rtp_frame_encode(frame, 1, NULL, "pcmu", 4, &len), EINVAL);
}

static void test_probe_edge_source(void **state)
{
	(void)state;
	struct sockaddr_storage edge, from, mapped;
	struct probe_result r = {0};
	assert_int_equal(addr_parse("198.51.100.10", 0, &edge), 0);
	assert_int_equal(addr_parse("198.51.100.10:50000", 0, &from), 0);
	assert_true(flow_check_edge_source(&r, "x", (struct sockaddr *)&from,
	                                   (struct sockaddr *)&edge, 50000, 59999));
	assert_int_equal(addr_parse("198.51.100.10:59999", 0, &from), 0);
	assert_true(flow_check_edge_source(&r, "x", (struct sockaddr *)&from,
	                                   (struct sockaddr *)&edge, 50000, 59999));
	/* The probe's own socket may see the edge as IPv4-mapped IPv6. */
	assert_int_equal(addr_parse("[::ffff:198.51.100.10]:51234", 0, &mapped), 0);
	assert_true(flow_check_edge_source(&r, "x", (struct sockaddr *)&mapped,
	                                   (struct sockaddr *)&edge, 50000, 59999));
	assert_int_equal(addr_parse("198.51.100.10:49999", 0, &from), 0);
	assert_false(flow_check_edge_source(&r, "STUN request", (struct sockaddr *)&from,
	                                    (struct sockaddr *)&edge, 50000, 59999));
	assert_int_equal(r.verdict, VERDICT_FAILED);
	assert_string_equal(r.detail, "STUN request from 198.51.100.10:49999: source port 49999 is "
	                              "outside the edge's 50000-59999");
	assert_int_equal(addr_parse("198.51.100.10:60000", 0, &from), 0);
	assert_false(flow_check_edge_source(&r, "x", (struct sockaddr *)&from,
	                                    (struct sockaddr *)&edge, 50000, 59999));
	assert_int_equal(addr_parse("198.51.100.11:50000", 0, &from), 0);
	assert_false(flow_check_edge_source(&r, "connection", (struct sockaddr *)&from,
	                                    (struct sockaddr *)&edge, 50000, 59999));
	assert_string_equal(
	    r.detail, "connection from 198.51.100.11:50000, not from the edge's 198.51.100.10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rtp_round_trip),
	    cmocka_unit_test(test_rtp_stream_needs_whole_frames),
	    cmocka_unit_test(test_rtp_csrc_extension_padding),
	    cmocka_unit_test(test_rtp_rejects),
	    cmocka_unit_test(test_rtp_bare_packet),
	    cmocka_unit_test(test_probe_edge_source),
	};
	return cmocka_run_group_tests_name("rtp", tests, NULL, NULL);
}
