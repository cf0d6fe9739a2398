/* relay/binding.c: the Binding service of row 6, in every dialect. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "relay/binding.h"

static const uint8_t tid_rfc[STUN_TID_LEN] = {0x21, 0x12, 0xa4, 0x42, 1, 2,  3,  4,
                                              5,    6,    7,    8,    9, 10, 11, 12};
static const uint8_t tid_old[STUN_TID_LEN] = {0xde, 0xad, 0xbe, 0xef, 1, 2,  3,  4,
                                              5,    6,    7,    8,    9, 10, 11, 12};
static const struct binding_opts opts = {.software = "edgelab-test"};

struct exchange {
	uint8_t req[512];
	size_t req_len;
	uint8_t out[BINDING_REPLY_MAX];
	size_t out_len;
	struct binding_outcome oc;
	struct stun_msg reply;
	struct sockaddr_storage src, local;
};

static void start(struct stun_enc *enc, struct exchange *x, enum stun_dialect d, uint16_t type)
{
	memset(x, 0, sizeof(*x));
	stun_enc_init(enc, x->req, sizeof(x->req), d, type,
	              d == STUN_DIALECT_CLASSIC ? tid_old : tid_rfc);
	addr_parse("192.0.2.10:40000", 0, &x->src);
	addr_parse("198.51.100.10:3478", 0, &x->local);
}

/* Finishes the request, answers it, decodes the reply (if any). */
static void answer(struct stun_enc *enc, struct exchange *x)
{
	assert_int_equal(stun_enc_finish(enc, &x->req_len), 0);
	binding_answer(x->req, x->req_len, (struct sockaddr *)&x->src, (struct sockaddr *)&x->local,
	               &opts, x->out, sizeof(x->out), &x->out_len, &x->oc);
	assert_true(x->out_len <= BINDING_REPLY_MAX);
	if (x->out_len) {
		assert_true(x->oc.answered);
		assert_int_equal(stun_msg_decode(&x->reply, x->out, x->out_len), 0);
		assert_memory_equal(x->reply.tid, x->req + 4, STUN_TID_LEN);
	}
}

static void assert_addr_attr(const struct stun_msg *m, uint16_t type, bool xor,
                             const struct sockaddr_storage *want)
{
	struct sockaddr_storage got;
	const struct stun_attr *a = stun_msg_attr(m, type);
	assert_non_null(a);
	assert_int_equal(xor? stun_attr_xor_addr(m, a, &got) : stun_attr_addr(a, &got), 0);
	assert_true(addr_equal((struct sockaddr *)&got, (const struct sockaddr *)want));
}

static void test_binding_rfc5389_success(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0001);
	stun_enc_fingerprint(&enc);
	answer(&enc, &x);
	assert_int_equal(x.oc.result, METRIC_STUN_SUCCESS);
	assert_int_equal(x.reply.dialect, STUN_DIALECT_RFC5389);
	assert_int_equal(x.reply.type, 0x0101);
	assert_addr_attr(&x.reply, STUN_ATTR_XOR_MAPPED_ADDRESS, true, &x.src);
	assert_addr_attr(&x.reply, STUN_ATTR_MAPPED_ADDRESS, false, &x.src);
	const struct stun_attr *sw = stun_msg_attr(&x.reply, STUN_ATTR_SOFTWARE);
	assert_non_null(sw);
	assert_memory_equal(sw->val, "edgelab-test", sw->len);
	assert_int_equal(stun_msg_check_fingerprint(&x.reply), 0);

	/* No FINGERPRINT asked for, none given. IPv6 source. */
	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0001);
	addr_parse("[2001:db8::7]:5000", 0, &x.src);
	answer(&enc, &x);
	assert_null(stun_msg_attr(&x.reply, STUN_ATTR_FINGERPRINT));
	assert_addr_attr(&x.reply, STUN_ATTR_XOR_MAPPED_ADDRESS, true, &x.src);
}

