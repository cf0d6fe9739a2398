/* TURN requests (RFC 8656, RFC 5766) in the RFC 5389 dialect: Allocate,
 * Refresh, CreatePermission, ChannelBind, and the Send indication. Every
 * request but a Send is authenticated with long-term credentials
 * (RFC 8489 section 9.2) and stateless nonces (turn_auth.h). */
#include <errno.h>
#include <string.h>

#include "core/addr.h"
#include "relay/turn_int.h"

#define TRANSPORT_UDP 17
#define TRANSPORT_TCP 6

/* 420 for comprehension-required attributes that TURN requests do not use. */
static bool known_attr(uint16_t type)
{
	switch (type) {
	case STUN_ATTR_USERNAME:
	case STUN_ATTR_MESSAGE_INTEGRITY:
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
	case STUN_ATTR_REALM:
	case STUN_ATTR_NONCE:
	case STUN_ATTR_CHANNEL_NUMBER:
	case STUN_ATTR_LIFETIME:
	case STUN_ATTR_XOR_PEER_ADDRESS:
	case STUN_ATTR_DATA:
	case STUN_ATTR_REQUESTED_ADDRESS_FAMILY:
	case STUN_ATTR_EVEN_PORT:
	case STUN_ATTR_REQUESTED_TRANSPORT:
	case STUN_ATTR_DONT_FRAGMENT:
	case STUN_ATTR_RESERVATION_TOKEN:
	case STUN_ATTR_PADDING:
	case STUN_ATTR_CONNECTION_ID:
		return true;
	default:
		return !stun_attr_comprehension_required(type);
	}
}

static bool unknown_attrs(struct turn_req *r)
{
	uint16_t unknown[BINDING_UNKNOWN_MAX];
	size_t n = 0;
	for (size_t i = 0; i < r->msg->nattrs && n < BINDING_UNKNOWN_MAX; i++)
		if (!known_attr(r->msg->attrs[i].type))
			unknown[n++] = r->msg->attrs[i].type;
	if (!n)
		return false;
	struct stun_enc e;
	turn_count(r, METRIC_TURN_420);
	turn_refusal_note(r, 420);
	turn_reply_start(r, &e, STUN_CLASS_ERROR);
	stun_enc_error(&e, 420, "Unknown Attribute");
	stun_enc_unknown(&e, unknown, n);
	turn_reply_finish(r, &e);
	return true;
}

/* The request's USERNAME, for the answer and the refusals' log line. */
static void copy_user(struct turn_req *r, const uint8_t *u, size_t len)
{
	if (len > TURN_USERNAME_MAX)
		len = TURN_USERNAME_MAX;
	memcpy(r->username, u, len);
	r->username[len] = '\0';
}

/* RFC 8489 section 9.2.4. 0 when authenticated (r->key, r->username set);
 * otherwise the reply (or a counted silence, for a rate-limited 401) is
 * already decided. */
static int authenticate(struct turn_req *r)
{
	const struct stun_attr *mi = stun_msg_attr(r->msg, STUN_ATTR_MESSAGE_INTEGRITY);
	const struct stun_attr *user = stun_msg_attr(r->msg, STUN_ATTR_USERNAME);
	const struct stun_attr *realm = stun_msg_attr(r->msg, STUN_ATTR_REALM);
	const struct stun_attr *nonce = stun_msg_attr(r->msg, STUN_ATTR_NONCE);
	if (!mi) {
		if (!turn_401_allowed(r->s, &r->c->src))
			return EAGAIN;
		turn_reply_error(r, 401);
		return EACCES;
	}
	if (!user || !realm || !nonce) {
		turn_reply_error(r, 400);
		return EINVAL;
	}
	int rc = turn_nonce_check(r->s->shared->nonce_key, r->now, &r->c->src.sa, nonce->val,
	                          nonce->len);
	copy_user(r, user->val, user->len);
	if (rc) {
		r->why = rc == ESTALE ? TURN_REFUSAL_STALE_NONCE : TURN_REFUSAL_BAD_NONCE;
		turn_reply_error(r, rc == ESTALE ? 438 : 401);
		return rc;
	}
	if (realm->len != strlen(r->s->conf->turn_realm) ||
	    memcmp(realm->val, r->s->conf->turn_realm, realm->len) != 0)
		r->why = TURN_REFUSAL_WRONG_REALM;
	else if (turn_user_key(r->s->conf, r->now, user->val, user->len, r->key))
		r->why = TURN_REFUSAL_UNKNOWN_USER;
	else if (stun_msg_check_integrity(r->msg, r->key, sizeof(r->key)))
		r->why = TURN_REFUSAL_WRONG_PASSWORD;
	if (r->why) {
		turn_reply_error(r, 401);
		return EACCES;
	}
	r->authenticated = true;
	return 0;
}

