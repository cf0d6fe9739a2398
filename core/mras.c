#include "core/mras.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_HEX  16
#define SIG_HEX 40

void mras_base64(const void *in, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SIG over the token's first part, prefix[0..len). */
static void sign(const char *secret, const char *prefix, size_t len, char sig[SIG_HEX + 1])
{
	uint8_t mac[SHA_DIGEST_LENGTH];
	unsigned mac_len = sizeof(mac);
	HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)prefix, len, mac, &mac_len);
	hex(mac, sizeof(mac), sig);
}

static void password(const char *secret, const uint8_t *user, size_t len,
                     char pass[MRAS_PASSWORD_LEN + 1])
{
	uint8_t mac[SHA256_DIGEST_LENGTH];
	unsigned mac_len = sizeof(mac);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), user, len, mac, &mac_len);
	mras_base64(mac, sizeof(mac), pass);
}

int mras_issue(const char *secret, time_t now, unsigned minutes, const char *identity,
               char user[MRAS_USERNAME_MAX], char pass[MRAS_PASSWORD_LEN + 1])
{
	if (!secret[0] || !minutes)
		return EINVAL;
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char id[ID_HEX + 1];
	SHA256((const uint8_t *)identity, strlen(identity), digest);
	hex(digest, ID_HEX / 2, id);
	int n = snprintf(user, MRAS_USERNAME_MAX,
	                 MRAS_PREFIX "%" PRId64 ":%s:", (int64_t)now + (int64_t)minutes * 60, id);
	if (n < 0 || (size_t)n + SIG_HEX >= MRAS_USERNAME_MAX)
		return EINVAL;
	sign(secret, user, (size_t)n - 1, user + n); /* over the part before ":" SIG */
	password(secret, (const uint8_t *)user, strlen(user), pass);
	return 0;
}

bool mras_is_username(const uint8_t *user, size_t len)
{
	return len > strlen(MRAS_PREFIX) && memcmp(user, MRAS_PREFIX, strlen(MRAS_PREFIX)) == 0;
}

int mras_check(const char *secret, time_t now, const uint8_t *user, size_t len,
               char pass[MRAS_PASSWORD_LEN + 1])
{
	char copy[MRAS_USERNAME_MAX], sig[SIG_HEX + 1];
	if (!secret[0] || !mras_is_username(user, len) || len >= sizeof(copy))
		return EACCES;
	memcpy(copy, user, len);
	copy[len] = '\0';
	/* mras1:EXPIRY:ID:SIG, every part of its exact form. */
	const char *expiry = copy + strlen(MRAS_PREFIX);
	const char *id = strchr(expiry, ':');
	const char *s = id ? strchr(id + 1, ':') : NULL;
	if (!s || id == expiry || id - expiry > 19 || s - id - 1 != ID_HEX ||
	    strlen(s + 1) != SIG_HEX || strspn(expiry, "0123456789") != (size_t)(id - expiry) ||
	    strspn(id + 1, "0123456789abcdef") < ID_HEX)
		return EACCES;
	sign(secret, copy, (size_t)(s - copy), sig);
	if (CRYPTO_memcmp(sig, s + 1, SIG_HEX) != 0)
		return EACCES;
	if (strtoll(expiry, NULL, 10) < (long long)now)
		return ESTALE;
	password(secret, user, len, pass);
	return 0;
}
