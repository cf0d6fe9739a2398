/* What a TURN client keeps of its account, in either dialect (RFC 5766 and
 * MS-TURN: stun/turn_client.h, stun/msturn_client.h): the long-term
 * credentials of RFC 5389 section 10.2 and what a 401 or 438 taught (realm,
 * nonce, and the key they make). Pure functions over buffers. */
#ifndef EDGELAB_STUN_CLIENT_H
#define EDGELAB_STUN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stun/stun.h"

#define STUN_CRED_REALM_MAX 128
#define STUN_CRED_NONCE_MAX 128

/* One account on one server, and what its 401 taught. */
struct stun_cred {
	const char *user, *pass;
	char realm[STUN_CRED_REALM_MAX + 1];
	uint8_t nonce[STUN_CRED_NONCE_MAX];
	size_t nonce_len;
	uint8_t key[16]; /* MD5(user ":" realm ":" pass), once have_nonce */
	bool have_nonce;
};

/* A fresh transaction id: the RFC 5389 cookie and 12 random bytes (as
 * Teams makes MS-TURN's too). 0 or EIO. */
int stun_client_tid_new(uint8_t tid[STUN_TID_LEN]);

/* Takes REALM and NONCE from m, a 401 or 438 (their attribute numbers by
 * m's dialect: MS-TURN swaps them), into c, and derives the key. The realm
 * is hashed without a leading quote and a trailing quote or NUL, as libnice
 * does and edgelab expects (Microsoft's relays send "rtcmedia" with its
 * quotes). 0, or EBADMSG (either missing, empty or too long). */
int stun_cred_take_nonce(const struct stun_msg *m, struct stun_cred *c);

/* What every answer starts with, m read as the answer to a request of
 * method: an error's code and reason phrase (its unprintable bytes
 * replaced, cut to cap - 1: it goes into sentences), a 401 or 438's realm
 * and nonce taken into c; a success's integrity checked with c's key (*code
 * 0). 0, or EBADMSG (not an answer to that method, no valid ERROR-CODE in
 * an error, a success without MESSAGE-INTEGRITY), EACCES (the integrity
 * check failed). */
int stun_client_answer(const struct stun_msg *m, uint16_t method, struct stun_cred *c, int *code,
                       char *reason, size_t cap);

#endif
