/* relay/turn_auth.c, relay/alloc.c and relay/quota.c: TURN credentials and
 * stateless nonces, the 401 limiter, an allocation's permissions and
 * channels, and the quotas shared by the workers. Then TURN requests on an
 * in-process server (tests/unit/relay_rig.h): an allocation that fails
 * once it is in the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "relay/alloc.h"
#include "relay/quota.h"
#include "relay/replay.h"
#include "stun/stun.h"
#include "relay/turn_auth.h"
#include "relay/turn_int.h"
#include "tests/unit/relay_rig.h"

static const uint8_t key[TURN_NONCE_KEY_LEN] = "0123456789abcdef0123456789abcde";

static struct sockaddr_storage sa(const char *s)
{
	struct sockaddr_storage out;
	assert_int_equal(addr_parse(s, 0, &out), 0);
	return out;
}

static void test_turn_nonce_valid_stale_and_forged(void **state)
{
	(void)state;
	char nonce[TURN_NONCE_LEN];
	struct sockaddr_storage a = sa("192.0.2.1:5000"), b = sa("192.0.2.2:5000");
	struct sockaddr_storage a_other_port = sa("192.0.2.1:6000");
	turn_nonce_make(key, 1000, 600, (struct sockaddr *)&a, nonce);
	const uint8_t *n = (const uint8_t *)nonce;
	assert_int_equal(turn_nonce_check(key, 1000, (struct sockaddr *)&a, n, sizeof(nonce)), 0);
	assert_int_equal(turn_nonce_check(key, 1600, (struct sockaddr *)&a, n, sizeof(nonce)), 0);
	/* The IP is part of it, the port is not. */
	assert_int_equal(
	    turn_nonce_check(key, 1000, (struct sockaddr *)&a_other_port, n, sizeof(nonce)), 0);
	assert_int_equal(turn_nonce_check(key, 1000, (struct sockaddr *)&b, n, sizeof(nonce)),
	                 EACCES);
	/* Expired: 438, not 401. */
	assert_int_equal(turn_nonce_check(key, 1601, (struct sockaddr *)&a, n, sizeof(nonce)),
	                 ESTALE);
	/* A changed expiry or MAC, a short nonce, another key: refused. */
	char forged[TURN_NONCE_LEN];
	memcpy(forged, nonce, sizeof(forged));
	forged[1] = forged[1] == 'f' ? '0' : 'f';
	assert_int_equal(turn_nonce_check(key, 1000, (struct sockaddr *)&a, (const uint8_t *)forged,
	                                  sizeof(forged)),
	                 EACCES);
	assert_int_equal(turn_nonce_check(key, 1000, (struct sockaddr *)&a, n, sizeof(nonce) - 1),
	                 EACCES);
	uint8_t other[TURN_NONCE_KEY_LEN] = {1};
	assert_int_equal(turn_nonce_check(other, 1000, (struct sockaddr *)&a, n, sizeof(nonce)),
	                 EACCES);
}

static void test_turn_rest_password_is_coturns(void **state)
{
	(void)state;
	char pass[29];
	/* echo -n 1700000000:bob | openssl dgst -sha1 -hmac lab-rest-secret -binary | base64 */
	turn_rest_password("lab-rest-secret", "1700000000:bob", pass);
	assert_string_equal(pass, "jk2kH4shEriMKhptogiMK/UdPGo=");
}

static void test_turn_user_key_static_and_rest(void **state)
{
	(void)state;
	struct conf *conf;
	uint8_t k[16], want[16];
	char err[CONF_ERR_MAX];
	static const char text[] = "turn_realm lab.example\nturn_user alice secret\n"
	                           "use_auth_secret yes\nstatic_auth_secret lab-rest-secret\n";
	assert_int_equal(conf_load_buf(text, sizeof(text) - 1, "t", &conf, err, sizeof(err)), 0);
	assert_int_equal(turn_user_key(conf, 1000, (const uint8_t *)"alice", 5, k), 0);
	stun_key_longterm("alice", "lab.example", "secret", want);
	assert_memory_equal(k, want, 16);
	assert_int_equal(turn_user_key(conf, 1000, (const uint8_t *)"mallory", 7, k), ENOENT);
	/* REST: not expired, the coturn password. */
	assert_int_equal(turn_user_key(conf, 1600000000, (const uint8_t *)"1700000000:bob", 14, k),
	                 0);
	stun_key_longterm("1700000000:bob", "lab.example", "jk2kH4shEriMKhptogiMK/UdPGo=", want);
	assert_memory_equal(k, want, 16);
	/* Expired, or not a timestamp. */
	assert_int_equal(turn_user_key(conf, 1700000001, (const uint8_t *)"1700000000:bob", 14, k),
	                 ENOENT);
	assert_int_equal(turn_user_key(conf, 1, (const uint8_t *)"x1700000000", 11, k), ENOENT);
	assert_int_equal(turn_user_key(conf, 1, (const uint8_t *)"", 0, k), ENOENT);
	conf_unref(conf);
}

