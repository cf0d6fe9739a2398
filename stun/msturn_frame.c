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

/* The pseudo-TLS records are fixed bytes around random ones: each piece
 * below sits at its offset, whatever lies between may be anything. */
struct fixed {
	size_t at;
	const uint8_t *bytes;
	size_t len;
};

/* 1 when buf[0..len) is the whole record of total bytes with every fixed
 * piece right, 0 when right so far but short, -1 when a piece is wrong. */
static int fixed_check(const uint8_t *buf, size_t len, const struct fixed *f, size_t n,
                       size_t total)
{
	for (size_t i = 0; i < n && len > f[i].at; i++) {
		size_t m = len - f[i].at < f[i].len ? len - f[i].at : f[i].len;
		if (memcmp(buf + f[i].at, f[i].bytes, m) != 0)
			return -1;
	}
	return len >= total ? 1 : 0;
}

/* The ClientHello Lync clients and libnice send: a TLS 1.0 record with a
 * 41-byte ClientHello, 32 random bytes, no session id, one cipher suite
 * (0x0018) and null compression. The random (offset 11) may be anything. */
static const uint8_t hello_head[] = {0x16, 0x03, 0x01, 0x00, 0x2d, 0x01,
                                     0x00, 0x00, 0x29, 0x03, 0x01};
static const uint8_t hello_tail[] = {0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00};
#define HELLO_RANDOM 32
static const struct fixed hello_fixed[] = {
    {0, hello_head, sizeof(hello_head)},
    {sizeof(hello_head) + HELLO_RANDOM, hello_tail, sizeof(hello_tail)}};

/* ServerHello (version 3.1, random, a 32-byte session id, suite 0x0018,
 * null compression) and ServerHelloDone, in one record written at once:
 * libnice reads exactly these 83 bytes and compares all but the random and
 * the session id. */
static const uint8_t reply_head[] = {0x16, 0x03, 0x01, 0x00, 0x4e, 0x02,
                                     0x00, 0x00, 0x46, 0x03, 0x01};
static const uint8_t reply_sid_len[] = {0x20};
static const uint8_t reply_tail[] = {0x00, 0x18, 0x00, 0x0e, 0x00, 0x00, 0x00};
#define REPLY_SID_AT  (sizeof(reply_head) + 32)
#define REPLY_TAIL_AT (REPLY_SID_AT + 1 + 32)
static const struct fixed reply_fixed[] = {{0, reply_head, sizeof(reply_head)},
                                           {REPLY_SID_AT, reply_sid_len, 1},
                                           {REPLY_TAIL_AT, reply_tail, sizeof(reply_tail)}};

int pseudo_tls_hello_check(const uint8_t *buf, size_t len)
{
	return fixed_check(buf, len, hello_fixed, sizeof(hello_fixed) / sizeof(*hello_fixed),
	                   PSEUDO_TLS_HELLO_LEN);
}

void pseudo_tls_reply(uint8_t out[PSEUDO_TLS_REPLY_LEN])
{
	RAND_bytes(out, PSEUDO_TLS_REPLY_LEN); /* the random and the session id */
	for (size_t i = 0; i < sizeof(reply_fixed) / sizeof(*reply_fixed); i++)
		memcpy(out + reply_fixed[i].at, reply_fixed[i].bytes, reply_fixed[i].len);
}

void pseudo_tls_hello(uint8_t out[PSEUDO_TLS_HELLO_LEN])
{
	RAND_bytes(out, PSEUDO_TLS_HELLO_LEN); /* the random */
	for (size_t i = 0; i < sizeof(hello_fixed) / sizeof(*hello_fixed); i++)
		memcpy(out + hello_fixed[i].at, hello_fixed[i].bytes, hello_fixed[i].len);
}

int pseudo_tls_reply_check(const uint8_t *buf, size_t len)
{
	return fixed_check(buf, len, reply_fixed, sizeof(reply_fixed) / sizeof(*reply_fixed),
	                   PSEUDO_TLS_REPLY_LEN);
}
