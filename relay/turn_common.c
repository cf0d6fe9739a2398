/* What TURN's two dialects share (turn.c, msturn.c): one reply path (the
 * header, the trailer, the errors and their reasons, the 401/438
 * challenge), the peer address check, the rate limit on 401s, the lifetime
 * rule and the packet path's clock. A dialect differs only in attribute
 * numbers and in what the trailer carries. */
#include <errno.h>
#include <string.h>

#include "relay/turn_int.h"

#define MSTURN_VERSION_MAX 3 /* SHA-256 integrity; IPv6 (4) and multiplexing (5, 6) not here */

struct turn_error {
	int code;
	const char *reason;
	enum metric_turn_result metric;
};

static const struct turn_error errors[] = {
    {400, "Bad Request", METRIC_TURN_400},
    {401, "Unauthorized", METRIC_TURN_401},
    {403, "Forbidden", METRIC_TURN_403},
    {420, "Unknown Attribute", METRIC_TURN_420},
    {431, "Integrity Check Failure", METRIC_TURN_431},
    {432, "Missing Username", METRIC_TURN_432},
    {434, "Missing Realm", METRIC_TURN_434},
    {435, "Missing Nonce", METRIC_TURN_435},
    {436, "Unknown User", METRIC_TURN_436},
    {437, "Allocation Mismatch", METRIC_TURN_437},
    {438, "Stale Nonce", METRIC_TURN_438},
    {440, "Address Family not Supported", METRIC_TURN_440},
    {441, "Wrong Credentials", METRIC_TURN_441},
    {442, "Unsupported Transport Protocol", METRIC_TURN_442},
    {443, "Peer Address Family Mismatch", METRIC_TURN_443},
    {446, "Connection Already Exists", METRIC_TURN_446},
    {447, "Connection Timeout or Failure", METRIC_TURN_447},
    {486, "Allocation Quota Reached", METRIC_TURN_486},
    {508, "Insufficient Capacity", METRIC_TURN_508},
};

static const struct turn_error *turn_error(int code)
{
	size_t i = 0;
	while (i < sizeof(errors) / sizeof(errors[0]) - 1 && errors[i].code != code)
		i++;
	return &errors[i]; /* an unlisted code answers 508: a bug, never silence */
}

