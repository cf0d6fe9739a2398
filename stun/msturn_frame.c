#include "stun/msturn_frame.h"

#include <openssl/rand.h>
#include <string.h>

#include "stun/stun.h"

long msturn_frame_parse(const uint8_t *buf, size_t len, uint8_t *type, size_t *payload_len)
{
	if (len >= 1 && buf[0] != MSTURN_FRAME_CONTROL && buf[0] != MSTURN_FRAME_DATA)
		return -1;
	if (len >= 2 && buf[1] != 0)
		return -1;
	if (len < MSTURN_FRAME_HDR)
		return 0;
	size_t n = (size_t)(buf[2] << 8 | buf[3]);
	size_t max = buf[0] == MSTURN_FRAME_CONTROL ? STUN_MAX_MSG_LEN : MSTURN_DATA_MAX;
	if (n == 0 || n > max)
		return -1;
	*type = buf[0];
	*payload_len = n;
	return (long)(MSTURN_FRAME_HDR + n);
}

void msturn_frame_header(uint8_t hdr[MSTURN_FRAME_HDR], uint8_t type, size_t len)
{
	hdr[0] = type;
	hdr[1] = 0;
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

/* The ClientHello Lync clients and libnice send: a TLS 1.0 record with a
 * 41-byte ClientHello, 32 random bytes, no session id, one cipher suite
 * (0x0018) and null compression. The random (offset 11) may be anything. */
static const uint8_t hello_head[] = {0x16, 0x03, 0x01, 0x00, 0x2d, 0x01,
                                     0x00, 0x00, 0x29, 0x03, 0x01};
static const uint8_t hello_tail[] = {0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00};
#define HELLO_RANDOM 32

int pseudo_tls_hello_check(const uint8_t *buf, size_t len)
{
	size_t head = sizeof(hello_head), tail_at = head + HELLO_RANDOM;
	size_t n = len < head ? len : head;
	if (memcmp(buf, hello_head, n) != 0)
		return -1;
	if (len > tail_at) {
		size_t m = len - tail_at;
		if (m > sizeof(hello_tail))
			m = sizeof(hello_tail);
		if (memcmp(buf + tail_at, hello_tail, m) != 0)
			return -1;
	}
	return len >= PSEUDO_TLS_HELLO_LEN ? 1 : 0;
}

void pseudo_tls_reply(uint8_t out[PSEUDO_TLS_REPLY_LEN])
{
	/* ServerHello (version 3.1, random, a 32-byte session id, suite 0x0018,
	 * null compression) and ServerHelloDone, in one record written at once:
	 * libnice reads exactly these 83 bytes and compares all but the random
	 * and the session id. */
	static const uint8_t head[] = {0x16, 0x03, 0x01, 0x00, 0x4e, 0x02,
	                               0x00, 0x00, 0x46, 0x03, 0x01};
	static const uint8_t tail[] = {0x00, 0x18, 0x00, 0x0e, 0x00, 0x00, 0x00};
	uint8_t *p = out;
	memcpy(p, head, sizeof(head));
	p += sizeof(head);
	RAND_bytes(p, 32); /* random */
	p += 32;
	*p++ = 0x20; /* session id length */
	RAND_bytes(p, 32);
	p += 32;
	memcpy(p, tail, sizeof(tail));
}
