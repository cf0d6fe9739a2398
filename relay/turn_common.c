/* What TURN's two dialects share (turn.c, msturn.c): the error codes and
 * their reasons, the 401/438 challenge, the rate limit on 401s, the
 * lifetime rule and the packet path's clock. */
#include <string.h>

#include "relay/server_priv.h"

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

const struct turn_error *turn_error(int code)
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
	metrics_inc(s->metrics, METRIC_TURN_DROPPED + METRIC_TURN_DROP_RATE_401);
	return false;
}

void turn_challenge(struct relay_server *s, struct stun_enc *e, const union turn_sa *src,
                    time_t now, uint16_t realm_type, uint16_t nonce_type)
{
	char nonce[TURN_NONCE_LEN];
	const char *realm = s->conf->turn_realm;
	turn_nonce_make(s->shared->nonce_key, now, s->conf->turn_nonce_lifetime, &src->sa, nonce);
	stun_enc_attr(e, realm_type, realm, strlen(realm));
	stun_enc_attr(e, nonce_type, nonce, sizeof(nonce));
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