static void test_turn_rate_limits_401s_per_source(void **state)
{
	(void)state;
	static struct turn_rate r;
	struct sockaddr_storage a = sa("192.0.2.1"), b = sa("192.0.2.2");
	int allowed = 0;
	for (int i = 0; i < 100; i++)
		allowed += turn_rate_allow(&r, 10, 5000, (struct sockaddr *)&a);
	assert_int_equal(allowed, 20); /* a burst of twice the rate */
	assert_true(turn_rate_allow(&r, 10, 5000, (struct sockaddr *)&b)); /* another source */
	assert_false(turn_rate_allow(&r, 10, 5050, (struct sockaddr *)&a));
	assert_true(turn_rate_allow(&r, 10, 5100, (struct sockaddr *)&a)); /* 10/s refill */
	assert_true(turn_rate_allow(&r, 0, 5100, (struct sockaddr *)&a));  /* 0: no limit */
}

static union turn_sa tsa(const char *s)
{
	struct sockaddr_storage ss = sa(s);
	union turn_sa out;
	assert_true(turn_sa_set(&out, (struct sockaddr *)&ss));
	return out;
}

static void test_turn_permissions_by_ip_and_expiry(void **state)
{
	(void)state;
	struct turn_alloc a = {0};
	union turn_sa p1 = tsa("192.0.2.1:1000"), p1b = tsa("192.0.2.1:2000");
	union turn_sa p2 = tsa("[2001:db8::1]:1000"), mapped = tsa("[::ffff:192.0.2.1]:9");
	assert_null(turn_perm_find(&a, &p1, 0));
	assert_int_equal(turn_perm_add(&a, &p1, 0), 0);
	assert_non_null(turn_perm_find(&a, &p1b, 10));    /* any port */
	assert_non_null(turn_perm_find(&a, &mapped, 10)); /* unmapped first */
	assert_null(turn_perm_find(&a, &p2, 10));
	assert_null(turn_perm_find(&a, &p1, TURN_PERM_LIFETIME + 1)); /* expired */
	assert_int_equal(turn_perm_add(&a, &p1, 200), 0);             /* refreshed */
	assert_non_null(turn_perm_find(&a, &p1, TURN_PERM_LIFETIME + 1));
	/* Up to TURN_PERMS_MAX, then ENOSPC (508); a sweep drops the expired. */
	for (int i = 1; i < TURN_PERMS_MAX; i++) {
		char s[64];
		snprintf(s, sizeof(s), "198.51.100.%d:1", i);
		union turn_sa p = tsa(s);
		assert_int_equal(turn_perm_add(&a, &p, 0), 0);
	}
	assert_int_equal(turn_perm_add(&a, &p2, 0), ENOSPC);
	turn_alloc_sweep(&a, TURN_PERM_LIFETIME + 1);
	assert_int_equal(a.n_perms, 1);
	assert_non_null(turn_perm_find(&a, &p1, TURN_PERM_LIFETIME + 1));
	assert_int_equal(turn_perm_add(&a, &p2, 301), 0);
	assert_non_null(turn_perm_find(&a, &p2, 302));
	turn_alloc_clear(&a);
}

