/* Unit tests of the STUN/TURN/MS-TURN codec (stun/stun.h): RFC 5769 test
 * vectors and the captures in $SHARED/vectors. The length rules, encoder and
 * integrity tests are in test_stun_rules.c; one runner (main) for both. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stun/stun.h"
#include "tests/unit/pcap_read.h"
#include "tests/unit/test_stun.h"

/* RFC 5769 section 2.1: the sample request (short-term credentials). Its
 * USERNAME is padded with spaces, which RFC 5389 section 15 allows. */
const uint8_t rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 section 2.2: IPv4 response, 192.0.2.1 port 32853. */
const uint8_t rfc5769_response_v4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 section 2.3: IPv6 response, 2001:db8:1234:5678:11:2233:4455:6677
 * port 32853. */
const uint8_t rfc5769_response_v6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* RFC 5769 section 2.4: request with long-term credentials. */
const uint8_t rfc5769_longterm[] = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
    0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
    0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
    0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
    0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
    0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
    0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
    0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

const char rfc5769_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
/* U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 in UTF-8 */
static const char rfc5769_user_lt[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                                      "\xe3\x82\xb9";
/* SASLprep("The<U+00AD>M<U+00C6>tr<U+0131>x") */
static const char rfc5769_password_lt[] = "TheMatrIX";

const uint8_t *tid_of(const uint8_t *msg)
{
	return msg + 4;
}

/* A heap copy of exactly len bytes, so that ASan catches any read past it. */
uint8_t *dup_exact(const uint8_t *buf, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	if (len > 0)
		memcpy(p, buf, len);
	return p;
}

static void assert_attr_bytes(const struct stun_msg *msg, uint16_t type, const void *val,
                              size_t len)
{
	const struct stun_attr *a = stun_msg_attr(msg, type);

	assert_non_null(a);
	assert_int_equal(a->len, len);
	assert_memory_equal(a->val, val, len);
}

void assert_sa(const struct sockaddr_storage *ss, int family, const char *ip, uint16_t port)
{
	char text[INET6_ADDRSTRLEN];

	assert_int_equal(ss->ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)));
		assert_int_equal(ntohs(sin->sin_port), port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)));
		assert_int_equal(ntohs(sin6->sin6_port), port);
	}
	assert_string_equal(text, ip);
}

void make_sa(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	}
}

/* Integrity holds with the key, fails with another key, and fails when any
 * single covered byte (header, attributes, or the MAC itself) is flipped. */
static void check_integrity_vector(const uint8_t *vec, size_t len, const uint8_t *key,
                                   size_t key_len)
{
	struct stun_msg msg;
	const struct stun_attr *mi;
	uint8_t *copy = dup_exact(vec, len);
	size_t i, end;

	assert_int_equal(stun_msg_decode(&msg, copy, len), 0);
	assert_int_equal(stun_msg_check_integrity(&msg, key, key_len), 0);
	assert_int_equal(stun_msg_check_integrity(&msg, (const uint8_t *)"wrong", 5), EACCES);
	mi = stun_msg_attr(&msg, STUN_ATTR_MESSAGE_INTEGRITY);
	assert_non_null(mi);
	end = mi->off + 4 + mi->len;
	for (i = 4; i < end; i++) { /* bytes 0-3 change the framing itself */
		copy[i] ^= 0x01;
		/* a flip in a type or length may also hide or misplace the MAC */
		if (stun_msg_decode(&msg, copy, len) == 0)
			assert_int_not_equal(stun_msg_check_integrity(&msg, key, key_len), 0);
		copy[i] ^= 0x01;
	}
	free(copy);
}

static void check_fingerprint_vector(const uint8_t *vec, size_t len)
{
	struct stun_msg msg;
	uint8_t *copy = dup_exact(vec, len);

	assert_int_equal(stun_msg_decode(&msg, copy, len), 0);
	assert_int_equal(stun_msg_check_fingerprint(&msg), 0);
	copy[len - 1] ^= 0x80;
	assert_int_equal(stun_msg_decode(&msg, copy, len), 0);
	assert_int_equal(stun_msg_check_fingerprint(&msg), EACCES);
	copy[len - 1] ^= 0x80;
	copy[10] ^= 0x01;
	assert_int_equal(stun_msg_decode(&msg, copy, len), 0);
	assert_int_equal(stun_msg_check_fingerprint(&msg), EACCES);
	free(copy);
}

