/* MS-TURN (../shared/MSTURN.md): Microsoft's TURN dialect on the same UDP
 * socket, the same allocation table and port pool as RFC TURN. Allocate
 * (also its refresh: another Allocate on the 5-tuple), Send (no response;
 * grants the destination a permission) and Set Active Destination (then data
 * flows raw both ways). Attributes are unpadded; integrity is HMAC over the
 * message zero-padded to 64 bytes, SHA-1 or, from MS-Version 3, SHA-256. */
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/addr.h"
#include "relay/server_priv.h"

#define MSTURN_VERSION_MAX 3 /* SHA-256 integrity; IPv6 (4) and multiplexing (5, 6) not here */
#define MSTURN_BANDWIDTH   0 /* BANDWIDTH in the Allocate answer: no limit announced */

bool msturn_wants(const uint8_t *buf, size_t len)
{
	if (len < STUN_HDR_LEN + 8 || stun_dialect_detect(buf, len) != STUN_DIALECT_MSTURN)
		return false;
	uint16_t method = stun_type_method((uint16_t)((buf[0] << 8 | buf[1]) & 0x3FFF));
	return method == STUN_METHOD_ALLOCATE || method == STUN_MSTURN_METHOD_SEND ||
	       method == STUN_MSTURN_METHOD_SET_ACTIVE_DEST;
}

static void count(struct turn_req *r, enum metric_turn_result m)
{
	metrics_inc(r->s->metrics, METRIC_TURN_REQUESTS + m);
}

static void reply_start(struct turn_req *r, struct stun_enc *e, enum stun_class cls)
{
	stun_enc_init(e, r->out, r->cap, STUN_DIALECT_MSTURN, stun_type(r->msg.method, cls),
	              r->msg.tid);
}

static void reply_finish(struct turn_req *r, struct stun_enc *e)
{
	if (r->authenticated)
		stun_enc_integrity(e, r->key, sizeof(r->key), r->mac);
	if (stun_enc_finish(e, r->out_len))
		*r->out_len = 0;
}

static uint32_t version_of(const struct stun_msg *m)
{
	uint32_t v = 1;
	const struct stun_attr *a = stun_msg_attr(m, STUN_MSATTR_MS_VERSION);
	if (a && stun_attr_u32(a, &v))
		v = 1;
	return v < 1 ? 1 : v > MSTURN_VERSION_MAX ? MSTURN_VERSION_MAX : v;
}

static void reply_error(struct turn_req *r, int code)
{
	struct stun_enc e;
	const struct turn_error *err = turn_error(code);
	count(r, err->metric);
	reply_start(r, &e, STUN_CLASS_ERROR);
	stun_enc_error(&e, err->code, err->reason);
	if (code == 401 || code == 438) {
		turn_challenge(r->s, &e, &r->c->src, r->now, STUN_MSATTR_REALM, STUN_MSATTR_NONCE);
		stun_enc_u32(&e, STUN_MSATTR_MS_VERSION, version_of(&r->msg));
	}
	reply_finish(r, &e);
}

/* libnice strips a leading quote and a trailing quote or NUL (MSTURN.md). */
static void strip(const uint8_t **v, size_t *len)
{
	if (*len && (*v)[0] == '"')
		(*v)++, (*len)--;
	if (*len && ((*v)[*len - 1] == '"' || (*v)[*len - 1] == '\0'))
		(*len)--;
}

static bool attr_is(const struct stun_attr *a, const char *text)
{
	const uint8_t *v = a->val;
	size_t len = a->len;
	strip(&v, &len);
	return len == strlen(text) && memcmp(v, text, len) == 0;
}

/* MSTURN.md "Authentication". a: the 5-tuple's allocation, when there is
 * one: its nonce stays good for its whole life (libnice never retries on
 * 438), and Send and Set Active Destination carry no REALM or NONCE. */
