/* The federation A/V test's TCP variant, its pure parts (probe/fed_av.h,
 * docs/federation-av.md), which the unit test and the fuzz target reach
 * too: the frames a client writes, nested for the inner layer
 * (fed_av_tcp_frame.c), and the reading of what reaches it, a byte stream
 * inside a byte stream (fed_av_tcp_stream.c). No I/O, no logging, no
 * allocation. Private to probe/. */
#ifndef EDGELAB_PROBE_FED_AV_TCP_INT_H
#define EDGELAB_PROBE_FED_AV_TCP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/fed_av_int.h"
#include "stun/msturn_frame.h"

/* --- writing ---------------------------------------------------------------- */

/* in inside depth MS-TURN frames, types[0] the outermost: {0x03, 0x02} is
 * a control message for the far edge in a data frame for our own edge's
 * active destination. 0, EINVAL (a type neither), EMSGSIZE (a frame's payload over its bound:
 * STUN_MAX_MSG_LEN for control, MSTURN_DATA_MAX for data; or empty) or
 * ENOSPC. */
int fed_av_tcp_wrap(const uint8_t *types, size_t depth, const uint8_t *in, size_t len, uint8_t *out,
                    size_t cap, size_t *out_len);

/* --- reading ---------------------------------------------------------------- */

/* Room for the longest frame there is. */
#define FED_AV_TCP_BUF (MSTURN_FRAME_HDR + MSTURN_DATA_MAX)

/* One byte stream being cut into frames. */
struct fed_av_tcp_bytes {
	uint8_t buf[FED_AV_TCP_BUF];
	size_t start, end; /* buf[start..end): what is not cut yet */
	size_t skip;       /* RFC 4571: what is left of a frame too long to be ours */
	bool lost;         /* the framing is broken: nothing more is read */
};

enum fed_av_tcp_reply {
	FED_AV_TCP_REPLY_WAIT, /* not all 83 bytes yet */
	FED_AV_TCP_REPLY_OK,
	FED_AV_TCP_REPLY_BAD, /* not the pseudo-TLS reply: the stream is lost */
};

/* What reaches a client over TCP, layer by layer:
 *   own:    its connection: its edge's pseudo-TLS reply, then MS-TURN frames:
 *           0x02 the edge's answers and Data indications, 0x03 raw data from
 *           its allocation's active destination, the far edge's listener;
 *   far:    those 0x03 payloads end to end, the far edge's stream (or DATA of
 *           Data indications from that listener): its reply to our hello,
 *           then inner frames: 0x02 its answers, 0x03 raw data from our inner
 *           allocation's active destination, the far client's allocation;
 *   permit: those inner 0x03 payloads end to end: RFC 4571 frames, the far
 *           client's permits;
 *   media:  the DATA of Data indications from the far client's inner
 *           allocation end to end: RFC 4571 frames, the far client's RTP.
 * Each stream is cut wherever the relays' reads fell. */
struct fed_av_tcp_rx {
	enum fed_av_tcp_reply own_reply, far_reply;
	struct fed_av_tcp_bytes own, far, permit, media;
};

/* Called for everything found: STUN (an answer of either layer: the
 * transaction id tells whose), PERMIT, MEDIA, CORRUPT (media, but no packet
 * of the stream) or OTHER (a stray). d and the message in it are good for
 * the call only. */
typedef void fed_av_sink(void *arg, const struct fed_av_datagram *d);

void fed_av_tcp_rx_init(struct fed_av_tcp_rx *rx);

/* Reads len more bytes of the connection to the own edge; e as for
 * fed_av_classify (media_from, far_edge, in). Broken framing sets a
 * stream's lost (a wrong reply: its reply BAD), and that stream is read no
 * further. */
void fed_av_tcp_read(struct fed_av_tcp_rx *rx, const struct fed_av_expect *e, const uint8_t *data,
                     size_t len, fed_av_sink *sink, void *arg);

/* Reads len more bytes of an RFC 4571 stream b of s's packets: media
 * (MEDIA, PERMIT, or CORRUPT for any other frame) or the permit stream
 * (PERMIT, or OTHER). A frame longer than any packet of ours is passed over
 * as it comes, never held. */
void fed_av_tcp_rtp_read(struct fed_av_tcp_bytes *b, const struct fed_av_stream *s, bool media,
                         const uint8_t *data, size_t len, fed_av_sink *sink, void *arg);

#endif