uint64_t turn_now_ms(struct relay_server *s, time_t *sec)
{
	struct timeval tv;
	event_base_gettimeofday_cached(s->base, &tv);
	if (sec)
		*sec = tv.tv_sec;
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

bool turn_401_allowed(struct relay_server *s, const union turn_sa *src)
{
	if (turn_rate_allow(&s->rate401, s->conf->turn_401_rate, turn_now_ms(s, NULL), &src->sa))
		return true;
	turn_drop(s, METRIC_TURN_DROP_RATE_401);
	return false;
}

/* REALM and a fresh NONCE for the request's source, with the dialect's
 * attribute numbers (MS-TURN swaps them, and adds MS-VERSION). */
static void challenge(struct turn_req *r, struct stun_enc *e)
{
	struct relay_server *s = r->s;
	bool ms = r->msg->dialect == STUN_DIALECT_MSTURN;
	char nonce[TURN_NONCE_LEN];
	const char *realm = s->conf->turn_realm;
	turn_nonce_make(s->shared->nonce_key, r->now, s->conf->turn_nonce_lifetime, &r->c->src.sa,
	                nonce);
	stun_enc_attr(e, ms ? STUN_MSATTR_REALM : STUN_ATTR_REALM, realm, strlen(realm));
	stun_enc_attr(e, ms ? STUN_MSATTR_NONCE : STUN_ATTR_NONCE, nonce, sizeof(nonce));
	if (ms)
		stun_enc_u32(e, STUN_MSATTR_MS_VERSION, msturn_version_of(r->msg));
}

bool turn_replayed(struct turn_req *r)
{
	bool ms = r->msg->dialect == STUN_DIALECT_MSTURN;
	const struct stun_attr *mi = stun_msg_attr(r->msg, STUN_ATTR_MESSAGE_INTEGRITY);
	const struct stun_attr *nonce =
	    stun_msg_attr(r->msg, ms ? STUN_MSATTR_NONCE : STUN_ATTR_NONCE);
	time_t expires = nonce ? turn_nonce_expiry(nonce->val, nonce->len) : 0;
	if (!mi)
		mi = stun_msg_attr(r->msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
	if (!mi)
		return false; /* not authenticated: nothing to replay */
	struct replay_req q = {
	    .tid = r->msg->tid,
	    .tid_len = STUN_TID_LEN,
	    .mac = mi->val,
	    .mac_len = mi->len,
	    .src = &r->c->src,
	    .transport = r->c->transport,
	    .expires = expires ? expires : r->now + r->s->conf->turn_nonce_lifetime,
	};
	bool evicted;
	enum replay_verdict v = replay_check(&r->s->shared->replay, &q, r->now, &evicted);
	if (evicted)
		metrics_inc(r->s->metrics, &metric_turn_replay_evictions_total, 0);
	if (v != REPLAY_REPLAYED)
		return false;
	metrics_inc(r->s->metrics, &metric_turn_replays_refused_total, 0);
	r->why = TURN_REFUSAL_REPLAY;
	turn_reply_error(r, 438);
	return true;
}

void turn_count(struct turn_req *r, enum metric_turn_result m)
{
	metrics_inc(r->s->metrics, &metric_turn_requests_total, m);
}

void turn_drop(struct relay_server *s, enum metric_turn_drop why)
{
	turn_drops(s, why, 1);
}

void turn_drops(struct relay_server *s, enum metric_turn_drop why, unsigned n)
{
	metrics_add(s->metrics, &metric_turn_dropped_total, why, n);
	turn_drop_note(s, why);
}

void turn_reply_start(struct turn_req *r, struct stun_enc *e, enum stun_class cls)
{
	stun_enc_init(e, r->out, r->cap, r->msg->dialect, stun_type(r->msg->method, cls),
	              r->msg->tid);
}

void turn_reply_finish(struct turn_req *r, struct stun_enc *e)
{
	/* MS-TURN has neither SOFTWARE nor FINGERPRINT. */
	bool rfc = r->msg->dialect == STUN_DIALECT_RFC5389;
	const char *sw = r->s->conf->software;
	if (rfc && sw[0])
		stun_enc_attr(e, STUN_ATTR_SOFTWARE, sw, strlen(sw));
	if (r->authenticated)
		stun_enc_integrity(e, r->key, sizeof(r->key), r->mac);
	if (rfc && stun_msg_attr(r->msg, STUN_ATTR_FINGERPRINT))
		stun_enc_fingerprint(e);
	if (stun_enc_finish(e, r->out_len))
		*r->out_len = 0;
}

void turn_reply_error(struct turn_req *r, int code)
{
	struct stun_enc e;
	const struct turn_error *err = turn_error(code);
	turn_count(r, err->metric);
	turn_refusal_note(r, code);
	turn_reply_start(r, &e, STUN_CLASS_ERROR);
	stun_enc_error(&e, err->code, err->reason);
	if (code == 401 || code == 438)
		challenge(r, &e);
	turn_reply_finish(r, &e);
}

void turn_reply_ok(struct turn_req *r)
{
	struct stun_enc e;
	turn_count(r, METRIC_TURN_OK);
	turn_reply_start(r, &e, STUN_CLASS_SUCCESS);
	turn_reply_finish(r, &e);
}

int turn_code_of(const struct turn_req *r, int err)
{
	switch (err) {
	case 0:
		return 0;
	case EAFNOSUPPORT:
		return r->msg->dialect == STUN_DIALECT_MSTURN ? 400 : 440;
	case EDQUOT:
		return 486;
	default:
		return 508;
	}
}

int turn_peer_of(struct turn_req *r, const struct turn_alloc *a, const struct stun_attr *attr,
                 int family_code, union turn_sa *peer)
{
	struct sockaddr_storage raw, norm;
	int rc = r->msg->dialect == STUN_DIALECT_MSTURN ? stun_attr_addr(attr, &raw)
	                                                : stun_attr_xor_addr(r->msg, attr, &raw);
	if (rc || !turn_sa_set(peer, (struct sockaddr *)&raw))
		return 400;
	if (policy_check(r->s->policy, &peer->sa, &norm) != POLICY_ALLOW) {
		r->why = TURN_REFUSAL_PEER_POLICY;
		r->refused_peer = *peer;
		return 403;
	}
	turn_sa_set(peer, (struct sockaddr *)&norm);
	return peer->sa.sa_family == a->relayed.sa.sa_family ? 0 : family_code;
}

uint32_t msturn_version_of(const struct stun_msg *m)
{
	uint32_t v = 1;
	const struct stun_attr *a = stun_msg_attr(m, STUN_MSATTR_MS_VERSION);
	if (a && stun_attr_u32(a, &v))
		v = 1;
	return v < 1 ? 1 : v > MSTURN_VERSION_MAX ? MSTURN_VERSION_MAX : v;
}

uint32_t turn_lifetime_of(const struct conf *conf, const struct stun_msg *m)
{
	/* RFC 8656 section 7.2: min(asked, max), but never under the default. */
	uint32_t def = conf->turn_lifetime, max = conf->turn_max_lifetime, want = def;
	const struct stun_attr *lt = stun_msg_attr(m, STUN_ATTR_LIFETIME);
	if (lt && stun_attr_u32(lt, &want) == 0 && want == 0)
		return 0;
	if (want > max)
		want = max;
	return want < def ? def : want;
}
