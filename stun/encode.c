/* Encoding with sticky errors: the first failure is kept and every later
 * call does nothing, so a reply is built line by line and checked once. */
#include "stun/stun_int.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>

enum {
	STUN_STAGE_MI = 1,    /* MESSAGE-INTEGRITY written */
	STUN_STAGE_MI256 = 2, /* MESSAGE-INTEGRITY-SHA256 written (RFC 5389) */
	STUN_STAGE_FP = 4,    /* FINGERPRINT written: nothing may follow */
};

static void stun_enc_fail(struct stun_enc *enc, int err)
{
	if (enc->err == 0)
		enc->err = err;
}

static bool stun_dialect_valid(enum stun_dialect d)
{
	return d == STUN_DIALECT_RFC5389 || d == STUN_DIALECT_CLASSIC || d == STUN_DIALECT_MSTURN;
}

/* Appends a header and room for len value bytes (padding filled in) and
 * returns where the value goes, or NULL once an error is set. */
static uint8_t *stun_enc_reserve(struct stun_enc *enc, uint16_t type, size_t len)
{
	size_t wire = stun_wire_len(enc->dialect, len);
	uint8_t *p;

	if (enc->err != 0)
		return NULL;
	if (len > UINT16_MAX) {
		stun_enc_fail(enc, EINVAL);
		return NULL;
	}
	if (enc->cap - enc->len < STUN_ATTR_HDR_LEN + wire) {
		stun_enc_fail(enc, ENOSPC);
		return NULL;
	}
	p = enc->buf + enc->len;
	stun_put16(p, type);
	stun_put16(p + 2, (uint16_t)len);
	memset(p + STUN_ATTR_HDR_LEN + len, enc->pad, wire - len);
	enc->len += STUN_ATTR_HDR_LEN + wire;
	stun_put16(enc->buf + 2, (uint16_t)(enc->len - STUN_HDR_LEN));
	return p + STUN_ATTR_HDR_LEN;
}

static void stun_enc_raw(struct stun_enc *enc, uint16_t type, const void *val, size_t len)
{
	uint8_t *p = stun_enc_reserve(enc, type, len);

	if (p != NULL && len > 0)
		memcpy(p, val, len);
}

void stun_enc_init(struct stun_enc *enc, uint8_t *buf, size_t cap, enum stun_dialect d,
                   uint16_t type, const uint8_t tid[STUN_TID_LEN])
{
	if (enc == NULL)
		return;
	memset(enc, 0, sizeof(*enc));
	enc->buf = buf;
	/* Our own decoder refuses anything longer (STUN_MAX_MSG_LEN). */
	enc->cap = cap < STUN_MAX_MSG_LEN ? cap : STUN_MAX_MSG_LEN;
	enc->dialect = d;
	if (buf == NULL || tid == NULL || (type & 0xC000) != 0 || !stun_dialect_valid(d)) {
		enc->err = EINVAL;
		return;
	}
	if (enc->cap < STUN_HDR_LEN) {
		enc->err = ENOSPC;
		return;
	}
	stun_put16(buf, type);
	stun_put16(buf + 2, 0);
	memcpy(buf + 4, tid, STUN_TID_LEN);
	enc->len = STUN_HDR_LEN;
	if (d == STUN_DIALECT_MSTURN) /* docs/msturn.md: MAGIC-COOKIE always first */
		stun_enc_u32(enc, STUN_MSATTR_MAGIC_COOKIE, STUN_MSTURN_MAGIC_COOKIE);
}

void stun_enc_set_pad(struct stun_enc *enc, uint8_t byte)
{
	if (enc != NULL)
		enc->pad = byte;
}

/* RFC 5389 section 15.4: only FINGERPRINT (and RFC 8489's SHA-256 variant)
 * may follow MESSAGE-INTEGRITY, so a plain attribute after it is a bug. */