static void test_turn_channels_both_ways(void **state)
{
	(void)state;
	struct turn_alloc a = {0};
	union turn_sa p1 = tsa("192.0.2.1:1000"), p2 = tsa("192.0.2.1:1001");
	assert_int_equal(turn_chan_bind(&a, 0x4000, &p1, 0), 0);
	assert_int_equal(turn_chan_bind(&a, 0x4000, &p1, 5), 0); /* refresh */
	/* RFC 8656 12.1: one number, one peer, both ways. */
	assert_int_equal(turn_chan_bind(&a, 0x4000, &p2, 5), EEXIST);
	assert_int_equal(turn_chan_bind(&a, 0x4001, &p1, 5), EEXIST);
	assert_int_equal(turn_chan_bind(&a, 0x4010, &p2, 5), 0); /* same bucket as 0x4000 */
	assert_true(turn_sa_equal(&turn_chan_by_number(&a, 0x4000, 6)->peer, &p1));
	assert_true(turn_sa_equal(&turn_chan_by_number(&a, 0x4010, 6)->peer, &p2));
	assert_int_equal(turn_chan_by_peer(&a, &p2, 6)->number, 0x4010);
	assert_null(turn_chan_by_number(&a, 0x4001, 6));
	assert_null(turn_chan_by_number(&a, 0x4000, TURN_CHAN_LIFETIME + 6));
	turn_alloc_sweep(&a, TURN_CHAN_LIFETIME + 5);
	assert_int_equal(a.n_chans, 2);
	turn_alloc_sweep(&a, TURN_CHAN_LIFETIME + 6);
	assert_int_equal(a.n_chans, 0);
	assert_null(turn_chan_by_peer(&a, &p2, 0));
	turn_alloc_clear(&a);
}

static void test_turn_table_by_five_tuple(void **state)
{
	(void)state;
	static struct turn_table t;
	struct turn_alloc a = {0}, b = {0};
	struct relay_conn conn = {0}; /* a TCP client's connection: only its identity counts */
	union turn_sa c1 = tsa("192.0.2.1:5000"), c2 = tsa("192.0.2.1:5001");
	a.client = tsa("192.0.2.1:5000");
	b.client = tsa("192.0.2.1:5000");
	b.client_transport = TURN_TRANSPORT_TCP;
	b.client_conn = &conn;
	turn_table_insert(&t, &a);
	turn_table_insert(&t, &b);
	assert_ptr_equal(turn_table_find(&t, &c1, TURN_TRANSPORT_UDP, NULL), &a);
	assert_ptr_equal(turn_table_find(&t, &c1, TURN_TRANSPORT_TCP, &conn), &b);
	assert_null(turn_table_find(&t, &c2, TURN_TRANSPORT_UDP, NULL));
	turn_table_remove(&t, &a);
	assert_null(turn_table_find(&t, &c1, TURN_TRANSPORT_UDP, NULL));
	assert_int_equal(t.count, 1);
	turn_table_remove(&t, &b);
}

static void release_count(uint16_t port, void *arg)
{
	(void)port;
	(*(int *)arg)++;
}

static void test_turn_quota_user_total_and_reservations(void **state)
{
	(void)state;
	static struct quota q;
	quota_init(&q);
	assert_int_equal(quota_take(&q, "alice", 2, 3), 0);
	assert_int_equal(quota_take(&q, "alice", 2, 3), 0);
	assert_int_equal(quota_take(&q, "alice", 2, 3), EDQUOT); /* 486 */
	assert_int_equal(quota_take(&q, "bob", 2, 3), 0);
	assert_int_equal(quota_take(&q, "carol", 2, 3), ENOSPC); /* 508 */
	quota_release(&q, "alice");
	assert_int_equal(quota_take(&q, "carol", 2, 3), 0);
	quota_release(&q, "nobody"); /* a no-op */
	assert_int_equal(q.total, 3);

	uint8_t token[8], bad[8] = {0};
	struct sockaddr_storage odd = sa("[2001:db8::7]:50001");
	struct sockaddr_in6 got;
	assert_int_equal(quota_reserve(&q, (struct sockaddr *)&odd, 100, token), 0);
	assert_int_equal(quota_claim(&q, bad, 100, &got), ENOENT);
	assert_int_equal(quota_claim(&q, token, 100, &got), 0);
	assert_int_equal(got.sin6_family, AF_INET6);
	assert_int_equal(ntohs(got.sin6_port), 50001);
	assert_int_equal(quota_claim(&q, token, 100, &got), ENOENT); /* once */
	int released = 0;
	assert_int_equal(quota_reserve(&q, (struct sockaddr *)&odd, 100, token), 0);
	quota_reservations_expire(&q, 100 + QUOTA_RESERVATION_LIFE, release_count, &released);
	assert_int_equal(released, 0);
	quota_reservations_expire(&q, 101 + QUOTA_RESERVATION_LIFE, release_count, &released);
	assert_int_equal(released, 1);
	assert_int_equal(quota_claim(&q, token, 100, &got), ENOENT);
	quota_fini(&q);
}

