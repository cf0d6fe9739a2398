/* libFuzzer target for the STUN codec: decodes the input in each dialect,
 * runs every typed reader on every attribute, checks integrity and
 * fingerprint with a fixed key and re-encodes; reads each message as a TURN
 * client's answer in both dialects (stun/turn_client.h,
 * stun/msturn_client.h), and the input as ChannelData. Invariants are checked with
 * abort(); ASan/UBSan catch reads past the input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stun/msturn_client.h"
#include "stun/stun.h"
#include "stun/turn_client.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t fuzz_key[16] = "0123456789abcdef";

static void fuzz_attr_readers(const struct stun_msg *msg, const struct stun_attr *a)
{
	struct sockaddr_storage ss;
	const char *reason;
	size_t rlen;
	uint32_t v;
	int code, d;

	FUZZ_CHECK(a->val >= msg->buf + STUN_HDR_LEN);
	FUZZ_CHECK(a->off + 4 + (size_t)a->len <= msg->buf_len);
	FUZZ_CHECK(stun_attr_u32(a, &v) == (a->len == 4 ? 0 : EBADMSG));
	(void)stun_attr_addr(a, &ss);
	(void)stun_attr_xor_addr(msg, a, &ss);
	if (stun_attr_error(a, &code, &reason, &rlen) == 0) {
		FUZZ_CHECK(code >= 300 && code <= 699);
		FUZZ_CHECK((const uint8_t *)reason + rlen <= msg->buf + msg->buf_len);
	}
	for (d = 0; d < STUN_DIALECT_COUNT; d++)
		(void)stun_attr_name((enum stun_dialect)d, a->type);
	FUZZ_CHECK(stun_attr_comprehension_required(a->type) == (a->type < 0x8000));
}

/* Rebuilds the message from its raw attributes and decodes the result:
 * same length, same attributes (padding bytes may differ: the encoder pads
 * with zeros). Then the encoder's typed writers on what the readers gave. */
static void fuzz_reencode(const struct stun_msg *msg)
{
	uint8_t out[STUN_MAX_MSG_LEN];
	struct sockaddr_storage ss;
	struct stun_enc enc;
	struct stun_msg back;
	size_t i, len = 0;
	int code;

	stun_enc_init(&enc, out, sizeof(out), msg->dialect, msg->type, msg->tid);
	for (i = msg->dialect == STUN_DIALECT_MSTURN ? 1 : 0; i < msg->nattrs; i++)
		stun_enc_attr(&enc, msg->attrs[i].type, msg->attrs[i].val, msg->attrs[i].len);
	FUZZ_CHECK(stun_enc_finish(&enc, &len) == 0);
	FUZZ_CHECK(len == msg->buf_len);
	FUZZ_CHECK(stun_msg_decode(&back, out, len) == 0);
	FUZZ_CHECK(back.dialect == msg->dialect && back.nattrs == msg->nattrs);
	for (i = 0; i < msg->nattrs; i++)
		FUZZ_CHECK(back.attrs[i].type == msg->attrs[i].type &&
		           back.attrs[i].len == msg->attrs[i].len &&
		           memcmp(back.attrs[i].val, msg->attrs[i].val, msg->attrs[i].len) == 0);

	/* typed writers, into a fresh message that may well run out of room */
	stun_enc_init(&enc, out, 96 + (msg->length & 0x3FF), msg->dialect, msg->type, msg->tid);
	/* at most two writes per attribute: stay below STUN_MAX_ATTRS */
	for (i = 0; i < msg->nattrs && i < STUN_MAX_ATTRS / 2 - 2; i++) {
		const struct stun_attr *a = &msg->attrs[i];

		if (stun_attr_xor_addr(msg, a, &ss) == 0)
			/* under a neutral type: the original's may be 0x0008 */
			stun_enc_xor_addr(&enc, STUN_ATTR_XOR_PEER_ADDRESS,
			                  (const struct sockaddr *)&ss);
		if (stun_attr_error(a, &code, NULL, NULL) == 0)
			stun_enc_error(&enc, code, "fuzz");
	}
	stun_enc_integrity(&enc, fuzz_key, sizeof(fuzz_key),
	                   msg->dialect == STUN_DIALECT_CLASSIC ? STUN_MAC_SHA1 : STUN_MAC_SHA256);
	if (msg->dialect == STUN_DIALECT_RFC5389)
		stun_enc_fingerprint(&enc);
	if (stun_enc_finish(&enc, &len) == 0) {
		FUZZ_CHECK(stun_msg_decode(&back, out, len) == 0);
		FUZZ_CHECK(stun_msg_check_integrity(&back, fuzz_key, sizeof(fuzz_key)) == 0);
		if (msg->dialect == STUN_DIALECT_RFC5389)
			FUZZ_CHECK(stun_msg_check_fingerprint(&back) == 0);
	}
}

