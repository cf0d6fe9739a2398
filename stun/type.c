/* Message types and dialects: the bit layout of RFC 5389 section 6 and the
 * dialect test of docs/msturn.md ("Telling the dialects apart"). */
#include "stun/stun_int.h"

#include <string.h>

/* RFC 5389 section 6: the class bits C1 and C0 sit at bits 8 and 4 of the
 * type, the twelve method bits fill the rest (M11..M7, M6..M4, M3..M0). */
uint16_t stun_type(uint16_t method, enum stun_class cls)
{
	unsigned m = method & 0xFFFu;
	unsigned c = (unsigned)cls & 3u;

	return (uint16_t)((m & 0x00Fu) | (m & 0x070u) << 1 | (m & 0xF80u) << 2 | (c & 1u) << 4 |
	                  (c & 2u) << 7);
}

uint16_t stun_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000Fu) | (type & 0x00E0u) >> 1 | (type & 0x3E00u) >> 2);
}

enum stun_class stun_type_class(uint16_t type)
{
	return (enum stun_class)((type >> 4 & 1u) | (type >> 7 & 2u));
}

static bool stun_has_msturn_cookie(const uint8_t *buf, size_t len)
{
	static const uint8_t cookie_attr[8] = {0x00, 0x0F, 0x00, 0x04, 0x72, 0xC6, 0x4B, 0xC6};

	return len >= STUN_HDR_LEN + sizeof(cookie_attr) &&
	       memcmp(buf + STUN_HDR_LEN, cookie_attr, sizeof(cookie_attr)) == 0;
}

/* MS-TURN first: Teams and Microsoft's relays put the RFC 5389 cookie in the
 * header too, so only the MAGIC-COOKIE attribute tells them apart. */
enum stun_dialect stun_dialect_detect(const uint8_t *buf, size_t len)
{
	if (stun_has_msturn_cookie(buf, len))
		return STUN_DIALECT_MSTURN;
	if (len >= 8 && stun_get32(buf + 4) == STUN_MAGIC_COOKIE)
		return STUN_DIALECT_RFC5389;
	return STUN_DIALECT_CLASSIC;
}

const char *stun_dialect_name(enum stun_dialect d)
{
	switch (d) {
	case STUN_DIALECT_RFC5389:
		return "rfc5389";
	case STUN_DIALECT_CLASSIC:
		return "classic";
	case STUN_DIALECT_MSTURN:
		return "msturn";
	}
	return "unknown";
}

/* The first two bits are zero in every dialect (RFC 5389 section 6), which
 * sets STUN apart from ChannelData (RFC 5766 section 11.4: 0x4000-0x7FFF) and
 * from MS-TURN's multiplexed frames (0xFF10). */
bool stun_is_message(const uint8_t *buf, size_t len)
{
	size_t body;

	if (buf == NULL || len < STUN_HDR_LEN || (buf[0] & 0xC0) != 0)
		return false;
	body = stun_get16(buf + 2);
	if (STUN_HDR_LEN + body > len || STUN_HDR_LEN + body > STUN_MAX_MSG_LEN)
		return false;
	if (body % 4 != 0 && stun_dialect_detect(buf, STUN_HDR_LEN + body) != STUN_DIALECT_MSTURN)
		return false;
	return true;
}