/* The allocation of this 5-tuple, checked against the request's user
 * (RFC 8656 section 5: 441 for another user's credentials). */
static struct turn_alloc *own_alloc(struct turn_req *r)
{
	struct turn_alloc *a =
	    turn_table_find(&r->s->allocs, &r->c->src, r->c->transport, r->c->conn);
	if (!a || a->msturn) {
		turn_reply_error(r, 437);
		return NULL;
	}
	if (strcmp(a->username, r->username) != 0) {
		turn_reply_error(r, 441);
		return NULL;
	}
	return a;
}

static uint32_t lifetime_of(struct turn_req *r)
{
	return turn_lifetime_of(r->s->conf, r->msg);
}

static void allocate_success(struct turn_req *r, struct turn_alloc *a, const uint8_t *token)
{
	struct stun_enc e;
	turn_count(r, METRIC_TURN_OK);
	turn_reply_start(r, &e, STUN_CLASS_SUCCESS);
	stun_enc_xor_addr(&e, STUN_ATTR_XOR_RELAYED_ADDRESS, &a->relayed.sa);
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, (uint32_t)(a->expires - r->now));
	if (token)
		stun_enc_attr(&e, STUN_ATTR_RESERVATION_TOKEN, token, 8);
	stun_enc_xor_addr(&e, STUN_ATTR_XOR_MAPPED_ADDRESS, &r->c->src.sa);
	turn_reply_finish(r, &e);
}

