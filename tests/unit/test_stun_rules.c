/* STUN codec unit tests, part two: length rules (truncation, padding,
 * overruns, limits), the encoder's errors, the typed readers and writers,
 * attribute names and the per-dialect integrity. Run from test_stun.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun/stun.h"
#include "tests/unit/test_stun.h"

/* ---- length rules ---- */

/* Every prefix of a valid message is refused as truncated, read from an
 * exact-size heap buffer (ASan reports any read past it). */
static void check_truncations(const uint8_t *vec, size_t len)
{
	struct stun_msg msg;
	size_t n;

	for (n = 0; n < len; n++) {
		uint8_t *p = dup_exact(vec, n);

		assert_false(stun_is_message(p, n));
		assert_int_equal(stun_msg_decode(&msg, p, n), EMSGSIZE);
		assert_int_equal(stun_msg_frame_len(p, n), n < STUN_HDR_LEN ? 0 : len);
		free(p);
	}
}

/* A header length cut short of the real one: either it falls on an
 * attribute boundary and decodes, or the walk reports EBADMSG. */
static void check_short_lengths(const uint8_t *vec, size_t len)
{
	struct stun_msg msg;
	size_t body;

	for (body = 0; body < len - STUN_HDR_LEN; body++) {
		uint8_t *p = dup_exact(vec, STUN_HDR_LEN + body);
		int err;

		p[2] = (uint8_t)(body >> 8);
		p[3] = (uint8_t)body;
		err = stun_msg_decode(&msg, p, STUN_HDR_LEN + body);
		assert_true(err == 0 || err == EBADMSG);
		if (err == 0)
			assert_true(msg.nattrs > 0 || body == 0);
		free(p);
	}
}

void test_stun_truncated_every_length(void **state)
{
	(void)state;
	check_truncations(rfc5769_request, sizeof(rfc5769_request));
	check_truncations(rfc5769_response_v6, sizeof(rfc5769_response_v6));
	check_truncations(rfc5769_longterm, sizeof(rfc5769_longterm));
	check_short_lengths(rfc5769_request, sizeof(rfc5769_request));
	check_short_lengths(rfc5769_longterm, sizeof(rfc5769_longterm));
}

/* RFC 5389 section 6 and RFC 3489 section 11.1 pad to 4; MS-TURN does not. */
void test_stun_length_not_multiple_of_4(void **state)
{
	uint8_t buf[40] = {0x00, 0x01, 0x00, 0x05};
	struct stun_msg msg;

	(void)state;
	buf[20 + 3] = 1; /* attribute 0x0000, length 1 */
	assert_false(stun_is_message(buf, 25));
	assert_int_equal(stun_msg_decode(&msg, buf, 25), EBADMSG); /* classic */
	memcpy(buf + 4, "\x21\x12\xa4\x42", 4);
	assert_int_equal(stun_msg_decode(&msg, buf, 25), EBADMSG); /* RFC 5389 */
	/* MS-TURN: MAGIC-COOKIE then a 1-byte attribute, 13 bytes in all */
	memcpy(buf + 20, "\x00\x0f\x00\x04\x72\xc6\x4b\xc6\x00\x13\x00\x01\xAB", 13);
	buf[3] = 13;
	assert_true(stun_is_message(buf, 33));
	assert_int_equal(stun_msg_decode(&msg, buf, 33), 0);
	assert_int_equal(msg.dialect, STUN_DIALECT_MSTURN);
	assert_int_equal(msg.nattrs, 2);
	assert_int_equal(msg.attrs[1].len, 1);
	assert_int_equal(msg.attrs[1].val[0], 0xAB);
	/* a trailing partial attribute header in MS-TURN: 2 bytes left */
	buf[3] = 10;
	assert_int_equal(stun_msg_decode(&msg, buf, 30), EBADMSG);
}

