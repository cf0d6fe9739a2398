/* fuzz_fed_av: what the federation A/V test reads from the network
 * (probe/fed_av_int.h): fed_av_classify on whatever reaches a client's
 * socket, and msturn_answer_read on every STUN message among it. The first
 * byte says how the rest arrives: 0 as it is, 1 as the DATA of a Data
 * indication from the far client's inner allocation (the media's way), 2
 * from the far edge, 3 as it is and read as an answer to each method.
 * Invariants: media is a packet of the stream, byte for byte, inside a
 * Data indication; a STUN
 * message lies inside the datagram; a 401 leaves a NUL-terminated realm
 * and a nonce that fits. */
#include <string.h>

#include "core/addr.h"
#include "probe/fed_av_int.h"
#include "tests/fuzz/fuzz.h"

static const struct fed_av_stream stream = {
    .ssrc = 0x11223344, .seq0 = 100, .ts0 = 0, .payload = 8, .packets = 4};

static void read_answers(const struct stun_msg *m)
{
	static const uint16_t methods[] = {STUN_METHOD_ALLOCATE, STUN_MSTURN_METHOD_SEND,
	                                   STUN_MSTURN_METHOD_SET_ACTIVE_DEST};
	for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
		struct msturn_cred c = {.user = "alice", .pass = "secret", .have_nonce = i > 0};
		struct msturn_answer a;
		if (msturn_answer_read(m, methods[i], &c, &a))
			continue;
		FUZZ_CHECK(memchr(a.reason, '\0', sizeof(a.reason)));
		if (a.code == 401 || a.code == 438) {
			FUZZ_CHECK(c.have_nonce && c.nonce_len <= sizeof(c.nonce));
			FUZZ_CHECK(strlen(c.realm) <= MSTURN_REALM_MAX);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fed_av_datagram d;
	static uint8_t buf[STUN_MAX_MSG_LEN];
	struct fed_av_expect e = {.in = &stream};
	addr_parse("192.0.2.10:50200", 0, &e.media_from);
	addr_parse("198.51.100.20:3478", 0, &e.far_edge);
	if (!size)
		return 0;
	int mode = data[0] & 3;
	const uint8_t *dgram = data + 1;
	size_t len = size - 1;
	if (mode == 1 || mode == 2) {
		static const uint8_t tid[STUN_TID_LEN] = {0};
		struct stun_enc enc;
		stun_enc_init(&enc, buf, sizeof(buf), STUN_DIALECT_MSTURN,
		              STUN_MSTURN_TYPE_DATA_INDICATION, tid);
		stun_enc_addr(&enc, STUN_MSATTR_REMOTE_ADDRESS,
		              (struct sockaddr *)(mode == 1 ? &e.media_from : &e.far_edge));
		stun_enc_attr(&enc, STUN_MSATTR_DATA, dgram, len);
		if (stun_enc_finish(&enc, &len))
			return 0;
		dgram = buf;
	}
	fed_av_classify(&e, dgram, len, &d);
	if (d.kind == FED_AV_KIND_MEDIA) {
		uint8_t want[FED_AV_PKT_MAX];
		size_t want_len;
		FUZZ_CHECK(d.index < stream.packets);
		FUZZ_CHECK(!fed_av_packet(&stream, d.index, want, sizeof(want), &want_len));
		FUZZ_CHECK(len >= STUN_HDR_LEN + want_len &&
		           memmem(dgram + STUN_HDR_LEN, len - STUN_HDR_LEN, want, want_len));
	}
	if (d.kind == FED_AV_KIND_STUN) {
		FUZZ_CHECK(d.msg.buf >= dgram && d.msg.buf + d.msg.buf_len <= dgram + len);
		if (mode == 3)
			read_answers(&d.msg);
	}
	return 0;
}