/* A request of the replay cache's tests: transaction id number n from
 * 127.0.0.1:port over UDP, its nonce valid until expires. */
struct replay_case {
	uint8_t tid[STUN_TID_LEN], mac[REPLAY_MAC_LEN];
	union turn_sa src;
	struct replay_req q;
};

static const struct replay_req *replay_case(struct replay_case *c, uint32_t n, uint16_t port,
                                            time_t expires)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->tid, &n, sizeof(n));
	memset(c->mac, 0xa5, sizeof(c->mac));
	c->src = tsa("127.0.0.1:1");
	addr_set_port(&c->src.sa, port);
	c->q = (struct replay_req){c->tid,  sizeof(c->tid),     c->mac, sizeof(c->mac),
	                           &c->src, TURN_TRANSPORT_UDP, expires};
	return &c->q;
}

/* relay/replay.c: an exact copy from the same 5-tuple is a retransmission
 * for REPLAY_WINDOW seconds, a replay after that or from anywhere else
 * (another port, another transport); another MAC is another request. The
 * cache holds cap entries whatever comes: the oldest is overwritten, counted
 * as an eviction only while its nonce is valid, and then forgotten. */
static void test_turn_replay_cache_window_and_bound(void **state)
{
	(void)state;
	static struct replay rp;
	struct replay_case c;
	bool evicted;
	const time_t t = 100000;
	assert_int_equal(replay_init(&rp, 8), 0);
	assert_int_equal(replay_check(&rp, replay_case(&c, 1, 5000, t + 300), t, &evicted),
	                 REPLAY_NEW);
	assert_false(evicted);
	const struct replay_req *q = replay_case(&c, 1, 5000, t + 300);
	assert_int_equal(replay_check(&rp, q, t + REPLAY_WINDOW, &evicted), REPLAY_RETRANSMIT);
	assert_int_equal(replay_check(&rp, q, t + REPLAY_WINDOW + 1, &evicted), REPLAY_REPLAYED);
	assert_int_equal(replay_check(&rp, replay_case(&c, 1, 5001, t + 300), t, &evicted),
	                 REPLAY_REPLAYED);
	replay_case(&c, 1, 5000, t + 300);
	c.q.transport = TURN_TRANSPORT_TCP;
	assert_int_equal(replay_check(&rp, &c.q, t, &evicted), REPLAY_REPLAYED);
	replay_case(&c, 1, 5001, t + 300);
	c.mac[0] ^= 1;
	assert_int_equal(replay_check(&rp, &c.q, t, &evicted), REPLAY_NEW); /* entry 2 */

	/* Past the bound: 6 more fill it (8), then 12 overwrite the oldest,
	 * their nonces still valid: 12 evictions, never more than 8 held. */
	int evictions = 0;
	for (uint32_t n = 100; n < 118; n++) {
		assert_int_equal(replay_check(&rp, replay_case(&c, n, 6000, t + 300), t, &evicted),
		                 REPLAY_NEW);
		evictions += evicted;
	}
	assert_int_equal(evictions, 18 - 6);
	/* Forgotten: the first ones are new again; the last 8 are remembered. */
	assert_int_equal(replay_check(&rp, replay_case(&c, 100, 6001, t + 300), t, &evicted),
	                 REPLAY_NEW);
	assert_int_equal(replay_check(&rp, replay_case(&c, 117, 6001, t + 300), t, &evicted),
	                 REPLAY_REPLAYED);
	/* Entries whose nonces have expired go without counting. */
	evictions = 0;
	for (uint32_t n = 200; n < 216; n++) {
		replay_check(&rp, replay_case(&c, n, 7000, t + 10), t + 20, &evicted);
		evictions += evicted;
	}
	assert_int_equal(evictions, 8); /* the 8 live ones above, not the 8 expired */
	replay_fini(&rp);
}

