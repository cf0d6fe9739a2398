/* Decoding: header and attribute walk with every length checked against the
 * buffer, and the typed attribute readers. */
#include "stun/stun_int.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>

size_t stun_msg_frame_len(const uint8_t *buf, size_t len)
{
	if (buf == NULL || len < STUN_HDR_LEN)
		return 0;
	return STUN_HDR_LEN + (size_t)stun_get16(buf + 2);
}

/* MS-TURN's Data indication 0x0115 predates RFC 5389's class bits (it would
 * read as an error response of method 5): report it as an indication. */
static void stun_msg_set_type(struct stun_msg *msg, uint16_t type)
{
	msg->type = type;
	msg->method = stun_type_method(type);
	msg->cls = stun_type_class(type);
	if (msg->dialect == STUN_DIALECT_MSTURN && type == STUN_MSTURN_TYPE_DATA_INDICATION)
		msg->cls = STUN_CLASS_INDICATION;
}

/* Walks the attributes of msg->buf. Each header and value (plus padding in
 * the padded dialects) must fit before the end given by the header length. */
static int stun_msg_walk(struct stun_msg *msg)
{
	size_t off = STUN_HDR_LEN;

	while (off < msg->buf_len) {
		struct stun_attr *a;
		size_t vlen;

		if (msg->buf_len - off < STUN_ATTR_HDR_LEN)
			return EBADMSG;
		vlen = stun_get16(msg->buf + off + 2);
		if (stun_wire_len(msg->dialect, vlen) > msg->buf_len - off - STUN_ATTR_HDR_LEN)
			return EBADMSG;
		if (msg->nattrs == STUN_MAX_ATTRS)
			return E2BIG;
		a = &msg->attrs[msg->nattrs++];
		a->type = stun_get16(msg->buf + off);
		a->len = (uint16_t)vlen;
		a->val = msg->buf + off + STUN_ATTR_HDR_LEN;
		a->off = off;
		off += STUN_ATTR_HDR_LEN + stun_wire_len(msg->dialect, vlen);
	}
	return 0;
}

int stun_msg_decode(struct stun_msg *msg, const uint8_t *buf, size_t len)
{
	size_t total;

	if (msg == NULL || buf == NULL)
		return EINVAL;
	msg->nattrs = 0;
	if (len < STUN_HDR_LEN)
		return EMSGSIZE;
	if ((buf[0] & 0xC0) != 0) /* RFC 5389 section 6: top two bits zero */
		return EBADMSG;
	total = stun_msg_frame_len(buf, len);
	if (total > len || total > STUN_MAX_MSG_LEN)
		return EMSGSIZE;
	msg->dialect = stun_dialect_detect(buf, total);
	/* RFC 5389 section 6 and RFC 3489 section 11.1: attributes are padded so
	 * the length is a multiple of 4; MS-TURN does not pad. */
	if (msg->dialect != STUN_DIALECT_MSTURN && total % 4 != 0)
		return EBADMSG;
	stun_msg_set_type(msg, stun_get16(buf));
	msg->length = (uint16_t)(total - STUN_HDR_LEN);
	memcpy(msg->tid, buf + 4, STUN_TID_LEN);
	msg->buf = buf;
	msg->buf_len = total;
	return stun_msg_walk(msg);
}

const struct stun_attr *stun_msg_attr(const struct stun_msg *msg, uint16_t type)
{
	size_t i;

	if (msg == NULL)
		return NULL;
	for (i = 0; i < msg->nattrs && i < STUN_MAX_ATTRS; i++)
		if (msg->attrs[i].type == type)
			return &msg->attrs[i];
	return NULL;
}

int stun_attr_u32(const struct stun_attr *attr, uint32_t *val)
{
	if (attr == NULL || val == NULL)
		return EINVAL;
	if (attr->len != 4)
		return EBADMSG;
	*val = stun_get32(attr->val);
	return 0;
}

/* The address layout of RFC 5389 section 15.1 (and RFC 3489 section 11.2.1):
 * reserved byte, family (1 IPv4, 2 IPv6), port, address. The mask is XORed
 * over port and address; all zeros for the plain attributes. */
static int stun_addr_read(const struct stun_attr *attr, const uint8_t mask[STUN_TID_LEN],
                          struct sockaddr_storage *sa)
{
	const uint8_t *v = attr->val;
	uint16_t port;
	size_t i;

	if (attr->len < 4)
		return EBADMSG;
	port = (uint16_t)(stun_get16(v + 2) ^ stun_get16(mask));
	memset(sa, 0, sizeof(*sa));
	if (v[1] == 0x01 && attr->len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		for (i = 0; i < 4; i++)
			((uint8_t *)&sin->sin_addr)[i] = v[4 + i] ^ mask[i];
		return 0;
	}
	if (v[1] == 0x02 && attr->len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		for (i = 0; i < 16; i++)
			sin6->sin6_addr.s6_addr[i] = v[4 + i] ^ mask[i];
		return 0;
	}
	return EBADMSG;
}

int stun_attr_addr(const struct stun_attr *attr, struct sockaddr_storage *sa)
{
	static const uint8_t zero[STUN_TID_LEN];

	if (attr == NULL || sa == NULL)
		return EINVAL;
	return stun_addr_read(attr, zero, sa);
}

/* RFC 5389 section 15.2 XORs with the cookie and then the transaction id,
 * which are exactly the 16 bytes after the length; MS-TURN's 0x8020 uses the
 * same 16 bytes whatever they hold, so one mask serves every dialect. */
int stun_attr_xor_addr(const struct stun_msg *msg, const struct stun_attr *attr,
                       struct sockaddr_storage *sa)
{
	if (msg == NULL || attr == NULL || sa == NULL)
		return EINVAL;
	return stun_addr_read(attr, msg->tid, sa);
}

/* RFC 5389 section 15.6: 21 reserved bits, class (3-6) in 3 bits, number
 * (0-99) in 8 bits, then a UTF-8 reason phrase. */
int stun_attr_error(const struct stun_attr *attr, int *code, const char **reason,
                    size_t *reason_len)
{
	unsigned cls, num;

	if (attr == NULL || code == NULL)
		return EINVAL;
	if (attr->len < 4)
		return EBADMSG;
	cls = attr->val[2] & 0x07u;
	num = attr->val[3];
	if (cls < 3 || cls > 6 || num > 99)
		return EBADMSG;
	*code = (int)(cls * 100 + num);
	if (reason != NULL)
		*reason = (const char *)attr->val + 4;
	if (reason_len != NULL)
		*reason_len = (size_t)attr->len - 4;
	return 0;
}