static void assert_encoded(struct stun_enc *enc, const uint8_t *vec, size_t len)
{
	size_t out = 0;

	assert_int_equal(stun_enc_finish(enc, &out), 0);
	assert_int_equal(out, len);
	assert_memory_equal(enc->buf, vec, len);
}

static void test_stun_type_bits(void **state)
{
	uint16_t m;
	int c;

	(void)state;
	assert_int_equal(stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), 0x0001);
	assert_int_equal(stun_type(STUN_METHOD_BINDING, STUN_CLASS_INDICATION), 0x0011);
	assert_int_equal(stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), 0x0101);
	assert_int_equal(stun_type(STUN_METHOD_BINDING, STUN_CLASS_ERROR), 0x0111);
	assert_int_equal(stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR), 0x0113);
	assert_int_equal(stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION), 0x0016);
	assert_int_equal(stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), 0x0017);
	assert_int_equal(stun_type(STUN_METHOD_CONNECTION_ATTEMPT, STUN_CLASS_INDICATION), 0x001C);
	for (m = 0; m < 0x1000; m++) {
		for (c = 0; c < 4; c++) {
			uint16_t t = stun_type(m, (enum stun_class)c);

			assert_int_equal(t & 0xC000, 0);
			assert_int_equal(stun_type_method(t), m);
			assert_int_equal(stun_type_class(t), c);
		}
	}
}

static void test_stun_dialect_detect(void **state)
{
	uint8_t buf[28] = {0x00, 0x01, 0x00, 0x08};

	(void)state;
	assert_int_equal(stun_dialect_detect(buf, 20), STUN_DIALECT_CLASSIC);
	memcpy(buf + 4, "\x21\x12\xa4\x42", 4);
	assert_int_equal(stun_dialect_detect(buf, 20), STUN_DIALECT_RFC5389);
	memcpy(buf + 20, "\x00\x0f\x00\x04\x72\xc6\x4b\xc6", 8);
	assert_int_equal(stun_dialect_detect(buf, 28), STUN_DIALECT_MSTURN);
	/* the cookie attribute must be there, not just promised */
	assert_int_equal(stun_dialect_detect(buf, 27), STUN_DIALECT_RFC5389);
	memset(buf + 4, 0x55, 4); /* libnice OC2007: random first 4 bytes */
	assert_int_equal(stun_dialect_detect(buf, 28), STUN_DIALECT_MSTURN);
	assert_string_equal(stun_dialect_name(STUN_DIALECT_RFC5389), "rfc5389");
	assert_string_equal(stun_dialect_name(STUN_DIALECT_CLASSIC), "classic");
	assert_string_equal(stun_dialect_name(STUN_DIALECT_MSTURN), "msturn");
}

