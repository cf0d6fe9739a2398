/* What reaches a client of the federation A/V test's TCP variant, read
 * layer by layer (probe/fed_av_tcp_int.h): each layer's stream is
 * reassembled in a bounded buffer of its own and cut into frames, whose
 * payloads feed the next layer's stream. */
#include <errno.h>
#include <string.h>

#include "core/addr.h"
#include "probe/fed_av_tcp_int.h"

/* Cuts what b holds into frames, handing each on; sets b->lost when the
 * framing is broken. */
typedef void cut_fn(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                    struct fed_av_tcp_bytes *b, fed_av_sink *sink, void *arg);

/* Appends what fits of data to b: how much. */
static size_t put(struct fed_av_tcp_bytes *b, const uint8_t *data, size_t len)
{
	if (b->start) {
		memmove(b->buf, b->buf + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	size_t room = sizeof(b->buf) - b->end;
	size_t n = len < room ? len : room;
	memcpy(b->buf + b->end, data, n);
	b->end += n;
	return n;
}

/* Every frame held is cut before more is put, and a frame fits in the
 * buffer whole, so put always takes something; if not, the stream is lost
 * rather than the loop endless. */
static void feed(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                 struct fed_av_tcp_bytes *b, cut_fn *cut, const uint8_t *data, size_t len,
                 fed_av_sink *sink, void *arg)
{
	while (len && !b->lost) {
		size_t n = put(b, data, len);
		if (!n) {
			b->lost = true;
			break;
		}
		data += n;
		len -= n;
		cut(rx, e, b, sink, arg);
	}
}

static void other(fed_av_sink *sink, void *arg)
{
	struct fed_av_datagram d = {.kind = FED_AV_KIND_OTHER};
	sink(arg, &d);
}

/* --- RFC 4571 ------------------------------------------------------------------ */

static void cut_rtp(const struct fed_av_stream *s, bool media, struct fed_av_tcp_bytes *b,
                    fed_av_sink *sink, void *arg)
{
	struct fed_av_datagram d;
	for (;;) {
		size_t have = b->end - b->start;
		if (b->skip) {
			size_t k = b->skip < have ? b->skip : have;
			b->start += k;
			b->skip -= k;
			if (b->skip)
				return;
			continue;
		}
		if (have < RTP_FRAME_HDR_LEN)
			return;
		size_t n = (size_t)(b->buf[b->start] << 8 | b->buf[b->start + 1]);
		if (!n || n > FED_AV_PKT_MAX) {
			/* No packet of ours: passed over as it comes. */
			b->start += RTP_FRAME_HDR_LEN;
			b->skip = n;
			d.kind = media ? FED_AV_KIND_CORRUPT : FED_AV_KIND_OTHER;
			sink(arg, &d);
			continue;
		}
		if (have < RTP_FRAME_HDR_LEN + n)
			return;
		const uint8_t *pkt = b->buf + b->start + RTP_FRAME_HDR_LEN;
		b->start += RTP_FRAME_HDR_LEN + n;
		fed_av_classify_rtp(s, pkt, n, &d);
		if (!media && d.kind != FED_AV_KIND_PERMIT)
			d.kind = FED_AV_KIND_OTHER;
		sink(arg, &d);
	}
}

static void cut_media(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                      struct fed_av_tcp_bytes *b, fed_av_sink *sink, void *arg)
{
	(void)rx;
	cut_rtp(e->in, true, b, sink, arg);
}

static void cut_permit(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                       struct fed_av_tcp_bytes *b, fed_av_sink *sink, void *arg)
{
	(void)rx;
	cut_rtp(e->in, false, b, sink, arg);
}

void fed_av_tcp_rtp_read(struct fed_av_tcp_bytes *b, const struct fed_av_stream *s, bool media,
                         const uint8_t *data, size_t len, fed_av_sink *sink, void *arg)
{
	struct fed_av_expect e = {.in = s};
	feed(NULL, &e, b, media ? cut_media : cut_permit, data, len, sink, arg);
}

/* --- MS-TURN frames ------------------------------------------------------------ */

/* The pseudo-TLS reply at the head of b, once: whether it has come. */
static bool replied(struct fed_av_tcp_bytes *b, enum fed_av_tcp_reply *state)
{
	if (*state == FED_AV_TCP_REPLY_WAIT) {
		int rc = pseudo_tls_reply_check(b->buf + b->start, b->end - b->start);
		if (rc < 0) {
			*state = FED_AV_TCP_REPLY_BAD;
			b->lost = true;
		} else if (rc > 0) {
			*state = FED_AV_TCP_REPLY_OK;
			b->start += PSEUDO_TLS_REPLY_LEN;
		}
	}
	return *state == FED_AV_TCP_REPLY_OK;
}

typedef void frame_fn(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e, uint8_t type,
                      const uint8_t *payload, size_t len, fed_av_sink *sink, void *arg);

/* The frames b holds after its reply, each to on. */
static void cut_frames(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                       struct fed_av_tcp_bytes *b, enum fed_av_tcp_reply *reply, frame_fn *on,
                       fed_av_sink *sink, void *arg)
{
	uint8_t type;
	size_t plen;
	while (replied(b, reply)) {
		long n = msturn_frame_parse(b->buf + b->start, b->end - b->start, &type, &plen);
		if (n < 0)
			b->lost = true;
		if (n <= 0 || (size_t)n > b->end - b->start)
			return;
		const uint8_t *payload = b->buf + b->start + MSTURN_FRAME_HDR;
		b->start += (size_t)n; /* payload stays put until the next put */
		on(rx, e, type, payload, plen, sink, arg);
	}
}

static void cut_far(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                    struct fed_av_tcp_bytes *b, fed_av_sink *sink, void *arg);

/* A frame of the far edge's stream: its answers (a Data indication there
 * would be from a peer our inner allocation was never told of), and
 * what its active destination, the far client's allocation, sent. */
static void far_frame(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e, uint8_t type,
                      const uint8_t *payload, size_t len, fed_av_sink *sink, void *arg)
{
	struct fed_av_datagram d = {.kind = FED_AV_KIND_STUN};
	if (type == MSTURN_FRAME_DATA)
		feed(rx, e, &rx->permit, cut_permit, payload, len, sink, arg);
	else if (!stun_is_message(payload, len) || stun_msg_decode(&d.msg, payload, len) ||
	         d.msg.type == STUN_MSTURN_TYPE_DATA_INDICATION)
		other(sink, arg);
	else
		sink(arg, &d);
}

static void cut_far(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                    struct fed_av_tcp_bytes *b, fed_av_sink *sink, void *arg)
{
	cut_frames(rx, e, b, &rx->far_reply, far_frame, sink, arg);
}

/* A frame of our own edge's: its answers, Data indications (media from the
 * far client's inner allocation; the far edge's stream before our
 * allocation's active destination was set), and raw data from the active
 * destination, the far edge's stream. */
static void own_frame(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e, uint8_t type,
                      const uint8_t *payload, size_t len, fed_av_sink *sink, void *arg)
{
	struct fed_av_datagram d = {.kind = FED_AV_KIND_STUN};
	struct sockaddr_storage remote;
	const uint8_t *data;
	size_t data_len;
	if (type == MSTURN_FRAME_DATA) {
		feed(rx, e, &rx->far, cut_far, payload, len, sink, arg);
		return;
	}
	if (!stun_is_message(payload, len) || stun_msg_decode(&d.msg, payload, len)) {
		other(sink, arg);
		return;
	}
	int rc = msturn_data_indication(&d.msg, &remote, &data, &data_len);
	if (rc == ENOENT)
		sink(arg, &d);
	else if (!rc && addr_equal((struct sockaddr *)&remote, (struct sockaddr *)&e->media_from))
		feed(rx, e, &rx->media, cut_media, data, data_len, sink, arg);
	else if (!rc && addr_equal((struct sockaddr *)&remote, (struct sockaddr *)&e->far_edge))
		feed(rx, e, &rx->far, cut_far, data, data_len, sink, arg);
	else
		other(sink, arg);
}

static void cut_own(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e,
                    struct fed_av_tcp_bytes *b, fed_av_sink *sink, void *arg)
{
	cut_frames(rx, e, b, &rx->own_reply, own_frame, sink, arg);
}

void fed_av_tcp_rx_init(struct fed_av_tcp_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void fed_av_tcp_read(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e, const uint8_t *data,
                     size_t len, fed_av_sink *sink, void *arg)
{
	feed(rx, e, &rx->own, cut_own, data, len, sink, arg);
}