void stun_enc_attr(struct stun_enc *enc, uint16_t type, const void *val, size_t len)
{
	if (enc == NULL || enc->err != 0)
		return;
	if (enc->stage != 0 || (val == NULL && len > 0)) {
		stun_enc_fail(enc, EINVAL);
		return;
	}
	stun_enc_raw(enc, type, val, len);
}

void stun_enc_u32(struct stun_enc *enc, uint16_t type, uint32_t val)
{
	uint8_t v[4];

	stun_put32(v, val);
	stun_enc_attr(enc, type, v, sizeof(v));
}

/* RFC 5389 sections 15.1 and 15.2; the XOR mask is the 16 bytes after the
 * length (cookie and transaction id), all zeros for the plain form. */
static void stun_enc_addr_masked(struct stun_enc *enc, uint16_t type, const struct sockaddr *sa,
                                 const uint8_t mask[STUN_TID_LEN])
{
	uint8_t v[20] = {0};
	const uint8_t *ip;
	size_t i, iplen;
	uint16_t port;

	if (enc == NULL || enc->err != 0)
		return;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		v[1] = 0x01;
		port = ntohs(sin->sin_port);
		ip = (const uint8_t *)&sin->sin_addr;
		iplen = 4;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		v[1] = 0x02;
		port = ntohs(sin6->sin6_port);
		ip = sin6->sin6_addr.s6_addr;
		iplen = 16;
	} else {
		stun_enc_fail(enc, EINVAL);
		return;
	}
	stun_put16(v + 2, (uint16_t)(port ^ stun_get16(mask)));
	for (i = 0; i < iplen; i++)
		v[4 + i] = ip[i] ^ mask[i];
	stun_enc_attr(enc, type, v, 4 + iplen);
}

void stun_enc_addr(struct stun_enc *enc, uint16_t type, const struct sockaddr *sa)
{
	static const uint8_t zero[STUN_TID_LEN];

	stun_enc_addr_masked(enc, type, sa, zero);
}

void stun_enc_xor_addr(struct stun_enc *enc, uint16_t type, const struct sockaddr *sa)
{
	if (enc == NULL || enc->err != 0)
		return;
	stun_enc_addr_masked(enc, type, sa, enc->buf + 4);
}

/* RFC 5389 section 15.6: class in the hundreds, number below 100; RFC 5389
 * limits codes to 300-699. The reason phrase is not NUL-terminated. */
void stun_enc_error(struct stun_enc *enc, int code, const char *reason)
{
	uint8_t v[4 + 763]; /* section 15.6: fewer than 128 characters, 763 bytes */
	size_t rlen = reason != NULL ? strlen(reason) : 0;

	if (enc == NULL || enc->err != 0)
		return;
	if (code < 300 || code > 699 || rlen > sizeof(v) - 4) {
		stun_enc_fail(enc, EINVAL);
		return;
	}
	v[0] = 0;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rlen > 0)
		memcpy(v + 4, reason, rlen);
	stun_enc_attr(enc, STUN_ATTR_ERROR_CODE, v, 4 + rlen);
}

/* RFC 5389 section 15.9. RFC 3489 section 11.2.10 wants the length a
 * multiple of 4 and repeats one attribute when the count is odd. */
void stun_enc_unknown(struct stun_enc *enc, const uint16_t *types, size_t n)
{
	uint8_t v[2 * (STUN_MAX_ATTRS + 1)];
	size_t i, count = n;

	if (enc == NULL || enc->err != 0)
		return;
	if (types == NULL || n == 0 || n > STUN_MAX_ATTRS) {
		stun_enc_fail(enc, EINVAL);
		return;
	}
	for (i = 0; i < n; i++)
		stun_put16(v + 2 * i, types[i]);
	if (enc->dialect == STUN_DIALECT_CLASSIC && n % 2 != 0)
		stun_put16(v + 2 * count++, types[n - 1]);
	stun_enc_attr(enc, STUN_ATTR_UNKNOWN_ATTRIBUTES, v, 2 * count);
}

