/* fuzz_rtp: the RFC 4571 / RTP decoder the probe uses on row 4's stream,
 * the bare packet decoder of the federation A/V test's datagrams, and what
 * assess reads back from its calls and its reflector reads from a TCP
 * relay (assess/packet.h: packets, and their RFC 4571 frames).
 * Invariants: a decoded payload lies inside the frame, the frame inside the
 * input; re-encoding what was decoded (without CSRCs, extension, padding)
 * decodes to the same header and payload; the whole input read as one
 * datagram decodes as the frame holding exactly it would; a call's packet
 * read back is encoded again to the same fields; the input read as a
 * stream of a call's frames cuts into the same frames whether it comes
 * whole or in two reads, and every frame lies inside it; and so does a
 * call's stream out of step, its frames found again. */
#include <errno.h>
#include <string.h>

#include "assess/packet.h"
#include "media/rtp.h"
#include "tests/fuzz/fuzz.h"

/* The input as a stream of a call's frames: cut whole, then as a first
 * read of half of it and the rest; the same frames either way. */
static void frames_cut(const uint8_t *data, size_t size)
{
	size_t at = 0, fl, frames = 0;
	int rc;
	while ((rc = assess_frame_next(data + at, size - at, &fl)) == 0) {
		FUZZ_CHECK(fl >= ASSESS_FRAME_HDR + ASSESS_PKT_MIN && fl <= ASSESS_FRAME_MAX);
		FUZZ_CHECK(at + fl <= size);
		at += fl, frames++;
	}
	FUZZ_CHECK(rc == EAGAIN || rc == EBADMSG);
	size_t at2 = 0, frames2 = 0, half = size / 2;
	while (assess_frame_next(data + at2, half - at2, &fl) == 0)
		at2 += fl, frames2++;
	while (assess_frame_next(data + at2, size - at2, &fl) == 0)
		at2 += fl, frames2++;
	FUZZ_CHECK(at2 == at && frames2 == frames);
}

/* The input as a call's stream out of step (the first byte the call):
 * read as a call reads it (the skipped bytes drained, each frame found
 * taken) whole, and in two reads cut at the second byte's share of it; the
 * same frames either way, each inside the input and one of the call's. */
static size_t frames_found(const uint8_t *s, size_t size, size_t cut, uint32_t call, size_t *count)
{
	size_t at = 0, skip, fl;
	*count = 0;
	for (size_t avail = cut;; avail = size) {
		int rc;
		while ((rc = assess_frame_find(s + at, avail - at, call, &skip, &fl)) == 0) {
			struct assess_pkt p;
			FUZZ_CHECK(at + skip + fl <= avail);
			FUZZ_CHECK(assess_pkt_decode(s + at + skip + ASSESS_FRAME_HDR,
			                             fl - ASSESS_FRAME_HDR, &p) == 0 &&
			           p.call == call);
			at += skip + fl, ++*count;
		}
		FUZZ_CHECK(rc == EAGAIN && at + skip <= avail);
		at += skip;
		if (avail == size)
			return at;
	}
}

static void frames_resync(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	uint32_t call = data[0];
	size_t cut = (size - 2) * data[1] / 255, n1, n2;
	size_t at1 = frames_found(data + 2, size - 2, size - 2, call, &n1);
	size_t at2 = frames_found(data + 2, size - 2, cut, call, &n2);
	FUZZ_CHECK(n1 == n2 && at1 == at2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	frames_cut(data, size);
	frames_resync(data, size);
	struct rtp_hdr h, h2;
	const uint8_t *payload, *p2;
	size_t plen, frame_len, plen2, frame_len2, len;
	static uint8_t out[RTP_FRAME_HDR_LEN + RTP_FRAME_MAX];
	struct assess_pkt ap, ap2;
	if (!assess_pkt_decode(data, size, &ap) && size >= ASSESS_PKT_MIN &&
	    size <= ASSESS_PKT_MAX) {
		FUZZ_CHECK(assess_pkt_encode(&ap, size, out, sizeof(out)) == 0);
		FUZZ_CHECK(assess_pkt_decode(out, size, &ap2) == 0);
		FUZZ_CHECK(ap2.call == ap.call && ap2.index == ap.index &&
		           ap2.sent_us == ap.sent_us);
	}
	int bare = rtp_packet_decode(data, size, &h, &payload, &plen);
	if (!bare)
		FUZZ_CHECK(payload >= data + RTP_HDR_LEN && payload + plen <= data + size);
	if (size <= RTP_FRAME_MAX) {
		out[0] = (uint8_t)(size >> 8);
		out[1] = (uint8_t)size;
		memcpy(out + RTP_FRAME_HDR_LEN, data, size);
		FUZZ_CHECK((rtp_frame_decode(out, size + RTP_FRAME_HDR_LEN, &h2, &p2, &plen2,
		                             &frame_len2) == 0) == (bare == 0));
		FUZZ_CHECK(bare || (plen2 == plen && h2.seq == h.seq && h2.ssrc == h.ssrc));
	}
	if (rtp_frame_decode(data, size, &h, &payload, &plen, &frame_len))
		return 0;
	FUZZ_CHECK(frame_len <= size);
	FUZZ_CHECK(payload >= data + RTP_FRAME_HDR_LEN + RTP_HDR_LEN);
	FUZZ_CHECK(payload + plen <= data + frame_len);
	if (rtp_frame_encode(out, sizeof(out), &h, payload, plen, &len))
		return 0;
	FUZZ_CHECK(rtp_frame_decode(out, len, &h2, &p2, &plen2, &frame_len2) == 0);
	FUZZ_CHECK(frame_len2 == len && plen2 == plen && memcmp(p2, payload, plen) == 0);
	FUZZ_CHECK(h2.pt == h.pt && h2.seq == h.seq && h2.ts == h.ts && h2.ssrc == h.ssrc &&
	           h2.marker == h.marker);
	return 0;
}