static void test_stun_rfc5769_request(void **state)
{
	static const uint8_t tie[8] = {0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36};
	const uint8_t *key = (const uint8_t *)rfc5769_password;
	size_t len = sizeof(rfc5769_request);
	struct stun_msg msg;
	struct stun_enc enc;
	uint8_t out[256];
	uint32_t prio;

	(void)state;
	assert_true(stun_is_message(rfc5769_request, len));
	assert_int_equal(stun_msg_decode(&msg, rfc5769_request, len), 0);
	assert_int_equal(msg.dialect, STUN_DIALECT_RFC5389);
	assert_int_equal(msg.method, STUN_METHOD_BINDING);
	assert_int_equal(msg.cls, STUN_CLASS_REQUEST);
	assert_int_equal(msg.length, 0x58);
	assert_int_equal(msg.nattrs, 6);
	assert_attr_bytes(&msg, STUN_ATTR_SOFTWARE, "STUN test client", 16);
	assert_int_equal(stun_attr_u32(stun_msg_attr(&msg, STUN_ATTR_PRIORITY), &prio), 0);
	assert_int_equal(prio, 0x6e0001ff);
	assert_attr_bytes(&msg, STUN_ATTR_ICE_CONTROLLED, tie, sizeof(tie));
	assert_attr_bytes(&msg, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
	assert_int_equal(stun_msg_attr(&msg, STUN_ATTR_MESSAGE_INTEGRITY)->len, 20);
	assert_int_equal(msg.attrs[5].type, STUN_ATTR_FINGERPRINT);
	check_integrity_vector(rfc5769_request, len, key, strlen(rfc5769_password));
	check_fingerprint_vector(rfc5769_request, len);

	stun_enc_init(&enc, out, sizeof(out), STUN_DIALECT_RFC5389, 0x0001,
	              tid_of(rfc5769_request));
	stun_enc_set_pad(&enc, ' ');
	stun_enc_attr(&enc, STUN_ATTR_SOFTWARE, "STUN test client", 16);
	stun_enc_u32(&enc, STUN_ATTR_PRIORITY, 0x6e0001ff);
	stun_enc_attr(&enc, STUN_ATTR_ICE_CONTROLLED, tie, sizeof(tie));
	stun_enc_attr(&enc, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
	stun_enc_integrity(&enc, key, strlen(rfc5769_password), STUN_MAC_SHA1);
	stun_enc_fingerprint(&enc);
	assert_encoded(&enc, rfc5769_request, len);
}

static void check_rfc5769_response(const uint8_t *vec, size_t len, const char *ip, int family)
{
	const uint8_t *key = (const uint8_t *)rfc5769_password;
	struct sockaddr_storage ss;
	struct stun_msg msg;
	struct stun_enc enc;
	uint8_t out[256];

	assert_int_equal(stun_msg_decode(&msg, vec, len), 0);
	assert_int_equal(msg.dialect, STUN_DIALECT_RFC5389);
	assert_int_equal(msg.cls, STUN_CLASS_SUCCESS);
	assert_int_equal(msg.nattrs, 4);
	assert_attr_bytes(&msg, STUN_ATTR_SOFTWARE, "test vector", 11);
	assert_int_equal(
	    stun_attr_xor_addr(&msg, stun_msg_attr(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS), &ss), 0);
	assert_sa(&ss, family, ip, 32853);
	check_integrity_vector(vec, len, key, strlen(rfc5769_password));
	check_fingerprint_vector(vec, len);

	stun_enc_init(&enc, out, sizeof(out), STUN_DIALECT_RFC5389, 0x0101, tid_of(vec));
	stun_enc_set_pad(&enc, ' ');
	stun_enc_attr(&enc, STUN_ATTR_SOFTWARE, "test vector", 11);
	stun_enc_xor_addr(&enc, STUN_ATTR_XOR_MAPPED_ADDRESS, (const struct sockaddr *)&ss);
	stun_enc_integrity(&enc, key, strlen(rfc5769_password), STUN_MAC_SHA1);
	stun_enc_fingerprint(&enc);
	assert_encoded(&enc, vec, len);
}

static void test_stun_rfc5769_response_ipv4(void **state)
{
	(void)state;
	check_rfc5769_response(rfc5769_response_v4, sizeof(rfc5769_response_v4), "192.0.2.1",
	                       AF_INET);
}

static void test_stun_rfc5769_response_ipv6(void **state)
{
	(void)state;
	check_rfc5769_response(rfc5769_response_v6, sizeof(rfc5769_response_v6),
	                       "2001:db8:1234:5678:11:2233:4455:6677", AF_INET6);
}

static void test_stun_rfc5769_longterm(void **state)
{
	static const char nonce[] = "f//499k954d6OL34oL9FSTvy64sA";
	size_t len = sizeof(rfc5769_longterm);
	struct stun_msg msg;
	struct stun_enc enc;
	uint8_t key[16], out[256];

	(void)state;
	stun_key_longterm(rfc5769_user_lt, "example.org", rfc5769_password_lt, key);
	assert_int_equal(stun_msg_decode(&msg, rfc5769_longterm, len), 0);
	assert_int_equal(msg.nattrs, 4);
	assert_attr_bytes(&msg, STUN_ATTR_USERNAME, rfc5769_user_lt, strlen(rfc5769_user_lt));
	assert_attr_bytes(&msg, STUN_ATTR_NONCE, nonce, strlen(nonce));
	assert_attr_bytes(&msg, STUN_ATTR_REALM, "example.org", 11);
	assert_int_equal(stun_msg_check_fingerprint(&msg), ENOENT);
	check_integrity_vector(rfc5769_longterm, len, key, sizeof(key));

	stun_enc_init(&enc, out, sizeof(out), STUN_DIALECT_RFC5389, 0x0001,
	              tid_of(rfc5769_longterm));
	stun_enc_attr(&enc, STUN_ATTR_USERNAME, rfc5769_user_lt, strlen(rfc5769_user_lt));
	stun_enc_attr(&enc, STUN_ATTR_NONCE, nonce, strlen(nonce));
	stun_enc_attr(&enc, STUN_ATTR_REALM, "example.org", 11);
	stun_enc_integrity(&enc, key, sizeof(key), STUN_MAC_SHA1);
	assert_encoded(&enc, rfc5769_longterm, len);
}

/* ---- captures ---- */

/* A capture that is not there skips the test; one that is there and
 * broken fails it. */
static void open_vector(struct pcap_file *pf, const char *name)
{
	char why[4200];
	int err = pcap_read_open_vector(pf, name, why, sizeof(why));

	if (err == ENOENT) {
		print_message("skipped: %s\n", why);
		skip();
	}
	if (err != 0)
		fail_msg("%s", why);
}

/* Rebuilds msg attribute by attribute with the encoder (MS-TURN's
 * MAGIC-COOKIE comes from stun_enc_init) and compares with the original. */
static void assert_reencodes(const struct stun_msg *msg)
{
	uint8_t out[STUN_MAX_MSG_LEN];
	struct stun_enc enc;
	size_t i = 0, len = 0;

	stun_enc_init(&enc, out, sizeof(out), msg->dialect, msg->type, msg->tid);
	if (msg->dialect == STUN_DIALECT_MSTURN)
		i = 1;
	for (; i < msg->nattrs; i++)
		stun_enc_attr(&enc, msg->attrs[i].type, msg->attrs[i].val, msg->attrs[i].len);
	assert_int_equal(stun_enc_finish(&enc, &len), 0);
	assert_int_equal(len, msg->buf_len);
	assert_memory_equal(out, msg->buf, len);
}

struct msturn_frame {
	uint16_t type;
	uint8_t nattrs;
	const char *addr; /* MAPPED, DESTINATION or REMOTE-ADDRESS */
	uint16_t port;
	uint16_t xor_port; /* XOR-MAPPED-ADDRESS port, to 80.181.206.72 */
	int lifetime;      /* -1: absent */
	bool bandwidth;    /* BANDWIDTH 12000 */
	bool auth;         /* NONCE, REALM, USERNAME, MESSAGE-INTEGRITY */
};

#define RELAY1 "52.114.250.141"
#define RELAY2 "52.114.250.137"
#define PEER   "93.71.110.205"

/* Frames 1-34 of msturn-teams.pcap, cross-checked against
 * `tshark -o stun.stunversion:MS-TURN -V`. */
static const struct msturn_frame msturn_frames[] = {
    {0x0003, 6, NULL, 0, 0, -1, true, false},
    {0x0113, 9, RELAY1, 3480, 57543, -1, false, false},
    {0x0003, 6, NULL, 0, 0, -1, true, false},
    {0x0003, 11, NULL, 0, 0, -1, true, true},
    {0x0003, 6, NULL, 0, 0, -1, true, false},
    {0x0113, 9, RELAY2, 3480, 61310, -1, false, false},
    {0x0103, 9, RELAY1, 3480, 57543, 60, true, false},
    {0x0003, 11, NULL, 0, 0, -1, true, true},
    {0x0113, 9, RELAY1, 3480, 60673, -1, false, false},
    {0x0003, 6, NULL, 0, 0, -1, true, false},
    {0x0103, 9, RELAY2, 3480, 61310, 60, true, false},
    {0x0003, 11, NULL, 0, 0, -1, true, true},
    {0x0113, 9, RELAY2, 3480, 57722, -1, false, false},
    {0x0103, 9, RELAY1, 3480, 60673, 60, true, false},
    {0x0003, 11, NULL, 0, 0, -1, true, true},
    {0x0103, 9, RELAY2, 3480, 57722, 60, true, false},
    {0x0004, 6, PEER, 16332, 0, -1, false, false},
    {0x0004, 6, PEER, 16333, 0, -1, false, false},
    {0x0115, 3, PEER, 16332, 0, -1, false, false},
    {0x0115, 3, PEER, 16333, 0, -1, false, false},
    {0x0004, 6, PEER, 16332, 0, -1, false, false},
    {0x0004, 6, PEER, 16332, 0, -1, false, false},
    {0x0004, 6, PEER, 16333, 0, -1, false, false},
    {0x0004, 6, PEER, 16333, 0, -1, false, false},
    {0x0115, 3, PEER, 16332, 0, -1, false, false},
    {0x0115, 3, PEER, 16333, 0, -1, false, false},
    {0x0115, 3, PEER, 16332, 0, -1, false, false},
    {0x0115, 3, PEER, 16333, 0, -1, false, false},
    {0x0003, 8, NULL, 0, 0, 0, false, true},
    {0x0103, 8, RELAY1, 3480, 60673, 0, false, false},
    {0x0003, 8, NULL, 0, 0, 0, false, true},
    {0x0003, 8, NULL, 0, 0, 0, false, true},
    {0x0103, 8, RELAY2, 3480, 61310, 0, false, false},
    {0x0103, 8, RELAY2, 3480, 57722, 0, false, false},
};

static uint16_t msturn_addr_type(uint16_t type)
{
	if (type == 0x0004)
		return STUN_MSATTR_DESTINATION_ADDRESS;
	if (type == STUN_MSTURN_TYPE_DATA_INDICATION)
		return STUN_MSATTR_REMOTE_ADDRESS;
	return STUN_MSATTR_MAPPED_ADDRESS;
}

static void check_msturn_u32(const struct stun_msg *msg, uint16_t type, int expect)
{
	const struct stun_attr *a = stun_msg_attr(msg, type);
	uint32_t v;

	if (expect < 0) {
		assert_null(a);
		return;
	}
	assert_int_equal(stun_attr_u32(a, &v), 0);
	assert_int_equal(v, (uint32_t)expect);
}

/* The 401s carry REALM and NONCE (swapped numbers), ERROR-CODE 401 and the
 * relay's ALTERNATE-SERVER pointing at port 3478. */
static void check_msturn_401(const struct stun_msg *msg, const struct msturn_frame *f)
{
	static const char reason[] = "The request did not contain a Message-Integrity attribute";
	struct sockaddr_storage ss;
	const char *r;
	size_t rlen;
	int code;

	assert_int_equal(
	    stun_attr_error(stun_msg_attr(msg, STUN_ATTR_ERROR_CODE), &code, &r, &rlen), 0);
	assert_int_equal(code, 401);
	assert_int_equal(rlen, strlen(reason));
	assert_memory_equal(r, reason, rlen);
	assert_int_equal(stun_attr_addr(stun_msg_attr(msg, STUN_MSATTR_ALTERNATE_SERVER), &ss), 0);
	assert_sa(&ss, AF_INET, f->addr, 3478);
	assert_non_null(stun_msg_attr(msg, STUN_MSATTR_MULTIPLEXED_TURN_SESSION_ID));
	assert_int_equal(stun_msg_check_integrity(msg, (const uint8_t *)"k", 1), ENOENT);
}

static void check_msturn_frame(const struct stun_msg *msg, const struct msturn_frame *f)
{
	struct sockaddr_storage ss;
	const struct stun_attr *a;

	assert_int_equal(msg->dialect, STUN_DIALECT_MSTURN);
	assert_int_equal(msg->type, f->type);
	assert_int_equal(msg->nattrs, f->nattrs);
	assert_int_equal(msg->attrs[0].type, STUN_MSATTR_MAGIC_COOKIE);
	check_msturn_u32(msg, STUN_MSATTR_MS_VERSION, f->type == 0x0115 ? -1 : 6);
	check_msturn_u32(msg, STUN_ATTR_LIFETIME, f->lifetime);
	check_msturn_u32(msg, STUN_MSATTR_BANDWIDTH, f->bandwidth ? 12000 : -1);
	if (f->addr != NULL) {
		a = stun_msg_attr(msg, msturn_addr_type(f->type));
		assert_int_equal(stun_attr_addr(a, &ss), 0);
		assert_sa(&ss, AF_INET, f->addr, f->port);
	}
	if (f->xor_port != 0) {
		a = stun_msg_attr(msg, STUN_MSATTR_XOR_MAPPED_ADDRESS);
		assert_int_equal(stun_attr_xor_addr(msg, a, &ss), 0);
		assert_sa(&ss, AF_INET, "80.181.206.72", f->xor_port);
	}
	if (f->auth || f->type == 0x0113) {
		assert_attr_bytes(msg, STUN_MSATTR_REALM, "\"rtcmedia\"", 10);
		assert_int_equal(stun_msg_attr(msg, STUN_MSATTR_NONCE)->len, 20);
	}
	if (f->type == 0x0113)
		check_msturn_401(msg, f);
	if ((a = stun_msg_attr(msg, STUN_ATTR_MESSAGE_INTEGRITY)) != NULL) {
		/* 32 bytes: HMAC-SHA256 (MS-Version >= 3); the key is unknown, so
		 * the check must run and fail on the MAC, not on the layout. */
		assert_int_equal(a->len, 32);
		assert_int_equal(stun_msg_check_integrity(msg, (const uint8_t *)"k", 1), EACCES);
	}
	assert_int_equal(stun_msg_check_fingerprint(msg), ENOENT);
}

/* Every frame is canonical for MS-TURN (no padding, MAGIC-COOKIE first),
 * so all 34 re-encode byte for byte. Frames 19-20 and 25-28 (Data
 * indications) carry a random transaction id without 0x2112A442: they are
 * MS-TURN by their MAGIC-COOKIE attribute alone. */
static void test_stun_msturn_capture(void **state)
{
	struct pcap_file pf;
	struct pcap_udp udp;
	struct stun_msg msg;
	size_t n = 0, i;

	(void)state;
	open_vector(&pf, "msturn-teams.pcap");
	while (pcap_read_next(&pf, &udp) == 0) {
		uint8_t *copy = dup_exact(udp.data, udp.len);

		assert_true(n < sizeof(msturn_frames) / sizeof(msturn_frames[0]));
		assert_int_equal(udp.frame, n + 1);
		assert_true(stun_is_message(copy, udp.len));
		assert_int_equal(stun_msg_decode(&msg, copy, udp.len), 0);
		assert_int_equal(msg.buf_len, udp.len);
		check_msturn_frame(&msg, &msturn_frames[n]);
		for (i = 0; i < msg.nattrs; i++)
			if (msg.attrs[i].type != 0x8006) /* unnamed even by Wireshark */
				assert_non_null(
				    stun_attr_name(STUN_DIALECT_MSTURN, msg.attrs[i].type));
		assert_reencodes(&msg);
		free(copy);
		n++;
	}
	pcap_read_close(&pf);
	assert_int_equal(n, 34);
}

/* MS-TURN multiplexed TURN frames start 0xFF10: not STUN (top bits set). The
 * capture holds none (it is cut to STUN frames), so one is built here. */
static void test_stun_msturn_multiplexed_rejected(void **state)
{
	uint8_t frame[48] = {0xFF, 0x10, 0x00, 0x2C};
	struct stun_msg msg;

	(void)state;
	memcpy(frame + 4, "\x21\x12\xa4\x42", 4);
	memcpy(frame + 20, "\x00\x0f\x00\x04\x72\xc6\x4b\xc6", 8);
	assert_false(stun_is_message(frame, sizeof(frame)));
	assert_int_equal(stun_msg_decode(&msg, frame, sizeof(frame)), EBADMSG);
	assert_int_equal(msg.nattrs, 0);
}

/* stun-classic-rfc3489.pcap: a Binding request (CHANGE-REQUEST 0) and its
 * response (MAPPED-ADDRESS), then RTP, which must not look like STUN. */
static void test_stun_classic_capture(void **state)
{
	struct sockaddr_storage ss;
	struct pcap_file pf;
	struct pcap_udp udp;
	struct stun_msg msg;
	size_t stun = 0, other = 0;
	uint32_t change;

	(void)state;
	open_vector(&pf, "stun-classic-rfc3489.pcap");
	while (pcap_read_next(&pf, &udp) == 0) {
		if (!stun_is_message(udp.data, udp.len)) {
			other++;
			continue;
		}
		assert_int_equal(stun_msg_decode(&msg, udp.data, udp.len), 0);
		assert_int_equal(msg.dialect, STUN_DIALECT_CLASSIC);
		assert_int_equal(msg.method, STUN_METHOD_BINDING);
		if (stun++ == 0) {
			assert_int_equal(msg.cls, STUN_CLASS_REQUEST);
			assert_int_equal(
			    stun_attr_u32(stun_msg_attr(&msg, STUN_ATTR_CHANGE_REQUEST), &change),
			    0);
			assert_int_equal(change, 0);
		} else {
			assert_int_equal(msg.cls, STUN_CLASS_SUCCESS);
			assert_int_equal(
			    stun_attr_addr(stun_msg_attr(&msg, STUN_ATTR_MAPPED_ADDRESS), &ss), 0);
			assert_sa(&ss, AF_INET, "172.16.63.224", 55050);
		}
		assert_non_null(stun_attr_name(STUN_DIALECT_CLASSIC, msg.attrs[0].type));
		assert_reencodes(&msg);
	}
	pcap_read_close(&pf);
	assert_int_equal(stun, 2);
	assert_int_equal(other, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stun_type_bits),
	    cmocka_unit_test(test_stun_dialect_detect),
	    cmocka_unit_test(test_stun_rfc5769_request),
	    cmocka_unit_test(test_stun_rfc5769_response_ipv4),
	    cmocka_unit_test(test_stun_rfc5769_response_ipv6),
	    cmocka_unit_test(test_stun_rfc5769_longterm),
	    cmocka_unit_test(test_stun_msturn_capture),
	    cmocka_unit_test(test_stun_msturn_multiplexed_rejected),
	    cmocka_unit_test(test_stun_classic_capture),
	    cmocka_unit_test(test_stun_truncated_every_length),
	    cmocka_unit_test(test_stun_length_not_multiple_of_4),
	    cmocka_unit_test(test_stun_attr_overrun),
	    cmocka_unit_test(test_stun_too_many_attrs),
	    cmocka_unit_test(test_stun_too_large),
	    cmocka_unit_test(test_stun_frame_len),
	    cmocka_unit_test(test_stun_enc_enospc),
	    cmocka_unit_test(test_stun_enc_einval),
	    cmocka_unit_test(test_stun_xor_addr_roundtrip),
	    cmocka_unit_test(test_stun_addr_malformed),
	    cmocka_unit_test(test_stun_error_code),
	    cmocka_unit_test(test_stun_unknown_attributes),
	    cmocka_unit_test(test_stun_comprehension_required),
	    cmocka_unit_test(test_stun_attr_names),
	    cmocka_unit_test(test_stun_msturn_integrity),
	    cmocka_unit_test(test_stun_rfc5389_sha256),
	    cmocka_unit_test(test_stun_integrity_misplaced),
	};

	return cmocka_run_group_tests_name("stun", tests, NULL, NULL);
}
