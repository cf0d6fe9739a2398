/* TURN credentials and nonces (RFC 5766 section 4, RFC 8656 section 9;
 * coturn's REST API). Pure functions: the caller passes the time.
 *
 * Nonces are stateless: "e" + 8 hex digits of the expiry time + 16 hex
 * digits of HMAC-SHA256(server key, expiry | client IP), so any worker can
 * check a nonce another one issued and no table grows with unanswered 401s.
 * A nonce names the client's IP, not its port: a client may open several
 * allocations with one nonce. Long-term credentials have no nonce count, so
 * a nonce alone does not stop a captured request from being played again
 * while it is valid: the Allocates that would make an allocation are also
 * checked against the ones already seen (relay/replay.h: an exact copy from
 * another 5-tuple, or after the retransmission window, gets 438). */
#ifndef EDGELAB_RELAY_TURN_AUTH_H
#define EDGELAB_RELAY_TURN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "core/conf.h"

#define TURN_NONCE_LEN     25 /* "e" + 8 + 16 hex digits */
#define TURN_NONCE_KEY_LEN 32
#define TURN_USERNAME_MAX  128 /* longer USERNAMEs are refused (400) */

/* Writes a nonce valid until now + lifetime seconds for src's IP into out
 * (TURN_NONCE_LEN bytes, not NUL-terminated). */
void turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], time_t now, unsigned lifetime,
                     const struct sockaddr *src, char out[TURN_NONCE_LEN]);
/* 0 when valid for src at now; ESTALE when it was ours but has expired
 * (438); EACCES otherwise (401 with a fresh one). */
int turn_nonce_check(const uint8_t key[TURN_NONCE_KEY_LEN], time_t now, const struct sockaddr *src,
                     const uint8_t *nonce, size_t len);
/* The expiry a nonce says (checked or not), or 0 when it is not one of ours
 * in form. */
time_t turn_nonce_expiry(const uint8_t *nonce, size_t len);

/* The long-term key MD5(user:realm:password) for username (len bytes), from
 * conf's turn_user lines; with mras_secret, MRAS-style credentials
 * (core/mras.h); with use_auth_secret, coturn's REST scheme (USERNAME
 * "EXPIRY[:NAME]", not expired at now; password
 * base64(HMAC-SHA1(static_auth_secret, USERNAME))). 0, or ENOENT for an
 * unknown, expired or malformed username. */
int turn_user_key(const struct conf *conf, time_t now, const uint8_t *username, size_t len,
                  uint8_t key[16]);

/* The REST password for a username, NUL-terminated (for tests and the
 * benchmark's load generator). out must hold 29 bytes. */
void turn_rest_password(const char *secret, const char *username, char out[29]);

/* A per-source limit on 401 replies: a fixed table of token buckets, hashed
 * by source IP (collisions share a bucket, which errs on the side of fewer
 * 401s). One per worker; not thread-safe. */
#define TURN_RATE_SLOTS 1024
struct turn_rate_slot {
	uint32_t tokens_milli; /* tokens x 1000 */
	uint64_t last_ms;
};
struct turn_rate {
	struct turn_rate_slot slot[TURN_RATE_SLOTS];
};
/* True when a 401 may go to src now (rate per second, burst 2 x rate);
 * rate 0: always. */
bool turn_rate_allow(struct turn_rate *r, unsigned rate, uint64_t now_ms,
                     const struct sockaddr *src);

#endif
