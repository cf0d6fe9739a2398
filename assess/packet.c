/* A call's packet (assess/packet.h). */
#include <errno.h>
#include <string.h>

#include "assess/packet.h"
#include "media/rtp.h"

static const uint8_t tag[4] = {'E', 'L', 'A', 'S'};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int assess_pkt_encode(const struct assess_pkt *p, size_t size, uint8_t *buf, size_t cap)
{
	if (size < ASSESS_PKT_MIN || size > ASSESS_PKT_MAX)
		return EINVAL;
	if (cap < size)
		return ENOSPC;
	uint8_t payload[ASSESS_PKT_MAX - RTP_HDR_LEN];
	size_t payload_len = size - RTP_HDR_LEN;
	memcpy(payload, tag, sizeof(tag));
	put32(payload + 4, p->call);
	put32(payload + 8, p->index);
	put32(payload + 12, (uint32_t)((uint64_t)p->sent_us >> 32));
	put32(payload + 16, (uint32_t)p->sent_us);
	/* G.711's silence, as a codec would send it. */
	memset(payload + ASSESS_PKT_TAG_LEN, 0xff, payload_len - ASSESS_PKT_TAG_LEN);
	struct rtp_hdr h = {
	    .pt = 0, .seq = (uint16_t)p->index, .ts = p->index * 160, .ssrc = p->call};
	size_t len;
	return rtp_packet_encode(buf, cap, &h, payload, payload_len, &len);
}

int assess_pkt_decode(const uint8_t *buf, size_t len, struct assess_pkt *p)
{
	struct rtp_hdr h;
	const uint8_t *payload;
	size_t payload_len;
	if (rtp_packet_decode(buf, len, &h, &payload, &payload_len) ||
	    payload_len < ASSESS_PKT_TAG_LEN || memcmp(payload, tag, sizeof(tag)))
		return EBADMSG;
	p->call = get32(payload + 4);
	p->index = get32(payload + 8);
	p->sent_us = (int64_t)((uint64_t)get32(payload + 12) << 32 | get32(payload + 16));
	if (h.seq != (uint16_t)p->index || h.ssrc != p->call)
		return EBADMSG;
	return 0;
}

int assess_frame_encode(const struct assess_pkt *p, size_t size, uint8_t *buf, size_t cap,
                        size_t *len)
{
	if (cap < ASSESS_FRAME_HDR)
		return ENOSPC;
	int rc = assess_pkt_encode(p, size, buf + ASSESS_FRAME_HDR, cap - ASSESS_FRAME_HDR);
	if (rc)
		return rc;
	buf[0] = (uint8_t)(size >> 8);
	buf[1] = (uint8_t)size;
	*len = ASSESS_FRAME_HDR + size;
	return 0;
}

int assess_frame_next(const uint8_t *buf, size_t len, size_t *frame_len)
{
	if (len < ASSESS_FRAME_HDR)
		return EAGAIN;
	size_t size = (size_t)buf[0] << 8 | buf[1];
	if (size < ASSESS_PKT_MIN || size > ASSESS_PKT_MAX)
		return EBADMSG;
	if (len < ASSESS_FRAME_HDR + size)
		return EAGAIN;
	*frame_len = ASSESS_FRAME_HDR + size;
	return 0;
}

int assess_frame_find(const uint8_t *buf, size_t len, uint32_t call, size_t *skip,
                      size_t *frame_len)
{
	size_t at = 0;
	for (; at < len; at++) {
		size_t whole;
		int rc = assess_frame_next(buf + at, len - at, &whole);
		if (rc == EAGAIN)
			break; /* it may start a frame: what comes next says */
		struct assess_pkt p;
		if (!rc &&
		    !assess_pkt_decode(buf + at + ASSESS_FRAME_HDR, whole - ASSESS_FRAME_HDR, &p) &&
		    p.call == call) {
			*skip = at;
			*frame_len = whole;
			return 0;
		}
	}
	*skip = at;
	return EAGAIN;
}
