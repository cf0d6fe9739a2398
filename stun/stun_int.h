/* Private helpers shared by the STUN codec's files; not part of the contract
 * (stun/stun.h is). Big-endian accessors and the per-dialect MAC. */
#ifndef EDGELAB_STUN_STUN_INT_H
#define EDGELAB_STUN_STUN_INT_H

#include "stun/stun.h"

#define STUN_ATTR_HDR_LEN    4
#define STUN_MAC_SHA1_LEN    20
#define STUN_MAC_SHA256_LEN  32
#define STUN_FINGERPRINT_XOR 0x5354554Eu /* RFC 5389 section 15.5 */

static inline uint16_t stun_get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t stun_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void stun_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void stun_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Bytes an attribute value occupies on the wire: RFC 5389 section 15 and
 * RFC 3489 section 11.2 pad to 4, MS-TURN does not pad at all. */
static inline size_t stun_wire_len(enum stun_dialect d, size_t len)
{
	return d == STUN_DIALECT_MSTURN ? len : (len + 3) & ~(size_t)3;
}

/* The MAC of the message in buf whose integrity attribute header starts at
 * mi_off, with len_field hashed in place of the header length; classic and
 * MS-TURN zero-pad the input to a multiple of 64 bytes (RFC 3489 section
 * 11.2.8). out receives 20 (SHA-1) or 32 (SHA-256) bytes. */
int stun_mac_compute(enum stun_dialect d, enum stun_mac mac, const uint8_t *buf, size_t mi_off,
                     uint16_t len_field, const uint8_t *key, size_t key_len,
                     uint8_t out[STUN_MAC_SHA256_LEN]);

/* CRC-32 of len bytes XOR 0x5354554E (RFC 5389 section 15.5). */
uint32_t stun_fingerprint_compute(const uint8_t *buf, size_t len);

#endif
