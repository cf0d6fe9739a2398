/* fuzz_turn: the TURN request handler and data path (relay/turn*.c,
 * relay/alloc.c, relay/quota.c, media/relay_sock.c) on a real relay server
 * with no listeners. The input is a list of records; each names a client
 * (one of 8 ports on 127.0.0.1) and is one of:
 *   - raw: a message handed to turn_request as it came (401/400 paths);
 *   - signed: a request of method M whose attributes come from the input,
 *     with a valid USERNAME, REALM, NONCE and MESSAGE-INTEGRITY added by the
 *     harness, so that the fuzzer reaches past authentication;
 *   - ChannelData handed to turn_channel_data;
 *   - signed MS-TURN: Allocate, Send or Set Active Destination in Microsoft's
 *     dialect, signed the MS-TURN way, handed to msturn_request.
 * Allocations bind real sockets on 127.0.0.1 in 61000-61031; every input
 * ends by destroying them all, so inputs do not depend on each other.
 * Invariants: a reply fits TURN_REPLY_MAX and decodes; the pool never hands
 * out more ports than it has. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <string.h>

#include "core/log.h"
#include "relay/server_priv.h"
#include "tests/fuzz/fuzz.h"

static struct event_base *base;
static struct relay_shared shared;
static struct metrics *metrics;
static struct relay_server *server;

static int setup(void)
{
	static const char text[] = "workers 1\nstun_udp_listen off\nstun_tcp_listen off\n"
	                           "control_socket off\nturn_user alice secret\n"
	                           "allow_loopback_peers yes\nrelay_address 127.0.0.1\n"
	                           "relay_address6 ::1\nrelay_ports 61000-61031\n"
	                           "turn_user_quota 0\nturn_401_rate 0\nturn_max_bps 100000\n"
	                           "log_level error\n";
	struct conf *conf;
	char err[CONF_ERR_MAX];
	log_set_level(LOG_LVL_ERROR);
	FUZZ_CHECK(conf_load_buf(text, sizeof(text) - 1, "fuzz", &conf, err, sizeof(err)) == 0);
	base = event_base_new();
	FUZZ_CHECK(base && relay_shared_init(&shared, conf) == 0);
	FUZZ_CHECK(metrics_alloc(&metrics, 2) == 0);
	FUZZ_CHECK(relay_server_alloc(&server, base, conf, &shared, metrics_shard(metrics, 1), err,
	                              sizeof(err)) == 0);
	conf_unref(conf);
	return 0;
}

static void client_of(uint8_t who, struct turn_client *c)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(40000 + (who & 7))};
	memset(c, 0, sizeof(*c));
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	turn_sa_set(&c->src, (struct sockaddr *)&in);
	in.sin_port = htons(3478);
	turn_sa_set(&c->local, (struct sockaddr *)&in);
	c->transport = TURN_TRANSPORT_UDP;
}

/* A request of method m with the input's attributes (type 2 bytes, length
 * 1 byte, value), then valid credentials; in RFC 5389's dialect or
 * MS-TURN's (Allocate, Send, Set Active Destination). */
