/* MS-TURN over TCP (docs/msturn.md "TCP and port 443") on an in-process
 * relay server with its STUN/TCP and pseudo-TLS listeners on loopback. The
 * frame parser and the pseudo-TLS bytes on their own; then a whole session
 * from real sockets: the hello, Allocate (401, then a TCP relayed address),
 * Send to a TCP peer (which connects from the relayed port) and its Data
 * indication back, Set Active Destination and raw data frames both ways, a
 * peer without a permission and one with a permission calling in, framing
 * errors, the pseudo-TLS listener, a peer that resets mid-stream, and the
 * allocation's end with its client connection. The conf refuses port 0, so
 * the listeners get ports found free just before. Single-threaded: the
 * test's sockets are plain loopback sockets, and every wait pumps the
 * server's loop until the bytes are there or a 2 s deadline passes. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "stun/msturn_frame.h"
#include "relay/server_priv.h"
#include "relay/turn_int.h"
#include "tests/unit/relay_rig.h"

#define DEADLINE_MS 2000
#define QUIET_MS    150 /* how long "nothing arrives" is watched */

struct rig {
	struct relay_rig *rr; /* the server, its loop and metrics */
	uint16_t tcp_port, tls_port;
	uint8_t key[16];
	/* The session cases 2 to 4 build and case 9 ends. */
	int client;                 /* the MS-TURN client on the STUN/TCP listener */
	int peer_listen;            /* the test's TCP peer */
	int peer_conn;              /* the relay's connection to it, peer side */
	struct sockaddr_in peer;    /* peer_listen's address */
	struct sockaddr_in relayed; /* the allocation's */
};

static uint16_t port_of(struct evconnlistener *l)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	assert_non_null(l);
	assert_int_equal(getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&in, &len), 0);
	return ntohs(in.sin_port);
}

/* A TCP port free on 127.0.0.1 now: the conf refuses port 0. */
static uint16_t free_port(void)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	socklen_t len = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
	close(fd);
	return ntohs(in.sin_port);
}

static int rig_up(void **state)
{
	char text[256];
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->client = r->peer_listen = r->peer_conn = -1;
	*state = r;
	uint16_t tcp = free_port(), tls = free_port();
	assert_int_not_equal(tcp, tls);
	int n = snprintf(text, sizeof(text),
	                 "stun_tcp_listen 127.0.0.1:%u\nmsturn_tls_listen 127.0.0.1:%u\n"
	                 "relay_ports 50000-59999\n",
	                 tcp, tls);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	r->rr = relay_rig_up(text);
	r->tcp_port = port_of(r->rr->server->tcp_listener);
	r->tls_port = port_of(r->rr->server->tls_listener);
	assert_int_equal(r->tcp_port, tcp);
	assert_int_equal(r->tls_port, tls);
	stun_key_longterm("alice", "lab.example", "secret", r->key);
	return 0;
}

