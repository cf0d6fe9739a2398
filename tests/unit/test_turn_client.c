/* stun/turn_client.c and stun/client.c: an RFC 5766 client's requests as
 * the codec reads them, its reading of a 401, a success and a forged one,
 * the bounds, and ChannelData. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stun/turn_client.h"

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

/* The server's answer to a request with tid: a 401 with realm and nonce,
 * or a success with the relayed and mapped addresses, signed with key. */
static size_t answer(uint8_t *buf, uint16_t method, const uint8_t *tid, const uint8_t *key)
{
	struct stun_enc e;
	size_t len;
	if (!key) {
		stun_enc_init(&e, buf, 512, STUN_DIALECT_RFC5389,
		              stun_type(method, STUN_CLASS_ERROR), tid);
		stun_enc_error(&e, 401, "Unauthorized\x01");
		stun_enc_attr(&e, STUN_ATTR_REALM, "edgelab", 7);
		stun_enc_attr(&e, STUN_ATTR_NONCE, "n0nce", 5);
	} else {
		struct sockaddr_in relayed = v4("198.51.100.10", 50001),
		                   mapped = v4("192.0.2.10", 4000);
		stun_enc_init(&e, buf, 512, STUN_DIALECT_RFC5389,
		              stun_type(method, STUN_CLASS_SUCCESS), tid);
		stun_enc_xor_addr(&e, STUN_ATTR_XOR_RELAYED_ADDRESS, (struct sockaddr *)&relayed);
		stun_enc_xor_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&mapped);
		stun_enc_u32(&e, STUN_ATTR_LIFETIME, 600);
		stun_enc_integrity(&e, key, 16, STUN_MAC_SHA1);
	}
	assert_int_equal(stun_enc_finish(&e, &len), 0);
	return len;
}

static void test_allocate_dance(void **state)
{
	(void)state;
	struct stun_cred c = {.user = "alice", .pass = "secret"};
	struct turn_req q = {.method = STUN_METHOD_ALLOCATE};
	uint8_t tid[STUN_TID_LEN], buf[512], ans[512];
	size_t len;
	struct stun_msg m;
	assert_int_equal(stun_client_tid_new(tid), 0);
	assert_int_equal(turn_req_encode(&c, &q, tid, buf, sizeof(buf), &len), 0);
	assert_int_equal(stun_msg_decode(&m, buf, len), 0);
	assert_int_equal(m.dialect, STUN_DIALECT_RFC5389);
	uint32_t transport;
	assert_int_equal(
	    stun_attr_u32(stun_msg_attr(&m, STUN_ATTR_REQUESTED_TRANSPORT), &transport), 0);
	assert_int_equal(transport, 17u << 24);
	assert_null(stun_msg_attr(&m, STUN_ATTR_USERNAME));

	/* The 401 teaches realm and nonce; the reason is made printable. */
	struct turn_answer a;
	len = answer(ans, STUN_METHOD_ALLOCATE, tid, NULL);
	assert_int_equal(stun_msg_decode(&m, ans, len), 0);
	assert_int_equal(turn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), 0);
	assert_int_equal(a.code, 401);
	assert_string_equal(a.reason, "Unauthorized?");
	assert_true(c.have_nonce);
	assert_string_equal(c.realm, "edgelab");
	uint8_t key[16];
	stun_key_longterm("alice", "edgelab", "secret", key);
	assert_memory_equal(c.key, key, 16);

	/* Again, signed: the codec checks it with the same key. */
	assert_int_equal(turn_req_encode(&c, &q, tid, buf, sizeof(buf), &len), 0);
	assert_int_equal(stun_msg_decode(&m, buf, len), 0);
	assert_non_null(stun_msg_attr(&m, STUN_ATTR_USERNAME));
	assert_non_null(stun_msg_attr(&m, STUN_ATTR_NONCE));
	assert_int_equal(stun_msg_check_integrity(&m, key, 16), 0);

	/* The success: addresses and lifetime. */
	len = answer(ans, STUN_METHOD_ALLOCATE, tid, key);
	assert_int_equal(stun_msg_decode(&m, ans, len), 0);
	assert_int_equal(turn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), 0);
	assert_int_equal(a.code, 0);
	assert_true(a.has_relayed && a.has_mapped);
	assert_int_equal(ntohs(((struct sockaddr_in *)&a.relayed)->sin_port), 50001);
	assert_int_equal(a.lifetime, 600);
	/* Read as another method's answer, or signed with another key: refused. */
	assert_int_equal(turn_answer_read(&m, STUN_METHOD_REFRESH, &c, &a), EBADMSG);
	uint8_t other[16] = {1};
	len = answer(ans, STUN_METHOD_ALLOCATE, tid, other);
	assert_int_equal(stun_msg_decode(&m, ans, len), 0);
	assert_int_equal(turn_answer_read(&m, STUN_METHOD_ALLOCATE, &c, &a), EACCES);
}

