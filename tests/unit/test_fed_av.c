/* probe/fed_av's pure parts (probe/fed_av_int.h): the MS-TURN client's
 * requests and its reading of answers, the RTP streams, and the reading of
 * whatever reaches a client's socket. The run itself, between two serves:
 * tests/cli/test_fed_av.sh. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "probe/fed_av_int.h"

static const uint8_t tid[STUN_TID_LEN] = {0x21, 0x12, 0xA4, 0x42, 1, 2,  3,  4,
                                          5,    6,    7,    8,    9, 10, 11, 12};

static size_t encode(struct stun_cred *c, const struct msturn_req *q, uint8_t *buf,
                     struct stun_msg *m)
{
	size_t len;
	assert_int_equal(msturn_req_encode(c, q, tid, buf, STUN_MAX_MSG_LEN, &len), 0);
	assert_int_equal(stun_msg_decode(m, buf, len), 0);
	assert_int_equal(m->dialect, STUN_DIALECT_MSTURN);
	return len;
}

/* An answer as a relay writes it: error (with REALM and NONCE for 401) or
 * success (relayed and reflexive addresses, integrity with key). */
static size_t answer(uint16_t method, int code, const uint8_t *key, uint8_t *buf,
                     struct stun_msg *m)
{
	struct stun_enc e;
	struct sockaddr_storage relayed, mapped;
	size_t len;
	addr_parse("192.0.2.10:50123", 0, &relayed);
	addr_parse("198.51.100.7:40000", 0, &mapped);
	stun_enc_init(&e, buf, STUN_MAX_MSG_LEN, STUN_DIALECT_MSTURN,
	              stun_type(method, code ? STUN_CLASS_ERROR : STUN_CLASS_SUCCESS), tid);
	if (code) {
		stun_enc_error(&e, code, code == 401 ? "Unauthorized" : "Forbidden");
		stun_enc_attr(&e, STUN_MSATTR_REALM, "\"rtcmedia\"", 10);
		stun_enc_attr(&e, STUN_MSATTR_NONCE, "n0nce", 5);
	} else {
		stun_enc_addr(&e, STUN_MSATTR_MAPPED_ADDRESS, (struct sockaddr *)&relayed);
		stun_enc_xor_addr(&e, STUN_MSATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&mapped);
	}
	if (key)
		stun_enc_integrity(&e, key, 16, STUN_MAC_SHA1);
	assert_int_equal(stun_enc_finish(&e, &len), 0);
	assert_int_equal(stun_msg_decode(m, buf, len), 0);
	return len;
}

