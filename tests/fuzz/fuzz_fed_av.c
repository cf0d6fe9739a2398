/* fuzz_fed_av: what the federation A/V test reads from the network
 * (probe/fed_av_int.h): fed_av_classify on whatever reaches a client's
 * socket, and msturn_answer_read on every STUN message among it. The first
 * byte says how the rest arrives: 0 as it is, 1 as the DATA of a Data
 * indication from the far client's inner allocation (the media's way), 2
 * from the far edge, 3 as it is and read as an answer to each method.
 * Invariants: media is a packet of the stream, byte for byte, inside a
 * Data indication; a STUN
 * message lies inside the datagram; a 401 leaves a NUL-terminated realm
 * and a nonce that fits.
 *
 * Modes 4 to 7 are the TCP variant's reading (probe/fed_av_tcp_int.h), the
 * input after the second byte fed in pieces of (second byte + 1) bytes: 4
 * as a client's connection from its first byte, 5 after a good pseudo-TLS
 * reply, 6 as the far edge's stream after its reply (each piece in a data
 * frame), 7 as an RFC 4571 stream (the second byte's low bit: media or the
 * permit stream; the pieces one byte longer per two) and through the reply
 * check. Invariants: a STUN message is whole and bounded, media an index of
 * the stream, every stream's bounds kept, a stream whose reply was wrong
 * lost; a reply the check takes whole was "right so far" at every prefix. */
#include <string.h>

#include "core/addr.h"
#include "probe/fed_av_int.h"
#include "probe/fed_av_tcp_int.h"
#include "tests/fuzz/fuzz.h"

static const struct fed_av_stream stream = {
    .ssrc = 0x11223344, .seq0 = 100, .ts0 = 0, .payload = 8, .packets = 4};

static void read_answers(const struct stun_msg *m)
{
	static const uint16_t methods[] = {STUN_METHOD_ALLOCATE, STUN_MSTURN_METHOD_SEND,
	                                   STUN_MSTURN_METHOD_SET_ACTIVE_DEST};
	for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
		struct stun_cred c = {.user = "alice", .pass = "secret", .have_nonce = i > 0};
		struct msturn_answer a;
		if (msturn_answer_read(m, methods[i], &c, &a))
			continue;
		FUZZ_CHECK(memchr(a.reason, '\0', sizeof(a.reason)));
		if (a.code == 401 || a.code == 438) {
			FUZZ_CHECK(c.have_nonce && c.nonce_len <= sizeof(c.nonce));
			FUZZ_CHECK(strlen(c.realm) <= STUN_CRED_REALM_MAX);
		}
	}
}

static void tcp_sink(void *arg, const struct fed_av_datagram *d)
{
	(void)arg;
	if (d->kind == FED_AV_KIND_STUN)
		FUZZ_CHECK(d->msg.buf_len >= STUN_HDR_LEN && d->msg.buf_len <= STUN_MAX_MSG_LEN);
	if (d->kind == FED_AV_KIND_MEDIA)
		FUZZ_CHECK(d->index < stream.packets);
}

static void check_bytes(const struct fed_av_tcp_bytes *b)
{
	FUZZ_CHECK(b->start <= b->end && b->end <= sizeof(b->buf));
}

static void check_rx(const struct fed_av_tcp_rx *rx)
{
	check_bytes(&rx->own);
	check_bytes(&rx->far);
	check_bytes(&rx->permit);
	check_bytes(&rx->media);
	FUZZ_CHECK(rx->own_reply != FED_AV_TCP_REPLY_BAD || rx->own.lost);
	FUZZ_CHECK(rx->far_reply != FED_AV_TCP_REPLY_BAD || rx->far.lost);
	FUZZ_CHECK(!rx->own.skip && !rx->far.skip);
}

/* Modes 4-6: a client's connection, from its start, after the reply, or
 * the far edge's stream after its reply. */
static void tcp_connection(int mode, const struct fed_av_expect *e, const uint8_t *in, size_t len,
                           size_t piece)
{
	static struct fed_av_tcp_rx rx;
	static const uint8_t data_frame[] = {MSTURN_FRAME_DATA};
	uint8_t reply[PSEUDO_TLS_REPLY_LEN], frame[MSTURN_FRAME_HDR + 256];
	size_t n;
	fed_av_tcp_rx_init(&rx);
	if (mode >= 5) {
		pseudo_tls_reply(reply);
		fed_av_tcp_read(&rx, e, reply, sizeof(reply), tcp_sink, NULL);
	}
	if (mode == 6 &&
	    !fed_av_tcp_wrap(data_frame, 1, reply, sizeof(reply), frame, sizeof(frame), &n))
		fed_av_tcp_read(&rx, e, frame, n, tcp_sink, NULL);
	for (size_t at = 0; at < len; at += piece) {
		size_t k = len - at < piece ? len - at : piece;
		if (mode != 6)
			fed_av_tcp_read(&rx, e, in + at, k, tcp_sink, NULL);
		else if (!fed_av_tcp_wrap(data_frame, 1, in + at, k, frame, sizeof(frame), &n))
			fed_av_tcp_read(&rx, e, frame, n, tcp_sink, NULL);
		check_rx(&rx);
	}
	if (mode >= 5)
		FUZZ_CHECK(rx.own_reply == FED_AV_TCP_REPLY_OK);
}

/* Mode 7: an RFC 4571 stream, and the reply check. */
static void tcp_rtp(const uint8_t *in, size_t len, uint8_t how)
{
	static struct fed_av_tcp_bytes b;
	size_t piece = (size_t)(how >> 1) + 1;
	memset(&b, 0, sizeof(b));
	for (size_t at = 0; at < len; at += piece) {
		size_t k = len - at < piece ? len - at : piece;
		fed_av_tcp_rtp_read(&b, &stream, how & 1, in + at, k, tcp_sink, NULL);
		check_bytes(&b);
	}
	if (pseudo_tls_reply_check(in, len) == 1)
		for (size_t n = 0; n < PSEUDO_TLS_REPLY_LEN; n++)
			FUZZ_CHECK(pseudo_tls_reply_check(in, n) == 0);
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
	int mode = data[0] & 7;
	if (mode == 7 && size >= 2)
		tcp_rtp(data + 2, size - 2, data[1]);
	else if (mode >= 4 && size >= 2)
		tcp_connection(mode, &e, data + 2, size - 2, (size_t)data[1] + 1);
	if (mode >= 4)
		return 0;
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