void test_stun_attr_overrun(void **state)
{
	uint8_t buf[32] = {0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42};
	struct stun_msg msg;

	(void)state;
	buf[20 + 1] = 0x06; /* USERNAME, length 5: needs 8 bytes with padding */
	buf[20 + 3] = 5;
	assert_int_equal(stun_msg_decode(&msg, buf, 28), EBADMSG);
	buf[20 + 3] = 4; /* fits exactly */
	assert_int_equal(stun_msg_decode(&msg, buf, 28), 0);
	buf[20 + 2] = 0xFF; /* 0xFF04 bytes: far past the end */
	assert_int_equal(stun_msg_decode(&msg, buf, 28), EBADMSG);
	/* MS-TURN: no padding, but the 5-byte value itself is not there */
	memcpy(buf + 20, "\x00\x0f\x00\x04\x72\xc6\x4b\xc6\x00\x06\x00\x05", 12);
	buf[3] = 12;
	assert_int_equal(stun_msg_decode(&msg, buf, 32), EBADMSG);
	buf[3] = 17; /* the header now promises more than the buffer holds */
	assert_int_equal(stun_msg_decode(&msg, buf, 32), EMSGSIZE);
}

static size_t build_empty_attrs(uint8_t *buf, size_t n)
{
	size_t i;

	memset(buf, 0, STUN_HDR_LEN + 4 * n);
	buf[1] = 0x01;
	buf[2] = (uint8_t)((4 * n) >> 8);
	buf[3] = (uint8_t)(4 * n);
	memcpy(buf + 4, "\x21\x12\xa4\x42", 4);
	for (i = 0; i < n; i++)
		buf[STUN_HDR_LEN + 4 * i + 1] = (uint8_t)(0x30 + i % 16); /* zero-length values */
	return STUN_HDR_LEN + 4 * n;
}

void test_stun_too_many_attrs(void **state)
{
	uint8_t buf[STUN_HDR_LEN + 4 * (STUN_MAX_ATTRS + 1)];
	struct stun_msg msg;
	size_t len;

	(void)state;
	len = build_empty_attrs(buf, STUN_MAX_ATTRS);
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(msg.nattrs, STUN_MAX_ATTRS);
	len = build_empty_attrs(buf, STUN_MAX_ATTRS + 1);
	assert_int_equal(stun_msg_decode(&msg, buf, len), E2BIG);
}

void test_stun_too_large(void **state)
{
	static uint8_t buf[STUN_MAX_MSG_LEN + 64];
	struct stun_msg msg;
	size_t body = STUN_MAX_MSG_LEN - STUN_HDR_LEN;

	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[1] = 0x01;
	memcpy(buf + 4, "\x21\x12\xa4\x42", 4);
	buf[STUN_HDR_LEN + 1] = 0x26; /* PADDING filling the message */
	buf[STUN_HDR_LEN + 2] = (uint8_t)((body - 4) >> 8);
	buf[STUN_HDR_LEN + 3] = (uint8_t)(body - 4);
	buf[2] = (uint8_t)(body >> 8);
	buf[3] = (uint8_t)body;
	assert_int_equal(stun_msg_decode(&msg, buf, STUN_MAX_MSG_LEN), 0);
	body += 4;
	buf[2] = (uint8_t)(body >> 8);
	buf[3] = (uint8_t)body;
	assert_false(stun_is_message(buf, sizeof(buf)));
	assert_int_equal(stun_msg_decode(&msg, buf, sizeof(buf)), EMSGSIZE);
	buf[0] = 0x80; /* top bits set: not STUN at all */
	assert_int_equal(stun_msg_decode(&msg, buf, sizeof(buf)), EBADMSG);
}

/* Stream framing: the length is known from the header alone, and a buffer
 * holding more than one message decodes the first. */
