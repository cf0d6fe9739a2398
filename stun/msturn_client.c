/* An MS-TURN client's side of docs/msturn.md (stun/msturn_client.h):
 * requests with long-term credentials (the MAC RFC 3489's way, which
 * stun_enc_integrity does for the dialect), and what it reads from answers. */
#include <errno.h>
#include <string.h>

#include "stun/msturn_client.h"

int msturn_req_encode(const struct stun_cred *c, const struct msturn_req *q,
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

int msturn_answer_read(const struct stun_msg *m, uint16_t method, struct stun_cred *c,
                       struct msturn_answer *a)
{
	memset(a, 0, sizeof(*a));
	int rc = stun_client_answer(m, method, c, &a->code, a->reason, sizeof(a->reason));
	if (rc || a->code)
		return rc;
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
