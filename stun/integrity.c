/* MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT: computing them
 * for the encoder and checking them on decoded messages. */
#include "stun/stun_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

int stun_mac_compute(enum stun_dialect d, enum stun_mac mac, const uint8_t *buf, size_t mi_off,
                     uint16_t len_field, const uint8_t *key, size_t key_len,
                     uint8_t out[STUN_MAC_SHA256_LEN])
{
	static const uint8_t empty_key[1];
	uint8_t in[STUN_MAX_MSG_LEN + 64];
	size_t n = mi_off;
	unsigned out_len = 0;

	if (mi_off < STUN_HDR_LEN || mi_off > STUN_MAX_MSG_LEN || key_len > INT_MAX)
		return EINVAL;
	memcpy(in, buf, mi_off);
	stun_put16(in + 2, len_field);
	/* RFC 3489 section 11.2.8 (and libnice's OC2007 mode for MS-TURN): the
	 * hashed text is zero-padded to a multiple of 64 bytes. */
	if (d != STUN_DIALECT_RFC5389 && n % 64 != 0) {
		memset(in + n, 0, 64 - n % 64);
		n += 64 - n % 64;
	}
	if (key == NULL)
		key = empty_key;
	if (HMAC(mac == STUN_MAC_SHA256 ? EVP_sha256() : EVP_sha1(), key, (int)key_len, in, n, out,
	         &out_len) == NULL)
		return EINVAL;
	return 0;
}

uint32_t stun_fingerprint_compute(const uint8_t *buf, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	/* zlib takes uInt lengths; STUN messages are far below that. */
	crc = crc32(crc, buf, (uInt)len);
	return (uint32_t)crc ^ STUN_FINGERPRINT_XOR;
}

/* Index of the first attribute of that type at or after start, or nattrs. */
static size_t stun_msg_find(const struct stun_msg *msg, uint16_t type, size_t start)
{
	size_t i;

	for (i = start; i < msg->nattrs; i++)
		if (msg->attrs[i].type == type)
			return i;
	return msg->nattrs;
}

/* Only these may follow an integrity attribute: RFC 5389 section 15.4 (and
 * RFC 8489 section 14.6 for MESSAGE-INTEGRITY-SHA256 after MESSAGE-INTEGRITY).
 * Anything else would ride along unauthenticated, so it is refused. */
static bool stun_msg_tail_ok(const struct stun_msg *msg, size_t idx)
{
	size_t i;

	for (i = idx + 1; i < msg->nattrs; i++) {
		uint16_t t = msg->attrs[i].type;

		if (t == STUN_ATTR_FINGERPRINT && i == msg->nattrs - 1)
			continue;
		if (t == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
		    msg->dialect == STUN_DIALECT_RFC5389 &&
		    msg->attrs[idx].type == STUN_ATTR_MESSAGE_INTEGRITY)
			continue;
		return false;
	}
	return true;
}

static bool stun_mac_len_ok(enum stun_dialect d, uint16_t type, uint16_t len)
{
	if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256) /* RFC 8489 section 14.6 */
		return len >= 16 && len <= STUN_MAC_SHA256_LEN && len % 4 == 0;
	if (d == STUN_DIALECT_MSTURN) /* 32 bytes from MS-Version 3 on */
		return len == STUN_MAC_SHA1_LEN || len == STUN_MAC_SHA256_LEN;
	return len == STUN_MAC_SHA1_LEN;
}

static int stun_msg_check_one(const struct stun_msg *msg, size_t idx, const uint8_t *key,
                              size_t key_len)
{
	const struct stun_attr *a = &msg->attrs[idx];
	uint8_t mac[STUN_MAC_SHA256_LEN];
	enum stun_mac kind = STUN_MAC_SHA1;
	uint16_t len_field = msg->length;
	int err;

	if (!stun_mac_len_ok(msg->dialect, a->type, a->len) || !stun_msg_tail_ok(msg, idx))
		return EBADMSG;
	if (a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 || a->len == STUN_MAC_SHA256_LEN)
		kind = STUN_MAC_SHA256;
	/* RFC 5389 section 15.4: the length must point just past the integrity
	 * attribute; classic and MS-TURN hash the length as sent. */
	if (msg->dialect == STUN_DIALECT_RFC5389)
		len_field = (uint16_t)(a->off + STUN_ATTR_HDR_LEN + a->len - STUN_HDR_LEN);
	err = stun_mac_compute(msg->dialect, kind, msg->buf, a->off, len_field, key, key_len, mac);
	if (err != 0)
		return err;
	return CRYPTO_memcmp(mac, a->val, a->len) == 0 ? 0 : EACCES;
}

int stun_msg_check_integrity(const struct stun_msg *msg, const uint8_t *key, size_t key_len)
{
	size_t mi, sha;
	int err;

	if (msg == NULL || (key == NULL && key_len != 0))
		return EINVAL;
	mi = stun_msg_find(msg, STUN_ATTR_MESSAGE_INTEGRITY, 0);
	sha = msg->nattrs;
	if (msg->dialect == STUN_DIALECT_RFC5389)
		sha = stun_msg_find(msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 0);
	if (mi == msg->nattrs && sha == msg->nattrs)
		return ENOENT;
	/* When both are there, both must hold: a peer may check either. */
	if (mi != msg->nattrs) {
		err = stun_msg_check_one(msg, mi, key, key_len);
		if (err != 0)
			return err;
	}
	if (sha != msg->nattrs)
		return stun_msg_check_one(msg, sha, key, key_len);
	return 0;
}

/* RFC 5389 section 15.5: the last attribute, CRC-32 of everything before it
 * with the header length already counting it. */
int stun_msg_check_fingerprint(const struct stun_msg *msg)
{
	const struct stun_attr *a;
	size_t idx;

	if (msg == NULL)
		return EINVAL;
	idx = stun_msg_find(msg, STUN_ATTR_FINGERPRINT, 0);
	if (idx == msg->nattrs)
		return ENOENT;
	a = &msg->attrs[idx];
	if (idx != msg->nattrs - 1 || a->len != 4)
		return EBADMSG;
	return stun_fingerprint_compute(msg->buf, a->off) == stun_get32(a->val) ? 0 : EACCES;
}

/* RFC 5389 section 15.4: key = MD5(username ":" realm ":" SASLprep(password)).
 * The caller applies SASLprep; MD5 failing (a FIPS-only provider) yields a
 * zero key, which simply never matches. */
void stun_key_longterm(const char *user, const char *realm, const char *pass, uint8_t key[16])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 0;
	bool ok;

	memset(key, 0, 16);
	if (ctx == NULL || user == NULL || realm == NULL || pass == NULL) {
		EVP_MD_CTX_free(ctx);
		return;
	}
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, user, strlen(user)) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
	     EVP_DigestUpdate(ctx, realm, strlen(realm)) == 1 &&
	     EVP_DigestUpdate(ctx, ":", 1) == 1 && EVP_DigestUpdate(ctx, pass, strlen(pass)) == 1 &&
	     EVP_DigestFinal_ex(ctx, key, &len) == 1;
	if (!ok)
		memset(key, 0, 16);
	EVP_MD_CTX_free(ctx);
}