void test_stun_frame_len(void **state)
{
	uint8_t two[2 * sizeof(rfc5769_request)];
	struct stun_msg msg;

	(void)state;
	memcpy(two, rfc5769_request, sizeof(rfc5769_request));
	memcpy(two + sizeof(rfc5769_request), rfc5769_request, sizeof(rfc5769_request));
	assert_int_equal(stun_msg_frame_len(two, 19), 0);
	assert_int_equal(stun_msg_frame_len(two, 20), sizeof(rfc5769_request));
	assert_int_equal(stun_msg_decode(&msg, two, sizeof(two)), 0);
	assert_int_equal(msg.buf_len, sizeof(rfc5769_request));
	assert_int_equal(stun_msg_check_fingerprint(&msg), 0);
}

/* ---- encoder ---- */

static int build_request(uint8_t *buf, size_t cap, size_t *len)
{
	struct stun_enc enc;

	stun_enc_init(&enc, buf, cap, STUN_DIALECT_RFC5389, 0x0001, tid_of(rfc5769_request));
	stun_enc_set_pad(&enc, ' ');
	stun_enc_attr(&enc, STUN_ATTR_SOFTWARE, "STUN test client", 16);
	stun_enc_u32(&enc, STUN_ATTR_PRIORITY, 0x6e0001ff);
	stun_enc_attr(&enc, STUN_ATTR_ICE_CONTROLLED, "\x93\x2f\xf9\xb1\x51\x26\x3b\x36", 8);
	stun_enc_attr(&enc, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
	stun_enc_integrity(&enc, (const uint8_t *)rfc5769_password, strlen(rfc5769_password),
	                   STUN_MAC_SHA1);
	stun_enc_fingerprint(&enc);
	return stun_enc_finish(&enc, len);
}

/* Every buffer short of the message gives ENOSPC and writes nothing past
 * cap (exact-size heap buffers); the exact size succeeds. */
void test_stun_enc_enospc(void **state)
{
	size_t cap, len = 0, full = sizeof(rfc5769_request);

	(void)state;
	for (cap = 0; cap < full; cap++) {
		uint8_t *p = malloc(cap > 0 ? cap : 1);

		assert_non_null(p);
		assert_int_equal(build_request(p, cap, &len), ENOSPC);
		free(p);
	}
	{
		uint8_t *p = malloc(full);

		assert_non_null(p);
		assert_int_equal(build_request(p, full, &len), 0);
		assert_int_equal(len, full);
		assert_memory_equal(p, rfc5769_request, full);
		free(p);
	}
}

static int enc_one_error(enum stun_dialect d, int step)
{
	uint8_t buf[256], tid[STUN_TID_LEN] = {0};
	struct sockaddr_storage unix_sa = {.ss_family = AF_UNIX};
	uint16_t types[1] = {0x0031};
	struct stun_enc enc;

	stun_enc_init(&enc, buf, sizeof(buf), d, 0x0001, tid);
	switch (step) {
	case 0:
		stun_enc_attr(&enc, 0x0006, NULL, 3);
		break;
	case 1:
		stun_enc_addr(&enc, 0x0001, (const struct sockaddr *)&unix_sa);
		break;
	case 2:
		stun_enc_addr(&enc, 0x0001, NULL);
		break;
	case 3:
		stun_enc_error(&enc, 200, "OK");
		break;
	case 4:
		stun_enc_error(&enc, 700, "no");
		break;
	case 5:
		stun_enc_unknown(&enc, types, 0);
		break;
	case 6:
		stun_enc_unknown(&enc, NULL, 1);
		break;
	case 7:
		stun_enc_attr(&enc, 0x0006, buf, 0x10000);
		break;
	case 8:
		stun_enc_integrity(&enc, NULL, 4, STUN_MAC_SHA1);
		break;
	case 9:
		stun_enc_integrity(&enc, tid, 4, (enum stun_mac)7);
		break;
	case 10: /* nothing but FINGERPRINT after MESSAGE-INTEGRITY */
		stun_enc_integrity(&enc, tid, 4, STUN_MAC_SHA1);
		stun_enc_u32(&enc, STUN_ATTR_LIFETIME, 1);
		break;
	case 11: /* nothing at all after FINGERPRINT */
		stun_enc_fingerprint(&enc);
		stun_enc_fingerprint(&enc);
		break;
	default:
		return -1;
	}
	return stun_enc_finish(&enc, NULL);
}

void test_stun_enc_einval(void **state)
{
	uint8_t buf[64], tid[STUN_TID_LEN] = {0};
	struct stun_enc enc;
	size_t len = 0;
	int step;

	(void)state;
	for (step = 0; step <= 11; step++)
		assert_int_equal(enc_one_error(STUN_DIALECT_RFC5389, step), EINVAL);
	stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_RFC5389, 0x4001, tid);
	assert_int_equal(stun_enc_finish(&enc, &len), EINVAL); /* top bits of the type */
	stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_RFC5389, 0x0001, NULL);
	assert_int_equal(stun_enc_finish(&enc, &len), EINVAL);
	stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_MSTURN, 0x0003, tid);
	stun_enc_fingerprint(&enc); /* MS-TURN has none */
	assert_int_equal(stun_enc_finish(&enc, &len), EINVAL);
	stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_CLASSIC, 0x0001, tid);
	stun_enc_integrity(&enc, tid, 4, STUN_MAC_SHA256); /* RFC 3489: SHA-1 only */
	assert_int_equal(stun_enc_finish(&enc, &len), EINVAL);
	/* sticky: the first error stays, later calls change nothing */
	stun_enc_init(&enc, buf, 24, STUN_DIALECT_RFC5389, 0x0001, tid);
	stun_enc_attr(&enc, 0x0006, "12345678", 8);
	assert_int_equal(enc.err, ENOSPC);
	stun_enc_error(&enc, 200, "bad");
	stun_enc_u32(&enc, STUN_ATTR_LIFETIME, 1);
	assert_int_equal(enc.len, STUN_HDR_LEN);
	assert_int_equal(stun_enc_finish(&enc, &len), ENOSPC);
}