/* listen(2), wrapped at link time (tests/relay.inc): it fails while
 * fail_listen is set, as when another socket holds the port. */
static bool fail_listen;
int __real_listen(int fd, int backlog);
int __wrap_listen(int fd, int backlog);
int __wrap_listen(int fd, int backlog)
{
	if (!fail_listen)
		return __real_listen(fd, backlog);
	errno = EADDRINUSE;
	return -1;
}

#define TRANSPORT_UDP 17
#define TRANSPORT_TCP 6

/* An RFC 5389 TURN request from alice: REQUESTED-TRANSPORT transport
 * (Allocate; 0 none), LIFETIME lifetime (Refresh; ~0u none), XOR-PEER-ADDRESS
 * peer (NULL none), the nonce and SHA-1 integrity. */
static size_t turn_request(uint16_t method, const uint8_t tid[STUN_TID_LEN], uint8_t transport,
                           uint32_t lifetime, const struct sockaddr *peer, const char *nonce,
                           uint8_t *buf)
{
	struct stun_enc e;
	uint8_t alice[16];
	size_t len;
	stun_key_longterm("alice", "lab.example", "secret", alice);
	stun_enc_init(&e, buf, STUN_MAX_MSG_LEN, STUN_DIALECT_RFC5389,
	              stun_type(method, STUN_CLASS_REQUEST), tid);
	if (transport)
		stun_enc_u32(&e, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)transport << 24);
	if (lifetime != ~0u)
		stun_enc_u32(&e, STUN_ATTR_LIFETIME, lifetime);
	if (peer)
		stun_enc_xor_addr(&e, STUN_ATTR_XOR_PEER_ADDRESS, peer);
	stun_enc_attr(&e, STUN_ATTR_USERNAME, "alice", 5);
	stun_enc_attr(&e, STUN_ATTR_REALM, "lab.example", 11);
	stun_enc_attr(&e, STUN_ATTR_NONCE, nonce, strlen(nonce));
	stun_enc_integrity(&e, alice, sizeof(alice), STUN_MAC_SHA1);
	assert_int_equal(stun_enc_finish(&e, &len), 0);
	return len;
}

/* A fresh transaction id (RFC 5389: the cookie first). */
static void new_tid(uint8_t tid[STUN_TID_LEN])
{
	static const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
	memcpy(tid, cookie, 4);
	for (size_t i = 4; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)random();
}

/* A nonce of the rig's key for c, valid for 600 s. */
static void rig_nonce(struct relay_rig *r, const struct turn_client *c,
                      char out[TURN_NONCE_LEN + 1])
{
	turn_nonce_make(r->shared.nonce_key, time(NULL), 600, &c->src.sa, out);
	out[TURN_NONCE_LEN] = '\0';
}

/* A fresh request from c (turn_request's attributes), answered: 0 for a
 * success, its error code, or -1 when there is no answer (yet). */
static int turn_ask(struct relay_rig *r, const struct turn_client *c, uint16_t method,
                    uint8_t transport, uint32_t lifetime, const struct sockaddr *peer,
                    const char *nonce)
{
	uint8_t req[STUN_MAX_MSG_LEN], out[RELAY_REPLY_MAX], tid[STUN_TID_LEN];
	struct stun_msg m;
	new_tid(tid);
	size_t len = turn_request(method, tid, transport, lifetime, peer, nonce, req);
	if (!relay_rig_ask(r, c, req, len, STUN_DIALECT_RFC5389, out, &m))
		return -1;
	return relay_rig_error(&m);
}

/* An Allocate that fails once the allocation is in the table (its TCP
 * relayed socket cannot listen) gets 508 and leaves nothing behind: the
 * open-allocations gauge is back at 0 (never below: it is unsigned in the
 * shards, so -1 would read 2^64 - 1), none counted as created, its port and
 * the user's quota (1 here) given back, so the next Allocate succeeds. */
