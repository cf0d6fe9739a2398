/* An RFC 5766 TURN client's side (stun/turn_client.h). */
#include <errno.h>
#include <string.h>

#include "stun/turn_client.h"

#define TRANSPORT_UDP (17u << 24) /* REQUESTED-TRANSPORT: protocol, RFFU */

int turn_req_encode(const struct stun_cred *c, const struct turn_req *q,
                    const uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t cap, size_t *len)
{
	bool allocate = q->method == STUN_METHOD_ALLOCATE;
	bool needs_peer =
	    q->method == STUN_METHOD_CREATE_PERMISSION || q->method == STUN_METHOD_CHANNEL_BIND;
	if ((!allocate && !c->have_nonce) || (needs_peer && !q->peer))
		return EINVAL;
	if (q->method == STUN_METHOD_CHANNEL_BIND &&
	    (q->channel < TURN_CHANNEL_MIN || q->channel > TURN_CHANNEL_MAX))
		return EINVAL;
	struct stun_enc e;
	stun_enc_init(&e, buf, cap, STUN_DIALECT_RFC5389, stun_type(q->method, STUN_CLASS_REQUEST),
	              tid);
	if (allocate)
		stun_enc_u32(&e, STUN_ATTR_REQUESTED_TRANSPORT, TRANSPORT_UDP);
	if (q->method == STUN_METHOD_CHANNEL_BIND)
		stun_enc_u32(&e, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)q->channel << 16);
	if (needs_peer)
		stun_enc_xor_addr(&e, STUN_ATTR_XOR_PEER_ADDRESS, q->peer);
	if (q->method == STUN_METHOD_REFRESH || (allocate && q->lifetime))
		stun_enc_u32(&e, STUN_ATTR_LIFETIME, q->lifetime);
	if (c->have_nonce) {
		stun_enc_attr(&e, STUN_ATTR_USERNAME, c->user, strlen(c->user));
		stun_enc_attr(&e, STUN_ATTR_REALM, c->realm, strlen(c->realm));
		stun_enc_attr(&e, STUN_ATTR_NONCE, c->nonce, c->nonce_len);
		stun_enc_integrity(&e, c->key, sizeof(c->key), STUN_MAC_SHA1);
	}
	return stun_enc_finish(&e, len);
}

int turn_answer_read(const struct stun_msg *m, uint16_t method, struct stun_cred *c,
                     struct turn_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (m->dialect != STUN_DIALECT_RFC5389)
		return EBADMSG;
	int rc = stun_client_answer(m, method, c, &a->code, a->reason, sizeof(a->reason));
	if (rc || a->code)
		return rc;
	const struct stun_attr *relayed = stun_msg_attr(m, STUN_ATTR_XOR_RELAYED_ADDRESS);
	const struct stun_attr *mapped = stun_msg_attr(m, STUN_ATTR_XOR_MAPPED_ADDRESS);
	const struct stun_attr *lifetime = stun_msg_attr(m, STUN_ATTR_LIFETIME);
	if (relayed) {
		if (stun_attr_xor_addr(m, relayed, &a->relayed))
			return EBADMSG;
		a->has_relayed = true;
	}
	if (mapped) {
		if (stun_attr_xor_addr(m, mapped, &a->mapped))
			return EBADMSG;
		a->has_mapped = true;
	}
	if (lifetime && stun_attr_u32(lifetime, &a->lifetime))
		return EBADMSG;
	return 0;
}

int turn_channel_encode(uint16_t channel, const uint8_t *data, size_t data_len, uint8_t *buf,
                        size_t cap, size_t *len)
{
	if (channel < TURN_CHANNEL_MIN || channel > TURN_CHANNEL_MAX || data_len > UINT16_MAX)
		return EINVAL;
	size_t padded = (data_len + 3) & ~(size_t)3;
	if (cap < TURN_CHANNEL_HDR_LEN + padded)
		return ENOSPC;
	buf[0] = (uint8_t)(channel >> 8);
	buf[1] = (uint8_t)channel;
	buf[2] = (uint8_t)(data_len >> 8);
	buf[3] = (uint8_t)data_len;
	memcpy(buf + TURN_CHANNEL_HDR_LEN, data, data_len);
	memset(buf + TURN_CHANNEL_HDR_LEN + data_len, 0, padded - data_len);
	*len = TURN_CHANNEL_HDR_LEN + padded;
	return 0;
}

int turn_channel_decode(const uint8_t *buf, size_t len, uint16_t *channel, const uint8_t **data,
                        size_t *data_len)
{
	if (len < TURN_CHANNEL_HDR_LEN)
		return ENOENT;
	uint16_t ch = (uint16_t)(buf[0] << 8 | buf[1]);
	if (ch < TURN_CHANNEL_MIN || ch > TURN_CHANNEL_MAX)
		return ENOENT;
	size_t n = (size_t)(buf[2] << 8 | buf[3]);
	if (TURN_CHANNEL_HDR_LEN + n > len)
		return EBADMSG;
	*channel = ch;
	*data = buf + TURN_CHANNEL_HDR_LEN;
	*data_len = n;
	return 0;
}