static void check_xor_roundtrip(enum stun_dialect d, const char *ip, uint16_t port)
{
	uint8_t buf[128], tid[STUN_TID_LEN];
	struct sockaddr_storage in, out;
	struct stun_msg msg;
	struct stun_enc enc;
	uint16_t xtype = d == STUN_DIALECT_MSTURN ? STUN_MSATTR_XOR_MAPPED_ADDRESS
	                                          : STUN_ATTR_XOR_MAPPED_ADDRESS;
	size_t i, len = 0;

	for (i = 0; i < sizeof(tid); i++)
		tid[i] = (uint8_t)(0xA5 ^ (i * 37));
	if (d == STUN_DIALECT_RFC5389)
		memcpy(tid, "\x21\x12\xa4\x42", 4);
	make_sa(&in, ip, port);
	stun_enc_init(&enc, buf, sizeof(buf), d, 0x0101, tid);
	stun_enc_xor_addr(&enc, xtype, (const struct sockaddr *)&in);
	stun_enc_addr(&enc, STUN_ATTR_MAPPED_ADDRESS, (const struct sockaddr *)&in);
	assert_int_equal(stun_enc_finish(&enc, &len), 0);
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(msg.dialect, d);
	assert_int_equal(stun_attr_xor_addr(&msg, stun_msg_attr(&msg, xtype), &out), 0);
	assert_sa(&out, in.ss_family, ip, port);
	assert_int_equal(stun_attr_addr(stun_msg_attr(&msg, 0x0001), &out), 0);
	assert_sa(&out, in.ss_family, ip, port);
	/* the XORed bytes differ from the plain ones */
	assert_memory_not_equal(stun_msg_attr(&msg, xtype)->val + 2,
	                        stun_msg_attr(&msg, 0x0001)->val + 2, 2);
}

