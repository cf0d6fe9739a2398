/* relay/msturn.c on a relay server with no listeners, fed the Allocate
 * requests of a real Teams client (../shared/vectors/msturn-teams.pcap; the
 * test skips, naming what is missing, without it): every one decodes and
 * gets a well-formed MS-TURN answer; the unauthenticated ones get 401 with
 * REALM, NONCE and MS-VERSION in MS-TURN's numbering and no integrity. Then
 * a whole allocation made with our own credentials: Allocate, its refresh,
 * Set Active Destination, and the errors 431, 432, 436, 437. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "relay/chain.h"
#include "relay/server_priv.h"
#include "tests/unit/pcap_read.h"
#include "tests/unit/relay_rig.h"

static int rig_up(void **state)
{
	*state = relay_rig_up("stun_tcp_listen off\n");
	return 0;
}

static int rig_down(void **state)
{
	relay_rig_down(*state);
	return 0;
}

static void client(uint16_t port, struct turn_client *c)
{
	relay_rig_client(c, port, TURN_TRANSPORT_UDP);
}

/* Answers req (MS-TURN) and decodes the answer into m (out holds its bytes). */
static size_t ask(struct relay_rig *r, const struct turn_client *c, const uint8_t *req, size_t len,
                  uint8_t *out, struct stun_msg *m)
{
	return relay_rig_ask(r, c, req, len, STUN_DIALECT_MSTURN, out, m);
}

static void test_msturn_teams_allocates_get_well_formed_answers(void **state)
{
	struct relay_rig *r = *state;
	struct pcap_file pf;
	struct pcap_udp udp;
	char why[4200];
	size_t unauthenticated = 0, authenticated = 0;
	int err = pcap_read_open_vector(&pf, "msturn-teams.pcap", why, sizeof(why));
	if (err == ENOENT) {
		print_message("skipped: %s\n", why);
		skip();
	}
	if (err != 0)
		fail_msg("%s", why);
	while (pcap_read_next(&pf, &udp) == 0) {
		uint8_t req[STUN_MAX_MSG_LEN], out[RELAY_REPLY_MAX];
		struct stun_msg in, m;
		struct turn_client c;
		memcpy(req, udp.data, udp.len);
		assert_int_equal(stun_msg_decode(&in, req, udp.len), 0);
		if (in.type != 0x0003)
			continue;
		client(udp.sport, &c);
		assert_true(ask(r, &c, req, udp.len, out, &m) > 0);
		assert_int_equal(m.dialect, STUN_DIALECT_MSTURN);
		assert_int_equal(m.type, 0x0113);
		assert_memory_equal(m.tid, in.tid, STUN_TID_LEN); /* echoed whole */
		if (!stun_msg_attr(&in, STUN_ATTR_MESSAGE_INTEGRITY)) {
			const struct stun_attr *realm = stun_msg_attr(&m, STUN_MSATTR_REALM);
			assert_int_equal(relay_rig_error(&m), 401);
			assert_non_null(realm);
			assert_int_equal(realm->len, strlen("lab.example"));
			assert_memory_equal(realm->val, "lab.example", realm->len);
			assert_non_null(stun_msg_attr(&m, STUN_MSATTR_NONCE));
			assert_non_null(stun_msg_attr(&m, STUN_MSATTR_MS_VERSION));
			assert_null(stun_msg_attr(&m, STUN_ATTR_MESSAGE_INTEGRITY));
			unauthenticated++;
		} else {
			/* Microsoft's credentials and nonce: a refusal, well formed. */
			int code = relay_rig_error(&m);
			assert_true(code == 438 || code == 436 || code == 437);
			authenticated++;
		}
	}
	pcap_read_close(&pf);
	assert_int_equal(unauthenticated, 4);
	assert_int_equal(authenticated, 7);
}