static int authenticate(struct turn_req *r, const struct turn_alloc *a)
{
	const struct stun_attr *mi = stun_msg_attr(&r->msg, STUN_ATTR_MESSAGE_INTEGRITY);
	const struct stun_attr *user = stun_msg_attr(&r->msg, STUN_ATTR_USERNAME);
	const struct stun_attr *realm = stun_msg_attr(&r->msg, STUN_MSATTR_REALM);
	const struct stun_attr *nonce = stun_msg_attr(&r->msg, STUN_MSATTR_NONCE);
	bool allocate = r->msg.method == STUN_METHOD_ALLOCATE;
	if (!mi) {
		if (!allocate)
			return EACCES; /* Send and SAD have no error answer: dropped */
		if (!turn_401_allowed(r->s, &r->c->src))
			return EAGAIN;
		reply_error(r, 401);
		return EACCES;
	}
	int code = 0;
	if (!user)
		code = 432;
	else if (allocate && !realm)
		code = 434;
	else if (allocate && !nonce)
		code = 435;
	else if (realm && !attr_is(realm, r->s->conf->turn_realm))
		code = 436;
	if (!code && nonce &&
	    !(a && a->msturn && nonce->len == sizeof(a->nonce) &&
	      memcmp(nonce->val, a->nonce, sizeof(a->nonce)) == 0)) {
		if (turn_nonce_check(r->s->shared->nonce_key, r->now, &r->c->src.sa, nonce->val,
		                     nonce->len))
			code = 438;
	}
	const uint8_t *u = user ? user->val : NULL;
	size_t ulen = user ? user->len : 0;
	strip(&u, &ulen);
	if (!code && (turn_user_key(r->s->conf, r->now, u, ulen, r->key) ||
	              (a && (ulen != strlen(a->username) || memcmp(u, a->username, ulen)))))
		code = 436;
	if (!code && stun_msg_check_integrity(&r->msg, r->key, sizeof(r->key)))
		code = 431;
	if (code) {
		if (allocate || r->msg.method == STUN_MSTURN_METHOD_SET_ACTIVE_DEST)
			reply_error(r, code);
		else
			metrics_inc(r->s->metrics,
			            METRIC_TURN_DROPPED + METRIC_TURN_DROP_NO_PERMISSION);
		return EACCES;
	}
	memcpy(r->username, u, ulen);
	r->username[ulen] = '\0';
	r->mac = mi->len == 32 ? STUN_MAC_SHA256 : STUN_MAC_SHA1;
	r->authenticated = true;
	return 0;
}

static void allocate_success(struct turn_req *r, struct turn_alloc *a)
{
	struct stun_enc e;
	uint8_t seq[24];
	count(r, METRIC_TURN_OK);
	memcpy(seq, a->ms_conn_id, 20);
	memset(seq + 20, 0, 4); /* sequence numbers are not enforced (MSTURN.md) */
	reply_start(r, &e, STUN_CLASS_SUCCESS);
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, (uint32_t)(a->expires - r->now));
	stun_enc_addr(&e, STUN_MSATTR_MAPPED_ADDRESS, &a->relayed.sa);
	stun_enc_u32(&e, STUN_MSATTR_MS_VERSION, a->ms_version);
	stun_enc_xor_addr(&e, STUN_MSATTR_XOR_MAPPED_ADDRESS, &r->c->src.sa);
	stun_enc_attr(&e, STUN_MSATTR_MS_SEQUENCE_NUMBER, seq, sizeof(seq));
	stun_enc_u32(&e, STUN_MSATTR_BANDWIDTH, MSTURN_BANDWIDTH);
	reply_finish(r, &e);
}

static uint32_t lifetime_of(struct turn_req *r)
{
	return turn_lifetime_of(r->s->conf, &r->msg);
}

/* Allocate, or its refresh on the same 5-tuple; LIFETIME 0 deletes. */
static void do_allocate(struct turn_req *r, struct turn_alloc *a)
{
	uint32_t lifetime = lifetime_of(r);
	if (a && !a->msturn) {
		reply_error(r, 437);
		return;
	}
	if (!lifetime) {
		/* A delete succeeds whether or not the allocation is still there:
		 * a retransmitted delete whose answer was lost, or libnice's second
		 * one (its TCP and pseudo-TLS candidates share one allocation,
		 * and it takes a 437 here for data), gets the same answer. */
		if (a)
			turn_alloc_destroy(r->s, a);
		struct stun_enc e;
		count(r, METRIC_TURN_OK);
		reply_start(r, &e, STUN_CLASS_SUCCESS);
		stun_enc_u32(&e, STUN_ATTR_LIFETIME, 0);
		reply_finish(r, &e);
		return;
	}
	if (a) {
		turn_alloc_set_lifetime(r->s, a, lifetime);
		allocate_success(r, a);
		return;
	}
	const struct stun_attr *nonce = stun_msg_attr(&r->msg, STUN_MSATTR_NONCE);
	struct turn_alloc_params p = {
	    /* [MS-TURN]: the relayed address has the transport the Allocate came over. */
	    .relay_transport = r->c->transport,
	    .family = AF_INET,
	    .lifetime = lifetime,
	    .username = r->username,
	    .key = r->key,
	    .tid = r->msg.tid + 4,
	};
	uint8_t token[8];
	int code = turn_alloc_create(r->s, r->c, &p, &a, token);
	if (code) {
		reply_error(r, code == 440 ? 400 : code);
		return;
	}
	a->msturn = true;
	a->ms_version = version_of(&r->msg);
	if (nonce && nonce->len == sizeof(a->nonce))
		memcpy(a->nonce, nonce->val, sizeof(a->nonce));
	RAND_bytes(a->ms_conn_id, sizeof(a->ms_conn_id));
	allocate_success(r, a);
}