void test_stun_xor_addr_roundtrip(void **state)
{
	int d;

	(void)state;
	for (d = 0; d < STUN_DIALECT_COUNT; d++) {
		check_xor_roundtrip((enum stun_dialect)d, "192.0.2.1", 32853);
		check_xor_roundtrip((enum stun_dialect)d, "203.0.113.250", 1);
		check_xor_roundtrip((enum stun_dialect)d, "2001:db8::1", 3478);
		check_xor_roundtrip((enum stun_dialect)d, "fe80::1:2:3:4", 65535);
	}
}

void test_stun_addr_malformed(void **state)
{
	uint8_t v[20] = {0, 0x01, 0x12, 0x34, 192, 0, 2, 1};
	struct stun_attr a = {.type = 0x0001, .len = 8, .val = v};
	struct sockaddr_storage ss;

	(void)state;
	assert_int_equal(stun_attr_addr(&a, &ss), 0);
	a.len = 7;
	assert_int_equal(stun_attr_addr(&a, &ss), EBADMSG);
	a.len = 20; /* IPv4 family with an IPv6 length */
	assert_int_equal(stun_attr_addr(&a, &ss), EBADMSG);
	v[1] = 0x03;
	a.len = 8;
	assert_int_equal(stun_attr_addr(&a, &ss), EBADMSG);
	a.len = 3;
	assert_int_equal(stun_attr_addr(&a, &ss), EBADMSG);
	assert_int_equal(stun_attr_u32(&a, &(uint32_t){0}), EBADMSG);
}

void test_stun_error_code(void **state)
{
	static const int codes[] = {300, 401, 420, 438, 499, 500, 699};
	uint8_t buf[256], tid[STUN_TID_LEN] = {1, 2, 3};
	struct stun_msg msg;
	struct stun_enc enc;
	const char *reason;
	size_t i, len = 0, rlen;
	int code;

	(void)state;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_RFC5389, 0x0113, tid);
		stun_enc_error(&enc, codes[i], "Unknown Attribute");
		assert_int_equal(stun_enc_finish(&enc, &len), 0);
		assert_int_equal(len, STUN_HDR_LEN + 4 + 4 + 20);
		assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
		assert_int_equal(msg.cls, STUN_CLASS_ERROR);
		assert_int_equal(stun_attr_error(&msg.attrs[0], &code, &reason, &rlen), 0);
		assert_int_equal(code, codes[i]);
		assert_int_equal(rlen, 17);
		assert_memory_equal(reason, "Unknown Attribute", 17);
		assert_int_equal(msg.attrs[0].val[2], codes[i] / 100);
		assert_int_equal(msg.attrs[0].val[3], codes[i] % 100);
	}
	buf[STUN_HDR_LEN + 4 + 2] = 2; /* class 2 */
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(stun_attr_error(&msg.attrs[0], &code, NULL, NULL), EBADMSG);
	buf[STUN_HDR_LEN + 4 + 2] = 4;
	buf[STUN_HDR_LEN + 4 + 3] = 100; /* number 100 */
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(stun_attr_error(&msg.attrs[0], &code, NULL, NULL), EBADMSG);
	msg.attrs[0].len = 3;
	assert_int_equal(stun_attr_error(&msg.attrs[0], &code, NULL, NULL), EBADMSG);
	/* no reason phrase at all */
	stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_MSTURN, 0x0113, tid);
	stun_enc_error(&enc, 437, NULL);
	assert_int_equal(stun_enc_finish(&enc, &len), 0);
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(stun_attr_error(&msg.attrs[1], &code, &reason, &rlen), 0);
	assert_int_equal(code, 437);
	assert_int_equal(rlen, 0);
}

/* RFC 5389 section 15.9 pads the list like any value; RFC 3489 section
 * 11.2.10 repeats an attribute to reach a multiple of 4; MS-TURN neither. */
