#include "media/rtp.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

int rtp_packet_encode(uint8_t *buf, size_t cap, const struct rtp_hdr *h, const void *payload,
                      size_t payload_len, size_t *len)
{
	if (!buf || !h || !len || (payload_len && !payload) || h->pt > 127 ||
	    payload_len > RTP_FRAME_MAX - RTP_HDR_LEN)
		return EINVAL;
	if (cap < RTP_HDR_LEN + payload_len)
		return ENOSPC;
	buf[0] = 2 << 6; /* V=2, P=0, X=0, CC=0 */
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	put16(buf + 2, h->seq);
	put32(buf + 4, h->ts);
	put32(buf + 8, h->ssrc);
	if (payload_len)
		memcpy(buf + RTP_HDR_LEN, payload, payload_len);
	*len = RTP_HDR_LEN + payload_len;
	return 0;
}

int rtp_frame_encode(uint8_t *buf, size_t cap, const struct rtp_hdr *h, const void *payload,
                     size_t payload_len, size_t *len)
{
	size_t pkt, room = cap < RTP_FRAME_HDR_LEN ? 0 : cap - RTP_FRAME_HDR_LEN;
	if (!buf)
		return EINVAL;
	int rc = rtp_packet_encode(buf + RTP_FRAME_HDR_LEN, room, h, payload, payload_len, &pkt);
	if (rc)
		return rc;
	put16(buf, (uint16_t)pkt);
	*len = RTP_FRAME_HDR_LEN + pkt;
	return 0;
}

int rtp_packet_decode(const uint8_t *p, size_t pkt, struct rtp_hdr *h, const uint8_t **payload,
                      size_t *payload_len)
{
	if (!p || !h || !payload || !payload_len)
		return EINVAL;
	if (pkt < RTP_HDR_LEN || p[0] >> 6 != 2)
		return EBADMSG;
	size_t hdr = RTP_HDR_LEN + (size_t)(p[0] & 0x0f) * 4;
	if (hdr > pkt)
		return EBADMSG;
	if (p[0] & 0x10) { /* extension: 16-bit profile, 16-bit length in words */
		if (hdr + 4 > pkt)
			return EBADMSG;
		hdr += 4 + (size_t)get16(p + hdr + 2) * 4;
		if (hdr > pkt)
			return EBADMSG;
	}
	size_t pad = 0;
	if (p[0] & 0x20) { /* the last octet counts the padding, itself included */
		pad = p[pkt - 1];
		if (pad == 0 || hdr + pad > pkt)
			return EBADMSG;
	}
	h->cc = p[0] & 0x0f;
	h->extension = p[0] & 0x10;
	h->marker = p[1] & 0x80;
	h->pt = p[1] & 0x7f;
	h->seq = get16(p + 2);
	h->ts = get32(p + 4);
	h->ssrc = get32(p + 8);
	*payload = p + hdr;
	*payload_len = pkt - hdr - pad;
	return 0;
}

int rtp_frame_decode(const uint8_t *buf, size_t len, struct rtp_hdr *h, const uint8_t **payload,
                     size_t *payload_len, size_t *frame_len)
{
	if (!buf || !h || !payload || !payload_len || !frame_len)
		return EINVAL;
	if (len < RTP_FRAME_HDR_LEN)
		return EAGAIN;
	size_t pkt = get16(buf);
	if (len < RTP_FRAME_HDR_LEN + pkt)
		return EAGAIN;
	int rc = rtp_packet_decode(buf + RTP_FRAME_HDR_LEN, pkt, h, payload, payload_len);
	if (rc)
		return rc;
	*frame_len = RTP_FRAME_HDR_LEN + pkt;
	return 0;
}