/* Which attribute and MAC length each dialect uses: RFC 5389 has a separate
 * MESSAGE-INTEGRITY-SHA256 (RFC 8489 section 14.6) that may follow the SHA-1
 * one; MS-TURN from MS-Version 3 on puts 32 bytes in MESSAGE-INTEGRITY;
 * RFC 3489 knows only SHA-1. Returns the stage bit, or 0 when not allowed. */
static uint8_t stun_enc_mac_kind(const struct stun_enc *enc, enum stun_mac mac, uint16_t *type,
                                 size_t *len)
{
	*type = STUN_ATTR_MESSAGE_INTEGRITY;
	*len = mac == STUN_MAC_SHA256 ? STUN_MAC_SHA256_LEN : STUN_MAC_SHA1_LEN;
	if (mac != STUN_MAC_SHA1 && mac != STUN_MAC_SHA256)
		return 0;
	if (enc->dialect == STUN_DIALECT_RFC5389 && mac == STUN_MAC_SHA256) {
		*type = STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
		return (enc->stage & (STUN_STAGE_MI256 | STUN_STAGE_FP)) == 0 ? STUN_STAGE_MI256
		                                                              : 0;
	}
	if (enc->dialect == STUN_DIALECT_CLASSIC && mac == STUN_MAC_SHA256)
		return 0;
	return enc->stage == 0 ? STUN_STAGE_MI : 0;
}

/* The header length already counts the integrity attribute when the MAC is
 * computed: RFC 5389 section 15.4 asks for exactly that, and in classic and
 * MS-TURN nothing follows it, so it is also the length as sent. */
void stun_enc_integrity(struct stun_enc *enc, const uint8_t *key, size_t key_len, enum stun_mac mac)
{
	uint8_t out[STUN_MAC_SHA256_LEN];
	uint16_t type;
	size_t off, len;
	uint8_t stage;
	uint8_t *p;
	int err;

	if (enc == NULL || enc->err != 0)
		return;
	stage = stun_enc_mac_kind(enc, mac, &type, &len);
	if (stage == 0 || (key == NULL && key_len > 0)) {
		stun_enc_fail(enc, EINVAL);
		return;
	}
	off = enc->len;
	p = stun_enc_reserve(enc, type, len);
	if (p == NULL)
		return;
	err = stun_mac_compute(enc->dialect, mac, enc->buf, off,
	                       (uint16_t)(enc->len - STUN_HDR_LEN), key, key_len, out);
	if (err != 0) {
		stun_enc_fail(enc, err);
		return;
	}
	memcpy(p, out, len);
	enc->stage |= stage;
}

/* RFC 5389 section 15.5. MS-TURN has no FINGERPRINT; in classic STUN it
 * would change the header length a MESSAGE-INTEGRITY before it covered. */
void stun_enc_fingerprint(struct stun_enc *enc)
{
	size_t off;
	uint8_t *p;

	if (enc == NULL || enc->err != 0)
		return;
	if (enc->dialect == STUN_DIALECT_MSTURN || (enc->stage & STUN_STAGE_FP) != 0 ||
	    (enc->dialect == STUN_DIALECT_CLASSIC && enc->stage != 0)) {
		stun_enc_fail(enc, EINVAL);
		return;
	}
	off = enc->len;
	p = stun_enc_reserve(enc, STUN_ATTR_FINGERPRINT, 4);
	if (p == NULL)
		return;
	stun_put32(p, stun_fingerprint_compute(enc->buf, off));
	enc->stage |= STUN_STAGE_FP;
}

int stun_enc_finish(struct stun_enc *enc, size_t *len)
{
	if (enc == NULL)
		return EINVAL;
	if (enc->err != 0)
		return enc->err;
	if (len != NULL)
		*len = enc->len;
	return 0;
}
