/* fuzz_turn: the TURN request handler and data path (relay/turn*.c,
 * relay/alloc.c, relay/quota.c, media/relay_sock.c) on a real relay server
 * with no listeners. The input is a list of records; each names a client
 * (one of 8 ports on 127.0.0.1) and is one of:
 *   - raw: a message handed to the relay's chain (relay_dispatch) as it
 *     came (401/400 paths; the Binding service takes what TURN does not);
 *   - signed: a request of method M whose attributes come from the input,
 *     with a valid USERNAME, REALM, NONCE and MESSAGE-INTEGRITY added by the
 *     harness, so that the fuzzer reaches past authentication;
 *   - ChannelData handed to turn_channel_data;
 *   - signed MS-TURN: Allocate, Send or Set Active Destination in Microsoft's
 *     dialect, signed the MS-TURN way, handed to the chain;
 *   - a TCP stream (op's top bit): a connection to the STUN/TCP listener, or
 *     to the pseudo-TLS one, carrying the pseudo-TLS ClientHello or not, then
 *     pieces: raw bytes, MS-TURN control frames (raw or harness-signed
 *     requests) and data frames. What comes back must be the pseudo-TLS
 *     answer (when the hello went) and whole MS-TURN frames whose control
 *     messages decode; the connection then closes, and its allocation with it.
 * Allocations bind real sockets on 127.0.0.1 in 61000-61031; every input
 * ends by destroying them all, so inputs do not depend on each other.
 * Invariants: a reply fits RELAY_REPLY_MAX and decodes; the pool never hands
 * out more ports than it has. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "stun/msturn_frame.h"
#include "relay/chain.h"
#include "relay/turn_int.h"
#include "tests/fuzz/fuzz.h"

static struct event_base *base;
static struct relay_shared shared;
static struct metrics *metrics;
static struct relay_server *server;

static uint16_t listen_port[2]; /* STUN/TCP, pseudo-TLS */

static uint16_t port_of(struct evconnlistener *l)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	FUZZ_CHECK(l && getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&in, &len) == 0);
	return ntohs(in.sin_port);
}

/* Two free ports on 127.0.0.1 (both held while found, so they differ). */
static void free_ports(unsigned port[2])
{
	int fd[2];
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in in = {.sin_family = AF_INET};
		socklen_t len = sizeof(in);
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		FUZZ_CHECK(fd[i] >= 0 && bind(fd[i], (struct sockaddr *)&in, sizeof(in)) == 0 &&
		           getsockname(fd[i], (struct sockaddr *)&in, &len) == 0);
		port[i] = ntohs(in.sin_port);
	}
	close(fd[0]);
	close(fd[1]);
}