/* An MS-TURN request with USERNAME/REALM/NONCE and integrity as asked. */
static size_t build(uint16_t method, const char *user, const char *nonce, const uint8_t *key,
                    enum stun_mac mac, const struct sockaddr *dest, uint32_t lifetime, uint8_t *buf)
{
	uint8_t tid[STUN_TID_LEN];
	struct stun_enc e;
	size_t len;
	for (size_t i = 0; i < sizeof(tid); i++)
		tid[i] = (uint8_t)random();
	stun_enc_init(&e, buf, STUN_MAX_MSG_LEN, STUN_DIALECT_MSTURN,
	              stun_type(method, STUN_CLASS_REQUEST), tid);
	stun_enc_u32(&e, STUN_MSATTR_MS_VERSION, mac == STUN_MAC_SHA256 ? 3 : 1);
	if (lifetime != 1)
		stun_enc_u32(&e, STUN_ATTR_LIFETIME, lifetime);
	if (dest)
		stun_enc_addr(&e, STUN_MSATTR_DESTINATION_ADDRESS, dest);
	if (user)
		stun_enc_attr(&e, STUN_ATTR_USERNAME, user, strlen(user));
	if (nonce) {
		stun_enc_attr(&e, STUN_MSATTR_REALM, "lab.example", 11);
		stun_enc_attr(&e, STUN_MSATTR_NONCE, nonce, strlen(nonce));
	}
	if (key)
		stun_enc_integrity(&e, key, 16, mac);
	assert_int_equal(stun_enc_finish(&e, &len), 0);
	return len;
}

static void test_msturn_allocation_life(void **state)
{
	struct relay_rig *r = *state;
	struct turn_client c;
	uint8_t req[STUN_MAX_MSG_LEN], out[RELAY_REPLY_MAX], key[16], wrong[16];
	struct stun_msg m;
	char nonce[64];
	struct sockaddr_in dest = {.sin_family = AF_INET, .sin_port = htons(9)};
	dest.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	client(41000, &c);
	stun_key_longterm("alice", "lab.example", "secret", key);
	stun_key_longterm("alice", "lab.example", "wrong", wrong);

	/* 401, then the nonce it carries. */
	ask(r, &c, req, build(STUN_METHOD_ALLOCATE, NULL, NULL, NULL, 0, NULL, 1, req), out, &m);
	assert_int_equal(relay_rig_error(&m), 401);
	const struct stun_attr *n = stun_msg_attr(&m, STUN_MSATTR_NONCE);
	memcpy(nonce, n->val, n->len);
	nonce[n->len] = '\0';
	/* Errors docs/msturn.md lists: no username 432, unknown user 436, bad MAC 431. */
	ask(r, &c, req, build(STUN_METHOD_ALLOCATE, NULL, nonce, key, STUN_MAC_SHA1, NULL, 1, req),
	    out, &m);
	assert_int_equal(relay_rig_error(&m), 432);
	ask(r, &c, req,
	    build(STUN_METHOD_ALLOCATE, "mallory", nonce, key, STUN_MAC_SHA1, NULL, 1, req), out,
	    &m);
	assert_int_equal(relay_rig_error(&m), 436);
	ask(r, &c, req,
	    build(STUN_METHOD_ALLOCATE, "alice", nonce, wrong, STUN_MAC_SHA1, NULL, 1, req), out,
	    &m);
	assert_int_equal(relay_rig_error(&m), 431);
	/* Set Active Destination before any allocation: 437. */
	ask(r, &c, req,
	    build(STUN_MSTURN_METHOD_SET_ACTIVE_DEST, "alice", NULL, key, STUN_MAC_SHA1,
	          (struct sockaddr *)&dest, 1, req),
	    out, &m);
	assert_int_equal(relay_rig_error(&m), 437);

	/* The allocation, SHA-256 integrity (MS-Version 3). */
	size_t len =
	    ask(r, &c, req,
	        build(STUN_METHOD_ALLOCATE, "alice", nonce, key, STUN_MAC_SHA256, NULL, 1, req),
	        out, &m);
	assert_int_equal(m.type, 0x0103);
	assert_int_equal(stun_msg_check_integrity(&m, key, 16), 0);
	assert_int_equal(stun_msg_attr(&m, STUN_ATTR_MESSAGE_INTEGRITY)->len, 32);
	struct sockaddr_storage relayed;
	assert_int_equal(stun_attr_addr(stun_msg_attr(&m, STUN_MSATTR_MAPPED_ADDRESS), &relayed),
	                 0);
	uint16_t port = ntohs(((struct sockaddr_in *)&relayed)->sin_port);
	assert_in_range(port, 50000, 59999);
	assert_non_null(stun_msg_attr(&m, STUN_MSATTR_XOR_MAPPED_ADDRESS));
	assert_int_equal(stun_msg_attr(&m, STUN_MSATTR_MS_SEQUENCE_NUMBER)->len, 24);
	assert_non_null(stun_msg_attr(&m, STUN_ATTR_LIFETIME));
	assert_true(len <= RELAY_REPLY_MAX);

	/* A refresh is an Allocate on the same 5-tuple with the same (old)
	 * nonce, good for the allocation's whole life. */
	ask(r, &c, req,
	    build(STUN_METHOD_ALLOCATE, "alice", nonce, key, STUN_MAC_SHA1, NULL, 1200, req), out,
	    &m);
	assert_int_equal(m.type, 0x0103);
	assert_int_equal(stun_msg_check_integrity(&m, key, 16), 0);
	/* Set Active Destination: success, with integrity; a refused
	 * destination (policy) gets 403. */
	ask(r, &c, req,
	    build(STUN_MSTURN_METHOD_SET_ACTIVE_DEST, "alice", NULL, key, STUN_MAC_SHA1,
	          (struct sockaddr *)&dest, 1, req),
	    out, &m);
	assert_int_equal(m.type, 0x0106);
	assert_int_equal(stun_msg_check_integrity(&m, key, 16), 0);
	struct sockaddr_in bcast = dest;
	bcast.sin_addr.s_addr = htonl(0xFFFFFFFF);
	ask(r, &c, req,
	    build(STUN_MSTURN_METHOD_SET_ACTIVE_DEST, "alice", NULL, key, STUN_MAC_SHA1,
	          (struct sockaddr *)&bcast, 1, req),
	    out, &m);
	assert_int_equal(relay_rig_error(&m), 403);
	/* Send has no answer. */
	assert_int_equal(ask(r, &c, req,
	                     build(STUN_MSTURN_METHOD_SEND, "alice", NULL, key, STUN_MAC_SHA1,
	                           (struct sockaddr *)&dest, 1, req),
	                     out, &m),
	                 0);
	/* LIFETIME 0 deletes; the port goes back to the pool. */
	size_t in_use = port_pool_in_use(r->shared.pool);
	ask(r, &c, req,
	    build(STUN_METHOD_ALLOCATE, "alice", nonce, key, STUN_MAC_SHA1, NULL, 0, req), out, &m);
	assert_int_equal(m.type, 0x0103);
	assert_int_equal(port_pool_in_use(r->shared.pool), in_use - 1);
}

