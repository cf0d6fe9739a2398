/* MS-TURN over TCP (docs/msturn.md "TCP and port 443"): every message
 * on the stream is framed type(1) 0x00 length(2), type 0x02 for a TURN
 * control message and 0x03 for end-to-end data; on the A/V edge's 443 a
 * fixed pseudo-TLS exchange (no real TLS) comes first. Pure functions on
 * bytes, so that the stream parser is unit-tested and fuzzed on its own. */
#ifndef EDGELAB_STUN_MSTURN_FRAME_H
#define EDGELAB_STUN_MSTURN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define MSTURN_FRAME_HDR     4
#define MSTURN_FRAME_CONTROL 0x02
#define MSTURN_FRAME_DATA    0x03
/* Bounds on a frame's payload: a control message is a STUN message
 * (STUN_MAX_MSG_LEN); data is media (RTP, ICE checks), far below this. */
#define MSTURN_DATA_MAX 8192

#define PSEUDO_TLS_HELLO_LEN 50 /* the client's ClientHello record */
#define PSEUDO_TLS_REPLY_LEN 83 /* ServerHello + ServerHelloDone, one record */

/* The frame header at the head of buf[0..len): its type and payload length;
 * returns the frame's whole length (header and payload, which may not all
 * be there yet); 0 when the header is short; -1 when it is not MS-TURN
 * framing or the length is over the bound (the stream is lost: the caller
 * closes it). */
long msturn_frame_parse(const uint8_t *buf, size_t len, uint8_t *type, size_t *payload_len);
/* Writes a frame header for a payload of len bytes (len <= 0xFFFF). */
void msturn_frame_header(uint8_t hdr[MSTURN_FRAME_HDR], uint8_t type, size_t len);

/* Whether buf[0..len) starts the client's pseudo-TLS ClientHello: 1 when
 * the whole hello is there and right, 0 when it is right so far but short,
 * -1 when it is not the hello. */
int pseudo_tls_hello_check(const uint8_t *buf, size_t len);
/* The server's answer: fixed bytes with a fresh random and session id. */
void pseudo_tls_reply(uint8_t out[PSEUDO_TLS_REPLY_LEN]);

/* The client's halves (the federation A/V test's TCP variant): the
 * ClientHello with a fresh random, and whether buf[0..len) starts the
 * server's answer: 1 when all 83 bytes are there and right (all but the
 * random and the session id compared, as libnice does), 0 when right so far
 * but short, -1 when it is not the answer. */
void pseudo_tls_hello(uint8_t out[PSEUDO_TLS_HELLO_LEN]);
int pseudo_tls_reply_check(const uint8_t *buf, size_t len);

#endif