/* The Allocate's parameters (RFC 8656 section 7.2 steps 3-8), or the error. */
static int allocate_params(struct turn_req *r, struct turn_alloc_params *p)
{
	const struct stun_msg *m = r->msg;
	const struct stun_attr *tr = stun_msg_attr(m, STUN_ATTR_REQUESTED_TRANSPORT);
	const struct stun_attr *even = stun_msg_attr(m, STUN_ATTR_EVEN_PORT);
	const struct stun_attr *token = stun_msg_attr(m, STUN_ATTR_RESERVATION_TOKEN);
	const struct stun_attr *fam = stun_msg_attr(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	memset(p, 0, sizeof(*p));
	if (!tr || tr->len != 4)
		return 400;
	if (tr->val[0] == TRANSPORT_UDP)
		p->relay_transport = TURN_TRANSPORT_UDP;
	else if (tr->val[0] == TRANSPORT_TCP && r->c->transport == TURN_TRANSPORT_TCP)
		p->relay_transport = TURN_TRANSPORT_TCP;
	else if (tr->val[0] == TRANSPORT_TCP)
		return 400; /* RFC 6062 section 5.1: TCP relays only for TCP clients */
	else
		return 442;
	if ((token && (even || fam)) || (even && even->len != 1) || (token && token->len != 8) ||
	    (fam && fam->len != 4))
		return 400;
	if (p->relay_transport == TURN_TRANSPORT_TCP &&
	    (even || token || stun_msg_attr(m, STUN_ATTR_DONT_FRAGMENT)))
		return 400;
	p->family = r->c->local.sa.sa_family;
	if (fam)
		p->family = fam->val[0] == 1 ? AF_INET : fam->val[0] == 2 ? AF_INET6 : 0;
	if (!p->family)
		return 440;
	p->even = even != NULL;
	p->pair = even && (even->val[0] & 0x80);
	p->dont_fragment = stun_msg_attr(m, STUN_ATTR_DONT_FRAGMENT) != NULL;
	if (token) {
		p->has_token = true;
		memcpy(p->token, token->val, 8);
	}
	p->lifetime = lifetime_of(r);
	if (!p->lifetime)
		p->lifetime = r->s->conf->turn_lifetime;
	p->username = r->username;
	p->key = r->key;
	p->tid = m->tid + 4;
	return 0;
}

static void do_allocate(struct turn_req *r)
{
	struct turn_alloc *a =
	    turn_table_find(&r->s->allocs, &r->c->src, r->c->transport, r->c->conn);
	if (a) {
		/* A retransmission gets the same answer; anything else 437. */
		if (memcmp(a->tid, r->msg->tid + 4, sizeof(a->tid)) == 0 &&
		    strcmp(a->username, r->username) == 0)
			allocate_success(r, a, NULL);
		else
			turn_reply_error(r, 437);
		return;
	}
	struct turn_alloc_params p;
	uint8_t token[8] = {0};
	int code = allocate_params(r, &p);
	if (!code && turn_replayed(r))
		return; /* answered 438 */
	if (!code)
		code = turn_code_of(r, turn_alloc_create(r->s, r->c, &p, &a, token));
	if (code) {
		turn_reply_error(r, code);
		return;
	}
	static const uint8_t none[8];
	allocate_success(r, a, p.pair && memcmp(token, none, 8) ? token : NULL);
}

static void do_refresh(struct turn_req *r)
{
	struct turn_alloc *a = own_alloc(r);
	if (!a)
		return;
	uint32_t lifetime = lifetime_of(r);
	if (lifetime)
		turn_alloc_set_lifetime(r->s, a, lifetime);
	else
		turn_alloc_destroy(r->s, a);
	struct stun_enc e;
	turn_count(r, METRIC_TURN_OK);
	turn_reply_start(r, &e, STUN_CLASS_SUCCESS);
	stun_enc_u32(&e, STUN_ATTR_LIFETIME, lifetime);
	turn_reply_finish(r, &e);
}

static void do_create_permission(struct turn_req *r)
{
	struct turn_alloc *a = own_alloc(r);
	if (!a)
		return;
	union turn_sa peers[STUN_MAX_ATTRS];
	size_t n = 0;
	/* All or nothing (RFC 8656 section 10.2): check every peer first. */
	for (size_t i = 0; i < r->msg->nattrs; i++) {
		if (r->msg->attrs[i].type != STUN_ATTR_XOR_PEER_ADDRESS)
			continue;
		int code = turn_peer_of(r, a, &r->msg->attrs[i], 443, &peers[n]);
		if (code) {
			turn_reply_error(r, code);
			return;
		}
		n++;
	}
	if (!n) {
		turn_reply_error(r, 400);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (turn_perm_add(a, &peers[i], r->now)) {
			turn_reply_error(r, 508);
			return;
		}
	turn_reply_ok(r);
}

static void do_channel_bind(struct turn_req *r)
{
	struct turn_alloc *a = own_alloc(r);
	if (!a)
		return;
	const struct stun_attr *num = stun_msg_attr(r->msg, STUN_ATTR_CHANNEL_NUMBER);
	const struct stun_attr *pa = stun_msg_attr(r->msg, STUN_ATTR_XOR_PEER_ADDRESS);
	uint32_t v;
	union turn_sa peer;
	/* RFC 6062 section 4: no channels on a TCP allocation. */
	if (!num || !pa || stun_attr_u32(num, &v) || a->relay_transport != TURN_TRANSPORT_UDP) {
		turn_reply_error(r, 400);
		return;
	}
	uint16_t number = (uint16_t)(v >> 16);
	if (number < 0x4000 || number > 0x7FFF) {
		turn_reply_error(r, 400);
		return;
	}
	int code = turn_peer_of(r, a, pa, 443, &peer);
	if (code) {
		turn_reply_error(r, code);
		return;
	}
	int rc = turn_chan_bind(a, number, &peer, r->now);
	if (!rc)
		rc = turn_perm_add(a, &peer, r->now);
	if (rc) {
		turn_reply_error(r, rc == EEXIST ? 400 : 508);
		return;
	}
	turn_reply_ok(r);
}

/* Send indication (RFC 8656 section 11.2): no answer, ever; silently
 * dropped (and counted) without an allocation or a permission. */
static void do_send(struct turn_req *r)
{
	const struct stun_attr *pa = stun_msg_attr(r->msg, STUN_ATTR_XOR_PEER_ADDRESS);
	const struct stun_attr *data = stun_msg_attr(r->msg, STUN_ATTR_DATA);
	struct turn_alloc *a =
	    turn_table_find(&r->s->allocs, &r->c->src, r->c->transport, r->c->conn);
	struct sockaddr_storage raw;
	union turn_sa peer;
	if (!a) {
		turn_drop(r->s, METRIC_TURN_DROP_NO_ALLOCATION);
		return;
	}
	if (!pa || !data || stun_attr_xor_addr(r->msg, pa, &raw) ||
	    !turn_sa_set(&peer, (struct sockaddr *)&raw) || !turn_perm_find(a, &peer, r->now)) {
		turn_drop(r->s, METRIC_TURN_DROP_NO_PERMISSION);
		return;
	}
	turn_send_to_peer(r->s, a, &peer, data->val, data->len);
}

/* Connect (RFC 6062 section 5.2): answered when the connection is up. */
static void do_connect(struct turn_req *r)
{
	struct turn_alloc *a = own_alloc(r);
	const struct stun_attr *pa = stun_msg_attr(r->msg, STUN_ATTR_XOR_PEER_ADDRESS);
	union turn_sa peer;
	if (!a)
		return;
	if (!pa || a->relay_transport != TURN_TRANSPORT_TCP) {
		turn_reply_error(r, 400);
		return;
	}
	int code = turn_peer_of(r, a, pa, 443, &peer);
	if (!code)
		code = turn_tcp_connect(r->s, a, &peer, r->msg->tid);
	if (code) /* under way: counted with its answer (turn_tcp.c) */
		turn_reply_error(r, code);
}

/* ConnectionBind (RFC 6062 section 5.4), on a new connection of its own. */
static void do_connection_bind(struct turn_req *r)
{
	const struct stun_attr *id = stun_msg_attr(r->msg, STUN_ATTR_CONNECTION_ID);
	uint32_t conn_id;
	if (!r->c->conn || !id || stun_attr_u32(id, &conn_id) ||
	    turn_table_find(&r->s->allocs, &r->c->src, r->c->transport, r->c->conn)) {
		turn_reply_error(r, 400);
		return;
	}
	turn_reply_ok(r);
	if (turn_tcp_bind(r->s, r->c->conn, conn_id, r->username, r->out, *r->out_len)) {
		turn_reply_error(r, 400);
		return;
	}
	*r->out_len = 0; /* already written, before the pipe took over */
}

/* The methods this dialect's handler takes, in any class (RFC 5389 dialect). */
static bool turn_method(uint16_t method)
{
	return method >= STUN_METHOD_ALLOCATE && method <= STUN_METHOD_CONNECTION_ATTEMPT &&
	       method != STUN_METHOD_DATA;
}

static void answer(struct turn_req *r)
{
	if (unknown_attrs(r) || authenticate(r))
		return;
	switch (r->msg->method) {
	case STUN_METHOD_ALLOCATE:
		do_allocate(r);
		break;
	case STUN_METHOD_REFRESH:
		do_refresh(r);
		break;
	case STUN_METHOD_CREATE_PERMISSION:
		do_create_permission(r);
		break;
	case STUN_METHOD_CHANNEL_BIND:
		do_channel_bind(r);
		break;
	case STUN_METHOD_CONNECT:
		do_connect(r);
		break;
	case STUN_METHOD_CONNECTION_BIND:
		do_connection_bind(r);
		break;
	default:
		turn_reply_error(r, 400);
		break;
	}
}

bool turn_handler(struct relay_server *s, struct relay_msg *m)
{
	if (m->stun.dialect != STUN_DIALECT_RFC5389 || !turn_method(m->stun.method))
		return false;
	struct turn_req r = {.s = s, .c = m->client, .msg = &m->stun, .now = time(NULL)};
	r.out = m->out;
	r.cap = m->cap;
	r.out_len = &m->out_len;
	if (stun_msg_check_fingerprint(r.msg) == EACCES)
		metrics_inc(s->metrics, &metric_stun_dropped_total, METRIC_DROP_MALFORMED);
	else if (r.msg->cls == STUN_CLASS_REQUEST)
		answer(&r);
	else if (r.msg->cls == STUN_CLASS_INDICATION && r.msg->method == STUN_METHOD_SEND)
		do_send(&r);
	else
		metrics_inc(s->metrics, &metric_stun_dropped_total, METRIC_DROP_NOT_REQUEST);
	return true;
}