static void test_turn_failed_allocate_leaves_gauge_at_zero(void **state)
{
	(void)state;
	struct relay_rig *r = relay_rig_up("stun_tcp_listen off\nturn_user_quota 1\n");
	struct turn_client c;
	char nonce[TURN_NONCE_LEN + 1];
	relay_rig_client(&c, 42000, TURN_TRANSPORT_TCP);
	rig_nonce(r, &c, nonce);

	fail_listen = true;
	int code = turn_ask(r, &c, STUN_METHOD_ALLOCATE, TRANSPORT_TCP, ~0u, NULL, nonce);
	fail_listen = false;
	assert_int_equal(code, 508);
	assert_int_equal(relay_rig_metric(r, &metric_turn_allocations, 0), 0);
	assert_int_equal(relay_rig_metric(r, &metric_turn_allocations_total, 0), 0);
	assert_int_equal(port_pool_in_use(r->shared.pool), 0);
	assert_int_equal(r->server->allocs.count, 0);

	assert_int_equal(turn_ask(r, &c, STUN_METHOD_ALLOCATE, TRANSPORT_TCP, ~0u, NULL, nonce), 0);
	assert_int_equal(relay_rig_metric(r, &metric_turn_allocations, 0), 1);
	assert_int_equal(relay_rig_metric(r, &metric_turn_allocations_total, 0), 1);
	assert_int_equal(turn_ask(r, &c, STUN_METHOD_REFRESH, 0, 0, NULL, nonce), 0);
	assert_int_equal(relay_rig_metric(r, &metric_turn_allocations, 0), 0);
	relay_rig_down(r);
}

/* A TCP port on 127.0.0.1 that refuses connections: bound, not listening
 * (so nobody else can listen there while fd is open). */
static uint16_t closed_port(int *fd)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	socklen_t len = sizeof(in);
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*fd >= 0);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&in, &len), 0);
	return ntohs(in.sin_port);
}

/* Runs the rig's loop until a metric reaches want or 2 s pass; its value. */
static uint64_t wait_metric(struct relay_rig *r, const struct metric_family *f, size_t label,
                            uint64_t want)
{
	for (int i = 0; i < 400 && relay_rig_metric(r, f, label) != want; i++) {
		event_base_loop(r->base, EVLOOP_NONBLOCK);
		usleep(5000);
	}
	return relay_rig_metric(r, f, label);
}

/* RFC 6062 Connect to a closed port: the request is counted when its answer
 * is known, as a 447 and not a success, with a connect_failed drop; nothing
 * counts as relayed. */
static void test_turn_failed_connect_is_dropped(void **state)
{
	(void)state;
	struct relay_rig *r = relay_rig_up("stun_tcp_listen off\n");
	struct turn_client c;
	char nonce[TURN_NONCE_LEN + 1];
	int closed;
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(closed_port(&closed))};
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	relay_rig_client(&c, 42001, TURN_TRANSPORT_TCP);
	rig_nonce(r, &c, nonce);
	assert_int_equal(turn_ask(r, &c, STUN_METHOD_ALLOCATE, TRANSPORT_TCP, ~0u, NULL, nonce), 0);
	assert_int_equal(relay_rig_metric(r, &metric_turn_requests_total, METRIC_TURN_OK), 1);

	/* Answered now or later (over the client's connection): 447. */
	turn_ask(r, &c, STUN_METHOD_CONNECT, 0, ~0u, (struct sockaddr *)&peer, nonce);
	const struct metric_family *drops = &metric_turn_dropped_total;
	assert_int_equal(wait_metric(r, drops, METRIC_TURN_DROP_CONNECT_FAILED, 1), 1);
	assert_int_equal(relay_rig_metric(r, &metric_turn_requests_total, METRIC_TURN_447), 1);
	assert_int_equal(relay_rig_metric(r, &metric_turn_requests_total, METRIC_TURN_OK), 1);
	assert_int_equal(relay_rig_metric(r, &metric_turn_relayed_packets_total, METRIC_TO_PEER),
	                 0);
	close(closed);
	relay_rig_down(r);
}

/* A captured Allocate played again: from another port of the same IP (the
 * nonce names the IP) it is refused with 438 and makes no allocation; from
 * its own 5-tuple it is a retransmission and gets the same answer. The
 * nonce still serves a new Allocate of that client, and a retransmitted
 * Allocate that failed fails again the same way, not with 438. */
