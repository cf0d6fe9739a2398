/* Internals of probe/fed_av.c, pure functions over buffers that the unit
 * test and the fuzz target reach too: the RTP streams with the
 * classification of whatever reaches a client's socket (fed_av_media.c);
 * the TCP variant's streams: probe/fed_av_tcp_int.h. No I/O, no logging,
 * no allocation. Private to probe/. */
#ifndef EDGELAB_PROBE_FED_AV_INT_H
#define EDGELAB_PROBE_FED_AV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media/rtp.h"
#include "probe/fed_av.h"
#include "stun/msturn_client.h"
#include "stun/stun.h"

/* --- RTP streams and what reaches a client ------------------------------- */

#define FED_AV_PT_MEDIA  0   /* PCMU: the packets counted */
#define FED_AV_PT_PERMIT 127 /* the one packet that opens a permission */
#define FED_AV_PKT_MAX   (RTP_HDR_LEN + FED_AV_MAX_PAYLOAD)

/* One direction's stream: what the sender sends and the receiver expects.
 * Packet i has sequence seq0 + i, timestamp ts0 + i * payload (8 kHz, one
 * byte a sample) and a payload of bytes drawn from (ssrc, i), so that any
 * change to any byte shows. */
struct fed_av_stream {
	uint32_t ssrc;
	uint16_t seq0;
	uint32_t ts0;
	size_t payload;
	unsigned packets;
};

#define FED_AV_PERMIT_INDEX UINT32_MAX

/* Packet i of s (i < s->packets), or with FED_AV_PERMIT_INDEX the permit
 * packet (its own payload type, the stream's SSRC). 0 and *len, or
 * media/rtp.h's errors. */
int fed_av_packet(const struct fed_av_stream *s, uint32_t i, uint8_t *buf, size_t cap, size_t *len);
/* The same packet framed for a stream by RFC 4571 (its length first). */
int fed_av_packet_framed(const struct fed_av_stream *s, uint32_t i, uint8_t *buf, size_t cap,
                         size_t *len);

/* What a client expects on its socket, all of it from its own edge. */
struct fed_av_expect {
	const struct fed_av_stream *in; /* the stream it receives */
	/* The far client's inner allocation on our edge: media comes from it,
	 * in Data indications (our allocation's active destination is the far
	 * edge). */
	struct sockaddr_storage media_from;
	/* The far edge's 3478 as our edge's relay reaches it: what it sends
	 * comes raw (our active destination), or before that in Data
	 * indications from it. */
	struct sockaddr_storage far_edge;
};

enum fed_av_kind {
	FED_AV_KIND_OTHER,   /* none of ours: a stray */
	FED_AV_KIND_STUN,    /* a STUN message to match by transaction id (msg) */
	FED_AV_KIND_PERMIT,  /* the far client's permit packet, by the far edge */
	FED_AV_KIND_MEDIA,   /* packet index of the stream, intact */
	FED_AV_KIND_CORRUPT, /* by the media's way, but no packet of the stream */
};

struct fed_av_datagram {
	enum fed_av_kind kind;
	uint32_t index;      /* MEDIA */
	struct stun_msg msg; /* STUN: points into the datagram (or the DATA in it) */
};

/* Classifies one datagram of len bytes from our edge:
 *   - a Data indication from media_from: MEDIA (the exact bytes of one
 *     packet of e->in), PERMIT, or else CORRUPT;
 *   - a Data indication from far_edge is read as its DATA would be raw;
 *   - another Data indication: OTHER;
 *   - any other STUN message: STUN (an answer from our edge, or one from the
 *     far edge relayed raw: the transaction id tells);
 *   - not STUN: PERMIT when it is e->in's permit packet, else OTHER. */
void fed_av_classify(const struct fed_av_expect *e, const uint8_t *buf, size_t len,
                     struct fed_av_datagram *d);
/* One RTP packet of len bytes by the media's way (from the far client's
 * inner allocation): MEDIA (index set), PERMIT, or CORRUPT. */
void fed_av_classify_rtp(const struct fed_av_stream *s, const uint8_t *buf, size_t len,
                         struct fed_av_datagram *d);

#endif