void test_stun_unknown_attributes(void **state)
{
	static const uint16_t types[3] = {0x0031, 0x0032, 0x7FFF};
	static const size_t vlen[STUN_DIALECT_COUNT] = {6, 8, 6};
	static const size_t wire[STUN_DIALECT_COUNT] = {8, 8, 6};
	uint8_t buf[128], tid[STUN_TID_LEN] = {9};
	const struct stun_attr *a;
	struct stun_msg msg;
	struct stun_enc enc;
	size_t i, len = 0, base;
	int d;

	(void)state;
	for (d = 0; d < STUN_DIALECT_COUNT; d++) {
		base = d == STUN_DIALECT_MSTURN ? STUN_HDR_LEN + 8 : STUN_HDR_LEN;
		stun_enc_init(&enc, buf, sizeof(buf), (enum stun_dialect)d, 0x0111, tid);
		stun_enc_unknown(&enc, types, 3);
		assert_int_equal(stun_enc_finish(&enc, &len), 0);
		assert_int_equal(len, base + 4 + wire[d]);
		assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
		a = stun_msg_attr(&msg, STUN_ATTR_UNKNOWN_ATTRIBUTES);
		assert_non_null(a);
		assert_int_equal(a->len, vlen[d]);
		for (i = 0; i < a->len / 2; i++)
			assert_int_equal(a->val[2 * i] << 8 | a->val[2 * i + 1],
			                 types[i < 3 ? i : 2]);
	}
}

/* RFC 5389 section 15: below 0x8000 an unknown attribute fails the message
 * (420); above it is ignored. Names follow each dialect's numbering. */
void test_stun_comprehension_required(void **state)
{
	unsigned t;

	(void)state;
	for (t = 0; t < 0x10000; t++)
		assert_int_equal(stun_attr_comprehension_required((uint16_t)t), t < 0x8000);
	assert_true(stun_attr_comprehension_required(STUN_ATTR_USERNAME));
	assert_false(stun_attr_comprehension_required(STUN_ATTR_SOFTWARE));
	assert_false(stun_attr_comprehension_required(STUN_MSATTR_MS_VERSION));
	assert_true(stun_attr_comprehension_required(STUN_MSATTR_MAGIC_COOKIE));
}

void test_stun_attr_names(void **state)
{
	static const uint16_t rfc[] = {
	    0x0001, 0x0003, 0x0006, 0x0008, 0x0009, 0x000A, 0x000C, 0x000D, 0x0012, 0x0013,
	    0x0014, 0x0015, 0x0016, 0x0017, 0x0018, 0x0019, 0x001A, 0x001C, 0x001D, 0x001E,
	    0x0020, 0x0022, 0x0024, 0x0025, 0x0026, 0x0027, 0x002A, 0x8000, 0x8001, 0x8002,
	    0x8003, 0x8004, 0x8022, 0x8023, 0x8028, 0x8029, 0x802A, 0x802B, 0x802C};
	static const uint16_t ms[] = {0x0001, 0x0006, 0x0008, 0x0009, 0x000A, 0x000D, 0x000E,
	                              0x000F, 0x0010, 0x0011, 0x0012, 0x0013, 0x0014, 0x0015,
	                              0x0017, 0x8008, 0x8020, 0x8050, 0x8055, 0x8090, 0x8095};
	size_t i;
	unsigned t;

	(void)state;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++)
		assert_non_null(stun_attr_name(STUN_DIALECT_RFC5389, rfc[i]));
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		assert_non_null(stun_attr_name(STUN_DIALECT_MSTURN, ms[i]));
	for (t = 0x0001; t <= 0x000B; t++)
		assert_non_null(stun_attr_name(STUN_DIALECT_CLASSIC, (uint16_t)t));
	assert_string_equal(stun_attr_name(STUN_DIALECT_RFC5389, 0x0014), "REALM");
	assert_string_equal(stun_attr_name(STUN_DIALECT_MSTURN, 0x0014), "NONCE");
	assert_string_equal(stun_attr_name(STUN_DIALECT_MSTURN, 0x0015), "REALM");
	assert_string_equal(stun_attr_name(STUN_DIALECT_RFC5389, 0x0020), "XOR-MAPPED-ADDRESS");
	assert_string_equal(stun_attr_name(STUN_DIALECT_MSTURN, 0x8020), "XOR-MAPPED-ADDRESS");
	assert_string_equal(stun_attr_name(STUN_DIALECT_CLASSIC, 0x000B), "REFLECTED-FROM");
	assert_null(stun_attr_name(STUN_DIALECT_CLASSIC, 0x0020));
	assert_null(stun_attr_name(STUN_DIALECT_RFC5389, 0x000F));
	assert_null(stun_attr_name(STUN_DIALECT_RFC5389, 0x0002)); /* reserved since 5389 */
	assert_null(stun_attr_name(STUN_DIALECT_MSTURN, 0x0020));
	assert_null(stun_attr_name(STUN_DIALECT_MSTURN, 0x8006));
	assert_null(stun_attr_name((enum stun_dialect)9, 0x0001));
}