static size_t signed_request(const uint8_t *d, size_t n, const struct turn_client *c, bool ms,
                             uint8_t *out, size_t cap)
{
	static const uint16_t ms_methods[3] = {STUN_METHOD_ALLOCATE, STUN_MSTURN_METHOD_SEND,
	                                       STUN_MSTURN_METHOD_SET_ACTIVE_DEST};
	uint8_t tid[STUN_TID_LEN] = {0x21, 0x12, 0xA4, 0x42};
	struct stun_enc e;
	size_t len;
	if (n < 1)
		return 0;
	uint16_t method = ms ? ms_methods[d[0] % 3] : (uint16_t)(STUN_METHOD_ALLOCATE + d[0] % 10);
	memcpy(tid + 4, d, n < 12 ? n : 12);
	stun_enc_init(&e, out, cap, ms ? STUN_DIALECT_MSTURN : STUN_DIALECT_RFC5389,
	              stun_type(method, STUN_CLASS_REQUEST), tid);
	for (size_t i = 1; i + 3 <= n;) {
		uint16_t type = (uint16_t)(d[i] << 8 | d[i + 1]);
		size_t alen = d[i + 2];
		i += 3;
		if (alen > n - i)
			alen = n - i;
		if (type != STUN_ATTR_MESSAGE_INTEGRITY && type != STUN_ATTR_FINGERPRINT &&
		    type != STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
			stun_enc_attr(&e, type, d + i, alen);
		i += alen;
	}
	char nonce[TURN_NONCE_LEN];
	uint8_t key[16];
	turn_nonce_make(shared.nonce_key, time(NULL), 600, &c->src.sa, nonce);
	stun_key_longterm("alice", "edgelab", "secret", key);
	stun_enc_attr(&e, STUN_ATTR_USERNAME, "alice", 5);
	stun_enc_attr(&e, ms ? STUN_MSATTR_REALM : STUN_ATTR_REALM, "edgelab", 7);
	stun_enc_attr(&e, ms ? STUN_MSATTR_NONCE : STUN_ATTR_NONCE, nonce, sizeof(nonce));
	stun_enc_integrity(&e, key, sizeof(key), (d[0] & 0x80) ? STUN_MAC_SHA256 : STUN_MAC_SHA1);
	return stun_enc_finish(&e, &len) ? 0 : len;
}

static void one_record(uint8_t op, const uint8_t *d, size_t n)
{
	struct turn_client c;
	uint8_t msg[STUN_MAX_MSG_LEN], reply[TURN_REPLY_MAX];
	size_t reply_len = 0;
	client_of(op >> 2, &c);
	switch (op & 3) {
	case 0:
		if (msturn_wants(d, n))
			msturn_request(server, d, n, &c, reply, sizeof(reply), &reply_len);
		else
			turn_request(server, d, n, &c, reply, sizeof(reply), &reply_len);
		break;
	case 1:
	case 3: {
		bool ms = (op & 3) == 3;
		size_t len = signed_request(d, n, &c, ms, msg, sizeof(msg));
		if (len && ms)
			msturn_request(server, msg, len, &c, reply, sizeof(reply), &reply_len);
		else if (len)
			turn_request(server, msg, len, &c, reply, sizeof(reply), &reply_len);
		break;
	}
	default: {
		int fd;
		const union turn_sa *peer;
		const uint8_t *payload;
		size_t plen;
		if (n > sizeof(msg) || n < 4)
			break;
		memcpy(msg, d, n);
		msg[0] = (uint8_t)(0x40 | (msg[0] & 0x3F));
		struct turn_alloc *a =
		    turn_table_find(&server->allocs, &c.src, TURN_TRANSPORT_UDP, NULL);
		if (!turn_channel_data(server, a, msg, n, turn_now_ms(server, NULL), &fd, &peer,
		                       &payload, &plen))
			FUZZ_CHECK(payload >= msg + 4 && payload + plen <= msg + n);
		break;
	}
	}
	if (reply_len) {
		struct stun_msg m;
		FUZZ_CHECK(reply_len <= sizeof(reply));
		FUZZ_CHECK(stun_msg_decode(&m, reply, reply_len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready)
		ready = !setup();
	/* Records: op (1 byte), length (2 bytes), that many bytes. */
	for (size_t i = 0; i + 3 <= size;) {
		uint8_t op = data[i];
		size_t n = (size_t)(data[i + 1] << 8 | data[i + 2]);
		i += 3;
		if (n > size - i)
			n = size - i;
		one_record(op, data + i, n);
		i += n;
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	FUZZ_CHECK(port_pool_in_use(shared.pool) <= port_pool_size(shared.pool));
	turn_server_close(server);
	FUZZ_CHECK(port_pool_in_use(shared.pool) == 0 || shared.quota.total == 0);
	FUZZ_CHECK(turn_server_open(server) == 0);
	return 0;
}
