/* An MS-TURN client's side of docs/msturn.md: requests with long-term
 * credentials (the MAC RFC 3489's way, which stun_enc_integrity does for
 * the dialect), and what it reads from answers. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#include "probe/fed_av_int.h"

int msturn_tid_new(uint8_t tid[STUN_TID_LEN])
{
	uint32_t cookie = htonl(STUN_MAGIC_COOKIE);
	memcpy(tid, &cookie, 4);
	return RAND_bytes(tid + 4, STUN_TID_LEN - 4) == 1 ? 0 : EIO;
}

int msturn_req_encode(const struct msturn_cred *c, const struct msturn_req *q,
                      const uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t cap, size_t *len)
{
	bool allocate = q->method == STUN_METHOD_ALLOCATE;
	if (!allocate && (!q->dest || !c->have_nonce))
		return EINVAL;
	struct stun_enc e;
	stun_enc_init(&e, buf, cap, STUN_DIALECT_MSTURN, stun_type(q->method, STUN_CLASS_REQUEST),
	              tid);
	if (allocate) {
		stun_enc_u32(&e, STUN_MSATTR_MS_VERSION, MSTURN_CLIENT_VERSION);
		if (q->delete)
			stun_enc_u32(&e, STUN_ATTR_LIFETIME, 0);
	} else {
		stun_enc_addr(&e, STUN_MSATTR_DESTINATION_ADDRESS, q->dest);
	}
	if (q->method == STUN_MSTURN_METHOD_SEND)
		stun_enc_attr(&e, STUN_MSATTR_DATA, q->data, q->data_len);
	if (c->have_nonce) {
		stun_enc_attr(&e, STUN_ATTR_USERNAME, c->user, strlen(c->user));
		if (allocate) {
			stun_enc_attr(&e, STUN_MSATTR_REALM, c->realm, strlen(c->realm));
			stun_enc_attr(&e, STUN_MSATTR_NONCE, c->nonce, c->nonce_len);
		}
		stun_enc_integrity(&e, c->key, sizeof(c->key), STUN_MAC_SHA1);
	}
	return stun_enc_finish(&e, len);
}

/* A 401 or 438's realm and nonce: the key follows. The realm is hashed
 * without a leading quote and a trailing quote or NUL, as libnice does and
 * edgelab expects (Microsoft's relays send "rtcmedia" with its quotes). */
static int take_nonce(const struct stun_msg *m, struct msturn_cred *c)
{
	const struct stun_attr *realm = stun_msg_attr(m, STUN_MSATTR_REALM);
	const struct stun_attr *nonce = stun_msg_attr(m, STUN_MSATTR_NONCE);
	if (!realm || !nonce || !nonce->len || nonce->len > sizeof(c->nonce))
		return EBADMSG;
	const uint8_t *r = realm->val;
	size_t rlen = realm->len;
	if (rlen && r[0] == '"')
		r++, rlen--;
	if (rlen && (r[rlen - 1] == '"' || r[rlen - 1] == '\0'))
		rlen--;
	if (rlen > MSTURN_REALM_MAX || memchr(r, '\0', rlen))
		return EBADMSG;
	memcpy(c->realm, r, rlen);
	c->realm[rlen] = '\0';
	memcpy(c->nonce, nonce->val, nonce->len);
	c->nonce_len = nonce->len;
	stun_key_longterm(c->user, c->realm, c->pass, c->key);
	c->have_nonce = true;
	return 0;
}

/* The reason phrase, its unprintable bytes replaced: it goes into sentences. */
static void copy_reason(char *out, size_t cap, const char *reason, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	for (size_t i = 0; i < len; i++)
		out[i] = reason[i] >= 0x20 && reason[i] < 0x7f ? reason[i] : '?';
	out[len] = '\0';
}

int msturn_answer_read(const struct stun_msg *m, uint16_t method, struct msturn_cred *c,
                       struct msturn_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (m->method != method || (m->cls != STUN_CLASS_SUCCESS && m->cls != STUN_CLASS_ERROR))
		return EBADMSG;
	if (m->cls == STUN_CLASS_ERROR) {
		const struct stun_attr *err = stun_msg_attr(m, STUN_ATTR_ERROR_CODE);
		const char *reason;
		size_t rlen;
		if (!err || stun_attr_error(err, &a->code, &reason, &rlen))
			return EBADMSG;
		copy_reason(a->reason, sizeof(a->reason), reason, rlen);
		if (a->code == 401 || a->code == 438)
			return take_nonce(m, c);
		return 0;
	}
	int rc = c->have_nonce ? stun_msg_check_integrity(m, c->key, sizeof(c->key)) : ENOENT;
	if (rc)
		return rc == EACCES ? EACCES : EBADMSG;
	const struct stun_attr *relayed = stun_msg_attr(m, STUN_MSATTR_MAPPED_ADDRESS);
	const struct stun_attr *mapped = stun_msg_attr(m, STUN_MSATTR_XOR_MAPPED_ADDRESS);
	if (relayed) {
		if (stun_attr_addr(relayed, &a->relayed))
			return EBADMSG;
		a->has_relayed = true;
	}
	if (mapped) {
		if (stun_attr_xor_addr(m, mapped, &a->mapped))
			return EBADMSG;
		a->has_mapped = true;
	}
	return 0;
}

int msturn_data_indication(const struct stun_msg *m, struct sockaddr_storage *remote,
                           const uint8_t **data, size_t *len)
{
	if (m->dialect != STUN_DIALECT_MSTURN || m->type != STUN_MSTURN_TYPE_DATA_INDICATION)
		return ENOENT;
	const struct stun_attr *from = stun_msg_attr(m, STUN_MSATTR_REMOTE_ADDRESS);
	const struct stun_attr *d = stun_msg_attr(m, STUN_MSATTR_DATA);
	if (!from || !d || stun_attr_addr(from, remote))
		return EBADMSG;
	*data = d->val;
	*len = d->len;
	return 0;
}