/* The RFC 3489 / libnice OC2007 MAC, computed independently: HMAC over the
 * message up to MESSAGE-INTEGRITY, header length as sent, zero-padded to a
 * multiple of 64 bytes. */
static void expected_padded_mac(const uint8_t *msg, size_t mi_off, const uint8_t *key,
                                size_t key_len, const EVP_MD *md, uint8_t *out)
{
	uint8_t in[STUN_MAX_MSG_LEN + 64] = {0};
	size_t n = (mi_off + 63) / 64 * 64;
	unsigned out_len = 0;

	memcpy(in, msg, mi_off);
	assert_non_null(HMAC(md, key, (int)key_len, in, n, out, &out_len));
}

static void check_padded_integrity(enum stun_dialect d, enum stun_mac mac, size_t maclen)
{
	uint8_t buf[256], key[16], tid[STUN_TID_LEN] = {0x21, 0x12, 0xa4, 0x42, 7};
	uint8_t want[32];
	const struct stun_attr *mi;
	struct stun_msg msg;
	struct stun_enc enc;
	size_t len = 0;

	if (d == STUN_DIALECT_CLASSIC) /* no RFC 5389 cookie, like libnice OC2007 */
		tid[0] = 0x5A;
	stun_key_longterm("user", "\"rtcmedia\"", "secret", key);
	stun_enc_init(&enc, buf, sizeof(buf), d, 0x0003, tid);
	stun_enc_u32(&enc, STUN_MSATTR_MS_VERSION, 6);
	stun_enc_attr(&enc, STUN_ATTR_USERNAME, "user", 4);
	stun_enc_attr(&enc, STUN_MSATTR_REALM, "\"rtcmedia\"", 10);
	stun_enc_integrity(&enc, key, sizeof(key), mac);
	assert_int_equal(stun_enc_finish(&enc, &len), 0);
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(msg.dialect, d);
	mi = stun_msg_attr(&msg, STUN_ATTR_MESSAGE_INTEGRITY);
	assert_non_null(mi);
	assert_int_equal(mi->len, maclen);
	assert_int_equal(mi->off + 4 + maclen, len); /* last */
	expected_padded_mac(buf, mi->off, key, sizeof(key),
	                    mac == STUN_MAC_SHA256 ? EVP_sha256() : EVP_sha1(), want);
	assert_memory_equal(mi->val, want, maclen);
	assert_int_equal(stun_msg_check_integrity(&msg, key, sizeof(key)), 0);
	key[0] ^= 1;
	assert_int_equal(stun_msg_check_integrity(&msg, key, sizeof(key)), EACCES);
}

void test_stun_msturn_integrity(void **state)
{
	(void)state;
	check_padded_integrity(STUN_DIALECT_MSTURN, STUN_MAC_SHA1, 20);
	check_padded_integrity(STUN_DIALECT_MSTURN, STUN_MAC_SHA256, 32);
	check_padded_integrity(STUN_DIALECT_CLASSIC, STUN_MAC_SHA1, 20);
}