/* DESTINATION-ADDRESS, allowed by the policy and of the relay's family. */
static int destination(struct turn_req *r, const struct turn_alloc *a, union turn_sa *dest)
{
	const struct stun_attr *d = stun_msg_attr(&r->msg, STUN_MSATTR_DESTINATION_ADDRESS);
	struct sockaddr_storage raw, norm;
	if (!d || stun_attr_addr(d, &raw) || !turn_sa_set(dest, (struct sockaddr *)&raw))
		return 400;
	if (policy_check(r->s->policy, &dest->sa, &norm) != POLICY_ALLOW)
		return 403;
	turn_sa_set(dest, (struct sockaddr *)&norm);
	return dest->sa.sa_family == a->relayed.sa.sa_family ? 0 : 400;
}

static void do_send(struct turn_req *r, struct turn_alloc *a)
{
	const struct stun_attr *data = stun_msg_attr(&r->msg, STUN_MSATTR_DATA);
	union turn_sa dest;
	if (!data || destination(r, a, &dest) || turn_perm_add(a, &dest, r->now)) {
		metrics_inc(r->s->metrics, METRIC_TURN_DROPPED + METRIC_TURN_DROP_NO_PERMISSION);
		return;
	}
	if (a->relay_transport == TURN_TRANSPORT_TCP) {
		msturn_tcp_permit(r->s, a);
		msturn_tcp_send(r->s, a, &dest, data->val, data->len);
	} else
		turn_send_to_peer(r->s, a, &dest, data->val, data->len);
}

static void do_set_active_destination(struct turn_req *r, struct turn_alloc *a)
{
	union turn_sa dest;
	int code = destination(r, a, &dest);
	if (!code && turn_perm_add(a, &dest, r->now))
		code = 508;
	if (code) {
		reply_error(r, code);
		return;
	}
	a->active_dest = dest;
	a->has_active_dest = true;
	if (a->relay_transport == TURN_TRANSPORT_TCP)
		msturn_tcp_permit(r->s, a);
	struct stun_enc e;
	count(r, METRIC_TURN_OK);
	reply_start(r, &e, STUN_CLASS_SUCCESS);
	reply_finish(r, &e);
}

void msturn_request(struct relay_server *s, const uint8_t *buf, size_t len,
                    const struct turn_client *c, uint8_t *out, size_t cap, size_t *out_len)
{
	struct turn_req r = {.s = s, .c = c, .now = time(NULL), .out = out, .cap = cap};
	r.out_len = out_len;
	*out_len = 0;
	if (stun_msg_decode(&r.msg, buf, len) || r.msg.cls != STUN_CLASS_REQUEST) {
		metrics_inc(s->metrics, METRIC_STUN_DROPPED + METRIC_DROP_MALFORMED);
		return;
	}
	struct turn_alloc *a = turn_table_find(&s->allocs, &c->src, c->transport, c->conn);
	if (r.msg.method != STUN_METHOD_ALLOCATE && (!a || !a->msturn)) {
		if (r.msg.method == STUN_MSTURN_METHOD_SET_ACTIVE_DEST)
			reply_error(&r, 437);
		else
			metrics_inc(s->metrics,
			            METRIC_TURN_DROPPED + METRIC_TURN_DROP_NO_ALLOCATION);
		return;
	}
	if (authenticate(&r, a))
		return;
	if (r.msg.method == STUN_METHOD_ALLOCATE)
		do_allocate(&r, a);
	else if (r.msg.method == STUN_MSTURN_METHOD_SEND)
		do_send(&r, a);
	else
		do_set_active_destination(&r, a);
}

int msturn_raw_target(struct relay_server *s, struct turn_alloc *a, size_t len, uint64_t now_ms,
                      int *fd, const union turn_sa **peer)
{
	/* The active destination stays permitted while it is active. */
	if (!a->has_active_dest) {
		metrics_inc(s->metrics, METRIC_TURN_DROPPED + METRIC_TURN_DROP_NO_PERMISSION);
		return EACCES;
	}
	if (!turn_bandwidth_allow(s, a, 0, len, now_ms)) {
		metrics_inc(s->metrics, METRIC_TURN_DROPPED + METRIC_TURN_DROP_BANDWIDTH);
		return ENOBUFS;
	}
	metrics_inc(s->metrics, METRIC_TURN_PACKETS);
	metrics_add(s->metrics, METRIC_TURN_BYTES, (int64_t)len);
	*fd = a->relay_fd;
	*peer = &a->active_dest;
	return 0;
}