static int rig_down(void **state)
{
	struct rig *r = *state;
	if (!r)
		return 0;
	int fds[] = {r->client, r->peer_listen, r->peer_conn};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	relay_rig_down(r->rr);
	free(r);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t metric(struct rig *r, const struct metric_family *f, size_t label)
{
	return relay_rig_metric(r->rr, f, label);
}

/* Runs the server's loop once, then waits up to 5 ms for fd (when >= 0). */
static void pump_once(struct rig *r, int fd, short events)
{
	event_base_loop(r->rr->base, EVLOOP_NONBLOCK);
	struct pollfd p = {.fd = fd, .events = events};
	if (fd >= 0)
		poll(&p, 1, 5);
	else
		poll(NULL, 0, 5);
	event_base_loop(r->rr->base, EVLOOP_NONBLOCK);
}

static void pump(struct rig *r, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (now_ms() < end)
		pump_once(r, -1, 0);
}

/* A blocking TCP connection to 127.0.0.1:port, from bind_ip when not NULL. */
static int tcp_connect(uint16_t port, const char *bind_ip)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind_ip) {
		struct sockaddr_in from = {.sin_family = AF_INET};
		assert_int_equal(inet_pton(AF_INET, bind_ip, &from.sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	}
	/* Bounds a blocking connect (Linux applies SO_SNDTIMEO to it). */
	struct timeval tv = {.tv_sec = DEADLINE_MS / 1000};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

/* Writes all of buf to fd, pumping the server while the socket is full. */
static void send_all(struct rig *r, int fd, const void *buf, size_t len)
{
	size_t sent = 0;
	uint64_t end = now_ms() + DEADLINE_MS;
	while (sent < len && now_ms() < end) {
		ssize_t k =
		    send(fd, (const uint8_t *)buf + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		if (k > 0)
			sent += (size_t)k;
		else
			pump_once(r, fd, POLLOUT);
	}
	assert_int_equal(sent, len);
}

/* Reads exactly n bytes from fd, pumping the server meanwhile; the count
 * read by the deadline (less on EOF, an error or the deadline). */
static size_t recv_exact(struct rig *r, int fd, void *buf, size_t n)
{
	size_t got = 0;
	uint64_t end = now_ms() + DEADLINE_MS;
	while (got < n && now_ms() < end) {
		pump_once(r, fd, POLLIN);
		ssize_t k = recv(fd, (uint8_t *)buf + got, n - got, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			break;
		if (k > 0)
			got += (size_t)k;
	}
	return got;
}

/* Whether fd was closed by the other end (EOF or reset) by the deadline;
 * fails when bytes arrive instead. */
static bool wait_closed(struct rig *r, int fd)
{
	uint64_t end = now_ms() + DEADLINE_MS;
	while (now_ms() < end) {
		uint8_t b;
		pump_once(r, fd, POLLIN);
		ssize_t k = recv(fd, &b, 1, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return true;
		if (k > 0)
			fail_msg("a byte (0x%02x) arrived where a close was due", b);
	}
	return false;
}

/* Asserts that nothing arrives on fd (and it stays open) for QUIET_MS. */
static void assert_quiet(struct rig *r, int fd)
{
	uint64_t end = now_ms() + QUIET_MS;
	while (now_ms() < end) {
		uint8_t b;
		pump_once(r, fd, POLLIN);
		ssize_t k = recv(fd, &b, 1, MSG_DONTWAIT);
		assert_int_equal(k, -1);
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

/* Waits until a metric reaches want, pumping; its last value. */
static uint64_t wait_metric(struct rig *r, const struct metric_family *f, size_t label,
                            uint64_t want)
{
	uint64_t end = now_ms() + DEADLINE_MS;
	while (metric(r, f, label) != want && now_ms() < end)
		pump_once(r, -1, 0);
	return metric(r, f, label);
}

/* Sends payload in one MS-TURN frame of that type. */
static void send_frame(struct rig *r, int fd, uint8_t type, const void *payload, size_t len)
{
	uint8_t buf[MSTURN_FRAME_HDR + STUN_MAX_MSG_LEN];
	assert_true(len <= STUN_MAX_MSG_LEN);
	buf[0] = type;
	buf[1] = 0;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memcpy(buf + MSTURN_FRAME_HDR, payload, len);
	send_all(r, fd, buf, MSTURN_FRAME_HDR + len);
}

/* Reads one MS-TURN frame: asserts its type and returns its payload length. */
static size_t recv_frame(struct rig *r, int fd, uint8_t want_type, uint8_t *payload, size_t cap)
{
	uint8_t hdr[MSTURN_FRAME_HDR];
	assert_int_equal(recv_exact(r, fd, hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(hdr[0], want_type);
	assert_int_equal(hdr[1], 0x00);
	size_t len = (size_t)(hdr[2] << 8 | hdr[3]);
	assert_true(len > 0 && len <= cap);
	assert_int_equal(recv_exact(r, fd, payload, len), len);
	return len;
}

/* Reads a control frame and decodes the MS-TURN message in it. */
static void recv_msg(struct rig *r, int fd, uint8_t *buf, struct stun_msg *m)
{
	size_t len = recv_frame(r, fd, MSTURN_FRAME_CONTROL, buf, STUN_MAX_MSG_LEN);
	assert_int_equal(stun_msg_decode(m, buf, len), 0);
	assert_int_equal(m->buf_len, len); /* the frame holds exactly one message */
	assert_int_equal(m->dialect, STUN_DIALECT_MSTURN);
}

static int error_of(const struct stun_msg *m)
{
	int code = 0;
	const char *reason;
	size_t rlen;
	const struct stun_attr *e = stun_msg_attr(m, STUN_ATTR_ERROR_CODE);
	if (!e || stun_attr_error(e, &code, &reason, &rlen))
		return -1;
	return code;
}

/* An MS-TURN request: USERNAME (when key), REALM and NONCE (when nonce),
 * DESTINATION-ADDRESS and DATA when given, SHA-1 integrity with key. */
static size_t build(uint16_t method, const uint8_t *key, const char *nonce,
                    const struct sockaddr_in *dest, const void *data, size_t data_len,
                    uint8_t tid[STUN_TID_LEN], uint8_t *buf)
{
	struct stun_enc e;
	size_t len;
	for (size_t i = 0; i < STUN_TID_LEN; i++)
		tid[i] = (uint8_t)random();
	stun_enc_init(&e, buf, STUN_MAX_MSG_LEN, STUN_DIALECT_MSTURN,
	              stun_type(method, STUN_CLASS_REQUEST), tid);
	stun_enc_u32(&e, STUN_MSATTR_MS_VERSION, 1);
	if (dest)
		stun_enc_addr(&e, STUN_MSATTR_DESTINATION_ADDRESS, (const struct sockaddr *)dest);
	if (data)
		stun_enc_attr(&e, STUN_MSATTR_DATA, data, data_len);
	if (key)
		stun_enc_attr(&e, STUN_ATTR_USERNAME, "alice", 5);
	if (nonce) {
		stun_enc_attr(&e, STUN_MSATTR_REALM, "lab.example", 11);
		stun_enc_attr(&e, STUN_MSATTR_NONCE, nonce, strlen(nonce));
	}
	if (key)
		stun_enc_integrity(&e, key, 16, STUN_MAC_SHA1);
	assert_int_equal(stun_enc_finish(&e, &len), 0);
	return len;
}

static void assert_loopback(const struct sockaddr_storage *ss, uint16_t port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	assert_int_equal(ss->ss_family, AF_INET);
	assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(in->sin_port), port);
}

/* The client's pseudo-TLS ClientHello, as libnice sends it (docs/msturn.md). */
static void hello(uint8_t out[PSEUDO_TLS_HELLO_LEN])
{
	static const uint8_t head[] = {0x16, 0x03, 0x01, 0x00, 0x2d, 0x01,
	                               0x00, 0x00, 0x29, 0x03, 0x01};
	static const uint8_t tail[] = {0x00, 0x00, 0x02, 0x00, 0x18, 0x01, 0x00};
	memcpy(out, head, sizeof(head));
	for (size_t i = 0; i < 32; i++)
		out[sizeof(head) + i] = (uint8_t)random();
	memcpy(out + sizeof(head) + 32, tail, sizeof(tail));
}

/* The server's 83-byte answer: fixed but for the random and session id. */
static void assert_reply_shape(const uint8_t reply[PSEUDO_TLS_REPLY_LEN])
{
	static const uint8_t head[] = {0x16, 0x03, 0x01, 0x00, 0x4e, 0x02,
	                               0x00, 0x00, 0x46, 0x03, 0x01};
	static const uint8_t tail[] = {0x00, 0x18, 0x00, 0x0e, 0x00, 0x00, 0x00};
	assert_memory_equal(reply, head, sizeof(head));
	assert_int_equal(reply[43], 0x20);
	assert_memory_equal(reply + 76, tail, sizeof(tail));
}

/* 1. Pure functions. */

static void test_frame_parse(void **state)
{
	(void)state;
	uint8_t type = 0;
	size_t plen = 0;
	uint8_t ctl[] = {0x02, 0x00, 0x00, 0x14}, data[] = {0x03, 0x00, 0x01, 0x00};
	assert_int_equal(msturn_frame_parse(ctl, sizeof(ctl), &type, &plen), 4 + 20);
	assert_int_equal(type, MSTURN_FRAME_CONTROL);
	assert_int_equal(plen, 20);
	assert_int_equal(msturn_frame_parse(data, sizeof(data), &type, &plen), 4 + 256);
	assert_int_equal(type, MSTURN_FRAME_DATA);
	assert_int_equal(plen, 256);
	/* Short headers, good so far. */
	for (size_t n = 0; n < MSTURN_FRAME_HDR; n++) {
		assert_int_equal(msturn_frame_parse(ctl, n, &type, &plen), 0);
		assert_int_equal(msturn_frame_parse(data, n, &type, &plen), 0);
	}
	/* Bounds: a control message up to STUN_MAX_MSG_LEN, data up to
	 * MSTURN_DATA_MAX, and never empty. */
	uint8_t ctl_max[] = {0x02, 0x00, STUN_MAX_MSG_LEN >> 8, STUN_MAX_MSG_LEN & 0xFF};
	uint8_t data_max[] = {0x03, 0x00, MSTURN_DATA_MAX >> 8, MSTURN_DATA_MAX & 0xFF};
	assert_int_equal(msturn_frame_parse(ctl_max, 4, &type, &plen), 4 + STUN_MAX_MSG_LEN);
	assert_int_equal(msturn_frame_parse(data_max, 4, &type, &plen), 4 + MSTURN_DATA_MAX);
	ctl_max[3]++;
	data_max[3]++;
	assert_int_equal(msturn_frame_parse(ctl_max, 4, &type, &plen), -1);
	assert_int_equal(msturn_frame_parse(data_max, 4, &type, &plen), -1);
	uint8_t ctl_big[] = {0x02, 0x00, MSTURN_DATA_MAX >> 8, MSTURN_DATA_MAX & 0xFF};
	assert_int_equal(msturn_frame_parse(ctl_big, 4, &type, &plen), -1);
	uint8_t data_ffff[] = {0x03, 0x00, 0xff, 0xff};
	assert_int_equal(msturn_frame_parse(data_ffff, 4, &type, &plen), -1);
	uint8_t zero_ctl[] = {0x02, 0x00, 0x00, 0x00}, zero_data[] = {0x03, 0x00, 0x00, 0x00};
	assert_int_equal(msturn_frame_parse(zero_ctl, 4, &type, &plen), -1);
	assert_int_equal(msturn_frame_parse(zero_data, 4, &type, &plen), -1);
	/* Not MS-TURN framing: a bad type (known from the first byte), a
	 * nonzero second byte (from the second). */
	static const uint8_t bad_types[] = {0x00, 0x01, 0x04, 0x16, 0xff};
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		uint8_t b[] = {bad_types[i], 0x00, 0x00, 0x14};
		assert_int_equal(msturn_frame_parse(b, 4, &type, &plen), -1);
		assert_int_equal(msturn_frame_parse(b, 1, &type, &plen), -1);
	}
	uint8_t second[] = {0x02, 0x01, 0x00, 0x14};
	assert_int_equal(msturn_frame_parse(second, 4, &type, &plen), -1);
	assert_int_equal(msturn_frame_parse(second, 2, &type, &plen), -1);
	second[0] = 0x03;
	assert_int_equal(msturn_frame_parse(second, 4, &type, &plen), -1);
	/* The header writer agrees. */
	uint8_t hdr[MSTURN_FRAME_HDR];
	msturn_frame_header(hdr, MSTURN_FRAME_DATA, 0x1234);
	assert_memory_equal(hdr, ((uint8_t[]){0x03, 0x00, 0x12, 0x34}), 4);
}

static void test_pseudo_tls_hello_check(void **state)
{
	(void)state;
	uint8_t h[PSEUDO_TLS_HELLO_LEN];
	hello(h);
	assert_int_equal(pseudo_tls_hello_check(h, sizeof(h)), 1);
	for (size_t n = 0; n < sizeof(h); n++)
		assert_int_equal(pseudo_tls_hello_check(h, n), 0);
	/* A wrong byte in the head (0..10) or the tail (43..49): not the hello,
	 * as soon as the wrong byte is there. */
	for (size_t i = 0; i < sizeof(h); i++) {
		bool fixed = i < 11 || i >= 43;
		h[i] ^= 0x5a;
		assert_int_equal(pseudo_tls_hello_check(h, sizeof(h)), fixed ? -1 : 1);
		assert_int_equal(pseudo_tls_hello_check(h, i + 1), fixed ? -1 : 0);
		h[i] ^= 0x5a;
	}
	assert_int_equal(pseudo_tls_hello_check(h, sizeof(h)), 1);
}

static void test_pseudo_tls_reply(void **state)
{
	(void)state;
	uint8_t a[PSEUDO_TLS_REPLY_LEN + 1], b[PSEUDO_TLS_REPLY_LEN + 1];
	memset(a, 0xee, sizeof(a));
	memset(b, 0xee, sizeof(b));
	assert_int_equal(PSEUDO_TLS_REPLY_LEN, 83);
	pseudo_tls_reply(a);
	pseudo_tls_reply(b);
	assert_reply_shape(a);
	assert_reply_shape(b);
	assert_int_equal(a[83], 0xee); /* 83 bytes, not one more */
	/* Fresh random (11..42) and session id (44..75) each time. */
	assert_memory_not_equal(a + 11, b + 11, 32);
	assert_memory_not_equal(a + 44, b + 44, 32);
}

/* 2. The hello, then Allocate over the STUN/TCP listener. */
static void test_tcp_allocate(void **state)
{
	struct rig *r = *state;
	uint8_t h[PSEUDO_TLS_HELLO_LEN], reply[PSEUDO_TLS_REPLY_LEN + 1];
	uint8_t req[STUN_MAX_MSG_LEN], buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	struct stun_msg m;
	uint64_t tls = metric(r, &metric_msturn_pseudo_tls_total, 0);

	r->client = tcp_connect(r->tcp_port, NULL);
	hello(h);
	send_all(r, r->client, h, sizeof(h));
	assert_int_equal(recv_exact(r, r->client, reply, PSEUDO_TLS_REPLY_LEN),
	                 PSEUDO_TLS_REPLY_LEN);
	assert_reply_shape(reply);
	assert_quiet(r, r->client); /* exactly 83 bytes */
	assert_int_equal(metric(r, &metric_msturn_pseudo_tls_total, 0), tls + 1);

	/* No integrity: 401 with REALM and NONCE (MS numbers), no integrity. */
	send_frame(r, r->client, MSTURN_FRAME_CONTROL, req,
	           build(STUN_METHOD_ALLOCATE, NULL, NULL, NULL, NULL, 0, tid, req));
	recv_msg(r, r->client, buf, &m);
	assert_int_equal(m.type, 0x0113);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_int_equal(error_of(&m), 401);
	const struct stun_attr *realm = stun_msg_attr(&m, STUN_MSATTR_REALM);
	const struct stun_attr *n = stun_msg_attr(&m, STUN_MSATTR_NONCE);
	assert_non_null(realm);
	assert_int_equal(realm->len, 11);
	assert_memory_equal(realm->val, "lab.example", 11);
	assert_non_null(n);
	assert_true(n->len > 0 && n->len < 64);
	assert_null(stun_msg_attr(&m, STUN_ATTR_MESSAGE_INTEGRITY));
	char nonce[64];
	memcpy(nonce, n->val, n->len);
	nonce[n->len] = '\0';

	/* Signed, with that nonce: a TCP relayed address from relay_ports. */
	uint64_t open = metric(r, &metric_turn_allocations, 0);
	send_frame(r, r->client, MSTURN_FRAME_CONTROL, req,
	           build(STUN_METHOD_ALLOCATE, r->key, nonce, NULL, NULL, 0, tid, req));
	recv_msg(r, r->client, buf, &m);
	assert_int_equal(m.type, 0x0103);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_int_equal(stun_msg_check_integrity(&m, r->key, 16), 0);
	struct sockaddr_storage relayed;
	const struct stun_attr *mapped = stun_msg_attr(&m, STUN_MSATTR_MAPPED_ADDRESS);
	assert_non_null(mapped);
	assert_int_equal(stun_attr_addr(mapped, &relayed), 0);
	assert_int_equal(relayed.ss_family, AF_INET);
	memcpy(&r->relayed, &relayed, sizeof(r->relayed));
	assert_int_equal(ntohl(r->relayed.sin_addr.s_addr), INADDR_LOOPBACK);
	assert_in_range(ntohs(r->relayed.sin_port), 50000, 59999);
	assert_int_equal(metric(r, &metric_turn_allocations, 0), open + 1);

	/* A TCP relay: the relayed address listens. Nobody has a permission
	 * yet: what it accepts there is held, unread, and nothing reaches the
	 * client. */
	uint64_t accepted = metric(r, &metric_msturn_tcp_peer_connections_total, 1);
	int probe = tcp_connect(ntohs(r->relayed.sin_port), NULL);
	send_all(r, probe, "early", 5);
	assert_int_equal(wait_metric(r, &metric_msturn_tcp_peer_connections_total, 1, accepted + 1),
	                 accepted + 1);
	assert_quiet(r, r->client);
	assert_quiet(r, probe);
	close(probe);
	pump(r, 20);
}

/* 3. Send to a TCP peer: the relay connects from the relayed port and
 * writes DATA; what the peer answers comes back in a Data indication. */
static void test_tcp_send_and_data_indication(void **state)
{
	struct rig *r = *state;
	uint8_t req[STUN_MAX_MSG_LEN], buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	static const char ping[] = "ping over the TCP relay";
	static const char pong[] = "pong from the peer";
	struct stun_msg m;
	socklen_t len = sizeof(r->peer);
	assert_true(r->client >= 0);

	r->peer_listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(r->peer_listen >= 0);
	r->peer.sin_family = AF_INET;
	r->peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->peer_listen, (struct sockaddr *)&r->peer, sizeof(r->peer)), 0);
	assert_int_equal(listen(r->peer_listen, 4), 0);
	assert_int_equal(getsockname(r->peer_listen, (struct sockaddr *)&r->peer, &len), 0);

	uint64_t out = metric(r, &metric_msturn_tcp_peer_connections_total, 0);
	uint64_t packets = metric(r, &metric_turn_relayed_packets_total, 0),
	         bytes = metric(r, &metric_turn_relayed_bytes_total, 0);
	send_frame(
	    r, r->client, MSTURN_FRAME_CONTROL, req,
	    build(STUN_MSTURN_METHOD_SEND, r->key, NULL, &r->peer, ping, strlen(ping), tid, req));
	/* The peer is called from the relayed address. */
	uint64_t end = now_ms() + DEADLINE_MS;
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	while (r->peer_conn < 0 && now_ms() < end) {
		pump_once(r, r->peer_listen, POLLIN);
		struct pollfd p = {.fd = r->peer_listen, .events = POLLIN};
		if (poll(&p, 1, 0) == 1)
			r->peer_conn = accept(r->peer_listen, (struct sockaddr *)&from, &from_len);
	}
	assert_true(r->peer_conn >= 0);
	assert_int_equal(from.sin_family, AF_INET);
	assert_int_equal(from.sin_addr.s_addr, r->relayed.sin_addr.s_addr);
	assert_int_equal(ntohs(from.sin_port), ntohs(r->relayed.sin_port));
	char got[64] = {0};
	assert_int_equal(recv_exact(r, r->peer_conn, got, strlen(ping)), strlen(ping));
	assert_memory_equal(got, ping, strlen(ping));
	assert_quiet(r, r->peer_conn); /* DATA only: no framing, no STUN */
	assert_int_equal(metric(r, &metric_msturn_tcp_peer_connections_total, 0), out + 1);
	assert_int_equal(metric(r, &metric_turn_relayed_packets_total, 0), packets + 1);
	assert_int_equal(metric(r, &metric_turn_relayed_bytes_total, 0), bytes + strlen(ping));

	/* Send has no answer: the first frame the client gets is the Data
	 * indication for the peer's bytes. */
	packets = metric(r, &metric_turn_relayed_packets_total, 1);
	bytes = metric(r, &metric_turn_relayed_bytes_total, 1);
	send_all(r, r->peer_conn, pong, strlen(pong));
	recv_msg(r, r->client, buf, &m);
	assert_int_equal(m.type, STUN_MSTURN_TYPE_DATA_INDICATION);
	assert_int_equal(m.cls, STUN_CLASS_INDICATION);
	assert_null(stun_msg_attr(&m, STUN_ATTR_MESSAGE_INTEGRITY));
	const struct stun_attr *remote = stun_msg_attr(&m, STUN_MSATTR_REMOTE_ADDRESS);
	struct sockaddr_storage ra;
	assert_non_null(remote);
	assert_int_equal(stun_attr_addr(remote, &ra), 0);
	assert_loopback(&ra, ntohs(r->peer.sin_port));
	const struct stun_attr *data = stun_msg_attr(&m, STUN_MSATTR_DATA);
	assert_non_null(data);
	assert_int_equal(data->len, strlen(pong));
	assert_memory_equal(data->val, pong, strlen(pong));
	assert_int_equal(metric(r, &metric_turn_relayed_packets_total, 1), packets + 1);
	assert_int_equal(metric(r, &metric_turn_relayed_bytes_total, 1), bytes + strlen(pong));
	assert_quiet(r, r->client);

	/* No active destination yet: a data frame is dropped and counted. */
	const size_t no_perm = METRIC_TURN_DROP_NO_PERMISSION;
	uint64_t denied = metric(r, &metric_turn_dropped_total, no_perm);
	send_frame(r, r->client, MSTURN_FRAME_DATA, ping, strlen(ping));
	assert_int_equal(wait_metric(r, &metric_turn_dropped_total, no_perm, denied + 1),
	                 denied + 1);
	assert_quiet(r, r->peer_conn);
	assert_quiet(r, r->client);
}

/* 4. Set Active Destination: then data frames, raw both ways. */
static void test_tcp_set_active_destination_raw(void **state)
{
	struct rig *r = *state;
	uint8_t req[STUN_MAX_MSG_LEN], buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	static const uint8_t up[] = {0x80, 0x00, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x02};
	static const uint8_t down[] = {0x80, 0x60, 0x00, 0x01, 0xca, 0xfe};
	struct stun_msg m;
	assert_true(r->client >= 0 && r->peer_conn >= 0);

	send_frame(
	    r, r->client, MSTURN_FRAME_CONTROL, req,
	    build(STUN_MSTURN_METHOD_SET_ACTIVE_DEST, r->key, NULL, &r->peer, NULL, 0, tid, req));
	recv_msg(r, r->client, buf, &m);
	assert_int_equal(m.type, 0x0106);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_int_equal(stun_msg_check_integrity(&m, r->key, 16), 0);

	/* Client to peer: the data frame's payload, raw, on the same connection
	 * the Send made. */
	uint8_t got[sizeof(up)];
	uint64_t out = metric(r, &metric_msturn_tcp_peer_connections_total, 0);
	uint64_t bytes_up = metric(r, &metric_turn_relayed_bytes_total, 0),
	         bytes_down = metric(r, &metric_turn_relayed_bytes_total, 1);
	send_frame(r, r->client, MSTURN_FRAME_DATA, up, sizeof(up));
	assert_int_equal(recv_exact(r, r->peer_conn, got, sizeof(up)), sizeof(up));
	assert_memory_equal(got, up, sizeof(up));
	assert_quiet(r, r->peer_conn);

	/* Peer to client: a data frame, raw. */
	send_all(r, r->peer_conn, down, sizeof(down));
	assert_int_equal(recv_frame(r, r->client, MSTURN_FRAME_DATA, buf, sizeof(buf)),
	                 sizeof(down));
	assert_memory_equal(buf, down, sizeof(down));
	assert_quiet(r, r->client);
	assert_int_equal(metric(r, &metric_turn_relayed_bytes_total, 0), bytes_up + sizeof(up));
	assert_int_equal(metric(r, &metric_turn_relayed_bytes_total, 1), bytes_down + sizeof(down));
	assert_int_equal(metric(r, &metric_msturn_tcp_peer_connections_total, 0),
	                 out); /* no new connection */

	/* The largest data frame, raw to the peer; a larger answer back, in
	 * data frames whose payloads add up to it in order. */
	static uint8_t big[MSTURN_DATA_MAX], back[5000], seen[sizeof(back)];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(back); i++)
		back[i] = (uint8_t)(i * 13 + 5);
	uint8_t frame[MSTURN_FRAME_HDR + sizeof(big)] = {MSTURN_FRAME_DATA, 0x00, sizeof(big) >> 8,
	                                                 sizeof(big) & 0xFF};
	memcpy(frame + MSTURN_FRAME_HDR, big, sizeof(big));
	send_all(r, r->client, frame, sizeof(frame));
	assert_int_equal(recv_exact(r, r->peer_conn, frame, sizeof(big)), sizeof(big));
	assert_memory_equal(frame, big, sizeof(big));
	send_all(r, r->peer_conn, back, sizeof(back));
	size_t have = 0;
	while (have < sizeof(back))
		have +=
		    recv_frame(r, r->client, MSTURN_FRAME_DATA, seen + have, sizeof(back) - have);
	assert_int_equal(have, sizeof(back));
	assert_memory_equal(seen, back, sizeof(back));
	assert_quiet(r, r->client);
	assert_quiet(r, r->peer_conn);
}

/* 5. Peers without a permission (sources 127.0.0.2 and .3; the client's
 * Sends gave 127.0.0.1 one) are accepted but held, unread: nothing of
 * theirs reaches the client. A Send to one installs the permission: what it
 * sent while held arrives then, as a Data indication, and the Send's data
 * goes on its connection. The other is reset once the hold time is over,
 * and counted. */
static void test_tcp_peer_without_permission(void **state)
{
	struct rig *r = *state;
	uint8_t req[STUN_MAX_MSG_LEN], buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	struct stun_msg m;
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	static const char hi[] = "let me in", back[] = "come in";
	assert_true(r->client >= 0);
	uint64_t denied = metric(r, &metric_turn_dropped_total, METRIC_TURN_DROP_NO_PERMISSION);
	uint64_t accepted = metric(r, &metric_msturn_tcp_peer_connections_total, 1);
	int held = tcp_connect(ntohs(r->relayed.sin_port), "127.0.0.2");
	int stranger = tcp_connect(ntohs(r->relayed.sin_port), "127.0.0.3");
	assert_int_equal(getsockname(held, (struct sockaddr *)&in, &len), 0);
	send_all(r, held, hi, strlen(hi));
	send_all(r, stranger, hi, strlen(hi));
	assert_int_equal(wait_metric(r, &metric_msturn_tcp_peer_connections_total, 1, accepted + 2),
	                 accepted + 2);
	assert_quiet(r, r->client);
	assert_quiet(r, held);

	send_frame(r, r->client, MSTURN_FRAME_CONTROL, req,
	           build(STUN_MSTURN_METHOD_SEND, r->key, NULL, &in, back, strlen(back), tid, req));
	recv_msg(r, r->client, buf, &m);
	assert_int_equal(m.type, STUN_MSTURN_TYPE_DATA_INDICATION);
	struct sockaddr_storage ra;
	const struct stun_attr *remote = stun_msg_attr(&m, STUN_MSATTR_REMOTE_ADDRESS);
	assert_non_null(remote);
	assert_int_equal(stun_attr_addr(remote, &ra), 0);
	assert_int_equal(ntohl(((struct sockaddr_in *)&ra)->sin_addr.s_addr), 0x7F000002);
	const struct stun_attr *data = stun_msg_attr(&m, STUN_MSATTR_DATA);
	assert_non_null(data);
	assert_int_equal(data->len, strlen(hi));
	assert_memory_equal(data->val, hi, strlen(hi));
	char got[sizeof(back)] = {0};
	assert_int_equal(recv_exact(r, held, got, strlen(back)), strlen(back));
	assert_memory_equal(got, back, strlen(back));
	close(held);

	/* The other one: reset after the hold (5 s), counted, nothing relayed. */
	uint64_t end = now_ms() + 8000;
	bool closed = false;
	while (!closed && now_ms() < end) {
		uint8_t b;
		pump_once(r, stranger, POLLIN);
		ssize_t k = recv(stranger, &b, 1, MSG_DONTWAIT);
		assert_true(k <= 0);
		closed = k == 0 || (k < 0 && errno == ECONNRESET);
	}
	assert_true(closed);
	close(stranger);
	assert_int_equal(metric(r, &metric_turn_dropped_total, METRIC_TURN_DROP_NO_PERMISSION),
	                 denied + 1);
	assert_quiet(r, r->client);
}

/* 5b. A peer from a permitted address (Send gave 127.0.0.1 one) connects
 * in: accepted; its bytes reach the client in a Data indication (it is not
 * the active destination) and a Send to it goes on its connection. */
static void test_tcp_permitted_peer_connects_in(void **state)
{
	struct rig *r = *state;
	uint8_t req[STUN_MAX_MSG_LEN], buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	static const char hi[] = "hello from a peer that called in";
	static const char back[] = "and back to it";
	struct stun_msg m;
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	assert_true(r->client >= 0);
	uint64_t accepted = metric(r, &metric_msturn_tcp_peer_connections_total, 1);
	uint64_t out = metric(r, &metric_msturn_tcp_peer_connections_total, 0);
	int fd = tcp_connect(ntohs(r->relayed.sin_port), NULL);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
	send_all(r, fd, hi, strlen(hi));
	recv_msg(r, r->client, buf, &m);
	assert_int_equal(m.type, STUN_MSTURN_TYPE_DATA_INDICATION);
	struct sockaddr_storage ra;
	const struct stun_attr *remote = stun_msg_attr(&m, STUN_MSATTR_REMOTE_ADDRESS);
	assert_non_null(remote);
	assert_int_equal(stun_attr_addr(remote, &ra), 0);
	assert_loopback(&ra, ntohs(in.sin_port));
	const struct stun_attr *data = stun_msg_attr(&m, STUN_MSATTR_DATA);
	assert_non_null(data);
	assert_int_equal(data->len, strlen(hi));
	assert_memory_equal(data->val, hi, strlen(hi));
	assert_int_equal(metric(r, &metric_msturn_tcp_peer_connections_total, 1), accepted + 1);

	char got[sizeof(back)] = {0};
	send_frame(r, r->client, MSTURN_FRAME_CONTROL, req,
	           build(STUN_MSTURN_METHOD_SEND, r->key, NULL, &in, back, strlen(back), tid, req));
	assert_int_equal(recv_exact(r, fd, got, strlen(back)), strlen(back));
	assert_memory_equal(got, back, strlen(back));
	assert_int_equal(metric(r, &metric_msturn_tcp_peer_connections_total, 0), out);
	close(fd);
	pump(r, 20);
	assert_quiet(r, r->client);
	assert_quiet(r, r->peer_conn);
}

/* 5c. A Send to a peer whose port is closed: the relay's connection to it
 * fails, so the Send's data is counted as dropped (connect_failed), never as
 * relayed. */
static void test_tcp_send_to_closed_port_is_dropped(void **state)
{
	struct rig *r = *state;
	uint8_t req[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	static const char lost[] = "nobody listens";
	struct sockaddr_in closed = {.sin_family = AF_INET};
	socklen_t len = sizeof(closed);
	assert_true(r->client >= 0);
	/* Bound, not listening: connections to it are refused. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	closed.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&closed, sizeof(closed)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&closed, &len), 0);
	const size_t failed = METRIC_TURN_DROP_CONNECT_FAILED;
	uint64_t dropped = metric(r, &metric_turn_dropped_total, failed);
	uint64_t packets = metric(r, &metric_turn_relayed_packets_total, METRIC_TO_PEER);
	send_frame(
	    r, r->client, MSTURN_FRAME_CONTROL, req,
	    build(STUN_MSTURN_METHOD_SEND, r->key, NULL, &closed, lost, strlen(lost), tid, req));
	assert_int_equal(wait_metric(r, &metric_turn_dropped_total, failed, dropped + 1),
	                 dropped + 1);
	assert_int_equal(metric(r, &metric_turn_relayed_packets_total, METRIC_TO_PEER), packets);
	assert_quiet(r, r->client);
	close(fd);
}

/* 5d. Strangers connecting in are held apart from the permitted peers: 20
 * of them (sources 127.0.0.10 to .29, no permission) leave the allocation's
 * peer places free, so a permitted peer that calls in next gets through at
 * once. The held are bounded too: the oldest are reset to make room, and
 * counted (hold_evicted). */
#define STRANGERS 20
static void test_tcp_strangers_do_not_block_permitted_peer(void **state)
{
	struct rig *r = *state;
	uint8_t buf[STUN_MAX_MSG_LEN];
	static const char hi[] = "a permitted peer calls in";
	struct stun_msg m;
	int strangers[STRANGERS];
	assert_true(r->client >= 0);
	const size_t evicted = METRIC_TURN_DROP_HOLD_EVICTED;
	uint64_t before = metric(r, &metric_turn_dropped_total, evicted);
	for (int i = 0; i < STRANGERS; i++) {
		char ip[16];
		snprintf(ip, sizeof(ip), "127.0.0.%d", 10 + i);
		strangers[i] = tcp_connect(ntohs(r->relayed.sin_port), ip);
		send_all(r, strangers[i], "?", 1);
		pump(r, 5); /* accepted in order, and the relayed port's backlog stays short */
	}
	assert_quiet(r, r->client);

	int fd = tcp_connect(ntohs(r->relayed.sin_port), NULL);
	send_all(r, fd, hi, strlen(hi));
	recv_msg(r, r->client, buf, &m);
	assert_int_equal(m.type, STUN_MSTURN_TYPE_DATA_INDICATION);
	const struct stun_attr *data = stun_msg_attr(&m, STUN_MSATTR_DATA);
	assert_non_null(data);
	assert_int_equal(data->len, strlen(hi));
	assert_memory_equal(data->val, hi, strlen(hi));

	uint64_t n = metric(r, &metric_turn_dropped_total, evicted) - before;
	assert_int_equal(n, STRANGERS - MSTURN_TCP_HOLD_MAX);
	for (uint64_t i = 0; i < n; i++) /* the oldest */
		assert_true(wait_closed(r, strangers[i]));
	assert_quiet(r, strangers[n]); /* the newer still held */
	for (int i = 0; i < STRANGERS; i++)
		close(strangers[i]);
	close(fd);
	pump(r, 20);
}

/* 6. Framing errors close the connection and are counted; data with no
 * allocation is dropped and counted, the connection stays. */
static void test_tcp_bad_frames(void **state)
{
	struct rig *r = *state;
	uint64_t closed = metric(r, &metric_stun_tcp_error_closed_total, 0);
	uint8_t bad_second[MSTURN_FRAME_HDR + 20] = {0x02, 0x01, 0x00, 0x14};
	int fd = tcp_connect(r->tcp_port, NULL);
	send_all(r, fd, bad_second, sizeof(bad_second));
	assert_true(wait_closed(r, fd));
	close(fd);
	assert_int_equal(metric(r, &metric_stun_tcp_error_closed_total, 0), closed + 1);

	static const uint8_t too_long[] = {0x03, 0x00, 0xff, 0xff};
	fd = tcp_connect(r->tcp_port, NULL);
	send_all(r, fd, too_long, sizeof(too_long));
	assert_true(wait_closed(r, fd));
	close(fd);
	assert_int_equal(metric(r, &metric_stun_tcp_error_closed_total, 0), closed + 2);

	const size_t no_alloc = METRIC_TURN_DROP_NO_ALLOCATION;
	uint64_t dropped = metric(r, &metric_turn_dropped_total, no_alloc);
	static const uint8_t media[] = {0xde, 0xad, 0xbe, 0xef};
	fd = tcp_connect(r->tcp_port, NULL);
	send_frame(r, fd, MSTURN_FRAME_DATA, media, sizeof(media));
	assert_int_equal(wait_metric(r, &metric_turn_dropped_total, no_alloc, dropped + 1),
	                 dropped + 1);
	assert_quiet(r, fd);
	uint8_t req[STUN_MAX_MSG_LEN], buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	struct stun_msg m;
	send_frame(r, fd, MSTURN_FRAME_CONTROL, req,
	           build(STUN_METHOD_ALLOCATE, NULL, NULL, NULL, NULL, 0, tid, req));
	recv_msg(r, fd, buf, &m);
	assert_int_equal(m.type, 0x0113);
	assert_int_equal(error_of(&m), 401);
	close(fd);
	assert_int_equal(metric(r, &metric_stun_tcp_error_closed_total, 0), closed + 2);
}

/* 7. The pseudo-TLS listener: the hello first, or the connection closes. */
static void test_tls_listener(void **state)
{
	struct rig *r = *state;
	uint8_t req[STUN_MAX_MSG_LEN], buf[STUN_MAX_MSG_LEN], tid[STUN_TID_LEN];
	uint8_t h[PSEUDO_TLS_HELLO_LEN], reply[PSEUDO_TLS_REPLY_LEN];
	struct stun_msg m;
	uint64_t closed = metric(r, &metric_stun_tcp_error_closed_total, 0);
	uint64_t tls = metric(r, &metric_msturn_pseudo_tls_total, 0);

	int fd = tcp_connect(r->tls_port, NULL);
	send_frame(r, fd, MSTURN_FRAME_CONTROL, req,
	           build(STUN_METHOD_ALLOCATE, NULL, NULL, NULL, NULL, 0, tid, req));
	assert_true(wait_closed(r, fd));
	close(fd);
	assert_int_equal(metric(r, &metric_stun_tcp_error_closed_total, 0), closed + 1);
	assert_int_equal(metric(r, &metric_msturn_pseudo_tls_total, 0), tls);

	/* The hello, in two pieces: nothing until it is whole, then 83 bytes
	 * and MS-TURN framing. */
	fd = tcp_connect(r->tls_port, NULL);
	hello(h);
	send_all(r, fd, h, 20);
	assert_quiet(r, fd);
	send_all(r, fd, h + 20, sizeof(h) - 20);
	assert_int_equal(recv_exact(r, fd, reply, sizeof(reply)), sizeof(reply));
	assert_reply_shape(reply);
	assert_int_equal(metric(r, &metric_msturn_pseudo_tls_total, 0), tls + 1);
	send_frame(r, fd, MSTURN_FRAME_CONTROL, req,
	           build(STUN_METHOD_ALLOCATE, NULL, NULL, NULL, NULL, 0, tid, req));
	recv_msg(r, fd, buf, &m);
	assert_int_equal(m.type, 0x0113);
	assert_int_equal(error_of(&m), 401);
	close(fd);

	/* Another handshake, counted too, with an Allocate right behind the
	 * hello in the same write: the reply, then the 401. */
	uint8_t both[PSEUDO_TLS_HELLO_LEN + MSTURN_FRAME_HDR + STUN_MAX_MSG_LEN];
	size_t len = build(STUN_METHOD_ALLOCATE, NULL, NULL, NULL, NULL, 0, tid, req);
	hello(both);
	msturn_frame_header(both + PSEUDO_TLS_HELLO_LEN, MSTURN_FRAME_CONTROL, len);
	memcpy(both + PSEUDO_TLS_HELLO_LEN + MSTURN_FRAME_HDR, req, len);
	fd = tcp_connect(r->tls_port, NULL);
	send_all(r, fd, both, PSEUDO_TLS_HELLO_LEN + MSTURN_FRAME_HDR + len);
	assert_int_equal(recv_exact(r, fd, reply, sizeof(reply)), sizeof(reply));
	assert_reply_shape(reply);
	assert_int_equal(metric(r, &metric_msturn_pseudo_tls_total, 0), tls + 2);
	recv_msg(r, fd, buf, &m);
	assert_int_equal(m.type, 0x0113);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_int_equal(error_of(&m), 401);
	close(fd);
	assert_int_equal(metric(r, &metric_stun_tcp_error_closed_total, 0), closed + 1);
}

/* Whether a socket of this process (the server's: they share it) is
 * connected to addr. */
static bool connected_to(const struct sockaddr_in *addr)
{
	for (int fd = 0; fd < 1024; fd++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		if (!getpeername(fd, (struct sockaddr *)&peer, &len) &&
		    peer.sin_family == AF_INET && peer.sin_port == addr->sin_port &&
		    peer.sin_addr.s_addr == addr->sin_addr.s_addr)
			return true;
	}
	return false;
}

/* 8. The peer resets its connection mid-stream (issue 15's faults): the
 * relay frees it (its descriptor is closed), the client's connection and
 * the allocation stay, and the next data frame for the active destination
 * connects to it again. */
static void test_tcp_peer_reset(void **state)
{
	struct rig *r = *state;
	static const uint8_t again[] = {0x80, 0x00, 0x00, 0x02, 0x01};
	uint8_t got[sizeof(again)];
	assert_true(r->client >= 0 && r->peer_conn >= 0 && r->peer_listen >= 0);
	struct sockaddr_in ours;
	socklen_t len = sizeof(ours);
	assert_int_equal(getsockname(r->peer_conn, (struct sockaddr *)&ours, &len), 0);
	assert_true(connected_to(&ours)); /* the relay's side */
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	assert_int_equal(setsockopt(r->peer_conn, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)), 0);
	close(r->peer_conn); /* a RST */
	r->peer_conn = -1;
	uint64_t end = now_ms() + DEADLINE_MS;
	while (connected_to(&ours) && now_ms() < end)
		pump_once(r, -1, 0);
	assert_false(connected_to(&ours));
	assert_quiet(r, r->client);
	assert_int_equal(metric(r, &metric_turn_allocations, 0), 1);

	uint64_t out = metric(r, &metric_msturn_tcp_peer_connections_total, 0);
	send_frame(r, r->client, MSTURN_FRAME_DATA, again, sizeof(again));
	end = now_ms() + DEADLINE_MS;
	while (r->peer_conn < 0 && now_ms() < end) {
		pump_once(r, r->peer_listen, POLLIN);
		struct pollfd p = {.fd = r->peer_listen, .events = POLLIN};
		if (poll(&p, 1, 0) == 1)
			r->peer_conn = accept(r->peer_listen, NULL, NULL);
	}
	assert_true(r->peer_conn >= 0);
	assert_int_equal(recv_exact(r, r->peer_conn, got, sizeof(got)), sizeof(got));
	assert_memory_equal(got, again, sizeof(again));
	assert_int_equal(metric(r, &metric_msturn_tcp_peer_connections_total, 0), out + 1);
}

/* 9. The client's connection ends its allocation and the peer's. */
static void test_client_close_frees_allocation(void **state)
{
	struct rig *r = *state;
	assert_true(r->client >= 0 && r->peer_conn >= 0);
	assert_int_equal(metric(r, &metric_turn_allocations, 0), 1);
	close(r->client);
	r->client = -1;
	assert_int_equal(wait_metric(r, &metric_turn_allocations, 0, 0), 0);
	assert_true(wait_closed(r, r->peer_conn));
	close(r->peer_conn);
	r->peer_conn = -1;
	/* The relayed port is free again and listens no more. */
	assert_int_equal(port_pool_in_use(r->rr->shared.pool), 0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&r->relayed, sizeof(r->relayed)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
	pump(r, 20);
	assert_int_equal(metric(r, &metric_stun_tcp_connections, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_parse),
	    cmocka_unit_test(test_pseudo_tls_hello_check),
	    cmocka_unit_test(test_pseudo_tls_reply),
	    cmocka_unit_test(test_tcp_allocate),
	    cmocka_unit_test(test_tcp_send_and_data_indication),
	    cmocka_unit_test(test_tcp_set_active_destination_raw),
	    cmocka_unit_test(test_tcp_peer_without_permission),
	    cmocka_unit_test(test_tcp_permitted_peer_connects_in),
	    cmocka_unit_test(test_tcp_send_to_closed_port_is_dropped),
	    cmocka_unit_test(test_tcp_strangers_do_not_block_permitted_peer),
	    cmocka_unit_test(test_tcp_bad_frames),
	    cmocka_unit_test(test_tls_listener),
	    cmocka_unit_test(test_tcp_peer_reset),
	    cmocka_unit_test(test_client_close_frees_allocation),
	};
	return cmocka_run_group_tests(tests, rig_up, rig_down);
}