/* RFC 8489 section 14.6: MESSAGE-INTEGRITY-SHA256 after MESSAGE-INTEGRITY,
 * then FINGERPRINT; both MACs are checked. */
void test_stun_rfc5389_sha256(void **state)
{
	uint8_t buf[256], tid[STUN_TID_LEN] = {0x21, 0x12, 0xa4, 0x42, 1, 2, 3};
	const uint8_t *key = (const uint8_t *)"pass";
	struct stun_msg msg;
	struct stun_enc enc;
	size_t len = 0;

	(void)state;
	stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_RFC5389, 0x0001, tid);
	stun_enc_attr(&enc, STUN_ATTR_USERNAME, "a:b", 3);
	stun_enc_integrity(&enc, key, 4, STUN_MAC_SHA1);
	stun_enc_integrity(&enc, key, 4, STUN_MAC_SHA256);
	stun_enc_fingerprint(&enc);
	assert_int_equal(stun_enc_finish(&enc, &len), 0);
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(msg.nattrs, 4);
	assert_int_equal(msg.attrs[2].type, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
	assert_int_equal(msg.attrs[2].len, 32);
	assert_int_equal(stun_msg_check_integrity(&msg, key, 4), 0);
	assert_int_equal(stun_msg_check_fingerprint(&msg), 0);
	buf[msg.attrs[2].off + 10] ^= 1; /* only the SHA-256 MAC is wrong */
	assert_int_equal(stun_msg_check_integrity(&msg, key, 4), EACCES);
	/* SHA-256 alone */
	stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_RFC5389, 0x0001, tid);
	stun_enc_integrity(&enc, key, 4, STUN_MAC_SHA256);
	assert_int_equal(stun_enc_finish(&enc, &len), 0);
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(stun_msg_check_integrity(&msg, key, 4), 0);
	assert_int_equal(stun_msg_check_integrity(&msg, key, 3), EACCES);
}

/* Absent: ENOENT. Followed by an attribute other than FINGERPRINT, of the
 * wrong length, or a FINGERPRINT that is not last: EBADMSG. */
void test_stun_integrity_misplaced(void **state)
{
	const uint8_t *key = (const uint8_t *)rfc5769_password;
	size_t klen = strlen(rfc5769_password);
	uint8_t buf[256];
	struct stun_msg msg;
	size_t len = sizeof(rfc5769_request);

	(void)state;
	memcpy(buf, rfc5769_response_v4, STUN_HDR_LEN);
	buf[3] = 0; /* header only */
	assert_int_equal(stun_msg_decode(&msg, buf, STUN_HDR_LEN), 0);
	assert_int_equal(stun_msg_check_integrity(&msg, key, klen), ENOENT);
	assert_int_equal(stun_msg_check_fingerprint(&msg), ENOENT);
	/* FINGERPRINT turned into SOFTWARE: an unauthenticated trailer */
	memcpy(buf, rfc5769_request, len);
	buf[len - 8 + 1] = 0x22;
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(stun_msg_check_integrity(&msg, key, klen), EBADMSG);
	assert_int_equal(stun_msg_check_fingerprint(&msg), ENOENT);
	/* USERNAME turned into FINGERPRINT: not last */
	memcpy(buf, rfc5769_request, len);
	buf[60] = 0x80;
	buf[61] = 0x28;
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(stun_msg_check_fingerprint(&msg), EBADMSG);
	/* MESSAGE-INTEGRITY of 16 bytes followed by a 0-length attribute */
	memcpy(buf, rfc5769_request, len);
	buf[len - 8 - 24 + 3] = 16;
	memcpy(buf + len - 8 - 4, "\x00\x30\x00\x00", 4);
	assert_int_equal(stun_msg_decode(&msg, buf, len), 0);
	assert_int_equal(stun_msg_check_integrity(&msg, key, klen), EBADMSG);
	assert_int_equal(stun_msg_check_integrity(&msg, NULL, 3), EINVAL);
}