/* An MS-TURN Allocate played again from another port (same IP, so the
 * nonce is good) is refused with 438; from its own 5-tuple it refreshes. */
static void test_msturn_replayed_allocate_refused(void **state)
{
	struct relay_rig *r = *state;
	struct turn_client c, other;
	uint8_t req[STUN_MAX_MSG_LEN], out[RELAY_REPLY_MAX], key[16];
	char nonce[TURN_NONCE_LEN + 1];
	struct stun_msg m;
	client(41010, &c);
	client(41011, &other);
	stun_key_longterm("alice", "lab.example", "secret", key);
	turn_nonce_make(r->shared.nonce_key, time(NULL), 600, &c.src.sa, nonce);
	nonce[TURN_NONCE_LEN] = '\0';
	size_t len = build(STUN_METHOD_ALLOCATE, "alice", nonce, key, STUN_MAC_SHA1, NULL, 1, req);
	ask(r, &c, req, len, out, &m);
	assert_int_equal(m.type, 0x0103);
	uint64_t open = relay_rig_metric(r, &metric_turn_allocations, 0);
	ask(r, &other, req, len, out, &m);
	assert_int_equal(relay_rig_error(&m), 438);
	assert_int_equal(relay_rig_metric(r, &metric_turn_allocations, 0), open);
	ask(r, &c, req, len, out, &m);
	assert_int_equal(m.type, 0x0103);
	ask(r, &c, req,
	    build(STUN_METHOD_ALLOCATE, "alice", nonce, key, STUN_MAC_SHA1, NULL, 0, req), out,
	    &m); /* delete */
	assert_int_equal(m.type, 0x0103);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msturn_teams_allocates_get_well_formed_answers),
	    cmocka_unit_test(test_msturn_allocation_life),
	    cmocka_unit_test(test_msturn_replayed_allocate_refused),
	};
	return cmocka_run_group_tests(tests, rig_up, rig_down);
}