static int setup(void)
{
	static const char fmt[] = "workers 1\nstun_udp_listen off\nstun_tcp_listen 127.0.0.1:%u\n"
	                          "msturn_tls_listen 127.0.0.1:%u\n"
	                          "control_socket off\nturn_user alice secret\n"
	                          "allow_loopback_peers yes\nrelay_address 127.0.0.1\n"
	                          "relay_address6 ::1\nrelay_ports 61000-61031\n"
	                          "turn_user_quota 0\nturn_401_rate 0\nturn_max_bps 100000\n"
	                          "log_level error\n";
	struct conf *conf;
	char err[CONF_ERR_MAX], text[sizeof(fmt) + 16];
	/* The listeners' ports: free ones, as the configuration takes no port 0. */
	unsigned port[2];
	free_ports(port);
	int len = snprintf(text, sizeof(text), fmt, port[0], port[1]);
	log_set_level(LOG_LVL_ERROR);
	FUZZ_CHECK(conf_load_buf(text, (size_t)len, "fuzz", &conf, err, sizeof(err)) == 0);
	base = event_base_new();
	FUZZ_CHECK(base && relay_shared_init(&shared, conf) == 0);
	FUZZ_CHECK(metrics_alloc(&metrics, 2) == 0);
	FUZZ_CHECK(relay_server_alloc(&server, base, conf, &shared, metrics_shard(metrics, 1), err,
	                              sizeof(err)) == 0);
	conf_unref(conf);
	listen_port[0] = port_of(server->tcp_listener);
	listen_port[1] = port_of(server->tls_listener);
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

/* The chain's answer to buf, in reply. */
static size_t dispatch(const struct turn_client *c, const uint8_t *buf, size_t len, uint8_t *reply,
                       size_t cap)
{
	struct relay_msg m = {.client = c, .buf = buf, .len = len, .out = reply, .cap = cap};
	relay_dispatch(server, &m);
	return m.out_len;
}

static void one_record(uint8_t op, const uint8_t *d, size_t n)
{
	struct turn_client c;
	uint8_t msg[STUN_MAX_MSG_LEN], reply[RELAY_REPLY_MAX];
	size_t reply_len = 0;
	client_of(op >> 2, &c);
	switch (op & 3) {
	case 0:
		reply_len = dispatch(&c, d, n, reply, sizeof(reply));
		break;
	case 1:
	case 3: {
		size_t len = signed_request(d, n, &c, (op & 3) == 3, msg, sizeof(msg));
		if (len)
			reply_len = dispatch(&c, msg, len, reply, sizeof(reply));
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

/* Runs the server's loop a few times: enough, on loopback, for what was
 * written to be read, answered and the answers sent. */
static void pump(void)
{
	for (int i = 0; i < 6; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static const uint8_t tls_hello[PSEUDO_TLS_HELLO_LEN] = {
    0x16, 0x03, 0x01, 0x00, 0x2d, 0x01, 0x00, 0x00, 0x29, 0x03, 0x01, 0xc1, 0xfc,
    0xd5, 0xa3, 0x6d, 0x93, 0xdd, 0x7e, 0x0b, 0x45, 0x67, 0x3f, 0xec, 0x79, 0x85,
    0xfb, 0xbc, 0x3f, 0xd6, 0x60, 0xc2, 0xce, 0x84, 0x85, 0x08, 0x1b, 0x81, 0x21,
    0xbc, 0xaa, 0x10, 0xfb, 0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00};

/* The stream of a TCP record: d[0] bit 0 sends the pseudo-TLS hello first,
 * bit 1 goes to the pseudo-TLS listener; then pieces kind(1) length(1)
 * bytes: kind 0 raw, 1 a control frame, 2 a control frame holding a signed
 * MS-TURN request built from the bytes, 3 a data frame. */
static size_t tcp_stream(const uint8_t *d, size_t n, const struct turn_client *c, uint8_t *out,
                         size_t cap)
{
	size_t len = 0;
	if (d[0] & 1) {
		memcpy(out, tls_hello, sizeof(tls_hello));
		len = sizeof(tls_hello);
	}
	for (size_t i = 1; i + 2 <= n;) {
		uint8_t kind = d[i] & 3, msg[STUN_MAX_MSG_LEN];
		size_t plen = d[i + 1] < n - i - 2 ? d[i + 1] : n - i - 2;
		const uint8_t *p = d + i + 2;
		i += 2 + plen;
		if (kind == 2) {
			plen = signed_request(p, plen, c, true, msg, sizeof(msg));
			p = msg;
		}
		if (len + MSTURN_FRAME_HDR + plen > cap)
			break;
		if (kind) {
			msturn_frame_header(
			    out + len, kind == 3 ? MSTURN_FRAME_DATA : MSTURN_FRAME_CONTROL, plen);
			len += MSTURN_FRAME_HDR;
		}
		memcpy(out + len, p, plen);
		len += plen;
	}
	return len;
}

/* What came back on an MS-TURN connection: the pseudo-TLS answer first when
 * the hello went, then whole frames (the last may still be on its way) whose
 * control messages decode. */
static void check_answers(const uint8_t *b, size_t len, bool hello)
{
	size_t at = 0;
	if (hello) {
		if (len < PSEUDO_TLS_REPLY_LEN)
			return; /* closed before the answer, or it is on its way */
		FUZZ_CHECK(b[0] == 0x16 && b[43] == 0x20);
		at = PSEUDO_TLS_REPLY_LEN;
	}
	while (len - at >= MSTURN_FRAME_HDR) {
		uint8_t type;
		size_t plen;
		long flen = msturn_frame_parse(b + at, len - at, &type, &plen);
		FUZZ_CHECK(flen > 0);
		if ((size_t)flen > len - at)
			break;
		if (type == MSTURN_FRAME_CONTROL) {
			struct stun_msg m;
			FUZZ_CHECK(stun_msg_decode(&m, b + at + MSTURN_FRAME_HDR, plen) == 0);
		}
		at += (size_t)flen;
	}
}

static void tcp_record(uint8_t op, const uint8_t *d, size_t n)
{
	static uint8_t stream[16384], back[65536];
	if (n < 1)
		return;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = {.sin_family = AF_INET,
	                         .sin_port = htons(listen_port[d[0] >> 1 & 1])};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	FUZZ_CHECK(fd >= 0);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS) {
		close(fd);
		return;
	}
	pump(); /* accepted */
	struct turn_client c;
	client_of(op >> 2, &c); /* the nonce binds the IP only */
	size_t len = tcp_stream(d, n, &c, stream, sizeof(stream)), got = 0;
	ssize_t w = send(fd, stream, len, MSG_NOSIGNAL);
	pump();
	for (;;) {
		ssize_t r = recv(fd, back + got, sizeof(back) - got, 0);
		if (r <= 0 || (got += (size_t)r) == sizeof(back))
			break;
	}
	bool hello = len >= sizeof(tls_hello) && memcmp(stream, tls_hello, sizeof(tls_hello)) == 0;
	bool ms = len && (stream[0] == MSTURN_FRAME_CONTROL || stream[0] == MSTURN_FRAME_DATA);
	if (w > 0 && (ms || hello))
		check_answers(back, got, hello);
	close(fd);
	pump(); /* closed: the connection and its allocation go */
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
		if (op & 0x80)
			tcp_record(op, data + i, n);
		else
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