static void test_msturn_client_allocate(void **state)
{
	(void)state;
	struct stun_cred c = {.user = "alice", .pass = "secret"};
	struct msturn_req q = {.method = STUN_METHOD_ALLOCATE};
	struct msturn_answer a;
	struct stun_msg m;
	uint8_t buf[STUN_MAX_MSG_LEN], key[16];
	char s[ADDR_STR_MAX];

	/* The first Allocate asks for the 401: MS-VERSION, no credentials. */
	encode(&c, &q, buf, &m);
	assert_int_equal(m.type, 0x0003);
	assert_memory_equal(buf + 20, "\x00\x0f\x00\x04\x72\xc6\x4b\xc6", 8);
	assert_non_null(stun_msg_attr(&m, STUN_MSATTR_MS_VERSION));
	assert_null(stun_msg_attr(&m, STUN_ATTR_USERNAME));
	assert_null(stun_msg_attr(&m, STUN_ATTR_MESSAGE_INTEGRITY));
	/* Send and SAD need the credentials first. */
	struct sockaddr_storage dest;
	addr_parse("192.0.2.20:3478", 0, &dest);
	struct msturn_req sad = {.method = STUN_MSTURN_METHOD_SET_ACTIVE_DEST,
	                         .dest = (struct sockaddr *)&dest};
	size_t len;
	assert_int_equal(msturn_req_encode(&c, &sad, tid, buf, sizeof(buf), &len), EINVAL);

	/* The 401: its realm, unquoted, and nonce make the key. */
	answer(STUN_METHOD_ALLOCATE, 401, NULL, buf, &m);
	assert_int_equal(msturn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), 0);
	assert_int_equal(a.code, 401);
	assert_string_equal(a.reason, "Unauthorized");
	assert_true(c.have_nonce);
	assert_string_equal(c.realm, "rtcmedia");
	stun_key_longterm("alice", "rtcmedia", "secret", key);
	assert_memory_equal(c.key, key, 16);

	/* The authenticated Allocate: USERNAME, REALM, NONCE, a MAC that checks. */
	encode(&c, &q, buf, &m);
	assert_int_equal(stun_msg_attr(&m, STUN_MSATTR_NONCE)->len, 5);
	assert_int_equal(stun_msg_check_integrity(&m, key, 16), 0);
	assert_int_equal(stun_msg_attr(&m, STUN_ATTR_MESSAGE_INTEGRITY)->len, 20);
	/* Set Active Destination: USERNAME and MAC, no REALM or NONCE. */
	encode(&c, &sad, buf, &m);
	assert_null(stun_msg_attr(&m, STUN_MSATTR_NONCE));
	assert_non_null(stun_msg_attr(&m, STUN_MSATTR_DESTINATION_ADDRESS));
	assert_int_equal(stun_msg_check_integrity(&m, key, 16), 0);
	/* A Send carries its DATA. */
	struct msturn_req send = {.method = STUN_MSTURN_METHOD_SEND,
	                          .dest = (struct sockaddr *)&dest,
	                          .data = (const uint8_t *)"inner",
	                          .data_len = 5};
	encode(&c, &send, buf, &m);
	assert_int_equal(m.type, 0x0004);
	assert_memory_equal(stun_msg_attr(&m, STUN_MSATTR_DATA)->val, "inner", 5);

	/* A success: the relayed and reflexive addresses, once its MAC checks. */
	answer(STUN_METHOD_ALLOCATE, 0, key, buf, &m);
	assert_int_equal(msturn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), 0);
	assert_int_equal(a.code, 0);
	assert_string_equal(addr_str((struct sockaddr *)&a.relayed, s, sizeof(s)),
	                    "192.0.2.10:50123");
	assert_string_equal(addr_str((struct sockaddr *)&a.mapped, s, sizeof(s)),
	                    "198.51.100.7:40000");
	uint8_t wrong[16] = {0};
	answer(STUN_METHOD_ALLOCATE, 0, wrong, buf, &m);
	assert_int_equal(msturn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), EACCES);
	answer(STUN_METHOD_ALLOCATE, 0, NULL, buf, &m);
	assert_int_equal(msturn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), EBADMSG);
	/* An answer to another method is no answer to this one. */
	answer(STUN_MSTURN_METHOD_SET_ACTIVE_DEST, 0, key, buf, &m);
	assert_int_equal(msturn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), EBADMSG);
	answer(STUN_MSTURN_METHOD_SET_ACTIVE_DEST, 403, key, buf, &m);
	assert_int_equal(msturn_answer_read(&m, STUN_MSTURN_METHOD_SET_ACTIVE_DEST, &c, &a), 0);
	assert_int_equal(a.code, 403);
}

static const struct fed_av_stream stream = {
    .ssrc = 0xCAFEF00D, .seq0 = 65530, .ts0 = 1000, .payload = 160, .packets = 500};

static void test_stream_packets(void **state)
{
	(void)state;
	uint8_t p[FED_AV_PKT_MAX], q[FED_AV_PKT_MAX];
	size_t len, qlen, plen;
	struct rtp_hdr h;
	const uint8_t *payload;
	assert_int_equal(fed_av_packet(&stream, 9, p, sizeof(p), &len), 0);
	assert_int_equal(len, 12 + 160);
	assert_int_equal(rtp_packet_decode(p, len, &h, &payload, &plen), 0);
	assert_int_equal(h.pt, FED_AV_PT_MEDIA);
	assert_int_equal(h.seq, 3); /* 65530 + 9, wrapped */
	assert_int_equal(h.ts, 1000 + 9 * 160);
	assert_int_equal(h.ssrc, 0xCAFEF00D);
	/* The same packet each time; another packet's payload differs. */
	assert_int_equal(fed_av_packet(&stream, 9, q, sizeof(q), &qlen), 0);
	assert_memory_equal(p, q, len);
	assert_int_equal(fed_av_packet(&stream, 10, q, sizeof(q), &qlen), 0);
	assert_memory_not_equal(p + 12, q + 12, 160);
	assert_int_equal(fed_av_packet(&stream, 500, q, sizeof(q), &qlen), EINVAL);
	assert_int_equal(fed_av_packet(&stream, FED_AV_PERMIT_INDEX, q, sizeof(q), &qlen), 0);
	assert_int_equal(q[1] & 0x7f, FED_AV_PT_PERMIT);
}

