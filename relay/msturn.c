/* MS-TURN (docs/msturn.md): Microsoft's TURN dialect on the same UDP
 * socket, the same allocation table and port pool as RFC TURN. Allocate
 * (also its refresh: another Allocate on the 5-tuple), Send (no response;
 * grants the destination a permission) and Set Active Destination (then data
 * flows raw both ways). Attributes are unpadded; integrity is HMAC over the
 * message zero-padded to 64 bytes, SHA-1 or, from MS-Version 3, SHA-256. */
#include <errno.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/addr.h"
#include "relay/turn_int.h"

#define MSTURN_BANDWIDTH 0 /* BANDWIDTH in the Allocate answer: no limit announced */

/* libnice strips a leading quote and a trailing quote or NUL (docs/msturn.md). */
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

/* docs/msturn.md "Authentication". a: the 5-tuple's allocation, when there is
 * one: its nonce stays good for its whole life (libnice never retries on
 * 438), and Send and Set Active Destination carry no REALM or NONCE. */
static int authenticate(struct turn_req *r, const struct turn_alloc *a)
{
	const struct stun_attr *mi = stun_msg_attr(r->msg, STUN_ATTR_MESSAGE_INTEGRITY);
	const struct stun_attr *user = stun_msg_attr(r->msg, STUN_ATTR_USERNAME);
	const struct stun_attr *realm = stun_msg_attr(r->msg, STUN_MSATTR_REALM);
	const struct stun_attr *nonce = stun_msg_attr(r->msg, STUN_MSATTR_NONCE);
	bool allocate = r->msg->method == STUN_METHOD_ALLOCATE;
	if (!mi) {
		if (!allocate)
			return EACCES; /* Send and SAD have no error answer: dropped */
		if (!turn_401_allowed(r->s, &r->c->src))
			return EAGAIN;
		turn_reply_error(r, 401);
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
		code = 436, r->why = TURN_REFUSAL_WRONG_REALM;
	if (!code && nonce &&
	    !(a && a->msturn && nonce->len == sizeof(a->nonce) &&
	      memcmp(nonce->val, a->nonce, sizeof(a->nonce)) == 0)) {
		int rc = turn_nonce_check(r->s->shared->nonce_key, r->now, &r->c->src.sa,
		                          nonce->val, nonce->len);
		if (rc) /* MS-TURN answers 438 to both: libnice retries on it */
			code = 438,
			r->why = rc == ESTALE ? TURN_REFUSAL_STALE_NONCE : TURN_REFUSAL_BAD_NONCE;
	}
	const uint8_t *u = user ? user->val : NULL;
	size_t ulen = user ? user->len : 0;
	strip(&u, &ulen);
	if (!code && turn_user_key(r->s->conf, r->now, u, ulen, r->key))
		code = 436, r->why = TURN_REFUSAL_UNKNOWN_USER;
	if (!code && a && (ulen != strlen(a->username) || memcmp(u, a->username, ulen)))
		code = 436, r->why = TURN_REFUSAL_WRONG_USER;
	if (!code && stun_msg_check_integrity(r->msg, r->key, sizeof(r->key)))
		code = 431, r->why = TURN_REFUSAL_WRONG_PASSWORD;
	if (code) {
		if (ulen > TURN_USERNAME_MAX)
			ulen = TURN_USERNAME_MAX;
		if (u) /* for the refusal's log line */
			memcpy(r->username, u, ulen);
		r->username[ulen] = '\0';
		if (allocate || r->msg->method == STUN_MSTURN_METHOD_SET_ACTIVE_DEST)
			turn_reply_error(r, code);
		else
			turn_drop(r->s, METRIC_TURN_DROP_NO_PERMISSION);
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
	turn_count(r, METRIC_TURN_OK);
	memcpy(seq, a->ms_conn_id, 20);
	memset(seq + 20, 0, 4); /* sequence numbers are not enforced (docs/msturn.md) */
	turn_reply_start(r, &e, STUN_CLASS_SUCCESS);
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, (uint32_t)(a->expires - r->now));
	stun_enc_addr(&e, STUN_MSATTR_MAPPED_ADDRESS, &a->relayed.sa);
	stun_enc_u32(&e, STUN_MSATTR_MS_VERSION, a->ms_version);
	stun_enc_xor_addr(&e, STUN_MSATTR_XOR_MAPPED_ADDRESS, &r->c->src.sa);
	stun_enc_attr(&e, STUN_MSATTR_MS_SEQUENCE_NUMBER, seq, sizeof(seq));
	stun_enc_u32(&e, STUN_MSATTR_BANDWIDTH, MSTURN_BANDWIDTH);
	turn_reply_finish(r, &e);
}

static uint32_t lifetime_of(struct turn_req *r)
{
	return turn_lifetime_of(r->s->conf, r->msg);
}

/* Allocate, or its refresh on the same 5-tuple; LIFETIME 0 deletes. */
static void do_allocate(struct turn_req *r, struct turn_alloc *a)
{
	uint32_t lifetime = lifetime_of(r);
	if (a && !a->msturn) {
		turn_reply_error(r, 437);
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
		turn_count(r, METRIC_TURN_OK);
		turn_reply_start(r, &e, STUN_CLASS_SUCCESS);
		stun_enc_u32(&e, STUN_ATTR_LIFETIME, 0);
		turn_reply_finish(r, &e);
		return;
	}
	if (a) {
		turn_alloc_set_lifetime(r->s, a, lifetime);
		allocate_success(r, a);
		return;
	}
	if (turn_replayed(r))
		return; /* answered 438 */
	const struct stun_attr *nonce = stun_msg_attr(r->msg, STUN_MSATTR_NONCE);
	struct turn_alloc_params p = {
	    /* [MS-TURN]: the relayed address has the transport the Allocate came over. */
	    .relay_transport = r->c->transport,
	    .family = AF_INET,
	    .lifetime = lifetime,
	    .username = r->username,
	    .key = r->key,
	    .tid = r->msg->tid + 4,
	};
	uint8_t token[8];
	int code = turn_code_of(r, turn_alloc_create(r->s, r->c, &p, &a, token));
	if (code) {
		turn_reply_error(r, code);
		return;
	}
	a->msturn = true;
	a->ms_version = msturn_version_of(r->msg);
	if (nonce && nonce->len == sizeof(a->nonce))
		memcpy(a->nonce, nonce->val, sizeof(a->nonce));
	RAND_bytes(a->ms_conn_id, sizeof(a->ms_conn_id));
	allocate_success(r, a);
}

static void do_send(struct turn_req *r, struct turn_alloc *a)
{
	const struct stun_attr *data = stun_msg_attr(r->msg, STUN_MSATTR_DATA);
	const struct stun_attr *d = stun_msg_attr(r->msg, STUN_MSATTR_DESTINATION_ADDRESS);
	union turn_sa dest;
	if (!data || !d || turn_peer_of(r, a, d, 400, &dest) || turn_perm_add(a, &dest, r->now)) {
		turn_drop(r->s, METRIC_TURN_DROP_NO_PERMISSION);
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
	const struct stun_attr *d = stun_msg_attr(r->msg, STUN_MSATTR_DESTINATION_ADDRESS);
	union turn_sa dest;
	int code = d ? turn_peer_of(r, a, d, 400, &dest) : 400;
	if (!code && turn_perm_add(a, &dest, r->now))
		code = 508;
	if (code) {
		turn_reply_error(r, code);
		return;
	}
	a->active_dest = dest;
	a->has_active_dest = true;
	if (a->relay_transport == TURN_TRANSPORT_TCP)
		msturn_tcp_permit(r->s, a);
	turn_reply_ok(r);
}

/* The methods this dialect's handler takes. */
static bool msturn_method(uint16_t method)
{
	return method == STUN_METHOD_ALLOCATE || method == STUN_MSTURN_METHOD_SEND ||
	       method == STUN_MSTURN_METHOD_SET_ACTIVE_DEST;
}

bool msturn_handler(struct relay_server *s, struct relay_msg *m)
{
	if (m->stun.dialect != STUN_DIALECT_MSTURN || !msturn_method(m->stun.method))
		return false;
	struct turn_req r = {.s = s, .c = m->client, .msg = &m->stun, .now = time(NULL)};
	const struct turn_client *c = m->client;
	r.out = m->out;
	r.cap = m->cap;
	r.out_len = &m->out_len;
	if (r.msg->cls != STUN_CLASS_REQUEST) {
		metrics_inc(s->metrics, &metric_stun_dropped_total, METRIC_DROP_MALFORMED);
		return true;
	}
	struct turn_alloc *a = turn_table_find(&s->allocs, &c->src, c->transport, c->conn);
	if (r.msg->method != STUN_METHOD_ALLOCATE && (!a || !a->msturn)) {
		if (r.msg->method == STUN_MSTURN_METHOD_SET_ACTIVE_DEST)
			turn_reply_error(&r, 437);
		else
			turn_drop(s, METRIC_TURN_DROP_NO_ALLOCATION);
		return true;
	}
	if (authenticate(&r, a))
		return true;
	if (r.msg->method == STUN_METHOD_ALLOCATE)
		do_allocate(&r, a);
	else if (r.msg->method == STUN_MSTURN_METHOD_SEND)
		do_send(&r, a);
	else
		do_set_active_destination(&r, a);
	return true;
}

int msturn_raw_target(struct relay_server *s, struct turn_alloc *a, size_t len, uint64_t now_ms,
                      int *fd, const union turn_sa **peer)
{
	/* The active destination stays permitted while it is active. */
	if (!a->has_active_dest) {
		turn_drop(s, METRIC_TURN_DROP_NO_PERMISSION);
		return EACCES;
	}
	if (!turn_bandwidth_allow(s, a, 0, len, now_ms)) {
		turn_drop(s, METRIC_TURN_DROP_BANDWIDTH);
		return ENOBUFS;
	}
	metrics_inc(s->metrics, &metric_turn_relayed_packets_total, 0);
	metrics_add(s->metrics, &metric_turn_relayed_bytes_total, 0, (int64_t)len);
	*fd = a->relay_fd;
	*peer = &a->active_dest;
	return 0;
}
