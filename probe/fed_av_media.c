/* The federation A/V test's RTP streams and the reading of what reaches a
 * client (probe/fed_av_int.h). */
#include <errno.h>
#include <string.h>

#include "core/addr.h"
#include "probe/fed_av_int.h"

/* xorshift32 (Marsaglia): cheap bytes that differ per packet and per
 * position, so that a swapped, shifted or altered byte shows. */
static uint32_t next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Packet i (or the permit), bare or (framed) as RFC 4571 frames it. */
static int build(const struct fed_av_stream *s, uint32_t i, bool framed, uint8_t *buf, size_t cap,
                 size_t *len)
{
	static const char permit[] = "edgelab fed-av permit";
	uint8_t payload[FED_AV_MAX_PAYLOAD];
	bool is_permit = i == FED_AV_PERMIT_INDEX;
	if (!is_permit && (i >= s->packets || s->payload > sizeof(payload)))
		return EINVAL;
	struct rtp_hdr h = {.pt = is_permit ? FED_AV_PT_PERMIT : FED_AV_PT_MEDIA,
	                    .seq = (uint16_t)(s->seq0 + (is_permit ? 0 : i)),
	                    .ts = s->ts0 + (is_permit ? 0 : i * (uint32_t)s->payload),
	                    .ssrc = s->ssrc,
	                    .marker = is_permit || i == 0};
	const void *p = permit;
	size_t plen = sizeof(permit) - 1;
	if (!is_permit) {
		uint32_t x = (s->ssrc ^ (i * 0x9E3779B9u)) | 1;
		for (size_t k = 0; k < s->payload; k++)
			payload[k] = (uint8_t)(next(&x) >> 24);
		p = payload;
		plen = s->payload;
	}
	return framed ? rtp_frame_encode(buf, cap, &h, p, plen, len)
	              : rtp_packet_encode(buf, cap, &h, p, plen, len);
}

int fed_av_packet(const struct fed_av_stream *s, uint32_t i, uint8_t *buf, size_t cap, size_t *len)
{
	return build(s, i, false, buf, cap, len);
}

int fed_av_packet_framed(const struct fed_av_stream *s, uint32_t i, uint8_t *buf, size_t cap,
                         size_t *len)
{
	return build(s, i, true, buf, cap, len);
}

/* Whether buf is exactly packet i of s. */
static bool is_packet(const struct fed_av_stream *s, uint32_t i, const uint8_t *buf, size_t len)
{
	uint8_t want[FED_AV_PKT_MAX];
	size_t want_len;
	return !fed_av_packet(s, i, want, sizeof(want), &want_len) && want_len == len &&
	       memcmp(want, buf, len) == 0;
}

void fed_av_classify_rtp(const struct fed_av_stream *s, const uint8_t *buf, size_t len,
                         struct fed_av_datagram *d)
{
	struct rtp_hdr h;
	const uint8_t *payload;
	size_t plen;
	d->kind = FED_AV_KIND_CORRUPT;
	if (rtp_packet_decode(buf, len, &h, &payload, &plen) || h.ssrc != s->ssrc)
		return;
	uint32_t i = (uint16_t)(h.seq - s->seq0);
	if (h.pt == FED_AV_PT_PERMIT && is_packet(s, FED_AV_PERMIT_INDEX, buf, len))
		d->kind = FED_AV_KIND_PERMIT;
	else if (h.pt == FED_AV_PT_MEDIA && i < s->packets && is_packet(s, i, buf, len)) {
		d->kind = FED_AV_KIND_MEDIA;
		d->index = i;
	}
}

/* What the far edge sends us: its answers, or the far client's permit. */
static void classify_from_far_edge(const struct fed_av_expect *e, const uint8_t *buf, size_t len,
                                   struct fed_av_datagram *d)
{
	if (stun_is_message(buf, len) && !stun_msg_decode(&d->msg, buf, len)) {
		d->kind = FED_AV_KIND_STUN;
		return;
	}
	d->kind = is_packet(e->in, FED_AV_PERMIT_INDEX, buf, len) ? FED_AV_KIND_PERMIT
	                                                          : FED_AV_KIND_OTHER;
}

void fed_av_classify(const struct fed_av_expect *e, const uint8_t *buf, size_t len,
                     struct fed_av_datagram *d)
{
	struct sockaddr_storage remote;
	const uint8_t *data;
	size_t data_len;
	d->kind = FED_AV_KIND_OTHER;
	if (!stun_is_message(buf, len) || stun_msg_decode(&d->msg, buf, len)) {
		if (is_packet(e->in, FED_AV_PERMIT_INDEX, buf, len))
			d->kind = FED_AV_KIND_PERMIT;
		return;
	}
	int rc = msturn_data_indication(&d->msg, &remote, &data, &data_len);
	if (rc == ENOENT) {
		d->kind = FED_AV_KIND_STUN;
		return;
	}
	if (rc)
		return;
	if (addr_equal((struct sockaddr *)&remote, (struct sockaddr *)&e->media_from))
		fed_av_classify_rtp(e->in, data, data_len, d);
	else if (addr_equal((struct sockaddr *)&remote, (struct sockaddr *)&e->far_edge))
		classify_from_far_edge(e, data, data_len, d);
}
