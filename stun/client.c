/* A TURN client's account (stun/client.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#include "stun/client.h"

int stun_client_tid_new(uint8_t tid[STUN_TID_LEN])
{
	uint32_t cookie = htonl(STUN_MAGIC_COOKIE);
	memcpy(tid, &cookie, 4);
	return RAND_bytes(tid + 4, STUN_TID_LEN - 4) == 1 ? 0 : EIO;
}

int stun_cred_take_nonce(const struct stun_msg *m, struct stun_cred *c)
{
	bool ms = m->dialect == STUN_DIALECT_MSTURN;
	const struct stun_attr *realm = stun_msg_attr(m, ms ? STUN_MSATTR_REALM : STUN_ATTR_REALM);
	const struct stun_attr *nonce = stun_msg_attr(m, ms ? STUN_MSATTR_NONCE : STUN_ATTR_NONCE);
	if (!realm || !nonce || !nonce->len || nonce->len > sizeof(c->nonce))
		return EBADMSG;
	const uint8_t *r = realm->val;
	size_t rlen = realm->len;
	if (rlen && r[0] == '"')
		r++, rlen--;
	if (rlen && (r[rlen - 1] == '"' || r[rlen - 1] == '\0'))
		rlen--;
	if (rlen > STUN_CRED_REALM_MAX || memchr(r, '\0', rlen))
		return EBADMSG;
	memcpy(c->realm, r, rlen);
	c->realm[rlen] = '\0';
	memcpy(c->nonce, nonce->val, nonce->len);
	c->nonce_len = nonce->len;
	stun_key_longterm(c->user, c->realm, c->pass, c->key);
	c->have_nonce = true;
	return 0;
}

/* An error's code and reason phrase, made printable. */
static int read_error(const struct stun_msg *m, int *code, char *out, size_t cap)
{
	const struct stun_attr *err = stun_msg_attr(m, STUN_ATTR_ERROR_CODE);
	const char *reason;
	size_t len;
	if (!cap || !err || stun_attr_error(err, code, &reason, &len))
		return EBADMSG;
	if (len >= cap)
		len = cap - 1;
	for (size_t i = 0; i < len; i++)
		out[i] = reason[i] >= 0x20 && reason[i] < 0x7f ? reason[i] : '?';
	out[len] = '\0';
	return 0;
}

int stun_client_answer(const struct stun_msg *m, uint16_t method, struct stun_cred *c, int *code,
                       char *reason, size_t cap)
{
	*code = 0;
	if (cap)
		reason[0] = '\0';
	if (m->method != method || (m->cls != STUN_CLASS_SUCCESS && m->cls != STUN_CLASS_ERROR))
		return EBADMSG;
	if (m->cls == STUN_CLASS_ERROR) {
		if (read_error(m, code, reason, cap))
			return EBADMSG;
		return *code == 401 || *code == 438 ? stun_cred_take_nonce(m, c) : 0;
	}
	int rc = c->have_nonce ? stun_msg_check_integrity(m, c->key, sizeof(c->key)) : ENOENT;
	return !rc ? 0 : rc == EACCES ? EACCES : EBADMSG;
}