static void test_requests_and_bounds(void **state)
{
	(void)state;
	struct stun_cred c = {.user = "alice", .pass = "secret"};
	struct sockaddr_in peer = v4("192.0.2.10", 3478);
	uint8_t tid[STUN_TID_LEN] = {0}, buf[512];
	size_t len;
	struct turn_req perm = {.method = STUN_METHOD_CREATE_PERMISSION,
	                        .peer = (struct sockaddr *)&peer};
	assert_int_equal(turn_req_encode(&c, &perm, tid, buf, sizeof(buf), &len), EINVAL);
	c.have_nonce = true;
	strcpy(c.realm, "edgelab");
	memcpy(c.nonce, "n", 1);
	c.nonce_len = 1;
	assert_int_equal(turn_req_encode(&c, &perm, tid, buf, sizeof(buf), &len), 0);
	struct stun_msg m;
	struct sockaddr_storage got;
	assert_int_equal(stun_msg_decode(&m, buf, len), 0);
	assert_int_equal(m.method, STUN_METHOD_CREATE_PERMISSION);
	assert_int_equal(
	    stun_attr_xor_addr(&m, stun_msg_attr(&m, STUN_ATTR_XOR_PEER_ADDRESS), &got), 0);
	assert_memory_equal(&((struct sockaddr_in *)&got)->sin_addr, &peer.sin_addr, 4);
	perm.peer = NULL;
	assert_int_equal(turn_req_encode(&c, &perm, tid, buf, sizeof(buf), &len), EINVAL);
	struct turn_req bind = {.method = STUN_METHOD_CHANNEL_BIND,
	                        .peer = (struct sockaddr *)&peer,
	                        .channel = 0x4001};
	assert_int_equal(turn_req_encode(&c, &bind, tid, buf, sizeof(buf), &len), 0);
	assert_int_equal(stun_msg_decode(&m, buf, len), 0);
	uint32_t number;
	assert_int_equal(stun_attr_u32(stun_msg_attr(&m, STUN_ATTR_CHANNEL_NUMBER), &number), 0);
	assert_int_equal(number, 0x4001u << 16);
	bind.channel = 0x3fff;
	assert_int_equal(turn_req_encode(&c, &bind, tid, buf, sizeof(buf), &len), EINVAL);
	bind.channel = 0x8000;
	assert_int_equal(turn_req_encode(&c, &bind, tid, buf, sizeof(buf), &len), EINVAL);
	struct turn_req refresh = {.method = STUN_METHOD_REFRESH, .lifetime = 0};
	assert_int_equal(turn_req_encode(&c, &refresh, tid, buf, sizeof(buf), &len), 0);
	assert_int_equal(stun_msg_decode(&m, buf, len), 0);
	assert_non_null(stun_msg_attr(&m, STUN_ATTR_LIFETIME));
	assert_int_not_equal(turn_req_encode(&c, &refresh, tid, buf, 40, &len), 0);
}

static void test_channel_data(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len, n;
	uint16_t ch;
	const uint8_t *data;
	assert_int_equal(turn_channel_encode(0x4001, (const uint8_t *)"hello", 5, buf, 64, &len),
	                 0);
	assert_int_equal(len, 12); /* 4 + 5, padded to 8 */
	assert_int_equal(buf[3], 5);
	assert_int_equal(turn_channel_decode(buf, len, &ch, &data, &n), 0);
	assert_int_equal(ch, 0x4001);
	assert_int_equal(n, 5);
	assert_memory_equal(data, "hello", 5);
	assert_int_equal(turn_channel_decode(buf, 8, &ch, &data, &n), EBADMSG);
	assert_int_equal(turn_channel_decode(buf, 3, &ch, &data, &n), ENOENT);
	buf[0] = 0x01; /* a STUN message's first bits */
	assert_int_equal(turn_channel_decode(buf, len, &ch, &data, &n), ENOENT);
	assert_int_equal(turn_channel_encode(0x3fff, buf, 1, buf + 8, 32, &len), EINVAL);
	assert_int_equal(turn_channel_encode(0x4000, (const uint8_t *)"abcdefgh", 8, buf, 11, &len),
	                 ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allocate_dance),
	    cmocka_unit_test(test_requests_and_bounds),
	    cmocka_unit_test(test_channel_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
