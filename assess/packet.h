/* A call's packet: RTP (RFC 3550) as 20 ms of audio, payload type 0, the
 * timestamp stepping 160 a packet, with what the caller needs to read it
 * back in the payload's first ASSESS_PKT_TAG_LEN bytes: "ELAS", the call,
 * the packet's index (RTP's sequence number is its low 16 bits) and its
 * send time. The rest of the payload is filler, so that the datagram is
 * as big as the codec's. The reflector returns the bytes as they came.
 * Pure functions over buffers. */
#ifndef EDGELAB_ASSESS_PACKET_H
#define EDGELAB_ASSESS_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define ASSESS_PKT_TAG_LEN 20 /* "ELAS", call, index, send time */
#define ASSESS_PKT_MIN     (12 + ASSESS_PKT_TAG_LEN)
#define ASSESS_PKT_MAX     1200 /* a relayed datagram that needs no fragment */
#define ASSESS_PKT_DEFAULT 172  /* 12 of RTP, 160 of G.711 for 20 ms */

struct assess_pkt {
	uint32_t call;   /* the call's number; also its SSRC */
	uint32_t index;  /* the packet's, from 0 */
	int64_t sent_us; /* on the caller's clock */
};

/* A packet of size bytes (ASSESS_PKT_MIN..ASSESS_PKT_MAX) into buf: 0, or
 * EINVAL on a size out of bounds, ENOSPC when cap is below size. */
int assess_pkt_encode(const struct assess_pkt *p, size_t size, uint8_t *buf, size_t cap);
/* What came back: 0 with *p, or EBADMSG when buf is not one of ours (not
 * RTP version 2, no tag, or a sequence number that is not the index's). */
int assess_pkt_decode(const uint8_t *buf, size_t len, struct assess_pkt *p);

/* Over a TCP relay (MS-TURN's allocations over TCP relay over TCP) the
 * packets go as a byte stream, which reads cut anywhere: each is framed by
 * RFC 4571, its 16-bit length then the packet, as ICE-TCP frames RTP. */
#define ASSESS_FRAME_HDR 2
#define ASSESS_FRAME_MAX (ASSESS_FRAME_HDR + ASSESS_PKT_MAX)

/* The packet framed into buf: 0 and *len, EINVAL or ENOSPC as
 * assess_pkt_encode. */
int assess_frame_encode(const struct assess_pkt *p, size_t size, uint8_t *buf, size_t cap,
                        size_t *len);
/* The frame at the head of buf[0..len) (a stream's unread bytes): 0 with
 * *frame_len when all of it is there, EAGAIN when not yet, EBADMSG when its
 * length is not a call's packet's (ASSESS_PKT_MIN..ASSESS_PKT_MAX): the
 * stream is not ours, or out of step, and is given up. What it holds is
 * the packet's to say (assess_pkt_decode on buf + ASSESS_FRAME_HDR). */
int assess_frame_next(const uint8_t *buf, size_t len, size_t *frame_len);
/* The first frame in buf[0..len) that holds a packet of call's: 0 with
 * *skip, the bytes before it, and *frame_len; EAGAIN with *skip, the bytes
 * that can go, when none is whole yet (what follows them may start one).
 * A call reading a stream drains the skipped bytes, so that a stream out
 * of step (the relay's connection to the reflector lost mid-frame and made
 * again) comes back in step at the next frame; what it skips is lost. */
int assess_frame_find(const uint8_t *buf, size_t len, uint32_t call, size_t *skip,
                      size_t *frame_len);

#endif