static void test_binding_classic_success(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	uint8_t resp_addr[8] = {0, 1, 0x13, 0x88, 10, 0, 0, 1};
	start(&enc, &x, STUN_DIALECT_CLASSIC, 0x0001);
	stun_enc_u32(&enc, STUN_ATTR_CHANGE_REQUEST, 0);
	/* RESPONSE-ADDRESS asks for the answer elsewhere: never honoured. */
	stun_enc_attr(&enc, STUN_ATTR_RESPONSE_ADDRESS, resp_addr, sizeof(resp_addr));
	answer(&enc, &x);
	assert_int_equal(x.reply.dialect, STUN_DIALECT_CLASSIC);
	assert_addr_attr(&x.reply, STUN_ATTR_MAPPED_ADDRESS, false, &x.src);
	assert_addr_attr(&x.reply, STUN_ATTR_SOURCE_ADDRESS, false, &x.local);
	assert_addr_attr(&x.reply, STUN_ATTR_CHANGED_ADDRESS, false, &x.local);
	assert_null(stun_msg_attr(&x.reply, STUN_ATTR_XOR_MAPPED_ADDRESS));
	assert_null(stun_msg_attr(&x.reply, STUN_ATTR_REFLECTED_FROM));
}

static void test_binding_classic_change_request_dropped(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	start(&enc, &x, STUN_DIALECT_CLASSIC, 0x0001);
	stun_enc_u32(&enc, STUN_ATTR_CHANGE_REQUEST, 0x6);
	answer(&enc, &x);
	assert_int_equal(x.out_len, 0);
	assert_false(x.oc.answered);
	assert_int_equal(x.oc.drop, METRIC_DROP_CHANGE_REQUEST);
}

static void test_binding_msturn_success(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	start(&enc, &x, STUN_DIALECT_MSTURN, 0x0001);
	answer(&enc, &x);
	assert_int_equal(x.oc.dialect, STUN_DIALECT_MSTURN);
	assert_int_equal(x.reply.dialect, STUN_DIALECT_MSTURN);
	assert_int_equal(x.reply.attrs[0].type, STUN_MSATTR_MAGIC_COOKIE);
	assert_addr_attr(&x.reply, STUN_MSATTR_MAPPED_ADDRESS, false, &x.src);
	assert_addr_attr(&x.reply, STUN_MSATTR_XOR_MAPPED_ADDRESS, true, &x.src);
	assert_null(stun_msg_attr(&x.reply, STUN_ATTR_SOFTWARE));
}

static void test_binding_other_method_is_400(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	int code;
	const char *reason;
	size_t rlen;
	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0003); /* Allocate: not in this build */
	answer(&enc, &x);
	assert_int_equal(x.oc.result, METRIC_STUN_BAD_REQUEST);
	assert_int_equal(x.reply.type, 0x0113);
	assert_int_equal(
	    stun_attr_error(stun_msg_attr(&x.reply, STUN_ATTR_ERROR_CODE), &code, &reason, &rlen),
	    0);
	assert_int_equal(code, 400);
}

/* MS-TURN: only Allocate and Set Active Destination have error responses;
 * an error to method 5 would read as a Data indication (0x0115). */
static void test_binding_msturn_methods(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	start(&enc, &x, STUN_DIALECT_MSTURN, 0x0003);
	answer(&enc, &x);
	assert_int_equal(x.reply.type, 0x0113);
	assert_int_equal(x.reply.cls, STUN_CLASS_ERROR);
	start(&enc, &x, STUN_DIALECT_MSTURN, 0x0005);
	answer(&enc, &x);
	assert_int_equal(x.out_len, 0);
	assert_int_equal(x.oc.drop, METRIC_DROP_UNKNOWN_METHOD);
	start(&enc, &x, STUN_DIALECT_MSTURN, 0x0004); /* Send: never answered */
	answer(&enc, &x);
	assert_int_equal(x.out_len, 0);
}

/* A datagram is one message: bytes after it make it malformed, even when
 * they look like MS-TURN's MAGIC-COOKIE. */
static void test_binding_trailing_bytes_dropped(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	static const uint8_t cookie_attr[] = {0, 0x0f, 0, 4, 0x72, 0xc6, 0x4b, 0xc6};
	start(&enc, &x, STUN_DIALECT_CLASSIC, 0x0001);
	assert_int_equal(stun_enc_finish(&enc, &x.req_len), 0);
	memcpy(x.req + x.req_len, cookie_attr, sizeof(cookie_attr));
	binding_answer(x.req, x.req_len + sizeof(cookie_attr), (struct sockaddr *)&x.src,
	               (struct sockaddr *)&x.local, &opts, x.out, sizeof(x.out), &x.out_len, &x.oc);
	assert_int_equal(x.out_len, 0);
	assert_int_equal(x.oc.drop, METRIC_DROP_MALFORMED);
}

