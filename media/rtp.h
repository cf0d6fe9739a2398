/* RTP packets (RFC 3550 section 5.1), bare (one per datagram) or framed for
 * a TCP stream by RFC 4571: a 16-bit length in network order, then one
 * packet. Row 4 carries framed ones from the edge's relay port to the
 * client (the edge writes them and the probe reads them with this one
 * codec); the federation A/V test (probe/fed_av.h) sends bare ones over
 * UDP. Pure functions over byte buffers: no I/O, no logging, no
 * allocation. */
#ifndef EDGELAB_MEDIA_RTP_H
#define EDGELAB_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN       12
#define RTP_FRAME_HDR_LEN 2     /* RFC 4571's LENGTH field */
#define RTP_FRAME_MAX     65535 /* LENGTH is 16 bits */

struct rtp_hdr {
	bool marker;
	uint8_t pt; /* payload type, 0..127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc;     /* CSRC count (decode only; encode writes none) */
	bool extension; /* decode only */
};

/* One packet: a version-2 header with no CSRC, extension or padding, and
 * the payload. 0 and *len, ENOSPC when buf is too small, EINVAL on a payload
 * type above 127 or a payload over RTP_FRAME_MAX - RTP_HDR_LEN bytes. */
int rtp_packet_encode(uint8_t *buf, size_t cap, const struct rtp_hdr *h, const void *payload,
                      size_t payload_len, size_t *len);
/* Reads the packet of exactly len bytes at buf: 0 with the header and the
 * payload (pointing into buf, padding removed), or EBADMSG as
 * rtp_frame_decode. */
int rtp_packet_decode(const uint8_t *buf, size_t len, struct rtp_hdr *h, const uint8_t **payload,
                      size_t *payload_len);

/* Writes LENGTH, a version-2 header with no CSRC, extension or padding, and
 * the payload. 0 and *len (the whole frame), ENOSPC when buf is too small,
 * EINVAL on a payload type above 127 or a packet LENGTH cannot hold. */
int rtp_frame_encode(uint8_t *buf, size_t cap, const struct rtp_hdr *h, const void *payload,
                     size_t payload_len, size_t *len);

/* Reads the frame at the start of buf (len bytes of a stream). 0 with the
 * header, the payload (pointing into buf, padding removed) and the frame's
 * whole length; EAGAIN when the frame is not all there yet; EBADMSG when the
 * packet is not RTP version 2 or its CSRCs, extension or padding do not fit
 * in it (RFC 3550 section 5.1, 5.3.1). */
int rtp_frame_decode(const uint8_t *buf, size_t len, struct rtp_hdr *h, const uint8_t **payload,
                     size_t *payload_len, size_t *frame_len);

#endif
