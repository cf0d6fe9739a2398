#include "relay/turn_auth.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mras.h"
#include "relay/hash.h"
#include "stun/stun.h"

/* The bytes of src's IP (4 or 16), or none for another family. */
static size_t ip_bytes(const struct sockaddr *src, const uint8_t **ip)
{
	if (src->sa_family == AF_INET) {
		*ip = (const uint8_t *)&((const struct sockaddr_in *)src)->sin_addr;
		return 4;
	}
	if (src->sa_family == AF_INET6) {
		*ip = (const uint8_t *)&((const struct sockaddr_in6 *)src)->sin6_addr;
		return 16;
	}
	*ip = NULL;
	return 0;
}

static void nonce_mac(const uint8_t key[TURN_NONCE_KEY_LEN], const char expiry_hex[8],
                      const struct sockaddr *src, char out_hex[16])
{
	uint8_t in[8 + 16], mac[32];
	const uint8_t *ip;
	size_t ip_len = ip_bytes(src, &ip);
	unsigned mac_len = sizeof(mac);
	memcpy(in, expiry_hex, 8);
	if (ip_len)
		memcpy(in + 8, ip, ip_len);
	HMAC(EVP_sha256(), key, TURN_NONCE_KEY_LEN, in, 8 + ip_len, mac, &mac_len);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out_hex[2 * i] = hex[mac[i] >> 4];
		out_hex[2 * i + 1] = hex[mac[i] & 15];
	}
}

void turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], time_t now, unsigned lifetime,
                     const struct sockaddr *src, char out[TURN_NONCE_LEN])
{
	char expiry[9];
	snprintf(expiry, sizeof(expiry), "%08x", (unsigned)(now + (time_t)lifetime));
	out[0] = 'e';
	memcpy(out + 1, expiry, 8);
	nonce_mac(key, expiry, src, out + 9);
}

time_t turn_nonce_expiry(const uint8_t *nonce, size_t len)
{
	char expiry[9];
	if (len != TURN_NONCE_LEN || nonce[0] != 'e')
		return 0;
	for (size_t i = 0; i < 8; i++)
		if (!isxdigit(nonce[1 + i]))
			return 0;
	memcpy(expiry, nonce + 1, 8);
	expiry[8] = '\0';
	return (time_t)strtoul(expiry, NULL, 16);
}

int turn_nonce_check(const uint8_t key[TURN_NONCE_KEY_LEN], time_t now, const struct sockaddr *src,
                     const uint8_t *nonce, size_t len)
{
	char mac[16];
	time_t when = turn_nonce_expiry(nonce, len);
	if (!when)
		return EACCES;
	nonce_mac(key, (const char *)nonce + 1, src, mac);
	if (CRYPTO_memcmp(mac, nonce + 9, sizeof(mac)) != 0)
		return EACCES;
	return when < now ? ESTALE : 0;
}

void turn_rest_password(const char *secret, const char *username, char out[29])
{
	uint8_t mac[20];
	unsigned mac_len = sizeof(mac);
	HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)username, strlen(username),
	     mac, &mac_len);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len); /* 28 chars and a NUL */
}

/* coturn's REST usernames: "EXPIRY" or "EXPIRY:NAME", EXPIRY in Unix time. */
static bool rest_username_valid(const char *user, time_t now)
{
	char *end;
	errno = 0;
	unsigned long long expiry = strtoull(user, &end, 10);
	if (end == user || errno || (*end && *end != ':'))
		return false;
	return (time_t)expiry >= now;
}

int turn_user_key(const struct conf *conf, time_t now, const uint8_t *username, size_t len,
                  uint8_t key[16])
{
	char user[TURN_USERNAME_MAX + 1];
	if (len == 0 || len > TURN_USERNAME_MAX || memchr(username, '\0', len))
		return ENOENT;
	memcpy(user, username, len);
	user[len] = '\0';
	for (size_t i = 0; i < conf->n_turn_users; i++) {
		if (strcmp(conf->turn_users[i].name, user) == 0) {
			stun_key_longterm(user, conf->turn_realm, conf->turn_users[i].password,
			                  key);
			return 0;
		}
	}
	if (conf->mras_secret[0] && mras_is_username(username, len)) {
		char pass[MRAS_PASSWORD_LEN + 1];
		if (mras_check(conf->mras_secret, now, username, len, pass))
			return ENOENT;
		stun_key_longterm(user, conf->turn_realm, pass, key);
		return 0;
	}
	if (!conf->use_auth_secret || !conf->static_auth_secret[0] ||
	    !rest_username_valid(user, now))
		return ENOENT;
	char pass[29];
	turn_rest_password(conf->static_auth_secret, user, pass);
	stun_key_longterm(user, conf->turn_realm, pass, key);
	return 0;
}

bool turn_rate_allow(struct turn_rate *r, unsigned rate, uint64_t now_ms,
                     const struct sockaddr *src)
{
	if (!rate)
		return true;
	const uint8_t *ip;
	size_t n = ip_bytes(src, &ip);
	struct turn_rate_slot *s = &r->slot[fnv1a(FNV1A_INIT, ip, n) % TURN_RATE_SLOTS];
	uint64_t burst = (uint64_t)rate * 2000;
	uint64_t tokens = s->last_ms ? s->tokens_milli + (now_ms - s->last_ms) * rate : burst;
	if (tokens > burst)
		tokens = burst;
	s->last_ms = now_ms ? now_ms : 1;
	if (tokens < 1000) {
		s->tokens_milli = (uint32_t)tokens;
		return false;
	}
	s->tokens_milli = (uint32_t)(tokens - 1000);
	return true;
}
