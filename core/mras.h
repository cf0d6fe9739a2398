/* MRAS-style relay credentials: what a Lync edge's Media Relay
 * Authentication Service hands a signed-in client (over SIP SERVICE) so
 * that the A/V edge can check them with no state of its own: the username
 * is a token with an expiry, the identity it was issued to and an HMAC under
 * a secret both share, and the password is derived from the username. Any
 * edge that knows the secret accepts any username the secret signed until it
 * expires.
 *
 * The token format is edgelab's own (Microsoft's is not in the references
 * this project works from); it keeps the scheme's properties and is
 * printable, so that USERNAME and the password's bytes need no escaping
 * (libnice strips quotes and NULs around them before hashing):
 *
 *   username  "mras1:" EXPIRY ":" ID ":" SIG
 *             EXPIRY  unix time, decimal
 *             ID      16 hex digits: SHA-256(identity), first 8 bytes
 *             SIG     40 hex digits: HMAC-SHA1(secret, "mras1:" EXPIRY ":" ID)
 *   password  base64(HMAC-SHA256(secret, username)), 44 characters
 *
 * Clients are given base64 of both (MRAS's XML carries base64; libnice
 * decodes what it is given). Pure functions: the caller passes the time. */
#ifndef EDGELAB_CORE_MRAS_H
#define EDGELAB_CORE_MRAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MRAS_USERNAME_MAX 80 /* with its NUL */
#define MRAS_PASSWORD_LEN 44
#define MRAS_PREFIX       "mras1:"
/* What mras_base64 writes for a username and a password, with the NUL. */
#define MRAS_USERNAME_B64_MAX (4 * ((MRAS_USERNAME_MAX + 2) / 3) + 1)
#define MRAS_PASSWORD_B64_MAX (4 * ((MRAS_PASSWORD_LEN + 2) / 3) + 1)

/* Issues credentials to identity (a SIP URI) valid for minutes from now.
 * 0, or EINVAL (empty secret, minutes 0). */
int mras_issue(const char *secret, time_t now, unsigned minutes, const char *identity,
               char user[MRAS_USERNAME_MAX], char pass[MRAS_PASSWORD_LEN + 1]);

/* Whether user (len bytes, as received) is an MRAS-style username at all. */
bool mras_is_username(const uint8_t *user, size_t len);

/* The password of a username the secret signed: 0; ESTALE when it has
 * expired at now; EACCES when malformed or not signed by this secret. */
int mras_check(const char *secret, time_t now, const uint8_t *user, size_t len,
               char pass[MRAS_PASSWORD_LEN + 1]);

/* Base64 of len bytes, NUL-terminated; out holds 4 * ((len + 2) / 3) + 1. */
void mras_base64(const void *in, size_t len, char *out);

#endif