/* The message as the answer a client waits for: what a 401 or 438 teaches
 * stays in the account's bounds. */
static void fuzz_client_answers(const struct stun_msg *msg)
{
	struct stun_cred c = {.user = "user", .pass = "pass"};
	struct turn_answer ta;
	struct msturn_answer ma;
	int err = turn_answer_read(msg, msg->method, &c, &ta);
	FUZZ_CHECK(err == 0 || err == EBADMSG || err == EACCES);
	FUZZ_CHECK(!c.have_nonce || (c.nonce_len && c.nonce_len <= sizeof(c.nonce) &&
	                             strlen(c.realm) <= STUN_CRED_REALM_MAX));
	FUZZ_CHECK(strlen(ta.reason) < sizeof(ta.reason));
	err = msturn_answer_read(msg, msg->method, &c, &ma);
	FUZZ_CHECK(err == 0 || err == EBADMSG || err == EACCES);
	FUZZ_CHECK(strlen(ma.reason) < sizeof(ma.reason));
}

static void fuzz_decode(const uint8_t *buf, size_t len)
{
	struct stun_msg msg;
	size_t i;
	int err;

	err = stun_msg_decode(&msg, buf, len);
	FUZZ_CHECK(err == 0 || err == EBADMSG || err == EMSGSIZE || err == E2BIG);
	if (len >= STUN_HDR_LEN)
		FUZZ_CHECK(stun_msg_frame_len(buf, len) ==
		           STUN_HDR_LEN + (size_t)(buf[2] << 8 | buf[3]));
	if (err != 0)
		return;
	FUZZ_CHECK(stun_is_message(buf, len));
	FUZZ_CHECK(msg.buf == buf && msg.buf_len <= len && msg.buf_len <= STUN_MAX_MSG_LEN);
	FUZZ_CHECK(msg.buf_len == STUN_HDR_LEN + (size_t)msg.length);
	FUZZ_CHECK(msg.dialect == stun_dialect_detect(buf, msg.buf_len));
	FUZZ_CHECK(msg.nattrs <= STUN_MAX_ATTRS);
	for (i = 0; i < msg.nattrs; i++)
		fuzz_attr_readers(&msg, &msg.attrs[i]);
	fuzz_client_answers(&msg);
	err = stun_msg_check_integrity(&msg, fuzz_key, sizeof(fuzz_key));
	FUZZ_CHECK(err == 0 || err == ENOENT || err == EBADMSG || err == EACCES);
	err = stun_msg_check_fingerprint(&msg);
	FUZZ_CHECK(err == 0 || err == ENOENT || err == EBADMSG || err == EACCES);
	fuzz_reencode(&msg);
}

/* The same bytes as each dialect would see them: as given, with the RFC 5389
 * cookie forced into the header, without it, and with MS-TURN's MAGIC-COOKIE
 * attribute inserted first (header length grown to match). Each variant is an
 * exact-size heap copy so ASan sees any overread. */
static void fuzz_variant(const uint8_t *data, size_t size, int variant)
{
	static const uint8_t ms_cookie[8] = {0x00, 0x0F, 0x00, 0x04, 0x72, 0xC6, 0x4B, 0xC6};
	size_t len = size + (variant == 3 ? sizeof(ms_cookie) : 0);
	uint8_t *buf;
	unsigned body;

	if (size < STUN_HDR_LEN)
		return;
	buf = malloc(len);
	if (buf == NULL)
		return;
	memcpy(buf, data, STUN_HDR_LEN);
	if (variant == 1)
		memcpy(buf + 4, "\x21\x12\xA4\x42", 4);
	if (variant == 2)
		buf[4] ^= 0x80;
	if (variant == 3) {
		memcpy(buf + STUN_HDR_LEN, ms_cookie, sizeof(ms_cookie));
		memcpy(buf + STUN_HDR_LEN + 8, data + STUN_HDR_LEN, size - STUN_HDR_LEN);
		body = (unsigned)(buf[2] << 8 | buf[3]) + 8u;
		buf[2] = (uint8_t)(body >> 8);
		buf[3] = (uint8_t)body;
	} else {
		memcpy(buf + STUN_HDR_LEN, data + STUN_HDR_LEN, size - STUN_HDR_LEN);
	}
	fuzz_decode(buf, len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int v;

	uint16_t channel;
	const uint8_t *cd;
	size_t cd_len;
	(void)stun_is_message(data, size);
	if (turn_channel_decode(data, size, &channel, &cd, &cd_len) == 0)
		FUZZ_CHECK(channel >= TURN_CHANNEL_MIN && cd + cd_len <= data + size);
	fuzz_decode(data, size);
	for (v = 1; v <= 3; v++)
		fuzz_variant(data, size, v);
	return 0;
}