static void test_binding_unknown_attribute_is_420(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	uint32_t v = 0;
	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0001);
	stun_enc_attr(&enc, 0x8031, &v, 4); /* optional: ignored */
	stun_enc_attr(&enc, 0x0031, &v, 4); /* comprehension-required */
	answer(&enc, &x);
	assert_int_equal(x.oc.result, METRIC_STUN_UNKNOWN_ATTRIBUTE);
	assert_int_equal(x.reply.type, 0x0111);
	const struct stun_attr *u = stun_msg_attr(&x.reply, STUN_ATTR_UNKNOWN_ATTRIBUTES);
	assert_non_null(u);
	assert_int_equal(u->len, 2);
	assert_int_equal((u->val[0] << 8) | u->val[1], 0x0031);
}

/* Forty unknown attributes: the answer stays at the fixed maximum. */
static void test_binding_no_amplification(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0001);
	addr_parse("[2001:db8::7]:5000", 0, &x.src);
	for (uint16_t t = 0x0040; t < 0x0040 + 40; t++)
		stun_enc_attr(&enc, t, NULL, 0);
	stun_enc_fingerprint(&enc);
	answer(&enc, &x);
	const struct stun_attr *u = stun_msg_attr(&x.reply, STUN_ATTR_UNKNOWN_ATTRIBUTES);
	assert_non_null(u);
	assert_int_equal(u->len, 2 * BINDING_UNKNOWN_MAX);
	assert_true(x.out_len <= BINDING_REPLY_MAX);
}

static void test_binding_drops_and_reasons(void **state)
{
	(void)state;
	struct stun_enc enc;
	struct exchange x;
	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0101); /* a success response */
	answer(&enc, &x);
	assert_int_equal(x.out_len, 0);
	assert_int_equal(x.oc.drop, METRIC_DROP_NOT_REQUEST);

	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0011); /* a Binding indication */
	answer(&enc, &x);
	assert_int_equal(x.oc.drop, METRIC_DROP_NOT_REQUEST);

	start(&enc, &x, STUN_DIALECT_RFC5389, 0x0001);
	stun_enc_fingerprint(&enc);
	assert_int_equal(stun_enc_finish(&enc, &x.req_len), 0);
	x.req[x.req_len - 1] ^= 1;
	binding_answer(x.req, x.req_len, (struct sockaddr *)&x.src, (struct sockaddr *)&x.local,
	               &opts, x.out, sizeof(x.out), &x.out_len, &x.oc);
	assert_int_equal(x.out_len, 0);
	assert_int_equal(x.oc.drop, METRIC_DROP_FINGERPRINT);

	static const uint8_t garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	binding_answer(garbage, sizeof(garbage) - 1, (struct sockaddr *)&x.src,
	               (struct sockaddr *)&x.local, &opts, x.out, sizeof(x.out), &x.out_len, &x.oc);
	assert_int_equal(x.out_len, 0);
	assert_int_equal(x.oc.drop, METRIC_DROP_NOT_STUN);

	/* A STUN header whose attribute overruns the message. */
	static const uint8_t broken[] = {0,    1,    0, 8,  0x21, 0x12, 0xa4, 0x42, 1,  2,
	                                 3,    4,    5, 6,  7,    8,    9,    10,   11, 12,
	                                 0x80, 0x22, 0, 40, 'a',  'b',  'c',  'd'};
	binding_answer(broken, sizeof(broken), (struct sockaddr *)&x.src,
	               (struct sockaddr *)&x.local, &opts, x.out, sizeof(x.out), &x.out_len, &x.oc);
	assert_int_equal(x.out_len, 0);
	assert_int_equal(x.oc.drop, METRIC_DROP_MALFORMED);
	for (size_t len = 0; len < sizeof(broken); len++) {
		binding_answer(broken, len, (struct sockaddr *)&x.src, (struct sockaddr *)&x.local,
		               &opts, x.out, sizeof(x.out), &x.out_len, &x.oc);
		assert_int_equal(x.out_len, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_binding_rfc5389_success),
	    cmocka_unit_test(test_binding_classic_success),
	    cmocka_unit_test(test_binding_classic_change_request_dropped),
	    cmocka_unit_test(test_binding_msturn_success),
	    cmocka_unit_test(test_binding_other_method_is_400),
	    cmocka_unit_test(test_binding_msturn_methods),
	    cmocka_unit_test(test_binding_trailing_bytes_dropped),
	    cmocka_unit_test(test_binding_unknown_attribute_is_420),
	    cmocka_unit_test(test_binding_no_amplification),
	    cmocka_unit_test(test_binding_drops_and_reasons),
	};
	return cmocka_run_group_tests_name("binding", tests, NULL, NULL);
}