static void test_turn_replayed_allocate_refused(void **state)
{
	(void)state;
	struct relay_rig *r = relay_rig_up("stun_tcp_listen off\nturn_user_quota 2\n");
	struct turn_client a, b, c;
	uint8_t req[STUN_MAX_MSG_LEN], out[RELAY_REPLY_MAX], tid[STUN_TID_LEN];
	uint8_t first[RELAY_REPLY_MAX];
	char nonce[TURN_NONCE_LEN + 1];
	struct stun_msg m;
	relay_rig_client(&a, 43000, TURN_TRANSPORT_UDP);
	relay_rig_client(&b, 43001, TURN_TRANSPORT_UDP);
	relay_rig_client(&c, 43002, TURN_TRANSPORT_UDP);
	rig_nonce(r, &a, nonce); /* the IP's: good for b and c too */
	new_tid(tid);
	size_t len = turn_request(STUN_METHOD_ALLOCATE, tid, TRANSPORT_UDP, ~0u, NULL, nonce, req);
	size_t first_len = relay_rig_ask(r, &a, req, len, STUN_DIALECT_RFC5389, first, &m);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);

	/* The same bytes from the same 5-tuple: the same answer. */
	assert_int_equal(relay_rig_ask(r, &a, req, len, STUN_DIALECT_RFC5389, out, &m), first_len);
	assert_memory_equal(out, first, first_len);
	/* From another port: 438 with a fresh nonce, nothing made. */
	relay_rig_ask(r, &b, req, len, STUN_DIALECT_RFC5389, out, &m);
	assert_int_equal(relay_rig_error(&m), 438);
	assert_non_null(stun_msg_attr(&m, STUN_ATTR_NONCE));
	assert_int_equal(relay_rig_metric(r, &metric_turn_allocations, 0), 1);
	assert_int_equal(relay_rig_metric(r, &metric_turn_replays_refused_total, 0), 1);
	assert_int_equal(r->server->allocs.count, 1);

	/* The nonce is still good for b's own Allocate. */
	assert_int_equal(turn_ask(r, &b, STUN_METHOD_ALLOCATE, TRANSPORT_UDP, ~0u, NULL, nonce), 0);
	/* c is over alice's quota (2): 486, and its retransmission 486 too. */
	new_tid(tid);
	len = turn_request(STUN_METHOD_ALLOCATE, tid, TRANSPORT_UDP, ~0u, NULL, nonce, req);
	relay_rig_ask(r, &c, req, len, STUN_DIALECT_RFC5389, out, &m);
	assert_int_equal(relay_rig_error(&m), 486);
	relay_rig_ask(r, &c, req, len, STUN_DIALECT_RFC5389, out, &m);
	assert_int_equal(relay_rig_error(&m), 486);
	assert_int_equal(relay_rig_metric(r, &metric_turn_replays_refused_total, 0), 1);
	relay_rig_down(r);
}

/* What relay sockets read for UDP clients waits in a queue of the
 * server's until the loop pass ends (relay/turn_data.c). */
static struct turn_alloc *only_alloc(struct relay_rig *r)
{
	for (size_t b = 0; b < TURN_TABLE_BUCKETS; b++)
		if (r->server->allocs.bucket[b])
			return r->server->allocs.bucket[b];
	return NULL;
}

static struct turn_alloc *alloc_with_data(struct relay_rig *r, uint16_t cport, int peer_fd)
{
	struct turn_client c;
	char nonce[TURN_NONCE_LEN + 1];
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	assert_int_equal(getsockname(peer_fd, (struct sockaddr *)&peer, &plen), 0);
	relay_rig_client(&c, cport, TURN_TRANSPORT_UDP);
	rig_nonce(r, &c, nonce);
	assert_int_equal(turn_ask(r, &c, STUN_METHOD_ALLOCATE, TRANSPORT_UDP, ~0u, NULL, nonce), 0);
	assert_int_equal(
	    turn_ask(r, &c, STUN_METHOD_CREATE_PERMISSION, 0, ~0u, (struct sockaddr *)&peer, nonce),
	    0);
	struct turn_alloc *a = only_alloc(r);
	assert_non_null(a);
	assert_int_equal(sendto(peer_fd, "hello", 5, 0, &a->relayed.sa, sizeof(a->relayed.in)), 5);
	usleep(20000);
	return a;
}