/* A Data indication from `from` carrying data, as a relay frames it. */
static size_t data_indication(const char *from, const uint8_t *data, size_t len, uint8_t *buf)
{
	struct stun_enc e;
	struct sockaddr_storage sa;
	size_t out;
	addr_parse(from, 0, &sa);
	stun_enc_init(&e, buf, STUN_MAX_MSG_LEN, STUN_DIALECT_MSTURN,
	              STUN_MSTURN_TYPE_DATA_INDICATION, tid);
	stun_enc_addr(&e, STUN_MSATTR_REMOTE_ADDRESS, (struct sockaddr *)&sa);
	stun_enc_attr(&e, STUN_MSATTR_DATA, data, len);
	assert_int_equal(stun_enc_finish(&e, &out), 0);
	return out;
}

static void test_classify(void **state)
{
	(void)state;
	static struct fed_av_datagram d;
	struct fed_av_expect e = {.in = &stream};
	uint8_t pkt[FED_AV_PKT_MAX], buf[STUN_MAX_MSG_LEN], inner[STUN_MAX_MSG_LEN];
	size_t plen, len;
	addr_parse("192.0.2.10:50200", 0, &e.media_from);
	addr_parse("198.51.100.20:3478", 0, &e.far_edge);

	/* Media from the far client's inner allocation: intact, or corrupt. */
	fed_av_packet(&stream, 42, pkt, sizeof(pkt), &plen);
	len = data_indication("192.0.2.10:50200", pkt, plen, buf);
	fed_av_classify(&e, buf, len, &d);
	assert_int_equal(d.kind, FED_AV_KIND_MEDIA);
	assert_int_equal(d.index, 42);
	buf[len - 1] ^= 1; /* the payload's last byte */
	fed_av_classify(&e, buf, len, &d);
	assert_int_equal(d.kind, FED_AV_KIND_CORRUPT);
	len = data_indication("192.0.2.10:50200", pkt, plen - 1, buf); /* one byte short */
	fed_av_classify(&e, buf, len, &d);
	assert_int_equal(d.kind, FED_AV_KIND_CORRUPT);
	/* The same packet from anywhere else is not ours. */
	len = data_indication("192.0.2.10:50201", pkt, plen, buf);
	fed_av_classify(&e, buf, len, &d);
	assert_int_equal(d.kind, FED_AV_KIND_OTHER);
	/* Raw media is not the media's way either. */
	fed_av_classify(&e, pkt, plen, &d);
	assert_int_equal(d.kind, FED_AV_KIND_OTHER);

	/* The permit packet: raw (the far edge is our active destination), or
	 * in a Data indication from the far edge. */
	fed_av_packet(&stream, FED_AV_PERMIT_INDEX, pkt, sizeof(pkt), &plen);
	fed_av_classify(&e, pkt, plen, &d);
	assert_int_equal(d.kind, FED_AV_KIND_PERMIT);
	len = data_indication("198.51.100.20:3478", pkt, plen, buf);
	fed_av_classify(&e, buf, len, &d);
	assert_int_equal(d.kind, FED_AV_KIND_PERMIT);

	/* STUN: an answer, raw or in a Data indication from the far edge. */
	struct stun_msg m;
	size_t ilen = answer(STUN_METHOD_ALLOCATE, 401, NULL, inner, &m);
	fed_av_classify(&e, inner, ilen, &d);
	assert_int_equal(d.kind, FED_AV_KIND_STUN);
	assert_memory_equal(d.msg.tid, tid, STUN_TID_LEN);
	len = data_indication("198.51.100.20:3478", inner, ilen, buf);
	fed_av_classify(&e, buf, len, &d);
	assert_int_equal(d.kind, FED_AV_KIND_STUN);
	assert_int_equal(d.msg.type, 0x0113);
	assert_ptr_equal(d.msg.buf, buf + len - ilen);
	/* Anything else. */
	fed_av_classify(&e, (const uint8_t *)"hello", 5, &d);
	assert_int_equal(d.kind, FED_AV_KIND_OTHER);
	fed_av_classify(&e, buf, 0, &d);
	assert_int_equal(d.kind, FED_AV_KIND_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msturn_client_allocate),
	    cmocka_unit_test(test_stream_packets),
	    cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests_name("fed_av", tests, NULL, NULL);
}