/* A UDP socket on 127.0.0.1, a port of the kernel's: the peer. */
static int loopback_peer(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	return fd;
}

/* Two servers in one thread keep their own queues: one read of each, the
 * first server freed with its datagram queued (nothing left dangling: the
 * sanitizer build), the second's sent when its loop runs (counted as
 * refused: the rig has no UDP listener). */
static void test_turn_servers_queue_apart(void **state)
{
	(void)state;
	int peer_fd = loopback_peer();
	struct relay_rig *ra = relay_rig_up("stun_tcp_listen off\n");
	struct relay_rig *rb2 = relay_rig_up("stun_tcp_listen off\n");
	struct turn_alloc *a = alloc_with_data(ra, 44000, peer_fd);
	struct turn_alloc *b = alloc_with_data(rb2, 44001, peer_fd);
	turn_relay_read_cb(a->relay_fd, EV_READ, a); /* queued, not sent */
	turn_relay_read_cb(b->relay_fd, EV_READ, b);
	const struct metric_family *drops = &metric_turn_dropped_total;
	for (int i = 0; i < 2; i++) {
		struct relay_rig *r = i ? rb2 : ra;
		assert_int_equal(
		    relay_rig_metric(r, &metric_turn_relayed_packets_total, METRIC_TO_CLIENT), 1);
		assert_int_equal(relay_rig_metric(r, drops, METRIC_TURN_DROP_SEND_FAILED), 0);
	}
	relay_rig_down(ra); /* with its queue */
	event_base_loop(rb2->base, EVLOOP_NONBLOCK);
	assert_int_equal(relay_rig_metric(rb2, drops, METRIC_TURN_DROP_SEND_FAILED), 1);
	relay_rig_down(rb2);
	close(peer_fd);
}

/* One wake-up of 100 datagrams: two reads fill the 64 slots, the third
 * sends them first (refused at once: the rig has no UDP listener), the
 * rest waits for the loop pass. */
static void test_turn_slot_pressure_flushes_early(void **state)
{
	(void)state;
	int peer_fd = loopback_peer();
	struct relay_rig *r = relay_rig_up("stun_tcp_listen off\n");
	struct turn_alloc *a = alloc_with_data(r, 44002, peer_fd);
	for (int i = 1; i < 100; i++)
		assert_int_equal(
		    sendto(peer_fd, "hello", 5, 0, &a->relayed.sa, sizeof(a->relayed.in)), 5);
	usleep(20000);
	turn_relay_read_cb(a->relay_fd, EV_READ, a);
	const struct metric_family *drops = &metric_turn_dropped_total;
	assert_int_equal(relay_rig_metric(r, &metric_turn_relayed_packets_total, METRIC_TO_CLIENT),
	                 100);
	assert_int_equal(relay_rig_metric(r, drops, METRIC_TURN_DROP_SEND_FAILED), 64);
	event_base_loop(r->base, EVLOOP_NONBLOCK);
	assert_int_equal(relay_rig_metric(r, drops, METRIC_TURN_DROP_SEND_FAILED), 100);
	relay_rig_down(r);
	close(peer_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_turn_nonce_valid_stale_and_forged),
	    cmocka_unit_test(test_turn_rest_password_is_coturns),
	    cmocka_unit_test(test_turn_user_key_static_and_rest),
	    cmocka_unit_test(test_turn_rate_limits_401s_per_source),
	    cmocka_unit_test(test_turn_permissions_by_ip_and_expiry),
	    cmocka_unit_test(test_turn_channels_both_ways),
	    cmocka_unit_test(test_turn_table_by_five_tuple),
	    cmocka_unit_test(test_turn_quota_user_total_and_reservations),
	    cmocka_unit_test(test_turn_replay_cache_window_and_bound),
	    cmocka_unit_test(test_turn_failed_allocate_leaves_gauge_at_zero),
	    cmocka_unit_test(test_turn_failed_connect_is_dropped),
	    cmocka_unit_test(test_turn_replayed_allocate_refused),
	    cmocka_unit_test(test_turn_servers_queue_apart),
	    cmocka_unit_test(test_turn_slot_pressure_flushes_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
